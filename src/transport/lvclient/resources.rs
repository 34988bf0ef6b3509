//! Memory, vCPUs and statistics as libvirt's calls: virsh's `setmem`
//! and `setmaxmem` are `virDomainSetMemoryFlags` (with
//! `VIR_DOMAIN_MEM_MAXIMUM` for the maximum), `setvcpus` is
//! `virDomainSetVcpusFlags`, `memtune` and `blkiotune` with values are
//! `virDomainSetMemoryParameters` and `virDomainSetBlkioParameters`,
//! and `domstats` of one domain is
//! `virDomainListGetStats` (`CONNECT_GET_ALL_DOMAIN_STATS` naming it),
//! read back by the same table the server writes with
//! ([`domstats::stats_of`]).
//!
//! libvirt's statistics name no vCPU's host thread and mean another
//! figure by a disk's `allocation`: those stay 0 in the
//! [`DomainStats`] this client returns.

use super::conn::Conn;
use super::driver::affect;
use crate::driver::error::{Error, ErrorCode, Result};
use crate::driver::{
    BlkioTuneChange, DiskRuntime, Domain, DomainStats, MemTuneChange, ModifyFlags,
};
use crate::model::IOTUNE_LIMITS;
use crate::transport::libvirt::domstats::{self, flag, group};
use crate::transport::libvirt::jobstats::ParamValue;
use crate::transport::libvirt::procedures::Caller;
use crate::transport::libvirt::resources::flag as bits;
use crate::transport::libvirt::tunables::{blkiotune_params, memtune_params};
use crate::transport::libvirt::types::{
    AllDomainStatsArgs, BlockIoTuneArgs, DiskErrorsArgs, Dom, DomFlagsArgs, SetMemoryFlagsArgs,
    SetMemoryStatsPeriodArgs, SetTunableArgs, SetVcpuArgs, SetVcpusFlagsArgs,
};

/// [`crate::Driver::set_memory`].
pub(super) fn set_memory(conn: &Conn, d: &Domain, kib: u64, f: ModifyFlags) -> Result<()> {
    conn.domain_set_memory_flags(SetMemoryFlagsArgs {
        dom: Dom::from(d),
        memory: kib,
        flags: affect(f),
    })
}

/// [`crate::Driver::set_max_memory`].
pub(super) fn set_max_memory(conn: &Conn, d: &Domain, kib: u64, f: ModifyFlags) -> Result<()> {
    conn.domain_set_memory_flags(SetMemoryFlagsArgs {
        dom: Dom::from(d),
        memory: kib,
        flags: affect(f) | bits::MEM_MAXIMUM,
    })
}

/// [`crate::Driver::set_memory_stats_period`].
pub(super) fn set_memory_stats_period(
    conn: &Conn,
    d: &Domain,
    seconds: u32,
    f: ModifyFlags,
) -> Result<()> {
    conn.domain_set_memory_stats_period(SetMemoryStatsPeriodArgs {
        dom: Dom::from(d),
        period: i32::try_from(seconds).map_err(|_| {
            Error::new(
                ErrorCode::InvalidArgument,
                format!(
                    "a statistics period of {seconds} s is more than libvirt's protocol carries"
                ),
            )
        })?,
        flags: affect(f),
    })
}

/// [`crate::Driver::set_vcpus`].
pub(super) fn set_vcpus(conn: &Conn, d: &Domain, count: u32, f: ModifyFlags) -> Result<()> {
    conn.domain_set_vcpus_flags(SetVcpusFlagsArgs {
        dom: Dom::from(d),
        nvcpus: count,
        flags: affect(f),
    })
}

/// [`crate::Driver::set_vcpu`], the ids as libvirt's cpumap.
pub(super) fn set_vcpu(
    conn: &Conn,
    d: &Domain,
    ids: &[u32],
    enable: bool,
    f: ModifyFlags,
) -> Result<()> {
    conn.domain_set_vcpu(SetVcpuArgs {
        dom: Dom::from(d),
        cpumap: crate::model::format_cpuset(ids),
        state: i32::from(enable),
        flags: affect(f),
    })
}

/// [`crate::Driver::set_max_vcpus`].
pub(super) fn set_max_vcpus(conn: &Conn, d: &Domain, count: u32, f: ModifyFlags) -> Result<()> {
    conn.domain_set_vcpus_flags(SetVcpusFlagsArgs {
        dom: Dom::from(d),
        nvcpus: count,
        flags: affect(f) | bits::VCPU_MAXIMUM,
    })
}

/// [`crate::Driver::set_memtune`]: `virDomainSetMemoryParameters`.
pub(super) fn set_memtune(
    conn: &Conn,
    d: &Domain,
    change: &MemTuneChange,
    f: ModifyFlags,
) -> Result<()> {
    conn.domain_set_memory_parameters(SetTunableArgs {
        dom: Dom::from(d),
        params: memtune_params(change),
        flags: affect(f),
    })
}

