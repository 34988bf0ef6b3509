//! Disks: each becomes block nodes (`-blockdev`, a protocol node and, for
//! qcow2, a format node on top) and a device on its bus.
//!
//! Buses, drive addresses and device ids follow libvirt, so that a
//! definition written for libvirt gets the same guest hardware: the bus
//! comes from `<target bus>` or the target's prefix, the drive address
//! from `<address type='drive'>` or the target's letters (hdc is IDE bus
//! 1 unit 0), and disks are ordered as libvirt orders them.

use std::collections::{BTreeMap, BTreeSet};

use super::devs::Dev;
use super::disk_net::{encryption_secret, network_node, with_credentials};
use super::opts::Opts;
use super::usb::UsbDev;
use super::{Ctx, Family, invalid, unsupported};
use crate::error::Error;
use crate::model::{
    Address, CacheMode, DetectZeroes, DiscardMode, Disk, DiskBus, DiskDevice, DiskFormat,
    DiskModel, DiskType, DomainDef, DriveAddress, ErrorPolicy, IoMode,
};

/// What libvirt derives for one disk.
#[derive(Debug, Clone)]
pub struct DiskInfo {
    /// The bus.
    pub bus: DiskBus,
    /// The target's number: `vda` is 0, `vdz` 25, `vdaa` 26.
    pub index: u32,
    /// The address on an IDE, SATA, SCSI or floppy controller.
    pub drive: Option<DriveAddress>,
    /// The QEMU device id (libvirt's alias): `ide0-1-0`, `virtio-disk2`.
    pub id: String,
}

/// The disks of a domain with what is derived for each, and libvirt's
/// order of them.
#[derive(Debug)]
pub struct Disks {
    /// Indexes into `def.devices.disks`, in libvirt's order.
    pub order: Vec<usize>,
    /// Per disk, in document order.
    pub info: Vec<DiskInfo>,
}

impl Disks {
    /// The (bus, controller index) pairs the disks sit on.
    pub fn controllers_used(&self) -> BTreeSet<(DiskBusKey, u32)> {
        self.info
            .iter()
            .filter_map(|i| i.drive.map(|d| (DiskBusKey(i.bus), d.controller)))
            .collect()
    }
}

/// A [`DiskBus`] that sorts, for sets of controllers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiskBusKey(pub DiskBus);

impl PartialOrd for DiskBusKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for DiskBusKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.0 as u8).cmp(&(other.0 as u8))
    }
}

/// The libvirt device id of a disk, as used by QMP commands (media
/// change) on the running domain; in document order.
pub fn device_ids(def: &DomainDef) -> Result<Vec<String>, Error> {
    Ok(resolve(def)?.info.into_iter().map(|i| i.id).collect())
}

/// Splits a target name into its number: `hdc` -> 2, `vdaa` -> 26.
fn target_index(target: &str) -> Option<u32> {
    let letters = ["xvd", "hd", "sd", "vd", "fd"]
        .iter()
        .find_map(|p| target.strip_prefix(p))?;
    if letters.is_empty() || letters.len() > 4 || !letters.bytes().all(|b| b.is_ascii_lowercase()) {
        return None;
    }
    // Bijective base 26, as libvirt's virDiskNameToIndex.
    let n = letters
        .bytes()
        .fold(0u32, |acc, b| acc * 26 + u32::from(b - b'a') + 1);
    Some(n - 1)
}

