//! Definitions and queries: define, redefine, undefine, lookups, list,
//! autostart and the inactive XML. No QEMU runs here.

use qvirt::DomainDef;
use qvirt::driver::XmlFlags;
use qvirt::driver::{DomainState, ListFilter, StateReason};
use qvirt::{Domain, ErrorCode};
use uuid::Uuid;

use crate::{Ctx, Vm, define, expect_err, info, listed};

/// A defined domain is found by name and UUID, with no id, and listed as
/// shut off.
pub fn define_and_lookup(cx: &mut Ctx<'_>) {
    let d = cx.d();
    let vm = Vm::firmware("fw-a");
    let dom = define(d, &vm);
    assert_eq!(d.lookup_by_name("fw-a").unwrap(), dom);
    assert_eq!(d.lookup_by_uuid(vm.uuid).unwrap(), dom);
    assert_eq!(
        listed(d, ListFilter::ALL),
        [("fw-a".to_string(), DomainState::Shutoff)]
    );
    assert!(listed(d, ListFilter::ACTIVE).is_empty());
    // The definition is on disk and parses back to the same domain.
    let file = cx.root().join("config/fw-a.xml");
    let text = std::fs::read_to_string(&file).expect("the definition is written to config/");
    let def = DomainDef::from_xml(&text).expect("the stored definition parses");
    assert_eq!((def.name.as_str(), def.uuid), ("fw-a", vm.uuid));
}

/// Defining again with the same name and UUID replaces the definition.
pub fn redefine_updates_definition(cx: &mut Ctx<'_>) {
    let d = cx.d();
    let vm = Vm::firmware("fw-a");
    let dom = define(d, &vm);
    assert_eq!(info(d, &dom).max_memory_kib, 32 * 1024);
    let again = define(d, &vm.clone().memory_mib(48).vcpus(2));
    assert_eq!(again, dom);
    let i = info(d, &dom);
    assert_eq!((i.max_memory_kib, i.vcpus), (48 * 1024, 2));
    let def = DomainDef::from_xml(&d.xml_desc(&dom, XmlFlags::INACTIVE).unwrap()).unwrap();
    assert_eq!(def.memory_kib, 48 * 1024);
    assert_eq!(listed(d, ListFilter::ALL).len(), 1);
}

/// A second domain may not take a defined domain's name.
pub fn define_same_name_other_uuid_fails(cx: &mut Ctx<'_>) {
    let d = cx.d();
    let vm = Vm::firmware("fw-a");
    let dom = define(d, &vm);
    let other = vm.clone().uuid(Uuid::new_v4()).memory_mib(64);
    let e = expect_err(
        d.define_xml(&other.xml()),
        ErrorCode::DomainExists,
        "same name",
    );
    assert!(e.message.contains("fw-a"), "{}", e.message);
    // The first definition is untouched.
    assert_eq!(d.lookup_by_name("fw-a").unwrap(), dom);
    assert_eq!(info(d, &dom).max_memory_kib, 32 * 1024);
    expect_err(
        d.lookup_by_uuid(other.uuid),
        ErrorCode::NoDomain,
        "other uuid",
    );
}

/// A defined domain's UUID may not come back under another name.
pub fn define_same_uuid_other_name_fails(cx: &mut Ctx<'_>) {
    let d = cx.d();
    let vm = Vm::firmware("fw-a");
    define(d, &vm);
    let mut renamed = vm.clone();
    renamed.name = "fw-b".to_string();
    expect_err(
        d.define_xml(&renamed.xml()),
        ErrorCode::DomainExists,
        "same uuid",
    );
    expect_err(d.lookup_by_name("fw-b"), ErrorCode::NoDomain, "fw-b");
    assert!(!cx.root().join("config/fw-b.xml").exists());
}

