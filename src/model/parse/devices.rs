//! Reading `<devices>`, the addresses of its devices, disks and
//! controllers. Interfaces are in `net`, character devices in
//! `chardev`, the others in `peripherals`.

use std::collections::{HashMap, HashSet};

use super::el::{El, R, Radix, invalid, push, set};
use super::{chardev, hostdev, memory, optional_text, peripherals};
use crate::model::{
    Address, BackingStore, Controller, ControllerTarget, ControllerType, Devices, Disk, DiskDevice,
    DiskDriver, DiskEncryption, DiskHost, DiskProtocol, DiskType, DriveAddress, InputType,
    ModelErrorKind, NetworkSource, PciAddress, UsbAddress, UsbPort, VirtioOptions,
    VirtioSerialAddress,
};

pub(super) fn devices(e: El) -> R<Devices> {
    e.allow(&[])?;
    let mut d = Devices::default();
    let mut emulator = None;
    // Whether each controller was written with an index.
    let mut indexed = Vec::new();
    for c in e.children()? {
        match c.name() {
            "emulator" => set(&mut emulator, c, optional_text)?,
            "disk" => push(&mut d.disks, c, disk)?,
            "controller" if c.get("type") == Some("ccid") => {
                let ccid = c.read(|c| super::smartcard::ccid_controller(c, &d.ccid_controllers))?;
                d.ccid_controllers.extend(ccid);
            }
            "controller" => {
                if let Some((ctl, has_index)) = c.read(controller)? {
                    indexed.push(has_index);
                    d.controllers.push(ctl);
                }
            }
            "interface" => push(&mut d.interfaces, c, super::net::interface)?,
            "serial" => push(&mut d.serials, c, |c| chardev::chardev(c, false))?,
            "console" => push(&mut d.consoles, c, |c| chardev::chardev(c, true))?,
            "parallel" => push(&mut d.parallels, c, |c| chardev::chardev(c, false))?,
            "channel" => push(&mut d.channels, c, chardev::channel)?,
            "input" => push(&mut d.inputs, c, peripherals::input)?,
            "tpm" => push(&mut d.tpms, c, peripherals::tpm)?,
            "graphics" if c.get("type") == Some("egl-headless") => {
                set(&mut d.egl_headless, c, peripherals::egl_headless)?;
            }
            "graphics" => push(&mut d.graphics, c, peripherals::graphics)?,
            "sound" => push(&mut d.sounds, c, peripherals::sound)?,
            "audio" => push(&mut d.audios, c, peripherals::audio)?,
            "video" => push(&mut d.videos, c, peripherals::video)?,
            "redirdev" => push(&mut d.redirdevs, c, chardev::redirdev)?,
            "smartcard" => push(&mut d.smartcards, c, super::smartcard::smartcard)?,
            "hub" => push(&mut d.hubs, c, peripherals::hub)?,
            "watchdog" => push(&mut d.watchdogs, c, peripherals::watchdog)?,
            "panic" => push(&mut d.panics, c, peripherals::panic)?,
            "memballoon" => set(&mut d.memballoon, c, peripherals::memballoon)?,
            "rng" => push(&mut d.rngs, c, peripherals::rng)?,
            "vsock" => set(&mut d.vsock, c, peripherals::vsock)?,
            "iommu" => set(&mut d.iommu, c, peripherals::iommu)?,
            "hostdev" => push(&mut d.hostdevs, c, hostdev::hostdev)?,
            "filesystem" => push(&mut d.filesystems, c, hostdev::filesystem)?,
            "shmem" => push(&mut d.shmems, c, hostdev::shmem)?,
            "memory" => push(&mut d.memories, c, hostdev::memory_device)?,
            _ => c.skip()?,
        }
    }
    d.emulator = emulator.flatten();
    assign_controller_indexes(&mut d.controllers, &indexed);
    clear_unassigned(&mut d);
    Ok(d)
}

/// Whether a USB controller is one of the ICH9 USB2 set (the EHCI master
/// and its UHCI companions).
fn is_usb2(c: &Controller) -> bool {
    c.kind == ControllerType::Usb
        && matches!(
            c.model.as_deref(),
            Some("ich9-ehci1" | "ich9-uhci1" | "ich9-uhci2" | "ich9-uhci3")
        )
}

