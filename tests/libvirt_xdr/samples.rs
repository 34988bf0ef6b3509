//! One sample of every libvirt message qvirt sends or reads: each
//! procedure's call and reply (the exhaustive matches make a new
//! procedure a compile error here until it has samples), an error per
//! qvirt code, each event, keepalive and stream messages.

use qvirt::transport::libvirt::frame::{self, Header, Status, Type};
use qvirt::transport::libvirt::procedures::{Call, Procedure, Reply};
use qvirt::transport::libvirt::types::*;
use qvirt::transport::libvirt::xdr::{Chars, to_bytes};
use qvirt::{Error, ErrorCode};
use uuid::Uuid;

#[path = "agent_samples.rs"]
mod agent_samples;
#[path = "block_samples.rs"]
mod block_samples;
#[path = "change_samples.rs"]
mod change_samples;
#[path = "event_samples.rs"]
mod event_samples;
#[path = "host_samples.rs"]
mod host_samples;
#[path = "hostobj_samples.rs"]
mod hostobj_samples;
#[path = "migtune_samples.rs"]
mod migtune_samples;
#[path = "resource_samples.rs"]
mod resource_samples;
#[path = "secret_samples.rs"]
mod secret_samples;
#[path = "snapshot_samples.rs"]
mod snapshot_samples;
#[path = "tuning_samples.rs"]
mod tuning_samples;
#[path = "vcpu_samples.rs"]
mod vcpu_samples;

/// The snapshot procedures, whose samples are in `snapshot_samples.rs`:
/// a pattern, so that `call` and `reply` stay exhaustive.
macro_rules! snapshot_procedures {
    () => {
        Procedure::DomainSnapshotCreateXml
            | Procedure::DomainSnapshotGetXmlDesc
            | Procedure::DomainSnapshotNum
            | Procedure::DomainSnapshotListNames
            | Procedure::DomainSnapshotLookupByName
            | Procedure::DomainHasCurrentSnapshot
            | Procedure::DomainSnapshotCurrent
            | Procedure::DomainRevertToSnapshot
            | Procedure::DomainSnapshotDelete
            | Procedure::DomainSnapshotGetParent
            | Procedure::DomainSnapshotNumChildren
            | Procedure::DomainSnapshotListChildrenNames
            | Procedure::DomainSnapshotIsCurrent
            | Procedure::DomainSnapshotHasMetadata
            | Procedure::DomainListAllSnapshots
            | Procedure::DomainSnapshotListAllChildren
    };
}

/// The block job procedures and job statistics, whose samples are in
/// `block_samples.rs`.
macro_rules! block_job_procedures {
    () => {
        Procedure::DomainGetBlockInfo
            | Procedure::DomainBlockJobAbort
            | Procedure::DomainBlockJobSetSpeed
            | Procedure::DomainGetBlockJobInfo
            | Procedure::DomainBlockPull
            | Procedure::DomainBlockRebase
            | Procedure::DomainBlockCommit
            | Procedure::DomainBlockCopy
            | Procedure::DomainGetJobStats
            | Procedure::DomainGetControlInfo
    };
}

/// The memory, vCPU and statistics procedures, whose samples are in
/// `resource_samples.rs`.
macro_rules! resource_procedures {
    () => {
        Procedure::DomainGetMaxVcpus
            | Procedure::DomainSetMaxMemory
            | Procedure::DomainSetMemory
            | Procedure::DomainSetVcpus
            | Procedure::DomainBlockStats
            | Procedure::DomainInterfaceStats
            | Procedure::DomainMemoryStats
            | Procedure::DomainSetVcpusFlags
            | Procedure::DomainSetVcpu
            | Procedure::DomainGetVcpusFlags
            | Procedure::DomainSetMemoryFlags
            | Procedure::DomainBlockStatsFlags
            | Procedure::DomainGetCpuStats
            | Procedure::DomainGetMemoryParameters
            | Procedure::DomainGetBlkioParameters
            | Procedure::DomainSetMemoryParameters
            | Procedure::DomainSetBlkioParameters
            | Procedure::ConnectGetAllDomainStats
            | Procedure::DomainSetMemoryStatsPeriod
    };
}

/// The secret procedures, whose samples are in `secret_samples.rs`.
macro_rules! secret_procedures {
    () => {
        Procedure::ConnectNumOfSecrets
            | Procedure::ConnectListSecrets
            | Procedure::SecretLookupByUuid
            | Procedure::SecretDefineXml
            | Procedure::SecretGetXmlDesc
            | Procedure::SecretSetValue
            | Procedure::SecretGetValue
            | Procedure::SecretUndefine
            | Procedure::SecretLookupByUsage
            | Procedure::ConnectListAllSecrets
    };
}

/// The guest agent procedures, whose samples are in `agent_samples.rs`.
macro_rules! agent_procedures {
    () => {
        Procedure::DomainGetHostname
            | Procedure::DomainFsfreeze
            | Procedure::DomainFsthaw
            | Procedure::DomainGetTime
            | Procedure::DomainSetTime
            | Procedure::DomainGetGuestInfo
            | Procedure::DomainAgentSetResponseTimeout
            | Procedure::DomainGetFsinfo
            | Procedure::DomainSetUserPassword
            | Procedure::DomainAuthorizedSshKeysGet
            | Procedure::DomainAuthorizedSshKeysSet
            | Procedure::DomainFstrim
            | Procedure::DomainGetGuestVcpus
            | Procedure::DomainSetGuestVcpus
            | Procedure::DomainPmSuspendForDuration
            | Procedure::DomainPmWakeup
    };
}