/// Text that is not a domain document is `InvalidXml`, and defines
/// nothing.
pub fn define_invalid_xml_fails(cx: &mut Ctx<'_>) {
    let d = cx.d();
    for bad in [
        "",
        "<domain type='qemu'><name>x</name>",
        "not xml at all",
        "<network><name>x</name></network>",
    ] {
        expect_err(d.define_xml(bad), ErrorCode::InvalidXml, bad);
        expect_err(d.create_xml(bad), ErrorCode::InvalidXml, bad);
    }
    assert!(listed(d, ListFilter::ALL).is_empty());
}

/// An element qvirt does not know is `ConfigUnsupported`.
pub fn define_unsupported_element_fails(cx: &mut Ctx<'_>) {
    let d = cx.d();
    let vm = Vm::firmware("fw-a").device(
        "<lease><lockspace>ls</lockspace><key>k</key><target path='/var/lib/lease'/></lease>",
    );
    let e = expect_err(
        d.define_xml(&vm.xml()),
        ErrorCode::ConfigUnsupported,
        "lease",
    );
    assert!(e.message.contains("lease"), "{}", e.message);
    let vm = Vm::firmware("fw-a").element("<frobnicate/>");
    let e = expect_err(
        d.define_xml(&vm.xml()),
        ErrorCode::ConfigUnsupported,
        "frobnicate",
    );
    assert!(e.message.contains("frobnicate"), "{}", e.message);
    expect_err(
        d.create_xml(&vm.xml()),
        ErrorCode::ConfigUnsupported,
        "create",
    );
    assert!(listed(d, ListFilter::ALL).is_empty());
}

/// A well-formed but impossible domain is `ConfigInvalid`.
pub fn define_invalid_config_fails(cx: &mut Ctx<'_>) {
    let d = cx.d();
    let vm = Vm::firmware("fw-a").memory_mib(0);
    expect_err(
        d.define_xml(&vm.xml()),
        ErrorCode::ConfigInvalid,
        "0 memory",
    );
    let vm = Vm::firmware("fw-a").vcpus(0);
    expect_err(d.define_xml(&vm.xml()), ErrorCode::ConfigInvalid, "0 vcpus");
    // Valid XML that the machine cannot build: slot 1 of a pc is the
    // PIIX3's. Refused at define and at create, before anything is kept.
    let vm = Vm::firmware("fw-a").device(
        "<interface type='user'><model type='virtio'/>\
         <address type='pci' domain='0' bus='0' slot='1' function='0'/></interface>",
    );
    for e in [
        expect_err(
            d.define_xml(&vm.xml()),
            ErrorCode::ConfigInvalid,
            "define on slot 1",
        ),
        expect_err(
            d.create_xml(&vm.xml()),
            ErrorCode::ConfigInvalid,
            "create on slot 1",
        ),
    ] {
        assert!(e.message.contains("the PIIX3 ISA bridge"), "{e}");
    }
    assert!(listed(d, ListFilter::ALL).is_empty());
    assert!(!cx.root().join("config/fw-a.xml").exists());
}

/// Undefining a shut-off domain removes it everywhere; a second undefine
/// with the old handle is `NoDomain`.
pub fn undefine_removes_definition(cx: &mut Ctx<'_>) {
    let d = cx.d();
    let dom = define(d, &Vm::firmware("fw-a"));
    d.set_autostart(&dom, true).unwrap();
    d.undefine(&dom).unwrap();
    expect_err(d.lookup_by_name("fw-a"), ErrorCode::NoDomain, "by name");
    expect_err(d.lookup_by_uuid(dom.uuid), ErrorCode::NoDomain, "by uuid");
    expect_err(d.undefine(&dom), ErrorCode::NoDomain, "undefine again");
    expect_err(d.info(&dom), ErrorCode::NoDomain, "info");
    assert!(listed(d, ListFilter::ALL).is_empty());
    assert!(!cx.root().join("config/fw-a.xml").exists());
    assert!(!cx.root().join("config/autostart/fw-a").exists());
    // The name is free again, under any UUID.
    define(d, &Vm::firmware("fw-a"));
}

