//! Writing a [`DomainDef`] as canonical libvirt-style XML: elements in the
//! order libvirt writes them, two-space indentation, single-quoted
//! attributes, sizes in KiB, PCI addresses in hex. The same definition
//! always gives the same bytes, and reading them back gives the same
//! definition.

use super::xmlwrite::{Attrs, XmlWriter};
use super::{
    Address, BalloonModel, BootDev, CharDevice, CharSource, ClockOffset, Controller, CpuMode, Disk,
    DiskBus, DiskDevice, DiskFormat, DiskType, DomainDef, Input, InputBus, InputType, Interface,
    InterfaceType, LifecycleAction, LoaderType, PortProto, VirtType, VirtioOptions,
};

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

fn on_off(b: bool) -> &'static str {
    if b { "on" } else { "off" }
}

/// Formats a domain document.
pub(crate) fn format_domain(def: &DomainDef) -> String {
    let mut w = XmlWriter::new();
    let kind = match def.virt_type {
        VirtType::Kvm => "kvm",
        VirtType::Qemu => "qemu",
    };
    w.open("domain", Attrs::new().add("type", kind));
    w.text("name", Attrs::new(), &def.name);
    w.text("uuid", Attrs::new(), &def.uuid.hyphenated().to_string());
    if let Some(t) = &def.title {
        w.text("title", Attrs::new(), t);
    }
    if let Some(d) = &def.description {
        w.text("description", Attrs::new(), d);
    }
    if let Some(m) = &def.metadata {
        w.raw("metadata", m);
    }
    let kib = || Attrs::new().add("unit", "KiB");
    w.text("memory", kib(), &def.memory_kib.to_string());
    if let Some(c) = def.current_memory_kib {
        w.text("currentMemory", kib(), &c.to_string());
    }
    let vcpu = Attrs::new()
        .add("placement", "static")
        .opt("cpuset", def.vcpu.cpuset.as_ref())
        .opt("current", def.vcpu.current);
    w.text("vcpu", vcpu, &def.vcpu.max.to_string());
    os(&mut w, def);
    let f = &def.features;
    if f.acpi || f.apic || f.pae {
        w.open("features", Attrs::new());
        for (on, name) in [(f.acpi, "acpi"), (f.apic, "apic"), (f.pae, "pae")] {
            if on {
                w.empty(name, Attrs::new());
            }
        }
        w.close("features");
    }
    if let Some(cpu) = &def.cpu {
        let mode = match cpu.mode {
            CpuMode::HostPassthrough => "host-passthrough",
            CpuMode::Maximum => "maximum",
        };
        w.empty("cpu", Attrs::new().add("mode", mode));
    }
    clock(&mut w, def);
    for (name, action) in [
        ("on_poweroff", def.on_poweroff),
        ("on_reboot", def.on_reboot),
        ("on_crash", def.on_crash),
    ] {
        let a = match action {
            LifecycleAction::Destroy => "destroy",
            LifecycleAction::Restart => "restart",
            LifecycleAction::Preserve => "preserve",
        };
        w.text(name, Attrs::new(), a);
    }
    if def.pm.suspend_to_mem.is_some() || def.pm.suspend_to_disk.is_some() {
        w.open("pm", Attrs::new());
        for (name, v) in [
            ("suspend-to-mem", def.pm.suspend_to_mem),
            ("suspend-to-disk", def.pm.suspend_to_disk),
        ] {
            if let Some(v) = v {
                w.empty(name, Attrs::new().add("enabled", yes_no(v)));
            }
        }
        w.close("pm");
    }
    devices(&mut w, def);
    w.close("domain");
    w.finish()
}

