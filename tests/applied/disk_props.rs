//! What a disk's and a filesystem's device show the guest, read back
//! from the running devices with `qom-get`: `<blockio>` sizes,
//! `<geometry>`, `<target rotation_rate>`, a virtio disk's `<driver>`
//! switches and virtio options, a 9p share's virtio options; the
//! `copy-on-read` filter of `<driver copy_on_read='on'>` in QEMU's block
//! graph; and `<memory dumpCore>` on the machine.

use std::path::Path;

use serde_json::{Value, json};

use crate::support::{State, firmware_vm, qemu_img};

fn image(path: &Path, format: &str) {
    qemu_img(&["create", "-q", "-f", format, path.to_str().unwrap(), "16M"]);
}

#[test]
fn disk_and_filesystem_properties_reach_the_running_devices() {
    let st = State::new("disk-props");
    let raw = |n: &str| {
        let p = st.root().join(format!("{n}.img"));
        image(&p, "raw");
        p.display().to_string()
    };
    let (vda, hda, sda) = (raw("vda"), raw("hda"), raw("sda"));
    let vdb = st.root().join("vdb.qcow2");
    image(&vdb, "qcow2");
    let share = st.root().join("share");
    std::fs::create_dir_all(&share).unwrap();
    let devices = format!(
        "<disk type='file' device='disk'>
           <driver name='qemu' type='raw' iommu='on' ats='on' packed='on' page_per_vq='on' ioeventfd='off' event_idx='off'/>
           <source file='{vda}'/>
           <geometry cyls='2048' heads='16' secs='63'/>
           <blockio logical_block_size='4096' physical_block_size='4096' discard_granularity='8192'/>
           <target dev='vda' bus='virtio'/>
         </disk>
         <disk type='file' device='disk'>
           <driver name='qemu' type='qcow2' copy_on_read='on'/>
           <source file='{}'/>
           <target dev='vdb' bus='virtio'/>
         </disk>
         <disk type='file' device='disk'>
           <source file='{hda}'/>
           <geometry cyls='1000' heads='16' secs='63' trans='lba'/>
           <target dev='hda' bus='ide' rotation_rate='1'/>
         </disk>
         <disk type='file' device='disk'>
           <source file='{sda}'/>
           <blockio logical_block_size='512' physical_block_size='4096'/>
           <target dev='sda' bus='scsi' rotation_rate='7200'/>
         </disk>
         <controller type='scsi' index='0' model='virtio-scsi'/>
         <filesystem type='mount' accessmode='mapped'>
           <driver type='path' ats='on' packed='on'/>
           <source dir='{}'/>
           <target dir='share'/>
         </filesystem>",
        vdb.display(),
        share.display()
    );
    let xml = firmware_vm(
        "props",
        "<memory unit='MiB' dumpCore='on'>64</memory>",
        &devices,
    )
    .replacen("<memory unit='MiB'>64</memory>", "", 1);
    st.start(&xml);
    let mut qmp = st.qmp("props");
    let mut get = |path: &str, prop: &str| -> Value {
        qmp.qom_get(&format!("/machine/peripheral/{path}"), prop)
    };
    // virtio-blk: the proxy holds the PCI-side switches, the backend
    // the device's own.
    let vda = "virtio-disk0/virtio-backend";
    for (path, prop, want) in [
        ("virtio-disk0", "ats", json!(true)),
        ("virtio-disk0", "page-per-vq", json!(true)),
        ("virtio-disk0", "ioeventfd", json!(false)),
        (vda, "iommu_platform", json!(true)),
        (vda, "packed", json!(true)),
        (vda, "event_idx", json!(false)),
        (vda, "logical_block_size", json!(4096)),
        (vda, "physical_block_size", json!(4096)),
        (vda, "discard_granularity", json!(8192)),
        (vda, "cyls", json!(2048)),
        (vda, "heads", json!(16)),
        (vda, "secs", json!(63)),
        ("ide0-0-0", "cyls", json!(1000)),
        ("ide0-0-0", "bios-chs-trans", json!("lba")),
        ("ide0-0-0", "rotation_rate", json!(1)),
        ("scsi0-0-0-0", "rotation_rate", json!(7200)),
        ("scsi0-0-0-0", "logical_block_size", json!(512)),
        ("scsi0-0-0-0", "physical_block_size", json!(4096)),
        ("fs0", "ats", json!(true)),
        ("fs0/virtio-backend", "packed", json!(true)),
    ] {
        assert_eq!(get(path, prop), want, "{path} {prop}");
    }
    // vdb reads through the copy-on-read filter over its qcow2 node.
    let inserted = qmp.inserted("virtio-disk1");
    assert_eq!(
        inserted["node-name"], "virtio-disk1-copy-on-read",
        "{inserted}"
    );
    let nodes = qmp.exec("query-named-block-nodes", json!({}));
    let filter = nodes
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["node-name"] == "virtio-disk1-copy-on-read")
        .unwrap_or_else(|| panic!("no copy-on-read node: {nodes}"));
    assert_eq!(filter["drv"], "copy-on-read", "{filter}");
    assert_eq!(
        qmp.qom_get("/machine", "dump-guest-core"),
        json!(true),
        "<memory dumpCore='on'>"
    );
    drop(qmp);
    let live = st.live_xml("props");
    for part in [
        "copy_on_read='on'",
        "rotation_rate='7200'",
        "trans='lba'",
        "discard_granularity='8192'",
        "dumpCore='on'",
    ] {
        assert!(live.contains(part), "{part} in\n{live}");
    }
    st.stop("props");
}

/// External snapshots and block jobs work on the image chain, which the
/// copy-on-read filter hides: they are refused by name, and the domain
/// runs on unchanged.
#[test]
fn a_copy_on_read_disk_refuses_external_snapshots_by_name() {
    let st = State::new("cor-snap");
    let img = st.root().join("a.qcow2");
    image(&img, "qcow2");
    let xml = firmware_vm(
        "cs",
        "",
        &format!(
            "<disk type='file' device='disk'><driver name='qemu' type='qcow2' copy_on_read='on'/><source file='{}'/><target dev='vda' bus='virtio'/></disk>",
            img.display()
        ),
    );
    st.start(&xml);
    let d = st.driver();
    let dom = d.lookup_by_name("cs").unwrap();
    let e = d
        .snapshot_create_xml(
            &dom,
            "<domainsnapshot><name>s1</name></domainsnapshot>",
            qvirt::driver::SnapshotCreateFlags::DISK_ONLY,
        )
        .expect_err("a disk-only snapshot of a copy-on-read disk");
    assert_eq!(e.code, qvirt::ErrorCode::ConfigUnsupported, "{e}");
    assert!(e.message.contains("copy-on-read filter"), "{e}");
    drop(d);
    let mut qmp = st.qmp("cs");
    assert_eq!(
        qmp.inserted("virtio-disk0")["node-name"],
        "virtio-disk0-copy-on-read"
    );
    drop(qmp);
    st.stop("cs");
}
