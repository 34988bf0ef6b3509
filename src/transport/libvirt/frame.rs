//! libvirt's message framing (`virnetprotocol.x`): a 4-byte big-endian
//! length that counts itself, a 24-byte header, an XDR body; and the
//! error a reply carries (`remote_error`), with how qvirt's error codes
//! map to libvirt's.

use super::xdr::{Dec, Enc, Xdr, from_bytes, malformed, to_bytes};
use crate::driver::error::{Error, ErrorCode, Result};

/// The main program (`REMOTE_PROGRAM`).
pub const REMOTE_PROGRAM: u32 = 0x2000_8086;
/// Its version.
pub const REMOTE_VERSION: u32 = 1;
/// The keepalive program (`KEEPALIVE_PROGRAM`, "keep").
pub const KEEPALIVE_PROGRAM: u32 = 0x6b65_6570;
/// Its version.
pub const KEEPALIVE_VERSION: u32 = 1;
/// Keepalive's request.
pub const KEEPALIVE_PING: i32 = 1;
/// Keepalive's answer.
pub const KEEPALIVE_PONG: i32 = 2;

/// The header's size in bytes.
pub const HEADER_LEN: usize = 24;
/// The length word's size in bytes (counted in the length itself).
pub const LEN_LEN: usize = 4;
/// The largest message qvirt accepts or sends, length word included:
/// 16 MiB plus the length word. (libvirt 9.0 allows 32 MiB; nothing
/// qvirt answers comes near this.)
pub const MAX_MESSAGE: usize = 16 * 1024 * 1024 + LEN_LEN;
/// The most bytes of stream data one message carries
/// (`VIR_NET_MESSAGE_LEGACY_PAYLOAD_MAX`), as libvirtd sends them.
pub const STREAM_CHUNK: usize = 262_120;

/// What a message is (`virNetMessageType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    /// A call from the client.
    Call = 0,
    /// The answer to the call with the same serial.
    Reply = 1,
    /// An asynchronous message (an event, a keepalive).
    Message = 2,
    /// Stream data, either way.
    Stream = 3,
    /// A call with descriptors passed beside it.
    CallWithFds = 4,
    /// A reply with descriptors passed beside it.
    ReplyWithFds = 5,
    /// A hole in a sparse stream.
    StreamHole = 6,
}

impl Type {
    fn from_i32(v: i32) -> Option<Type> {
        Some(match v {
            0 => Type::Call,
            1 => Type::Reply,
            2 => Type::Message,
            3 => Type::Stream,
            4 => Type::CallWithFds,
            5 => Type::ReplyWithFds,
            6 => Type::StreamHole,
            _ => return None,
        })
    }
}

/// How a message went (`virNetMessageStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// A call, a successful reply, the end of a stream.
    Ok = 0,
    /// A failed reply or stream: a `remote_error` follows.
    Error = 1,
    /// Stream data, more to come.
    Continue = 2,
}

impl Status {
    fn from_i32(v: i32) -> Option<Status> {
        Some(match v {
            0 => Status::Ok,
            1 => Status::Error,
            2 => Status::Continue,
            _ => return None,
        })
    }
}

/// A message header (`virNetMessageHeader`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// The program ([`REMOTE_PROGRAM`], [`KEEPALIVE_PROGRAM`]).
    pub prog: u32,
    /// The program's version.
    pub vers: u32,
    /// The procedure.
    pub proc: i32,
    /// The message type.
    pub kind: Type,
    /// Matches a reply (and stream data) to its call.
    pub serial: u32,
    /// How it went.
    pub status: Status,
}

impl Header {
    /// A header of the main program.
    pub fn remote(proc: i32, kind: Type, serial: u32, status: Status) -> Header {
        Header {
            prog: REMOTE_PROGRAM,
            vers: REMOTE_VERSION,
            proc,
            kind,
            serial,
            status,
        }
    }

