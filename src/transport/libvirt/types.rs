//! The arguments and replies of the libvirt procedures qvirt speaks, as
//! `remote_protocol.x` lays them out (field names in Rust's case; the
//! `.x` name of each struct in its doc). Each is its fields in order.

use uuid::Uuid;

/// The shapes of the procedures on objects qvirt does not keep, with the
/// others.
pub use super::absent::{
    BindingArgs, BindingRet, Checkpoint, CheckpointLookupArgs, CheckpointRet, ListBindingsRet,
    ListCheckpointsArgs, ListCheckpointsRet, ListNwfiltersRet, NetworkRet, Nwfilter, NwfilterArgs,
    NwfilterBinding, NwfilterFlagsArgs, NwfilterRet, SecurityLabelListRet, SecurityLabelRet,
};
/// The guest agent procedures' shapes, with the others.
pub use super::agent::{
    AgentTimeoutArgs, AgentTimeoutRet, FsCountRet, FsFreezeArgs, FsInfo, FsInfoRet, GuestInfoArgs,
    GuestInfoRet, SetTimeArgs, SetUserPasswordArgs, SshKeysGetArgs, SshKeysRet, SshKeysSetArgs,
    TimeRet,
};
/// The block copy procedure's shape, with the others.
pub use super::blockcopy::BlockCopyArgs;
/// The block job procedures' shapes, with the others.
pub use super::blockjobs::{
    BlockCommitArgs, BlockInfoRet, BlockJobInfoRet, BlockJobSetSpeedArgs, BlockPathArgs,
    BlockPullArgs, BlockRebaseArgs,
};
/// The core dump procedures' shapes, with the others.
pub use super::coredump::{CoreDumpArgs, CoreDumpFormatArgs};
/// The device alias procedure's shape, with the others.
pub use super::devalias::DetachAliasArgs;
/// The dirty page rate procedure's shape, with the others.
pub use super::dirtyrate::DirtyRateCalcArgs;
/// The shapes of the procedures that read a domain's settings as typed
/// parameters, with the others.
pub use super::domparams::{DomParamsArgs, DomParamsRet, InterfaceParamsArgs};
/// `virConnectGetAllDomainStats`'s shapes, with the others.
pub use super::domstats::{AllDomainStatsArgs, AllDomainStatsRet, StatsRecord};
/// The shapes of a disk's throttle and a domain's disk errors, with the
/// others.
pub use super::drives::{
    BlockIoTuneArgs, BlockResizeArgs, DiskError, DiskErrorsArgs, DiskErrorsRet, SetBlockIoTuneArgs,
    SetBlockThresholdArgs,
};
/// The guest's trim, vCPU and power procedures' shapes, with the others.
pub use super::guestpm::{FsTrimArgs, GuestVcpusRet, PmSuspendArgs, SetGuestVcpusArgs};
/// The shapes of the CPU models and pool capabilities procedures, with
/// the others.
pub use super::hostcaps::{
    CpuModelNamesArgs, CpuModelNamesRet, PoolCapsArgs, PoolCapsRet, SevInfoArgs, SevInfoRet,
    XmlToNativeArgs, XmlToNativeRet,
};
/// The host facts procedures' shapes, with the others.
pub use super::hostfacts::{
    CellsFreeMemoryArgs, CellsFreeMemoryRet, FreePagesArgs, FreePagesRet, MaxVcpusArgs,
    MaxVcpusRet, NodeMemoryParamsArgs,
};
/// The host interfaces' shapes, with the others.
pub use super::ifaces::{
    FlagsArgs, Iface as HostIface, IfaceArgs, IfaceFlagsArgs, IfaceRet, ListIfacesRet, MacArgs,
};
/// The shape of an interface's bandwidth change, with the others.
pub use super::iftune::SetIfParamsArgs;
/// `virDomainGetJobStats`'s shapes, with the others.
pub use super::jobstats::{ControlInfoRet, JobStatsArgs, JobStatsRet, ParamValue, TypedParam};
/// The lifecycle action procedure's shape, with the others.
pub use super::lifecycle::SetLifecycleActionArgs;
/// The migration parameters' shapes, with the others.
pub use super::migparams::{
    CompressionCacheArgs, CompressionCacheRet, MaxDowntimeArgs, MaxDowntimeRet,
    SetCompressionCacheArgs, SetMaxDowntimeArgs, StartPostCopyArgs,
};
/// Migration peer to peer: see `migrate.rs`.
pub use super::migrate::{
    Begin3ParamsArgs, Begin3ParamsRet, Confirm3ParamsArgs, Finish3ParamsArgs, Finish3ParamsRet,
    Perform3ParamsArgs, Perform3ParamsRet, Prepare3ParamsArgs, Prepare3ParamsRet,
};
/// The migration speed procedures' shapes, with the others.
pub use super::migspeed::{MaxSpeedArgs, MaxSpeedRet, SetMaxSpeedArgs};
/// The node devices' shapes, with the others.
pub use super::nodedevs::{
    DetachFlagsArgs, ListCapsArgs, ListNodeDevicesRet, NameFlagsArgs, NodeDevice, NodeDeviceRet,
    NodeListArgs, NodeNumArgs, ParentRet, SetAutostartNameArgs,
};
/// The host statistics procedures' shapes, with the others.
pub use super::nodestats::{NodeCpuStatsArgs, NodeMemoryStatsArgs, NodeStat, NodeStatsRet};
/// The memory binding changed: see `numatune.rs`.
pub use super::numatune::SetNumaArgs;
/// The disk and memory peeks' shapes, with the others.
pub use super::peek::{BlockPeekArgs, MemoryPeekArgs, PeekRet};
/// vCPU and emulator pinning: see `pins.rs`.
pub use super::pins::{PinEmulatorArgs, PinVcpuArgs, PinVcpuFlagsArgs};
/// The shapes of the memory, vCPU and statistics procedures, with the
/// others.
pub use super::resources::{
    BlockStatsArgs, BlockStatsFlagsArgs, BlockStatsRet, CpuStatsArgs, InterfaceStatsArgs,
    InterfaceStatsRet, MemoryStat, MemoryStatsArgs, MemoryStatsRet, ParamsRet, SetMemoryArgs,
    SetMemoryFlagsArgs, SetMemoryStatsPeriodArgs, SetVcpuArgs, SetVcpusArgs, SetVcpusFlagsArgs,
};
/// The save image procedures' shapes, with the others.
pub use super::saveimage::{ManagedSaveDefineArgs, SaveImageDefineArgs, SaveImageXmlArgs};
/// The save and restore procedures' typed parameters, with the others.
pub use super::saveparams::{RestoreParamsArgs, SaveParamsArgs};
/// The scheduler procedures' shapes, with the others.
pub use super::sched::{
    SchedParamsArgs, SchedParamsFlagsArgs, SchedParamsRet, SchedTypeRet, SetSchedArgs,
    SetSchedFlagsArgs,
};
/// The secret procedures' shapes, with the others.
pub use super::secrets::{
    ListSecretsRet, SecretArgs, SecretFlagsArgs, SecretHandle, SecretRet, SecretSetValueArgs,
    SecretUsageArgs, SecretValue, SecretValueRet,
};
/// The snapshot procedures' shapes, with the others.
pub use super::snapshots::{
    Snap, SnapChildNamesArgs, SnapChildrenArgs, SnapCreateArgs, SnapFlagsArgs, SnapListAllArgs,
    SnapListRet, SnapLookupArgs, SnapNamesArgs, SnapRet,
};
/// The host SMBIOS procedure's shapes, with the others.
pub use super::sysinfo::{SysinfoArgs, SysinfoRet};
/// The I/O thread procedure's shapes, with the others.
pub use super::threads::{
    IoThread, IoThreadIdArgs, IoThreadInfoArgs, IoThreadInfoRet, PinIoThreadArgs,
    SetIoThreadParamsArgs,
};
/// The `<memtune>` and `<blkiotune>` procedures' shapes, with the others.
pub use super::tunables::{SetTunableArgs, TunableArgs};
/// The shapes of the vCPU placement and host CPU procedures, with the
/// others.
pub use super::vcpus::{
    CpuMapArgs, CpuMapRet, EmulatorPinInfoArgs, EmulatorPinInfoRet, FreeMemoryRet, VcpuInfo,
    VcpuPinInfoArgs, VcpuPinInfoRet, VcpusArgs, VcpusRet,
};
#[allow(unused_imports)]
use super::xdr::Xdr;
use super::xdr::{Chars, xdr_struct};
use crate::driver::Domain;

