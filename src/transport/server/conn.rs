//! One client connection as the I/O loop holds it: its socket, the bytes
//! read and not yet handled, the bytes waiting to be written, its
//! deadlines, and what it has open (an event subscription, consoles).
//! Nothing here blocks: reads and writes are non-blocking.

use std::collections::HashMap;
use std::io::{ErrorKind, IoSliceMut, Read, Write};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::time::Instant;

use nix::sys::epoll::EpollFlags;

use super::lv::{self, LvConn};
use super::streams::{ConsoleSlot, Sub};
use super::tied::Tied;
use crate::error::{Error, ErrorCode, Result};
use crate::transport::wire::{HEADER_LEN, Kind, PROTOCOL_VERSION};

/// Who is on the other end, and what the socket they came through
/// allows them.
#[derive(Debug, Clone, Copy)]
pub(super) struct Peer {
    /// The peer's uid.
    pub uid: u32,
    /// The listener it came through (its index).
    pub listener: usize,
    /// Only calls that change nothing are allowed.
    pub read_only: bool,
    /// Root or the daemon's own uid: not limited per uid.
    pub privileged: bool,
    /// The largest frame it may send.
    pub max_frame: usize,
}

/// A connection.
pub(super) struct Conn {
    /// Its epoll token.
    pub token: u64,
    /// The socket (non-blocking).
    pub stream: UnixStream,
    /// The descriptors it was handed to read from and write to instead
    /// of its socket (an ssh channel's pipes, from `qvirtd --proxy`).
    pub pipes: Option<Pipes>,
    /// Its first read has not happened yet: the one place a hand-over
    /// request may come.
    pub first_read: bool,
    /// Who it is.
    pub peer: Peer,
    /// Bytes read and not yet handled (at most the start of one frame,
    /// unless calls wait for a place).
    pub inbuf: Vec<u8>,
    /// Bytes to write, from `out_pos` on.
    pub out: Vec<u8>,
    /// How much of `out` is written.
    pub out_pos: usize,
    /// The client said hello.
    pub greeted: bool,
    /// The hello is due by then.
    pub hello_by: Option<Instant>,
    /// The frame that has begun is due whole by then.
    pub frame_by: Option<Instant>,
    /// Closed by then, whatever is left to write.
    pub close_by: Option<Instant>,
    /// Calls of this connection on the workers.
    pub in_flight: usize,
    /// The client sends nothing more (end of stream).
    pub eof: bool,
    /// Nothing more is read; the connection closes once its calls are
    /// answered and the answers written.
    pub closing: bool,
    /// The socket failed: close at once.
    pub broken: bool,
    /// A whole frame waits for a place (a worker, a call slot).
    pub stalled: bool,
    /// What epoll watches for it now.
    pub interest: EpollFlags,
    /// Its event subscription.
    pub sub: Option<Sub>,
    /// Its consoles, by the serial of the call that opened each.
    pub consoles: HashMap<u32, ConsoleSlot>,
    /// Bytes counted against its uid.
    pub accounted: usize,
    /// The state of a connection that speaks libvirt's protocol; `None`
    /// for qvirt's own.
    pub libvirt: Option<Box<LvConn>>,
    /// The next keepalive check is due by then (libvirt's protocol).
    pub keepalive_by: Option<Instant>,
    /// The domains it started with `autodestroy`: destroyed when this
    /// connection is dropped.
    pub tied: Vec<Tied>,
}

/// The two descriptors of a connection handed over by `qvirtd --proxy`:
/// calls come on `read`, replies go on `write`; the socket only stays
/// open so that the proxy learns when the connection ends.
pub(super) struct Pipes {
    /// What the client sends (non-blocking).
    pub read: OwnedFd,
    /// What the client is sent (non-blocking).
    pub write: OwnedFd,
}

/// What a read found.
pub(super) enum Input {
    /// Some bytes were added to `inbuf`; `true` when they filled the
    /// buffer (more may wait).
    Got(bool),
    /// Nothing to read now.
    Empty,
    /// The client closed its side.
    Eof,
    /// The connection now reads and writes the descriptors it was
    /// handed (`pipes`); its socket is no longer read.
    Adopted,
}

impl Conn {
    /// A new connection.
    pub(super) fn new(
        token: u64,
        stream: UnixStream,
        peer: Peer,
        hello_by: Instant,
        libvirt: Option<Box<LvConn>>,
    ) -> Conn {
        Conn {
            token,
            stream,
            pipes: None,
            first_read: true,
            peer,
            inbuf: Vec::new(),
            out: Vec::new(),
            out_pos: 0,
            greeted: false,
            hello_by: Some(hello_by),
            frame_by: None,
            close_by: None,
            in_flight: 0,
            eof: false,
            closing: false,
            broken: false,
            stalled: false,
            interest: EpollFlags::empty(),
            sub: None,
            consoles: HashMap::new(),
            accounted: 0,
            libvirt,
            keepalive_by: None,
            tied: Vec::new(),
        }
    }

