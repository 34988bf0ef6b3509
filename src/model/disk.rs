//! Disks: `<disk>` with its source (a path, a network export, a pool
//! volume), backing chain, driver options and target.

use super::devices::{Address, VirtioOptions};
use super::words::words;

words! {
    /// `<disk type=...>`.
    pub enum DiskType {
        /// A regular file (`<source file=...>`).
        File = "file",
        /// A block device (`<source dev=...>`).
        Block = "block",
        /// A host directory the guest sees as a FAT file system, read-only
        /// (`<source dir=...>`).
        Dir = "dir",
        /// A volume of a storage pool (`<source pool=... volume=...>`),
        /// resolved to its file when the domain starts.
        Volume = "volume",
        /// A network block device (`<source protocol= name=>` with
        /// `<host>`s).
        Network = "network",
        /// A disk another process serves over vhost-user (`<source
        /// type='unix' path=...>`): QEMU has no block node for it.
        VhostUser = "vhostuser",
    }

    /// `<source protocol=...>` of a network disk.
    pub enum DiskProtocol {
        /// NBD.
        Nbd = "nbd",
        /// HTTP.
        Http = "http",
        /// HTTPS.
        Https = "https",
        /// FTP.
        Ftp = "ftp",
        /// FTPS.
        Ftps = "ftps",
        /// iSCSI.
        Iscsi = "iscsi",
        /// Ceph RBD.
        Rbd = "rbd",
    }

    /// `<target bus=...>`-independent `<disk model=...>` of a virtio disk.
    pub enum DiskModel {
        /// virtio, legacy and modern.
        Virtio = "virtio",
        /// virtio, transitional: legacy and modern on a PCI bus.
        VirtioTransitional = "virtio-transitional",
        /// virtio, modern only.
        VirtioNonTransitional = "virtio-non-transitional",
    }

    /// `<disk device=...>`.
    pub enum DiskDevice {
        /// A hard disk.
        Disk = "disk",
        /// A CD-ROM drive (read-only media, may be empty).
        Cdrom = "cdrom",
        /// A floppy drive (may be empty).
        Floppy = "floppy",
        /// A host SCSI device whose commands the guest sends through
        /// (`scsi-block`).
        Lun = "lun",
    }

    /// `<driver type=...>`: the image format.
    pub enum DiskFormat {
        /// Raw bytes.
        Raw = "raw",
        /// QEMU copy-on-write v2.
        Qcow2 = "qcow2",
        /// VMware's virtual disk.
        Vmdk = "vmdk",
        /// VirtualBox's virtual disk.
        Vdi = "vdi",
        /// Virtual PC's and Hyper-V's first virtual disk (VHD).
        Vpc = "vpc",
        /// Hyper-V's virtual disk, VHDX (libvirt's name: `vhd`).
        Vhd = "vhd",
        /// QEMU enhanced disk.
        Qed = "qed",
        /// A FAT file system made from a directory (`type='dir'` only).
        Fat = "fat",
    }

    /// `<target bus=...>`.
    pub enum DiskBus {
        /// IDE (hdX).
        Ide = "ide",
        /// The floppy controller (fdX).
        Fdc = "fdc",
        /// SCSI (sdX).
        Scsi = "scsi",
        /// virtio-blk (vdX).
        Virtio = "virtio",
        /// USB mass storage (sdX).
        Usb = "usb",
        /// SATA on an AHCI controller (sdX).
        Sata = "sata",
    }

    /// `<driver cache=...>`.
    pub enum CacheMode {
        /// The hypervisor's default (writeback).
        Default = "default",
        /// No host page cache (O_DIRECT), writes reported when issued.
        None = "none",
        /// The host page cache, writes reported when on disk.
        Writethrough = "writethrough",
        /// The host page cache, writes reported when cached.
        Writeback = "writeback",
        /// No host page cache, writes reported when on disk.
        Directsync = "directsync",
        /// Flushes are ignored.
        Unsafe = "unsafe",
    }

    /// `<driver io=...>`.
    pub enum IoMode {
        /// Linux native AIO.
        Native = "native",
        /// A thread pool.
        Threads = "threads",
        /// io_uring.
        IoUring = "io_uring",
    }

    /// `<driver discard=...>`.
    pub enum DiscardMode {
        /// Discards punch holes in the image.
        Unmap = "unmap",
        /// Discards are ignored.
        Ignore = "ignore",
    }

    /// `<driver detect_zeroes=...>`.
    pub enum DetectZeroes {
        /// No detection.
        Off = "off",
        /// Zero writes become write-zeroes requests.
        On = "on",
        /// Zero writes become discards where `discard='unmap'`.
        Unmap = "unmap",
    }

    /// `<geometry trans=...>`: the BIOS translation of an IDE disk's
    /// geometry.
    pub enum GeometryTrans {
        /// Chosen from the disk's size.
        Auto = "auto",
        /// No translation.
        None = "none",
        /// Logical block addressing.
        Lba = "lba",
    }

    /// `<mirror job=...>`: the block job that mirrors a disk.
    pub enum MirrorJob {
        /// A copy (`blockcopy`).
        Copy = "copy",
        /// A commit of the active layer (`blockcommit --active`).
        ActiveCommit = "active-commit",
    }
}

