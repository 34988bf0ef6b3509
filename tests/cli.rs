//! Tests of the `qvirt` command line: the built binary is run against an
//! embedded state directory (`qemu:///embed?root=DIR`, a fresh one per
//! test) with a real `qemu-system-x86_64`, and its output, exit status and
//! on-disk effects are checked the way a user would see them.
//!
//! Every test that starts a domain holds a [`Root`], whose drop destroys
//! whatever still runs there and removes the directory.

#[path = "cli/daily.rs"]
mod daily;
#[path = "cli/hotplug.rs"]
mod hotplug;
#[path = "cli/secrets.rs"]
mod secrets;
#[path = "cli/tune.rs"]
mod tune;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const QVIRT: &str = env!("CARGO_BIN_EXE_qvirt");

/// A firmware-only VM: no disk, it sits in the BIOS and starts at once.
fn firmware_xml(name: &str, serial: bool) -> String {
    let serial = if serial { "<serial type='pty'/>" } else { "" };
    format!(
        "<domain type='qemu'><name>{name}</name><memory unit='MiB'>32</memory>\
         <vcpu>1</vcpu><os><type arch='x86_64' machine='pc'>hvm</type></os>\
         <devices>{serial}<memballoon model='none'/></devices></domain>"
    )
}

/// One embedded state directory; dropping it destroys every domain still
/// running there, then deletes it.
struct Root {
    dir: PathBuf,
    uri: String,
}

impl Root {
    fn new(test: &str) -> Root {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "qvirt-cli-{}-{}-{test}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create the test directory");
        let uri = format!("qemu:///embed?root={}", dir.display());
        Root { dir, uri }
    }

    /// Runs `qvirt -c URI ARGS...` with `stdin` as its input.
    fn run_with_input(&self, args: &[&str], stdin: &[u8]) -> Output {
        let mut child = Command::new(QVIRT)
            .arg("-c")
            .arg(&self.uri)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run qvirt");
        let mut input = child.stdin.take().expect("stdin is piped");
        input.write_all(stdin).expect("write stdin");
        drop(input);
        child.wait_with_output().expect("wait for qvirt")
    }

    /// Runs `qvirt -c URI ARGS...` with an empty stdin.
    fn run(&self, args: &[&str]) -> Output {
        self.run_with_input(args, b"")
    }

    /// Runs a command that must succeed; returns its stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "qvirt {args:?} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("stdout is UTF-8")
    }

    /// Runs a command that must fail with status 1; returns its stderr.
    fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert_eq!(
            out.status.code(),
            Some(1),
            "qvirt {args:?} should fail; stdout: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        let err = String::from_utf8(out.stderr).expect("stderr is UTF-8");
        assert!(err.starts_with("error: "), "stderr: {err}");
        err
    }

    /// Writes `text` to `name` in the test directory.
    fn file(&self, name: &str, text: &str) -> String {
        let path = self.dir.join(name);
        std::fs::write(&path, text).expect("write a test file");
        path.display().to_string()
    }

    /// The pid of a running domain's QEMU, from its status file.
    fn qemu_pid(&self, name: &str) -> i32 {
        let needle = format!("<name>{name}</name>");
        let path = std::fs::read_dir(self.dir.join("run"))
            .expect("a runtime directory")
            .flatten()
            .map(|e| e.path().join("status.json"))
            .find(|p| std::fs::read_to_string(p).is_ok_and(|t| t.contains(&needle)))
            .unwrap_or_else(|| panic!("no status file names {name}"));
        let text = std::fs::read_to_string(&path).expect("read the status file");
        let status: serde_json::Value = serde_json::from_str(&text).expect("status is JSON");
        status["pid"].as_i64().expect("status has a pid") as i32
    }
}

