//! Reading the machine as a whole: `<os>`, `<features>`, `<clock>` and
//! `<cpu>`.

use super::el::{El, R, Radix, invalid, set};
use super::optional_text;
use crate::model::{
    Adjustment, BiosOptions, BootDev, BootMenu, Catchup, Clock, ClockOffset, Cpu, CpuCache,
    CpuFeature, CpuMode, CpuModel, CpuTopology, FeaturePolicy, Features, FirmwareFeatureName,
    Hyperv, HypervFlag, KvmFeatures, KvmFlag, Loader, MaxPhysAddr, ModelErrorKind, NetworkSource,
    Nvram, NvramType, Os, PhysAddrMode, Smm, Timer, TimerName,
};

pub(super) fn os(e: El) -> R<Os> {
    e.allow(&["firmware"])?;
    let mut os = Os {
        firmware: e.word("firmware")?,
        ..Os::default()
    };
    let mut kind = None;
    let (mut loader_v, mut nvram_v, mut firmware_v) = (None, None, None);
    let (mut kernel, mut initrd, mut cmdline) = (None, None, None);
    let (mut bootmenu, mut bios, mut smbios) = (None, None, None);
    for c in e.children()? {
        match c.name() {
            "type" => set(&mut kind, c, os_type)?,
            "firmware" => set(&mut firmware_v, c, firmware)?,
            "loader" => set(&mut loader_v, c, loader)?,
            "nvram" => set(&mut nvram_v, c, nvram)?,
            "kernel" => set(&mut kernel, c, optional_text)?,
            "initrd" => set(&mut initrd, c, optional_text)?,
            "cmdline" => set(&mut cmdline, c, optional_text)?,
            "acpi" => set(&mut os.slic_table, c, |c| {
                c.allow(&[])?;
                let mut table = None;
                for t in c.children()? {
                    if t.name() != "table" {
                        t.skip()?;
                        continue;
                    }
                    if table.is_some() {
                        return Err(invalid(format!(
                            "Only one acpi table is supported, at {}",
                            t.at()
                        )));
                    }
                    t.allow(&["type"])?;
                    t.req("type")?;
                    t.choice("type", &[("slic", ())])?;
                    table = Some(t.text()?);
                }
                table.ok_or_else(|| invalid(format!("<acpi> at {} names no table", c.at())))
            })?,
            "bootmenu" => set(&mut bootmenu, c, |c| {
                c.allow(&["enable", "timeout"])?;
                c.empty()?;
                c.req("enable")?;
                let timeout = c.u32("timeout", Radix::Dec)?;
                let timeout = match timeout {
                    None => None,
                    Some(t) => Some(u16::try_from(t).map_err(|_| {
                        c.bad_value(ModelErrorKind::Invalid, "timeout", "at most 65535")
                    })?),
                };
                Ok(BootMenu {
                    enable: c.yes_no("enable")?.unwrap_or(false),
                    timeout,
                })
            })?,
            "bios" => set(&mut bios, c, |c| {
                c.allow(&["useserial", "rebootTimeout"])?;
                c.empty()?;
                let reboot_timeout = match c.get("rebootTimeout") {
                    None => None,
                    Some(v) => Some(v.trim().parse::<i32>().map_err(|_| {
                        c.bad_value(ModelErrorKind::Invalid, "rebootTimeout", "not a number")
                    })?),
                };
                Ok(BiosOptions {
                    useserial: c.yes_no("useserial")?,
                    reboot_timeout,
                })
            })?,
            "smbios" => set(&mut smbios, c, |c| {
                c.allow(&["mode"])?;
                c.empty()?;
                c.req_word("mode")
            })?,
            "boot" => {
                let dev = c.read(|c| {
                    c.allow(&["dev"])?;
                    c.empty()?;
                    c.req_word::<BootDev>("dev")
                })?;
                // libvirt keeps a repeated device; it means nothing more
                // than the first mention.
                os.boot.extend(dev.filter(|d| !os.boot.contains(d)));
            }
            _ => c.skip()?,
        }
    }
    let Some((arch, machine)) = kind else {
        return Err(invalid(format!("missing <type> in <os> at {}", e.at())));
    };
    os.arch = arch;
    os.machine = machine;
    os.firmware_features = firmware_v.unwrap_or_default();
    os.loader = loader_v;
    os.nvram = nvram_v;
    os.kernel = kernel.flatten();
    os.initrd = initrd.flatten();
    os.cmdline = cmdline.flatten();
    os.bootmenu = bootmenu;
    os.bios = bios;
    os.smbios = smbios;
    Ok(os)
}

