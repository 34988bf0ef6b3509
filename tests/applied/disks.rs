//! A disk's own defaults, seen on the running VM and its images:
//! `<source startupPolicy>` (a missing medium or disk dropped or the
//! start refused, in QEMU's `query-block`) and `snapshot='no'` (the disk
//! left out of a snapshot, in its qcow2 image's snapshot table).

use std::path::Path;

use qvirt::driver::SnapshotCreateFlags;

use crate::support::{State, firmware_vm, qemu_img};

fn disk(path: &Path, dev: &str, extra: &str) -> String {
    format!(
        "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='{}'{extra}/><target dev='{dev}' bus='virtio'/></disk>",
        path.display()
    )
}

/// On a boot, an `optional` cdrom whose image is gone starts empty and an
/// `optional` disk whose image is gone is left out, while the definition
/// keeps both; `requisite` and `mandatory` (the default) refuse the start
/// naming the file.
#[test]
fn a_missing_source_is_dropped_or_refused_by_its_startup_policy() {
    let st = State::new("startup-policy");
    let present = st.root().join("present.qcow2");
    qemu_img(&[
        "create",
        "-q",
        "-f",
        "qcow2",
        present.to_str().unwrap(),
        "16M",
    ]);
    let gone = st.root().join("gone.qcow2");
    let gone_iso = st.root().join("gone.iso");
    let cdrom = |policy: &str| {
        format!(
            "<disk type='file' device='cdrom'><source file='{}' startupPolicy='{policy}'/><target dev='hdc' bus='ide'/><readonly/></disk>",
            gone_iso.display()
        )
    };
    let xml = firmware_vm(
        "sp",
        "",
        &(disk(&present, "vda", "")
            + &disk(&gone, "vdb", " startupPolicy='optional'")
            + &cdrom("optional")),
    );
    st.start(&xml);
    let mut qmp = st.qmp("sp");
    assert!(qmp.inserted("virtio-disk0").is_object(), "vda is there");
    assert!(
        qmp.inserted("ide0-1-0").is_null(),
        "the cdrom drive is empty"
    );
    let block = qmp.exec("query-block", serde_json::json!({}));
    assert!(
        qvirt::qemu::qmp::device_entry(&block, "virtio-disk1").is_none(),
        "vdb is left out: {block}"
    );
    drop(qmp);
    let live = st.live_xml("sp");
    assert!(
        !live.contains("gone.qcow2") && !live.contains("gone.iso"),
        "{live}"
    );
    let d = st.driver();
    let dom = d.lookup_by_name("sp").unwrap();
    let inactive = d.xml_desc(&dom, qvirt::driver::XmlFlags::INACTIVE).unwrap();
    assert!(
        inactive.contains("gone.qcow2") && inactive.contains("startupPolicy='optional'"),
        "{inactive}"
    );
    drop(d);
    st.stop("sp");
    for (name, devices, path) in [
        ("sp-req", cdrom("requisite"), &gone_iso),
        (
            "sp-man",
            disk(&gone, "vda", " startupPolicy='mandatory'"),
            &gone,
        ),
        ("sp-def", disk(&gone, "vda", ""), &gone),
    ] {
        let e = st
            .try_start(&firmware_vm(name, "", &devices))
            .expect_err(name);
        assert!(
            e.message.contains(path.to_str().unwrap()),
            "{name}: {}",
            e.message
        );
        let d = st.driver();
        d.undefine(&d.lookup_by_name(name).unwrap()).unwrap();
    }
}

/// A disk marked `snapshot='no'` is left out of a snapshot that does not
/// name it; the other disk's image holds the snapshot.
#[test]
fn a_disk_marked_snapshot_no_is_left_out() {
    let st = State::new("disk-snapshot-no");
    let kept = st.root().join("kept.qcow2");
    let skipped = st.root().join("skipped.qcow2");
    for p in [&kept, &skipped] {
        qemu_img(&["create", "-q", "-f", "qcow2", p.to_str().unwrap(), "16M"]);
    }
    let xml = firmware_vm(
        "snapno",
        "",
        &(disk(&kept, "vda", "")
            + &disk(&skipped, "vdb", "").replace(
                "<disk type='file' device='disk'>",
                "<disk type='file' device='disk' snapshot='no'>",
            )),
    );
    let d = st.driver();
    let dom = d.define_xml(&xml).unwrap();
    let snap = d
        .snapshot_create_xml(
            &dom,
            "<domainsnapshot><name>s1</name></domainsnapshot>",
            SnapshotCreateFlags::default(),
        )
        .unwrap();
    let x = d.snapshot_xml(&snap).unwrap();
    assert!(x.contains("<disk name='vdb' snapshot='no'/>"), "{x}");
    drop(d);
    let list = |p: &Path| qemu_img(&["snapshot", "-l", "-U", p.to_str().unwrap()]);
    assert!(list(&kept).contains("s1"), "{}", list(&kept));
    assert!(!list(&skipped).contains("s1"), "{}", list(&skipped));
    // Named in the snapshot, the disk is in it.
    let d = st.driver();
    let dom = d.lookup_by_name("snapno").unwrap();
    d.snapshot_create_xml(
        &dom,
        "<domainsnapshot><name>s2</name><disks><disk name='vdb' snapshot='internal'/></disks></domainsnapshot>",
        SnapshotCreateFlags::default(),
    )
    .unwrap();
    assert!(list(&skipped).contains("s2"), "{}", list(&skipped));
}

/// `<source><seclabel model='dac' relabel='no'/>`: the image keeps its
/// owner and mode while the domain runs (qvirt relabels no file, which
/// is what the element asks).
#[test]
fn a_source_marked_norelabel_keeps_its_owner_and_mode() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let st = State::new("norelabel");
    let img = st.root().join("labelled.qcow2");
    qemu_img(&["create", "-q", "-f", "qcow2", img.to_str().unwrap(), "16M"]);
    nix::unistd::chown(&img, Some(nix::unistd::Uid::from_raw(4242)), None).unwrap();
    std::fs::set_permissions(&img, std::fs::Permissions::from_mode(0o660)).unwrap();
    let xml = firmware_vm(
        "nr",
        "",
        &disk(&img, "vda", "").replacen(
            &format!("<source file='{}'/>", img.display()),
            &format!(
                "<source file='{}'><seclabel model='dac' relabel='no'/></source>",
                img.display()
            ),
            1,
        ),
    );
    st.start(&xml);
    let meta = std::fs::metadata(&img).unwrap();
    assert_eq!((meta.uid(), meta.mode() & 0o777), (4242, 0o660));
    assert!(
        st.live_xml("nr")
            .contains("<seclabel model='dac' relabel='no'/>")
    );
    st.stop("nr");
}
