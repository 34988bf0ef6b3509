//! The read side of a `SocketDriver` connection: bytes read and not
//! yet parsed, and reading the frames that come next.

use std::os::unix::net::UnixStream;
use std::time::Instant;

use super::READ_BUFFER;
use crate::error::{ErrorCode, Result};
use crate::transport::spin::Spinner;
use crate::transport::wire::Frame;

/// The read side of the connection.
pub(super) struct ReadSide {
    pub socket: UnixStream,
    pub spinner: Spinner,
    pub pending: Pending,
    /// A whole frame has come: the peer speaks the protocol.
    pub greeted: bool,
}

/// Why a connection ended when the peer closed it between frames.
pub(super) const PEER_CLOSED: &str = "the daemon closed the connection";

/// How many of a peer's first bytes an error shows.
const SHOWN: usize = 64;

/// Bytes read from the socket and not yet parsed: `buf[start..end]`.
#[derive(Default)]
pub(super) struct Pending {
    buf: Vec<u8>,
    start: usize,
    end: usize,
}

impl Pending {
    /// The bytes not yet parsed (at most `n`), escaped for a message.
    fn shown(&self, n: usize) -> String {
        let avail = &self.buf[self.start..self.end];
        let mut text = avail[..avail.len().min(n)].escape_ascii().to_string();
        if avail.len() > n {
            text.push_str("...");
        }
        text
    }

    /// Takes the complete frames out of the buffer.
    fn frames(&mut self) -> Result<Vec<Frame>> {
        let mut frames = Vec::new();
        loop {
            let avail = &self.buf[self.start..self.end];
            let Some(prefix) = avail.first_chunk::<4>() else {
                break;
            };
            let len = Frame::check_len(*prefix)?;
            if avail.len() < 4 + len {
                break;
            }
            frames.push(Frame::parse(&avail[4..4 + len])?);
            self.start += 4 + len;
        }
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
            if self.buf.len() > READ_BUFFER {
                self.buf.truncate(READ_BUFFER);
                self.buf.shrink_to_fit();
            }
        }
        Ok(frames)
    }

    /// The free part of the buffer, with room for at least the rest of
    /// the frame that has begun (the partial frame moved to the front).
    fn room(&mut self) -> &mut [u8] {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        // `frames` has checked the length against the limit already.
        let need = match self.buf[..self.end].first_chunk::<4>() {
            Some(prefix) => 4 + u32::from_be_bytes(*prefix) as usize,
            None => 4,
        };
        if self.buf.len() < need.max(READ_BUFFER) {
            self.buf.resize(need.max(READ_BUFFER), 0);
        }
        &mut self.buf[self.end..]
    }
}

impl ReadSide {
    /// Reads the frames that come next, polling briefly and then sleeping
    /// until `deadline`; none when it passes first. An error is why the
    /// connection is over.
    pub(super) fn read_frames(
        &mut self,
        deadline: Option<Instant>,
    ) -> std::result::Result<Vec<Frame>, (ErrorCode, String)> {
        let protocol = |why: String| (ErrorCode::Protocol, why);
        loop {
            let frames = match self.pending.frames() {
                Ok(frames) => frames,
                // Text where the first frame should be: a remote shell
                // whose login script prints something (over ssh), or no
                // qvirt daemon at all. Named, never waited on.
                Err(e) if !self.greeted => {
                    return Err(protocol(format!(
                        "the other side's first bytes are not qvirt's protocol ({e}): \"{}\"; \
                         does something print there before the daemon answers (over ssh, a \
                         login script such as ~/.bashrc must print nothing when not interactive)?",
                        self.pending.shown(SHOWN)
                    )));
                }
                Err(e) => return Err(protocol(e.to_string())),
            };
            if !frames.is_empty() {
                self.greeted = true;
                return Ok(frames);
            }
            match self
                .spinner
                .recv(&self.socket, self.pending.room(), deadline)
            {
                Ok(Some(0)) => return Err(protocol(self.end_of_stream().to_string())),
                // A reset is an end too: the peer closed with our call
                // still unread (an ssh that exited before reading it).
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                    return Err(protocol(self.end_of_stream().to_string()));
                }
                Ok(Some(n)) => self.pending.end += n,
                Ok(None) => return Ok(Vec::new()),
                Err(e) => return Err(protocol(format!("cannot read from the connection: {e}"))),
            }
        }
    }

    /// Why the stream ended where it did: inside a frame, or between
    /// frames (the peer closed the connection).
    fn end_of_stream(&self) -> &'static str {
        if self.pending.end > self.pending.start {
            "the connection ended inside a frame"
        } else {
            PEER_CLOSED
        }
    }
}
