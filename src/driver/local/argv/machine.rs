//! The machine as a whole: emulator, machine type, accelerator, CPU,
//! memory, vCPUs, firmware, clock, lifecycle actions, power management and
//! direct kernel boot.

use super::opts::{Opts, user};
use super::{Ctx, Family, invalid, unsupported};
use crate::driver::error::{Error, ErrorCode};
use crate::driver::local::caps::QemuCaps;
use crate::model::{ClockOffset, CpuMode, DomainDef, LifecycleAction, LoaderType, VirtType};

/// The emulator binary: `<emulator>` when given, else the probed one (its
/// `qemu-system-i386` sibling for `arch='i686'`).
pub fn emulator(def: &DomainDef, caps: &QemuCaps) -> Result<String, Error> {
    let arch = def.os.arch.as_deref().unwrap_or("x86_64");
    if arch != "x86_64" && arch != "i686" {
        return Err(unsupported(format!(
            "architecture '{arch}' is not supported: use arch='x86_64' or 'i686'"
        )));
    }
    if let Some(path) = &def.devices.emulator {
        return Ok(user("emulator path", path)?.to_string());
    }
    let mut path = caps.emulator.clone();
    if arch == "i686" && path.file_name().is_some_and(|n| n == "qemu-system-x86_64") {
        path.set_file_name("qemu-system-i386");
    }
    path.to_str().map(str::to_string).ok_or_else(|| {
        Error::new(
            ErrorCode::InvalidArgument,
            format!("the emulator path {} is not UTF-8", path.display()),
        )
    })
}

/// The machine type to run and its family; `None` in the definition means
/// the emulator's default machine.
pub fn machine_type(def: &DomainDef, caps: &QemuCaps) -> Result<(String, Family), Error> {
    let name = def.os.machine.as_deref().unwrap_or(&caps.default_machine);
    let name = user("machine type", name)?;
    if !caps.has_machine(name) {
        return Err(unsupported(format!(
            "machine type '{name}' is not offered by {}",
            caps.emulator.display()
        )));
    }
    let family = if name == "q35" || name.starts_with("pc-q35-") {
        Family::Q35
    } else if name == "pc" || name.starts_with("pc-i440fx-") || is_old_pc(name) {
        Family::I440fx
    } else {
        return Err(unsupported(format!(
            "machine type '{name}' is not supported: use a pc or q35 machine type"
        )));
    };
    Ok((name.to_string(), family))
}

/// Old i440FX aliases: `pc-0.15`, `pc-1.2`.
fn is_old_pc(name: &str) -> bool {
    name.strip_prefix("pc-")
        .and_then(|v| v.chars().next())
        .is_some_and(|c| c.is_ascii_digit())
}

/// Whether the domain runs under KVM; `type='kvm'` without KVM is an error
/// rather than a silent fallback to slow emulation.
pub fn use_kvm(def: &DomainDef, caps: &QemuCaps) -> Result<bool, Error> {
    match def.virt_type {
        VirtType::Qemu => Ok(false),
        VirtType::Kvm if caps.kvm => Ok(true),
        VirtType::Kvm => Err(Error::new(
            ErrorCode::NoSupport,
            format!(
                "KVM is not available on this host for {} (is /dev/kvm present and accessible?): use <domain type='qemu'> to run the domain with emulation",
                caps.emulator.display()
            ),
        )),
    }
}

