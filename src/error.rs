//! The one error type of qvirt, with stable numeric codes.
//!
//! Codes are append-only: a number, once given, keeps its meaning forever,
//! because it crosses the wire to clients built at other times. Only the
//! `(code, message)` pair leaves the process; a number this build does not
//! know decodes to [`ErrorCode::Unknown`].

use crate::model::{ModelError, ModelErrorKind};

/// What kind of failure an [`Error`] is. The numbers are stable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// A bug or an impossible state inside qvirt.
    Internal,
    /// An argument is malformed (a bad URI, a bad flag combination).
    InvalidArgument,
    /// The XML is not well-formed, or is not a domain document.
    InvalidXml,
    /// The XML asks for something qvirt does not support.
    ConfigUnsupported,
    /// The XML is well-formed but describes an impossible domain.
    ConfigInvalid,
    /// No domain matches the name, UUID or id.
    NoDomain,
    /// A domain with that name or UUID already exists.
    DomainExists,
    /// The operation is not valid in the domain's current state.
    OperationInvalid,
    /// The caller may not do this (permissions, read-only access, a lock).
    OperationDenied,
    /// The operation was attempted and failed.
    OperationFailed,
    /// QEMU failed to start or misbehaved; the message has its log tail.
    QemuFailed,
    /// A file or socket operation failed.
    Io,
    /// The peer broke the wire protocol.
    Protocol,
    /// A deadline passed before the operation completed.
    Timeout,
    /// The hypervisor lacks a capability the operation needs.
    NoSupport,
    /// An input is larger or deeper than qvirt accepts.
    LimitExceeded,
    /// A host resource the domain needs (a forwarded port, a tap device
    /// name) is already taken by someone else.
    ResourceBusy,
    /// The operation was stopped on request (a job aborted with
    /// `job_abort`).
    OperationAborted,
    /// No such storage pool.
    NoPool,
    /// No such storage volume (by name in a pool, or by path).
    NoVolume,
    /// No such snapshot of the domain.
    NoSnapshot,
    /// No such secret (by UUID or usage), or a secret without a value.
    NoSecret,
    /// The QEMU guest agent did not answer in time (or is not running in
    /// the guest).
    AgentUnresponsive,
    /// An argument names something the domain is not set up for (a guest
    /// agent call on a domain without the agent's channel).
    ArgumentUnsupported,
    /// A code sent by a newer peer that this build does not know.
    Unknown(u32),
}

/// Every known code with its number, the single source of the mapping.
const CODES: &[(ErrorCode, u32)] = &[
    (ErrorCode::Internal, 1),
    (ErrorCode::InvalidArgument, 2),
    (ErrorCode::InvalidXml, 3),
    (ErrorCode::ConfigUnsupported, 4),
    (ErrorCode::ConfigInvalid, 5),
    (ErrorCode::NoDomain, 6),
    (ErrorCode::DomainExists, 7),
    (ErrorCode::OperationInvalid, 8),
    (ErrorCode::OperationDenied, 9),
    (ErrorCode::OperationFailed, 10),
    (ErrorCode::QemuFailed, 11),
    (ErrorCode::Io, 12),
    (ErrorCode::Protocol, 13),
    (ErrorCode::Timeout, 14),
    (ErrorCode::NoSupport, 15),
    (ErrorCode::LimitExceeded, 16),
    (ErrorCode::ResourceBusy, 17),
    (ErrorCode::OperationAborted, 18),
    (ErrorCode::NoPool, 19),
    (ErrorCode::NoVolume, 20),
    (ErrorCode::NoSnapshot, 21),
    (ErrorCode::NoSecret, 22),
    (ErrorCode::AgentUnresponsive, 23),
    (ErrorCode::ArgumentUnsupported, 24),
];

impl ErrorCode {
    /// The stable number of this code.
    pub fn number(self) -> u32 {
        match self {
            ErrorCode::Unknown(n) => n,
            known => CODES
                .iter()
                .find(|(c, _)| *c == known)
                .map(|(_, n)| *n)
                .expect("every known code has a number"),
        }
    }

    /// The code with this number; [`ErrorCode::Unknown`] for any other.
    pub fn from_number(n: u32) -> ErrorCode {
        CODES
            .iter()
            .find(|(_, m)| *m == n)
            .map(|(c, _)| *c)
            .unwrap_or(ErrorCode::Unknown(n))
    }

