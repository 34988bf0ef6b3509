//! The domain capabilities document, as libvirt's clients read it:
//! `virsh domcapabilities` (Debian's libvirt-clients 9.0) on qvirtd's
//! libvirt socket and qvirt's own client on the same daemon say the same
//! thing, built from the emulator and the firmware descriptors installed
//! (Debian's ovmf); and virt-install (virtinst 4.1), which reads it to
//! find UEFI, makes a VM with `--boot uefi` that runs OVMF.

#[allow(dead_code, unused_imports)]
#[path = "daemon/support.rs"]
mod support;

#[path = "libvirt/lv.rs"]
mod lv;

use std::process::Command;

use lv::*;
use qvirt::driver::{DomainCapsQuery, DomainState, XmlFlags};
use support::*;

/// The text of every `<value>` under the `<enum name=NAME>` that is a
/// child of `parent` (a path of element names from the root).
fn enum_values(doc: &roxmltree::Document<'_>, parent: &[&str], name: &str) -> Vec<String> {
    let mut node = doc.root_element();
    for step in parent {
        node = node
            .children()
            .find(|c| c.has_tag_name(*step))
            .unwrap_or_else(|| panic!("no <{step}> in the document"));
    }
    node.children()
        .find(|c| c.has_tag_name("enum") && c.attribute("name") == Some(name))
        .map(|e| {
            e.children()
                .filter(|v| v.has_tag_name("value"))
                .filter_map(|v| v.text())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn text_of(doc: &roxmltree::Document<'_>, tag: &str) -> String {
    doc.root_element()
        .children()
        .find(|c| c.has_tag_name(tag))
        .and_then(|c| c.text())
        .unwrap_or_default()
        .to_string()
}

#[test]
fn domcapabilities_describe_what_a_definition_may_ask_for() {
    let dir = TestDir::new("lvdcaps");
    let daemon = Daemon::start(&dir.path, &[]);
    let socket = lv_socket(&dir.path);
    let qvirt = daemon.connect();

    let xml = virsh_ok(&socket, &["domcapabilities", "--virttype", "qemu"]);
    let doc = roxmltree::Document::parse(&xml).unwrap();
    assert_eq!(doc.root_element().tag_name().name(), "domainCapabilities");
    assert_eq!(text_of(&doc, "domain"), "qemu");
    assert_eq!(text_of(&doc, "arch"), "x86_64");
    assert!(text_of(&doc, "machine").starts_with("pc-i440fx-"), "{xml}");
    // Debian's ovmf installs firmware descriptors: UEFI is offered, with
    // OVMF's code as a loader.
    assert_eq!(enum_values(&doc, &["os"], "firmware"), ["bios", "efi"]);
    let loaders: Vec<String> = doc
        .descendants()
        .find(|n| n.has_tag_name("loader"))
        .unwrap()
        .children()
        .filter(|c| c.has_tag_name("value"))
        .filter_map(|c| c.text().map(str::to_string))
        .collect();
    assert!(
        loaders
            .iter()
            .any(|l| l.contains("OVMF") && std::path::Path::new(l).exists()),
        "{loaders:?}"
    );
    // Emulation: no host-passthrough, named models with what TCG runs.
    let mode = |name: &str| {
        doc.descendants()
            .find(|n| n.has_tag_name("mode") && n.attribute("name") == Some(name))
            .unwrap_or_else(|| panic!("no CPU mode {name}"))
    };
    assert_eq!(mode("host-passthrough").attribute("supported"), Some("no"));
    assert_eq!(mode("maximum").attribute("supported"), Some("yes"));
    let qemu64 = mode("custom")
        .children()
        .find(|m| m.text() == Some("qemu64"))
        .expect("qemu64 is listed");
    assert_eq!(qemu64.attribute("usable"), Some("yes"));
    assert!(enum_values(&doc, &["devices", "disk"], "bus").contains(&"virtio".to_string()));
    assert!(
        enum_values(&doc, &["devices", "filesystem"], "driverType")
            .contains(&"virtiofs".to_string())
    );
    assert!(
        enum_values(&doc, &["devices", "tpm"], "backendModel").contains(&"emulator".to_string())
    );

    // q35: its versioned name and limit; OVMF's secure boot build fits it.
    let q35 = virsh_ok(
        &socket,
        &["domcapabilities", "--virttype", "qemu", "--machine", "q35"],
    );
    let q = roxmltree::Document::parse(&q35).unwrap();
    assert!(text_of(&q, "machine").starts_with("pc-q35-"), "{q35}");
    assert!(q35.contains("<vcpu max='288'/>"), "{q35}");
    assert!(
        enum_values(&q, &["os", "loader"], "secure").contains(&"yes".to_string()),
        "{q35}"
    );

    // qvirt's own client on the same daemon gets the same document.
    let query = DomainCapsQuery::new(None, None, Some("q35".into()), Some("qemu".into()));
    assert_eq!(
        qvirt.domain_capabilities(&query).unwrap().trim(),
        q35.trim()
    );
    let err = virsh_err(&socket, &["domcapabilities", "--virttype", "xen"]);
    assert!(err.contains("xen"), "{err}");
    let err = virsh_err(&socket, &["domcapabilities", "--machine", "nosuch"]);
    assert!(err.contains("nosuch"), "{err}");
}

#[test]
fn virt_install_boot_uefi_runs_ovmf() {
    let dir = TestDir::new("lvuefi");
    let daemon = Daemon::start(&dir.path, &[]);
    let qvirt = daemon.connect();
    // Under /dev/shm: virt-install makes no pool of a directory there.
    let disk =
        std::path::PathBuf::from(format!("/dev/shm/qvirt-uefi-{}.qcow2", std::process::id()));
    struct Gone(std::path::PathBuf);
    impl Drop for Gone {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }
    let _gone = Gone(disk.clone());
    let made = Command::new("qemu-img")
        .args(["create", "-q", "-f", "qcow2"])
        .arg(&disk)
        .arg("64M")
        .output()
        .unwrap();
    assert!(made.status.success(), "{made:?}");
    let disk_arg = format!("path={},format=qcow2", disk.display());
    virt_install_ok(
        &lv_socket(&dir.path),
        &["--name", "ue", "--disk", &disk_arg, "--boot", "uefi"],
        &[],
    );
    let dom = qvirt.lookup_by_name("ue").unwrap();
    assert_eq!(qvirt.info(&dom).unwrap().state, DomainState::Running);
    let live = qvirt.xml_desc(&dom, XmlFlags::NONE).unwrap();
    let def = qvirt::DomainDef::from_xml(&live).unwrap();
    let loader = def
        .os
        .loader
        .as_ref()
        .and_then(|l| l.path.clone())
        .unwrap_or_else(|| panic!("no UEFI loader in {live}"));
    assert!(loader.contains("OVMF"), "{live}");
    // QEMU runs that firmware: its code is a pflash drive, and the
    // variable store was made from the template.
    let pid = qemu_pid(&dir.path, "ue");
    let argv = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap();
    let argv = String::from_utf8_lossy(&argv).replace('\0', " ");
    assert!(argv.contains(&loader), "{argv}");
    let nvram = def
        .os
        .nvram
        .as_ref()
        .and_then(|n| n.path.clone())
        .unwrap_or_else(|| panic!("no NVRAM in {live}"));
    assert!(std::path::Path::new(&nvram).exists(), "{nvram}");
    virsh_ok(&lv_socket(&dir.path), &["destroy", "ue"]);
}
