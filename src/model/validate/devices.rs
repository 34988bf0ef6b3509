//! Checks of each device on its own and against the others of its kind.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::{R, check_path, invalid, pattern, schema_ip, show, unsupported};
use crate::model::units::MAX_KIB;
use crate::model::{
    Address, BalloonModel, Controller, ControllerType, Disk, DiskBus, DiskDevice, DiskType,
    DomainDef, DriveAddress, InterfaceType, ModelError, PortProto,
};

pub(super) fn validate(def: &DomainDef) -> R {
    let d = &def.devices;
    if let Some(e) = &d.emulator {
        check_path("emulator path", e)?;
    }
    disks(def)?;
    if let Some(i) = &d.iommu {
        iommu(def, i)?;
    }
    let masters: HashSet<u32> = d
        .controllers
        .iter()
        .filter(|m| m.kind == ControllerType::Usb && m.model.as_deref() == Some("ich9-ehci1"))
        .map(|m| m.index)
        .collect();
    for c in &d.controllers {
        controller(def, c, &masters)?;
    }
    controllers_together(def)?;
    interfaces(def)?;
    super::peripherals::validate(def)?;
    if let Some(b) = &d.memballoon {
        if b.model == BalloonModel::None
            && (b.address.is_some()
                || b.stats_period.is_some()
                || b.autodeflate.is_some()
                || b.free_page_reporting.is_some()
                || !b.virtio.is_empty())
        {
            return Err(invalid(
                "memballoon model 'none' takes no address, statistics or options",
            ));
        }
        if b.stats_period == Some(0) {
            return Err(invalid("memballoon stats period must be at least 1 second"));
        }
        only_pci("memballoon", &b.address)?;
    }
    Ok(())
}

pub(super) fn address_type(a: &Address) -> &'static str {
    a.type_name()
}

/// Refuses any address but a PCI one.
pub(super) fn only_pci(what: &str, a: &Option<Address>) -> R {
    match a {
        Some(a @ (Address::Drive(_) | Address::Usb(_) | Address::VirtioSerial(_))) => {
            Err(invalid(format!(
                "Invalid address type '{}' for {what}: only 'pci' is possible",
                address_type(a)
            )))
        }
        _ => Ok(()),
    }
}

/// Whether USB is switched off (`<controller type='usb' model='none'>`).
pub(super) fn usb_disabled(def: &DomainDef) -> bool {
    def.devices
        .controllers
        .iter()
        .any(|c| c.kind == ControllerType::Usb && c.model.as_deref() == Some("none"))
}

/// libvirt's rule for `<iommu>` (domain_validate.c): remapped
/// interrupts go through QEMU's own I/O APIC. (That VT-d is Q35's is
/// `qemu::validate`'s.)
fn iommu(def: &DomainDef, i: &crate::model::Iommu) -> R {
    if i.intremap == Some(true) && def.features.ioapic != Some(crate::model::IoapicDriver::Qemu) {
        return Err(unsupported(
            "IOMMU interrupt remapping requires split I/O APIC (ioapic driver='qemu')",
        ));
    }
    Ok(())
}

