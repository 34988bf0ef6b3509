//! The devices of a domain: `<devices>` and the address of each device.
//! Character devices (serial ports, consoles, channels) are in `chardev`.

use super::chardev::{Channel, CharDevice, CharSource};
use super::disk::Disk;
use super::display::Graphics;
use super::hostdev::{Filesystem, Hostdev, MemoryDevice, Shmem};
use super::net::Interface;
use super::rng::Rng;
use super::tpm::Tpm;
use super::words::words;

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
    /// `<parallel>`: ISA parallel ports.
    pub parallels: Vec<CharDevice>,
    /// `<channel>`.
    pub channels: Vec<Channel>,
    /// `<input>`.
    pub inputs: Vec<Input>,
    /// `<tpm>`.
    pub tpms: Vec<Tpm>,
    /// `<graphics>`.
    pub graphics: Vec<Graphics>,
    /// `<graphics type='egl-headless'>`: OpenGL rendering on a host GPU
    /// with no display of its own (beside a VNC or SPICE one).
    pub egl_headless: Option<super::EglHeadless>,
    /// `<graphics type='dbus'>`: QEMU's D-Bus display.
    pub dbus_display: Option<super::DbusDisplay>,
    /// `<sound>`.
    pub sounds: Vec<Sound>,
    /// `<audio>`.
    pub audios: Vec<Audio>,
    /// `<video>`.
    pub videos: Vec<Video>,
    /// `<redirdev>`.
    pub redirdevs: Vec<Redirdev>,
    /// `<redirfilter><usbdev>...`: which USB devices the redirection
    /// devices accept, the first matching rule deciding.
    pub redirfilter: Vec<UsbFilterRule>,
    /// `<smartcard>`.
    pub smartcards: Vec<super::Smartcard>,
    /// `<controller type='ccid'>`: USB smartcard readers (apart from
    /// the other controllers, as they sit on USB, not PCI).
    pub ccid_controllers: Vec<super::CcidController>,
    /// `<hub>`.
    pub hubs: Vec<Hub>,
    /// `<watchdog>`.
    pub watchdogs: Vec<Watchdog>,
    /// `<panic>`.
    pub panics: Vec<Panic>,
    /// `<memballoon>`; `None` when absent (libvirt then adds a virtio one).
    pub memballoon: Option<Memballoon>,
    /// `<rng>`.
    pub rngs: Vec<Rng>,
    /// `<hostdev>`.
    pub hostdevs: Vec<Hostdev>,
    /// `<filesystem>`.
    pub filesystems: Vec<Filesystem>,
    /// `<shmem>`.
    pub shmems: Vec<Shmem>,
    /// `<memory>` devices.
    pub memories: Vec<MemoryDevice>,
    /// `<vsock>`.
    pub vsock: Option<super::Vsock>,
    /// `<iommu>`.
    pub iommu: Option<super::Iommu>,
}

impl Devices {
    /// The user aliases of the devices that carry one (disks,
    /// interfaces, serial ports, consoles, USB controllers).
    pub fn user_aliases(&self) -> Vec<&str> {
        let disks = self.disks.iter().map(|d| &d.alias);
        let nets = self.interfaces.iter().map(|n| &n.alias);
        let chars = self.serials.iter().chain(&self.consoles).map(|c| &c.alias);
        let ctls = self.controllers.iter().map(|c| &c.alias);
        disks
            .chain(nets)
            .chain(chars)
            .chain(ctls)
            .filter_map(|a| a.as_deref())
            .collect()
    }
}

/// A device's bus address, `<address type=...>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Address {
    /// `type='pci' domain= bus= slot= function= multifunction=`.
    Pci(PciAddress),
    /// `type='drive' controller= bus= target= unit=`.
    Drive(DriveAddress),
    /// `type='usb' bus= port=`.
    Usb(UsbAddress),
    /// `type='virtio-serial' controller= bus= port=`.
    VirtioSerial(VirtioSerialAddress),
}

impl Address {
    /// libvirt's word for the address type.
    pub fn type_name(&self) -> &'static str {
        match self {
            Address::Pci(_) => "pci",
            Address::Drive(_) => "drive",
            Address::Usb(_) => "usb",
            Address::VirtioSerial(_) => "virtio-serial",
        }
    }
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

/// A USB address: a controller and a port, possibly behind hubs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UsbAddress {
    /// `bus`: the USB controller index (default 0).
    pub bus: u32,
    /// `port`; `None` lets the manager pick a free port.
    pub port: Option<UsbPort>,
}

