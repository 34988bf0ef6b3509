//! What a connection carries beside calls: the event subscription,
//! shared by every local stream, and consoles.
//!
//! A connection holds at most one subscription at the daemon (as
//! libvirt's event callbacks, one per connection); every
//! [`Driver::events`](crate::Driver::events) stream of a `SocketDriver` is
//! a local queue fed from it. The first stream opens it, the last one
//! dropped ends it (a `StreamMsg::End` on its serial).

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{Conn, ConnState, Wait, closed, lock};
use crate::driver::{ConsoleStream, Event, EventStream};
use crate::error::{Error, ErrorCode, Result};
use crate::transport::wire::{Procedure, StreamMsg, WireError};

/// Events buffered per local stream before the newest are dropped.
pub(super) const EVENT_QUEUE: usize = 1024;

/// The connection's subscription at the daemon.
pub(super) struct Subscription {
    /// The serial of its `events` call.
    pub serial: u32,
    /// The local streams fed from it, by id.
    pub locals: HashMap<u64, Local>,
}

/// What one local stream has received and not yet taken.
#[derive(Default)]
pub(super) struct Local {
    queue: VecDeque<Item>,
    events: usize,
    /// Why the subscription ended, once it has.
    ended: Option<(ErrorCode, String)>,
}

/// A queued item of a local stream.
enum Item {
    Event(Event),
    /// This many events were lost here (by the daemon or this queue).
    Lost(u64),
}

impl Local {
    fn push(&mut self, item: Item) {
        match item {
            Item::Event(e) if self.events < EVENT_QUEUE => {
                self.events += 1;
                self.queue.push_back(Item::Event(e));
            }
            Item::Event(_) => self.lost(1),
            Item::Lost(n) => self.lost(n),
        }
    }

    fn lost(&mut self, n: u64) {
        match self.queue.back_mut() {
            Some(Item::Lost(m)) => *m += n,
            _ => self.queue.push_back(Item::Lost(n)),
        }
    }

    fn take(&mut self) -> Option<Result<Event>> {
        match self.queue.pop_front()? {
            Item::Event(e) => {
                self.events -= 1;
                Some(Ok(e))
            }
            Item::Lost(n) => Some(Err(Error::new(
                ErrorCode::OperationFailed,
                format!(
                    "{n} event(s) were lost: they came faster than this subscriber read them; the stream goes on"
                ),
            ))),
        }
    }
}

impl Subscription {
    /// Hands an event to every local stream.
    pub(super) fn event(&mut self, event: &Event) {
        for l in self.locals.values_mut() {
            l.push(Item::Event(event.clone()));
        }
    }

    /// Tells every local stream that `n` events were lost.
    pub(super) fn lost(&mut self, n: u64) {
        for l in self.locals.values_mut() {
            l.push(Item::Lost(n));
        }
    }
}

/// The subscription has ended (the daemon ended it): every local stream
/// reports `why` from now on.
pub(super) fn sub_ended(st: &mut ConnState, why: Option<WireError>) {
    if let Some(sub) = st.events.take() {
        let why = why.map_or(
            (
                ErrorCode::OperationFailed,
                "the daemon ended the event stream".to_string(),
            ),
            |e| (ErrorCode::from_number(e.code), e.message),
        );
        for (id, mut l) in sub.locals {
            l.ended = Some(why.clone());
            st.ended_locals.insert(id, l);
        }
    }
}

/// One local event stream of a `SocketDriver`.
pub(super) struct Events {
    pub conn: Arc<Conn>,
    pub id: u64,
    pub uri: String,
}

impl EventStream for Events {
    fn next(&mut self, timeout: Duration) -> Result<Option<Event>> {
        let id = self.id;
        let got = self.conn.wait(Some(Instant::now() + timeout), |st| {
            let local = match st.events.as_mut().and_then(|s| s.locals.get_mut(&id)) {
                Some(l) => l,
                None => st.ended_locals.get_mut(&id)?,
            };
            if let Some(item) = local.take() {
                return Some(item);
            }
            let (code, why) = local.ended.clone()?;
            Some(Err(Error::new(code, why)))
        });
        match got {
            Wait::Got(event) => event.map(Some),
            Wait::TimedOut => Ok(None),
            Wait::Closed(..) => Err(closed(
                &self.uri,
                ErrorCode::Protocol,
                "the event stream ended",
            )),
        }
    }
}

