//! The floor any manager pays to run a VM: the very command line qvirt
//! would build, executed directly, its QMP monitor connected (greeting and
//! `qmp_capabilities`), then `cont`; stopping is SIGTERM (what qvirt's
//! destroy sends first) until the process is reaped.

use std::ffi::OsString;
use std::fs::{self, DirBuilder, File};
use std::os::unix::fs::DirBuilderExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use qvirt::model::DomainDef;
use qvirt::qemu::argv::{RuntimePaths, build_argv};
use qvirt::qemu::probe::probe;
use qvirt::qemu::qmp::Qmp;
use qvirt::{Error, ErrorCode, Result};

use crate::fixture::temp_dir;

/// A command line ready to run again and again, in a temporary directory
/// of its own (removed on drop).
pub struct RawQemu {
    argv: Vec<OsString>,
    paths: RuntimePaths,
    dir: PathBuf,
}

/// A QEMU started by [`RawQemu::cycle`]; killed and reaped if dropped
/// early (an error half-way).
struct Guard(Option<Child>);

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl RawQemu {
    /// Probes the emulator `xml` runs with and builds its command line,
    /// as the driver would, with the runtime directory in a fresh
    /// temporary directory.
    pub fn new(xml: &str) -> Result<RawQemu> {
        let def = DomainDef::from_xml(xml)?;
        let emulator = def
            .devices
            .emulator
            .as_ref()
            .map(PathBuf::from)
            .unwrap_or_else(default_emulator);
        let caps = probe(&emulator)?;
        let dir = temp_dir()?;
        let run = dir.join("run");
        DirBuilder::new()
            .mode(0o700)
            .create(&run)
            .map_err(|e| Error::io(format!("cannot create {}", run.display()), e))?;
        let paths = RuntimePaths::new(&run);
        let argv = build_argv(&def, &caps, &paths)?;
        Ok(RawQemu { argv, paths, dir })
    }

    /// One cycle: exec, QMP ready, `cont` (the start time); SIGTERM until
    /// reaped (the stop time).
    pub fn cycle(&self) -> Result<(Duration, Duration)> {
        let t0 = Instant::now();
        let run = self.spawn(&[])?;
        run.qmp.execute("cont", None, Duration::from_secs(30))?;
        let started = t0.elapsed();
        let t1 = Instant::now();
        run.stop()?;
        Ok((started, t1.elapsed()))
    }

    /// Starts the command line and leaves it running (vCPUs going, QMP
    /// ready): the floor for work on a running VM. Killed when dropped.
    pub fn launch(&self) -> Result<RawRun> {
        let run = self.spawn(&[])?;
        run.qmp.execute("cont", None, Duration::from_secs(30))?;
        Ok(run)
    }
}

/// A QEMU of [`RawQemu::spawn`]: the process and its monitor; killed and
/// reaped when dropped.
pub struct RawRun {
    guard: Guard,
    /// Its QMP monitor, ready for commands.
    pub qmp: Qmp,
}

impl RawRun {
    /// SIGTERM, then reaped.
    pub fn stop(mut self) -> Result<()> {
        if let Some(mut child) = self.guard.0.take() {
            nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(child.id() as i32),
                nix::sys::signal::Signal::SIGTERM,
            )
            .map_err(|e| Error::io("cannot signal QEMU", e.into()))?;
            child
                .wait()
                .map_err(|e| Error::io("cannot wait for QEMU", e))?;
        }
        Ok(())
    }
}

impl RawQemu {
    /// Starts the command line (with `extra` arguments after it) and
    /// connects its monitor; the vCPUs are still stopped (`-S`).
    pub fn spawn(&self, extra: &[&str]) -> Result<RawRun> {
        let _ = fs::remove_file(&self.paths.qmp_socket);
        let log = File::create(self.dir.join("qemu.log"))
            .map_err(|e| Error::io("cannot create the raw QEMU log", e))?;
        let t0 = Instant::now();
        let child = Command::new(&self.argv[0])
            .args(&self.argv[1..])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| Error::io(format!("cannot run {:?}", self.argv[0]), e))?;
        let mut guard = Guard(Some(child));
        let qmp = {
            let child = guard.0.as_mut().expect("just spawned");
            Qmp::connect_watching(
                &self.paths.qmp_socket,
                t0 + Duration::from_secs(30),
                || match child.try_wait() {
                    Ok(Some(status)) => Some(Error::new(
                        ErrorCode::QemuFailed,
                        format!("QEMU exited ({status}); see {}", self.dir.display()),
                    )),
                    _ => None,
                },
                |_| {},
            )?
        };
        Ok(RawRun { guard, qmp })
    }
}

impl Drop for RawQemu {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// `qemu-system-x86_64` from `$PATH`, else Debian's path.
fn default_emulator() -> PathBuf {
    std::env::var_os("PATH")
        .and_then(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join("qemu-system-x86_64"))
                .find(|p| p.is_file())
        })
        .unwrap_or_else(|| PathBuf::from("/usr/bin/qemu-system-x86_64"))
}
