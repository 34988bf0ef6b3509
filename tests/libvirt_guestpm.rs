//! The guest's trim, vCPUs and power through libvirt's protocol, with
//! the real clients (Debian's virsh and python3-libvirt 9.0) against a
//! real qvirtd and Debian's qemu-ga in the Linux test guest: `domfstrim`
//! reaches the host image (its allocated size shrinks), `guestvcpus`
//! takes a vCPU offline in the guest's own kernel, `dompmsuspend` puts
//! the guest to sleep in RAM (its kernel logs the suspend, the domain is
//! pmsuspended) and `dompmwakeup` wakes it; and the refusals, with
//! libvirt's codes.

#[allow(dead_code, unused_imports)]
#[path = "daemon/support.rs"]
mod support;

#[path = "libvirt/lv.rs"]
mod lv;

#[path = "libvirt/guest_shell.rs"]
mod guest_shell;

use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use guest_shell::Guest;
use lv::*;
use qvirt::driver::GuestAgent;
use support::*;

const BOOT: Duration = Duration::from_secs(180);
const QUICK: Duration = Duration::from_secs(30);

/// The bytes the host file system holds for `image`.
fn allocated(image: &Path) -> u64 {
    std::fs::metadata(image).expect("stat the image").blocks() * 512
}

/// Writes 16 MiB in a file on the guest's file system at /mnt/d, then
/// deletes it (synced both times): its blocks stay allocated in the
/// host's image until a trim discards them.
fn write_and_delete(g: &mut Guest) {
    g.run("dd if=/dev/urandom of=/mnt/d/f bs=1M count=16 2>/dev/null; sync");
    g.run("rm /mnt/d/f; sync");
}

/// One field of `virsh guestvcpus`.
fn vcpu_field(s: &Path, name: &str, field: &str) -> String {
    let out = virsh_ok(s, &["guestvcpus", name]);
    out.lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            (k.trim() == field).then(|| v.trim().to_string())
        })
        .unwrap_or_else(|| panic!("no {field} in {out}"))
}

/// python3-libvirt 9.0's guestVcpus returns None where the call failed
/// instead of raising: this raises then.
const GUEST_VCPUS: &str = "assert dom.guestVcpus() is not None, 'failed'";

