//! Live resources and what they cost: memory and vCPUs changed while a
//! domain runs or in its definition, and the statistics virsh's
//! `domstats` family shows.

use std::collections::BTreeMap;

use super::{DomainState, StateReason};

/// Where a change applies, as virsh's `--live` and `--config`: the
/// running domain, the persistent definition, or both; neither means
/// virsh's `--current` (the running domain when it runs, else the
/// definition).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ModifyFlags {
    /// Change the running domain (running or paused only).
    pub live: bool,
    /// Change the persistent definition (persistent domains only).
    pub config: bool,
}

impl ModifyFlags {
    /// virsh's `--current`.
    pub const CURRENT: ModifyFlags = ModifyFlags {
        live: false,
        config: false,
    };
    /// `--live`.
    pub const LIVE: ModifyFlags = ModifyFlags {
        live: true,
        config: false,
    };
    /// `--config`.
    pub const CONFIG: ModifyFlags = ModifyFlags {
        live: false,
        config: true,
    };

    /// Flags with both parts stated.
    pub fn new(live: bool, config: bool) -> ModifyFlags {
        ModifyFlags { live, config }
    }
}

/// What the balloon says: the guest's memory now and, when the guest
/// reports them (`<stats period>` and a balloon driver in the guest), its
/// own figures, named as virsh's `dommemstat` names them (`unused`,
/// `available`, `usable`, `swap_in`, ...), in KiB or counts.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BalloonStats {
    /// The memory the guest has now (`actual`), KiB.
    pub current_kib: u64,
    /// The most it may have (`<memory>`), KiB.
    pub maximum_kib: u64,
    /// The host memory QEMU's process holds (its resident set), KiB.
    pub rss_kib: u64,
    /// The guest's own figures.
    pub guest: BTreeMap<String, u64>,
}

/// One vCPU: whether it is online and the host CPU time of its thread.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VcpuStats {
    /// Its index.
    pub id: u32,
    /// The host thread running it.
    pub thread_id: i32,
    /// Host CPU time of that thread, ns.
    pub time_ns: u64,
}

/// One disk's I/O, as QEMU counts it, and its sizes.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BlockStats {
    /// `<target dev>`.
    pub target: String,
    /// The source, if any.
    pub path: Option<String>,
    /// Read requests and bytes.
    pub rd_reqs: u64,
    /// Bytes read.
    pub rd_bytes: u64,
    /// Write requests.
    pub wr_reqs: u64,
    /// Bytes written.
    pub wr_bytes: u64,
    /// Flush requests.
    pub fl_reqs: u64,
    /// Time spent reading, writing, flushing, ns.
    pub rd_total_times_ns: u64,
    /// Time spent writing, ns.
    pub wr_total_times_ns: u64,
    /// Time spent flushing, ns.
    pub fl_total_times_ns: u64,
    /// The guest-visible size, bytes.
    pub capacity: u64,
    /// The bytes the image takes on the host.
    pub allocation: u64,
    /// The host file's size, bytes.
    pub physical: u64,
}

/// One network interface's traffic, from the host side of a tap device.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InterfaceStats {
    /// The host device (`vnet0`), or the MAC for user networking.
    pub name: String,
    /// Bytes the guest received.
    pub rx_bytes: u64,
    /// Packets the guest received.
    pub rx_packets: u64,
    /// Receive errors.
    pub rx_errs: u64,
    /// Receive drops.
    pub rx_drop: u64,
    /// Bytes the guest sent.
    pub tx_bytes: u64,
    /// Packets the guest sent.
    pub tx_packets: u64,
    /// Send errors.
    pub tx_errs: u64,
    /// Send drops.
    pub tx_drop: u64,
}