    /// Parses the header at the start of `bytes` (a message after its
    /// length word).
    pub fn parse(bytes: &[u8]) -> Result<Header> {
        if bytes.len() < HEADER_LEN {
            return Err(malformed("message shorter than its header"));
        }
        let mut d = Dec::new(&bytes[..HEADER_LEN]);
        let prog = d.u32()?;
        let vers = d.u32()?;
        let proc = d.i32()?;
        let kind = d.i32()?;
        let serial = d.u32()?;
        let status = d.i32()?;
        Ok(Header {
            prog,
            vers,
            proc,
            kind: Type::from_i32(kind)
                .ok_or_else(|| malformed(format!("unknown message type {kind}")))?,
            serial,
            status: Status::from_i32(status)
                .ok_or_else(|| malformed(format!("unknown message status {status}")))?,
        })
    }

    fn put(&self, e: &mut Enc) {
        e.u32(self.prog);
        e.u32(self.vers);
        e.i32(self.proc);
        e.i32(self.kind as i32);
        e.u32(self.serial);
        e.i32(self.status as i32);
    }
}

/// Appends a whole message (length word, header, body) to `out`.
pub fn push_message(out: &mut Vec<u8>, header: &Header, body: &[u8]) {
    let len = (LEN_LEN + HEADER_LEN + body.len()) as u32;
    out.reserve(len as usize);
    out.extend_from_slice(&len.to_be_bytes());
    let mut e = Enc {
        buf: std::mem::take(out),
    };
    header.put(&mut e);
    e.raw(body);
    *out = e.buf;
}

/// A whole message, encoded.
pub fn message(header: &Header, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    push_message(&mut out, header, body);
    out
}

/// Checks a length word: the size of the whole message (the word
/// included), at least a header and at most `max`.
pub fn check_len(prefix: [u8; 4], max: usize) -> Result<usize> {
    let len = u32::from_be_bytes(prefix) as usize;
    if len > max {
        return Err(Error::new(
            ErrorCode::LimitExceeded,
            format!("message of {len} bytes refused: the limit is {max}"),
        ));
    }
    if len < LEN_LEN + HEADER_LEN {
        return Err(malformed(format!(
            "message of {len} bytes is shorter than its header"
        )));
    }
    Ok(len)
}

/// The keepalive message `proc` (PING or PONG): serial 0, no body.
pub fn keepalive(proc: i32) -> Vec<u8> {
    message(
        &Header {
            prog: KEEPALIVE_PROGRAM,
            vers: KEEPALIVE_VERSION,
            proc,
            kind: Type::Message,
            serial: 0,
            status: Status::Ok,
        },
        &[],
    )
}

// ---------------------------------------------------------------------
// Errors.

/// `remote_nonnull_domain`, as an error names it (unused by clients).
#[derive(Debug, Clone, PartialEq, Eq)]
struct ErrDomain {
    name: String,
    uuid: uuid::Uuid,
    id: i32,
}

impl Xdr for ErrDomain {
    fn put(&self, e: &mut Enc) {
        self.name.put(e);
        self.uuid.put(e);
        self.id.put(e);
    }
    fn get(d: &mut Dec<'_>) -> Result<ErrDomain> {
        Ok(ErrDomain {
            name: String::get(d)?,
            uuid: uuid::Uuid::get(d)?,
            id: d.i32()?,
        })
    }
}

/// `remote_nonnull_network`, as an error names it (unused by clients).
#[derive(Debug, Clone, PartialEq, Eq)]
struct ErrNetwork {
    name: String,
    uuid: uuid::Uuid,
}

impl Xdr for ErrNetwork {
    fn put(&self, e: &mut Enc) {
        self.name.put(e);
        self.uuid.put(e);
    }
    fn get(d: &mut Dec<'_>) -> Result<ErrNetwork> {
        Ok(ErrNetwork {
            name: String::get(d)?,
            uuid: uuid::Uuid::get(d)?,
        })
    }
}

