//! Starting QEMU for a domain: runtime directory, VNC port, command line,
//! the detached process, the monitor, and `cont` once everything is set.
//!
//! A start that fails at any step kills what it started and removes the
//! runtime directory, and says why with the tail of QEMU's log and the
//! command line it ran.

use std::collections::BTreeSet;
use std::fs::File;
use std::os::fd::AsFd;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::driver::{Core, emulator_of, lock};
use super::jobs::AsyncJobGuard;
use super::monitor::{self, MonitorLink};
use super::runtime::{RunState, Running, Status};
use crate::driver::{DomainState, StateReason};
use crate::error::{Error, ErrorCode, Result};
use crate::model::{CharSource, DomainDef};
use crate::qemu::argv::{RuntimePaths, build_argv, with_pci_addresses};
use crate::qemu::qmp::Qmp;
use crate::sys::fsutil::ensure_private_dir;
use crate::sys::hostnet;
use crate::sys::process::{self, ExitWatch, ProcessId};

/// How many times a start chooses another display port when one chosen
/// free was taken meanwhile.
const DISPLAY_PORT_TRIES: u32 = 3;

/// What QEMU says when the display port it was given is taken.
const PORT_TAKEN: &str = "Failed to find an available port";

/// The last line QEMU wrote to its log (its error when it exits at once).
fn last_log_line(log: &Path) -> String {
    let text = std::fs::read(log).unwrap_or_default();
    let tail = &text[text.len().saturating_sub(4096)..];
    String::from_utf8_lossy(tail)
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .to_string()
}

/// How long QEMU may take to open its monitor.
const QMP_DEADLINE: Duration = Duration::from_secs(30);
pub(crate) use crate::qemu::qmp::QMP_TIMEOUT;

/// How to start.
#[derive(Clone)]
pub(crate) struct LaunchOptions<'a> {
    /// Whether the domain has a persistent definition.
    pub persistent: bool,
    /// A saved state to load before the vCPUs run: the file, positioned
    /// at the start of QEMU's migration stream.
    pub incoming: Option<&'a File>,
    /// Leave the vCPUs stopped.
    pub paused: bool,
    /// The reason recorded for the running state.
    pub reason: StateReason,
    /// The asynchronous job that follows an incoming state's progress.
    pub job: Option<&'a AsyncJobGuard<'a>>,
    /// An incoming migration: QEMU waits for the stream on this URI
    /// (`tcp:ADDR:PORT`) and stays paused; the run is marked incoming.
    pub listen: Option<String>,
    /// A file written into the runtime directory before QEMU starts, so
    /// that a manager killed at any later point finds it (name, bytes).
    pub marker: Option<(&'static str, Vec<u8>)>,
    /// A managed save image that `incoming` reads: deleted once QEMU
    /// holds its state and the status file records the run, before the
    /// vCPUs run (see [`Core::launch`]).
    pub consume: Option<&'a Path>,
}

impl Core {
    /// Starts QEMU for `def` as run `id` and registers nothing: the caller
    /// puts the returned run into the domain's entry, then starts its
    /// monitor with [`monitor::watch`].
    pub(crate) fn launch(
        &self,
        def: DomainDef,
        id: u32,
        opts: LaunchOptions<'_>,
    ) -> Result<(Arc<Running>, MonitorLink)> {
        // A display port chosen free can be taken by another manager's
        // QEMU before ours binds it (the check and the bind are apart);
        // QEMU then stops at once, before it read anything: choose again.
        let autoport = def
            .devices
            .graphics
            .first()
            .is_some_and(|g| g.wants_autoport());
        let mut tries = 0;
        loop {
            match self.launch_once(def.clone(), id, opts.clone()) {
                Err(e)
                    if autoport
                        && tries < DISPLAY_PORT_TRIES
                        && (e.message.contains(PORT_TAKEN)
                            || last_log_line(&self.layout.log_file(&def.name))
                                .contains(PORT_TAKEN)) =>
                {
                    tries += 1;
                    self.log.warn(&format!(
                        "domain '{}': its display port was taken before QEMU bound it; choosing another",
                        def.name
                    ));
                }
                done => return done,
            }
        }
    }

