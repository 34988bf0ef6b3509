//! The lifecycle operations: start, create, destroy, shutdown, reboot,
//! reset, suspend, resume. Each holds its domain's job lock for its whole
//! length and the table lock only for moments.

use std::sync::Arc;
use std::time::Duration;

use super::driver::{Core, Entry, lock};
use super::jobs::{Jobs, SyncKind};
use super::launch::LaunchOptions;
use super::monitor::{self, MonitorLink};
use super::requests::Request;
use super::runtime::Running;
use crate::driver::{Domain, DomainState, JobKind, ShutdownOptions, StateReason};
use crate::error::{Error, ErrorCode, Result};
use crate::model::DomainDef;
use crate::qemu::qmp::QMP_TIMEOUT;
use crate::sys::process::{self, ExitWatch};

/// How often a shutdown that waits repeats the ACPI power-button press.
const ACPI_REPEAT: Duration = Duration::from_secs(3);

/// How long QEMU has to exit after SIGTERM before it gets SIGKILL.
const TERM_GRACE: Duration = Duration::from_secs(5);

impl Core {
    /// A strong handle on the core, for starting threads.
    pub(crate) fn strong(&self) -> Arc<Core> {
        self.me
            .upgrade()
            .expect("the core is alive while its methods run")
    }

    /// Puts a new run into the entry of `uuid` and starts its monitor,
    /// which first tells subscribers the domain started (for `started`).
    /// The caller holds the domain's job, which keeps the entry; should
    /// it be gone all the same (the driver is closing), the new QEMU is
    /// stopped rather than left without a manager.
    pub(crate) fn register(
        &self,
        uuid: Uuid,
        run: &Arc<Running>,
        link: MonitorLink,
        started: StateReason,
    ) -> Result<Domain> {
        let handle = {
            let mut inner = lock(&self.inner);
            inner.entries.get_mut(&uuid).map(|entry| {
                run.agent_timeout
                    .store(entry.agent_timeout, std::sync::atomic::Ordering::Relaxed);
                entry.running = Some(run.clone());
                entry.handle()
            })
        };
        let Some(handle) = handle else {
            process::kill_and_wait(run.process, TERM_GRACE);
            let _ = crate::sys::fsutil::remove_tree(&run.run_dir);
            return Err(Error::new(
                ErrorCode::NoDomain,
                format!(
                    "domain '{}' was removed while it started; its QEMU is stopped",
                    run.def.name
                ),
            ));
        };
        monitor::watch(&self.strong(), uuid, run, link, Some(started));
        Ok(handle)
    }

    /// The next running id.
    pub(crate) fn next_id(&self) -> u32 {
        let mut inner = lock(&self.inner);
        let id = inner.next_id;
        inner.next_id += 1;
        id
    }

    /// Starts a defined, shut-off domain (from its managed save image when
    /// there is one).
    pub(crate) fn start_domain(&self, dom: &Domain) -> Result<Domain> {
        self.start_domain_with(dom, false)
    }

    /// Starts a shut-off domain, left paused when `paused` (virsh's
    /// `start --paused`: the guest's CPUs never run, its state is paused
    /// by the user).
    pub(crate) fn start_domain_with(&self, dom: &Domain, paused: bool) -> Result<Domain> {
        let jobs = self.jobs(dom)?;
        // A start from a managed save image is a restore: an asynchronous
        // job that domjobinfo follows. The image is looked for again once
        // the job is held.
        let from_image = self.with_entry(dom, |e| Ok(e.managed_save))?;
        let restore;
        let _job;
        if from_image {
            restore = Some(jobs.begin_async(JobKind::Restore, &dom.name)?);
            _job = None;
        } else {
            restore = None;
            _job = Some(jobs.begin(SyncKind::Modify, &dom.name)?);
        }
        let (def, has_image) = self.with_entry(dom, |e| match (&e.running, &e.persistent) {
            (Some(run), _) => Err(Core::wrong_state(dom, "start", run.run_state().state)),
            (None, Some(def)) => Ok((DomainDef::clone(def), e.managed_save)),
            (None, None) => Err(Error::new(
                ErrorCode::Internal,
                "a domain with no definition",
            )),
        })?;
        let image = self.layout.managed_save_file(&def.name);
        let started = match (&restore, has_image) {
            (Some(job), true) => self.restore_managed(dom, def, &image, job, paused),
            (None, false) => self.boot_defined(dom, def, paused),
            // The image came or went while this waited for the job.
            _ => {
                drop(restore);
                drop(_job);
                return self.start_domain_with(dom, paused);
            }
        };
        if let Some(job) = &restore {
            job.finish(&started);
        }
        if started.is_err() {
            self.record_failed_start(dom);
        }
        started
    }

