//! `virConnectGetAllDomainStats` and `virDomainListGetStats` (one
//! procedure, `CONNECT_GET_ALL_DOMAIN_STATS`: no domains named means
//! every domain), which virsh's `domstats` and python's
//! `getAllDomainStats` and `domainListGetStats` call: qvirt's
//! [`DomainStats`] as libvirt's typed parameters, by libvirt's groups and
//! field names (`state.state`, `balloon.current`, `vcpu.0.time`,
//! `block.0.rd.bytes`, `net.0.rx.bytes`, ...), both ways, so that the
//! server and qvirt's libvirt client agree.
//!
//! Only what qvirt knows is said. Of libvirt's groups, `perf`,
//! `iothread`, `memory` and `vm` are not served (dropped
//! from a request, or refused with `ENFORCE_STATS`, as libvirt does with
//! groups a daemon lacks); within a group, fields qvirt has no figure for
//! are left out (a vCPU's `wait`, `delay` and `halted`; a disk's
//! `allocation`, which libvirt means as the highest offset written;
//! backing images), and the block and net groups of a shut-off domain
//! are left out as a whole.

use std::collections::BTreeMap;

use super::frame::{code, libvirt_error};
use super::jobstats::{ParamValue, TypedParam, param};
use super::resources::{GUEST_MEMORY, live_def};
use super::types::Dom;
use super::values::{self, check_flags};
#[allow(unused_imports)]
use super::xdr::Xdr;
use super::xdr::xdr_struct;
use crate::driver::error::{Error, ErrorCode, Result};
use crate::driver::{
    BlockStats, Domain, DomainState, DomainStats, Driver, InterfaceStats, ListFilter, StateReason,
    VcpuStats,
};

xdr_struct! {
    /// `remote_connect_get_all_domain_stats_args`: no `doms` for every
    /// domain (`virConnectGetAllDomainStats`), else those
    /// (`virDomainListGetStats`).
    pub struct AllDomainStatsArgs { pub doms: Vec<Dom>, pub stats: u32, pub flags: u32 }
    /// `remote_domain_stats_record`.
    pub struct StatsRecord { pub dom: Dom, pub params: Vec<TypedParam> }
    /// `remote_connect_get_all_domain_stats_ret`.
    pub struct AllDomainStatsRet { pub ret_stats: Vec<StatsRecord> }
}

/// `virDomainStatsTypes`: the groups qvirt serves.
pub mod group {
    #![allow(missing_docs)]
    pub const STATE: u32 = 1 << 0;
    pub const CPU_TOTAL: u32 = 1 << 1;
    pub const BALLOON: u32 = 1 << 2;
    pub const VCPU: u32 = 1 << 3;
    pub const INTERFACE: u32 = 1 << 4;
    pub const BLOCK: u32 = 1 << 5;
    pub const DIRTYRATE: u32 = 1 << 9;
    /// Every group qvirt serves.
    pub const SERVED: u32 = ((1 << 6) - 1) | DIRTYRATE;
}

/// `virConnectGetAllDomainStatsFlags`.
pub mod flag {
    #![allow(missing_docs)]
    /// The list filters (`VIR_CONNECT_LIST_DOMAINS_ACTIVE` to `_OTHER`).
    pub const FILTERS: u32 = (1 << 8) - 1;
    pub const NOWAIT: u32 = 1 << 29;
    pub const BACKING: u32 = 1 << 30;
    pub const ENFORCE_STATS: u32 = 1 << 31;
}

/// `VIR_VCPU_RUNNING`: the state of an online vCPU.
const VCPU_RUNNING: i32 = 1;

/// What the groups need of a domain beside its [`DomainStats`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extra {
    /// The vCPUs a shut-off domain starts with (`vcpu.current`).
    pub vcpu_current: Option<u32>,
    /// Each interface of the running domain, in the definition's order,
    /// with its host device if it has one (`net.count`, and the index of
    /// each `net.N`).
    pub nets: Vec<Option<String>>,
    /// The last dirty page rate measurement of the running domain.
    pub dirty: Option<crate::driver::DirtyRate>,
}

