//! Every type that crosses the wire, and the framing.
//!
//! A frame is a 4-byte big-endian length (of what follows), a 12-byte
//! header — protocol version (u16 BE), kind (u8), a zero byte, procedure
//! (u32 BE), serial (u32 BE) — and a postcard-encoded body. The length is
//! checked against [`MAX_FRAME`] before anything is allocated.
//!
//! The procedures, their numbers and the shapes of their calls and
//! replies are declared once, in [`super::procedures`] (re-exported
//! here); the values they carry are in [`super::types`]. The golden-bytes
//! test catches any change of a message's encoding.

use std::io::{Read, Write};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub use super::procedures::{Call, Caller, Class, Handler, LAST_PROCEDURE, Procedure, Reply};
pub use super::types::*;
use crate::error::{Error, ErrorCode, Result};

/// The protocol version this build speaks.
pub const PROTOCOL_VERSION: u16 = 1;
/// The largest frame accepted (16 MiB), header included.
pub const MAX_FRAME: usize = 16 * 1024 * 1024;
/// The header's size in bytes.
pub const HEADER_LEN: usize = 12;

/// What a frame carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A call from the client.
    Call = 0,
    /// The reply to the call with the same serial.
    Reply = 1,
    /// A lifecycle event for the subscription with that serial.
    Event = 2,
    /// Console bytes for the console opened by the call with that serial.
    Stream = 3,
}

/// A frame's header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// The sender's protocol version.
    pub version: u16,
    /// The frame kind.
    pub kind: Kind,
    /// The procedure number (see [`Call::procedure`]).
    pub procedure: u32,
    /// Matches replies, events and stream data to their call.
    pub serial: u32,
}

impl Header {
    /// Parses the header at the start of `bytes` (a frame after its
    /// length).
    pub fn parse(bytes: &[u8]) -> Result<Header> {
        if bytes.len() < HEADER_LEN {
            return Err(protocol("frame shorter than its header"));
        }
        let kind = match bytes[2] {
            0 => Kind::Call,
            1 => Kind::Reply,
            2 => Kind::Event,
            3 => Kind::Stream,
            k => return Err(protocol(format!("unknown frame kind {k}"))),
        };
        let word =
            |i: usize| u32::from_be_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
        Ok(Header {
            version: u16::from_be_bytes([bytes[0], bytes[1]]),
            kind,
            procedure: word(4),
            serial: word(8),
        })
    }
}

/// One decoded frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The header.
    pub header: Header,
    /// The postcard-encoded body.
    pub body: Vec<u8>,
}

/// An error as it crosses the wire: the stable code and the message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireError {
    /// [`ErrorCode::number`].
    pub code: u32,
    /// [`Error::message`].
    pub message: String,
}

impl From<&Error> for WireError {
    fn from(e: &Error) -> WireError {
        WireError {
            code: e.code.number(),
            message: e.message.clone(),
        }
    }
}

impl From<WireError> for Error {
    fn from(e: WireError) -> Error {
        Error::new(ErrorCode::from_number(e.code), e.message)
    }
}

/// The protocol error for `what`.
fn protocol(what: impl Into<String>) -> Error {
    Error::new(ErrorCode::Protocol, what)
}

impl Frame {
    /// Encodes the frame, length prefix included.
    pub fn encode(&self) -> Vec<u8> {
        let len = HEADER_LEN + self.body.len();
        let mut out = Vec::with_capacity(4 + len);
        out.extend_from_slice(&(len as u32).to_be_bytes());
        out.extend_from_slice(&self.header.version.to_be_bytes());
        out.push(self.header.kind as u8);
        out.push(0);
        out.extend_from_slice(&self.header.procedure.to_be_bytes());
        out.extend_from_slice(&self.header.serial.to_be_bytes());
        out.extend_from_slice(&self.body);
        out
    }

    /// Parses the length prefix; refuses a frame too small for a header or
    /// larger than [`MAX_FRAME`].
    pub fn check_len(prefix: [u8; 4]) -> Result<usize> {
        let len = u32::from_be_bytes(prefix) as usize;
        if len > MAX_FRAME {
            return Err(Error::new(
                ErrorCode::LimitExceeded,
                format!("frame of {len} bytes refused: the limit is {MAX_FRAME}"),
            ));
        }
        if len < HEADER_LEN {
            return Err(protocol(format!(
                "frame of {len} bytes is shorter than its header"
            )));
        }
        Ok(len)
    }

