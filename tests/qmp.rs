//! The QMP client against a scripted fake monitor (protocol corners) and
//! against a real `qemu-system-x86_64` running a firmware-only VM.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::fd::AsFd;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use qvirt::ErrorCode;
use qvirt::qemu::qmp::{CloseReason, MAX_LINE, Qmp, QmpEvent, QmpMessage};
use serde_json::{Value, json};

const QEMU: &str = "/usr/bin/qemu-system-x86_64";
const T: Duration = Duration::from_secs(10);

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("qvirt-qmp-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The receiving end of a connection's event sink.
struct Events(Receiver<QmpMessage>);

/// A sink that forwards into a channel, as a driver's monitor would.
fn channel_sink() -> (impl FnMut(QmpMessage) + Send + 'static, Events) {
    let (tx, rx) = mpsc::channel();
    (
        move |m| {
            let _ = tx.send(m);
        },
        Events(rx),
    )
}

impl Events {
    /// The next message, failing the test after `T`.
    fn next(&self) -> QmpMessage {
        match self.0.recv_timeout(T) {
            Ok(m) => m,
            Err(RecvTimeoutError::Timeout) => panic!("no QMP message within {T:?}"),
            Err(RecvTimeoutError::Disconnected) => panic!("the sink is gone without Closed"),
        }
    }

    /// The event `name`, which must already have been delivered (other
    /// events before it are skipped).
    fn already(&self, name: &str) -> QmpEvent {
        loop {
            match self.0.try_recv() {
                Ok(QmpMessage::Event(e)) if e.name == name => return e,
                Ok(QmpMessage::Event(_)) => {}
                other => panic!("{name} was not delivered before the reply: {other:?}"),
            }
        }
    }

    /// Skips other events until `name`; fails on `Closed` or after `T`.
    fn wait_for(&self, name: &str) -> QmpEvent {
        let deadline = Instant::now() + T;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.0.recv_timeout(left) {
                Ok(QmpMessage::Event(e)) if e.name == name => return e,
                Ok(QmpMessage::Event(_)) => {}
                Ok(QmpMessage::Closed(r)) => panic!("closed ({r:?}) while waiting for {name}"),
                Err(e) => panic!("no {name} event within {T:?}: {e}"),
            }
        }
    }
}

/// A firmware-only QEMU, paused before the first instruction, killed on
/// drop.
struct Vm {
    child: Child,
    sock: PathBuf,
    _dir: TempDir,
}

impl Vm {
    fn spawn() -> Vm {
        Vm::spawn_in(TempDir::new(), |q| {
            q.args(["-machine", "pc,accel=tcg", "-m", "16"]);
        })
    }