/// Whether a USB controller is a companion of an EHCI master: it says
/// so with `<master>`, or it is an ICH9 UHCI, which libvirt always makes
/// one.
fn is_companion(c: &Controller) -> bool {
    c.kind == ControllerType::Usb
        && (c.master_startport.is_some()
            || matches!(
                c.model.as_deref(),
                Some("ich9-uhci1" | "ich9-uhci2" | "ich9-uhci3")
            ))
}

/// Gives each controller written without an index the one libvirt gives
/// it. libvirt keeps controllers in a list ordered by type and index
/// (one without an index goes after the last of its type), and walks
/// that list: a controller gets the lowest index its type has free,
/// except that an ICH9 USB2 controller right after another one of the
/// set takes that one's index, unless the set already has its model.
fn assign_controller_indexes(ctls: &mut [Controller], indexed: &[bool]) {
    let idx = |ctls: &[Controller], has: &[bool], i: usize| -> i64 {
        if has[i] { i64::from(ctls[i].index) } else { -1 }
    };
    let mut order: Vec<usize> = Vec::new();
    for i in 0..ctls.len() {
        let new = idx(ctls, indexed, i);
        let mut at: Option<usize> = None;
        for pos in (0..order.len()).rev() {
            let cur = order[pos];
            if ctls[cur].kind != ctls[i].kind {
                continue;
            }
            if new == -1 {
                at = Some(pos + 1);
                break;
            }
            let cur_idx = idx(ctls, indexed, cur);
            let master = !is_companion(&ctls[i]);
            let companion = is_companion(&ctls[cur]);
            if cur_idx > new || (master && companion && cur_idx == new) {
                at = Some(pos);
            } else if at.is_none() {
                at = Some(pos + 1);
            }
        }
        order.insert(at.unwrap_or(order.len()), i);
    }
    let mut used: HashSet<(ControllerType, u32)> = HashSet::new();
    let mut usb_models: HashSet<(u32, Option<String>)> = HashSet::new();
    for (i, c) in ctls.iter().enumerate() {
        if indexed[i] {
            used.insert((c.kind, c.index));
            if c.kind == ControllerType::Usb {
                usb_models.insert((c.index, c.model.clone()));
            }
        }
    }
    // Indexes only get taken, so the lowest free one of a type never goes
    // down and each type's search resumes where it ended.
    let mut next: HashMap<ControllerType, u32> = HashMap::new();
    let mut last_usb: Option<usize> = None;
    for &i in &order {
        if !indexed[i] {
            let prev = last_usb
                .filter(|&p| is_usb2(&ctls[i]) && is_usb2(&ctls[p]))
                .filter(|&p| !usb_models.contains(&(ctls[p].index, ctls[i].model.clone())));
            let index = match prev {
                Some(p) => ctls[p].index,
                None => {
                    let kind = ctls[i].kind;
                    let mut n = next.get(&kind).copied().unwrap_or(0);
                    while used.contains(&(kind, n)) {
                        n += 1;
                    }
                    next.insert(kind, n);
                    n
                }
            };
            ctls[i].index = index;
            used.insert((ctls[i].kind, index));
            if ctls[i].kind == ControllerType::Usb {
                usb_models.insert((index, ctls[i].model.clone()));
            }
        }
        if ctls[i].kind == ControllerType::Usb {
            last_usb = Some(i);
        }
    }
}

/// libvirt reads `<address type='pci'/>` (all zero) as "pick an address".
/// Such an address is dropped where a PCI address is possible; elsewhere
/// it stays so validation can refuse the address type.
fn clear_unassigned(d: &mut Devices) {
    fn clear(a: &mut Option<Address>) {
        if let Some(Address::Pci(p)) = a
            && (p.domain, p.bus, p.slot, p.function) == (0, 0, 0, 0)
            && p.multifunction.is_none()
        {
            *a = None;
        }
    }
    for disk in &mut d.disks {
        if disk.effective_bus() == Some(crate::model::DiskBus::Virtio) {
            clear(&mut disk.address);
        }
    }
    for c in &mut d.controllers {
        let root = matches!(c.model.as_deref(), Some("pci-root" | "pcie-root"));
        if !root {
            clear(&mut c.address);
        }
    }
    for i in &mut d.interfaces {
        clear(&mut i.address);
    }
    for i in &mut d.inputs {
        let passthrough = i.bus.is_none() && i.kind == InputType::Passthrough;
        if i.bus == Some(crate::model::InputBus::Virtio) || passthrough {
            clear(&mut i.address);
        }
    }
    for v in &mut d.videos {
        clear(&mut v.address);
    }
    for s in &mut d.sounds {
        clear(&mut s.address);
    }
    for w in &mut d.watchdogs {
        clear(&mut w.address);
    }
    for r in &mut d.rngs {
        clear(&mut r.address);
    }
    for h in &mut d.hostdevs {
        if !matches!(h.source, crate::model::HostdevSource::Usb(_)) {
            clear(&mut h.address);
        }
    }
    for f in &mut d.filesystems {
        clear(&mut f.address);
    }
    for m in &mut d.shmems {
        clear(&mut m.address);
    }
    if let Some(b) = &mut d.memballoon {
        clear(&mut b.address);
    }
}

