//! What the reliability tests run in: a private directory per test, the
//! real `qvirtd` started on it, raw socket helpers, and ways to look at a
//! process and a directory tree from outside. Every guard cleans up on
//! drop (also when a test panics): daemons are killed by pid, QEMUs
//! started under the test's directory are killed, the directory is
//! removed.

use std::io::Write;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use qvirt::Driver;
use qvirt::transport::wire::{Call, Frame, Header, Kind, PROTOCOL_VERSION, Reply};
use qvirt::{Error, ErrorCode};

/// The daemon under test.
pub const QVIRTD: &str = env!("CARGO_BIN_EXE_qvirtd");
/// The command line, used where a client must be another process.
pub const QVIRT: &str = env!("CARGO_BIN_EXE_qvirt");

/// A firmware-only VM: no disk, it sits in the BIOS and starts at once.
pub fn firmware_xml(name: &str) -> String {
    format!(
        "<domain type='qemu'><name>{name}</name><memory unit='MiB'>32</memory>\
         <vcpu>1</vcpu><os><type arch='x86_64' machine='pc'>hvm</type></os>\
         <devices><memballoon model='none'/></devices></domain>"
    )
}

/// Polls `check` every 10 ms until it gives a value or `within` passes;
/// panics naming `what` on timeout.
pub fn wait_for<T>(what: &str, within: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Whether `pid` is a live process (not a zombie).
pub fn process_alive(pid: i32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    let state = stat
        .rfind(')')
        .and_then(|i| stat[i + 1..].split_whitespace().next());
    !matches!(state, Some("Z") | Some("X") | None)
}

/// Live processes whose command line or environment mentions `dir/`:
/// the QEMUs and daemons a test started under its own directory.
pub fn processes_under(dir: &Path) -> Vec<i32> {
    let mut needle = dir.as_os_str().as_encoded_bytes().to_vec();
    needle.push(b'/');
    let me = std::process::id() as i32;
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|&pid| pid != me && process_alive(pid))
        .filter(|pid| {
            ["cmdline", "environ"].iter().any(|f| {
                std::fs::read(format!("/proc/{pid}/{f}"))
                    .is_ok_and(|text| text.windows(needle.len()).any(|w| w == needle.as_slice()))
            })
        })
        .collect()
}

/// The QEMU pid in `root/run/NAME/status.json`.
pub fn qemu_pid(root: &Path, name: &str) -> i32 {
    let path = root.join("run").join(name).join("status.json");
    let text = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let v: serde_json::Value = serde_json::from_slice(&text).expect("status.json is JSON");
    v["pid"].as_i64().expect("status.json has a pid") as i32
}

/// Sends `sig` to `pid`.
pub fn signal(pid: i32, sig: Signal) {
    kill(Pid::from_raw(pid), sig).unwrap_or_else(|e| panic!("kill -{sig} {pid}: {e}"));
}

/// A fresh directory for one test, short enough for socket paths.
pub struct TestDir {
    /// The directory.
    pub path: PathBuf,
}

impl TestDir {
    /// `/tmp/qvr-PID-N-TAG`, empty.
    pub fn new(tag: &str) -> TestDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "qvr-{}-{}-{tag}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("the temp dir is writable");
        TestDir { path }
    }
}

impl Drop for TestDir {
    /// Kills whatever still runs under the directory (QEMUs a killed
    /// daemon left behind, auto-started daemons), then removes it.
    fn drop(&mut self) {
        for pid in processes_under(&self.path) {
            let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
        }
        let _ = wait_until(Duration::from_secs(5), || {
            processes_under(&self.path).is_empty()
        });
        if std::thread::panicking() {
            dump_logs(&self.path);
        }
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Like [`wait_for`] but returns whether `check` came true in time.
pub fn wait_until(within: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    while !check() {
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    true
}

/// Prints the daemon logs under `dir`, to explain a failure.
fn dump_logs(dir: &Path) {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "log" || x == "stderr") {
                let text = std::fs::read_to_string(&p).unwrap_or_default();
                let tail: Vec<&str> = text.lines().rev().take(30).collect();
                eprintln!("--- {} (tail)", p.display());
                for line in tail.iter().rev() {
                    eprintln!("{line}");
                }
            }
        }
    }
}

