//! The samples of the event messages qvirtd sends (see `samples.rs`),
//! one per message, in the order the golden file lists them.

use qvirt::transport::libvirt::frame::{self, Header, Status, Type};
use qvirt::transport::libvirt::types::*;
use qvirt::transport::libvirt::xdr::to_bytes;

use super::dom;

/// Each event message, named.
pub fn events() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let event = |proc: i32, body: Vec<u8>| {
        frame::message(&Header::remote(proc, Type::Message, 1, Status::Ok), &body)
    };
    out.push((
        "event.lifecycle.started-booted".into(),
        event(
            318,
            to_bytes(&LifecycleMsg {
                callback_id: 1,
                dom: dom(),
                event: 2,
                detail: 0,
            }),
        ),
    ));
    out.push((
        "event.reboot".into(),
        event(
            319,
            to_bytes(&RebootMsg {
                callback_id: 2,
                dom: dom(),
            }),
        ),
    ));
    out.push((
        "event.tray-change.open".into(),
        event(
            328,
            to_bytes(&TrayChangeMsg {
                callback_id: 3,
                dom: dom(),
                dev_alias: "ide0-1-0".into(),
                reason: 0,
            }),
        ),
    ));
    out.push((
        "event.block-threshold".into(),
        event(
            385,
            to_bytes(&BlockThresholdMsg {
                callback_id: 4,
                dom: dom(),
                dev: "vda".into(),
                path: Some("/var/lib/qvirt/images/a.qcow2".into()),
                threshold: 1 << 20,
                excess: 4096,
            }),
        ),
    ));
    for (name, proc, disk) in [
        ("event.block-job", 326, "/var/lib/qvirt/images/a.qcow2"),
        ("event.block-job-2", 339, "vda"),
    ] {
        out.push((
            name.into(),
            event(
                proc,
                to_bytes(&BlockJobMsg {
                    callback_id: 5,
                    dom: dom(),
                    disk: disk.into(),
                    kind: 2,
                    status: 3,
                }),
            ),
        ));
    }
    for (name, proc) in [("event.device-added", 354), ("event.device-removed", 333)] {
        out.push((
            name.into(),
            event(
                proc,
                to_bytes(&DeviceMsg {
                    callback_id: 6,
                    dom: dom(),
                    dev_alias: "virtio-disk1".into(),
                }),
            ),
        ));
    }
    out.push((
        "event.io-error".into(),
        event(
            322,
            to_bytes(&IoErrorMsg {
                callback_id: 7,
                dom: dom(),
                src_path: "/var/lib/qvirt/images/a.raw".into(),
                dev_alias: "virtio-disk0".into(),
                action: 1,
            }),
        ),
    ));
    out.push((
        "event.io-error-reason".into(),
        event(
            324,
            to_bytes(&IoErrorReasonMsg {
                callback_id: 8,
                dom: dom(),
                src_path: "/var/lib/qvirt/images/a.raw".into(),
                dev_alias: "virtio-disk0".into(),
                action: 1,
                reason: "enospc".into(),
            }),
        ),
    ));
    out.push((
        "event.rtc-change".into(),
        event(
            320,
            to_bytes(&RtcChangeMsg {
                callback_id: 9,
                dom: dom(),
                offset: -3600,
            }),
        ),
    ));
    out.push((
        "event.balloon-change".into(),
        event(
            331,
            to_bytes(&BalloonChangeMsg {
                callback_id: 10,
                dom: dom(),
                actual: 204800,
            }),
        ),
    ));
    out.push((
        "event.agent-lifecycle".into(),
        event(
            348,
            to_bytes(&AgentLifecycleMsg {
                callback_id: 11,
                dom: dom(),
                state: 1,
                reason: 2,
            }),
        ),
    ));
    out.push((
        "event.metadata-change".into(),
        event(
            379,
            to_bytes(&MetadataChangeMsg {
                callback_id: 12,
                dom: dom(),
                kind: 2,
                nsuri: Some("http://example.org/app".into()),
            }),
        ),
    ));
    out.push((
        "event.watchdog".into(),
        event(
            321,
            to_bytes(&WatchdogMsg {
                callback_id: 13,
                dom: dom(),
                action: 1,
            }),
        ),
    ));
    out.push((
        "event.job-completed".into(),
        event(
            363,
            to_bytes(&JobCompletedMsg {
                callback_id: 18,
                dom: dom(),
                params: vec![
                    TypedParam {
                        field: "time_elapsed".into(),
                        value: ParamValue::ULLong(1234),
                    },
                    TypedParam {
                        field: "downtime".into(),
                        value: ParamValue::ULLong(12),
                    },
                ],
            }),
        ),
    ));
    out.push((
        "event.disk-change".into(),
        event(
            327,
            to_bytes(&DiskChangeMsg {
                callback_id: 20,
                dom: dom(),
                old_src_path: Some("/srv/gone.iso".into()),
                new_src_path: None,
                dev_alias: "ide0-1-0".into(),
                reason: 0,
            }),
        ),
    ));
    out.push((
        "event.memory-device-size-change".into(),
        event(
            438,
            to_bytes(&MemoryDeviceSizeMsg {
                callback_id: 19,
                dom: dom(),
                alias: "virtiomem0".into(),
                size: 131072,
            }),
        ),
    ));
    out.push((
        "event.migration-iteration".into(),
        event(
            359,
            to_bytes(&MigrationIterationMsg {
                callback_id: 17,
                dom: dom(),
                iteration: 2,
            }),
        ),
    ));
    out.push((
        "event.tunable".into(),
        event(
            346,
            to_bytes(&TunableMsg {
                callback_id: 16,
                dom: dom(),
                params: vec![
                    TypedParam {
                        field: "blkdeviotune.disk".into(),
                        value: ParamValue::String("vda".into()),
                    },
                    TypedParam {
                        field: "blkdeviotune.total_bytes_sec".into(),
                        value: ParamValue::ULLong(1_000_000),
                    },
                ],
            }),
        ),
    ));
    out.push((
        "event.graphics".into(),
        event(
            323,
            to_bytes(&GraphicsMsg {
                callback_id: 15,
                dom: dom(),
                phase: 1,
                local: GraphicsAddr {
                    family: 0,
                    node: "127.0.0.1".into(),
                    service: "5900".into(),
                },
                remote: GraphicsAddr {
                    family: 1,
                    node: "::1".into(),
                    service: "40000".into(),
                },
                auth_scheme: "vnc".into(),
                subject: vec![GraphicsIdentity {
                    kind: "x509dname".into(),
                    name: "CN=client".into(),
                }],
            }),
        ),
    ));
    for (name, proc) in [
        ("pm-wakeup", 329),
        ("pm-suspend", 330),
        ("pm-suspend-disk", 332),
    ] {
        out.push((
            format!("event.{name}"),
            event(
                proc,
                to_bytes(&PmMsg {
                    callback_id: 14,
                    reason: 0,
                    dom: dom(),
                }),
            ),
        ));
    }
    out
}
