//! The destination's half of a live migration, which the source manager
//! drives: prepare (QEMU waiting for the stream, the domain paused and
//! marked incoming), finish (the commit: the guest is this manager's
//! from then on), abort, and what this manager holds of a domain.
//!
//! Never two copies: until the finish, a record in the runtime directory
//! (`incoming.json`, written before QEMU starts) says the guest is still
//! the source's. Nothing resumes an incoming domain, and a manager that
//! finds the record after a restart stops that QEMU. The finish removes
//! the record (durably) before the vCPUs run: that removal is the moment
//! the guest changes hands, and the source asks about it
//! ([`IncomingState`]) whenever it did not hear the answer.
//!
//! An incoming copy is leased to its source: the source manager asks
//! about it ([`IncomingState`]) every few seconds while it migrates, and
//! a copy not asked about for [`LEASE`] (the network between the two
//! managers cut, the source manager gone) is given up here on its own.
//! Giving up is always safe before the commit: the source resumes its
//! guest when the finish fails.

use std::net::{Ipv4Addr, TcpListener};
use std::sync::atomic::Ordering;

use uuid::Uuid;

use super::driver::{Core, lock};
use super::jobs::SyncKind;
use super::requests::Request;
use super::storage_copy;
use crate::driver::{
    CompletedJob, Domain, DomainState, IncomingParams, IncomingReady, IncomingState, JobInfo,
    JobKind, JobOutcome, StateReason,
};
use crate::error::{Error, ErrorCode, Result};
use crate::model::DomainDef;
use crate::qemu::qmp::QMP_TIMEOUT;

/// The record of an unfinished incoming migration in a runtime directory.
pub(crate) const INCOMING_RECORD: &str = "incoming.json";

/// How long a finish waits for the last of the state to be loaded.
const ARRIVAL: std::time::Duration = std::time::Duration::from_secs(30);

/// How long an incoming copy waits without word from its source
/// manager before it is given up.
pub(crate) const LEASE: std::time::Duration = crate::driver::INCOMING_LEASE;

/// The ports an incoming migration listens on, as libvirt's
/// `migration_port_min`/`max`.
const PORTS: std::ops::RangeInclusive<u16> = 49152..=49215;

impl Core {
    /// [`crate::Driver::migrate_incoming`].
    pub(crate) fn incoming_prepare(&self, params: IncomingParams) -> Result<IncomingReady> {
        let def = DomainDef::from_xml(&params.xml)?;
        let listen = params.listen.as_deref().unwrap_or("0.0.0.0").to_string();
        let port = match params.port {
            Some(p) => p,
            None => free_port(&listen, None)?,
        };
        let host = if listen.contains(':') {
            format!("[{listen}]")
        } else {
            listen.clone()
        };
        let uri = format!("tcp:{host}:{port}");
        {
            // A domain of this UUID defined here must be shut off; one
            // running here is a clash, whatever its name.
            let inner = lock(&self.inner);
            if let Some(e) = inner.entries.get(&def.uuid) {
                if e.running.is_some() {
                    return Err(Error::new(
                        ErrorCode::DomainExists,
                        format!(
                            "domain '{}' (UUID {}) already runs on the destination",
                            e.def().name,
                            def.uuid
                        ),
                    ));
                }
                if e.def().name != def.name {
                    return Err(super::store::conflict(&def, &e.def().name, def.uuid));
                }
            }
        }
        // A storage copy: the disks made here before QEMU opens them, and
        // a port of their own for the NBD exports.
        let (created, nbd_port) = if params.disks.is_empty() {
            (Vec::new(), None)
        } else {
            let created = storage_copy::prepare_disks(&def, &params.disks)?;
            match free_port(&listen, Some(port)) {
                Ok(p) => (created, Some(p)),
                Err(e) => {
                    storage_copy::remove_created(&created);
                    return Err(e);
                }
            }
        };
        let record = serde_json::to_vec(&IncomingRecord {
            uri: uri.clone(),
            created: created.clone(),
        })
        .unwrap_or_default();
        let defined = lock(&self.inner).entries.contains_key(&def.uuid);
        let started = if defined {
            self.incoming_into_defined(def.clone(), uri, record)
        } else {
            self.create_transient(
                def.clone(),
                StateReason::Migrating,
                true,
                None,
                Some((uri, (INCOMING_RECORD, record))),
            )
        };
        let dom = match started {
            Ok(dom) => dom,
            Err(e) => {
                storage_copy::remove_created(&created);
                return Err(e);
            }
        };
        if let Some(nbd) = nbd_port {
            let exported = self
                .with_entry(&dom, |e| Ok(e.running.clone()))
                .and_then(|run| {
                    let run = run.ok_or_else(|| {
                        Error::new(
                            ErrorCode::OperationFailed,
                            format!("the incoming QEMU of domain '{}' ended at once", dom.name),
                        )
                    })?;
                    storage_copy::export_disks(run.qmp()?, &run.def, &params.disks, &listen, nbd)
                });
            if let Err(e) = exported {
                let _ = self.incoming_abort(dom.uuid);
                return Err(e);
            }
        }
        if let Ok(Some(run)) = self.with_entry(&dom, |e| Ok(e.running.clone())) {
            self.watch_lease(dom.uuid, &run);
        }
        self.log.info(&format!(
            "domain '{}' waits for an incoming migration on port {port}{}",
            dom.name,
            nbd_port.map_or(String::new(), |p| format!(", its disks on NBD port {p}"))
        ));
        Ok(IncomingReady::new(port, nbd_port))
    }