/// A `qvirtd --root DIR` child process, killed (SIGKILL) on drop if it
/// still runs.
pub struct Daemon {
    child: Child,
    /// The read-write socket.
    pub socket: PathBuf,
    /// Where its stderr goes.
    pub stderr: PathBuf,
}

static STARTS: AtomicUsize = AtomicUsize::new(0);

impl Daemon {
    /// Starts `qvirtd --root ROOT ARGS...` and waits until it answers.
    pub fn start(root: &Path, args: &[&str]) -> Daemon {
        Daemon::start_under(&[], root, args)
    }

    /// Starts `WRAPPER... qvirtd --root ROOT ARGS...` (`WRAPPER` being a
    /// command that execs the rest, such as `prlimit --nofile=N --`) and
    /// waits until it answers.
    pub fn start_under(wrapper: &[&str], root: &Path, args: &[&str]) -> Daemon {
        let mut daemon = Daemon::spawn_under(wrapper, root, args);
        let socket = daemon.socket.clone();
        wait_for("the daemon to answer", Duration::from_secs(15), || {
            if let Ok(Some(status)) = daemon.child.try_wait() {
                panic!(
                    "qvirtd exited early ({status}): {}",
                    std::fs::read_to_string(&daemon.stderr).unwrap_or_default()
                );
            }
            qvirt::transport::SocketDriver::connect(&socket, "probe")
                .ok()
                .map(drop)
        });
        daemon
    }

    /// Starts `qvirtd --root ROOT ARGS...` without waiting.
    pub fn spawn(root: &Path, args: &[&str]) -> Daemon {
        Daemon::spawn_under(&[], root, args)
    }

    /// Starts `WRAPPER... qvirtd --root ROOT ARGS...` without waiting.
    pub fn spawn_under(wrapper: &[&str], root: &Path, args: &[&str]) -> Daemon {
        let n = STARTS.fetch_add(1, Ordering::SeqCst);
        let stderr = root.join(format!("qvirtd-{n}.stderr"));
        let file = std::fs::File::create(&stderr).expect("create the stderr file");
        let mut command = match wrapper.split_first() {
            Some((program, rest)) => {
                let mut c = Command::new(program);
                c.args(rest).arg(QVIRTD);
                c
            }
            None => Command::new(QVIRTD),
        };
        let child = command
            .arg("--root")
            .arg(root)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .expect("start qvirtd");
        Daemon {
            child,
            socket: root.join("run/qvirt-sock"),
            stderr,
        }
    }

    /// The daemon's pid.
    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// The URI of its socket.
    pub fn uri(&self) -> String {
        format!("qemu+unix:///session?socket={}", self.socket.display())
    }

    /// A client through `qvirt::connect`.
    pub fn connect(&self) -> Box<dyn Driver> {
        qvirt::connect(&self.uri()).unwrap_or_else(|e| panic!("connect {}: {e}", self.uri()))
    }

    /// Sends `sig` to the daemon.
    pub fn signal(&self, sig: Signal) {
        signal(self.pid(), sig);
    }

    /// Waits for the daemon to exit (panics after `within`).
    pub fn wait_exit(&mut self, within: Duration) -> ExitStatus {
        let child = &mut self.child;
        wait_for("the daemon to exit", within, || {
            child.try_wait().ok().flatten()
        })
    }

