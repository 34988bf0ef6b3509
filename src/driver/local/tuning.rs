//! What a start decides and does around the QEMU command line: the
//! choices shared by a real start and `domxml-to-native` (emulator,
//! display port policy, firmware, NVRAM path, guest clock start), the
//! host state prepared before QEMU runs (the NVRAM file, the swtpm), and
//! what is set over QMP before the vCPUs run (display passwords, the
//! balloon target and statistics period, vCPU pinning).
//!
//! Every element these apply is one the definition accepts; none of them
//! fits on QEMU's command line (see the `argv` module's list).

use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

use super::layout::Layout;
use super::tpm::{self, Swtpm};
use crate::error::{Error, ErrorCode, Result};
use crate::model::{
    Adjustment, BalloonModel, CharSource, ClockBasis, ClockOffset, DomainDef, GraphicsType,
    TpmBackend, VolumeFormat,
};
use crate::qemu::argv::{RuntimePaths, channel_sockets, utc_datetime};
use crate::qemu::caps::QemuCaps;
use crate::qemu::firmware;
use crate::qemu::img;
use crate::qemu::qmp::Qmp;

/// The timeout of the QMP commands sent here.
const QMP_TIMEOUT: Duration = Duration::from_secs(30);

/// The first TCP port a display is given.
pub const FIRST_DISPLAY_PORT: u16 = 5900;

/// The QEMU binary a definition runs with: `<emulator>`, else
/// `qemu-system-ARCH` from `$PATH`, else from /usr/bin.
pub fn emulator(def: &DomainDef) -> PathBuf {
    super::driver::emulator_of(def)
}

/// Whether a TCP port can be bound on loopback and on every address (a
/// display listens on one of them).
pub fn port_free(port: u16) -> bool {
    TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok()
        && TcpListener::bind((Ipv4Addr::UNSPECIFIED, port)).is_ok()
}

/// The port policy for a display: its fixed port, or for autoport the
/// first from 5900 that is not in `taken` and is free on the host. `None`
/// without a display, or when it listens on no TCP port.
///
/// Errors: [`ErrorCode::ConfigInvalid`] for a fixed port out of range,
/// [`ErrorCode::OperationFailed`] when no port is free.
pub fn display_port(def: &DomainDef, taken: &[u16], check_free: bool) -> Result<Option<u16>> {
    let Some(g) = def.devices.graphics.first() else {
        return Ok(None);
    };
    let listens_tcp = g.listens_on_tcp();
    let no_port =
        g.kind == GraphicsType::Spice && g.autoport == Some(false) && g.port.is_none_or(|p| p <= 0);
    if !listens_tcp || no_port {
        return Ok(None);
    }
    let fixed = (!g.wants_autoport()).then(|| g.port.unwrap_or(i32::from(FIRST_DISPLAY_PORT)));
    let port = PortAsk {
        what: "display port",
        auto: "autoport='yes'",
        first: FIRST_DISPLAY_PORT,
    };
    port.pick(def, fixed, taken, check_free).map(Some)
}

/// How one kind of TCP port is given: a fixed one, checked free, or the
/// first free from `first` (not in `taken`, and with `check_free` free on
/// the host).
struct PortAsk {
    /// The port's name in messages.
    what: &'static str,
    /// How the definition asks for a port picked at start.
    auto: &'static str,
    /// Where the search for a free one starts.
    first: u16,
}

impl PortAsk {
    fn pick(
        &self,
        def: &DomainDef,
        fixed: Option<i32>,
        taken: &[u16],
        check_free: bool,
    ) -> Result<u16> {
        let what = self.what;
        let usable = |p: u16| !taken.contains(&p) && (!check_free || port_free(p));
        let Some(port) = fixed else {
            return (self.first..=u16::MAX).find(|p| usable(*p)).ok_or_else(|| {
                Error::new(
                    ErrorCode::OperationFailed,
                    format!("no free {what} from {} up", self.first),
                )
            });
        };
        let port = u16::try_from(port).ok().filter(|p| *p > 0).ok_or_else(|| {
            Error::new(
                ErrorCode::ConfigInvalid,
                format!("{what} {port} is out of range"),
            )
        })?;
        if check_free && !usable(port) {
            return Err(Error::new(
                ErrorCode::OperationFailed,
                format!(
                    "{what} {port} of domain '{}' is already in use; pick another or use {}",
                    def.name, self.auto
                ),
            ));
        }
        Ok(port)
    }
}