/// `<address type=...>`.
pub(super) fn address(e: El) -> R<Address> {
    e.empty()?;
    e.req("type")?;
    let kind = e.choice(
        "type",
        &[("pci", 0), ("drive", 1), ("usb", 2), ("virtio-serial", 3)],
    )?;
    let num = |name: &str, radix| -> R<u32> { Ok(e.u32(name, radix)?.unwrap_or(0)) };
    match kind {
        Some(0) => {
            e.allow(&["type", "domain", "bus", "slot", "function", "multifunction"])?;
            Ok(Address::Pci(PciAddress {
                domain: num("domain", Radix::Auto)?,
                bus: num("bus", Radix::Auto)?,
                slot: num("slot", Radix::Auto)?,
                function: num("function", Radix::Auto)?,
                multifunction: e.on_off("multifunction")?,
            }))
        }
        Some(1) => {
            e.allow(&["type", "controller", "bus", "target", "unit"])?;
            Ok(Address::Drive(DriveAddress {
                controller: num("controller", Radix::Dec)?,
                bus: num("bus", Radix::Dec)?,
                target: num("target", Radix::Dec)?,
                unit: num("unit", Radix::Dec)?,
            }))
        }
        Some(3) => {
            e.allow(&["type", "controller", "bus", "port"])?;
            Ok(Address::VirtioSerial(VirtioSerialAddress {
                controller: num("controller", Radix::Dec)?,
                bus: num("bus", Radix::Dec)?,
                port: num("port", Radix::Dec)?,
            }))
        }
        _ => {
            e.allow(&["type", "bus", "port"])?;
            Ok(Address::Usb(UsbAddress {
                bus: num("bus", Radix::Dec)?,
                port: usb_port(e)?,
            }))
        }
    }
}

/// `port='1.2'`: a USB port path, as libvirt reads it. A lone `0` (or no
/// port) lets the manager pick a free port.
fn usb_port(e: El) -> R<Option<UsbPort>> {
    let Some(v) = e.get("port") else {
        return Ok(None);
    };
    let bad = || {
        e.bad_value(
            ModelErrorKind::Invalid,
            "port",
            "expected a port such as '1' or '1.2' (ports behind hubs), at most 4 levels",
        )
    };
    let mut path = Vec::new();
    for part in v.split('.') {
        let n = super::el::parse_uint(part, Radix::Dec).ok_or_else(bad)?;
        path.push(u32::try_from(n).map_err(|_| bad())?);
    }
    if path == [0] {
        return Ok(None);
    }
    UsbPort::new(&path).map(Some).ok_or_else(bad)
}

/// `<alias name=...>`: the management name of a device. It is not seen by
/// the guest, so it is read and dropped.
pub(super) fn alias(e: El) -> R<()> {
    e.allow(&["name"])?;
    e.empty()?;
    e.req("name")?;
    Ok(())
}

/// An empty marker element such as `<readonly/>`.
fn flag(e: El) -> R<bool> {
    e.allow(&[])?;
    e.empty()?;
    Ok(true)
}

/// `<boot order=N/>`.
pub(super) fn boot_order(e: El) -> R<u32> {
    e.allow(&["order"])?;
    e.empty()?;
    e.req("order")?;
    Ok(e.u32("order", Radix::Dec)?.unwrap_or(0))
}

