//! The source's half of a migration its client drives step by step, as
//! `virsh migrate` without `--p2p` drives libvirt's (Begin, Prepare on
//! the destination, Perform here, Finish there, Confirm here): the
//! client, not this manager, speaks to the destination.
//!
//! [`Core::migrate_perform`] streams the guest to the address the
//! destination's Prepare gave and returns once the stream completed,
//! the guest paused; a thread of the core keeps the migration's job
//! (so nothing resumes or saves the paused guest meanwhile) and the
//! record that says a migration is finishing, until
//! [`Core::migrate_confirm`] says how it ended: the copy here stops, or
//! the guest runs here again. A client that goes away without a word
//! leaves the guest paused here, as libvirt leaves it: the destination
//! may run it, and only someone who looks there can say which copy is to
//! live. Never two: the source never runs its copy again unless told the
//! migration was cancelled.

use std::sync::mpsc;
use std::time::Duration;

use super::driver::{Core, lock};
use super::migrate::{MIGRATE_RECORD, MigrationRecord, write_record};
use crate::driver::{Confirmation, Domain, DomainState, JobKind, MigrateOptions, StateReason};
use crate::error::{Error, ErrorCode, Result};

/// How a confirmation reaches the thread that keeps the job: the
/// confirmation and where its result goes.
pub(crate) type Confirmer = mpsc::Sender<(Confirmation, mpsc::Sender<Result<()>>)>;

