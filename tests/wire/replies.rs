//! The successful reply of every procedure, and the name of each reply's
//! shape (as the golden file names it).

use super::*;

/// Every domain state, one summary each. Exhaustive on purpose.
fn summaries() -> Vec<WireSummary> {
    let all = [
        WireState::Running,
        WireState::Paused,
        WireState::Shutoff,
        WireState::Shutdown,
        WireState::Crashed,
        WireState::PmSuspended,
    ];
    // Exhaustive, so a new state needs a sample before this compiles.
    for s in all {
        match s {
            WireState::Running
            | WireState::Paused
            | WireState::Shutoff
            | WireState::Shutdown
            | WireState::Crashed
            | WireState::PmSuspended => {}
        }
    }
    all.iter()
        .enumerate()
        .map(|(i, &state)| WireSummary {
            domain: WireDomain {
                name: format!("dom-{i}"),
                uuid: Uuid::from_u128(0x1000 + i as u128),
                id: (state != WireState::Shutoff).then_some(i as u32 + 1),
            },
            state,
        })
        .collect()
}

/// The successful reply to `procedure`, of the shape the protocol fixes
/// for it (written out here, apart from the implementation's table).
pub fn reply_for(procedure: u32) -> Reply {
    match procedure {
        1 => Reply::Hello(u32::from(PROTOCOL_VERSION)),
        2 => Reply::Version(WireVersion {
            library: "0.1.0".into(),
            hypervisor: "QEMU 7.2.0".into(),
        }),
        3 => Reply::NodeInfo(WireNode {
            arch: "x86_64".into(),
            memory_kib: 16 * 1024 * 1024,
            cpus: 8,
            mhz: 2400,
        }),
        4 => Reply::Capabilities("<capabilities><host/></capabilities>".into()),
        5 => Reply::List(summaries()),
        6 => Reply::LookupByName(running()),
        7 => Reply::LookupByUuid(running()),
        8 => Reply::LookupById(running()),
        9 => Reply::DefineXml(running()),
        10 => Reply::Undefine(()),
        11 => Reply::CreateXml(running()),
        12 => Reply::Start(running()),
        13 => Reply::Shutdown(()),
        14 => Reply::Destroy(()),
        15 => Reply::Reboot(()),
        16 => Reply::Reset(()),
        17 => Reply::Suspend(()),
        18 => Reply::Resume(()),
        19 => Reply::Save(()),
        20 => Reply::Restore(running()),
        21 => Reply::ManagedSave(()),
        22 => Reply::ManagedSaveRemove(()),
        23 => Reply::Autostart(true),
        24 => Reply::SetAutostart(()),
        25 => Reply::Info(WireInfo {
            state: WireState::Paused,
            reason: WireReason::User,
            max_memory_kib: 32768,
            memory_kib: 16384,
            vcpus: 2,
            cpu_time_ns: 1_234_567_890_123,
            persistent: true,
            autostart: false,
            managed_save: true,
        }),
        26 => Reply::XmlDesc(XML.into()),
        27 => Reply::Events(()),
        28 => Reply::Console(()),
        29 => Reply::ChangeMedia(()),
        // A PNG's signature, then bytes of every size class.
        30 => Reply::Screenshot(Bytes(b"\x89PNG\r\n\x1a\n\x00\x7f\x80\xff".to_vec())),
        31 => Reply::JobInfo(Some(WireJobInfo {
            kind: WireJobKind::Save,
            elapsed: Duration::new(3, 500_000_000),
            data_total: 512 << 20,
            data_processed: 100 << 20,
            data_remaining: 412 << 20,
            speed: 16 << 20,
        })),
        32 => Reply::JobAbort(()),
        33 => Reply::SaveWith(()),
        34 => Reply::ManagedSaveWith(()),
        35 => Reply::UndefineFlags(()),
        36 => Reply::Migrate(()),
        37 => Reply::MigrateIncoming(WireIncomingReady {
            port: 49152,
            nbd_port: Some(49153),
        }),
        38 => Reply::MigrateFinish(running()),
        39 => Reply::MigrateAbortIncoming(()),
        40 => Reply::MigrateIncomingState(WireIncomingState::Incoming),
        41 => Reply::SetMemory(()),
        42 => Reply::SetMaxMemory(()),
        43 => Reply::SetVcpus(()),
        44 => Reply::SetMaxVcpus(()),
        45 => Reply::Stats(WireStats {
            state: WireState::Running,
            reason: WireReason::Booted,
            cpu_time_ns: 3_000_000_000,
            cpu_user_ns: 2_000_000_000,
            cpu_system_ns: 1_000_000_000,
            balloon: WireBalloonStats {
                current_kib: 524_288,
                maximum_kib: 1 << 20,
                rss_kib: 300_000,
                guest: vec![("unused".into(), 400_000), ("usable".into(), 450_000)],
            },
            vcpus: vec![WireVcpuStats {
                id: 0,
                thread_id: 4242,
                time_ns: 1_500_000_000,
            }],
            vcpu_maximum: 2,
            blocks: vec![WireBlockStats {
                target: "vda".into(),
                path: Some("/srv/vm/disk.qcow2".into()),
                rd_reqs: 10,
                rd_bytes: 40960,
                wr_reqs: 3,
                wr_bytes: 12288,
                fl_reqs: 1,
                rd_total_times_ns: 1000,
                wr_total_times_ns: 2000,
                fl_total_times_ns: 300,
                capacity: 1 << 30,
                allocation: 1 << 20,
                physical: 1 << 21,
            }],
            interfaces: vec![WireInterfaceStats {
                name: "vnet0".into(),
                rx_bytes: 1500,
                rx_packets: 1,
                rx_errs: 0,
                rx_drop: 0,
                tx_bytes: 60,
                tx_packets: 1,
                tx_errs: 0,
                tx_drop: 0,
            }],
        }),
        46 => Reply::QemuMonitorCommand("{\"return\":{\"status\":\"running\"}}".into()),
        47 => Reply::ListPools(vec![WirePoolSummary {
            pool: pool(),
            info: pool_info(),
        }]),
        48 => Reply::PoolLookupByName(pool()),
        49 => Reply::PoolDefineXml(pool()),
        50 => Reply::PoolBuild(()),
        51 => Reply::PoolStart(()),
        52 => Reply::PoolDestroy(()),
        53 => Reply::PoolUndefine(()),
        54 => Reply::PoolInfo(WirePoolInfo {
            state: WirePoolState::Inactive,
            ..pool_info()
        }),
        55 => Reply::PoolRefresh(()),
        56 => Reply::PoolXml("<pool type='dir'><name>default</name></pool>".into()),
        57 => Reply::PoolSetAutostart(()),
        58 => Reply::ListVolumes(vec![vol()]),
        59 => Reply::VolLookupByName(vol()),
        60 => Reply::VolLookupByPath(vol()),
        61 => Reply::VolCreateXml(vol()),
        62 => Reply::VolClone(vol()),
        63 => Reply::VolDelete(()),
        64 => Reply::VolInfo(WireVolumeInfo {
            capacity: 64 << 20,
            allocation: 196_608,
            physical: 196_608,
            format: WireVolumeFormat::Qcow2,
        }),
        65 => Reply::VolXml(VOL_XML.into()),
        66 => Reply::VolResize(()),
        67 => Reply::SnapshotCreateXml(snap()),
        68 => Reply::SnapshotList(
            [
                WireSnapshotState::Running,
                WireSnapshotState::Paused,
                WireSnapshotState::Shutoff,
                WireSnapshotState::DiskSnapshot,
            ]
            .into_iter()
            .enumerate()
            .map(|(i, state)| WireSnapshotInfo {
                name: format!("s{i}"),
                parent: i.checked_sub(1).map(|p| format!("s{p}")),
                creation_time: 1_764_800_000 + i as u64,
                state,
                external: state == WireSnapshotState::DiskSnapshot,
                current: i == 3,
                description: Some("before the upgrade".into()),
                children: 1,
            })
            .collect(),
        ),
        69 => Reply::SnapshotLookup(snap()),
        70 => Reply::SnapshotCurrent(Some(snap())),
        71 => Reply::SnapshotInfo(WireSnapshotInfo {
            name: "before-upgrade".into(),
            parent: None,
            creation_time: 1_764_800_000,
            state: WireSnapshotState::Running,
            external: false,
            current: true,
            description: None,
            children: 0,
        }),
        72 => Reply::SnapshotXml(
            "<domainsnapshot><name>before-upgrade</name></domainsnapshot>".into(),
        ),
        73 => Reply::SnapshotRevert(()),
        74 => Reply::SnapshotDelete(()),
        75 => Reply::BlockCommit(()),
        76 => Reply::BlockPull(()),
        77 => Reply::BlockJobInfo(Some(WireBlockJobInfo {
            kind: WireBlockJobKind::ActiveCommit,
            cur: 1 << 20,
            end: 1 << 20,
            ready: true,
            bandwidth: 5 << 20,
        })),
        78 => Reply::BlockJobAbort(()),
        79 => Reply::BlockInfo(WireBlockInfo {
            capacity: 64 << 20,
            allocation: 1 << 20,
            physical: 2 << 20,
        }),
        80 => Reply::UndefineSnapshots(()),
        81 => Reply::Messages(vec![
            "tainted: custom monitor control commands issued".into(),
        ]),
        82 => Reply::StartPaused(running()),
        83 => Reply::Rename(shut_off()),
        84 => Reply::SetMetadata(()),
        85 => Reply::Metadata(Some("web server".into())),
        86 => Reply::SendKey(()),
        88 => Reply::JobCompleted(Some(WireCompletedJob {
            outcome: 0,
            info: WireJobInfo {
                kind: WireJobKind::Migration,
                elapsed: Duration::from_millis(1052),
                data_total: 16 << 20,
                data_processed: 16 << 20,
                data_remaining: 0,
                speed: 0,
            },
            downtime_ms: Some(14),
            total_downtime_us: Some(15_250),
        })),
        87 => Reply::InterfaceAddresses(vec![WireInterfaceAddresses {
            name: "vnet0".into(),
            mac: "52:54:00:03:00:11".into(),
            addrs: vec![(false, "10.0.3.11".into(), 0)],
        }]),
        89 => Reply::AttachDevice(()),
        90 => Reply::DetachDevice(()),
        91 => Reply::StartWith(running()),
        92 => Reply::DomainCapabilities("<domainCapabilities/>".into()),
        93 => Reply::VolCreateWith(vol()),
        94 => Reply::SetMemoryStatsPeriod(()),
        95 => Reply::ListSecrets(secrets()),
        96 => Reply::SecretLookupByUuid(secret()),
        97 => Reply::SecretLookupByUsage(secret()),
        98 => Reply::SecretDefineXml(secret()),
        99 => Reply::SecretXml(SECRET_XML.into()),
        100 => Reply::SecretSetValue(()),
        101 => Reply::SecretGetValue(Bytes(SECRET_VALUE.to_vec())),
        102 => Reply::SecretUndefine(()),
        103 => Reply::SetMemtune(()),
        104 => Reply::SetBlkiotune(()),
        105 => Reply::InjectNmi(()),
        108 => Reply::SetBlockIotune(()),
        109 => Reply::Iothreads(vec![(1, vec![0, 1]), (3, vec![1])]),
        110 => Reply::MigrateMaxSpeed(8_796_093_022_207),
        111 => Reply::MigrateSetMaxSpeed(()),
        112 => Reply::BlockPeek(Bytes(vec![0x55, 0xaa])),
        113 => Reply::MemoryPeek(Bytes(vec![1, 2, 3])),
        107 => Reply::DomainXmlToNative("/usr/bin/qemu-system-x86_64 -name guest=a".into()),
        114 => Reply::AgentCall(WireAgentAnswer::Time(1_796_546_087, 250_000_000)),
        115 => Reply::BlockResize(()),
        116 => Reply::CoreDump(()),
        117 => Reply::ChangeIothread(()),
        118 => Reply::SetLifecycleAction(()),
        119 => Reply::SaveImageXml("<domain type='qemu'/>".into()),
        120 => Reply::SaveImageDefine(()),
        121 => Reply::DirtyRateCalc(()),
        122 => Reply::DirtyRate((2, 1_796_546_087, 1, "page-sampling".into(), Some(12))),
        123 => Reply::SetVcpu(()),
        124 => Reply::DetachDeviceAlias(()),
        125 => Reply::PmWakeup(()),
        126 => Reply::MigrateMaxDowntime(300),
        127 => Reply::MigrateSetMaxDowntime(()),
        128 => Reply::MigrateCompressionCache(64 << 20),
        129 => Reply::MigrateSetCompressionCache(()),
        130 => Reply::SetBlockThreshold(()),
        131 => Reply::MigrateStartPostcopy(()),
        132 => Reply::UpdateDevice(()),
        133 => Reply::PinCpus(()),
        134 => Reply::MigratePerform(()),
        135 => Reply::MigrateConfirm(()),
        136 => Reply::BlockJobSetSpeed(()),
        137 => Reply::BlockCopy(()),
        138 => Reply::SaveState(()),
        139 => Reply::RestoreWith(running()),
        106 => Reply::DiskRuntime(vec![WireDiskRuntime {
            target: "vda".into(),
            iotune: vec![1_048_576, 0, 0, 0, 0, 300],
            group: Some("gq".into()),
            io_status: "nospace".into(),
        }]),
        n => panic!("no procedure {n}"),
    }
}

