//! `event`: prints lifecycle, reboot, RTC change, I/O error, tray
//! change, balloon change, agent lifecycle, metadata change, block
//! threshold, block job and device added or removed events as they come, in virsh's words
//! (`event 'lifecycle' for domain 'demo': Started Booted`), or as one JSON
//! object per line.
//!
//! With an embedded URI the events are those this process sees: its own
//! calls, and the domains it watches (a guest powering off, QEMU dying).

use std::time::{Duration, Instant};

use qvirt::driver::{Event, EventKind, MetadataKind, StateReason};
use qvirt::{Error, ErrorCode, Result};
use serde_json::json;

use crate::{Ctx, outln};

/// How long one wait for an event lasts when no deadline is nearer.
const POLL: Duration = Duration::from_secs(3600);

/// What `event` was asked.
pub struct Options {
    /// `--domain`: only this domain's events.
    pub domain: Option<String>,
    /// `--event`: the event type, in virsh's names (`lifecycle`,
    /// `reboot`, `io-error-reason`, `block-job-2`, ...).
    pub event: Option<String>,
    /// `--loop`: keep going after the first event.
    pub keep: bool,
    /// `--timeout`: stop after this many seconds.
    pub timeout: Option<u64>,
    /// `--json`: one JSON object per line.
    pub json: bool,
}

/// Runs `event`.
pub fn run(ctx: &mut Ctx, opts: Options) -> Result<()> {
    if let Some(kind) = opts.event.as_deref()
        && !TYPES.contains(&kind)
    {
        return Err(Error::new(
            ErrorCode::InvalidArgument,
            format!(
                "unknown event type '{kind}': qvirt reports {} events",
                TYPES.join(", ")
            ),
        ));
    }
    let only = match opts.domain.as_deref() {
        Some(d) => Some(ctx.domain(d)?.uuid),
        None => None,
    };
    let mut stream = ctx.driver()?.events()?;
    if ctx.verbose {
        eprintln!("waiting for events");
    }
    let deadline = opts
        .timeout
        .map(|s| Instant::now() + Duration::from_secs(s));
    let mut count = 0u64;
    loop {
        let wait = match deadline {
            Some(d) => match d.checked_duration_since(Instant::now()) {
                Some(left) if !left.is_zero() => left.min(POLL),
                _ => {
                    if !opts.json {
                        outln!("event loop timed out")?;
                    }
                    break;
                }
            },
            None => POLL,
        };
        let Some(event) = stream.next(wait)? else {
            continue;
        };
        if only.is_some_and(|u| u != event.domain.uuid) {
            continue;
        }
        if let Some(kind) = opts.event.as_deref()
            && kind != words(&event.kind).0
        {
            continue;
        }
        count += 1;
        if opts.json {
            outln!("{}", to_json(&event))?;
        } else {
            outln!("{}", to_text(&event))?;
        }
        if !opts.keep {
            break;
        }
    }
    if !opts.json {
        outln!("events received: {count}")?;
    }
    Ok(())
}

/// The event types `--event` accepts, in virsh's names.
const TYPES: [&str; 19] = [
    "lifecycle",
    "reboot",
    "rtc-change",
    "io-error-reason",
    "balloon-change",
    "agent-lifecycle",
    "metadata-change",
    "tray-change",
    "block-threshold",
    "block-job-2",
    "device-added",
    "device-removed",
    "watchdog",
    "graphics",
    "tunable",
    "migration-iteration",
    "job-completed",
    "memory-device-size-change",
    "disk-change",
];

