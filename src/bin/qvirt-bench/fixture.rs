//! What a scenario runs against: a fresh state directory served in-process
//! (`embed`), by a `qvirtd` started for it (`daemon`), or whatever a
//! literal URI names.
//!
//! A [`Fixture`] owns everything it creates. Dropping it destroys every
//! VM still running in its state directory, stops its daemon, kills any
//! process left whose command line names the directory, and removes the
//! directory, so a failed or panicking scenario leaves nothing behind.

use std::fs::{self, DirBuilder, File};
use std::io::Write;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use qvirt::driver::ListFilter;
use qvirt::{Driver, Error, ErrorCode, Result};

/// Where the domains live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// A fresh temporary root, driven in-process.
    Embed,
    /// A fresh temporary root behind a `qvirtd --root` of our own.
    Daemon,
    /// An existing manager, named by its URI.
    Uri(String),
}

impl Kind {
    /// Reads the `--uri` argument: `embed`, `daemon`, or a literal URI.
    pub fn parse(s: &str) -> Kind {
        match s {
            "embed" => Kind::Embed,
            "daemon" => Kind::Daemon,
            other => Kind::Uri(other.to_string()),
        }
    }

    /// A short name for the report.
    pub fn label(&self) -> String {
        match self {
            Kind::Embed => "embed".into(),
            Kind::Daemon => "daemon".into(),
            Kind::Uri(u) => u.clone(),
        }
    }
}

/// Names of the domains a fixture defines start with this, so that on a
/// shared manager (a literal URI) only ours are touched.
pub const PREFIX: &str = "qvb-";

/// A running daemon of our own.
struct Daemon {
    child: Child,
}

/// One place to run a scenario. See the module documentation.
pub struct Fixture {
    kind: Kind,
    /// Our temporary directory (the state root is `dir/root`); `None` for
    /// a literal URI.
    dir: Option<PathBuf>,
    daemon: Option<Daemon>,
    /// The in-process driver of an embed fixture, shared by every client.
    embedded: Option<Arc<dyn Driver>>,
}

impl Fixture {
    /// Makes a fixture of `kind` without opening anything yet: for embed
    /// and daemon, an empty temporary directory.
    pub fn create(kind: &Kind) -> Result<Fixture> {
        let dir = match kind {
            Kind::Uri(_) => None,
            _ => Some(temp_dir()?),
        };
        Ok(Fixture {
            kind: kind.clone(),
            dir,
            daemon: None,
            embedded: None,
        })
    }

    /// Makes a fixture and opens it.
    pub fn open_new(kind: &Kind) -> Result<Fixture> {
        let mut f = Fixture::create(kind)?;
        f.open()?;
        Ok(f)
    }

    /// The state root, for fixtures that made one.
    pub fn root(&self) -> Option<PathBuf> {
        self.dir.as_ref().map(|d| d.join("root"))
    }

    /// Whether definitions can be written as files before opening.
    pub fn can_seed(&self) -> bool {
        self.dir.is_some()
    }

    /// The URI clients connect with.
    pub fn uri(&self) -> String {
        match (&self.kind, self.root()) {
            (Kind::Uri(u), _) => u.clone(),
            (Kind::Embed, Some(root)) => format!("qemu:///embed?root={}", root.display()),
            (_, Some(root)) => format!(
                "qemu+unix:///session?socket={}",
                root.join("run/qvirt-sock").display()
            ),
            (_, None) => unreachable!("embed and daemon fixtures have a root"),
        }
    }

    /// The daemon's pid, while one runs.
    pub fn daemon_pid(&self) -> Option<u32> {
        self.daemon.as_ref().map(|d| d.child.id())
    }

    /// Writes `xmls` (name, document) as definition files into the config
    /// directory of a root that is not open, the way a manager finds them
    /// after a restart.
    pub fn seed(&self, xmls: impl IntoIterator<Item = (String, String)>) -> Result<()> {
        let root = self.root().ok_or_else(|| {
            Error::new(
                ErrorCode::InvalidArgument,
                "only a fresh root can be seeded",
            )
        })?;
        let config = root.join("config");
        private_dir(&root)?;
        private_dir(&config)?;
        for (name, xml) in xmls {
            let path = config.join(format!("{name}.xml"));
            File::create(&path)
                .and_then(|mut f| f.write_all(xml.as_bytes()))
                .map_err(|e| Error::io(format!("cannot write {}", path.display()), e))?;
        }
        Ok(())
    }

    /// Opens the fixture: the in-process driver on its root, or a daemon
    /// serving it (returning once the daemon accepts a connection). A
    /// literal URI needs no opening.
    pub fn open(&mut self) -> Result<()> {
        match self.kind {
            Kind::Uri(_) => Ok(()),
            Kind::Embed => {
                let d = qvirt::connect(&self.uri())?;
                self.embedded = Some(Arc::from(d));
                Ok(())
            }
            Kind::Daemon => {
                let root = self.root().expect("a daemon fixture has a root");
                private_dir(&root)?;
                let dir = self.dir.clone().expect("a daemon fixture has a dir");
                let stderr = File::create(dir.join("qvirtd.stderr"))
                    .map_err(|e| Error::io("cannot create the daemon's stderr file", e))?;
                let child = Command::new(daemon_binary())
                    .arg("--cpu-group")
                    .arg("--root")
                    .arg(&root)
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(stderr)
                    .spawn()
                    .map_err(|e| {
                        Error::io(format!("cannot run {}", daemon_binary().display()), e)
                    })?;
                self.daemon = Some(Daemon { child });
                self.wait_daemon()
            }
        }
    }