/// `<disk>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disk {
    /// `type='file|block|dir|...'`: where the source lives.
    pub kind: DiskType,
    /// `device='disk|cdrom|floppy'`.
    pub device: DiskDevice,
    /// `<driver name='qemu' type=...>`: the image format; `None` means raw.
    pub format: Option<DiskFormat>,
    /// The other `<driver>` attributes.
    pub driver: DiskDriver,
    /// `<source file=...>`, `<source dev=...>` or `<source dir=...>`;
    /// `None` for an empty cdrom or floppy drive.
    pub source: Option<String>,
    /// `<target dev=...>`: the guest-visible name (hda, sdb, vdc, fda).
    pub target: String,
    /// `<target bus=...>`; `None` means derived from the target name.
    pub bus: Option<DiskBus>,
    /// `<target removable='on|off'>` (USB disks).
    pub removable: Option<bool>,
    /// `<target tray='open'>`: the tray of a cdrom or floppy drive is
    /// open. A status QEMU reports while the domain runs; a start opens
    /// the tray of a drive whose definition says so.
    pub tray_open: bool,
    /// `<readonly/>`.
    pub readonly: bool,
    /// `<shareable/>`.
    pub shareable: bool,
    /// `<serial>`: the serial number the guest sees.
    pub serial: Option<String>,
    /// `<wwn>`: the World Wide Name the guest sees (IDE and SCSI), 16
    /// hexadecimal digits as written (`0x` allowed).
    pub wwn: Option<String>,
    /// `<vendor>` (SCSI): the vendor the guest's INQUIRY sees, up to 8
    /// printable characters.
    pub vendor: Option<String>,
    /// `<product>` (SCSI): the product, up to 16 printable characters.
    pub product: Option<String>,
    /// `<iotune>`.
    pub iotune: Option<Box<IoTune>>,
    /// `<boot order=...>`: per-device boot priority, 1 first.
    pub boot_order: Option<u32>,
    /// `<acpi index=...>`: the index the guest's firmware gives the PCI
    /// device (Linux names devices after it).
    pub acpi_index: Option<u32>,
    /// `<address>`.
    pub address: Option<Address>,
    /// `<alias name=...>`: a user alias (`ua-...`), the disk's QEMU id in
    /// place of the one derived from its target; see
    /// [`is_user_alias`](super::is_user_alias).
    pub alias: Option<String>,
    /// `<source pool=... volume=...>` of a `type='volume'` disk. (Its
    /// `source` is then the volume's file once the domain runs, never
    /// written.)
    pub volume: Option<VolumeSource>,
    /// `<source protocol=...>` and its hosts, for `type='network'`.
    pub network: Option<NetworkSource>,
    /// `<backingStore>`: the chain below the image, as libvirt describes
    /// it; `None` when not written (QEMU follows the image's own header),
    /// `Some(None)` for an empty `<backingStore/>` (no backing file).
    pub backing: Option<Option<Box<BackingStore>>>,
    /// `model`: the virtio device variant.
    pub model: Option<DiskModel>,
    /// `<transient/>`: writes go to a scratch overlay dropped at stop.
    pub transient: bool,
    /// `snapshot='no|internal|external'`: where a snapshot that does not
    /// name this disk puts it (libvirt's per-disk default).
    pub snapshot: Option<super::SnapshotLocation>,
    /// `<source startupPolicy=...>`: what a start does when the source
    /// file is missing.
    pub startup_policy: Option<StartupPolicy>,
    /// `<source><seclabel relabel='no' model=...>`: the security models
    /// (`None`: all) told to leave the file's label alone. qvirt labels
    /// nothing, so this is what happens anyway; a label to set is
    /// refused by the reader.
    pub norelabel: Vec<Option<String>>,
    /// `<encryption format='luks'>` (under `<disk>` or `<source>`): the
    /// image is LUKS-encrypted, its passphrase a secret.
    pub encryption: Option<super::DiskEncryption>,
    /// `<blockio>`: the block sizes the guest sees.
    pub blockio: DiskBlockIo,
    /// `<geometry>`: the cylinders, heads and sectors the guest sees.
    pub geometry: Option<DiskGeometry>,
    /// `<target rotation_rate=...>`: the rotation rate the guest sees, in
    /// revolutions per minute (1: a solid-state disk).
    pub rotation_rate: Option<u32>,
    /// The server's socket of a `type='vhostuser'` disk.
    pub vhost_user: Option<VhostUserSource>,
    /// `<source><slices><slice type='storage' offset= size=/>`: the guest
    /// sees only these bytes of the source.
    pub slice: Option<DiskSlice>,
    /// `<mirror>`: the disk is being copied (a running domain's only).
    pub mirror: Option<DiskMirror>,
}

