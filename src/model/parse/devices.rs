//! Reading `<devices>` and the addresses of its devices.

use std::collections::{HashMap, HashSet};

use super::el::{El, R, Radix, invalid, set, unsupported};
use super::{memory, optional_text};
use crate::model::{
    Address, Audio, BalloonModel, CharDevice, CharSource, Controller, ControllerTarget,
    ControllerType, Devices, Disk, DiskBus, DiskDevice, DiskFormat, DiskType, DriveAddress,
    Graphics, Input, InputBus, InputType, Interface, InterfaceType, MacAddr, Memballoon,
    ModelErrorKind, PciAddress, PortForward, PortProto, PortRange, Video, VirtioOptions,
};

pub(super) fn devices(e: El) -> R<Devices> {
    e.allow(&[])?;
    let mut d = Devices::default();
    let mut emulator = None;
    // Controllers written without an index get one after all are read.
    let mut unindexed = Vec::new();
    for c in e.children()? {
        match c.name() {
            "emulator" => set(&mut emulator, c, optional_text)?,
            "disk" => d.disks.push(disk(c)?),
            "controller" => {
                let (ctl, has_index) = controller(c)?;
                if !has_index {
                    unindexed.push(d.controllers.len());
                }
                d.controllers.push(ctl);
            }
            "interface" => d.interfaces.push(interface(c)?),
            "serial" => d.serials.push(chardev(c, false)?),
            "console" => d.consoles.push(chardev(c, true)?),
            "input" => d.inputs.push(input(c)?),
            "graphics" => d.graphics.push(graphics(c)?),
            "video" => d.videos.push(video(c)?),
            "audio" => d.audios.push(audio(c)?),
            "memballoon" => set(&mut d.memballoon, c, memballoon)?,
            _ => return Err(c.unsupported_element()),
        }
    }
    d.emulator = emulator.flatten();
    // libvirt gives such a controller, in document order, the lowest
    // index its type has free. Indexes only get taken, so the lowest free
    // one never goes down and each type's search resumes where it ended.
    let mut used: HashSet<(ControllerType, u32)> = HashSet::new();
    let mut indexed = vec![true; d.controllers.len()];
    for &i in &unindexed {
        indexed[i] = false;
    }
    for (c, _) in d.controllers.iter().zip(&indexed).filter(|(_, has)| **has) {
        used.insert((c.kind, c.index));
    }
    let mut next: HashMap<ControllerType, u32> = HashMap::new();
    for &i in &unindexed {
        let kind = d.controllers[i].kind;
        let mut n = next.get(&kind).copied().unwrap_or(0);
        while used.contains(&(kind, n)) {
            n += 1;
        }
        used.insert((kind, n));
        next.insert(kind, n);
        d.controllers[i].index = n;
    }
    clear_unassigned(&mut d);
    Ok(d)
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
        if disk.effective_bus() == Some(DiskBus::Virtio) {
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
        if i.bus == Some(InputBus::Virtio) || passthrough {
            clear(&mut i.address);
        }
    }
    for v in &mut d.videos {
        clear(&mut v.address);
    }
    if let Some(b) = &mut d.memballoon {
        clear(&mut b.address);
    }
}

/// `<address type=...>`.
pub(super) fn address(e: El) -> R<Address> {
    e.empty()?;
    e.req("type")?;
    let kind = e.choice("type", &[("pci", 0), ("drive", 1), ("usb", 2)])?;
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
        _ => {
            e.allow(&["type", "bus", "port"])?;
            let bus = e.u32("bus", Radix::Dec)?;
            let bus = bus.ok_or_else(|| e.req("bus").unwrap_err())?;
            if e.get("port").is_some_and(|p| p.contains('.')) {
                return Err(e.bad_value(
                    ModelErrorKind::Unsupported,
                    "port",
                    "ports behind USB hubs are not supported",
                ));
            }
            // No port (or port 0, which libvirt reads the same way) means
            // any free port of that controller.
            Ok(Address::Usb {
                bus,
                port: num("port", Radix::Dec)?,
            })
        }
    }
}

