//! Where a domain's vCPUs run, and the host's CPUs and free memory, as
//! libvirt's calls give them (virsh's `vcpuinfo`, `vcpupin` and
//! `emulatorpin` without a new pinning, `nodecpumap`, `freecell`):
//!
//! - `virDomainGetVcpus` (a running domain): each online vCPU's state
//!   (running), its host thread's CPU time, the host CPU it last ran on
//!   and the CPUs it may run on, read from the kernel (`/proc/TID/stat`,
//!   `sched_getaffinity`) for the thread QEMU names;
//! - `virDomainGetVcpuPinInfo` and `virDomainGetEmulatorPinInfo`: the
//!   CPUs the definition (live or persistent, as the flags say) gives each
//!   vCPU and QEMU's other threads (`<vcpupin>`, `<emulatorpin>`, else
//!   `<vcpu cpuset>`, else every host CPU), as libvirt answers them;
//! - `virNodeGetCPUMap` and `virNodeGetFreeMemory`: the host's CPUs
//!   (present, online) and its free memory.
//!
//! A CPU map is libvirt's: one bit per host CPU, CPU 0 in bit 0 of byte 0.

use nix::sched::sched_getaffinity;
use nix::unistd::Pid;

use super::resources::{one_def, running_stats};
use super::types::Dom;
use super::values::{affect, check_flags};
#[allow(unused_imports)]
use super::xdr::Xdr;
use super::xdr::{Opaque, xdr_struct};
use crate::driver::error::{Error, ErrorCode, Result};
use crate::driver::{Domain, DomainState, Driver};
use crate::model::{DomainDef, parse_cpuset};

xdr_struct! {
    /// `remote_domain_get_vcpus_args`.
    pub struct VcpusArgs { pub dom: Dom, pub maxinfo: i32, pub maplen: i32 }
    /// `remote_vcpu_info`.
    pub struct VcpuInfo { pub number: u32, pub state: i32, pub cpu_time: u64, pub cpu: i32 }
    /// `remote_domain_get_vcpus_ret`.
    pub struct VcpusRet { pub info: Vec<VcpuInfo>, pub cpumaps: Opaque }
    /// `remote_domain_get_vcpu_pin_info_args`.
    pub struct VcpuPinInfoArgs { pub dom: Dom, pub ncpumaps: i32, pub maplen: i32, pub flags: u32 }
    /// `remote_domain_get_vcpu_pin_info_ret`.
    pub struct VcpuPinInfoRet { pub cpumaps: Opaque, pub num: i32 }
    /// `remote_domain_get_emulator_pin_info_args`.
    pub struct EmulatorPinInfoArgs { pub dom: Dom, pub maplen: i32, pub flags: u32 }
    /// `remote_domain_get_emulator_pin_info_ret`.
    pub struct EmulatorPinInfoRet { pub cpumaps: Opaque, pub ret: i32 }
    /// `remote_node_get_cpu_map_args`.
    pub struct CpuMapArgs { pub need_map: i32, pub need_online: i32, pub flags: u32 }
    /// `remote_node_get_cpu_map_ret`.
    pub struct CpuMapRet { pub cpumap: Opaque, pub online: u32, pub ret: i32 }
    /// `remote_node_get_free_memory_ret`.
    pub struct FreeMemoryRet { pub free_mem: u64 }
}

/// `REMOTE_VCPUINFO_MAX` and `REMOTE_CPUMAPS_MAX`: what a libvirt client
/// takes.
const VCPUINFO_MAX: i32 = 16384;
const CPUMAPS_MAX: i32 = 8_388_608;
/// `VIR_VCPU_RUNNING`.
const VCPU_RUNNING: i32 = 1;

/// The CPUs the kernel lists in `/sys/devices/system/cpu/FILE`
/// (`present`, `online`).
fn host_cpus(file: &str) -> Result<Vec<u32>> {
    let path = format!("/sys/devices/system/cpu/{file}");
    let text =
        std::fs::read_to_string(&path).map_err(|e| Error::io(format!("cannot read {path}"), e))?;
    parse_cpuset(text.trim()).ok_or_else(|| {
        Error::new(
            ErrorCode::Internal,
            format!("cannot read the CPU list of {path}: {}", text.trim()),
        )
    })
}

/// How many host CPUs there are (the highest present, plus one): the
/// bits a full CPU map has.
fn host_cpu_count() -> Result<u32> {
    Ok(host_cpus("present")?.last().map_or(1, |c| c + 1))
}

/// `cpus` as a map of `maplen` bytes (CPUs past it are left out, as
/// libvirt does).
fn map_of(cpus: &[u32], maplen: usize) -> Vec<u8> {
    let mut map = vec![0u8; maplen];
    for &c in cpus {
        if let Some(byte) = map.get_mut(c as usize / 8) {
            *byte |= 1 << (c % 8);
        }
    }
    map
}

