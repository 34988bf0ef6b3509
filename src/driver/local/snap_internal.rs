//! Internal snapshots: tags inside qcow2 images. A running domain's are
//! taken, loaded and deleted by QEMU's own jobs (`snapshot-save`,
//! `snapshot-load`, `snapshot-delete`, QEMU 6.0 and later: checked with
//! `query-commands`), the guest's memory and devices going into the first
//! disk; a shut-off domain's by `qemu-img snapshot`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use uuid::Uuid;

use super::driver::Core;
use super::faults::crash_point;
use super::jobs::AsyncJobGuard;
use super::requests::Request;
use super::runtime::Running;
use super::snapmeta::Pending;
use super::snapshots::Plan;
use crate::driver::{Domain, DomainState, SnapshotRevertFlags};
use crate::error::{Error, ErrorCode, Result};
use crate::model::{SnapshotDef, SnapshotLocation, SnapshotState};
use crate::qemu::img::{self, SnapshotOp};
use crate::qemu::qmp::{QMP_TIMEOUT, Qmp};

/// How long a snapshot job may go without finishing before it is given
/// up (a large guest's memory to a slow disk takes a while).
const JOB_LIMIT: Duration = Duration::from_secs(3600);

/// Refuses when the domain's QEMU lacks QMP command `cmd`.
pub(crate) fn require_command(qmp: &Qmp, cmd: &str, what: &str) -> Result<()> {
    if qmp.has_command(cmd)? {
        Ok(())
    } else {
        Err(Error::new(
            ErrorCode::NoSupport,
            format!(
                "this QEMU ({}) has no {cmd} command (QEMU 6.0 and later do): cannot {what}",
                qmp.version()
            ),
        ))
    }
}

