//! One sample of every message the wire carries: each call, each
//! procedure's successful reply, an error reply per code, each event kind
//! and reason, and each stream message. The golden file holds their
//! encodings, so the lists below must name every variant: the exhaustive
//! matches make a new variant a compile error here until it has a sample.

use std::time::Duration;

#[path = "replies.rs"]
mod replies;
pub use replies::{reply_for, reply_shape};

use qvirt::transport::types_agent::{WireAgentAnswer, WireAgentCall};
use qvirt::transport::types_changes::{
    WireBlockCopy, WireIoThreadChange, WireSaveImage, WireSaveState,
};
use qvirt::transport::wire::{
    Bytes, Call, Frame, Header, Kind, PROTOCOL_VERSION, Procedure, Reply, StreamMsg,
    WireBalloonStats, WireBlockStats, WireCompletedJob, WireDomain, WireError, WireEvent,
    WireIncomingDisk, WireIncomingParams, WireIncomingReady, WireIncomingState, WireInfo,
    WireInterfaceAddresses, WireInterfaceStats, WireJobInfo, WireJobKind, WireListFilter,
    WireMedia, WireMediaFlags, WireMetadataKind, WireMigrateOptions, WireModifyFlags, WireNode,
    WireReason, WireSaveOptions, WireShutdown, WireState, WireStats, WireSummary,
    WireUndefineFlags, WireVcpuStats, WireVersion, encode_event, encode_stream,
};
use qvirt::transport::wire::{WireBlkioTuneChange, WireDiskRuntime, WireMemTuneChange};
use qvirt::transport::wire::{
    WireBlockInfo, WireBlockJobInfo, WireBlockJobKind, WirePool, WirePoolInfo, WirePoolState,
    WirePoolSummary, WireSecret, WireSecretUsage, WireSnapshot, WireSnapshotInfo,
    WireSnapshotState, WireVolume, WireVolumeFormat, WireVolumeInfo,
};
use qvirt::transport::wire::{WireDumpFormat, WireDumpOptions};
use qvirt::{Error, ErrorCode};
use uuid::Uuid;

/// What a sample frame carries.
#[derive(Debug, Clone)]
pub enum Msg {
    /// A call.
    Call(Call),
    /// The reply to `procedure`: a payload or an error's (code, message).
    Reply(u32, Result<Reply, (ErrorCode, String)>),
    /// An event of the subscription opened by `events`.
    Event(WireEvent),
    /// Console data of the console opened by `console`.
    Stream(StreamMsg),
}

/// One named message with the serial its frame carries.
#[derive(Debug, Clone)]
pub struct Sample {
    /// The name of its golden line.
    pub name: String,
    /// The header serial.
    pub serial: u32,
    /// The message.
    pub msg: Msg,
}

impl Sample {
    /// The frame the real encoders make of this sample.
    pub fn frame(&self) -> Frame {
        let (kind, procedure, body) = match &self.msg {
            Msg::Call(c) => {
                let (p, body) = c.encode();
                (Kind::Call, p, body)
            }
            Msg::Reply(p, r) => {
                let r = r.clone().map_err(|(code, m)| Error::new(code, m));
                (Kind::Reply, *p, Reply::encode(&r))
            }
            Msg::Event(e) => (Kind::Event, Procedure::Events.number(), encode_event(e)),
            Msg::Stream(s) => (Kind::Stream, Procedure::Console.number(), encode_stream(s)),
        };
        Frame {
            header: Header {
                version: PROTOCOL_VERSION,
                kind,
                procedure,
                serial: self.serial,
            },
            body,
        }
    }
}

/// The UUID every sample domain has.
pub fn sample_uuid() -> Uuid {
    Uuid::from_u128(0x6d1c_3f2e_a4b5_4c6d_8e7f_0123_4567_89ab)
}

/// A running sample domain.
pub fn running() -> WireDomain {
    WireDomain {
        name: "alpha".into(),
        uuid: sample_uuid(),
        id: Some(7),
    }
}

/// The same domain shut off.
pub fn shut_off() -> WireDomain {
    WireDomain {
        id: None,
        ..running()
    }
}

/// A firmware-only domain's XML.
pub const XML: &str = "<domain type='qemu'><name>alpha</name><memory unit='MiB'>32</memory>\
<vcpu>1</vcpu><os><type arch='x86_64' machine='pc'>hvm</type></os>\
<devices><memballoon model='none'/></devices></domain>";

