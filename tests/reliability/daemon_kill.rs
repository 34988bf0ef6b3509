//! The daemon dies (SIGKILL) while 20 VMs run and clients are in the
//! middle of calls. Whatever takes over — a new daemon, or an embedded
//! driver on the same state directory — lists every VM running with its
//! id, VNC port and true state (paused where the last answered call
//! paused it), can suspend, resume and destroy each, and delivers events.
//! A daemon killed in the middle of a start leaves no QEMU behind that no
//! manager knows.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nix::sys::signal::Signal;
use qvirt::driver::XmlFlags;
use qvirt::driver::{DomainState, EventKind, ListFilter, StateReason};
use qvirt::transport::SocketDriver;
use qvirt::{Driver, ErrorCode};

use crate::support::*;

/// How many VMs run when the daemon dies.
const VMS: usize = 20;

/// One VM as it ran before the daemon died.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Vm {
    id: u32,
    vnc_port: u16,
    pid: i32,
}

/// What the client that suspends and resumes knows when the daemon dies:
/// the state each VM had after its last answered call, and the VM of the
/// call that never got an answer.
#[derive(Debug, Default)]
struct Churn {
    confirmed: BTreeMap<String, DomainState>,
    in_flight: Option<String>,
}

/// The VNC port in a live domain XML (`<graphics type='vnc' port='N'`).
fn vnc_port(xml: &str) -> u16 {
    let g = &xml[xml.find("<graphics").expect("a graphics element")..];
    let p = &g[g.find("port='").expect("a port") + 6..];
    p[..p.find('\'').unwrap()].parse().expect("a port number")
}

/// Defines and starts `VMS` firmware VMs with VNC through `d`, four at a
/// time; what each runs as.
fn start_fleet(d: &dyn Driver, root: &Path) -> BTreeMap<String, Vm> {
    let names: Vec<String> = (0..VMS).map(|i| format!("vm{i:02}")).collect();
    let next = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(name) = names.get(i) else { return };
                    let dom = d.define_xml(&small_vm_xml(name, "", VNC)).expect("define");
                    d.start(&dom).expect("start");
                }
            });
        }
    });
    names
        .iter()
        .map(|n| {
            let dom = d.lookup_by_name(n).unwrap();
            let vm = Vm {
                id: dom.id.expect("running"),
                vnc_port: vnc_port(&d.xml_desc(&dom, XmlFlags::NONE).unwrap()),
                pid: qemu_pid(root, n),
            };
            (n.clone(), vm)
        })
        .collect()
}

