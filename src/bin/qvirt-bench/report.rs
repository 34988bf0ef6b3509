//! The results of a run, as a table for people or one JSON object: each
//! metric under its key, a number or `{"median", "p99", "n"}`, beside the
//! target, the scenarios run and any failures.

use std::fmt::Write;

use serde_json::{Map, Value as Json, json};

use crate::stats::{Metric, Value};

/// What a run produced.
pub struct Report {
    target: String,
    /// The 1-minute load average when the run began and when it ended: a
    /// busy machine shows in every figure.
    load: (Option<f64>, Option<f64>),
    /// How busy the CPUs were (percent) in the half second before the
    /// run: what other work the figures competed with.
    busy_before: Option<f64>,
    scenarios: Vec<(&'static str, Vec<Metric>)>,
    errors: Vec<(&'static str, String)>,
}

impl Report {
    /// An empty report for the target labelled `target`.
    pub fn new(target: String) -> Report {
        Report {
            target,
            load: (load_average(), None),
            busy_before: cpu_busy(std::time::Duration::from_millis(500)),
            scenarios: Vec::new(),
            errors: Vec::new(),
        }
    }

    /// Records the metrics of a scenario that succeeded.
    pub fn add(&mut self, scenario: &'static str, metrics: Vec<Metric>) {
        self.scenarios.push((scenario, metrics));
    }

    /// Records a scenario that failed.
    pub fn fail(&mut self, scenario: &'static str, error: String) {
        self.errors.push((scenario, error));
    }

    /// Notes the load average at the end of the run.
    pub fn finish(&mut self) {
        self.load.1 = load_average();
    }

    /// Whether any scenario failed.
    pub fn failed(&self) -> bool {
        !self.errors.is_empty()
    }

    /// The JSON object: `target`, `scenarios`, `errors`, and every metric
    /// by key.
    pub fn json(&self) -> String {
        let mut obj = Map::new();
        obj.insert("target".into(), json!(self.target));
        obj.insert("loadavg_start".into(), json!(self.load.0));
        obj.insert("loadavg_end".into(), json!(self.load.1));
        obj.insert("cpu_busy_pct_before".into(), json!(self.busy_before));
        obj.insert(
            "scenarios".into(),
            json!(self.scenarios.iter().map(|(s, _)| *s).collect::<Vec<_>>()),
        );
        let errors: Map<String, Json> = self
            .errors
            .iter()
            .map(|(s, e)| (s.to_string(), json!(e)))
            .collect();
        obj.insert("errors".into(), Json::Object(errors));
        for (_, metrics) in &self.scenarios {
            for m in metrics {
                let v = match m.value {
                    Value::Single(x) => json!(round(x)),
                    Value::Dist(d) => json!({
                        "median": round(d.median),
                        "p99": round(d.p99),
                        "n": d.n,
                    }),
                };
                obj.insert(m.key.to_string(), v);
            }
        }
        serde_json::to_string_pretty(&Json::Object(obj)).expect("JSON of plain values")
    }

    /// The table: one line per metric, grouped by scenario.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let load = |l: Option<f64>| l.map_or("?".to_string(), |l| format!("{l:.2}"));
        let _ = writeln!(
            out,
            "qvirt-bench, target: {} (CPUs {}% busy before the run; load average {} at the start, {} at the end)",
            self.target,
            self.busy_before
                .map_or("?".to_string(), |b| format!("{b:.0}")),
            load(self.load.0),
            load(self.load.1)
        );
        let _ = writeln!(
            out,
            "{:<12} {:<62} {:>12} {:>12}  unit",
            "scenario", "measure", "median", "p99"
        );
        for (scenario, metrics) in &self.scenarios {
            for m in metrics {
                let (a, b) = match m.value {
                    Value::Single(x) => (fmt_num(x), String::new()),
                    Value::Dist(d) => (fmt_num(d.median), fmt_num(d.p99)),
                };
                let _ = writeln!(
                    out,
                    "{:<12} {:<62} {:>12} {:>12}  {}",
                    scenario, m.label, a, b, m.unit
                );
            }
        }
        for (scenario, e) in &self.errors {
            let _ = writeln!(out, "{scenario:<12} FAILED: {e}");
        }
        out
    }
}

/// The 1-minute load average, from /proc/loadavg.
fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The share of CPU time, in percent, that was not idle over `span`
/// (from the first line of /proc/stat).
fn cpu_busy(span: std::time::Duration) -> Option<f64> {
    let sample = || -> Option<(u64, u64)> {
        let text = std::fs::read_to_string("/proc/stat").ok()?;
        let v: Vec<u64> = text
            .lines()
            .next()?
            .split_whitespace()
            .skip(1)
            .filter_map(|x| x.parse().ok())
            .collect();
        // user nice system idle iowait irq softirq steal ...
        let idle = v.get(3)? + v.get(4).copied().unwrap_or(0);
        Some((v.iter().take(8).sum(), idle))
    };
    let (t0, i0) = sample()?;
    std::thread::sleep(span);
    let (t1, i1) = sample()?;
    let total = t1.checked_sub(t0).filter(|&t| t > 0)?;
    Some(100.0 * (1.0 - (i1 - i0) as f64 / total as f64))
}

/// Rounds to three decimals, so the JSON stays readable.
fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// A number with precision that suits its size.
fn fmt_num(x: f64) -> String {
    if x.abs() >= 1000.0 {
        format!("{x:.0}")
    } else if x.abs() >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.3}")
    }
}
