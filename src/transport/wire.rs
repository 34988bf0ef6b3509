//! Every type that crosses the wire, and the framing.
//!
//! A frame is a 4-byte big-endian length (of what follows), a 12-byte
//! header — protocol version (u16 BE), kind (u8), a zero byte, procedure
//! (u32 BE), serial (u32 BE) — and a postcard-encoded body. The length is
//! checked against [`MAX_FRAME`] before anything is allocated.
//!
//! Procedures have explicit, append-only numbers; the body of a call is
//! its arguments alone, and the body of a reply is
//! `Result<payload, WireError>` with the payload type fixed by the
//! procedure. So reordering the Rust enums changes nothing on the wire,
//! and the golden-bytes test catches any change of a message's encoding.

use std::io::{Read, Write};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::driver::error::{Error, ErrorCode, Result};
use crate::driver::{
    Domain, DomainInfo, DomainSummary, Event, ListFilter, MediaFlags, NodeInfo, ShutdownOptions,
    VersionInfo,
};

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
        let word = |i: usize| u32::from_be_bytes(bytes[i..i + 4].try_into().expect("4 bytes"));
        Ok(Frame {
            header: Header {
                version: u16::from_be_bytes([bytes[0], bytes[1]]),
                kind,
                procedure: word(4),
                serial: word(8),
            },
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

/// Binary data as postcard's `bytes` (a length, then the bytes as they
/// are) rather than a sequence of numbers, which would take up to twice
/// the room for data such as a PNG.
struct Blob<'a>(std::borrow::Cow<'a, [u8]>);

impl Serialize for Blob<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for Blob<'static> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Bytes;
        impl serde::de::Visitor<'_> for Bytes {
            type Value = Blob<'static>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("bytes")
            }
            fn visit_bytes<E: serde::de::Error>(
                self,
                v: &[u8],
            ) -> std::result::Result<Self::Value, E> {
                Ok(Blob(v.to_vec().into()))
            }
            fn visit_byte_buf<E: serde::de::Error>(
                self,
                v: Vec<u8>,
            ) -> std::result::Result<Self::Value, E> {
                Ok(Blob(v.into()))
            }
        }
        d.deserialize_byte_buf(Bytes)
    }
}

/// Encodes a body.
fn enc<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    postcard::to_stdvec(value).expect("wire types always encode")
}

/// Decodes a body that must hold exactly one `T`.
fn dec<T: DeserializeOwned>(body: &[u8], what: &str) -> Result<T> {
    let (value, rest) =
        postcard::take_from_bytes(body).map_err(|e| protocol(format!("malformed {what}: {e}")))?;
    if !rest.is_empty() {
        return Err(protocol(format!("{} stray bytes after {what}", rest.len())));
    }
    Ok(value)
}

/// A call, one variant per procedure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    /// 1: opens every connection; the client's protocol version.
    Hello(u32),
    /// 2: [`crate::Driver::version`].
    Version,
    /// 3: `node_info`.
    NodeInfo,
    /// 4: `capabilities`.
    Capabilities,
    /// 5: `list`.
    List(ListFilter),
    /// 6: `lookup_by_name`.
    LookupByName(String),
    /// 7: `lookup_by_uuid`.
    LookupByUuid(Uuid),
    /// 8: `lookup_by_id`.
    LookupById(u32),
    /// 9: `define_xml`.
    DefineXml(String),
    /// 10: `undefine`.
    Undefine(Domain),
    /// 11: `create_xml`.
    CreateXml(String),
    /// 12: `start`.
    Start(Domain),
    /// 13: `shutdown`.
    Shutdown(Domain, ShutdownOptions),
    /// 14: `destroy`.
    Destroy(Domain),
    /// 15: `reboot`.
    Reboot(Domain),
    /// 16: `reset`.
    Reset(Domain),
    /// 17: `suspend`.
    Suspend(Domain),
    /// 18: `resume`.
    Resume(Domain),
    /// 19: `save`, with the path's bytes.
    Save(Domain, Vec<u8>),
    /// 20: `restore`, with the path's bytes.
    Restore(Vec<u8>),
    /// 21: `managed_save`.
    ManagedSave(Domain),
    /// 22: `managed_save_remove`.
    ManagedSaveRemove(Domain),
    /// 23: `autostart`.
    Autostart(Domain),
    /// 24: `set_autostart`.
    SetAutostart(Domain, bool),
    /// 25: `info`.
    Info(Domain),
    /// 26: `xml_desc`.
    XmlDesc(Domain, bool),
    /// 27: `events`: events then arrive as event frames with this call's
    /// serial.
    Events,
    /// 28: `console` (domain, force): console bytes then travel as stream
    /// frames with this call's serial, both ways.
    Console(Domain, bool),
    /// 29: `change_media` (domain, target, change, flags).
    ChangeMedia(Domain, String, WireMedia, MediaFlags),
    /// 30: `screenshot`: the PNG's bytes.
    Screenshot(Domain),
}

