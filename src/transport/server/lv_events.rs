//! The messages of libvirt's event callbacks
//! (`REMOTE_PROC_DOMAIN_EVENT_CALLBACK_*`): one qvirt event as the
//! message a libvirt client's callback reads.

use crate::driver::EventKind;
use crate::transport::libvirt::types::*;
use crate::transport::libvirt::values::{self, event_id, event_proc};
use crate::transport::libvirt::xdr::to_bytes;

/// The procedure and body of the message that tells callback `cb` (for
/// libvirt's event `id`) of an event of `kind` to `dom`, whose libvirt
/// code is `(code, detail)`.
pub(super) fn event_message(
    cb: i32,
    id: i32,
    dom: Dom,
    kind: &EventKind,
    code: i32,
    detail: i32,
) -> (i32, Vec<u8>) {
    match kind {
        EventKind::BlockJob { dev, path, .. } => {
            let (proc, disk) = if id == event_id::BLOCK_JOB {
                (event_proc::BLOCK_JOB, path.clone().unwrap_or_default())
            } else {
                (event_proc::BLOCK_JOB_2, dev.clone())
            };
            let msg = BlockJobMsg {
                callback_id: cb,
                dom,
                disk,
                kind: code,
                status: detail,
            };
            (proc, to_bytes(&msg))
        }
        EventKind::IoError {
            alias,
            path,
            reason,
            ..
        } => {
            let src_path = path.clone().unwrap_or_default();
            let dev_alias = alias.clone();
            if id == event_id::IO_ERROR {
                let msg = IoErrorMsg {
                    callback_id: cb,
                    dom,
                    src_path,
                    dev_alias,
                    action: code,
                };
                (event_proc::IO_ERROR, to_bytes(&msg))
            } else {
                let msg = IoErrorReasonMsg {
                    callback_id: cb,
                    dom,
                    src_path,
                    dev_alias,
                    action: code,
                    reason: reason.clone(),
                };
                (event_proc::IO_ERROR_REASON, to_bytes(&msg))
            }
        }
        EventKind::RtcChange { offset } => (
            event_proc::RTC_CHANGE,
            to_bytes(&RtcChangeMsg {
                callback_id: cb,
                dom,
                offset: *offset,
            }),
        ),
        EventKind::BalloonChange { actual_kib } => (
            event_proc::BALLOON_CHANGE,
            to_bytes(&BalloonChangeMsg {
                callback_id: cb,
                dom,
                actual: *actual_kib,
            }),
        ),
        EventKind::AgentLifecycle { .. } => (
            event_proc::AGENT_LIFECYCLE,
            to_bytes(&AgentLifecycleMsg {
                callback_id: cb,
                dom,
                state: code,
                reason: detail,
            }),
        ),
        EventKind::MetadataChange(kind) => {
            let nsuri = match kind {
                crate::driver::MetadataKind::Element { uri, .. } => Some(uri.clone()),
                _ => None,
            };
            let msg = MetadataChangeMsg {
                callback_id: cb,
                dom,
                kind: code,
                nsuri,
            };
            (event_proc::METADATA_CHANGE, to_bytes(&msg))
        }
        EventKind::DeviceAdded { alias } | EventKind::DeviceRemoved { alias } => {
            let proc = if matches!(kind, EventKind::DeviceAdded { .. }) {
                event_proc::DEVICE_ADDED
            } else {
                event_proc::DEVICE_REMOVED
            };
            let msg = DeviceMsg {
                callback_id: cb,
                dom,
                dev_alias: alias.clone(),
            };
            (proc, to_bytes(&msg))
        }
        EventKind::Graphics(g) => {
            let crate::driver::GraphicsEvent {
                local,
                remote,
                auth,
                subject,
                ..
            } = &**g;
            let addr = |a: &crate::driver::GraphicsAddress| GraphicsAddr {
                family: values::address_family(a.family),
                node: a.node.clone(),
                service: a.service.clone(),
            };
            let msg = GraphicsMsg {
                callback_id: cb,
                dom,
                phase: code,
                local: addr(local),
                remote: addr(remote),
                auth_scheme: auth.clone(),
                subject: subject
                    .iter()
                    .map(|(kind, name)| GraphicsIdentity {
                        kind: kind.clone(),
                        name: name.clone(),
                    })
                    .collect(),
            };
            (event_proc::GRAPHICS, to_bytes(&msg))
        }
        EventKind::DiskChange {
            alias,
            old_path,
            new_path,
            ..
        } => {
            let msg = DiskChangeMsg {
                callback_id: cb,
                dom,
                old_src_path: old_path.clone(),
                new_src_path: new_path.clone(),
                dev_alias: alias.clone(),
                reason: code,
            };
            (event_proc::DISK_CHANGE, to_bytes(&msg))
        }
        EventKind::MemoryDeviceSizeChange { alias, size_kib } => {
            let msg = MemoryDeviceSizeMsg {
                callback_id: cb,
                dom,
                alias: alias.clone(),
                size: *size_kib,
            };
            (event_proc::MEMORY_DEVICE_SIZE_CHANGE, to_bytes(&msg))
        }
        EventKind::JobCompleted(job) => {
            let msg = JobCompletedMsg {
                callback_id: cb,
                dom,
                params: crate::transport::libvirt::jobstats::completed((**job).clone()).params,
            };
            (event_proc::JOB_COMPLETED, to_bytes(&msg))
        }
        EventKind::MigrationIteration { .. } => (
            event_proc::MIGRATION_ITERATION,
            to_bytes(&MigrationIterationMsg {
                callback_id: cb,
                dom,
                iteration: code,
            }),
        ),
        EventKind::Tunable(params) => {
            let params = params
                .iter()
                .map(|(field, v)| TypedParam {
                    field: field.clone(),
                    value: match v {
                        crate::driver::TunableValue::Number(n) => ParamValue::ULLong(*n),
                        other => ParamValue::String(other.to_string()),
                    },
                })
                .collect();
            let msg = TunableMsg {
                callback_id: cb,
                dom,
                params,
            };
            (event_proc::TUNABLE, to_bytes(&msg))
        }
        EventKind::Watchdog { .. } => (
            event_proc::WATCHDOG,
            to_bytes(&WatchdogMsg {
                callback_id: cb,
                dom,
                action: code,
            }),
        ),
        _ if id == event_id::PMWAKEUP
            || id == event_id::PMSUSPEND
            || id == event_id::PMSUSPEND_DISK =>
        {
            let proc = match id {
                event_id::PMWAKEUP => event_proc::PMWAKEUP,
                event_id::PMSUSPEND => event_proc::PMSUSPEND,
                _ => event_proc::PMSUSPEND_DISK,
            };
            let msg = PmMsg {
                callback_id: cb,
                reason: 0,
                dom,
            };
            (proc, to_bytes(&msg))
        }
        EventKind::Reset => (
            event_proc::REBOOT,
            to_bytes(&RebootMsg {
                callback_id: cb,
                dom,
            }),
        ),
        EventKind::BlockThreshold {
            dev,
            path,
            threshold,
            excess,
        } => (
            event_proc::BLOCK_THRESHOLD,
            to_bytes(&BlockThresholdMsg {
                callback_id: cb,
                dom,
                dev: dev.clone(),
                path: path.clone(),
                threshold: *threshold,
                excess: *excess,
            }),
        ),
        EventKind::TrayMoved { alias, .. } => (
            event_proc::TRAY_CHANGE,
            to_bytes(&TrayChangeMsg {
                callback_id: cb,
                dom,
                dev_alias: alias.clone(),
                reason: code,
            }),
        ),
        _ => (
            event_proc::LIFECYCLE,
            to_bytes(&LifecycleMsg {
                callback_id: cb,
                dom,
                event: code,
                detail,
            }),
        ),
    }
}