/// Every usage type, one secret each. Exhaustive on purpose.
fn secrets() -> Vec<WireSecret> {
    let all = [
        (WireSecretUsage::None, ""),
        (WireSecretUsage::Volume, "/var/lib/qvirt/images/crypt.qcow2"),
        (WireSecretUsage::Ceph, "client.admin secret"),
        (WireSecretUsage::Iscsi, "iqn.2013-07.com.example:t1"),
        (WireSecretUsage::Tls, "tls-key"),
        (WireSecretUsage::Vtpm, "vtpm-key"),
    ];
    // Exhaustive, so a new usage type needs a sample before this compiles.
    for (u, _) in all {
        match u {
            WireSecretUsage::None
            | WireSecretUsage::Volume
            | WireSecretUsage::Ceph
            | WireSecretUsage::Iscsi
            | WireSecretUsage::Tls
            | WireSecretUsage::Vtpm => {}
        }
    }
    all.iter()
        .enumerate()
        .map(|(i, &(usage, usage_id))| WireSecret {
            uuid: Uuid::from_u128(0x5ec0 + i as u128),
            usage,
            usage_id: usage_id.into(),
        })
        .collect()
}

/// A running pool's info.
fn pool_info() -> WirePoolInfo {
    WirePoolInfo {
        state: WirePoolState::Running,
        capacity: 100 << 30,
        allocation: 40 << 30,
        available: 60 << 30,
        persistent: true,
        autostart: true,
    }
}

