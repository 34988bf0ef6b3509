//! Reading how the domain uses the host: `<memoryBacking>`,
//! `<maxMemory>`, `<iothreads>`, `<cputune>`, `<numatune>`,
//! `<resource>` (`<cpu><numa>` is `numa`'s); and what it shows the guest
//! or asks of the manager: `<sysinfo>`, `<seclabel>`, the `qemu:`
//! namespace.

use std::collections::BTreeMap;

use super::el::{El, R, Radix, invalid, qname, set, unsupported};
use crate::model::units::{parse_cpuset, size_to_kib};
use crate::model::{
    CpuTune, DeviceOverride, FwCfgEntry, HugePage, MaxMemory, MemNode, MemoryAllocation,
    MemoryBacking, ModelErrorKind, NumaMemory, NumaTune, OverrideProperty, Placement,
    QEMU_NAMESPACE, QemuExtras, SchedPolicy, SecLabel, SmbiosBlock, Sysinfo, ThreadPool,
    ThreadSched, words::Word,
};

/// An empty marker element with no attributes.
fn marker(e: El) -> R<bool> {
    e.allow(&[])?;
    e.empty()?;
    Ok(true)
}

/// A size attribute with a unit attribute beside it, in KiB.
pub(super) fn size_attr(e: El, name: &str, unit_attr: &str) -> R<Option<u64>> {
    let Some(v) = e.get(name) else {
        return Ok(None);
    };
    size_to_kib(v, e.get(unit_attr))
        .map(Some)
        .map_err(|_| e.bad_value(ModelErrorKind::Invalid, name, "expected a size"))
}

/// `<blkiotune>`; `None` when it sets nothing. Weights are 100 to 1000
/// (0, libvirt's "unset", reads as unset); a device path appears once.
pub(super) fn blkiotune(e: El) -> R<Option<crate::model::BlkioTune>> {
    e.allow(&[])?;
    let weight_of = |c: El| -> R<Option<u32>> {
        let w = c.u32_text()?;
        match w {
            0 => Ok(None),
            100..=1000 => Ok(Some(w)),
            _ => Err(invalid(format!(
                "blkio weight {w} at {} is out of range: 100 to 1000",
                c.at()
            ))),
        }
    };
    let mut t = crate::model::BlkioTune::default();
    let mut weight = None;
    for c in e.children()? {
        match c.name() {
            "weight" => set(&mut weight, c, weight_of)?,
            "device" => {
                let Some(d) = c.read(|c| {
                    c.allow(&[])?;
                    let mut d = crate::model::BlkioDevice::default();
                    let (mut path, mut w, mut ri, mut wi, mut rb, mut wb) =
                        (None, None, None, None, None, None);
                    for x in c.children()? {
                        match x.name() {
                            "path" => set(&mut path, x, |x| x.plain_text())?,
                            "weight" => set(&mut w, x, weight_of)?,
                            "read_iops_sec" => set(&mut ri, x, |x| x.u32_text())?,
                            "write_iops_sec" => set(&mut wi, x, |x| x.u32_text())?,
                            "read_bytes_sec" => set(&mut rb, x, |x| x.u64_text())?,
                            "write_bytes_sec" => set(&mut wb, x, |x| x.u64_text())?,
                            _ => x.skip()?,
                        }
                    }
                    d.path = path.ok_or_else(|| {
                        invalid(format!(
                            "missing <path> in blkiotune <device> at {}",
                            c.at()
                        ))
                    })?;
                    d.weight = w.flatten();
                    // libvirt: 0 is "no limit".
                    d.read_iops_sec = ri.filter(|v| *v > 0);
                    d.write_iops_sec = wi.filter(|v| *v > 0);
                    d.read_bytes_sec = rb.filter(|v| *v > 0);
                    d.write_bytes_sec = wb.filter(|v| *v > 0);
                    Ok(d)
                })?
                else {
                    continue;
                };
                if t.devices.iter().any(|o| o.path == d.path) {
                    return Err(invalid(format!(
                        "duplicate blkio device path '{}' at {}",
                        d.path,
                        c.at()
                    )));
                }
                t.devices.push(d);
            }
            _ => c.skip()?,
        }
    }
    t.weight = weight.flatten();
    Ok((t != crate::model::BlkioTune::default()).then_some(t))
}

