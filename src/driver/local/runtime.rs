//! A running domain: its QEMU process, monitor, live definition, and the
//! status file that lets a later manager find it again.
//!
//! The status file (`run/NAME/status.json`) is written once the domain
//! runs and removed when it stops. It holds everything a restarted
//! manager needs to reattach: the pid and the kernel's start time for it
//! (so a recycled pid is not mistaken for the VM), the running id, the
//! definition QEMU was started with, and the VNC port.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::driver::{DomainState, StateReason};
use crate::error::{Error, ErrorCode, Result};
use crate::model::DomainDef;
use crate::qemu::qmp::Qmp;
use crate::sys::fsutil::replace_atomic;
use crate::sys::process::ProcessId;

/// The status file's format version.
const STATUS_VERSION: u32 = 1;

/// What `run/NAME/status.json` holds.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Status {
    /// The format version.
    pub version: u32,
    /// The running id.
    pub id: u32,
    /// The QEMU pid.
    pub pid: i32,
    /// The kernel's start time of that pid.
    pub start_time: u64,
    /// Whether the domain has a persistent definition (else transient).
    pub persistent: bool,
    /// The live definition, as XML.
    pub def_xml: String,
    /// The VNC port in use, if any.
    pub vnc_port: Option<u16>,
    /// Why the domain is in its state (`booted`, `user`, ...), as
    /// [`StateReason::as_str`] names it.
    #[serde(default)]
    pub reason: Option<String>,
}

impl Status {
    /// Writes the status file of a running domain: atomically, not
    /// durably (it describes a process that dies with the host).
    pub fn write(&self, run_dir: &Path) -> Result<()> {
        let json = serde_json::to_vec_pretty(self)
            .map_err(|e| Error::new(ErrorCode::Internal, format!("cannot encode status: {e}")))?;
        replace_atomic(&run_dir.join("status.json"), &json)
    }

    /// Reads a status file.
    pub fn read(run_dir: &Path) -> Result<Status> {
        let path = run_dir.join("status.json");
        let text = std::fs::read(&path)
            .map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?;
        let status: Status = serde_json::from_slice(&text).map_err(|e| {
            Error::new(
                ErrorCode::ConfigInvalid,
                format!("{} is damaged: {e}", path.display()),
            )
        })?;
        if status.version != STATUS_VERSION {
            return Err(Error::new(
                ErrorCode::ConfigInvalid,
                format!(
                    "{} has format version {}, this qvirt reads {STATUS_VERSION}",
                    path.display(),
                    status.version
                ),
            ));
        }
        Ok(status)
    }

    /// The status of `run`.
    pub fn of(run: &Running, persistent: bool) -> Status {
        Status {
            version: STATUS_VERSION,
            id: run.id,
            pid: run.process.pid,
            start_time: run.process.start_time,
            persistent,
            def_xml: run.live_def().to_xml(),
            vnc_port: run.vnc_port,
            reason: Some(run.run_state().reason.as_str().to_string()),
        }
    }
}

/// The state of a running domain, as callers read it. Only the run's
/// monitor thread changes it (and the launcher, before the monitor
/// starts); see `monitor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunState {
    /// Running or paused (or in shutdown, crashed, pmsuspended).
    pub state: DomainState,
    /// Why.
    pub reason: StateReason,
}

