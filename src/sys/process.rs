//! QEMU processes: spawning one detached, knowing it again after a manager
//! restart, and noticing the instant it exits.
//!
//! A QEMU outlives the manager that started it: it runs in its own
//! session with stdin on /dev/null and stdout/stderr appended to the
//! domain's log. The manager identifies it later by pid *and* the start
//! time the kernel recorded for that pid, so a recycled pid is never
//! taken for the VM.

use std::ffi::OsString;
use std::fs::File;
use std::io::Write;
use std::os::fd::{AsFd, BorrowedFd, FromRawFd, OwnedFd};
use std::path::Path;
use std::time::{Duration, SystemTime};

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use super::logger::timestamp;
use super::shell::shell_join;
use crate::error::{Error, ErrorCode, Result};

/// A QEMU process, by pid and kernel start time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcessId {
    /// The pid.
    pub pid: i32,
    /// Field 22 of /proc/PID/stat: clock ticks after boot when it started.
    pub start_time: u64,
}

/// Spawns `argv` detached: its own session, stdin from /dev/null,
/// stdout and stderr appended to `log` after a header line with the time
/// and the whole command line.
pub fn spawn(argv: &[OsString], log: &Path) -> Result<ProcessId> {
    spawn_with_fds(argv, log, &[])
}

/// As [`spawn`], and the child inherits each descriptor of `fds` at the
/// number paired with it (3 or more, each once); nothing else of this
/// process is inherited.
pub fn spawn_with_fds(
    argv: &[OsString],
    log: &Path,
    fds: &[(BorrowedFd<'_>, i32)],
) -> Result<ProcessId> {
    let mut log_file = open_log(log)?;
    let header = format!(
        "{} starting: {}\n",
        timestamp(SystemTime::now()),
        shell_join(argv)
    );
    log_file
        .write_all(header.as_bytes())
        .map_err(|e| Error::io(format!("cannot write {}", log.display()), e))?;
    let program = argv
        .first()
        .ok_or_else(|| Error::new(ErrorCode::Internal, "an empty command line"))?;
    let pid = spawn_in_session(argv, &log_file, fds).map_err(|e| {
        Error::new(
            ErrorCode::QemuFailed,
            format!("cannot run {}: {e}", program.to_string_lossy()),
        )
    })?;
    // The child is reaped by `reap` once it exits.
    let start_time = start_time(pid).ok_or_else(|| {
        Error::new(
            ErrorCode::QemuFailed,
            format!("QEMU (pid {pid}) exited at once; see {}", log.display()),
        )
    })?;
    Ok(ProcessId { pid, start_time })
}

/// Opens (creating, mode 0600) the log file `path` for appending. A
/// symlink there is refused, not followed, and so is anything but a
/// regular file: the manager may run as root, and a log is written
/// wherever its name leads.
pub fn open_log(path: &Path) -> Result<File> {
    let file = super::fsutil::open_beneath(
        path,
        nix::fcntl::OFlag::O_CREAT
            | nix::fcntl::OFlag::O_APPEND
            | nix::fcntl::OFlag::O_WRONLY
            | nix::fcntl::OFlag::O_NONBLOCK,
        0o600,
    )
    .map_err(|e| super::fsutil::open_error("the log", path, e))?;
    let meta = file
        .metadata()
        .map_err(|e| Error::io(format!("cannot inspect {}", path.display()), e))?;
    if !meta.is_file() {
        return Err(Error::new(
            ErrorCode::OperationDenied,
            format!(
                "the log {} is not a regular file; remove it",
                path.display()
            ),
        ));
    }
    Ok(file)
}

/// The first program called `name` in `$PATH`.
pub fn find_program(name: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(name))
            .find(|p| p.is_file())
    })
}

