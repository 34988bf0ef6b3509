//! The host's CPU time and memory as libvirt's `virNodeGetCPUStats` and
//! `virNodeGetMemoryStats` give them (virsh's `nodecpustats` and
//! `nodememstats`), read as libvirt's Linux code reads them: CPU time
//! from `/proc/stat` (`kernel` is system, irq and softirq time, `user`
//! is user and nice, then `idle` and `iowait`, in nanoseconds), memory
//! from `/proc/meminfo` or a NUMA cell's `meminfo` (`total`, `free`, and
//! for the whole host `buffers` and `cached`, in KiB). A first call with
//! no room (`nparams` 0) learns how many there are.

use nix::unistd::{SysconfVar, sysconf};

use super::values::check_flags;
#[allow(unused_imports)]
use super::xdr::Xdr;
use super::xdr::xdr_struct;
use crate::driver::error::{Error, ErrorCode, Result};

xdr_struct! {
    /// `remote_node_get_cpu_stats` and `remote_node_get_memory_stats`: a
    /// named figure.
    pub struct NodeStat { pub field: String, pub value: u64 }
    /// `remote_node_get_cpu_stats_args`.
    pub struct NodeCpuStatsArgs { pub cpu_num: i32, pub nparams: i32, pub flags: u32 }
    /// `remote_node_get_memory_stats_args`.
    pub struct NodeMemoryStatsArgs { pub nparams: i32, pub cell_num: i32, pub flags: u32 }
    /// `remote_node_get_cpu_stats_ret` and `remote_node_get_memory_stats_ret`.
    pub struct NodeStatsRet { pub params: Vec<NodeStat>, pub nparams: i32 }
}

/// `VIR_NODE_CPU_STATS_ALL_CPUS` and `VIR_NODE_MEMORY_STATS_ALL_CELLS`.
const ALL: i32 = -1;

/// The figures, or with no room for them (`nparams` 0) their number; a
/// different room is libvirt's error.
fn answer(stats: Vec<NodeStat>, nparams: i32, function: &str) -> Result<NodeStatsRet> {
    let n = stats.len() as i32;
    if nparams == 0 {
        return Ok(NodeStatsRet {
            params: Vec::new(),
            nparams: n,
        });
    }
    if nparams != n {
        return Err(Error::new(
            ErrorCode::InvalidArgument,
            format!("nparams in {function} must be equal to {n}"),
        ));
    }
    Ok(NodeStatsRet {
        params: stats,
        nparams: n,
    })
}

fn stat(field: &str, value: u64) -> NodeStat {
    NodeStat {
        field: field.to_string(),
        value,
    }
}

fn read(path: &str) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| Error::io(format!("cannot read {path}"), e))
}

