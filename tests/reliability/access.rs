//! Who may do what, and where qvirt refuses to put its sockets and files:
//! another uid on the session socket, write calls on the read-only
//! socket, read-only clients filling the daemon's places, an open runtime
//! directory, and symlinks planted where the daemon's socket, lock, log
//! or temporary files go. Each is refused with a coded error, and no
//! symlink is followed: its target is left as it was.

use std::os::unix::fs::{PermissionsExt, symlink};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use qvirt::driver::XmlFlags;
use qvirt::driver::local::LocalDriver;
use qvirt::driver::{ListFilter, ShutdownOptions};
use qvirt::transport::SocketDriver;
use qvirt::transport::server::{ServeOptions, Server};
use qvirt::{Driver, ErrorCode};

use crate::support::*;

/// Set to a socket path, [`connect_as_another_uid`] connects to it and
/// prints the outcome (this test binary runs itself under another uid).
const PROBE_ENV: &str = "QVIRT_TEST_PROBE_SOCKET";

/// Not a test of its own: the body that [`another_uid_is_refused`] runs
/// in this binary under another uid. It connects to the socket
/// `QVIRT_TEST_PROBE_SOCKET` names and prints the error's code and
/// message; without that variable it does nothing.
#[test]
fn connect_as_another_uid() {
    let Some(socket) = std::env::var_os(PROBE_ENV) else {
        return;
    };
    match SocketDriver::connect(Path::new(&socket), "qemu+unix:///session") {
        Ok(_) => println!("PROBE connected"),
        Err(e) => println!("PROBE {} {e}", e.code.name()),
    }
}

/// Runs [`connect_as_another_uid`] as `uid:gid` against `socket`; what it
/// printed.
fn probe_as(uid: u32, gid: u32, socket: &Path) -> String {
    let me = std::env::current_exe().unwrap();
    let out = Command::new("setpriv")
        .arg(format!("--reuid={uid}"))
        .arg(format!("--regid={gid}"))
        .arg("--clear-groups")
        .arg(&me)
        .args(["--exact", "access::connect_as_another_uid", "--nocapture"])
        .env(PROBE_ENV, socket)
        .env("HOME", "/")
        .output()
        .expect("run setpriv");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.lines()
        .find_map(|l| l.strip_prefix("PROBE "))
        .unwrap_or_else(|| {
            panic!(
                "the probe printed nothing: {text}{}",
                String::from_utf8_lossy(&out.stderr)
            )
        })
        .to_string()
}

#[test]
fn another_uid_is_refused() {
    assert!(nix::unistd::geteuid().is_root(), "this test runs as root");
    let (uid, gid) = other_user();
    let dir = TestDir::new("uid");
    let daemon = Daemon::start(&dir.path, &[]);
    // Let the other user reach the socket (traverse only) and the test
    // binary.
    std::fs::set_permissions(&dir.path, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(dir.path.join("run"), std::fs::Permissions::from_mode(0o711)).unwrap();

    // The socket is 0600: the kernel refuses the connection.
    let out = probe_as(uid, gid, &daemon.socket);
    assert!(
        out.starts_with("io ") && out.contains("Permission denied"),
        "{out}"
    );

    // With the mode out of the way, the daemon's own check refuses.
    std::fs::set_permissions(&daemon.socket, std::fs::Permissions::from_mode(0o666)).unwrap();
    let out = probe_as(uid, gid, &daemon.socket);
    assert!(out.starts_with("operation-denied "), "{out}");
    assert!(out.contains(&format!("you are uid {uid}")), "{out}");
    // The command line says the same and fails.
    let cli = Command::new("setpriv")
        .arg(format!("--reuid={uid}"))
        .arg(format!("--regid={gid}"))
        .arg("--clear-groups")
        .arg(QVIRT)
        .arg("-c")
        .arg(format!(
            "qemu+unix:///session?socket={}",
            daemon.socket.display()
        ))
        .args(["list", "--all"])
        .env("HOME", "/")
        .output()
        .expect("run setpriv");
    let err = String::from_utf8_lossy(&cli.stderr);
    assert_eq!(cli.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!("you are uid {uid}")) && err.contains("uid 0 only"),
        "{err}"
    );
    let log = manager_log(&dir.path);
    assert!(
        log.contains(&format!("refused a connection from uid {uid}")),
        "{log}"
    );
    daemon.connect().list(ListFilter::ALL).unwrap();
}

