//! Jobs: what serialises the operations on one domain, as libvirt's
//! domain jobs do.
//!
//! Each domain entry owns one [`Jobs`]. An operation that changes the
//! domain takes a *synchronous* job for its whole length; at most one runs
//! at a time. A long operation (save, restore, and later migration and
//! snapshots) takes the domain's one *asynchronous* job instead: it
//! publishes its progress, which [`Jobs::info`] reads without waiting, and
//! it can be aborted. While it runs, other changes wait for it (up to
//! [`WAIT_LIMIT`], then fail naming it), except a destroy, which always
//! runs at once: it stops the QEMU under the asynchronous job, which then
//! fails and cleans up after itself, and a suspend under an outgoing
//! migration, which then carries on with the guest paused.
//!
//! When an entry leaves the domain table, its `Jobs` is marked removed:
//! whoever waits on it, or comes to it with a stale handle, gets
//! `NoDomain` rather than acting on a domain defined anew meanwhile
//! under the same UUID (which has a `Jobs` of its own).

use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::driver::{CompletedJob, JobInfo, JobKind, JobOutcome};
use crate::error::{Error, ErrorCode, Result};

/// How long a change waits for the job ahead of it before failing.
pub(crate) const WAIT_LIMIT: Duration = Duration::from_secs(30);

/// A synchronous job's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SyncKind {
    /// Any change of the domain: start, shutdown, suspend, media, ...
    Modify,
    /// Stopping the QEMU at once (a destroy), or recording that it has
    /// stopped: runs even under an asynchronous job.
    Destroy,
    /// Pausing the vCPUs: runs even under an outgoing migration, as
    /// libvirt lets it (virsh's `migrate --timeout` pauses the guest so
    /// that the copy converges).
    Suspend,
}

impl SyncKind {
    fn as_str(self) -> &'static str {
        match self {
            SyncKind::Modify => "a change",
            SyncKind::Destroy => "a destroy",
            SyncKind::Suspend => "a suspend",
        }
    }
}

/// The asynchronous job in progress.
#[derive(Debug, Clone)]
struct AsyncJob {
    kind: JobKind,
    started: Instant,
    info: JobInfo,
    abort: bool,
    /// Whether a user's abort can stop it (QEMU cannot stop a
    /// memory-only dump once started).
    abortable: bool,
    /// Set by [`AsyncJobGuard::finish`]: whether it did what it was asked.
    succeeded: bool,
    downtime: Option<Duration>,
    total_downtime: Option<Duration>,
    /// An outgoing migration started with `--postcopy`: a user may
    /// switch it to post-copy (libvirt's `VIR_MIGRATE_POSTCOPY` in the
    /// job's flags).
    postcopy: bool,
}

#[derive(Debug, Default)]
struct State {
    sync: Option<SyncKind>,
    /// Boxed, as the last job is: every domain has a `State`, few have
    /// a job, and a table of 10,000 domains should not carry room for
    /// 10,000 of them.
    async_job: Option<Box<AsyncJob>>,
    /// The last asynchronous job that ended.
    completed: Option<Box<CompletedJob>>,
    removed: bool,
}

/// The jobs of one domain.
#[derive(Debug, Default)]
pub(crate) struct Jobs {
    state: Mutex<State>,
    changed: Condvar,
}

