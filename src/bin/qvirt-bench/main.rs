//! `qvirt-bench`: qvirt's performance harness.
//!
//! `qvirt-bench --uri embed|daemon|URI [--only a,b,...] [--json]` runs the
//! scenarios below against a fresh in-process root (`embed`), a `qvirtd`
//! started from beside this program on a fresh root (`daemon`), or an
//! existing manager (a literal URI; there only `qvb-*` domains are touched
//! and `cold` cannot run). Each scenario sets up its own fixture and
//! removes everything it made, even when it fails.
//!
//! | scenario | measures |
//! |---|---|
//! | `rpc` | 10,000 lookup_by_name + info pairs on one connection (over ssh: beside ssh's own echo round trip) |
//! | `define` | 1,000 durable defines, then 1,000 undefines |
//! | `list` | list all with 1,000 and with 10,000 defined |
//! | `cold` | open on a root with 1,000 / 10,000 defined -> first list; RSS |
//! | `startstop` | 20 start/destroy cycles of a firmware VM, and the raw floor |
//! | `storm` | 100 VMs started by 8 clients; another client's list latency |
//! | `concurrency` | 1 and 8 clients x 2,000 lookup+info pairs: calls/s |
//! | `boot` | the Linux test guest: start -> ready marker; ACPI shutdown |
//! | `migrate` | a running VM moved between two managers, and the QMP floor |
//! | `snapshot` | internal snapshot and revert of a running 256 MiB VM, an external disk-only snapshot; each beside its bare QMP floor |

mod api;
mod fixture;
mod guests;
mod migrate;
mod raw;
mod report;
mod snapshots;
mod ssh_echo;
mod stats;
mod vms;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

use fixture::Kind;
use stats::Metric;

/// qvirt's benchmark harness.
#[derive(Parser, Debug)]
#[command(
    name = "qvirt-bench",
    about = "Measures qvirt: API calls, VM lifecycle, boot"
)]
struct Args {
    /// `embed` (a fresh in-process root), `daemon` (a fresh root behind a
    /// qvirtd of our own), or a literal URI.
    #[arg(long)]
    uri: String,
    /// Run only these scenarios, comma-separated (default: all).
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    json: bool,
    /// The test guest's directory (default: what
    /// tests/guest/build-guest.sh builds or finds).
    #[arg(long, value_name = "DIR")]
    guest: Option<PathBuf>,
}

/// Every scenario, in the order they run. `define` comes first, as in
/// libvirt's harness: on ext4 without a journal, creating a file is slow
/// for minutes after many files near it were deleted, and the other
/// scenarios' fixtures delete thousands. `cold` comes next so its
/// in-process memory figure is taken before other scenarios grow the heap.
const SCENARIOS: [&str; 10] = [
    "define",
    "cold",
    "rpc",
    "list",
    "concurrency",
    "startstop",
    "storm",
    "boot",
    "migrate",
    "snapshot",
];

fn main() -> ExitCode {
    let args = Args::parse();
    let unknown: Vec<&String> = args
        .only
        .iter()
        .filter(|s| !SCENARIOS.contains(&s.as_str()))
        .collect();
    if !unknown.is_empty() {
        eprintln!(
            "qvirt-bench: unknown scenario(s) {unknown:?}; known: {}",
            SCENARIOS.join(",")
        );
        return ExitCode::from(2);
    }
    let kind = Kind::parse(&args.uri);
    let mut report = report::Report::new(kind.label());
    for name in SCENARIOS {
        if !args.only.is_empty() && !args.only.iter().any(|s| s == name) {
            continue;
        }
        eprintln!("qvirt-bench: {name} ({})", kind.label());
        let t0 = std::time::Instant::now();
        match run(name, &kind, &args) {
            Ok(metrics) => report.add(name, metrics),
            Err(e) => {
                eprintln!("qvirt-bench: {name} failed: {e}");
                report.fail(name, e.to_string());
            }
        }
        eprintln!(
            "qvirt-bench: {name} took {:.1} s",
            t0.elapsed().as_secs_f64()
        );
    }
    report.finish();
    if args.json {
        println!("{}", report.json());
    } else {
        print!("{}", report.table());
    }
    if report.failed() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Runs scenario `name`.
fn run(name: &str, kind: &Kind, args: &Args) -> qvirt::Result<Vec<Metric>> {
    match name {
        "rpc" => api::rpc(kind),
        "define" => api::define(kind),
        "list" => api::list(kind),
        "cold" => api::cold(kind),
        "concurrency" => api::concurrency(kind),
        "startstop" => vms::startstop(kind),
        "storm" => vms::storm(kind),
        "boot" => vms::boot(kind, args.guest.as_deref()),
        "migrate" => migrate::migrate(kind),
        "snapshot" => snapshots::snapshot(kind),
        _ => unreachable!("names are checked against SCENARIOS"),
    }
}
