//! Finding the domains an earlier manager left running: each runtime
//! directory with a status file whose process is still the same QEMU is
//! taken back under watch; one whose QEMU is gone is shut off and its
//! runtime files removed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::driver::{Core, Entry, lock};
use super::launch::new_running;
use super::monitor;
use super::runtime::Running;
use super::runtime::Status;
use crate::driver::{Domain, DomainState, StateReason};
use crate::model::DomainDef;
use crate::qemu::qmp::QMP_TIMEOUT;
use crate::qemu::qmp::Qmp;
use crate::sys::process::{self, ProcessId};

/// How long a reattach waits for a live QEMU's monitor.
const REATTACH_DEADLINE: Duration = Duration::from_secs(5);

impl Core {
    /// Reattaches to every domain with a runtime directory.
    pub(crate) fn reattach_all(self: &Arc<Self>) {
        let Ok(dirs) = std::fs::read_dir(&self.layout.run) else {
            return;
        };
        let mut dirs: Vec<_> = dirs
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().map(|t| t.is_dir()).unwrap_or(false))
            .map(|e| e.path())
            .collect();
        dirs.sort();
        for dir in dirs {
            let label = dir.display().to_string();
            let status = match Status::read(&dir) {
                Ok(s) => s,
                Err(_) if !dir.join("status.json").exists() => {
                    self.clear_unfinished_start(&dir);
                    continue;
                }
                Err(e) => {
                    self.log.warn(&format!("reattach: skipping {label}: {e}"));
                    continue;
                }
            };
            let id = ProcessId {
                pid: status.pid,
                start_time: status.start_time,
            };
            let def = match DomainDef::from_xml(&status.def_xml) {
                Ok(d) => d,
                Err(e) => {
                    self.log.error(&format!(
                        "reattach: {label}: the saved definition does not parse: {e}"
                    ));
                    continue;
                }
            };
            if !process::is_alive(id) {
                self.log.warn(&format!(
                    "domain '{}' (pid {}) stopped while no manager watched it; it is shut off",
                    def.name, id.pid
                ));
                let reason = if self.settle_save(&def.name, None, &dir) {
                    StateReason::Saved
                } else {
                    StateReason::Unknown
                };
                self.give_back_host_devices(None, &dir);
                if let Some(why) = super::pinning::remove_group(&dir) {
                    self.log.error(&format!("domain '{}': {why}", def.name));
                }
                let _ = crate::sys::fsutil::remove_tree(&dir);
                let after = format!("domain '{}' stopped", def.name);
                self.release_net(&def.devices.interfaces, &after);
                let mut inner = lock(&self.inner);
                if let Some(e) = inner.entries.get_mut(&def.uuid) {
                    e.reason = reason;
                    let _ = crate::sys::fsutil::replace_atomic(
                        &self.layout.reason_file(&def.uuid),
                        reason.as_str().as_bytes(),
                    );
                }
                continue;
            }
            let name = def.name.clone();
            let handle = Domain {
                name: name.clone(),
                uuid: def.uuid,
                id: Some(status.id),
            };
            let Some(run) = self.adopt(status, def, id, &dir) else {
                continue;
            };
            if dir.join(super::incoming::INCOMING_RECORD).exists() {
                // An incoming migration that never finished: the guest is
                // still the source's; this copy must never run.
                self.log.warn(&format!(
                    "reattach: domain '{name}': its incoming migration never finished; stopping this copy"
                ));
                let created = super::incoming::created_disks(&dir);
                match self.stop_process(&handle, &run, StateReason::Failed) {
                    Ok(()) => super::storage_copy::remove_created(&created),
                    Err(e) => self.log.error(&format!("reattach: {e}")),
                }
                continue;
            }
            if dir.join(super::migrate::MIGRATE_RECORD).exists() {
                // Resolved once this manager can ask the destination.
                lock(&self.unsettled_migrations).push(handle.clone());
                continue;
            }
            if self.settle_save(&name, Some(&run), &dir) {
                if let Err(e) = self.stop_process(&handle, &run, StateReason::Saved) {
                    self.log.error(&format!("reattach: {e}"));
                }
                continue;
            }
            self.drop_stale_image(&handle);
            self.reconcile_media(&run);
            self.reconcile_mirrors(&run);
            // A tray moved while no manager watched is told (and logged).
            let _ = run.ask(super::requests::Request::RefreshTrays);
        }
    }

    /// Removes the managed save image of a domain found running: a
    /// manager killed while it started the domain from that image left it
    /// (the start deletes it before the guest runs, see `Core::launch`).
    /// The guest's memory lives in the QEMU now; the image would bring
    /// back an older one over newer disks.
    fn drop_stale_image(&self, dom: &Domain) {
        let image = self.layout.managed_save_file(&dom.name);
        let _ = self.with_entry(dom, |e| {
            e.managed_save = false;
            Ok(())
        });
        if image.exists() {
            self.log.warn(&format!(
                "reattach: domain '{}' runs, so its managed save image {} is stale; removing it",
                dom.name,
                image.display()
            ));
            if let Err(e) = crate::sys::fsutil::remove_durable(&image) {
                self.log.error(&format!("reattach: {e}"));
            }
        }
    }

    /// Takes the media in a reattached domain's removable drives from
    /// QEMU (`query-block`): a manager killed during a media change may
    /// not have recorded it.
    fn reconcile_media(&self, run: &Arc<Running>) {
        let Ok(qmp) = run.qmp() else { return };
        let Ok(blocks) = qmp.execute("query-block", None, QMP_TIMEOUT) else {
            return;
        };
        let changed = super::media::media_in_drives(&run.live_def(), &blocks)
            .into_iter()
            .filter(|(target, source)| {
                run.live_def()
                    .devices
                    .disks
                    .iter()
                    .any(|d| d.target == *target && d.source != *source)
            })
            .collect::<Vec<_>>();
        if changed.is_empty() {
            return;
        }
        for (target, source) in changed {
            self.log.warn(&format!(
                "reattach: domain '{}': drive {target} holds {}, not what was recorded",
                run.def.name,
                source.as_deref().unwrap_or("no medium")
            ));
            run.set_medium(&target, source);
        }
        self.save_status(run.def.uuid, run);
    }

    /// Clears the runtime directory of a start that was cut off before
    /// its status file was written (the manager died in the middle of a
    /// start): no manager knows its QEMU, which may be paused before its
    /// first instruction or already running, and would hold the domain's
    /// disks and ports for good. The start never answered, so the domain
    /// is left shut off: the QEMU (found by its QMP socket argument) is
    /// killed and the directory removed.
    fn clear_unfinished_start(&self, dir: &std::path::Path) {
        // The QMP socket's option value, as the command line escapes it:
        // `path=...` ends at a single comma or the end of the argument.
        let qmp = dir.join("qmp.sock");
        let option = format!("path={}", qmp.to_string_lossy().replace(',', ",,"));
        let option = option.as_bytes();
        let strays = process::with_argument(|arg| {
            arg.windows(option.len()).enumerate().any(|(i, w)| {
                w == option
                    && (i == 0 || arg[i - 1] == b',')
                    && matches!(arg.get(i + option.len()), None | Some(b','))
                    && arg.get(i + option.len() + 1) != Some(&b',')
            })
        });
        for id in &strays {
            self.log.warn(&format!(
                "reattach: {}: a start was cut off before it was recorded; stopping its QEMU (pid {})",
                dir.display(),
                id.pid
            ));
            process::kill_and_wait(*id, Duration::from_secs(5));
        }
        if strays.is_empty() {
            self.log.warn(&format!(
                "reattach: {}: a start was cut off before it was recorded, and its QEMU is gone",
                dir.display()
            ));
        }
        self.give_back_host_devices(None, dir);
        if let Err(e) = crate::sys::fsutil::remove_tree(dir) {
            self.log
                .error(&format!("reattach: cannot remove {}: {e}", dir.display()));
        }
    }

    /// Takes a live QEMU back under watch; its run, unless that failed.
    fn adopt(
        self: &Arc<Self>,
        status: Status,
        def: DomainDef,
        id: ProcessId,
        dir: &std::path::Path,
    ) -> Option<Arc<Running>> {
        let name = def.name.clone();
        let uuid = def.uuid;
        // Its QEMU holds its host PCI devices, adopted or not.
        self.reclaim_host_devices(&def);
        {
            let inner = lock(&self.inner);
            if let Some(&other) = inner.names.get(&name)
                && other != uuid
            {
                self.log.error(&format!(
                    "reattach: domain '{name}' (pid {}) has UUID {uuid}, but the definition of that name has UUID {other}; leaving the process alone",
                    id.pid
                ));
                return None;
            }
        }
        let (mut link, sink) = match monitor::channel() {
            Ok(x) => x,
            Err(e) => {
                self.log.error(&format!("reattach: domain '{name}': {e}"));
                return None;
            }
        };
        let qmp_path = dir.join("qmp.sock");
        let qmp =
            Qmp::connect_watching(&qmp_path, Instant::now() + REATTACH_DEADLINE, || None, sink);
        // The reason the last manager recorded, where QEMU's own state
        // agrees with it.
        let recorded = status.reason.as_deref().and_then(StateReason::from_name);
        let running_reason = recorded
            .filter(|r| {
                matches!(
                    r,
                    StateReason::Booted | StateReason::Restored | StateReason::Unpaused
                )
            })
            .unwrap_or(StateReason::Unknown);
        let paused_reason = recorded
            .filter(|r| matches!(r, StateReason::User | StateReason::ShuttingDown))
            .unwrap_or(StateReason::Unknown);
        let (qmp, state) = match qmp {
            Ok(qmp) => {
                let state = match qmp.query_status(QMP_TIMEOUT) {
                    Ok((_, true)) => (DomainState::Running, running_reason),
                    Ok((status, false)) if status == "shutdown" => {
                        (DomainState::Paused, StateReason::ShuttingDown)
                    }
                    Ok((status, false)) if status == "io-error" => {
                        (DomainState::Paused, StateReason::IoError)
                    }
                    Ok((status, false)) if status == "watchdog" => {
                        (DomainState::Paused, StateReason::Watchdog)
                    }
                    Ok((status, false)) if status == "suspended" => {
                        (DomainState::PmSuspended, StateReason::Unknown)
                    }
                    Ok((status, false)) if status == "guest-panicked" => {
                        (DomainState::Crashed, StateReason::Crashed)
                    }
                    Ok(_) => (DomainState::Paused, paused_reason),
                    Err(e) => {
                        self.log.error(&format!(
                            "reattach: domain '{name}': query-status failed: {e}"
                        ));
                        (DomainState::Running, StateReason::Unknown)
                    }
                };
                (Some(qmp), state)
            }
            Err(e) => {
                self.log.error(&format!(
                    "reattach: domain '{name}' (pid {}) runs but its monitor {} does not answer: {e}",
                    id.pid,
                    qmp_path.display()
                ));
                (None, (DomainState::Running, running_reason))
            }
        };
        let run = match new_running(
            status.id,
            def.clone(),
            id,
            qmp,
            dir,
            status.vnc_port,
            state,
            &mut link,
        ) {
            Ok(run) => run,
            Err(e) => {
                self.log.error(&format!("reattach: domain '{name}': {e}"));
                return None;
            }
        };
        if !status.ids.is_empty() {
            run.set_plugged(super::runtime::Plugged::of(&def, Some(&status)));
        }
        let agent_timeout = status.agent_timeout.unwrap_or(super::agent::TIMEOUT_BLOCK);
        run.agent_timeout
            .store(agent_timeout, std::sync::atomic::Ordering::Relaxed);
        for t in &status.tainted {
            match super::runtime::Taint::from_name(t) {
                Some(t) => {
                    run.taint(t);
                }
                None => self.log.warn(&format!(
                    "reattach: domain '{name}': unknown taint '{t}' kept out"
                )),
            }
        }
        {
            let mut inner = lock(&self.inner);
            inner.next_id = inner.next_id.max(status.id + 1);
            inner.names.insert(name.clone(), uuid);
            let entry = inner.entries.entry(uuid).or_insert_with(|| Entry {
                persistent: None,
                running: None,
                reason: StateReason::Unknown,
                job: Arc::default(),
                autostart: false,
                managed_save: false,
                migrate_speed: None,
                agent_timeout,
            });
            entry.agent_timeout = agent_timeout;
            entry.running = Some(run.clone());
        }
        monitor::watch(self, uuid, &run, link, None);
        self.log.info(&format!(
            "reattached to domain '{name}' (id {}, pid {})",
            status.id, id.pid
        ));
        Some(run)
    }
}
