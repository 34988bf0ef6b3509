//! The typed domain definition: what a libvirt `<domain>` document says, in
//! Rust types. Field names follow libvirt's element and attribute names.
//!
//! This file holds the domain as a whole (identity, resources, `<os>`,
//! `<features>`, `<clock>`, `<cpu>`); devices are in `devices`. Data only:
//! reading is in `parse`, writing in `format`, checks in `validate`.

use std::collections::BTreeMap;

use uuid::Uuid;

use super::devices::Devices;
use super::sysinfo::{QemuExtras, SecLabel, SmbiosMode, Sysinfo};
use super::tuning::{CpuTune, MaxMemory, MemoryBacking, NumaCell, NumaTune, Placement};
use super::words::words;

/// A complete domain definition, as read from or written to domain XML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainDef {
    /// `<domain type=...>`: the accelerator the domain asks for.
    pub virt_type: VirtType,
    /// `<name>`: unique among the domains of one manager.
    pub name: String,
    /// `<uuid>`: generated when the document has none.
    pub uuid: Uuid,
    /// `<genid>`: the virtual machine generation ID the guest sees
    /// (QEMU's vmgenid); an empty `<genid/>` is given a random one when
    /// read, as libvirt gives it.
    pub genid: Option<Uuid>,
    /// `<title>`: a short one-line description, kept as data only.
    pub title: Option<String>,
    /// `<description>`: free text for people, kept as data only.
    pub description: Option<String>,
    /// `<metadata>`: the element's children kept verbatim as an XML
    /// fragment, as data only.
    pub metadata: Option<String>,
    /// `<maxMemory slots=...>`: the memory hot-plugged `<memory>`
    /// devices may add up to.
    pub max_memory: Option<MaxMemory>,
    /// `<memory>`: the maximum memory, in KiB.
    pub memory_kib: u64,
    /// `<memory dumpCore='on|off'>`: whether the guest's memory goes into
    /// a core dump of the emulator; `None` leaves it out (the
    /// hypervisor's default here).
    pub dump_core: Option<bool>,
    /// `<currentMemory>`: the memory at boot, in KiB (default:
    /// `memory_kib`); below the maximum, the balloon is inflated by the
    /// difference when the domain starts.
    pub current_memory_kib: Option<u64>,
    /// `<memoryBacking>`.
    pub memory_backing: Option<Box<MemoryBacking>>,
    /// `<memtune>`.
    pub memtune: Option<super::MemTune>,
    /// `<blkiotune>`.
    pub blkiotune: Option<Box<super::BlkioTune>>,
    /// `<vcpu>`.
    pub vcpu: Vcpu,
    /// `<iothreads>`: the number of I/O threads disks may use.
    pub iothreads: Option<u32>,
    /// `<iothreadids>`: the I/O threads' ids as written; `None` when
    /// absent (the threads are then 1 to `iothreads`).
    pub iothread_ids: Option<Vec<u32>>,
    /// The worker pools of `<iothreadids>` and `<defaultiothread>`.
    pub thread_pools: super::ThreadPools,
    /// `<cputune>`.
    pub cputune: Option<Box<CpuTune>>,
    /// `<numatune>`.
    pub numatune: Option<Box<NumaTune>>,
    /// `<resource><partition>`: the resource group of the domain.
    pub partition: Option<String>,
    /// `<sysinfo type='smbios'>`: what `<os><smbios mode='sysinfo'>`
    /// shows the guest.
    pub sysinfo: Option<Box<Sysinfo>>,
    /// `<sysinfo type='fwcfg'>`: entries of QEMU's firmware configuration
    /// device (`-fw_cfg`), such as a CoreOS Ignition config.
    pub fw_cfg: Vec<super::FwCfgEntry>,
    /// `<os>`.
    pub os: Os,
    /// `<features>`.
    pub features: Features,
    /// `<clock>`; `None` when the document has no `<clock>` (UTC).
    pub clock: Option<Clock>,
    /// `<pm>`: guest power management switches.
    pub pm: Pm,
    /// `<cpu>`; `None` when absent (the hypervisor's default model).
    pub cpu: Option<Box<Cpu>>,
    /// `<on_poweroff>` (default: destroy).
    pub on_poweroff: LifecycleAction,
    /// `<on_reboot>` (default: restart).
    pub on_reboot: LifecycleAction,
    /// `<on_crash>` (default: destroy).
    pub on_crash: LifecycleAction,
    /// `<devices>`.
    pub devices: Devices,
    /// `<seclabel>`s, one per security model at most.
    pub seclabels: Vec<SecLabel>,
    /// `<launchSecurity>`: memory encryption by the host CPU.
    pub launch_security: Option<super::LaunchSecurity>,
    /// `<perf>`: the performance events named, in libvirt's order.
    pub perf: Vec<super::PerfEvent>,
    /// The `qemu:` namespace: extra arguments, environment, device types.
    pub qemu: QemuExtras,
}

