//! `<tpm><backend type='external'>`: read, written back as libvirt
//! writes it, valid against libvirt's schema, and refused where libvirt
//! 9.0 refuses it.

use qvirt::model::{ModelErrorKind, TpmBackend};

use crate::{accept, doc, reject, round_trip, scratch_dir, xmllint_validate};

use ModelErrorKind::Invalid;

fn tpm(source: &str) -> String {
    doc(
        "",
        &format!("<tpm model='tpm-tis'><backend type='external'>{source}</backend></tpm>"),
    )
}

#[test]
fn an_external_tpm_round_trips_and_is_schema_valid() {
    let d = accept(&tpm(
        "<source type='unix' mode='connect' path='/tmp/path.sock'/>",
    ));
    assert_eq!(
        d.devices.tpms[0].backend,
        TpmBackend::External {
            path: "/tmp/path.sock".into()
        }
    );
    // Without a mode, QEMU connects all the same; written back with it.
    let written = round_trip(&accept(&tpm("<source type='unix' path='/tmp/path.sock'/>")));
    assert!(
        written.contains("<source type='unix' mode='connect' path='/tmp/path.sock'/>"),
        "{written}"
    );
    let dir = scratch_dir("tpm-external");
    let file = dir.join("tpm.xml");
    std::fs::write(&file, round_trip(&d)).unwrap();
    xmllint_validate(&[file]);
}

#[test]
fn an_external_tpm_is_refused_where_libvirt_refuses_it() {
    reject(
        &tpm("<source type='file' path='/tmp/x'/>"),
        Invalid,
        "only source type 'unix' is supported for external TPM device",
    );
    reject(
        &tpm("<source type='unix' mode='bind' path='/tmp/x'/>"),
        Invalid,
        "only 'client' mode is supported for external TPM device",
    );
    reject(
        &tpm("<source type='unix' mode='connect'/>"),
        Invalid,
        "missing socket path for external TPM device",
    );
    reject(
        &tpm("<source path='/tmp/x'/>"),
        Invalid,
        "missing external TPM backend type",
    );
    reject(&tpm(""), Invalid, "missing external TPM backend type");
    reject(
        &tpm("<source type='unix' mode='connect' path='relative.sock'/>"),
        Invalid,
        "not an absolute path",
    );
}
