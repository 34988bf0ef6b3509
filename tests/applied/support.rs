//! Helpers of the `applied` tests: an embedded state directory opened
//! afresh for each step, a QMP client for looking at QEMU directly,
//! polls with deadlines, and the Linux test guest.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use qvirt::Driver;
use qvirt::driver::UndefineFlags;
use serde_json::{Value, json};

/// A firmware-only VM (it sits in the BIOS) of 64 MiB on `pc`, with
/// `top` after `<memory>` and `devices` before its (absent) balloon.
pub fn firmware_vm(name: &str, top: &str, devices: &str) -> String {
    format!(
        "<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>{name}</name>
  <memory unit='MiB'>64</memory>
  {top}
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>{devices}<memballoon model='none'/></devices>
</domain>"
    )
}

/// The Linux test guest as domain `name` (TCG, `pc`, ACPI, its console
/// on a serial pty), with `top` after `<memory>` and `devices` after
/// the serial port.
pub fn linux_vm(name: &str, memory_mib: u32, top: &str, devices: &str) -> String {
    let guest = guest_dir();
    format!(
        "<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>{memory_mib}</memory>
  {top}
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>{}</kernel>
    <initrd>{}</initrd>
    <cmdline>console=ttyS0 quiet</cmdline>
  </os>
  <features><acpi/></features>
  <devices>
    <serial type='pty'/>
    {devices}
  </devices>
</domain>",
        guest.join("vmlinux").display(),
        guest.join("initrd.img").display()
    )
}

/// How long the Linux guest may take to boot under TCG on a busy host.
pub const BOOT: Duration = Duration::from_secs(180);

/// An embedded state directory, removed (with every QEMU still under it
/// killed) when dropped.
pub struct State {
    root: PathBuf,
}

