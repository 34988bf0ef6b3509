//! qvirt's values in libvirt's numbers: domain states and their
//! reasons, lifecycle events and their details, the filters of
//! `virConnectListAllDomains`, and the flag bits of the calls qvirt
//! serves. Both ways, so that the server and the client agree.

use crate::driver::{
    AddressFamily, BlockJobKind, BlockJobStatus, DomainInfo, DomainState, EventKind, GraphicsPhase,
    IoErrorAction, StateReason, WatchdogFired,
};

/// `virDomainState`.
pub mod state {
    #![allow(missing_docs)]
    pub const NOSTATE: i32 = 0;
    pub const RUNNING: i32 = 1;
    pub const BLOCKED: i32 = 2;
    pub const PAUSED: i32 = 3;
    pub const SHUTDOWN: i32 = 4;
    pub const SHUTOFF: i32 = 5;
    pub const CRASHED: i32 = 6;
    pub const PMSUSPENDED: i32 = 7;
}

/// libvirt's number for a state.
pub fn state_code(s: DomainState) -> i32 {
    match s {
        DomainState::Running => state::RUNNING,
        DomainState::Paused => state::PAUSED,
        DomainState::Shutoff => state::SHUTOFF,
        DomainState::Shutdown => state::SHUTDOWN,
        DomainState::Crashed => state::CRASHED,
        DomainState::PmSuspended => state::PMSUSPENDED,
    }
}

/// The state libvirt's number names (`BLOCKED`, libvirt's word for a
/// running vCPU waiting on I/O, is running; `NOSTATE` is taken as shut
/// off).
pub fn state_of(code: i32) -> DomainState {
    match code {
        state::RUNNING | state::BLOCKED => DomainState::Running,
        state::PAUSED => DomainState::Paused,
        state::SHUTDOWN => DomainState::Shutdown,
        state::CRASHED => DomainState::Crashed,
        state::PMSUSPENDED => DomainState::PmSuspended,
        _ => DomainState::Shutoff,
    }
}

/// The reasons qvirt gives, per state, with libvirt's number for each
/// (`virDomainRunningReason`, `virDomainPausedReason`, ...). Any other
/// pair is libvirt's "unknown" (0), read back as [`StateReason::Unknown`].
const REASONS: &[(DomainState, StateReason, i32)] = &[
    (DomainState::Running, StateReason::Booted, 1),
    (DomainState::Running, StateReason::Restored, 3),
    (DomainState::Running, StateReason::Unpaused, 5),
    (DomainState::Running, StateReason::Wakeup, 8),
    (DomainState::Paused, StateReason::User, 1),
    (DomainState::Paused, StateReason::Saved, 3),
    (DomainState::Paused, StateReason::IoError, 5),
    (DomainState::Paused, StateReason::Watchdog, 6),
    (DomainState::Paused, StateReason::ShuttingDown, 8),
    (DomainState::Paused, StateReason::Crashed, 10),
    (DomainState::Shutdown, StateReason::User, 1),
    (DomainState::Shutoff, StateReason::Shutdown, 1),
    (DomainState::Shutoff, StateReason::Destroyed, 2),
    (DomainState::Shutoff, StateReason::Crashed, 3),
    (DomainState::Shutoff, StateReason::Saved, 5),
    (DomainState::Shutoff, StateReason::Failed, 6),
    (DomainState::Crashed, StateReason::Crashed, 1),
];

/// libvirt's number for `reason` in `state`.
pub fn reason_code(state: DomainState, reason: StateReason) -> i32 {
    REASONS
        .iter()
        .find(|(s, r, _)| *s == state && *r == reason)
        .map_or(0, |(_, _, n)| *n)
}

/// The reason libvirt's number names in `state`.
pub fn reason_of(state: DomainState, code: i32) -> StateReason {
    REASONS
        .iter()
        .find(|(s, _, n)| *s == state && *n == code)
        .map_or(StateReason::Unknown, |(_, r, _)| *r)
}

