//! The in-process driver's QEMU side: capabilities and the command line.

pub mod argv;
pub mod caps;
pub mod fsutil;
pub mod probe;
pub mod qmp;
pub mod shell;
