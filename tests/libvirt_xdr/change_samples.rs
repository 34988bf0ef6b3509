//! The samples of the calls that change a domain's I/O threads, its
//! pinning, its lifecycle actions, its devices by alias and an interface's bandwidth
//! (see `samples.rs`).

use qvirt::transport::libvirt::procedures::{Call, Procedure, Reply};
use qvirt::transport::libvirt::types::*;
use qvirt::transport::libvirt::xdr::Opaque;

/// The procedures whose samples are here.
macro_rules! change_procedures {
    () => {
        Procedure::DomainAddIothread
            | Procedure::DomainDelIothread
            | Procedure::DomainPinIothread
            | Procedure::DomainSetIothreadParams
            | Procedure::DomainSetLifecycleAction
            | Procedure::DomainDetachDeviceAlias
            | Procedure::DomainSaveImageGetXmlDesc
            | Procedure::DomainSaveImageDefineXml
            | Procedure::DomainManagedSaveGetXmlDesc
            | Procedure::DomainManagedSaveDefineXml
            | Procedure::DomainStartDirtyRateCalc
            | Procedure::DomainSetInterfaceParameters
            | Procedure::DomainPinVcpu
            | Procedure::DomainPinVcpuFlags
            | Procedure::DomainPinEmulator
            | Procedure::DomainSetNumaParameters
            | Procedure::DomainSaveParams
            | Procedure::DomainRestoreParams
            | Procedure::DomainAbortJobFlags
    };
}
pub(crate) use change_procedures;

/// The sample call of procedure `p`.
pub fn call(p: Procedure) -> Call {
    use Procedure as P;
    let id = |iothread_id| IoThreadIdArgs {
        dom: super::dom(),
        iothread_id,
        flags: 3,
    };
    match p {
        P::DomainAddIothread => Call::DomainAddIothread(id(4)),
        P::DomainDelIothread => Call::DomainDelIothread(id(2)),
        P::DomainPinIothread => Call::DomainPinIothread(PinIoThreadArgs {
            dom: super::dom(),
            iothreads_id: 1,
            cpumap: Opaque(vec![5]),
            flags: 1,
        }),
        P::DomainSetIothreadParams => Call::DomainSetIothreadParams(SetIoThreadParamsArgs {
            dom: super::dom(),
            iothread_id: 1,
            params: vec![TypedParam {
                field: "poll_max_ns".into(),
                value: ParamValue::ULLong(32768),
            }],
            flags: 1,
        }),
        P::DomainSetLifecycleAction => Call::DomainSetLifecycleAction(SetLifecycleActionArgs {
            dom: super::dom(),
            kind: 1,
            action: 0,
            flags: 3,
        }),
        P::DomainDetachDeviceAlias => Call::DomainDetachDeviceAlias(DetachAliasArgs {
            dom: super::dom(),
            alias: "ua-disk1".into(),
            flags: 1,
        }),
        P::DomainSaveImageGetXmlDesc => Call::DomainSaveImageGetXmlDesc(SaveImageXmlArgs {
            file: "/tmp/a.save".into(),
            flags: 1,
        }),
        P::DomainSaveImageDefineXml => Call::DomainSaveImageDefineXml(SaveImageDefineArgs {
            file: "/tmp/a.save".into(),
            dxml: "<domain/>".into(),
            flags: 4,
        }),
        P::DomainManagedSaveGetXmlDesc => Call::DomainManagedSaveGetXmlDesc(DomFlagsArgs {
            dom: super::dom(),
            flags: 0,
        }),
        P::DomainManagedSaveDefineXml => Call::DomainManagedSaveDefineXml(ManagedSaveDefineArgs {
            dom: super::dom(),
            dxml: None,
            flags: 2,
        }),
        P::DomainSaveParams => Call::DomainSaveParams(SaveParamsArgs {
            dom: super::dom(),
            params: vec![
                TypedParam {
                    field: "file".into(),
                    value: ParamValue::String("/tmp/a.save".into()),
                },
                TypedParam {
                    field: "dxml".into(),
                    value: ParamValue::String("<domain/>".into()),
                },
            ],
            flags: 4,
        }),
        P::DomainRestoreParams => Call::DomainRestoreParams(RestoreParamsArgs {
            params: vec![TypedParam {
                field: "file".into(),
                value: ParamValue::String("/tmp/a.save".into()),
            }],
            flags: 2,
        }),
        P::DomainAbortJobFlags => Call::DomainAbortJobFlags(DomFlagsArgs {
            dom: super::dom(),
            flags: 0,
        }),
        P::DomainStartDirtyRateCalc => Call::DomainStartDirtyRateCalc(DirtyRateCalcArgs {
            dom: super::dom(),
            seconds: 1,
            flags: 1,
        }),
        P::DomainSetInterfaceParameters => Call::DomainSetInterfaceParameters(SetIfParamsArgs {
            dom: super::dom(),
            device: "vnet0".into(),
            params: vec![
                TypedParam {
                    field: "inbound.average".into(),
                    value: ParamValue::UInt(1000),
                },
                TypedParam {
                    field: "inbound.peak".into(),
                    value: ParamValue::UInt(2000),
                },
            ],
            flags: 2,
        }),
        P::DomainPinVcpu => Call::DomainPinVcpu(PinVcpuArgs {
            dom: super::dom(),
            vcpu: 1,
            cpumap: Opaque(vec![2]),
        }),
        P::DomainPinVcpuFlags => Call::DomainPinVcpuFlags(PinVcpuFlagsArgs {
            dom: super::dom(),
            vcpu: 0,
            cpumap: Opaque(vec![3]),
            flags: 2,
        }),
        P::DomainPinEmulator => Call::DomainPinEmulator(PinEmulatorArgs {
            dom: super::dom(),
            cpumap: Opaque(vec![1, 0x80]),
            flags: 1,
        }),
        P::DomainSetNumaParameters => Call::DomainSetNumaParameters(SetNumaArgs {
            dom: super::dom(),
            params: vec![
                TypedParam {
                    field: "numa_mode".into(),
                    value: ParamValue::Int(2),
                },
                TypedParam {
                    field: "numa_nodeset".into(),
                    value: ParamValue::String("0-1".into()),
                },
            ],
            flags: 2,
        }),
        other => panic!("{other:?} has no sample here"),
    }
}

