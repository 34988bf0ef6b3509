//! libvirt's RPC protocol, so that unmodified libvirt clients (virsh,
//! python3-libvirt, virt-install) drive qvirt: the XDR codec
//! ([`xdr`]), the framing and errors ([`frame`]), the wire values
//! ([`types`]), one procedure table ([`procedures`]) mapped onto the same
//! [`Driver`](crate::Driver) ([`dispatch`]), and libvirt's numbers for
//! qvirt's values ([`values`]).
//!
//! The server side lives in the daemon's loop
//! (`transport::server`, beside qvirt's own protocol); this module knows
//! nothing of sockets but the frames. Depends on `driver` and `model`
//! (to read a device update with qvirt's own rules).
//!
//! Written from libvirt 9.0's `virnetprotocol.x`, `remote_protocol.x`
//! and `virkeepaliveprotocol.x` (their layout, not their code).

pub mod dispatch;
pub mod frame;
mod media;
pub mod names;
pub mod procedures;
pub mod types;
pub mod values;
pub mod xdr;
