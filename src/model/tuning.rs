//! How a domain uses the host's resources: `<memoryBacking>`,
//! `<maxMemory>`, `<iothreads>`, `<cputune>`, `<numatune>`, the NUMA
//! cells of `<cpu><numa>`, and `<resource>`. Data only: reading is in
//! `parse`, writing in `format`, checks in `validate`.

use super::words::words;

words! {
    /// `<memoryBacking><source type=...>`.
    pub enum MemorySourceType {
        /// Anonymous memory (the default).
        Anonymous = "anonymous",
        /// A file (in a hugetlbfs when hugepages are asked for).
        File = "file",
        /// A memfd: anonymous memory that can be shared by descriptor.
        Memfd = "memfd",
    }

    /// `<memoryBacking><access mode=...>` and a NUMA cell's `memAccess`.
    pub enum MemoryAccess {
        /// Memory is shared with other processes (vhost-user devices).
        Shared = "shared",
        /// Memory is private to QEMU.
        Private = "private",
    }

    /// `<memoryBacking><allocation mode=...>`.
    pub enum MemoryAllocationMode {
        /// All memory is allocated when the domain starts.
        Immediate = "immediate",
        /// Memory is allocated as the guest touches it.
        Ondemand = "ondemand",
    }

    /// `<numatune><memory mode=...>` and `<memnode mode=...>`.
    pub enum NumaMode {
        /// Allocate only from the nodes given.
        Strict = "strict",
        /// Interleave over the nodes given.
        Interleave = "interleave",
        /// Prefer the node given, fall back to others.
        Preferred = "preferred",
        /// Restrict through the domain's cgroup, changeable at run time.
        Restrictive = "restrictive",
    }

    /// `placement=...` of `<vcpu>` and `<numatune><memory>`.
    pub enum Placement {
        /// As written (`cpuset`, `nodeset`).
        Static = "static",
        /// Chosen by numad when the domain starts.
        Auto = "auto",
    }
}

/// The bounds of a pool of worker threads: `thread_pool_min` and
/// `thread_pool_max` of an `<iothreadids><iothread>` or of
/// `<defaultiothread>` (QEMU's defaults: 0 and 64).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ThreadPool {
    /// `thread_pool_min`: threads kept even when idle.
    pub min: Option<u32>,
    /// `thread_pool_max`: at most this many threads.
    pub max: Option<u32>,
}

/// The worker pools of the I/O threads and of the main loop.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ThreadPools {
    /// Per I/O thread id, those written on `<iothreadids><iothread>`.
    pub iothreads: std::collections::BTreeMap<u32, ThreadPool>,
    /// `<defaultiothread>`: the main loop's pool (the I/O of devices
    /// given no I/O thread); `None` when it sets neither bound.
    pub default: Option<ThreadPool>,
}

/// `<memtune>`: limits on the host memory the domain's QEMU may use, in
/// KiB, applied to the domain's memory cgroup. libvirt's "unlimited"
/// (9007199254740991 KiB and above) reads as unset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MemTune {
    /// `<hard_limit>`: QEMU's memory may not grow past it.
    pub hard_limit_kib: Option<u64>,
    /// `<soft_limit>`: the share it is brought back to when the host
    /// runs short (cgroup v1's soft limit, v2's `memory.high`).
    pub soft_limit_kib: Option<u64>,
    /// `<swap_hard_limit>`: memory plus swap.
    pub swap_hard_limit_kib: Option<u64>,
}

impl MemTune {
    /// libvirt's `VIR_DOMAIN_MEMORY_PARAM_UNLIMITED`, in KiB.
    pub const UNLIMITED_KIB: u64 = (1 << 53) - 1;
}

/// `<blkiotune>`: the domain's share of the host's block I/O, applied
/// to its block I/O cgroup.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BlkioTune {
    /// `<weight>`: its share against other groups (100 to 1000).
    pub weight: Option<u32>,
    /// `<device>`: limits on one host block device.
    pub devices: Vec<BlkioDevice>,
}

/// `<blkiotune><device>`: `<path>` with its weight and throttles.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BlkioDevice {
    /// `<path>`: the host block device.
    pub path: String,
    /// `<weight>` on that device (100 to 1000).
    pub weight: Option<u32>,
    /// `<read_iops_sec>`.
    pub read_iops_sec: Option<u32>,
    /// `<write_iops_sec>`.
    pub write_iops_sec: Option<u32>,
    /// `<read_bytes_sec>`.
    pub read_bytes_sec: Option<u64>,
    /// `<write_bytes_sec>`.
    pub write_bytes_sec: Option<u64>,
}

/// `<memoryBacking>`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MemoryBacking {
    /// `<hugepages>`: `None` when absent; `Some` with no pages for a bare
    /// `<hugepages/>` (the host's default huge page size).
    pub hugepages: Option<Vec<HugePage>>,
    /// `<nosharepages/>`: keep the guest's memory out of KSM merging.
    pub nosharepages: bool,
    /// `<locked/>`: keep the guest's memory in RAM (mlock).
    pub locked: bool,
    /// `<source type=...>`.
    pub source: Option<MemorySourceType>,
    /// `<access mode=...>`.
    pub access: Option<MemoryAccess>,
    /// `<allocation mode= threads=>`.
    pub allocation: Option<MemoryAllocation>,
    /// `<discard/>`: give memory back to the host when the guest frees it.
    pub discard: bool,
}