/// Checks a client's counts as libvirtd does: positive, and their
/// product within what the reply may carry.
fn check_counts(n: i32, maplen: i32, function: &str) -> Result<(usize, usize)> {
    if n <= 0 || maplen <= 0 {
        return Err(Error::new(
            ErrorCode::InvalidArgument,
            format!("{function}: the number of maps and their length must be positive"),
        ));
    }
    if n > VCPUINFO_MAX || n.checked_mul(maplen).is_none_or(|p| p > CPUMAPS_MAX) {
        return Err(Error::new(
            ErrorCode::InvalidArgument,
            format!("{function}: {n} maps of {maplen} bytes are more than a reply carries"),
        ));
    }
    Ok((n as usize, maplen as usize))
}

/// The host CPU a thread last ran on (`processor`, field 39 of
/// `/proc/TID/stat`).
fn last_cpu(tid: i32) -> Result<i32> {
    let path = format!("/proc/{tid}/stat");
    let text =
        std::fs::read_to_string(&path).map_err(|e| Error::io(format!("cannot read {path}"), e))?;
    // The command name (field 2) is in parentheses and may hold spaces.
    let rest = text.rsplit_once(')').map_or("", |(_, r)| r);
    rest.split_whitespace()
        .nth(36)
        .and_then(|f| f.parse().ok())
        .ok_or_else(|| Error::new(ErrorCode::Internal, format!("cannot read {path}")))
}

/// The CPUs thread `tid` may run on.
fn affinity(tid: i32, count: u32) -> Result<Vec<u32>> {
    let set = sched_getaffinity(Pid::from_raw(tid)).map_err(|e| {
        Error::io(
            format!("cannot read the CPU affinity of thread {tid}"),
            std::io::Error::from(e),
        )
    })?;
    Ok((0..count)
        .filter(|&c| set.is_set(c as usize).unwrap_or(false))
        .collect())
}

/// `virDomainGetVcpus`.
pub fn get_vcpus(driver: &dyn Driver, a: VcpusArgs) -> Result<VcpusRet> {
    const FUNCTION: &str = "virDomainGetVcpus";
    let dom = Domain::from(&a.dom);
    if a.maxinfo <= 0 || a.maplen < 0 {
        return Err(Error::new(
            ErrorCode::InvalidArgument,
            format!("{FUNCTION}: maxinfo must be positive and maplen not negative"),
        ));
    }
    let (max, maplen) = if a.maplen == 0 {
        (check_counts(a.maxinfo, 1, FUNCTION)?.0, 0)
    } else {
        check_counts(a.maxinfo, a.maplen, FUNCTION)?
    };
    if driver.info(&dom)?.state == DomainState::Shutoff {
        return Err(Error::new(
            ErrorCode::OperationInvalid,
            "cannot retrieve vCPU information for inactive domain",
        ));
    }
    let stats = running_stats(driver, &dom)?;
    let count = host_cpu_count()?;
    let mut info = Vec::new();
    let mut cpumaps = vec![0u8; max * maplen];
    for (i, v) in stats.vcpus.iter().take(max).enumerate() {
        info.push(VcpuInfo {
            number: v.id,
            state: VCPU_RUNNING,
            cpu_time: v.time_ns,
            cpu: last_cpu(v.thread_id)?,
        });
        if maplen > 0 {
            let map = map_of(&affinity(v.thread_id, count)?, maplen);
            cpumaps[i * maplen..(i + 1) * maplen].copy_from_slice(&map);
        }
    }
    Ok(VcpusRet {
        info,
        cpumaps: Opaque(cpumaps),
    })
}

/// The CPUs `cpuset` names, or every host CPU when it names none.
fn cpus_or_all(cpuset: Option<&str>, count: u32) -> Vec<u32> {
    cpuset
        .and_then(parse_cpuset)
        .unwrap_or_else(|| (0..count).collect())
}

/// The definition the flags name, for a pinning query.
fn pin_def(driver: &dyn Driver, dom: &Domain, flags: u32, function: &str) -> Result<DomainDef> {
    check_flags(flags, affect::LIVE | affect::CONFIG, function)?;
    one_def(driver, dom, flags)
}

/// `virDomainGetVcpuPinInfo`: each vCPU's CPUs as the definition pins
/// them, up to `ncpumaps` vCPUs.
pub fn get_vcpu_pin_info(driver: &dyn Driver, a: VcpuPinInfoArgs) -> Result<VcpuPinInfoRet> {
    const FUNCTION: &str = "virDomainGetVcpuPinInfo";
    let (n, maplen) = check_counts(a.ncpumaps, a.maplen, FUNCTION)?;
    let def = pin_def(driver, &Domain::from(&a.dom), a.flags, FUNCTION)?;
    let count = host_cpu_count()?;
    let default = def.vcpu.cpuset.as_deref();
    let pins = def
        .cputune
        .as_ref()
        .map(|t| t.vcpupins.as_slice())
        .unwrap_or(&[]);
    let vcpus = def.vcpu.max.min(n as u32);
    let mut cpumaps = vec![0u8; n * maplen];
    for v in 0..vcpus {
        let pinned = pins
            .iter()
            .find(|(id, _)| *id == v)
            .map(|(_, set)| set.as_str());
        let map = map_of(&cpus_or_all(pinned.or(default), count), maplen);
        let at = v as usize * maplen;
        cpumaps[at..at + maplen].copy_from_slice(&map);
    }
    Ok(VcpuPinInfoRet {
        cpumaps: Opaque(cpumaps),
        num: vcpus as i32,
    })
}

