//! `<tpm><backend type='external'>`: QEMU connects to a TPM emulator
//! another process runs. The test runs swtpm itself; QEMU's TPM uses
//! that socket, and the firmware's TPM commands reach swtpm (its log of
//! the bytes it reads).
//! Without anyone listening on the socket, the start is refused before
//! QEMU runs.

use std::path::Path;
use std::process::{Child, Command};
use std::time::Duration;

use serde_json::json;

use crate::disk_sources::qmp;
use crate::support::{State, firmware_vm, poll, qemus_under};

/// A swtpm serving TPM 2.0 on a UNIX socket, killed when dropped.
struct Swtpm(Child);

impl Swtpm {
    fn serve(dir: &Path, socket: &Path, log: &Path) -> Swtpm {
        let state = dir.join("state");
        std::fs::create_dir_all(&state).unwrap();
        let child = Command::new("swtpm")
            .args(["socket", "--tpm2"])
            .arg("--ctrl")
            .arg(format!("type=unixio,path={}", socket.display()))
            .arg("--tpmstate")
            .arg(format!("dir={}", state.display()))
            .arg("--log")
            .arg(format!("file={},level=20", log.display()))
            .spawn()
            .expect("swtpm runs (Debian package swtpm)");
        let server = Swtpm(child);
        poll("swtpm's socket", Duration::from_secs(30), || {
            socket.exists().then_some(())
        });
        server
    }
}

impl Drop for Swtpm {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn external(path: &Path) -> String {
    format!(
        "<tpm model='tpm-tis'><backend type='external'><source type='unix' mode='connect' path='{}'/></backend></tpm>",
        path.display()
    )
}

#[test]
fn an_external_tpm_is_the_emulator_on_its_socket() {
    let st = State::new("tpm-external");
    let socket = st.root().join("ext-tpm.sock");
    let log = st.root().join("swtpm.log");
    let d = st.driver();
    // Nobody listens yet: refused before QEMU, naming the element.
    let dom = d
        .define_xml(&firmware_vm(
            "tpmext",
            // SeaBIOS drives a TPM it finds in the ACPI tables.
            "<features><acpi/></features>",
            &external(&socket),
        ))
        .unwrap();
    assert!(!socket.exists());
    let e = d.start(&dom).unwrap_err();
    assert!(e.message.contains("<tpm><backend type='external'>"), "{e}");
    assert!(qemus_under(st.root()).is_empty());
    // With swtpm serving it.
    let swtpm = Swtpm::serve(st.root(), &socket, &log);
    d.start(&dom).unwrap();
    let tpms = qmp(&*d, &dom, "query-tpm", json!({}));
    assert_eq!(tpms[0]["model"], "tpm-tis", "{tpms}");
    assert_eq!(tpms[0]["options"]["type"], "emulator", "{tpms}");
    // The firmware's TPM commands reached swtpm: SeaBIOS's
    // TPM2_Startup(SU_CLEAR) and its PCR extends (TPM2_PCR_Extend),
    // as swtpm logs the bytes it reads.
    poll(
        "the firmware's TPM commands in swtpm's log",
        Duration::from_secs(60),
        || {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            let startup = text.contains("80 01 00 00 00 0C 00 00 01 44 00 00");
            let extend = text.contains("80 02 00 00 00 CB 00 00 01 82");
            (startup && extend).then_some(())
        },
    );
    d.destroy(&dom).unwrap();
    drop(swtpm);
}
