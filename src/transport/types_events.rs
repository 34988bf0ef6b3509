//! The wire twin of what happened to a domain ([`EventKind`]).
//! Variants are append-only, as in [`super::types`].

use serde::{Deserialize, Serialize};

use super::types::WireReason;
use crate::driver::EventKind;

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
}

impl From<EventKind> for WireEventKind {
    fn from(k: EventKind) -> WireEventKind {
        match k {
            EventKind::Defined => WireEventKind::Defined,
            EventKind::Undefined => WireEventKind::Undefined,
            EventKind::Started(r) => WireEventKind::Started(r.into()),
            EventKind::Suspended => WireEventKind::Suspended,
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
        }
    }
}

impl From<WireEventKind> for EventKind {
    fn from(k: WireEventKind) -> EventKind {
        match k {
            WireEventKind::Defined => EventKind::Defined,
            WireEventKind::Undefined => EventKind::Undefined,
            WireEventKind::Started(r) => EventKind::Started(r.into()),
            WireEventKind::Suspended => EventKind::Suspended,
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
        }
    }
}
