//! Live hot-plug of the devices behind a guest's terminals, with
//! unmodified virsh 9.0 against a `qvirtd --root DIR`, looked at in QEMU
//! (`qom-list`, `qom-get`) and in the running Linux guest: virtio
//! consoles (the guest's hvc0 writes to the live XML's terminal, ports
//! and ids kept apart after an unplug in the middle) and PCI serial ports
//! (the guest's 8250 driver takes the plugged UART as ttyS1 and writes to
//! the live XML's terminal; a plug after an unplug in the middle takes
//! the free id and port; a detach by alias after qvirtd was restarted
//! takes out the right one); USB serial ports (QEMU's usb-serial, an
//! FTDI adapter the guest's ftdi_sio makes a ttyUSB: one a start makes
//! writes to its file, one plugged in to the live XML's terminal, each on
//! the USB port the live XML names); libvirt's refusals (a serial
//! console, an ISA port), which change nothing.

#[allow(dead_code, unused_imports)]
#[path = "daemon/support.rs"]
mod support;

#[path = "libvirt/lv.rs"]
mod lv;

#[path = "libvirt/guest_shell.rs"]
mod guest_shell;

#[allow(dead_code)]
#[path = "libvirt/probe.rs"]
mod probe;

use std::time::Duration;

use guest_shell::Guest;
use lv::*;
use probe::*;
use support::*;

const BOOT: Duration = Duration::from_secs(180);
const QUICK: Duration = Duration::from_secs(30);