/// The save file path the samples use.
const SAVE_PATH: &[u8] = b"/var/tmp/alpha.save";

/// A pool handle.
fn pool() -> WirePool {
    WirePool {
        name: "default".into(),
        uuid: Uuid::from_u128(0x0b1c_2d3e_4f50_4a6b_8c7d_8e9f_a0b1_c2d3),
    }
}

/// A volume handle.
fn vol() -> WireVolume {
    WireVolume {
        pool: "default".into(),
        name: "data.qcow2".into(),
        path: b"/var/lib/qvirt/images/data.qcow2".to_vec(),
    }
}

/// A snapshot handle.
fn snap() -> WireSnapshot {
    WireSnapshot {
        domain: running(),
        name: "before-upgrade".into(),
    }
}

/// A secret handle (a Ceph client's key).
fn secret() -> WireSecret {
    WireSecret {
        uuid: Uuid::from_u128(0x0a81_f5b2_8403_4b23_88d6_21cc_c2f8_0d6f),
        usage: WireSecretUsage::Ceph,
        usage_id: "client.admin secret".into(),
    }
}

/// A secret's value: any bytes, NUL and 0xff among them.
const SECRET_VALUE: &[u8] = b"AQC\x00key\xff\n";

/// A `<secret>` document.
const SECRET_XML: &str = "<secret ephemeral='no' private='no'>\
<uuid>0a81f5b2-8403-4b23-88d6-21ccc2f80d6f</uuid>\
<usage type='ceph'><name>client.admin secret</name></usage></secret>";

/// A `<volume>` document.
const VOL_XML: &str = "<volume><name>data.qcow2</name><capacity unit='MiB'>64</capacity>\
<target><format type='qcow2'/></target></volume>";