/// The highest procedure number this build knows.
pub const LAST_PROCEDURE: u32 = 30;

/// A [`crate::driver::MediaChange`] as it crosses the wire, the path as
/// its bytes. Variants are append-only: postcard sends their index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum WireMedia {
    /// `MediaChange::Eject`.
    Eject,
    /// `MediaChange::Insert`, with the path's bytes.
    Insert(Vec<u8>),
    /// `MediaChange::Update`, with the path's bytes.
    Update(Vec<u8>),
}

impl Call {
    /// The procedure number and the encoded arguments.
    pub fn encode(&self) -> (u32, Vec<u8>) {
        match self {
            Call::Hello(v) => (1, enc(v)),
            Call::Version => (2, Vec::new()),
            Call::NodeInfo => (3, Vec::new()),
            Call::Capabilities => (4, Vec::new()),
            Call::List(f) => (5, enc(f)),
            Call::LookupByName(n) => (6, enc(n)),
            Call::LookupByUuid(u) => (7, enc(u)),
            Call::LookupById(i) => (8, enc(i)),
            Call::DefineXml(x) => (9, enc(x)),
            Call::Undefine(d) => (10, enc(d)),
            Call::CreateXml(x) => (11, enc(x)),
            Call::Start(d) => (12, enc(d)),
            Call::Shutdown(d, o) => (13, enc(&(d, o))),
            Call::Destroy(d) => (14, enc(d)),
            Call::Reboot(d) => (15, enc(d)),
            Call::Reset(d) => (16, enc(d)),
            Call::Suspend(d) => (17, enc(d)),
            Call::Resume(d) => (18, enc(d)),
            Call::Save(d, p) => (19, enc(&(d, p))),
            Call::Restore(p) => (20, enc(p)),
            Call::ManagedSave(d) => (21, enc(d)),
            Call::ManagedSaveRemove(d) => (22, enc(d)),
            Call::Autostart(d) => (23, enc(d)),
            Call::SetAutostart(d, on) => (24, enc(&(d, on))),
            Call::Info(d) => (25, enc(d)),
            Call::XmlDesc(d, inactive) => (26, enc(&(d, inactive))),
            Call::Events => (27, Vec::new()),
            Call::Console(d, force) => (28, enc(&(d, force))),
            Call::ChangeMedia(d, t, m, f) => (29, enc(&(d, t, m, f))),
            Call::Screenshot(d) => (30, enc(d)),
        }
    }

    /// Decodes the call of `procedure` from its arguments.
    pub fn decode(procedure: u32, body: &[u8]) -> Result<Call> {
        let none = |c: Call| -> Result<Call> {
            if body.is_empty() {
                Ok(c)
            } else {
                Err(protocol(format!(
                    "procedure {procedure} takes no arguments"
                )))
            }
        };
        let what = "call arguments";
        Ok(match procedure {
            1 => Call::Hello(dec(body, what)?),
            2 => none(Call::Version)?,
            3 => none(Call::NodeInfo)?,
            4 => none(Call::Capabilities)?,
            5 => Call::List(dec(body, what)?),
            6 => Call::LookupByName(dec(body, what)?),
            7 => Call::LookupByUuid(dec(body, what)?),
            8 => Call::LookupById(dec(body, what)?),
            9 => Call::DefineXml(dec(body, what)?),
            10 => Call::Undefine(dec(body, what)?),
            11 => Call::CreateXml(dec(body, what)?),
            12 => Call::Start(dec(body, what)?),
            13 => {
                let (d, o) = dec(body, what)?;
                Call::Shutdown(d, o)
            }
            14 => Call::Destroy(dec(body, what)?),
            15 => Call::Reboot(dec(body, what)?),
            16 => Call::Reset(dec(body, what)?),
            17 => Call::Suspend(dec(body, what)?),
            18 => Call::Resume(dec(body, what)?),
            19 => {
                let (d, p) = dec(body, what)?;
                Call::Save(d, p)
            }
            20 => Call::Restore(dec(body, what)?),
            21 => Call::ManagedSave(dec(body, what)?),
            22 => Call::ManagedSaveRemove(dec(body, what)?),
            23 => Call::Autostart(dec(body, what)?),
            24 => {
                let (d, on) = dec(body, what)?;
                Call::SetAutostart(d, on)
            }
            25 => Call::Info(dec(body, what)?),
            26 => {
                let (d, inactive) = dec(body, what)?;
                Call::XmlDesc(d, inactive)
            }
            27 => none(Call::Events)?,
            28 => {
                let (d, force) = dec(body, what)?;
                Call::Console(d, force)
            }
            29 => {
                let (d, t, m, f) = dec(body, what)?;
                Call::ChangeMedia(d, t, m, f)
            }
            30 => Call::Screenshot(dec(body, what)?),
            n => {
                return Err(Error::new(
                    ErrorCode::NoSupport,
                    format!("unknown procedure {n} (this daemon knows 1 to {LAST_PROCEDURE})"),
                ));
            }
        })
    }

