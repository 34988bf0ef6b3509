//! What a local user can make the daemon hold through its read-only
//! socket, which every uid may reach: event subscriptions (one per
//! connection), places (a share per uid, some kept for root), frame
//! buffers (small frames, a deadline for each frame once begun), and
//! buffered bytes per uid. Each attack runs as an unprivileged user
//! (`useradd`, `setpriv`) against the real `qvirtd --read-only-socket`;
//! the daemon stays up, bounded, and answers everyone else meanwhile.
//!
//! The attacker is this test binary run again under the other uid: the
//! `probe` test does nothing unless `QVIRT_TEST_LIMITS_PROBE` names an
//! attack and a socket.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use std::os::unix::net::UnixListener;

use qvirt::driver::ListFilter;
use qvirt::driver::local::LocalDriver;
use qvirt::transport::SocketDriver;
use qvirt::transport::server::{FRAME_TIMEOUT, Limits, ServeOptions, Server};
use qvirt::transport::wire::{
    Call, Frame, Kind, PROTOCOL_VERSION, Procedure, Reply, StreamMsg, decode_event, decode_stream,
};
use qvirt::{Driver, ErrorCode};

use crate::support::*;

const PROBE_ENV: &str = "QVIRT_TEST_LIMITS_PROBE";

// ---------------------------------------------------------------------
// The attacker's side
// ---------------------------------------------------------------------

/// Not a test of its own: the attacks the tests below run as another
/// uid, chosen by `QVIRT_TEST_LIMITS_PROBE` (`ACTION SOCKET`). Each
/// prints `PROBE ...` lines; those that hold connections wait for their
/// standard input to close first.
#[test]
fn probe() {
    let Ok(spec) = std::env::var(PROBE_ENV) else {
        return;
    };
    let (action, socket) = spec.split_once(' ').expect("ACTION SOCKET");
    let socket = Path::new(socket);
    match action {
        "flood" => flood(socket),
        "crowd" => crowd(socket),
        "connect" => match SocketDriver::connect(socket, "qemu:///system") {
            Ok(d) => println!("PROBE connected {}", d.list(ListFilter::ALL).unwrap().len()),
            Err(e) => println!("PROBE {} {e}", e.code.name()),
        },
        "big-frames" => big_frames(socket),
        "stalled-frames" => stalled_frames(socket),
        "pile" => pile(socket),
        "fake-daemon" => fake_daemon(socket),
        other => panic!("no probe {other}"),
    }
}

/// A connection that has said hello.
fn greeted(socket: &Path) -> UnixStream {
    let mut s = raw(socket);
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    hello(&mut s);
    s
}

/// Blocks until the test closes our standard input.
fn hold() {
    let mut line = String::new();
    while std::io::stdin().read_line(&mut line).is_ok_and(|n| n > 0) {}
}

/// 40,000 `events` calls on one connection, written while the replies
/// are read.
fn flood(socket: &Path) {
    const CALLS: u32 = 40_000;
    let mut s = greeted(socket);
    let mut w = s.try_clone().unwrap();
    let writer = std::thread::spawn(move || {
        for serial in 2..2 + CALLS {
            send_call(&mut w, PROTOCOL_VERSION, &Call::Events(()), serial);
        }
    });
    let (mut ok, mut limited, mut other) = (0, 0, 0);
    while ok + limited + other < CALLS {
        let f = Frame::read(&mut s).unwrap().expect("a reply");
        match Reply::decode(Procedure::Events.number(), &f.body).unwrap() {
            Ok(_) => ok += 1,
            Err(e) if e.code == ErrorCode::LimitExceeded => limited += 1,
            Err(_) => other += 1,
        }
    }
    writer.join().unwrap();
    println!("PROBE subscribed={ok} limited={limited} other={other}");
}

/// Up to 256 connections, each saying hello; holds those admitted.
fn crowd(socket: &Path) {
    let mut held = Vec::new();
    let mut refused = Vec::new();
    for _ in 0..256 {
        let mut s = raw(socket);
        let _ = s.write_all(&hello_frame());
        let f = Frame::read(&mut s).unwrap().expect("an answer to hello");
        match Reply::decode(Procedure::Hello.number(), &f.body).unwrap() {
            Ok(_) => held.push(s),
            Err(e) => refused.push(e),
        }
    }
    let why = refused.first().map_or(String::new(), |e| e.message.clone());
    println!(
        "PROBE admitted={} refused={} codes={:?} why={why}",
        held.len(),
        refused.len(),
        refused.iter().all(|e| e.code == ErrorCode::LimitExceeded)
    );
    hold();
}

