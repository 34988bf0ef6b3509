//! The typed domain definition: what a libvirt `<domain>` document says, in
//! Rust types. Field names follow libvirt's element and attribute names.
//!
//! This file holds data only: reading is in `parse`, writing in `format`,
//! checks in `validate`. Nothing here knows about QEMU or files.

use uuid::Uuid;

/// A complete domain definition, as read from or written to domain XML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainDef {
    /// `<domain type=...>`: the accelerator the domain asks for.
    pub virt_type: VirtType,
    /// `<name>`: unique among the domains of one manager.
    pub name: String,
    /// `<uuid>`: generated when the document has none.
    pub uuid: Uuid,
    /// `<title>`: a short one-line description.
    pub title: Option<String>,
    /// `<description>`: free text for people.
    pub description: Option<String>,
    /// `<metadata>`: the element's children kept verbatim as an XML fragment.
    pub metadata: Option<String>,
    /// `<memory>`: the maximum memory, in KiB.
    pub memory_kib: u64,
    /// `<currentMemory>`: the memory at boot, in KiB (default: `memory_kib`).
    pub current_memory_kib: Option<u64>,
    /// `<vcpu>`.
    pub vcpu: Vcpu,
    /// `<os>`.
    pub os: Os,
    /// `<features>`.
    pub features: Features,
    /// `<clock>`; `None` when the document has no `<clock>` (UTC).
    pub clock: Option<Clock>,
    /// `<pm>`: guest power management switches.
    pub pm: Pm,
    /// `<cpu>`; `None` when absent (the hypervisor's default model).
    pub cpu: Option<Cpu>,
    /// `<on_poweroff>` (default: destroy).
    pub on_poweroff: LifecycleAction,
    /// `<on_reboot>` (default: restart).
    pub on_reboot: LifecycleAction,
    /// `<on_crash>` (default: destroy).
    pub on_crash: LifecycleAction,
    /// `<devices>`.
    pub devices: Devices,
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
}

/// `<os>`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Os {
    /// `<type arch=...>`; `None` means the host's architecture.
    pub arch: Option<String>,
    /// `<type machine=...>`; `None` means the emulator's default machine.
    pub machine: Option<String>,
    /// `<boot dev=...>` in order; empty means libvirt's default (hd) unless a
    /// device has a `<boot order>`.
    pub boot: Vec<BootDev>,
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
}

impl Os {
    /// Whether the machine is a Q35 (ICH9) one, as libvirt decides:
    /// `q35` or `pc-q35-*`.
    pub fn is_q35(&self) -> bool {
        self.machine
            .as_deref()
            .is_some_and(|m| m == "q35" || m.starts_with("pc-q35"))
    }

    /// Whether the machine is an i440FX (PIIX) one, as libvirt decides:
    /// `pc`, `pc-i440fx-*`, `pc-0.*`, `pc-1.*`; also no machine at all,
    /// since `pc` is the x86 default.
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
}

/// `<boot dev=...>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BootDev {
    /// `hd`: the first hard disk.
    Hd,
    /// `cdrom`: the first CD-ROM.
    Cdrom,
    /// `fd`: the first floppy.
    Fd,
    /// `network`: PXE from the first interface.
    Network,
}

/// `<loader readonly=... type=...>PATH</loader>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loader {
    /// The firmware image path.
    pub path: String,
    /// `readonly='yes|no'`; `None` when not written.
    pub readonly: Option<bool>,
    /// `type='rom|pflash'`; `None` when not written (rom).
    pub kind: Option<LoaderType>,
}

/// `<loader type=...>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoaderType {
    /// Mapped as a ROM (`-bios`).
    Rom,
    /// Mapped as a parallel flash device.
    Pflash,
}

/// `<nvram template=...>PATH</nvram>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nvram {
    /// The variable store path; `None` when only a template is given.
    pub path: Option<String>,
    /// `template`: the file the store is copied from when it does not exist.
    pub template: Option<String>,
}

/// `<features>`: the switches qvirt supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Features {
    /// `<acpi/>`.
    pub acpi: bool,
    /// `<apic/>`.
    pub apic: bool,
    /// `<pae/>` (always on for x86_64; kept for round trips).
    pub pae: bool,
}

