//! Tests of the domain model: the libvirt corpus (read, write, read back,
//! schema-check what is written), every validation rule and limit, and
//! properties over arbitrary input and arbitrary valid definitions.
//!
//! The shared data (corpus, libvirt's RELAX NG schema) is found at
//! `../shared` next to the crate, or at `$QVIRT_SHARED_DIR`. Schema checks
//! need `xmllint`; without it they fail and say to install libxml2-utils.

#[path = "model/alias_rules.rs"]
mod alias_rules;
#[path = "model/chardev_kinds.rs"]
mod chardev_kinds;
#[path = "model/chardev_rules.rs"]
mod chardev_rules;
#[path = "model/corpus.rs"]
mod corpus;
#[path = "model/device_rules.rs"]
mod device_rules;
#[path = "model/disk_attrs.rs"]
mod disk_attrs;
#[path = "model/disk_sources.rs"]
mod disk_sources;
#[path = "model/display_rules.rs"]
mod display_rules;
#[path = "model/firmware_formats.rs"]
mod firmware_formats;
#[path = "model/guest_security.rs"]
mod guest_security;
#[path = "model/host_rules.rs"]
mod host_rules;
#[path = "model/iommu_virtio.rs"]
mod iommu_virtio;
#[path = "model/memdev_rules.rs"]
mod memdev_rules;
#[path = "model/net_host.rs"]
mod net_host;
#[path = "model/net_kinds.rs"]
mod net_kinds;
#[path = "model/net_passt.rs"]
mod net_passt;
#[path = "model/net_rules.rs"]
mod net_rules;
#[path = "model/net_sockets.rs"]
mod net_sockets;
#[path = "model/numa_hmat.rs"]
mod numa_hmat;
#[path = "model/pick.rs"]
mod pick;
#[path = "model/props.rs"]
mod props;
#[path = "model/rules.rs"]
mod rules;
#[path = "model/secrets.rs"]
mod secrets;
#[path = "model/small_attrs.rs"]
mod small_attrs;
#[path = "model/strict.rs"]
mod strict;
#[path = "model/tpm_emulator.rs"]
mod tpm_emulator;
#[path = "model/tpm_external.rs"]
mod tpm_external;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use qvirt::model::{DomainDef, ModelError, ModelErrorKind};

/// Files libvirt accepts (`.args`) that qvirt refuses, with the kind of
/// error and why.
pub const ACCEPTED_BY_LIBVIRT_ONLY: &[(&str, ModelErrorKind, &str)] = &[(
    "virtio-options-video-iommu",
    ModelErrorKind::Unsupported,
    "its videos use <driver name='vhostuser'> and <acceleration>, a vhost-user GPU outside qvirt's subset",
)];

/// Files libvirt refuses (`.err`) that qvirt accepts, and why: libvirt's
/// reason lies in its test harness's QEMU capabilities, not in the XML.
pub const REFUSED_BY_LIBVIRT_ONLY: &[(&str, &str)] = &[
    (
        "usb-controller-default-unavailable-q35",
        "the harness's QEMU has no default USB controller model for q35; the XML is valid and qvirt leaves the model to the QEMU it probes",
    ),
    (
        "usb-controller-nec-xhci-unavailable",
        "the harness's QEMU lacks the nec-xhci device; whether a QEMU has it is known only when it is probed",
    ),
];

/// The shared data folder.
pub fn shared_dir() -> PathBuf {
    let beside = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared");
    if beside.join("corpus").is_dir() {
        return beside;
    }
    match std::env::var_os("QVIRT_SHARED_DIR") {
        Some(d) if Path::new(&d).join("corpus").is_dir() => PathBuf::from(d),
        _ => panic!(
            "shared test data not found at {} nor in $QVIRT_SHARED_DIR",
            beside.display()
        ),
    }
}

/// A fresh scratch folder for this test process.
pub fn scratch_dir(tag: &str) -> Scratch {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "qvirt-model-{}-{tag}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch folder");
    Scratch(dir)
}

/// A scratch folder, removed with what it holds when dropped.
pub struct Scratch(PathBuf);