/// A hello frame, whole.
fn hello_frame() -> Vec<u8> {
    let (procedure, body) = Call::Hello(u32::from(PROTOCOL_VERSION)).encode();
    qvirt::transport::wire::Frame {
        header: qvirt::transport::wire::Header {
            version: PROTOCOL_VERSION,
            kind: Kind::Call,
            procedure,
            serial: 1,
        },
        body,
    }
    .encode()
}

/// 32 connections, each announcing a 16 MiB frame after hello.
fn big_frames(socket: &Path) {
    let mut codes = Vec::new();
    for _ in 0..32 {
        let mut s = greeted(socket);
        let _ = s.write_all(&(16u32 << 20).to_be_bytes());
        let _ = s.write_all(&[0u8; 1024]);
        let frames = frames_until_closed(&mut s);
        codes.push(frames.first().map(|f| error_of(f).code.name()));
    }
    let refused = codes
        .iter()
        .filter(|c| **c == Some("limit-exceeded"))
        .count();
    println!("PROBE refused={refused} codes={codes:?}");
}

/// 32 connections, each beginning a frame after hello and never
/// finishing it.
fn stalled_frames(socket: &Path) {
    let mut held: Vec<UnixStream> = (0..32)
        .map(|_| {
            let mut s = greeted(socket);
            s.write_all(&60_000u32.to_be_bytes()).unwrap();
            s.write_all(&[0u8; 10_000]).unwrap();
            s
        })
        .collect();
    println!("PROBE stalled={}", held.len());
    let started = Instant::now();
    let mut timed_out = 0;
    for s in &mut held {
        s.set_read_timeout(Some(FRAME_TIMEOUT * 3)).unwrap();
        let frames = frames_until_closed(s);
        if frames.len() == 1 && error_of(&frames[0]).code == ErrorCode::Timeout {
            timed_out += 1;
        }
    }
    println!(
        "PROBE timed_out={timed_out} after={}",
        started.elapsed().as_secs()
    );
}

/// 8 connections, each with `list` calls written (without reading the
/// replies) until the daemon stops taking them; once told, reads every
/// reply.
fn pile(socket: &Path) {
    let mut conns: Vec<UnixStream> = (0..8).map(|_| greeted(socket)).collect();
    let mut written = Vec::new();
    let (procedure, body) = Call::List(ListFilter::ALL.into()).encode();
    for s in &mut conns {
        s.set_nonblocking(true).unwrap();
        let mut n = 0u32;
        let mut pending: Vec<u8> = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(10);
        // Until the daemon stops reading (the socket stays full a while).
        let mut full_since: Option<Instant> = None;
        while n < 20_000 && Instant::now() < deadline {
            if pending.is_empty() {
                pending = Frame {
                    header: qvirt::transport::wire::Header {
                        version: PROTOCOL_VERSION,
                        kind: Kind::Call,
                        procedure,
                        serial: 2 + n,
                    },
                    body: body.clone(),
                }
                .encode();
                n += 1;
            }
            match s.write(&pending) {
                Ok(k) => {
                    pending.drain(..k);
                    full_since = None;
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    let since = *full_since.get_or_insert_with(Instant::now);
                    if since.elapsed() > Duration::from_millis(500) {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(e) => panic!("write: {e}"),
            }
        }
        s.set_nonblocking(false).unwrap();
        written.push((n, pending));
    }
    println!(
        "PROBE written={}",
        written.iter().map(|(n, _)| n).sum::<u32>()
    );
    hold();
    // The last frame of each may be cut: finished while replies are read.
    let finishers: Vec<_> = conns
        .iter()
        .zip(&written)
        .map(|(s, (_, rest))| {
            let (mut s, rest) = (s.try_clone().unwrap(), rest.clone());
            std::thread::spawn(move || s.write_all(&rest).unwrap())
        })
        .collect();
    let mut answered = 0u32;
    for (s, (n, _)) in conns.iter_mut().zip(&written) {
        for _ in 0..*n {
            let f = Frame::read(s).unwrap().expect("a reply");
            if Reply::decode(procedure, &f.body).unwrap().is_ok() {
                answered += 1;
            }
        }
    }
    for f in finishers {
        f.join().unwrap();
    }
    println!("PROBE answered={answered}");
}

/// A fake daemon at `path`: takes two connections, one after the other,
/// and counts the bytes each client sends before it hangs up.
fn fake_daemon(path: &Path) {
    let _ = std::fs::remove_file(path);
    let listener = UnixListener::bind(path).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o777)).unwrap();
    println!("PROBE listening");
    for _ in 0..2 {
        let (mut s, _) = listener.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut buf = [0u8; 4096];
        let mut total = 0;
        while let Ok(n) = std::io::Read::read(&mut s, &mut buf) {
            if n == 0 {
                break;
            }
            total += n;
        }
        println!("PROBE received={total}");
    }
}