/// The error a failed reply or stream carries (`remote_error`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteError {
    /// `virErrorNumber`.
    pub code: i32,
    /// `virErrorDomain`: where it came from.
    pub domain: i32,
    /// What failed.
    pub message: Option<String>,
    /// `virErrorLevel` (2: error).
    pub level: i32,
    dom: Option<ErrDomain>,
    /// Extra text, as the code's message template uses it.
    pub str1: Option<String>,
    /// Extra text.
    pub str2: Option<String>,
    /// Extra text.
    pub str3: Option<String>,
    /// Extra number.
    pub int1: i32,
    /// Extra number.
    pub int2: i32,
    net: Option<ErrNetwork>,
}

impl Xdr for RemoteError {
    fn put(&self, e: &mut Enc) {
        self.code.put(e);
        self.domain.put(e);
        self.message.put(e);
        self.level.put(e);
        self.dom.put(e);
        self.str1.put(e);
        self.str2.put(e);
        self.str3.put(e);
        self.int1.put(e);
        self.int2.put(e);
        self.net.put(e);
    }
    fn get(d: &mut Dec<'_>) -> Result<RemoteError> {
        Ok(RemoteError {
            code: d.i32()?,
            domain: d.i32()?,
            message: Option::get(d)?,
            level: d.i32()?,
            dom: Option::get(d)?,
            str1: Option::get(d)?,
            str2: Option::get(d)?,
            str3: Option::get(d)?,
            int1: d.i32()?,
            int2: d.i32()?,
            net: Option::get(d)?,
        })
    }
}

/// libvirt's error numbers (`virErrorNumber`) that qvirt sends or reads.
#[allow(missing_docs)]
pub mod code {
    pub const INTERNAL_ERROR: i32 = 1;
    pub const NO_SUPPORT: i32 = 3;
    pub const NO_CONNECT: i32 = 5;
    pub const INVALID_CONN: i32 = 6;
    pub const INVALID_DOMAIN: i32 = 7;
    pub const INVALID_ARG: i32 = 8;
    pub const OPERATION_FAILED: i32 = 9;
    pub const XML_ERROR: i32 = 27;
    pub const DOM_EXIST: i32 = 28;
    pub const OPERATION_DENIED: i32 = 29;
    pub const XML_DETAIL: i32 = 35;
    pub const SYSTEM_ERROR: i32 = 38;
    pub const RPC: i32 = 39;
    pub const NO_DOMAIN: i32 = 42;
    pub const NO_NETWORK: i32 = 43;
    pub const AUTH_FAILED: i32 = 45;
    pub const NO_STORAGE_POOL: i32 = 49;
    pub const NO_STORAGE_VOL: i32 = 50;
    pub const NO_NODE_DEVICE: i32 = 53;
    pub const OPERATION_INVALID: i32 = 55;
    pub const NO_INTERFACE: i32 = 57;
    pub const MULTIPLE_INTERFACES: i32 = 59;
    pub const NO_NWFILTER: i32 = 62;
    pub const INVALID_SECRET: i32 = 65;
    pub const NO_SECRET: i32 = 66;
    pub const CONFIG_UNSUPPORTED: i32 = 67;
    pub const OPERATION_TIMEOUT: i32 = 68;
    pub const NO_DOMAIN_SNAPSHOT: i32 = 72;
    pub const ARGUMENT_UNSUPPORTED: i32 = 74;
    pub const OPERATION_ABORTED: i32 = 78;
    pub const NO_DOMAIN_METADATA: i32 = 80;
    pub const OVERFLOW: i32 = 82;
    pub const OPERATION_UNSUPPORTED: i32 = 84;
    pub const AGENT_UNRESPONSIVE: i32 = 86;
    pub const RESOURCE_BUSY: i32 = 87;
    pub const ACCESS_DENIED: i32 = 88;
    pub const NO_NWFILTER_BINDING: i32 = 101;
    pub const NO_DOMAIN_CHECKPOINT: i32 = 103;
    pub const XML_INVALID_SCHEMA: i32 = 92;
}

