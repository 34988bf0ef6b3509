//! The daemon's threads do not grow with its clients: one I/O loop
//! serves every connection and a fixed pool of workers runs the calls
//! that may take long. Checked on the real `qvirtd`, from outside
//! (/proc/PID/status and /proc/PID/task).

#[allow(dead_code)]
#[path = "daemon/support.rs"]
mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use std::os::unix::net::UnixListener;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use qvirt::Driver;
use qvirt::driver::local::LocalDriver;
use qvirt::driver::{DomainState, ListFilter, ShutdownOptions};
use qvirt::transport::SocketDriver;
use qvirt::transport::server::{Limits, ServeOptions, Server};
use qvirt::transport::wire::{
    Call, Frame, Kind, PROTOCOL_VERSION, Procedure, Reply, WireEventKind, decode_event,
};
use support::*;

/// The number of threads of `pid`.
fn threads(pid: i32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/task")).map_or(0, |d| d.count())
}

/// The resident set size of `pid`, KiB.
fn rss_kib(pid: i32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

/// Raises this process's open-file limit to its hard limit (the test
/// holds a thousand sockets).
fn raise_nofile() {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let (_, hard) = getrlimit(Resource::RLIMIT_NOFILE).unwrap();
    setrlimit(Resource::RLIMIT_NOFILE, hard, hard).unwrap();
    assert!(hard >= 2100, "the hard open-file limit {hard} is too low");
}

const CLIENTS: usize = 1000;

#[test]
fn a_thousand_clients_each_subscribed_leave_threads_and_memory_bounded() {
    raise_nofile();
    let dir = TestDir::new("thousand");
    let daemon = Daemon::start(&dir.path, &["--max-clients", "1100"]);
    let pid = daemon.pid();
    let d = daemon.connect();
    d.list(ListFilter::ALL).unwrap();
    let (threads0, rss0) = (threads(pid), rss_kib(pid));

    let events = Procedure::Events.number();
    let mut clients = Vec::with_capacity(CLIENTS);
    for i in 0..CLIENTS {
        let mut s = raw(&daemon.socket);
        hello(&mut s);
        send_call(&mut s, PROTOCOL_VERSION, &Call::Events(()), 2);
        let f = Frame::read(&mut s)
            .unwrap_or_else(|e| panic!("client {i}: {e}"))
            .unwrap_or_else(|| panic!("client {i}: closed"));
        assert_eq!(f.header.serial, 2);
        let reply = Reply::decode(events, &f.body).unwrap();
        assert!(
            matches!(reply, Ok(Reply::Events(()))),
            "client {i}: {reply:?}"
        );
        clients.push(s);
    }
    let (threads1, rss1) = (threads(pid), rss_kib(pid));
    eprintln!(
        "qvirtd: {threads0} threads and {rss0} KiB with one client; \
         {threads1} threads and {rss1} KiB with {CLIENTS} more, each subscribed"
    );
    assert!(
        threads1 <= threads0,
        "{threads1} threads with {CLIENTS} clients, {threads0} with one"
    );
    assert!(
        rss1 <= rss0 + 32 * 1024,
        "VmRSS grew from {rss0} to {rss1} KiB"
    );

    // Each of them hears the next event, and the daemon answers
    // meanwhile.
    let dom = d.define_xml(&firmware_xml("fw-ev")).unwrap();
    for (i, s) in clients.iter_mut().enumerate() {
        let f = Frame::read(s)
            .unwrap_or_else(|e| panic!("client {i}: {e}"))
            .unwrap_or_else(|| panic!("client {i}: closed"));
        assert_eq!(
            (f.header.kind, f.header.serial),
            (Kind::Event, 2),
            "client {i}"
        );
        let e = decode_event(&f.body).unwrap();
        assert_eq!(
            (e.domain.uuid, e.kind),
            (dom.uuid, WireEventKind::Defined),
            "client {i}"
        );
    }
    assert_eq!(d.list(ListFilter::ALL).unwrap().len(), 1);
    assert!(threads(pid) <= threads0);
}

/// Many clients whose calls all go to the workers at once: every call is
/// answered (a completion the loop missed would leave a caller waiting
/// for good; the test would then fail at its deadline).
#[test]
fn calls_on_the_workers_from_many_clients_are_all_answered() {
    const THREADS: usize = 8;
    const CALLS: usize = 300;
    let dir = TestDir::new("workers");
    let daemon = Daemon::start(&dir.path, &[]);
    let dom = daemon.connect().define_xml(&firmware_xml("fw-w")).unwrap();
    let answered = Arc::new(AtomicUsize::new(0));
    for _ in 0..THREADS {
        let client = SocketDriver::connect(&daemon.socket, &daemon.uri()).unwrap();
        let (answered, dom) = (answered.clone(), dom.clone());
        // Not joined: a thread whose call is never answered is ended by
        // the daemon's kill when the test fails.
        std::thread::spawn(move || {
            for i in 0..CALLS {
                if i % 2 == 0 {
                    client.version().unwrap();
                } else {
                    client.autostart(&dom).unwrap();
                }
                answered.fetch_add(1, Ordering::SeqCst);
            }
        });
    }
    let all = THREADS * CALLS;
    let done = wait_until(Duration::from_secs(120), || {
        answered.load(Ordering::SeqCst) == all
    });
    assert!(
        done,
        "{} of {all} calls answered",
        answered.load(Ordering::SeqCst)
    );
}

/// A call waiting for a place (its connection's calls in progress are at
/// their limit) waits as long as they take: it is a whole frame, not one
/// begun and left unfinished, so the frame deadline does not close the
/// connection. A quick call is answered meanwhile, without a place.
#[test]
fn a_call_waiting_for_a_place_outlives_the_frame_deadline() {
    let dir = TestDir::new("place");
    let driver = Arc::new(LocalDriver::open_embedded(&dir.path.join("state")).unwrap());
    let limits = Limits {
        max_requests_per_client: 1,
        frame_timeout: Duration::from_secs(1),
        ..Limits::default()
    };
    let server = Server::with_limits(driver.clone(), driver.logger(), limits).unwrap();
    let socket = dir.path.join("s.sock");
    let listener = UnixListener::bind(&socket).unwrap();
    server.listen(listener, ServeOptions::default()).unwrap();
    let client = Arc::new(SocketDriver::connect(&socket, "qemu+unix:///session").unwrap());
    let dom = client.define_xml(&firmware_xml("fw-place")).unwrap();
    let dom = client.start(&dom).unwrap();

    // A shutdown the firmware ignores holds the connection's one place.
    let returned = Arc::new(AtomicBool::new(false));
    let long = {
        let (c, d, returned) = (client.clone(), dom.clone(), returned.clone());
        std::thread::spawn(move || {
            let r = c.shutdown(
                &d,
                ShutdownOptions::NO_WAIT.with_wait(Duration::from_secs(120)),
            );
            returned.store(true, Ordering::SeqCst);
            r
        })
    };
    assert!(wait_until(Duration::from_secs(30), || server.in_flight() == 1));
    assert_eq!(client.list(ListFilter::ALL).unwrap().len(), 1);
    assert!(
        !returned.load(Ordering::SeqCst),
        "list waited for the shutdown"
    );

    // A call for a worker waits for the place, past the frame deadline.
    let waiting = {
        let (c, d) = (client.clone(), dom.clone());
        std::thread::spawn(move || c.autostart(&d))
    };
    let until = Instant::now() + 3 * Duration::from_secs(1);
    while Instant::now() < until {
        assert!(!waiting.is_finished(), "the waiting call ended early");
        std::thread::sleep(Duration::from_millis(50));
    }
    let other = SocketDriver::connect(&socket, "qemu+unix:///session").unwrap();
    other.destroy(&dom).unwrap();
    long.join()
        .unwrap()
        .expect("the shutdown saw the domain shut off");
    assert!(
        !waiting
            .join()
            .unwrap()
            .expect("the waiting call is answered")
    );
    assert_eq!(client.info(&dom).unwrap().state, DomainState::Shutoff);
}
