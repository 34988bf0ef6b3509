//! Devices that reach into the host: `<hostdev>` (PCI and USB
//! passthrough), `<filesystem>` (a host directory shared with the
//! guest), `<shmem>` (shared memory) and `<memory>` devices (hot-plugged
//! memory). Data only.

use super::devices::{Address, PciAddress};
use super::words::words;

words! {
    /// `<filesystem><driver type=...>`.
    pub enum FsDriver {
        /// virtio-fs, served by a virtiofsd per share.
        Virtiofs = "virtiofs",
        /// 9p on QEMU's own `local` file system driver (libvirt's default
        /// when no driver is written).
        Path = "path",
    }

    /// `<filesystem multidevs=...>`: what a 9p share does with files of
    /// other host devices than its directory's (their inode numbers may
    /// collide).
    pub enum FsMultidevs {
        /// Inode numbers are remapped to stay unique.
        Remap = "remap",
        /// Files of other devices are refused.
        Forbid = "forbid",
        /// They are served, and QEMU warns (its default).
        Warn = "warn",
    }

    /// `<filesystem model=...>`: which virtio PCI device a 9p share is.
    pub enum FsModel {
        /// Transitional or modern as the bus decides (libvirt's default).
        Virtio = "virtio",
        /// Legacy and modern interfaces, on a conventional PCI slot.
        VirtioTransitional = "virtio-transitional",
        /// The modern interface only.
        VirtioNonTransitional = "virtio-non-transitional",
    }

    /// `<filesystem accessmode=...>`.
    pub enum FsAccessMode {
        /// Files are accessed with the credentials of the guest's user.
        Passthrough = "passthrough",
        /// Files are owned by QEMU's user; the guest's owners and modes
        /// are kept in extended attributes (9p only).
        Mapped = "mapped",
        /// As passthrough, but failures to change owners are ignored (9p
        /// only).
        Squash = "squash",
    }

    /// `<binary><cache mode=...>` of virtiofsd.
    pub enum FsCacheMode {
        /// No caching of metadata or data.
        None = "none",
        /// Cache for a short while.
        Auto = "auto",
        /// Cache everything, assuming the guest is the only writer.
        Always = "always",
    }

    /// `<binary sandbox mode=...>` of virtiofsd.
    pub enum FsSandbox {
        /// Mount namespace and chroot.
        Namespace = "namespace",
        /// chroot only.
        Chroot = "chroot",
    }

    /// `<shmem><model type=...>`.
    pub enum ShmemModel {
        /// ivshmem without interrupts: the memory is a file in `/dev/shm`.
        IvshmemPlain = "ivshmem-plain",
        /// ivshmem with interrupts between peers: the memory and the
        /// peers' event descriptors come from an ivshmem server.
        IvshmemDoorbell = "ivshmem-doorbell",
    }

    /// `<shmem role=...>`: whether the memory migrates with the domain.
    pub enum ShmemRole {
        /// The memory migrates with the domain (QEMU's `master=on`).
        Master = "master",
        /// The memory stays; QEMU refuses to migrate (`master=off`).
        Peer = "peer",
    }

    /// `<memory model=...>`: a memory device.
    pub enum MemoryModel {
        /// A DIMM module, hot-pluggable up to `<maxMemory>`.
        Dimm = "dimm",
        /// A non-volatile DIMM backed by a host file (`<source><path>`).
        Nvdimm = "nvdimm",
        /// A virtio persistent-memory device backed by a host file, on PCI.
        VirtioPmem = "virtio-pmem",
        /// A virtio memory device on PCI whose plugged part the guest
        /// grows and shrinks in blocks, up to `<target><size>`.
        VirtioMem = "virtio-mem",
    }
}

/// `<hostdev mode='subsystem'>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hostdev {
    /// `managed='yes|no'`: for PCI, the manager binds the device to
    /// `vfio-pci` at start and gives it back to its host driver at stop.
    pub managed: Option<bool>,
    /// `type` with its `<source>`.
    pub source: HostdevSource,
    /// `<driver name='vfio'>` (PCI; the only driver QEMU has).
    pub driver_vfio: bool,
    /// `<rom bar= file= enabled=>` (PCI).
    pub rom: Option<HostdevRom>,
    /// `<boot order=...>`.
    pub boot_order: Option<u32>,
    /// `<address>`: where the guest sees it (PCI or USB).
    pub address: Option<Address>,
}

