//! One driver called from several threads at once: a long call on one
//! thread holds up none of the calls of another.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::time::Duration;

use qvirt::driver::XmlFlags;
use qvirt::driver::{DomainState, ListFilter, ShutdownOptions};

use crate::{Ctx, QUICK, Vm, define_and_start, info, wait_until};

/// The scheduler state of thread `tid` of this process (`S` sleeping,
/// `R` running), from /proc.
fn thread_state(tid: i32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")).ok()?;
    stat.rsplit_once(')')?.1.trim_start().chars().next()
}

/// A shutdown that waits (the firmware ignores it) runs on one thread;
/// once that thread sleeps inside the call (so its call has gone out
/// first), another thread of the same driver lists, looks up, reads info
/// and XML, and every answer comes while the shutdown still waits. Then
/// that thread destroys the domain, which ends the wait: the shutdown
/// returns success (the domain shut off within its wait).
pub fn calls_do_not_wait_behind_a_long_call(cx: &mut Ctx<'_>) {
    let d = cx.d();
    let dom = define_and_start(d, &Vm::firmware("fw-a"));
    let tid = AtomicI32::new(0);
    let returned = AtomicBool::new(false);
    let result = Mutex::new(None);
    std::thread::scope(|s| {
        s.spawn(|| {
            tid.store(nix::unistd::gettid().as_raw(), Ordering::SeqCst);
            let wait = ShutdownOptions::NO_WAIT.with_wait(Duration::from_secs(90));
            let r = d.shutdown(&dom, wait);
            returned.store(true, Ordering::SeqCst);
            *result.lock().unwrap() = Some(r);
        });
        wait_until("the shutdown to wait inside the call", QUICK, || {
            let t = tid.load(Ordering::SeqCst);
            (t != 0 && thread_state(t) == Some('S')).then_some(())
        });
        for round in 0..20 {
            let listed = d.list(ListFilter::ALL).unwrap();
            assert_eq!(listed.len(), 1);
            assert_eq!(d.lookup_by_name("fw-a").unwrap().uuid, dom.uuid);
            assert_eq!(d.lookup_by_uuid(dom.uuid).unwrap().name, "fw-a");
            assert_eq!(info(d, &dom).state, DomainState::Running);
            assert!(d.xml_desc(&dom, XmlFlags::NONE).unwrap().contains("fw-a"));
            assert!(
                !returned.load(Ordering::SeqCst),
                "round {round}: the shutdown returned before the domain stopped"
            );
        }
        d.destroy(&dom).unwrap();
    });
    let r = result
        .lock()
        .unwrap()
        .take()
        .expect("the shutdown returned");
    r.expect("the shutdown saw the domain shut off within its wait");
    assert_eq!(info(d, &dom).state, DomainState::Shutoff);
}