/// Where vCPUs run and the host's CPUs, whose samples are in
/// `vcpu_samples.rs`.
macro_rules! vcpu_procedures {
    () => {
        Procedure::DomainGetVcpus
            | Procedure::NodeGetFreeMemory
            | Procedure::DomainGetVcpuPinInfo
            | Procedure::DomainGetEmulatorPinInfo
            | Procedure::NodeGetCpuMap
            | Procedure::NodeGetCpuStats
            | Procedure::NodeGetMemoryStats
    };
}

/// The tuning and thread procedures, whose samples are in
/// `tuning_samples.rs`.
macro_rules! tuning_procedures {
    () => {
        Procedure::DomainSetBlockIoTune
            | Procedure::DomainBlockResize
            | Procedure::DomainCoreDump
            | Procedure::DomainCoreDumpWithFormat
            | Procedure::DomainGetIothreadInfo
            | Procedure::ConnectGetSysinfo
            | Procedure::DomainMigrateSetMaxSpeed
            | Procedure::DomainMigrateGetMaxSpeed
            | Procedure::DomainGetSchedulerType
            | Procedure::DomainBlockPeek
            | Procedure::DomainMemoryPeek
            | Procedure::DomainGetSchedulerParameters
            | Procedure::DomainGetSchedulerParametersFlags
            | Procedure::DomainSetSchedulerParameters
            | Procedure::DomainSetSchedulerParametersFlags
    };
}

/// The host facts procedures and those on objects qvirt does not keep,
/// whose samples are in `host_samples.rs`.
macro_rules! host_procedures {
    () => {
        Procedure::ConnectGetMaxVcpus
            | Procedure::NodeGetCellsFreeMemory
            | Procedure::NodeGetFreePages
            | Procedure::NodeGetMemoryParameters
            | Procedure::ConnectListDefinedNetworks
            | Procedure::ConnectListNetworks
            | Procedure::NetworkLookupByName
            | Procedure::NetworkLookupByUuid
            | Procedure::ConnectNumOfDefinedNetworks
            | Procedure::ConnectNumOfNetworks
            | Procedure::DomainGetSecurityLabel
            | Procedure::DomainGetSecurityLabelList
            | Procedure::DomainListAllCheckpoints
            | Procedure::DomainCheckpointLookupByName
            | Procedure::DomainInjectNmi
            | Procedure::DomainGetNumaParameters
            | Procedure::DomainGetInterfaceParameters
            | Procedure::DomainGetPerfEvents
            | Procedure::DomainGetLaunchSecurityInfo
            | Procedure::DomainGetBlockIoTune
            | Procedure::DomainGetDiskErrors
            | Procedure::ConnectGetCpuModelNames
            | Procedure::ConnectGetStoragePoolCapabilities
            | Procedure::ConnectDomainXmlToNative
            | Procedure::NodeGetSevInfo
    };
}

/// The host's interfaces, devices and network filters, whose samples
/// are in `hostobj_samples.rs`.
macro_rules! hostobj_procedures {
    () => {
        Procedure::ConnectNumOfInterfaces
            | Procedure::ConnectListInterfaces
            | Procedure::ConnectNumOfDefinedInterfaces
            | Procedure::ConnectListDefinedInterfaces
            | Procedure::ConnectListAllInterfaces
            | Procedure::InterfaceLookupByName
            | Procedure::InterfaceLookupByMacString
            | Procedure::InterfaceGetXmlDesc
            | Procedure::InterfaceIsActive
            | Procedure::InterfaceDefineXml
            | Procedure::InterfaceUndefine
            | Procedure::InterfaceCreate
            | Procedure::InterfaceDestroy
            | Procedure::InterfaceChangeBegin
            | Procedure::InterfaceChangeCommit
            | Procedure::InterfaceChangeRollback
            | Procedure::NodeNumOfDevices
            | Procedure::NodeListDevices
            | Procedure::ConnectListAllNodeDevices
            | Procedure::NodeDeviceLookupByName
            | Procedure::NodeDeviceGetXmlDesc
            | Procedure::NodeDeviceGetParent
            | Procedure::NodeDeviceNumOfCaps
            | Procedure::NodeDeviceListCaps
            | Procedure::NodeDeviceGetAutostart
            | Procedure::NodeDeviceIsPersistent
            | Procedure::NodeDeviceIsActive
            | Procedure::NodeDeviceDettach
            | Procedure::NodeDeviceDetachFlags
            | Procedure::NodeDeviceReAttach
            | Procedure::NodeDeviceReset
            | Procedure::NodeDeviceCreateXml
            | Procedure::NodeDeviceDestroy
            | Procedure::NodeDeviceDefineXml
            | Procedure::NodeDeviceUndefine
            | Procedure::NodeDeviceCreate
            | Procedure::NodeDeviceSetAutostart
            | Procedure::ConnectNumOfNwfilters
            | Procedure::ConnectListNwfilters
            | Procedure::ConnectListAllNwfilters
            | Procedure::NwfilterLookupByName
            | Procedure::NwfilterLookupByUuid
            | Procedure::NwfilterGetXmlDesc
            | Procedure::ConnectListAllNwfilterBindings
            | Procedure::NwfilterBindingLookupByPortDev
            | Procedure::NwfilterDefineXml
            | Procedure::NwfilterDefineXmlFlags
            | Procedure::NwfilterUndefine
            | Procedure::NwfilterBindingCreateXml
            | Procedure::NwfilterBindingDelete
    };
}

