//! `dumpxml --migratable` through libvirt's protocol with unmodified
//! virsh 9.0 and python3-libvirt 9.0 against a `qvirtd --root DIR`: the
//! migratable XML leaves out what qvirt adds by itself (the default USB
//! controller and pci-root of an i440fx machine, the PS/2 keyboard, the
//! socket path it chose for a virtio channel) and keeps the rest; the
//! XML starts a second domain whose QEMU has the same USB controller
//! (`query-pci`). qvirt's own `dumpxml --migratable` says the same.

#[allow(dead_code, unused_imports)]
#[path = "daemon/support.rs"]
mod support;

#[path = "libvirt/lv.rs"]
mod lv;

use std::process::Command;

use lv::*;
use support::*;

/// The PCI devices QEMU's `query-pci` lists, as (slot, function, class).
fn pci_devices(s: &std::path::Path, dom: &str) -> Vec<(u64, u64, u64)> {
    let out = virsh_ok(
        s,
        &["qemu-monitor-command", dom, r#"{"execute":"query-pci"}"#],
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let mut found: Vec<(u64, u64, u64)> = v["return"][0]["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["slot"].as_u64().unwrap(),
                d["function"].as_u64().unwrap(),
                d["class_info"]["class"].as_u64().unwrap(),
            )
        })
        .collect();
    found.sort();
    found
}

#[test]
fn migratable_xml_drops_what_qvirt_adds_and_starts_the_same_machine() {
    let dir = TestDir::new("lvmigxml");
    let daemon = Daemon::start(&dir.path, &[]);
    let s = &lv_socket(&dir.path);
    let xml = firmware_vm("mx").replace(
        "<devices>",
        "<devices><controller type='usb' index='0' model='piix3-uhci'/>\
         <controller type='pci' index='0' model='pci-root'/>\
         <input type='keyboard' bus='ps2'/><input type='mouse' bus='ps2'/>\
         <channel type='unix'><source mode='bind'/>\
         <target type='virtio' name='org.qemu.guest_agent.0'/></channel>",
    );
    virsh_define(s, &dir.path, "mx.xml", &xml);
    virsh_ok(s, &["start", "mx"]);

    let full = virsh_ok(s, &["dumpxml", "mx"]);
    let run = run_dir_of(&dir.path, "mx");
    for part in [
        "<controller type='usb' index='0' model='piix3-uhci'",
        "<controller type='pci' index='0' model='pci-root'",
        "<input type='keyboard' bus='ps2'>",
        &format!("path='{}", run.display()),
    ] {
        assert!(full.contains(part), "{part} in {full}");
    }
    let mig = virsh_ok(s, &["dumpxml", "mx", "--migratable"]);
    for gone in [
        "<controller type='usb'",
        "<controller type='pci'",
        "<input type='keyboard'",
        &run.display().to_string(),
    ] {
        assert!(!mig.contains(gone), "{gone} in {mig}");
    }
    for kept in [
        "<input type='mouse' bus='ps2'>",
        "name='org.qemu.guest_agent.0'",
        "<name>mx</name>",
    ] {
        assert!(mig.contains(kept), "{kept} not in {mig}");
    }
    let inactive = virsh_ok(s, &["dumpxml", "mx", "--inactive", "--migratable"]);
    assert!(!inactive.contains("<controller type='usb'"), "{inactive}");

    // The migratable XML starts the same machine: QEMU has the same PCI
    // devices, the default USB controller among them.
    let uuid = virsh_ok(s, &["domuuid", "mx"]);
    let copy = mig
        .replace("<name>mx</name>", "<name>mx2</name>")
        .replace(uuid.trim(), "0b7c6f0e-3d1a-4c55-9a51-2f6a1d3c8e77");
    let file2 = write_file(&dir.path, "mx2.xml", &copy);
    virsh_ok(s, &["create", file2.to_str().unwrap()]);
    let want = pci_devices(s, "mx");
    assert!(
        want.iter().any(|(_, _, class)| *class == 0x0c03),
        "a USB controller: {want:?}"
    );
    assert_eq!(pci_devices(s, "mx2"), want);
    virsh_ok(s, &["destroy", "mx2"]);

    // python3-libvirt and qvirt's own dumpxml say the same.
    let script = "import libvirt, sys\n\
        d = libvirt.open(sys.argv[1]).lookupByName('mx')\n\
        sys.stdout.write(d.XMLDesc(libvirt.VIR_DOMAIN_XML_MIGRATABLE))\n";
    let out = Command::new(PYTHON)
        .args(["-c", script, &uri(s)])
        .output()
        .expect("run python3");
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), mig.trim());
    let out = Command::new(env!("CARGO_BIN_EXE_qvirt"))
        .args(["-c", &daemon.uri(), "dumpxml", "mx", "--migratable"])
        .output()
        .expect("run qvirt");
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), mig.trim());
    virsh_ok(s, &["destroy", "mx"]);
}
