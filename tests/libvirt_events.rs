//! Domain events beyond the lifecycle, heard by unmodified clients
//! (Debian's virsh and python3-libvirt 9.0) on a real qvirtd's libvirt
//! socket: each cdrom tray move of a running VM, whether a media change
//! made it or a QMP command, reaches `virsh event --event tray-change`
//! and python's `VIR_DOMAIN_EVENT_ID_TRAY_CHANGE` callback with the
//! drive's alias and libvirt's reason, as it reaches `qvirt event` over
//! qvirt's own protocol, and QEMU's own `query-block` agrees with what
//! they were told. A guest's write past a disk's write threshold
//! (`domblkthreshold`) reaches them as `block-threshold` once, with
//! QEMU's own measure of how far it went, and QEMU's
//! `query-named-block-nodes` shows the threshold set, then cleared. A
//! disk plugged into the running VM and out again (SCSI: no guest needed)
//! reaches them as `device-added` and `device-removed` with its alias. A
//! guest writing to a disk whose host storage is full is paused by QEMU
//! (its error policy): all three hear `io-error-reason` (`enospc`), the
//! state says `paused (I/O error)`, and once there is room a resume lets
//! the guest's write finish. The guest agent connecting and leaving, the
//! balloon reaching a new size, the guest setting its clock and a note
//! changed reach python's callbacks (and virsh and qvirt the agent's). A
//! guest that stops feeding its watchdog is paused by QEMU, and all three
//! hear the watchdog's `pause`; a VNC client's connection, handshake and
//! departure reach them as graphics events; a running domain's pinning
//! and I/O throttle changed reach them as tunable events, a save's passes
//! over the guest's memory as migration iteration events.

#[allow(dead_code, unused_imports)]
#[path = "daemon/support.rs"]
mod support;

#[path = "libvirt/lv.rs"]
mod lv;

#[path = "libvirt/guest_shell.rs"]
mod guest_shell;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use lv::*;
use support::*;

const QUICK: Duration = Duration::from_secs(30);
const BOOT: Duration = Duration::from_secs(180);

/// `REMOTE_PROC_CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY`.
const REGISTER_ANY: i32 = 316;

/// The lines a child prints, as they come.
fn lines_of(child: &mut Child) -> Receiver<String> {
    let stdout = child.stdout.take().expect("a piped stdout");
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    rx
}

/// Whether QEMU reports the tray of `alias` open, by `query-block`
/// through virsh's `qemu-monitor-command`.
fn tray_open(socket: &std::path::Path, dom: &str, alias: &str) -> bool {
    let out = virsh_ok(
        socket,
        &["qemu-monitor-command", dom, r#"{"execute":"query-block"}"#],
    );
    let v: serde_json::Value = serde_json::from_str(&out).expect("QMP's JSON");
    v["return"]
        .as_array()
        .expect("query-block's list")
        .iter()
        .find(|b| b["qdev"] == alias)
        .and_then(|b| b["tray_open"].as_bool())
        .expect("the drive's tray state")
}

/// The listeners of one test: virsh's `event` loop, the python program
/// and `qvirt event` on qvirt's socket, each with the lines it prints.
struct Listeners {
    qvirt: Child,
    qvirt_lines: Receiver<String>,
    virsh: Child,
    virsh_lines: Receiver<String>,
    python: Child,
    python_in: Option<ChildStdin>,
    python_lines: Receiver<String>,
}

impl Listeners {
    /// All listen to `dom`'s events of type `event` (virsh's name) once
    /// this returns: virsh's registration was seen to pass to the daemon
    /// (which takes it before any later call of another client),
    /// python's call has returned, qvirt said it waits.
    fn start(daemon: &Daemon, dir: &std::path::Path, dom: &str, event: &str) -> Listeners {
        let mut qvirt = Command::new(QVIRT)
            .args(["-v", "-c", &daemon.uri(), "event", "--domain", dom])
            .args(["--event", event, "--loop"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("qvirt event");
        // It says so on stderr once it listens; the rest is drained.
        let stderr = BufReader::new(qvirt.stderr.take().expect("a piped stderr"));
        let (tx, listening) = channel();
        std::thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                if line.contains("waiting for events") {
                    let _ = tx.send(());
                }
            }
        });
        listening.recv_timeout(QUICK).expect("qvirt event listens");
        let qvirt_lines = lines_of(&mut qvirt);
        let recorder = Recorder::new(&dir.join("rec.sock"), &lv_socket(dir));
        let mut virsh = Command::new("virsh")
            .arg("-c")
            .arg(uri(&recorder.socket))
            .args(["event", "--domain", dom, "--event", event, "--loop"])
            .env("LC_ALL", "C")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("virsh event");
        let virsh_lines = lines_of(&mut virsh);
        wait_for("virsh's registration", QUICK, || {
            recorder.take().contains(&REGISTER_ANY).then_some(())
        });
        let script =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/libvirt/domain_events.py");
        let mut python = Command::new(PYTHON)
            .arg(script)
            .arg(uri(&lv_socket(dir)))
            .arg(dom)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("run the python3-libvirt program");
        let python_in = python.stdin.take();
        let python_lines = lines_of(&mut python);
        let ready = python_lines.recv_timeout(QUICK).expect("python's READY");
        assert_eq!(ready, "READY");
        Listeners {
            qvirt,
            qvirt_lines,
            virsh,
            virsh_lines,
            python,
            python_in,
            python_lines,
        }
    }

    /// Checks that the next events both heard are `moves` (alias, open).
    fn expect(&self, dom: &str, moves: &[(&str, bool)]) {
        for (alias, open) in moves {
            let how = if *open { "opened" } else { "closed" };
            let line = self
                .virsh_lines
                .recv_timeout(QUICK)
                .expect("virsh's event line");
            assert_eq!(
                line,
                format!("event 'tray-change' for domain '{dom}' disk {alias}: {how}")
            );
            let line = self
                .python_lines
                .recv_timeout(QUICK)
                .expect("python's event line");
            assert_eq!(line, format!("TRAY {alias} {}", i32::from(!*open)));
            let line = self
                .qvirt_lines
                .recv_timeout(QUICK)
                .expect("qvirt's event line");
            assert_eq!(
                line,
                format!("event 'tray-change' for domain '{dom}' disk {alias}: {how}")
            );
        }
    }
}

