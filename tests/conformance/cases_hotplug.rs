//! Device hot-plug: disks and interfaces attached to and detached from a
//! running Linux guest, seen by the guest itself (its console) and by
//! QEMU (`query-block`, `query-pci`); virsh's `--live`, `--config` and
//! both; a plugged device kept across a manager restart; free PCI slots
//! and ports; bad input refused with its code, changing nothing; an
//! interface's link state updated in place; the other kinds libvirt
//! plugs in (inputs, watchdogs, SCSI controllers, channels, USB
//! redirection) through every transport.

use std::path::PathBuf;

use qvirt::driver::{EventKind, ModifyFlags, XmlFlags};
use qvirt::model::Address;
use qvirt::{DomainDef, Driver, ErrorCode};
use serde_json::Value;

use crate::*;

const LIVE: ModifyFlags = ModifyFlags::LIVE;
const CONFIG: ModifyFlags = ModifyFlags::CONFIG;
const CURRENT: ModifyFlags = ModifyFlags::CURRENT;

/// `--persistent`: the running domain and the definition.
fn both() -> ModifyFlags {
    ModifyFlags::new(true, true)
}

/// What the guest's image starts with.
const PATTERN: &str = "qvirt-hotplug-pattern";

/// A raw image of 8 MiB under the test's directory that starts with
/// `PATTERN`.
fn image(cx: &Ctx<'_>, name: &str) -> PathBuf {
    let path = cx.root().join(name);
    let mut bytes = vec![0u8; 8 << 20];
    bytes[..PATTERN.len()].copy_from_slice(PATTERN.as_bytes());
    std::fs::write(&path, bytes).expect("write a test image");
    path
}

/// A virtio disk's XML.
fn disk_xml(path: &std::path::Path, target: &str) -> String {
    format!(
        "<disk type='file' device='disk'><driver name='qemu' type='raw'/>\
         <source file='{}'/><target dev='{target}' bus='virtio'/></disk>",
        path.display()
    )
}

/// Runs `command` in the guest's shell and returns its output.
fn guest_run(console: &mut Console, command: &str) -> String {
    console.write(&format!("{command}; echo END''OF''OUT\n"));
    let text = console.read_until("ENDOFOUT", QUICK);
    let body = text.rsplit_once("ENDOFOUT").map_or("", |(b, _)| b);
    let after = body.rsplit_once("END''OF''OUT").map_or(body, |(_, a)| a);
    after.replace('\r', "").trim().to_string()
}

/// The definition, live or inactive.
fn def_of(d: &dyn Driver, dom: &qvirt::Domain, inactive: bool) -> DomainDef {
    let flags = if inactive {
        XmlFlags::INACTIVE
    } else {
        XmlFlags::NONE
    };
    DomainDef::from_xml(&d.xml_desc(dom, flags).unwrap()).unwrap()
}

/// The targets of a definition's disks.
fn targets(def: &DomainDef) -> Vec<String> {
    def.devices.disks.iter().map(|x| x.target.clone()).collect()
}