/// `<domain type=...>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VirtType {
    /// Hardware acceleration (`kvm`).
    Kvm,
    /// Pure emulation (`qemu`, TCG).
    Qemu,
}

/// `<vcpu placement='static' current='N' cpuset='...'>MAX</vcpu>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vcpu {
    /// The maximum number of vCPUs (the element's text).
    pub max: u32,
    /// `current`: vCPUs online at boot (default: `max`).
    pub current: Option<u32>,
    /// `cpuset`: host CPUs the vCPUs may run on, libvirt's list syntax
    /// (`0-3,^2,8`), kept as written after validation.
    pub cpuset: Option<String>,
    /// `placement='auto'`; `None` for static, libvirt's default.
    pub placement: Option<Placement>,
    /// `<vcpus>`, each vCPU's state written out; `None` when absent.
    pub individual: Option<IndividualVcpus>,
}

/// `<vcpus><vcpu id enabled hotpluggable order>`: the vCPUs one by one.
/// QEMU starts the first vCPUs with the machine (they cannot be
/// unplugged) and plugs the others into their slots: the vCPUs enabled
/// and not hotpluggable are `0..n`, those enabled and hotpluggable are
/// plugged before the guest runs, the rest are empty slots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndividualVcpus {
    /// Whether the enabled vCPUs carry their bring-up `order`.
    pub ordered: bool,
    /// The enabled, hotpluggable vCPUs by id, in the order they come up.
    pub hotplugged: Vec<u32>,
}

impl Vcpu {
    /// The vCPUs QEMU starts with the machine (`-smp`): the online ones
    /// less those plugged in before the guest runs.
    pub fn boot_count(&self) -> u32 {
        let online = self.current.unwrap_or(self.max);
        let plugged = self.individual.as_ref().map_or(0, |i| i.hotplugged.len());
        online.saturating_sub(plugged as u32).max(1)
    }