/// `<clock offset=...>` with its timers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clock {
    /// `offset`.
    pub offset: ClockOffset,
    /// `<timer>` children.
    pub timers: Vec<Timer>,
}

/// `<clock offset=...>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockOffset {
    /// The guest clock is UTC.
    Utc,
    /// The guest clock is the host's local time.
    Localtime,
}

/// `<timer name=... tickpolicy=... present=...>` with an optional
/// `<catchup>` child.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timer {
    /// `name`: rtc, pit, hpet, kvmclock, ...
    pub name: String,
    /// `tickpolicy`: delay, catchup, merge, discard.
    pub tickpolicy: Option<String>,
    /// `present='yes|no'`.
    pub present: Option<bool>,
    /// `<catchup threshold= slew= limit=>`, kept as written.
    pub catchup: Option<Catchup>,
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

/// `<cpu mode=...>`: only the modes that need no CPU model database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cpu {
    /// `mode`.
    pub mode: CpuMode,
}

/// `<cpu mode=...>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CpuMode {
    /// The host CPU as it is (needs KVM).
    HostPassthrough,
    /// The largest CPU model the hypervisor can emulate.
    Maximum,
}

/// What to do when the guest powers off, reboots or crashes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LifecycleAction {
    /// End the domain.
    Destroy,
    /// Start it again.
    Restart,
    /// Keep the stopped domain (paused) for inspection.
    Preserve,
}

/// `<devices>`, each kind in document order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Devices {
    /// `<emulator>`: the QEMU binary; `None` means the default for the arch.
    pub emulator: Option<String>,
    /// `<disk>`.
    pub disks: Vec<Disk>,
    /// `<controller>`.
    pub controllers: Vec<Controller>,
    /// `<interface>`.
    pub interfaces: Vec<Interface>,
    /// `<serial>`.
    pub serials: Vec<CharDevice>,
    /// `<console>`.
    pub consoles: Vec<CharDevice>,
    /// `<input>`.
    pub inputs: Vec<Input>,
    /// `<graphics>`.
    pub graphics: Vec<Graphics>,
    /// `<video>`.
    pub videos: Vec<Video>,
    /// `<audio>`.
    pub audios: Vec<Audio>,
    /// `<memballoon>`; `None` when absent (libvirt then adds a virtio one).
    pub memballoon: Option<Memballoon>,
}

/// A device's bus address, `<address type=...>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Address {
    /// `type='pci' domain= bus= slot= function= multifunction=`.
    Pci(PciAddress),
    /// `type='drive' controller= bus= target= unit=`.
    Drive(DriveAddress),
    /// `type='usb' bus= port=` (a single port number, no hubs).
    Usb {
        /// The USB controller index.
        bus: u32,
        /// The port on that controller; 0 (written as no `port`) lets
        /// the controller pick a free one, as libvirt does.
        port: u32,
    },
}

/// A PCI address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PciAddress {
    /// PCI domain (segment); only 0 exists on x86 machines.
    pub domain: u32,
    /// Bus number, 0..=255: the `index` of a PCI controller.
    pub bus: u32,
    /// Slot, 0..=31.
    pub slot: u32,
    /// Function, 0..=7.
    pub function: u32,
    /// `multifunction='on|off'`; `None` when not written.
    pub multifunction: Option<bool>,
}

/// A disk's address on its controller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DriveAddress {
    /// Controller index.
    pub controller: u32,
    /// Bus on that controller.
    pub bus: u32,
    /// Target (SCSI).
    pub target: u32,
    /// Unit.
    pub unit: u32,
}

/// `<driver>` options common to virtio devices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct VirtioOptions {
    /// `iommu='on|off'`.
    pub iommu: Option<bool>,
    /// `ats='on|off'`.
    pub ats: Option<bool>,
    /// `packed='on|off'`.
    pub packed: Option<bool>,
    /// `page_per_vq='on|off'`.
    pub page_per_vq: Option<bool>,
}