/// The typed parameters of `s` in `groups`, in libvirt's order.
pub fn params_of(s: &DomainStats, groups: u32, extra: &Extra) -> Vec<TypedParam> {
    use ParamValue::{Int, LLong, String as Str, UInt, ULLong};
    let active = s.state != DomainState::Shutoff;
    let mut out = Vec::new();
    let mut put = |field: String, v: ParamValue| out.push(param(&field, v));
    let count = |n: usize| UInt(u32::try_from(n).unwrap_or(u32::MAX));
    if groups & group::STATE != 0 {
        put("state.state".into(), Int(values::state_code(s.state)));
        put(
            "state.reason".into(),
            Int(values::reason_code(s.state, s.reason)),
        );
    }
    if groups & group::CPU_TOTAL != 0 && active {
        put("cpu.time".into(), ULLong(s.cpu_time_ns));
        put("cpu.user".into(), ULLong(s.cpu_user_ns));
        put("cpu.system".into(), ULLong(s.cpu_system_ns));
    }
    if groups & group::BALLOON != 0 {
        put("balloon.current".into(), ULLong(s.balloon.current_kib));
        put("balloon.maximum".into(), ULLong(s.balloon.maximum_kib));
        if active {
            for (name, _, field) in GUEST_MEMORY {
                if let Some(v) = s.balloon.guest.get(*name) {
                    put(format!("balloon.{field}"), ULLong(*v));
                }
            }
            put("balloon.rss".into(), ULLong(s.balloon.rss_kib));
        }
    }
    if groups & group::VCPU != 0 {
        let current = if active {
            Some(s.vcpus.len() as u32)
        } else {
            extra.vcpu_current
        };
        if let Some(n) = current {
            put("vcpu.current".into(), UInt(n));
        }
        put("vcpu.maximum".into(), UInt(s.vcpu_maximum));
        for v in s.vcpus.iter().filter(|_| active) {
            put(format!("vcpu.{}.state", v.id), Int(VCPU_RUNNING));
            put(format!("vcpu.{}.time", v.id), ULLong(v.time_ns));
        }
    }
    if groups & group::INTERFACE != 0 && active {
        put("net.count".into(), count(extra.nets.len()));
        for (i, tap) in extra.nets.iter().enumerate() {
            let Some(n) = tap
                .as_ref()
                .and_then(|t| s.interfaces.iter().find(|n| &n.name == t))
            else {
                continue;
            };
            put(format!("net.{i}.name"), Str(n.name.clone()));
            for (k, v) in [
                ("rx.bytes", n.rx_bytes),
                ("rx.pkts", n.rx_packets),
                ("rx.errs", n.rx_errs),
                ("rx.drop", n.rx_drop),
                ("tx.bytes", n.tx_bytes),
                ("tx.pkts", n.tx_packets),
                ("tx.errs", n.tx_errs),
                ("tx.drop", n.tx_drop),
            ] {
                put(format!("net.{i}.{k}"), ULLong(v));
            }
        }
    }
    if groups & group::BLOCK != 0 && active {
        put("block.count".into(), count(s.blocks.len()));
        for (i, b) in s.blocks.iter().enumerate() {
            put(format!("block.{i}.name"), Str(b.target.clone()));
            if let Some(p) = &b.path {
                put(format!("block.{i}.path"), Str(p.clone()));
            }
            for (k, v) in [
                ("rd.reqs", b.rd_reqs),
                ("rd.bytes", b.rd_bytes),
                ("rd.times", b.rd_total_times_ns),
                ("wr.reqs", b.wr_reqs),
                ("wr.bytes", b.wr_bytes),
                ("wr.times", b.wr_total_times_ns),
                ("fl.reqs", b.fl_reqs),
                ("fl.times", b.fl_total_times_ns),
            ] {
                put(format!("block.{i}.{k}"), ULLong(v));
            }
            // libvirt leaves a size out when it is 0 (unknown).
            for (k, v) in [("capacity", b.capacity), ("physical", b.physical)] {
                if v > 0 {
                    put(format!("block.{i}.{k}"), ULLong(v));
                }
            }
        }
    }
    if let Some(r) = extra
        .dirty
        .as_ref()
        .filter(|_| groups & group::DIRTYRATE != 0)
    {
        put("dirtyrate.calc_status".into(), Int(r.status as i32));
        put("dirtyrate.calc_start_time".into(), LLong(r.start_time));
        put("dirtyrate.calc_period".into(), Int(r.period));
        put("dirtyrate.calc_mode".into(), Str(r.mode.as_str().into()));
        if let Some(v) = r.mib_per_s {
            put("dirtyrate.megabytes_per_second".into(), LLong(v));
        }
    }
    out
}

