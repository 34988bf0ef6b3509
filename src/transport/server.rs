//! The daemon side: `serve` accepts connections on a UNIX socket and
//! answers calls with any [`Driver`]; `dispatch` is the one `match` from a
//! call to a driver method.
//!
//! Each connection has its own thread, so one client's slow call (a
//! start, a shutdown that waits) never delays another client; a client's
//! own calls are answered in order. A connection must say hello within
//! [`HELLO_TIMEOUT`], so silent ones do not hold places for good. Event
//! subscriptions and consoles get a pump thread each, writing through the
//! connection's write lock.

use std::collections::HashMap;
use std::io::{BufReader, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use nix::sys::socket::{getsockopt, sockopt::PeerCredentials};

use super::dispatch::{DriverCalls, Opened};
use super::procedures::dispatch;
use super::spin::Spinner;
use super::wire::{
    Call, Frame, Header, Kind, PROTOCOL_VERSION, Procedure, Reply, StreamMsg, WireError,
    decode_stream, encode_event, encode_stream,
};
use crate::driver::error::{Error, ErrorCode, Result};
use crate::driver::local::logger::Logger;
use crate::driver::{ConsoleStream, Driver, EventStream};

/// How long a new connection has to say hello (its first frame, whole)
/// before it is told `Timeout` and closed: a connection that never
/// speaks must not hold one of the daemon's places for good.
pub const HELLO_TIMEOUT: Duration = Duration::from_secs(10);

/// How a listening socket admits clients.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Only calls that change nothing are allowed (`qvirt-sock-ro`).
    pub read_only: bool,
    /// The uid a peer must have; `None` admits any uid.
    pub allowed_uid: Option<u32>,
    /// The most clients this socket serves at once (default 256); the
    /// excess gets a `LimitExceeded` error and is closed. Each socket
    /// counts its own clients.
    pub max_clients: usize,
}

impl Default for ServeOptions {
    fn default() -> ServeOptions {
        ServeOptions {
            read_only: false,
            allowed_uid: Some(nix::unistd::geteuid().as_raw()),
            max_clients: 256,
        }
    }
}

/// What the server shares across its connections.
pub struct Server {
    driver: Arc<dyn Driver>,
    log: Arc<Logger>,
    /// Connected clients, across all listeners.
    pub clients: Arc<AtomicUsize>,
    /// Set to stop accepting; connections in flight finish their call.
    pub stopping: Arc<AtomicBool>,
    /// Calls being answered right now.
    in_flight: AtomicUsize,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A console shared by its pump thread and the connection's reader.
type SharedConsole = Arc<Mutex<Box<dyn ConsoleStream>>>;

/// One client connection's shared side.
struct Conn {
    /// The connection, for writing whole frames under the lock. The
    /// reader shares it (one descriptor per client, not two: clients are
    /// bounded by `max_clients`, descriptors by the process's limit).
    writer: Mutex<Arc<UnixStream>>,
    /// Set when the connection ends, to stop its pumps.
    closed: AtomicBool,
    /// Open consoles by the serial of the call that opened them.
    consoles: Mutex<HashMap<u32, SharedConsole>>,
}

impl Conn {
    /// Writes a frame; on failure marks the connection closed.
    fn send(&self, kind: Kind, procedure: u32, serial: u32, body: Vec<u8>) -> bool {
        let frame = Frame {
            header: Header {
                version: PROTOCOL_VERSION,
                kind,
                procedure,
                serial,
            },
            body,
        };
        let w = lock(&self.writer);
        let ok = (&**w).write_all(&frame.encode()).is_ok();
        if !ok {
            self.closed.store(true, Ordering::SeqCst);
            let _ = w.shutdown(std::net::Shutdown::Both);
        }
        ok
    }

    /// Closes the console opened by call `serial` now, not when its pump
    /// thread next lets go of it: the client may open it again with its
    /// very next call, which must find it free.
    fn close_console(&self, serial: u32) {
        let console = lock(&self.consoles).remove(&serial);
        if let Some(console) = console {
            *lock(&console) = Box::new(ClosedConsole);
        }
    }

    /// Sends an error reply.
    fn send_error(&self, procedure: u32, serial: u32, e: &Error) -> bool {
        self.send(
            Kind::Reply,
            procedure,
            serial,
            Reply::encode(&Err(Error::new(e.code, e.message.clone()))),
        )
    }
}

impl Server {
    /// A server for `driver`, logging to `log`.
    pub fn new(driver: Arc<dyn Driver>, log: Arc<Logger>) -> Server {
        Server {
            driver,
            log,
            clients: Arc::new(AtomicUsize::new(0)),
            stopping: Arc::new(AtomicBool::new(false)),
            in_flight: AtomicUsize::new(0),
        }
    }