fn disks(def: &DomainDef) -> R {
    // Duplicate targets first, as libvirt reports them before addresses.
    let disks = &def.devices.disks;
    // Disks of one throttle group have one set of limits (libvirt).
    for (i, d) in disks.iter().enumerate() {
        let Some(t) = d.iotune.as_ref().filter(|t| t.group_name.is_some()) else {
            continue;
        };
        if let Some(other) = disks[..i].iter().find(|o| {
            o.iotune
                .as_ref()
                .is_some_and(|u| u.group_name == t.group_name && u.limits != t.limits)
        }) {
            return Err(unsupported(format!(
                "different iotunes for disks {} and {}",
                show(&d.target),
                show(&other.target)
            )));
        }
    }
    let mut by_target: HashMap<&str, &Disk> = HashMap::new();
    for d in disks {
        if let Some(other) = by_target.insert(&d.target, d) {
            let src = |x: &Disk| x.source.clone().unwrap_or_else(|| "<null>".into());
            return Err(invalid(format!(
                "target '{}' duplicated for disk sources '{}' and '{}'",
                show(&d.target),
                src(other),
                src(d)
            )));
        }
    }
    let mut drives: HashMap<(DiskBus, DriveAddress), &str> = HashMap::new();
    let usb_off = usb_disabled(def);
    for d in disks {
        if d.kind == DiskType::VhostUser || d.vhost_user.is_some() {
            vhost_user_disk(d)?;
        }
        let t = d.target.as_str();
        let prefixes = ["fd", "hd", "sd", "vd", "xvd", "ubd"];
        let known = prefixes
            .iter()
            .find(|p| t.starts_with(*p))
            .is_some_and(|p| pattern(&t[p.len()..], "_"));
        if !known {
            return Err(invalid(format!("invalid disk target name '{}'", show(t))));
        }
        let Some(bus) = d.effective_bus() else {
            return Err(unsupported(format!(
                "disk target '{t}' needs a <target bus=...>: its bus cannot be derived"
            )));
        };
        match d.device {
            DiskDevice::Disk if t.starts_with("fd") => {
                return Err(invalid(format!("Invalid harddisk device name: {t}")));
            }
            DiskDevice::Floppy if !t.starts_with("fd") => {
                return Err(invalid(format!("Invalid floppy device name: {t}")));
            }
            _ => {}
        }
        if d.device == DiskDevice::Floppy && bus != DiskBus::Fdc {
            return Err(invalid(format!(
                "Invalid bus type '{}' for floppy disk '{t}'",
                bus.as_str()
            )));
        }
        if d.device != DiskDevice::Floppy && bus == DiskBus::Fdc {
            return Err(invalid(format!("Invalid bus type 'fdc' for disk '{t}'")));
        }
        if d.volume.is_some() && d.kind != DiskType::Volume {
            return Err(invalid(format!(
                "disk '{t}': <source pool= volume=> goes with type='volume' only"
            )));
        }
        if let Some(v) = &d.volume
            && (v.pool.is_empty() || v.volume.is_empty() || v.volume.contains('/'))
        {
            return Err(invalid(format!(
                "disk '{t}': pool '{}' and volume '{}' must be names (not empty, no '/' in a volume)",
                show(&v.pool),
                show(&v.volume)
            )));
        }
        match &d.source {
            None if d.network.is_some() || d.vhost_user.is_some() => {}
            None if d.device == DiskDevice::Disk && d.volume.is_none() => {
                return Err(invalid(format!("disk '{t}' has no source")));
            }
            None => {}
            Some(s) => check_path(&format!("disk '{t}' source path"), s)?,
        }
        if d.device == DiskDevice::Cdrom && bus == DiskBus::Virtio {
            return Err(invalid(format!(
                "disk '{t}': a virtio disk cannot be a cdrom (no ejectable media)"
            )));
        }
        if d.readonly && d.device == DiskDevice::Disk && matches!(bus, DiskBus::Ide | DiskBus::Sata)
        {
            return Err(unsupported(format!(
                "readonly {} disks are not supported ('{t}')",
                bus.as_str()
            )));
        }
        if d.device == DiskDevice::Floppy
            && def
                .os
                .machine
                .as_deref()
                .is_some_and(|m| m.contains("microvm"))
        {
            return Err(invalid(format!(
                "floppy '{t}': microvm machines have no floppy controller"
            )));
        }
        if bus == DiskBus::Usb && usb_off {
            return Err(invalid(format!(
                "Can't add USB disk '{t}'. USB bus is disabled"
            )));
        }
        if let Some(s) = &d.serial
            && !pattern(s, "_.+- ")
        {
            return Err(invalid(format!(
                "disk '{t}' serial '{}' may only have letters, digits, space and _.+-",
                show(s)
            )));
        }
        if d.boot_order == Some(0) {
            return Err(invalid(format!(
                "disk '{t}' has boot order 0; orders start at 1"
            )));
        }
        if let Some(a) = disk_address(d, bus)?
            && let Some(o) = drives.insert((bus, a), t)
        {
            return Err(invalid(format!(
                "Found duplicate drive address for disk with target name '{t}' controller='{}' bus='{}' target='{}' unit='{}' (also the address of '{o}')",
                a.controller, a.bus, a.target, a.unit
            )));
        }
    }
    Ok(())
}

