//! Watching running domains: one thread per run waits on the QEMU
//! process's pidfd and on the events its QMP reader forwards, keeps the
//! state true, and ends the run the instant QEMU exits.
//!
//! QMP events arrive on the reader thread, which must not send commands
//! (their replies would wait for that very thread), so the reader only
//! queues them and wakes this thread, which may.

use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::sync::mpsc::{Receiver, Sender, channel as mpsc_channel};
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::time::{Duration, Instant};

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use serde_json::{Value, json};
use uuid::Uuid;

use super::driver::{Core, lock};
use super::launch::{QMP_TIMEOUT, wants_restart};
use super::process::{self, ExitWatch};
use super::qmp::{QmpEvent, QmpMessage};
use super::runtime::Running;
use crate::driver::error::{Error, Result};
use crate::driver::{Domain, DomainState, EventKind, StateReason};
use crate::model::LifecycleAction;

/// The monitor thread's end of a run's event channel.
pub(crate) struct MonitorLink {
    rx: Receiver<QmpMessage>,
    wake_rx: UnixStream,
    wake_tx: UnixStream,
    progress: Arc<EventProgress>,
}

impl MonitorLink {
    /// A handle whose closing (with every other) tells the thread to stop.
    pub fn stopper(&self) -> UnixStream {
        self.wake_tx
            .try_clone()
            .expect("socket descriptors can be duplicated")
    }

    /// The counter of the events this link carries, for the run.
    pub fn progress(&self) -> Arc<EventProgress> {
        self.progress.clone()
    }
}

/// How many QMP events of a run were delivered to its monitor thread and
/// how many it has handled.
///
/// QEMU sends the events a command causes (`STOP` for `stop`) before its
/// reply, but the monitor thread handles them on its own time; an
/// operation that waits here after its command returns knows that the
/// state it reads is the one those events set and that their lifecycle
/// events were emitted, in order, before anything it emits itself.
#[derive(Debug, Default)]
pub(crate) struct EventProgress {
    /// (delivered, handled, the monitor thread has ended).
    counts: Mutex<(u64, u64, bool)>,
    changed: Condvar,
}

impl EventProgress {
    fn delivered(&self) {
        lock(&self.counts).0 += 1;
    }

    fn handled(&self) {
        lock(&self.counts).1 += 1;
        self.changed.notify_all();
    }

    fn ended(&self) {
        lock(&self.counts).2 = true;
        self.changed.notify_all();
    }

    /// Waits until the monitor thread has ended, up to `timeout`; whether
    /// it has.
    pub(crate) fn wait_ended(&self, timeout: Duration) -> bool {
        self.wait_until(timeout, |_, _, ended| ended)
    }

    /// Waits until every event delivered before this call is handled (or
    /// the monitor thread has ended), up to `timeout`; whether they were.
    pub(crate) fn wait_handled(&self, timeout: Duration) -> bool {
        let target = lock(&self.counts).0;
        self.wait_until(timeout, |_, handled, ended| handled >= target || ended)
    }

