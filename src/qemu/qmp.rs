//! A blocking QMP client: one UNIX-socket connection to one QEMU monitor.
//!
//! [`Qmp::connect`] waits for the socket to appear, reads the greeting,
//! negotiates capabilities, and then hands the read side to a reader
//! thread. That thread matches each reply to the command that asked for it
//! (by the `id` qvirt puts in every command) and passes events, in the
//! order QEMU sent them, to the event sink given at connect time. When the
//! connection ends, the sink gets one final [`QmpMessage::Closed`].
//!
//! Commands may be sent from several threads at once; each waits for its
//! own reply with its own timeout. Events QEMU sent before a reply reach
//! the sink before that reply's caller wakes (QEMU emits `STOP` before
//! answering `stop`, so the sink has seen it when `execute` returns).
//! Nothing here blocks forever: every wait has a deadline, and QEMU
//! hanging up wakes every waiter with an error that names the command it
//! was running.
//!
//! Depends on the error type and [`QemuVersion`]; knows nothing of domains,
//! state directories or the wire.

use std::collections::HashMap;
use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
use std::io::ErrorKind::{InvalidData, NotFound, TimedOut, WouldBlock};
use std::io::{self, BufRead, BufReader, IoSlice};
use std::net::Shutdown;
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::socket::{ControlMessage, MsgFlags, UnixAddr, send, sendmsg};
use serde_json::{Value, json};

use super::caps::QemuVersion;
use crate::error::{Error, ErrorCode, Result};

/// The timeout of a routine QMP command.
pub const QMP_TIMEOUT: Duration = Duration::from_secs(30);

/// The longest line accepted from QEMU (16 MiB). A longer one closes the
/// connection with [`CloseReason::Failed`]; memory use stays bounded.
pub const MAX_LINE: usize = 16 << 20;

/// Pause between connection attempts while QEMU starts. Any delay between
/// QEMU listening and our connect adds to every VM start, so the first
/// second is polled finely (an attempt on a missing path costs a few
/// syscalls). Once connected, the greeting is awaited by a blocking read,
/// not by polling: QEMU accepts and greets only when its main loop runs.
const POLL_FAST: Duration = Duration::from_micros(200);
/// Pause between attempts once QEMU has been slow for [`FAST_PHASE`].
const POLL_SLOW: Duration = Duration::from_millis(2);
/// How long to poll at [`POLL_FAST`].
const FAST_PHASE: Duration = Duration::from_millis(100);

/// An asynchronous event from QEMU (`SHUTDOWN`, `STOP`, `RESUME`, ...).
#[derive(Debug, Clone, PartialEq)]
pub struct QmpEvent {
    /// The event name, as QEMU spells it (`SHUTDOWN`).
    pub name: String,
    /// The event's `data` member; `Value::Null` when QEMU sent none.
    pub data: Value,
    /// When QEMU emitted it, in microseconds since the UNIX epoch.
    pub timestamp_us: u64,
}

/// What the event sink receives.
#[derive(Debug, Clone, PartialEq)]
pub enum QmpMessage {
    /// An event, delivered in the order QEMU sent it.
    Event(QmpEvent),
    /// The connection ended; always the last message of a connection.
    Closed(CloseReason),
}

/// Why a QMP connection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloseReason {
    /// QEMU closed its end: it exited, or ran `quit`.
    Hangup,
    /// This side closed it: the [`Qmp`] was dropped.
    Dropped,
    /// qvirt gave up on the connection: QEMU broke the protocol (an
    /// oversized or malformed line), a read failed, a command was cut off
    /// mid-write, or the event sink panicked. The text says which.
    Failed(String),
}

/// A connected QMP monitor. `Send + Sync`: share it (e.g. in an `Arc`)
/// and call [`Qmp::execute`] from any number of threads.
///
/// Dropping it shuts the socket down and joins the reader thread, after
/// the sink has received [`QmpMessage::Closed`].
pub struct Qmp {
    path: PathBuf,
    version: QemuVersion,
    /// The write side; the lock keeps each command's bytes together.
    writer: Mutex<UnixStream>,
    shared: Arc<Shared>,
    next_id: AtomicU64,
    /// Commands sent that may have changed QEMU's devices or block graph
    /// (any not in [`leaves_devices_alone`]); see [`Qmp::changes_sent`].
    changes: AtomicU64,
    reader: Option<JoinHandle<()>>,
    /// The commands QEMU offers (`query-commands`), asked once.
    commands: std::sync::OnceLock<std::collections::HashSet<String>>,
}