pub fn dom() -> Dom {
    Dom {
        name: "alpha".into(),
        uuid: Uuid::from_u128(0x6d1c_3f2e_a4b5_4c6d_8e7f_0123_4567_89ab),
        id: 7,
    }
}

fn off() -> Dom {
    Dom { id: -1, ..dom() }
}

pub const XML: &str =
    "<domain type='qemu'><name>alpha</name><memory unit='MiB'>32</memory></domain>";

fn pool() -> StoragePool {
    StoragePool {
        name: "vms".into(),
        uuid: Uuid::from_u128(0x1f2e_3d4c_5b6a_4978_8695_a4b3_c2d1_e0f0),
    }
}

fn vol() -> StorageVol {
    StorageVol {
        pool: "vms".into(),
        name: "disk.qcow2".into(),
        key: "/var/lib/vms/disk.qcow2".into(),
    }
}

const POOL_XML: &str =
    "<pool type='dir'><name>vms</name><target><path>/var/lib/vms</path></target></pool>";
const VOL_XML: &str = "<volume><name>disk.qcow2</name><capacity>16777216</capacity><target><format type='qcow2'/></target></volume>";

pub fn flags(f: u32) -> DomFlagsArgs {
    DomFlagsArgs {
        dom: dom(),
        flags: f,
    }
}