// ---------------------------------------------------------------------
// The daemon's side
// ---------------------------------------------------------------------

/// A `qvirtd --root DIR --read-only-socket ARGS` whose read-only socket
/// other uids can reach.
pub struct RoDaemon {
    pub daemon: Daemon,
    pub ro: PathBuf,
    pub dir: TestDir,
}

impl RoDaemon {
    pub fn start(tag: &str, args: &[&str]) -> RoDaemon {
        assert!(nix::unistd::geteuid().is_root(), "this test runs as root");
        let dir = TestDir::new(tag);
        let mut all = vec!["--read-only-socket"];
        all.extend_from_slice(args);
        let daemon = Daemon::start(&dir.path, &all);
        std::fs::set_permissions(&dir.path, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(dir.path.join("run"), std::fs::Permissions::from_mode(0o711))
            .unwrap();
        let ro = dir.path.join("run/qvirt-sock-ro");
        RoDaemon { daemon, ro, dir }
    }
}

/// An unprivileged user `name`, created if missing.
pub fn user(name: &str) -> (u32, u32) {
    let _ = Command::new("useradd").args(["-M", "-r", name]).output();
    let u = nix::unistd::User::from_name(name)
        .unwrap()
        .expect("the test user exists");
    (u.uid.as_raw(), u.gid.as_raw())
}

/// A probe running as another uid.
pub struct Probe {
    child: Child,
    out: BufReader<ChildStdout>,
}

impl Probe {
    pub fn start((uid, gid): (u32, u32), action: &str, socket: &Path) -> Probe {
        let mut child = Command::new("setpriv")
            .arg(format!("--reuid={uid}"))
            .arg(format!("--regid={gid}"))
            .arg("--clear-groups")
            .arg(std::env::current_exe().unwrap())
            .args(["--exact", "limits::probe", "--nocapture"])
            .env(PROBE_ENV, format!("{action} {}", socket.display()))
            .env("HOME", "/")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("run setpriv");
        let out = BufReader::new(child.stdout.take().unwrap());
        Probe { child, out }
    }

    /// The next line the probe prints, without `PROBE `.
    pub fn line(&mut self) -> String {
        let mut line = String::new();
        loop {
            line.clear();
            let n = self.out.read_line(&mut line).unwrap();
            assert!(n > 0, "the probe ended without a word");
            if let Some(rest) = line.strip_prefix("PROBE ") {
                return rest.trim().to_string();
            }
        }
    }

    /// Closes its standard input: a holding probe goes on.
    fn release(&mut self) {
        drop(self.child.stdin.take());
    }
}

impl Drop for Probe {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The value of `key=` in a probe's line.
fn field<'a>(line: &'a str, key: &str) -> &'a str {
    line.split_whitespace()
        .find_map(|w| w.strip_prefix(key)?.strip_prefix('='))
        .unwrap_or_else(|| panic!("no {key}= in {line}"))
}

/// Watches the daemon while `during` runs: its peak thread count and
/// VmRSS, and a root client's `list` answered throughout.
fn watching<T>(pid: i32, good: Arc<SocketDriver>, during: impl FnOnce() -> T) -> (T, usize, u64) {
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let (mut threads, mut rss) = (0, 0);
            while !stop.load(Ordering::SeqCst) {
                threads = threads.max(thread_count(pid));
                rss = rss.max(vm_rss_kib(pid));
                good.list(ListFilter::ALL)
                    .expect("root is answered meanwhile");
                std::thread::sleep(Duration::from_millis(20));
            }
            (threads, rss)
        })
    };
    let out = during();
    stop.store(true, Ordering::SeqCst);
    let (threads, rss) = sampler.join().expect("root was answered throughout");
    (out, threads, rss)
}

