//! libvirt's calls for a domain's memory and vCPUs and for its
//! statistics, on qvirt's [`Driver`]: `virDomainSetMemoryFlags` (and the
//! older `SetMemory`, `SetMaxMemory`), `virDomainSetVcpusFlags` (and
//! `SetVcpus`), `virDomainGetVcpusFlags` and `GetMaxVcpus`, and the
//! statistics of one kind each: `virDomainMemoryStats`,
//! `virDomainBlockStats(Flags)`, `virDomainInterfaceStats` and
//! `virDomainGetCPUStats`. The XDR shapes of `remote_protocol.x`,
//! libvirt's flags, tags and field names, so that virsh's `setmem`,
//! `setmaxmem`, `setvcpus`, `vcpucount`, `dommemstat`, `domblkstat`,
//! `domifstat` and `cpu-stats` work. `virConnectGetAllDomainStats` is in
//! [`super::domstats`].
//!
//! Figures qvirt does not have (a disk's error count, a domain's CPU time
//! per host CPU) are not made up: libvirt's "unknown" where its protocol
//! has one, a refusal by name where it has none.

use super::jobstats::{ParamValue, TypedParam, param};
use super::types::{Dom, DomArgs, DomFlagsArgs, NumRet};
use super::values::{affect, check_flags};
#[allow(unused_imports)]
use super::xdr::Xdr;
use super::xdr::xdr_struct;
use crate::driver::error::{Error, ErrorCode, Result};
use crate::driver::{Domain, DomainState, DomainStats, Driver, ModifyFlags, XmlFlags};
use crate::model::{BalloonModel, DomainDef, Interface, MacAddr};

xdr_struct! {
    /// `remote_domain_set_memory_args`, `remote_domain_set_max_memory_args`.
    pub struct SetMemoryArgs { pub dom: Dom, pub memory: u64 }
    /// `remote_domain_set_memory_flags_args`.
    pub struct SetMemoryFlagsArgs { pub dom: Dom, pub memory: u64, pub flags: u32 }
    /// `remote_domain_set_memory_stats_period_args`.
    pub struct SetMemoryStatsPeriodArgs { pub dom: Dom, pub period: i32, pub flags: u32 }
    /// `remote_domain_set_vcpus_args`.
    pub struct SetVcpusArgs { pub dom: Dom, pub nvcpus: u32 }
    /// `remote_domain_set_vcpus_flags_args`.
    pub struct SetVcpusFlagsArgs { pub dom: Dom, pub nvcpus: u32, pub flags: u32 }
    /// `remote_domain_set_vcpu_args`.
    pub struct SetVcpuArgs { pub dom: Dom, pub cpumap: String, pub state: i32, pub flags: u32 }
    /// `remote_domain_memory_stats_args`.
    pub struct MemoryStatsArgs { pub dom: Dom, pub max_stats: u32, pub flags: u32 }
    /// `remote_domain_memory_stat`: a `virDomainMemoryStatTags` and its
    /// value (KiB, or a count).
    pub struct MemoryStat { pub tag: i32, pub val: u64 }
    /// `remote_domain_memory_stats_ret`.
    pub struct MemoryStatsRet { pub stats: Vec<MemoryStat> }
    /// `remote_domain_block_stats_args`.
    pub struct BlockStatsArgs { pub dom: Dom, pub path: String }
    /// `remote_domain_block_stats_ret` (-1: unknown).
    pub struct BlockStatsRet { pub rd_req: i64, pub rd_bytes: i64, pub wr_req: i64, pub wr_bytes: i64, pub errs: i64 }
    /// `remote_domain_block_stats_flags_args`.
    pub struct BlockStatsFlagsArgs { pub dom: Dom, pub path: String, pub nparams: i32, pub flags: u32 }
    /// `remote_domain_block_stats_flags_ret`, `remote_domain_get_cpu_stats_ret`:
    /// the parameters, and how many there are (of each CPU's).
    pub struct ParamsRet { pub params: Vec<TypedParam>, pub nparams: i32 }
    /// `remote_domain_interface_stats_args`.
    pub struct InterfaceStatsArgs { pub dom: Dom, pub device: String }
    /// `remote_domain_interface_stats_ret` (-1: unknown).
    pub struct InterfaceStatsRet {
        pub rx_bytes: i64,
        pub rx_packets: i64,
        pub rx_errs: i64,
        pub rx_drop: i64,
        pub tx_bytes: i64,
        pub tx_packets: i64,
        pub tx_errs: i64,
        pub tx_drop: i64,
    }
    /// `remote_domain_get_cpu_stats_args`.
    pub struct CpuStatsArgs { pub dom: Dom, pub nparams: u32, pub start_cpu: i32, pub ncpus: u32, pub flags: u32 }
}