/// libvirt's `virDiskNameToIndex`: `sda` is 0, `sdz` 25, `sdaa` 26;
/// trailing digits (a partition number) are ignored.
fn disk_index(target: &str) -> Option<u32> {
    let rest = ["xvd", "ubd", "fd", "hd", "sd", "vd"]
        .iter()
        .find_map(|p| target.strip_prefix(p))?;
    let letters = rest.bytes().take_while(u8::is_ascii_lowercase).count();
    if letters == 0 || !rest[letters..].bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut idx: u64 = 0;
    for (i, b) in rest[..letters].bytes().enumerate() {
        idx = (idx + u64::from(i > 0)) * 26 + u64::from(b - b'a');
        if idx > u64::from(u32::MAX) {
            return None;
        }
    }
    u32::try_from(idx).ok()
}

/// The drive address of a disk on an IDE, SATA, SCSI or floppy bus: the
/// written one, or the one libvirt derives from the target name.
fn drive_address(d: &Disk, bus: DiskBus) -> Result<Option<DriveAddress>, ModelError> {
    if let Some(Address::Drive(a)) = d.address {
        return Ok(Some(a));
    }
    let (per_controller, per_bus) = match bus {
        DiskBus::Ide => (4, 2),
        DiskBus::Sata => (6, 6),
        DiskBus::Scsi => (7, 7),
        DiskBus::Fdc => (2, 2),
        DiskBus::Virtio | DiskBus::Usb => return Ok(None),
    };
    let idx = disk_index(&d.target).ok_or_else(|| {
        invalid(format!(
            "Unknown disk name '{}' and no address specified",
            show(&d.target)
        ))
    })?;
    Ok(Some(DriveAddress {
        controller: idx / per_controller,
        bus: (idx % per_controller) / per_bus,
        target: 0,
        unit: idx % per_bus,
    }))
}

fn disk_address(d: &Disk, bus: DiskBus) -> Result<Option<DriveAddress>, ModelError> {
    if let Some(a) = &d.address {
        let ok = match bus {
            DiskBus::Ide | DiskBus::Sata | DiskBus::Scsi | DiskBus::Fdc => {
                matches!(a, Address::Drive(_))
            }
            DiskBus::Virtio => matches!(a, Address::Pci(_)),
            DiskBus::Usb => matches!(a, Address::Usb(_)),
        };
        if !ok {
            return Err(invalid(format!(
                "Invalid address type '{}' for the disk '{}' with the bus type '{}'",
                address_type(a),
                d.target,
                bus.as_str()
            )));
        }
    }
    let Some(x) = drive_address(d, bus)? else {
        return Ok(None);
    };
    let t = &d.target;
    let limit = |what: &str, v: u32, max: u32| -> R {
        if v > max {
            return Err(invalid(format!(
                "disk '{t}': drive address {what}='{v}' must be <= {max} for bus '{}'",
                bus.as_str()
            )));
        }
        Ok(())
    };
    // The schema's widths first, then what each controller can hold.
    limit("controller", x.controller, 99)?;
    limit("bus", x.bus, 99)?;
    limit("target", x.target, 99)?;
    limit("unit", x.unit, 99_999)?;
    match bus {
        DiskBus::Ide => {
            limit("controller", x.controller, 0)?;
            limit("bus", x.bus, 1)?;
            limit("target", x.target, 0)?;
            limit("unit", x.unit, 1)?;
        }
        DiskBus::Fdc => {
            limit("controller", x.controller, 0)?;
            limit("bus", x.bus, 0)?;
            limit("target", x.target, 0)?;
            limit("unit", x.unit, 1)?;
        }
        DiskBus::Sata => {
            limit("bus", x.bus, 0)?;
            limit("target", x.target, 0)?;
            limit("unit", x.unit, 5)?;
        }
        DiskBus::Scsi => limit("bus", x.bus, 0)?,
        DiskBus::Virtio | DiskBus::Usb => {}
    }
    Ok(Some(x))
}

