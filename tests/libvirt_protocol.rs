//! libvirt's protocol as qvirtd serves it, driven by a raw client where a
//! real client cannot be made to misbehave: the handshake, calls before
//! CONNECT_OPEN, unknown procedures (refused by name, the connection
//! goes on), keepalive (answered, and a silent client closed), the
//! read-only socket and the read-only flag, the sockets' modes and uid
//! rules, and a client that never opens. Each test runs a real `qvirtd
//! --root DIR`.

#[allow(dead_code, unused_imports)]
#[path = "daemon/support.rs"]
mod support;

#[path = "libvirt/lv.rs"]
mod lv;

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use lv::*;
use qvirt::transport::libvirt::frame::{
    Header, KEEPALIVE_PING, KEEPALIVE_PONG, KEEPALIVE_PROGRAM, KEEPALIVE_VERSION, Status, Type,
    code,
};
use qvirt::transport::libvirt::types::*;
use qvirt::transport::libvirt::xdr::from_bytes;
use support::*;

fn int(body: &[u8]) -> i32 {
    i32::from_be_bytes(body[..4].try_into().unwrap())
}

#[test]
fn the_handshake_of_virsh_opens_and_close_ends_the_connection() {
    let dir = TestDir::new("lvhs");
    let _d = Daemon::start(&dir.path, &[]);
    let mut c = Raw::connect(&lv_socket(&dir.path));
    let auth: AuthListRet = from_bytes(&c.call(66, &()).unwrap(), "auth").unwrap();
    assert_eq!(auth.types, vec![0], "REMOTE_AUTH_NONE");
    for (feature, supported) in [(10, 1), (8, 0), (9, 1)] {
        let body = c.call(60, &FeatureArgs { feature }).unwrap();
        assert_eq!(int(&body), supported, "feature {feature}");
    }
    c.call(
        1,
        &OpenArgs {
            name: Some("qemu:///session".into()),
            flags: 0,
        },
    )
    .expect("CONNECT_OPEN");
    for feature in [14, 15] {
        assert_eq!(int(&c.call(60, &FeatureArgs { feature }).unwrap()), 1);
    }
    let v: LibVersionRet = from_bytes(&c.call(157, &()).unwrap(), "v").unwrap();
    assert_eq!(v.lib_ver, 9_000_000);
    let t: TypeRet = from_bytes(&c.call(3, &()).unwrap(), "t").unwrap();
    assert_eq!(t.kind, "QEMU");
    let u: UriRet = from_bytes(&c.call(110, &()).unwrap(), "u").unwrap();
    assert_eq!(u.uri, "qemu:///session");
    c.call(360, &()).unwrap();
    c.call(361, &()).unwrap();
    // A second open is refused; the connection goes on.
    let e = c
        .call(
            1,
            &OpenArgs {
                name: None,
                flags: 0,
            },
        )
        .unwrap_err();
    assert_eq!(e.code, code::OPERATION_INVALID);
    c.call(2, &()).expect("CONNECT_CLOSE is answered");
    assert!(matches!(c.read(), Got::Closed), "then the daemon closes");
}

#[test]
fn calls_before_open_and_unknown_uris_are_refused() {
    let dir = TestDir::new("lvpre");
    let _d = Daemon::start(&dir.path, &[]);
    let mut c = Raw::connect(&lv_socket(&dir.path));
    let e = c.call(23, &NameArgs { name: "x".into() }).unwrap_err();
    assert_eq!(e.code, code::RPC);
    assert!(
        e.message
            .as_deref()
            .unwrap()
            .contains("connection not open"),
        "{e:?}"
    );
    let e = c
        .call(
            1,
            &OpenArgs {
                name: Some("xen:///system".into()),
                flags: 0,
            },
        )
        .unwrap_err();
    assert_eq!(e.code, code::INVALID_ARG);
    assert!(e.message.as_deref().unwrap().contains("xen:///system"));
    // Still served: the proper open works.
    c.call(
        1,
        &OpenArgs {
            name: Some("qemu:///system".into()),
            flags: 0,
        },
    )
    .unwrap();
}