/// The most hub levels a USB port path has (libvirt's limit).
pub const USB_PORT_DEPTH: usize = 4;

/// A USB port path such as `1` or `1.3` (port 3 of the hub on port 1):
/// one to [`USB_PORT_DEPTH`] port numbers, each 1 or more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UsbPort {
    ports: [u32; USB_PORT_DEPTH],
    len: u8,
}

impl UsbPort {
    /// A port path from its numbers, the controller's port first; `None`
    /// for an empty or too deep path or a port 0.
    pub fn new(path: &[u32]) -> Option<UsbPort> {
        if path.is_empty() || path.len() > USB_PORT_DEPTH || path.contains(&0) {
            return None;
        }
        let mut ports = [0; USB_PORT_DEPTH];
        ports[..path.len()].copy_from_slice(path);
        Some(UsbPort {
            ports,
            len: path.len() as u8,
        })
    }

    /// The port numbers, the controller's port first.
    pub fn path(&self) -> &[u32] {
        &self.ports[..usize::from(self.len)]
    }
}

impl std::fmt::Display for UsbPort {
    /// `1.3`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, p) in self.path().iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

/// A port on a virtio-serial controller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VirtioSerialAddress {
    /// The virtio-serial controller index.
    pub controller: u32,
    /// The bus on it (always 0).
    pub bus: u32,
    /// The port number; 0 lets the manager pick one.
    pub port: u32,
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

words! {
    /// `<controller type=...>`.
    pub enum ControllerType {
        /// IDE.
        Ide = "ide",
        /// The floppy controller.
        Fdc = "fdc",
        /// SCSI host adapters.
        Scsi = "scsi",
        /// SATA (AHCI).
        Sata = "sata",
        /// virtio-serial.
        VirtioSerial = "virtio-serial",
        /// USB host controllers.
        Usb = "usb",
        /// PCI buses, bridges and root ports.
        Pci = "pci",
    }
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
    /// `vectors` (virtio-serial): MSI-X vectors.
    pub vectors: Option<u32>,
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
    /// `<driver queues=...>`: request queues (virtio-scsi).
    pub queues: Option<u32>,
    /// `<driver cmd_per_lun=...>` (virtio-scsi).
    pub cmd_per_lun: Option<u32>,
    /// `<driver max_sectors=...>` (virtio-scsi).
    pub max_sectors: Option<u32>,
    /// `<driver ioeventfd='on|off'>` (virtio-scsi).
    pub ioeventfd: Option<bool>,
    /// `<driver iothread=...>` (virtio-scsi): the I/O thread serving it.
    pub iothread: Option<u32>,
    /// `<address>`.
    pub address: Option<Address>,
    /// `<alias name=...>` of a USB controller: a user alias (`ua-...`),
    /// its QEMU id (and its bus's name) in place of `usb`, `usb1`...
    pub alias: Option<String>,
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
            vectors: None,
            model_name: None,
            target: None,
            master_startport: None,
            pcihole64_kib: None,
            virtio: VirtioOptions::default(),
            queues: None,
            cmd_per_lun: None,
            max_sectors: None,
            ioeventfd: None,
            iothread: None,
            address: None,
            alias: None,
        }
    }
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

words! {
    /// `<input type=...>`.
    pub enum InputType {
        /// A relative pointer.
        Mouse = "mouse",
        /// An absolute pointer.
        Tablet = "tablet",
        /// A keyboard.
        Keyboard = "keyboard",
        /// A host evdev device handed to the guest.
        Passthrough = "passthrough",
        /// A host evdev device whose events QEMU forwards to the guest's
        /// own keyboard and mouse (QEMU's `input-linux`).
        Evdev = "evdev",
    }

    /// `<input bus=...>`.
    pub enum InputBus {
        /// The PS/2 port (built into x86 machines).
        Ps2 = "ps2",
        /// USB.
        Usb = "usb",
        /// virtio-input.
        Virtio = "virtio",
        /// No guest bus: an evdev input feeds the guest's existing devices.
        None = "none",
    }

    /// `<input type='evdev'><source grabToggle=...>`: the keys that move
    /// the grabbed devices between host and guest.
    pub enum GrabToggle {
        /// Both Control keys.
        CtrlCtrl = "ctrl-ctrl",
        /// Both Alt keys.
        AltAlt = "alt-alt",
        /// Both Shift keys.
        ShiftShift = "shift-shift",
        /// Both Meta keys.
        MetaMeta = "meta-meta",
        /// Scroll Lock.
        Scrolllock = "scrolllock",
        /// Control and Scroll Lock.
        CtrlScrolllock = "ctrl-scrolllock",
    }
}

