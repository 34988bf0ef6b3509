//! Abuse of the daemon's socket: random bytes, a 4 GiB length, frames cut
//! in half, a wrong version, an unknown procedure, 500 connections that
//! never say hello, a client trickling one byte a second, and more
//! clients than the limit. Each abuser gets a coded error or is closed;
//! the daemon's memory does not grow from one round of abuse to the next;
//! and a well-behaved client's calls keep answering throughout (its
//! latency is printed, and only bounded generously: 5 s).
//!
//! A connection that never says hello is closed after
//! [`HELLO_TIMEOUT`] with a `Timeout` error, so idle or trickling
//! connections cannot hold the daemon's places for good.

use std::io::Write;
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use qvirt::driver::ListFilter;
use qvirt::transport::SocketDriver;
use qvirt::transport::server::HELLO_TIMEOUT;
use qvirt::transport::wire::{Call, Frame, Header, Kind, PROTOCOL_VERSION, Reply};
use qvirt::{Driver, ErrorCode};

use crate::support::*;

/// The most connections the daemon admits here.
const MAX_CLIENTS: usize = 1000;
/// Connections held open without a word.
const IDLE: usize = 500;
/// The bound on the good client's calls.
const ANSWERS_WITHIN: Duration = Duration::from_secs(5);

/// A hello frame, whole.
fn hello_frame() -> Vec<u8> {
    let (procedure, body) = Call::Hello(u32::from(PROTOCOL_VERSION)).encode();
    Frame {
        header: Header {
            version: PROTOCOL_VERSION,
            kind: Kind::Call,
            procedure,
            serial: 1,
        },
        body,
    }
    .encode()
}

/// Asserts every frame is an error reply with a known code other than
/// `Internal`; returns the codes.
fn coded(frames: &[Frame], what: &str) -> Vec<ErrorCode> {
    frames
        .iter()
        .map(|f| {
            let e = error_of(f);
            assert!(
                !matches!(e.code, ErrorCode::Internal | ErrorCode::Unknown(_)),
                "{what}: {e:?}"
            );
            e.code
        })
        .collect()
}

/// One round of malformed input, each on its own connection, each
/// answered with a coded error and closed.
fn one_round_of_garbage(socket: &std::path::Path, rng: &mut Rng) {
    // Random bytes, then end of input.
    for _ in 0..50 {
        let mut s = raw(socket);
        let n = 1 + rng.below(2048) as usize;
        let _ = s.write_all(&rng.bytes(n));
        let _ = s.shutdown(std::net::Shutdown::Write);
        coded(&frames_until_closed(&mut s), "random bytes");
    }
    // A length of 4 GiB: refused before anything is read or allocated.
    let mut s = raw(socket);
    s.write_all(&[0xff; 4]).unwrap();
    let codes = coded(&frames_until_closed(&mut s), "4 GiB");
    assert_eq!(codes, [ErrorCode::LimitExceeded]);
    // A frame cut in half, then the end of input.
    let whole = hello_frame();
    let mut s = raw(socket);
    s.write_all(&whole[..whole.len() / 2]).unwrap();
    s.shutdown(std::net::Shutdown::Write).unwrap();
    coded(&frames_until_closed(&mut s), "half a frame");
    // Another protocol version.
    let mut s = raw(socket);
    send_call(&mut s, PROTOCOL_VERSION + 7, &Call::Hello(1), 1);
    let codes = coded(&frames_until_closed(&mut s), "wrong version");
    assert_eq!(codes, [ErrorCode::Protocol]);
    // A procedure that does not exist: answered, and the connection
    // stays usable.
    let mut s = raw(socket);
    hello(&mut s);
    send_raw(
        &mut s,
        PROTOCOL_VERSION,
        Kind::Call,
        0xdead_beef,
        2,
        vec![1, 2, 3],
    );
    let f = Frame::read(&mut s).unwrap().expect("a reply");
    assert_eq!(f.header.serial, 2);
    assert_eq!(error_of(&f).code, ErrorCode::NoSupport);
    send_call(
        &mut s,
        PROTOCOL_VERSION,
        &Call::List(ListFilter::ALL.into()),
        3,
    );
    let f = Frame::read(&mut s).unwrap().expect("a reply");
    assert!(matches!(
        Reply::decode(5, &f.body).unwrap(),
        Ok(Reply::List(_))
    ));
    // Connections that come and go without a word.
    let quiet: Vec<UnixStream> = (0..IDLE).map(|_| raw(socket)).collect();
    drop(quiet);
}