#[test]
fn unknown_procedures_get_no_support_by_name_and_the_connection_goes_on() {
    let dir = TestDir::new("lvunk");
    let _d = Daemon::start(&dir.path, &[]);
    let mut c = Raw::connect(&lv_socket(&dir.path));
    c.open(false, 0);
    for (proc, name) in [
        (68, "AUTH_SASL_START"),
        (250, "NODE_SUSPEND_FOR_DURATION"),
        (9999, "#9999"),
        (-3, "#-3"),
    ] {
        let e = c.call(proc, &()).unwrap_err();
        assert_eq!(e.code, code::NO_SUPPORT, "{proc}");
        let m = e.message.unwrap();
        assert!(m.contains(name) && m.contains(&proc.to_string()), "{m}");
    }
    // Another program, a call passing descriptors: refused, not dropped;
    // a reply comes in its call's program. libvirt's qemu program is
    // served (its monitor command), and arguments it cannot decode are
    // an RPC error there.
    for (prog, serial) in [(0x2000_9999u32, 76u32), (0x2000_8087, 77)] {
        c.send(
            &Header {
                prog,
                vers: 1,
                proc: 1,
                kind: Type::Call,
                serial,
                status: Status::Ok,
            },
            &[],
        );
        let e = c.reply_in(prog, serial).unwrap_err();
        assert_eq!(e.code, code::RPC, "program {prog:#x}");
    }
    c.send(
        &Header::remote(10, Type::CallWithFds, 78, Status::Ok),
        &[0, 0, 0, 0],
    );
    assert_eq!(c.reply(78).unwrap_err().code, code::NO_SUPPORT);
    // Arguments that do not decode: an RPC error for that call.
    c.send(
        &Header::remote(23, Type::Call, 79, Status::Ok),
        &[0, 0, 0, 9],
    );
    assert_eq!(c.reply(79).unwrap_err().code, code::RPC);
    let n: NumRet = from_bytes(&c.call(51, &()).unwrap(), "n").unwrap();
    assert_eq!(n.num, 0, "the connection still answers");
}

fn keepalive(proc: i32) -> Header {
    Header {
        prog: KEEPALIVE_PROGRAM,
        vers: KEEPALIVE_VERSION,
        proc,
        kind: Type::Message,
        serial: 0,
        status: Status::Ok,
    }
}

#[test]
fn keepalive_pings_are_answered_with_pongs() {
    let dir = TestDir::new("lvping");
    let _d = Daemon::start(&dir.path, &[]);
    let mut c = Raw::connect(&lv_socket(&dir.path));
    // Even before the connection is open, as libvirtd.
    for _ in 0..3 {
        c.send(&keepalive(KEEPALIVE_PING), &[]);
        match c.read() {
            Got::Msg(h, body) => {
                assert_eq!(h, keepalive(KEEPALIVE_PONG));
                assert!(body.is_empty());
            }
            Got::Closed => panic!("closed instead of a PONG"),
        }
    }
}

#[test]
fn a_client_that_asked_for_keepalive_and_goes_silent_is_closed() {
    let dir = TestDir::new("lvka");
    let _d = Daemon::start(
        &dir.path,
        &["--keepalive-interval", "1", "--keepalive-count", "2"],
    );
    // One that answers every PING stays: more PINGs than the count, then a
    // call is still answered.
    let mut alive = Raw::connect(&lv_socket(&dir.path));
    alive.open(true, 0);
    let mut silent = Raw::connect(&lv_socket(&dir.path));
    silent.open(true, 0);
    for _ in 0..4 {
        match alive.read() {
            Got::Msg(h, _) if h == keepalive(KEEPALIVE_PING) => {
                alive.send(&keepalive(KEEPALIVE_PONG), &[])
            }
            other => panic!("expected a PING, got {other:?}"),
        }
    }
    alive.call(51, &()).expect("an answering client is served");
    // The silent one hears its two PINGs, then the end.
    let mut pings = 0;
    loop {
        match silent.read() {
            Got::Msg(h, _) if h == keepalive(KEEPALIVE_PING) => pings += 1,
            Got::Msg(h, _) => panic!("unexpected {h:?}"),
            Got::Closed => break,
        }
    }
    assert_eq!(pings, 2, "keepalive_count PINGs, then closed");
    // A client that never asked for keepalive is never pinged nor closed
    // for silence: its next call, after the others' deadlines, is answered.
    let mut quiet = Raw::connect(&lv_socket(&dir.path));
    quiet.open(false, 0);
    let mut other = Raw::connect(&lv_socket(&dir.path));
    other.open(true, 0);
    while let Got::Msg(h, _) = other.read() {
        assert_eq!(h, keepalive(KEEPALIVE_PING));
    }
    quiet
        .call(51, &())
        .expect("no keepalive asked, no keepalive enforced");
}

