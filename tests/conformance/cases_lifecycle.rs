//! The lifecycle of the firmware VM: start, destroy, suspend, resume,
//! reset, transient domains, shutdown that the firmware ignores, and the
//! state checks of every operation.

use std::time::{Duration, Instant};

use qvirt::driver::XmlFlags;
use qvirt::driver::{DomainState, ListFilter, ShutdownOptions, StartFlags, StateReason};
use qvirt::{DomainDef, ErrorCode};

use crate::{
    Ctx, QUICK, Vm, define, define_and_start, expect_err, info, listed, process_alive, wait_gone,
    wait_state, wait_until,
};

/// Start gives a running domain with an id and a live QEMU that uses CPU;
/// destroy stops it (reason destroyed) and removes its runtime files.
pub fn start_and_destroy(cx: &mut Ctx<'_>) {
    let d = cx.d();
    let dom = define_and_start(d, &Vm::firmware("fw-a"));
    let id = dom.id.unwrap();
    assert_eq!(d.lookup_by_name("fw-a").unwrap(), dom);
    assert_eq!(d.lookup_by_id(id).unwrap(), dom);
    assert_eq!(d.lookup_by_uuid(dom.uuid).unwrap(), dom);
    let i = info(d, &dom);
    assert_eq!(
        (i.state, i.reason),
        (DomainState::Running, StateReason::Booted)
    );
    let pid = cx.qemu_pid("fw-a");
    assert!(process_alive(pid), "QEMU pid {pid} runs");
    // The guest's vCPU runs: QEMU's CPU time grows.
    let t0 = i.cpu_time_ns;
    wait_until("CPU time to grow", QUICK, || {
        (info(d, &dom).cpu_time_ns > t0).then_some(())
    });
    d.destroy(&dom).unwrap();
    let i = info(d, &dom);
    assert_eq!(
        (i.state, i.reason),
        (DomainState::Shutoff, StateReason::Destroyed)
    );
    assert_eq!(i.cpu_time_ns, 0);
    assert_eq!(d.lookup_by_name("fw-a").unwrap().id, None);
    expect_err(d.lookup_by_id(id), ErrorCode::NoDomain, "old id");
    assert!(!process_alive(pid), "QEMU pid {pid} is gone after destroy");
    assert!(!cx.run_dir("fw-a").exists(), "the runtime dir is removed");
    assert!(listed(d, ListFilter::ACTIVE).is_empty());
    // And it starts again.
    let again = d.start(&dom).unwrap();
    assert!(again.id.is_some());
    d.destroy(&again).unwrap();
}

/// Starting a running (or paused) domain is `OperationInvalid` naming
/// the state, and leaves it running.
pub fn start_twice_fails(cx: &mut Ctx<'_>) {
    let d = cx.d();
    let dom = define_and_start(d, &Vm::firmware("fw-a"));
    let e = expect_err(d.start(&dom), ErrorCode::OperationInvalid, "second start");
    assert!(e.message.contains("running"), "{}", e.message);
    assert_eq!(info(d, &dom).state, DomainState::Running);
    assert_eq!(d.lookup_by_name("fw-a").unwrap().id, dom.id);
    d.suspend(&dom).unwrap();
    let e = expect_err(d.start(&dom), ErrorCode::OperationInvalid, "start paused");
    assert!(e.message.contains("paused"), "{}", e.message);
}

