//! Writing how the domain uses the host (`<maxMemory>`,
//! `<memoryBacking>`, `<iothreads>`, `<cputune>`, `<numatune>`,
//! `<resource>`), `<sysinfo>`, `<seclabel>`, `<launchSecurity>` and the
//! `qemu:` namespace, in libvirt's order and spelling.

use super::{element, yes_no};
use crate::model::xmlwrite::{Attrs, XmlWriter};
use crate::model::{
    DomainDef, LaunchSecurity, NumaCell, NumaInterconnect, NumaInterconnectKind, QemuExtras,
    SchedPolicy,
};

/// `<maxMemory>`, before `<memory>`.
pub(super) fn max_memory(w: &mut XmlWriter, def: &DomainDef) {
    if let Some(m) = def.max_memory {
        let a = Attrs::new().add("slots", m.slots).add("unit", "KiB");
        w.text("maxMemory", a, &m.kib.to_string());
    }
}

/// `<blkiotune>`, after `<currentMemory>`.
pub(super) fn blkiotune(w: &mut XmlWriter, def: &DomainDef) {
    let Some(b) = &def.blkiotune else {
        return;
    };
    w.open("blkiotune", Attrs::new());
    if let Some(v) = b.weight {
        w.text("weight", Attrs::new(), &v.to_string());
    }
    for d in &b.devices {
        w.open("device", Attrs::new());
        w.text("path", Attrs::new(), &d.path);
        let values = [
            ("weight", d.weight.map(u64::from)),
            ("read_iops_sec", d.read_iops_sec.map(u64::from)),
            ("write_iops_sec", d.write_iops_sec.map(u64::from)),
            ("read_bytes_sec", d.read_bytes_sec),
            ("write_bytes_sec", d.write_bytes_sec),
        ];
        for (name, v) in values {
            if let Some(v) = v {
                w.text(name, Attrs::new(), &v.to_string());
            }
        }
        w.close("device");
    }
    w.close("blkiotune");
}

/// `<memtune>`, after `<currentMemory>`.
pub(super) fn memtune(w: &mut XmlWriter, def: &DomainDef) {
    let Some(m) = &def.memtune else {
        return;
    };
    w.open("memtune", Attrs::new());
    for (name, v) in [
        ("hard_limit", m.hard_limit_kib),
        ("soft_limit", m.soft_limit_kib),
        ("swap_hard_limit", m.swap_hard_limit_kib),
    ] {
        if let Some(v) = v {
            w.text(name, Attrs::new().add("unit", "KiB"), &v.to_string());
        }
    }
    w.close("memtune");
}

/// `<memoryBacking>`, after `<currentMemory>`.
pub(super) fn memory_backing(w: &mut XmlWriter, def: &DomainDef) {
    let Some(m) = &def.memory_backing else {
        return;
    };
    let children = m.hugepages.is_some()
        || m.nosharepages
        || m.locked
        || m.source.is_some()
        || m.access.is_some()
        || m.allocation.is_some()
        || m.discard;
    element(w, "memoryBacking", Attrs::new(), children, |w| {
        if let Some(pages) = &m.hugepages {
            element(w, "hugepages", Attrs::new(), !pages.is_empty(), |w| {
                for p in pages {
                    let a = Attrs::new()
                        .add("size", p.size_kib)
                        .add("unit", "KiB")
                        .opt("nodeset", p.nodeset.as_ref());
                    w.empty("page", a);
                }
            });
        }
        if m.nosharepages {
            w.empty("nosharepages", Attrs::new());
        }
        if m.locked {
            w.empty("locked", Attrs::new());
        }
        if let Some(s) = m.source {
            w.empty("source", Attrs::new().add("type", s.as_str()));
        }
        if let Some(a) = m.access {
            w.empty("access", Attrs::new().add("mode", a.as_str()));
        }
        if let Some(a) = m.allocation {
            let attrs = Attrs::new()
                .opt("mode", a.mode.map(|m| m.as_str()))
                .opt("threads", a.threads);
            w.empty("allocation", attrs);
        }
        if m.discard {
            w.empty("discard", Attrs::new());
        }
    });
}

/// `thread_pool_min` and `thread_pool_max` of `pool`.
fn pool_attrs(a: Attrs, pool: Option<crate::model::ThreadPool>) -> Attrs {
    let pool = pool.unwrap_or_default();
    a.opt("thread_pool_min", pool.min)
        .opt("thread_pool_max", pool.max)
}

