//! A domain's statistics (virsh's `domstats` groups) from QMP and /proc:
//! QEMU's CPU time, its vCPU threads', the balloon and the guest's own
//! memory figures, each disk's I/O and sizes, each tap's traffic.

use serde_json::json;

use super::driver::Core;
use super::runtime::Running;
use crate::driver::{
    AddressSource, BalloonStats, BlockStats, Domain, DomainState, DomainStats, InterfaceAddresses,
    InterfaceStats, IpAddress, VcpuStats,
};
use crate::error::{Error, Result};
use crate::model::{BalloonModel, DomainDef};
use crate::qemu::argv::disk_device_ids;
use crate::qemu::qmp::{QMP_TIMEOUT, device_entry};
use crate::sys::process;

/// The guest's balloon figures QEMU reports, with virsh's name for each
/// and the divisor to its unit (bytes to KiB; counts as they are).
const GUEST_MEMORY: &[(&str, &str, u64)] = &[
    ("stat-swap-in", "swap_in", 1024),
    ("stat-swap-out", "swap_out", 1024),
    ("stat-major-faults", "major_fault", 1),
    ("stat-minor-faults", "minor_fault", 1),
    ("stat-free-memory", "unused", 1024),
    ("stat-total-memory", "available", 1024),
    ("stat-available-memory", "usable", 1024),
    ("stat-disk-caches", "disk_caches", 1024),
    ("stat-htlb-pgalloc", "hugetlb_pgalloc", 1),
    ("stat-htlb-pgfail", "hugetlb_pgfail", 1),
];

impl Core {
    /// [`crate::Driver::stats`].
    pub(crate) fn domain_stats(&self, dom: &Domain) -> Result<DomainStats> {
        let (state, reason, run, def) = self.with_entry(dom, |e| {
            let (state, reason) = e.state();
            Ok((state, reason, e.running.clone(), e.def().clone()))
        })?;
        let mut stats = DomainStats::new(state, reason);
        stats.vcpu_maximum = def.vcpu.max;
        let Some(run) = run else {
            stats.balloon.maximum_kib = def.memory_kib;
            stats.balloon.current_kib = def.current_memory_kib.unwrap_or(def.memory_kib);
            return Ok(stats);
        };
        let def = run.live_def();
        let pid = run.process.pid;
        if let Some((user, system)) = process::cpu_times_ns(pid, None) {
            stats.cpu_user_ns = user;
            stats.cpu_system_ns = system;
            stats.cpu_time_ns = user + system;
        }
        stats.vcpus = vcpus(&run)?;
        stats.balloon = balloon(&run, &def)?;
        stats.blocks = blocks(&run, &def)?;
        let direct: Vec<String> = def
            .devices
            .interfaces
            .iter()
            .filter(|n| matches!(n.kind, crate::model::InterfaceType::Direct { .. }))
            .filter_map(|n| n.target_dev.clone())
            .collect();
        stats.interfaces = crate::sys::hostnet::taps_of(&def)
            .into_iter()
            .map(|tap| {
                let shares_host_view = direct.contains(&tap);
                tap_stats(&tap, shares_host_view)
            })
            .collect();
        Ok(stats)
    }
}

/// Each vCPU's thread and its CPU time.
fn vcpus(run: &Running) -> Result<Vec<VcpuStats>> {
    let cpus = run.qmp()?.execute("query-cpus-fast", None, QMP_TIMEOUT)?;
    let mut out: Vec<VcpuStats> = cpus
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            let id = c["cpu-index"].as_u64().unwrap_or(0) as u32;
            let thread_id = c["thread-id"].as_i64().unwrap_or(0) as i32;
            let time_ns =
                process::cpu_times_ns(run.process.pid, Some(thread_id)).map_or(0, |(u, s)| u + s);
            VcpuStats {
                id,
                thread_id,
                time_ns,
            }
        })
        .collect();
    out.sort_by_key(|v| v.id);
    Ok(out)
}

/// The balloon's size and the guest's figures (when it reports them).
fn balloon(run: &Running, def: &DomainDef) -> Result<BalloonStats> {
    let mut b = BalloonStats {
        current_kib: def.current_memory_kib.unwrap_or(def.memory_kib),
        maximum_kib: def.memory_kib,
        rss_kib: rss_kib(run.process.pid),
        guest: Default::default(),
    };
    let has_balloon = def
        .devices
        .memballoon
        .as_ref()
        .is_none_or(|m| m.model != BalloonModel::None);
    if !has_balloon {
        return Ok(b);
    }
    let qmp = run.qmp()?;
    if let Ok(v) = qmp.execute("query-balloon", None, QMP_TIMEOUT)
        && let Some(actual) = v["actual"].as_u64()
    {
        b.current_kib = actual / 1024;
    }
    let guest = qmp.execute(
        "qom-get",
        Some(json!({"path": "/machine/peripheral/balloon0", "property": "guest-stats"})),
        QMP_TIMEOUT,
    );
    if let Ok(g) = guest {
        for (qemu, name, div) in GUEST_MEMORY {
            // -1 (as u64: absent) when the guest did not say.
            if let Some(v) = g["stats"][qemu].as_i64().filter(|v| *v >= 0) {
                b.guest.insert((*name).to_string(), v as u64 / div);
            }
        }
        if let Some(t) = g["last-update"].as_u64().filter(|t| *t > 0) {
            b.guest.insert("last_update".to_string(), t);
        }
    }
    Ok(b)
}

