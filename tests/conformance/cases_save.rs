//! Saving the firmware VM's memory state: managed save (resumed by the
//! next start) and save to a file with restore, for transient and defined
//! domains.

use qvirt::ErrorCode;
use qvirt::driver::{DomainState, EventKind, ListFilter, StateReason};

use crate::{Ctx, Vm, Watch, define_and_start, expect_err, info, listed, processes_under};

/// Managed save stops the domain (saved) and keeps an image that the next
/// start resumes from, then deletes.
pub fn managed_save_and_resume(cx: &mut Ctx<'_>) {
    let d = cx.d();
    let vm = Vm::firmware("fw-a");
    let dom = define_and_start(d, &vm);
    let mut w = Watch::new(d);
    d.managed_save(&dom).unwrap();
    // The vCPUs stop first (as with libvirt), then the domain.
    w.expect(
        vm.uuid,
        &[
            EventKind::Suspended(StateReason::User),
            EventKind::Stopped(StateReason::Saved),
        ],
    );
    let i = info(d, &dom);
    assert_eq!(
        (i.state, i.reason),
        (DomainState::Shutoff, StateReason::Saved)
    );
    assert!(i.managed_save);
    let image = cx.root().join("save/fw-a.save");
    assert!(image.is_file(), "the image is in the manager's store");
    assert_eq!(processes_under(cx.root()), Vec::<i32>::new());
    assert!(!cx.run_dir("fw-a").exists());
    let run = d.start(&dom).unwrap();
    w.expect(vm.uuid, &[EventKind::Started(StateReason::Restored)]);
    let i = info(d, &run);
    assert_eq!(
        (i.state, i.reason),
        (DomainState::Running, StateReason::Restored)
    );
    assert!(!i.managed_save);
    assert!(!image.exists(), "the image is deleted once resumed");
    // The next stop and start is a plain boot.
    d.destroy(&run).unwrap();
    d.start(&dom).unwrap();
    w.expect(
        vm.uuid,
        &[
            EventKind::Stopped(StateReason::Destroyed),
            EventKind::Started(StateReason::Booted),
        ],
    );
}

/// Removing the managed save image makes the next start a fresh boot;
/// removing it is refused while the domain runs.
pub fn managed_save_remove_boots_fresh(cx: &mut Ctx<'_>) {
    let d = cx.d();
    let vm = Vm::firmware("fw-a");
    let dom = define_and_start(d, &vm);
    expect_err(
        d.managed_save_remove(&dom),
        ErrorCode::OperationInvalid,
        "while running",
    );
    d.managed_save(&dom).unwrap();
    assert!(info(d, &dom).managed_save);
    d.managed_save_remove(&dom).unwrap();
    assert!(!info(d, &dom).managed_save);
    assert!(!cx.root().join("save/fw-a.save").exists());
    let mut w = Watch::new(d);
    let run = d.start(&dom).unwrap();
    w.expect(vm.uuid, &[EventKind::Started(StateReason::Booted)]);
    assert_eq!(info(d, &run).reason, StateReason::Booted);
}

/// A transient domain saved to a file is gone; restoring the file brings
/// it back, transient, as often as asked.
pub fn save_and_restore_transient(cx: &mut Ctx<'_>) {
    let file = cx.root().join("fw-t.save");
    let d = cx.d();
    let vm = Vm::firmware("fw-t");
    let mut w = Watch::new(d);
    let dom = d.create_xml(&vm.xml()).unwrap();
    d.save(&dom, &file).unwrap();
    w.expect(
        vm.uuid,
        &[
            EventKind::Started(StateReason::Booted),
            EventKind::Suspended(StateReason::User),
            EventKind::Stopped(StateReason::Saved),
        ],
    );
    assert!(file.is_file());
    expect_err(
        d.lookup_by_name("fw-t"),
        ErrorCode::NoDomain,
        "saved transient",
    );
    assert_eq!(processes_under(cx.root()), Vec::<i32>::new());
    for _ in 0..2 {
        let back = d.restore(&file).unwrap();
        assert_eq!((back.name.as_str(), back.uuid), ("fw-t", vm.uuid));
        assert!(back.id.is_some());
        w.expect(vm.uuid, &[EventKind::Started(StateReason::Restored)]);
        let i = info(d, &back);
        assert_eq!(
            (i.state, i.reason),
            (DomainState::Running, StateReason::Restored)
        );
        assert!(!i.persistent);
        // A running domain with the file's UUID blocks another restore.
        expect_err(
            d.restore(&file),
            ErrorCode::OperationInvalid,
            "restore twice",
        );
        d.destroy(&back).unwrap();
        w.expect(vm.uuid, &[EventKind::Stopped(StateReason::Destroyed)]);
        expect_err(d.lookup_by_name("fw-t"), ErrorCode::NoDomain, "destroyed");
    }
    assert!(file.is_file(), "restore leaves the file");
}