/// Runs `argv` (`argv[0]` looked up in `$PATH` when it has no slash)
/// with this process's environment, in a new session, with stdin on
/// /dev/null, stdout and stderr on `out`, each of `fds` at its number,
/// no signal blocked and SIGPIPE back to its default (Rust ignores it);
/// returns its pid once it has exec'd.
///
/// posix_spawn(3), not fork: glibc starts the child with vfork
/// semantics, while fork copies the page tables of the whole manager
/// (about a millisecond for every 50 MiB it uses) on every start.
/// `std::process::Command` can only make a new session with a `pre_exec`
/// hook, which makes it fork.
fn spawn_in_session(
    argv: &[OsString],
    out: &File,
    fds: &[(BorrowedFd<'_>, i32)],
) -> std::io::Result<i32> {
    use nix::fcntl::OFlag;
    use nix::libc;
    use nix::spawn::{PosixSpawnAttr, PosixSpawnFileActions, PosixSpawnFlags, posix_spawnp};
    use nix::sys::signal::SigSet;
    use nix::sys::stat::Mode;
    use std::ffi::CString;
    use std::os::fd::AsRawFd;
    use std::os::unix::ffi::OsStrExt;

    let c_string = |s: &std::ffi::OsStr| {
        CString::new(s.as_bytes()).map_err(|_| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "the command line or the environment holds a NUL byte",
            )
        })
    };
    let args = argv
        .iter()
        .map(|a| c_string(a))
        .collect::<std::io::Result<Vec<_>>>()?;
    let env = std::env::vars_os()
        .map(|(mut pair, value)| {
            pair.push("=");
            pair.push(value);
            c_string(&pair)
        })
        .collect::<std::io::Result<Vec<_>>>()?;
    let mut actions = PosixSpawnFileActions::init()?;
    actions.add_open(0, "/dev/null", OFlag::O_RDONLY, Mode::empty())?;
    actions.add_dup2(out.as_raw_fd(), 1)?;
    actions.add_dup2(out.as_raw_fd(), 2)?;
    // The file actions run in order: a descriptor whose own number is
    // another's target would be overwritten before its turn. Each is
    // first copied above every target (close-on-exec, so the copies go
    // at exec); dup2 clears that flag on the target.
    let above = fds.iter().map(|(_, n)| *n).max().unwrap_or(0) + 1;
    let mut copies = Vec::with_capacity(fds.len());
    for (fd, target) in fds {
        if *target < 3 || fds.iter().filter(|(_, n)| n == target).count() > 1 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("descriptor number {target} cannot be handed to the child"),
            ));
        }
        let copy = nix::fcntl::fcntl(fd, nix::fcntl::FcntlArg::F_DUPFD_CLOEXEC(above.max(64)))?;
        // SAFETY: `copy` is a fresh descriptor that nothing else owns.
        #[allow(unsafe_code)]
        let copy = unsafe { OwnedFd::from_raw_fd(copy) };
        actions.add_dup2(copy.as_raw_fd(), *target)?;
        copies.push(copy);
    }
    let mut attr = PosixSpawnAttr::init()?;
    attr.set_sigmask(&SigSet::empty())?;
    let mut pipe = SigSet::empty();
    pipe.add(Signal::SIGPIPE);
    attr.set_sigdefault(&pipe)?;
    // nix names no flag for a new session; glibc has had it since 2.26.
    let new_session = PosixSpawnFlags::from_bits_retain(libc::POSIX_SPAWN_SETSID.into());
    attr.set_flags(
        new_session
            | PosixSpawnFlags::POSIX_SPAWN_SETSIGMASK
            | PosixSpawnFlags::POSIX_SPAWN_SETSIGDEF,
    )?;
    let pid = posix_spawnp(&args[0], &actions, &attr, &args, &env)?;
    Ok(pid.as_raw())
}

/// The kernel's start time of `pid`, `None` when no such process exists.
pub fn start_time(pid: i32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat_field(&stat, 22)
}

/// CPU time (user + system) used by `pid`, in nanoseconds.
pub fn cpu_time_ns(pid: i32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let ticks = stat_field(&stat, 14)? + stat_field(&stat, 15)?;
    let hz = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .unwrap_or(100) as u64;
    Some(ticks * (1_000_000_000 / hz.max(1)))
}