/// The sample call of `p`.
fn call(p: Procedure) -> Call {
    use Procedure as P;
    match p {
        P::ConnectOpen => Call::ConnectOpen(OpenArgs {
            name: Some("qemu:///system".into()),
            flags: 1,
        }),
        P::ConnectClose => Call::ConnectClose(()),
        P::AuthList => Call::AuthList(()),
        P::ConnectSupportsFeature => Call::ConnectSupportsFeature(FeatureArgs { feature: 10 }),
        P::ConnectGetUri => Call::ConnectGetUri(()),
        P::ConnectIsSecure => Call::ConnectIsSecure(()),
        P::ConnectDomainEventCallbackRegisterAny => {
            Call::ConnectDomainEventCallbackRegisterAny(EventRegisterArgs {
                event_id: 0,
                dom: Some(dom()),
            })
        }
        P::ConnectDomainEventCallbackDeregisterAny => {
            Call::ConnectDomainEventCallbackDeregisterAny(EventDeregisterArgs { callback_id: 3 })
        }
        P::ConnectRegisterCloseCallback => Call::ConnectRegisterCloseCallback(()),
        P::ConnectUnregisterCloseCallback => Call::ConnectUnregisterCloseCallback(()),
        P::ConnectGetType => Call::ConnectGetType(()),
        P::ConnectGetVersion => Call::ConnectGetVersion(()),
        P::NodeGetInfo => Call::NodeGetInfo(()),
        P::ConnectGetCapabilities => Call::ConnectGetCapabilities(()),
        P::DomainCreate => Call::DomainCreate(DomArgs { dom: off() }),
        P::DomainCreateXml => Call::DomainCreateXml(XmlFlagsArgs {
            xml: XML.into(),
            flags: 0,
        }),
        P::DomainDefineXml => Call::DomainDefineXml(XmlArgs { xml: XML.into() }),
        P::DomainDestroy => Call::DomainDestroy(DomArgs { dom: dom() }),
        P::DomainGetXmlDesc => Call::DomainGetXmlDesc(flags(2)),
        P::DomainGetAutostart => Call::DomainGetAutostart(DomArgs { dom: dom() }),
        P::DomainGetInfo => Call::DomainGetInfo(DomArgs { dom: dom() }),
        P::DomainGetMaxMemory => Call::DomainGetMaxMemory(DomArgs { dom: dom() }),
        P::DomainGetOsType => Call::DomainGetOsType(DomArgs { dom: dom() }),
        P::ConnectListDefinedDomains => {
            Call::ConnectListDefinedDomains(ListNamesArgs { maxnames: 16 })
        }
        P::DomainLookupById => Call::DomainLookupById(IdArgs { id: 7 }),
        P::DomainLookupByName => Call::DomainLookupByName(NameArgs {
            name: "alpha".into(),
        }),
        P::DomainLookupByUuid => Call::DomainLookupByUuid(UuidArgs { uuid: dom().uuid }),
        P::ConnectNumOfDefinedDomains => Call::ConnectNumOfDefinedDomains(()),
        P::DomainReboot => Call::DomainReboot(flags(1)),
        P::DomainResume => Call::DomainResume(DomArgs { dom: dom() }),
        P::DomainSetAutostart => Call::DomainSetAutostart(SetAutostartArgs {
            dom: off(),
            autostart: 1,
        }),
        P::DomainShutdown => Call::DomainShutdown(DomArgs { dom: dom() }),
        P::DomainSuspend => Call::DomainSuspend(DomArgs { dom: dom() }),
        P::DomainUndefine => Call::DomainUndefine(DomArgs { dom: off() }),
        P::ConnectListDomains => Call::ConnectListDomains(ListIdsArgs { maxids: 16 }),
        P::ConnectNumOfDomains => Call::ConnectNumOfDomains(()),
        P::DomainRestore => Call::DomainRestore(RestoreArgs {
            from: "/var/tmp/a.save".into(),
        }),
        P::DomainSave => Call::DomainSave(SaveArgs {
            dom: dom(),
            to: "/var/tmp/a.save".into(),
        }),
        P::ConnectGetHostname => Call::ConnectGetHostname(()),
        P::StorageVolLookupByPath => Call::StorageVolLookupByPath(PathArgs {
            path: "/var/tmp/disk.img".into(),
        }),
        P::NodeGetSecurityModel => Call::NodeGetSecurityModel(()),
        P::DomainIsActive => Call::DomainIsActive(DomArgs { dom: dom() }),
        P::DomainIsPersistent => Call::DomainIsPersistent(DomArgs { dom: dom() }),
        P::ConnectGetLibVersion => Call::ConnectGetLibVersion(()),
        P::DomainGetJobInfo => Call::DomainGetJobInfo(DomArgs { dom: dom() }),
        P::DomainAbortJob => Call::DomainAbortJob(DomArgs { dom: dom() }),
        P::DomainAttachDevice => Call::DomainAttachDevice(DeviceNoFlagsArgs {
            dom: dom(),
            xml: "<disk type='file'><source file='/b.img'/><target dev='vdb'/></disk>".into(),
        }),
        P::DomainDetachDevice => Call::DomainDetachDevice(DeviceNoFlagsArgs {
            dom: dom(),
            xml: "<interface type='user'/>".into(),
        }),
        P::DomainAttachDeviceFlags => Call::DomainAttachDeviceFlags(DeviceArgs {
            dom: dom(),
            xml: "<disk type='file'><source file='/b.img'/><target dev='vdb'/></disk>".into(),
            flags: 3,
        }),
        P::DomainDetachDeviceFlags => Call::DomainDetachDeviceFlags(DeviceArgs {
            dom: dom(),
            xml: "<interface type='user'/>".into(),
            flags: 2,
        }),
        P::DomainUpdateDeviceFlags => Call::DomainUpdateDeviceFlags(DeviceArgs {
            dom: dom(),
            xml: "<disk type='file' device='cdrom'><target dev='hdc'/></disk>".into(),
            flags: 1,
        }),
        P::DomainManagedSave => Call::DomainManagedSave(flags(0)),
        P::DomainHasManagedSaveImage => Call::DomainHasManagedSaveImage(flags(0)),
        P::DomainManagedSaveRemove => Call::DomainManagedSaveRemove(flags(0)),
        snapshot_procedures!() => snapshot_samples::call(p),
        block_job_procedures!() => block_samples::call(p),
        resource_procedures!() => resource_samples::call(p),
        vcpu_procedures!() => vcpu_samples::call(p),
        agent_procedures!() => agent_samples::call(p),
        secret_procedures!() => secret_samples::call(p),
        host_procedures!() => host_samples::call(p),
        tuning_procedures!() => tuning_samples::call(p),
        change_samples::change_procedures!() => change_samples::call(p),
        migtune_samples::migtune_procedures!() => migtune_samples::call(p),
        hostobj_procedures!() => hostobj_samples::call(p),
        P::DomainCreateWithFlags => Call::DomainCreateWithFlags(DomFlagsArgs {
            dom: off(),
            flags: 0,
        }),
        P::DomainOpenConsole => Call::DomainOpenConsole(ConsoleArgs {
            dom: dom(),
            dev_name: None,
            flags: 1,
        }),
        P::DomainIsUpdated => Call::DomainIsUpdated(DomArgs { dom: dom() }),
        P::DomainScreenshot => Call::DomainScreenshot(ScreenshotArgs {
            dom: dom(),
            screen: 0,
            flags: 0,
        }),
        P::DomainGetState => Call::DomainGetState(flags(0)),
        P::DomainUndefineFlags => Call::DomainUndefineFlags(DomFlagsArgs {
            dom: off(),
            flags: 5,
        }),
        P::DomainSaveFlags => Call::DomainSaveFlags(SaveFlagsArgs {
            dom: dom(),
            to: "/var/tmp/a.save".into(),
            dxml: None,
            flags: 0,
        }),
        P::DomainRestoreFlags => Call::DomainRestoreFlags(RestoreFlagsArgs {
            from: "/var/tmp/a.save".into(),
            dxml: Some(XML.into()),
            flags: 0,
        }),
        P::DomainDestroyFlags => Call::DomainDestroyFlags(flags(0)),
        P::DomainReset => Call::DomainReset(flags(0)),
        P::DomainShutdownFlags => Call::DomainShutdownFlags(flags(1)),
        P::ConnectListAllDomains => Call::ConnectListAllDomains(ListAllArgs {
            need_results: 1,
            flags: 3,
        }),
        P::ConnectListAllStoragePools => Call::ConnectListAllStoragePools(ListAllArgs {
            need_results: 1,
            flags: 0,
        }),
        P::ConnectListAllNetworks => Call::ConnectListAllNetworks(ListAllArgs {
            need_results: 1,
            flags: 0,
        }),
        P::ConnectGetDomainCapabilities => Call::ConnectGetDomainCapabilities(DomainCapsArgs {
            emulatorbin: Some("/usr/bin/qemu-system-x86_64".into()),
            arch: Some("x86_64".into()),
            machine: None,
            virttype: Some("qemu".into()),
            flags: 0,
        }),
        P::DomainDefineXmlFlags => Call::DomainDefineXmlFlags(XmlFlagsArgs {
            xml: XML.into(),
            flags: 1,
        }),
        P::DomainInterfaceAddresses => Call::DomainInterfaceAddresses(IfAddrArgs {
            dom: dom(),
            source: 2,
            flags: 0,
        }),
        P::DomainSendKey => Call::DomainSendKey(SendKeyArgs {
            dom: dom(),
            codeset: 0,
            holdtime: 100,
            keycodes: vec![56, 99, 35],
            flags: 0,
        }),
        P::DomainSetMetadata => Call::DomainSetMetadata(SetMetadataArgs {
            dom: dom(),
            kind: 2,
            metadata: Some("<cfg/>".into()),
            key: Some("app".into()),
            uri: Some("http://example.org/app/1".into()),
            flags: 3,
        }),
        P::DomainGetMetadata => Call::DomainGetMetadata(GetMetadataArgs {
            dom: dom(),
            kind: 1,
            uri: None,
            flags: 0,
        }),
        P::DomainRename => Call::DomainRename(RenameArgs {
            dom: off(),
            new_name: Some("beta".into()),
            flags: 0,
        }),
        P::DomainGetMessages => Call::DomainGetMessages(flags(0)),
        // Storage pools and volumes.
        P::ConnectNumOfStoragePools => Call::ConnectNumOfStoragePools(()),
        P::ConnectListStoragePools => Call::ConnectListStoragePools(ListNamesArgs { maxnames: 16 }),
        P::ConnectNumOfDefinedStoragePools => Call::ConnectNumOfDefinedStoragePools(()),
        P::ConnectListDefinedStoragePools => {
            Call::ConnectListDefinedStoragePools(ListNamesArgs { maxnames: 16 })
        }
        P::StoragePoolCreateXml => Call::StoragePoolCreateXml(XmlFlagsArgs {
            xml: POOL_XML.into(),
            flags: 1,
        }),
        P::StoragePoolDefineXml => Call::StoragePoolDefineXml(XmlFlagsArgs {
            xml: POOL_XML.into(),
            flags: 0,
        }),
        P::StoragePoolCreate => Call::StoragePoolCreate(PoolFlagsArgs {
            pool: pool(),
            flags: 1,
        }),
        P::StoragePoolBuild => Call::StoragePoolBuild(PoolFlagsArgs {
            pool: pool(),
            flags: 0,
        }),
        P::StoragePoolDestroy => Call::StoragePoolDestroy(PoolArgs { pool: pool() }),
        P::StoragePoolUndefine => Call::StoragePoolUndefine(PoolArgs { pool: pool() }),
        P::StoragePoolRefresh => Call::StoragePoolRefresh(PoolFlagsArgs {
            pool: pool(),
            flags: 0,
        }),
        P::StoragePoolLookupByName => {
            Call::StoragePoolLookupByName(NameArgs { name: "vms".into() })
        }
        P::StoragePoolLookupByUuid => Call::StoragePoolLookupByUuid(UuidArgs { uuid: pool().uuid }),
        P::StoragePoolLookupByVolume => Call::StoragePoolLookupByVolume(VolArgs { vol: vol() }),
        P::StoragePoolGetInfo => Call::StoragePoolGetInfo(PoolArgs { pool: pool() }),
        P::StoragePoolGetXmlDesc => Call::StoragePoolGetXmlDesc(PoolFlagsArgs {
            pool: pool(),
            flags: 1,
        }),
        P::StoragePoolGetAutostart => Call::StoragePoolGetAutostart(PoolArgs { pool: pool() }),
        P::StoragePoolSetAutostart => Call::StoragePoolSetAutostart(PoolSetAutostartArgs {
            pool: pool(),
            autostart: 1,
        }),
        P::StoragePoolNumOfVolumes => Call::StoragePoolNumOfVolumes(PoolArgs { pool: pool() }),
        P::StoragePoolListVolumes => Call::StoragePoolListVolumes(PoolListVolumesArgs {
            pool: pool(),
            maxnames: 16,
        }),
        P::StorageVolCreateXml => Call::StorageVolCreateXml(VolCreateArgs {
            pool: pool(),
            xml: VOL_XML.into(),
            flags: 1,
        }),
        P::StorageVolDelete => Call::StorageVolDelete(VolFlagsArgs {
            vol: vol(),
            flags: 0,
        }),
        P::StorageVolLookupByName => Call::StorageVolLookupByName(VolLookupByNameArgs {
            pool: pool(),
            name: "disk.qcow2".into(),
        }),
        P::StorageVolLookupByKey => Call::StorageVolLookupByKey(KeyArgs { key: vol().key }),
        P::StorageVolGetInfo => Call::StorageVolGetInfo(VolArgs { vol: vol() }),
        P::StorageVolGetXmlDesc => Call::StorageVolGetXmlDesc(VolFlagsArgs {
            vol: vol(),
            flags: 0,
        }),
        P::StorageVolGetPath => Call::StorageVolGetPath(VolArgs { vol: vol() }),
        P::StorageVolCreateXmlFrom => Call::StorageVolCreateXmlFrom(VolCreateFromArgs {
            pool: pool(),
            xml: VOL_XML.replace("disk.qcow2", "copy.qcow2"),
            clonevol: vol(),
            flags: 0,
        }),
        P::StoragePoolIsActive => Call::StoragePoolIsActive(PoolArgs { pool: pool() }),
        P::StoragePoolIsPersistent => Call::StoragePoolIsPersistent(PoolArgs { pool: pool() }),
        P::StorageVolUpload => Call::StorageVolUpload(VolStreamArgs {
            vol: vol(),
            offset: 4096,
            length: 1 << 20,
            flags: 0,
        }),
        P::StorageVolDownload => Call::StorageVolDownload(VolStreamArgs {
            vol: vol(),
            offset: 0,
            length: 0,
            flags: 0,
        }),
        P::StorageVolResize => Call::StorageVolResize(VolResizeArgs {
            vol: vol(),
            capacity: 32 << 20,
            flags: 6,
        }),
        P::StoragePoolListAllVolumes => Call::StoragePoolListAllVolumes(PoolListAllVolumesArgs {
            pool: pool(),
            need_results: 1,
            flags: 0,
        }),
        P::StorageVolGetInfoFlags => Call::StorageVolGetInfoFlags(VolFlagsArgs {
            vol: vol(),
            flags: 1,
        }),
    }
}