/// Every operation that needs a running QEMU refuses a shut-off domain
/// with `OperationInvalid` naming the state.
pub fn shut_off_refuses_runtime_operations(cx: &mut Ctx<'_>) {
    let d = cx.d();
    let dom = define(d, &Vm::firmware("fw-a"));
    let inv = ErrorCode::OperationInvalid;
    let file = cx.root().join("fw-a.save");
    let errors = [
        expect_err(d.destroy(&dom), inv, "destroy"),
        expect_err(d.suspend(&dom), inv, "suspend"),
        expect_err(d.resume(&dom), inv, "resume"),
        expect_err(d.reset(&dom), inv, "reset"),
        expect_err(d.reboot(&dom), inv, "reboot"),
        expect_err(
            d.shutdown(&dom, ShutdownOptions::default()),
            inv,
            "shutdown",
        ),
        expect_err(d.save(&dom, &file), inv, "save"),
        expect_err(d.managed_save(&dom), inv, "managed save"),
        expect_err(d.console(&dom, false).map(|_| ()), inv, "console"),
        expect_err(d.inject_nmi(&dom), inv, "inject NMI"),
    ];
    for e in errors {
        assert!(e.message.contains("shut off"), "{}", e.message);
    }
    assert!(!file.exists());
    assert_eq!(info(d, &dom).state, DomainState::Shutoff);
}

/// Suspend pauses (reason user), resume runs again; each refuses the
/// other's state.
pub fn suspend_and_resume(cx: &mut Ctx<'_>) {
    let d = cx.d();
    let dom = define_and_start(d, &Vm::firmware("fw-a"));
    let e = expect_err(
        d.resume(&dom),
        ErrorCode::OperationInvalid,
        "resume running",
    );
    assert!(e.message.contains("running"), "{}", e.message);
    d.suspend(&dom).unwrap();
    let i = info(d, &dom);
    assert_eq!(
        (i.state, i.reason),
        (DomainState::Paused, StateReason::User)
    );
    // The CPU time while paused: a baseline that must grow once resumed.
    let t0 = info(d, &dom).cpu_time_ns;
    let e = expect_err(
        d.suspend(&dom),
        ErrorCode::OperationInvalid,
        "suspend paused",
    );
    assert!(e.message.contains("paused"), "{}", e.message);
    assert_eq!(
        listed(d, ListFilter::ACTIVE),
        [("fw-a".to_string(), DomainState::Paused)]
    );
    d.resume(&dom).unwrap();
    let i = info(d, &dom);
    assert_eq!(
        (i.state, i.reason),
        (DomainState::Running, StateReason::Unpaused)
    );
    wait_until("CPU time to grow after resume", QUICK, || {
        (info(d, &dom).cpu_time_ns > t0).then_some(())
    });
    assert_eq!(d.lookup_by_name("fw-a").unwrap().id, dom.id);
}

/// Reset keeps the QEMU process and the state, running or paused.
pub fn reset_keeps_the_process(cx: &mut Ctx<'_>) {
    let d = cx.d();
    let dom = define_and_start(d, &Vm::firmware("fw-a"));
    let pid = cx.qemu_pid("fw-a");
    d.reset(&dom).unwrap();
    assert_eq!(info(d, &dom).state, DomainState::Running);
    d.suspend(&dom).unwrap();
    d.reset(&dom).unwrap();
    assert_eq!(info(d, &dom).state, DomainState::Paused);
    assert_eq!(cx.qemu_pid("fw-a"), pid);
    assert!(process_alive(pid));
    assert_eq!(d.lookup_by_name("fw-a").unwrap().id, dom.id);
}