    /// How many calls are being answered.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::SeqCst)
    }

    /// Accepts connections on `listener` until `stopping` is set. Each is
    /// served on its own thread. `options.max_clients` counts this
    /// listener's clients only, so the clients of one socket (anyone's,
    /// on the read-only one) cannot take the places of another's.
    pub fn serve(self: &Arc<Self>, listener: UnixListener, options: ServeOptions) -> Result<()> {
        listener
            .set_nonblocking(true)
            .map_err(|e| Error::io("cannot configure the listening socket", e))?;
        let options = Arc::new(options);
        let here = Arc::new(AtomicUsize::new(0));
        while !self.stopping.load(Ordering::SeqCst) {
            match listener.accept() {
                Ok((stream, _)) => self.admit(stream, &options, &here),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    let mut fds = [nix::poll::PollFd::new(
                        std::os::fd::AsFd::as_fd(&listener),
                        nix::poll::PollFlags::POLLIN,
                    )];
                    let _ = nix::poll::poll(&mut fds, nix::poll::PollTimeout::from(200u16));
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.log.error(&format!("accept failed: {e}"));
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
        }
        Ok(())
    }

    /// Checks a new connection's peer and the listener's client count
    /// (`here`), and starts its thread.
    fn admit(
        self: &Arc<Self>,
        stream: UnixStream,
        options: &Arc<ServeOptions>,
        here: &Arc<AtomicUsize>,
    ) {
        let _ = stream.set_nonblocking(false);
        let _ = stream.set_write_timeout(Some(Duration::from_secs(30)));
        let peer = getsockopt(&stream, PeerCredentials).ok();
        let uid = peer.map(|c| c.uid());
        if let Some(allowed) = options.allowed_uid
            && uid != Some(allowed)
        {
            self.log.warn(&format!(
                "refused a connection from uid {} (pid {})",
                uid.map_or("unknown".into(), |u| u.to_string()),
                peer.map_or("unknown".into(), |c| c.pid().to_string())
            ));
            refuse(
                &stream,
                &Error::new(
                    ErrorCode::OperationDenied,
                    format!(
                        "this socket serves uid {allowed} only; you are uid {}",
                        uid.map_or("unknown".into(), |u| u.to_string())
                    ),
                ),
            );
            return;
        }
        let count = here.fetch_add(1, Ordering::SeqCst) + 1;
        if count > options.max_clients {
            here.fetch_sub(1, Ordering::SeqCst);
            self.log.warn(&format!(
                "refused a client: {} already connected",
                options.max_clients
            ));
            refuse(
                &stream,
                &Error::new(
                    ErrorCode::LimitExceeded,
                    format!(
                        "too many clients: the limit is {}; try again later",
                        options.max_clients
                    ),
                ),
            );
            return;
        }
        self.clients.fetch_add(1, Ordering::SeqCst);
        let me = self.clone();
        let options = options.clone();
        let mine = here.clone();
        let spawned = std::thread::Builder::new()
            .name("qvirtd-client".into())
            .spawn(move || {
                me.serve_client(stream, &options);
                me.clients.fetch_sub(1, Ordering::SeqCst);
                mine.fetch_sub(1, Ordering::SeqCst);
            });
        if let Err(e) = spawned {
            self.clients.fetch_sub(1, Ordering::SeqCst);
            here.fetch_sub(1, Ordering::SeqCst);
            self.log
                .error(&format!("cannot start a client thread: {e}"));
        }
    }

    /// Serves one client until it leaves or breaks the protocol.
    fn serve_client(self: &Arc<Self>, stream: UnixStream, options: &ServeOptions) {
        let stream = Arc::new(stream);
        let conn = Arc::new(Conn {
            writer: Mutex::new(stream.clone()),
            closed: AtomicBool::new(false),
            consoles: Mutex::new(HashMap::new()),
        });
        let mut reader = BufReader::with_capacity(
            64 * 1024,
            HelloDeadline {
                stream,
                spinner: Spinner::default(),
                deadline: Some(Instant::now() + HELLO_TIMEOUT),
                timed_out: false,
            },
        );
        let mut greeted = false;
        loop {
            let frame = match Frame::read(&mut reader) {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(_) if reader.get_ref().expired() => {
                    conn.send_error(
                        0,
                        0,
                        &Error::new(
                            ErrorCode::Timeout,
                            format!(
                                "no hello within {} s of connecting; closing the connection",
                                HELLO_TIMEOUT.as_secs()
                            ),
                        ),
                    );
                    break;
                }
                Err(e) => {
                    // Garbage, an oversized length, a cut frame: answer
                    // once with the reason and close only this connection.
                    conn.send_error(0, 0, &e);
                    break;
                }
            };
            let h = frame.header;
            if h.version != PROTOCOL_VERSION {
                conn.send_error(
                    h.procedure,
                    h.serial,
                    &Error::new(
                        ErrorCode::Protocol,
                        format!(
                            "protocol version mismatch: the client speaks {}, this daemon {PROTOCOL_VERSION}",
                            h.version
                        ),
                    ),
                );
                break;
            }
            match h.kind {
                Kind::Call => {}
                Kind::Stream => {
                    self.console_input(&conn, h.serial, &frame.body);
                    continue;
                }
                _ => {
                    conn.send_error(
                        0,
                        h.serial,
                        &Error::new(
                            ErrorCode::Protocol,
                            "clients send calls and stream data only",
                        ),
                    );
                    break;
                }
            }
            let call = match Call::decode(h.procedure, &frame.body) {
                Ok(c) => c,
                Err(e) => {
                    if !conn.send_error(h.procedure, h.serial, &e) {
                        break;
                    }
                    continue;
                }
            };
            if !greeted {
                match call {
                    Call::Hello(v) if v == u32::from(PROTOCOL_VERSION) => {
                        greeted = true;
                        reader.get_mut().greeted();
                    }
                    Call::Hello(v) => {
                        conn.send_error(
                            h.procedure,
                            h.serial,
                            &Error::new(
                                ErrorCode::Protocol,
                                format!("protocol version mismatch: the client speaks {v}, this daemon {PROTOCOL_VERSION}"),
                            ),
                        );
                        break;
                    }
                    _ => {
                        conn.send_error(
                            h.procedure,
                            h.serial,
                            &Error::new(ErrorCode::Protocol, "the first call must be hello"),
                        );
                        break;
                    }
                }
            }
            if options.read_only
                && let Some(why) = call.read_only_refusal()
            {
                let e = Error::new(ErrorCode::OperationDenied, why);
                if !conn.send_error(h.procedure, h.serial, &e) {
                    break;
                }
                continue;
            }
            self.in_flight.fetch_add(1, Ordering::SeqCst);
            let mut calls = DriverCalls::new(&*self.driver);
            let result = dispatch(&mut calls, call);
            let ok = match (result, calls.opened) {
                (Ok(r), None) => {
                    conn.send(Kind::Reply, h.procedure, h.serial, Reply::encode(&Ok(r)))
                }
                (Ok(r), Some(Opened::Events(stream))) => {
                    let sent = conn.send(Kind::Reply, h.procedure, h.serial, Reply::encode(&Ok(r)));
                    pump_events(&conn, h.serial, stream);
                    sent
                }
                (Ok(r), Some(Opened::Console(console))) => {
                    let console = Arc::new(Mutex::new(console));
                    lock(&conn.consoles).insert(h.serial, console.clone());
                    let sent = conn.send(Kind::Reply, h.procedure, h.serial, Reply::encode(&Ok(r)));
                    pump_console(&conn, h.serial, console);
                    sent
                }
                (Err(e), _) => {
                    conn.send(Kind::Reply, h.procedure, h.serial, Reply::encode(&Err(e)))
                }
            };
            self.in_flight.fetch_sub(1, Ordering::SeqCst);
            if !ok {
                break;
            }
        }
        conn.closed.store(true, Ordering::SeqCst);
        let serials: Vec<u32> = lock(&conn.consoles).keys().copied().collect();
        for serial in serials {
            conn.close_console(serial);
        }
        let _ = lock(&conn.writer).shutdown(std::net::Shutdown::Both);
    }

    /// Routes a client's stream frame to its console, and acknowledges
    /// each write (`Written`) or reports why it failed (`End`).
    fn console_input(&self, conn: &Conn, serial: u32, body: &[u8]) {
        let Some(console) = lock(&conn.consoles).get(&serial).cloned() else {
            return;
        };
        match decode_stream(body) {
            Ok(StreamMsg::Data(bytes)) => {
                let written = lock(&console).write(&bytes);
                match written {
                    Ok(()) => {
                        conn.send(
                            Kind::Stream,
                            Procedure::Console.number(),
                            serial,
                            encode_stream(&StreamMsg::Written),
                        );
                    }
                    Err(e) => {
                        let end = StreamMsg::End(Some(WireError::from(&e)));
                        conn.send(
                            Kind::Stream,
                            Procedure::Console.number(),
                            serial,
                            encode_stream(&end),
                        );
                        conn.close_console(serial);
                    }
                }
            }
            Ok(StreamMsg::End(_) | StreamMsg::Written) | Err(_) => conn.close_console(serial),
        }
    }
}

/// A connection's read side that, until the client has said hello, gives
/// up at a deadline: each read waits only for the time left, and once it
/// has passed reads fail with `TimedOut`. A trickle of one byte a second
/// does not keep it waiting. After hello, reads wait as long as needed (a
/// client subscribed to events may rightly stay quiet for days).
struct HelloDeadline {
    stream: Arc<UnixStream>,
    spinner: Spinner,
    deadline: Option<Instant>,
    /// A read gave up waiting for the deadline.
    timed_out: bool,
}

impl HelloDeadline {
    /// Whether the hello deadline has passed.
    fn expired(&self) -> bool {
        self.timed_out || self.deadline.is_some_and(|d| Instant::now() >= d)
    }

