//! `<memtune>` and `<blkiotune>` changed through the driver, as virsh's
//! `memtune` and `blkiotune` change them: in the definition, merged with
//! libvirt's rules (unlimited removes a limit, 0 removes a device's
//! setting), refusals leaving it as it was; and live, the running
//! domain's definition, kept by a manager that reattaches.

use qvirt::driver::{
    BlkioTuneChange, BlockIoTuneChange, Domain, EventKind, MemTuneChange, ModifyFlags, PinTarget,
    XmlFlags,
};
use qvirt::model::{BlkioTune, MemTune};
use qvirt::{DomainDef, Driver, ErrorCode};

use super::*;

/// The live or inactive definition's `<memtune>` and `<blkiotune>`.
fn tuning(d: &dyn Driver, dom: &Domain, inactive: bool) -> (Option<MemTune>, Option<BlkioTune>) {
    let xml = d.xml_desc(dom, XmlFlags::inactive_if(inactive)).unwrap();
    let def = DomainDef::from_xml(&xml).unwrap();
    (def.memtune, def.blkiotune.map(|b| *b))
}

/// The definition's limits change as asked and refusals change nothing.
pub fn memtune_and_blkiotune_in_the_definition(cx: &mut Ctx<'_>) {
    let d = cx.d();
    let dom = define(d, &Vm::firmware("fw-tune"));
    let mut mem = MemTuneChange::default();
    mem.hard_limit_kib = Some(262_144);
    mem.swap_hard_limit_kib = Some(524_288);
    d.set_memtune(&dom, &mem, ModifyFlags::CONFIG).unwrap();
    let (m, _) = tuning(d, &dom, true);
    let m = m.expect("a <memtune>");
    assert_eq!(
        (m.hard_limit_kib, m.soft_limit_kib, m.swap_hard_limit_kib),
        (Some(262_144), None, Some(524_288))
    );
    // Above the swap limit: refused, nothing changes.
    let before = d.xml_desc(&dom, XmlFlags::INACTIVE).unwrap();
    let mut above = MemTuneChange::default();
    above.hard_limit_kib = Some(600_000);
    let e = expect_err(
        d.set_memtune(&dom, &above, ModifyFlags::CONFIG),
        ErrorCode::InvalidArgument,
        "hard limit above the swap limit",
    );
    assert!(e.message.contains("swap_hard_limit"), "{e}");
    // Live, on a shut-off domain: refused.
    expect_err(
        d.set_memtune(&dom, &mem, ModifyFlags::LIVE),
        ErrorCode::OperationInvalid,
        "live memtune of a shut-off domain",
    );
    assert_eq!(d.xml_desc(&dom, XmlFlags::INACTIVE).unwrap(), before);
    // Unlimited removes each; with none left there is no <memtune>.
    let mut off = MemTuneChange::default();
    off.hard_limit_kib = Some(MemTune::UNLIMITED_KIB);
    off.swap_hard_limit_kib = Some(MemTune::UNLIMITED_KIB);
    d.set_memtune(&dom, &off, ModifyFlags::CURRENT).unwrap();
    assert_eq!(tuning(d, &dom, true).0, None);

    let mut blk = BlkioTuneChange::default();
    blk.weight = Some(500);
    blk.device_read_bytes_sec = vec![
        ("/dev/loop0".into(), 1_048_576),
        ("/dev/loop1".into(), 2048),
    ];
    blk.device_write_iops_sec = vec![("/dev/loop1".into(), 100)];
    d.set_blkiotune(&dom, &blk, ModifyFlags::CONFIG).unwrap();
    // Merged device by device: /dev/loop1 loses its read limit only.
    // Devices are added in the order libvirt takes the lists (weights,
    // then read and write IOPS, then bytes), as virsh sends them.
    let mut less = BlkioTuneChange::default();
    less.device_read_bytes_sec = vec![("/dev/loop1".into(), 0), ("/dev/loop2".into(), 0)];
    d.set_blkiotune(&dom, &less, ModifyFlags::CONFIG).unwrap();
    let b = tuning(d, &dom, true).1.expect("a <blkiotune>");
    assert_eq!(b.weight, Some(500));
    let devices: Vec<_> = b
        .devices
        .iter()
        .map(|d| (d.path.as_str(), d.read_bytes_sec, d.write_iops_sec))
        .collect();
    assert_eq!(
        devices,
        [
            ("/dev/loop1", None, Some(100)),
            ("/dev/loop0", Some(1_048_576), None),
        ]
    );
    let before = d.xml_desc(&dom, XmlFlags::INACTIVE).unwrap();
    let mut bad = BlkioTuneChange::default();
    bad.weight = Some(5000);
    expect_err(
        d.set_blkiotune(&dom, &bad, ModifyFlags::CONFIG),
        ErrorCode::InvalidArgument,
        "a weight out of range",
    );
    let mut relative = BlkioTuneChange::default();
    relative.device_weight = vec![("loop0".into(), 500)];
    expect_err(
        d.set_blkiotune(&dom, &relative, ModifyFlags::CONFIG),
        ErrorCode::InvalidArgument,
        "a device that is no path",
    );
    assert_eq!(d.xml_desc(&dom, XmlFlags::INACTIVE).unwrap(), before);
}