/// The qcow2 (format) node QEMU opened for the image `path`, with the
/// internal snapshots it holds.
pub(crate) fn node_of(qmp: &Qmp, path: &Path) -> Result<(String, Vec<String>)> {
    let nodes = qmp.execute(
        "query-named-block-nodes",
        Some(json!({"flat": true})),
        QMP_TIMEOUT,
    )?;
    let want = path.to_string_lossy();
    nodes
        .as_array()
        .into_iter()
        .flatten()
        .find(|n| {
            n.get("drv").and_then(Value::as_str) == Some("qcow2")
                && n.get("file").and_then(Value::as_str) == Some(want.as_ref())
        })
        .and_then(|n| {
            let name = n.get("node-name")?.as_str()?.to_string();
            let tags = n
                .get("image")
                .and_then(|i| i.get("snapshots"))
                .and_then(Value::as_array)
                .map(|l| {
                    l.iter()
                        .filter_map(|s| s.get("name").and_then(Value::as_str).map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            Some((name, tags))
        })
        .ok_or_else(|| {
            Error::new(
                ErrorCode::OperationFailed,
                format!("the domain's QEMU has no qcow2 image {want} open"),
            )
        })
}

/// A job id no other job of this QEMU has.
pub(crate) fn job_id(what: &str) -> String {
    format!("qvirt-{what}-{}", &Uuid::new_v4().simple().to_string()[..8])
}

/// QEMU's entry for job `id` (running, or concluded and not yet
/// dismissed), if it lists one.
fn listed_job(qmp: &Qmp, id: &str) -> Result<Option<Value>> {
    let jobs = qmp.execute("query-jobs", None, QMP_TIMEOUT)?;
    Ok(jobs
        .as_array()
        .into_iter()
        .flatten()
        .find(|j| j.get("id").and_then(Value::as_str) == Some(id))
        .cloned())
}

/// Waits for QEMU job `id` to conclude, publishing its progress to `job`
/// and asking QEMU to cancel it when someone aborts `job`; dismisses it.
/// `what` names it for errors.
pub(crate) fn wait_qemu_job(
    qmp: &Qmp,
    id: &str,
    job: Option<&AsyncJobGuard<'_>>,
    what: &str,
) -> Result<()> {
    let deadline = Instant::now() + JOB_LIMIT;
    let mut pause = super::jobs::QemuPoll::new(Duration::from_micros(200));
    let mut cancelled = false;
    loop {
        if let Some(job) = job
            && job.aborted()
            && !cancelled
        {
            // Snapshot jobs may refuse to stop midway; the caller undoes
            // what they did once they are over.
            let _ = qmp.execute("job-cancel", Some(json!({"id": id})), QMP_TIMEOUT);
            cancelled = true;
        }
        let Some(j) = listed_job(qmp, id)? else {
            return Err(Error::new(
                ErrorCode::OperationFailed,
                format!("QEMU lost its job to {what}"),
            ));
        };
        let current = j
            .get("current-progress")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        let total = j.get("total-progress").and_then(Value::as_u64).unwrap_or(0);
        if let Some(job) = job {
            job.progress(|p| {
                p.data_total = total;
                p.data_processed = current;
                p.data_remaining = total.saturating_sub(current);
            });
        }
        if j.get("status").and_then(Value::as_str) == Some("concluded") {
            let error = j.get("error").and_then(Value::as_str).map(str::to_string);
            let _ = qmp.execute("job-dismiss", Some(json!({"id": id})), QMP_TIMEOUT);
            return match error {
                Some(e) => Err(Error::new(
                    ErrorCode::OperationFailed,
                    format!("QEMU could not {what}: {e}"),
                )),
                None => Ok(()),
            };
        }
        if Instant::now() >= deadline {
            return Err(Error::new(
                ErrorCode::Timeout,
                format!("QEMU's job to {what} did not finish within {JOB_LIMIT:?}"),
            ));
        }
        pause.sleep();
    }
}

/// The error for a job stopped by an abort (or a destroy).
fn aborted(dom: &Domain, what: &str) -> Error {
    Error::new(
        ErrorCode::OperationAborted,
        format!(
            "the {what} of domain '{}' was aborted (by a destroy or a job abort); nothing was kept",
            dom.name
        ),
    )
}

impl Core {
    /// Takes an internal snapshot of a running or paused domain.
    pub(crate) fn internal_live(
        &self,
        dom: &Domain,
        run: &Running,
        plan: &Plan,
        job: &AsyncJobGuard<'_>,
    ) -> Result<()> {
        let qmp = run.qmp()?;
        require_command(
            qmp,
            "snapshot-save",
            "take internal snapshots of a running domain",
        )?;
        let mut nodes = Vec::new();
        for d in &plan.disks {
            nodes.push(node_of(qmp, &d.path)?.0);
        }
        let id = job_id("snapshot");
        let pending = Pending::of(plan, Some(id.clone()));
        self.write_pending(&dom.uuid, &pending)?;
        crash_point("snapshot-pending");
        let was_running = run.run_state().state == DomainState::Running;
        let started = if job.aborted() {
            Err(aborted(dom, "snapshot"))
        } else {
            qmp.execute(
                "snapshot-save",
                Some(
                    json!({"job-id": id, "tag": plan.name, "vmstate": nodes[0], "devices": nodes}),
                ),
                QMP_TIMEOUT,
            )
            .map(drop)
        };
        crash_point("snapshot-started");
        let result = started.and_then(|()| wait_qemu_job(qmp, &id, Some(job), "take the snapshot"));
        // QEMU stopped the vCPUs while it saved and started them again:
        // the monitor handles those events before this answer comes.
        if was_running {
            let _ = run.ask(Request::Resume);
        }
        if result.is_ok() && !job.aborted() {
            crash_point("snapshot-taken");
            return self.finish_snapshot(&dom.uuid, &plan.def);
        }
        // Failed or aborted: no tag may stay behind.
        let _ = self.delete_tags_live(qmp, &plan.name, plan.disks.iter().map(|d| d.path.clone()));
        self.clear_pending(&dom.uuid);
        match result {
            Err(e) if !job.aborted() => Err(e),
            _ => Err(aborted(dom, "snapshot")),
        }
    }

    /// Takes an internal snapshot of a shut-off domain with qemu-img.
    pub(crate) fn internal_offline(
        &self,
        dom: &Domain,
        plan: &Plan,
        job: &AsyncJobGuard<'_>,
    ) -> Result<()> {
        let pending = Pending::of(plan, None);
        self.write_pending(&dom.uuid, &pending)?;
        crash_point("snapshot-pending");
        let mut done: Vec<PathBuf> = Vec::new();
        for d in &plan.disks {
            let step = if job.aborted() {
                Err(aborted(dom, "snapshot"))
            } else {
                img::snapshot(&d.path, SnapshotOp::Create, &plan.name)
            };
            if let Err(e) = step {
                for p in &done {
                    let _ = img::snapshot(p, SnapshotOp::Delete, &plan.name);
                }
                self.clear_pending(&dom.uuid);
                return Err(e);
            }
            done.push(d.path.clone());
            crash_point("snapshot-started");
        }
        crash_point("snapshot-taken");
        self.finish_snapshot(&dom.uuid, &plan.def)
    }

    /// Deletes tag `name` from the images `paths` a running QEMU has open
    /// (those that hold it).
    fn delete_tags_live(
        &self,
        qmp: &Qmp,
        name: &str,
        paths: impl Iterator<Item = PathBuf>,
    ) -> Result<()> {
        let mut nodes = Vec::new();
        for p in paths {
            let (node, tags) = node_of(qmp, &p)?;
            if tags.iter().any(|t| t == name) {
                nodes.push(node);
            }
        }
        if nodes.is_empty() {
            return Ok(());
        }
        require_command(
            qmp,
            "snapshot-delete",
            "delete internal snapshots of a running domain",
        )?;
        let id = job_id("snapdel");
        qmp.execute(
            "snapshot-delete",
            Some(json!({"job-id": id, "tag": name, "devices": nodes})),
            QMP_TIMEOUT,
        )?;
        wait_qemu_job(qmp, &id, None, "delete the snapshot")
    }

    /// The images of an internal snapshot's disks, from its record.
    fn internal_images(&self, snap: &SnapshotDef) -> Result<Vec<(String, PathBuf)>> {
        let def = snap.domain.as_ref().ok_or_else(|| {
            Error::new(ErrorCode::Internal, "a snapshot record without its domain")
        })?;
        let mut out = Vec::new();
        for d in &snap.disks {
            if d.location != Some(SnapshotLocation::Internal) {
                continue;
            }
            let disk = def
                .devices
                .disks
                .iter()
                .find(|x| x.target == d.name)
                .ok_or_else(|| {
                    Error::new(
                        ErrorCode::ConfigInvalid,
                        format!("the snapshot's disk {} is not in its domain", d.name),
                    )
                })?;
            let path = self.disk_path(disk).ok_or_else(|| {
                Error::new(
                    ErrorCode::OperationInvalid,
                    format!(
                        "the image of disk {} cannot be found (is its storage pool running?)",
                        d.name
                    ),
                )
            })?;
            out.push((d.name.clone(), path));
        }
        Ok(out)
    }

    /// Checks that each disk of an internal snapshot still writes to the
    /// image that holds the snapshot (no newer overlay on top).
    fn check_tops(
        &self,
        def_now: &crate::model::DomainDef,
        images: &[(String, PathBuf)],
    ) -> Result<()> {
        for (target, path) in images {
            let now = def_now
                .devices
                .disks
                .iter()
                .find(|d| d.target == *target)
                .and_then(|d| self.disk_path(d));
            if now.as_deref() != Some(path.as_path()) {
                return Err(Error::new(
                    ErrorCode::OperationInvalid,
                    format!(
                        "disk {target} now uses {}, not {} which holds the snapshot: a newer external snapshot's overlay is on top; commit it (blockcommit) first",
                        now.map_or("nothing".to_string(), |p| p.display().to_string()),
                        path.display()
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Reverts to an internal snapshot.
    pub(crate) fn revert_internal(
        &self,
        dom: &Domain,
        snap: &SnapshotDef,
        flags: SnapshotRevertFlags,
        job: &AsyncJobGuard<'_>,
    ) -> Result<()> {
        let name = snap.name.clone().unwrap_or_default();
        let images = self.internal_images(snap)?;
        let (run, persistent) = self.with_entry(dom, |e| {
            Ok((e.running.clone(), e.persistent.as_deref().cloned()))
        })?;
        let with_memory = matches!(
            snap.state,
            Some(SnapshotState::Running | SnapshotState::Paused)
        );
        let run_after = if flags.contains(SnapshotRevertFlags::RUNNING) {
            true
        } else if flags.contains(SnapshotRevertFlags::PAUSED) {
            false
        } else {
            snap.state == Some(SnapshotState::Running)
        };
        if !with_memory {
            let def_now = run
                .as_ref()
                .map(|r| r.live_def())
                .or(persistent)
                .ok_or_else(|| Error::new(ErrorCode::Internal, "a domain with no definition"))?;
            self.check_tops(&def_now, &images)?;
            self.stop_for_revert(dom, job)?;
            for (_, path) in &images {
                img::snapshot(path, SnapshotOp::Apply, &name)?;
            }
            if flags.contains(SnapshotRevertFlags::RUNNING)
                || flags.contains(SnapshotRevertFlags::PAUSED)
            {
                let def = self
                    .with_entry(dom, |e| Ok(e.persistent.as_deref().cloned()))?
                    .ok_or_else(|| Error::new(ErrorCode::Internal, "no definition"))?;
                let run = self.launch_paused(dom, def)?;
                if run_after {
                    run.ask(Request::Resume)?;
                }
            }
            return Ok(());
        }
        let run = match run {
            Some(run) => {
                self.check_tops(&run.live_def(), &images)?;
                run
            }
            None => {
                let def = snap.domain.clone().ok_or_else(|| {
                    Error::new(ErrorCode::Internal, "a snapshot record without its domain")
                })?;
                self.check_tops(&def, &images)?;
                self.launch_paused(dom, def)?
            }
        };
        let qmp = run.qmp()?;
        require_command(
            qmp,
            "snapshot-load",
            "revert a running domain to an internal snapshot",
        )?;
        let mut nodes = Vec::new();
        for (_, path) in &images {
            nodes.push(node_of(qmp, path)?.0);
        }
        let id = job_id("snapload");
        qmp.execute(
            "snapshot-load",
            Some(json!({"job-id": id, "tag": name, "vmstate": nodes[0], "devices": nodes})),
            QMP_TIMEOUT,
        )?;
        wait_qemu_job(qmp, &id, Some(job), "load the snapshot")?;
        run.ask(if run_after {
            Request::Resume
        } else {
            Request::Suspend
        })
        .or_else(|e| {
            // Already in the state asked for.
            if run.run_state().state
                == if run_after {
                    DomainState::Running
                } else {
                    DomainState::Paused
                }
            {
                Ok(())
            } else {
                Err(e)
            }
        })
    }

    /// Deletes an internal snapshot's tags from its images.
    pub(crate) fn delete_internal_data(
        &self,
        dom: &Domain,
        run: Option<&Running>,
        snap: &SnapshotDef,
        _job: &AsyncJobGuard<'_>,
    ) -> Result<()> {
        let name = snap.name.clone().unwrap_or_default();
        let images = self.internal_images(snap)?;
        if let Some(run) = run {
            let qmp = run.qmp()?;
            let open: Vec<PathBuf> = images
                .iter()
                .filter(|(_, p)| node_of(qmp, p).is_ok())
                .map(|(_, p)| p.clone())
                .collect();
            self.delete_tags_live(qmp, &name, open.iter().cloned())?;
            // Images the running QEMU does not have open are closed.
            for (_, p) in images.iter().filter(|(_, p)| !open.contains(p)) {
                delete_tag_offline(p, &name)?;
            }
        } else {
            for (_, p) in &images {
                delete_tag_offline(p, &name)?;
            }
        }
        let _ = dom;
        Ok(())
    }

    /// Settles an internal snapshot a killed manager left half taken:
    /// `true` when it was completed.
    pub(crate) fn settle_internal(
        &self,
        uuid: &Uuid,
        pending: &Pending,
        run: Option<&Running>,
    ) -> Result<bool> {
        let def = SnapshotDef::from_stored_xml(&pending.def_xml)?;
        let name = def.name.clone().unwrap_or_default();
        let mut has = Vec::new();
        match run {
            Some(run) => {
                let qmp = run.qmp()?;
                // A job QEMU lists may still write the tag: its end is
                // waited for (its outcome is read from the images). One it
                // does not list was never started, or ended and was
                // dismissed: nothing more will be written.
                if let Some(id) = &pending.job
                    && listed_job(qmp, id)?.is_some()
                    && let Err(e) = wait_qemu_job(qmp, id, None, "take the snapshot")
                    && e.code != ErrorCode::OperationFailed
                {
                    return Err(e);
                }
                for d in &pending.disks {
                    has.push(node_of(qmp, &d.path)?.1.contains(&name));
                }
                if has.iter().all(|h| *h) {
                    self.finish_snapshot(uuid, &def)?;
                    return Ok(true);
                }
                self.delete_tags_live(qmp, &name, pending.disks.iter().map(|d| d.path.clone()))?;
            }
            None => {
                for d in &pending.disks {
                    let fmt = self.image_format(&d.path)?;
                    has.push(img::info(&d.path, fmt, true)?.snapshots.contains(&name));
                }
                if has.iter().all(|h| *h) {
                    self.finish_snapshot(uuid, &def)?;
                    return Ok(true);
                }
                for (d, h) in pending.disks.iter().zip(&has) {
                    if *h {
                        img::snapshot(&d.path, SnapshotOp::Delete, &name)?;
                    }
                }
            }
        }
        Ok(false)
    }
}

/// Deletes tag `name` from a closed image, if it holds it.
fn delete_tag_offline(path: &Path, name: &str) -> Result<()> {
    let info = img::info(path, crate::model::VolumeFormat::Qcow2, true)?;
    if info.snapshots.iter().any(|t| t == name) {
        img::snapshot(path, SnapshotOp::Delete, name)?;
    }
    Ok(())
}
