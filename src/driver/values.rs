//! The plain value types that cross the [`super::Driver`] trait: domain
//! handles, states and reasons, what `info`, `list` and `nodeinfo`
//! report, and the flags and options of its calls (events are in
//! `event_kinds`).

use std::path::PathBuf;
use std::time::Duration;

use uuid::Uuid;

use crate::error::{Error, ErrorCode, Result};
use crate::model::{DiskDevice, DomainDef};

/// A handle on a domain, as lookups return it: enough to name it in
/// messages and to find it again. Drivers find the domain by `uuid`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Domain {
    /// The domain's name.
    pub name: String,
    /// The domain's UUID: its identity.
    pub uuid: Uuid,
    /// The running id, `None` while shut off.
    pub id: Option<u32>,
}

/// The state of a domain, with virsh's words for each.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DomainState {
    /// `running`: the guest's vCPUs run.
    Running,
    /// `paused`: the QEMU process exists, the vCPUs are stopped.
    Paused,
    /// `shut off`: no QEMU process.
    Shutoff,
    /// `in shutdown`: a guest shutdown was requested and is in progress.
    Shutdown,
    /// `crashed`: the guest crashed and is kept (on_crash preserve).
    Crashed,
    /// `pmsuspended`: the guest suspended itself to RAM.
    PmSuspended,
}

impl DomainState {
    /// virsh's word for the state (`shut off`, `running`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            DomainState::Running => "running",
            DomainState::Paused => "paused",
            DomainState::Shutoff => "shut off",
            DomainState::Shutdown => "in shutdown",
            DomainState::Crashed => "crashed",
            DomainState::PmSuspended => "pmsuspended",
        }
    }
}

/// Why a domain is in its state, in libvirt's terms.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StateReason {
    /// No particular reason known.
    Unknown,
    /// Started, or shut off, by a user's request.
    User,
    /// Running: booted; shut off: the guest shut itself down.
    Booted,
    /// Running: restored from a saved image.
    Restored,
    /// Running: resumed from managed save or pause.
    Unpaused,
    /// Shut off: the guest powered off.
    Shutdown,
    /// Shut off: destroyed.
    Destroyed,
    /// Shut off: QEMU died unexpectedly.
    Crashed,
    /// Shut off: saved to a file.
    Saved,
    /// Shut off: starting failed.
    Failed,
    /// Paused or crashed: kept after the guest powered off or crashed
    /// (on_poweroff or on_crash preserve).
    ShuttingDown,
    /// Paused: an incoming migration (on the destination) or the end of
    /// an outgoing one (on the source).
    Migrating,
    /// Shut off: moved to another host by a migration.
    Migrated,
    /// Running: woken up from a suspend to RAM (`pmsuspended`).
    Wakeup,
    /// Paused: a disk's I/O failed and its error policy stops the guest
    /// (QEMU's default for a full disk), until it is resumed.
    IoError,
    /// Paused by the watchdog's `pause` action (or the pause of its
    /// `dump`).
    Watchdog,
}

impl StateReason {
    /// virsh's word for the reason (`booted`, `destroyed`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            StateReason::Unknown => "unknown",
            StateReason::User => "user",
            StateReason::Booted => "booted",
            StateReason::Restored => "restored",
            StateReason::Unpaused => "unpaused",
            StateReason::Shutdown => "shutdown",
            StateReason::Destroyed => "destroyed",
            StateReason::Crashed => "crashed",
            StateReason::Saved => "saved",
            StateReason::Failed => "failed",
            StateReason::ShuttingDown => "shutting down",
            StateReason::Migrating => "migrating",
            StateReason::Migrated => "migrated",
            StateReason::Wakeup => "wakeup",
            StateReason::IoError => "I/O error",
            StateReason::Watchdog => "watchdog",
        }
    }

    /// Every reason, for parsing the words back.
    pub const ALL: [StateReason; 16] = [
        StateReason::Unknown,
        StateReason::User,
        StateReason::Booted,
        StateReason::Restored,
        StateReason::Unpaused,
        StateReason::Shutdown,
        StateReason::Destroyed,
        StateReason::Crashed,
        StateReason::Saved,
        StateReason::Failed,
        StateReason::ShuttingDown,
        StateReason::Migrating,
        StateReason::Migrated,
        StateReason::Wakeup,
        StateReason::IoError,
        StateReason::Watchdog,
    ];

    /// The reason [`StateReason::as_str`] names.
    pub fn from_name(name: &str) -> Option<StateReason> {
        StateReason::ALL.into_iter().find(|r| r.as_str() == name)
    }
}

