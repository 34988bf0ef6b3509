//! The procedure table of libvirt's main program as qvirt serves it:
//! every procedure qvirt speaks, once, with its number, arguments, reply,
//! who may call it and how it is run. From it come the [`Procedure`]
//! numbers, the [`Call`] and [`Reply`] codecs, the read-only check
//! ([`Call::read_only_refusal`]), the server's dispatch (through
//! [`Session`] for what the connection itself answers, [`Handler`] for
//! what a driver answers, and a function named in the table for what the
//! host answers), and the client's typed calls ([`Caller`]).
//!
//! The numbers are libvirt's (`REMOTE_PROC_*`); the shapes are those of
//! `remote_protocol.x` (see [`super::types`]). Any other procedure is
//! refused with libvirt's `VIR_ERR_NO_SUPPORT`, naming it.

use super::declare::procedures;
use super::names::NAMES;
use super::types::*;
use super::xdr::{from_bytes, to_bytes};
use crate::driver::error::{Error, ErrorCode, Result};

/// How the server runs a procedure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// The connection answers it (the handshake, events, keepalive), in
    /// the I/O loop.
    Conn,
    /// Never waits (reads a snapshot): answered in the I/O loop.
    Quick,
    /// Must not wait behind long calls (`destroy` always wins).
    Prio,
    /// May take long: runs on a worker.
    Job,
}

/// The name of libvirt procedure `n` (`DOMAIN_GET_INFO`), or its number
/// when libvirt 9.0 has none by that number.
pub fn name_of(n: i32) -> String {
    usize::try_from(n)
        .ok()
        .and_then(|i| NAMES.get(i))
        .filter(|s| !s.is_empty())
        .map_or_else(|| format!("#{n}"), |s| s.to_string())
}

/// The error for a procedure qvirt does not serve.
pub fn unsupported(n: i32) -> Error {
    Error::new(
        ErrorCode::NoSupport,
        format!(
            "this function is not supported by qvirtd: procedure {n} ({}) of libvirt's protocol",
            name_of(n)
        ),
    )
}

