//! The end of a run, and what callers read of one: ending a run whose
//! QEMU has exited (runtime files, the reason, subscribers, a restart
//! when its policy says so), the status file, and finding a domain's run
//! in the states an operation accepts.

use std::sync::Arc;
use std::time::Duration;

use uuid::Uuid;

use super::driver::{Core, lock};
use super::runtime::Running;
use crate::driver::{Domain, DomainState, EventKind, StateReason};
use crate::error::Result;
use crate::model::{DomainDef, LifecycleAction};
use crate::sys::process::{self, ExitWatch};

impl Core {
    /// Ends the run of `uuid` whose QEMU was `pid` (it has exited, or was
    /// found dead), for `reason`: removes its runtime files, records the
    /// reason, tells subscribers, and restarts it when its policy says so.
    /// Does nothing if that run is already over. The run's monitor calls
    /// this when it sees the exit; others only where no monitor watches.
    pub(crate) fn end_run(&self, uuid: Uuid, pid: i32, reason: StateReason) {
        let mut inner = lock(&self.inner);
        let Some(entry) = inner.entries.get_mut(&uuid) else {
            return;
        };
        let Some(run) = entry.running.take_if(|r| r.process.pid == pid) else {
            return;
        };
        entry.reason = reason;
        let name = run.def.name.clone();
        let persistent = entry.persistent.is_some();
        if !persistent {
            if let Some(gone) = inner.entries.remove(&uuid) {
                gone.job.remove();
            }
            inner.names.remove(&name);
        }
        drop(inner);
        // A transient domain's TPM state ends with it, as libvirt's does,
        // unless its definition asks to keep it (`persistent_state='yes'`).
        if !persistent
            && let Some(dir) = super::tpm::state_to_remove(&self.layout.tpm, &run.def, false, false)
            && let Err(e) = crate::sys::fsutil::remove_tree(&dir)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            self.log.error(&format!(
                "domain '{name}': cannot remove its TPM state {}: {e}",
                dir.display()
            ));
        }
        let reason_file = self.layout.reason_file(&uuid);
        let kept = if persistent {
            crate::sys::fsutil::replace_atomic(&reason_file, reason.as_str().as_bytes())
        } else {
            crate::sys::fsutil::remove_runtime(&reason_file)
        };
        if let Err(e) = kept {
            self.log.error(&format!("domain '{name}': {e}"));
        }
        process::reap(pid);
        super::virtiofs::stop(&run.run_dir);
        super::passt::stop(&run.run_dir);
        super::dbus::stop(&run.run_dir);
        self.give_back_host_devices(Some(uuid), &run.run_dir);
        if let Some(why) = super::pinning::remove_group(&run.run_dir) {
            self.log.error(&format!("domain '{name}': {why}"));
        }
        let after = format!("domain '{name}' stopped");
        self.release_net(&run.live_def().devices.interfaces, &after);
        if let Err(e) = crate::sys::fsutil::remove_tree(&run.run_dir)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            self.log.error(&format!(
                "domain '{name}': cannot remove {}: {e}",
                run.run_dir.display()
            ));
        }
        self.log
            .info(&format!("domain '{name}' shut off ({})", reason.as_str()));
        let domain = Domain {
            name: name.clone(),
            uuid,
            id: None,
        };
        self.emit(domain.clone(), EventKind::Stopped(reason));
        // Closing the run's wake-up end stops its monitor thread, unless
        // that thread is the one running this.
        drop(run.control.lock().map(|mut s| s.take()));
        if persistent && wants_restart(&run.live_def(), reason) {
            let me = self.me.clone();
            self.spawn("restart", move || {
                if let Some(core) = me.upgrade()
                    && !core.closing.load(std::sync::atomic::Ordering::SeqCst)
                    && let Err(e) = core.start_domain(&domain)
                {
                    core.log
                        .error(&format!("domain '{name}': restart failed: {e}"));
                }
            });
        }
    }

    /// Rewrites the status file of `run` after a change of state, so a
    /// manager that reattaches reports the same state and reason.
    pub(crate) fn save_status(&self, uuid: Uuid, run: &Running) {
        let persistent = {
            let inner = lock(&self.inner);
            match inner.entries.get(&uuid) {
                Some(e) if e.running.as_ref().is_some_and(|r| r.process == run.process) => {
                    e.persistent.is_some()
                }
                _ => return,
            }
        };
        if let Err(e) = super::runtime::Status::of(run, persistent).write(&run.run_dir) {
            self.log.error(&format!("domain '{}': {e}", run.def.name));
        }
    }

    /// Waits up to `timeout` for the run of `dom` to end; whether it did.
    pub(crate) fn wait_stopped(&self, run: &Running, timeout: Duration) -> bool {
        match ExitWatch::open(run.process) {
            Some(w) => w.wait(Some(timeout)),
            None => true,
        }
    }

    /// The run of `dom`, checked to be in one of `states`.
    pub(crate) fn running_in(
        &self,
        dom: &Domain,
        what: &str,
        states: &[DomainState],
    ) -> Result<Arc<Running>> {
        let run = self.with_entry(dom, |e| match &e.running {
            Some(run) => Ok(run.clone()),
            None => Err(Core::wrong_state(dom, what, DomainState::Shutoff)),
        })?;
        let state = run.run_state().state;
        if !states.contains(&state) {
            return Err(Core::wrong_state(dom, what, state));
        }
        Ok(run)
    }
}

/// What to do after the guest powered off, rebooted or crashed.
pub(crate) fn wants_restart(def: &DomainDef, reason: StateReason) -> bool {
    match reason {
        StateReason::Shutdown => def.on_poweroff == LifecycleAction::Restart,
        StateReason::Crashed => def.on_crash == LifecycleAction::Restart,
        _ => false,
    }
}
