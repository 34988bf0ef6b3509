//! The samples of the wire's event kinds and state reasons (see
//! `samples.rs`), every variant once.

use qvirt::transport::wire::{WireBlockJobKind, WireEventKind, WireMetadataKind, WireReason};

/// Every reason, in wire order.
pub fn reasons() -> Vec<(&'static str, WireReason)> {
    use WireReason::*;
    let all = vec![
        ("unknown", Unknown),
        ("user", User),
        ("booted", Booted),
        ("restored", Restored),
        ("unpaused", Unpaused),
        ("shutdown", Shutdown),
        ("destroyed", Destroyed),
        ("crashed", Crashed),
        ("saved", Saved),
        ("failed", Failed),
        ("shutting_down", ShuttingDown),
        ("migrating", Migrating),
        ("migrated", Migrated),
        ("wakeup", Wakeup),
        ("io_error", IoError),
        ("watchdog", Watchdog),
    ];
    // Exhaustive, so a new reason needs a sample before this compiles.
    for (_, r) in &all {
        match r {
            Unknown | User | Booted | Restored | Unpaused | Shutdown | Destroyed | Crashed
            | Saved | Failed | ShuttingDown | Migrating | Migrated | Wakeup | IoError
            | Watchdog => {}
        }
    }
    all
}

