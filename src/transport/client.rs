//! `SocketDriver`: the [`Driver`] trait forwarded over a stream to a
//! daemon. Each method encodes its call, sends it, waits for the reply
//! with its serial, and matches one reply variant.
//!
//! A reader thread owns the read side: it hands replies to the callers
//! waiting for them, and routes event and stream frames to their
//! subscriptions. Any number of threads may call at once.

use std::collections::HashMap;
use std::io::{BufReader, BufWriter, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{
    Receiver, RecvTimeoutError, Sender, SyncSender, TrySendError, channel, sync_channel,
};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use uuid::Uuid;

use super::wire::{
    Call, Frame, HEADER_LEN, Header, Kind, MAX_FRAME, PROTOCOL_VERSION, Reply, StreamMsg,
    WireMedia, decode_event, decode_stream, encode_stream,
};
use crate::driver::error::{Error, ErrorCode, Result};
use crate::driver::{
    ConsoleStream, Domain, DomainInfo, DomainSummary, Driver, Event, EventStream, ListFilter,
    MediaChange, MediaFlags, NodeInfo, ShutdownOptions, VersionInfo,
};

/// Events buffered per subscription before the oldest are dropped.
const EVENT_QUEUE: usize = 1024;

/// A driver that talks to a daemon over a UNIX socket.
pub struct SocketDriver {
    uri: String,
    conn: Arc<Conn>,
    reader: Option<JoinHandle<()>>,
}

/// The shared side of one connection.
struct Conn {
    writer: Mutex<BufWriter<UnixStream>>,
    socket: UnixStream,
    state: Mutex<ConnState>,
    changed: Condvar,
    next_serial: AtomicU32,
}

#[derive(Default)]
struct ConnState {
    /// Calls waiting: serial -> (procedure, reply frame once it came).
    waiting: HashMap<u32, (u32, Option<Frame>)>,
    /// Event subscriptions by the serial of their `Events` call.
    events: HashMap<u32, (SyncSender<Event>, Arc<Mutex<bool>>)>,
    /// Open consoles by the serial of their `Console` call.
    streams: HashMap<u32, Sender<StreamMsg>>,
    /// Why the connection ended, once it has: the code a caller sees
    /// (the daemon's own when it refused us, else `Protocol`) and words.
    closed: Option<(ErrorCode, String)>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
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
            state: Mutex::new(ConnState::default()),
            changed: Condvar::new(),
            next_serial: AtomicU32::new(1),
        });
        let for_reader = conn.clone();
        let reader = std::thread::Builder::new()
            .name("qvirt-client".into())
            .spawn(move || read_loop(&for_reader, read_half))
            .map_err(|e| Error::io("cannot start the connection's reader", e))?;
        let driver = SocketDriver {
            uri: uri.to_string(),
            conn,
            reader: Some(reader),
        };
        match driver.call(Call::Hello(u32::from(PROTOCOL_VERSION)))? {
            Reply::Hello(v) if v == u32::from(PROTOCOL_VERSION) => Ok(driver),
            Reply::Hello(v) => Err(Error::new(
                ErrorCode::Protocol,
                format!("the daemon speaks protocol {v}, this client {PROTOCOL_VERSION}"),
            )),
            other => Err(unexpected(&other)),
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
        let mut st = lock(&self.conn.state);
        loop {
            if let Some((_, Some(_))) = st.waiting.get(&serial) {
                let (_, reply) = st.waiting.remove(&serial).expect("present");
                let reply = reply.expect("present");
                drop(st);
                return Reply::decode(procedure, &reply.body)?.map(|r| (r, serial));
            }
            if let Some((code, why)) = &st.closed {
                let err = closed(&self.uri, *code, why);
                st.waiting.remove(&serial);
                return Err(err);
            }
            st = self
                .conn
                .changed
                .wait(st)
                .unwrap_or_else(|p| p.into_inner());
        }
    }

    /// The error for a call whose frame could not be written. A daemon
    /// that refuses a client (wrong uid, too many clients) writes why and
    /// closes at once, so the first write races the close and may fail
    /// with EPIPE; the reason is then in the reader's hands, so wait for it
    /// briefly and prefer it to the bare write error.
    fn send_failed(&self, serial: u32, e: Error) -> Error {
        let st = lock(&self.conn.state);
        let (mut st, _) = self
            .conn
            .changed
            .wait_timeout_while(st, Duration::from_secs(2), |st| st.closed.is_none())
            .unwrap_or_else(|p| p.into_inner());
        st.waiting.remove(&serial);
        match &st.closed {
            Some((code, why)) => closed(&self.uri, *code, why),
            None => e,
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
        let _ = self.conn.socket.shutdown(std::net::Shutdown::Both);
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
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

/// Reads frames until the connection ends, routing each.
fn read_loop(conn: &Conn, socket: UnixStream) {
    let mut reader = BufReader::with_capacity(64 * 1024, socket);
    let protocol = |why: String| (ErrorCode::Protocol, why);
    let why = loop {
        let frame = match Frame::read(&mut reader) {
            Ok(Some(f)) => f,
            Ok(None) => break protocol("the daemon closed the connection".to_string()),
            Err(e) => break protocol(e.to_string()),
        };
        let serial = frame.header.serial;
        let mut st = lock(&conn.state);
        match frame.header.kind {
            Kind::Reply => {
                if let Some(slot) = st.waiting.get_mut(&serial) {
                    slot.1 = Some(frame);
                    conn.changed.notify_all();
                } else if serial == 0 {
                    // An error the daemon sends before closing (too many
                    // clients, a broken frame): keep its code and words.
                    if let Ok(Err(e)) = Reply::decode(1, &frame.body) {
                        break (e.code, e.message);
                    }
                }
            }
            Kind::Event => {
                if let (Some((tx, lost)), Ok(event)) =
                    (st.events.get(&serial), decode_event(&frame.body))
                {
                    match tx.try_send(event) {
                        Ok(()) => {}
                        Err(TrySendError::Full(_)) => *lock(lost) = true,
                        Err(TrySendError::Disconnected(_)) => {
                            st.events.remove(&serial);
                        }
                    }
                }
            }
            Kind::Stream => {
                if let (Some(tx), Ok(msg)) = (st.streams.get(&serial), decode_stream(&frame.body))
                    && tx.send(msg).is_err()
                {
                    st.streams.remove(&serial);
                }
            }
            Kind::Call => break protocol("the daemon sent a call".to_string()),
        }
    };
    let mut st = lock(&conn.state);
    st.closed = Some(why);
    st.events.clear();
    st.streams.clear();
    conn.changed.notify_all();
}

/// A subscription's receiving end.
struct Events {
    rx: Receiver<Event>,
    lost: Arc<Mutex<bool>>,
    uri: String,
}

impl EventStream for Events {
    fn next(&mut self, timeout: Duration) -> Result<Option<Event>> {
        if std::mem::take(&mut *lock(&self.lost)) {
            return Err(Error::new(
                ErrorCode::OperationFailed,
                format!("events were lost: more than {EVENT_QUEUE} were waiting unread"),
            ));
        }
        match self.rx.recv_timeout(timeout) {
            Ok(e) => Ok(Some(e)),
            Err(RecvTimeoutError::Timeout) => Ok(None),
            Err(RecvTimeoutError::Disconnected) => Err(closed(
                &self.uri,
                ErrorCode::Protocol,
                "the event stream ended",
            )),
        }
    }
}

/// A console through the daemon.
struct RemoteConsole {
    conn: Arc<Conn>,
    serial: u32,
    rx: Receiver<StreamMsg>,
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
                procedure: 28,
                serial: self.serial,
            },
            body: encode_stream(msg),
        };
        let mut w = lock(&self.conn.writer);
        frame.write(&mut *w)?;
        w.flush()
            .map_err(|e| Error::io(format!("cannot write to {}", self.uri), e))
    }
}

