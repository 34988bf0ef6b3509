//! Tests of the daemon `qvirtd` with a real `qemu-system-x86_64`: the
//! built binary is started on a fresh directory per test and driven
//! through `qvirt::connect`, the `qvirt` command line (where the client
//! must be another process: other environment variables, another uid),
//! or raw frames. What the binary cannot be told (another uid to admit,
//! a read-only socket outside system mode) is tested on an in-process
//! `Server` with those `ServeOptions`.
//!
//! System mode (`--system`) is not started here: it would take the host's
//! `/run/qvirt`. Its read-only socket is the `read_only` option, tested
//! in-process.

#[path = "daemon/support.rs"]
mod support;

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use nix::sys::signal::Signal;
use qvirt::driver::XmlFlags;
use qvirt::driver::{DomainState, EventKind, ListFilter, StateReason};
use qvirt::model::SecretUsageType;
use qvirt::transport::SocketDriver;
use qvirt::transport::server::ServeOptions;
use qvirt::transport::wire::{Call, Frame, Kind, PROTOCOL_VERSION, Reply};
use qvirt::{Driver, ErrorCode};
use support::*;
use uuid::Uuid;

/// The running domains as (name, id), sorted by name.
fn running(d: &dyn Driver) -> Vec<(String, u32)> {
    d.list(ListFilter::ACTIVE)
        .expect("list")
        .into_iter()
        .map(|s| {
            assert_eq!(s.state, DomainState::Running, "{}", s.domain.name);
            (
                s.domain.name,
                s.domain.id.expect("a running domain has an id"),
            )
        })
        .collect()
}

/// Defines and starts the firmware VM `name`; returns its running id.
fn define_and_start(d: &dyn Driver, name: &str) -> u32 {
    let dom = d.define_xml(&firmware_xml(name)).expect("define");
    let dom = d.start(&dom).expect("start");
    dom.id.expect("a started domain has an id")
}

/// The errors a client sees for a fixed series of mistakes, as (what,
/// code, message), with the URI of the manager's state (`root`'s embedded
/// URI, which messages name) replaced by `URI`. `d` manages `root`, fresh.
fn mistakes(d: &dyn Driver, root: &Path) -> Vec<(&'static str, ErrorCode, String)> {
    let state_uri = format!("qemu:///embed?root={}", root.display());
    let uuid = Uuid::from_u128(0x5eed);
    let xml = firmware_xml("fw-err");
    let with_uuid = xml.replace("<name>", &format!("<uuid>{uuid}</uuid><name>"));
    let dom = d.define_xml(&with_uuid).expect("define fw-err");
    let other_uuid = with_uuid.replace(&uuid.to_string(), &Uuid::from_u128(0xbad).to_string());
    let ghost = qvirt::Domain {
        name: "ghost".into(),
        uuid: Uuid::from_u128(0x6057),
        id: None,
    };
    let started = d.start(&dom).expect("start fw-err");
    let results: Vec<(&'static str, qvirt::Result<()>)> = vec![
        ("lookup_by_name", d.lookup_by_name("ghost").map(drop)),
        ("lookup_by_uuid", d.lookup_by_uuid(ghost.uuid).map(drop)),
        ("lookup_by_id", d.lookup_by_id(9999).map(drop)),
        ("info of ghost", d.info(&ghost).map(drop)),
        ("define garbage", d.define_xml("this is <not xml").map(drop)),
        ("define a non-domain", d.define_xml("<network/>").map(drop)),
        ("define a name twice", d.define_xml(&other_uuid).map(drop)),
        ("create a defined name", d.create_xml(&xml).map(drop)),
        ("start a running domain", d.start(&started).map(drop)),
        ("resume a running domain", d.resume(&started).map(drop)),
    ];
    d.destroy(&started).expect("destroy fw-err");
    results
        .into_iter()
        .map(|(what, r)| {
            let e = r.expect_err(what);
            (what, e.code, e.message.replace(&state_uri, "URI"))
        })
        .collect()
}

