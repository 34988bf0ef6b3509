//! `qemu+ssh://` against a real OpenSSH: a client on host A, an sshd and
//! qvirt daemons on host B (see `ssh/world.rs`), the remote end of every
//! connection the real `qvirtd --proxy`. Needs root and Debian's
//! openssh-server and openssh-client (`scripts/deps.sh`); without them
//! every test here fails saying so.

#[path = "ssh/world.rs"]
#[allow(dead_code)]
mod world;

use std::time::Duration;

use qvirt::driver::ListFilter;
use qvirt::{Driver, ErrorCode};
use world::{World, wait_for};

/// A firmware-only VM: no disk, it sits in the BIOS and starts at once.
fn firmware_xml(name: &str) -> String {
    format!(
        "<domain type='qemu'><name>{name}</name><memory unit='MiB'>32</memory>\
         <vcpu>1</vcpu><os><type arch='x86_64' machine='pc'>hvm</type></os>\
         <devices><memballoon model='none'/></devices></domain>"
    )
}

fn connect(uri: &str) -> Box<dyn Driver> {
    qvirt::connect(uri).unwrap_or_else(|e| panic!("connect {uri}: {e}"))
}

fn names(d: &dyn Driver) -> Vec<String> {
    d.list(ListFilter::ALL)
        .unwrap()
        .into_iter()
        .map(|s| s.domain.name)
        .collect()
}

#[test]
fn system_over_ssh_is_read_write_for_root_and_read_only_for_others() {
    let w = World::new("system");
    let _daemon = w.start_system_daemon();
    let root = connect(&w.uri("root", "system", ""));
    root.define_xml(&firmware_xml("fw-sys")).unwrap();
    assert_eq!(names(&*root), ["fw-sys"]);
    assert_eq!(root.uri(), w.uri("root", "system", ""));

    let tester = connect(&w.uri("tester", "system", ""));
    assert_eq!(names(&*tester), ["fw-sys"], "the read-only socket lists");
    let err = tester.define_xml(&firmware_xml("fw-t")).unwrap_err();
    assert_eq!(err.code, ErrorCode::OperationDenied, "{err}");
    // The proxies ran as their users on host B.
    wait_for("the proxies", Duration::from_secs(10), || {
        (w.b_processes("--proxy").len() == 2).then_some(())
    });
}
