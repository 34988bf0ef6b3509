//! The guest CPU: `-cpu` (model, features, Hyper-V enlightenments, KVM
//! and timer switches) and `-smp`, as libvirt builds them.
//!
//! What the accelerator cannot give is refused before QEMU starts, as
//! libvirt does: `host-passthrough` without KVM, a named model or a
//! required feature the probed accelerator lacks (unless `check='none'`,
//! where libvirt lets QEMU drop them), a Hyper-V enlightenment QEMU's
//! emulation cannot provide.
//!
//! `host-model` has no CPU model database behind it here: under KVM it is
//! QEMU's `host` CPU with only migratable features (QEMU's default for
//! `host`), under emulation the largest CPU TCG offers (`max`), which is
//! what libvirt's host-model amounts to for TCG.

use super::opts::Opts;
use super::{Ctx, invalid, unsupported};
use crate::error::Error;
use crate::model::{
    CpuCacheMode, CpuCheck, CpuMode, FeaturePolicy, HypervFlag, HypervMode, KvmFlag, PanicModel,
    PhysAddrMode, TimerName,
};
use crate::qemu::caps::{QemuCaps, QemuVersion};

/// Appends `-cpu` when the domain asks for a CPU model or any CPU switch.
pub fn emit_cpu(cx: &mut Ctx<'_>, caps: &QemuCaps) -> Result<(), Error> {
    let def = cx.def;
    let emulator = cx.argv[0].clone();
    let kvm = cx.kvm;
    let accel = if kvm { "KVM" } else { "emulation (TCG)" };
    let mut model: Option<String> = None;
    let mut flags: Vec<String> = Vec::new();
    if let Some(cpu) = &def.cpu {
        let migratable = |flags: &mut Vec<String>| {
            if let Some(m) = cpu.migratable {
                flags.push(format!("migratable={}", if m { "on" } else { "off" }));
            }
        };
        match cpu.mode {
            CpuMode::HostPassthrough => {
                if !kvm {
                    return Err(unsupported(
                        "CPU mode 'host-passthrough' needs KVM: use <domain type='kvm'>, or <cpu mode='maximum'> for emulation",
                    ));
                }
                model = Some("host".into());
                migratable(&mut flags);
            }
            CpuMode::Maximum => {
                model = Some("max".into());
                migratable(&mut flags);
            }
            CpuMode::HostModel => {
                model = Some(if kvm { "host" } else { "max" }.into());
            }
            CpuMode::Custom => {
                if let Some(name) = cpu.model.as_ref().and_then(|m| m.name.as_ref()) {
                    let name = super::opts::user("CPU model", name)?;
                    if name.contains(',') || name.contains('=') {
                        return Err(invalid(format!("CPU model '{name}' is not valid")));
                    }
                    check_model(caps, kvm, name, cpu.check, accel)?;
                    model = Some(name.to_string());
                }
            }
        }
        if let Some(v) = cpu.model.as_ref().and_then(|m| m.vendor_id.as_ref()) {
            flags.push(format!("vendor={v}"));
        }
        for f in &cpu.features {
            let name = f.name.as_str();
            if name.contains(',') || name.contains('=') {
                return Err(invalid(format!("CPU feature '{name}' is not valid")));
            }
            let host = caps.cpu_caps(kvm);
            let check = cpu.check != Some(CpuCheck::None) && cpu.mode == CpuMode::Custom;
            match f.policy {
                FeaturePolicy::Require | FeaturePolicy::Force => {
                    if f.policy == FeaturePolicy::Require
                        && check
                        && host.is_some_and(|h| !h.has_feature(name))
                    {
                        return Err(unsupported(format!(
                            "the CPU is incompatible with what {accel} can provide: it does not offer the required feature '{name}'"
                        )));
                    }
                    flags.push(format!("{name}=on"));
                }
                FeaturePolicy::Disable => flags.push(format!("{name}=off")),
                FeaturePolicy::Forbid => {
                    if check && host.is_some_and(|h| h.has_feature(name)) {
                        return Err(unsupported(format!(
                            "the CPU is incompatible with the host: {accel} offers the forbidden feature '{name}'"
                        )));
                    }
                    flags.push(format!("{name}=off"));
                }
                FeaturePolicy::Optional => {}
            }
        }
    }
    timer_flags(cx, &mut flags)?;
    feature_flags(cx, &mut flags)?;
    if let Some(m) = def.cpu.as_ref().and_then(|c| c.max_phys_addr) {
        match (m.mode, m.bits) {
            // TCG keeps its own width (40): the host's cannot be given.
            (PhysAddrMode::Passthrough, _) if !kvm => {
                return Err(unsupported(
                    "<maxphysaddr mode='passthrough'> (the host's physical address width) needs KVM: QEMU's emulation (TCG) keeps its own; use mode='emulate' with bits",
                ));
            }
            (PhysAddrMode::Passthrough, _) => flags.push("host-phys-bits=on".into()),
            (PhysAddrMode::Emulate, bits) => {
                flags.push(format!("phys-bits={}", bits.unwrap_or_default()));
            }
        }
    }
    if let Some(cache) = def.cpu.as_ref().and_then(|c| c.cache) {
        let host_cpu = def
            .cpu
            .as_ref()
            .is_some_and(|c| matches!(c.mode, CpuMode::HostPassthrough | CpuMode::Maximum));
        if cache.level.is_some_and(|l| l != 3)
            || (cache.level.is_some() && cache.mode != CpuCacheMode::Emulate)
        {
            return Err(unsupported(format!(
                "CPU cache mode '{}' can only be used with level='3' (emulate) or no level",
                cache.mode.as_str()
            )));
        }
        match cache.mode {
            CpuCacheMode::Emulate => {
                flags.push("l3-cache=on".into());
                if host_cpu {
                    flags.push("host-cache-info=off".into());
                }
            }
            CpuCacheMode::Passthrough => {
                if !host_cpu {
                    return Err(unsupported(
                        "CPU cache mode 'passthrough' can only be used with 'host-passthrough' / 'maximum' CPUs",
                    ));
                }
                flags.push("host-cache-info=on".into());
                flags.push("l3-cache=off".into());
            }
            CpuCacheMode::Disable => {
                if host_cpu {
                    flags.push("host-cache-info=off".into());
                }
                flags.push("l3-cache=off".into());
            }
        }
    }
    let i686 = def.os.arch.as_deref() == Some("i686");
    // A 32-bit guest on the 64-bit emulator needs a 32-bit CPU, as libvirt
    // gives it.
    if model.is_none() && i686 && emulator.ends_with("x86_64") {
        model = Some("qemu32".into());
    }
    if model.is_none() && !flags.is_empty() {
        model = Some(if i686 { "qemu32" } else { "qemu64" }.into());
    }
    if let Some(m) = model {
        let mut o = Opts::new(&m);
        for f in flags {
            let (k, v) = f.split_once('=').expect("flags are key=value");
            o = o.set(k, v);
        }
        cx.arg("-cpu", o.build());
    }
    Ok(())
}