/// The good client's latency while `abuse` runs: it calls `list` every
/// 20 ms on its own thread; every call must answer within
/// [`ANSWERS_WITHIN`].
fn while_measuring<T>(good: &Arc<SocketDriver>, abuse: impl FnOnce() -> T) -> (T, Vec<Duration>) {
    let stop = Arc::new(AtomicBool::new(false));
    let probe = {
        let (good, stop) = (good.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut latencies = Vec::new();
            while !stop.load(Ordering::SeqCst) {
                let t = Instant::now();
                good.list(ListFilter::ALL).expect("the good client's call");
                let took = t.elapsed();
                assert!(took < ANSWERS_WITHIN, "a call took {took:?}");
                latencies.push(took);
                std::thread::sleep(Duration::from_millis(20));
            }
            latencies
        })
    };
    let out = abuse();
    stop.store(true, Ordering::SeqCst);
    (
        out,
        probe.join().expect("the good client kept being answered"),
    )
}

/// Prints the latency distribution of `what`.
fn report(what: &str, mut l: Vec<Duration>) {
    assert!(!l.is_empty(), "{what}: no calls measured");
    l.sort();
    let at = |q: f64| l[((l.len() - 1) as f64 * q) as usize];
    eprintln!(
        "{what}: {} calls, median {:?}, p99 {:?}, max {:?}",
        l.len(),
        at(0.5),
        at(0.99),
        l[l.len() - 1]
    );
}

