//! The wire twin of what happened to a domain ([`EventKind`]).
//! Variants are append-only, as in [`super::types`].

use serde::{Deserialize, Serialize};

use super::types::{WireBlockJobKind, WireMetadataKind, WireReason, twin_enum, twin_struct};
use crate::driver::{
    AddressFamily, BlockJobStatus, EventKind, GraphicsAddress, GraphicsEvent, GraphicsPhase,
    IoErrorAction, StateReason, TunableValue, WatchdogFired,
};

/// [`EventKind`]. Variants are append-only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub enum WireEventKind {
    Defined,
    Undefined,
    Started(WireReason),
    Suspended,
    Resumed,
    Shutdown,
    Stopped(WireReason),
    Reset,
    TrayMoved {
        alias: String,
        open: bool,
    },
    PmSuspended {
        disk: bool,
    },
    BlockThreshold {
        dev: String,
        path: Option<String>,
        threshold: u64,
        excess: u64,
    },
    BlockJob {
        dev: String,
        path: Option<String>,
        kind: WireBlockJobKind,
        status: WireBlockJobStatus,
    },
    DeviceAdded {
        alias: String,
    },
    DeviceRemoved {
        alias: String,
    },
    IoError {
        alias: String,
        path: Option<String>,
        action: WireIoErrorAction,
        reason: String,
    },
    RtcChange {
        offset: i64,
    },
    BalloonChange {
        actual_kib: u64,
    },
    AgentLifecycle {
        connected: bool,
    },
    MetadataChange(WireMetadataKind),
    /// A pause for another reason than a user's (`Suspended` is that).
    Paused(WireReason),
    Watchdog {
        action: WireWatchdogFired,
    },
    Graphics {
        phase: WireGraphicsPhase,
        local: WireGraphicsAddress,
        remote: WireGraphicsAddress,
        auth: String,
        subject: Vec<(String, String)>,
    },
    Tunable(Vec<(String, WireTunableValue)>),
    MigrationIteration {
        iteration: u32,
    },
    JobCompleted(super::types::WireCompletedJob),
    MemoryDeviceSizeChange {
        alias: String,
        size_kib: u64,
    },
    DiskChange {
        alias: String,
        old_path: Option<String>,
        new_path: Option<String>,
        dropped: bool,
    },
}

/// A [`TunableValue`]. Variants are append-only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub enum WireTunableValue {
    Text(String),
    Number(u64),
}

impl From<TunableValue> for WireTunableValue {
    fn from(v: TunableValue) -> WireTunableValue {
        match v {
            TunableValue::Text(t) => WireTunableValue::Text(t),
            TunableValue::Number(n) => WireTunableValue::Number(n),
        }
    }
}

impl From<WireTunableValue> for TunableValue {
    fn from(v: WireTunableValue) -> TunableValue {
        match v {
            WireTunableValue::Text(t) => TunableValue::Text(t),
            WireTunableValue::Number(n) => TunableValue::Number(n),
        }
    }
}

/// A [`GraphicsPhase`]. Variants are append-only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub enum WireGraphicsPhase {
    Connect,
    Initialize,
    Disconnect,
}

twin_enum!(GraphicsPhase <=> WireGraphicsPhase { Connect, Initialize, Disconnect });

/// An [`AddressFamily`]. Variants are append-only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub enum WireAddressFamily {
    Ipv4,
    Ipv6,
    Unix,
}

twin_enum!(AddressFamily <=> WireAddressFamily { Ipv4, Ipv6, Unix });

/// A [`GraphicsAddress`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct WireGraphicsAddress {
    pub family: WireAddressFamily,
    pub node: String,
    pub service: String,
}

twin_struct!(GraphicsAddress <=> WireGraphicsAddress { family, node, service });

/// A [`WatchdogFired`]. Variants are append-only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub enum WireWatchdogFired {
    None,
    Pause,
    Reset,
    PowerOff,
    Shutdown,
    Debug,
    InjectNmi,
}

twin_enum!(WatchdogFired <=> WireWatchdogFired { None, Pause, Reset, PowerOff, Shutdown, Debug, InjectNmi });

/// An [`IoErrorAction`]. Variants are append-only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub enum WireIoErrorAction {
    None,
    Pause,
    Report,
}

twin_enum!(IoErrorAction <=> WireIoErrorAction { None, Pause, Report });

/// A [`BlockJobStatus`]. Variants are append-only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub enum WireBlockJobStatus {
    Completed,
    Failed,
    Cancelled,
    Ready,
}

twin_enum!(BlockJobStatus <=> WireBlockJobStatus { Completed, Failed, Cancelled, Ready });