/// One call per procedure, in procedure order.
pub fn calls() -> Vec<Call> {
    let d = running;
    let off = shut_off;
    vec![
        Call::Hello(u32::from(PROTOCOL_VERSION)),
        Call::Version(()),
        Call::NodeInfo(()),
        Call::Capabilities(()),
        Call::List(WireListFilter {
            active: true,
            inactive: false,
        }),
        Call::LookupByName("alpha".into()),
        Call::LookupByUuid(sample_uuid()),
        Call::LookupById(7),
        Call::DefineXml(XML.into()),
        Call::Undefine(off()),
        Call::CreateXml(XML.into()),
        Call::Start(off()),
        Call::Shutdown((
            d(),
            WireShutdown {
                wait: Some(Duration::new(5, 250_000_000)),
                destroy_on_timeout: true,
            },
        )),
        Call::Destroy(d()),
        Call::Reboot(d()),
        Call::Reset(d()),
        Call::Suspend(d()),
        Call::Resume(d()),
        Call::Save((d(), SAVE_PATH.to_vec())),
        Call::Restore(SAVE_PATH.to_vec()),
        Call::ManagedSave(d()),
        Call::ManagedSaveRemove(off()),
        Call::Autostart(off()),
        Call::SetAutostart((off(), true)),
        Call::Info(d()),
        Call::XmlDesc((d(), 1)),
        Call::Events(()),
        Call::Console((d(), false)),
        Call::ChangeMedia((
            d(),
            "hdc".into(),
            WireMedia::Insert(b"/var/tmp/install.iso".to_vec()),
            WireMediaFlags {
                live: true,
                config: false,
            },
        )),
        Call::Screenshot(d()),
        Call::JobInfo(d()),
        Call::JobAbort(d()),
        Call::SaveWith((
            d(),
            SAVE_PATH.to_vec(),
            WireSaveOptions {
                bandwidth_mib_s: Some(64),
            },
        )),
        Call::ManagedSaveWith((
            d(),
            WireSaveOptions {
                bandwidth_mib_s: None,
            },
        )),
        Call::UndefineFlags((
            off(),
            WireUndefineFlags {
                nvram: true,
                keep_nvram: false,
                tpm: false,
                keep_tpm: true,
            },
        )),
        Call::Migrate((
            d(),
            "qemu+ssh://tester@10.0.3.2/system".into(),
            WireMigrateOptions {
                live: true,
                persistent: true,
                undefine_source: false,
                copy_storage_all: false,
                migrate_uri: Some("tcp://10.0.3.2:49200".into()),
                dest_xml: None,
                bandwidth_mib_s: Some(100),
                timeout: Some(Duration::from_secs(30)),
                timeout_postcopy: false,
                postcopy: true,
            },
        )),
        Call::MigrateIncoming(WireIncomingParams {
            xml: XML.into(),
            listen: Some("10.0.3.2".into()),
            port: None,
            disks: vec![WireIncomingDisk {
                target: "vda".into(),
                size: 1 << 30,
            }],
        }),
        Call::MigrateFinish((sample_uuid(), true, Some(XML.into()))),
        Call::MigrateAbortIncoming(sample_uuid()),
        Call::MigrateIncomingState(sample_uuid()),
        Call::SetMemory((
            d(),
            524_288,
            WireModifyFlags {
                live: true,
                config: false,
            },
        )),
        Call::SetMaxMemory((
            d(),
            1 << 21,
            WireModifyFlags {
                live: false,
                config: true,
            },
        )),
        Call::SetVcpus((
            d(),
            2,
            WireModifyFlags {
                live: true,
                config: true,
            },
        )),
        Call::SetMaxVcpus((
            d(),
            8,
            WireModifyFlags {
                live: false,
                config: true,
            },
        )),
        Call::Stats(d()),
        Call::QemuMonitorCommand((d(), "{\"execute\":\"query-status\"}".into())),
        Call::ListPools(()),
        Call::PoolLookupByName("default".into()),
        Call::PoolDefineXml(
            "<pool type='dir'><name>p</name><target><path>/srv/p</path></target></pool>".into(),
        ),
        Call::PoolBuild(pool()),
        Call::PoolStart(pool()),
        Call::PoolDestroy(pool()),
        Call::PoolUndefine(pool()),
        Call::PoolInfo(pool()),
        Call::PoolRefresh(pool()),
        Call::PoolXml(pool()),
        Call::PoolSetAutostart((pool(), true)),
        Call::ListVolumes(pool()),
        Call::VolLookupByName((pool(), "data.qcow2".into())),
        Call::VolLookupByPath(b"/var/lib/qvirt/images/data.qcow2".to_vec()),
        Call::VolCreateXml((pool(), VOL_XML.into())),
        Call::VolClone((pool(), VOL_XML.into(), vol())),
        Call::VolDelete(vol()),
        Call::VolInfo(vol()),
        Call::VolXml(vol()),
        Call::VolResize((vol(), 128 << 20, 4)),
        Call::SnapshotCreateXml((
            d(),
            "<domainsnapshot><name>before-upgrade</name></domainsnapshot>".into(),
            16,
        )),
        Call::SnapshotList(d()),
        Call::SnapshotLookup((d(), "before-upgrade".into())),
        Call::SnapshotCurrent(d()),
        Call::SnapshotInfo(snap()),
        Call::SnapshotXml(snap()),
        Call::SnapshotRevert((snap(), 1)),
        Call::SnapshotDelete((snap(), 2)),
        Call::BlockCommit((d(), "vda".into(), 4)),
        Call::BlockPull((d(), "vda".into())),
        Call::BlockJobInfo((d(), "vda".into())),
        Call::BlockJobAbort((d(), "vda".into(), true)),
        Call::BlockInfo((d(), "vda".into())),
        Call::UndefineSnapshots((
            off(),
            WireUndefineFlags {
                nvram: false,
                keep_nvram: false,
                tpm: false,
                keep_tpm: false,
            },
        )),
        Call::Messages(d()),
        Call::StartPaused(off()),
        Call::Rename((off(), "beta".into())),
        Call::SetMetadata((
            d(),
            WireMetadataKind::Element {
                uri: "http://example.org/app/1".into(),
                key: Some("app".into()),
            },
            Some("<cfg a='1'/>".into()),
            WireModifyFlags {
                live: true,
                config: true,
            },
        )),
        Call::Metadata((d(), WireMetadataKind::Title, false)),
        Call::SendKey((d(), 0, 100, vec![56, 99, 35])),
        Call::InterfaceAddresses((d(), 2)),
        Call::JobCompleted(d()),
        Call::AttachDevice((
            d(),
            "<disk type='file'><source file='/x.img'/><target dev='vdb'/></disk>".into(),
            WireModifyFlags {
                live: true,
                config: true,
            },
        )),
        Call::DetachDevice((
            d(),
            "<interface type='user'/>".into(),
            WireModifyFlags {
                live: false,
                config: true,
            },
        )),
        Call::StartWith((off(), 3)),
        Call::DomainCapabilities((None, Some("x86_64".into()), Some("q35".into()), None)),
        Call::VolCreateWith((pool(), VOL_XML.into(), Some(vol()), 1)),
        Call::SetMemoryStatsPeriod((
            d(),
            5,
            WireModifyFlags {
                live: true,
                config: true,
            },
        )),
        Call::ListSecrets(()),
        Call::SecretLookupByUuid(secret().uuid),
        Call::SecretLookupByUsage((WireSecretUsage::Iscsi, "iqn.2013-07.com.example:t1".into())),
        Call::SecretDefineXml(SECRET_XML.into()),
        Call::SecretXml(secret()),
        Call::SecretSetValue((secret(), Bytes(SECRET_VALUE.to_vec()))),
        Call::SecretGetValue(secret()),
        Call::SecretUndefine(secret()),
        Call::SetMemtune((
            d(),
            WireMemTuneChange {
                hard_limit_kib: Some(262_144),
                soft_limit_kib: None,
                swap_hard_limit_kib: Some((1 << 53) - 1),
            },
            WireModifyFlags {
                live: true,
                config: false,
            },
        )),
        Call::SetBlkiotune((
            d(),
            WireBlkioTuneChange {
                weight: Some(500),
                device_weight: vec![("/dev/sda".into(), 300)],
                device_read_iops_sec: vec![("/dev/sda".into(), 100), ("/dev/sdb".into(), 0)],
                device_write_iops_sec: vec![],
                device_read_bytes_sec: vec![("/dev/loop0".into(), 1_048_576)],
                device_write_bytes_sec: vec![("/dev/loop0".into(), 0)],
            },
            WireModifyFlags {
                live: false,
                config: true,
            },
        )),
        Call::InjectNmi(d()),
        Call::DiskRuntime(d()),
        Call::DomainXmlToNative(("qemu-argv".into(), "<domain/>".into())),
        Call::SetBlockIotune((
            d(),
            "vda".into(),
            vec![
                ("total_bytes_sec".into(), 1_048_576),
                ("write_iops_sec".into(), 0),
            ],
            Some("g1".into()),
            WireModifyFlags {
                live: true,
                config: true,
            },
        )),
        Call::Iothreads(d()),
        Call::MigrateMaxSpeed(d()),
        Call::MigrateSetMaxSpeed((d(), 64)),
        Call::BlockPeek((d(), "vda".into(), 512, 16)),
        Call::MemoryPeek((d(), 0x1000, 16, true)),
        Call::AgentCall((d(), WireAgentCall::FsFreeze(vec!["/mnt/d".into()]))),
        Call::BlockResize((d(), "vda".into(), 16 << 20)),
        Call::CoreDump((
            d(),
            b"/var/tmp/a.core".to_vec(),
            WireDumpOptions {
                format: WireDumpFormat::KdumpZlib,
                memory_only: true,
                live: false,
                crash: false,
                reset: true,
            },
        )),
        Call::ChangeIothread((
            d(),
            WireIoThreadChange::Pin(2, vec![0, 3]),
            WireModifyFlags {
                live: true,
                config: false,
            },
        )),
        Call::SetLifecycleAction((
            d(),
            1,
            "destroy".into(),
            WireModifyFlags {
                live: true,
                config: true,
            },
        )),
        Call::SaveImageXml((WireSaveImage::File("/tmp/a.save".into()), false)),
        Call::SaveImageDefine((WireSaveImage::Managed(d()), "<domain/>".into(), Some(false))),
        Call::DirtyRateCalc((d(), 1, "page-sampling".into())),
        Call::DirtyRate(d()),
        Call::SetVcpu((
            d(),
            vec![2, 3],
            true,
            WireModifyFlags {
                live: true,
                config: false,
            },
        )),
        Call::DetachDeviceAlias((
            d(),
            "ua-disk1".into(),
            WireModifyFlags {
                live: true,
                config: false,
            },
        )),
        Call::PmWakeup(d()),
        Call::MigrateMaxDowntime(d()),
        Call::MigrateSetMaxDowntime((d(), 250)),
        Call::MigrateCompressionCache(d()),
        Call::MigrateSetCompressionCache((d(), 8 << 20)),
        Call::SetBlockThreshold((d(), "vda".into(), 1 << 20)),
        Call::MigrateStartPostcopy(d()),
        Call::UpdateDevice((
            d(),
            "<interface type='user'><mac address='52:54:00:12:34:56'/><link state='down'/></interface>"
                .into(),
            WireModifyFlags {
                live: true,
                config: true,
            },
        )),
        Call::PinCpus((
            d(),
            Some(1),
            vec![0, 2, 3],
            WireModifyFlags {
                live: true,
                config: false,
            },
        )),
        Call::MigratePerform((
            d(),
            "tcp:10.0.3.2:49153".into(),
            WireMigrateOptions {
                live: true,
                persistent: false,
                undefine_source: false,
                copy_storage_all: false,
                migrate_uri: None,
                dest_xml: None,
                bandwidth_mib_s: Some(64),
                timeout: None,
                timeout_postcopy: false,
                postcopy: false,
            },
        )),
        Call::MigrateConfirm((d(), 1, false)),
        Call::BlockJobSetSpeed((d(), "vda".into(), 8 << 20)),
        Call::BlockCopy((
            d(),
            "vda".into(),
            WireBlockCopy {
                dest: b"/var/lib/qvirt/images/copy.qcow2".to_vec(),
                format: Some(WireVolumeFormat::Qcow2),
                bandwidth: 1 << 20,
                granularity: 65536,
                buf_size: 0,
                flags: 1 | 4,
            },
        )),
        Call::SaveState((
            d(),
            Some(b"/var/lib/qvirt/save/demo.sav".to_vec()),
            WireSaveOptions {
                bandwidth_mib_s: None,
            },
            WireSaveState {
                running: Some(false),
                xml: Some("<domain type='qemu'/>".into()),
            },
        )),
        Call::RestoreWith((
            b"/var/lib/qvirt/save/demo.sav".to_vec(),
            WireSaveState {
                running: Some(true),
                xml: None,
            },
        )),
    ]
}