/// [`crate::Driver::set_blkiotune`]: `virDomainSetBlkioParameters`.
pub(super) fn set_blkiotune(
    conn: &Conn,
    d: &Domain,
    change: &BlkioTuneChange,
    f: ModifyFlags,
) -> Result<()> {
    conn.domain_set_blkio_parameters(SetTunableArgs {
        dom: Dom::from(d),
        params: blkiotune_params(change),
        flags: affect(f),
    })
}

/// [`crate::Driver::iothreads`]: `virDomainGetIOThreadInfo`, live.
pub(super) fn iothreads(conn: &Conn, d: &Domain) -> Result<Vec<crate::driver::IoThreadInfo>> {
    use crate::transport::libvirt::threads::{IoThreadInfoArgs, cpus_of};
    let ret = conn.domain_get_iothread_info(IoThreadInfoArgs {
        dom: Dom::from(d),
        flags: affect(ModifyFlags::LIVE),
    })?;
    Ok(ret
        .info
        .into_iter()
        .map(|t| crate::driver::IoThreadInfo::new(t.iothread_id, cpus_of(&t.cpumap.0)))
        .collect())
}

/// [`crate::Driver::change_iothread`]: `virDomainAddIOThread`,
/// `virDomainDelIOThread`, `virDomainPinIOThread` or
/// `virDomainSetIOThreadParams`.
pub(super) fn change_iothread(
    conn: &Conn,
    d: &Domain,
    c: &crate::driver::IoThreadChange,
    f: ModifyFlags,
) -> Result<()> {
    use crate::driver::IoThreadChange as C;
    use crate::transport::libvirt::jobstats::{ParamValue as V, TypedParam};
    use crate::transport::libvirt::threads::cpumap;
    use crate::transport::libvirt::types::{
        IoThreadIdArgs, PinIoThreadArgs, SetIoThreadParamsArgs,
    };
    let id_args = |iothread_id| IoThreadIdArgs {
        dom: Dom::from(d),
        iothread_id,
        flags: affect(f),
    };
    match c {
        C::Add(id) => conn.domain_add_iothread(id_args(*id)),
        C::Remove(id) => conn.domain_del_iothread(id_args(*id)),
        C::Pin(id, cpus) => conn.domain_pin_iothread(PinIoThreadArgs {
            dom: Dom::from(d),
            iothreads_id: *id,
            cpumap: crate::transport::libvirt::xdr::Opaque(cpumap(cpus)),
            flags: affect(f),
        }),
        C::Tune(id, p) => {
            let values = [
                ("poll_max_ns", p.poll_max_ns.map(V::ULLong)),
                ("poll_grow", p.poll_grow.map(V::UInt)),
                ("poll_shrink", p.poll_shrink.map(V::UInt)),
                ("thread_pool_min", p.thread_pool_min.map(V::Int)),
                ("thread_pool_max", p.thread_pool_max.map(V::Int)),
            ];
            let params = values
                .into_iter()
                .filter_map(|(field, v)| {
                    Some(TypedParam {
                        field: field.to_string(),
                        value: v?,
                    })
                })
                .collect();
            conn.domain_set_iothread_params(SetIoThreadParamsArgs {
                dom: Dom::from(d),
                iothread_id: *id,
                params,
                flags: affect(f),
            })
        }
    }
}

/// [`crate::Driver::detach_device_alias`]: `virDomainDetachDeviceAlias`.
pub(super) fn detach_device_alias(
    conn: &Conn,
    d: &Domain,
    alias: &str,
    f: ModifyFlags,
) -> Result<()> {
    conn.domain_detach_device_alias(crate::transport::libvirt::types::DetachAliasArgs {
        dom: Dom::from(d),
        alias: alias.to_string(),
        flags: affect(f),
    })
}

/// [`crate::Driver::set_lifecycle_action`]:
/// `virDomainSetLifecycleAction`, with libvirt's numbers.
pub(super) fn set_lifecycle_action(
    conn: &Conn,
    d: &Domain,
    event: crate::driver::LifecycleEvent,
    action: crate::model::LifecycleAction,
    f: ModifyFlags,
) -> Result<()> {
    use crate::model::LifecycleAction as A;
    conn.domain_set_lifecycle_action(crate::transport::libvirt::types::SetLifecycleActionArgs {
        dom: Dom::from(d),
        kind: crate::transport::types_changes::lifecycle_event_number(event),
        action: match action {
            A::Destroy => 0,
            A::Restart => 1,
            A::Preserve => 3,
        },
        flags: affect(f),
    })
}

