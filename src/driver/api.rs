//! The `Driver` trait and the value types that cross it.
//!
//! Every way into qvirt (in-process, through the daemon, over SSH)
//! implements this one trait, so a program, the CLI and the conformance
//! suite are written once. Only model types and the plain types below
//! appear in signatures: nothing of QEMU or of the wire.

use std::os::fd::BorrowedFd;
use std::path::{Path, PathBuf};
use std::time::Duration;

use uuid::Uuid;

use super::error::Result;
use super::migration::{IncomingParams, IncomingReady, IncomingState, MigrateOptions};
use super::resources::{DomainStats, ModifyFlags};
use crate::model::DomainDef;

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
        }
    }

    /// Every reason, for parsing the words back.
    pub const ALL: [StateReason; 13] = [
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

/// A lifecycle event, in libvirt's terms.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The domain it concerns.
    pub domain: Domain,
    /// What happened.
    pub kind: EventKind,
}

impl Event {
    /// `kind` happened to `domain`.
    pub fn new(domain: Domain, kind: EventKind) -> Event {
        Event { domain, kind }
    }
}

/// What happened to a domain.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// A persistent definition was added or changed.
    Defined,
    /// The persistent definition was removed.
    Undefined,
    /// The domain started (booted, restored).
    Started(StateReason),
    /// The vCPUs were stopped.
    Suspended,
    /// The vCPUs run again.
    Resumed,
    /// The guest began a shutdown.
    Shutdown,
    /// The domain stopped running.
    Stopped(StateReason),
    /// The guest was reset (reboot).
    Reset,
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
        if bits & !(XmlFlags::INACTIVE.0 | XmlFlags::SECURE.0) == 0 {
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
}

impl JobKind {
    /// What the job is, in words (`save`).
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Save => "save",
            JobKind::ManagedSave => "managed save",
            JobKind::Restore => "restore",
            JobKind::Migration => "migration",
        }
    }
}

/// The progress of a domain's asynchronous job (virsh's `domjobinfo`).
/// Data figures are bytes of the guest's memory stream as QEMU counts
/// them; they stay 0 until QEMU reports.
#[derive(Debug, Clone, PartialEq, Eq)]
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

/// How `save` and `managed_save` write the image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct SaveOptions {
    /// The most MiB per second the image is written at (virsh's
    /// `--bandwidth`), so that a large guest need not saturate the disk;
    /// `None` (the default): as fast as it goes.
    pub bandwidth_mib_s: Option<u64>,
}

impl SaveOptions {
    /// Writes at most `mib_s` MiB per second.
    pub fn bandwidth(mut self, mib_s: u64) -> SaveOptions {
        self.bandwidth_mib_s = Some(mib_s);
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

/// A live subscription to lifecycle events; dropping it unsubscribes.
pub trait EventStream: Send {
    /// The next event, waiting up to `timeout`; `Ok(None)` on timeout.
    /// An error that the next call does not repeat means events were
    /// lost (the subscriber read too slowly) and the stream goes on; an
    /// error that repeats means the stream has ended.
    fn next(&mut self, timeout: Duration) -> Result<Option<Event>>;

    /// A descriptor that polls readable (`POLLIN`) while `next` may
    /// have something without waiting, for a caller that waits on many
    /// sources at once (an event loop). Level-triggered: it stays
    /// readable until `next` has found the stream empty. `None` (the
    /// default): there is none, call `next` with a short timeout instead.
    fn ready_fd(&self) -> Option<BorrowedFd<'_>> {
        None
    }
}

/// A bidirectional byte stream to a domain's serial console.
pub trait ConsoleStream: Send {
    /// Reads guest output, waiting up to `timeout`; an empty vector on
    /// timeout.
    fn read(&mut self, timeout: Duration) -> Result<Vec<u8>>;
    /// Sends input to the guest.
    fn write(&mut self, data: &[u8]) -> Result<()>;

    /// A descriptor that polls readable (`POLLIN`, or `POLLHUP` at its
    /// end) while `read` may return without waiting, as
    /// [`EventStream::ready_fd`]. `None` (the default): there is none.
    fn ready_fd(&self) -> Option<BorrowedFd<'_>> {
        None
    }
}