/// `<type arch= machine=>hvm</type>`: the architecture and machine.
fn os_type(kind: El) -> R<(Option<String>, Option<String>)> {
    kind.allow(&["arch", "machine"])?;
    let t = kind.text()?;
    if t.trim_matches(|c: char| c.is_ascii_whitespace()) != "hvm" {
        return Err(kind.bad_text(
            ModelErrorKind::Unsupported,
            &t,
            "only os type 'hvm' is supported",
        ));
    }
    let arch = kind
        .choice("arch", &[("x86_64", "x86_64"), ("i686", "i686")])?
        .map(str::to_string);
    let machine = kind.get("machine").map(str::to_string);
    Ok((arch, machine))
}

/// `<firmware><feature enabled= name=>...`.
fn firmware(e: El) -> R<std::collections::BTreeMap<FirmwareFeatureName, bool>> {
    e.allow(&[])?;
    let mut out = std::collections::BTreeMap::new();
    for c in e.children()? {
        if c.name() != "feature" {
            c.skip()?;
            continue;
        }
        let read = c.read(|c| {
            c.allow(&["enabled", "name"])?;
            c.empty()?;
            c.req("enabled")?;
            let name = c.req_word::<FirmwareFeatureName>("name")?;
            Ok((name, c.yes_no("enabled")?.unwrap_or(false)))
        })?;
        if let Some((name, enabled)) = read
            && out.insert(name, enabled).is_some()
        {
            return Err(invalid(format!(
                "firmware feature '{}' is given twice, again at {}",
                name.as_str(),
                c.at()
            )));
        }
    }
    Ok(out)
}

fn loader(e: El) -> R<Loader> {
    e.allow(&["readonly", "secure", "type", "stateless", "format"])?;
    let path = e.text()?;
    Ok(Loader {
        path: (!path.is_empty()).then_some(path),
        readonly: e.yes_no("readonly")?,
        secure: e.yes_no("secure")?,
        kind: e.word("type")?,
        stateless: e.yes_no("stateless")?,
        format: e.word("format")?,
    })
}

/// `<nvram>`: the path as text, or with `type` in a `<source>` child
/// (virDomainLoaderDefParseXMLNvram; the text is then not read).
fn nvram(e: El) -> R<Nvram> {
    e.allow(&["template", "templateFormat", "format", "type"])?;
    let template = e.get("template").map(str::to_string);
    let kind = e.word::<NvramType>("type")?;
    let mut network = None;
    let path = match kind {
        None => {
            let path = e.text()?;
            (!path.is_empty()).then_some(path)
        }
        Some(NvramType::Network) => {
            network = Some(network_nvram(e, template.is_some())?);
            None
        }
        Some(kind) => {
            let mut source = None;
            for c in e.children()? {
                if c.name() != "source" {
                    c.skip()?;
                    continue;
                }
                set(&mut source, c, |c| {
                    let attr = match kind {
                        NvramType::Block => "dev",
                        _ => "file",
                    };
                    c.allow(&[attr])?;
                    c.empty()?;
                    c.req(attr)?;
                    Ok(c.get(attr).map(str::to_string))
                })?;
            }
            match source {
                Some(path) => path,
                None => {
                    return Err(invalid(format!(
                        "<nvram type='{}'> at {} needs a <source> naming the store",
                        kind.as_str(),
                        e.at()
                    )));
                }
            }
        }
    };
    Ok(Nvram {
        path,
        template,
        format: e.word("format")?,
        template_format: e.word("templateFormat")?,
        kind,
        network,
    })
}