/// libvirt's error domains (`virErrorDomain`) that qvirt sends.
#[allow(missing_docs)]
pub mod from {
    pub const NONE: i32 = 0;
    pub const XML: i32 = 5;
    pub const RPC: i32 = 7;
    pub const QEMU: i32 = 10;
    pub const STORAGE: i32 = 18;
    pub const NETWORK: i32 = 19;
    pub const DOMAIN: i32 = 20;
    pub const NODEDEV: i32 = 22;
    pub const INTERFACE: i32 = 26;
    pub const SECRET: i32 = 30;
    pub const NWFILTER: i32 = 33;
    pub const DOMAIN_SNAPSHOT: i32 = 35;
    pub const DOMAIN_CHECKPOINT: i32 = 69;
}

/// Each qvirt code with the libvirt code and domain it is sent as. A code
/// appears once per libvirt code, except where the domain tells two qvirt
/// codes apart (a QEMU failure is libvirt's internal error from the QEMU
/// driver, as libvirtd reports a QEMU that exits while starting; invalid
/// XML is an XML error from the XML parser, an impossible definition one
/// from the domain's configuration): reading back gives the same code.
const CODES: &[(ErrorCode, i32, i32)] = &[
    (ErrorCode::Internal, code::INTERNAL_ERROR, from::NONE),
    (ErrorCode::QemuFailed, code::INTERNAL_ERROR, from::QEMU),
    (ErrorCode::InvalidArgument, code::INVALID_ARG, from::QEMU),
    (ErrorCode::InvalidXml, code::XML_ERROR, from::XML),
    (ErrorCode::ConfigInvalid, code::XML_ERROR, from::DOMAIN),
    (
        ErrorCode::ConfigUnsupported,
        code::CONFIG_UNSUPPORTED,
        from::DOMAIN,
    ),
    (ErrorCode::NoDomain, code::NO_DOMAIN, from::QEMU),
    (ErrorCode::DomainExists, code::DOM_EXIST, from::QEMU),
    (
        ErrorCode::OperationInvalid,
        code::OPERATION_INVALID,
        from::QEMU,
    ),
    (
        ErrorCode::OperationDenied,
        code::OPERATION_DENIED,
        from::QEMU,
    ),
    (
        ErrorCode::OperationFailed,
        code::OPERATION_FAILED,
        from::QEMU,
    ),
    (ErrorCode::Io, code::SYSTEM_ERROR, from::QEMU),
    (ErrorCode::Protocol, code::RPC, from::RPC),
    (ErrorCode::Timeout, code::OPERATION_TIMEOUT, from::QEMU),
    (ErrorCode::NoSupport, code::NO_SUPPORT, from::QEMU),
    (ErrorCode::LimitExceeded, code::OVERFLOW, from::QEMU),
    (ErrorCode::ResourceBusy, code::RESOURCE_BUSY, from::QEMU),
    (
        ErrorCode::OperationAborted,
        code::OPERATION_ABORTED,
        from::QEMU,
    ),
    (ErrorCode::NoPool, code::NO_STORAGE_POOL, from::STORAGE),
    (ErrorCode::NoVolume, code::NO_STORAGE_VOL, from::STORAGE),
    (
        ErrorCode::NoSnapshot,
        code::NO_DOMAIN_SNAPSHOT,
        from::DOMAIN_SNAPSHOT,
    ),
    (ErrorCode::NoSecret, code::NO_SECRET, from::SECRET),
    (
        ErrorCode::AgentUnresponsive,
        code::AGENT_UNRESPONSIVE,
        from::QEMU,
    ),
    (
        ErrorCode::ArgumentUnsupported,
        code::ARGUMENT_UNSUPPORTED,
        from::QEMU,
    ),
];