/// `virDomainMemoryModFlags` and `virDomainVcpuFlags` beyond
/// `VIR_DOMAIN_AFFECT_*`.
pub mod flag {
    #![allow(missing_docs)]
    pub const MEM_MAXIMUM: u32 = 1 << 2;
    pub const VCPU_MAXIMUM: u32 = 1 << 2;
    pub const VCPU_GUEST: u32 = 1 << 3;
    pub const VCPU_HOTPLUGGABLE: u32 = 1 << 4;
    /// `VIR_TYPED_PARAM_STRING_OKAY`.
    pub const STRING_OKAY: u32 = 1 << 2;
}

/// `virDomainMemoryStatTags`.
pub mod tag {
    #![allow(missing_docs)]
    pub const ACTUAL_BALLOON: i32 = 6;
    pub const RSS: i32 = 7;
}

/// The guest's own memory figures: qvirt's name (virsh's `dommemstat`
/// word), libvirt's tag, and the name in `virConnectGetAllDomainStats`'s
/// `balloon.` group, in the order libvirt reports them.
pub const GUEST_MEMORY: &[(&str, i32, &str)] = &[
    ("swap_in", 0, "swap_in"),
    ("swap_out", 1, "swap_out"),
    ("major_fault", 2, "major_fault"),
    ("minor_fault", 3, "minor_fault"),
    ("unused", 4, "unused"),
    ("available", 5, "available"),
    ("usable", 8, "usable"),
    ("last_update", 9, "last-update"),
    ("disk_caches", 10, "disk_caches"),
    ("hugetlb_pgalloc", 11, "hugetlb_pgalloc"),
    ("hugetlb_pgfail", 12, "hugetlb_pgfail"),
];

/// `REMOTE_DOMAIN_MEMORY_STATS_MAX`, `REMOTE_DOMAIN_BLOCK_STATS_PARAMETERS_MAX`,
/// `REMOTE_NODE_CPU_STATS_MAX` and `REMOTE_DOMAIN_GET_CPU_STATS_NCPUS_MAX`.
const MEMORY_STATS_MAX: u32 = 1024;
const BLOCK_STATS_PARAMETERS_MAX: i32 = 16;
const NODE_CPU_STATS_MAX: u32 = 16;
const CPU_STATS_NCPUS_MAX: u32 = 128;

/// Whether a `virDomainGetVcpusFlags` call asks the guest (which libvirt
/// allows only on a read-write connection).
pub fn vcpu_guest(a: &DomFlagsArgs) -> bool {
    a.flags & flag::VCPU_GUEST != 0
}

/// `VIR_DOMAIN_AFFECT_LIVE` and `_CONFIG` of `flags`.
fn modify(flags: u32) -> ModifyFlags {
    ModifyFlags::new(flags & affect::LIVE != 0, flags & affect::CONFIG != 0)
}

fn no_agent(function: &str) -> Error {
    Error::new(
        ErrorCode::NoSupport,
        format!(
            "{function} with VIR_DOMAIN_VCPU_GUEST works through the QEMU guest agent, which qvirt does not talk to"
        ),
    )
}

/// `virDomainSetMemoryFlags`: the balloon's target, or with
/// `VIR_DOMAIN_MEM_MAXIMUM` `<memory>`.
pub fn set_memory_flags(driver: &dyn Driver, a: SetMemoryFlagsArgs) -> Result<()> {
    check_flags(
        a.flags,
        affect::LIVE | affect::CONFIG | flag::MEM_MAXIMUM,
        "virDomainSetMemoryFlags",
    )?;
    let dom = Domain::from(&a.dom);
    if a.flags & flag::MEM_MAXIMUM != 0 {
        driver.set_max_memory(&dom, a.memory, modify(a.flags))
    } else {
        driver.set_memory(&dom, a.memory, modify(a.flags))
    }
}

/// `virDomainSetMemoryStatsPeriod` (virsh's `dommemstat --period`): how
/// often the guest's balloon reports, live and/or in the definition.
pub fn set_memory_stats_period(driver: &dyn Driver, a: SetMemoryStatsPeriodArgs) -> Result<()> {
    check_flags(
        a.flags,
        affect::LIVE | affect::CONFIG,
        "virDomainSetMemoryStatsPeriod",
    )?;
    let seconds = u32::try_from(a.period).map_err(|_| {
        Error::new(
            ErrorCode::InvalidArgument,
            format!("invalid statistics period value {}", a.period),
        )
    })?;
    driver.set_memory_stats_period(&Domain::from(&a.dom), seconds, modify(a.flags))
}

