//! The daemon at work for the command line: `qvirtd --root DIR` starts the
//! domains marked autostart (the embedded driver the CLI opens does not),
//! and `qvirt` over its socket reports events as they happen and runs the
//! device verbs (`domiflist`, `domblklist`, `change-media`, `screenshot`).

#[path = "daemon/support.rs"]
#[allow(dead_code)]
mod support;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Output, Stdio};
use std::time::Duration;

use qvirt::driver::{DomainState, StateReason};
use qvirt::{Driver, LocalDriver};
use support::{Daemon, QVIRT, TestDir, firmware_xml, wait_for};

/// Runs `qvirt -c URI ARGS...`.
fn cli(uri: &str, args: &[&str]) -> Output {
    Command::new(QVIRT)
        .arg("-c")
        .arg(uri)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run qvirt")
}

/// Runs a `qvirt` command that must succeed; its stdout.
fn ok(uri: &str, args: &[&str]) -> String {
    let out = cli(uri, args);
    assert!(
        out.status.success(),
        "qvirt {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// The state and reason of domain `name`, and its id (looked up after
/// the state, so that a domain seen running has its id).
fn state(d: &dyn Driver, name: &str) -> (DomainState, StateReason, Option<u32>) {
    let dom = d.lookup_by_name(name).unwrap();
    let i = d.info(&dom).unwrap();
    let id = d.lookup_by_name(name).unwrap().id;
    (i.state, i.reason, id)
}

#[test]
fn autostart_domains_start_when_the_daemon_starts() {
    let dir = TestDir::new("auto");
    {
        let local = LocalDriver::open_embedded(&dir.path).unwrap();
        for name in ["fw-c", "fw-b", "fw-a", "fw-d"] {
            let mut xml = firmware_xml(name);
            if name == "fw-b" {
                xml = xml.replace(
                    "<devices>",
                    "<devices><emulator>/nonexistent/qemu-system-x86_64</emulator>",
                );
            }
            let dom = local.define_xml(&xml).unwrap();
            if name != "fw-d" {
                local.set_autostart(&dom, true).unwrap();
            }
        }
    }
    // The command line opens the embedded driver: nothing starts.
    let embed = format!("qemu:///embed?root={}", dir.path.display());
    assert_eq!(ok(&embed, &["list", "--name"]), "");

    let daemon = Daemon::start(&dir.path, &[]);
    let d = daemon.connect();
    let (a, c) = wait_for("fw-a and fw-c to run", Duration::from_secs(30), || {
        let (a, c) = (state(&*d, "fw-a"), state(&*d, "fw-c"));
        (a.0 == DomainState::Running && c.0 == DomainState::Running).then_some((a, c))
    });
    assert!(a.2 < c.2, "started in the order of names: {a:?} {c:?}");
    let b = wait_for("fw-b to have failed", Duration::from_secs(30), || {
        let b = state(&*d, "fw-b");
        (b.1 == StateReason::Failed).then_some(b)
    });
    assert_eq!(b.0, DomainState::Shutoff);
    assert_eq!(state(&*d, "fw-d").0, DomainState::Shutoff);
    let log = std::fs::read_to_string(dir.path.join("log/qvirt.log")).unwrap();
    assert!(
        log.lines()
            .any(|l| l.contains("autostart") && l.contains("'fw-b'") && l.contains("failed")),
        "{log}"
    );
    assert_eq!(ok(&daemon.uri(), &["list", "--name"]), "fw-a\nfw-c\n");
}

/// A `qvirt event` process, read line by line.
struct EventProcess {
    child: Child,
    out: BufReader<ChildStdout>,
}

impl EventProcess {
    /// Starts `qvirt -v -c URI event ARGS...` and waits until it listens.
    fn start(uri: &str, args: &[&str]) -> EventProcess {
        let mut child = Command::new(QVIRT)
            .args(["-v", "-c", uri, "event"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run qvirt event");
        let mut stderr = BufReader::new(child.stderr.take().expect("piped"));
        let mut line = String::new();
        while !line.contains("waiting for events") {
            line.clear();
            let n = stderr.read_line(&mut line).expect("read stderr");
            assert!(n > 0, "qvirt event ended before listening");
        }
        let out = BufReader::new(child.stdout.take().expect("piped"));
        EventProcess { child, out }
    }

    /// The next line it prints.
    fn line(&mut self) -> String {
        let mut line = String::new();
        self.out.read_line(&mut line).expect("read an event line");
        line
    }
}

impl Drop for EventProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Writes `text` to `dir/name`; its path.
fn file(dir: &Path, name: &str, text: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[test]
fn events_and_device_verbs_over_the_daemon() {
    let dir = TestDir::new("verbs");
    let daemon = Daemon::start(&dir.path, &[]);
    let uri = daemon.uri();
    let port = std::net::TcpListener::bind(("127.0.0.1", 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let xml = firmware_xml("fw").replace(
        "<devices>",
        &format!(
            "<devices><disk type='file' device='cdrom'><target dev='hdc' bus='ide'/></disk>\
             <interface type='user'><mac address='52:54:00:12:34:56'/><model type='e1000'/>\
             <portForward proto='tcp'><range start='{port}' to='80'/></portForward></interface>\
             <graphics type='vnc' autoport='yes'/><video><model type='vga'/></video>"
        ),
    );
    let xml = file(&dir.path, "fw.xml", xml.as_bytes());
    ok(&uri, &["define", &xml]);
    let mut events = EventProcess::start(&uri, &["--domain", "fw", "--loop", "--timeout", "60"]);
    let mut json = EventProcess::start(&uri, &["--json", "--timeout", "60"]);
    ok(&uri, &["start", "fw"]);
    assert_eq!(
        events.line(),
        "event 'lifecycle' for domain 'fw': Started Booted\n"
    );
    let first: serde_json::Value = serde_json::from_str(&json.line()).unwrap();
    assert_eq!(
        (first["domain"].as_str(), first["type"].as_str()),
        (Some("fw"), Some("Started"))
    );

    let iflist = ok(&uri, &["domiflist", "fw"]);
    let lines: Vec<&str> = iflist.lines().collect();
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        ["Interface", "Type", "Source", "Model", "MAC"]
    );
    let row: Vec<&str> = lines[2].split_whitespace().collect();
    assert_eq!(
        row,
        [
            "-",
            "user",
            &format!("tcp/127.0.0.1:{port}->80"),
            "e1000",
            "52:54:00:12:34:56"
        ]
    );

    // update-device over qvirt's own protocol: the interface as the
    // live XML has it, its link taken down.
    let live = ok(&uri, &["dumpxml", "fw"]);
    let nic = &live[live.find("<interface").unwrap()
        ..live.find("</interface>").unwrap() + "</interface>".len()];
    let down = nic.replace("</interface>", "<link state='down'/></interface>");
    let down = file(&dir.path, "down.xml", down.as_bytes());
    assert_eq!(
        ok(&uri, &["update-device", "fw", &down]),
        "Device updated successfully\n"
    );
    assert!(ok(&uri, &["dumpxml", "fw"]).contains("<link state='down'/>"));
    assert!(!ok(&uri, &["dumpxml", "fw", "--inactive"]).contains("<link state="));

    let iso = file(&dir.path, "disc.iso", &[0u8; 64 * 1024]);
    assert_eq!(
        ok(&uri, &["domblklist", "fw"]),
        " Target   Source\n------------------\n hdc      -\n"
    );
    assert_eq!(
        ok(&uri, &["change-media", "fw", "hdc", "--insert", &iso]),
        "Successfully inserted media.\n"
    );
    let blk = ok(&uri, &["domblklist", "fw", "--details"]);
    assert!(
        blk.lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["file", "cdrom", "hdc", &iso]),
        "{blk}"
    );
    // The file can name the drive too, as virsh allows.
    assert_eq!(
        ok(&uri, &["change-media", "fw", &iso, "--eject", "--live"]),
        "Successfully ejected media.\n"
    );
    let out = cli(&uri, &["change-media", "fw", "hdc", "--insert"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no source"));

    let png = dir.path.join("screen.png");
    let said = ok(&uri, &["screenshot", "fw", &png.display().to_string()]);
    assert_eq!(
        said,
        format!(
            "Screenshot saved to {}, with type of image/png\n",
            png.display()
        )
    );
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");

    // Each media change opened the cdrom's tray and closed it again: two
    // moves each at least, told in turn, each once. (The guest's firmware
    // probing the drive may reset the IDE channel between two steps of a
    // change, which shuts the tray with no event from QEMU, and qvirt
    // opens it again: QEMU then says "opened" a second time, which is no
    // move to tell.)
    ok(&uri, &["destroy", "fw"]);
    let mut moves = Vec::new();
    loop {
        let line = events.line();
        if line == "event 'lifecycle' for domain 'fw': Stopped Destroyed\n" {
            break;
        }
        moves.push(line);
    }
    assert!(moves.len() >= 4 && moves.len() % 2 == 0, "{moves:?}");
    for (i, line) in moves.iter().enumerate() {
        let how = if i % 2 == 0 { "opened" } else { "closed" };
        assert_eq!(
            *line,
            format!("event 'tray-change' for domain 'fw' disk ide0-1-0: {how}\n"),
            "{moves:?}"
        );
    }
    assert_eq!(ok(&uri, &["domstate", "fw"]), "shut off\n");
    // domjobinfo --completed: the daemon keeps the last job that ended.
    ok(&uri, &["start", "fw"]);
    ok(&uri, &["managedsave", "fw"]);
    let done = ok(&uri, &["domjobinfo", "fw", "--completed"]);
    assert!(
        done.starts_with(
            "Job type:         Completed\nOperation:        Managed save\nTime elapsed:"
        ),
        "{done}"
    );
    assert!(done.contains("Data remaining:   0.000 MiB"), "{done}");
    let json: serde_json::Value =
        serde_json::from_str(&ok(&uri, &["domjobinfo", "fw", "--completed", "--json"])).unwrap();
    assert_eq!(json["type"], "completed");
    assert_eq!(json["operation"], "managed save");
}
