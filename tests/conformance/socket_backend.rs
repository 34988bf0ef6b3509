//! The daemon way in: a `qvirtd`-style server (the library's `Server`
//! over a `LocalDriver`, which starts the domains marked autostart) on a
//! thread, listening on `ROOT/run/qvirt-sock`, and a `SocketDriver`
//! connected to it. Closing stops the server and
//! drops its driver, which releases the state directory, as a daemon's
//! exit would.

use std::collections::HashMap;
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::sync::{Arc, Mutex};

use qvirt::sys::logger::Logger;
use qvirt::transport::SocketDriver;
use qvirt::transport::server::{ServeOptions, Server};
use qvirt::{Driver, LocalDriver};

use crate::Backend;

/// A running server, found again by the URI its clients report.
struct Serving {
    server: Server,
    local: Arc<LocalDriver>,
}

/// The `SocketDriver` backend.
#[derive(Default)]
pub struct Socket {
    serving: Mutex<HashMap<String, Serving>>,
}

impl Backend for Socket {
    fn open(&self, root: &Path) -> qvirt::Result<Box<dyn Driver>> {
        let local = Arc::new(LocalDriver::open_embedded(root)?);
        // As qvirtd does once it is up (it does so on a thread).
        local.autostart_all();
        let socket = root.join("run/qvirt-sock");
        let _ = std::fs::remove_file(&socket);
        let listener = UnixListener::bind(&socket)
            .map_err(|e| qvirt::Error::io(format!("cannot listen on {}", socket.display()), e))?;
        let server = Server::start(
            local.clone() as Arc<dyn Driver>,
            Arc::new(Logger::discard()),
        )?;
        server.listen(listener, ServeOptions::default())?;
        let uri = format!("qemu+unix:///session?socket={}", socket.display());
        let client = SocketDriver::connect(&socket, &uri)?;
        self.serving
            .lock()
            .unwrap()
            .insert(uri, Serving { server, local });
        Ok(Box::new(client))
    }

    fn close(&self, driver: Box<dyn Driver>) {
        let uri = driver.uri();
        drop(driver);
        let Some(serving) = self.serving.lock().unwrap().remove(&uri) else {
            return;
        };
        // Stopping joins the server's threads: then nothing holds the
        // driver, whose drop releases the state lock.
        serving.server.stop();
        drop(serving.server);
        assert_eq!(Arc::strong_count(&serving.local), 1, "the server let go");
        drop(serving.local);
    }

    fn manager_pid(&self) -> u32 {
        std::process::id()
    }

    fn autostarts(&self) -> bool {
        true
    }
}
