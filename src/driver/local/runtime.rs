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

use super::numbered::{Ids, Kept, Numbered};
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
    /// What the manager cannot vouch for ([`Taint::name`]s), as
    /// libvirt's taint flags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tainted: Vec<String>,
    /// The number `N` of each device's QEMU ids, for each kind a start
    /// numbers in order (`nic_ids`, `rng_ids`, ...), in the order of the
    /// live definition's devices of that kind; a kind's list is absent
    /// when they are numbered from 0 in that order (nothing unplugged).
    #[serde(flatten)]
    pub ids: Kept,
    /// The guest agent's response timeout, as libvirt keeps it in its
    /// status; absent: block (libvirt's default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_timeout: Option<i32>,
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
            tainted: run.taints().iter().map(|t| t.name().to_string()).collect(),
            ids: run.plugged().ids.kept(),
            agent_timeout: Some(run.agent_timeout.load(std::sync::atomic::Ordering::Relaxed))
                .filter(|t| *t != super::agent::TIMEOUT_BLOCK),
        }
    }
}

/// Why the manager cannot vouch for what a running domain is, as
/// libvirt's `virDomainTaintFlags`; kept until the domain stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Taint {
    /// `<qemu:commandline>` or `<qemu:capabilities>` changed QEMU's
    /// command line.
    CustomArgv,
    /// A client sent QEMU a monitor command of its own.
    CustomMonitor,
    /// A client sent the guest agent a command of its own.
    CustomGaCommand,
    /// An interface's `<script>` or `<downscript>` runs on the host.
    ShellScripts,
}

impl Taint {
    const ALL: [Taint; 4] = [
        Taint::CustomArgv,
        Taint::CustomMonitor,
        Taint::CustomGaCommand,
        Taint::ShellScripts,
    ];

    /// libvirt's name (`virDomainTaint`).
    pub fn name(self) -> &'static str {
        match self {
            Taint::CustomArgv => "custom-argv",
            Taint::CustomMonitor => "custom-monitor",
            Taint::CustomGaCommand => "custom-ga-command",
            Taint::ShellScripts => "shell-scripts",
        }
    }

    /// libvirt's message (`virDomainTaintMessage`).
    pub fn message(self) -> &'static str {
        match self {
            Taint::CustomArgv => "custom configuration parameters specified",
            Taint::CustomMonitor => "custom monitor control commands issued",
            Taint::CustomGaCommand => "custom guest agent control commands issued",
            Taint::ShellScripts => "network configuration using opaque shell scripts",
        }
    }

    /// The taint named `name`.
    pub fn from_name(name: &str) -> Option<Taint> {
        Taint::ALL.into_iter().find(|t| t.name() == name)
    }

    /// What a definition taints from the start, with what does it.
    pub fn of_def(def: &DomainDef) -> Vec<(Taint, &'static str)> {
        let q = &def.qemu;
        let custom = !(q.args.is_empty()
            && q.env.is_empty()
            && q.caps_add.is_empty()
            && q.caps_del.is_empty()
            && q.overrides.is_empty());
        let scripts = def
            .devices
            .interfaces
            .iter()
            .any(|n| n.scripts.up.is_some() || n.scripts.down.is_some());
        [
            (
                custom,
                Taint::CustomArgv,
                "<qemu:commandline>, <qemu:capabilities> or <qemu:override>",
            ),
            (
                scripts,
                Taint::ShellScripts,
                "an interface's <script> or <downscript>",
            ),
        ]
        .into_iter()
        .filter(|(on, _, _)| *on)
        .map(|(_, t, why)| (t, why))
        .collect()
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
    /// Trays moved since QEMU started, by disk target: whether it is
    /// open now. [`Running::live_def`] applies them.
    pub(crate) trays: Mutex<Vec<(String, bool)>>,
    /// Disks whose image changed since QEMU started (an external
    /// snapshot's overlay, a block commit's pivot), whole, by target.
    /// [`Running::live_def`] puts them in place.
    pub(crate) disks: Mutex<Vec<crate::model::Disk>>,
    /// Memory and vCPUs changed since QEMU started;
    /// [`Running::live_def`] applies them.
    pub(crate) live: Mutex<super::resize::LiveChanges>,
    /// What the manager cannot vouch for, in [`Taint`]'s order.
    pub(crate) taints: Mutex<Vec<Taint>>,
    /// The disks, interfaces and rngs since a device was plugged in or
    /// out (`None`: those of `def`). [`Running::live_def`] puts them in place.
    pub(crate) plugged: Mutex<Option<Plugged>>,
    /// The QEMU ids of devices whose unplug the guest has not done within
    /// the wait: QEMU's `DEVICE_DELETED` for one of them finishes it.
    pub(crate) unplugging: Mutex<Vec<String>>,
    /// The disks' top nodes in QEMU as the last external snapshot left
    /// them; see [`TopsSeen`].
    pub(crate) tops: Mutex<Option<TopsSeen>>,
    /// The block jobs (QEMU job ids) this manager is ending itself (a
    /// pivot, an abort): it tells their end once the definitions agree,
    /// so QEMU's own events for them are not passed on.
    pub(crate) block_endings: Mutex<Vec<String>>,
    /// The guest agent's turn: held by the one call talking to it.
    pub(crate) agent: Mutex<()>,
    /// How long agent calls wait for the agent's reply, in libvirt's
    /// terms (see [`super::agent::response_wait`]); set by
    /// `virDomainAgentSetResponseTimeout`.
    pub(crate) agent_timeout: std::sync::atomic::AtomicI32,
}

