//! `console`: relays the terminal to a domain's serial console.
//!
//! On a terminal, stdin is put in raw mode (restored on every way out:
//! return, error, panic, and SIGINT/SIGTERM/SIGHUP/SIGQUIT, which are
//! blocked and read from a signalfd rather than left to kill the process)
//! and Ctrl+] leaves. When stdin is not a terminal (a pipe, a test), its
//! bytes are relayed as they are until it ends; then the guest's answer is
//! awaited (up to `--answer-timeout` seconds when none has come since the
//! last byte sent) and printed until `--drain-ms` pass without output.
//!
//! One thread does everything: it waits briefly for stdin (and signals),
//! then briefly for guest output, so neither direction waits for long.

use std::io::{IsTerminal, Stdin};
use std::os::fd::{AsFd, BorrowedFd};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::termios::{self, SetArg, Termios};
use qvirt::{DomainState, Error, ErrorCode, Result};

use crate::Ctx;
use crate::output::write_bytes;

/// The byte Ctrl+] sends: leaves the console.
const ESCAPE: u8 = 0x1d;

/// How long each wait for stdin, then for guest output, lasts.
const SLICE: Duration = Duration::from_millis(10);

/// The signals that would otherwise kill the process with the terminal
/// still raw.
const SIGNALS: [Signal; 4] = [
    Signal::SIGINT,
    Signal::SIGTERM,
    Signal::SIGHUP,
    Signal::SIGQUIT,
];

/// Fatal signals, blocked and readable.
pub struct Signals(SignalFd);

/// Blocks the fatal signals in this thread (and so in every thread started
/// later) and returns a descriptor they can be read from. Call it before
/// any thread exists.
pub fn block_signals() -> Result<Signals> {
    let mut set = SigSet::empty();
    for s in SIGNALS {
        set.add(s);
    }
    set.thread_block()
        .map_err(|e| Error::io("cannot block signals", e.into()))?;
    let fd = SignalFd::with_flags(&set, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)
        .map_err(|e| Error::io("cannot create a signalfd", e.into()))?;
    Ok(Signals(fd))
}

/// The terminal's settings before raw mode; put back when dropped.
struct RawMode {
    stdin: Stdin,
    saved: Termios,
}

impl RawMode {
    /// Puts the terminal on stdin in raw mode.
    fn enter(stdin: Stdin) -> Result<RawMode> {
        let fd = stdin.as_fd();
        let saved = termios::tcgetattr(fd)
            .map_err(|e| Error::io("cannot read the terminal settings", e.into()))?;
        let mut raw = saved.clone();
        termios::cfmakeraw(&mut raw);
        termios::tcsetattr(fd, SetArg::TCSADRAIN, &raw)
            .map_err(|e| Error::io("cannot set the terminal to raw mode", e.into()))?;
        Ok(RawMode { stdin, saved })
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ = termios::tcsetattr(self.stdin.as_fd(), SetArg::TCSADRAIN, &self.saved);
    }
}

/// Runs `console`. `signals` is set when stdin is a terminal.
pub fn run(
    ctx: &mut Ctx,
    arg: &str,
    force: bool,
    drain_ms: u64,
    answer_timeout: u64,
    signals: Option<Signals>,
) -> Result<()> {
    let dom = ctx.domain(arg)?;
    let driver = ctx.driver()?;
    let mut stream = driver.console(&dom, force)?;
    eprintln!("Connected to domain '{}'", dom.name);
    eprintln!("Escape character is ^]");
    let stdin = std::io::stdin();
    let tty = stdin.is_terminal();
    let _raw = if tty {
        Some(RawMode::enter(std::io::stdin())?)
    } else {
        None
    };
    let relay = Relay {
        stdin: stdin.as_fd(),
        tty,
        signals: signals.as_ref().map(|s| s.0.as_fd()),
        drain: Duration::from_millis(drain_ms),
        answer: Duration::from_secs(answer_timeout),
    };
    match relay.run(stream.as_mut()) {
        // The console closing because the domain stopped ends the relay
        // normally, as the guest powering off does under virsh.
        Err(e)
            if driver
                .info(&dom)
                .is_ok_and(|i| i.state == DomainState::Shutoff) =>
        {
            drop(e);
            Ok(())
        }
        other => other,
    }
}

