//! The workers that run driver calls for the I/O loop: a fixed number of
//! threads, started with the server and joined when it stops, so threads
//! never grow with clients.
//!
//! As libvirt's virThreadPool: general workers take any job, priority
//! workers only those that must not wait behind long calls (`destroy`),
//! so a pool full of shutdowns that wait still destroys at once.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

use crate::error::{Error, Result};

/// A unit of work.
pub(super) type Job = Box<dyn FnOnce() + Send>;

#[derive(Default)]
struct Queue {
    general: VecDeque<Job>,
    prio: VecDeque<Job>,
    /// Set when the pool stops: workers finish what is queued, then exit.
    stop: bool,
}

struct Shared {
    queue: Mutex<Queue>,
    /// General workers wait here.
    general_ready: Condvar,
    /// Priority workers wait here.
    prio_ready: Condvar,
}

/// Queues `job` on `shared`; a priority job may also run on a priority
/// worker.
fn submit(shared: &Shared, prio: bool, job: Job) {
    let mut q = lock(&shared.queue);
    if prio {
        q.prio.push_back(job);
        drop(q);
        // Whichever is free first takes it.
        shared.prio_ready.notify_one();
        shared.general_ready.notify_one();
    } else {
        q.general.push_back(job);
        drop(q);
        shared.general_ready.notify_one();
    }
}

/// Queues jobs on a [`Pool`] (see [`Pool::submitter`]).
#[derive(Clone)]
pub(super) struct Submitter(Arc<Shared>);

impl Submitter {
    /// As [`Pool::submit`].
    pub(super) fn submit(&self, prio: bool, job: Job) {
        submit(&self.0, prio, job);
    }
}

/// The worker threads.
pub(super) struct Pool {
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
}

use crate::sys::sync::lock;

impl Pool {
    /// Starts `general` general workers and `prio` priority workers.
    pub(super) fn start(general: usize, prio: usize) -> Result<Pool> {
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue::default()),
            general_ready: Condvar::new(),
            prio_ready: Condvar::new(),
        });
        let mut pool = Pool {
            shared,
            threads: Vec::new(),
        };
        for i in 0..general.max(1) + prio {
            let shared = pool.shared.clone();
            let only_prio = i >= general.max(1);
            let spawned = std::thread::Builder::new()
                .name(
                    if only_prio {
                        "qvirtd-prio"
                    } else {
                        "qvirtd-worker"
                    }
                    .into(),
                )
                .stack_size(512 * 1024)
                .spawn(move || work(&shared, only_prio));
            match spawned {
                Ok(t) => pool.threads.push(t),
                Err(e) => {
                    pool.stop();
                    return Err(Error::io("cannot start a worker thread", e));
                }
            }
        }
        Ok(pool)
    }

    /// Queues `job`; a priority job may also run on a priority worker.
    pub(super) fn submit(&self, prio: bool, job: Job) {
        submit(&self.shared, prio, job);
    }

    /// A handle that queues jobs from elsewhere than the loop (a drop).
    /// Jobs queued before the pool stops run; the loop stops the pool
    /// only once every connection is gone.
    pub(super) fn submitter(&self) -> Submitter {
        Submitter(self.shared.clone())
    }

    /// Lets the workers finish every queued job, then joins them.
    pub(super) fn stop(&mut self) {
        lock(&self.shared.queue).stop = true;
        self.shared.general_ready.notify_all();
        self.shared.prio_ready.notify_all();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A worker's life: take a job, run it, until the pool stops and nothing
/// is queued.
fn work(shared: &Shared, only_prio: bool) {
    let mut q = lock(&shared.queue);
    loop {
        let job = match q.prio.pop_front() {
            Some(job) => Some(job),
            None if !only_prio => q.general.pop_front(),
            None => None,
        };
        match job {
            Some(job) => {
                drop(q);
                // A job that panics (it should not: calls catch their
                // own) must not take a worker with it.
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                q = lock(&shared.queue);
            }
            None if q.stop => return,
            None => {
                let ready = if only_prio {
                    &shared.prio_ready
                } else {
                    &shared.general_ready
                };
                q = ready.wait(q).unwrap_or_else(|p| p.into_inner());
            }
        }
    }
}