const PCI_MODELS: &[(&str, &[&str])] = &[
    ("pci-root", &[]),
    ("pcie-root", &[]),
    ("pci-bridge", &["pci-bridge"]),
    ("dmi-to-pci-bridge", &["i82801b11-bridge"]),
    ("pcie-to-pci-bridge", &["pcie-pci-bridge"]),
    ("pcie-root-port", &["ioh3420", "pcie-root-port"]),
    ("pcie-switch-upstream-port", &["x3130-upstream"]),
    ("pcie-switch-downstream-port", &["xio3130-downstream"]),
    ("pci-expander-bus", &["pxb"]),
    ("pcie-expander-bus", &["pxb-pcie"]),
];
const USB_MODELS: &[&str] = &[
    "piix3-uhci",
    "piix4-uhci",
    "ehci",
    "ich9-ehci1",
    "ich9-uhci1",
    "ich9-uhci2",
    "ich9-uhci3",
    "vt82c686b-uhci",
    "pci-ohci",
    "nec-xhci",
    "qemu-xhci",
    "none",
];
const SCSI_MODELS: &[&str] = &[
    "auto",
    "lsilogic",
    "lsisas1068",
    "lsisas1078",
    "vmpvscsi",
    "virtio-scsi",
    "virtio-transitional",
    "virtio-non-transitional",
    "dc390",
    "am53c974",
];
pub(super) const VIRTIO_MODELS: &[&str] =
    &["virtio", "virtio-transitional", "virtio-non-transitional"];

