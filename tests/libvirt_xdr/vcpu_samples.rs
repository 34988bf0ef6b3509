//! The samples of the vCPU placement and host CPU procedures (see
//! `samples.rs`).

use qvirt::transport::libvirt::procedures::{Call, Procedure, Reply};
use qvirt::transport::libvirt::types::*;
use qvirt::transport::libvirt::xdr::Opaque;

use super::dom;

/// The sample call of vCPU procedure `p`.
pub fn call(p: Procedure) -> Call {
    use Procedure as P;
    match p {
        P::DomainGetVcpus => Call::DomainGetVcpus(VcpusArgs {
            dom: dom(),
            maxinfo: 2,
            maplen: 1,
        }),
        P::NodeGetFreeMemory => Call::NodeGetFreeMemory(()),
        P::DomainGetVcpuPinInfo => Call::DomainGetVcpuPinInfo(VcpuPinInfoArgs {
            dom: dom(),
            ncpumaps: 2,
            maplen: 1,
            flags: 2,
        }),
        P::DomainGetEmulatorPinInfo => Call::DomainGetEmulatorPinInfo(EmulatorPinInfoArgs {
            dom: dom(),
            maplen: 1,
            flags: 1,
        }),
        P::NodeGetCpuMap => Call::NodeGetCpuMap(CpuMapArgs {
            need_map: 1,
            need_online: 1,
            flags: 0,
        }),
        P::NodeGetCpuStats => Call::NodeGetCpuStats(NodeCpuStatsArgs {
            cpu_num: -1,
            nparams: 4,
            flags: 0,
        }),
        P::NodeGetMemoryStats => Call::NodeGetMemoryStats(NodeMemoryStatsArgs {
            nparams: 0,
            cell_num: -1,
            flags: 0,
        }),
        other => unreachable!("{other:?} is not a vCPU procedure"),
    }
}

/// The sample successful reply of vCPU procedure `p`.
pub fn reply(p: Procedure) -> Reply {
    use Procedure as P;
    match p {
        P::DomainGetVcpus => Reply::DomainGetVcpus(VcpusRet {
            info: vec![
                VcpuInfo {
                    number: 0,
                    state: 1,
                    cpu_time: 1_250_000_000,
                    cpu: 0,
                },
                VcpuInfo {
                    number: 1,
                    state: 1,
                    cpu_time: 980_000_000,
                    cpu: 1,
                },
            ],
            cpumaps: Opaque(vec![1, 2]),
        }),
        P::NodeGetFreeMemory => Reply::NodeGetFreeMemory(FreeMemoryRet {
            free_mem: 8_589_934_592,
        }),
        P::DomainGetVcpuPinInfo => Reply::DomainGetVcpuPinInfo(VcpuPinInfoRet {
            cpumaps: Opaque(vec![1, 2]),
            num: 2,
        }),
        P::DomainGetEmulatorPinInfo => Reply::DomainGetEmulatorPinInfo(EmulatorPinInfoRet {
            cpumaps: Opaque(vec![3]),
            ret: 1,
        }),
        P::NodeGetCpuMap => Reply::NodeGetCpuMap(CpuMapRet {
            cpumap: Opaque(vec![3]),
            online: 2,
            ret: 2,
        }),
        P::NodeGetCpuStats => Reply::NodeGetCpuStats(NodeStatsRet {
            params: vec![
                NodeStat {
                    field: "kernel".into(),
                    value: 1_500_000_000,
                },
                NodeStat {
                    field: "user".into(),
                    value: 9_000_000_000,
                },
                NodeStat {
                    field: "idle".into(),
                    value: 90_000_000_000,
                },
                NodeStat {
                    field: "iowait".into(),
                    value: 20_000_000,
                },
            ],
            nparams: 4,
        }),
        P::NodeGetMemoryStats => Reply::NodeGetMemoryStats(NodeStatsRet {
            params: Vec::new(),
            nparams: 4,
        }),
        other => unreachable!("{other:?} is not a vCPU procedure"),
    }
}