/// What the callers and the reader thread share.
struct Shared {
    state: Mutex<State>,
    /// Signalled when a reply arrives or the connection closes.
    changed: Condvar,
}

#[derive(Default)]
struct State {
    /// Commands in flight: id -> the reply, once it has arrived. A reply
    /// whose id is not here (its caller timed out) is dropped.
    waiting: HashMap<u64, Option<Value>>,
    /// Set by the reader when the connection has ended.
    closed: Option<CloseReason>,
    /// Set by `Drop` so the reader reports `Dropped`, not `Hangup`.
    dropping: bool,
    /// Why a writer shut the socket down, reported as `Failed`.
    abandoned: Option<String>,
}

/// Maps an I/O error to "cannot WHAT the QMP socket PATH".
fn io_on(path: &Path, what: &str) -> impl FnOnce(io::Error) -> Error + use<> {
    let message = format!("cannot {what} the QMP socket {}", path.display());
    move |e| Error::io(message, e)
}

use crate::sys::sync::lock;

impl Qmp {
    /// Connects to the QMP socket at `path`, retrying until `deadline`
    /// while it does not exist or does not accept yet (QEMU creates it
    /// shortly after starting), then reads the greeting and negotiates
    /// capabilities, all before `deadline`.
    ///
    /// `sink` runs on the reader thread for every event and, last, once
    /// with [`QmpMessage::Closed`]. It must return quickly and must not
    /// call back into this `Qmp` (the reply would wait for the very thread
    /// running the sink); a driver's monitor thread typically passes a
    /// closure that forwards into an `mpsc::Sender`, tagging each message
    /// with its domain. A panic in the sink closes the connection.
    ///
    /// Errors: `Timeout` naming `path` if nothing accepted in time or no
    /// greeting came (another client may hold the monitor); `Protocol` if
    /// the peer is not a QMP server; `Io` for other socket failures.
    pub fn connect(
        path: &Path,
        deadline: Instant,
        sink: impl FnMut(QmpMessage) + Send + 'static,
    ) -> Result<Qmp> {
        Qmp::connect_watching(path, deadline, || None, sink)
    }