/// `<alias name=...>`: the management name of a device. It is not seen by
/// the guest, so it is read and dropped.
fn alias(e: El) -> R<()> {
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
fn boot_order(e: El) -> R<u32> {
    e.allow(&["order"])?;
    e.empty()?;
    e.req("order")?;
    Ok(e.u32("order", Radix::Dec)?.unwrap_or(0))
}

/// `<driver>` with only the virtio options; `also` names extra attributes
/// the caller has read.
fn virtio_options(e: El, also: &[&str]) -> R<VirtioOptions> {
    let mut allowed = vec!["iommu", "ats", "packed", "page_per_vq"];
    allowed.extend_from_slice(also);
    e.allow(&allowed)?;
    e.empty()?;
    Ok(VirtioOptions {
        iommu: e.on_off("iommu")?,
        ats: e.on_off("ats")?,
        packed: e.on_off("packed")?,
        page_per_vq: e.on_off("page_per_vq")?,
    })
}

fn disk(e: El) -> R<Disk> {
    e.allow(&["type", "device"])?;
    let kind = e
        .choice(
            "type",
            &[("file", DiskType::File), ("block", DiskType::Block)],
        )?
        .unwrap_or(DiskType::File);
    let device = e
        .choice(
            "device",
            &[
                ("disk", DiskDevice::Disk),
                ("cdrom", DiskDevice::Cdrom),
                ("floppy", DiskDevice::Floppy),
            ],
        )?
        .unwrap_or(DiskDevice::Disk);
    let (mut format, mut source, mut target) = (None, None, None);
    let (mut readonly, mut shareable, mut serial) = (None, None, None);
    let (mut boot, mut address_v) = (None, None);
    for c in e.children()? {
        match c.name() {
            "driver" => set(&mut format, c, disk_driver)?,
            "source" => set(&mut source, c, |c| disk_source(c, kind))?,
            "target" => set(&mut target, c, disk_target)?,
            "readonly" => set(&mut readonly, c, flag)?,
            "shareable" => set(&mut shareable, c, flag)?,
            "serial" => set(&mut serial, c, optional_text)?,
            "boot" => set(&mut boot, c, boot_order)?,
            "address" => set(&mut address_v, c, address)?,
            "alias" => alias(c)?,
            _ => return Err(c.unsupported_element()),
        }
    }
    let source = source.flatten();
    let Some((target, bus)) = target else {
        return Err(invalid(format!(
            "missing target information for disk {}at {}",
            source
                .as_deref()
                .map(|s| format!("{s} "))
                .unwrap_or_default(),
            e.at()
        )));
    };
    Ok(Disk {
        kind,
        device,
        format: format.flatten(),
        source,
        target,
        bus,
        readonly: readonly.unwrap_or(false),
        shareable: shareable.unwrap_or(false),
        serial: serial.flatten(),
        boot_order: boot,
        address: address_v,
    })
}

fn disk_driver(e: El) -> R<Option<DiskFormat>> {
    e.allow(&["name", "type"])?;
    e.empty()?;
    e.choice("name", &[("qemu", ())])?;
    e.choice(
        "type",
        &[("raw", DiskFormat::Raw), ("qcow2", DiskFormat::Qcow2)],
    )
}

fn disk_source(e: El, kind: DiskType) -> R<Option<String>> {
    let attr = match kind {
        DiskType::File => "file",
        DiskType::Block => "dev",
    };
    e.allow(&[attr])?;
    e.empty()?;
    // An empty path is libvirt's empty drive, the same as no source.
    Ok(e.get(attr).filter(|p| !p.is_empty()).map(str::to_string))
}

fn disk_target(e: El) -> R<(String, Option<DiskBus>)> {
    e.allow(&["dev", "bus"])?;
    e.empty()?;
    let dev = e.req("dev")?.to_string();
    let bus = e.word_of("bus", &DiskBus::ALL, DiskBus::as_str)?;
    Ok((dev, bus))
}

fn controller(e: El) -> R<(Controller, bool)> {
    e.allow(&["type", "index", "model", "ports"])?;
    e.req("type")?;
    let kind = e
        .word_of("type", &ControllerType::ALL, ControllerType::as_str)?
        .unwrap_or(ControllerType::Pci);
    let index = e.u32("index", Radix::Dec)?;
    let mut c = Controller::new(kind, index.unwrap_or(0), e.get("model").map(str::to_string));
    c.ports = e.u32("ports", Radix::Dec)?;
    let mut virtio = None;
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
            "driver" => set(&mut virtio, x, |x| virtio_options(x, &[]))?,
            "address" => set(&mut c.address, x, address)?,
            "alias" => alias(x)?,
            _ => return Err(x.unsupported_element()),
        }
    }
    c.virtio = virtio.unwrap_or_default();
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
            _ => return Err(x.unsupported_element()),
        }
    }
    Ok(t)
}