/// User and system CPU time of process `pid`, or of its thread `tid`
/// when given, in ns (fields 14 and 15 of /proc/PID[/task/TID]/stat).
pub fn cpu_times_ns(pid: i32, tid: Option<i32>) -> Option<(u64, u64)> {
    let path = match tid {
        Some(t) => format!("/proc/{pid}/task/{t}/stat"),
        None => format!("/proc/{pid}/stat"),
    };
    let stat = std::fs::read_to_string(path).ok()?;
    let hz = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .unwrap_or(100) as u64;
    let ns = 1_000_000_000 / hz.max(1);
    Some((stat_field(&stat, 14)? * ns, stat_field(&stat, 15)? * ns))
}

/// Field `n` (1-based, as proc(5) numbers them) of a /proc/PID/stat line.
/// The command name (field 2) may hold spaces and parentheses, so fields
/// are counted from the last ')'.
fn stat_field(stat: &str, n: usize) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(n - 3)?.parse().ok()
}

/// Whether `id` is still the same live process (not a zombie, not a
/// recycled pid). When /proc cannot be read (no descriptor left), asks
/// the kernel with signal 0 instead, after reaping the process if it is
/// our exited child: it errs on the side of "alive", so that nothing is
/// ever reported gone that is not.
pub fn is_alive(id: ProcessId) -> bool {
    match std::fs::read_to_string(format!("/proc/{}/stat", id.pid)) {
        Ok(stat) => {
            let state = stat
                .rfind(')')
                .and_then(|i| stat[i + 1..].split_whitespace().next());
            state != Some("Z") && state != Some("X") && stat_field(&stat, 22) == Some(id.start_time)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(_) => {
            reap(id.pid);
            kill(Pid::from_raw(id.pid), None).is_ok()
        }
    }
}

/// The live processes with a command-line argument for which `matches`
/// holds (a QEMU is found by the QMP socket option only it has).
pub fn with_argument(matches: impl Fn(&[u8]) -> bool) -> Vec<ProcessId> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|cmdline| cmdline.split(|&b| b == 0).any(&matches))
        })
        .filter_map(|pid| {
            let id = ProcessId {
                pid,
                start_time: start_time(pid)?,
            };
            is_alive(id).then_some(id)
        })
        .collect()
}

/// Notices the exit of a process: by a pidfd, which becomes readable the
/// moment the process exits whether or not anyone has reaped it (an
/// orphaned QEMU's reaper may be slow); or, when no pidfd can be had (no
/// descriptor left, a kernel before 5.3), by looking at the process (pid
/// and start time) every few milliseconds. Not being able to open a pidfd
/// never passes for the process being gone.
#[derive(Debug)]
pub struct ExitWatch {
    fd: Option<OwnedFd>,
    id: ProcessId,
}

/// How often a watch without a pidfd looks at its process, at most.
pub const EXIT_POLL: Duration = Duration::from_millis(50);

impl ExitWatch {
    /// A watch on `id`; `None` only when the process is gone.
    pub fn open(id: ProcessId) -> Option<ExitWatch> {
        #[allow(unsafe_code)]
        // SAFETY: pidfd_open(2) takes a pid and flags and returns a new fd
        // or -1; no memory is passed.
        let raw = unsafe { nix::libc::syscall(nix::libc::SYS_pidfd_open, id.pid, 0) };
        let fd = (raw >= 0).then(|| {
            #[allow(unsafe_code)]
            // SAFETY: `raw` is a fresh descriptor that nothing else owns.
            unsafe {
                OwnedFd::from_raw_fd(raw as i32)
            }
        });
        // Checked after the pidfd is open, so that it cannot refer to a
        // recycled pid.
        is_alive(id).then_some(ExitWatch { fd, id })
    }