/// The virtio options of a `<driver>`; the caller allows the attributes,
/// these among them.
pub(super) const VIRTIO_ATTRS: [&str; 4] = ["iommu", "ats", "packed", "page_per_vq"];

/// Reads the virtio options of a `<driver>` whose attributes the caller
/// has allowed.
pub(super) fn virtio_attrs(e: El) -> R<VirtioOptions> {
    Ok(VirtioOptions {
        iommu: e.on_off("iommu")?,
        ats: e.on_off("ats")?,
        packed: e.on_off("packed")?,
        page_per_vq: e.on_off("page_per_vq")?,
    })
}

/// `<driver>` with only the virtio options; `also` names extra attributes
/// the caller reads.
pub(super) fn virtio_options(e: El, also: &[&str]) -> R<VirtioOptions> {
    let mut allowed = VIRTIO_ATTRS.to_vec();
    allowed.extend_from_slice(also);
    e.allow(&allowed)?;
    e.empty()?;
    virtio_attrs(e)
}

fn disk(e: El) -> R<Disk> {
    e.allow(&["type", "device", "model", "snapshot"])?;
    let kind = e.word("type")?.unwrap_or(DiskType::File);
    let device = e.word("device")?.unwrap_or(DiskDevice::Disk);
    let snapshot = match e.get("snapshot") {
        Some("manual") => {
            return Err(e.bad_value(
                ModelErrorKind::Unsupported,
                "snapshot",
                "'manual' (the user snapshots the disk outside the manager) is not supported; use 'no'",
            ));
        }
        _ => e.word::<crate::model::SnapshotLocation>("snapshot")?,
    };
    let (mut driver_v, mut source, mut target) = (None, None, None);
    let (mut readonly, mut shareable, mut serial) = (None, None, None);
    let (mut boot, mut address_v, mut backing, mut transient) = (None, None, None, None);
    let (mut auth, mut encryption) = (None, None);
    let (mut wwn, mut vendor, mut product, mut iotune) = (None, None, None, None);
    for c in e.children()? {
        match c.name() {
            "driver" => set(&mut driver_v, c, disk_driver)?,
            "iotune" => set(&mut iotune, c, super::iotune::iotune)?,
            "wwn" => set(&mut wwn, c, |c| {
                let w = c.plain_text()?.trim().to_string();
                let digits = w.strip_prefix("0x").unwrap_or(&w);
                if digits.len() != 16 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(invalid(format!("Malformed wwn: {w} at {}", c.at())));
                }
                Ok(w)
            })?,
            "vendor" => set(&mut vendor, c, |c| inquiry_text(c, "vendor", 8))?,
            "product" => set(&mut product, c, |c| inquiry_text(c, "product", 16))?,
            "source" => set(&mut source, c, |c| disk_source(c, kind))?,
            "target" => set(&mut target, c, disk_target)?,
            "readonly" => set(&mut readonly, c, flag)?,
            "shareable" => set(&mut shareable, c, flag)?,
            "transient" => set(&mut transient, c, |c| {
                c.allow(&["shareBacking"])?;
                c.empty()?;
                if c.yes_no("shareBacking")? == Some(true) {
                    return Err(c.bad_value(
                        ModelErrorKind::Unsupported,
                        "shareBacking",
                        "a transient disk's overlay is the domain's own",
                    ));
                }
                Ok(true)
            })?,
            "backingStore" => set(&mut backing, c, backing_store)?,
            "auth" => set(&mut auth, c, |c| super::secret::disk_auth(c, false))?,
            "encryption" => set(&mut encryption, c, |c| {
                super::secret::disk_encryption(c, false)
            })?,
            "serial" => set(&mut serial, c, optional_text)?,
            "boot" => set(&mut boot, c, boot_order)?,
            "address" => set(&mut address_v, c, address)?,
            "alias" => alias(c)?,
            _ => c.skip()?,
        }
    }
    let (source, mut network, volume, startup_policy, norelabel, source_enc) = match source {
        Some(DiskSource::Path(p, policy, labels, enc)) => (p, None, None, policy, labels, enc),
        Some(DiskSource::Net(n, enc)) => (None, Some(n), None, None, Vec::new(), enc),
        Some(DiskSource::Volume(v, policy, labels, enc)) => {
            (None, None, Some(v), policy, labels, enc)
        }
        None => (None, None, None, None, Vec::new(), None),
    };
    let encryption = match (encryption, source_enc) {
        (Some(_), Some(_)) => {
            return Err(super::el::unsupported(format!(
                "an <encryption> definition already found for disk source, at {}",
                e.at()
            )));
        }
        (a, b) => a.or(b),
    };
    // libvirt's virDomainDiskDefValidateStartupPolicy.
    if startup_policy == Some(crate::model::StartupPolicy::Requisite)
        && !matches!(device, DiskDevice::Cdrom | DiskDevice::Floppy)
    {
        return Err(invalid(format!(
            "disk startupPolicy 'requisite' is allowed only for cdrom or floppy, at {}",
            e.at()
        )));
    }
    if let Some(auth) = auth {
        // libvirt's virDomainDiskDefParseXML and
        // virDomainDiskDefValidateSourceChainOne.
        match network.as_mut() {
            Some(n) if n.auth.is_some() => {
                return Err(super::el::unsupported(format!(
                    "an <auth> definition already found for disk source, at {}",
                    e.at()
                )));
            }
            Some(n) => n.auth = Some(auth),
            None => {
                return Err(super::el::unsupported(format!(
                    "<auth> at {}: authentication is supported only for network backed disks",
                    e.at()
                )));
            }
        }
    }
    if let Some(n) = &network {
        disk_auth_rules(n, e)?;
    }
    if kind == DiskType::Network && network.is_none() {
        // libvirt reads an empty network cdrom, then cannot run it.
        return Err(super::el::unsupported(format!(
            "a <disk type='network'> without <source protocol=...> (an empty network drive) at {} is not supported",
            e.at()
        )));
    }
    let Some((target, bus, removable)) = target else {
        return Err(invalid(format!(
            "missing target information for disk {}at {}",
            source
                .as_deref()
                .map(|s| format!("{s} "))
                .unwrap_or_default(),
            e.at()
        )));
    };
    let (format, driver) = driver_v.unwrap_or_default();
    let mut d = Disk::new(device, target);
    d.kind = kind;
    d.format = format;
    d.driver = driver;
    d.source = source;
    d.network = network;
    d.backing = backing;
    d.model = e.word("model")?;
    d.transient = transient.unwrap_or(false);
    d.startup_policy = startup_policy;
    d.norelabel = norelabel;
    d.readonly = readonly.unwrap_or(false);
    // libvirt's post-parse: a read-only disk is never in a snapshot, and
    // that default is not written back.
    d.snapshot = snapshot.filter(|s| !(d.readonly && *s == crate::model::SnapshotLocation::No));
    d.bus = bus;
    d.removable = removable;
    d.shareable = shareable.unwrap_or(false);
    d.serial = serial.flatten();
    d.wwn = wwn;
    d.vendor = vendor;
    d.product = product;
    d.iotune = iotune.map(Box::new);
    d.boot_order = boot;
    d.address = address_v;
    d.volume = volume;
    // libvirt's qemuDomainValidateStorageSource.
    if encryption.is_some() {
        if !matches!(
            d.format,
            None | Some(crate::model::DiskFormat::Raw) | Some(crate::model::DiskFormat::Qcow2)
        ) {
            return Err(super::el::unsupported(format!(
                "disk encryption at {} is supported only with 'raw' and 'qcow2' image format",
                e.at()
            )));
        }
        if d.transient {
            return Err(super::el::unsupported(format!(
                "<transient/> of an encrypted disk at {} is not supported",
                e.at()
            )));
        }
    }
    d.encryption = encryption;
    Ok(d)
}