    /// Waits until `done(delivered, handled, ended)` holds, up to
    /// `timeout`; whether it did.
    fn wait_until(&self, timeout: Duration, done: impl Fn(u64, u64, bool) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        let mut counts = lock(&self.counts);
        while !done(counts.0, counts.1, counts.2) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            counts = self
                .changed
                .wait_timeout(counts, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        true
    }
}

/// Marks the monitor thread as ended when it returns, however it does.
struct EndGuard(Arc<EventProgress>);

impl Drop for EndGuard {
    fn drop(&mut self) {
        self.0.ended();
    }
}

/// A new channel: the link for the monitor thread, and the sink to give
/// the QMP client.
pub(crate) fn channel() -> Result<(MonitorLink, impl FnMut(QmpMessage) + Send + 'static)> {
    let (wake_tx, wake_rx) =
        UnixStream::pair().map_err(|e| Error::io("cannot create the monitor wake-up socket", e))?;
    wake_tx
        .set_nonblocking(true)
        .map_err(|e| Error::io("cannot configure the monitor wake-up socket", e))?;
    let (tx, rx): (Sender<QmpMessage>, _) = mpsc_channel();
    let mut waker = wake_tx
        .try_clone()
        .map_err(|e| Error::io("cannot duplicate the monitor wake-up socket", e))?;
    let progress = Arc::new(EventProgress::default());
    let counter = progress.clone();
    let sink = move |msg: QmpMessage| {
        if matches!(msg, QmpMessage::Event(_)) {
            counter.delivered();
        }
        let _ = tx.send(msg);
        // One pending byte is enough to wake the thread; a full buffer
        // means a wake-up is already pending.
        let _ = waker.write(&[1]);
    };
    Ok((
        MonitorLink {
            rx,
            wake_rx,
            wake_tx,
            progress,
        },
        sink,
    ))
}

/// Starts the monitor thread of `run`, the run of domain `uuid`.
pub(crate) fn watch(core_ref: &Arc<Core>, uuid: Uuid, run: &Arc<Running>, link: MonitorLink) {
    let core = Arc::downgrade(core_ref);
    let weak_run = Arc::downgrade(run);
    let pid = run.process;
    let name = format!("monitor-{}", run.id);
    let MonitorLink {
        rx,
        wake_rx,
        wake_tx,
        progress,
    } = link;
    // The thread keeps no write end, so closing the run's ones wakes it.
    drop(wake_tx);
    let spawned = std::thread::Builder::new()
        .name(name)
        .stack_size(256 * 1024)
        .spawn(move || {
            let _ended = EndGuard(progress.clone());
            let Some(exit) = ExitWatch::open(pid) else {
                // Already gone: end the run now.
                if let Some(core) = core.upgrade() {
                    core.finish_run(uuid, pid.pid, None);
                }
                return;
            };
            monitor_loop(&core, uuid, &weak_run, &exit, &rx, wake_rx, &progress);
        });
    if let Err(e) = spawned {
        core_ref
            .log
            .error(&format!("cannot start the monitor of domain {uuid}: {e}"));
    }
}

/// Waits for the process to exit or for queued QMP messages, until the
/// run ends or the driver goes away.
fn monitor_loop(
    core: &Weak<Core>,
    uuid: Uuid,
    run: &Weak<Running>,
    exit: &ExitWatch,
    rx: &Receiver<QmpMessage>,
    mut wake_rx: UnixStream,
    progress: &EventProgress,
) {
    let pid = exit.id().pid;
    // Handles one event (when the core and run still exist) and counts it.
    let handle = |ev: &QmpEvent| {
        if let (Some(core), Some(run)) = (core.upgrade(), run.upgrade()) {
            core.on_event(uuid, &run, ev);
        }
        progress.handled();
    };
    loop {
        let (exited, stop) = {
            let mut fds = [
                PollFd::new(exit.as_fd(), PollFlags::POLLIN),
                PollFd::new(wake_rx.as_fd(), PollFlags::POLLIN),
            ];
            match poll(&mut fds, PollTimeout::NONE) {
                Ok(_) => {}
                Err(nix::errno::Errno::EINTR) => continue,
                Err(_) => return,
            }
            let exited = fds[0].any().unwrap_or(false);
            let wake = fds[1].revents().unwrap_or(PollFlags::empty());
            (
                exited,
                wake.contains(PollFlags::POLLHUP) && !wake.contains(PollFlags::POLLIN),
            )
        };
        let mut buf = [0u8; 64];
        let _ = wake_rx.set_nonblocking(true);
        while let Ok(n) = wake_rx.read(&mut buf) {
            if n == 0 {
                break;
            }
        }
        while let Ok(msg) = rx.try_recv() {
            if let QmpMessage::Event(ev) = &msg {
                handle(ev);
            }
        }
        if exited {
            // Events QEMU sent just before it exited (SHUTDOWN says whether
            // the guest powered off) may still be in flight: take them all,
            // up to the reader's final `Closed`, before judging the exit.
            let deadline = std::time::Instant::now() + Duration::from_secs(1);
            while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
                match rx.recv_timeout(left) {
                    Ok(QmpMessage::Event(ev)) => handle(&ev),
                    Ok(QmpMessage::Closed(_)) | Err(_) => break,
                }
            }
            if let Some(core) = core.upgrade() {
                core.finish_run(uuid, pid, None);
            }
            return;
        }
        if stop || core.strong_count() == 0 {
            return;
        }
    }
}

