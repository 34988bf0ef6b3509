//! The QEMU guest agent (qemu-ga) as the manager talks to it: the host end
//! of the domain's `org.qemu.guest_agent.0` virtio channel, a UNIX socket
//! QEMU listens on. Each call connects, synchronises with
//! `guest-sync-delimited` (the agent's reply starts with a 0xFF byte,
//! before which whatever an earlier client left behind is dropped), runs
//! one command with a deadline and disconnects.
//!
//! The agent serves one command at a time, so calls on one domain take
//! turns ([`Running::agent`]); nothing else on the domain waits for them.
//! Knows QEMU's agent protocol only; no wire, no XML.

use std::io::{ErrorKind, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::MutexGuard;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::runtime::Running;
use crate::driver::{Event, EventStream};
use crate::error::{Error, ErrorCode, Result};
use crate::model::{ChannelTarget, CharSource, DomainDef, GUEST_AGENT_CHANNEL};

/// How long the agent has to answer `guest-sync-delimited` (libvirt's
/// `QEMU_AGENT_WAIT_TIME`).
pub(crate) const SYNC_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a command may take once the agent is in sync (a freeze of
/// every file system may take a while).
pub(crate) const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);
/// The most bytes of one reply (a file system list of a large guest fits).
const MAX_REPLY: usize = 16 << 20;
/// libvirt's `VIR_DOMAIN_AGENT_RESPONSE_TIMEOUT_BLOCK`: a domain's agent
/// timeout until one is set.
pub(crate) const TIMEOUT_BLOCK: i32 = -2;

/// How long to wait for the agent's reply under libvirt's timeout
/// `timeout`: -2 block (as long as [`COMMAND_TIMEOUT`], where libvirt
/// waits for ever), -1 libvirt's default ([`SYNC_TIMEOUT`]), 0 not at
/// all (`None`), else that many seconds; below -2, `InvalidArgument` in
/// libvirt's words.
pub(crate) fn response_wait(timeout: i32) -> Result<Option<Duration>> {
    Ok(match timeout {
        -2 => Some(COMMAND_TIMEOUT),
        -1 => Some(SYNC_TIMEOUT),
        0 => None,
        n if n > 0 => Some(Duration::from_secs(n as u64)),
        n => {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                format!("guest agent timeout '{n}' is less than the minimum '-2'"),
            ));
        }
    })
}

/// The host socket of the domain's guest agent channel:
/// `ArgumentUnsupported` when the domain has none.
pub(crate) fn socket(def: &DomainDef, run_dir: &std::path::Path) -> Result<PathBuf> {
    let sockets = crate::qemu::argv::channel_sockets(def, run_dir).unwrap_or_default();
    for (i, c) in def.devices.channels.iter().enumerate() {
        let ChannelTarget::Virtio { name } = &c.target else {
            continue;
        };
        if name.as_deref() != Some(GUEST_AGENT_CHANNEL) {
            continue;
        }
        if let CharSource::Unix { path, .. } = &c.source {
            if let Some(p) = path {
                return Ok(PathBuf::from(p));
            }
            if let Some(Some(p)) = sockets.get(i) {
                return Ok(p.clone());
            }
        }
    }
    Err(Error::new(
        ErrorCode::ArgumentUnsupported,
        "QEMU guest agent is not configured: add <channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>",
    ))
}