/// Checks one controller; `masters` holds the indexes that have an
/// ich9-ehci1 controller.
fn controller(def: &DomainDef, c: &Controller, masters: &HashSet<u32>) -> R {
    let what = format!("{} controller index {}", c.kind.as_str(), c.index);
    let model = c.model.as_deref();
    let known: &[&str] = match c.kind {
        ControllerType::Pci => &[],
        ControllerType::Usb => USB_MODELS,
        ControllerType::Ide => &["piix3", "piix4", "ich6"],
        ControllerType::Scsi => SCSI_MODELS,
        ControllerType::VirtioSerial => VIRTIO_MODELS,
        ControllerType::Sata | ControllerType::Fdc => &[],
    };
    match (c.kind, model) {
        (ControllerType::Pci, None) => {
            return Err(invalid(format!("{what} needs a model")));
        }
        (ControllerType::Pci, Some(m)) => {
            let Some((_, names)) = PCI_MODELS.iter().find(|(n, _)| *n == m) else {
                return Err(unsupported(format!(
                    "{what}: unsupported model '{}'",
                    show(m)
                )));
            };
            if let Some(n) = &c.model_name
                && !names.contains(&n.as_str())
            {
                return Err(invalid(format!(
                    "PCI controller model name '{}' is not valid for a PCI controller with model '{m}'",
                    show(n)
                )));
            }
        }
        (_, Some(m)) if !known.contains(&m) => {
            return Err(unsupported(format!(
                "{what}: unsupported model '{}'",
                show(m)
            )));
        }
        _ => {}
    }
    if c.kind != ControllerType::Pci
        && (c.model_name.is_some() || c.target.is_some() || c.pcihole64_kib.is_some())
    {
        return Err(invalid(format!(
            "{what}: <model name>, <target> and <pcihole64> belong to PCI controllers"
        )));
    }
    if c.pcihole64_kib.is_some_and(|h| h > MAX_KIB) {
        return Err(invalid(format!("{what}: pcihole64 size is too large")));
    }
    if c.master_startport.is_some_and(|p| p > 999) {
        return Err(invalid(format!("{what}: master startport must be <= 999")));
    }
    if c.pcihole64_kib.is_some() && !matches!(model, Some("pci-root" | "pcie-root")) {
        return Err(invalid(format!(
            "{what}: <pcihole64> belongs to a pci-root or pcie-root controller"
        )));
    }
    if let Some(t) = &c.target {
        let range = |name: &str, v: Option<u32>, lo: u32, hi: u32| -> R {
            match v {
                Some(v) if v < lo || v > hi => Err(invalid(format!(
                    "{what}: target {name} '{v}' out of range - must be {lo}-{hi}"
                ))),
                _ => Ok(()),
            }
        };
        range("chassisNr", t.chassis_nr, 1, 255)?;
        range("chassis", t.chassis, 0, 255)?;
        range("port", t.port, 0, 255)?;
        range("busNr", t.bus_nr, 1, 254)?;
        let cells = def.cpu.as_ref().map_or(0, |c| c.numa.len());
        if let Some(n) = t.node
            && n as usize >= cells
        {
            return Err(invalid(format!(
                "{} with index {} is configured for a NUMA node ({n}) not present in the domain's <cpu><numa> array ({cells})",
                model.unwrap_or("pci"),
                c.index
            )));
        }
    }
    if c.ports.is_some() && !matches!(c.kind, ControllerType::Usb | ControllerType::VirtioSerial) {
        return Err(invalid(format!(
            "{what}: ports belongs to USB and virtio-serial controllers"
        )));
    }
    if let (Some(m @ ("nec-xhci" | "qemu-xhci")), Some(p)) = (model, c.ports)
        && p > 15
    {
        return Err(invalid(format!(
            "'{m}' controller only supports up to '15' ports"
        )));
    }
    let companion = matches!(model, Some("ich9-uhci1" | "ich9-uhci2" | "ich9-uhci3"));
    if c.master_startport.is_some() && !companion {
        return Err(invalid(format!(
            "{what}: <master> belongs to an ich9-uhci companion controller"
        )));
    }
    if companion && !masters.contains(&c.index) {
        return Err(invalid(format!(
            "No master USB controller specified: {what} ({}) needs an ich9-ehci1 controller with the same index",
            model.unwrap_or_default()
        )));
    }
    let virtio = match c.kind {
        ControllerType::Scsi => matches!(model, Some(m) if m.starts_with("virtio")),
        ControllerType::VirtioSerial => true,
        _ => false,
    };
    let virtio_scsi = c.kind == ControllerType::Scsi
        && matches!(
            model,
            Some("virtio-scsi" | "virtio-transitional" | "virtio-non-transitional")
        );
    for (name, set) in [
        ("queues", c.queues.is_some()),
        ("cmd_per_lun", c.cmd_per_lun.is_some()),
        ("max_sectors", c.max_sectors.is_some()),
        ("ioeventfd", c.ioeventfd.is_some()),
    ] {
        if set && !virtio_scsi {
            return Err(invalid(format!(
                "{what}: '{name}' is only supported by virtio-scsi controller"
            )));
        }
    }
    if c.queues == Some(0) {
        return Err(invalid(format!("{what}: queues must be at least 1")));
    }
    if c.vectors.is_some() && c.kind != ControllerType::VirtioSerial {
        return Err(invalid(format!(
            "{what}: vectors belongs to virtio-serial controllers"
        )));
    }
    if !virtio && !c.virtio.is_empty() {
        return Err(invalid(format!(
            "{what}: driver options iommu, ats, packed and page_per_vq are only for virtio devices"
        )));
    }
    only_pci(&what, &c.address)?;
    if c.kind == ControllerType::Usb && model == Some("none") && c.address.is_some() {
        return Err(invalid(format!(
            "{what}: a 'none' USB controller has no address"
        )));
    }
    match c.kind {
        ControllerType::Ide | ControllerType::Fdc if c.index != 0 => Err(invalid(format!(
            "{what}: only one {} controller (index 0) is supported",
            c.kind.as_str()
        ))),
        _ => Ok(()),
    }
}