    /// A QEMU in `dir`, its machine given by `machine`.
    fn spawn_in(dir: TempDir, machine: impl FnOnce(&mut Command)) -> Vm {
        assert!(
            Path::new(QEMU).exists(),
            "{QEMU} is missing: install the qemu-system-x86 package to run these tests"
        );
        let sock = dir.0.join("qmp.sock");
        let mut qemu = Command::new(QEMU);
        qemu.args(["-S", "-nodefaults", "-no-user-config", "-display", "none"]);
        machine(&mut qemu);
        let child = qemu
            .arg("-qmp")
            .arg(format!("unix:{},server=on,wait=off", sock.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .expect("spawn qemu-system-x86_64");
        Vm {
            child,
            sock,
            _dir: dir,
        }
    }

    fn connect(&self) -> (Qmp, Events) {
        let (sink, events) = channel_sink();
        let qmp = Qmp::connect(&self.sock, Instant::now() + T, sink).expect("QMP connect");
        (qmp, events)
    }

    /// Whether QEMU exits within `T` (polled, as a driver would).
    fn exits(&mut self) -> bool {
        let deadline = Instant::now() + T;
        while Instant::now() < deadline {
            if self.child.try_wait().unwrap().is_some() {
                return true;
            }
            thread::sleep(Duration::from_millis(5));
        }
        false
    }
}

impl Drop for Vm {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn the_client_can_be_shared_between_threads() {
    fn check<T: Send + Sync>() {}
    check::<Qmp>();
}

#[test]
fn lifecycle_commands_and_events() {
    let mut vm = Vm::spawn();
    let (qmp, events) = vm.connect();
    assert!(qmp.version() >= qvirt::qemu::caps::QemuVersion::MIN);
    assert_eq!(qmp.query_status(T).unwrap(), ("prelaunch".into(), false));

    // QEMU emits RESUME and STOP before it answers, so the sink has them
    // by the time `execute` returns.
    qmp.execute("cont", None, T).unwrap();
    let resume = events.already("RESUME");
    assert!(resume.timestamp_us > 1_600_000_000_000_000, "{resume:?}");
    assert_eq!(qmp.query_status(T).unwrap(), ("running".into(), true));

    qmp.execute("stop", None, T).unwrap();
    events.already("STOP");
    assert_eq!(qmp.query_status(T).unwrap(), ("paused".into(), false));

    let err = qmp.execute("qvirt-no-such-command", None, T).unwrap_err();
    assert_eq!(err.code, ErrorCode::OperationFailed);
    assert!(
        err.message
            .starts_with("QEMU refused qvirt-no-such-command: ")
            && err.message.contains("has not been found")
            && err.message.contains("CommandNotFound"),
        "{err}"
    );
    let err = qmp
        .execute("human-monitor-command", Some(json!({"bogus": 1})), T)
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::OperationFailed, "{err}");

    qmp.execute("system_reset", None, T).unwrap();
    let reset = events.wait_for("RESET");
    assert_eq!(reset.data["guest"], Value::Bool(false), "{reset:?}");

    qmp.execute("quit", None, T).unwrap();
    let shutdown = events.wait_for("SHUTDOWN");
    assert_eq!(shutdown.data["reason"], "host-qmp-quit", "{shutdown:?}");
    assert_eq!(events.next(), QmpMessage::Closed(CloseReason::Hangup));
    assert!(qmp.is_closed());
    let err = qmp.execute("query-status", None, T).unwrap_err();
    assert_eq!(err.code, ErrorCode::QemuFailed);
    assert!(err.message.contains("QEMU closed its monitor"), "{err}");
    assert!(err.message.contains("query-status"), "{err}");
    assert!(vm.exits(), "QEMU still runs after quit");
}

#[test]
fn concurrent_commands_each_get_their_reply() {
    let vm = Vm::spawn();
    let (qmp, _events) = vm.connect();
    thread::scope(|s| {
        let workers: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    for _ in 0..50 {
                        let (status, running) = qmp.query_status(T).unwrap();
                        assert_eq!((status.as_str(), running), ("prelaunch", false));
                    }
                })
            })
            .collect();
        for w in workers {
            w.join().unwrap();
        }
    });
    // Interleave replies of different shapes: each caller gets its own.
    thread::scope(|s| {
        let a = s.spawn(|| {
            (0..50)
                .map(|_| qmp.execute("query-name", None, T).unwrap())
                .collect::<Vec<_>>()
        });
        for _ in 0..50 {
            let kvm = qmp.execute("query-kvm", None, T).unwrap();
            assert!(kvm.get("present").is_some(), "{kvm}");
        }
        assert!(a.join().unwrap().iter().all(|v| v == &json!({})));
    });
}

#[test]
fn getfd_then_migrate_writes_a_migration_stream() {
    let vm = Vm::spawn();
    let (qmp, events) = vm.connect();
    qmp.execute("cont", None, T).unwrap();
    events.wait_for("RESUME");
    qmp.execute("stop", None, T).unwrap();
    events.wait_for("STOP");

    let out = vm._dir.0.join("save.img");
    let (rd, wr) = nix::unistd::pipe().unwrap();
    let file = out.clone();
    let (done_tx, done_rx) = mpsc::channel();
    thread::spawn(move || {
        let mut rd = std::fs::File::from(rd);
        let mut f = std::fs::File::create(file).unwrap();
        let copied = std::io::copy(&mut rd, &mut f);
        let _ = done_tx.send(copied.map_err(|e| e.to_string()));
    });
    qmp.execute_with_fd("getfd", Some(json!({"fdname": "save"})), wr.as_fd(), T)
        .unwrap();
    drop(wr); // QEMU holds its own copy; EOF comes when it closes that.
    qmp.execute("migrate", Some(json!({"uri": "fd:save"})), T)
        .unwrap();
    let copied = done_rx
        .recv_timeout(T)
        .expect("the migration stream did not end")
        .unwrap();
    let status = qmp.execute("query-migrate", None, T).unwrap();
    assert_eq!(status["status"], "completed", "{status}");

    let mut head = [0u8; 8];
    std::fs::File::open(&out)
        .unwrap()
        .read_exact(&mut head)
        .unwrap();
    assert_eq!(
        u32::from_be_bytes(head[..4].try_into().unwrap()),
        0x5145_564d
    );
    assert_eq!(u32::from_be_bytes(head[4..].try_into().unwrap()), 3);
    assert!(copied > 8);

    // A name passed once is consumed by the migration; an unknown one is
    // refused with QEMU's reason.
    let err = qmp
        .execute("migrate", Some(json!({"uri": "fd:save"})), T)
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::OperationFailed, "{err}");
}