#[test]
fn abusive_clients_are_refused_and_the_good_client_is_served() {
    let _heavy = heavy();
    let dir = TestDir::new("abuse");
    let max = MAX_CLIENTS.to_string();
    let daemon = Daemon::start(&dir.path, &["--max-clients", &max]);
    let socket = daemon.socket.clone();
    let good = Arc::new(SocketDriver::connect(&daemon.socket, &daemon.uri()).unwrap());
    good.define_xml(&firmware_xml("fw-good")).unwrap();
    let mut rng = Rng::from_env("wire-abuse");
    let pid = daemon.pid();
    let threads0 = thread_count(pid);

    // Two rounds of garbage: memory after the second is where the first
    // left it (nothing accumulates per connection).
    // Memory is measured once the connections are closed.
    let fds0 = fd_count(pid);
    let settled = || {
        wait_for(
            "the connections to be closed",
            Duration::from_secs(10),
            || (fd_count(pid) <= fds0).then(|| vm_rss_kib(pid)),
        )
    };
    let rss0 = vm_rss_kib(pid);
    let ((), l1) = while_measuring(&good, || one_round_of_garbage(&socket, &mut rng));
    let rss1 = settled();
    let ((), l2) = while_measuring(&good, || one_round_of_garbage(&socket, &mut rng));
    let rss2 = settled();
    report("latency during garbage", [l1, l2].concat());
    eprintln!("daemon VmRSS: {rss0} KiB at start, {rss1} after a round, {rss2} after two");

    // 500 silent connections and one trickling a hello at a byte a second:
    // the good client is served meanwhile; each is told `Timeout` and
    // closed once the hello is overdue.
    let ((idle, trickled, peak_rss, peak_threads), l3) = while_measuring(&good, || {
        let fds_before = fd_count(pid);
        let opened = Instant::now();
        let idle: Vec<UnixStream> = (0..IDLE).map(|_| raw(&socket)).collect();
        let trickler = {
            let socket = socket.clone();
            std::thread::spawn(move || {
                let mut s = raw(&socket);
                s.set_read_timeout(Some(HELLO_TIMEOUT * 3)).unwrap();
                for b in hello_frame() {
                    if s.write_all(&[b]).is_err() {
                        break;
                    }
                    std::thread::sleep(Duration::from_secs(1));
                }
                frames_until_closed(&mut s)
            })
        };
        wait_for(
            "the daemon to take the silent ones",
            Duration::from_secs(10),
            || (fd_count(pid) >= fds_before + IDLE).then_some(()),
        );
        let peak = (vm_rss_kib(pid), thread_count(pid));
        let mut closed = Vec::new();
        for mut s in idle {
            s.set_read_timeout(Some(HELLO_TIMEOUT * 3)).unwrap();
            closed.push(frames_until_closed(&mut s));
        }
        assert!(
            opened.elapsed() >= HELLO_TIMEOUT,
            "closed before the hello was due"
        );
        (closed, trickler.join().unwrap(), peak.0, peak.1)
    });
    report("latency with 500 silent connections and a trickler", l3);
    eprintln!(
        "daemon with {IDLE} silent connections: VmRSS {peak_rss} KiB, {peak_threads} threads"
    );
    // One loop serves them all: no thread per connection.
    assert!(
        peak_threads <= threads0,
        "{peak_threads} threads with {IDLE} connections, {threads0} before"
    );
    for frames in idle.iter().chain([&trickled]) {
        let codes = coded(frames, "a silent connection");
        assert_eq!(codes, [ErrorCode::Timeout]);
    }
    let e = error_of(&trickled[0]);
    assert!(e.message.contains("hello"), "{e}");
    let rss3 = settled();
    eprintln!("daemon VmRSS after they were closed: {rss3} KiB");

    // More clients than the limit: the limit is reached exactly (the good
    // client holds one place), and the next is refused.
    let mut held: Vec<UnixStream> = Vec::new();
    let refused = wait_for("the limit", Duration::from_secs(30), || {
        let mut s = raw(&socket);
        // A refused connection may be closed before the hello is written;
        // its refusal is read all the same.
        let _ = s.write_all(&hello_frame());
        let f = Frame::read(&mut s).unwrap().expect("an answer to hello");
        match Reply::decode(1, &f.body).unwrap() {
            Ok(_) => {
                held.push(s);
                None
            }
            Err(e) if held.len() + 1 >= MAX_CLIENTS => Some(e),
            // Places of connections closed a moment ago are still being
            // given back: try again.
            Err(_) => {
                std::thread::sleep(Duration::from_millis(20));
                None
            }
        }
    });
    assert_eq!(held.len() + 1, MAX_CLIENTS, "admitted up to the limit");
    assert_eq!(refused.code, ErrorCode::LimitExceeded);
    assert!(refused.message.contains("too many clients"), "{refused}");
    good.list(ListFilter::ALL)
        .expect("the good client is still served");
    drop(held);
    let fresh = wait_for("a place", Duration::from_secs(10), || {
        SocketDriver::connect(&daemon.socket, &daemon.uri()).ok()
    });
    fresh.list(ListFilter::ALL).unwrap();

    // Bounded: no growth from one round of garbage to the next, and the
    // silent connections' memory given back once they are closed (within
    // what the allocator keeps: 64 MiB, generously).
    let mib = |kib: u64| kib / 1024;
    assert!(
        rss2 <= rss1 + 8 * 1024,
        "VmRSS grew from {} to {} MiB between identical rounds",
        mib(rss1),
        mib(rss2)
    );
    assert!(
        rss3 <= rss0 + 64 * 1024,
        "VmRSS grew from {} to {} MiB",
        mib(rss0),
        mib(rss3)
    );
}

/// A daemon started with a low soft limit on open files (as systemd
/// starts services: 1024, here 64) still serves as many clients as
/// `--max-clients` allows: it raises the soft limit to the hard one, and
/// a client costs it one descriptor.
#[test]
fn a_low_inherited_file_limit_does_not_cap_the_clients() {
    const CLIENTS: usize = 200;
    let dir = TestDir::new("nofile");
    let daemon = Daemon::start_under(
        &["prlimit", "--nofile=64:8192", "--"],
        &dir.path,
        &["--max-clients", "300"],
    );
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", daemon.pid())).unwrap();
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .unwrap();
    assert!(
        line.split_whitespace().filter(|w| *w == "8192").count() == 2,
        "{line}"
    );
    let held: Vec<UnixStream> = (0..CLIENTS)
        .map(|i| {
            let mut s = raw(&daemon.socket);
            s.write_all(&hello_frame()).unwrap();
            let f = Frame::read(&mut s)
                .unwrap_or_else(|e| panic!("client {i}: {e}"))
                .unwrap_or_else(|| panic!("client {i}: closed without a word"));
            let reply = Reply::decode(1, &f.body).unwrap();
            assert!(reply.is_ok(), "client {i}: {reply:?}");
            s
        })
        .collect();
    assert_eq!(held.len(), CLIENTS);
    daemon.connect().list(ListFilter::ALL).unwrap();
    let log = manager_log(&dir.path);
    assert!(!log.contains("accept failed"), "{log}");
}
