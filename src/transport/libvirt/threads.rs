//! A domain's I/O threads as libvirt's `virDomainGetIOThreadInfo` gives
//! them (virsh's `iothreadinfo`): a running domain's as its QEMU lists
//! them with the CPUs the kernel lets each run on
//! ([`Driver::iothreads`]), a definition's from `<iothreadids>` (or
//! `<iothreads>`) with `<iothreadpin>`, else `<vcpu cpuset>`, else the
//! host's online CPUs. Each CPU map is as long as its last CPU needs, as
//! libvirt's `virBitmapToData` makes it. `virDomainAddIOThread`,
//! `virDomainDelIOThread`, `virDomainPinIOThread` and
//! `virDomainSetIOThreadParams` (virsh's `iothreadadd`, `iothreaddel`,
//! `iothreadpin`, `iothreadset`) go to [`Driver::change_iothread`].

use super::jobstats::{ParamValue, TypedParam};
use super::resources::not_running;
use super::types::Dom;
use super::values::{affect, check_flags};
#[allow(unused_imports)]
use super::xdr::Xdr;
use super::xdr::{Opaque, xdr_struct};
use crate::driver::error::{Error, ErrorCode, Result};
use crate::driver::{
    Domain, DomainState, Driver, IoThreadChange, IoThreadParams, ModifyFlags, XmlFlags,
};
use crate::model::{DomainDef, parse_cpuset};

xdr_struct! {
    /// `remote_domain_get_iothread_info_args`.
    pub struct IoThreadInfoArgs { pub dom: Dom, pub flags: u32 }
    /// `remote_domain_iothread_info`.
    pub struct IoThread { pub iothread_id: u32, pub cpumap: Opaque }
    /// `remote_domain_get_iothread_info_ret`.
    pub struct IoThreadInfoRet { pub info: Vec<IoThread>, pub ret: u32 }
    /// `remote_domain_pin_iothread_args`.
    pub struct PinIoThreadArgs { pub dom: Dom, pub iothreads_id: u32, pub cpumap: Opaque, pub flags: u32 }
    /// `remote_domain_add_iothread_args` and
    /// `remote_domain_del_iothread_args`.
    pub struct IoThreadIdArgs { pub dom: Dom, pub iothread_id: u32, pub flags: u32 }
    /// `remote_domain_set_iothread_params_args`.
    pub struct SetIoThreadParamsArgs { pub dom: Dom, pub iothread_id: u32, pub params: Vec<TypedParam>, pub flags: u32 }
}

/// `REMOTE_CPUMAP_MAX`.
const CPUMAP_MAX: usize = 2048;

/// `REMOTE_DOMAIN_IOTHREAD_PARAMS_MAX`.
const IOTHREAD_PARAMS_MAX: usize = 64;

/// `VIR_DOMAIN_AFFECT_LIVE` and `_CONFIG` of `flags`, checked to be no
/// others for `function`.
fn affected(flags: u32, function: &str) -> Result<ModifyFlags> {
    check_flags(flags, affect::LIVE | affect::CONFIG, function)?;
    Ok(ModifyFlags::new(
        flags & affect::LIVE != 0,
        flags & affect::CONFIG != 0,
    ))
}

/// `virDomainAddIOThread`.
pub fn add_iothread(driver: &dyn Driver, a: IoThreadIdArgs) -> Result<()> {
    let flags = affected(a.flags, "virDomainAddIOThread")?;
    let change = IoThreadChange::Add(a.iothread_id);
    driver.change_iothread(&Domain::from(&a.dom), &change, flags)
}

/// `virDomainDelIOThread`.
pub fn del_iothread(driver: &dyn Driver, a: IoThreadIdArgs) -> Result<()> {
    let flags = affected(a.flags, "virDomainDelIOThread")?;
    let change = IoThreadChange::Remove(a.iothread_id);
    driver.change_iothread(&Domain::from(&a.dom), &change, flags)
}

/// `virDomainPinIOThread`: the CPUs of libvirt's map.
pub fn pin_iothread(driver: &dyn Driver, a: PinIoThreadArgs) -> Result<()> {
    let flags = affected(a.flags, "virDomainPinIOThread")?;
    if a.cpumap.0.len() > CPUMAP_MAX {
        return Err(Error::new(
            ErrorCode::Protocol,
            format!(
                "a CPU map of {} bytes is more than libvirt's protocol carries ({CPUMAP_MAX})",
                a.cpumap.0.len()
            ),
        ));
    }
    let change = IoThreadChange::Pin(a.iothreads_id, cpus_of(&a.cpumap.0));
    driver.change_iothread(&Domain::from(&a.dom), &change, flags)
}

/// `virDomainSetIOThreadParams`: typed parameters checked as
/// `virTypedParamsValidate` checks them.
pub fn set_iothread_params(driver: &dyn Driver, a: SetIoThreadParamsArgs) -> Result<()> {
    let flags = affected(a.flags, "virDomainSetIOThreadParams")?;
    let allowed = [
        ("poll_max_ns", "ullong"),
        ("poll_grow", "uint"),
        ("poll_shrink", "uint"),
        ("thread_pool_min", "int"),
        ("thread_pool_max", "int"),
    ];
    super::tunables::validate_upto(&a.params, &allowed, IOTHREAD_PARAMS_MAX)?;
    let mut p = IoThreadParams::default();
    for param in &a.params {
        match (param.field.as_str(), &param.value) {
            ("poll_max_ns", ParamValue::ULLong(v)) => p.poll_max_ns = Some(*v),
            ("poll_grow", ParamValue::UInt(v)) => p.poll_grow = Some(*v),
            ("poll_shrink", ParamValue::UInt(v)) => p.poll_shrink = Some(*v),
            ("thread_pool_min", ParamValue::Int(v)) => p.thread_pool_min = Some(*v),
            ("thread_pool_max", ParamValue::Int(v)) => p.thread_pool_max = Some(*v),
            _ => {}
        }
    }
    let change = IoThreadChange::Tune(a.iothread_id, p);
    driver.change_iothread(&Domain::from(&a.dom), &change, flags)
}