/// The `<source protocol=...>` of `<nvram type='network'>`, read as a
/// network disk's (virDomainStorageSourceParse). Only what QEMU writes
/// through is taken: an NBD export or an iSCSI LUN, in the clear (no TLS,
/// no encryption layer); the store on the server is the user's to make,
/// so a template would never be used (libvirt ignores it; qvirt says so).
fn network_nvram(e: El, has_template: bool) -> R<NetworkSource> {
    if has_template {
        return Err(e.bad_value(
            ModelErrorKind::Unsupported,
            "template",
            "a network NVRAM store is not made from a template: put a valid variable store on the server",
        ));
    }
    let mut source = None;
    for c in e.children()? {
        if c.name() != "source" {
            c.skip()?;
            continue;
        }
        set(&mut source, c, super::disk::nvram_network_source)?;
    }
    source.ok_or_else(|| {
        invalid(format!(
            "<nvram type='network'> at {} needs a <source protocol=...> naming the store",
            e.at()
        ))
    })
}

pub(super) fn features(e: El) -> R<Features> {
    e.allow(&[])?;
    let mut f = Features::default();
    let mut seen: std::collections::HashSet<&str> = std::collections::HashSet::new();
    for c in e.children()? {
        let name = c.name();
        let known = matches!(
            name,
            "acpi"
                | "apic"
                | "pae"
                | "hap"
                | "pmu"
                | "vmport"
                | "ps2"
                | "vmcoreinfo"
                | "pvspinlock"
                | "smm"
                | "ioapic"
                | "hyperv"
                | "kvm"
                | "tcg"
        );
        if !known {
            c.skip()?;
            continue;
        }
        if !seen.insert(name) {
            return Err(c.duplicate());
        }
        // libvirt reads a switch without `state` as on.
        let switch = |c: El| -> R<Option<bool>> {
            c.allow(&["state"])?;
            c.empty()?;
            Ok(Some(c.on_off("state")?.unwrap_or(true)))
        };
        c.read(|c| {
            match name {
                "acpi" | "pae" => {
                    c.allow(&[])?;
                    c.empty()?;
                    if name == "acpi" {
                        f.acpi = true;
                    } else {
                        f.pae = true;
                    }
                }
                "apic" => {
                    c.allow(&["eoi"])?;
                    c.empty()?;
                    f.apic = true;
                    f.apic_eoi = c.on_off("eoi")?;
                }
                "hap" => f.hap = switch(c)?,
                "pmu" => f.pmu = switch(c)?,
                "vmport" => f.vmport = switch(c)?,
                "ps2" => f.ps2 = switch(c)?,
                "vmcoreinfo" => f.vmcoreinfo = switch(c)?,
                "pvspinlock" => f.pvspinlock = switch(c)?,
                "smm" => f.smm = Some(smm(c)?),
                "ioapic" => {
                    c.allow(&["driver"])?;
                    c.empty()?;
                    c.req("driver")?;
                    f.ioapic = c.word("driver")?;
                }
                "hyperv" => f.hyperv = Some(Box::new(hyperv(c)?)),
                "tcg" => {
                    c.allow(&[])?;
                    let mut size = None;
                    for x in c.children()? {
                        if x.name() == "tb-cache" {
                            set(&mut size, x, super::memory)?;
                        } else {
                            x.skip()?;
                        }
                    }
                    if size.is_some_and(|kib| kib % 1024 != 0) {
                        return Err(invalid(format!(
                            "tb-cache size must be an integer multiple of MiB, at {}",
                            c.at()
                        )));
                    }
                    // libvirt: a zero size is no setting.
                    f.tcg_tb_cache_kib = size.filter(|kib| *kib > 0);
                }
                _ => f.kvm = Some(Box::new(kvm(c)?)),
            }
            Ok(())
        })?;
    }
    Ok(f)
}