    /// Parses a frame's header and body (everything after the length).
    pub fn parse(bytes: &[u8]) -> Result<Frame> {
        Ok(Frame {
            header: Header::parse(bytes)?,
            body: bytes[HEADER_LEN..].to_vec(),
        })
    }

    /// Decodes one whole frame from a buffer (length prefix included);
    /// the frame and the bytes it used.
    pub fn decode(buf: &[u8]) -> Result<(Frame, usize)> {
        let prefix: [u8; 4] = buf
            .get(..4)
            .and_then(|p| p.try_into().ok())
            .ok_or_else(|| protocol("frame cut off in its length"))?;
        let len = Frame::check_len(prefix)?;
        let body = buf
            .get(4..4 + len)
            .ok_or_else(|| protocol("frame cut off"))?;
        Ok((Frame::parse(body)?, 4 + len))
    }

    /// Reads one frame; `Ok(None)` at a clean end of stream.
    pub fn read(r: &mut impl Read) -> Result<Option<Frame>> {
        let mut prefix = [0u8; 4];
        match r.read_exact(&mut prefix) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(e) => return Err(Error::io("cannot read from the connection", e)),
        }
        let len = Frame::check_len(prefix)?;
        let mut bytes = vec![0u8; len];
        r.read_exact(&mut bytes)
            .map_err(|e| Error::io("the connection ended inside a frame", e))?;
        Frame::parse(&bytes).map(Some)
    }

    /// Writes one frame.
    pub fn write(&self, w: &mut impl Write) -> Result<()> {
        w.write_all(&self.encode())
            .map_err(|e| Error::io("cannot write to the connection", e))
    }
}

/// Encodes a body.
pub(crate) fn enc<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    postcard::to_stdvec(value).expect("wire types always encode")
}

/// Decodes a body that must hold exactly one `T`.
pub(crate) fn dec<T: DeserializeOwned>(body: &[u8], what: &str) -> Result<T> {
    let (value, rest) =
        postcard::take_from_bytes(body).map_err(|e| protocol(format!("malformed {what}: {e}")))?;
    if !rest.is_empty() {
        return Err(protocol(format!("{} stray bytes after {what}", rest.len())));
    }
    Ok(value)
}

/// Encodes an event frame's body.
pub fn encode_event(event: &WireEvent) -> Vec<u8> {
    enc(event)
}

/// Decodes an event frame's body.
pub fn decode_event(body: &[u8]) -> Result<WireEvent> {
    dec(body, "event")
}

/// What a stream frame carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum StreamMsg {
    /// Console bytes.
    Data(Vec<u8>),
    /// The stream ended, with the reason when it was an error.
    End(Option<WireError>),
    /// The daemon wrote the client's last `Data` to the console (so a
    /// write through the daemon fails or succeeds as a local one would).
    Written,
    /// On an event subscription: the daemon dropped this many events
    /// because the client did not read them in time. Sent once, after
    /// the events that were delivered; delivery goes on with the next
    /// event.
    Lost(u64),
}

/// Encodes a stream frame's body.
pub fn encode_stream(msg: &StreamMsg) -> Vec<u8> {
    enc(msg)
}

/// Decodes a stream frame's body.
pub fn decode_stream(body: &[u8]) -> Result<StreamMsg> {
    dec(body, "stream data")
}

/// The fuzzing entry point for the decoder: any bytes, no panic.
#[cfg(fuzzing)]
pub fn fuzz_wire_decode(data: &[u8]) {
    if let Ok((frame, _)) = Frame::decode(data) {
        let p = frame.header.procedure;
        if let Ok(call) = Call::decode(p, &frame.body) {
            let (q, body) = call.encode();
            assert_eq!(
                Call::decode(q, &body).expect("re-encoded call decodes"),
                call
            );
        }
        let _ = Reply::decode(p, &frame.body);
        let _ = decode_event(&frame.body);
        let _ = decode_stream(&frame.body);
    }
}