/// `-machine`, `-accel`, `-cpu`, firmware, `-m`, `-smp`, `-uuid` and
/// `-display none`.
pub fn emit_machine(cx: &mut Ctx<'_>, machine_type: &str) -> Result<(), Error> {
    let def = cx.def;
    let mut machine = Opts::new(machine_type)
        .switch("usb", false)
        .switch("dump-guest-core", false);
    // Firmware in flash: the block nodes come first, the machine names them.
    if let Some(loader) = &def.os.loader
        && loader.kind == Some(LoaderType::Pflash)
    {
        let code = Opts::empty()
            .set("driver", "file")
            .set_user("filename", "loader path", &loader.path)?
            .set("node-name", "pflash0-storage")
            .switch("read-only", loader.readonly == Some(true))
            .build();
        cx.arg("-blockdev", code);
        machine = machine.set("pflash0", "pflash0-storage");
        if let Some(vars) = nvram_path(cx)? {
            let store = Opts::empty()
                .set("driver", "file")
                .set("filename", vars)
                .set("node-name", "pflash1-storage")
                .switch("read-only", false)
                .build();
            cx.arg("-blockdev", store);
            machine = machine.set("pflash1", "pflash1-storage");
        }
    } else if def.os.nvram.is_some() {
        return Err(invalid(
            "<nvram> needs a <loader type='pflash'>: a ROM firmware has no variable store",
        ));
    }
    machine = machine.switch("acpi", def.features.acpi);
    if let Some(clock) = &def.clock
        && let Some(hpet) = clock.timers.iter().find(|t| t.name == "hpet")
        && let Some(present) = hpet.present
    {
        machine = machine.switch("hpet", present);
    }
    cx.arg("-machine", machine.build());
    cx.arg("-accel", if cx.kvm { "kvm" } else { "tcg" });
    match def.cpu.map(|c| c.mode) {
        Some(CpuMode::HostPassthrough) if cx.kvm => cx.arg("-cpu", "host"),
        Some(CpuMode::HostPassthrough) => {
            return Err(unsupported(
                "CPU mode 'host-passthrough' needs KVM: use <domain type='kvm'>, or <cpu mode='maximum'> for emulation",
            ));
        }
        Some(CpuMode::Maximum) => cx.arg("-cpu", "max"),
        None => {}
    }
    if let Some(loader) = &def.os.loader
        && loader.kind != Some(LoaderType::Pflash)
    {
        if loader.readonly == Some(false) {
            return Err(unsupported(
                "a ROM <loader> is always read-only: remove readonly='no' or use type='pflash'",
            ));
        }
        // -bios is a separate argument that QEMU takes verbatim.
        cx.arg("-bios", user("loader path", &loader.path)?);
    }
    if def.memory_kib == 0 {
        return Err(invalid("<memory> must be larger than 0"));
    }
    // QEMU wants whole MiB: round up as libvirt does (219100 KiB -> 219136k).
    let kib = def.memory_kib.div_ceil(1024) * 1024;
    cx.arg("-m", format!("size={kib}k"));
    cx.arg("-smp", smp(def)?);
    cx.arg("-uuid", def.uuid.hyphenated().to_string());
    if def.devices.graphics.is_empty() {
        cx.arg("-display", "none");
    }
    Ok(())
}

/// The variable store for a pflash loader, if it has one.
fn nvram_path(cx: &Ctx<'_>) -> Result<Option<String>, Error> {
    let from_paths = || -> Result<Option<String>, Error> {
        match &cx.paths.nvram {
            Some(p) => super::runtime_path("nvram", p).map(Some),
            None => Ok(None),
        }
    };
    match &cx.def.os.nvram {
        Some(nvram) => match &nvram.path {
            Some(path) => Ok(Some(user("nvram path", path)?.to_string())),
            None => from_paths()?.map(Some).ok_or_else(|| {
                Error::new(
                    ErrorCode::InvalidArgument,
                    "<nvram> gives only a template: the driver must choose the variable store path (RuntimePaths::nvram)",
                )
            }),
        },
        None if cx.def.os.loader.as_ref().and_then(|l| l.readonly) == Some(true) => from_paths(),
        None => Ok(None),
    }
}

/// `-smp`: `MAX`, or `CURRENT,maxcpus=MAX` when fewer start online.
fn smp(def: &DomainDef) -> Result<String, Error> {
    let max = def.vcpu.max;
    if max == 0 {
        return Err(invalid("<vcpu> must be at least 1"));
    }
    match def.vcpu.current {
        Some(cur) if cur == 0 || cur > max => Err(invalid(format!(
            "<vcpu current='{cur}'> must be between 1 and {max}"
        ))),
        Some(cur) if cur < max => Ok(format!("{cur},maxcpus={max}")),
        _ => Ok(max.to_string()),
    }
}