    /// [`Qmp::connect`], calling `give_up` between connection attempts:
    /// when it returns an error (typically "QEMU exited", with its log
    /// tail), waiting stops and that error is returned.
    pub fn connect_watching(
        path: &Path,
        deadline: Instant,
        mut give_up: impl FnMut() -> Option<Error>,
        sink: impl FnMut(QmpMessage) + Send + 'static,
    ) -> Result<Qmp> {
        let stream = connect_socket(path, deadline, &mut give_up)?;
        let read_half = stream.try_clone().map_err(io_on(path, "duplicate"))?;
        let mut reader = BufReader::with_capacity(64 << 10, read_half);
        let version = handshake(path, &stream, &mut reader, deadline)?;
        stream
            .set_read_timeout(None)
            .map_err(io_on(path, "configure"))?;

        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
        });
        let for_reader = Arc::clone(&shared);
        let sink: Box<dyn FnMut(QmpMessage) + Send> = Box::new(sink);
        let handle = thread::Builder::new()
            .name("qmp-reader".into())
            .spawn(move || reader_loop(reader, &for_reader, sink))
            .map_err(|e| Error::io("cannot start the QMP reader thread", e))?;
        Ok(Qmp {
            path: path.to_path_buf(),
            version,
            writer: Mutex::new(stream),
            shared,
            next_id: AtomicU64::new(1),
            changes: AtomicU64::new(0),
            reader: Some(handle),
            commands: std::sync::OnceLock::new(),
        })
    }

    /// Whether QEMU offers command `name`: `query-commands` is asked the
    /// first time, and its answer kept (a QEMU's commands do not change
    /// while it runs).
    pub fn has_command(&self, name: &str) -> Result<bool> {
        if let Some(known) = self.commands.get() {
            return Ok(known.contains(name));
        }
        let list = self.execute("query-commands", None, QMP_TIMEOUT)?;
        let known = list
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c.get("name").and_then(Value::as_str))
            .map(str::to_string)
            .collect();
        Ok(self.commands.get_or_init(|| known).contains(name))
    }

    /// The QEMU version from the greeting.
    pub fn version(&self) -> QemuVersion {
        self.version
    }

    /// The socket path this client connected to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the connection has ended (see [`CloseReason`]).
    pub fn is_closed(&self) -> bool {
        lock(&self.shared.state).closed.is_some()
    }

    /// Runs `cmd` with `args` (a JSON object, or `None` for no arguments)
    /// and returns the `return` member of QEMU's reply.
    ///
    /// Errors: `OperationFailed` "QEMU refused CMD: DESC (CLASS)" when QEMU
    /// answers with an error; `Timeout` naming `cmd` when no reply came
    /// within `timeout`; `QemuFailed` when QEMU closed its monitor before
    /// or while running `cmd`; `InvalidArgument` if `args` is not an object.
    pub fn execute(&self, cmd: &str, args: Option<Value>, timeout: Duration) -> Result<Value> {
        self.run(cmd, args, None, timeout)
    }

    /// [`Qmp::execute`], passing `fd` to QEMU along with the command
    /// (SCM_RIGHTS). For `getfd` and `add-fd`; QEMU keeps its own copy, so
    /// the caller may close `fd` once this returns.
    pub fn execute_with_fd(
        &self,
        cmd: &str,
        args: Option<Value>,
        fd: BorrowedFd<'_>,
        timeout: Duration,
    ) -> Result<Value> {
        self.run(cmd, args, Some(fd), timeout)
    }

    /// Passes `fd` to QEMU under `name` (`getfd`), for use as `fd:NAME`,
    /// e.g. as a `migrate` URI.
    pub fn getfd(&self, name: &str, fd: BorrowedFd<'_>, timeout: Duration) -> Result<()> {
        self.execute_with_fd("getfd", Some(json!({ "fdname": name })), fd, timeout)
            .map(|_| ())
    }

    /// How many commands that may have changed QEMU's devices or block
    /// graph were sent on this connection so far (counted as each is
    /// sent, whoever sent it: the manager, or a client through
    /// `qemu-monitor-command`). What a caller learnt of the graph is still
    /// true while this count has not moved, but for its own commands.
    pub fn changes_sent(&self) -> u64 {
        self.changes.load(Ordering::SeqCst)
    }

    /// Runs `query-status`: the run state as QEMU names it (`prelaunch`,
    /// `running`, `paused`, `shutdown`, ...) and whether vCPUs run.
    pub fn query_status(&self, timeout: Duration) -> Result<(String, bool)> {
        let reply = self.execute("query-status", None, timeout)?;
        let status = reply.get("status").and_then(Value::as_str);
        let running = reply.get("running").and_then(Value::as_bool);
        match (status, running) {
            (Some(s), Some(r)) => Ok((s.to_string(), r)),
            _ => Err(Error::new(
                ErrorCode::Protocol,
                format!("QEMU answered query-status without status and running: {reply}"),
            )),
        }
    }

    /// Sends one command and waits for its reply; see [`Qmp::execute`].
    fn run(
        &self,
        cmd: &str,
        args: Option<Value>,
        fd: Option<BorrowedFd<'_>>,
        timeout: Duration,
    ) -> Result<Value> {
        let deadline = deadline_after(timeout);
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        if !leaves_devices_alone(cmd) {
            self.changes.fetch_add(1, Ordering::SeqCst);
        }
        let line = encode_command(cmd, args, id)?;
        {
            // Register before writing: the reply may beat us back.
            let mut st = lock(&self.shared.state);
            if let Some(reason) = &st.closed {
                return Err(closed_error(cmd, reason, false));
            }
            st.waiting.insert(id, None);
        }
        if let Err(e) = self.write(cmd, &line, fd, deadline, timeout) {
            lock(&self.shared.state).waiting.remove(&id);
            return Err(e);
        }
        self.wait_reply(cmd, id, deadline, timeout)
    }

    /// Writes one command line, with `fd` attached to its first byte.
    fn write(
        &self,
        cmd: &str,
        line: &[u8],
        fd: Option<BorrowedFd<'_>>,
        deadline: Instant,
        timeout: Duration,
    ) -> Result<()> {
        let stream = lock(&self.writer);
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(timed_out(cmd, timeout));
        }
        stream
            .set_write_timeout(Some(left))
            .map_err(|e| Error::io(format!("cannot configure the QMP socket for {cmd}"), e))?;
        send_line(stream.as_raw_fd(), line, fd)
            .map_err(|(errno, sent)| self.write_failed(&stream, cmd, errno, sent, timeout))
    }

    /// Maps a failed write to an error. A command cut off mid-line leaves
    /// QEMU's parser in an unknown state, so the connection is given up.
    fn write_failed(
        &self,
        stream: &UnixStream,
        cmd: &str,
        errno: Errno,
        sent: usize,
        timeout: Duration,
    ) -> Error {
        if sent > 0 {
            lock(&self.shared.state).abandoned = Some(format!(
                "the command {cmd} was cut off after {sent} bytes ({errno})"
            ));
            let _ = stream.shutdown(Shutdown::Both);
        }
        match errno {
            Errno::EAGAIN => timed_out(cmd, timeout),
            Errno::EPIPE | Errno::ECONNRESET | Errno::ENOTCONN => {
                closed_error(cmd, &CloseReason::Hangup, true)
            }
            other => Error::io(
                format!("cannot send {cmd} to QEMU's monitor"),
                io::Error::from_raw_os_error(other as i32),
            ),
        }
    }

    /// Waits until the reply to `id` arrives, the connection closes, or
    /// the deadline passes; always leaves `id` unregistered.
    fn wait_reply(
        &self,
        cmd: &str,
        id: u64,
        deadline: Instant,
        timeout: Duration,
    ) -> Result<Value> {
        let mut st = lock(&self.shared.state);
        loop {
            if let Some(slot) = st.waiting.get_mut(&id)
                && let Some(reply) = slot.take()
            {
                st.waiting.remove(&id);
                return interpret_reply(cmd, reply);
            }
            if let Some(reason) = &st.closed {
                let err = closed_error(cmd, reason, true);
                st.waiting.remove(&id);
                return Err(err);
            }
            let now = Instant::now();
            if now >= deadline {
                st.waiting.remove(&id);
                return Err(timed_out(cmd, timeout));
            }
            st = self
                .shared
                .changed
                .wait_timeout(st, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}

impl Drop for Qmp {
    fn drop(&mut self) {
        lock(&self.shared.state).dropping = true;
        let _ = lock(&self.writer).shutdown(Shutdown::Both);
        if let Some(handle) = self.reader.take() {
            // If the last owner is dropped from inside the sink, the reader
            // is this very thread: it exits on its own once the sink
            // returns, and joining would deadlock.
            if handle.thread().id() != thread::current().id() {
                let _ = handle.join();
            }
        }
    }
}

impl std::fmt::Debug for Qmp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Qmp")
            .field("path", &self.path)
            .field("version", &self.version)
            .field("closed", &self.is_closed())
            .finish()
    }
}