/// The `<source>` settings of an `<input type='evdev'>` besides its device.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EvdevOptions {
    /// `grab='all'`: grab every device of the host, not only this one.
    pub grab_all: bool,
    /// `grabToggle`: the keys that switch the devices; QEMU's default
    /// (both Control keys) when `None`.
    pub grab_toggle: Option<GrabToggle>,
    /// `repeat`: whether the host's key repeat passes through.
    pub repeat: Option<bool>,
}

/// `<input type=... bus=... model=...>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    /// `type`: mouse, keyboard, tablet, passthrough, evdev.
    pub kind: InputType,
    /// `bus`: ps2, usb, virtio; `None` when not written.
    pub bus: Option<InputBus>,
    /// `model`: virtio, virtio-transitional, virtio-non-transitional.
    pub model: Option<String>,
    /// `<source evdev=...>` of a passthrough device, `<source dev=...>`
    /// of an evdev one.
    pub evdev: Option<String>,
    /// The rest of an evdev device's `<source>`.
    pub evdev_options: EvdevOptions,
    /// `<driver>` virtio options.
    pub virtio: VirtioOptions,
    /// `<address>`.
    pub address: Option<Address>,
    /// `<alias name=...>`: output only, the id a running domain's XML
    /// shows (`input0`, ...); a definition's is not kept.
    pub alias: Option<String>,
}

impl Input {
    /// The bus: the written one, or libvirt's default for the type (PS/2
    /// for a mouse or keyboard, USB for a tablet, virtio for passthrough,
    /// none for evdev).
    pub fn effective_bus(&self) -> InputBus {
        self.bus.unwrap_or(match self.kind {
            InputType::Mouse | InputType::Keyboard => InputBus::Ps2,
            InputType::Tablet => InputBus::Usb,
            InputType::Passthrough => InputBus::Virtio,
            InputType::Evdev => InputBus::None,
        })
    }
}

words! {
    /// `<video><model type=...>`.
    pub enum VideoModel {
        /// Standard VGA.
        Vga = "vga",
        /// Cirrus Logic GD5446.
        Cirrus = "cirrus",
        /// VMware SVGA.
        Vmvga = "vmvga",
        /// QXL paravirtual graphics.
        Qxl = "qxl",
        /// virtio-gpu.
        Virtio = "virtio",
        /// No video device.
        None = "none",
        /// Bochs display (no VGA compatibility).
        Bochs = "bochs",
        /// A RAM framebuffer set up by the firmware.
        Ramfb = "ramfb",
    }
}

/// `<video>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Video {
    /// `<model type=...>`.
    pub model: VideoModel,
    /// `vram` in KiB.
    pub vram: Option<u64>,
    /// `vram64` in KiB (qxl).
    pub vram64: Option<u64>,
    /// `ram` in KiB (qxl).
    pub ram: Option<u64>,
    /// `vgamem` in KiB (qxl).
    pub vgamem: Option<u64>,
    /// `heads`.
    pub heads: Option<u32>,
    /// `primary='yes'`.
    pub primary: bool,
    /// `<acceleration accel3d=...>` (virtio).
    pub accel3d: Option<bool>,
    /// `blob='on|off'` (virtio): blob resources.
    pub blob: Option<bool>,
    /// `<resolution x= y=>`: the display size the card offers first.
    pub resolution: Option<(u32, u32)>,
    /// `<driver>` virtio options.
    pub virtio: VirtioOptions,
    /// `<acpi index=...>`: the index the guest's firmware gives the card.
    pub acpi_index: Option<u32>,
    /// `<address>`.
    pub address: Option<Address>,
}

impl Video {
    /// A video card of `model` with nothing else set.
    pub fn new(model: VideoModel) -> Video {
        Video {
            model,
            vram: None,
            vram64: None,
            ram: None,
            vgamem: None,
            heads: None,
            primary: false,
            accel3d: None,
            blob: None,
            resolution: None,
            virtio: VirtioOptions::default(),
            acpi_index: None,
            address: None,
        }
    }
}