/// The files whose presence in [`Layout::spice_tls_dir`] turns SPICE's
/// TLS on.
pub const SPICE_TLS_FILES: [&str; 3] = ["ca-cert.pem", "server-cert.pem", "server-key.pem"];

/// The TLS port of a SPICE display (TLS on: `tls_on`): picked from 5900
/// as the display port is, where libvirt would pick one (see
/// [`crate::qemu::argv::spice_wants_tls_port`]); `None` otherwise (a
/// fixed `tlsPort` is the definition's own, checked by the command line).
///
/// Errors: [`ErrorCode::OperationFailed`] when none is free.
pub fn spice_tls_port(
    def: &DomainDef,
    taken: &[u16],
    check_free: bool,
    tls_on: bool,
) -> Result<Option<u16>> {
    let Some(g) = def.devices.graphics.first() else {
        return Ok(None);
    };
    if !tls_on || !crate::qemu::argv::spice_wants_tls_port(g, tls_on) {
        return Ok(None);
    }
    let port = PortAsk {
        what: "SPICE TLS port",
        auto: "autoport='yes'",
        first: FIRST_DISPLAY_PORT,
    };
    port.pick(def, None, taken, check_free).map(Some)
}

/// The first TCP port a VNC WebSocket listener is given (libvirt's
/// `websocket_port_min`).
pub const FIRST_WEBSOCKET_PORT: u16 = 5700;

/// The port of a VNC display's WebSocket listener: its fixed one, or for
/// `websocket='-1'` the first from 5700 that is not in `taken` and (with
/// `check_free`) is free on the host. `None` without one.
///
/// Errors: [`ErrorCode::OperationFailed`] when the port is taken, or none
/// is free.
pub fn websocket_port(def: &DomainDef, taken: &[u16], check_free: bool) -> Result<Option<u16>> {
    let Some(want) = def.devices.graphics.first().and_then(|g| g.websocket) else {
        return Ok(None);
    };
    let port = PortAsk {
        what: "VNC websocket port",
        auto: "websocket='-1'",
        first: FIRST_WEBSOCKET_PORT,
    };
    port.pick(def, (want > 0).then_some(want), taken, check_free)
        .map(Some)
}

/// `<iotune>` of each disk with a medium, as libvirt sets it: QEMU's
/// `block_set_io_throttle` on the disk's device (the six base limits
/// always, the others where set, and the group).
fn set_io_throttles(qmp: &Qmp, def: &DomainDef) -> Result<()> {
    if def.devices.disks.iter().all(|d| d.iotune.is_none()) {
        return Ok(());
    }
    let ids = crate::qemu::argv::disk_device_ids(def)?;
    for (d, id) in def.devices.disks.iter().zip(&ids) {
        set_io_throttle(qmp, d, id)?;
    }
    Ok(())
}

/// `<iotune>` of disk `d`, QEMU's device `id`; nothing for a disk
/// without one or an empty drive (which takes no throttle).
pub(crate) fn set_io_throttle(qmp: &Qmp, d: &crate::model::Disk, id: &str) -> Result<()> {
    let Some(t) = &d.iotune else { return Ok(()) };
    if d.source.is_none() && d.network.is_none() {
        return Ok(());
    }
    send_io_throttle(qmp, d, id, t)
}

/// Sets throttle `t` (all limits 0: none) on disk `d`, QEMU's device
/// `id`, which must hold a medium.
pub(crate) fn send_io_throttle(
    qmp: &Qmp,
    d: &crate::model::Disk,
    id: &str,
    t: &crate::model::IoTune,
) -> Result<()> {
    // The device holding the drive: a virtio disk's is the virtio device
    // inside its PCI proxy (libvirt's qomName).
    let qom = match d.effective_bus() {
        Some(crate::model::DiskBus::Virtio) => format!("/machine/peripheral/{id}/virtio-backend"),
        _ => format!("/machine/peripheral/{id}"),
    };
    let mut args = serde_json::Map::new();
    args.insert("id".into(), json!(qom));
    for (i, (name, qmp_name)) in crate::model::IOTUNE_LIMITS.iter().enumerate() {
        let v = t.get(name);
        if i < 6 || v > 0 {
            args.insert((*qmp_name).into(), json!(v));
        }
    }
    if let Some(g) = &t.group_name {
        args.insert("group".into(), json!(g));
    }
    qmp.execute(
        "block_set_io_throttle",
        Some(serde_json::Value::Object(args)),
        QMP_TIMEOUT,
    )
    .map(drop)
    .map_err(|e| {
        Error::new(
            e.code,
            format!(
                "disk {}: QEMU refused its <iotune>: {}",
                d.target, e.message
            ),
        )
    })
}