/// `now + timeout`, saturating far in the future for huge timeouts.
fn deadline_after(timeout: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(timeout)
        .unwrap_or_else(|| now + Duration::from_secs(86400 * 365))
}

/// Sends all of `line` on the socket `sock`, with `fd` (if any) attached
/// to its first byte. Never raises SIGPIPE (the embedding program may not
/// ignore it). On failure, returns the errno and how many bytes went out.
fn send_line(
    sock: RawFd,
    line: &[u8],
    fd: Option<BorrowedFd<'_>>,
) -> std::result::Result<(), (Errno, usize)> {
    let mut sent = 0;
    while sent < line.len() {
        let rest = &line[sent..];
        let res = match (fd, sent) {
            (Some(fd), 0) => {
                let fds = [fd.as_raw_fd()];
                let cmsgs = [ControlMessage::ScmRights(&fds)];
                let iov = [IoSlice::new(rest)];
                sendmsg::<UnixAddr>(sock, &iov, &cmsgs, MsgFlags::MSG_NOSIGNAL, None)
            }
            _ => send(sock, rest, MsgFlags::MSG_NOSIGNAL),
        };
        match res {
            Ok(n) => sent += n,
            Err(Errno::EINTR) => {}
            Err(e) => return Err((e, sent)),
        }
    }
    Ok(())
}

/// Whether QMP command `cmd` leaves QEMU's devices and block graph as
/// they are: the queries, and a short list of commands that act on the
/// guest's run or the display only. Any other command counts as a change
/// (see [`Qmp::changes_sent`]).
fn leaves_devices_alone(cmd: &str) -> bool {
    cmd.starts_with("query-")
        || matches!(
            cmd,
            "qmp_capabilities"
                | "qom-get"
                | "qom-list"
                | "cont"
                | "stop"
                | "system_powerdown"
                | "system_reset"
                | "system_wakeup"
                | "screendump"
                | "send-key"
                | "input-send-event"
                | "set_password"
                | "expire_password"
                | "balloon"
        )
}

