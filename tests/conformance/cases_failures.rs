//! Things going wrong: QEMU refusing to start, QEMU killed under a running
//! domain, and a second manager on the same state directory.

use std::time::Duration;

use qvirt::ErrorCode;
use qvirt::driver::{DomainState, EventKind, ListFilter, StateReason};

use crate::{
    Ctx, QUICK, Vm, Watch, assert_failed_start_left_nothing, define, define_and_start, expect_err,
    info, kill_process, process_alive, processes_under, wait_state,
};

/// A disk whose file does not exist: refused before QEMU starts.
fn missing_disk(cx: &Ctx<'_>) -> (String, String) {
    let path = cx.root().join("no-such-dir/missing.img");
    let path = path.display().to_string();
    let xml = format!(
        "<disk type='file' device='disk'><driver name='qemu' type='raw'/>\
         <source file='{path}'/><target dev='vda' bus='virtio'/></disk>"
    );
    (path, xml)
}

/// A disk said to be qcow2 whose file is not: QEMU itself refuses it.
fn bad_qcow2_disk(cx: &Ctx<'_>) -> (String, String) {
    let path = cx.root().join("not-qcow2.img");
    std::fs::write(&path, vec![0u8; 64 * 1024]).expect("write a test image");
    let path = path.display().to_string();
    let xml = format!(
        "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>\
         <source file='{path}'/><target dev='vda' bus='virtio'/></disk>"
    );
    (path, xml)
}

/// A start that QEMU fails: `QemuFailed` with the tail of QEMU's log, the
/// domain shut off (failed), no process, no runtime dir, no event; the
/// same failure again on a second try.
pub fn failed_start_reports_qemu_log(cx: &mut Ctx<'_>) {
    let (path, disk) = bad_qcow2_disk(cx);
    let d = cx.d();
    let mut w = Watch::new(d);
    let vm = Vm::firmware("fw-a").device(&disk);
    let dom = define(d, &vm);
    w.expect(vm.uuid, &[EventKind::Defined]);
    for attempt in 1..=2 {
        let e = expect_err(
            d.start(&dom),
            ErrorCode::QemuFailed,
            "start with a disk that is not qcow2",
        );
        let lines: Vec<&str> = e.message.lines().collect();
        assert!(lines.len() <= 3, "attempt {attempt}: {}", e.message);
        assert!(
            lines[0].contains("fw-a") && lines[0].contains("QEMU: ") && lines[0].contains("qcow2"),
            "attempt {attempt}: the first line names the domain and QEMU's own complaint: {}",
            e.message
        );
        assert!(
            e.message.contains("log/qemu/fw-a.log"),
            "attempt {attempt}: it says where the log is: {}",
            e.message
        );
        assert!(
            !e.message.contains("-name guest="),
            "no command line: {}",
            e.message
        );
        assert_failed_start_left_nothing(cx, &dom, "fw-a");
    }
    let _ = path;
    w.expect_none(vm.uuid, Duration::from_millis(200));
    // Fixed, it starts.
    d.define_xml(&Vm::firmware("fw-a").uuid(vm.uuid).xml())
        .unwrap();
    let run = d.start(&dom).unwrap();
    assert_eq!(info(d, &run).state, DomainState::Running);
}

/// A start whose disk file is missing is refused before QEMU runs, in
/// one line naming the path as the definition gives it.
pub fn missing_disk_is_named_before_qemu_runs(cx: &mut Ctx<'_>) {
    let (path, disk) = missing_disk(cx);
    let d = cx.d();
    let vm = Vm::firmware("fw-a").device(&disk);
    let dom = define(d, &vm);
    let e = expect_err(d.start(&dom), ErrorCode::Io, "start with a missing disk");
    assert_eq!(e.message.lines().count(), 1, "{}", e.message);
    assert!(
        e.message.contains(&path) && e.message.contains("No such file or directory"),
        "{}",
        e.message
    );
    assert_failed_start_left_nothing(cx, &dom, "fw-a");
    assert!(
        !cx.root().join("log/qemu/fw-a.log").exists(),
        "QEMU never ran"
    );
}