    /// The vCPUs online by id: `0..boot_count` and those plugged in.
    pub fn online_ids(&self) -> Vec<u32> {
        let boot = self.boot_count();
        let mut ids: Vec<u32> = (0..boot).collect();
        if let Some(i) = &self.individual {
            ids.extend(i.hotplugged.iter().copied().filter(|id| *id >= boot));
        } else {
            ids.extend(boot..self.current.unwrap_or(self.max).max(boot));
        }
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// Records the vCPUs online by id, those below `boot` being the
    /// ones that cannot be unplugged: written as the plain count when
    /// they are `0..n` and all came with the machine, else one by one.
    pub fn set_online(&mut self, ids: &[u32], boot: u32) {
        let online = ids.len() as u32;
        self.current = (online < self.max).then_some(online);
        let hot: Vec<u32> = ids.iter().copied().filter(|id| *id >= boot).collect();
        self.individual = (!hot.is_empty()).then_some(IndividualVcpus {
            ordered: false,
            hotplugged: hot,
        });
    }

    /// Sets how many vCPUs are online; a vCPU list that no longer says
    /// the same gives way to the plain count.
    pub fn set_current(&mut self, online: u32) {
        if online != self.current.unwrap_or(self.max) {
            self.individual = None;
        }
        self.current = (online < self.max).then_some(online);
    }
}

words! {
    /// `<os firmware=...>`: firmware chosen by the manager.
    pub enum FirmwareKind {
        /// The PC BIOS (SeaBIOS).
        Bios = "bios",
        /// UEFI (OVMF), picked from the emulator's firmware descriptors.
        Efi = "efi",
    }

    /// `<os><firmware><feature name=...>`.
    pub enum FirmwareFeatureName {
        /// Secure boot keys are enrolled in the variable store template.
        EnrolledKeys = "enrolled-keys",
        /// The firmware enforces secure boot.
        SecureBoot = "secure-boot",
    }

    /// `<boot dev=...>`.
    pub enum BootDev {
        /// `fd`: the first floppy.
        Fd = "fd",
        /// `cdrom`: the first CD-ROM.
        Cdrom = "cdrom",
        /// `hd`: the first hard disk.
        Hd = "hd",
        /// `network`: PXE from the first interface.
        Network = "network",
    }

    /// `<loader type=...>`.
    pub enum LoaderType {
        /// Mapped as a ROM (`-bios`).
        Rom = "rom",
        /// Mapped as a parallel flash device.
        Pflash = "pflash",
    }

    /// `<loader format=...>`, `<nvram format= templateFormat=>`: the
    /// image format of a firmware file (libvirt 9.2 and later; the
    /// template's since 10.10).
    pub enum FirmwareFormat {
        /// The bytes as they are mapped.
        Raw = "raw",
        /// A qcow2 image holding them.
        Qcow2 = "qcow2",
    }

    /// `<nvram type=...>`: the variable store named by a `<source>`
    /// child, as a disk's (libvirt 8.5 and later).
    pub enum NvramType {
        /// `<source file=...>`: a file.
        File = "file",
        /// `<source dev=...>`: a block device.
        Block = "block",
        /// `<source protocol=...>` with its `<host>`: a block device a
        /// server exports (NBD, iSCSI), as a network disk's.
        Network = "network",
    }
}

/// `<os>`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Os {
    /// `firmware`: let the manager pick the firmware of this kind.
    pub firmware: Option<FirmwareKind>,
    /// `<firmware><feature>` elements: what the picked firmware must
    /// (`true`) or must not (`false`) have.
    pub firmware_features: BTreeMap<FirmwareFeatureName, bool>,
    /// `<type arch=...>`; `None` means the host's architecture.
    pub arch: Option<String>,
    /// `<type machine=...>`; `None` means the emulator's default machine.
    pub machine: Option<String>,
    /// `<boot dev=...>` in order; empty means libvirt's default (hd) unless a
    /// device has a `<boot order>`.
    pub boot: Vec<BootDev>,
    /// `<bootmenu enable= timeout=>`.
    pub bootmenu: Option<BootMenu>,
    /// `<bios useserial= rebootTimeout=>`.
    pub bios: Option<BiosOptions>,
    /// `<loader>`: firmware image.
    pub loader: Option<Loader>,
    /// `<nvram>`: the per-domain variable store for UEFI firmware.
    pub nvram: Option<Nvram>,
    /// `<kernel>`: path of a kernel for direct boot.
    pub kernel: Option<String>,
    /// `<initrd>`: path of an initial ramdisk for direct boot.
    pub initrd: Option<String>,
    /// `<cmdline>`: the kernel command line for direct boot.
    pub cmdline: Option<String>,
    /// `<acpi><table type='slic'>`: a file holding a software licensing
    /// ACPI table (with its header) the guest firmware offers.
    pub slic_table: Option<String>,
    /// `<smbios mode=...>`: the SMBIOS tables the guest sees.
    pub smbios: Option<SmbiosMode>,
}

impl Os {
    /// Whether the machine is a Q35 one, as libvirt decides: `q35` or
    /// `pc-q35-*`.
    pub fn is_q35(&self) -> bool {
        self.machine
            .as_deref()
            .is_some_and(|m| m == "q35" || m.starts_with("pc-q35"))
    }