procedures! {
    connection {
        /// `virConnectOpen`: the URI (without transport and socket) and
        /// `VIR_CONNECT_RO`.
        1 ConnectOpen connect_open(OpenArgs) -> (), ro;
        /// `virConnectClose`.
        2 ConnectClose connect_close(()) -> (), ro;
        /// The authentication schemes: none (the socket's SO_PEERCRED
        /// check is the authentication).
        66 AuthList auth_list(()) -> AuthListRet, ro;
        /// Whether the daemon speaks a protocol feature (keepalive, event
        /// callbacks, close callbacks).
        60 ConnectSupportsFeature connect_supports_feature(FeatureArgs) -> FeatureRet, ro;
        /// The URI the connection was opened with.
        110 ConnectGetUri connect_get_uri(()) -> UriRet, ro;
        /// Whether the transport is secure (a UNIX socket is).
        149 ConnectIsSecure connect_is_secure(()) -> SecureRet, ro;
        /// `virConnectDomainEventRegisterAny`.
        316 ConnectDomainEventCallbackRegisterAny connect_domain_event_callback_register_any(EventRegisterArgs) -> EventRegisterRet, ro;
        /// `virConnectDomainEventDeregisterAny`.
        317 ConnectDomainEventCallbackDeregisterAny connect_domain_event_callback_deregister_any(EventDeregisterArgs) -> (), ro;
        /// `virConnectRegisterCloseCallback`.
        360 ConnectRegisterCloseCallback connect_register_close_callback(()) -> (), ro;
        /// `virConnectUnregisterCloseCallback`.
        361 ConnectUnregisterCloseCallback connect_unregister_close_callback(()) -> (), ro;
    }
    driver {
        /// `virConnectGetType`: "QEMU".
        3 ConnectGetType connect_get_type(()) -> TypeRet, ro, Quick;
        /// `virConnectGetVersion`: the hypervisor's.
        4 ConnectGetVersion connect_get_version(()) -> VersionRet, ro, Job;
        /// `virNodeGetInfo`.
        6 NodeGetInfo node_get_info(()) -> NodeInfoRet, ro, Job;
        /// `virConnectGetCapabilities`.
        7 ConnectGetCapabilities connect_get_capabilities(()) -> CapabilitiesRet, ro, Job;
        /// `virDomainAttachDevice`: the running domain.
        8 DomainAttachDevice domain_attach_device(DeviceNoFlagsArgs) -> (), rw, Job;
        /// `virDomainCreate`.
        9 DomainCreate domain_create(DomArgs) -> (), rw, Job;
        /// `virDomainCreateXML`.
        10 DomainCreateXml domain_create_xml(XmlFlagsArgs) -> DomRet, rw, Job;
        /// `virDomainDefineXML`.
        11 DomainDefineXml domain_define_xml(XmlArgs) -> DomRet, rw, Job;
        /// `virDomainDestroy`.
        12 DomainDestroy domain_destroy(DomArgs) -> (), rw, Prio;
        /// `virDomainDetachDevice`: the running domain.
        13 DomainDetachDevice domain_detach_device(DeviceNoFlagsArgs) -> (), rw, Job;
        /// `virDomainGetXMLDesc`.
        14 DomainGetXmlDesc domain_get_xml_desc(DomFlagsArgs) -> XmlRet,
            {ro_unless xml_secure => "XML with secrets (VIR_DOMAIN_XML_SECURE)"}, Prio;
        /// `virDomainGetAutostart`.
        15 DomainGetAutostart domain_get_autostart(DomArgs) -> IntRet, ro, Quick;
        /// `virDomainGetInfo`.
        16 DomainGetInfo domain_get_info(DomArgs) -> InfoRet, ro, Quick;
        /// `virDomainGetMaxMemory`.
        17 DomainGetMaxMemory domain_get_max_memory(DomArgs) -> MaxMemoryRet, ro, Quick;
        /// `virDomainGetOSType`.
        19 DomainGetOsType domain_get_os_type(DomArgs) -> OsTypeRet, ro, Quick;
        /// `virConnectListDefinedDomains`.
        21 ConnectListDefinedDomains connect_list_defined_domains(ListNamesArgs) -> ListNamesRet, ro, Quick;
        /// `virDomainLookupByID`.
        22 DomainLookupById domain_lookup_by_id(IdArgs) -> DomRet, ro, Quick;
        /// `virDomainLookupByName`.
        23 DomainLookupByName domain_lookup_by_name(NameArgs) -> DomRet, ro, Quick;
        /// `virDomainLookupByUUID`.
        24 DomainLookupByUuid domain_lookup_by_uuid(UuidArgs) -> DomRet, ro, Quick;
        /// `virConnectNumOfDefinedDomains`.
        25 ConnectNumOfDefinedDomains connect_num_of_defined_domains(()) -> NumRet, ro, Quick;
        /// `virDomainReboot`.
        27 DomainReboot domain_reboot(DomFlagsArgs) -> (), rw, Job;
        /// `virDomainResume`.
        28 DomainResume domain_resume(DomArgs) -> (), rw, Job;
        /// `virDomainSetAutostart`.
        29 DomainSetAutostart domain_set_autostart(SetAutostartArgs) -> (), rw, Job;
        /// `virDomainShutdown`.
        33 DomainShutdown domain_shutdown(DomArgs) -> (), rw, Job;
        /// `virDomainSuspend`.
        34 DomainSuspend domain_suspend(DomArgs) -> (), rw, Job;
        /// `virDomainUndefine`.
        35 DomainUndefine domain_undefine(DomArgs) -> (), rw, Job;
        /// `virConnectListDomains`: the ids of running domains.
        37 ConnectListDomains connect_list_domains(ListIdsArgs) -> ListIdsRet, ro, Quick;
        /// `virConnectNumOfDomains`.
        51 ConnectNumOfDomains connect_num_of_domains(()) -> NumRet, ro, Quick;
        /// `virDomainRestore`.
        54 DomainRestore domain_restore(RestoreArgs) -> (), rw, Job;
        /// `virDomainSave`.
        55 DomainSave domain_save(SaveArgs) -> (), rw, Job;
        /// `virConnectGetHostname`.
        59 ConnectGetHostname connect_get_hostname(()) -> HostnameRet, ro, Quick;
        /// `virStorageVolLookupByPath`: the volume of a running pool whose
        /// file is the path.
        97 StorageVolLookupByPath storage_vol_lookup_by_path(PathArgs) -> VolRet, ro, Job;
        /// `virNodeGetSecurityModel`: none.
        122 NodeGetSecurityModel node_get_security_model(()) -> SecurityModelRet, ro, Quick;
        /// `virDomainIsActive`.
        150 DomainIsActive domain_is_active(DomArgs) -> IntRet, ro, Quick;
        /// `virDomainIsPersistent`.
        151 DomainIsPersistent domain_is_persistent(DomArgs) -> IntRet, ro, Quick;
        /// `virConnectGetLibVersion`: the libvirt API level qvirtd speaks.
        157 ConnectGetLibVersion connect_get_lib_version(()) -> LibVersionRet, ro, Quick;
        /// `virDomainAttachDeviceFlags`.
        160 DomainAttachDeviceFlags domain_attach_device_flags(DeviceArgs) -> (), rw, Job;
        /// `virDomainDetachDeviceFlags`.
        161 DomainDetachDeviceFlags domain_detach_device_flags(DeviceArgs) -> (), rw, Job;
        /// `virDomainGetJobInfo`.
        163 DomainGetJobInfo domain_get_job_info(DomArgs) -> JobInfoRet, ro, Quick;
        /// `virDomainAbortJob`.
        164 DomainAbortJob domain_abort_job(DomArgs) -> (), rw, Prio;
        /// `virDomainUpdateDeviceFlags`: a cdrom or floppy medium.
        174 DomainUpdateDeviceFlags domain_update_device_flags(DeviceArgs) -> (), rw, Job;
        /// `virDomainManagedSave`.
        182 DomainManagedSave domain_managed_save(DomFlagsArgs) -> (), rw, Job;
        /// `virDomainHasManagedSaveImage`.
        183 DomainHasManagedSaveImage domain_has_managed_save_image(DomFlagsArgs) -> IntRet, ro, Quick;
        /// `virDomainManagedSaveRemove`.
        184 DomainManagedSaveRemove domain_managed_save_remove(DomFlagsArgs) -> (), rw, Job;
        /// `virDomainSnapshotCreateXML`.
        185 DomainSnapshotCreateXml domain_snapshot_create_xml(SnapCreateArgs) -> SnapRet, rw, Job;
        /// `virDomainSnapshotGetXMLDesc`.
        186 DomainSnapshotGetXmlDesc domain_snapshot_get_xml_desc(SnapFlagsArgs) -> XmlRet, ro, Job;
        /// `virDomainSnapshotNum`.
        187 DomainSnapshotNum domain_snapshot_num(DomFlagsArgs) -> NumRet, ro, Job;
        /// `virDomainSnapshotListNames`.
        188 DomainSnapshotListNames domain_snapshot_list_names(SnapNamesArgs) -> ListNamesRet, ro, Job;
        /// `virDomainSnapshotLookupByName`.
        189 DomainSnapshotLookupByName domain_snapshot_lookup_by_name(SnapLookupArgs) -> SnapRet, ro, Job;
        /// `virDomainHasCurrentSnapshot`.
        190 DomainHasCurrentSnapshot domain_has_current_snapshot(DomFlagsArgs) -> IntRet, ro, Job;
        /// `virDomainSnapshotCurrent`.
        191 DomainSnapshotCurrent domain_snapshot_current(DomFlagsArgs) -> SnapRet, ro, Job;
        /// `virDomainRevertToSnapshot`.
        192 DomainRevertToSnapshot domain_revert_to_snapshot(SnapFlagsArgs) -> (), rw, Job;
        /// `virDomainSnapshotDelete`.
        193 DomainSnapshotDelete domain_snapshot_delete(SnapFlagsArgs) -> (), rw, Job;
        /// `virDomainGetControlInfo`: whether a long job holds the domain.
        229 DomainGetControlInfo domain_get_control_info(DomFlagsArgs) -> ControlInfoRet, ro, Quick;
        /// `virDomainGetJobStats` (the running job, or the last that ended).
        298 DomainGetJobStats domain_get_job_stats(JobStatsArgs) -> JobStatsRet, ro, Quick;
        /// `virDomainGetBlockInfo`.
        194 DomainGetBlockInfo domain_get_block_info(BlockPathArgs) -> BlockInfoRet, ro, Job;
        /// `virDomainBlockJobAbort` (a cancel, or a pivot).
        237 DomainBlockJobAbort domain_block_job_abort(BlockPathArgs) -> (), rw, Job;
        /// `virDomainBlockJobSetSpeed`.
        239 DomainBlockJobSetSpeed domain_block_job_set_speed(BlockJobSetSpeedArgs) -> (), rw, Job;
        /// `virDomainGetBlockJobInfo`.
        238 DomainGetBlockJobInfo domain_get_block_job_info(BlockPathArgs) -> BlockJobInfoRet, ro, Job;
        /// `virDomainBlockPull`.
        240 DomainBlockPull domain_block_pull(BlockPullArgs) -> (), rw, Job;
        /// `virDomainBlockRebase` without a base (a pull).
        266 DomainBlockRebase domain_block_rebase(BlockRebaseArgs) -> (), rw, Job;
        /// `virDomainBlockCommit` (active, of the whole chain).
        290 DomainBlockCommit domain_block_commit(BlockCommitArgs) -> (), rw, Job;
        /// `virDomainBlockCopy`.
        345 DomainBlockCopy domain_block_copy(BlockCopyArgs) -> (), rw, Job;
        /// `virDomainCreateWithFlags`.
        196 DomainCreateWithFlags domain_create_with_flags(DomFlagsArgs) -> DomRet, rw, Job;
        /// `virDomainOpenConsole`: console bytes then travel as stream
        /// messages with this call's serial, both ways.
        201 DomainOpenConsole domain_open_console(ConsoleArgs) -> (), rw, Job;
        /// `virDomainIsUpdated`.
        202 DomainIsUpdated domain_is_updated(DomArgs) -> IntRet, ro, Quick;
        /// `virDomainScreenshot`: the image follows as stream messages.
        211 DomainScreenshot domain_screenshot(ScreenshotArgs) -> ScreenshotRet, rw, Job;
        /// `virDomainGetState`.
        212 DomainGetState domain_get_state(DomFlagsArgs) -> StateRet, ro, Quick;
        /// `virDomainSendKey`.
        226 DomainSendKey domain_send_key(SendKeyArgs) -> (), rw, Job;
        /// `virDomainUndefineFlags`.
        231 DomainUndefineFlags domain_undefine_flags(DomFlagsArgs) -> (), rw, Job;
        /// `virDomainSaveFlags`.
        232 DomainSaveFlags domain_save_flags(SaveFlagsArgs) -> (), rw, Job;
        /// `virDomainRestoreFlags`.
        233 DomainRestoreFlags domain_restore_flags(RestoreFlagsArgs) -> (), rw, Job;
        /// `virDomainDestroyFlags`.
        234 DomainDestroyFlags domain_destroy_flags(DomFlagsArgs) -> (), rw, Prio;
        /// `virDomainSnapshotGetParent`.
        244 DomainSnapshotGetParent domain_snapshot_get_parent(SnapFlagsArgs) -> SnapRet, ro, Job;
        /// `virDomainReset`.
        245 DomainReset domain_reset(DomFlagsArgs) -> (), rw, Job;
        /// `virDomainSnapshotNumChildren`.
        246 DomainSnapshotNumChildren domain_snapshot_num_children(SnapFlagsArgs) -> NumRet, ro, Job;
        /// `virDomainSnapshotListChildrenNames`.
        247 DomainSnapshotListChildrenNames domain_snapshot_list_children_names(SnapChildNamesArgs) -> ListNamesRet, ro, Job;
        /// `virDomainShutdownFlags`.
        258 DomainShutdownFlags domain_shutdown_flags(DomFlagsArgs) -> (), rw, Job;
        /// `virDomainSetMetadata`.
        264 DomainSetMetadata domain_set_metadata(SetMetadataArgs) -> (), rw, Job;
        /// `virDomainGetMetadata`.
        265 DomainGetMetadata domain_get_metadata(GetMetadataArgs) -> GetMetadataRet, ro, Quick;
        /// `virDomainSnapshotIsCurrent`.
        271 DomainSnapshotIsCurrent domain_snapshot_is_current(SnapFlagsArgs) -> IntRet, ro, Job;
        /// `virDomainSnapshotHasMetadata`.
        272 DomainSnapshotHasMetadata domain_snapshot_has_metadata(SnapFlagsArgs) -> IntRet, ro, Job;
        /// `virConnectListAllDomains`.
        273 ConnectListAllDomains connect_list_all_domains(ListAllArgs) -> ListAllRet, ro, Quick;
        /// `virDomainListAllSnapshots`.
        274 DomainListAllSnapshots domain_list_all_snapshots(SnapListAllArgs) -> SnapListRet, ro, Job;
        /// `virDomainSnapshotListAllChildren`.
        275 DomainSnapshotListAllChildren domain_snapshot_list_all_children(SnapChildrenArgs) -> SnapListRet, ro, Job;
        /// `virConnectListAllStoragePools`.
        281 ConnectListAllStoragePools connect_list_all_storage_pools(ListAllArgs) -> ListPoolsRet, ro, Job;
        /// `virConnectListAllNetworks`: qvirt keeps no virtual networks.
        283 ConnectListAllNetworks connect_list_all_networks(ListAllArgs) -> ListNetworksRet, ro, Quick;
        /// `virConnectGetDomainCapabilities`.
        342 ConnectGetDomainCapabilities connect_get_domain_capabilities(DomainCapsArgs) -> DomainCapsRet, ro, Job;
        /// `virDomainDefineXMLFlags`.
        350 DomainDefineXmlFlags domain_define_xml_flags(XmlFlagsArgs) -> DomRet, rw, Job;
        /// `virDomainInterfaceAddresses`.
        353 DomainInterfaceAddresses domain_interface_addresses(IfAddrArgs) -> IfAddrRet, ro, Job;
        /// `virDomainRename`.
        358 DomainRename domain_rename(RenameArgs) -> RenameRet, rw, Job;
        /// `virDomainGetMessages`.
        426 DomainGetMessages domain_get_messages(DomFlagsArgs) -> MessagesRet, ro, Quick;

        // Storage pools (directories) and their volumes (files), through
        // the driver's storage calls; bodies in `storage.rs`.
        /// `virConnectNumOfStoragePools`: the running ones.
        71 ConnectNumOfStoragePools connect_num_of_storage_pools(()) -> NumRet, ro, Job;
        /// `virConnectListStoragePools`: the running ones' names.
        72 ConnectListStoragePools connect_list_storage_pools(ListNamesArgs) -> ListNamesRet, ro, Job;
        /// `virConnectNumOfDefinedStoragePools`: the inactive ones.
        73 ConnectNumOfDefinedStoragePools connect_num_of_defined_storage_pools(()) -> NumRet, ro, Job;
        /// `virConnectListDefinedStoragePools`: the inactive ones' names.
        74 ConnectListDefinedStoragePools connect_list_defined_storage_pools(ListNamesArgs) -> ListNamesRet, ro, Job;
        /// `virStoragePoolCreateXML`: qvirt keeps no transient pools.
        76 StoragePoolCreateXml storage_pool_create_xml(XmlFlagsArgs) -> PoolRet, rw, Job;
        /// `virStoragePoolDefineXML`.
        77 StoragePoolDefineXml storage_pool_define_xml(XmlFlagsArgs) -> PoolRet, rw, Job;
        /// `virStoragePoolCreate`: starts a defined pool.
        78 StoragePoolCreate storage_pool_create(PoolFlagsArgs) -> (), rw, Job;
        /// `virStoragePoolBuild`: makes its directory.
        79 StoragePoolBuild storage_pool_build(PoolFlagsArgs) -> (), rw, Job;
        /// `virStoragePoolDestroy`: stops it.
        80 StoragePoolDestroy storage_pool_destroy(PoolArgs) -> (), rw, Job;
        /// `virStoragePoolUndefine`.
        82 StoragePoolUndefine storage_pool_undefine(PoolArgs) -> (), rw, Job;
        /// `virStoragePoolRefresh`.
        83 StoragePoolRefresh storage_pool_refresh(PoolFlagsArgs) -> (), rw, Job;
        /// `virStoragePoolLookupByName`.
        84 StoragePoolLookupByName storage_pool_lookup_by_name(NameArgs) -> PoolRet, ro, Job;
        /// `virStoragePoolLookupByUUID`.
        85 StoragePoolLookupByUuid storage_pool_lookup_by_uuid(UuidArgs) -> PoolRet, ro, Job;
        /// `virStoragePoolLookupByVolume`.
        86 StoragePoolLookupByVolume storage_pool_lookup_by_volume(VolArgs) -> PoolRet, ro, Job;
        /// `virStoragePoolGetInfo`.
        87 StoragePoolGetInfo storage_pool_get_info(PoolArgs) -> PoolInfoRet, ro, Job;
        /// `virStoragePoolGetXMLDesc`.
        88 StoragePoolGetXmlDesc storage_pool_get_xml_desc(PoolFlagsArgs) -> XmlRet, ro, Job;
        /// `virStoragePoolGetAutostart`.
        89 StoragePoolGetAutostart storage_pool_get_autostart(PoolArgs) -> IntRet, ro, Job;
        /// `virStoragePoolSetAutostart`.
        90 StoragePoolSetAutostart storage_pool_set_autostart(PoolSetAutostartArgs) -> (), rw, Job;
        /// `virStoragePoolNumOfVolumes`.
        91 StoragePoolNumOfVolumes storage_pool_num_of_volumes(PoolArgs) -> NumRet, ro, Job;
        /// `virStoragePoolListVolumes`: the volumes' names.
        92 StoragePoolListVolumes storage_pool_list_volumes(PoolListVolumesArgs) -> ListNamesRet, ro, Job;
        /// `virStorageVolCreateXML`.
        93 StorageVolCreateXml storage_vol_create_xml(VolCreateArgs) -> VolRet, rw, Job;
        /// `virStorageVolDelete`.
        94 StorageVolDelete storage_vol_delete(VolFlagsArgs) -> (), rw, Job;
        /// `virStorageVolLookupByName`.
        95 StorageVolLookupByName storage_vol_lookup_by_name(VolLookupByNameArgs) -> VolRet, ro, Job;
        /// `virStorageVolLookupByKey`: a volume's key is its path.
        96 StorageVolLookupByKey storage_vol_lookup_by_key(KeyArgs) -> VolRet, ro, Job;
        /// `virStorageVolGetInfo`.
        98 StorageVolGetInfo storage_vol_get_info(VolArgs) -> VolInfoRet, ro, Job;
        /// `virStorageVolGetXMLDesc`.
        99 StorageVolGetXmlDesc storage_vol_get_xml_desc(VolFlagsArgs) -> XmlRet, ro, Job;
        /// `virStorageVolGetPath`.
        100 StorageVolGetPath storage_vol_get_path(VolArgs) -> VolPathRet, ro, Job;
        /// `virStorageVolCreateXMLFrom`: a clone.
        125 StorageVolCreateXmlFrom storage_vol_create_xml_from(VolCreateFromArgs) -> VolRet, rw, Job;
        /// `virStoragePoolIsActive`.
        154 StoragePoolIsActive storage_pool_is_active(PoolArgs) -> IntRet, ro, Job;
        /// `virStoragePoolIsPersistent`: every qvirt pool is.
        155 StoragePoolIsPersistent storage_pool_is_persistent(PoolArgs) -> IntRet, ro, Job;
        /// `virStorageVolUpload`: the bytes follow from the client as
        /// stream messages once the reply is out.
        208 StorageVolUpload storage_vol_upload(VolStreamArgs) -> (), rw, Job;
        /// `virStorageVolDownload`: the bytes follow as stream messages.
        /// libvirt refuses it on a read-only connection too.
        209 StorageVolDownload storage_vol_download(VolStreamArgs) -> (), rw, Job;
        /// `virStorageVolResize`.
        260 StorageVolResize storage_vol_resize(VolResizeArgs) -> (), rw, Job;
        /// `virStoragePoolListAllVolumes`.
        282 StoragePoolListAllVolumes storage_pool_list_all_volumes(PoolListAllVolumesArgs) -> ListVolsRet, ro, Job;
        /// `virStorageVolGetInfoFlags`.
        378 StorageVolGetInfoFlags storage_vol_get_info_flags(VolFlagsArgs) -> VolInfoRet, ro, Job;

        // Memory, vCPUs and statistics; bodies in `resources.rs` and
        // `domstats.rs`. Statistics read QEMU without taking the domain's
        // job, so they run beside long calls (Prio), as libvirt's are
        // high priority.
        /// `virDomainGetMaxVcpus`.
        18 DomainGetMaxVcpus domain_get_max_vcpus(DomArgs) -> NumRet, ro, Prio;
        /// `virDomainSetMaxMemory`: `<memory>` (of a shut-off domain).
        30 DomainSetMaxMemory domain_set_max_memory(SetMemoryArgs) -> (), rw, Job;
        /// `virDomainSetMemory`: the running domain's balloon.
        31 DomainSetMemory domain_set_memory(SetMemoryArgs) -> (), rw, Job;
        /// `virDomainSetVcpus`: the running domain's vCPUs.
        32 DomainSetVcpus domain_set_vcpus(SetVcpusArgs) -> (), rw, Job;
        /// `virDomainBlockStats`.
        64 DomainBlockStats domain_block_stats(BlockStatsArgs) -> BlockStatsRet, ro, Prio;
        /// `virDomainInterfaceStats`.
        65 DomainInterfaceStats domain_interface_stats(InterfaceStatsArgs) -> InterfaceStatsRet, ro, Prio;
        /// `virDomainMemoryStats`.
        159 DomainMemoryStats domain_memory_stats(MemoryStatsArgs) -> MemoryStatsRet, ro, Prio;
        /// `virDomainSetVcpusFlags`.
        199 DomainSetVcpusFlags domain_set_vcpus_flags(SetVcpusFlagsArgs) -> (), rw, Job;
        /// `virDomainSetVcpu`: vCPUs by id.
        384 DomainSetVcpu domain_set_vcpu(SetVcpuArgs) -> (), rw, Job;
        /// `virDomainGetVcpusFlags`; libvirt asks the guest only on a
        /// read-write connection.
        200 DomainGetVcpusFlags domain_get_vcpus_flags(DomFlagsArgs) -> NumRet,
            {ro_unless super::resources::vcpu_guest => "the guest's vCPUs (VIR_DOMAIN_VCPU_GUEST)"}, Prio;
        /// `virDomainSetMemoryFlags`.
        204 DomainSetMemoryFlags domain_set_memory_flags(SetMemoryFlagsArgs) -> (), rw, Job;
        /// `virDomainSetMemoryStatsPeriod`.
        308 DomainSetMemoryStatsPeriod domain_set_memory_stats_period(SetMemoryStatsPeriodArgs) -> (), rw, Job;
        /// `virDomainBlockStatsFlags`.
        243 DomainBlockStatsFlags domain_block_stats_flags(BlockStatsFlagsArgs) -> ParamsRet, ro, Prio;
        /// `virDomainGetCPUStats`: the domain's total.
        262 DomainGetCpuStats domain_get_cpu_stats(CpuStatsArgs) -> ParamsRet, ro, Prio;
        /// `virDomainGetMemoryParameters`: the `<memtune>` limits.
        198 DomainGetMemoryParameters domain_get_memory_parameters(TunableArgs) -> ParamsRet, ro, Prio;
        /// `virDomainGetBlkioParameters`: the `<blkiotune>` settings.
        206 DomainGetBlkioParameters domain_get_blkio_parameters(TunableArgs) -> ParamsRet, ro, Prio;
        /// `virConnectGetAllDomainStats` and `virDomainListGetStats`.
        344 ConnectGetAllDomainStats connect_get_all_domain_stats(AllDomainStatsArgs) -> AllDomainStatsRet, ro, Prio;

        // Where vCPUs run, and the host's CPUs; bodies in `vcpus.rs`.
        // They read the kernel and the definition, beside long calls.
        /// `virDomainGetVcpus`.
        20 DomainGetVcpus domain_get_vcpus(VcpusArgs) -> VcpusRet, ro, Prio;
        /// `virNodeGetFreeMemory`.
        102 NodeGetFreeMemory node_get_free_memory(()) -> FreeMemoryRet, ro, Quick;
        /// `virDomainGetVcpuPinInfo`.
        230 DomainGetVcpuPinInfo domain_get_vcpu_pin_info(VcpuPinInfoArgs) -> VcpuPinInfoRet, ro, Prio;
        /// `virDomainGetEmulatorPinInfo`.
        280 DomainGetEmulatorPinInfo domain_get_emulator_pin_info(EmulatorPinInfoArgs) -> EmulatorPinInfoRet, ro, Prio;
        /// `virNodeGetCPUStats`.
        227 NodeGetCpuStats node_get_cpu_stats(NodeCpuStatsArgs) -> NodeStatsRet, ro, Quick;
        /// `virNodeGetMemoryStats`.
        228 NodeGetMemoryStats node_get_memory_stats(NodeMemoryStatsArgs) -> NodeStatsRet, ro, Quick;
        /// `virNodeGetCPUMap`.
        293 NodeGetCpuMap node_get_cpu_map(CpuMapArgs) -> CpuMapRet, ro, Quick;

        // Secrets (libvirt's secret driver), through the driver's secret
        // calls; bodies in `secrets.rs`. High priority, as libvirt's: no
        // domain's job holds them up. A value is written and read on a
        // read-write connection only, as libvirt has it.
        /// `virConnectNumOfSecrets`.
        139 ConnectNumOfSecrets connect_num_of_secrets(()) -> NumRet, ro, Prio;
        /// `virConnectListSecrets`: the secrets' UUIDs.
        140 ConnectListSecrets connect_list_secrets(ListNamesArgs) -> ListNamesRet, ro, Prio;
        /// `virSecretLookupByUUID`.
        141 SecretLookupByUuid secret_lookup_by_uuid(UuidArgs) -> SecretRet, ro, Prio;
        /// `virSecretDefineXML`.
        142 SecretDefineXml secret_define_xml(XmlFlagsArgs) -> SecretRet, rw, Prio;
        /// `virSecretGetXMLDesc`: the definition, never the value.
        143 SecretGetXmlDesc secret_get_xml_desc(SecretFlagsArgs) -> XmlRet, ro, Prio;
        /// `virSecretSetValue`.
        144 SecretSetValue secret_set_value(SecretSetValueArgs) -> (), rw, Prio;
        /// `virSecretGetValue`: never a private secret's.
        145 SecretGetValue secret_get_value(SecretFlagsArgs) -> SecretValueRet, rw, Prio;
        /// `virSecretUndefine`.
        146 SecretUndefine secret_undefine(SecretArgs) -> (), rw, Prio;
        /// `virSecretLookupByUsage`.
        147 SecretLookupByUsage secret_lookup_by_usage(SecretUsageArgs) -> SecretRet, ro, Prio;
        /// `virConnectListAllSecrets`, with its ephemeral and private
        /// filters.
        287 ConnectListAllSecrets connect_list_all_secrets(ListAllArgs) -> ListSecretsRet, ro, Prio;

        // `<memtune>` and `<blkiotune>` changed; bodies in `tunables.rs`
        // (beside the getters, which are listed with the statistics).
        /// `virDomainSetMemoryParameters`.
        197 DomainSetMemoryParameters domain_set_memory_parameters(SetTunableArgs) -> (), rw, Job;
        /// `virDomainSetBlkioParameters`.
        205 DomainSetBlkioParameters domain_set_blkio_parameters(SetTunableArgs) -> (), rw, Job;

        // Facts of the host, read from the kernel; bodies in
        // `hostfacts.rs`.
        /// `virConnectGetMaxVcpus`.
        5 ConnectGetMaxVcpus connect_get_max_vcpus(MaxVcpusArgs) -> MaxVcpusRet, ro, Quick;
        /// `virNodeGetCellsFreeMemory`.
        101 NodeGetCellsFreeMemory node_get_cells_free_memory(CellsFreeMemoryArgs) -> CellsFreeMemoryRet, ro, Quick;
        /// `virNodeGetFreePages`.
        340 NodeGetFreePages node_get_free_pages(FreePagesArgs) -> FreePagesRet, ro, Quick;
        /// `virNodeGetMemoryParameters`: same-page merging.
        289 NodeGetMemoryParameters node_get_memory_parameters(NodeMemoryParamsArgs) -> ParamsRet, ro, Quick;

        // Objects qvirt does not keep (virtual networks, security labels,
        // checkpoints), answered as libvirt answers their absence; bodies
        // in `absent.rs`.
        /// `virConnectListDefinedNetworks`: none.
        36 ConnectListDefinedNetworks connect_list_defined_networks(ListNamesArgs) -> ListNamesRet, ro, Quick;
        /// `virConnectListNetworks`: none.
        38 ConnectListNetworks connect_list_networks(ListNamesArgs) -> ListNamesRet, ro, Quick;
        /// `virNetworkLookupByName`: `VIR_ERR_NO_NETWORK`.
        46 NetworkLookupByName network_lookup_by_name(NameArgs) -> NetworkRet, ro, Quick;
        /// `virNetworkLookupByUUID`: `VIR_ERR_NO_NETWORK`.
        47 NetworkLookupByUuid network_lookup_by_uuid(UuidArgs) -> NetworkRet, ro, Quick;
        /// `virConnectNumOfDefinedNetworks`: 0.
        50 ConnectNumOfDefinedNetworks connect_num_of_defined_networks(()) -> NumRet, ro, Quick;
        /// `virConnectNumOfNetworks`: 0.
        52 ConnectNumOfNetworks connect_num_of_networks(()) -> NumRet, ro, Quick;
        /// `virDomainGetSecurityLabel`: empty, not enforcing.
        121 DomainGetSecurityLabel domain_get_security_label(DomArgs) -> SecurityLabelRet, ro, Quick;
        /// `virDomainGetSecurityLabelList`: none.
        278 DomainGetSecurityLabelList domain_get_security_label_list(DomArgs) -> SecurityLabelListRet, ro, Quick;
        /// `virDomainListAllCheckpoints`: none.
        413 DomainListAllCheckpoints domain_list_all_checkpoints(ListCheckpointsArgs) -> ListCheckpointsRet, ro, Quick;
        /// `virDomainCheckpointLookupByName`: `VIR_ERR_NO_DOMAIN_CHECKPOINT`.
        415 DomainCheckpointLookupByName domain_checkpoint_lookup_by_name(CheckpointLookupArgs) -> CheckpointRet, ro, Quick;

        // Sent to a running guest.
        /// `virDomainInjectNMI`.
        210 DomainInjectNmi domain_inject_nmi(DomFlagsArgs) -> (), rw, Job;

        // A domain's settings as typed parameters; bodies in
        // `domparams.rs`.
        /// `virDomainGetNumaParameters`: `<numatune>`.
        255 DomainGetNumaParameters domain_get_numa_parameters(TunableArgs) -> ParamsRet, ro, Prio;
        /// `virDomainSetNumaParameters`: `<numatune>` in the definition
        /// (`numatune.rs`).
        254 DomainSetNumaParameters domain_set_numa_parameters(SetNumaArgs) -> (), rw, Job;
        /// `virDomainGetInterfaceParameters`: `<bandwidth>`.
        257 DomainGetInterfaceParameters domain_get_interface_parameters(InterfaceParamsArgs) -> ParamsRet, ro, Prio;
        /// `virDomainGetPerfEvents`: none enabled.
        365 DomainGetPerfEvents domain_get_perf_events(DomParamsArgs) -> DomParamsRet, ro, Prio;
        /// `virDomainGetLaunchSecurityInfo`.
        396 DomainGetLaunchSecurityInfo domain_get_launch_security_info(DomParamsArgs) -> DomParamsRet, ro, Prio;

        // What the guest agent answers; bodies in `agent.rs`.
        /// `virDomainGetHostname`.
        277 DomainGetHostname domain_get_hostname(DomFlagsArgs) -> HostnameRet, ro, Job;
        /// `virDomainFSFreeze`.
        335 DomainFsfreeze domain_fsfreeze(FsFreezeArgs) -> FsCountRet, rw, Job;
        /// `virDomainFSThaw`.
        336 DomainFsthaw domain_fsthaw(FsFreezeArgs) -> FsCountRet, rw, Job;
        /// `virDomainGetTime`.
        337 DomainGetTime domain_get_time(DomFlagsArgs) -> TimeRet, rw, Job;
        /// `virDomainSetTime`.
        338 DomainSetTime domain_set_time(SetTimeArgs) -> (), rw, Job;
        /// `virDomainGetFSInfo`.
        349 DomainGetFsinfo domain_get_fsinfo(DomFlagsArgs) -> FsInfoRet, rw, Job;
        /// `virDomainGetGuestInfo`.
        418 DomainGetGuestInfo domain_get_guest_info(GuestInfoArgs) -> GuestInfoRet, rw, Job;
        /// `virDomainSetUserPassword`.
        357 DomainSetUserPassword domain_set_user_password(SetUserPasswordArgs) -> (), rw, Job;
        /// `virDomainAuthorizedSSHKeysGet`.
        424 DomainAuthorizedSshKeysGet domain_authorized_ssh_keys_get(SshKeysGetArgs) -> SshKeysRet, rw, Job;
        /// `virDomainAuthorizedSSHKeysSet`.
        425 DomainAuthorizedSshKeysSet domain_authorized_ssh_keys_set(SshKeysSetArgs) -> (), rw, Job;
        // The guest's trim, vCPUs and power; bodies in `guestpm.rs`.
        /// `virDomainFSTrim`.
        294 DomainFstrim domain_fstrim(FsTrimArgs) -> (), rw, Job;
        /// `virDomainGetGuestVcpus`.
        371 DomainGetGuestVcpus domain_get_guest_vcpus(DomFlagsArgs) -> GuestVcpusRet, rw, Job;
        /// `virDomainSetGuestVcpus`.
        372 DomainSetGuestVcpus domain_set_guest_vcpus(SetGuestVcpusArgs) -> (), rw, Job;
        /// `virDomainPMSuspendForDuration`.
        261 DomainPmSuspendForDuration domain_pm_suspend_for_duration(PmSuspendArgs) -> (), rw, Job;
        /// `virDomainPMWakeup`.
        267 DomainPmWakeup domain_pm_wakeup(DomFlagsArgs) -> (), rw, Job;
        /// `virDomainAgentSetResponseTimeout`: no agent call, so no job.
        420 DomainAgentSetResponseTimeout domain_agent_set_response_timeout(AgentTimeoutArgs) -> AgentTimeoutRet, rw, Prio;

        // A disk's throttle and a domain's disk errors, the running QEMU's
        // through the driver; bodies in `drives.rs`.
        /// `virDomainGetBlockIoTune`.
        253 DomainGetBlockIoTune domain_get_block_io_tune(BlockIoTuneArgs) -> ParamsRet, ro, Job;
        /// `virDomainGetDiskErrors`.
        263 DomainGetDiskErrors domain_get_disk_errors(DiskErrorsArgs) -> DiskErrorsRet, ro, Job;

        // What the host can run; bodies in `hostcaps.rs`.
        /// `virConnectGetCPUModelNames`: the QEMU's models.
        312 ConnectGetCpuModelNames connect_get_cpu_model_names(CpuModelNamesArgs) -> CpuModelNamesRet, ro, Job;
        /// `virConnectGetStoragePoolCapabilities`: directories.
        403 ConnectGetStoragePoolCapabilities connect_get_storage_pool_capabilities(PoolCapsArgs) -> PoolCapsRet, ro, Quick;
        /// `virConnectDomainXMLToNative`: qemu-argv; libvirt allows it
        /// on a read-write connection only.
        136 ConnectDomainXmlToNative connect_domain_xml_to_native(XmlToNativeArgs) -> XmlToNativeRet, rw, Job;
        /// `virNodeGetSEVInfo`.
        395 NodeGetSevInfo node_get_sev_info(SevInfoArgs) -> SevInfoRet, ro, Job;

        // A disk's throttle changed, the domain's threads, its scheduler,
        // the host's SMBIOS, the migration speed, and peeks; bodies in
        // `drives.rs` and `threads.rs`.
        /// `virDomainSetBlockIoTune`.
        252 DomainSetBlockIoTune domain_set_block_io_tune(SetBlockIoTuneArgs) -> (), rw, Job;
        /// `virDomainSetInterfaceParameters`; its body in `iftune.rs`.
        256 DomainSetInterfaceParameters domain_set_interface_parameters(SetIfParamsArgs) -> (), rw, Job;
        /// `virDomainBlockResize`.
        251 DomainBlockResize domain_block_resize(BlockResizeArgs) -> (), rw, Job;
        /// `virDomainSetBlockThreshold`.
        386 DomainSetBlockThreshold domain_set_block_threshold(SetBlockThresholdArgs) -> (), rw, Job;
        /// `virDomainCoreDump`.
        53 DomainCoreDump domain_core_dump(CoreDumpArgs) -> (), rw, Job;
        /// `virDomainCoreDumpWithFormat`.
        334 DomainCoreDumpWithFormat domain_core_dump_with_format(CoreDumpFormatArgs) -> (), rw, Job;
        /// `virDomainGetIOThreadInfo`.
        351 DomainGetIothreadInfo domain_get_iothread_info(IoThreadInfoArgs) -> IoThreadInfoRet, ro, Job;
        /// `virConnectGetSysinfo`: the host's SMBIOS.
        203 ConnectGetSysinfo connect_get_sysinfo(SysinfoArgs) -> SysinfoRet, ro, Job;
        /// `virDomainGetSchedulerType`: "posix".
        56 DomainGetSchedulerType domain_get_scheduler_type(DomArgs) -> SchedTypeRet, ro, Quick;
        /// `virDomainGetSchedulerParameters`.
        57 DomainGetSchedulerParameters domain_get_scheduler_parameters(SchedParamsArgs) -> SchedParamsRet, ro, Prio;
        /// `virDomainSetSchedulerParameters`.
        58 DomainSetSchedulerParameters domain_set_scheduler_parameters(SetSchedArgs) -> (), rw, Job;
        /// `virDomainSetSchedulerParametersFlags`.
        219 DomainSetSchedulerParametersFlags domain_set_scheduler_parameters_flags(SetSchedFlagsArgs) -> (), rw, Job;
        /// `virDomainGetSchedulerParametersFlags`.
        223 DomainGetSchedulerParametersFlags domain_get_scheduler_parameters_flags(SchedParamsFlagsArgs) -> SchedParamsRet, ro, Prio;
        /// `virDomainBlockPeek`; libvirt allows it on a read-write
        /// connection only, as the memory's.
        103 DomainBlockPeek domain_block_peek(BlockPeekArgs) -> PeekRet, rw, Job;
        /// `virDomainMemoryPeek`.
        104 DomainMemoryPeek domain_memory_peek(MemoryPeekArgs) -> PeekRet, rw, Job;
        /// `virDomainMigrateSetMaxSpeed`.
        207 DomainMigrateSetMaxSpeed domain_migrate_set_max_speed(SetMaxSpeedArgs) -> (), rw, Prio;
        /// `virDomainMigrateGetMaxSpeed`; libvirt allows it on a
        /// read-write connection only.
        242 DomainMigrateGetMaxSpeed domain_migrate_get_max_speed(MaxSpeedArgs) -> MaxSpeedRet, rw, Quick;
        /// `virDomainMigrateSetMaxDowntime`.
        166 DomainMigrateSetMaxDowntime domain_migrate_set_max_downtime(SetMaxDowntimeArgs) -> (), rw, Job;
        /// `virDomainMigrateGetMaxDowntime`; allowed on a read-only
        /// connection, as libvirt allows it.
        387 DomainMigrateGetMaxDowntime domain_migrate_get_max_downtime(MaxDowntimeArgs) -> MaxDowntimeRet, ro, Job;
        /// `virDomainMigrateGetCompressionCache`; read-only too.
        299 DomainMigrateGetCompressionCache domain_migrate_get_compression_cache(CompressionCacheArgs) -> CompressionCacheRet, ro, Job;
        /// `virDomainMigrateSetCompressionCache`.
        300 DomainMigrateSetCompressionCache domain_migrate_set_compression_cache(SetCompressionCacheArgs) -> (), rw, Job;
        /// `virDomainMigrateStartPostCopy`.
        364 DomainMigrateStartPostCopy domain_migrate_start_post_copy(StartPostCopyArgs) -> (), rw, Job;
        /// `virDomainMigratePerform3Params`: peer to peer (`virsh
        /// migrate --p2p`), the whole migration (`migrate.rs`).
        305 DomainMigratePerform3Params domain_migrate_perform3_params(Perform3ParamsArgs) -> Perform3ParamsRet, rw, Job;
        /// `virDomainMigrateBegin3Params`, the first step of a migration
        /// the client drives (`migrate.rs`), on the source.
        302 DomainMigrateBegin3Params domain_migrate_begin3_params(Begin3ParamsArgs) -> Begin3ParamsRet, rw, Job;
        /// `virDomainMigratePrepare3Params`, on the destination.
        303 DomainMigratePrepare3Params domain_migrate_prepare3_params(Prepare3ParamsArgs) -> Prepare3ParamsRet, rw, Job;
        /// `virDomainMigrateFinish3Params`, on the destination.
        306 DomainMigrateFinish3Params domain_migrate_finish3_params(Finish3ParamsArgs) -> Finish3ParamsRet, rw, Job;
        /// `virDomainMigrateConfirm3Params`, on the source.
        307 DomainMigrateConfirm3Params domain_migrate_confirm3_params(Confirm3ParamsArgs) -> (), rw, Job;

        // vCPUs and the emulator pinned; bodies in `pins.rs`.
        /// `virDomainPinVcpu`.
        26 DomainPinVcpu domain_pin_vcpu(PinVcpuArgs) -> (), rw, Job;
        /// `virDomainPinVcpuFlags`.
        225 DomainPinVcpuFlags domain_pin_vcpu_flags(PinVcpuFlagsArgs) -> (), rw, Job;
        /// `virDomainPinEmulator`.
        279 DomainPinEmulator domain_pin_emulator(PinEmulatorArgs) -> (), rw, Job;

        // A domain's I/O threads changed; bodies in `threads.rs`.
        /// `virDomainAddIOThread`.
        355 DomainAddIothread domain_add_iothread(IoThreadIdArgs) -> (), rw, Job;
        /// `virDomainDelIOThread`.
        356 DomainDelIothread domain_del_iothread(IoThreadIdArgs) -> (), rw, Job;
        /// `virDomainPinIOThread`.
        352 DomainPinIothread domain_pin_iothread(PinIoThreadArgs) -> (), rw, Job;
        /// `virDomainSetIOThreadParams`.
        402 DomainSetIothreadParams domain_set_iothread_params(SetIoThreadParamsArgs) -> (), rw, Job;
        /// `virDomainSetLifecycleAction`; body in `lifecycle.rs`.
        390 DomainSetLifecycleAction domain_set_lifecycle_action(SetLifecycleActionArgs) -> (), rw, Job;
        /// `virDomainDetachDeviceAlias`; body in `devalias.rs`.
        392 DomainDetachDeviceAlias domain_detach_device_alias(DetachAliasArgs) -> (), rw, Job;
        // The definition in a save image; bodies in `saveimage.rs`.
        /// `virDomainSaveImageGetXMLDesc`: a host file by its path,
        /// read-write only as libvirt has it.
        235 DomainSaveImageGetXmlDesc domain_save_image_get_xml_desc(SaveImageXmlArgs) -> XmlRet, rw, Job;
        /// `virDomainSaveImageDefineXML`.
        236 DomainSaveImageDefineXml domain_save_image_define_xml(SaveImageDefineArgs) -> (), rw, Job;
        /// `virDomainManagedSaveGetXMLDesc`.
        388 DomainManagedSaveGetXmlDesc domain_managed_save_get_xml_desc(DomFlagsArgs) -> XmlRet,
            {ro_unless xml_secure => "a managed save image's XML with secrets (VIR_DOMAIN_SAVE_IMAGE_XML_SECURE)"}, Job;
        /// `virDomainManagedSaveDefineXML`.
        389 DomainManagedSaveDefineXml domain_managed_save_define_xml(ManagedSaveDefineArgs) -> (), rw, Job;
        // Saves and restores with a state or a new definition; bodies
        // in `saveparams.rs`.
        /// `virDomainSaveParams`.
        440 DomainSaveParams domain_save_params(SaveParamsArgs) -> (), rw, Job;
        /// `virDomainRestoreParams`.
        441 DomainRestoreParams domain_restore_params(RestoreParamsArgs) -> (), rw, Job;
        /// `virDomainAbortJobFlags`.
        442 DomainAbortJobFlags domain_abort_job_flags(DomFlagsArgs) -> (), rw, Prio;
        /// `virDomainStartDirtyRateCalc`; body in `dirtyrate.rs`.
        427 DomainStartDirtyRateCalc domain_start_dirty_rate_calc(DirtyRateCalcArgs) -> (), rw, Job;
    }
    host {
        // The host's network interfaces, as libvirt's udev interface
        // backend shows them (read-only); bodies in `ifaces.rs`.
        /// `virConnectNumOfInterfaces`: those up.
        126 ConnectNumOfInterfaces connect_num_of_interfaces(()) -> NumRet, ro, Quick = super::ifaces::num_active;
        /// `virConnectListInterfaces`: those up.
        127 ConnectListInterfaces connect_list_interfaces(ListNamesArgs) -> ListNamesRet, ro, Quick = super::ifaces::list_active;
        /// `virConnectNumOfDefinedInterfaces`: those down.
        137 ConnectNumOfDefinedInterfaces connect_num_of_defined_interfaces(()) -> NumRet, ro, Quick = super::ifaces::num_inactive;
        /// `virConnectListDefinedInterfaces`: those down.
        138 ConnectListDefinedInterfaces connect_list_defined_interfaces(ListNamesArgs) -> ListNamesRet, ro, Quick = super::ifaces::list_inactive;
        /// `virConnectListAllInterfaces`.
        284 ConnectListAllInterfaces connect_list_all_interfaces(ListAllArgs) -> ListIfacesRet, ro, Quick = super::ifaces::list_all;
        /// `virInterfaceLookupByName`.
        128 InterfaceLookupByName interface_lookup_by_name(NameArgs) -> IfaceRet, ro, Quick = super::ifaces::by_name;
        /// `virInterfaceLookupByMACString`.
        129 InterfaceLookupByMacString interface_lookup_by_mac_string(MacArgs) -> IfaceRet, ro, Quick = super::ifaces::by_mac;
        /// `virInterfaceGetXMLDesc`.
        130 InterfaceGetXmlDesc interface_get_xml_desc(IfaceFlagsArgs) -> XmlRet, ro, Quick = super::ifaces::xml_desc;
        /// `virInterfaceIsActive`.
        156 InterfaceIsActive interface_is_active(IfaceArgs) -> IntRet, ro, Quick = super::ifaces::is_active;
        /// `virInterfaceDefineXML`: refused.
        131 InterfaceDefineXml interface_define_xml(XmlFlagsArgs) -> IfaceRet, rw, Quick = super::ifaces::define_xml;
        /// `virInterfaceUndefine`: refused.
        132 InterfaceUndefine interface_undefine(IfaceArgs) -> (), rw, Quick = super::ifaces::undefine;
        /// `virInterfaceCreate`: refused.
        133 InterfaceCreate interface_create(IfaceFlagsArgs) -> (), rw, Quick = super::ifaces::create;
        /// `virInterfaceDestroy`: refused.
        134 InterfaceDestroy interface_destroy(IfaceFlagsArgs) -> (), rw, Quick = super::ifaces::destroy;
        /// `virInterfaceChangeBegin`: refused.
        220 InterfaceChangeBegin interface_change_begin(FlagsArgs) -> (), rw, Quick = super::ifaces::change_begin;
        /// `virInterfaceChangeCommit`: refused.
        221 InterfaceChangeCommit interface_change_commit(FlagsArgs) -> (), rw, Quick = super::ifaces::change_commit;
        /// `virInterfaceChangeRollback`: refused.
        222 InterfaceChangeRollback interface_change_rollback(FlagsArgs) -> (), rw, Quick = super::ifaces::change_rollback;

        // The host's devices, as libvirt's udev node device driver shows
        // them (read-only); bodies in `nodedevs.rs`. They read sysfs and
        // the PCI names, so they run on a worker.
        /// `virNodeNumOfDevices`.
        111 NodeNumOfDevices node_num_of_devices(NodeNumArgs) -> NumRet, ro, Job = super::nodedevs::num_of_devices;
        /// `virNodeListDevices`.
        112 NodeListDevices node_list_devices(NodeListArgs) -> ListNamesRet, ro, Job = super::nodedevs::list_devices;
        /// `virConnectListAllNodeDevices`.
        285 ConnectListAllNodeDevices connect_list_all_node_devices(ListAllArgs) -> ListNodeDevicesRet, ro, Job = super::nodedevs::list_all;
        /// `virNodeDeviceLookupByName`.
        113 NodeDeviceLookupByName node_device_lookup_by_name(NameArgs) -> NodeDeviceRet, ro, Job = super::nodedevs::by_name;
        /// `virNodeDeviceGetXMLDesc`.
        114 NodeDeviceGetXmlDesc node_device_get_xml_desc(NameFlagsArgs) -> XmlRet, ro, Job = super::nodedevs::xml_desc;
        /// `virNodeDeviceGetParent`: none for `computer`.
        115 NodeDeviceGetParent node_device_get_parent(NameArgs) -> ParentRet, ro, Job = super::nodedevs::parent;
        /// `virNodeDeviceNumOfCaps`.
        116 NodeDeviceNumOfCaps node_device_num_of_caps(NameArgs) -> NumRet, ro, Job = super::nodedevs::num_of_caps;
        /// `virNodeDeviceListCaps`.
        117 NodeDeviceListCaps node_device_list_caps(ListCapsArgs) -> ListNamesRet, ro, Job = super::nodedevs::list_caps;
        /// `virNodeDeviceGetAutostart`: a device the kernel shows has none.
        433 NodeDeviceGetAutostart node_device_get_autostart(NameArgs) -> IntRet, ro, Job = super::nodedevs::autostart;
        /// `virNodeDeviceIsPersistent`: no, the kernel shows it.
        435 NodeDeviceIsPersistent node_device_is_persistent(NameArgs) -> IntRet, ro, Job = super::nodedevs::is_persistent;
        /// `virNodeDeviceIsActive`: yes, the kernel shows it.
        436 NodeDeviceIsActive node_device_is_active(NameArgs) -> IntRet, ro, Job = super::nodedevs::is_active;
        /// `virNodeDeviceDettach`: refused.
        118 NodeDeviceDettach node_device_dettach(NameArgs) -> (), rw, Quick = super::nodedevs::dettach;
        /// `virNodeDeviceDetachFlags`: refused.
        301 NodeDeviceDetachFlags node_device_detach_flags(DetachFlagsArgs) -> (), rw, Quick = super::nodedevs::detach_flags;
        /// `virNodeDeviceReAttach`: refused.
        119 NodeDeviceReAttach node_device_re_attach(NameArgs) -> (), rw, Quick = super::nodedevs::re_attach;
        /// `virNodeDeviceReset`: refused.
        120 NodeDeviceReset node_device_reset(NameArgs) -> (), rw, Quick = super::nodedevs::reset;
        /// `virNodeDeviceCreateXML`: refused.
        123 NodeDeviceCreateXml node_device_create_xml(XmlFlagsArgs) -> NodeDeviceRet, rw, Quick = super::nodedevs::create_xml;
        /// `virNodeDeviceDestroy`: refused.
        124 NodeDeviceDestroy node_device_destroy(NameArgs) -> (), rw, Quick = super::nodedevs::destroy;
        /// `virNodeDeviceDefineXML`: refused.
        428 NodeDeviceDefineXml node_device_define_xml(XmlFlagsArgs) -> NodeDeviceRet, rw, Quick = super::nodedevs::define_xml;
        /// `virNodeDeviceUndefine`: refused.
        429 NodeDeviceUndefine node_device_undefine(NameFlagsArgs) -> (), rw, Quick = super::nodedevs::undefine;
        /// `virNodeDeviceCreate`: refused.
        430 NodeDeviceCreate node_device_create(NameFlagsArgs) -> (), rw, Quick = super::nodedevs::create;
        /// `virNodeDeviceSetAutostart`: refused.
        434 NodeDeviceSetAutostart node_device_set_autostart(SetAutostartNameArgs) -> (), rw, Quick = super::nodedevs::set_autostart;

        // Network filters: qvirt has no filter driver, so none exist;
        // bodies in `absent.rs`.
        /// `virConnectNumOfNWFilters`: 0.
        178 ConnectNumOfNwfilters connect_num_of_nwfilters(()) -> NumRet, ro, Quick = super::absent::num_of_nwfilters;
        /// `virConnectListNWFilters`: none.
        179 ConnectListNwfilters connect_list_nwfilters(ListNamesArgs) -> ListNamesRet, ro, Quick = super::absent::list_nwfilters;
        /// `virConnectListAllNWFilters`: none.
        286 ConnectListAllNwfilters connect_list_all_nwfilters(ListAllArgs) -> ListNwfiltersRet, ro, Quick = super::absent::list_all_nwfilters;
        /// `virNWFilterLookupByName`: `VIR_ERR_NO_NWFILTER`.
        175 NwfilterLookupByName nwfilter_lookup_by_name(NameArgs) -> NwfilterRet, ro, Quick = super::absent::nwfilter_by_name;
        /// `virNWFilterLookupByUUID`: `VIR_ERR_NO_NWFILTER`.
        176 NwfilterLookupByUuid nwfilter_lookup_by_uuid(UuidArgs) -> NwfilterRet, ro, Quick = super::absent::nwfilter_by_uuid;
        /// `virNWFilterGetXMLDesc`: `VIR_ERR_NO_NWFILTER`.
        177 NwfilterGetXmlDesc nwfilter_get_xml_desc(NwfilterFlagsArgs) -> XmlRet, ro, Quick = super::absent::nwfilter_xml;
        /// `virConnectListAllNWFilterBindings`: none.
        401 ConnectListAllNwfilterBindings connect_list_all_nwfilter_bindings(ListAllArgs) -> ListBindingsRet, ro, Quick = super::absent::list_all_bindings;
        /// `virNWFilterBindingLookupByPortDev`: `VIR_ERR_NO_NWFILTER_BINDING`.
        397 NwfilterBindingLookupByPortDev nwfilter_binding_lookup_by_port_dev(NameArgs) -> BindingRet, ro, Quick = super::absent::binding_by_port;
        /// `virNWFilterDefineXML`: refused.
        180 NwfilterDefineXml nwfilter_define_xml(XmlArgs) -> NwfilterRet, rw, Quick = super::absent::nwfilter_define;
        /// `virNWFilterDefineXMLFlags`: refused.
        431 NwfilterDefineXmlFlags nwfilter_define_xml_flags(XmlFlagsArgs) -> NwfilterRet, rw, Quick = super::absent::nwfilter_define_flags;
        /// `virNWFilterUndefine`: refused.
        181 NwfilterUndefine nwfilter_undefine(NwfilterArgs) -> (), rw, Quick = super::absent::nwfilter_undefine;
        /// `virNWFilterBindingCreateXML`: refused.
        399 NwfilterBindingCreateXml nwfilter_binding_create_xml(XmlFlagsArgs) -> BindingRet, rw, Quick = super::absent::binding_create;
        /// `virNWFilterBindingDelete`: refused.
        400 NwfilterBindingDelete nwfilter_binding_delete(BindingArgs) -> (), rw, Quick = super::absent::binding_delete;
    }
}