impl Core {
    /// Applies one QMP event to the run's state.
    fn on_event(&self, uuid: Uuid, run: &Arc<Running>, ev: &QmpEvent) {
        let domain = Domain {
            name: run.def.name.clone(),
            uuid,
            id: Some(run.id),
        };
        match ev.name.as_str() {
            "STOP" => {
                // A reboot's power-off pauses the guest (shutdown=pause);
                // that pause is the cue to reset, not a user's suspend.
                if run.update(|s| std::mem::take(&mut s.reboot_armed)) {
                    self.finish_reboot(run);
                    return;
                }
                let changed = run.update(|s| {
                    let was = s.state;
                    if s.state == DomainState::Running {
                        s.state = DomainState::Paused;
                        s.reason = if s.guest_shutdown {
                            StateReason::ShuttingDown
                        } else {
                            StateReason::User
                        };
                    }
                    was == DomainState::Running
                });
                if changed {
                    self.save_status(uuid, run);
                    self.emit(domain, EventKind::Suspended);
                }
            }
            "RESUME" => {
                let changed = run.update(|s| {
                    if s.state == DomainState::Running {
                        return false;
                    }
                    s.state = DomainState::Running;
                    s.reason = StateReason::Unpaused;
                    true
                });
                if changed {
                    self.save_status(uuid, run);
                    self.emit(domain, EventKind::Resumed);
                }
            }
            "RESET" => self.emit(domain, EventKind::Reset),
            "SHUTDOWN" => {
                let guest = ev
                    .data
                    .get("guest")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                let reason = ev.data.get("reason").and_then(Value::as_str).unwrap_or("");
                // When QEMU pauses on the guest's power-off or reboot
                // (-no-shutdown), the policy for it is the driver's to
                // finish: restart resets and runs on in the same process
                // (as libvirt does), the pause being the cue, as for a
                // reboot; destroy ends QEMU; preserve keeps the pause.
                let def = &run.def;
                let action = if reason == "guest-reset" {
                    def.on_reboot
                } else {
                    def.on_poweroff
                };
                let qemu_pauses = def.on_poweroff != LifecycleAction::Destroy
                    || def.on_reboot == LifecycleAction::Preserve;
                let restart = guest && qemu_pauses && action == LifecycleAction::Restart;
                let destroy = guest && qemu_pauses && action == LifecycleAction::Destroy;
                let rebooting = run.update(|s| {
                    if std::mem::take(&mut s.reboot_pending) {
                        s.reboot_armed = true;
                        return true;
                    }
                    if restart {
                        s.reboot_armed = true;
                        return false;
                    }
                    // Any power-off the guest asked for, including a reboot
                    // that on_reboot='destroy' turns into one (reason
                    // guest-reset), ends the domain as shut down.
                    s.guest_shutdown = guest;
                    if destroy {
                        s.stopping = Some(StateReason::Shutdown);
                    }
                    if !guest && (reason == "host-signal" || reason == "host-qmp-quit") {
                        // Someone else stopped QEMU on purpose: not a crash.
                        s.stopping.get_or_insert(StateReason::Destroyed);
                    }
                    false
                });
                if guest && !rebooting {
                    self.emit(domain, EventKind::Shutdown);
                }
                if destroy && !rebooting {
                    process::terminate(run.process);
                }
            }
            "GUEST_PANICKED" => self.on_panic(uuid, run),
            "WATCHDOG" => match super::tuning::on_watchdog(run, &ev.data, &self.layout.save) {
                Ok(Some(file)) => self.log.info(&format!(
                    "domain '{}': watchdog fired, memory dumped to {}",
                    run.def.name,
                    file.display()
                )),
                Ok(None) => {}
                Err(e) => self
                    .log
                    .error(&format!("domain '{}': watchdog dump: {e}", run.def.name)),
            },
            _ => {}
        }
    }

    /// The second half of a manager-driven reboot: the guest powered off
    /// into a pause (`set-action shutdown=pause`); reset it, restore the
    /// shutdown action, and let it run again.
    fn finish_reboot(&self, run: &Running) {
        let Ok(qmp) = run.qmp() else { return };
        // Back to what the command line set (argv's emit_actions):
        // -no-shutdown, i.e. pause, unless power-off simply destroys.
        let action = if run.def.on_poweroff != LifecycleAction::Destroy
            || run.def.on_reboot == LifecycleAction::Preserve
        {
            "pause"
        } else {
            "poweroff"
        };
        let result = qmp
            .execute("system_reset", None, QMP_TIMEOUT)
            .and_then(|_| qmp.execute("set-action", Some(json!({"shutdown": action})), QMP_TIMEOUT))
            .and_then(|_| qmp.execute("cont", None, QMP_TIMEOUT));
        run.update(|s| s.guest_shutdown = false);
        if let Err(e) = result {
            self.log
                .error(&format!("domain '{}': reboot failed: {e}", run.def.name));
        }
    }

    /// The guest reported a panic: apply on_crash.
    fn on_panic(&self, uuid: Uuid, run: &Arc<Running>) {
        match run.def.on_crash {
            LifecycleAction::Preserve => run.update(|s| {
                s.state = DomainState::Crashed;
                s.reason = StateReason::Crashed;
            }),
            LifecycleAction::Destroy | LifecycleAction::Restart => {
                run.update(|s| s.stopping = Some(StateReason::Crashed));
                process::kill_hard(run.process);
                let _ = uuid;
            }
        }
    }

