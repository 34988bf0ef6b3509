//! Jobs: what serialises the operations on one domain. A start that waits
//! while the domain is undefined and defined anew never starts a second
//! QEMU; a save is an asynchronous job that `job_info` follows with its
//! progress, that `job_abort` cancels (the guest runs on), and that a
//! destroy cuts short at once.

use std::time::{Duration, Instant};

use qvirt::driver::{DomainState, JobKind, JobOutcome, ListFilter, SaveOptions};
use qvirt::{Domain, ErrorCode};

use crate::{
    Ctx, Vm, boot_guest, define, define_and_start, expect_err, info, processes_under, wait_until,
};

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

/// The Linux guest with 512 MiB, booted: a save of it writes enough for
/// a slow bandwidth to make it last a while.
fn big_guest(cx: &Ctx<'_>) -> Domain {
    let (dom, mut console) = boot_guest(cx.d(), &Vm::linux("lx-job").memory_mib(512));
    // Fill some guest memory so the stream is not all zero pages.
    console.write("dd if=/dev/urandom of=/dev/shm/fill bs=1M count=48 2>/dev/null; echo FILLED\n");
    console.read_until("FILLED", Duration::from_secs(60));
    dom
}

/// Before and after a save (no limit: it may be over before a poll
/// could see it), `job_info` finds no job and `job_abort` has none to
/// abort; `job_completed` gives the save as it ended, all of the
/// guest's memory moved, then the restore.
pub fn job_info_and_completed_over_a_save(cx: &mut Ctx<'_>) {
    let d = cx.d();
    let dom = define_and_start(d, &Vm::firmware("fw-jobs"));
    assert_eq!(d.job_info(&dom).unwrap(), None);
    assert_eq!(d.job_completed(&dom).unwrap(), None, "no job has ended yet");
    expect_err(d.job_abort(&dom), ErrorCode::OperationInvalid, "no job");
    let image = cx.root().join("fw-jobs.save");
    d.save(&dom, &image).unwrap();
    assert_eq!(d.job_info(&dom).unwrap(), None, "the job is over");
    let done = d.job_completed(&dom).unwrap().expect("the save");
    assert_eq!(
        (done.outcome, done.info.kind),
        (JobOutcome::Completed, JobKind::Save)
    );
    assert!(done.info.data_total > 0, "{done:?}");
    assert_eq!(done.info.data_remaining, 0, "{done:?}");
    assert_eq!(done.info.data_processed, done.info.data_total, "{done:?}");
    assert!(done.info.elapsed > Duration::ZERO, "{done:?}");
    assert_eq!(done.downtime, None, "only a migration has a downtime");
    let back = d.restore(&image).unwrap();
    let done = d.job_completed(&back).unwrap().expect("the restore");
    assert_eq!(
        (done.outcome, done.info.kind),
        (JobOutcome::Completed, JobKind::Restore)
    );
    d.destroy(&back).unwrap();
}