/// A `create_xml` that QEMU fails leaves no domain behind, and the name
/// is free for the next try.
pub fn failed_create_leaves_nothing(cx: &mut Ctx<'_>) {
    let (_, disk) = missing_disk(cx);
    let d = cx.d();
    let mut w = Watch::new(d);
    let vm = Vm::firmware("fw-t").device(&disk);
    expect_err(d.create_xml(&vm.xml()), ErrorCode::Io, "create");
    expect_err(
        d.lookup_by_name("fw-t"),
        ErrorCode::NoDomain,
        "after a failed create",
    );
    expect_err(d.lookup_by_uuid(vm.uuid), ErrorCode::NoDomain, "uuid");
    assert!(d.list(ListFilter::ALL).unwrap().is_empty());
    assert!(!cx.run_dir("fw-t").exists());
    assert_eq!(processes_under(cx.root()), Vec::<i32>::new());
    w.expect_none(vm.uuid, Duration::from_millis(200));
    let ok = Vm::firmware("fw-t").uuid(vm.uuid);
    let dom = d.create_xml(&ok.xml()).unwrap();
    assert_eq!(info(d, &dom).state, DomainState::Running);
}

/// A second manager on the same state directory is refused with
/// `OperationDenied` naming the holder's pid; the first goes on working.
/// (Opening the root's URI a second time is another matter: it reaches
/// the first manager through its socket, see the CLI tests.)
pub fn second_manager_is_denied(cx: &mut Ctx<'_>) {
    let dom = define_and_start(cx.d(), &Vm::firmware("fw-a"));
    let e = match qvirt::LocalDriver::open_embedded(cx.root()) {
        Ok(_) => panic!("a second manager opened the same state directory"),
        Err(e) => e,
    };
    assert_eq!(e.code, ErrorCode::OperationDenied, "{}", e.message);
    let pid = format!("pid {}", cx.manager_pid());
    assert!(e.message.contains(&pid), "names {pid}: {}", e.message);
    let d = cx.d();
    assert_eq!(info(d, &dom).state, DomainState::Running);
    d.suspend(&dom).unwrap();
    d.resume(&dom).unwrap();
    define(d, &Vm::firmware("fw-b"));
    assert_eq!(d.list(ListFilter::ALL).unwrap().len(), 2);
}

/// QEMU killed behind the manager's back: the domain is shut off
/// (crashed) within a deadline, with a `Stopped(Crashed)` event and its
/// runtime dir removed; it starts again.
pub fn killed_qemu_is_crashed(cx: &mut Ctx<'_>) {
    let d = cx.d();
    let vm = Vm::firmware("fw-a");
    let dom = define_and_start(d, &vm);
    let mut w = Watch::new(d);
    let pid = cx.qemu_pid("fw-a");
    kill_process(pid);
    let ev = w.wait_for(vm.uuid, EventKind::Stopped(StateReason::Crashed), QUICK);
    assert_eq!(ev.domain.name, "fw-a");
    let i = wait_state(d, &dom, DomainState::Shutoff, QUICK);
    assert_eq!(i.reason, StateReason::Crashed);
    assert!(!process_alive(pid));
    assert!(!cx.run_dir("fw-a").exists(), "the runtime dir is removed");
    assert_eq!(d.lookup_by_name("fw-a").unwrap().id, None);
    expect_err(
        d.lookup_by_id(dom.id.unwrap()),
        ErrorCode::NoDomain,
        "old id",
    );
    let again = d.start(&dom).unwrap();
    assert_eq!(info(d, &again).state, DomainState::Running);
}

/// A killed transient domain disappears.
pub fn killed_transient_disappears(cx: &mut Ctx<'_>) {
    let d = cx.d();
    let vm = Vm::firmware("fw-t");
    let mut w = Watch::new(d);
    d.create_xml(&vm.xml()).unwrap();
    w.expect(vm.uuid, &[EventKind::Started(StateReason::Booted)]);
    kill_process(cx.qemu_pid("fw-t"));
    w.expect(vm.uuid, &[EventKind::Stopped(StateReason::Crashed)]);
    expect_err(
        d.lookup_by_name("fw-t"),
        ErrorCode::NoDomain,
        "after the crash",
    );
    assert!(d.list(ListFilter::ALL).unwrap().is_empty());
    assert!(!cx.run_dir("fw-t").exists());
}