    /// One try of [`Core::launch`].
    fn launch_once(
        &self,
        mut def: DomainDef,
        id: u32,
        opts: LaunchOptions<'_>,
    ) -> Result<(Arc<Running>, MonitorLink)> {
        let cold_boot = opts.incoming.is_none() && opts.listen.is_none();
        let dropped = super::preflight::apply_startup_policy(&mut def, cold_boot, |d| {
            match (&d.volume, &d.source) {
                (Some(v), _) => self.volume_path(&v.pool, &v.volume).is_err(),
                (None, Some(p))
                    if matches!(
                        d.kind,
                        crate::model::DiskType::File | crate::model::DiskType::Block
                    ) =>
                {
                    !Path::new(p).exists()
                }
                _ => false,
            }
        });
        for (why, _) in &dropped {
            self.log
                .warn(&format!("domain '{}': startupPolicy: {why}", def.name));
        }
        self.resolve_volume_disks(&mut def)?;
        let emulator = emulator_of(&def);
        let caps = self.caps(&emulator)?;
        super::preflight::check_paths(&def)?;
        super::preflight::check_nbd_tls(&def, &self.layout.nbd_tls_dir())?;
        super::preflight::check_chardev_tls(&def, &self.layout.chardev_tls_dir())?;
        let host = super::hostcheck::Host::default();
        host.check(&def)?;
        host.pick_render_nodes(&mut def)?;
        let name = def.name.clone();
        let mut paths = RuntimePaths::new(self.layout.run_dir(&def.uuid));
        super::tuning::plan(&mut def, &caps, &self.layout, &mut paths)?;
        // Before the runtime dir exists, so that a taken port leaves none.
        let ports = self.pick_display_ports(&def, paths.spice_tls_dir.is_some())?;
        let (vnc_port, websocket_port, spice_tls_port) =
            (ports.vnc, ports.websocket, ports.spice_tls);
        hostnet::check_forwards(&def)?;
        hostnet::check_socket_ports(&def)?;
        // The taps go again whenever this returns an error; once QEMU runs
        // they are the run's, removed when it ends.
        hostnet::create_taps(&mut def)?;
        let mut taps = TapGuard {
            nets: def.devices.interfaces.clone(),
            core: self,
        };
        // The runtime directory is checked again at each start, not only
        // when the state was opened: QEMU gets paths under it.
        crate::sys::fsutil::check_private_dir(&self.layout.run)?;
        let run_dir = self.layout.run_dir(&def.uuid);
        if run_dir.exists() {
            // Left by a run that is over (the caller checked the domain is
            // shut off): stale sockets would make QEMU's bind fail.
            crate::sys::fsutil::remove_tree(&run_dir)
                .map_err(|e| Error::io(format!("cannot clear {}", run_dir.display()), e))?;
        }
        ensure_private_dir(&run_dir)?;
        if let Some((file, bytes)) = &opts.marker
            && let Err(e) = crate::sys::fsutil::write_atomic(&run_dir.join(file), bytes)
        {
            let _ = crate::sys::fsutil::remove_tree(&run_dir);
            return Err(e);
        }
        // The host PCI devices, moved to vfio-pci where managed; given
        // back when this returns an error, else when the run ends.
        let host_devices = match self.take_host_devices(&def, &run_dir) {
            Ok(t) => t,
            Err(e) => {
                let _ = crate::sys::fsutil::remove_tree(&run_dir);
                return Err(e);
            }
        };
        // QEMU opens the console log by name, and would follow a link
        // planted there: the file is made (or checked) here first.
        if let Some(console_log) = &paths.serial_log
            && let Err(e) = process::open_log(console_log)
        {
            let _ = crate::sys::fsutil::remove_tree(&run_dir);
            return Err(e);
        }
        // The macvtaps of direct interfaces, once the runtime directory
        // exists (their device nodes may have to be made there); the
        // guard removes them with the taps.
        let mut net_fds = match hostnet::create_macvtaps(&mut def, &run_dir) {
            Ok(fds) => fds,
            Err(e) => {
                let _ = crate::sys::fsutil::remove_tree(&run_dir);
                return Err(e);
            }
        };
        taps.nets.clone_from(&def.devices.interfaces);
        // And the taps that reach QEMU as descriptors opened through
        // another tun/tap device (<backend tap>).
        match hostnet::open_custom_taps(&def) {
            Ok(fds) => net_fds.extend(fds),
            Err(e) => {
                let _ = crate::sys::fsutil::remove_tree(&run_dir);
                return Err(e);
            }
        }
        // The vsock's device with the guest's CID claimed on it (a free
        // one for auto='yes'), which the live definition then shows.
        let vsock_fd = match def.devices.vsock.as_mut() {
            Some(v) => match crate::sys::vsock::claim(v.cid.filter(|_| !v.auto_cid), &name) {
                Ok((fd, cid)) => {
                    v.cid = Some(cid);
                    Some(fd)
                }
                Err(e) => {
                    let _ = crate::sys::fsutil::remove_tree(&run_dir);
                    return Err(e);
                }
            },
            None => None,
        };
        paths.vnc_port = vnc_port;
        paths.websocket_port = websocket_port;
        paths.spice_tls_port = spice_tls_port;
        paths.incoming = opts.incoming.is_some() || opts.listen.is_some();
        // The live definition names the PCI slot each device got, as
        // libvirt's does, so that a device plugged in later takes a free
        // one (and a restore or migration keeps them).
        let argv = match build_argv(&def, &caps, &paths)
            .and_then(|argv| Ok((argv, with_pci_addresses(&def, &caps)?)))
        {
            Ok((argv, addressed)) => {
                def = addressed;
                argv
            }
            Err(e) => {
                let _ = crate::sys::fsutil::remove_tree(&run_dir);
                return Err(e);
            }
        };
        // The network disks' credentials, for QEMU's secret objects.
        if let Err(e) = self.write_disk_secrets(&def, &run_dir, None) {
            let _ = crate::sys::fsutil::remove_tree(&run_dir);
            return Err(e);
        }
        // The SEV guest owner's certificate and session, for QEMU.
        if let Err(e) = super::sev::write_guest_owner_files(&def, &run_dir) {
            let _ = crate::sys::fsutil::remove_tree(&run_dir);
            return Err(e);
        }
        // The NVRAM file and the swtpm; the swtpm dies with a failed start.
        let tpm_key = match self.tpm_key(&def) {
            Ok(k) => k,
            Err(e) => {
                let _ = crate::sys::fsutil::remove_tree(&run_dir);
                return Err(e);
            }
        };
        let tpm = super::tpm::TpmStart {
            key: tpm_key.as_deref(),
            incoming: paths.incoming,
        };
        let swtpm = match super::tuning::prepare_host(&def, &self.layout, &run_dir, &tpm) {
            Ok(t) => t,
            Err(e) => {
                let _ = crate::sys::fsutil::remove_tree(&run_dir);
                return Err(e);
            }
        };
        // A virtiofsd per shared folder, listening before QEMU connects.
        let fs_log = self.layout.log_file(&format!("{name}-virtiofsd"));
        let virtiofsd = match super::virtiofs::start(&def, &run_dir, &fs_log) {
            Ok(v) => v,
            Err(e) => {
                let _ = crate::sys::fsutil::remove_tree(&run_dir);
                return Err(e);
            }
        };
        // A passt per passt interface, listening before QEMU connects.
        let passt = match super::passt::start(&def, &run_dir, &self.layout.log_file(&name)) {
            Ok(p) => p,
            Err(e) => {
                drop(virtiofsd);
                let _ = crate::sys::fsutil::remove_tree(&run_dir);
                return Err(e);
            }
        };
        // The D-Bus display's own bus, listening before QEMU joins it.
        let bus = match super::dbus::start(&def, &run_dir, &self.layout.log_file(&name)) {
            Ok(b) => b,
            Err(e) => {
                drop(passt);
                drop(virtiofsd);
                let _ = crate::sys::fsutil::remove_tree(&run_dir);
                return Err(e);
            }
        };
        let log = self.layout.log_file(&name);
        // As libvirt's taint: what <qemu:commandline>, <qemu:capabilities>
        // and interface scripts change is beyond the manager's knowledge.
        for (taint, why) in super::runtime::Taint::of_def(&def) {
            let note = format!("domain '{name}' is tainted: {} ({why})", taint.name());
            self.log.warn(&note);
            if let Ok(mut f) = process::open_log(&log) {
                use std::io::Write;
                let _ = writeln!(f, "qvirt: {note}");
            }
        }
        // QEMU inherits each macvtap, and the vsock device, at the number
        // its command line names.
        let base = paths.net_fd_base.unwrap_or(crate::qemu::argv::NET_FD_BASE);
        let inherited: Vec<_> = net_fds
            .iter()
            .map(|(i, fd)| (fd.as_fd(), base + *i as i32))
            .chain(
                vsock_fd
                    .as_ref()
                    .zip(paths.vsock_fd)
                    .map(|(f, n)| (f.as_fd(), n)),
            )
            .collect();
        let spawned = process::spawn_with_fds(&argv, &log, &inherited);
        drop(inherited);
        drop(net_fds);
        drop(vsock_fd);
        let pid = match spawned {
            Ok(pid) => pid,
            Err(e) => {
                let _ = crate::sys::fsutil::remove_tree(&run_dir);
                return Err(e);
            }
        };
        if self.use_vm_group.load(std::sync::atomic::Ordering::SeqCst) {
            let group = self.vm_group.get_or_init(|| {
                let (group, why_not) = crate::sys::cgroup::VmGroup::detect();
                if let Some(why) = why_not {
                    self.log.info(&why);
                }
                group
            });
            if let Err(e) = group.adopt(pid.pid) {
                self.log.warn(&format!(
                    "domain '{name}': QEMU (pid {}) stays in its own scheduling group: {e}",
                    pid.pid
                ));
            }
        }
        let fail = |e: Error| -> Error {
            // A QEMU that exited on its own refused to start, whatever
            // error that caused on our side (often a reset QMP socket).
            // (The socket can close a moment before the process is gone.)
            let exited = ExitWatch::open(pid).is_none_or(|w| w.wait(Some(Duration::from_secs(1))));
            process::kill_and_wait(pid, Duration::from_secs(5));
            // The CPU, memory and block I/O cgroups made for it, now empty.
            let _ = super::pinning::remove_group(&run_dir);
            let _ = crate::sys::fsutil::remove_tree(&run_dir);
            let tail = process::log_tail(&log, 12);
            // What failed first, in a line: QEMU's own error when it
            // exited, else ours; then where to read more. The command line
            // is in the log, above QEMU's output.
            let what = match super::preflight::qemu_error_line(&tail) {
                Some(line) if exited => format!("QEMU: {line}"),
                _ => e.message.clone(),
            };
            Error::new(
                if exited || e.code == ErrorCode::OperationFailed || e.code == ErrorCode::Timeout {
                    ErrorCode::QemuFailed
                } else {
                    e.code
                },
                format!(
                    "cannot start domain '{name}': {what}\nsee {} for QEMU's output and command line",
                    log.display()
                ),
            )
        };
        let (mut link, sink) = monitor::channel().map_err(&fail)?;
        let qmp = Qmp::connect_watching(
            &paths.qmp_socket,
            Instant::now() + QMP_DEADLINE,
            || {
                (!process::is_alive(pid)).then(|| {
                    Error::new(
                        ErrorCode::QemuFailed,
                        "QEMU exited before its monitor was ready",
                    )
                })
            },
            sink,
        )
        .map_err(&fail)?;
        if let Err(e) = self
            .prepare_guest(&qmp, &mut def, opts.incoming, opts.job)
            .and_then(|()| super::tuning::after_qmp(&qmp, &mut def, pid.pid, &run_dir))
            .and_then(|()| match (opts.incoming, &opts.listen) {
                // A saved or migrated state brings its trays with it.
                (None, None) => super::trays::open_trays(&qmp, &def),
                _ => Ok(()),
            })
            .and_then(|()| match &opts.listen {
                Some(uri) => listen_for_migration(&qmp, uri),
                None => Ok(()),
            })
        {
            drop(qmp);
            return Err(fail(e));
        }
        // A display on a UNIX socket whose path the start chose: the
        // live definition names it, as libvirt's does.
        for g in &mut def.devices.graphics {
            let path = run_dir.join(format!("{}.sock", g.kind.as_str()));
            for listen in &mut g.listens {
                if let crate::model::GraphicsListen::Socket(p @ None) = listen {
                    *p = Some(path.to_string_lossy().into_owned());
                }
            }
        }
        // The private bus of a D-Bus display, by the address QEMU joined.
        if super::dbus::needed(&def)
            && let Some(db) = def.devices.dbus_display.as_mut()
        {
            let socket = crate::qemu::argv::dbus_socket(&run_dir);
            db.address = Some(format!("unix:path={}", socket.display()));
        }
        if let Some(g) = def.devices.graphics.first_mut() {
            if let Some(port) = vnc_port {
                g.port = Some(i32::from(port));
            }
            if let Some(port) = websocket_port {
                g.websocket = Some(i32::from(port));
            }
            if let Some(port) = spice_tls_port {
                g.tls_port = Some(i32::from(port));
            }
        }
        let run = match new_running(
            id,
            def,
            pid,
            Some(qmp),
            &run_dir,
            vnc_port,
            (
                DomainState::Paused,
                if opts.listen.is_some() {
                    StateReason::Migrating
                } else {
                    StateReason::User
                },
            ),
            &mut link,
        ) {
            Ok(run) => run,
            Err(e) => return Err(fail(e)),
        };
        if opts.listen.is_some() {
            run.incoming
                .store(true, std::sync::atomic::Ordering::SeqCst);
        }
        // A managed save image must never outlive the run it starts: once
        // the guest runs, its disks move on and the image is stale. The
        // status file comes first, so that a manager killed at any later
        // point finds this QEMU (paused, its state loaded) and the image is
        // gone (or is removed by that manager's reattach) before the vCPUs
        // ever run; a manager killed before it finds no status, stops the
        // QEMU, and keeps the image.
        if let Some(image) = opts.consume {
            let consumed = write_status(&run, opts.persistent).and_then(|()| {
                super::faults::crash_point("restore-recorded");
                crate::sys::fsutil::remove_durable(image)
            });
            if let Err(e) = consumed {
                drop(run);
                return Err(fail(e));
            }
        }
        if opts.consume.is_some() {
            super::faults::crash_point("restore-consumed");
        }
        if !opts.paused {
            let resumed = run
                .qmp()
                .and_then(|qmp| qmp.execute("cont", None, QMP_TIMEOUT));
            match resumed {
                // The monitor starts after this returns: until then the
                // launcher is the run's one writer.
                Ok(_) => run.set_state(DomainState::Running, opts.reason),
                // The image is gone: the QEMU now holds the only copy of
                // the guest's state, so it stays, paused, for the user to
                // resume or destroy.
                Err(e) if opts.consume.is_some() => self.log.error(&format!(
                    "domain '{name}': restored, but its vCPUs did not start ({e}); it stays paused"
                )),
                Err(e) => {
                    drop(run);
                    return Err(fail(e));
                }
            }
        }
        if let Err(e) = write_status(&run, opts.persistent) {
            if opts.consume.is_some() {
                self.log.error(&format!("domain '{name}': {e}"));
            } else {
                drop(run);
                return Err(fail(e));
            }
        }
        taps.nets.clear();
        for (_, kind) in dropped {
            self.emit(super::monitor::handle_of(run.def.uuid, &run), kind);
        }
        if let Some(t) = swtpm {
            t.keep();
        }
        virtiofsd.keep();
        passt.keep();
        bus.keep();
        host_devices.keep();
        Ok((run, link))
    }