/// A client killed while QEMU's main loop saves a snapshot (a manager
/// killed mid-snapshot): the next client is greeted at once but answered
/// only when the save is over. It connects, even on a short deadline,
/// and sees the job.
#[test]
fn a_client_connects_while_qemu_is_busy_with_a_former_clients_command() {
    let dir = TempDir::new();
    // Guest memory that does not compress (zero pages are skipped), so
    // the save takes a while: a file of pseudo-random bytes shared as RAM.
    let ram = dir.0.join("ram");
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let bytes: Vec<u8> = (0..(256usize << 20) / 8)
        .flat_map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x.to_le_bytes()
        })
        .collect();
    std::fs::write(&ram, bytes).unwrap();
    let disk = dir.0.join("d.qcow2");
    let made = Command::new("qemu-img")
        .args(["create", "-q", "-f", "qcow2"])
        .arg(&disk)
        .arg("16M")
        .status()
        .unwrap();
    assert!(made.success());
    let vm = Vm::spawn_in(dir, |q| {
        q.arg("-object")
            .arg(format!(
                "memory-backend-file,id=ram,size=256M,share=on,mem-path={}",
                ram.display()
            ))
            .args(["-machine", "pc,accel=tcg,memory-backend=ram", "-m", "256M"])
            .arg("-blockdev")
            .arg(format!(
                "driver=file,filename={},node-name=f",
                disk.display()
            ))
            .args(["-blockdev", "driver=qcow2,file=f,node-name=q"]);
    });
    let sock = vm.sock.clone();

    // The first client (once QEMU listens): negotiates, starts the save,
    // and is gone.
    drop(vm.connect());
    let mut raw = UnixStream::connect(&sock).unwrap();
    raw.write_all(b"{\"execute\":\"qmp_capabilities\",\"id\":1}\n{\"execute\":\"snapshot-save\",\"id\":2,\"arguments\":{\"job-id\":\"j\",\"tag\":\"t\",\"vmstate\":\"q\",\"devices\":[\"q\"]}}\n")
        .unwrap();
    // Gone once the save is under way (its state grows in the image),
    // long before it is over.
    let deadline = Instant::now() + T;
    while std::fs::metadata(&disk).map_or(0, |m| m.len()) < 8 << 20 {
        assert!(Instant::now() < deadline, "the save never started");
        thread::sleep(Duration::from_millis(2));
    }
    drop(raw);

    let start = Instant::now();
    let (sink, _events) = channel_sink();
    let qmp = Qmp::connect(&sock, start + Duration::from_millis(50), sink)
        .expect("a client connects to a busy QEMU that greeted it");
    let jobs = qmp.execute("query-jobs", None, T).unwrap();
    let job = jobs
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["id"] == "j")
        .unwrap_or_else(|| panic!("the former client's job is listed: {jobs}"));
    assert_eq!(job["status"], "concluded", "{jobs}");
    assert!(job.get("error").is_none(), "{jobs}");
}

