//! `qvirt` over libvirt's protocol: `proto=libvirt` (and a socket named
//! `libvirt-sock`) makes the command line talk to `qvirtd`'s libvirt
//! socket with libvirt's calls, and every verb used here works as over
//! qvirt's own socket; errors keep their meaning.

#[path = "daemon/support.rs"]
#[allow(dead_code)]
mod support;

use std::process::{Command, Output, Stdio};

use support::{Daemon, QVIRT, TestDir, firmware_xml};

fn cli(uri: &str, args: &[&str]) -> Output {
    Command::new(QVIRT)
        .arg("-c")
        .arg(uri)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run qvirt")
}

fn ok(uri: &str, args: &[&str]) -> String {
    let out = cli(uri, args);
    assert!(
        out.status.success(),
        "qvirt {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

#[test]
fn the_command_line_drives_the_libvirt_socket() {
    let dir = TestDir::new("cli-lv");
    let daemon = Daemon::start(&dir.path, &[]);
    let socket = dir.path.join("run/libvirt-sock");
    assert!(socket.exists(), "qvirtd listens on {}", socket.display());
    let uri = format!(
        "qemu+unix:///session?socket={}&proto=libvirt",
        socket.display()
    );
    let xml = dir.path.join("fw-lv.xml");
    std::fs::write(&xml, firmware_xml("fw-lv")).unwrap();
    ok(&uri, &["define", xml.to_str().unwrap()]);
    assert_eq!(ok(&uri, &["list", "--all", "--name"]), "fw-lv\n");
    ok(&uri, &["start", "fw-lv"]);
    let info = ok(&uri, &["dominfo", "fw-lv"]);
    assert!(
        info.lines()
            .any(|l| l.starts_with("State:") && l.contains("running")),
        "{info}"
    );
    // The daemon's own protocol sees what the libvirt client did.
    let d = daemon.connect();
    let dom = d.lookup_by_name("fw-lv").unwrap();
    assert_eq!(
        d.info(&dom).unwrap().state,
        qvirt::driver::DomainState::Running
    );

    // A socket named as libvirt names its own needs no proto=.
    let by_name = format!("qemu+unix:///session?socket={}", socket.display());
    assert_eq!(ok(&by_name, &["list", "--name"]), "fw-lv\n");
    ok(&by_name, &["destroy", "fw-lv"]);
    assert_eq!(ok(&uri, &["list", "--name"]), "");

    // An error crosses libvirt's protocol with its meaning: an unknown
    // domain is named.
    let out = cli(&uri, &["dominfo", "no-such-vm"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no-such-vm"), "{err}");

    ok(&uri, &["undefine", "fw-lv"]);
    assert_eq!(ok(&uri, &["list", "--all", "--name"]), "");
}
