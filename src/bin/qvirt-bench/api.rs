//! Scenarios that exercise the API without running a VM: calls on one
//! connection (`rpc`), durable defines and undefines (`define`), listing
//! many domains (`list`), opening a manager on many domains (`cold`), and
//! many clients at once (`concurrency`).

use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use qvirt::driver::ListFilter;
use qvirt::{Driver, Error, ErrorCode, Result};

use crate::fixture::{Fixture, Kind};
use crate::guests;
use crate::stats::{Metric, Samples, median, own_rss_kib, rss_kib};

/// Lookup+info pairs timed on one connection.
const RPC_PAIRS: usize = 10_000;
/// Pairs timed per client in `concurrency`.
const CONC_PAIRS: usize = 2_000;
/// Clients in `concurrency`.
const CONC_CLIENTS: usize = 8;
/// Definitions created and removed in `define`.
const DEFINES: usize = 1_000;
/// Manager openings timed per size in `cold`.
const COLD_REPS: usize = 3;

/// A fixture with `n` firmware domains of `group` defined: written as
/// files before opening when the fixture has its own root, else defined
/// through the API. Returns the fixture and the names.
pub fn with_domains(kind: &Kind, group: &str, n: usize) -> Result<(Fixture, Vec<String>)> {
    let mut fx = Fixture::create(kind)?;
    let set = guests::firmware_set(group, n);
    let names = set.iter().map(|(name, _)| name.clone()).collect();
    if fx.can_seed() {
        fx.seed(set)?;
        fx.open()?;
    } else {
        fx.open()?;
        let c = fx.client()?;
        for (_, xml) in &set {
            c.define_xml(xml)?;
        }
    }
    Ok((fx, names))
}

/// `rpc`: 10,000 lookup_by_name + info pairs on one connection, with
/// 1,000 domains defined; then each call alone, 2,000 times; over
/// `qemu+ssh://`, then 2,000 echo round trips through ssh itself.
pub fn rpc(kind: &Kind) -> Result<Vec<Metric>> {
    let (fx, names) = with_domains(kind, "rpc", 1_000)?;
    let c = fx.client()?;
    let pair = |i: usize| -> Result<()> {
        let d = c.lookup_by_name(&names[(i * 7) % names.len()])?;
        c.info(&d).map(drop)
    };
    for i in 0..500 {
        pair(i)?;
    }
    let mut pairs = Samples::with_capacity(RPC_PAIRS);
    for i in 0..RPC_PAIRS {
        pairs.time(|| pair(i))?;
    }
    let (mut lookups, mut infos) = (Samples::default(), Samples::default());
    for i in 0..2_000 {
        let d = lookups.time(|| c.lookup_by_name(&names[(i * 11) % names.len()]))?;
        infos.time(|| c.info(&d))?;
    }
    // Over ssh: its own round trip, in the same run.
    let echo = match kind {
        Kind::Uri(uri) => crate::ssh_echo::round_trips(uri, 2_000)?,
        _ => None,
    };
    Ok([
        Metric::dist(
            "rpc_us",
            "lookup_by_name + info, one connection",
            "µs",
            &pairs,
            1e3,
        ),
        Metric::dist(
            "rpc_lookup_us",
            "  lookup_by_name alone",
            "µs",
            &lookups,
            1e3,
        ),
        Metric::dist("rpc_info_us", "  info alone", "µs", &infos, 1e3),
        echo.as_ref().and_then(|e| {
            Metric::dist(
                "rpc_ssh_echo_us",
                "  the floor: one round trip through ssh (cat)",
                "µs",
                e,
                1e3,
            )
        }),
    ]
    .into_iter()
    .flatten()
    .collect())
}

/// `define`: 1,000 durable defines of firmware domains, then 1,000
/// undefines (the handles come from the defines, so no lookup is timed).
pub fn define(kind: &Kind) -> Result<Vec<Metric>> {
    let fx = Fixture::open_new(kind)?;
    let c = fx.client()?;
    // One untimed round trip, so first-use costs are not counted.
    let warm = c.define_xml(&guests::firmware(&guests::name("defwarm", 0)))?;
    c.undefine(&warm)?;
    let set = guests::firmware_set("def", DEFINES);
    let mut defines = Samples::with_capacity(DEFINES);
    let mut handles = Vec::with_capacity(DEFINES);
    for (_, xml) in &set {
        handles.push(defines.time(|| c.define_xml(xml))?);
    }
    let listed = c.list(ListFilter::ALL)?.len();
    if listed < DEFINES {
        return Err(mismatch("after the defines, list", DEFINES, listed));
    }
    let mut undefines = Samples::with_capacity(DEFINES);
    for d in &handles {
        undefines.time(|| c.undefine(d))?;
    }
    Ok([
        Metric::dist(
            "define_ms",
            "define (durable, firmware XML)",
            "ms",
            &defines,
            1.0,
        ),
        Metric::dist("undefine_ms", "undefine", "ms", &undefines, 1.0),
    ]
    .into_iter()
    .flatten()
    .collect())
}