/// What [`Driver::domain_capabilities`] describes; `None` fields take
/// the defaults (the emulator found for the architecture, the host's
/// architecture, the emulator's default machine, `kvm` when usable else
/// `qemu`).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DomainCapsQuery {
    /// The emulator binary.
    pub emulator: Option<PathBuf>,
    /// The guest architecture (`x86_64`).
    pub arch: Option<String>,
    /// The machine type (`pc`, `q35`).
    pub machine: Option<String>,
    /// The domain type (`kvm`, `qemu`).
    pub virt_type: Option<String>,
}

impl DomainCapsQuery {
    /// A query with the given fields.
    pub fn new(
        emulator: Option<PathBuf>,
        arch: Option<String>,
        machine: Option<String>,
        virt_type: Option<String>,
    ) -> DomainCapsQuery {
        DomainCapsQuery {
            emulator,
            arch,
            machine,
            virt_type,
        }
    }
}

/// The qvirt API. Object-safe and shared across threads; every method
/// blocks until done. Methods that act on a domain take the [`Domain`]
/// a lookup returned and document the states they accept; a call in any
/// other state fails with `OperationInvalid` naming the state.
pub trait Driver: Send + Sync {
    /// The URI this driver was opened with.
    fn uri(&self) -> String;
    /// qvirt's and the hypervisor's versions.
    fn version(&self) -> Result<VersionInfo>;
    /// The host's CPUs and memory.
    fn node_info(&self) -> Result<NodeInfo>;
    /// The capabilities document (libvirt's `<capabilities>` subset).
    fn capabilities(&self) -> Result<String>;
    /// The domain capabilities document (libvirt's
    /// `<domainCapabilities>`) of the emulator, architecture, machine and
    /// domain type given (`None`: the defaults): what a definition for
    /// them may ask for. The default is `NoSupport`.
    fn domain_capabilities(&self, query: &DomainCapsQuery) -> Result<String> {
        let _ = query;
        Err(super::error::Error::new(
            super::error::ErrorCode::NoSupport,
            "this connection cannot describe domain capabilities",
        ))
    }

    /// The domains `filter` selects, sorted by name.
    fn list(&self, filter: ListFilter) -> Result<Vec<DomainSummary>>;
    /// The domain named `name`, or `NoDomain`.
    fn lookup_by_name(&self, name: &str) -> Result<Domain>;
    /// The domain with `uuid`, or `NoDomain`.
    fn lookup_by_uuid(&self, uuid: Uuid) -> Result<Domain>;
    /// The running domain with id `id`, or `NoDomain`.
    fn lookup_by_id(&self, id: u32) -> Result<Domain>;

