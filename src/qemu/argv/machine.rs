//! The machine as a whole: emulator, machine type, accelerator, CPU,
//! memory, vCPUs, firmware, clock, lifecycle actions, power management and
//! direct kernel boot.

use super::opts::{Opts, user};
use super::{Ctx, Family, invalid, unsupported};
use crate::error::{Error, ErrorCode};
use crate::model::{
    Adjustment, ClockOffset, DomainDef, FirmwareFormat, IoapicDriver, LifecycleAction, LoaderType,
    NvramType, TickPolicy, TimerName, TimerTrack, TscMode, VirtType,
};
use crate::qemu::caps::QemuCaps;

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
pub fn emit_machine(cx: &mut Ctx<'_>, machine_type: &str, caps: &QemuCaps) -> Result<(), Error> {
    let def = cx.def;
    if let Some(kind) = def.os.firmware {
        return Err(Error::new(
            ErrorCode::InvalidArgument,
            format!(
                "<os firmware='{}'> is chosen when the domain starts: the driver must resolve it (firmware::resolve) before building the command line",
                kind.as_str()
            ),
        ));
    }
    let mut machine = Opts::new(machine_type)
        .switch("usb", false)
        // libvirt's default (its qemu.conf dump_guest_core) is off.
        .switch("dump-guest-core", def.dump_core.unwrap_or(false));
    // Firmware in flash: the block nodes come first, the machine names them.
    if let Some(loader) = &def.os.loader
        && loader.kind == Some(LoaderType::Pflash)
    {
        // qemu_validate.c: on x86, UEFI requires ACPI.
        if !def.features.acpi {
            return Err(unsupported(
                "UEFI requires ACPI on this architecture: add <features><acpi/></features>",
            ));
        }
        let path = loader
            .path
            .as_deref()
            .ok_or_else(|| invalid("a pflash <loader> needs a firmware path"))?;
        let read_only = loader.readonly == Some(true);
        let code = Opts::empty()
            .set("driver", "file")
            .set_user("filename", "loader path", path)?
            .set("node-name", "pflash0-storage")
            .switch("read-only", read_only)
            .build();
        cx.arg("-blockdev", code);
        let node = flash_format(cx, 0, loader.effective_format(), read_only);
        machine = machine.set("pflash0", node);
        if let Some(store) = nvram_storage(cx)? {
            let nvram = cx.def.os.nvram.as_ref();
            cx.arg("-blockdev", store);
            // The store's format is the loader's unless it says its own.
            let format = nvram
                .and_then(|n| n.format)
                .unwrap_or(loader.effective_format());
            let node = flash_format(cx, 1, format, false);
            machine = machine.set("pflash1", node);
        }
    } else if def.os.nvram.is_some() {
        return Err(invalid(
            "<nvram> needs a <loader type='pflash'>: a ROM firmware has no variable store",
        ));
    }
    machine = machine.switch("acpi", def.features.acpi);
    if super::hmat::has_hmat(def) {
        machine = machine.switch("hmat", true);
    }
    if let Some(clock) = &def.clock
        && let Some(hpet) = clock.timers.iter().find(|t| t.name == TimerName::Hpet)
        && let Some(present) = hpet.present
    {
        machine = machine.switch("hpet", present);
    }
    let f = &def.features;
    let secure = def.os.loader.as_ref().and_then(|l| l.secure) == Some(true);
    if secure {
        if cx.family != Family::Q35 {
            return Err(unsupported(
                "Secure boot is supported with q35 machine types only",
            ));
        }
        if f.smm.is_some_and(|s| !s.enabled) {
            return Err(unsupported("Secure boot requires SMM feature enabled"));
        }
    }
    match f.smm {
        Some(s) => machine = machine.switch("smm", s.enabled),
        None if secure => machine = machine.switch("smm", true),
        None => {}
    }
    if let Some(v) = f.vmport {
        machine = machine.switch("vmport", v);
    }
    if let Some(v) = f.ps2 {
        machine = machine.switch("i8042", v);
    }
    match f.ioapic {
        Some(IoapicDriver::Qemu) => {
            if cx.family != Family::Q35 {
                return Err(unsupported(
                    "I/O APIC tuning is supported with q35 machine types only",
                ));
            }
            machine = machine.set("kernel-irqchip", "split");
        }
        Some(IoapicDriver::Kvm) => {
            if !cx.kvm {
                return Err(unsupported(
                    "<ioapic driver='kvm'> needs KVM: use <domain type='kvm'> or driver='qemu'",
                ));
            }
            machine = machine.set("kernel-irqchip", "on");
        }
        None => {}
    }
    if let Some(id) = super::sound::pcspk_audiodev(def) {
        machine = machine.set("pcspk-audiodev", id);
    }
    if def.memory_backing.as_ref().is_some_and(|m| m.nosharepages) {
        machine = machine.switch("mem-merge", false);
    }
    if super::memdev::needs_nvdimm(def) {
        machine = machine.switch("nvdimm", true);
    }
    machine = machine.maybe("memory-backend", super::tuning::machine_memory_backend(def));
    machine = machine.maybe(
        "confidential-guest-support",
        super::sev::machine_option(def),
    );
    if def.os.bios.and_then(|b| b.useserial) == Some(true) {
        // As libvirt 9.0 asks for it: on x86 the firmware (SeaBIOS's own
        // serial console) then writes its screen to the serial port. The
        // `sga` device that did this before is deprecated.
        machine = machine.switch("graphics", false);
    }
    cx.arg("-machine", machine.build());
    // The model keeps <tcg> to TCG domains.
    let dirty_ring = cx.def.features.kvm.as_ref().and_then(|k| k.dirty_ring_size);
    let accel = match (cx.kvm, cx.def.features.tcg_tb_cache_kib, dirty_ring) {
        (true, _, Some(entries)) => format!("kvm,dirty-ring-size={entries}"),
        (true, _, None) => "kvm".to_string(),
        // libvirt drops it under TCG; qvirt says so instead.
        (false, _, Some(_)) => {
            return Err(unsupported(
                "<kvm><dirty-ring> is a KVM feature, and this domain (type='qemu') runs under TCG, which has no dirty ring: use type='kvm' or remove it",
            ));
        }
        (false, Some(kib), None) => format!("tcg,tb-size={}", kib >> 10),
        (false, None, None) => "tcg".to_string(),
    };
    cx.arg("-accel", accel);
    super::cpu::emit_cpu(cx, caps)?;
    super::tuning::emit_iothreads(cx);
    if secure {
        cx.arg("-global", "driver=cfi.pflash01,property=secure,value=on");
    }
    if let Some(kib) = f.smm.and_then(|s| s.tseg_kib) {
        if cx.family != Family::Q35 {
            return Err(unsupported(
                "SMM TSEG is only supported with q35 machine type",
            ));
        }
        if kib % 1024 != 0 {
            return Err(invalid("SMM TSEG size must be divisible by 1 MiB"));
        }
        cx.arg(
            "-global",
            format!("mch.extended-tseg-mbytes={}", kib / 1024),
        );
    }
    if let Some(loader) = &def.os.loader
        && loader.kind != Some(LoaderType::Pflash)
    {
        if loader.readonly == Some(false) {
            return Err(unsupported(
                "a ROM <loader> is always read-only: remove readonly='no' or use type='pflash'",
            ));
        }
        let path = loader
            .path
            .as_deref()
            .ok_or_else(|| invalid("a <loader> needs a firmware path"))?;
        // -bios is a separate argument that QEMU takes verbatim.
        cx.arg("-bios", user("loader path", path)?);
    }
    super::tuning::emit_memory(cx)?;
    let smp = super::cpu::smp(cx, caps)?;
    cx.arg("-smp", smp);
    cx.arg("-uuid", def.uuid.hyphenated().to_string());
    match (&def.devices.egl_headless, &def.devices.dbus_display) {
        (Some(egl), _) => {
            let mut o = Opts::new("egl-headless");
            if let Some(node) = &egl.rendernode {
                o = o.set_user("rendernode", "render node path", node)?;
            }
            cx.arg("-display", o.build());
        }
        (None, Some(db)) => {
            let display = dbus_display(cx, db)?;
            cx.arg("-display", display);
        }
        (None, None) if def.devices.graphics.is_empty() => cx.arg("-display", "none"),
        (None, None) => {}
    }
    Ok(())
}