    /// Bytes waiting to be written.
    pub(super) fn pending_out(&self) -> usize {
        self.out.len() - self.out_pos
    }

    /// Bytes held for it: input, output, and events queued.
    pub(super) fn buffered(&self) -> usize {
        self.inbuf.len() + self.pending_out() + self.sub.as_ref().map_or(0, Sub::bytes)
    }

    /// Its next deadline.
    pub(super) fn deadline(&self) -> Option<Instant> {
        [
            self.hello_by,
            self.frame_by,
            self.close_by,
            self.keepalive_by,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Queues a frame.
    pub(super) fn push_frame(&mut self, kind: Kind, procedure: u32, serial: u32, body: &[u8]) {
        push_frame(&mut self.out, kind, procedure, serial, body);
    }

    /// Queues an error reply.
    pub(super) fn push_error(&mut self, procedure: u32, serial: u32, e: &Error) {
        if self.libvirt.is_some() {
            self.out
                .extend_from_slice(&lv::error_message(procedure, serial, e));
            return;
        }
        let body =
            crate::transport::wire::Reply::encode(&Err(Error::new(e.code, e.message.clone())));
        self.push_frame(Kind::Reply, procedure, serial, &body);
    }

    /// Queues an error reply and closes once it is written (within a
    /// moment: a client that does not read is not waited for).
    pub(super) fn fail(&mut self, procedure: u32, serial: u32, e: &Error, now: Instant) {
        self.push_error(procedure, serial, e);
        self.close_soon(now);
    }

    /// Reads nothing more, and closes once what is owed is written.
    pub(super) fn close_soon(&mut self, now: Instant) {
        self.closing = true;
        self.inbuf = Vec::new();
        self.stalled = false;
        self.hello_by = None;
        self.frame_by = None;
        self.keepalive_by = None;
        let by = now + std::time::Duration::from_secs(2);
        self.close_by = Some(self.close_by.map_or(by, |b| b.min(by)));
    }

    /// Writes what it can; marks the connection broken when the socket
    /// fails.
    pub(super) fn flush(&mut self) {
        while self.out_pos < self.out.len() {
            let wrote = match &self.pipes {
                Some(p) => nix::unistd::write(&p.write, &self.out[self.out_pos..])
                    .map_err(std::io::Error::from),
                None => (&self.stream).write(&self.out[self.out_pos..]),
            };
            match wrote {
                Ok(0) => {
                    self.broken = true;
                    break;
                }
                Ok(n) => self.out_pos += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => {
                    self.broken = true;
                    break;
                }
            }
        }
        if self.out_pos == self.out.len() {
            self.out.clear();
            self.out_pos = 0;
            if self.out.capacity() > 64 * 1024 {
                self.out = Vec::new();
            }
        } else if self.out_pos > 64 * 1024 && self.out_pos * 2 > self.out.len() {
            self.out.drain(..self.out_pos);
            self.out_pos = 0;
        }
    }

    /// Reads once into `scratch` and keeps what came.
    pub(super) fn read_some(&mut self, scratch: &mut [u8]) -> Input {
        if self.first_read {
            self.first_read = false;
            if let Some(input) = self.first(scratch) {
                return input;
            }
        }
        loop {
            let got = match &self.pipes {
                Some(p) => nix::unistd::read(p.read.as_fd(), scratch).map_err(std::io::Error::from),
                None => (&self.stream).read(scratch),
            };
            match got {
                Ok(0) => return Input::Eof,
                Ok(n) => {
                    self.inbuf.extend_from_slice(&scratch[..n]);
                    return Input::Got(n == scratch.len());
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Input::Empty,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => {
                    self.broken = true;
                    return Input::Empty;
                }
            }
        }
    }

    /// The first read, which also takes descriptors passed with it: a
    /// hand-over request (`proxy::HAND_OVER` and two descriptors, read
    /// then write) makes the connection read and write those from now
    /// on, and is answered `proxy::HAND_OVER_DONE`; the same request
    /// without them is refused (`proxy::HAND_OVER_REFUSED`) and the
    /// connection closed, and the proxy copies bytes through a new one.
    /// `None` when the read found no such request (what it read is in
    /// `inbuf`, as a plain read).
    fn first(&mut self, scratch: &mut [u8]) -> Option<Input> {
        use crate::transport::proxy::{HAND_OVER, HAND_OVER_DONE, HAND_OVER_REFUSED};
        let (n, fds) = match recv_with_fds(&self.stream, scratch) {
            Ok(got) => got,
            Err(nix::errno::Errno::EAGAIN) => return Some(Input::Empty),
            Err(_) => {
                self.broken = true;
                return Some(Input::Empty);
            }
        };
        if n == 0 {
            return Some(Input::Eof);
        }
        if scratch[..n] != HAND_OVER {
            // Descriptors sent with anything else are dropped (closed).
            self.inbuf.extend_from_slice(&scratch[..n]);
            return Some(Input::Got(n == scratch.len()));
        }
        let mut fds = fds.into_iter();
        let pipes = match (fds.next(), fds.next(), fds.next()) {
            (Some(read), Some(write), None)
                if nonblocking(read.as_fd()) && nonblocking(write.as_fd()) =>
            {
                Pipes { read, write }
            }
            _ => {
                let _ = (&self.stream).write(&HAND_OVER_REFUSED);
                self.broken = true;
                return Some(Input::Empty);
            }
        };
        if (&self.stream).write(&HAND_OVER_DONE).ok() != Some(HAND_OVER_DONE.len()) {
            self.broken = true;
            return Some(Input::Empty);
        }
        self.pipes = Some(pipes);
        Some(Input::Adopted)
    }

    /// The length (prefix included) of the frame at the front of `inbuf`
    /// once it is all there; an error when its length is refused.
    pub(super) fn whole_frame(&self) -> Result<Option<usize>> {
        if self.libvirt.is_some() {
            return lv::whole_message(&self.inbuf, self.peer.max_frame, self.peer.read_only);
        }
        let Some(prefix) = self.inbuf.first_chunk::<4>() else {
            return Ok(None);
        };
        let len = u32::from_be_bytes(*prefix) as usize;
        if len > self.peer.max_frame {
            let what = if self.peer.read_only {
                "; a read-only connection's calls are small"
            } else {
                ""
            };
            return Err(Error::new(
                ErrorCode::LimitExceeded,
                format!(
                    "frame of {len} bytes refused: the limit is {}{what}",
                    self.peer.max_frame
                ),
            ));
        }
        if len < HEADER_LEN {
            return Err(Error::new(
                ErrorCode::Protocol,
                format!("frame of {len} bytes is shorter than its header"),
            ));
        }
        Ok((self.inbuf.len() >= 4 + len).then_some(4 + len))
    }

    /// Drops the first `n` bytes of `inbuf` (a handled frame), giving
    /// back the memory of a large one.
    pub(super) fn consume(&mut self, n: usize) {
        self.inbuf.drain(..n);
        if self.inbuf.is_empty() && self.inbuf.capacity() > 64 * 1024 {
            self.inbuf = Vec::new();
        }
    }
}

/// One `recvmsg` on `stream` into `buf`: the bytes read, and the
/// descriptors (up to two) that came with them, owned and close-on-exec.
fn recv_with_fds(stream: &UnixStream, buf: &mut [u8]) -> nix::Result<(usize, Vec<OwnedFd>)> {
    use nix::sys::socket::{ControlMessageOwned, MsgFlags, recvmsg};
    let mut space = nix::cmsg_space!([std::os::fd::RawFd; 2]);
    let mut iov = [IoSliceMut::new(buf)];
    let msg = loop {
        match recvmsg::<()>(
            stream.as_raw_fd(),
            &mut iov,
            Some(&mut space),
            MsgFlags::MSG_CMSG_CLOEXEC,
        ) {
            Err(nix::errno::Errno::EINTR) => {}
            got => break got?,
        }
    };
    let raw: Vec<std::os::fd::RawFd> = msg
        .cmsgs()
        .into_iter()
        .flatten()
        .filter_map(|c| match c {
            ControlMessageOwned::ScmRights(fds) => Some(fds),
            _ => None,
        })
        .flatten()
        .collect();
    // SAFETY: the kernel just gave this process these descriptors;
    // nothing else owns them.
    #[allow(unsafe_code)]
    let fds = raw
        .into_iter()
        .map(|f| unsafe { OwnedFd::from_raw_fd(f) })
        .collect();
    Ok((msg.bytes, fds))
}

/// Sets `O_NONBLOCK` on `fd`; whether it could.
fn nonblocking(fd: std::os::fd::BorrowedFd<'_>) -> bool {
    use nix::fcntl::{FcntlArg, OFlag, fcntl};
    let Ok(flags) = fcntl(fd, FcntlArg::F_GETFL) else {
        return false;
    };
    let flags = OFlag::from_bits_truncate(flags) | OFlag::O_NONBLOCK;
    fcntl(fd, FcntlArg::F_SETFL(flags)).is_ok()
}

/// Appends a whole frame to `out`.
pub(super) fn push_frame(out: &mut Vec<u8>, kind: Kind, procedure: u32, serial: u32, body: &[u8]) {
    let len = (HEADER_LEN + body.len()) as u32;
    out.reserve(4 + HEADER_LEN + body.len());
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&PROTOCOL_VERSION.to_be_bytes());
    out.push(kind as u8);
    out.push(0);
    out.extend_from_slice(&procedure.to_be_bytes());
    out.extend_from_slice(&serial.to_be_bytes());
    out.extend_from_slice(body);
}
