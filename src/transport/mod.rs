//! Reaching a driver through a daemon: the wire format, the client
//! (`SocketDriver`), the server (`serve` + `dispatch`), and where the
//! session and system daemons keep their state and sockets.
//!
//! Depends on `driver`; the daemon binary is argument parsing over this.

pub mod client;
#[cfg(any(fuzzing, test))]
pub mod fuzzing;
pub mod instance;
pub mod server;
mod spin;
pub mod wire;

pub use client::SocketDriver;