/// `REMOTE_IOTHREAD_INFO_MAX`.
const IOTHREAD_INFO_MAX: usize = 16384;

/// `cpus` as libvirt's map: one bit per CPU, as many bytes as the last
/// needs (one when there is none).
pub fn cpumap(cpus: &[u32]) -> Vec<u8> {
    let len = cpus.iter().max().map_or(1, |c| *c as usize / 8 + 1);
    let mut map = vec![0u8; len];
    for c in cpus {
        map[*c as usize / 8] |= 1 << (c % 8);
    }
    map
}

/// The CPUs of libvirt's map `map`.
pub fn cpus_of(map: &[u8]) -> Vec<u32> {
    (0..map.len() as u32 * 8)
        .filter(|c| map[*c as usize / 8] & (1 << (c % 8)) != 0)
        .collect()
}

/// The host's online CPUs.
fn online_cpus() -> Result<Vec<u32>> {
    let path = "/sys/devices/system/cpu/online";
    let text =
        std::fs::read_to_string(path).map_err(|e| Error::io(format!("cannot read {path}"), e))?;
    parse_cpuset(text.trim()).ok_or_else(|| {
        Error::new(
            ErrorCode::Internal,
            format!("cannot read the CPU list of {path}: {}", text.trim()),
        )
    })
}

/// The I/O threads of definition `def` with their CPUs, as libvirt's
/// `virDomainDriverGetIOThreadsConfig` gives them.
fn config_threads(def: &DomainDef) -> Result<Vec<(u32, Vec<u32>)>> {
    let ids = def.iothread_ids();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let pins = def
        .cputune
        .as_ref()
        .map(|t| t.iothreadpins.as_slice())
        .unwrap_or(&[]);
    let default = match def.vcpu.cpuset.as_deref().and_then(parse_cpuset) {
        Some(cpus) => cpus,
        None => online_cpus()?,
    };
    Ok(ids
        .into_iter()
        .map(|id| {
            let pinned = pins
                .iter()
                .find(|(n, _)| *n == id)
                .and_then(|(_, set)| parse_cpuset(set));
            (id, pinned.unwrap_or_else(|| default.clone()))
        })
        .collect())
}

/// `virDomainGetIOThreadInfo`: with `VIR_DOMAIN_AFFECT_CONFIG` (or
/// neither flag on a shut-off domain) the definition's, else the running
/// QEMU's.
pub fn get_iothread_info(driver: &dyn Driver, a: IoThreadInfoArgs) -> Result<IoThreadInfoRet> {
    check_flags(
        a.flags,
        affect::LIVE | affect::CONFIG,
        "virDomainGetIOThreadInfo",
    )?;
    let dom = Domain::from(&a.dom);
    let info = driver.info(&dom)?;
    let active = info.state != DomainState::Shutoff;
    let config = a.flags & affect::CONFIG != 0 || (a.flags & affect::LIVE == 0 && !active);
    let threads = if config {
        if !info.persistent {
            return Err(super::resources::transient(&dom));
        }
        let xml = driver.xml_desc(&dom, XmlFlags::INACTIVE)?;
        config_threads(&DomainDef::from_xml(&xml)?)?
    } else {
        if !active {
            return Err(not_running(&dom));
        }
        driver
            .iothreads(&dom)?
            .into_iter()
            .map(|t| (t.id, t.cpus))
            .collect()
    };
    if threads.len() > IOTHREAD_INFO_MAX {
        return Err(Error::new(
            ErrorCode::Protocol,
            format!(
                "Too many IOThreads in info: {} for limit {IOTHREAD_INFO_MAX}",
                threads.len()
            ),
        ));
    }
    Ok(IoThreadInfoRet {
        ret: threads.len() as u32,
        info: threads
            .into_iter()
            .map(|(id, cpus)| IoThread {
                iothread_id: id,
                cpumap: Opaque(cpumap(&cpus)),
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_map_is_as_long_as_its_last_cpu_needs() {
        assert_eq!(cpumap(&[]), vec![0]);
        assert_eq!(cpumap(&[0, 1]), vec![3]);
        assert_eq!(cpumap(&[1, 9]), vec![2, 2]);
        assert_eq!(cpus_of(&[2, 2]), vec![1, 9]);
    }

    #[test]
    fn a_definitions_threads_take_their_pin_or_the_vcpu_cpuset() {
        let def = DomainDef::from_xml(
            "<domain type='qemu'><name>t</name><memory unit='MiB'>64</memory>\
             <vcpu cpuset='0'>1</vcpu><iothreads>2</iothreads>\
             <cputune><iothreadpin iothread='2' cpuset='0'/></cputune>\
             <os><type arch='x86_64' machine='pc'>hvm</type></os><devices/></domain>",
        )
        .unwrap();
        assert_eq!(
            config_threads(&def).unwrap(),
            vec![(1, vec![0]), (2, vec![0])]
        );
    }
}
