//! The software TPM of a domain: `swtpm`, one per running domain with an
//! emulated `<tpm>`, as libvirt runs it (qemu_tpm.c).
//!
//! Its state lives per domain (by UUID) in the manager's TPM directory,
//! created once with `swtpm_setup`; the process is started before QEMU on
//! a socket in the domain's runtime directory, with `--terminate`, so it
//! ends when QEMU closes the connection; a start that fails before QEMU
//! connects kills it. Undefining a domain removes the state unless asked
//! to keep it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::error::{Error, ErrorCode, Result};
use crate::model::{DomainDef, TpmBackend, TpmVersion};
use crate::qemu::argv::{tpm_socket, tpm_version};

/// The programs, where Debian installs them.
const SWTPM: &str = "swtpm";
const SWTPM_SETUP: &str = "swtpm_setup";

/// How long swtpm may take to open its socket.
const SOCKET_DEADLINE: Duration = Duration::from_secs(10);

/// The state directory of a domain's TPM: `TPMDIR/UUID`, with `tpm2` or
/// `tpm1.2` inside as libvirt lays it out.
pub fn state_dir(tpm_dir: &Path, def: &DomainDef) -> PathBuf {
    tpm_dir.join(def.uuid.hyphenated().to_string())
}

/// The version of a domain's emulated TPM, if it has one.
fn emulated(def: &DomainDef) -> Option<TpmVersion> {
    let t = def.devices.tpms.first()?;
    let TpmBackend::Emulator { version, .. } = &t.backend else {
        return None;
    };
    Some(tpm_version(t.model, *version))
}

/// A running swtpm, killed when dropped unless [`Swtpm::keep`] was called
/// (QEMU then owns its end: swtpm exits when QEMU closes the socket).
#[derive(Debug)]
pub struct Swtpm {
    pid: Option<i32>,
}

impl Swtpm {
    /// Lets swtpm live on with QEMU.
    pub fn keep(mut self) {
        self.pid = None;
    }
}

impl Drop for Swtpm {
    fn drop(&mut self) {
        if let Some(pid) = self.pid {
            let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
        }
    }
}

/// A clear error for a program that cannot be run.
fn missing(program: &str, e: std::io::Error) -> Error {
    if e.kind() == std::io::ErrorKind::NotFound {
        Error::new(
            ErrorCode::NoSupport,
            format!(
                "{program} is not installed: an emulated <tpm> needs it; install the Debian packages swtpm and swtpm-tools"
            ),
        )
    } else {
        Error::io(format!("cannot run {program}"), e)
    }
}

/// Refuses a path that belongs to another user.
fn check_owner(what: &str, path: &Path) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let me = nix::unistd::Uid::effective().as_raw();
    if let Ok(m) = std::fs::metadata(path)
        && m.uid() != me
    {
        return Err(Error::new(
            ErrorCode::OperationDenied,
            format!(
                "the {what} {} belongs to uid {}, not to this manager (uid {me}): fix its owner or remove it",
                path.display(),
                m.uid()
            ),
        ));
    }
    Ok(())
}

/// Starts the domain's swtpm, creating its state first if needed; `None`
/// when the domain has no emulated TPM. `tpm_dir` is the manager's TPM
/// directory, `run_dir` the domain's runtime directory (which holds the
/// socket), `log` swtpm's log file.
///
/// Errors: [`ErrorCode::NoSupport`] without swtpm;
/// [`ErrorCode::OperationDenied`] when the state belongs to another user;
/// [`ErrorCode::OperationFailed`] when swtpm or swtpm_setup fails (with
/// the tail of its log). A state directory this call created is removed
/// again when it fails.
pub fn start(tpm_dir: &Path, def: &DomainDef, run_dir: &Path, log: &Path) -> Result<Option<Swtpm>> {
    let Some(version) = emulated(def) else {
        return Ok(None);
    };
    check_owner("TPM directory", tpm_dir)?;
    let dir = state_dir(tpm_dir, def);
    check_owner("TPM state directory", &dir)?;
    let tpm2 = version == TpmVersion::V2_0;
    let state = dir.join(if tpm2 { "tpm2" } else { "tpm1.2" });
    check_owner("TPM state directory", &state)?;
    let fresh = !dir.exists();
    let result = (|| {
        if !state
            .join(if tpm2 {
                "tpm2-00.permall"
            } else {
                "tpm-00.permall"
            })
            .exists()
        {
            setup(def, &state, tpm2, log)?;
        }
        run(&state, run_dir, tpm2, log)
    })();
    if result.is_err() && fresh {
        let _ = crate::sys::fsutil::remove_tree(&dir);
    }
    result.map(Some)
}