    /// Defines (or redefines, same name and UUID) a persistent domain.
    /// Any state; a running domain's new definition applies at its next
    /// start.
    fn define_xml(&self, xml: &str) -> Result<Domain>;
    /// Removes the persistent definition. Any state: a running domain
    /// becomes transient and disappears when it stops.
    fn undefine(&self, dom: &Domain) -> Result<()>;
    /// [`Driver::undefine`] with virsh's flags for the state a domain keeps
    /// beside its definition: the UEFI variable store and the TPM state.
    /// The default implementation knows no flag: plain `undefine` when
    /// none is set, else `NoSupport`.
    fn undefine_flags(&self, dom: &Domain, flags: UndefineFlags) -> Result<()> {
        if flags == UndefineFlags::default() {
            return self.undefine(dom);
        }
        Err(super::error::Error::new(
            super::error::ErrorCode::NoSupport,
            "this connection cannot undefine with --nvram, --keep-nvram, --tpm or --keep-tpm",
        ))
    }
    /// Starts a transient domain from `xml`.
    fn create_xml(&self, xml: &str) -> Result<Domain>;
    /// [`Driver::define_xml`] for a definition built in code (see
    /// [`DomainDef::new`]); it is checked exactly as its XML would be.
    fn define(&self, def: &DomainDef) -> Result<Domain> {
        self.define_xml(&def.to_xml())
    }
    /// [`Driver::create_xml`] for a definition built in code.
    fn create(&self, def: &DomainDef) -> Result<Domain> {
        self.create_xml(&def.to_xml())
    }
    /// Starts a defined domain. Shut off only; resumes from a managed save
    /// image when there is one.
    fn start(&self, dom: &Domain) -> Result<Domain>;
    /// Asks the guest to power off (ACPI). Running or paused.
    fn shutdown(&self, dom: &Domain, options: ShutdownOptions) -> Result<()>;
    /// Stops the domain at once. Running, paused or crashed.
    fn destroy(&self, dom: &Domain) -> Result<()>;
    /// Asks the guest to reboot (ACPI), keeping the QEMU process. Running.
    fn reboot(&self, dom: &Domain) -> Result<()>;
    /// Resets the virtual machine at once, like a reset button. Running or
    /// paused.
    fn reset(&self, dom: &Domain) -> Result<()>;
    /// Stops the vCPUs. Running only.
    fn suspend(&self, dom: &Domain) -> Result<()>;
    /// Restarts the vCPUs. Paused only.
    fn resume(&self, dom: &Domain) -> Result<()>;
    /// Saves the memory state to `path` and stops the domain. Running or
    /// paused. An asynchronous job: [`Driver::job_info`] follows it and
    /// [`Driver::job_abort`] stops it, leaving the domain as it was.
    fn save(&self, dom: &Domain, path: &Path) -> Result<()> {
        self.save_with(dom, path, SaveOptions::default())
    }
    /// [`Driver::save`] with options.
    fn save_with(&self, dom: &Domain, path: &Path, options: SaveOptions) -> Result<()>;
    /// Starts a domain from a file written by `save`.
    fn restore(&self, path: &Path) -> Result<Domain>;
    /// Saves the state into the manager's own store; the next `start`
    /// resumes from it. Running or paused, persistent only. An
    /// asynchronous job, as [`Driver::save`].
    fn managed_save(&self, dom: &Domain) -> Result<()> {
        self.managed_save_with(dom, SaveOptions::default())
    }
    /// [`Driver::managed_save`] with options.
    fn managed_save_with(&self, dom: &Domain, options: SaveOptions) -> Result<()>;
    /// Moves a running domain to the manager at `dest_uri` (live with
    /// `options.live`), peer to peer: this manager drives the
    /// destination's, and QEMU's stream goes directly between the two
    /// QEMUs. An asynchronous job ([`Driver::job_info`], [`Driver::job_abort`]).
    /// Running or paused. On success the domain runs there and is shut
    /// off here (reason: migrated); on failure it runs here as before.
    fn migrate(&self, dom: &Domain, dest_uri: &str, options: MigrateOptions) -> Result<()>;
    /// The destination's half of [`Driver::migrate`], called by the
    /// source manager: starts QEMU for the domain `params.xml` describes,
    /// waiting for its state; the domain shows paused (migrating).
    fn migrate_incoming(&self, params: IncomingParams) -> Result<IncomingReady>;
    /// The destination's commit: the domain `uuid`, fully received, is
    /// this manager's from now on; `resume` lets its vCPUs run, and
    /// `persistent_xml` defines it.
    fn migrate_finish(
        &self,
        uuid: Uuid,
        resume: bool,
        persistent_xml: Option<String>,
    ) -> Result<Domain>;
    /// Gives up an incoming migration of `uuid` that has not finished:
    /// its QEMU is stopped. `OperationInvalid` once it has finished.
    fn migrate_abort_incoming(&self, uuid: Uuid) -> Result<()>;
    /// What this manager holds of domain `uuid` in a migration (see
    /// [`IncomingState`]).
    fn migrate_incoming_state(&self, uuid: Uuid) -> Result<IncomingState>;

    /// The domain's asynchronous job (a save, a restore) and its
    /// progress; `None` when none runs. Any state; never waits for a job.
    fn job_info(&self, dom: &Domain) -> Result<Option<JobInfo>>;
    /// Stops the domain's asynchronous job: a save is cancelled and the
    /// guest runs on as before it began (the caller of the save gets
    /// `OperationAborted`). `OperationInvalid` when no job runs.
    fn job_abort(&self, dom: &Domain) -> Result<()>;
    /// Deletes a managed save image. Shut off only.
    fn managed_save_remove(&self, dom: &Domain) -> Result<()>;
    /// Whether the domain starts with the manager. Persistent only.
    fn autostart(&self, dom: &Domain) -> Result<bool>;
    /// Sets whether the domain starts with the manager. Persistent only.
    fn set_autostart(&self, dom: &Domain, on: bool) -> Result<()>;