/// `list`: `list(ALL)` with 1,000 and with 10,000 domains defined.
pub fn list(kind: &Kind) -> Result<Vec<Metric>> {
    let mut out = Vec::new();
    for (n, calls, key) in [(1_000, 50, "list_1000_ms"), (10_000, 20, "list_10000_ms")] {
        let (fx, _) = with_domains(kind, "list", n)?;
        let c = fx.client()?;
        c.list(ListFilter::ALL)?;
        let mut lat = Samples::with_capacity(calls);
        for _ in 0..calls {
            let got = lat.time(|| c.list(ListFilter::ALL))?.len();
            if got < n {
                return Err(mismatch("list", n, got));
            }
        }
        out.extend(Metric::dist(
            key,
            format!("list all, {n} defined"),
            "ms",
            &lat,
            1.0,
        ));
    }
    Ok(out)
}

/// `cold`: open the manager (embed: the in-process driver; daemon: spawn
/// `qvirtd`) on a root holding 1,000 and then 10,000 definitions, until
/// the first complete list; three times each. Memory: the daemon's
/// VmRSS after the list (median of the runs); in-process, how much the
/// first opening grew this process's VmRSS.
pub fn cold(kind: &Kind) -> Result<Vec<Metric>> {
    if matches!(kind, Kind::Uri(_)) {
        return Err(Error::new(
            ErrorCode::NoSupport,
            "cold needs a fresh root (--uri embed or daemon)",
        ));
    }
    let mut out = Vec::new();
    for (n, key, rss_key) in [
        (1_000, "cold_start_1000_ms", "rss_1000_kib"),
        (10_000, "cold_start_10000_ms", "rss_10000_kib"),
    ] {
        let mut fx = Fixture::create(kind)?;
        fx.seed(guests::firmware_set("cold", n))?;
        let mut times = Samples::default();
        let mut rss = Vec::new();
        for rep in 0..COLD_REPS {
            let before = own_rss_kib().unwrap_or(0);
            let t0 = Instant::now();
            fx.open()?;
            let c = fx.client()?;
            let got = c.list(ListFilter::ALL)?.len();
            times.push(t0.elapsed());
            if got != n {
                return Err(mismatch("the first list", n, got));
            }
            match fx.daemon_pid() {
                Some(pid) => rss.extend(rss_kib(pid).map(|k| k as f64)),
                // Freed memory stays in this process's heap, so only the
                // first opening shows what the driver needs.
                None if rep == 0 => {
                    rss.push(own_rss_kib().unwrap_or(0).saturating_sub(before) as f64)
                }
                None => {}
            }
            drop(c);
            fx.close()?;
        }
        let what = match kind {
            Kind::Embed => "open embedded driver",
            _ => "spawn qvirtd",
        };
        out.extend(Metric::dist(
            key,
            format!("{what} with {n} defined -> first full list"),
            "ms",
            &times,
            1.0,
        ));
        if let Some(m) = median(&rss) {
            let what = match kind {
                Kind::Embed => "bench process RSS growth",
                _ => "qvirtd RSS after the list",
            };
            out.push(Metric::single(
                rss_key,
                format!("{what}, {n} defined"),
                "KiB",
                m,
            ));
        }
    }
    Ok(out)
}

/// `concurrency`: 1 and then 8 clients, each making 2,000 lookup+info
/// pairs as fast as it can, all starting together; calls (two per pair)
/// per second over the wall time from the start to the last client's end.
pub fn concurrency(kind: &Kind) -> Result<Vec<Metric>> {
    let (fx, names) = with_domains(kind, "conc", 1_000)?;
    let mut out = Vec::new();
    for (clients, key) in [
        (1, "concurrency_1_calls_per_s"),
        (CONC_CLIENTS, "concurrency_calls_per_s"),
    ] {
        let conns: Vec<Arc<dyn Driver>> =
            (0..clients).map(|_| fx.client()).collect::<Result<_>>()?;
        let wall = run_clients(&conns, &names)?;
        let calls = (2 * clients * CONC_PAIRS) as f64;
        out.push(Metric::single(
            key,
            format!("{clients} client(s) x {CONC_PAIRS} lookup+info, calls (2 per pair)"),
            "calls/s",
            calls / wall.as_secs_f64(),
        ));
    }
    Ok(out)
}

/// Runs one thread per client, released together, each doing
/// [`CONC_PAIRS`] lookup+info pairs; returns the wall time.
fn run_clients(conns: &[Arc<dyn Driver>], names: &[String]) -> Result<Duration> {
    let start = Barrier::new(conns.len() + 1);
    std::thread::scope(|s| {
        let workers: Vec<_> = conns
            .iter()
            .enumerate()
            .map(|(k, c)| {
                let start = &start;
                s.spawn(move || -> Result<Instant> {
                    start.wait();
                    for i in 0..CONC_PAIRS {
                        let d = c.lookup_by_name(&names[(k * 131 + i * 7) % names.len()])?;
                        c.info(&d)?;
                    }
                    Ok(Instant::now())
                })
            })
            .collect();
        start.wait();
        let t0 = Instant::now();
        let mut last = t0;
        for w in workers {
            let end = w.join().expect("a client thread panicked")?;
            last = last.max(end);
        }
        Ok(last - t0)
    })
}

/// The error for a count that is not what the scenario set up.
fn mismatch(what: &str, want: usize, got: usize) -> Error {
    Error::new(
        ErrorCode::Internal,
        format!("{what} returned {got} domains, expected {want}"),
    )
}
