//! The daemon SIGKILLed while it takes an internal snapshot (with
//! memory) of a running VM: the manager that takes over finds a complete
//! snapshot (recorded, and its tag in the image) or none (no record, no
//! tag), never a record the image does not back nor a tag no record
//! names; no half-taken record is left; the VM runs on; and its image
//! checks clean once it stops.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use nix::sys::signal::Signal;
use qvirt::DomainState;
use qvirt::Driver;
use qvirt::driver::SnapshotCreateFlags;
use qvirt::transport::SocketDriver;

use crate::support::*;

/// The snapshot tags `qemu-img` finds in a qcow2 image a QEMU has open.
fn tags(image: &Path) -> Vec<String> {
    let out = Command::new("qemu-img")
        .args(["info", "-U", "--output=json", "-f", "qcow2"])
        .arg(image)
        .output()
        .expect("run qemu-img");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let info: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    info["snapshots"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|s| s["name"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn snap_xml(name: &str) -> String {
    format!("<domainsnapshot><name>{name}</name></domainsnapshot>")
}

/// Defines domain `name` on a qcow2 volume `NAME.qcow2` of the default
/// pool and starts it, through `d`.
fn start_on_a_qcow2_volume(d: &dyn Driver, name: &str) -> qvirt::driver::Domain {
    let pool = d.pool_lookup_by_name("default").unwrap();
    d.vol_create_xml(
        &pool,
        &format!(
            "<volume><name>{name}.qcow2</name><capacity unit='MiB'>16</capacity>\
             <target><format type='qcow2'/></target></volume>"
        ),
    )
    .unwrap();
    let disk = format!(
        "<disk type='volume' device='disk'><source pool='default' volume='{name}.qcow2'/>\
         <target dev='vda' bus='virtio'/></disk>"
    );
    let dom = d.define_xml(&small_vm_xml(name, "", &disk)).unwrap();
    d.start(&dom).unwrap()
}

#[test]
fn a_daemon_killed_during_a_snapshot_leaves_all_or_nothing() {
    let _heavy = heavy();
    let dir = TestDir::new("kill-snap");
    let mut rng = Rng::from_env("kill-snap");
    let uri = format!("qemu:///embed?root={}", dir.path.display());
    let image = dir.path.join("images").join("s.qcow2");
    // How long a snapshot takes here, to spread the kills over it.
    let took = {
        let daemon = Daemon::start(&dir.path, &[]);
        let d = daemon.connect();
        let dom = start_on_a_qcow2_volume(d.as_ref(), "s");
        let t = std::time::Instant::now();
        d.snapshot_create_xml(&dom, &snap_xml("first"), SnapshotCreateFlags::NONE)
            .unwrap();
        t.elapsed()
    };
    let mut outcomes = BTreeMap::new();
    for round in 0..6 {
        let name = format!("r{round}");
        let mut daemon = Daemon::start(&dir.path, &[]);
        let d = SocketDriver::connect(&daemon.socket, &daemon.uri()).unwrap();
        let dom = d.lookup_by_name("s").unwrap();
        let xml = snap_xml(&name);
        let taker = std::thread::spawn(move || {
            d.snapshot_create_xml(&dom, &xml, SnapshotCreateFlags::NONE)
                .map(drop)
        });
        let delay = rng.below(took.as_micros() as u64 * 5 / 4);
        std::thread::sleep(Duration::from_micros(delay));
        daemon.signal(Signal::SIGKILL);
        daemon.wait_exit(Duration::from_secs(10));
        let answered = taker.join().unwrap().is_ok();

        let m = qvirt::connect(&uri).unwrap();
        let dom = m.lookup_by_name("s").unwrap();
        assert_eq!(
            m.info(&dom).unwrap().state,
            DomainState::Running,
            "round {round}: the VM runs on"
        );
        let listed = snapshot_names(m.as_ref(), &dom);
        let in_image = tags(&image);
        assert_eq!(
            listed, in_image,
            "round {round}: records and the image's tags agree"
        );
        if answered {
            assert!(
                listed.contains(&name),
                "round {round}: an answered snapshot is kept"
            );
        }
        let pending = snapshot_leftovers(&dir.path);
        assert!(pending.is_empty(), "round {round}: left {pending:?}");
        let kept = listed.contains(&name);
        *outcomes
            .entry(if kept { "complete" } else { "none" })
            .or_insert(0) += 1;
        drop(m);
    }
    let m = qvirt::connect(&uri).unwrap();
    let dom = m.lookup_by_name("s").unwrap();
    m.destroy(&dom).unwrap();
    assert_qcow2_clean(&image, "after the kills");
    eprintln!("kill-snapshot: a snapshot takes {took:?}; outcomes {outcomes:?}");
}

/// The daemon killed once QEMU has begun saving a snapshot, and QEMU
/// stopped (SIGSTOP) before the next manager opens: that manager cannot
/// ask QEMU whether the tag was written, so it decides nothing. The
/// half-taken record stays, the next snapshot is refused with the reason
/// (taking it would leave the first undecided), and a manager that can
/// reach QEMU completes the first snapshot whole.
#[test]
fn a_snapshot_cut_off_while_qemu_cannot_answer_is_settled_later_not_guessed() {
    let _heavy = heavy();
    let dir = TestDir::new("kill-snap-mute");
    let uri = format!("qemu:///embed?root={}", dir.path.display());
    let image = dir.path.join("images").join("m.qcow2");
    {
        let daemon = Daemon::start(&dir.path, &[]);
        let d = daemon.connect();
        start_on_a_qcow2_volume(d.as_ref(), "m");
    }
    let mut daemon =
        Daemon::start_under(&["env", "QVIRT_CRASH_AT=snapshot-started"], &dir.path, &[]);
    let d = daemon.connect();
    let dom = d.lookup_by_name("m").unwrap();
    let taken = d.snapshot_create_xml(&dom, &snap_xml("m1"), SnapshotCreateFlags::NONE);
    assert!(taken.is_err(), "the daemon died before answering");
    daemon.wait_exit(Duration::from_secs(30));
    drop(d);

    let qemu = nix::unistd::Pid::from_raw(qemu_pid(&dir.path, "m"));
    nix::sys::signal::kill(qemu, Signal::SIGSTOP).unwrap();
    let mute = qvirt::connect(&uri).unwrap();
    let dom = mute.lookup_by_name("m").unwrap();
    assert_eq!(
        snapshot_leftovers(&dir.path).len(),
        1,
        "the half-taken record stays while QEMU cannot be asked"
    );
    let err = mute
        .snapshot_create_xml(&dom, &snap_xml("m2"), SnapshotCreateFlags::NONE)
        .unwrap_err();
    assert!(err.message.contains("cannot be settled yet"), "{err}");
    nix::sys::signal::kill(qemu, Signal::SIGCONT).unwrap();
    assert!(!snapshot_names(mute.as_ref(), &dom).contains(&"m2".to_string()));
    drop(mute);

    let m = qvirt::connect(&uri).unwrap();
    let dom = m.lookup_by_name("m").unwrap();
    assert_eq!(m.info(&dom).unwrap().state, DomainState::Running);
    assert_eq!(snapshot_names(m.as_ref(), &dom), ["m1"], "completed whole");
    assert_eq!(tags(&image), ["m1"]);
    assert!(snapshot_leftovers(&dir.path).is_empty());
    m.destroy(&dom).unwrap();
    assert_qcow2_clean(&image, "after the settled snapshot");
}