    /// State, memory, vCPUs and CPU time. Any state.
    fn info(&self, dom: &Domain) -> Result<DomainInfo>;
    /// The domain XML: the live definition while running (with the actual
    /// VNC port and pty paths) unless `flags` has
    /// [`XmlFlags::INACTIVE`], which gives the persistent one. Secrets
    /// (the VNC `passwd`) are left out unless `flags` has
    /// [`XmlFlags::SECURE`], which a read-only connection may not ask
    /// for. Any state.
    fn xml_desc(&self, dom: &Domain, flags: XmlFlags) -> Result<String>;
    /// Subscribes to lifecycle events of every domain.
    fn events(&self) -> Result<Box<dyn EventStream>>;
    /// Opens the first serial console. Running or paused; `force` takes
    /// the console from another client that holds it.
    fn console(&self, dom: &Domain, force: bool) -> Result<Box<dyn ConsoleStream>>;

    /// Ejects, inserts or replaces the medium of the cdrom or floppy drive
    /// whose `<target dev>` is `target`. With `flags.live` the running
    /// domain's drive changes at once (running or paused only); with
    /// `flags.config` the persistent definition changes (persistent domains
    /// only, any state); with neither, the running domain when it runs,
    /// else the persistent definition. A relative path is taken from the
    /// caller's current directory. `InvalidArgument` when no disk has that
    /// target, `OperationInvalid` when it is not a cdrom or floppy or the
    /// change does not fit its medium (eject of an empty drive, insert
    /// into a full one).
    fn change_media(
        &self,
        dom: &Domain,
        target: &str,
        change: MediaChange,
        flags: MediaFlags,
    ) -> Result<()>;
    /// A PNG image of the domain's display, as the guest shows it now.
    /// Running or paused; `OperationInvalid` when the domain has no
    /// display (no `<video>` or `<graphics>`), `NoSupport` when its QEMU
    /// is older than 7.1 (which cannot write PNG).
    fn screenshot(&self, dom: &Domain) -> Result<Vec<u8>>;

    /// Sets the memory the guest has (`<currentMemory>`), in KiB, at most
    /// `<memory>`. Live, through the balloon (a request the guest's
    /// balloon driver carries out; `OperationInvalid` without a balloon
    /// device); in the definition, `<currentMemory>`. See
    /// [`ModifyFlags`] for where it applies.
    fn set_memory(&self, dom: &Domain, kib: u64, flags: ModifyFlags) -> Result<()>;
    /// Sets `<memory>`, the most the guest may have, in KiB: in the
    /// definition only (`OperationInvalid` for `live`, as libvirt without
    /// memory hot-plug); `<currentMemory>` is lowered to fit.
    fn set_max_memory(&self, dom: &Domain, kib: u64, flags: ModifyFlags) -> Result<()>;
    /// Sets how many vCPUs are online, at most `<vcpu>`'s maximum: live by
    /// CPU hot-plug (`device_add`; removing a vCPU needs the guest to let
    /// it go), in the definition as `<vcpu current>`.
    fn set_vcpus(&self, dom: &Domain, count: u32, flags: ModifyFlags) -> Result<()>;
    /// Sets `<vcpu>`'s maximum: in the definition only (`OperationInvalid`
    /// for `live`); the online count is lowered to fit.
    fn set_max_vcpus(&self, dom: &Domain, count: u32, flags: ModifyFlags) -> Result<()>;
    /// The statistics of a running or paused domain (virsh's `domstats`);
    /// of a shut-off one, only the state.
    fn stats(&self, dom: &Domain) -> Result<DomainStats>;
    /// Runs one QMP command (a JSON object `{"execute": ...}`) on the
    /// domain's QEMU and returns QEMU's answer as JSON, as virsh's
    /// `qemu-monitor-command`. What it changes, qvirt does not know: the
    /// domain is marked tainted in its log and the manager's.
    fn qemu_monitor_command(&self, dom: &Domain, command: &str) -> Result<String>;
}