    /// Everything between the monitor coming up and `cont`: load a saved
    /// state, set the VNC password, learn the pty paths.
    fn prepare_guest(
        &self,
        qmp: &Qmp,
        def: &mut DomainDef,
        incoming: Option<&File>,
        job: Option<&AsyncJobGuard<'_>>,
    ) -> Result<()> {
        if let Some(file) = incoming {
            qmp.getfd("restore", file.as_fd(), QMP_TIMEOUT)?;
            qmp.execute(
                "migrate-incoming",
                Some(json!({"uri": "fd:restore"})),
                QMP_TIMEOUT,
            )?;
            wait_migration(qmp, "restore", job, false)?;
        }
        if def
            .devices
            .serials
            .iter()
            .chain(&def.devices.consoles)
            .chain(&def.devices.parallels)
            .any(|c| matches!(c.source, CharSource::Pty { .. }))
        {
            let chardevs = qmp.execute("query-chardev", None, QMP_TIMEOUT)?;
            fill_pty_paths(def, &chardevs);
        }
        Ok(())
    }

    /// The display's TCP ports for `def`: the VNC port (its fixed port,
    /// checked free, or the first free one from 5900 for autoport) and
    /// its WebSocket listener's (fixed, or the first free from 5700), and
    /// a SPICE display's TLS port where one is picked (`tls_on`: SPICE's
    /// TLS is configured); held
    /// for this start until the reservation is dropped.
    fn pick_display_ports(&self, def: &DomainDef, tls_on: bool) -> Result<PortReservation> {
        let mut held = PortReservation::default();
        if def.devices.graphics.is_empty() {
            return Ok(held);
        }
        let mut starting = lock(&PORTS_STARTING);
        let taken: Vec<u16> = lock(&self.inner)
            .entries
            .values()
            .filter_map(|e| e.running.as_ref())
            .flat_map(|r| {
                let g = r.def.devices.graphics.first();
                let port = |p: Option<i32>| p.and_then(|p| u16::try_from(p).ok());
                [
                    r.vnc_port,
                    port(g.and_then(|g| g.websocket)),
                    port(g.and_then(|g| g.tls_port)),
                ]
            })
            .flatten()
            .chain(starting.iter().copied())
            .collect();
        held.vnc = super::tuning::display_port(def, &taken, true)?;
        let taken: Vec<u16> = taken.into_iter().chain(held.vnc).collect();
        held.websocket = super::tuning::websocket_port(def, &taken, true)?;
        let taken: Vec<u16> = taken.into_iter().chain(held.websocket).collect();
        held.spice_tls = super::tuning::spice_tls_port(def, &taken, true, tls_on)?;
        starting.extend(
            held.vnc
                .iter()
                .chain(&held.websocket)
                .chain(&held.spice_tls),
        );
        Ok(held)
    }
}

