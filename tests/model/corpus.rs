//! The libvirt corpus: every file parses or fails with a coded error and
//! never panics; what libvirt accepts we accept (with the exceptions
//! below), what it refuses for a reason in the XML we refuse, out-of-scope
//! files are refused naming their feature, and everything accepted reads
//! back identically and is valid against libvirt's schema.

use std::panic::catch_unwind;
use std::path::{Path, PathBuf};

use qvirt::model::{DomainDef, ModelErrorKind};

use crate::{
    ACCEPTED_BY_LIBVIRT_ONLY, REFUSED_BY_LIBVIRT_ONLY, read_for_define, round_trip, scratch_dir,
    shared_dir, xmllint_validate,
};

/// For each file libvirt refuses, a part of the message qvirt gives: the
/// refusal is for the same reason.
const REFUSAL_REASONS: &[(&str, &str)] = &[
    (
        "440fx-ide-address-conflict",
        "double use of PCI Address 0000:00:01.1",
    ),
    ("440fx-wrong-root", "must be model='pci-root'"),
    ("cpu-qemu-host-passthrough", "host-passthrough"),
    ("cpuset-invalid", "Failed to parse bitmap 'aaa'"),
    ("disk-address-conflict", "duplicate drive address"),
    (
        "disk-ide-incompatible-address",
        "Invalid address type 'pci' for the disk 'hda'",
    ),
    ("disk-missing-target-invalid", "missing target information"),
    ("disk-same-targets", "target 'sda' duplicated"),
    (
        "disk-scsi-incompatible-address",
        "Invalid address type 'pci' for the disk 'sda'",
    ),
    ("disk-usb-pci", "Invalid address type 'pci'"),
    (
        "pci-bridge-duplicate-index",
        "Multiple 'pci' controllers with index '1'",
    ),
    ("pci-bus-invalid", "bus='0x100', must be <= 0xFF"),
    ("pci-domain-invalid", "bus='0x100', must be <= 0xFF"),
    ("pci-expander-bus-bad-bus", "root bus"),
    ("pci-expander-bus-bad-node", "NUMA node (1)"),
    ("pci-function-invalid", "function=0x8, must be <= 7"),
    ("pci-root-address", "should not have an address"),
    ("pci-slot-invalid", "slot='0x20', must be <= 0x1F"),
    (
        "q35-dmi-bad-address1",
        "Multiple 'pci' controllers with index '2'",
    ),
    ("q35-wrong-root", "must be model='pcie-root'"),
    (
        "usb-controller-ich9-no-companion",
        "No master USB controller",
    ),
    ("usb-controller-nec-xhci-limit", "up to '15' ports"),
    ("usb-none-usbtablet", "USB bus is disabled"),
    (
        "virtio-transitional-not-supported",
        "not supported for input type=keyboard",
    ),
];

struct Case {
    name: String,
    path: PathBuf,
    expected: Expected,
}

enum Expected {
    /// libvirt accepts it.
    Accept,
    /// libvirt refuses it.
    Refuse,
    /// Outside the corpus's original subset (the manifest names the
    /// feature): refused naming it, or, now that qvirt supports it,
    /// accepted where libvirt accepts it (the bool).
    OutOfScope(String, bool),
}

