//! The samples of the memory, vCPU and statistics procedures (see
//! `samples.rs`).

use qvirt::transport::libvirt::procedures::{Call, Procedure, Reply};
use qvirt::transport::libvirt::types::*;

use super::{dom, flags};

fn param(field: &str, value: ParamValue) -> TypedParam {
    TypedParam {
        field: field.into(),
        value,
    }
}

/// The sample call of resource procedure `p`.
pub fn call(p: Procedure) -> Call {
    use Procedure as P;
    match p {
        P::DomainGetMaxVcpus => Call::DomainGetMaxVcpus(DomArgs { dom: dom() }),
        P::DomainSetMemoryStatsPeriod => {
            Call::DomainSetMemoryStatsPeriod(SetMemoryStatsPeriodArgs {
                dom: dom(),
                period: 5,
                flags: 1,
            })
        }
        P::DomainSetMaxMemory => Call::DomainSetMaxMemory(SetMemoryArgs {
            dom: dom(),
            memory: 524_288,
        }),
        P::DomainSetMemory => Call::DomainSetMemory(SetMemoryArgs {
            dom: dom(),
            memory: 131_072,
        }),
        P::DomainSetVcpus => Call::DomainSetVcpus(SetVcpusArgs {
            dom: dom(),
            nvcpus: 2,
        }),
        P::DomainBlockStats => Call::DomainBlockStats(BlockStatsArgs {
            dom: dom(),
            path: "vda".into(),
        }),
        P::DomainInterfaceStats => Call::DomainInterfaceStats(InterfaceStatsArgs {
            dom: dom(),
            device: "vnet0".into(),
        }),
        P::DomainMemoryStats => Call::DomainMemoryStats(MemoryStatsArgs {
            dom: dom(),
            max_stats: 13,
            flags: 0,
        }),
        P::DomainSetVcpusFlags => Call::DomainSetVcpusFlags(SetVcpusFlagsArgs {
            dom: dom(),
            nvcpus: 4,
            flags: 6,
        }),
        P::DomainSetVcpu => Call::DomainSetVcpu(SetVcpuArgs {
            dom: dom(),
            cpumap: "2-3".into(),
            state: 1,
            flags: 1,
        }),
        P::DomainGetVcpusFlags => Call::DomainGetVcpusFlags(flags(5)),
        P::DomainSetMemoryFlags => Call::DomainSetMemoryFlags(SetMemoryFlagsArgs {
            dom: dom(),
            memory: 262_144,
            flags: 3,
        }),
        P::DomainBlockStatsFlags => Call::DomainBlockStatsFlags(BlockStatsFlagsArgs {
            dom: dom(),
            path: "/var/lib/vms/a.qcow2".into(),
            nparams: 8,
            flags: 0,
        }),
        P::DomainGetCpuStats => Call::DomainGetCpuStats(CpuStatsArgs {
            dom: dom(),
            nparams: 3,
            start_cpu: -1,
            ncpus: 1,
            flags: 0,
        }),
        P::DomainGetMemoryParameters => Call::DomainGetMemoryParameters(TunableArgs {
            dom: dom(),
            nparams: 3,
            flags: 4,
        }),
        P::DomainGetBlkioParameters => Call::DomainGetBlkioParameters(TunableArgs {
            dom: dom(),
            nparams: 0,
            flags: 6,
        }),
        P::DomainSetMemoryParameters => Call::DomainSetMemoryParameters(SetTunableArgs {
            dom: dom(),
            params: vec![
                param("hard_limit", ParamValue::ULLong(262_144)),
                param("swap_hard_limit", ParamValue::ULLong(9_007_199_254_740_991)),
            ],
            flags: 1,
        }),
        P::DomainSetBlkioParameters => Call::DomainSetBlkioParameters(SetTunableArgs {
            dom: dom(),
            params: vec![
                param("weight", ParamValue::UInt(500)),
                param(
                    "device_read_bytes_sec",
                    ParamValue::String("/dev/loop0,1048576,/dev/loop1,0".into()),
                ),
            ],
            flags: 2,
        }),
        P::ConnectGetAllDomainStats => Call::ConnectGetAllDomainStats(AllDomainStatsArgs {
            doms: vec![dom()],
            stats: 0x2c,
            flags: 1 << 31,
        }),
        other => unreachable!("{other:?} is not a resource procedure"),
    }
}