/// Display ports picked by starts in this process whose QEMU may not
/// listen yet. Every manager of the process skips them (a program, or a
/// test, may open several), so two starts at once never pick the same
/// port.
static PORTS_STARTING: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());

/// The display ports held in [`PORTS_STARTING`] for one start, let go
/// when the start is over (its QEMU then listens on them, or never will).
#[derive(Default)]
struct PortReservation {
    vnc: Option<u16>,
    websocket: Option<u16>,
    spice_tls: Option<u16>,
}

impl Drop for PortReservation {
    fn drop(&mut self) {
        let mut starting = lock(&PORTS_STARTING);
        for p in self
            .vnc
            .iter()
            .chain(&self.websocket)
            .chain(&self.spice_tls)
        {
            starting.remove(p);
        }
    }
}

/// Removes the taps of a start that failed when dropped, unless its
/// `names` were cleared because the start went through.
struct TapGuard<'a> {
    /// The interfaces, their devices named once made.
    nets: Vec<crate::model::Interface>,
    core: &'a Core,
}

impl Drop for TapGuard<'_> {
    fn drop(&mut self) {
        self.core.release_net(&self.nets, "a failed start");
    }
}

impl Core {
    /// Lets go of the host devices of interfaces `nets` (taps, macvtaps,
    /// Open vSwitch ports), logging those that cannot be; `after` says
    /// what ended their use, for the log.
    pub(crate) fn release_net(&self, nets: &[crate::model::Interface], after: &str) {
        for (tap, e) in hostnet::release(nets) {
            self.log.error(&format!(
                "cannot remove network device '{tap}' after {after}: {e}"
            ));
        }
    }
}

