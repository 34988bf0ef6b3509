//! `event`: prints lifecycle events as they come, in virsh's words
//! (`event 'lifecycle' for domain 'demo': Started Booted`), or as one JSON
//! object per line.
//!
//! With an embedded URI the events are those this process sees: its own
//! calls, and the domains it watches (a guest powering off, QEMU dying).

use std::time::{Duration, Instant};

use qvirt::driver::{Event, EventKind, StateReason};
use qvirt::{Error, ErrorCode, Result};
use serde_json::json;

use crate::{Ctx, outln};

/// How long one wait for an event lasts when no deadline is nearer.
const POLL: Duration = Duration::from_secs(3600);

/// What `event` was asked.
pub struct Options {
    /// `--domain`: only this domain's events.
    pub domain: Option<String>,
    /// `--event`: the event type (only `lifecycle` exists).
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
        && kind != "lifecycle"
        && kind != "reboot"
    {
        return Err(Error::new(
            ErrorCode::InvalidArgument,
            format!("unknown event type '{kind}': qvirt reports 'lifecycle' and 'reboot' events"),
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
            && (kind == "reboot") != (event.kind == EventKind::Reset)
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

/// virsh's event type, and for lifecycle events its two words: what
/// happened and why.
fn words(kind: EventKind) -> (&'static str, Option<(&'static str, &'static str)>) {
    let lifecycle = |a, b| ("lifecycle", Some((a, b)));
    match kind {
        EventKind::Defined => lifecycle("Defined", "Added"),
        EventKind::Undefined => lifecycle("Undefined", "Removed"),
        EventKind::Started(StateReason::Restored) => lifecycle("Started", "Restored"),
        EventKind::Started(_) => lifecycle("Started", "Booted"),
        EventKind::Suspended => lifecycle("Suspended", "Paused"),
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
        EventKind::Reset => ("reboot", None),
        // A kind newer than this program: named, without virsh's words.
        _ => ("lifecycle", Some(("Unknown", "Unknown"))),
    }
}

/// `event 'lifecycle' for domain 'NAME': Started Booted`, or
/// `event 'reboot' for domain 'NAME'`.
fn to_text(event: &Event) -> String {
    let (kind, detail) = words(event.kind);
    match detail {
        Some((what, why)) => format!(
            "event '{kind}' for domain '{}': {what} {why}",
            event.domain.name
        ),
        None => format!("event '{kind}' for domain '{}'", event.domain.name),
    }
}

/// One event as a JSON object: `event` (`lifecycle` or `reboot`), the
/// domain's `domain` name, `uuid` and `id`, and for lifecycle events
/// `type` and `detail` in virsh's words.
fn to_json(event: &Event) -> serde_json::Value {
    let (kind, detail) = words(event.kind);
    let mut value = json!({
        "event": kind,
        "domain": event.domain.name,
        "uuid": event.domain.uuid.to_string(),
        "id": event.domain.id,
    });
    if let Some((what, why)) = detail {
        value["type"] = json!(what);
        value["detail"] = json!(why);
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
        let j = to_json(&event(EventKind::Suspended));
        assert_eq!(j["type"], "Suspended");
        assert_eq!(j["detail"], "Paused");
        assert_eq!(j["id"], 1);
    }
}