/// `VIR_DOMAIN_XML_SECURE`.
pub const XML_SECURE: u32 = 1;

/// Whether a `GetXMLDesc` call asks for secrets.
fn xml_secure(a: &DomFlagsArgs) -> bool {
    a.flags & XML_SECURE != 0
}

/// The error for a reply to another procedure than the call's.
fn mismatch(asked: Procedure, got: Procedure) -> Error {
    Error::new(
        ErrorCode::Protocol,
        format!(
            "the daemon answered {} to a call of {}",
            got.name(),
            asked.name()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_match_libvirts_names() {
        for p in Procedure::ALL {
            assert_eq!(Procedure::from_number(p.number()), Some(*p));
            // The variant's name is libvirt's name in CamelCase.
            let camel: String = p
                .name()
                .split('_')
                .map(|w| {
                    let mut c = w.chars();
                    let first = c.next().unwrap_or_default();
                    first.to_string() + &c.as_str().to_lowercase()
                })
                .collect();
            assert_eq!(format!("{p:?}"), camel, "procedure {}", p.number());
        }
    }

    #[test]
    fn unknown_procedures_are_named() {
        let e = Call::decode(68, &[]).unwrap_err();
        assert_eq!(e.code, ErrorCode::NoSupport);
        assert!(e.message.contains("AUTH_SASL_START"), "{}", e.message);
        assert!(
            Call::decode(9999, &[])
                .unwrap_err()
                .message
                .contains("#9999")
        );
    }
}
