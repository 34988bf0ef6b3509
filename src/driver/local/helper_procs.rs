//! Processes a start runs beside QEMU and QEMU connects to (virtiofsd,
//! passt): each spawned and waited for until it listens on its socket,
//! killed again if the start fails, and recorded in the run directory so
//! that the end of the run (or a manager that reattached) stops them.

use std::ffi::OsString;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::error::{Error, ErrorCode, Result};
use crate::sys::process::{self, ProcessId};

/// How long a helper may take to listen.
const LISTEN_DEADLINE: Duration = Duration::from_secs(20);

/// The helpers of one start, killed when dropped unless kept once QEMU
/// runs.
#[derive(Debug, Default)]
pub struct HelperProcs {
    procs: Vec<ProcessId>,
}

impl HelperProcs {
    /// Lets the processes live on with QEMU.
    pub fn keep(mut self) {
        self.procs.clear();
    }

    /// Runs `argv` (output to `log`) and waits until it listens on
    /// `socket`. `what` names the helper for the error of domain `domain`.
    ///
    /// Errors: [`ErrorCode::OperationFailed`] when it exits or does not
    /// listen in time, with its log's tail.
    pub fn spawn_listening(
        &mut self,
        argv: &[OsString],
        socket: &Path,
        log: &Path,
        domain: &str,
        what: &str,
    ) -> Result<()> {
        let pid = process::spawn(argv, log)?;
        self.procs.push(pid);
        let deadline = Instant::now() + LISTEN_DEADLINE;
        while !socket.exists() {
            if !process::is_alive(pid) || Instant::now() > deadline {
                return Err(Error::new(
                    ErrorCode::OperationFailed,
                    format!(
                        "cannot start domain '{domain}': {what} did not listen on {}: {}",
                        socket.display(),
                        process::log_tail(log, 4).trim()
                    ),
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }

    /// Writes the processes into `run_dir/file`, for [`stop`].
    pub fn record(&self, run_dir: &Path, file: &str) -> Result<()> {
        if self.procs.is_empty() {
            return Ok(());
        }
        let list: String = self
            .procs
            .iter()
            .map(|p| format!("{} {}\n", p.pid, p.start_time))
            .collect();
        crate::sys::fsutil::write_atomic(&run_dir.join(file), list.as_bytes())
    }
}

impl Drop for HelperProcs {
    fn drop(&mut self) {
        for p in &self.procs {
            process::kill_and_wait(*p, Duration::from_secs(5));
        }
    }
}

/// Ends the helpers [`HelperProcs::record`] wrote into `run_dir/file`
/// for a run that is over: reaps those that exited with QEMU, stops any
/// left (a process is known by its pid and start time, so a reused pid
/// is never hit).
pub fn stop(run_dir: &Path, file: &str) {
    let Ok(list) = std::fs::read_to_string(run_dir.join(file)) else {
        return;
    };
    for line in list.lines() {
        let mut w = line
            .split_whitespace()
            .filter_map(|n| n.parse::<u64>().ok());
        if let (Some(pid), Some(start_time)) = (w.next(), w.next()) {
            let id = ProcessId {
                pid: pid as i32,
                start_time,
            };
            process::terminate(id);
            process::reap(id.pid);
        }
    }
}
