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

use crate::model::{SecretUsageType, SnapshotState, VolumeFormat};

/// What happened to a domain, with the other wire types.
pub use super::types_events::WireEventKind;
use crate::driver::{
    BalloonStats, BlockStats, CompletedJob, DomainStats, InterfaceAddresses, InterfaceStats,
    IpAddress, JobOutcome, MetadataKind, ModifyFlags, VcpuStats,
};
use crate::driver::{BlkioTuneChange, DiskRuntime, MemTuneChange};
use crate::driver::{
    BlockInfo, BlockJobInfo, BlockJobKind, Pool, PoolInfo, PoolState, PoolSummary, Secret,
    Snapshot, SnapshotInfo, Volume, VolumeInfo,
};
use crate::driver::{
    Domain, DomainInfo, DomainState, DomainSummary, Event, IncomingDisk, IncomingParams,
    IncomingReady, IncomingState, JobInfo, JobKind, ListFilter, MediaChange, MediaFlags,
    MigrateOptions, NodeInfo, SaveOptions, ShutdownOptions, StateReason, UndefineFlags,
    VersionInfo,
};
use crate::driver::{DumpFormat, DumpOptions};

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
    Migrating,
    Migrated,
    Wakeup,
    IoError,
    Watchdog,
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
    Migration,
    Snapshot,
    SnapshotRevert,
    SnapshotDelete,
    IncomingMigration,
    Dump,
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

/// [`ModifyFlags`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct WireModifyFlags {
    pub live: bool,
    pub config: bool,
}

/// [`MetadataKind`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub enum WireMetadataKind {
    Description,
    Title,
    Element { uri: String, key: Option<String> },
}

impl From<MetadataKind> for WireMetadataKind {
    fn from(k: MetadataKind) -> WireMetadataKind {
        match k {
            MetadataKind::Description => WireMetadataKind::Description,
            MetadataKind::Title => WireMetadataKind::Title,
            MetadataKind::Element { uri, key } => WireMetadataKind::Element { uri, key },
        }
    }
}

impl From<WireMetadataKind> for MetadataKind {
    fn from(k: WireMetadataKind) -> MetadataKind {
        match k {
            WireMetadataKind::Description => MetadataKind::Description,
            WireMetadataKind::Title => MetadataKind::Title,
            WireMetadataKind::Element { uri, key } => MetadataKind::Element { uri, key },
        }
    }
}

/// [`CompletedJob`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct WireCompletedJob {
    /// 0 completed, 1 failed, 2 cancelled.
    pub outcome: u8,
    pub info: WireJobInfo,
    pub downtime_ms: Option<u64>,
    pub total_downtime_us: Option<u64>,
}

impl From<CompletedJob> for WireCompletedJob {
    fn from(c: CompletedJob) -> WireCompletedJob {
        WireCompletedJob {
            outcome: match c.outcome {
                JobOutcome::Completed => 0,
                JobOutcome::Failed => 1,
                JobOutcome::Cancelled => 2,
            },
            info: c.info.into(),
            downtime_ms: c.downtime.map(|d| d.as_millis() as u64),
            total_downtime_us: c.total_downtime.map(|d| d.as_micros() as u64),
        }
    }
}

impl From<WireCompletedJob> for CompletedJob {
    fn from(c: WireCompletedJob) -> CompletedJob {
        let outcome = match c.outcome {
            0 => JobOutcome::Completed,
            2 => JobOutcome::Cancelled,
            _ => JobOutcome::Failed,
        };
        CompletedJob::new(
            outcome,
            c.info.into(),
            c.downtime_ms.map(Duration::from_millis),
        )
        .with_total_downtime(c.total_downtime_us.map(Duration::from_micros))
    }
}

/// [`InterfaceAddresses`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct WireInterfaceAddresses {
    pub name: String,
    pub mac: String,
    /// (IPv6, address, prefix).
    pub addrs: Vec<(bool, String, u32)>,
}