impl Listeners {
    /// Checks that the next event all heard is a block threshold of
    /// `dev` (file `path`) at `threshold`, exceeded by `excess` bytes.
    fn expect_threshold(&self, dom: &str, dev: &str, path: &str, threshold: u64, excess: u64) {
        let words = format!(
            "event 'block-threshold' for domain '{dom}': dev: {dev}({path}) {threshold} {excess}"
        );
        self.heard(&words, QUICK);
        self.python_said(&format!("THRESHOLD {dev} {path} {threshold} {excess}"));
    }

    /// Checks that the next event virsh and qvirt print (virsh's within
    /// `within`) is `words`.
    fn heard(&self, words: &str, within: Duration) {
        let line = self
            .virsh_lines
            .recv_timeout(within)
            .expect("virsh's event");
        assert_eq!(line, words);
        let line = self.qvirt_lines.recv_timeout(QUICK).expect("qvirt's event");
        assert_eq!(line, words);
    }

    /// Checks that the next line the python program prints is `line`.
    fn python_said(&self, line: &str) {
        let got = self
            .python_lines
            .recv_timeout(QUICK)
            .expect("python's event");
        assert_eq!(got, line);
    }
}

impl Drop for Listeners {
    fn drop(&mut self) {
        for child in [&mut self.virsh, &mut self.qvirt] {
            let _ = child.kill();
            let _ = child.wait();
        }
        drop(self.python_in.take());
        let status = self.python.wait().expect("python's exit");
        if !std::thread::panicking() {
            assert!(status.success(), "the python program failed");
        }
    }
}