/// Has QEMU (started with `-incoming defer`) wait for a migration stream
/// on `uri`, with the capabilities both sides must agree on.
fn listen_for_migration(qmp: &Qmp, uri: &str) -> Result<()> {
    qmp.execute(
        "migrate-set-capabilities",
        Some(json!({"capabilities": [
            {"capability": "events", "state": true},
            {"capability": "late-block-activate", "state": true},
        ]})),
        QMP_TIMEOUT,
    )?;
    // Post-copy, if the source switches to it (`--timeout-postcopy`):
    // QEMU refuses it where it cannot catch page faults (no usable
    // userfaultfd), and then only a post-copy switch fails.
    let _ = qmp.execute(
        "migrate-set-capabilities",
        Some(json!({"capabilities": [{"capability": "postcopy-ram", "state": true}]})),
        QMP_TIMEOUT,
    );
    qmp.execute("migrate-incoming", Some(json!({"uri": uri})), QMP_TIMEOUT)?;
    Ok(())
}

/// How long a migration may go without moving a byte before it is given
/// up.
const STALLED: Duration = Duration::from_secs(600);

/// Waits for an incoming or outgoing migration (a save to a file, a
/// restore from one) to finish, publishing its progress to `job` and
/// stopping when someone aborts it: an outgoing one is cancelled (QEMU
/// goes on running the guest) and an incoming one given up at once (the
/// caller stops its QEMU). Gives up when nothing moved for [`STALLED`].
pub(crate) fn wait_migration(
    qmp: &Qmp,
    what: &str,
    job: Option<&AsyncJobGuard<'_>>,
    outgoing: bool,
) -> Result<()> {
    let mut last_move = Instant::now();
    let mut moved = 0;
    let mut cancelled = false;
    let mut pause = super::jobs::QemuPoll::new(Duration::from_micros(500));
    let aborted = || {
        Error::new(
            ErrorCode::OperationAborted,
            format!("the job to {what} was aborted on request"),
        )
    };
    loop {
        if let Some(job) = job
            && job.aborted()
            && !cancelled
        {
            if !outgoing {
                return Err(aborted());
            }
            qmp.execute("migrate_cancel", None, QMP_TIMEOUT)?;
            cancelled = true;
        }
        let info = qmp.execute("query-migrate", None, QMP_TIMEOUT)?;
        let transferred = super::jobs::migration_progress(job, &info);
        match info.get("status").and_then(Value::as_str) {
            Some("completed") => return Ok(()),
            Some("cancelled") if cancelled => return Err(aborted()),
            Some("failed") | Some("cancelled") => {
                let why = info
                    .get("error-desc")
                    .and_then(Value::as_str)
                    .unwrap_or("no reason given");
                return Err(Error::new(
                    ErrorCode::OperationFailed,
                    format!("QEMU could not {what}: {why}"),
                ));
            }
            _ => {}
        }
        if transferred != moved {
            moved = transferred;
            last_move = Instant::now();
        } else if last_move.elapsed() > STALLED {
            return Err(Error::new(
                ErrorCode::Timeout,
                format!(
                    "{what}: nothing moved for {} s; giving up",
                    STALLED.as_secs()
                ),
            ));
        }
        pause.sleep();
    }
}

