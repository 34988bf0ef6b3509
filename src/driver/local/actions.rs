//! `<on_poweroff>`, `<on_reboot>` and `<on_crash>` changed in the running
//! domain or in its definition (virsh's `set-lifecycle-action`, libvirt's
//! `qemuDomainSetLifecycleAction`). A running QEMU gets the power-off
//! and reboot behaviour its command line would have had (argv's
//! `emit_actions`) through QMP `set-action`, and the monitor finishes
//! each action from the actions as they are now ([`Actions::of`]), so
//! the guest's next power-off, reboot or crash ends as the new action
//! says.

use serde_json::{Value, json};

use super::driver::{Core, lock};
use super::jobs::SyncKind;
use super::runtime::Running;
use crate::driver::{Domain, LifecycleEvent, ModifyFlags};
use crate::error::Result;
use crate::model::{DomainDef, LifecycleAction};
use crate::qemu::qmp::QMP_TIMEOUT;

/// A domain's three lifecycle actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Actions {
    pub poweroff: LifecycleAction,
    pub reboot: LifecycleAction,
    pub crash: LifecycleAction,
}

impl Actions {
    /// Those of definition `def`.
    fn of_def(def: &DomainDef) -> Actions {
        Actions {
            poweroff: def.on_poweroff,
            reboot: def.on_reboot,
            crash: def.on_crash,
        }
    }

    /// Those of running domain `run` now: its definition's, unless
    /// changed since it started.
    pub fn of(run: &Running) -> Actions {
        lock(&run.live)
            .actions
            .unwrap_or_else(|| Actions::of_def(&run.def))
    }

    /// Puts them into `def`.
    pub fn apply(&self, def: &mut DomainDef) {
        def.on_poweroff = self.poweroff;
        def.on_reboot = self.reboot;
        def.on_crash = self.crash;
    }

    /// Whether QEMU pauses on the guest's power-off (`-no-shutdown`),
    /// leaving the driver to finish the action: whenever power-off does
    /// not simply destroy, or a reboot is preserved.
    pub fn qemu_pauses(&self) -> bool {
        self.poweroff != LifecycleAction::Destroy || self.reboot == LifecycleAction::Preserve
    }

    /// QMP `set-action` arguments giving a running QEMU what
    /// `-no-shutdown` and `-no-reboot` give one started with them.
    fn qemu_actions(&self) -> Value {
        json!({
            "shutdown": if self.qemu_pauses() { "pause" } else { "poweroff" },
            "reboot": if self.reboot == LifecycleAction::Restart { "reset" } else { "shutdown" },
        })
    }
}

/// `def` with `event`'s action set to `action`, checked as a define
/// checks it.
fn changed(def: &DomainDef, event: LifecycleEvent, action: LifecycleAction) -> Result<DomainDef> {
    let mut def = def.clone();
    match event {
        LifecycleEvent::Poweroff => def.on_poweroff = action,
        LifecycleEvent::Reboot => def.on_reboot = action,
        LifecycleEvent::Crash => def.on_crash = action,
    }
    def.validate()?;
    Ok(def)
}

impl Core {
    /// [`crate::Driver::set_lifecycle_action`].
    pub(crate) fn set_lifecycle_action(
        &self,
        dom: &Domain,
        event: LifecycleEvent,
        action: LifecycleAction,
        flags: ModifyFlags,
    ) -> Result<()> {
        let jobs = self.jobs(dom)?;
        let _job = jobs.begin(SyncKind::Modify, &dom.name)?;
        let (run, config) = self.targets(dom, flags, "change the lifecycle actions of")?;
        // Every check first, so that a refused change changes nothing.
        let live = match &run {
            Some(run) => Some((run, changed(&run.live_def(), event, action)?)),
            None => None,
        };
        if config {
            self.with_entry(dom, |e| match &e.persistent {
                Some(def) => changed(def, event, action).map(drop),
                None => Ok(()),
            })?;
        }
        if let Some((run, def)) = live {
            let actions = Actions::of_def(&def);
            let args = actions.qemu_actions();
            run.qmp()?.execute("set-action", Some(args), QMP_TIMEOUT)?;
            lock(&run.live).actions = Some(actions);
            self.save_status(dom.uuid, run);
        }
        if config {
            self.edit_config(dom, &|def, _| {
                *def = changed(def, event, action)?;
                Ok(())
            })?;
        }
        self.log.info(&format!(
            "domain '{}': on_{} set to {}{}{}",
            dom.name,
            event.as_str(),
            action.as_str(),
            if run.is_some() { " (live)" } else { "" },
            if config { " (config)" } else { "" }
        ));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qemu_gets_what_the_command_line_would_say() {
        use LifecycleAction::*;
        let a = |poweroff, reboot| Actions {
            poweroff,
            reboot,
            crash: Destroy,
        };
        assert_eq!(
            a(Destroy, Restart).qemu_actions(),
            json!({"shutdown": "poweroff", "reboot": "reset"})
        );
        assert_eq!(
            a(Destroy, Destroy).qemu_actions(),
            json!({"shutdown": "poweroff", "reboot": "shutdown"})
        );
        assert_eq!(
            a(Preserve, Restart).qemu_actions(),
            json!({"shutdown": "pause", "reboot": "reset"})
        );
        assert_eq!(
            a(Destroy, Preserve).qemu_actions(),
            json!({"shutdown": "pause", "reboot": "shutdown"})
        );
    }
}