/// What `info` reports.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainInfo {
    /// The state.
    pub state: DomainState,
    /// Why.
    pub reason: StateReason,
    /// Maximum memory, KiB.
    pub max_memory_kib: u64,
    /// Memory in use by the guest now (or at boot while shut off), KiB.
    pub memory_kib: u64,
    /// Number of vCPUs.
    pub vcpus: u32,
    /// CPU time used by the QEMU process, nanoseconds (0 while shut off).
    pub cpu_time_ns: u64,
    /// Whether the domain has a persistent definition.
    pub persistent: bool,
    /// Whether it starts with the manager.
    pub autostart: bool,
    /// Whether a managed save image exists.
    pub managed_save: bool,
}

/// Which domains `list` returns.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ListFilter {
    /// Include running and paused domains.
    pub active: bool,
    /// Include shut-off defined domains.
    pub inactive: bool,
}

impl ListFilter {
    /// Every domain.
    pub const ALL: ListFilter = ListFilter {
        active: true,
        inactive: true,
    };
    /// Running and paused domains only (virsh's default).
    pub const ACTIVE: ListFilter = ListFilter {
        active: true,
        inactive: false,
    };
    /// Shut-off defined domains only (`--inactive`).
    pub const INACTIVE: ListFilter = ListFilter {
        active: false,
        inactive: true,
    };
}

impl DomainSummary {
    /// A line of `list`.
    pub fn new(domain: Domain, state: DomainState) -> DomainSummary {
        DomainSummary { domain, state }
    }
}

/// One line of `list`.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainSummary {
    /// The domain.
    pub domain: Domain,
    /// Its state.
    pub state: DomainState,
}

/// How `shutdown` behaves.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ShutdownOptions {
    /// Wait up to this long for the domain to shut off; `None` returns
    /// once the request is delivered.
    pub wait: Option<Duration>,
    /// Destroy the domain when the wait times out (else `Timeout`).
    pub destroy_on_timeout: bool,
}

impl ShutdownOptions {
    /// Returns once the request is delivered (the default).
    pub const NO_WAIT: ShutdownOptions = ShutdownOptions {
        wait: None,
        destroy_on_timeout: false,
    };

    /// Waits up to `wait` for the domain to shut off.
    pub fn with_wait(self, wait: Duration) -> ShutdownOptions {
        ShutdownOptions {
            wait: Some(wait),
            ..self
        }
    }

    /// Whether to destroy the domain when the wait times out.
    pub fn with_destroy_on_timeout(self, destroy: bool) -> ShutdownOptions {
        ShutdownOptions {
            destroy_on_timeout: destroy,
            ..self
        }
    }
}

/// The version numbers `version` reports.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionInfo {
    /// qvirt's version (`0.1.0`).
    pub library: String,
    /// The hypervisor's name and version (`QEMU 7.2.22`).
    pub hypervisor: String,
}

/// The host, as `nodeinfo` shows it.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeInfo {
    /// CPU architecture (`x86_64`).
    pub arch: String,
    /// Memory, KiB.
    pub memory_kib: u64,
    /// Online CPUs.
    pub cpus: u32,
    /// CPU frequency, MHz (0 when unknown).
    pub mhz: u32,
}

/// What [`Driver::change_media`] does to a removable drive (a cdrom or a
/// floppy), in virsh's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaChange {
    /// `--eject`: take the medium out; the drive stays, empty. Fails when
    /// the drive is already empty.
    Eject,
    /// `--insert FILE`: put a medium into an empty drive. Fails when the
    /// drive holds one.
    Insert(PathBuf),
    /// `--update FILE`: put a medium in, replacing the one there, if any.
    Update(PathBuf),
}

