//! Event subscriptions and consoles as buffers in the I/O loop.
//!
//! The server holds one subscription of the driver (`Source`), opened
//! with the first subscriber, and fans each event out to every
//! connection's bounded queue (`Sub`). A subscriber that does not read
//! loses events past [`Limits::event_queue`](super::Limits): it is told
//! once, by a `StreamMsg::Lost` frame after the events it did get, and
//! then delivery resumes with the next event (the choice of libvirt's
//! event loop and of `LocalDriver`'s own streams: a subscriber learns it
//! must look again, and is not cut off).
//!
//! A console is read when its descriptor (`ConsoleStream::ready_fd`)
//! polls readable, and on the loop's tick (which also notices a console
//! taken over by another client); writes run on a worker.

use std::collections::VecDeque;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::conn::Conn;
use crate::driver::{ConsoleStream, EventStream};
use crate::error::{Error, ErrorCode};
use crate::transport::wire::{
    Kind, Procedure, StreamMsg, WireError, WireEvent, encode_event, encode_stream,
};

/// One connection's subscription: events encoded and waiting to be
/// written.
pub(super) struct Sub {
    /// The serial of the `events` call.
    pub serial: u32,
    queue: VecDeque<Pending>,
    bytes: usize,
}

/// A queued message of a subscription.
pub(super) enum Pending {
    /// An encoded event (qvirt's protocol: framed when it goes out).
    Event(Arc<[u8]>),
    /// This many events were dropped here.
    Lost(u64),
    /// A whole message, framed already (libvirt's protocol).
    Frame(Arc<[u8]>),
}

impl Sub {
    /// A subscription opened by the call `serial`.
    pub(super) fn new(serial: u32) -> Sub {
        Sub {
            serial,
            queue: VecDeque::new(),
            bytes: 0,
        }
    }

    /// Bytes queued.
    pub(super) fn bytes(&self) -> usize {
        self.bytes
    }

    /// Messages queued.
    pub(super) fn len(&self) -> usize {
        self.queue.len()
    }

    /// Queues a whole message.
    pub(super) fn push_frame(&mut self, frame: Pending) {
        if let Pending::Frame(f) = &frame {
            self.bytes += f.len();
        }
        self.queue.push_back(frame);
    }

    /// Queues an event, or counts it lost when `limit` events wait.
    fn push(&mut self, event: &Arc<[u8]>, limit: usize) {
        if self.queue.len() < limit {
            self.bytes += event.len();
            self.queue.push_back(Pending::Event(event.clone()));
        } else {
            self.lost(1);
        }
    }

    /// Counts `n` events lost after those queued.
    fn lost(&mut self, n: u64) {
        match self.queue.back_mut() {
            Some(Pending::Lost(m)) => *m += n,
            _ => self.queue.push_back(Pending::Lost(n)),
        }
    }
}

/// Moves queued events into `conn`'s output while it has room.
pub(super) fn feed(conn: &mut Conn, high_water: usize) {
    let Some(mut sub) = conn.sub.take() else {
        return;
    };
    while conn.pending_out() < high_water {
        match sub.queue.pop_front() {
            Some(Pending::Event(body)) => {
                sub.bytes -= body.len();
                conn.push_frame(Kind::Event, Procedure::Events.number(), sub.serial, &body);
            }
            Some(Pending::Lost(n)) => {
                let body = encode_stream(&StreamMsg::Lost(n));
                conn.push_frame(Kind::Stream, Procedure::Events.number(), sub.serial, &body);
            }
            Some(Pending::Frame(frame)) => {
                sub.bytes -= frame.len();
                conn.out.extend_from_slice(&frame);
            }
            None => break,
        }
    }
    conn.sub = Some(sub);
}

/// The server's subscription of the driver.
#[derive(Default)]
pub(super) struct Source {
    stream: Option<Box<dyn EventStream>>,
    /// A duplicate of the stream's readiness descriptor, watched by epoll.
    pub fd: Option<OwnedFd>,
}

/// An event as the source gives it: as it is (for libvirt's protocol,
/// framed per connection) and encoded once for qvirt's.
pub(super) struct Fanned {
    /// The event.
    pub event: crate::driver::Event,
    /// Its qvirt encoding.
    pub body: Arc<[u8]>,
}

/// What draining the source found.
pub(super) enum Drained {
    /// Events, and whether some were lost before the last ones.
    Events(Vec<Fanned>, bool),
    /// The driver's stream ended, with why.
    Ended(Error),
}

impl Source {
    /// Whether the driver's stream is open.
    pub(super) fn is_open(&self) -> bool {
        self.stream.is_some()
    }

    /// Holds `stream`; returns the descriptor to watch, if it has one.
    pub(super) fn open(&mut self, stream: Box<dyn EventStream>) -> Option<&OwnedFd> {
        self.fd = stream
            .ready_fd()
            .and_then(|fd| fd.try_clone_to_owned().ok());
        self.stream = Some(stream);
        self.fd.as_ref()
    }

    /// Closes the driver's stream; returns the descriptor to forget.
    pub(super) fn close(&mut self) -> Option<OwnedFd> {
        self.stream = None;
        self.fd.take()
    }

