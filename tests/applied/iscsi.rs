//! `<disk type='network'>` with `protocol='iscsi'`, against a real
//! target: Debian's `tgt` serves an image as a LUN on the loopback of a
//! network namespace the test makes, and the domain is started inside
//! that namespace (its QEMU stays there), so no traffic leaves it.
//! QEMU's own iSCSI initiator (`qemu-block-extra`) opens the LUN: the
//! drive is the iSCSI URL and has the LUN's size.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::support::{State, firmware_vm, poll};

const IQN: &str = "iqn.2026-12.org.qvirt:applied";

/// A network namespace with loopback up, and `tgtd` serving in it;
/// everything in it killed and the namespace deleted on drop.
struct Target {
    ns: String,
    control: String,
    tgtd: Child,
}

fn must(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Target {
    /// Serves `image` as LUN 1 of target [`IQN`] on 127.0.0.1:3260 inside
    /// a new namespace.
    fn serve(image: &Path) -> Target {
        assert!(
            nix::unistd::geteuid().is_root(),
            "the iSCSI test needs root (a network namespace and tgtd)"
        );
        let ns = format!("qvt-{}-iscsi", std::process::id());
        let _ = Command::new("ip").args(["netns", "del", &ns]).status();
        must(Command::new("ip").args(["netns", "add", &ns]));
        must(Command::new("ip").args(["netns", "exec", &ns, "ip", "link", "set", "lo", "up"]));
        // Its own control socket, so that a tgtd of the host's is never
        // the one told what to serve.
        let control = (100 + std::process::id() % 800).to_string();
        let tgtd = Command::new("ip")
            .args(["netns", "exec", &ns, "tgtd", "-f", "-C", &control])
            .args(["--iscsi", "portal=127.0.0.1:3260"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("tgtd (Debian package tgt) runs");
        let t = Target { ns, control, tgtd };
        let adm = |args: &[&str]| {
            let mut cmd = Command::new("tgtadm");
            cmd.args(["-C", &t.control, "--lld", "iscsi"]).args(args);
            cmd
        };
        poll("tgtd to take commands", Duration::from_secs(10), || {
            adm(&["--op", "show", "--mode", "target"])
                .output()
                .is_ok_and(|o| o.status.success())
                .then_some(())
        });
        must(&mut adm(&[
            "--op", "new", "--mode", "target", "--tid", "1", "-T", IQN,
        ]));
        must(&mut adm(&[
            "--op",
            "new",
            "--mode",
            "logicalunit",
            "--tid",
            "1",
            "--lun",
            "1",
            "-b",
            image.to_str().unwrap(),
        ]));
        must(&mut adm(&[
            "--op", "bind", "--mode", "target", "--tid", "1", "-I", "ALL",
        ]));
        t
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        let pids = Command::new("ip")
            .args(["netns", "pids", &self.ns])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        for pid in pids.split_whitespace().filter_map(|p| p.parse().ok()) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
        let _ = self.tgtd.kill();
        let _ = self.tgtd.wait();
        let _ = Command::new("ip").args(["netns", "del", &self.ns]).status();
    }
}

/// An iSCSI LUN as a virtio disk: QEMU opens it through its own
/// initiator, and the drive has the LUN's size.
#[test]
fn iscsi_network_disk_is_opened_by_qemu() {
    let st = State::new("iscsi");
    let image = st.root().join("lun.raw");
    std::fs::File::create(&image)
        .unwrap()
        .set_len(12 * 1024 * 1024)
        .unwrap();
    let target = Target::serve(&image);
    let xml = firmware_vm(
        "iscsi",
        "",
        &format!(
            "<disk type='network' device='disk'>
      <driver name='qemu' type='raw'/>
      <source protocol='iscsi' name='{IQN}/1'><host name='127.0.0.1' port='3260'/></source>
      <target dev='vda' bus='virtio'/>
    </disk>"
        ),
    );
    st.driver().define_xml(&xml).unwrap();
    // Started from inside the namespace: QEMU is born there.
    let root = format!("qemu:///embed?root={}", st.root().display());
    must(
        Command::new("ip")
            .args(["netns", "exec", &target.ns])
            .arg(env!("CARGO_BIN_EXE_qvirt"))
            .args(["-c", &root, "start", "iscsi"]),
    );
    let mut qmp = st.qmp("iscsi");
    let disk = qmp.inserted("virtio-disk0");
    let file = disk["file"].as_str().unwrap();
    assert!(
        file.contains("iscsi") && file.contains(IQN),
        "the drive is not the iSCSI LUN: {file}"
    );
    assert_eq!(disk["image"]["virtual-size"], 12 * 1024 * 1024, "{disk}");
    drop(qmp);
    st.stop("iscsi");
    drop(target);
}