impl MediaChange {
    /// The index of the cdrom or floppy drive `target` of `def`, checked
    /// to be in a state this change fits (a medium to eject, none where
    /// one is inserted); `which` names the definition in errors.
    pub fn drive_in(&self, def: &DomainDef, target: &str, which: &str) -> Result<usize> {
        let (index, disk) = def
            .devices
            .disks
            .iter()
            .enumerate()
            .find(|(_, d)| d.target == target)
            .ok_or_else(|| {
                let targets: Vec<&str> = def
                    .devices
                    .disks
                    .iter()
                    .map(|d| d.target.as_str())
                    .collect();
                Error::new(
                    ErrorCode::InvalidArgument,
                    format!(
                        "domain '{}' has no disk with target '{target}' in its {which} (targets: {})",
                        def.name,
                        if targets.is_empty() {
                            "none".to_string()
                        } else {
                            targets.join(", ")
                        }
                    ),
                )
            })?;
        if disk.device == DiskDevice::Disk {
            return Err(Error::new(
                ErrorCode::OperationInvalid,
                format!(
                    "disk '{target}' of domain '{}' is a hard disk: only cdrom and floppy drives take media",
                    def.name
                ),
            ));
        }
        if disk.slice.is_some() || disk.kind == crate::model::DiskType::Dir {
            // The slice is the image's; a directory's FAT image is made
            // by the storage node, which a new file would not have.
            return Err(Error::new(
                ErrorCode::NoSupport,
                format!(
                    "drive '{target}' of domain '{}' holds a storage slice or a directory (<slices>, type='dir'): its medium cannot be changed; detach it and attach the new one",
                    def.name
                ),
            ));
        }
        if disk.encryption.is_some() {
            // Its passphrase is the image's: another medium would be
            // opened with it, or shown encrypted while it is not.
            return Err(Error::new(
                ErrorCode::NoSupport,
                format!(
                    "drive '{target}' of domain '{}' is encrypted (<encryption>): its medium cannot be changed; detach it and attach the new one",
                    def.name
                ),
            ));
        }
        match (self, &disk.source) {
            (MediaChange::Eject, None) => Err(Error::new(
                ErrorCode::OperationInvalid,
                format!(
                    "drive '{target}' of domain '{}' is already empty in its {which}",
                    def.name
                ),
            )),
            (MediaChange::Insert(_), Some(old)) => Err(Error::new(
                ErrorCode::OperationInvalid,
                format!(
                    "drive '{target}' of domain '{}' already holds {old} in its {which}: eject it first, or update",
                    def.name
                ),
            )),
            _ => Ok(index),
        }
    }
}

/// What [`Driver::xml_desc`] gives, as libvirt's `virDomainXMLFlags`;
/// combine with `|`. The default ([`XmlFlags::NONE`]) is the live
/// definition while the domain runs (else the persistent one), without
/// secrets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct XmlFlags(u32);

impl XmlFlags {
    /// The live definition while running, else the persistent one; no
    /// secrets.
    pub const NONE: XmlFlags = XmlFlags(0);
    /// The persistent definition (virsh's `--inactive`).
    pub const INACTIVE: XmlFlags = XmlFlags(1);
    /// With secrets, such as the VNC password (virsh's
    /// `--security-info`, libvirt's `VIR_DOMAIN_XML_SECURE`). Refused
    /// (`OperationDenied`) on a read-only connection.
    pub const SECURE: XmlFlags = XmlFlags(2);
    /// Fit for another manager to start (virsh's `--migratable`,
    /// libvirt's `VIR_DOMAIN_XML_MIGRATABLE`): without what qvirt adds
    /// by itself anyway (the default USB controller and pci-root of an
    /// i440fx machine, a PS/2 keyboard, the socket paths it picks for
    /// virtio channels).
    pub const MIGRATABLE: XmlFlags = XmlFlags(4);

    /// [`XmlFlags::INACTIVE`] when `inactive`, else [`XmlFlags::NONE`].
    pub const fn inactive_if(inactive: bool) -> XmlFlags {
        if inactive {
            XmlFlags::INACTIVE
        } else {
            XmlFlags::NONE
        }
    }

    /// Whether the persistent definition is asked for.
    pub const fn inactive(self) -> bool {
        self.0 & XmlFlags::INACTIVE.0 != 0
    }

