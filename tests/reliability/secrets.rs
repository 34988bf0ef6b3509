//! Secrets leave the daemon only on a read-write connection that asks
//! for them: a domain's XML omits its VNC password unless
//! `XmlFlags::SECURE` (`dumpxml --security-info`) is given, and a
//! read-only connection asking for it is refused, whoever it is. And a
//! client sends nothing to a socket that another user serves.

use std::process::Command;

use qvirt::driver::XmlFlags;
use qvirt::transport::SocketDriver;
use qvirt::{Driver, ErrorCode};

use std::os::unix::fs::PermissionsExt;

use crate::limits::{Probe, RoDaemon, user};
use crate::support::*;

const SECRET: &str = "s3cr3tpw";

/// `qvirt -c URI ARGS...` as `uid:gid`: (exit code, stdout, stderr).
fn qvirt_as((uid, gid): (u32, u32), uri: &str, args: &[&str]) -> (i32, String, String) {
    let out = Command::new("setpriv")
        .arg(format!("--reuid={uid}"))
        .arg(format!("--regid={gid}"))
        .arg("--clear-groups")
        .arg(QVIRT)
        .arg("-c")
        .arg(uri)
        .args(args)
        .env("HOME", "/")
        .output()
        .expect("run setpriv");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// 17.2: over the read-only socket, another user's `dumpxml` (live and
/// `--inactive`) shows no password, and `--security-info` is refused;
/// on the read-write socket the password is there only when asked for.
#[test]
fn the_read_only_socket_never_gives_secrets() {
    // VNC ports are chosen free, one VM at a time: not beside the other
    // tests that start VNC displays.
    let _heavy = heavy();
    let d = RoDaemon::start("secrets", &[]);
    let rw = d.daemon.connect();
    let vnc = format!("<graphics type='vnc' autoport='yes' listen='127.0.0.1' passwd='{SECRET}'/>");
    let dom = rw
        .define_xml(&small_vm_xml("fw-pw", "", &vnc))
        .expect("define");
    let dom = rw.start(&dom).expect("start");

    let other = other_user();
    let ro_uri = format!("qemu+unix:///system?socket={}", d.ro.display());
    for args in [
        &["dumpxml", "fw-pw"][..],
        &["dumpxml", "--inactive", "fw-pw"],
    ] {
        let (code, out, err) = qvirt_as(other, &ro_uri, args);
        assert_eq!(code, 0, "{args:?}: {err}");
        assert!(out.contains("<graphics type='vnc'"), "{args:?}: {out}");
        assert!(
            !out.contains(SECRET) && !out.contains("passwd"),
            "{args:?} shows the password: {out}"
        );
    }
    for args in [
        &["dumpxml", "--security-info", "fw-pw"][..],
        &["dumpxml", "--inactive", "--security-info", "fw-pw"],
    ] {
        let (code, out, err) = qvirt_as(other, &ro_uri, args);
        assert_eq!(code, 1, "{args:?} was not refused: {out}");
        assert!(!out.contains(SECRET), "{args:?}: {out}");
        assert!(err.contains("read-only"), "{args:?}: {err}");
    }

    // Root on the read-only socket is refused too: the socket decides.
    let ro = SocketDriver::connect(&d.ro, "qemu:///system").unwrap();
    let e = assert_code(
        ro.xml_desc(&dom, XmlFlags::SECURE),
        ErrorCode::OperationDenied,
    );
    assert!(e.message.contains("secrets"), "{e}");
    assert!(!ro.xml_desc(&dom, XmlFlags::NONE).unwrap().contains(SECRET));

    // The read-write socket: no password unless asked for.
    for flags in [XmlFlags::NONE, XmlFlags::INACTIVE] {
        assert!(!rw.xml_desc(&dom, flags).unwrap().contains("passwd"));
        let xml = rw.xml_desc(&dom, flags | XmlFlags::SECURE).unwrap();
        assert!(xml.contains(&format!("passwd='{SECRET}'")), "{xml}");
    }
    let out = Command::new(QVIRT)
        .args(["-c", &d.daemon.uri(), "dumpxml", "--security-info", "fw-pw"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains(SECRET));
    rw.destroy(&dom).unwrap();
}

/// 17.9: in a directory others can write to, another user's fake daemon
/// waits at the socket path a client was told to use. The client checks
/// who serves it (`SO_PEERCRED`: its own uid or root) and sends nothing:
/// neither another user's `qvirt define` nor root's library client.
#[test]
fn a_client_sends_nothing_to_a_daemon_of_another_user() {
    let dir = TestDir::new("fake");
    std::fs::set_permissions(&dir.path, std::fs::Permissions::from_mode(0o755)).unwrap();
    let shared = dir.path.join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).unwrap();
    let socket = shared.join("qvirt-sock");
    let xml = shared.join("vm.xml");
    std::fs::write(&xml, firmware_xml("fw-leak")).unwrap();
    std::fs::set_permissions(&xml, std::fs::Permissions::from_mode(0o644)).unwrap();

    let attacker = other_user();
    let mut fake = Probe::start(attacker, "fake-daemon", &socket);
    assert_eq!(fake.line(), "listening");

    let uri = format!("qemu+unix:///session?socket={}", socket.display());
    let victim = user("qvirt-test-other2");
    let (code, _, err) = qvirt_as(victim, &uri, &["define", xml.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(&format!("served by uid {}", attacker.0)) && err.contains("refusing"),
        "{err}"
    );
    assert_eq!(fake.line(), "received=0", "the fake daemon got nothing");

    let e = assert_code(
        SocketDriver::connect(&socket, &uri).map(drop),
        ErrorCode::OperationDenied,
    );
    assert!(e.message.contains("neither you (uid 0) nor root"), "{e}");
    assert_eq!(fake.line(), "received=0");
}
