//! `SocketDriver`: the [`Driver`] trait forwarded over a stream to a
//! daemon. Each method encodes its call, sends it, waits for the reply
//! with its serial, and matches one reply variant.
//!
//! There is no reader thread: a thread that waits for something from the
//! daemon (a reply, an event, console output) reads the socket itself if
//! no other thread is reading, and hands whatever else arrives (replies to
//! other callers, events, console bytes) to the state the others wait on.
//! A call thus costs two thread wake-ups (the daemon's, then the
//! caller's) instead of three, and the reader first polls briefly
//! ([`spin`](super::spin)) before it sleeps. Any number of threads may
//! call at once.

use std::collections::{HashMap, VecDeque};
use std::io::{BufWriter, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use uuid::Uuid;

use super::spin::Spinner;
use super::wire::{
    Call, Caller, Frame, HEADER_LEN, Header, Kind, MAX_FRAME, PROTOCOL_VERSION, Procedure, Reply,
    StreamMsg, WireDomain, WireMedia, decode_event, decode_stream, encode_stream,
};
use crate::driver::error::{Error, ErrorCode, Result};
use crate::driver::{
    ConsoleStream, Domain, DomainInfo, DomainSummary, Driver, Event, EventStream, ListFilter,
    MediaChange, MediaFlags, NodeInfo, ShutdownOptions, VersionInfo,
};

/// Events buffered per subscription before the newest are dropped.
const EVENT_QUEUE: usize = 1024;

/// Bytes the read buffer keeps between frames; it grows for a larger
/// frame and shrinks back once that frame is consumed.
const READ_BUFFER: usize = 64 * 1024;

/// A driver that talks to a daemon over a UNIX socket.
pub struct SocketDriver {
    uri: String,
    conn: Arc<Conn>,
}

/// The shared side of one connection.
struct Conn {
    writer: Mutex<BufWriter<UnixStream>>,
    socket: UnixStream,
    /// The read side; only the thread that set `ConnState::reading` locks it.
    read: Mutex<ReadSide>,
    state: Mutex<ConnState>,
    changed: Condvar,
    next_serial: AtomicU32,
}

#[derive(Default)]
struct ConnState {
    /// Calls waiting: serial -> (procedure, reply frame once it came).
    waiting: HashMap<u32, (u32, Option<Frame>)>,
    /// Event subscriptions by the serial of their `Events` call.
    events: HashMap<u32, Subscription>,
    /// Open consoles' messages by the serial of their `Console` call.
    streams: HashMap<u32, VecDeque<StreamMsg>>,
    /// A thread is reading the socket for everyone.
    reading: bool,
    /// Why the connection ended, once it has: the code a caller sees
    /// (the daemon's own when it refused us, else `Protocol`) and words.
    closed: Option<(ErrorCode, String)>,
}

/// Events received for one subscription and not yet taken.
#[derive(Default)]
struct Subscription {
    queue: VecDeque<Event>,
    /// Events were dropped because the queue was full.
    lost: bool,
}

/// The read side of the connection.
struct ReadSide {
    socket: UnixStream,
    spinner: Spinner,
    pending: Pending,
}

/// Bytes read from the socket and not yet parsed: `buf[start..end]`.
#[derive(Default)]
struct Pending {
    buf: Vec<u8>,
    start: usize,
    end: usize,
}

/// What a wait on the connection ended with.
enum Wait<T> {
    Got(T),
    TimedOut,
    Closed(ErrorCode, String),
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Pending {
    /// Takes the complete frames out of the buffer.
    fn frames(&mut self) -> Result<Vec<Frame>> {
        let mut frames = Vec::new();
        loop {
            let avail = &self.buf[self.start..self.end];
            let Some(prefix) = avail.first_chunk::<4>() else {
                break;
            };
            let len = Frame::check_len(*prefix)?;
            if avail.len() < 4 + len {
                break;
            }
            frames.push(Frame::parse(&avail[4..4 + len])?);
            self.start += 4 + len;
        }
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
            if self.buf.len() > READ_BUFFER {
                self.buf.truncate(READ_BUFFER);
                self.buf.shrink_to_fit();
            }
        }
        Ok(frames)
    }

    /// The free part of the buffer, with room for at least the rest of
    /// the frame that has begun (the partial frame moved to the front).
    fn room(&mut self) -> &mut [u8] {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        // `frames` has checked the length against the limit already.
        let need = match self.buf[..self.end].first_chunk::<4>() {
            Some(prefix) => 4 + u32::from_be_bytes(*prefix) as usize,
            None => 4,
        };
        if self.buf.len() < need.max(READ_BUFFER) {
            self.buf.resize(need.max(READ_BUFFER), 0);
        }
        &mut self.buf[self.end..]
    }
}

impl ReadSide {
    /// Reads the frames that come next, polling briefly and then sleeping
    /// until `deadline`; none when it passes first. An error is why the
    /// connection is over.
    fn read_frames(
        &mut self,
        deadline: Option<Instant>,
    ) -> std::result::Result<Vec<Frame>, (ErrorCode, String)> {
        let protocol = |why: String| (ErrorCode::Protocol, why);
        loop {
            let frames = self.pending.frames().map_err(|e| protocol(e.to_string()))?;
            if !frames.is_empty() {
                return Ok(frames);
            }
            match self
                .spinner
                .recv(&self.socket, self.pending.room(), deadline)
            {
                Ok(Some(0)) => {
                    let why = if self.pending.end > self.pending.start {
                        "the connection ended inside a frame"
                    } else {
                        "the daemon closed the connection"
                    };
                    return Err(protocol(why.to_string()));
                }
                Ok(Some(n)) => self.pending.end += n,
                Ok(None) => return Ok(Vec::new()),
                Err(e) => return Err(protocol(format!("cannot read from the connection: {e}"))),
            }
        }
    }
}

impl Conn {
    /// Waits until `take` finds what this thread wants in the state, the
    /// connection ends, or `deadline` passes. If no other thread is
    /// reading the socket, this one does, for everyone.
    fn wait<T>(
        &self,
        deadline: Option<Instant>,
        mut take: impl FnMut(&mut ConnState) -> Option<T>,
    ) -> Wait<T> {
        let mut st = lock(&self.state);
        loop {
            if let Some(t) = take(&mut st) {
                return Wait::Got(t);
            }
            if let Some((code, why)) = &st.closed {
                return Wait::Closed(*code, why.clone());
            }
            let now = Instant::now();
            if deadline.is_some_and(|d| now >= d) {
                return Wait::TimedOut;
            }
            if !st.reading {
                st.reading = true;
                drop(st);
                let read = lock(&self.read).read_frames(deadline);
                st = lock(&self.state);
                st.reading = false;
                match read {
                    Ok(frames) => {
                        for frame in frames {
                            route(&mut st, frame);
                        }
                    }
                    Err(why) => end(&mut st, why),
                }
                self.changed.notify_all();
            } else {
                st = match deadline {
                    None => self.changed.wait(st).unwrap_or_else(|p| p.into_inner()),
                    Some(d) => {
                        self.changed
                            .wait_timeout(st, d - now)
                            .unwrap_or_else(|p| p.into_inner())
                            .0
                    }
                };
            }
        }
    }
}

/// Hands a frame from the daemon to whoever waits for it.
fn route(st: &mut ConnState, frame: Frame) {
    let serial = frame.header.serial;
    match frame.header.kind {
        Kind::Reply => {
            if let Some(slot) = st.waiting.get_mut(&serial) {
                slot.1 = Some(frame);
            } else if serial == 0 {
                // An error the daemon sends before closing (too many
                // clients, a broken frame): keep its code and words.
                if let Ok(Err(e)) = Reply::decode(Procedure::Hello.number(), &frame.body) {
                    end(st, (e.code, e.message));
                }
            }
        }
        // Frames for a subscription or console that is gone are dropped
        // unread; one that does not decode ends the connection.
        Kind::Event => {
            if let Some(sub) = st.events.get_mut(&serial) {
                if sub.queue.len() >= EVENT_QUEUE {
                    sub.lost = true;
                } else {
                    match decode_event(&frame.body) {
                        Ok(event) => sub.queue.push_back(event.into()),
                        Err(e) => end(st, (ErrorCode::Protocol, format!("bad event: {e}"))),
                    }
                }
            }
        }
        Kind::Stream => {
            if let Some(queue) = st.streams.get_mut(&serial) {
                match decode_stream(&frame.body) {
                    Ok(msg) => queue.push_back(msg),
                    Err(e) => end(st, (ErrorCode::Protocol, format!("bad console data: {e}"))),
                }
            }
        }
        Kind::Call => end(
            st,
            (ErrorCode::Protocol, "the daemon sent a call".to_string()),
        ),
    }
}

/// Records why the connection ended (the first reason wins).
fn end(st: &mut ConnState, why: (ErrorCode, String)) {
    if st.closed.is_none() {
        st.closed = Some(why);
    }
}

impl SocketDriver {
    /// Connects to the daemon listening at `path`, says hello, and checks
    /// the protocol version. `uri` is what [`Driver::uri`] reports.
    pub fn connect(path: &Path, uri: &str) -> Result<SocketDriver> {
        let socket = UnixStream::connect(path)
            .map_err(|e| Error::io(format!("cannot connect to {} ({uri})", path.display()), e))?;
        SocketDriver::over(socket, uri)
    }

    /// Runs the protocol over an already-connected socket.
    pub fn over(socket: UnixStream, uri: &str) -> Result<SocketDriver> {
        let read_half = socket
            .try_clone()
            .map_err(|e| Error::io("cannot duplicate the connection", e))?;
        let write_half = socket
            .try_clone()
            .map_err(|e| Error::io("cannot duplicate the connection", e))?;
        let conn = Arc::new(Conn {
            writer: Mutex::new(BufWriter::new(write_half)),
            socket,
            read: Mutex::new(ReadSide {
                socket: read_half,
                spinner: Spinner::default(),
                pending: Pending::default(),
            }),
            state: Mutex::new(ConnState::default()),
            changed: Condvar::new(),
            next_serial: AtomicU32::new(1),
        });
        let driver = SocketDriver {
            uri: uri.to_string(),
            conn,
        };
        match driver.rpc().hello(u32::from(PROTOCOL_VERSION))? {
            v if v == u32::from(PROTOCOL_VERSION) => Ok(driver),
            v => Err(Error::new(
                ErrorCode::Protocol,
                format!("the daemon speaks protocol {v}, this client {PROTOCOL_VERSION}"),
            )),
        }
    }

    /// Sends `call` and waits for its reply.
    fn call(&self, call: Call) -> Result<Reply> {
        self.call_with(call, |_, _| {}).map(|(reply, _)| reply)
    }

    /// Sends `call`, first running `register` with its serial under the
    /// state lock (to subscribe before any event can arrive).
    fn call_with(
        &self,
        call: Call,
        register: impl FnOnce(&mut ConnState, u32),
    ) -> Result<(Reply, u32)> {
        let (procedure, body) = call.encode();
        if HEADER_LEN + body.len() > MAX_FRAME {
            // The daemon would refuse the frame by its length and close
            // the connection; refuse it here, and keep the connection.
            return Err(Error::new(
                ErrorCode::LimitExceeded,
                format!(
                    "the call is {} bytes, more than the frame limit of {MAX_FRAME}; nothing was sent",
                    HEADER_LEN + body.len()
                ),
            ));
        }
        let serial = self.conn.next_serial.fetch_add(1, Ordering::Relaxed);
        {
            let mut st = lock(&self.conn.state);
            if let Some((code, why)) = &st.closed {
                return Err(closed(&self.uri, *code, why));
            }
            st.waiting.insert(serial, (procedure, None));
            register(&mut st, serial);
        }
        let frame = Frame {
            header: Header {
                version: PROTOCOL_VERSION,
                kind: Kind::Call,
                procedure,
                serial,
            },
            body,
        };
        if let Err(e) = self.send(&frame) {
            return Err(self.send_failed(serial, e));
        }
        let got = self.conn.wait(None, |st| {
            if let Some((_, Some(_))) = st.waiting.get(&serial) {
                st.waiting.remove(&serial).and_then(|(_, reply)| reply)
            } else {
                None
            }
        });
        let result = match got {
            Wait::Got(reply) => Reply::decode(procedure, &reply.body).and_then(|r| r),
            Wait::Closed(code, why) => Err(closed(&self.uri, code, &why)),
            Wait::TimedOut => unreachable!("a wait without a deadline"),
        };
        if result.is_err() {
            self.forget(serial);
        }
        result.map(|r| (r, serial))
    }

    /// Drops what a failed call registered under its serial.
    fn forget(&self, serial: u32) {
        let mut st = lock(&self.conn.state);
        st.waiting.remove(&serial);
        st.events.remove(&serial);
        st.streams.remove(&serial);
    }

    /// The error for a call whose frame could not be written. A daemon
    /// that refuses a client (wrong uid, too many clients) writes why and
    /// closes at once, so the first write races the close and may fail
    /// with EPIPE; the reason is then waiting to be read, so read it
    /// (for a moment) and prefer it to the bare write error.
    fn send_failed(&self, serial: u32, e: Error) -> Error {
        let deadline = Instant::now() + Duration::from_secs(2);
        let got = self.conn.wait(Some(deadline), |_| None::<()>);
        self.forget(serial);
        match got {
            Wait::Closed(code, why) => closed(&self.uri, code, &why),
            _ => e,
        }
    }

    /// Writes one frame.
    fn send(&self, frame: &Frame) -> Result<()> {
        let mut w = lock(&self.conn.writer);
        frame.write(&mut *w)?;
        w.flush()
            .map_err(|e| Error::io(format!("cannot write to {}", self.uri), e))
    }
}

impl Drop for SocketDriver {
    fn drop(&mut self) {
        // Wakes a thread reading for an event stream or a console that
        // outlives the driver; they then see the connection closed.
        let _ = self.conn.socket.shutdown(std::net::Shutdown::Both);
    }
}

/// The error for a call on a connection that has ended.
fn closed(uri: &str, code: ErrorCode, why: &str) -> Error {
    Error::new(code, format!("the connection to {uri} ended: {why}"))
}

/// The error for a reply of the wrong shape.
fn unexpected(reply: &Reply) -> Error {
    Error::new(
        ErrorCode::Protocol,
        format!("the daemon sent an unexpected reply: {reply:?}"),
    )
}

/// A subscription's receiving end.
struct Events {
    conn: Arc<Conn>,
    serial: u32,
    uri: String,
}

impl EventStream for Events {
    fn next(&mut self, timeout: Duration) -> Result<Option<Event>> {
        let lost = || {
            Error::new(
                ErrorCode::OperationFailed,
                format!("events were lost: more than {EVENT_QUEUE} were waiting unread"),
            )
        };
        let serial = self.serial;
        let got = self.conn.wait(Some(Instant::now() + timeout), |st| {
            let sub = st.events.get_mut(&serial)?;
            if std::mem::take(&mut sub.lost) {
                return Some(Err(lost()));
            }
            sub.queue.pop_front().map(Ok)
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
    fn drop(&mut self) {
        lock(&self.conn.state).events.remove(&self.serial);
    }
}

/// A console through the daemon.
struct RemoteConsole {
    conn: Arc<Conn>,
    serial: u32,
    ended: Option<Error>,
    /// Output that arrived while a write waited for its acknowledgement.
    pending: Vec<u8>,
    uri: String,
}

impl RemoteConsole {
    fn send(&self, msg: &StreamMsg) -> Result<()> {
        let frame = Frame {
            header: Header {
                version: PROTOCOL_VERSION,
                kind: Kind::Stream,
                procedure: Procedure::Console.number(),
                serial: self.serial,
            },
            body: encode_stream(msg),
        };
        let mut w = lock(&self.conn.writer);
        frame.write(&mut *w)?;
        w.flush()
            .map_err(|e| Error::io(format!("cannot write to {}", self.uri), e))
    }

    /// The console's next message from the daemon, waiting until `deadline`.
    fn next(&self, deadline: Instant) -> Wait<StreamMsg> {
        let serial = self.serial;
        self.conn.wait(Some(deadline), |st| {
            st.streams.get_mut(&serial)?.pop_front()
        })
    }

    /// Records the end of the stream and returns its error.
    fn end(&mut self, why: Option<super::wire::WireError>) -> Error {
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
                Wait::Got(StreamMsg::Written) => continue,
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

/// The typed calls of the procedure table over this connection.
struct Rpc<'a>(&'a SocketDriver);

impl Caller for Rpc<'_> {
    fn call(&self, call: Call) -> Result<Reply> {
        self.0.call(call)
    }
}

impl SocketDriver {
    fn rpc(&self) -> Rpc<'_> {
        Rpc(self)
    }
}

fn wire(dom: &Domain) -> WireDomain {
    dom.clone().into()
}

impl Driver for SocketDriver {
    fn uri(&self) -> String {
        self.uri.clone()
    }

    fn version(&self) -> Result<VersionInfo> {
        self.rpc().version(()).map(Into::into)
    }

    fn node_info(&self) -> Result<NodeInfo> {
        self.rpc().node_info(()).map(Into::into)
    }

    fn capabilities(&self) -> Result<String> {
        self.rpc().capabilities(())
    }

    fn list(&self, filter: ListFilter) -> Result<Vec<DomainSummary>> {
        let list = self.rpc().list(filter.into())?;
        Ok(list.into_iter().map(Into::into).collect())
    }

    fn lookup_by_name(&self, name: &str) -> Result<Domain> {
        self.rpc().lookup_by_name(name.to_string()).map(Into::into)
    }

    fn lookup_by_uuid(&self, uuid: Uuid) -> Result<Domain> {
        self.rpc().lookup_by_uuid(uuid).map(Into::into)
    }

    fn lookup_by_id(&self, id: u32) -> Result<Domain> {
        self.rpc().lookup_by_id(id).map(Into::into)
    }

    fn define_xml(&self, xml: &str) -> Result<Domain> {
        self.rpc().define_xml(xml.to_string()).map(Into::into)
    }

    fn undefine(&self, dom: &Domain) -> Result<()> {
        self.rpc().undefine(wire(dom))
    }

    fn create_xml(&self, xml: &str) -> Result<Domain> {
        self.rpc().create_xml(xml.to_string()).map(Into::into)
    }

    fn start(&self, dom: &Domain) -> Result<Domain> {
        self.rpc().start(wire(dom)).map(Into::into)
    }

    fn shutdown(&self, dom: &Domain, options: ShutdownOptions) -> Result<()> {
        self.rpc().shutdown((wire(dom), options.into()))
    }

    fn destroy(&self, dom: &Domain) -> Result<()> {
        self.rpc().destroy(wire(dom))
    }

    fn reboot(&self, dom: &Domain) -> Result<()> {
        self.rpc().reboot(wire(dom))
    }

    fn reset(&self, dom: &Domain) -> Result<()> {
        self.rpc().reset(wire(dom))
    }

    fn suspend(&self, dom: &Domain) -> Result<()> {
        self.rpc().suspend(wire(dom))
    }

    fn resume(&self, dom: &Domain) -> Result<()> {
        self.rpc().resume(wire(dom))
    }

    fn save(&self, dom: &Domain, path: &Path) -> Result<()> {
        self.rpc().save((wire(dom), path_bytes(path)?))
    }

    fn restore(&self, path: &Path) -> Result<Domain> {
        self.rpc().restore(path_bytes(path)?).map(Into::into)
    }

    fn managed_save(&self, dom: &Domain) -> Result<()> {
        self.rpc().managed_save(wire(dom))
    }

    fn managed_save_remove(&self, dom: &Domain) -> Result<()> {
        self.rpc().managed_save_remove(wire(dom))
    }

    fn autostart(&self, dom: &Domain) -> Result<bool> {
        self.rpc().autostart(wire(dom))
    }

    fn set_autostart(&self, dom: &Domain, on: bool) -> Result<()> {
        self.rpc().set_autostart((wire(dom), on))
    }

    fn info(&self, dom: &Domain) -> Result<DomainInfo> {
        self.rpc().info(wire(dom)).map(Into::into)
    }

    fn xml_desc(&self, dom: &Domain, inactive: bool) -> Result<String> {
        self.rpc().xml_desc((wire(dom), inactive))
    }

    fn events(&self) -> Result<Box<dyn EventStream>> {
        let (reply, serial) = self.call_with(Call::Events(()), |st, serial| {
            st.events.insert(serial, Subscription::default());
        })?;
        // Dropped on any error, which unsubscribes.
        let events = Events {
            conn: self.conn.clone(),
            serial,
            uri: self.uri.clone(),
        };
        match reply {
            Reply::Events(()) => Ok(Box::new(events)),
            other => Err(unexpected(&other)),
        }
    }

    fn console(&self, dom: &Domain, force: bool) -> Result<Box<dyn ConsoleStream>> {
        let (reply, serial) = self.call_with(Call::Console((wire(dom), force)), |st, serial| {
            st.streams.insert(serial, VecDeque::new());
        })?;
        if let Reply::Console(()) = reply {
            Ok(Box::new(RemoteConsole {
                conn: self.conn.clone(),
                serial,
                ended: None,
                pending: Vec::new(),
                uri: self.uri.clone(),
            }))
        } else {
            self.forget(serial);
            Err(unexpected(&reply))
        }
    }

    fn change_media(
        &self,
        dom: &Domain,
        target: &str,
        change: MediaChange,
        flags: MediaFlags,
    ) -> Result<()> {
        // The path is resolved here, where the caller's current directory is.
        let media = match change {
            MediaChange::Eject => WireMedia::Eject,
            MediaChange::Insert(p) => WireMedia::Insert(path_bytes(&p)?),
            MediaChange::Update(p) => WireMedia::Update(path_bytes(&p)?),
        };
        self.rpc()
            .change_media((wire(dom), target.to_string(), media, flags.into()))
    }

    fn screenshot(&self, dom: &Domain) -> Result<Vec<u8>> {
        self.rpc().screenshot(wire(dom)).map(|b| b.0)
    }
}

/// A path as the bytes the wire carries.
fn path_bytes(path: &Path) -> Result<Vec<u8>> {
    use std::os::unix::ffi::OsStrExt;
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map_err(|e| Error::io("cannot read the current directory", e))?
            .join(path)
    };
    Ok(absolute.as_os_str().as_bytes().to_vec())
}