/// `virDomainEventID`s.
pub mod event_id {
    #![allow(missing_docs)]
    pub const LIFECYCLE: i32 = 0;
    pub const REBOOT: i32 = 1;
    pub const TRAY_CHANGE: i32 = 10;
    pub const RTC_CHANGE: i32 = 2;
    pub const IO_ERROR: i32 = 4;
    pub const IO_ERROR_REASON: i32 = 6;
    pub const BLOCK_JOB: i32 = 8;
    pub const BALLOON_CHANGE: i32 = 13;
    pub const DEVICE_REMOVED: i32 = 15;
    pub const BLOCK_JOB_2: i32 = 16;
    pub const AGENT_LIFECYCLE: i32 = 18;
    pub const DEVICE_ADDED: i32 = 19;
    pub const METADATA_CHANGE: i32 = 23;
    pub const BLOCK_THRESHOLD: i32 = 24;
    pub const WATCHDOG: i32 = 3;
    pub const PMWAKEUP: i32 = 11;
    pub const PMSUSPEND: i32 = 12;
    pub const PMSUSPEND_DISK: i32 = 14;
    pub const GRAPHICS: i32 = 5;
    pub const TUNABLE: i32 = 17;
    pub const MIGRATION_ITERATION: i32 = 20;
    pub const JOB_COMPLETED: i32 = 21;
    pub const MEMORY_DEVICE_SIZE_CHANGE: i32 = 26;
    pub const DISK_CHANGE: i32 = 9;
    /// The events qvirtd sends: a subscription to another is refused
    /// rather than left silent.
    pub const SENT: [i32; 24] = [
        LIFECYCLE,
        REBOOT,
        RTC_CHANGE,
        IO_ERROR,
        IO_ERROR_REASON,
        BLOCK_JOB,
        TRAY_CHANGE,
        BALLOON_CHANGE,
        DEVICE_REMOVED,
        BLOCK_JOB_2,
        AGENT_LIFECYCLE,
        DEVICE_ADDED,
        METADATA_CHANGE,
        BLOCK_THRESHOLD,
        WATCHDOG,
        PMWAKEUP,
        PMSUSPEND,
        PMSUSPEND_DISK,
        GRAPHICS,
        TUNABLE,
        MIGRATION_ITERATION,
        JOB_COMPLETED,
        MEMORY_DEVICE_SIZE_CHANGE,
        DISK_CHANGE,
    ];
    /// The events that only repeat another ([`super::repeat_of`]): a
    /// client that hears every event subscribes to the first telling.
    pub const REPEATS: [i32; 5] = [BLOCK_JOB, IO_ERROR, PMWAKEUP, PMSUSPEND, PMSUSPEND_DISK];
    /// One past the last event id libvirt 9.0 knows.
    pub const LAST: i32 = 27;
}

/// The procedures of the event messages sent to a callback
/// (`REMOTE_PROC_DOMAIN_EVENT_CALLBACK_*`), for the server that sends
/// them and the client that reads them.
pub mod event_proc {
    #![allow(missing_docs)]
    pub const LIFECYCLE: i32 = 318;
    pub const REBOOT: i32 = 319;
    pub const TRAY_CHANGE: i32 = 328;
    pub const BLOCK_JOB: i32 = 326;
    pub const BLOCK_JOB_2: i32 = 339;
    pub const DEVICE_REMOVED: i32 = 333;
    pub const DEVICE_ADDED: i32 = 354;
    pub const IO_ERROR: i32 = 322;
    pub const RTC_CHANGE: i32 = 320;
    pub const BALLOON_CHANGE: i32 = 331;
    pub const AGENT_LIFECYCLE: i32 = 348;
    pub const METADATA_CHANGE: i32 = 379;
    pub const IO_ERROR_REASON: i32 = 324;
    pub const WATCHDOG: i32 = 321;
    pub const PMWAKEUP: i32 = 329;
    pub const PMSUSPEND: i32 = 330;
    pub const PMSUSPEND_DISK: i32 = 332;
    pub const GRAPHICS: i32 = 323;
    pub const TUNABLE: i32 = 346;
    pub const MIGRATION_ITERATION: i32 = 359;
    pub const JOB_COMPLETED: i32 = 363;
    /// `REMOTE_PROC_DOMAIN_EVENT_MEMORY_DEVICE_SIZE_CHANGE`, which names
    /// its callback too.
    pub const MEMORY_DEVICE_SIZE_CHANGE: i32 = 438;
    pub const DISK_CHANGE: i32 = 327;
    /// `REMOTE_PROC_DOMAIN_EVENT_BLOCK_THRESHOLD`: libvirt has no
    /// separate callback form of it, the message names its callback.
    pub const BLOCK_THRESHOLD: i32 = 385;
}