/// QEMU's answer to a QMP command without arguments.
fn qmp(d: &dyn Driver, dom: &qvirt::Domain, command: &str) -> Value {
    let reply = d
        .qemu_monitor_command(dom, &format!(r#"{{"execute":"{command}"}}"#))
        .unwrap();
    serde_json::from_str::<Value>(&reply).unwrap()["return"].clone()
}

/// The `qdev` ids of QEMU's block devices.
fn qemu_drives(d: &dyn Driver, dom: &qvirt::Domain) -> Vec<String> {
    qmp(d, dom, "query-block")
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|b| b["qdev"].as_str())
        // A plugged device's drive is named by its backend's QOM path.
        .map(|q| {
            let q = q.trim_start_matches("/machine/peripheral/");
            q.split('/').next().unwrap_or(q).to_string()
        })
        .collect()
}

/// `(bus, slot, function)` of every device on QEMU's PCI buses, with its
/// `qdev_id`.
fn qemu_pci(d: &dyn Driver, dom: &qvirt::Domain) -> Vec<(i64, i64, i64, String)> {
    fn walk(bus: &Value, out: &mut Vec<(i64, i64, i64, String)>) {
        let number = bus["bus"].as_i64().unwrap_or(0);
        for dev in bus["devices"].as_array().into_iter().flatten() {
            out.push((
                dev["bus"].as_i64().unwrap_or(number),
                dev["slot"].as_i64().unwrap(),
                dev["function"].as_i64().unwrap(),
                dev["qdev_id"].as_str().unwrap_or_default().to_string(),
            ));
            if let Some(b) = dev.get("pci_bridge").and_then(|b| b.get("devices")) {
                let inner =
                    serde_json::json!({"bus": dev["pci_bridge"]["bus"]["secondary"], "devices": b});
                walk(&inner, out);
            }
        }
    }
    let mut out = Vec::new();
    for bus in qmp(d, dom, "query-pci").as_array().unwrap() {
        walk(bus, &mut out);
    }
    out
}

/// The firmware VM with ACPI, without which a pc machine's PCI bus has
/// no hot-plug.
fn firmware(name: &str) -> Vm {
    Vm::firmware(name).element("<features><acpi/></features>")
}

/// The PCI address of a disk in a definition.
fn pci_of_disk(def: &DomainDef, target: &str) -> (u32, u32, u32) {
    let disk = def
        .devices
        .disks
        .iter()
        .find(|x| x.target == target)
        .unwrap_or_else(|| panic!("no disk {target}"));
    match disk.address {
        Some(Address::Pci(a)) => (a.bus, a.slot, a.function),
        other => panic!("disk {target} has no PCI address: {other:?}"),
    }
}

/// A virtio disk plugged into the running Linux guest appears in the
/// guest (as its first virtio disk, `vda`: a guest names disks its own
/// way; its first bytes are the image's) and in QEMU, with a PCI
/// address in the live XML only; unplugged, it is gone from the guest,
/// from QEMU and from the live XML. Each plug is a device added or
/// removed event naming the disk's alias.
pub fn disk_live_attach_and_detach_reach_the_guest(cx: &mut Ctx<'_>) {
    let d = cx.d();
    let img = image(cx, "hot.img");
    let (dom, mut console) = boot_guest(d, &Vm::linux("lx-hotdisk"));
    assert_eq!(guest_run(&mut console, "ls /sys/block | grep -c vd"), "0");
    let mut watch = Watch::new(d);
    let alias = || "virtio-disk1".to_string();
    d.attach_device(&dom, &disk_xml(&img, "vdb"), LIVE).unwrap();
    watch.expect(dom.uuid, &[EventKind::DeviceAdded { alias: alias() }]);
    wait_until("the guest to see the disk", QUICK, || {
        (guest_run(&mut console, "head -c 21 /dev/vda 2>/dev/null") == PATTERN).then_some(())
    });
    assert!(qemu_drives(d, &dom).contains(&"virtio-disk1".to_string()));
    let live = def_of(d, &dom, false);
    let at = pci_of_disk(&live, "vdb");
    assert!(
        qemu_pci(d, &dom)
            .iter()
            .any(|p| (p.0 as u32, p.1 as u32, p.2 as u32) == at && p.3 == "virtio-disk1"),
        "QEMU has virtio-disk1 at {at:?}"
    );
    assert_eq!(targets(&def_of(d, &dom, true)), Vec::<String>::new());
    d.detach_device(&dom, &disk_xml(&img, "vdb"), LIVE).unwrap();
    watch.expect(dom.uuid, &[EventKind::DeviceRemoved { alias: alias() }]);
    assert!(!qemu_drives(d, &dom).contains(&"virtio-disk1".to_string()));
    assert_eq!(targets(&def_of(d, &dom, false)), Vec::<String>::new());
    wait_until("the guest to lose the disk", QUICK, || {
        (guest_run(&mut console, "ls /sys/block | grep -c vd") == "0").then_some(())
    });
    // Plugged in again under the same target, it is the same disk.
    d.attach_device(&dom, &disk_xml(&img, "vdb"), CURRENT)
        .unwrap();
    watch.expect(dom.uuid, &[EventKind::DeviceAdded { alias: alias() }]);
    wait_until("the guest to see the disk again", QUICK, || {
        (guest_run(&mut console, "head -c 21 /dev/vda 2>/dev/null") == PATTERN).then_some(())
    });
}

/// An interface plugged into the running Linux guest appears as its
/// eth0; two of a type need a MAC address to tell them apart; unplugged,
/// each is gone from the guest and QEMU, also through a manager that
/// reattached after the first one went (QEMU's ids are kept).
pub fn interface_live_attach_and_detach_reach_the_guest(cx: &mut Ctx<'_>) {
    let d = cx.d();
    let (dom, mut console) = boot_guest(d, &Vm::linux("lx-hotnic"));
    assert_eq!(
        guest_run(&mut console, "ls /sys/class/net | grep -c eth"),
        "0"
    );
    let nic = "<interface type='user'><mac address='52:54:00:aa:bb:01'/><model type='virtio'/></interface>";
    d.attach_device(&dom, nic, LIVE).unwrap();
    wait_until("the guest to see eth0", QUICK, || {
        (guest_run(&mut console, "cat /sys/class/net/eth0/address 2>/dev/null")
            == "52:54:00:aa:bb:01")
            .then_some(())
    });
    let live = def_of(d, &dom, false);
    assert_eq!(live.devices.interfaces.len(), 1);
    assert!(matches!(
        live.devices.interfaces[0].address,
        Some(Address::Pci(_))
    ));
    assert!(qemu_pci(d, &dom).iter().any(|p| p.3 == "net0"));
    expect_err(
        d.attach_device(&dom, nic, LIVE),
        ErrorCode::ConfigInvalid,
        "the same MAC address twice",
    );
    let second = "<interface type='user'><mac address='52:54:00:aa:bb:03'/><model type='virtio'/></interface>";
    d.attach_device(&dom, second, LIVE).unwrap();
    assert!(qemu_pci(d, &dom).iter().any(|p| p.3 == "net1"));
    expect_err(
        d.detach_device(&dom, "<interface type='user'/>", LIVE),
        ErrorCode::InvalidArgument,
        "two user interfaces and no MAC address",
    );
    d.detach_device(&dom, nic, LIVE).unwrap();
    let pci = qemu_pci(d, &dom);
    assert!(!pci.iter().any(|p| p.3 == "net0"), "{pci:?}");
    assert_eq!(def_of(d, &dom, false).devices.interfaces.len(), 1);
    wait_until("the guest to lose one interface", QUICK, || {
        (guest_run(&mut console, "ls /sys/class/net | grep -c eth") == "1").then_some(())
    });
    // A manager that reattaches still knows the remaining interface is
    // QEMU's net1, though it is now the first.
    drop(console);
    cx.reopen();
    let d = cx.d();
    d.detach_device(&dom, "<interface type='user'/>", LIVE)
        .unwrap();
    assert!(!qemu_pci(d, &dom).iter().any(|p| p.3.starts_with("net")));
    assert!(def_of(d, &dom, false).devices.interfaces.is_empty());
    let mut console = Console::open(d, &dom, true);
    wait_until("the guest to lose its interfaces", QUICK, || {
        (guest_run(&mut console, "ls /sys/class/net | grep -c eth") == "0").then_some(())
    });
}

/// `--config` changes only the definition, `--live` only the running
/// domain, both flags both; `--current` is the running domain while it
/// runs and the definition once shut off; a transient domain refuses
/// `--config`, a shut-off one `--live`.
pub fn attach_flags_choose_live_and_config(cx: &mut Ctx<'_>) {
    let d = cx.d();
    let (b, c, e) = (image(cx, "b.img"), image(cx, "c.img"), image(cx, "e.img"));
    let dom = define_and_start(d, &firmware("fw-hotflags"));
    d.attach_device(&dom, &disk_xml(&b, "vdb"), CONFIG).unwrap();
    assert_eq!(targets(&def_of(d, &dom, true)), ["vdb"]);
    assert_eq!(targets(&def_of(d, &dom, false)), Vec::<String>::new());
    assert!(!qemu_drives(d, &dom).contains(&"virtio-disk1".to_string()));
    d.attach_device(&dom, &disk_xml(&c, "vdc"), both()).unwrap();
    assert_eq!(targets(&def_of(d, &dom, true)), ["vdb", "vdc"]);
    assert_eq!(targets(&def_of(d, &dom, false)), ["vdc"]);
    assert!(qemu_drives(d, &dom).contains(&"virtio-disk2".to_string()));
    d.detach_device(&dom, &disk_xml(&b, "vdb"), CONFIG).unwrap();
    assert_eq!(targets(&def_of(d, &dom, true)), ["vdc"]);
    expect_err(
        d.detach_device(&dom, &disk_xml(&b, "vdb"), CONFIG),
        ErrorCode::InvalidArgument,
        "a disk the definition does not have",
    );
    d.destroy(&dom).unwrap();
    expect_err(
        d.attach_device(&dom, &disk_xml(&e, "vde"), LIVE),
        ErrorCode::OperationInvalid,
        "--live on a shut-off domain",
    );
    d.attach_device(&dom, &disk_xml(&e, "vde"), CURRENT)
        .unwrap();
    assert_eq!(targets(&def_of(d, &dom, true)), ["vdc", "vde"]);
    // The next start has both disks, on slots of their own.
    let dom = d.start(&dom).unwrap();
    let drives = qemu_drives(d, &dom);
    assert!(drives.contains(&"virtio-disk2".to_string()), "{drives:?}");
    assert!(drives.contains(&"virtio-disk4".to_string()), "{drives:?}");
    d.destroy(&dom).unwrap();
    let transient = d.create_xml(&firmware("fw-hottransient").xml()).unwrap();
    expect_err(
        d.attach_device(&transient, &disk_xml(&b, "vdb"), CONFIG),
        ErrorCode::OperationInvalid,
        "--config on a transient domain",
    );
    d.attach_device(&transient, &disk_xml(&b, "vdb"), CURRENT)
        .unwrap();
    assert_eq!(targets(&def_of(d, &transient, false)), ["vdb"]);
}

/// A device plugged in stays in the live definition of a manager that
/// reattaches, and QEMU still has it; that manager can plug in more
/// without a clash, and finds the interface ids again.
pub fn plugged_devices_survive_a_manager_restart(cx: &mut Ctx<'_>) {
    let (b, c) = (image(cx, "b.img"), image(cx, "c.img"));
    let dom = define_and_start(cx.d(), &firmware("fw-hotkeep"));
    cx.d()
        .attach_device(&dom, &disk_xml(&b, "vdb"), LIVE)
        .unwrap();
    let nic = "<interface type='user'><mac address='52:54:00:aa:bb:02'/><model type='virtio'/></interface>";
    cx.d().attach_device(&dom, nic, LIVE).unwrap();
    let before = def_of(cx.d(), &dom, false);
    cx.reopen();
    let d = cx.d();
    let after = def_of(d, &dom, false);
    assert_eq!(targets(&after), ["vdb"]);
    assert_eq!(after.devices.disks, before.devices.disks);
    assert_eq!(after.devices.interfaces, before.devices.interfaces);
    assert!(qemu_drives(d, &dom).contains(&"virtio-disk1".to_string()));
    d.attach_device(&dom, &disk_xml(&c, "vdc"), LIVE).unwrap();
    let live = def_of(d, &dom, false);
    assert_ne!(pci_of_disk(&live, "vdb"), pci_of_disk(&live, "vdc"));
    assert!(qemu_drives(d, &dom).contains(&"virtio-disk2".to_string()));
}

/// Two devices plugged in one after the other get two free slots, none
/// a device of the start holds (pc: pci.0); on q35 each takes a free
/// pcie-root-port, and with none left the attach is refused naming it.
pub fn attaches_never_share_a_slot(cx: &mut Ctx<'_>) {
    let d = cx.d();
    let (b, c) = (image(cx, "b.img"), image(cx, "c.img"));
    let dom = define_and_start(
        d,
        &firmware("fw-hotslots").device("<video><model type='vga'/></video>"),
    );
    let start = qemu_pci(d, &dom);
    d.attach_device(&dom, &disk_xml(&b, "vdb"), LIVE).unwrap();
    d.attach_device(&dom, &disk_xml(&c, "vdc"), LIVE).unwrap();
    let live = def_of(d, &dom, false);
    let (pb, pc) = (pci_of_disk(&live, "vdb"), pci_of_disk(&live, "vdc"));
    assert_ne!(pb, pc);
    for p in &start {
        assert_ne!((p.0 as u32, p.1 as u32), (pb.0, pb.1), "{start:?}");
        assert_ne!((p.0 as u32, p.1 as u32), (pc.0, pc.1), "{start:?}");
    }
    let now = qemu_pci(d, &dom);
    assert_eq!(now.len(), start.len() + 2, "{now:?}");
    d.destroy(&dom).unwrap();

    // q35: three root ports, of which the start's own devices take some.
    let q35 = firmware("fw-hotq35").device(
        "<controller type='pci' index='0' model='pcie-root'/>\
         <controller type='pci' index='1' model='pcie-root-port'/>\
         <controller type='pci' index='2' model='pcie-root-port'/>\
         <controller type='pci' index='3' model='pcie-root-port'/>",
    );
    let xml = q35.xml().replace("machine='pc'", "machine='q35'");
    let dom = d.start(&d.define_xml(&xml).unwrap()).unwrap();
    let mut ports = Vec::new();
    let err = loop {
        let target = format!("vd{}", (b'b' + ports.len() as u8) as char);
        let img = image(cx, &format!("{target}.img"));
        match d.attach_device(&dom, &disk_xml(&img, &target), LIVE) {
            Ok(()) => {
                let (bus, slot, _) = pci_of_disk(&def_of(d, &dom, false), &target);
                assert_eq!(slot, 0, "a root port has one slot");
                assert!((1..=3).contains(&bus), "{target} on bus {bus}");
                assert!(!ports.contains(&bus), "{target} shares port {bus}");
                ports.push(bus);
            }
            Err(e) => break e,
        }
        assert!(ports.len() <= 3, "more disks than root ports");
    };
    assert!(!ports.is_empty(), "no root port was free: {err}");
    assert_eq!(err.code, ErrorCode::OperationInvalid, "{err}");
    assert!(err.message.contains("no free hot-pluggable port"), "{err}");
    assert_eq!(def_of(d, &dom, false).devices.disks.len(), ports.len());
    assert_eq!(qemu_drives(d, &dom).len(), ports.len());
}

/// Bad input is refused with its code and changes neither the running
/// domain nor the definition: an unknown bus, a target in use, a
/// controller that cannot be plugged in, a host device, a disk on a USB
/// controller the domain lacks, a file that does not exist, malformed XML, a PCI address in
/// use, and detaching what is not there.
pub fn bad_attaches_change_nothing(cx: &mut Ctx<'_>) {
    let d = cx.d();
    let b = image(cx, "b.img");
    let dom = define_and_start(d, &firmware("fw-hotbad"));
    d.attach_device(&dom, &disk_xml(&b, "vdb"), both()).unwrap();
    let (live, kept) = (
        d.xml_desc(&dom, XmlFlags::NONE).unwrap(),
        d.xml_desc(&dom, XmlFlags::INACTIVE).unwrap(),
    );
    let drives = qemu_drives(d, &dom);
    let cases: Vec<(String, ErrorCode, &str)> = vec![
        (
            disk_xml(&b, "vdc").replace("bus='virtio'", "bus='bogus'"),
            ErrorCode::ConfigUnsupported,
            "bogus",
        ),
        (disk_xml(&b, "vdb"), ErrorCode::ConfigInvalid, "vdb"),
        (
            "<controller type='usb' index='1' model='qemu-xhci'/>".to_string(),
            ErrorCode::NoSupport,
            "'usb' controller cannot be hot plugged",
        ),
        (
            "<hostdev mode='subsystem' type='pci'><source><address domain='0' bus='0' slot='1' function='0'/></source></hostdev>".to_string(),
            ErrorCode::ConfigUnsupported,
            "<hostdev>",
        ),
        (
            disk_xml(&b, "sdc").replace(
                "bus='virtio'/>",
                "bus='usb'/><address type='usb' bus='1' port='1'/>",
            ),
            ErrorCode::ConfigInvalid,
            "no USB controller with index 1",
        ),
        (
            disk_xml(&cx.root().join("missing.img"), "vdd"),
            ErrorCode::Io,
            "missing.img",
        ),
        ("<disk".to_string(), ErrorCode::InvalidXml, "malformed"),
        (
            disk_xml(&b, "vdf").replace(
                "</disk>",
                "<address type='pci' domain='0x0000' bus='0x00' slot='0x01' function='0x0'/></disk>",
            ),
            ErrorCode::ConfigInvalid,
            "double use of PCI Address 0000:00:01.0",
        ),
    ];
    for (xml, code, needle) in &cases {
        let err = expect_err(d.attach_device(&dom, xml, both()), *code, needle);
        assert!(err.message.contains(needle), "{needle}: {err}");
    }
    expect_err(
        d.detach_device(&dom, &disk_xml(&b, "vdz"), both()),
        ErrorCode::InvalidArgument,
        "a target the domain does not have",
    );
    assert_eq!(d.xml_desc(&dom, XmlFlags::NONE).unwrap(), live);
    assert_eq!(d.xml_desc(&dom, XmlFlags::INACTIVE).unwrap(), kept);
    assert_eq!(qemu_drives(d, &dom), drives);
    // A pc machine without ACPI has no PCI hot-plug: said before QEMU is
    // asked.
    let bare = define_and_start(d, &Vm::firmware("fw-hotnoacpi"));
    let err = expect_err(
        d.attach_device(&bare, &disk_xml(&b, "vdb"), LIVE),
        ErrorCode::OperationInvalid,
        "a pc machine without ACPI",
    );
    assert!(err.message.contains("<acpi/>"), "{err}");
    assert!(def_of(d, &bare, false).devices.disks.is_empty());
}

/// A disk on an existing virtio-scsi controller and a USB disk plug in
/// and out of the running domain (both buses unplug without the guest);
/// the USB disk gets a free port of its own, named in the live XML.
pub fn scsi_and_usb_disks_plug_in_and_out(cx: &mut Ctx<'_>) {
    let d = cx.d();
    let (a, u) = (image(cx, "a.img"), image(cx, "u.img"));
    let vm = firmware("fw-hotbuses")
        .device("<controller type='scsi' index='0' model='virtio-scsi'/>")
        .device("<input type='tablet' bus='usb'/>");
    let dom = define_and_start(d, &vm);
    let scsi = disk_xml(&a, "sda").replace("bus='virtio'", "bus='scsi'");
    d.attach_device(&dom, &scsi, LIVE).unwrap();
    assert!(qemu_drives(d, &dom).contains(&"scsi0-0-0-0".to_string()));
    let usb = disk_xml(&u, "sdb").replace("bus='virtio'", "bus='usb'");
    d.attach_device(&dom, &usb, LIVE).unwrap();
    assert!(qemu_drives(d, &dom).contains(&"usb-disk1".to_string()));
    let live = def_of(d, &dom, false);
    let port = |a: &Option<Address>| match a {
        Some(Address::Usb(u)) => (u.bus, u.port),
        other => panic!("no USB address: {other:?}"),
    };
    let disk_port = port(
        &live
            .devices
            .disks
            .iter()
            .find(|x| x.target == "sdb")
            .unwrap()
            .address,
    );
    let tablet_port = port(&live.devices.inputs[0].address);
    assert_ne!(
        disk_port, tablet_port,
        "the disk and the tablet share a port"
    );
    d.detach_device(&dom, &scsi, LIVE).unwrap();
    d.detach_device(&dom, &usb, LIVE).unwrap();
    let drives = qemu_drives(d, &dom);
    assert!(!drives.contains(&"scsi0-0-0-0".to_string()), "{drives:?}");
    assert!(!drives.contains(&"usb-disk1".to_string()), "{drives:?}");
    assert_eq!(targets(&def_of(d, &dom, false)), Vec::<String>::new());
    // IDE has no hot-plug.
    let ide = disk_xml(&a, "hdb").replace("bus='virtio'", "bus='ide'");
    let err = expect_err(
        d.attach_device(&dom, &ide, LIVE),
        ErrorCode::ConfigUnsupported,
        "IDE",
    );
    assert!(err.message.contains("bus 'ide' has no hot-plug"), "{err}");
    // Also when the bus is only implied by the target's name.
    let ide = disk_xml(&a, "hdb").replace(" bus='virtio'", "");
    let err = expect_err(
        d.attach_device(&dom, &ide, LIVE),
        ErrorCode::ConfigUnsupported,
        "hdb",
    );
    assert!(err.message.contains("bus 'ide' has no hot-plug"), "{err}");
}

/// A guest that never lets a device go (the firmware VM sits in the BIOS,
/// which does not handle the unplug request): the detach ends with
/// `Timeout` saying so, and the device stays in QEMU and in the live XML.
pub fn unplug_the_guest_ignores_times_out(cx: &mut Ctx<'_>) {
    let d = cx.d();
    let b = image(cx, "b.img");
    let dom = define_and_start(d, &firmware("fw-hotstuck"));
    d.attach_device(&dom, &disk_xml(&b, "vdb"), LIVE).unwrap();
    let err = expect_err(
        d.detach_device(&dom, &disk_xml(&b, "vdb"), LIVE),
        ErrorCode::Timeout,
        "a guest that does not release the disk",
    );
    assert!(err.message.contains("did not release"), "{err}");
    assert!(qemu_drives(d, &dom).contains(&"virtio-disk1".to_string()));
    assert_eq!(targets(&def_of(d, &dom, false)), ["vdb"]);
}

/// A guest that lets a device go only after the wait (it was paused):
/// the detach ends with `Timeout` and the disk stays; once the guest runs
/// and lets go, QEMU's `DEVICE_DELETED` finishes the unplug by itself:
/// the live XML, QEMU's drives and its block nodes lose the disk.
pub fn a_late_release_finishes_the_unplug(cx: &mut Ctx<'_>) {
    let d = cx.d();
    let img = image(cx, "late.img");
    let (dom, mut console) = boot_guest(d, &Vm::linux("lx-hotlate"));
    let mut watch = Watch::new(d);
    d.attach_device(&dom, &disk_xml(&img, "vdb"), LIVE).unwrap();
    wait_until("the guest to see the disk", QUICK, || {
        (guest_run(&mut console, "head -c 21 /dev/vda 2>/dev/null") == PATTERN).then_some(())
    });
    d.suspend(&dom).unwrap();
    expect_err(
        d.detach_device(&dom, &disk_xml(&img, "vdb"), LIVE),
        ErrorCode::Timeout,
        "a paused guest cannot let the disk go",
    );
    assert_eq!(targets(&def_of(d, &dom, false)), ["vdb"]);
    d.resume(&dom).unwrap();
    // The guest's late release is when the device is removed.
    let gone = EventKind::DeviceRemoved {
        alias: "virtio-disk1".into(),
    };
    watch.wait_for(dom.uuid, gone, QUICK);
    wait_until("the unplug to finish", QUICK, || {
        targets(&def_of(d, &dom, false)).is_empty().then_some(())
    });
    assert!(!qemu_drives(d, &dom).contains(&"virtio-disk1".to_string()));
    // The block nodes go right after (once QEMU has freed the device).
    wait_until("the disk's block nodes to go", QUICK, || {
        let nodes = qmp(d, &dom, "query-named-block-nodes").to_string();
        (!nodes.contains("virtio-disk1")).then_some(())
    });
    wait_until("the guest to lose the disk", QUICK, || {
        (guest_run(&mut console, "ls /sys/block | grep -c vd") == "0").then_some(())
    });
}

/// `update_device` of an interface: its link goes down live (the live XML
/// says so, the definition does not), then down in the definition only;
/// a change of anything else (the model) is refused by name and changes
/// neither.
pub fn an_interface_update_changes_its_link_state(cx: &mut Ctx<'_>) {
    let d = cx.d();
    let nic = "<interface type='user'><mac address='52:54:00:12:34:56'/><model type='e1000'/></interface>";
    let dom = define_and_start(d, &Vm::firmware("fw-ifup").device(nic));
    let down = nic.replace("</interface>", "<link state='down'/></interface>");
    let link = |inactive: bool| def_of(d, &dom, inactive).devices.interfaces[0].link_up;
    d.update_device(&dom, &down, CURRENT).unwrap();
    assert_eq!((link(false), link(true)), (Some(false), None));
    d.update_device(&dom, &down, CONFIG).unwrap();
    assert_eq!(link(true), Some(false));
    let up = nic.replace("</interface>", "<link state='up'/></interface>");
    d.update_device(&dom, &up, LIVE).unwrap();
    assert_eq!((link(false), link(true)), (Some(true), Some(false)));
    let (live, kept) = (
        d.xml_desc(&dom, XmlFlags::NONE).unwrap(),
        d.xml_desc(&dom, XmlFlags::INACTIVE).unwrap(),
    );
    let e = d
        .update_device(&dom, &down.replace("e1000", "virtio"), both())
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::NoSupport, "{e}");
    assert!(e.message.contains("changes its model"), "{e}");
    assert_eq!(d.xml_desc(&dom, XmlFlags::NONE).unwrap(), live);
    assert_eq!(d.xml_desc(&dom, XmlFlags::INACTIVE).unwrap(), kept);
    d.destroy(&dom).unwrap();
}