fn smm(e: El) -> R<Smm> {
    e.allow(&["state"])?;
    let enabled = e.on_off("state")?.unwrap_or(true);
    let mut tseg = None;
    for c in e.children()? {
        match c.name() {
            "tseg" => set(&mut tseg, c, |c| {
                // libvirt's unit default here is MiB.
                c.allow(&["unit"])?;
                let t = c.text()?;
                let unit = c.get("unit").unwrap_or("MiB");
                crate::model::units::size_to_kib(&t, Some(unit))
                    .map_err(|_| c.bad_text(ModelErrorKind::Invalid, &t, "expected a size"))
            })?,
            _ => c.skip()?,
        }
    }
    if !enabled && tseg.is_some() {
        return Err(invalid(format!(
            "<tseg> at {} needs <smm state='on'>",
            e.at()
        )));
    }
    Ok(Smm {
        enabled,
        tseg_kib: tseg,
    })
}

fn hyperv(e: El) -> R<Hyperv> {
    e.allow(&["mode"])?;
    let mut h = Hyperv {
        mode: e.word("mode")?,
        ..Hyperv::default()
    };
    for c in e.children()? {
        let Some(flag) = crate::model::words::Word::from_word(c.name()) else {
            c.skip()?;
            continue;
        };
        let flag: HypervFlag = flag;
        if h.flags.contains_key(&flag) {
            return Err(c.duplicate());
        }
        let read = c.read(|c| {
            let extra: &[&str] = match flag {
                HypervFlag::Spinlocks => &["state", "retries"],
                HypervFlag::VendorId => &["state", "value"],
                _ => &["state"],
            };
            c.allow(extra)?;
            let on = c.state()?;
            match flag {
                HypervFlag::Stimer => {
                    for d in c.children()? {
                        if d.name() != "direct" {
                            d.skip()?;
                            continue;
                        }
                        set(&mut h.stimer_direct, d, |d| {
                            d.allow(&["state"])?;
                            d.empty()?;
                            d.state()
                        })?;
                    }
                }
                _ => c.empty()?,
            }
            if flag == HypervFlag::Spinlocks && on {
                c.req("retries")?;
                let r = c.u32("retries", Radix::Dec)?.unwrap_or(0);
                if r < 0xFFF {
                    return Err(c.bad_value(
                        ModelErrorKind::Invalid,
                        "retries",
                        "HyperV spinlock retry count must be at least 4095",
                    ));
                }
                h.spinlocks_retries = Some(r);
            }
            if flag == HypervFlag::VendorId && on {
                // libvirt's rule: at most 12 characters, no ','; an empty
                // value is taken (QEMU then shows twelve zero bytes).
                let v = c.req("value")?;
                if v.len() > 12 || v.contains(',') {
                    return Err(c.bad_value(
                        ModelErrorKind::Invalid,
                        "value",
                        "HyperV vendor_id value must be at most 12 characters without ','",
                    ));
                }
                h.vendor_id = Some(v.to_string());
            }
            Ok(on)
        })?;
        if let Some(on) = read {
            h.flags.insert(flag, on);
        }
    }
    Ok(h)
}

fn kvm(e: El) -> R<KvmFeatures> {
    e.allow(&[])?;
    let mut k = KvmFeatures::default();
    for c in e.children()? {
        let Some(flag) = crate::model::words::Word::from_word(c.name()) else {
            c.skip()?;
            continue;
        };
        let flag: KvmFlag = flag;
        if k.flags.contains_key(&flag) {
            return Err(c.duplicate());
        }
        let read = c.read(|c| {
            if flag == KvmFlag::DirtyRing {
                c.allow(&["state", "size"])?;
            } else {
                c.allow(&["state"])?;
            }
            c.empty()?;
            let on = c.state()?;
            if flag == KvmFlag::DirtyRing && on {
                c.req("size")?;
                let size = c.u32("size", Radix::Dec)?.unwrap_or(0);
                if !size.is_power_of_two() || !(1024..=65536).contains(&size) {
                    return Err(c.bad_value(
                        ModelErrorKind::Invalid,
                        "size",
                        "dirty ring must be power of 2 and ranges [1024, 65536]",
                    ));
                }
                k.dirty_ring_size = Some(size);
            }
            Ok(on)
        })?;
        if let Some(on) = read {
            k.flags.insert(flag, on);
        }
    }
    Ok(k)
}