/// Copies the pty paths QEMU chose (`query-chardev`: `filename` is
/// `pty:/dev/pts/N`) into the live definition.
fn fill_pty_paths(def: &mut DomainDef, chardevs: &Value) {
    let Some(list) = chardevs.as_array() else {
        return;
    };
    let path_of = |label: &str| {
        list.iter()
            .find(|c| c.get("label").and_then(Value::as_str) == Some(label))
            .and_then(|c| c.get("filename").and_then(Value::as_str))
            .and_then(|f| f.strip_prefix("pty:"))
            .map(str::to_string)
    };
    for (i, serial) in def.devices.serials.iter_mut().enumerate() {
        let label = format!("char{}", crate::qemu::argv::serial_id(serial, i));
        if let CharSource::Pty { path } = &mut serial.source {
            *path = path_of(&label);
        }
    }
    for (k, channel) in def.devices.channels.iter_mut().enumerate() {
        if let CharSource::Pty { path } = &mut channel.source {
            *path = path_of(&format!("char{}", crate::qemu::argv::channel_id(k)));
        }
    }
    for (i, parallel) in def.devices.parallels.iter_mut().enumerate() {
        if let CharSource::Pty { path } = &mut parallel.source {
            *path = path_of(&format!("charparallel{i}"));
        }
    }
    let first_serial = def.devices.serials.first().map(|s| s.source.clone());
    // Virtio consoles are numbered among themselves, as the command line
    // numbers them.
    let mut virtio = 0;
    for (i, console) in def.devices.consoles.iter_mut().enumerate() {
        let label = format!("char{}", crate::qemu::argv::console_id(console, virtio));
        if console.target_type.as_deref() == Some("virtio") {
            virtio += 1;
        }
        if let CharSource::Pty { path } = &mut console.source {
            let serial_alias =
                i == 0 && console.target_type.as_deref().is_none_or(|t| t == "serial");
            *path = match (&first_serial, serial_alias) {
                (Some(CharSource::Pty { path: p }), true) => p.clone(),
                _ => path_of(&label),
            };
        }
    }
}

