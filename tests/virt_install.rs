//! The domain XML virt-install 4.1 writes (`tests/data/virt-install`):
//! every file is accepted, its QEMU command line is the golden one in
//! `tests/data/argv/virt-install/`, it reads back identically once
//! written, and what qvirt writes is valid against libvirt's schema.
//! What libvirt 9.0 refuses (`rejected/`) is refused too, with the
//! exceptions listed below.
//!
//! The corpus is found at `tests/data/virt-install` or
//! `$QVIRT_VIRT_INSTALL_DIR`. `QVIRT_REGENERATE_GOLDEN=1` rewrites the
//! golden command lines; review the diff before committing it.
//!
//! A second test starts a spread of them under QEMU and sees each reach
//! `running`: see `virt_install/boot.rs`; a third boots the Linux test
//! guest in virt-manager's setup: see `virt_install/vm_style.rs`.

#[path = "virt_install/boot.rs"]
mod boot;
#[path = "virt_install/vm_style.rs"]
mod vm_style;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use qvirt::DomainDef;
use qvirt::qemu::argv::{RuntimePaths, build_argv};
use qvirt::qemu::caps::QemuCaps;
use qvirt::qemu::firmware::{self, Descriptor};

/// Files libvirt 9.0 refuses that qvirt accepts, and why.
const ACCEPTED_DESPITE_LIBVIRT: &[(&str, &str)] = &[
    (
        "watchdog-itco-poweroff-win10",
        "the itco watchdog (the iTCO timer of Q35's ICH9) came with libvirt 9.1; qvirt follows the newer libvirt",
    ),
    (
        "watchdog-itco-reset-ubuntu",
        "the itco watchdog came with libvirt 9.1; qvirt follows the newer libvirt",
    ),
];

/// The corpus folder.
pub fn corpus_dir() -> PathBuf {
    let dir = std::env::var_os("QVIRT_VIRT_INSTALL_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/virt-install"));
    assert!(
        dir.join("manifest.tsv").is_file(),
        "the virt-install corpus is missing at {} (set QVIRT_VIRT_INSTALL_DIR)",
        dir.display()
    );
    dir
}

/// The firmware descriptors of Debian's ovmf, as the tests use them.
pub fn descriptors() -> Vec<Descriptor> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/argv/firmware");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| firmware::parse(p, &std::fs::read_to_string(p).unwrap()).expect("a descriptor"))
        .collect()
}

/// The capabilities the goldens assume: QEMU 7.2 with KVM, as on the host
/// virt-install ran on.
fn caps() -> QemuCaps {
    let mut caps = QemuCaps::assumed("/usr/bin/qemu-system-x86_64");
    caps.kvm = true;
    caps
}

/// The definition as a start prepares it (firmware resolved) and its
/// command line.
fn build(xml: &str, descriptors: &[Descriptor]) -> Result<(DomainDef, Vec<String>), String> {
    let def = DomainDef::from_xml(xml).map_err(|e| format!("refused: {e}"))?;
    let mut run = def.clone();
    // The taps a start creates, named as the preview names them.
    qvirt::driver::local::tuning::preview_taps(&mut run);
    let caps = caps();
    let machine = caps.canonical_machine(run.os.machine.as_deref().unwrap_or("pc"));
    let paths = RuntimePaths::for_test(&format!("/run/qvirt-test/{}", run.name));
    let nvram_dir = Path::new("/var/lib/qvirt-test/nvram");
    firmware::resolve(&mut run, &machine, descriptors, nvram_dir, &[])
        .map_err(|e| format!("firmware: {}: {}", e.code.name(), e.message))?;
    let argv = build_argv(&run, &caps, &paths)
        .map_err(|e| format!("command line: {}: {}", e.code.name(), e.message))?;
    Ok((
        def,
        argv.into_iter()
            .map(|a| a.into_string().expect("UTF-8"))
            .collect(),
    ))
}

/// The XML files of a subfolder (`""` for the top level).
fn files(sub: &str) -> Vec<PathBuf> {
    let dir = corpus_dir().join(sub);
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "xml"))
        .collect();
    out.sort();
    out
}

fn xmllint(files: &[PathBuf]) -> Result<(), String> {
    let shared = std::env::var_os("QVIRT_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"));
    let rng = shared.join("schemas/libvirt/domain.rng");
    for chunk in files.chunks(200) {
        let out = Command::new("xmllint")
            .arg("--noout")
            .arg("--relaxng")
            .arg(&rng)
            .args(chunk)
            .output()
            .map_err(|e| format!("cannot run xmllint ({e}): install libxml2-utils"))?;
        let report = String::from_utf8_lossy(&out.stderr).to_string();
        let ok = report.lines().filter(|l| l.ends_with(" validates")).count();
        if !out.status.success() || ok != chunk.len() {
            return Err(report);
        }
    }
    Ok(())
}

