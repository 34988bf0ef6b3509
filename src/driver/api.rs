//! The `Driver` trait and the value types that cross it.
//!
//! Every way into qvirt (in-process, through the daemon, over SSH)
//! implements this one trait, so a program, the CLI and the conformance
//! suite are written once. Only model types and the plain types below
//! appear in signatures: nothing of QEMU or of the wire.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::error::Result;

/// A handle on a domain, as lookups return it: enough to name it in
/// messages and to find it again. Drivers find the domain by `uuid`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Domain {
    /// The domain's name.
    pub name: String,
    /// The domain's UUID: its identity.
    pub uuid: Uuid,
    /// The running id, `None` while shut off.
    pub id: Option<u32>,
}

/// The state of a domain, with virsh's words for each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
        }
    }

    /// Every reason, for parsing the words back.
    pub const ALL: [StateReason; 11] = [
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
    ];

    /// The reason [`StateReason::as_str`] names.
    pub fn from_name(name: &str) -> Option<StateReason> {
        StateReason::ALL.into_iter().find(|r| r.as_str() == name)
    }
}

/// What `info` reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
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
}

/// One line of `list`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainSummary {
    /// The domain.
    pub domain: Domain,
    /// Its state.
    pub state: DomainState,
}

/// How `shutdown` behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ShutdownOptions {
    /// Wait up to this long for the domain to shut off; `None` returns
    /// once the request is delivered.
    pub wait: Option<Duration>,
    /// Destroy the domain when the wait times out (else `Timeout`).
    pub destroy_on_timeout: bool,
}

/// A lifecycle event, in libvirt's terms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// The domain it concerns.
    pub domain: Domain,
    /// What happened.
    pub kind: EventKind,
}

/// What happened to a domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionInfo {
    /// qvirt's version (`0.1.0`).
    pub library: String,
    /// The hypervisor's name and version (`QEMU 7.2.22`).
    pub hypervisor: String,
}

/// The host, as `nodeinfo` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct MediaFlags {
    /// The running domain. Default (with `config` unset too): the running
    /// domain when it runs, else the persistent definition.
    pub live: bool,
    /// The persistent definition, used at the next start. Default: see
    /// `live`.
    pub config: bool,
}

/// A live subscription to lifecycle events; dropping it unsubscribes.
pub trait EventStream: Send {
    /// The next event, waiting up to `timeout`; `Ok(None)` on timeout.
    fn next(&mut self, timeout: Duration) -> Result<Option<Event>>;
}

/// A bidirectional byte stream to a domain's serial console.
pub trait ConsoleStream: Send {
    /// Reads guest output, waiting up to `timeout`; an empty vector on
    /// timeout.
    fn read(&mut self, timeout: Duration) -> Result<Vec<u8>>;
    /// Sends input to the guest.
    fn write(&mut self, data: &[u8]) -> Result<()>;
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
    /// paused.
    fn save(&self, dom: &Domain, path: &Path) -> Result<()>;
    /// Starts a domain from a file written by `save`.
    fn restore(&self, path: &Path) -> Result<Domain>;
    /// Saves the state into the manager's own store; the next `start`
    /// resumes from it. Running or paused, persistent only.
    fn managed_save(&self, dom: &Domain) -> Result<()>;
    /// Deletes a managed save image. Shut off only.
    fn managed_save_remove(&self, dom: &Domain) -> Result<()>;
    /// Whether the domain starts with the manager. Persistent only.
    fn autostart(&self, dom: &Domain) -> Result<bool>;
    /// Sets whether the domain starts with the manager. Persistent only.
    fn set_autostart(&self, dom: &Domain, on: bool) -> Result<()>;

    /// State, memory, vCPUs and CPU time. Any state.
    fn info(&self, dom: &Domain) -> Result<DomainInfo>;
    /// The domain XML: the live definition while running (with the actual
    /// VNC port and pty paths) unless `inactive`, which gives the
    /// persistent one. Any state.
    fn xml_desc(&self, dom: &Domain, inactive: bool) -> Result<String>;
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
}