/// Names, UUIDs and ids that match nothing are `NoDomain`, for lookups
/// and for every operation on a handle.
pub fn unknown_domains_are_no_domain(cx: &mut Ctx<'_>) {
    let d = cx.d();
    define(d, &Vm::firmware("fw-a"));
    let e = expect_err(d.lookup_by_name("nope"), ErrorCode::NoDomain, "name");
    assert!(e.message.contains("nope"), "{}", e.message);
    expect_err(
        d.lookup_by_uuid(Uuid::new_v4()),
        ErrorCode::NoDomain,
        "uuid",
    );
    expect_err(
        d.lookup_by_id(1),
        ErrorCode::NoDomain,
        "id of nothing running",
    );
    expect_err(d.lookup_by_id(0), ErrorCode::NoDomain, "id 0");
    expect_err(d.lookup_by_id(u32::MAX), ErrorCode::NoDomain, "id max");
    let ghost = Domain {
        name: "ghost".to_string(),
        uuid: Uuid::new_v4(),
        id: None,
    };
    let no = ErrorCode::NoDomain;
    expect_err(d.start(&ghost), no, "start");
    expect_err(d.destroy(&ghost), no, "destroy");
    expect_err(d.suspend(&ghost), no, "suspend");
    expect_err(d.resume(&ghost), no, "resume");
    expect_err(d.reset(&ghost), no, "reset");
    expect_err(d.reboot(&ghost), no, "reboot");
    expect_err(d.shutdown(&ghost, Default::default()), no, "shutdown");
    expect_err(d.info(&ghost), no, "info");
    expect_err(d.xml_desc(&ghost, XmlFlags::NONE), no, "xml");
    expect_err(d.autostart(&ghost), no, "autostart");
    expect_err(d.set_autostart(&ghost, true), no, "set autostart");
    expect_err(d.undefine(&ghost), no, "undefine");
    expect_err(d.managed_save(&ghost), no, "managed save");
    expect_err(d.managed_save_remove(&ghost), no, "managed save remove");
    let file = cx.root().join("ghost.save");
    expect_err(d.save(&ghost, &file), no, "save");
    assert!(!file.exists());
    expect_err(d.console(&ghost, false).map(|_| ()), no, "console");
}

/// Autostart is off by default and follows `set_autostart`.
pub fn autostart_get_and_set(cx: &mut Ctx<'_>) {
    let d = cx.d();
    let dom = define(d, &Vm::firmware("fw-a"));
    let other = define(d, &Vm::firmware("fw-b"));
    assert!(!d.autostart(&dom).unwrap());
    assert!(!info(d, &dom).autostart);
    d.set_autostart(&dom, true).unwrap();
    assert!(d.autostart(&dom).unwrap());
    assert!(info(d, &dom).autostart);
    assert!(!d.autostart(&other).unwrap(), "only the domain asked for");
    d.set_autostart(&dom, true).unwrap();
    d.set_autostart(&dom, false).unwrap();
    assert!(!d.autostart(&dom).unwrap());
    d.set_autostart(&dom, false).unwrap();
    assert!(!info(d, &dom).autostart);
}

/// `list` filters by activity and sorts by name.
pub fn list_filters_and_sorts(cx: &mut Ctx<'_>) {
    let d = cx.d();
    for name in ["fw-c", "fw-a", "fw-d", "fw-b"] {
        define(d, &Vm::firmware(name));
    }
    let c = d.lookup_by_name("fw-c").unwrap();
    let a = d.lookup_by_name("fw-a").unwrap();
    d.start(&c).unwrap();
    d.start(&a).unwrap();
    d.suspend(&a).unwrap();
    d.create_xml(&Vm::firmware("fw-0").xml()).unwrap();
    let off = DomainState::Shutoff;
    assert_eq!(
        listed(d, ListFilter::ALL),
        [
            ("fw-0".to_string(), DomainState::Running),
            ("fw-a".to_string(), DomainState::Paused),
            ("fw-b".to_string(), off),
            ("fw-c".to_string(), DomainState::Running),
            ("fw-d".to_string(), off),
        ]
    );
    assert_eq!(
        listed(d, ListFilter::ACTIVE),
        [
            ("fw-0".to_string(), DomainState::Running),
            ("fw-a".to_string(), DomainState::Paused),
            ("fw-c".to_string(), DomainState::Running),
        ]
    );
    let inactive = ListFilter::INACTIVE;
    assert_eq!(
        listed(d, inactive),
        [("fw-b".to_string(), off), ("fw-d".to_string(), off)]
    );
    assert!(listed(d, ListFilter::default()).is_empty());
    // Running entries carry their ids.
    for s in d.list(ListFilter::ACTIVE).unwrap() {
        let id = s.domain.id.expect("an active domain has an id");
        assert_eq!(d.lookup_by_id(id).unwrap(), s.domain);
    }
}