/// `<vendor>` or `<product>`: printable, at most `max` characters
/// (libvirt's limits, the size of the SCSI INQUIRY fields).
fn inquiry_text(c: El, what: &str, max: usize) -> R<String> {
    let t = c.plain_text()?.trim().to_string();
    if t.is_empty() || t.chars().count() > max || !t.chars().all(|ch| (' '..='~').contains(&ch)) {
        return Err(invalid(format!(
            "disk {what} '{t}' at {} must be 1 to {max} printable characters",
            c.at()
        )));
    }
    Ok(t)
}

/// `<backingStore>`: empty (no backing image) or one image with its own
/// chain below.
fn backing_store(e: El) -> R<Option<Box<BackingStore>>> {
    e.allow(&["type", "index"])?;
    let kids = e.children()?;
    if kids.is_empty() && e.get("type").is_none() {
        return Ok(None);
    }
    let kind = e.word("type")?.unwrap_or(DiskType::File);
    if kind == DiskType::Network {
        return Err(e.bad_value(
            ModelErrorKind::Unsupported,
            "type",
            "a backing image on the network is not supported",
        ));
    }
    let (mut format, mut source, mut below) = (None, None, None);
    for c in kids {
        match c.name() {
            "format" => set(&mut format, c, |c| {
                c.allow(&["type"])?;
                c.empty()?;
                c.req_word::<crate::model::DiskFormat>("type")
            })?,
            "source" => set(&mut source, c, |c| disk_source(c, kind))?,
            "backingStore" => set(&mut below, c, backing_store)?,
            _ => c.skip()?,
        }
    }
    if let Some(DiskSource::Path(_, policy, labels, enc)) = &source
        && (policy.is_some() || !labels.is_empty() || enc.is_some())
    {
        return Err(super::el::unsupported(format!(
            "a startupPolicy, <seclabel> or <encryption> in the <source> of a <backingStore> at {} is not supported (they belong to the disk's own source)",
            e.at()
        )));
    }
    let Some(DiskSource::Path(Some(path), _, _, _)) = source else {
        return Err(invalid(format!(
            "missing <source> in <backingStore> at {}",
            e.at()
        )));
    };
    let format = format.ok_or_else(|| {
        invalid(format!(
            "missing <format type=...> in <backingStore> at {}",
            e.at()
        ))
    })?;
    Ok(Some(Box::new(BackingStore {
        kind,
        format,
        source: path,
        backing: below,
    })))
}

