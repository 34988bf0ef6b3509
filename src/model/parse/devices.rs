//! Reading `<devices>`, the addresses of its devices and controllers.
//! Disks are in `disk`, interfaces in `net`, character devices in
//! `chardev`, the others in `peripherals`.

use std::collections::{HashMap, HashSet};

use super::el::{El, R, Radix, push, set};
use super::{chardev, hostdev, memory, optional_text, peripherals};
use crate::model::{
    Address, Controller, ControllerTarget, ControllerType, Devices, DriveAddress, InputType,
    ModelErrorKind, PciAddress, UsbAddress, UsbPort, VirtioOptions, VirtioSerialAddress,
};

pub(super) fn devices(e: El) -> R<Devices> {
    e.allow(&[])?;
    let mut d = Devices::default();
    let mut emulator = None;
    let mut redirfilter = None;
    // Whether each controller was written with an index.
    let mut indexed = Vec::new();
    for c in e.children()? {
        match c.name() {
            "emulator" => set(&mut emulator, c, optional_text)?,
            "disk" => push(&mut d.disks, c, super::disk::disk)?,
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
            "tpm" => push(&mut d.tpms, c, super::tpm::tpm)?,
            "graphics" if c.get("type") == Some("egl-headless") => {
                set(&mut d.egl_headless, c, peripherals::egl_headless)?;
            }
            "graphics" if c.get("type") == Some("dbus") => {
                set(&mut d.dbus_display, c, peripherals::dbus_display)?;
            }
            "graphics" => push(&mut d.graphics, c, peripherals::graphics)?,
            "sound" => push(&mut d.sounds, c, peripherals::sound)?,
            "audio" => push(&mut d.audios, c, peripherals::audio)?,
            "video" => push(&mut d.videos, c, peripherals::video)?,
            "redirdev" => push(&mut d.redirdevs, c, chardev::redirdev)?,
            "redirfilter" => set(&mut redirfilter, c, chardev::redirfilter)?,
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
    d.redirfilter = redirfilter.unwrap_or_default();
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

/// `<acpi index=...>` of a PCI device: a number from 1 (libvirt reads 0
/// as an error).
pub(super) fn acpi_index(e: El) -> R<u32> {
    e.allow(&["index"])?;
    e.empty()?;
    e.req("index")?;
    match e.u32("index", Radix::Dec)? {
        Some(n) if n > 0 => Ok(n),
        _ => Err(e.bad_value(
            ModelErrorKind::Invalid,
            "index",
            "an ACPI index is a number from 1",
        )),
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

/// `<alias name=...>` of a device that carries a user's alias: the name
/// kept when it is a user alias (`ua-` and libvirt's letters, digits,
/// `_` and `-`). Any other alias is the name a manager gave a running
/// device, which a definition does not keep: libvirt drops it when it
/// reads a definition (virDomainDeviceInfoParseXML without
/// VIR_DOMAIN_DEF_PARSE_INACTIVE's exception), and so does qvirt.
pub(super) fn alias(e: El) -> R<Option<String>> {
    e.allow(&["name"])?;
    e.empty()?;
    let name = e.req("name")?;
    Ok(crate::model::is_user_alias(name).then(|| name.to_string()))
}

/// `<alias name=...>` of a device whose QEMU id qvirt does not take from
/// a user: a manager's alias is dropped (see [`alias`]), a user alias is
/// refused by name, since the device would not carry it.
pub(super) fn alias_unused(e: El) -> R<()> {
    match alias(e)? {
        None => Ok(()),
        Some(name) => Err(e.bad_value(
            ModelErrorKind::Unsupported,
            "name",
            &format!(
                "qvirt gives user aliases such as '{name}' to <disk>, <interface>, <serial>, <console> and USB <controller> only"
            ),
        )),
    }
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

fn controller(e: El) -> R<(Controller, bool)> {
    e.allow(&["type", "index", "model", "ports", "vectors"])?;
    let kind: ControllerType = e.req_word("type")?;
    let index = e.u32("index", Radix::Dec)?;
    let mut c = Controller::new(kind, index.unwrap_or(0), e.get("model").map(str::to_string));
    c.ports = e.u32("ports", Radix::Dec)?;
    c.vectors = e.u32("vectors", Radix::Dec)?;
    let (mut driver, mut user_alias) = (None, None);
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
            // A USB controller's id is the user's; other controllers'
            // names are QEMU's or derived from their index.
            "alias" if kind == ControllerType::Usb => set(&mut user_alias, x, alias)?,
            "alias" => alias_unused(x)?,
            _ => x.skip()?,
        }
    }
    c.alias = user_alias.flatten();
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