/// `<hugepages><page size= unit= nodeset=>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HugePage {
    /// `size`, in KiB.
    pub size_kib: u64,
    /// `nodeset`: the guest NUMA cells backed by this page size.
    pub nodeset: Option<String>,
}

/// `<allocation mode= threads=>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryAllocation {
    /// `mode`; `None` when not written (ondemand).
    pub mode: Option<MemoryAllocationMode>,
    /// `threads`: threads that preallocate memory.
    pub threads: Option<u32>,
}

/// `<maxMemory slots= unit=>`: memory that hot-plugged memory devices may
/// add up to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaxMemory {
    /// The most memory, in KiB.
    pub kib: u64,
    /// `slots`: how many memory devices may be plugged.
    pub slots: u32,
}

/// `<cputune>`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CpuTune {
    /// `<shares>`: the domain's relative CPU weight.
    pub shares: Option<u64>,
    /// `<period>`: the CFS period of each vCPU, in microseconds.
    pub period: Option<u64>,
    /// `<quota>`: the CFS quota of each vCPU per period, in
    /// microseconds; negative means none.
    pub quota: Option<i64>,
    /// `<emulator_period>`.
    pub emulator_period: Option<u64>,
    /// `<emulator_quota>`.
    pub emulator_quota: Option<i64>,
    /// `<global_period>`: the CFS period of the whole domain.
    pub global_period: Option<u64>,
    /// `<global_quota>`: the whole domain's CFS quota per period.
    pub global_quota: Option<i64>,
    /// `<iothread_period>`: the CFS period of each I/O thread.
    pub iothread_period: Option<u64>,
    /// `<iothread_quota>`: each I/O thread's CFS quota per period.
    pub iothread_quota: Option<i64>,
    /// `<vcpupin vcpu= cpuset=>`, in order.
    pub vcpupins: Vec<(u32, String)>,
    /// `<emulatorpin cpuset=>`: QEMU's threads other than vCPUs and I/O
    /// threads.
    pub emulatorpin: Option<String>,
    /// `<iothreadpin iothread= cpuset=>`, in order.
    pub iothreadpins: Vec<(u32, String)>,
    /// `<vcpusched vcpus= scheduler= priority=>`, in order.
    pub vcpuscheds: Vec<ThreadSched>,
    /// `<iothreadsched iothreads= scheduler= priority=>`, in order.
    pub iothreadscheds: Vec<ThreadSched>,
    /// `<emulatorsched scheduler= priority=>`: QEMU's other threads.
    pub emulatorsched: Option<(SchedPolicy, Option<i32>)>,
}

words! {
    /// A thread's scheduling policy (`scheduler=`), as sched(7) names
    /// them.
    pub enum SchedPolicy {
        /// SCHED_BATCH: CPU-bound, scheduled after interactive threads.
        Batch = "batch",
        /// SCHED_IDLE: only when nothing else runs.
        Idle = "idle",
        /// SCHED_FIFO: real time, first in first out (with a priority).
        Fifo = "fifo",
        /// SCHED_RR: real time, round robin (with a priority).
        Rr = "rr",
    }
}

/// `<vcpusched>` or `<iothreadsched>`: a policy for some threads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadSched {
    /// `vcpus=` or `iothreads=`: which, as a list (`0-3,^2`).
    pub ids: String,
    /// `scheduler=`.
    pub policy: SchedPolicy,
    /// `priority=`: required for fifo and rr, unused by the others.
    pub priority: Option<i32>,
}

impl CpuTune {
    /// Whether nothing is set.
    pub fn is_empty(&self) -> bool {
        *self == CpuTune::default()
    }
}

/// `<numatune>`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NumaTune {
    /// `<memory mode= nodeset= placement=>`.
    pub memory: Option<NumaMemory>,
    /// `<memnode cellid= mode= nodeset=>`, in order.
    pub memnodes: Vec<MemNode>,
}

/// `<numatune><memory>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumaMemory {
    /// `mode`; `None` when not written (strict).
    pub mode: Option<NumaMode>,
    /// `nodeset`: host NUMA nodes.
    pub nodeset: Option<String>,
    /// `placement`; `None` when not written.
    pub placement: Option<Placement>,
}

/// `<numatune><memnode>`: where one guest NUMA cell's memory lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemNode {
    /// `cellid`: the guest cell.
    pub cellid: u32,
    /// `mode`; `None` when not written (strict).
    pub mode: Option<NumaMode>,
    /// `nodeset`: host NUMA nodes.
    pub nodeset: String,
}

/// `<cpu><numa><cell>`: one guest NUMA node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumaCell {
    /// `id`; cells are numbered from 0 in order.
    pub id: u32,
    /// `cpus`: the vCPUs of the cell; `None` for a memory-only cell.
    pub cpus: Option<String>,
    /// `memory`, in KiB.
    pub memory_kib: u64,
    /// `memAccess`.
    pub mem_access: Option<MemoryAccess>,
    /// `discard='yes|no'`.
    pub discard: Option<bool>,
    /// `<distances><sibling id= value=>`: the distance to each cell
    /// named, as written (10 is the cell's own).
    pub distances: Vec<(u32, u32)>,
    /// `<cache>`: the cell's memory side caches, in document order.
    pub caches: Vec<super::NumaCache>,
}
