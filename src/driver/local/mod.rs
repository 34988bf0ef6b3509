//! The in-process driver, [`LocalDriver`], and everything it knows of
//! QEMU: capabilities, the command line, QMP, processes, on-disk state.

mod api_impl;
pub mod argv;
pub mod caps;
mod cgroup;
mod console;
mod domains;
mod driver;
mod ending;
mod events;
mod faults;
pub mod firmware;
pub mod fsutil;
pub mod host;
mod hostnet;
mod jobs;
mod launch;
pub mod layout;
mod lifecycle;
pub mod logger;
mod media;
mod monitor;
mod preflight;
pub mod probe;
pub mod process;
pub mod qmp;
mod reattach;
mod runtime;
mod saving;
mod screen;
pub mod shell;
mod store;
pub mod tpm;
pub mod tuning;

pub use driver::LocalDriver;
pub use layout::Layout;