/// Derives bus, drive address and id of every disk, checks that no two
/// disks share a target or an address, and orders them as libvirt does.
pub fn resolve(def: &DomainDef) -> Result<Disks, Error> {
    let mut info = Vec::new();
    let mut targets = BTreeSet::new();
    let mut drives: BTreeMap<(u8, u32, u32, u32, u32), &str> = BTreeMap::new();
    for disk in &def.devices.disks {
        let t = disk.target.as_str();
        if !targets.insert(t) {
            return Err(invalid(format!(
                "target '{t}' is used by more than one disk"
            )));
        }
        let index = target_index(t).ok_or_else(|| {
            invalid(format!(
                "disk target '{t}' is not a disk name like hda, sdb, vdc or fda"
            ))
        })?;
        let bus = match disk.bus {
            Some(bus) => bus,
            None if disk.device == DiskDevice::Floppy => DiskBus::Fdc,
            None if t.starts_with("hd") => DiskBus::Ide,
            None if t.starts_with("sd") => DiskBus::Scsi,
            None if t.starts_with("vd") => DiskBus::Virtio,
            None if t.starts_with("fd") => DiskBus::Fdc,
            None => {
                return Err(unsupported(format!(
                    "the bus of disk '{t}' cannot be derived from its name: add <target bus=...>"
                )));
            }
        };
        let drive = match (bus, disk.address) {
            (DiskBus::Virtio | DiskBus::Usb, None) => None,
            (DiskBus::Virtio, Some(Address::Pci(_))) | (DiskBus::Usb, Some(Address::Usb(_))) => {
                None
            }
            (_, Some(Address::Pci(_))) | (DiskBus::Usb, Some(_)) => {
                return Err(unsupported(format!(
                    "Invalid address type for the disk '{t}' with the bus type '{}'",
                    bus.as_str()
                )));
            }
            (_, Some(Address::Drive(d))) if bus != DiskBus::Virtio => Some(d),
            (_, Some(_)) => {
                return Err(invalid(format!(
                    "Invalid address type for the disk '{t}' with the bus type '{}'",
                    bus.as_str()
                )));
            }
            (_, None) => Some(derived_address(bus, index)),
        };
        if let Some(d) = drive {
            let key = (bus as u8, d.controller, d.bus, d.target, d.unit);
            if let Some(other) = drives.insert(key, t) {
                return Err(invalid(format!(
                    "disks '{other}' and '{t}' have the same drive address controller='{}' bus='{}' target='{}' unit='{}'",
                    d.controller, d.bus, d.target, d.unit
                )));
            }
        }
        // A user alias is the id, as libvirt's qemuAssignDeviceDiskAlias
        // keeps it.
        let id = match (bus, drive) {
            _ if disk.alias.is_some() => disk.alias.clone().unwrap_or_default(),
            (DiskBus::Virtio, _) => format!("virtio-disk{index}"),
            (DiskBus::Usb, _) => format!("usb-disk{index}"),
            (DiskBus::Scsi, Some(d)) => {
                format!("scsi{}-{}-{}-{}", d.controller, d.bus, d.target, d.unit)
            }
            (_, Some(d)) => format!("{}{}-{}-{}", bus.as_str(), d.controller, d.bus, d.unit),
            (_, None) => unreachable!("drive addresses exist for every other bus"),
        };
        info.push(DiskInfo {
            bus,
            index,
            drive,
            id,
        });
    }
    let order = libvirt_order(&info);
    Ok(Disks { order, info })
}

/// libvirt's drive address for a target number on a bus.
fn derived_address(bus: DiskBus, index: u32) -> DriveAddress {
    let (controller, bus_no, unit) = match bus {
        DiskBus::Ide => (index / 4, (index % 4) / 2, index % 2),
        DiskBus::Sata => (index / 6, 0, index % 6),
        DiskBus::Scsi => (index / 7, 0, index % 7),
        _ => (0, 0, index),
    };
    DriveAddress {
        controller,
        bus: bus_no,
        target: 0,
        unit,
    }
}

/// libvirt keeps disks grouped by bus, each group sorted by target, in
/// the order each bus first appears (virDomainDiskInsert); the order
/// decides which disk `<boot dev='hd'/>` means.
fn libvirt_order(info: &[DiskInfo]) -> Vec<usize> {
    let mut order: Vec<usize> = Vec::new();
    for (i, new) in info.iter().enumerate() {
        let mut at = None;
        for (pos, &j) in order.iter().enumerate().rev() {
            if info[j].bus != new.bus {
                continue;
            }
            if info[j].index > new.index {
                at = Some(pos);
            } else if at.is_none() {
                at = Some(pos + 1);
            }
        }
        order.insert(at.unwrap_or(order.len()), i);
    }
    order
}

