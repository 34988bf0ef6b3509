//! qvirt: a library-first manager for QEMU virtual machines.
//!
//! The domain model ([`model`]) reads and writes libvirt-compatible domain
//! XML; [`driver`] holds the `Driver` API, its errors, and the in-process
//! driver that runs QEMU.
#![deny(missing_docs)]

mod connect;
pub mod driver;
pub mod error;
pub mod model;
pub mod qemu;
pub mod sys;
pub mod transport;

pub use connect::connect;
pub use driver::local::LocalDriver;
pub use driver::uri::default_uri;
pub use driver::{Domain, DomainState, Driver};
pub use error::{Error, ErrorCode, Result};
pub use model::DomainDef;