/// The inactive XML parses back to the definition, and defining it again
/// is accepted and changes nothing.
pub fn inactive_xml_round_trips(cx: &mut Ctx<'_>) {
    let d = cx.d();
    let vm = Vm::firmware("fw-a")
        .vcpus(2)
        .element("<on_poweroff>destroy</on_poweroff><on_crash>destroy</on_crash>");
    let dom = define(d, &vm);
    let xml = d.xml_desc(&dom, XmlFlags::INACTIVE).unwrap();
    let def = DomainDef::from_xml(&xml).expect("xml_desc output parses");
    assert_eq!(def, DomainDef::from_xml(&vm.xml()).unwrap());
    assert_eq!(d.define_xml(&xml).unwrap(), dom);
    assert_eq!(d.xml_desc(&dom, XmlFlags::INACTIVE).unwrap(), xml);
    // While shut off, the live XML is the inactive one.
    assert_eq!(d.xml_desc(&dom, XmlFlags::NONE).unwrap(), xml);
}

/// `info` of a shut-off domain: its definition's numbers, no CPU time.
pub fn info_of_shut_off_domain(cx: &mut Ctx<'_>) {
    let d = cx.d();
    let dom = define(d, &Vm::firmware("fw-a").memory_mib(40).vcpus(3));
    let i = info(d, &dom);
    assert_eq!(i.state, DomainState::Shutoff);
    assert_eq!(i.max_memory_kib, 40 * 1024);
    assert_eq!(i.memory_kib, 40 * 1024);
    assert_eq!(i.vcpus, 3);
    assert_eq!(i.cpu_time_ns, 0);
    assert!(i.persistent);
    assert!(!i.autostart);
    assert!(!i.managed_save);
    // Never started: no reason beyond "unknown".
    assert_eq!(i.reason, StateReason::Unknown);
}

/// Defines of one name under several UUIDs at once: one wins, the others
/// are `DomainExists`. Redefines of the winner at once all succeed, and
/// the definition the driver keeps is the one on disk.
pub fn concurrent_defines_agree(cx: &mut Ctx<'_>) {
    let d = cx.d();
    let vms: Vec<Vm> = (0..6)
        .map(|_| Vm::firmware("fw-race").uuid(Uuid::new_v4()))
        .collect();
    let barrier = std::sync::Barrier::new(vms.len());
    let results: Vec<qvirt::Result<Domain>> = std::thread::scope(|s| {
        let threads: Vec<_> = vms
            .iter()
            .map(|vm| {
                let barrier = &barrier;
                s.spawn(move || {
                    barrier.wait();
                    d.define_xml(&vm.xml())
                })
            })
            .collect();
        threads.into_iter().map(|t| t.join().unwrap()).collect()
    });
    let winners: Vec<&Domain> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(winners.len(), 1, "one define wins: {results:?}");
    for e in results.iter().filter_map(|r| r.as_ref().err()) {
        assert_eq!(e.code, ErrorCode::DomainExists, "{}", e.message);
    }
    let winner = winners[0].clone();
    assert_eq!(d.lookup_by_name("fw-race").unwrap(), winner);
    let file = cx.root().join("config/fw-race.xml");
    let on_disk = || {
        let text = std::fs::read_to_string(&file).expect("the definition is on disk");
        DomainDef::from_xml(&text).expect("the stored definition parses")
    };
    assert_eq!(on_disk().uuid, winner.uuid);

    let base = vms.iter().find(|v| v.uuid == winner.uuid).unwrap();
    std::thread::scope(|s| {
        for i in 0..6 {
            let vm = base.clone().memory_mib(32 + 16 * i);
            let winner = &winner;
            s.spawn(move || {
                for _ in 0..5 {
                    assert_eq!(define(d, &vm), *winner);
                }
            });
        }
    });
    let kept = DomainDef::from_xml(&d.xml_desc(&winner, XmlFlags::INACTIVE).unwrap()).unwrap();
    assert_eq!(kept, on_disk(), "the table and the file agree");
    assert_eq!(listed(d, ListFilter::ALL).len(), 1);
}

