//! `migrate`: a running firmware VM moved between two managers on this
//! host (two fresh roots of the bench's kind; the source drives the
//! destination over qvirt's protocol, QEMU's stream on loopback), back and
//! forth, beside the floor: the same two command lines driven directly
//! over QMP, doing what any manager must (start the destination waiting,
//! set the capabilities, stream, let the switchover through, resume there,
//! stop the source).

use std::time::{Duration, Instant};

use qvirt::driver::MigrateOptions;
use qvirt::{Error, ErrorCode, Result};
use serde_json::{Value, json};

use crate::fixture::{Fixture, Kind};
use crate::guests;
use crate::raw::{RawQemu, RawRun};
use crate::stats::{Metric, Samples};

/// Moves in each direction.
const ROUNDS: usize = 5;
/// The port the floor's destination listens on.
const FLOOR_PORT: u16 = 49300;
/// QMP's patience with one command.
const QMP: Duration = Duration::from_secs(30);

/// The scenario.
pub fn migrate(kind: &Kind) -> Result<Vec<Metric>> {
    if matches!(kind, Kind::Uri(_)) {
        return Err(Error::new(
            ErrorCode::InvalidArgument,
            "migrate needs two fresh roots: run it with --uri embed or daemon",
        ));
    }
    let a = Fixture::open_new(kind)?;
    let b = Fixture::open_new(kind)?;
    let (ca, cb) = (a.client()?, b.client()?);
    let xml = guests::firmware(&guests::name("migrate", 0));
    // Defined on A, so that A keeps each move's record there
    // (`domjobinfo --completed`: QEMU's downtime); a transient one's
    // record goes with it.
    let dom = ca.start(&ca.define_xml(&xml)?)?;
    let raw = (RawQemu::new(&xml)?, RawQemu::new(&xml)?);
    // Untimed: one of each, for warm caches and probes.
    ca.migrate(&dom, &b.uri(), MigrateOptions::default().live())?;
    let dom = cb.lookup_by_name(&dom.name)?;
    cb.migrate(&dom, &a.uri(), MigrateOptions::default().live())?;
    let mut dom = ca.lookup_by_name(&dom.name)?;
    floor_once(&raw.0, &raw.1)?;
    let (mut qvirt, mut floor, mut floor_downtime) =
        (Samples::default(), Samples::default(), Samples::default());
    let mut qvirt_downtime = Samples::default();
    for _ in 0..ROUNDS {
        for (from, to, to_uri) in [(&ca, &cb, b.uri()), (&cb, &ca, a.uri())] {
            let options = MigrateOptions::default().live();
            qvirt.time(|| from.migrate(&dom, &to_uri, options))?;
            if let Some(done) = from.job_completed(&dom).ok().flatten()
                && let Some(downtime) = done.downtime
            {
                qvirt_downtime.push(downtime);
            }
            dom = to.lookup_by_name(&dom.name)?;
            let (total, downtime) = floor_once(&raw.0, &raw.1)?;
            floor.push(total);
            floor_downtime.push(downtime);
        }
    }
    to_destroy(&*ca, &*cb, &dom.name);
    let mut out: Vec<Metric> = [
        Metric::dist(
            "migrate_ms",
            "migrate a running 16 MiB firmware VM to another manager (total)",
            "ms",
            &qvirt,
            1.0,
        ),
        Metric::dist(
            "raw_migrate_ms",
            "floor: the two QEMUs driven over QMP (start there .. stopped here)",
            "ms",
            &floor,
            1.0,
        ),
        Metric::dist(
            "migrate_downtime_ms",
            "qvirt: QEMU's downtime (domjobinfo --completed, moves from A)",
            "ms",
            &qvirt_downtime,
            1.0,
        ),
        Metric::dist(
            "raw_migrate_downtime_ms",
            "floor: QEMU's downtime",
            "ms",
            &floor_downtime,
            1.0,
        ),
    ]
    .into_iter()
    .flatten()
    .collect();
    if let (Some(q), Some(f)) = (qvirt.summary(1.0), floor.summary(1.0)) {
        out.push(Metric::single(
            "migrate_minus_raw_ms",
            "migrate minus floor (medians)",
            "ms",
            q.median - f.median,
        ));
    }
    if let (Some(q), Some(f)) = (qvirt_downtime.summary(1.0), floor_downtime.summary(1.0)) {
        out.push(Metric::single(
            "downtime_minus_raw_ms",
            "downtime minus the floor's (medians)",
            "ms",
            q.median - f.median,
        ));
    }
    Ok(out)
}

/// Destroys the guest wherever it runs.
fn to_destroy(a: &dyn qvirt::Driver, b: &dyn qvirt::Driver, name: &str) {
    for d in [a, b] {
        if let Ok(dom) = d.lookup_by_name(name) {
            let _ = d.destroy(&dom);
        }
    }
}

/// One move done by hand: the source runs (untimed), then the timed part:
/// the destination started waiting (`-incoming defer`, capabilities,
/// `migrate-incoming`), the source's capabilities and `migrate`, the
/// switchover let through, the destination resumed once it has it all,
/// the source stopped. Returns the total and QEMU's downtime.
fn floor_once(src: &RawQemu, dst: &RawQemu) -> Result<(Duration, Duration)> {
    let source = src.spawn(&[])?;
    source.qmp.execute("cont", None, QMP)?;
    let t0 = Instant::now();
    let dest = dst.spawn(&["-incoming", "defer"])?;
    let caps = |run: &RawRun, second: &str| {
        run.qmp.execute(
            "migrate-set-capabilities",
            Some(json!({"capabilities": [
                {"capability": "events", "state": true},
                {"capability": second, "state": true},
            ]})),
            QMP,
        )
    };
    caps(&dest, "late-block-activate")?;
    let uri = format!("tcp:127.0.0.1:{FLOOR_PORT}");
    dest.qmp
        .execute("migrate-incoming", Some(json!({"uri": uri})), QMP)?;
    caps(&source, "pause-before-switchover")?;
    source.qmp.execute(
        "migrate-set-parameters",
        Some(json!({"max-bandwidth": i64::MAX})),
        QMP,
    )?;
    source
        .qmp
        .execute("migrate", Some(json!({"uri": uri})), QMP)?;
    let mut continued = false;
    let downtime = loop {
        let info = source.qmp.execute("query-migrate", None, QMP)?;
        match info.get("status").and_then(Value::as_str) {
            Some("pre-switchover") if !continued => {
                continued = true;
                source.qmp.execute(
                    "migrate-continue",
                    Some(json!({"state": "pre-switchover"})),
                    QMP,
                )?;
            }
            Some("completed") => {
                break Duration::from_millis(info["downtime"].as_u64().unwrap_or(0));
            }
            Some("failed") | Some("cancelled") => {
                return Err(Error::new(
                    ErrorCode::OperationFailed,
                    format!("the floor's migration failed: {info}"),
                ));
            }
            _ => std::thread::sleep(Duration::from_micros(500)),
        }
    };
    loop {
        let info = dest.qmp.execute("query-migrate", None, QMP)?;
        if info.get("status").and_then(Value::as_str) == Some("completed") {
            break;
        }
        std::thread::sleep(Duration::from_micros(500));
    }
    dest.qmp.execute("cont", None, QMP)?;
    source.stop()?;
    let total = t0.elapsed();
    dest.stop()?;
    Ok((total, downtime))
}