impl From<InterfaceAddresses> for WireInterfaceAddresses {
    fn from(i: InterfaceAddresses) -> WireInterfaceAddresses {
        WireInterfaceAddresses {
            name: i.name,
            mac: i.mac,
            addrs: i
                .addrs
                .into_iter()
                .map(|a| (a.ipv6, a.addr, a.prefix))
                .collect(),
        }
    }
}

impl From<WireInterfaceAddresses> for InterfaceAddresses {
    fn from(i: WireInterfaceAddresses) -> InterfaceAddresses {
        InterfaceAddresses::new(
            i.name,
            i.mac,
            i.addrs
                .into_iter()
                .map(|(v6, a, p)| IpAddress::new(v6, a, p))
                .collect(),
        )
    }
}

/// [`BalloonStats`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct WireBalloonStats {
    pub current_kib: u64,
    pub maximum_kib: u64,
    pub rss_kib: u64,
    pub guest: Vec<(String, u64)>,
}

/// [`VcpuStats`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct WireVcpuStats {
    pub id: u32,
    pub thread_id: i32,
    pub time_ns: u64,
}

/// [`BlockStats`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct WireBlockStats {
    pub target: String,
    pub path: Option<String>,
    pub rd_reqs: u64,
    pub rd_bytes: u64,
    pub wr_reqs: u64,
    pub wr_bytes: u64,
    pub fl_reqs: u64,
    pub rd_total_times_ns: u64,
    pub wr_total_times_ns: u64,
    pub fl_total_times_ns: u64,
    pub capacity: u64,
    pub allocation: u64,
    pub physical: u64,
}

/// [`InterfaceStats`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct WireInterfaceStats {
    pub name: String,
    pub rx_bytes: u64,
    pub rx_packets: u64,
    pub rx_errs: u64,
    pub rx_drop: u64,
    pub tx_bytes: u64,
    pub tx_packets: u64,
    pub tx_errs: u64,
    pub tx_drop: u64,
}

/// [`DomainStats`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct WireStats {
    pub state: WireState,
    pub reason: WireReason,
    pub cpu_time_ns: u64,
    pub cpu_user_ns: u64,
    pub cpu_system_ns: u64,
    pub balloon: WireBalloonStats,
    pub vcpus: Vec<WireVcpuStats>,
    pub vcpu_maximum: u32,
    pub blocks: Vec<WireBlockStats>,
    pub interfaces: Vec<WireInterfaceStats>,
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

/// [`MigrateOptions`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct WireMigrateOptions {
    pub live: bool,
    pub persistent: bool,
    pub undefine_source: bool,
    pub copy_storage_all: bool,
    pub migrate_uri: Option<String>,
    pub dest_xml: Option<String>,
    pub bandwidth_mib_s: Option<u64>,
    pub timeout: Option<Duration>,
    pub timeout_postcopy: bool,
    pub postcopy: bool,
}

/// [`IncomingDisk`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct WireIncomingDisk {
    pub target: String,
    pub size: u64,
}

/// [`IncomingParams`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct WireIncomingParams {
    pub xml: String,
    pub listen: Option<String>,
    pub port: Option<u16>,
    pub disks: Vec<WireIncomingDisk>,
}

/// [`IncomingReady`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct WireIncomingReady {
    pub port: u16,
    pub nbd_port: Option<u16>,
}

/// An [`IncomingState`]. Variants are append-only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub enum WireIncomingState {
    Absent,
    Incoming,
    Owned,
}

/// [`SaveOptions`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct WireSaveOptions {
    pub bandwidth_mib_s: Option<u64>,
}

/// [`DumpFormat`]. Variants are append-only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub enum WireDumpFormat {
    Raw,
    KdumpZlib,
    KdumpLzo,
    KdumpSnappy,
    WinDmp,
}

/// [`DumpOptions`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct WireDumpOptions {
    pub format: WireDumpFormat,
    pub memory_only: bool,
    pub live: bool,
    pub crash: bool,
    pub reset: bool,
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
pub(crate) use twin_enum;

twin_enum!(DomainState <=> WireState {
    Running, Paused, Shutoff, Shutdown, Crashed, PmSuspended,
});

twin_enum!(JobKind <=> WireJobKind {
    Save, ManagedSave, Restore, Migration, Snapshot, SnapshotRevert, SnapshotDelete,
    IncomingMigration, Dump,
});