/// What virsh says of an event beyond its type and domain.
enum Detail {
    /// Nothing (a reboot).
    None,
    /// A lifecycle event's two words: what happened and why.
    Lifecycle(&'static str, &'static str),
    /// A tray change: the drive's alias and `opened` or `closed`.
    Tray(String, &'static str),
    /// A block threshold: the disk, its file, the threshold and how far
    /// a write went past it.
    Threshold(String, Option<String>, u64, u64),
    /// A block job: the job's and the status's words, and the disk.
    Job(&'static str, &'static str, String),
    /// A device plugged in or out: its alias.
    Device(String),
    /// A disk's I/O error: its file, alias, the action and the reason.
    IoError(Option<String>, String, &'static str, String),
    /// What virsh prints after the domain, whole (`-5`, `524288KiB`).
    Text(String),
}

/// virsh's event type, and what it says of the event.
fn words(kind: &EventKind) -> (&'static str, Detail) {
    let lifecycle = |a, b| ("lifecycle", Detail::Lifecycle(a, b));
    match kind {
        EventKind::Defined => lifecycle("Defined", "Added"),
        EventKind::Undefined => lifecycle("Undefined", "Removed"),
        EventKind::Started(StateReason::Restored) => lifecycle("Started", "Restored"),
        EventKind::Started(StateReason::Wakeup) => lifecycle("Started", "Wakeup"),
        EventKind::Started(_) => lifecycle("Started", "Booted"),
        EventKind::Suspended(StateReason::IoError) => lifecycle("Suspended", "I/O Error"),
        EventKind::Suspended(StateReason::Watchdog) => lifecycle("Suspended", "Watchdog"),
        EventKind::Suspended(_) => lifecycle("Suspended", "Paused"),
        EventKind::Resumed => lifecycle("Resumed", "Unpaused"),
        EventKind::Shutdown => lifecycle("Shutdown", "Finished"),
        EventKind::Stopped(reason) => lifecycle(
            "Stopped",
            match reason {
                StateReason::Destroyed => "Destroyed",
                StateReason::Crashed => "Crashed",
                StateReason::Saved => "Saved",
                StateReason::Failed => "Failed",
                _ => "Shutdown",
            },
        ),
        // virsh shows a reset as its own event type.
        EventKind::Reset => ("reboot", Detail::None),
        EventKind::TrayMoved { alias, open } => (
            "tray-change",
            Detail::Tray(alias.clone(), if *open { "opened" } else { "closed" }),
        ),
        EventKind::PmSuspended { disk: false } => lifecycle("PMSuspended", "Memory"),
        EventKind::PmSuspended { disk: true } => lifecycle("PMSuspended", "Disk"),
        EventKind::BlockThreshold {
            dev,
            path,
            threshold,
            excess,
        } => (
            "block-threshold",
            Detail::Threshold(dev.clone(), path.clone(), *threshold, *excess),
        ),
        EventKind::BlockJob {
            dev, kind, status, ..
        } => (
            "block-job-2",
            Detail::Job(kind.as_str(), status.as_str(), dev.clone()),
        ),
        EventKind::IoError {
            alias,
            path,
            action,
            reason,
        } => (
            "io-error-reason",
            Detail::IoError(path.clone(), alias.clone(), action.as_str(), reason.clone()),
        ),
        EventKind::RtcChange { offset } => ("rtc-change", Detail::Text(format!(": {offset}"))),
        EventKind::BalloonChange { actual_kib } => {
            ("balloon-change", Detail::Text(format!(": {actual_kib}KiB")))
        }
        EventKind::AgentLifecycle { connected } => (
            "agent-lifecycle",
            Detail::Text(format!(
                ": state: '{}' reason: 'channel event'",
                if *connected {
                    "connected"
                } else {
                    "disconnected"
                }
            )),
        ),
        EventKind::MetadataChange(kind) => {
            let (what, uri) = match kind {
                MetadataKind::Description => ("description", "<null>"),
                MetadataKind::Title => ("title", "<null>"),
                MetadataKind::Element { uri, .. } => ("element", uri.as_str()),
            };
            (
                "metadata-change",
                Detail::Text(format!(": type {what}, uri {uri}")),
            )
        }
        EventKind::DeviceAdded { alias } => ("device-added", Detail::Device(alias.clone())),
        EventKind::DeviceRemoved { alias } => ("device-removed", Detail::Device(alias.clone())),
        EventKind::Watchdog { action } => {
            ("watchdog", Detail::Text(format!(": {}", action.as_str())))
        }
        EventKind::JobCompleted(job) => {
            use qvirt::transport::libvirt::jobstats::{ParamValue, completed};
            let mut text = ":".to_string();
            for p in completed((**job).clone()).params {
                let value = match p.value {
                    ParamValue::Int(v) => v.to_string(),
                    ParamValue::UInt(v) => v.to_string(),
                    ParamValue::LLong(v) => v.to_string(),
                    ParamValue::ULLong(v) => v.to_string(),
                    ParamValue::Double(bits) => format!("{:.6}", f64::from_bits(bits)),
                    ParamValue::Boolean(v) => if v { "yes" } else { "no" }.to_string(),
                    ParamValue::String(v) => v,
                };
                text.push_str(&format!("\n\t{}: {value}", p.field));
            }
            ("job-completed", Detail::Text(text))
        }
        EventKind::DiskChange {
            alias,
            old_path,
            new_path,
            dropped,
        } => (
            "disk-change",
            Detail::Text(format!(
                " disk {alias}: {} -> {}: {}",
                old_path.as_deref().unwrap_or("<null>"),
                new_path.as_deref().unwrap_or("<null>"),
                if *dropped { "dropped" } else { "changed" }
            )),
        ),
        EventKind::MemoryDeviceSizeChange { alias, size_kib } => (
            "memory-device-size-change",
            Detail::Text(format!(":\nalias: {alias}\nsize: {size_kib}")),
        ),
        EventKind::MigrationIteration { iteration } => (
            "migration-iteration",
            Detail::Text(format!(": iteration: '{iteration}'")),
        ),
        EventKind::Tunable(params) => {
            let mut text = ":".to_string();
            for (name, value) in params {
                text.push_str(&format!("\n\t{name}: {value}"));
            }
            ("tunable", Detail::Text(text))
        }
        EventKind::Graphics(g) => {
            let qvirt::driver::GraphicsEvent {
                phase,
                local,
                remote,
                auth,
                subject,
            } = &**g;
            let addr = |a: &qvirt::driver::GraphicsAddress| {
                format!("{} {} {}", a.family.as_str(), a.node, a.service)
            };
            let mut text = format!(
                ": {} local[{}] remote[{}] {auth}",
                phase.as_str(),
                addr(local),
                addr(remote)
            );
            for (kind, name) in subject {
                text.push_str(&format!("\n\t{kind}={name}"));
            }
            ("graphics", Detail::Text(text))
        }
        // A kind newer than this program: named, without virsh's words.
        _ => lifecycle("Unknown", "Unknown"),
    }
}

/// `event 'lifecycle' for domain 'NAME': Started Booted`,
/// `event 'reboot' for domain 'NAME'` or
/// `event 'tray-change' for domain 'NAME' disk ALIAS: opened` or
/// `event 'block-threshold' for domain 'NAME': dev: vda(PATH) 1048576 512` or
/// `event 'block-job-2' for domain 'NAME': Block Copy for vda ready` or
/// `event 'device-removed' for domain 'NAME': virtio-disk1`.
fn to_text(event: &Event) -> String {
    let (kind, detail) = words(&event.kind);
    let name = &event.domain.name;
    match detail {
        Detail::Lifecycle(what, why) => {
            format!("event '{kind}' for domain '{name}': {what} {why}")
        }
        Detail::Tray(alias, how) => {
            format!("event '{kind}' for domain '{name}' disk {alias}: {how}")
        }
        Detail::Threshold(dev, path, threshold, excess) => format!(
            "event '{kind}' for domain '{name}': dev: {dev}({}) {threshold} {excess}",
            path.as_deref().unwrap_or("<null>")
        ),
        Detail::Job(job, status, dev) => {
            format!("event '{kind}' for domain '{name}': {job} for {dev} {status}")
        }
        Detail::Device(alias) => format!("event '{kind}' for domain '{name}': {alias}"),
        Detail::Text(text) => format!("event '{kind}' for domain '{name}'{text}"),
        Detail::IoError(path, alias, action, reason) => format!(
            "event '{kind}' for domain '{name}': {} ({alias}) {action} due to {reason}",
            path.as_deref().unwrap_or("")
        ),
        Detail::None => format!("event '{kind}' for domain '{name}'"),
    }
}

/// One event as a JSON object: `event` (`lifecycle`, `reboot`,
/// `tray-change`), the domain's `domain` name, `uuid` and `id`, for
/// lifecycle events `type` and `detail` in virsh's words, for a tray
/// change the drive's `alias` and `tray` (`opened`, `closed`), for a
/// block threshold the disk's `dev`, `path`, `threshold` and `excess`,
/// for a block job the `job`, its `status` and the disk's `dev`, for a
/// device plugged in or out its `alias`, for an I/O error the disk's
/// `path` and `alias`, the `action` and the `reason`, for the others
/// virsh's words as `detail`.
fn to_json(event: &Event) -> serde_json::Value {
    let (kind, detail) = words(&event.kind);
    let mut value = json!({
        "event": kind,
        "domain": event.domain.name,
        "uuid": event.domain.uuid.to_string(),
        "id": event.domain.id,
    });
    match detail {
        Detail::Lifecycle(what, why) => {
            value["type"] = json!(what);
            value["detail"] = json!(why);
        }
        Detail::Tray(alias, how) => {
            value["alias"] = json!(alias);
            value["tray"] = json!(how);
        }
        Detail::Threshold(dev, path, threshold, excess) => {
            value["dev"] = json!(dev);
            value["path"] = json!(path);
            value["threshold"] = json!(threshold);
            value["excess"] = json!(excess);
        }
        Detail::Job(job, status, dev) => {
            value["job"] = json!(job);
            value["status"] = json!(status);
            value["dev"] = json!(dev);
        }
        Detail::Device(alias) => value["alias"] = json!(alias),
        Detail::Text(text) => value["detail"] = json!(text.trim_start_matches(": ")),
        Detail::IoError(path, alias, action, reason) => {
            value["path"] = json!(path);
            value["alias"] = json!(alias);
            value["action"] = json!(action);
            value["reason"] = json!(reason);
        }
        Detail::None => {}
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;
    use qvirt::Domain;

    fn event(kind: EventKind) -> Event {
        Event::new(
            Domain {
                name: "demo".to_string(),
                uuid: uuid::Uuid::nil(),
                id: Some(1),
            },
            kind,
        )
    }

    #[test]
    fn virsh_words() {
        assert_eq!(
            to_text(&event(EventKind::Started(StateReason::Booted))),
            "event 'lifecycle' for domain 'demo': Started Booted"
        );
        assert_eq!(
            to_text(&event(EventKind::Stopped(StateReason::Destroyed))),
            "event 'lifecycle' for domain 'demo': Stopped Destroyed"
        );
        assert_eq!(
            to_text(&event(EventKind::Reset)),
            "event 'reboot' for domain 'demo'"
        );
        let tray = EventKind::TrayMoved {
            alias: "ide0-1-0".to_string(),
            open: true,
        };
        assert_eq!(
            to_text(&event(tray)),
            "event 'tray-change' for domain 'demo' disk ide0-1-0: opened"
        );
        let threshold = EventKind::BlockThreshold {
            dev: "vda".to_string(),
            path: Some("/i/a.qcow2".to_string()),
            threshold: 1 << 20,
            excess: 512,
        };
        assert_eq!(
            to_text(&event(threshold)),
            "event 'block-threshold' for domain 'demo': dev: vda(/i/a.qcow2) 1048576 512"
        );
        let job = EventKind::BlockJob {
            dev: "vda".to_string(),
            path: None,
            kind: qvirt::driver::BlockJobKind::Copy,
            status: qvirt::driver::BlockJobStatus::Ready,
        };
        assert_eq!(
            to_text(&event(job)),
            "event 'block-job-2' for domain 'demo': Block Copy for vda ready"
        );
        let gone = EventKind::DeviceRemoved {
            alias: "virtio-disk1".to_string(),
        };
        assert_eq!(
            to_text(&event(gone)),
            "event 'device-removed' for domain 'demo': virtio-disk1"
        );
        let io = EventKind::IoError {
            alias: "virtio-disk1".to_string(),
            path: Some("/i/b.raw".to_string()),
            action: qvirt::driver::IoErrorAction::Pause,
            reason: "enospc".to_string(),
        };
        assert_eq!(
            to_text(&event(io)),
            "event 'io-error-reason' for domain 'demo': /i/b.raw (virtio-disk1) pause due to enospc"
        );
        for (kind, text) in [
            (
                EventKind::RtcChange { offset: -5 },
                "event 'rtc-change' for domain 'demo': -5",
            ),
            (
                EventKind::BalloonChange { actual_kib: 524288 },
                "event 'balloon-change' for domain 'demo': 524288KiB",
            ),
            (
                EventKind::AgentLifecycle { connected: true },
                "event 'agent-lifecycle' for domain 'demo': state: 'connected' reason: 'channel event'",
            ),
            (
                EventKind::MetadataChange(MetadataKind::Title),
                "event 'metadata-change' for domain 'demo': type title, uri <null>",
            ),
            (
                EventKind::Watchdog {
                    action: qvirt::driver::WatchdogFired::InjectNmi,
                },
                "event 'watchdog' for domain 'demo': inject-nmi",
            ),
            (
                EventKind::Graphics(Box::new(qvirt::driver::GraphicsEvent {
                    phase: qvirt::driver::GraphicsPhase::Connect,
                    local: qvirt::driver::GraphicsAddress::new(
                        qvirt::driver::AddressFamily::Ipv4,
                        "127.0.0.1",
                        "5900",
                    ),
                    remote: qvirt::driver::GraphicsAddress::new(
                        qvirt::driver::AddressFamily::Unix,
                        "/s",
                        "",
                    ),
                    auth: "none".into(),
                    subject: vec![("x509dname".into(), "CN=a".into())],
                })),
                "event 'graphics' for domain 'demo': connect local[IPv4 127.0.0.1 5900] remote[unix /s ] none\n\tx509dname=CN=a",
            ),
            (
                EventKind::Tunable(vec![
                    (
                        "cputune.vcpupin0".into(),
                        qvirt::driver::TunableValue::Text("0-1".into()),
                    ),
                    (
                        "blkdeviotune.total_bytes_sec".into(),
                        qvirt::driver::TunableValue::Number(1000),
                    ),
                ]),
                "event 'tunable' for domain 'demo':\n\tcputune.vcpupin0: 0-1\n\tblkdeviotune.total_bytes_sec: 1000",
            ),
            (
                EventKind::JobCompleted(Box::new(qvirt::driver::CompletedJob::new(
                    qvirt::driver::JobOutcome::Completed,
                    qvirt::driver::JobInfo::new(qvirt::driver::JobKind::Migration),
                    Some(std::time::Duration::from_millis(12)),
                ))),
                "event 'job-completed' for domain 'demo':\n\toperation: 5\n\ttime_elapsed: 0\n\tdowntime: 12",
            ),
            (
                EventKind::DiskChange {
                    alias: "ide0-1-0".into(),
                    old_path: Some("/srv/gone.iso".into()),
                    new_path: None,
                    dropped: false,
                },
                "event 'disk-change' for domain 'demo' disk ide0-1-0: /srv/gone.iso -> <null>: changed",
            ),
            (
                EventKind::MemoryDeviceSizeChange {
                    alias: "virtiomem0".into(),
                    size_kib: 131072,
                },
                "event 'memory-device-size-change' for domain 'demo':\nalias: virtiomem0\nsize: 131072",
            ),
            (
                EventKind::Suspended(StateReason::Watchdog),
                "event 'lifecycle' for domain 'demo': Suspended Watchdog",
            ),
        ] {
            assert_eq!(to_text(&event(kind)), text);
        }
        let j = to_json(&event(EventKind::Suspended(StateReason::User)));
        assert_eq!(j["type"], "Suspended");
        assert_eq!(j["detail"], "Paused");
        assert_eq!(j["id"], 1);
    }
}