#[test]
fn the_read_only_socket_and_flag_refuse_changing_calls() {
    let dir = TestDir::new("lvro");
    let _d = Daemon::start(&dir.path, &["--read-only-socket"]);
    let rw = lv_socket(&dir.path);
    let ro = lv_socket_ro(&dir.path);
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&rw), 0o600);
    assert_eq!(mode(&ro), 0o666);
    let xml = firmware_vm("ro-vm");
    virsh_ok(
        &rw,
        &[
            "define",
            write_file(&dir.path, "ro.xml", &xml).to_str().unwrap(),
        ],
    );

    // The read-only socket, opened without VIR_CONNECT_RO, and the
    // read-write socket opened with it: both refuse what changes state.
    for (socket, flags) in [(&ro, 0), (&rw, 1)] {
        let mut c = Raw::connect(socket);
        c.open(false, flags);
        let e = c.call(11, &XmlArgs { xml: xml.clone() }).unwrap_err();
        assert_eq!(e.code, code::OPERATION_DENIED);
        assert!(e.message.unwrap().contains("read only access"));
        let dom: DomRet = from_bytes(
            &c.call(
                23,
                &NameArgs {
                    name: "ro-vm".into(),
                },
            )
            .unwrap(),
            "dom",
        )
        .unwrap();
        for proc in [9, 12, 35] {
            let e = c
                .call(
                    proc,
                    &DomArgs {
                        dom: dom.dom.clone(),
                    },
                )
                .unwrap_err();
            assert_eq!(e.code, code::OPERATION_DENIED, "procedure {proc}");
        }
        // Secrets are only for read-write connections; the XML without
        // them is for anyone.
        let e = c
            .call(
                14,
                &DomFlagsArgs {
                    dom: dom.dom.clone(),
                    flags: 1,
                },
            )
            .unwrap_err();
        assert_eq!(e.code, code::OPERATION_DENIED);
        c.call(
            14,
            &DomFlagsArgs {
                dom: dom.dom.clone(),
                flags: 0,
            },
        )
        .expect("the plain XML");
    }
    // virsh, unmodified, on the read-only socket.
    assert!(virsh_ok(&ro, &["list", "--all"]).contains("ro-vm"));
    let err = virsh_err(&ro, &["start", "ro-vm"]);
    assert!(err.contains("read only access prevents"), "{err}");
    assert!(virsh_ok(&rw, &["domstate", "ro-vm"]).contains("shut off"));
}

