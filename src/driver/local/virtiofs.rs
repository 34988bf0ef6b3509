//! One virtiofsd per `<filesystem>` share: started before QEMU on the
//! vhost-user socket QEMU's `vhost-user-fs-pci` connects to, ended with
//! the run. virtiofsd exits by itself when QEMU closes its socket; the
//! pids kept in the run directory let the run's end reap or stop it,
//! and a failed start kills it.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::error::{Error, ErrorCode, Result};
use crate::model::{DomainDef, Filesystem};
use crate::qemu::argv::virtiofs_socket;

/// The file in the run directory listing the virtiofsd processes.
const PIDS_FILE: &str = "virtiofsd.pids";

/// Where Debian puts virtiofsd: the Rust one (package `virtiofsd`), then
/// QEMU 7.2's own (package `qemu-system-common`).
const PROGRAMS: &[&str] = &["/usr/libexec/virtiofsd", "/usr/lib/qemu/virtiofsd"];

/// The running virtiofsd processes of a start.
pub type Virtiofsd = super::helper_procs::HelperProcs;

fn program(f: &Filesystem) -> Result<PathBuf> {
    if let Some(p) = &f.binary.path {
        return Ok(PathBuf::from(p));
    }
    PROGRAMS
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .ok_or_else(|| {
            Error::new(
                ErrorCode::NoSupport,
                format!(
                    "virtiofsd is not installed: the <filesystem> '{}' needs it; install the Debian package virtiofsd (or qemu-system-common's {})",
                    f.target_dir, PROGRAMS[1]
                ),
            )
        })
}

/// virtiofsd's command line for share `f` on `socket`, in the option
/// syntax both virtiofsd implementations take.
fn argv(f: &Filesystem, socket: &Path) -> Result<Vec<OsString>> {
    if f.source_dir.contains(',') {
        // virtiofsd splits its -o options at commas.
        return Err(Error::new(
            ErrorCode::ConfigUnsupported,
            format!(
                "the <filesystem> source dir '{}' has a comma, which virtiofsd cannot take",
                f.source_dir
            ),
        ));
    }
    let mut argv: Vec<OsString> = vec![program(f)?.into()];
    argv.push(format!("--socket-path={}", socket.display()).into());
    let mut opt = |o: String| {
        argv.push("-o".into());
        argv.push(o.into());
    };
    opt(format!("source={}", f.source_dir));
    if let Some(c) = f.binary.cache {
        opt(format!("cache={}", c.as_str()));
    }
    if let Some(s) = f.binary.sandbox {
        opt(format!("sandbox={}", s.as_str()));
    }
    if let Some(x) = f.binary.xattr {
        opt(if x { "xattr" } else { "no_xattr" }.to_string());
    }
    if let Some(l) = f.binary.posix_lock {
        opt(if l { "posix_lock" } else { "no_posix_lock" }.to_string());
    }
    if let Some(l) = f.binary.flock {
        opt(if l { "flock" } else { "no_flock" }.to_string());
    }
    if let Some(n) = f.binary.thread_pool {
        argv.push(format!("--thread-pool-size={n}").into());
    }
    Ok(argv)
}

/// Starts one virtiofsd per share of `def`, each listening before this
/// returns; `log` takes their output.
///
/// Errors: [`ErrorCode::NoSupport`] without virtiofsd; [`ErrorCode::Io`]
/// when a share's directory is missing; [`ErrorCode::OperationFailed`]
/// when virtiofsd exits or does not listen (with its log's tail).
pub fn start(def: &DomainDef, run_dir: &Path, log: &Path) -> Result<Virtiofsd> {
    let mut started = Virtiofsd::default();
    for (i, f) in def.devices.filesystems.iter().enumerate() {
        if f.driver != crate::model::FsDriver::Virtiofs {
            continue;
        }
        if !Path::new(&f.source_dir).is_dir() {
            return Err(Error::new(
                ErrorCode::Io,
                format!(
                    "cannot start domain '{}': the <filesystem> source dir {} is not a directory",
                    def.name, f.source_dir
                ),
            ));
        }
        let socket = virtiofs_socket(run_dir, i);
        started.spawn_listening(
            &argv(f, &socket)?,
            &socket,
            log,
            &def.name,
            &format!("virtiofsd for the <filesystem> '{}'", f.target_dir),
        )?;
    }
    started.record(run_dir, PIDS_FILE)?;
    Ok(started)
}

/// The file in the run directory listing the virtiofsd of share number
/// `n` plugged into the running domain.
fn plugged_pids_file(n: u32) -> String {
    format!("virtiofsd-fs{n}.pids")
}

/// Starts the virtiofsd of share `f`, plugged into the running domain
/// `domain` as share number `n`, on `socket`; its output goes to `log`.
/// Recorded in the run directory once it listens (for [`stop_plugged`],
/// and for [`stop`] at the end of the run); killed when the returned
/// processes are dropped before being kept.
///
/// Errors: as [`start`]'s.
pub fn start_plugged(
    f: &Filesystem,
    n: u32,
    socket: &Path,
    run_dir: &Path,
    log: &Path,
    domain: &str,
) -> Result<Virtiofsd> {
    if !Path::new(&f.source_dir).is_dir() {
        return Err(Error::new(
            ErrorCode::Io,
            format!(
                "the <filesystem> source dir {} is not a directory",
                f.source_dir
            ),
        ));
    }
    let mut started = Virtiofsd::default();
    started.spawn_listening(
        &argv(f, socket)?,
        socket,
        log,
        domain,
        &format!("virtiofsd for the <filesystem> '{}'", f.target_dir),
    )?;
    started.record(run_dir, &plugged_pids_file(n))?;
    Ok(started)
}

/// Ends the virtiofsd of share number `n`, plugged in and now unplugged
/// (it exits by itself once QEMU closed its socket: then it is reaped).
pub fn stop_plugged(run_dir: &Path, n: u32) {
    let file = plugged_pids_file(n);
    super::helper_procs::stop(run_dir, &file);
    let _ = std::fs::remove_file(run_dir.join(file));
}

/// Ends the virtiofsd processes of a run that is over, those plugged in
/// while it ran too.
pub fn stop(run_dir: &Path) {
    super::helper_procs::stop(run_dir, PIDS_FILE);
    let Ok(entries) = std::fs::read_dir(run_dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with("virtiofsd-fs") && name.ends_with(".pids") {
            super::helper_procs::stop(run_dir, &name);
        }
    }
}