/// Emits the floppy controller's boot settings, then every disk in
/// libvirt's order.
pub fn emit(cx: &mut Ctx<'_>, disks: &Disks) -> Result<(), Error> {
    let def = cx.def;
    let mut floppy_boot = Vec::new();
    let mut floppies = false;
    for (i, info) in disks.info.iter().enumerate() {
        if info.bus == DiskBus::Fdc {
            floppies = true;
            let unit = info.drive.map(|d| d.unit).unwrap_or(0);
            if let Some(n) = cx.boot.disk(i) {
                floppy_boot.push((if unit == 0 { "A" } else { "B" }, n));
            }
        }
    }
    match cx.family {
        Family::I440fx => {
            for (drive, n) in &floppy_boot {
                cx.arg("-global", format!("isa-fdc.bootindex{drive}={n}"));
            }
        }
        // Q35 has no floppy controller: add one.
        Family::Q35 if floppies => {
            let mut o = Opts::new("isa-fdc").set("id", "fdc0");
            for (drive, n) in &floppy_boot {
                o = o.set(&format!("bootindex{drive}"), n);
            }
            cx.arg("-device", o.build());
        }
        Family::Q35 => {}
    }
    for &i in &disks.order {
        emit_disk(
            cx,
            i,
            &def.devices.disks[i],
            &disks.info[i],
            cx.boot.disk(i),
        )?;
    }
    Ok(())
}