/// `<mirror>`: where a running domain's disk is being copied to (virsh's
/// `blockcopy`) and whether the copy is in step. Only a running domain's
/// XML has it; a definition read to be kept drops it, as libvirt does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiskMirror {
    /// `type='file|block'`.
    pub kind: DiskType,
    /// The copy: `<source file=...>` or `<source dev=...>`.
    pub path: String,
    /// `<format type=...>`: the copy's format.
    pub format: Option<DiskFormat>,
    /// `job='copy|active-commit'`: the job mirroring the disk.
    pub job: MirrorJob,
    /// `ready='yes'`: the copy is in step, ready to pivot.
    pub ready: bool,
}

/// `<slice type='storage' offset= size=>`: a range of a disk's storage,
/// in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiskSlice {
    /// `offset`: where the range starts.
    pub offset: u64,
    /// `size`: its length.
    pub size: u64,
}

/// `<source type='unix' path=...>` of a `type='vhostuser'` disk, with its
/// `<reconnect>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VhostUserSource {
    /// `path`: the vhost-user-blk server's UNIX socket, which QEMU
    /// connects to.
    pub path: String,
    /// `<reconnect enabled='yes' timeout=...>`: seconds before QEMU
    /// connects again after the server went away.
    pub reconnect: Option<u32>,
}

/// `<blockio>`: block sizes the guest sees, in bytes; `None` leaves the
/// hypervisor's default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DiskBlockIo {
    /// `logical_block_size`: the unit of addressing.
    pub logical_block_size: Option<u32>,
    /// `physical_block_size`: the unit the disk writes at once.
    pub physical_block_size: Option<u32>,
    /// `discard_granularity`: the unit of discards.
    pub discard_granularity: Option<u32>,
}

impl DiskBlockIo {
    /// Whether no size is set.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// `<geometry cyls= heads= secs= trans=>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiskGeometry {
    /// `cyls`: cylinders.
    pub cyls: u32,
    /// `heads`: heads per cylinder.
    pub heads: u32,
    /// `secs`: sectors per track.
    pub secs: u32,
    /// `trans`: the BIOS translation (IDE); `None` for the default.
    pub trans: Option<GeometryTrans>,
}

/// Which volume a `<disk type='volume'>` uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeSource {
    /// `pool`: the storage pool's name.
    pub pool: String,
    /// `volume`: the volume's name in it.
    pub volume: String,
}

