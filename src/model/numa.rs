//! What a guest's NUMA cells tell it of their memory's performance, for
//! the ACPI Heterogeneous Memory Attribute Table (HMAT): the memory side
//! caches of a cell (`<cell><cache>`) and the latency and bandwidth
//! between cells (`<numa><interconnects>`). Data only.

use super::words::words;

words! {
    /// `<cache associativity=...>`.
    pub enum NumaCacheAssociativity {
        /// Not described.
        None = "none",
        /// Direct mapped.
        Direct = "direct",
        /// Fully associative (the ACPI table's "complex cache indexing").
        Full = "full",
    }

    /// `<cache policy=...>`.
    pub enum NumaCachePolicy {
        /// Not described.
        None = "none",
        /// Write-back.
        Writeback = "writeback",
        /// Write-through.
        Writethrough = "writethrough",
    }

    /// `<latency type=...>` and `<bandwidth type=...>`: which accesses
    /// the figure is for.
    pub enum NumaAccessType {
        /// Reads and writes.
        Access = "access",
        /// Reads.
        Read = "read",
        /// Writes.
        Write = "write",
    }
}

/// `<cell><cache>`: a memory side cache in front of the cell's memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumaCache {
    /// `level`: 1 to 3, each at most once per cell.
    pub level: u32,
    /// `associativity`.
    pub associativity: NumaCacheAssociativity,
    /// `policy`.
    pub policy: NumaCachePolicy,
    /// `<size value= unit=>`, in KiB.
    pub size_kib: u64,
    /// `<line value= unit=>`, in bytes.
    pub line_bytes: u64,
}

/// Whether an interconnect figure is a latency or a bandwidth.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NumaInterconnectKind {
    /// `<latency>`, in nanoseconds.
    Latency,
    /// `<bandwidth>`, in KiB per second.
    Bandwidth,
}

/// `<numa><interconnects><latency|bandwidth>`: how fast the CPUs of one
/// cell reach the memory (or a memory side cache) of another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumaInterconnect {
    /// `<latency>` or `<bandwidth>`.
    pub kind: NumaInterconnectKind,
    /// `initiator`: the cell whose CPUs access; it must have CPUs.
    pub initiator: u32,
    /// `target`: the cell accessed.
    pub target: u32,
    /// `cache`: the level of the target's memory side cache the figure
    /// is for; `None` for the memory itself.
    pub cache: Option<u32>,
    /// `type`.
    pub access: NumaAccessType,
    /// `value`: nanoseconds for a latency, KiB/s for a bandwidth (its
    /// `unit` read as a size per second, as libvirt reads it).
    pub value: u64,
}