/// A defined domain saved to a file is shut off (saved); the restore
/// runs that same domain, refused while it runs.
pub fn save_and_restore_defined(cx: &mut Ctx<'_>) {
    let file = cx.root().join("fw-a.save");
    let d = cx.d();
    let vm = Vm::firmware("fw-a");
    let dom = define_and_start(d, &vm);
    d.save(&dom, &file).unwrap();
    let i = info(d, &dom);
    assert_eq!(
        (i.state, i.reason),
        (DomainState::Shutoff, StateReason::Saved)
    );
    assert!(!i.managed_save, "a save to a file is not a managed save");
    let back = d.restore(&file).unwrap();
    assert_eq!((back.name.as_str(), back.uuid), ("fw-a", vm.uuid));
    assert_ne!(back.id, dom.id);
    let i = info(d, &back);
    assert_eq!(
        (i.state, i.reason),
        (DomainState::Running, StateReason::Restored)
    );
    assert!(i.persistent, "still the defined domain");
    assert_eq!(
        listed(d, ListFilter::ALL),
        [("fw-a".to_string(), DomainState::Running)]
    );
    let e = expect_err(
        d.restore(&file),
        ErrorCode::OperationInvalid,
        "restore running",
    );
    assert!(e.message.contains("running"), "{}", e.message);
}

/// A paused domain saves and restores paused.
pub fn save_paused_restores_paused(cx: &mut Ctx<'_>) {
    let file = cx.root().join("fw-a.save");
    let d = cx.d();
    let dom = define_and_start(d, &Vm::firmware("fw-a"));
    d.suspend(&dom).unwrap();
    d.save(&dom, &file).unwrap();
    let back = d.restore(&file).unwrap();
    assert_eq!(info(d, &back).state, DomainState::Paused);
    d.resume(&back).unwrap();
    assert_eq!(info(d, &back).state, DomainState::Running);
}

/// A save can say how its restore starts: paused or running (virsh's
/// `--paused`, `--running`) and with another definition of the same
/// machine (`--xml`: here with a description); a restore can say so
/// too, over what the image says, leaving the image as it was. Another
/// machine's definition is refused (`InvalidArgument`) before anything
/// stops or starts. A managed save asked to be paused starts paused.
pub fn save_and_restore_with_state_and_definition(cx: &mut Ctx<'_>) {
    use qvirt::driver::{RestoreOptions, SaveOptions, XmlFlags};
    let file = cx.root().join("fw-a.save");
    let d = cx.d();
    let vm = Vm::firmware("fw-a");
    let dom = define_and_start(d, &vm);
    let other = vm.xml().replace("<vcpu>1</vcpu>", "<vcpu>2</vcpu>");
    assert_ne!(other, vm.xml());
    let o = SaveOptions::default().xml(other.clone());
    expect_err(
        d.save_with(&dom, &file, o),
        ErrorCode::InvalidArgument,
        "another machine",
    );
    assert_eq!(info(d, &dom).state, DomainState::Running);
    assert!(!file.exists());

    let described = vm.xml().replace(
        "</name>",
        "</name><description>restored from fw-a.save</description>",
    );
    let o = SaveOptions::default().running(false).xml(described);
    d.save_with(&dom, &file, o).unwrap();
    let xml = |dom: &qvirt::Domain| d.xml_desc(dom, XmlFlags::default()).unwrap();
    let back = d.restore(&file).unwrap();
    assert_eq!(info(d, &back).state, DomainState::Paused);
    assert!(
        xml(&back).contains("restored from fw-a.save"),
        "{}",
        xml(&back)
    );
    d.destroy(&back).unwrap();

    let back = d
        .restore_with(&file, RestoreOptions::default().running(true))
        .unwrap();
    assert_eq!(info(d, &back).state, DomainState::Running);
    d.destroy(&back).unwrap();
    let o = RestoreOptions::default().xml(other);
    expect_err(
        d.restore_with(&file, o),
        ErrorCode::InvalidArgument,
        "another machine",
    );
    assert_eq!(info(d, &dom).state, DomainState::Shutoff);
    let back = d
        .restore_with(&file, RestoreOptions::default().xml(vm.xml()))
        .unwrap();
    assert_eq!(
        info(d, &back).state,
        DomainState::Paused,
        "as the image says"
    );
    assert!(!xml(&back).contains("restored from"), "{}", xml(&back));
    d.destroy(&back).unwrap();

    let run = d.start(&dom).unwrap();
    d.managed_save_with(&run, SaveOptions::default().running(false))
        .unwrap();
    assert!(info(d, &dom).managed_save);
    let run = d.start(&dom).unwrap();
    assert_eq!(info(d, &run).state, DomainState::Paused);
    assert!(!info(d, &dom).managed_save);
}