fn disk_driver(e: El) -> R<(Option<crate::model::DiskFormat>, DiskDriver)> {
    e.allow(&[
        "name",
        "type",
        "cache",
        "io",
        "discard",
        "detect_zeroes",
        "iothread",
        "queues",
        "queue_size",
        "error_policy",
        "rerror_policy",
    ])?;
    e.empty()?;
    e.choice("name", &[("qemu", ())])?;
    let driver = DiskDriver {
        cache: e.word("cache")?,
        io: e.word("io")?,
        discard: e.word("discard")?,
        detect_zeroes: e.word("detect_zeroes")?,
        iothread: e.u32("iothread", Radix::Dec)?,
        queues: e.u32("queues", Radix::Dec)?,
        queue_size: e.u32("queue_size", Radix::Dec)?,
        error_policy: e.word("error_policy")?,
        rerror_policy: e.word("rerror_policy")?,
    };
    if driver.rerror_policy == Some(crate::model::ErrorPolicy::Enospace) {
        return Err(e.bad_value(
            ModelErrorKind::Invalid,
            "rerror_policy",
            "'enospace' is for writes only (error_policy)",
        ));
    }
    Ok((e.word("type")?, driver))
}

/// What a disk's `<source>` names.
enum DiskSource {
    /// A file or block device path (`None` for an empty drive), with its
    /// `startupPolicy` and `<seclabel relabel='no'>` models.
    Path(
        Option<String>,
        Option<crate::model::StartupPolicy>,
        Vec<Option<String>>,
        Option<DiskEncryption>,
    ),
    /// A network export.
    Net(NetworkSource, Option<DiskEncryption>),
    /// A volume of a storage pool, with its `startupPolicy` and
    /// `<seclabel relabel='no'>` models.
    Volume(
        crate::model::VolumeSource,
        Option<crate::model::StartupPolicy>,
        Vec<Option<String>>,
        Option<DiskEncryption>,
    ),
}

