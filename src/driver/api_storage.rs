//! The value types of the storage, snapshot and block-job calls of the
//! [`Driver`](super::Driver) trait: handles on pools, volumes and
//! snapshots, what their queries report, their flags (with libvirt's
//! bit values, so that libvirt's protocol maps onto them unchanged), and
//! the byte stream of a volume upload or download.

use std::path::PathBuf;

use uuid::Uuid;

use super::values::Domain;
use crate::error::Result;
use crate::model::{SecretUsageType, SnapshotState, VolumeFormat};

/// Declares a set of flags as a `u32` with libvirt's bit values: the
/// constants, `|`, `contains`, and checked conversion from bits.
macro_rules! bit_flags {
    ($(#[$m:meta])* pub struct $name:ident { $( $(#[$fm:meta])* const $flag:ident = $bit:expr; )* }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
        pub struct $name(u32);

        impl $name {
            /// No flag.
            pub const NONE: $name = $name(0);
            $( $(#[$fm])* pub const $flag: $name = $name($bit); )*
            const KNOWN: u32 = 0 $(| $bit)*;

            /// Whether every flag of `other` is set.
            pub const fn contains(self, other: $name) -> bool {
                self.0 & other.0 == other.0
            }

            /// The flags as bits (as they cross the wire).
            pub const fn bits(self) -> u32 {
                self.0
            }

            /// The flags of `bits`; `None` when a bit is unknown to this
            /// build.
            pub const fn from_bits(bits: u32) -> Option<$name> {
                if bits & !Self::KNOWN == 0 {
                    Some($name(bits))
                } else {
                    None
                }
            }
        }

        impl std::ops::BitOr for $name {
            type Output = $name;
            fn bitor(self, other: $name) -> $name {
                $name(self.0 | other.0)
            }
        }
    };
}

/// A handle on a secret, as libvirt's `virSecret` carries it: its UUID
/// and usage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Secret {
    /// Its UUID.
    pub uuid: Uuid,
    /// What it is for.
    pub usage: SecretUsageType,
    /// The usage's identifier (a Ceph client name, an iSCSI target, a
    /// volume path); empty for usage `none`.
    pub usage_id: String,
}

impl Secret {
    /// Refuses a value longer than libvirt's protocol carries
    /// ([`crate::model::MAX_SECRET_VALUE`]), before it is sent or kept.
    pub fn check_value(value: &[u8]) -> Result<()> {
        let max = crate::model::MAX_SECRET_VALUE;
        if value.len() > max {
            return Err(crate::error::Error::new(
                crate::error::ErrorCode::LimitExceeded,
                format!("a secret value is at most {max} bytes, not {}", value.len()),
            ));
        }
        Ok(())
    }
}

/// A handle on a storage pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pool {
    /// Its name.
    pub name: String,
    /// Its UUID.
    pub uuid: Uuid,
}

/// Whether a pool can be used (virsh's words).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PoolState {
    /// `inactive`: defined, not started.
    Inactive,
    /// `running`: started; its volumes can be used.
    Running,
}

impl PoolState {
    /// virsh's word.
    pub fn as_str(self) -> &'static str {
        match self {
            PoolState::Inactive => "inactive",
            PoolState::Running => "running",
        }
    }
}

/// What `pool-info` shows.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolInfo {
    /// The state.
    pub state: PoolState,
    /// Bytes of the file system under the pool (0 while inactive).
    pub capacity: u64,
    /// Bytes used on it.
    pub allocation: u64,
    /// Bytes free.
    pub available: u64,
    /// Whether the pool has a persistent definition.
    pub persistent: bool,
    /// Whether it starts with the manager.
    pub autostart: bool,
}

impl PoolInfo {
    /// An inactive, persistent pool's info.
    pub fn inactive(autostart: bool) -> PoolInfo {
        PoolInfo {
            state: PoolState::Inactive,
            capacity: 0,
            allocation: 0,
            available: 0,
            persistent: true,
            autostart,
        }
    }
}

/// One line of `pool-list`.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolSummary {
    /// The pool.
    pub pool: Pool,
    /// Its info.
    pub info: PoolInfo,
}

impl PoolSummary {
    /// A line for `pool` with `info`.
    pub fn new(pool: Pool, info: PoolInfo) -> PoolSummary {
        PoolSummary { pool, info }
    }
}

/// A handle on a volume: its pool, its name there, and its path (the
/// volume's key, as libvirt's directory pools use the path).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Volume {
    /// The pool's name.
    pub pool: String,
    /// The volume's name.
    pub name: String,
    /// Its file.
    pub path: PathBuf,
}

/// What `vol-info` shows.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeInfo {
    /// The size the guest sees, bytes.
    pub capacity: u64,
    /// Bytes allocated on the host.
    pub allocation: u64,
    /// The file's size, bytes.
    pub physical: u64,
    /// The image format qvirt knows it by (never probed: what it was
    /// made as, raw for a file qvirt did not make).
    pub format: VolumeFormat,
}