/// A parameter's value as an unsigned number (a string is 0).
fn number(v: &ParamValue) -> u64 {
    match v {
        ParamValue::Int(n) => u64::try_from(*n).unwrap_or(0),
        ParamValue::UInt(n) => u64::from(*n),
        ParamValue::LLong(n) => u64::try_from(*n).unwrap_or(0),
        ParamValue::ULLong(n) => *n,
        ParamValue::Boolean(b) => u64::from(*b),
        ParamValue::Double(_) | ParamValue::String(_) => 0,
    }
}

/// `N.rest` of `field` after `prefix` (`vcpu.`): the index and the rest.
fn indexed<'a>(field: &'a str, prefix: &str) -> Option<(usize, &'a str)> {
    let (n, rest) = field.strip_prefix(prefix)?.split_once('.')?;
    Some((n.parse().ok()?, rest))
}

/// The [`DomainStats`] typed parameters say, as [`params_of`] (or a
/// libvirtd) writes them. Fields libvirt has no word for stay at their
/// defaults: a vCPU's host thread (0), a disk's host allocation (0).
pub fn stats_of(params: &[TypedParam]) -> DomainStats {
    let mut state = DomainState::Shutoff;
    let mut reason = 0;
    let mut s = DomainStats::new(state, StateReason::Unknown);
    let mut vcpus: BTreeMap<usize, VcpuStats> = BTreeMap::new();
    let mut blocks: BTreeMap<usize, BlockStats> = BTreeMap::new();
    let mut nets: BTreeMap<usize, InterfaceStats> = BTreeMap::new();
    for p in params {
        let (f, v) = (p.field.as_str(), &p.value);
        let n = number(v);
        let text = || match v {
            ParamValue::String(t) => t.clone(),
            _ => String::new(),
        };
        match f {
            "state.state" => state = values::state_of(i32::try_from(n).unwrap_or(0)),
            "state.reason" => reason = i32::try_from(n).unwrap_or(0),
            "cpu.time" => s.cpu_time_ns = n,
            "cpu.user" => s.cpu_user_ns = n,
            "cpu.system" => s.cpu_system_ns = n,
            "balloon.current" => s.balloon.current_kib = n,
            "balloon.maximum" => s.balloon.maximum_kib = n,
            "balloon.rss" => s.balloon.rss_kib = n,
            "vcpu.maximum" => s.vcpu_maximum = u32::try_from(n).unwrap_or(u32::MAX),
            _ => {
                if let Some(field) = f.strip_prefix("balloon.") {
                    if let Some((name, ..)) = GUEST_MEMORY.iter().find(|g| g.2 == field) {
                        s.balloon.guest.insert((*name).to_string(), n);
                    }
                } else if let Some((i, rest)) = indexed(f, "vcpu.") {
                    let e = vcpus.entry(i).or_default();
                    e.id = u32::try_from(i).unwrap_or(u32::MAX);
                    if rest == "time" {
                        e.time_ns = n;
                    }
                } else if let Some((i, rest)) = indexed(f, "block.") {
                    let b = blocks.entry(i).or_default();
                    match rest {
                        "name" => b.target = text(),
                        "path" => b.path = Some(text()),
                        "rd.reqs" => b.rd_reqs = n,
                        "rd.bytes" => b.rd_bytes = n,
                        "rd.times" => b.rd_total_times_ns = n,
                        "wr.reqs" => b.wr_reqs = n,
                        "wr.bytes" => b.wr_bytes = n,
                        "wr.times" => b.wr_total_times_ns = n,
                        "fl.reqs" => b.fl_reqs = n,
                        "fl.times" => b.fl_total_times_ns = n,
                        "capacity" => b.capacity = n,
                        "physical" => b.physical = n,
                        _ => {}
                    }
                } else if let Some((i, rest)) = indexed(f, "net.") {
                    let e = nets.entry(i).or_default();
                    match rest {
                        "name" => e.name = text(),
                        "rx.bytes" => e.rx_bytes = n,
                        "rx.pkts" => e.rx_packets = n,
                        "rx.errs" => e.rx_errs = n,
                        "rx.drop" => e.rx_drop = n,
                        "tx.bytes" => e.tx_bytes = n,
                        "tx.pkts" => e.tx_packets = n,
                        "tx.errs" => e.tx_errs = n,
                        "tx.drop" => e.tx_drop = n,
                        _ => {}
                    }
                }
            }
        }
    }
    s.state = state;
    s.reason = values::reason_of(state, reason);
    s.vcpus = vcpus.into_values().collect();
    s.blocks = blocks.into_values().collect();
    s.interfaces = nets.into_values().collect();
    s
}