/// A random locally administered MAC in QEMU's `52:54:00` range.
fn random_mac() -> MacAddr {
    let r = uuid::Uuid::new_v4();
    let b = r.as_bytes();
    MacAddr([0x52, 0x54, 0x00, b[0], b[1], b[2]])
}

fn interface(e: El) -> R<Interface> {
    e.allow(&["type"])?;
    e.req("type")?;
    let kind = e
        .choice(
            "type",
            &[("user", 0), ("network", 1), ("bridge", 2), ("ethernet", 3)],
        )?
        .unwrap_or(0);
    let (mut source, mut mac, mut model) = (None, None, None);
    let (mut target_dev, mut boot, mut address_v) = (None, None, None);
    let mut port_forwards = Vec::new();
    for c in e.children()? {
        match c.name() {
            "source" if kind == 1 || kind == 2 => set(&mut source, c, |c| {
                let attr = if kind == 1 { "network" } else { "bridge" };
                c.allow(&[attr])?;
                c.empty()?;
                Ok(c.req(attr)?.to_string())
            })?,
            "mac" => set(&mut mac, c, |c| {
                c.allow(&["address"])?;
                c.empty()?;
                let v = c.req("address")?;
                v.parse::<MacAddr>().map_err(|_| {
                    c.bad_value(ModelErrorKind::Invalid, "address", "expected a MAC address")
                })
            })?,
            "model" => set(&mut model, c, |c| {
                c.allow(&["type"])?;
                c.empty()?;
                Ok(c.req("type")?.to_string())
            })?,
            "target" => set(&mut target_dev, c, |c| {
                c.allow(&["dev"])?;
                c.empty()?;
                Ok(c.req("dev")?.to_string())
            })?,
            "boot" => set(&mut boot, c, boot_order)?,
            "portForward" => port_forwards.push(port_forward(c)?),
            "address" => set(&mut address_v, c, address)?,
            "alias" => alias(c)?,
            _ => return Err(c.unsupported_element()),
        }
    }
    let need_source = |what: &str| {
        invalid(format!(
            "missing <source {what}=...> in <interface> at {}",
            e.at()
        ))
    };
    let kind = match kind {
        1 => InterfaceType::Network(source.ok_or_else(|| need_source("network"))?),
        2 => InterfaceType::Bridge(source.ok_or_else(|| need_source("bridge"))?),
        3 => InterfaceType::Ethernet,
        _ => InterfaceType::User,
    };
    Ok(Interface {
        kind,
        mac: mac.unwrap_or_else(random_mac),
        model,
        target_dev,
        port_forwards,
        boot_order: boot,
        address: address_v,
    })
}

fn port_forward(e: El) -> R<PortForward> {
    e.allow(&["proto", "address"])?;
    e.req("proto")?;
    let proto = e
        .choice("proto", &[("tcp", PortProto::Tcp), ("udp", PortProto::Udp)])?
        .unwrap_or(PortProto::Tcp);
    let address = e.get("address").map(str::to_string);
    let mut ranges = Vec::new();
    for c in e.children()? {
        if c.name() != "range" {
            return Err(c.unsupported_element());
        }
        c.allow(&["start", "end", "to"])?;
        c.empty()?;
        c.req("start")?;
        let port = |name: &str| -> R<Option<u16>> {
            match c.u32(name, Radix::Dec)? {
                None => Ok(None),
                Some(n) => u16::try_from(n).map(Some).map_err(|_| {
                    c.bad_value(ModelErrorKind::Invalid, name, "a port is at most 65535")
                }),
            }
        };
        ranges.push(PortRange {
            start: port("start")?.unwrap_or(0),
            end: port("end")?,
            to: port("to")?,
        });
    }
    Ok(PortForward {
        proto,
        address,
        ranges,
    })
}

