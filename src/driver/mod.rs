//! The driver layer: the error type shared by every driver and, under
//! `local`, the code that knows QEMU.
//!
//! Depends on `model`; knows nothing of the wire.

pub mod error;
pub mod local;