fn os(w: &mut XmlWriter, def: &DomainDef) {
    let os = &def.os;
    w.open("os", Attrs::new());
    let t = Attrs::new()
        .opt("arch", os.arch.as_ref())
        .opt("machine", os.machine.as_ref());
    w.text("type", t, "hvm");
    if let Some(l) = &os.loader {
        let kind = l.kind.map(|k| match k {
            LoaderType::Rom => "rom",
            LoaderType::Pflash => "pflash",
        });
        let a = Attrs::new()
            .opt("readonly", l.readonly.map(yes_no))
            .opt("type", kind);
        w.text("loader", a, &l.path);
    }
    if let Some(n) = &os.nvram {
        let a = Attrs::new().opt("template", n.template.as_ref());
        match &n.path {
            Some(p) => w.text("nvram", a, p),
            None => w.empty("nvram", a),
        }
    }
    for (name, v) in [
        ("kernel", &os.kernel),
        ("initrd", &os.initrd),
        ("cmdline", &os.cmdline),
    ] {
        if let Some(v) = v {
            w.text(name, Attrs::new(), v);
        }
    }
    for b in &os.boot {
        let dev = match b {
            BootDev::Hd => "hd",
            BootDev::Cdrom => "cdrom",
            BootDev::Fd => "fd",
            BootDev::Network => "network",
        };
        w.empty("boot", Attrs::new().add("dev", dev));
    }
    w.close("os");
}

fn clock(w: &mut XmlWriter, def: &DomainDef) {
    let Some(c) = &def.clock else {
        return;
    };
    let offset = match c.offset {
        ClockOffset::Utc => "utc",
        ClockOffset::Localtime => "localtime",
    };
    let a = Attrs::new().add("offset", offset);
    if c.timers.is_empty() {
        w.empty("clock", a);
        return;
    }
    w.open("clock", a);
    for t in &c.timers {
        let a = Attrs::new()
            .add("name", &t.name)
            .opt("tickpolicy", t.tickpolicy.as_ref())
            .opt("present", t.present.map(yes_no));
        match &t.catchup {
            Some(cu) => {
                w.open("timer", a);
                let ca = Attrs::new()
                    .opt("threshold", cu.threshold)
                    .opt("slew", cu.slew)
                    .opt("limit", cu.limit);
                w.empty("catchup", ca);
                w.close("timer");
            }
            None => w.empty("timer", a),
        }
    }
    w.close("clock");
}

/// Writes `<name attrs>` with `children`, or `<name attrs/>` when there are
/// none.
fn element(
    w: &mut XmlWriter,
    name: &str,
    attrs: Attrs,
    has_children: bool,
    children: impl FnOnce(&mut XmlWriter),
) {
    if has_children {
        w.open(name, attrs);
        children(w);
        w.close(name);
    } else {
        w.empty(name, attrs);
    }
}

fn address(w: &mut XmlWriter, a: &Option<Address>) {
    let Some(a) = a else {
        return;
    };
    let attrs = match a {
        Address::Pci(p) => Attrs::new()
            .add("type", "pci")
            .add("domain", format!("0x{:04x}", p.domain))
            .add("bus", format!("0x{:02x}", p.bus))
            .add("slot", format!("0x{:02x}", p.slot))
            .add("function", format!("0x{:x}", p.function))
            .opt("multifunction", p.multifunction.map(on_off)),
        Address::Drive(d) => Attrs::new()
            .add("type", "drive")
            .add("controller", d.controller)
            .add("bus", d.bus)
            .add("target", d.target)
            .add("unit", d.unit),
        Address::Usb { bus, port } => Attrs::new()
            .add("type", "usb")
            .add("bus", bus)
            .opt("port", (*port != 0).then_some(port)),
    };
    w.empty("address", attrs);
}

fn virtio_attrs(v: &VirtioOptions) -> Attrs {
    Attrs::new()
        .opt("iommu", v.iommu.map(on_off))
        .opt("ats", v.ats.map(on_off))
        .opt("packed", v.packed.map(on_off))
        .opt("page_per_vq", v.page_per_vq.map(on_off))
}