/// libvirt codes with no qvirt twin, read by meaning.
const READ_ONLY_CODES: &[(i32, ErrorCode)] = &[
    (code::NO_CONNECT, ErrorCode::Protocol),
    (code::INVALID_CONN, ErrorCode::Protocol),
    (code::INVALID_DOMAIN, ErrorCode::InvalidArgument),
    (code::XML_DETAIL, ErrorCode::InvalidXml),
    (code::XML_INVALID_SCHEMA, ErrorCode::ConfigInvalid),
    (code::AUTH_FAILED, ErrorCode::OperationDenied),
    (code::ACCESS_DENIED, ErrorCode::OperationDenied),
    (code::OPERATION_UNSUPPORTED, ErrorCode::NoSupport),
    // A network filter the host lacks: what qvirt says of a start whose
    // interface references one.
    (code::NO_NWFILTER, ErrorCode::NoSupport),
    // A daemon sends it for a private secret's value only ("secret is
    // private"); an invalid handle is the client library's own error.
    (code::INVALID_SECRET, ErrorCode::OperationDenied),
    // Objects qvirt does not keep: no virtual network, no checkpoint.
    (code::NO_NETWORK, ErrorCode::NoSupport),
    (code::NO_DOMAIN_CHECKPOINT, ErrorCode::NoSupport),
    // Host objects qvirt shows but does not manage: a name the host does
    // not have, a filter binding (qvirt makes none).
    (code::NO_INTERFACE, ErrorCode::NoSupport),
    (code::MULTIPLE_INTERFACES, ErrorCode::InvalidArgument),
    (code::NO_NODE_DEVICE, ErrorCode::NoSupport),
    (code::NO_NWFILTER_BINDING, ErrorCode::NoSupport),
];

/// The error domain of the libvirt codes qvirt sends that no qvirt code
/// carries (see [`LibvirtCode`]), where it is not the QEMU driver.
const LIBVIRT_ONLY_DOMAINS: &[(i32, i32)] = &[
    (code::INVALID_SECRET, from::SECRET),
    (code::NO_NETWORK, from::NETWORK),
    (code::NO_DOMAIN_CHECKPOINT, from::DOMAIN_CHECKPOINT),
    (code::NO_NODE_DEVICE, from::NODEDEV),
    (code::NO_INTERFACE, from::INTERFACE),
    (code::MULTIPLE_INTERFACES, from::INTERFACE),
    (code::NO_NWFILTER, from::NWFILTER),
    (code::NO_NWFILTER_BINDING, from::NWFILTER),
];

/// The libvirt code an error is sent with, when qvirt's code does not
/// say it (libvirt has codes for kinds of objects qvirt does not keep:
/// `VIR_ERR_NO_STORAGE_VOL` for a path no storage volume holds). Carried
/// as the error's source, which never crosses qvirt's own wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LibvirtCode(pub i32);

impl std::fmt::Display for LibvirtCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "libvirt error {}", self.0)
    }
}

impl std::error::Error for LibvirtCode {}

/// An error of qvirt code `code` sent to libvirt clients as libvirt's
/// `libvirt_code`.
pub fn libvirt_error(libvirt_code: i32, code: ErrorCode, message: impl Into<String>) -> Error {
    Error {
        code,
        message: message.into(),
        source: Some(Box::new(LibvirtCode(libvirt_code))),
    }
}

impl RemoteError {
    /// An error of libvirt code `code` from `domain`.
    pub fn new(code: i32, domain: i32, message: impl Into<String>) -> RemoteError {
        RemoteError {
            code,
            domain,
            message: Some(message.into()),
            level: 2,
            dom: None,
            str1: None,
            str2: None,
            str3: None,
            int1: -1,
            int2: -1,
            net: None,
        }
    }

    /// The libvirt form of a qvirt error: its code by [`CODES`], its
    /// message as it is.
    pub fn from_error(e: &Error) -> RemoteError {
        if let Some(LibvirtCode(code)) = e
            .source
            .as_deref()
            .and_then(|s| s.downcast_ref::<LibvirtCode>())
        {
            let domain = LIBVIRT_ONLY_DOMAINS
                .iter()
                .find(|(c, _)| c == code)
                .map_or(from::QEMU, |(_, d)| *d);
            return RemoteError::new(*code, domain, e.message.clone());
        }
        let (code, domain) = CODES
            .iter()
            .find(|(c, _, _)| *c == e.code)
            .map(|(_, n, d)| (*n, *d))
            .unwrap_or((code::INTERNAL_ERROR, from::NONE));
        RemoteError::new(code, domain, e.message.clone())
    }

