//! The samples of the calls that change or read a domain's tuning and
//! threads beside the statistics (see `samples.rs`).

use qvirt::transport::libvirt::procedures::{Call, Procedure, Reply};
use qvirt::transport::libvirt::types::*;
use qvirt::transport::libvirt::xdr::Opaque;

fn param(field: &str, value: ParamValue) -> TypedParam {
    TypedParam {
        field: field.into(),
        value,
    }
}

/// The sample call of procedure `p`.
pub fn call(p: Procedure) -> Call {
    use Procedure as P;
    match p {
        P::DomainSetBlockIoTune => Call::DomainSetBlockIoTune(SetBlockIoTuneArgs {
            dom: super::dom(),
            disk: "vda".into(),
            params: vec![
                param("total_bytes_sec", ParamValue::ULLong(2_097_152)),
                param("group_name", ParamValue::String("gq".into())),
            ],
            flags: 1,
        }),
        P::DomainGetIothreadInfo => Call::DomainGetIothreadInfo(IoThreadInfoArgs {
            dom: super::dom(),
            flags: 1,
        }),
        P::ConnectGetSysinfo => Call::ConnectGetSysinfo(SysinfoArgs { flags: 0 }),
        P::DomainCoreDump => Call::DomainCoreDump(CoreDumpArgs {
            dom: super::dom(),
            to: "/var/tmp/a.core".into(),
            flags: 2,
        }),
        P::DomainCoreDumpWithFormat => Call::DomainCoreDumpWithFormat(CoreDumpFormatArgs {
            dom: super::dom(),
            to: "/var/tmp/a.kdump".into(),
            dumpformat: 1,
            flags: 16,
        }),
        P::DomainBlockResize => Call::DomainBlockResize(BlockResizeArgs {
            dom: super::dom(),
            disk: "vda".into(),
            size: 16 << 20,
            flags: 1,
        }),
        P::DomainBlockPeek => Call::DomainBlockPeek(BlockPeekArgs {
            dom: super::dom(),
            path: "vda".into(),
            offset: 510,
            size: 2,
            flags: 0,
        }),
        P::DomainMemoryPeek => Call::DomainMemoryPeek(MemoryPeekArgs {
            dom: super::dom(),
            offset: 0xf0000,
            size: 3,
            flags: 2,
        }),
        P::DomainGetSchedulerType => Call::DomainGetSchedulerType(DomArgs { dom: super::dom() }),
        P::DomainGetSchedulerParameters => Call::DomainGetSchedulerParameters(SchedParamsArgs {
            dom: super::dom(),
            nparams: 9,
        }),
        P::DomainGetSchedulerParametersFlags => {
            Call::DomainGetSchedulerParametersFlags(SchedParamsFlagsArgs {
                dom: super::dom(),
                nparams: 9,
                flags: 2,
            })
        }
        P::DomainSetSchedulerParameters => Call::DomainSetSchedulerParameters(SetSchedArgs {
            dom: super::dom(),
            params: vec![param("cpu_shares", ParamValue::ULLong(2048))],
        }),
        P::DomainSetSchedulerParametersFlags => {
            Call::DomainSetSchedulerParametersFlags(SetSchedFlagsArgs {
                dom: super::dom(),
                params: vec![param("vcpu_quota", ParamValue::LLong(-1))],
                flags: 2,
            })
        }
        P::DomainMigrateSetMaxSpeed => Call::DomainMigrateSetMaxSpeed(SetMaxSpeedArgs {
            dom: super::dom(),
            bandwidth: 64,
            flags: 0,
        }),
        P::DomainMigrateGetMaxSpeed => Call::DomainMigrateGetMaxSpeed(MaxSpeedArgs {
            dom: super::dom(),
            flags: 0,
        }),
        other => panic!("{other:?} has no sample here"),
    }
}

/// The sample reply to procedure `p`.
pub fn reply(p: Procedure) -> Reply {
    use Procedure as P;
    match p {
        P::DomainSetBlockIoTune => Reply::DomainSetBlockIoTune(()),
        P::DomainGetIothreadInfo => Reply::DomainGetIothreadInfo(IoThreadInfoRet {
            info: vec![
                IoThread {
                    iothread_id: 1,
                    cpumap: Opaque(vec![3]),
                },
                IoThread {
                    iothread_id: 4,
                    cpumap: Opaque(vec![0, 1]),
                },
            ],
            ret: 2,
        }),
        P::DomainMigrateSetMaxSpeed => Reply::DomainMigrateSetMaxSpeed(()),
        P::DomainBlockResize => Reply::DomainBlockResize(()),
        P::DomainCoreDump => Reply::DomainCoreDump(()),
        P::DomainCoreDumpWithFormat => Reply::DomainCoreDumpWithFormat(()),
        P::DomainBlockPeek => Reply::DomainBlockPeek(PeekRet {
            buffer: Opaque(vec![0x55, 0xaa]),
        }),
        P::DomainMemoryPeek => Reply::DomainMemoryPeek(PeekRet {
            buffer: Opaque(vec![1, 2, 3]),
        }),
        P::DomainGetSchedulerType => Reply::DomainGetSchedulerType(SchedTypeRet {
            kind: "posix".into(),
            nparams: 9,
        }),
        P::DomainGetSchedulerParameters => {
            Reply::DomainGetSchedulerParameters(SchedParamsRet {
                params: vec![
                    param("cpu_shares", ParamValue::ULLong(512)),
                    param("vcpu_quota", ParamValue::LLong(50000)),
                ],
            })
        }
        P::DomainGetSchedulerParametersFlags => {
            Reply::DomainGetSchedulerParametersFlags(SchedParamsRet { params: vec![] })
        }
        P::DomainSetSchedulerParameters => Reply::DomainSetSchedulerParameters(()),
        P::DomainSetSchedulerParametersFlags => Reply::DomainSetSchedulerParametersFlags(()),
        P::DomainMigrateGetMaxSpeed => Reply::DomainMigrateGetMaxSpeed(MaxSpeedRet {
            bandwidth: 8_796_093_022_207,
        }),
        P::ConnectGetSysinfo => Reply::ConnectGetSysinfo(SysinfoRet {
            sysinfo: "<sysinfo type='smbios'>\n  <bios>\n    <entry name='vendor'>SeaBIOS</entry>\n  </bios>\n</sysinfo>\n".into(),
        }),
        other => panic!("{other:?} has no sample here"),
    }
}
