//! The source's half of a live migration, peer to peer as libvirt's
//! `--p2p`: this manager drives the destination's over the protocol
//! (prepare, finish, and abort or ask when something fails), and QEMU's
//! stream goes directly between the two QEMUs.
//!
//! Never zero, never two: a record in the domain's runtime directory
//! (`migrate.json`) says a migration is under way and whether the finish
//! was asked for. The destination commits at its finish (see `incoming`);
//! until the source knows the finish happened, it never kills its QEMU,
//! and once the finish may have happened, it never resumes it without
//! asking the destination. A manager that finds the record after a
//! restart asks the destination and resolves it the same way.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::driver::Core;
use super::jobs::{AsyncJobGuard, migration_progress};
use super::requests::Request;
use super::runtime::Running;
use super::storage_copy;
use crate::driver::migration::stream_address;
use crate::driver::{
    Domain, DomainState, Driver, IncomingDisk, IncomingParams, IncomingState, JobKind,
    MigrateOptions, StateReason,
};
use crate::error::{Error, ErrorCode, Result};
use crate::model::{CharSource, DomainDef};
use crate::qemu::qmp::{QMP_TIMEOUT, Qmp};

/// How long an outgoing stream may move nothing before it is given up.
const STALLED: Duration = Duration::from_secs(15);

/// The record of an outgoing migration in a runtime directory.
pub(crate) const MIGRATE_RECORD: &str = "migrate.json";

/// How a source manager reaches other managers (`qvirt::connect`).
pub type PeerConnector = fn(&str) -> Result<Box<dyn Driver>>;

/// What `migrate.json` holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct MigrationRecord {
    /// The destination manager's URI.
    pub dest_uri: String,
    /// Whether the finish was asked for: from then on the destination
    /// may own the guest.
    pub finishing: bool,
    /// Whether the vCPUs ran before the migration.
    pub was_running: bool,
}

impl Core {
    /// The way to other managers, or why there is none.
    fn peers(&self) -> Result<PeerConnector> {
        self.peers.get().copied().ok_or_else(|| {
            Error::new(
                ErrorCode::NoSupport,
                "this manager cannot reach other managers (open it with qvirt::connect, or set a peer connector)",
            )
        })
    }

    /// [`crate::Driver::migrate`].
    pub(crate) fn migrate_out(
        &self,
        dom: &Domain,
        dest_uri: &str,
        options: MigrateOptions,
    ) -> Result<()> {
        let connect = self.peers()?;
        // A destination named over libvirt's protocol (a libvirt client's
        // URI) is reached on its qvirt socket.
        let dest_uri = &crate::driver::uri::own_protocol_uri(dest_uri)?;
        let jobs = self.jobs(dom)?;
        let job = jobs.begin_async(JobKind::Migration, &dom.name)?;
        if options.postcopy {
            job.allow_postcopy();
        }
        let result = self.migrate_in_job(dom, dest_uri, &options, connect, &job);
        job.finish(&result);
        drop(job);
        if result.is_ok() {
            self.tell_job_completed(dom, &jobs);
        }
        if result? && options.undefine_source {
            self.undefine(dom, Default::default())?;
        }
        Ok(())
    }

    /// Tells subscribers that the migration of `dom` completed, with the
    /// figures `jobs` recorded (libvirt's job completed event).
    pub(crate) fn tell_job_completed(&self, dom: &Domain, jobs: &super::jobs::Jobs) {
        if let Some(done) = jobs.completed() {
            let handle = self.lookup_uuid(dom.uuid).unwrap_or_else(|_| dom.clone());
            self.emit(
                handle,
                crate::driver::EventKind::JobCompleted(Box::new(done)),
            );
        }
    }

