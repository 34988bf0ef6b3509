//! `qemu+ssh://` against a real OpenSSH: a client on host A, an sshd and
//! qvirt daemons on host B (see `ssh/world.rs`), the remote end of every
//! connection the real `qvirtd --proxy`. What a user meets when it works
//! (the system instance read-write for root and read-only for others, the
//! session daemon started on demand, a console and events), and when it
//! does not: every failure is an error naming its cause, never a hang.
//! Beside them: the `qvirt` command line over ssh (`ssh/cli.rs`), `qvirt
//! migrate` to a manager reached over ssh (`ssh/migration.rs`), virsh
//! through libvirt's own ssh transport (`ssh/virsh.rs`), and qvirt-bench.
//!
//! Needs root and Debian's openssh-server and openssh-client
//! (`scripts/deps.sh`); without them every test here fails saying so.

#[path = "ssh/world.rs"]
#[allow(dead_code)]
mod world;

#[path = "daemon/support.rs"]
#[allow(dead_code)]
mod support;

#[path = "ssh/migration.rs"]
mod migration;

#[path = "ssh/migration_http.rs"]
mod migration_http;

#[path = "ssh/cli.rs"]
mod cli;

#[path = "ssh/virsh.rs"]
mod virsh;

#[path = "ssh/handover.rs"]
mod handover;

use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, OnceLock, mpsc};
use std::time::{Duration, Instant};

use qvirt::driver::{EventKind, ListFilter, ShutdownOptions};
use qvirt::{Driver, Error, ErrorCode};
use world::{Options, TESTER_UID, World, wait_for};

/// A firmware-only VM: no disk, it sits in the BIOS (and ignores the
/// ACPI power button) and starts at once.
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

/// Runs `f` on a thread and returns what it returns; panics if it takes
/// longer than `limit`, so that a hang fails the test instead of holding
/// it forever. The limits are far above what the work needs.
fn bounded<T: Send + 'static>(
    what: &str,
    limit: Duration,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = mpsc::channel();
    let t = std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(limit) {
        Ok(v) => {
            t.join().unwrap();
            v
        }
        Err(_) => panic!("{what} hung for {limit:?}"),
    }
}

/// The error a connection to `uri` fails with (bounded).
fn connect_error(uri: &str) -> Error {
    let uri = uri.to_string();
    match bounded("the connection", Duration::from_secs(60), move || {
        qvirt::connect(&uri).map(drop)
    }) {
        Ok(()) => panic!("the connection succeeded"),
        Err(e) => e,
    }
}

#[test]
fn system_over_ssh_is_read_write_for_root_and_read_only_for_others() {
    let w = World::new("system");
    let _daemon = w.start_system_daemon();
    let root = connect(&w.uri("root", "system", ""));
    root.define_xml(&firmware_xml("fw-sys")).unwrap();
    assert_eq!(names(&*root), ["fw-sys"]);
    assert_eq!(root.uri(), w.uri("root", "system", ""));

    let tester = connect(&w.uri("tester", "system", "no_tty=1"));
    assert_eq!(names(&*tester), ["fw-sys"], "the read-only socket lists");
    let err = tester.define_xml(&firmware_xml("fw-t")).unwrap_err();
    assert_eq!(err.code, ErrorCode::OperationDenied, "{err}");
    // The proxies run as their users on host B, and went through ssh.
    let proxies = wait_for("both proxies", Duration::from_secs(10), || {
        let p = w.b_processes("--proxy");
        (p.len() == 2).then_some(p)
    });
    let mut uids: Vec<u32> = proxies.iter().map(|p| uid_of(*p)).collect();
    uids.sort();
    assert_eq!(uids, [0, TESTER_UID]);
    assert_eq!(w.ssh_clients().len(), 2);
    drop((root, tester));
    // A closed driver leaves no ssh behind, nor a proxy on the far side.
    wait_for("the proxies to end", Duration::from_secs(10), || {
        w.b_processes("--proxy").is_empty().then_some(())
    });
    assert_eq!(w.ssh_clients(), Vec::<i32>::new());
}

/// The real uid of `pid`.
fn uid_of(pid: i32) -> u32 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|u| u.parse().ok())
        .unwrap()
}

#[test]
fn session_over_ssh_starts_the_users_daemon_there() {
    let w = World::new("session");
    let uri = w.uri("tester", "session", "");
    let d = connect(&uri);
    d.define_xml(&firmware_xml("fw-sess")).unwrap();
    let daemons = w.b_processes("--session");
    assert_eq!(daemons.len(), 1, "one session daemon on host B");
    assert_eq!(uid_of(daemons[0]), TESTER_UID);
    // Its definitions live in the remote user's home.
    assert!(w.tester_home().join(".config/qvirt/fw-sess.xml").is_file());
    // A second connection finds the same daemon.
    let again = connect(&uri);
    assert_eq!(names(&*again), ["fw-sess"]);
    assert_eq!(w.b_processes("--session"), daemons);
}

