//! Checks of the machine as a whole: `<os>` (firmware, loader, NVRAM,
//! direct kernel boot), `<features>`, `<clock>` and `<cpu>`.

use std::collections::HashSet;

use super::{R, check_chars, check_path, invalid, pattern, show, unsupported};
use crate::model::{
    CpuMode, DomainDef, FirmwareFormat, FirmwareKind, LoaderType, TickPolicy, TimerName, VirtType,
};

pub(super) fn validate(def: &DomainDef) -> R {
    os(def)?;
    firmware(def)?;
    features(def)?;
    clock(def)?;
    cpu(def)
}

fn os(def: &DomainDef) -> R {
    let os = &def.os;
    if let Some(a) = &os.arch
        && a != "x86_64"
        && a != "i686"
    {
        return Err(unsupported(format!(
            "architecture '{}' is not supported",
            show(a)
        )));
    }
    if let Some(m) = &os.machine
        && !pattern(m, "_.-")
    {
        return Err(invalid(format!("machine type '{}' is not valid", show(m))));
    }
    if os.boot.len() > 4 {
        return Err(invalid(format!(
            "{} <boot dev> elements given, at most 4 are allowed",
            os.boot.len()
        )));
    }
    if let Some(b) = &os.bios
        && let Some(t) = b.reboot_timeout
        && !(-1..=65535).contains(&t)
    {
        return Err(invalid(format!(
            "invalid value for rebootTimeout '{t}', must be in range [-1,65535]"
        )));
    }
    if let Some(k) = &os.kernel {
        check_path("kernel path", k)?;
    }
    if let Some(t) = &os.slic_table {
        check_path("ACPI table file", t)?;
    }
    if let Some(i) = &os.initrd {
        check_path("initrd path", i)?;
        if os.kernel.is_none() {
            return Err(invalid("<initrd> is given without a <kernel>"));
        }
    }
    if let Some(c) = &os.cmdline {
        check_chars("kernel command line", c, false)?;
        if os.kernel.is_none() {
            return Err(invalid("<cmdline> is given without a <kernel>"));
        }
    }
    Ok(())
}

/// libvirt's rules for `<os firmware>`, `<loader>` and `<nvram>`
/// (virDomainDefOSValidate).
fn firmware(def: &DomainDef) -> R {
    let os = &def.os;
    let loader = os.loader.as_ref();
    if let Some(l) = loader
        && let Some(p) = &l.path
    {
        check_path("loader path", p)?;
    }
    if let Some(n) = &os.nvram {
        if let Some(p) = &n.path {
            check_path("nvram path", p)?;
        }
        if let Some(t) = &n.template {
            check_path("nvram template path", t)?;
        }
    }
    let template = os.nvram.as_ref().and_then(|n| n.template.as_ref());
    // A ROM is mapped as its bytes: only a flash can be a qcow2 image.
    if let Some(l) = loader
        && l.format == Some(FirmwareFormat::Qcow2)
        && l.kind != Some(LoaderType::Pflash)
        && !(os.firmware.is_some() && l.kind.is_none())
    {
        return Err(unsupported(
            "a qcow2 <loader> must be type='pflash': a ROM loader is always raw",
        ));
    }
    match os.firmware {
        Some(kind) => {
            let cannot = |what: &str| {
                invalid(format!(
                    "{what} cannot be specified when firmware autoselection is enabled"
                ))
            };
            // Since libvirt 9.2 a selection may name the firmware it
            // chose (libvirt writes it into the definition at the first
            // start): the choice is then held to it. A read-write flash
            // is no firmware a descriptor describes.
            if let Some(l) = loader
                && l.readonly == Some(false)
            {
                return Err(cannot("loader attribute readonly='no'"));
            }
            if template.is_some() && loader.is_none_or(|l| l.path.is_none()) {
                return Err(cannot("nvram attribute 'template' without a loader path"));
            }
            if os.nvram.is_some() && kind != FirmwareKind::Efi {
                return Err(invalid(format!(
                    "firmware type '{}' does not support nvram",
                    kind.as_str()
                )));
            }
        }
        None => {
            if !os.firmware_features.is_empty() {
                return Err(invalid(
                    "cannot use feature-based firmware autoselection when firmware autoselection is disabled",
                ));
            }
            if loader.is_some_and(|l| l.path.is_none()) {
                return Err(invalid(
                    "no loader path specified and firmware auto selection disabled",
                ));
            }
            if os.nvram.is_some() && loader.and_then(|l| l.kind) != Some(LoaderType::Pflash) {
                return Err(invalid(
                    "<nvram> needs a <loader type='pflash'> firmware to go with it",
                ));
            }
        }
    }
    match loader.and_then(|l| l.stateless) {
        Some(true) if template.is_some() => Err(invalid(
            "NVRAM template is not permitted when loader is stateless",
        )),
        Some(true) if os.nvram.is_some() => {
            Err(invalid("NVRAM is not permitted when loader is stateless"))
        }
        Some(false)
            if os.firmware.is_none() && loader.and_then(|l| l.kind) != Some(LoaderType::Pflash) =>
        {
            Err(invalid("Only pflash loader type permits NVRAM"))
        }
        Some(false) if os.firmware.is_some_and(|f| f != FirmwareKind::Efi) => {
            Err(invalid("Only EFI firmware permits NVRAM"))
        }
        _ => Ok(()),
    }
}

