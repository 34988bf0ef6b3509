//! Reaching a driver through a daemon: the protocol (one procedure table,
//! its wire types and framing), the client (`SocketDriver`), the server
//! (`Server` + the `Handler` over a driver), where the session and
//! system daemons keep their state and sockets, and the two ends of
//! `qemu+ssh://`: the client's ssh process and `qvirtd --proxy`.
//!
//! Depends on `driver`; the daemon binary is argument parsing over this.

pub mod client;
pub mod dispatch;
pub mod embedded;
#[cfg(any(fuzzing, test))]
pub mod fuzzing;
pub mod instance;
pub mod libvirt;
pub mod lvclient;
pub mod procedures;
pub mod proxy;
pub mod server;
mod spin;
pub mod types;
pub mod types_agent;
pub mod types_changes;
pub mod types_events;
pub mod wire;

pub use client::SocketDriver;
