//! `<nvram type='network'>`: OVMF's variable store on a block device a
//! server exports, as a network disk's `<source>` names it. The store is
//! the server's: qemu-nbd serves it over NBD, tgtd as an iSCSI LUN behind
//! CHAP. OVMF is proven to run from it by what it does: it reaches its
//! shell, and the variables it writes at its first boot (`BootOrder`)
//! land in the file the server serves. The manager neither makes the
//! store nor removes it.

use std::process::Command;

use qvirt::driver::UndefineFlags;

use crate::iscsi::{IQN, Target};
use crate::support::{Nbd, State, must, qemus_under};
use crate::uefi_formats::{CODE, VARS, efi_vm, has_variable, node, nodes, wait_for_shell};

/// A copy of Debian's empty variable store, checked to hold no
/// `BootOrder` yet (else finding one proves nothing).
fn fresh_store(st: &State, name: &str) -> std::path::PathBuf {
    let store = st.root().join(name);
    std::fs::copy(VARS, &store).unwrap();
    assert!(
        !has_variable(&std::fs::read(&store).unwrap(), "BootOrder"),
        "{VARS} already has a BootOrder"
    );
    store
}

#[test]
fn ovmf_keeps_its_variables_on_an_nbd_export() {
    let st = State::new("uefi-nbd");
    let store = fresh_store(&st, "served_VARS.fd");
    let socket = st.root().join("vars.sock");
    let server = Nbd::serve(&store, &socket, "vars");
    let serial = st.root().join("serial.log");
    let os = format!(
        "<loader readonly='yes' type='pflash'>{CODE}</loader>
    <nvram type='network'>
      <source protocol='nbd' name='vars'><host transport='unix' socket='{}'/></source>
    </nvram>",
        socket.display()
    );
    st.start(&efi_vm("n", &os, &serial));
    let all = nodes(&st, "n");
    let flash = node(&all, "pflash1-storage");
    assert_eq!(flash.1, "nbd", "{all:?}");
    assert!(flash.2.contains(socket.to_str().unwrap()), "{flash:?}");
    wait_for_shell(&serial);
    let live = st.live_xml("n");
    assert!(live.contains("<nvram type='network'>"), "{live}");
    let d = st.driver();
    let dom = d.lookup_by_name("n").unwrap();
    d.destroy(&dom).unwrap();
    assert!(
        has_variable(&std::fs::read(&store).unwrap(), "BootOrder"),
        "OVMF's variables did not reach the file qemu-nbd serves"
    );
    // No store of the manager's: no file in its NVRAM directory, and an
    // undefine without NVRAM flags leaves the served one alone.
    assert!(!st.root().join("nvram/n_VARS.fd").exists());
    d.undefine_flags(&dom, UndefineFlags::default()).unwrap();
    assert!(store.exists());
    drop(server);
}

#[test]
fn ovmf_keeps_its_variables_on_an_iscsi_lun_behind_chap() {
    const PASSWORD: &str = "qvirt-nvram-chap-1";
    let st = State::new("uefi-iscsi");
    let store = fresh_store(&st, "lun_VARS.fd");
    let target = Target::serve(&store);
    target.require_chap("qvirt", PASSWORD);
    let serial = st.root().join("serial.log");
    let os = format!(
        "<loader readonly='yes' type='pflash'>{CODE}</loader>
    <nvram type='network'>
      <source protocol='iscsi' name='{IQN}/1'>
        <host name='127.0.0.1' port='3260'/>
        <auth username='qvirt'><secret type='iscsi' usage='nvram-target'/></auth>
      </source>
    </nvram>"
    );
    let d = st.driver();
    d.define_xml(&efi_vm("i", &os, &serial)).unwrap();
    let secret = d
        .secret_define_xml(
            "<secret ephemeral='no' private='yes'>
  <usage type='iscsi'><target>nvram-target</target></usage>
</secret>",
        )
        .unwrap();
    drop(d);
    let start = || target.start_in(st.root(), "i");
    // No value: refused before QEMU, naming the store.
    let out = start();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "started without the CHAP secret");
    assert!(
        err.contains("<nvram>") && err.contains("does not have a value"),
        "{err}"
    );
    assert!(qemus_under(st.root()).is_empty(), "a QEMU was left: {err}");
    st.driver()
        .secret_set_value(&secret, PASSWORD.as_bytes())
        .unwrap();
    let out = start();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let all = nodes(&st, "i");
    assert_eq!(node(&all, "pflash1-storage").1, "iscsi", "{all:?}");
    // The password reached QEMU through a file, not its command line.
    let cmdline = std::fs::read(format!("/proc/{}/cmdline", st.qemu_pid("i"))).unwrap();
    assert!(!String::from_utf8_lossy(&cmdline).contains(PASSWORD));
    wait_for_shell(&serial);
    let d = st.driver();
    d.destroy(&d.lookup_by_name("i").unwrap()).unwrap();
    must(&mut Command::new("sync"));
    assert!(
        has_variable(&std::fs::read(&store).unwrap(), "BootOrder"),
        "OVMF's variables did not reach the LUN tgtd serves"
    );
    drop(d);
    drop(target);
}