fn features(def: &DomainDef) -> R {
    if def.features.tcg_tb_cache_kib.is_some() && def.virt_type != crate::model::VirtType::Qemu {
        return Err(unsupported(
            "TCG features are incompatible with domain type 'kvm'",
        ));
    }
    let f = &def.features;
    if let Some(s) = &f.smm
        && s.tseg_kib.is_some_and(|t| t > crate::model::units::MAX_KIB)
    {
        return Err(invalid("SMM TSEG size is too large"));
    }
    if let Some(h) = &f.hyperv
        && let Some(v) = &h.vendor_id
    {
        check_chars("HyperV vendor_id", v, false)?;
    }
    Ok(())
}

fn clock(def: &DomainDef) -> R {
    let Some(c) = &def.clock else {
        return Ok(());
    };
    if let crate::model::ClockOffset::Timezone(tz) = &c.offset {
        check_chars("clock timezone", tz, false)?;
        if tz.is_empty() {
            return Err(invalid("clock timezone is empty"));
        }
    }
    let mut seen = HashSet::new();
    for t in &c.timers {
        let name = t.name.as_str();
        if !seen.insert(t.name) {
            return Err(invalid(format!("timer '{name}' is given twice")));
        }
        if t.tickpolicy.is_some() && matches!(t.name, TimerName::Kvmclock | TimerName::Hypervclock)
        {
            return Err(invalid(format!("timer '{name}' takes no tickpolicy")));
        }
        // QEMU has no way to express these (libvirt refuses them too).
        let refused = match (t.name, t.tickpolicy) {
            (TimerName::Rtc, Some(p @ (TickPolicy::Merge | TickPolicy::Discard))) => Some(p),
            (TimerName::Pit, Some(p @ TickPolicy::Merge)) => Some(p),
            _ => None,
        };
        if let Some(p) = refused {
            return Err(unsupported(format!(
                "unsupported {name} timer tickpolicy '{}'",
                p.as_str()
            )));
        }
        if t.name == TimerName::Platform {
            return Err(unsupported("unsupported timer type (name) 'platform'"));
        }
        if t.track.is_some() && t.name != TimerName::Rtc {
            return Err(invalid(format!(
                "timer '{name}' takes no track: only the rtc does"
            )));
        }
        if (t.frequency.is_some() || t.mode.is_some()) && t.name != TimerName::Tsc {
            return Err(invalid(format!(
                "timer '{name}' takes no frequency or mode: only the tsc does"
            )));
        }
        if let Some(cu) = &t.catchup {
            if t.tickpolicy != Some(TickPolicy::Catchup) {
                return Err(invalid(format!(
                    "<catchup> of timer '{name}' needs tickpolicy='catchup'"
                )));
            }
            for v in [cu.threshold, cu.slew, cu.limit].into_iter().flatten() {
                if v > u64::from(u32::MAX) {
                    return Err(invalid(format!(
                        "catchup value {v} of timer '{name}' is too large"
                    )));
                }
            }
        }
    }
    Ok(())
}

fn cpu(def: &DomainDef) -> R {
    let Some(cpu) = &def.cpu else {
        return Ok(());
    };
    if cpu.mode == CpuMode::HostPassthrough && def.virt_type == VirtType::Qemu {
        return Err(invalid(
            "CPU mode 'host-passthrough' needs hardware acceleration: use <domain type='kvm'>",
        ));
    }
    if let Some(t) = &cpu.topology
        && t.total() != u64::from(def.vcpu.max)
    {
        return Err(invalid(format!(
            "CPU topology doesn't match maximum vcpu count: {} sockets x {} dies x {} clusters x {} cores x {} threads is not {}",
            t.sockets,
            t.dies.unwrap_or(1),
            t.clusters.unwrap_or(1),
            t.cores,
            t.threads,
            def.vcpu.max
        )));
    }
    if let Some(m) = &cpu.model
        && let Some(n) = &m.name
        && !pattern(n, "-_.")
    {
        return Err(invalid(format!(
            "CPU model name '{}' is not valid",
            show(n)
        )));
    }
    if let Some(v) = &cpu.vendor
        && !pattern(v, "-_ ")
    {
        return Err(invalid(format!("CPU vendor '{}' is not valid", show(v))));
    }
    let mut names = HashSet::new();
    for f in &cpu.features {
        if !pattern(&f.name, "-_.") {
            return Err(invalid(format!(
                "CPU feature name '{}' is not valid",
                show(&f.name)
            )));
        }
        if !names.insert(f.name.as_str()) {
            return Err(invalid(format!(
                "CPU feature '{}' specified more than once",
                f.name
            )));
        }
    }
    if cpu.mode == CpuMode::HostPassthrough || cpu.mode == CpuMode::Maximum {
        if cpu.match_.is_some() {
            return Err(invalid(format!(
                "<cpu mode='{}'> takes no match",
                cpu.mode.as_str()
            )));
        }
    } else if cpu.migratable.is_some() {
        return Err(invalid(format!(
            "<cpu mode='{}'> takes no migratable: only host-passthrough and maximum do",
            cpu.mode.as_str()
        )));
    }
    Ok(())
}
