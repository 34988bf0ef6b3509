//! `qvirtd`: the qvirt daemon. A `LocalDriver` behind UNIX sockets.
//!
//! `--session` serves one user (XDG directories, a 0700 socket directory,
//! the peer's uid checked on every connection); `--system` serves the
//! host (root on `qvirt-sock`, anyone read-only on `qvirt-sock-ro`);
//! beside each of qvirt's sockets, one of libvirt's RPC protocol
//! (`libvirt-sock`, `libvirt-sock-ro`) with the same mode and rules, so
//! that virsh, python3-libvirt and virt-install drive the same domains;
//! `--root DIR` serves the embedded layout of DIR (with
//! `--read-only-socket`, also a read-only socket for every uid beside
//! it, as the system instance has). The daemon holds the state
//! directory's lock, so it never shares it with another manager.
//!
//! Once listening, it starts the domains marked autostart (by name; a
//! failure is logged and the others still start). SIGTERM/SIGINT stop
//! accepting, let calls in flight finish, and exit, leaving every VM
//! running; SIGHUP re-reads the config directory.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;

use qvirt::driver::local::LocalDriver;
use qvirt::sys::fsutil::{check_private_dir, ensure_private_dir};
use qvirt::transport::embedded::bind_socket;
use qvirt::transport::instance::{Instance, InstancePaths};
use qvirt::transport::server::{Limits, Protocol, ServeOptions, Server};
use qvirt::{Error, ErrorCode, Result};

/// The qvirt daemon.
#[derive(Parser, Debug)]
#[command(
    name = "qvirtd",
    version,
    about = "The qvirt daemon: serves a LocalDriver over UNIX sockets"
)]
struct Args {
    /// Serve this user's session (qemu:///session).
    #[arg(long, conflicts_with_all = ["system", "root"])]
    session: bool,
    /// Serve the host (qemu:///system); needs root.
    #[arg(long, conflicts_with = "root")]
    system: bool,
    /// Serve the embedded layout of DIR (socket: DIR/run/qvirt-sock).
    #[arg(long, value_name = "DIR")]
    root: Option<PathBuf>,
    /// Exit after N seconds with no clients and no running domains
    /// (default: never).
    #[arg(long, value_name = "N")]
    timeout: Option<u64>,
    /// Also log to stderr.
    #[arg(long, short = 'f')]
    foreground: bool,
    /// Put QEMU processes into one CPU group, so that many VMs weigh as
    /// much as one process (default: on with --system, off otherwise).
    #[arg(long)]
    cpu_group: bool,
    /// The most clients served at once on each socket (default 256).
    #[arg(long, default_value_t = 256)]
    max_clients: usize,
    /// The most clients one uid other than root and the daemon's own may
    /// have on each socket (default 32).
    #[arg(long, default_value_t = 32)]
    max_clients_per_uid: usize,
    /// The bytes the daemon buffers for one uid other than root and its
    /// own (calls coming in, replies and events going out) before it
    /// stops reading that uid's calls until they drain (default 16 MiB).
    #[arg(long, value_name = "BYTES", default_value_t = 16 * 1024 * 1024)]
    max_bytes_per_uid: usize,
    /// With --root: also serve any uid, read-only, on
    /// DIR/run/qvirt-sock-ro (as the system instance's qvirt-sock-ro).
    #[arg(long, requires = "root")]
    read_only_socket: bool,
    /// Seconds a libvirt client that asked for keepalive may stay silent
    /// before it is sent a keepalive request (libvirtd's
    /// keepalive_interval; default 5; 0 sends none).
    #[arg(long, value_name = "S", default_value_t = 5)]
    keepalive_interval: u64,
    /// Keepalive requests such a client may leave unanswered before it is
    /// disconnected (libvirtd's keepalive_count; default 5).
    #[arg(long, value_name = "N", default_value_t = 5)]
    keepalive_count: u32,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("qvirtd: error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> Result<()> {
    let (instance, uri) = match (&args.root, args.system) {
        (Some(root), _) => {
            let root =
                std::path::absolute(root).map_err(|e| Error::io("cannot resolve --root", e))?;
            let uri = format!("qemu:///embed?root={}", root.display());
            (Instance::Root(root), uri)
        }
        (None, true) => (Instance::System, "qemu:///system".to_string()),
        (None, false) => (Instance::Session, "qemu:///session".to_string()),
    };
    if instance == Instance::System && !nix::unistd::geteuid().is_root() {
        return Err(Error::new(
            ErrorCode::OperationDenied,
            "the system daemon must run as root; use --session for your own VMs",
        ));
    }
    let mut paths = instance.paths()?;
    if args.read_only_socket {
        paths.socket_ro = Some(paths.socket_dir.join("qvirt-sock-ro"));
    }
    prepare_socket_dir(&instance, &paths)?;
    let driver = Arc::new(LocalDriver::open(
        paths.layout.clone(),
        uri.clone(),
        args.foreground,
    )?);
    driver.set_cpu_group(args.cpu_group || instance == Instance::System);
    driver.set_peer_connector(qvirt::connect);
    let log = driver.logger();
    raise_fd_limit(&log, args.max_clients);
    let limits = Limits {
        max_clients_per_uid: args.max_clients_per_uid,
        max_bytes_per_uid: args.max_bytes_per_uid,
        keepalive_interval: Duration::from_secs(args.keepalive_interval),
        keepalive_count: args.keepalive_count,
        ..Limits::default()
    };
    let server = Server::with_limits(driver.clone(), log.clone(), limits)?;

    let stop = Arc::new(AtomicBool::new(false));
    let hup = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(sig, stop.clone())
            .map_err(|e| Error::io("cannot install a signal handler", e))?;
    }
    signal_hook::flag::register(signal_hook::consts::SIGHUP, hup.clone())
        .map_err(|e| Error::io("cannot install a signal handler", e))?;

