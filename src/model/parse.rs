//! Reading domain XML into a [`DomainDef`].
//!
//! The reader is strict: an element, attribute or value it does not
//! understand is an error naming it and its `line:column`, so a document
//! never silently describes a different VM than the one qvirt runs. It
//! notes every such part and carries on, so that one error names them
//! all. The exceptions are `<metadata>` (kept verbatim) and a few values
//! libvirt writes that change nothing for the guest (a running device's
//! `<alias>` other than a user's `ua-` one, the running `id` of a
//! domain, the pty `tty` attribute, the default serial target `<model>`,
//! an address-less `<listen type='address'/>`, `name='qemu'` on a
//! `<driver>`, a channel's running `state`); each is noted where it is
//! read. Limits are checked before any parsing.

mod chardev;
mod devices;
mod disk;
mod disk_source;
mod el;
mod hostdev;
mod iotune;
mod launch;
mod machine;
mod net;
mod net_host;
mod net_socket;
mod numa;
mod peripherals;
mod raw;
pub(crate) mod secret;
mod smartcard;
pub(crate) mod snapshot;
pub(crate) mod storage;
mod tpm;
mod tuning;

use roxmltree::{Document, ParsingOptions};
use uuid::Uuid;

use super::units::{SizeError, size_to_kib};
use super::{
    DomainDef, IndividualVcpus, LifecycleAction, MAX_XML_BYTES, MAX_XML_DEPTH, ModelError,
    ModelErrorKind, Pm, QEMU_NAMESPACE, QemuExtras, Vcpu, VirtType,
};
use el::{Diag, El, R, Radix, invalid, parse_uint, push, set};

pub(crate) use raw::check_metadata;

/// Parses a domain document (without the cross-field checks of
/// `validate`).
pub(crate) fn parse_domain(xml: &str) -> Result<DomainDef, ModelError> {
    if xml.len() > MAX_XML_BYTES {
        return Err(ModelError::new(
            ModelErrorKind::TooLarge,
            format!(
                "document is {} bytes, more than the limit of {MAX_XML_BYTES}",
                xml.len()
            ),
        ));
    }
    // Depth and width are refused on the raw bytes before any tree exists:
    // everything after the parser walks the tree, and the parser's cost
    // grows with the square of an element's attributes.
    if let Some(what) = raw::prescan(xml.as_bytes(), MAX_XML_DEPTH) {
        return Err(ModelError::new(ModelErrorKind::TooLarge, what));
    }
    let opts = ParsingOptions {
        allow_dtd: false,
        ..ParsingOptions::default()
    };
    let diag = Diag::default();
    let doc = Document::parse_with_options(xml, opts).map_err(|e| {
        let p = e.pos();
        let what = match e {
            roxmltree::Error::DtdDetected => {
                "document type declarations (<!DOCTYPE>) are not accepted".to_string()
            }
            other => other.to_string(),
        };
        ModelError::new(
            ModelErrorKind::InvalidXml,
            format!("malformed XML at {}:{}: {what}", p.row, p.col),
        )
    })?;
    let root = El::new(doc.root_element(), &diag);
    if root.node.tag_name().namespace().is_some() || root.name() != "domain" {
        return Err(ModelError::new(
            ModelErrorKind::InvalidXml,
            format!(
                "the root element is <{}>, expected <domain>",
                el::qname(root.node)
            ),
        ));
    }
    // The unsupported parts come first: an error after them may only be a
    // consequence of leaving one out.
    let result = domain(root, xml);
    match diag.error() {
        Some(e) => Err(e),
        None => result,
    }
}

