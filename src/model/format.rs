//! Writing a [`DomainDef`] as canonical libvirt-style XML: elements in the
//! order libvirt writes them, two-space indentation, single-quoted
//! attributes, sizes in KiB, PCI addresses in hex. The same definition
//! always gives the same bytes, and reading them back gives the same
//! definition.

mod chardev;
mod devices;
mod hostdev;
mod net;
mod smartcard;
mod tuning;

pub(super) use devices::disk_xml;

use super::xmlwrite::{Attrs, XmlWriter};
use super::{Adjustment, ClockOffset, DomainDef, Features, KvmFlag, NvramType, Timer, VirtType};

pub(super) fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

pub(super) fn on_off(b: bool) -> &'static str {
    if b { "on" } else { "off" }
}

/// Writes `<name attrs>` with `children`, or `<name attrs/>` when there are
/// none.
pub(super) fn element(
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

/// Formats one `<interface>` element, as it stands in a domain document.
pub(crate) fn format_interface(i: &crate::model::Interface) -> String {
    let mut w = XmlWriter::new();
    net::interface(&mut w, i);
    w.finish()
}

/// Formats one `<memory>` device element.
pub(crate) fn format_memory(m: &crate::model::MemoryDevice) -> String {
    let mut w = XmlWriter::new();
    hostdev::memory(&mut w, m);
    w.finish()
}

/// Formats a domain document.
pub(crate) fn format_domain(def: &DomainDef) -> String {
    let mut w = XmlWriter::new();
    let kind = match def.virt_type {
        VirtType::Kvm => "kvm",
        VirtType::Qemu => "qemu",
    };
    let mut root = Attrs::new().add("type", kind);
    if !def.qemu.is_empty() {
        root = root.add("xmlns:qemu", super::QEMU_NAMESPACE);
    }
    w.open("domain", root);
    w.text("name", Attrs::new(), &def.name);
    w.text("uuid", Attrs::new(), &def.uuid.hyphenated().to_string());
    if let Some(g) = &def.genid {
        w.text("genid", Attrs::new(), &g.hyphenated().to_string());
    }
    if let Some(t) = &def.title {
        w.text("title", Attrs::new(), t);
    }
    if let Some(d) = &def.description {
        w.text("description", Attrs::new(), d);
    }
    if let Some(m) = &def.metadata {
        w.raw("metadata", m);
    }
    tuning::max_memory(&mut w, def);
    let kib = || Attrs::new().add("unit", "KiB");
    let dump_core = def.dump_core.map(on_off);
    w.text(
        "memory",
        kib().opt("dumpCore", dump_core),
        &def.memory_kib.to_string(),
    );
    if let Some(c) = def.current_memory_kib {
        w.text("currentMemory", kib(), &c.to_string());
    }
    tuning::blkiotune(&mut w, def);
    tuning::memtune(&mut w, def);
    tuning::memory_backing(&mut w, def);
    let placement = def.vcpu.placement.unwrap_or(super::Placement::Static);
    let vcpu = Attrs::new()
        .add("placement", placement.as_str())
        .opt("cpuset", def.vcpu.cpuset.as_ref())
        .opt("current", def.vcpu.current);
    w.text("vcpu", vcpu, &def.vcpu.max.to_string());
    if let Some(ind) = &def.vcpu.individual {
        let boot = def.vcpu.boot_count();
        w.open("vcpus", Attrs::new());
        for id in 0..def.vcpu.max {
            let plugged = ind.hotplugged.iter().position(|p| *p == id);
            let on = id < boot || plugged.is_some();
            let order = match plugged {
                Some(n) => boot + n as u32 + 1,
                None => id + 1,
            };
            let a = Attrs::new()
                .add("id", id)
                .add("enabled", yes_no(on))
                .add("hotpluggable", yes_no(id >= boot))
                .opt("order", (on && ind.ordered).then_some(order));
            w.empty("vcpu", a);
        }
        w.close("vcpus");
    }
    tuning::after_vcpu(&mut w, def);
    os(&mut w, def);
    features(&mut w, &def.features);
    cpu(&mut w, def);
    clock(&mut w, def);
    for (name, action) in [
        ("on_poweroff", def.on_poweroff),
        ("on_reboot", def.on_reboot),
        ("on_crash", def.on_crash),
    ] {
        w.text(name, Attrs::new(), action.as_str());
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
    if !def.perf.is_empty() {
        w.open("perf", Attrs::new());
        for p in &def.perf {
            let a = Attrs::new()
                .add("name", p.name.as_str())
                .add("enabled", yes_no(p.enabled));
            w.empty("event", a);
        }
        w.close("perf");
    }
    devices::devices(&mut w, def);
    tuning::after_devices(&mut w, def);
    w.close("domain");
    w.finish()
}

fn os(w: &mut XmlWriter, def: &DomainDef) {
    let os = &def.os;
    w.open(
        "os",
        Attrs::new().opt("firmware", os.firmware.map(|f| f.as_str())),
    );
    let t = Attrs::new()
        .opt("arch", os.arch.as_ref())
        .opt("machine", os.machine.as_ref());
    w.text("type", t, "hvm");
    if !os.firmware_features.is_empty() {
        w.open("firmware", Attrs::new());
        for (name, enabled) in &os.firmware_features {
            let a = Attrs::new()
                .add("enabled", yes_no(*enabled))
                .add("name", name.as_str());
            w.empty("feature", a);
        }
        w.close("firmware");
    }
    if let Some(l) = &os.loader {
        let a = Attrs::new()
            .opt("readonly", l.readonly.map(yes_no))
            .opt("secure", l.secure.map(yes_no))
            .opt("type", l.kind.map(|k| k.as_str()))
            .opt("stateless", l.stateless.map(yes_no))
            .opt("format", l.format.map(|f| f.as_str()));
        match &l.path {
            Some(p) => w.text("loader", a, p),
            None => w.empty("loader", a),
        }
    }
    if let Some(n) = &os.nvram {
        let a = Attrs::new()
            .opt("template", n.template.as_ref())
            .opt("templateFormat", n.template_format.map(|f| f.as_str()))
            .opt("format", n.format.map(|f| f.as_str()))
            .opt("type", n.kind.map(|k| k.as_str()));
        match (n.kind, &n.path) {
            (Some(NvramType::Network), _) => {
                w.open("nvram", a);
                if let Some(net) = &n.network {
                    hostdev::network_source(w, net, None);
                }
                w.close("nvram");
            }
            (Some(kind), Some(p)) => {
                w.open("nvram", a);
                let attr = match kind {
                    NvramType::Block => "dev",
                    _ => "file",
                };
                w.empty("source", Attrs::new().add(attr, p));
                w.close("nvram");
            }
            (None, Some(p)) => w.text("nvram", a, p),
            (_, None) => w.empty("nvram", a),
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
    if let Some(t) = &os.slic_table {
        w.open("acpi", Attrs::new());
        w.text("table", Attrs::new().add("type", "slic"), t);
        w.close("acpi");
    }
    for b in &os.boot {
        w.empty("boot", Attrs::new().add("dev", b.as_str()));
    }
    if let Some(m) = &os.bootmenu {
        let a = Attrs::new()
            .add("enable", yes_no(m.enable))
            .opt("timeout", m.timeout);
        w.empty("bootmenu", a);
    }
    if let Some(b) = &os.bios {
        let a = Attrs::new()
            .opt("useserial", b.useserial.map(yes_no))
            .opt("rebootTimeout", b.reboot_timeout);
        w.empty("bios", a);
    }
    if let Some(m) = os.smbios {
        w.empty("smbios", Attrs::new().add("mode", m.as_str()));
    }
    w.close("os");
}

fn features(w: &mut XmlWriter, f: &Features) {
    if *f == Features::default() {
        return;
    }
    w.open("features", Attrs::new());
    let state = |v: bool| Attrs::new().add("state", on_off(v));
    if f.acpi {
        w.empty("acpi", Attrs::new());
    }
    if f.apic {
        w.empty("apic", Attrs::new().opt("eoi", f.apic_eoi.map(on_off)));
    }
    if let Some(kib) = f.tcg_tb_cache_kib {
        w.open("tcg", Attrs::new());
        w.text(
            "tb-cache",
            Attrs::new().add("unit", "KiB"),
            &kib.to_string(),
        );
        w.close("tcg");
    }
    if f.pae {
        w.empty("pae", Attrs::new());
    }
    if let Some(v) = f.hap {
        w.empty("hap", state(v));
    }
    if let Some(h) = &f.hyperv {
        let a = Attrs::new().opt("mode", h.mode.map(|m| m.as_str()));
        element(w, "hyperv", a, !h.flags.is_empty(), |w| {
            for (flag, on) in &h.flags {
                let mut a = state(*on);
                match flag {
                    crate::model::HypervFlag::Spinlocks => {
                        a = a.opt("retries", h.spinlocks_retries);
                    }
                    crate::model::HypervFlag::VendorId => {
                        a = a.opt("value", h.vendor_id.as_ref());
                    }
                    _ => {}
                }
                let direct = *flag == crate::model::HypervFlag::Stimer && h.stimer_direct.is_some();
                element(w, flag.as_str(), a, direct, |w| {
                    if let Some(d) = h.stimer_direct {
                        w.empty("direct", state(d));
                    }
                });
            }
        });
    }
    if let Some(k) = &f.kvm {
        element(w, "kvm", Attrs::new(), !k.flags.is_empty(), |w| {
            for (flag, on) in &k.flags {
                let mut a = state(*on);
                if *flag == KvmFlag::DirtyRing {
                    a = a.opt("size", k.dirty_ring_size);
                }
                w.empty(flag.as_str(), a);
            }
        });
    }
    if let Some(v) = f.pvspinlock {
        w.empty("pvspinlock", state(v));
    }
    if let Some(v) = f.pmu {
        w.empty("pmu", state(v));
    }
    if let Some(v) = f.vmport {
        w.empty("vmport", state(v));
    }
    if let Some(v) = f.ps2 {
        w.empty("ps2", state(v));
    }
    if let Some(s) = &f.smm {
        element(w, "smm", state(s.enabled), s.tseg_kib.is_some(), |w| {
            if let Some(t) = s.tseg_kib {
                w.text("tseg", Attrs::new().add("unit", "KiB"), &t.to_string());
            }
        });
    }
    if let Some(d) = f.ioapic {
        w.empty("ioapic", Attrs::new().add("driver", d.as_str()));
    }
    if let Some(v) = f.vmcoreinfo {
        w.empty("vmcoreinfo", state(v));
    }
    w.close("features");
}

fn cpu(w: &mut XmlWriter, def: &DomainDef) {
    let Some(cpu) = &def.cpu else {
        return;
    };
    let a = Attrs::new()
        .add("mode", cpu.mode.as_str())
        .opt("match", cpu.match_.map(|m| m.as_str()))
        .opt("check", cpu.check.map(|c| c.as_str()))
        .opt("migratable", cpu.migratable.map(on_off));
    let children = cpu.model.is_some()
        || cpu.vendor.is_some()
        || cpu.topology.is_some()
        || cpu.cache.is_some()
        || cpu.max_phys_addr.is_some()
        || !cpu.features.is_empty()
        || !cpu.numa.is_empty();
    element(w, "cpu", a, children, |w| {
        if let Some(m) = &cpu.model {
            let a = Attrs::new()
                .opt("fallback", m.fallback.map(|f| f.as_str()))
                .opt("vendor_id", m.vendor_id.as_ref());
            match &m.name {
                Some(n) => w.text("model", a, n),
                None => w.empty("model", a),
            }
        }
        if let Some(v) = &cpu.vendor {
            w.text("vendor", Attrs::new(), v);
        }
        if let Some(t) = &cpu.topology {
            let a = Attrs::new()
                .add("sockets", t.sockets)
                .opt("dies", t.dies)
                .opt("clusters", t.clusters)
                .add("cores", t.cores)
                .add("threads", t.threads);
            w.empty("topology", a);
        }
        if let Some(c) = &cpu.cache {
            let a = Attrs::new()
                .opt("level", c.level)
                .add("mode", c.mode.as_str());
            w.empty("cache", a);
        }
        if let Some(m) = &cpu.max_phys_addr {
            let a = Attrs::new()
                .add("mode", m.mode.as_str())
                .opt("bits", m.bits);
            w.empty("maxphysaddr", a);
        }
        for f in &cpu.features {
            let a = Attrs::new()
                .add("policy", f.policy.as_str())
                .add("name", &f.name);
            w.empty("feature", a);
        }
        tuning::numa(w, &cpu.numa, &cpu.interconnects);
    });
}

fn adjustment(a: Option<Adjustment>) -> Option<String> {
    a.map(|a| match a {
        Adjustment::Reset => "reset".to_string(),
        Adjustment::Seconds(s) => s.to_string(),
    })
}

fn clock(w: &mut XmlWriter, def: &DomainDef) {
    let Some(c) = &def.clock else {
        return;
    };
    let a = match &c.offset {
        ClockOffset::Utc { adjustment: adj } => Attrs::new()
            .add("offset", "utc")
            .opt("adjustment", adjustment(*adj)),
        ClockOffset::Localtime { adjustment: adj } => Attrs::new()
            .add("offset", "localtime")
            .opt("adjustment", adjustment(*adj)),
        ClockOffset::Variable { adjustment, basis } => Attrs::new()
            .add("offset", "variable")
            .add("adjustment", adjustment)
            .opt("basis", basis.map(|b| b.as_str())),
        ClockOffset::Timezone(tz) => Attrs::new().add("offset", "timezone").add("timezone", tz),
        ClockOffset::Absolute { start } => {
            Attrs::new().add("offset", "absolute").add("start", start)
        }
    };
    element(w, "clock", a, !c.timers.is_empty(), |w| {
        for t in &c.timers {
            timer(w, t);
        }
    });
}

fn timer(w: &mut XmlWriter, t: &Timer) {
    let a = Attrs::new()
        .add("name", t.name.as_str())
        .opt("tickpolicy", t.tickpolicy.map(|p| p.as_str()))
        .opt("track", t.track.map(|p| p.as_str()))
        .opt("frequency", t.frequency)
        .opt("mode", t.mode.map(|p| p.as_str()))
        .opt("present", t.present.map(yes_no));
    element(w, "timer", a, t.catchup.is_some(), |w| {
        if let Some(cu) = &t.catchup {
            let ca = Attrs::new()
                .opt("threshold", cu.threshold)
                .opt("slew", cu.slew)
                .opt("limit", cu.limit);
            w.empty("catchup", ca);
        }
    });
}