    let uid = nix::unistd::geteuid().as_raw();
    let rw = ServeOptions {
        read_only: false,
        allowed_uid: Some(uid),
        max_clients: args.max_clients,
    };
    let ro = ServeOptions {
        read_only: true,
        allowed_uid: None,
        max_clients: args.max_clients,
    };
    // qvirt's sockets, and libvirt's beside them with the same modes and
    // rules.
    let mut listeners = vec![
        (
            bind_socket(&paths.socket, 0o600)?,
            rw.clone(),
            Protocol::Qvirt,
        ),
        (
            bind_socket(&paths.libvirt_socket(), 0o600)?,
            rw,
            Protocol::Libvirt,
        ),
    ];
    if let Some(socket_ro) = &paths.socket_ro {
        listeners.push((bind_socket(socket_ro, 0o666)?, ro.clone(), Protocol::Qvirt));
    }
    if let Some(socket_ro) = paths.libvirt_socket_ro() {
        listeners.push((bind_socket(&socket_ro, 0o666)?, ro, Protocol::Libvirt));
    }
    for (listener, options, protocol) in listeners {
        server.listen_protocol(listener, options, protocol)?;
    }
    log.info(&format!(
        "qvirtd {} serving {uri} on {}",
        env!("CARGO_PKG_VERSION"),
        paths.socket.display()
    ));
    // Domains marked autostart start now, by name, while clients are
    // already served; each failure is logged by the driver.
    let autostart = {
        let driver = driver.clone();
        std::thread::spawn(move || driver.autostart_all())
    };

    let mut idle_since = Instant::now();
    loop {
        std::thread::sleep(Duration::from_millis(100));
        if stop.load(Ordering::SeqCst) {
            log.info("stopping on a signal; running VMs are left running");
            break;
        }
        if hup.swap(false, Ordering::SeqCst)
            && let Err(e) = driver.rescan()
        {
            log.error(&format!("rescan failed: {e}"));
        }
        if let Some(limit) = args.timeout {
            if server.clients() > 0 || driver.any_running() {
                idle_since = Instant::now();
            } else if idle_since.elapsed() >= Duration::from_secs(limit) {
                log.info(&format!(
                    "idle for {limit} s with no domain running; exiting"
                ));
                break;
            }
        }
    }
    // Stops accepting, lets calls in flight finish and their replies go
    // out, and joins the server's threads.
    server.stop();
    let _ = autostart.join();
    let _ = std::fs::remove_file(&paths.socket);
    let _ = std::fs::remove_file(paths.libvirt_socket());
    if let Some(ro) = &paths.socket_ro {
        let _ = std::fs::remove_file(ro);
    }
    if let Some(ro) = paths.libvirt_socket_ro() {
        let _ = std::fs::remove_file(ro);
    }
    Ok(())
}

/// Raises the soft limit on open files to the hard limit. A client takes
/// a descriptor and a running VM a few, and the soft limit a daemon
/// inherits is often 1024 (systemd's default): past it, accept(2) fails
/// and clients wait unanswered well before `--max-clients` is reached.
/// Logs a warning when even the hard limit leaves too little room.
fn raise_fd_limit(log: &qvirt::sys::logger::Logger, max_clients: usize) {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) else {
        return;
    };
    let now = if soft < hard && setrlimit(Resource::RLIMIT_NOFILE, hard, hard).is_ok() {
        hard
    } else {
        soft
    };
    // Each socket admits `max_clients`; VMs and the daemon need the rest.
    let wanted = 2 * max_clients as u64 + 256;
    if now < wanted {
        log.warn(&format!(
            "the open-file limit is {now}, less than the {wanted} that {max_clients} clients per socket and some VMs need; raise it (ulimit -n, LimitNOFILE=) or lower --max-clients"
        ));
    }
}

/// Creates and checks the directory that holds the sockets. A session's
/// or root's is private (0700, ours, not a symlink); the system's must be
/// reachable by everyone for the read-only socket, so it is 0755, owned by
/// root and writable by nobody else.
fn prepare_socket_dir(instance: &Instance, paths: &InstancePaths) -> Result<()> {
    let dir = &paths.socket_dir;
    match instance {
        Instance::System => {
            std::fs::create_dir_all(dir)
                .map_err(|e| Error::io(format!("cannot create {}", dir.display()), e))?;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755))
                .map_err(|e| Error::io(format!("cannot set the mode of {}", dir.display()), e))?;
            check_private_dir(dir)
        }
        _ => ensure_private_dir(dir),
    }
}