    /// The client said hello: no deadline from now on.
    fn greeted(&mut self) {
        self.deadline = None;
        let _ = self.stream.set_read_timeout(None);
    }
}

impl Read for HelloDeadline {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if let Some(deadline) = self.deadline {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(std::io::ErrorKind::TimedOut.into());
            }
            self.stream.set_read_timeout(Some(left))?;
            let read = (&*self.stream).read(buf);
            if let Err(e) = &read
                && matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                )
            {
                self.timed_out = true;
            }
            return read;
        }
        // A client in a loop of calls sends its next one within
        // microseconds: poll for it before sleeping (see `spin`).
        self.spinner
            .recv(&self.stream, buf, None)?
            .ok_or_else(|| std::io::ErrorKind::TimedOut.into())
    }
}

/// What a closed console turns into while its pump thread finishes.
struct ClosedConsole;

impl ConsoleStream for ClosedConsole {
    fn read(&mut self, _timeout: Duration) -> Result<Vec<u8>> {
        Err(Error::new(
            ErrorCode::OperationFailed,
            "the console is closed",
        ))
    }

    fn write(&mut self, _data: &[u8]) -> Result<()> {
        Err(Error::new(
            ErrorCode::OperationFailed,
            "the console is closed",
        ))
    }
}

/// Sends a refusal on a connection that will not be served, and closes it.
fn refuse(stream: &UnixStream, e: &Error) {
    let frame = Frame {
        header: Header {
            version: PROTOCOL_VERSION,
            kind: Kind::Reply,
            procedure: Procedure::Hello.number(),
            serial: 0,
        },
        body: Reply::encode(&Err(Error::new(e.code, e.message.clone()))),
    };
    let mut s = stream;
    let _ = s.write_all(&frame.encode());
    let _ = stream.shutdown(std::net::Shutdown::Both);
}