/// The choices every start makes for `def` before its command line is
/// built, shared with `domxml-to-native` so the two cannot drift: the
/// firmware of `<os firmware>` resolved into `<loader>` and `<nvram>` from
/// QEMU's firmware descriptors, the NVRAM store path under the layout's
/// NVRAM directory, the serial console log, the guest clock's start, and
/// the descriptor numbers of direct interfaces' macvtaps.
pub fn plan(
    def: &mut DomainDef,
    caps: &QemuCaps,
    layout: &Layout,
    paths: &mut RuntimePaths,
) -> Result<()> {
    let machine = def
        .os
        .machine
        .clone()
        .unwrap_or_else(|| caps.default_machine.clone());
    let dirs = firmware::search_dirs();
    if def.os.firmware.is_some() || def.os.loader.is_some() {
        let descriptors = firmware::load(&dirs);
        firmware::resolve(
            def,
            &caps.canonical_machine(&machine),
            &descriptors,
            &layout.nvram,
            &dirs,
        )?;
    }
    paths.nvram = Some(layout.nvram_file(&def.name));
    paths.serial_log = Some(layout.console_log_file(&def.name));
    paths.clock_base = clock_base(def)?;
    paths.tpm_cancel = tpm_cancel_path(def, Path::new("/sys/class"));
    paths.nbd_tls_dir = Some(layout.nbd_tls_dir());
    paths.chardev_tls_dir = Some(layout.chardev_tls_dir());
    let spice = layout.spice_tls_dir();
    paths.spice_tls_dir = SPICE_TLS_FILES
        .iter()
        .all(|f| spice.join(f).is_file())
        .then_some(spice);
    paths.net_fd_base = Some(crate::qemu::argv::NET_FD_BASE);
    // After every interface's descriptor.
    paths.vsock_fd = def
        .devices
        .vsock
        .as_ref()
        .map(|_| crate::qemu::argv::NET_FD_BASE + def.devices.interfaces.len() as i32);
    choose_render_node(def, Path::new("/dev/dri"))?;
    Ok(())
}

/// The cancel file of a passed-through TPM, found as libvirt finds it:
/// `misc/NAME/device/cancel`, then `tpm/NAME/device/cancel` under
/// `/sys/class`, for the device's file name; `None` when neither exists.
fn tpm_cancel_path(def: &DomainDef, sys_class: &Path) -> Option<std::path::PathBuf> {
    let TpmBackend::Passthrough { path } = &def.devices.tpms.first()?.backend else {
        return None;
    };
    let name = Path::new(path).file_name()?;
    ["misc", "tpm"]
        .iter()
        .map(|class| sys_class.join(class).join(name).join("device/cancel"))
        .find(|p| p.exists())
}

/// SPICE with OpenGL renders on a DRM render node: one `<gl>` names, or,
/// as libvirt picks it, the host's first `renderD*`. A host without one
/// cannot run the domain: `NoSupport`, saying so.
pub fn choose_render_node(def: &mut DomainDef, dri: &Path) -> Result<()> {
    for g in &mut def.devices.graphics {
        let Some(gl) = &mut g.spice.gl else { continue };
        if !gl.enable || gl.rendernode.is_some() {
            continue;
        }
        let mut nodes: Vec<PathBuf> = std::fs::read_dir(dri)
            .map(|entries| {
                entries
                    .flatten()
                    .filter(|e| e.file_name().to_string_lossy().starts_with("renderD"))
                    .map(|e| e.path())
                    .collect()
            })
            .unwrap_or_default();
        nodes.sort();
        let node = nodes.into_iter().next().ok_or_else(|| {
            Error::new(
                ErrorCode::NoSupport,
                format!(
                    "SPICE with OpenGL (<gl enable='yes'>) needs a DRM render node and this host has none in {}: turn it off with <gl enable='no'/>",
                    dri.display()
                ),
            )
        })?;
        gl.rendernode = Some(node.to_string_lossy().into_owned());
    }
    Ok(())
}

