//! virsh's snapshot verbs (Debian's libvirt-clients 9.0, unmodified)
//! against a real qvirtd's libvirt socket: internal snapshots of a
//! running domain taken, listed as a tree, described, reverted to and
//! deleted, an external disk-only snapshot, and the block verbs that
//! merge overlays (`blockcommit --active --pivot`, `blockpull`,
//! `blockjob`, `domblkinfo`), each checked against what qvirt's own
//! client of the same daemon sees and against the images. Runs as root,
//! with QEMU.

#[allow(dead_code, unused_imports)]
#[path = "daemon/support.rs"]
mod support;

#[path = "libvirt/lv.rs"]
mod lv;

use std::process::Command;

use lv::*;
use qvirt::driver::{DomainState, XmlFlags};
use support::*;

/// A firmware-only domain (it sits in the BIOS) with one qcow2 disk,
/// which holds internal snapshots and their memory.
fn vm_with_disk(name: &str, image: &str) -> String {
    format!(
        "<domain type='qemu'><name>{name}</name><memory unit='MiB'>32</memory>\
         <vcpu>1</vcpu><os><type arch='x86_64' machine='pc'>hvm</type></os>\
         <devices><disk type='file' device='disk'><driver name='qemu' type='qcow2'/>\
         <source file='{image}'/><target dev='vda' bus='virtio'/></disk>\
         <memballoon model='none'/></devices></domain>"
    )
}

/// The names virsh lists, one per line.
fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

