//! Measurements and their summaries: latency samples reduced to a median
//! and a 99th percentile, single figures, and the metric records the
//! report prints.

use std::time::{Duration, Instant};

/// A set of latency samples, in milliseconds.
#[derive(Debug, Default, Clone)]
pub struct Samples(Vec<f64>);

impl Samples {
    /// An empty set with room for `n` samples.
    pub fn with_capacity(n: usize) -> Samples {
        Samples(Vec::with_capacity(n))
    }

    /// Records one duration.
    pub fn push(&mut self, d: Duration) {
        self.0.push(d.as_secs_f64() * 1e3);
    }

    /// Runs `f`, records how long it took, and returns its result.
    pub fn time<T>(&mut self, f: impl FnOnce() -> T) -> T {
        let t0 = Instant::now();
        let out = f();
        self.push(t0.elapsed());
        out
    }

    /// The median and the 99th percentile, scaled by `scale` (1 for
    /// milliseconds, 1000 for microseconds). `None` without samples.
    pub fn summary(&self, scale: f64) -> Option<Dist> {
        if self.0.is_empty() {
            return None;
        }
        let mut v: Vec<f64> = self.0.iter().map(|x| x * scale).collect();
        v.sort_by(f64::total_cmp);
        Some(Dist {
            median: median_sorted(&v),
            p99: percentile_sorted(&v, 99.0),
            n: v.len(),
        })
    }
}

/// A latency distribution: median, 99th percentile, sample count.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dist {
    /// The median (the mean of the two middle samples for an even count).
    pub median: f64,
    /// The 99th percentile (nearest rank).
    pub p99: f64,
    /// How many samples.
    pub n: usize,
}

/// The median of sorted values (the mean of the two middle ones for an
/// even count).
fn median_sorted(v: &[f64]) -> f64 {
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// The `p`th percentile of sorted values by the nearest-rank method: the
/// smallest sample with at least `p`% of the samples at or below it.
fn percentile_sorted(v: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
    v[rank.clamp(1, v.len()) - 1]
}

/// The median of plain values (e.g. one figure from each repetition).
pub fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    Some(median_sorted(&v))
}

/// What a metric holds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    /// One figure.
    Single(f64),
    /// A distribution.
    Dist(Dist),
}

/// One line of the report: a JSON key, words for people, the unit and
/// the value.
#[derive(Debug, Clone)]
pub struct Metric {
    /// The key in the JSON object (`rpc_us`).
    pub key: &'static str,
    /// What was measured, for the table.
    pub label: String,
    /// The unit (`ms`, `µs`, `KiB`, `calls/s`).
    pub unit: &'static str,
    /// The value.
    pub value: Value,
}

impl Metric {
    /// A distribution metric; `None` when there were no samples.
    pub fn dist(
        key: &'static str,
        label: impl Into<String>,
        unit: &'static str,
        samples: &Samples,
        scale: f64,
    ) -> Option<Metric> {
        samples.summary(scale).map(|d| Metric {
            key,
            label: label.into(),
            unit,
            value: Value::Dist(d),
        })
    }

    /// A single-figure metric.
    pub fn single(
        key: &'static str,
        label: impl Into<String>,
        unit: &'static str,
        value: f64,
    ) -> Metric {
        Metric {
            key,
            label: label.into(),
            unit,
            value: Value::Single(value),
        }
    }
}

/// The resident set size of process `pid` (VmRSS of /proc/PID/status),
/// in KiB.
pub fn rss_kib(pid: u32) -> Option<u64> {
    rss_from(&format!("/proc/{pid}/status"))
}

/// The resident set size of this process, in KiB.
pub fn own_rss_kib() -> Option<u64> {
    rss_from("/proc/self/status")
}

/// Reads the VmRSS line of a /proc status file.
fn rss_from(path: &str) -> Option<u64> {
    let text = std::fs::read_to_string(path).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_p99() {
        let mut s = Samples::default();
        for ms in 1..=100u64 {
            s.push(Duration::from_millis(ms));
        }
        let d = s.summary(1.0).unwrap();
        assert!((d.median - 50.5).abs() < 1e-9, "{d:?}");
        assert!((d.p99 - 99.0).abs() < 1e-9, "{d:?}");
        assert_eq!(d.n, 100);
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert!(Samples::default().summary(1.0).is_none());
    }

    #[test]
    fn reads_own_rss() {
        assert!(own_rss_kib().unwrap() > 0);
    }
}