xdr_struct! {
    /// `remote_nonnull_domain`: a domain as a handle (id -1 while shut off).
    pub struct Dom { pub name: String, pub uuid: Uuid, pub id: i32 }

    /// `remote_auth_list_ret`.
    pub struct AuthListRet { pub types: Vec<i32> }
    /// `remote_connect_supports_feature_args`.
    pub struct FeatureArgs { pub feature: i32 }
    /// `remote_connect_supports_feature_ret`.
    pub struct FeatureRet { pub supported: i32 }
    /// `remote_connect_open_args`.
    pub struct OpenArgs { pub name: Option<String>, pub flags: u32 }
    /// `remote_connect_get_uri_ret`.
    pub struct UriRet { pub uri: String }
    /// `remote_connect_is_secure_ret`.
    pub struct SecureRet { pub secure: i32 }
    /// `remote_connect_domain_event_callback_register_any_args`.
    pub struct EventRegisterArgs { pub event_id: i32, pub dom: Option<Dom> }
    /// `remote_connect_domain_event_callback_register_any_ret`.
    pub struct EventRegisterRet { pub callback_id: i32 }
    /// `remote_connect_domain_event_callback_deregister_any_args`.
    pub struct EventDeregisterArgs { pub callback_id: i32 }

    /// `remote_connect_get_type_ret`.
    pub struct TypeRet { pub kind: String }
    /// `remote_connect_get_version_ret`.
    pub struct VersionRet { pub hv_ver: u64 }
    /// `remote_connect_get_lib_version_ret`.
    pub struct LibVersionRet { pub lib_ver: u64 }
    /// `remote_connect_get_hostname_ret`.
    pub struct HostnameRet { pub hostname: String }
    /// `remote_node_get_info_ret`.
    pub struct NodeInfoRet {
        pub model: Chars<32, true>,
        pub memory: u64,
        pub cpus: i32,
        pub mhz: i32,
        pub nodes: i32,
        pub sockets: i32,
        pub cores: i32,
        pub threads: i32,
    }
    /// `remote_connect_get_capabilities_ret`.
    pub struct CapabilitiesRet { pub capabilities: String }
    /// `remote_connect_get_domain_capabilities_args`.
    pub struct DomainCapsArgs {
        pub emulatorbin: Option<String>,
        pub arch: Option<String>,
        pub machine: Option<String>,
        pub virttype: Option<String>,
        pub flags: u32,
    }
    /// `remote_connect_get_domain_capabilities_ret`.
    pub struct DomainCapsRet { pub capabilities: String }
    /// `remote_node_get_security_model_ret`.
    pub struct SecurityModelRet { pub model: Chars<257, false>, pub doi: Chars<257, false> }

    /// `remote_connect_list_all_domains_args`.
    pub struct ListAllArgs { pub need_results: i32, pub flags: u32 }
    /// `remote_connect_list_all_domains_ret`.
    pub struct ListAllRet { pub domains: Vec<Dom>, pub ret: u32 }
    /// `remote_connect_num_of_domains_ret` (and of defined domains).
    pub struct NumRet { pub num: i32 }
    /// `remote_connect_list_domains_args`.
    pub struct ListIdsArgs { pub maxids: i32 }
    /// `remote_connect_list_domains_ret`.
    pub struct ListIdsRet { pub ids: Vec<i32> }
    /// `remote_connect_list_defined_domains_args`.
    pub struct ListNamesArgs { pub maxnames: i32 }
    /// `remote_connect_list_defined_domains_ret`.
    pub struct ListNamesRet { pub names: Vec<String> }
    /// `remote_domain_lookup_by_id_args`.
    pub struct IdArgs { pub id: i32 }
    /// `remote_domain_lookup_by_uuid_args`.
    pub struct UuidArgs { pub uuid: Uuid }
    /// `remote_domain_lookup_by_name_args`.
    pub struct NameArgs { pub name: String }
    /// The reply of the calls that give a domain (`remote_domain_*_ret
    /// { remote_nonnull_domain dom; }`).
    pub struct DomRet { pub dom: Dom }

    /// The arguments of the calls on one domain (`remote_domain_*_args
    /// { remote_nonnull_domain dom; }`).
    pub struct DomArgs { pub dom: Dom }
    /// The arguments of the calls on one domain with flags.
    pub struct DomFlagsArgs { pub dom: Dom, pub flags: u32 }
    /// `remote_domain_get_state_ret`.
    pub struct StateRet { pub state: i32, pub reason: i32 }
    /// `remote_domain_get_info_ret`.
    pub struct InfoRet {
        pub state: u8,
        pub max_mem: u64,
        pub memory: u64,
        pub nr_virt_cpu: u16,
        pub cpu_time: u64,
    }
    /// `remote_domain_get_os_type_ret`.
    pub struct OsTypeRet { pub kind: String }
    /// `remote_domain_get_max_memory_ret`.
    pub struct MaxMemoryRet { pub memory: u64 }
    /// `remote_domain_is_active_ret`, `_is_persistent_ret`,
    /// `_is_updated_ret`, `_get_autostart_ret`,
    /// `_has_managed_save_image_ret`: one int.
    pub struct IntRet { pub value: i32 }
    /// `remote_domain_set_autostart_args`.
    pub struct SetAutostartArgs { pub dom: Dom, pub autostart: i32 }
    /// `remote_domain_get_xml_desc_ret`.
    pub struct XmlRet { pub xml: String }
    /// `remote_domain_define_xml_args`.
    pub struct XmlArgs { pub xml: String }
    /// `remote_domain_define_xml_flags_args`, `remote_domain_create_xml_args`.
    pub struct XmlFlagsArgs { pub xml: String, pub flags: u32 }
    /// `remote_domain_attach_device_args`, `remote_domain_detach_device_args`.
    pub struct DeviceNoFlagsArgs { pub dom: Dom, pub xml: String }
    /// `remote_domain_save_args`.
    pub struct SaveArgs { pub dom: Dom, pub to: String }
    /// `remote_domain_save_flags_args`.
    pub struct SaveFlagsArgs { pub dom: Dom, pub to: String, pub dxml: Option<String>, pub flags: u32 }
    /// `remote_domain_restore_args`.
    pub struct RestoreArgs { pub from: String }
    /// `remote_domain_restore_flags_args`.
    pub struct RestoreFlagsArgs { pub from: String, pub dxml: Option<String>, pub flags: u32 }
    /// `remote_domain_update_device_flags_args`,
    /// `remote_domain_attach_device_flags_args`,
    /// `remote_domain_detach_device_flags_args`.
    pub struct DeviceArgs { pub dom: Dom, pub xml: String, pub flags: u32 }
    /// `qemu_domain_monitor_command_args` (libvirt's `qemu` program).
    pub struct MonitorCommandArgs { pub dom: Dom, pub cmd: String, pub flags: u32 }
    /// `qemu_domain_monitor_command_ret`.
    pub struct MonitorCommandRet { pub result: String }
    /// `qemu_domain_agent_command_args`.
    pub struct AgentCommandArgs { pub dom: Dom, pub cmd: String, pub timeout: i32, pub flags: u32 }
    /// `qemu_domain_agent_command_ret`.
    pub struct AgentCommandRet { pub result: Option<String> }
    /// `remote_domain_ip_addr`.
    pub struct IpAddr { pub kind: i32, pub addr: String, pub prefix: u32 }
    /// `remote_domain_interface`.
    pub struct Iface { pub name: String, pub hwaddr: Option<String>, pub addrs: Vec<IpAddr> }
    /// `remote_domain_interface_addresses_args`.
    pub struct IfAddrArgs { pub dom: Dom, pub source: u32, pub flags: u32 }
    /// `remote_domain_interface_addresses_ret`.
    pub struct IfAddrRet { pub ifaces: Vec<Iface> }
    /// `remote_domain_send_key_args`.
    pub struct SendKeyArgs { pub dom: Dom, pub codeset: u32, pub holdtime: u32, pub keycodes: Vec<u32>, pub flags: u32 }
    /// `remote_domain_set_metadata_args`.
    pub struct SetMetadataArgs { pub dom: Dom, pub kind: i32, pub metadata: Option<String>, pub key: Option<String>, pub uri: Option<String>, pub flags: u32 }
    /// `remote_domain_get_metadata_args`.
    pub struct GetMetadataArgs { pub dom: Dom, pub kind: i32, pub uri: Option<String>, pub flags: u32 }
    /// `remote_domain_get_metadata_ret`.
    pub struct GetMetadataRet { pub metadata: String }
    /// `remote_domain_rename_args`.
    pub struct RenameArgs { pub dom: Dom, pub new_name: Option<String>, pub flags: u32 }
    /// `remote_domain_rename_ret`.
    pub struct RenameRet { pub retcode: i32 }
    /// `remote_domain_get_messages_ret`.
    pub struct MessagesRet { pub msgs: Vec<String> }
    /// `remote_domain_open_console_args`.
    pub struct ConsoleArgs { pub dom: Dom, pub dev_name: Option<String>, pub flags: u32 }
    /// `remote_domain_screenshot_args`.
    pub struct ScreenshotArgs { pub dom: Dom, pub screen: u32, pub flags: u32 }
    /// `remote_domain_screenshot_ret`.
    pub struct ScreenshotRet { pub mime: Option<String> }
    /// `remote_domain_get_job_info_ret`.
    pub struct JobInfoRet {
        pub kind: i32,
        pub time_elapsed: u64,
        pub time_remaining: u64,
        pub data_total: u64,
        pub data_processed: u64,
        pub data_remaining: u64,
        pub mem_total: u64,
        pub mem_processed: u64,
        pub mem_remaining: u64,
        pub file_total: u64,
        pub file_processed: u64,
        pub file_remaining: u64,
    }

    /// `remote_nonnull_storage_vol`.
    pub struct StorageVol { pub pool: String, pub name: String, pub key: String }
    /// `remote_storage_vol_lookup_by_path_args`.
    pub struct PathArgs { pub path: String }
    /// `remote_storage_vol_lookup_by_path_ret`.
    pub struct VolRet { pub vol: StorageVol }

    /// `remote_nonnull_storage_pool`.
    pub struct StoragePool { pub name: String, pub uuid: Uuid }
    /// `remote_connect_list_all_storage_pools_ret`.
    pub struct ListPoolsRet { pub pools: Vec<StoragePool>, pub ret: u32 }
    /// The arguments of the calls on one pool (`remote_storage_pool_*_args
    /// { remote_nonnull_storage_pool pool; }`).
    pub struct PoolArgs { pub pool: StoragePool }
    /// The arguments of the calls on one pool with flags.
    pub struct PoolFlagsArgs { pub pool: StoragePool, pub flags: u32 }
    /// The reply of the calls that give a pool (`remote_storage_pool_*_ret
    /// { remote_nonnull_storage_pool pool; }`).
    pub struct PoolRet { pub pool: StoragePool }
    /// `remote_storage_pool_get_info_ret`.
    pub struct PoolInfoRet { pub state: u8, pub capacity: u64, pub allocation: u64, pub available: u64 }
    /// `remote_storage_pool_set_autostart_args`.
    pub struct PoolSetAutostartArgs { pub pool: StoragePool, pub autostart: i32 }
    /// `remote_storage_pool_list_volumes_args`.
    pub struct PoolListVolumesArgs { pub pool: StoragePool, pub maxnames: i32 }
    /// `remote_storage_pool_list_all_volumes_args`.
    pub struct PoolListAllVolumesArgs { pub pool: StoragePool, pub need_results: i32, pub flags: u32 }
    /// `remote_storage_pool_list_all_volumes_ret`.
    pub struct ListVolsRet { pub vols: Vec<StorageVol>, pub ret: u32 }
    /// `remote_storage_vol_lookup_by_name_args`.
    pub struct VolLookupByNameArgs { pub pool: StoragePool, pub name: String }
    /// `remote_storage_vol_lookup_by_key_args`.
    pub struct KeyArgs { pub key: String }
    /// `remote_storage_vol_create_xml_args`.
    pub struct VolCreateArgs { pub pool: StoragePool, pub xml: String, pub flags: u32 }
    /// `remote_storage_vol_create_xml_from_args`.
    pub struct VolCreateFromArgs { pub pool: StoragePool, pub xml: String, pub clonevol: StorageVol, pub flags: u32 }
    /// The arguments of the calls on one volume (`remote_storage_vol_*_args
    /// { remote_nonnull_storage_vol vol; }`).
    pub struct VolArgs { pub vol: StorageVol }
    /// The arguments of the calls on one volume with flags.
    pub struct VolFlagsArgs { pub vol: StorageVol, pub flags: u32 }
    /// `remote_storage_vol_get_info_ret`, `_get_info_flags_ret`.
    pub struct VolInfoRet { pub kind: i8, pub capacity: u64, pub allocation: u64 }
    /// `remote_storage_vol_get_path_ret`.
    pub struct VolPathRet { pub name: String }
    /// `remote_storage_vol_resize_args`.
    pub struct VolResizeArgs { pub vol: StorageVol, pub capacity: u64, pub flags: u32 }
    /// `remote_storage_vol_upload_args`, `remote_storage_vol_download_args`
    /// (a `length` of 0: to the end).
    pub struct VolStreamArgs { pub vol: StorageVol, pub offset: u64, pub length: u64, pub flags: u32 }
    /// `virNetStreamHole`: the body of a `VIR_NET_STREAM_HOLE` message,
    /// a hole of `length` bytes in a sparse stream (`flags` 0).
    pub struct StreamHole { pub length: i64, pub flags: u32 }
    /// `remote_nonnull_network`.
    pub struct Network { pub name: String, pub uuid: Uuid }
    /// `remote_connect_list_all_networks_ret`.
    pub struct ListNetworksRet { pub nets: Vec<Network>, pub ret: u32 }

    /// `remote_domain_event_callback_lifecycle_msg`.
    pub struct LifecycleMsg { pub callback_id: i32, pub dom: Dom, pub event: i32, pub detail: i32 }
    /// `remote_domain_event_callback_reboot_msg`.
    pub struct RebootMsg { pub callback_id: i32, pub dom: Dom }
    /// `remote_domain_event_callback_tray_change_msg`: `reason` is a
    /// `virDomainEventTrayChangeType`.
    pub struct TrayChangeMsg { pub callback_id: i32, pub dom: Dom, pub dev_alias: String, pub reason: i32 }
    /// `remote_domain_event_block_threshold_msg`.
    pub struct BlockThresholdMsg { pub callback_id: i32, pub dom: Dom, pub dev: String, pub path: Option<String>, pub threshold: u64, pub excess: u64 }
    /// `remote_domain_event_callback_block_job_msg` (the disk by its
    /// file) and `remote_domain_event_block_job_2_msg` (by its target):
    /// one layout.
    pub struct BlockJobMsg { pub callback_id: i32, pub dom: Dom, pub disk: String, pub kind: i32, pub status: i32 }
    /// `remote_domain_event_callback_device_added_msg` and
    /// `_device_removed_msg`: one layout.
    pub struct DeviceMsg { pub callback_id: i32, pub dom: Dom, pub dev_alias: String }
    /// `remote_domain_event_callback_rtc_change_msg`.
    pub struct RtcChangeMsg { pub callback_id: i32, pub dom: Dom, pub offset: i64 }
    /// `remote_domain_event_callback_disk_change_msg`.
    pub struct DiskChangeMsg {
        pub callback_id: i32, pub dom: Dom, pub old_src_path: Option<String>,
        pub new_src_path: Option<String>, pub dev_alias: String, pub reason: i32,
    }
    /// `remote_domain_event_memory_device_size_change_msg`.
    pub struct MemoryDeviceSizeMsg { pub callback_id: i32, pub dom: Dom, pub alias: String, pub size: u64 }
    /// `remote_domain_event_callback_watchdog_msg`.
    pub struct WatchdogMsg { pub callback_id: i32, pub dom: Dom, pub action: i32 }
    /// `remote_domain_event_graphics_address`.
    pub struct GraphicsAddr { pub family: i32, pub node: String, pub service: String }
    /// `remote_domain_event_graphics_identity`.
    pub struct GraphicsIdentity { pub kind: String, pub name: String }
    /// `remote_domain_event_callback_graphics_msg`.
    pub struct GraphicsMsg {
        pub callback_id: i32, pub dom: Dom, pub phase: i32, pub local: GraphicsAddr,
        pub remote: GraphicsAddr, pub auth_scheme: String, pub subject: Vec<GraphicsIdentity>,
    }
    /// `remote_domain_event_callback_job_completed_msg`.
    pub struct JobCompletedMsg { pub callback_id: i32, pub dom: Dom, pub params: Vec<TypedParam> }
    /// `remote_domain_event_callback_migration_iteration_msg`.
    pub struct MigrationIterationMsg { pub callback_id: i32, pub dom: Dom, pub iteration: i32 }
    /// `remote_domain_event_callback_tunable_msg`.
    pub struct TunableMsg { pub callback_id: i32, pub dom: Dom, pub params: Vec<TypedParam> }
    /// `remote_domain_event_callback_pmwakeup_msg`, `_pmsuspend_msg`,
    /// `_pmsuspend_disk_msg`: one layout, the reason (always 0) before
    /// the domain.
    pub struct PmMsg { pub callback_id: i32, pub reason: i32, pub dom: Dom }
    /// `remote_domain_event_callback_balloon_change_msg`: KiB.
    pub struct BalloonChangeMsg { pub callback_id: i32, pub dom: Dom, pub actual: u64 }
    /// `remote_domain_event_callback_agent_lifecycle_msg`.
    pub struct AgentLifecycleMsg { pub callback_id: i32, pub dom: Dom, pub state: i32, pub reason: i32 }
    /// `remote_domain_event_callback_metadata_change_msg`.
    pub struct MetadataChangeMsg { pub callback_id: i32, pub dom: Dom, pub kind: i32, pub nsuri: Option<String> }
    /// `remote_domain_event_callback_io_error_msg`.
    pub struct IoErrorMsg { pub callback_id: i32, pub dom: Dom, pub src_path: String, pub dev_alias: String, pub action: i32 }
    /// `remote_domain_event_callback_io_error_reason_msg`.
    pub struct IoErrorReasonMsg { pub callback_id: i32, pub dom: Dom, pub src_path: String, pub dev_alias: String, pub action: i32, pub reason: String }
}

impl From<&Domain> for Dom {
    fn from(d: &Domain) -> Dom {
        Dom {
            name: d.name.clone(),
            uuid: d.uuid,
            id: d.id.map_or(-1, |id| id as i32),
        }
    }
}

impl From<Domain> for Dom {
    fn from(d: Domain) -> Dom {
        Dom::from(&d)
    }
}

impl From<&Dom> for Domain {
    fn from(d: &Dom) -> Domain {
        Domain {
            name: d.name.clone(),
            uuid: d.uuid,
            id: u32::try_from(d.id).ok(),
        }
    }
}

impl From<Dom> for Domain {
    fn from(d: Dom) -> Domain {
        Domain::from(&d)
    }
}
