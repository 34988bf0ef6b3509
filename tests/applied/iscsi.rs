//! `<disk type='network'>` with `protocol='iscsi'`, against a real
//! target: Debian's `tgt` serves an image as a LUN on the loopback of a
//! network namespace the test makes, and the domain is started inside
//! that namespace (its QEMU stays there), so no traffic leaves it.
//! QEMU's own iSCSI initiator (`qemu-block-extra`) opens the LUN: the
//! drive is the iSCSI URL and has the LUN's size.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::support::{State, firmware_vm, must, poll, qemus_under};

pub(crate) const IQN: &str = "iqn.2026-12.org.qvirt:applied";

/// A network namespace with loopback up, and `tgtd` serving in it;
/// everything in it killed and the namespace deleted on drop.
pub(crate) struct Target {
    /// The network namespace the target serves in.
    pub(crate) ns: String,
    control: String,
    tgtd: Child,
}

impl Target {
    /// Serves `image` as LUN 1 of target [`IQN`] on 127.0.0.1:3260 inside
    /// a new namespace.
    pub(crate) fn serve(image: &Path) -> Target {
        assert!(
            nix::unistd::geteuid().is_root(),
            "the iSCSI test needs root (a network namespace and tgtd)"
        );
        // Each target its own namespace and control socket (tests run
        // at once in one process).
        static SEQ: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let ns = format!("qvt-{}-iscsi{seq}", std::process::id());
        let _ = Command::new("ip").args(["netns", "del", &ns]).status();
        must(Command::new("ip").args(["netns", "add", &ns]));
        must(Command::new("ip").args(["netns", "exec", &ns, "ip", "link", "set", "lo", "up"]));
        // Its own control socket, so that a tgtd of the host's is never
        // the one told what to serve.
        let control = (100 + (std::process::id() * 4 + seq) % 800).to_string();
        let tgtd = Command::new("ip")
            .args(["netns", "exec", &ns, "tgtd", "-f", "-C", &control])
            .args(["--iscsi", "portal=127.0.0.1:3260"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("tgtd (Debian package tgt) runs");
        let t = Target { ns, control, tgtd };
        let adm = |args: &[&str]| t.adm(args);
        poll("tgtd to take commands", Duration::from_secs(10), || {
            adm(&["--op", "show", "--mode", "target"])
                .output()
                .is_ok_and(|o| o.status.success())
                .then_some(())
        });
        must(&mut adm(&[
            "--op", "new", "--mode", "target", "--tid", "1", "-T", IQN,
        ]));
        t.add_lun(1, image);
        must(&mut adm(&[
            "--op", "bind", "--mode", "target", "--tid", "1", "-I", "ALL",
        ]));
        t
    }
}

impl Target {
    /// `qvirt -c qemu:///embed?root=ROOT start NAME` run inside this
    /// target's namespace, so that the QEMU it starts is born there (its
    /// traffic stays in it): the command's output.
    pub(crate) fn start_in(&self, root: &Path, name: &str) -> std::process::Output {
        Command::new("ip")
            .args(["netns", "exec", &self.ns])
            .arg(env!("CARGO_BIN_EXE_qvirt"))
            .arg("-c")
            .arg(format!("qemu:///embed?root={}", root.display()))
            .args(["start", name])
            .output()
            .expect("run ip netns exec qvirt")
    }

    /// `tgtadm` on this target's control socket.
    fn adm(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("tgtadm");
        cmd.args(["-C", &self.control, "--lld", "iscsi"]).args(args);
        cmd
    }

    /// From now on an initiator must log in with CHAP as `user`.
    pub(crate) fn require_chap(&self, user: &str, password: &str) {
        must(&mut self.adm(&[
            "--op",
            "new",
            "--mode",
            "account",
            "--user",
            user,
            "--password",
            password,
        ]));
        must(&mut self.adm(&[
            "--op", "bind", "--mode", "account", "--tid", "1", "--user", user,
        ]));
    }

    /// From now on only initiator `iqn` may log in.
    fn only_initiator(&self, iqn: &str) {
        must(&mut self.adm(&[
            "--op", "unbind", "--mode", "target", "--tid", "1", "-I", "ALL",
        ]));
        must(&mut self.adm(&["--op", "bind", "--mode", "target", "--tid", "1", "-Q", iqn]));
    }

    /// Serves `image` as LUN `lun` too.
    pub(crate) fn add_lun(&self, lun: u32, image: &Path) {
        must(&mut self.adm(&[
            "--op",
            "new",
            "--mode",
            "logicalunit",
            "--tid",
            "1",
            "--lun",
            &lun.to_string(),
            "-b",
            image.to_str().unwrap(),
        ]));
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
    let out = target.start_in(st.root(), "iscsi");
    assert!(out.status.success(), "{out:?}");
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

fn sparse(path: &Path, mib: u64) {
    std::fs::File::create(path)
        .unwrap()
        .set_len(mib * 1024 * 1024)
        .unwrap();
}

/// A disk of a target that requires CHAP: the password is a secret
/// (private, so no client can read it back), found by its iSCSI usage;
/// QEMU logs in with it through a `secret` object that reads a 0600 file
/// in the run directory, never the command line. Without the value, or
/// with a wrong one, the start fails and says why; a disk plugged in
/// later logs in the same way, and its secret object goes when it is
/// unplugged.
#[test]
fn iscsi_disk_logs_in_with_the_chap_secret() {
    const PASSWORD: &str = "qvirt-chap-secret-1";
    let st = State::new("iscsichap");
    let (one, two) = (st.root().join("lun1.raw"), st.root().join("lun2.raw"));
    sparse(&one, 12);
    sparse(&two, 20);
    let target = Target::serve(&one);
    target.add_lun(2, &two);
    target.require_chap("qvirt", PASSWORD);
    let disk = |lun: u32, dev: &str| {
        format!(
            "<disk type='network' device='disk'>
      <driver name='qemu' type='raw'/>
      <source protocol='iscsi' name='{IQN}/{lun}'>
        <host name='127.0.0.1' port='3260'/>
        <auth username='qvirt'><secret type='iscsi' usage='applied-target'/></auth>
      </source>
      <target dev='{dev}' bus='virtio'/>
    </disk>"
        )
    };
    let xml = firmware_vm(
        "iscsichap",
        "<features><acpi/></features>",
        &format!(
            "{}<controller type='scsi' model='virtio-scsi'/>",
            disk(1, "vda")
        ),
    );
    let d = st.driver();
    d.define_xml(&xml).unwrap();
    let secret = d
        .secret_define_xml(
            "<secret ephemeral='no' private='yes'>
  <usage type='iscsi'><target>applied-target</target></usage>
</secret>",
        )
        .unwrap();
    drop(d);
    let start = || target.start_in(st.root(), "iscsichap");
    // No value yet: refused before QEMU, naming the disk and the secret.
    let out = start();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "started without a secret value");
    assert!(
        err.contains("disk 'vda'") && err.contains("does not have a value"),
        "{err}"
    );
    assert!(qemus_under(st.root()).is_empty(), "a QEMU was left: {err}");
    // A wrong password: the target turns QEMU away, and the start says so.
    st.driver()
        .secret_set_value(&secret, b"not-the-password")
        .unwrap();
    let out = start();
    assert!(!out.status.success(), "logged in with a wrong password");
    assert!(qemus_under(st.root()).is_empty());
    // The right one.
    st.driver()
        .secret_set_value(&secret, PASSWORD.as_bytes())
        .unwrap();
    let out = start();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // One manager from here on, its monitor the only client.
    let d = st.driver();
    let dom = d.lookup_by_name("iscsichap").unwrap();
    let qmp = |cmd: &str, args: serde_json::Value| -> serde_json::Value {
        let line = serde_json::json!({"execute": cmd, "arguments": args}).to_string();
        let out = d.qemu_monitor_command(&dom, &line).unwrap();
        serde_json::from_str::<serde_json::Value>(&out).unwrap()["return"].clone()
    };
    let sizes = || {
        qmp("query-block", serde_json::json!({}))
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|b| b["inserted"]["image"]["virtual-size"].as_u64())
            .collect::<Vec<_>>()
    };
    assert_eq!(sizes(), [12 * 1024 * 1024]);
    // The value is in a private file, not on the command line.
    let pid = st.qemu_pid("iscsichap");
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap();
    assert!(
        !String::from_utf8_lossy(&cmdline).contains(PASSWORD),
        "the password is on QEMU's command line"
    );
    let file = st.run_dir("iscsichap").join("secret-virtio-disk0");
    let meta = std::fs::metadata(&file).unwrap();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o777,
        0o600
    );
    // A client cannot read a private secret's value back.
    let e = d.secret_get_value(&secret).unwrap_err();
    assert_eq!(e.code, qvirt::ErrorCode::OperationDenied, "{e}");
    // Plugged in live (on SCSI, whose unplug needs no guest): the second
    // LUN logs in with the same secret, through a secret object of its
    // own that goes with it.
    let sda = disk(2, "sda").replace("bus='virtio'", "bus='scsi'");
    d.attach_device(&dom, &sda, qvirt::driver::ModifyFlags::LIVE)
        .unwrap();
    assert!(sizes().contains(&(20 * 1024 * 1024)), "{:?}", sizes());
    let secrets = || {
        qmp("qom-list", serde_json::json!({"path": "/objects"}))
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|o| o["name"].as_str().map(str::to_string))
            .filter(|n| n.ends_with("-auth-secret"))
            .collect::<Vec<_>>()
    };
    assert_eq!(secrets().len(), 2, "{:?}", secrets());
    d.detach_device(&dom, &sda, qvirt::driver::ModifyFlags::LIVE)
        .unwrap();
    assert_eq!(secrets(), ["virtio-disk0-auth-secret"]);
    assert_eq!(sizes(), [12 * 1024 * 1024]);
    let left: Vec<_> = std::fs::read_dir(st.run_dir("iscsichap"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("secret-"))
        .collect();
    assert_eq!(left, ["secret-virtio-disk0"]);
    d.destroy(&dom).unwrap();
    drop(d);
    drop(target);
}

/// `<initiator><iqn name>`: QEMU logs in under that name. A target that
/// admits only it turns a start without it away, and serves the LUN to
/// one with it.
#[test]
fn iscsi_disk_logs_in_under_its_initiator_name() {
    const INITIATOR: &str = "iqn.2026-12.org.qvirt:initiator-a";
    let st = State::new("iscsi-iqn");
    let image = st.root().join("lun.raw");
    sparse(&image, 8);
    let target = Target::serve(&image);
    target.only_initiator(INITIATOR);
    let start = |name: &str| target.start_in(st.root(), name);
    for (name, initiator) in [
        ("anon", String::new()),
        (
            "named",
            format!("<initiator><iqn name='{INITIATOR}'/></initiator>"),
        ),
    ] {
        let xml = firmware_vm(
            name,
            "",
            &format!(
                "<disk type='network' device='disk'>
      <driver name='qemu' type='raw'/>
      <source protocol='iscsi' name='{IQN}/1'><host name='127.0.0.1' port='3260'/>{initiator}</source>
      <target dev='vda' bus='virtio'/>
    </disk>"
            ),
        );
        st.driver().define_xml(&xml).unwrap();
        let out = start(name);
        if initiator.is_empty() {
            assert!(
                !out.status.success(),
                "{name}: a start with QEMU's own initiator name"
            );
            assert!(qemus_under(st.root()).is_empty(), "a QEMU was left");
            continue;
        }
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut qmp = st.qmp(name);
        let disk = qmp.inserted("virtio-disk0");
        assert_eq!(disk["image"]["virtual-size"], 8 * 1024 * 1024, "{disk}");
        drop(qmp);
        let live = st.live_xml(name);
        assert!(
            live.contains(&format!("<iqn name='{INITIATOR}'/>")),
            "{live}"
        );
        st.stop(name);
    }
    drop(target);
}
