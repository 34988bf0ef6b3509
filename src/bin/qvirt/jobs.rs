//! Long-running operations and their jobs: `save` and `managedsave` (with
//! `--bandwidth`, and a progress bar on a terminal), `domjobinfo` and
//! `domjobabort`.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use qvirt::driver::{JobInfo, MigrateOptions, SaveOptions};
use qvirt::{Domain, Driver, Result};
use serde_json::json;

use crate::args::RestoreState;
use crate::{Ctx, outln, read_input};

/// How often the progress bar asks for the job's figures.
const POLL: Duration = Duration::from_millis(200);

/// Runs `operation` (a save of `dom`) and, when stderr is a terminal,
/// shows its progress from [`Driver::job_info`] meanwhile.
fn with_progress(
    driver: &dyn Driver,
    dom: &Domain,
    what: &str,
    operation: impl FnOnce() -> Result<()> + Send,
) -> Result<()> {
    if !std::io::stderr().is_terminal() {
        return operation();
    }
    with_progress_forced(driver, dom, what, operation)
}

/// [`with_progress`] whether or not stderr is a terminal.
fn with_progress_forced(
    driver: &dyn Driver,
    dom: &Domain,
    what: &str,
    operation: impl FnOnce() -> Result<()> + Send,
) -> Result<()> {
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(
            "{msg} [{elapsed_precise}] [{wide_bar}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.set_message(format!("{what} {}", dom.name));
    let done = std::sync::atomic::AtomicBool::new(false);
    let result = std::thread::scope(|s| {
        let watcher = s.spawn(|| {
            while !done.load(std::sync::atomic::Ordering::SeqCst) {
                // A daemon without job information just shows no figures.
                if let Ok(Some(info)) = driver.job_info(dom)
                    && info.data_total > 0
                {
                    bar.set_length(info.data_total);
                    bar.set_position(info.data_processed.min(info.data_total));
                }
                std::thread::sleep(POLL);
            }
        });
        let result = operation();
        done.store(true, std::sync::atomic::Ordering::SeqCst);
        let _ = watcher.join();
        result
    });
    if result.is_ok() {
        if let Some(total) = bar.length() {
            bar.set_position(total);
        }
        bar.finish();
    } else {
        bar.abandon();
    }
    result
}

/// The save options from `--bandwidth`, `--running`/`--paused` and
/// `--xml FILE`.
fn options(
    bandwidth: Option<u64>,
    state: RestoreState,
    xml: Option<&std::path::Path>,
) -> Result<SaveOptions> {
    let mut o = SaveOptions::default();
    if let Some(mib) = bandwidth {
        o = o.bandwidth(mib);
    }
    if let Some(running) = state.running() {
        o = o.running(running);
    }
    if let Some(file) = xml {
        o = o.xml(read_input(file)?);
    }
    Ok(o)
}

/// `save DOMAIN FILE [--bandwidth MiB/s] [--running|--paused] [--xml
/// FILE]`.
pub fn save(
    ctx: &mut Ctx,
    arg: &str,
    file: &std::path::Path,
    bandwidth: Option<u64>,
    state: RestoreState,
    xml: Option<&std::path::Path>,
) -> Result<()> {
    let options = options(bandwidth, state, xml)?;
    let dom = ctx.domain(arg)?;
    let driver = ctx.driver()?;
    with_progress(driver, &dom, "Saving", || {
        driver.save_with(&dom, file, options)
    })?;
    outln!("Domain '{}' saved to {}", dom.name, file.display())
}

/// `dump DOMAIN FILE [--live] [--crash|--reset] [--memory-only]
/// [--format F]`.
pub fn dump(
    ctx: &mut Ctx,
    arg: &str,
    file: &std::path::Path,
    o: qvirt::driver::DumpOptions,
) -> Result<()> {
    let dom = ctx.domain(arg)?;
    let driver = ctx.driver()?;
    with_progress(driver, &dom, "Dump", || driver.core_dump(&dom, file, o))?;
    outln!("Domain '{}' dumped to {}", dom.name, file.display())
}

/// `managedsave DOMAIN [--bandwidth MiB/s] [--running|--paused]`.
pub fn managed_save(
    ctx: &mut Ctx,
    arg: &str,
    bandwidth: Option<u64>,
    state: RestoreState,
) -> Result<()> {
    let options = options(bandwidth, state, None)?;
    let dom = ctx.domain(arg)?;
    let driver = ctx.driver()?;
    with_progress(driver, &dom, "Saving", || {
        driver.managed_save_with(&dom, options)
    })?;
    outln!("Domain '{}' state saved", dom.name)
}

/// `migrate [OPTIONS] DOMAIN DEST_URI`: quiet on success, as virsh.
pub fn migrate(
    ctx: &mut Ctx,
    arg: &str,
    dest: &str,
    options: MigrateOptions,
    verbose: bool,
) -> Result<()> {
    let dom = ctx.domain(arg)?;
    let driver = ctx.driver()?;
    let run = || driver.migrate(&dom, dest, options);
    if verbose || std::io::stderr().is_terminal() {
        with_progress_forced(driver, &dom, "Migration", run)
    } else {
        run()
    }
}

/// `domjobinfo DOMAIN [--json]`, in virsh's shape.
pub fn domjobinfo(ctx: &mut Ctx, arg: &str, completed: bool, json: bool) -> Result<()> {
    let dom = ctx.domain(arg)?;
    if completed {
        return domjobinfo_completed(ctx, &dom, json);
    }
    let info = ctx.driver()?.job_info(&dom)?;
    if json {
        let value = match &info {
            None => json!({"type": "none"}),
            Some(i) => json!({
                "type": "unbounded",
                "operation": i.kind.as_str(),
                "time_elapsed_ms": i.elapsed.as_millis() as u64,
                "data_total": i.data_total,
                "data_processed": i.data_processed,
                "data_remaining": i.data_remaining,
                "speed_bytes_per_s": i.speed,
            }),
        };
        return outln!("{value}");
    }
    let Some(i) = info else {
        return outln!("{:<17} None", "Job type:");
    };
    let lines = job_lines(&i);
    let mut text = String::new();
    for (label, value) in lines {
        text.push_str(&format!("{label:<17} {value}\n"));
    }
    outln!("{}", text.trim_end())
}

/// `domjobinfo --completed`: the last job that ended, as virsh shows it.
fn domjobinfo_completed(ctx: &mut Ctx, dom: &qvirt::Domain, json: bool) -> Result<()> {
    let done = ctx.driver()?.job_completed(dom)?;
    if json {
        let value = match &done {
            None => json!({"type": "none"}),
            Some(c) => json!({
                "type": c.outcome.as_str().to_lowercase(),
                "operation": c.info.kind.as_str(),
                "time_elapsed_ms": c.info.elapsed.as_millis() as u64,
                "data_total": c.info.data_total,
                "data_processed": c.info.data_processed,
                "data_remaining": c.info.data_remaining,
                "downtime_ms": c.downtime.map(|d| d.as_millis() as u64),
                "total_downtime_ms": c.total_downtime.map(|d| d.as_secs_f64() * 1e3),
            }),
        };
        return outln!("{value}");
    }
    let Some(c) = done else {
        return outln!("{:<17} None", "Job type:");
    };
    let mut lines = job_lines(&c.info);
    lines[0].1 = c.outcome.as_str().to_string();
    lines.retain(|(label, _)| *label != "Memory bandwidth:");
    // virsh's total downtime is the managers' measure; QEMU's own
    // follows it.
    if let Some(d) = c.total_downtime {
        lines.push(("Total downtime:", format!("{:<12} ms", d.as_millis())));
    }
    if let Some(d) = c.downtime {
        lines.push(("QEMU downtime:", format!("{:<12} ms", d.as_millis())));
    }
    let text: String = lines
        .iter()
        .map(|(label, value)| format!("{label:<17} {value}\n"))
        .collect();
    outln!("{}", text.trim_end())
}

/// The lines virsh's `domjobinfo` prints for a job.
fn job_lines(i: &JobInfo) -> Vec<(&'static str, String)> {
    let mib = |b: u64| format!("{:.3} MiB", b as f64 / (1024.0 * 1024.0));
    let mut lines = vec![
        ("Job type:", "Unbounded".to_string()),
        ("Operation:", capitalised(i.kind.as_str())),
        ("Time elapsed:", format!("{:<12} ms", i.elapsed.as_millis())),
    ];
    if i.data_total > 0 {
        lines.extend([
            ("Data processed:", mib(i.data_processed)),
            ("Data remaining:", mib(i.data_remaining)),
            ("Data total:", mib(i.data_total)),
        ]);
    }
    if i.speed > 0 {
        lines.push(("Memory bandwidth:", format!("{}/s", mib(i.speed))));
    }
    lines
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

/// `domjobabort DOMAIN`.
pub fn domjobabort(ctx: &mut Ctx, arg: &str) -> Result<()> {
    let dom = ctx.domain(arg)?;
    ctx.driver()?.job_abort(&dom)
}
