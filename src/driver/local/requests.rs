//! How callers talk to a run's monitor (see `monitor`): the requests it
//! answers, the control that carries them, and the sign that the monitor
//! has ended. Apart from the monitor itself, so that a run (`runtime`)
//! can hold its control without knowing the monitor's insides.

use std::io::Write;
use std::os::unix::net::UnixStream;
use std::sync::mpsc::{Sender, SyncSender, sync_channel};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::driver::StateReason;
use crate::error::{Error, ErrorCode, Result};
use crate::sys::sync::lock;

/// What a caller asks of a run's monitor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Request {
    /// `stop` the vCPUs: paused (user).
    Suspend,
    /// `cont`: running (unpaused).
    Resume,
    /// `system_reset`, like the reset button.
    Reset,
    /// Reboot through the guest: its power-off becomes a pause
    /// (`set-action shutdown=pause`), which the monitor turns into a reset
    /// and `cont`, so the QEMU process stays.
    Reboot,
    /// Take the trays of the drives from QEMU (`query-block`), after the
    /// events QEMU sent before its reply, telling each move it made
    /// without an event (see `trays`).
    RefreshTrays,
    /// The QEMU is about to be stopped on purpose (a destroy, a save):
    /// its exit is recorded with this reason, not as a crash. `None`
    /// withdraws it (the stop did not happen).
    Stopping(Option<StateReason>),
}

/// A request and where its answer goes.
pub(crate) struct Pending {
    pub(super) request: Request,
    pub(super) reply: SyncSender<Result<()>>,
}

/// A caller's way to the monitor: the request queue and the wake-up
/// socket. Dropping it (with the run) tells the monitor to stop.
#[derive(Debug, Clone)]
pub(crate) struct Control {
    pub(super) requests: Sender<Pending>,
    pub(super) wake: Arc<UnixStream>,
}

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pending")
            .field("request", &self.request)
            .finish()
    }
}

/// How long a caller waits for its request's answer: the request's QMP
/// command has QMP's routine timeout, and the monitor may be finishing
/// another.
const ANSWER_WITHIN: Duration = Duration::from_secs(75);

impl Control {
    /// Sends `request` and waits for the answer. `OperationInvalid` when
    /// the run ended meanwhile. Never call it from the monitor thread.
    pub fn ask(&self, request: Request, name: &str) -> Result<()> {
        let (reply, answer) = sync_channel(1);
        let gone = || {
            Error::new(
                ErrorCode::OperationInvalid,
                format!("domain '{name}' stopped running meanwhile"),
            )
        };
        self.requests
            .send(Pending { request, reply })
            .map_err(|_| gone())?;
        // One pending byte is enough to wake the thread; a full buffer
        // means a wake-up is already pending.
        let _ = (&*self.wake).write(&[1]);
        match answer.recv_timeout(ANSWER_WITHIN) {
            Ok(result) => result,
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => Err(gone()),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => Err(Error::new(
                ErrorCode::Timeout,
                format!(
                    "the monitor of domain '{name}' did not answer within {} s",
                    ANSWER_WITHIN.as_secs()
                ),
            )),
        }
    }
}

/// Whether the monitor thread has ended (after ending its run, when the
/// process exited).
#[derive(Debug, Default)]
pub(crate) struct Ended {
    done: Mutex<bool>,
    changed: Condvar,
}

impl Ended {
    pub(super) fn set(&self) {
        *lock(&self.done) = true;
        self.changed.notify_all();
    }

    /// Waits until the monitor thread has ended, up to `timeout`; whether
    /// it has.
    pub(crate) fn wait(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut done = lock(&self.done);
        while !*done {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            done = self
                .changed
                .wait_timeout(done, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        true
    }
}