/// A save is an asynchronous job: `job_info` shows it with its progress
/// while it runs, nothing once it is over.
pub fn job_info_follows_a_save(cx: &mut Ctx<'_>) {
    let dom = big_guest(cx);
    let d = cx.d();
    assert_eq!(d.job_info(&dom).unwrap(), None);
    let image = cx.root().join("lx-job.save");
    let mut seen = Vec::new();
    std::thread::scope(|s| {
        let save = s.spawn(|| d.save_with(&dom, &image, SaveOptions::default().bandwidth(16)));
        let progressed = wait_until("a save with progress", Duration::from_secs(60), || {
            let info = d.job_info(&dom).unwrap()?;
            seen.push(info.clone());
            (info.data_processed > 0).then_some(info)
        });
        assert_eq!(progressed.kind, JobKind::Save);
        assert!(progressed.data_total >= 512 << 20, "{progressed:?}");
        assert!(progressed.data_remaining > 0, "{progressed:?}");
        save.join().unwrap().unwrap();
    });
    assert_eq!(d.job_info(&dom).unwrap(), None, "the job is over");
    assert_eq!(info(d, &dom).state, DomainState::Shutoff);
    // domjobinfo --completed: the save as it ended, all of it moved.
    let done = d.job_completed(&dom).unwrap().expect("a completed job");
    assert_eq!(done.outcome, JobOutcome::Completed);
    assert_eq!(done.info.kind, JobKind::Save);
    assert!(done.info.data_total >= 512 << 20, "{done:?}");
    assert_eq!(done.info.data_remaining, 0);
    assert!(done.info.elapsed > Duration::ZERO);
    assert_eq!(done.downtime, None, "only a migration has a downtime");
    let processed: Vec<u64> = seen.iter().map(|i| i.data_processed).collect();
    assert!(
        processed.windows(2).all(|w| w[0] <= w[1]),
        "progress only grows: {processed:?}"
    );
    let back = d.restore(&image).unwrap();
    assert_eq!(info(d, &back).state, DomainState::Running);
    let done = d.job_completed(&back).unwrap().expect("the restore");
    assert_eq!(
        (done.outcome, done.info.kind),
        (JobOutcome::Completed, JobKind::Restore)
    );
}

/// `job_abort` cancels a save: the caller gets `OperationAborted`, the
/// guest runs on, and no image is left.
pub fn job_abort_cancels_a_save(cx: &mut Ctx<'_>) {
    let dom = big_guest(cx);
    let d = cx.d();
    expect_err(d.job_abort(&dom), ErrorCode::OperationInvalid, "no job");
    let image = cx.root().join("lx-job.save");
    std::thread::scope(|s| {
        let save = s.spawn(|| d.save_with(&dom, &image, SaveOptions::default().bandwidth(4)));
        wait_until("the save to start", Duration::from_secs(60), || {
            d.job_info(&dom).unwrap().filter(|i| i.data_processed > 0)
        });
        d.job_abort(&dom).unwrap();
        let e = save.join().unwrap().unwrap_err();
        assert_eq!(e.code, ErrorCode::OperationAborted, "{e}");
    });
    let done = d.job_completed(&dom).unwrap().expect("the aborted save");
    assert_eq!(
        (done.outcome, done.info.kind),
        (JobOutcome::Cancelled, JobKind::Save)
    );
    assert_eq!(info(d, &dom).state, DomainState::Running);
    assert!(!image.exists());
    let left: Vec<_> = std::fs::read_dir(cx.root())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    // Nothing is left half done: a save without a limit goes through.
    d.save(&dom, &image).unwrap();
    assert_eq!(info(d, &dom).state, DomainState::Shutoff);
}

/// A destroy during a save wins at once: the domain is shut off within a
/// second, the save fails, and no image (complete or not) is left.
pub fn destroy_during_save(cx: &mut Ctx<'_>) {
    let dom = big_guest(cx);
    let d = cx.d();
    let image = cx.root().join("lx-job.save");
    std::thread::scope(|s| {
        let save = s.spawn(|| d.save_with(&dom, &image, SaveOptions::default().bandwidth(4)));
        wait_until("the save to start", Duration::from_secs(60), || {
            d.job_info(&dom).unwrap().filter(|i| i.data_processed > 0)
        });
        // The save at 4 MiB/s has many seconds to go; a destroy that
        // waited for it would find a saved domain, and the save would
        // have succeeded.
        d.destroy(&dom).unwrap();
        let i = info(d, &dom);
        assert_eq!(
            (i.state, i.reason),
            (DomainState::Shutoff, qvirt::driver::StateReason::Destroyed)
        );
        let e = save.join().unwrap().unwrap_err();
        assert!(
            matches!(e.code, ErrorCode::OperationAborted),
            "the save says it was cut off: {e}"
        );
    });
    assert!(!image.exists());
    assert!(qemus_named(cx, "lx-job").is_empty());
}