fn chardev(e: El, console: bool) -> R<CharDevice> {
    e.allow(&["type", "tty"])?;
    e.req("type")?;
    let kind = e
        .choice("type", &[("pty", 0), ("file", 1), ("unix", 2), ("null", 3)])?
        .unwrap_or(0);
    if kind != 0 && e.get("tty").is_some() {
        return Err(e.bad_value(ModelErrorKind::Invalid, "tty", "only a pty has a tty"));
    }
    // `tty` repeats the pty path of a running domain; <source path> keeps it.
    let mut source = None;
    let mut target = None;
    for c in e.children()? {
        match c.name() {
            "source" if kind != 3 => set(&mut source, c, |c| {
                match kind {
                    0 => c.allow(&["path"])?,
                    1 => c.allow(&["path", "append"])?,
                    _ => c.allow(&["path", "mode"])?,
                }
                c.empty()?;
                let mode = c.choice("mode", &[("bind", true), ("connect", false)])?;
                Ok((c.get("path").map(str::to_string), c.on_off("append")?, mode))
            })?,
            "target" => set(&mut target, c, |c| chardev_target(c, console))?,
            "alias" => alias(c)?,
            _ => return Err(c.unsupported_element()),
        }
    }
    let (path, append, mode) = source.unwrap_or((None, None, None));
    let need_path = || {
        invalid(format!(
            "missing <source path=...> for the character device at {}",
            e.at()
        ))
    };
    let source = match kind {
        0 => CharSource::Pty { path },
        1 => CharSource::File {
            path: path.ok_or_else(need_path)?,
            append,
        },
        2 => CharSource::Unix {
            path: path.ok_or_else(need_path)?,
            listen: mode.unwrap_or(false),
        },
        _ => CharSource::Null,
    };
    let (target_port, target_type) = target.unwrap_or((None, None));
    Ok(CharDevice {
        source,
        target_port,
        target_type,
    })
}

fn chardev_target(e: El, console: bool) -> R<(Option<u32>, Option<String>)> {
    e.allow(&["type", "port"])?;
    let port = e.u32("port", Radix::Dec)?;
    let kind = e.get("type").map(str::to_string);
    for c in e.children()? {
        if c.name() != "model" || console {
            return Err(c.unsupported_element());
        }
        // libvirt writes the serial device model it picked; only that
        // default (which qvirt would pick too) is accepted and dropped.
        c.allow(&["name"])?;
        c.empty()?;
        let default = match kind.as_deref() {
            None | Some("isa-serial") => "isa-serial",
            Some("usb-serial") => "usb-serial",
            Some("pci-serial") => "pci-serial",
            Some("isa-debug") => "isa-debugcon",
            Some(_) => "",
        };
        if c.req("name")? != default {
            return Err(c.bad_value(
                ModelErrorKind::Unsupported,
                "name",
                "only the default model of the target type is supported",
            ));
        }
    }
    Ok((port, kind))
}

fn input(e: El) -> R<Input> {
    e.allow(&["type", "bus", "model"])?;
    e.req("type")?;
    let kind = e
        .choice(
            "type",
            &[
                ("mouse", InputType::Mouse),
                ("keyboard", InputType::Keyboard),
                ("tablet", InputType::Tablet),
                ("passthrough", InputType::Passthrough),
            ],
        )?
        .unwrap_or(InputType::Mouse);
    let bus = e.choice(
        "bus",
        &[
            ("ps2", InputBus::Ps2),
            ("usb", InputBus::Usb),
            ("virtio", InputBus::Virtio),
        ],
    )?;
    let (mut evdev, mut virtio, mut address_v) = (None, None, None);
    for c in e.children()? {
        match c.name() {
            "source" => set(&mut evdev, c, |c| {
                c.allow(&["evdev"])?;
                c.empty()?;
                Ok(c.req("evdev")?.to_string())
            })?,
            "driver" => set(&mut virtio, c, |c| virtio_options(c, &[]))?,
            "address" => set(&mut address_v, c, address)?,
            "alias" => alias(c)?,
            _ => return Err(c.unsupported_element()),
        }
    }
    Ok(Input {
        kind,
        bus,
        model: e.get("model").map(str::to_string),
        evdev,
        virtio: virtio.unwrap_or_default(),
        address: address_v,
    })
}

