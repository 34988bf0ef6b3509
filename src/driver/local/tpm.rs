//! The software TPM of a domain: `swtpm`, one per running domain with an
//! emulated `<tpm>`, as libvirt runs it (qemu_tpm.c).
//!
//! Its state lives per domain (by UUID) in the manager's TPM directory,
//! created once with `swtpm_setup`; the process is started before QEMU on
//! a socket in the domain's runtime directory, with `--terminate`, so it
//! ends when QEMU closes the connection; a start that fails before QEMU
//! connects kills it. Undefining a domain removes the state unless asked
//! to keep it.
//!
//! With `<encryption secret>` the state is encrypted with a key swtpm
//! derives from the secret's value, which swtpm_setup and swtpm read from
//! a pipe (libvirt's `--pwdfile-fd`, `--key pwdfd=`): it is never on a
//! command line nor in a file. With `<active_pcr_banks>` swtpm_setup
//! makes exactly those banks active before every start.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use nix::unistd::Pid;

use std::ffi::OsString;
use std::os::fd::{AsFd, OwnedFd};

use crate::error::{Error, ErrorCode, Result};
use crate::model::{DomainDef, TpmBackend, TpmPcrBank, TpmVersion};
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

/// The version of a domain's emulated TPM and its PCR banks, if it has
/// one.
fn emulated(def: &DomainDef) -> Option<(TpmVersion, Option<&[TpmPcrBank]>)> {
    let t = def.devices.tpms.first()?;
    let TpmBackend::Emulator {
        version,
        active_pcr_banks,
        ..
    } = &t.backend
    else {
        return None;
    };
    Some((tpm_version(t.model, *version), active_pcr_banks.as_deref()))
}

/// The secret whose value keys the state of a domain's emulated TPM
/// (`<encryption secret>`), if it is encrypted.
pub fn encryption_secret(def: &DomainDef) -> Option<uuid::Uuid> {
    match def.devices.tpms.first().map(|t| &t.backend) {
        Some(TpmBackend::Emulator { encryption, .. }) => *encryption,
        _ => None,
    }
}

/// What starting a domain's swtpm needs besides its definition.
#[derive(Debug, Default)]
pub struct TpmStart<'a> {
    /// The value of the `<encryption secret>`, from which swtpm derives
    /// the state's key.
    pub key: Option<&'a [u8]>,
    /// QEMU is to receive an incoming migration: the state comes from the
    /// source as it is, so its PCR banks are left alone (as libvirt does).
    pub incoming: bool,
}

/// The cipher of an encrypted state, libvirt's choice.
const CIPHER: &str = "aes-256-cbc";

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
        // Waited for: a failed start leaves nothing running behind it.
        if let Some(id) = self.pid.and_then(|pid| {
            Some(crate::sys::process::ProcessId {
                pid,
                start_time: crate::sys::process::start_time(pid)?,
            })
        }) {
            crate::sys::process::kill_and_wait(id, std::time::Duration::from_secs(5));
        }
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
pub fn start(
    tpm_dir: &Path,
    def: &DomainDef,
    run_dir: &Path,
    log: &Path,
    how: &TpmStart<'_>,
) -> Result<Option<Swtpm>> {
    let Some((version, banks)) = emulated(def) else {
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
            setup(def, &state, tpm2, log, how.key)?;
        }
        if let Some(banks) = banks.filter(|_| tpm2 && !how.incoming) {
            reconfigure(&state, log, banks, how.key)?;
        }
        run(&state, run_dir, tpm2, log, how.key)
    })();
    if result.is_err() && fresh {
        let _ = crate::sys::fsutil::remove_tree(&dir);
    }
    result.map(Some)
}