fn emit_disk(
    cx: &mut Ctx<'_>,
    index: usize,
    disk: &Disk,
    info: &DiskInfo,
    bootindex: Option<u32>,
) -> Result<(), Error> {
    let t = &disk.target;
    let bus = info.bus.as_str();
    let media = disk.device.as_str();
    let fits = match disk.device {
        DiskDevice::Disk => info.bus != DiskBus::Fdc,
        DiskDevice::Cdrom => matches!(info.bus, DiskBus::Ide | DiskBus::Sata | DiskBus::Scsi),
        DiskDevice::Floppy => info.bus == DiskBus::Fdc,
        // The rest of a LUN's rules are `qemu::validate`'s.
        DiskDevice::Lun => info.bus == DiskBus::Scsi,
    };
    if !fits {
        return Err(unsupported(format!(
            "disk '{t}': a {media} device on bus '{bus}' is not supported"
        )));
    }
    if let Some(v) = &disk.vhost_user {
        return emit_vhost_user(cx, index, disk, info, v, bootindex);
    }
    if disk.kind == DiskType::Volume && disk.source.is_none() && disk.volume.is_some() {
        // The manager gives a volume disk its file when the domain starts.
        return Err(unsupported(format!(
            "disk '{}' is a storage volume, resolved to its file only when the domain starts",
            disk.target
        )));
    }
    let node = match (&disk.source, &disk.network) {
        (Some(source), _) => Some(emit_nodes(cx, disk, info, Some(source))?),
        (None, Some(_)) => Some(emit_nodes(cx, disk, info, None)?),
        (None, None) if disk.device == DiskDevice::Disk => {
            return Err(invalid(format!("disk '{t}' has no <source>")));
        }
        (None, None) => None,
    };
    // Only a hard disk takes the filter (`disk_props::check`), and it has
    // a medium.
    let node = node.map(|n| super::disk_props::copy_on_read(cx, disk, &info.id, n));
    let cd = disk.device == DiskDevice::Cdrom;
    let d = info.drive.unwrap_or(DriveAddress {
        controller: 0,
        bus: 0,
        target: 0,
        unit: 0,
    });
    let out_of_range = |limits: &str| {
        invalid(format!(
            "disk '{t}': drive address controller='{}' bus='{}' target='{}' unit='{}' is out of range for bus '{bus}' ({limits})",
            d.controller, d.bus, d.target, d.unit
        ))
    };
    let mut o = match info.bus {
        DiskBus::Virtio => {
            let what = format!("disk '{t}'");
            let placed = cx
                .pci
                .place(&what, disk.address.as_ref(), Dev::Disk(index))?;
            let device = match disk.model {
                None | Some(DiskModel::Virtio) => "virtio-blk-pci",
                Some(DiskModel::VirtioTransitional) => "virtio-blk-pci-transitional",
                Some(DiskModel::VirtioNonTransitional) => "virtio-blk-pci-non-transitional",
            };
            let iothread = match disk.driver.iothread {
                None => None,
                Some(n) if cx.def.iothread_ids().contains(&n) => Some(format!("iothread{n}")),
                Some(n) => {
                    return Err(invalid(format!(
                        "Disk iothread '{n}' not defined in iothreadid: disk '{t}' names an I/O thread the domain's <iothreads> does not have"
                    )));
                }
            };
            if disk.driver.queues == Some(0) {
                return Err(invalid(format!(
                    "disk '{t}': <driver queues> must be at least 1"
                )));
            }
            if let Some(q) = disk
                .driver
                .queue_size
                .filter(|q| !q.is_power_of_two() || *q < 2)
            {
                return Err(invalid(format!(
                    "disk '{t}': <driver queue_size='{q}'> must be a power of two"
                )));
            }
            Opts::new(device)
                .set("id", &info.id)
                .maybe("num-queues", disk.driver.queues)
                .maybe("queue-size", disk.driver.queue_size)
                .maybe("iothread", iothread)
                .extend(placed.opts)
                .maybe("acpi-index", disk.acpi_index)
        }
        DiskBus::Ide => {
            if cx.family == Family::Q35 {
                return Err(unsupported(format!(
                    "disk '{t}': q35 machines have no IDE bus: use bus='sata'"
                )));
            }
            if d.controller != 0 || d.bus > 1 || d.target != 0 || d.unit > 1 {
                return Err(out_of_range("controller 0, bus 0-1, target 0, unit 0-1"));
            }
            Opts::new(if cd { "ide-cd" } else { "ide-hd" })
                .set("id", &info.id)
                .set("bus", format!("ide.{}", d.bus))
                .set("unit", d.unit)
        }
        DiskBus::Sata => {
            if d.bus != 0 || d.target != 0 || d.unit > 5 {
                return Err(out_of_range("bus 0, target 0, unit 0-5"));
            }
            Opts::new(if cd { "ide-cd" } else { "ide-hd" })
                .set("id", &info.id)
                .set("bus", sata_bus(cx.family, d.controller, d.unit))
        }
        DiskBus::Scsi => {
            let model = cx
                .ctrls
                .scsi(d.controller)
                .expect("the plan adds every SCSI controller disks use");
            let device = match disk.device {
                DiskDevice::Lun => "scsi-block",
                _ if cd => "scsi-cd",
                _ => "scsi-hd",
            };
            let o = Opts::new(device)
                .set("id", &info.id)
                .set("bus", format!("scsi{}.0", d.controller));
            if model.by_unit {
                if d.bus != 0 || d.target != 0 || d.unit > 6 {
                    return Err(out_of_range(
                        "bus 0, target 0, unit 0-6 on an lsilogic controller",
                    ));
                }
                o.set("scsi-id", d.unit)
            } else {
                o.set("channel", d.bus)
                    .set("scsi-id", d.target)
                    .set("lun", d.unit)
            }
        }
        DiskBus::Fdc => {
            if d.controller != 0 || d.bus != 0 || d.target != 0 || d.unit > 1 {
                return Err(out_of_range("controller 0, bus 0, target 0, unit 0-1"));
            }
            Opts::new("floppy").set("id", &info.id).set("unit", d.unit)
        }
        DiskBus::Usb => {
            let port = cx.usb.port_of(UsbDev::Disk(index))?;
            Opts::new("usb-storage")
                .set("id", &info.id)
                .extend(port)
                .switch("removable", disk.removable == Some(true))
        }
    };
    let virtio_only = disk.model.is_some()
        || disk.driver.iothread.is_some()
        || disk.driver.queues.is_some()
        || disk.driver.queue_size.is_some();
    if info.bus != DiskBus::Virtio && virtio_only {
        return Err(unsupported(format!(
            "disk '{t}': a disk model, an I/O thread, queues and a queue size are only supported on virtio disks"
        )));
    }
    o = super::disk_props::add(o, disk, info.bus)?;
    // Which buses take a WWN, a vendor and a product is
    // `qemu::validate`'s to say.
    if let Some(w) = &disk.wwn {
        let digits = w.strip_prefix("0x").unwrap_or(w);
        let n = u64::from_str_radix(digits, 16)
            .map_err(|_| invalid(format!("disk '{t}': malformed wwn {w}")))?;
        o = o.set("wwn", n);
    }
    if let Some(v) = &disk.vendor {
        o = o.set_user("vendor", "disk vendor", v)?;
    }
    if let Some(p) = &disk.product {
        o = o.set_user("product", "disk product", p)?;
    }
    if disk.removable.is_some() && info.bus != DiskBus::Usb {
        return Err(unsupported(format!(
            "disk '{t}': removable is only supported on USB disks"
        )));
    }
    // scsi-block passes the guest's cache flushes to the device: no
    // write-cache setting means anything there (libvirt sets none).
    if let Some(wc) = cache_modes(disk)?.map(|c| c.2)
        && disk.device != DiskDevice::Lun
    {
        o = o.switch("write-cache", wc);
    }
    // libvirt's rule: the write policy also governs reads unless one is
    // given for them, save 'enospace', which is for writes only.
    let word = |p: ErrorPolicy| match p {
        ErrorPolicy::Enospace => "enospc",
        other => other.as_str(),
    };
    let werror = disk.driver.error_policy;
    let rerror = disk
        .driver
        .rerror_policy
        .or(werror.filter(|p| *p != ErrorPolicy::Enospace));
    if (werror.is_some() || rerror.is_some()) && info.bus == DiskBus::Fdc {
        return Err(unsupported(format!(
            "disk '{t}': a floppy drive has no error policy"
        )));
    }
    o = o
        .maybe("werror", werror.map(word))
        .maybe("rerror", rerror.map(word));
    o = o.maybe("drive", node);
    if let Some(serial) = &disk.serial {
        o = o.set_user("serial", "disk serial", serial)?;
    }
    if disk.shareable {
        // qemu_validate.c: of the formats, only raw survives two writers.
        if !disk.readonly && disk.format.is_some_and(|f| f != DiskFormat::Raw) {
            return Err(unsupported(format!(
                "shared access for disk '{t}' requires use of supported storage format: only raw images can be shared writable"
            )));
        }
        o = o.switch("share-rw", true);
    }
    // A floppy boots through its controller (isa-fdc.bootindexA/B).
    if info.bus != DiskBus::Fdc {
        o = o.maybe("bootindex", bootindex);
    }
    cx.arg("-device", o.build());
    Ok(())
}