/// A running domain's statistics, by virsh's `domstats` groups.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainStats {
    /// `state.state`.
    pub state: DomainState,
    /// `state.reason`.
    pub reason: StateReason,
    /// `cpu.time`: all of QEMU's CPU time, ns.
    pub cpu_time_ns: u64,
    /// `cpu.user`, ns.
    pub cpu_user_ns: u64,
    /// `cpu.system`, ns.
    pub cpu_system_ns: u64,
    /// `balloon.*`.
    pub balloon: BalloonStats,
    /// `vcpu.*`: the online vCPUs.
    pub vcpus: Vec<VcpuStats>,
    /// `vcpu.maximum`.
    pub vcpu_maximum: u32,
    /// `block.*`.
    pub blocks: Vec<BlockStats>,
    /// `net.*`: interfaces with a host device (taps).
    pub interfaces: Vec<InterfaceStats>,
}

impl DomainStats {
    /// Statistics with only the state filled in.
    pub fn new(state: DomainState, reason: StateReason) -> DomainStats {
        DomainStats {
            state,
            reason,
            cpu_time_ns: 0,
            cpu_user_ns: 0,
            cpu_system_ns: 0,
            balloon: BalloonStats::default(),
            vcpus: Vec::new(),
            vcpu_maximum: 0,
            blocks: Vec::new(),
            interfaces: Vec::new(),
        }
    }
}

/// Which of a domain's own notes [`crate::Driver::set_metadata`] and
/// [`crate::Driver::metadata`] work on (libvirt's
/// `virDomainMetadataType`). Kept as data: nothing of the guest changes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MetadataKind {
    /// `<description>`.
    Description,
    /// `<title>` (one line).
    Title,
    /// The element of `<metadata>` in namespace `uri`; `key` is the
    /// namespace prefix a new element is written with.
    Element {
        /// The namespace URI.
        uri: String,
        /// The prefix (needed to set, not to read or remove).
        key: Option<String>,
    },
}

/// The code set of the key codes [`crate::Driver::send_key`] takes
/// (libvirt's `virKeycodeSet`; the others are refused by name).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyCodeset {
    /// Linux's input key codes (`KEY_*`), virsh's default.
    Linux,
    /// QEMU's key numbers (XT scan codes; `0x80 |` for `E0` keys).
    Qnum,
}

impl KeyCodeset {
    /// The code set named `name` as virsh's `--codeset` takes it.
    pub fn from_name(name: &str) -> Option<KeyCodeset> {
        match name {
            "linux" => Some(KeyCodeset::Linux),
            "qnum" | "rfb" => Some(KeyCodeset::Qnum),
            _ => None,
        }
    }

    /// libvirt's number (`VIR_KEYCODE_SET_*`).
    pub fn number(self) -> u32 {
        match self {
            KeyCodeset::Linux => 0,
            KeyCodeset::Qnum => 9,
        }
    }

    /// The code set of libvirt's number `n`.
    pub fn from_number(n: u32) -> Option<KeyCodeset> {
        match n {
            0 => Some(KeyCodeset::Linux),
            9 => Some(KeyCodeset::Qnum),
            _ => None,
        }
    }
}

/// Where [`crate::Driver::interface_addresses`] learns a guest's
/// addresses (virsh's `domifaddr --source`, libvirt's numbers).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressSource {
    /// The DHCP leases of the manager's virtual networks: qvirt has none,
    /// so no interface has a lease.
    Lease,
    /// The QEMU guest agent.
    Agent,
    /// The host's neighbour (ARP) table, by each interface's MAC address.
    Arp,
}

impl AddressSource {
    /// The source named `name` as virsh's `--source` takes it.
    pub fn from_name(name: &str) -> Option<AddressSource> {
        match name {
            "lease" => Some(AddressSource::Lease),
            "agent" => Some(AddressSource::Agent),
            "arp" => Some(AddressSource::Arp),
            _ => None,
        }
    }

    /// libvirt's number (`VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_*`).
    pub fn number(self) -> u32 {
        match self {
            AddressSource::Lease => 0,
            AddressSource::Agent => 1,
            AddressSource::Arp => 2,
        }
    }

    /// The source of libvirt's number `n`.
    pub fn from_number(n: u32) -> Option<AddressSource> {
        match n {
            0 => Some(AddressSource::Lease),
            1 => Some(AddressSource::Agent),
            2 => Some(AddressSource::Arp),
            _ => None,
        }
    }
}