/// `virDomainEventTrayChangeType`.
pub mod tray {
    #![allow(missing_docs)]
    pub const OPEN: i32 = 0;
    pub const CLOSE: i32 = 1;
}

/// `virDomainEventType`s.
pub mod event {
    #![allow(missing_docs)]
    pub const DEFINED: i32 = 0;
    pub const UNDEFINED: i32 = 1;
    pub const STARTED: i32 = 2;
    pub const SUSPENDED: i32 = 3;
    pub const RESUMED: i32 = 4;
    pub const STOPPED: i32 = 5;
    pub const SHUTDOWN: i32 = 6;
    pub const PMSUSPENDED: i32 = 7;
}

/// The stop details (`virDomainEventStoppedDetailType`) with qvirt's
/// reasons.
const STOPPED: &[(StateReason, i32)] = &[
    (StateReason::Shutdown, 0),
    (StateReason::Destroyed, 1),
    (StateReason::Crashed, 2),
    (StateReason::Saved, 4),
    (StateReason::Failed, 5),
];

/// The pause details (`virDomainEventSuspendedDetailType`): a user's
/// pause (and any other) is `PAUSED`.
const SUSPENDED: &[(StateReason, i32)] = &[
    (StateReason::User, 0),
    (StateReason::IoError, 2),
    (StateReason::Watchdog, 3),
];

/// The start details (`virDomainEventStartedDetailType`).
const STARTED: &[(StateReason, i32)] = &[
    (StateReason::Booted, 0),
    (StateReason::Restored, 2),
    (StateReason::Wakeup, 3),
];

