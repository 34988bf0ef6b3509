//! An embedded state directory shared with other processes: the process
//! that opens `qemu:///embed?root=DIR` owns the manager and serves it on
//! `DIR/run/qvirt-sock` (0600, its own uid only) for as long as it holds
//! it; another process that opens the same URI meanwhile connects to that
//! socket instead of being refused. The socket is the one `qvirtd --root
//! DIR` listens on, so either kind of owner serves the others alike.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::sync::Arc;

use super::SocketDriver;
use super::server::{Limits, ServeOptions, Server};
use crate::driver::Driver;
use crate::driver::local::{Layout, LocalDriver};
use crate::error::{Error, ErrorCode, Result};

/// Opens the embedded root `root` for `uri`: the manager itself, shared
/// on its socket, or, when another process owns it, a client of that
/// process's socket.
pub fn open(root: &Path, uri: &str) -> Result<Box<dyn Driver>> {
    let socket = Layout::embedded(root).run.join("qvirt-sock");
    // An owner that serves its socket answers at once; only when none
    // does is the root taken here (the lock waits a moment for an owner
    // that just let go, which a served root would pay on every open).
    if socket.exists()
        && let Ok(d) = SocketDriver::connect(&socket, uri)
    {
        return Ok(Box::new(d));
    }
    match LocalDriver::open_embedded(root) {
        Ok(local) => {
            local.set_peer_connector(crate::connect);
            if let Err(e) = share(&local, &socket) {
                // The owner works on: only other processes lose out.
                local.logger().warn(&format!(
                    "cannot share {} with other processes: {e}",
                    root.display()
                ));
            }
            Ok(Box::new(local))
        }
        Err(held)
            if held.code == ErrorCode::OperationDenied && held.message.contains(" in use by ") =>
        {
            // The owner binds its socket a moment after it takes the
            // lock: give it that moment.
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
            let mut tried = SocketDriver::connect(&socket, uri);
            while matches!(&tried, Err(e) if e.code == ErrorCode::Io)
                && std::time::Instant::now() < deadline
            {
                std::thread::sleep(std::time::Duration::from_millis(10));
                tried = SocketDriver::connect(&socket, uri);
            }
            match tried {
                Ok(d) => Ok(Box::new(d)),
                Err(e) => Err(Error::new(
                    held.code,
                    format!(
                        "{}; and no manager answers on its socket {} ({e})",
                        held.message,
                        socket.display()
                    ),
                )),
            }
        }
        Err(e) => Err(e),
    }
}

/// Serves `local` on `socket` until `local` closes.
fn share(local: &LocalDriver, socket: &Path) -> Result<()> {
    let listener = bind_socket(socket, 0o600)?;
    // Other processes of one user: a few workers are plenty.
    let limits = Limits {
        workers: 2,
        prio_workers: 1,
        max_jobs_per_uid: 2,
        ..Limits::default()
    };
    let server = Server::with_limits(Arc::new(local.view()), local.logger(), limits)?;
    server.listen(listener, ServeOptions::default())?;
    local.attach(Box::new(server));
    Ok(())
}

/// Binds a listening socket at `path` with `mode`. An old socket file is
/// removed first (the caller holds the state lock, which proves no live
/// server uses it); anything else in its place is refused, never
/// followed.
pub fn bind_socket(path: &Path, mode: u32) -> Result<UnixListener> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) => {
            use std::os::unix::fs::FileTypeExt;
            if !meta.file_type().is_socket() {
                return Err(Error::new(
                    ErrorCode::OperationDenied,
                    format!(
                        "{} exists and is not a socket; refusing to replace it",
                        path.display()
                    ),
                ));
            }
            std::fs::remove_file(path).map_err(|e| {
                Error::io(
                    format!("cannot remove the old socket {}", path.display()),
                    e,
                )
            })?;
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::io(format!("cannot inspect {}", path.display()), e)),
    }
    let listener = UnixListener::bind(path)
        .map_err(|e| Error::io(format!("cannot listen on {}", path.display()), e))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| Error::io(format!("cannot set the mode of {}", path.display()), e))?;
    Ok(listener)
}
