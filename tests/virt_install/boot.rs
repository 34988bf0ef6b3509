//! A spread of the virt-install corpus runs: the first case of each
//! option family and a few default OS setups are defined in an embedded
//! driver, started under real QEMU, seen `running`, and destroyed.
//!
//! virt-install wrote them on a KVM host. The project's tests boot guests
//! under TCG (a KVM device that opens may still not run a guest, as in a
//! nested VM), so the test switches them to `type='qemu'` and drops a
//! `host-passthrough` CPU, which only KVM can give, and says so. It also
//! points disks and install media at scratch files of the same format
//! (the corpus names paths that do not exist here) and caps memory at
//! 1 GiB; nothing else is changed. A case TCG cannot run must be refused
//! before QEMU starts, naming why.

use std::path::Path;
use std::process::Command;

use qvirt::ErrorCode;
use qvirt::driver::{DomainState, UndefineFlags};
use qvirt::model::{CpuMode, DiskDevice, DiskFormat, DomainDef, VirtType};

use super::corpus_dir;

/// Default setups of a few operating systems, beside one case per family.
const OS_CASES: &[&str] = &[
    "os-ubuntu22.04",
    "os-win11",
    "os-generic",
    "os-freebsd13.1",
    "os-winxp",
    "os-fedora37",
];

/// Cases TCG cannot run as written, which must be refused before QEMU
/// starts, naming why.
const TCG_REFUSED: &[&str] = &["cpu-skylake-client-ubuntu"];

/// The OS suffixes the families rotate through, so the sample spreads
/// over machine types, buses and firmware.
const SUFFIXES: &[&str] = &[
    "-ubuntu", "-win10", "-generic", "-win11", "-freebsd", "-winxp", "-fedora",
];

/// The cases: one per option family (the i-th family prefers the i-th OS
/// suffix, cycling), then [`OS_CASES`] and [`TCG_REFUSED`].
fn cases() -> Vec<String> {
    let manifest = std::fs::read_to_string(corpus_dir().join("manifest.tsv")).unwrap();
    let mut families: Vec<(String, Vec<String>)> = Vec::new();
    for line in manifest.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (name, family, outcome) = (cols[0], cols[2], cols[5]);
        // A bridge needs a host bridge, which the network tests make in
        // their own namespaces.
        if family == "os" || outcome != "defined" || name.contains("bridge") {
            continue;
        }
        match families.iter_mut().find(|(f, _)| f == family) {
            Some((_, names)) => names.push(name.to_string()),
            None => families.push((family.to_string(), vec![name.to_string()])),
        }
    }
    let mut out: Vec<String> = families
        .iter()
        .enumerate()
        .map(|(i, (_, names))| {
            let want = SUFFIXES[i % SUFFIXES.len()];
            names
                .iter()
                .find(|n| n.ends_with(want) || n.contains(&format!("{want}1")))
                .unwrap_or(&names[0])
                .clone()
        })
        .collect();
    out.extend(OS_CASES.iter().map(|s| s.to_string()));
    out.extend(TCG_REFUSED.iter().map(|s| s.to_string()));
    out
}

/// Makes `def` runnable here: TCG, scratch disks.
pub fn adapt(def: &mut DomainDef, scratch: &Path) -> Vec<String> {
    let mut said = Vec::new();
    if def.virt_type == VirtType::Kvm {
        def.virt_type = VirtType::Qemu;
        said.push("type kvm -> qemu (tests run TCG)".to_string());
        if def
            .cpu
            .as_ref()
            .is_some_and(|c| c.mode == CpuMode::HostPassthrough)
        {
            def.cpu = None;
            said.push("host-passthrough CPU dropped".to_string());
        }
    }
    const CAP_KIB: u64 = 1024 * 1024;
    if def.memory_kib > CAP_KIB {
        def.memory_kib = CAP_KIB;
        def.current_memory_kib = def.current_memory_kib.map(|c| c.min(CAP_KIB / 2));
        said.push("memory capped at 1 GiB".to_string());
    }
    for (i, d) in def.devices.disks.iter_mut().enumerate() {
        let Some(_) = &d.source else { continue };
        let (ext, qcow2) = match (d.device, d.format) {
            (DiskDevice::Cdrom, _) => ("iso", false),
            (_, Some(DiskFormat::Qcow2)) => ("qcow2", true),
            _ => ("img", false),
        };
        let file = scratch.join(format!("{}-{i}.{ext}", def.name));
        if qcow2 {
            let ok = Command::new("qemu-img")
                .args(["create", "-q", "-f", "qcow2"])
                .arg(&file)
                .arg("64M")
                .status()
                .expect("qemu-img runs (Debian package qemu-utils)");
            assert!(ok.success());
        } else {
            std::fs::File::create(&file)
                .unwrap()
                .set_len(1 << 20)
                .unwrap();
        }
        d.source = Some(file.to_string_lossy().into_owned());
        d.kind = qvirt::model::DiskType::File;
    }
    if !said.is_empty() {
        eprintln!("{}: {}", def.name, said.join(", "));
    }
    said
}

#[test]
fn a_spread_of_the_corpus_runs() {
    let cases = cases();
    assert!(cases.len() >= 30, "only {} cases", cases.len());
    let root = std::env::temp_dir().join(format!("qvirt-vi-boot-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let scratch = root.join("disks");
    std::fs::create_dir_all(&scratch).unwrap();
    let driver = qvirt::connect(&format!(
        "qemu:///embed?root={}",
        root.join("state").display()
    ))
    .expect("an embedded driver opens");
    let mut failures = Vec::new();
    let (mut ran, mut refused) = (0, 0);
    for name in &cases {
        let path = corpus_dir().join(format!("{name}.xml"));
        let mut def = DomainDef::from_xml(&std::fs::read_to_string(&path).unwrap())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        adapt(&mut def, &scratch);
        let dom = match driver.define_xml(&def.to_xml()) {
            Ok(d) => d,
            Err(e) => {
                failures.push(format!("{name}: define: {e}"));
                continue;
            }
        };
        match driver.start(&dom) {
            Ok(dom) => {
                let info = driver.info(&dom).unwrap();
                if info.state == DomainState::Running {
                    ran += 1;
                } else {
                    failures.push(format!("{name}: {:?} after start", info.state));
                }
                if let Err(e) = driver.destroy(&dom) {
                    failures.push(format!("{name}: destroy: {e}"));
                }
            }
            // What emulation cannot give is refused before QEMU starts.
            Err(e)
                if TCG_REFUSED.contains(&name.as_str())
                    && e.code == ErrorCode::ConfigUnsupported
                    && e.message.contains("TCG") =>
            {
                eprintln!("{name}: refused under TCG: {}", e.message);
                refused += 1;
            }
            Err(e) => failures.push(format!("{name}: start: {}: {}", e.code.name(), e.message)),
        }
        let flags = UndefineFlags {
            nvram: true,
            ..UndefineFlags::default()
        };
        if let Err(e) = driver.undefine_flags(&dom, flags) {
            failures.push(format!("{name}: undefine: {e}"));
        }
    }
    drop(driver);
    let _ = std::fs::remove_dir_all(&root);
    eprintln!(
        "virt-install sample: {} cases, {ran} ran, {refused} refused under TCG",
        cases.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(ran + refused, cases.len());
    assert_eq!(refused, TCG_REFUSED.len(), "what TCG cannot run is refused");
}