impl Drop for Root {
    fn drop(&mut self) {
        if let Ok(out) = Command::new(QVIRT)
            .args(["-c", &self.uri, "list", "--name"])
            .output()
        {
            for name in String::from_utf8_lossy(&out.stdout).lines() {
                if !name.is_empty() {
                    let _ = Command::new(QVIRT)
                        .args(["-c", &self.uri, "destroy", name])
                        .output();
                }
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A child process killed when dropped (a test failing mid-way).
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Whether process `pid` exists and is not a zombie (QEMU outlives the
/// `qvirt` that started it, so whoever reaps orphans reaps it, maybe late).
fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        let state = stat.rsplit_once(") ").map(|(_, rest)| rest.chars().next());
        !matches!(state, Some(Some('Z' | 'X')))
    })
}

/// The body rows of a `list` table: (id, name, state).
fn rows(table: &str) -> Vec<(String, String, String)> {
    let mut lines = table.lines();
    let header = lines.next().expect("a header line");
    assert_eq!(
        header.split_whitespace().collect::<Vec<_>>(),
        ["Id", "Name", "State"]
    );
    let dashes = lines.next().expect("a dashed line");
    assert!(!dashes.is_empty() && dashes.chars().all(|c| c == '-'));
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let l = l.trim();
            let (id, rest) = l.split_once(' ').expect("an id column");
            let rest = rest.trim_start();
            let (name, state) = rest.split_once(' ').expect("a name column");
            (id.to_string(), name.to_string(), state.trim().to_string())
        })
        .collect()
}

/// The value of `Label:` in `dominfo` output.
fn field<'a>(info: &'a str, label: &str) -> &'a str {
    info.lines()
        .find_map(|l| l.strip_prefix(label))
        .unwrap_or_else(|| panic!("no {label} in:\n{info}"))
        .trim()
}

