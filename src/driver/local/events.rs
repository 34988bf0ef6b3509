//! Lifecycle events fanned out to subscribers.
//!
//! Each subscriber has a bounded queue: a subscriber that stops reading
//! loses events (and is told so once, by an `OperationFailed` error from
//! its stream) instead of making the manager's memory grow.

use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::driver::error::{Error, ErrorCode, Result};
use crate::driver::{Event, EventStream};

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
}

impl EventBus {
    /// Delivers `event` to every live subscriber; drops subscribers that
    /// have gone away.
    pub fn emit(&self, event: Event) {
        let mut subs = self.subscribers.lock().unwrap_or_else(|p| p.into_inner());
        subs.retain(|s| match s.queue.try_send(event.clone()) {
            Ok(()) => true,
            Err(TrySendError::Full(_)) => {
                *s.overflowed.lock().unwrap_or_else(|p| p.into_inner()) = true;
                true
            }
            Err(TrySendError::Disconnected(_)) => false,
        });
    }

    /// A new subscription.
    pub fn subscribe(&self) -> Subscription {
        let (tx, rx) = sync_channel(QUEUE_LEN);
        let overflowed = Arc::new(Mutex::new(false));
        self.subscribers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Subscriber {
                queue: tx,
                overflowed: overflowed.clone(),
            });
        Subscription { rx, overflowed }
    }
}

/// One subscriber's end.
#[derive(Debug)]
pub struct Subscription {
    rx: Receiver<Event>,
    overflowed: Arc<Mutex<bool>>,
}

impl EventStream for Subscription {
    fn next(&mut self, timeout: Duration) -> Result<Option<Event>> {
        let lost = std::mem::take(&mut *self.overflowed.lock().unwrap_or_else(|p| p.into_inner()));
        if lost {
            return Err(Error::new(
                ErrorCode::OperationFailed,
                format!("events were lost: more than {QUEUE_LEN} were waiting unread"),
            ));
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
}
