//! An emulated TPM 2.0 whose state is encrypted (`<encryption
//! secret>`) and whose PCR banks are chosen (`<active_pcr_banks>`). The
//! state swtpm keeps lacks the plain libtpms state an unencrypted one
//! holds, and a wrong passphrase keeps the domain from starting; the
//! Linux test guest's kernel lists exactly the active banks; without the
//! element they stay as they were, and a new choice is made before the
//! next start.

use std::path::Path;
use std::process::Command;

use qvirt::Driver;

use crate::inguest::Shell;
use crate::support::{State, linux_vm, qemus_under};

const UUID: &str = "7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d";
const PASSPHRASE: &[u8] = b"qvirt-tpm-state-passphrase";

/// The magic that opens libtpms's permanent state, which an
/// unencrypted swtpm state file holds in the clear.
const LIBTPMS_MAGIC: [u8; 4] = [0xab, 0x36, 0x47, 0x23];

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn vm(secret: &str, banks: &str) -> String {
    // With a TPM, SeaBIOS keeps a TPM log at the top of RAM and its ACPI
    // tables move down onto QEMU's initrd of the direct kernel boot: the
    // guest finds no ACPI tables, so its TIS driver probes the device's
    // fixed address instead (tpm_tis.force).
    linux_vm(
        "tpmstate",
        192,
        &format!("<uuid>{UUID}</uuid>"),
        &format!(
            "<tpm model='tpm-tis'><backend type='emulator' version='2.0'>\
             <encryption secret='{secret}'/>{banks}\
             </backend></tpm><memballoon model='none'/>"
        ),
    )
    .replace("console=ttyS0 quiet", "console=ttyS0 quiet tpm_tis.force=1")
}

/// The PCR banks the guest's kernel found allocated in its TPM.
fn guest_banks(d: &dyn Driver) -> Vec<String> {
    let mut sh = Shell::open(d, "tpmstate");
    let out = sh.run("ls -d /sys/class/tpm/tpm0/pcr-* | sed 's|.*/pcr-||'");
    out.lines().map(str::to_string).collect()
}

/// An unencrypted TPM 2.0 state made by swtpm_setup itself: what the
/// encrypted one must not look like.
fn plain_state(dir: &Path) -> Vec<u8> {
    let out = Command::new("swtpm_setup")
        .args(["--tpm2", "--createek", "--tpm-state"])
        .arg(dir)
        .output()
        .expect("swtpm_setup runs (Debian package swtpm-tools)");
    assert!(out.status.success(), "{out:?}");
    std::fs::read(dir.join("tpm2-00.permall")).unwrap()
}

#[test]
fn an_encrypted_tpm_state_and_its_active_pcr_banks() {
    let st = State::new("tpmstate");
    let plain_dir = st.root().join("plain-tpm");
    std::fs::create_dir_all(&plain_dir).unwrap();
    assert!(
        contains(&plain_state(&plain_dir), &LIBTPMS_MAGIC),
        "an unencrypted state lacks libtpms's magic: the check below would prove nothing"
    );
    let d = st.driver();
    let secret = d
        .secret_define_xml(
            "<secret ephemeral='no' private='yes'>
  <usage type='vtpm'><name>tpmstate</name></usage>
</secret>",
        )
        .unwrap();
    let uuid = secret.uuid.hyphenated().to_string();
    // A secret for another use (a volume's passphrase), named by its
    // UUID: libvirt's refusal, before anything runs.
    let volume = d
        .secret_define_xml("<secret><usage type='volume'><volume>/v.img</volume></usage></secret>")
        .unwrap();
    d.secret_set_value(&volume, PASSPHRASE).unwrap();
    let other = d
        .define_xml(&vm(&volume.uuid.hyphenated().to_string(), ""))
        .unwrap();
    let e = d.start(&other).unwrap_err();
    assert!(
        e.message
            .contains("is of type 'volume' not expected 'vtpm' type"),
        "{e}"
    );
    assert!(qemus_under(st.root()).is_empty());
    let dom = d
        .define_xml(&vm(
            &uuid,
            "<active_pcr_banks><sha256/><sha512/></active_pcr_banks>",
        ))
        .unwrap();
    // No value yet: refused before QEMU or swtpm run.
    let e = d.start(&dom).unwrap_err();
    assert!(e.message.contains("does not have a value"), "{e}");
    assert!(qemus_under(st.root()).is_empty());
    d.secret_set_value(&secret, PASSPHRASE).unwrap();
    d.start(&dom).unwrap();
    // swtpm was told where to read the passphrase, not the passphrase.
    let swtpm = qemus_under(st.root())
        .into_iter()
        .map(|pid| std::fs::read(format!("/proc/{pid}/cmdline")).unwrap())
        .find(|c| c.starts_with(b"swtpm"))
        .expect("a swtpm runs");
    let cmdline = String::from_utf8_lossy(&swtpm).replace('\0', " ");
    assert!(
        cmdline.contains("--key pwdfd=3,mode=aes-256-cbc")
            && cmdline.contains("--migration-key pwdfd=4,mode=aes-256-cbc"),
        "{cmdline}"
    );
    assert!(!contains(&swtpm, PASSPHRASE), "{cmdline}");
    assert_eq!(guest_banks(&*d), ["sha256", "sha512"]);
    d.destroy(&dom).unwrap();
    let state = st
        .root()
        .join("swtpm")
        .join(UUID)
        .join("tpm2/tpm2-00.permall");
    let bytes = std::fs::read(&state).unwrap();
    assert!(
        !contains(&bytes, &LIBTPMS_MAGIC),
        "the TPM state is in the clear"
    );
    // Without <active_pcr_banks> the banks stay as they were. A wrong
    // passphrase cannot open the state: the start fails, and nothing is
    // left running; the right one opens it again.
    let dom = d.define_xml(&vm(&uuid, "")).unwrap();
    d.secret_set_value(&secret, b"a-wrong-passphrase").unwrap();
    let e = d.start(&dom).unwrap_err();
    assert!(qemus_under(st.root()).is_empty(), "a process was left: {e}");
    d.secret_set_value(&secret, PASSPHRASE).unwrap();
    d.start(&dom).unwrap();
    assert_eq!(guest_banks(&*d), ["sha256", "sha512"]);
    d.destroy(&dom).unwrap();
    // Another choice of banks, made before the start.
    let dom = d
        .define_xml(&vm(&uuid, "<active_pcr_banks><sha1/></active_pcr_banks>"))
        .unwrap();
    d.start(&dom).unwrap();
    assert_eq!(guest_banks(&*d), ["sha1"]);
    d.destroy(&dom).unwrap();
    drop(d);
}
