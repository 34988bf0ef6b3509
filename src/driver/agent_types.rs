//! The value types of the guest agent's calls
//! ([`Driver::agent_call`](super::Driver::agent_call)): what is asked and
//! what comes back.

use crate::error::{Error, ErrorCode, Result};

/// One call the QEMU guest agent answers.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentCall {
    /// The guest's host name: [`AgentAnswer::Text`].
    Hostname,
    /// The guest's clock: [`AgentAnswer::Time`].
    GetTime,
    /// Sets the guest's clock to (seconds, nanoseconds) since the epoch,
    /// or from its own hardware clock with `None`: [`AgentAnswer::Done`].
    SetTime(Option<(i64, u32)>),
    /// Freezes the file systems at these mount points (all when empty):
    /// [`AgentAnswer::Count`].
    FsFreeze(Vec<String>),
    /// Thaws every frozen file system: [`AgentAnswer::Count`].
    FsThaw,
    /// Powers the guest off (or reboots it) from inside:
    /// [`AgentAnswer::Done`].
    Power {
        /// Reboot rather than power off.
        reboot: bool,
    },
}

/// What an [`AgentCall`] returns.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentAnswer {
    /// Nothing more than success.
    Done,
    /// A text (a host name).
    Text(String),
    /// Seconds and nanoseconds since the epoch.
    Time(i64, u32),
    /// A number of file systems.
    Count(u32),
}

impl AgentAnswer {
    /// The text of [`AgentAnswer::Text`].
    pub fn string(self) -> Result<String> {
        match self {
            AgentAnswer::Text(s) => Ok(s),
            other => Err(mismatch(&other)),
        }
    }
    /// The time of [`AgentAnswer::Time`].
    pub fn time(self) -> Result<(i64, u32)> {
        match self {
            AgentAnswer::Time(s, n) => Ok((s, n)),
            other => Err(mismatch(&other)),
        }
    }
    /// The number of [`AgentAnswer::Count`].
    pub fn count(self) -> Result<u32> {
        match self {
            AgentAnswer::Count(n) => Ok(n),
            other => Err(mismatch(&other)),
        }
    }
}

fn mismatch(answer: &AgentAnswer) -> Error {
    Error::new(
        ErrorCode::Protocol,
        format!("unexpected guest agent answer {answer:?}"),
    )
}