/// Each disk's I/O counters (`query-blockstats`) and sizes
/// (`query-block`, the host file).
fn blocks(run: &Running, def: &DomainDef) -> Result<Vec<BlockStats>> {
    let qmp = run.qmp()?;
    let ids = disk_device_ids(def)?;
    let counters = qmp.execute("query-blockstats", None, QMP_TIMEOUT)?;
    let block = qmp.execute("query-block", None, QMP_TIMEOUT)?;
    let mut out = Vec::new();
    for (disk, id) in def.devices.disks.iter().zip(&ids) {
        let mut s = BlockStats {
            target: disk.target.clone(),
            path: disk.source.clone(),
            ..BlockStats::default()
        };
        if let Some(e) = device_entry(&counters, id) {
            let n = |k: &str| e["stats"][k].as_u64().unwrap_or(0);
            s.rd_reqs = n("rd_operations");
            s.rd_bytes = n("rd_bytes");
            s.wr_reqs = n("wr_operations");
            s.wr_bytes = n("wr_bytes");
            s.fl_reqs = n("flush_operations");
            s.rd_total_times_ns = n("rd_total_time_ns");
            s.wr_total_times_ns = n("wr_total_time_ns");
            s.fl_total_times_ns = n("flush_total_time_ns");
        }
        if let Some(e) = device_entry(&block, id) {
            let image = &e["inserted"]["image"];
            s.capacity = image["virtual-size"].as_u64().unwrap_or(0);
            s.allocation = image["actual-size"].as_u64().unwrap_or(0);
        }
        if let Some(meta) = disk.source.as_ref().and_then(|p| std::fs::metadata(p).ok()) {
            s.physical = meta.len();
        }
        out.push(s);
    }
    Ok(out)
}

/// A tap's traffic from the guest's side: the host receives what the
/// guest sends, so the host's counters are swapped, as libvirt swaps them;
/// a macvtap (`shares_host_view`) counts as the guest does, as libvirt
/// knows (`virDomainNetTypeSharesHostView`).
fn tap_stats(tap: &str, shares_host_view: bool) -> InterfaceStats {
    let read = |name: &str| -> u64 {
        std::fs::read_to_string(format!("/sys/class/net/{tap}/statistics/{name}"))
            .ok()
            .and_then(|t| t.trim().parse().ok())
            .unwrap_or(0)
    };
    let (rx, tx) = if shares_host_view {
        ("rx", "tx")
    } else {
        ("tx", "rx")
    };
    InterfaceStats {
        name: tap.to_string(),
        rx_bytes: read(&format!("{rx}_bytes")),
        rx_packets: read(&format!("{rx}_packets")),
        rx_errs: read(&format!("{rx}_errors")),
        rx_drop: read(&format!("{rx}_dropped")),
        tx_bytes: read(&format!("{tx}_bytes")),
        tx_packets: read(&format!("{tx}_packets")),
        tx_errs: read(&format!("{tx}_errors")),
        tx_drop: read(&format!("{tx}_dropped")),
    }
}

/// The resident set of process `pid` (`VmRSS` in /proc/PID/status), KiB.
fn rss_kib(pid: i32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

impl Core {
    /// [`crate::Driver::interface_addresses`].
    pub(crate) fn interface_addresses(
        &self,
        dom: &Domain,
        source: AddressSource,
    ) -> Result<Vec<InterfaceAddresses>> {
        let run = self.running_in(
            dom,
            "read the interface addresses of",
            &[DomainState::Running, DomainState::Paused],
        )?;
        let def = run.live_def();
        match source {
            // No virtual networks, so no leases: libvirt's answer for
            // interfaces on none of its networks.
            AddressSource::Lease => Ok(Vec::new()),
            AddressSource::Agent => {
                if run.run_state().state != DomainState::Running {
                    return Err(Core::wrong_state(
                        dom,
                        "ask the guest agent of",
                        run.run_state().state,
                    ));
                }
                self.agent_interfaces(&run)
            }
            AddressSource::Arp => {
                let table = crate::sys::hostnet::arp_table()
                    .map_err(|e| Error::io("cannot read /proc/net/arp", e))?;
                Ok(def
                    .devices
                    .interfaces
                    .iter()
                    .filter_map(|n| {
                        let mac = n.mac.to_string().to_ascii_lowercase();
                        let addrs: Vec<IpAddress> = table
                            .iter()
                            .filter(|(_, m)| *m == mac)
                            .map(|(a, _)| IpAddress::new(false, a.clone(), 0))
                            .collect();
                        (!addrs.is_empty()).then(|| {
                            InterfaceAddresses::new(
                                n.target_dev.clone().unwrap_or_else(|| "-".to_string()),
                                mac,
                                addrs,
                            )
                        })
                    })
                    .collect())
            }
        }
    }
}
