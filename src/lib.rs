//! qvirt: a library-first manager for QEMU virtual machines.
//!
//! The domain model ([`model`]) reads and writes libvirt-compatible domain
//! XML; [`driver`] holds the [`Driver`] API and the in-process driver,
//! [`LocalDriver`], that runs QEMU; [`connect`] opens any of the ways in
//! (in-process, a daemon's socket) from a URI; [`qemu`] is what QEMU is,
//! [`sys`] the host plumbing, [`transport`] the daemon's protocol.
//!
//! A VM defined and started in a few lines, without XML:
//!
//! ```no_run
//! use qvirt::model::{DiskFormat, VirtType};
//! use qvirt::{DomainDef, Driver};
//!
//! let driver = qvirt::connect("qemu:///embed?root=/tmp/vms")?;
//! let def = DomainDef::new("demo", 512)
//!     .with_virt_type(VirtType::Qemu)
//!     .with_disk("/srv/vm/demo.qcow2", DiskFormat::Qcow2, "vda")
//!     .with_serial_console();
//! let dom = driver.define(&def)?;
//! let dom = driver.start(&dom)?;
//! println!("{} is {}", dom.name, driver.info(&dom)?.state.as_str());
//! # Ok::<(), qvirt::Error>(())
//! ```
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