    /// Takes the events that wait (at most `max`), without waiting.
    pub(super) fn drain(&mut self, max: usize) -> Drained {
        let Some(stream) = &mut self.stream else {
            return Drained::Events(Vec::new(), false);
        };
        let mut events = Vec::new();
        let mut lost = false;
        let mut failed_last = false;
        while events.len() < max {
            match stream.next(Duration::ZERO) {
                Ok(Some(event)) => {
                    failed_last = false;
                    let body = Arc::from(encode_event(&WireEvent::from(event.clone())));
                    events.push(Fanned { event, body });
                }
                Ok(None) => break,
                // An error once: events were lost and the stream goes on;
                // an error again at once: the stream is over.
                Err(e) if failed_last => return Drained::Ended(e),
                Err(_) => {
                    failed_last = true;
                    lost = true;
                }
            }
        }
        Drained::Events(events, lost)
    }
}

/// Hands drained events to a subscribed connection of qvirt's protocol.
pub(super) fn deliver(conn: &mut Conn, events: &[Fanned], lost: bool, limit: usize) {
    let Some(sub) = &mut conn.sub else {
        return;
    };
    if lost {
        sub.lost(1);
    }
    for e in events {
        sub.push(&e.body, limit);
    }
}

/// Ends a connection's subscription with `why` (the driver's stream is
/// over). A libvirt client cannot be told: its callbacks stay registered
/// and hear nothing more.
pub(super) fn end_sub(conn: &mut Conn, why: &Error) {
    if conn.libvirt.is_some() {
        conn.sub = None;
        return;
    }
    if let Some(sub) = conn.sub.take() {
        let body = encode_stream(&StreamMsg::End(Some(WireError::from(why))));
        conn.push_frame(Kind::Stream, Procedure::Events.number(), sub.serial, &body);
    }
}

/// A console shared by the loop (reading) and a worker (writing).
pub(super) type SharedConsole = Arc<Mutex<Box<dyn ConsoleStream>>>;

/// An open console of a connection.
pub(super) struct ConsoleSlot {
    /// The console.
    pub console: SharedConsole,
    /// Its epoll token.
    pub token: u64,
    /// A duplicate of its readiness descriptor, watched by epoll.
    pub fd: Option<OwnedFd>,
    /// Whether epoll watches `fd` now.
    pub watched: bool,
    /// A worker is writing to it (libvirt's streams: one write at a
    /// time, in order).
    pub writing: bool,
    /// Input waiting for the write in progress (libvirt's streams).
    pub input: super::lv::ConsoleInput,
}

impl ConsoleSlot {
    /// A slot for `console`.
    pub(super) fn new(console: Box<dyn ConsoleStream>, token: u64) -> ConsoleSlot {
        let fd = console
            .ready_fd()
            .and_then(|fd| fd.as_fd().try_clone_to_owned().ok());
        ConsoleSlot {
            console: Arc::new(Mutex::new(console)),
            token,
            fd,
            watched: false,
            writing: false,
            input: Default::default(),
        }
    }
}

/// What reading a console gave.
pub(super) enum ConsoleRead {
    /// Nothing now.
    Nothing,
    /// A worker holds it (writing): try after.
    Busy,
    /// Output was queued.
    Data,
    /// It ended; an `End` was queued.
    Ended,
}

/// Reads what console `serial` of `conn` has, into stream frames.
pub(super) fn read_console(conn: &mut Conn, serial: u32) -> ConsoleRead {
    let Some(slot) = conn.consoles.get(&serial) else {
        return ConsoleRead::Nothing;
    };
    let console = slot.console.clone();
    let Ok(mut guard) = console.try_lock() else {
        return ConsoleRead::Busy;
    };
    let read = guard.read(Duration::ZERO);
    drop(guard);
    if conn.libvirt.is_some() {
        return match read {
            Ok(bytes) if bytes.is_empty() => ConsoleRead::Nothing,
            Ok(bytes) => {
                super::lv::console_data(conn, serial, &bytes);
                ConsoleRead::Data
            }
            Err(_) => {
                super::lv::console_ended(conn, serial);
                ConsoleRead::Ended
            }
        };
    }
    let procedure = Procedure::Console.number();
    match read {
        Ok(bytes) if bytes.is_empty() => ConsoleRead::Nothing,
        Ok(bytes) => {
            let body = encode_stream(&StreamMsg::Data(bytes));
            conn.push_frame(Kind::Stream, procedure, serial, &body);
            ConsoleRead::Data
        }
        Err(e) => {
            let body = encode_stream(&StreamMsg::End(Some(WireError::from(&e))));
            conn.push_frame(Kind::Stream, procedure, serial, &body);
            ConsoleRead::Ended
        }
    }
}

/// Writes `data` to a console (on a worker): the stream frame that
/// acknowledges it (`Written`), or says why it failed (`End`), and
/// whether the console is over.
pub(super) fn write_console(console: &SharedConsole, data: &[u8]) -> (Vec<u8>, bool) {
    let written = console
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .write(data);
    match written {
        Ok(()) => (encode_stream(&StreamMsg::Written), false),
        Err(e) => (
            encode_stream(&StreamMsg::End(Some(WireError::from(&e)))),
            true,
        ),
    }
}

/// The error a second subscription on one connection gets.
pub(super) fn one_subscription() -> Error {
    Error::new(
        ErrorCode::LimitExceeded,
        "this connection is already subscribed to events (one subscription per connection, as libvirt's event callbacks use); end it first or open another connection",
    )
}
