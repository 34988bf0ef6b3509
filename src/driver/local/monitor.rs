//! The monitor of a running domain: one thread per run that owns the
//! run's state. It waits on the QEMU process's exit watch, on the QMP
//! events the QMP reader forwards, and on requests from callers, and it is
//! the only writer of the state that `info` and `list` read: callers that
//! change it (suspend, resume, reset, reboot, a destroy saying why it
//! kills) send it a [`Request`] and wait for the answer, as the API and
//! VMM threads of cloud-hypervisor and firecracker do. A request's QMP
//! command runs on this thread, so the events it causes (`STOP` for
//! `stop`) are handled, and their lifecycle events emitted, before the
//! answer goes back: no barrier, no second writer.
//!
//! The QMP reader thread must not send commands (their replies would
//! wait for that very thread), so it only queues events and wakes this
//! thread, which may.

use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::sync::mpsc::{Receiver, Sender, channel as mpsc_channel};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use serde_json::{Value, json};
use uuid::Uuid;

use super::driver::Core;
use super::requests::{Control, Ended, Pending, Request};
use super::runtime::Running;
use crate::driver::{
    Domain, DomainState, EventKind, IoErrorAction, StateReason, TunableValue, WatchdogFired,
};
use crate::error::{Error, ErrorCode, Result};
use crate::model::LifecycleAction;
use crate::qemu::qmp::QMP_TIMEOUT;
use crate::qemu::qmp::{QmpEvent, QmpMessage};
use crate::sys::process::{self, ExitWatch};

/// The monitor thread's end of a run's channels.
pub(crate) struct MonitorLink {
    events: Receiver<QmpMessage>,
    requests: Receiver<Pending>,
    control: Option<Control>,
    wake_rx: UnixStream,
    ended: Arc<Ended>,
}

impl MonitorLink {
    /// The callers' end, for the run (once).
    pub fn control(&mut self) -> Result<Control> {
        self.control.take().ok_or_else(|| {
            Error::new(
                ErrorCode::Internal,
                "the monitor's control was handed out twice",
            )
        })
    }

    /// Says when the monitor thread has ended, for the run.
    pub fn ended(&self) -> Arc<Ended> {
        self.ended.clone()
    }
}

/// Marks the monitor thread as ended when it returns, however it does.
struct EndGuard(Arc<Ended>);

impl Drop for EndGuard {
    fn drop(&mut self) {
        self.0.set();
    }
}

/// A new set of channels: the link for the monitor thread, and the sink
/// to give the QMP client.
pub(crate) fn channel() -> Result<(MonitorLink, impl FnMut(QmpMessage) + Send + 'static)> {
    let (wake_tx, wake_rx) =
        UnixStream::pair().map_err(|e| Error::io("cannot create the monitor wake-up socket", e))?;
    wake_tx
        .set_nonblocking(true)
        .map_err(|e| Error::io("cannot configure the monitor wake-up socket", e))?;
    let (tx, events): (Sender<QmpMessage>, _) = mpsc_channel();
    let (requests_tx, requests) = mpsc_channel();
    let mut waker = wake_tx
        .try_clone()
        .map_err(|e| Error::io("cannot duplicate the monitor wake-up socket", e))?;
    let sink = move |msg: QmpMessage| {
        let _ = tx.send(msg);
        let _ = waker.write(&[1]);
    };
    Ok((
        MonitorLink {
            events,
            requests,
            control: Some(Control {
                requests: requests_tx,
                wake: Arc::new(wake_tx),
            }),
            wake_rx,
            ended: Arc::new(Ended::default()),
        },
        sink,
    ))
}

/// What only the monitor thread knows of a run: the flags that say what
/// an event means.
#[derive(Debug, Default)]
struct Owned {
    /// A destroy (or save, or a quit of ours) is under way: the exit is
    /// ours, not a crash.
    stopping: Option<StateReason>,
    /// The guest reported a shutdown (SHUTDOWN event with `guest: true`).
    guest_shutdown: bool,
    /// A manager-driven reboot waits for the guest's power-off.
    reboot_pending: bool,
    /// The guest powered off for a reboot; the pause that follows is
    /// turned into a reset and `cont`.
    reboot_armed: bool,
    /// The guest's last sleep was to disk (SUSPEND_DISK), not RAM.
    suspended_to_disk: bool,
    /// A disk's I/O error stopped the guest: the pause that follows is
    /// for it.
    io_error_stop: bool,
    /// The watchdog's pause (or dump) stopped the guest: the pause that
    /// follows is for it.
    watchdog_stop: bool,
}

