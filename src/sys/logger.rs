//! The manager's log: timestamped lines appended to a file (and copied to
//! stderr when asked), shared by the embedded driver and the daemon.

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

/// How serious a log line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Routine events: a domain started, a client connected.
    Info,
    /// Something was skipped or refused but work goes on.
    Warn,
    /// An operation failed.
    Error,
}

/// An append-only log file. Writing never fails the caller: a log that
/// cannot be written is reported once on stderr.
#[derive(Debug)]
pub struct Logger {
    file: Mutex<Option<File>>,
    stderr: bool,
}

impl Logger {
    /// Opens (creating, mode 0600) the log at `path`; `stderr` copies each
    /// line there too (a daemon in the foreground). A symlink at `path` is
    /// not followed: the log is then not written (and stderr says why).
    pub fn open(path: &Path, stderr: bool) -> Logger {
        let file = super::fsutil::open_beneath(
            path,
            nix::fcntl::OFlag::O_CREAT | nix::fcntl::OFlag::O_APPEND | nix::fcntl::OFlag::O_WRONLY,
            0o600,
        );
        if let Err(e) = &file {
            eprintln!("qvirt: cannot open the log {}: {e}", path.display());
        }
        Logger {
            file: Mutex::new(file.ok()),
            stderr,
        }
    }

    /// A logger that writes nowhere (tests, short-lived tools).
    pub fn discard() -> Logger {
        Logger {
            file: Mutex::new(None),
            stderr: false,
        }
    }

    /// Appends one line.
    pub fn log(&self, level: Level, message: &str) {
        let tag = match level {
            Level::Info => "info",
            Level::Warn => "warning",
            Level::Error => "error",
        };
        let line = format!(
            "{} {tag}: {}\n",
            timestamp(SystemTime::now()),
            sanitize(message)
        );
        if self.stderr {
            eprint!("{line}");
        }
        if let Some(file) = crate::sys::sync::lock(&self.file).as_mut() {
            let _ = file.write_all(line.as_bytes());
        }
    }

    /// Logs at [`Level::Info`].
    pub fn info(&self, message: &str) {
        self.log(Level::Info, message)
    }

    /// Logs at [`Level::Warn`].
    pub fn warn(&self, message: &str) {
        self.log(Level::Warn, message)
    }

    /// Logs at [`Level::Error`].
    pub fn error(&self, message: &str) {
        self.log(Level::Error, message)
    }
}

/// A message as one log entry: each line after the first is indented, so
/// no text in a message (a domain name, a path, QEMU's output) can pass
/// for an entry of its own, and other control characters (a terminal's
/// escape sequences) are written as `\xNN`.
fn sanitize(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    for c in message.trim_end_matches('\n').chars() {
        match c {
            '\n' => out.push_str("\n    "),
            '\t' => out.push('\t'),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out
}

/// Formats a time as UTC `YYYY-MM-DD HH:MM:SS.mmm`.
pub fn timestamp(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = crate::model::civil_from_days(days as i64);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}.{:03}",
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        d.subsec_millis()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_message_cannot_forge_an_entry() {
        assert_eq!(sanitize("plain"), "plain");
        assert_eq!(
            sanitize("domain 'x\n2026-01-01 00:00:00.000 info: forged'"),
            "domain 'x\n    2026-01-01 00:00:00.000 info: forged'"
        );
        assert_eq!(sanitize("a\x1b[2Jb\rc\n"), "a\\x1b[2Jb\\x0dc");
    }

    #[test]
    fn formats_utc_times() {
        let t = UNIX_EPOCH + Duration::from_millis(1_795_651_200_123);
        assert_eq!(timestamp(t), "2026-11-26 00:00:00.123");
        assert_eq!(timestamp(UNIX_EPOCH), "1970-01-01 00:00:00.000");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400 + 3661);
        assert_eq!(timestamp(leap), "2000-02-29 01:01:01.000");
    }
}