impl Jobs {
    fn lock(&self) -> MutexGuard<'_, State> {
        crate::sys::sync::lock(&self.state)
    }

    /// Takes a synchronous job of `kind` on domain `name`: waits while
    /// another runs, and while an asynchronous job runs unless `kind` is
    /// [`SyncKind::Destroy`], or [`SyncKind::Suspend`] under an outgoing
    /// migration.
    pub fn begin(&self, kind: SyncKind, name: &str) -> Result<SyncJob<'_>> {
        self.wait_then(
            name,
            |st| {
                st.sync.is_none()
                    && match &st.async_job {
                        None => true,
                        Some(_) if kind == SyncKind::Destroy => true,
                        Some(j) => kind == SyncKind::Suspend && j.kind == JobKind::Migration,
                    }
            },
            |st| st.sync = Some(kind),
        )?;
        Ok(SyncJob { jobs: self })
    }

    /// Takes the asynchronous job of domain `name` for `kind`: waits like
    /// [`Jobs::begin`] for every other job to end.
    pub fn begin_async(&self, kind: JobKind, name: &str) -> Result<AsyncJobGuard<'_>> {
        self.wait_then(
            name,
            |st| st.sync.is_none() && st.async_job.is_none(),
            |st| {
                st.async_job = Some(Box::new(AsyncJob {
                    kind,
                    started: Instant::now(),
                    info: JobInfo::new(kind),
                    abort: false,
                    abortable: true,
                    succeeded: false,
                    downtime: None,
                    total_downtime: None,
                    postcopy: false,
                }))
            },
        )?;
        Ok(AsyncJobGuard { jobs: self })
    }

    /// Waits up to [`WAIT_LIMIT`] until `free` holds, then does `take`;
    /// `NoDomain` once the entry is removed, `Timeout` naming what held
    /// the domain.
    fn wait_then(
        &self,
        name: &str,
        free: impl Fn(&State) -> bool,
        take: impl FnOnce(&mut State),
    ) -> Result<()> {
        let deadline = Instant::now() + WAIT_LIMIT;
        let mut st = self.lock();
        loop {
            if st.removed {
                return Err(gone(name));
            }
            if free(&st) {
                take(&mut st);
                return Ok(());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                let holder = match (&st.async_job, st.sync) {
                    (_, Some(s)) => s.as_str().to_string(),
                    (Some(a), None) => format!(
                        "{} (running for {} s; see domjobinfo, or domjobabort)",
                        a.kind.as_str(),
                        a.started.elapsed().as_secs()
                    ),
                    (None, None) => "another operation".to_string(),
                };
                return Err(Error::new(
                    ErrorCode::Timeout,
                    format!(
                        "domain '{name}' is busy with {holder}; waited {} s for it",
                        WAIT_LIMIT.as_secs()
                    ),
                ));
            }
            st = self
                .changed
                .wait_timeout(st, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    /// The asynchronous job in progress, if any.
    pub fn info(&self) -> Option<JobInfo> {
        let st = self.lock();
        st.async_job.as_ref().map(|a| {
            let mut info = a.info.clone();
            info.elapsed = a.started.elapsed();
            info
        })
    }

    /// The last asynchronous job that ended, with its figures then.
    pub fn completed(&self) -> Option<CompletedJob> {
        self.lock().completed.as_deref().cloned()
    }

    /// Keeps `done` as the last job that ended: what the destination of a
    /// migration records, where the job ran on the source's side.
    pub fn record_completed(&self, done: CompletedJob) {
        self.lock().completed = Some(Box::new(done));
    }

    /// The running asynchronous job's kind and whether a user's abort
    /// can stop it; `None` when none runs.
    pub fn abortable(&self) -> Option<(JobKind, bool)> {
        self.lock()
            .async_job
            .as_ref()
            .map(|j| (j.kind, j.abortable))
    }

    /// The running asynchronous job's kind and whether it is a
    /// migration a user may switch to post-copy; `None` when none runs.
    pub fn postcopy_allowed(&self) -> Option<(JobKind, bool)> {
        self.lock().async_job.as_ref().map(|j| (j.kind, j.postcopy))
    }

    /// Asks the asynchronous job to stop; its kind, or `None` when none
    /// runs. The job itself notices (see [`AsyncJobGuard::aborted`]) and
    /// the caller does what makes it notice at once (cancels QEMU's
    /// migration).
    pub fn request_abort(&self) -> Option<JobKind> {
        let mut st = self.lock();
        let job = st.async_job.as_mut()?;
        job.abort = true;
        Some(job.kind)
    }

    /// Marks the entry removed from the table: every waiter, and every
    /// later caller, gets `NoDomain`.
    pub fn remove(&self) {
        self.lock().removed = true;
        self.changed.notify_all();
    }
}

/// A synchronous job; ends when dropped.
#[derive(Debug)]
pub(crate) struct SyncJob<'a> {
    jobs: &'a Jobs,
}

impl Drop for SyncJob<'_> {
    fn drop(&mut self) {
        self.jobs.lock().sync = None;
        self.jobs.changed.notify_all();
    }
}

