//! Scenarios that run VMs: start/destroy cycles beside the raw-QEMU floor
//! (`startstop`), a hundred VMs started at once while another client
//! lists (`storm`), and booting the Linux test guest to its ready marker
//! and shutting it down by ACPI (`boot`).

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use qvirt::driver::{ListFilter, ShutdownOptions};
use qvirt::{Domain, DomainState, Driver, Error, ErrorCode, Result};

use crate::api::with_domains;
use crate::fixture::{Fixture, Kind};
use crate::guests;
use crate::raw::RawQemu;
use crate::stats::{Metric, Samples};

/// Start/destroy cycles in `startstop`.
const CYCLES: usize = 20;
/// VMs in `storm`.
const STORM_VMS: usize = 100;
/// Client threads starting them.
const STORM_CLIENTS: usize = 8;
/// The pause between the monitoring client's list calls during a storm.
const STORM_LIST_PAUSE: Duration = Duration::from_millis(2);
/// Boots of the Linux guest in `boot`.
const BOOTS: usize = 5;
/// What the test guest prints on its console once it is up.
const READY_MARKER: &[u8] = b"QVIRT-GUEST-READY";
/// How long a boot may take before the scenario fails.
const BOOT_TIMEOUT: Duration = Duration::from_secs(120);

/// `startstop`: 20 start/destroy cycles of a firmware VM, interleaved
/// with cycles of the same command line run directly (the floor), so both
/// see the same machine load.
pub fn startstop(kind: &Kind) -> Result<Vec<Metric>> {
    let fx = Fixture::open_new(kind)?;
    let c = fx.client()?;
    let xml = guests::firmware(&guests::name("cycle", 0));
    let dom = c.define_xml(&xml)?;
    let raw = RawQemu::new(&xml)?;
    // Untimed: the capabilities probe and a warm page cache.
    let d = c.start(&dom)?;
    c.destroy(&d)?;
    raw.cycle()?;
    let (mut start, mut destroy) = (Samples::default(), Samples::default());
    let (mut raw_start, mut raw_stop) = (Samples::default(), Samples::default());
    for i in 0..CYCLES {
        // Alternate which goes first, so neither always follows the
        // other's teardown.
        if i % 2 == 1 {
            let (s, k) = raw.cycle()?;
            raw_start.push(s);
            raw_stop.push(k);
        }
        let d = start.time(|| c.start(&dom))?;
        expect_state(c.as_ref(), &d, DomainState::Running)?;
        destroy.time(|| c.destroy(&d))?;
        expect_state(c.as_ref(), &d, DomainState::Shutoff)?;
        if i % 2 == 0 {
            let (s, k) = raw.cycle()?;
            raw_start.push(s);
            raw_stop.push(k);
        }
    }
    let mut out: Vec<Metric> = [
        Metric::dist(
            "start_ms",
            "start (firmware VM, running, QMP ready)",
            "ms",
            &start,
            1.0,
        ),
        Metric::dist("destroy_ms", "destroy", "ms", &destroy, 1.0),
        Metric::dist(
            "raw_start_ms",
            "raw floor: exec -> QMP ready -> cont",
            "ms",
            &raw_start,
            1.0,
        ),
        Metric::dist(
            "raw_stop_ms",
            "raw floor: SIGTERM -> reaped",
            "ms",
            &raw_stop,
            1.0,
        ),
    ]
    .into_iter()
    .flatten()
    .collect();
    if let (Some(s), Some(r)) = (start.summary(1.0), raw_start.summary(1.0)) {
        out.push(Metric::single(
            "start_minus_raw_ms",
            "start minus raw floor (medians)",
            "ms",
            s.median - r.median,
        ));
    }
    Ok(out)
}