/// Prepares what must exist before QEMU starts: the NVRAM file (copied
/// from its template at the first start) and the software TPM. The
/// returned swtpm is killed when dropped, unless kept once QEMU runs.
pub fn prepare_host(
    def: &DomainDef,
    layout: &Layout,
    run_dir: &Path,
    tpm: &tpm::TpmStart<'_>,
) -> Result<Option<Swtpm>> {
    if let Some(store) = firmware::nvram_file(def, &layout.nvram) {
        firmware::ensure_nvram(def, &store)?;
    }
    transient_overlays(def, run_dir)?;
    tpm::start(
        &layout.tpm,
        def,
        run_dir,
        &layout.tpm_log_file(&def.name),
        tpm,
    )
}

/// Makes the overlay each `<transient/>` disk writes to (in the run
/// directory, so it goes with the run): a qcow2 image over the disk's
/// image, in the disk's stated format, of its size. The builder names
/// the same files, and has refused a transient disk that is not local.
fn transient_overlays(def: &DomainDef, run_dir: &Path) -> Result<()> {
    let ids = crate::qemu::argv::disk_device_ids(def)?;
    for (disk, id) in def.devices.disks.iter().zip(&ids) {
        let Some(source) = disk.source.as_deref().filter(|_| disk.transient) else {
            continue;
        };
        let format = super::snapshots::volume_format(disk.format, &disk.target)?;
        let size = img::info(Path::new(source), format, false)?.virtual_size;
        let opts = img::CreateOptions {
            backing: Some((source.into(), format)),
            ..img::CreateOptions::default()
        };
        let overlay = crate::qemu::argv::transient_overlay(run_dir, id);
        img::create(&overlay, VolumeFormat::Qcow2, size, &opts)?;
    }
    Ok(())
}

/// The offset of time zone `tz` (or of the host's when `None`) from UTC,
/// in seconds, now.
fn zone_offset(tz: Option<&str>) -> Result<i64> {
    let mut cmd = Command::new("date");
    cmd.arg("+%z");
    if let Some(tz) = tz {
        let known = !tz.contains("..")
            && (Path::new("/usr/share/zoneinfo").join(tz).is_file() || tz == "UTC");
        if !known {
            return Err(Error::new(
                ErrorCode::ConfigInvalid,
                format!(
                    "unknown time zone '{tz}' in <clock timezone>: use a name from /usr/share/zoneinfo (install the Debian package tzdata)"
                ),
            ));
        }
        cmd.env("TZ", format!(":{tz}"));
    }
    let out = cmd
        .output()
        .map_err(|e| Error::io("cannot run date to read a time zone offset", e))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let t = text.trim();
    let sign = if t.starts_with('-') { -1 } else { 1 };
    let digits = t.trim_start_matches(['+', '-']);
    let (h, m) = (digits.get(..2), digits.get(2..4));
    match (
        h.and_then(|h| h.parse::<i64>().ok()),
        m.and_then(|m| m.parse::<i64>().ok()),
    ) {
        (Some(h), Some(m)) if out.status.success() => Ok(sign * (h * 3600 + m * 60)),
        _ => Err(Error::new(
            ErrorCode::OperationFailed,
            format!("cannot read a time zone offset from date: '{t}'"),
        )),
    }
}

/// The moment the guest clock starts at, for clocks whose start depends
/// on when the domain starts (libvirt's rules: a variable clock, or utc
/// or localtime with a numeric adjustment, is now plus the adjustment
/// from its basis; a timezone clock is now in that zone). `None` for
/// the others.
pub fn clock_base(def: &DomainDef) -> Result<Option<String>> {
    let Some(clock) = &def.clock else {
        return Ok(None);
    };
    let (adjust, basis_local, zone) = match &clock.offset {
        ClockOffset::Utc {
            adjustment: Some(Adjustment::Seconds(s)),
        } => (*s, false, None),
        ClockOffset::Localtime {
            adjustment: Some(Adjustment::Seconds(s)),
        } => (*s, true, None),
        ClockOffset::Variable { adjustment, basis } => {
            (*adjustment, *basis == Some(ClockBasis::Localtime), None)
        }
        ClockOffset::Timezone(tz) => (0, false, Some(tz.as_str())),
        _ => return Ok(None),
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let offset = match (zone, basis_local) {
        (Some(tz), _) => zone_offset(Some(tz))?,
        (None, true) => zone_offset(None)?,
        (None, false) => 0,
    };
    Ok(Some(utc_datetime(now + offset + adjust)))
}

/// The protocol name QEMU and libvirt give a display type.
pub fn protocol_name(kind: GraphicsType) -> &'static str {
    match kind {
        GraphicsType::Vnc => "vnc",
        GraphicsType::Spice => "spice",
    }
}

