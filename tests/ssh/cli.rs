//! `qvirt -c qemu+ssh://root@HOST-B/system VERB`: the real command line
//! on host A, host B's system daemon behind a real sshd. A user's day:
//! list, define from a local file, start, follow events (`event --loop`),
//! talk to the guest's serial console, dominfo, destroy, undefine.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::support::QVIRT;
use crate::world::World;
use crate::{guest_dir, linux_xml};

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

/// Runs `qvirt -c URI ARGS...`; its stdout, after it succeeded.
fn ok(uri: &str, args: &[&str]) -> String {
    let out = cli(uri, args);
    assert!(
        out.status.success(),
        "qvirt {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A running `qvirt` whose stdout a thread reads into a channel, so
/// that every wait has a deadline.
struct Running {
    child: Child,
    chunks: mpsc::Receiver<Vec<u8>>,
    seen: String,
}

impl Running {
    fn spawn(uri: &str, args: &[&str]) -> Running {
        let mut child = Command::new(QVIRT)
            .arg("-c")
            .arg(uri)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run qvirt");
        let mut out = child.stdout.take().unwrap();
        let (tx, chunks) = mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = out.read(&mut buf) {
                if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        Running {
            child,
            chunks,
            seen: String::new(),
        }
    }

    /// Waits for its stderr to say `what` (a line), at most `within`.
    fn stderr_line(&mut self, what: &str, within: Duration) {
        let stderr = self.child.stderr.take().unwrap();
        let what = what.to_string();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stderr).lines();
            let found = lines.any(|l| l.is_ok_and(|l| l.contains(&what)));
            let _ = tx.send(found);
        });
        assert_eq!(rx.recv_timeout(within), Ok(true), "qvirt's stderr");
    }

    /// Reads its stdout until it holds `needle` (panics after `within`).
    fn until(&mut self, needle: &str, within: Duration) {
        let deadline = Instant::now() + within;
        while !self.seen.contains(needle) {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.chunks.recv_timeout(left) {
                Ok(c) => self.seen.push_str(&String::from_utf8_lossy(&c)),
                Err(_) => panic!("no {needle:?} within {within:?}: {}", self.seen),
            }
        }
    }

    /// Waits for it to exit (panics after `within`); whether it succeeded.
    fn wait(&mut self, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s.success();
            }
            assert!(Instant::now() < deadline, "qvirt did not end");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn the_command_line_over_ssh() {
    let guest = guest_dir();
    let w = World::new("cli");
    let _daemon = w.start_system_daemon();
    let uri = w.uri("root", "system", "");
    assert_eq!(
        ok(&uri, &["list", "--all", "--name"]).trim(),
        "",
        "nothing defined yet"
    );
    // The file is read here, on host A; the definition goes over ssh.
    let xml = w.dir.join("lx-cli.xml");
    std::fs::write(&xml, linux_xml("lx-cli", &guest)).unwrap();
    let said = ok(&uri, &["define", &xml.display().to_string()]);
    assert!(said.contains("Domain 'lx-cli' defined"), "{said}");

    let mut events = Running::spawn(
        &uri,
        &[
            "-v",
            "event",
            "--domain",
            "lx-cli",
            "--loop",
            "--timeout",
            "600",
        ],
    );
    events.stderr_line("waiting for events", Duration::from_secs(60));
    ok(&uri, &["start", "lx-cli"]);
    events.until(
        "event 'lifecycle' for domain 'lx-cli': Started Booted\n",
        Duration::from_secs(60),
    );
    assert_eq!(ok(&uri, &["list", "--name"]).trim(), "lx-cli");
    assert_eq!(w.b_processes("guest=lx-cli").len(), 1, "QEMU runs on B");
    let info = ok(&uri, &["dominfo", "lx-cli"]);
    assert!(
        info.lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["State:", "running"]),
        "{info}"
    );

    // The serial console, with stdin a pipe: the guest's shell answers.
    let mut console = Running::spawn(&uri, &["console", "lx-cli"]);
    let mut stdin = console.child.stdin.take().unwrap();
    // The boot's marker, or (opened late) the prompt an Enter brings.
    let deadline = Instant::now() + Duration::from_secs(300);
    while !console.seen.contains("QVIRT-GUEST-READY") && !console.seen.contains("guest# ") {
        assert!(Instant::now() < deadline, "no boot: {}", console.seen);
        match console.chunks.recv_timeout(Duration::from_secs(3)) {
            Ok(c) => console.seen.push_str(&String::from_utf8_lossy(&c)),
            Err(_) => stdin.write_all(b"\n").unwrap(),
        }
    }
    stdin.write_all(b"echo qvirt-cli$((40+2))\n").unwrap();
    drop(stdin);
    console.until("qvirt-cli42", Duration::from_secs(120));
    assert!(
        console.wait(Duration::from_secs(120)),
        "console: {}",
        console.seen
    );

    ok(&uri, &["destroy", "lx-cli"]);
    events.until(
        "event 'lifecycle' for domain 'lx-cli': Stopped Destroyed\n",
        Duration::from_secs(60),
    );
    assert_eq!(ok(&uri, &["domstate", "lx-cli"]).trim(), "shut off");
    ok(&uri, &["undefine", "lx-cli"]);
    assert_eq!(ok(&uri, &["list", "--all", "--name"]).trim(), "");

    // An error through ssh reads as locally: code and words.
    let out = cli(&uri, &["start", "no-such"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no-such"), "{err}");
}
