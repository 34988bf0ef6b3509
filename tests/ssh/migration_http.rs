//! A guest that serves HTTP keeps serving while `qvirt migrate --live`
//! moves it from host A to host B. Beside the world's two hosts (joined
//! by the veth pair the managers, ssh and QEMU's stream use), a third
//! namespace, the "switch", holds a bridge joined by a veth pair of its
//! own to a bridge `br0` in each host: the guest network, one L2 segment
//! whichever host the guest runs on. A poller in the switch namespace
//! fetches the guest's uptime (a CGI of the guest's busybox httpd) every
//! 20 ms throughout; the longest gap is printed, not asserted.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use qvirt::driver::{DomainState, ListFilter};

use crate::support::{Daemon, QVIRT, TestDir, process_alive, qemu_pid};
use crate::world::{B_ADDR, World, wait_for};
use crate::{connect, guest_dir, read_until};

/// The guest's address on the guest network.
const GUEST_ADDR: &str = "10.0.3.50";

/// Runs `ip ARGS`; panics with its stderr unless it succeeds.
fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("run ip");
    assert!(
        out.status.success(),
        "ip {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The switch namespace: bridge `sw0` (10.0.3.1/24) with a port toward
/// `br0` of each host; deleted on drop (its veth ends go with it).
struct Switch {
    name: String,
}

impl Switch {
    fn new(w: &World) -> Switch {
        let name = format!("qvss-{}", w.a_netns().trim_start_matches("qvsa-"));
        let _ = Command::new("ip")
            .args(["netns", "del", &name])
            .stderr(std::process::Stdio::null())
            .status();
        ip(&["netns", "add", &name]);
        let switch = Switch { name };
        let s = switch.name.as_str();
        ip(&["-n", s, "link", "set", "lo", "up"]);
        ip(&["-n", s, "link", "add", "sw0", "type", "bridge"]);
        ip(&["-n", s, "addr", "add", "10.0.3.1/24", "dev", "sw0"]);
        ip(&["-n", s, "link", "set", "sw0", "up"]);
        for (host, port, peer) in [(w.a_netns(), "ga", "sa"), (w.b_netns(), "gb", "sb")] {
            ip(&[
                "link", "add", port, "netns", host, "type", "veth", "peer", "name", peer, "netns",
                s,
            ]);
            ip(&["-n", host, "link", "add", "br0", "type", "bridge"]);
            ip(&["-n", host, "link", "set", port, "master", "br0"]);
            ip(&["-n", host, "link", "set", port, "up"]);
            ip(&["-n", host, "link", "set", "br0", "up"]);
            ip(&["-n", s, "link", "set", peer, "master", "sw0"]);
            ip(&["-n", s, "link", "set", peer, "up"]);
        }
        switch
    }
}

impl Drop for Switch {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

/// One fetch: when it ended, and the uptime served (hundredths of a
/// second), or `None` when it failed.
struct Fetch {
    at: Instant,
    uptime: Option<u64>,
}

/// Fetches `http://GUEST/cgi-bin/up` once.
fn fetch() -> Option<u64> {
    let addr: SocketAddr = format!("{GUEST_ADDR}:80").parse().unwrap();
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_millis(500)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    s.write_all(b"GET /cgi-bin/up HTTP/1.0\r\n\r\n").ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    // The CGI's own header ends with a bare "\n\n".
    let text = text.replace("\r\n", "\n");
    let body = text.split_once("\n\n")?.1;
    let up = body.split_whitespace().next()?;
    up.replace('.', "").parse().ok()
}

/// Starts the poller in the switch namespace: a fetch every 20 ms until
/// `stop`, counting answers in `served`; every fetch, in order.
fn poller(ns: &str, stop: Arc<AtomicBool>, served: Arc<AtomicUsize>) -> JoinHandle<Vec<Fetch>> {
    let netns = std::fs::File::open(format!("/run/netns/{ns}")).expect("the switch namespace");
    std::thread::spawn(move || {
        // Only this thread enters the switch's network namespace.
        nix::sched::setns(netns, nix::sched::CloneFlags::CLONE_NEWNET).expect("setns");
        let mut fetches = Vec::new();
        let mut next = Instant::now();
        while !stop.load(Ordering::SeqCst) {
            let uptime = fetch();
            if uptime.is_some() {
                served.fetch_add(1, Ordering::SeqCst);
            }
            fetches.push(Fetch {
                at: Instant::now(),
                uptime,
            });
            next += Duration::from_millis(20);
            let now = Instant::now();
            if next > now {
                std::thread::sleep(next - now);
            } else {
                next = now;
            }
        }
        fetches
    })
}

/// The Linux guest on `br0` at [`GUEST_ADDR`].
fn http_guest(name: &str) -> String {
    let dir = guest_dir();
    format!(
        "<domain type='qemu'><name>{name}</name><memory unit='MiB'>128</memory>\
         <vcpu>1</vcpu><os><type arch='x86_64' machine='pc'>hvm</type>\
         <kernel>{0}/vmlinux</kernel><initrd>{0}/initrd.img</initrd>\
         <cmdline>console=ttyS0 quiet no_timer_check guestnet guestip={GUEST_ADDR}/24 guestgw=10.0.3.1</cmdline></os>\
         <features><acpi/></features><devices>\
         <interface type='bridge'><mac address='52:54:00:03:00:50'/><source bridge='br0'/>\
         <model type='virtio'/></interface><serial type='pty'/>\
         <memballoon model='none'/></devices></domain>",
        dir.display()
    )
}

/// Host A's daemon running the HTTP guest `name`, which serves its
/// uptime, and a poller in the switch fetching it every 20 ms, once it
/// has had `answers` answers from host A.
struct Serving {
    _src_dir: TestDir,
    src_daemon: Daemon,
    a: Box<dyn qvirt::Driver>,
    dom: qvirt::Domain,
    src_qemu: i32,
    stop: Arc<AtomicBool>,
    served: Arc<AtomicUsize>,
    polls: JoinHandle<Vec<Fetch>>,
}

fn serve_from_a(w: &World, switch: &Switch, name: &str, answers: usize) -> Serving {
    let src_dir = TestDir::new(&format!("ssh-{name}-src"));
    let src_daemon = Daemon::start_under(&["ip", "netns", "exec", w.a_netns()], &src_dir.path, &[]);
    let a = src_daemon.connect();
    let dom = a.define_xml(&http_guest(name)).unwrap();
    let dom = a.start(&dom).unwrap();
    let src_qemu = qemu_pid(&src_dir.path, name);
    let mut console = a.console(&dom, false).unwrap();
    read_until(&mut *console, "QVIRT-GUEST-READY", Duration::from_secs(300));
    // The guest's uptime as a CGI of its httpd.
    console
        .write(
            b"mkdir -p /www/cgi-bin; echo '#!/bin/sh' >/www/cgi-bin/up; \
              echo 'echo Content-Type: text/plain; echo; cat /proc/uptime' >>/www/cgi-bin/up; \
              chmod 755 /www/cgi-bin/up; echo CGI-$((40+2))\n",
        )
        .unwrap();
    read_until(&mut *console, "CGI-42", Duration::from_secs(60));
    drop(console);
    let stop = Arc::new(AtomicBool::new(false));
    let served = Arc::new(AtomicUsize::new(0));
    let polls = poller(&switch.name, stop.clone(), served.clone());
    wait_for(
        "the guest to serve from host A",
        Duration::from_secs(60),
        || (served.load(Ordering::SeqCst) >= answers).then_some(()),
    );
    Serving {
        _src_dir: src_dir,
        src_daemon,
        a,
        dom,
        src_qemu,
        stop,
        served,
        polls,
    }
}

#[test]
fn a_guest_serving_http_keeps_serving_while_it_moves_between_hosts() {
    let _guest = guest_dir();
    let w = World::new("http");
    let switch = Switch::new(&w);
    let _dest_daemon = w.start_system_daemon();
    // Served from host A before anything moves: a few dozen answers.
    let Serving {
        _src_dir,
        src_daemon,
        a,
        dom: _,
        src_qemu,
        stop,
        served,
        polls,
    } = serve_from_a(&w, &switch, "lx-http", 40);

    let dest = w.uri("root", "system", "");
    let started = Instant::now();
    let out = Command::new(QVIRT)
        .arg("-c")
        .arg(src_daemon.uri())
        .args([
            "migrate",
            "--live",
            "--migrateuri",
            &format!("tcp://{B_ADDR}"),
            "lx-http",
            &dest,
        ])
        .output()
        .expect("run qvirt migrate");
    let ended = Instant::now();
    assert!(
        out.status.success(),
        "qvirt migrate: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A few dozen answers after the move (from host B, as checked below).
    let moved = served.load(Ordering::SeqCst);
    wait_for("answers after the move", Duration::from_secs(60), || {
        (served.load(Ordering::SeqCst) >= moved + 40).then_some(())
    });
    stop.store(true, Ordering::SeqCst);
    let fetches = polls.join().expect("the poller");

    // Exactly one QEMU: in host B; the source's ended.
    wait_for("the source QEMU to end", Duration::from_secs(30), || {
        (!process_alive(src_qemu)).then_some(())
    });
    let moved = w.b_processes("guest=lx-http");
    assert_eq!(moved.len(), 1, "one QEMU in host B: {moved:?}");
    assert!(w.in_b_net(moved[0]));
    assert!(
        a.list(ListFilter::ACTIVE).unwrap().is_empty(),
        "nothing runs in A"
    );
    let b = connect(&dest);
    let there = b.lookup_by_name("lx-http").unwrap();
    assert_eq!(b.info(&there).unwrap().state, DomainState::Running);

    // What the poller saw.
    let ok: Vec<(Instant, u64)> = fetches
        .iter()
        .filter_map(|f| f.uptime.map(|u| (f.at, u)))
        .collect();
    let served_before = ok.iter().filter(|(at, _)| *at < started).count();
    let served_after = ok.iter().filter(|(at, _)| *at > ended).count();
    assert!(served_before > 0, "no answer from host A before the move");
    assert!(served_after > 0, "no answer from host B after the move");
    // The same guest throughout: its uptime never goes back (a restart
    // would start it again from zero).
    for pair in ok.windows(2) {
        assert!(
            pair[1].1 >= pair[0].1,
            "the uptime went back from {} to {}: restarted?",
            pair[0].1,
            pair[1].1
        );
    }
    let failed_before = fetches
        .iter()
        .filter(|f| f.at < started && f.uptime.is_none())
        .count();
    assert_eq!(failed_before, 0, "fetches failed before the move");
    // None fails once host B has answered.
    let first_after = ok.iter().find(|(at, _)| *at > ended).unwrap().0;
    let failed_after = fetches
        .iter()
        .filter(|f| f.at > first_after && f.uptime.is_none())
        .count();
    assert_eq!(failed_after, 0, "fetches failed after host B answered");
    let gap = ok
        .windows(2)
        .map(|p| p[1].0 - p[0].0)
        .max()
        .unwrap_or_default();
    let failed = fetches.iter().filter(|f| f.uptime.is_none()).count();
    eprintln!(
        "migration over ssh took {:?}; {} fetches, {} failed, longest gap between answers {:?}; uptime {} -> {}",
        ended - started,
        fetches.len(),
        failed,
        gap,
        ok[0].1,
        ok[ok.len() - 1].1
    );
    b.destroy(&there).unwrap();
}

/// The network between the two managers cut (host A's end of the veth
/// pair down) while the stream flows: the migration fails, the guest
/// serves on from host A throughout, and once the link is back nothing
/// of it is left in host B (its manager gave the incoming copy up when
/// the source stopped asking about it, before the link came back).
#[test]
fn a_network_cut_mid_stream_leaves_the_guest_serving_at_the_source() {
    let _guest = guest_dir();
    let w = World::new("cut");
    let switch = Switch::new(&w);
    let _dest_daemon = w.start_system_daemon();
    let Serving {
        _src_dir,
        src_daemon,
        a,
        dom,
        src_qemu,
        stop,
        served,
        polls,
    } = serve_from_a(&w, &switch, "lx-cut", 1);

    // A slow stream (1 MiB/s), cut once it flows.
    let dest = w.uri("root", "system", "");
    let mut migrate = Command::new(QVIRT)
        .arg("-c")
        .arg(src_daemon.uri())
        .args([
            "migrate",
            "--live",
            "--bandwidth",
            "1",
            "--migrateuri",
            &format!("tcp://{B_ADDR}"),
            "lx-cut",
            &dest,
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run qvirt migrate");
    wait_for("the stream to flow", Duration::from_secs(120), || {
        let job = a.job_info(&dom).ok().flatten()?;
        (job.data_processed > 0).then_some(())
    });
    assert_eq!(w.b_processes("guest=lx-cut").len(), 1, "the incoming QEMU");
    ip(&["-n", w.a_netns(), "link", "set", "va", "down"]);
    let cut = Instant::now();
    let status = wait_for("the migration to fail", Duration::from_secs(180), || {
        migrate.try_wait().ok().flatten()
    });
    let failed_after = cut.elapsed();
    let mut stderr = String::new();
    migrate
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(!status.success(), "the migration succeeded with no network");
    // The guest runs on in host A, the same QEMU, and serves.
    assert_eq!(a.info(&dom).unwrap().state, DomainState::Running);
    assert!(process_alive(src_qemu), "the source QEMU runs on");
    let before = served.load(Ordering::SeqCst);
    wait_for(
        "an answer after the failure",
        Duration::from_secs(60),
        || (served.load(Ordering::SeqCst) > before).then_some(()),
    );

    // Still cut off, host B's manager gives its copy up on its own: the
    // source stopped asking about it (its QEMU there can learn nothing).
    wait_for(
        "host B to give up its copy",
        Duration::from_secs(120),
        || w.b_processes("guest=lx-cut").is_empty().then_some(()),
    );
    let log = std::fs::read_to_string(w.dir.join("qvirtd-system.stderr")).unwrap_or_default();
    assert!(
        log.contains("'lx-cut': no word from the source manager"),
        "host B's log: {log}"
    );
    // The link back: nothing of the guest in host B.
    ip(&["-n", w.a_netns(), "link", "set", "va", "up"]);
    let b = connect(&dest);
    assert!(
        b.list(ListFilter::ALL).unwrap().is_empty(),
        "nothing of the guest in host B"
    );
    let log = std::fs::read_to_string(w.dir.join("qvirtd-system.stderr")).unwrap_or_default();
    for line in log.lines().filter(|l| l.contains("lx-cut")) {
        eprintln!("host B: {line}");
    }
    stop.store(true, Ordering::SeqCst);
    let fetches = polls.join().expect("the poller");
    let ok: Vec<(Instant, u64)> = fetches
        .iter()
        .filter_map(|f| f.uptime.map(|u| (f.at, u)))
        .collect();
    for pair in ok.windows(2) {
        assert!(pair[1].1 >= pair[0].1, "the uptime went back: restarted?");
    }
    let gap = ok
        .windows(2)
        .map(|p| p[1].0 - p[0].0)
        .max()
        .unwrap_or_default();
    let failed = fetches.iter().filter(|f| f.uptime.is_none()).count();
    assert_eq!(failed, 0, "the guest stopped serving at the source");
    eprintln!(
        "the cut migration failed {failed_after:?} after the cut ({}); {} fetches, none failed, longest gap {gap:?}",
        stderr.trim(),
        fetches.len()
    );
    assert_eq!(a.info(&dom).unwrap().state, DomainState::Running);
    a.destroy(&dom).unwrap();
}