impl Core {
    /// [`crate::Driver::migrate_perform`].
    pub(crate) fn migrate_perform(
        &self,
        dom: &Domain,
        uri: &str,
        options: MigrateOptions,
    ) -> Result<()> {
        let refuse = |what: &str| {
            Err(Error::new(
                ErrorCode::NoSupport,
                format!("{what} needs a peer-to-peer migration (virsh migrate --p2p)"),
            ))
        };
        if options.copy_storage_all {
            return refuse("a storage copy (--copy-storage-all)");
        }
        if options.postcopy || options.timeout.is_some() {
            return refuse("post-copy or qvirt's own --timeout");
        }
        let (_, port) = crate::driver::migration::stream_address("", Some(uri))?;
        if port.is_none() {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                format!(
                    "the migration URI '{uri}' names no port (the destination's Prepare gives tcp:HOST:PORT)"
                ),
            ));
        }
        let uri = uri.strip_prefix("tcp://").map_or_else(
            || uri.to_string(),
            |rest| format!("tcp:{}", rest.trim_end_matches('/')),
        );
        let core = self
            .me
            .upgrade()
            .ok_or_else(|| Error::new(ErrorCode::OperationInvalid, "the manager is closing"))?;
        let (ready_tx, ready_rx) = mpsc::channel();
        let dom = dom.clone();
        self.spawn("migrate-steps", move || {
            core.perform_and_wait(&dom, &uri, &options, ready_tx);
        })
        .ok_or_else(|| {
            Error::new(
                ErrorCode::OperationFailed,
                "cannot start the migration's thread",
            )
        })?;
        ready_rx.recv().unwrap_or_else(|_| {
            Err(Error::new(
                ErrorCode::Internal,
                "the migration's thread ended without a word",
            ))
        })
    }

    /// Runs the migration's job: the stream, then (`ready` told) the wait
    /// for the confirmation.
    fn perform_and_wait(
        &self,
        dom: &Domain,
        uri: &str,
        options: &MigrateOptions,
        ready: mpsc::Sender<Result<()>>,
    ) {
        let jobs = match self.jobs(dom) {
            Ok(j) => j,
            Err(e) => {
                let _ = ready.send(Err(e));
                return;
            }
        };
        let job = match jobs.begin_async(JobKind::Migration, &dom.name) {
            Ok(j) => j,
            Err(e) => {
                let _ = ready.send(Err(e));
                return;
            }
        };
        let run = self
            .running_in(dom, "migrate", &[DomainState::Running, DomainState::Paused])
            .and_then(|r| {
                super::blockjobs::no_block_jobs(r.qmp()?, &dom.name)?;
                Ok(r)
            });
        let run = match run {
            Ok(r) => r,
            Err(e) => {
                job.finish(&Err::<(), _>(Error::new(e.code, e.message.clone())));
                let _ = ready.send(Err(e));
                return;
            }
        };
        let was_running = run.run_state().state == DomainState::Running;
        let mut record = MigrationRecord {
            dest_uri: String::new(),
            finishing: false,
            was_running,
        };
        let record_file = run.run_dir.join(MIGRATE_RECORD);
        let performed = write_record(&run, &record)
            .and_then(|()| self.perform(&run, uri, options, &job, was_running, &[]))
            .and_then(|_| {
                // From here the destination may own the guest.
                record.finishing = true;
                write_record(&run, &record)
            });
        if let Err(e) = performed {
            self.resume_after_failure(&run, was_running);
            let _ = crate::sys::fsutil::remove_runtime(&record_file);
            let e = self.aborted_or(e, &job, dom);
            job.finish(&Err::<(), _>(Error::new(e.code, e.message.clone())));
            let _ = ready.send(Err(e));
            return;
        }
        let (confirm_tx, confirm_rx) = mpsc::channel();
        lock(&self.awaiting).insert(dom.uuid, confirm_tx);
        let _ = ready.send(Ok(()));
        // The client's word, or the manager closing (which leaves the
        // record: a restarted manager keeps the guest paused).
        let (how, reply) = loop {
            match confirm_rx.recv_timeout(Duration::from_millis(500)) {
                Ok(m) => break m,
                Err(mpsc::RecvTimeoutError::Timeout)
                    if !self.closing.load(std::sync::atomic::Ordering::SeqCst) => {}
                Err(_) => {
                    lock(&self.awaiting).remove(&dom.uuid);
                    job.finish(&Err::<(), _>(Error::new(
                        ErrorCode::OperationFailed,
                        "the manager closed before the migration was confirmed",
                    )));
                    return;
                }
            }
        };
        lock(&self.awaiting).remove(&dom.uuid);
        let result = match how {
            Confirmation::Done => {
                self.log.info(&format!(
                    "domain '{}' migrated (confirmed by its client)",
                    dom.name
                ));
                self.stop_process(dom, &run, StateReason::Migrated)
            }
            Confirmation::Cancelled => {
                self.log.warn(&format!(
                    "domain '{}': its client cancelled the migration; the guest runs here again",
                    dom.name
                ));
                self.resume_after_failure(&run, was_running);
                let _ = crate::sys::fsutil::remove_runtime(&record_file);
                Err(Error::new(
                    ErrorCode::OperationAborted,
                    format!("the migration of domain '{}' was cancelled", dom.name),
                ))
            }
            Confirmation::Abandoned => {
                self.log.error(&format!(
                    "domain '{}': the client of its migration went away after the stream completed; the domain stays paused here, as the destination may run it: check the destination, then resume or destroy it",
                    dom.name
                ));
                let _ = crate::sys::fsutil::remove_runtime(&record_file);
                Err(Error::new(
                    ErrorCode::OperationFailed,
                    format!("the migration of domain '{}' was never confirmed", dom.name),
                ))
            }
        };
        job.finish(&result);
        drop(job);
        if matches!(how, Confirmation::Done) && result.is_ok() {
            self.tell_job_completed(dom, &jobs);
        }
        let answer = match (how, result) {
            (Confirmation::Done, r) => r,
            _ => Ok(()),
        };
        let _ = reply.send(answer);
    }

    /// [`crate::Driver::migrate_confirm`].
    pub(crate) fn migrate_confirm(
        &self,
        dom: &Domain,
        how: Confirmation,
        undefine_source: bool,
    ) -> Result<()> {
        let confirmer = lock(&self.awaiting)
            .get(&dom.uuid)
            .cloned()
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::OperationInvalid,
                    format!(
                        "domain '{}' has no migration waiting for its confirmation",
                        dom.name
                    ),
                )
            })?;
        let (tx, rx) = mpsc::channel();
        confirmer.send((how, tx)).map_err(|_| {
            Error::new(
                ErrorCode::OperationInvalid,
                format!("the migration of domain '{}' has ended", dom.name),
            )
        })?;
        rx.recv().unwrap_or_else(|_| {
            Err(Error::new(
                ErrorCode::Internal,
                "the migration's thread ended without a word",
            ))
        })?;
        if how == Confirmation::Done && undefine_source {
            let persistent = self.with_entry(dom, |e| Ok(e.persistent.is_some()))?;
            if persistent {
                self.undefine(dom, Default::default())?;
            }
        }
        Ok(())
    }
}
