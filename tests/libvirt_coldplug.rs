//! `attach-device --config` and `detach-device --config` for the device
//! types libvirt changes in a definition besides disks and interfaces,
//! with unmodified virsh 9.0 and python3-libvirt 9.0 (Debian's) against
//! a `qvirtd --root DIR`: each device joins the definition (a controller
//! without an index and a serial port without a port get the next free
//! one; a memory module adds to the memory), the next start makes it (QEMU
//! has the device), libvirt's refusals of a device already there, of
//! device types never attached, and of a running domain's live change
//! (nothing changed), but for a memory module, which plugs in live; a detach finds the device as libvirt finds it, and
//! the next start no longer has it. `domif-setlink` (virsh's
//! update-device of an interface) takes the running Linux guest's link
//! down and up again, and with `--config` the definition's.

#[allow(dead_code, unused_imports)]
#[path = "daemon/support.rs"]
mod support;

#[path = "libvirt/lv.rs"]
mod lv;

#[path = "libvirt/guest_shell.rs"]
mod guest_shell;

use std::path::Path;
use std::time::Duration;

use lv::*;
use support::*;

const BOOT: Duration = Duration::from_secs(180);
const QUICK: Duration = Duration::from_secs(30);

/// The devices attached, each with the file name it is written to and
/// the QEMU device type (QOM) a start makes of it.
const DEVICES: &[(&str, &str, &str)] = &[
    (
        "rng",
        "<rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>",
        "virtio-rng-pci",
    ),
    (
        "tablet",
        "<input type='tablet' bus='virtio'/>",
        "virtio-tablet-pci",
    ),
    (
        "watchdog",
        "<watchdog model='i6300esb' action='reset'/>",
        "i6300esb",
    ),
    (
        "scsi",
        "<controller type='scsi' model='virtio-scsi'/>",
        "virtio-scsi-pci",
    ),
    (
        "agent",
        "<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>",
        "virtserialport",
    ),
    (
        "serial",
        "<serial type='pty'><target type='isa-serial'/></serial>",
        "isa-serial",
    ),
    (
        "bridge",
        "<controller type='pci' model='pci-bridge'/>",
        "pci-bridge",
    ),
    (
        "dimm",
        "<memory model='dimm'><target><size unit='MiB'>128</size><node>0</node></target></memory>",
        "pc-dimm",
    ),
];

/// The firmware-only VM with room for memory modules (which need
/// ACPI) and one serial port.
fn vm() -> String {
    firmware_vm("cp")
        .replace(
            "<memory unit='MiB'>32</memory>",
            "<maxMemory slots='2' unit='MiB'>512</maxMemory><memory unit='MiB'>32</memory>",
        )
        .replace(
            "<os>",
            "<cpu><numa><cell id='0' cpus='0' memory='32' unit='MiB'/></numa></cpu><os>",
        )
        .replace("</os>", "</os><features><acpi/></features>")
        .replace(
            "<memballoon",
            "<serial type='pty'><target type='isa-serial' port='0'/></serial><memballoon",
        )
}