/// One guest interface and the addresses found for it.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceAddresses {
    /// The host side's name (the tap), or `-` when there is none.
    pub name: String,
    /// The guest's MAC address.
    pub mac: String,
    /// Its addresses.
    pub addrs: Vec<IpAddress>,
}

impl InterfaceAddresses {
    /// An interface with its addresses.
    pub fn new(name: String, mac: String, addrs: Vec<IpAddress>) -> InterfaceAddresses {
        InterfaceAddresses { name, mac, addrs }
    }
}

/// One address of a guest interface.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpAddress {
    /// IPv6 rather than IPv4.
    pub ipv6: bool,
    /// The address, as text.
    pub addr: String,
    /// The prefix length (0 when the source does not know it, as ARP).
    pub prefix: u32,
}

impl IpAddress {
    /// An address.
    pub fn new(ipv6: bool, addr: String, prefix: u32) -> IpAddress {
        IpAddress { ipv6, addr, prefix }
    }
}

/// A change of `<memtune>` (virsh's `memtune` with values, libvirt's
/// `virDomainSetMemoryParameters`): each limit given is set, in KiB, and
/// [`crate::model::MemTune::UNLIMITED_KIB`] removes it; those not given
/// stay as they are.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MemTuneChange {
    /// `<hard_limit>`.
    pub hard_limit_kib: Option<u64>,
    /// `<soft_limit>`.
    pub soft_limit_kib: Option<u64>,
    /// `<swap_hard_limit>`.
    pub swap_hard_limit_kib: Option<u64>,
}

impl MemTuneChange {
    /// Whether it changes nothing.
    pub fn is_empty(&self) -> bool {
        *self == MemTuneChange::default()
    }
}

/// A change of `<blkiotune>` (virsh's `blkiotune` with values, libvirt's
/// `virDomainSetBlkioParameters`): the weight if given, and per host
/// block device (by path) the settings listed, where a value of 0
/// removes that setting of that device; devices and settings not listed
/// stay as they are.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BlkioTuneChange {
    /// `<weight>` (100 to 1000).
    pub weight: Option<u32>,
    /// `<device><weight>` (100 to 1000, or 0).
    pub device_weight: Vec<(String, u64)>,
    /// `<device><read_iops_sec>`.
    pub device_read_iops_sec: Vec<(String, u64)>,
    /// `<device><write_iops_sec>`.
    pub device_write_iops_sec: Vec<(String, u64)>,
    /// `<device><read_bytes_sec>`.
    pub device_read_bytes_sec: Vec<(String, u64)>,
    /// `<device><write_bytes_sec>`.
    pub device_write_bytes_sec: Vec<(String, u64)>,
}

impl BlkioTuneChange {
    /// Whether it changes nothing.
    pub fn is_empty(&self) -> bool {
        *self == BlkioTuneChange::default()
    }

    /// Reads libvirt's form of a per-device list, `PATH,VALUE,PATH,VALUE`
    /// (virsh's `--device-read-bytes-sec /dev/sda,1048576`); an empty
    /// string is an empty list. `what` names the list in errors.
    ///
    /// Errors: [`crate::ErrorCode::InvalidArgument`] for an odd number of
    /// fields, an empty path, or a value that is not a number.
    pub fn parse_device_list(what: &str, text: &str) -> crate::Result<Vec<(String, u64)>> {
        if text.is_empty() {
            return Ok(Vec::new());
        }
        let fields: Vec<&str> = text.split(',').collect();
        let bad = |why: String| {
            crate::Error::new(
                crate::ErrorCode::InvalidArgument,
                format!("unable to parse blkio device '{what}' '{text}': {why}"),
            )
        };
        if !fields.len().is_multiple_of(2) {
            return Err(bad(
                "it must be pairs of a device path and a value, separated by commas".into(),
            ));
        }
        fields
            .chunks(2)
            .map(|pair| {
                let (path, value) = (pair[0], pair[1]);
                if path.is_empty() {
                    return Err(bad("a device path is empty".into()));
                }
                let value = value.parse::<u64>().map_err(|_| {
                    bad(format!(
                        "invalid value '{value}' for device '{path}': a number 0 or more"
                    ))
                })?;
                Ok((path.to_string(), value))
            })
            .collect()
    }