/// A transient domain runs from `create_xml`, is not persistent, and is
/// gone once destroyed.
pub fn create_transient_and_destroy(cx: &mut Ctx<'_>) {
    let d = cx.d();
    let vm = Vm::firmware("fw-t");
    let dom = d.create_xml(&vm.xml()).unwrap();
    assert_eq!((dom.name.as_str(), dom.uuid), ("fw-t", vm.uuid));
    let id = dom.id.expect("a created domain runs");
    let i = info(d, &dom);
    assert_eq!(
        (i.state, i.reason),
        (DomainState::Running, StateReason::Booted)
    );
    assert!(!i.persistent);
    assert_eq!(d.lookup_by_id(id).unwrap(), dom);
    assert_eq!(
        listed(d, ListFilter::ALL),
        [("fw-t".to_string(), DomainState::Running)]
    );
    assert!(
        !cx.root().join("config/fw-t.xml").exists(),
        "nothing persistent is written"
    );
    // A transient domain has no definition to remove.
    expect_err(
        d.undefine(&dom),
        ErrorCode::OperationInvalid,
        "undefine transient",
    );
    // Its name and UUID are taken while it runs.
    expect_err(
        d.create_xml(&vm.xml()),
        ErrorCode::DomainExists,
        "create twice",
    );
    d.destroy(&dom).unwrap();
    expect_err(
        d.lookup_by_name("fw-t"),
        ErrorCode::NoDomain,
        "after destroy",
    );
    expect_err(
        d.lookup_by_uuid(vm.uuid),
        ErrorCode::NoDomain,
        "uuid after destroy",
    );
    expect_err(d.info(&dom), ErrorCode::NoDomain, "info after destroy");
    assert!(listed(d, ListFilter::ALL).is_empty());
    assert!(!cx.run_dir("fw-t").exists());
    // The same document can be created again.
    let again = d.create_xml(&vm.xml()).unwrap();
    assert_ne!(again.id, Some(id));
}

/// `create_xml` may not take a defined domain's name or UUID.
pub fn create_conflicts_with_defined(cx: &mut Ctx<'_>) {
    let d = cx.d();
    let vm = Vm::firmware("fw-a");
    define(d, &vm);
    let mut same_name = Vm::firmware("fw-a");
    same_name.uuid = uuid::Uuid::new_v4();
    expect_err(
        d.create_xml(&same_name.xml()),
        ErrorCode::DomainExists,
        "same name",
    );
    let mut same_uuid = vm.clone();
    same_uuid.name = "fw-b".to_string();
    expect_err(
        d.create_xml(&same_uuid.xml()),
        ErrorCode::DomainExists,
        "same uuid",
    );
    assert!(listed(d, ListFilter::ACTIVE).is_empty());
    assert_eq!(listed(d, ListFilter::ALL).len(), 1);
    assert!(!cx.run_dir("fw-b").exists());
}

/// A define and a create of one UUID under two names: exactly one of
/// them takes the UUID, also when they come at the same moment, and a
/// define while the create is starting QEMU is `DomainExists`.
pub fn define_and_create_of_one_uuid(cx: &mut Ctx<'_>) {
    let d = cx.d();
    for round in 0..3 {
        let uuid = uuid::Uuid::new_v4();
        let defined = Vm::firmware(&format!("fw-def{round}")).uuid(uuid);
        let created = Vm::firmware(&format!("fw-new{round}")).uuid(uuid);
        let barrier = std::sync::Barrier::new(2);
        let creating = std::sync::atomic::AtomicBool::new(true);
        let (define_result, create_result) = std::thread::scope(|s| {
            let create = s.spawn(|| {
                barrier.wait();
                let r = d.create_xml(&created.xml());
                creating.store(false, std::sync::atomic::Ordering::SeqCst);
                r
            });
            barrier.wait();
            if round > 0 {
                // Once the create is under way (its runtime directory
                // exists before QEMU runs), its UUID is taken.
                wait_until(
                    "the create to be under way",
                    Duration::from_secs(30),
                    || {
                        (cx.run_dir(&created.name).exists()
                            || !creating.load(std::sync::atomic::Ordering::SeqCst))
                        .then_some(())
                    },
                );
            }
            let define_result = d.define_xml(&defined.xml());
            (define_result, create.join().unwrap())
        });
        let config_file = cx.root().join(format!("config/{}.xml", defined.name));
        match (&define_result, &create_result) {
            (Ok(dom), Err(e)) if round == 0 => {
                assert_eq!(e.code, ErrorCode::DomainExists, "{}", e.message);
                assert_eq!(d.lookup_by_uuid(uuid).unwrap(), *dom);
                expect_err(
                    d.lookup_by_name(&created.name),
                    ErrorCode::NoDomain,
                    "the create lost",
                );
                assert!(config_file.exists());
                d.undefine(dom).unwrap();
            }
            (Err(e), Ok(dom)) => {
                assert_eq!(e.code, ErrorCode::DomainExists, "{}", e.message);
                assert_eq!(d.lookup_by_uuid(uuid).unwrap(), *dom);
                expect_err(
                    d.lookup_by_name(&defined.name),
                    ErrorCode::NoDomain,
                    "the define lost",
                );
                assert!(!config_file.exists(), "the losing define wrote nothing");
                d.destroy(dom).unwrap();
                wait_gone(d, &created.name, QUICK);
            }
            _ => panic!(
                "round {round}: exactly one of define and create takes UUID {uuid}: \
                 define {define_result:?}, create {create_result:?}"
            ),
        }
    }
    assert!(listed(d, ListFilter::ALL).is_empty());
}