/// The sample reply of resource procedure `p`.
pub fn reply(p: Procedure) -> Reply {
    use Procedure as P;
    match p {
        P::DomainSetMemoryStatsPeriod => Reply::DomainSetMemoryStatsPeriod(()),
        P::DomainSetMemoryParameters => Reply::DomainSetMemoryParameters(()),
        P::DomainSetBlkioParameters => Reply::DomainSetBlkioParameters(()),
        P::DomainGetMaxVcpus => Reply::DomainGetMaxVcpus(NumRet { num: 4 }),
        P::DomainSetMaxMemory => Reply::DomainSetMaxMemory(()),
        P::DomainSetMemory => Reply::DomainSetMemory(()),
        P::DomainSetVcpus => Reply::DomainSetVcpus(()),
        P::DomainBlockStats => Reply::DomainBlockStats(BlockStatsRet {
            rd_req: 311,
            rd_bytes: 5_677_056,
            wr_req: 2,
            wr_bytes: 8192,
            errs: -1,
        }),
        P::DomainInterfaceStats => Reply::DomainInterfaceStats(InterfaceStatsRet {
            rx_bytes: 1_280_000,
            rx_packets: 901,
            rx_errs: 0,
            rx_drop: 3,
            tx_bytes: 64_000,
            tx_packets: 450,
            tx_errs: 0,
            tx_drop: 0,
        }),
        P::DomainMemoryStats => Reply::DomainMemoryStats(MemoryStatsRet {
            stats: vec![
                MemoryStat {
                    tag: 6,
                    val: 131_072,
                },
                MemoryStat {
                    tag: 4,
                    val: 90_112,
                },
                MemoryStat {
                    tag: 7,
                    val: 201_332,
                },
            ],
        }),
        P::DomainSetVcpusFlags => Reply::DomainSetVcpusFlags(()),
        P::DomainSetVcpu => Reply::DomainSetVcpu(()),
        P::DomainGetVcpusFlags => Reply::DomainGetVcpusFlags(NumRet { num: 2 }),
        P::DomainSetMemoryFlags => Reply::DomainSetMemoryFlags(()),
        P::DomainBlockStatsFlags => Reply::DomainBlockStatsFlags(ParamsRet {
            params: vec![
                param("wr_bytes", ParamValue::LLong(8192)),
                param("wr_operations", ParamValue::LLong(2)),
            ],
            nparams: 0,
        }),
        P::DomainGetCpuStats => Reply::DomainGetCpuStats(ParamsRet {
            params: vec![
                param("cpu_time", ParamValue::ULLong(1_520_000_000)),
                param("user_time", ParamValue::ULLong(1_100_000_000)),
                param("system_time", ParamValue::ULLong(420_000_000)),
            ],
            nparams: 3,
        }),
        P::DomainGetMemoryParameters => Reply::DomainGetMemoryParameters(ParamsRet {
            params: vec![
                param("hard_limit", ParamValue::ULLong(204_800)),
                param("soft_limit", ParamValue::ULLong(9_007_199_254_740_991)),
            ],
            nparams: 0,
        }),
        P::DomainGetBlkioParameters => Reply::DomainGetBlkioParameters(ParamsRet {
            params: vec![
                param("weight", ParamValue::UInt(800)),
                param(
                    "device_read_bytes_sec",
                    ParamValue::String("/dev/sda,1048576".into()),
                ),
            ],
            nparams: 0,
        }),
        P::ConnectGetAllDomainStats => Reply::ConnectGetAllDomainStats(AllDomainStatsRet {
            ret_stats: vec![StatsRecord {
                dom: dom(),
                params: vec![
                    param("state.state", ParamValue::Int(1)),
                    param("vcpu.current", ParamValue::UInt(1)),
                    param("vcpu.0.time", ParamValue::ULLong(950_000_000)),
                    param("block.0.name", ParamValue::String("vda".into())),
                ],
            }],
        }),
        other => unreachable!("{other:?} is not a resource procedure"),
    }
}