#[test]
fn root_daemon_runs_a_vm_and_reports_errors_like_the_embedded_driver() {
    let dir = TestDir::new("root");
    let daemon = Daemon::start(&dir.path, &[]);
    let d = daemon.connect();
    assert_eq!(d.uri(), daemon.uri());

    let dom = d.define_xml(&firmware_xml("fw1")).unwrap();
    assert_eq!(dom.id, None);
    assert_eq!(d.lookup_by_name("fw1").unwrap(), dom);
    let started = d.start(&dom).unwrap();
    let id = started.id.expect("an id once running");
    assert_eq!(running(&*d), [("fw1".to_string(), id)]);
    assert_eq!(d.lookup_by_id(id).unwrap().uuid, dom.uuid);
    assert_eq!(d.info(&started).unwrap().state, DomainState::Running);
    assert!(process_alive(qemu_pid(&dir.path, "fw1")));
    assert!(
        d.xml_desc(&started, XmlFlags::NONE)
            .unwrap()
            .contains("<name>fw1</name>")
    );
    d.destroy(&started).unwrap();
    let all = d.list(ListFilter::ALL).unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].state, DomainState::Shutoff);
    assert_eq!(d.info(&dom).unwrap().reason, StateReason::Destroyed);
    d.undefine(&dom).unwrap();
    assert!(d.list(ListFilter::ALL).unwrap().is_empty());

    // The same mistakes through the daemon and in-process: same codes,
    // same words.
    let through_daemon = mistakes(&*d, &dir.path);
    let embedded_dir = TestDir::new("root-emb");
    let embedded = qvirt::connect(&format!(
        "qemu:///embed?root={}",
        embedded_dir.path.display()
    ))
    .unwrap();
    let in_process = mistakes(&*embedded, &embedded_dir.path);
    assert_eq!(through_daemon, in_process);
    let codes: Vec<ErrorCode> = through_daemon.iter().map(|m| m.1).collect();
    use ErrorCode::*;
    assert_eq!(
        codes,
        [
            NoDomain,
            NoDomain,
            NoDomain,
            NoDomain,
            InvalidXml,
            InvalidXml,
            DomainExists,
            DomainExists,
            OperationInvalid,
            OperationInvalid
        ],
        "{through_daemon:#?}"
    );
}

/// A session's environment: HOME and the XDG directories under one test
/// directory, `QVIRT_DAEMON` naming the built daemon.
struct Session {
    dir: TestDir,
}

impl Session {
    fn new(tag: &str) -> Session {
        let dir = TestDir::new(tag);
        for sub in ["home", "config", "state", "cache"] {
            std::fs::create_dir(dir.path.join(sub)).unwrap();
        }
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(dir.path.join("xdg-run"))
            .unwrap();
        Session { dir }
    }

    fn runtime(&self) -> PathBuf {
        self.dir.path.join("xdg-run/qvirt")
    }

    fn socket(&self) -> PathBuf {
        self.runtime().join("qvirt-sock")
    }

    /// A command with this session's environment.
    fn command(&self, program: &str) -> Command {
        let p = |s: &str| self.dir.path.join(s);
        let mut cmd = Command::new(program);
        cmd.env("HOME", p("home"))
            .env("XDG_RUNTIME_DIR", p("xdg-run"))
            .env("XDG_CONFIG_HOME", p("config"))
            .env("XDG_STATE_HOME", p("state"))
            .env("XDG_CACHE_HOME", p("cache"))
            .env("QVIRT_DAEMON", QVIRTD)
            .env_remove("QVIRT_DEFAULT_URI");
        cmd
    }

