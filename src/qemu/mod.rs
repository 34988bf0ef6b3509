//! What QEMU is: the command-line builder (a pure function of a
//! definition, capabilities and runtime paths), QEMU-level validation,
//! capabilities and their probing, firmware descriptors, the QMP client
//! and the capabilities document. Depends on `crate::model`, the error
//! type and host plumbing (`crate::sys`); knows nothing of the manager,
//! sockets or the wire.

pub mod argv;
pub mod caps;
pub mod domcaps;
pub mod firmware;
pub mod host;
pub mod img;
pub mod keys;
pub mod probe;
pub mod qcow2;
pub mod qmp;
pub mod validate;