/// The QOM types of QEMU's devices (named and anonymous).
fn qemu_devices(s: &Path, dom: &str) -> Vec<String> {
    let mut types = Vec::new();
    for path in ["/machine/peripheral", "/machine/peripheral-anon"] {
        let cmd = format!(r#"{{"execute":"qom-list","arguments":{{"path":"{path}"}}}}"#);
        let out = virsh_ok(s, &["qemu-monitor-command", dom, &cmd]);
        let v: serde_json::Value = serde_json::from_str(out.trim()).expect("qom-list's JSON");
        for p in v["return"].as_array().expect("properties") {
            if let Some(t) = p["type"].as_str().and_then(|t| t.strip_prefix("child<")) {
                types.push(t.trim_end_matches('>').to_string());
            }
        }
    }
    types
}

/// The `<memory unit='KiB'>` of a domain's XML.
fn memory_kib(xml: &str) -> u64 {
    let doc = roxmltree::Document::parse(xml).unwrap();
    let m = doc
        .root_element()
        .children()
        .find(|n| n.has_tag_name("memory"))
        .expect("<memory>");
    assert_eq!(m.attribute("unit"), Some("KiB"));
    m.text().unwrap().trim().parse().unwrap()
}

#[test]
fn devices_attach_and_detach_in_the_definition_and_the_next_start_has_them() {
    let dir = TestDir::new("lvcoldplug");
    let _daemon = Daemon::start(&dir.path, &[]);
    let s = &lv_socket(&dir.path);
    virsh_define(s, &dir.path, "cp.xml", &vm());
    let before = virsh_ok(s, &["dumpxml", "cp", "--inactive"]);
    let files: Vec<String> = DEVICES
        .iter()
        .map(|(name, xml, _)| {
            write_file(&dir.path, &format!("{name}.xml"), xml)
                .display()
                .to_string()
        })
        .collect();
    for f in &files {
        assert_eq!(
            virsh_ok(s, &["attach-device", "cp", f, "--config"]),
            "Device attached successfully\n\n"
        );
    }
    let kept = virsh_ok(s, &["dumpxml", "cp", "--inactive"]);
    for needle in [
        "<rng model='virtio'>",
        "<input type='tablet' bus='virtio'/>",
        "<watchdog model='i6300esb' action='reset'/>",
        "<controller type='scsi' index='0' model='virtio-scsi'/>",
        // Index 0 is the machine's PCI root.
        "<controller type='pci' index='1' model='pci-bridge'/>",
        "name='org.qemu.guest_agent.0'",
        "<target type='isa-serial' port='1'/>",
        "<memory model='dimm'>",
    ] {
        assert!(kept.contains(needle), "{needle} in {kept}");
    }
    // The module's 128 MiB joined the memory, as libvirt counts it.
    assert_eq!(memory_kib(&kept), memory_kib(&before) + 128 * 1024);

    // libvirt's refusals; none changes the definition.
    let refusals = [
        ("watchdog", "domain already has a watchdog"),
        ("agent", "chardev already exists"),
    ];
    for (name, message) in refusals {
        let f = dir.path.join(format!("{name}.xml"));
        let e = virsh_err(s, &["attach-device", "cp", f.to_str().unwrap(), "--config"]);
        assert!(e.contains(message), "{e}");
    }
    let scsi0 = write_file(
        &dir.path,
        "scsi0.xml",
        "<controller type='scsi' index='0' model='virtio-scsi'/>",
    );
    let e = virsh_err(
        s,
        &["attach-device", "cp", scsi0.to_str().unwrap(), "--config"],
    );
    assert!(e.contains("controller index='0' already exists"), "{e}");
    let video = write_file(&dir.path, "video.xml", "<video><model type='vga'/></video>");
    let e = virsh_err(
        s,
        &["attach-device", "cp", video.to_str().unwrap(), "--config"],
    );
    assert!(e.contains("device 'video' is not supported"), "{e}");
    // A third memory module finds no slot (two were allowed).
    let dimm = &files[DEVICES.len() - 1];
    virsh_ok(s, &["attach-device", "cp", dimm, "--config"]);
    let e = virsh_err(s, &["attach-device", "cp", dimm, "--config"]);
    assert!(e.contains("no free memory device slot available"), "{e}");
    virsh_ok(s, &["detach-device", "cp", dimm, "--config"]);
    assert_eq!(virsh_ok(s, &["dumpxml", "cp", "--inactive"]), kept);

    // The next start makes every device.
    virsh_ok(s, &["start", "cp"]);
    let made = qemu_devices(s, "cp");
    for (_, _, qom) in DEVICES {
        assert!(made.iter().any(|t| t == qom), "{qom} in {made:?}");
    }
    // A memory module plugs into the running domain too, on the second
    // slot; the live memory counts it, the definition does not change.
    assert_eq!(
        virsh_ok(s, &["attach-device", "cp", dimm, "--live"]),
        "Device attached successfully\n\n"
    );
    let live = virsh_ok(s, &["dumpxml", "cp"]);
    assert_eq!(memory_kib(&live), memory_kib(&kept) + 128 * 1024, "{live}");
    let dimms = qemu_devices(s, "cp");
    assert_eq!(
        dimms.iter().filter(|t| *t == "pc-dimm").count(),
        2,
        "{dimms:?}"
    );
    // Live, an ISA serial port is refused by name, and nothing changes
    // (rngs, inputs, watchdogs, SCSI controllers, PCI and USB serial
    // ports plug in: tests/libvirt_rng.rs, tests/libvirt_hotplug_*.rs).
    let e = virsh_err(s, &["attach-device", "cp", &files[5]]);
    assert!(
        e.contains("target type 'isa-serial' cannot be hot plugged"),
        "{e}"
    );
    let e = virsh_err(s, &["detach-device", "cp", &files[5], "--persistent"]);
    assert!(
        e.contains("target type 'isa-serial' cannot be hot plugged"),
        "{e}"
    );
    assert_eq!(virsh_ok(s, &["dumpxml", "cp", "--inactive"]), kept);
    // --config while it runs changes the definition only.
    virsh_ok(s, &["detach-device", "cp", &files[2], "--config"]);
    assert!(virsh_ok(s, &["dumpxml", "cp"]).contains("<watchdog"));
    assert!(!virsh_ok(s, &["dumpxml", "cp", "--inactive"]).contains("<watchdog"));
    virsh_ok(s, &["destroy", "cp"]);

    // Each detach finds its device; the serial port without a port is
    // one of two of its source and type, so it needs the port it got.
    let e = virsh_err(s, &["detach-device", "cp", &files[5], "--config"]);
    assert!(e.contains("name one by its <target port=...>"), "{e}");
    let serial1 = write_file(
        &dir.path,
        "serial1.xml",
        "<serial type='pty'><target type='isa-serial' port='1'/></serial>",
    );
    virsh_ok(
        s,
        &["detach-device", "cp", serial1.to_str().unwrap(), "--config"],
    );
    // A controller is found by its index, which the bridge was given.
    let e = virsh_err(s, &["detach-device", "cp", &files[6], "--config"]);
    assert!(e.contains("name the controller by its index"), "{e}");
    let bridge1 = write_file(
        &dir.path,
        "bridge1.xml",
        "<controller type='pci' index='1' model='pci-bridge'/>",
    );
    virsh_ok(
        s,
        &["detach-device", "cp", bridge1.to_str().unwrap(), "--config"],
    );
    // The definition is the first one again.
    for f in files.iter().filter(|f| {
        !f.ends_with("watchdog.xml") && !f.ends_with("serial.xml") && !f.ends_with("bridge.xml")
    }) {
        assert_eq!(
            virsh_ok(s, &["detach-device", "cp", f, "--config"]),
            "Device detached successfully\n\n"
        );
    }
    assert_eq!(virsh_ok(s, &["dumpxml", "cp", "--inactive"]), before);
    let e = virsh_err(s, &["detach-device", "cp", &files[0], "--config"]);
    assert!(e.contains("no matching RNG device was found"), "{e}");
    let e = virsh_err(s, &["detach-device", "cp", &files[2], "--config"]);
    assert!(e.contains("domain has no watchdog"), "{e}");

    // python3-libvirt's attachDeviceFlags / detachDeviceFlags with
    // VIR_DOMAIN_AFFECT_CONFIG.
    let out = python(
        s,
        "cp",
        "xml = \"<input type='keyboard' bus='usb'/>\"\n\
         dom.attachDeviceFlags(xml, libvirt.VIR_DOMAIN_AFFECT_CONFIG)\n\
         print(\"<input type='keyboard' bus='usb'\" in dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))\n\
         dom.detachDeviceFlags(xml, libvirt.VIR_DOMAIN_AFFECT_CONFIG)\n\
         print(\"<input type='keyboard' bus='usb'\" in dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))\n",
    );
    assert_eq!(out, "True\nFalse");
    virsh_ok(s, &["undefine", "cp"]);
}

/// The guest's carrier on the NIC with MAC address `mac` (brought up
/// first), once it reads `want` or after a while.
fn carrier(g: &mut guest_shell::Guest, mac: &str, want: u8) -> String {
    g.run(&format!(
        "n=$(grep -l {mac} /sys/class/net/eth*/address); n=${{n%/address}}; \
         ip link set ${{n##*/}} up; \
         for t in $(seq 100); do [ \"$(cat $n/carrier)\" = {want} ] && break; sleep 0.1; done; \
         cat $n/carrier"
    ))
}

#[test]
fn domif_setlink_takes_the_guests_link_down_and_up() {
    let dir = TestDir::new("lvsetlink");
    let daemon = Daemon::start(&dir.path, &[]);
    let s = &lv_socket(&dir.path);
    let mac = "52:54:00:ab:cd:01";
    let xml = linux_vm("lk").replace(
        "<memballoon",
        &format!("<interface type='user'><mac address='{mac}'/><model type='virtio'/></interface><memballoon"),
    );
    virsh_define(s, &dir.path, "lk.xml", &xml);
    virsh_ok(s, &["start", "lk"]);
    let qvirt = daemon.connect();
    let dom = qvirt.lookup_by_name("lk").unwrap();
    let mut g = guest_shell::Guest::open(&*qvirt, &dom);
    assert_eq!(carrier(&mut g, mac, 1), "1");
    assert_eq!(
        virsh_ok(s, &["domif-setlink", "lk", mac, "down"]),
        "Device updated successfully\n\n"
    );
    assert_eq!(carrier(&mut g, mac, 0), "0", "the guest lost its link");
    assert_eq!(
        virsh_ok(s, &["domif-getlink", "lk", mac]),
        format!("{mac} down\n")
    );
    assert!(virsh_ok(s, &["dumpxml", "lk"]).contains("<link state='down'/>"));
    // Live only: the definition keeps its link.
    assert!(!virsh_ok(s, &["dumpxml", "lk", "--inactive"]).contains("<link state="));
    virsh_ok(s, &["domif-setlink", "lk", mac, "up"]);
    assert_eq!(carrier(&mut g, mac, 1), "1", "the guest's link is back");
    // --config: the next start has the link down.
    virsh_ok(s, &["domif-setlink", "lk", mac, "down", "--config"]);
    assert!(virsh_ok(s, &["dumpxml", "lk", "--inactive"]).contains("<link state='down'/>"));
    assert_eq!(
        carrier(&mut g, mac, 1),
        "1",
        "the running guest's link stays"
    );
    // An update that changes more than the link is refused by name.
    let other = write_file(
        &dir.path,
        "model.xml",
        &format!("<interface type='user'><mac address='{mac}'/><model type='e1000'/></interface>"),
    );
    let e = virsh_err(s, &["update-device", "lk", other.to_str().unwrap()]);
    assert!(e.contains("changes its model"), "{e}");
    drop(g);
    virsh_ok(s, &["destroy", "lk"]);
    virsh_ok(s, &["start", "lk"]);
    let mut g = guest_shell::Guest::open(&*qvirt, &dom);
    assert_eq!(carrier(&mut g, mac, 0), "0", "started with its link down");
    drop(g);
    virsh_ok(s, &["destroy", "lk"]);
}