/// A run record for process `process`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn new_running(
    id: u32,
    def: DomainDef,
    process: ProcessId,
    qmp: Option<Qmp>,
    run_dir: &Path,
    vnc_port: Option<u16>,
    state: (DomainState, StateReason),
    link: &mut MonitorLink,
) -> Result<Arc<Running>> {
    let taints = super::runtime::Taint::of_def(&def)
        .into_iter()
        .map(|(t, _)| t)
        .collect();
    Ok(Arc::new(Running {
        id,
        process,
        qmp,
        run_dir: run_dir.to_path_buf(),
        def,
        vnc_port,
        state: Mutex::new(RunState {
            state: state.0,
            reason: state.1,
        }),
        incoming: Default::default(),
        contact: Mutex::new(std::time::Instant::now()),
        control: Mutex::new(Some(link.control()?)),
        ended: link.ended(),
        console_owner: Default::default(),
        agent: Mutex::new(()),
        agent_timeout: super::agent::TIMEOUT_BLOCK.into(),
        media: Mutex::new(Vec::new()),
        trays: Mutex::new(Vec::new()),
        disks: Mutex::new(Vec::new()),
        live: Mutex::new(Default::default()),
        taints: Mutex::new(taints),
        plugged: Mutex::new(None),
        unplugging: Mutex::new(Vec::new()),
        tops: Mutex::new(None),
        block_endings: Mutex::new(Vec::new()),
    }))
}

/// Writes the status file of a run.
pub(crate) fn write_status(run: &Running, persistent: bool) -> Result<()> {
    Status::of(run, persistent).write(&run.run_dir)
}