    /// [`Core::migrate_out`] under its job; whether the source keeps a
    /// definition (which `--undefine-source` then removes).
    fn migrate_in_job(
        &self,
        dom: &Domain,
        dest_uri: &str,
        options: &MigrateOptions,
        connect: PeerConnector,
        job: &AsyncJobGuard<'_>,
    ) -> Result<bool> {
        let options = options.clone();
        let run = self.running_in(dom, "migrate", &[DomainState::Running, DomainState::Paused])?;
        super::blockjobs::no_block_jobs(run.qmp()?, &dom.name)?;
        let persistent = self.with_entry(dom, |e| Ok(e.persistent.as_deref().cloned()))?;
        let def = match &options.dest_xml {
            Some(xml) => {
                let other = DomainDef::from_xml(xml)?;
                same_machine(&run.def, &other, "the destination's definition")?;
                other
            }
            None => migratable(&run.live_def(), &run.run_dir),
        };
        let (host, port) = stream_address(dest_uri, options.migrate_uri.as_deref())?;
        let dest = connect(dest_uri)?;
        let was_running = run.run_state().state == DomainState::Running;
        let mut record = MigrationRecord {
            dest_uri: dest_uri.to_string(),
            finishing: false,
            was_running,
        };
        write_record(&run, &record)?;
        super::faults::crash_point("migrate-recorded");
        let mut params = IncomingParams::new(def.to_xml());
        params.listen = Some(host.clone());
        params.port = port;
        // With a storage copy: each writable file disk, its node here and
        // its size, which the destination makes and exports.
        let nodes = if options.copy_storage_all {
            match storage_copy::top_nodes(run.qmp()?, &run.live_def()) {
                Ok(n) => n,
                Err(e) => {
                    let _ = crate::sys::fsutil::remove_runtime(&run.run_dir.join(MIGRATE_RECORD));
                    return Err(e);
                }
            }
        } else {
            Vec::new()
        };
        params.disks = nodes
            .iter()
            .map(|(target, _, size)| IncomingDisk::new(target.clone(), *size))
            .collect();
        let ready = match dest.migrate_incoming(params) {
            Ok(r) => r,
            Err(e) => {
                let _ = crate::sys::fsutil::remove_runtime(&run.run_dir.join(MIGRATE_RECORD));
                return Err(e);
            }
        };
        // The destination's lease on its copy: asked about every few
        // seconds until this ends (see `incoming`).
        let stop = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|s| {
            let beat = s.spawn(|| crate::driver::keep_lease(&*dest, dom.uuid, &stop));
            let result = (|| -> Result<bool> {
                let uri = if host.contains(':') {
                    format!("tcp:[{host}]:{}", ready.port)
                } else {
                    format!("tcp:{host}:{}", ready.port)
                };
                let mirrors = if nodes.is_empty() {
                    Ok(Vec::new())
                } else {
                    self.copy_storage(&run, &nodes, &host, ready.nbd_port, job)
                };
                let performed = mirrors.and_then(|mirrors| {
                    let result = self.perform(&run, &uri, &options, job, was_running, &mirrors);
                    if result.is_err()
                        && let Ok(qmp) = run.qmp()
                    {
                        storage_copy::cancel_mirrors(qmp, &mirrors);
                    }
                    result
                });
                let (switched, stopped) = match performed {
                    Ok(s) => s,
                    Err(e) => {
                        let _ = dest.migrate_abort_incoming(dom.uuid);
                        self.resume_after_failure(&run, was_running);
                        let _ =
                            crate::sys::fsutil::remove_runtime(&run.run_dir.join(MIGRATE_RECORD));
                        return Err(self.aborted_or(e, job, dom));
                    }
                };
                record.finishing = true;
                write_record(&run, &record)?;
                super::faults::crash_point("migrate-finishing");
                let persistent_xml = (options.persistent || persistent.is_some()).then(|| {
                    persistent
                        .as_ref()
                        .map_or_else(|| def.to_xml(), |p| p.to_xml())
                });
                let persistent_xml = if options.persistent {
                    persistent_xml
                } else {
                    None
                };
                let finished = dest.migrate_finish(dom.uuid, was_running, persistent_xml);
                // The destination answered that it runs the guest.
                if finished.is_ok()
                    && let Some(at) = stopped
                {
                    job.set_total_downtime(at.elapsed());
                }
                if let Err(e) = finished {
                    match dest.migrate_incoming_state(dom.uuid) {
                        Ok(IncomingState::Owned) => {}
                        Ok(state) => {
                            if state == IncomingState::Incoming {
                                let _ = dest.migrate_abort_incoming(dom.uuid);
                            }
                            self.resume_after_failure(&run, was_running);
                            let _ = crate::sys::fsutil::remove_runtime(
                                &run.run_dir.join(MIGRATE_RECORD),
                            );
                            return Err(e);
                        }
                        Err(asked) => {
                            return Err(Error::new(
                                e.code,
                                format!(
                                    "the migration of domain '{}' could not finish ({e}), and the destination cannot say whether it took the guest over ({asked}); the domain stays paused here so that it never runs twice: check {dest_uri}, then destroy the copy that should not run",
                                    dom.name
                                ),
                            ));
                        }
                    }
                }
                if switched == Switched::Postcopy {
                    // The destination runs the guest and pulls the pages
                    // it touches; the rest still flows from here.
                    self.log.info(&format!(
                        "domain '{}' switched to post-copy: it runs on {dest_uri} while the rest of its memory follows",
                        dom.name
                    ));
                    wait_postcopy(run.qmp()?, job)?;
                }
                self.log
                    .info(&format!("domain '{}' migrated to {dest_uri}", dom.name));
                self.stop_process(dom, &run, StateReason::Migrated)?;
                Ok(persistent.is_some())
            })();
            stop.store(true, std::sync::atomic::Ordering::SeqCst);
            // Woken at once: the migration is not held up by its sleep.
            beat.thread().unpark();
            result
        })
    }

    /// Mirrors the disks into the destination's NBD exports until each
    /// copy has caught up (the mirrors then keep it in step).
    fn copy_storage(
        &self,
        run: &Running,
        nodes: &[(String, String, u64)],
        host: &str,
        nbd_port: Option<u16>,
        job: &AsyncJobGuard<'_>,
    ) -> Result<Vec<storage_copy::Mirror>> {
        let port = nbd_port.ok_or_else(|| {
            Error::new(
                ErrorCode::NoSupport,
                "the destination manager offers no storage copy (no NBD port)",
            )
        })?;
        let qmp = run.qmp()?;
        let mirrors = storage_copy::start_mirrors(qmp, nodes, host, port)?;
        if let Err(e) = storage_copy::wait_ready(qmp, &mirrors, job) {
            storage_copy::cancel_mirrors(qmp, &mirrors);
            return Err(e);
        }
        Ok(mirrors)
    }

    /// Sends the memory stream to `uri` and waits for it to complete,
    /// publishing progress, honouring an abort and the timeout; at the
    /// switchover, the storage mirrors complete first.
    pub(super) fn perform(
        &self,
        run: &Running,
        uri: &str,
        options: &MigrateOptions,
        job: &AsyncJobGuard<'_>,
        was_running: bool,
        mirrors: &[storage_copy::Mirror],
    ) -> Result<(Switched, Option<Instant>)> {
        let qmp = run.qmp()?;
        qmp.execute(
            "migrate-set-capabilities",
            Some(json!({"capabilities": [
                {"capability": "events", "state": true},
                {"capability": "pause-before-switchover", "state": true},
                {"capability": "postcopy-ram", "state": options.postcopy || options.timeout_postcopy},
            ]})),
            QMP_TIMEOUT,
        )?;
        let bandwidth = options
            .bandwidth_mib_s
            .map_or(i64::MAX, |m| (m as i64).saturating_mul(1 << 20));
        qmp.execute(
            "migrate-set-parameters",
            Some(json!({"max-bandwidth": bandwidth})),
            QMP_TIMEOUT,
        )?;
        let mut stopped = None;
        if !options.live && was_running {
            run.ask(Request::Suspend)?;
            stopped = Some(Instant::now());
        }
        if options.timeout_postcopy && options.timeout.is_none() {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                "--timeout-postcopy says what --timeout does: give --timeout too",
            ));
        }
        qmp.execute("migrate", Some(json!({"uri": uri})), QMP_TIMEOUT)?;
        super::faults::crash_point("migrate-performing");
        let switched = wait_outgoing(qmp, run, options, job, mirrors, &mut stopped)?;
        Ok((switched, stopped.filter(|_| was_running)))
    }

    /// After a failed migration the guest runs here again as it did.
    pub(super) fn resume_after_failure(&self, run: &Running, was_running: bool) {
        if let Ok(qmp) = run.qmp() {
            let _ = qmp.execute("migrate_cancel", None, QMP_TIMEOUT);
        }
        if was_running
            && run.run_state().state == DomainState::Paused
            && let Err(e) = run.ask(Request::Resume)
        {
            self.log.error(&format!(
                "domain '{}': cannot resume it after the failed migration: {e}",
                run.def.name
            ));
        }
    }

    /// `e`, or `OperationAborted` when the job was aborted (a
    /// `job_abort` or a destroy).
    pub(super) fn aborted_or(&self, e: Error, job: &AsyncJobGuard<'_>, dom: &Domain) -> Error {
        if job.aborted() && e.code != ErrorCode::OperationAborted {
            Error::new(
                ErrorCode::OperationAborted,
                format!("the migration of domain '{}' was aborted: {e}", dom.name),
            )
        } else {
            e
        }
    }

    /// Resolves the migration a killed manager left recorded for the
    /// running domain `dom` (see the module's documentation): finished
    /// there, the QEMU here is stopped; not finished, it is cancelled and
    /// the guest resumed here, unless the finish was asked for and the
    /// destination cannot say, in which case the guest stays paused.
    pub(crate) fn settle_migration(&self, dom: &Domain, run: &Running) {
        let file = run.run_dir.join(MIGRATE_RECORD);
        let Ok(bytes) = std::fs::read(&file) else {
            return;
        };
        let Ok(record) = serde_json::from_slice::<MigrationRecord>(&bytes) else {
            self.log.error(&format!(
                "domain '{}': {} is damaged",
                dom.name,
                file.display()
            ));
            return;
        };
        let state = self
            .peers()
            .and_then(|connect| connect(&record.dest_uri))
            .and_then(|dest| {
                let state = dest.migrate_incoming_state(dom.uuid)?;
                if state == IncomingState::Incoming {
                    let _ = dest.migrate_abort_incoming(dom.uuid);
                }
                Ok(state)
            });
        match state {
            Ok(IncomingState::Owned) => {
                self.log.warn(&format!(
                    "domain '{}': its migration to {} finished while no manager watched; stopping the copy here",
                    dom.name, record.dest_uri
                ));
                if let Err(e) = self.stop_process(dom, run, StateReason::Migrated) {
                    self.log.error(&format!("domain '{}': {e}", dom.name));
                }
            }
            Ok(IncomingState::Absent) if record.finishing => self.log.error(&format!(
                "domain '{}': its migration to {} was finishing, and the destination no longer has it; the domain stays paused here: check the destination, then resume or destroy it",
                dom.name, record.dest_uri
            )),
            Ok(_) => {
                self.log.warn(&format!(
                    "domain '{}': its migration to {} was cut off; the guest runs here again",
                    dom.name, record.dest_uri
                ));
                self.resume_after_failure(run, record.was_running);
                let _ = crate::sys::fsutil::remove_runtime(&file);
            }
            Err(e) if record.finishing => self.log.error(&format!(
                "domain '{}': its migration to {} was finishing and the destination cannot be asked ({e}); the domain stays paused here so that it never runs twice",
                dom.name, record.dest_uri
            )),
            Err(e) => {
                self.log.warn(&format!(
                    "domain '{}': its migration to {} was cut off before it could finish (the destination: {e}); the guest runs here again",
                    dom.name, record.dest_uri
                ));
                self.resume_after_failure(run, record.was_running);
                let _ = crate::sys::fsutil::remove_runtime(&file);
            }
        }
    }
}