#[test]
fn a_wrong_key_fails_with_sshs_words() {
    let w = World::new("key");
    let uri = w.uri("tester", "system", "no_tty=1").replace(
        &format!("keyfile={}", w.dir.join("id").display()),
        &format!("keyfile={}", w.dir.join("wrong").display()),
    );
    let err = connect_error(&uri);
    assert_eq!(err.code, ErrorCode::Io, "{err}");
    assert!(err.message.contains(&uri), "{err}");
    // ssh's end and words, not the socket's (a reset: ssh left our
    // greeting unread).
    assert!(
        err.message.ends_with(
            "ended: ssh to 10.55.0.2 exited with status 255, saying: \
             tester@10.55.0.2: Permission denied (publickey)."
        ),
        "{err}"
    );
}

#[test]
fn an_unknown_host_key_fails_unless_no_verify() {
    let w = World::new("hostkey");
    let _daemon = w.start_system_daemon();
    let empty = w.dir.join("empty_known_hosts");
    let unknown = format!("known_hosts={}", empty.display());
    let err = connect_error(&w.uri("root", "system", &unknown));
    assert_eq!(err.code, ErrorCode::Io, "{err}");
    assert!(
        err.message.contains("Host key verification failed"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(&empty).unwrap(),
        "",
        "nothing learnt"
    );

    // no_verify=1: StrictHostKeyChecking=no, and ssh records the key.
    let d = connect(&w.uri("root", "system", &format!("{unknown}&no_verify=1")));
    assert_eq!(names(&*d), Vec::<String>::new());
    let learnt = std::fs::read_to_string(&empty).unwrap();
    assert!(learnt.contains("ssh-ed25519"), "{learnt}");
}

#[test]
fn a_host_without_qvirtd_is_named() {
    let w = World::with(
        "noqvirtd",
        Options {
            qvirtd_installed: false,
        },
    );
    let err = connect_error(&w.uri("tester", "system", ""));
    assert_eq!(err.code, ErrorCode::Io, "{err}");
    assert!(
        err.message.contains("exited with status 127")
            && err.message.contains("qvirtd: command not found"),
        "{err}"
    );
}

#[test]
fn a_stopped_remote_daemon_is_named_and_ends_open_connections() {
    let w = World::new("stopped");
    // None running: the proxy's own error comes back through ssh.
    let err = connect_error(&w.uri("root", "system", ""));
    assert_eq!(err.code, ErrorCode::Io, "{err}");
    assert!(
        err.message
            .contains("cannot connect to /run/qvirt/qvirt-sock")
            && err.message.contains("is the system daemon running"),
        "{err}"
    );

    // Stopped while a client is connected: its next call fails at once.
    let mut daemon = w.start_system_daemon();
    let d: Arc<dyn Driver> = Arc::from(connect(&w.uri("root", "system", "")));
    assert_eq!(names(&*d), Vec::<String>::new());
    daemon.kill();
    let err = bounded(
        "a call after the daemon died",
        Duration::from_secs(30),
        move || d.list(ListFilter::ALL).unwrap_err(),
    );
    assert_eq!(err.code, ErrorCode::Io, "{err}");
    assert!(err.message.contains("ssh to 10.55.0.2 exited"), "{err}");
}

#[test]
fn a_chatty_login_script_is_a_protocol_error_not_a_hang() {
    let w = World::new("bashrc");
    let _daemon = w.start_system_daemon();
    let bashrc = w.tester_home().join(".bashrc");
    std::fs::write(&bashrc, "echo 'Welcome to host B, tester!'\n").unwrap();
    let err = connect_error(&w.uri("tester", "system", ""));
    assert_eq!(err.code, ErrorCode::Protocol, "{err}");
    assert!(
        err.message.contains("Welcome to host B, tester!\\n"),
        "the first bytes are shown: {err}"
    );
    assert!(err.message.contains("~/.bashrc"), "{err}");
    // The same login script, quiet when not interactive, as Debian's is.
    std::fs::write(
        &bashrc,
        "case $- in *i*) ;; *) return;; esac\necho 'Welcome to host B, tester!'\n",
    )
    .unwrap();
    let d = connect(&w.uri("tester", "system", ""));
    assert_eq!(names(&*d), Vec::<String>::new());
}

#[test]
fn a_killed_ssh_ends_the_calls_in_flight() {
    let w = World::new("killed");
    let _daemon = w.start_system_daemon();
    let d: Arc<dyn Driver> = Arc::from(connect(&w.uri("root", "system", "")));
    let dom = d.define_xml(&firmware_xml("fw-kill")).unwrap();
    let dom = d.start(&dom).unwrap();
    let mut events = d.events().unwrap();
    // Two callers wait on the connection: a shutdown that waits for a
    // guest that ignores it, and an event stream.
    let (started, waiting) = mpsc::channel();
    let shutdown = {
        let d = d.clone();
        std::thread::spawn(move || {
            started.send(()).unwrap();
            d.shutdown(
                &dom,
                ShutdownOptions::NO_WAIT.with_wait(Duration::from_secs(300)),
            )
        })
    };
    waiting.recv().unwrap();
    let [ssh] = w.ssh_clients()[..] else {
        panic!("one ssh: {:?}", w.ssh_clients());
    };
    let killed = Instant::now();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(ssh),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    let event = bounded("the event stream", Duration::from_secs(60), move || {
        events.next(Duration::from_secs(300))
    });
    let err = event.expect_err("the stream ends with the connection");
    let shut = bounded("the shutdown call", Duration::from_secs(60), move || {
        shutdown.join().unwrap()
    });
    eprintln!(
        "the callers saw the end {:?} after ssh was killed",
        killed.elapsed()
    );
    let shut = shut.expect_err("the call ends with the connection");
    assert_eq!(shut.code, ErrorCode::Io, "{shut}");
    // Found by the connection's end (ssh's death is named), not by a
    // keepalive that gave up ("not responding", status 255).
    assert!(
        shut.message
            .contains("ssh to 10.55.0.2 was killed by signal 9"),
        "{shut}"
    );
    assert!(err.message.contains("ended"), "{err}");
    // Every later call fails the same way, at once.
    let again = d.list(ListFilter::ALL).unwrap_err();
    assert_eq!(again.code, ErrorCode::Io, "{again}");
}

#[test]
fn a_vanished_network_ends_the_connection_by_keepalive() {
    let w = World::new("netdown");
    let _daemon = w.start_system_daemon();
    let d: Arc<dyn Driver> = Arc::from(connect(&w.uri("root", "system", "")));
    assert_eq!(names(&*d), Vec::<String>::new());
    // Host B drops off the network without a word: no FIN, no RST.
    let out = w
        .in_b("ip")
        .args(["link", "set", "vb", "down"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let err = bounded(
        "a call with no network",
        Duration::from_secs(120),
        move || d.list(ListFilter::ALL).unwrap_err(),
    );
    assert_eq!(err.code, ErrorCode::Io, "{err}");
    assert!(err.message.contains("not responding"), "{err}");
}

/// The Linux test guest's directory (built or found by
/// tests/guest/build-guest.sh, once per process).
fn guest_dir() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/guest/build-guest.sh");
        let out = Command::new(&script).output().expect("run build-guest.sh");
        assert!(
            out.status.success(),
            "build-guest.sh: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let dir = PathBuf::from(
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .last()
                .unwrap()
                .trim(),
        );
        assert!(dir.join("vmlinux").is_file() && dir.join("initrd.img").is_file());
        dir
    })
    .clone()
}