/// Starts the daemon on a fresh directory with the fleet running, sets
/// one client suspending and resuming VMs and another querying, and
/// SIGKILLs the daemon at a random moment while both are calling.
fn killed_mid_calls(tag: &str) -> (TestDir, BTreeMap<String, Vm>, Churn) {
    let dir = TestDir::new(tag);
    let mut daemon = Daemon::start(&dir.path, &[]);
    let fleet = start_fleet(&*daemon.connect(), &dir.path);
    let mut rng = Rng::from_env(tag);

    let churn = Arc::new(Mutex::new(Churn {
        confirmed: fleet
            .keys()
            .map(|n| (n.clone(), DomainState::Running))
            .collect(),
        in_flight: None,
    }));
    let calls = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let toggler = {
        let (churn, calls, stop) = (churn.clone(), calls.clone(), stop.clone());
        let c = SocketDriver::connect(&daemon.socket, &daemon.uri()).unwrap();
        let names: Vec<String> = fleet.keys().cloned().collect();
        let start = rng.below(VMS as u64) as usize;
        std::thread::spawn(move || {
            for name in names.iter().cycle().skip(start) {
                if stop.load(Ordering::SeqCst) {
                    return None;
                }
                let state = {
                    let mut ch = churn.lock().unwrap();
                    ch.in_flight = Some(name.clone());
                    ch.confirmed[name]
                };
                let result = c.lookup_by_name(name).and_then(|dom| {
                    if state == DomainState::Running {
                        c.suspend(&dom).map(|()| DomainState::Paused)
                    } else {
                        c.resume(&dom).map(|()| DomainState::Running)
                    }
                });
                match result {
                    Ok(now) => {
                        let mut ch = churn.lock().unwrap();
                        ch.confirmed.insert(name.clone(), now);
                        ch.in_flight = None;
                        calls.fetch_add(1, Ordering::SeqCst);
                    }
                    Err(e) => return Some(e),
                }
            }
            None
        })
    };
    let querier = {
        let stop = stop.clone();
        let c = SocketDriver::connect(&daemon.socket, &daemon.uri()).unwrap();
        let names: Vec<String> = fleet.keys().cloned().collect();
        std::thread::spawn(move || {
            for name in names.iter().cycle() {
                if stop.load(Ordering::SeqCst) {
                    return None;
                }
                let result = c.list(ListFilter::ALL).and_then(|_| {
                    let dom = c.lookup_by_name(name)?;
                    c.info(&dom)?;
                    c.xml_desc(&dom, XmlFlags::NONE)
                });
                if let Err(e) = result {
                    return Some(e);
                }
            }
            None
        })
    };
    wait_for("the client's first calls", Duration::from_secs(30), || {
        (calls.load(Ordering::SeqCst) >= 8).then_some(())
    });
    std::thread::sleep(Duration::from_millis(rng.below(50)));
    daemon.signal(Signal::SIGKILL);
    daemon.wait_exit(Duration::from_secs(10));

    // Both clients were calling: each call in flight fails, saying the
    // connection ended, and no later call hangs.
    let failed = std::thread::spawn(move || {
        let a = toggler.join().unwrap();
        let b = querier.join().unwrap();
        [a, b]
    });
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !failed.is_finished() {
        assert!(
            std::time::Instant::now() < deadline,
            "a client hangs after the daemon died"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    stop.store(true, Ordering::SeqCst);
    for e in failed.join().unwrap() {
        let e = e.expect("a client calling in a loop sees the daemon go");
        assert!(
            matches!(e.code, ErrorCode::Protocol | ErrorCode::Io),
            "unexpected error: {e:?}"
        );
        assert!(e.message.contains("ended"), "{e}");
    }
    for (name, vm) in &fleet {
        assert!(process_alive(vm.pid), "QEMU of {name} died with the daemon");
    }
    let churn = std::mem::take(&mut *churn.lock().unwrap());
    (dir, fleet, churn)
}

/// What a manager that takes over must show and do: every VM running or
/// paused as the client last saw it, with its id and VNC port (and QEMU
/// really serving VNC there); each can be suspended, resumed and
/// destroyed, with an event for each step; nothing is left running or on
/// disk afterwards.
fn take_over(m: &dyn Driver, root: &Path, fleet: &BTreeMap<String, Vm>, churn: &Churn) {
    let mut events = m.events().unwrap();
    let active = m.list(ListFilter::ACTIVE).unwrap();
    let listed: BTreeMap<String, u32> = active
        .iter()
        .map(|s| (s.domain.name.clone(), s.domain.id.expect("an id")))
        .collect();
    let expected: BTreeMap<String, u32> = fleet.iter().map(|(n, v)| (n.clone(), v.id)).collect();
    assert_eq!(listed, expected, "the VMs and their ids");
    for s in &active {
        let name = &s.domain.name;
        let state = m.info(&s.domain).unwrap().state;
        assert_eq!(state, s.state, "{name}: list and info agree");
        if churn.in_flight.as_ref() == Some(name) {
            assert!(
                matches!(state, DomainState::Running | DomainState::Paused),
                "{name}: {state:?}"
            );
        } else {
            assert_eq!(state, churn.confirmed[name], "{name}'s state");
        }
        let port = vnc_port(&m.xml_desc(&s.domain, XmlFlags::NONE).unwrap());
        assert_eq!(port, fleet[name].vnc_port, "{name}'s VNC port");
        let banner = rfb_banner(port);
        assert!(
            banner.as_deref().is_some_and(|b| b.starts_with("RFB ")),
            "{name}: port {port} answers {banner:?}"
        );
    }

    // Suspend, resume and destroy each; the state follows every step.
    for s in &active {
        let dom = &s.domain;
        if m.info(dom).unwrap().state == DomainState::Paused {
            m.resume(dom).unwrap();
            assert_eq!(m.info(dom).unwrap().state, DomainState::Running);
        }
        m.suspend(dom).unwrap();
        assert_eq!(m.info(dom).unwrap().state, DomainState::Paused);
        m.resume(dom).unwrap();
        assert_eq!(m.info(dom).unwrap().state, DomainState::Running);
        m.destroy(dom).unwrap();
        let info = m.info(dom).unwrap();
        assert_eq!(
            (info.state, info.reason),
            (DomainState::Shutoff, StateReason::Destroyed)
        );
    }
    let mut heard: BTreeMap<String, Vec<EventKind>> = BTreeMap::new();
    let complete = |heard: &BTreeMap<String, Vec<EventKind>>| {
        fleet.keys().all(|n| {
            heard.get(n).is_some_and(|k| {
                k.contains(&EventKind::Suspended(StateReason::User))
                    && k.contains(&EventKind::Resumed)
                    && k.contains(&EventKind::Stopped(StateReason::Destroyed))
            })
        })
    };
    wait_for("every VM's events", Duration::from_secs(20), || {
        while let Some(e) = events.next(Duration::from_millis(50)).unwrap() {
            heard.entry(e.domain.name).or_default().push(e.kind);
        }
        complete(&heard).then_some(())
    });
    for (name, vm) in fleet {
        wait_for("QEMU to exit", Duration::from_secs(10), || {
            (!process_alive(vm.pid)).then_some(())
        });
        assert!(
            !run_dir_of(root, name).exists(),
            "{name}'s runtime directory is left over"
        );
    }
    assert!(m.list(ListFilter::ACTIVE).unwrap().is_empty());
}

#[test]
fn a_new_daemon_takes_over_from_a_killed_one() {
    let _heavy = heavy();
    let (dir, fleet, churn) = killed_mid_calls("kill-daemon");
    let daemon = Daemon::start(&dir.path, &[]);
    take_over(&*daemon.connect(), &dir.path, &fleet, &churn);
}

#[test]
fn an_embedded_driver_takes_over_from_a_killed_daemon() {
    let _heavy = heavy();
    let (dir, fleet, churn) = killed_mid_calls("kill-embed");
    let embedded = qvirt::connect(&format!("qemu:///embed?root={}", dir.path.display())).unwrap();
    take_over(&*embedded, &dir.path, &fleet, &churn);
}

/// A daemon killed while it starts a VM (QEMU spawned, its monitor being
/// set up, the vCPUs not yet running or just started) leaves either a
/// running VM the next manager finds, or no QEMU at all: never a process
/// no manager knows, holding the VM's disk and ports.
#[test]
fn a_daemon_killed_during_a_start_leaves_no_stray_qemu() {
    let _heavy = heavy();
    let dir = TestDir::new("kill-start");
    let mut rng = Rng::from_env("kill-start");
    let uri = format!("qemu:///embed?root={}", dir.path.display());
    // How long a start takes here, to spread the kills over it.
    let took = {
        let daemon = Daemon::start(&dir.path, &[]);
        let d = daemon.connect();
        let dom = d.define_xml(&small_vm_xml("fs", "", VNC)).unwrap();
        let t = std::time::Instant::now();
        let dom = d.start(&dom).unwrap();
        let took = t.elapsed();
        d.destroy(&dom).unwrap();
        took
    };
    let mut outcomes = BTreeMap::new();
    for round in 0..8 {
        let mut daemon = Daemon::start(&dir.path, &[]);
        let d = SocketDriver::connect(&daemon.socket, &daemon.uri()).unwrap();
        let dom = d.lookup_by_name("fs").unwrap();
        let starter = std::thread::spawn(move || d.start(&dom).map(drop));
        let delay = rng.below(took.as_micros() as u64 * 5 / 4);
        std::thread::sleep(Duration::from_micros(delay));
        daemon.signal(Signal::SIGKILL);
        daemon.wait_exit(Duration::from_secs(10));
        let answered = starter.join().unwrap().is_ok();

        let m = qvirt::connect(&uri).unwrap();
        let dom = m.lookup_by_name("fs").unwrap();
        let state = m.info(&dom).unwrap().state;
        if answered {
            assert_eq!(
                state,
                DomainState::Running,
                "round {round}: an answered start"
            );
        }
        let expect: Vec<i32> = if state == DomainState::Shutoff {
            Vec::new()
        } else {
            vec![qemu_pid(&dir.path, "fs")]
        };
        let left = wait_until(Duration::from_secs(10), || {
            processes_under(&dir.path) == expect
        });
        assert!(
            left,
            "round {round}: {state:?}, yet QEMUs {:?} run (expected {expect:?})",
            processes_under(&dir.path)
        );
        if state != DomainState::Shutoff {
            m.destroy(&dom).unwrap();
        }
        *outcomes.entry(format!("{state:?}")).or_insert(0) += 1;
    }
    eprintln!("kill-start: a start takes {took:?}; outcomes {outcomes:?}");
}