/// Starts the monitor thread of `run`, the run of domain `uuid`. With
/// `started`, the thread first tells subscribers the domain started, so
/// that this comes before any event of the run.
pub(crate) fn watch(
    core_ref: &Arc<Core>,
    uuid: Uuid,
    run: &Arc<Running>,
    link: MonitorLink,
    started: Option<StateReason>,
) {
    let core = Arc::downgrade(core_ref);
    let weak_run = Arc::downgrade(run);
    let pid = run.process;
    let name = format!("monitor-{}", run.id);
    if let Some(reason) = started {
        core_ref.emit(handle_of(uuid, run), EventKind::Started(reason));
    }
    core_ref.spawn(&name, move || {
        let _ended = EndGuard(link.ended.clone());
        let Some(exit) = ExitWatch::open(pid) else {
            // Already gone: end the run now.
            if let (Some(core), Some(run)) = (core.upgrade(), weak_run.upgrade()) {
                let reason = end_reason(&Owned::default());
                drop(run);
                core.end_run(uuid, pid.pid, reason);
            }
            return;
        };
        Monitor {
            core,
            run: weak_run,
            uuid,
            owned: Owned::default(),
        }
        .run(&exit, link);
    });
}

/// A run's handle, as events name it.
/// Tells subscribers that tunables of the running domain `run` changed
/// (libvirt's tunable event), each by libvirt's name with its value.
pub(crate) fn tell_tunables(core: &Core, run: &Running, params: Vec<(String, TunableValue)>) {
    if !params.is_empty() {
        core.emit(handle_of(run.def.uuid, run), EventKind::Tunable(params));
    }
}

/// The handle of the running domain `run` of domain `uuid`.
pub(crate) fn handle_of(uuid: Uuid, run: &Running) -> Domain {
    Domain {
        name: run.def.name.clone(),
        uuid,
        id: Some(run.id),
    }
}

/// Why a run whose QEMU exited ended.
fn end_reason(owned: &Owned) -> StateReason {
    owned.stopping.unwrap_or(if owned.guest_shutdown {
        StateReason::Shutdown
    } else {
        StateReason::Crashed
    })
}

/// The monitor thread's state.
struct Monitor {
    core: Weak<Core>,
    run: Weak<Running>,
    uuid: Uuid,
    owned: Owned,
}

impl Monitor {
    /// Waits for the process to exit, for QMP events and for requests,
    /// until the run ends or is forgotten.
    fn run(mut self, exit: &ExitWatch, mut link: MonitorLink) {
        let pid = exit.id().pid;
        loop {
            let exited = {
                // Without a pidfd, the process is looked at every EXIT_POLL.
                let mut fds = vec![PollFd::new(link.wake_rx.as_fd(), PollFlags::POLLIN)];
                let timeout = match exit.fd() {
                    Some(fd) => {
                        fds.push(PollFd::new(fd, PollFlags::POLLIN));
                        PollTimeout::NONE
                    }
                    None => PollTimeout::try_from(process::EXIT_POLL).unwrap_or(PollTimeout::MAX),
                };
                match poll(&mut fds, timeout) {
                    Ok(_) => {}
                    Err(nix::errno::Errno::EINTR) => continue,
                    Err(_) => return,
                }
                match fds.get(1) {
                    Some(fd) => fd.any().unwrap_or(false),
                    None => exit.exited(),
                }
            };
            let mut stop = false;
            let mut buf = [0u8; 64];
            let _ = link.wake_rx.set_nonblocking(true);
            while let Ok(n) = link.wake_rx.read(&mut buf) {
                if n == 0 {
                    // Every write end is closed (the run is forgotten):
                    // poll reports that as readable too, so it is seen here.
                    stop = true;
                    break;
                }
            }
            self.handle_events(&link.events);
            while let Ok(pending) = link.requests.try_recv() {
                let result = self.serve(pending.request, &link.events);
                let _ = pending.reply.send(result);
            }
            if exited {
                // Events QEMU sent just before it exited (SHUTDOWN says
                // whether the guest powered off) may still be in flight:
                // take them all, up to the reader's final `Closed`, before
                // judging the exit.
                let deadline = Instant::now() + Duration::from_secs(1);
                while let Some(left) = deadline.checked_duration_since(Instant::now()) {
                    match link.events.recv_timeout(left) {
                        Ok(QmpMessage::Event(ev)) => self.on_event(&ev),
                        Ok(QmpMessage::Closed(_)) | Err(_) => break,
                    }
                }
                // A caller's request that raced the exit still says why.
                while let Ok(pending) = link.requests.try_recv() {
                    if let Request::Stopping(reason) = pending.request {
                        self.owned.stopping = reason;
                    }
                    let _ = pending.reply.send(Ok(()));
                }
                if let Some(core) = self.core.upgrade() {
                    core.end_run(self.uuid, pid, end_reason(&self.owned));
                }
                // The control goes with the run; drop ours, if unused.
                drop(link.control.take());
                return;
            }
            if stop || self.core.strong_count() == 0 {
                return;
            }
        }
    }

