//! Domains started with `autodestroy` ([`StartFlags::autodestroy`]): tied
//! to the connection that started them, destroyed when it ends, as
//! libvirt's close callbacks do.

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

/// A domain an in-process handle started with `autodestroy`: destroyed
/// when the handle lets go of it (see
/// [`LocalDriver::attach`](super::local::LocalDriver)).
pub(crate) struct AutoDestroy<D: Driver> {
    /// A handle on the manager that runs it.
    pub driver: D,
    /// The domain, with the id of the run that was started.
    pub dom: Domain,
}

impl<D: Driver> Drop for AutoDestroy<D> {
    fn drop(&mut self) {
        // A domain already gone is what was wanted; anything else cannot
        // be reported from a drop.
        let _ = destroy_if_same_run(&self.driver, &self.dom);
    }
}