/// A signed number of seconds, as libvirt reads `adjustment`.
fn seconds(e: El, name: &str) -> R<Option<i64>> {
    match e.get(name) {
        None => Ok(None),
        Some(v) => v.trim().parse::<i64>().map(Some).map_err(|_| {
            e.bad_value(
                ModelErrorKind::Invalid,
                name,
                "expected a number of seconds",
            )
        }),
    }
}

pub(super) fn clock(e: El) -> R<Clock> {
    e.allow(&["offset", "adjustment", "basis", "timezone", "start"])?;
    let offset = e.get("offset").unwrap_or("utc");
    let only = |allowed: &[&str]| -> R<()> {
        for a in ["adjustment", "basis", "timezone", "start"] {
            if e.get(a).is_some() && !allowed.contains(&a) {
                return Err(e.bad_value(
                    ModelErrorKind::Invalid,
                    a,
                    &format!("not an attribute of a clock with offset='{offset}'"),
                ));
            }
        }
        Ok(())
    };
    let adjustment = || -> R<Option<Adjustment>> {
        match e.get("adjustment") {
            Some("reset") => Ok(Some(Adjustment::Reset)),
            Some(_) => Ok(seconds(e, "adjustment")?.map(Adjustment::Seconds)),
            None => Ok(None),
        }
    };
    let offset = match offset {
        "utc" => {
            only(&["adjustment"])?;
            ClockOffset::Utc {
                adjustment: adjustment()?,
            }
        }
        "localtime" => {
            only(&["adjustment"])?;
            ClockOffset::Localtime {
                adjustment: adjustment()?,
            }
        }
        "variable" => {
            only(&["adjustment", "basis"])?;
            ClockOffset::Variable {
                adjustment: seconds(e, "adjustment")?.unwrap_or(0),
                basis: e.word("basis")?,
            }
        }
        "timezone" => {
            only(&["timezone"])?;
            let tz = e.req("timezone")?;
            ClockOffset::Timezone(tz.to_string())
        }
        "absolute" => {
            only(&["start"])?;
            e.req("start")?;
            ClockOffset::Absolute {
                start: e.u64("start", Radix::Dec)?.unwrap_or(0),
            }
        }
        _ => return Err(e.bad_value(ModelErrorKind::Unsupported, "offset", "")),
    };
    let mut timers = Vec::new();
    for c in e.children()? {
        if c.name() != "timer" {
            c.skip()?;
            continue;
        }
        super::el::push(&mut timers, c, timer)?;
    }
    Ok(Clock { offset, timers })
}

fn timer(e: El) -> R<Timer> {
    e.allow(&[
        "name",
        "tickpolicy",
        "present",
        "track",
        "frequency",
        "mode",
    ])?;
    let name: TimerName = e.req_word("name")?;
    let mut t = Timer::new(name);
    t.tickpolicy = e.word("tickpolicy")?;
    t.present = e.yes_no("present")?;
    t.track = e.word("track")?;
    t.frequency = e.u64("frequency", Radix::Dec)?;
    t.mode = e.word("mode")?;
    for c in e.children()? {
        if c.name() != "catchup" {
            c.skip()?;
            continue;
        }
        set(&mut t.catchup, c, |c| {
            c.allow(&["threshold", "slew", "limit"])?;
            c.empty()?;
            Ok(Catchup {
                threshold: c.u64("threshold", Radix::Dec)?,
                slew: c.u64("slew", Radix::Dec)?,
                limit: c.u64("limit", Radix::Dec)?,
            })
        })?;
    }
    Ok(t)
}