/// Writes the migration record durably.
pub(super) fn write_record(run: &Running, record: &MigrationRecord) -> Result<()> {
    let bytes = serde_json::to_vec(record)
        .map_err(|e| Error::new(ErrorCode::Internal, format!("cannot encode a record: {e}")))?;
    crate::sys::fsutil::write_atomic(&run.run_dir.join(MIGRATE_RECORD), &bytes)
}

/// How an outgoing migration handed the guest over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Switched {
    /// The whole state arrived: the migration is complete.
    Completed,
    /// Post-copy: the destination has the devices and may run the guest
    /// while its memory still flows ([`wait_postcopy`] waits for the
    /// rest); the guest here must never run again.
    Postcopy,
}

/// Waits for an outgoing migration: progress into `job`, the switchover
/// let through at `pre-switchover`, an abort cancels, and the timeout
/// suspends the guest so the copy converges, or with `timeout_postcopy`
/// switches to post-copy (returning as soon as it has). `stopped` is set
/// to when the guest stopped running here: the suspend, or QEMU's pause
/// for the switchover.
fn wait_outgoing(
    qmp: &Qmp,
    run: &Running,
    options: &MigrateOptions,
    job: &AsyncJobGuard<'_>,
    mirrors: &[storage_copy::Mirror],
    stopped: &mut Option<Instant>,
) -> Result<Switched> {
    let started = Instant::now();
    let mut last_move = Instant::now();
    let mut moved = 0;
    let mut cancelled = false;
    let mut suspended = false;
    // `query-migrate` may say pre-switchover once more after the continue
    // was sent: the switchover is let through once.
    let mut continued = false;
    let mut pause = super::jobs::QemuPoll::new(Duration::from_micros(500));
    loop {
        if job.aborted() && !cancelled {
            qmp.execute("migrate_cancel", None, QMP_TIMEOUT)?;
            cancelled = true;
        }
        if let Some(after) = options.timeout
            && !suspended
            && !cancelled
            && started.elapsed() >= after
        {
            if options.timeout_postcopy {
                // QEMU stops the guest here and hands its devices over;
                // the destination then pulls the pages it touches.
                qmp.execute("migrate-start-postcopy", None, QMP_TIMEOUT)?;
            } else if run.run_state().state == DomainState::Running {
                run.ask(Request::Suspend)?;
                stopped.get_or_insert_with(Instant::now);
            }
            suspended = true;
        }
        let info = qmp.execute("query-migrate", None, QMP_TIMEOUT)?;
        let transferred = migration_progress(Some(job), &info);
        // A stream that stops moving (the network cut, the destination
        // gone) would hang QEMU until TCP gives up, minutes later.
        if transferred != moved {
            moved = transferred;
            last_move = Instant::now();
        } else if last_move.elapsed() > STALLED && !cancelled {
            qmp.execute("migrate_cancel", None, QMP_TIMEOUT)?;
            return Err(Error::new(
                ErrorCode::OperationFailed,
                format!(
                    "the migration stream moved nothing for {} s (is the destination reachable?); cancelled",
                    STALLED.as_secs()
                ),
            ));
        }
        match info.get("status").and_then(Value::as_str) {
            Some("completed") => {
                // QEMU's own measure: from the source's stop to the
                // destination's start.
                if let Some(ms) = info.get("downtime").and_then(Value::as_u64) {
                    job.set_downtime(Duration::from_millis(ms));
                }
                return Ok(Switched::Completed);
            }
            Some("postcopy-active") if !cancelled => return Ok(Switched::Postcopy),
            Some("pre-switchover") if !cancelled && !continued => {
                continued = true;
                stopped.get_or_insert_with(Instant::now);
                // The guest is paused: the mirrors' last writes land, and
                // the copy there is the disk as the guest left it.
                storage_copy::complete_mirrors(qmp, mirrors)?;
                qmp.execute(
                    "migrate-continue",
                    Some(json!({"state": "pre-switchover"})),
                    QMP_TIMEOUT,
                )?;
            }
            Some("cancelled") if cancelled => {
                return Err(Error::new(
                    ErrorCode::OperationAborted,
                    "the migration was aborted on request",
                ));
            }
            Some("failed") | Some("cancelled") => {
                let why = info
                    .get("error-desc")
                    .and_then(Value::as_str)
                    .unwrap_or("no reason given");
                return Err(Error::new(
                    ErrorCode::OperationFailed,
                    format!("QEMU could not migrate the domain: {why}"),
                ));
            }
            _ => {}
        }
        pause.sleep();
    }
}