/// Creates the TPM's state with `swtpm_setup`: endorsement keys, and (as
/// root, where swtpm's local CA can write) their certificates.
fn setup(def: &DomainDef, state: &Path, tpm2: bool, log: &Path) -> Result<()> {
    std::fs::create_dir_all(state)
        .map_err(|e| Error::io(format!("cannot create {}", state.display()), e))?;
    use std::os::unix::fs::PermissionsExt;
    for d in [state, state.parent().unwrap_or(state)] {
        let _ = std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o700));
    }
    let mut cmd = Command::new(SWTPM_SETUP);
    if tpm2 {
        cmd.arg("--tpm2");
    }
    cmd.arg("--tpm-state")
        .arg(state)
        .arg("--vmid")
        .arg(format!("{}:{}", def.name, def.uuid.hyphenated()))
        .arg("--logfile")
        .arg(log)
        .arg("--createek");
    if nix::unistd::Uid::effective().is_root() {
        cmd.args(["--create-ek-cert", "--create-platform-cert"]);
    }
    cmd.args(["--lock-nvram", "--not-overwrite"]);
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| missing(SWTPM_SETUP, e))?;
    if !out.status.success() {
        return Err(Error::new(
            ErrorCode::OperationFailed,
            format!(
                "swtpm_setup could not create the TPM state in {} ({}): {}{}",
                state.display(),
                out.status,
                String::from_utf8_lossy(&out.stderr).trim(),
                crate::sys::process::log_tail(log, 8)
            ),
        ));
    }
    Ok(())
}

/// Runs swtpm on the domain's socket; it daemonizes once the socket is
/// open.
fn run(state: &Path, run_dir: &Path, tpm2: bool, log: &Path) -> Result<Swtpm> {
    let sock = tpm_socket(run_dir);
    let pidfile = run_dir.join("swtpm.pid");
    let _ = std::fs::remove_file(&sock);
    let mut cmd = Command::new(SWTPM);
    cmd.arg("socket")
        .arg("--ctrl")
        .arg(format!("type=unixio,path={},mode=0600", sock.display()))
        .arg("--tpmstate")
        .arg(format!("dir={},mode=0600", state.display()))
        .arg("--log")
        .arg(format!("file={}", log.display()))
        .arg("--terminate");
    if tpm2 {
        cmd.arg("--tpm2");
    }
    cmd.arg("--daemon")
        .arg("--pid")
        .arg(format!("file={}", pidfile.display()));
    for p in [&sock, &pidfile, state] {
        if p.to_str().is_none_or(|s| s.contains(',')) {
            return Err(Error::new(
                ErrorCode::ConfigInvalid,
                format!(
                    "swtpm cannot take the path {} (a comma or non-UTF-8 name)",
                    p.display()
                ),
            ));
        }
    }
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| missing(SWTPM, e))?;
    let pid = std::fs::read_to_string(&pidfile)
        .ok()
        .and_then(|t| t.trim().parse::<i32>().ok());
    let guard = Swtpm { pid };
    if !out.status.success() || pid.is_none() {
        return Err(Error::new(
            ErrorCode::OperationFailed,
            format!(
                "swtpm did not start ({}): {}\n{}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim(),
                crate::sys::process::log_tail(log, 8)
            ),
        ));
    }
    let deadline = Instant::now() + SOCKET_DEADLINE;
    let mut pause = Duration::from_millis(1);
    while !sock.exists() {
        if Instant::now() > deadline {
            return Err(Error::new(
                ErrorCode::Timeout,
                format!("swtpm did not open {} in time", sock.display()),
            ));
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(50));
    }
    Ok(guard)
}

/// The TPM state directory undefining a domain removes, as libvirt
/// decides: with `persistent_state='yes'` only when asked (`delete`),
/// otherwise unless asked to keep it (`keep`). `None` when nothing goes.
pub fn state_to_remove(
    tpm_dir: &Path,
    def: &DomainDef,
    delete: bool,
    keep: bool,
) -> Option<PathBuf> {
    let t = def.devices.tpms.first()?;
    let TpmBackend::Emulator {
        persistent_state, ..
    } = &t.backend
    else {
        return None;
    };
    let remove = if *persistent_state == Some(true) {
        delete
    } else {
        !keep
    };
    remove.then(|| state_dir(tpm_dir, def))
}
