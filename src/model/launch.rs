//! `<launchSecurity>`: memory encryption of the guest by the host CPU
//! (AMD SEV), and `<perf>`: the host's performance counters on the
//! domain's process.

use super::words::words;

/// `<launchSecurity type=...>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LaunchSecurity {
    /// `type='sev'`: AMD Secure Encrypted Virtualization.
    Sev(Sev),
}

/// `<launchSecurity type='sev'>`, as libvirt 9.0 reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sev {
    /// `<cbitpos>`: the position of the C-bit (the encryption bit) in a
    /// page table entry; a property of the host CPU.
    pub cbitpos: u32,
    /// `<reducedPhysBits>`: the physical address bits the host loses to
    /// memory encryption.
    pub reduced_phys_bits: u32,
    /// `<policy>`: the guest policy (hexadecimal in the document), as
    /// the SEV firmware reads it (bit 2: SEV-ES).
    pub policy: u32,
    /// `<dhCert>`: the guest owner's Diffie-Hellman certificate, base64,
    /// passed to QEMU in a file; `None` when absent or empty.
    pub dh_cert: Option<String>,
    /// `<session>`: the guest owner's session parameters, base64,
    /// passed to QEMU in a file; `None` when absent or empty.
    pub session: Option<String>,
    /// `kernelHashes='yes|no'`: whether the hashes of a directly booted
    /// kernel, initrd and command line are part of the measurement;
    /// `None` when not written (QEMU's default: no).
    pub kernel_hashes: Option<bool>,
}

/// The policy bit of an SEV-ES guest (encrypted register state), which
/// needs a firmware that supports it.
pub const SEV_POLICY_ES: u32 = 1 << 2;

words! {
    /// `<perf><event name=...>`: libvirt's perf events, in its order.
    pub enum PerfEventName {
        /// Cache monitoring (Intel CMT).
        Cmt = "cmt",
        /// Total memory bandwidth (Intel MBM).
        Mbmt = "mbmt",
        /// Local memory bandwidth (Intel MBM).
        Mbml = "mbml",
        /// CPU cycles.
        CpuCycles = "cpu_cycles",
        /// Instructions retired.
        Instructions = "instructions",
        /// Cache accesses.
        CacheReferences = "cache_references",
        /// Cache misses.
        CacheMisses = "cache_misses",
        /// Branch instructions.
        BranchInstructions = "branch_instructions",
        /// Branch mispredictions.
        BranchMisses = "branch_misses",
        /// Bus cycles.
        BusCycles = "bus_cycles",
        /// Stalled cycles in the front end.
        StalledCyclesFrontend = "stalled_cycles_frontend",
        /// Stalled cycles in the back end.
        StalledCyclesBackend = "stalled_cycles_backend",
        /// Reference CPU cycles (not scaled by frequency).
        RefCpuCycles = "ref_cpu_cycles",
        /// The CPU clock (software).
        CpuClock = "cpu_clock",
        /// The task clock (software).
        TaskClock = "task_clock",
        /// Page faults (software).
        PageFaults = "page_faults",
        /// Context switches (software).
        ContextSwitches = "context_switches",
        /// Migrations between CPUs (software).
        CpuMigrations = "cpu_migrations",
        /// Minor page faults (software).
        PageFaultsMin = "page_faults_min",
        /// Major page faults (software).
        PageFaultsMaj = "page_faults_maj",
        /// Alignment faults (software).
        AlignmentFaults = "alignment_faults",
        /// Emulation faults (software).
        EmulationFaults = "emulation_faults",
    }
}

/// `<perf><event name=... enabled=...>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PerfEvent {
    /// `name`.
    pub name: PerfEventName,
    /// `enabled='yes|no'`. Only `no` (libvirt's default: no counter) is
    /// accepted when read: qvirt opens no perf counters.
    pub enabled: bool,
}