#[test]
fn connecting_where_nobody_listens_times_out_naming_the_path() {
    let dir = TempDir::new();
    let missing = dir.0.join("absent.sock");
    let start = Instant::now();
    let err = Qmp::connect(&missing, start + Duration::from_millis(50), |_| {}).unwrap_err();
    assert_eq!(err.code, ErrorCode::Timeout);
    assert!(err.message.contains(&*missing.to_string_lossy()), "{err}");
    assert!(start.elapsed() < T);

    // A stale socket file (its server gone) refuses: also retried.
    let stale = dir.0.join("stale.sock");
    drop(UnixListener::bind(&stale).unwrap());
    let err = Qmp::connect(&stale, Instant::now() + Duration::from_millis(20), |_| {}).unwrap_err();
    assert_eq!(err.code, ErrorCode::Timeout);
    assert!(err.message.contains(&*stale.to_string_lossy()), "{err}");

    // give_up ends the wait early with its own error.
    let mut calls = 0;
    let err = Qmp::connect_watching(
        &missing,
        Instant::now() + T,
        || {
            calls += 1;
            (calls == 3).then(|| qvirt::Error::new(ErrorCode::QemuFailed, "QEMU exited"))
        },
        |_| {},
    )
    .unwrap_err();
    assert_eq!(
        (err.code, err.message.as_str()),
        (ErrorCode::QemuFailed, "QEMU exited")
    );
}

const GREETING: &str = r#"{"QMP": {"version": {"qemu": {"micro": 3, "minor": 2, "major": 7}, "package": ""}, "capabilities": ["oob"]}}"#;

/// A scripted monitor on a fresh socket: it sends `greeting`, answers
/// `qmp_capabilities`, then runs `script` with the connection.
fn fake_monitor(
    greeting: &'static str,
    script: impl FnOnce(&mut BufReader<UnixStream>, &mut UnixStream) + Send + 'static,
) -> (TempDir, PathBuf, JoinHandle<()>) {
    let dir = TempDir::new();
    let path = dir.0.join("fake.sock");
    let listener = UnixListener::bind(&path).unwrap();
    let handle = thread::spawn(move || {
        let (mut out, _) = listener.accept().unwrap();
        let mut input = BufReader::new(out.try_clone().unwrap());
        // As QEMU does after a client went in the middle of a command:
        // what it still owed that client first, then the greeting.
        writeln!(
            out,
            "{{\"return\": {{}}}}\n{{\"event\": \"RESUME\", \"timestamp\": {{\"seconds\": 1, \"microseconds\": 2}}}}"
        )
        .unwrap();
        writeln!(out, "{greeting}").unwrap();
        let mut line = String::new();
        if input.read_line(&mut line).unwrap() == 0 {
            return;
        }
        assert!(line.contains("qmp_capabilities"), "{line}");
        // A late reply to the former client, then the answer, which
        // carries the command's id.
        let id = serde_json::from_str::<Value>(&line).unwrap()["id"].clone();
        out.write_all(
            b"{\"error\": {\"class\": \"GenericError\", \"desc\": \"a former client's\"}}\r\n",
        )
        .unwrap();
        writeln!(out, "{}", serde_json::json!({"return": {}, "id": id})).unwrap();
        script(&mut input, &mut out);
    });
    (dir, path, handle)
}

/// The next command the fake monitor receives.
fn read_command(input: &mut BufReader<UnixStream>) -> Value {
    let mut line = String::new();
    input.read_line(&mut line).unwrap();
    serde_json::from_str(&line).unwrap()
}

#[test]
fn late_replies_are_dropped_and_events_keep_their_order() {
    let (_dir, path, server) = fake_monitor(GREETING, |input, out| {
        let slow = read_command(input);
        let fast = read_command(input);
        assert_eq!(fast["execute"], "fast");
        // The late reply to `slow` comes first; nobody waits for it now.
        for msg in [
            json!({"return": "late", "id": slow["id"]}),
            json!({"event": "A", "data": {"n": 1}, "timestamp": {"seconds": 1, "microseconds": 2}}),
            json!({"return": "fast", "id": fast["id"]}),
            json!({"event": "B", "timestamp": {"seconds": 3, "microseconds": 4}}),
        ] {
            writeln!(out, "{msg}").unwrap();
        }
    });
    let (sink, events) = channel_sink();
    let qmp = Qmp::connect(&path, Instant::now() + T, sink).unwrap();
    assert_eq!(qmp.version().to_string(), "7.2.3");
    let err = qmp
        .execute("slow", None, Duration::from_millis(30))
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::Timeout);
    assert!(err.message.contains("slow"), "{err}");
    assert_eq!(qmp.execute("fast", None, T).unwrap(), json!("fast"));
    let a = events.wait_for("A");
    assert_eq!((a.data, a.timestamp_us), (json!({"n": 1}), 1_000_002));
    let b = events.wait_for("B");
    assert_eq!((b.data, b.timestamp_us), (Value::Null, 3_000_004));
    server.join().unwrap();
    assert_eq!(events.next(), QmpMessage::Closed(CloseReason::Hangup));
    drop(qmp);
}

