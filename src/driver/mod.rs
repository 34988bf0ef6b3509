//! The driver layer: the [`Driver`] trait every way into qvirt implements,
//! the error type they share and, under `local`, the code that knows QEMU.
//!
//! Depends on `model`; knows nothing of the wire.

mod api;
mod migration;
mod resources;
/// The error type, at its old place too.
pub use crate::error;
pub mod local;
pub mod uri;

pub use api::*;
pub use migration::*;
pub use resources::*;
