//! Autostart: a daemon starts the domains marked autostart when it opens
//! its state directory, by name, and one that fails does not stop the
//! others; a driver embedded in a program starts nothing by itself.

use qvirt::driver::{DomainState, StateReason};

use crate::*;

/// Marks three domains autostart (one of which cannot start: its
/// emulator does not exist) and one not, then opens a new manager.
pub fn autostart_with_the_manager(cx: &mut Ctx<'_>) {
    let d = cx.d();
    for name in ["fw-c", "fw-b", "fw-a", "fw-d"] {
        let mut vm = Vm::firmware(name);
        if name == "fw-b" {
            vm = vm.device("<emulator>/nonexistent/qemu-system-x86_64</emulator>");
        }
        let dom = define(d, &vm);
        if name != "fw-d" {
            d.set_autostart(&dom, true).unwrap();
        }
    }
    cx.reopen();
    let d = cx.d();
    let state = |name: &str| {
        let dom = d.lookup_by_name(name).unwrap();
        let i = info(d, &dom);
        (i.state, dom.id)
    };
    if !cx.manager_autostarts() {
        // The embedded driver: opening it started nothing.
        for name in ["fw-a", "fw-b", "fw-c", "fw-d"] {
            assert_eq!(state(name).0, DomainState::Shutoff, "{name}");
        }
        return;
    }
    let (a, a_id) = state("fw-a");
    let (c, c_id) = state("fw-c");
    assert_eq!((a, c), (DomainState::Running, DomainState::Running));
    assert!(a_id < c_id, "started by name: fw-a {a_id:?}, fw-c {c_id:?}");
    let b = info(d, &d.lookup_by_name("fw-b").unwrap());
    assert_eq!(
        (b.state, b.reason),
        (DomainState::Shutoff, StateReason::Failed)
    );
    assert_eq!(state("fw-d").0, DomainState::Shutoff, "not marked");
    let log = std::fs::read_to_string(cx.root().join("log/qvirt.log")).unwrap_or_default();
    assert!(
        log.lines()
            .any(|l| l.contains("autostart") && l.contains("fw-b") && l.contains("failed")),
        "the failure of fw-b is logged:\n{log}"
    );
    // A manager that finds them running leaves them be.
    cx.reopen();
    let d = cx.d();
    let again = d.lookup_by_name("fw-a").unwrap();
    assert_eq!(again.id, a_id, "fw-a kept its run");
}