    /// `qvirt -c qemu:///session ARGS...`, which must succeed; its stdout.
    fn cli(&self, args: &[&str]) -> String {
        let out: Output = self
            .command(QVIRT)
            .args(["-c", "qemu:///session"])
            .args(args)
            .output()
            .expect("run qvirt");
        assert!(
            out.status.success(),
            "qvirt {args:?} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// The pid the state lock names: the session daemon's.
    fn daemon_pid(&self) -> i32 {
        let lock = self.runtime().join("run/lock");
        let text = std::fs::read_to_string(&lock).unwrap();
        text.trim()
            .parse()
            .unwrap_or_else(|_| panic!("{} holds {text:?}", lock.display()))
    }
}

#[test]
fn session_daemon_starts_on_demand_and_keeps_definitions_across_restarts() {
    let s = Session::new("session");
    let out = s.cli(&["list", "--all"]);
    assert!(!out.contains("fws"), "{out}");

    // The daemon came up with a private socket in a private directory.
    let meta = std::fs::symlink_metadata(s.socket()).expect("the session socket exists");
    assert!(meta.file_type().is_socket());
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let dir_mode = std::fs::metadata(s.runtime()).unwrap().permissions().mode();
    assert_eq!(dir_mode & 0o777, 0o700);
    let first = s.daemon_pid();
    assert!(process_alive(first));
    let cmdline = std::fs::read(format!("/proc/{first}/cmdline")).unwrap();
    let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
    assert!(
        cmdline.contains("qvirtd") && cmdline.contains("--session"),
        "{cmdline}"
    );

    let xml = s.dir.path.join("fws.xml");
    std::fs::write(&xml, firmware_xml("fws")).unwrap();
    s.cli(&["define", xml.to_str().unwrap()]);
    assert!(s.dir.path.join("config/qvirt/fws.xml").is_file());

    // SIGTERM: the daemon exits and removes its socket; the next command
    // starts a new one, which has the definition.
    signal(first, Signal::SIGTERM);
    wait_for(
        "the session daemon to exit",
        Duration::from_secs(10),
        || (!process_alive(first)).then_some(()),
    );
    assert!(!s.socket().exists(), "the socket is removed at exit");
    let out = s.cli(&["list", "--all"]);
    assert!(out.contains("fws") && out.contains("shut off"), "{out}");
    let second = s.daemon_pid();
    assert_ne!(second, first);
    assert!(process_alive(second));
}

#[test]
fn idle_session_daemon_exits_on_its_own() {
    let s = Session::new("idle");
    let mut child = s
        .command(QVIRTD)
        .args(["--session", "--timeout", "1"])
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start qvirtd");
    let socket = s.socket();
    let client = wait_for("the daemon to answer", Duration::from_secs(10), || {
        SocketDriver::connect(&socket, "qemu:///session").ok()
    });
    // A connected client keeps it alive past the timeout.
    let held_until = std::time::Instant::now() + Duration::from_millis(1500);
    while std::time::Instant::now() < held_until {
        assert!(child.try_wait().unwrap().is_none(), "exited with a client");
        client.list(ListFilter::ALL).unwrap();
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(client);
    let status = wait_for("the idle daemon to exit", Duration::from_secs(10), || {
        child.try_wait().unwrap()
    });
    assert!(status.success(), "{status}");
    assert!(!socket.exists());
}

#[test]
fn vms_survive_a_killed_daemon_and_are_managed_again() {
    let dir = TestDir::new("sigkill");
    let mut daemon = Daemon::start(&dir.path, &[]);
    let names = ["fwa", "fwb", "fwc"];
    let before = {
        let d = daemon.connect();
        for n in names {
            define_and_start(&*d, n);
        }
        running(&*d)
    };
    assert_eq!(before.len(), 3);
    let pids: Vec<i32> = names.iter().map(|n| qemu_pid(&dir.path, n)).collect();
    daemon.signal(Signal::SIGKILL);
    daemon.wait_exit(Duration::from_secs(10));
    assert!(pids.iter().all(|&p| process_alive(p)));

    // No daemon: the embedded driver on the same root reattaches too.
    {
        let embedded =
            qvirt::connect(&format!("qemu:///embed?root={}", dir.path.display())).unwrap();
        assert_eq!(running(&*embedded), before);
    }

    let daemon = Daemon::start(&dir.path, &[]);
    let d = daemon.connect();
    assert_eq!(running(&*d), before);
    for n in names {
        let dom = d.lookup_by_name(n).unwrap();
        d.suspend(&dom).unwrap();
        assert_eq!(d.info(&dom).unwrap().state, DomainState::Paused);
        d.resume(&dom).unwrap();
        assert_eq!(d.info(&dom).unwrap().state, DomainState::Running);
    }
    let mut events = d.events().unwrap();
    let fwa = d.lookup_by_name("fwa").unwrap();
    d.destroy(&fwa).unwrap();
    wait_for("fwa's stopped event", Duration::from_secs(10), || {
        let e = events.next(Duration::from_millis(200)).unwrap()?;
        (e.domain.name == "fwa" && e.kind == EventKind::Stopped(StateReason::Destroyed))
            .then_some(())
    });
    for n in ["fwb", "fwc"] {
        d.destroy(&d.lookup_by_name(n).unwrap()).unwrap();
    }
    assert!(running(&*d).is_empty());
    for p in pids {
        wait_for("QEMU to exit", Duration::from_secs(10), || {
            (!process_alive(p)).then_some(())
        });
    }
}

#[test]
fn sigterm_leaves_vms_running_for_the_next_daemon() {
    let dir = TestDir::new("sigterm");
    let mut daemon = Daemon::start(&dir.path, &[]);
    let id = define_and_start(&*daemon.connect(), "fwt");
    let pid = qemu_pid(&dir.path, "fwt");
    daemon.signal(Signal::SIGTERM);
    let status = daemon.wait_exit(Duration::from_secs(10));
    assert!(status.success(), "{status}: {}", daemon.stderr_text());
    assert!(!daemon.socket.exists(), "the socket is removed at exit");
    assert!(process_alive(pid), "QEMU {pid} outlives the daemon");

    let daemon = Daemon::start(&dir.path, &[]);
    let d = daemon.connect();
    assert_eq!(running(&*d), [("fwt".to_string(), id)]);
    d.destroy(&d.lookup_by_name("fwt").unwrap()).unwrap();
    wait_for("QEMU to exit", Duration::from_secs(10), || {
        (!process_alive(pid)).then_some(())
    });
}

#[test]
fn a_second_daemon_on_the_same_root_names_the_first() {
    let dir = TestDir::new("second");
    let first = Daemon::start(&dir.path, &[]);
    let mut second = Daemon::spawn(&dir.path, &[]);
    let status = second.wait_exit(Duration::from_secs(10));
    assert_eq!(status.code(), Some(1), "{}", second.stderr_text());
    let stderr = second.stderr_text();
    assert!(
        stderr.contains(&format!("pid {}", first.pid())),
        "stderr does not name pid {}: {stderr}",
        first.pid()
    );
    first.connect().list(ListFilter::ALL).unwrap();
}

#[test]
fn malformed_input_closes_only_its_own_connection() {
    let dir = TestDir::new("abuse");
    let daemon = Daemon::start(&dir.path, &[]);
    let good = SocketDriver::connect(&daemon.socket, &daemon.uri()).unwrap();
    good.define_xml(&firmware_xml("fwg")).unwrap();
    let still_good = || {
        let l = good
            .list(ListFilter::ALL)
            .expect("the good client still works");
        assert_eq!(l.len(), 1);
    };

    // Not our protocol at all: the length reads as ~1.2 GB.
    let mut s = raw(&daemon.socket);
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let frames = frames_until_closed(&mut s);
    assert_eq!(frames.len(), 1);
    assert_eq!(error_of(&frames[0]).code, ErrorCode::LimitExceeded);
    still_good();

    // Random bytes, then end of input: an error or a close, never a hang.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let noise: Vec<u8> = (0..300)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    let mut s = raw(&daemon.socket);
    s.write_all(&noise).unwrap();
    s.shutdown(std::net::Shutdown::Write).unwrap();
    for f in frames_until_closed(&mut s) {
        assert_ne!(error_of(&f).code, ErrorCode::Internal);
    }
    still_good();

    // A 4 GiB length: refused at once with LimitExceeded, closed.
    let mut s = raw(&daemon.socket);
    s.write_all(&[0xff; 4]).unwrap();
    let frames = frames_until_closed(&mut s);
    assert_eq!(frames.len(), 1, "{frames:?}");
    assert_eq!(error_of(&frames[0]).code, ErrorCode::LimitExceeded);
    still_good();

    // Half a frame, then the client goes away.
    let (p, body) = Call::Hello(1).encode();
    let whole = Frame {
        header: qvirt::transport::wire::Header {
            version: PROTOCOL_VERSION,
            kind: Kind::Call,
            procedure: p,
            serial: 1,
        },
        body,
    }
    .encode();
    let mut s = raw(&daemon.socket);
    s.write_all(&whole[..whole.len() / 2]).unwrap();
    s.shutdown(std::net::Shutdown::Write).unwrap();
    for f in frames_until_closed(&mut s) {
        assert_ne!(error_of(&f).code, ErrorCode::Internal);
    }
    still_good();

    // Another protocol version in the header.
    let mut s = raw(&daemon.socket);
    send_call(&mut s, PROTOCOL_VERSION + 1, &Call::Hello(1), 1);
    let frames = frames_until_closed(&mut s);
    assert_eq!(frames.len(), 1);
    assert_eq!(error_of(&frames[0]).code, ErrorCode::Protocol);
    still_good();

    // Hello naming another protocol version.
    let mut s = raw(&daemon.socket);
    send_call(&mut s, PROTOCOL_VERSION, &Call::Hello(99), 1);
    let frames = frames_until_closed(&mut s);
    assert_eq!(frames.len(), 1);
    assert_eq!(error_of(&frames[0]).code, ErrorCode::Protocol);
    still_good();

    // A call before hello.
    let mut s = raw(&daemon.socket);
    send_call(
        &mut s,
        PROTOCOL_VERSION,
        &Call::List(ListFilter::ALL.into()),
        5,
    );
    let frames = frames_until_closed(&mut s);
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0].header.serial, 5);
    let e = error_of(&frames[0]);
    assert_eq!(e.code, ErrorCode::Protocol);
    assert!(e.message.contains("hello"), "{e}");
    still_good();

    // An unknown procedure, and a known one with a broken body: each
    // gets its error reply and the connection stays usable.
    let mut s = raw(&daemon.socket);
    hello(&mut s);
    send_raw(&mut s, PROTOCOL_VERSION, Kind::Call, 999, 2, Vec::new());
    let f = Frame::read(&mut s).unwrap().expect("a reply");
    assert_eq!((f.header.procedure, f.header.serial), (999, 2));
    assert_eq!(error_of(&f).code, ErrorCode::NoSupport);
    send_raw(&mut s, PROTOCOL_VERSION, Kind::Call, 6, 3, vec![0xff, 0xff]);
    let f = Frame::read(&mut s).unwrap().expect("a reply");
    assert_eq!(f.header.serial, 3);
    assert_eq!(error_of(&f).code, ErrorCode::Protocol);
    send_call(
        &mut s,
        PROTOCOL_VERSION,
        &Call::List(ListFilter::ALL.into()),
        4,
    );
    let f = Frame::read(&mut s).unwrap().expect("a reply");
    assert_eq!(f.header.serial, 4);
    match Reply::decode(5, &f.body).unwrap().unwrap() {
        Reply::List(d) => assert_eq!(d.len(), 1),
        other => panic!("list answered {other:?}"),
    }
    still_good();

    // A client may not send replies or events.
    send_raw(&mut s, PROTOCOL_VERSION, Kind::Event, 27, 6, Vec::new());
    let frames = frames_until_closed(&mut s);
    assert_eq!(frames.len(), 1);
    assert_eq!(error_of(&frames[0]).code, ErrorCode::Protocol);
    still_good();
}

#[test]
fn clients_beyond_the_limit_are_refused() {
    let dir = TestDir::new("limit");
    let daemon = Daemon::start(&dir.path, &["--max-clients", "3"]);
    let connect = || SocketDriver::connect(&daemon.socket, &daemon.uri());
    // The readiness probe's connection may still count for a moment.
    let mut held: Vec<SocketDriver> = (0..3)
        .map(|_| wait_for("a place", Duration::from_secs(10), || connect().ok()))
        .collect();
    for c in &held {
        c.list(ListFilter::ALL).unwrap();
    }
    for _ in 0..3 {
        let e = assert_code(connect().map(drop), ErrorCode::LimitExceeded);
        assert!(e.message.contains("too many clients"), "{e}");
    }
    // A place frees up when a client leaves.
    held.pop();
    let fourth = wait_for("a free place", Duration::from_secs(10), || connect().ok());
    fourth.list(ListFilter::ALL).unwrap();
}

#[test]
fn peer_uid_check_refuses_with_operation_denied() {
    let dir = TestDir::new("peercred");
    let server = InProcess::serve(
        &dir,
        ServeOptions {
            allowed_uid: Some(12345),
            ..ServeOptions::default()
        },
    );
    let e = assert_code(server.connect().map(drop), ErrorCode::OperationDenied);
    assert!(e.message.contains("uid 12345 only"), "{e}");
}

#[test]
fn read_only_socket_serves_queries_and_refuses_changes() {
    let dir = TestDir::new("ro");
    let server = InProcess::serve(
        &dir,
        ServeOptions {
            read_only: true,
            allowed_uid: None,
            ..ServeOptions::default()
        },
    );
    let d = server.connect().unwrap();
    assert!(d.list(ListFilter::ALL).unwrap().is_empty());
    d.version().unwrap();
    let _events = d.events().unwrap();
    let e = assert_code(
        d.define_xml(&firmware_xml("fwr")),
        ErrorCode::OperationDenied,
    );
    assert!(e.message.contains("read-only"), "{e}");
    assert_code(
        d.create_xml(&firmware_xml("fwr")),
        ErrorCode::OperationDenied,
    );
    // Tuning changes are refused before any domain is looked up.
    let dom = qvirt::driver::Domain {
        name: "fwr".into(),
        uuid: Uuid::nil(),
        id: None,
    };
    let mut mem = qvirt::driver::MemTuneChange::default();
    mem.hard_limit_kib = Some(262_144);
    let e = assert_code(
        d.set_memtune(&dom, &mem, qvirt::driver::ModifyFlags::CONFIG),
        ErrorCode::OperationDenied,
    );
    assert!(e.message.contains("read-only"), "{e}");
    let mut blk = qvirt::driver::BlkioTuneChange::default();
    blk.weight = Some(500);
    assert_code(
        d.set_blkiotune(&dom, &blk, qvirt::driver::ModifyFlags::CONFIG),
        ErrorCode::OperationDenied,
    );
    assert!(d.list(ListFilter::ALL).unwrap().is_empty());
    assert!(!dir.path.join("state/config/fwr.xml").exists());
}

/// A read-only socket lists and describes secrets but never gives out a
/// value (nor changes one), even one the read-write socket reads.
#[test]
fn read_only_socket_never_gives_secret_values() {
    let dir = TestDir::new("ro-secret");
    let server = InProcess::serve(&dir, ServeOptions::default());
    let read_only = server.listen_too(
        &dir,
        "ro.sock",
        ServeOptions {
            read_only: true,
            allowed_uid: None,
            ..ServeOptions::default()
        },
    );
    let rw = server.connect().unwrap();
    let ro = SocketDriver::connect(&read_only, "qemu+unix:///system").unwrap();
    let xml = "<secret ephemeral='no' private='no'>\
               <uuid>3c2a1b6e-59d4-4f0e-9a7b-8c1d2e3f4a5b</uuid>\
               <usage type='ceph'><name>client.ro</name></usage></secret>";
    let s = rw.secret_define_xml(xml).unwrap();
    rw.secret_set_value(&s, b"key\0bytes").unwrap();

    assert_eq!(ro.list_secrets().unwrap(), std::slice::from_ref(&s));
    assert_eq!(ro.secret_lookup_by_uuid(s.uuid).unwrap(), s);
    assert_eq!(
        ro.secret_lookup_by_usage(SecretUsageType::Ceph, "client.ro")
            .unwrap(),
        s
    );
    assert!(ro.secret_xml(&s).unwrap().contains("client.ro"));
    let e = assert_code(ro.secret_get_value(&s), ErrorCode::OperationDenied);
    assert!(e.message.contains("read-only"), "{e}");
    assert!(e.message.contains("secret_get_value"), "{e}");
    assert_code(
        ro.secret_set_value(&s, b"other"),
        ErrorCode::OperationDenied,
    );
    assert_code(ro.secret_define_xml(xml), ErrorCode::OperationDenied);
    assert_code(ro.secret_undefine(&s), ErrorCode::OperationDenied);

    assert_eq!(rw.secret_get_value(&s).unwrap(), b"key\0bytes");
    assert_eq!(rw.list_secrets().unwrap(), [s]);
}

/// SIGHUP makes the daemon read its config directory again: a definition
/// written there by hand appears, one removed by hand disappears.
#[test]
fn sighup_rescans_the_config_directory() {
    let dir = TestDir::new("hup");
    let daemon = Daemon::start(&dir.path, &[]);
    let d = daemon.connect();
    d.define_xml(&firmware_xml("kept")).unwrap();
    let by_hand = firmware_xml("by-hand");
    std::fs::write(dir.path.join("config/by-hand.xml"), by_hand).unwrap();
    std::fs::remove_file(dir.path.join("config/kept.xml")).unwrap();
    daemon.signal(Signal::SIGHUP);
    let names = wait_for("the rescan", Duration::from_secs(10), || {
        let names: Vec<String> = d
            .list(ListFilter::ALL)
            .unwrap()
            .into_iter()
            .map(|s| s.domain.name)
            .collect();
        (names == ["by-hand"]).then_some(names)
    });
    assert_eq!(names, ["by-hand"]);
}

/// One connection shared by many threads: whichever thread waits reads
/// for all, so every reply must still reach its own caller, and the
/// events that arrive in between must all reach the subscriber.
#[test]
fn one_connection_serves_many_threads_and_an_event_stream() {
    let dir = TestDir::new("shared-conn");
    let server = InProcess::serve(&dir, ServeOptions::default());
    let d = std::sync::Arc::new(server.connect().unwrap());
    let names: Vec<String> = (0..8).map(|i| format!("fw-shared-{i}")).collect();
    for name in &names {
        d.define_xml(&firmware_xml(name)).unwrap();
    }
    let mut events = d.events().unwrap();
    let callers: Vec<_> = names
        .iter()
        .cloned()
        .map(|name| {
            let d = d.clone();
            std::thread::spawn(move || {
                for _ in 0..300 {
                    let dom = d.lookup_by_name(&name).unwrap();
                    assert_eq!(dom.name, name);
                    let info = d.info(&dom).unwrap();
                    assert_eq!(info.state, DomainState::Shutoff);
                }
            })
        })
        .collect();
    // Meanwhile, events: 20 defines of one domain, each a Defined event.
    let churn = {
        let d = d.clone();
        let xml = firmware_xml("fw-churn").replace(
            "<name>fw-churn</name>",
            "<name>fw-churn</name><uuid>5f0c6a52-8d43-4c1e-9b7a-2f4e1d3c6b70</uuid>",
        );
        std::thread::spawn(move || {
            for _ in 0..20 {
                d.define_xml(&xml).unwrap();
            }
        })
    };
    for caller in callers {
        caller.join().unwrap();
    }
    churn.join().unwrap();
    let mut defined = 0;
    while let Some(event) = events.next(Duration::from_secs(5)).unwrap() {
        if event.domain.name == "fw-churn" {
            assert_eq!(event.kind, EventKind::Defined);
            defined += 1;
        }
        if defined == 20 {
            break;
        }
    }
    assert_eq!(defined, 20);
    // Nothing is left waiting: a quiet stream times out, calls still work.
    assert!(events.next(Duration::from_millis(50)).unwrap().is_none());
    assert_eq!(d.list(ListFilter::ALL).unwrap().len(), 9);
}
