//! The command line grammar: global options and one subcommand per verb,
//! with virsh's names and flags.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Manage QEMU virtual machines (a virsh-like command line for qvirt).
#[derive(Debug, Parser)]
#[command(name = "qvirt", version, about, max_term_width = 100)]
pub struct Cli {
    /// The connection URI. Default: $QVIRT_DEFAULT_URI, else
    /// $LIBVIRT_DEFAULT_URI, else qemu:///system as root and
    /// qemu:///session for anyone else.
    #[arg(short = 'c', long = "connect", value_name = "URI", global = true)]
    pub connect: Option<String>,
    /// Say which URI is used, and other details, on stderr.
    #[arg(short = 'v', long, global = true)]
    pub verbose: bool,
    /// The verb.
    #[command(subcommand)]
    pub command: Command,
}

/// A `DOMAIN` argument: a name, a running id or a UUID.
#[derive(Debug, clap::Args)]
pub struct DomArg {
    /// The domain: its name, running id or UUID.
    #[arg(value_name = "DOMAIN")]
    pub domain: String,
}

/// `domdisplay`'s options.
#[derive(Debug, clap::Args)]
pub struct DomDisplayArgs {
    /// The domain: its name, running id or UUID.
    #[arg(value_name = "DOMAIN")]
    pub domain: String,
    /// Only a display of this type (vnc, spice).
    #[arg(long = "type", value_name = "TYPE")]
    pub kind: Option<String>,
}

/// `list`'s options, as virsh's: which domains (groups of filters are
/// combined with "and", the flags inside a group with "or") and how to
/// print them.
#[derive(Debug, Default, clap::Args)]
pub struct ListArgs {
    /// Also list shut-off domains.
    #[arg(long)]
    pub all: bool,
    /// List shut-off domains instead of running ones.
    #[arg(long)]
    pub inactive: bool,
    /// Only persistent domains.
    #[arg(long)]
    pub persistent: bool,
    /// Only transient domains.
    #[arg(long)]
    pub transient: bool,
    /// Only domains with a managed save image.
    #[arg(long)]
    pub with_managed_save: bool,
    /// Only domains without a managed save image.
    #[arg(long)]
    pub without_managed_save: bool,
    /// Only domains that start with the manager.
    #[arg(long)]
    pub autostart: bool,
    /// Only domains that do not start with the manager.
    #[arg(long)]
    pub no_autostart: bool,
    /// Only running domains.
    #[arg(long)]
    pub state_running: bool,
    /// Only paused domains.
    #[arg(long)]
    pub state_paused: bool,
    /// Only shut-off domains (implies --inactive unless --all).
    #[arg(long)]
    pub state_shutoff: bool,
    /// Only domains in another state (crashed, shutting down, suspended
    /// by power management).
    #[arg(long)]
    pub state_other: bool,
    /// Print UUIDs (alone, or before the id and name when those are asked).
    #[arg(long, conflicts_with = "table")]
    pub uuid: bool,
    /// Print names (after the UUID and id when those are asked).
    #[arg(long, conflicts_with = "table")]
    pub name: bool,
    /// Print running ids (alone: running domains only).
    #[arg(long, conflicts_with = "table")]
    pub id: bool,
    /// Print the table (the default).
    #[arg(long)]
    pub table: bool,
    /// Show "saved" as the state of shut-off domains with a managed save
    /// image.
    #[arg(long)]
    pub managed_save: bool,
    /// Add each domain's title to the table.
    #[arg(long)]
    pub title: bool,
    /// Print a JSON array of objects with every field `dominfo --json` has
    /// (and `title` with --title).
    #[arg(long, conflicts_with_all = ["uuid", "name", "id", "table"])]
    pub json: bool,
}

/// virsh's `--live`, `--config`, `--current`.
#[derive(Debug, Default, clap::Args)]
pub struct WhereArgs {
    /// Change the running domain.
    #[arg(long)]
    pub live: bool,
    /// Change the persistent definition.
    #[arg(long, visible_alias = "persistent")]
    pub config: bool,
    /// The running domain if it runs, else the definition (the default).
    #[arg(long)]
    pub current: bool,
}