impl Drop for Events {
    /// Removes this stream; the last one ends the daemon's subscription,
    /// under the subscription lock so that a new one is asked for only
    /// after this end is sent.
    fn drop(&mut self) {
        let _subscribing = lock(&self.conn.subscribing);
        let serial = {
            let mut st = lock(&self.conn.state);
            st.ended_locals.remove(&self.id);
            match &mut st.events {
                Some(sub) => {
                    sub.locals.remove(&self.id);
                    if sub.locals.is_empty() {
                        let serial = sub.serial;
                        st.events = None;
                        Some(serial)
                    } else {
                        None
                    }
                }
                None => None,
            }
        };
        if let Some(serial) = serial {
            let _ = self
                .conn
                .send_stream(serial, Procedure::Events, &StreamMsg::End(None));
        }
    }
}

/// A console through the daemon.
pub(super) struct RemoteConsole {
    pub conn: Arc<Conn>,
    pub serial: u32,
    pub ended: Option<Error>,
    /// Output that arrived while a write waited for its acknowledgement.
    pub pending: Vec<u8>,
    pub uri: String,
}

impl RemoteConsole {
    fn send(&self, msg: &StreamMsg) -> Result<()> {
        self.conn
            .send_stream(self.serial, Procedure::Console, msg)
            .map_err(|e| Error::new(e.code, format!("{}: {e}", self.uri)))
    }

    /// The console's next message from the daemon, waiting until `deadline`.
    fn next(&self, deadline: Instant) -> Wait<StreamMsg> {
        let serial = self.serial;
        self.conn.wait(Some(deadline), |st| {
            st.streams.get_mut(&serial)?.pop_front()
        })
    }

    /// Records the end of the stream and returns its error.
    fn end(&mut self, why: Option<WireError>) -> Error {
        let err = why
            .map(Error::from)
            .unwrap_or_else(|| Error::new(ErrorCode::OperationFailed, "the console closed"));
        self.ended = Some(Error::new(err.code, err.message.clone()));
        err
    }

    /// The error once the connection under the console has ended.
    fn cut(&self) -> Error {
        closed(&self.uri, ErrorCode::Protocol, "the console stream ended")
    }
}

impl ConsoleStream for RemoteConsole {
    fn read(&mut self, timeout: Duration) -> Result<Vec<u8>> {
        // Once cut off, nothing more is read, as with a local console.
        if let Some(e) = &self.ended {
            return Err(Error::new(e.code, e.message.clone()));
        }
        if !self.pending.is_empty() {
            return Ok(std::mem::take(&mut self.pending));
        }
        let deadline = Instant::now() + timeout;
        loop {
            match self.next(deadline) {
                Wait::Got(StreamMsg::Data(bytes)) => return Ok(bytes),
                Wait::Got(StreamMsg::Written | StreamMsg::Lost(_)) => continue,
                Wait::Got(StreamMsg::End(why)) => return Err(self.end(why)),
                Wait::TimedOut => return Ok(Vec::new()),
                Wait::Closed(..) => return Err(self.cut()),
            }
        }
    }

    /// Sends the bytes and waits for the daemon to have written them, so
    /// an error (the console was taken, the domain stopped) comes back
    /// from this call as it would locally.
    fn write(&mut self, data: &[u8]) -> Result<()> {
        if let Some(e) = &self.ended {
            return Err(Error::new(e.code, e.message.clone()));
        }
        self.send(&StreamMsg::Data(data.to_vec()))?;
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match self.next(deadline) {
                Wait::Got(StreamMsg::Written) => return Ok(()),
                Wait::Got(StreamMsg::Lost(_)) => {}
                Wait::Got(StreamMsg::Data(bytes)) => self.pending.extend_from_slice(&bytes),
                Wait::Got(StreamMsg::End(why)) => return Err(self.end(why)),
                Wait::TimedOut => {
                    return Err(Error::new(
                        ErrorCode::Timeout,
                        format!(
                            "the daemon at {} did not confirm a console write within 30 s",
                            self.uri
                        ),
                    ));
                }
                Wait::Closed(..) => return Err(self.cut()),
            }
        }
    }
}

impl Drop for RemoteConsole {
    fn drop(&mut self) {
        let _ = self.send(&StreamMsg::End(None));
        lock(&self.conn.state).streams.remove(&self.serial);
    }
}