/// Every event kind, with every reason for the two that carry one.
pub fn event_kinds() -> Vec<(String, WireEventKind)> {
    let mut kinds = Vec::new();
    for kind in [
        WireEventKind::Defined,
        WireEventKind::Undefined,
        WireEventKind::Started(WireReason::Booted),
        WireEventKind::Suspended,
        WireEventKind::Resumed,
        WireEventKind::Shutdown,
        WireEventKind::Stopped(WireReason::Destroyed),
        WireEventKind::Reset,
        WireEventKind::TrayMoved {
            alias: "ide0-1-0".into(),
            open: true,
        },
        WireEventKind::PmSuspended { disk: true },
        WireEventKind::BlockThreshold {
            dev: "vda".into(),
            path: Some("/i/a.qcow2".into()),
            threshold: 1 << 20,
            excess: 4096,
        },
        WireEventKind::BlockJob {
            dev: "vda".into(),
            path: Some("/i/a.qcow2".into()),
            kind: WireBlockJobKind::Copy,
            status: qvirt::transport::types_events::WireBlockJobStatus::Ready,
        },
        WireEventKind::DeviceAdded {
            alias: "virtio-disk1".into(),
        },
        WireEventKind::DeviceRemoved {
            alias: "net1".into(),
        },
        WireEventKind::IoError {
            alias: "virtio-disk0".into(),
            path: Some("/i/a.raw".into()),
            action: qvirt::transport::types_events::WireIoErrorAction::Pause,
            reason: "enospc".into(),
        },
        WireEventKind::RtcChange { offset: -3600 },
        WireEventKind::BalloonChange { actual_kib: 204800 },
        WireEventKind::AgentLifecycle { connected: true },
        WireEventKind::MetadataChange(WireMetadataKind::Element {
            uri: "http://example.org/app".into(),
            key: None,
        }),
        WireEventKind::Paused(WireReason::IoError),
        WireEventKind::MigrationIteration { iteration: 2 },
        WireEventKind::MemoryDeviceSizeChange {
            alias: "virtiomem0".into(),
            size_kib: 131072,
        },
        WireEventKind::DiskChange {
            alias: "ide0-1-0".into(),
            old_path: Some("/srv/gone.iso".into()),
            new_path: None,
            dropped: false,
        },
        WireEventKind::JobCompleted(qvirt::transport::wire::WireCompletedJob::from(
            qvirt::driver::CompletedJob::new(
                qvirt::driver::JobOutcome::Completed,
                qvirt::driver::JobInfo::new(qvirt::driver::JobKind::Migration),
                Some(std::time::Duration::from_millis(12)),
            ),
        )),
        WireEventKind::Tunable(vec![
            (
                "cputune.vcpupin0".into(),
                qvirt::transport::types_events::WireTunableValue::Text("0-1".into()),
            ),
            (
                "blkdeviotune.total_bytes_sec".into(),
                qvirt::transport::types_events::WireTunableValue::Number(1_000_000),
            ),
        ]),
        WireEventKind::Watchdog {
            action: qvirt::transport::types_events::WireWatchdogFired::Pause,
        },
        WireEventKind::Graphics {
            phase: qvirt::transport::types_events::WireGraphicsPhase::Initialize,
            local: qvirt::transport::types_events::WireGraphicsAddress {
                family: qvirt::transport::types_events::WireAddressFamily::Ipv4,
                node: "127.0.0.1".into(),
                service: "5900".into(),
            },
            remote: qvirt::transport::types_events::WireGraphicsAddress {
                family: qvirt::transport::types_events::WireAddressFamily::Ipv6,
                node: "::1".into(),
                service: "40000".into(),
            },
            auth: "vnc".into(),
            subject: vec![("x509dname".into(), "CN=client".into())],
        },
    ] {
        match kind {
            WireEventKind::Started(_) | WireEventKind::Stopped(_) => {
                let started = matches!(kind, WireEventKind::Started(_));
                for (word, r) in reasons() {
                    let (what, k) = if started {
                        ("started", WireEventKind::Started(r))
                    } else {
                        ("stopped", WireEventKind::Stopped(r))
                    };
                    kinds.push((format!("{what}.{word}"), k));
                }
            }
            WireEventKind::Defined => kinds.push(("defined".into(), kind)),
            WireEventKind::Undefined => kinds.push(("undefined".into(), kind)),
            WireEventKind::Suspended => kinds.push(("suspended".into(), kind)),
            WireEventKind::Resumed => kinds.push(("resumed".into(), kind)),
            WireEventKind::Shutdown => kinds.push(("shutdown".into(), kind)),
            WireEventKind::Reset => kinds.push(("reset".into(), kind)),
            WireEventKind::TrayMoved { .. } => kinds.push(("tray_moved".into(), kind)),
            WireEventKind::PmSuspended { .. } => kinds.push(("pm_suspended".into(), kind)),
            WireEventKind::BlockThreshold { .. } => kinds.push(("block_threshold".into(), kind)),
            WireEventKind::BlockJob { .. } => kinds.push(("block_job".into(), kind)),
            WireEventKind::DeviceAdded { .. } => kinds.push(("device_added".into(), kind)),
            WireEventKind::DeviceRemoved { .. } => kinds.push(("device_removed".into(), kind)),
            WireEventKind::IoError { .. } => kinds.push(("io_error".into(), kind)),
            WireEventKind::RtcChange { .. } => kinds.push(("rtc_change".into(), kind)),
            WireEventKind::BalloonChange { .. } => kinds.push(("balloon_change".into(), kind)),
            WireEventKind::AgentLifecycle { .. } => kinds.push(("agent_lifecycle".into(), kind)),
            WireEventKind::MetadataChange(_) => kinds.push(("metadata_change".into(), kind)),
            WireEventKind::Paused(_) => kinds.push(("paused".into(), kind)),
            WireEventKind::Tunable(_) => kinds.push(("tunable".into(), kind)),
            WireEventKind::JobCompleted(_) => kinds.push(("job_completed".into(), kind)),
            WireEventKind::MemoryDeviceSizeChange { .. } => {
                kinds.push(("memory_device_size_change".into(), kind))
            }
            WireEventKind::DiskChange { .. } => kinds.push(("disk_change".into(), kind)),
            WireEventKind::MigrationIteration { .. } => {
                kinds.push(("migration_iteration".into(), kind))
            }
            WireEventKind::Watchdog { .. } => kinds.push(("watchdog".into(), kind)),
            WireEventKind::Graphics { .. } => kinds.push(("graphics".into(), kind)),
        }
    }
    kinds
}
