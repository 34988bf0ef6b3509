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

use super::argv::{RuntimePaths, build_argv};
use super::driver::{Core, emulator_of, lock};
use super::fsutil::ensure_private_dir;
use super::hostnet;
use super::monitor::{self, MonitorLink};
use super::process::{self, ExitWatch, ProcessId};
use super::qmp::Qmp;
use super::runtime::{RunState, Running, Status};
use super::shell::shell_join;
use crate::driver::error::{Error, ErrorCode, Result};
use crate::driver::{DomainState, StateReason};
use crate::model::{CharSource, DomainDef, LifecycleAction};

/// How long QEMU may take to open its monitor.
const QMP_DEADLINE: Duration = Duration::from_secs(30);
/// The timeout of a routine QMP command.
pub(crate) const QMP_TIMEOUT: Duration = Duration::from_secs(30);

/// How to start.
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
}

impl Core {
    /// Starts QEMU for `def` as run `id` and registers nothing: the caller
    /// puts the returned run into the domain's entry, then starts its
    /// monitor with [`monitor::watch`].
    pub(crate) fn launch(
        &self,
        mut def: DomainDef,
        id: u32,
        opts: LaunchOptions<'_>,
    ) -> Result<(Arc<Running>, MonitorLink)> {
        let emulator = emulator_of(&def);
        let caps = self.caps(&emulator)?;
        let name = def.name.clone();
        let mut paths = RuntimePaths::new(self.layout.run_dir(&name));
        super::tuning::plan(&mut def, &caps, &self.layout, &mut paths)?;
        // Before the runtime dir exists, so that a taken port leaves none.
        let vnc = self.pick_vnc_port(&def)?;
        let vnc_port = vnc.0;
        hostnet::check_forwards(&def)?;
        // The taps go again whenever this returns an error; once QEMU runs
        // they are the run's, removed when it ends.
        hostnet::create_taps(&mut def)?;
        let mut taps = TapGuard {
            names: hostnet::taps_of(&def),
            core: self,
        };
        let run_dir = self.layout.run_dir(&name);
        if run_dir.exists() {
            // Left by a run that is over (the caller checked the domain is
            // shut off): stale sockets would make QEMU's bind fail.
            std::fs::remove_dir_all(&run_dir)
                .map_err(|e| Error::io(format!("cannot clear {}", run_dir.display()), e))?;
        }
        ensure_private_dir(&run_dir)?;
        paths.vnc_port = vnc_port;
        paths.incoming = opts.incoming.is_some();
        let argv = match build_argv(&def, &caps, &paths) {
            Ok(argv) => argv,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&run_dir);
                return Err(e);
            }
        };
        // The NVRAM file and the swtpm; the swtpm dies with a failed start.
        let swtpm = match super::tuning::prepare_host(&def, &self.layout, &run_dir) {
            Ok(t) => t,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&run_dir);
                return Err(e);
            }
        };
        let log = self.layout.log_file(&name);
        let pid = match process::spawn(&argv, &log) {
            Ok(pid) => pid,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&run_dir);
                return Err(e);
            }
        };
        let group = self.vm_group.get_or_init(|| {
            let (group, why_not) = super::cgroup::VmGroup::detect();
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
        let fail = |e: Error| -> Error {
            // A QEMU that exited on its own refused to start, whatever
            // error that caused on our side (often a reset QMP socket).
            // (The socket can close a moment before the process is gone.)
            let exited = ExitWatch::open(pid).is_none_or(|w| w.wait(Some(Duration::from_secs(1))));
            process::kill_hard(pid);
            if let Some(w) = ExitWatch::open(pid) {
                w.wait(Some(Duration::from_secs(5)));
            }
            process::reap(pid.pid);
            let _ = std::fs::remove_dir_all(&run_dir);
            let tail = process::log_tail(&log, 12);
            Error::new(
                if exited || e.code == ErrorCode::OperationFailed || e.code == ErrorCode::Timeout {
                    ErrorCode::QemuFailed
                } else {
                    e.code
                },
                format!(
                    "cannot start domain '{name}': {e}\nQEMU log ({}):\n{tail}\ncommand: {}",
                    log.display(),
                    shell_join(&argv)
                ),
            )
        };
        let (link, sink) = monitor::channel().map_err(&fail)?;
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
        let result = (|| {
            self.prepare_guest(&qmp, &mut def, opts.incoming)?;
            super::tuning::after_qmp(&qmp, &mut def, pid.pid, &run_dir)?;
            if !opts.paused {
                qmp.execute("cont", None, QMP_TIMEOUT)?;
            }
            Ok(())
        })();
        if let Err(e) = result {
            drop(qmp);
            return Err(fail(e));
        }
        if let Some(port) = vnc_port
            && let Some(g) = def.devices.graphics.first_mut()
        {
            g.port = Some(i32::from(port));
        }
        let state = if opts.paused {
            DomainState::Paused
        } else {
            DomainState::Running
        };
        let reason = if opts.paused {
            StateReason::User
        } else {
            opts.reason
        };
        let run = new_running(
            id,
            def,
            pid,
            Some(qmp),
            &run_dir,
            vnc_port,
            (state, reason),
            &link,
        );
        if let Err(e) = write_status(&run, opts.persistent) {
            drop(run);
            return Err(fail(e));
        }
        taps.names.clear();
        if let Some(t) = swtpm {
            t.keep();
        }
        Ok((run, link))
    }

    /// Everything between the monitor coming up and `cont`: load a saved
    /// state, set the VNC password, learn the pty paths.
    fn prepare_guest(&self, qmp: &Qmp, def: &mut DomainDef, incoming: Option<&File>) -> Result<()> {
        if let Some(file) = incoming {
            qmp.getfd("restore", file.as_fd(), QMP_TIMEOUT)?;
            qmp.execute(
                "migrate-incoming",
                Some(json!({"uri": "fd:restore"})),
                QMP_TIMEOUT,
            )?;
            wait_migration(qmp, "restore")?;
        }
        if def
            .devices
            .serials
            .iter()
            .chain(&def.devices.consoles)
            .any(|c| matches!(c.source, CharSource::Pty { .. }))
        {
            let chardevs = qmp.execute("query-chardev", None, QMP_TIMEOUT)?;
            fill_pty_paths(def, &chardevs);
        }
        Ok(())
    }

    /// The VNC port for `def`: its fixed port, checked free, or the first
    /// free one from 5900 for autoport; held for this start until the
    /// reservation is dropped. `None` without VNC.
    fn pick_vnc_port(&self, def: &DomainDef) -> Result<VncReservation> {
        if def.devices.graphics.is_empty() {
            return Ok(VncReservation(None));
        }
        let mut starting = lock(&VNC_STARTING);
        let taken: Vec<u16> = lock(&self.inner)
            .entries
            .values()
            .filter_map(|e| e.running.as_ref().and_then(|r| r.vnc_port))
            .chain(starting.iter().copied())
            .collect();
        let port = super::tuning::display_port(def, &taken, true)?;
        if let Some(p) = port {
            starting.insert(p);
        }
        Ok(VncReservation(port))
    }
}