    /// Whether the machine is an i440FX one, as libvirt decides: `pc`,
    /// `pc-i440fx-*`, `pc-0.*`, `pc-1.*`; also no machine at all, since
    /// `pc` is the x86 default.
    pub fn is_i440fx(&self) -> bool {
        match self.machine.as_deref() {
            None => true,
            Some(m) => {
                m == "pc"
                    || m.starts_with("pc-i440")
                    || m.starts_with("pc-0.")
                    || m.starts_with("pc-1.")
            }
        }
    }

    /// Whether the domain boots UEFI firmware: `firmware='efi'`, or a
    /// pflash `<loader>`.
    pub fn is_uefi(&self) -> bool {
        self.firmware == Some(FirmwareKind::Efi)
            || self
                .loader
                .as_ref()
                .is_some_and(|l| l.kind == Some(LoaderType::Pflash))
    }
}

/// `<bootmenu enable= timeout=>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BootMenu {
    /// `enable`.
    pub enable: bool,
    /// `timeout`, in milliseconds.
    pub timeout: Option<u16>,
}

/// `<bios useserial= rebootTimeout=>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BiosOptions {
    /// `useserial='yes|no'`: BIOS messages on the serial port.
    pub useserial: Option<bool>,
    /// `rebootTimeout`: milliseconds before retrying a failed boot; -1
    /// never retries.
    pub reboot_timeout: Option<i32>,
}

/// `<loader readonly= secure= type= stateless= format=>PATH</loader>`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Loader {
    /// The firmware image path; `None` leaves the choice to the firmware
    /// selection of `<os firmware=...>`.
    pub path: Option<String>,
    /// `readonly='yes|no'`; `None` when not written.
    pub readonly: Option<bool>,
    /// `secure='yes|no'`: the firmware needs SMM for secure boot.
    pub secure: Option<bool>,
    /// `type='rom|pflash'`; `None` when not written (rom).
    pub kind: Option<LoaderType>,
    /// `stateless='yes|no'`: the firmware has no variable store.
    pub stateless: Option<bool>,
    /// `format`: the image's format; `None` when not written (raw).
    pub format: Option<FirmwareFormat>,
}

impl Loader {
    /// The image's format: as written, else raw.
    pub fn effective_format(&self) -> FirmwareFormat {
        self.format.unwrap_or(FirmwareFormat::Raw)
    }
}

/// `<nvram template= templateFormat= format=>PATH</nvram>`, or with
/// `type='file|block'` the path in a `<source file|dev=>` child, or with
/// `type='network'` a network disk's `<source protocol=>`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Nvram {
    /// The variable store path; `None` lets the manager choose one.
    pub path: Option<String>,
    /// `template`: the file the store is copied from when it does not exist.
    pub template: Option<String>,
    /// `format`: the store's image format; `None` when not written (the
    /// loader's).
    pub format: Option<FirmwareFormat>,
    /// `templateFormat`: the template's image format; `None` when not
    /// written (the store's).
    pub template_format: Option<FirmwareFormat>,
    /// `type`: the path is in a `<source>` child, a file or a block
    /// device; `None` for the path as the element's text (a file).
    pub kind: Option<NvramType>,
    /// The export of a `type='network'` store (then `path` is `None`):
    /// the store lives on the server, never made from a template.
    pub network: Option<super::NetworkSource>,
}

impl Nvram {
    /// Whether the store is a network export (`type='network'`), which
    /// the manager neither makes nor removes.
    pub fn is_network(&self) -> bool {
        self.network.is_some()
    }
}

