//! qvirt's client of libvirt's RPC protocol: a [`Driver`] that reaches
//! a daemon (qvirtd's libvirt sockets, or a libvirtd) with the calls
//! virsh makes. The open handshake is virsh's (`AUTH_LIST`,
//! `CONNECT_SUPPORTS_FEATURE`, `CONNECT_OPEN` with the URI), errors come
//! back with qvirt's codes (the inverse of the server's table in
//! `libvirt::frame`), lifecycle events through libvirt's event
//! callbacks. A method libvirt's protocol has no call for, or one this
//! client does not make yet, is `NoSupport` naming it: never a fake.
//!
//! Depends on `driver` and the codec in `transport::libvirt`.

mod agent;
mod conn;
mod driver;
mod events;
mod jobs;
mod lifecycle;
mod migparams;
mod resources;
mod saveimage;
mod secrets;
mod snapshots;
mod storage;
mod streams;
mod volstreams;

pub use driver::LvDriver;
