//! Firmware in other shapes than Debian ships it: a qcow2 firmware and
//! variable store (`<loader format='qcow2'>`, `<nvram format
//! templateFormat>`), and a store named by its `<source>` (`<nvram
//! type='file|block'>`). OVMF is proven to run from them by what it does:
//! it reaches its shell on the serial port, and the variables it writes
//! at its first boot (`BootOrder`) are found in the store afterwards.

use std::path::{Path, PathBuf};

use qvirt::ErrorCode;
use serde_json::{Value, json};

use super::support::{BOOT, State, must, poll, qemu_img, qemus_under};

pub(crate) const CODE: &str = "/usr/share/OVMF/OVMF_CODE_4M.fd";
pub(crate) const VARS: &str = "/usr/share/OVMF/OVMF_VARS_4M.fd";

/// A UEFI domain on q35 with `os` after its `<type>`, its serial port
/// written to `serial`.
pub(crate) fn efi_vm(name: &str, os: &str, serial: &Path) -> String {
    format!(
        "<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>128</memory>
  <os>
    <type arch='x86_64' machine='q35'>hvm</type>
    {os}
  </os>
  <features><acpi/></features>
  <devices>
    <serial type='file'><source path='{}'/></serial>
    <memballoon model='none'/>
  </devices>
</domain>",
        serial.display()
    )
}

/// Whether `bytes` hold `name` as UEFI writes variable names (UTF-16LE).
pub(crate) fn has_variable(bytes: &[u8], name: &str) -> bool {
    let wide: Vec<u8> = name.encode_utf16().flat_map(u16::to_le_bytes).collect();
    bytes.windows(wide.len()).any(|w| w == wide)
}

/// Waits until OVMF has reached its boot manager on the serial port.
pub(crate) fn wait_for_shell(serial: &Path) {
    poll("OVMF's boot manager on the serial port", BOOT, || {
        let text = std::fs::read(serial).unwrap_or_default();
        String::from_utf8_lossy(&text)
            .contains("UEFI Interactive Shell")
            .then_some(())
    });
}

/// The block nodes QEMU has, by node name: (driver, file name).
pub(crate) fn nodes(st: &State, name: &str) -> Vec<(String, String, String)> {
    let mut qmp = st.qmp(name);
    let v = qmp.exec("query-named-block-nodes", json!({}));
    v.as_array()
        .expect("a list of nodes")
        .iter()
        .map(|n| {
            let s = |k: &str| n[k].as_str().unwrap_or_default().to_string();
            (s("node-name"), s("drv"), s("file"))
        })
        .collect()
}

pub(crate) fn node<'a>(
    all: &'a [(String, String, String)],
    name: &str,
) -> &'a (String, String, String) {
    all.iter()
        .find(|n| n.0 == name)
        .unwrap_or_else(|| panic!("no node {name} in {all:?}"))
}

/// The store converted to its raw bytes.
fn raw_bytes(st: &State, image: &Path, format: &str) -> Vec<u8> {
    let out: PathBuf = st.root().join("store.raw");
    let _ = std::fs::remove_file(&out);
    qemu_img(&[
        "convert",
        "-f",
        format,
        "-O",
        "raw",
        image.to_str().unwrap(),
        out.to_str().unwrap(),
    ]);
    std::fs::read(&out).unwrap()
}