/// After the switch to post-copy: waits until the source has sent the
/// rest of the guest's memory. Nothing can be cancelled any more (the
/// destination runs the guest), and a stream that breaks now leaves the
/// guest without part of its memory there: the error says so.
fn wait_postcopy(qmp: &Qmp, job: &AsyncJobGuard<'_>) -> Result<()> {
    let mut pause = super::jobs::QemuPoll::new(Duration::from_micros(500));
    loop {
        let info = qmp.execute("query-migrate", None, QMP_TIMEOUT)?;
        migration_progress(Some(job), &info);
        match info.get("status").and_then(Value::as_str) {
            Some("completed") => {
                if let Some(ms) = info.get("downtime").and_then(Value::as_u64) {
                    job.set_downtime(Duration::from_millis(ms));
                }
                return Ok(());
            }
            Some("postcopy-active") => {}
            other => {
                return Err(Error::new(
                    ErrorCode::OperationFailed,
                    format!(
                        "the post-copy migration broke ({}): the guest runs on the destination without all of its memory, and stays paused here; destroy the copy that should not run",
                        other.unwrap_or("no status")
                    ),
                ));
            }
        }
        pause.sleep();
    }
}

/// The definition a destination starts from: the live one without what
/// is this host's alone (pty paths, autoport ports, sockets in the run
/// directory `run_dir`).
pub(super) fn migratable(live: &DomainDef, run_dir: &std::path::Path) -> DomainDef {
    let mut def = live.clone();
    super::migratable::forget_run_paths(&mut def, run_dir);
    for c in def
        .devices
        .serials
        .iter_mut()
        .chain(def.devices.consoles.iter_mut())
    {
        if let CharSource::Pty { path } = &mut c.source {
            *path = None;
        }
    }
    for g in &mut def.devices.graphics {
        if g.wants_autoport() {
            g.port = None;
        }
    }
    def
}