/// A definition built in code defines like its XML, and reads back the
/// same.
pub fn define_built_in_code(cx: &mut Ctx<'_>) {
    let d = cx.d();
    let def = qvirt::DomainDef::new("fw-code", 32)
        .with_virt_type(qvirt::model::VirtType::Qemu)
        .with_vcpus(2)
        .with_serial_console();
    let dom = d.define(&def).unwrap();
    assert_eq!((dom.name.as_str(), dom.uuid), ("fw-code", def.uuid));
    let back =
        qvirt::DomainDef::from_xml(&d.xml_desc(&dom, qvirt::driver::XmlFlags::INACTIVE).unwrap())
            .unwrap();
    assert_eq!(back.vcpu.max, 2);
    assert_eq!(back.memory_kib, 32 * 1024);
    assert_eq!(back.devices.serials.len(), 1);
    let run = d.start(&dom).unwrap();
    assert_eq!(d.info(&run).unwrap().state, qvirt::DomainState::Running);
    d.destroy(&run).unwrap();
}

/// `domrename`: a shut-off domain takes its new name with its UUID and
/// autostart mark, the old name is gone (also for a new manager); a
/// running one, a taken name or a bad name change nothing.
pub fn rename_keeps_the_domain(cx: &mut Ctx<'_>) {
    let d = cx.d();
    let vm = Vm::firmware("fw-a");
    let dom = define(d, &vm);
    define(d, &Vm::firmware("fw-b"));
    d.set_autostart(&dom, true).unwrap();
    let e = expect_err(d.rename(&dom, "fw-b"), ErrorCode::DomainExists, "taken");
    assert!(e.message.contains("fw-b"), "{e}");
    expect_err(d.rename(&dom, "a/b"), ErrorCode::ConfigInvalid, "slash");
    let run = d.start(&dom).unwrap();
    expect_err(
        d.rename(&run, "fw-c"),
        ErrorCode::OperationInvalid,
        "running",
    );
    d.destroy(&run).unwrap();
    let renamed = d.rename(&dom, "fw-c").unwrap();
    assert_eq!((renamed.name.as_str(), renamed.uuid), ("fw-c", vm.uuid));
    expect_err(d.lookup_by_name("fw-a"), ErrorCode::NoDomain, "old name");
    let found = d.lookup_by_uuid(vm.uuid).unwrap();
    assert_eq!(found.name, "fw-c");
    assert!(d.autostart(&found).unwrap(), "the autostart mark moves");
    assert!(!cx.root().join("config/fw-a.xml").exists());
    assert!(cx.root().join("config/fw-c.xml").exists());
    cx.reopen();
    let d = cx.d();
    let found = d.lookup_by_name("fw-c").unwrap();
    assert_eq!(found.uuid, vm.uuid);
    assert!(d.autostart(&found).unwrap());
    expect_err(
        d.lookup_by_name("fw-a"),
        ErrorCode::NoDomain,
        "old name, reopened",
    );
    // A daemon starts the marked domain under its new name.
    let run = if cx.manager_autostarts() {
        assert_eq!(info(d, &found).state, DomainState::Running);
        found
    } else {
        d.start(&found).unwrap()
    };
    assert_eq!(run.name, "fw-c");
    d.destroy(&run).unwrap();
}