/// `<iothreads>`, `<cputune>`, `<numatune>` and `<resource>`, after
/// `<vcpu>`.
pub(super) fn after_vcpu(w: &mut XmlWriter, def: &DomainDef) {
    if let Some(n) = def.iothreads {
        w.text("iothreads", Attrs::new(), &n.to_string());
    }
    if let Some(ids) = &def.iothread_ids {
        w.open("iothreadids", Attrs::new());
        for id in ids {
            let pool = def.thread_pools.iothreads.get(id).copied();
            w.empty("iothread", pool_attrs(Attrs::new().add("id", id), pool));
        }
        w.close("iothreadids");
    }
    if let Some(pool) = def.thread_pools.default {
        w.empty("defaultiothread", pool_attrs(Attrs::new(), Some(pool)));
    }
    if let Some(t) = &def.cputune {
        element(w, "cputune", Attrs::new(), !t.is_empty(), |w| {
            for (name, v) in [("shares", t.shares), ("period", t.period)] {
                if let Some(v) = v {
                    w.text(name, Attrs::new(), &v.to_string());
                }
            }
            if let Some(q) = t.quota {
                w.text("quota", Attrs::new(), &q.to_string());
            }
            if let Some(p) = t.emulator_period {
                w.text("emulator_period", Attrs::new(), &p.to_string());
            }
            if let Some(q) = t.emulator_quota {
                w.text("emulator_quota", Attrs::new(), &q.to_string());
            }
            for (name, p, q) in [
                ("global", t.global_period, t.global_quota),
                ("iothread", t.iothread_period, t.iothread_quota),
            ] {
                if let Some(p) = p {
                    w.text(&format!("{name}_period"), Attrs::new(), &p.to_string());
                }
                if let Some(q) = q {
                    w.text(&format!("{name}_quota"), Attrs::new(), &q.to_string());
                }
            }
            for (vcpu, set) in &t.vcpupins {
                w.empty("vcpupin", Attrs::new().add("vcpu", vcpu).add("cpuset", set));
            }
            if let Some(set) = &t.emulatorpin {
                w.empty("emulatorpin", Attrs::new().add("cpuset", set));
            }
            for (thread, set) in &t.iothreadpins {
                w.empty(
                    "iothreadpin",
                    Attrs::new().add("iothread", thread).add("cpuset", set),
                );
            }
            let sched = |a: Attrs, policy: SchedPolicy, priority: Option<i32>| {
                a.add("scheduler", policy.as_str())
                    .opt("priority", priority)
            };
            for s in &t.vcpuscheds {
                let a = sched(Attrs::new().add("vcpus", &s.ids), s.policy, s.priority);
                w.empty("vcpusched", a);
            }
            for s in &t.iothreadscheds {
                let a = sched(Attrs::new().add("iothreads", &s.ids), s.policy, s.priority);
                w.empty("iothreadsched", a);
            }
            if let Some((policy, priority)) = t.emulatorsched {
                w.empty("emulatorsched", sched(Attrs::new(), policy, priority));
            }
        });
    }
    if let Some(n) = &def.numatune {
        let children = n.memory.is_some() || !n.memnodes.is_empty();
        element(w, "numatune", Attrs::new(), children, |w| {
            if let Some(m) = &n.memory {
                let a = Attrs::new()
                    .opt("mode", m.mode.map(|m| m.as_str()))
                    .opt("nodeset", m.nodeset.as_ref())
                    .opt("placement", m.placement.map(|p| p.as_str()));
                w.empty("memory", a);
            }
            for m in &n.memnodes {
                let a = Attrs::new()
                    .add("cellid", m.cellid)
                    .opt("mode", m.mode.map(|m| m.as_str()))
                    .add("nodeset", &m.nodeset);
                w.empty("memnode", a);
            }
        });
    }
    if let Some(p) = &def.partition {
        w.open("resource", Attrs::new());
        w.text("partition", Attrs::new(), p);
        w.close("resource");
    }
    if !def.fw_cfg.is_empty() {
        w.open("sysinfo", Attrs::new().add("type", "fwcfg"));
        for f in &def.fw_cfg {
            let a = Attrs::new().add("name", &f.name);
            match (&f.value, &f.file) {
                (Some(v), _) => w.text("entry", a, v),
                (None, file) => w.empty("entry", a.opt("file", file.as_ref())),
            }
        }
        w.close("sysinfo");
    }
    if let Some(s) = &def.sysinfo {
        let children = !s.blocks.is_empty() || !s.oem_strings.is_empty();
        element(
            w,
            "sysinfo",
            Attrs::new().add("type", "smbios"),
            children,
            |w| {
                for (block, entries) in &s.blocks {
                    element(w, block.as_str(), Attrs::new(), !entries.is_empty(), |w| {
                        for (name, value) in entries {
                            w.text("entry", Attrs::new().add("name", name), value);
                        }
                    });
                }
                if !s.oem_strings.is_empty() {
                    w.open("oemStrings", Attrs::new());
                    for v in &s.oem_strings {
                        w.text("entry", Attrs::new(), v);
                    }
                    w.close("oemStrings");
                }
            },
        );
    }
}