/// `<hostdev type=...>` with its `<source>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostdevSource {
    /// `type='pci'`: `<source><address domain= bus= slot= function=>`,
    /// the host device.
    Pci(PciAddress),
    /// `type='usb'`: the host device by `<vendor id>` and `<product
    /// id>`, by `<address bus= device=>`, or both.
    Usb(UsbHostSource),
    /// `type='mdev' model='vfio-pci'`: a mediated device (a vGPU slice),
    /// `<source><address uuid=...>`.
    Mdev(MdevSource),
}

/// A mediated device handed to the guest as a PCI device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MdevSource {
    /// `<source><address uuid=...>`: the device under
    /// `/sys/bus/mdev/devices`.
    pub uuid: uuid::Uuid,
    /// `display='on|off'`: whether the guest's display goes through it.
    pub display: Option<bool>,
    /// `ramfb='on|off'`: a boot display before the guest's driver runs.
    pub ramfb: Option<bool>,
}

/// `<source>` of a USB host device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UsbHostSource {
    /// `<vendor id=...>`.
    pub vendor: Option<u16>,
    /// `<product id=...>`.
    pub product: Option<u16>,
    /// `<address bus= device=>`: the host bus and device number.
    pub bus_device: Option<(u32, u32)>,
    /// `startupPolicy='optional'`: start without the device when it is
    /// missing (`None`: mandatory).
    pub optional: Option<bool>,
}

/// `<rom bar= file= enabled=>` of a PCI host device.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HostdevRom {
    /// `bar='on|off'`: whether the ROM is visible in the guest.
    pub bar: Option<bool>,
    /// `file`: a ROM image to show instead of the device's own.
    pub file: Option<String>,
    /// `enabled='yes|no'`: `no` loads no ROM at all.
    pub enabled: Option<bool>,
}

/// `<filesystem type='mount'>` with a virtio-fs driver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filesystem {
    /// `accessmode`; `None` when not written (passthrough).
    pub accessmode: Option<FsAccessMode>,
    /// `<driver type=...>`.
    pub driver: FsDriver,
    /// `<driver queue=...>`: the virtqueue size.
    pub queue: Option<u32>,
    /// `<driver iommu= ats= packed= page_per_vq=>`: the virtio options.
    pub virtio: super::VirtioOptions,
    /// `<binary>`: how virtiofsd runs.
    pub binary: FsBinary,
    /// `<source dir=...>`: the host directory.
    pub source_dir: String,
    /// `<target dir=...>`: the tag the guest mounts.
    pub target_dir: String,
    /// `<readonly/>`.
    pub readonly: bool,
    /// `fmode` (9p, mapped): the mode of files the guest creates, on the
    /// host (QEMU's default: 0600).
    pub fmode: Option<u32>,
    /// `dmode` (9p, mapped): the same of directories (0700).
    pub dmode: Option<u32>,
    /// `multidevs` (9p).
    pub multidevs: Option<FsMultidevs>,
    /// `model` (9p; virtiofs has none). Default: `None`, as `virtio`.
    pub model: Option<FsModel>,
    /// `<boot order=...>`.
    pub boot_order: Option<u32>,
    /// `<address>`.
    pub address: Option<Address>,
    /// `<alias name=...>`: output only, the id a running domain's XML
    /// shows (`fs0`); a definition's is not kept.
    pub alias: Option<String>,
}

/// `<filesystem><binary>`: virtiofsd's program and options.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FsBinary {
    /// `path`: the virtiofsd to run; `None` finds it as libvirt does.
    pub path: Option<String>,
    /// `xattr='on|off'`.
    pub xattr: Option<bool>,
    /// `<cache mode=...>`.
    pub cache: Option<FsCacheMode>,
    /// `<sandbox mode=...>`.
    pub sandbox: Option<FsSandbox>,
    /// `<lock posix= flock=>`.
    pub posix_lock: Option<bool>,
    /// `<lock flock=>`.
    pub flock: Option<bool>,
    /// `<thread_pool size=...>`.
    pub thread_pool: Option<u32>,
}