/// Undefining a running domain makes it transient: it runs on, and
/// disappears when destroyed.
pub fn undefine_running_makes_transient(cx: &mut Ctx<'_>) {
    let d = cx.d();
    let dom = define_and_start(d, &Vm::firmware("fw-a"));
    d.undefine(&dom).unwrap();
    let i = info(d, &dom);
    assert_eq!(i.state, DomainState::Running);
    assert!(!i.persistent);
    assert!(!cx.root().join("config/fw-a.xml").exists());
    assert_eq!(d.lookup_by_name("fw-a").unwrap(), dom);
    expect_err(
        d.undefine(&dom),
        ErrorCode::OperationInvalid,
        "undefine twice",
    );
    d.destroy(&dom).unwrap();
    expect_err(d.lookup_by_name("fw-a"), ErrorCode::NoDomain, "gone");
    assert!(listed(d, ListFilter::ALL).is_empty());
}

/// A transient domain cannot autostart or be saved by the manager.
pub fn transient_refuses_autostart_and_managed_save(cx: &mut Ctx<'_>) {
    let d = cx.d();
    let dom = d.create_xml(&Vm::firmware("fw-t").xml()).unwrap();
    let inv = ErrorCode::OperationInvalid;
    expect_err(d.autostart(&dom), inv, "autostart");
    expect_err(d.set_autostart(&dom, true), inv, "set autostart");
    expect_err(d.managed_save(&dom), inv, "managed save");
    let i = info(d, &dom);
    assert_eq!(
        i.state,
        DomainState::Running,
        "a refused managed save leaves it running"
    );
    assert!(!i.autostart);
}

/// `info` of a running domain reports its definition's memory and vCPUs.
pub fn info_of_running_domain(cx: &mut Ctx<'_>) {
    let d = cx.d();
    let dom = define_and_start(d, &Vm::firmware("fw-a").memory_mib(48).vcpus(2));
    let i = info(d, &dom);
    assert_eq!(i.max_memory_kib, 48 * 1024);
    assert_eq!(i.memory_kib, 48 * 1024);
    assert_eq!(i.vcpus, 2);
    assert!(i.persistent);
    assert!(!i.managed_save);
    assert!(!i.autostart);
}

/// While running, the live XML is what QEMU runs and the inactive XML
/// the persistent definition; a redefinition applies at the next start.
pub fn live_and_inactive_xml_differ(cx: &mut Ctx<'_>) {
    let d = cx.d();
    let vm = Vm::firmware("fw-a");
    let dom = define_and_start(d, &vm);
    d.define_xml(&vm.clone().memory_mib(64).xml()).unwrap();
    let live = DomainDef::from_xml(&d.xml_desc(&dom, XmlFlags::NONE).unwrap()).unwrap();
    let inactive = DomainDef::from_xml(&d.xml_desc(&dom, XmlFlags::INACTIVE).unwrap()).unwrap();
    assert_eq!(live.memory_kib, 32 * 1024, "the live XML is what runs");
    assert_eq!(
        inactive.memory_kib,
        64 * 1024,
        "the inactive XML is the new definition"
    );
    assert_eq!(
        info(d, &dom).max_memory_kib,
        32 * 1024,
        "info describes what runs"
    );
    assert_eq!(info(d, &dom).state, DomainState::Running);
    d.destroy(&dom).unwrap();
    let dom = d.start(&dom).unwrap();
    let live = DomainDef::from_xml(&d.xml_desc(&dom, XmlFlags::NONE).unwrap()).unwrap();
    assert_eq!(
        live.memory_kib,
        64 * 1024,
        "the new definition applies at start"
    );
}