/// A vhost-user disk: the server's socket as a chardev and a
/// `vhost-user-blk-pci` device on it, as libvirt builds them; the guest's
/// memory must be shared with the server.
fn emit_vhost_user(
    cx: &mut Ctx<'_>,
    index: usize,
    disk: &Disk,
    info: &DiskInfo,
    source: &crate::model::VhostUserSource,
    bootindex: Option<u32>,
) -> Result<(), Error> {
    let t = &disk.target;
    if !super::passthrough::shared_memory(cx.def) {
        return Err(unsupported(format!(
            "disk '{t}': 'vhostuser' requires shared memory: add <memoryBacking><source type='memfd'/><access mode='shared'/></memoryBacking>"
        )));
    }
    if info.bus != DiskBus::Virtio || disk.model.is_some() {
        return Err(unsupported(format!(
            "disk '{t}': a vhostuser disk is a plain virtio disk (no model)"
        )));
    }
    let chr = format!("chr-vu-{}", info.id);
    let backend = Opts::new("socket")
        .set("id", &chr)
        .set_user("path", "vhost-user disk socket", &source.path)?
        .maybe("reconnect", source.reconnect);
    cx.arg("-chardev", backend.build());
    let placed = cx.pci.place(
        &format!("disk '{t}'"),
        disk.address.as_ref(),
        Dev::Disk(index),
    )?;
    if disk.driver.queues == Some(0) {
        return Err(invalid(format!(
            "disk '{t}': <driver queues> must be at least 1"
        )));
    }
    let o = Opts::new("vhost-user-blk-pci")
        .set("chardev", &chr)
        .set("id", &info.id)
        .maybe("num-queues", disk.driver.queues)
        .maybe("queue-size", disk.driver.queue_size)
        .extend(placed.opts);
    let o = super::disk_props::add(o, disk, DiskBus::Virtio)?.maybe("bootindex", bootindex);
    cx.arg("-device", o.build());
    Ok(())
}