/// The relay loop's inputs.
struct Relay<'a> {
    stdin: BorrowedFd<'a>,
    tty: bool,
    signals: Option<BorrowedFd<'a>>,
    drain: Duration,
    /// After stdin ends, how long to wait for the guest to answer the
    /// last input before the drain period starts.
    answer: Duration,
}

/// How long the console must be quiet for its backlog to be over.
const BACKLOG_QUIET: Duration = Duration::from_millis(150);

impl Relay<'_> {
    /// Relays until Ctrl+] (terminal), until output stops after stdin ended
    /// (pipe), or until a signal or an error.
    fn run(&self, stream: &mut dyn qvirt::driver::ConsoleStream) -> Result<()> {
        let mut stdin_open = true;
        // Set once stdin has ended: when the drain period runs out.
        let mut drain_until: Option<Instant> = None;
        // Whether the guest has answered the last input: written more lines
        // than the input had (a shell echoes each line it reads first).
        let mut answered = true;
        let (mut sent_lines, mut seen_lines) = (0usize, 0usize);
        let mut buf = [0u8; 4096];
        // With piped input, what the guest wrote before this console
        // opened (kept for the next reader) is shown first and not taken
        // for an answer to the input.
        if !self.tty {
            loop {
                let backlog = stream.read(BACKLOG_QUIET)?;
                if backlog.is_empty() {
                    break;
                }
                write_bytes(&backlog)?;
            }
        }
        loop {
            let mut fds = Vec::with_capacity(2);
            if stdin_open {
                fds.push(PollFd::new(self.stdin, PollFlags::POLLIN));
            }
            if let Some(sig) = self.signals {
                fds.push(PollFd::new(sig, PollFlags::POLLIN));
            }
            let waited = if fds.is_empty() {
                // Nothing to wait for: the console read below paces the loop.
                Ok(0)
            } else {
                poll(&mut fds, PollTimeout::from(SLICE.as_millis() as u16))
            };
            let ready = match waited {
                Ok(_) | Err(Errno::EINTR) => fds
                    .iter()
                    .map(|f| f.revents().is_some_and(|r| !r.is_empty()))
                    .collect::<Vec<_>>(),
                Err(e) => return Err(Error::io("cannot wait for stdin", e.into())),
            };
            if self.signals.is_some() && ready.last() == Some(&true) {
                return Err(Error::new(
                    ErrorCode::OperationFailed,
                    "console interrupted by a signal",
                ));
            }
            if stdin_open && ready.first() == Some(&true) {
                match nix::unistd::read(self.stdin, &mut buf) {
                    Ok(0) => {
                        stdin_open = false;
                        // The guest may take a while to answer the last
                        // line (a command to run): give it that long
                        // before counting quiet time.
                        let wait = if answered { self.drain } else { self.answer };
                        drain_until = Some(Instant::now() + wait);
                    }
                    Ok(n) => {
                        let data = &buf[..n];
                        let escape = if self.tty {
                            data.iter().position(|&b| b == ESCAPE)
                        } else {
                            None
                        };
                        let send = &data[..escape.unwrap_or(n)];
                        if !send.is_empty() {
                            stream.write(send)?;
                            if answered {
                                (sent_lines, seen_lines) = (0, 0);
                            }
                            sent_lines += send.iter().filter(|&&b| b == b'\n').count();
                            answered = false;
                        }
                        if escape.is_some() {
                            return Ok(());
                        }
                    }
                    Err(Errno::EINTR | Errno::EAGAIN) => {}
                    Err(e) => return Err(Error::io("cannot read stdin", e.into())),
                }
            }
            let output = stream.read(SLICE)?;
            if !output.is_empty() {
                write_bytes(&output)?;
                seen_lines += output.iter().filter(|&&b| b == b'\n').count();
                answered = answered || seen_lines > sent_lines;
                if !stdin_open && answered {
                    drain_until = Some(Instant::now() + self.drain);
                }
            }
            if drain_until.is_some_and(|d| Instant::now() >= d) {
                return Ok(());
            }
        }
    }
}