/// `storm`: 100 firmware VMs started by 8 client threads at once (their
/// own connections, or the shared driver in-process) while another client
/// lists in a loop; then all destroyed the same way.
pub fn storm(kind: &Kind) -> Result<Vec<Metric>> {
    let (fx, names) = with_domains(kind, "storm", STORM_VMS)?;
    let clients: Vec<Arc<dyn Driver>> = (0..STORM_CLIENTS)
        .map(|_| fx.client())
        .collect::<Result<_>>()?;
    let lister = fx.client()?;
    let doms: Vec<Domain> = names
        .iter()
        .map(|n| lister.lookup_by_name(n))
        .collect::<Result<_>>()?;
    // Warm the capabilities cache outside the timed storm.
    let warm = lister.start(&doms[0])?;
    lister.destroy(&warm)?;

    let (all_running, list_up, started) =
        in_parallel(&clients, lister.as_ref(), &doms, |c, d| c.start(d))?;
    let running = lister.list(ListFilter::ACTIVE)?;
    let running_ours = running
        .iter()
        .filter(|s| names.contains(&s.domain.name) && s.state == DomainState::Running)
        .count();
    if running_ours != STORM_VMS {
        return Err(Error::new(
            ErrorCode::Internal,
            format!("after the storm {running_ours} of {STORM_VMS} VMs run"),
        ));
    }
    let (all_down, list_down, _) =
        in_parallel(&clients, lister.as_ref(), &started, |c, d| c.destroy(d))?;
    let left = lister.list(ListFilter::ACTIVE)?.len();
    if left != 0 {
        return Err(Error::new(
            ErrorCode::Internal,
            format!("{left} VMs still run after destroying all"),
        ));
    }
    let list_p99 = list_up.summary(1.0).map(|d| {
        Metric::single(
            "storm_list_p99_ms",
            "  list all during the starts, p99",
            "ms",
            d.p99,
        )
    });
    Ok([
        Some(Metric::single(
            "storm_running",
            format!("{STORM_VMS} VMs started by {STORM_CLIENTS} clients: running at the end"),
            "VMs",
            running_ours as f64,
        )),
        Some(Metric::single(
            "storm_all_running_s",
            "  time until all ran",
            "s",
            all_running.as_secs_f64(),
        )),
        Metric::dist(
            "storm_list_ms",
            "  list all by another client during the starts",
            "ms",
            &list_up,
            1.0,
        ),
        list_p99,
        Some(Metric::single(
            "storm_destroy_all_ms",
            format!("{STORM_VMS} VMs destroyed by {STORM_CLIENTS} clients: all off"),
            "ms",
            ms(all_down),
        )),
        Metric::dist(
            "storm_destroy_list_ms",
            "  list all by another client during the destroys",
            "ms",
            &list_down,
            1.0,
        ),
    ]
    .into_iter()
    .flatten()
    .collect())
}

/// Applies `op` to every domain of `doms`, the clients taking the next
/// one as each finishes, while `lister` lists in a loop. Returns the wall
/// time until every call returned, the list latencies, and what the calls
/// returned. Every call is made even if some fail; then the first error
/// is returned.
fn in_parallel<T: Send>(
    clients: &[Arc<dyn Driver>],
    lister: &dyn Driver,
    doms: &[Domain],
    op: impl Fn(&dyn Driver, &Domain) -> Result<T> + Sync,
) -> Result<(Duration, Samples, Vec<T>)> {
    let next = AtomicUsize::new(0);
    let done = AtomicBool::new(false);
    std::thread::scope(|s| {
        let listing = s.spawn(|| -> Result<Samples> {
            let mut lat = Samples::default();
            while !done.load(Ordering::SeqCst) {
                lat.time(|| lister.list(ListFilter::ALL))?;
                std::thread::sleep(STORM_LIST_PAUSE);
            }
            Ok(lat)
        });
        let t0 = Instant::now();
        let workers: Vec<_> = clients
            .iter()
            .map(|c| {
                let (next, op) = (&next, &op);
                s.spawn(move || {
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::SeqCst);
                        let Some(d) = doms.get(i) else {
                            return out;
                        };
                        out.push(op(c.as_ref(), d));
                    }
                })
            })
            .collect();
        let mut results = Vec::with_capacity(doms.len());
        let mut panicked = false;
        for w in workers {
            match w.join() {
                Ok(r) => results.extend(r),
                Err(_) => panicked = true,
            }
        }
        let wall = t0.elapsed();
        done.store(true, Ordering::SeqCst);
        let lat = listing
            .join()
            .map_err(|_| Error::new(ErrorCode::Internal, "the listing thread panicked"))??;
        if panicked {
            return Err(Error::new(ErrorCode::Internal, "a client thread panicked"));
        }
        let values = results.into_iter().collect::<Result<Vec<T>>>()?;
        Ok((wall, lat, values))
    })
}