    /// Writes a per-device list in libvirt's form (`PATH,VALUE,...`).
    pub fn format_device_list(list: &[(String, u64)]) -> String {
        list.iter()
            .map(|(p, v)| format!("{p},{v}"))
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// A change of one disk's `<iotune>` (virsh's `blkdeviotune` with
/// values, libvirt's `virDomainSetBlockIoTune`): the limits given, by
/// libvirt's names ([`crate::model::IOTUNE_LIMITS`]), and the group. As
/// libvirt merges it, a family of limits not given (the three
/// `*_bytes_sec`, the three `*_iops_sec`, their `_max`, their
/// `_max_length`, `size_iops_sec`) and a group not given stay as they
/// are; all limits 0 removes the throttle (and the group).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BlockIoTuneChange {
    /// The limits given, each once (0: none).
    pub limits: Vec<(String, u64)>,
    /// `<group_name>`: disks of one group share their limits.
    pub group_name: Option<String>,
}

impl BlockIoTuneChange {
    /// A change of `limits` (libvirt's names) and `group_name`.
    pub fn new(limits: Vec<(String, u64)>, group_name: Option<String>) -> BlockIoTuneChange {
        BlockIoTuneChange { limits, group_name }
    }
}

/// One I/O thread of a running domain (virsh's `iothreadinfo`): its
/// id (of `<iothreadids>`) and the host CPUs its thread may run on.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IoThreadInfo {
    /// The id.
    pub id: u32,
    /// The host CPUs it may run on, ascending.
    pub cpus: Vec<u32>,
}

impl IoThreadInfo {
    /// I/O thread `id`, which may run on `cpus`.
    pub fn new(id: u32, cpus: Vec<u32>) -> IoThreadInfo {
        IoThreadInfo { id, cpus }
    }
}

/// What a running QEMU holds for one disk's drive (`query-block`), as
/// virsh's `blkdeviotune` and `domblkerror` read it.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DiskRuntime {
    /// The disk's `<target dev>`.
    pub target: String,
    /// Its I/O throttle, one limit per [`crate::model::IOTUNE_LIMITS`]
    /// entry in that order (0: none); empty when the drive has no
    /// medium.
    pub iotune: Vec<u64>,
    /// Its throttle group, when it has one.
    pub group: Option<String>,
    /// QEMU's I/O status of the drive: `ok`, `failed` or `nospace`;
    /// empty when QEMU keeps none (the disk stops on no error).
    pub io_status: String,
}

/// What a pinning is about (virsh's `vcpupin` and `emulatorpin` with a
/// CPU list).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinTarget {
    /// vCPU `n`'s thread (`<vcpupin vcpu='n'>`).
    Vcpu(u32),
    /// QEMU's threads other than its vCPUs and I/O threads
    /// (`<emulatorpin>`).
    Emulator,
}

/// A change of a domain's I/O threads (virsh's `iothreadadd`,
/// `iothreaddel`, `iothreadpin` and `iothreadset`), by thread id.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IoThreadChange {
    /// Adds I/O thread `id`.
    Add(u32),
    /// Removes I/O thread `id`; no disk or controller may use it.
    Remove(u32),
    /// Lets I/O thread `id` run on the host CPUs given only
    /// (`<iothreadpin>`).
    Pin(u32, Vec<u32>),
    /// Tunes I/O thread `id`'s event loop and worker pool.
    Tune(u32, IoThreadParams),
}

impl IoThreadChange {
    /// The thread the change is about.
    pub fn id(&self) -> u32 {
        match self {
            IoThreadChange::Add(id)
            | IoThreadChange::Remove(id)
            | IoThreadChange::Pin(id, _)
            | IoThreadChange::Tune(id, _) => *id,
        }
    }
}