/// A running domain's memory limit shows in its live definition only,
/// and a manager that reattaches still shows it.
pub fn memtune_live_shows_in_the_live_definition(cx: &mut Ctx<'_>) {
    let d = cx.d();
    let dom = define_and_start(d, &Vm::firmware("fw-tune-live"));
    let mut mem = MemTuneChange::default();
    mem.hard_limit_kib = Some(262_144);
    d.set_memtune(&dom, &mem, ModifyFlags::CURRENT).unwrap();
    let hard =
        |d: &dyn Driver, inactive: bool| tuning(d, &dom, inactive).0.and_then(|m| m.hard_limit_kib);
    assert_eq!((hard(d, false), hard(d, true)), (Some(262_144), None));
    cx.reopen();
    let d = cx.d();
    assert_eq!((hard(d, false), hard(d, true)), (Some(262_144), None));
    d.destroy(&dom).unwrap();
    assert_eq!(
        hard(d, false),
        None,
        "the next run starts from the definition"
    );
}

/// A running domain's drives as its QEMU holds them: a disk's
/// `<iotune>` (limits in libvirt's order, group) and its I/O status; a
/// shut-off domain has none to read.
pub fn drives_show_the_throttle_in_force(cx: &mut Ctx<'_>) {
    let img = cx.root().join("t.img");
    std::fs::write(&img, vec![0u8; 1 << 20]).expect("write a test image");
    let vm = Vm::firmware("fw-a").device(&format!(
        "<disk type='file' device='disk'><driver name='qemu' type='raw'/>\
         <source file='{}'/><target dev='vda' bus='virtio'/><iotune>\
         <read_bytes_sec>65536</read_bytes_sec><total_iops_sec>90</total_iops_sec>\
         <group_name>g1</group_name></iotune></disk>",
        img.display()
    ));
    let d = cx.d();
    let dom = define(d, &vm);
    expect_err(
        d.disk_runtime(&dom),
        ErrorCode::OperationInvalid,
        "a shut-off domain's drives",
    );
    d.start(&dom).unwrap();
    let drives = d.disk_runtime(&dom).unwrap();
    let targets: Vec<&str> = drives.iter().map(|r| r.target.as_str()).collect();
    assert_eq!(targets, ["vda"], "{drives:?}");
    let vda = &drives[0];
    let mut want = vec![0u64; qvirt::model::IOTUNE_LIMITS.len()];
    want[1] = 65536;
    want[3] = 90;
    assert_eq!(vda.iotune, want);
    assert_eq!(vda.group.as_deref(), Some("g1"));
    assert_eq!(vda.io_status, "ok");
}