fn devices(w: &mut XmlWriter, def: &DomainDef) {
    let d = &def.devices;
    w.open("devices", Attrs::new());
    if let Some(e) = &d.emulator {
        w.text("emulator", Attrs::new(), e);
    }
    for disk_def in &d.disks {
        disk(w, disk_def);
    }
    for c in &d.controllers {
        controller(w, c);
    }
    for i in &d.interfaces {
        interface(w, i);
    }
    for s in &d.serials {
        chardev(w, "serial", s);
    }
    for c in &d.consoles {
        chardev(w, "console", c);
    }
    for i in &d.inputs {
        input(w, i);
    }
    for g in &d.graphics {
        let a = Attrs::new()
            .add("type", "vnc")
            .opt("port", g.port)
            .opt("autoport", g.autoport.map(yes_no))
            .opt("listen", g.listen.as_ref())
            .opt("passwd", g.passwd.as_ref());
        element(w, "graphics", a, !g.listen_addresses.is_empty(), |w| {
            for l in &g.listen_addresses {
                w.empty(
                    "listen",
                    Attrs::new().add("type", "address").add("address", l),
                );
            }
        });
    }
    for a in &d.audios {
        w.empty("audio", Attrs::new().add("id", a.id).add("type", "none"));
    }
    for v in &d.videos {
        w.open("video", Attrs::new());
        if !v.virtio.is_empty() {
            w.empty("driver", virtio_attrs(&v.virtio));
        }
        let m = Attrs::new()
            .add("type", &v.model)
            .opt("ram", v.ram)
            .opt("vram", v.vram)
            .opt("vgamem", v.vgamem)
            .opt("heads", v.heads)
            .opt("primary", v.primary.then_some("yes"));
        w.empty("model", m);
        address(w, &v.address);
        w.close("video");
    }
    if let Some(b) = &d.memballoon {
        let model = match b.model {
            BalloonModel::Virtio => "virtio",
            BalloonModel::None => "none",
        };
        let a = Attrs::new()
            .add("model", model)
            .opt("autodeflate", b.autodeflate.map(on_off))
            .opt("freePageReporting", b.free_page_reporting.map(on_off));
        let children = b.stats_period.is_some() || b.address.is_some() || !b.virtio.is_empty();
        element(w, "memballoon", a, children, |w| {
            if let Some(p) = b.stats_period {
                w.empty("stats", Attrs::new().add("period", p));
            }
            address(w, &b.address);
            if !b.virtio.is_empty() {
                w.empty("driver", virtio_attrs(&b.virtio));
            }
        });
    }
    w.close("devices");
}

fn disk(w: &mut XmlWriter, d: &Disk) {
    let (kind, src_attr) = match d.kind {
        DiskType::File => ("file", "file"),
        DiskType::Block => ("block", "dev"),
    };
    let device = match d.device {
        DiskDevice::Disk => "disk",
        DiskDevice::Cdrom => "cdrom",
        DiskDevice::Floppy => "floppy",
    };
    w.open("disk", Attrs::new().add("type", kind).add("device", device));
    if let Some(f) = d.format {
        let t = match f {
            DiskFormat::Raw => "raw",
            DiskFormat::Qcow2 => "qcow2",
        };
        w.empty("driver", Attrs::new().add("name", "qemu").add("type", t));
    }
    if let Some(s) = &d.source {
        w.empty("source", Attrs::new().add(src_attr, s));
    }
    let bus = d.bus.map(DiskBus::as_str);
    w.empty("target", Attrs::new().add("dev", &d.target).opt("bus", bus));
    if let Some(o) = d.boot_order {
        w.empty("boot", Attrs::new().add("order", o));
    }
    if d.readonly {
        w.empty("readonly", Attrs::new());
    }
    if d.shareable {
        w.empty("shareable", Attrs::new());
    }
    if let Some(s) = &d.serial {
        w.text("serial", Attrs::new(), s);
    }
    address(w, &d.address);
    w.close("disk");
}

fn controller(w: &mut XmlWriter, c: &Controller) {
    let kind = c.kind.as_str();
    let a = Attrs::new()
        .add("type", kind)
        .add("index", c.index)
        .opt("model", c.model.as_ref())
        .opt("ports", c.ports);
    let children = !c.virtio.is_empty()
        || c.master_startport.is_some()
        || c.model_name.is_some()
        || c.target.is_some()
        || c.pcihole64_kib.is_some()
        || c.address.is_some();
    element(w, "controller", a, children, |w| {
        if !c.virtio.is_empty() {
            w.empty("driver", virtio_attrs(&c.virtio));
        }
        if let Some(p) = c.master_startport {
            w.empty("master", Attrs::new().add("startport", p));
        }
        if let Some(n) = &c.model_name {
            w.empty("model", Attrs::new().add("name", n));
        }
        if let Some(t) = &c.target {
            let a = Attrs::new()
                .opt("chassisNr", t.chassis_nr)
                .opt("chassis", t.chassis)
                .opt("port", t.port.map(|p| format!("0x{p:x}")))
                .opt("busNr", t.bus_nr)
                .opt("hotplug", t.hotplug.map(on_off))
                .opt("memReserve", t.mem_reserve);
            match t.node {
                Some(n) => {
                    w.open("target", a);
                    w.text("node", Attrs::new(), &n.to_string());
                    w.close("target");
                }
                None => w.empty("target", a),
            }
        }
        if let Some(h) = c.pcihole64_kib {
            w.text("pcihole64", Attrs::new().add("unit", "KiB"), &h.to_string());
        }
        address(w, &c.address);
    });
}