/// 17.1: 40,000 `events` calls on one read-only connection: one
/// subscription, every other call refused with `LimitExceeded`, no thread
/// and little memory more.
#[test]
fn an_event_flood_on_the_read_only_socket_is_refused_and_bounded() {
    let _heavy = heavy();
    let d = RoDaemon::start("flood", &[]);
    let pid = d.daemon.pid();
    let good = Arc::new(SocketDriver::connect(&d.daemon.socket, &d.daemon.uri()).unwrap());
    good.define_xml(&firmware_xml("fw-flood")).unwrap();
    let (threads0, rss0) = (thread_count(pid), vm_rss_kib(pid));
    let (line, threads, rss) = watching(pid, good.clone(), || {
        let mut p = Probe::start(other_user(), "flood", &d.ro);
        p.line()
    });
    eprintln!("flood: {line}; daemon {threads0} -> {threads} threads, {rss0} -> {rss} KiB");
    assert_eq!(field(&line, "subscribed"), "1", "{line}");
    assert_eq!(field(&line, "limited"), "39999", "{line}");
    assert!(threads <= threads0, "{threads} threads, {threads0} before");
    assert!(rss <= rss0 + 64 * 1024, "VmRSS {rss} KiB, {rss0} before");
    assert!(process_alive(pid), "the daemon is up");
    assert_eq!(good.list(ListFilter::ALL).unwrap().len(), 1);
}

/// 17.14: one user's connections take at most their share of the
/// read-only socket; another user, and root, still get in.
#[test]
fn one_user_cannot_take_every_place_of_the_read_only_socket() {
    let d = RoDaemon::start("crowd", &[]);
    let mut crowd = Probe::start(other_user(), "crowd", &d.ro);
    let line = crowd.line();
    assert_eq!(field(&line, "admitted"), "32", "{line}");
    assert_eq!(field(&line, "refused"), "224", "{line}");
    assert_eq!(field(&line, "codes"), "true", "{line}");
    assert!(line.contains("32 per user"), "{line}");

    let mut other = Probe::start(user("qvirt-test-other2"), "connect", &d.ro);
    let line = other.line();
    assert!(line.starts_with("connected"), "another user: {line}");
    let root_ro = SocketDriver::connect(&d.ro, "qemu:///system").expect("root, read-only");
    root_ro.list(ListFilter::ALL).unwrap();
    d.daemon.connect().list(ListFilter::ALL).unwrap();
    crowd.release();
    let log = manager_log(&d.dir.path);
    assert!(log.contains("32 per user"), "{log}");
}

/// 17.7: a read-only connection's frames are small, and a frame begun
/// must be finished in time: 32 connections announcing 16 MiB are
/// refused at once, 32 that stop inside a frame are closed after
/// `FRAME_TIMEOUT`, and the daemon's memory stays where it was.
#[test]
fn read_only_connections_cannot_pin_memory() {
    let _heavy = heavy();
    let d = RoDaemon::start("pin", &[]);
    let pid = d.daemon.pid();
    let good = Arc::new(SocketDriver::connect(&d.daemon.socket, &d.daemon.uri()).unwrap());
    let rss0 = vm_rss_kib(pid);
    let ((big, stalled), _, rss) = watching(pid, good, || {
        let big = Probe::start(other_user(), "big-frames", &d.ro).line();
        let mut p = Probe::start(other_user(), "stalled-frames", &d.ro);
        assert_eq!(p.line(), "stalled=32");
        (big, p.line())
    });
    eprintln!("big frames: {big}; stalled frames: {stalled}; VmRSS {rss0} -> {rss} KiB");
    assert_eq!(field(&big, "refused"), "32", "{big}");
    assert_eq!(field(&stalled, "timed_out"), "32", "{stalled}");
    assert!(rss <= rss0 + 16 * 1024, "VmRSS {rss} KiB, {rss0} before");
}

/// 17.7: the bytes the daemon buffers for one uid are counted: past its
/// budget, that uid's connections are not read (its calls wait in its
/// own socket buffers) until its replies drain; then every call is
/// answered. Root is answered meanwhile.
#[test]
fn a_uid_over_its_byte_budget_waits_until_its_replies_drain() {
    let d = RoDaemon::start("budget", &["--max-bytes-per-uid", "262144"]);
    let pid = d.daemon.pid();
    let good = Arc::new(SocketDriver::connect(&d.daemon.socket, &d.daemon.uri()).unwrap());
    for i in 0..100 {
        good.define_xml(&firmware_xml(&format!("fw-budget-{i:03}")))
            .unwrap();
    }
    let rss0 = vm_rss_kib(pid);
    let (uid, _) = other_user();
    let mut p = Probe::start(other_user(), "pile", &d.ro);
    let ((written, rss), _, _) = watching(pid, good.clone(), || {
        let written = p.line();
        let line = format!("uid {uid} holds");
        let log = wait_for("the budget to be logged", Duration::from_secs(30), || {
            let log = manager_log(&d.dir.path);
            log.contains(&line).then_some(log)
        });
        assert!(log.contains("the limit is 262144"), "{log}");
        (written, vm_rss_kib(pid))
    });
    eprintln!("pile: {written}; VmRSS {rss0} -> {rss} KiB");
    assert!(rss <= rss0 + 16 * 1024, "VmRSS {rss} KiB, {rss0} before");
    p.release();
    let answered = p.line();
    assert_eq!(field(&answered, "answered"), field(&written, "written"));
}