/// The Linux guest's domain XML, with its kernel and initrd in `dir`.
fn linux_xml(name: &str, dir: &std::path::Path) -> String {
    format!(
        "<domain type='qemu'><name>{name}</name><memory unit='MiB'>128</memory>\
         <vcpu>1</vcpu><os><type arch='x86_64' machine='pc'>hvm</type>\
         <kernel>{0}/vmlinux</kernel><initrd>{0}/initrd.img</initrd>\
         <cmdline>console=ttyS0 quiet no_timer_check</cmdline></os>\
         <features><acpi/></features><devices><serial type='pty'/>\
         <memballoon model='none'/></devices></domain>",
        dir.display()
    )
}

/// Reads `console` until its output contains `needle` (panics after
/// `within`); the output so far.
fn read_until(
    console: &mut dyn qvirt::driver::ConsoleStream,
    needle: &str,
    within: Duration,
) -> String {
    let deadline = Instant::now() + within;
    let mut seen = String::new();
    while !seen.contains(needle) {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "no {needle:?} within {within:?}: {seen}");
        let bytes = console.read(left.min(Duration::from_secs(1))).unwrap();
        seen.push_str(&String::from_utf8_lossy(&bytes));
    }
    seen
}

#[test]
fn console_and_events_over_ssh() {
    let guest = guest_dir();
    let w = World::new("console");
    let _daemon = w.start_system_daemon();
    let d = connect(&w.uri("root", "system", ""));
    let watcher = connect(&w.uri("root", "system", ""));
    let mut events = watcher.events().unwrap();
    let dom = d.define_xml(&linux_xml("lx-ssh", &guest)).unwrap();
    let dom = d.start(&dom).unwrap();
    let next = |events: &mut Box<dyn qvirt::driver::EventStream>| loop {
        let e = events
            .next(Duration::from_secs(60))
            .unwrap()
            .expect("an event within 60 s");
        if e.domain.name == "lx-ssh" && !matches!(e.kind, EventKind::Defined) {
            return e.kind;
        }
    };
    assert!(matches!(next(&mut events), EventKind::Started(_)));
    let mut console = d.console(&dom, false).unwrap();
    read_until(&mut *console, "QVIRT-GUEST-READY", Duration::from_secs(300));
    console.write(b"echo qvirt-ssh$((40+2))\n").unwrap();
    read_until(&mut *console, "qvirt-ssh42", Duration::from_secs(60));
    // The QEMU runs on host B, in its network namespace.
    assert_eq!(w.b_processes("guest=lx-ssh").len(), 1);
    d.destroy(&dom).unwrap();
    assert!(matches!(next(&mut events), EventKind::Stopped(_)));
    // What the guest printed last may come first; then the end.
    let deadline = Instant::now() + Duration::from_secs(30);
    while console.read(Duration::from_secs(1)).is_ok() {
        assert!(Instant::now() < deadline, "the console did not end");
    }
}