#[test]
fn tray_moves_reach_virsh_and_python() {
    let dir = TestDir::new("lvtray");
    let daemon = Daemon::start(&dir.path, &[]);
    let socket = lv_socket(&dir.path);
    let xml = write_file(&dir.path, "tv.xml", &firmware_vm("tv"));
    virsh_ok(&socket, &["create", xml.to_str().unwrap()]);
    let iso = dir.path.join("medium.iso");
    std::fs::write(&iso, vec![0u8; 1 << 20]).unwrap();
    let iso = iso.to_str().unwrap();
    let listeners = Listeners::start(&daemon, &dir.path, "tv", "tray-change");
    // The firmware VM's cdrom is the IDE drive hdc: libvirt's alias
    // ide0-1-0. A media change opens its tray and closes it again.
    let drive = "ide0-1-0";
    virsh_ok(&socket, &["change-media", "tv", "hdc", iso, "--insert"]);
    listeners.expect("tv", &[(drive, true), (drive, false)]);
    assert!(!tray_open(&socket, "tv", drive));
    virsh_ok(&socket, &["change-media", "tv", "hdc", "--eject"]);
    listeners.expect("tv", &[(drive, true), (drive, false)]);
    // A move no call of qvirt's made, as a guest's eject would be.
    let qmp = |cmd: &str| {
        let json = format!(r#"{{"execute":"{cmd}","arguments":{{"id":"{drive}"}}}}"#);
        virsh_ok(&socket, &["qemu-monitor-command", "tv", &json]);
    };
    qmp("blockdev-open-tray");
    listeners.expect("tv", &[(drive, true)]);
    assert!(tray_open(&socket, "tv", drive));
    let live = virsh_ok(&socket, &["dumpxml", "tv"]);
    assert!(live.contains("tray='open'"), "{live}");
    qmp("blockdev-close-tray");
    listeners.expect("tv", &[(drive, false)]);
    assert!(!tray_open(&socket, "tv", drive));
    drop(listeners);
    virsh_ok(&socket, &["destroy", "tv"]);
    drop(daemon);
}

/// QEMU's write threshold of the storage node on `file`, by
/// `query-named-block-nodes` through virsh's `qemu-monitor-command`.
fn write_threshold(socket: &std::path::Path, dom: &str, file: &str) -> u64 {
    let out = virsh_ok(
        socket,
        &[
            "qemu-monitor-command",
            dom,
            r#"{"execute":"query-named-block-nodes","arguments":{"flat":true}}"#,
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&out).expect("QMP's JSON");
    v["return"]
        .as_array()
        .expect("the nodes")
        .iter()
        .find(|n| n["drv"] == "file" && n["file"] == file)
        .and_then(|n| n["write_threshold"].as_u64())
        .unwrap_or_else(|| panic!("no file node on {file}: {out}"))
}

#[test]
fn a_guest_write_past_the_threshold_reaches_virsh_python_and_qvirt() {
    let dir = TestDir::new("lvthreshold");
    let daemon = Daemon::start(&dir.path, &["--read-only-socket"]);
    let socket = lv_socket(&dir.path);
    let image = dir.path.join("th.raw");
    let out = Command::new("qemu-img")
        .args(["create", "-q", "-f", "raw"])
        .arg(&image)
        .arg("8M")
        .output()
        .expect("run qemu-img (Debian package qemu-utils)");
    assert!(out.status.success(), "{out:?}");
    let file = image.to_str().unwrap();
    let disk = format!(
        "<disk type='file' device='disk'><driver name='qemu' type='raw'/>\
         <source file='{file}'/><target dev='vda' bus='virtio'/></disk>"
    );
    let xml = linux_vm("th").replace("<devices>", &format!("<devices>{disk}"));
    let f = write_file(&dir.path, "th.xml", &xml);
    virsh_ok(&socket, &["define", f.to_str().unwrap()]);
    let e = virsh_err(&socket, &["domblkthreshold", "th", "vda", "4M"]);
    assert!(e.contains("it is shut off"), "{e}");
    virsh_ok(&socket, &["start", "th"]);
    let qvirt = daemon.connect();
    let dom = qvirt.lookup_by_name("th").unwrap();
    let mut g = guest_shell::Guest::open(&*qvirt, &dom);
    let listeners = Listeners::start(&daemon, &dir.path, "th", "block-threshold");

    virsh_ok(&socket, &["domblkthreshold", "th", "vda", "4M"]);
    assert_eq!(write_threshold(&socket, "th", file), 4 << 20);
    // One page at 6 MiB: QEMU measures the write's end past 4 MiB.
    g.run("dd if=/dev/zero of=/dev/vda bs=4096 count=1 seek=1536 conv=fsync");
    listeners.expect_threshold("th", "vda", file, 4 << 20, (2 << 20) + 4096);
    // QEMU cleared it: the event fires once.
    assert_eq!(write_threshold(&socket, "th", file), 0);

    // python3-libvirt sets it, qvirt's verb too; a write below it is
    // heard by no one, the next one past it is.
    let script = "import libvirt, sys\n\
        d = libvirt.open(sys.argv[1]).lookupByName('th')\n\
        d.setBlockThreshold('vda', 7 << 20, 0)\n\
        for dev, code in (('vdz', libvirt.VIR_ERR_INVALID_ARG), ('vda[1]', libvirt.VIR_ERR_ARGUMENT_UNSUPPORTED)):\n\
        \x20   try:\n\
        \x20       d.setBlockThreshold(dev, 1, 0)\n\
        \x20       raise SystemExit(dev + ' taken')\n\
        \x20   except libvirt.libvirtError as e:\n\
        \x20       assert e.get_error_code() == code, (dev, e)\n\
        r = libvirt.openReadOnly(sys.argv[2]).lookupByName('th')\n\
        try:\n\
        \x20   r.setBlockThreshold('vda', 1, 0)\n\
        \x20   raise SystemExit('read-only call')\n\
        except libvirt.libvirtError as e:\n\
        \x20   assert e.get_error_code() == libvirt.VIR_ERR_OPERATION_DENIED, e\n\
        print('PY-THRESHOLD-OK')\n";
    let out = python_ok(
        script,
        &[
            uri(&socket).as_ref(),
            uri(&lv_socket_ro(&dir.path)).as_ref(),
        ],
    );
    assert!(out.contains("PY-THRESHOLD-OK"), "{out}");
    assert_eq!(write_threshold(&socket, "th", file), 7 << 20);
    let e = virsh_err(&socket, &["domblkthreshold", "th", "vdz", "1"]);
    assert!(e.contains("failed to find disk 'vdz'"), "{e}");
    let out = Command::new(QVIRT)
        .args(["-c", &daemon.uri(), "domblkthreshold", "th", "vda", "5M"])
        .output()
        .expect("run qvirt");
    assert!(out.status.success(), "{out:?}");
    assert_eq!(write_threshold(&socket, "th", file), 5 << 20);
    g.run("dd if=/dev/zero of=/dev/vda bs=4096 count=1 seek=256 conv=fsync");
    assert_eq!(write_threshold(&socket, "th", file), 5 << 20);
    g.run("dd if=/dev/zero of=/dev/vda bs=4096 count=2 seek=1280 conv=fsync");
    listeners.expect_threshold("th", "vda", file, 5 << 20, 8192);
    assert_eq!(write_threshold(&socket, "th", file), 0);
    drop(listeners);
    virsh_ok(&socket, &["destroy", "th"]);
    drop(daemon);
}

#[test]
fn devices_plugged_in_and_out_reach_virsh_python_and_qvirt() {
    let dir = TestDir::new("lvdevices");
    let daemon = Daemon::start(&dir.path, &[]);
    let socket = lv_socket(&dir.path);
    let xml = firmware_vm("dv").replace(
        "<devices>",
        "<devices><controller type='scsi' index='0' model='virtio-scsi'/>",
    );
    let f = write_file(&dir.path, "dv.xml", &xml);
    virsh_ok(&socket, &["create", f.to_str().unwrap()]);
    let image = dir.path.join("sd.raw");
    std::fs::write(&image, vec![0u8; 1 << 20]).unwrap();
    let disk = write_file(
        &dir.path,
        "sd.xml",
        &format!(
            "<disk type='file' device='disk'><driver name='qemu' type='raw'/>\
             <source file='{}'/><target dev='sda' bus='scsi'/></disk>",
            image.display()
        ),
    );
    let disk = disk.to_str().unwrap();
    let alias = "scsi0-0-0-0";
    for (event, verb, python) in [
        ("device-added", "attach-device", "ADDED"),
        ("device-removed", "detach-device", "REMOVED"),
    ] {
        let listeners = Listeners::start(&daemon, &dir.path, "dv", event);
        virsh_ok(&socket, &[verb, "dv", disk, "--live"]);
        listeners.heard(&format!("event '{event}' for domain 'dv': {alias}"), QUICK);
        listeners.python_said(&format!("{python} {alias}"));
        drop(listeners);
        // The next listeners' recorder binds its socket afresh.
        let _ = std::fs::remove_file(dir.path.join("rec.sock"));
    }
    let live = virsh_ok(&socket, &["dumpxml", "dv"]);
    assert!(!live.contains("sda"), "{live}");
    virsh_ok(&socket, &["destroy", "dv"]);
    drop(daemon);
}

/// A tmpfs mounted on a directory for a test, unmounted (lazily: a QEMU
/// may still hold a file) when dropped.
struct Tmpfs(std::path::PathBuf);

impl Tmpfs {
    fn mount(dir: &std::path::Path, size: &str) -> Tmpfs {
        std::fs::create_dir_all(dir).unwrap();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .status()
            .expect("run mount");
        assert!(status.success(), "mount a tmpfs on {}", dir.display());
        Tmpfs(dir.to_path_buf())
    }

    fn resize(&self, size: &str) {
        let status = Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(&self.0)
            .status()
            .expect("run mount");
        assert!(status.success());
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[test]
fn a_full_disk_pauses_the_guest_with_an_io_error_heard_by_all() {
    let dir = TestDir::new("lvioerr");
    // 2 MiB of host storage under an 8 MiB image: the guest's writes
    // fill it.
    let small = Tmpfs::mount(&dir.path.join("small"), "2M");
    let daemon = Daemon::start(&dir.path, &[]);
    let socket = lv_socket(&dir.path);
    let image = small.0.join("full.raw");
    std::fs::File::create(&image)
        .unwrap()
        .set_len(8 << 20)
        .unwrap();
    let file = image.to_str().unwrap();
    let disk = format!(
        "<disk type='file' device='disk'><driver name='qemu' type='raw'/>\
         <source file='{file}'/><target dev='vda' bus='virtio'/></disk>"
    );
    let xml = linux_vm("io").replace("<devices>", &format!("<devices>{disk}"));
    let f = write_file(&dir.path, "io.xml", &xml);
    virsh_ok(&socket, &["define", f.to_str().unwrap()]);
    virsh_ok(&socket, &["start", "io"]);
    let qvirt = daemon.connect();
    let dom = qvirt.lookup_by_name("io").unwrap();
    let mut g = guest_shell::Guest::open(&*qvirt, &dom);
    let listeners = Listeners::start(&daemon, &dir.path, "io", "io-error-reason");
    let lv = qvirt::connect(&format!(
        "qemu+unix:///session?socket={}&proto=libvirt",
        socket.display()
    ))
    .unwrap();
    let mut lifecycle = lv.events().unwrap();

    // In the background: the write stops the guest until there is room.
    g.run(
        "(dd if=/dev/zero of=/dev/vda bs=1M count=4 conv=fsync 2>/dev/null; echo DD''-DONE) & true",
    );
    let words = format!(
        "event 'io-error-reason' for domain 'io': {file} (virtio-disk0) pause due to enospc"
    );
    listeners.heard(&words, BOOT);
    listeners.python_said(&format!("IOERROR {file} virtio-disk0 1 enospc"));
    // The pause's lifecycle event says why (libvirt's detail I/O error).
    let want = qvirt::driver::EventKind::Suspended(qvirt::driver::StateReason::IoError);
    wait_for("libvirt's lifecycle event of the pause", QUICK, || {
        lifecycle
            .next(Duration::from_secs(1))
            .unwrap()
            .filter(|e| e.kind == want)
    });
    let state = virsh_ok(&socket, &["domstate", "io", "--reason"]);
    assert_eq!(state.trim(), "paused (I/O error)");
    let state = qvirt.info(&dom).unwrap();
    assert_eq!(
        (state.state, state.reason),
        (
            qvirt::driver::DomainState::Paused,
            qvirt::driver::StateReason::IoError
        )
    );

    // Room again: the resumed guest's write finishes.
    small.resize("16M");
    virsh_ok(&socket, &["resume", "io"]);
    g.read_until("DD-DONE", BOOT, false);
    let state = virsh_ok(&socket, &["domstate", "io", "--reason"]);
    assert_eq!(state.trim(), "running (unpaused)");
    drop(listeners);
    virsh_ok(&socket, &["destroy", "io"]);
    drop(daemon);
}

/// The next of `lines` that `wanted` accepts, within `within` (others
/// skipped).
fn line_where(lines: &Receiver<String>, within: Duration, wanted: impl Fn(&str) -> bool) -> String {
    let deadline = std::time::Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let line = lines
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("no line wanted within {within:?}"));
        if wanted(&line) {
            return line;
        }
    }
}

#[test]
fn agent_balloon_clock_and_notes_reach_the_clients() {
    let dir = TestDir::new("lvguestev");
    let daemon = Daemon::start(&dir.path, &[]);
    let socket = lv_socket(&dir.path);
    let xml = agent_vm("ge", &dir.path.join("ge.raw"), " guestagent")
        .replace("<memballoon model='none'/>", "<memballoon model='virtio'/>");
    let f = write_file(&dir.path, "ge.xml", &xml);
    virsh_ok(&socket, &["define", f.to_str().unwrap()]);
    let listeners = Listeners::start(&daemon, &dir.path, "ge", "agent-lifecycle");
    virsh_ok(&socket, &["start", "ge"]);
    let connected =
        "event 'agent-lifecycle' for domain 'ge': state: 'connected' reason: 'channel event'";
    listeners.heard(connected, BOOT);
    line_where(&listeners.python_lines, QUICK, |l| l == "AGENT 1 2");
    let qvirt = daemon.connect();
    let dom = qvirt.lookup_by_name("ge").unwrap();
    let mut g = guest_shell::Guest::open(&*qvirt, &dom);

    // The balloon takes 56 MiB: its last size is told.
    virsh_ok(&socket, &["setmem", "ge", "200M", "--live"]);
    line_where(&listeners.python_lines, BOOT, |l| l == "BALLOON 204800");
    // The guest sets its clock an hour ahead.
    g.run("date -s @$(( $(date +%s) + 3600 )) >/dev/null && hwclock -w -u");
    let rtc = line_where(&listeners.python_lines, QUICK, |l| l.starts_with("RTC "));
    let offset: i64 = rtc[4..].parse().unwrap();
    assert!((3590..=3610).contains(&offset), "{rtc}");
    // A note changed.
    virsh_ok(&socket, &["desc", "ge", "--live", "a new description"]);
    line_where(&listeners.python_lines, QUICK, |l| l == "METADATA 0 None");
    // The agent leaves.
    g.run("killall qemu-ga");
    let gone =
        "event 'agent-lifecycle' for domain 'ge': state: 'disconnected' reason: 'channel event'";
    listeners.heard(gone, QUICK);
    line_where(&listeners.python_lines, QUICK, |l| l == "AGENT 2 2");
    drop(listeners);
    virsh_ok(&socket, &["destroy", "ge"]);
    drop(daemon);
}

/// A guest that stops feeding its watchdog (`<watchdog model='i6300esb'
/// action='pause'/>`; the guest's busybox `watchdog` sets 2 s and then
/// sleeps) is paused by QEMU: virsh, python3-libvirt and `qvirt event`
/// hear `watchdog` (pause), the lifecycle event carries libvirt's detail
/// (qvirt's client of libvirt's protocol reads back Suspended Watchdog),
/// the state is `paused (watchdog)` for QEMU (`query-status`), for virsh
/// and python, and for a qvirtd started again; `resume` runs it on.
#[test]
fn a_starved_watchdog_pauses_the_guest_and_is_heard_by_all() {
    use qvirt::driver::{DomainState, EventKind, StateReason};
    let dir = TestDir::new("lvwatchdog");
    let daemon = Daemon::start(&dir.path, &[]);
    let socket = lv_socket(&dir.path);
    let xml = linux_vm("wd").replace(
        "<memballoon",
        "<watchdog model='i6300esb' action='pause'/><memballoon",
    );
    let f = write_file(&dir.path, "wd.xml", &xml);
    virsh_ok(&socket, &["define", f.to_str().unwrap()]);
    virsh_ok(&socket, &["start", "wd"]);
    let qvirt = daemon.connect();
    let dom = qvirt.lookup_by_name("wd").unwrap();
    let mut g = guest_shell::Guest::open(&*qvirt, &dom);
    assert!(g.run("ls /dev/watchdog").contains("/dev/watchdog"));
    let listeners = Listeners::start(&daemon, &dir.path, "wd", "watchdog");
    let lv = qvirt::connect(&format!(
        "qemu+unix:///session?socket={}&proto=libvirt",
        socket.display()
    ))
    .unwrap();
    let mut lifecycle = lv.events().unwrap();

    g.run("(watchdog -F -T 2 -t 600 /dev/watchdog &) ; true");
    listeners.heard("event 'watchdog' for domain 'wd': pause", BOOT);
    listeners.python_said("WATCHDOG 1");
    let want = EventKind::Suspended(StateReason::Watchdog);
    wait_for("libvirt's lifecycle event of the pause", QUICK, || {
        lifecycle
            .next(Duration::from_secs(1))
            .unwrap()
            .filter(|e| e.kind == want)
    });
    let state = virsh_ok(&socket, &["domstate", "wd", "--reason"]);
    assert_eq!(state.trim(), "paused (watchdog)");
    let status = virsh_ok(
        &socket,
        &[
            "qemu-monitor-command",
            "wd",
            r#"{"execute":"query-status"}"#,
        ],
    );
    assert!(status.contains(r#""status":"watchdog""#), "{status}");
    let py = python(
        &socket,
        "wd",
        "print(dom.state() == [libvirt.VIR_DOMAIN_PAUSED, libvirt.VIR_DOMAIN_PAUSED_WATCHDOG])",
    );
    assert_eq!(py, "True");

    // A qvirtd started again reads QEMU's state.
    drop((lifecycle, lv, listeners, qvirt));
    drop(daemon);
    let daemon = Daemon::start(&dir.path, &[]);
    let qvirt = daemon.connect();
    let info = qvirt.info(&qvirt.lookup_by_name("wd").unwrap()).unwrap();
    assert_eq!(
        (info.state, info.reason),
        (DomainState::Paused, StateReason::Watchdog)
    );
    virsh_ok(&socket, &["resume", "wd"]);
    let state = virsh_ok(&socket, &["domstate", "wd", "--reason"]);
    assert_eq!(state.trim(), "running (unpaused)");
    virsh_ok(&socket, &["destroy", "wd"]);
    drop(daemon);
}

/// A VNC client (this test, speaking RFB 3.8 on the display's UNIX
/// socket) connecting, finishing its handshake and leaving reaches
/// virsh, python3-libvirt and `qvirt event` as libvirt's graphics events
/// (connect, initialize, disconnect) with both ends' addresses and the
/// display's authentication scheme (`none`).
#[test]
fn vnc_clients_reach_virsh_python_and_qvirt() {
    use std::io::{Read, Write};
    let dir = TestDir::new("lvgraphics");
    let daemon = Daemon::start(&dir.path, &[]);
    let socket = lv_socket(&dir.path);
    let xml = write_file(&dir.path, "gx.xml", &firmware_vm("gx"));
    virsh_ok(&socket, &["create", xml.to_str().unwrap()]);
    let live = virsh_ok(&socket, &["dumpxml", "gx"]);
    let vnc = live
        .split("<listen type='socket' socket='")
        .nth(1)
        .and_then(|s| s.split('\'').next())
        .unwrap_or_else(|| panic!("the display's socket in {live}"))
        .to_string();
    let listeners = Listeners::start(&daemon, &dir.path, "gx", "graphics");

    let words = |phase: &str| {
        format!("event 'graphics' for domain 'gx': {phase} local[unix  {vnc}] remote[unix  ] none")
    };
    // QEMU names a UNIX socket as the service, with no host.
    let python = |phase: i32| format!("GRAPHICS {phase} 2::{vnc} 2:: none");
    let mut rfb = std::os::unix::net::UnixStream::connect(&vnc).unwrap();
    listeners.heard(&words("connect"), QUICK);
    listeners.python_said(&python(0));
    // RFB 3.8: the version both ways, security type None, the result,
    // then ClientInit (shared) and the server's ServerInit.
    let mut version = [0u8; 12];
    rfb.read_exact(&mut version).unwrap();
    assert_eq!(&version, b"RFB 003.008\n");
    rfb.write_all(&version).unwrap();
    let mut count = [0u8; 1];
    rfb.read_exact(&mut count).unwrap();
    let mut types = vec![0u8; usize::from(count[0])];
    rfb.read_exact(&mut types).unwrap();
    assert!(types.contains(&1), "security type None offered: {types:?}");
    rfb.write_all(&[1]).unwrap();
    let mut result = [0u8; 4];
    rfb.read_exact(&mut result).unwrap();
    assert_eq!(result, [0, 0, 0, 0]);
    rfb.write_all(&[1]).unwrap();
    let mut init = [0u8; 24];
    rfb.read_exact(&mut init).unwrap();
    listeners.heard(&words("initialize"), QUICK);
    listeners.python_said(&python(1));
    drop(rfb);
    listeners.heard(&words("disconnect"), QUICK);
    listeners.python_said(&python(2));
    drop(listeners);
    virsh_ok(&socket, &["destroy", "gx"]);
    drop(daemon);
}

/// A running domain's tunables changed (a vCPU's and the emulator's
/// pinning, a disk's I/O throttle) reach virsh, python3-libvirt and
/// `qvirt event` as libvirt's tunable event, each with libvirt's name
/// and the new value; a change of the definition only is not told.
#[test]
fn tunables_changed_live_reach_virsh_python_and_qvirt() {
    let dir = TestDir::new("lvtunable");
    let daemon = Daemon::start(&dir.path, &[]);
    let socket = lv_socket(&dir.path);
    let image = dir.path.join("tn.raw");
    std::fs::File::create(&image)
        .unwrap()
        .set_len(1 << 20)
        .unwrap();
    let disk = format!(
        "<disk type='file' device='disk'><driver name='qemu' type='raw'/>\
         <source file='{}'/><target dev='vda' bus='virtio'/></disk>",
        image.display()
    );
    let xml = firmware_vm("tn").replace("<devices>", &format!("<devices>{disk}"));
    let f = write_file(&dir.path, "tn.xml", &xml);
    virsh_ok(&socket, &["define", f.to_str().unwrap()]);
    virsh_ok(&socket, &["start", "tn"]);
    let listeners = Listeners::start(&daemon, &dir.path, "tn", "tunable");
    // Told as virsh prints it: a header line, then a line per value.
    let told = |values: &[&str]| {
        listeners.heard("event 'tunable' for domain 'tn':", QUICK);
        for v in values {
            listeners.heard(&format!("\t{v}"), QUICK);
        }
    };

    virsh_ok(&socket, &["vcpupin", "tn", "0", "0", "--live"]);
    told(&["cputune.vcpupin0: 0"]);
    listeners.python_said("TUNABLE cputune.vcpupin0=0");
    virsh_ok(&socket, &["emulatorpin", "tn", "0", "--live"]);
    told(&["cputune.emulatorpin: 0"]);
    listeners.python_said("TUNABLE cputune.emulatorpin=0");
    virsh_ok(&socket, &["vcpupin", "tn", "0", "0", "--config"]);
    virsh_ok(
        &socket,
        &[
            "blkdeviotune",
            "tn",
            "vda",
            "--total-bytes-sec",
            "1048576",
            "--live",
        ],
    );
    told(&[
        "blkdeviotune.disk: vda",
        "blkdeviotune.total_bytes_sec: 1048576",
    ]);
    listeners.python_said("TUNABLE blkdeviotune.disk=vda blkdeviotune.total_bytes_sec=1048576");
    drop(listeners);
    virsh_ok(&socket, &["destroy", "tn"]);
    drop(daemon);
}

/// A save is a migration to a file: each pass it makes over the guest's
/// memory (QEMU's `MIGRATION_PASS`) reaches virsh, python3-libvirt and
/// `qvirt event` as libvirt's migration iteration event, from 1.
#[test]
fn a_saves_memory_passes_reach_virsh_python_and_qvirt() {
    let dir = TestDir::new("lviteration");
    let daemon = Daemon::start(&dir.path, &[]);
    let socket = lv_socket(&dir.path);
    let f = write_file(&dir.path, "mi.xml", &firmware_vm("mi"));
    virsh_ok(&socket, &["define", f.to_str().unwrap()]);
    virsh_ok(&socket, &["start", "mi"]);
    let listeners = Listeners::start(&daemon, &dir.path, "mi", "migration-iteration");
    let image = dir.path.join("mi.save");
    virsh_ok(&socket, &["save", "mi", image.to_str().unwrap()]);
    listeners.heard(
        "event 'migration-iteration' for domain 'mi': iteration: '1'",
        QUICK,
    );
    listeners.python_said("ITERATION 1");
    drop(listeners);
    virsh_ok(&socket, &["restore", image.to_str().unwrap()]);
    virsh_ok(&socket, &["destroy", "mi"]);
    drop(daemon);
}

/// A virtio-mem device's requested size changed by virsh's
/// `update-memory-device` (the device named by the alias the live XML
/// shows): the Linux guest's virtio-mem driver plugs the blocks, and
/// QEMU's size change reaches virsh, python3-libvirt and `qvirt event`
/// as libvirt's memory device size change event; the live XML shows
/// the size plugged.
#[test]
fn a_virtio_mem_device_growing_is_heard_by_all() {
    let dir = TestDir::new("lvmemsize");
    let daemon = Daemon::start(&dir.path, &[]);
    let socket = lv_socket(&dir.path);
    // 256 MiB: the guest's kernel needs more beside a hot-plug area.
    let xml = linux_vm("vm")
        .replace(
            "<memory unit='MiB'>128</memory>",
            "<memory unit='MiB'>256</memory>",
        )
        .replace(
            "<vcpu>1</vcpu>",
            "<maxMemory slots='2' unit='MiB'>1024</maxMemory><vcpu>1</vcpu>\
             <cpu><numa><cell id='0' cpus='0' memory='256' unit='MiB'/></numa></cpu>",
        );
    let xml = xml.replace(
        "<memballoon",
        "<memory model='virtio-mem'><target><size unit='MiB'>256</size><node>0</node>\
         <block unit='MiB'>2</block><requested unit='MiB'>0</requested></target></memory>\
         <memballoon",
    );
    let f = write_file(&dir.path, "vm.xml", &xml);
    virsh_ok(&socket, &["define", f.to_str().unwrap()]);
    virsh_ok(&socket, &["start", "vm"]);
    let listeners = Listeners::start(&daemon, &dir.path, "vm", "memory-device-size-change");
    assert!(virsh_ok(&socket, &["dumpxml", "vm"]).contains("<alias name='virtiomem0'/>"));
    virsh_ok(
        &socket,
        &[
            "update-memory-device",
            "vm",
            "--alias",
            "virtiomem0",
            "--requested-size",
            "128MiB",
            "--live",
        ],
    );
    listeners.heard("event 'memory-device-size-change' for domain 'vm':", BOOT);
    listeners.heard("alias: virtiomem0", QUICK);
    listeners.heard("size: 131072", QUICK);
    listeners.python_said("MEMSIZE virtiomem0 131072");
    let live = virsh_ok(&socket, &["dumpxml", "vm"]);
    assert!(
        live.contains("<current unit='KiB'>131072</current>"),
        "{live}"
    );
    // Not kept in the definition.
    let kept = virsh_ok(&socket, &["dumpxml", "vm", "--inactive"]);
    assert!(
        kept.contains("<requested unit='KiB'>0</requested>"),
        "{kept}"
    );
    drop(listeners);
    virsh_ok(&socket, &["destroy", "vm"]);
    drop(daemon);
}

/// A start that leaves out what a disk's `startupPolicy='optional'`
/// allows (a cdrom's missing image: the drive starts empty; a missing
/// disk: the domain starts without it) is told as libvirt's disk change
/// event, "changed" and "dropped", to virsh, python3-libvirt and `qvirt
/// event`.
#[test]
fn a_missing_optional_image_at_start_is_heard_by_all() {
    let dir = TestDir::new("lvdiskchange");
    let daemon = Daemon::start(&dir.path, &[]);
    let socket = lv_socket(&dir.path);
    let gone_iso = dir.path.join("gone.iso");
    let gone_raw = dir.path.join("gone.raw");
    let xml = firmware_vm("dc").replace(
        "<disk type='file' device='cdrom'><target dev='hdc' bus='ide'/><readonly/></disk>",
        &format!(
            "<disk type='file' device='cdrom'><source file='{}' startupPolicy='optional'/>\
             <target dev='hdc' bus='ide'/><readonly/></disk>\
             <disk type='file' device='disk'><source file='{}' startupPolicy='optional'/>\
             <target dev='vdb' bus='virtio'/></disk>",
            gone_iso.display(),
            gone_raw.display()
        ),
    );
    let f = write_file(&dir.path, "dc.xml", &xml);
    virsh_ok(&socket, &["define", f.to_str().unwrap()]);
    let listeners = Listeners::start(&daemon, &dir.path, "dc", "disk-change");
    virsh_ok(&socket, &["start", "dc"]);
    listeners.heard(
        &format!(
            "event 'disk-change' for domain 'dc' disk ide0-1-0: {} -> <null>: changed",
            gone_iso.display()
        ),
        QUICK,
    );
    listeners.python_said(&format!(
        "DISKCHANGE ide0-1-0 {} None 0",
        gone_iso.display()
    ));
    listeners.heard(
        &format!(
            "event 'disk-change' for domain 'dc' disk virtio-disk1: {} -> <null>: dropped",
            gone_raw.display()
        ),
        QUICK,
    );
    listeners.python_said(&format!(
        "DISKCHANGE virtio-disk1 {} None 1",
        gone_raw.display()
    ));
    drop(listeners);
    virsh_ok(&socket, &["destroy", "dc"]);
    drop(daemon);
}