/// `desc` and `metadata`: title, description and `<metadata>` elements
/// of the running domain, the definition or both; the live ones survive
/// a new manager and end with the run; bad input changes nothing.
pub fn notes_live_and_config(cx: &mut Ctx<'_>) {
    use qvirt::driver::{MetadataKind, ModifyFlags};
    const URI: &str = "http://example.org/app/1";
    let d = cx.d();
    let dom = define(d, &Vm::firmware("fw-a"));
    let title = MetadataKind::Title;
    let element = MetadataKind::Element {
        uri: URI.into(),
        key: Some("app".into()),
    };
    // Shut off: --current is the definition.
    d.set_metadata(&dom, &title, Some("the web server"), ModifyFlags::CURRENT)
        .unwrap();
    assert_eq!(
        d.metadata(&dom, &title, false).unwrap().unwrap(),
        "the web server"
    );
    let run = d.start(&dom).unwrap();
    assert_eq!(
        d.metadata(&run, &title, false).unwrap().unwrap(),
        "the web server"
    );
    // --live only: the running domain's, not the definition's.
    d.set_metadata(&run, &title, Some("live title"), ModifyFlags::LIVE)
        .unwrap();
    d.set_metadata(
        &run,
        &element,
        Some("<cfg role='web'><port>80</port></cfg>"),
        ModifyFlags::LIVE,
    )
    .unwrap();
    assert_eq!(
        d.metadata(&run, &title, false).unwrap().unwrap(),
        "live title"
    );
    assert_eq!(
        d.metadata(&run, &title, true).unwrap().unwrap(),
        "the web server"
    );
    assert_eq!(
        d.metadata(&run, &element, false).unwrap().unwrap(),
        "<cfg role=\"web\"><port>80</port></cfg>"
    );
    assert_eq!(
        d.metadata(&run, &element, true).unwrap(),
        None,
        "not in config"
    );
    let live = d.xml_desc(&run, XmlFlags::NONE).unwrap();
    assert!(live.contains("<title>live title</title>"), "{live}");
    assert!(live.contains(&format!("xmlns:app=\"{URI}\"")), "{live}");
    // Both, and a description.
    let both = ModifyFlags::new(true, true);
    d.set_metadata(
        &run,
        &MetadataKind::Description,
        Some("line one\nline two"),
        both,
    )
    .unwrap();
    assert_eq!(
        d.metadata(&run, &MetadataKind::Description, true)
            .unwrap()
            .unwrap(),
        "line one\nline two"
    );
    // Refused, and nothing changes: a title of two lines, broken XML, no key.
    expect_err(
        d.set_metadata(&run, &title, Some("two\nlines"), both),
        ErrorCode::ConfigInvalid,
        "two-line title",
    );
    expect_err(
        d.set_metadata(&run, &element, Some("<cfg>"), both),
        ErrorCode::InvalidXml,
        "broken element",
    );
    let keyless = MetadataKind::Element {
        uri: URI.into(),
        key: None,
    };
    expect_err(
        d.set_metadata(&run, &keyless, Some("<cfg/>"), both),
        ErrorCode::InvalidArgument,
        "no key",
    );
    assert_eq!(
        d.metadata(&run, &title, false).unwrap().unwrap(),
        "live title"
    );
    // A new manager keeps the live notes.
    cx.reopen();
    let d = cx.d();
    assert_eq!(
        d.metadata(&run, &title, false).unwrap().unwrap(),
        "live title"
    );
    d.set_metadata(&run, &element, None, ModifyFlags::LIVE)
        .unwrap();
    assert_eq!(d.metadata(&run, &element, false).unwrap(), None, "removed");
    // The run's notes end with it; the definition's stay.
    d.destroy(&run).unwrap();
    assert_eq!(
        d.metadata(&dom, &title, false).unwrap().unwrap(),
        "the web server"
    );
    assert_eq!(
        d.metadata(&dom, &MetadataKind::Description, false)
            .unwrap()
            .unwrap(),
        "line one\nline two"
    );
}