    /// Waits until the daemon accepts a connection (polling every
    /// millisecond, for up to a minute); fails with its stderr if it
    /// exits first.
    fn wait_daemon(&mut self) -> Result<()> {
        let uri = self.uri();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            match qvirt::connect(&uri) {
                Ok(_) => return Ok(()),
                Err(e) if Instant::now() > deadline => return Err(e),
                Err(_) => {}
            }
            let daemon = self.daemon.as_mut().expect("a daemon was started");
            if let Ok(Some(status)) = daemon.child.try_wait() {
                let log = self
                    .dir
                    .as_ref()
                    .and_then(|d| fs::read_to_string(d.join("qvirtd.stderr")).ok())
                    .unwrap_or_default();
                self.daemon = None;
                return Err(Error::new(
                    ErrorCode::OperationFailed,
                    format!("qvirtd exited ({status}) before serving: {}", log.trim()),
                ));
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// A client: the shared in-process driver for embed, a new connection
    /// otherwise.
    pub fn client(&self) -> Result<Arc<dyn Driver>> {
        if let Some(d) = &self.embedded {
            return Ok(d.clone());
        }
        if matches!(self.kind, Kind::Embed) {
            return Err(Error::new(
                ErrorCode::OperationInvalid,
                "the fixture is closed",
            ));
        }
        Ok(Arc::from(qvirt::connect(&self.uri())?))
    }

    /// Destroys every running domain the fixture is responsible for (all
    /// of them in our own root; only `PREFIX` ones behind a literal URI)
    /// and, behind a literal URI, undefines ours too. Best effort: the
    /// first error is returned after trying every domain.
    pub fn clear_domains(&self) -> Result<()> {
        let client = self.client()?;
        let ours = |name: &str| self.dir.is_some() || name.starts_with(PREFIX);
        let mut first_err = None;
        for s in client.list(ListFilter::ALL)? {
            if !ours(&s.domain.name) {
                continue;
            }
            if s.domain.id.is_some()
                && let Err(e) = client.destroy(&s.domain)
            {
                first_err.get_or_insert(e);
            }
            if self.dir.is_none()
                && let Err(e) = client.undefine(&s.domain)
                && e.code != ErrorCode::NoDomain
            {
                first_err.get_or_insert(e);
            }
        }
        first_err.map_or(Ok(()), Err)
    }

    /// Destroys our running domains, then closes the fixture: drops the
    /// in-process driver, or stops the daemon (SIGTERM, then SIGKILL after
    /// ten seconds). The root stays, so the fixture can be opened again.
    pub fn close(&mut self) -> Result<()> {
        let open = self.embedded.is_some() || self.daemon.is_some();
        let cleared = if open || matches!(self.kind, Kind::Uri(_)) {
            self.clear_domains()
        } else {
            Ok(())
        };
        self.embedded = None;
        if let Some(mut d) = self.daemon.take() {
            stop_child(&mut d.child);
        }
        cleared
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        if let Err(e) = self.close() {
            eprintln!("qvirt-bench: cleanup of {}: {e}", self.kind.label());
        }
        if let Some(dir) = self.dir.take() {
            kill_leftovers(&dir);
            let _ = fs::remove_dir_all(&dir);
        }
    }
}

/// Stops a child: SIGTERM, a wait of up to ten seconds, then SIGKILL.
fn stop_child(child: &mut Child) {
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Sends SIGKILL to every process (other than this one) whose command
/// line mentions `dir`: a QEMU or daemon a failed cleanup left. The
/// directory's name is unique to this run, so nothing else matches.
fn kill_leftovers(dir: &Path) {
    let needle = dir.as_os_str().as_encoded_bytes();
    let me = std::process::id();
    let Ok(procs) = fs::read_dir("/proc") else {
        return;
    };
    for p in procs.flatten() {
        let Some(pid) = p.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        if pid == me {
            continue;
        }
        let Ok(cmdline) = fs::read(p.path().join("cmdline")) else {
            continue;
        };
        if cmdline.windows(needle.len()).any(|w| w == needle) {
            eprintln!("qvirt-bench: killing leftover process {pid}");
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid as i32),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
}

/// Makes a fresh private directory under the system's temporary
/// directory, named after this process, a counter and the clock.
pub fn temp_dir() -> Result<PathBuf> {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!(
        "qvirt-bench-{}-{}-{nanos:x}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    ));
    DirBuilder::new()
        .mode(0o700)
        .create(&dir)
        .map_err(|e| Error::io(format!("cannot create {}", dir.display()), e))?;
    Ok(dir)
}

/// Creates `dir` with mode 0700 unless it exists.
fn private_dir(dir: &Path) -> Result<()> {
    match DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(Error::io(format!("cannot create {}", dir.display()), e)),
    }
}

/// The `qvirtd` beside this program (`$QVIRT_DAEMON` overrides it).
fn daemon_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("QVIRT_DAEMON") {
        return PathBuf::from(p);
    }
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|d| d.join("qvirtd")))
        .unwrap_or_else(|| PathBuf::from("qvirtd"))
}