impl From<EventKind> for WireEventKind {
    fn from(k: EventKind) -> WireEventKind {
        match k {
            EventKind::Defined => WireEventKind::Defined,
            EventKind::Undefined => WireEventKind::Undefined,
            EventKind::Started(r) => WireEventKind::Started(r.into()),
            EventKind::Suspended(StateReason::User) => WireEventKind::Suspended,
            EventKind::Suspended(r) => WireEventKind::Paused(r.into()),
            EventKind::Resumed => WireEventKind::Resumed,
            EventKind::Shutdown => WireEventKind::Shutdown,
            EventKind::Stopped(r) => WireEventKind::Stopped(r.into()),
            EventKind::Reset => WireEventKind::Reset,
            EventKind::TrayMoved { alias, open } => WireEventKind::TrayMoved { alias, open },
            EventKind::PmSuspended { disk } => WireEventKind::PmSuspended { disk },
            EventKind::BlockThreshold {
                dev,
                path,
                threshold,
                excess,
            } => WireEventKind::BlockThreshold {
                dev,
                path,
                threshold,
                excess,
            },
            EventKind::BlockJob {
                dev,
                path,
                kind,
                status,
            } => WireEventKind::BlockJob {
                dev,
                path,
                kind: kind.into(),
                status: status.into(),
            },
            EventKind::DeviceAdded { alias } => WireEventKind::DeviceAdded { alias },
            EventKind::DeviceRemoved { alias } => WireEventKind::DeviceRemoved { alias },
            EventKind::IoError {
                alias,
                path,
                action,
                reason,
            } => WireEventKind::IoError {
                alias,
                path,
                action: action.into(),
                reason,
            },
            EventKind::RtcChange { offset } => WireEventKind::RtcChange { offset },
            EventKind::BalloonChange { actual_kib } => WireEventKind::BalloonChange { actual_kib },
            EventKind::AgentLifecycle { connected } => WireEventKind::AgentLifecycle { connected },
            EventKind::MetadataChange(k) => WireEventKind::MetadataChange(k.into()),
            EventKind::Watchdog { action } => WireEventKind::Watchdog {
                action: action.into(),
            },
            EventKind::MigrationIteration { iteration } => {
                WireEventKind::MigrationIteration { iteration }
            }
            EventKind::JobCompleted(job) => WireEventKind::JobCompleted((*job).into()),
            EventKind::MemoryDeviceSizeChange { alias, size_kib } => {
                WireEventKind::MemoryDeviceSizeChange { alias, size_kib }
            }
            EventKind::DiskChange {
                alias,
                old_path,
                new_path,
                dropped,
            } => WireEventKind::DiskChange {
                alias,
                old_path,
                new_path,
                dropped,
            },
            EventKind::Tunable(params) => {
                WireEventKind::Tunable(params.into_iter().map(|(k, v)| (k, v.into())).collect())
            }
            EventKind::Graphics(g) => {
                let GraphicsEvent {
                    phase,
                    local,
                    remote,
                    auth,
                    subject,
                } = *g;
                WireEventKind::Graphics {
                    phase: phase.into(),
                    local: local.into(),
                    remote: remote.into(),
                    auth,
                    subject,
                }
            }
        }
    }
}

impl From<WireEventKind> for EventKind {
    fn from(k: WireEventKind) -> EventKind {
        match k {
            WireEventKind::Defined => EventKind::Defined,
            WireEventKind::Undefined => EventKind::Undefined,
            WireEventKind::Started(r) => EventKind::Started(r.into()),
            WireEventKind::Suspended => EventKind::Suspended(StateReason::User),
            WireEventKind::Paused(r) => EventKind::Suspended(r.into()),
            WireEventKind::Resumed => EventKind::Resumed,
            WireEventKind::Shutdown => EventKind::Shutdown,
            WireEventKind::Stopped(r) => EventKind::Stopped(r.into()),
            WireEventKind::Reset => EventKind::Reset,
            WireEventKind::TrayMoved { alias, open } => EventKind::TrayMoved { alias, open },
            WireEventKind::PmSuspended { disk } => EventKind::PmSuspended { disk },
            WireEventKind::BlockThreshold {
                dev,
                path,
                threshold,
                excess,
            } => EventKind::BlockThreshold {
                dev,
                path,
                threshold,
                excess,
            },
            WireEventKind::BlockJob {
                dev,
                path,
                kind,
                status,
            } => EventKind::BlockJob {
                dev,
                path,
                kind: kind.into(),
                status: status.into(),
            },
            WireEventKind::DeviceAdded { alias } => EventKind::DeviceAdded { alias },
            WireEventKind::DeviceRemoved { alias } => EventKind::DeviceRemoved { alias },
            WireEventKind::IoError {
                alias,
                path,
                action,
                reason,
            } => EventKind::IoError {
                alias,
                path,
                action: action.into(),
                reason,
            },
            WireEventKind::RtcChange { offset } => EventKind::RtcChange { offset },
            WireEventKind::BalloonChange { actual_kib } => EventKind::BalloonChange { actual_kib },
            WireEventKind::AgentLifecycle { connected } => EventKind::AgentLifecycle { connected },
            WireEventKind::MetadataChange(k) => EventKind::MetadataChange(k.into()),
            WireEventKind::Watchdog { action } => EventKind::Watchdog {
                action: action.into(),
            },
            WireEventKind::MigrationIteration { iteration } => {
                EventKind::MigrationIteration { iteration }
            }
            WireEventKind::JobCompleted(job) => EventKind::JobCompleted(Box::new(job.into())),
            WireEventKind::MemoryDeviceSizeChange { alias, size_kib } => {
                EventKind::MemoryDeviceSizeChange { alias, size_kib }
            }
            WireEventKind::DiskChange {
                alias,
                old_path,
                new_path,
                dropped,
            } => EventKind::DiskChange {
                alias,
                old_path,
                new_path,
                dropped,
            },
            WireEventKind::Tunable(params) => {
                EventKind::Tunable(params.into_iter().map(|(k, v)| (k, v.into())).collect())
            }
            WireEventKind::Graphics {
                phase,
                local,
                remote,
                auth,
                subject,
            } => EventKind::Graphics(Box::new(GraphicsEvent {
                phase: phase.into(),
                local: local.into(),
                remote: remote.into(),
                auth,
                subject,
            })),
        }
    }
}