words! {
    /// `<audio type=...>`: the host side of sound.
    pub enum AudioType {
        /// Sound is discarded (and recording is silent).
        None = "none",
        /// Sound goes to the SPICE client.
        Spice = "spice",
        /// ALSA.
        Alsa = "alsa",
        /// OSS.
        Oss = "oss",
        /// PulseAudio.
        Pulseaudio = "pulseaudio",
        /// SDL.
        Sdl = "sdl",
        /// Output recorded to a WAV file.
        File = "file",
        /// PipeWire.
        Pipewire = "pipewire",
        /// JACK.
        Jack = "jack",
        /// The clients of the D-Bus display.
        Dbus = "dbus",
    }

    /// `<sound model=...>`.
    pub enum SoundModel {
        /// Sound Blaster 16 (ISA).
        Sb16 = "sb16",
        /// Ensoniq AudioPCI ES1370.
        Es1370 = "es1370",
        /// The PC speaker.
        Pcspk = "pcspk",
        /// Intel 82801AA AC97.
        Ac97 = "ac97",
        /// Intel HD Audio (ICH6).
        Ich6 = "ich6",
        /// Intel HD Audio (ICH9).
        Ich9 = "ich9",
        /// USB audio.
        Usb = "usb",
        /// Intel HD Audio (ICH7).
        Ich7 = "ich7",
    }

    /// `<codec type=...>` of an HD Audio device.
    pub enum SoundCodec {
        /// Line out and line in.
        Duplex = "duplex",
        /// Speaker out and microphone in.
        Micro = "micro",
        /// Line out only.
        Output = "output",
    }
}

/// `<audio id= type=>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Audio {
    /// `id`, 1 or more, which `<sound><audio id>` refers to.
    pub id: u32,
    /// `type`.
    pub kind: AudioType,
    /// `path` (file): the WAV file written.
    pub path: Option<String>,
    /// `serverName` (pulseaudio, jack): the server to connect to.
    pub server_name: Option<String>,
    /// `runtimeDir` (pipewire): where the PipeWire socket is.
    pub runtime_dir: Option<String>,
    /// `timerPeriod`: microseconds between two runs of the backend's
    /// mixing timer (QEMU's default: 10000).
    pub timer_period: Option<u32>,
    /// `<input dev=...>` (alsa, oss) or `<input name=...>` (pulseaudio,
    /// pipewire), `<input clientName=...>` (jack).
    pub input_dev: Option<String>,
    /// `<output ...>`, as `input_dev`.
    pub output_dev: Option<String>,
    /// The other attributes of `<input>`, by libvirt's names
    /// (`mixingEngine`, `fixedSettings`, `voices`, `bufferLength`,
    /// `streamName`, `latency`, `connectPorts`, `exactName`, ...), and
    /// those of its `<settings>` ([`AUDIO_SETTINGS`]).
    pub input_opts: Vec<(&'static str, String)>,
    /// The same of `<output>`.
    pub output_opts: Vec<(&'static str, String)>,
}

impl AudioType {
    /// The attribute of `<input>`/`<output>` that names the device or
    /// stream (alsa and oss `dev`, pulseaudio and pipewire `name`, jack
    /// `clientName`); `None` for types without one.
    pub fn stream_key(self) -> Option<&'static str> {
        match self {
            AudioType::Alsa | AudioType::Oss => Some("dev"),
            AudioType::Pulseaudio | AudioType::Pipewire => Some("name"),
            AudioType::Jack => Some("clientName"),
            _ => None,
        }
    }
}

/// The attributes of an audio stream's `<settings>` child, kept among
/// the stream's options.
pub const AUDIO_SETTINGS: [&str; 3] = ["frequency", "channels", "format"];

impl Audio {
    /// A backend `id` of `kind` with nothing else set.
    pub fn new(id: u32, kind: AudioType) -> Audio {
        Audio {
            id,
            kind,
            path: None,
            server_name: None,
            runtime_dir: None,
            timer_period: None,
            input_dev: None,
            output_dev: None,
            input_opts: Vec::new(),
            output_opts: Vec::new(),
        }
    }
}

/// `<sound model=...>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sound {
    /// `model`.
    pub model: SoundModel,
    /// `<codec type=...>` children, in order.
    pub codecs: Vec<SoundCodec>,
    /// `<audio id=...>`: the backend used.
    pub audio_id: Option<u32>,
    /// `<address>`.
    pub address: Option<Address>,
}

words! {
    /// `<memballoon model=...>`.
    pub enum BalloonModel {
        /// virtio-balloon.
        Virtio = "virtio",
        /// virtio-balloon, transitional.
        VirtioTransitional = "virtio-transitional",
        /// virtio-balloon, modern only.
        VirtioNonTransitional = "virtio-non-transitional",
        /// No balloon device.
        None = "none",
    }
}