/// The `<seclabel>` children of a disk's `<source>`: each must say
/// `relabel='no'` (qvirt relabels nothing; a label to apply would need a
/// security driver it does not have); their models. libvirt's output-only
/// `labelskip='yes'` reads as the same. And its `<encryption>`.
fn no_relabels(e: El) -> R<(Vec<Option<String>>, Option<DiskEncryption>)> {
    let mut models = Vec::new();
    let mut encryption = None;
    for c in e.children()? {
        if c.name() == "encryption" {
            set(&mut encryption, c, |c| {
                super::secret::disk_encryption(c, true)
            })?;
            continue;
        }
        if c.name() != "seclabel" {
            c.skip()?;
            continue;
        }
        let model = c.read(|c| {
            c.allow(&["model", "relabel", "labelskip"])?;
            if let Some(m) = c.get("model")
                && !matches!(m, "dac" | "selinux" | "apparmor" | "none")
            {
                return Err(c.bad_value(
                    ModelErrorKind::Unsupported,
                    "model",
                    "a security model qvirt does not know",
                ));
            }
            let skip = c.yes_no("labelskip")? == Some(true);
            if c.yes_no("relabel")? != Some(false) && !skip {
                return Err(super::el::unsupported(format!(
                    "a device <seclabel> at {} that labels the file is not supported: qvirt has no security driver to apply it; use relabel='no'",
                    c.at()
                )));
            }
            for x in c.children()? {
                x.skip()?;
            }
            Ok(c.get("model").map(str::to_string))
        })?;
        if let Some(m) = model {
            models.push(m);
        }
    }
    Ok((models, encryption))
}

fn disk_source(e: El, kind: DiskType) -> R<DiskSource> {
    let attr = match kind {
        DiskType::File => "file",
        DiskType::Block => "dev",
        DiskType::Network => {
            let (n, enc) = network_source(e)?;
            return Ok(DiskSource::Net(n, enc));
        }
        DiskType::Volume => {
            e.allow(&["pool", "volume", "startupPolicy"])?;
            let (labels, enc) = no_relabels(e)?;
            return Ok(DiskSource::Volume(
                crate::model::VolumeSource {
                    pool: e.req("pool")?.to_string(),
                    volume: e.req("volume")?.to_string(),
                },
                e.word("startupPolicy")?,
                labels,
                enc,
            ));
        }
    };
    // `index` numbers the image in a running domain's chain: libvirt
    // writes it in live XML and reads it only from its own status files.
    e.allow(&[attr, "index", "startupPolicy"])?;
    let (labels, enc) = no_relabels(e)?;
    // An empty path is libvirt's empty drive, the same as no source.
    Ok(DiskSource::Path(
        e.get(attr).filter(|p| !p.is_empty()).map(str::to_string),
        e.word("startupPolicy")?,
        labels,
        enc,
    ))
}

/// Which protocols take `<auth>` and with which secret type (libvirt's
/// virDomainDiskDefValidateSourceChainOne): iSCSI a CHAP password
/// (`iscsi`), RBD a Ceph key (`ceph`), the curl protocols a password of
/// either; no other protocol authenticates.
fn disk_auth_rules(n: &NetworkSource, e: El) -> R<()> {
    use crate::model::SecretUsageType as U;
    let Some(auth) = &n.auth else {
        return Ok(());
    };
    let at = e.at();
    let Some(kind) = auth.secret_type else {
        return Err(super::el::unsupported(format!(
            "<auth><secret> of the disk at {at} needs type='iscsi' or type='ceph'"
        )));
    };
    let fits = match n.protocol {
        DiskProtocol::Iscsi => kind == U::Iscsi,
        DiskProtocol::Rbd => kind == U::Ceph,
        DiskProtocol::Http | DiskProtocol::Https | DiskProtocol::Ftp | DiskProtocol::Ftps => true,
        DiskProtocol::Nbd => {
            return Err(super::el::unsupported(format!(
                "authentication is not supported for protocol 'nbd' (the disk at {at})"
            )));
        }
    };
    if !fits {
        return Err(super::el::unsupported(format!(
            "invalid secret type '{}' for a {} disk at {at}",
            kind.as_str(),
            n.protocol.as_str()
        )));
    }
    Ok(())
}