/// Each disk's top image and node in QEMU, as this manager's own
/// external snapshot left them, and the count of changing monitor
/// commands ([`crate::qemu::qmp::Qmp::changes_sent`]) just after it.
/// True while that count has not moved: the next snapshot needs no
/// `query-block`.
#[derive(Debug, Clone)]
pub(crate) struct TopsSeen {
    pub changes: u64,
    /// (disk target, image file, node name).
    pub tops: Vec<(String, std::path::PathBuf, String)>,
}

/// The devices of a running domain after hot-plug, and the numbers of
/// the QEMU ids of those a start numbers in order.
#[derive(Debug, Clone, Default)]
pub(crate) struct Plugged {
    /// `<disk>`s, as the live definition lists them.
    pub disks: Vec<crate::model::Disk>,
    /// `<interface>`s, as the live definition lists them.
    pub interfaces: Vec<crate::model::Interface>,
    /// `<rng>`s, as the live definition lists them.
    pub rngs: Vec<crate::model::Rng>,
    /// `<memory>` devices, as the live definition lists them.
    pub memories: Vec<crate::model::MemoryDevice>,
    /// `<watchdog>`s, as the live definition lists them.
    pub watchdogs: Vec<crate::model::Watchdog>,
    /// `<input>`s, as the live definition lists them.
    pub inputs: Vec<crate::model::Input>,
    /// `<controller>`s, as the live definition lists them.
    pub controllers: Vec<crate::model::Controller>,
    /// `<channel>`s, as the live definition lists them.
    pub channels: Vec<crate::model::Channel>,
    /// `<filesystem>`s, as the live definition lists them.
    pub filesystems: Vec<crate::model::Filesystem>,
    /// `<redirdev>`s, as the live definition lists them.
    pub redirdevs: Vec<crate::model::Redirdev>,
    /// `<shmem>`s, as the live definition lists them.
    pub shmems: Vec<crate::model::Shmem>,
    /// `<console>`s, as the live definition lists them.
    pub consoles: Vec<crate::model::CharDevice>,
    /// `<serial>`s, as the live definition lists them.
    pub serials: Vec<crate::model::CharDevice>,
    /// The number of each device's QEMU ids, for the kinds a start
    /// numbers in order: a plugged one takes a number QEMU has free.
    pub ids: Ids,
}

impl Plugged {
    /// The devices of `def` as a start makes them, with the numbers of
    /// their QEMU ids the status file `status` keeps (each list when it
    /// has one number for each device) instead of the start's.
    pub(crate) fn of(def: &DomainDef, status: Option<&Status>) -> Plugged {
        let d = &def.devices;
        Plugged {
            disks: d.disks.clone(),
            interfaces: d.interfaces.clone(),
            rngs: d.rngs.clone(),
            memories: d.memories.clone(),
            watchdogs: d.watchdogs.clone(),
            inputs: d.inputs.clone(),
            controllers: d.controllers.clone(),
            channels: d.channels.clone(),
            filesystems: d.filesystems.clone(),
            redirdevs: d.redirdevs.clone(),
            shmems: d.shmems.clone(),
            consoles: d.consoles.clone(),
            serials: d.serials.clone(),
            ids: Ids::of(def, status.map(|s| &s.ids)),
        }
    }
}