/// `<source protocol= name=>` of a network disk, with its `<host>`s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkSource {
    /// `protocol`.
    pub protocol: DiskProtocol,
    /// `name`: the export, path, target/LUN or pool/image.
    pub name: Option<String>,
    /// `query` (http, https): the URL's query string.
    pub query: Option<String>,
    /// `<host name= port= transport= socket=>`, in order.
    pub hosts: Vec<DiskHost>,
    /// `tls='yes|no'` (nbd).
    pub tls: Option<bool>,
    /// `tlsHostname` (nbd, with `tls='yes'`): the name the server's
    /// certificate must have, in place of the host's.
    pub tls_hostname: Option<String>,
    /// `<auth>` (under `<disk>` or `<source>`): the user name and the
    /// secret holding the password or key.
    pub auth: Option<super::DiskAuth>,
    /// `<initiator><iqn name=...>` (iSCSI): the name QEMU's initiator
    /// logs in with, in place of QEMU's own.
    pub initiator: Option<String>,
    /// `<cookies><cookie name=...>VALUE</cookie>` (http, https): the
    /// cookies sent with every request, by name, in order. A secret:
    /// written only in the XML with security information.
    pub cookies: Vec<(String, String)>,
    /// `<readahead size=...>` (http, https, ftp, ftps): bytes read beyond
    /// each request; `None` for QEMU's default (256 KiB).
    pub readahead: Option<u64>,
    /// `<timeout seconds=...>` (http, https, ftp, ftps): how long a
    /// request may take; `None` for QEMU's default (5 seconds).
    pub timeout: Option<u64>,
    /// `<ssl verify='yes|no'>` (https, ftps): whether the server's
    /// certificate is checked; `None` for QEMU's default (checked).
    pub ssl_verify: Option<bool>,
}

/// `<host name= port= transport= socket=>` of a network disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiskHost {
    /// `name`: host name or address (TCP).
    pub name: Option<String>,
    /// `port`.
    pub port: Option<u16>,
    /// `transport='unix'` with `socket`: a UNIX socket path.
    pub socket: Option<String>,
}

/// `<backingStore type=...>`: one image of the chain below a disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackingStore {
    /// `type='file|block'`.
    pub kind: DiskType,
    /// `<format type=...>`.
    pub format: DiskFormat,
    /// `<source file=...>` or `<source dev=...>`.
    pub source: String,
    /// The next image below, as for [`Disk::backing`].
    pub backing: Option<Option<Box<BackingStore>>>,
    /// `<format><metadata_cache><max_size>` (qcow2): the most memory, in
    /// bytes, QEMU's caches of this image's metadata may use.
    pub metadata_cache_max_size: Option<u64>,
}

/// `<disk><driver cache= io= discard= detect_zeroes= ...>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DiskDriver {
    /// `cache`.
    pub cache: Option<CacheMode>,
    /// `io`.
    pub io: Option<IoMode>,
    /// `discard`.
    pub discard: Option<DiscardMode>,
    /// `detect_zeroes`.
    pub detect_zeroes: Option<DetectZeroes>,
    /// `iothread`: the `<iothreads>` thread (from 1) serving a virtio disk.
    pub iothread: Option<u32>,
    /// `queues`: the virtqueues of a virtio disk.
    pub queues: Option<u32>,
    /// `queue_size`: the size of each of them.
    pub queue_size: Option<u32>,
    /// `error_policy`: what a write error does (and a read error, unless
    /// `rerror_policy` says otherwise).
    pub error_policy: Option<ErrorPolicy>,
    /// `rerror_policy`: what a read error does.
    pub rerror_policy: Option<ErrorPolicy>,
    /// `ioeventfd='on|off'`: a virtio disk's notifications handled off the
    /// vCPU thread.
    pub ioeventfd: Option<bool>,
    /// `event_idx='on|off'`: a virtio disk's interrupt suppression.
    pub event_idx: Option<bool>,
    /// `copy_on_read='on|off'`: blocks read from a backing image are
    /// copied into the top image.
    pub copy_on_read: Option<bool>,
    /// The virtio options (`iommu`, `ats`, `packed`, `page_per_vq`) of a
    /// virtio disk.
    pub virtio: VirtioOptions,
    /// `<metadata_cache><max_size>` (qcow2): the most memory, in bytes,
    /// QEMU's caches of the image's metadata (L2 and refcount tables) may
    /// use; `None` leaves QEMU's default (enough for the whole image, up
    /// to 32 MiB).
    pub metadata_cache_max_size: Option<u64>,
}

words! {
    /// `<source startupPolicy=...>` of a local disk: what a start does when
    /// its file is missing (libvirt's `qemuDomainCheckDiskStartupPolicy`).
    pub enum StartupPolicy {
        /// Fail the start (the default).
        Mandatory = "mandatory",
        /// Fail a boot; on a restore or an incoming migration, drop the
        /// medium (cdrom and floppy only).
        Requisite = "requisite",
        /// Drop the medium (cdrom, floppy) or the disk, on a boot; on a
        /// restore or incoming migration, only a medium.
        Optional = "optional",
    }

    /// `<disk><driver error_policy=...>`.
    pub enum ErrorPolicy {
        /// Pause the guest (the manager reports the I/O error).
        Stop = "stop",
        /// Report the error to the guest.
        Report = "report",
        /// Ignore it.
        Ignore = "ignore",
        /// Pause on a full host disk, report other errors (writes only).
        Enospace = "enospace",
    }
}