fn network_source(e: El) -> R<(NetworkSource, Option<DiskEncryption>)> {
    e.allow(&["protocol", "name", "query", "tls", "index"])?;
    let protocol: DiskProtocol = e.req_word("protocol")?;
    let mut hosts = Vec::new();
    let mut auth = None;
    let mut encryption = None;
    for c in e.children()? {
        match c.name() {
            "host" => push(&mut hosts, c, |c| {
                c.allow(&["name", "port", "transport", "socket"])?;
                c.empty()?;
                let unix = c
                    .choice("transport", &[("tcp", false), ("unix", true)])?
                    .unwrap_or(false);
                let port = c.port("port")?;
                if unix {
                    c.req("socket")?;
                } else if c.get("socket").is_some() {
                    return Err(c.bad_value(
                        ModelErrorKind::Invalid,
                        "socket",
                        "only transport='unix' takes a socket",
                    ));
                }
                Ok(DiskHost {
                    name: c.get("name").map(str::to_string),
                    port,
                    socket: c.get("socket").map(str::to_string),
                })
            })?,
            "auth" => set(&mut auth, c, |c| super::secret::disk_auth(c, true))?,
            "encryption" => set(&mut encryption, c, |c| {
                super::secret::disk_encryption(c, true)
            })?,
            _ => c.skip()?,
        }
    }
    let n = NetworkSource {
        protocol,
        name: e.get("name").map(str::to_string),
        query: e.get("query").map(str::to_string),
        hosts,
        tls: e.yes_no("tls")?,
        auth,
    };
    Ok((n, encryption))
}

type Target = (String, Option<crate::model::DiskBus>, Option<bool>);

fn disk_target(e: El) -> R<Target> {
    e.allow(&["dev", "bus", "removable"])?;
    e.empty()?;
    let dev = e.req("dev")?.to_string();
    Ok((dev, e.word("bus")?, e.on_off("removable")?))
}

fn controller(e: El) -> R<(Controller, bool)> {
    e.allow(&["type", "index", "model", "ports", "vectors"])?;
    let kind: ControllerType = e.req_word("type")?;
    let index = e.u32("index", Radix::Dec)?;
    let mut c = Controller::new(kind, index.unwrap_or(0), e.get("model").map(str::to_string));
    c.ports = e.u32("ports", Radix::Dec)?;
    c.vectors = e.u32("vectors", Radix::Dec)?;
    let mut driver = None;
    for x in e.children()? {
        match x.name() {
            "model" => set(&mut c.model_name, x, |x| {
                x.allow(&["name"])?;
                x.empty()?;
                Ok(x.req("name")?.to_string())
            })?,
            "target" => set(&mut c.target, x, controller_target)?,
            "master" => set(&mut c.master_startport, x, |x| {
                x.allow(&["startport"])?;
                x.empty()?;
                x.req("startport")?;
                Ok(x.u32("startport", Radix::Dec)?.unwrap_or(0))
            })?,
            "pcihole64" => set(&mut c.pcihole64_kib, x, memory)?,
            "driver" => set(&mut driver, x, |x| {
                let mut allowed = VIRTIO_ATTRS.to_vec();
                allowed.extend([
                    "queues",
                    "cmd_per_lun",
                    "max_sectors",
                    "ioeventfd",
                    "iothread",
                ]);
                x.allow(&allowed)?;
                x.empty()?;
                Ok((
                    virtio_attrs(x)?,
                    x.u32("queues", Radix::Dec)?,
                    x.u32("cmd_per_lun", Radix::Dec)?,
                    x.u32("max_sectors", Radix::Dec)?,
                    x.on_off("ioeventfd")?,
                    x.u32("iothread", Radix::Dec)?,
                ))
            })?,
            "address" => set(&mut c.address, x, address)?,
            "alias" => alias(x)?,
            _ => x.skip()?,
        }
    }
    if let Some((virtio, queues, cmd_per_lun, max_sectors, ioeventfd, iothread)) = driver {
        c.iothread = iothread;
        c.virtio = virtio;
        c.queues = queues;
        c.cmd_per_lun = cmd_per_lun;
        c.max_sectors = max_sectors;
        c.ioeventfd = ioeventfd;
    }
    Ok((c, index.is_some()))
}

fn controller_target(e: El) -> R<ControllerTarget> {
    e.allow(&[
        "chassisNr",
        "chassis",
        "port",
        "busNr",
        "hotplug",
        "memReserve",
    ])?;
    let mut t = ControllerTarget {
        chassis_nr: e.u32("chassisNr", Radix::Auto)?,
        chassis: e.u32("chassis", Radix::Auto)?,
        port: e.u32("port", Radix::Auto)?,
        bus_nr: e.u32("busNr", Radix::Auto)?,
        hotplug: e.on_off("hotplug")?,
        mem_reserve: e.u64("memReserve", Radix::Dec)?,
        node: None,
    };
    for x in e.children()? {
        match x.name() {
            "node" => set(&mut t.node, x, |x| x.u32_text())?,
            _ => x.skip()?,
        }
    }
    Ok(t)
}