impl VolumeInfo {
    /// Info with these sizes and format.
    pub fn new(capacity: u64, allocation: u64, physical: u64, format: VolumeFormat) -> VolumeInfo {
        VolumeInfo {
            capacity,
            allocation,
            physical,
            format,
        }
    }
}

bit_flags! {
    /// How `vol-create` makes a volume's image (libvirt's
    /// `virStorageVolCreateFlags`).
    pub struct VolCreateFlags {
        /// `--prealloc-metadata`: a qcow2 image gets all its metadata
        /// (tables, reference counts) now and its data clusters on write
        /// (`preallocation=metadata`); with an allocation equal to the
        /// capacity, the whole image is allocated instead, as libvirt
        /// does. Refused for raw volumes and overlays.
        const PREALLOC_METADATA = 1;
    }
}

bit_flags! {
    /// How `vol-resize` reads its size.
    pub struct ResizeFlags {
        /// `--delta`: the size is added to the current capacity.
        const DELTA = 2;
        /// `--shrink`: the volume may get smaller.
        const SHRINK = 4;
    }
}

/// The bytes of a volume upload or download, in order. A download gives
/// its bytes through `recv`; an upload takes them through `send`, and
/// `finish` says all were sent. Dropping an upload before `finish` leaves
/// the bytes written so far.
pub trait VolumeStream: Send {
    /// The next bytes of a download; empty once all are read. An upload
    /// has none (`OperationInvalid`).
    fn recv(&mut self) -> Result<Vec<u8>>;
    /// Writes the next bytes of an upload; more than the length asked
    /// for is refused. A download takes none (`OperationInvalid`).
    fn send(&mut self, data: &[u8]) -> Result<()>;
    /// Ends the transfer: an upload's bytes are on disk (synced) when it
    /// returns. Any later call fails.
    fn finish(&mut self) -> Result<()>;
    /// The next piece of a download with its holes told apart (a sparse
    /// stream): the bytes of the data, or the length of a hole, which
    /// reads as zeros. An empty `Data` once all are read. By default,
    /// everything is data, as [`VolumeStream::recv`] gives it.
    fn recv_piece(&mut self) -> Result<Piece> {
        self.recv().map(Piece::Data)
    }
    /// Skips `len` bytes of an upload that read as zeros afterwards (a
    /// hole of a sparse stream), counted against the length asked for.
    /// By default, that many zeros are sent.
    fn send_hole(&mut self, len: u64) -> Result<()> {
        let zeros = vec![0u8; 1 << 20];
        let mut left = len;
        while left > 0 {
            let n = left.min(zeros.len() as u64) as usize;
            self.send(&zeros[..n])?;
            left -= n as u64;
        }
        Ok(())
    }
}

/// A piece of a sparse download ([`VolumeStream::recv_piece`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Bytes of data; empty at the end.
    Data(Vec<u8>),
    /// A hole of this many bytes, which read as zeros.
    Hole(u64),
}

/// A handle on a snapshot of a domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// The domain.
    pub domain: Domain,
    /// The snapshot's name.
    pub name: String,
}

/// What `snapshot-info` shows (and `snapshot-list` for each).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotInfo {
    /// The name.
    pub name: String,
    /// The parent's name.
    pub parent: Option<String>,
    /// When it was taken, seconds since the epoch.
    pub creation_time: u64,
    /// The domain's state then.
    pub state: SnapshotState,
    /// Whether its disks are external overlays (else internal).
    pub external: bool,
    /// Whether it is the domain's current snapshot.
    pub current: bool,
    /// Its description.
    pub description: Option<String>,
    /// How many snapshots have it as their parent.
    pub children: u32,
}

impl SnapshotInfo {
    /// Info of snapshot `name` taken at `creation_time` in `state`, with
    /// nothing else set.
    pub fn new(name: impl Into<String>, creation_time: u64, state: SnapshotState) -> SnapshotInfo {
        SnapshotInfo {
            name: name.into(),
            parent: None,
            creation_time,
            state,
            external: false,
            current: false,
            description: None,
            children: 0,
        }
    }
}

bit_flags! {
    /// How `snapshot-create` takes a snapshot.
    pub struct SnapshotCreateFlags {
        /// `--disk-only`: disks only, as external overlays.
        const DISK_ONLY = 16;
        /// `--quiesce`: the guest's file systems frozen through its
        /// agent while the disks are taken (with `DISK_ONLY`, on a
        /// running domain with a guest agent channel).
        const QUIESCE = 64;
        /// `--atomic`: all disks or none (qvirt's snapshots always are).
        const ATOMIC = 128;
    }
}

bit_flags! {
    /// How `snapshot-revert` leaves the domain.
    pub struct SnapshotRevertFlags {
        /// `--running`: running afterwards, whatever the snapshot's state.
        const RUNNING = 1;
        /// `--paused`: paused afterwards.
        const PAUSED = 2;
        /// `--force`: also when the running QEMU must be replaced.
        const FORCE = 4;
    }
}