/// What an event is in libvirt's terms: the event id of the callback it
/// goes to, then `(event, detail)` for a lifecycle event, or the reason
/// (`tray::OPEN`, `tray::CLOSE`) and 0 for a tray change, 0 and 0 for a
/// block threshold (its message carries the rest).
pub fn event_code(kind: &EventKind) -> (i32, i32, i32) {
    let detail = |table: &[(StateReason, i32)], r: StateReason| {
        table.iter().find(|(x, _)| *x == r).map_or(0, |(_, n)| *n)
    };
    match kind {
        EventKind::Defined => (event_id::LIFECYCLE, event::DEFINED, 0),
        EventKind::Undefined => (event_id::LIFECYCLE, event::UNDEFINED, 0),
        EventKind::Started(r) => (event_id::LIFECYCLE, event::STARTED, detail(STARTED, *r)),
        EventKind::Suspended(r) => (event_id::LIFECYCLE, event::SUSPENDED, detail(SUSPENDED, *r)),
        EventKind::Resumed => (event_id::LIFECYCLE, event::RESUMED, 0),
        EventKind::Shutdown => (event_id::LIFECYCLE, event::SHUTDOWN, 0),
        EventKind::Stopped(r) => (event_id::LIFECYCLE, event::STOPPED, detail(STOPPED, *r)),
        EventKind::Reset => (event_id::REBOOT, 0, 0),
        EventKind::TrayMoved { open, .. } => {
            let reason = if *open { tray::OPEN } else { tray::CLOSE };
            (event_id::TRAY_CHANGE, reason, 0)
        }
        EventKind::PmSuspended { disk } => {
            (event_id::LIFECYCLE, event::PMSUSPENDED, i32::from(*disk))
        }
        EventKind::BlockThreshold { .. } => (event_id::BLOCK_THRESHOLD, 0, 0),
        EventKind::BlockJob { kind, status, .. } => {
            (event_id::BLOCK_JOB_2, job_type(*kind), job_status(*status))
        }
        EventKind::DeviceAdded { .. } => (event_id::DEVICE_ADDED, 0, 0),
        EventKind::DeviceRemoved { .. } => (event_id::DEVICE_REMOVED, 0, 0),
        EventKind::IoError { action, .. } => (event_id::IO_ERROR_REASON, io_action(*action), 0),
        EventKind::RtcChange { .. } => (event_id::RTC_CHANGE, 0, 0),
        EventKind::BalloonChange { .. } => (event_id::BALLOON_CHANGE, 0, 0),
        // State 1 connected, 2 disconnected; reason 2: the channel.
        EventKind::AgentLifecycle { connected } => {
            (event_id::AGENT_LIFECYCLE, if *connected { 1 } else { 2 }, 2)
        }
        EventKind::MetadataChange(kind) => {
            let code = match kind {
                crate::driver::MetadataKind::Description => 0,
                crate::driver::MetadataKind::Title => 1,
                crate::driver::MetadataKind::Element { .. } => 2,
            };
            (event_id::METADATA_CHANGE, code, 0)
        }
        EventKind::Watchdog { action } => (event_id::WATCHDOG, watchdog_code(*action), 0),
        EventKind::Graphics(g) => (event_id::GRAPHICS, graphics_phase(g.phase), 0),
        EventKind::Tunable(_) => (event_id::TUNABLE, 0, 0),
        EventKind::JobCompleted(_) => (event_id::JOB_COMPLETED, 0, 0),
        EventKind::MemoryDeviceSizeChange { .. } => (event_id::MEMORY_DEVICE_SIZE_CHANGE, 0, 0),
        // `virDomainEventDiskChangeReason`: 0 missing on start (the
        // drive emptied), 1 dropped.
        EventKind::DiskChange { dropped, .. } => (event_id::DISK_CHANGE, i32::from(*dropped), 0),
        EventKind::MigrationIteration { iteration } => (
            event_id::MIGRATION_ITERATION,
            i32::try_from(*iteration).unwrap_or(i32::MAX),
            0,
        ),
    }
}

/// The event id of the second telling libvirt gives an event, besides
/// the one [`event_code`] names: a block job's by the disk's target
/// (`BLOCK_JOB_2`) also by its file (`BLOCK_JOB`, a local disk's only),
/// an I/O error's with its reason also without it, a guest's sleep and
/// wake-up (lifecycle) also as a power management event.
pub fn repeat_of(kind: &EventKind) -> Option<i32> {
    match kind {
        EventKind::BlockJob { path: Some(_), .. } => Some(event_id::BLOCK_JOB),
        EventKind::IoError { .. } => Some(event_id::IO_ERROR),
        EventKind::PmSuspended { disk: false } => Some(event_id::PMSUSPEND),
        EventKind::PmSuspended { disk: true } => Some(event_id::PMSUSPEND_DISK),
        EventKind::Started(StateReason::Wakeup) => Some(event_id::PMWAKEUP),
        _ => None,
    }
}

/// libvirt's `virDomainEventWatchdogAction` of a fired watchdog's.
pub fn watchdog_code(action: WatchdogFired) -> i32 {
    WatchdogFired::ALL
        .iter()
        .position(|a| *a == action)
        .map_or(0, |i| i as i32)
}

/// The fired watchdog's action of libvirt's number.
pub fn watchdog_of(n: i32) -> WatchdogFired {
    usize::try_from(n)
        .ok()
        .and_then(|i| WatchdogFired::ALL.get(i).copied())
        .unwrap_or(WatchdogFired::None)
}