impl RemoteConsole {
    /// Records the end of the stream and returns its error.
    fn end(&mut self, why: Option<super::wire::WireError>) -> Error {
        let err = why
            .map(Error::from)
            .unwrap_or_else(|| Error::new(ErrorCode::OperationFailed, "the console closed"));
        self.ended = Some(Error::new(err.code, err.message.clone()));
        err
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
        loop {
            match self.rx.recv_timeout(timeout) {
                Ok(StreamMsg::Data(bytes)) => return Ok(bytes),
                Ok(StreamMsg::Written) => continue,
                Ok(StreamMsg::End(why)) => return Err(self.end(why)),
                Err(RecvTimeoutError::Timeout) => return Ok(Vec::new()),
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(closed(
                        &self.uri,
                        ErrorCode::Protocol,
                        "the console stream ended",
                    ));
                }
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
        loop {
            match self.rx.recv_timeout(Duration::from_secs(30)) {
                Ok(StreamMsg::Written) => return Ok(()),
                Ok(StreamMsg::Data(bytes)) => self.pending.extend_from_slice(&bytes),
                Ok(StreamMsg::End(why)) => return Err(self.end(why)),
                Err(RecvTimeoutError::Timeout) => {
                    return Err(Error::new(
                        ErrorCode::Timeout,
                        format!(
                            "the daemon at {} did not confirm a console write within 30 s",
                            self.uri
                        ),
                    ));
                }
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(closed(
                        &self.uri,
                        ErrorCode::Protocol,
                        "the console stream ended",
                    ));
                }
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

/// Matches the one reply variant a method expects.
macro_rules! expect {
    ($reply:expr, $variant:pat => $value:expr) => {
        match $reply {
            $variant => Ok($value),
            other => Err(unexpected(&other)),
        }
    };
}

impl Driver for SocketDriver {
    fn uri(&self) -> String {
        self.uri.clone()
    }

    fn version(&self) -> Result<VersionInfo> {
        expect!(self.call(Call::Version)?, Reply::Version(v) => v)
    }

    fn node_info(&self) -> Result<NodeInfo> {
        expect!(self.call(Call::NodeInfo)?, Reply::Node(n) => n)
    }

    fn capabilities(&self) -> Result<String> {
        expect!(self.call(Call::Capabilities)?, Reply::Text(t) => t)
    }

    fn list(&self, filter: ListFilter) -> Result<Vec<DomainSummary>> {
        expect!(self.call(Call::List(filter))?, Reply::Domains(d) => d)
    }

    fn lookup_by_name(&self, name: &str) -> Result<Domain> {
        expect!(self.call(Call::LookupByName(name.to_string()))?, Reply::Domain(d) => d)
    }

    fn lookup_by_uuid(&self, uuid: Uuid) -> Result<Domain> {
        expect!(self.call(Call::LookupByUuid(uuid))?, Reply::Domain(d) => d)
    }

    fn lookup_by_id(&self, id: u32) -> Result<Domain> {
        expect!(self.call(Call::LookupById(id))?, Reply::Domain(d) => d)
    }

    fn define_xml(&self, xml: &str) -> Result<Domain> {
        expect!(self.call(Call::DefineXml(xml.to_string()))?, Reply::Domain(d) => d)
    }

    fn undefine(&self, dom: &Domain) -> Result<()> {
        expect!(self.call(Call::Undefine(dom.clone()))?, Reply::Unit => ())
    }

    fn create_xml(&self, xml: &str) -> Result<Domain> {
        expect!(self.call(Call::CreateXml(xml.to_string()))?, Reply::Domain(d) => d)
    }

    fn start(&self, dom: &Domain) -> Result<Domain> {
        expect!(self.call(Call::Start(dom.clone()))?, Reply::Domain(d) => d)
    }

    fn shutdown(&self, dom: &Domain, options: ShutdownOptions) -> Result<()> {
        expect!(self.call(Call::Shutdown(dom.clone(), options))?, Reply::Unit => ())
    }

    fn destroy(&self, dom: &Domain) -> Result<()> {
        expect!(self.call(Call::Destroy(dom.clone()))?, Reply::Unit => ())
    }

    fn reboot(&self, dom: &Domain) -> Result<()> {
        expect!(self.call(Call::Reboot(dom.clone()))?, Reply::Unit => ())
    }

    fn reset(&self, dom: &Domain) -> Result<()> {
        expect!(self.call(Call::Reset(dom.clone()))?, Reply::Unit => ())
    }

    fn suspend(&self, dom: &Domain) -> Result<()> {
        expect!(self.call(Call::Suspend(dom.clone()))?, Reply::Unit => ())
    }

    fn resume(&self, dom: &Domain) -> Result<()> {
        expect!(self.call(Call::Resume(dom.clone()))?, Reply::Unit => ())
    }

    fn save(&self, dom: &Domain, path: &Path) -> Result<()> {
        let path = path_bytes(path)?;
        expect!(self.call(Call::Save(dom.clone(), path))?, Reply::Unit => ())
    }

    fn restore(&self, path: &Path) -> Result<Domain> {
        let path = path_bytes(path)?;
        expect!(self.call(Call::Restore(path))?, Reply::Domain(d) => d)
    }

    fn managed_save(&self, dom: &Domain) -> Result<()> {
        expect!(self.call(Call::ManagedSave(dom.clone()))?, Reply::Unit => ())
    }

    fn managed_save_remove(&self, dom: &Domain) -> Result<()> {
        expect!(self.call(Call::ManagedSaveRemove(dom.clone()))?, Reply::Unit => ())
    }

    fn autostart(&self, dom: &Domain) -> Result<bool> {
        expect!(self.call(Call::Autostart(dom.clone()))?, Reply::Bool(b) => b)
    }

    fn set_autostart(&self, dom: &Domain, on: bool) -> Result<()> {
        expect!(self.call(Call::SetAutostart(dom.clone(), on))?, Reply::Unit => ())
    }

    fn info(&self, dom: &Domain) -> Result<DomainInfo> {
        expect!(self.call(Call::Info(dom.clone()))?, Reply::Info(i) => i)
    }

    fn xml_desc(&self, dom: &Domain, inactive: bool) -> Result<String> {
        expect!(self.call(Call::XmlDesc(dom.clone(), inactive))?, Reply::Text(t) => t)
    }

    fn events(&self) -> Result<Box<dyn EventStream>> {
        let (tx, rx) = sync_channel(EVENT_QUEUE);
        let lost = Arc::new(Mutex::new(false));
        let lost2 = lost.clone();
        let (reply, _) = self.call_with(Call::Events, move |st, serial| {
            st.events.insert(serial, (tx, lost2));
        })?;
        expect!(reply, Reply::Unit => ())?;
        Ok(Box::new(Events {
            rx,
            lost,
            uri: self.uri.clone(),
        }))
    }

    fn console(&self, dom: &Domain, force: bool) -> Result<Box<dyn ConsoleStream>> {
        let (tx, rx) = channel();
        let (reply, serial) =
            self.call_with(Call::Console(dom.clone(), force), move |st, serial| {
                st.streams.insert(serial, tx);
            })?;
        expect!(reply, Reply::Unit => ())?;
        Ok(Box::new(RemoteConsole {
            conn: self.conn.clone(),
            serial,
            rx,
            ended: None,
            pending: Vec::new(),
            uri: self.uri.clone(),
        }))
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
        let call = Call::ChangeMedia(dom.clone(), target.to_string(), media, flags);
        expect!(self.call(call)?, Reply::Unit => ())
    }

    fn screenshot(&self, dom: &Domain) -> Result<Vec<u8>> {
        expect!(self.call(Call::Screenshot(dom.clone()))?, Reply::Bytes(b) => b)
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
