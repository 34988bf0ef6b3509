//! External disk-only snapshots of a running domain with two disks, on
//! the embedded driver and a real QEMU: both disks switch to their
//! overlays together (one QMP `transaction`), QEMU's view and the
//! definitions agree, a second snapshot stacks on the first, and QEMU
//! writes each disk's new data into its own overlay while the images
//! below keep theirs. The overlays sit in a directory whose name has a
//! space, a comma, a colon and a quote: they reach QEMU as JSON strings,
//! never as option text.

use std::path::{Path, PathBuf};
use std::process::Command;

use qvirt::driver::{Domain, Driver, SnapshotCreateFlags, XmlFlags};
use qvirt::model::{DomainDef, VolumeFormat};
use qvirt::qemu::img;
use serde_json::{Value, json};

/// A state directory and its driver; dropping it destroys the domain
/// if it still runs, then removes the directory.
struct Root {
    dir: PathBuf,
    driver: Box<dyn Driver>,
    dom: Option<Domain>,
}

impl Drop for Root {
    fn drop(&mut self) {
        if let Some(dom) = &self.dom {
            let _ = self.driver.destroy(dom);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs `cmd` on the domain's QEMU; the `return` member.
fn qmp(r: &Root, cmd: &str, args: Value) -> Value {
    let dom = r.dom.as_ref().expect("a domain");
    let text = r
        .driver
        .qemu_monitor_command(dom, &json!({"execute": cmd, "arguments": args}).to_string())
        .expect("a QMP command");
    let reply: Value = serde_json::from_str(&text).expect("JSON");
    reply["return"].clone()
}

/// QEMU's view of the device of disk `target`: (node name, top file,
/// its backing file).
fn top(r: &Root, target: &str) -> (String, String, String) {
    let (node, file, backing, _) = device(r, target);
    (node, file, backing)
}

/// [`top`], and the device's QOM path.
fn device(r: &Root, target: &str) -> (String, String, String, String) {
    let id = device_id(target);
    let blocks = qmp(r, "query-block", json!({}));
    let b = qvirt::qemu::qmp::device_entry(&blocks, &id)
        .unwrap_or_else(|| panic!("no device {id} in {blocks}"));
    let inserted = &b["inserted"];
    (
        inserted["node-name"].as_str().unwrap().to_string(),
        inserted["image"]["filename"].as_str().unwrap().to_string(),
        inserted["image"]["backing-image"]["filename"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        b["qdev"].as_str().unwrap().to_string(),
    )
}

/// The QEMU device id of disk `target` of the test's domain.
fn device_id(target: &str) -> String {
    let def = DomainDef::from_xml(&domain_xml(Path::new("/x"))).unwrap();
    let index = def
        .devices
        .disks
        .iter()
        .position(|d| d.target == target)
        .unwrap();
    qvirt::qemu::argv::disk_device_ids(&def).unwrap()[index].clone()
}

/// The domain: a firmware-only TCG VM with two qcow2 virtio disks,
/// `DIR/vda.qcow2` and `DIR/vdb.qcow2`.
fn domain_xml(dir: &Path) -> String {
    let disk = |d: &str| {
        format!(
            "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>\
             <source file='{}'/><target dev='{d}' bus='virtio'/></disk>",
            dir.join(format!("{d}.qcow2")).display()
        )
    };
    format!(
        "<domain type='qemu'><name>twodisks</name><memory unit='MiB'>64</memory>\
         <os><type arch='x86_64' machine='pc'>hvm</type></os><devices>{}{}\
         <memballoon model='none'/></devices></domain>",
        disk("vda"),
        disk("vdb")
    )
}

/// Whether `qemu-io -f qcow2 -c CMD PATH` succeeds (a `read -P` fails
/// when the bytes differ from the pattern).
fn qemu_io(path: &Path, cmd: &str) -> bool {
    let out = Command::new("qemu-io")
        .args(["-f", "qcow2", "-c", cmd])
        .arg(path)
        .output()
        .expect("qemu-io (qemu-utils)");
    let text = String::from_utf8_lossy(&out.stdout);
    out.status.success() && !text.contains("failed")
}

/// `<domainsnapshot>` named `name` putting each disk's overlay in `dir`.
fn snapshot_xml(name: &str, dir: &Path) -> String {
    let o = |disk: &str| {
        format!(
            "<disk name='{disk}' snapshot='external'><source file='{}'/></disk>",
            dir.join(format!("{disk}.{name}")).display()
        )
    };
    format!(
        "<domainsnapshot><name>{name}</name><disks>{}{}</disks></domainsnapshot>",
        o("vda"),
        o("vdb")
    )
}

#[test]
fn both_disks_switch_to_their_overlays_together() {
    let dir = std::env::temp_dir().join(format!("qvirt-snapdisks-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    // The overlays' directory: its name is not option-safe text.
    let odd = dir.join("o d,d:x\"y");
    std::fs::create_dir_all(&odd).unwrap();
    let base = |d: &str| dir.join(format!("{d}.qcow2"));
    for d in ["vda", "vdb"] {
        img::create(&base(d), VolumeFormat::Qcow2, 16 << 20, &Default::default()).unwrap();
    }
    let driver = qvirt::connect(&format!("qemu:///embed?root={}/state", dir.display())).unwrap();
    let mut r = Root {
        dir: dir.clone(),
        driver,
        dom: None,
    };
    let xml = domain_xml(&dir);
    let dom = r.driver.define_xml(&xml).unwrap();
    r.dom = Some(r.driver.start(&dom).unwrap());
    let overlay = |d: &str, s: &str| odd.join(format!("{d}.{s}"));
    let quoted = |s: &str| s.replace('"', "&quot;");

    let before = [top(&r, "vda").0, top(&r, "vdb").0];
    let dom = r.dom.clone().unwrap();
    r.driver
        .snapshot_create_xml(
            &dom,
            &quoted(&snapshot_xml("s1", &odd)),
            SnapshotCreateFlags::DISK_ONLY,
        )
        .unwrap();
    let mut nodes = Vec::new();
    for d in ["vda", "vdb"] {
        let (node, file, backing) = top(&r, d);
        assert_eq!(
            file,
            overlay(d, "s1").to_str().unwrap(),
            "{d} runs on its overlay"
        );
        assert_eq!(backing, base(d).to_str().unwrap(), "{d}'s image is below");
        assert!(node.starts_with("qv") && node.ends_with("-f"), "{node}");
        nodes.push(node);
    }
    assert_ne!(nodes[0], nodes[1]);
    assert!(!before.contains(&nodes[0]) && !before.contains(&nodes[1]));
    for flags in [XmlFlags::NONE, XmlFlags::INACTIVE] {
        let x = r.driver.xml_desc(&dom, flags).unwrap();
        for d in ["vda", "vdb"] {
            let name = overlay(d, "s1").to_str().unwrap().to_string();
            assert!(
                x.contains(&name) || x.contains(&quoted(&name)),
                "{flags:?} names {name}: {x}"
            );
        }
    }

    // A second snapshot stacks on the first, with new node names.
    r.driver
        .snapshot_create_xml(
            &dom,
            &quoted(&snapshot_xml("s2", &odd)),
            SnapshotCreateFlags::DISK_ONLY,
        )
        .unwrap();
    for d in ["vda", "vdb"] {
        let (node, file, backing) = top(&r, d);
        assert_eq!(file, overlay(d, "s2").to_str().unwrap());
        assert_eq!(backing, overlay(d, "s1").to_str().unwrap());
        assert!(!nodes.contains(&node), "{node} is new");
    }

    // QEMU's block layer writes each disk's data into its top overlay.
    for (d, pattern) in [("vda", "0x5a"), ("vdb", "0xa5")] {
        let said = qmp(
            &r,
            "human-monitor-command",
            json!({"command-line": format!("qemu-io -d {} \"write -P {pattern} 1M 64k\"", device(&r, d).3)}),
        );
        // HMP's qemu-io prints to QEMU's stdout: an empty answer is
        // success, and the files are read below.
        assert_eq!(said.as_str(), Some(""), "{said}");
    }
    r.driver.destroy(&dom).unwrap();
    r.dom = None;
    for (d, pattern) in [("vda", "0x5a"), ("vdb", "0xa5")] {
        let cmd = format!("read -P {pattern} 1M 64k");
        assert!(
            qemu_io(&overlay(d, "s2"), &cmd),
            "{d}'s write is in its overlay"
        );
        assert!(!qemu_io(&overlay(d, "s1"), &cmd), "not in the one below");
        assert!(!qemu_io(&base(d), &cmd), "nor in its image");
        let out = Command::new(img::binary())
            .args(["check", "-q", "-f", "qcow2"])
            .arg(overlay(d, "s2"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// A client that moves a disk onto an overlay of its own through the
/// monitor, after an external snapshot: the manager's next snapshot
/// does not trust what its last one left (the top it would stack on is
/// no longer the disk's), asks QEMU, and refuses, naming the image QEMU
/// now uses; QEMU's chain is left as the client made it.
#[test]
fn a_disk_moved_through_the_monitor_is_seen_by_the_next_snapshot() {
    let dir = std::env::temp_dir().join(format!("qvirt-snapmoved-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let base = |d: &str| dir.join(format!("{d}.qcow2"));
    for d in ["vda", "vdb"] {
        img::create(&base(d), VolumeFormat::Qcow2, 16 << 20, &Default::default()).unwrap();
    }
    let driver = qvirt::connect(&format!("qemu:///embed?root={}/state", dir.display())).unwrap();
    let mut r = Root {
        dir: dir.clone(),
        driver,
        dom: None,
    };
    let dom = r.driver.define_xml(&domain_xml(&dir)).unwrap();
    r.dom = Some(r.driver.start(&dom).unwrap());
    let dom = r.dom.clone().unwrap();
    r.driver
        .snapshot_create_xml(
            &dom,
            &snapshot_xml("s1", &dir),
            SnapshotCreateFlags::DISK_ONLY,
        )
        .unwrap();
    let (s1_node, s1_file, _) = top(&r, "vda");
    assert_eq!(s1_file, dir.join("vda.s1").to_str().unwrap());

    // The client's own overlay, put on top of vda behind the manager.
    let foreign = dir.join("vda.foreign");
    let out = Command::new(img::binary())
        .args(["create", "-q", "-f", "qcow2", "-F", "qcow2", "-b"])
        .arg(&s1_file)
        .arg(&foreign)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    qmp(
        &r,
        "blockdev-add",
        json!({"driver": "qcow2", "node-name": "foreign",
               "file": {"driver": "file", "filename": foreign.to_str().unwrap()},
               "backing": null}),
    );
    qmp(
        &r,
        "blockdev-snapshot",
        json!({"node": s1_node, "overlay": "foreign"}),
    );
    assert_eq!(top(&r, "vda").1, foreign.to_str().unwrap());

    let err = r
        .driver
        .snapshot_create_xml(
            &dom,
            &snapshot_xml("s2", &dir),
            SnapshotCreateFlags::DISK_ONLY,
        )
        .expect_err("vda is no longer where the manager put it");
    assert_eq!(err.code, qvirt::ErrorCode::OperationFailed, "{err}");
    assert!(
        err.message.contains(foreign.to_str().unwrap()),
        "names the image QEMU uses: {err}"
    );
    let (node, file, backing) = top(&r, "vda");
    assert_eq!(
        (node.as_str(), file.as_str(), backing.as_str()),
        ("foreign", foreign.to_str().unwrap(), s1_file.as_str()),
        "QEMU's chain is the client's"
    );
    for d in ["vda", "vdb"] {
        assert!(
            !dir.join(format!("{d}.s2")).exists(),
            "no overlay of s2 is left"
        );
    }
    assert_eq!(top(&r, "vdb").1, dir.join("vdb.s1").to_str().unwrap());
}