/// Sets the display's password `g.passwd` (none: cleared) and its expiry
/// (`passwdValidTo`, as libvirt sets it: the moment, or never), with what
/// becomes of the clients connected (`connected`, QEMU's own default
/// when not written).
pub fn set_display_password(qmp: &Qmp, g: &crate::model::Graphics) -> Result<()> {
    let protocol = protocol_name(g.kind);
    let mut args = json!({"protocol": protocol, "password": g.passwd.as_deref().unwrap_or("")});
    if let Some(c) = g.connected {
        args["connected"] = json!(c.as_str());
    }
    qmp.execute("set_password", Some(args), QMP_TIMEOUT)?;
    let valid_to = g.passwd_valid_to;
    let time = valid_to.map_or("never".to_string(), |t| t.max(0).to_string());
    qmp.execute(
        "expire_password",
        Some(json!({"protocol": protocol, "time": time})),
        QMP_TIMEOUT,
    )?;
    Ok(())
}

/// Everything set over QMP between the monitor coming up and `cont`:
/// display passwords, the balloon target (`<currentMemory>`) and its
/// statistics period, the CPUs QEMU's threads may run on (`<vcpu
/// cpuset>`); and, in the live definition, the sockets of channels that
/// name none.
pub fn after_qmp(qmp: &Qmp, def: &mut DomainDef, pid: i32, run_dir: &Path) -> Result<()> {
    if let Some(g) = def.devices.graphics.first()
        && g.passwd.is_some()
    {
        set_display_password(qmp, g)?;
    }
    let balloon = def
        .devices
        .memballoon
        .as_ref()
        .is_none_or(|b| b.model != BalloonModel::None);
    if balloon {
        if let Some(cur) = def.current_memory_kib
            && cur < def.memory_kib
        {
            qmp.execute("balloon", Some(json!({"value": cur * 1024})), QMP_TIMEOUT)?;
        }
        if let Some(period) = def.devices.memballoon.as_ref().and_then(|b| b.stats_period) {
            qmp.execute(
                "qom-set",
                Some(json!({
                    "path": "/machine/peripheral/balloon0",
                    "property": "guest-stats-polling-interval",
                    "value": period,
                })),
                QMP_TIMEOUT,
            )?;
        }
    }
    for (i, net) in def.devices.interfaces.iter().enumerate() {
        set_link(qmp, net, &crate::qemu::argv::nic_id(net, i as u32))?;
    }
    set_io_throttles(qmp, def)?;
    // <vcpus>: the enabled, hotpluggable vCPUs, before any pinning.
    if let Some(ind) = &def.vcpu.individual {
        super::resize::plug_vcpus(qmp, &ind.hotplugged)?;
    }
    if let Some(set) = &def.vcpu.cpuset {
        pin(qmp, pid, set)?;
    }
    // <cputune>'s pins come after <vcpu cpuset>, which they refine.
    super::pinning::apply(qmp, def, pid, run_dir)?;
    super::pinning::apply_memtune(def, pid, run_dir)?;
    super::pinning::apply_blkiotune(def, pid, run_dir)?;
    // The live definition shows the sockets a start made up.
    if let Ok(sockets) = channel_sockets(def, run_dir) {
        for (c, socket) in def.devices.channels.iter_mut().zip(sockets) {
            if let (CharSource::Unix { path, listen, .. }, Some(socket)) = (&mut c.source, socket) {
                *path = Some(socket.to_string_lossy().into_owned());
                *listen = true;
            }
        }
    }
    Ok(())
}

/// `<link state='down'>`: the NIC `id` (its device id) starts with its
/// link down; up is QEMU's default.
pub fn set_link(qmp: &Qmp, net: &crate::model::Interface, id: &str) -> Result<()> {
    if net.link_up == Some(false) {
        qmp.execute(
            "set_link",
            Some(json!({"name": id, "up": false})),
            QMP_TIMEOUT,
        )?;
    }
    Ok(())
}

