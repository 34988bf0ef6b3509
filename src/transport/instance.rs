//! Where a daemon instance lives: its state layout and its sockets, for
//! the per-user session, the host's system instance, or an explicit root.
//! Shared by `qvirtd` and by clients, so both agree on every path.

use std::path::{Path, PathBuf};

use crate::driver::local::Layout;
use crate::error::{Error, ErrorCode, Result};

/// Which daemon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Instance {
    /// The per-user daemon (`qemu:///session`).
    Session,
    /// The host daemon (`qemu:///system`).
    System,
    /// A daemon over the embedded layout of `root`.
    Root(PathBuf),
}

/// The paths of one instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstancePaths {
    /// The state layout (configs, runtime, logs, ...).
    pub layout: Layout,
    /// The directory that holds the sockets.
    pub socket_dir: PathBuf,
    /// The read-write socket.
    pub socket: PathBuf,
    /// The read-only socket (system only).
    pub socket_ro: Option<PathBuf>,
    /// The daemon's log file (the manager's log of its layout).
    pub daemon_log: PathBuf,
}

impl InstancePaths {
    /// The read-write socket of libvirt's protocol, beside qvirt's.
    pub fn libvirt_socket(&self) -> PathBuf {
        self.socket_dir.join("libvirt-sock")
    }

    /// The read-only socket of libvirt's protocol, where the instance
    /// has a read-only socket of qvirt's.
    pub fn libvirt_socket_ro(&self) -> Option<PathBuf> {
        self.socket_ro
            .as_ref()
            .map(|_| self.socket_dir.join("libvirt-sock-ro"))
    }
}

/// `$NAME` as a path, when set and absolute.
fn env_dir(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
}

/// The user's home directory.
fn home() -> Result<PathBuf> {
    env_dir("HOME").ok_or_else(|| {
        Error::new(
            ErrorCode::InvalidArgument,
            "HOME is not set to an absolute path: cannot place the session's files",
        )
    })
}

impl Instance {
    /// The paths of this instance, from the XDG variables for a session.
    pub fn paths(&self) -> Result<InstancePaths> {
        match self {
            Instance::Root(root) => {
                let layout = Layout::embedded(root);
                let socket_dir = layout.run.clone();
                Ok(InstancePaths {
                    socket: socket_dir.join("qvirt-sock"),
                    socket_ro: None,
                    daemon_log: layout.manager_log(),
                    socket_dir,
                    layout,
                })
            }
            Instance::Session => {
                let home = home()?;
                let config = env_dir("XDG_CONFIG_HOME")
                    .unwrap_or_else(|| home.join(".config"))
                    .join("qvirt");
                let state = env_dir("XDG_STATE_HOME")
                    .unwrap_or_else(|| home.join(".local/state"))
                    .join("qvirt");
                let cache = env_dir("XDG_CACHE_HOME")
                    .unwrap_or_else(|| home.join(".cache"))
                    .join("qvirt");
                let runtime = env_dir("XDG_RUNTIME_DIR")
                    .map(|d| d.join("qvirt"))
                    .unwrap_or_else(|| cache.join("run"));
                Ok(split_layout(
                    &config,
                    &runtime,
                    &state,
                    &state.join("log"),
                    &cache,
                    None,
                ))
            }
            Instance::System => Ok(split_layout(
                Path::new("/etc/qvirt"),
                Path::new("/run/qvirt"),
                Path::new("/var/lib/qvirt"),
                Path::new("/var/log/qvirt"),
                Path::new("/var/cache/qvirt"),
                Some("qvirt-sock-ro"),
            )),
        }
    }
}

/// The layout of a daemon whose kinds of files live apart (XDG or FHS).
fn split_layout(
    config: &Path,
    runtime: &Path,
    state: &Path,
    log: &Path,
    cache: &Path,
    ro: Option<&str>,
) -> InstancePaths {
    let layout = Layout {
        config: config.to_path_buf(),
        autostart: config.join("autostart"),
        run: runtime.join("run"),
        log: log.to_path_buf(),
        save: state.join("save"),
        nvram: state.join("nvram"),
        tpm: state.join("swtpm"),
        storage: state.join("storage"),
        images: state.join("images"),
        snapshots: state.join("snapshot"),
        secrets: state.join("secrets"),
        cache: cache.to_path_buf(),
        lock: runtime.join("run/lock"),
    };
    InstancePaths {
        socket: runtime.join("qvirt-sock"),
        socket_ro: ro.map(|name| runtime.join(name)),
        daemon_log: layout.manager_log(),
        socket_dir: runtime.to_path_buf(),
        layout,
    }
}