/// The sample successful reply of `p`.
fn reply(p: Procedure) -> Reply {
    use Procedure as P;
    let d = || DomRet { dom: dom() };
    let yes = || IntRet { value: 1 };
    match p {
        P::ConnectOpen => Reply::ConnectOpen(()),
        P::ConnectClose => Reply::ConnectClose(()),
        P::AuthList => Reply::AuthList(AuthListRet { types: vec![0] }),
        P::ConnectSupportsFeature => Reply::ConnectSupportsFeature(FeatureRet { supported: 1 }),
        P::ConnectGetUri => Reply::ConnectGetUri(UriRet {
            uri: "qemu:///system".into(),
        }),
        P::ConnectIsSecure => Reply::ConnectIsSecure(SecureRet { secure: 1 }),
        P::ConnectDomainEventCallbackRegisterAny => {
            Reply::ConnectDomainEventCallbackRegisterAny(EventRegisterRet { callback_id: 1 })
        }
        P::ConnectDomainEventCallbackDeregisterAny => {
            Reply::ConnectDomainEventCallbackDeregisterAny(())
        }
        P::ConnectRegisterCloseCallback => Reply::ConnectRegisterCloseCallback(()),
        P::ConnectUnregisterCloseCallback => Reply::ConnectUnregisterCloseCallback(()),
        P::ConnectGetType => Reply::ConnectGetType(TypeRet {
            kind: "QEMU".into(),
        }),
        P::ConnectGetVersion => Reply::ConnectGetVersion(VersionRet { hv_ver: 7_002_022 }),
        P::NodeGetInfo => Reply::NodeGetInfo(NodeInfoRet {
            model: Chars("x86_64".into()),
            memory: 16 << 20,
            cpus: 2,
            mhz: 2600,
            nodes: 1,
            sockets: 1,
            cores: 2,
            threads: 1,
        }),
        P::ConnectGetCapabilities => Reply::ConnectGetCapabilities(CapabilitiesRet {
            capabilities: "<capabilities/>".into(),
        }),
        P::DomainCreate => Reply::DomainCreate(()),
        P::DomainCreateXml => Reply::DomainCreateXml(d()),
        P::DomainDefineXml => Reply::DomainDefineXml(DomRet { dom: off() }),
        P::DomainDestroy => Reply::DomainDestroy(()),
        P::DomainGetXmlDesc => Reply::DomainGetXmlDesc(XmlRet { xml: XML.into() }),
        P::DomainGetAutostart => Reply::DomainGetAutostart(yes()),
        P::DomainGetInfo => Reply::DomainGetInfo(InfoRet {
            state: 1,
            max_mem: 32768,
            memory: 32768,
            nr_virt_cpu: 1,
            cpu_time: 123_456_789,
        }),
        P::DomainGetMaxMemory => Reply::DomainGetMaxMemory(MaxMemoryRet { memory: 32768 }),
        P::DomainGetOsType => Reply::DomainGetOsType(OsTypeRet { kind: "hvm".into() }),
        P::ConnectListDefinedDomains => Reply::ConnectListDefinedDomains(ListNamesRet {
            names: vec!["alpha".into(), "beta".into()],
        }),
        P::DomainLookupById => Reply::DomainLookupById(d()),
        P::DomainLookupByName => Reply::DomainLookupByName(d()),
        P::DomainLookupByUuid => Reply::DomainLookupByUuid(d()),
        P::ConnectNumOfDefinedDomains => Reply::ConnectNumOfDefinedDomains(NumRet { num: 2 }),
        P::DomainReboot => Reply::DomainReboot(()),
        P::DomainResume => Reply::DomainResume(()),
        P::DomainSetAutostart => Reply::DomainSetAutostart(()),
        P::DomainShutdown => Reply::DomainShutdown(()),
        P::DomainSuspend => Reply::DomainSuspend(()),
        P::DomainUndefine => Reply::DomainUndefine(()),
        P::ConnectListDomains => Reply::ConnectListDomains(ListIdsRet { ids: vec![7, 9] }),
        P::ConnectNumOfDomains => Reply::ConnectNumOfDomains(NumRet { num: 2 }),
        P::DomainRestore => Reply::DomainRestore(()),
        P::DomainSave => Reply::DomainSave(()),
        P::ConnectGetHostname => Reply::ConnectGetHostname(HostnameRet {
            hostname: "host".into(),
        }),
        P::StorageVolLookupByPath => Reply::StorageVolLookupByPath(VolRet {
            vol: StorageVol {
                pool: "default".into(),
                name: "disk.img".into(),
                key: "/var/tmp/disk.img".into(),
            },
        }),
        P::NodeGetSecurityModel => Reply::NodeGetSecurityModel(SecurityModelRet::default()),
        P::DomainIsActive => Reply::DomainIsActive(yes()),
        P::DomainIsPersistent => Reply::DomainIsPersistent(yes()),
        P::ConnectGetLibVersion => {
            Reply::ConnectGetLibVersion(LibVersionRet { lib_ver: 9_000_000 })
        }
        P::DomainGetJobInfo => Reply::DomainGetJobInfo(JobInfoRet {
            kind: 1,
            time_elapsed: 1200,
            data_total: 1 << 30,
            data_processed: 1 << 20,
            data_remaining: (1 << 30) - (1 << 20),
            ..JobInfoRet::default()
        }),
        P::DomainAbortJob => Reply::DomainAbortJob(()),
        P::DomainUpdateDeviceFlags => Reply::DomainUpdateDeviceFlags(()),
        P::DomainAttachDevice => Reply::DomainAttachDevice(()),
        P::DomainDetachDevice => Reply::DomainDetachDevice(()),
        P::DomainAttachDeviceFlags => Reply::DomainAttachDeviceFlags(()),
        P::DomainDetachDeviceFlags => Reply::DomainDetachDeviceFlags(()),
        P::DomainManagedSave => Reply::DomainManagedSave(()),
        P::DomainHasManagedSaveImage => Reply::DomainHasManagedSaveImage(IntRet { value: 0 }),
        P::DomainManagedSaveRemove => Reply::DomainManagedSaveRemove(()),
        snapshot_procedures!() => snapshot_samples::reply(p),
        block_job_procedures!() => block_samples::reply(p),
        resource_procedures!() => resource_samples::reply(p),
        vcpu_procedures!() => vcpu_samples::reply(p),
        agent_procedures!() => agent_samples::reply(p),
        secret_procedures!() => secret_samples::reply(p),
        host_procedures!() => host_samples::reply(p),
        tuning_procedures!() => tuning_samples::reply(p),
        change_samples::change_procedures!() => change_samples::reply(p),
        migtune_samples::migtune_procedures!() => migtune_samples::reply(p),
        hostobj_procedures!() => hostobj_samples::reply(p),
        P::DomainCreateWithFlags => Reply::DomainCreateWithFlags(d()),
        P::DomainOpenConsole => Reply::DomainOpenConsole(()),
        P::DomainIsUpdated => Reply::DomainIsUpdated(IntRet { value: 0 }),
        P::DomainScreenshot => Reply::DomainScreenshot(ScreenshotRet {
            mime: Some("image/png".into()),
        }),
        P::DomainGetState => Reply::DomainGetState(StateRet {
            state: 5,
            reason: 2,
        }),
        P::DomainUndefineFlags => Reply::DomainUndefineFlags(()),
        P::DomainSaveFlags => Reply::DomainSaveFlags(()),
        P::DomainRestoreFlags => Reply::DomainRestoreFlags(()),
        P::DomainDestroyFlags => Reply::DomainDestroyFlags(()),
        P::DomainReset => Reply::DomainReset(()),
        P::DomainShutdownFlags => Reply::DomainShutdownFlags(()),
        P::ConnectListAllDomains => Reply::ConnectListAllDomains(ListAllRet {
            domains: vec![dom(), off()],
            ret: 2,
        }),
        P::ConnectListAllStoragePools => Reply::ConnectListAllStoragePools(ListPoolsRet {
            pools: vec![pool()],
            ret: 1,
        }),
        P::ConnectListAllNetworks => Reply::ConnectListAllNetworks(ListNetworksRet::default()),
        P::ConnectGetDomainCapabilities => Reply::ConnectGetDomainCapabilities(DomainCapsRet {
            capabilities: "<domainCapabilities/>".into(),
        }),
        P::DomainDefineXmlFlags => Reply::DomainDefineXmlFlags(DomRet { dom: off() }),
        P::DomainInterfaceAddresses => Reply::DomainInterfaceAddresses(IfAddrRet {
            ifaces: vec![Iface {
                name: "vnet0".into(),
                hwaddr: Some("52:54:00:03:00:11".into()),
                addrs: vec![IpAddr {
                    kind: 0,
                    addr: "10.0.3.11".into(),
                    prefix: 0,
                }],
            }],
        }),
        P::DomainSendKey => Reply::DomainSendKey(()),
        P::DomainSetMetadata => Reply::DomainSetMetadata(()),
        P::DomainGetMetadata => Reply::DomainGetMetadata(GetMetadataRet {
            metadata: "web server".into(),
        }),
        P::DomainRename => Reply::DomainRename(RenameRet { retcode: 0 }),
        P::DomainGetMessages => Reply::DomainGetMessages(MessagesRet::default()),
        // Storage pools and volumes.
        P::ConnectNumOfStoragePools => Reply::ConnectNumOfStoragePools(NumRet { num: 2 }),
        P::ConnectListStoragePools => Reply::ConnectListStoragePools(ListNamesRet {
            names: vec!["default".into(), "vms".into()],
        }),
        P::ConnectNumOfDefinedStoragePools => {
            Reply::ConnectNumOfDefinedStoragePools(NumRet { num: 0 })
        }
        P::ConnectListDefinedStoragePools => {
            Reply::ConnectListDefinedStoragePools(ListNamesRet::default())
        }
        P::StoragePoolCreateXml => Reply::StoragePoolCreateXml(PoolRet { pool: pool() }),
        P::StoragePoolDefineXml => Reply::StoragePoolDefineXml(PoolRet { pool: pool() }),
        P::StoragePoolCreate => Reply::StoragePoolCreate(()),
        P::StoragePoolBuild => Reply::StoragePoolBuild(()),
        P::StoragePoolDestroy => Reply::StoragePoolDestroy(()),
        P::StoragePoolUndefine => Reply::StoragePoolUndefine(()),
        P::StoragePoolRefresh => Reply::StoragePoolRefresh(()),
        P::StoragePoolLookupByName => Reply::StoragePoolLookupByName(PoolRet { pool: pool() }),
        P::StoragePoolLookupByUuid => Reply::StoragePoolLookupByUuid(PoolRet { pool: pool() }),
        P::StoragePoolLookupByVolume => Reply::StoragePoolLookupByVolume(PoolRet { pool: pool() }),
        P::StoragePoolGetInfo => Reply::StoragePoolGetInfo(PoolInfoRet {
            state: 2,
            capacity: 100 << 30,
            allocation: 40 << 30,
            available: 60 << 30,
        }),
        P::StoragePoolGetXmlDesc => Reply::StoragePoolGetXmlDesc(XmlRet {
            xml: POOL_XML.into(),
        }),
        P::StoragePoolGetAutostart => Reply::StoragePoolGetAutostart(yes()),
        P::StoragePoolSetAutostart => Reply::StoragePoolSetAutostart(()),
        P::StoragePoolNumOfVolumes => Reply::StoragePoolNumOfVolumes(NumRet { num: 1 }),
        P::StoragePoolListVolumes => Reply::StoragePoolListVolumes(ListNamesRet {
            names: vec!["disk.qcow2".into()],
        }),
        P::StorageVolCreateXml => Reply::StorageVolCreateXml(VolRet { vol: vol() }),
        P::StorageVolDelete => Reply::StorageVolDelete(()),
        P::StorageVolLookupByName => Reply::StorageVolLookupByName(VolRet { vol: vol() }),
        P::StorageVolLookupByKey => Reply::StorageVolLookupByKey(VolRet { vol: vol() }),
        P::StorageVolGetInfo => Reply::StorageVolGetInfo(VolInfoRet {
            kind: 0,
            capacity: 16 << 20,
            allocation: 196_608,
        }),
        P::StorageVolGetXmlDesc => Reply::StorageVolGetXmlDesc(XmlRet {
            xml: VOL_XML.into(),
        }),
        P::StorageVolGetPath => Reply::StorageVolGetPath(VolPathRet { name: vol().key }),
        P::StorageVolCreateXmlFrom => Reply::StorageVolCreateXmlFrom(VolRet {
            vol: StorageVol {
                name: "copy.qcow2".into(),
                key: "/var/lib/vms/copy.qcow2".into(),
                ..vol()
            },
        }),
        P::StoragePoolIsActive => Reply::StoragePoolIsActive(yes()),
        P::StoragePoolIsPersistent => Reply::StoragePoolIsPersistent(yes()),
        P::StorageVolUpload => Reply::StorageVolUpload(()),
        P::StorageVolDownload => Reply::StorageVolDownload(()),
        P::StorageVolResize => Reply::StorageVolResize(()),
        P::StoragePoolListAllVolumes => Reply::StoragePoolListAllVolumes(ListVolsRet {
            vols: vec![vol()],
            ret: 1,
        }),
        P::StorageVolGetInfoFlags => Reply::StorageVolGetInfoFlags(VolInfoRet {
            kind: 0,
            capacity: 16 << 20,
            allocation: 262_144,
        }),
    }
}