/// VNC ports picked by starts in this process whose QEMU may not listen
/// yet. Every manager of the process skips them (a program, or a test,
/// may open several), so two starts at once never pick the same port.
static VNC_STARTING: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());

/// A VNC port held in [`VNC_STARTING`] for one start, let go when the
/// start is over (its QEMU then listens on it, or never will).
struct VncReservation(Option<u16>);

impl Drop for VncReservation {
    fn drop(&mut self) {
        if let Some(port) = self.0 {
            lock(&VNC_STARTING).remove(&port);
        }
    }
}

/// Removes the taps of a start that failed when dropped, unless its
/// `names` were cleared because the start went through.
struct TapGuard<'a> {
    names: Vec<String>,
    core: &'a Core,
}

impl Drop for TapGuard<'_> {
    fn drop(&mut self) {
        self.core.release_taps(&self.names, "a failed start");
    }
}

impl Core {
    /// Removes the taps `names`, logging those that cannot be removed;
    /// `after` says what ended their use, for the log.
    pub(crate) fn release_taps(&self, names: &[String], after: &str) {
        for (tap, e) in hostnet::remove_taps(names) {
            self.log.error(&format!(
                "cannot remove tap device '{tap}' after {after}: {e}"
            ));
        }
    }
}

/// Waits for an incoming or outgoing migration to finish.
pub(crate) fn wait_migration(qmp: &Qmp, what: &str) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(600);
    let mut pause = Duration::from_micros(500);
    loop {
        let info = qmp.execute("query-migrate", None, QMP_TIMEOUT)?;
        match info.get("status").and_then(Value::as_str) {
            Some("completed") => return Ok(()),
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
        if Instant::now() > deadline {
            return Err(Error::new(
                ErrorCode::Timeout,
                format!("{what} did not finish in 600 s"),
            ));
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(20));
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
        if let CharSource::Pty { path } = &mut serial.source {
            *path = path_of(&format!("charserial{i}"));
        }
    }
    let first_serial = def.devices.serials.first().map(|s| s.source.clone());
    for (i, console) in def.devices.consoles.iter_mut().enumerate() {
        if let CharSource::Pty { path } = &mut console.source {
            let serial_alias =
                i == 0 && console.target_type.as_deref().is_none_or(|t| t == "serial");
            *path = match (&first_serial, serial_alias) {
                (Some(CharSource::Pty { path: p }), true) => p.clone(),
                _ => path_of(&format!("charconsole{i}")),
            };
        }
    }
}

/// What to do after the guest powered off, rebooted or crashed.
pub(crate) fn wants_restart(def: &DomainDef, reason: StateReason) -> bool {
    match reason {
        StateReason::Shutdown => def.on_poweroff == LifecycleAction::Restart,
        StateReason::Crashed => def.on_crash == LifecycleAction::Restart,
        _ => false,
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
    link: &MonitorLink,
) -> Arc<Running> {
    Arc::new(Running {
        id,
        process,
        qmp,
        run_dir: run_dir.to_path_buf(),
        def,
        vnc_port,
        state: Mutex::new(RunState {
            state: state.0,
            reason: state.1,
            stopping: None,
            guest_shutdown: false,
            reboot_pending: false,
            reboot_armed: false,
        }),
        stop_monitor: Mutex::new(Some(link.stopper())),
        events: link.progress(),
        console_owner: Default::default(),
        media: Mutex::new(Vec::new()),
    })
}

/// Writes the status file of a run.
pub(crate) fn write_status(run: &Running, persistent: bool) -> Result<()> {
    Status::of(run, persistent).write(&run.run_dir)
}