/// `virDomainSetMemory`: the running domain's balloon, as libvirt's QEMU
/// driver has it.
pub fn set_memory(driver: &dyn Driver, a: SetMemoryArgs) -> Result<()> {
    driver.set_memory(&a.dom.into(), a.memory, ModifyFlags::LIVE)
}

/// `virDomainSetMaxMemory`: `<memory>` of the domain as it is now (which
/// a running domain refuses).
pub fn set_max_memory(driver: &dyn Driver, a: SetMemoryArgs) -> Result<()> {
    driver.set_max_memory(&a.dom.into(), a.memory, ModifyFlags::CURRENT)
}

/// `virDomainSetVcpusFlags`: the vCPUs online, or with
/// `VIR_DOMAIN_VCPU_MAXIMUM` `<vcpu>`'s maximum.
pub fn set_vcpus_flags(driver: &dyn Driver, a: SetVcpusFlagsArgs) -> Result<()> {
    const FUNCTION: &str = "virDomainSetVcpusFlags";
    check_flags(
        a.flags,
        affect::LIVE
            | affect::CONFIG
            | flag::VCPU_MAXIMUM
            | flag::VCPU_GUEST
            | flag::VCPU_HOTPLUGGABLE,
        FUNCTION,
    )?;
    if a.flags & flag::VCPU_GUEST != 0 {
        return Err(no_agent(FUNCTION));
    }
    if a.flags & flag::VCPU_HOTPLUGGABLE != 0 {
        return Err(Error::new(
            ErrorCode::NoSupport,
            format!(
                "{FUNCTION} with VIR_DOMAIN_VCPU_HOTPLUGGABLE: qvirt keeps no per-vCPU hotpluggable setting (the vCPUs it adds to a running domain are hot-plugged, and so can be unplugged, already)"
            ),
        ));
    }
    let dom = Domain::from(&a.dom);
    if a.flags & flag::VCPU_MAXIMUM != 0 {
        driver.set_max_vcpus(&dom, a.nvcpus, modify(a.flags))
    } else {
        driver.set_vcpus(&dom, a.nvcpus, modify(a.flags))
    }
}

/// `virDomainSetVcpu`: the vCPUs of a libvirt cpumap (`1-3,^2`) online
/// (`state` 1) or away (0).
pub fn set_vcpu(driver: &dyn Driver, a: SetVcpuArgs) -> Result<()> {
    check_flags(a.flags, affect::LIVE | affect::CONFIG, "virDomainSetVcpu")?;
    if a.state != 0 && a.state != 1 {
        return Err(Error::new(
            ErrorCode::InvalidArgument,
            format!("unsupported state value {}", a.state),
        ));
    }
    let ids = crate::model::parse_cpuset(&a.cpumap).ok_or_else(|| {
        Error::new(
            ErrorCode::InvalidArgument,
            format!("Failed to parse bitmap '{}'", a.cpumap),
        )
    })?;
    if ids.is_empty() {
        return Err(Error::new(
            ErrorCode::InvalidArgument,
            "no vcpus selected for modification",
        ));
    }
    driver.set_vcpu(&Domain::from(&a.dom), &ids, a.state == 1, modify(a.flags))
}

/// `virDomainSetVcpus`: the running domain's vCPUs.
pub fn set_vcpus(driver: &dyn Driver, a: SetVcpusArgs) -> Result<()> {
    driver.set_vcpus(&a.dom.into(), a.nvcpus, ModifyFlags::LIVE)
}

/// The one definition `flags` (`VIR_DOMAIN_AFFECT_*`) name, as libvirt's
/// `virDomainObjGetOneDef` picks it: the live one, the persistent one,
/// or (neither) the live one of a running domain, else the persistent.
pub(super) fn one_def(driver: &dyn Driver, dom: &Domain, flags: u32) -> Result<DomainDef> {
    let (live, config) = (flags & affect::LIVE != 0, flags & affect::CONFIG != 0);
    if live && config {
        return Err(Error::new(
            ErrorCode::InvalidArgument,
            "Flags 'VIR_DOMAIN_AFFECT_LIVE' and 'VIR_DOMAIN_AFFECT_CONFIG' are mutually exclusive",
        ));
    }
    let info = driver.info(dom)?;
    let active = info.state != DomainState::Shutoff;
    if live && !active {
        return Err(not_running(dom));
    }
    if config && !info.persistent {
        return Err(transient(dom));
    }
    let xml = driver.xml_desc(dom, XmlFlags::inactive_if(config || !active))?;
    DomainDef::from_xml(&xml).map_err(Error::from)
}