    /// Whether the migratable form is asked for.
    pub const fn migratable(self) -> bool {
        self.0 & XmlFlags::MIGRATABLE.0 != 0
    }

    /// Whether secrets are asked for.
    pub const fn secure(self) -> bool {
        self.0 & XmlFlags::SECURE.0 != 0
    }

    /// The flags as bits (as they cross the wire).
    pub const fn bits(self) -> u32 {
        self.0
    }

    /// The flags of `bits`; `None` when a bit is unknown to this build.
    pub const fn from_bits(bits: u32) -> Option<XmlFlags> {
        if bits & !(XmlFlags::INACTIVE.0 | XmlFlags::SECURE.0 | XmlFlags::MIGRATABLE.0) == 0 {
            Some(XmlFlags(bits))
        } else {
            None
        }
    }
}

impl std::ops::BitOr for XmlFlags {
    type Output = XmlFlags;
    fn bitor(self, other: XmlFlags) -> XmlFlags {
        XmlFlags(self.0 | other.0)
    }
}

/// What `undefine` does with the state a domain keeps beside its
/// definition, as virsh's flags say. Default: all `false`, libvirt's
/// plain undefine: a UEFI variable store that exists stops it, the TPM
/// state goes unless the TPM keeps a persistent state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UndefineFlags {
    /// `--nvram`: remove the UEFI variable store.
    pub nvram: bool,
    /// `--keep-nvram`: keep the UEFI variable store.
    pub keep_nvram: bool,
    /// `--tpm`: remove the TPM state, even a persistent one.
    pub tpm: bool,
    /// `--keep-tpm`: keep the TPM state.
    pub keep_tpm: bool,
    /// `--snapshots-metadata`: remove the domain's snapshot metadata
    /// (the snapshots' data stays in the images). Without it, a domain
    /// with snapshots is not undefined.
    pub snapshots_metadata: bool,
}

/// How [`Driver::start_with`](crate::Driver::start_with) starts a
/// domain (virsh's `start` flags, libvirt's `VIR_DOMAIN_START_*`).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StartFlags {
    /// `--paused`: leave its CPUs stopped (as
    /// [`Driver::start_paused`](crate::Driver::start_paused)).
    pub paused: bool,
    /// `--autodestroy`: destroy it when the connection that started it
    /// ends.
    pub autodestroy: bool,
}

impl StartFlags {
    /// libvirt's numbering: `VIR_DOMAIN_START_PAUSED` (1) and
    /// `VIR_DOMAIN_START_AUTODESTROY` (2).
    pub fn bits(self) -> u32 {
        u32::from(self.paused) | (u32::from(self.autodestroy) << 1)
    }

    /// The flags `bits` names; `None` when it holds another bit.
    pub fn from_bits(bits: u32) -> Option<StartFlags> {
        (bits & !3 == 0).then_some(StartFlags {
            paused: bits & 1 != 0,
            autodestroy: bits & 2 != 0,
        })
    }
}

/// Which definitions a device change applies to (virsh's `--live`,
/// `--config`; neither is `--current`).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MediaFlags {
    /// The running domain. Default (with `config` unset too): the running
    /// domain when it runs, else the persistent definition.
    pub live: bool,
    /// The persistent definition, used at the next start. Default: see
    /// `live`.
    pub config: bool,
}

/// What a long-running (asynchronous) job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum JobKind {
    /// `save` to a file.
    Save,
    /// `managedsave`.
    ManagedSave,
    /// `restore`, or a start from a managed save image.
    Restore,
    /// `migrate`, on the source.
    Migration,
    /// `snapshot-create`.
    Snapshot,
    /// `snapshot-revert`.
    SnapshotRevert,
    /// `snapshot-delete` of a running domain's internal snapshot.
    SnapshotDelete,
    /// A migration, on the destination (its completed record only).
    IncomingMigration,
    /// `dump` (a core dump).
    Dump,
}

