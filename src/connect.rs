//! `connect`: opens the driver a URI names — the in-process driver for
//! `qemu:///embed` (shared on its socket with other processes, or reached
//! through the socket of the process that holds it), a `SocketDriver` to
//! a daemon for the others, starting the session daemon on demand, or
//! through OpenSSH to a daemon on another host.
//!
//! Which socket a local URI names, and starting the session daemon, is
//! [`daemon_socket`]: the same for a client here and for `qvirtd --proxy`
//! on the far side of an ssh connection.

use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::driver::Driver;
use crate::driver::uri::{Proto, Target, parse};
use crate::error::{Error, ErrorCode, Result};
use crate::transport::SocketDriver;
use crate::transport::client::check_server;
use crate::transport::instance::Instance;
use crate::transport::lvclient::LvDriver;

/// Opens a driver for `uri`.
pub fn connect(uri: &str) -> Result<Box<dyn Driver>> {
    match parse(uri)? {
        Target::Embed { root } => crate::transport::embedded::open(&root, uri),
        Target::Socket { path } => Ok(Box::new(SocketDriver::connect(&path, uri)?)),
        Target::Ssh(t) if t.proto == Proto::Libvirt => {
            let instance = match t.instance {
                crate::driver::uri::RemoteInstance::System => "system",
                crate::driver::uri::RemoteInstance::Session => "session",
            };
            Ok(Box::new(LvDriver::open_ssh(
                &t,
                &format!("qemu:///{instance}"),
                uri,
            )?))
        }
        Target::Libvirt(local) => {
            let socket = daemon_socket(&local, false, Proto::Libvirt)?;
            Ok(Box::new(LvDriver::open(
                socket,
                libvirt_open_uri(&local, uri),
                uri,
            )?))
        }
        Target::Ssh(t) => Ok(Box::new(SocketDriver::connect_ssh(&t, uri)?)),
        target => {
            let socket = daemon_socket(&target, false, Proto::Qvirt)?;
            Ok(Box::new(SocketDriver::over(socket, uri)?))
        }
    }
}

/// The URI a libvirt daemon is asked to open for `uri`, as virsh sends
/// it: without transport and parameters (`qemu:///system`).
fn libvirt_open_uri(local: &Target, uri: &str) -> &'static str {
    let system = match local {
        Target::System => true,
        Target::Session => false,
        _ => uri
            .strip_prefix("qemu+unix:///")
            .is_some_and(|r| r.starts_with("system")),
    };
    if system {
        "qemu:///system"
    } else {
        "qemu:///session"
    }
}

/// Connects to the socket of the daemon a local URI names (`qemu:///system`,
/// `qemu:///session`, `qemu+unix:///...?socket=PATH`) and checks that it
/// is served by this user or root. The system daemon's read-only socket is
/// taken when `read_only` or when this user is not root; the session's
/// daemon is started when none answers. `proto` picks qvirt's sockets or
/// libvirt's beside them (an explicit socket is taken as it is).
pub(crate) fn daemon_socket(target: &Target, read_only: bool, proto: Proto) -> Result<UnixStream> {
    let pick = |paths: &crate::transport::instance::InstancePaths, ro: bool| match (proto, ro) {
        (Proto::Qvirt, false) => Some(paths.socket.clone()),
        (Proto::Qvirt, true) => paths.socket_ro.clone(),
        (Proto::Libvirt, false) => Some(paths.libvirt_socket()),
        (Proto::Libvirt, true) => paths.libvirt_socket_ro(),
    };
    match target {
        Target::Socket { path } => {
            if read_only {
                return Err(Error::new(
                    ErrorCode::InvalidArgument,
                    format!(
                        "read-only access needs an instance with a read-only socket (qemu:///system); {} is named explicitly",
                        path.display()
                    ),
                ));
            }
            open_checked(path)
        }
        Target::System => {
            let paths = Instance::System.paths()?;
            let ro = read_only || !nix::unistd::geteuid().is_root();
            let socket = pick(&paths, ro).expect("the system instance has both sockets");
            open_checked(&socket).map_err(|e| {
                Error::new(
                    e.code,
                    format!("{e}; is the system daemon running (qvirtd --system)?"),
                )
            })
        }
        Target::Session => {
            let paths = Instance::Session.paths()?;
            let socket = pick(&paths, read_only).ok_or_else(|| {
                Error::new(
                    ErrorCode::InvalidArgument,
                    "the session daemon has no read-only socket: it serves only its own user",
                )
            })?;
            connect_session(&socket, &paths.daemon_log)
        }
        Target::Libvirt(local) => daemon_socket(local, read_only, Proto::Libvirt),
        Target::Embed { .. } | Target::Ssh(_) => Err(Error::new(
            ErrorCode::InvalidArgument,
            "only qemu:///system, qemu:///session and qemu+unix URIs name a daemon's socket",
        )),
    }
}

/// Connects to `path` and checks who serves it.
fn open_checked(path: &Path) -> Result<UnixStream> {
    let socket = UnixStream::connect(path)
        .map_err(|e| Error::io(format!("cannot connect to {}", path.display()), e))?;
    check_server(&socket, &path.display().to_string())?;
    Ok(socket)
}

/// Connects to the session daemon's `socket`, starting the daemon when
/// none answers: `qvirtd --session --timeout 120`, detached, then retries
/// for a few seconds.
fn connect_session(socket: &Path, log: &Path) -> Result<UnixStream> {
    match open_checked(socket) {
        Ok(s) => return Ok(s),
        Err(e) if e.code != ErrorCode::Io => return Err(e),
        Err(_) => {}
    }
    let daemon = daemon_binary();
    let spawned = spawn_detached(&daemon, &["--session", "--timeout", "120"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut last = None;
    while spawned.is_ok() && Instant::now() < deadline {
        match open_checked(socket) {
            Ok(s) => return Ok(s),
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
            socket.display(),
            log.display()
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