#[test]
fn an_oversized_line_closes_the_connection() {
    let (_dir, path, server) = fake_monitor(GREETING, |input, out| {
        let cmd = read_command(input);
        assert_eq!(cmd["execute"], "big");
        let chunk = vec![b'x'; 1 << 20];
        let _ = out.write_all(b"{\"return\": \"");
        for _ in 0..=MAX_LINE >> 20 {
            if out.write_all(&chunk).is_err() {
                return; // The client hung up, as it should.
            }
        }
        let _ = out.write_all(b"\"}\n");
    });
    let (sink, events) = channel_sink();
    let qmp = Qmp::connect(&path, Instant::now() + T, sink).unwrap();
    let err = qmp.execute("big", None, T).unwrap_err();
    assert_eq!(err.code, ErrorCode::Protocol, "{err}");
    assert!(
        err.message.contains("big") && err.message.contains("longer than"),
        "{err}"
    );
    match events.next() {
        QmpMessage::Closed(CloseReason::Failed(why)) => assert!(why.contains("longer"), "{why}"),
        other => panic!("expected Closed(Failed), got {other:?}"),
    }
    let err = qmp.execute("after", None, T).unwrap_err();
    assert!(err.message.contains("before after could be sent"), "{err}");
    server.join().unwrap();
}

#[test]
fn a_peer_that_is_not_qmp_is_refused() {
    let (_dir, path, _server) = fake_monitor(r#"{"hello": "world"}"#, |_, _| {});
    let err = Qmp::connect(&path, Instant::now() + T, |_| {}).unwrap_err();
    assert_eq!(err.code, ErrorCode::Protocol, "{err}");
    assert!(err.message.contains("not a QMP monitor"), "{err}");

    // A server that accepts but never greets (as when another client holds
    // QEMU's monitor) ends in a timeout.
    let dir = TempDir::new();
    let path = dir.0.join("mute.sock");
    let _listener = UnixListener::bind(&path).unwrap();
    let err = Qmp::connect(&path, Instant::now() + Duration::from_millis(50), |_| {}).unwrap_err();
    assert_eq!(err.code, ErrorCode::Timeout, "{err}");
    assert!(err.message.contains("greeting"), "{err}");
}

#[test]
fn dropping_the_client_ends_the_reader_with_dropped() {
    let (_dir, path, server) = fake_monitor(GREETING, |input, _| {
        let mut rest = String::new();
        let _ = input.read_to_string(&mut rest); // until the client goes
    });
    let (sink, events) = channel_sink();
    let qmp = Qmp::connect(&path, Instant::now() + T, sink).unwrap();
    drop(qmp);
    assert_eq!(events.next(), QmpMessage::Closed(CloseReason::Dropped));
    server.join().unwrap();
}

/// Prints how long QEMU takes from spawn to a ready QMP connection.
/// Run with `cargo test --release --test qmp -- --ignored --nocapture`.
#[test]
#[ignore = "a measurement, not a check"]
fn measure_qmp_ready_latency() {
    fn median(mut v: Vec<Duration>) -> Duration {
        v.sort();
        v[v.len() / 2]
    }
    let runs = 20;
    let mut ready = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        let vm = Vm::spawn();
        let (qmp, _events) = vm.connect();
        ready.push(start.elapsed());
        drop(qmp);
    }
    // Connecting to a QEMU that already runs (as a restarted manager
    // does): socket, greeting and capabilities only, which bounds what the
    // client itself adds once QEMU is ready to talk.
    let vm = Vm::spawn();
    drop(vm.connect());
    let mut reconnect = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        let (qmp, _events) = vm.connect();
        reconnect.push(start.elapsed());
        drop(qmp);
    }
    println!(
        "spawn -> QMP ready: median {:?} (min {:?}, max {:?}); \
         connect to a running QEMU: median {:?} (max {:?})",
        median(ready.clone()),
        ready.iter().min().unwrap(),
        ready.iter().max().unwrap(),
        median(reconnect.clone()),
        reconnect.iter().max().unwrap(),
    );
}