/// A disk's throttle changed live reaches the running QEMU (its drive's
/// limits) and the live definition, which a manager that reattaches
/// still shows, with the families not given kept; in the definition it
/// changes `<iotune>` only; libvirt's refusals change nothing.
pub fn a_disk_throttle_changes_live_and_in_the_definition(cx: &mut Ctx<'_>) {
    let img = cx.root().join("t.img");
    std::fs::write(&img, vec![0u8; 1 << 20]).expect("write a test image");
    let vm = Vm::firmware("fw-iotune").device(&format!(
        "<disk type='file' device='disk'><driver name='qemu' type='raw'/>\
         <source file='{}'/><target dev='vda' bus='virtio'/><iotune>\
         <read_bytes_sec>65536</read_bytes_sec><total_iops_sec>90</total_iops_sec>\
         </iotune></disk>",
        img.display()
    ));
    let d = cx.d();
    let dom = define_and_start(d, &vm);
    let set = |d: &dyn Driver, limits: &[(&str, u64)], flags| {
        let limits = limits.iter().map(|(n, v)| (n.to_string(), *v)).collect();
        d.set_block_iotune(&dom, "vda", &BlockIoTuneChange::new(limits, None), flags)
    };
    set(d, &[("read_bytes_sec", 131_072)], ModifyFlags::LIVE).unwrap();
    let iotune = |d: &dyn Driver, inactive: bool| {
        let xml = d.xml_desc(&dom, XmlFlags::inactive_if(inactive)).unwrap();
        let def = DomainDef::from_xml(&xml).unwrap();
        let t = def.devices.disks[0].iotune.clone().unwrap_or_default();
        (t.get("read_bytes_sec"), t.get("total_iops_sec"))
    };
    let drive = d.disk_runtime(&dom).unwrap().remove(0);
    assert_eq!((drive.iotune[1], drive.iotune[3]), (131_072, 90));
    assert_eq!(iotune(d, false), (131_072, 90));
    assert_eq!(iotune(d, true), (65536, 90));
    let e = expect_err(
        set(
            d,
            &[("total_bytes_sec", 5), ("read_bytes_sec", 5)],
            ModifyFlags::CURRENT,
        ),
        ErrorCode::InvalidArgument,
        "a total beside its read part",
    );
    assert!(e.message.contains("cannot be set at the same time"), "{e}");
    expect_err(
        set(
            d,
            &[("total_iops_sec_max", 10), ("total_iops_sec", 0)],
            ModifyFlags::LIVE,
        ),
        ErrorCode::ConfigUnsupported,
        "a _max without its base",
    );
    set(d, &[("total_iops_sec", 45)], ModifyFlags::CONFIG).unwrap();
    assert_eq!(iotune(d, true), (65536, 45));
    cx.reopen();
    let d = cx.d();
    assert_eq!(iotune(d, false), (131_072, 90));
    let drive = d.disk_runtime(&dom).unwrap().remove(0);
    assert_eq!((drive.iotune[1], drive.iotune[3]), (131_072, 90));
    d.destroy(&dom).unwrap();
}

/// A running domain's disk resized: QEMU's image has the new size (a
/// qcow2 one rounded up to 512 bytes) and so has the file; a read-only
/// or unknown disk and a shut-off domain are refused.
pub fn a_running_disk_is_resized(cx: &mut Ctx<'_>) {
    let (raw, qcow2) = (cx.root().join("r.img"), cx.root().join("q.qcow2"));
    std::fs::write(&raw, vec![0u8; 1 << 20]).expect("write a test image");
    let out = std::process::Command::new("qemu-img")
        .args(["create", "-q", "-f", "qcow2"])
        .arg(&qcow2)
        .arg("1M")
        .output()
        .expect("run qemu-img");
    assert!(out.status.success(), "{out:?}");
    let disk = |path: &std::path::Path, format: &str, dev: &str, extra: &str| {
        format!(
            "<disk type='file' device='disk'><driver name='qemu' type='{format}'/>\
             <source file='{}'/><target dev='{dev}' bus='virtio'/>{extra}</disk>",
            path.display()
        )
    };
    let vm = Vm::firmware("fw-resize")
        .device(&disk(&raw, "raw", "vda", ""))
        .device(&disk(&qcow2, "qcow2", "vdb", ""))
        .device(&disk(&raw, "raw", "vdc", "<readonly/><shareable/>"));
    let d = cx.d();
    let dom = define(d, &vm);
    expect_err(
        d.block_resize(&dom, "vda", 2 << 20),
        ErrorCode::OperationInvalid,
        "a shut-off domain",
    );
    d.start(&dom).unwrap();
    d.block_resize(&dom, "vda", 3 << 20).unwrap();
    assert_eq!(d.block_info(&dom, "vda").unwrap().capacity, 3 << 20);
    assert_eq!(std::fs::metadata(&raw).unwrap().len(), 3 << 20);
    d.block_resize(&dom, qcow2.to_str().unwrap(), (2 << 20) + 1)
        .unwrap();
    assert_eq!(d.block_info(&dom, "vdb").unwrap().capacity, (2 << 20) + 512);
    let e = expect_err(
        d.block_resize(&dom, "vdc", 4 << 20),
        ErrorCode::OperationInvalid,
        "a read-only disk",
    );
    assert!(e.message.contains("readonly disk 'vdc'"), "{e}");
    expect_err(
        d.block_resize(&dom, "vdz", 4 << 20),
        ErrorCode::InvalidArgument,
        "an unknown disk",
    );
    assert_eq!(std::fs::metadata(&raw).unwrap().len(), 3 << 20);
    d.destroy(&dom).unwrap();
}