    /// Its stderr so far.
    pub fn stderr_text(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A raw connection to a daemon socket, reads timing out after 10 s so a
/// daemon that neither answers nor closes fails the test.
pub fn raw(socket: &Path) -> UnixStream {
    let s = UnixStream::connect(socket).expect("connect to the daemon");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s
}

/// Writes a call frame with `version` in its header.
pub fn send_call(s: &mut UnixStream, version: u16, call: &Call, serial: u32) {
    let (procedure, body) = call.encode();
    send_raw(s, version, Kind::Call, procedure, serial, body);
}

/// Writes a frame with any header and body.
pub fn send_raw(
    s: &mut UnixStream,
    version: u16,
    kind: Kind,
    procedure: u32,
    serial: u32,
    body: Vec<u8>,
) {
    let frame = Frame {
        header: Header {
            version,
            kind,
            procedure,
            serial,
        },
        body,
    };
    s.write_all(&frame.encode()).expect("write a frame");
}

/// Says hello as a client must, checking the answer.
pub fn hello(s: &mut UnixStream) {
    send_call(s, PROTOCOL_VERSION, &Call::Hello(1), 1);
    let f = Frame::read(s).unwrap().expect("a reply to hello");
    assert_eq!(f.header.serial, 1);
    assert_eq!(
        Reply::decode(1, &f.body).unwrap().unwrap(),
        Reply::Hello(u32::from(PROTOCOL_VERSION))
    );
}

/// Reads frames until the daemon closes the connection; panics if it
/// neither closes nor writes within the read timeout. A reset counts as
/// closed (the daemon closed with our bytes unread).
pub fn frames_until_closed(s: &mut UnixStream) -> Vec<Frame> {
    let mut frames = Vec::new();
    loop {
        match Frame::read(s) {
            Ok(Some(f)) => frames.push(f),
            Ok(None) => return frames,
            Err(e) => {
                let src = std::error::Error::source(&e)
                    .and_then(|s| s.downcast_ref::<std::io::Error>())
                    .map(|io| io.kind());
                match src {
                    Some(std::io::ErrorKind::ConnectionReset) => return frames,
                    Some(std::io::ErrorKind::UnexpectedEof) => return frames,
                    _ => panic!("the daemon neither answered nor closed: {e}"),
                }
            }
        }
    }
}

/// The error an error reply carries (any procedure: the error side of a
/// reply does not depend on it, so it is read as a unit-shaped reply).
pub fn error_of(frame: &Frame) -> Error {
    assert_eq!(frame.header.kind, Kind::Reply, "an error reply");
    match Reply::decode(14, &frame.body) {
        Ok(Err(e)) => e,
        other => panic!("expected an error reply, got {other:?}"),
    }
}

/// Asserts `result` failed with `code`.
#[track_caller]
pub fn assert_code<T: std::fmt::Debug>(result: qvirt::Result<T>, code: ErrorCode) -> Error {
    match result {
        Ok(v) => panic!("expected a {} error, got Ok({v:?})", code.name()),
        Err(e) => {
            assert_eq!(e.code, code, "unexpected error: {e}");
            e
        }
    }
}

/// A firmware-only VM of 16 MiB with `policy` (lifecycle elements such
/// as `<on_crash>restart</on_crash>`) after `<os>` and `devices` inside
/// `<devices>`.
pub fn small_vm_xml(name: &str, policy: &str, devices: &str) -> String {
    format!(
        "<domain type='qemu'><name>{name}</name><memory unit='MiB'>16</memory>\
         <vcpu>1</vcpu><os><type arch='x86_64' machine='pc'>hvm</type></os>{policy}\
         <devices>{devices}<memballoon model='none'/></devices></domain>"
    )
}

/// A VNC display on loopback with a port the driver picks.
pub const VNC: &str = "<graphics type='vnc' autoport='yes' listen='127.0.0.1'/>";

/// Serialises the tests that run many VMs or measure a daemon's memory
/// and latency, so that they neither crowd the host nor disturb each
/// other's numbers. Hold the guard for the whole test.
pub fn heavy() -> std::sync::MutexGuard<'static, ()> {
    static HEAVY: std::sync::Mutex<()> = std::sync::Mutex::new(());
    HEAVY.lock().unwrap_or_else(|p| p.into_inner())
}

/// The resident set size of `pid` in KiB (`VmRSS` of /proc/PID/status).
pub fn vm_rss_kib(pid: i32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_else(|e| panic!("/proc/{pid}/status: {e}"));
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no VmRSS in /proc/{pid}/status"))
}

/// The number of threads of `pid`.
pub fn thread_count(pid: i32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/task")).map_or(0, |d| d.count())
}

/// The manager's log under `root` (`log/qvirt.log`), empty if missing.
pub fn manager_log(root: &Path) -> String {
    std::fs::read_to_string(root.join("log/qvirt.log")).unwrap_or_default()
}

/// What a snapshot records of one directory entry: its kind, mode, and
/// contents (a symlink's target, a file's bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// `file`, `dir`, `symlink`, `fifo`, `socket` or `other`.
    pub kind: &'static str,
    /// Permission bits.
    pub mode: u32,
    /// Modification time in nanoseconds.
    pub mtime_ns: i128,
    /// A file's size.
    pub len: u64,
    /// A file's bytes (up to 1 MiB; larger files are known by size and
    /// time) or a symlink's target; empty for the rest.
    pub data: Vec<u8>,
}