impl VirtioOptions {
    /// Whether no option is set.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// `<disk>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disk {
    /// `type='file|block'`: where the source lives.
    pub kind: DiskType,
    /// `device='disk|cdrom|floppy'`.
    pub device: DiskDevice,
    /// `<driver name='qemu' type=...>`: the image format; `None` means raw.
    pub format: Option<DiskFormat>,
    /// `<source file=...>` or `<source dev=...>`; `None` for an empty
    /// cdrom or floppy drive.
    pub source: Option<String>,
    /// `<target dev=...>`: the guest-visible name (hda, sdb, vdc, fda).
    pub target: String,
    /// `<target bus=...>`; `None` means derived from the target name.
    pub bus: Option<DiskBus>,
    /// `<readonly/>`.
    pub readonly: bool,
    /// `<shareable/>`.
    pub shareable: bool,
    /// `<serial>`: the serial number the guest sees.
    pub serial: Option<String>,
    /// `<boot order=...>`: per-device boot priority, 1 first.
    pub boot_order: Option<u32>,
    /// `<address>`.
    pub address: Option<Address>,
}

impl Disk {
    /// The bus: `<target bus=...>`, or else the one libvirt derives from the
    /// target name (hd: IDE, sd: SCSI, vd: virtio, fd: floppy). `None` when
    /// neither says.
    pub fn effective_bus(&self) -> Option<DiskBus> {
        self.bus.or_else(|| {
            let prefixes = [
                ("hd", DiskBus::Ide),
                ("sd", DiskBus::Scsi),
                ("vd", DiskBus::Virtio),
                ("fd", DiskBus::Fdc),
            ];
            prefixes
                .iter()
                .find(|(p, _)| self.target.starts_with(p))
                .map(|(_, b)| *b)
        })
    }
}

/// `<disk type=...>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DiskType {
    /// A regular file (`<source file=...>`).
    File,
    /// A block device (`<source dev=...>`).
    Block,
}

/// `<disk device=...>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DiskDevice {
    /// A hard disk.
    Disk,
    /// A CD-ROM drive (read-only media, may be empty).
    Cdrom,
    /// A floppy drive (may be empty).
    Floppy,
}

/// `<driver type=...>`: the image format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DiskFormat {
    /// Raw bytes.
    Raw,
    /// QEMU copy-on-write v2.
    Qcow2,
}

/// `<target bus=...>`; [`DiskBus::as_str`] gives libvirt's word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DiskBus {
    /// IDE (hdX).
    Ide,
    /// SATA on an AHCI controller (sdX).
    Sata,
    /// virtio-blk (vdX).
    Virtio,
    /// SCSI (sdX).
    Scsi,
    /// The floppy controller (fdX).
    Fdc,
    /// USB mass storage (sdX).
    Usb,
}

/// `<controller>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Controller {
    /// `type`.
    pub kind: ControllerType,
    /// `index`.
    pub index: u32,
    /// `model`, as written (pci-root, piix3-uhci, virtio-scsi, ...).
    pub model: Option<String>,
    /// `ports` (USB and virtio-serial).
    pub ports: Option<u32>,
    /// `<model name=...>` (PCI controllers: the QEMU device to use).
    pub model_name: Option<String>,
    /// `<target>` of a PCI controller.
    pub target: Option<ControllerTarget>,
    /// `<master startport=...>` of a USB companion controller.
    pub master_startport: Option<u32>,
    /// `<pcihole64 unit=...>`, in KiB.
    pub pcihole64_kib: Option<u64>,
    /// `<driver>` virtio options.
    pub virtio: VirtioOptions,
    /// `<address>`.
    pub address: Option<Address>,
}

impl Controller {
    /// A controller of `kind` and `index` with `model` and nothing else
    /// set.
    pub fn new(kind: ControllerType, index: u32, model: Option<String>) -> Controller {
        Controller {
            kind,
            index,
            model,
            ports: None,
            model_name: None,
            target: None,
            master_startport: None,
            pcihole64_kib: None,
            virtio: VirtioOptions::default(),
            address: None,
        }
    }
}

/// `<controller type=...>`; [`ControllerType::as_str`] gives libvirt's word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ControllerType {
    /// PCI buses, bridges and root ports.
    Pci,
    /// USB host controllers.
    Usb,
    /// IDE.
    Ide,
    /// SATA (AHCI).
    Sata,
    /// SCSI host adapters.
    Scsi,
    /// The floppy controller.
    Fdc,
    /// virtio-serial.
    VirtioSerial,
}