/// Connects to `path` before `deadline`. QEMU takes one client at a
/// time on the channel's socket and queues the others in a short
/// backlog: a blocking connect to a full backlog would wait for as long
/// as the client before it stays, so the connect does not block.
fn connect(path: &std::path::Path, deadline: Instant) -> std::io::Result<UnixStream> {
    use nix::errno::Errno;
    use nix::sys::socket::{AddressFamily, SockFlag, SockType, UnixAddr, socket};
    use std::os::fd::AsRawFd;
    let addr = UnixAddr::new(path)?;
    loop {
        let fd = socket(
            AddressFamily::Unix,
            SockType::Stream,
            SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
            None,
        )?;
        match nix::sys::socket::connect(fd.as_raw_fd(), &addr) {
            Ok(()) => {
                let stream = UnixStream::from(fd);
                stream.set_nonblocking(false)?;
                return Ok(stream);
            }
            // The backlog is full: another client holds the agent.
            Err(Errno::EAGAIN) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(Errno::EAGAIN) => {
                return Err(std::io::Error::new(
                    ErrorKind::TimedOut,
                    "another client holds the channel",
                ));
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// The agent did not answer.
fn unresponsive(what: impl std::fmt::Display) -> Error {
    Error::new(
        ErrorCode::AgentUnresponsive,
        format!("Guest agent is not responding: {what}"),
    )
}

/// One connection to a domain's agent, in sync, holding the domain's turn.
pub(crate) struct Agent<'a> {
    stream: UnixStream,
    buf: Vec<u8>,
    /// How long a command waits for its reply: the domain's agent
    /// timeout ([`response_wait`]; zero: not at all).
    wait: Duration,
    _turn: MutexGuard<'a, ()>,
}

impl<'a> Agent<'a> {
    /// Connects to `run`'s agent (after the calls before it) and brings
    /// it in sync, waiting as the domain's agent timeout says.
    pub(crate) fn open(run: &'a Running) -> Result<Agent<'a>> {
        let path = socket(&run.live_def(), &run.run_dir)?;
        let timeout = run.agent_timeout.load(std::sync::atomic::Ordering::Relaxed);
        let wait = response_wait(timeout)?.unwrap_or(Duration::ZERO);
        let turn = crate::sys::sync::lock(&run.agent);
        let stream = connect(&path, Instant::now() + SYNC_TIMEOUT)
            .map_err(|e| unresponsive(format_args!("QEMU guest agent is not connected ({e})")))?;
        let mut agent = Agent {
            stream,
            buf: Vec::new(),
            wait,
            _turn: turn,
        };
        // libvirt's rule: a timeout shorter than the sync's own wait
        // shortens the sync too.
        agent.sync(wait.min(SYNC_TIMEOUT))?;
        Ok(agent)
    }

    /// `guest-sync-delimited` with a fresh id, answered within `wait`:
    /// everything before the agent's 0xFF is stale, then the reply with
    /// our id.
    fn sync(&mut self, wait: Duration) -> Result<()> {
        let deadline = Instant::now() + wait;
        let id = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64 & ((1 << 53) - 1))
            .unwrap_or(1);
        // A leading 0xFF makes the agent drop a half-read command.
        let mut msg = vec![0xff];
        msg.extend_from_slice(
            json!({"execute": "guest-sync-delimited", "arguments": {"id": id}})
                .to_string()
                .as_bytes(),
        );
        msg.push(b'\n');
        self.write(&msg, deadline)?;
        loop {
            if let Some(at) = self.buf.iter().position(|&b| b == 0xff) {
                self.buf.drain(..=at);
                break;
            }
            self.buf.clear();
            self.fill(deadline)?;
        }
        loop {
            let reply = self.line(deadline)?;
            if reply.get("return").and_then(Value::as_u64) == Some(id) {
                return Ok(());
            }
        }
    }

    /// Runs `command` and returns its `return` value, waiting for it as
    /// the domain's agent timeout says.
    pub(crate) fn execute(&mut self, command: &str, args: Option<Value>) -> Result<Value> {
        let deadline = Instant::now() + self.wait;
        self.send(command, args, deadline)?;
        let reply = self.line(deadline)?;
        check(command, reply)
    }

    /// Sends `command`, which the agent answers only when it fails
    /// (`guest-shutdown`), and waits, as libvirt's agent does, up to
    /// `wait` for an event of `events` that `done` says shows it carried
    /// out (QEMU's SHUTDOWN or RESET, the domain stopping). An error reply
    /// is returned; no event in time is libvirt's "not available for now".
    /// The channel closing (QEMU exiting as the guest powers off) ends
    /// only the reading of replies: the event that follows decides.
    pub(crate) fn execute_awaiting(
        &mut self,
        command: &str,
        args: Option<Value>,
        wait: Duration,
        events: &mut dyn EventStream,
        done: impl Fn(&Event) -> bool,
    ) -> Result<()> {
        let deadline = Instant::now() + wait;
        self.send(command, args, Instant::now() + SYNC_TIMEOUT)?;
        let mut closed = None;
        loop {
            while let Some(event) = events.next(Duration::ZERO)? {
                if done(&event) {
                    return Ok(());
                }
            }
            if let Some(reply) = self.take_line() {
                return check(command, reply).map(|_| ());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(closed.unwrap_or_else(|| {
                    unresponsive(format_args!(
                        "Guest agent not available for now ('{command}' was not carried out within {} seconds)",
                        wait.as_secs()
                    ))
                }));
            }
            if self.wait_readable(closed.is_none(), events, left)?
                && let Err(e) = self.fill(deadline)
            {
                if e.code != ErrorCode::AgentUnresponsive {
                    return Err(e);
                }
                closed = Some(e);
            }
        }
    }

    /// Waits up to `left` for the agent's channel (when `agent`) or the
    /// bell of `events` to have something to read: whether the channel
    /// does. Without a bell, the events are looked at every 100 ms.
    fn wait_readable(&self, agent: bool, events: &dyn EventStream, left: Duration) -> Result<bool> {
        use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
        use std::os::fd::AsFd;
        let bell = events.ready_fd();
        let left = if bell.is_some() {
            left
        } else {
            left.min(Duration::from_millis(100))
        };
        let mut fds = Vec::new();
        if agent {
            fds.push(PollFd::new(self.stream.as_fd(), PollFlags::POLLIN));
        }
        if let Some(b) = bell {
            fds.push(PollFd::new(b, PollFlags::POLLIN));
        }
        let timeout = PollTimeout::try_from(left).unwrap_or(PollTimeout::MAX);
        match poll(&mut fds, timeout) {
            Ok(_) | Err(nix::errno::Errno::EINTR) => {}
            Err(e) => return Err(Error::io("cannot wait for the guest agent", e.into())),
        }
        Ok(agent && fds.first().is_some_and(|f| f.any().unwrap_or(false)))
    }

    /// Sends a command of the caller's own (a JSON object with
    /// `execute`) and returns the agent's whole reply; `None` without
    /// waiting for it when `wait` is `None`. An error reply is an error.
    pub(crate) fn execute_raw(
        &mut self,
        command: &Value,
        wait: Option<Duration>,
    ) -> Result<Option<Value>> {
        let name = command
            .get("execute")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let mut msg = command.to_string().into_bytes();
        msg.push(b'\n');
        self.write(&msg, Instant::now() + SYNC_TIMEOUT)?;
        let Some(wait) = wait else {
            return Ok(None);
        };
        let reply = self.line(Instant::now() + wait)?;
        check(&name, reply.clone())?;
        Ok(Some(reply))
    }

    fn send(&mut self, command: &str, args: Option<Value>, deadline: Instant) -> Result<()> {
        let mut cmd = json!({ "execute": command });
        if let Some(a) = args {
            cmd["arguments"] = a;
        }
        let mut msg = cmd.to_string().into_bytes();
        msg.push(b'\n');
        self.write(&msg, deadline)
    }

    fn write(&mut self, msg: &[u8], deadline: Instant) -> Result<()> {
        let left = deadline.saturating_duration_since(Instant::now());
        self.stream
            .set_write_timeout(Some(left.max(Duration::from_millis(1))))
            .map_err(|e| Error::io("cannot set the agent socket's timeout", e))?;
        self.stream.write_all(msg).map_err(|e| match e.kind() {
            ErrorKind::WouldBlock | ErrorKind::TimedOut => unresponsive("it takes no input"),
            _ => unresponsive(format_args!("the channel closed ({e})")),
        })
    }

    /// Reads more bytes before `deadline`.
    fn fill(&mut self, deadline: Instant) -> Result<()> {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(unresponsive("no reply in time"));
        }
        self.stream
            .set_read_timeout(Some(left))
            .map_err(|e| Error::io("cannot set the agent socket's timeout", e))?;
        let mut chunk = [0u8; 8192];
        match self.stream.read(&mut chunk) {
            Ok(0) => Err(unresponsive("the channel closed")),
            Ok(n) => {
                if self.buf.len() + n > MAX_REPLY {
                    return Err(Error::new(
                        ErrorCode::LimitExceeded,
                        "the guest agent's reply is larger than 16 MiB",
                    ));
                }
                self.buf.extend_from_slice(&chunk[..n]);
                Ok(())
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                Err(unresponsive("no reply in time"))
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => Ok(()),
            Err(e) => Err(unresponsive(format_args!("the channel failed ({e})"))),
        }
    }

    /// The next JSON object the agent sends; lines that are not one are
    /// skipped.
    fn line(&mut self, deadline: Instant) -> Result<Value> {
        loop {
            if let Some(v) = self.take_line() {
                return Ok(v);
            }
            self.fill(deadline)?;
        }
    }

    /// The first JSON object among the whole lines read so far; lines
    /// that are not one are dropped. A line may begin with the 0xFF of a
    /// sync: the stale one an earlier client left unread (its call timed
    /// out) is the first 0xFF [`Agent::sync`] finds, and ours then
    /// starts the line of our reply.
    fn take_line(&mut self) -> Option<Value> {
        while let Some(end) = self.buf.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.buf.drain(..=end).collect();
            let start = line.iter().position(|&b| b != 0xff).unwrap_or(line.len());
            if let Ok(v @ Value::Object(_)) = serde_json::from_slice::<Value>(&line[start..]) {
                return Some(v);
            }
        }
        None
    }
}

/// The `return` of a reply, or its error as libvirt words it.
fn check(command: &str, reply: Value) -> Result<Value> {
    if let Some(err) = reply.get("error") {
        let class = err.get("class").and_then(Value::as_str).unwrap_or("");
        let desc = err.get("desc").and_then(Value::as_str).unwrap_or("");
        let code = match class {
            "CommandNotFound" | "CommandDisabled" => ErrorCode::NoSupport,
            _ => ErrorCode::OperationFailed,
        };
        return Err(Error::new(
            code,
            format!("unable to execute QEMU agent command '{command}': {desc}"),
        ));
    }
    reply.get("return").cloned().ok_or_else(|| {
        Error::new(
            ErrorCode::OperationFailed,
            format!("the guest agent's reply to '{command}' has no return value"),
        )
    })
}