/// `<memtune>` with `size` reading one limit in KiB; `None` when every
/// limit is unlimited. libvirt's QEMU driver refuses `<min_guarantee>`.
pub(super) fn memtune(e: El, size: fn(El) -> R<u64>) -> R<Option<crate::model::MemTune>> {
    e.allow(&[])?;
    let mut t = crate::model::MemTune::default();
    let (mut hard, mut soft, mut swap) = (None, None, None);
    for c in e.children()? {
        match c.name() {
            "hard_limit" => set(&mut hard, c, size)?,
            "soft_limit" => set(&mut soft, c, size)?,
            "swap_hard_limit" => set(&mut swap, c, size)?,
            "min_guarantee" => {
                return Err(super::el::unsupported(format!(
                    "unsupported element <min_guarantee> at {}: parameter 'min_guarantee' is not supported by QEMU",
                    c.at()
                )));
            }
            _ => c.skip()?,
        }
    }
    let limit = |v: Option<u64>| v.filter(|k| *k < crate::model::MemTune::UNLIMITED_KIB);
    t.hard_limit_kib = limit(hard);
    t.soft_limit_kib = limit(soft);
    t.swap_hard_limit_kib = limit(swap);
    if let (Some(h), Some(s)) = (t.hard_limit_kib, t.swap_hard_limit_kib)
        && h > s
    {
        return Err(invalid(format!(
            "memory hard_limit tunable value must be lower than or equal to swap_hard_limit, at {}",
            e.at()
        )));
    }
    Ok((t != crate::model::MemTune::default()).then_some(t))
}

pub(super) fn memory_backing(e: El) -> R<MemoryBacking> {
    e.allow(&[])?;
    let mut m = MemoryBacking::default();
    let (mut huge, mut noshare, mut locked, mut discard) = (None, None, None, None);
    let (mut source, mut access, mut alloc) = (None, None, None);
    for c in e.children()? {
        match c.name() {
            "hugepages" => set(&mut huge, c, |c| {
                c.allow(&[])?;
                let mut pages = Vec::new();
                for p in c.children()? {
                    if p.name() != "page" {
                        p.skip()?;
                        continue;
                    }
                    super::el::push(&mut pages, p, |p| {
                        p.allow(&["size", "unit", "nodeset"])?;
                        p.empty()?;
                        p.req("size")?;
                        Ok(HugePage {
                            size_kib: size_attr(p, "size", "unit")?.unwrap_or(0),
                            nodeset: p.get("nodeset").map(str::to_string),
                        })
                    })?;
                }
                Ok(pages)
            })?,
            "nosharepages" => set(&mut noshare, c, marker)?,
            "locked" => set(&mut locked, c, marker)?,
            "discard" => set(&mut discard, c, marker)?,
            "source" => set(&mut source, c, |c| {
                c.allow(&["type"])?;
                c.empty()?;
                c.req_word("type")
            })?,
            "access" => set(&mut access, c, |c| {
                c.allow(&["mode"])?;
                c.empty()?;
                c.req_word("mode")
            })?,
            "allocation" => set(&mut alloc, c, |c| {
                c.allow(&["mode", "threads"])?;
                c.empty()?;
                Ok(MemoryAllocation {
                    mode: c.word("mode")?,
                    threads: c.u32("threads", Radix::Dec)?,
                })
            })?,
            _ => c.skip()?,
        }
    }
    m.hugepages = huge;
    m.nosharepages = noshare.unwrap_or(false);
    m.locked = locked.unwrap_or(false);
    m.discard = discard.unwrap_or(false);
    m.source = source;
    m.access = access;
    m.allocation = alloc;
    Ok(m)
}

pub(super) fn max_memory(e: El) -> R<MaxMemory> {
    e.allow(&["slots", "unit"])?;
    let slots = e.u32("slots", Radix::Dec)?;
    let kib = {
        let t = e.text()?;
        size_to_kib(&t, e.get("unit"))
            .map_err(|_| e.bad_text(ModelErrorKind::Invalid, &t, "expected a size"))?
    };
    Ok(MaxMemory {
        kib,
        slots: slots.unwrap_or(0),
    })
}

fn pin(c: El, key: &str) -> R<(u32, String)> {
    c.allow(&[key, "cpuset"])?;
    c.empty()?;
    c.req(key)?;
    let n = c.u32(key, Radix::Dec)?.unwrap_or(0);
    Ok((n, c.req("cpuset")?.to_string()))
}