/// `<shmem name=...>`: memory shared with other VMs or host programs
/// (Looking Glass), as a file in `/dev/shm`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shmem {
    /// `name`: the file `/dev/shm/NAME`.
    pub name: String,
    /// `<model type=...>`; `None` when not written (ivshmem-plain).
    pub model: Option<ShmemModel>,
    /// `<size>`, in KiB; `None`: 4 MiB (the server's size for
    /// ivshmem-doorbell, which takes no size).
    pub size_kib: Option<u64>,
    /// `role`; `None`: QEMU's default (the memory does not migrate).
    pub role: Option<ShmemRole>,
    /// `<server path=...>`: the ivshmem server's socket (doorbell only);
    /// `Some(None)` for a `<server/>` without a path, which is libvirt's
    /// `/var/lib/libvirt/shmem-NAME-sock`.
    pub server: Option<Option<String>>,
    /// `<msi vectors= ioeventfd=>` (doorbell only).
    pub msi: Option<ShmemMsi>,
    /// `<address>`.
    pub address: Option<Address>,
    /// `<alias name=...>`: output only, the id a running domain's XML
    /// shows (`shmem0`); a definition's is not kept.
    pub alias: Option<String>,
}

/// `<shmem><msi>`: the doorbell's interrupts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ShmemMsi {
    /// `vectors`: interrupt vectors; `None`: QEMU's default (1).
    pub vectors: Option<u32>,
    /// `ioeventfd`; `None`: on, as libvirt defaults it.
    pub ioeventfd: Option<bool>,
}

impl Shmem {
    /// The ivshmem server's socket: the one given, or libvirt's default
    /// for the name (so a server set up for libvirt is found).
    pub fn server_path(&self) -> Option<String> {
        self.server.as_ref().map(|p| {
            p.clone()
                .unwrap_or_else(|| format!("/var/lib/libvirt/shmem-{}-sock", self.name))
        })
    }
}

/// `<memory model=...>`: a memory device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoryDevice {
    /// `model`.
    pub model: MemoryModel,
    /// `access`: shared or private memory.
    pub access: Option<super::tuning::MemoryAccess>,
    /// `discard='yes|no'`: give freed memory back to the host; `None`
    /// takes the guest cell's, then `<memoryBacking>`'s.
    pub discard: Option<bool>,
    /// `<source><pagesize>`, in KiB: huge pages backing it (dimm,
    /// virtio-mem).
    pub pagesize_kib: Option<u64>,
    /// `<source><nodemask>`: host NUMA nodes (dimm, virtio-mem).
    pub nodemask: Option<String>,
    /// `<source><path>`: the host file backing it (nvdimm, virtio-pmem).
    pub path: Option<String>,
    /// `<source><alignsize>`, in KiB: the mapping's alignment (nvdimm).
    pub align_kib: Option<u64>,
    /// `<source><pmem/>`: the file is real persistent memory (nvdimm).
    pub pmem: bool,
    /// `<target><size>`, in KiB.
    pub size_kib: u64,
    /// `<target><node>`: the guest NUMA cell.
    pub node: Option<u32>,
    /// `<target><label><size>`, in KiB: the NVDIMM's label area.
    pub label_kib: Option<u64>,
    /// `<target><readonly/>`: the NVDIMM is unarmed (the guest is told
    /// writes do not persist).
    pub readonly: bool,
    /// `<target><block>`, in KiB: virtio-mem's block size.
    pub block_kib: Option<u64>,
    /// `<target><requested>`, in KiB: how much of a virtio-mem device
    /// the guest is asked to plug; 0 when not written.
    pub requested_kib: u64,
    /// `<target><current>`, in KiB: how much of a virtio-mem device the
    /// guest has plugged, as a running domain's XML shows it (QEMU's
    /// `MEMORY_DEVICE_SIZE_CHANGE`); not kept in a definition.
    pub current_kib: Option<u64>,
    /// `<alias name>`: the QEMU id a running domain's XML shows
    /// (`dimm0`, `virtiomem0`), as libvirt's; a manager's alias is not
    /// read back from a definition, a user alias is refused.
    pub alias: Option<String>,
    /// `<address type='dimm' slot= base=>`: the slot (dimm, nvdimm).
    pub slot: Option<u32>,
    /// `base` of the DIMM address.
    pub base: Option<u64>,
    /// `<address type='pci'>` (virtio-pmem, virtio-mem).
    pub address: Option<Address>,
}