/// `<controller><target .../>` attributes of PCI controllers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ControllerTarget {
    /// `chassisNr` (pci-bridge).
    pub chassis_nr: Option<u32>,
    /// `chassis` (root and downstream ports).
    pub chassis: Option<u32>,
    /// `port` (root and downstream ports).
    pub port: Option<u32>,
    /// `busNr` (expander buses).
    pub bus_nr: Option<u32>,
    /// `hotplug='on|off'`.
    pub hotplug: Option<bool>,
    /// `memReserve`, in KiB.
    pub mem_reserve: Option<u64>,
    /// `<node>`: the NUMA node of an expander bus.
    pub node: Option<u32>,
}

/// `<interface>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interface {
    /// `type` with its source.
    pub kind: InterfaceType,
    /// `<mac address=...>`; generated (52:54:00:xx:xx:xx) when absent.
    pub mac: MacAddr,
    /// `<model type=...>`, as written (virtio, e1000, rtl8139, ...).
    pub model: Option<String>,
    /// `<target dev=...>`: the host tap device name.
    pub target_dev: Option<String>,
    /// `<portForward>` rules (user networking).
    pub port_forwards: Vec<PortForward>,
    /// `<boot order=...>`.
    pub boot_order: Option<u32>,
    /// `<address>`.
    pub address: Option<Address>,
}

/// `<interface type=...>` with what its `<source>` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InterfaceType {
    /// `user`: QEMU's own NAT (slirp).
    User,
    /// `network`: a libvirt managed network, `<source network=...>`.
    Network(String),
    /// `bridge`: a tap on a host bridge, `<source bridge=...>`.
    Bridge(String),
    /// `ethernet`: a tap device configured by the host.
    Ethernet,
}

/// A MAC address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MacAddr(pub [u8; 6]);

impl std::fmt::Display for MacAddr {
    /// Lower-case, colon-separated: `52:54:00:12:34:56`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let b = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            b[0], b[1], b[2], b[3], b[4], b[5]
        )
    }
}

impl std::str::FromStr for MacAddr {
    type Err = ();

    /// Six colon-separated pairs of hex digits, either case.
    fn from_str(s: &str) -> Result<MacAddr, ()> {
        let mut out = [0u8; 6];
        let mut parts = s.split(':');
        for byte in &mut out {
            let p = parts.next().ok_or(())?;
            if p.len() != 2 || !p.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(());
            }
            *byte = u8::from_str_radix(p, 16).map_err(|_| ())?;
        }
        if parts.next().is_some() {
            return Err(());
        }
        Ok(MacAddr(out))
    }
}

/// `<portForward proto= address= dev=>` with its `<range>` children.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortForward {
    /// `proto`.
    pub proto: PortProto,
    /// `address`: the host address to listen on; `None` means loopback.
    pub address: Option<String>,
    /// `<range start= end= to= exclude=>` children.
    pub ranges: Vec<PortRange>,
}

/// `<portForward proto=...>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PortProto {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
}

/// `<range start=HOSTPORT end=HOSTPORT to=GUESTPORT/>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortRange {
    /// `start`: the first host port.
    pub start: u16,
    /// `end`: the last host port of a range; `None` for a single port.
    pub end: Option<u16>,
    /// `to`: the guest port `start` maps to; `None` means the same port.
    pub to: Option<u16>,
}

/// `<serial>` or `<console>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CharDevice {
    /// `type` with its `<source>`.
    pub source: CharSource,
    /// `<target port=...>`.
    pub target_port: Option<u32>,
    /// `<target type=...>`: serial, isa-serial, virtio, ...
    pub target_type: Option<String>,
}

/// The host side of a character device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CharSource {
    /// `pty`: a pseudo-terminal; `path` is filled in while running.
    Pty {
        /// `<source path=...>` of a running domain.
        path: Option<String>,
    },
    /// `file`: output appended to a file.
    File {
        /// `<source path=...>`.
        path: String,
        /// `<source append='on|off'>`.
        append: Option<bool>,
    },
    /// `unix`: a UNIX socket.
    Unix {
        /// `<source path=...>`.
        path: String,
        /// `mode='bind'`: QEMU listens; `connect`: QEMU connects.
        listen: bool,
    },
    /// `null`: output discarded.
    Null,
}