fn controllers_together(def: &DomainDef) -> R {
    let ctls = &def.devices.controllers;
    let mut seen = HashSet::new();
    for c in ctls {
        // ich9-uhci companions share the index of their ich9-ehci1 master.
        let companion = c.kind == ControllerType::Usb
            && matches!(
                c.model.as_deref(),
                Some("ich9-uhci1" | "ich9-uhci2" | "ich9-uhci3")
            );
        if !companion && !seen.insert((c.kind, c.index)) {
            return Err(invalid(format!(
                "Multiple '{}' controllers with index '{}'",
                c.kind.as_str(),
                c.index
            )));
        }
    }
    for c in ctls.iter().filter(|c| c.kind == ControllerType::Pci) {
        let m = c.model.as_deref().unwrap_or_default();
        let is_root = m == "pci-root" || m == "pcie-root";
        if is_root && c.index != 0 {
            return Err(invalid(
                "pci-root and pcie-root controllers should have index 0",
            ));
        }
        if is_root && c.address.is_some() {
            return Err(invalid(
                "pci-root and pcie-root controllers should not have an address",
            ));
        }
        if let (true, Some(Address::Pci(p))) = (m.ends_with("expander-bus"), &c.address)
            && p.bus != 0
        {
            return Err(invalid(format!(
                "The {m} with index='{}' must be plugged into the root bus (bus 0), not bus {}",
                c.index, p.bus
            )));
        }
    }
    let usb: Vec<_> = ctls
        .iter()
        .filter(|c| c.kind == ControllerType::Usb)
        .collect();
    if usb_disabled(def) && usb.len() > 1 {
        return Err(invalid(
            "Can't add another USB controller: USB is disabled for this domain",
        ));
    }
    Ok(())
}

/// A Linux network interface name: 1-15 bytes, not `.` or `..`, no `/`,
/// `:` or whitespace.
fn check_ifname(what: &str, n: &str) -> R {
    let ok = !n.is_empty() && n.len() <= 15 && n != "." && n != ".." && pattern(n, "_.-");
    if !ok {
        return Err(invalid(format!(
            "{what} '{}' is not a valid network device name (1-15 of letters, digits and _.-)",
            show(n)
        )));
    }
    Ok(())
}

fn interfaces(def: &DomainDef) -> R {
    // Host ports are one namespace for all user-mode interfaces: for each
    // protocol and listen address, the ranges taken, by start.
    let mut taken: HashMap<(PortProto, &str), BTreeMap<u16, u16>> = HashMap::new();
    let mut taps = HashSet::new();
    for i in &def.devices.interfaces {
        let what = format!("interface {}", i.mac);
        if i.mac.0[0] & 1 == 1 {
            return Err(invalid(format!(
                "expected unicast mac address, found multicast '{}'",
                i.mac
            )));
        }
        // QEMU silently replaces an all-zero MAC with one of its own.
        if i.mac.0 == [0; 6] {
            return Err(invalid(format!(
                "MAC address {} cannot be used: QEMU would pick another",
                i.mac
            )));
        }
        match &i.kind {
            InterfaceType::Network(n) if !pattern(n, "_.-\\:/") => {
                return Err(invalid(format!(
                    "{what}: invalid network name '{}'",
                    show(n)
                )));
            }
            InterfaceType::Bridge(b) => check_ifname(&format!("{what} bridge"), b)?,
            InterfaceType::Direct { dev, .. } => {
                check_ifname(&format!("{what} source dev"), dev)?;
            }
            InterfaceType::VhostUser { path, .. } => {
                check_path(&format!("{what} vhost-user socket"), path)?;
                if !i.model.as_deref().is_some_and(|m| m.starts_with("virtio")) {
                    return Err(invalid(format!(
                        "{what}: vhostuser requires the virtio-net* frontend: <model type='virtio'>"
                    )));
                }
            }
            _ => {}
        }
        if let Some(m) = &i.model
            && !pattern(m, "-_")
        {
            return Err(invalid(format!("{what}: invalid model type '{}'", show(m))));
        }
        if let Some(t) = &i.target_dev {
            check_ifname(&format!("{what} target dev"), t)?;
            if !taps.insert(t.as_str()) {
                return Err(invalid(format!(
                    "{what}: target dev '{t}' is used by another interface"
                )));
            }
        }
        if i.boot_order == Some(0) {
            return Err(invalid(format!(
                "{what} has boot order 0; orders start at 1"
            )));
        }
        only_pci(&what, &i.address)?;
        if !i.port_forwards.is_empty() && i.kind != InterfaceType::User {
            return Err(invalid(format!(
                "{what}: <portForward> is only for interfaces of type 'user'"
            )));
        }
        for pf in &i.port_forwards {
            if let Some(a) = &pf.address
                && !schema_ip(a)
            {
                return Err(invalid(format!(
                    "{what}: portForward address '{}' is not an IP address",
                    show(a)
                )));
            }
            if pf.ranges.is_empty() {
                return Err(invalid(format!("{what}: <portForward> has no <range>")));
            }
            for r in &pf.ranges {
                let end = r.end.unwrap_or(r.start);
                if r.start == 0 || end < r.start {
                    return Err(invalid(format!(
                        "{what}: port range start='{}' end='{end}' is not a range of ports 1-65535",
                        r.start
                    )));
                }
                if let Some(to) = r.to
                    && (to == 0 || u32::from(to) + u32::from(end - r.start) > 65535)
                {
                    return Err(invalid(format!(
                        "{what}: port range {}-{end} to='{to}' maps past port 65535 or to port 0",
                        r.start
                    )));
                }
                if r.exclude {
                    // A hole in the rule's other ranges, not a forward.
                    continue;
                }
                let addr = pf.address.as_deref().unwrap_or("127.0.0.1");
                let ranges = taken.entry((pf.proto, addr)).or_default();
                // The ranges held do not overlap, so only the last one
                // starting at or before `end` can reach `start`.
                if let Some((s, e)) = ranges.range(..=end).next_back()
                    && *e >= r.start
                {
                    return Err(invalid(format!(
                        "{what}: host ports {}-{end} overlap the forward of ports {s}-{e}",
                        r.start
                    )));
                }
                ranges.insert(r.start, end);
            }
        }
    }
    Ok(())
}

