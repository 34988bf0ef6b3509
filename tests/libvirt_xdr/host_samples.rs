//! The samples of the host facts procedures, of those on objects qvirt
//! does not keep, of the NMI and of a domain's settings as typed
//! parameters (see `samples.rs`).

use qvirt::transport::libvirt::procedures::{Call, Procedure, Reply};
use qvirt::transport::libvirt::types::*;
use qvirt::transport::libvirt::xdr::Chars;
use uuid::Uuid;

fn net() -> Network {
    Network {
        name: "default".into(),
        uuid: Uuid::from_u128(0x1f2e_3d4c_5b6a_4798_8a7b_6c5d_4e3f_2a1b),
    }
}

fn param(field: &str, value: ParamValue) -> TypedParam {
    TypedParam {
        field: field.into(),
        value,
    }
}

fn checkpoint() -> Checkpoint {
    Checkpoint {
        name: "c1".into(),
        dom: super::dom(),
    }
}

/// The sample call of procedure `p`.
pub fn call(p: Procedure) -> Call {
    use Procedure as P;
    let dom = || DomArgs { dom: super::dom() };
    match p {
        P::ConnectGetMaxVcpus => Call::ConnectGetMaxVcpus(MaxVcpusArgs {
            kind: Some("kvm".into()),
        }),
        P::NodeGetCellsFreeMemory => Call::NodeGetCellsFreeMemory(CellsFreeMemoryArgs {
            start_cell: 0,
            maxcells: 2,
        }),
        P::NodeGetFreePages => Call::NodeGetFreePages(FreePagesArgs {
            pages: vec![4, 2048],
            start_cell: 0,
            cell_count: 1,
            flags: 0,
        }),
        P::NodeGetMemoryParameters => Call::NodeGetMemoryParameters(NodeMemoryParamsArgs {
            nparams: 8,
            flags: 4,
        }),
        P::ConnectListDefinedNetworks => {
            Call::ConnectListDefinedNetworks(ListNamesArgs { maxnames: 16 })
        }
        P::ConnectListNetworks => Call::ConnectListNetworks(ListNamesArgs { maxnames: 16 }),
        P::NetworkLookupByName => Call::NetworkLookupByName(NameArgs {
            name: "default".into(),
        }),
        P::NetworkLookupByUuid => Call::NetworkLookupByUuid(UuidArgs { uuid: net().uuid }),
        P::ConnectNumOfDefinedNetworks => Call::ConnectNumOfDefinedNetworks(()),
        P::ConnectNumOfNetworks => Call::ConnectNumOfNetworks(()),
        P::DomainGetSecurityLabel => Call::DomainGetSecurityLabel(dom()),
        P::DomainGetSecurityLabelList => Call::DomainGetSecurityLabelList(dom()),
        P::DomainListAllCheckpoints => Call::DomainListAllCheckpoints(ListCheckpointsArgs {
            dom: super::dom(),
            need_results: 1,
            flags: 1,
        }),
        P::DomainCheckpointLookupByName => {
            Call::DomainCheckpointLookupByName(CheckpointLookupArgs {
                dom: super::dom(),
                name: "c1".into(),
                flags: 0,
            })
        }
        P::DomainInjectNmi => Call::DomainInjectNmi(DomFlagsArgs {
            dom: super::dom(),
            flags: 0,
        }),
        P::DomainGetNumaParameters => Call::DomainGetNumaParameters(TunableArgs {
            dom: super::dom(),
            nparams: 2,
            flags: 4,
        }),
        P::DomainGetInterfaceParameters => {
            Call::DomainGetInterfaceParameters(InterfaceParamsArgs {
                dom: super::dom(),
                device: "52:54:00:12:34:57".into(),
                nparams: 7,
                flags: 2,
            })
        }
        P::DomainGetPerfEvents => Call::DomainGetPerfEvents(DomParamsArgs {
            dom: super::dom(),
            flags: 1,
        }),
        P::DomainGetLaunchSecurityInfo => Call::DomainGetLaunchSecurityInfo(DomParamsArgs {
            dom: super::dom(),
            flags: 4,
        }),
        P::DomainGetBlockIoTune => Call::DomainGetBlockIoTune(BlockIoTuneArgs {
            dom: super::dom(),
            disk: Some("vda".into()),
            nparams: 20,
            flags: 5,
        }),
        P::DomainGetDiskErrors => Call::DomainGetDiskErrors(DiskErrorsArgs {
            dom: super::dom(),
            maxerrors: 2,
            flags: 0,
        }),
        P::ConnectGetCpuModelNames => Call::ConnectGetCpuModelNames(CpuModelNamesArgs {
            arch: "x86_64".into(),
            need_results: 1,
            flags: 0,
        }),
        P::ConnectGetStoragePoolCapabilities => {
            Call::ConnectGetStoragePoolCapabilities(PoolCapsArgs { flags: 0 })
        }
        P::ConnectDomainXmlToNative => Call::ConnectDomainXmlToNative(XmlToNativeArgs {
            native_format: "qemu-argv".into(),
            domain_xml: super::XML.into(),
            flags: 0,
        }),
        P::NodeGetSevInfo => Call::NodeGetSevInfo(SevInfoArgs {
            nparams: 0,
            flags: 4,
        }),
        other => unreachable!("{other:?} is not a host procedure"),
    }
}