/// `virDomainGetEmulatorPinInfo`: the CPUs of QEMU's threads other than
/// the vCPUs, as the definition pins them.
pub fn get_emulator_pin_info(
    driver: &dyn Driver,
    a: EmulatorPinInfoArgs,
) -> Result<EmulatorPinInfoRet> {
    const FUNCTION: &str = "virDomainGetEmulatorPinInfo";
    let (_, maplen) = check_counts(1, a.maplen, FUNCTION)?;
    let def = pin_def(driver, &Domain::from(&a.dom), a.flags, FUNCTION)?;
    let pinned = def.cputune.as_ref().and_then(|t| t.emulatorpin.as_deref());
    let cpus = cpus_or_all(pinned.or(def.vcpu.cpuset.as_deref()), host_cpu_count()?);
    Ok(EmulatorPinInfoRet {
        cpumaps: Opaque(map_of(&cpus, maplen)),
        ret: 1,
    })
}

/// `virNodeGetCPUMap`: how many CPUs the host has, which are online (as
/// a map, when asked) and how many.
pub fn node_get_cpu_map(a: CpuMapArgs) -> Result<CpuMapRet> {
    check_flags(a.flags, 0, "virNodeGetCPUMap")?;
    let count = host_cpu_count()?;
    let online = host_cpus("online")?;
    Ok(CpuMapRet {
        cpumap: Opaque(if a.need_map != 0 {
            map_of(&online, count.div_ceil(8) as usize)
        } else {
            Vec::new()
        }),
        online: if a.need_online != 0 {
            online.len() as u32
        } else {
            0
        },
        ret: count as i32,
    })
}

/// `virNodeGetFreeMemory`: the host's free memory, bytes (`MemFree`).
pub fn node_get_free_memory() -> Result<FreeMemoryRet> {
    let text = std::fs::read_to_string("/proc/meminfo")
        .map_err(|e| Error::io("cannot read /proc/meminfo", e))?;
    let kib = text
        .lines()
        .find_map(|l| l.strip_prefix("MemFree:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse::<u64>().ok())
        .ok_or_else(|| Error::new(ErrorCode::Internal, "no MemFree in /proc/meminfo"))?;
    Ok(FreeMemoryRet {
        free_mem: kib * 1024,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::libvirt::xdr::{from_bytes, to_bytes};

    #[test]
    fn maps_set_one_bit_per_cpu_and_drop_those_past_the_end() {
        assert_eq!(map_of(&[0, 3, 9], 2), vec![0b0000_1001, 0b0000_0010]);
        assert_eq!(map_of(&[0, 16], 2), vec![1, 0]);
    }

    #[test]
    fn the_replies_are_laid_out_as_libvirt_reads_them() {
        let ret = VcpusRet {
            info: vec![VcpuInfo {
                number: 1,
                state: VCPU_RUNNING,
                cpu_time: 5,
                cpu: 1,
            }],
            cpumaps: Opaque(vec![3]),
        };
        let bytes = to_bytes(&ret);
        // count, number, state, cpu_time (8), cpu, then opaque: length 1,
        // the byte, padding.
        assert_eq!(
            bytes,
            [
                0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 1, 0, 0, 0, 1,
                3, 0, 0, 0
            ]
        );
        assert_eq!(from_bytes::<VcpusRet>(&bytes, "vcpus").unwrap(), ret);
    }

    #[test]
    fn the_host_has_cpus_and_free_memory() {
        let map = node_get_cpu_map(CpuMapArgs {
            need_map: 1,
            need_online: 1,
            flags: 0,
        })
        .unwrap();
        assert!(map.ret >= 1 && map.online >= 1);
        assert!(map.cpumap.0[0] & 1 == 1 || map.online < map.ret as u32);
        assert!(node_get_free_memory().unwrap().free_mem > 0);
        // A thread of this process ran somewhere, and may run there.
        let tid = nix::unistd::gettid().as_raw();
        let cpu = last_cpu(tid).unwrap();
        assert!(cpu >= 0 && (cpu as u32) < host_cpu_count().unwrap());
        assert!(!affinity(tid, host_cpu_count().unwrap()).unwrap().is_empty());
    }

    #[test]
    fn counts_past_what_a_reply_carries_are_refused() {
        assert!(check_counts(0, 1, "f").is_err());
        assert!(check_counts(1, 0, "f").is_err());
        assert!(check_counts(16385, 1, "f").is_err());
        assert!(check_counts(16384, 1024, "f").is_err());
        assert_eq!(check_counts(2, 1, "f").unwrap(), (2, 1));
    }
}