    /// Waits until the process exits or `timeout` passes (`None`: forever).
    /// Returns whether it exited.
    pub fn wait(&self, timeout: Option<Duration>) -> bool {
        let deadline = timeout.map(|t| std::time::Instant::now() + t);
        let Some(fd) = &self.fd else {
            let mut pause = Duration::from_millis(1);
            loop {
                if !is_alive(self.id) {
                    return true;
                }
                let left = deadline.map(|d| d.saturating_duration_since(std::time::Instant::now()));
                if left.is_some_and(|l| l.is_zero()) {
                    return false;
                }
                std::thread::sleep(left.map_or(pause, |l| l.min(pause)));
                pause = (pause * 2).min(EXIT_POLL);
            }
        };
        let mut fds = [PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
        loop {
            let left = deadline.map(|d| d.saturating_duration_since(std::time::Instant::now()));
            let timeout = match left {
                None => PollTimeout::NONE,
                Some(t) => PollTimeout::try_from(t).unwrap_or(PollTimeout::MAX),
            };
            match poll(&mut fds, timeout) {
                // poll counts whole milliseconds: it may return a moment
                // before the deadline.
                Ok(0) if deadline.is_some_and(|d| std::time::Instant::now() < d) => {}
                Ok(0) => return false,
                Ok(_) => return true,
                Err(nix::errno::Errno::EINTR) => continue,
                Err(_) => return !is_alive(self.id),
            }
        }
    }

    /// Whether the process has exited, without waiting.
    pub fn exited(&self) -> bool {
        self.wait(Some(Duration::ZERO)) || !is_alive(self.id)
    }

    /// The watched process.
    pub fn id(&self) -> ProcessId {
        self.id
    }

    /// The pidfd, for polling together with other descriptors; `None`
    /// when the watch looks at the process instead (poll with a timeout
    /// of [`EXIT_POLL`] and ask [`ExitWatch::exited`]).
    pub fn fd(&self) -> Option<std::os::fd::BorrowedFd<'_>> {
        self.fd.as_ref().map(|f| f.as_fd())
    }
}

/// Reaps `pid` if it is this process's exited child (a QEMU we started);
/// does nothing for other processes, which their own parent reaps.
pub fn reap(pid: i32) {
    use nix::sys::wait::{WaitPidFlag, waitpid};
    let _ = waitpid(Pid::from_raw(pid), Some(WaitPidFlag::WNOHANG));
}

/// Sends SIGKILL to `id` if it is still that process.
pub fn kill_hard(id: ProcessId) {
    if is_alive(id) {
        let _ = kill(Pid::from_raw(id.pid), Signal::SIGKILL);
    }
}

/// Kills `id` (SIGKILL) and waits up to `grace` for it to be gone, then
/// reaps it if it is our child: when this returns `true`, nothing of it
/// runs any more. `false` when it outlived the wait (stuck in the kernel).
pub fn kill_and_wait(id: ProcessId, grace: Duration) -> bool {
    let gone = match ExitWatch::open(id) {
        None => true,
        Some(exit) => {
            kill_hard(id);
            exit.wait(Some(grace))
        }
    };
    reap(id.pid);
    gone
}

/// Sends SIGTERM to `id` if it is still that process.
pub fn terminate(id: ProcessId) {
    if is_alive(id) {
        let _ = kill(Pid::from_raw(id.pid), Signal::SIGTERM);
    }
}

