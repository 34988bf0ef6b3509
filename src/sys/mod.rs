//! Host plumbing: durable and atomic files, checked private directories
//! and the state lock; processes, pidfds and their exit; the CPU group
//! for QEMU; taps and bridges; host PCI drivers; the vhost-vsock device; the manager's
//! log; shell quoting for messages. Knows nothing of QEMU's protocol or
//! of domains' life.

pub mod cgroup;
pub mod fsutil;
pub mod hostnet;
pub mod hosttopo;
pub mod logger;
pub(crate) mod ovs;
pub mod pci;
pub mod process;
pub mod shell;
pub mod sync;
pub mod vsock;