/// The settings of an I/O thread that `iothreadset` changes (libvirt's
/// `VIR_DOMAIN_IOTHREAD_*`); `None` leaves one as it is. The polling
/// settings exist only in the running QEMU; the pool bounds are
/// `<iothread thread_pool_min thread_pool_max>` as well (-1: QEMU's
/// default, in the definition only).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IoThreadParams {
    /// `poll-max-ns`: the longest a polling interval may be (0: no
    /// polling).
    pub poll_max_ns: Option<u64>,
    /// `poll-grow`: the factor a polling interval grows by (0: QEMU's).
    pub poll_grow: Option<u32>,
    /// `poll-shrink`: the divisor a polling interval shrinks by (0:
    /// QEMU's).
    pub poll_shrink: Option<u32>,
    /// `thread-pool-min`: worker threads kept when idle.
    pub thread_pool_min: Option<i32>,
    /// `thread-pool-max`: the most worker threads.
    pub thread_pool_max: Option<i32>,
}

impl IoThreadParams {
    /// Whether it changes nothing.
    pub fn is_empty(&self) -> bool {
        *self == IoThreadParams::default()
    }

    /// Whether it changes what only the running QEMU holds.
    pub fn polls(&self) -> bool {
        self.poll_max_ns.is_some() || self.poll_grow.is_some() || self.poll_shrink.is_some()
    }
}

/// What happens to a guest that `set-lifecycle-action` gives an action
/// to (`<on_poweroff>`, `<on_reboot>`, `<on_crash>`).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LifecycleEvent {
    /// The guest powers off.
    Poweroff,
    /// The guest reboots.
    Reboot,
    /// The guest crashes (a panic device reports it).
    Crash,
}

impl LifecycleEvent {
    /// Its element's name without `on_` (libvirt's word).
    pub fn as_str(self) -> &'static str {
        match self {
            LifecycleEvent::Poweroff => "poweroff",
            LifecycleEvent::Reboot => "reboot",
            LifecycleEvent::Crash => "crash",
        }
    }
}

/// A save image (`save`'s file or a domain's managed save), whose
/// definition `save-image-dumpxml` and `save-image-define` read and
/// change.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SaveImage {
    /// The file `save` wrote.
    File(std::path::PathBuf),
    /// The managed save image of a shut-off domain.
    Managed(super::Domain),
}

/// How QEMU measures the rate at which the guest dirties its memory
/// (libvirt's `VIR_DOMAIN_DIRTYRATE_MODE_*`).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DirtyRateMode {
    /// Hashes of sampled pages compared (the default).
    #[default]
    PageSampling,
    /// The dirty bitmap of all memory.
    DirtyBitmap,
    /// KVM's dirty ring, per vCPU.
    DirtyRing,
}

impl DirtyRateMode {
    /// QEMU's and libvirt's word.
    pub fn as_str(self) -> &'static str {
        match self {
            DirtyRateMode::PageSampling => "page-sampling",
            DirtyRateMode::DirtyBitmap => "dirty-bitmap",
            DirtyRateMode::DirtyRing => "dirty-ring",
        }
    }

    /// The mode of word `w`.
    pub fn from_word(w: &str) -> Option<DirtyRateMode> {
        [Self::PageSampling, Self::DirtyBitmap, Self::DirtyRing]
            .into_iter()
            .find(|m| m.as_str() == w)
    }
}

/// The last dirty page rate measurement of a running domain
/// (`query-dirty-rate`, libvirt's `dirtyrate.*` statistics).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DirtyRate {
    /// 0 never started, 1 measuring, 2 measured (libvirt's
    /// `virDomainDirtyRateStatus`).
    pub status: u32,
    /// When the measurement started, seconds on QEMU's clock.
    pub start_time: i64,
    /// How long it measures, seconds.
    pub period: i32,
    /// How it measures.
    pub mode: DirtyRateMode,
    /// MiB dirtied per second, once measured.
    pub mib_per_s: Option<i64>,
}
