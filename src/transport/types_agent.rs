//! The wire twins of the guest agent's call and answer
//! ([`AgentCall`], [`AgentAnswer`]). Variants are append-only, as in
//! [`super::types`].

use serde::{Deserialize, Serialize};

use crate::driver::{AgentAnswer, AgentCall, GuestFsInfo, GuestValue, PmTarget};
use crate::error::{Error, ErrorCode, Result};

/// An [`AgentCall`].
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum WireAgentCall {
    Hostname,
    GetTime,
    SetTime(Option<(i64, u32)>),
    FsFreeze(Vec<String>),
    FsThaw,
    Power {
        reboot: bool,
    },
    GuestInfo(u32),
    SetUserPassword {
        user: String,
        password: String,
        crypted: bool,
    },
    SshKeys(String),
    FsInfo,
    SetSshKeys {
        user: String,
        keys: Vec<String>,
        append: bool,
        remove: bool,
    },
    Command {
        json: String,
        timeout: i32,
    },
    SetResponseTimeout(i32),
    FsTrim {
        minimum: u64,
    },
    GuestVcpus,
    SetGuestVcpus {
        cpumap: String,
        enable: bool,
    },
    /// libvirt's number of the target (`VIR_NODE_SUSPEND_TARGET_*`).
    PmSuspend(u32),
}

/// A [`GuestValue`].
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum WireGuestValue {
    Text(String),
    Int(i32),
    UInt(u32),
    ULLong(u64),
    Bool(bool),
}

/// An [`AgentAnswer`].
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum WireAgentAnswer {
    Done,
    Text(String),
    Time(i64, u32),
    Count(u32),
    Fields(Vec<(String, WireGuestValue)>),
    Texts(Vec<String>),
    /// (mount point, name, type, disk targets) of each file system.
    FileSystems(Vec<(String, String, String, Vec<String>)>),
    Reply(Option<String>),
}

impl TryFrom<AgentCall> for WireAgentCall {
    type Error = Error;
    fn try_from(c: AgentCall) -> Result<WireAgentCall> {
        #[allow(unreachable_patterns)]
        Ok(match c {
            AgentCall::Hostname => WireAgentCall::Hostname,
            AgentCall::GetTime => WireAgentCall::GetTime,
            AgentCall::SetTime(t) => WireAgentCall::SetTime(t),
            AgentCall::FsFreeze(m) => WireAgentCall::FsFreeze(m),
            AgentCall::FsThaw => WireAgentCall::FsThaw,
            AgentCall::Power { reboot } => WireAgentCall::Power { reboot },
            AgentCall::GuestInfo(t) => WireAgentCall::GuestInfo(t),
            AgentCall::SetUserPassword {
                user,
                password,
                crypted,
            } => WireAgentCall::SetUserPassword {
                user,
                password,
                crypted,
            },
            AgentCall::SshKeys(u) => WireAgentCall::SshKeys(u),
            AgentCall::FsInfo => WireAgentCall::FsInfo,
            AgentCall::SetSshKeys {
                user,
                keys,
                append,
                remove,
            } => WireAgentCall::SetSshKeys {
                user,
                keys,
                append,
                remove,
            },
            AgentCall::Command { json, timeout } => WireAgentCall::Command { json, timeout },
            AgentCall::SetResponseTimeout(t) => WireAgentCall::SetResponseTimeout(t),
            AgentCall::FsTrim { minimum } => WireAgentCall::FsTrim { minimum },
            AgentCall::GuestVcpus => WireAgentCall::GuestVcpus,
            AgentCall::SetGuestVcpus { cpumap, enable } => {
                WireAgentCall::SetGuestVcpus { cpumap, enable }
            }
            AgentCall::PmSuspend(t) => WireAgentCall::PmSuspend(t as u32),
            other => {
                return Err(Error::new(
                    ErrorCode::NoSupport,
                    format!("the protocol cannot carry the guest agent call {other:?}"),
                ));
            }
        })
    }
}