/// `virNodeGetCPUStats`: all CPUs (`cpuNum` -1) or one.
pub fn cpu_stats(a: NodeCpuStatsArgs) -> Result<NodeStatsRet> {
    const FUNCTION: &str = "virNodeGetCPUStats";
    check_flags(a.flags, 0, FUNCTION)?;
    let invalid = || {
        Error::new(
            ErrorCode::InvalidArgument,
            format!("Invalid cpuNum in {FUNCTION}"),
        )
    };
    if a.cpu_num < ALL {
        return Err(invalid());
    }
    let header = if a.cpu_num == ALL {
        "cpu".to_string()
    } else {
        format!("cpu{}", a.cpu_num)
    };
    let text = read("/proc/stat")?;
    let ticks: Vec<u64> = text
        .lines()
        .find_map(|l| {
            let mut w = l.split_whitespace();
            (w.next() == Some(header.as_str())).then(|| w.filter_map(|v| v.parse().ok()).collect())
        })
        .ok_or_else(invalid)?;
    let t = |i: usize| ticks.get(i).copied().unwrap_or(0);
    let hz = sysconf(SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .filter(|&h| h > 0)
        .unwrap_or(100) as u64;
    let ns = |n: u64| n.saturating_mul(1_000_000_000 / hz);
    // user nice system idle iowait irq softirq ...
    let stats = vec![
        stat("kernel", ns(t(2) + t(5) + t(6))),
        stat("user", ns(t(0) + t(1))),
        stat("idle", ns(t(3))),
        stat("iowait", ns(t(4))),
    ];
    answer(stats, a.nparams, FUNCTION)
}

/// `virNodeGetMemoryStats`: the whole host (`cellNum` -1, or 0 on a host
/// without NUMA, as libvirt), or one NUMA cell.
pub fn memory_stats(a: NodeMemoryStatsArgs) -> Result<NodeStatsRet> {
    const FUNCTION: &str = "virNodeGetMemoryStats";
    check_flags(a.flags, 0, FUNCTION)?;
    let numa = std::path::Path::new("/sys/devices/system/node/node0").exists();
    let whole = a.cell_num == ALL || (a.cell_num == 0 && !numa);
    if !whole && a.cell_num < 0 {
        return Err(Error::new(
            ErrorCode::InvalidArgument,
            format!("cellNum in {FUNCTION} must be a cell or -1"),
        ));
    }
    let (text, fields): (String, &[(&str, &str)]) = if whole {
        (
            read("/proc/meminfo")?,
            &[
                ("MemTotal:", "total"),
                ("MemFree:", "free"),
                ("Buffers:", "buffers"),
                ("Cached:", "cached"),
            ],
        )
    } else {
        let path = format!("/sys/devices/system/node/node{}/meminfo", a.cell_num);
        let text = std::fs::read_to_string(&path).map_err(|_| {
            Error::new(
                ErrorCode::InvalidArgument,
                format!(
                    "cellNum in {FUNCTION}: the host has no NUMA cell {}",
                    a.cell_num
                ),
            )
        })?;
        (text, &[("MemTotal:", "total"), ("MemFree:", "free")])
    };
    // In the file's order, as libvirt lists them; a cell's lines begin
    // with `Node N `.
    let mut stats = Vec::new();
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        let words = match words.first() {
            Some(&"Node") => &words[words.len().min(2)..],
            _ => &words[..],
        };
        if let [name, value, ..] = words
            && let Some((_, field)) = fields.iter().find(|(h, _)| h == name)
            && let Ok(kib) = value.parse()
        {
            stats.push(stat(field, kib));
        }
    }
    if stats.len() != fields.len() {
        return Err(Error::new(
            ErrorCode::Internal,
            "no available memory line found",
        ));
    }
    answer(stats, a.nparams, FUNCTION)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_first_call_learns_the_count_and_the_second_gets_the_figures() {
        let n = cpu_stats(NodeCpuStatsArgs {
            cpu_num: -1,
            nparams: 0,
            flags: 0,
        })
        .unwrap();
        assert_eq!((n.nparams, n.params.len()), (4, 0));
        let all = cpu_stats(NodeCpuStatsArgs {
            cpu_num: -1,
            nparams: 4,
            flags: 0,
        })
        .unwrap();
        let names: Vec<&str> = all.params.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(names, ["kernel", "user", "idle", "iowait"]);
        assert!(all.params[2].value > 0, "the host has idled");
        assert!(
            cpu_stats(NodeCpuStatsArgs {
                cpu_num: 0,
                nparams: 3,
                flags: 0
            })
            .is_err()
        );
        assert!(
            cpu_stats(NodeCpuStatsArgs {
                cpu_num: 100_000,
                nparams: 4,
                flags: 0
            })
            .is_err()
        );
        let mem = memory_stats(NodeMemoryStatsArgs {
            nparams: 4,
            cell_num: -1,
            flags: 0,
        })
        .unwrap();
        let names: Vec<&str> = mem.params.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(names, ["total", "free", "buffers", "cached"]);
        assert!(mem.params[0].value >= mem.params[1].value);
    }
}