fn interface(w: &mut XmlWriter, i: &Interface) {
    let kind = match &i.kind {
        InterfaceType::User => "user",
        InterfaceType::Network(_) => "network",
        InterfaceType::Bridge(_) => "bridge",
        InterfaceType::Ethernet => "ethernet",
    };
    w.open("interface", Attrs::new().add("type", kind));
    w.empty("mac", Attrs::new().add("address", i.mac));
    match &i.kind {
        InterfaceType::Network(n) => w.empty("source", Attrs::new().add("network", n)),
        InterfaceType::Bridge(b) => w.empty("source", Attrs::new().add("bridge", b)),
        InterfaceType::User | InterfaceType::Ethernet => {}
    }
    if let Some(t) = &i.target_dev {
        w.empty("target", Attrs::new().add("dev", t));
    }
    if let Some(m) = &i.model {
        w.empty("model", Attrs::new().add("type", m));
    }
    if let Some(o) = i.boot_order {
        w.empty("boot", Attrs::new().add("order", o));
    }
    for pf in &i.port_forwards {
        let proto = match pf.proto {
            PortProto::Tcp => "tcp",
            PortProto::Udp => "udp",
        };
        let a = Attrs::new()
            .add("proto", proto)
            .opt("address", pf.address.as_ref());
        element(w, "portForward", a, !pf.ranges.is_empty(), |w| {
            for r in &pf.ranges {
                let a = Attrs::new()
                    .add("start", r.start)
                    .opt("end", r.end)
                    .opt("to", r.to);
                w.empty("range", a);
            }
        });
    }
    address(w, &i.address);
    w.close("interface");
}

fn chardev(w: &mut XmlWriter, name: &str, c: &CharDevice) {
    let (kind, source) = match &c.source {
        CharSource::Pty { path } => ("pty", path.as_ref().map(|p| Attrs::new().add("path", p))),
        CharSource::File { path, append } => (
            "file",
            Some(
                Attrs::new()
                    .add("path", path)
                    .opt("append", append.map(on_off)),
            ),
        ),
        CharSource::Unix { path, listen } => (
            "unix",
            Some(
                Attrs::new()
                    .add("mode", if *listen { "bind" } else { "connect" })
                    .add("path", path),
            ),
        ),
        CharSource::Null => ("null", None),
    };
    let target = Attrs::new()
        .opt("type", c.target_type.as_ref())
        .opt("port", c.target_port);
    let children = source.is_some() || !target.is_empty();
    element(w, name, Attrs::new().add("type", kind), children, |w| {
        if let Some(s) = source {
            w.empty("source", s);
        }
        if !target.is_empty() {
            w.empty("target", target);
        }
    });
}

fn input(w: &mut XmlWriter, i: &Input) {
    let kind = match i.kind {
        InputType::Mouse => "mouse",
        InputType::Keyboard => "keyboard",
        InputType::Tablet => "tablet",
        InputType::Passthrough => "passthrough",
    };
    let bus = i.bus.map(|b| match b {
        InputBus::Ps2 => "ps2",
        InputBus::Usb => "usb",
        InputBus::Virtio => "virtio",
    });
    let a = Attrs::new()
        .add("type", kind)
        .opt("bus", bus)
        .opt("model", i.model.as_ref());
    let children = i.evdev.is_some() || !i.virtio.is_empty() || i.address.is_some();
    element(w, "input", a, children, |w| {
        if let Some(e) = &i.evdev {
            w.empty("source", Attrs::new().add("evdev", e));
        }
        if !i.virtio.is_empty() {
            w.empty("driver", virtio_attrs(&i.virtio));
        }
        address(w, &i.address);
    });
}