words! {
    /// `<hyperv mode=...>`.
    pub enum HypervMode {
        /// Each enlightenment as listed.
        Custom = "custom",
        /// Every enlightenment the host has.
        Passthrough = "passthrough",
    }

    /// The Hyper-V enlightenments, in libvirt's order.
    pub enum HypervFlag {
        /// `<relaxed>`: relaxed timing.
        Relaxed = "relaxed",
        /// `<vapic>`: virtual APIC assist.
        Vapic = "vapic",
        /// `<spinlocks>`: spinlock retries before notifying the hypervisor.
        Spinlocks = "spinlocks",
        /// `<vpindex>`: virtual processor index.
        Vpindex = "vpindex",
        /// `<runtime>`: processor run time.
        Runtime = "runtime",
        /// `<synic>`: synthetic interrupt controller.
        Synic = "synic",
        /// `<stimer>`: synthetic timers.
        Stimer = "stimer",
        /// `<reset>`: hypervisor reset.
        Reset = "reset",
        /// `<vendor_id>`: the hypervisor vendor id.
        VendorId = "vendor_id",
        /// `<frequencies>`: frequency MSRs.
        Frequencies = "frequencies",
        /// `<reenlightenment>`: re-enlightenment after migration.
        Reenlightenment = "reenlightenment",
        /// `<tlbflush>`: paravirtual TLB flush.
        Tlbflush = "tlbflush",
        /// `<ipi>`: paravirtual IPIs.
        Ipi = "ipi",
        /// `<evmcs>`: enlightened VMCS.
        Evmcs = "evmcs",
        /// `<avic>`: AMD AVIC support.
        Avic = "avic",
        /// `<emsr_bitmap>`: enlightened MSR bitmap (libvirt 9.3 and
        /// later).
        EmsrBitmap = "emsr_bitmap",
        /// `<xmm_input>`: hypercall input in XMM registers (libvirt 9.3
        /// and later).
        XmmInput = "xmm_input",
    }

    /// The KVM features of `<features><kvm>`, in libvirt's order.
    pub enum KvmFlag {
        /// `<hidden>`: hide the KVM signature from the guest.
        Hidden = "hidden",
        /// `<hint-dedicated>`: vCPUs are pinned to dedicated host CPUs.
        HintDedicated = "hint-dedicated",
        /// `<poll-control>`: guest-controlled halt polling.
        PollControl = "poll-control",
        /// `<pv-ipi>`: paravirtual IPIs.
        PvIpi = "pv-ipi",
        /// `<dirty-ring>`: dirty page ring.
        DirtyRing = "dirty-ring",
    }

    /// `<ioapic driver=...>`.
    pub enum IoapicDriver {
        /// The IOAPIC emulated in QEMU (split irqchip).
        Qemu = "qemu",
        /// The IOAPIC in the KVM kernel module.
        Kvm = "kvm",
    }
}

/// `<features>`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Features {
    /// `<acpi/>`.
    pub acpi: bool,
    /// `<apic/>`.
    pub apic: bool,
    /// `<apic eoi=...>`: the paravirtual end of interrupt (KVM's
    /// `kvm-pv-eoi`).
    pub apic_eoi: Option<bool>,
    /// `<tcg><tb-cache>`: the size of QEMU's translation cache, in KiB
    /// (a whole number of MiB; TCG domains only).
    pub tcg_tb_cache_kib: Option<u64>,
    /// `<pae/>` (always on for x86_64; kept for round trips).
    pub pae: bool,
    /// `<hap state=...>`: hardware assisted paging.
    pub hap: Option<bool>,
    /// `<pmu state=...>`: the performance monitoring unit.
    pub pmu: Option<bool>,
    /// `<vmport state=...>`: the VMware I/O port.
    pub vmport: Option<bool>,
    /// `<ps2 state=...>`: the PS/2 controller (libvirt 9.2 and later;
    /// off leaves the guest without PS/2 mouse and keyboard).
    pub ps2: Option<bool>,
    /// `<vmcoreinfo state=...>`: the vmcoreinfo device.
    pub vmcoreinfo: Option<bool>,
    /// `<pvspinlock state=...>`: paravirtual spinlocks.
    pub pvspinlock: Option<bool>,
    /// `<smm state=...>`: system management mode.
    pub smm: Option<Smm>,
    /// `<ioapic driver=...>`.
    pub ioapic: Option<IoapicDriver>,
    /// `<hyperv>`: Hyper-V enlightenments.
    pub hyperv: Option<Box<Hyperv>>,
    /// `<kvm>`: KVM features.
    pub kvm: Option<Box<KvmFeatures>>,
}