    /// Boots a defined domain (not from a save image) and registers it.
    /// The caller holds the job lock.
    fn boot_defined(&self, dom: &Domain, def: DomainDef, paused: bool) -> Result<Domain> {
        let id = self.next_id();
        let (run, link) = self.launch(
            def,
            id,
            LaunchOptions {
                persistent: true,
                incoming: None,
                paused,
                reason: StateReason::Booted,
                consume: None,
                job: None,
                listen: None,
                marker: None,
            },
        )?;
        let handle = self.register(dom.uuid, &run, link, StateReason::Booted)?;
        self.log.info(&format!(
            "started domain '{}' (id {id}, pid {})",
            dom.name, run.process.pid
        ));
        Ok(handle)
    }

    /// Records that starting the shut-off domain `dom` failed: its state
    /// reason becomes `failed`, in memory and on disk (as `end_run` keeps
    /// it). The caller holds the job lock.
    fn record_failed_start(&self, dom: &Domain) {
        let recorded = self.with_entry(dom, |e| {
            if e.running.is_none() {
                e.reason = StateReason::Failed;
            }
            Ok(e.running.is_none() && e.persistent.is_some())
        });
        if recorded.unwrap_or(false) {
            let file = self.layout.reason_file(&dom.uuid);
            let written =
                crate::sys::fsutil::replace_atomic(&file, StateReason::Failed.as_str().as_bytes());
            if let Err(e) = written {
                self.log.error(&format!("domain '{}': {e}", dom.name));
            }
        }
    }