impl Running {
    /// What taints the run.
    pub(crate) fn taints(&self) -> Vec<Taint> {
        crate::sys::sync::lock(&self.taints).clone()
    }

    /// Marks the run tainted by `taint`; whether it was not already.
    pub(crate) fn taint(&self, taint: Taint) -> bool {
        let mut t = crate::sys::sync::lock(&self.taints);
        if t.contains(&taint) {
            return false;
        }
        t.push(taint);
        t.sort();
        true
    }

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
        if let Some(p) = crate::sys::sync::lock(&self.plugged).as_ref() {
            def.devices.disks.clone_from(&p.disks);
            def.devices.interfaces.clone_from(&p.interfaces);
            def.devices.rngs.clone_from(&p.rngs);
            // The domain's memory counts its memory devices, as
            // libvirt's; its current memory grows with it where it was
            // all of it.
            let modules = |ms: &[crate::model::MemoryDevice]| {
                ms.iter().map(crate::qemu::argv::module_kib).sum::<u64>()
            };
            let (before, after) = (modules(&def.devices.memories), modules(&p.memories));
            if before != after {
                let total = (def.memory_kib + after).saturating_sub(before);
                if def.current_memory_kib == Some(def.memory_kib) {
                    def.current_memory_kib = Some(total);
                }
                def.memory_kib = total;
            }
            def.devices.memories.clone_from(&p.memories);
            def.devices.watchdogs.clone_from(&p.watchdogs);
            def.devices.inputs.clone_from(&p.inputs);
            def.devices.controllers.clone_from(&p.controllers);
            def.devices.channels.clone_from(&p.channels);
            def.devices.filesystems.clone_from(&p.filesystems);
            def.devices.redirdevs.clone_from(&p.redirdevs);
            def.devices.shmems.clone_from(&p.shmems);
            def.devices.consoles.clone_from(&p.consoles);
            def.devices.serials.clone_from(&p.serials);
        }
        crate::sys::sync::lock(&self.live).apply(&mut def);
        let media = crate::sys::sync::lock(&self.media);
        for (target, source) in media.iter() {
            if let Some(disk) = def.devices.disks.iter_mut().find(|d| d.target == *target) {
                disk.source.clone_from(source);
            }
        }
        for (target, open) in crate::sys::sync::lock(&self.trays).iter() {
            if let Some(disk) = def.devices.disks.iter_mut().find(|d| d.target == *target) {
                disk.tray_open = *open;
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

    /// The disks, interfaces, rngs and their ids the domain has now.
    pub(crate) fn plugged(&self) -> Plugged {
        if let Some(p) = crate::sys::sync::lock(&self.plugged).as_ref() {
            return p.clone();
        }
        Plugged::of(&self.def, None)
    }

    /// The number of the QEMU ids of the `i`-th device of `kind` in the
    /// live definition.
    pub(crate) fn number(&self, kind: Numbered, i: usize) -> u32 {
        self.plugged().ids.nth(kind, i)
    }

    /// The number of each interface's QEMU ids, in the live order.
    pub(crate) fn nic_ids(&self) -> Vec<u32> {
        self.plugged().ids[Numbered::Nic].clone()
    }

    /// Records the disks and interfaces the domain has after a device was
    /// plugged in or out; what media and image changes were recorded for
    /// a target no longer there is forgotten.
    pub(crate) fn set_plugged(&self, plugged: Plugged) {
        self.update_plugged(|p| *p = plugged);
    }

    /// Changes the disks and interfaces the domain has with `change`, in
    /// one step (see [`Running::set_plugged`]).
    pub(crate) fn update_plugged(&self, change: impl FnOnce(&mut Plugged)) {
        let mut guard = crate::sys::sync::lock(&self.plugged);
        let mut plugged = guard
            .clone()
            .unwrap_or_else(|| Plugged::of(&self.def, None));
        change(&mut plugged);
        let has = |t: &str| plugged.disks.iter().any(|d| d.target == t);
        crate::sys::sync::lock(&self.media).retain(|(t, _)| has(t));
        crate::sys::sync::lock(&self.trays).retain(|(t, _)| has(t));
        crate::sys::sync::lock(&self.disks).retain(|d| has(&d.target));
        *guard = Some(plugged);
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

    /// Records that the tray of drive `target` is now open or shut.
    pub(crate) fn set_tray(&self, target: &str, open: bool) {
        let mut trays = crate::sys::sync::lock(&self.trays);
        trays.retain(|(t, _)| t != target);
        trays.push((target.to_string(), open));
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