/// `-rtc` and the timer policies QEMU can express.
pub fn emit_clock(cx: &mut Ctx<'_>) -> Result<(), Error> {
    let clock = cx.def.clock.as_ref();
    let base = match clock.map(|c| c.offset) {
        Some(ClockOffset::Localtime) => "localtime",
        _ => "utc",
    };
    let mut rtc = Opts::empty().set("base", base);
    let mut pit_policy = None;
    for timer in clock.map(|c| c.timers.as_slice()).unwrap_or_default() {
        let policy = timer.tickpolicy.as_deref();
        match (timer.name.as_str(), policy) {
            (_, _) if timer.present == Some(false) && timer.name != "hpet" => {
                return Err(unsupported(format!(
                    "timer '{}' present='no' is not supported",
                    timer.name
                )));
            }
            ("rtc", Some("catchup")) => rtc = rtc.set("driftfix", "slew"),
            ("rtc", None | Some("delay")) => {}
            ("pit", None) => {}
            // Only the in-kernel PIT of KVM takes a policy; TCG's keeps time.
            ("pit", Some(p @ ("delay" | "discard"))) if cx.kvm => pit_policy = Some(p),
            ("pit", Some("delay" | "discard" | "catchup")) if !cx.kvm => {}
            // libvirt ignores the tick policy of these timers too: QEMU
            // has no setting for it.
            ("hpet" | "kvmclock", _) => {}
            (name, Some(p)) => {
                return Err(unsupported(format!(
                    "timer '{name}' tickpolicy='{p}' is not supported"
                )));
            }
            (name, None) => {
                return Err(unsupported(format!("timer '{name}' is not supported")));
            }
        }
    }
    cx.arg("-rtc", rtc.build());
    if let Some(policy) = pit_policy {
        cx.arg("-global", format!("kvm-pit.lost_tick_policy={policy}"));
    }
    Ok(())
}

/// `<on_poweroff>`, `<on_reboot>`, `<on_crash>`: what QEMU does by itself
/// when no manager watches.
///
/// QEMU exits on guest power-off by default (destroy). `-no-shutdown`
/// pauses instead (preserve; restart is then done by the driver).
/// `-no-reboot` turns a guest reboot into a power-off, which exits, or
/// pauses when `-no-shutdown` is also given. When the two wishes differ in
/// a way QEMU cannot tell apart (reboot destroy with power-off preserve,
/// or reboot preserve), QEMU pauses, which loses nothing, and the driver
/// finishes the action from the `SHUTDOWN` event's `reason`. A crash is
/// reported by a panic device, which qvirt does not add, so `<on_crash>`
/// needs nothing on the command line.
pub fn emit_actions(cx: &mut Ctx<'_>) {
    let def = cx.def;
    if def.on_poweroff != LifecycleAction::Destroy || def.on_reboot == LifecycleAction::Preserve {
        cx.flag("-no-shutdown");
    }
    if def.on_reboot != LifecycleAction::Restart {
        cx.flag("-no-reboot");
    }
}

/// `<pm>`: ACPI S3/S4 switches of the chipset's power management device.
pub fn emit_pm(cx: &mut Ctx<'_>) {
    let device = match cx.family {
        Family::I440fx => "PIIX4_PM",
        Family::Q35 => "ICH9-LPC",
    };
    let pm = cx.def.pm;
    for (state, enabled) in [("s3", pm.suspend_to_mem), ("s4", pm.suspend_to_disk)] {
        if let Some(enabled) = enabled {
            let disable = if enabled { 0 } else { 1 };
            cx.arg("-global", format!("{device}.disable_{state}={disable}"));
        }
    }
}

/// Direct kernel boot. Each value is its own argument, which QEMU takes
/// verbatim (no option parsing), so commas need no escaping.
pub fn emit_kernel(cx: &mut Ctx<'_>) -> Result<(), Error> {
    let os = &cx.def.os;
    if os.kernel.is_none() && (os.initrd.is_some() || os.cmdline.is_some()) {
        return Err(invalid("<initrd> and <cmdline> need a <kernel>"));
    }
    if let Some(kernel) = &os.kernel {
        cx.arg("-kernel", user("kernel path", kernel)?);
    }
    if let Some(initrd) = &os.initrd {
        cx.arg("-initrd", user("initrd path", initrd)?);
    }
    if let Some(cmdline) = &os.cmdline {
        if cmdline.contains('\0') {
            return Err(invalid("the kernel command line contains a NUL character"));
        }
        cx.arg("-append", cmdline.as_str());
    }
    Ok(())
}
