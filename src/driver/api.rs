//! The `Driver` trait and the value types that cross it.
//!
//! Every way into qvirt (in-process, through the daemon, over SSH)
//! implements this one trait, so a program, the CLI and the conformance
//! suite are written once. Only model types and the plain types below
//! appear in signatures: nothing of QEMU or of the wire.

use std::path::Path;

use uuid::Uuid;

use super::agent_types::{AgentAnswer, AgentCall};
use super::api_storage::{
    BlockCommitFlags, BlockCopy, BlockInfo, BlockJobInfo, Pool, PoolInfo, PoolSummary, ResizeFlags,
    Secret, Snapshot, SnapshotCreateFlags, SnapshotDeleteFlags, SnapshotInfo, SnapshotRevertFlags,
    VolCreateFlags, Volume, VolumeInfo, VolumeStream,
};
use super::error::{Result, unsupported};
use super::migration::{IncomingParams, IncomingReady, IncomingState, MigrateOptions};
use super::resources::{
    AddressSource, BlkioTuneChange, DomainStats, InterfaceAddresses, KeyCodeset, MemTuneChange,
    MetadataKind, ModifyFlags,
};
use super::streams::{ConsoleStream, DomainCapsQuery, EventStream};
use super::values::*;
use crate::model::{DomainDef, SecretUsageType};

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
        Err(unsupported("describe domain capabilities"))
    }

    /// The QEMU command line a start of the domain XML `xml` would run
    /// on this driver's host and state (libvirt's
    /// `virConnectDomainXMLToNative`), shell-quoted on one line; `format`
    /// must be `qemu-argv`. Nothing is defined or started. The default is
    /// `NoSupport`.
    fn domain_xml_to_native(&self, format: &str, xml: &str) -> Result<String> {
        let _ = (format, xml);
        Err(unsupported("turn domain XML into a QEMU command line"))
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
    /// Starts a defined domain as [`Driver::start`] does, but leaves it
    /// paused (reason `user`) before its CPUs run (virsh's `start
    /// --paused`); a managed save image is restored paused too.
    fn start_paused(&self, dom: &Domain) -> Result<Domain>;
    /// Starts a defined domain as [`Driver::start`] does, paused as
    /// [`Driver::start_paused`] with `paused`. With `autodestroy`
    /// (virsh's `start --autodestroy`) the domain lasts only as long as
    /// this connection: it is destroyed when the connection ends, however
    /// the program ends (an embedded driver: when this handle drops; over
    /// a socket: when the daemon sees the connection close), unless it
    /// was stopped and started again meanwhile.
    fn start_with(&self, dom: &Domain, flags: StartFlags) -> Result<Domain>;
    /// Renames a shut-off persistent domain (virsh's `domrename`); its
    /// UUID, disks, snapshots and autostart mark stay. `OperationInvalid`
    /// while it runs, for a transient domain or one with a managed save
    /// image; `DomainExists` when the name is taken.
    fn rename(&self, dom: &Domain, new_name: &str) -> Result<Domain>;
    /// Sets (`Some`) or removes (`None`) a title, description or
    /// `<metadata>` element (virsh's `desc` and `metadata`), in the
    /// running domain, the definition or both as `flags` say. An element
    /// is given as one XML element; it is stored in namespace `uri` with
    /// prefix `key`.
    fn set_metadata(
        &self,
        dom: &Domain,
        kind: &MetadataKind,
        value: Option<&str>,
        flags: ModifyFlags,
    ) -> Result<()>;
    /// The title, description or `<metadata>` element of the running
    /// domain, or of the definition with `inactive` (or when shut off);
    /// `None` when there is none.
    fn metadata(&self, dom: &Domain, kind: &MetadataKind, inactive: bool)
    -> Result<Option<String>>;
    /// The addresses of a running domain's interfaces, from `source`
    /// (virsh's `domifaddr`): with `Arp`, the host's neighbour table by
    /// each interface's MAC (bridged guests that spoke to the host);
    /// `Lease` finds none (qvirt has no virtual networks); `Agent` asks
    /// the QEMU guest agent (running only).
    fn interface_addresses(
        &self,
        dom: &Domain,
        source: AddressSource,
    ) -> Result<Vec<InterfaceAddresses>>;
    /// One call answered by the QEMU guest agent; [`super::GuestAgent`] has
    /// them as methods.
    fn agent_call(&self, dom: &Domain, call: AgentCall) -> Result<AgentAnswer> {
        let _ = (dom, call);
        Err(unsupported("talk to the guest agent"))
    }
    /// Wakes a guest that suspended itself (`pmsuspended`) with QMP's
    /// `system_wakeup`, as virsh's `dompmwakeup`: the domain must be
    /// active (`OperationInvalid` "domain is not running" otherwise), and
    /// QEMU refuses a guest that is not suspended. It runs again once
    /// QEMU reports the wake-up (state running, reason wakeup).
    fn pm_wakeup(&self, dom: &Domain) -> Result<()> {
        let _ = dom;
        Err(unsupported("wake up a domain"))
    }
    /// Presses `keys` together on the guest's keyboard and lets them go
    /// after `hold_ms` (QEMU's default when 0), as virsh's `send-key`;
    /// at most 16 keys. Running or paused.
    fn send_key(&self, dom: &Domain, codeset: KeyCodeset, hold_ms: u32, keys: &[u32])
    -> Result<()>;
    /// Raises a non-maskable interrupt on the guest's CPUs (QEMU's
    /// `inject-nmi`), as virsh's `inject-nmi`. Running or paused.
    fn inject_nmi(&self, dom: &Domain) -> Result<()>;
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
    /// Writes a core dump of a running or paused domain to `path`
    /// (virsh's `dump`): its memory as an ELF (or kdump) file with
    /// `memory_only`, else its whole state as QEMU's migration stream.
    /// The guest is paused meanwhile unless `live`; afterwards it runs
    /// on as it did, is reset (`reset`) or stopped as crashed (`crash`).
    /// An asynchronous job ([`Driver::job_info`] follows it); a failed
    /// dump leaves no file.
    fn core_dump(&self, dom: &Domain, path: &Path, options: DumpOptions) -> Result<()> {
        let _ = (dom, path, options);
        Err(unsupported("dump a domain's core"))
    }
    /// Starts a domain from a file written by `save`.
    fn restore(&self, path: &Path) -> Result<Domain>;
    /// [`Driver::restore`] with options.
    fn restore_with(&self, path: &Path, options: RestoreOptions) -> Result<Domain> {
        if options == RestoreOptions::default() {
            return self.restore(path);
        }
        Err(unsupported("restore with another definition or state"))
    }
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
    /// The source's part of a migration its client drives (libvirt's
    /// Perform without `--p2p`): streams the domain to `uri` (`tcp:HOST:
    /// PORT` of a destination's [`Driver::migrate_incoming`]); the guest
    /// then waits paused under the job for [`Driver::migrate_confirm`].
    /// On an error the guest runs here again.
    fn migrate_perform(&self, dom: &Domain, uri: &str, options: MigrateOptions) -> Result<()> {
        let _ = (dom, uri, options);
        Err(unsupported("perform a migration its client drives"))
    }
    /// Ends the migration [`Driver::migrate_perform`] left waiting: the
    /// copy here stops (`Done`; the definition removed with
    /// `undefine_source`), the guest runs here again (`Cancelled`), or
    /// stays paused (`Abandoned`).
    fn migrate_confirm(
        &self,
        dom: &Domain,
        how: super::migration::Confirmation,
        undefine_source: bool,
    ) -> Result<()> {
        let _ = (dom, how, undefine_source);
        Err(unsupported("confirm a migration its client drives"))
    }
    /// What this manager holds of domain `uuid` in a migration (see
    /// [`IncomingState`]).
    fn migrate_incoming_state(&self, uuid: Uuid) -> Result<IncomingState>;

    /// The domain's asynchronous job (a save, a restore) and its
    /// progress; `None` when none runs. Any state; never waits for a job.
    fn job_info(&self, dom: &Domain) -> Result<Option<JobInfo>>;
    /// The domain's last finished asynchronous job (save, restore,
    /// migration, snapshot) with its figures at the end, as virsh's
    /// `domjobinfo --completed`; `None` when none ended since the manager
    /// knows the domain.
    fn job_completed(&self, dom: &Domain) -> Result<Option<CompletedJob>>;
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
    /// Brings vCPUs `ids` online (`enable`) or takes them away (virsh's
    /// `setvcpu`): live, one vCPU hot-plugged into its own slot or
    /// unplugged (a vCPU that came with the machine cannot be); in the
    /// definition, their `<vcpus>` entries, hotpluggable from then on.
    /// vCPU 0 is never changed (`InvalidArgument`).
    fn set_vcpu(&self, dom: &Domain, ids: &[u32], enable: bool, flags: ModifyFlags) -> Result<()> {
        let _ = (dom, ids, enable, flags);
        Err(unsupported("change one vCPU"))
    }
    /// Sets `<vcpu>`'s maximum: in the definition only (`OperationInvalid`
    /// for `live`); the online count is lowered to fit.
    fn set_max_vcpus(&self, dom: &Domain, count: u32, flags: ModifyFlags) -> Result<()>;
    /// Sets how often, in seconds, the guest's balloon driver reports its
    /// memory figures (virsh's `dommemstat --period`; 0 stops them): live
    /// as QEMU's `guest-stats-polling-interval`, in the definition as
    /// `<memballoon><stats period>`. A domain without a balloon
    /// (`<memballoon model='none'>`) refuses it (`OperationInvalid`).
    fn set_memory_stats_period(
        &self,
        dom: &Domain,
        seconds: u32,
        flags: ModifyFlags,
    ) -> Result<()> {
        let _ = (dom, seconds, flags);
        Err(unsupported("set the balloon's statistics period"))
    }
    /// Changes `<memtune>` (virsh's `memtune` with values): live, the
    /// running or paused QEMU's memory cgroup (made for it if it started
    /// without one) and the live definition; in the definition, its
    /// `<memtune>`. See [`ModifyFlags`] for where it applies. The hard
    /// limit may not end above the swap hard limit (`InvalidArgument`);
    /// a limit the kernel refuses (a hard limit below what QEMU uses) is
    /// `OperationFailed`; a host without a memory cgroup is `NoSupport`.
    /// Nothing changes when an error is returned.
    fn set_memtune(&self, dom: &Domain, change: &MemTuneChange, flags: ModifyFlags) -> Result<()> {
        let _ = (dom, change, flags);
        Err(unsupported("change memory tuning"))
    }
    /// What the running QEMU holds for each disk with a drive, in the
    /// definition's order: the I/O throttle in force (`<iotune>`, or
    /// what QEMU was told since) and the I/O status. Running or paused.
    fn disk_runtime(&self, dom: &Domain) -> Result<Vec<super::DiskRuntime>> {
        let _ = dom;
        Err(unsupported("read the drives of a running domain"))
    }
    /// Changes `<blkiotune>` (virsh's `blkiotune` with values), merged
    /// device by device as libvirt does: live, the running or paused
    /// QEMU's block I/O cgroup (made for it if it started without one)
    /// and the live definition, each device named by a path that must be
    /// a block device (`InvalidArgument`); in the definition, its
    /// `<blkiotune>`. See [`ModifyFlags`] for where it applies. A weight
    /// on a kernel without block I/O weights is `NoSupport`, saying so.
    /// Nothing changes when an error is returned.
    fn set_blkiotune(
        &self,
        dom: &Domain,
        change: &BlkioTuneChange,
        flags: ModifyFlags,
    ) -> Result<()> {
        let _ = (dom, change, flags);
        Err(unsupported("change block I/O tuning"))
    }
    /// Changes disk `disk`'s I/O throttle (by target or file; virsh's
    /// `blkdeviotune` with values), merged with the one it has as
    /// libvirt merges it ([`BlockIoTuneChange`]): live, the running or
    /// paused QEMU's throttle (`block_set_io_throttle`; an empty drive
    /// gets it with its next medium) and the live definition; in the
    /// definition, its `<iotune>`; disks of the same group take the same
    /// limits. See [`ModifyFlags`] for where it applies. Refused with
    /// libvirt's rules: an unknown limit or one above 10^15, a total with
    /// its read or write part (`InvalidArgument`), a `_max` without its
    /// base or below it, a new group with no limit, a vhost-user disk
    /// (`ConfigUnsupported`), a disk the definition lacks
    /// (`InvalidArgument`). Nothing changes when an error is returned.
    fn set_block_iotune(
        &self,
        dom: &Domain,
        disk: &str,
        change: &super::BlockIoTuneChange,
        flags: ModifyFlags,
    ) -> Result<()> {
        let _ = (dom, disk, change, flags);
        Err(unsupported("change a disk's I/O throttle"))
    }
    /// The I/O threads of a running or paused domain as its QEMU lists
    /// them (`query-iothreads`), each with the host CPUs the kernel lets
    /// its thread run on (what `<iothreadpin>` set, or another pinning
    /// since).
    fn iothreads(&self, dom: &Domain) -> Result<Vec<super::IoThreadInfo>> {
        let _ = dom;
        Err(unsupported("list the I/O threads of a running domain"))
    }
    /// Adds, removes, pins or tunes an I/O thread of the running domain
    /// (Running or Paused: QMP `object-add`/`object-del`, the thread's
    /// CPU affinity, `qom-set`) and/or of its definition (`<iothreads>`,
    /// `<iothreadids>`, `<iothreadpin>`), with libvirt's refusals: id 0,
    /// an id in use or unknown, a thread a disk or controller uses, an
    /// empty CPU set (`InvalidArgument`); polling settings in the
    /// definition (`NoSupport`). Nothing changes when an error is
    /// returned.
    fn change_iothread(
        &self,
        dom: &Domain,
        change: &super::IoThreadChange,
        flags: ModifyFlags,
    ) -> Result<()> {
        let _ = (dom, change, flags);
        Err(unsupported("change the I/O threads of a domain"))
    }
    /// Lets vCPU `n`'s thread, or QEMU's other threads, run on the host
    /// CPUs `cpus` only (virsh's `vcpupin` and `emulatorpin` with a CPU
    /// list): in the running domain (Running or Paused: the threads'
    /// affinity, the threads QEMU names in `query-cpus-fast`) and/or in
    /// its definition (`<vcpupin>`, `<emulatorpin>`), with libvirt's
    /// refusals: an empty list, a vCPU that is not online (live) or past
    /// the maximum (config), a list of no host CPU (`InvalidArgument`).
    /// Nothing changes when an error is returned.
    fn pin_cpus(
        &self,
        dom: &Domain,
        target: super::PinTarget,
        cpus: &[u32],
        flags: ModifyFlags,
    ) -> Result<()> {
        let _ = (dom, target, cpus, flags);
        Err(unsupported("pin a domain's vCPUs or emulator threads"))
    }
    /// Sets what the guest's power-off, reboot or crash does (virsh's
    /// `set-lifecycle-action`) in the running domain (Running or Paused:
    /// QEMU's `set-action` and the manager's handling of its events)
    /// and/or in its definition. A combination the definition would
    /// refuse (on_reboot destroy with on_poweroff restart) is
    /// `ConfigUnsupported`; nothing changes when an error is returned.
    fn set_lifecycle_action(
        &self,
        dom: &Domain,
        event: super::LifecycleEvent,
        action: crate::model::LifecycleAction,
        flags: ModifyFlags,
    ) -> Result<()> {
        let _ = (dom, event, action, flags);
        Err(unsupported("change the lifecycle actions of a domain"))
    }
    /// The definition a save image holds, which its restore starts
    /// (without secrets unless `secure`). A file that is not a save
    /// image is `InvalidArgument`; a domain without a managed save
    /// image `OperationInvalid`.
    fn save_image_xml(&self, image: &super::SaveImage, secure: bool) -> Result<String> {
        let _ = (image, secure);
        Err(unsupported("read the definition of a save image"))
    }
    /// Replaces the definition a save image holds (its restore then
    /// starts `xml`), and, when `running` is given, whether the restore
    /// lets the vCPUs run. `xml` must describe the same machine
    /// (`InvalidArgument`) and fit in the image's header
    /// (`OperationFailed`); the image is otherwise unchanged.
    fn save_image_define(
        &self,
        image: &super::SaveImage,
        xml: &str,
        running: Option<bool>,
    ) -> Result<()> {
        let _ = (image, xml, running);
        Err(unsupported("change the definition of a save image"))
    }
    /// Starts measuring how fast the running domain's guest dirties its
    /// memory, over `seconds` (1 to 60, else `ConfigUnsupported`), by
    /// `mode` (dirty-ring needs KVM's dirty ring: `NoSupport`);
    /// [`Driver::dirty_rate`] reads the result.
    fn dirty_rate_calc(
        &self,
        dom: &Domain,
        seconds: i32,
        mode: super::DirtyRateMode,
    ) -> Result<()> {
        let _ = (dom, seconds, mode);
        Err(unsupported("measure the dirty page rate of a domain"))
    }
    /// The last dirty page rate measurement of a running domain.
    fn dirty_rate(&self, dom: &Domain) -> Result<super::DirtyRate> {
        let _ = dom;
        Err(unsupported("read the dirty page rate of a domain"))
    }
    /// `size` bytes of disk `disk` (its target or file) from `offset`
    /// (libvirt's `virDomainBlockPeek`), read from its source on the
    /// host: raw images only (`NoSupport` for another format); fewer
    /// bytes there is `InvalidArgument`.
    fn block_peek(&self, dom: &Domain, disk: &str, offset: u64, size: usize) -> Result<Vec<u8>> {
        let _ = (dom, disk, offset, size);
        Err(unsupported("read a disk's bytes"))
    }
    /// `size` bytes of a running or paused domain's memory from `offset`
    /// (libvirt's `virDomainMemoryPeek`): a guest physical address, or
    /// a virtual one as vCPU 0 maps it; QEMU saves them (`pmemsave`,
    /// `memsave`).
    fn memory_peek(
        &self,
        dom: &Domain,
        offset: u64,
        size: usize,
        physical: bool,
    ) -> Result<Vec<u8>> {
        let _ = (dom, offset, size, physical);
        Err(unsupported("read a domain's memory"))
    }
    /// The most MiB/s a migration of the domain may use when it does not
    /// say (virsh's `migrate-getspeed`): what
    /// [`Driver::migrate_set_max_speed`] set while this manager runs, else
    /// [`MIGRATE_SPEED_UNLIMITED`](super::MIGRATE_SPEED_UNLIMITED).
    fn migrate_max_speed(&self, dom: &Domain) -> Result<u64> {
        let _ = dom;
        Err(unsupported("read the migration speed"))
    }
    /// Sets the most MiB/s a migration of the domain may use when it does
    /// not say (virsh's `migrate-setspeed`): of a running or paused
    /// domain, also QEMU's `max-bandwidth` at once (a migration under way
    /// slows down or speeds up). Above
    /// [`MIGRATE_SPEED_UNLIMITED`](super::MIGRATE_SPEED_UNLIMITED):
    /// `LimitExceeded`.
    fn migrate_set_max_speed(&self, dom: &Domain, mib_s: u64) -> Result<()> {
        let _ = (dom, mib_s);
        Err(unsupported("set the migration speed"))
    }
    /// The most milliseconds the switchover of a migration of the
    /// running or paused domain may stop the guest (virsh's
    /// `migrate-getmaxdowntime`): QEMU's `downtime-limit`, which QEMU
    /// keeps until it ends.
    fn migrate_max_downtime(&self, dom: &Domain) -> Result<u64> {
        let _ = dom;
        Err(unsupported("read the migration downtime"))
    }
    /// Sets the most milliseconds the switchover of a migration of the
    /// running or paused domain may stop the guest (virsh's
    /// `migrate-setmaxdowntime`), also for a migration under way. Above
    /// QEMU's bound (2000 s): QEMU's refusal, `OperationFailed`.
    fn migrate_set_max_downtime(&self, dom: &Domain, ms: u64) -> Result<()> {
        let _ = (dom, ms);
        Err(unsupported("set the migration downtime"))
    }
    /// The bytes of the XBZRLE cache a compressed migration of the running
    /// or paused domain uses (virsh's `migrate-compcache`): QEMU's
    /// `xbzrle-cache-size`.
    fn migrate_compression_cache(&self, dom: &Domain) -> Result<u64> {
        let _ = dom;
        Err(unsupported("read the migration compression cache"))
    }
    /// Sets the bytes of the XBZRLE cache (virsh's `migrate-compcache
    /// --size`); QEMU refuses a size that is not a power of two of at
    /// least a page (`OperationFailed`).
    fn migrate_set_compression_cache(&self, dom: &Domain, bytes: u64) -> Result<()> {
        let _ = (dom, bytes);
        Err(unsupported("set the migration compression cache"))
    }
    /// Switches the outgoing migration of the domain, started with
    /// [`MigrateOptions::postcopy`](super::MigrateOptions::postcopy), to
    /// post-copy (virsh's `migrate-postcopy`): the destination runs the
    /// guest while the rest of its memory follows. No migration under
    /// way, or one without `postcopy`: `OperationInvalid`.
    fn migrate_start_postcopy(&self, dom: &Domain) -> Result<()> {
        let _ = dom;
        Err(unsupported("switch a migration to post-copy"))
    }
    /// The statistics of a running or paused domain (virsh's `domstats`);
    /// of a shut-off one, only the state.
    fn stats(&self, dom: &Domain) -> Result<DomainStats>;
    /// Runs one QMP command (a JSON object `{"execute": ...}`) on the
    /// domain's QEMU and returns QEMU's answer as JSON, as virsh's
    /// `qemu-monitor-command`. What it changes, qvirt does not know: the
    /// domain is marked tainted in its log and the manager's.
    fn qemu_monitor_command(&self, dom: &Domain, command: &str) -> Result<String>;
    /// What the manager cannot vouch for in a running domain, as libvirt's
    /// `virDomainGetMessages` words it (`tainted: custom configuration
    /// parameters specified` for `<qemu:commandline>`, `tainted: custom
    /// monitor control commands issued` after
    /// [`Driver::qemu_monitor_command`]); empty for a shut-off domain.
    /// Kept across a manager restart, gone when the domain stops.
    fn messages(&self, dom: &Domain) -> Result<Vec<String>>;
    /// Plugs in the device `xml` describes (one device element, as
    /// libvirt's `virDomainAttachDeviceFlags`). A disk, an interface, an
    /// rng, a memory device, a watchdog or an input plugs into a running
    /// domain; the other types libvirt attaches (controllers, serial
    /// ports and channels, host devices, ...) change the persistent
    /// definition only, under libvirt's rules, and their live attach is
    /// `ConfigUnsupported` naming them.
    /// Live (running or paused): the device is added to the running QEMU
    /// (`blockdev-add`, `netdev_add`, `device_add`) on a free
    /// hot-pluggable PCI slot (pci.0 or a bridge on i440fx, a free
    /// `pcie-root-port` on q35), a SCSI controller or a USB port, and the
    /// live definition shows it with its address; in the definition, it is
    /// added there. See [`ModifyFlags`] for where it applies; `config` on
    /// a transient domain is `OperationInvalid`. A device that cannot be
    /// plugged in (a controller, a host device) or in that way is
    /// `ConfigUnsupported` naming it; a target or MAC address the domain
    /// has already is `ConfigInvalid`; no free slot is `OperationInvalid`.
    /// Nothing changes when an error is returned.
    fn attach_device(&self, dom: &Domain, xml: &str, flags: ModifyFlags) -> Result<()>;
    /// Unplugs the device `xml` describes: a `<disk>` by its target, an
    /// `<interface>` by its MAC address (or, without one, the only
    /// interface of its type), as libvirt's `virDomainDetachDeviceFlags`.
    /// Live, QEMU is asked to remove it (`device_del`) and the guest must
    /// let it go; then its block nodes or network backend are removed.
    /// A guest that does not let go within the deadline is `Timeout`, and
    /// the device stays in the live definition until the guest releases
    /// it (QEMU's `DEVICE_DELETED` then finishes the unplug). A device
    /// the domain does not have is `InvalidArgument`.
    fn detach_device(&self, dom: &Domain, xml: &str, flags: ModifyFlags) -> Result<()>;
    /// Unplugs the device whose alias is `alias`, as libvirt's
    /// `virDomainDetachDeviceAlias`: live, any alias the running domain's
    /// XML shows (`virtio-disk1`, `net0`, a user's `ua-...`); in the
    /// definition, a user alias. The device goes as with
    /// [`Driver::detach_device`] (a disk or an interface; other devices
    /// are `ConfigUnsupported`). An alias no device has is
    /// `Internal` "internal error: no device found with alias ...",
    /// libvirt's error.
    fn detach_device_alias(&self, dom: &Domain, alias: &str, flags: ModifyFlags) -> Result<()>;
    /// Changes a device in place, as libvirt's
    /// `virDomainUpdateDeviceFlags`: the medium of a cdrom or floppy
    /// `<disk>` (as [`Driver::change_media`]), the `<link state>` of an
    /// `<interface>` (QEMU's `set_link`, found by MAC address) and its
    /// `<bandwidth>` (its tap shaped again with `tc`), or the
    /// password and `passwdValidTo` of a `<graphics>` (QEMU's
    /// `set_password` and `expire_password`; a password left out is
    /// cleared, as libvirt clears it). Live and in the definition as
    /// [`ModifyFlags`] say. Any other change of the element is
    /// `NoSupport` naming what would change; a device the domain does not
    /// have is `InvalidArgument`. Nothing changes when an error is
    /// returned.
    fn update_device(&self, dom: &Domain, xml: &str, flags: ModifyFlags) -> Result<()>;
    // Storage pools. A pool is a directory of volumes; `default` (under
    // the state directory's `images/`) exists from the first call of any
    // of these. Unknown pools are `NoPool`.

    /// Every pool with its info, by name. Any state.
    fn list_pools(&self) -> Result<Vec<PoolSummary>> {
        Err(unsupported("list storage pools"))
    }
    /// The pool named `name`. Any state.
    fn pool_lookup_by_name(&self, name: &str) -> Result<Pool> {
        let _ = name;
        Err(unsupported("look up storage pools"))
    }
    /// Defines (or redefines, same name and UUID, while inactive) a
    /// persistent pool from `<pool>` XML.
    fn pool_define_xml(&self, xml: &str) -> Result<Pool> {
        let _ = xml;
        Err(unsupported("define storage pools"))
    }
    /// Makes the pool's directory (`pool-build`), with the definition's
    /// permissions. Inactive only; a directory already there is checked,
    /// not changed.
    fn pool_build(&self, pool: &Pool) -> Result<()> {
        let _ = pool;
        Err(unsupported("build storage pools"))
    }
    /// Starts a pool. Inactive only; its directory must exist, be a
    /// directory, belong to this user and not be writable by others.
    fn pool_start(&self, pool: &Pool) -> Result<()> {
        let _ = pool;
        Err(unsupported("start storage pools"))
    }
    /// Stops a pool (its files stay). Running only.
    fn pool_destroy(&self, pool: &Pool) -> Result<()> {
        let _ = pool;
        Err(unsupported("stop storage pools"))
    }
    /// Removes a pool's definition (its files stay). Inactive only.
    fn pool_undefine(&self, pool: &Pool) -> Result<()> {
        let _ = pool;
        Err(unsupported("undefine storage pools"))
    }
    /// State and sizes. Any state.
    fn pool_info(&self, pool: &Pool) -> Result<PoolInfo> {
        let _ = pool;
        Err(unsupported("query storage pools"))
    }
    /// Looks at the pool's directory again. Running only.
    fn pool_refresh(&self, pool: &Pool) -> Result<()> {
        let _ = pool;
        Err(unsupported("refresh storage pools"))
    }
    /// The pool's XML, with its sizes while running. Any state.
    fn pool_xml(&self, pool: &Pool) -> Result<String> {
        let _ = pool;
        Err(unsupported("describe storage pools"))
    }
    /// Sets whether the pool starts with the manager. Any state.
    fn pool_set_autostart(&self, pool: &Pool, on: bool) -> Result<()> {
        let _ = (pool, on);
        Err(unsupported("mark storage pools autostart"))
    }

    // Volumes: files in a running pool, made and inspected with qemu-img;
    // their format is the one they were made with (raw for files qvirt
    // did not make), never probed. Unknown volumes are `NoVolume`.

    /// The volumes of a running pool, by name.
    fn list_volumes(&self, pool: &Pool) -> Result<Vec<Volume>> {
        let _ = pool;
        Err(unsupported("list volumes"))
    }
    /// The volume `name` of a running pool.
    fn vol_lookup_by_name(&self, pool: &Pool, name: &str) -> Result<Volume> {
        let _ = (pool, name);
        Err(unsupported("look up volumes"))
    }
    /// The volume whose file is `path`, in any running pool.
    fn vol_lookup_by_path(&self, path: &std::path::Path) -> Result<Volume> {
        let _ = path;
        Err(unsupported("look up volumes"))
    }
    /// Makes a volume in a running pool from `<volume>` XML
    /// (`vol-create`, `vol-create-as`). A name that exists, a backing
    /// file that does not, or no space left: an error, and nothing made.
    fn vol_create_xml(&self, pool: &Pool, xml: &str) -> Result<Volume> {
        let _ = (pool, xml);
        Err(unsupported("create volumes"))
    }
    /// Makes a volume in a running pool from `<volume>` XML holding a
    /// copy of `from`'s data (`vol-clone`). `from` must not be in use by
    /// a running domain.
    fn vol_clone(&self, pool: &Pool, xml: &str, from: &Volume) -> Result<Volume> {
        let _ = (pool, xml, from);
        Err(unsupported("clone volumes"))
    }
    /// [`Driver::vol_create_xml`] (`from`: `None`) or
    /// [`Driver::vol_clone`] (`from`: the volume copied), the image made
    /// as `flags` say (libvirt's `virStorageVolCreateXML` and
    /// `virStorageVolCreateXMLFrom` with their flags).
    fn vol_create_with(
        &self,
        pool: &Pool,
        xml: &str,
        from: Option<&Volume>,
        flags: VolCreateFlags,
    ) -> Result<Volume> {
        match (from, flags == VolCreateFlags::NONE) {
            (None, true) => self.vol_create_xml(pool, xml),
            (Some(f), true) => self.vol_clone(pool, xml, f),
            (_, false) => Err(unsupported("preallocate volumes")),
        }
    }
    /// Deletes a volume's file. Refused (`OperationInvalid`, naming the
    /// domain) while a running domain uses it.
    fn vol_delete(&self, vol: &Volume) -> Result<()> {
        let _ = vol;
        Err(unsupported("delete volumes"))
    }
    /// Sizes and format.
    fn vol_info(&self, vol: &Volume) -> Result<VolumeInfo> {
        let _ = vol;
        Err(unsupported("query volumes"))
    }
    /// The volume's XML.
    fn vol_xml(&self, vol: &Volume) -> Result<String> {
        let _ = vol;
        Err(unsupported("describe volumes"))
    }
    /// Changes the volume's capacity to `capacity` bytes (or by it, with
    /// [`ResizeFlags::DELTA`]); smaller only with [`ResizeFlags::SHRINK`].
    /// Refused while a running domain uses it.
    fn vol_resize(&self, vol: &Volume, capacity: u64, flags: ResizeFlags) -> Result<()> {
        let _ = (vol, capacity, flags);
        Err(unsupported("resize volumes"))
    }
    /// Opens an upload into the volume's file at `offset`, of `length`
    /// bytes (`None`: up to its end, which the upload may extend). Refused
    /// while a running domain uses it.
    fn vol_upload(
        &self,
        vol: &Volume,
        offset: u64,
        length: Option<u64>,
    ) -> Result<Box<dyn VolumeStream>> {
        let _ = (vol, offset, length);
        Err(unsupported("upload volumes"))
    }
    /// Opens a download of the volume's file from `offset`, `length`
    /// bytes (`None`: to its end).
    fn vol_download(
        &self,
        vol: &Volume,
        offset: u64,
        length: Option<u64>,
    ) -> Result<Box<dyn VolumeStream>> {
        let _ = (vol, offset, length);
        Err(unsupported("download volumes"))
    }

    // Snapshots of a persistent domain, kept by the manager (one file
    // each) and surviving its restarts. Unknown snapshots are
    // `NoSnapshot`.

    /// Takes a snapshot described by `<domainsnapshot>` XML: internal
    /// (memory with the disks while running or paused) by default,
    /// external overlays with [`SnapshotCreateFlags::DISK_ONLY`]. Any
    /// state but transient; an asynchronous job ([`Driver::job_info`],
    /// [`Driver::job_abort`]) that leaves no snapshot when it fails or is
    /// aborted.
    fn snapshot_create_xml(
        &self,
        dom: &Domain,
        xml: &str,
        flags: SnapshotCreateFlags,
    ) -> Result<Snapshot> {
        let _ = (dom, xml, flags);
        Err(unsupported("take snapshots"))
    }
    /// Every snapshot of the domain, oldest first. Any state.
    fn snapshot_list(&self, dom: &Domain) -> Result<Vec<SnapshotInfo>> {
        let _ = dom;
        Err(unsupported("list snapshots"))
    }
    /// The snapshot `name` of the domain. Any state.
    fn snapshot_lookup(&self, dom: &Domain, name: &str) -> Result<Snapshot> {
        let _ = (dom, name);
        Err(unsupported("look up snapshots"))
    }
    /// The domain's current snapshot, if any. Any state.
    fn snapshot_current(&self, dom: &Domain) -> Result<Option<Snapshot>> {
        let _ = dom;
        Err(unsupported("look up snapshots"))
    }
    /// The snapshot's info. Any state.
    fn snapshot_info(&self, snap: &Snapshot) -> Result<SnapshotInfo> {
        let _ = snap;
        Err(unsupported("query snapshots"))
    }
    /// The snapshot's XML, with the domain's definition then. Any state.
    fn snapshot_xml(&self, snap: &Snapshot) -> Result<String> {
        let _ = snap;
        Err(unsupported("describe snapshots"))
    }
    /// Brings the domain back to the snapshot: disks, definition, and for
    /// a snapshot with memory the running guest. Any state; an
    /// asynchronous job. An external snapshot reverts only while its
    /// overlays are the disks' active layers.
    fn snapshot_revert(&self, snap: &Snapshot, flags: SnapshotRevertFlags) -> Result<()> {
        let _ = (snap, flags);
        Err(unsupported("revert to snapshots"))
    }
    /// Deletes the snapshot (its children move to its parent) or, with
    /// flags, its descendants too or only its record. An external
    /// snapshot's overlays are merged with `blockcommit`, so only its
    /// record can be deleted. Any state.
    fn snapshot_delete(&self, snap: &Snapshot, flags: SnapshotDeleteFlags) -> Result<()> {
        let _ = (snap, flags);
        Err(unsupported("delete snapshots"))
    }

    // Block jobs on a running domain's disk, named by its target (`vda`)
    // or source path.

    /// Starts merging the disk's overlays into its base image. Running or
    /// paused; only an active commit ([`BlockCommitFlags::ACTIVE`]).
    fn block_commit(&self, dom: &Domain, disk: &str, flags: BlockCommitFlags) -> Result<()> {
        let _ = (dom, disk, flags);
        Err(unsupported("commit block jobs"))
    }
    /// Starts copying the disk's backing data into its active layer,
    /// which then stands alone. Running or paused.
    fn block_pull(&self, dom: &Domain, disk: &str) -> Result<()> {
        let _ = (dom, disk);
        Err(unsupported("pull block jobs"))
    }
    /// Copies the disk to `copy.dest`, then mirrors the guest's writes
    /// there until `block_job_abort`: a pivot moves the disk onto the copy
    /// (live definition only). Running or paused.
    fn block_copy(&self, dom: &Domain, disk: &str, copy: &BlockCopy) -> Result<()> {
        let _ = (dom, disk, copy);
        Err(unsupported("copy disks"))
    }
    /// The disk's block job, `None` when none runs (a finished pull has
    /// then been settled). Running or paused.
    fn block_job_info(&self, dom: &Domain, disk: &str) -> Result<Option<BlockJobInfo>> {
        let _ = (dom, disk);
        Err(unsupported("query block jobs"))
    }
    /// Ends the disk's block job: cancels it, or with `pivot` completes a
    /// ready active commit, the disk then using its base image (in the
    /// live and persistent definitions). Running or paused.
    fn block_job_abort(&self, dom: &Domain, disk: &str, pivot: bool) -> Result<()> {
        let _ = (dom, disk, pivot);
        Err(unsupported("end block jobs"))
    }
    /// Limits the disk's block job to `bytes_per_s` (0: none), at once.
    /// Running or paused; a disk without a job: `OperationInvalid`.
    fn block_job_set_speed(&self, dom: &Domain, disk: &str, bytes_per_s: u64) -> Result<()> {
        let _ = (dom, disk, bytes_per_s);
        Err(unsupported("limit block jobs"))
    }
    /// The disk's sizes. Any state.
    fn block_info(&self, dom: &Domain, disk: &str) -> Result<BlockInfo> {
        let _ = (dom, disk);
        Err(unsupported("query block devices"))
    }
    /// Resizes the disk's image to `bytes` (`blockresize`; qcow2 rounded
    /// up to 512), seen by the guest at once. Running or paused; an
    /// empty or read-only disk: `OperationInvalid`.
    fn block_resize(&self, dom: &Domain, disk: &str, bytes: u64) -> Result<()> {
        let _ = (dom, disk, bytes);
        Err(unsupported("resize a disk"))
    }
    /// Sets the write threshold of disk `dev` (its target) of a running
    /// or paused domain to `bytes` (virsh's `domblkthreshold`): once a
    /// write reaches past it in the image's file, subscribers hear
    /// [`EventKind::BlockThreshold`](super::EventKind::BlockThreshold)
    /// once; 0 clears it. An unknown disk: `InvalidArgument`.
    fn set_block_threshold(&self, dom: &Domain, dev: &str, bytes: u64) -> Result<()> {
        let _ = (dom, dev, bytes);
        Err(unsupported("set a block threshold"))
    }

    // Secrets (libvirt's secret driver): a definition (`<secret>`, what
    // it is for) and a value of bytes kept apart from it, which a
    // network disk's `<auth>` names and the manager hands to QEMU. A
    // persistent secret's value is kept in a file only the manager can
    // read; an ephemeral one lives in the manager's memory only. Unknown
    // secrets are `NoSecret`.

    /// Every secret, ordered by UUID.
    fn list_secrets(&self) -> Result<Vec<Secret>> {
        Err(unsupported("list secrets"))
    }
    /// The secret with this UUID.
    fn secret_lookup_by_uuid(&self, uuid: Uuid) -> Result<Secret> {
        let _ = uuid;
        Err(unsupported("look up secrets"))
    }
    /// The secret for this usage (`ceph` and a client name, ...).
    fn secret_lookup_by_usage(&self, usage: SecretUsageType, id: &str) -> Result<Secret> {
        let _ = (usage, id);
        Err(unsupported("look up secrets"))
    }
    /// Defines a secret from `<secret>` XML, or redefines the one with
    /// its UUID (same usage; a private secret stays private). Two secrets
    /// never share a usage.
    fn secret_define_xml(&self, xml: &str) -> Result<Secret> {
        let _ = xml;
        Err(unsupported("define secrets"))
    }
    /// The secret's `<secret>` XML (never its value).
    fn secret_xml(&self, secret: &Secret) -> Result<String> {
        let _ = secret;
        Err(unsupported("describe secrets"))
    }
    /// Sets the secret's value (at most 64 KiB).
    fn secret_set_value(&self, secret: &Secret, value: &[u8]) -> Result<()> {
        let _ = (secret, value);
        Err(unsupported("set secret values"))
    }
    /// The secret's value: `OperationDenied` for a private secret and on
    /// a read-only connection, `NoSecret` when it has none yet.
    fn secret_get_value(&self, secret: &Secret) -> Result<Vec<u8>> {
        let _ = secret;
        Err(unsupported("read secret values"))
    }
    /// Removes the secret and its value.
    fn secret_undefine(&self, secret: &Secret) -> Result<()> {
        let _ = secret;
        Err(unsupported("undefine secrets"))
    }
}
