//! `connect`: opens the driver a URI names — the in-process driver for
//! `qemu:///embed` (shared on its socket with other processes, or reached
//! through the socket of the process that holds it), a `SocketDriver` to
//! a daemon for the others, starting the session daemon on demand.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::driver::Driver;
use crate::driver::uri::{Target, parse};
use crate::error::{Error, ErrorCode, Result};
use crate::transport::SocketDriver;
use crate::transport::instance::Instance;

/// Opens a driver for `uri`.
pub fn connect(uri: &str) -> Result<Box<dyn Driver>> {
    match parse(uri)? {
        Target::Embed { root } => crate::transport::embedded::open(&root, uri),
        Target::Socket { path } => Ok(Box::new(SocketDriver::connect(&path, uri)?)),
        Target::System => {
            let paths = Instance::System.paths()?;
            let socket = match (&paths.socket_ro, nix::unistd::geteuid().is_root()) {
                (Some(ro), false) => ro.clone(),
                _ => paths.socket.clone(),
            };
            SocketDriver::connect(&socket, uri)
                .map(|d| Box::new(d) as Box<dyn Driver>)
                .map_err(|e| {
                    Error::new(
                        e.code,
                        format!("{e}; is the system daemon running (qvirtd --system)?"),
                    )
                })
        }
        Target::Session => Ok(Box::new(connect_session(uri)?)),
    }
}

/// Connects to the session daemon, starting it when no daemon answers:
/// `qvirtd --session --timeout 120`, detached, then retries for a few
/// seconds.
fn connect_session(uri: &str) -> Result<SocketDriver> {
    let paths = Instance::Session.paths()?;
    match SocketDriver::connect(&paths.socket, uri) {
        Ok(d) => return Ok(d),
        Err(e) if e.code != ErrorCode::Io => return Err(e),
        Err(_) => {}
    }
    let daemon = daemon_binary();
    let spawned = spawn_detached(&daemon, &["--session", "--timeout", "120"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut last = None;
    while spawned.is_ok() && Instant::now() < deadline {
        match SocketDriver::connect(&paths.socket, uri) {
            Ok(d) => return Ok(d),
            Err(e) if e.code == ErrorCode::Io => last = Some(e),
            Err(e) => return Err(e),
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let why = match (spawned, last) {
        (Err(e), _) => format!("cannot start {}: {e}", daemon.display()),
        (Ok(()), Some(e)) => e.to_string(),
        (Ok(()), None) => "no answer".to_string(),
    };
    Err(Error::new(
        ErrorCode::OperationFailed,
        format!(
            "no session daemon answers at {} ({why}); see its log {}",
            paths.socket.display(),
            paths.daemon_log.display()
        ),
    ))
}

/// The `qvirtd` to start: `$QVIRT_DAEMON`, else beside this program,
/// else the one in `$PATH`.
fn daemon_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("QVIRT_DAEMON") {
        return PathBuf::from(p);
    }
    if let Ok(exe) = std::env::current_exe()
        && let Some(dir) = exe.parent()
        && dir.join("qvirtd").is_file()
    {
        return dir.join("qvirtd");
    }
    PathBuf::from("qvirtd")
}

/// Starts `program` in its own session with no terminal and no stdio,
/// as a grandchild: a shell in a new session starts it in the background
/// and exits at once, and is reaped here, so the daemon is never this
/// process's child (no zombie, and no thread left to reap it).
fn spawn_detached(program: &Path, args: &[&str]) -> std::io::Result<()> {
    use std::os::unix::process::CommandExt;
    use std::process::{Command, Stdio};
    let mut cmd = Command::new("/bin/sh");
    // The program and its arguments are the shell's positional
    // parameters, never part of its script.
    cmd.arg("-c")
        .arg(r#""$0" "$@" &"#)
        .arg(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    #[allow(unsafe_code)]
    // SAFETY: runs in the child between fork and exec; setsid(2) is
    // async-signal-safe and touches no memory.
    unsafe {
        cmd.pre_exec(|| {
            nix::unistd::setsid().map_err(std::io::Error::from)?;
            Ok(())
        });
    }
    let status = cmd.spawn()?.wait()?;
    if status.success() {
        Ok(())
    } else {
        Err(std::io::Error::other(format!(
            "the shell that starts {} failed ({status})",
            program.display()
        )))
    }
}
