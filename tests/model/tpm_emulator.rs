//! `<tpm><backend type='emulator'>` with `<encryption secret>` and
//! `<active_pcr_banks>`: read, written back as libvirt writes them (the
//! banks once each, in libvirt's order), valid against libvirt's schema,
//! and refused where libvirt 9.0 refuses them.

use qvirt::model::{ModelErrorKind, TpmBackend, TpmPcrBank};

use crate::{accept, doc, reject, round_trip, scratch_dir, xmllint_validate};

use ModelErrorKind::{Invalid, Unsupported};

const SECRET: &str = "b4a117f1-8af2-44a4-91b8-7f0d2d4d68a3";

fn tpm(model: &str, version: &str, inner: &str) -> String {
    doc(
        "",
        &format!("<tpm model='{model}'><backend type='emulator'{version}>{inner}</backend></tpm>"),
    )
}

#[test]
fn an_encrypted_tpm_with_pcr_banks_round_trips() {
    let d = accept(&tpm(
        "tpm-tis",
        " version='2.0'",
        &format!(
            "<encryption secret='{SECRET}'/>\
             <active_pcr_banks><sha512/><sha256/><sha512/></active_pcr_banks>"
        ),
    ));
    let TpmBackend::Emulator {
        encryption,
        active_pcr_banks,
        ..
    } = &d.devices.tpms[0].backend
    else {
        panic!("not an emulator: {:?}", d.devices.tpms[0]);
    };
    assert_eq!(
        encryption.map(|u| u.hyphenated().to_string()),
        Some(SECRET.into())
    );
    assert_eq!(
        active_pcr_banks.as_deref(),
        Some(&[TpmPcrBank::Sha256, TpmPcrBank::Sha512][..])
    );
    let written = round_trip(&d);
    assert!(
        written.contains(&format!("<encryption secret='{SECRET}'/>"))
            && written.contains("<active_pcr_banks>\n")
            && written.find("<sha256/>") < written.find("<sha512/>"),
        "{written}"
    );
    // An empty set leaves the banks as they are: nothing to write back.
    let d = accept(&tpm("tpm-crb", "", "<active_pcr_banks/>"));
    assert!(!round_trip(&d).contains("active_pcr_banks"));
    let dir = scratch_dir("tpm-emulator");
    let file = dir.join("tpm.xml");
    std::fs::write(&file, written).unwrap();
    xmllint_validate(&[file]);
}

#[test]
fn tpm_encryption_and_banks_are_refused_where_libvirt_refuses_them() {
    let banks = "<active_pcr_banks><sha256/></active_pcr_banks>";
    // PCR banks are TPM 2.0's: tpm-tis defaults to 1.2, tpm-crb to 2.0.
    reject(
        &tpm("tpm-tis", "", banks),
        Invalid,
        "requires TPM version '2.0'",
    );
    reject(
        &tpm("tpm-tis", " version='1.2'", banks),
        Invalid,
        "requires TPM version '2.0'",
    );
    assert!(qvirt::DomainDef::from_xml(&tpm("tpm-crb", "", banks)).is_ok());
    reject(
        &tpm("tpm-crb", "", "<active_pcr_banks><md5/></active_pcr_banks>"),
        Unsupported,
        "Unsupported PCR banks 'md5' at 6:76",
    );
    reject(
        &tpm("tpm-crb", "", "<encryption secret='not-a-uuid'/>"),
        Invalid,
        "invalid value 'not-a-uuid' for attribute secret",
    );
    reject(&tpm("tpm-crb", "", "<encryption/>"), Invalid, "secret");
}