/// Running ids are unique, and a restarted domain gets a new one.
pub fn ids_are_unique_and_fresh(cx: &mut Ctx<'_>) {
    let d = cx.d();
    let a = define_and_start(d, &Vm::firmware("fw-a"));
    let b = define_and_start(d, &Vm::firmware("fw-b"));
    assert_ne!(a.id, b.id);
    d.destroy(&a).unwrap();
    let a2 = d.start(&a).unwrap();
    assert_ne!(a2.id, a.id, "a new run gets a new id");
    assert_ne!(a2.id, b.id);
    assert_eq!(d.lookup_by_id(b.id.unwrap()).unwrap(), b);
    assert_eq!(d.lookup_by_id(a2.id.unwrap()).unwrap(), a2);
}

/// The firmware ignores the power button: a shutdown that waits times
/// out with `Timeout` and leaves the domain running; one without a wait
/// just returns.
pub fn shutdown_ignored_times_out(cx: &mut Ctx<'_>) {
    let d = cx.d();
    let dom = define_and_start(d, &Vm::firmware("fw-a"));
    d.shutdown(&dom, ShutdownOptions::default()).unwrap();
    let started = Instant::now();
    let opts = ShutdownOptions::NO_WAIT.with_wait(Duration::from_millis(500));
    let e = expect_err(
        d.shutdown(&dom, opts),
        ErrorCode::Timeout,
        "ignored shutdown",
    );
    assert!(e.message.contains("fw-a"), "{}", e.message);
    assert!(started.elapsed() >= Duration::from_millis(500), "it waited");
    assert!(started.elapsed() < QUICK, "it did not wait much longer");
    assert_eq!(info(d, &dom).state, DomainState::Running);
    assert_eq!(d.lookup_by_name("fw-a").unwrap().id, dom.id);
}

/// With `destroy_on_timeout`, an ignored shutdown ends in a destroy.
pub fn shutdown_destroys_on_timeout(cx: &mut Ctx<'_>) {
    let d = cx.d();
    let dom = define_and_start(d, &Vm::firmware("fw-a"));
    let opts = ShutdownOptions::NO_WAIT
        .with_wait(Duration::from_millis(300))
        .with_destroy_on_timeout(true);
    d.shutdown(&dom, opts).unwrap();
    let i = info(d, &dom);
    assert_eq!(
        (i.state, i.reason),
        (DomainState::Shutoff, StateReason::Destroyed)
    );
    assert!(!cx.run_dir("fw-a").exists());
    // A transient domain is gone afterwards.
    let t = d.create_xml(&Vm::firmware("fw-t").xml()).unwrap();
    d.shutdown(&t, opts).unwrap();
    wait_gone(d, "fw-t", QUICK);
}

/// Start and destroy in quick succession: each destroy leaves nothing
/// behind that could trip the next start (its runtime dir is gone when
/// destroy returns), and every start succeeds.
pub fn start_destroy_cycles(cx: &mut Ctx<'_>) {
    let d = cx.d();
    let dom = define(d, &Vm::firmware("fw-a"));
    let t = Vm::firmware("fw-t");
    for round in 0..8 {
        let run = d
            .start(&dom)
            .unwrap_or_else(|e| panic!("round {round}: start: {e}"));
        d.destroy(&run).unwrap();
        assert!(
            !cx.run_dir("fw-a").exists(),
            "round {round}: runtime dir left"
        );
        let tr = d
            .create_xml(&t.xml())
            .unwrap_or_else(|e| panic!("round {round}: create: {e}"));
        d.destroy(&tr).unwrap();
        assert!(
            !cx.run_dir("fw-t").exists(),
            "round {round}: runtime dir left"
        );
        expect_err(
            d.lookup_by_name("fw-t"),
            ErrorCode::NoDomain,
            "transient gone",
        );
    }
}