impl State {
    /// A fresh state directory for test `tag`.
    pub fn new(tag: &str) -> State {
        let root = std::env::temp_dir().join(format!("qvirt-applied-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        State { root }
    }

    /// The state directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A driver on the state directory; a running domain is reattached.
    pub fn driver(&self) -> Box<dyn Driver> {
        qvirt::connect(&format!("qemu:///embed?root={}", self.root.display()))
            .expect("the embedded driver opens")
    }

    /// Defines and starts `xml`, then lets the driver go.
    pub fn start(&self, xml: &str) {
        self.try_start(xml).unwrap_or_else(|e| panic!("start: {e}"));
    }

    /// Defines and starts `xml`; the error of either step.
    pub fn try_start(&self, xml: &str) -> qvirt::Result<()> {
        let d = self.driver();
        let dom = d.define_xml(xml)?;
        d.start(&dom).map(|_| ())
    }

    /// The live XML of a running domain.
    pub fn live_xml(&self, name: &str) -> String {
        let d = self.driver();
        let dom = d.lookup_by_name(name).unwrap();
        d.xml_desc(&dom, qvirt::driver::XmlFlags::NONE).unwrap()
    }

    /// Destroys `name` if it runs and undefines it, removing its NVRAM.
    pub fn stop(&self, name: &str) {
        let d = self.driver();
        let dom = d.lookup_by_name(name).unwrap();
        if d.info(&dom).unwrap().state != qvirt::DomainState::Shutoff {
            d.destroy(&dom).unwrap();
        }
        let flags = UndefineFlags {
            nvram: true,
            ..UndefineFlags::default()
        };
        d.undefine_flags(&dom, flags).unwrap();
    }

    /// The runtime directory of `name` (see `procs::run_dir_of`).
    pub fn run_dir(&self, name: &str) -> std::path::PathBuf {
        crate::procs::run_dir_of(&self.root, name)
    }

    /// The pid of `name`'s QEMU, from its status file.
    pub fn qemu_pid(&self, name: &str) -> i32 {
        let file = crate::procs::run_dir_of(&self.root, name).join("status.json");
        let status =
            std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let v: Value = serde_json::from_str(&status).unwrap();
        v["pid"].as_i64().expect("a pid in the status file") as i32
    }

    /// A QMP connection to `name`'s QEMU (drop it before the next driver
    /// step: the monitor serves one client).
    pub fn qmp(&self, name: &str) -> Qmp {
        Qmp::connect(&crate::procs::run_dir_of(&self.root, name).join("qmp.sock"))
    }
}

impl Drop for State {
    fn drop(&mut self) {
        // A failed test may leave QEMUs: kill what runs under the root.
        for pid in qemus_under(&self.root) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// Processes whose command line names `root`.
pub fn qemus_under(root: &Path) -> Vec<i32> {
    let needle = root.to_string_lossy().into_owned();
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) else {
            continue;
        };
        if let Ok(cmd) = std::fs::read(format!("/proc/{pid}/cmdline"))
            && String::from_utf8_lossy(&cmd).contains(&needle)
        {
            out.push(pid);
        }
    }
    out
}

/// A blocking QMP client.
pub struct Qmp {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
}

impl Qmp {
    /// Connects and negotiates capabilities.
    pub fn connect(path: &Path) -> Qmp {
        let stream = UnixStream::connect(path)
            .unwrap_or_else(|e| panic!("cannot connect to {}: {e}", path.display()));
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        let writer = stream.try_clone().unwrap();
        let mut q = Qmp {
            reader: BufReader::new(stream),
            writer,
        };
        let greeting = q.read();
        assert!(greeting.get("QMP").is_some(), "greeting: {greeting}");
        q.exec("qmp_capabilities", json!({}));
        q
    }

    fn read(&mut self) -> Value {
        loop {
            let mut line = String::new();
            let n = self.reader.read_line(&mut line).expect("QMP reads");
            assert!(n > 0, "QMP closed");
            let v: Value = serde_json::from_str(&line).expect("QMP sends JSON");
            if v.get("event").is_none() {
                return v;
            }
        }
    }

    /// Runs `cmd`; its `return`, or a panic with the error.
    pub fn exec(&mut self, cmd: &str, args: Value) -> Value {
        self.try_exec(cmd, args)
            .unwrap_or_else(|e| panic!("{cmd}: {e}"))
    }

    /// Sends `cmd` without waiting for a reply (for a command QEMU may
    /// not live to answer).
    pub fn send(&mut self, cmd: &str, args: Value) {
        let msg = json!({"execute": cmd, "arguments": args});
        writeln!(self.writer, "{msg}").unwrap();
    }

    /// Runs `cmd`; its `return`, or the `error` QEMU replied with.
    pub fn try_exec(&mut self, cmd: &str, args: Value) -> Result<Value, Value> {
        self.send(cmd, args);
        let reply = self.read();
        match (reply.get("return"), reply.get("error")) {
            (Some(r), _) => Ok(r.clone()),
            (None, Some(e)) => Err(e.clone()),
            (None, None) => panic!("{cmd}: neither a return nor an error: {reply}"),
        }
    }

    /// A QOM property: `qom-get` of `property` on `path`.
    pub fn qom_get(&mut self, path: &str, property: &str) -> Value {
        self.exec("qom-get", json!({"path": path, "property": property}))
    }

    /// `query-chardev`'s name of each backend (`filename`), by label.
    pub fn chardev_filenames(&mut self) -> std::collections::BTreeMap<String, String> {
        let chardevs = self.exec("query-chardev", json!({}));
        chardevs
            .as_array()
            .unwrap_or_else(|| panic!("query-chardev: {chardevs}"))
            .iter()
            .map(|c| {
                (
                    c["label"].as_str().unwrap().to_string(),
                    c["filename"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }

    /// What the drive of device `dev` (its id, libvirt's alias:
    /// `virtio-disk0`) has inserted, from `query-block`.
    pub fn inserted(&mut self, dev: &str) -> Value {
        let block = self.exec("query-block", json!({}));
        qvirt::qemu::qmp::device_entry(&block, dev)
            .unwrap_or_else(|| panic!("no drive of {dev}: {block}"))["inserted"]
            .clone()
    }
}

/// Runs `cmd`, failing the test with its error output unless it
/// succeeds; what it printed.
pub fn must(cmd: &mut std::process::Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `qemu-img ARGS`, as [`must`].
pub fn qemu_img(args: &[&str]) -> String {
    must(std::process::Command::new("qemu-img").args(args))
}

/// Polls `f` until it gives a value or `timeout` passes (then panics
/// naming `what`).
pub fn poll<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(5);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(250));
    }
}

/// The Linux test guest, built (or found up to date) once per process.
pub fn guest_dir() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/guest/build-guest.sh");
        let out = std::process::Command::new(&script)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
        assert!(
            out.status.success(),
            "{} failed:\n{}",
            script.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        let dir = PathBuf::from(
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .last()
                .unwrap()
                .trim(),
        );
        assert!(
            dir.join("vmlinux").is_file(),
            "no guest kernel in {}",
            dir.display()
        );
        dir
    })
    .clone()
}

/// A UNIX socket at `path` and a TCP port on 127.0.0.1 the test listens
/// on without blocking (for QEMU to connect to; accept them with
/// [`poll`]), and the port.
pub fn listeners(path: &Path) -> (UnixListener, std::net::TcpListener, u16) {
    let unix = UnixListener::bind(path).unwrap();
    unix.set_nonblocking(true).unwrap();
    let tcp = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    tcp.set_nonblocking(true).unwrap();
    let port = tcp.local_addr().unwrap().port();
    (unix, tcp, port)
}

/// A qemu-nbd serving a raw image as one export on a UNIX socket, killed
/// when dropped.
pub struct Nbd(std::process::Child);

impl Nbd {
    /// Serves `image` as `export` on `socket`; returns once it listens.
    pub fn serve(image: &Path, socket: &Path, export: &str) -> Nbd {
        let child = std::process::Command::new("qemu-nbd")
            .args([
                "--persistent",
                "--shared=4",
                "-f",
                "raw",
                "-x",
                export,
                "-k",
            ])
            .arg(socket)
            .arg(image)
            .spawn()
            .expect("qemu-nbd runs (Debian package qemu-utils)");
        let server = Nbd(child);
        poll("qemu-nbd's socket", Duration::from_secs(30), || {
            socket.exists().then_some(())
        });
        server
    }
}

impl Drop for Nbd {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A qemu-storage-daemon exporting a raw image as a vhost-user-blk
/// server on a UNIX socket, killed when dropped.
pub struct VhostUserBlk(std::process::Child);

impl VhostUserBlk {
    /// Serves `image`, writable, on `socket`; returns once it listens.
    pub fn serve(image: &Path, socket: &Path) -> VhostUserBlk {
        let child = std::process::Command::new("qemu-storage-daemon")
            .arg("--blockdev")
            .arg(format!(
                "driver=file,filename={},node-name=file0",
                image.display()
            ))
            .arg("--export")
            .arg(format!(
                "type=vhost-user-blk,id=export0,node-name=file0,writable=on,addr.type=unix,addr.path={}",
                socket.display()
            ))
            .spawn()
            .expect("qemu-storage-daemon runs (Debian package qemu-system-common)");
        let server = VhostUserBlk(child);
        poll(
            "qemu-storage-daemon's socket",
            Duration::from_secs(30),
            || socket.exists().then_some(()),
        );
        server
    }
}

impl Drop for VhostUserBlk {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A small HTTP/1.1 server on 127.0.0.1 serving one file at `/disk.img`
/// with byte ranges (HEAD, GET, `Range: bytes=A-B`), as QEMU's curl
/// driver reads a disk. Counts the ranged reads and keeps each one's
/// range and `Cookie` header; answers them after `delay_ms` (0 at
/// first); stops when dropped.
pub struct RangeServer {
    pub port: u16,
    pub ranged_reads: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    pub requests: std::sync::Arc<std::sync::Mutex<Vec<RangedRead>>>,
    pub delay_ms: std::sync::Arc<std::sync::atomic::AtomicU64>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

/// One ranged read a [`RangeServer`] answered.
#[derive(Debug, Clone)]
pub struct RangedRead {
    /// The first and last byte asked for.
    pub range: (usize, usize),
    /// The `Cookie` header, if the request had one.
    pub cookie: Option<String>,
}

/// What a [`RangeServer`]'s connections share.
#[derive(Clone)]
struct RangeLog {
    ranged: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    requests: std::sync::Arc<std::sync::Mutex<Vec<RangedRead>>>,
    delay_ms: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl RangeServer {
    pub fn serve(file: &Path) -> RangeServer {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let data = Arc::new(std::fs::read(file).unwrap());
        let stop = Arc::new(AtomicBool::new(false));
        let log = RangeLog {
            ranged: Arc::new(AtomicUsize::new(0)),
            requests: Arc::new(std::sync::Mutex::new(Vec::new())),
            delay_ms: Arc::new(std::sync::atomic::AtomicU64::new(0)),
        };
        let (s, l) = (stop.clone(), log.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (data, l) = (data.clone(), l.clone());
                std::thread::spawn(move || {
                    let _ = serve_connection(conn, &data, &l);
                });
            }
        });
        RangeServer {
            port,
            ranged_reads: log.ranged,
            requests: log.requests,
            delay_ms: log.delay_ms,
            stop,
        }
    }
}

fn serve_connection(conn: std::net::TcpStream, data: &[u8], log: &RangeLog) -> std::io::Result<()> {
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut out = conn;
    loop {
        let mut request = String::new();
        if reader.read_line(&mut request)? == 0 {
            return Ok(());
        }
        let mut range = None;
        let mut cookie = None;
        loop {
            let mut h = String::new();
            reader.read_line(&mut h)?;
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((name, value)) = h.split_once(':')
                && name.eq_ignore_ascii_case("cookie")
            {
                cookie = Some(value.trim().to_string());
            }
            if let Some((name, value)) = h.split_once(':')
                && name.eq_ignore_ascii_case("range")
                && let Some((a, b)) = value.trim().trim_start_matches("bytes=").split_once('-')
            {
                let a: usize = a.parse().unwrap_or(0);
                let b: usize = b.parse().unwrap_or(data.len() - 1).min(data.len() - 1);
                range = Some((a, b));
            }
        }
        let mut words = request.split_whitespace();
        let (method, path) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
        if path != "/disk.img" {
            out.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")?;
            continue;
        }
        let (status, body, extra) = match range {
            Some((a, b)) if a <= b && b < data.len() => {
                log.ranged.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                log.requests.lock().unwrap().push(RangedRead {
                    range: (a, b),
                    cookie: cookie.clone(),
                });
                let delay = log.delay_ms.load(std::sync::atomic::Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(delay));
                (
                    "206 Partial Content",
                    &data[a..=b],
                    format!("Content-Range: bytes {a}-{b}/{}\r\n", data.len()),
                )
            }
            _ => ("200 OK", data, String::new()),
        };
        write!(
            out,
            "HTTP/1.1 {status}\r\nAccept-Ranges: bytes\r\nContent-Length: {}\r\n{extra}\r\n",
            body.len()
        )?;
        if method == "GET" {
            out.write_all(body)?;
        }
    }
}

impl Drop for RangeServer {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        let _ = std::net::TcpStream::connect(("127.0.0.1", self.port));
    }
}