/// libvirt's virDomainDiskVhostUserValidate: a vhost-user disk is a
/// virtio disk another process serves; QEMU has no block layer for it, so
/// nothing of the block layer may be asked of it.
fn vhost_user_disk(d: &Disk) -> R {
    let no = |what: &str| unsupported(format!("{what} is not supported with vhostuser disk"));
    if d.kind != DiskType::VhostUser || d.vhost_user.is_none() {
        return Err(invalid(format!(
            "disk '{}': a vhost-user source belongs to, and only to, type='vhostuser'",
            show(&d.target)
        )));
    }
    if let Some(v) = &d.vhost_user {
        check_path("vhost-user disk socket", &v.path)?;
    }
    if d.effective_bus() != Some(DiskBus::Virtio) {
        return Err(unsupported("vhostuser disk supports only virtio bus"));
    }
    if d.device != DiskDevice::Disk {
        return Err(unsupported("vhostuser disk supports only device='disk'"));
    }
    if d.snapshot
        .is_some_and(|s| s != crate::model::SnapshotLocation::No)
    {
        return Err(unsupported(
            "only snapshot=no is supported with vhostuser disk",
        ));
    }
    if d.format.is_some_and(|f| f != crate::model::DiskFormat::Raw) {
        return Err(unsupported(
            "vhostuser disk takes <driver type='raw'>: the server owns the image format",
        ));
    }
    let dr = &d.driver;
    let checks = [
        (dr.cache.is_some(), "cache"),
        (
            dr.error_policy.is_some() || dr.rerror_policy.is_some(),
            "error_policy",
        ),
        (dr.io.is_some(), "io"),
        (dr.ioeventfd.is_some(), "ioeventfd"),
        (dr.copy_on_read.is_some(), "copy_on_read"),
        (dr.discard.is_some(), "discard"),
        (dr.iothread.is_some(), "iothread"),
        (dr.detect_zeroes.is_some(), "detect_zeroes"),
        (d.iotune.is_some(), "iotune"),
        (
            d.backing.as_ref().is_some_and(|b| b.is_some()),
            "backingStore",
        ),
        (d.encryption.is_some(), "encryption"),
        (d.readonly, "readonly"),
        (d.shareable, "shareable"),
        (d.transient, "transient"),
        (d.serial.is_some(), "serial"),
        (d.wwn.is_some(), "wwn"),
        (d.vendor.is_some(), "vendor"),
        (d.product.is_some(), "product"),
        (d.geometry.is_some(), "geometry"),
        (!d.blockio.is_empty(), "blockio"),
        (d.startup_policy.is_some(), "startupPolicy"),
    ];
    match checks.iter().find(|(set, _)| *set) {
        Some((_, what)) => Err(no(what)),
        None => Ok(()),
    }
}
