//! What a connection holds that must end with it, each a [`Tied`] in the
//! connection, settled (on a priority worker, so the loop never waits for
//! it) when the connection ends and drops it:
//!
//! - a domain it started with `autodestroy`: destroyed;
//! - an incoming migration it prepared for a client that drives the
//!   migration (libvirt's Prepare): its lease is kept while the
//!   connection lives (asked about every few seconds, as a source
//!   manager asks), and it is given up when the connection ends before
//!   its Finish, as libvirt's close callback gives it up;
//! - an outgoing migration it performed that waits for its Confirm: the
//!   guest stays paused here, the migration's job ends (see
//!   `migrate_steps`).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::Shared;
use super::pool::Submitter;
use crate::driver::autodestroy::destroy_if_same_run;
use crate::driver::{Confirmation, Domain, IncomingState};

/// What a connection holds.
pub(in crate::transport) enum TiedKind {
    /// A domain started with `autodestroy`.
    Autodestroy(Domain),
    /// An incoming migration prepared for the client, by domain UUID.
    Incoming(uuid::Uuid),
    /// An outgoing migration waiting for the client's Confirm.
    AwaitingConfirm(Domain),
    /// Nothing left to do (a confirmation came).
    Settled,
}

/// Something tied to a connection.
pub(super) struct Tied {
    kind: TiedKind,
    shared: Arc<Shared>,
    workers: Submitter,
    /// The lease's keeper, for an incoming migration: told to stop, then
    /// woken.
    keeper: Option<(Arc<AtomicBool>, std::thread::Thread)>,
}

impl Tied {
    /// Ties `kind` to the connection that will hold the result.
    pub(super) fn new(kind: TiedKind, shared: Arc<Shared>, workers: Submitter) -> Tied {
        let keeper = match &kind {
            TiedKind::Incoming(uuid) => keep_lease(*uuid, shared.clone()),
            _ => None,
        };
        Tied {
            kind,
            shared,
            workers,
            keeper,
        }
    }
}

impl Tied {
    /// Whether this is the wait for `dom`'s confirmation, which came:
    /// then it is let go without a word when dropped.
    pub(super) fn settle_confirmed(&mut self, dom: &Domain) -> bool {
        let settled = matches!(&self.kind, TiedKind::AwaitingConfirm(d) if d.uuid == dom.uuid);
        if settled {
            self.kind = TiedKind::Settled;
        }
        settled
    }
}

/// Keeps the lease on incoming migration `uuid` on a thread of its own
/// (see [`crate::driver::keep_lease`]); the flag and thread stop it.
fn keep_lease(
    uuid: uuid::Uuid,
    shared: Arc<Shared>,
) -> Option<(Arc<AtomicBool>, std::thread::Thread)> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let handle = std::thread::Builder::new()
        .name("qvirtd-lease".into())
        .spawn(move || crate::driver::keep_lease(&*shared.driver, uuid, &flag))
        .ok()?;
    Some((stop, handle.thread().clone()))
}

impl Drop for Tied {
    fn drop(&mut self) {
        if let Some((stop, thread)) = self.keeper.take() {
            stop.store(true, Ordering::SeqCst);
            thread.unpark();
        }
        let shared = self.shared.clone();
        let job: Box<dyn FnOnce() + Send> = match &self.kind {
            TiedKind::Settled => return,
            TiedKind::Autodestroy(dom) => {
                let dom = dom.clone();
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
                })
            }
            TiedKind::Incoming(uuid) => {
                let uuid = *uuid;
                Box::new(move || {
                    if let Ok(IncomingState::Incoming) = shared.driver.migrate_incoming_state(uuid)
                    {
                        shared.log.warn(&format!(
                            "the client that prepared the incoming migration of {uuid} went away before its finish; the copy here is given up"
                        ));
                        let _ = shared.driver.migrate_abort_incoming(uuid);
                    }
                })
            }
            TiedKind::AwaitingConfirm(dom) => {
                let dom = dom.clone();
                // An error only says it was confirmed already.
                Box::new(move || {
                    let _ = shared
                        .driver
                        .migrate_confirm(&dom, Confirmation::Abandoned, false);
                })
            }
        };
        self.workers.submit(true, job);
    }
}