fn domain(root: El, xml: &str) -> R<DomainDef> {
    // `id` is the number of a running domain, not part of its definition.
    root.allow(&["type", "id"])?;
    root.req("type")?;
    let virt_type = root
        .choice("type", &[("kvm", VirtType::Kvm), ("qemu", VirtType::Qemu)])?
        .unwrap_or(VirtType::Qemu);
    root.u32("id", Radix::Dec)?;
    let (mut name, mut uuid_v, mut title, mut description) = (None, None, None, None);
    let (mut metadata, mut memory_kib, mut current_memory_kib) = (None, None, None);
    let (mut vcpu_v, mut os_v, mut features_v, mut clock_v) = (None, None, None, None);
    let (mut pm_v, mut cpu_v, mut devices_v) = (None, None, None);
    let (mut on_poweroff, mut on_reboot, mut on_crash) = (None, None, None);
    let (mut backing, mut max_memory, mut iothreads, mut cputune) = (None, None, None, None);
    let (mut numatune, mut resource, mut sysinfo) = (None, None, None);
    let (mut genid, mut memtune, mut blkiotune) = (None, None, None);
    let (mut fw_cfg, mut dump_core) = (None, None);
    let (mut launch_security, mut perf) = (None, None);
    let mut seclabels: Vec<crate::model::SecLabel> = Vec::new();
    let mut iothread_ids: Option<(Vec<u32>, _)> = None;
    let mut default_pool = None;
    let mut qemu = QemuExtras::default();
    let mut vcpus_e = None;
    for c in root.all_children()? {
        match c.node.tag_name().namespace() {
            None => {}
            Some(QEMU_NAMESPACE) => {
                c.read(|c| tuning::qemu_element(c, &mut qemu))?;
                continue;
            }
            Some(_) => {
                c.skip()?;
                continue;
            }
        }
        match c.name() {
            "name" => set(&mut name, c, |c| c.plain_text())?,
            "uuid" => set(&mut uuid_v, c, uuid)?,
            "genid" => set(&mut genid, c, |c| {
                if c.plain_text()?.trim().is_empty() {
                    Ok(Uuid::new_v4())
                } else {
                    uuid(c)
                }
            })?,
            "title" => set(&mut title, c, optional_text)?,
            "description" => set(&mut description, c, optional_text)?,
            "metadata" => set(&mut metadata, c, |c| raw::metadata(c, xml))?,
            "memory" => set(&mut memory_kib, c, |c| {
                c.allow(&["unit", "dumpCore"])?;
                dump_core = c.on_off("dumpCore")?;
                memory_kib_of(c)
            })?,
            "currentMemory" => set(&mut current_memory_kib, c, memory)?,
            "vcpu" => set(&mut vcpu_v, c, vcpu)?,
            "vcpus" if vcpus_e.is_some() => return Err(c.duplicate()),
            "vcpus" => vcpus_e = Some(c),
            "os" => set(&mut os_v, c, machine::os)?,
            "features" => set(&mut features_v, c, machine::features)?,
            "clock" => set(&mut clock_v, c, machine::clock)?,
            "pm" => set(&mut pm_v, c, pm)?,
            "cpu" => set(&mut cpu_v, c, machine::cpu)?,
            "on_poweroff" => set(&mut on_poweroff, c, lifecycle)?,
            "on_reboot" => set(&mut on_reboot, c, lifecycle)?,
            "on_crash" => set(&mut on_crash, c, lifecycle)?,
            "devices" => set(&mut devices_v, c, devices::devices)?,
            "memoryBacking" => set(&mut backing, c, tuning::memory_backing)?,
            "memtune" => set(&mut memtune, c, |c| tuning::memtune(c, memory))?,
            "blkiotune" => set(&mut blkiotune, c, tuning::blkiotune)?,
            "maxMemory" => set(&mut max_memory, c, tuning::max_memory)?,
            "iothreads" => set(&mut iothreads, c, |c| c.u32_text())?,
            "iothreadids" => set(&mut iothread_ids, c, tuning::iothreadids)?,
            "defaultiothread" => set(&mut default_pool, c, |c| {
                c.allow(&["thread_pool_min", "thread_pool_max"])?;
                c.empty()?;
                tuning::thread_pool(c)
            })?,
            "cputune" => set(&mut cputune, c, tuning::cputune)?,
            "numatune" => set(&mut numatune, c, tuning::numatune)?,
            "resource" => set(&mut resource, c, tuning::resource)?,
            "sysinfo" if c.get("type") == Some("fwcfg") => {
                set(&mut fw_cfg, c, tuning::fw_cfg)?;
            }
            "sysinfo" => set(&mut sysinfo, c, tuning::sysinfo)?,
            "seclabel" => push(&mut seclabels, c, tuning::seclabel)?,
            "launchSecurity" => set(&mut launch_security, c, launch::launch_security)?,
            "perf" => set(&mut perf, c, launch::perf)?,
            _ => c.skip()?,
        }
    }
    let missing = |what: &str| invalid(format!("missing <{what}> in <domain>"));
    if let Some(node) = vcpus_e {
        let v = vcpu_v.get_or_insert(Vcpu {
            max: 1,
            current: None,
            cpuset: None,
            placement: None,
            individual: None,
        });
        node.read(|c| vcpus(c, v))?;
    }
    // As libvirt's post-parse: with guest NUMA cells the memory is theirs
    // (plus what memory devices add), whatever <memory> says or if absent.
    let cell_kib: u64 = cpu_v
        .as_ref()
        .map(|c: &crate::model::Cpu| c.numa.iter().map(|n| n.memory_kib).sum())
        .unwrap_or(0);
    if cell_kib > 0 {
        let dimms: u64 = devices_v
            .as_ref()
            .map(|d: &crate::model::Devices| d.memories.iter().map(|m| m.size_kib).sum())
            .unwrap_or(0);
        let total = cell_kib.saturating_add(dimms);
        memory_kib = Some(total);
        // ... and a balloon target above it is that memory.
        if current_memory_kib.is_some_and(|c| c > total) {
            current_memory_kib = Some(total);
        }
    }
    tuning::post_parse(&mut backing, &mut numatune, cell_kib > 0);
    Ok(DomainDef {
        virt_type,
        name: name.ok_or_else(|| missing("name"))?,
        uuid: uuid_v.unwrap_or_else(Uuid::new_v4),
        title: title.flatten(),
        description: description.flatten(),
        metadata: metadata.flatten(),
        max_memory,
        memory_backing: backing.map(Box::new),
        memtune: memtune.flatten(),
        blkiotune: blkiotune.flatten().map(Box::new),
        // libvirt counts the listed threads when <iothreads> says fewer.
        iothreads: match (&iothread_ids, iothreads) {
            (Some((ids, _)), n) if n.is_none_or(|n| (n as usize) < ids.len()) => {
                Some(ids.len() as u32)
            }
            (_, n) => n,
        },
        thread_pools: crate::model::ThreadPools {
            iothreads: iothread_ids
                .as_mut()
                .map(|(_, pools)| std::mem::take(pools))
                .unwrap_or_default(),
            // libvirt drops a <defaultiothread> that sets neither bound.
            default: default_pool.filter(|p: &crate::model::ThreadPool| *p != Default::default()),
        },
        iothread_ids: iothread_ids.map(|(ids, _)| ids),
        cputune: cputune.map(Box::new),
        numatune: numatune.map(Box::new),
        partition: resource.flatten(),
        sysinfo: sysinfo.map(Box::new),
        fw_cfg: fw_cfg.unwrap_or_default(),
        genid,
        seclabels: tuning::one_per_model(seclabels)?,
        launch_security,
        perf: perf.unwrap_or_default(),
        qemu,
        memory_kib: memory_kib.ok_or_else(|| missing("memory"))?,
        dump_core,
        current_memory_kib,
        vcpu: vcpu_v.unwrap_or(Vcpu {
            max: 1,
            current: None,
            cpuset: None,
            placement: None,
            individual: None,
        }),
        os: os_v.ok_or_else(|| missing("os"))?,
        features: features_v.unwrap_or_default(),
        clock: clock_v,
        pm: pm_v.unwrap_or_default(),
        cpu: cpu_v.map(Box::new),
        on_poweroff: on_poweroff.unwrap_or(LifecycleAction::Destroy),
        on_reboot: on_reboot.unwrap_or(LifecycleAction::Restart),
        on_crash: on_crash.unwrap_or(LifecycleAction::Destroy),
        devices: devices_v.unwrap_or_default(),
    })
}