twin_enum!(StateReason <=> WireReason {
    Unknown, User, Booted, Restored, Unpaused, Shutdown, Destroyed, Crashed, Saved, Failed,
    ShuttingDown, Migrating, Migrated, Wakeup, IoError, Watchdog,
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
pub(crate) use twin_struct;

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
// The state and definition a restore takes travel beside these (see
// `WireSaveState`), so that the procedures taking them are unchanged.
impl From<SaveOptions> for WireSaveOptions {
    fn from(o: SaveOptions) -> WireSaveOptions {
        WireSaveOptions {
            bandwidth_mib_s: o.bandwidth_mib_s,
        }
    }
}

impl From<WireSaveOptions> for SaveOptions {
    fn from(o: WireSaveOptions) -> SaveOptions {
        SaveOptions {
            bandwidth_mib_s: o.bandwidth_mib_s,
            ..SaveOptions::default()
        }
    }
}
twin_enum!(DumpFormat <=> WireDumpFormat { Raw, KdumpZlib, KdumpLzo, KdumpSnappy, WinDmp });
twin_struct!(DumpOptions <=> WireDumpOptions { format, memory_only, live, crash, reset });
twin_struct!(MigrateOptions <=> WireMigrateOptions {
    live, persistent, undefine_source, copy_storage_all, migrate_uri, dest_xml, bandwidth_mib_s,
    timeout, timeout_postcopy, postcopy,
});
twin_struct!(IncomingDisk <=> WireIncomingDisk { target, size });
twin_struct!(IncomingReady <=> WireIncomingReady { port, nbd_port });
twin_enum!(IncomingState <=> WireIncomingState { Absent, Incoming, Owned });

impl From<IncomingParams> for WireIncomingParams {
    fn from(p: IncomingParams) -> WireIncomingParams {
        WireIncomingParams {
            xml: p.xml,
            listen: p.listen,
            port: p.port,
            disks: p.disks.into_iter().map(Into::into).collect(),
        }
    }
}

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

impl From<WireIncomingParams> for IncomingParams {
    fn from(p: WireIncomingParams) -> IncomingParams {
        let mut params = IncomingParams::new(p.xml);
        params.listen = p.listen;
        params.port = p.port;
        params.disks = p.disks.into_iter().map(Into::into).collect();
        params
    }
}
twin_struct!(ModifyFlags <=> WireModifyFlags { live, config });
twin_struct!(VcpuStats <=> WireVcpuStats { id, thread_id, time_ns });
twin_struct!(BlockStats <=> WireBlockStats {
    target, path, rd_reqs, rd_bytes, wr_reqs, wr_bytes, fl_reqs, rd_total_times_ns,
    wr_total_times_ns, fl_total_times_ns, capacity, allocation, physical,
});
twin_struct!(InterfaceStats <=> WireInterfaceStats {
    name, rx_bytes, rx_packets, rx_errs, rx_drop, tx_bytes, tx_packets, tx_errs, tx_drop,
});

impl From<BalloonStats> for WireBalloonStats {
    fn from(b: BalloonStats) -> WireBalloonStats {
        WireBalloonStats {
            current_kib: b.current_kib,
            maximum_kib: b.maximum_kib,
            rss_kib: b.rss_kib,
            guest: b.guest.into_iter().collect(),
        }
    }
}

impl From<WireBalloonStats> for BalloonStats {
    fn from(b: WireBalloonStats) -> BalloonStats {
        BalloonStats {
            current_kib: b.current_kib,
            maximum_kib: b.maximum_kib,
            rss_kib: b.rss_kib,
            guest: b.guest.into_iter().collect(),
        }
    }
}

impl From<DomainStats> for WireStats {
    fn from(s: DomainStats) -> WireStats {
        WireStats {
            state: s.state.into(),
            reason: s.reason.into(),
            cpu_time_ns: s.cpu_time_ns,
            cpu_user_ns: s.cpu_user_ns,
            cpu_system_ns: s.cpu_system_ns,
            balloon: s.balloon.into(),
            vcpus: s.vcpus.into_iter().map(Into::into).collect(),
            vcpu_maximum: s.vcpu_maximum,
            blocks: s.blocks.into_iter().map(Into::into).collect(),
            interfaces: s.interfaces.into_iter().map(Into::into).collect(),
        }
    }
}

impl From<WireStats> for DomainStats {
    fn from(s: WireStats) -> DomainStats {
        let mut d = DomainStats::new(s.state.into(), s.reason.into());
        d.cpu_time_ns = s.cpu_time_ns;
        d.cpu_user_ns = s.cpu_user_ns;
        d.cpu_system_ns = s.cpu_system_ns;
        d.balloon = s.balloon.into();
        d.vcpus = s.vcpus.into_iter().map(Into::into).collect();
        d.vcpu_maximum = s.vcpu_maximum;
        d.blocks = s.blocks.into_iter().map(Into::into).collect();
        d.interfaces = s.interfaces.into_iter().map(Into::into).collect();
        d
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

// Storage pools, volumes, snapshots and block jobs (procedures 47 on).

/// A [`Pool`] handle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct WirePool {
    pub name: String,
    pub uuid: Uuid,
}

/// A [`PoolState`]. Variants are append-only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub enum WirePoolState {
    Inactive,
    Running,
}

/// [`PoolInfo`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct WirePoolInfo {
    pub state: WirePoolState,
    pub capacity: u64,
    pub allocation: u64,
    pub available: u64,
    pub persistent: bool,
    pub autostart: bool,
}

/// [`PoolSummary`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct WirePoolSummary {
    pub pool: WirePool,
    pub info: WirePoolInfo,
}

