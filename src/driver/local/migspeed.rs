//! The migration speed of a domain (virsh's `migrate-setspeed` and
//! `migrate-getspeed`), as libvirt keeps it: a value of the domain
//! object while the manager runs (unlimited until set), which a
//! migration without its own bandwidth uses, and which a running QEMU
//! takes at once as its `max-bandwidth`.

use serde_json::json;

use super::driver::Core;
use crate::driver::{Domain, DomainState, MIGRATE_SPEED_UNLIMITED};
use crate::error::{Error, ErrorCode, Result};
use crate::qemu::qmp::QMP_TIMEOUT;

impl Core {
    /// [`crate::Driver::migrate_max_speed`].
    pub(crate) fn migrate_max_speed(&self, dom: &Domain) -> Result<u64> {
        self.with_entry(dom, |e| {
            Ok(e.migrate_speed.unwrap_or(MIGRATE_SPEED_UNLIMITED))
        })
    }

    /// [`crate::Driver::migrate_set_max_speed`].
    pub(crate) fn migrate_set_max_speed(&self, dom: &Domain, mib_s: u64) -> Result<()> {
        if mib_s > MIGRATE_SPEED_UNLIMITED {
            return Err(Error::new(
                ErrorCode::LimitExceeded,
                format!(
                    "bandwidth must be less than {}",
                    MIGRATE_SPEED_UNLIMITED + 1
                ),
            ));
        }
        let running = self.with_entry(dom, |e| Ok(e.running.clone()))?;
        if let Some(run) = running {
            // Not under the domain's job: a migration under way holds it,
            // and this is how its speed changes (libvirt's migration
            // operation job).
            let state = run.run_state().state;
            if !matches!(state, DomainState::Running | DomainState::Paused) {
                return Err(Core::wrong_state(dom, "set the migration speed of", state));
            }
            run.qmp()?.execute(
                "migrate-set-parameters",
                Some(json!({"max-bandwidth": mib_s << 20})),
                QMP_TIMEOUT,
            )?;
        }
        self.with_entry(dom, |e| {
            e.migrate_speed = Some(mib_s);
            Ok(())
        })?;
        self.log.info(&format!(
            "domain '{}': migration speed {mib_s} MiB/s",
            dom.name
        ));
        Ok(())
    }
}
