//! The emulated TPM: a swtpm per domain, started before QEMU and ended
//! with it, its state kept per domain across starts and removed by
//! undefine unless kept; a state directory of another user is refused.

use std::path::Path;

use qvirt::ErrorCode;
use qvirt::driver::UndefineFlags;
use serde_json::json;

use super::support::{State, poll, qemus_under};

fn tpm_vm(name: &str, uuid: &str) -> String {
    format!(
        "<domain type='qemu'>
  <name>{name}</name>
  <uuid>{uuid}</uuid>
  <memory unit='MiB'>32</memory>
  <os><type arch='x86_64' machine='q35'>hvm</type></os>
  <devices>
    <tpm model='tpm-crb'><backend type='emulator' version='2.0'/></tpm>
    <memballoon model='none'/>
  </devices>
</domain>"
    )
}

/// The swtpm processes serving a state directory under `root`.
fn swtpms(root: &Path) -> Vec<i32> {
    qemus_under(root)
        .into_iter()
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).starts_with("swtpm"))
        })
        .collect()
}

#[test]
fn an_emulated_tpm_runs_swtpm_with_qemu() {
    const UUID: &str = "5d6f1c2e-8a1b-4c3d-9e0f-1a2b3c4d5e6f";
    let st = State::new("tpm");
    st.start(&tpm_vm("tpm", UUID));
    assert_eq!(swtpms(st.root()).len(), 1, "one swtpm for the domain");
    let state = st.root().join("swtpm").join(UUID).join("tpm2");
    assert!(
        state.join("tpm2-00.permall").is_file(),
        "no TPM state in {}",
        state.display()
    );
    let mut qmp = st.qmp("tpm");
    let tpms = qmp.exec("query-tpm", json!({}));
    assert_eq!(tpms[0]["model"], "tpm-crb", "{tpms}");
    assert_eq!(tpms[0]["options"]["type"], "emulator", "{tpms}");
    drop(qmp);
    // Stopping QEMU ends swtpm; the state stays for the next start.
    let d = st.driver();
    let dom = d.lookup_by_name("tpm").unwrap();
    d.destroy(&dom).unwrap();
    poll(
        "swtpm to end with QEMU",
        std::time::Duration::from_secs(30),
        || swtpms(st.root()).is_empty().then_some(()),
    );
    assert!(state.join("tpm2-00.permall").is_file());
    d.start(&dom).unwrap();
    assert_eq!(swtpms(st.root()).len(), 1);
    d.destroy(&dom).unwrap();
    // undefine --keep-tpm keeps the state, a plain undefine removes it.
    let keep = UndefineFlags {
        keep_tpm: true,
        ..UndefineFlags::default()
    };
    d.undefine_flags(&dom, keep).unwrap();
    assert!(state.is_dir(), "--keep-tpm removed the state");
    let dom = d.define_xml(&tpm_vm("tpm", UUID)).unwrap();
    d.undefine(&dom).unwrap();
    assert!(
        !st.root().join("swtpm").join(UUID).exists(),
        "undefine kept the TPM state"
    );
    poll("swtpm to end", std::time::Duration::from_secs(30), || {
        swtpms(st.root()).is_empty().then_some(())
    });
}

#[test]
fn a_transient_domains_tpm_state_ends_with_it() {
    const UUID: &str = "6e7f2d3f-9b2c-4d4e-8f1a-2b3c4d5e6f70";
    let st = State::new("tpm-transient");
    let d = st.driver();
    let dom = d.create_xml(&tpm_vm("tt", UUID)).unwrap();
    let state = st.root().join("swtpm").join(UUID);
    assert!(state.join("tpm2/tpm2-00.permall").is_file());
    d.destroy(&dom).unwrap();
    assert!(!state.exists(), "the transient domain's TPM state stayed");
    // persistent_state='yes' keeps it, as libvirt does.
    let keep = tpm_vm("tt", UUID).replace(
        "<backend type='emulator' version='2.0'/>",
        "<backend type='emulator' version='2.0' persistent_state='yes'/>",
    );
    let dom = d.create_xml(&keep).unwrap();
    d.destroy(&dom).unwrap();
    assert!(state.join("tpm2/tpm2-00.permall").is_file());
    poll("swtpm to end", std::time::Duration::from_secs(30), || {
        swtpms(st.root()).is_empty().then_some(())
    });
}

#[test]
fn a_tpm_state_of_another_user_is_refused() {
    assert!(
        nix::unistd::Uid::effective().is_root(),
        "this test gives a directory to another user, which needs root"
    );
    const UUID: &str = "6e7f2d3f-9b2c-4d4e-8f10-2b3c4d5e6f70";
    let st = State::new("tpmown");
    drop(st.driver()); // lays out the state directory
    let dir = st.root().join("swtpm").join(UUID);
    std::fs::create_dir_all(&dir).unwrap();
    nix::unistd::chown(&dir, Some(nix::unistd::Uid::from_raw(4242)), None).unwrap();
    let e = st.try_start(&tpm_vm("tpmown", UUID)).unwrap_err();
    assert_eq!(e.code, ErrorCode::OperationDenied, "{}", e.message);
    assert!(e.message.contains(UUID), "{}", e.message);
    assert!(
        qemus_under(st.root()).is_empty(),
        "a QEMU or swtpm was left"
    );
    assert!(!st.run_dir("tpmown").exists(), "a runtime dir was left");
}