/// libvirt's `<iotune>` limits, in the order libvirt writes them (the
/// `*_max_length` ones after `group_name`), each with the argument of
/// QEMU's `block_set_io_throttle` it sets.
pub const IOTUNE_LIMITS: &[(&str, &str)] = &[
    ("total_bytes_sec", "bps"),
    ("read_bytes_sec", "bps_rd"),
    ("write_bytes_sec", "bps_wr"),
    ("total_iops_sec", "iops"),
    ("read_iops_sec", "iops_rd"),
    ("write_iops_sec", "iops_wr"),
    ("total_bytes_sec_max", "bps_max"),
    ("read_bytes_sec_max", "bps_rd_max"),
    ("write_bytes_sec_max", "bps_wr_max"),
    ("total_iops_sec_max", "iops_max"),
    ("read_iops_sec_max", "iops_rd_max"),
    ("write_iops_sec_max", "iops_wr_max"),
    ("size_iops_sec", "iops_size"),
    ("total_bytes_sec_max_length", "bps_max_length"),
    ("read_bytes_sec_max_length", "bps_rd_max_length"),
    ("write_bytes_sec_max_length", "bps_wr_max_length"),
    ("total_iops_sec_max_length", "iops_max_length"),
    ("read_iops_sec_max_length", "iops_rd_max_length"),
    ("write_iops_sec_max_length", "iops_wr_max_length"),
];

/// `<iotune>`: QEMU's I/O throttling of a disk, set over QMP when the
/// domain starts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IoTune {
    /// The limits set (not zero), by libvirt's name, in
    /// [`IOTUNE_LIMITS`] order.
    pub limits: Vec<(&'static str, u64)>,
    /// `<group_name>`: disks of one group share their limits.
    pub group_name: Option<String>,
}

impl IoTune {
    /// The limit `name` (libvirt's), 0 when not set.
    pub fn get(&self, name: &str) -> u64 {
        self.limits
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(0, |(_, v)| *v)
    }
}

impl DiskFormat {
    /// QEMU's driver for images of this format: libvirt's name, but for
    /// `vhd`, which QEMU's `vhdx` driver reads.
    pub fn qemu_driver(self) -> &'static str {
        match self {
            DiskFormat::Vhd => "vhdx",
            // The FAT layer is the storage node's (vvfat): raw above it.
            DiskFormat::Fat => "raw",
            other => other.as_str(),
        }
    }

    /// Whether images of this format can have a backing file (QEMU's
    /// qcow2, qed and vmdk drivers take `backing`).
    pub fn has_backing(self) -> bool {
        matches!(self, DiskFormat::Qcow2 | DiskFormat::Qed | DiskFormat::Vmdk)
    }
}

impl DiskDriver {
    /// Whether no attribute is set.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

impl Disk {
    /// The `<disk>` element alone, as the domain's XML writes it (what
    /// libvirt's device calls take).
    pub fn to_xml(&self) -> String {
        super::format::disk_xml(self)
    }

    /// A disk of `device` kind named `target` with nothing else set: a
    /// file disk without a source.
    pub fn new(device: DiskDevice, target: impl Into<String>) -> Disk {
        Disk {
            kind: DiskType::File,
            device,
            format: None,
            driver: DiskDriver::default(),
            source: None,
            target: target.into(),
            bus: None,
            removable: None,
            tray_open: false,
            readonly: false,
            shareable: false,
            serial: None,
            wwn: None,
            vendor: None,
            product: None,
            iotune: None,
            boot_order: None,
            acpi_index: None,
            address: None,
            alias: None,
            volume: None,
            network: None,
            backing: None,
            model: None,
            transient: false,
            snapshot: None,
            startup_policy: None,
            norelabel: Vec::new(),
            encryption: None,
            blockio: DiskBlockIo::default(),
            geometry: None,
            rotation_rate: None,
            vhost_user: None,
            slice: None,
            mirror: None,
        }
    }

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