bit_flags! {
    /// What `snapshot-delete` deletes.
    pub struct SnapshotDeleteFlags {
        /// `--children`: the snapshot and all its descendants.
        const CHILDREN = 1;
        /// `--metadata`: only qvirt's record, not the data in the images.
        const METADATA_ONLY = 2;
        /// `--children-only`: its descendants, not itself.
        const CHILDREN_ONLY = 4;
    }
}

bit_flags! {
    /// How `blockcommit` merges.
    pub struct BlockCommitFlags {
        /// `--active`: the disk's active layer (the overlay the guest
        /// writes to) is merged into its base; the job then waits to be
        /// completed by a pivot (`blockjob --pivot`).
        const ACTIVE = 4;
    }
}

bit_flags! {
    /// How `blockcopy` copies (libvirt's `VIR_DOMAIN_BLOCK_COPY_*`).
    pub struct BlockCopyFlags {
        /// `--shallow`: only the active layer; the copy gets the disk's
        /// backing image as its own.
        const SHALLOW = 1;
        /// `--reuse-external`: the destination exists and is used as
        /// it is (not created).
        const REUSE_EXT = 2;
        /// `--transient-job`: the copy is a job of the running domain
        /// only; a persistent domain's copy needs it (libvirt's rule).
        const TRANSIENT_JOB = 4;
        /// `--synchronous-writes`: the guest's writes complete only once
        /// they reached the copy too.
        const SYNCHRONOUS_WRITES = 8;
    }
}

/// Where and how `blockcopy` copies a disk.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BlockCopy {
    /// The copy: an absolute path of a file or a block device.
    pub dest: std::path::PathBuf,
    /// Its format; `None`: the disk's, or a reused image's own.
    pub format: Option<crate::model::VolumeFormat>,
    /// Bytes a second the copy may move (0: no limit).
    pub bandwidth: u64,
    /// The granularity of the dirty bitmap, bytes (0: QEMU's choice).
    pub granularity: u32,
    /// The most bytes in flight (0: QEMU's choice).
    pub buf_size: u64,
    /// How.
    pub flags: BlockCopyFlags,
}

/// What a block job does (virsh's words).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BlockJobKind {
    /// `blockpull`: backing data copied into the active layer.
    Pull,
    /// `blockcommit` of a layer below the active one.
    Commit,
    /// `blockcommit --active`.
    ActiveCommit,
    /// `blockcopy`: the disk copied, then mirrored until the job ends.
    Copy,
}

impl BlockJobKind {
    /// virsh's words.
    pub fn as_str(self) -> &'static str {
        match self {
            BlockJobKind::Pull => "Block Pull",
            BlockJobKind::Commit => "Block Commit",
            BlockJobKind::ActiveCommit => "Active Block Commit",
            BlockJobKind::Copy => "Block Copy",
        }
    }
}

/// How a block job went, as its events tell (libvirt's
/// `virConnectDomainEventBlockJobStatus`).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BlockJobStatus {
    /// It ended: a pull or a pivot done.
    Completed,
    /// It ended with an error.
    Failed,
    /// It was ended without finishing (`blockjob --abort`; a copy's
    /// `--finish`).
    Cancelled,
    /// A commit or a copy is in step, ready to pivot.
    Ready,
}

impl BlockJobStatus {
    /// virsh's words.
    pub fn as_str(self) -> &'static str {
        match self {
            BlockJobStatus::Completed => "completed",
            BlockJobStatus::Failed => "failed",
            BlockJobStatus::Cancelled => "canceled",
            BlockJobStatus::Ready => "ready",
        }
    }
}

/// What `blockjob --info` shows.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockJobInfo {
    /// The job.
    pub kind: BlockJobKind,
    /// Progress so far, in the units of `end`.
    pub cur: u64,
    /// Progress at the end.
    pub end: u64,
    /// Whether an active commit or a copy is ready to pivot.
    pub ready: bool,
    /// Its speed limit, bytes a second (0: none).
    pub bandwidth: u64,
}

impl BlockJobInfo {
    /// A job of `kind` at `cur` of `end`, without a speed limit.
    pub fn new(kind: BlockJobKind, cur: u64, end: u64, ready: bool) -> BlockJobInfo {
        BlockJobInfo {
            kind,
            cur,
            end,
            ready,
            bandwidth: 0,
        }
    }

    /// With the speed limit `bytes_per_s` (0: none).
    pub fn with_bandwidth(mut self, bytes_per_s: u64) -> BlockJobInfo {
        self.bandwidth = bytes_per_s;
        self
    }
}

/// What `domblkinfo` shows.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockInfo {
    /// The size the guest sees, bytes.
    pub capacity: u64,
    /// Bytes allocated on the host.
    pub allocation: u64,
    /// The size of the file, bytes.
    pub physical: u64,
}

impl BlockInfo {
    /// Info with these sizes.
    pub fn new(capacity: u64, allocation: u64, physical: u64) -> BlockInfo {
        BlockInfo {
            capacity,
            allocation,
            physical,
        }
    }
}