fn signed(c: El) -> R<i64> {
    let t = c.plain_text()?;
    t.trim()
        .parse::<i64>()
        .map_err(|_| c.bad_text(ModelErrorKind::Invalid, &t, "expected a number"))
}

fn unsigned(c: El) -> R<u64> {
    let t = c.plain_text()?;
    super::el::parse_uint(&t, Radix::Dec)
        .ok_or_else(|| c.bad_text(ModelErrorKind::Invalid, &t, "expected an unsigned number"))
}

pub(super) fn cputune(e: El) -> R<CpuTune> {
    e.allow(&[])?;
    let mut t = CpuTune::default();
    let mut emulatorpin = None;
    for c in e.children()? {
        match c.name() {
            "shares" => set(&mut t.shares, c, unsigned)?,
            "period" => set(&mut t.period, c, unsigned)?,
            "quota" => set(&mut t.quota, c, signed)?,
            "emulator_period" => set(&mut t.emulator_period, c, unsigned)?,
            "emulator_quota" => set(&mut t.emulator_quota, c, signed)?,
            "global_period" => set(&mut t.global_period, c, unsigned)?,
            "global_quota" => set(&mut t.global_quota, c, signed)?,
            "iothread_period" => set(&mut t.iothread_period, c, unsigned)?,
            "iothread_quota" => set(&mut t.iothread_quota, c, signed)?,
            "vcpupin" => super::el::push(&mut t.vcpupins, c, |c| pin(c, "vcpu"))?,
            "iothreadpin" => super::el::push(&mut t.iothreadpins, c, |c| pin(c, "iothread"))?,
            "emulatorpin" => set(&mut emulatorpin, c, |c| {
                c.allow(&["cpuset"])?;
                c.empty()?;
                Ok(c.req("cpuset")?.to_string())
            })?,
            "vcpusched" => super::el::push(&mut t.vcpuscheds, c, |c| thread_sched(c, "vcpus"))?,
            "iothreadsched" => {
                super::el::push(&mut t.iothreadscheds, c, |c| thread_sched(c, "iothreads"))?;
            }
            "emulatorsched" => set(&mut t.emulatorsched, c, |c| {
                c.allow(&["scheduler", "priority"])?;
                c.empty()?;
                sched_attrs(&c)
            })?,
            _ => c.skip()?,
        }
    }
    t.emulatorpin = emulatorpin;
    Ok(t)
}

/// `scheduler=` and, for the real-time policies, `priority=` (libvirt
/// reads it for those only).
fn sched_attrs(c: &El) -> R<(SchedPolicy, Option<i32>)> {
    let policy: SchedPolicy = c.req_word("scheduler")?;
    let priority =
        match policy {
            SchedPolicy::Fifo | SchedPolicy::Rr => {
                let p = c.req("priority")?;
                Some(p.trim().parse::<i32>().map_err(|_| {
                    c.bad_value(ModelErrorKind::Invalid, "priority", "not an integer")
                })?)
            }
            _ => None,
        };
    Ok((policy, priority))
}

/// `<vcpusched>` or `<iothreadsched>`: the threads `ids_attr` lists, not
/// empty, and their policy.
fn thread_sched(c: El, ids_attr: &str) -> R<ThreadSched> {
    c.allow(&[ids_attr, "scheduler", "priority"])?;
    c.empty()?;
    let ids = c.req(ids_attr)?.to_string();
    if parse_cpuset(&ids).is_none_or(|l| l.is_empty()) {
        return Err(c.bad_value(
            ModelErrorKind::Invalid,
            ids_attr,
            "not a list of numbers, or an empty one",
        ));
    }
    let (policy, priority) = sched_attrs(&c)?;
    Ok(ThreadSched {
        ids,
        policy,
        priority,
    })
}

pub(super) fn numatune(e: El) -> R<NumaTune> {
    e.allow(&[])?;
    let mut n = NumaTune::default();
    for c in e.children()? {
        match c.name() {
            "memory" => set(&mut n.memory, c, |c| {
                c.allow(&["mode", "nodeset", "placement"])?;
                c.empty()?;
                Ok(NumaMemory {
                    mode: c.word("mode")?,
                    nodeset: c.get("nodeset").map(str::to_string),
                    placement: c.word("placement")?,
                })
            })?,
            "memnode" => super::el::push(&mut n.memnodes, c, |c| {
                c.allow(&["cellid", "mode", "nodeset"])?;
                c.empty()?;
                c.req("cellid")?;
                Ok(MemNode {
                    cellid: c.u32("cellid", Radix::Dec)?.unwrap_or(0),
                    mode: c.word("mode")?,
                    nodeset: c.req("nodeset")?.to_string(),
                })
            })?,
            _ => c.skip()?,
        }
    }
    Ok(n)
}