    /// Starts a transient domain from a definition.
    pub(crate) fn create_transient(
        &self,
        def: DomainDef,
        reason: StateReason,
        paused: bool,
        incoming: Option<&std::fs::File>,
        migration: Option<(String, (&'static str, Vec<u8>))>,
    ) -> Result<Domain> {
        let uuid = def.uuid;
        let (listen, marker) = match migration {
            Some((uri, marker)) => (Some(uri), Some(marker)),
            None => (None, None),
        };
        let jobs: Arc<Jobs> = Arc::default();
        let _job = jobs.begin(SyncKind::Modify, &def.name)?;
        {
            let mut inner = lock(&self.inner);
            if let Some(&other) = inner.names.get(&def.name) {
                let other_name = def.name.clone();
                return Err(super::store::conflict(&def, &other_name, other));
            }
            if let Some(e) = inner.entries.get(&uuid) {
                return Err(super::store::conflict(&def, &e.def().name, uuid));
            }
            if let Some((other_name, other_uuid)) = inner.reservation(&def.name, uuid) {
                return Err(super::store::conflict(&def, other_name, *other_uuid));
            }
            // Reserve the name and UUID while QEMU starts; lookups find
            // nothing yet.
            inner.reserved.push((def.name.clone(), uuid));
        }
        let name = def.name.clone();
        let id = self.next_id();
        let launched = self.launch(
            def,
            id,
            LaunchOptions {
                persistent: false,
                incoming,
                paused,
                reason,
                consume: None,
                job: None,
                listen,
                marker,
            },
        );
        let (run, link) = match launched {
            Ok(r) => r,
            Err(e) => {
                lock(&self.inner).release(uuid);
                return Err(e);
            }
        };
        // The entry goes in with its run, in one step: an entry with
        // neither a definition nor a run must never be seen.
        let handle = {
            let mut inner = lock(&self.inner);
            inner.release(uuid);
            let entry = Entry {
                persistent: None,
                running: Some(run.clone()),
                reason: StateReason::Unknown,
                job: jobs.clone(),
                autostart: false,
                managed_save: false,
                migrate_speed: None,
                agent_timeout: super::agent::TIMEOUT_BLOCK,
            };
            let handle = entry.handle();
            inner.entries.insert(uuid, entry);
            inner.names.insert(name.clone(), uuid);
            handle
        };
        monitor::watch(&self.strong(), uuid, &run, link, Some(reason));
        self.log.info(&format!(
            "created domain '{name}' (id {id}, pid {})",
            run.process.pid
        ));
        Ok(handle)
    }

    /// Stops a domain at once: SIGTERM, then SIGKILL after a grace period.
    pub(crate) fn destroy_domain(&self, dom: &Domain) -> Result<()> {
        let jobs = self.jobs(dom)?;
        // A destroy always wins: it runs beside an asynchronous job (a
        // save), which fails once its QEMU is gone, and tells it so.
        jobs.request_abort();
        let _job = jobs.begin(SyncKind::Destroy, &dom.name)?;
        let run = self.running_in(
            dom,
            "destroy",
            &[
                DomainState::Running,
                DomainState::Paused,
                DomainState::Crashed,
                DomainState::Shutdown,
                DomainState::PmSuspended,
            ],
        )?;
        self.stop_process(dom, &run, StateReason::Destroyed)
    }

    /// Ends `run`'s process and the run, recording `reason`: SIGTERM, and
    /// SIGKILL after a grace period. Succeeds only once the process is
    /// gone; a process that outlives SIGKILL (stuck in the kernel) keeps
    /// its run, and the error says so.
    pub(crate) fn stop_process(
        &self,
        dom: &Domain,
        run: &Running,
        reason: StateReason,
    ) -> Result<()> {
        // The monitor records the exit with this reason, not as a crash.
        // (No monitor to ask means the run is over already.)
        let _ = run.ask(Request::Stopping(Some(reason)));
        if let Some(exit) = ExitWatch::open(run.process) {
            process::terminate(run.process);
            if !exit.wait(Some(TERM_GRACE)) {
                self.log.warn(&format!(
                    "domain '{}': QEMU ignored SIGTERM for {} s; killing it",
                    dom.name,
                    TERM_GRACE.as_secs()
                ));
                process::kill_hard(run.process);
                if !exit.wait(Some(TERM_GRACE)) {
                    let _ = run.ask(Request::Stopping(None));
                    return Err(Error::new(
                        ErrorCode::OperationFailed,
                        format!(
                            "domain '{}': QEMU (pid {}) is still there {} s after SIGKILL (stuck in the kernel?); it keeps running as far as qvirt knows",
                            dom.name,
                            run.process.pid,
                            TERM_GRACE.as_secs()
                        ),
                    ));
                }
            }
        }
        self.wait_run_over(dom, run, reason);
        Ok(())
    }

    /// Asks the guest to power off; optionally waits.
    pub(crate) fn shutdown_domain(&self, dom: &Domain, options: ShutdownOptions) -> Result<()> {
        let run = {
            let jobs = self.jobs(dom)?;
            let _job = jobs.begin(SyncKind::Modify, &dom.name)?;
            let run = self.running_in(dom, "shut down", &[DomainState::Running])?;
            run.qmp()?.execute("system_powerdown", None, QMP_TIMEOUT)?;
            run
        };
        let Some(wait) = options.wait else {
            return Ok(());
        };
        // A guest still booting ignores the power button: ask again every
        // few seconds while waiting, as libvirt's users and systemd do.
        let deadline = std::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if self.wait_stopped(&run, left.min(ACPI_REPEAT)) {
                // The monitor ends the run; wait for it to have done so,
                // so the caller sees the domain shut off.
                self.wait_run_over(dom, &run, StateReason::Shutdown);
                return Ok(());
            }
            if left <= ACPI_REPEAT {
                break;
            }
            if run.run_state().state == DomainState::Running
                && let Ok(qmp) = run.qmp()
            {
                let _ = qmp.execute("system_powerdown", None, QMP_TIMEOUT);
            }
        }
        if options.destroy_on_timeout {
            self.log.warn(&format!(
                "domain '{}' did not shut down within {} s; destroying it",
                dom.name,
                wait.as_secs()
            ));
            let jobs = self.jobs(dom)?;
            let _job = jobs.begin(SyncKind::Destroy, &dom.name)?;
            return self.stop_process(dom, &run, StateReason::Destroyed);
        }
        Err(Error::new(
            ErrorCode::Timeout,
            format!(
                "domain '{}' did not shut down within {} s (the guest may ignore ACPI); destroy it or wait longer",
                dom.name,
                wait.as_secs_f64()
            ),
        ))
    }

    /// Waits for the run of a process that has exited to be over. Its
    /// monitor ends it, once it has handled the events QEMU sent before
    /// exiting (so that a guest's `Shutdown` comes before `Stopped`, and
    /// the reason is the one the monitor was told); only a run without a
    /// monitor (it could not start, or the driver is closing) is ended
    /// here, for `reason`.
    pub(crate) fn wait_run_over(&self, dom: &Domain, run: &Running, reason: StateReason) {
        if !run.ended.wait(Duration::from_secs(5)) {
            self.log.warn(&format!(
                "domain '{}': its monitor did not end the run; ending it",
                dom.name
            ));
        }
        self.end_run(dom.uuid, run.process.pid, reason);
    }

    /// Reboots through the guest (ACPI): its power-off becomes a pause
    /// (`set-action shutdown=pause`), which the monitor turns into a
    /// reset and `cont`, so the QEMU process stays.
    pub(crate) fn reboot_domain(&self, dom: &Domain) -> Result<()> {
        let jobs = self.jobs(dom)?;
        let _job = jobs.begin(SyncKind::Modify, &dom.name)?;
        let run = self.running_in(dom, "reboot", &[DomainState::Running])?;
        run.ask(Request::Reboot)
    }

    /// Resets the machine, like its reset button; the `Reset` event is
    /// out before this returns.
    pub(crate) fn reset_domain(&self, dom: &Domain) -> Result<()> {
        let jobs = self.jobs(dom)?;
        let _job = jobs.begin(SyncKind::Modify, &dom.name)?;
        let run = self.running_in(dom, "reset", &[DomainState::Running, DomainState::Paused])?;
        run.ask(Request::Reset)
    }

    /// Stops the vCPUs.
    pub(crate) fn suspend_domain(&self, dom: &Domain) -> Result<()> {
        let jobs = self.jobs(dom)?;
        let _job = jobs.begin(SyncKind::Suspend, &dom.name)?;
        let run = self.running_in(dom, "suspend", &[DomainState::Running])?;
        run.ask(Request::Suspend)
    }

    /// Restarts the vCPUs.
    pub(crate) fn resume_domain(&self, dom: &Domain) -> Result<()> {
        let jobs = self.jobs(dom)?;
        let _job = jobs.begin(SyncKind::Modify, &dom.name)?;
        let run = self.running_in(dom, "resume", &[DomainState::Paused])?;
        if run.incoming.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(Error::new(
                ErrorCode::OperationInvalid,
                format!(
                    "domain '{}' is being migrated here and is still the source's; it runs once the migration finishes",
                    dom.name
                ),
            ));
        }
        run.ask(Request::Resume)
    }
}

use uuid::Uuid;