/// libvirt's `virDomainEventGraphicsPhase`.
pub fn graphics_phase(phase: GraphicsPhase) -> i32 {
    match phase {
        GraphicsPhase::Connect => 0,
        GraphicsPhase::Initialize => 1,
        GraphicsPhase::Disconnect => 2,
    }
}

/// The phase of libvirt's number.
pub fn graphics_phase_of(n: i32) -> GraphicsPhase {
    match n {
        0 => GraphicsPhase::Connect,
        1 => GraphicsPhase::Initialize,
        _ => GraphicsPhase::Disconnect,
    }
}

/// libvirt's `virDomainEventGraphicsAddressType`.
pub fn address_family(family: AddressFamily) -> i32 {
    match family {
        AddressFamily::Ipv4 => 0,
        AddressFamily::Ipv6 => 1,
        AddressFamily::Unix => 2,
    }
}

/// The family of libvirt's number.
pub fn address_family_of(n: i32) -> AddressFamily {
    match n {
        1 => AddressFamily::Ipv6,
        2 => AddressFamily::Unix,
        _ => AddressFamily::Ipv4,
    }
}

/// libvirt's `virDomainEventIOErrorAction` of a qvirt one.
pub fn io_action(action: IoErrorAction) -> i32 {
    match action {
        IoErrorAction::None => 0,
        IoErrorAction::Pause => 1,
        IoErrorAction::Report => 2,
    }
}

/// The qvirt action of libvirt's `virDomainEventIOErrorAction`.
pub fn io_action_of(n: i32) -> IoErrorAction {
    match n {
        1 => IoErrorAction::Pause,
        2 => IoErrorAction::Report,
        _ => IoErrorAction::None,
    }
}

/// libvirt's `virDomainBlockJobType` of a qvirt block job.
pub fn job_type(kind: BlockJobKind) -> i32 {
    match kind {
        BlockJobKind::Pull => 1,
        BlockJobKind::Copy => 2,
        BlockJobKind::Commit => 3,
        BlockJobKind::ActiveCommit => 4,
    }
}

/// The qvirt block job of libvirt's `virDomainBlockJobType`.
pub fn job_kind(t: i32) -> Option<BlockJobKind> {
    [
        BlockJobKind::Pull,
        BlockJobKind::Copy,
        BlockJobKind::Commit,
        BlockJobKind::ActiveCommit,
    ]
    .into_iter()
    .find(|k| job_type(*k) == t)
}

/// libvirt's `virConnectDomainEventBlockJobStatus` of a qvirt one.
pub fn job_status(status: BlockJobStatus) -> i32 {
    match status {
        BlockJobStatus::Completed => 0,
        BlockJobStatus::Failed => 1,
        BlockJobStatus::Cancelled => 2,
        BlockJobStatus::Ready => 3,
    }
}

/// The qvirt status of libvirt's `virConnectDomainEventBlockJobStatus`.
pub fn status_of_job(s: i32) -> Option<BlockJobStatus> {
    [
        BlockJobStatus::Completed,
        BlockJobStatus::Failed,
        BlockJobStatus::Cancelled,
        BlockJobStatus::Ready,
    ]
    .into_iter()
    .find(|x| job_status(*x) == s)
}

/// The qvirt event a libvirt lifecycle event is; `None` for one qvirt has
/// no word for (a crash report, a pmsuspend).
pub fn lifecycle_kind(event: i32, detail: i32) -> Option<EventKind> {
    let reason = |table: &[(StateReason, i32)]| {
        table
            .iter()
            .find(|(_, n)| *n == detail)
            .map_or(StateReason::Unknown, |(r, _)| *r)
    };
    Some(match event {
        event::DEFINED => EventKind::Defined,
        event::UNDEFINED => EventKind::Undefined,
        event::STARTED => EventKind::Started(reason(STARTED)),
        event::SUSPENDED => EventKind::Suspended(reason(SUSPENDED)),
        event::RESUMED => EventKind::Resumed,
        event::STOPPED => EventKind::Stopped(reason(STOPPED)),
        event::SHUTDOWN => EventKind::Shutdown,
        event::PMSUSPENDED => EventKind::PmSuspended { disk: detail == 1 },
        _ => return None,
    })
}