/// The last `lines` lines of a log file, for error messages.
pub fn log_tail(path: &Path, lines: usize) -> String {
    let Ok(file) = File::open(path) else {
        return String::new();
    };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut text = String::new();
    use std::io::{Read, Seek, SeekFrom};
    let mut file = file;
    let _ = file.seek(SeekFrom::Start(len.saturating_sub(16 * 1024)));
    let mut bytes = Vec::new();
    let _ = file.read_to_end(&mut bytes);
    text.push_str(&String::from_utf8_lossy(&bytes));
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_stat_fields_past_odd_command_names() {
        let stat = "1234 (qemu) x (y)) S 1 1234 1234 0 -1 4194560 100 0 0 0 7 3 0 0 20 0 3 0 98765 1000 10";
        assert_eq!(stat_field(stat, 4), Some(1));
        assert_eq!(stat_field(stat, 14), Some(7));
        assert_eq!(stat_field(stat, 15), Some(3));
        assert_eq!(stat_field(stat, 22), Some(98765));
    }

    /// Descriptors reach the child at the numbers asked for, also when
    /// one's own number is another's target.
    #[test]
    fn hands_descriptors_at_their_numbers() {
        use std::os::fd::AsRawFd;
        let dir = std::env::temp_dir().join(format!("qvirt-fds-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (a, b) = (dir.join("a"), dir.join("b"));
        let fa = File::create(&a).unwrap();
        let fb = File::create(&b).unwrap();
        let (na, nb) = (fa.as_raw_fd(), fb.as_raw_fd());
        // Crossed: a goes where b is now, and b where a is. (Through
        // /proc: sh's `>&N` takes one digit, and the numbers may have two
        // when other tests hold descriptors.)
        let script =
            format!("echo into-a >> /proc/self/fd/{nb}; echo into-b >> /proc/self/fd/{na}");
        let argv: Vec<OsString> = ["sh", "-c", &script].iter().map(OsString::from).collect();
        let id = spawn_with_fds(
            &argv,
            &dir.join("sh.log"),
            &[(fa.as_fd(), nb), (fb.as_fd(), na)],
        )
        .unwrap();
        // The child's writes, awaited by their content (the process may
        // be reaped by another test's wait before a watch opens on it).
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
        while (read(&a).is_empty() || read(&b).is_empty()) && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        reap(id.pid);
        assert_eq!(read(&a), "into-a\n");
        assert_eq!(read(&b), "into-b\n");
        let e = spawn_with_fds(&argv, &dir.join("sh.log"), &[(fa.as_fd(), 2)]).unwrap_err();
        assert_eq!(e.code, ErrorCode::QemuFailed);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn watches_a_detached_process_exit() {
        let dir = std::env::temp_dir().join(format!("qvirt-process-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let log = dir.join("sleep.log");
        let argv: Vec<OsString> = ["sleep", "30"].iter().map(OsString::from).collect();
        let id = spawn(&argv, &log).unwrap();
        assert!(is_alive(id));
        // Its own session: a terminal's hangup or ^C does not reach it.
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", id.pid)).unwrap();
        assert_eq!(
            stat_field(&stat, 6),
            Some(id.pid as u64),
            "session of {stat}"
        );
        let watch = ExitWatch::open(id).expect("pidfd opens");
        assert!(watch.fd().is_some());
        assert!(!watch.wait(Some(Duration::from_millis(10))));
        // Without a pidfd (no descriptor left), the watch looks instead.
        let looking = ExitWatch {
            fd: None,
            id: watch.id(),
        };
        assert!(!looking.wait(Some(Duration::from_millis(10))));
        assert!(!looking.exited());
        kill_hard(id);
        assert!(watch.wait(Some(Duration::from_secs(10))));
        reap(id.pid);
        assert!(looking.wait(Some(Duration::from_secs(10))));
        assert!(looking.exited());
        reap(id.pid);
        assert!(!is_alive(id));
        assert!(
            std::fs::read_to_string(&log)
                .unwrap()
                .contains("starting: sleep 30")
        );
        // A program that cannot be run is an error, not a pid.
        let missing: Vec<OsString> = vec!["/nonexistent/qemu".into()];
        let err = spawn(&missing, &log).unwrap_err();
        assert_eq!(err.code, ErrorCode::QemuFailed);
        assert!(
            err.message.contains("cannot run /nonexistent/qemu"),
            "{}",
            err.message
        );
        // A recycled pid with another start time is not the same process.
        let me = ProcessId {
            pid: std::process::id() as i32,
            start_time: 1,
        };
        assert!(!is_alive(me));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