#[test]
fn firmware_vm_lifecycle() {
    let root = Root::new("lifecycle");
    let xml = root.file("fw.xml", &firmware_xml("fw", false));

    let out = root.ok(&["define", &xml]);
    assert_eq!(out, format!("Domain 'fw' defined from {xml}\n"));
    assert_eq!(
        rows(&root.ok(&["list", "--all"])),
        [("-".into(), "fw".into(), "shut off".into())]
    );
    assert_eq!(rows(&root.ok(&["list"])), []);
    assert_eq!(root.ok(&["domid", "fw"]), "-\n");

    assert_eq!(root.ok(&["start", "fw"]), "Domain 'fw' started\n");
    assert_eq!(
        rows(&root.ok(&["list"])),
        [("1".into(), "fw".into(), "running".into())]
    );
    // The QEMU process really is there.
    let pid = root.qemu_pid("fw");
    assert!(alive(pid));
    assert_eq!(root.ok(&["domstate", "fw"]), "running\n");
    assert_eq!(root.ok(&["domid", "fw"]), "1\n");

    let uuid = root.ok(&["domuuid", "fw"]).trim().to_string();
    assert!(uuid::Uuid::parse_str(&uuid).is_ok(), "{uuid}");
    // A domain is found by id and by UUID too.
    assert_eq!(root.ok(&["domname", "1"]), "fw\n");
    assert_eq!(root.ok(&["domname", &uuid]), "fw\n");

    let info = root.ok(&["dominfo", "fw"]);
    assert_eq!(field(&info, "Id:"), "1");
    assert_eq!(field(&info, "Name:"), "fw");
    assert_eq!(field(&info, "UUID:"), uuid);
    assert_eq!(field(&info, "OS Type:"), "hvm");
    assert_eq!(field(&info, "State:"), "running");
    assert_eq!(field(&info, "CPU(s):"), "1");
    assert_eq!(field(&info, "Max memory:"), "32768 KiB");
    assert_eq!(field(&info, "Persistent:"), "yes");
    assert_eq!(field(&info, "Autostart:"), "disable");
    assert_eq!(field(&info, "Managed save:"), "no");
    let json: serde_json::Value =
        serde_json::from_str(&root.ok(&["dominfo", "fw", "--json"])).expect("dominfo JSON");
    assert_eq!(json["state"], "running");
    assert_eq!(json["id"], 1);
    assert_eq!(json["max_memory_kib"], 32768);

    let list: serde_json::Value =
        serde_json::from_str(&root.ok(&["list", "--json"])).expect("list JSON");
    // The same fields as dominfo's (the CPU time moves on in between).
    let row = &list[0];
    let keys = |v: &serde_json::Value| {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(keys(row), keys(&json), "list --json has dominfo's fields");
    assert_eq!(row["uuid"], uuid.as_str());
    assert_eq!(row["state"], "running");

    assert_eq!(root.ok(&["suspend", "fw"]), "Domain 'fw' suspended\n");
    assert_eq!(root.ok(&["domstate", "fw"]), "paused\n");
    assert_eq!(root.ok(&["resume", "fw"]), "Domain 'fw' resumed\n");
    assert_eq!(root.ok(&["domstate", "fw"]), "running\n");

    let live = root.ok(&["dumpxml", "fw"]);
    assert!(live.contains("<name>fw</name>"), "{live}");
    assert!(live.contains(&uuid), "{live}");
    let inactive = root.ok(&["dumpxml", "--inactive", "fw"]);
    assert!(inactive.starts_with("<domain"), "{inactive}");

    assert_eq!(root.ok(&["destroy", "fw"]), "Domain 'fw' destroyed\n");
    assert!(
        root.ok(&["domstate", "--reason", "fw"])
            .starts_with("shut off (")
    );
    assert!(!alive(pid));
    assert_eq!(
        rows(&root.ok(&["list", "--all"])),
        [("-".into(), "fw".into(), "shut off".into())]
    );

    assert_eq!(
        root.ok(&["undefine", "fw"]),
        "Domain 'fw' has been undefined\n"
    );
    assert_eq!(rows(&root.ok(&["list", "--all"])), []);
    assert_eq!(root.ok(&["list", "--all", "--name"]), "");
}

/// The state reason is kept from one `qvirt` process to the next.
#[test]
fn state_reason_survives_the_process() {
    let root = Root::new("reason");
    let xml = root.file("fw.xml", &firmware_xml("fw", false));
    root.ok(&["define", &xml]);
    root.ok(&["start", "fw"]);
    assert_eq!(
        root.ok(&["domstate", "--reason", "fw"]),
        "running (booted)\n"
    );
    root.ok(&["destroy", "fw"]);
    assert_eq!(
        root.ok(&["domstate", "--reason", "fw"]),
        "shut off (destroyed)\n"
    );
}

#[test]
fn transient_save_restore_managedsave_autostart() {
    let root = Root::new("save");
    let xml = root.file("fw.xml", &firmware_xml("fw", false));
    assert_eq!(
        root.ok(&["create", &xml]),
        format!("Domain 'fw' created from {xml}\n")
    );
    let info = root.ok(&["dominfo", "fw"]);
    assert_eq!(field(&info, "Persistent:"), "no");
    assert_eq!(field(&info, "State:"), "running");

    let image = root.dir.join("fw.save").display().to_string();
    assert_eq!(
        root.ok(&["save", "fw", &image]),
        format!("Domain 'fw' saved to {image}\n")
    );
    assert!(Path::new(&image).is_file());
    assert_eq!(rows(&root.ok(&["list", "--all"])), []);
    assert_eq!(
        root.ok(&["restore", &image]),
        format!("Domain restored from {image}\n")
    );
    // A manager of its own per command knows no finished job (a daemon
    // does: see cli_daemon).
    assert_eq!(
        root.ok(&["domjobinfo", "fw", "--completed"]),
        "Job type:         None\n"
    );
    assert_eq!(root.ok(&["domstate", "fw"]), "running\n");
    root.ok(&["destroy", "fw"]);

    root.ok(&["define", &xml]);
    assert_eq!(
        root.ok(&["autostart", "fw"]),
        "Domain 'fw' marked as autostarted\n"
    );
    assert_eq!(field(&root.ok(&["dominfo", "fw"]), "Autostart:"), "enable");
    assert_eq!(
        root.ok(&["autostart", "--disable", "fw"]),
        "Domain 'fw' unmarked as autostarted\n"
    );
    assert_eq!(field(&root.ok(&["dominfo", "fw"]), "Autostart:"), "disable");

    root.ok(&["start", "fw"]);
    assert_eq!(root.ok(&["managedsave", "fw"]), "Domain 'fw' state saved\n");
    let info = root.ok(&["dominfo", "fw"]);
    assert_eq!(field(&info, "State:"), "shut off");
    assert_eq!(field(&info, "Managed save:"), "yes");
    assert_eq!(
        root.ok(&["managedsave-remove", "fw"]),
        "Removed managedsave image for domain 'fw'\n"
    );
    assert_eq!(field(&root.ok(&["dominfo", "fw"]), "Managed save:"), "no");
    root.ok(&["undefine", "fw"]);
}

#[test]
fn unknown_domain_names_the_uri() {
    let root = Root::new("nodomain");
    for arg in ["nosuch", "42", "8f0b5b1e-0f36-4c4b-9e37-6a3f1c2d9a10"] {
        let err = root.fails(&["dominfo", arg]);
        assert!(err.contains(arg), "{err}");
        assert!(
            err.trim_end()
                .ends_with(&format!("(connected to {})", root.uri)),
            "{err}"
        );
    }
    let err = root.fails(&["start", "nosuch"]);
    assert!(err.contains(&root.uri), "{err}");
}

#[test]
fn bad_xml_reports_line_and_column() {
    let root = Root::new("badxml");
    let bad = root.file(
        "bad.xml",
        "<domain type='qemu'>\n  <name>x</name>\n  <memory>1</memory\n</domain>\n",
    );
    let err = root.fails(&["define", &bad]);
    let has_position = err
        .split(|c: char| !(c.is_ascii_digit() || c == ':'))
        .any(|w| {
            let mut parts = w.split(':');
            matches!((parts.next(), parts.next(), parts.next()),
            (Some(l), Some(c), None) if !l.is_empty() && !c.is_empty())
        });
    assert!(has_position, "no line:column in {err}");
    let err = root.fails(&[
        "define",
        &root.dir.join("missing.xml").display().to_string(),
    ]);
    assert!(err.contains("missing.xml"), "{err}");
}

#[test]
fn usage_errors_and_help() {
    let root = Root::new("usage");
    let err = root.fails(&["no-such-verb"]);
    assert!(err.contains("no-such-verb"), "{err}");
    root.fails(&["start"]);
    root.fails(&["list", "--bogus"]);
    let help = root.ok(&["--help"]);
    assert!(help.contains("domxml-to-native"), "{help}");
    assert!(root.ok(&["--version"]).starts_with("qvirt "));
    let err = root.fails(&["domxml-to-native", "xen-xm", "/dev/null"]);
    assert!(err.contains("qemu-argv"), "{err}");
}

#[test]
fn domxml_to_native_prints_the_argv_without_opening_the_driver() {
    let root = Root::new("native");
    // A root that does not exist must stay so: the driver is not opened.
    let state = root.dir.join("state");
    let uri = format!("qemu:///embed?root={}", state.display());
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/demo.xml");
    let out = Command::new(QVIRT)
        .args(["-c", &uri, "domxml-to-native", "qemu-argv"])
        .arg(&demo)
        .output()
        .expect("run qvirt");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = String::from_utf8(out.stdout).expect("UTF-8");
    assert_eq!(line.lines().count(), 1, "{line}");
    let emulator = line.split(' ').next().expect("an emulator");
    assert!(emulator.ends_with("qemu-system-x86_64"), "{line}");
    assert!(line.contains("-name guest=demo"), "{line}");
    // The runtime directory is named by the domain's UUID.
    let run = format!("{}/", state.join("run").display());
    let qmp = line
        .split(&run)
        .nth(1)
        .and_then(|rest| rest.split(',').next())
        .unwrap_or_else(|| panic!("no QMP socket under {run}: {line}"));
    let (uuid, sock) = qmp.split_once('/').expect("run/UUID/qmp.sock");
    assert!(uuid::Uuid::parse_str(uuid).is_ok(), "{line}");
    assert_eq!(sock, "qmp.sock", "{line}");
    let console_log = state.join("log/console/demo.log");
    assert!(line.contains(&console_log.display().to_string()), "{line}");
    assert!(line.contains("-vnc 127.0.0.1:0"), "{line}");
    assert!(
        !state.exists(),
        "domxml-to-native created {}",
        state.display()
    );

    // The same from stdin.
    let xml = std::fs::read(&demo).expect("read demo.xml");
    let piped = Command::new(QVIRT)
        .args(["-c", &uri, "domxml-to-native", "qemu-argv", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            c.stdin.take().expect("piped").write_all(&xml)?;
            c.wait_with_output()
        })
        .expect("run qvirt");
    assert!(piped.status.success());
    assert!(String::from_utf8_lossy(&piped.stdout).contains("-name guest=demo"));

    let err = root.fails(&[
        "domxml-to-native",
        "qemu-argv",
        &root.file("bad.xml", "<domain>"),
    ]);
    assert!(!err.is_empty());
}

#[test]
fn console_relays_a_pipe_until_it_ends() {
    let root = Root::new("console-fw");
    let xml = root.file("fw.xml", &firmware_xml("fwcon", true));
    root.ok(&["define", &xml]);
    let err = root.fails(&["console", "fwcon"]);
    assert!(err.contains("fwcon"), "{err}");
    root.ok(&["start", "fwcon"]);
    let out = root.run_with_input(&["console", "fwcon", "--drain-ms", "100"], b"anything\n");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.starts_with("Connected to domain 'fwcon'\nEscape character is ^]\n"),
        "{stderr}"
    );
    // No console: a domain without a serial port says so.
    let plain = root.file("plain.xml", &firmware_xml("plain", false));
    root.ok(&["create", &plain]);
    let err = root.fails(&["console", "plain"]);
    assert!(err.contains("plain"), "{err}");
}