/// Refuses a named model the accelerator does not know, or cannot give
/// all its features, unless `check='none'`.
fn check_model(
    caps: &QemuCaps,
    kvm: bool,
    name: &str,
    check: Option<CpuCheck>,
    accel: &str,
) -> Result<(), Error> {
    let Some(host) = caps.cpu_caps(kvm) else {
        return Ok(());
    };
    let Some(missing) = host.models.get(name) else {
        // virt-install 4.1 writes `--cpu maximum` as a model of that name,
        // which libvirt's start refuses as well; the mode is what it means.
        let hint = if name == "maximum" {
            ": for the largest CPU there is, write <cpu mode='maximum'>"
        } else {
            ""
        };
        return Err(unsupported(format!(
            "CPU model '{name}' is not known to {}{hint}",
            caps.emulator.display()
        )));
    };
    if !missing.is_empty() && check != Some(CpuCheck::None) {
        return Err(unsupported(format!(
            "the CPU is incompatible with what {accel} can provide: CPU model '{name}' needs {} it cannot give (use a smaller model, <cpu mode='maximum'>, or check='none' to let QEMU drop them)",
            missing.join(", ")
        )));
    }
    Ok(())
}

/// `kvmclock`, `hv-time` and `tsc-frequency`.
fn timer_flags(cx: &Ctx<'_>, flags: &mut Vec<String>) -> Result<(), Error> {
    let Some(clock) = &cx.def.clock else {
        return Ok(());
    };
    for t in &clock.timers {
        match t.name {
            TimerName::Kvmclock => {
                if let Some(p) = t.present {
                    flags.push(format!("kvmclock={}", if p { "on" } else { "off" }));
                }
            }
            TimerName::Hypervclock if t.present == Some(true) => {
                flags.push("hv-time=on".into());
            }
            TimerName::Tsc => {
                if let Some(f) = t.frequency.filter(|f| *f > 0) {
                    flags.push(format!("tsc-frequency={f}"));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// `<features>` that QEMU takes as CPU properties: Hyper-V, KVM,
/// paravirtual spinlocks and the PMU.
fn feature_flags(cx: &Ctx<'_>, flags: &mut Vec<String>) -> Result<(), Error> {
    let f = &cx.def.features;
    if let Some(e) = f.apic_eoi {
        // A paravirtual feature of KVM: QEMU's emulation drops it.
        if e && !cx.kvm {
            return Err(unsupported(
                "<apic eoi='on'> (paravirtual end of interrupt) needs KVM: QEMU's emulation (TCG) cannot provide it; use <domain type='kvm'> or leave eoi out",
            ));
        }
        flags.push(format!("kvm-pv-eoi={}", if e { "on" } else { "off" }));
    }
    if let Some(p) = f.pvspinlock {
        flags.push(format!("kvm-pv-unhalt={}", if p { "on" } else { "off" }));
    }
    if let Some(h) = &f.hyperv {
        if h.mode == Some(HypervMode::Passthrough) {
            flags.push("hv-passthrough=on".into());
        }
        for (flag, on) in &h.flags {
            if !on {
                continue;
            }
            // QEMU's emulation keeps no per-vCPU Hyper-V index.
            if *flag == HypervFlag::Vpindex && !cx.kvm {
                return Err(unsupported(
                    "the Hyper-V enlightenment 'vpindex' needs KVM: QEMU's emulation (TCG) cannot provide it; use <domain type='kvm'> or <vpindex state='off'/>",
                ));
            }
            match flag {
                HypervFlag::Spinlocks => {
                    let retries = h.spinlocks_retries.unwrap_or(0x1fff);
                    flags.push(format!("hv-spinlocks={retries:#x}"));
                }
                HypervFlag::VendorId => {
                    let v = h.vendor_id.as_deref().unwrap_or_default();
                    if v.contains(',') || v.contains('=') {
                        return Err(invalid("HyperV vendor_id value is invalid"));
                    }
                    flags.push(format!("hv-vendor-id={v}"));
                }
                other => {
                    // QEMU's names take dashes where libvirt's take '_'.
                    flags.push(format!("hv-{}=on", other.as_str().replace('_', "-")));
                    if *other == HypervFlag::Stimer && h.stimer_direct == Some(true) {
                        flags.push("hv-stimer-direct=on".into());
                    }
                }
            }
        }
    }
    // <panic model='hyperv'> is no device: the crash MSRs of the vCPUs.
    let panics = &cx.def.devices.panics;
    if panics
        .iter()
        .any(|p| p.effective_model() == PanicModel::Hyperv)
    {
        flags.push("hv-crash=on".into());
    }
    if let Some(k) = &f.kvm {
        for (flag, on) in &k.flags {
            match (flag, on) {
                (KvmFlag::Hidden, true) => flags.push("kvm=off".into()),
                (KvmFlag::HintDedicated, true) => flags.push("kvm-hint-dedicated=on".into()),
                (KvmFlag::PollControl, true) => flags.push("kvm-poll-control=on".into()),
                (KvmFlag::PvIpi, false) => flags.push("kvm-pv-ipi=off".into()),
                _ => {}
            }
        }
    }
    if let Some(p) = f.pmu {
        flags.push(format!("pmu={}", if p { "on" } else { "off" }));
    }
    Ok(())
}

/// The first QEMU with clusters in the x86 CPU topology.
const X86_CLUSTERS: QemuVersion = QemuVersion {
    major: 9,
    minor: 0,
    micro: 0,
};

/// `-smp`: `MAX`, or `BOOT,maxcpus=MAX` when fewer start with the machine
/// (fewer online, or some plugged in before the guest runs), with the
/// topology when `<cpu><topology>` gives one.
pub fn smp(cx: &Ctx<'_>, caps: &QemuCaps) -> Result<String, Error> {
    let def = cx.def;
    let max = def.vcpu.max;
    if max == 0 {
        return Err(invalid("<vcpu> must be at least 1"));
    }
    let mut s = match def.vcpu.current {
        Some(cur) if cur == 0 || cur > max => {
            return Err(invalid(format!(
                "<vcpu current='{cur}'> must be between 1 and {max}"
            )));
        }
        // vCPUs listed as hotpluggable are plugged into their slots
        // before the guest runs; the machine starts with the others.
        _ if def.vcpu.boot_count() < max => format!("{},maxcpus={max}", def.vcpu.boot_count()),
        _ => max.to_string(),
    };
    if let Some(t) = def.cpu.as_ref().and_then(|c| c.topology) {
        if t.total() != u64::from(max) {
            return Err(invalid("CPU topology doesn't match maximum vcpu count"));
        }
        s.push_str(&format!(",sockets={}", t.sockets));
        if let Some(d) = t.dies {
            s.push_str(&format!(",dies={d}"));
        }
        // One cluster per die is what every QEMU builds; more is an x86
        // topology level QEMU has had since 9.0.
        match t.clusters {
            Some(c) if c > 1 && caps.version < X86_CLUSTERS => {
                return Err(unsupported(format!(
                    "<topology clusters='{c}'> needs QEMU 9.0 or newer for x86 guests; {} is QEMU {}",
                    caps.emulator.display(),
                    caps.version
                )));
            }
            Some(c) if c > 1 => s.push_str(&format!(",clusters={c}")),
            _ => {}
        }
        s.push_str(&format!(",cores={},threads={}", t.cores, t.threads));
    }
    Ok(s)
}