/// What [`params_of`] needs beside the statistics of `dom`, read from
/// the driver only for the groups that use it.
fn extra_of(driver: &dyn Driver, dom: &Domain, s: &DomainStats, groups: u32) -> Result<Extra> {
    let active = s.state != DomainState::Shutoff;
    let mut extra = Extra::default();
    if groups & group::VCPU != 0 && !active {
        extra.vcpu_current = Some(driver.info(dom)?.vcpus);
    }
    if groups & group::INTERFACE != 0 && active {
        let def = live_def(driver, dom)?;
        extra.nets = def
            .devices
            .interfaces
            .iter()
            .map(|n| n.target_dev.clone())
            .collect();
    }
    if groups & group::DIRTYRATE != 0 && active {
        extra.dirty = match driver.dirty_rate(dom) {
            Ok(r) => Some(r),
            // A driver that cannot say leaves the group out.
            Err(e) if e.code == ErrorCode::NoSupport => None,
            Err(e) => return Err(e),
        };
    }
    Ok(extra)
}

/// The statistics record of `dom` in `groups`; `None` for a domain gone
/// meanwhile or filtered out by `filters` (`virConnectListAllDomains`'s
/// flags).
fn record(
    driver: &dyn Driver,
    dom: &Domain,
    groups: u32,
    filters: u32,
) -> Result<Option<StatsRecord>> {
    let gone = |e: Error| {
        if e.code == ErrorCode::NoDomain {
            Ok(None)
        } else {
            Err(e)
        }
    };
    if filters != 0 {
        match driver.info(dom) {
            Ok(info) if values::list_filter(filters, &info) => {}
            Ok(_) => return Ok(None),
            Err(e) => return gone(e),
        }
    }
    let s = match driver.stats(dom) {
        Ok(s) => s,
        Err(e) => return gone(e),
    };
    let extra = match extra_of(driver, dom, &s, groups) {
        Ok(x) => x,
        Err(e) => return gone(e),
    };
    Ok(Some(StatsRecord {
        dom: Dom::from(dom),
        params: params_of(&s, groups, &extra),
    }))
}