/// 17.6: a subscriber that does not read loses events past its queue;
/// it is told once, after the events it got, how many it lost, and then
/// hears the next events. Through `SocketDriver`, its stream reports the
/// loss as an error once and goes on.
#[test]
fn a_slow_subscriber_is_told_once_and_then_hears_new_events() {
    const CYCLES: u64 = 1500;
    let dir = TestDir::new("slow-sub");
    let driver = Arc::new(LocalDriver::open_embedded(&dir.path.join("state")).unwrap());
    let limits = Limits {
        event_queue: 64,
        out_high_water: 8 * 1024,
        ..Limits::default()
    };
    let server = Server::with_limits(driver.clone(), driver.logger(), limits).unwrap();
    let socket = dir.path.join("s.sock");
    let listener = UnixListener::bind(&socket).unwrap();
    server.listen(listener, ServeOptions::default()).unwrap();
    let storm = || {
        for _ in 0..CYCLES {
            let d = driver.define_xml(&firmware_xml("fw-slow")).unwrap();
            driver.undefine(&d).unwrap();
        }
    };

    // Raw: the events that fit, then one `Lost` notice with the count of
    // the rest; then the next event.
    let mut s = raw(&socket);
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    hello(&mut s);
    send_call(&mut s, PROTOCOL_VERSION, &Call::Events(()), 2);
    let f = Frame::read(&mut s).unwrap().unwrap();
    assert!(Reply::decode(f.header.procedure, &f.body).unwrap().is_ok());
    storm();
    let mut events = 0u64;
    let lost = loop {
        let f = Frame::read(&mut s)
            .unwrap_or_else(|e| panic!("after {events} events and no notice: {e}"))
            .expect("a frame");
        assert_eq!(f.header.serial, 2);
        match f.header.kind {
            Kind::Event => events += 1,
            Kind::Stream => match decode_stream(&f.body).unwrap() {
                StreamMsg::Lost(n) => break n,
                other => panic!("unexpected {other:?}"),
            },
            other => panic!("unexpected {other:?} frame"),
        }
    };
    eprintln!("slow subscriber: {events} events, then told of {lost} lost");
    assert!(lost > 0, "the queue overflowed");
    assert_eq!(events + lost, 2 * CYCLES);
    let marker = driver.define_xml(&firmware_xml("fw-marker")).unwrap();
    let f = Frame::read(&mut s).unwrap().expect("the next event");
    assert_eq!(
        f.header.kind,
        Kind::Event,
        "told once: the next frame is an event"
    );
    let e = decode_event(&f.body).unwrap();
    assert_eq!(e.domain.uuid, marker.uuid, "delivery resumed");

    // Through SocketDriver: the loss comes as an error (or two: its own
    // queue may overflow too), each saying how many; then the stream
    // goes on.
    let client = SocketDriver::connect(&socket, "qemu+unix:///session").unwrap();
    let mut stream = client.events().unwrap();
    storm();
    let (mut got, mut lost, mut errors) = (0u64, 0u64, 0);
    while got + lost < 2 * CYCLES {
        match stream.next(Duration::from_secs(60)) {
            Ok(Some(_)) => got += 1,
            Ok(None) => panic!("the stream went quiet after {got} events, {errors} errors"),
            Err(e) => {
                assert_eq!(e.code, ErrorCode::OperationFailed, "{e}");
                let n = e.message.split_whitespace().next().unwrap();
                lost += n.parse::<u64>().unwrap_or_else(|_| panic!("{e}"));
                errors += 1;
            }
        }
    }
    eprintln!("through SocketDriver: {got} events, {lost} lost in {errors} notice(s)");
    assert!(errors >= 1, "the loss was reported");
    let marker = driver.define_xml(&firmware_xml("fw-marker-2")).unwrap();
    driver.undefine(&marker).unwrap();
    let next = stream
        .next(Duration::from_secs(60))
        .unwrap()
        .expect("an event");
    assert_eq!(next.domain.uuid, marker.uuid);
}