    /// Handles the QMP events queued so far.
    fn handle_events(&mut self, events: &Receiver<QmpMessage>) {
        while let Ok(msg) = events.try_recv() {
            if let QmpMessage::Event(ev) = &msg {
                self.on_event(ev);
            }
        }
    }

    /// Answers one request. Its QMP command's events arrive before its
    /// reply, so they are handled here before the answer goes back.
    fn serve(&mut self, request: Request, events: &Receiver<QmpMessage>) -> Result<()> {
        let (Some(core), Some(run)) = (self.core.upgrade(), self.run.upgrade()) else {
            return Err(Error::new(
                ErrorCode::OperationInvalid,
                "the domain stopped running meanwhile",
            ));
        };
        match request {
            Request::Stopping(reason) => {
                self.owned.stopping = reason;
                Ok(())
            }
            Request::Suspend => {
                run.qmp()?.execute("stop", None, QMP_TIMEOUT)?;
                self.handle_events(events);
                // Covers a STOP that never came.
                self.set_state(&core, &run, DomainState::Paused, StateReason::User);
                Ok(())
            }
            Request::Resume => {
                run.qmp()?.execute("cont", None, QMP_TIMEOUT)?;
                self.handle_events(events);
                self.set_state(&core, &run, DomainState::Running, StateReason::Unpaused);
                Ok(())
            }
            Request::Reset => {
                let qmp = run.qmp()?;
                qmp.execute("system_reset", None, QMP_TIMEOUT)?;
                // QEMU resets (and sends RESET) after answering; a second
                // command is answered only after that.
                qmp.execute("query-status", None, QMP_TIMEOUT)?;
                self.handle_events(events);
                Ok(())
            }
            Request::RefreshTrays => {
                let blocks = run.qmp()?.execute("query-block", None, QMP_TIMEOUT)?;
                // The events QEMU sent before its reply are handled
                // first: the reply is newer than any of them.
                self.handle_events(events);
                core.take_trays(&run, &blocks);
                Ok(())
            }
            Request::Reboot => {
                let qmp = run.qmp()?;
                self.owned.reboot_pending = true;
                let result = qmp
                    .execute(
                        "set-action",
                        Some(json!({"shutdown": "pause"})),
                        QMP_TIMEOUT,
                    )
                    .and_then(|_| qmp.execute("system_powerdown", None, QMP_TIMEOUT));
                if result.is_err() {
                    self.owned.reboot_pending = false;
                }
                result.map(|_| ())
            }
        }
    }

    /// Moves the run to `state` (unless it is there), records it in the
    /// status file and tells subscribers.
    fn set_state(&self, core: &Core, run: &Arc<Running>, state: DomainState, reason: StateReason) {
        let was = run.run_state().state;
        if was == state {
            return;
        }
        run.set_state(state, reason);
        core.save_status(self.uuid, run);
        // As libvirt tells them: a wake-up is a start (detail wakeup).
        let kind = match (state, reason) {
            (DomainState::Running, StateReason::Wakeup) => EventKind::Started(reason),
            (DomainState::Running, _) => EventKind::Resumed,
            (DomainState::Paused, _) => EventKind::Suspended(reason),
            (DomainState::PmSuspended, _) => EventKind::PmSuspended {
                disk: self.owned.suspended_to_disk,
            },
            _ => return,
        };
        core.emit(handle_of(self.uuid, run), kind);
    }

