//! Block jobs on a running domain's disk, as virsh's `blockcommit`,
//! `blockpull`, `blockjob` and `domblkinfo` drive them: QEMU's
//! `block-commit` and `block-stream` jobs, each named after its disk
//! (`qvirt-commit-vda`), kept until qvirt has seen them end
//! (`auto-dismiss` off) so that their outcome is never lost.
//!
//! An active commit merges the overlay the guest writes to into the base
//! of its chain and then waits, mirroring new writes, until it is
//! completed by a pivot: the disk then uses the base, in QEMU and in the
//! live and persistent definitions, and the overlay's node is closed (its
//! file stays). A pull copies the backing data into the active layer,
//! which then stands alone; its old backing nodes are closed once qvirt
//! sees the job concluded.

use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::driver::Core;
use super::jobs::SyncKind;
use super::runtime::Running;
use super::snap_external::{disk_on, no_disk, top_of};
use crate::driver::{
    BlockCommitFlags, BlockInfo, BlockJobInfo, BlockJobKind, BlockJobStatus, Domain, DomainState,
    EventKind,
};
use crate::error::{Error, ErrorCode, Result};
use crate::model::{DomainDef, VolumeFormat, Word};
use crate::qemu::qmp::{QMP_TIMEOUT, Qmp};
use crate::sys::sync::lock;

/// How long a pivot may take to finish once asked.
const PIVOT_LIMIT: Duration = Duration::from_secs(60);

/// The target of the disk named `disk` (a target or a source path) in
/// `def`.
fn target_of(core: &Core, def: &DomainDef, disk: &str) -> Result<String> {
    def.devices
        .disks
        .iter()
        .find(|d| d.target == disk || core.disk_path(d).is_some_and(|p| p.to_str() == Some(disk)))
        .map(|d| d.target.clone())
        .ok_or_else(|| no_disk(&def.name, disk))
}

/// The QEMU job id of disk `target`'s block job of `kind`.
pub(super) fn job_name(kind: &str, target: &str) -> String {
    format!("qvirt-{kind}-{target}")
}

/// The kind and disk target of qvirt's QEMU block job `id`.
fn job_of(id: &str) -> Option<(BlockJobKind, &str)> {
    let rest = id.strip_prefix("qvirt-")?;
    [
        ("commit-", BlockJobKind::ActiveCommit),
        ("pull-", BlockJobKind::Pull),
        ("copy-", BlockJobKind::Copy),
    ]
    .into_iter()
    .find_map(|(prefix, kind)| Some((kind, rest.strip_prefix(prefix)?)))
}

/// Marks QEMU job `id` as ended by this manager, which tells its end
/// itself: QEMU's own event of that end, which may come after the call
/// returned, is then not passed on (the monitor takes the mark with it).
/// Unless [`Ending::sent`] says QEMU was asked to end the job, dropping
/// it takes the mark back.
struct Ending<'a> {
    run: &'a Running,
    id: String,
    sent: bool,
}

impl<'a> Ending<'a> {
    fn new(run: &'a Running, id: &str) -> Ending<'a> {
        lock(&run.block_endings).push(id.to_string());
        Ending {
            run,
            id: id.to_string(),
            sent: false,
        }
    }

    /// QEMU was asked to end the job: its end event will come.
    fn sent(&mut self) {
        self.sent = true;
    }

    /// The end could not be seen (the wait failed): QEMU's event, when
    /// it comes, is told after all.
    fn unseen(&mut self) {
        self.sent = false;
    }
}

impl Drop for Ending<'_> {
    fn drop(&mut self) {
        if !self.sent {
            forget_ending(self.run, &self.id);
        }
    }
}

/// Takes back the mark of an end of job `id` (a new job of that name
/// starts, or the end was not asked after all).
pub(super) fn forget_ending(run: &Running, id: &str) {
    lock(&run.block_endings).retain(|e| e != id);
}

/// The QEMU job (`query-jobs` entry) of disk `target`, if any.
pub(super) fn find_job(qmp: &Qmp, target: &str) -> Result<Option<Value>> {
    let jobs = qmp.execute("query-jobs", None, QMP_TIMEOUT)?;
    let ids = ["commit", "pull", "copy"].map(|kind| job_name(kind, target));
    Ok(jobs
        .as_array()
        .into_iter()
        .flatten()
        .find(|j| {
            j.get("id")
                .and_then(Value::as_str)
                .is_some_and(|id| ids.iter().any(|x| x == id))
        })
        .cloned())
}