/// A running domain's I/O threads, each with host CPUs it may run on:
/// the one `<iothreadpin>` names for a pinned thread; a shut-off domain
/// has none to list.
pub fn iothreads_of_a_running_domain(cx: &mut Ctx<'_>) {
    let vm = Vm::firmware("fw-iothreads").element(
        "<iothreads>2</iothreads><cputune><iothreadpin iothread='2' cpuset='0'/></cputune>",
    );
    let d = cx.d();
    let dom = define(d, &vm);
    expect_err(
        d.iothreads(&dom),
        ErrorCode::OperationInvalid,
        "a shut-off domain's I/O threads",
    );
    d.start(&dom).unwrap();
    let mut threads = d.iothreads(&dom).unwrap();
    threads.sort_by_key(|t| t.id);
    let ids: Vec<u32> = threads.iter().map(|t| t.id).collect();
    assert_eq!(ids, [1, 2], "{threads:?}");
    assert!(!threads[0].cpus.is_empty(), "{threads:?}");
    assert_eq!(threads[1].cpus, [0], "{threads:?}");
    d.destroy(&dom).unwrap();
}

/// The live and inactive definitions' `<vcpupin>`s and `<emulatorpin>`.
fn pins(d: &dyn Driver, dom: &Domain, inactive: bool) -> (Vec<(u32, String)>, Option<String>) {
    let xml = d.xml_desc(dom, XmlFlags::inactive_if(inactive)).unwrap();
    let def = DomainDef::from_xml(&xml).unwrap();
    def.cputune
        .map(|t| (t.vcpupins, t.emulatorpin))
        .unwrap_or_default()
}

/// vCPUs and the emulator pinned (virsh's `vcpupin`, `emulatorpin`):
/// live in the running definition (kept by a manager that reattaches),
/// in the persistent one with `CONFIG`; refusals change nothing.
pub fn vcpu_and_emulator_pins_live_and_in_the_definition(cx: &mut Ctx<'_>) {
    let d = cx.d();
    let dom = define_and_start(d, &Vm::firmware("fw-pins").vcpus(2));
    d.pin_cpus(&dom, PinTarget::Vcpu(1), &[0], ModifyFlags::CURRENT)
        .unwrap();
    d.pin_cpus(&dom, PinTarget::Emulator, &[0], ModifyFlags::CONFIG)
        .unwrap();
    let vcpu1 = vec![(1, "0".to_string())];
    assert_eq!(pins(d, &dom, false), (vcpu1.clone(), None));
    assert_eq!(pins(d, &dom, true), (vec![], Some("0".to_string())));
    let e = expect_err(
        d.pin_cpus(&dom, PinTarget::Vcpu(2), &[0], ModifyFlags::LIVE),
        ErrorCode::InvalidArgument,
        "a vCPU past the maximum",
    );
    assert!(e.message.contains("out of range"), "{e}");
    expect_err(
        d.pin_cpus(&dom, PinTarget::Vcpu(0), &[], ModifyFlags::LIVE),
        ErrorCode::InvalidArgument,
        "an empty CPU list",
    );
    cx.reopen();
    let d = cx.d();
    assert_eq!(pins(d, &dom, false), (vcpu1, None));
    d.destroy(&dom).unwrap();
    assert_eq!(pins(d, &dom, false), (vec![], Some("0".to_string())));
    expect_err(
        d.pin_cpus(&dom, PinTarget::Emulator, &[0], ModifyFlags::LIVE),
        ErrorCode::OperationInvalid,
        "a live pin of a shut-off domain",
    );
}