/// What `<driver cache>` means for QEMU: `cache.direct`,
/// `cache.no-flush` on the block nodes and `write-cache` on the device,
/// as libvirt translates it; `None` when not written.
fn cache_modes(disk: &Disk) -> Result<Option<(bool, bool, bool)>, Error> {
    Ok(match disk.driver.cache {
        None | Some(CacheMode::Default) => None,
        Some(CacheMode::None) => Some((true, false, true)),
        Some(CacheMode::Writethrough) => Some((false, false, false)),
        Some(CacheMode::Writeback) => Some((false, false, true)),
        Some(CacheMode::Directsync) => Some((true, false, false)),
        Some(CacheMode::Unsafe) => Some((false, true, true)),
    })
}

/// The block nodes of a disk with media; returns the node the device uses.
fn emit_nodes(
    cx: &mut Ctx<'_>,
    disk: &Disk,
    info: &DiskInfo,
    source: Option<&str>,
) -> Result<String, Error> {
    let t = &disk.target;
    if disk.transient && (disk.readonly || disk.device != DiskDevice::Disk || disk.shareable) {
        return Err(unsupported(format!(
            "disk '{t}': <transient/> is supported on writable, unshared hard disks only"
        )));
    }
    // As libvirt: the overlay is made over a local image only.
    if disk.transient && !matches!(disk.kind, DiskType::File | DiskType::Block) {
        return Err(unsupported(format!(
            "disk '{t}': <transient/> is supported on local storage only (type='file' or 'block')"
        )));
    }
    let readonly = disk.readonly || disk.device == DiskDevice::Cdrom || disk.transient;
    let cache = cache_modes(disk)?;
    let direct = cache.is_some_and(|c| c.0);
    let aio = match disk.driver.io {
        None => None,
        Some(IoMode::Native) => {
            if !direct {
                return Err(unsupported(format!(
                    "disk '{t}': io='native' needs either no disk cache or directsync cache mode"
                )));
            }
            Some("native")
        }
        Some(IoMode::Threads) => Some("threads"),
        Some(IoMode::IoUring) => Some("io_uring"),
    };
    let discard = disk.driver.discard.map(DiscardMode::as_str);
    let detect_zeroes = match disk.driver.detect_zeroes {
        None => None,
        // Unmapping zeroes needs discards to reach the image.
        Some(DetectZeroes::Unmap) if discard != Some("unmap") => Some("on"),
        Some(d) => Some(d.as_str()),
    };
    let cache_opts = |o: Opts| match cache {
        Some((direct, no_flush, _)) => o
            .switch("cache.direct", direct)
            .switch("cache.no-flush", no_flush),
        None => o,
    };
    // A LUKS raw image has a format node too: QEMU's `luks` driver.
    // So does a sliced raw image: the slice is the raw node's offset and
    // size (libvirt's qemuBlockStorageSourceGetFormatRawProps).
    let raw_format = matches!(
        disk.format,
        None | Some(DiskFormat::Raw) | Some(DiskFormat::Fat)
    );
    let raw = raw_format && disk.encryption.is_none() && disk.slice.is_none();
    // The backing chain, lowest image first: each a storage node and a
    // format node whose `backing` is the one below.
    let mut below: Option<String> = match &disk.backing {
        Some(None) => Some(String::new()),
        _ => None,
    };
    if let Some(Some(top)) = &disk.backing {
        if let Some(f) = disk.format.filter(|f| !f.has_backing()) {
            return Err(invalid(format!(
                "disk '{t}': a {} image has no backing store",
                f.as_str()
            )));
        }
        let mut chain = Vec::new();
        let mut next = Some(top);
        while let Some(b) = next {
            chain.push(b);
            next = match &b.backing {
                Some(Some(n)) => Some(n),
                _ => None,
            };
        }
        for (depth, b) in chain.iter().enumerate().rev() {
            let storage = format!("{}-backing{}-storage", info.id, depth + 1);
            let format_node = format!("{}-backing{}-format", info.id, depth + 1);
            let o = Opts::empty()
                .set("driver", file_driver(b.kind, disk.device))
                .set_user("filename", "backing store", &b.source)?
                .set("node-name", &storage);
            cx.arg("-blockdev", cache_opts(o).switch("read-only", true).build());
            let end_of_chain = matches!(b.backing, Some(None));
            let o = Opts::empty()
                .set("driver", b.format.qemu_driver())
                .maybe("cache-size", b.metadata_cache_max_size)
                .set("file", &storage)
                .set("node-name", &format_node);
            let o = match (&below, end_of_chain) {
                (Some(n), _) if !n.is_empty() => o.set("backing", n),
                (_, true) if b.format.has_backing() => o.set("backing", ""),
                _ => o,
            };
            cx.arg("-blockdev", cache_opts(o).switch("read-only", true).build());
            below = Some(format_node);
        }
    }
    let storage = format!("{}-storage", info.id);
    let o = match (source, &disk.network) {
        // A directory: QEMU's vvfat makes a read-only FAT image of it
        // (libvirt's qemuBlockStorageSourceGetVvfatProps).
        (Some(dir), _) if disk.kind == DiskType::Dir => Opts::empty()
            .set("driver", "vvfat")
            .set_user("dir", "disk source directory", dir)?
            .switch("floppy", disk.device == DiskDevice::Floppy)
            .switch("rw", false)
            .set("node-name", &storage),
        (Some(source), _) => Opts::empty()
            .set("driver", file_driver(disk.kind, disk.device))
            .set_user("filename", "disk source", source)?
            .set("node-name", &storage),
        (None, Some(net)) => {
            let o = network_node(net, t)?;
            let o = match &net.auth {
                Some(auth) => with_credentials(cx, o, net, auth, &info.id)?,
                None => o,
            };
            let o = super::disk_net::curl_options(cx, o, net, &info.id)?;
            super::disk_net::tls_options(cx, o, net, &info.id, t)?.set("node-name", &storage)
        }
        (None, None) => return Err(invalid(format!("disk '{t}' has no <source>"))),
    };
    let o = cache_opts(o.maybe("aio", aio))
        .switch("read-only", readonly)
        .maybe("discard", discard)
        // A raw image has no format node: the zero detection is here.
        .maybe("detect-zeroes", if raw { detect_zeroes } else { None });
    cx.arg("-blockdev", o.build());
    // A slice under any other format is a raw node of its own between
    // the storage and the format (libvirt's
    // qemuBlockStorageSourceNeedsStorageSliceLayer).
    let storage = match disk.slice {
        Some(sl) if !(raw_format && disk.encryption.is_none()) => {
            let node = format!("{}-slice-storage", info.id);
            let o = Opts::empty()
                .set("driver", "raw")
                .set("node-name", &node)
                .set("offset", sl.offset)
                .set("size", sl.size)
                .set("file", &storage);
            let o = cache_opts(o)
                .switch("read-only", readonly)
                .maybe("discard", discard);
            cx.arg("-blockdev", o.build());
            node
        }
        _ => storage,
    };
    let top = if raw {
        storage
    } else {
        let format = format!("{}-format", info.id);
        let driver = disk.format.unwrap_or(DiskFormat::Raw);
        let o = match (&disk.encryption, driver) {
            (None, DiskFormat::Raw) => match disk.slice {
                Some(sl) => Opts::empty()
                    .set("driver", "raw")
                    .set("offset", sl.offset)
                    .set("size", sl.size),
                None => Opts::empty().set("driver", "raw"),
            },
            (None, _) => Opts::empty().set("driver", driver.qemu_driver()),
            (Some(_), DiskFormat::Raw) => Opts::empty()
                .set("driver", "luks")
                .set("key-secret", encryption_secret(cx, &info.id)?),
            (Some(_), DiskFormat::Qcow2) => Opts::empty()
                .set("driver", "qcow2")
                .set("encrypt.format", "luks")
                .set("encrypt.key-secret", encryption_secret(cx, &info.id)?),
            (Some(_), other) => {
                return Err(unsupported(format!(
                    "disk '{t}': encryption is supported only with 'raw' and 'qcow2' image format, not '{}'",
                    other.as_str()
                )));
            }
        };
        // libvirt's qemuBlockStorageSourceGetFormatQcow2Props: the
        // combined size of the L2 and refcount caches.
        let o = o
            .maybe("cache-size", disk.driver.metadata_cache_max_size)
            .set("file", &storage)
            .set("node-name", &format)
            .maybe("backing", below.filter(|_| driver.has_backing()));
        let o = cache_opts(o)
            .switch("read-only", readonly)
            .maybe("discard", discard)
            .maybe("detect-zeroes", detect_zeroes);
        cx.arg("-blockdev", o.build());
        format
    };
    if !disk.transient {
        return Ok(top);
    }
    // Writes go to an overlay the driver creates in the runtime
    // directory before QEMU starts; it goes with the run.
    let overlay = transient_overlay(&cx.paths.runtime_dir, &info.id);
    let overlay = super::runtime_path("transient overlay", &overlay)?;
    let storage = format!("{}-overlay-storage", info.id);
    let o = Opts::empty()
        .set("driver", "file")
        .set("filename", overlay)
        .set("node-name", &storage);
    cx.arg(
        "-blockdev",
        cache_opts(o).switch("read-only", false).build(),
    );
    let node = format!("{}-overlay", info.id);
    let o = Opts::empty()
        .set("driver", "qcow2")
        .set("file", &storage)
        .set("node-name", &node)
        .set("backing", top);
    cx.arg(
        "-blockdev",
        cache_opts(o)
            .switch("read-only", false)
            .maybe("discard", discard)
            .maybe("detect-zeroes", detect_zeroes)
            .build(),
    );
    Ok(node)
}

/// The overlay a `<transient/>` disk with device id `id` writes to, in
/// the domain's runtime directory.
pub fn transient_overlay(run_dir: &std::path::Path, id: &str) -> std::path::PathBuf {
    run_dir.join(format!("transient-{id}.qcow2"))
}

/// QEMU's protocol driver for a local image.
fn file_driver(kind: DiskType, device: DiskDevice) -> &'static str {
    match (kind, device) {
        (DiskType::Block, DiskDevice::Cdrom) => "host_cdrom",
        (DiskType::Block, _) => "host_device",
        _ => "file",
    }
}

/// The SATA bus of a port: Q35's built-in AHCI controller names its ports
/// `ide.N`; an added `ich9-ahci` with id `sataC` names them `sataC.N`.
pub fn sata_bus(family: Family, controller: u32, unit: u32) -> String {
    if family == Family::Q35 && controller == 0 {
        format!("ide.{unit}")
    } else {
        format!("sata{controller}.{unit}")
    }
}
