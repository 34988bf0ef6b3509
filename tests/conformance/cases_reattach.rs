//! A new manager on a state directory whose previous manager went away
//! while domains ran: it finds them, with their ids and states, and
//! controls them; dead ones are shut off.

use qvirt::ErrorCode;
use qvirt::driver::{DomainState, EventKind, ListFilter, StateReason};

use crate::{
    Ctx, Vm, Watch, define_and_start, expect_err, info, kill_process, listed, process_alive,
};

/// A running domain survives its manager: the next one lists it running
/// with the same id and QEMU, and can suspend, resume and destroy it,
/// with events; new runs get ids never used before.
pub fn reattach_running_domain(cx: &mut Ctx<'_>) {
    let vm = Vm::firmware("fw-a");
    let dom = define_and_start(cx.d(), &vm);
    let pid = cx.qemu_pid("fw-a");
    let other = define_and_start(cx.d(), &Vm::firmware("fw-b"));
    cx.d().destroy(&other).unwrap();
    cx.reopen();
    let d = cx.d();
    assert!(process_alive(pid), "QEMU outlived its manager");
    assert_eq!(
        listed(d, ListFilter::ALL),
        [
            ("fw-a".to_string(), DomainState::Running),
            ("fw-b".to_string(), DomainState::Shutoff),
        ]
    );
    let found = d.lookup_by_name("fw-a").unwrap();
    assert_eq!(found, dom, "same name, UUID and id");
    assert_eq!(d.lookup_by_id(dom.id.unwrap()).unwrap(), dom);
    let i = info(d, &dom);
    assert_eq!(i.state, DomainState::Running);
    assert!(i.persistent);
    assert_eq!(cx.qemu_pid("fw-a"), pid);
    let mut w = Watch::new(d);
    d.suspend(&dom).unwrap();
    assert_eq!(info(d, &dom).state, DomainState::Paused);
    d.resume(&dom).unwrap();
    assert_eq!(info(d, &dom).state, DomainState::Running);
    d.destroy(&dom).unwrap();
    w.expect(
        vm.uuid,
        &[
            EventKind::Suspended(StateReason::User),
            EventKind::Resumed,
            EventKind::Stopped(StateReason::Destroyed),
        ],
    );
    assert!(!process_alive(pid));
    assert!(!cx.run_dir("fw-a").exists());
    // A new run gets an id no running domain has.
    let b = d.start(&other).unwrap();
    assert_ne!(b.id, dom.id);
}

/// A paused domain is found paused, a transient one transient; both can
/// be driven by the new manager.
pub fn reattach_paused_and_transient(cx: &mut Ctx<'_>) {
    let paused = define_and_start(cx.d(), &Vm::firmware("fw-p"));
    cx.d().suspend(&paused).unwrap();
    let t = cx.d().create_xml(&Vm::firmware("fw-t").xml()).unwrap();
    cx.reopen();
    let d = cx.d();
    assert_eq!(
        listed(d, ListFilter::ACTIVE),
        [
            ("fw-p".to_string(), DomainState::Paused),
            ("fw-t".to_string(), DomainState::Running),
        ]
    );
    assert_eq!(d.lookup_by_name("fw-t").unwrap(), t);
    assert!(!info(d, &t).persistent, "still transient");
    assert!(info(d, &paused).persistent);
    expect_err(
        d.suspend(&paused),
        ErrorCode::OperationInvalid,
        "suspend paused",
    );
    d.resume(&paused).unwrap();
    assert_eq!(info(d, &paused).state, DomainState::Running);
    d.destroy(&t).unwrap();
    expect_err(
        d.lookup_by_name("fw-t"),
        ErrorCode::NoDomain,
        "transient gone",
    );
    d.destroy(&paused).unwrap();
    assert_eq!(
        listed(d, ListFilter::ALL),
        [("fw-p".to_string(), DomainState::Shutoff)]
    );
}

/// QEMUs that died while no manager ran: the next manager shows the
/// persistent domain shut off and forgets the transient one, and removes
/// their runtime dirs.
pub fn reattach_finds_dead_domain_shut_off(cx: &mut Ctx<'_>) {
    let dom = define_and_start(cx.d(), &Vm::firmware("fw-a"));
    cx.d().create_xml(&Vm::firmware("fw-t").xml()).unwrap();
    let pids = [cx.qemu_pid("fw-a"), cx.qemu_pid("fw-t")];
    cx.close();
    for pid in pids {
        kill_process(pid);
    }
    crate::wait_until("the QEMUs to die", crate::QUICK, || {
        pids.iter().all(|p| !process_alive(*p)).then_some(())
    });
    cx.reopen();
    let d = cx.d();
    assert_eq!(
        listed(d, ListFilter::ALL),
        [("fw-a".to_string(), DomainState::Shutoff)]
    );
    let i = info(d, &dom);
    // Nobody saw it stop: the new manager cannot tell a crash from a
    // guest power-off.
    assert_eq!(
        (i.state, i.reason),
        (DomainState::Shutoff, StateReason::Unknown)
    );
    expect_err(
        d.lookup_by_name("fw-t"),
        ErrorCode::NoDomain,
        "dead transient",
    );
    assert!(!cx.run_dir("fw-a").exists());
    assert!(!cx.run_dir("fw-t").exists());
    let again = d.start(&dom).unwrap();
    assert_eq!(info(d, &again).state, DomainState::Running);
}

/// Closing the driver lets go of the state directory at once, even right
/// after an operation: a new manager opens it straight away and finds
/// what runs.
pub fn reopen_at_once(cx: &mut Ctx<'_>) {
    let keep = define_and_start(cx.d(), &Vm::firmware("fw-keep"));
    for round in 0..6 {
        let dom = define_and_start(cx.d(), &Vm::firmware(&format!("fw-{round}")));
        cx.d().suspend(&keep).unwrap();
        cx.d().resume(&keep).unwrap();
        cx.d().destroy(&dom).unwrap();
        cx.reopen();
        let d = cx.d();
        assert_eq!(info(d, &keep).state, DomainState::Running, "round {round}");
        assert_eq!(info(d, &dom).state, DomainState::Shutoff, "round {round}");
    }
}