/// `qvirt-bench --uri qemu+ssh://... --only rpc` measures calls over ssh
/// and, in the same run, ssh's own echo round trip through the same
/// command line: both are there, from real round trips (the numbers go
/// to BENCHMARKS.md; no time is asserted).
#[test]
fn the_bench_measures_calls_beside_sshs_own_round_trip() {
    let w = World::new("bench");
    let _daemon = w.start_system_daemon();
    let uri = w.uri("root", "system", "no_tty=1");
    let out = Command::new(env!("CARGO_BIN_EXE_qvirt-bench"))
        .args(["--uri", &uri, "--only", "rpc", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    eprintln!("{report:#}");
    for key in ["rpc_us", "rpc_lookup_us", "rpc_info_us", "rpc_ssh_echo_us"] {
        let m = &report[key];
        assert!(m["median"].as_f64().is_some_and(|v| v > 0.0), "{key}: {m}");
        assert!(m["n"].as_u64().is_some_and(|n| n >= 2_000), "{key}: {m}");
    }
    // The bench removed what it defined.
    assert_eq!(
        names(&*connect(&w.uri("root", "system", ""))),
        Vec::<String>::new()
    );
}

/// A host that never answers (its address leads nowhere: no reply, no
/// refusal) fails by ssh's ConnectTimeout, which qvirt sets (10 s), not
/// after the kernel's two minutes of retries.
#[test]
fn an_unanswering_host_fails_by_the_connect_timeout() {
    let w = World::new("blackhole");
    // Host A sends host B's packets to a MAC nobody has.
    let out = Command::new("ip")
        .args(["-n", w.a_netns(), "neigh", "replace", world::B_ADDR])
        .args([
            "lladdr",
            "02:00:00:00:00:01",
            "dev",
            "va",
            "nud",
            "permanent",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    // 60 s: far above the 10 s timeout, far below the kernel's retries.
    let err = connect_error(&w.uri("root", "system", ""));
    assert_eq!(err.code, ErrorCode::Io, "{err}");
    assert!(
        err.message
            .contains("ssh: connect to host 10.55.0.2 port 22: Connection timed out"),
        "{err}"
    );
}

/// `proto=libvirt` over ssh: qvirt's libvirt client through the remote
/// `qvirtd --proto libvirt --proxy` to the daemon's libvirt socket there
/// (a handshake with qvirt's socket instead would fail), with the same
/// domains as qvirt's own protocol sees, and errors with their codes.
#[test]
fn libvirt_protocol_over_ssh() {
    let w = World::new("lvssh");
    let _daemon = w.start_system_daemon();
    let d = connect(&w.uri("root", "system", "proto=libvirt"));
    let dom = d.define_xml(&firmware_xml("fw-lv")).unwrap();
    assert_eq!(names(&*d), ["fw-lv"]);
    d.start(&dom).unwrap();
    let q = connect(&w.uri("root", "system", ""));
    let qdom = q.lookup_by_name("fw-lv").unwrap();
    assert_eq!(
        q.info(&qdom).unwrap().state,
        qvirt::driver::DomainState::Running
    );
    d.destroy(&dom).unwrap();
    let err = d.lookup_by_name("no-such").unwrap_err();
    assert_eq!(err.code, ErrorCode::NoDomain, "{err}");
    d.undefine(&dom).unwrap();
    assert!(names(&*q).is_empty());
}