/// `<input type=... bus=... model=...>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    /// `type`: mouse, keyboard, tablet, passthrough.
    pub kind: InputType,
    /// `bus`: ps2, usb, virtio; `None` when not written.
    pub bus: Option<InputBus>,
    /// `model`: virtio, virtio-transitional, virtio-non-transitional.
    pub model: Option<String>,
    /// `<source evdev=...>` of a passthrough device.
    pub evdev: Option<String>,
    /// `<driver>` virtio options.
    pub virtio: VirtioOptions,
    /// `<address>`.
    pub address: Option<Address>,
}

/// `<input type=...>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InputType {
    /// A relative pointer.
    Mouse,
    /// A keyboard.
    Keyboard,
    /// An absolute pointer.
    Tablet,
    /// A host evdev device handed to the guest.
    Passthrough,
}

/// `<input bus=...>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InputBus {
    /// The PS/2 port (built into x86 machines).
    Ps2,
    /// USB.
    Usb,
    /// virtio-input.
    Virtio,
}

/// `<graphics type='vnc'>`: the only graphics type qvirt supports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Graphics {
    /// `port`: the TCP port; `None` or -1 with `autoport` means chosen at start.
    pub port: Option<i32>,
    /// `autoport='yes|no'`; `None` when not written.
    pub autoport: Option<bool>,
    /// `listen`: the address to listen on (default: loopback).
    pub listen: Option<String>,
    /// `<listen type='address' address=...>` children.
    pub listen_addresses: Vec<String>,
    /// `passwd`: the VNC password (8 characters are used).
    pub passwd: Option<String>,
}

/// `<video>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Video {
    /// `<model type=...>`: vga, cirrus, qxl, virtio, bochs, none.
    pub model: String,
    /// `vram` in KiB.
    pub vram: Option<u64>,
    /// `ram` in KiB (qxl).
    pub ram: Option<u64>,
    /// `vgamem` in KiB (qxl).
    pub vgamem: Option<u64>,
    /// `heads`.
    pub heads: Option<u32>,
    /// `primary='yes'`.
    pub primary: bool,
    /// `<driver>` virtio options.
    pub virtio: VirtioOptions,
    /// `<address>`.
    pub address: Option<Address>,
}

/// `<audio id=... type='none'>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Audio {
    /// `id`.
    pub id: u32,
}

/// `<memballoon model=...>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Memballoon {
    /// `model='virtio|none'`.
    pub model: BalloonModel,
    /// `autodeflate='on|off'`.
    pub autodeflate: Option<bool>,
    /// `freePageReporting='on|off'`.
    pub free_page_reporting: Option<bool>,
    /// `<stats period=...>` in seconds.
    pub stats_period: Option<u32>,
    /// `<driver>` virtio options.
    pub virtio: VirtioOptions,
    /// `<address>`.
    pub address: Option<Address>,
}

/// `<memballoon model=...>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BalloonModel {
    /// virtio-balloon.
    Virtio,
    /// No balloon device.
    None,
}

impl ControllerType {
    /// Every type qvirt supports.
    pub const ALL: [ControllerType; 7] = [
        ControllerType::Pci,
        ControllerType::Usb,
        ControllerType::Ide,
        ControllerType::Sata,
        ControllerType::Scsi,
        ControllerType::Fdc,
        ControllerType::VirtioSerial,
    ];

    /// libvirt's word for the type (`virtio-serial`).
    pub fn as_str(self) -> &'static str {
        match self {
            ControllerType::Pci => "pci",
            ControllerType::Usb => "usb",
            ControllerType::Ide => "ide",
            ControllerType::Sata => "sata",
            ControllerType::Scsi => "scsi",
            ControllerType::Fdc => "fdc",
            ControllerType::VirtioSerial => "virtio-serial",
        }
    }
}

impl DiskBus {
    /// Every bus qvirt supports.
    pub const ALL: [DiskBus; 6] = [
        DiskBus::Ide,
        DiskBus::Sata,
        DiskBus::Virtio,
        DiskBus::Scsi,
        DiskBus::Fdc,
        DiskBus::Usb,
    ];

    /// libvirt's word for the bus (`virtio`).
    pub fn as_str(self) -> &'static str {
        match self {
            DiskBus::Ide => "ide",
            DiskBus::Sata => "sata",
            DiskBus::Virtio => "virtio",
            DiskBus::Scsi => "scsi",
            DiskBus::Fdc => "fdc",
            DiskBus::Usb => "usb",
        }
    }
}