/// Forwards a subscription's events as event frames until the connection
/// closes.
fn pump_events(conn: &Arc<Conn>, serial: u32, mut stream: Box<dyn EventStream>) {
    let conn = conn.clone();
    let _ = std::thread::Builder::new()
        .name("qvirtd-events".into())
        .stack_size(256 * 1024)
        .spawn(move || {
            while !conn.closed.load(Ordering::SeqCst) {
                match stream.next(Duration::from_millis(500)) {
                    Ok(Some(event)) => {
                        let body = encode_event(&event.into());
                        if !conn.send(Kind::Event, Procedure::Events.number(), serial, body) {
                            return;
                        }
                    }
                    Ok(None) => {}
                    Err(_) => return,
                }
            }
        });
}

/// Forwards console output as stream frames until the console or the
/// connection closes.
fn pump_console(conn: &Arc<Conn>, serial: u32, console: SharedConsole) {
    let conn = conn.clone();
    let _ = std::thread::Builder::new()
        .name("qvirtd-console".into())
        .stack_size(256 * 1024)
        .spawn(move || {
            loop {
                if conn.closed.load(Ordering::SeqCst) || !lock(&conn.consoles).contains_key(&serial)
                {
                    return;
                }
                let result = lock(&console).read(Duration::from_millis(50));
                match result {
                    Ok(bytes) if bytes.is_empty() => {}
                    Ok(bytes) => {
                        if !conn.send(
                            Kind::Stream,
                            Procedure::Console.number(),
                            serial,
                            encode_stream(&StreamMsg::Data(bytes)),
                        ) {
                            return;
                        }
                    }
                    Err(e) => {
                        conn.send(
                            Kind::Stream,
                            Procedure::Console.number(),
                            serial,
                            encode_stream(&StreamMsg::End(Some(WireError::from(&e)))),
                        );
                        conn.close_console(serial);
                        return;
                    }
                }
            }
        });
}