fn cases() -> Vec<Case> {
    let dir = shared_dir().join("corpus/libvirt-domain-xml");
    let mut out = Vec::new();
    let manifest = std::fs::read_to_string(dir.join("out-of-scope/manifest.tsv"))
        .expect("out-of-scope manifest");
    for line in manifest.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let name = cols[0].to_string();
        let feature = cols.last().expect("feature column").to_string();
        let libvirt_accepts = cols.get(1) == Some(&"args");
        out.push(Case {
            path: dir.join("out-of-scope").join(format!("{name}.xml")),
            name,
            expected: Expected::OutOfScope(feature, libvirt_accepts),
        });
    }
    let mut in_scope: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("corpus folder")
        .map(|e| e.expect("corpus entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "xml"))
        .collect();
    in_scope.sort();
    for path in in_scope {
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        let expected = if path.with_extension("args").exists() {
            Expected::Accept
        } else if path.with_extension("err").exists() {
            Expected::Refuse
        } else {
            panic!("{name} has neither .args nor .err");
        };
        out.push(Case {
            name,
            path,
            expected,
        });
    }
    out
}

/// The word an out-of-scope refusal must name: the manifest's last path
/// part, its value after `=` or its attribute after `@`, without a prefix.
fn feature_word(feature: &str) -> &str {
    let last = feature.rsplit('/').next().unwrap_or(feature);
    let word = match (last.split_once('='), last.split_once('@')) {
        (Some((_, v)), _) => v,
        (None, Some((_, a))) => a,
        (None, None) => last,
    };
    word.rsplit(':').next().unwrap_or(word)
}

#[test]
fn every_corpus_file_meets_its_expectation() {
    let scratch = scratch_dir("corpus");
    let mut written = Vec::new();
    let mut failures = Vec::new();
    let (mut accepted, mut refused) = (0, Vec::new());
    let cases = cases();
    assert!(
        cases.len() >= 130,
        "corpus looks incomplete: {} files",
        cases.len()
    );
    for case in &cases {
        let xml = std::fs::read_to_string(&case.path).expect("read corpus file");
        let result = match catch_unwind(|| read_for_define(&xml)) {
            Ok(r) => r,
            Err(_) => {
                failures.push(format!("{}: the reader panicked", case.name));
                continue;
            }
        };
        let exception = ACCEPTED_BY_LIBVIRT_ONLY.iter().find(|e| e.0 == case.name);
        let tolerated = REFUSED_BY_LIBVIRT_ONLY.iter().any(|e| e.0 == case.name);
        match (&case.expected, &result) {
            (Expected::Accept, Ok(_)) if exception.is_none() => {}
            (Expected::Accept, Err(e)) => match exception {
                Some((_, kind, _)) if *kind == e.kind => {}
                _ => failures.push(format!("{}: libvirt accepts it, qvirt says {e}", case.name)),
            },
            (Expected::Accept, Ok(_)) => {
                failures.push(format!("{}: listed as refused but accepted", case.name));
            }
            (Expected::Refuse, Ok(_)) if tolerated => {}
            (Expected::Refuse, Ok(_)) => {
                failures.push(format!(
                    "{}: libvirt refuses it, qvirt accepts it",
                    case.name
                ));
            }
            (Expected::Refuse, Err(e)) => {
                if tolerated {
                    failures.push(format!(
                        "{}: listed as tolerated but refused: {e}",
                        case.name
                    ));
                }
                match REFUSAL_REASONS.iter().find(|r| r.0 == case.name) {
                    Some((_, why)) if e.message.contains(why) => {}
                    Some((_, why)) => failures.push(format!(
                        "{}: refused for another reason: '{e}' (expected '{why}')",
                        case.name
                    )),
                    None => failures.push(format!("{}: no expected reason listed", case.name)),
                }
            }
            (Expected::OutOfScope(feature, libvirt_accepts), r) => {
                let want = if feature == "xml-error" {
                    ModelErrorKind::InvalidXml
                } else {
                    ModelErrorKind::Unsupported
                };
                match r {
                    Err(e)
                        if e.kind == want
                            && (feature == "xml-error"
                                || e.message.contains(feature_word(feature))) => {}
                    // libvirt refuses it too, for a reason in the XML.
                    Err(e) if !libvirt_accepts && e.kind != ModelErrorKind::InvalidXml => {}
                    Ok(_) if *libvirt_accepts => {}
                    Err(e) => failures.push(format!(
                        "{}: expected {want:?} naming '{}', got {:?}: {e}",
                        case.name,
                        feature_word(feature),
                        e.kind
                    )),
                    Ok(_) => failures.push(format!(
                        "{}: out of scope ({feature}) but accepted",
                        case.name
                    )),
                }
            }
        }
        match result {
            Ok(def) => {
                accepted += 1;
                let out = round_trip(&def);
                let file = scratch.join(format!("{}.xml", case.name));
                std::fs::write(&file, out).expect("write formatted XML");
                written.push(file);
            }
            Err(e) => refused.push(e.kind),
        }
    }
    assert!(
        failures.is_empty(),
        "corpus expectations failed:\n{}",
        failures.join("\n")
    );
    let count = |k| refused.iter().filter(|x| **x == k).count();
    println!(
        "corpus: {} files, {accepted} accepted, {} refused (invalid-xml {}, unsupported {}, invalid {}, too-large {})",
        cases.len(),
        refused.len(),
        count(ModelErrorKind::InvalidXml),
        count(ModelErrorKind::Unsupported),
        count(ModelErrorKind::Invalid),
        count(ModelErrorKind::TooLarge),
    );
    xmllint_validate(&written);
}

fn xml_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("folder entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "xml"))
        .collect();
    files.sort();
    files
}

/// The command-line goldens' inputs and this suite's own documents are
/// schema-valid, and so is what qvirt writes for each one it accepts.
#[test]
fn test_data_documents_and_their_formatting_are_schema_valid() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let mut files = xml_files(&root.join("argv"));
    let own = xml_files(&root.join("xml"));
    assert!(!own.is_empty(), "tests/data/xml has no documents");
    files.extend(own.iter().cloned());
    let scratch = scratch_dir("data");
    let mut formatted = Vec::new();
    for f in &files {
        let xml = std::fs::read_to_string(f).expect("read test document");
        match DomainDef::from_xml(&xml) {
            Ok(def) => {
                let out = round_trip(&def);
                let name = f.file_name().unwrap().to_string_lossy().to_string();
                let file = scratch.join(format!("formatted-{name}"));
                std::fs::write(&file, out).expect("write formatted XML");
                formatted.push(file);
            }
            Err(e) => assert!(!own.contains(f), "{} is refused: {e}", f.display()),
        }
    }
    files.extend(formatted);
    // Written in what libvirt added after 9.0, whose schema this is.
    let newer = [("firmware-qcow2.xml", "libvirt 9.2's <loader format>")];
    files.retain(|f| {
        let name = f.file_name().unwrap().to_string_lossy();
        !newer
            .iter()
            .any(|(n, _)| name == *n || name == format!("formatted-{n}"))
    });
    xmllint_validate(&files);
}