/// Every sample, named, as a whole message.
pub fn all() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for (i, p) in Procedure::ALL.iter().enumerate() {
        let c = call(*p);
        assert_eq!(c.procedure(), *p);
        let (n, body) = c.encode();
        let serial = i as u32 + 1;
        out.push((
            format!("call.{n:03}.{}", p.name().to_lowercase()),
            frame::message(&Header::remote(n, Type::Call, serial, Status::Ok), &body),
        ));
        let r = reply(*p);
        assert_eq!(r.procedure(), *p);
        out.push((
            format!("reply.{n:03}.{}", p.name().to_lowercase()),
            frame::message(
                &Header::remote(n, Type::Reply, serial, Status::Ok),
                &r.encode(),
            ),
        ));
    }
    for code in [
        ErrorCode::Internal,
        ErrorCode::InvalidArgument,
        ErrorCode::InvalidXml,
        ErrorCode::ConfigUnsupported,
        ErrorCode::ConfigInvalid,
        ErrorCode::NoDomain,
        ErrorCode::DomainExists,
        ErrorCode::OperationInvalid,
        ErrorCode::OperationDenied,
        ErrorCode::OperationFailed,
        ErrorCode::QemuFailed,
        ErrorCode::Io,
        ErrorCode::Protocol,
        ErrorCode::Timeout,
        ErrorCode::NoSupport,
        ErrorCode::LimitExceeded,
        ErrorCode::ResourceBusy,
        ErrorCode::OperationAborted,
        ErrorCode::NoPool,
        ErrorCode::NoVolume,
        ErrorCode::NoSnapshot,
        ErrorCode::NoSecret,
    ] {
        out.push((
            format!("error.{}", code.name()),
            frame::error_reply(23, 9, &Error::new(code, format!("a {} error", code.name()))),
        ));
    }
    out.extend(event_samples::events());
    out.push(("keepalive.ping".into(), frame::keepalive(1)));
    out.push(("keepalive.pong".into(), frame::keepalive(2)));
    let stream = |status: Status, body: &[u8]| {
        frame::message(&Header::remote(201, Type::Stream, 4, status), body)
    };
    out.push(("stream.data".into(), stream(Status::Continue, b"guest# ")));
    out.push(("stream.eof".into(), stream(Status::Continue, b"")));
    out.push(("stream.finish".into(), stream(Status::Ok, b"")));
    out.push((
        "stream.error".into(),
        frame::message(
            &Header::remote(201, Type::Stream, 4, Status::Error),
            &frame::RemoteError::from_error(&Error::new(
                ErrorCode::OperationFailed,
                "the console closed",
            ))
            .encode(),
        ),
    ));
    // A hole of 3 MiB in a sparse download (`virNetStreamHole`).
    out.push((
        "stream.hole".into(),
        frame::message(
            &Header::remote(209, Type::StreamHole, 5, Status::Continue),
            &to_bytes(&StreamHole {
                length: 3 << 20,
                flags: 0,
            }),
        ),
    ));
    out
}