    /// Whether the call changes nothing (allowed on a read-only socket).
    pub fn is_read_only(&self) -> bool {
        matches!(
            self,
            Call::Hello(_)
                | Call::Version
                | Call::NodeInfo
                | Call::Capabilities
                | Call::List(_)
                | Call::LookupByName(_)
                | Call::LookupByUuid(_)
                | Call::LookupById(_)
                | Call::Autostart(_)
                | Call::Info(_)
                | Call::XmlDesc(..)
                | Call::Events
        )
    }
}

/// A successful reply's payload. Which variant a procedure returns is
/// fixed (see [`Reply::decode`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// No value.
    Unit,
    /// The daemon's protocol version (to `Hello`).
    Hello(u32),
    /// Versions.
    Version(VersionInfo),
    /// Host facts.
    Node(NodeInfo),
    /// An XML document.
    Text(String),
    /// A domain list.
    Domains(Vec<DomainSummary>),
    /// One domain.
    Domain(Domain),
    /// A flag.
    Bool(bool),
    /// Domain info.
    Info(DomainInfo),
    /// Binary data (a screenshot).
    Bytes(Vec<u8>),
}

/// Decodes a reply body of one shape: the remote result, or a protocol
/// error for a malformed body.
type ReplyDecoder = fn(&[u8]) -> Result<Result<Reply, WireError>>;

/// The shape of each procedure's successful reply.
fn reply_shape(procedure: u32) -> Option<ReplyDecoder> {
    fn of<T: DeserializeOwned>(
        body: &[u8],
        wrap: fn(T) -> Reply,
    ) -> Result<Result<Reply, WireError>> {
        Ok(dec::<Result<T, WireError>>(body, "reply")?.map(wrap))
    }
    Some(match procedure {
        1 => |b| of(b, Reply::Hello),
        2 => |b| of(b, Reply::Version),
        3 => |b| of(b, Reply::Node),
        4 | 26 => |b| of(b, Reply::Text),
        5 => |b| of(b, Reply::Domains),
        6..=9 | 11 | 12 | 20 => |b| of(b, Reply::Domain),
        10 | 13..=19 | 21 | 22 | 24 | 27..=29 => |b| of(b, |()| Reply::Unit),
        23 => |b| of(b, Reply::Bool),
        25 => |b| of(b, Reply::Info),
        30 => |b| of(b, |Blob(v)| Reply::Bytes(v.into_owned())),
        _ => return None,
    })
}

impl Reply {
    /// Encodes `result` as the body of a reply.
    pub fn encode(result: &std::result::Result<Reply, Error>) -> Vec<u8> {
        fn ok<T: Serialize>(v: &T) -> Vec<u8> {
            enc(&Ok::<&T, WireError>(v))
        }
        match result {
            Err(e) => enc(&Err::<(), WireError>(WireError::from(e))),
            Ok(Reply::Unit) => ok(&()),
            Ok(Reply::Hello(v)) => ok(v),
            Ok(Reply::Version(v)) => ok(v),
            Ok(Reply::Node(n)) => ok(n),
            Ok(Reply::Text(t)) => ok(t),
            Ok(Reply::Domains(d)) => ok(d),
            Ok(Reply::Domain(d)) => ok(d),
            Ok(Reply::Bool(b)) => ok(b),
            Ok(Reply::Info(i)) => ok(i),
            Ok(Reply::Bytes(b)) => enc(&Ok::<Blob<'_>, WireError>(Blob(b.as_slice().into()))),
        }
    }

    /// Decodes the reply to `procedure`: `Err` for a malformed body, `Ok`
    /// of the remote result otherwise.
    pub fn decode(procedure: u32, body: &[u8]) -> Result<std::result::Result<Reply, Error>> {
        let shape = reply_shape(procedure)
            .ok_or_else(|| protocol(format!("reply to unknown procedure {procedure}")))?;
        Ok(shape(body)?.map_err(Error::from))
    }
}

/// Encodes an event frame's body.
pub fn encode_event(event: &Event) -> Vec<u8> {
    enc(event)
}

/// Decodes an event frame's body.
pub fn decode_event(body: &[u8]) -> Result<Event> {
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