/// `virDomainGetVcpusFlags`: the vCPUs online, or with
/// `VIR_DOMAIN_VCPU_MAXIMUM` `<vcpu>`'s maximum, of the definition the
/// flags name.
pub fn get_vcpus_flags(driver: &dyn Driver, a: DomFlagsArgs) -> Result<NumRet> {
    const FUNCTION: &str = "virDomainGetVcpusFlags";
    check_flags(
        a.flags,
        affect::LIVE | affect::CONFIG | flag::VCPU_MAXIMUM | flag::VCPU_GUEST,
        FUNCTION,
    )?;
    if a.flags & flag::VCPU_GUEST != 0 {
        return Err(no_agent(FUNCTION));
    }
    let def = one_def(driver, &Domain::from(&a.dom), a.flags)?;
    let n = if a.flags & flag::VCPU_MAXIMUM != 0 {
        def.vcpu.max
    } else {
        def.vcpu.current.unwrap_or(def.vcpu.max)
    };
    Ok(NumRet {
        num: i32::try_from(n).unwrap_or(i32::MAX),
    })
}

/// `virDomainGetMaxVcpus`: the running domain's maximum.
pub fn get_max_vcpus(driver: &dyn Driver, a: DomArgs) -> Result<NumRet> {
    get_vcpus_flags(
        driver,
        DomFlagsArgs {
            dom: a.dom,
            flags: affect::LIVE | flag::VCPU_MAXIMUM,
        },
    )
}

/// libvirt's error for the persistent definition of a transient domain.
pub(super) fn transient(dom: &Domain) -> Error {
    Error::new(
        ErrorCode::OperationInvalid,
        format!(
            "domain '{}' is transient: transient domains do not have any persistent config",
            dom.name
        ),
    )
}

/// Changes the persistent definition of `dom` (`persistent`: whether it
/// has one) with `edit`, and defines it again: libvirt's config-only
/// changes of what qvirt applies when a domain starts.
pub(super) fn redefine(
    driver: &dyn Driver,
    dom: &Domain,
    persistent: bool,
    edit: impl FnOnce(&mut DomainDef) -> Result<()>,
) -> Result<()> {
    if !persistent {
        return Err(transient(dom));
    }
    let xml = driver.xml_desc(dom, XmlFlags::INACTIVE | XmlFlags::SECURE)?;
    let mut def = DomainDef::from_xml(&xml)?;
    edit(&mut def)?;
    driver.define_xml(&def.to_xml()).map(drop)
}

/// libvirt's error for a figure of a domain that does not run.
pub(super) fn not_running(dom: &Domain) -> Error {
    Error::new(
        ErrorCode::OperationInvalid,
        format!("domain '{}' is not running", dom.name),
    )
}

/// The statistics of a running (or paused) domain.
pub(super) fn running_stats(driver: &dyn Driver, dom: &Domain) -> Result<DomainStats> {
    let s = driver.stats(dom)?;
    match s.state {
        DomainState::Running | DomainState::Paused => Ok(s),
        _ => Err(not_running(dom)),
    }
}

/// The live definition of a running domain.
pub(super) fn live_def(driver: &dyn Driver, dom: &Domain) -> Result<DomainDef> {
    DomainDef::from_xml(&driver.xml_desc(dom, XmlFlags::NONE)?).map_err(Error::from)
}

/// Whether `def` has a balloon (absent means QEMU's virtio one, as
/// libvirt adds it).
pub(super) fn has_balloon(def: &DomainDef) -> bool {
    def.devices
        .memballoon
        .as_ref()
        .is_none_or(|m| m.model != BalloonModel::None)
}