/// The snake-case name of a call's procedure, written out here apart from
/// the table. Exhaustive on purpose: a new call does not compile here
/// until it has a sample.
pub fn call_name(call: &Call) -> &'static str {
    match call {
        Call::Hello(_) => "hello",
        Call::Version(_) => "version",
        Call::NodeInfo(_) => "node_info",
        Call::Capabilities(_) => "capabilities",
        Call::List(_) => "list",
        Call::LookupByName(_) => "lookup_by_name",
        Call::LookupByUuid(_) => "lookup_by_uuid",
        Call::LookupById(_) => "lookup_by_id",
        Call::DefineXml(_) => "define_xml",
        Call::Undefine(_) => "undefine",
        Call::CreateXml(_) => "create_xml",
        Call::Start(_) => "start",
        Call::Shutdown(..) => "shutdown",
        Call::Destroy(_) => "destroy",
        Call::Reboot(_) => "reboot",
        Call::Reset(_) => "reset",
        Call::Suspend(_) => "suspend",
        Call::Resume(_) => "resume",
        Call::Save(..) => "save",
        Call::Restore(_) => "restore",
        Call::ManagedSave(_) => "managed_save",
        Call::ManagedSaveRemove(_) => "managed_save_remove",
        Call::Autostart(_) => "autostart",
        Call::SetAutostart(..) => "set_autostart",
        Call::Info(_) => "info",
        Call::XmlDesc(..) => "xml_desc",
        Call::Events(_) => "events",
        Call::Console(..) => "console",
        Call::ChangeMedia(..) => "change_media",
        Call::Screenshot(_) => "screenshot",
        Call::JobInfo(_) => "job_info",
        Call::JobAbort(_) => "job_abort",
        Call::SaveWith(..) => "save_with",
        Call::ManagedSaveWith(..) => "managed_save_with",
        Call::UndefineFlags(..) => "undefine_flags",
        Call::Migrate(..) => "migrate",
        Call::MigrateIncoming(_) => "migrate_incoming",
        Call::MigrateFinish(..) => "migrate_finish",
        Call::MigrateAbortIncoming(_) => "migrate_abort_incoming",
        Call::MigrateIncomingState(_) => "migrate_incoming_state",
        Call::SetMemory(..) => "set_memory",
        Call::SetMaxMemory(..) => "set_max_memory",
        Call::SetVcpus(..) => "set_vcpus",
        Call::SetMaxVcpus(..) => "set_max_vcpus",
        Call::Stats(_) => "stats",
        Call::QemuMonitorCommand(..) => "qemu_monitor_command",
        Call::ListPools(_) => "list_pools",
        Call::PoolLookupByName(_) => "pool_lookup_by_name",
        Call::PoolDefineXml(_) => "pool_define_xml",
        Call::PoolBuild(_) => "pool_build",
        Call::PoolStart(_) => "pool_start",
        Call::PoolDestroy(_) => "pool_destroy",
        Call::PoolUndefine(_) => "pool_undefine",
        Call::PoolInfo(_) => "pool_info",
        Call::PoolRefresh(_) => "pool_refresh",
        Call::PoolXml(_) => "pool_xml",
        Call::PoolSetAutostart(..) => "pool_set_autostart",
        Call::ListVolumes(_) => "list_volumes",
        Call::VolLookupByName(..) => "vol_lookup_by_name",
        Call::VolLookupByPath(_) => "vol_lookup_by_path",
        Call::VolCreateXml(..) => "vol_create_xml",
        Call::VolClone(..) => "vol_clone",
        Call::VolDelete(_) => "vol_delete",
        Call::VolInfo(_) => "vol_info",
        Call::VolXml(_) => "vol_xml",
        Call::VolResize(..) => "vol_resize",
        Call::SnapshotCreateXml(..) => "snapshot_create_xml",
        Call::SnapshotList(_) => "snapshot_list",
        Call::SnapshotLookup(..) => "snapshot_lookup",
        Call::SnapshotCurrent(_) => "snapshot_current",
        Call::SnapshotInfo(_) => "snapshot_info",
        Call::SnapshotXml(_) => "snapshot_xml",
        Call::SnapshotRevert(..) => "snapshot_revert",
        Call::SnapshotDelete(..) => "snapshot_delete",
        Call::BlockCommit(..) => "block_commit",
        Call::BlockPull(..) => "block_pull",
        Call::BlockJobInfo(..) => "block_job_info",
        Call::BlockJobAbort(..) => "block_job_abort",
        Call::BlockInfo(..) => "block_info",
        Call::UndefineSnapshots(..) => "undefine_snapshots",
        Call::Messages(..) => "messages",
        Call::StartPaused(..) => "start_paused",
        Call::Rename(..) => "rename",
        Call::SetMetadata(..) => "set_metadata",
        Call::Metadata(..) => "metadata",
        Call::SendKey(..) => "send_key",
        Call::InterfaceAddresses(..) => "interface_addresses",
        Call::JobCompleted(..) => "job_completed",
        Call::AttachDevice(..) => "attach_device",
        Call::DetachDevice(..) => "detach_device",
        Call::StartWith(..) => "start_with",
        Call::DomainCapabilities(..) => "domain_capabilities",
        Call::VolCreateWith(..) => "vol_create_with",
        Call::SetMemoryStatsPeriod(..) => "set_memory_stats_period",
        Call::ListSecrets(_) => "list_secrets",
        Call::SecretLookupByUuid(_) => "secret_lookup_by_uuid",
        Call::SecretLookupByUsage(..) => "secret_lookup_by_usage",
        Call::SecretDefineXml(_) => "secret_define_xml",
        Call::SecretXml(_) => "secret_xml",
        Call::SecretSetValue(..) => "secret_set_value",
        Call::SecretGetValue(_) => "secret_get_value",
        Call::SecretUndefine(_) => "secret_undefine",
        Call::SetMemtune(..) => "set_memtune",
        Call::SetBlkiotune(..) => "set_blkiotune",
        Call::InjectNmi(..) => "inject_nmi",
        Call::DiskRuntime(..) => "disk_runtime",
        Call::DomainXmlToNative(..) => "domain_xml_to_native",
        Call::SetBlockIotune(..) => "set_block_iotune",
        Call::Iothreads(..) => "iothreads",
        Call::MigrateMaxSpeed(..) => "migrate_max_speed",
        Call::MigrateSetMaxSpeed(..) => "migrate_set_max_speed",
        Call::BlockPeek(..) => "block_peek",
        Call::MemoryPeek(..) => "memory_peek",
        Call::AgentCall(..) => "agent_call",
        Call::BlockResize(..) => "block_resize",
        Call::CoreDump(..) => "core_dump",
        Call::ChangeIothread(..) => "change_iothread",
        Call::SetLifecycleAction(..) => "set_lifecycle_action",
        Call::SaveImageXml(..) => "save_image_xml",
        Call::SaveImageDefine(..) => "save_image_define",
        Call::DirtyRateCalc(..) => "dirty_rate_calc",
        Call::DirtyRate(..) => "dirty_rate",
        Call::SetVcpu(..) => "set_vcpu",
        Call::DetachDeviceAlias(..) => "detach_device_alias",
        Call::PmWakeup(..) => "pm_wakeup",
        Call::MigrateMaxDowntime(..) => "migrate_max_downtime",
        Call::MigrateSetMaxDowntime(..) => "migrate_set_max_downtime",
        Call::MigrateCompressionCache(..) => "migrate_compression_cache",
        Call::MigrateSetCompressionCache(..) => "migrate_set_compression_cache",
        Call::SetBlockThreshold(..) => "set_block_threshold",
        Call::MigrateStartPostcopy(..) => "migrate_start_postcopy",
        Call::UpdateDevice(..) => "update_device",
        Call::PinCpus(..) => "pin_cpus",
        Call::MigratePerform(..) => "migrate_perform",
        Call::MigrateConfirm(..) => "migrate_confirm",
        Call::BlockJobSetSpeed(..) => "block_job_set_speed",
        Call::BlockCopy(..) => "block_copy",
        Call::SaveState(..) => "save_state",
        Call::RestoreWith(..) => "restore_with",
    }
}