/// `virConnectListAllDomainsFlags`.
pub mod list {
    #![allow(missing_docs)]
    pub const ACTIVE: u32 = 1 << 0;
    pub const INACTIVE: u32 = 1 << 1;
    pub const PERSISTENT: u32 = 1 << 2;
    pub const TRANSIENT: u32 = 1 << 3;
    pub const RUNNING: u32 = 1 << 4;
    pub const PAUSED: u32 = 1 << 5;
    pub const SHUTOFF: u32 = 1 << 6;
    pub const OTHER: u32 = 1 << 7;
    pub const MANAGEDSAVE: u32 = 1 << 8;
    pub const NO_MANAGEDSAVE: u32 = 1 << 9;
    pub const AUTOSTART: u32 = 1 << 10;
    pub const NO_AUTOSTART: u32 = 1 << 11;
    pub const HAS_SNAPSHOT: u32 = 1 << 12;
    pub const NO_SNAPSHOT: u32 = 1 << 13;
    pub const HAS_CHECKPOINT: u32 = 1 << 14;
    pub const NO_CHECKPOINT: u32 = 1 << 15;
    /// Every filter qvirt applies.
    pub const KNOWN: u32 = (1 << 12) - 1;
}

/// Whether a domain with `info` passes the filters of `flags` (each pair
/// of a group, or none of it, lets every domain through, as libvirt's
/// `virDomainObjListFilter` does).
pub fn list_filter(flags: u32, info: &DomainInfo) -> bool {
    let group = |a: u32, b: u32, is_a: bool| {
        let want = flags & (a | b);
        want == 0 || want == (a | b) || (want == a) == is_a
    };
    let active = info.state != DomainState::Shutoff;
    if !group(list::ACTIVE, list::INACTIVE, active)
        || !group(list::PERSISTENT, list::TRANSIENT, info.persistent)
        || !group(list::MANAGEDSAVE, list::NO_MANAGEDSAVE, info.managed_save)
        || !group(list::AUTOSTART, list::NO_AUTOSTART, info.autostart)
    {
        return false;
    }
    let states = flags & (list::RUNNING | list::PAUSED | list::SHUTOFF | list::OTHER);
    if states != 0 {
        let bit = match info.state {
            DomainState::Running => list::RUNNING,
            DomainState::Paused => list::PAUSED,
            DomainState::Shutoff => list::SHUTOFF,
            _ => list::OTHER,
        };
        if states & bit == 0 {
            return false;
        }
    }
    true
}

/// `virDomainUndefineFlagsValues`.
pub mod undefine {
    #![allow(missing_docs)]
    pub const MANAGED_SAVE: u32 = 1 << 0;
    pub const SNAPSHOTS_METADATA: u32 = 1 << 1;
    pub const NVRAM: u32 = 1 << 2;
    pub const KEEP_NVRAM: u32 = 1 << 3;
    pub const CHECKPOINTS_METADATA: u32 = 1 << 4;
    pub const TPM: u32 = 1 << 5;
    pub const KEEP_TPM: u32 = 1 << 6;
}

/// `virDomainXMLFlags`.
pub mod xml {
    #![allow(missing_docs)]
    pub const SECURE: u32 = 1 << 0;
    pub const INACTIVE: u32 = 1 << 1;
    pub const MIGRATABLE: u32 = 1 << 3;
}

/// `virDomainModificationImpact` and `virDomainDeviceModifyFlags`.
pub mod affect {
    #![allow(missing_docs)]
    pub const LIVE: u32 = 1 << 0;
    pub const CONFIG: u32 = 1 << 1;
    pub const FORCE: u32 = 1 << 2;
}

/// `virDomainConsoleFlags`.
pub mod console {
    #![allow(missing_docs)]
    pub const FORCE: u32 = 1 << 0;
    pub const SAFE: u32 = 1 << 1;
}