/// Checks that `other` (a migration's `--xml`, a save image's new
/// definition; `which` in errors) describes the same machine as `live`:
/// the same identity, memory, vCPUs and devices, where only paths and
/// host-side details may differ.
pub(super) fn same_machine(live: &DomainDef, other: &DomainDef, which: &str) -> Result<()> {
    let differ = |what: &str| {
        Err(Error::new(
            ErrorCode::InvalidArgument,
            format!("{which} describes another machine: its {what} differs"),
        ))
    };
    if live.uuid != other.uuid || live.name != other.name {
        return differ("name or UUID");
    }
    if live.memory_kib != other.memory_kib || live.vcpu.max != other.vcpu.max {
        return differ("memory or vCPU count");
    }
    let targets = |d: &DomainDef| -> Vec<String> {
        d.devices.disks.iter().map(|x| x.target.clone()).collect()
    };
    if targets(live) != targets(other) {
        return differ("set of disks");
    }
    if live.devices.interfaces.len() != other.devices.interfaces.len() {
        return differ("set of network interfaces");
    }
    if live.os.machine.is_some()
        && other.os.machine.is_some()
        && live.os.machine != other.os.machine
    {
        return differ("machine type");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_where_the_stream_goes() {
        let local = "qemu+unix:///session?socket=/tmp/b/run/qvirt-sock";
        assert_eq!(
            stream_address(local, None).unwrap(),
            ("127.0.0.1".into(), None)
        );
        assert_eq!(
            stream_address("qemu+ssh://tester@10.0.3.2/system", None).unwrap(),
            ("10.0.3.2".into(), None)
        );
        assert_eq!(
            stream_address("qemu+ssh://host.example:2222/system", None).unwrap(),
            ("host.example".into(), None)
        );
        assert_eq!(
            stream_address(local, Some("tcp://10.1.1.2:49200")).unwrap(),
            ("10.1.1.2".into(), Some(49200))
        );
        assert_eq!(
            stream_address(local, Some("tcp:[fd00::2]:49201")).unwrap(),
            ("fd00::2".into(), Some(49201))
        );
        assert_eq!(
            stream_address(local, Some("tcp://10.1.1.2")).unwrap(),
            ("10.1.1.2".into(), None)
        );
        assert!(stream_address(local, Some("rdma://x")).is_err());
    }
}
