//! `qvirtd --proxy URI`: the remote end of a `qemu+ssh://` connection.
//! ssh runs it on the remote host with the connection as its stdin and
//! stdout; it connects to the socket of the daemon the URI names there
//! (the same choice a local client makes: the system daemon, read-only
//! unless the user is root; the user's session daemon, started if none
//! answers; or an explicit socket) and copies bytes both ways until
//! either side ends.
//!
//! For either protocol it first offers the daemon its stdin and stdout
//! (the ssh channel's pipes) over the socket (`HAND_OVER`, with the two
//! descriptors): a daemon that takes them serves the channel directly,
//! without this process's copy in between, and the proxy only waits for
//! the daemon to close the socket (sshd keeps the session while it
//! runs, and stops feeding the channel's input when it exits). A daemon
//! that refuses, or does not know the request (it closes that
//! connection), is served through a new connection and the byte copy.
//!
//! It is a pipe, not a manager: it never opens a state directory, reads
//! nothing of what it copies, and holds no lock. libvirt's
//! `virt-ssh-helper` plays the same part for libvirt's daemons.

use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;

use nix::errno::Errno;
use nix::fcntl::{FcntlArg, OFlag, fcntl};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

use crate::driver::uri::{Proto, parse};
use crate::error::{Error, Result};

/// Bytes buffered in each direction.
const BUFFER: usize = 64 * 1024;

/// The hand-over request, sent before any protocol byte with the read
/// and write descriptors: as a frame's length it is larger than any
/// daemon admits, so a daemon that does not know it refuses the
/// connection.
pub(crate) const HAND_OVER: [u8; 4] = [0xff, b'q', b'h', b'o'];
/// The daemon's answer when it serves the descriptors.
pub(crate) const HAND_OVER_DONE: [u8; 4] = *b"QVOK";
/// The daemon's answer when the request came without the descriptors.
pub(crate) const HAND_OVER_REFUSED: [u8; 4] = *b"QVNO";

/// How long the daemon's answer to a hand-over may take.
const ANSWER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Connects to the daemon `uri` names and gives it this process's stdin
/// and stdout, or copies them to and from it, until the daemon closes
/// the connection (after stdin ended, or by itself).
pub fn run(uri: &str, read_only: bool, proto: Proto) -> Result<()> {
    let target = parse(uri)?;
    let socket = crate::connect::daemon_socket(&target, read_only, proto)?;
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let socket = if std::env::var_os("QVIRT_PROXY_COPY").is_none() {
        if hand_over(&socket, stdin.as_fd(), stdout.as_fd()) {
            wait_closed(&socket);
            return Ok(());
        }
        // Refused: that connection is done with; the copy takes another.
        drop(socket);
        crate::connect::daemon_socket(&target, read_only, proto)?
    } else {
        socket
    };
    splice(stdin.as_fd(), stdout.as_fd(), &socket)
}

/// Offers `input` and `output` to the daemon on `socket`; whether it
/// took them.
fn hand_over(socket: &UnixStream, input: BorrowedFd<'_>, output: BorrowedFd<'_>) -> bool {
    use nix::sys::socket::{ControlMessage, MsgFlags, UnixAddr, sendmsg};
    use std::io::Read;
    use std::os::fd::AsRawFd;
    let fds = [input.as_raw_fd(), output.as_raw_fd()];
    let iov = [std::io::IoSlice::new(&HAND_OVER)];
    let cmsgs = [ControlMessage::ScmRights(&fds)];
    match sendmsg::<UnixAddr>(
        socket.as_raw_fd(),
        &iov,
        &cmsgs,
        MsgFlags::MSG_NOSIGNAL,
        None,
    ) {
        Ok(n) if n == HAND_OVER.len() => {}
        _ => return false,
    }
    let _ = socket.set_read_timeout(Some(ANSWER_TIMEOUT));
    let mut answer = [0u8; 4];
    (&*socket).read_exact(&mut answer).is_ok() && answer == HAND_OVER_DONE
}

/// Waits until the daemon closes `socket` (it ends the connection), or
/// the socket fails.
fn wait_closed(socket: &UnixStream) {
    use std::io::Read;
    let _ = socket.set_read_timeout(None);
    let mut buf = [0u8; 64];
    loop {
        match (&*socket).read(&mut buf) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return,
        }
    }
}

/// One direction: bytes read from a source and not yet written on.
struct Flow {
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// The source has ended.
    done: bool,
}

impl Flow {
    fn new() -> Flow {
        Flow {
            buf: vec![0; BUFFER],
            start: 0,
            end: 0,
            done: false,
        }
    }

    fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// Reads what `from` has, when the buffer is empty. Returns whether
    /// it read anything or saw the end.
    fn fill(&mut self, from: BorrowedFd<'_>) -> Result<bool> {
        if !self.is_empty() || self.done {
            return Ok(false);
        }
        match nix::unistd::read(from, &mut self.buf) {
            Ok(0) | Err(Errno::ECONNRESET) => {
                self.done = true;
                Ok(true)
            }
            Ok(n) => {
                (self.start, self.end) = (0, n);
                Ok(true)
            }
            Err(Errno::EAGAIN | Errno::EINTR) => Ok(false),
            Err(e) => Err(Error::io("cannot read", e.into())),
        }
    }

    /// Writes what is buffered to `to`, as much as it takes now.
    fn flush(&mut self, to: BorrowedFd<'_>) -> Result<()> {
        while !self.is_empty() {
            match nix::unistd::write(to, &self.buf[self.start..self.end]) {
                Ok(n) => self.start += n,
                Err(Errno::EAGAIN) => return Ok(()),
                Err(Errno::EINTR) => {}
                Err(e) => return Err(Error::io("cannot write", e.into())),
            }
        }
        Ok(())
    }
}