/// Creates the TPM's state with `swtpm_setup`: endorsement keys, and (as
/// root, where swtpm's local CA can write) their certificates.
fn setup(def: &DomainDef, state: &Path, tpm2: bool, log: &Path, key: Option<&[u8]>) -> Result<()> {
    std::fs::create_dir_all(state)
        .map_err(|e| Error::io(format!("cannot create {}", state.display()), e))?;
    use std::os::unix::fs::PermissionsExt;
    for d in [state, state.parent().unwrap_or(state)] {
        let _ = std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o700));
    }
    let mut args = setup_args(tpm2, key);
    args.extend(
        [
            "--tpm-state".into(),
            state.into(),
            "--vmid".into(),
            format!("{}:{}", def.name, def.uuid.hyphenated()).into(),
            "--logfile".into(),
            log.into(),
            "--createek".into(),
        ]
        .into_iter()
        .collect::<Vec<OsString>>(),
    );
    if nix::unistd::Uid::effective().is_root() {
        args.extend(["--create-ek-cert".into(), "--create-platform-cert".into()]);
    }
    args.extend(["--lock-nvram".into(), "--not-overwrite".into()]);
    run_to_end(SWTPM_SETUP, args, key, &[KEY_FD], log)?.map_err(|why| {
        Error::new(
            ErrorCode::OperationFailed,
            format!(
                "swtpm_setup could not create the TPM state in {} ({why}){}",
                state.display(),
                crate::sys::process::log_tail(log, 8)
            ),
        )
    })
}

/// The descriptors swtpm reads the passphrase from: the state's key and
/// the key of the state it sends in a migration (the same passphrase,
/// as libvirt gives it).
const KEY_FD: i32 = 3;
const MIGRATION_KEY_FD: i32 = 4;

/// swtpm_setup's first arguments: the TPM's version and, for an
/// encrypted state, where the passphrase comes from.
fn setup_args(tpm2: bool, key: Option<&[u8]>) -> Vec<OsString> {
    let mut args: Vec<OsString> = Vec::new();
    if tpm2 {
        args.push("--tpm2".into());
    }
    if key.is_some() {
        args.extend([
            "--pwdfile-fd".into(),
            KEY_FD.to_string().into(),
            "--cipher".into(),
            CIPHER.into(),
        ]);
    }
    args
}

/// Makes exactly `banks` the active PCR banks of the TPM 2.0 state
/// (`swtpm_setup --reconfigure --pcr-banks`, libvirt's
/// qemuTPMEmulatorReconfigure), before each start.
fn reconfigure(state: &Path, log: &Path, banks: &[TpmPcrBank], key: Option<&[u8]>) -> Result<()> {
    let names: Vec<&str> = banks.iter().map(|b| b.as_str()).collect();
    let mut args = setup_args(true, key);
    args.extend([
        "--tpm-state".into(),
        state.into(),
        "--logfile".into(),
        log.into(),
        "--pcr-banks".into(),
        names.join(",").into(),
        "--reconfigure".into(),
    ]);
    run_to_end(SWTPM_SETUP, args, key, &[KEY_FD], log)?.map_err(|why| {
        Error::new(
            ErrorCode::OperationFailed,
            format!(
                "swtpm_setup could not make the PCR banks {} active in {} ({why}){}",
                names.join(","),
                state.display(),
                crate::sys::process::log_tail(log, 8)
            ),
        )
    })
}