/// The name of a reply payload's shape (as the golden file names it).
/// Exhaustive on purpose.
pub fn reply_shape(reply: &Reply) -> &'static str {
    match reply {
        Reply::Hello(_) => "hello",
        Reply::Version(_) => "version",
        Reply::NodeInfo(_) => "node",
        Reply::Capabilities(_) | Reply::XmlDesc(_) | Reply::DomainCapabilities(_) => "text",
        Reply::List(_) => "domains",
        Reply::LookupByName(_)
        | Reply::LookupByUuid(_)
        | Reply::LookupById(_)
        | Reply::DefineXml(_)
        | Reply::CreateXml(_)
        | Reply::Start(_)
        | Reply::StartPaused(_)
        | Reply::StartWith(_)
        | Reply::Rename(_)
        | Reply::Restore(_)
        | Reply::RestoreWith(_) => "domain",
        Reply::Undefine(())
        | Reply::Shutdown(())
        | Reply::Destroy(())
        | Reply::Reboot(())
        | Reply::Reset(())
        | Reply::Suspend(())
        | Reply::Resume(())
        | Reply::Save(())
        | Reply::ManagedSave(())
        | Reply::ManagedSaveRemove(())
        | Reply::SetAutostart(())
        | Reply::Events(())
        | Reply::Console(())
        | Reply::ChangeMedia(())
        | Reply::JobAbort(())
        | Reply::SaveWith(())
        | Reply::ManagedSaveWith(())
        | Reply::UndefineFlags(())
        | Reply::Migrate(())
        | Reply::MigrateAbortIncoming(())
        | Reply::SetMemory(())
        | Reply::SetMaxMemory(())
        | Reply::SetVcpus(())
        | Reply::SetMaxVcpus(())
        | Reply::SetMemoryStatsPeriod(()) => "unit",
        Reply::Stats(_) => "stats",
        Reply::QemuMonitorCommand(_) => "text",
        Reply::Metadata(_) => "optional_text",
        Reply::ListPools(_) => "pools",
        Reply::PoolLookupByName(_) | Reply::PoolDefineXml(_) => "pool",
        Reply::PoolInfo(_) => "pool_info",
        Reply::PoolXml(_) | Reply::VolXml(_) | Reply::SnapshotXml(_) => "text",
        Reply::ListVolumes(_) => "volumes",
        Reply::VolLookupByName(_)
        | Reply::VolLookupByPath(_)
        | Reply::VolCreateXml(_)
        | Reply::VolClone(_)
        | Reply::VolCreateWith(_) => "volume",
        Reply::VolInfo(_) => "volume_info",
        Reply::SnapshotCreateXml(_) | Reply::SnapshotLookup(_) => "snapshot",
        Reply::SnapshotCurrent(_) => "snapshot_current",
        Reply::SnapshotList(_) => "snapshots",
        Reply::SnapshotInfo(_) => "snapshot_info",
        Reply::BlockJobInfo(_) => "block_job",
        Reply::BlockInfo(_) => "block_info",
        Reply::PoolBuild(())
        | Reply::PoolStart(())
        | Reply::PoolDestroy(())
        | Reply::PoolUndefine(())
        | Reply::PoolRefresh(())
        | Reply::PoolSetAutostart(())
        | Reply::VolDelete(())
        | Reply::VolResize(())
        | Reply::SnapshotRevert(())
        | Reply::SnapshotDelete(())
        | Reply::BlockCommit(())
        | Reply::BlockPull(())
        | Reply::BlockJobAbort(())
        | Reply::UndefineSnapshots(())
        | Reply::SetMetadata(())
        | Reply::SendKey(())
        | Reply::AttachDevice(())
        | Reply::DetachDevice(()) => "unit",
        Reply::MigrateIncoming(_) => "incoming",
        Reply::MigrateFinish(_) => "domain",
        Reply::MigrateIncomingState(_) => "incoming_state",
        Reply::JobInfo(_) => "job",
        Reply::Autostart(_) => "bool",
        Reply::Info(_) => "info",
        Reply::Screenshot(_) => "bytes",
        Reply::InterfaceAddresses(_) => "interface_addresses",
        Reply::JobCompleted(_) => "completed_job",
        Reply::Messages(_) => "messages",
        Reply::ListSecrets(_) => "secrets",
        Reply::SecretLookupByUuid(_)
        | Reply::SecretLookupByUsage(_)
        | Reply::SecretDefineXml(_) => "secret",
        Reply::SecretXml(_) => "text",
        Reply::SecretGetValue(_) => "bytes",
        Reply::SecretSetValue(()) | Reply::SecretUndefine(()) => "unit",
        Reply::SetMemtune(()) | Reply::SetBlkiotune(()) | Reply::InjectNmi(()) => "unit",
        Reply::SetBlockIotune(()) => "unit",
        Reply::Iothreads(_) => "iothreads",
        Reply::MigrateMaxSpeed(_) => "speed",
        Reply::MigrateSetMaxSpeed(()) => "unit",
        Reply::BlockPeek(_) | Reply::MemoryPeek(_) => "bytes",
        Reply::DiskRuntime(_) => "disk_runtime",
        Reply::DomainXmlToNative(_) => "text",
        Reply::AgentCall(_) => "agent_answer",
        Reply::BlockResize(()) | Reply::CoreDump(()) => "unit",
        Reply::ChangeIothread(()) | Reply::SetLifecycleAction(()) => "unit",
        Reply::SaveImageXml(_) => "text",
        Reply::SaveImageDefine(()) | Reply::DirtyRateCalc(()) | Reply::PmWakeup(()) => "unit",
        Reply::DirtyRate(_) => "dirty_rate",
        Reply::SetVcpu(()) => "unit",
        Reply::DetachDeviceAlias(()) => "unit",
        Reply::MigrateMaxDowntime(_) => "downtime",
        Reply::MigrateCompressionCache(_) => "compcache",
        Reply::MigrateSetMaxDowntime(())
        | Reply::MigrateSetCompressionCache(())
        | Reply::SetBlockThreshold(())
        | Reply::MigrateStartPostcopy(())
        | Reply::UpdateDevice(())
        | Reply::PinCpus(())
        | Reply::MigratePerform(())
        | Reply::MigrateConfirm(())
        | Reply::BlockJobSetSpeed(())
        | Reply::BlockCopy(())
        | Reply::SaveState(()) => "unit",
    }
}