/// QEMU's user-created devices of `dom`, as `id:type` sorted.
fn peripherals(d: &dyn Driver, dom: &qvirt::Domain) -> Vec<String> {
    let reply = d
        .qemu_monitor_command(
            dom,
            r#"{"execute":"qom-list","arguments":{"path":"/machine/peripheral"}}"#,
        )
        .unwrap();
    let v: Value = serde_json::from_str(&reply).unwrap();
    let mut out: Vec<String> = v["return"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| {
            let t = p["type"].as_str()?.strip_prefix("child<")?;
            Some(format!(
                "{}:{}",
                p["name"].as_str()?,
                t.trim_end_matches('>')
            ))
        })
        .collect();
    out.sort();
    out
}

/// The other device kinds libvirt plugs in: a USB mouse, an i6300esb
/// watchdog, a SCSI controller, a virtio channel, a USB redirection
/// device and a PCI serial port reach QEMU through every transport, the live XML names them by
/// the aliases QEMU knows them by, a manager restart keeps them, and
/// devices that leave without the guest (USB ones, a virtio-serial
/// port) come out after it, each the right QEMU device.
pub fn other_device_kinds_plug_in_and_survive_a_restart(cx: &mut Ctx<'_>) {
    let vm = firmware("fw-hotkinds").device("<controller type='virtio-serial' index='0'/>");
    let dom = define_and_start(cx.d(), &vm);
    let socket = cx.root().join("redir.sock");
    let redir = format!(
        "<redirdev bus='usb' type='unix'><source mode='bind' path='{}'/></redirdev>",
        socket.display()
    );
    let devices = [
        "<input type='mouse' bus='usb'/>",
        "<watchdog model='i6300esb' action='poweroff'/>",
        "<controller type='scsi' model='virtio-scsi'/>",
        "<channel type='pty'><target type='virtio' name='org.example.kinds'/></channel>",
        redir.as_str(),
        "<serial type='pty'><target type='pci-serial'/></serial>",
    ];
    let d = cx.d();
    for xml in devices {
        d.attach_device(&dom, xml, LIVE).unwrap();
    }
    let want = [
        "channel0:virtserialport",
        "input0:usb-mouse",
        "redir0:usb-redir",
        "scsi0:virtio-scsi-pci",
        "serial0:pci-serial",
        "usb:piix3-usb-uhci",
        "virtio-serial0:virtio-serial-pci",
        "watchdog0:i6300esb",
    ];
    assert_eq!(peripherals(d, &dom), want);
    let live = d.xml_desc(&dom, XmlFlags::NONE).unwrap();
    for alias in ["input0", "watchdog0", "scsi0", "channel0", "serial0"] {
        assert!(
            live.contains(&format!("<alias name='{alias}'/>")),
            "{alias}: {live}"
        );
    }
    // Live only.
    let kept = def_of(d, &dom, true);
    assert!(
        kept.devices
            .inputs
            .iter()
            .all(|i| i.bus != Some(qvirt::model::InputBus::Usb))
    );
    assert!(kept.devices.watchdogs.is_empty() && kept.devices.channels.is_empty());

    cx.reopen();
    let d = cx.d();
    assert_eq!(d.xml_desc(&dom, XmlFlags::NONE).unwrap(), live);
    d.detach_device(&dom, devices[0], LIVE).unwrap();
    d.detach_device(&dom, devices[3], LIVE).unwrap();
    d.detach_device(&dom, devices[4], LIVE).unwrap();
    assert_eq!(
        peripherals(d, &dom),
        [
            "scsi0:virtio-scsi-pci",
            "serial0:pci-serial",
            "usb:piix3-usb-uhci",
            "virtio-serial0:virtio-serial-pci",
            "watchdog0:i6300esb"
        ]
    );
    let live = def_of(d, &dom, false);
    assert!(live.devices.redirdevs.is_empty() && live.devices.channels.is_empty());
    assert_eq!(live.devices.watchdogs.len(), 1);
    assert_eq!(
        expect_err(
            d.attach_device(&dom, devices[1], LIVE),
            ErrorCode::OperationInvalid,
            "a second watchdog"
        )
        .message,
        "domain already has a watchdog"
    );
}