/// The node flash unit `unit` maps: its storage node itself when the
/// image is raw (QEMU reads the bytes), else a qcow2 node over it.
fn flash_format(cx: &mut Ctx<'_>, unit: u8, format: FirmwareFormat, read_only: bool) -> String {
    let storage = format!("pflash{unit}-storage");
    match format {
        FirmwareFormat::Raw => storage,
        FirmwareFormat::Qcow2 => {
            let node = format!("pflash{unit}-format");
            let opts = Opts::empty()
                .set("node-name", &node)
                .switch("read-only", read_only)
                .set("driver", "qcow2")
                .set("file", &storage)
                .build();
            cx.arg("-blockdev", opts);
            node
        }
    }
}

/// The variable store's storage node (`pflash1-storage`), if the pflash
/// loader has a store: a file or host block device, or, for
/// `<nvram type='network'>`, the protocol node a network disk of that
/// source has (libvirt's qemuBlockStorageSourceGetBackendProps), its
/// credentials in a `secret` object reading
/// `disk_secret_file(run_dir, NVRAM_STORE_ID)`.
fn nvram_storage(cx: &mut Ctx<'_>) -> Result<Option<String>, Error> {
    let def = cx.def;
    let storage = |o: Opts| {
        o.set("node-name", "pflash1-storage")
            .switch("read-only", false)
    };
    if let Some(n) = def.os.nvram.as_ref().and_then(|n| n.network.as_ref()) {
        let o = super::disk_net::network_node(n, "nvram")?;
        let o = match &n.auth {
            Some(auth) => super::disk_net::with_credentials(cx, o, n, auth, NVRAM_STORE_ID)?,
            None => o,
        };
        return Ok(Some(storage(o).build()));
    }
    let Some(vars) = nvram_path(cx)? else {
        return Ok(None);
    };
    let driver = match def.os.nvram.as_ref().and_then(|n| n.kind) {
        Some(NvramType::Block) => "host_device",
        _ => "file",
    };
    let o = Opts::empty().set("driver", driver).set("filename", vars);
    Ok(Some(storage(o).build()))
}

