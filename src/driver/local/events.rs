//! Lifecycle events fanned out to subscribers.
//!
//! Each subscriber has a bounded queue: a subscriber that stops reading
//! loses events (and is told so once, by an `OperationFailed` error from
//! its stream) instead of making the manager's memory grow.
//!
//! Each subscription also has a bell, a socket pair whose read end polls
//! readable while events wait (its `ready_fd`), so that an event loop
//! (the daemon's) can wait for events beside its sockets.

use std::io::{Read, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::sync::mpsc::{
    Receiver, RecvTimeoutError, SyncSender, TryRecvError, TrySendError, sync_channel,
};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::driver::{Event, EventStream};
use crate::error::{Error, ErrorCode, Result};

/// How many events wait for a slow subscriber before it starts losing them.
pub const QUEUE_LEN: usize = 1024;

/// The subscribers of one manager.
#[derive(Debug, Default)]
pub struct EventBus {
    subscribers: Mutex<Vec<Subscriber>>,
}

#[derive(Debug)]
struct Subscriber {
    queue: SyncSender<Event>,
    overflowed: Arc<Mutex<bool>>,
    /// The bell's ringing end (non-blocking: a full bell rings already).
    bell: Option<UnixStream>,
}

impl Subscriber {
    fn ring(&self) {
        if let Some(bell) = &self.bell {
            let _ = (&*bell).write(&[1]);
        }
    }
}

impl EventBus {
    /// Delivers `event` to every live subscriber; drops subscribers that
    /// have gone away.
    pub fn emit(&self, event: Event) {
        let mut subs = crate::sys::sync::lock(&self.subscribers);
        subs.retain(|s| match s.queue.try_send(event.clone()) {
            Ok(()) => {
                s.ring();
                true
            }
            Err(TrySendError::Full(_)) => {
                *crate::sys::sync::lock(&s.overflowed) = true;
                s.ring();
                true
            }
            Err(TrySendError::Disconnected(_)) => false,
        });
    }

    /// A new subscription.
    pub fn subscribe(&self) -> Subscription {
        let (tx, rx) = sync_channel(QUEUE_LEN);
        let overflowed = Arc::new(Mutex::new(false));
        // Without a bell (no descriptors left) the stream still works;
        // only `ready_fd` has nothing to offer.
        let (bell, ringer) = match UnixStream::pair() {
            Ok((r, w)) if r.set_nonblocking(true).is_ok() && w.set_nonblocking(true).is_ok() => {
                (Some(r), Some(w))
            }
            _ => (None, None),
        };
        self.subscribers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Subscriber {
                queue: tx,
                overflowed: overflowed.clone(),
                bell: ringer,
            });
        Subscription {
            rx,
            overflowed,
            bell,
        }
    }
}

/// One subscriber's end.
#[derive(Debug)]
pub struct Subscription {
    rx: Receiver<Event>,
    overflowed: Arc<Mutex<bool>>,
    /// The bell's listening end.
    bell: Option<UnixStream>,
}

impl Subscription {
    /// Silences the bell: called when the queue was found empty, before
    /// looking again, so that an event sent meanwhile rings it anew.
    fn hush(&self) {
        if let Some(bell) = &self.bell {
            let mut buf = [0u8; 64];
            while matches!((&*bell).read(&mut buf), Ok(n) if n > 0) {}
        }
    }
}

impl EventStream for Subscription {
    fn next(&mut self, timeout: Duration) -> Result<Option<Event>> {
        let lost = std::mem::take(&mut *crate::sys::sync::lock(&self.overflowed));
        if lost {
            return Err(Error::new(
                ErrorCode::OperationFailed,
                format!("events were lost: more than {QUEUE_LEN} were waiting unread"),
            ));
        }
        match self.rx.try_recv() {
            Ok(event) => return Ok(Some(event)),
            Err(TryRecvError::Empty) => self.hush(),
            Err(TryRecvError::Disconnected) => {}
        }
        match self.rx.recv_timeout(timeout) {
            Ok(event) => Ok(Some(event)),
            Err(RecvTimeoutError::Timeout) => Ok(None),
            Err(RecvTimeoutError::Disconnected) => Err(Error::new(
                ErrorCode::OperationFailed,
                "the event source was closed",
            )),
        }
    }

    fn ready_fd(&self) -> Option<BorrowedFd<'_>> {
        self.bell.as_ref().map(|b| b.as_fd())
    }
}