impl JobKind {
    /// What the job is, in words (`save`).
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Save => "save",
            JobKind::ManagedSave => "managed save",
            JobKind::Restore => "restore",
            JobKind::Migration => "migration",
            JobKind::Snapshot => "snapshot",
            JobKind::SnapshotRevert => "snapshot revert",
            JobKind::SnapshotDelete => "snapshot delete",
            JobKind::IncomingMigration => "incoming migration",
            JobKind::Dump => "dump",
        }
    }
}

/// The progress of a domain's asynchronous job (virsh's `domjobinfo`).
/// Data figures are bytes of the guest's memory stream as QEMU counts
/// them; they stay 0 until QEMU reports.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct JobInfo {
    /// What the job does.
    pub kind: JobKind,
    /// How long it has run.
    pub elapsed: Duration,
    /// Bytes to move in all (the guest's memory).
    pub data_total: u64,
    /// Bytes moved so far.
    pub data_processed: u64,
    /// Bytes left to move.
    pub data_remaining: u64,
    /// Bytes per second lately (0 when unknown).
    pub speed: u64,
}

impl JobInfo {
    /// A job of `kind` that has done nothing yet.
    pub fn new(kind: JobKind) -> JobInfo {
        JobInfo {
            kind,
            elapsed: Duration::ZERO,
            data_total: 0,
            data_processed: 0,
            data_remaining: 0,
            speed: 0,
        }
    }
}

/// How a finished asynchronous job ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum JobOutcome {
    /// It did what it was asked.
    Completed,
    /// It failed.
    Failed,
    /// It was aborted (`job_abort`, or a destroy).
    Cancelled,
}

impl JobOutcome {
    /// libvirt's word (`virDomainJobType`): `Completed`, `Failed`,
    /// `Cancelled`.
    pub fn as_str(self) -> &'static str {
        match self {
            JobOutcome::Completed => "Completed",
            JobOutcome::Failed => "Failed",
            JobOutcome::Cancelled => "Cancelled",
        }
    }
}

/// The domain's last finished asynchronous job, as virsh's `domjobinfo
/// --completed` shows it: its figures when it ended.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct CompletedJob {
    /// How it ended.
    pub outcome: JobOutcome,
    /// Its figures at the end (`elapsed`: its whole length).
    pub info: JobInfo,
    /// For a migration, how long the guest did not run, as QEMU measured
    /// it (from the source's stop to the destination's start).
    pub downtime: Option<Duration>,
    /// For a live migration, how long the guest did not run as the
    /// managers saw it: from the source finding its guest stopped for
    /// the switchover to the destination's answer that it runs the guest
    /// (what virsh calls the total downtime).
    pub total_downtime: Option<Duration>,
}

impl CompletedJob {
    /// A finished job.
    pub fn new(outcome: JobOutcome, info: JobInfo, downtime: Option<Duration>) -> CompletedJob {
        CompletedJob {
            outcome,
            info,
            downtime,
            total_downtime: None,
        }
    }

    /// With the managers' measure of the downtime.
    pub fn with_total_downtime(mut self, total: Option<Duration>) -> CompletedJob {
        self.total_downtime = total;
        self
    }
}

/// How `save` and `managed_save` write the image.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct SaveOptions {
    /// The most MiB per second the image is written at (virsh's
    /// `--bandwidth`), so that a large guest need not saturate the disk;
    /// `None` (the default): as fast as it goes.
    pub bandwidth_mib_s: Option<u64>,
    /// Whether the image's restore lets the vCPUs run (virsh's
    /// `--running`, `--paused`); `None`: as they were at the save.
    pub running: Option<bool>,
    /// The definition the image's restore starts instead of the live one
    /// (virsh's `--xml`): the same machine, where only host-side details
    /// (paths) may differ, else `InvalidArgument`.
    pub xml: Option<String>,
}

/// How `restore` starts the domain from its image.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct RestoreOptions {
    /// Whether the vCPUs run (virsh's `--running`, `--paused`); `None`:
    /// as the image says.
    pub running: Option<bool>,
    /// The definition to start instead of the image's (virsh's `--xml`):
    /// the same machine, else `InvalidArgument`. The image is unchanged.
    pub xml: Option<String>,
}