/// `virDomainMemoryStats`: the balloon's size (with a balloon), the
/// guest's own figures (when it reports them), and QEMU's resident set,
/// at most `maxStats` of them, in libvirt's order.
pub fn memory_stats(driver: &dyn Driver, a: MemoryStatsArgs) -> Result<MemoryStatsRet> {
    check_flags(a.flags, 0, "virDomainMemoryStats")?;
    if a.max_stats > MEMORY_STATS_MAX {
        return Err(Error::new(
            ErrorCode::InvalidArgument,
            format!(
                "maxStats {} > REMOTE_DOMAIN_MEMORY_STATS_MAX ({MEMORY_STATS_MAX})",
                a.max_stats
            ),
        ));
    }
    let dom = Domain::from(&a.dom);
    let s = running_stats(driver, &dom)?;
    let mut stats = Vec::new();
    if has_balloon(&live_def(driver, &dom)?) {
        stats.push(MemoryStat {
            tag: tag::ACTUAL_BALLOON,
            val: s.balloon.current_kib,
        });
        for (name, tag, _) in GUEST_MEMORY {
            if let Some(v) = s.balloon.guest.get(*name) {
                stats.push(MemoryStat { tag: *tag, val: *v });
            }
        }
    }
    stats.push(MemoryStat {
        tag: tag::RSS,
        val: s.balloon.rss_kib,
    });
    stats.truncate(a.max_stats as usize);
    Ok(MemoryStatsRet { stats })
}

/// A disk's counters: the one whose target or source is `path`, or (an
/// empty path) all disks summed, as libvirt's `domblkstat` without a
/// device.
fn disk_counters(s: &DomainStats, path: &str) -> Result<[u64; 8]> {
    let pick: Vec<_> = if path.is_empty() {
        s.blocks.iter().collect()
    } else {
        let b = s
            .blocks
            .iter()
            .find(|b| b.target == path || b.path.as_deref() == Some(path))
            .ok_or_else(|| {
                Error::new(ErrorCode::InvalidArgument, format!("invalid path: {path}"))
            })?;
        vec![b]
    };
    let mut sum = [0u64; 8];
    for b in pick {
        let each = [
            b.wr_bytes,
            b.wr_reqs,
            b.rd_bytes,
            b.rd_reqs,
            b.fl_reqs,
            b.wr_total_times_ns,
            b.rd_total_times_ns,
            b.fl_total_times_ns,
        ];
        for (t, v) in sum.iter_mut().zip(each) {
            *t = t.saturating_add(v);
        }
    }
    Ok(sum)
}

/// The `virDomainBlockStatsFlags` fields, in libvirt's order (that of
/// [`disk_counters`]).
const BLOCK_FIELDS: [&str; 8] = [
    "wr_bytes",
    "wr_operations",
    "rd_bytes",
    "rd_operations",
    "flush_operations",
    "wr_total_times",
    "rd_total_times",
    "flush_total_times",
];

fn signed(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// `virDomainBlockStats`: QEMU counts no errors, which libvirt says with
/// -1.
pub fn block_stats(driver: &dyn Driver, a: BlockStatsArgs) -> Result<BlockStatsRet> {
    let s = running_stats(driver, &Domain::from(&a.dom))?;
    let [wr_bytes, wr_req, rd_bytes, rd_req, ..] = disk_counters(&s, &a.path)?;
    Ok(BlockStatsRet {
        rd_req: signed(rd_req),
        rd_bytes: signed(rd_bytes),
        wr_req: signed(wr_req),
        wr_bytes: signed(wr_bytes),
        errs: -1,
    })
}

/// `virDomainBlockStatsFlags`: with `nparams` 0, how many fields there
/// are; else the first `nparams` of them.
pub fn block_stats_flags(driver: &dyn Driver, a: BlockStatsFlagsArgs) -> Result<ParamsRet> {
    check_flags(a.flags, flag::STRING_OKAY, "virDomainBlockStatsFlags")?;
    if !(0..=BLOCK_STATS_PARAMETERS_MAX).contains(&a.nparams) {
        return Err(Error::new(
            ErrorCode::InvalidArgument,
            format!(
                "nparams {} is out of range (0 to {BLOCK_STATS_PARAMETERS_MAX})",
                a.nparams
            ),
        ));
    }
    let s = running_stats(driver, &Domain::from(&a.dom))?;
    let values = disk_counters(&s, &a.path)?;
    if a.nparams == 0 {
        return Ok(ParamsRet {
            params: Vec::new(),
            nparams: BLOCK_FIELDS.len() as i32,
        });
    }
    let params = BLOCK_FIELDS
        .iter()
        .zip(values)
        .take(a.nparams as usize)
        .map(|(name, v)| param(name, ParamValue::LLong(signed(v))))
        .collect();
    // libvirtd says how many there are only when asked how many (0).
    Ok(ParamsRet { params, nparams: 0 })
}

/// The interface `device` names, as libvirt's `virDomainNetFind`: by its
/// MAC address, or by its host device.
pub(super) fn find_interface<'a>(def: &'a DomainDef, device: &str) -> Result<&'a Interface> {
    let by_mac = device.parse::<MacAddr>().ok();
    def.devices
        .interfaces
        .iter()
        .find(|n| match by_mac {
            Some(mac) => n.mac == mac,
            None => n.target_dev.as_deref() == Some(device),
        })
        .ok_or_else(|| {
            Error::new(
                ErrorCode::InvalidArgument,
                format!("'{device}' is not a known interface"),
            )
        })
}

