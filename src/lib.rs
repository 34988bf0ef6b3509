//! qvirt: a library-first manager for QEMU virtual machines.
//!
//! The domain model ([`model`]) reads and writes libvirt-compatible domain
//! XML; [`driver`] holds the `Driver` API, its errors, and the in-process
//! driver that runs QEMU.
#![deny(missing_docs)]

pub mod driver;
pub mod model;

pub use driver::error::{Error, ErrorCode, Result};
pub use driver::local::LocalDriver;
pub use driver::uri::{connect, default_uri};
pub use driver::{Domain, DomainState, Driver};
pub use model::DomainDef;