/// Sets `O_NONBLOCK` on `fd`.
fn nonblocking(fd: BorrowedFd<'_>) -> Result<()> {
    let flags = fcntl(fd, FcntlArg::F_GETFL)
        .map_err(|e| Error::io("cannot read a descriptor's flags", e.into()))?;
    let flags = OFlag::from_bits_truncate(flags) | OFlag::O_NONBLOCK;
    fcntl(fd, FcntlArg::F_SETFL(flags))
        .map_err(|e| Error::io("cannot make a descriptor non-blocking", e.into()))?;
    Ok(())
}

/// Copies `input` to `socket` and `socket` to `output`, in one thread,
/// never blocking on one direction while the other has bytes to move
/// (the daemon may stop reading calls until its replies drain). The end
/// of `input` is passed on as a shutdown of the socket's write side; the
/// end of the socket ends the copy once its bytes are out.
pub fn splice(input: BorrowedFd<'_>, output: BorrowedFd<'_>, socket: &UnixStream) -> Result<()> {
    for fd in [input, output, socket.as_fd()] {
        nonblocking(fd)?;
    }
    let mut up = Flow::new();
    let mut down = Flow::new();
    let mut shut = false;
    // A call and its reply pass each way in turn: the side about to be
    // spoken to is polled a moment before the loop sleeps, as qvirt's
    // client does (`spin`), which spares a wake-up per hop where idle
    // CPUs halt; the moment adapts to how soon the bytes come.
    let mut spinner = super::spin::Spinner::default();
    loop {
        if up.done && up.is_empty() && !shut {
            let _ = socket.shutdown(std::net::Shutdown::Write);
            shut = true;
        }
        if down.done && down.is_empty() {
            return Ok(());
        }
        // What each descriptor is waited for: the sources while their
        // buffer is empty, the sinks while theirs is not.
        let sock_events = match (up.is_empty(), down.is_empty() && !down.done) {
            (true, true) => PollFlags::POLLIN,
            (true, false) => PollFlags::empty(),
            (false, true) => PollFlags::POLLIN | PollFlags::POLLOUT,
            (false, false) => PollFlags::POLLOUT,
        };
        let in_events = if up.is_empty() && !up.done {
            PollFlags::POLLIN
        } else {
            PollFlags::empty()
        };
        let out_events = if down.is_empty() {
            PollFlags::empty()
        } else {
            PollFlags::POLLOUT
        };
        // Only descriptors with something to wait for are polled: a
        // hang-up is reported whatever is asked, and would otherwise wake
        // this loop again and again while nothing can move.
        let wanted = [
            (input, in_events),
            (socket.as_fd(), sock_events),
            (output, out_events),
        ];
        let mut fds: Vec<PollFd<'_>> = Vec::with_capacity(3);
        let mut which = Vec::with_capacity(3);
        for (i, (fd, events)) in wanted.iter().enumerate() {
            if !events.is_empty() {
                fds.push(PollFd::new(*fd, *events));
                which.push(i);
            }
        }
        let start = std::time::Instant::now();
        let mut woke = false;
        while start.elapsed() < spinner.budget() {
            match poll(&mut fds, PollTimeout::ZERO) {
                Ok(n) if n > 0 => {
                    woke = true;
                    break;
                }
                Ok(_) | Err(Errno::EINTR) => std::thread::yield_now(),
                Err(e) => return Err(Error::io("cannot wait for the connection", e.into())),
            }
        }
        if !woke {
            match poll(&mut fds, PollTimeout::NONE) {
                Ok(_) | Err(Errno::EINTR) => {}
                Err(e) => return Err(Error::io("cannot wait for the connection", e.into())),
            }
            spinner.adapt(start.elapsed());
        }
        let mut ready = [false; 3];
        for (f, i) in fds.iter().zip(which) {
            ready[i] = f.revents().is_some_and(|r| !r.is_empty());
        }
        let [in_ready, sock_ready, out_ready] = ready;
        if in_ready && up.fill(input)? {
            up.flush(socket.as_fd())?;
        }
        if sock_ready {
            up.flush(socket.as_fd())?;
            if down.fill(socket.as_fd())? {
                down.flush(output)?;
            }
        }
        if out_ready {
            down.flush(output)?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    #[test]
    fn copies_both_ways_and_passes_the_end_on() {
        // client <-> (input, output) = splice = socket <-> daemon
        let (client, proxy_side) = UnixStream::pair().unwrap();
        let (proxy_sock, mut daemon) = UnixStream::pair().unwrap();
        let t =
            std::thread::spawn(move || splice(proxy_side.as_fd(), proxy_side.as_fd(), &proxy_sock));
        let big: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        // Both directions at once, more than a buffer each way: neither
        // may wait for the other.
        let writer = {
            let mut client = client.try_clone().unwrap();
            let big = big.clone();
            std::thread::spawn(move || {
                client.write_all(&big).unwrap();
                client.shutdown(std::net::Shutdown::Write).unwrap();
            })
        };
        daemon.write_all(&big).unwrap();
        let mut got_up = Vec::new();
        daemon.read_to_end(&mut got_up).unwrap();
        assert_eq!(got_up, big, "the client's bytes and then its end");
        drop(daemon);
        let mut got_down = Vec::new();
        (&client).read_to_end(&mut got_down).unwrap();
        assert_eq!(got_down, big);
        writer.join().unwrap();
        t.join().unwrap().unwrap();
    }
}
