//! The daemon way in: a `qvirtd`-style server (the library's `Server`
//! over a `LocalDriver`, which starts the domains marked autostart) on a
//! thread, listening on `ROOT/run/qvirt-sock`, and a `SocketDriver`
//! connected to it. Closing stops the server and
//! drops its driver, which releases the state directory, as a daemon's
//! exit would.

use std::collections::HashMap;
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use qvirt::driver::local::logger::Logger;
use qvirt::transport::SocketDriver;
use qvirt::transport::server::{ServeOptions, Server};
use qvirt::{Driver, LocalDriver};

use crate::Backend;

/// A running server, found again by the URI its clients report.
struct Serving {
    server: Arc<Server>,
    local: Arc<LocalDriver>,
    accept: JoinHandle<qvirt::Result<()>>,
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
        let server = Arc::new(Server::new(
            local.clone() as Arc<dyn Driver>,
            Arc::new(Logger::discard()),
        ));
        let accept = {
            let server = server.clone();
            std::thread::spawn(move || server.serve(listener, ServeOptions::default()))
        };
        let uri = format!("qemu+unix:///session?socket={}", socket.display());
        let client = SocketDriver::connect(&socket, &uri)?;
        self.serving.lock().unwrap().insert(
            uri,
            Serving {
                server,
                local,
                accept,
            },
        );
        Ok(Box::new(client))
    }

    fn close(&self, driver: Box<dyn Driver>) {
        let uri = driver.uri();
        drop(driver);
        let Some(serving) = self.serving.lock().unwrap().remove(&uri) else {
            return;
        };
        serving.server.stopping.store(true, Ordering::SeqCst);
        let _ = serving.accept.join();
        drop(serving.server);
        // The connection threads let go of the driver once they see the
        // client gone; then the driver's drop releases the state lock.
        let deadline = Instant::now() + Duration::from_secs(5);
        while Arc::strong_count(&serving.local) > 1 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
        drop(serving.local);
    }

    fn manager_pid(&self) -> u32 {
        std::process::id()
    }

    fn autostarts(&self) -> bool {
        true
    }
}