/// `<smm state=...><tseg unit=...>N</tseg></smm>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Smm {
    /// `state='on|off'`.
    pub enabled: bool,
    /// `<tseg>`: the size of the extended TSEG, in KiB.
    pub tseg_kib: Option<u64>,
}

/// `<hyperv mode=...>` and its enlightenments.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Hyperv {
    /// `mode`; `None` when not written (custom).
    pub mode: Option<HypervMode>,
    /// Each enlightenment written, with its `state`.
    pub flags: BTreeMap<HypervFlag, bool>,
    /// `<spinlocks retries=...>`.
    pub spinlocks_retries: Option<u32>,
    /// `<stimer><direct state=...>`.
    pub stimer_direct: Option<bool>,
    /// `<vendor_id value=...>`.
    pub vendor_id: Option<String>,
}

/// `<kvm>` and its features.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KvmFeatures {
    /// Each feature written, with its `state`.
    pub flags: BTreeMap<KvmFlag, bool>,
    /// `<dirty-ring size=...>`: KVM's dirty ring, in entries per vCPU
    /// (`-accel kvm,dirty-ring-size=`; refused under TCG).
    pub dirty_ring_size: Option<u32>,
}

/// `<clock offset=...>` with its timers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clock {
    /// `offset` and the attributes that go with it.
    pub offset: ClockOffset,
    /// `<timer>` children.
    pub timers: Vec<Timer>,
}

/// `<clock offset=...>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClockOffset {
    /// `utc`: the guest clock is UTC.
    Utc {
        /// `adjustment`: `reset` or seconds added at boot.
        adjustment: Option<Adjustment>,
    },
    /// `localtime`: the guest clock is the host's local time.
    Localtime {
        /// `adjustment`: `reset` or seconds added at boot.
        adjustment: Option<Adjustment>,
    },
    /// `variable`: an offset the guest may change.
    Variable {
        /// `adjustment`: seconds from the basis.
        adjustment: i64,
        /// `basis='utc|localtime'`; `None` when not written (utc).
        basis: Option<ClockBasis>,
    },
    /// `timezone`: the guest clock is in this time zone.
    Timezone(String),
    /// `absolute`: the guest clock starts at a fixed time.
    Absolute {
        /// `start`: seconds since the epoch.
        start: u64,
    },
}

/// `<clock adjustment=...>` of a utc or localtime clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Adjustment {
    /// `reset`: no adjustment carried over.
    Reset,
    /// Seconds added to the clock at boot.
    Seconds(i64),
}

words! {
    /// `<clock basis=...>` of a variable clock.
    pub enum ClockBasis {
        /// Relative to UTC.
        Utc = "utc",
        /// Relative to the host's local time.
        Localtime = "localtime",
    }

    /// `<timer name=...>`.
    pub enum TimerName {
        /// The platform timer.
        Platform = "platform",
        /// The i8254 programmable interval timer.
        Pit = "pit",
        /// The MC146818 real time clock.
        Rtc = "rtc",
        /// The high precision event timer.
        Hpet = "hpet",
        /// The time stamp counter.
        Tsc = "tsc",
        /// KVM's paravirtual clock.
        Kvmclock = "kvmclock",
        /// Hyper-V's reference time counter.
        Hypervclock = "hypervclock",
        /// The ARM virtual timer.
        Armvtimer = "armvtimer",
    }

    /// `<timer tickpolicy=...>`.
    pub enum TickPolicy {
        /// Keep ticking at the normal rate; late ticks are delivered late.
        Delay = "delay",
        /// Deliver missed ticks faster until caught up.
        Catchup = "catchup",
        /// Merge missed ticks into one.
        Merge = "merge",
        /// Drop missed ticks.
        Discard = "discard",
    }

    /// `<timer track=...>` of the rtc.
    pub enum TimerTrack {
        /// Boot time (of the domain).
        Boot = "boot",
        /// The guest's time (stops while paused).
        Guest = "guest",
        /// The host's wall clock.
        Wall = "wall",
        /// The host's monotonic clock.
        Realtime = "realtime",
    }

    /// `<timer mode=...>` of the tsc.
    pub enum TscMode {
        /// Native if the TSC is stable, else emulated.
        Auto = "auto",
        /// Always native.
        Native = "native",
        /// Always emulated.
        Emulate = "emulate",
        /// Paravirtualized.
        Paravirt = "paravirt",
        /// Native, with a TSC that is safe across CPUs.
        Smpsafe = "smpsafe",
    }
}