    /// Applies one QMP event to the run's state.
    fn on_event(&mut self, ev: &QmpEvent) {
        let (Some(core), Some(run)) = (self.core.upgrade(), self.run.upgrade()) else {
            return;
        };
        match ev.name.as_str() {
            "STOP" => {
                // A reboot's power-off pauses the guest (shutdown=pause);
                // that pause is the cue to reset, not a user's suspend.
                if std::mem::take(&mut self.owned.reboot_armed) {
                    self.finish_reboot(&core, &run);
                    return;
                }
                let io_error = std::mem::take(&mut self.owned.io_error_stop);
                let watchdog = std::mem::take(&mut self.owned.watchdog_stop);
                if run.run_state().state == DomainState::Running {
                    let reason = if self.owned.guest_shutdown {
                        StateReason::ShuttingDown
                    } else if io_error {
                        StateReason::IoError
                    } else if watchdog {
                        StateReason::Watchdog
                    } else {
                        StateReason::User
                    };
                    self.set_state(&core, &run, DomainState::Paused, reason);
                }
            }
            "RESUME" => {
                // An error told while paused was for a request the resume
                // retries; a new one is told again.
                self.owned.io_error_stop = false;
                self.set_state(&core, &run, DomainState::Running, StateReason::Unpaused);
            }
            // The guest's own sleep: pmsuspended until QEMU wakes it.
            "SUSPEND" | "SUSPEND_DISK" => {
                self.owned.suspended_to_disk = ev.name == "SUSPEND_DISK";
                self.set_state(&core, &run, DomainState::PmSuspended, StateReason::Unknown);
            }
            "WAKEUP" => {
                self.set_state(&core, &run, DomainState::Running, StateReason::Wakeup);
            }
            "RESET" => {
                core.emit(handle_of(self.uuid, &run), EventKind::Reset);
                // The reset shut every tray, and QEMU says nothing of it.
                core.refresh_trays(&run);
            }
            "SHUTDOWN" => self.on_shutdown(&core, &run, ev),
            "GUEST_PANICKED" => self.on_panic(&core, &run),
            "DEVICE_DELETED" => core.on_device_deleted(&run, &ev.data),
            "MEMORY_DEVICE_SIZE_CHANGE" => core.on_memory_size_change(&run, &ev.data),
            "DEVICE_TRAY_MOVED" => core.on_tray_moved(&run, &ev.data),
            "BLOCK_WRITE_THRESHOLD" => core.on_block_threshold(&run, &ev.data),
            "RTC_CHANGE" => {
                if let Some(offset) = ev.data.get("offset").and_then(Value::as_i64) {
                    core.emit(handle_of(self.uuid, &run), EventKind::RtcChange { offset });
                }
            }
            "BALLOON_CHANGE" => {
                if let Some(actual) = ev.data.get("actual").and_then(Value::as_u64) {
                    let kind = EventKind::BalloonChange {
                        actual_kib: actual >> 10,
                    };
                    core.emit(handle_of(self.uuid, &run), kind);
                }
            }
            "VSERPORT_CHANGE" => {
                let id = ev.data.get("id").and_then(Value::as_str);
                let open = ev.data.get("open").and_then(Value::as_bool);
                if let (Some(id), Some(connected)) = (id, open)
                    && Some(id) == agent_port(&run).as_deref()
                {
                    let kind = EventKind::AgentLifecycle { connected };
                    core.emit(handle_of(self.uuid, &run), kind);
                }
            }
            "BLOCK_IO_ERROR" => {
                let action = core.on_io_error(&run, &ev.data);
                self.owned.io_error_stop |= action == IoErrorAction::Pause;
            }
            "BLOCK_JOB_READY" | "BLOCK_JOB_COMPLETED" | "BLOCK_JOB_CANCELLED" => {
                core.on_block_job(&run, &ev.name, &ev.data)
            }
            "WATCHDOG" => self.on_watchdog(&core, &run, &ev.data),
            // A migration's (or a save's) next pass over the memory.
            "MIGRATION_PASS" => {
                let pass = ev.data.get("pass").and_then(Value::as_u64);
                if let Some(iteration) = pass.and_then(|p| u32::try_from(p).ok()) {
                    let kind = EventKind::MigrationIteration { iteration };
                    core.emit(handle_of(self.uuid, &run), kind);
                }
            }
            name => {
                if let Some(kind) = super::display_events::of(name, &ev.data) {
                    core.emit(handle_of(self.uuid, &run), kind);
                }
            }
        }
    }

    /// A WATCHDOG event: told to subscribers; a pause is the watchdog's
    /// (the STOP that follows); a `dump` action dumps the guest's memory
    /// and lets it run on.
    fn on_watchdog(&mut self, core: &Core, run: &Arc<Running>, data: &Value) {
        let action = data.get("action").and_then(Value::as_str);
        let Some(action) = action.and_then(WatchdogFired::from_name) else {
            return;
        };
        self.owned.watchdog_stop = action == WatchdogFired::Pause;
        core.emit(handle_of(self.uuid, run), EventKind::Watchdog { action });
        match super::tuning::on_watchdog(run, data, &core.layout.save) {
            Ok(Some(file)) => core.log.info(&format!(
                "domain '{}': watchdog fired, memory dumped to {}",
                run.def.name,
                file.display()
            )),
            Ok(None) => {}
            Err(e) => core
                .log
                .error(&format!("domain '{}': watchdog dump: {e}", run.def.name)),
        }
    }

