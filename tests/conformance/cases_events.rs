//! Lifecycle events: each operation produces its event, in order, with the
//! handle of the domain it concerns.

use std::time::{Duration, Instant};

use qvirt::driver::{DomainState, EventKind, StateReason};

use crate::{Ctx, Vm, Watch, define, info};

/// define, start, suspend, resume, reset, destroy and undefine each give
/// their event, in that order, and nothing more.
pub fn events_follow_the_lifecycle(cx: &mut Ctx<'_>) {
    let d = cx.d();
    let mut w = Watch::new(d);
    let vm = Vm::firmware("fw-a");
    let dom = define(d, &vm);
    let ev = w.expect(vm.uuid, &[EventKind::Defined]);
    assert_eq!(ev[0].domain.name, "fw-a");
    assert_eq!(ev[0].domain.id, None);
    let run = d.start(&dom).unwrap();
    let ev = w.expect(vm.uuid, &[EventKind::Started(StateReason::Booted)]);
    assert_eq!(ev[0].domain, run, "the event carries the running handle");
    d.suspend(&run).unwrap();
    w.expect(vm.uuid, &[EventKind::Suspended(StateReason::User)]);
    d.resume(&run).unwrap();
    w.expect(vm.uuid, &[EventKind::Resumed]);
    d.reset(&run).unwrap();
    d.destroy(&run).unwrap();
    w.expect_merging_resets(
        vm.uuid,
        &[EventKind::Reset, EventKind::Stopped(StateReason::Destroyed)],
    );
    // Redefining is a Defined event too.
    d.define_xml(&vm.clone().memory_mib(40).xml()).unwrap();
    w.expect(vm.uuid, &[EventKind::Defined]);
    d.undefine(&dom).unwrap();
    w.expect(vm.uuid, &[EventKind::Undefined]);
    w.expect_none(vm.uuid, Duration::from_millis(300));
}

/// A transient domain: started, then stopped; no definition events.
/// Undefining a running domain gives Undefined, and its stop later.
pub fn events_of_transient_domain(cx: &mut Ctx<'_>) {
    let d = cx.d();
    let mut w = Watch::new(d);
    let t = Vm::firmware("fw-t");
    let dom = d.create_xml(&t.xml()).unwrap();
    w.expect(t.uuid, &[EventKind::Started(StateReason::Booted)]);
    d.destroy(&dom).unwrap();
    w.expect(t.uuid, &[EventKind::Stopped(StateReason::Destroyed)]);
    w.expect_none(t.uuid, Duration::from_millis(200));

    let vm = Vm::firmware("fw-a");
    let dom = define(d, &vm);
    let run = d.start(&dom).unwrap();
    d.undefine(&run).unwrap();
    d.destroy(&run).unwrap();
    w.expect(
        vm.uuid,
        &[
            EventKind::Defined,
            EventKind::Started(StateReason::Booted),
            EventKind::Undefined,
            EventKind::Stopped(StateReason::Destroyed),
        ],
    );
}

/// Every subscriber gets every event; one that goes away does not
/// disturb the others, and a new one sees only later events.
pub fn events_reach_every_subscriber(cx: &mut Ctx<'_>) {
    let d = cx.d();
    let mut w1 = Watch::new(d);
    let w2 = Watch::new(d);
    let vm = Vm::firmware("fw-a");
    let dom = define(d, &vm);
    drop(w2);
    let mut w3 = Watch::new(d);
    let run = d.start(&dom).unwrap();
    d.destroy(&run).unwrap();
    w1.expect(
        vm.uuid,
        &[
            EventKind::Defined,
            EventKind::Started(StateReason::Booted),
            EventKind::Stopped(StateReason::Destroyed),
        ],
    );
    w3.expect(
        vm.uuid,
        &[
            EventKind::Started(StateReason::Booted),
            EventKind::Stopped(StateReason::Destroyed),
        ],
    );
}

/// With nothing happening, `next` returns `None` after its timeout, not
/// much later.
pub fn event_stream_times_out(cx: &mut Ctx<'_>) {
    let d = cx.d();
    let mut s = d.events().unwrap();
    let t0 = Instant::now();
    assert!(s.next(Duration::from_millis(200)).unwrap().is_none());
    let took = t0.elapsed();
    assert!(
        took >= Duration::from_millis(190),
        "returned early: {took:?}"
    );
    assert!(took < Duration::from_secs(5), "returned late: {took:?}");
    assert!(s.next(Duration::ZERO).unwrap().is_none());
}

/// Quick suspend/resume cycles, then a reset and a destroy: each call's
/// event comes once, in call order, and the state read after each call is
/// the one it set (the events QEMU sends for a command are handled before
/// the call returns). (Resets are not cycled: the firmware answers a
/// reset with one of its own, which may land anywhere while it runs.)
pub fn events_keep_order_in_fast_cycles(cx: &mut Ctx<'_>) {
    let d = cx.d();
    let vm = Vm::firmware("fw-a");
    let dom = define(d, &vm);
    let mut w = Watch::new(d);
    let run = d.start(&dom).unwrap();
    let mut want = vec![EventKind::Started(StateReason::Booted)];
    for _ in 0..15 {
        d.suspend(&run).unwrap();
        assert_eq!(info(d, &run).state, DomainState::Paused);
        d.resume(&run).unwrap();
        assert_eq!(info(d, &run).state, DomainState::Running);
        want.extend([EventKind::Suspended(StateReason::User), EventKind::Resumed]);
    }
    d.reset(&run).unwrap();
    d.destroy(&run).unwrap();
    want.extend([EventKind::Reset, EventKind::Stopped(StateReason::Destroyed)]);
    w.expect_merging_resets(vm.uuid, &want);
    w.expect_none(vm.uuid, Duration::from_millis(300));
}
