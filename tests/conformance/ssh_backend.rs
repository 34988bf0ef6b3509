//! The daemon way in, through OpenSSH: the server of the socket backend
//! (the library's `Server` over a `LocalDriver` in this process, on
//! `ROOT/run/qvirt-sock`), reached as a remote host reaches it. Each
//! opening makes a world of two hosts (`tests/ssh/world.rs`: host A's
//! client ssh, host B's real sshd, a veth pair between them) and connects
//! with `qemu+ssh://root@HOST-B/system?socket=ROOT/run/qvirt-sock`, whose
//! remote end is the real `qvirtd --proxy` in host B copying to that
//! socket. Closing drops the connection, the world and then the server.
//!
//! The hosts are namespaces of one machine: they share its files and its
//! process ids, which is why the cases that look at the state directory,
//! a QEMU's pid or a file a save wrote can run here as they are; on two
//! real hosts those checks would have to be made on the remote one. The
//! server runs in this process, not inside host B, so that the QEMUs it
//! starts outlive a world (a case that reopens the driver gets a new one)
//! and their forwarded ports are on this machine's loopback, where the
//! networking cases look for them.

use std::collections::HashMap;
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::sync::{Arc, Mutex};

use qvirt::sys::logger::Logger;
use qvirt::transport::server::{ServeOptions, Server};
use qvirt::{Driver, LocalDriver};

use crate::Backend;

#[path = "../ssh/world.rs"]
#[allow(dead_code)]
mod world;

/// A running server and the world its client came through, found again
/// by the URI the client reports.
struct Serving {
    server: Server,
    local: Arc<LocalDriver>,
    world: world::World,
}

/// The `qemu+ssh://` backend.
#[derive(Default)]
pub struct Ssh {
    serving: Mutex<HashMap<String, Serving>>,
}

impl Backend for Ssh {
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
        let world = world::World::new("conf");
        let uri = world.uri(
            "root",
            "system",
            &format!(
                "socket={}",
                qvirt::driver::uri::percent_encode(socket.as_os_str().as_encoded_bytes())
            ),
        );
        let client = qvirt::connect(&uri)?;
        self.serving.lock().unwrap().insert(
            uri,
            Serving {
                server,
                local,
                world,
            },
        );
        Ok(client)
    }

    fn close(&self, driver: Box<dyn Driver>) {
        let uri = driver.uri();
        drop(driver);
        let Some(serving) = self.serving.lock().unwrap().remove(&uri) else {
            return;
        };
        drop(serving.world);
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
