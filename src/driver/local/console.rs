//! The serial console of a running domain, as a byte stream: the pty QEMU
//! made for the first serial port (or the UNIX socket it listens on).
//!
//! One client holds a console at a time; another gets `OperationInvalid`
//! unless it forces, which cuts the first one off.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::net::UnixStream;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::Duration;

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::termios;

use super::driver::Core;
use super::runtime::Running;
use crate::driver::{ConsoleStream, Domain, DomainState};
use crate::error::{Error, ErrorCode, Result};
use crate::model::CharSource;

/// The host end of a console.
enum Channel {
    Pty(File),
    Socket(UnixStream),
}

/// A console held by one client.
pub(crate) struct Console {
    channel: Channel,
    run: Weak<Running>,
    generation: u64,
    name: String,
}

impl Core {
    /// Opens the console of `dom`.
    pub(crate) fn open_console(&self, dom: &Domain, force: bool) -> Result<Box<dyn ConsoleStream>> {
        let run = self.running_in(
            dom,
            "open the console of",
            &[
                DomainState::Running,
                DomainState::Paused,
                DomainState::Crashed,
            ],
        )?;
        let source = run
            .def
            .devices
            .serials
            .first()
            .or(run.def.devices.consoles.first())
            .map(|c| c.source.clone())
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::OperationInvalid,
                    format!("domain '{}' has no serial console", dom.name),
                )
            })?;
        let channel = match source {
            CharSource::Pty { path: Some(path) } => {
                let file = OpenOptions::new()
                    .read(true)
                    .write(true)
                    .custom_flags(nix::libc::O_NOCTTY)
                    .open(&path)
                    .map_err(|e| Error::io(format!("cannot open the console {path}"), e))?;
                if let Ok(mut t) = termios::tcgetattr(file.as_fd()) {
                    termios::cfmakeraw(&mut t);
                    let _ = termios::tcsetattr(file.as_fd(), termios::SetArg::TCSANOW, &t);
                }
                Channel::Pty(file)
            }
            CharSource::Unix {
                path: Some(path),
                listen: true,
                ..
            } => Channel::Socket(UnixStream::connect(&path).map_err(|e| {
                Error::io(format!("cannot connect to the console socket {path}"), e)
            })?),
            other => {
                return Err(Error::new(
                    ErrorCode::OperationInvalid,
                    format!(
                        "the console of domain '{}' is not interactive ({}); use a pty serial port",
                        dom.name,
                        describe(&other)
                    ),
                ));
            }
        };
        let current = run.console_owner.load(Ordering::SeqCst);
        let generation = if force {
            run.console_owner.fetch_add(2, Ordering::SeqCst) + 2
        } else if current % 2 == 1 {
            return Err(Error::new(
                ErrorCode::OperationInvalid,
                format!(
                    "the console of domain '{}' is in use by another client; use --force to take it",
                    dom.name
                ),
            ));
        } else {
            current
        };
        // Odd generation: held.
        let held = generation | 1;
        run.console_owner.store(held, Ordering::SeqCst);
        Ok(Box::new(Console {
            channel,
            run: Arc::downgrade(&run),
            generation: held,
            name: dom.name.clone(),
        }))
    }
}

/// A short name of a backend, for messages.
fn describe(source: &CharSource) -> &'static str {
    match source {
        CharSource::Pty { .. } => "a pty",
        CharSource::File { .. } => "a file",
        CharSource::Unix { .. } => "a socket QEMU connects out of",
        CharSource::Tcp { .. } => "a TCP socket",
        CharSource::Dev { .. } => "a host device",
        CharSource::Udp { .. } => "a UDP socket",
        CharSource::Null => "null",
        CharSource::SpiceVmc | CharSource::SpicePort { .. } => "a SPICE channel",
        CharSource::Pipe { .. } => "named pipes",
        CharSource::Vc => "a virtual console of QEMU's display",
        CharSource::QemuVdagent { .. } => "QEMU's vdagent",
    }
}

impl Console {
    /// Fails once another client forced the console away or the domain
    /// stopped.
    fn check(&self) -> Result<Arc<Running>> {
        let Some(run) = self.run.upgrade() else {
            return Err(Error::new(
                ErrorCode::OperationInvalid,
                format!("domain '{}' stopped; the console is closed", self.name),
            ));
        };
        if run.console_owner.load(Ordering::SeqCst) != self.generation {
            return Err(Error::new(
                ErrorCode::OperationDenied,
                format!("another client took the console of domain '{}'", self.name),
            ));
        }
        Ok(run)
    }

    fn reader(&mut self) -> &mut dyn Read {
        match &mut self.channel {
            Channel::Pty(f) => f,
            Channel::Socket(s) => s,
        }
    }
}

impl ConsoleStream for Console {
    fn ready_fd(&self) -> Option<std::os::fd::BorrowedFd<'_>> {
        Some(match &self.channel {
            Channel::Pty(f) => f.as_fd(),
            Channel::Socket(s) => s.as_fd(),
        })
    }

    fn read(&mut self, timeout: Duration) -> Result<Vec<u8>> {
        self.check()?;
        let ready = {
            let fd = match &self.channel {
                Channel::Pty(f) => f.as_fd(),
                Channel::Socket(s) => s.as_fd(),
            };
            let mut fds = [PollFd::new(fd, PollFlags::POLLIN)];
            let t = PollTimeout::try_from(timeout).unwrap_or(PollTimeout::MAX);
            poll(&mut fds, t).map_err(|e| Error::io("cannot wait for the console", e.into()))? > 0
        };
        if !ready {
            return Ok(Vec::new());
        }
        let mut buf = vec![0u8; 4096];
        let name = self.name.clone();
        let n = self.reader().read(&mut buf).map_err(|e| {
            Error::new(
                ErrorCode::OperationFailed,
                format!("the console of domain '{name}' closed: {e}"),
            )
        })?;
        if n == 0 {
            self.check()?;
            return Err(Error::new(
                ErrorCode::OperationFailed,
                format!("the console of domain '{name}' closed"),
            ));
        }
        buf.truncate(n);
        Ok(buf)
    }

    fn write(&mut self, data: &[u8]) -> Result<()> {
        self.check()?;
        let result = match &mut self.channel {
            Channel::Pty(f) => f.write_all(data),
            Channel::Socket(s) => s.write_all(data),
        };
        result.map_err(|e| {
            Error::io(
                format!("cannot write to the console of domain '{}'", self.name),
                e,
            )
        })
    }
}

impl Drop for Console {
    /// Releases the console if this client still holds it.
    fn drop(&mut self) {
        if let Some(run) = self.run.upgrade() {
            let _ = run.console_owner.compare_exchange(
                self.generation,
                self.generation + 1,
                Ordering::SeqCst,
                Ordering::SeqCst,
            );
        }
    }
}