/// The asynchronous job; ends when dropped.
#[derive(Debug)]
pub(crate) struct AsyncJobGuard<'a> {
    jobs: &'a Jobs,
}

impl AsyncJobGuard<'_> {
    /// From now on a user's abort is refused: what runs cannot stop.
    pub fn forbid_abort(&self) {
        if let Some(job) = self.jobs.lock().async_job.as_mut() {
            job.abortable = false;
        }
    }

    /// Lets a user switch this migration to post-copy.
    pub fn allow_postcopy(&self) {
        if let Some(job) = self.jobs.lock().async_job.as_mut() {
            job.postcopy = true;
        }
    }

    /// Publishes the job's progress.
    pub fn progress(&self, update: impl FnOnce(&mut JobInfo)) {
        if let Some(job) = self.jobs.lock().async_job.as_mut() {
            update(&mut job.info);
        }
    }

    /// Records how the job went, for `domjobinfo --completed`: call it
    /// with the job's result before the guard goes (a guard dropped
    /// without it ended in failure, or was cancelled when aborted).
    pub fn finish<T>(&self, result: &Result<T>) {
        if let Some(job) = self.jobs.lock().async_job.as_mut() {
            job.succeeded = result.is_ok();
        }
    }

    /// Records the guest's downtime a migration measured.
    pub fn set_downtime(&self, downtime: Duration) {
        if let Some(job) = self.jobs.lock().async_job.as_mut() {
            job.downtime = Some(downtime);
        }
    }

    /// Records the managers' measure of a migration's downtime (see
    /// [`CompletedJob::total_downtime`]).
    pub fn set_total_downtime(&self, total: Duration) {
        if let Some(job) = self.jobs.lock().async_job.as_mut() {
            job.total_downtime = Some(total);
        }
    }

    /// Whether someone asked the job to stop.
    pub fn aborted(&self) -> bool {
        self.jobs.lock().async_job.as_ref().is_some_and(|a| a.abort)
    }

    /// Takes a synchronous job of `kind` inside this asynchronous one,
    /// for a step that must not run beside a destroy.
    pub fn step(&self, kind: SyncKind, name: &str) -> Result<SyncJob<'_>> {
        let mut st = self.jobs.lock();
        loop {
            if st.removed {
                return Err(gone(name));
            }
            if st.sync.is_none() {
                st.sync = Some(kind);
                return Ok(SyncJob { jobs: self.jobs });
            }
            st = self
                .jobs
                .changed
                .wait(st)
                .unwrap_or_else(|p| p.into_inner());
        }
    }
}

impl Drop for AsyncJobGuard<'_> {
    fn drop(&mut self) {
        let mut st = self.jobs.lock();
        if let Some(job) = st.async_job.take() {
            let outcome = match (job.succeeded, job.abort) {
                (true, _) => JobOutcome::Completed,
                (false, true) => JobOutcome::Cancelled,
                (false, false) => JobOutcome::Failed,
            };
            let mut info = job.info;
            info.elapsed = job.started.elapsed();
            if outcome == JobOutcome::Completed {
                info.data_processed = info.data_processed.max(info.data_total);
                info.data_remaining = 0;
            }
            let done = CompletedJob::new(outcome, info, job.downtime)
                .with_total_downtime(job.total_downtime);
            st.completed = Some(Box::new(done));
        }
        drop(st);
        self.jobs.changed.notify_all();
    }
}

/// The error for a domain whose entry went while the caller waited.
fn gone(name: &str) -> Error {
    Error::new(
        ErrorCode::NoDomain,
        format!("domain '{name}' was removed meanwhile; look it up again"),
    )
}