/// The tiny Linux guest built by tests/guest/build-guest.sh, if present.
fn linux_guest() -> Option<PathBuf> {
    let dir = std::env::var_os("QVIRT_GUEST_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/qvirt/test-guest-6"))
        })?;
    (dir.join("vmlinux").is_file() && dir.join("initrd.img").is_file()).then_some(dir)
}

#[test]
fn console_talks_to_the_linux_guest() {
    let Some(guest) = linux_guest() else {
        eprintln!(
            "console_talks_to_the_linux_guest: not run: no test guest; \
             build it with tests/guest/build-guest.sh"
        );
        return;
    };
    let root = Root::new("console-linux");
    let xml = root.file(
        "linux.xml",
        &format!(
            "<domain type='qemu'><name>linux</name><memory unit='MiB'>128</memory>\
             <vcpu>1</vcpu><os><type arch='x86_64' machine='pc'>hvm</type>\
             <kernel>{0}/vmlinux</kernel><initrd>{0}/initrd.img</initrd>\
             <cmdline>console=ttyS0 quiet no_timer_check</cmdline></os><features><acpi/></features>\
             <devices><serial type='pty'/><memballoon model='none'/></devices></domain>",
            guest.display()
        ),
    );
    root.ok(&["create", &xml]);
    // The guest's console is logged: wait for its shell to be up.
    let log = root.dir.join("log/console/linux.log");
    let deadline = Instant::now() + Duration::from_secs(120);
    while !std::fs::read_to_string(&log).is_ok_and(|t| t.contains("QVIRT-GUEST-READY")) {
        assert!(Instant::now() < deadline, "the guest did not boot");
        std::thread::sleep(Duration::from_millis(100));
    }
    // The answer differs from the echoed command line, and comes a while
    // after it: the console waits for it.
    let out = root.run_with_input(&["console", "linux"], b"sleep 2; echo qvirt-con$((40+2))\n");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("qvirt-con42"), "console output: {text}");

    let out = root.ok(&["shutdown", "linux", "--wait", "--timeout", "60"]);
    assert_eq!(out, "Domain 'linux' has been shut down\n");
    assert_eq!(rows(&root.ok(&["list", "--all"])), []);
}