/// The speed limit of QEMU block job `id` (`query-block-jobs`' `speed`,
/// bytes a second; 0: none).
fn job_speed(qmp: &Qmp, id: &str) -> Result<u64> {
    let jobs = qmp.execute("query-block-jobs", None, QMP_TIMEOUT)?;
    Ok(jobs
        .as_array()
        .into_iter()
        .flatten()
        .find(|j| j.get("device").and_then(Value::as_str) == Some(id))
        .and_then(|j| j.get("speed").and_then(Value::as_u64))
        .unwrap_or(0))
}

impl Core {
    /// `Driver::block_job_set_speed`.
    pub(crate) fn block_job_set_speed(
        &self,
        dom: &Domain,
        disk: &str,
        bytes_per_s: u64,
    ) -> Result<()> {
        let (run, _, target) = self.block_run(dom, disk, "limit the block jobs of")?;
        let qmp = run.qmp()?;
        let id = find_job(qmp, &target)?
            .and_then(|j| j.get("id").and_then(Value::as_str).map(str::to_string))
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::OperationInvalid,
                    format!("disk {target} of domain '{}' has no block job", dom.name),
                )
            })?;
        let speed = i64::try_from(bytes_per_s).map_err(|_| {
            Error::new(
                ErrorCode::InvalidArgument,
                format!("bandwidth {bytes_per_s} bytes/s is more than QEMU takes"),
            )
        })?;
        qmp.execute(
            "block-job-set-speed",
            Some(json!({"device": id, "speed": speed})),
            QMP_TIMEOUT,
        )?;
        Ok(())
    }

    /// The run of `dom` with the live definition and the disk's target.
    pub(super) fn block_run(
        &self,
        dom: &Domain,
        disk: &str,
        what: &str,
    ) -> Result<(std::sync::Arc<Running>, DomainDef, String)> {
        let run = self.running_in(dom, what, &[DomainState::Running, DomainState::Paused])?;
        let live = run.live_def();
        let target = target_of(self, &live, disk)?;
        Ok((run, live, target))
    }

    /// `Driver::block_commit`.
    pub(crate) fn block_commit(
        &self,
        dom: &Domain,
        disk: &str,
        flags: BlockCommitFlags,
    ) -> Result<()> {
        if !flags.contains(BlockCommitFlags::ACTIVE) {
            return Err(Error::new(
                ErrorCode::NoSupport,
                "qvirt commits the active layer only: add --active (and --pivot to finish)",
            ));
        }
        self.start_backing_job(
            dom,
            disk,
            BackingJob {
                what: "commit a disk of",
                command: "block-commit",
                kind: "commit",
                missing: "to commit into",
                doing: "committing disk {target} into its base",
            },
        )
    }

    /// `Driver::block_pull`.
    pub(crate) fn block_pull(&self, dom: &Domain, disk: &str) -> Result<()> {
        self.start_backing_job(
            dom,
            disk,
            BackingJob {
                what: "pull a disk of",
                command: "block-stream",
                kind: "pull",
                missing: "to pull from",
                doing: "pulling the backing data of disk {target}",
            },
        )
    }

    /// Starts a QEMU job that works on a disk's backing chain (a commit of
    /// the active layer, a pull): the disk must have no job yet and a
    /// backing image.
    fn start_backing_job(&self, dom: &Domain, disk: &str, job: BackingJob) -> Result<()> {
        let jobs = self.jobs(dom)?;
        let _job = jobs.begin(SyncKind::Modify, &dom.name)?;
        let (run, live, target) = self.block_run(dom, disk, job.what)?;
        let qmp = run.qmp()?;
        if find_job(qmp, &target)?.is_some() {
            return Err(busy(dom, &target));
        }
        let (_, node, inserted) = top_of(qmp, &live, &target)?;
        if inserted
            .get("image")
            .and_then(|i| i.get("backing-image"))
            .is_none()
        {
            return Err(Error::new(
                ErrorCode::OperationInvalid,
                format!(
                    "disk {target} of domain '{}' has no backing image {}",
                    dom.name, job.missing
                ),
            ));
        }
        let id = job_name(job.kind, &target);
        forget_ending(&run, &id);
        // An active commit mirrors the guest's writes into the base until
        // the pivot: the live definition shows it (libvirt's <mirror
        // job='active-commit'>) from before QEMU starts, so that its
        // readiness, which may come at once, finds it.
        let mirrored = job.kind == "commit";
        if mirrored && let Some(disk) = live.devices.disks.iter().find(|d| d.target == target) {
            let mut d = disk.clone();
            d.mirror = Some(base_mirror(&inserted));
            run.set_disk(d);
            self.save_status(dom.uuid, &run);
        }
        let started = qmp.execute(
            job.command,
            Some(json!({"job-id": id, "device": node, "auto-dismiss": false})),
            QMP_TIMEOUT,
        );
        if let Err(e) = started {
            if mirrored {
                self.follow_mirror(&run, &target, None);
            }
            return Err(e);
        }
        self.log.info(&format!(
            "domain '{}': {}",
            dom.name,
            job.doing.replace("{target}", &target)
        ));
        Ok(())
    }

    /// `Driver::block_job_info`. A concluded pull is settled here (its
    /// old backing nodes closed), a failed job reported once.
    pub(crate) fn block_job_info(&self, dom: &Domain, disk: &str) -> Result<Option<BlockJobInfo>> {
        let (run, _, target) = self.block_run(dom, disk, "query the block jobs of")?;
        let qmp = run.qmp()?;
        let Some(job) = find_job(qmp, &target)? else {
            return Ok(None);
        };
        let id = job
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let pull = id.starts_with("qvirt-pull-");
        let status = job
            .get("status")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if status == "concluded" {
            let error = job.get("error").and_then(Value::as_str).map(str::to_string);
            let jobs = self.jobs(dom)?;
            let _job = jobs.begin(SyncKind::Modify, &dom.name)?;
            let _ = qmp.execute("job-dismiss", Some(json!({"id": id})), QMP_TIMEOUT);
            if let Some(e) = error {
                return Err(Error::new(
                    ErrorCode::OperationFailed,
                    format!(
                        "the block job of disk {target} of domain '{}' failed: {e}",
                        dom.name
                    ),
                ));
            }
            if pull {
                self.close_unused_nodes(qmp, &run.live_def());
                self.log.info(&format!(
                    "domain '{}': disk {target} no longer has a backing image",
                    dom.name
                ));
            }
            return Ok(None);
        }
        let cur = job
            .get("current-progress")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        let end = job
            .get("total-progress")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        let kind = if pull {
            BlockJobKind::Pull
        } else if id.starts_with("qvirt-copy-") {
            BlockJobKind::Copy
        } else {
            BlockJobKind::ActiveCommit
        };
        Ok(Some(
            BlockJobInfo::new(kind, cur, end, status == "ready")
                .with_bandwidth(job_speed(qmp, &id)?),
        ))
    }

    /// QEMU's event of a block job (`BLOCK_JOB_READY`, `_COMPLETED`,
    /// `_CANCELLED`) told as [`EventKind::BlockJob`], unless this manager
    /// is ending the job itself (it tells that end).
    pub(crate) fn on_block_job(&self, run: &Running, event: &str, data: &Value) {
        let Some(id) = data.get("device").and_then(Value::as_str) else {
            return;
        };
        let Some((kind, target)) = job_of(id) else {
            return;
        };
        {
            let mut ending = lock(&run.block_endings);
            if let Some(i) = ending.iter().position(|e| e == id) {
                // This manager tells the end it made; the mark goes with
                // QEMU's event of it.
                if event != "BLOCK_JOB_READY" {
                    ending.remove(i);
                }
                return;
            }
        }
        let status = match event {
            "BLOCK_JOB_READY" => BlockJobStatus::Ready,
            "BLOCK_JOB_COMPLETED" if data.get("error").is_some() => BlockJobStatus::Failed,
            "BLOCK_JOB_COMPLETED" => BlockJobStatus::Completed,
            _ => BlockJobStatus::Cancelled,
        };
        self.tell_block_job(run, target, kind, status);
    }

    /// Tells subscribers that the block job of `kind` on disk `target`
    /// reached `status`, naming the disk's file as the live definition
    /// has it now.
    fn tell_block_job(
        &self,
        run: &Running,
        target: &str,
        kind: BlockJobKind,
        status: BlockJobStatus,
    ) {
        if matches!(kind, BlockJobKind::Copy | BlockJobKind::ActiveCommit) {
            self.follow_mirror(run, target, Some(status));
        }
        let def = run.live_def();
        let path = def
            .devices
            .disks
            .iter()
            .find(|d| d.target == target && d.network.is_none())
            .and_then(|d| self.disk_path(d))
            .map(|p| p.to_string_lossy().into_owned());
        let kind = EventKind::BlockJob {
            dev: target.to_string(),
            path,
            kind,
            status,
        };
        self.emit(super::monitor::handle_of(run.def.uuid, run), kind);
    }

    /// The live definition follows a copy or an active commit of disk
    /// `target`: its `<mirror>` is ready once the job is in step
    /// (`status` ready), and goes once the job ended (any other status,
    /// or none: no job).
    pub(crate) fn follow_mirror(
        &self,
        run: &Running,
        target: &str,
        status: Option<BlockJobStatus>,
    ) {
        let live = run.live_def();
        let Some(disk) = live.devices.disks.iter().find(|d| d.target == target) else {
            return;
        };
        let Some(mirror) = &disk.mirror else {
            return;
        };
        let mut changed = disk.clone();
        match status {
            Some(BlockJobStatus::Ready) if mirror.ready => return,
            Some(BlockJobStatus::Ready) => {
                if let Some(m) = changed.mirror.as_mut() {
                    m.ready = true;
                }
            }
            _ => changed.mirror = None,
        }
        run.set_disk(changed);
        self.save_status(run.def.uuid, run);
    }

    /// A reattached domain's copies as QEMU has them now (the jobs may
    /// have ended, or got in step, while no manager watched): each
    /// `<mirror>` follows its job, or goes with it.
    pub(crate) fn reconcile_mirrors(&self, run: &Running) {
        let copying: Vec<String> = run
            .live_def()
            .devices
            .disks
            .iter()
            .filter(|d| d.mirror.is_some())
            .map(|d| d.target.clone())
            .collect();
        let Ok(qmp) = run.qmp() else { return };
        for target in copying {
            let Ok(job) = find_job(qmp, &target) else {
                continue;
            };
            let status = match job
                .as_ref()
                .and_then(|j| j.get("status"))
                .and_then(Value::as_str)
            {
                Some("ready") => Some(BlockJobStatus::Ready),
                Some("concluded" | "null" | "aborting") | None => None,
                Some(_) => continue,
            };
            self.follow_mirror(run, &target, status);
        }
    }

    /// `Driver::block_job_abort`.
    pub(crate) fn block_job_abort(&self, dom: &Domain, disk: &str, pivot: bool) -> Result<()> {
        let jobs = self.jobs(dom)?;
        let _job = jobs.begin(SyncKind::Modify, &dom.name)?;
        let (run, live, target) = self.block_run(dom, disk, "end a block job of")?;
        let qmp = run.qmp()?;
        let Some(job) = find_job(qmp, &target)? else {
            return Err(Error::new(
                ErrorCode::OperationInvalid,
                format!("disk {target} of domain '{}' has no block job", dom.name),
            ));
        };
        let id = job
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let status = job
            .get("status")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let copy = id.starts_with("qvirt-copy-");
        let kind = job_of(&id).map_or(BlockJobKind::ActiveCommit, |(k, _)| k);
        let mut ending = Ending::new(&run, &id);
        if !pivot {
            // A copy in step ends consistent (QEMU's cancel without
            // force); any other job is dropped where it is.
            if status != "concluded" && copy {
                qmp.execute("block-job-cancel", Some(json!({"device": id})), QMP_TIMEOUT)?;
                ending.sent();
            } else if status != "concluded" {
                qmp.execute("job-cancel", Some(json!({"id": id})), QMP_TIMEOUT)?;
                ending.sent();
            }
            if let Err(e) = wait_concluded(qmp, &id) {
                ending.unseen();
                return Err(e);
            }
            let _ = qmp.execute("job-dismiss", Some(json!({"id": id})), QMP_TIMEOUT);
            self.close_unused_nodes(qmp, &live);
            // A job that had ended already was told when it ended.
            if status != "concluded" {
                self.tell_block_job(&run, &target, kind, BlockJobStatus::Cancelled);
            }
            return Ok(());
        }
        if status != "ready" {
            return Err(Error::new(
                ErrorCode::OperationInvalid,
                format!(
                    "the block job of disk {target} of domain '{}' is not ready to pivot ({status}); wait for it (blockjob --info)",
                    dom.name
                ),
            ));
        }
        let (old_top, _, _) = top_of(qmp, &live, &target)?;
        qmp.execute("job-complete", Some(json!({"id": id})), QMP_TIMEOUT)?;
        ending.sent();
        let outcome = wait_concluded(qmp, &id);
        let _ = qmp.execute("job-dismiss", Some(json!({"id": id})), QMP_TIMEOUT);
        if outcome.is_err() {
            ending.unseen();
        }
        if let Some(e) = outcome? {
            self.tell_block_job(&run, &target, kind, BlockJobStatus::Failed);
            return Err(Error::new(
                ErrorCode::OperationFailed,
                format!(
                    "the pivot of disk {target} of domain '{}' failed: {e}",
                    dom.name
                ),
            ));
        }
        // The disk now writes to the base or the copy: the definitions
        // follow (a copy's, only the live one).
        let (new_top, _, inserted) = top_of(qmp, &live, &target)?;
        let format = inserted
            .get("image")
            .and_then(|i| i.get("format"))
            .and_then(Value::as_str)
            .and_then(VolumeFormat::from_word)
            .unwrap_or(VolumeFormat::Raw);
        let disk = live
            .devices
            .disks
            .iter()
            .find(|d| d.target == target)
            .ok_or_else(|| no_disk(&dom.name, &target))?;
        let mut moved = disk_on(disk, &new_top, format);
        moved.mirror = None;
        run.set_disk(moved.clone());
        self.save_status(dom.uuid, &run);
        if !copy {
            self.update_persistent_disk(dom, &target, &old_top, &moved)?;
        }
        self.close_unused_nodes(qmp, &live);
        self.tell_block_job(&run, &target, kind, BlockJobStatus::Completed);
        self.log.info(&format!(
            "domain '{}': disk {target} now uses {} ({} {})",
            dom.name,
            new_top.display(),
            if copy {
                "copied from"
            } else {
                "committed from"
            },
            old_top.display()
        ));
        Ok(())
    }

    /// Closes the nodes qvirt opened for disks that no disk uses any
    /// more (overlays committed away, backing files pulled from): each
    /// format node no device's chain holds. Failures are left alone: the
    /// node stays open, which harms nothing.
    fn close_unused_nodes(&self, qmp: &Qmp, def: &DomainDef) {
        let disk_ids = crate::qemu::argv::disk_device_ids(def).unwrap_or_default();
        let (Ok(blocks), Ok(nodes)) = (
            qmp.execute("query-block", None, QMP_TIMEOUT),
            qmp.execute(
                "query-named-block-nodes",
                Some(json!({"flat": true})),
                QMP_TIMEOUT,
            ),
        ) else {
            return;
        };
        let mut in_use: Vec<PathBuf> = Vec::new();
        super::volumes::chain_files(&blocks, &mut in_use);
        for n in nodes.as_array().into_iter().flatten() {
            let (Some(name), Some(drv), Some(file)) = (
                n.get("node-name").and_then(Value::as_str),
                n.get("drv").and_then(Value::as_str),
                n.get("file").and_then(Value::as_str),
            ) else {
                continue;
            };
            // A raw disk's top is its protocol node (`-storage`), which
            // a copy's pivot leaves unused.
            let ours = name
                .strip_suffix("-format")
                .or_else(|| name.strip_suffix("-storage"))
                .is_some_and(|stem| disk_ids.iter().any(|id| id == stem))
                || (name.starts_with("qv") && name.ends_with("-f"));
            if ours
                && matches!(drv, "qcow2" | "raw" | "file" | "host_device")
                && !in_use.contains(&PathBuf::from(file))
                && qmp
                    .execute(
                        "blockdev-del",
                        Some(json!({"node-name": name})),
                        QMP_TIMEOUT,
                    )
                    .is_ok()
                && let Some(stem) = name.strip_suffix("-format")
            {
                let _ = qmp.execute(
                    "blockdev-del",
                    Some(json!({"node-name": format!("{stem}-storage")})),
                    QMP_TIMEOUT,
                );
            }
        }
    }

    /// `Driver::block_info`: the disk's sizes, from QEMU while it runs,
    /// else from the image.
    pub(crate) fn block_info(&self, dom: &Domain, disk: &str) -> Result<BlockInfo> {
        let (run, def) = self.with_entry(dom, |e| Ok((e.running.clone(), e.def().clone())))?;
        let def = run.as_ref().map(|r| r.live_def()).unwrap_or(def);
        let target = target_of(self, &def, disk)?;
        let d = def
            .devices
            .disks
            .iter()
            .find(|d| d.target == target)
            .ok_or_else(|| no_disk(&dom.name, disk))?;
        let path = self.disk_path(d).ok_or_else(|| {
            Error::new(
                ErrorCode::OperationInvalid,
                format!("disk {target} of domain '{}' has no image", dom.name),
            )
        })?;
        let meta = std::fs::metadata(&path)
            .map_err(|e| Error::io(format!("cannot inspect {}", path.display()), e))?;
        let live_capacity = run.as_ref().and_then(|r| {
            let qmp = r.qmp().ok()?;
            let (_, _, inserted) = top_of(qmp, &def, &target).ok()?;
            inserted.get("image")?.get("virtual-size")?.as_u64()
        });
        let capacity = match live_capacity {
            Some(c) => c,
            None => self.inspect(&path)?.0.capacity,
        };
        Ok(BlockInfo::new(capacity, meta.blocks() * 512, meta.len()))
    }
}