/// Paces a wait that asks QEMU how its job goes: every `pause`, doubled
/// each time up to 2 ms for the first 200 ms (most jobs of a small guest
/// end by then, and a coarse poll would add up to its whole interval to
/// each), then up to 20 ms (a long save or migration is not asked
/// thousands of times).
pub(crate) struct QemuPoll {
    started: Instant,
    pause: Duration,
}

impl QemuPoll {
    /// A wait that starts now, first pausing `first`.
    pub(crate) fn new(first: Duration) -> QemuPoll {
        QemuPoll {
            started: Instant::now(),
            pause: first,
        }
    }

    /// Sleeps the current pause and lengthens the next.
    pub(crate) fn sleep(&mut self) {
        std::thread::sleep(self.pause);
        let cap = if self.started.elapsed() < Duration::from_millis(200) {
            Duration::from_millis(2)
        } else {
            Duration::from_millis(20)
        };
        self.pause = (self.pause * 2).min(cap);
    }
}

/// Publishes the figures of a `query-migrate` answer (its `ram` part:
/// total, transferred, remaining, speed) as `job`'s progress, when there
/// is a job; returns the bytes transferred so far. Used by migrations,
/// saves and restores, which QEMU all runs as a migration stream.
pub(crate) fn migration_progress(job: Option<&AsyncJobGuard<'_>>, info: &serde_json::Value) -> u64 {
    let ram = info.get("ram");
    let figure = |key: &str| {
        ram.and_then(|r| r.get(key))
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(0)
    };
    let transferred = figure("transferred");
    if let Some(job) = job {
        let mbps = ram
            .and_then(|r| r.get("mbps"))
            .and_then(serde_json::Value::as_f64)
            .unwrap_or(0.0);
        job.progress(|p| {
            p.data_total = figure("total");
            p.data_processed = transferred;
            p.data_remaining = figure("remaining");
            p.speed = (mbps * 1e6 / 8.0) as u64;
        });
    }
    transferred
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn one_change_at_a_time_and_destroy_beside_an_async_job() {
        let jobs = Arc::new(Jobs::default());
        let first = jobs.begin(SyncKind::Modify, "a").unwrap();
        let waiter = {
            let jobs = jobs.clone();
            std::thread::spawn(move || jobs.begin(SyncKind::Modify, "a").map(drop))
        };
        std::thread::sleep(Duration::from_millis(20));
        assert!(!waiter.is_finished(), "the second change waits");
        drop(first);
        waiter.join().unwrap().unwrap();

        let save = jobs.begin_async(JobKind::Save, "a").unwrap();
        assert_eq!(jobs.info().unwrap().kind, JobKind::Save);
        save.progress(|i| i.data_processed = 5);
        assert_eq!(jobs.info().unwrap().data_processed, 5);
        // A destroy runs at once beside it.
        drop(jobs.begin(SyncKind::Destroy, "a").unwrap());
        assert_eq!(jobs.request_abort(), Some(JobKind::Save));
        assert!(save.aborted());
        drop(save);
        assert!(jobs.info().is_none());
        assert_eq!(jobs.request_abort(), None);
        assert_eq!(jobs.abortable(), None);
        // A job that cannot stop says so to a user's abort.
        let dump = jobs.begin_async(JobKind::Dump, "a").unwrap();
        assert_eq!(jobs.abortable(), Some((JobKind::Dump, true)));
        dump.forbid_abort();
        assert_eq!(jobs.abortable(), Some((JobKind::Dump, false)));
    }

    #[test]
    fn a_removed_entry_fails_its_waiters() {
        let jobs = Arc::new(Jobs::default());
        let held = jobs.begin(SyncKind::Modify, "a").unwrap();
        let waiter = {
            let jobs = jobs.clone();
            std::thread::spawn(move || jobs.begin(SyncKind::Modify, "a").map(drop))
        };
        std::thread::sleep(Duration::from_millis(20));
        jobs.remove();
        drop(held);
        let e = waiter.join().unwrap().unwrap_err();
        assert_eq!(e.code, ErrorCode::NoDomain);
        assert_eq!(
            jobs.begin(SyncKind::Destroy, "a").unwrap_err().code,
            ErrorCode::NoDomain
        );
    }
}