/// `<timer name= tickpolicy= present= track= frequency= mode=>` with an
/// optional `<catchup>` child.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timer {
    /// `name`.
    pub name: TimerName,
    /// `tickpolicy`.
    pub tickpolicy: Option<TickPolicy>,
    /// `present='yes|no'`.
    pub present: Option<bool>,
    /// `track` (rtc only).
    pub track: Option<TimerTrack>,
    /// `frequency` in Hz (tsc only).
    pub frequency: Option<u64>,
    /// `mode` (tsc only).
    pub mode: Option<TscMode>,
    /// `<catchup threshold= slew= limit=>`.
    pub catchup: Option<Catchup>,
}

impl Timer {
    /// A timer named `name` with nothing else set.
    pub fn new(name: TimerName) -> Timer {
        Timer {
            name,
            tickpolicy: None,
            present: None,
            track: None,
            frequency: None,
            mode: None,
            catchup: None,
        }
    }
}

/// `<catchup>` inside a timer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Catchup {
    /// `threshold`.
    pub threshold: Option<u64>,
    /// `slew`.
    pub slew: Option<u64>,
    /// `limit`.
    pub limit: Option<u64>,
}

/// `<pm>`: `None` means "not written" (the hypervisor's default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pm {
    /// `<suspend-to-mem enabled=...>`.
    pub suspend_to_mem: Option<bool>,
    /// `<suspend-to-disk enabled=...>`.
    pub suspend_to_disk: Option<bool>,
}

words! {
    /// `<cpu mode=...>`.
    pub enum CpuMode {
        /// A named model (`<model>`), or only a topology.
        Custom = "custom",
        /// The named model closest to the host CPU.
        HostModel = "host-model",
        /// The host CPU as it is (needs KVM).
        HostPassthrough = "host-passthrough",
        /// The largest CPU the hypervisor can offer.
        Maximum = "maximum",
    }

    /// `<cpu match=...>`.
    pub enum CpuMatch {
        /// At least the named model.
        Minimum = "minimum",
        /// Exactly the named model.
        Exact = "exact",
        /// Exactly the named model, and the host must have it.
        Strict = "strict",
    }

    /// `<cpu check=...>`.
    pub enum CpuCheck {
        /// No check: the hypervisor may drop what it cannot provide.
        None = "none",
        /// Checked against the host before start.
        Partial = "partial",
        /// Checked before start and after.
        Full = "full",
    }

    /// `<model fallback=...>`.
    pub enum CpuFallback {
        /// A close model may be used instead.
        Allow = "allow",
        /// Only the named model.
        Forbid = "forbid",
    }

    /// `<feature policy=...>` of a CPU feature.
    pub enum FeaturePolicy {
        /// On, whether or not the host has it.
        Force = "force",
        /// On; the host must have it.
        Require = "require",
        /// On if the host has it.
        Optional = "optional",
        /// Off.
        Disable = "disable",
        /// Off; the host must not have it.
        Forbid = "forbid",
    }

    /// `<cache mode=...>` of a CPU.
    pub enum CpuCacheMode {
        /// An emulated cache description.
        Emulate = "emulate",
        /// The host's cache description.
        Passthrough = "passthrough",
        /// No cache description.
        Disable = "disable",
    }

    /// `<maxphysaddr mode=...>`.
    pub enum PhysAddrMode {
        /// The host's physical address width (KVM).
        Passthrough = "passthrough",
        /// The width `bits` gives.
        Emulate = "emulate",
    }
}