#[test]
fn a_qcow2_firmware_and_store_boot() {
    let st = State::new("uefi-qcow2");
    let fw = st.root().join("fw");
    std::fs::create_dir_all(&fw).unwrap();
    let code = fw.join("CODE.qcow2");
    let vars = fw.join("VARS.qcow2");
    for (from, to) in [(CODE, &code), (VARS, &vars)] {
        qemu_img(&[
            "convert",
            "-f",
            "raw",
            "-O",
            "qcow2",
            from,
            to.to_str().unwrap(),
        ]);
    }
    assert!(
        !has_variable(&std::fs::read(VARS).unwrap(), "BootOrder"),
        "{VARS} already has a BootOrder: the proof below would prove nothing"
    );
    let store = st.root().join("q_VARS.qcow2");
    let serial = st.root().join("serial.log");
    let os = format!(
        "<loader readonly='yes' type='pflash' format='qcow2'>{}</loader>
    <nvram type='file' template='{}' templateFormat='qcow2' format='qcow2'><source file='{}'/></nvram>",
        code.display(),
        vars.display(),
        store.display()
    );
    st.start(&efi_vm("q", &os, &serial));
    // The store was made from the template, in its format.
    let info: Value = serde_json::from_str(&qemu_img(&[
        "info",
        "-U",
        "--output=json",
        store.to_str().unwrap(),
    ]))
    .unwrap();
    assert_eq!(info["format"], "qcow2", "{info}");
    let all = nodes(&st, "q");
    assert_eq!(node(&all, "pflash0-format").1, "qcow2");
    assert_eq!(node(&all, "pflash0-storage").2, code.to_str().unwrap());
    assert_eq!(node(&all, "pflash1-format").1, "qcow2");
    assert_eq!(node(&all, "pflash1-storage").2, store.to_str().unwrap());
    wait_for_shell(&serial);
    let live = st.live_xml("q");
    assert!(
        live.contains(&format!("<source file='{}'/>", store.display())),
        "{live}"
    );
    st.driver()
        .destroy(&st.driver().lookup_by_name("q").unwrap())
        .unwrap();
    assert!(
        has_variable(&raw_bytes(&st, &store, "qcow2"), "BootOrder"),
        "OVMF's variables did not reach the qcow2 store"
    );
    // A store to be made in another format than its template's is
    // refused before QEMU, and nothing is made.
    let other = st.root().join("m_VARS.qcow2");
    let os = format!(
        "<loader readonly='yes' type='pflash'>{CODE}</loader>
    <nvram template='{VARS}' templateFormat='raw' format='qcow2'>{}</nvram>",
        other.display()
    );
    let e = st
        .try_start(&efi_vm("m", &os, &st.root().join("m.log")))
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::ConfigUnsupported, "{}", e.message);
    assert!(
        e.message.contains("conversion of the nvram template"),
        "{}",
        e.message
    );
    assert!(!other.exists(), "a store was made");
    assert_eq!(qemus_under(st.root()).len(), 0, "a QEMU was left");
}

/// Detaches its loop device when dropped.
struct Loop(String);

impl Drop for Loop {
    fn drop(&mut self) {
        let _ = std::process::Command::new("losetup")
            .args(["-d", &self.0])
            .status();
    }
}

#[test]
fn a_store_on_a_block_device() {
    assert!(
        nix::unistd::Uid::effective().is_root(),
        "this test needs root (a loop device)"
    );
    let st = State::new("uefi-block");
    let backing = st.root().join("vars.img");
    std::fs::copy(VARS, &backing).unwrap();
    let dev = must(std::process::Command::new("losetup").args([
        "--find",
        "--show",
        backing.to_str().unwrap(),
    ]));
    let dev = Loop(dev.trim().to_string());
    let serial = st.root().join("serial.log");
    let os = format!(
        "<loader readonly='yes' type='pflash' format='raw'>{CODE}</loader>
    <nvram type='block' format='raw'><source dev='{}'/></nvram>",
        dev.0
    );
    st.start(&efi_vm("b", &os, &serial));
    let all = nodes(&st, "b");
    let store = node(&all, "pflash1-storage");
    assert_eq!(
        (store.1.as_str(), store.2.as_str()),
        ("host_device", dev.0.as_str())
    );
    assert!(!all.iter().any(|n| n.0 == "pflash1-format"), "{all:?}");
    wait_for_shell(&serial);
    st.driver()
        .destroy(&st.driver().lookup_by_name("b").unwrap())
        .unwrap();
    must(&mut std::process::Command::new("sync"));
    assert!(
        has_variable(&std::fs::read(&backing).unwrap(), "BootOrder"),
        "OVMF's variables did not reach the block device"
    );
}

#[test]
fn a_firmware_selection_holds_to_the_format_asked() {
    let st = State::new("uefi-fmt");
    let xml = |format: &str| {
        format!(
            "<domain type='qemu'>
  <name>s</name>
  <memory unit='MiB'>64</memory>
  <os firmware='efi'>
    <type arch='x86_64' machine='q35'>hvm</type>
    <loader format='{format}'/>
  </os>
  <features><acpi/></features>
  <devices><memballoon model='none'/></devices>
</domain>"
        )
    };
    // Debian's descriptors describe raw images only.
    let e = st.try_start(&xml("qcow2")).unwrap_err();
    assert_eq!(e.code, ErrorCode::NoSupport, "{}", e.message);
    assert!(
        e.message.contains("its executable is raw, not qcow2"),
        "{}",
        e.message
    );
    assert_eq!(qemus_under(st.root()).len(), 0);
    let d = st.driver();
    d.undefine_flags(
        &d.lookup_by_name("s").unwrap(),
        qvirt::driver::UndefineFlags {
            nvram: true,
            ..Default::default()
        },
    )
    .unwrap();
    st.start(&xml("raw"));
    let live = qvirt::DomainDef::from_xml(&st.live_xml("s")).unwrap();
    let loader = live.os.loader.unwrap();
    assert!(
        loader
            .path
            .is_some_and(|p| p.starts_with("/usr/share/OVMF/"))
    );
    assert_eq!(loader.format, Some(qvirt::model::FirmwareFormat::Raw));
}