#[test]
fn another_uid_gets_the_read_only_socket_only() {
    assert!(nix::unistd::geteuid().is_root(), "this test runs as root");
    let dir = TestDir::new("lvuid");
    let _d = Daemon::start(
        &dir.path,
        &["--read-only-socket", "--max-clients-per-uid", "2"],
    );
    virsh_ok(
        &lv_socket(&dir.path),
        &[
            "define",
            write_file(&dir.path, "u.xml", &firmware_vm("uid-vm"))
                .to_str()
                .unwrap(),
        ],
    );
    // Let nobody traverse to the sockets.
    std::fs::set_permissions(&dir.path, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(dir.path.join("run"), std::fs::Permissions::from_mode(0o711)).unwrap();
    let as_nobody = |socket: &std::path::Path, script: &str| {
        Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(PYTHON)
            .arg("-c")
            .arg(script)
            .arg(uri(socket))
            .env("HOME", "/")
            .output()
            .expect("run setpriv")
    };
    let list = "import sys, libvirt\n\
                libvirt.registerErrorHandler(lambda *a: None, None)\n\
                c = libvirt.open(sys.argv[1])\n\
                print([d.name() for d in c.listAllDomains()])\n";
    let out = as_nobody(&lv_socket_ro(&dir.path), list);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("uid-vm"),
        "{out:?}"
    );
    // The read-write socket: its mode keeps nobody out; opened up, the
    // daemon checks the peer's uid itself (SO_PEERCRED).
    std::fs::set_permissions(lv_socket(&dir.path), std::fs::Permissions::from_mode(0o666)).unwrap();
    let out = as_nobody(&lv_socket(&dir.path), list);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{out:?}");
    assert!(err.contains("this socket serves uid 0 only"), "{err}");
    // Per-uid places: a third connection of the same uid is refused,
    // with the reason as the answer to its first call.
    let three = "import sys, libvirt\n\
                 libvirt.registerErrorHandler(lambda *a: None, None)\n\
                 cs = [libvirt.open(sys.argv[1]) for _ in range(2)]\n\
                 try:\n    libvirt.open(sys.argv[1])\n    print('third opened')\n\
                 except libvirt.libvirtError as e:\n    print('third refused:', e)\n";
    let out = as_nobody(&lv_socket_ro(&dir.path), three);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("third refused") && text.contains("too many clients of uid 65534"),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn garbage_closes_only_that_connection_with_a_reason() {
    let dir = TestDir::new("lvidle");
    let _d = Daemon::start(&dir.path, &[]);
    // Garbage: a length below a header's. The reason, then the end; other
    // clients are served all along.
    let mut bad = Raw::connect(&lv_socket(&dir.path));
    use std::io::Write;
    bad.stream.write_all(&[0, 0, 0, 8, 1, 2, 3, 4]).unwrap();
    match bad.read() {
        Got::Msg(h, body) => {
            assert_eq!((h.kind, h.status), (Type::Reply, Status::Error));
            let e = qvirt::transport::libvirt::frame::RemoteError::decode(&body).unwrap();
            assert_eq!(e.code, code::RPC);
        }
        Got::Closed => panic!("closed without a reason"),
    }
    assert!(matches!(bad.read(), Got::Closed));
    let mut good = Raw::connect(&lv_socket(&dir.path));
    good.open(false, 0);
    good.call(51, &()).unwrap();
}

#[test]
fn a_client_that_does_not_open_in_time_is_told_and_closed() {
    use qvirt::transport::server::{Limits, ServeOptions, Server};
    use std::sync::Arc;
    let dir = TestDir::new("lvslow");
    let driver = Arc::new(qvirt::LocalDriver::open_embedded(&dir.path.join("state")).unwrap());
    let log = driver.logger();
    let limits = Limits {
        hello_timeout: std::time::Duration::from_millis(300),
        ..Limits::default()
    };
    let server = Server::with_limits(driver, log, limits).unwrap();
    let socket = dir.path.join("lv.sock");
    server
        .listen_libvirt(
            std::os::unix::net::UnixListener::bind(&socket).unwrap(),
            ServeOptions::default(),
        )
        .unwrap();
    let mut c = Raw::connect(&socket);
    // Answered, but AUTH_LIST does not open the connection.
    c.call(66, &()).unwrap();
    match c.read() {
        Got::Msg(h, body) => {
            assert_eq!((h.kind, h.status), (Type::Reply, Status::Error));
            let e = qvirt::transport::libvirt::frame::RemoteError::decode(&body).unwrap();
            assert_eq!(e.code, code::OPERATION_TIMEOUT);
            assert!(e.message.unwrap().contains("CONNECT_OPEN"));
        }
        Got::Closed => panic!("closed without a reason"),
    }
    assert!(matches!(c.read(), Got::Closed));
    server.stop();
}
