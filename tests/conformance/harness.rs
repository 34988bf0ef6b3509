//! What each test runs in: a fresh state directory, the driver opened on
//! it, and the guard that cleans up after the case, even when it panics.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use qvirt::Driver;
use qvirt::driver::ListFilter;

use crate::Backend;

#[path = "../common/procs.rs"]
mod procs;
pub use procs::{process_alive, processes_under};
use procs::{qemu_pid, status_pid};
use qvirt::sys::process::start_time;

/// One test's world: the driver under test and the state directory its
/// manager owns. Dropping it destroys what still runs and removes the
/// directory.
pub struct Ctx<'a> {
    backend: &'a dyn Backend,
    root: PathBuf,
    driver: Option<Box<dyn Driver>>,
}

/// Runs `case` on a fresh state directory with a driver from `backend`.
pub fn run(backend: &dyn Backend, case: &str, f: fn(&mut Ctx<'_>)) {
    let root = fresh_root(case);
    let driver = backend
        .open(&root)
        .unwrap_or_else(|e| panic!("cannot open a driver on {}: {e}", root.display()));
    let mut cx = Ctx {
        backend,
        root,
        driver: Some(driver),
    };
    let started = std::time::Instant::now();
    f(&mut cx);
    drop(cx);
    eprintln!("case {case}: {:.2?}", started.elapsed());
}

/// A new, empty directory for one test: unique by process, a counter and
/// the case name (short, so socket paths under it stay well within the
/// 108 bytes a UNIX socket path may have).
fn fresh_root(case: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let short: String = case.chars().take(20).collect();
    let root = std::env::temp_dir().join(format!("qvc-{}-{n}-{short}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).expect("the temp dir is writable");
    root
}

impl Ctx<'_> {
    /// The driver under test.
    pub fn d(&self) -> &dyn Driver {
        self.driver
            .as_deref()
            .expect("the driver is open (reopen it after close)")
    }

    /// The state directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Closes the driver and its manager, leaving domains running.
    pub fn close(&mut self) {
        if let Some(d) = self.driver.take() {
            self.backend.close(d);
        }
    }

    /// Opens the driver again on the same state directory (closing the
    /// current one first): a new manager that must reattach.
    pub fn reopen(&mut self) {
        self.close();
        let d = self
            .backend
            .open(&self.root)
            .unwrap_or_else(|e| panic!("cannot reopen {}: {e}", self.root.display()));
        self.driver = Some(d);
    }

    /// The pid of the manager that holds the state directory.
    pub fn manager_pid(&self) -> u32 {
        self.backend.manager_pid()
    }

    /// Whether a manager opened on the state directory starts the domains
    /// marked autostart (a daemon does, an embedded driver does not).
    pub fn manager_autostarts(&self) -> bool {
        self.backend.autostarts()
    }

    /// The runtime directory of domain `name` (see
    /// [`procs::run_dir_of`]).
    pub fn run_dir(&self, name: &str) -> PathBuf {
        procs::run_dir_of(&self.root, name)
    }

    /// The QEMU pid the status file of running domain `name` records.
    pub fn qemu_pid(&self, name: &str) -> i32 {
        qemu_pid(&self.root, name)
    }
}

/// Sends SIGKILL to `pid`.
pub fn kill_process(pid: i32) {
    kill(Pid::from_raw(pid), Signal::SIGKILL).expect("the QEMU process can be killed");
}

impl Drop for Ctx<'_> {
    /// Destroys every domain still running, kills any QEMU a status file
    /// still names (a driver that failed to), prints the logs when the
    /// case failed, and removes the state directory.
    fn drop(&mut self) {
        if let Some(d) = &self.driver
            && let Ok(active) = d.list(ListFilter::ACTIVE)
        {
            for s in active {
                let _ = d.destroy(&s.domain);
            }
        }
        if let Ok(dirs) = std::fs::read_dir(self.root.join("run")) {
            for dir in dirs.flatten() {
                if let Some((pid, start)) = status_pid(&dir.path().join("status.json"))
                    && start_time(pid) == Some(start)
                    && process_alive(pid)
                {
                    eprintln!(
                        "cleanup: QEMU pid {pid} of {} still runs; killing it",
                        dir.path().display()
                    );
                    let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
                }
            }
        }
        self.close();
        if std::thread::panicking() {
            dump_logs(&self.root.join("log"));
        }
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// Prints the tail of every log under `dir`, to explain a failure.
fn dump_logs(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut files: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    files.sort();
    for f in files {
        if f.is_dir() {
            dump_logs(&f);
            continue;
        }
        let text = std::fs::read_to_string(&f).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(30)..].join("\n");
        eprintln!("----- {} (last 30 lines)\n{tail}", f.display());
    }
}
