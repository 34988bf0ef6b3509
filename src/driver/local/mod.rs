//! The in-process driver, [`LocalDriver`]: the manager. Domain objects
//! and their jobs, the config store, runtime state, reattach, saves,
//! media, consoles. What QEMU is lives in `crate::qemu`, host plumbing in
//! `crate::sys`; this module puts them together.

mod agent;
mod agent_calls;
mod agent_info;
mod api_impl;
mod blockjobs;
mod console;
mod diskstate;
mod domains;
mod driver;
mod ending;
mod events;
mod faults;
mod helper_procs;
mod hostcheck;
mod hotplug;
mod incoming;
mod iothreads;
mod iotune;
mod jobs;
mod launch;
pub mod layout;
mod lifecycle;
mod media;
mod memcheck;
mod metadata;
mod migratable;
mod migrate;
mod migspeed;
mod monitor;
pub mod native;
mod passt;
mod passthrough;
mod peek;
mod pinning;
mod plug_xml;
mod preflight;
mod reattach;
mod requests;
mod resize;
mod runtime;
mod saving;
mod screen;
mod secrets;
mod sev;
mod snap_external;
mod snap_internal;
mod snapmeta;
mod snapshots;
mod stats;
mod storage;
mod storage_copy;
mod store;
mod threads;
pub mod tpm;
mod transfer;
mod trays;
mod tunables;
pub mod tuning;
mod virtiofs;
mod volumes;

pub use driver::LocalDriver;
pub use layout::Layout;
pub use migrate::PeerConnector;