    /// The qvirt error for this libvirt error: the code by [`CODES`] (the
    /// domain first where it tells two apart), else by meaning; a code
    /// qvirt has no word for is `OperationFailed` and names the number.
    pub fn to_error(&self) -> Error {
        let message = self.message.clone().unwrap_or_default();
        let exact = CODES
            .iter()
            .find(|(_, n, d)| *n == self.code && *d == self.domain)
            .or_else(|| CODES.iter().find(|(_, n, _)| *n == self.code))
            .map(|(c, _, _)| *c)
            .or_else(|| {
                READ_ONLY_CODES
                    .iter()
                    .find(|(n, _)| *n == self.code)
                    .map(|(_, c)| *c)
            });
        match exact {
            Some(c) => Error::new(c, message),
            None => Error::new(
                ErrorCode::OperationFailed,
                format!("{message} (libvirt error {})", self.code),
            ),
        }
    }

    /// Encoded, as the body of an error reply.
    pub fn encode(&self) -> Vec<u8> {
        to_bytes(self)
    }

    /// Decodes the body of an error reply.
    pub fn decode(body: &[u8]) -> Result<RemoteError> {
        from_bytes(body, "error")
    }
}

/// The whole error reply to the call `proc`/`serial`.
pub fn error_reply(proc: i32, serial: u32, e: &Error) -> Vec<u8> {
    error_reply_in(REMOTE_PROGRAM, REMOTE_VERSION, proc, serial, e)
}

/// The error reply to call `proc`/`serial` of program `prog` version
/// `vers`: a client matches replies by program too (libvirt's own
/// `qemu` program, which qvirtd does not serve, is answered in its own).
pub fn error_reply_in(prog: u32, vers: u32, proc: i32, serial: u32, e: &Error) -> Vec<u8> {
    let mut h = Header::remote(proc, Type::Reply, serial, Status::Error);
    h.prog = prog;
    h.vers = vers;
    message(&h, &RemoteError::from_error(e).encode())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_qvirt_code_reads_back_the_same() {
        for (c, _, _) in CODES {
            let e = Error::new(*c, "x");
            let back = RemoteError::decode(&RemoteError::from_error(&e).encode())
                .unwrap()
                .to_error();
            assert_eq!(back.code, *c);
            assert_eq!(back.message, "x");
        }
    }

    #[test]
    fn secrets_errors_are_the_secret_drivers() {
        let r = RemoteError::from_error(&Error::new(ErrorCode::NoSecret, "x"));
        assert_eq!((r.code, r.domain), (66, 30));
        // A private secret's value: a code qvirt's does not carry, read
        // back by meaning.
        let e = libvirt_error(
            code::INVALID_SECRET,
            ErrorCode::OperationDenied,
            "Invalid secret: secret is private",
        );
        let r = RemoteError::from_error(&e);
        assert_eq!((r.code, r.domain), (65, 30));
        assert_eq!(r.to_error().code, ErrorCode::OperationDenied);
        // Others keep the QEMU driver's domain.
        let r = RemoteError::from_error(&libvirt_error(80, ErrorCode::InvalidArgument, "m"));
        assert_eq!((r.code, r.domain), (80, from::QEMU));
    }

    #[test]
    fn a_missing_network_filter_reads_as_a_missing_host_resource() {
        // VIR_FROM_NWFILTER is 33.
        let r = RemoteError::new(code::NO_NWFILTER, 33, "Network filter not found");
        assert_eq!(r.to_error().code, ErrorCode::NoSupport);
    }

    #[test]
    fn the_header_round_trips() {
        let h = Header::remote(273, Type::Reply, 9, Status::Error);
        let m = message(&h, &[1, 2, 3, 4]);
        assert_eq!(&m[..4], &(32u32).to_be_bytes());
        assert_eq!(Header::parse(&m[4..]).unwrap(), h);
        assert!(check_len([0, 0, 0, 27], MAX_MESSAGE).is_err());
        assert_eq!(check_len([0, 0, 0, 28], MAX_MESSAGE).unwrap(), 28);
        assert_eq!(
            check_len([0xff, 0, 0, 0], MAX_MESSAGE).unwrap_err().code,
            ErrorCode::LimitExceeded
        );
    }
}