    /// A SHUTDOWN event: the guest (or someone) powered off or rebooted.
    fn on_shutdown(&mut self, core: &Core, run: &Arc<Running>, ev: &QmpEvent) {
        let guest = ev
            .data
            .get("guest")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let reason = ev.data.get("reason").and_then(Value::as_str).unwrap_or("");
        // When QEMU pauses on the guest's power-off or reboot
        // (-no-shutdown), the policy for it is the driver's to finish:
        // restart resets and runs on in the same process (as libvirt does),
        // the pause being the cue, as for a reboot; destroy ends QEMU;
        // preserve keeps the pause.
        // The actions as they are now: set-lifecycle-action may have
        // changed them since the start.
        let actions = super::actions::Actions::of(run);
        let action = if reason == "guest-reset" {
            actions.reboot
        } else {
            actions.poweroff
        };
        let qemu_pauses = actions.qemu_pauses();
        let restart = guest && qemu_pauses && action == LifecycleAction::Restart;
        let destroy = guest && qemu_pauses && action == LifecycleAction::Destroy;
        let owned = &mut self.owned;
        if std::mem::take(&mut owned.reboot_pending) {
            owned.reboot_armed = true;
            return;
        }
        if restart {
            owned.reboot_armed = true;
        } else {
            // Any power-off the guest asked for, including a reboot that
            // on_reboot='destroy' turns into one (reason guest-reset), ends
            // the domain as shut down.
            owned.guest_shutdown = guest;
            if destroy {
                owned.stopping = Some(StateReason::Shutdown);
            }
            if !guest && (reason == "host-signal" || reason == "host-qmp-quit") {
                // Someone else stopped QEMU on purpose: not a crash.
                owned.stopping.get_or_insert(StateReason::Destroyed);
            }
        }
        if guest {
            core.emit(handle_of(self.uuid, run), EventKind::Shutdown);
        }
        if destroy {
            process::terminate(run.process);
        }
    }

    /// The second half of a manager-driven reboot: the guest powered off
    /// into a pause (`set-action shutdown=pause`); reset it, restore the
    /// shutdown action, and let it run again.
    fn finish_reboot(&mut self, core: &Core, run: &Running) {
        let Ok(qmp) = run.qmp() else { return };
        // Back to what the command line set (argv's emit_actions):
        // -no-shutdown, i.e. pause, unless power-off simply destroys.
        let action = if super::actions::Actions::of(run).qemu_pauses() {
            "pause"
        } else {
            "poweroff"
        };
        let result = qmp
            .execute("system_reset", None, QMP_TIMEOUT)
            .and_then(|_| qmp.execute("set-action", Some(json!({"shutdown": action})), QMP_TIMEOUT))
            .and_then(|_| qmp.execute("cont", None, QMP_TIMEOUT));
        self.owned.guest_shutdown = false;
        if let Err(e) = result {
            core.log
                .error(&format!("domain '{}': reboot failed: {e}", run.def.name));
        }
    }

    /// The guest reported a panic: apply on_crash.
    fn on_panic(&mut self, core: &Core, run: &Arc<Running>) {
        match super::actions::Actions::of(run).crash {
            LifecycleAction::Preserve => {
                run.set_state(DomainState::Crashed, StateReason::Crashed);
                core.save_status(self.uuid, run);
            }
            LifecycleAction::Destroy | LifecycleAction::Restart => {
                self.owned.stopping = Some(StateReason::Crashed);
                process::kill_hard(run.process);
            }
        }
    }
}

/// The QEMU id of the virtio-serial port of the running domain's guest
/// agent channel (`channelN`, its number kept with the run, a plugged-in
/// one's too), if it has one.
fn agent_port(run: &Running) -> Option<String> {
    run.live_def()
        .devices
        .channels
        .iter()
        .position(|c| {
            matches!(
                &c.target,
                crate::model::ChannelTarget::Virtio { name: Some(n) }
                    if n == crate::model::GUEST_AGENT_CHANNEL
            )
        })
        .map(|k| super::plug_chr::live_channel_id(run, k))
}