/// `virDomainInterfaceStats`: the traffic of an interface with a host
/// device (a tap), from the guest's side.
pub fn interface_stats(driver: &dyn Driver, a: InterfaceStatsArgs) -> Result<InterfaceStatsRet> {
    let dom = Domain::from(&a.dom);
    let s = running_stats(driver, &dom)?;
    let def = live_def(driver, &dom)?;
    let net = find_interface(&def, &a.device)?;
    let n = net
        .target_dev
        .as_ref()
        .and_then(|tap| s.interfaces.iter().find(|i| &i.name == tap))
        .ok_or_else(|| {
            Error::new(
                ErrorCode::NoSupport,
                format!(
                    "interface '{}' has no host device whose traffic qvirt can count (user networking has none)",
                    a.device
                ),
            )
        })?;
    Ok(InterfaceStatsRet {
        rx_bytes: signed(n.rx_bytes),
        rx_packets: signed(n.rx_packets),
        rx_errs: signed(n.rx_errs),
        rx_drop: signed(n.rx_drop),
        tx_bytes: signed(n.tx_bytes),
        tx_packets: signed(n.tx_packets),
        tx_errs: signed(n.tx_errs),
        tx_drop: signed(n.tx_drop),
    })
}

/// `virDomainGetCPUStats`. The domain's total (`start_cpu` -1):
/// `cpu_time`, `user_time`, `system_time`. Per host CPU, qvirt counts
/// nothing: the number of host CPUs is answered (`ncpus` 0), then no
/// fields per CPU, which virsh's `cpu-stats` reports as "No per-CPU stats
/// available" before the total.
pub fn cpu_stats(driver: &dyn Driver, a: CpuStatsArgs) -> Result<ParamsRet> {
    check_flags(a.flags, flag::STRING_OKAY, "virDomainGetCPUStats")?;
    if a.nparams > NODE_CPU_STATS_MAX || a.ncpus > CPU_STATS_NCPUS_MAX {
        return Err(Error::new(
            ErrorCode::InvalidArgument,
            format!(
                "nparams {} or ncpus {} too large (at most {NODE_CPU_STATS_MAX} and {CPU_STATS_NCPUS_MAX})",
                a.nparams, a.ncpus
            ),
        ));
    }
    if a.start_cpu < -1 || (a.start_cpu == -1 && a.ncpus != 1) {
        return Err(Error::new(
            ErrorCode::InvalidArgument,
            format!(
                "start_cpu {} with ncpus {}: ask for CPUs from 0, or for the total with -1 and 1",
                a.start_cpu, a.ncpus
            ),
        ));
    }
    let dom = Domain::from(&a.dom);
    let s = running_stats(driver, &dom)?;
    if a.start_cpu == -1 {
        let total = [
            ("cpu_time", s.cpu_time_ns),
            ("user_time", s.cpu_user_ns),
            ("system_time", s.cpu_system_ns),
        ];
        if a.nparams == 0 {
            return Ok(ParamsRet {
                params: Vec::new(),
                nparams: total.len() as i32,
            });
        }
        let params: Vec<TypedParam> = total
            .iter()
            .take(a.nparams as usize)
            .map(|(name, v)| param(name, ParamValue::ULLong(*v)))
            .collect();
        return Ok(ParamsRet {
            nparams: params.len() as i32,
            params,
        });
    }
    if a.nparams == 0 && a.ncpus == 0 {
        let cpus = driver.node_info()?.cpus;
        return Ok(ParamsRet {
            params: Vec::new(),
            nparams: i32::try_from(cpus).unwrap_or(i32::MAX),
        });
    }
    if a.nparams == 0 {
        return Ok(ParamsRet::default());
    }
    Err(Error::new(
        ErrorCode::NoSupport,
        format!(
            "domain '{}': qvirt does not count a domain's CPU time per host CPU; ask for the total (start_cpu -1)",
            dom.name
        ),
    ))
}