/// The JSON line for one command, newline included.
fn encode_command(cmd: &str, args: Option<Value>, id: u64) -> Result<Vec<u8>> {
    let mut msg = json!({ "execute": cmd, "id": id });
    match args {
        None => {}
        Some(args @ Value::Object(_)) => msg["arguments"] = args,
        Some(other) => {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                format!("the arguments of QMP command {cmd} must be a JSON object, not {other}"),
            ));
        }
    }
    let mut line = msg.to_string().into_bytes();
    line.push(b'\n');
    Ok(line)
}

/// The `return` of a reply, or the `error` it carries as an Error.
fn interpret_reply(cmd: &str, mut reply: Value) -> Result<Value> {
    if let Some(ret) = reply.get_mut("return") {
        return Ok(ret.take());
    }
    if let Some(err) = reply.get("error") {
        let class = err.get("class").and_then(Value::as_str).unwrap_or("?");
        let desc = err
            .get("desc")
            .and_then(Value::as_str)
            .unwrap_or("no description");
        return Err(Error::new(
            ErrorCode::OperationFailed,
            format!("QEMU refused {cmd}: {desc} ({class})"),
        ));
    }
    Err(Error::new(
        ErrorCode::Protocol,
        format!("QEMU answered {cmd} with neither return nor error: {reply}"),
    ))
}

/// The error of a command whose reply did not come in time.
fn timed_out(cmd: &str, timeout: Duration) -> Error {
    Error::new(
        ErrorCode::Timeout,
        format!("QEMU did not answer {cmd} within {timeout:?}"),
    )
}

/// The error of a command that could not complete because the connection
/// ended: while it was in flight, or before it was sent.
fn closed_error(cmd: &str, reason: &CloseReason, in_flight: bool) -> Error {
    let (code, why, detail) = match reason {
        CloseReason::Hangup => (
            ErrorCode::QemuFailed,
            "QEMU closed its monitor",
            "; QEMU has likely exited".to_string(),
        ),
        CloseReason::Dropped => (
            ErrorCode::QemuFailed,
            "the monitor connection was closed",
            String::new(),
        ),
        CloseReason::Failed(text) => (
            ErrorCode::Protocol,
            "the monitor connection was given up",
            format!(": {text}"),
        ),
    };
    let when = if in_flight {
        format!("while running {cmd}")
    } else {
        format!("before {cmd} could be sent")
    };
    Error::new(code, format!("{why} {when}{detail}"))
}

/// Connects to `path`, retrying while it is missing or refuses, until
/// `deadline` or until `give_up` says to stop.
fn connect_socket(
    path: &Path,
    deadline: Instant,
    give_up: &mut dyn FnMut() -> Option<Error>,
) -> Result<UnixStream> {
    let start = Instant::now();
    loop {
        // Missing: QEMU has not bound it yet. Refused: bound, not yet
        // listening, or a stale file whose QEMU is gone (`give_up` tells).
        let last = match UnixStream::connect(path) {
            Ok(stream) => return Ok(stream),
            Err(e) if matches!(e.kind(), NotFound | ConnectionRefused) => e,
            Err(e) => return Err(io_on(path, "connect to")(e)),
        };
        if let Some(err) = give_up() {
            return Err(err);
        }
        let now = Instant::now();
        if now >= deadline {
            return Err(Error {
                code: ErrorCode::Timeout,
                message: format!(
                    "nothing accepted a connection on the QMP socket {} before the deadline; \
                     check that QEMU started (see its log)",
                    path.display()
                ),
                source: Some(Box::new(last)),
            });
        }
        let pause = if now - start < FAST_PHASE {
            POLL_FAST
        } else {
            POLL_SLOW
        };
        thread::sleep(pause.min(deadline - now));
    }
}