/// Restoring from a missing file is `Io`; from a file that is not a save
/// image, `InvalidArgument`. Nothing starts.
pub fn restore_rejects_bad_files(cx: &mut Ctx<'_>) {
    let missing = cx.root().join("missing.save");
    let garbage = cx.root().join("garbage.save");
    let empty = cx.root().join("empty.save");
    std::fs::write(&garbage, vec![0x5a; 8192]).unwrap();
    std::fs::write(&empty, b"").unwrap();
    let d = cx.d();
    expect_err(d.restore(&missing), ErrorCode::Io, "missing");
    for f in [&garbage, &empty] {
        let e = expect_err(d.restore(f), ErrorCode::InvalidArgument, "not a save file");
        assert!(
            e.message.contains(&f.display().to_string()),
            "{}",
            e.message
        );
    }
    assert!(d.list(ListFilter::ALL).unwrap().is_empty());
    assert_eq!(processes_under(cx.root()), Vec::<i32>::new());
}

/// A save to a directory that does not exist fails with `Io` and leaves
/// the domain as it was (running or paused) and no file behind.
pub fn save_to_unwritable_path_keeps_running(cx: &mut Ctx<'_>) {
    let file = cx.root().join("no-such-dir/fw-a.save");
    let d = cx.d();
    let dom = define_and_start(d, &Vm::firmware("fw-a"));
    expect_err(d.save(&dom, &file), ErrorCode::Io, "save to a missing dir");
    assert_eq!(info(d, &dom).state, DomainState::Running);
    d.suspend(&dom).unwrap();
    expect_err(d.save(&dom, &file), ErrorCode::Io, "save paused");
    assert_eq!(info(d, &dom).state, DomainState::Paused);
    assert!(!file.parent().unwrap().exists());
    d.resume(&dom).unwrap();
    d.destroy(&dom).unwrap();
    assert_eq!(info(d, &dom).reason, StateReason::Destroyed);
}

/// Core dumps of the running firmware VM: an ELF core of its memory and
/// its whole state as a migration stream, after each of which it runs
/// on; a paused one stays paused; `crash` stops it as crashed. A dump
/// into a directory that does not exist fails and leaves it running.
pub fn core_dumps_leave_the_domain_as_asked(cx: &mut Ctx<'_>) {
    use qvirt::driver::DumpOptions;
    let d = cx.d();
    let dom = define_and_start(d, &Vm::firmware("fw-dump"));
    let head = |p: &std::path::Path| std::fs::read(p).unwrap()[..4].to_vec();
    let elf = cx.root().join("d.elf");
    let memory = DumpOptions::default().memory_only(qvirt::driver::DumpFormat::Raw);
    d.core_dump(&dom, &elf, memory).unwrap();
    assert_eq!(head(&elf), b"\x7fELF");
    assert_eq!(info(d, &dom).state, DomainState::Running);
    let raw = cx.root().join("d.raw");
    d.core_dump(&dom, &raw, DumpOptions::default()).unwrap();
    assert_eq!(head(&raw), b"QEVM");
    assert_eq!(info(d, &dom).state, DomainState::Running);
    d.suspend(&dom).unwrap();
    d.core_dump(&dom, &cx.root().join("p.elf"), memory).unwrap();
    assert_eq!(info(d, &dom).state, DomainState::Paused);
    d.resume(&dom).unwrap();
    let nowhere = cx.root().join("no/such/dir/d.elf");
    assert!(d.core_dump(&dom, &nowhere, memory).is_err());
    assert!(!nowhere.exists());
    assert_eq!(info(d, &dom).state, DomainState::Running);
    let crash = DumpOptions::default().crash();
    d.core_dump(&dom, &cx.root().join("c.raw"), crash).unwrap();
    let i = info(d, &dom);
    assert_eq!(
        (i.state, i.reason),
        (DomainState::Shutoff, StateReason::Crashed)
    );
    assert_eq!(processes_under(cx.root()), Vec::<i32>::new());
}