/// Pins every thread of QEMU process `pid` (its vCPU threads, as
/// `query-cpus-fast` lists them, among them) to the host CPUs of `cpuset`
/// that exist, as libvirt does for `<vcpu cpuset>` without `<cputune>`.
fn pin(qmp: &Qmp, pid: i32, cpuset: &str) -> Result<()> {
    let set = super::pinning::host_cpuset("<vcpu>", cpuset)?;
    let vcpus = qmp.execute("query-cpus-fast", None, QMP_TIMEOUT)?;
    let mut tids: Vec<i32> = vcpus
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|c| c.get("thread-id").and_then(Value::as_i64))
                .map(|t| t as i32)
                .collect()
        })
        .unwrap_or_default();
    if let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) {
        tids.extend(
            tasks
                .flatten()
                .filter_map(|t| t.file_name().to_str().and_then(|n| n.parse::<i32>().ok())),
        );
    }
    tids.sort_unstable();
    tids.dedup();
    for tid in tids {
        super::pinning::set_affinity(tid, &set, cpuset)?;
    }
    Ok(())
}

/// What undefining a domain does with the state it keeps beside its
/// definition, decided before the definition goes.
#[derive(Debug)]
pub struct UndefinePlan {
    nvram: Option<PathBuf>,
    tpm: Option<PathBuf>,
}

/// Decides what undefining `def` removes, as libvirt does: a UEFI variable
/// store that exists goes with `nvram`, stays with `keep_nvram`, and
/// otherwise stops the undefine; the TPM state goes unless kept (a
/// persistent one only with `tpm`).
///
/// Errors: [`ErrorCode::InvalidArgument`] for contradicting flags,
/// [`ErrorCode::OperationInvalid`] for a variable store and no flag about
/// it.
pub fn undefine_plan(
    layout: &Layout,
    def: &DomainDef,
    flags: crate::driver::UndefineFlags,
) -> Result<UndefinePlan> {
    if flags.nvram && flags.keep_nvram {
        return Err(Error::new(
            ErrorCode::InvalidArgument,
            "cannot both keep and delete nvram",
        ));
    }
    if flags.tpm && flags.keep_tpm {
        return Err(Error::new(
            ErrorCode::InvalidArgument,
            "cannot both keep and delete TPM",
        ));
    }
    // A network store is its server's: an undefine leaves it alone.
    let network = def.os.nvram.as_ref().is_some_and(|n| n.is_network());
    let nvram = firmware::nvram_file(def, &layout.nvram)
        .or_else(|| {
            // A domain whose firmware is chosen at start has its store at
            // the default path.
            def.os.is_uefi().then(|| layout.nvram_file(&def.name))
        })
        .filter(|p| !network && p.exists());
    let nvram = match nvram {
        Some(p) if flags.nvram => Some(p),
        Some(_) if flags.keep_nvram => None,
        Some(p) => {
            return Err(Error::new(
                ErrorCode::OperationInvalid,
                format!(
                    "cannot undefine domain with nvram ({}): use --nvram to remove it or --keep-nvram to keep it",
                    p.display()
                ),
            ));
        }
        None => None,
    };
    let tpm = tpm::state_to_remove(&layout.tpm, def, flags.tpm, flags.keep_tpm);
    Ok(UndefinePlan { nvram, tpm })
}

impl UndefinePlan {
    /// Removes what the plan says, once the definition is gone.
    pub fn carry_out(self) -> Result<()> {
        if let Some(p) = &self.nvram {
            std::fs::remove_file(p)
                .map_err(|e| Error::io(format!("failed to remove nvram: {}", p.display()), e))?;
        }
        if let Some(d) = &self.tpm {
            match crate::sys::fsutil::remove_tree(d) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(Error::io(
                        format!("cannot remove the TPM state {}", d.display()),
                        e,
                    ));
                }
            }
        }
        Ok(())
    }
}

/// How long a watchdog's memory dump may take.
const DUMP_TIMEOUT: Duration = Duration::from_secs(600);

