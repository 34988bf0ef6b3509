//! What the reliability tests run in: the daemon tests' support (a
//! private directory per test, the real `qvirtd` started on it, raw socket
//! helpers, guards that clean up on drop), plus ways to look at a process
//! and a directory tree from outside.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

#[allow(dead_code)]
#[path = "../daemon/support.rs"]
mod shared;
pub use shared::*;

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

/// The number of open descriptors of `pid`.
pub fn fd_count(pid: i32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count())
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

/// The uid and gid of the test's unprivileged user, created if missing.
pub fn other_user() -> (u32, u32) {
    const NAME: &str = "qvirt-test-other";
    let out = Command::new("useradd").args(["-M", "-r", NAME]).output();
    if let Ok(out) = &out {
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() || err.contains("already exists"),
            "useradd: {err}"
        );
    }
    let user = nix::unistd::User::from_name(NAME)
        .unwrap()
        .expect("the test user exists");
    (user.uid.as_raw(), user.gid.as_raw())
}

/// The hidden files left in the snapshot directories under state
/// directory `root` (a pending record, a cut-off write): a manager that
/// has taken over must have cleared them all.
pub fn snapshot_leftovers(root: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(root.join("snapshot"))
        .unwrap()
        .flatten()
        .flat_map(|d| std::fs::read_dir(d.path()).unwrap().flatten())
        .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
        .map(|e| e.path())
        .collect()
}

/// Asserts that `qemu-img check` finds the qcow2 image `path` clean
/// (`what` names the case in the failure).
pub fn assert_qcow2_clean(path: &Path, what: &str) {
    let check = Command::new("qemu-img")
        .args(["check", "-f", "qcow2"])
        .arg(path)
        .output()
        .expect("run qemu-img");
    assert!(
        check.status.success(),
        "{what}: {} checks clean: {}{}",
        path.display(),
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
}

/// The names of the snapshots of `dom`, as `d` lists them.
pub fn snapshot_names(d: &dyn qvirt::Driver, dom: &qvirt::driver::Domain) -> Vec<String> {
    d.snapshot_list(dom)
        .unwrap()
        .into_iter()
        .map(|s| s.name)
        .collect()
}