/// The sample reply of procedure `p`.
pub fn reply(p: Procedure) -> Reply {
    use Procedure as P;
    match p {
        P::ConnectGetMaxVcpus => Reply::ConnectGetMaxVcpus(MaxVcpusRet { max_vcpus: 1024 }),
        P::NodeGetCellsFreeMemory => Reply::NodeGetCellsFreeMemory(CellsFreeMemoryRet {
            cells: vec![3 << 30, 1 << 30],
        }),
        P::NodeGetFreePages => Reply::NodeGetFreePages(FreePagesRet {
            counts: vec![788_958, 3],
        }),
        P::NodeGetMemoryParameters => Reply::NodeGetMemoryParameters(ParamsRet {
            params: vec![
                param("shm_pages_to_scan", ParamValue::UInt(100)),
                param("shm_full_scans", ParamValue::ULLong(7)),
            ],
            nparams: 0,
        }),
        P::ConnectListDefinedNetworks => {
            Reply::ConnectListDefinedNetworks(ListNamesRet { names: vec![] })
        }
        P::ConnectListNetworks => Reply::ConnectListNetworks(ListNamesRet { names: vec![] }),
        P::NetworkLookupByName => Reply::NetworkLookupByName(NetworkRet { net: net() }),
        P::NetworkLookupByUuid => Reply::NetworkLookupByUuid(NetworkRet { net: net() }),
        P::ConnectNumOfDefinedNetworks => Reply::ConnectNumOfDefinedNetworks(NumRet { num: 0 }),
        P::ConnectNumOfNetworks => Reply::ConnectNumOfNetworks(NumRet { num: 0 }),
        P::DomainGetSecurityLabel => Reply::DomainGetSecurityLabel(SecurityLabelRet {
            label: Chars("\0".into()),
            enforcing: 0,
        }),
        P::DomainGetSecurityLabelList => Reply::DomainGetSecurityLabelList(SecurityLabelListRet {
            labels: vec![],
            ret: 0,
        }),
        P::DomainListAllCheckpoints => Reply::DomainListAllCheckpoints(ListCheckpointsRet {
            checkpoints: vec![checkpoint()],
            ret: 1,
        }),
        P::DomainCheckpointLookupByName => Reply::DomainCheckpointLookupByName(CheckpointRet {
            checkpoint: checkpoint(),
        }),
        P::DomainInjectNmi => Reply::DomainInjectNmi(()),
        P::DomainGetNumaParameters => Reply::DomainGetNumaParameters(ParamsRet {
            params: vec![
                param("numa_mode", ParamValue::Int(2)),
                param("numa_nodeset", ParamValue::String("0-1".into())),
            ],
            nparams: 0,
        }),
        P::DomainGetInterfaceParameters => Reply::DomainGetInterfaceParameters(ParamsRet {
            params: vec![param("inbound.average", ParamValue::UInt(1000))],
            nparams: 0,
        }),
        P::DomainGetPerfEvents => Reply::DomainGetPerfEvents(DomParamsRet {
            params: vec![param("cmt", ParamValue::Boolean(false))],
        }),
        P::DomainGetLaunchSecurityInfo => {
            Reply::DomainGetLaunchSecurityInfo(DomParamsRet { params: vec![] })
        }
        P::DomainGetBlockIoTune => Reply::DomainGetBlockIoTune(ParamsRet {
            params: vec![
                param("total_bytes_sec", ParamValue::ULLong(1_048_576)),
                param("group_name", ParamValue::String("gq".into())),
            ],
            nparams: 0,
        }),
        P::DomainGetDiskErrors => Reply::DomainGetDiskErrors(DiskErrorsRet {
            errors: vec![DiskError {
                disk: "vdb".into(),
                error: 2,
            }],
            nerrors: 1,
        }),
        P::ConnectGetCpuModelNames => Reply::ConnectGetCpuModelNames(CpuModelNamesRet {
            models: vec!["486".into(), "qemu64".into()],
            ret: 2,
        }),
        P::ConnectGetStoragePoolCapabilities => {
            Reply::ConnectGetStoragePoolCapabilities(PoolCapsRet {
                capabilities: "<storagepoolCapabilities/>".into(),
            })
        }
        P::ConnectDomainXmlToNative => Reply::ConnectDomainXmlToNative(XmlToNativeRet {
            native_config: "/usr/bin/qemu-system-x86_64 -name guest=alpha".into(),
        }),
        P::NodeGetSevInfo => Reply::NodeGetSevInfo(SevInfoRet {
            params: vec![TypedParam {
                field: "cbitpos".into(),
                value: ParamValue::UInt(47),
            }],
            nparams: 1,
        }),
        other => unreachable!("{other:?} is not a host procedure"),
    }
}