    /// Starts an incoming QEMU for a domain defined here (shut off).
    fn incoming_into_defined(
        &self,
        def: DomainDef,
        uri: String,
        record: Vec<u8>,
    ) -> Result<Domain> {
        let dom = Domain {
            name: def.name.clone(),
            uuid: def.uuid,
            id: None,
        };
        let jobs = self.jobs(&dom)?;
        let _job = jobs.begin(SyncKind::Modify, &dom.name)?;
        if let Some(state) = self.with_entry(&dom, |e| {
            Ok(e.running.as_ref().map(|r| r.run_state().state))
        })? {
            return Err(Core::wrong_state(&dom, "receive a migration into", state));
        }
        let id = self.next_id();
        let (run, link) = self.launch(
            def,
            id,
            super::launch::LaunchOptions {
                persistent: true,
                incoming: None,
                paused: true,
                reason: StateReason::Migrating,
                consume: None,
                job: None,
                listen: Some(uri),
                marker: Some((INCOMING_RECORD, record)),
            },
        )?;
        self.register(dom.uuid, &run, link, StateReason::Migrating)
    }

    /// [`crate::Driver::migrate_finish`]: checks the stream is complete,
    /// removes the incoming record (the commit), then defines and resumes
    /// the domain as asked.
    pub(crate) fn incoming_finish(
        &self,
        uuid: Uuid,
        resume: bool,
        persistent_xml: Option<String>,
    ) -> Result<Domain> {
        let dom = self.lookup_uuid(uuid)?;
        let jobs = self.jobs(&dom)?;
        let _job = jobs.begin(SyncKind::Modify, &dom.name)?;
        let run = self.running_in(&dom, "finish the migration of", &[DomainState::Paused])?;
        if !run.incoming.load(Ordering::SeqCst) {
            return Err(Error::new(
                ErrorCode::OperationInvalid,
                format!("domain '{}' is not being migrated here", dom.name),
            ));
        }
        *crate::sys::sync::lock(&run.contact) = std::time::Instant::now();
        // The source's side completes a moment before this side has
        // loaded the last of the state.
        let qmp = run.qmp()?;
        let deadline = std::time::Instant::now() + ARRIVAL;
        loop {
            let status = qmp.execute("query-migrate", None, QMP_TIMEOUT)?;
            let now = status
                .get("status")
                .and_then(|s| s.as_str())
                .unwrap_or("nothing")
                .to_string();
            // In post-copy the devices are here and the guest may run
            // while the rest of its memory arrives.
            if now == "completed" || now == "postcopy-active" {
                break;
            }
            if matches!(now.as_str(), "failed" | "cancelled")
                || std::time::Instant::now() >= deadline
            {
                return Err(Error::new(
                    ErrorCode::OperationFailed,
                    format!(
                        "the migration of domain '{}' has not arrived whole (QEMU says {now})",
                        dom.name
                    ),
                ));
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        // The storage copy, if any, is over: the mirrors completed before
        // the source let the switchover through.
        storage_copy::stop_exports(qmp);
        // This side's record (`domjobinfo --completed` here): from the
        // prepare, whose record is about to go, to now.
        let since = std::fs::metadata(run.run_dir.join(INCOMING_RECORD))
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok());
        // The commit: from here on the guest is this manager's.
        crate::sys::fsutil::remove_durable(&run.run_dir.join(INCOMING_RECORD))?;
        run.incoming.store(false, Ordering::SeqCst);
        super::faults::crash_point("incoming-committed");
        // QEMU's incoming side counts no bytes: the length only.
        let mut info = JobInfo::new(JobKind::IncomingMigration);
        info.elapsed = since.unwrap_or_default();
        jobs.record_completed(CompletedJob::new(JobOutcome::Completed, info, None));
        if let Some(xml) = persistent_xml
            && let Err(e) = self.define(&xml)
        {
            self.log.error(&format!(
                "domain '{}' migrated, but its definition could not be kept: {e}",
                dom.name
            ));
        }
        if resume {
            run.ask(Request::Resume)?;
        } else {
            self.save_status(uuid, &run);
        }
        self.log.info(&format!(
            "domain '{}' migrated in (id {})",
            dom.name, run.id
        ));
        self.tell_job_completed(&dom, &jobs);
        self.lookup_uuid(uuid)
    }

    /// [`crate::Driver::migrate_abort_incoming`].
    pub(crate) fn incoming_abort(&self, uuid: Uuid) -> Result<()> {
        let dom = self.lookup_uuid(uuid)?;
        let jobs = self.jobs(&dom)?;
        let _job = jobs.begin(SyncKind::Destroy, &dom.name)?;
        let run = self.running_in(
            &dom,
            "abort the migration of",
            &[DomainState::Paused, DomainState::Running],
        )?;
        if !run.incoming.load(Ordering::SeqCst) {
            return Err(Error::new(
                ErrorCode::OperationInvalid,
                format!(
                    "the migration of domain '{}' has finished here; it is this host's now",
                    dom.name
                ),
            ));
        }
        self.log.warn(&format!(
            "domain '{}': the incoming migration is given up",
            dom.name
        ));
        let created = read_record(&run.run_dir)
            .map(|r| r.created)
            .unwrap_or_default();
        self.stop_process(&dom, &run, StateReason::Failed)?;
        // Disks made for a storage copy that did not happen go too.
        storage_copy::remove_created(&created);
        Ok(())
    }

    /// [`crate::Driver::migrate_incoming_state`].
    pub(crate) fn incoming_state(&self, uuid: Uuid) -> Result<IncomingState> {
        let inner = lock(&self.inner);
        Ok(
            match inner.entries.get(&uuid).and_then(|e| e.running.as_ref()) {
                None => IncomingState::Absent,
                Some(run) if run.incoming.load(Ordering::SeqCst) => {
                    // The source asks while it migrates: the lease goes on.
                    *crate::sys::sync::lock(&run.contact) = std::time::Instant::now();
                    IncomingState::Incoming
                }
                Some(_) => IncomingState::Owned,
            },
        )
    }
}

impl Core {
    /// Gives the incoming copy `run` of domain `uuid` up once its source
    /// manager has not asked about it for [`LEASE`] (see the module's
    /// documentation); the watch ends with the commit or the run.
    fn watch_lease(&self, uuid: Uuid, run: &std::sync::Arc<super::runtime::Running>) {
        let core = self.me.clone();
        let run = std::sync::Arc::downgrade(run);
        self.spawn("incoming-lease", move || {
            loop {
                std::thread::sleep(std::time::Duration::from_millis(250));
                let (Some(core), Some(run)) = (core.upgrade(), run.upgrade()) else {
                    return;
                };
                if core.closing.load(Ordering::SeqCst) || !run.incoming.load(Ordering::SeqCst) {
                    return;
                }
                let quiet = crate::sys::sync::lock(&run.contact).elapsed();
                if quiet < LEASE {
                    continue;
                }
                core.log.warn(&format!(
                    "domain '{}': no word from the source manager for {} s; its incoming migration is given up",
                    run.def.name,
                    quiet.as_secs()
                ));
                // Under the domain's job: a finish that got there first
                // has committed, and the copy stays.
                if let Err(e) = core.incoming_abort(uuid) {
                    core.log.info(&format!("domain '{}': {e}", run.def.name));
                }
                return;
            }
        });
    }
}

/// What `incoming.json` holds: the stream's URI and the disks made here
/// for a storage copy (removed if the migration is given up).
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct IncomingRecord {
    uri: String,
    #[serde(default)]
    created: Vec<String>,
}

/// The disks an unfinished incoming storage copy made in `run_dir`'s
/// domain (to remove when the migration is given up).
pub(crate) fn created_disks(run_dir: &std::path::Path) -> Vec<String> {
    read_record(run_dir).map(|r| r.created).unwrap_or_default()
}

/// Reads the incoming record of a runtime directory.
fn read_record(run_dir: &std::path::Path) -> Option<IncomingRecord> {
    let bytes = std::fs::read(run_dir.join(INCOMING_RECORD)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// The first port of [`PORTS`] that can be bound on `addr` (other than
/// `not`).
fn free_port(addr: &str, not: Option<u16>) -> Result<u16> {
    let ip: std::net::IpAddr = addr.parse().unwrap_or(Ipv4Addr::UNSPECIFIED.into());
    PORTS
        .clone()
        .filter(|p| Some(*p) != not)
        .find(|p| TcpListener::bind((ip, *p)).is_ok())
        .ok_or_else(|| {
            Error::new(
                ErrorCode::ResourceBusy,
                format!(
                    "no free migration port from {} to {} on {addr}",
                    PORTS.start(),
                    PORTS.end()
                ),
            )
        })
}
