//! Waiting for bytes on a socket: a moment of polling before sleeping.
//!
//! The daemon answers a lookup in a few microseconds, but a thread that
//! sleeps in the kernel until its reply comes must then be woken by the
//! scheduler, and on a virtual machine whose idle CPUs halt, a wake-up
//! costs tens of microseconds: several times the call itself. So the side
//! that expects bytes soon (a caller its reply, the daemon a client's next
//! call) first tries non-blocking reads for a moment, yielding the CPU
//! between tries, and only then sleeps.
//!
//! How long is adaptive, per connection, as QEMU's event loop does it
//! (`poll-max-ns`, grown and shrunk): when the bytes came while polling,
//! or soon after the reader went to sleep, polling paid or would have, and
//! the next wait polls twice as long (up to [`SPIN_MAX`]); when they came late
//! (calls far apart, or a machine so busy that the peer waits for a CPU),
//! polling only took CPU from others, and the next wait polls half as
//! long, soon not at all.

use std::io;
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::socket::{MsgFlags, recv};

/// The longest a reader polls before it sleeps.
pub const SPIN_MAX: Duration = Duration::from_micros(50);

/// Below this the polling time drops to nothing.
const SPIN_MIN: Duration = Duration::from_micros(2);

/// A sleeping wait that ended within this would have been covered by
/// polling: the bytes came within [`SPIN_MAX`], and the rest is what
/// waking up cost (tens of microseconds where idle CPUs halt). Judging by
/// `SPIN_MAX` alone, the cost of the wake-up itself would keep a reader
/// that stopped polling from ever starting again.
const PAID_WITHIN: Duration = Duration::from_micros(200);

/// One connection's reader: how long it polls before sleeping, adapted
/// from how long its recent waits were.
#[derive(Debug)]
pub struct Spinner {
    budget: Duration,
}

impl Default for Spinner {
    fn default() -> Spinner {
        Spinner { budget: SPIN_MAX }
    }
}

impl Spinner {
    /// Reads what `socket` has into `buf`: polls for the current budget,
    /// then sleeps until bytes come or `deadline` passes (`None`: no
    /// deadline). `Some(n)` (0 at the end of the stream), or `None` at the
    /// deadline.
    pub fn recv(
        &mut self,
        socket: &UnixStream,
        buf: &mut [u8],
        deadline: Option<Instant>,
    ) -> io::Result<Option<usize>> {
        let start = Instant::now();
        if !self.budget.is_zero()
            && let Some(n) = recv_spinning(socket, buf, self.budget)?
        {
            return Ok(Some(n));
        }
        loop {
            if !wait_readable(socket, deadline)? {
                return Ok(None);
            }
            if let Some(n) = recv_spinning(socket, buf, Duration::ZERO)? {
                self.adapt(start.elapsed());
                return Ok(Some(n));
            }
        }
    }

    /// How long the next wait polls before it sleeps.
    pub fn budget(&self) -> Duration {
        self.budget
    }

    /// Adapts the budget to a wait that polling did not cover and that
    /// took `waited`.
    pub fn adapt(&mut self, waited: Duration) {
        self.budget = if waited <= PAID_WITHIN {
            (self.budget * 2).clamp(SPIN_MIN, SPIN_MAX)
        } else if self.budget / 2 < SPIN_MIN {
            Duration::ZERO
        } else {
            self.budget / 2
        };
    }
}

/// Reads what `socket` has, polling for at most `spin` without sleeping:
/// `Some(n)` (0 at the end of the stream), or `None` when nothing came.
fn recv_spinning(socket: &UnixStream, buf: &mut [u8], spin: Duration) -> io::Result<Option<usize>> {
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
fn wait_readable(socket: &UnixStream, deadline: Option<Instant>) -> io::Result<bool> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polling_stops_after_late_bytes_and_comes_back_after_prompt_ones() {
        let mut s = Spinner::default();
        assert_eq!(s.budget, SPIN_MAX);
        // Calls far apart: each late wait halves the polling, then stops it.
        for _ in 0..8 {
            s.adapt(Duration::from_millis(2));
        }
        assert_eq!(s.budget, Duration::ZERO);
        // A prompt peer again, even with a costly wake-up: it comes back.
        s.adapt(Duration::from_micros(120));
        assert_eq!(s.budget, SPIN_MIN);
        for _ in 0..8 {
            s.adapt(Duration::from_micros(30));
        }
        assert_eq!(s.budget, SPIN_MAX);
    }

    #[test]
    fn recv_reads_what_is_there_and_stops_at_the_deadline() {
        let (a, b) = UnixStream::pair().unwrap();
        let mut s = Spinner::default();
        let mut buf = [0u8; 16];
        let deadline = Some(Instant::now() + Duration::from_millis(20));
        assert_eq!(s.recv(&b, &mut buf, deadline).unwrap(), None);
        std::io::Write::write_all(&mut &a, b"hi").unwrap();
        assert_eq!(s.recv(&b, &mut buf, None).unwrap(), Some(2));
        assert_eq!(&buf[..2], b"hi");
        drop(a);
        assert_eq!(s.recv(&b, &mut buf, None).unwrap(), Some(0));
    }
}