/// A [`Volume`] handle; its path as bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct WireVolume {
    pub pool: String,
    pub name: String,
    pub path: Vec<u8>,
}

/// A [`VolumeFormat`]. Variants are append-only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub enum WireVolumeFormat {
    Raw,
    Qcow2,
}

/// [`VolumeInfo`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct WireVolumeInfo {
    pub capacity: u64,
    pub allocation: u64,
    pub physical: u64,
    pub format: WireVolumeFormat,
}

/// A [`Snapshot`] handle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct WireSnapshot {
    pub domain: WireDomain,
    pub name: String,
}

/// A [`SnapshotState`]. Variants are append-only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub enum WireSnapshotState {
    Running,
    Paused,
    Shutoff,
    DiskSnapshot,
}

/// [`SnapshotInfo`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct WireSnapshotInfo {
    pub name: String,
    pub parent: Option<String>,
    pub creation_time: u64,
    pub state: WireSnapshotState,
    pub external: bool,
    pub current: bool,
    pub description: Option<String>,
    pub children: u32,
}

/// A [`BlockJobKind`]. Variants are append-only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub enum WireBlockJobKind {
    Pull,
    Commit,
    ActiveCommit,
    Copy,
}

/// [`BlockJobInfo`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct WireBlockJobInfo {
    pub kind: WireBlockJobKind,
    pub cur: u64,
    pub end: u64,
    pub ready: bool,
    pub bandwidth: u64,
}

/// [`BlockInfo`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct WireBlockInfo {
    pub capacity: u64,
    pub allocation: u64,
    pub physical: u64,
}

twin_struct!(Pool <=> WirePool { name, uuid });
twin_enum!(PoolState <=> WirePoolState { Inactive, Running });
twin_struct!(PoolInfo <=> WirePoolInfo {
    state, capacity, allocation, available, persistent, autostart,
});
twin_struct!(PoolSummary <=> WirePoolSummary { pool, info });
twin_enum!(VolumeFormat <=> WireVolumeFormat { Raw, Qcow2 });
twin_struct!(VolumeInfo <=> WireVolumeInfo { capacity, allocation, physical, format });
twin_struct!(Snapshot <=> WireSnapshot { domain, name });
twin_enum!(SnapshotState <=> WireSnapshotState { Running, Paused, Shutoff, DiskSnapshot });
twin_struct!(SnapshotInfo <=> WireSnapshotInfo {
    name, parent, creation_time, state, external, current, description, children,
});
twin_enum!(BlockJobKind <=> WireBlockJobKind { Pull, Commit, ActiveCommit, Copy });
twin_struct!(BlockJobInfo <=> WireBlockJobInfo { kind, cur, end, ready, bandwidth });
twin_struct!(BlockInfo <=> WireBlockInfo { capacity, allocation, physical });