/// The id under which a network NVRAM store's credentials are handed to
/// QEMU, as a network disk's are under its device id.
pub const NVRAM_STORE_ID: &str = "pflash1";

/// The variable store for a pflash loader, if it has one.
fn nvram_path(cx: &Ctx<'_>) -> Result<Option<String>, Error> {
    let from_paths = || -> Result<Option<String>, Error> {
        match &cx.paths.nvram {
            Some(p) => super::runtime_path("nvram", p).map(Some),
            None => Ok(None),
        }
    };
    let loader = cx.def.os.loader.as_ref();
    if loader.and_then(|l| l.stateless) == Some(true) {
        return Ok(None);
    }
    match &cx.def.os.nvram {
        Some(nvram) => match &nvram.path {
            Some(path) => Ok(Some(user("nvram path", path)?.to_string())),
            None => from_paths()?.map(Some).ok_or_else(|| {
                Error::new(
                    ErrorCode::InvalidArgument,
                    "<nvram> gives no path: the driver must choose the variable store path (RuntimePaths::nvram)",
                )
            }),
        },
        None if loader.and_then(|l| l.readonly) == Some(true) => from_paths(),
        None => Ok(None),
    }
}

/// `-rtc` and the timer policies QEMU can express.
pub fn emit_clock(cx: &mut Ctx<'_>) -> Result<(), Error> {
    let clock = cx.def.clock.as_ref();
    let needs_base = || {
        cx.paths.clock_base.clone().ok_or_else(|| {
            Error::new(
                ErrorCode::InvalidArgument,
                "the guest clock starts at a time that depends on the start: the driver must compute it (RuntimePaths::clock_base)",
            )
        })
    };
    let base = match clock.map(|c| &c.offset) {
        None
        | Some(ClockOffset::Utc {
            adjustment: None | Some(Adjustment::Reset),
        }) => "utc".to_string(),
        Some(ClockOffset::Localtime {
            adjustment: None | Some(Adjustment::Reset),
        }) => "localtime".to_string(),
        Some(ClockOffset::Absolute { start }) => {
            if *start > 253_402_300_799 {
                return Err(unsupported(
                    "The maximum 'start' value for <clock offset='absolute'> is 253402300799",
                ));
            }
            crate::model::utc_datetime(*start as i64)
        }
        Some(_) => needs_base()?,
    };
    let mut rtc = Opts::empty().set("base", base);
    let mut pit_policy = None;
    for timer in clock.map(|c| c.timers.as_slice()).unwrap_or_default() {
        let policy = timer.tickpolicy;
        match timer.name {
            TimerName::Platform => {
                return Err(unsupported("unsupported timer type (name) 'platform'"));
            }
            TimerName::Armvtimer => {
                return Err(unsupported(
                    "Configuring the 'armvtimer' timer is not supported for x86 guests",
                ));
            }
            TimerName::Rtc => {
                match timer.track {
                    None => {}
                    Some(TimerTrack::Boot) => {
                        return Err(unsupported("unsupported rtc timer track 'boot'"));
                    }
                    Some(TimerTrack::Guest) => rtc = rtc.set("clock", "vm"),
                    Some(TimerTrack::Wall) => rtc = rtc.set("clock", "host"),
                    Some(TimerTrack::Realtime) => rtc = rtc.set("clock", "rt"),
                }
                match policy {
                    None | Some(TickPolicy::Delay) => {}
                    Some(TickPolicy::Catchup) => rtc = rtc.set("driftfix", "slew"),
                    Some(p) => {
                        return Err(unsupported(format!(
                            "unsupported rtc timer tickpolicy '{}'",
                            p.as_str()
                        )));
                    }
                }
                if timer.present == Some(false) {
                    return Err(unsupported(
                        "the rtc timer cannot be removed from a PC (present='no')",
                    ));
                }
            }
            TimerName::Pit => {
                match policy {
                    Some(TickPolicy::Merge) => {
                        return Err(unsupported("unsupported pit tickpolicy 'merge'"));
                    }
                    // Only the in-kernel PIT of KVM takes a policy; TCG's
                    // keeps time.
                    Some(p @ (TickPolicy::Delay | TickPolicy::Discard | TickPolicy::Catchup))
                        if cx.kvm =>
                    {
                        pit_policy = Some(p.as_str())
                    }
                    _ => {}
                }
                if timer.present == Some(false) {
                    return Err(unsupported(
                        "the pit timer cannot be removed from a PC (present='no')",
                    ));
                }
            }
            // hpet is a machine switch, the others are CPU properties;
            // libvirt ignores their tick policy too: QEMU has no setting.
            TimerName::Hpet | TimerName::Kvmclock | TimerName::Hypervclock | TimerName::Tsc => {
                // KVM gives the guest the host's TSC (with an offset): that
                // is 'native', and 'auto' on the constant TSC of any host
                // KVM runs on; QEMU can neither trap and emulate it under
                // KVM nor hand it over under TCG.
                match (timer.name, timer.mode) {
                    (TimerName::Tsc, Some(TscMode::Auto)) | (_, None) => {}
                    (TimerName::Tsc, Some(TscMode::Native)) if cx.kvm => {}
                    (TimerName::Tsc, Some(TscMode::Native)) => {
                        return Err(unsupported(
                            "<timer name='tsc' mode='native'> needs KVM: under emulation (TCG) QEMU computes the guest's TSC; use <domain type='kvm'> or mode='auto'",
                        ));
                    }
                    (name, Some(mode)) => {
                        return Err(unsupported(format!(
                            "<timer name='{}' mode='{}'> is not supported by QEMU: only the tsc timer takes a mode, 'auto' or 'native'",
                            name.as_str(),
                            mode.as_str()
                        )));
                    }
                }
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
    // As libvirt: after the kernel, the table file with its own header.
    if let Some(table) = &os.slic_table {
        let o = Opts::empty()
            .set("sig", "SLIC")
            .set_user("file", "ACPI table file", table)?;
        cx.arg("-acpitable", o.build());
    }
    Ok(())
}

/// `-boot`: the boot menu, the retry after a failed boot, and strict
/// boot order (only the devices given a boot index boot). BIOS messages
/// on the serial port are the machine's `graphics=off` (`emit_machine`),
/// which needs a serial port.
pub fn emit_boot(cx: &mut Ctx<'_>) -> Result<(), Error> {
    let os = &cx.def.os;
    let mut o = Opts::empty();
    if let Some(m) = os.bootmenu {
        o = o.switch("menu", m.enable);
        if let (true, Some(t)) = (m.enable, m.timeout) {
            o = o.set("splash-time", t);
        }
    }
    if let Some(t) = os.bios.and_then(|b| b.reboot_timeout) {
        o = o.set("reboot-timeout", t);
    }
    cx.arg("-boot", o.set("strict", "on").build());
    if os.bios.and_then(|b| b.useserial) == Some(true) {
        // A serial console is a serial port too, as libvirt reads it.
        let serial_console = cx
            .def
            .devices
            .consoles
            .iter()
            .any(|c| c.target_type.as_deref().is_none_or(|t| t == "serial"));
        if cx.def.devices.serials.is_empty() && !serial_console {
            return Err(invalid(
                "need at least one serial port to use BIOS serial output",
            ));
        }
    }
    Ok(())
}

/// QEMU's D-Bus display, as libvirt's qemuBuildGraphicsDBusCommandLine:
/// peer to peer, or on its bus (the one written, else the private bus
/// the start runs in the runtime directory, [`dbus_socket`]).
fn dbus_display(cx: &Ctx<'_>, db: &crate::model::DbusDisplay) -> Result<String, Error> {
    let mut o = Opts::new("dbus");
    if db.p2p {
        o = o.switch("p2p", true);
    } else {
        let addr = match &db.address {
            Some(a) => a.clone(),
            None => format!(
                "unix:path={}",
                super::runtime_path("D-Bus socket", &dbus_socket(&cx.paths.runtime_dir))?
            ),
        };
        o = o.set_user("addr", "D-Bus address", &addr)?;
    }
    if let Some(gl) = &db.gl {
        o = o.switch("gl", gl.enable);
        if let Some(r) = &gl.rendernode {
            o = o.set_user("rendernode", "render node path", r)?;
        }
    }
    if let Some(id) = db.audio {
        o = o.set("audiodev", super::sound::audiodev(cx.def, Some(id))?);
    }
    Ok(o.build())
}

/// The socket of the private bus a D-Bus display without an address
/// joins, in the domain's runtime directory `run_dir`.
pub fn dbus_socket(run_dir: &std::path::Path) -> std::path::PathBuf {
    run_dir.join("dbus.sock")
}