/// `<cpu><numa>`: the cells with their distances and caches, then the
/// interconnects.
pub(super) fn numa(w: &mut XmlWriter, cells: &[NumaCell], links: &[NumaInterconnect]) {
    if cells.is_empty() {
        return;
    }
    w.open("numa", Attrs::new());
    for c in cells {
        let a = Attrs::new()
            .add("id", c.id)
            .opt("cpus", c.cpus.as_ref())
            .add("memory", c.memory_kib)
            .add("unit", "KiB")
            .opt("memAccess", c.mem_access.map(|m| m.as_str()))
            .opt("discard", c.discard.map(yes_no));
        if c.distances.is_empty() && c.caches.is_empty() {
            w.empty("cell", a);
            continue;
        }
        w.open("cell", a);
        if !c.distances.is_empty() {
            w.open("distances", Attrs::new());
            for (id, value) in &c.distances {
                w.empty("sibling", Attrs::new().add("id", id).add("value", value));
            }
            w.close("distances");
        }
        for k in &c.caches {
            let a = Attrs::new()
                .add("level", k.level)
                .add("associativity", k.associativity.as_str())
                .add("policy", k.policy.as_str());
            w.open("cache", a);
            w.empty(
                "size",
                Attrs::new().add("value", k.size_kib).add("unit", "KiB"),
            );
            w.empty(
                "line",
                Attrs::new().add("value", k.line_bytes).add("unit", "B"),
            );
            w.close("cache");
        }
        w.close("cell");
    }
    if !links.is_empty() {
        w.open("interconnects", Attrs::new());
        for l in links {
            let a = Attrs::new()
                .add("initiator", l.initiator)
                .add("target", l.target)
                .opt("cache", l.cache)
                .add("type", l.access.as_str())
                .add("value", l.value);
            match l.kind {
                NumaInterconnectKind::Latency => w.empty("latency", a),
                NumaInterconnectKind::Bandwidth => w.empty("bandwidth", a.add("unit", "KiB")),
            }
        }
        w.close("interconnects");
    }
    w.close("numa");
}

/// `<seclabel>` and the `qemu:` elements, after `<devices>`.
pub(super) fn after_devices(w: &mut XmlWriter, def: &DomainDef) {
    for s in &def.seclabels {
        let a = Attrs::new()
            .add("type", if s.dynamic { "dynamic" } else { "none" })
            .opt("model", s.model.as_ref())
            .opt("relabel", s.relabel.map(super::yes_no));
        w.empty("seclabel", a);
    }
    if let Some(LaunchSecurity::Sev(s)) = &def.launch_security {
        let a = Attrs::new()
            .add("type", "sev")
            .opt("kernelHashes", s.kernel_hashes.map(yes_no));
        w.open("launchSecurity", a);
        w.text("cbitpos", Attrs::new(), &s.cbitpos.to_string());
        w.text(
            "reducedPhysBits",
            Attrs::new(),
            &s.reduced_phys_bits.to_string(),
        );
        w.text("policy", Attrs::new(), &format!("0x{:04x}", s.policy));
        if let Some(d) = &s.dh_cert {
            w.text("dhCert", Attrs::new(), d);
        }
        if let Some(x) = &s.session {
            w.text("session", Attrs::new(), x);
        }
        w.close("launchSecurity");
    }
    qemu(w, &def.qemu);
}

fn qemu(w: &mut XmlWriter, q: &QemuExtras) {
    if !q.args.is_empty() || !q.env.is_empty() {
        w.open("qemu:commandline", Attrs::new());
        for a in &q.args {
            w.empty("qemu:arg", Attrs::new().add("value", a));
        }
        for (name, value) in &q.env {
            w.empty(
                "qemu:env",
                Attrs::new().add("name", name).opt("value", value.as_ref()),
            );
        }
        w.close("qemu:commandline");
    }
    if !q.caps_add.is_empty() || !q.caps_del.is_empty() {
        w.open("qemu:capabilities", Attrs::new());
        for c in &q.caps_add {
            w.empty("qemu:add", Attrs::new().add("capability", c));
        }
        for c in &q.caps_del {
            w.empty("qemu:del", Attrs::new().add("capability", c));
        }
        w.close("qemu:capabilities");
    }
    if !q.overrides.is_empty() {
        w.open("qemu:override", Attrs::new());
        for d in &q.overrides {
            w.open("qemu:device", Attrs::new().add("alias", &d.alias));
            w.open("qemu:frontend", Attrs::new());
            for p in &d.props {
                let a = Attrs::new()
                    .add("name", &p.name)
                    .add("type", &p.kind)
                    .opt("value", p.value.as_ref());
                w.empty("qemu:property", a);
            }
            w.close("qemu:frontend");
            w.close("qemu:device");
        }
        w.close("qemu:override");
    }
    if let Some(b) = q.deprecation {
        w.empty("qemu:deprecation", Attrs::new().add("behavior", b.as_str()));
    }
}