/// libvirt's post-parse of memory tuning: without guest NUMA cells a
/// `<page nodeset='0'>` is the guest's default page size, and a nodeset
/// beside `placement='auto'` is dropped (numad chooses the nodes).
pub(super) fn post_parse(
    backing: &mut Option<MemoryBacking>,
    numatune: &mut Option<NumaTune>,
    has_cells: bool,
) {
    if !has_cells && let Some(pages) = backing.as_mut().and_then(|b| b.hugepages.as_mut()) {
        for p in pages {
            if p.nodeset.as_deref().and_then(parse_cpuset).as_deref() == Some(&[0]) {
                p.nodeset = None;
            }
        }
    }
    if let Some(m) = numatune.as_mut().and_then(|n| n.memory.as_mut())
        && m.placement == Some(Placement::Auto)
    {
        m.nodeset = None;
    }
}

pub(super) fn resource(e: El) -> R<Option<String>> {
    e.allow(&[])?;
    let mut partition = None;
    for c in e.children()? {
        match c.name() {
            "partition" => set(&mut partition, c, |c| {
                let t = c.plain_text()?;
                Ok(t.trim().to_string())
            })?,
            _ => c.skip()?,
        }
    }
    Ok(partition)
}

/// `<sysinfo type='fwcfg'>`: entries with a name under `opt/` (QEMU's
/// own and the firmware's are refused, as libvirt refuses them) and a
/// text or a file.
pub(super) fn fw_cfg(e: El) -> R<Vec<FwCfgEntry>> {
    e.allow(&["type"])?;
    let mut list: Vec<FwCfgEntry> = Vec::new();
    for x in e.children()? {
        if x.name() != "entry" {
            x.skip()?;
            continue;
        }
        x.allow(&["name", "file"])?;
        let name = x.req("name")?.to_string();
        let why = if !name.starts_with("opt/") {
            Some("Invalid firmware name: fw_cfg entries are named opt/...")
        } else if name.starts_with("opt/ovmf/") || name.starts_with("opt/org.qemu/") {
            Some("That firmware name is reserved")
        } else if list.iter().any(|f| f.name == name) {
            Some("a duplicate fw_cfg entry")
        } else {
            None
        };
        if let Some(why) = why {
            return Err(x.bad_value(ModelErrorKind::Invalid, "name", why));
        }
        let value = x.text()?;
        let file = x.get("file").map(str::to_string);
        let value = (!value.is_empty()).then_some(value);
        if value.is_none() && file.is_none() {
            return Err(invalid(format!(
                "Firmware entry must have either value or 'file' attribute, at {}",
                x.at()
            )));
        }
        // The text wins, as on libvirt's command line.
        let file = file.filter(|_| value.is_none());
        list.push(FwCfgEntry { name, value, file });
    }
    Ok(list)
}

pub(super) fn sysinfo(e: El) -> R<Sysinfo> {
    e.allow(&["type"])?;
    e.req("type")?;
    e.choice("type", &[("smbios", ())])?;
    let mut s = Sysinfo::default();
    let mut oem = None;
    for c in e.children()? {
        if c.name() == "oemStrings" {
            set(&mut oem, c, |c| {
                c.allow(&[])?;
                let mut list = Vec::new();
                for x in c.children()? {
                    if x.name() != "entry" {
                        x.skip()?;
                        continue;
                    }
                    list.push(x.plain_text()?);
                }
                Ok(list)
            })?;
            continue;
        }
        let Some(block) = SmbiosBlock::from_word(c.name()) else {
            c.skip()?;
            continue;
        };
        // libvirt keeps every <baseBoard> (SMBIOS allows several type 2
        // tables); the other blocks are one each.
        if block != SmbiosBlock::BaseBoard && s.blocks.iter().any(|(b, _)| *b == block) {
            return Err(c.duplicate());
        }
        let entries = c.read(|c| {
            c.allow(&[])?;
            let names = crate::model::smbios_entry_names(block);
            let mut list: Vec<(String, String)> = Vec::new();
            for x in c.children()? {
                if x.name() != "entry" {
                    x.skip()?;
                    continue;
                }
                x.allow(&["name"])?;
                let name = x.req("name")?;
                if !names.contains(&name) {
                    return Err(x.bad_value(
                        ModelErrorKind::Invalid,
                        "name",
                        &format!(
                            "the entries of <{}> are {}",
                            block.as_str(),
                            names.join(", ")
                        ),
                    ));
                }
                list.push((name.to_string(), x.text()?));
            }
            Ok(list)
        })?;
        if let Some(entries) = entries {
            s.blocks.push((block, entries));
        }
    }
    s.blocks.sort_by_key(|(b, _)| *b);
    s.oem_strings = oem.unwrap_or_default();
    Ok(s)
}