/// [`crate::Driver::set_block_iotune`]: `virDomainSetBlockIoTune`.
pub(super) fn set_block_iotune(
    conn: &Conn,
    d: &Domain,
    disk: &str,
    change: &crate::driver::BlockIoTuneChange,
    f: ModifyFlags,
) -> Result<()> {
    use crate::transport::libvirt::drives::{SetBlockIoTuneArgs, set_block_io_tune_params};
    conn.domain_set_block_io_tune(SetBlockIoTuneArgs {
        dom: Dom::from(d),
        disk: disk.to_string(),
        params: set_block_io_tune_params(change),
        flags: affect(f),
    })
}

/// [`crate::Driver::stats`]: the groups qvirt's statistics hold, which a
/// daemon must serve (`ENFORCE_STATS`).
pub(super) fn stats(conn: &Conn, d: &Domain) -> Result<DomainStats> {
    let ret = conn.connect_get_all_domain_stats(AllDomainStatsArgs {
        doms: vec![Dom::from(d)],
        stats: group::SERVED,
        flags: flag::ENFORCE_STATS,
    })?;
    // A domain gone is left out of the records.
    let record = ret
        .ret_stats
        .into_iter()
        .find(|r| r.dom.uuid == d.uuid)
        .ok_or_else(|| {
            Error::new(
                ErrorCode::NoDomain,
                format!("no domain with matching uuid '{}' ({})", d.uuid, d.name),
            )
        })?;
    Ok(domstats::stats_of(&record.params))
}

/// [`crate::Driver::disk_runtime`]: each disk of the live definition's
/// throttle (`virDomainGetBlockIoTune`, live) and error
/// (`virDomainGetDiskErrors`); libvirt tells no I/O status but an error,
/// so a disk without one reads `ok`.
pub(super) fn disk_runtime(conn: &Conn, d: &Domain) -> Result<Vec<DiskRuntime>> {
    use crate::transport::libvirt::drives::{GROUP_NAME, error_code};
    let xml = conn
        .domain_get_xml_desc(DomFlagsArgs {
            dom: Dom::from(d),
            flags: 0,
        })?
        .xml;
    let def = crate::model::DomainDef::from_xml(&xml)?;
    let disks = def.devices.disks.len() as u32;
    let errors = conn
        .domain_get_disk_errors(DiskErrorsArgs {
            dom: Dom::from(d),
            maxerrors: disks.max(1),
            flags: 0,
        })?
        .errors;
    let mut out = Vec::new();
    for disk in &def.devices.disks {
        let params = conn
            .domain_get_block_io_tune(BlockIoTuneArgs {
                dom: Dom::from(d),
                disk: Some(disk.target.clone()),
                nparams: 20,
                flags: 1 | bits::STRING_OKAY,
            })?
            .params;
        let value = |name: &str| params.iter().find(|p| p.field == name).map(|p| &p.value);
        let io_status = match errors.iter().find(|e| e.disk == disk.target) {
            Some(e) if e.error == error_code("nospace") => "nospace",
            Some(_) => "failed",
            None => "ok",
        };
        out.push(DiskRuntime {
            target: disk.target.clone(),
            iotune: IOTUNE_LIMITS
                .iter()
                .map(|(n, _)| match value(n) {
                    Some(ParamValue::ULLong(v)) => *v,
                    _ => 0,
                })
                .collect(),
            group: match value(GROUP_NAME) {
                Some(ParamValue::String(g)) if !g.is_empty() => Some(g.clone()),
                _ => None,
            },
            io_status: io_status.to_string(),
        });
    }
    Ok(out)
}

/// [`crate::Driver::pin_cpus`]: `virDomainPinVcpuFlags` or
/// `virDomainPinEmulator`.
pub(super) fn pin_cpus(
    conn: &Conn,
    d: &Domain,
    target: crate::driver::PinTarget,
    cpus: &[u32],
    f: ModifyFlags,
) -> Result<()> {
    use crate::transport::libvirt::threads::cpumap;
    use crate::transport::libvirt::types::{PinEmulatorArgs, PinVcpuFlagsArgs};
    use crate::transport::libvirt::xdr::Opaque;
    match target {
        crate::driver::PinTarget::Vcpu(vcpu) => conn.domain_pin_vcpu_flags(PinVcpuFlagsArgs {
            dom: Dom::from(d),
            vcpu,
            cpumap: Opaque(cpumap(cpus)),
            flags: affect(f),
        }),
        crate::driver::PinTarget::Emulator => conn.domain_pin_emulator(PinEmulatorArgs {
            dom: Dom::from(d),
            cpumap: Opaque(cpumap(cpus)),
            flags: affect(f),
        }),
    }
}