/// A domain's migration speed: unlimited until set, kept while shut off,
/// and given to a running QEMU at once (its `max-bandwidth`); above
/// libvirt's limit it is refused.
pub fn migration_speed_is_kept_and_reaches_qemu(cx: &mut Ctx<'_>) {
    use qvirt::driver::MIGRATE_SPEED_UNLIMITED;
    let d = cx.d();
    let dom = define(d, &Vm::firmware("fw-migspeed"));
    assert_eq!(d.migrate_max_speed(&dom).unwrap(), MIGRATE_SPEED_UNLIMITED);
    d.migrate_set_max_speed(&dom, 300).unwrap();
    assert_eq!(d.migrate_max_speed(&dom).unwrap(), 300);
    d.start(&dom).unwrap();
    d.migrate_set_max_speed(&dom, 64).unwrap();
    assert_eq!(d.migrate_max_speed(&dom).unwrap(), 64);
    let out = d
        .qemu_monitor_command(&dom, r#"{"execute":"query-migrate-parameters"}"#)
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["return"]["max-bandwidth"].as_u64(), Some(64 << 20), "{v}");
    expect_err(
        d.migrate_set_max_speed(&dom, MIGRATE_SPEED_UNLIMITED + 1),
        ErrorCode::LimitExceeded,
        "a speed above the limit",
    );
    assert_eq!(d.migrate_max_speed(&dom).unwrap(), 64);
    d.destroy(&dom).unwrap();
}

/// A running QEMU's migration parameters: the downtime limit and the
/// XBZRLE cache set and read back as QEMU keeps them; a shut-off domain
/// has none, and without an outgoing migration there is nothing to
/// switch to post-copy.
pub fn migration_parameters_reach_qemu(cx: &mut Ctx<'_>) {
    let d = cx.d();
    let dom = define(d, &Vm::firmware("fw-migparams"));
    expect_err(
        d.migrate_max_downtime(&dom),
        ErrorCode::OperationInvalid,
        "the downtime of a shut-off domain",
    );
    d.start(&dom).unwrap();
    d.migrate_set_max_downtime(&dom, 420).unwrap();
    assert_eq!(d.migrate_max_downtime(&dom).unwrap(), 420);
    d.migrate_set_compression_cache(&dom, 16 << 20).unwrap();
    assert_eq!(d.migrate_compression_cache(&dom).unwrap(), 16 << 20);
    let out = d
        .qemu_monitor_command(&dom, r#"{"execute":"query-migrate-parameters"}"#)
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["return"]["downtime-limit"].as_u64(), Some(420), "{v}");
    assert_eq!(
        v["return"]["xbzrle-cache-size"].as_u64(),
        Some(16 << 20),
        "{v}"
    );
    let e = expect_err(
        d.migrate_start_postcopy(&dom),
        ErrorCode::OperationInvalid,
        "post-copy without a migration",
    );
    assert!(e.message.contains("outgoing migration"), "{e}");
    d.destroy(&dom).unwrap();
}