#[test]
fn every_file_is_accepted_with_its_golden_command_line() {
    let descriptors = descriptors();
    let regenerate = std::env::var_os("QVIRT_REGENERATE_GOLDEN").is_some_and(|v| v == "1");
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/argv/virt-install");
    let scratch = std::env::temp_dir().join(format!("qvirt-virt-install-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).unwrap();
    let mut failures = Vec::new();
    let mut written = Vec::new();
    let mut count = 0;
    for sub in ["", "final", "defined"] {
        for path in files(sub) {
            count += 1;
            let name = path.file_stem().unwrap().to_string_lossy().to_string();
            let label = if sub.is_empty() {
                name.clone()
            } else {
                format!("{sub}/{name}")
            };
            let xml = std::fs::read_to_string(&path).unwrap();
            let (def, argv) = match build(&xml, &descriptors) {
                Ok(r) => r,
                Err(e) => {
                    failures.push(format!("{label}: {e}"));
                    continue;
                }
            };
            let out = def.to_xml();
            match DomainDef::from_xml(&out) {
                Ok(again) if again == def => {}
                Ok(_) => failures.push(format!("{label}: reads back differently")),
                Err(e) => failures.push(format!("{label}: what qvirt writes is refused: {e}")),
            }
            let file = scratch.join(format!("{}.xml", label.replace('/', "-")));
            std::fs::write(&file, &out).unwrap();
            written.push(file);
            let args_file = golden.join(sub).join(format!("{name}.args"));
            let actual = argv.join("\n") + "\n";
            if regenerate {
                std::fs::create_dir_all(args_file.parent().unwrap()).unwrap();
                std::fs::write(&args_file, &actual).unwrap();
                continue;
            }
            match std::fs::read_to_string(&args_file) {
                Ok(expected) if expected == actual => {}
                Ok(_) => failures.push(format!(
                    "{label}: command line differs from {} (QVIRT_REGENERATE_GOLDEN=1 rewrites it)",
                    args_file.display()
                )),
                Err(_) => failures.push(format!("{label}: no golden {}", args_file.display())),
            }
        }
    }
    if let Err(report) = xmllint(&written) {
        failures.push(format!("schema validation failed:\n{report}"));
    }
    let _ = std::fs::remove_dir_all(&scratch);
    eprintln!("virt-install corpus: {count} files");
    assert!(count >= 300, "the corpus looks incomplete: {count} files");
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Where each `-device` sits: its id (or driver and chardev) and its
/// `bus`, `addr` and `multifunction`.
fn placements(argv: &[String]) -> BTreeMap<String, [Option<String>; 3]> {
    argv.windows(2)
        .filter(|w| w[0] == "-device")
        .map(|w| {
            let mut parts = w[1].split(',');
            let driver = parts.next().unwrap_or_default();
            let props: BTreeMap<&str, &str> = parts.filter_map(|p| p.split_once('=')).collect();
            let key = props.get("id").map_or_else(
                || format!("{driver} {}", props.get("chardev").unwrap_or(&"")),
                |id| id.to_string(),
            );
            let get = |k: &str| props.get(k).map(|v| v.to_string());
            (key, [get("bus"), get("addr"), get("multifunction")])
        })
        .collect()
}

/// libvirt gives the devices of virt-install's XML their PCI addresses
/// when it defines it (`defined/`); qvirt gives the same XML without
/// addresses the same places at start: every device is on the same bus,
/// slot and function, with the same multifunction flag.
#[test]
fn devices_get_the_pci_addresses_libvirt_gives_them() {
    let descriptors = descriptors();
    let mut failures = Vec::new();
    let mut compared = 0;
    for defined in files("defined") {
        let name = defined.file_name().unwrap();
        let written = [
            corpus_dir().join("final").join(name),
            corpus_dir().join(name),
        ]
        .into_iter()
        .find(|p| p.is_file())
        .expect("the XML virt-install wrote");
        let argv = |p: &Path| build(&std::fs::read_to_string(p).unwrap(), &descriptors);
        let (ours, libvirts) = match (argv(&written), argv(&defined)) {
            (Ok((_, a)), Ok((_, b))) => (placements(&a), placements(&b)),
            (a, b) => {
                failures.push(format!(
                    "{}: {:?} / {:?}",
                    written.display(),
                    a.err(),
                    b.err()
                ));
                continue;
            }
        };
        compared += 1;
        for key in ours.keys().chain(libvirts.keys()) {
            if ours.get(key) != libvirts.get(key) {
                failures.push(format!(
                    "{}: {key}: qvirt {:?}, libvirt {:?}",
                    written.display(),
                    ours.get(key),
                    libvirts.get(key)
                ));
            }
        }
    }
    assert!(compared >= 300, "only {compared} pairs");
    assert!(
        failures.is_empty(),
        "{} differences:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn what_libvirt_refuses_is_refused() {
    let descriptors = descriptors();
    let mut failures = Vec::new();
    for path in files("rejected") {
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        let libvirt = std::fs::read_to_string(path.with_extension("err")).unwrap_or_default();
        let xml = std::fs::read_to_string(&path).unwrap();
        let accepted_anyway = ACCEPTED_DESPITE_LIBVIRT.iter().find(|(n, _)| *n == name);
        match (build(&xml, &descriptors), accepted_anyway) {
            (Ok(_), Some((_, why))) => eprintln!("{name}: accepted because {why}"),
            (Ok(_), None) => failures.push(format!(
                "{name}: libvirt refuses it ({}), qvirt accepts it",
                libvirt.trim()
            )),
            (Err(e), Some(_)) => failures.push(format!("{name}: listed as accepted but {e}")),
            (Err(_), None) => {}
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
