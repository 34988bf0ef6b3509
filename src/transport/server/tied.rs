//! Domains a connection started with `autodestroy`: each is held by a
//! [`Tied`] in its connection, and destroyed (on a priority worker, so
//! the loop never waits for it) when the connection ends and drops it.

use std::sync::Arc;

use super::Shared;
use super::pool::Submitter;
use crate::driver::Domain;
use crate::driver::autodestroy::destroy_if_same_run;

/// A domain tied to a connection.
pub(super) struct Tied {
    dom: Domain,
    shared: Arc<Shared>,
    workers: Submitter,
}

impl Tied {
    /// Ties `dom` (with the id of the run the connection started).
    pub(super) fn new(dom: Domain, shared: Arc<Shared>, workers: Submitter) -> Tied {
        Tied {
            dom,
            shared,
            workers,
        }
    }
}

impl Drop for Tied {
    fn drop(&mut self) {
        let dom = self.dom.clone();
        let shared = self.shared.clone();
        self.workers.submit(
            true,
            Box::new(move || match destroy_if_same_run(&*shared.driver, &dom) {
                Ok(true) => shared.log.info(&format!(
                    "autodestroy: destroyed domain '{}', whose connection ended",
                    dom.name
                )),
                Ok(false) => {}
                Err(e) => shared.log.warn(&format!(
                    "autodestroy: domain '{}' (its connection ended): {e}",
                    dom.name
                )),
            }),
        );
    }
}