    /// Ends the run of `uuid` whose QEMU was `pid`, taking the domain's
    /// job lock first, so that an operation that is ending the run itself
    /// (a destroy, a save) finishes before this looks. See [`Core::end_run`].
    pub(crate) fn finish_run(&self, uuid: Uuid, pid: i32, forced: Option<StateReason>) {
        let job = {
            let inner = lock(&self.inner);
            match inner.entries.get(&uuid) {
                Some(e) => e.job.clone(),
                None => return,
            }
        };
        let _job = lock(&job);
        self.end_run(uuid, pid, forced);
    }

    /// Ends the run of `uuid` whose QEMU was `pid` (it has exited, or was
    /// found dead): removes its runtime files, records the reason, tells
    /// subscribers, and restarts it when its policy says so. Does nothing
    /// if that run is already over.
    /// The caller holds the domain's job lock.
    pub(crate) fn end_run(&self, uuid: Uuid, pid: i32, forced: Option<StateReason>) {
        let mut inner = lock(&self.inner);
        let Some(entry) = inner.entries.get_mut(&uuid) else {
            return;
        };
        let Some(run) = entry.running.take_if(|r| r.process.pid == pid) else {
            return;
        };
        let s = run.run_state();
        let reason = forced.or(s.stopping).unwrap_or(if s.guest_shutdown {
            StateReason::Shutdown
        } else {
            StateReason::Crashed
        });
        entry.reason = reason;
        let name = run.def.name.clone();
        let persistent = entry.persistent.is_some();
        if !persistent {
            inner.entries.remove(&uuid);
            inner.names.remove(&name);
        }
        drop(inner);
        let reason_file = self.layout.reason_file(&uuid);
        let kept = if persistent {
            super::fsutil::replace_atomic(&reason_file, reason.as_str().as_bytes())
        } else {
            super::fsutil::remove_runtime(&reason_file)
        };
        if let Err(e) = kept {
            self.log.error(&format!("domain '{name}': {e}"));
        }
        process::reap(pid);
        let taps = super::hostnet::taps_of(&run.def);
        self.release_taps(&taps, &format!("domain '{name}' stopped"));
        if let Err(e) = std::fs::remove_dir_all(&run.run_dir)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            self.log.error(&format!(
                "domain '{name}': cannot remove {}: {e}",
                run.run_dir.display()
            ));
        }
        self.log
            .info(&format!("domain '{name}' shut off ({})", reason.as_str()));
        let domain = Domain {
            name: name.clone(),
            uuid,
            id: None,
        };
        self.emit(domain.clone(), EventKind::Stopped(reason));
        // Closing the run's wake-up end stops its monitor thread, unless
        // that thread is the one running this.
        drop(run.stop_monitor.lock().map(|mut s| s.take()));
        if persistent && wants_restart(&run.def, reason) {
            let me = self.me.clone();
            std::thread::spawn(move || {
                if let Some(core) = me.upgrade()
                    && let Err(e) = core.start_domain(&domain)
                {
                    core.log
                        .error(&format!("domain '{name}': restart failed: {e}"));
                }
            });
        }
    }

    /// Rewrites the status file of `run` after a change of state, so a
    /// manager that reattaches reports the same state and reason.
    pub(crate) fn save_status(&self, uuid: Uuid, run: &Running) {
        let persistent = {
            let inner = lock(&self.inner);
            match inner.entries.get(&uuid) {
                Some(e) if e.running.as_ref().is_some_and(|r| r.process == run.process) => {
                    e.persistent.is_some()
                }
                _ => return,
            }
        };
        if let Err(e) = super::runtime::Status::of(run, persistent).write(&run.run_dir) {
            self.log.error(&format!("domain '{}': {e}", run.def.name));
        }
    }

    /// Waits up to `timeout` for the run of `dom` to end; whether it did.
    pub(crate) fn wait_stopped(&self, run: &Running, timeout: Duration) -> bool {
        match ExitWatch::open(run.process) {
            Some(w) => w.wait(Some(timeout)),
            None => true,
        }
    }

    /// The run of `dom`, checked to be in one of `states`.
    pub(crate) fn running_in(
        &self,
        dom: &Domain,
        what: &str,
        states: &[DomainState],
    ) -> Result<Arc<Running>> {
        let run = self.with_entry(dom, |e| match &e.running {
            Some(run) => Ok(run.clone()),
            None => Err(Core::wrong_state(dom, what, DomainState::Shutoff)),
        })?;
        let state = run.run_state().state;
        if !states.contains(&state) {
            return Err(Core::wrong_state(dom, what, state));
        }
        Ok(run)
    }
}