/// Every entry under `dir` (not following symlinks) by its path relative
/// to `dir`, except those whose relative path starts with one of `skip`.
pub fn snapshot(dir: &Path, skip: &[&str]) -> std::collections::BTreeMap<PathBuf, Node> {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let path = e.path();
            let rel = path.strip_prefix(dir).unwrap().to_path_buf();
            if skip.iter().any(|s| rel.starts_with(s)) {
                continue;
            }
            let Ok(meta) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            let t = meta.file_type();
            let (kind, data) = if t.is_symlink() {
                let target = std::fs::read_link(&path).unwrap_or_default();
                ("symlink", target.into_os_string().into_encoded_bytes())
            } else if t.is_dir() {
                stack.push(path.clone());
                ("dir", Vec::new())
            } else if t.is_file() && meta.len() <= 1 << 20 {
                ("file", std::fs::read(&path).unwrap_or_default())
            } else if t.is_file() {
                ("file", Vec::new())
            } else if t.is_fifo() {
                ("fifo", Vec::new())
            } else if t.is_socket() {
                ("socket", Vec::new())
            } else {
                ("other", Vec::new())
            };
            let mtime_ns = i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec());
            out.insert(
                rel,
                Node {
                    kind,
                    mode: meta.mode() & 0o7777,
                    // A directory's mtime changes with its entries, which
                    // the entries themselves show.
                    mtime_ns: if kind == "dir" { 0 } else { mtime_ns },
                    len: if kind == "file" { meta.len() } else { 0 },
                    data,
                },
            );
        }
    }
    out
}

/// The differences between two snapshots, one line each, for messages.
pub fn snapshot_diff(
    before: &std::collections::BTreeMap<PathBuf, Node>,
    after: &std::collections::BTreeMap<PathBuf, Node>,
) -> Vec<String> {
    let mut out = Vec::new();
    for (p, n) in before {
        match after.get(p) {
            None => out.push(format!("removed: {}", p.display())),
            Some(m) if m != n => out.push(format!(
                "changed: {} ({} {:o} {} bytes -> {} {:o} {} bytes)",
                p.display(),
                n.kind,
                n.mode,
                n.len,
                m.kind,
                m.mode,
                m.len
            )),
            Some(_) => {}
        }
    }
    for p in after.keys() {
        if !before.contains_key(p) {
            out.push(format!("added: {}", p.display()));
        }
    }
    out
}

/// The banner a VNC server sends on connect (`RFB 003.008\n`), read from
/// `port` on loopback; `None` if nothing answers.
pub fn rfb_banner(port: u16) -> Option<String> {
    use std::io::Read;
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut banner = [0u8; 12];
    s.read_exact(&mut banner).ok()?;
    Some(String::from_utf8_lossy(&banner).into_owned())
}

/// A small deterministic pseudo-random generator (xorshift64*), so a
/// failing run can be repeated from the seed it prints.
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed` (0 is replaced by a fixed odd number).
    pub fn new(seed: u64) -> Rng {
        Rng(if seed == 0 {
            0x9e37_79b9_7f4a_7c15
        } else {
            seed
        })
    }

    /// A generator seeded from `QVIRT_TEST_SEED` or the clock; prints the
    /// seed with `what`.
    pub fn from_env(what: &str) -> Rng {
        let seed = std::env::var("QVIRT_TEST_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos() as u64
            });
        eprintln!("{what}: QVIRT_TEST_SEED={seed}");
        Rng::new(seed)
    }

    /// The next number.
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// `n` random bytes.
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}
