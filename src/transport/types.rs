//! The values that cross the wire, as their own types: each public API
//! type ([`crate::driver::Domain`], [`DomainInfo`], [`Event`], ...) has a
//! wire twin here, converted at the edge. The API types may grow (they
//! are `#[non_exhaustive]`); these change only with the protocol.
//!
//! Postcard encodes a struct as its fields in order and an enum as its
//! variant's index, so fields and variants here are append-only: the
//! golden bytes in `tests/data/wire/golden.txt` hold every one of them.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::driver::{
    Domain, DomainInfo, DomainState, DomainSummary, Event, EventKind, JobInfo, JobKind, ListFilter,
    MediaChange, MediaFlags, NodeInfo, SaveOptions, ShutdownOptions, StateReason, UndefineFlags,
    VersionInfo,
};

/// A [`Domain`] handle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireDomain {
    /// The name.
    pub name: String,
    /// The UUID.
    pub uuid: Uuid,
    /// The running id.
    pub id: Option<u32>,
}

/// A [`DomainState`]. Variants are append-only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub enum WireState {
    Running,
    Paused,
    Shutoff,
    Shutdown,
    Crashed,
    PmSuspended,
}

/// A [`StateReason`]. Variants are append-only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub enum WireReason {
    Unknown,
    User,
    Booted,
    Restored,
    Unpaused,
    Shutdown,
    Destroyed,
    Crashed,
    Saved,
    Failed,
    ShuttingDown,
}

/// [`DomainInfo`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct WireInfo {
    pub state: WireState,
    pub reason: WireReason,
    pub max_memory_kib: u64,
    pub memory_kib: u64,
    pub vcpus: u32,
    pub cpu_time_ns: u64,
    pub persistent: bool,
    pub autostart: bool,
    pub managed_save: bool,
}

/// A [`JobKind`]. Variants are append-only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub enum WireJobKind {
    Save,
    ManagedSave,
    Restore,
    Snapshot,
    SnapshotRevert,
    SnapshotDelete,
}

/// [`JobInfo`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct WireJobInfo {
    pub kind: WireJobKind,
    pub elapsed: Duration,
    pub data_total: u64,
    pub data_processed: u64,
    pub data_remaining: u64,
    pub speed: u64,
}

/// [`UndefineFlags`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct WireUndefineFlags {
    pub nvram: bool,
    pub keep_nvram: bool,
    pub tpm: bool,
    pub keep_tpm: bool,
}

/// [`SaveOptions`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct WireSaveOptions {
    pub bandwidth_mib_s: Option<u64>,
}

/// [`ListFilter`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct WireListFilter {
    pub active: bool,
    pub inactive: bool,
}

/// [`DomainSummary`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct WireSummary {
    pub domain: WireDomain,
    pub state: WireState,
}

/// [`ShutdownOptions`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct WireShutdown {
    pub wait: Option<Duration>,
    pub destroy_on_timeout: bool,
}

/// [`Event`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct WireEvent {
    pub domain: WireDomain,
    pub kind: WireEventKind,
}

/// [`EventKind`]. Variants are append-only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub enum WireEventKind {
    Defined,
    Undefined,
    Started(WireReason),
    Suspended,
    Resumed,
    Shutdown,
    Stopped(WireReason),
    Reset,
}

/// [`VersionInfo`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct WireVersion {
    pub library: String,
    pub hypervisor: String,
}

/// [`NodeInfo`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct WireNode {
    pub arch: String,
    pub memory_kib: u64,
    pub cpus: u32,
    pub mhz: u32,
}

/// [`MediaFlags`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct WireMediaFlags {
    pub live: bool,
    pub config: bool,
}

/// A [`MediaChange`], the path as its bytes. Variants are append-only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum WireMedia {
    /// `MediaChange::Eject`.
    Eject,
    /// `MediaChange::Insert`, with the path's bytes.
    Insert(Vec<u8>),
    /// `MediaChange::Update`, with the path's bytes.
    Update(Vec<u8>),
}

/// Binary data sent as postcard's `bytes` (a length, then the bytes as
/// they are), decoded in one copy rather than element by element.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Bytes(pub Vec<u8>);

impl Serialize for Bytes {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Visit;
        impl serde::de::Visitor<'_> for Visit {
            type Value = Bytes;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("bytes")
            }
            fn visit_bytes<E: serde::de::Error>(
                self,
                v: &[u8],
            ) -> std::result::Result<Self::Value, E> {
                Ok(Bytes(v.to_vec()))
            }
            fn visit_byte_buf<E: serde::de::Error>(
                self,
                v: Vec<u8>,
            ) -> std::result::Result<Self::Value, E> {
                Ok(Bytes(v))
            }
        }
        d.deserialize_byte_buf(Visit)
    }
}

/// Converts both ways between an API enum and its wire twin, variant by
/// variant of the same name.
macro_rules! twin_enum {
    ($api:ident <=> $wire:ident { $($v:ident),* $(,)? }) => {
        impl From<$api> for $wire {
            fn from(v: $api) -> $wire {
                match v {
                    $($api::$v => $wire::$v,)*
                }
            }
        }
        impl From<$wire> for $api {
            fn from(v: $wire) -> $api {
                match v {
                    $($wire::$v => $api::$v,)*
                }
            }
        }
    };
}