/// `<memballoon model=...>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Memballoon {
    /// `model`.
    pub model: BalloonModel,
    /// `autodeflate='on|off'`.
    pub autodeflate: Option<bool>,
    /// `freePageReporting='on|off'`.
    pub free_page_reporting: Option<bool>,
    /// `<stats period=...>` in seconds; set on the running balloon at start.
    pub stats_period: Option<u32>,
    /// `<driver>` virtio options.
    pub virtio: VirtioOptions,
    /// `<address>`.
    pub address: Option<Address>,
}

words! {
    /// `<watchdog model=...>`.
    pub enum WatchdogModel {
        /// Intel 6300ESB (PCI).
        I6300esb = "i6300esb",
        /// iBase IB700 (ISA).
        Ib700 = "ib700",
        /// s390 diag288.
        Diag288 = "diag288",
        /// The iTCO timer built into the Q35 chipset.
        Itco = "itco",
    }

    /// `<watchdog action=...>`.
    pub enum WatchdogAction {
        /// Reset the guest.
        Reset = "reset",
        /// Ask the guest to shut down (ACPI power button).
        Shutdown = "shutdown",
        /// Power the guest off at once.
        Poweroff = "poweroff",
        /// Pause the guest.
        Pause = "pause",
        /// Dump the guest's memory, then carry on.
        Dump = "dump",
        /// Do nothing.
        None = "none",
        /// Inject a non-maskable interrupt.
        InjectNmi = "inject-nmi",
    }
}

/// `<watchdog model= action=>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watchdog {
    /// `model`.
    pub model: WatchdogModel,
    /// `action`; `None` when not written (reset).
    pub action: Option<WatchdogAction>,
    /// `<address>`.
    pub address: Option<Address>,
    /// `<alias name=...>`: output only, the id a running domain's XML
    /// shows (`watchdog0`); a definition's is not kept.
    pub alias: Option<String>,
}

words! {
    /// `<panic model=...>` on x86.
    pub enum PanicModel {
        /// QEMU's ISA `pvpanic` device (the x86 default).
        Isa = "isa",
        /// QEMU's `pvpanic-pci` device (libvirt 9.1 and later).
        Pvpanic = "pvpanic",
        /// Hyper-V's crash MSRs, a property of the vCPUs (`hv-crash`).
        Hyperv = "hyperv",
    }
}

/// `<panic model=...>`: how the guest tells the host it crashed, which
/// `<on_crash>` then acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Panic {
    /// `model`; `None` when not written (ISA on x86).
    pub model: Option<PanicModel>,
    /// `<address type='isa' iobase=...>` of an ISA device: its I/O port.
    pub iobase: Option<u16>,
    /// `<address type='pci' ...>` of the `pvpanic` model.
    pub address: Option<Address>,
}

impl Panic {
    /// The model: the written one, or libvirt's x86 default (ISA).
    pub fn effective_model(&self) -> PanicModel {
        self.model.unwrap_or(PanicModel::Isa)
    }
}

/// `<redirdev bus='usb' type=...>`: a USB device of the client, forwarded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirdev {
    /// `type` with its source: `spicevmc` (through the SPICE client), or
    /// a `tcp` or `unix` socket a usbredir server speaks on.
    pub source: CharSource,
    /// `<boot order=...>`.
    pub boot_order: Option<u32>,
    /// `<address type='usb'>`.
    pub address: Option<Address>,
    /// `<alias name=...>`: output only, the id a running domain's XML
    /// shows (`redir0`); a definition's is not kept.
    pub alias: Option<String>,
}

/// `<usbdev class= vendor= product= version= allow=>` of a
/// `<redirfilter>`; `None` matches any value (libvirt's `-1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsbFilterRule {
    /// `class`: the USB device class.
    pub class: Option<u8>,
    /// `vendor`: the vendor id.
    pub vendor: Option<u16>,
    /// `product`: the product id.
    pub product: Option<u16>,
    /// `version`: the device release as USB's binary-coded decimal
    /// (`1.10` is 0x0110).
    pub version: Option<u16>,
    /// `allow='yes|no'`.
    pub allow: bool,
}

/// `<hub type='usb'>`: a USB hub with eight ports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hub {
    /// `<address type='usb'>`.
    pub address: Option<Address>,
}

/// Whether `name` is a user alias as libvirt has them
/// (virDomainDeviceAliasIsUserAlias and the characters
/// virDomainDeviceInfoParseXML allows): `ua-` followed by ASCII letters,
/// digits, `_` and `-`. Only such an alias is a definition's: it becomes
/// the device's QEMU id; other aliases are names a running domain's
/// devices get.
pub fn is_user_alias(name: &str) -> bool {
    name.starts_with("ua-")
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}
