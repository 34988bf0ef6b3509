//! Unmodified virsh (Debian's libvirt-clients) through libvirt's own ssh
//! transport: `virsh -c qemu+ssh://USER@HOST-B/system` runs ssh with
//! libvirt's remote command (`virt-ssh-helper URI` when the host has it,
//! else `nc` to libvirt's socket), and on host B `virt-ssh-helper` is
//! qvirtd under that name, which reaches the system daemon's libvirt
//! socket: read-write for root, read-only for others and with `-r`.

use std::process::{Command, Output};

use qvirt::driver::{DomainState, ListFilter};

use crate::world::World;
use crate::{connect, firmware_xml};

/// Runs `virsh ARGS...`.
fn virsh(args: &[&str]) -> Output {
    Command::new("virsh")
        .args(args)
        .env_remove("LIBVIRT_DEFAULT_URI")
        .output()
        .expect("run virsh (libvirt-clients, scripts/deps.sh)")
}

/// Runs `virsh ARGS...`; its stdout, after it succeeded.
fn ok(args: &[&str]) -> String {
    let out = virsh(args);
    assert!(
        out.status.success(),
        "virsh {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn virsh_over_libvirts_ssh_transport() {
    let w = World::new("virsh");
    let _daemon = w.start_system_daemon();
    let root = w.uri("root", "system", "no_tty=1");
    let tester = w.uri("tester", "system", "no_tty=1");
    let q = connect(&w.uri("root", "system", ""));
    q.define_xml(&firmware_xml("fw-virsh")).unwrap();

    let listed = ok(&["-c", &root, "list", "--all", "--name"]);
    assert_eq!(listed.trim(), "fw-virsh");
    ok(&["-c", &root, "start", "fw-virsh"]);
    let dom = q.lookup_by_name("fw-virsh").unwrap();
    assert_eq!(q.info(&dom).unwrap().state, DomainState::Running);
    assert_eq!(w.b_processes("guest=fw-virsh").len(), 1, "QEMU runs on B");
    assert_eq!(ok(&["-c", &root, "domstate", "fw-virsh"]).trim(), "running");
    // Read-only: a user other than root, and root with -r.
    for args in [vec!["-c", &tester], vec!["-r", "-c", &root]] {
        let mut list = args.clone();
        list.extend(["list", "--name"]);
        assert_eq!(ok(&list).trim(), "fw-virsh", "{args:?}");
        let mut destroy = args.clone();
        destroy.extend(["destroy", "fw-virsh"]);
        let out = virsh(&destroy);
        assert!(!out.status.success(), "{args:?} destroyed");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("read"), "{args:?}: {err}");
        assert_eq!(q.info(&dom).unwrap().state, DomainState::Running);
    }

    ok(&["-c", &root, "destroy", "fw-virsh"]);
    assert_eq!(q.info(&dom).unwrap().state, DomainState::Shutoff);
    ok(&["-c", &root, "undefine", "fw-virsh"]);
    assert!(q.list(ListFilter::ALL).unwrap().is_empty());

    // qvirt's own client reaches the same socket with libvirt's
    // protocol (proto=libvirt) and sees the same (now empty) list.
    let lv = qvirt::connect(&w.uri("root", "system", "proto=libvirt")).unwrap();
    assert!(lv.list(ListFilter::ALL).unwrap().is_empty());
}