/// domfstrim, through virsh and python3-libvirt, discards what the guest
/// deleted: the host's image shrinks each time. --mountpoint is refused
/// as libvirt refuses it.
#[test]
fn domfstrim_discards_the_guests_free_blocks_in_the_host_image() {
    let dir = TestDir::new("lvfstrim");
    let _daemon = Daemon::start(&dir.path, &[]);
    let qvirt = _daemon.connect();
    let s = lv_socket(&dir.path);
    let image = dir.path.join("d.img");
    let xml = agent_vm_with(
        "lx-trim",
        &image,
        " guestagent",
        1,
        64 << 20,
        " discard='unmap'",
    );
    let f = write_file(&dir.path, "lx.xml", &xml);
    virsh_ok(&s, &["define", f.to_str().unwrap()]);
    virsh_ok(&s, &["start", "lx-trim"]);
    let dom = qvirt.lookup_by_name("lx-trim").unwrap();
    let mut g = Guest::open(&*qvirt, &dom);
    assert!(
        g.run("pidof qemu-ga").parse::<u32>().is_ok(),
        "qemu-ga runs"
    );
    // The guest's disk says it can discard (QEMU's discard=unmap).
    assert_ne!(g.run("cat /sys/block/vda/queue/discard_max_bytes"), "0");
    g.run("mke2fs -q /dev/vda && mkdir -p /mnt/d && mount -t ext4 /dev/vda /mnt/d");
    assert!(g.run("grep /mnt/d /proc/mounts").contains("ext4"));

    write_and_delete(&mut g);
    let before = allocated(&image);
    assert!(
        before >= 16 << 20,
        "the file's blocks are in the image: {before}"
    );
    virsh_ok(&s, &["domfstrim", "lx-trim", "--minimum", "4096"]);
    let after = allocated(&image);
    assert!(
        after + (12 << 20) <= before,
        "virsh domfstrim freed the deleted file's blocks: {before} -> {after}"
    );

    write_and_delete(&mut g);
    let before = allocated(&image);
    assert_eq!(python(&s, "lx-trim", "print(dom.fSTrim(None, 0, 0))"), "0");
    let after = allocated(&image);
    assert!(
        after + (12 << 20) <= before,
        "python's fSTrim freed the deleted file's blocks: {before} -> {after}"
    );

    let err = virsh_err(&s, &["domfstrim", "lx-trim", "--mountpoint", "/mnt/d"]);
    assert!(
        err.contains("Specifying mount point is not supported for now"),
        "{err}"
    );
    assert_eq!(
        python_code(&s, "lx-trim", "dom.fSTrim('/mnt/d', 0, 0)"),
        libvirt_code("VIR_ERR_ARGUMENT_UNSUPPORTED")
    );
    // qvirt's own verb, over qvirt's protocol, trims too.
    write_and_delete(&mut g);
    let before = allocated(&image);
    let out = Command::new(QVIRT)
        .args(["-c", &_daemon.uri(), "domfstrim", "lx-trim"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(allocated(&image) + (12 << 20) <= before);
    // And qvirt's libvirt client, over libvirt's protocol.
    write_and_delete(&mut g);
    let before = allocated(&image);
    let lv = libvirt_client(&s);
    lv.fs_trim(&lv.lookup_by_name("lx-trim").unwrap(), 0)
        .unwrap();
    assert!(allocated(&image) + (12 << 20) <= before);
    virsh_ok(&s, &["destroy", "lx-trim"]);
}

/// guestvcpus shows the guest's vCPUs as its kernel has them, and takes
/// vCPU 1 offline and back in the guest's kernel (virsh, python3-libvirt
/// and qvirt); vCPU 0, a vCPU the guest lacks and a malformed list are
/// refused with libvirt's errors.
#[test]
fn guestvcpus_takes_a_vcpu_offline_in_the_guest() {
    let dir = TestDir::new("lvgvcpus");
    let daemon = Daemon::start(&dir.path, &[]);
    let qvirt = daemon.connect();
    let s = lv_socket(&dir.path);
    let xml = agent_vm_with(
        "lx-cpu",
        &dir.path.join("d.img"),
        " guestagent",
        2,
        8 << 20,
        "",
    );
    let f = write_file(&dir.path, "lx.xml", &xml);
    virsh_ok(&s, &["define", f.to_str().unwrap()]);
    virsh_ok(&s, &["start", "lx-cpu"]);
    let dom = qvirt.lookup_by_name("lx-cpu").unwrap();
    let mut g = Guest::open(&*qvirt, &dom);
    assert!(
        g.run("pidof qemu-ga").parse::<u32>().is_ok(),
        "qemu-ga runs"
    );
    let online = "cat /sys/devices/system/cpu/cpu1/online";
    assert_eq!(g.run(online), "1");
    assert_eq!(g.run("cat /sys/devices/system/cpu/online"), "0-1");

    assert_eq!(vcpu_field(&s, "lx-cpu", "vcpus"), "0-1");
    assert_eq!(vcpu_field(&s, "lx-cpu", "online"), "0-1");
    // x86 Linux cannot take the boot CPU offline: no online file.
    let cpu0 = "[ -e /sys/devices/system/cpu/cpu0/online ] || echo no";
    assert_eq!(g.run(cpu0), "no");
    assert_eq!(vcpu_field(&s, "lx-cpu", "offlinable"), "1");

    virsh_ok(&s, &["guestvcpus", "lx-cpu", "--cpulist", "1", "--disable"]);
    assert_eq!(g.run(online), "0");
    assert_eq!(g.run("cat /sys/devices/system/cpu/online"), "0");
    assert_eq!(vcpu_field(&s, "lx-cpu", "online"), "0");
    assert_eq!(
        python(&s, "lx-cpu", "print(sorted(dom.guestVcpus().items()))"),
        "[('offlinable', '1'), ('online', '0'), ('vcpus', '0-1')]"
    );
    assert_eq!(
        python(&s, "lx-cpu", "print(dom.setGuestVcpus('1', 1))"),
        "0"
    );
    assert_eq!(g.run(online), "1");
    // qvirt's own verbs over qvirt's protocol.
    let qvirt_cli = |args: &[&str]| {
        let out = Command::new(QVIRT)
            .args(["-c", &daemon.uri()])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    qvirt_cli(&["guestvcpus", "lx-cpu", "--cpulist", "1", "--disable"]);
    assert_eq!(g.run(online), "0");
    assert!(
        qvirt_cli(&["guestvcpus", "lx-cpu"]).contains("online         : 0\n"),
        "qvirt guestvcpus"
    );
    virsh_ok(&s, &["guestvcpus", "lx-cpu", "--cpulist", "1", "--enable"]);
    assert_eq!(g.run(online), "1");
    // And qvirt's libvirt client, over libvirt's protocol.
    let lv = libvirt_client(&s);
    let lvdom = lv.lookup_by_name("lx-cpu").unwrap();
    lv.set_guest_vcpus(&lvdom, "1", false).unwrap();
    assert_eq!(g.run(online), "0");
    let fields = lv.guest_vcpus(&lvdom).unwrap();
    let text = |v: &str| qvirt::driver::GuestValue::Text(v.into());
    assert_eq!(
        fields,
        [
            ("vcpus".to_string(), text("0-1")),
            ("online".to_string(), text("0")),
            ("offlinable".to_string(), text("1")),
        ]
    );
    let e = lv.set_guest_vcpus(&lvdom, "0", false).unwrap_err();
    assert_eq!(e.code, qvirt::ErrorCode::NoSupport, "{e}");
    lv.set_guest_vcpus(&lvdom, "1", true).unwrap();
    assert_eq!(g.run(online), "1");

    // The refusals, as libvirt's.
    let err = virsh_err(&s, &["guestvcpus", "lx-cpu", "--cpulist", "0", "--disable"]);
    assert!(err.contains("vCPU '0' is not offlinable"), "{err}");
    assert_eq!(
        python_code(&s, "lx-cpu", "dom.setGuestVcpus('0', 0)"),
        libvirt_code("VIR_ERR_OPERATION_UNSUPPORTED")
    );
    let err = virsh_err(
        &s,
        &["guestvcpus", "lx-cpu", "--cpulist", "1,5", "--enable"],
    );
    assert!(err.contains("guest is missing vCPUs '5'"), "{err}");
    let err = virsh_err(
        &s,
        &["guestvcpus", "lx-cpu", "--cpulist", "1-x", "--enable"],
    );
    assert!(err.contains("Failed to parse bitmap '1-x'"), "{err}");
    assert_eq!(
        python_code(&s, "lx-cpu", "dom.setGuestVcpus('1-x', 1)"),
        libvirt_code("VIR_ERR_INVALID_ARG")
    );
    assert_eq!(
        python_code(&s, "lx-cpu", "dom.setGuestVcpus('1', 2)"),
        libvirt_code("VIR_ERR_INVALID_ARG")
    );
    // Nothing changed by a refusal.
    assert_eq!(g.run(online), "1");
    virsh_ok(&s, &["destroy", "lx-cpu"]);
}

/// python3-libvirt's power management callbacks
/// (`VIR_DOMAIN_EVENT_ID_PMSUSPEND`, `_PMWAKEUP`, ...) for a domain,
/// through `tests/libvirt/domain_events.py`.
struct PmListener {
    child: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
}

impl PmListener {
    fn start(socket: &Path, dom: &str) -> PmListener {
        use std::io::BufRead;
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/libvirt/domain_events.py");
        let mut child = Command::new(PYTHON)
            .arg(script)
            .arg(uri(socket))
            .arg(dom)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("run the python3-libvirt program");
        let out = std::io::BufReader::new(child.stdout.take().unwrap());
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in out.lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let l = PmListener { child, lines };
        l.said("READY");
        l
    }

    /// The next line python printed is `line`.
    fn said(&self, line: &str) {
        let got = self.lines.recv_timeout(QUICK).expect("python's line");
        assert_eq!(got, line);
    }
}

impl Drop for PmListener {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let status = self.child.wait().expect("python's exit");
        if !std::thread::panicking() {
            assert!(status.success(), "the python program failed");
        }
    }
}

/// qvirt's own client of libvirt's protocol on `socket`.
fn libvirt_client(socket: &Path) -> Box<dyn qvirt::Driver> {
    qvirt::connect(&format!(
        "qemu+unix:///session?socket={}&proto=libvirt",
        socket.display()
    ))
    .unwrap()
}

/// QEMU's run state of `dom` (`query-status`).
fn qemu_status(d: &dyn qvirt::Driver, dom: &qvirt::Domain) -> String {
    let reply = d
        .qemu_monitor_command(dom, r#"{"execute":"query-status"}"#)
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&reply).unwrap();
    v["return"]["status"].as_str().unwrap().to_string()
}

/// Starts `name` and waits for its shell and its agent.
fn start_with_agent(s: &Path, d: &dyn qvirt::Driver, name: &str) -> Guest {
    virsh_ok(s, &["start", name]);
    let dom = d.lookup_by_name(name).unwrap();
    let mut g = Guest::open(d, &dom);
    assert!(
        g.run("pidof qemu-ga").parse::<u32>().is_ok(),
        "qemu-ga runs"
    );
    g
}

/// dompmsuspend mem puts the guest to sleep in RAM: its kernel can
/// (`mem` in /sys/power/state), QEMU's run state is `suspended`, the
/// domain pmsuspended with libvirt's event. dompmwakeup has QEMU wake
/// it: QEMU runs it again and the domain is running (event wakeup), with
/// libvirt's started/wakeup event. (The test guest's own resume does not
/// come back under TCG: SeaBIOS jumps to the kernel's wake vector and the
/// guest resets there, over and over, so the guest's shell is not asked
/// after the wake-up.) A qvirtd killed and started again while the
/// guest sleeps finds it pmsuspended. A running guest is not woken and a shut-off
/// domain is refused, as libvirt refuses them.
#[test]
fn dompmsuspend_and_dompmwakeup_put_the_guest_to_sleep_and_wake_it() {
    use qvirt::driver::{EventKind, StateReason};
    let dir = TestDir::new("lvpm");
    let daemon = Daemon::start(&dir.path, &[]);
    let qvirt = daemon.connect();
    let s = lv_socket(&dir.path);
    let xml = agent_vm("lx-pm", &dir.path.join("d.img"), " guestagent");
    let f = write_file(&dir.path, "lx.xml", &xml);
    virsh_ok(&s, &["define", f.to_str().unwrap()]);
    let mut g = start_with_agent(&s, &*qvirt, "lx-pm");
    let dom = qvirt.lookup_by_name("lx-pm").unwrap();
    assert!(g.run("cat /sys/power/state").contains("mem"));

    // Not asleep: QEMU will not wake it (nor for qvirt's libvirt
    // client, whose call crosses libvirt's protocol).
    let err = virsh_err(&s, &["dompmwakeup", "lx-pm"]);
    assert!(err.contains("not in suspended state"), "{err}");
    let lv = libvirt_client(&s);
    let e = lv
        .pm_wakeup(&lv.lookup_by_name("lx-pm").unwrap())
        .unwrap_err();
    assert!(e.message.contains("not in suspended state"), "{e}");
    // libvirt's own refusals of the arguments.
    let err = virsh_err(&s, &["dompmsuspend", "lx-pm", "mem", "--duration", "5"]);
    assert!(
        err.contains("Duration not supported. Use 0 for now"),
        "{err}"
    );
    assert_eq!(
        python_code(&s, "lx-pm", "dom.pMSuspendForDuration(7, 0, 0)"),
        libvirt_code("VIR_ERR_INVALID_ARG")
    );

    let pm_events = PmListener::start(&s, "lx-pm");
    let mut events = qvirt.events().unwrap();
    let mut next_event = |want: EventKind| {
        wait_for(&format!("the event {want:?}"), QUICK, || {
            events
                .next(Duration::from_secs(1))
                .unwrap()
                .filter(|e| e.kind == want && e.domain.name == "lx-pm")
        })
    };
    virsh_ok(&s, &["dompmsuspend", "lx-pm", "mem"]);
    assert_eq!(qemu_status(&*qvirt, &dom), "suspended");
    assert_eq!(virsh_ok(&s, &["domstate", "lx-pm"]).trim(), "pmsuspended");
    assert_eq!(
        python(
            &s,
            "lx-pm",
            "print(dom.state()[0] == libvirt.VIR_DOMAIN_PMSUSPENDED)"
        ),
        "True"
    );
    next_event(EventKind::PmSuspended { disk: false });
    pm_events.said("PM PMSUSPEND 0");

    assert_eq!(python(&s, "lx-pm", "print(dom.pMWakeup(0))"), "0");
    next_event(EventKind::Started(StateReason::Wakeup));
    pm_events.said("PM PMWAKEUP 0");
    drop(pm_events);
    assert_ne!(qemu_status(&*qvirt, &dom), "suspended");
    assert!(virsh_ok(&s, &["domstate", "lx-pm", "--reason"]).contains("running (event wakeup)"));

    // Again through qvirt's own verbs over qvirt's protocol, with a
    // restart of qvirtd while the guest sleeps: the new one reads QEMU's
    // suspended state as pmsuspended.
    virsh_ok(&s, &["destroy", "lx-pm"]);
    drop(g);
    let _g = start_with_agent(&s, &*qvirt, "lx-pm");
    let qvirt_cli = |uri: &str, args: &[&str]| {
        let out = Command::new(QVIRT)
            .args(["-c", uri])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
    };
    qvirt_cli(&daemon.uri(), &["dompmsuspend", "lx-pm", "mem"]);
    let dom = qvirt.lookup_by_name("lx-pm").unwrap();
    assert_eq!(qemu_status(&*qvirt, &dom), "suspended");
    assert_eq!(virsh_ok(&s, &["domstate", "lx-pm"]).trim(), "pmsuspended");
    // Killed (SIGKILL) and started again.
    drop((events, _g, qvirt));
    drop(daemon);
    let daemon = Daemon::start(&dir.path, &[]);
    assert_eq!(virsh_ok(&s, &["domstate", "lx-pm"]).trim(), "pmsuspended");
    qvirt_cli(&daemon.uri(), &["dompmwakeup", "lx-pm"]);
    wait_for("the domain to run again", QUICK, || {
        (virsh_ok(&s, &["domstate", "lx-pm"]).trim() == "running").then_some(())
    });

    virsh_ok(&s, &["destroy", "lx-pm"]);
    let err = virsh_err(&s, &["dompmwakeup", "lx-pm"]);
    assert!(err.contains("domain is not running"), "{err}");
    assert_eq!(
        python_code(&s, "lx-pm", "dom.pMWakeup(0)"),
        libvirt_code("VIR_ERR_OPERATION_INVALID")
    );
}

/// Without an agent channel the agent's verbs are libvirt's
/// VIR_ERR_ARGUMENT_UNSUPPORTED, the read-only socket refuses all five
/// calls with VIR_ERR_OPERATION_DENIED, and a suspend is refused where
/// the machine cannot wake or the definition turns the sleep state off.
#[test]
fn guest_pm_calls_are_refused_as_libvirt_refuses_them() {
    let dir = TestDir::new("lvpmrefused");
    let _daemon = Daemon::start(&dir.path, &["--read-only-socket"]);
    let s = lv_socket(&dir.path);
    let ro = lv_socket_ro(&dir.path);
    let f = write_file(&dir.path, "fw.xml", &firmware_vm("fw-pm"));
    virsh_ok(&s, &["define", f.to_str().unwrap()]);
    virsh_ok(&s, &["start", "fw-pm"]);
    for args in [
        &["domfstrim", "fw-pm"][..],
        &["guestvcpus", "fw-pm"],
        &["guestvcpus", "fw-pm", "--cpulist", "0", "--enable"],
        &["dompmsuspend", "fw-pm", "mem"],
    ] {
        let err = virsh_err(&s, args);
        assert!(
            err.contains("QEMU guest agent is not configured"),
            "{args:?}: {err}"
        );
    }
    let unsupported = libvirt_code("VIR_ERR_ARGUMENT_UNSUPPORTED");
    for call in [
        "dom.fSTrim(None, 0, 0)",
        GUEST_VCPUS,
        "dom.setGuestVcpus('0', 1)",
        "dom.pMSuspendForDuration(0, 0, 0)",
    ] {
        assert_eq!(python_code(&s, "fw-pm", call), unsupported, "{call}");
    }
    let denied = libvirt_code("VIR_ERR_OPERATION_DENIED");
    for call in [
        "dom.fSTrim(None, 0, 0)",
        GUEST_VCPUS,
        "dom.setGuestVcpus('0', 1)",
        "dom.pMSuspendForDuration(0, 0, 0)",
        "dom.pMWakeup(0)",
    ] {
        assert_eq!(python_code(&ro, "fw-pm", call), denied, "{call}");
    }
    let err = virsh_err(&ro, &["dompmwakeup", "fw-pm"]);
    assert!(err.contains("read only"), "{err}");
    virsh_ok(&s, &["destroy", "fw-pm"]);

    // With an agent's channel (no agent need answer: these come first),
    // a machine that cannot wake (no ACPI: QEMU's query-current-machine
    // says so) and sleep states the definition turns off (<pm>) are
    // refused as libvirt refuses them.
    let with_channel = |name: &str, after_os: &str| {
        firmware_vm(name)
            .replace("</os>", &format!("</os>{after_os}"))
            .replace(
                "</devices>",
                "<channel type='unix'><source mode='bind'/>\
                 <target type='virtio' name='org.qemu.guest_agent.0'/></channel></devices>",
            )
    };
    let f = write_file(&dir.path, "noacpi.xml", &with_channel("fw-noacpi", ""));
    virsh_ok(&s, &["create", f.to_str().unwrap()]);
    let err = virsh_err(&s, &["dompmsuspend", "fw-noacpi", "mem"]);
    assert!(
        err.contains("Domain does not have suspend support"),
        "{err}"
    );
    assert_eq!(
        python_code(&s, "fw-noacpi", "dom.pMSuspendForDuration(0, 0, 0)"),
        libvirt_code("VIR_ERR_OPERATION_UNSUPPORTED")
    );
    virsh_ok(&s, &["destroy", "fw-noacpi"]);
    let pm = "<features><acpi/></features><pm><suspend-to-mem enabled='no'/>\
              <suspend-to-disk enabled='no'/></pm>";
    let f = write_file(&dir.path, "nos3.xml", &with_channel("fw-nos3", pm));
    virsh_ok(&s, &["create", f.to_str().unwrap()]);
    for (target, state) in [("mem", "S3"), ("hybrid", "S3"), ("disk", "S4")] {
        let err = virsh_err(&s, &["dompmsuspend", "fw-nos3", target]);
        let want = format!("{state} state is disabled for this domain");
        assert!(err.contains(&want), "{target}: {err}");
    }
    assert_eq!(
        python_code(&s, "fw-nos3", "dom.pMSuspendForDuration(0, 0, 0)"),
        libvirt_code("VIR_ERR_INTERNAL_ERROR")
    );
    virsh_ok(&s, &["destroy", "fw-nos3"]);
}