/// Runs `program` with `args` to its end, its output appended to `log`;
/// with a `key`, each descriptor of `key_fds` is the read end of a pipe
/// holding it (nothing else of this process is inherited). The inner
/// error says how the program failed.
///
/// Errors: [`ErrorCode::NoSupport`] when the program is not installed;
/// [`ErrorCode::Io`] when the key's pipe cannot be made.
fn run_to_end(
    program: &str,
    args: Vec<OsString>,
    key: Option<&[u8]>,
    key_fds: &[i32],
    log: &Path,
) -> Result<std::result::Result<(), String>> {
    use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
    // Looked up for a clear error; run by its name as before, so that
    // its command line starts with it.
    crate::sys::process::find_program(program).ok_or_else(|| {
        Error::new(
            ErrorCode::NoSupport,
            format!(
                "{program} is not installed: an emulated <tpm> needs it; install the Debian packages swtpm and swtpm-tools"
            ),
        )
    })?;
    let pipes = match key {
        Some(k) => key_fds
            .iter()
            .map(|n| key_pipe(k).map(|fd| (fd, *n)))
            .collect::<std::io::Result<Vec<_>>>()
            .map_err(|e| Error::io("cannot make a pipe for the TPM state's key", e))?,
        None => Vec::new(),
    };
    let fds: Vec<_> = pipes.iter().map(|(fd, n)| (fd.as_fd(), *n)).collect();
    let mut argv = vec![OsString::from(program)];
    argv.extend(args);
    let child = match crate::sys::process::spawn_with_fds(&argv, log, &fds) {
        Ok(c) => c,
        Err(e) => return Ok(Err(e.message)),
    };
    drop(pipes);
    let pid = Pid::from_raw(child.pid);
    let deadline = Instant::now() + TOOL_DEADLINE;
    let mut pause = Duration::from_millis(1);
    loop {
        match waitpid(pid, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) if Instant::now() < deadline => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(100));
            }
            Ok(WaitStatus::StillAlive) => {
                // Its own session: the swtpm it runs goes with it.
                let _ = nix::sys::signal::killpg(pid, Signal::SIGKILL);
                let _ = waitpid(pid, None);
                return Ok(Err(format!(
                    "it did not finish within {} s; a wrong passphrase for an encrypted state makes swtpm_setup wait forever",
                    TOOL_DEADLINE.as_secs()
                )));
            }
            Ok(WaitStatus::Exited(_, 0)) => return Ok(Ok(())),
            Ok(WaitStatus::Exited(_, code)) => return Ok(Err(format!("exit status {code}"))),
            Ok(other) => return Ok(Err(format!("{other:?}"))),
            Err(e) => return Ok(Err(format!("cannot wait for {program}: {e}"))),
        }
    }
}

/// How long swtpm_setup may take (it makes keys; swtpm itself returns
/// once it has forked its daemon).
const TOOL_DEADLINE: Duration = Duration::from_secs(60);

/// The read end of a pipe that holds `key` and then ends (a passphrase
/// is far smaller than a pipe's buffer, so the write never blocks).
fn key_pipe(key: &[u8]) -> std::io::Result<OwnedFd> {
    let (read, write) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
    let mut w = std::fs::File::from(write);
    std::io::Write::write_all(&mut w, key)?;
    Ok(read)
}

/// Runs swtpm on the domain's socket; it daemonizes once the socket is
/// open.
fn run(state: &Path, run_dir: &Path, tpm2: bool, log: &Path, key: Option<&[u8]>) -> Result<Swtpm> {
    let sock = tpm_socket(run_dir);
    let pidfile = run_dir.join("swtpm.pid");
    let _ = std::fs::remove_file(&sock);
    let mut args: Vec<OsString> = vec![
        "socket".into(),
        "--ctrl".into(),
        format!("type=unixio,path={},mode=0600", sock.display()).into(),
        "--tpmstate".into(),
        format!("dir={},mode=0600", state.display()).into(),
        "--log".into(),
        format!("file={}", log.display()).into(),
        "--terminate".into(),
    ];
    if tpm2 {
        args.push("--tpm2".into());
    }
    if key.is_some() {
        for (option, fd) in [("--key", KEY_FD), ("--migration-key", MIGRATION_KEY_FD)] {
            args.push(option.into());
            args.push(format!("pwdfd={fd},mode={CIPHER}").into());
        }
    }
    args.extend([
        "--daemon".into(),
        "--pid".into(),
        format!("file={}", pidfile.display()).into(),
    ]);
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
    let ran = run_to_end(SWTPM, args, key, &[KEY_FD, MIGRATION_KEY_FD], log)?;
    let pid = std::fs::read_to_string(&pidfile)
        .ok()
        .and_then(|t| t.trim().parse::<i32>().ok());
    let guard = Swtpm { pid };
    if let Err(why) = ran.and_then(|()| pid.map(|_| ()).ok_or_else(|| "no pid file".to_string())) {
        return Err(Error::new(
            ErrorCode::OperationFailed,
            format!(
                "swtpm did not start ({why}){}",
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