#[test]
fn event_reports_a_domain_that_dies() {
    let root = Root::new("event");
    let xml = root.file("fw.xml", &firmware_xml("ev", false));
    root.ok(&["define", &xml]);

    let out = root.ok(&["event", "--timeout", "1"]);
    assert_eq!(out, "event loop timed out\nevents received: 0\n");

    root.ok(&["start", "ev"]);
    let pid = root.qemu_pid("ev");
    let mut child = Reaped(
        Command::new(QVIRT)
            .args([
                "-v",
                "-c",
                &root.uri,
                "event",
                "--domain",
                "ev",
                "--timeout",
                "60",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run qvirt event"),
    );
    // Wait until it listens, then kill the QEMU under it.
    let mut stderr = BufReader::new(child.0.stderr.take().expect("piped"));
    let mut line = String::new();
    while !line.contains("waiting for events") {
        line.clear();
        let n = stderr.read_line(&mut line).expect("read stderr");
        assert!(n > 0, "qvirt event ended before listening");
    }
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGKILL,
    )
    .expect("kill QEMU");
    let mut text = String::new();
    child
        .0
        .stdout
        .take()
        .expect("piped")
        .read_to_string(&mut text)
        .expect("read stdout");
    assert!(child.0.wait().expect("wait for qvirt event").success());
    assert!(
        text.starts_with("event 'lifecycle' for domain 'ev': Stopped "),
        "{text}"
    );
    assert!(text.ends_with("events received: 1\n"), "{text}");
    assert_eq!(root.ok(&["domstate", "ev"]), "shut off\n");
}

/// Every golden case of the command-line tests that builds (and needs no
/// KVM) gives one line naming the emulator and the guest.
#[test]
fn domxml_to_native_over_the_argv_cases() {
    let root = Root::new("native-cases");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/argv");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!(
            "domxml_to_native_over_the_argv_cases: not run: no {}",
            dir.display()
        );
        return;
    };
    let mut checked = 0;
    for entry in entries {
        let path = entry.expect("read the case directory").path();
        let golden = path.with_extension("args");
        if path.extension().is_none_or(|e| e != "xml") || !golden.is_file() {
            continue;
        }
        let xml = std::fs::read_to_string(&path).expect("read a case");
        if xml.contains("type='kvm'") || xml.contains("type=\"kvm\"") {
            continue;
        }
        let golden = std::fs::read_to_string(&golden).expect("read a golden file");
        // The golden's environment lines (`env`, `NAME=VALUE`) come
        // before the emulator.
        let mut words = golden
            .lines()
            .skip_while(|w| *w == "env" || w.contains('='));
        let emulator = words.next().expect("an emulator line");
        let name = words.nth(1).expect("a -name value");
        let out = root.run(&["domxml-to-native", "qemu-argv", &path.display().to_string()]);
        let full = String::from_utf8_lossy(&out.stdout);
        // An environment the domain sets (`<qemu:env>`) comes first, as
        // `env NAME=VALUE ...`, as virsh prints it.
        let mut line: &str = &full;
        if let Some(rest) = line.strip_prefix("env ") {
            line = rest;
            while let Some((word, rest)) = line.split_once(' ')
                && word.contains('=')
            {
                line = rest;
            }
        }
        assert!(
            out.status.success(),
            "{}: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            line.starts_with(&format!("{emulator} -name ")),
            "{}: {line}",
            path.display()
        );
        let quoted = format!("-name '{name}'");
        assert!(
            line.contains(&format!("-name {name} ")) || line.contains(&quoted),
            "{}: {line}",
            path.display()
        );
        checked += 1;
    }
    assert!(checked > 0, "no case in {}", dir.display());
}