/// `virConnectFlags`: `VIR_CONNECT_RO`.
pub const CONNECT_RO: u32 = 1;

/// The protocol features (`virDrvFeature`) a client asks about.
pub mod feature {
    #![allow(missing_docs)]
    /// Typed parameters may be strings (the client then sets
    /// `VIR_TYPED_PARAM_STRING_OKAY` on the calls that return them).
    /// The source's manager drives the destination's itself (`virsh
    /// migrate --p2p`).
    pub const MIGRATION_P2P: i32 = 4;
    /// Migration calls with typed parameters (`...3Params`).
    pub const MIGRATION_PARAMS: i32 = 13;
    pub const TYPED_PARAM_STRING: i32 = 9;
    pub const PROGRAM_KEEPALIVE: i32 = 10;
    pub const REMOTE_EVENT_CALLBACK: i32 = 14;
    pub const REMOTE_CLOSE_CALLBACK: i32 = 15;
}

/// `virDomainJobType`.
pub mod job {
    #![allow(missing_docs)]
    pub const NONE: i32 = 0;
    pub const BOUNDED: i32 = 1;
    pub const UNBOUNDED: i32 = 2;
    pub const COMPLETED: i32 = 3;
    pub const FAILED: i32 = 4;
    pub const CANCELLED: i32 = 5;
}

/// Fails unless `flags` has only bits of `known`, as libvirt's
/// `virCheckFlags` does (`VIR_ERR_INVALID_ARG`, naming the function).
pub fn check_flags(flags: u32, known: u32, function: &str) -> crate::driver::error::Result<()> {
    let unknown = flags & !known;
    if unknown == 0 {
        Ok(())
    } else {
        Err(crate::driver::error::Error::new(
            crate::driver::error::ErrorCode::InvalidArgument,
            format!("unsupported flags (0x{unknown:x}) in function {function}"),
        ))
    }
}

/// libvirt's `virDomainMetadataType`: 0 description, 1 title, 2 element.
pub fn metadata_kind(
    kind: i32,
    uri: Option<String>,
    key: Option<String>,
) -> crate::driver::error::Result<crate::driver::MetadataKind> {
    match kind {
        0 => Ok(crate::driver::MetadataKind::Description),
        1 => Ok(crate::driver::MetadataKind::Title),
        2 => Ok(crate::driver::MetadataKind::Element {
            uri: uri.ok_or_else(|| {
                crate::driver::error::Error::new(
                    crate::driver::error::ErrorCode::InvalidArgument,
                    "a metadata element needs a namespace URI",
                )
            })?,
            key,
        }),
        n => Err(crate::driver::error::Error::new(
            crate::driver::error::ErrorCode::InvalidArgument,
            format!("unknown metadata type {n}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_read_back() {
        for (s, r, _) in REASONS {
            assert_eq!(reason_of(*s, reason_code(*s, *r)), *r);
            assert_eq!(state_of(state_code(*s)), *s);
        }
    }

    #[test]
    fn events_read_back() {
        use StateReason::*;
        for k in [
            EventKind::Defined,
            EventKind::Undefined,
            EventKind::Started(Booted),
            EventKind::Started(Restored),
            EventKind::Started(Wakeup),
            EventKind::PmSuspended { disk: false },
            EventKind::PmSuspended { disk: true },
            EventKind::Suspended(User),
            EventKind::Suspended(IoError),
            EventKind::Suspended(Watchdog),
            EventKind::Resumed,
            EventKind::Shutdown,
            EventKind::Stopped(Shutdown),
            EventKind::Stopped(Destroyed),
            EventKind::Stopped(Crashed),
            EventKind::Stopped(Saved),
            EventKind::Stopped(Failed),
        ] {
            let (id, e, d) = event_code(&k);
            assert_eq!(id, event_id::LIFECYCLE);
            assert_eq!(lifecycle_kind(e, d), Some(k));
        }
        assert_eq!(event_code(&EventKind::Reset).0, event_id::REBOOT);
    }
}
