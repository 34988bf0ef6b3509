//! Domains started with `autodestroy` ([`StartFlags::autodestroy`]): tied
//! to the connection that started them, destroyed when it ends, as
//! libvirt's close callbacks do (an embedded handle's list is
//! `LocalDriver::tie`, a daemon connection's `server::tied`).

use super::api::Driver;
use super::values::Domain;
use crate::error::Result;

/// Destroys `dom` if the run it names still runs; `Ok(false)` when it
/// does not (the domain was stopped, or stopped and started again: a new
/// run has another id, and it is not the one the connection started).
pub(crate) fn destroy_if_same_run(driver: &dyn Driver, dom: &Domain) -> Result<bool> {
    let now = driver.lookup_by_uuid(dom.uuid)?;
    if now.id.is_none() || now.id != dom.id {
        return Ok(false);
    }
    driver.destroy(&now)?;
    Ok(true)
}