/// The format of a core dump (virsh's `dump --format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum DumpFormat {
    /// Without `memory_only`, QEMU's migration stream (libvirt's raw
    /// dump); with it, an ELF core file.
    #[default]
    Raw,
    /// kdump's compressed format, zlib.
    KdumpZlib,
    /// kdump's compressed format, LZO.
    KdumpLzo,
    /// kdump's compressed format, snappy.
    KdumpSnappy,
    /// A Windows crash dump (a Windows guest with its crash dump support).
    WinDmp,
}

impl DumpFormat {
    /// The name virsh and QEMU give it (`raw` is `elf` to QEMU).
    pub fn as_str(self) -> &'static str {
        match self {
            DumpFormat::Raw => "raw",
            DumpFormat::KdumpZlib => "kdump-zlib",
            DumpFormat::KdumpLzo => "kdump-lzo",
            DumpFormat::KdumpSnappy => "kdump-snappy",
            DumpFormat::WinDmp => "win-dmp",
        }
    }

    /// The format named `name` (`elf` is `raw`).
    pub fn from_name(name: &str) -> Option<DumpFormat> {
        Some(match name {
            "raw" | "elf" => DumpFormat::Raw,
            "kdump-zlib" => DumpFormat::KdumpZlib,
            "kdump-lzo" => DumpFormat::KdumpLzo,
            "kdump-snappy" => DumpFormat::KdumpSnappy,
            "win-dmp" => DumpFormat::WinDmp,
            _ => return None,
        })
    }
}

/// How `core_dump` dumps a domain (virsh's `dump` flags).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct DumpOptions {
    /// The file's format.
    pub format: DumpFormat,
    /// Only the guest's memory, through QEMU's `dump-guest-memory`
    /// (`--memory-only`), not its whole state.
    pub memory_only: bool,
    /// Leaves the guest running while it is dumped (`--live`).
    pub live: bool,
    /// Stops the domain afterwards, as crashed (`--crash`).
    pub crash: bool,
    /// Resets the guest afterwards (`--reset`).
    pub reset: bool,
}

impl DumpOptions {
    /// Only the guest's memory (`--memory-only`), in `format`.
    pub fn memory_only(mut self, format: DumpFormat) -> DumpOptions {
        self.memory_only = true;
        self.format = format;
        self
    }

    /// Leaves the guest running while it is dumped (`--live`).
    pub fn live(mut self) -> DumpOptions {
        self.live = true;
        self
    }

    /// Stops the domain afterwards, as crashed (`--crash`).
    pub fn crash(mut self) -> DumpOptions {
        self.crash = true;
        self
    }

    /// Resets the guest afterwards (`--reset`).
    pub fn reset(mut self) -> DumpOptions {
        self.reset = true;
        self
    }
}

impl SaveOptions {
    /// Writes at most `mib_s` MiB per second.
    pub fn bandwidth(mut self, mib_s: u64) -> SaveOptions {
        self.bandwidth_mib_s = Some(mib_s);
        self
    }

    /// The restore lets the vCPUs run (`true`) or keeps them paused.
    pub fn running(mut self, running: bool) -> SaveOptions {
        self.running = Some(running);
        self
    }

    /// The restore starts `xml` (the same machine).
    pub fn xml(mut self, xml: String) -> SaveOptions {
        self.xml = Some(xml);
        self
    }
}

impl RestoreOptions {
    /// The vCPUs run (`true`) or stay paused.
    pub fn running(mut self, running: bool) -> RestoreOptions {
        self.running = Some(running);
        self
    }

    /// Starts `xml` (the same machine) instead of the image's definition.
    pub fn xml(mut self, xml: String) -> RestoreOptions {
        self.xml = Some(xml);
        self
    }
}

impl MediaFlags {
    /// `--current`: the running domain when it runs, else the persistent
    /// definition (the default).
    pub const CURRENT: MediaFlags = MediaFlags::new(false, false);
    /// `--live`: the running domain only.
    pub const LIVE: MediaFlags = MediaFlags::new(true, false);
    /// `--config`: the persistent definition only.
    pub const CONFIG: MediaFlags = MediaFlags::new(false, true);

    /// `--live` and/or `--config` as given.
    pub const fn new(live: bool, config: bool) -> MediaFlags {
        MediaFlags { live, config }
    }
}
