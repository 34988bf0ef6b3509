//! The daemon killed at each step of an external disk-only snapshot of a
//! running VM (the library's crash points: the overlay written, its node
//! added in QEMU, the disk switched to it): the manager that takes over
//! finds the snapshot whole (its record current, QEMU and both
//! definitions on the overlay) or not at all (no record, no overlay file,
//! no node left in QEMU, QEMU and the definitions on the image), never
//! between; no pending record stays; the VM runs on; and a kept overlay
//! checks clean once the VM stops.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use qvirt::driver::{Domain, SnapshotCreateFlags, XmlFlags};
use qvirt::{DomainState, Driver};
use serde_json::{Value, json};

use crate::support::*;

/// Runs QMP `cmd` on the domain's QEMU; the `return` member.
fn qmp(d: &dyn Driver, dom: &Domain, cmd: &str, args: Value) -> Value {
    let text = d
        .qemu_monitor_command(dom, &json!({"execute": cmd, "arguments": args}).to_string())
        .unwrap();
    serde_json::from_str::<Value>(&text).unwrap()["return"].clone()
}

/// The file QEMU's one disk reads and writes first.
fn qemu_top(d: &dyn Driver, dom: &Domain) -> String {
    let blocks = qmp(d, dom, "query-block", json!({}));
    let disk = blocks
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["inserted"].is_object())
        .unwrap_or_else(|| panic!("no disk in {blocks}"));
    disk["inserted"]["image"]["filename"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Whether QEMU has a node on `file`.
fn qemu_has_node_on(d: &dyn Driver, dom: &Domain, file: &Path) -> bool {
    let nodes = qmp(d, dom, "query-named-block-nodes", json!({"flat": true}));
    nodes
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n["file"].as_str() == file.to_str())
}

#[test]
fn a_daemon_killed_during_an_external_snapshot_leaves_all_or_nothing() {
    let _heavy = heavy();
    for (point, completes) in [
        ("snapshot-overlays", false),
        ("snapshot-added", false),
        ("snapshot-switched", true),
    ] {
        let dir = TestDir::new("kill-ext");
        let uri = format!("qemu:///embed?root={}", dir.path.display());
        let image = dir.path.join("d.qcow2");
        let overlay = dir.path.join("d.e1");
        let made = Command::new("qemu-img")
            .args(["create", "-q", "-f", "qcow2"])
            .arg(&image)
            .arg("16M")
            .status()
            .unwrap();
        assert!(made.success());
        {
            let daemon = Daemon::start(&dir.path, &[]);
            let d = daemon.connect();
            let disk = format!(
                "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>\
                 <source file='{}'/><target dev='vda' bus='virtio'/></disk>",
                image.display()
            );
            let dom = d.define_xml(&small_vm_xml("x", "", &disk)).unwrap();
            d.start(&dom).unwrap();
        }

        let env = format!("QVIRT_CRASH_AT={point}");
        let mut daemon = Daemon::start_under(&["env", &env], &dir.path, &[]);
        let d = daemon.connect();
        let dom = d.lookup_by_name("x").unwrap();
        let xml = format!(
            "<domainsnapshot><name>e1</name><disks><disk name='vda' snapshot='external'>\
             <source file='{}'/></disk></disks></domainsnapshot>",
            overlay.display()
        );
        let taken = d.snapshot_create_xml(&dom, &xml, SnapshotCreateFlags::DISK_ONLY);
        assert!(taken.is_err(), "{point}: the daemon died before answering");
        let status = daemon.wait_exit(Duration::from_secs(30));
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(9), "{point}: killed at its point");
        drop(d);

        let m = qvirt::connect(&uri).unwrap();
        let dom = m.lookup_by_name("x").unwrap();
        assert_eq!(m.info(&dom).unwrap().state, DomainState::Running, "{point}");
        let listed = snapshot_names(m.as_ref(), &dom);
        let current = m.snapshot_current(&dom).unwrap().map(|s| s.name);
        let top = qemu_top(m.as_ref(), &dom);
        let live = m.xml_desc(&dom, XmlFlags::NONE).unwrap();
        let persistent = m.xml_desc(&dom, XmlFlags::INACTIVE).unwrap();
        let on = |p: &Path| format!("<source file='{}'/>", p.display());
        let pending = snapshot_leftovers(&dir.path);
        assert!(pending.is_empty(), "{point}: left {pending:?}");
        if completes {
            assert_eq!(listed, ["e1"], "{point}");
            assert_eq!(current.as_deref(), Some("e1"), "{point}");
            assert_eq!(
                top,
                overlay.to_str().unwrap(),
                "{point}: QEMU on the overlay"
            );
            assert!(live.contains(&on(&overlay)), "{point}: {live}");
            assert!(persistent.contains(&on(&overlay)), "{point}: {persistent}");
        } else {
            assert!(listed.is_empty(), "{point}: {listed:?}");
            assert_eq!(current, None, "{point}");
            assert!(!overlay.exists(), "{point}: the overlay is removed");
            assert_eq!(top, image.to_str().unwrap(), "{point}: QEMU on the image");
            assert!(
                !qemu_has_node_on(m.as_ref(), &dom, &overlay),
                "{point}: no node left on the overlay: {} / {}",
                qmp(
                    m.as_ref(),
                    &dom,
                    "query-named-block-nodes",
                    json!({"flat": true})
                ),
                std::fs::read_to_string(dir.path.join("log/qvirt.log")).unwrap_or_default()
            );
            assert!(live.contains(&on(&image)), "{point}: {live}");
            assert!(persistent.contains(&on(&image)), "{point}: {persistent}");
        }
        m.destroy(&dom).unwrap();
        if completes {
            assert_qcow2_clean(&overlay, point);
        }
    }
}
