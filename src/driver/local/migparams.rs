//! The migration parameters a running QEMU keeps for the next or the
//! ongoing migration of its domain, as libvirt sets and reads them:
//! the most downtime the switchover may take (virsh's
//! `migrate-setmaxdowntime` and `migrate-getmaxdowntime`, QEMU's
//! `downtime-limit`) and the XBZRLE cache (virsh's `migrate-compcache`,
//! QEMU's `xbzrle-cache-size`). Unlike the migration speed, libvirt keeps
//! no copy of them: QEMU holds them, so they last as long as the QEMU
//! process, and a migration qvirt starts leaves them as they are. And
//! the switch of an outgoing migration to post-copy (virsh's
//! `migrate-postcopy`), a command to the same QEMU while it migrates.

use serde_json::{Value, json};

use super::driver::Core;
use super::runtime::Running;
use crate::driver::{Domain, DomainState, JobKind};
use crate::error::{Error, ErrorCode, Result};
use crate::qemu::qmp::QMP_TIMEOUT;
use std::sync::Arc;

/// QEMU's name of the downtime parameter, milliseconds.
const DOWNTIME: &str = "downtime-limit";
/// QEMU's name of the XBZRLE cache parameter, bytes.
const XBZRLE_CACHE: &str = "xbzrle-cache-size";

impl Core {
    /// The running or paused QEMU of `dom`, whose migration parameters
    /// `what` (in errors) reads or changes. Not under the domain's job:
    /// an outgoing migration holds it, and libvirt lets these calls in
    /// beside it (its migration operation and query jobs).
    fn migration_params_of(&self, dom: &Domain, what: &str) -> Result<Arc<Running>> {
        self.running_in(dom, what, &[DomainState::Running, DomainState::Paused])
    }

    /// Sets QEMU's migration parameter `name` to `value` in `dom`.
    fn set_migration_param(&self, dom: &Domain, what: &str, name: &str, value: u64) -> Result<()> {
        let run = self.migration_params_of(dom, what)?;
        run.qmp()?.execute(
            "migrate-set-parameters",
            Some(json!({ name: value })),
            QMP_TIMEOUT,
        )?;
        self.log
            .info(&format!("domain '{}': migration {name} {value}", dom.name));
        Ok(())
    }

    /// QEMU's migration parameter `name` in `dom`.
    fn migration_param(&self, dom: &Domain, what: &str, name: &str) -> Result<u64> {
        let run = self.migration_params_of(dom, what)?;
        let params = run
            .qmp()?
            .execute("query-migrate-parameters", None, QMP_TIMEOUT)?;
        params.get(name).and_then(Value::as_u64).ok_or_else(|| {
            Error::new(
                ErrorCode::OperationInvalid,
                format!("Querying the migration {name} is not supported by QEMU binary"),
            )
        })
    }

    /// [`crate::Driver::migrate_max_downtime`].
    pub(crate) fn migrate_max_downtime(&self, dom: &Domain) -> Result<u64> {
        self.migration_param(dom, "read the migration downtime of", DOWNTIME)
    }

    /// [`crate::Driver::migrate_set_max_downtime`].
    pub(crate) fn migrate_set_max_downtime(&self, dom: &Domain, ms: u64) -> Result<()> {
        self.set_migration_param(dom, "set the migration downtime of", DOWNTIME, ms)
    }

    /// [`crate::Driver::migrate_compression_cache`].
    pub(crate) fn migrate_compression_cache(&self, dom: &Domain) -> Result<u64> {
        let what = "read the migration compression cache of";
        self.check_xbzrle(dom, what)?;
        self.migration_param(dom, what, XBZRLE_CACHE)
    }

    /// [`crate::Driver::migrate_set_compression_cache`].
    pub(crate) fn migrate_set_compression_cache(&self, dom: &Domain, bytes: u64) -> Result<()> {
        let what = "set the migration compression cache of";
        self.check_xbzrle(dom, what)?;
        self.set_migration_param(dom, what, XBZRLE_CACHE, bytes)
    }

    /// [`crate::Driver::migrate_start_postcopy`]: as libvirt's, only of
    /// an outgoing migration started with `--postcopy`; the migration
    /// itself then sees QEMU switch and hands the guest over.
    pub(crate) fn migrate_start_postcopy(&self, dom: &Domain) -> Result<()> {
        let run = self.migration_params_of(dom, "switch to post-copy the migration of")?;
        match self.jobs(dom)?.postcopy_allowed() {
            Some((JobKind::Migration, true)) => {}
            Some((JobKind::Migration, false)) => {
                return Err(Error::new(
                    ErrorCode::OperationInvalid,
                    "switching to post-copy requires migration to be started with VIR_MIGRATE_POSTCOPY flag",
                ));
            }
            _ => {
                return Err(Error::new(
                    ErrorCode::OperationInvalid,
                    "post-copy can only be started while outgoing migration is in progress",
                ));
            }
        }
        run.qmp()?
            .execute("migrate-start-postcopy", None, QMP_TIMEOUT)?;
        self.log.info(&format!(
            "domain '{}': switching its migration to post-copy",
            dom.name
        ));
        Ok(())
    }

    /// Refuses the compression cache, as libvirt does, when `dom`'s QEMU
    /// has no XBZRLE migration capability.
    fn check_xbzrle(&self, dom: &Domain, what: &str) -> Result<()> {
        let run = self.migration_params_of(dom, what)?;
        let caps = run
            .qmp()?
            .execute("query-migrate-capabilities", None, QMP_TIMEOUT)?;
        let has = caps.as_array().is_some_and(|list| {
            list.iter()
                .any(|c| c.get("capability").and_then(Value::as_str) == Some("xbzrle"))
        });
        if has {
            Ok(())
        } else {
            Err(Error::new(
                ErrorCode::NoSupport,
                "Compressed migration is not supported by QEMU binary",
            ))
        }
    }
}