/// A watchdog fired (QMP `WATCHDOG`): for `<watchdog action='dump'>`,
/// QEMU paused the guest (the command line says `pause`); dump its memory
/// into `dump_dir` and let it run on, as libvirt does. Returns the dump
/// file, or `None` when the action was not a dump.
pub(crate) fn on_watchdog(
    run: &super::runtime::Running,
    data: &Value,
    dump_dir: &Path,
) -> Result<Option<PathBuf>> {
    let dump = run
        .live_def()
        .devices
        .watchdogs
        .iter()
        .any(|w| w.action == Some(crate::model::WatchdogAction::Dump));
    if !dump || data.get("action").and_then(Value::as_str) != Some("pause") {
        return Ok(None);
    }
    let qmp = run.qmp()?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let file = dump_dir.join(format!("{}-watchdog-{now}.core", run.def.name));
    let path = file
        .to_str()
        .ok_or_else(|| Error::new(ErrorCode::Internal, "the dump directory is not UTF-8"))?;
    qmp.execute(
        "dump-guest-memory",
        Some(json!({"paging": false, "protocol": format!("file:{path}")})),
        DUMP_TIMEOUT,
    )?;
    qmp.execute("cont", None, QMP_TIMEOUT)?;
    Ok(Some(file))
}

/// What `domxml-to-native` shows for a `<vsock>` whose CID the start
/// picks (auto='yes'): the first it tries, 3.
pub fn preview_vsock(def: &mut DomainDef) {
    if let Some(v) = def
        .devices
        .vsock
        .as_mut()
        .filter(|v| v.auto_cid || v.cid.is_none())
    {
        v.cid = Some(3);
    }
}

/// What `domxml-to-native` shows for taps the start creates: the start
/// names each when it makes it, so the preview names them `vnetN` (and
/// macvtaps `macvtapN`) in interface order.
pub fn preview_taps(def: &mut DomainDef) {
    for (i, net) in def.devices.interfaces.iter_mut().enumerate() {
        let tap = matches!(
            net.kind,
            crate::model::InterfaceType::Bridge(_) | crate::model::InterfaceType::Ethernet
        );
        if tap && net.target_dev.is_none() {
            net.target_dev = Some(format!("vnet{i}"));
        }
        if matches!(net.kind, crate::model::InterfaceType::Direct { .. })
            && net.target_dev.is_none()
        {
            net.target_dev = Some(format!("macvtap{i}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Graphics, GraphicsType, SpiceGl};

    fn spice_gl(rendernode: Option<&str>) -> DomainDef {
        let mut def = DomainDef::from_xml(
            "<domain type='qemu'><name>gl</name><memory>65536</memory><os><type>hvm</type></os></domain>",
        )
        .unwrap();
        let mut g = Graphics::new(GraphicsType::Spice);
        g.spice.gl = Some(SpiceGl {
            enable: true,
            rendernode: rendernode.map(str::to_string),
        });
        def.devices.graphics.push(g);
        def
    }

    fn node(def: &DomainDef) -> Option<String> {
        def.devices.graphics[0]
            .spice
            .gl
            .as_ref()?
            .rendernode
            .clone()
    }

    #[test]
    fn spice_gl_gets_the_first_render_node() {
        let dri = std::env::temp_dir().join(format!("qvirt-dri-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dri);
        std::fs::create_dir_all(&dri).unwrap();
        let mut def = spice_gl(None);
        let e = choose_render_node(&mut def, &dri).unwrap_err();
        assert_eq!(e.code, ErrorCode::NoSupport);
        assert!(e.message.contains("render node"), "{}", e.message);
        for f in ["card0", "renderD129", "renderD128"] {
            std::fs::write(dri.join(f), b"").unwrap();
        }
        choose_render_node(&mut def, &dri).unwrap();
        assert_eq!(
            node(&def),
            Some(dri.join("renderD128").display().to_string())
        );
        // A node the XML names is kept; GL turned off needs none.
        let mut named = spice_gl(Some("/dev/dri/renderD200"));
        choose_render_node(&mut named, Path::new("/nonexistent")).unwrap();
        assert_eq!(node(&named).as_deref(), Some("/dev/dri/renderD200"));
        let mut off = spice_gl(None);
        off.devices.graphics[0].spice.gl.as_mut().unwrap().enable = false;
        choose_render_node(&mut off, Path::new("/nonexistent")).unwrap();
        assert_eq!(node(&off), None);
        std::fs::remove_dir_all(&dri).unwrap();
    }
}