pub(super) fn cpu(e: El) -> R<Cpu> {
    e.allow(&["mode", "match", "check", "migratable"])?;
    let mut cpu = Cpu::new(e.word("mode")?.unwrap_or(CpuMode::Custom));
    cpu.match_ = e.word("match")?;
    cpu.check = e.word("check")?;
    cpu.migratable = e.on_off("migratable")?;
    let (mut model, mut vendor, mut topology, mut cache) = (None, None, None, None);
    let mut numa = None;
    for c in e.children()? {
        match c.name() {
            "model" => set(&mut model, c, |c| {
                c.allow(&["fallback", "vendor_id"])?;
                let name = c.text()?;
                let name = name.trim_matches(|ch: char| ch.is_ascii_whitespace());
                let vendor_id = c.get("vendor_id").map(str::to_string);
                if let Some(v) = &vendor_id
                    && (v.chars().count() != 12 || v.contains(',') || !v.is_ascii())
                {
                    return Err(c.bad_value(
                        ModelErrorKind::Invalid,
                        "vendor_id",
                        "vendor_id must be exactly 12 ASCII characters long, without a comma",
                    ));
                }
                Ok(CpuModel {
                    name: (!name.is_empty()).then(|| name.to_string()),
                    fallback: c.word("fallback")?,
                    vendor_id,
                })
            })?,
            "vendor" => set(&mut vendor, c, optional_text)?,
            "topology" => set(&mut topology, c, |c| {
                c.allow(&["sockets", "dies", "clusters", "cores", "threads"])?;
                c.empty()?;
                let n = |name: &str| -> R<u32> {
                    c.req(name)?;
                    let v = c.u32(name, Radix::Dec)?.unwrap_or(0);
                    if v == 0 {
                        return Err(c.bad_value(
                            ModelErrorKind::Invalid,
                            name,
                            "must be at least 1",
                        ));
                    }
                    Ok(v)
                };
                let dies = match c.get("dies") {
                    None => None,
                    Some(_) => Some(n("dies")?),
                };
                let clusters = match c.get("clusters") {
                    None => None,
                    Some(_) => Some(n("clusters")?),
                };
                Ok(CpuTopology {
                    sockets: n("sockets")?,
                    dies,
                    clusters,
                    cores: n("cores")?,
                    threads: n("threads")?,
                })
            })?,
            "cache" => set(&mut cache, c, |c| {
                c.allow(&["level", "mode"])?;
                c.empty()?;
                Ok(CpuCache {
                    level: c.u32("level", Radix::Dec)?,
                    mode: c.req_word("mode")?,
                })
            })?,
            "numa" => set(&mut numa, c, super::numa::numa)?,
            "maxphysaddr" => set(&mut cpu.max_phys_addr, c, |c| {
                c.allow(&["mode", "bits"])?;
                c.empty()?;
                let mode: PhysAddrMode = c.req_word("mode")?;
                let bits = c.u32("bits", Radix::Dec)?;
                // libvirt's rules (qemu_validate.c).
                match (mode, bits) {
                    (PhysAddrMode::Passthrough, Some(_)) => Err(c.bad_value(
                        ModelErrorKind::Unsupported,
                        "bits",
                        "CPU maximum physical address bits number specification cannot be used with mode='passthrough'",
                    )),
                    (PhysAddrMode::Emulate, None) => Err(invalid(format!(
                        "if using CPU maximum physical address mode='emulate', bits= must be specified too, at {}",
                        c.at()
                    ))),
                    _ => Ok(MaxPhysAddr { mode, bits }),
                }
            })?,
            "feature" => super::el::push(&mut cpu.features, c, |c| {
                c.allow(&["policy", "name"])?;
                c.empty()?;
                let name = c.req("name")?;
                Ok(CpuFeature {
                    policy: c.word("policy")?.unwrap_or(FeaturePolicy::Require),
                    name: name.to_string(),
                })
            })?,
            _ => c.skip()?,
        }
    }
    cpu.model = model;
    cpu.vendor = vendor.flatten();
    cpu.topology = topology;
    cpu.cache = cache;
    (cpu.numa, cpu.interconnects) = numa.unwrap_or_default();
    let named = cpu.model.as_ref().is_some_and(|m| m.name.is_some());
    if named && cpu.mode != CpuMode::Custom {
        return Err(invalid(format!(
            "<cpu mode='{}'> at {} takes no model name",
            cpu.mode.as_str(),
            e.at()
        )));
    }
    if cpu.mode == CpuMode::Custom && cpu.model.is_some() && !named {
        return Err(invalid(format!(
            "<cpu><model> at {} has no model name",
            e.at()
        )));
    }
    Ok(cpu)
}