/// The first line the guest writes to the terminal at `path` (a pty the
/// live XML shows).
fn read_pty_line(path: &str, g: &mut Guest, guest_cmd: &str) -> String {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let mut pty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(nix::libc::O_NOCTTY | nix::libc::O_NONBLOCK)
        .open(path)
        .unwrap();
    g.run(guest_cmd);
    let mut got = Vec::new();
    let deadline = std::time::Instant::now() + QUICK;
    while std::time::Instant::now() < deadline && !got.contains(&b'\n') {
        let mut buf = [0u8; 256];
        match pty.read(&mut buf) {
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
    String::from_utf8_lossy(&got).trim().to_string()
}

#[test]
fn a_virtio_console_plugs_in_and_out_on_its_port() {
    let dir = TestDir::new("lvconplug");
    let daemon = Daemon::start(&dir.path, &[]);
    let s = &lv_socket(&dir.path);
    let xml = linux_vm("co").replace(
        "<memballoon",
        "<controller type='virtio-serial' index='0'/><memballoon",
    );
    virsh_define(s, &dir.path, "co.xml", &xml);
    virsh_ok(s, &["start", "co"]);
    let console = write_file(
        &dir.path,
        "console.xml",
        "<console type='pty'><target type='virtio'/></console>",
    );
    let serial = write_file(
        &dir.path,
        "serial.xml",
        "<console type='pty'><target type='serial'/></console>",
    );
    let (console, serial) = (console.to_str().unwrap(), serial.to_str().unwrap());
    let e = virsh_err(s, &["attach-device", "co", serial, "--live"]);
    assert!(
        e.contains("attaching serial console is not supported"),
        "{e}"
    );

    let qvirt = daemon.connect();
    let dom = qvirt.lookup_by_name("co").unwrap();
    let mut g = Guest::open(&*qvirt, &dom);
    virsh_ok(s, &["attach-device", "co", console, "--live"]);
    assert_eq!(qemu_devices_of(s, "co", "virtconsole"), ["console0"]);
    let live = virsh_ok(s, &["dumpxml", "co"]);
    assert!(live.contains("<alias name='console0'/>"), "{live}");
    assert!(
        live.contains("<address type='virtio-serial' controller='0' bus='0' port='0'/>"),
        "{live}"
    );
    // The live XML's terminal is the console: the guest's hvc0 writes
    // to it.
    let doc = roxmltree::Document::parse(&live).unwrap();
    let path = doc
        .descendants()
        .filter(|n| n.has_tag_name("console"))
        .find(|n| {
            n.children()
                .any(|t| t.has_tag_name("target") && t.attribute("type") == Some("virtio"))
        })
        .and_then(|n| n.children().find(|c| c.has_tag_name("source")))
        .and_then(|n| n.attribute("path"))
        .expect("the virtio console's pty")
        .to_string();
    let wait = "for t in $(seq 150); do [ -e /dev/hvc0 ] && break; sleep 0.2; done";
    let line = read_pty_line(
        &path,
        &mut g,
        &format!("{wait}; echo hello-from-hvc0 > /dev/hvc0"),
    );
    assert_eq!(line, "hello-from-hvc0");

    // A second one on port 1; the first out and in again takes the
    // free id and port, beside the second.
    let second = write_file(
        &dir.path,
        "second.xml",
        "<console type='pty'><target type='virtio' port='5'/></console>",
    );
    let second = second.to_str().unwrap();
    virsh_ok(s, &["attach-device", "co", second, "--live"]);
    assert_eq!(
        virsh_ok(s, &["detach-device", "co", console, "--live"]),
        "Device detached successfully\n\n"
    );
    assert_eq!(qemu_devices_of(s, "co", "virtconsole"), ["console1"]);
    virsh_ok(s, &["attach-device", "co", console, "--live"]);
    assert_eq!(
        qemu_devices_of(s, "co", "virtconsole"),
        ["console0", "console1"]
    );
    let nr = |id: &str| qom_get(s, "co", id, "nr");
    assert_eq!(
        (nr("console0"), nr("console1")),
        (serde_json::json!(0), serde_json::json!(1))
    );
    // By the alias the live XML shows, as by its XML.
    virsh_ok(s, &["detach-device-alias", "co", "console1", "--live"]);
    assert_eq!(qemu_devices_of(s, "co", "virtconsole"), ["console0"]);
    virsh_ok(s, &["detach-device", "co", console, "--live"]);
    assert!(qemu_devices_of(s, "co", "virtconsole").is_empty());
    let live = virsh_ok(s, &["dumpxml", "co"]);
    assert!(!live.contains("type='virtio'"), "{live}");
    drop(g);
    virsh_ok(s, &["destroy", "co"]);
}

/// The live XML's terminal of the serial port with alias `alias`.
fn serial_pty(live: &str, alias: &str) -> String {
    let doc = roxmltree::Document::parse(live).unwrap();
    doc.descendants()
        .filter(|n| n.has_tag_name("serial"))
        .find(|n| {
            n.children()
                .any(|a| a.has_tag_name("alias") && a.attribute("name") == Some(alias))
        })
        .and_then(|n| n.children().find(|c| c.has_tag_name("source")))
        .and_then(|n| n.attribute("path"))
        .unwrap_or_else(|| panic!("no terminal for serial '{alias}' in {live}"))
        .to_string()
}

/// The live XML's serial ports as `PORT:ALIAS`, sorted.
fn serial_ports(live: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(live).unwrap();
    doc.descendants()
        .filter(|n| n.has_tag_name("serial"))
        .map(|n| {
            let child = |tag: &str, attr: &str| {
                n.children()
                    .find(|c| c.has_tag_name(tag))
                    .and_then(|c| c.attribute(attr))
                    .unwrap_or("")
                    .to_string()
            };
            format!("{}:{}", child("target", "port"), child("alias", "name"))
        })
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect()
}

#[test]
fn pci_serial_ports_plug_into_and_out_of_the_running_guest() {
    let dir = TestDir::new("lvserplug");
    let mut daemon = Daemon::start(&dir.path, &[]);
    let s = &lv_socket(&dir.path);
    virsh_define(s, &dir.path, "sp.xml", &linux_vm("sp"));
    virsh_ok(s, &["start", "sp"]);
    let write = |name: &str, text: &str| {
        let p = write_file(&dir.path, name, text);
        p.to_str().unwrap().to_string()
    };
    let pci = write(
        "pci.xml",
        "<serial type='pty'><target type='pci-serial'/></serial>",
    );
    let second = write(
        "second.xml",
        "<serial type='pty'><target type='pci-serial' port='3'/></serial>",
    );
    let isa = write(
        "isa.xml",
        "<serial type='pty'><target type='isa-serial' port='2'/></serial>",
    );
    let first = write(
        "first.xml",
        "<serial type='pty'><target type='isa-serial' port='0'/></serial>",
    );
    // ISA has no hot-plug: refused by name, nothing changes.
    let e = virsh_err(s, &["attach-device", "sp", &isa, "--live"]);
    assert!(
        e.contains("target type 'isa-serial' cannot be hot plugged"),
        "{e}"
    );
    let e = virsh_err(s, &["detach-device", "sp", &first, "--live"]);
    assert!(
        e.contains("target type 'isa-serial' cannot be hot plugged"),
        "{e}"
    );
    assert!(qemu_devices_of(s, "sp", "pci-serial").is_empty());

    let qvirt = daemon.connect();
    let dom = qvirt.lookup_by_name("sp").unwrap();
    let mut g = Guest::open(&*qvirt, &dom);
    let console = virsh_ok(s, &["ttyconsole", "sp"]);
    virsh_ok(s, &["attach-device", "sp", &pci, "--live"]);
    // The start's port keeps its terminal.
    assert_eq!(virsh_ok(s, &["ttyconsole", "sp"]), console);
    assert!(console.starts_with("/dev/pts/"), "{console}");
    assert_eq!(qemu_devices_of(s, "sp", "pci-serial"), ["serial1"]);
    let live = virsh_ok(s, &["dumpxml", "sp"]);
    // Port 0 is the start's ISA port (and its console): the plugged one
    // takes port 1, on the slot QEMU has it on.
    assert_eq!(serial_ports(&live), ["0:serial0", "1:serial1"]);
    let qemu_slot = pci_slot(s, "sp", "serial1").expect("serial1 on the PCI bus");
    let doc = roxmltree::Document::parse(&live).unwrap();
    let xml_slot = doc
        .descendants()
        .filter(|n| n.has_tag_name("serial"))
        .nth(1)
        .and_then(|n| n.children().find(|c| c.has_tag_name("address")))
        .and_then(|a| a.attribute("slot"))
        .map(slot)
        .expect("the plugged port's PCI address");
    assert_eq!(qemu_slot, xml_slot);
    // The guest's 8250 driver takes the UART as ttyS1, which writes to
    // the live XML's terminal.
    let path = serial_pty(&live, "serial1");
    let wait = "for t in $(seq 150); do grep -q '^1: uart:16550A' /proc/tty/driver/serial && break; sleep 0.2; done";
    let line = read_pty_line(
        &path,
        &mut g,
        &format!("{wait}; echo hello-from-ttyS1 > /dev/ttyS1"),
    );
    assert_eq!(line, "hello-from-ttyS1");

    // A second one on port 3; the first out and in again takes the free
    // id and port beside it.
    virsh_ok(s, &["attach-device", "sp", &second, "--live"]);
    let e = virsh_err(s, &["detach-device", "sp", &pci, "--live"]);
    assert!(e.contains("2 serial ports of this source and type"), "{e}");
    let port1 = write(
        "port1.xml",
        "<serial type='pty'><target type='pci-serial' port='1'/></serial>",
    );
    assert_eq!(
        virsh_ok(s, &["detach-device", "sp", &port1, "--live"]),
        "Device detached successfully\n\n"
    );
    assert_eq!(qemu_devices_of(s, "sp", "pci-serial"), ["serial2"]);
    // The guest's ttyS1 is no UART any more: ttyS0 and the one on port
    // 3 (its ttyS2) are left.
    let uarts = "grep -c uart:16550A /proc/tty/driver/serial";
    let wait = format!("for t in $(seq 150); do [ $({uarts}) = 2 ] && break; sleep 0.2; done");
    assert_eq!(g.value(&wait, uarts), "2");
    virsh_ok(s, &["attach-device", "sp", &pci, "--live"]);
    assert_eq!(
        qemu_devices_of(s, "sp", "pci-serial"),
        ["serial1", "serial2"]
    );
    let live = virsh_ok(s, &["dumpxml", "sp"]);
    assert_eq!(serial_ports(&live), ["0:serial0", "1:serial1", "3:serial2"]);
    let e = virsh_err(s, &["attach-device", "sp", &second, "--live"]);
    assert!(e.contains("chardev already exists"), "{e}");

    // A restarted qvirtd takes out the device the alias names.
    drop(g);
    drop(qvirt);
    drop(daemon);
    daemon = Daemon::start(&dir.path, &[]);
    virsh_ok(s, &["detach-device-alias", "sp", "serial1", "--live"]);
    assert_eq!(qemu_devices_of(s, "sp", "pci-serial"), ["serial2"]);
    virsh_ok(s, &["detach-device", "sp", &second, "--live"]);
    assert!(qemu_devices_of(s, "sp", "pci-serial").is_empty());
    let live = virsh_ok(s, &["dumpxml", "sp"]);
    assert_eq!(serial_ports(&live), ["0:serial0"]);
    // The persistent definition never had them.
    let inactive = virsh_ok(s, &["dumpxml", "sp", "--inactive"]);
    assert!(!inactive.contains("pci-serial"), "{inactive}");
    virsh_ok(s, &["destroy", "sp"]);
    drop(daemon);
}

#[test]
fn usb_serial_ports_start_with_the_domain_and_plug_in_and_out() {
    let dir = TestDir::new("lvusbser");
    let daemon = Daemon::start(&dir.path, &[]);
    let s = &lv_socket(&dir.path);
    let out = dir.path.join("usb0.out");
    let xml = linux_vm("us")
        .replace(
            "console=ttyS0 quiet no_timer_check",
            "console=ttyS0 quiet no_timer_check guestusb",
        )
        .replace(
            "<memballoon",
            &format!(
                "<serial type='file'><source path='{}'/><target type='usb-serial' port='1'/></serial><memballoon",
                out.display()
            ),
        );
    virsh_define(s, &dir.path, "us.xml", &xml);
    virsh_ok(s, &["start", "us"]);
    // The start's port: QEMU's usb-serial on the USB port the live XML
    // names, the guest's FTDI driver makes it ttyUSB0, which writes to
    // the port's file.
    assert_eq!(qemu_devices_of(s, "us", "usb-serial"), ["serial1"]);
    let live = virsh_ok(s, &["dumpxml", "us"]);
    let usb_port = |live: &str, alias: &str| {
        let doc = roxmltree::Document::parse(live).unwrap();
        doc.descendants()
            .filter(|n| n.has_tag_name("serial"))
            .find(|n| {
                n.children()
                    .any(|a| a.has_tag_name("alias") && a.attribute("name") == Some(alias))
            })
            .and_then(|n| n.children().find(|c| c.has_tag_name("address")))
            .filter(|a| a.attribute("type") == Some("usb"))
            .and_then(|a| a.attribute("port"))
            .unwrap_or_else(|| panic!("no USB port for '{alias}' in {live}"))
            .to_string()
    };
    assert_eq!(
        qom_get(s, "us", "serial1", "port"),
        serde_json::json!(usb_port(&live, "serial1"))
    );
    let qvirt = daemon.connect();
    let dom = qvirt.lookup_by_name("us").unwrap();
    let mut g = Guest::open(&*qvirt, &dom);
    let wait =
        |tty: &str| format!("for t in $(seq 150); do [ -e /dev/{tty} ] && break; sleep 0.2; done");
    g.run(&format!(
        "{}; echo from-ttyUSB0 > /dev/ttyUSB0",
        wait("ttyUSB0")
    ));
    support::wait_for("the USB serial port's output in its file", QUICK, || {
        std::fs::read_to_string(&out)
            .ok()
            .filter(|t| t.contains("from-ttyUSB0"))
    });

    // A second one plugged in: the lowest free port (2), a free USB
    // port, the guest's ttyUSB1 writes to the live XML's terminal.
    let plug = write_file(
        &dir.path,
        "usb.xml",
        "<serial type='pty'><target type='usb-serial'/></serial>",
    );
    let plug = plug.to_str().unwrap();
    virsh_ok(s, &["attach-device", "us", plug, "--live"]);
    assert_eq!(
        qemu_devices_of(s, "us", "usb-serial"),
        ["serial1", "serial2"]
    );
    let live = virsh_ok(s, &["dumpxml", "us"]);
    assert_eq!(serial_ports(&live), ["0:serial0", "1:serial1", "2:serial2"]);
    assert_eq!(
        qom_get(s, "us", "serial2", "port"),
        serde_json::json!(usb_port(&live, "serial2"))
    );
    let line = read_pty_line(
        &serial_pty(&live, "serial2"),
        &mut g,
        &format!(
            "{}; echo hello-from-ttyUSB1 > /dev/ttyUSB1",
            wait("ttyUSB1")
        ),
    );
    assert_eq!(line, "hello-from-ttyUSB1");

    // Out again by its XML: the guest's ttyUSB1 goes, the start's port
    // stays.
    let port2 = write_file(
        &dir.path,
        "port2.xml",
        "<serial type='pty'><target type='usb-serial' port='2'/></serial>",
    );
    virsh_ok(
        s,
        &["detach-device", "us", port2.to_str().unwrap(), "--live"],
    );
    assert_eq!(qemu_devices_of(s, "us", "usb-serial"), ["serial1"]);
    let gone = "for t in $(seq 150); do [ ! -e /dev/ttyUSB1 ] && break; sleep 0.2; done";
    assert_eq!(g.value(gone, "ls /dev | grep -c ttyUSB"), "1");
    drop(g);
    virsh_ok(s, &["destroy", "us"]);
}

/// A console that makes a serial port of its own (no `<serial>` has its
/// port) is numbered after the ports, so while it is there no serial port
/// plugs in or out, by XML or by alias: refused by name, QEMU unchanged.
#[test]
fn a_consoles_own_port_keeps_the_serial_ports_as_they_are() {
    let dir = TestDir::new("lvserown");
    let _daemon = Daemon::start(&dir.path, &[]);
    let s = &lv_socket(&dir.path);
    let xml = firmware_vm("so").replace(
        "<memballoon",
        "<serial type='pty'><target type='pci-serial' port='0'/></serial>\
         <console type='pty'><target type='serial' port='1'/></console><memballoon",
    );
    virsh_define(s, &dir.path, "so.xml", &xml);
    virsh_ok(s, &["start", "so"]);
    let pci = write_file(
        &dir.path,
        "pci.xml",
        "<serial type='pty'><target type='pci-serial' port='2'/></serial>",
    );
    let e = virsh_err(s, &["attach-device", "so", pci.to_str().unwrap(), "--live"]);
    assert!(e.contains("has no <serial> of its own"), "{e}");
    let e = virsh_err(s, &["detach-device-alias", "so", "serial0", "--live"]);
    assert!(e.contains("has no <serial> of its own"), "{e}");
    assert_eq!(qemu_devices_of(s, "so", "pci-serial"), ["serial0"]);
    virsh_ok(s, &["destroy", "so"]);
}