/// `thread_pool_min` and `thread_pool_max` of `e`.
pub(super) fn thread_pool(e: El) -> R<ThreadPool> {
    Ok(ThreadPool {
        min: e.u32("thread_pool_min", Radix::Dec)?,
        max: e.u32("thread_pool_max", Radix::Dec)?,
    })
}

/// `<iothreadids><iothread id=.../>`: ids from 1, each once, with the
/// pools of those that bound theirs.
pub(super) fn iothreadids(e: El) -> R<(Vec<u32>, BTreeMap<u32, ThreadPool>)> {
    e.allow(&[])?;
    let mut ids = Vec::new();
    let mut pools = BTreeMap::new();
    for c in e.children()? {
        if c.name() != "iothread" {
            c.skip()?;
            continue;
        }
        c.allow(&["id", "thread_pool_min", "thread_pool_max"])?;
        for x in c.children()? {
            x.skip()?;
        }
        c.req("id")?;
        let id = c.u32("id", Radix::Dec)?.unwrap_or(0);
        if id == 0 {
            return Err(c.bad_value(ModelErrorKind::Invalid, "id", "iothread id must not be 0"));
        }
        if ids.contains(&id) {
            return Err(c.bad_value(ModelErrorKind::Invalid, "id", "a duplicate iothread id"));
        }
        ids.push(id);
        let pool = thread_pool(c)?;
        if pool != ThreadPool::default() {
            pools.insert(id, pool);
        }
    }
    Ok((ids, pools))
}

/// libvirt's rule: at most one `<seclabel>` per security model.
pub(super) fn one_per_model(labels: Vec<SecLabel>) -> R<Vec<SecLabel>> {
    for (i, l) in labels.iter().enumerate() {
        if labels[..i].iter().any(|o| o.model == l.model) {
            return Err(invalid(format!(
                "more than one <seclabel> for security model '{}'",
                l.model.as_deref().unwrap_or("(default)")
            )));
        }
    }
    Ok(labels)
}

pub(super) fn seclabel(e: El) -> R<SecLabel> {
    e.allow(&["type", "model", "relabel"])?;
    let kind = e.get("type").unwrap_or("dynamic");
    let model = e
        .choice(
            "model",
            &[
                ("none", "none"),
                ("dac", "dac"),
                ("selinux", "selinux"),
                ("apparmor", "apparmor"),
            ],
        )?
        .map(str::to_string);
    let relabel = e.yes_no("relabel")?;
    match kind {
        "none" => {
            e.empty()?;
            if relabel == Some(true) {
                return Err(invalid(format!(
                    "<seclabel type='none'> at {} cannot relabel",
                    e.at()
                )));
            }
            Ok(SecLabel {
                dynamic: false,
                model,
                relabel: None,
            })
        }
        "dynamic" if relabel == Some(false) => Err(invalid(format!(
            "<seclabel type='dynamic'> at {}: dynamic label type must use resource relabeling",
            e.at()
        ))),
        "dynamic" => {
            // A running domain's dump shows the label chosen; libvirt
            // chooses it again at each start and ignores what is written.
            for c in e.children()? {
                match c.name() {
                    "label" | "imagelabel" => {
                        c.allow(&[])?;
                        c.text()?;
                    }
                    _ => c.skip()?,
                }
            }
            // As libvirt, a model no driver of this host serves is
            // defined, and refused when the domain starts.
            Ok(SecLabel {
                dynamic: true,
                model: Some(model.unwrap_or_else(|| "dac".into())),
                relabel,
            })
        }
        other => Err(unsupported(format!(
            "unsupported <seclabel type='{other}'> at {}: qvirt runs QEMU as the manager's own user and cannot give it a fixed label; use type='dynamic' with model='dac', or type='none'",
            e.at()
        ))),
    }
}