impl TryFrom<WireAgentCall> for AgentCall {
    type Error = Error;
    fn try_from(c: WireAgentCall) -> Result<AgentCall> {
        Ok(match c {
            WireAgentCall::Hostname => AgentCall::Hostname,
            WireAgentCall::GetTime => AgentCall::GetTime,
            WireAgentCall::SetTime(t) => AgentCall::SetTime(t),
            WireAgentCall::FsFreeze(m) => AgentCall::FsFreeze(m),
            WireAgentCall::FsThaw => AgentCall::FsThaw,
            WireAgentCall::Power { reboot } => AgentCall::Power { reboot },
            WireAgentCall::GuestInfo(t) => AgentCall::GuestInfo(t),
            WireAgentCall::SetUserPassword {
                user,
                password,
                crypted,
            } => AgentCall::SetUserPassword {
                user,
                password,
                crypted,
            },
            WireAgentCall::SshKeys(u) => AgentCall::SshKeys(u),
            WireAgentCall::FsInfo => AgentCall::FsInfo,
            WireAgentCall::SetSshKeys {
                user,
                keys,
                append,
                remove,
            } => AgentCall::SetSshKeys {
                user,
                keys,
                append,
                remove,
            },
            WireAgentCall::Command { json, timeout } => AgentCall::Command { json, timeout },
            WireAgentCall::SetResponseTimeout(t) => AgentCall::SetResponseTimeout(t),
            WireAgentCall::FsTrim { minimum } => AgentCall::FsTrim { minimum },
            WireAgentCall::GuestVcpus => AgentCall::GuestVcpus,
            WireAgentCall::SetGuestVcpus { cpumap, enable } => {
                AgentCall::SetGuestVcpus { cpumap, enable }
            }
            WireAgentCall::PmSuspend(t) => AgentCall::PmSuspend(PmTarget::from_number(t)?),
        })
    }
}

impl TryFrom<AgentAnswer> for WireAgentAnswer {
    type Error = Error;
    fn try_from(a: AgentAnswer) -> Result<WireAgentAnswer> {
        #[allow(unreachable_patterns)]
        Ok(match a {
            AgentAnswer::Done => WireAgentAnswer::Done,
            AgentAnswer::Text(s) => WireAgentAnswer::Text(s),
            AgentAnswer::Time(s, n) => WireAgentAnswer::Time(s, n),
            AgentAnswer::Count(n) => WireAgentAnswer::Count(n),
            AgentAnswer::Fields(f) => WireAgentAnswer::Fields(
                f.into_iter()
                    .map(|(k, v)| Ok((k, v.try_into()?)))
                    .collect::<Result<_>>()?,
            ),
            AgentAnswer::Texts(t) => WireAgentAnswer::Texts(t),
            AgentAnswer::FileSystems(f) => WireAgentAnswer::FileSystems(
                f.into_iter()
                    .map(|f| (f.mountpoint, f.name, f.fstype, f.disks))
                    .collect(),
            ),
            AgentAnswer::Reply(r) => WireAgentAnswer::Reply(r),
            other => {
                return Err(Error::new(
                    ErrorCode::NoSupport,
                    format!("the protocol cannot carry the guest agent answer {other:?}"),
                ));
            }
        })
    }
}

impl From<WireAgentAnswer> for AgentAnswer {
    fn from(a: WireAgentAnswer) -> AgentAnswer {
        match a {
            WireAgentAnswer::Done => AgentAnswer::Done,
            WireAgentAnswer::Text(s) => AgentAnswer::Text(s),
            WireAgentAnswer::Time(s, n) => AgentAnswer::Time(s, n),
            WireAgentAnswer::Count(n) => AgentAnswer::Count(n),
            WireAgentAnswer::Fields(f) => {
                AgentAnswer::Fields(f.into_iter().map(|(k, v)| (k, v.into())).collect())
            }
            WireAgentAnswer::Texts(t) => AgentAnswer::Texts(t),
            WireAgentAnswer::FileSystems(f) => AgentAnswer::FileSystems(
                f.into_iter()
                    .map(|(m, n, t, d)| GuestFsInfo::new(m, n, t, d))
                    .collect(),
            ),
            WireAgentAnswer::Reply(r) => AgentAnswer::Reply(r),
        }
    }
}

impl TryFrom<GuestValue> for WireGuestValue {
    type Error = Error;
    fn try_from(v: GuestValue) -> Result<WireGuestValue> {
        #[allow(unreachable_patterns)]
        Ok(match v {
            GuestValue::Text(s) => WireGuestValue::Text(s),
            GuestValue::Int(n) => WireGuestValue::Int(n),
            GuestValue::UInt(n) => WireGuestValue::UInt(n),
            GuestValue::ULLong(n) => WireGuestValue::ULLong(n),
            GuestValue::Bool(b) => WireGuestValue::Bool(b),
            other => {
                return Err(Error::new(
                    ErrorCode::NoSupport,
                    format!("the protocol cannot carry the guest value {other:?}"),
                ));
            }
        })
    }
}

impl From<WireGuestValue> for GuestValue {
    fn from(v: WireGuestValue) -> GuestValue {
        match v {
            WireGuestValue::Text(s) => GuestValue::Text(s),
            WireGuestValue::Int(n) => GuestValue::Int(n),
            WireGuestValue::UInt(n) => GuestValue::UInt(n),
            WireGuestValue::ULLong(n) => GuestValue::ULLong(n),
            WireGuestValue::Bool(b) => GuestValue::Bool(b),
        }
    }
}