/// `start --paused`: QEMU runs but the guest's CPUs never did (QEMU is
/// still in `prelaunch`), the domain is paused by the user, and resume
/// runs it; a managed save image is restored paused the same way.
pub fn start_paused_leaves_the_cpus_stopped(cx: &mut Ctx<'_>) {
    let d = cx.d();
    let dom = define(d, &Vm::firmware("fw-a"));
    let run = d.start_paused(&dom).unwrap();
    assert!(run.id.is_some());
    let i = info(d, &run);
    assert_eq!(
        (i.state, i.reason),
        (DomainState::Paused, StateReason::User)
    );
    let status = d
        .qemu_monitor_command(&run, r#"{"execute":"query-status"}"#)
        .unwrap();
    let status: serde_json::Value = serde_json::from_str(&status).unwrap();
    assert_eq!(status["return"]["status"], "prelaunch", "{status}");
    expect_err(d.start_paused(&run), ErrorCode::OperationInvalid, "twice");
    d.resume(&run).unwrap();
    assert_eq!(info(d, &run).state, DomainState::Running);
    d.managed_save(&run).unwrap();
    let run = d.start_paused(&dom).unwrap();
    assert_eq!(info(d, &run).state, DomainState::Paused);
    assert!(!info(d, &run).managed_save, "the image is consumed");
    d.resume(&run).unwrap();
    assert_eq!(info(d, &run).state, DomainState::Running);
    d.destroy(&run).unwrap();
}

/// `start --autodestroy`: the domain lasts as long as the connection that
/// started it. When the connection ends, it is destroyed, and only it: a
/// domain started plainly keeps running, and so does one whose tied run
/// was stopped and started again plainly (a new run is not the tied one).
pub fn start_autodestroy_ends_with_the_connection(cx: &mut Ctx<'_>) {
    let mut flags = StartFlags::default();
    flags.autodestroy = true;
    let (tied, kept, restarted, tied_pid) = {
        let d = cx.d();
        let tied = define(d, &Vm::firmware("fw-tied"));
        let kept = define(d, &Vm::firmware("fw-kept"));
        let restarted = define(d, &Vm::firmware("fw-again"));
        let run = d.start_with(&tied, flags).unwrap();
        assert!(run.id.is_some());
        assert_eq!(info(d, &run).state, DomainState::Running);
        d.start(&kept).unwrap();
        let again = d.start_with(&restarted, flags).unwrap();
        d.destroy(&again).unwrap();
        d.start(&restarted).unwrap();
        (tied, kept, restarted, cx.qemu_pid("fw-tied"))
    };
    assert!(process_alive(tied_pid));
    // The connection ends; whatever serves the state directory next sees
    // the tied domain destroyed and its QEMU gone.
    cx.reopen();
    let d = cx.d();
    let i = wait_state(d, &tied, DomainState::Shutoff, Duration::from_secs(10));
    assert_eq!(i.reason, StateReason::Destroyed);
    wait_until("the tied QEMU to exit", Duration::from_secs(10), || {
        (!process_alive(tied_pid)).then_some(())
    });
    assert_eq!(
        info(d, &kept).state,
        DomainState::Running,
        "started plainly"
    );
    assert_eq!(
        info(d, &restarted).state,
        DomainState::Running,
        "started again plainly after its tied run was destroyed"
    );
    // Started with autodestroy on this connection: gone at the next end.
    d.start_with(&tied, flags).unwrap();
    cx.reopen();
    let d = cx.d();
    wait_state(d, &tied, DomainState::Shutoff, Duration::from_secs(10));
    d.destroy(&kept).unwrap();
    d.destroy(&restarted).unwrap();
}
