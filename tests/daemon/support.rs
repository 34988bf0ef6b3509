//! What the daemon tests run in: a private directory per test, the real
//! `qvirtd` started on it, an in-process server for options the binary
//! does not expose, and raw socket helpers. Every guard cleans up on drop
//! (also when a test panics): daemons are killed by pid, QEMUs started
//! under the test's directory are killed, the directory is removed.

use std::io::Write;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use qvirt::Driver;
use qvirt::driver::local::LocalDriver;
use qvirt::transport::server::{ServeOptions, Server};
use qvirt::transport::wire::{Call, Frame, Header, Kind, PROTOCOL_VERSION, Reply};
use qvirt::{Error, ErrorCode};

#[path = "../common/procs.rs"]
mod procs;
#[allow(unused_imports)]
pub use procs::{process_alive, processes_under, qemu_pid, run_dir_of};

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
    /// `/tmp/qvd-PID-N-TAG`, empty.
    pub fn new(tag: &str) -> TestDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "qvd-{}-{}-{tag}",
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

    /// [`Daemon::start`] under a wrapper command, `WRAPPER... qvirtd
    /// --root ROOT ARGS...` (`ip netns exec NS`), which must exec qvirtd.
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

    /// [`Daemon::spawn`] under a wrapper command (see
    /// [`Daemon::start_under`]).
    pub fn spawn_under(wrapper: &[&str], root: &Path, args: &[&str]) -> Daemon {
        let n = STARTS.fetch_add(1, Ordering::SeqCst);
        let stderr = root.join(format!("qvirtd-{n}.stderr"));
        let file = std::fs::File::create(&stderr).expect("create the stderr file");
        let mut cmd = match wrapper.split_first() {
            None => Command::new(QVIRTD),
            Some((program, rest)) => {
                let mut c = Command::new(program);
                c.args(rest).arg(QVIRTD);
                c
            }
        };
        let child = cmd
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

/// A [`Server`] over an embedded `LocalDriver`, serving one listener in
/// this process with `options`; stopped on drop.
pub struct InProcess {
    /// The server, stopped when this is dropped.
    server: Server,
    /// The listening socket.
    pub socket: PathBuf,
}

impl InProcess {
    /// Serves the embedded layout of `dir/state` on `dir/s.sock`.
    pub fn serve(dir: &TestDir, options: ServeOptions) -> InProcess {
        let driver = Arc::new(LocalDriver::open_embedded(&dir.path.join("state")).unwrap());
        let log = driver.logger();
        let server = Server::start(driver, log).expect("start a server");
        let socket = dir.path.join("s.sock");
        let listener = UnixListener::bind(&socket).expect("bind the test socket");
        server.listen(listener, options).expect("listen");
        InProcess { server, socket }
    }

    /// A client of it.
    pub fn connect(&self) -> qvirt::Result<qvirt::transport::SocketDriver> {
        qvirt::transport::SocketDriver::connect(&self.socket, "qemu+unix:///session")
    }

    /// Serves the same driver on `dir/NAME` too, with `options` (a
    /// read-only socket beside the read-write one, as `--system` has);
    /// that socket's path.
    pub fn listen_too(&self, dir: &TestDir, name: &str, options: ServeOptions) -> PathBuf {
        let socket = dir.path.join(name);
        let listener = UnixListener::bind(&socket).expect("bind the second socket");
        self.server.listen(listener, options).expect("listen");
        socket
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