fn graphics(e: El) -> R<Graphics> {
    e.allow(&["type", "port", "autoport", "listen", "passwd"])?;
    e.req("type")?;
    e.choice("type", &[("vnc", ())])?;
    let port = match e.get("port") {
        None => None,
        Some(v) if v.trim() == "-1" => Some(-1),
        Some(_) => Some(
            e.u32("port", Radix::Dec)?
                .and_then(|p| i32::try_from(p).ok())
                .ok_or_else(|| e.bad_value(ModelErrorKind::Invalid, "port", "not a port"))?,
        ),
    };
    let mut listen_addresses = Vec::new();
    for c in e.children()? {
        if c.name() != "listen" {
            return Err(c.unsupported_element());
        }
        c.allow(&["type", "address"])?;
        c.empty()?;
        c.req("type")?;
        c.choice("type", &[("address", ())])?;
        // Without an address this is the default listen address, which
        // libvirt writes out; it says nothing more than its absence.
        if let Some(a) = c.get("address") {
            listen_addresses.push(a.to_string());
        }
    }
    Ok(Graphics {
        port,
        autoport: e.yes_no("autoport")?,
        listen: e.get("listen").map(str::to_string),
        listen_addresses,
        passwd: e.get("passwd").map(str::to_string),
    })
}

fn video(e: El) -> R<Video> {
    e.allow(&[])?;
    let (mut model, mut virtio, mut address_v) = (None, None, None);
    for c in e.children()? {
        match c.name() {
            "model" => set(&mut model, c, |c| {
                c.allow(&["type", "vram", "ram", "vgamem", "heads", "primary"])?;
                c.empty()?;
                let Some(t) = c.get("type") else {
                    return Err(unsupported(format!(
                        "<video><model> without type at {} (a default model) is not supported",
                        c.at()
                    )));
                };
                Ok(Video {
                    model: t.to_string(),
                    vram: c.u64("vram", Radix::Dec)?,
                    ram: c.u64("ram", Radix::Dec)?,
                    vgamem: c.u64("vgamem", Radix::Dec)?,
                    heads: c.u32("heads", Radix::Dec)?,
                    primary: c.yes_no("primary")?.unwrap_or(false),
                    virtio: VirtioOptions::default(),
                    address: None,
                })
            })?,
            "driver" => set(&mut virtio, c, |c| {
                // name='qemu' is the default backend; vhostuser is not.
                let opts = virtio_options(c, &["name"])?;
                c.choice("name", &[("qemu", ())])?;
                Ok(opts)
            })?,
            "address" => set(&mut address_v, c, address)?,
            "alias" => alias(c)?,
            _ => return Err(c.unsupported_element()),
        }
    }
    let mut v = model.ok_or_else(|| {
        unsupported(format!(
            "<video> without <model type=...> at {} (a default model) is not supported",
            e.at()
        ))
    })?;
    v.virtio = virtio.unwrap_or_default();
    v.address = address_v;
    Ok(v)
}

fn audio(e: El) -> R<Audio> {
    e.allow(&["id", "type"])?;
    e.empty()?;
    e.req("type")?;
    e.choice("type", &[("none", ())])?;
    e.req("id")?;
    Ok(Audio {
        id: e.u32("id", Radix::Dec)?.unwrap_or(0),
    })
}

fn memballoon(e: El) -> R<Memballoon> {
    e.allow(&["model", "autodeflate", "freePageReporting"])?;
    e.req("model")?;
    let model = e
        .choice(
            "model",
            &[
                ("virtio", BalloonModel::Virtio),
                ("none", BalloonModel::None),
            ],
        )?
        .unwrap_or(BalloonModel::None);
    let (mut stats, mut virtio, mut address_v) = (None, None, None);
    for c in e.children()? {
        match c.name() {
            "stats" => set(&mut stats, c, |c| {
                c.allow(&["period"])?;
                c.empty()?;
                c.req("period")?;
                Ok(c.u32("period", Radix::Dec)?.unwrap_or(0))
            })?,
            "driver" => set(&mut virtio, c, |c| virtio_options(c, &[]))?,
            "address" => set(&mut address_v, c, address)?,
            "alias" => alias(c)?,
            _ => return Err(c.unsupported_element()),
        }
    }
    Ok(Memballoon {
        model,
        autodeflate: e.on_off("autodeflate")?,
        free_page_reporting: e.on_off("freePageReporting")?,
        stats_period: stats,
        virtio: virtio.unwrap_or_default(),
        address: address_v,
    })
}