/// `boot`: the Linux test guest, 5 times: from `start` to the ready
/// marker on its console, then from `shutdown` (ACPI, waiting) to shut
/// off.
pub fn boot(kind: &Kind, guest: Option<&Path>) -> Result<Vec<Metric>> {
    let dir = guests::guest_dir(guest)?;
    let fx = Fixture::open_new(kind)?;
    let c = fx.client()?;
    let name = guests::name("boot", 0);
    let dom = c.define_xml(&guests::linux(&name, &dir))?;
    let console_log = fx
        .root()
        .map(|r| r.join("log").join(format!("{name}.console.log")));
    let (mut boot, mut shutdown) = (Samples::default(), Samples::default());
    for _ in 0..BOOTS {
        let t0 = Instant::now();
        let log_from = console_log
            .as_ref()
            .and_then(|p| std::fs::metadata(p).ok())
            .map_or(0, |m| m.len());
        let d = c.start(&dom)?;
        wait_ready(c.as_ref(), &d, console_log.as_deref(), log_from, t0)?;
        boot.push(t0.elapsed());
        let options = ShutdownOptions::NO_WAIT.with_wait(Duration::from_secs(60));
        shutdown.time(|| c.shutdown(&d, options))?;
        expect_state(c.as_ref(), &d, DomainState::Shutoff)?;
    }
    Ok([
        Metric::dist(
            "boot_ms",
            "Linux guest: start -> QVIRT-GUEST-READY on the console",
            "ms",
            &boot,
            1.0,
        ),
        Metric::dist(
            "shutdown_ms",
            "ACPI shutdown (waiting) -> shut off",
            "ms",
            &shutdown,
            1.0,
        ),
    ]
    .into_iter()
    .flatten()
    .collect())
}

/// Waits for the ready marker: read through the console stream, or, if
/// the console cannot be opened, by polling the console log file from
/// byte `log_from` every 2 ms.
fn wait_ready(
    c: &dyn Driver,
    d: &Domain,
    log: Option<&Path>,
    log_from: u64,
    t0: Instant,
) -> Result<()> {
    let timed_out = || {
        Error::new(
            ErrorCode::Timeout,
            format!("the guest printed no ready marker in {BOOT_TIMEOUT:?}"),
        )
    };
    let mut seen = Vec::new();
    match c.console(d, true) {
        Ok(mut con) => loop {
            seen.extend(con.read(Duration::from_millis(100))?);
            if contains(&seen, READY_MARKER) {
                return Ok(());
            }
            if t0.elapsed() > BOOT_TIMEOUT {
                return Err(timed_out());
            }
        },
        Err(e) => {
            let Some(log) = log else {
                return Err(e);
            };
            eprintln!(
                "qvirt-bench: console unavailable ({e}); polling {}",
                log.display()
            );
            loop {
                let data = std::fs::read(log).unwrap_or_default();
                let new = data.get(log_from as usize..).unwrap_or_default();
                if contains(new, READY_MARKER) {
                    return Ok(());
                }
                if t0.elapsed() > BOOT_TIMEOUT {
                    return Err(timed_out());
                }
                std::thread::sleep(Duration::from_millis(2));
            }
        }
    }
}

/// Whether `needle` occurs in `haystack`.
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Fails unless `d` is in `want`.
fn expect_state(c: &dyn Driver, d: &Domain, want: DomainState) -> Result<()> {
    let info = c.info(d)?;
    if info.state != want {
        return Err(Error::new(
            ErrorCode::Internal,
            format!(
                "domain '{}' is {}, expected {}",
                d.name,
                info.state.as_str(),
                want.as_str()
            ),
        ));
    }
    Ok(())
}

/// A duration in milliseconds.
fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
