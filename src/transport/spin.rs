//! Waiting for bytes on a socket: a moment of polling before sleeping.
//!
//! The daemon answers a lookup in a few microseconds, but a thread that
//! sleeps in the kernel until its reply comes must then be woken by the
//! scheduler, and on a virtual machine whose idle CPUs halt, a wake-up
//! costs tens of microseconds: several times the call itself. So the side
//! that expects bytes soon (a caller its reply, the daemon a client's next
//! call) first tries non-blocking reads for [`SPIN`], yielding the CPU
//! between tries so that on a busy machine the threads with work lose
//! nothing, and only then sleeps. QEMU's event loop polls the same way
//! before it blocks (`poll-max-ns`).

use std::io;
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::socket::{MsgFlags, recv};

/// How long a reader polls before it sleeps.
pub const SPIN: Duration = Duration::from_micros(50);

/// Reads what `socket` has, polling for at most `spin` without sleeping:
/// `Some(n)` (0 at the end of the stream), or `None` when nothing came.
pub fn recv_spinning(
    socket: &UnixStream,
    buf: &mut [u8],
    spin: Duration,
) -> io::Result<Option<usize>> {
    let start = Instant::now();
    loop {
        match recv(socket.as_raw_fd(), buf, MsgFlags::MSG_DONTWAIT) {
            Ok(n) => return Ok(Some(n)),
            Err(Errno::EAGAIN | Errno::EINTR) => {}
            Err(e) => return Err(e.into()),
        }
        if start.elapsed() >= spin {
            return Ok(None);
        }
        std::thread::yield_now();
    }
}

/// Sleeps until `socket` is readable (or hung up), or `deadline` passes
/// (`None`: no deadline). Returns whether it is readable.
pub fn wait_readable(socket: &UnixStream, deadline: Option<Instant>) -> io::Result<bool> {
    loop {
        let timeout = match deadline {
            None => PollTimeout::NONE,
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Ok(false);
                }
                // Rounded up: a poll of 0 ms would spin until the deadline.
                PollTimeout::try_from(left + Duration::from_micros(999)).unwrap_or(PollTimeout::MAX)
            }
        };
        let mut fds = [PollFd::new(socket.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, timeout) {
            Ok(0) => {
                if deadline.is_some_and(|d| Instant::now() >= d) {
                    return Ok(false);
                }
            }
            Ok(_) => return Ok(true),
            Err(Errno::EINTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
}