impl std::ops::Deref for Scratch {
    type Target = PathBuf;
    fn deref(&self) -> &PathBuf {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Validates `files` against libvirt's domain schema with one `xmllint`
/// run; panics naming every file that fails.
pub fn xmllint_validate(files: &[PathBuf]) {
    if files.is_empty() {
        return;
    }
    let rng = shared_dir().join("schemas/libvirt/domain.rng");
    let out = Command::new("xmllint")
        .arg("--noout")
        .arg("--relaxng")
        .arg(&rng)
        .args(files)
        .output();
    let out = match out {
        Ok(o) => o,
        Err(e) => panic!(
            "cannot run xmllint ({e}); install it (apt-get install libxml2-utils) to check qvirt's XML against libvirt's schema"
        ),
    };
    let report = String::from_utf8_lossy(&out.stderr);
    let failed: Vec<&str> = report
        .lines()
        .filter(|l| l.ends_with("fails to validate") || l.contains("error"))
        .collect();
    assert!(
        out.status.success() && failed.is_empty(),
        "schema validation failed:\n{report}"
    );
    let validated = report.lines().filter(|l| l.ends_with(" validates")).count();
    assert_eq!(validated, files.len(), "xmllint output:\n{report}");
}

/// A minimal valid document with `top` added to `<domain>` and `devices`
/// inside `<devices>`.
pub fn doc(top: &str, devices: &str) -> String {
    doc_os("<type arch='x86_64' machine='pc'>hvm</type>", top, devices)
}

/// Like [`doc`] with the inside of `<os>` given.
pub fn doc_os(os: &str, top: &str, devices: &str) -> String {
    format!(
        "<domain type='kvm'>\n  <name>t</name>\n  <memory unit='MiB'>64</memory>\n  <os>{os}</os>\n  {top}\n  <devices>{devices}</devices>\n</domain>\n"
    )
}

/// A UNIX socket character device source that does not reconnect.
pub fn unix_source(path: Option<String>, listen: bool) -> qvirt::model::CharSource {
    qvirt::model::CharSource::Unix {
        path,
        listen,
        reconnect: None,
    }
}

/// Parses `xml`, expecting success, and checks the round trip.
pub fn accept(xml: &str) -> DomainDef {
    let d = DomainDef::from_xml(xml).unwrap_or_else(|e| panic!("refused: {e}\n{xml}"));
    round_trip(&d);
    d
}

/// Asserts `from_xml(to_xml(d)) == d` and that formatting is stable.
pub fn round_trip(d: &DomainDef) -> String {
    let x = d.to_xml();
    let again = DomainDef::from_xml(&x).unwrap_or_else(|e| panic!("own output refused: {e}\n{x}"));
    assert_eq!(&again, d, "round trip changed the definition:\n{x}");
    assert_eq!(again.to_xml(), x, "formatting is not stable");
    x
}

/// Reads `xml` as a manager's define does: the model's rules, then
/// QEMU's (`qvirt::qemu::validate`), whose refusals come back as the
/// model's kinds.
pub fn read_for_define(xml: &str) -> Result<DomainDef, ModelError> {
    let def = DomainDef::from_xml(xml)?;
    match qvirt::qemu::validate::validate(&def) {
        Ok(()) => Ok(def),
        Err(e) => {
            let kind = match e.code {
                qvirt::ErrorCode::ConfigInvalid => ModelErrorKind::Invalid,
                qvirt::ErrorCode::ConfigUnsupported => ModelErrorKind::Unsupported,
                other => panic!("QEMU's checks gave {}: {e}", other.name()),
            };
            Err(ModelError::new(kind, e.message))
        }
    }
}

/// Reads `xml` as a define does, expecting an error of `kind` whose
/// message contains `fragment`.
pub fn reject_at_define(xml: &str, kind: ModelErrorKind, fragment: &str) {
    DomainDef::from_xml(xml).unwrap_or_else(|e| panic!("the model refused it: {e}\n{xml}"));
    reject_with(read_for_define(xml), xml, kind, fragment)
}

/// Parses `xml`, expecting an error of `kind` whose message contains
/// `fragment`.
pub fn reject(xml: &str, kind: ModelErrorKind, fragment: &str) {
    reject_with(DomainDef::from_xml(xml), xml, kind, fragment)
}

fn reject_with(r: Result<DomainDef, ModelError>, xml: &str, kind: ModelErrorKind, fragment: &str) {
    match r {
        Ok(_) => panic!("accepted, expected {kind:?} with '{fragment}':\n{xml}"),
        Err(e) => {
            assert_eq!(e.kind, kind, "wrong kind for: {}\n{xml}", e.message);
            assert!(
                e.message.contains(fragment),
                "message '{}' lacks '{fragment}'",
                e.message
            );
        }
    }
}