#[test]
fn snapshot_verbs_through_virsh() {
    let dir = TestDir::new("lvsnap");
    let daemon = Daemon::start(&dir.path, &[]);
    let socket = lv_socket(&dir.path);
    let qvirt = daemon.connect();
    let virsh = |args: &[&str]| virsh_ok(&socket, args);
    let image = dir.path.join("sv.qcow2");
    let out = Command::new("qemu-img")
        .args(["create", "-q", "-f", "qcow2"])
        .arg(&image)
        .arg("64M")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let xml = write_file(
        &dir.path,
        "sv.xml",
        &vm_with_disk("sv", image.to_str().unwrap()),
    );
    virsh(&["define", xml.to_str().unwrap()]);
    virsh(&["start", "sv"]);

    // Two internal snapshots of the running domain, the second a child of
    // the first.
    assert!(
        virsh(&["snapshot-create-as", "sv", "s1", "--description", "first"])
            .contains("Domain snapshot s1 created")
    );
    assert!(virsh(&["snapshot-create-as", "sv", "s2"]).contains("Domain snapshot s2 created"));
    let dom = qvirt.lookup_by_name("sv").unwrap();
    // The snapshot ran as the domain's job: virsh reads its record.
    let done = virsh(&["domjobinfo", "sv", "--completed"]);
    for (key, value) in [("Job type", "Completed"), ("Operation", "Snapshot")] {
        let found = done
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{key}:")))
            .map(str::trim);
        assert_eq!(found, Some(value), "{key} in\n{done}");
    }
    assert!(
        virsh(&["domjobinfo", "sv"]).contains("Job type:         None"),
        "no job runs now"
    );
    let seen: Vec<String> = qvirt
        .snapshot_list(&dom)
        .unwrap()
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(seen, ["s1", "s2"], "qvirt's client sees what virsh made");

    let listed = virsh(&["snapshot-list", "sv"]);
    assert!(
        listed.contains(" Name") && listed.contains("State"),
        "{listed}"
    );
    for name in ["s1", "s2"] {
        let row = listed
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("no row for {name}:\n{listed}"));
        assert!(row.ends_with("running"), "{row}");
    }
    assert_eq!(
        lines(&virsh(&["snapshot-list", "sv", "--name"])),
        ["s1", "s2"]
    );
    assert_eq!(
        lines(&virsh(&["snapshot-list", "sv", "--roots", "--name"])),
        ["s1"]
    );
    assert_eq!(
        lines(&virsh(&["snapshot-list", "sv", "--leaves", "--name"])),
        ["s2"]
    );
    assert_eq!(
        lines(&virsh(&["snapshot-list", "sv", "--tree"])),
        ["s1", "|", "+- s2"]
    );
    assert_eq!(lines(&virsh(&["snapshot-current", "sv", "--name"])), ["s2"]);
    assert_eq!(lines(&virsh(&["snapshot-parent", "sv", "s2"])), ["s1"]);

    let info = virsh(&["snapshot-info", "sv", "s1"]);
    for (key, value) in [
        ("Name", "s1"),
        ("Domain", "sv"),
        ("Current", "no"),
        ("State", "running"),
        ("Location", "internal"),
        ("Parent", "-"),
        ("Children", "1"),
        ("Descendants", "1"),
        ("Metadata", "yes"),
    ] {
        let found = info
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{key}:")))
            .map(str::trim);
        assert_eq!(found, Some(value), "{key} in\n{info}");
    }
    let dumped = virsh(&["snapshot-dumpxml", "sv", "s1"]);
    assert!(
        dumped.contains("<name>s1</name>") && dumped.contains("<description>first</description>"),
        "{dumped}"
    );

    // Revert, then delete the child.
    virsh(&["snapshot-revert", "sv", "s1"]);
    assert_eq!(lines(&virsh(&["snapshot-current", "sv", "--name"])), ["s1"]);
    assert_eq!(qvirt.info(&dom).unwrap().state, DomainState::Running);
    assert!(virsh(&["snapshot-delete", "sv", "s2"]).contains("Domain snapshot s2 deleted"));
    assert_eq!(lines(&virsh(&["snapshot-list", "sv", "--name"])), ["s1"]);
    let err = virsh_err(&socket, &["snapshot-info", "sv", "s2"]);
    assert!(
        err.contains("Domain snapshot not found") && err.contains("s2"),
        "{err}"
    );

    // An external, disk-only snapshot: the disk moves to a new overlay
    // over the old image.
    assert!(
        virsh(&["snapshot-create-as", "sv", "d1", "--disk-only", "--atomic"])
            .contains("Domain snapshot d1 created")
    );
    let live = qvirt.xml_desc(&dom, XmlFlags::NONE).unwrap();
    let overlay = live
        .split("<source file='")
        .nth(1)
        .and_then(|s| s.split('\'').next())
        .unwrap_or_else(|| panic!("no disk source in {live}"));
    assert_ne!(
        overlay,
        image.to_str().unwrap(),
        "the disk is the overlay now"
    );
    let backing = Command::new("qemu-img")
        .args(["info", "-U", "--output=json", overlay])
        .output()
        .unwrap();
    let backing = String::from_utf8_lossy(&backing.stdout);
    assert!(
        backing.contains(image.to_str().unwrap()),
        "the overlay's backing is the old image: {backing}"
    );
    let info = virsh(&["snapshot-info", "sv", "d1"]);
    assert!(
        info.lines()
            .any(|l| l.starts_with("State:") && l.ends_with("disk-snapshot")),
        "{info}"
    );
    assert_eq!(
        lines(&virsh(&["snapshot-list", "sv", "--disk-only", "--name"])),
        ["d1"]
    );

    // virsh's block verbs: the overlay's sizes, an active commit that
    // pivots back to the image, then no job left.
    let blk = virsh(&["domblkinfo", "sv", "vda"]);
    assert!(
        blk.lines()
            .any(|l| l.starts_with("Capacity:") && l.trim_end().ends_with("67108864")),
        "{blk}"
    );
    // Started with a speed limit, held ready: the limit reaches QEMU
    // (`query-block-jobs`' speed) and `blockjob --info` shows it; a new
    // one replaces it.
    virsh(&["blockcommit", "sv", "vda", "--active", "--bandwidth", "3"]);
    let speed = || {
        let jobs = virsh(&[
            "qemu-monitor-command",
            "sv",
            r#"{"execute":"query-block-jobs"}"#,
        ]);
        let v: serde_json::Value = serde_json::from_str(&jobs).unwrap();
        v["return"][0]["speed"]
            .as_u64()
            .unwrap_or_else(|| panic!("{jobs}"))
    };
    assert_eq!(speed(), 3 << 20);
    let info = virsh(&["blockjob", "sv", "vda", "--info"]);
    assert!(
        info.contains("Bandwidth limit: 3145728 bytes/s (3.000 MiB/s)"),
        "{info}"
    );
    virsh(&["blockjob", "sv", "vda", "--bandwidth", "7"]);
    assert_eq!(speed(), 7 << 20);
    let out = virsh(&["blockjob", "sv", "vda", "--pivot"]);
    assert!(out.trim().is_empty(), "{out}");
    let live = qvirt.xml_desc(&dom, XmlFlags::NONE).unwrap();
    assert!(
        live.contains(&format!("<source file='{}'", image.display())) && !live.contains(overlay),
        "the disk is the image again: {live}"
    );
    assert!(virsh(&["blockjob", "sv", "vda", "--info"]).contains("No current block job for vda"));
    // Another overlay, then a pull: the overlay stands alone.
    virsh(&["snapshot-create-as", "sv", "d2", "--disk-only"]);
    let out = virsh(&["blockpull", "sv", "vda", "--wait"]);
    assert!(out.contains("Pull complete"), "{out}");
    let live = qvirt.xml_desc(&dom, XmlFlags::NONE).unwrap();
    assert!(
        !live.contains("<backingStore type"),
        "no backing chain left: {live}"
    );
    // A copy is refused by name, and no file is made.
    let copy = dir.path.join("copy.img");
    let err = virsh_err(&socket, &["blockcopy", "sv", "vda", copy.to_str().unwrap()]);
    assert!(err.contains("VIR_DOMAIN_BLOCK_REBASE_COPY"), "{err}");
    assert!(!copy.exists());
    virsh(&["destroy", "sv"]);
}