/// Reads the greeting, sends `qmp_capabilities`, and waits for its return.
fn handshake(
    path: &Path,
    stream: &UnixStream,
    reader: &mut BufReader<UnixStream>,
    deadline: Instant,
) -> Result<QemuVersion> {
    // QEMU first sends what it still owed the client before this one (a
    // manager killed while a command ran: its reply, the events that
    // followed), then greets: those lines are the former client's.
    let greeting = loop {
        let line = read_handshake_line(path, reader, deadline, "its QMP greeting")?;
        if !["event", "return", "error"]
            .iter()
            .any(|k| line.get(k).is_some())
        {
            break line;
        }
    };
    let version = greeting
        .get("QMP")
        .and_then(|q| q.get("version"))
        .and_then(|v| v.get("qemu"))
        .and_then(parse_version)
        .ok_or_else(|| {
            Error::new(
                ErrorCode::Protocol,
                format!(
                    "{} is not a QMP monitor: it greeted with {greeting}",
                    path.display()
                ),
            )
        })?;
    // The greeting comes from the monitor's own thread, the reply from
    // QEMU's main loop, which a long command (a snapshot being saved
    // when a manager was killed) may hold: a QEMU that greeted gets the
    // time of any command to answer.
    let deadline = deadline.max(Instant::now() + QMP_TIMEOUT);
    // With an id of its own, so that no late reply to a former client
    // passes for this one's.
    let cmd = b"{\"execute\":\"qmp_capabilities\",\"id\":\"handshake\"}\n";
    send_line(stream.as_raw_fd(), cmd, None).map_err(|(errno, _)| {
        Error::io(
            format!("cannot send qmp_capabilities on {}", path.display()),
            io::Error::from_raw_os_error(errno as i32),
        )
    })?;
    loop {
        let reply = read_handshake_line(path, reader, deadline, "the qmp_capabilities reply")?;
        if reply.get("id").and_then(Value::as_str) == Some("handshake") {
            interpret_reply("qmp_capabilities", reply)?;
            return Ok(version);
        }
        // Anything else (a former client's late reply; no events come
        // before negotiation) is skipped.
    }
}

/// `{"major":..,"minor":..,"micro":..}` as a version.
fn parse_version(v: &Value) -> Option<QemuVersion> {
    let field = |name: &str| v.get(name)?.as_u64().and_then(|n| u32::try_from(n).ok());
    Some(QemuVersion {
        major: field("major")?,
        minor: field("minor")?,
        micro: field("micro")?,
    })
}

/// Reads one JSON line during the handshake, bounded by `deadline`.
fn read_handshake_line(
    path: &Path,
    reader: &mut BufReader<UnixStream>,
    deadline: Instant,
    what: &str,
) -> Result<Value> {
    let mut line = Vec::new();
    while line.iter().all(u8::is_ascii_whitespace) {
        let left = deadline.saturating_duration_since(Instant::now());
        // A zero socket timeout would mean "none": stop here instead.
        let read = if left.is_zero() {
            Err(TimedOut.into())
        } else {
            let sock = reader.get_ref();
            sock.set_read_timeout(Some(left))
                .map_err(io_on(path, "configure"))?;
            line.clear();
            read_line_bounded(reader, &mut line, MAX_LINE)
        };
        let (code, message) = match read {
            Ok(true) => continue,
            Ok(false) => (ErrorCode::QemuFailed, "QEMU closed its monitor"),
            Err(e) if matches!(e.kind(), WouldBlock | TimedOut) => (
                ErrorCode::Timeout,
                "the deadline passed (another client may hold the monitor)",
            ),
            Err(e) => {
                let text = format!("cannot read {what} from {}", path.display());
                return Err(Error::io(text, e));
            }
        };
        let path = path.display();
        return Err(Error::new(
            code,
            format!("{message} on {path} before sending {what}"),
        ));
    }
    serde_json::from_slice(&line).map_err(|e| {
        let path = path.display();
        Error::new(
            ErrorCode::Protocol,
            format!("{path} sent {what} that is not JSON: {e}"),
        )
    })
}