/// While one `qvirt` holds an embedded root (here an `event --loop`),
/// another `qvirt` on the same URI is served through the holder's socket
/// instead of being refused; a root held by a manager that shares no
/// socket is refused naming the socket.
#[test]
fn a_second_process_on_an_embedded_root_goes_through_the_holders_socket() {
    let root = Root::new("embed-shared");
    let xml = root.file("fw.xml", &firmware_xml("shared", false));
    root.ok(&["define", &xml]);
    let holder = Reaped(
        Command::new(QVIRT)
            .args(["-c", &root.uri, "event", "--loop", "--timeout", "120"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run qvirt event"),
    );
    let socket = root.dir.join("run/qvirt-sock");
    // The holder has the root once the lock file names it (the socket
    // file an earlier command left may be there already).
    let pid = holder.0.id().to_string();
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::fs::read_to_string(root.dir.join("run/lock")).map_or(true, |l| l.trim() != pid) {
        assert!(
            Instant::now() < deadline,
            "the event loop never held the root"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        rows(&root.ok(&["list", "--all"])),
        [(
            "-".to_string(),
            "shared".to_string(),
            "shut off".to_string()
        )]
    );
    root.ok(&["start", "shared"]);
    assert_eq!(rows(&root.ok(&["list"]))[0].1, "shared");
    root.ok(&["destroy", "shared"]);
    drop(holder);

    // A manager in this process, sharing nothing: refused, naming the
    // socket that does not answer.
    let held = qvirt::LocalDriver::open_embedded(&root.dir).unwrap();
    let _ = std::fs::remove_file(&socket);
    let err = root.fails(&["list"]);
    assert!(err.contains("in use by"), "{err}");
    assert!(err.contains(&socket.display().to_string()), "{err}");
    drop(held);
    // Once it is gone, the next command owns the root again.
    root.ok(&["list", "--all"]);
}