/// `<maxphysaddr mode= bits=>`: the physical address width the vCPUs
/// report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaxPhysAddr {
    /// `mode`.
    pub mode: PhysAddrMode,
    /// `bits`: the width, for `emulate` (and only there).
    pub bits: Option<u32>,
}

/// `<cpu>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cpu {
    /// `mode`; libvirt reads a missing mode as custom.
    pub mode: CpuMode,
    /// `match` (custom mode).
    pub match_: Option<CpuMatch>,
    /// `check`.
    pub check: Option<CpuCheck>,
    /// `migratable='on|off'` (host-passthrough and maximum).
    pub migratable: Option<bool>,
    /// `<model fallback=...>NAME</model>`.
    pub model: Option<CpuModel>,
    /// `<vendor>`.
    pub vendor: Option<String>,
    /// `<topology>`.
    pub topology: Option<CpuTopology>,
    /// `<cache>`.
    pub cache: Option<CpuCache>,
    /// `<maxphysaddr>`.
    pub max_phys_addr: Option<MaxPhysAddr>,
    /// `<feature>` elements, in order.
    pub features: Vec<CpuFeature>,
    /// `<numa><cell>`: the guest's NUMA nodes.
    pub numa: Vec<NumaCell>,
    /// `<numa><interconnects>`: latencies and bandwidths between the
    /// cells, in document order.
    pub interconnects: Vec<super::NumaInterconnect>,
}

impl Cpu {
    /// A CPU of `mode` with nothing else set.
    pub fn new(mode: CpuMode) -> Cpu {
        Cpu {
            mode,
            match_: None,
            check: None,
            migratable: None,
            model: None,
            vendor: None,
            topology: None,
            cache: None,
            max_phys_addr: None,
            features: Vec::new(),
            numa: Vec::new(),
            interconnects: Vec::new(),
        }
    }
}

/// `<model fallback=...>NAME</model>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CpuModel {
    /// The model name (`Skylake-Client`, `qemu64`); `None` only in
    /// host-model mode, where the element carries just `fallback`.
    pub name: Option<String>,
    /// `fallback`.
    pub fallback: Option<CpuFallback>,
    /// `vendor_id`: the CPUID vendor string the guest sees (12 characters).
    pub vendor_id: Option<String>,
}

/// `<topology sockets= dies= cores= threads=>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpuTopology {
    /// `sockets`.
    pub sockets: u32,
    /// `dies`; `None` when not written (1).
    pub dies: Option<u32>,
    /// `clusters` (libvirt 10.1 and later); `None` when not written (1).
    pub clusters: Option<u32>,
    /// `cores`.
    pub cores: u32,
    /// `threads`.
    pub threads: u32,
}

impl CpuTopology {
    /// The number of vCPUs the topology holds.
    pub fn total(&self) -> u64 {
        u64::from(self.sockets)
            * u64::from(self.dies.unwrap_or(1))
            * u64::from(self.clusters.unwrap_or(1))
            * u64::from(self.cores)
            * u64::from(self.threads)
    }
}

/// `<cache level= mode=>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpuCache {
    /// `level`; `None` means every level.
    pub level: Option<u32>,
    /// `mode`.
    pub mode: CpuCacheMode,
}

/// `<feature policy= name=>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CpuFeature {
    /// `policy`; libvirt reads a missing policy as require.
    pub policy: FeaturePolicy,
    /// `name`: the CPUID feature (`vmx`, `avx2`).
    pub name: String,
}

words! {
    /// What to do when the guest powers off, reboots or crashes.
    pub enum LifecycleAction {
        /// End the domain.
        Destroy = "destroy",
        /// Start it again.
        Restart = "restart",
        /// Keep the stopped domain (paused) for inspection.
        Preserve = "preserve",
    }
}