/// Waits for QEMU job `id` to conclude; its error, if it failed.
fn wait_concluded(qmp: &Qmp, id: &str) -> Result<Option<String>> {
    let deadline = Instant::now() + PIVOT_LIMIT;
    let mut pause = super::jobs::QemuPoll::new(Duration::from_micros(200));
    loop {
        let jobs = qmp.execute("query-jobs", None, QMP_TIMEOUT)?;
        let job = jobs
            .as_array()
            .into_iter()
            .flatten()
            .find(|j| j.get("id").and_then(Value::as_str) == Some(id));
        match job {
            None => return Ok(None),
            Some(j) if j.get("status").and_then(Value::as_str) == Some("concluded") => {
                return Ok(j.get("error").and_then(Value::as_str).map(str::to_string));
            }
            Some(_) => {}
        }
        if Instant::now() >= deadline {
            return Err(Error::new(
                ErrorCode::Timeout,
                format!("QEMU's block job {id} did not finish within {PIVOT_LIMIT:?}"),
            ));
        }
        pause.sleep();
    }
}

/// Refuses what would leave a block job behind (a save, a migration, a
/// snapshot) while one runs on a disk of `dom`, as libvirt does: its
/// mirror or commit would be lost, half done, with the QEMU that ran it.
pub(super) fn no_block_jobs(qmp: &Qmp, dom: &str) -> Result<()> {
    let jobs = qmp.execute("query-jobs", None, QMP_TIMEOUT)?;
    let running = jobs.as_array().into_iter().flatten().find_map(|j| {
        if j.get("status").and_then(Value::as_str) == Some("concluded") {
            return None;
        }
        let id = j.get("id")?.as_str()?;
        let disk = ["commit", "pull", "copy"]
            .iter()
            .find_map(|k| id.strip_prefix(&format!("qvirt-{k}-")))?;
        Some(disk.to_string())
    });
    match running {
        Some(disk) => Err(Error::new(
            ErrorCode::OperationInvalid,
            format!(
                "domain has active block job: disk {disk} of domain '{dom}' (end it with blockjob --abort or --pivot first)"
            ),
        )),
        None => Ok(()),
    }
}

