//! The driver layer: the [`Driver`] trait every way into qvirt implements,
//! the error type they share and, under `local`, the code that knows QEMU.
//!
//! Depends on `model`; knows nothing of the wire.

mod agent_types;
mod api;
mod api_storage;
pub(crate) mod autodestroy;
mod event_kinds;
mod guest_agent;
mod migration;
mod resources;
mod streams;
mod values;
/// The error type, at its old place too.
pub use crate::error;
pub mod local;
pub mod uri;

pub use agent_types::*;
pub use api::*;
pub use api_storage::*;
pub use event_kinds::*;
pub use guest_agent::*;
pub use migration::*;
pub use resources::*;
pub use streams::*;
pub use values::*;