/// Every error code this build knows, plus one it does not.
pub fn error_codes() -> Vec<ErrorCode> {
    let codes = vec![
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
        ErrorCode::AgentUnresponsive,
        ErrorCode::ArgumentUnsupported,
        ErrorCode::Unknown(4242),
    ];
    // Exhaustive, so a new code needs a sample before this compiles.
    for c in &codes {
        match c {
            ErrorCode::Internal
            | ErrorCode::InvalidArgument
            | ErrorCode::InvalidXml
            | ErrorCode::ConfigUnsupported
            | ErrorCode::ConfigInvalid
            | ErrorCode::NoDomain
            | ErrorCode::DomainExists
            | ErrorCode::OperationInvalid
            | ErrorCode::OperationDenied
            | ErrorCode::OperationFailed
            | ErrorCode::QemuFailed
            | ErrorCode::Io
            | ErrorCode::Protocol
            | ErrorCode::Timeout
            | ErrorCode::NoSupport
            | ErrorCode::LimitExceeded
            | ErrorCode::ResourceBusy
            | ErrorCode::OperationAborted
            | ErrorCode::NoPool
            | ErrorCode::NoVolume
            | ErrorCode::NoSnapshot
            | ErrorCode::NoSecret
            | ErrorCode::AgentUnresponsive
            | ErrorCode::ArgumentUnsupported
            | ErrorCode::Unknown(_) => {}
        }
    }
    codes
}