/// The sample reply to procedure `p`.
pub fn reply(p: Procedure) -> Reply {
    use Procedure as P;
    match p {
        P::DomainAddIothread => Reply::DomainAddIothread(()),
        P::DomainDelIothread => Reply::DomainDelIothread(()),
        P::DomainPinIothread => Reply::DomainPinIothread(()),
        P::DomainSetIothreadParams => Reply::DomainSetIothreadParams(()),
        P::DomainSetLifecycleAction => Reply::DomainSetLifecycleAction(()),
        P::DomainDetachDeviceAlias => Reply::DomainDetachDeviceAlias(()),
        P::DomainSaveImageGetXmlDesc => Reply::DomainSaveImageGetXmlDesc(XmlRet {
            xml: "<domain type='qemu'/>".into(),
        }),
        P::DomainManagedSaveGetXmlDesc => Reply::DomainManagedSaveGetXmlDesc(XmlRet {
            xml: "<domain type='qemu'/>".into(),
        }),
        P::DomainSaveImageDefineXml => Reply::DomainSaveImageDefineXml(()),
        P::DomainManagedSaveDefineXml => Reply::DomainManagedSaveDefineXml(()),
        P::DomainStartDirtyRateCalc => Reply::DomainStartDirtyRateCalc(()),
        P::DomainSaveParams => Reply::DomainSaveParams(()),
        P::DomainRestoreParams => Reply::DomainRestoreParams(()),
        P::DomainAbortJobFlags => Reply::DomainAbortJobFlags(()),
        P::DomainSetInterfaceParameters => Reply::DomainSetInterfaceParameters(()),
        P::DomainPinVcpu => Reply::DomainPinVcpu(()),
        P::DomainPinVcpuFlags => Reply::DomainPinVcpuFlags(()),
        P::DomainPinEmulator => Reply::DomainPinEmulator(()),
        P::DomainSetNumaParameters => Reply::DomainSetNumaParameters(()),
        other => panic!("{other:?} has no sample here"),
    }
}