impl From<Volume> for WireVolume {
    fn from(v: Volume) -> WireVolume {
        use std::os::unix::ffi::OsStrExt;
        WireVolume {
            pool: v.pool,
            name: v.name,
            path: v.path.as_os_str().as_bytes().to_vec(),
        }
    }
}

impl From<WireVolume> for Volume {
    fn from(v: WireVolume) -> Volume {
        Volume {
            pool: v.pool,
            name: v.name,
            path: path_of(v.path),
        }
    }
}

// Secrets (procedures 95 on).

/// A [`SecretUsageType`]. Variants are append-only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub enum WireSecretUsage {
    None,
    Volume,
    Ceph,
    Iscsi,
    Tls,
    Vtpm,
}

/// A [`Secret`] handle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct WireSecret {
    pub uuid: Uuid,
    pub usage: WireSecretUsage,
    pub usage_id: String,
}

twin_enum!(SecretUsageType <=> WireSecretUsage { None, Volume, Ceph, Iscsi, Tls, Vtpm });
twin_struct!(Secret <=> WireSecret { uuid, usage, usage_id });

// Memory and block I/O tuning (procedures 103 on).

/// [`MemTuneChange`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct WireMemTuneChange {
    pub hard_limit_kib: Option<u64>,
    pub soft_limit_kib: Option<u64>,
    pub swap_hard_limit_kib: Option<u64>,
}

/// [`BlkioTuneChange`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct WireBlkioTuneChange {
    pub weight: Option<u32>,
    pub device_weight: Vec<(String, u64)>,
    pub device_read_iops_sec: Vec<(String, u64)>,
    pub device_write_iops_sec: Vec<(String, u64)>,
    pub device_read_bytes_sec: Vec<(String, u64)>,
    pub device_write_bytes_sec: Vec<(String, u64)>,
}

/// [`DiskRuntime`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct WireDiskRuntime {
    pub target: String,
    pub iotune: Vec<u64>,
    pub group: Option<String>,
    pub io_status: String,
}

twin_struct!(DiskRuntime <=> WireDiskRuntime {
    target, iotune, group, io_status,
});
twin_struct!(MemTuneChange <=> WireMemTuneChange {
    hard_limit_kib, soft_limit_kib, swap_hard_limit_kib,
});
twin_struct!(BlkioTuneChange <=> WireBlkioTuneChange {
    weight, device_weight, device_read_iops_sec, device_write_iops_sec, device_read_bytes_sec,
    device_write_bytes_sec,
});

/// Flags as their bits on the wire: unknown bits are refused by name.
pub fn wire_flags<T>(bits: u32, from: fn(u32) -> Option<T>, what: &str) -> crate::Result<T> {
    from(bits).ok_or_else(|| {
        crate::Error::new(
            crate::ErrorCode::InvalidArgument,
            format!("unknown {what} flags {bits:#x}"),
        )
    })
}

/// The wire number of a [`crate::driver::Confirmation`].
pub fn confirmation_number(how: crate::driver::Confirmation) -> u32 {
    match how {
        crate::driver::Confirmation::Done => 0,
        crate::driver::Confirmation::Cancelled => 1,
        crate::driver::Confirmation::Abandoned => 2,
    }
}

/// The [`crate::driver::Confirmation`] of wire number `n`.
pub fn confirmation_of(n: u32) -> crate::driver::error::Result<crate::driver::Confirmation> {
    Ok(match n {
        0 => crate::driver::Confirmation::Done,
        1 => crate::driver::Confirmation::Cancelled,
        2 => crate::driver::Confirmation::Abandoned,
        n => {
            return Err(crate::driver::error::Error::new(
                crate::driver::error::ErrorCode::Protocol,
                format!("unknown migration confirmation {n}"),
            ));
        }
    })
}
