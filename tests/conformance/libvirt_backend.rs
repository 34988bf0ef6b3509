//! The libvirt-protocol way in: the same server as the socket backend
//! (the library's `Server` over a `LocalDriver`), listening with
//! libvirt's protocol on `ROOT/run/libvirt-sock` as qvirtd does, and
//! qvirt's own libvirt client (`proto=libvirt`) connected to it.

use std::collections::HashMap;
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::sync::{Arc, Mutex};

use qvirt::sys::logger::Logger;
use qvirt::transport::server::{ServeOptions, Server};
use qvirt::{Driver, LocalDriver};

use crate::Backend;

/// A running server, found again by the URI its clients report.
struct Serving {
    server: Server,
    local: Arc<LocalDriver>,
}

/// The libvirt-protocol backend.
#[derive(Default)]
pub struct Libvirt {
    serving: Mutex<HashMap<String, Serving>>,
}

impl Backend for Libvirt {
    fn open(&self, root: &Path) -> qvirt::Result<Box<dyn Driver>> {
        let local = Arc::new(LocalDriver::open_embedded(root)?);
        local.autostart_all();
        let socket = root.join("run/libvirt-sock");
        let _ = std::fs::remove_file(&socket);
        let listener = UnixListener::bind(&socket)
            .map_err(|e| qvirt::Error::io(format!("cannot listen on {}", socket.display()), e))?;
        let server = Server::start(
            local.clone() as Arc<dyn Driver>,
            Arc::new(Logger::discard()),
        )?;
        server.listen_libvirt(listener, ServeOptions::default())?;
        let uri = format!(
            "qemu+unix:///session?socket={}&proto=libvirt",
            socket.display()
        );
        let client = qvirt::connect(&uri)?;
        self.serving
            .lock()
            .unwrap()
            .insert(uri, Serving { server, local });
        Ok(client)
    }

    fn close(&self, driver: Box<dyn Driver>) {
        let uri = driver.uri();
        drop(driver);
        let Some(serving) = self.serving.lock().unwrap().remove(&uri) else {
            return;
        };
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
