//! Jobs: what serialises the operations on one domain. A start that waits
//! while the domain is undefined and defined anew never starts a second
//! QEMU.

use std::time::{Duration, Instant};

use qvirt::driver::ListFilter;
use qvirt::{Domain, ErrorCode};

use crate::{Ctx, Vm, define, processes_under};

/// The QEMUs running for guest `name` under the test's state directory.
fn qemus_named(cx: &Ctx<'_>, name: &str) -> Vec<i32> {
    let needle = format!("guest={name},");
    processes_under(cx.root())
        .into_iter()
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| {
                c.split(|&b| b == 0)
                    .any(|a| a.starts_with(needle.as_bytes()))
            })
        })
        .collect()
}

/// Starts race an undefine and a define of the same UUID: no start acts
/// on the entry the undefine removed, so at most one QEMU ever runs for
/// the domain, and it is the one the driver reports.
pub fn start_undefine_define_race(cx: &mut Ctx<'_>) {
    let vm = Vm::firmware("fw-race");
    for round in 0..12 {
        let d = cx.d();
        let dom = define(d, &vm);
        std::thread::scope(|s| {
            let starts: Vec<_> = (0..3).map(|_| s.spawn(|| d.start(&dom))).collect();
            let _ = d.undefine(&dom);
            let _ = d.define_xml(&vm.xml());
            for t in starts {
                if let Err(e) = t.join().expect("a start does not panic") {
                    assert!(
                        matches!(e.code, ErrorCode::NoDomain | ErrorCode::OperationInvalid),
                        "round {round}: {e}"
                    );
                }
            }
        });
        let qemus = qemus_named(cx, "fw-race");
        assert!(qemus.len() <= 1, "round {round}: two QEMUs: {qemus:?}");
        let d = cx.d();
        let running: Vec<Domain> = d
            .list(ListFilter::ACTIVE)
            .unwrap()
            .into_iter()
            .map(|s| s.domain)
            .collect();
        assert_eq!(
            running.len(),
            qemus.len(),
            "round {round}: {running:?} vs {qemus:?}"
        );
        for r in running {
            d.destroy(&r).unwrap();
        }
        if let Ok(dom) = d.lookup_by_name("fw-race") {
            d.undefine(&dom).unwrap();
        }
        assert!(
            wait_until_empty(cx, "fw-race"),
            "round {round}: a QEMU outlived its destroy"
        );
    }
}

fn wait_until_empty(cx: &Ctx<'_>, name: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if qemus_named(cx, name).is_empty() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}