/// Reads one line (without its `\n`) into `buf`. Returns `Ok(false)` at
/// end of stream (a trailing partial line is discarded: QEMU always ends
/// a message with a newline) and an `InvalidData` error once the line
/// passes `limit` bytes, before buffering more than that.
fn read_line_bounded(r: &mut impl BufRead, buf: &mut Vec<u8>, limit: usize) -> io::Result<bool> {
    loop {
        let avail = match r.fill_buf() {
            Ok(avail) => avail,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if avail.is_empty() {
            return Ok(false);
        }
        let (take, done) = match avail.iter().position(|&b| b == b'\n') {
            Some(i) => (i, true),
            None => (avail.len(), false),
        };
        if buf.len() + take > limit {
            return Err(io::Error::new(
                InvalidData,
                format!("QEMU sent a monitor line longer than {limit} bytes"),
            ));
        }
        buf.extend_from_slice(&avail[..take]);
        r.consume(if done { take + 1 } else { take });
        if done {
            return Ok(true);
        }
    }
}

/// One message from QEMU after the handshake.
#[derive(Debug, PartialEq)]
enum Incoming {
    /// A reply to the command with this id.
    Reply(u64, Value),
    /// An event.
    Event(QmpEvent),
    /// Anything else: replies without an id, unknown message kinds.
    Stray,
}

/// Classifies one line; `Err` when it is not a JSON object.
fn parse_incoming(line: &[u8]) -> std::result::Result<Incoming, String> {
    let value: Value = serde_json::from_slice(line)
        .map_err(|e| format!("QEMU sent a monitor line that is not JSON ({e})"))?;
    let Value::Object(mut map) = value else {
        return Err("QEMU sent a monitor line that is not a JSON object".into());
    };
    if let Some(name) = map.get("event").and_then(Value::as_str) {
        let ts = map.get("timestamp");
        let part = |key: &str| {
            ts.and_then(|t| t.get(key))
                .and_then(Value::as_u64)
                .unwrap_or(0)
        };
        return Ok(Incoming::Event(QmpEvent {
            name: name.to_string(),
            timestamp_us: part("seconds")
                .saturating_mul(1_000_000)
                .saturating_add(part("microseconds")),
            data: map.remove("data").unwrap_or(Value::Null),
        }));
    }
    if (map.contains_key("return") || map.contains_key("error"))
        && let Some(id) = map.get("id").and_then(Value::as_u64)
    {
        return Ok(Incoming::Reply(id, Value::Object(map)));
    }
    Ok(Incoming::Stray)
}

/// The reader thread: routes replies and events until the connection
/// ends, then wakes every waiter and tells the sink why it ended.
fn reader_loop(
    mut reader: BufReader<UnixStream>,
    shared: &Shared,
    mut sink: Box<dyn FnMut(QmpMessage) + Send>,
) {
    let mut line = Vec::new();
    let failure: Option<String> = loop {
        if line.capacity() > 1 << 20 {
            line = Vec::new(); // let a rare huge reply's buffer go
        }
        line.clear();
        match read_line_bounded(&mut reader, &mut line, MAX_LINE) {
            Ok(true) => {}
            Ok(false) => break None,
            Err(e) if matches!(e.kind(), ConnectionReset | ConnectionAborted) => {
                break None;
            }
            Err(e) if e.kind() == InvalidData => break Some(e.to_string()),
            Err(e) => break Some(format!("reading the monitor failed: {e}")),
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match parse_incoming(&line) {
            Ok(Incoming::Reply(id, reply)) => {
                let mut st = lock(&shared.state);
                if let Some(slot) = st.waiting.get_mut(&id) {
                    *slot = Some(reply);
                    drop(st);
                    shared.changed.notify_all();
                }
            }
            Ok(Incoming::Event(event)) => {
                let delivered = catch_unwind(AssertUnwindSafe(|| sink(QmpMessage::Event(event))));
                if delivered.is_err() {
                    break Some("the QMP event sink panicked".into());
                }
            }
            Ok(Incoming::Stray) => {}
            Err(text) => break Some(text),
        }
    };
    // On a failure the socket may still be open: shut it so writers stop
    // too, and QEMU sees the client go.
    let _ = reader.get_ref().shutdown(Shutdown::Both);
    let reason = {
        let mut st = lock(&shared.state);
        let reason = match (st.dropping, failure.or_else(|| st.abandoned.take())) {
            (true, _) => CloseReason::Dropped,
            (false, Some(text)) => CloseReason::Failed(text),
            (false, None) => CloseReason::Hangup,
        };
        st.closed = Some(reason.clone());
        reason
    };
    shared.changed.notify_all();
    let _ = catch_unwind(AssertUnwindSafe(|| sink(QmpMessage::Closed(reason))));
}

/// The entry of device `id` (its `-device ... id=`, libvirt's alias) in
/// a QMP reply that lists devices by `qdev`, as `query-block` and
/// `query-blockstats` do. QEMU names a device there by its id, or, for
/// a block device inside another (`virtio-blk-pci`'s backend), by its
/// QOM path under the outer one: `/machine/peripheral/ID/...`.
pub fn device_entry<'a>(list: &'a Value, id: &str) -> Option<&'a Value> {
    let names = |qdev: &str| {
        qdev == id
            || qdev
                .strip_prefix("/machine/peripheral/")
                .and_then(|rest| rest.strip_prefix(id))
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    };
    list.as_array()?
        .iter()
        .find(|e| e.get("qdev").and_then(Value::as_str).is_some_and(names))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_entries_are_found_by_id_or_under_their_device() {
        let list = serde_json::json!([
            {"qdev": "/machine/peripheral/virtio-disk10/virtio-backend", "n": 10},
            {"qdev": "/machine/peripheral/virtio-disk1/virtio-backend", "n": 1},
            {"qdev": "sata0-0-0", "n": 2},
            {"device": "floppy0", "n": 3},
        ]);
        let n = |id: &str| device_entry(&list, id).map(|e| e["n"].as_u64().unwrap());
        assert_eq!(n("virtio-disk1"), Some(1));
        assert_eq!(n("virtio-disk10"), Some(10));
        assert_eq!(n("sata0-0-0"), Some(2));
        assert_eq!(n("virtio-backend"), None);
        assert_eq!(n("virtio-disk"), None);
        assert_eq!(n("floppy0"), None);
        assert_eq!(device_entry(&serde_json::json!({}), "x"), None);
    }

    #[test]
    fn lines_are_split_and_bounded() {
        let mut r = io::Cursor::new(b"{\"a\":1}\r\n\nxyz\npartial".to_vec());
        let mut buf = Vec::new();
        assert!(read_line_bounded(&mut r, &mut buf, 16).unwrap());
        assert_eq!(buf, b"{\"a\":1}\r");
        for expected in [&b""[..], b"xyz"] {
            buf.clear();
            assert!(read_line_bounded(&mut r, &mut buf, 16).unwrap());
            assert_eq!(buf, expected);
        }
        buf.clear();
        assert!(!read_line_bounded(&mut r, &mut buf, 16).unwrap());

        // A line of exactly the limit passes; one byte more does not, and
        // the reader never holds more than the limit.
        let mut r = BufReader::with_capacity(4, io::Cursor::new(b"12345678\n123456789\n"));
        buf.clear();
        assert!(read_line_bounded(&mut r, &mut buf, 8).unwrap());
        buf.clear();
        let err = read_line_bounded(&mut r, &mut buf, 8).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(buf.len() <= 8);
    }

    #[test]
    fn incoming_messages_are_classified() {
        let ev = br#"{"timestamp": {"seconds": 1700000000, "microseconds": 42},
            "event": "STOP"}"#;
        assert_eq!(
            parse_incoming(ev).unwrap(),
            Incoming::Event(QmpEvent {
                name: "STOP".into(),
                data: Value::Null,
                timestamp_us: 1_700_000_000_000_042,
            })
        );
        let reply = br#"{"return": {"status": "running"}, "id": 7}"#;
        match parse_incoming(reply).unwrap() {
            Incoming::Reply(7, v) => assert_eq!(v["return"]["status"], "running"),
            other => panic!("not a reply: {other:?}"),
        }
        let stray = br#"{"error": {"class": "GenericError", "desc": "JSON parse error"}}"#;
        assert_eq!(parse_incoming(stray).unwrap(), Incoming::Stray);
        assert!(parse_incoming(b"[1, 2]").is_err());
        assert!(parse_incoming(b"{\"return\": ").is_err());
    }

    #[test]
    fn commands_and_replies_are_encoded_and_interpreted() {
        let line = encode_command("stop", None, 3).unwrap();
        assert_eq!(line, b"{\"execute\":\"stop\",\"id\":3}\n");
        let line = encode_command("getfd", Some(json!({"fdname": "x"})), 4).unwrap();
        let v: Value = serde_json::from_slice(&line).unwrap();
        assert_eq!(
            v,
            json!({"execute": "getfd", "arguments": {"fdname": "x"}, "id": 4})
        );
        let err = encode_command("stop", Some(json!([1])), 5).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidArgument);

        let err = interpret_reply(
            "frob",
            json!({"error": {"class": "CommandNotFound", "desc": "no frob"}, "id": 1}),
        )
        .unwrap_err();
        assert_eq!(err.code, ErrorCode::OperationFailed);
        assert_eq!(err.message, "QEMU refused frob: no frob (CommandNotFound)");
        assert_eq!(
            interpret_reply("x", json!({"return": 5})).unwrap(),
            json!(5)
        );
        assert_eq!(
            interpret_reply("x", json!({"id": 1})).unwrap_err().code,
            ErrorCode::Protocol
        );
    }
}