/// `virConnectGetAllDomainStats` (every domain) and
/// `virDomainListGetStats` (the domains named; one that is gone is left
/// out, as libvirt leaves it out).
pub fn all_domain_stats(driver: &dyn Driver, a: AllDomainStatsArgs) -> Result<AllDomainStatsRet> {
    check_flags(
        a.flags,
        flag::FILTERS | flag::NOWAIT | flag::BACKING | flag::ENFORCE_STATS,
        "virConnectGetAllDomainStats",
    )?;
    // NOWAIT asks not to wait for a domain's job: qvirt's statistics
    // never do.
    if a.flags & flag::BACKING != 0 {
        return Err(Error::new(
            ErrorCode::NoSupport,
            "VIR_CONNECT_GET_ALL_DOMAINS_STATS_BACKING: qvirt's block statistics are of each disk's top image only",
        ));
    }
    let mut groups = a.stats;
    if groups == 0 {
        groups = group::SERVED;
    } else if groups & !group::SERVED != 0 {
        if a.flags & flag::ENFORCE_STATS != 0 {
            return Err(libvirt_error(
                code::ARGUMENT_UNSUPPORTED,
                ErrorCode::NoSupport,
                format!(
                    "Stats types bits 0x{:x} are not supported by this daemon or QEMU",
                    groups & !group::SERVED
                ),
            ));
        }
        groups &= group::SERVED;
    }
    let doms: Vec<Domain> = if a.doms.is_empty() {
        driver
            .list(ListFilter::ALL)?
            .into_iter()
            .map(|s| s.domain)
            .collect()
    } else {
        // Each as it is now (its id may have changed since the client
        // looked it up).
        let mut v = Vec::new();
        for d in &a.doms {
            match driver.lookup_by_uuid(d.uuid) {
                Ok(d) => v.push(d),
                Err(e) if e.code == ErrorCode::NoDomain => {}
                Err(e) => return Err(e),
            }
        }
        v
    };
    let filters = a.flags & flag::FILTERS;
    let mut ret_stats = Vec::new();
    for d in &doms {
        if let Some(r) = record(driver, d, groups, filters)? {
            ret_stats.push(r);
        }
    }
    Ok(AllDomainStatsRet { ret_stats })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn running() -> DomainStats {
        let mut s = DomainStats::new(DomainState::Running, StateReason::Booted);
        s.cpu_time_ns = 30;
        s.cpu_user_ns = 20;
        s.cpu_system_ns = 10;
        s.balloon.current_kib = 131_072;
        s.balloon.maximum_kib = 262_144;
        s.balloon.rss_kib = 99_000;
        s.balloon.guest.insert("unused".into(), 5000);
        s.balloon.guest.insert("last_update".into(), 1_700_000_000);
        s.vcpu_maximum = 2;
        s.vcpus = (0..2)
            .map(|id| VcpuStats {
                id,
                thread_id: 0,
                time_ns: 1000 + u64::from(id),
            })
            .collect();
        s.blocks = vec![BlockStats {
            target: "vda".into(),
            path: Some("/images/a.img".into()),
            rd_reqs: 1,
            rd_bytes: 512,
            wr_reqs: 2,
            wr_bytes: 1024,
            fl_reqs: 3,
            rd_total_times_ns: 4,
            wr_total_times_ns: 5,
            fl_total_times_ns: 6,
            capacity: 8 << 20,
            allocation: 0,
            physical: 8 << 20,
        }];
        s.interfaces = vec![InterfaceStats {
            name: "vnet3".into(),
            rx_bytes: 7,
            tx_packets: 9,
            ..InterfaceStats::default()
        }];
        s
    }

    #[test]
    fn statistics_read_back_from_libvirts_fields() {
        let s = running();
        // The tap is the second interface: user networking comes first.
        let extra = Extra {
            vcpu_current: None,
            nets: vec![None, Some("vnet3".into())],
            dirty: None,
        };
        let params = params_of(&s, group::SERVED, &extra);
        let field = |name: &str| {
            params
                .iter()
                .find(|p| p.field == name)
                .map(|p| p.value.clone())
        };
        assert_eq!(field("state.state"), Some(ParamValue::Int(1)));
        assert_eq!(field("vcpu.current"), Some(ParamValue::UInt(2)));
        assert_eq!(
            field("balloon.last-update"),
            Some(ParamValue::ULLong(1_700_000_000))
        );
        assert_eq!(field("net.count"), Some(ParamValue::UInt(2)));
        assert_eq!(
            field("net.1.name"),
            Some(ParamValue::String("vnet3".into()))
        );
        assert_eq!(field("net.0.name"), None);
        assert_eq!(field("block.0.rd.bytes"), Some(ParamValue::ULLong(512)));
        assert_eq!(
            field("block.0.allocation"),
            None,
            "libvirt's allocation is another figure"
        );
        assert_eq!(stats_of(&params), s);
    }

    #[test]
    fn a_shut_off_domain_has_its_state_balloon_and_vcpu_counts_only() {
        let mut s = DomainStats::new(DomainState::Shutoff, StateReason::Destroyed);
        s.balloon.current_kib = 1024;
        s.balloon.maximum_kib = 2048;
        s.vcpu_maximum = 4;
        let extra = Extra {
            vcpu_current: Some(3),
            nets: Vec::new(),
            dirty: None,
        };
        let params = params_of(&s, group::SERVED, &extra);
        let fields: Vec<&str> = params.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "state.state",
                "state.reason",
                "balloon.current",
                "balloon.maximum",
                "vcpu.current",
                "vcpu.maximum"
            ]
        );
        assert_eq!(stats_of(&params), s);
        // Only the groups asked for.
        let only_state = params_of(&s, group::STATE, &extra);
        assert_eq!(only_state.len(), 2);
    }
}