/// The verbs.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Storage pools and volumes.
    #[command(flatten)]
    Storage(crate::storage::StorageCommand),
    /// Snapshots and block jobs.
    #[command(flatten)]
    Snapshot(crate::snapshots::SnapshotCommand),
    /// Secrets and their values.
    #[command(flatten)]
    Secret(crate::secrets::SecretCommand),
    /// What the guest agent answers.
    #[command(flatten)]
    Agent(crate::agent::AgentCommand),
    /// The guest's trim, vCPUs and power.
    #[command(flatten)]
    GuestPm(crate::guestpm::GuestPmCommand),
    /// Memory and block I/O tuning.
    #[command(flatten)]
    Tune(crate::tune::TuneCommand),
    /// I/O threads and lifecycle actions changed.
    #[command(flatten)]
    Change(crate::changes::ChangeCommand),
    /// A running domain's migration parameters and disk thresholds.
    #[command(flatten)]
    MigTune(crate::migtune::MigTuneCommand),
    /// List domains (running and paused ones unless --all).
    List(ListArgs),
    /// Define (or redefine) a persistent domain from an XML file.
    Define {
        /// The domain XML file (`-` reads stdin).
        file: PathBuf,
    },
    /// Edit a domain's persistent definition in $VISUAL or $EDITOR (vi),
    /// and define it again if it changed.
    Edit(DomArg),
    /// Set the memory a domain's guest has (through the balloon while it
    /// runs). SIZE is in KiB unless it has a unit (M, GiB, ...).
    #[command(name = "setmem")]
    SetMem {
        #[command(flatten)]
        dom: DomArg,
        /// The new size.
        size: String,
        #[command(flatten)]
        at: WhereArgs,
    },
    /// Set the most memory a domain may have (`<memory>`), in its
    /// definition.
    #[command(name = "setmaxmem")]
    SetMaxMem {
        #[command(flatten)]
        dom: DomArg,
        /// The new size (KiB unless it has a unit).
        size: String,
        #[command(flatten)]
        at: WhereArgs,
    },
    /// Set how many vCPUs are online (CPU hot-plug while it runs), or with
    /// --maximum the most it may have.
    #[command(name = "setvcpus")]
    SetVcpus {
        #[command(flatten)]
        dom: DomArg,
        /// The number of vCPUs.
        count: u32,
        /// Set the maximum (`<vcpu>`), in the definition.
        #[arg(long)]
        maximum: bool,
        #[command(flatten)]
        at: WhereArgs,
    },
    /// Bring vCPUs online by id or take them away (one at a time in a
    /// running domain, by CPU hot-plug; vCPU 0 stays).
    #[command(name = "setvcpu")]
    SetVcpu {
        #[command(flatten)]
        dom: DomArg,
        /// The vCPU ids, as a list (`1`, `2-3`, `1,3`).
        vcpulist: String,
        /// Bring them online.
        #[arg(long, conflicts_with = "disable", required_unless_present = "disable")]
        enable: bool,
        /// Take them away.
        #[arg(long)]
        disable: bool,
        #[command(flatten)]
        at: WhereArgs,
    },
    /// Show a domain's memory statistics (KiB), as the balloon reports them;
    /// with --period, set how often the guest reports them instead.
    #[command(name = "dommemstat")]
    DomMemStat {
        #[command(flatten)]
        dom: DomArg,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
        /// Seconds between the guest's reports (0 stops them), in the
        /// running domain and/or the definition (--live, --config).
        #[arg(long, value_name = "SECONDS")]
        period: Option<u32>,
        #[command(flatten)]
        at: WhereArgs,
    },
    /// Show domains' statistics by group (all groups when none is named).
    #[command(name = "domstats")]
    DomStats {
        /// The domains (all when none is named).
        domains: Vec<String>,
        /// The state group.
        #[arg(long)]
        state: bool,
        /// The cpu-total group.
        #[arg(long)]
        cpu_total: bool,
        /// The balloon group.
        #[arg(long)]
        balloon: bool,
        /// The vcpu group.
        #[arg(long)]
        vcpu: bool,
        /// The interface group.
        #[arg(long)]
        interface: bool,
        /// The block group.
        #[arg(long)]
        block: bool,
        /// Print JSON: an array of {name, stats}.
        #[arg(long)]
        json: bool,
    },
    /// Show a disk's I/O statistics (all disks summed without a device).
    #[command(name = "domblkstat")]
    DomBlkStat {
        #[command(flatten)]
        dom: DomArg,
        /// The disk: its target (vda) or source path.
        device: Option<String>,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Show a disk's capacity, allocation and physical size.
    #[command(name = "domblkinfo")]
    DomBlkInfo {
        #[command(flatten)]
        dom: DomArg,
        /// The disk: its target (vda) or source path.
        device: String,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Show a network interface's traffic (by its host device, vnetN).
    #[command(name = "domifstat")]
    DomIfStat {
        #[command(flatten)]
        dom: DomArg,
        /// The host device.
        interface: String,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Show a domain's CPU time, per vCPU and in total.
    #[command(name = "cpu-stats")]
    CpuStats {
        #[command(flatten)]
        dom: DomArg,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Send one QMP command (JSON) to a domain's QEMU; the domain is
    /// marked tainted in its log.
    #[command(name = "qemu-monitor-command")]
    QemuMonitor {
        #[command(flatten)]
        dom: DomArg,
        /// The command, e.g. '{"execute":"query-status"}'.
        command: String,
        /// Indent QEMU's answer.
        #[arg(long)]
        pretty: bool,
    },
    /// Print the URI of a running domain's display (vnc://ADDR:DISPLAY,
    /// spice://ADDR:PORT?tls-port=PORT).
    #[command(name = "domdisplay")]
    DomDisplay(DomDisplayArgs),
    /// Plug a disk into a domain (running: hot-plug; or its definition).
    #[command(name = "attach-disk")]
    AttachDisk(crate::hotplug::AttachDiskArgs),
    /// Unplug a disk, by target or source path.
    #[command(name = "detach-disk")]
    DetachDisk(crate::hotplug::DetachDiskArgs),
    /// Plug a network interface into a domain.
    #[command(name = "attach-interface")]
    AttachInterface(crate::hotplug::AttachInterfaceArgs),
    /// Unplug a network interface, by type (and MAC address).
    #[command(name = "detach-interface")]
    DetachInterface(crate::hotplug::DetachInterfaceArgs),
    /// Plug in the device an XML file describes (live: a disk, interface,
    /// rng, memory, watchdog, input, channel, virtio console, PCI serial
    /// port, virtiofs filesystem, redirdev, shmem or SCSI controller;
    /// other devices with --config).
    #[command(name = "attach-device")]
    AttachDevice(crate::hotplug::DeviceFileArgs),
    /// Unplug the device an XML file describes.
    #[command(name = "detach-device")]
    DetachDevice(crate::hotplug::DeviceFileArgs),
    /// Unplug the device with an alias (as the domain's XML shows it).
    #[command(name = "detach-device-alias")]
    DetachDeviceAlias(crate::hotplug::DeviceAliasArgs),
    /// Change a device in place from an XML file: a cdrom's medium, an
    /// interface's link state, a display's password.
    #[command(name = "update-device")]
    UpdateDevice(crate::hotplug::DeviceFileArgs),
    /// Change a memory device (a virtio-mem device's requested size), as
    /// virsh's update-memory-device.
    #[command(name = "update-memory-device")]
    UpdateMemoryDevice(crate::devices::UpdateMemoryArgs),
    /// Raise a non-maskable interrupt on the guest's CPUs.
    #[command(name = "inject-nmi")]
    InjectNmi(DomArg),
    /// Press keys together on the guest's keyboard (`KEY_LEFTALT KEY_SYSRQ
    /// KEY_H`, or numbers).
    #[command(name = "send-key")]
    SendKey {
        #[command(flatten)]
        dom: DomArg,
        /// The code set of the keys: linux (the default; `KEY_*` names or
        /// numbers) or qnum (QEMU's numbers).
        #[arg(long, default_value = "linux")]
        codeset: String,
        /// How long the keys are held, in milliseconds.
        #[arg(long, value_name = "MS", default_value_t = 0)]
        holdtime: u32,
        /// The keys, at most 16.
        #[arg(value_name = "KEYCODE", required = true, num_args = 1..)]
        keys: Vec<String>,
    },
    /// Show or change a domain's description, or with --title its title.
    #[command(name = "desc")]
    Desc {
        #[command(flatten)]
        dom: DomArg,
        #[command(flatten)]
        at: WhereArgs,
        /// The title rather than the description.
        #[arg(long)]
        title: bool,
        /// Change it in $VISUAL or $EDITOR (vi).
        #[arg(long, conflicts_with = "new_desc")]
        edit: bool,
        /// The new text (the words are joined by spaces); an empty text
        /// removes it.
        #[arg(long = "new-desc", num_args = 1.., allow_hyphen_values = true)]
        new_desc: Option<Vec<String>>,
    },
    /// Show, set or remove an element of a domain's `<metadata>`, by
    /// namespace URI.
    #[command(name = "metadata")]
    Metadata {
        #[command(flatten)]
        dom: DomArg,
        /// The namespace URI of the element.
        #[arg(value_name = "URI")]
        uri: String,
        #[command(flatten)]
        at: WhereArgs,
        /// The namespace prefix a new element is written with.
        #[arg(long)]
        key: Option<String>,
        /// Change it in $VISUAL or $EDITOR (vi).
        #[arg(long, conflicts_with_all = ["set", "remove"])]
        edit: bool,
        /// The new element (one XML element).
        #[arg(long, conflicts_with = "remove", value_name = "XML")]
        set: Option<String>,
        /// Remove the element.
        #[arg(long)]
        remove: bool,
    },
    /// Rename a shut-off domain (its UUID, disks and snapshots stay).
    #[command(name = "domrename")]
    DomRename {
        #[command(flatten)]
        dom: DomArg,
        /// The new name.
        #[arg(value_name = "NEW_NAME")]
        new_name: String,
    },
    /// Remove a domain's persistent definition.
    Undefine {
        #[command(flatten)]
        dom: DomArg,
        /// Also remove the UEFI variable store (NVRAM) file.
        #[arg(long, conflicts_with = "keep_nvram")]
        nvram: bool,
        /// Keep the UEFI variable store (NVRAM) file.
        #[arg(long)]
        keep_nvram: bool,
        /// Also remove the TPM state, even a persistent one.
        #[arg(long, conflicts_with = "keep_tpm")]
        tpm: bool,
        /// Keep the TPM state.
        #[arg(long)]
        keep_tpm: bool,
        /// Also remove the managed save image.
        #[arg(long)]
        managed_save: bool,
        /// Also delete the storage volumes of the domain's disks (shut off
        /// only; a disk that is no pool's volume is left, with a warning).
        #[arg(long, conflicts_with = "storage")]
        remove_all_storage: bool,
        /// Also delete these disks' volumes: targets or source paths,
        /// comma-separated.
        #[arg(long, value_name = "TARGETS")]
        storage: Option<String>,
        /// Also remove the domain's snapshot records (refused while
        /// snapshots exist without it).
        #[arg(long)]
        snapshots_metadata: bool,
    },
    /// Create and start a transient domain from an XML file.
    Create {
        /// The domain XML file (`-` reads stdin).
        file: PathBuf,
    },
    /// Start a defined domain.
    Start {
        #[command(flatten)]
        dom: DomArg,
        /// Attach to its serial console once it runs.
        #[arg(long)]
        console: bool,
        /// Leave it paused: its CPUs do not run until `resume`.
        #[arg(long)]
        paused: bool,
        /// Destroy it when this command's connection ends (with --console:
        /// when the console is left).
        #[arg(long)]
        autodestroy: bool,
    },
    /// Ask a domain's guest to power off (ACPI).
    Shutdown {
        #[command(flatten)]
        dom: DomArg,
        /// Wait until the domain is shut off.
        #[arg(long)]
        wait: bool,
        /// Seconds to wait (implies --wait). Default: 300 with --wait.
        #[arg(long, value_name = "SECONDS")]
        timeout: Option<u64>,
        /// How to ask: `acpi` (the power button, the default) or `agent`
        /// (the QEMU guest agent powers the guest off from inside);
        /// `agent,acpi` tries the agent, then the button.
        #[arg(long, value_name = "MODE")]
        mode: Option<String>,
    },
    /// Stop a domain at once.
    Destroy(DomArg),
    /// Ask a domain's guest to reboot (ACPI).
    Reboot {
        #[command(flatten)]
        dom: DomArg,
        /// How to ask: `acpi` (the power button, the default) or `agent`
        /// (the QEMU guest agent reboots the guest from inside);
        /// `agent,acpi` tries the agent, then the button.
        #[arg(long, value_name = "MODE")]
        mode: Option<String>,
    },
    /// Reset a domain, like pressing its reset button.
    Reset(DomArg),
    /// Pause a running domain.
    Suspend(DomArg),
    /// Resume a paused domain.
    Resume(DomArg),
    /// Save a domain's state to a file and stop it.
    Save {
        #[command(flatten)]
        dom: DomArg,
        /// The file to write.
        file: PathBuf,
        /// Write at most this many MiB per second (default: no limit).
        #[arg(long, value_name = "MiB/s")]
        bandwidth: Option<u64>,
        #[command(flatten)]
        state: RestoreState,
        /// The definition the restore starts (the same machine; paths
        /// may differ), from this file.
        #[arg(long, value_name = "FILE")]
        xml: Option<PathBuf>,
    },
    /// Write a core dump of a running domain: its whole state as QEMU's
    /// migration stream, or with --memory-only its memory as an ELF core
    /// (or a kdump file). The guest is paused meanwhile unless --live.
    Dump {
        #[command(flatten)]
        dom: DomArg,
        /// The file to write.
        file: PathBuf,
        /// Leave the guest running while it is dumped.
        #[arg(long)]
        live: bool,
        /// Stop the domain afterwards, as crashed.
        #[arg(long, conflicts_with = "reset")]
        crash: bool,
        /// Reset the guest afterwards.
        #[arg(long)]
        reset: bool,
        /// Only the guest's memory (QEMU's dump-guest-memory).
        #[arg(long)]
        memory_only: bool,
        /// With --memory-only: elf (the default), kdump-zlib, kdump-lzo,
        /// kdump-snappy or win-dmp.
        #[arg(long, value_name = "FORMAT")]
        format: Option<String>,
    },
    /// Start a domain from a file written by `save`.
    Restore {
        /// The saved state file.
        file: PathBuf,
        #[command(flatten)]
        state: RestoreState,
        /// Start this definition instead of the file's (the same machine;
        /// paths may differ).
        #[arg(long, value_name = "FILE")]
        xml: Option<PathBuf>,
    },
    /// Save a domain's state in qvirt's store; the next start resumes it.
    #[command(name = "managedsave")]
    ManagedSave {
        #[command(flatten)]
        dom: DomArg,
        /// Write at most this many MiB per second (default: no limit).
        #[arg(long, value_name = "MiB/s")]
        bandwidth: Option<u64>,
        #[command(flatten)]
        state: RestoreState,
    },
    /// Move a running domain to another host's manager (peer to peer).
    Migrate {
        /// The guest keeps running while its memory is copied.
        #[arg(long)]
        live: bool,
        /// Define the domain on the destination.
        #[arg(long)]
        persistent: bool,
        /// Remove the definition here afterwards.
        #[arg(long)]
        undefine_source: bool,
        /// Copy every writable disk to the destination.
        #[arg(long)]
        copy_storage_all: bool,
        /// Where the destination listens for the stream: tcp://ADDR[:PORT].
        #[arg(long, value_name = "URI")]
        migrateuri: Option<String>,
        /// The destination's definition (other disk paths).
        #[arg(long, value_name = "FILE")]
        xml: Option<PathBuf>,
        /// MiB/s at most for the memory stream.
        #[arg(long, value_name = "MiB/s")]
        bandwidth: Option<u64>,
        /// After this many seconds, suspend the guest so the copy ends.
        #[arg(long, value_name = "SECONDS")]
        timeout: Option<u64>,
        /// With --timeout: suspend the guest (the default).
        #[arg(long, conflicts_with = "timeout_postcopy")]
        timeout_suspend: bool,
        /// With --timeout: switch to post-copy instead.
        #[arg(long)]
        timeout_postcopy: bool,
        /// Let the migration switch to post-copy (migrate-postcopy asks).
        #[arg(long)]
        postcopy: bool,
        #[command(flatten)]
        dom: DomArg,
        /// The destination's URI (qemu+ssh://HOST/system, ...).
        #[arg(value_name = "DEST_URI")]
        dest: String,
    },
    /// Show the progress of a domain's long-running job (a save).
    #[command(name = "domjobinfo")]
    DomJobInfo {
        #[command(flatten)]
        dom: DomArg,
        /// The last job that ended (how, its figures, a migration's
        /// downtime) rather than the one running.
        #[arg(long)]
        completed: bool,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Abort a domain's long-running job; the domain stays as it was.
    #[command(name = "domjobabort")]
    DomJobAbort(DomArg),
    /// Delete a domain's managed save image.
    #[command(name = "managedsave-remove")]
    ManagedSaveRemove(DomArg),
    /// Mark a domain to start with the manager (or unmark it).
    Autostart {
        #[command(flatten)]
        dom: DomArg,
        /// Unmark it instead.
        #[arg(long)]
        disable: bool,
    },
    /// Show a domain's state, memory, vCPUs and flags.
    #[command(name = "dominfo")]
    DomInfo {
        #[command(flatten)]
        dom: DomArg,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Show a domain's state.
    #[command(name = "domstate")]
    DomState {
        #[command(flatten)]
        dom: DomArg,
        /// Also show why it is in that state.
        #[arg(long)]
        reason: bool,
        /// Print JSON instead (see the README for the shape).
        #[arg(long)]
        json: bool,
    },
    /// Print a domain's running id (`-` while shut off).
    #[command(name = "domid")]
    DomId(DomArg),
    /// Print a domain's UUID.
    #[command(name = "domuuid")]
    DomUuid(DomArg),
    /// Print a domain's name.
    #[command(name = "domname")]
    DomName(DomArg),
    /// Print a domain's XML (the live one while it runs).
    #[command(name = "dumpxml")]
    DumpXml {
        #[command(flatten)]
        dom: DomArg,
        /// Print the persistent definition instead of the live one.
        #[arg(long)]
        inactive: bool,
        /// Include secrets (the VNC password); refused on a read-only
        /// connection.
        #[arg(long)]
        security_info: bool,
        /// Leave out what qvirt adds by itself (the default USB
        /// controller and pci-root of an i440fx machine, a PS/2 keyboard,
        /// the socket paths it chose), as libvirt's migratable XML.
        #[arg(long)]
        migratable: bool,
        /// Print only what an XPath expression selects (location paths
        /// with predicates: `//disk/source/@file`).
        #[arg(long, value_name = "EXPRESSION")]
        xpath: Option<String>,
        /// With --xpath, wrap what is selected in one `<nodes>` element.
        #[arg(long, requires = "xpath")]
        wrap: bool,
    },
    /// Show the domain's vCPU counts: maximum and current, of the
    /// definition and of the running domain.
    #[command(name = "vcpucount")]
    VcpuCount {
        #[command(flatten)]
        dom: DomArg,
        #[command(flatten)]
        counts: crate::domquery::VcpuCountArgs,
    },
    /// Print the pseudo-terminal of the running domain's console.
    #[command(name = "ttyconsole")]
    TtyConsole(DomArg),
    /// Say whether the domain's monitor is free (`ok`) or held by a long
    /// job (`job (SECONDS)`).
    #[command(name = "domcontrol")]
    DomControl(DomArg),
    /// Print an interface's link state (`up` or `down`).
    #[command(name = "domif-getlink")]
    DomIfGetLink {
        #[command(flatten)]
        dom: DomArg,
        /// The interface: its MAC address or its host device (`vnet0`).
        interface: String,
        /// The persistent definition's.
        #[arg(long)]
        config: bool,
    },
    /// Set an interface's link up or down.
    #[command(name = "domif-setlink")]
    DomIfSetLink {
        #[command(flatten)]
        dom: DomArg,
        /// The interface: its MAC address or its host device (`vnet0`).
        interface: String,
        /// `up` or `down`.
        state: String,
        /// In the persistent definition (else the running domain).
        #[arg(long)]
        config: bool,
    },
    /// Print the most vCPUs a domain may have.
    #[command(name = "maxvcpus")]
    MaxVcpus {
        /// The domain type (`qemu`, `kvm`).
        #[arg(long = "type")]
        virttype: Option<String>,
    },
    /// Print the VNC display of a running domain (`127.0.0.1:0`).
    #[command(name = "vncdisplay")]
    VncDisplay {
        #[command(flatten)]
        dom: DomArg,
        /// Print JSON instead (see the README for the shape).
        #[arg(long)]
        json: bool,
    },
    /// Show the host's CPUs and memory.
    #[command(name = "nodeinfo")]
    NodeInfo {
        /// Print JSON instead (see the README for the shape).
        #[arg(long)]
        json: bool,
    },
    /// Show the versions of qvirt and of the hypervisor.
    Version,
    /// Print the URI in use (without connecting).
    Uri,
    /// Print the capabilities document.
    Capabilities,
    /// Print the domain capabilities document: what a definition for an
    /// emulator, architecture, machine and domain type may ask for.
    #[command(name = "domcapabilities")]
    DomCapabilities {
        /// The domain type (kvm or qemu; default: kvm when usable).
        #[arg(long)]
        virttype: Option<String>,
        /// The emulator binary.
        #[arg(long)]
        emulatorbin: Option<PathBuf>,
        /// The guest architecture (x86_64).
        #[arg(long)]
        arch: Option<String>,
        /// The machine type (pc, q35, or a versioned name).
        #[arg(long)]
        machine: Option<String>,
    },
    /// Attach to a domain's serial console (Ctrl+] leaves).
    Console {
        #[command(flatten)]
        dom: DomArg,
        /// Take the console from another client that holds it.
        #[arg(long)]
        force: bool,
        /// When stdin is not a terminal: after it ends and the guest has
        /// answered, keep printing the guest's output until this many
        /// milliseconds pass without any.
        #[arg(long, value_name = "MS", default_value_t = 1000)]
        drain_ms: u64,
        /// When stdin is not a terminal: after it ends, wait up to this
        /// many seconds for the guest to answer the last input.
        #[arg(long, value_name = "SECONDS", default_value_t = 10)]
        answer_timeout: u64,
        /// The console device: `serial0` or `console0` (the first serial
        /// port, the only one qvirt connects).
        #[arg(long, value_name = "NAME")]
        devname: Option<String>,
    },
    /// Print domain lifecycle events as they happen.
    Event {
        /// Only events of this domain.
        #[arg(long, value_name = "DOMAIN")]
        domain: Option<String>,
        /// The event type: `lifecycle`, `reboot`, `tray-change` or
        /// `block-threshold`.
        #[arg(long, value_name = "EVENT")]
        event: Option<String>,
        /// Accepted for virsh compatibility: every event type is shown.
        #[arg(long)]
        all: bool,
        /// Keep printing events (else exit after the first one).
        #[arg(long = "loop")]
        keep: bool,
        /// Exit after this many seconds. Default: no limit.
        #[arg(long, value_name = "SECONDS")]
        timeout: Option<u64>,
        /// Print one JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// The addresses of a running domain's interfaces: from the host's
    /// ARP table (`--source arp`, bridged guests); `lease` (the default)
    /// finds none, qvirt having no virtual networks.
    #[command(name = "domifaddr")]
    DomIfAddr {
        #[command(flatten)]
        dom: DomArg,
        /// Only this interface (its host-side name).
        #[arg(long)]
        interface: Option<String>,
        /// Repeat the name and MAC on each address's line.
        #[arg(long)]
        full: bool,
        /// lease, arp or agent.
        #[arg(long, default_value = "lease")]
        source: String,
        /// Print a JSON array instead (see the README for the shape).
        #[arg(long)]
        json: bool,
    },
    /// List a domain's network interfaces: tap device, type, source (for
    /// user networking, the forwarded ports), model and MAC.
    #[command(name = "domiflist")]
    DomIfList {
        #[command(flatten)]
        dom: DomArg,
        /// List the persistent definition's interfaces, not the live ones.
        #[arg(long)]
        inactive: bool,
        /// Print JSON instead (see the README for the shape).
        #[arg(long)]
        json: bool,
    },
    /// List a domain's disks: target and source.
    #[command(name = "domblklist")]
    DomBlkList {
        #[command(flatten)]
        dom: DomArg,
        /// List the persistent definition's disks, not the live ones.
        #[arg(long)]
        inactive: bool,
        /// Also show each disk's type and device.
        #[arg(long)]
        details: bool,
        /// Print JSON instead (see the README for the shape).
        #[arg(long)]
        json: bool,
    },
    /// Eject, insert or replace the medium of a cdrom or floppy drive.
    #[command(name = "change-media")]
    ChangeMedia {
        #[command(flatten)]
        dom: DomArg,
        /// The drive: its target (hdc, fda) or the file it holds.
        #[arg(value_name = "PATH")]
        path: String,
        /// The medium file for --insert and --update.
        #[arg(value_name = "SOURCE")]
        source: Option<PathBuf>,
        /// The medium file, as virsh's --source spells it.
        #[arg(long = "source", value_name = "FILE", conflicts_with = "source")]
        source_flag: Option<PathBuf>,
        /// Take the medium out.
        #[arg(long, conflicts_with_all = ["insert", "update"])]
        eject: bool,
        /// Put a medium into the empty drive.
        #[arg(long, conflicts_with = "update")]
        insert: bool,
        /// Replace the medium (eject it when no SOURCE is given). The
        /// default action.
        #[arg(long)]
        update: bool,
        /// Change the running domain.
        #[arg(long)]
        live: bool,
        /// Change the persistent definition (used at the next start).
        #[arg(long)]
        config: bool,
        /// Change the running domain if it runs, else the persistent
        /// definition. The default.
        #[arg(long, conflicts_with_all = ["live", "config"])]
        current: bool,
        /// Accepted for virsh compatibility: the tray is always opened,
        /// even when the guest has locked it.
        #[arg(long)]
        force: bool,
    },
    /// Save a PNG image of a domain's display.
    Screenshot {
        #[command(flatten)]
        dom: DomArg,
        /// The file to write. Default: DOMAIN-SECONDS.png in the current
        /// directory.
        #[arg(value_name = "FILE")]
        file: Option<PathBuf>,
        /// The file to write, as virsh's --file spells it.
        #[arg(long = "file", value_name = "FILE", conflicts_with = "file")]
        file_flag: Option<PathBuf>,
    },
    /// Print the QEMU command line a domain XML file gives, without running
    /// anything.
    #[command(name = "domxml-to-native")]
    DomXmlToNative {
        /// The output format: only `qemu-argv`.
        format: String,
        /// The domain XML file (`-` reads stdin).
        file: Option<PathBuf>,
        /// The domain XML file, as virsh's --xml spells it.
        #[arg(long = "xml", value_name = "FILE", conflicts_with = "file")]
        xml: Option<PathBuf>,
    },
}

/// The state a restore leaves the guest in: `--running` or `--paused`
/// (neither: as it was saved).
#[derive(clap::Args, Debug, Clone, Copy)]
pub struct RestoreState {
    /// The restore lets the guest run.
    #[arg(long, conflicts_with = "paused")]
    pub running: bool,
    /// The restore leaves the guest paused.
    #[arg(long)]
    pub paused: bool,
}

impl RestoreState {
    /// `Some(true)` for `--running`, `Some(false)` for `--paused`.
    pub fn running(self) -> Option<bool> {
        match (self.running, self.paused) {
            (true, _) => Some(true),
            (_, true) => Some(false),
            _ => None,
        }
    }
}