/// A child of `<domain>` in the `qemu:` namespace, read into `q`. Any
/// other element of that namespace is refused by name.
pub(super) fn qemu_element(e: El, q: &mut QemuExtras) -> R<()> {
    let attrs: &[&str] = if e.name() == "deprecation" {
        &["behavior"]
    } else {
        &[]
    };
    e.allow(attrs)?;
    let in_ns = |c: &El| c.node.tag_name().namespace() == Some(QEMU_NAMESPACE);
    match e.name() {
        "commandline" => {
            for c in e.all_children()? {
                if !in_ns(&c) {
                    c.skip()?;
                    continue;
                }
                match c.name() {
                    "arg" => {
                        c.allow(&["value"])?;
                        c.empty()?;
                        q.args.push(c.req("value")?.to_string());
                    }
                    "env" => {
                        c.allow(&["name", "value"])?;
                        c.empty()?;
                        let name = c.req("name")?;
                        let good = name
                            .chars()
                            .next()
                            .is_some_and(|f| f.is_ascii_alphabetic() || f == '_')
                            && name
                                .chars()
                                .all(|ch| ch.is_ascii_alphanumeric() || ch == '_');
                        if !good {
                            return Err(c.bad_value(
                                ModelErrorKind::Invalid,
                                "name",
                                "an environment variable name is letters, digits and '_', not starting with a digit",
                            ));
                        }
                        q.env
                            .push((name.to_string(), c.get("value").map(str::to_string)));
                    }
                    _ => c.skip()?,
                }
            }
        }
        "capabilities" => {
            for c in e.all_children()? {
                if !in_ns(&c) {
                    c.skip()?;
                    continue;
                }
                let list = match c.name() {
                    "add" => &mut q.caps_add,
                    "del" => &mut q.caps_del,
                    _ => {
                        c.skip()?;
                        continue;
                    }
                };
                c.allow(&["capability"])?;
                c.empty()?;
                list.push(c.req("capability")?.to_string());
            }
        }
        "override" => {
            for d in e.all_children()? {
                if !in_ns(&d) || d.name() != "device" {
                    d.skip()?;
                    continue;
                }
                d.allow(&["alias"])?;
                let alias = d.req("alias")?.to_string();
                let mut props = Vec::new();
                for f in d.all_children()? {
                    if !in_ns(&f) || f.name() != "frontend" {
                        f.skip()?;
                        continue;
                    }
                    f.allow(&[])?;
                    for p in f.all_children()? {
                        if !in_ns(&p) || p.name() != "property" {
                            p.skip()?;
                            continue;
                        }
                        p.allow(&["name", "type", "value"])?;
                        p.empty()?;
                        let name = p.req("name")?.to_string();
                        let kind = p.req("type")?;
                        p.choice(
                            "type",
                            &[
                                ("string", ()),
                                ("signed", ()),
                                ("unsigned", ()),
                                ("bool", ()),
                                ("remove", ()),
                            ],
                        )?;
                        let value = p.get("value").map(str::to_string);
                        let bad = |why: &str| p.bad_value(ModelErrorKind::Invalid, "value", why);
                        match (kind, value.as_deref()) {
                            ("remove", Some(_)) => {
                                return Err(bad("a removed property has no value"));
                            }
                            ("remove", None) => {}
                            (_, None) => return Err(bad("missing: only type='remove' has none")),
                            ("signed", Some(v)) if v.parse::<i64>().is_err() => {
                                return Err(bad("not a signed integer"));
                            }
                            ("unsigned", Some(v)) if v.parse::<u64>().is_err() => {
                                return Err(bad("not an unsigned integer"));
                            }
                            ("bool", Some(v)) if v != "true" && v != "false" => {
                                return Err(bad("not 'true' or 'false'"));
                            }
                            _ => {}
                        }
                        props.push(OverrideProperty {
                            name,
                            kind: kind.to_string(),
                            value,
                        });
                    }
                }
                q.overrides.push(DeviceOverride { alias, props });
            }
        }
        "deprecation" => {
            e.empty()?;
            if q.deprecation.is_some() {
                return Err(e.duplicate());
            }
            q.deprecation = Some(e.req_word("behavior")?);
        }
        _ => {
            return Err(unsupported(format!(
                "unsupported element <{}> at {}: of libvirt's QEMU namespace, qvirt reads qemu:commandline, qemu:capabilities, qemu:override and qemu:deprecation",
                qname(e.node),
                e.at()
            )));
        }
    }
    Ok(())
}
