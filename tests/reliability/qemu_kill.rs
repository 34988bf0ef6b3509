//! A QEMU is SIGKILLed behind the daemon's back. The domain is shut off
//! with reason `crashed` within a second, subscribers get the event, the
//! domain's `on_crash` policy is applied (restart starts it again;
//! destroy and preserve leave it shut off, its definition and logs kept:
//! a dead process has nothing left to preserve), and no runtime file of
//! the dead run is left.

use std::path::Path;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use qvirt::driver::{DomainState, Event, EventKind, EventStream, ListFilter, StateReason};
use qvirt::{Domain, Driver};

use crate::support::*;

/// The kill-to-crashed limit the promise names.
const CRASH_NOTICED: Duration = Duration::from_secs(1);

/// Reads events until one for `name` matches `kind`; the time it came.
fn await_event(events: &mut dyn EventStream, name: &str, kind: EventKind) -> (Event, Instant) {
    wait_for(
        &format!("{kind:?} of {name}"),
        Duration::from_secs(10),
        || {
            let e = events.next(Duration::from_millis(20)).unwrap()?;
            (e.domain.name == name && e.kind == kind).then(|| (e, Instant::now()))
        },
    )
}

/// The files in `root/run` that belong to no domain's run: everything
/// but the lock, the sockets (qvirt's and libvirt's protocol's) and the
/// recorded stop reasons.
fn run_leftovers(root: &Path) -> Vec<String> {
    std::fs::read_dir(root.join("run"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| {
            !(n == "lock"
                || n == "qvirt-sock"
                || n.starts_with("libvirt-sock")
                || (n.starts_with('.') && n.ends_with(".reason")))
        })
        .collect()
}

/// Kills the QEMU of `name` and waits until the daemon says it is shut
/// off (crashed); checks the kill was noticed within [`CRASH_NOTICED`].
fn kill_and_see_crash(
    d: &dyn Driver,
    events: &mut dyn EventStream,
    root: &Path,
    name: &str,
) -> (Domain, i32) {
    let dom = d.lookup_by_name(name).unwrap();
    let pid = qemu_pid(root, name);
    let killed = Instant::now();
    signal(pid, Signal::SIGKILL);
    let (ev, heard) = await_event(events, name, EventKind::Stopped(StateReason::Crashed));
    assert_eq!(ev.domain.uuid, dom.uuid);
    assert_eq!(ev.domain.id, None, "a stopped event carries no id");
    let latency = heard - killed;
    eprintln!(
        "{name}: crash event {} ms after SIGKILL",
        latency.as_millis()
    );
    assert!(
        latency < CRASH_NOTICED,
        "{name}: the crash was reported {latency:?} after the kill"
    );
    assert!(!process_alive(pid));
    (dom, pid)
}

#[test]
fn a_killed_qemu_is_crashed_and_on_crash_is_applied() {
    let _heavy = heavy();
    let dir = TestDir::new("kill-qemu");
    let daemon = Daemon::start(&dir.path, &[]);
    let d = daemon.connect();
    let mut events = d.events().unwrap();
    for policy in ["destroy", "preserve", "restart"] {
        let name = format!("crash-{policy}");
        let xml = small_vm_xml(&name, &format!("<on_crash>{policy}</on_crash>"), VNC);
        let dom = d.define_xml(&xml).unwrap();
        d.start(&dom).unwrap();
    }

    // destroy and preserve: shut off, crashed, within the second; the
    // definition and the domain's log stay; the run's files go.
    for policy in ["destroy", "preserve"] {
        let name = format!("crash-{policy}");
        let (dom, _) = kill_and_see_crash(&*d, &mut *events, &dir.path, &name);
        let info = d.info(&dom).unwrap();
        assert_eq!(
            (info.state, info.reason),
            (DomainState::Shutoff, StateReason::Crashed)
        );
        assert!(info.persistent);
        assert_eq!(d.lookup_by_name(&name).unwrap().id, None);
        assert!(
            !run_dir_of(&dir.path, &name).exists(),
            "{name}: run dir left"
        );
        assert!(
            dir.path
                .join("config")
                .join(format!("{name}.xml"))
                .is_file()
        );
        assert!(
            dir.path
                .join("log/qemu")
                .join(format!("{name}.log"))
                .is_file()
        );
        let reason =
            std::fs::read_to_string(dir.path.join("run").join(format!(".{}.reason", dom.uuid)))
                .unwrap();
        assert_eq!(
            reason, "crashed",
            "{name}: the reason a later manager reads"
        );
    }

    // restart: shut off (crashed), then started again in a new process
    // with a new id; only the new run's files are there.
    let name = "crash-restart";
    let old_id = d.lookup_by_name(name).unwrap().id.unwrap();
    let (dom, old_pid) = kill_and_see_crash(&*d, &mut *events, &dir.path, name);
    await_event(&mut *events, name, EventKind::Started(StateReason::Booted));
    let now = d.lookup_by_uuid(dom.uuid).unwrap();
    let info = d.info(&now).unwrap();
    assert_eq!(
        (info.state, info.reason),
        (DomainState::Running, StateReason::Booted)
    );
    let new_id = now.id.expect("running again");
    assert_ne!(new_id, old_id, "a new run has a new id");
    let new_pid = qemu_pid(&dir.path, name);
    assert_ne!(new_pid, old_pid);
    assert!(process_alive(new_pid));
    let status: serde_json::Value = serde_json::from_slice(
        &std::fs::read(run_dir_of(&dir.path, name).join("status.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(status["id"], new_id);

    // Policies of the others held: still shut off after the restart.
    for policy in ["destroy", "preserve"] {
        let info = d
            .info(&d.lookup_by_name(&format!("crash-{policy}")).unwrap())
            .unwrap();
        assert_eq!(info.state, DomainState::Shutoff, "crash-{policy} stays off");
    }
    d.destroy(&now).unwrap();
    assert_eq!(run_leftovers(&dir.path), Vec::<String>::new());
    assert!(d.list(ListFilter::ACTIVE).unwrap().is_empty());
    wait_for(
        "the restarted QEMU to exit",
        Duration::from_secs(10),
        || (!process_alive(new_pid)).then_some(()),
    );
}