/// A disk's write threshold: set on a running disk, QEMU has it on the
/// node of the image's file (of a qcow2 image too, not its format node);
/// a write past it (QEMU's own `qemu-io` on the virtio device's backend,
/// through the monitor, as a guest's would be) is heard as a block
/// threshold event naming the disk, its file and QEMU's excess, and QEMU
/// clears it.
pub fn a_write_past_the_block_threshold_is_an_event(cx: &mut Ctx<'_>) {
    let (img, qcow2) = (cx.root().join("th.img"), cx.root().join("th.qcow2"));
    std::fs::write(&img, vec![0u8; 8 << 20]).unwrap();
    let out = std::process::Command::new("qemu-img")
        .args(["create", "-q", "-f", "qcow2"])
        .arg(&qcow2)
        .arg("8M")
        .output()
        .expect("run qemu-img (Debian package qemu-utils)");
    assert!(out.status.success(), "{out:?}");
    let (file, qfile) = (img.to_str().unwrap(), qcow2.to_str().unwrap());
    let d = cx.d();
    let vm = Vm::firmware("fw-threshold").device(&format!(
        "<disk type='file' device='disk'><driver name='qemu' type='raw'/>\
         <source file='{file}'/><target dev='vda' bus='virtio'/></disk>\
         <disk type='file' device='disk'><driver name='qemu' type='qcow2'/>\
         <source file='{qfile}'/><target dev='vdb' bus='virtio'/></disk>"
    ));
    let dom = define_and_start(d, &vm);
    let mut watch = Watch::new(d);
    expect_err(
        d.set_block_threshold(&dom, "vdz", 1),
        ErrorCode::InvalidArgument,
        "an unknown disk",
    );
    // QEMU's threshold on the node of driver `drv` over `file`.
    let threshold = |drv: &str, file: &str| {
        let q = r#"{"execute":"query-named-block-nodes","arguments":{"flat":true}}"#;
        let v: serde_json::Value =
            serde_json::from_str(&d.qemu_monitor_command(&dom, q).unwrap()).unwrap();
        v["return"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["drv"] == drv && n["file"] == file)
            .and_then(|n| n["write_threshold"].as_u64())
            .unwrap_or_else(|| panic!("no {drv} node on {file}: {v}"))
    };
    let write = |device: &str, what: &str| {
        let cmd = format!(
            r#"{{"execute":"human-monitor-command","arguments":{{"command-line":"qemu-io -d /machine/peripheral/{device}/virtio-backend \"{what}\""}}}}"#
        );
        let said = d.qemu_monitor_command(&dom, &cmd).unwrap();
        assert!(!said.contains("Error"), "{said}");
    };
    d.set_block_threshold(&dom, "vda", 4 << 20).unwrap();
    assert_eq!(threshold("file", file), 4 << 20);
    write("virtio-disk0", "write 6M 4k");
    let want = EventKind::BlockThreshold {
        dev: "vda".into(),
        path: Some(file.to_string()),
        threshold: 4 << 20,
        excess: (2 << 20) + 4096,
    };
    watch.wait_for(dom.uuid, want, QUICK);
    assert_eq!(threshold("file", file), 0);

    d.set_block_threshold(&dom, "vdb", 1 << 20).unwrap();
    assert_eq!(threshold("file", qfile), 1 << 20);
    assert_eq!(threshold("qcow2", qfile), 0);
    // 2 MiB of data grow the qcow2 file past 1 MiB, wherever it puts them.
    write("virtio-disk1", "write 0 2M");
    let ev = watch
        .next_of(dom.uuid, QUICK)
        .expect("the qcow2 disk's event");
    match ev.kind {
        EventKind::BlockThreshold {
            dev,
            path,
            threshold,
            excess,
        } => {
            assert_eq!((dev.as_str(), path.as_deref()), ("vdb", Some(qfile)));
            assert_eq!(threshold, 1 << 20);
            assert!(excess > 0, "{excess}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(threshold("file", qfile), 0);
    d.destroy(&dom).unwrap();
}

/// A raw disk's bytes, read from its image (a read past the end
/// refused), and a paused guest's memory as QEMU saves it.
pub fn disk_and_memory_peek(cx: &mut Ctx<'_>) {
    let img = cx.root().join("p.img");
    let mut data = vec![0u8; 1 << 16];
    data[512..520].copy_from_slice(b"PEEKMARK");
    std::fs::write(&img, &data).expect("write a test image");
    let vm = Vm::firmware("fw-peek").device(&format!(
        "<disk type='file' device='disk'><driver name='qemu' type='raw'/>\
         <source file='{}'/><target dev='vda' bus='virtio'/></disk>",
        img.display()
    ));
    let d = cx.d();
    let dom = define(d, &vm);
    assert_eq!(d.block_peek(&dom, "vda", 512, 8).unwrap(), b"PEEKMARK");
    expect_err(
        d.block_peek(&dom, "vda", (1 << 16) - 2, 8),
        ErrorCode::InvalidArgument,
        "a read past the end",
    );
    // Paused before its first instruction, the guest's memory stands
    // still; the reset vector holds SeaBIOS's far jump.
    d.start_paused(&dom).unwrap();
    let phys = d.memory_peek(&dom, 0xffff0, 16, true).unwrap();
    assert_eq!(phys.len(), 16);
    assert_eq!(phys[0], 0xea, "{phys:?}");
    assert_eq!(d.memory_peek(&dom, 0xffff0, 16, false).unwrap(), phys);
    d.destroy(&dom).unwrap();
}