/// The error for a disk that has a block job already.
pub(super) fn busy(dom: &Domain, target: &str) -> Error {
    Error::new(
        ErrorCode::OperationInvalid,
        format!(
            "disk {target} of domain '{}' has a block job already (blockjob --info, --abort)",
            dom.name
        ),
    )
}

/// What distinguishes the jobs [`Core::start_backing_job`] starts.
/// The `<mirror>` of an active commit: the base of the chain `inserted`
/// (`query-block`'s) holds, which the commit writes into.
fn base_mirror(inserted: &Value) -> crate::model::DiskMirror {
    let mut image = &inserted["image"];
    while let Some(backing) = image.get("backing-image") {
        image = backing;
    }
    let path = image
        .get("filename")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let device = std::fs::metadata(&path).is_ok_and(|m| {
        use std::os::unix::fs::FileTypeExt;
        m.file_type().is_block_device()
    });
    crate::model::DiskMirror {
        kind: if device {
            crate::model::DiskType::Block
        } else {
            crate::model::DiskType::File
        },
        format: image
            .get("format")
            .and_then(Value::as_str)
            .and_then(crate::model::DiskFormat::from_word),
        path,
        job: crate::model::MirrorJob::ActiveCommit,
        ready: false,
    }
}

struct BackingJob {
    /// For errors: "commit a disk of".
    what: &'static str,
    /// The QMP command.
    command: &'static str,
    /// The job name's kind (`job_name`).
    kind: &'static str,
    /// For a disk without a backing image: "to commit into".
    missing: &'static str,
    /// The log line, `{target}` standing for the disk.
    doing: &'static str,
}