/// A running domain.
#[derive(Debug)]
pub struct Running {
    /// The running id.
    pub id: u32,
    /// The QEMU process.
    pub process: ProcessId,
    /// The QMP monitor; `None` when it could not be reached at reattach.
    pub qmp: Option<Qmp>,
    /// The domain's runtime directory.
    pub run_dir: PathBuf,
    /// The definition QEMU was started with, with runtime facts filled in
    /// (VNC port, pty paths).
    pub def: DomainDef,
    /// The VNC port, if any.
    pub vnc_port: Option<u16>,
    /// An incoming migration that has not finished: the guest is still
    /// the source's, and nothing here may resume it.
    pub(crate) incoming: std::sync::atomic::AtomicBool,
    /// When the source manager last spoke of the incoming migration
    /// (see `incoming`'s lease).
    pub(crate) contact: Mutex<std::time::Instant>,
    /// The state; see [`RunState`].
    pub(crate) state: Mutex<RunState>,
    /// The way to the run's monitor; dropping it tells the monitor to
    /// stop.
    pub(crate) control: Mutex<Option<super::requests::Control>>,
    /// Says when the run's monitor thread has ended.
    pub(crate) ended: std::sync::Arc<super::requests::Ended>,
    /// The generation of the console's current holder: opening the
    /// console with `force` bumps it, which cuts off the older holder.
    pub(crate) console_owner: std::sync::atomic::AtomicU64,
    /// Media changed since QEMU started, by disk target: the source now
    /// in the drive (`None`: empty). [`Running::live_def`] applies them.
    pub(crate) media: Mutex<Vec<(String, Option<String>)>>,
    /// Disks whose image changed since QEMU started (an external
    /// snapshot's overlay, a block commit's pivot), whole, by target.
    /// [`Running::live_def`] puts them in place.
    pub(crate) disks: Mutex<Vec<crate::model::Disk>>,
    /// Memory and vCPUs changed since QEMU started;
    /// [`Running::live_def`] applies them.
    pub(crate) live: Mutex<super::resize::LiveChanges>,
}

impl Running {
    /// Asks the run's monitor to do `request` and waits for the answer
    /// (see `monitor`). `OperationInvalid` once the run is over. Never
    /// from the monitor thread.
    pub(crate) fn ask(&self, request: super::requests::Request) -> Result<()> {
        // Not under the lock while waiting: the monitor takes it when the
        // run ends.
        let control = self
            .control
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        match control.as_ref() {
            Some(c) => c.ask(request, &self.def.name),
            None => Err(Error::new(
                ErrorCode::OperationInvalid,
                format!("domain '{}' is no longer running", self.def.name),
            )),
        }
    }

    /// The definition as the domain runs now: `def` with the media
    /// changed since it started.
    pub fn live_def(&self) -> DomainDef {
        let mut def = self.def.clone();
        crate::sys::sync::lock(&self.live).apply(&mut def);
        let media = crate::sys::sync::lock(&self.media);
        for (target, source) in media.iter() {
            if let Some(disk) = def.devices.disks.iter_mut().find(|d| d.target == *target) {
                disk.source.clone_from(source);
            }
        }
        for changed in crate::sys::sync::lock(&self.disks).iter() {
            if let Some(disk) = def
                .devices
                .disks
                .iter_mut()
                .find(|d| d.target == changed.target)
            {
                *disk = changed.clone();
            }
        }
        def
    }

    /// Records that a disk now uses another image: `disk` replaces the
    /// disk with its target in the live definition.
    pub(crate) fn set_disk(&self, disk: crate::model::Disk) {
        let mut disks = crate::sys::sync::lock(&self.disks);
        disks.retain(|d| d.target != disk.target);
        disks.push(disk);
    }

    /// Records that the drive `target` now holds `source`.
    pub fn set_medium(&self, target: &str, source: Option<String>) {
        let mut media = crate::sys::sync::lock(&self.media);
        media.retain(|(t, _)| t != target);
        media.push((target.to_string(), source));
    }

    /// The monitor, or the error that says why there is none.
    pub fn qmp(&self) -> Result<&Qmp> {
        self.qmp.as_ref().ok_or_else(|| {
            Error::new(
                ErrorCode::QemuFailed,
                format!(
                    "domain '{}' (pid {}) runs, but its QMP monitor could not be reached when qvirt reattached; see the log",
                    self.def.name, self.process.pid
                ),
            )
        })
    }

    /// A copy of the state.
    pub fn run_state(&self) -> RunState {
        *crate::sys::sync::lock(&self.state)
    }

    /// Sets the state: only for the run's monitor, or its launcher before
    /// the monitor starts.
    pub(crate) fn set_state(&self, state: DomainState, reason: StateReason) {
        *crate::sys::sync::lock(&self.state) = RunState { state, reason };
    }
}