twin_enum!(DomainState <=> WireState {
    Running, Paused, Shutoff, Shutdown, Crashed, PmSuspended,
});

twin_enum!(JobKind <=> WireJobKind {
    Save, ManagedSave, Restore, Snapshot, SnapshotRevert, SnapshotDelete,
});

twin_enum!(StateReason <=> WireReason {
    Unknown, User, Booted, Restored, Unpaused, Shutdown, Destroyed, Crashed, Saved, Failed,
    ShuttingDown,
});

/// Converts both ways between an API struct and its wire twin, field by
/// field of the same name.
macro_rules! twin_struct {
    ($api:ident <=> $wire:ident { $($f:ident),* $(,)? }) => {
        impl From<$api> for $wire {
            fn from(v: $api) -> $wire {
                $wire { $($f: v.$f.into(),)* }
            }
        }
        impl From<$wire> for $api {
            fn from(v: $wire) -> $api {
                $api { $($f: v.$f.into(),)* }
            }
        }
    };
}

twin_struct!(Domain <=> WireDomain { name, uuid, id });
twin_struct!(DomainInfo <=> WireInfo {
    state, reason, max_memory_kib, memory_kib, vcpus, cpu_time_ns, persistent, autostart,
    managed_save,
});
twin_struct!(ListFilter <=> WireListFilter { active, inactive });
twin_struct!(DomainSummary <=> WireSummary { domain, state });
twin_struct!(ShutdownOptions <=> WireShutdown { wait, destroy_on_timeout });
twin_struct!(Event <=> WireEvent { domain, kind });
twin_struct!(VersionInfo <=> WireVersion { library, hypervisor });
twin_struct!(NodeInfo <=> WireNode { arch, memory_kib, cpus, mhz });
twin_struct!(MediaFlags <=> WireMediaFlags { live, config });
twin_struct!(JobInfo <=> WireJobInfo {
    kind, elapsed, data_total, data_processed, data_remaining, speed,
});
twin_struct!(SaveOptions <=> WireSaveOptions { bandwidth_mib_s });
// `snapshots_metadata` came later: it travels beside these four (see
// `undefine_snapshots`), so that the procedure taking them is unchanged.
impl From<UndefineFlags> for WireUndefineFlags {
    fn from(f: UndefineFlags) -> WireUndefineFlags {
        WireUndefineFlags {
            nvram: f.nvram,
            keep_nvram: f.keep_nvram,
            tpm: f.tpm,
            keep_tpm: f.keep_tpm,
        }
    }
}

impl From<WireUndefineFlags> for UndefineFlags {
    fn from(f: WireUndefineFlags) -> UndefineFlags {
        UndefineFlags {
            nvram: f.nvram,
            keep_nvram: f.keep_nvram,
            tpm: f.tpm,
            keep_tpm: f.keep_tpm,
            snapshots_metadata: false,
        }
    }
}

impl From<EventKind> for WireEventKind {
    fn from(k: EventKind) -> WireEventKind {
        match k {
            EventKind::Defined => WireEventKind::Defined,
            EventKind::Undefined => WireEventKind::Undefined,
            EventKind::Started(r) => WireEventKind::Started(r.into()),
            EventKind::Suspended => WireEventKind::Suspended,
            EventKind::Resumed => WireEventKind::Resumed,
            EventKind::Shutdown => WireEventKind::Shutdown,
            EventKind::Stopped(r) => WireEventKind::Stopped(r.into()),
            EventKind::Reset => WireEventKind::Reset,
        }
    }
}

impl From<WireEventKind> for EventKind {
    fn from(k: WireEventKind) -> EventKind {
        match k {
            WireEventKind::Defined => EventKind::Defined,
            WireEventKind::Undefined => EventKind::Undefined,
            WireEventKind::Started(r) => EventKind::Started(r.into()),
            WireEventKind::Suspended => EventKind::Suspended,
            WireEventKind::Resumed => EventKind::Resumed,
            WireEventKind::Shutdown => EventKind::Shutdown,
            WireEventKind::Stopped(r) => EventKind::Stopped(r.into()),
            WireEventKind::Reset => EventKind::Reset,
        }
    }
}

/// A path's bytes.
fn path_of(bytes: Vec<u8>) -> std::path::PathBuf {
    use std::os::unix::ffi::OsStringExt;
    std::ffi::OsString::from_vec(bytes).into()
}

impl From<WireMedia> for MediaChange {
    fn from(m: WireMedia) -> MediaChange {
        match m {
            WireMedia::Eject => MediaChange::Eject,
            WireMedia::Insert(p) => MediaChange::Insert(path_of(p)),
            WireMedia::Update(p) => MediaChange::Update(path_of(p)),
        }
    }
}

/// The path a call carries as bytes.
pub fn wire_path(bytes: Vec<u8>) -> std::path::PathBuf {
    path_of(bytes)
}