    /// A short stable name, as the CLI prints it (`no-domain`).
    pub fn name(self) -> &'static str {
        match self {
            ErrorCode::Internal => "internal",
            ErrorCode::InvalidArgument => "invalid-argument",
            ErrorCode::InvalidXml => "invalid-xml",
            ErrorCode::ConfigUnsupported => "config-unsupported",
            ErrorCode::ConfigInvalid => "config-invalid",
            ErrorCode::NoDomain => "no-domain",
            ErrorCode::DomainExists => "domain-exists",
            ErrorCode::OperationInvalid => "operation-invalid",
            ErrorCode::OperationDenied => "operation-denied",
            ErrorCode::OperationFailed => "operation-failed",
            ErrorCode::QemuFailed => "qemu-failed",
            ErrorCode::Io => "io",
            ErrorCode::Protocol => "protocol",
            ErrorCode::Timeout => "timeout",
            ErrorCode::NoSupport => "no-support",
            ErrorCode::LimitExceeded => "limit-exceeded",
            ErrorCode::ResourceBusy => "resource-busy",
            ErrorCode::OperationAborted => "operation-aborted",
            ErrorCode::NoPool => "no-pool",
            ErrorCode::NoVolume => "no-volume",
            ErrorCode::NoSnapshot => "no-snapshot",
            ErrorCode::NoSecret => "no-secret",
            ErrorCode::AgentUnresponsive => "agent-unresponsive",
            ErrorCode::ArgumentUnsupported => "argument-unsupported",
            ErrorCode::Unknown(_) => "unknown",
        }
    }
}

/// A qvirt error: a stable code, a message for people, and, inside the
/// process only, the underlying cause. It displays as the message, then
/// `: ` and the cause when there is one.
#[derive(Debug, thiserror::Error)]
#[error("{message}{}", .source.as_ref().map(|s| format!(": {s}")).unwrap_or_default())]
pub struct Error {
    /// The stable code.
    pub code: ErrorCode,
    /// What failed and what to do, without repeating `source`.
    pub message: String,
    /// The underlying cause; never sent over the wire.
    pub source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl Error {
    /// An error with a code and a message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Error {
        Error {
            code,
            message: message.into(),
            source: None,
        }
    }

    /// An I/O error: `what` says which operation on which path failed.
    pub fn io(what: impl Into<String>, err: std::io::Error) -> Error {
        Error {
            code: ErrorCode::Io,
            message: what.into(),
            source: Some(Box::new(err)),
        }
    }
}

impl From<ModelError> for Error {
    fn from(e: ModelError) -> Error {
        let code = match e.kind {
            ModelErrorKind::InvalidXml => ErrorCode::InvalidXml,
            ModelErrorKind::Unsupported => ErrorCode::ConfigUnsupported,
            ModelErrorKind::Invalid => ErrorCode::ConfigInvalid,
            ModelErrorKind::TooLarge => ErrorCode::LimitExceeded,
        };
        Error::new(code, e.message)
    }
}

/// The result type of every qvirt API.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The error of a call a driver does not offer.
pub(crate) fn unsupported(what: &str) -> Error {
    let message = format!("this connection cannot {what}");
    Error::new(ErrorCode::NoSupport, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_stable_and_round_trip() {
        // The numbers are a wire contract: this list may only grow.
        let expected = [
            "internal",
            "invalid-argument",
            "invalid-xml",
            "config-unsupported",
            "config-invalid",
            "no-domain",
            "domain-exists",
            "operation-invalid",
            "operation-denied",
            "operation-failed",
            "qemu-failed",
            "io",
            "protocol",
            "timeout",
            "no-support",
            "limit-exceeded",
            "resource-busy",
            "operation-aborted",
        ];
        for (i, name) in expected.iter().enumerate() {
            let code = ErrorCode::from_number(i as u32 + 1);
            assert_eq!(code.name(), *name);
            assert_eq!(code.number(), i as u32 + 1);
        }
        assert_eq!(ErrorCode::from_number(0), ErrorCode::Unknown(0));
        assert_eq!(ErrorCode::from_number(9999).number(), 9999);
    }
}