/// An in-process server on `dir/state` with a read-write socket (`rw`)
/// and a read-only one (`ro`) admitting any uid, `max` clients each.
struct TwoSockets {
    server: Server,
    rw: PathBuf,
    ro: PathBuf,
}

impl TwoSockets {
    fn serve(dir: &TestDir, max: usize) -> TwoSockets {
        let driver = Arc::new(LocalDriver::open_embedded(&dir.path.join("state")).unwrap());
        let log = driver.logger();
        let server = Server::start(driver, log).unwrap();
        let (rw, ro) = (dir.path.join("rw.sock"), dir.path.join("ro.sock"));
        for (path, read_only) in [(&rw, false), (&ro, true)] {
            let listener = UnixListener::bind(path).unwrap();
            let options = ServeOptions {
                read_only,
                allowed_uid: if read_only {
                    None
                } else {
                    Some(nix::unistd::geteuid().as_raw())
                },
                max_clients: max,
            };
            server.listen(listener, options).unwrap();
        }
        TwoSockets { server, rw, ro }
    }

    fn connect(path: &Path) -> qvirt::Result<SocketDriver> {
        SocketDriver::connect(path, "qemu+unix:///system")
    }
}

#[test]
fn the_read_only_socket_refuses_every_change() {
    let dir = TestDir::new("ro");
    let sentinel = TestDir::new("ro-sentinel");
    let s = TwoSockets::serve(&dir, 16);
    let rw = TwoSockets::connect(&s.rw).unwrap();
    let dom = rw.define_xml(&firmware_xml("fw-ro")).unwrap();
    let ro = TwoSockets::connect(&s.ro).unwrap();

    // Queries work.
    assert_eq!(ro.list(ListFilter::ALL).unwrap().len(), 1);
    assert_eq!(ro.lookup_by_name("fw-ro").unwrap(), dom);
    ro.info(&dom).unwrap();
    ro.xml_desc(&dom, XmlFlags::INACTIVE).unwrap();
    ro.autostart(&dom).unwrap();
    let _events = ro.events().unwrap();

    // Every change is refused with OperationDenied, and changes nothing.
    let xml_before = rw.xml_desc(&dom, XmlFlags::INACTIVE).unwrap();
    let save_to = sentinel.path.join("saved");
    let attempts: Vec<(&str, qvirt::Result<()>)> = vec![
        ("define", ro.define_xml(&firmware_xml("fw-new")).map(drop)),
        (
            "redefine",
            ro.define_xml(&firmware_xml("fw-ro").replace("32", "64"))
                .map(drop),
        ),
        ("undefine", ro.undefine(&dom)),
        ("create", ro.create_xml(&firmware_xml("fw-tr")).map(drop)),
        ("start", ro.start(&dom).map(drop)),
        ("shutdown", ro.shutdown(&dom, ShutdownOptions::default())),
        ("destroy", ro.destroy(&dom)),
        ("reboot", ro.reboot(&dom)),
        ("reset", ro.reset(&dom)),
        ("suspend", ro.suspend(&dom)),
        ("resume", ro.resume(&dom)),
        ("save", ro.save(&dom, &save_to)),
        ("restore", ro.restore(&save_to).map(drop)),
        ("managed save", ro.managed_save(&dom)),
        ("managed save remove", ro.managed_save_remove(&dom)),
        ("set autostart", ro.set_autostart(&dom, true)),
        ("console", ro.console(&dom, true).map(drop)),
    ];
    for (what, result) in attempts {
        let e = result.expect_err(what);
        assert_eq!(e.code, ErrorCode::OperationDenied, "{what}: {e}");
        assert!(e.message.contains("read-only"), "{what}: {e}");
    }
    assert_eq!(ro.list(ListFilter::ALL).unwrap().len(), 1);
    assert!(!rw.autostart(&dom).unwrap());
    assert_eq!(rw.xml_desc(&dom, XmlFlags::INACTIVE).unwrap(), xml_before);
    assert!(!save_to.exists());
    let files: Vec<_> = std::fs::read_dir(dir.path.join("state/config"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(files.len(), 2, "fw-ro.xml and autostart/: {files:?}");
}

/// Read-only clients (any local user) cannot take the places of the
/// read-write socket: each socket has its own limit.
#[test]
fn read_only_clients_cannot_crowd_out_the_read_write_socket() {
    let dir = TestDir::new("ro-crowd");
    let s = TwoSockets::serve(&dir, 3);
    let crowd: Vec<SocketDriver> = (0..3)
        .map(|_| TwoSockets::connect(&s.ro).unwrap())
        .collect();
    let e = assert_code(
        TwoSockets::connect(&s.ro).map(drop),
        ErrorCode::LimitExceeded,
    );
    assert!(e.message.contains("too many clients"), "{e}");
    let rw = TwoSockets::connect(&s.rw).expect("the read-write socket still admits");
    rw.list(ListFilter::ALL).unwrap();
    assert_eq!(s.server.clients(), 4);
    drop(crowd);
}

/// What `qvirtd --root DIR` says when it refuses to start.
fn refused_start(root: &Path) -> String {
    let mut d = Daemon::spawn(root, &[]);
    let status = d.wait_exit(Duration::from_secs(10));
    let err = d.stderr_text();
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(err.starts_with("qvirtd: error: "), "{err}");
    err
}

#[test]
fn an_open_runtime_directory_is_refused() {
    for sub in ["run", "config"] {
        let dir = TestDir::new("open-dir");
        std::fs::create_dir(dir.path.join(sub)).unwrap();
        std::fs::set_permissions(dir.path.join(sub), std::fs::Permissions::from_mode(0o770))
            .unwrap();
        let err = refused_start(&dir.path);
        assert!(
            err.contains(&dir.path.join(sub).display().to_string())
                && err.contains("writable by group or others"),
            "{err}"
        );
        assert!(!dir.path.join("run/qvirt-sock").exists());
    }
}

/// A file outside the state directory for symlinks to point at, and a
/// snapshot of it.
fn target(dir: &TestDir) -> (PathBuf, PathBuf) {
    let outside = dir.path.join("outside");
    std::fs::create_dir(&outside).unwrap();
    std::fs::write(outside.join("precious"), "do not touch\n").unwrap();
    (outside.clone(), outside.join("precious"))
}

#[test]
fn symlinks_planted_for_the_daemon_are_not_followed() {
    // The socket, the runtime directory itself, the lock file: the daemon
    // refuses to start, naming the path.
    for (planted, words) in [
        ("run/qvirt-sock", "not a socket"),
        ("run", "symbolic link"),
        ("run/lock", "symbolic link"),
    ] {
        let dir = TestDir::new("plant");
        let (outside, precious) = target(&dir);
        let link = dir.path.join(planted);
        std::fs::create_dir_all(dir.path.join("run")).unwrap();
        if planted == "run" {
            std::fs::remove_dir(&link).unwrap();
            symlink(&outside, &link).unwrap();
        } else {
            symlink(&precious, &link).unwrap();
        }
        let before = snapshot(&outside, &[]);
        let err = refused_start(&dir.path);
        assert!(
            err.contains(&link.display().to_string()) && err.contains(words),
            "{planted}: {err}"
        );
        let diff = snapshot_diff(&before, &snapshot(&outside, &[]));
        assert!(diff.is_empty(), "{planted}: the target changed: {diff:?}");
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
    }

    // The manager's log: the daemon runs without it (and says so) rather
    // than write through the link.
    let dir = TestDir::new("plant-log");
    let (outside, precious) = target(&dir);
    std::fs::create_dir_all(dir.path.join("log")).unwrap();
    std::fs::set_permissions(dir.path.join("log"), std::fs::Permissions::from_mode(0o700)).unwrap();
    symlink(&precious, dir.path.join("log/qvirt.log")).unwrap();
    let before = snapshot(&outside, &[]);
    let daemon = Daemon::start(&dir.path, &[]);
    let d = daemon.connect();
    d.define_xml(&firmware_xml("fw-log")).unwrap();
    assert!(
        daemon.stderr_text().contains("qvirt.log"),
        "{}",
        daemon.stderr_text()
    );

    // A definition's temporary file: a define writes its own file, not
    // through a link planted under the name it would use.
    let pid = daemon.pid();
    for n in 0..64 {
        let name = format!(".fw-tmp.xml.tmp-{pid}-{n}");
        symlink(&precious, dir.path.join("config").join(name)).unwrap();
    }
    symlink(
        &precious,
        dir.path.join(format!("config/.fw-tmp.xml.tmp-{pid}")),
    )
    .unwrap();
    d.define_xml(&firmware_xml("fw-tmp")).unwrap();
    let meta = std::fs::symlink_metadata(dir.path.join("config/fw-tmp.xml")).unwrap();
    assert!(meta.file_type().is_file(), "fw-tmp.xml is a plain file");
    let diff = snapshot_diff(&before, &snapshot(&outside, &[]));
    assert!(diff.is_empty(), "the target changed: {diff:?}");
}