/// Text with no attributes that libvirt reads as absent when empty.
fn optional_text(e: El) -> R<Option<String>> {
    let t = e.plain_text()?;
    Ok((!t.is_empty()).then_some(t))
}

fn uuid(e: El) -> R<Uuid> {
    let t = e.plain_text()?;
    let s = t.trim_matches(|c: char| c.is_ascii_whitespace());
    let hex = |s: &str| s.bytes().all(|b| b.is_ascii_hexdigit());
    // The schema's two spellings; the uuid crate alone also takes braces
    // and URNs.
    let shaped = (s.len() == 32 && hex(s))
        || (s.len() == 36
            && s.char_indices()
                .all(|(i, c)| matches!(i, 8 | 13 | 18 | 23) == (c == '-'))
            && hex(&s.replace('-', "")));
    match Uuid::parse_str(s) {
        Ok(u) if shaped => Ok(u),
        _ => Err(e.bad_text(
            ModelErrorKind::Invalid,
            &t,
            "expected a UUID such as 'c7a5fdbd-edaf-9455-926a-d65c16db1809'",
        )),
    }
}

/// A size element with an optional `unit`, in KiB.
fn memory(e: El) -> R<u64> {
    e.allow(&["unit"])?;
    memory_kib_of(e)
}

/// The size of a memory element whose attributes the caller allows.
fn memory_kib_of(e: El) -> R<u64> {
    let t = e.text()?;
    size_to_kib(&t, e.get("unit")).map_err(|why| match why {
        SizeError::UnknownUnit => e.bad_value(ModelErrorKind::Invalid, "unit", "unknown unit"),
        SizeError::BadNumber => {
            e.bad_text(ModelErrorKind::Invalid, &t, "expected an unsigned number")
        }
        SizeError::Overflow => e.bad_text(ModelErrorKind::Invalid, &t, "size value too large"),
    })
}

fn vcpu(e: El) -> R<Vcpu> {
    e.allow(&["placement", "current", "cpuset"])?;
    // libvirt writes the default, static, out: it reads back as unset.
    let placement = e
        .word("placement")?
        .filter(|p| *p != crate::model::Placement::Static);
    let current = e.u32("current", Radix::Dec)?;
    let cpuset = e.get("cpuset").map(str::to_string);
    let t = e.text()?;
    let max = parse_uint(&t, Radix::Dec)
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| e.bad_text(ModelErrorKind::Invalid, &t, "expected a vCPU count"))?;
    Ok(Vcpu {
        max,
        current,
        cpuset,
        placement,
        individual: None,
    })
}