/// Every sample, in golden-file order.
pub fn all() -> Vec<Sample> {
    let mut out = Vec::new();
    for call in calls() {
        let (p, _) = call.encode();
        out.push(Sample {
            name: format!("call.{p:02}.{}", call_name(&call)),
            serial: 100 + p,
            msg: Msg::Call(call),
        });
    }
    for call in calls() {
        let (p, _) = call.encode();
        let reply = reply_for(p);
        out.push(Sample {
            name: format!("reply.{p:02}.{}.{}", call_name(&call), reply_shape(&reply)),
            serial: 100 + p,
            msg: Msg::Reply(p, Ok(reply)),
        });
    }
    for code in error_codes() {
        out.push(Sample {
            name: format!("reply.error.{}.{}", code.name(), code.number()),
            serial: 106,
            msg: Msg::Reply(6, Err((code, format!("sample {} error", code.name())))),
        });
    }
    for (name, kind) in crate::event_samples::event_kinds() {
        out.push(Sample {
            name: format!("event.{name}"),
            serial: 127,
            msg: Msg::Event(WireEvent {
                domain: running(),
                kind,
            }),
        });
    }
    let streams = [
        (
            "data",
            StreamMsg::Data(b"SeaBIOS\r\n\x1b[0m\x00\xff".to_vec()),
        ),
        ("end", StreamMsg::End(None)),
        (
            "end_error",
            StreamMsg::End(Some(WireError {
                code: ErrorCode::OperationFailed.number(),
                message: "the console closed".into(),
            })),
        ),
        ("written", StreamMsg::Written),
        ("lost", StreamMsg::Lost(300)),
    ];
    for (name, msg) in streams {
        out.push(Sample {
            name: format!("stream.{name}"),
            serial: 128,
            msg: Msg::Stream(msg),
        });
    }
    out
}