/// `<vcpus>`: libvirt takes the vCPUs listed there as the truth about
/// which are online; the count becomes `current`. The shapes QEMU cannot
/// start are refused by name.
fn vcpus(e: El, vcpu: &mut Vcpu) -> R<()> {
    e.allow(&[])?;
    let max = vcpu.max as usize;
    // Per vCPU id: enabled, hotpluggable, order.
    type Listed = (bool, Option<bool>, Option<u32>);
    let mut seen: Vec<Option<Listed>> = vec![None; max];
    for c in e.children()? {
        if c.name() != "vcpu" {
            c.skip()?;
            continue;
        }
        c.allow(&["id", "enabled", "hotpluggable", "order"])?;
        c.empty()?;
        c.req("id")?;
        c.req("enabled")?;
        let id = c.u32("id", Radix::Dec)?.unwrap_or(0) as usize;
        if id >= max {
            return Err(c.bad_value(
                ModelErrorKind::Invalid,
                "id",
                "vcpu id is out of range of maximum vcpu count",
            ));
        }
        if seen[id].is_some() {
            return Err(c.duplicate());
        }
        seen[id] = Some((
            c.yes_no("enabled")?.unwrap_or(false),
            c.yes_no("hotpluggable")?,
            c.u32("order", Radix::Dec)?,
        ));
    }
    let bad = |why: String| invalid(format!("<vcpus> at {}: {why}", e.at()));
    // libvirt's rules (qemuDomainDefVcpusPostParse).
    let first = seen[0].unwrap_or((false, None, None));
    if !first.0 {
        return Err(bad("vcpu 0 can't be offline".into()));
    }
    if first.1 == Some(true) {
        return Err(bad("vcpu0 can't be hotpluggable".into()));
    }
    let ordered = first.2.is_some_and(|o| o != 0);
    let mut boot = 0usize;
    let mut plugged: Vec<(u32, u32)> = Vec::new();
    let mut last_order = 0;
    for (id, v) in seen.iter().enumerate() {
        let (enabled, hotpluggable, order) = v.unwrap_or((false, None, None));
        let order = order.filter(|o| *o != 0);
        if enabled && order.is_some() != ordered {
            return Err(bad("all vcpus must have either set or unset order".into()));
        }
        let fixed = enabled && hotpluggable != Some(true);
        if fixed {
            if boot != id {
                return Err(bad(
                    "online non-hotpluggable vcpus need to be ordered prior to hotplugable vcpus"
                        .into(),
                ));
            }
            if let Some(o) = order {
                if o < last_order {
                    return Err(bad(
                        "online non-hotpluggable vcpus must be ordered in ascending order".into(),
                    ));
                }
                last_order = o;
            }
            boot += 1;
        } else if enabled {
            plugged.push((order.unwrap_or(0), id as u32));
        } else if hotpluggable == Some(false) {
            return Err(bad(format!(
                "vcpu {id} is disabled and not hotpluggable: it could never come online"
            )));
        }
    }
    // Plugged in their order (by id where none is given).
    plugged.sort();
    // As libvirt writes it: no `current` when all of them are online.
    let online = (boot + plugged.len()) as u32;
    vcpu.current = (online < vcpu.max).then_some(online);
    vcpu.individual = Some(IndividualVcpus {
        ordered,
        hotplugged: plugged.into_iter().map(|(_, id)| id).collect(),
    });
    Ok(())
}

fn pm(e: El) -> R<Pm> {
    e.allow(&[])?;
    let (mut mem, mut disk) = (None, None);
    for c in e.children()? {
        let slot = match c.name() {
            "suspend-to-mem" => &mut mem,
            "suspend-to-disk" => &mut disk,
            _ => {
                c.skip()?;
                continue;
            }
        };
        set(slot, c, |c| {
            c.allow(&["enabled"])?;
            c.empty()?;
            c.req("enabled")?;
            Ok(c.yes_no("enabled")?.unwrap_or(false))
        })?;
    }
    Ok(Pm {
        suspend_to_mem: mem,
        suspend_to_disk: disk,
    })
}

fn lifecycle(e: El) -> R<LifecycleAction> {
    let t = e.plain_text()?;
    match t.trim_matches(|c: char| c.is_ascii_whitespace()) {
        "destroy" => Ok(LifecycleAction::Destroy),
        "restart" => Ok(LifecycleAction::Restart),
        "preserve" => Ok(LifecycleAction::Preserve),
        _ => Err(e.bad_text(
            ModelErrorKind::Unsupported,
            &t,
            "expected destroy, restart or preserve",
        )),
    }
}
