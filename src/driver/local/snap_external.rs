//! External disk-only snapshots: each disk gets a new qcow2 overlay,
//! written directly (see [`crate::qemu::qcow2`]) with its backing file
//! and format recorded, over the image it used, which from then on is
//! read only. A running domain switches to the overlays in one QMP
//! `transaction` of `blockdev-snapshot`s (all disks or none; for one
//! disk, `blockdev-snapshot` alone, which QEMU runs as a transaction of
//! that one action); the live and persistent definitions then name the
//! overlays.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use uuid::Uuid;

use super::driver::Core;
use super::faults::crash_point;
use super::jobs::AsyncJobGuard;
use super::requests::Request;
use super::runtime::{Running, TopsSeen};
use super::snapmeta::Pending;
use super::snapshots::{Plan, PlanDisk};
use crate::driver::{Domain, SnapshotRevertFlags};
use crate::error::{Error, ErrorCode, Result};
use crate::model::{
    Disk, DiskFormat, DiskType, DomainDef, SnapshotDef, SnapshotLocation, VolumeFormat,
};
use crate::qemu::argv::disk_device_ids;
use crate::qemu::qmp::{QMP_TIMEOUT, Qmp, device_entry};
use crate::qemu::{img, qcow2};
use crate::sys::sync::lock;

/// `disk` moved onto the qcow2 image `path` (an overlay, or after a
/// commit its base): a file disk in that format.
pub(crate) fn disk_on(disk: &Disk, path: &Path, format: VolumeFormat) -> Disk {
    let mut d = disk.clone();
    d.kind = DiskType::File;
    d.volume = None;
    d.source = Some(path.to_string_lossy().into_owned());
    d.format = Some(match format {
        VolumeFormat::Raw => DiskFormat::Raw,
        VolumeFormat::Qcow2 => DiskFormat::Qcow2,
    });
    d
}

/// The top image file and node of disk `target` of the running `def`,
/// and what its drive has inserted (`query-block`).
pub(crate) fn top_of(qmp: &Qmp, def: &DomainDef, target: &str) -> Result<(PathBuf, String, Value)> {
    Ok(tops_of(qmp, def, [target])?.swap_remove(0))
}

/// [`top_of`] for each of `targets`, from one `query-block`.
pub(crate) fn tops_of<'a>(
    qmp: &Qmp,
    def: &DomainDef,
    targets: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<(PathBuf, String, Value)>> {
    let ids = disk_device_ids(def)?;
    let blocks = qmp.execute("query-block", None, QMP_TIMEOUT)?;
    targets
        .into_iter()
        .map(|target| {
            let index = def
                .devices
                .disks
                .iter()
                .position(|d| d.target == target)
                .ok_or_else(|| no_disk(&def.name, target))?;
            let inserted = device_entry(&blocks, &ids[index])
                .and_then(|b| b.get("inserted"))
                .ok_or_else(|| {
                    Error::new(
                        ErrorCode::OperationInvalid,
                        format!("disk {target} of domain '{}' has no medium", def.name),
                    )
                })?;
            // The filter of `<driver copy_on_read='on'>` hides the image
            // chain below it, which snapshots and block jobs work on.
            if inserted.get("drv").and_then(Value::as_str) == Some("copy-on-read") {
                return Err(Error::new(
                    ErrorCode::ConfigUnsupported,
                    format!(
                        "disk {target} of domain '{}' reads through a copy-on-read filter (<driver copy_on_read='on'>): external snapshots and block jobs of it are not supported",
                        def.name
                    ),
                ));
            }
            let text =
                |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or_default().to_string();
            let file = text(inserted.get("image").and_then(|i| i.get("filename")));
            let node = text(inserted.get("node-name"));
            Ok((PathBuf::from(file), node, inserted.clone()))
        })
        .collect()
}

/// The error for a disk a domain does not have.
pub(crate) fn no_disk(dom: &str, disk: &str) -> Error {
    Error::new(
        ErrorCode::InvalidArgument,
        format!("domain '{dom}' has no disk '{disk}' (see domblklist {dom})"),
    )
}

/// A name for the format node of a new overlay, `qvHEX-f`, with 32
/// random bits: no `query-named-block-nodes` round trip is needed to
/// find a name no node of the QEMU has. A clash (about one in 4·10^9
/// per node present) is a `blockdev-add` QEMU refuses ("Duplicate
/// nodes"): the snapshot is undone whole and can be taken again. Short,
/// because QEMU 7.2 reads its monitor one byte per main-loop turn (about
/// 3.7 µs a byte here): every byte of a command is time. The block jobs
/// close the `qv*-f` nodes no disk uses any more.
pub(crate) fn fresh_node() -> String {
    let bits = Uuid::new_v4().as_u128() as u32;
    format!("qv{bits:08x}-f")
}

/// Adds a qcow2 node named `nodes[i]` in QEMU for the overlay of disk
/// `i` of `plan`, opened without its backing file (the snapshot gives
/// it the disk's image): the nodes added, and the first error, after
/// which none more is tried.
fn add_overlay_nodes(qmp: &Qmp, plan: &Plan, nodes: &[String]) -> (Vec<String>, Result<()>) {
    let mut added = Vec::new();
    for (d, node) in plan.disks.iter().zip(nodes) {
        let overlay = d.overlay.as_ref().expect("external").to_string_lossy();
        // The file node goes unnamed (QEMU names it): fewer bytes.
        let add = qmp.execute(
            "blockdev-add",
            Some(json!({
                "driver": "qcow2",
                "node-name": node,
                "file": {"driver": "file", "filename": overlay},
                "backing": null,
            })),
            QMP_TIMEOUT,
        );
        if let Err(e) = add {
            return (added, Err(e));
        }
        added.push(node.clone());
    }
    (added, Ok(()))
}

/// A running domain's overlays, durable and opened in QEMU, before the
/// switch: each disk's top node now, and its overlay's node.
struct Opened {
    tops: Vec<String>,
    added: Vec<String>,
}

/// Whether no command that may have changed QEMU's block graph (or
/// started a block job) was sent since this manager's last external
/// snapshot of the run.
pub(crate) fn graph_unchanged(run: &Running, qmp: &Qmp) -> bool {
    let since = qmp.changes_sent();
    lock(&run.tops).as_ref().is_some_and(|s| s.changes == since)
}

/// The count of changing commands now, and each planned disk's top node
/// and size when this manager's last
/// external snapshot left them so and no command that may have changed
/// QEMU's block graph was sent since (see [`TopsSeen`]); `None` when
/// QEMU must be asked.
fn tops_known(run: &Running, qmp: &Qmp, plan: &Plan) -> Option<(u64, Vec<String>, Vec<u64>)> {
    let since = qmp.changes_sent();
    let seen = lock(&run.tops);
    let seen = seen.as_ref().filter(|s| s.changes == since)?;
    let mut tops = Vec::new();
    let mut sizes = Vec::new();
    for d in &plan.disks {
        let (_, _, node) = seen
            .tops
            .iter()
            .find(|(target, file, _)| *target == d.target && *file == d.path)?;
        tops.push(node.clone());
        sizes.push(stated_size(d)?);
    }
    Some((since, tops, sizes))
}

/// Records the disks' new top nodes after an external snapshot that was
/// the only sender of changing commands between counts `since` and
/// `now`: the disks it did not touch keep theirs when they were known
/// at `since`.
fn remember_tops(
    run: &Running,
    since: u64,
    now: u64,
    overlays: impl Iterator<Item = (String, PathBuf, String)>,
) {
    let mut seen = lock(&run.tops);
    let mut tops = match seen.take() {
        Some(s) if s.changes == since => s.tops,
        _ => Vec::new(),
    };
    for (target, file, node) in overlays {
        tops.retain(|(t, _, _)| *t != target);
        tops.push((target, file, node));
    }
    *seen = Some(TopsSeen { changes: now, tops });
}

/// The size a disk's image states itself, read without QEMU: a qcow2
/// header's virtual size, a raw regular file's length; `None` otherwise
/// (a block device, an unreadable image), and then QEMU is asked first.
fn stated_size(d: &PlanDisk) -> Option<u64> {
    match d.format {
        VolumeFormat::Qcow2 => qcow2::header_size(&d.path),
        VolumeFormat::Raw => std::fs::metadata(&d.path)
            .ok()
            .filter(|m| m.is_file())
            .map(|m| m.len()),
    }
}

/// Checks that QEMU's disks are the plan's images (`found`, from
/// [`tops_of`]): each disk's top node and the size QEMU gives it.
fn check_tops(
    dom: &Domain,
    plan: &Plan,
    found: Vec<(PathBuf, String, Value)>,
) -> Result<(Vec<String>, Vec<u64>)> {
    let mut tops = Vec::new();
    let mut sizes = Vec::new();
    for (d, (file, node, inserted)) in plan.disks.iter().zip(found) {
        if file != d.path {
            return Err(Error::new(
                ErrorCode::OperationFailed,
                format!(
                    "disk {} of domain '{}' uses {} in QEMU, not {}",
                    d.target,
                    dom.name,
                    file.display(),
                    d.path.display()
                ),
            ));
        }
        // QEMU knows the size the guest sees: no qemu-img to ask.
        let size = inserted
            .get("image")
            .and_then(|i| i.get("virtual-size"))
            .and_then(Value::as_u64)
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::Protocol,
                    format!("QEMU gave disk {} no virtual size", d.target),
                )
            })?;
        sizes.push(size);
        tops.push(node);
    }
    Ok((tops, sizes))
}

/// A scoped thread's result; its panic as an internal error.
fn joined<T>(handle: std::thread::ScopedJoinHandle<'_, Result<T>>) -> Result<T> {
    handle.join().unwrap_or_else(|_| {
        Err(Error::new(
            ErrorCode::Internal,
            "a thread of the snapshot panicked",
        ))
    })
}

impl Core {
    /// Makes the overlays of `disks`, durable and their formats
    /// recorded; on failure removes those made. `sizes`: each disk's
    /// virtual size when the caller knows it (a running QEMU says it),
    /// else it is read from the image.
    fn make_overlays(&self, disks: &[PlanDisk], sizes: Option<&[u64]>) -> Result<()> {
        let written = self.write_overlays(disks, sizes)?;
        self.settle_overlays(written).inspect_err(|_| {
            self.remove_overlays(disks.iter().filter_map(|d| d.overlay.as_deref()));
        })
    }

    /// The first half of [`Core::make_overlays`]: writes the overlays of
    /// `disks`, not yet durable (on failure removes those written).
    fn write_overlays(
        &self,
        disks: &[PlanDisk],
        sizes: Option<&[u64]>,
    ) -> Result<Vec<qcow2::Unsynced>> {
        let mut written = Vec::new();
        for (i, d) in disks.iter().enumerate() {
            let overlay = d
                .overlay
                .as_deref()
                .expect("an external disk has an overlay");
            let known = sizes.and_then(|s| s.get(i)).copied();
            let size = match (known, d.format) {
                (Some(size), _) => Ok(size),
                (None, VolumeFormat::Raw) => std::fs::metadata(&d.path).map(|m| m.len()),
                (None, VolumeFormat::Qcow2) => img::info(&d.path, d.format, true)
                    .map(|i| i.virtual_size)
                    .map_err(|e| std::io::Error::other(e.message)),
            }
            .map_err(|e| Error::io(format!("cannot read the size of {}", d.path.display()), e));
            match size.and_then(|size| qcow2::write_overlay(overlay, &d.path, d.format, size)) {
                Ok(w) => written.push(w),
                Err(e) => {
                    let made: Vec<PathBuf> =
                        written.iter().map(|w| w.path().to_path_buf()).collect();
                    drop(written);
                    self.remove_overlays(made.iter().map(PathBuf::as_path));
                    return Err(e);
                }
            }
        }
        Ok(written)
    }

    /// The second half of [`Core::make_overlays`]: makes the written
    /// overlays durable and records their format. On failure the caller
    /// removes them.
    fn settle_overlays(&self, written: Vec<qcow2::Unsynced>) -> Result<()> {
        for w in written {
            let path = w.path().to_path_buf();
            w.sync()?;
            self.record_format(&path, Some(VolumeFormat::Qcow2))?;
        }
        Ok(())
    }

    /// Removes overlay files (and their format records).
    fn remove_overlays<'a>(&self, paths: impl Iterator<Item = &'a Path>) {
        for p in paths {
            let _ = std::fs::remove_file(p);
            let _ = self.record_format(p, None);
        }
    }

    /// Takes an external disk-only snapshot of a running or paused
    /// domain.
    pub(crate) fn external_live(
        &self,
        dom: &Domain,
        run: &Running,
        plan: &Plan,
        job: &AsyncJobGuard<'_>,
    ) -> Result<()> {
        let qmp = run.qmp()?;
        let live = run.live_def();
        // The nodes' names are in the pending record, so that whoever
        // undoes a snapshot cut off after they were added finds them.
        let nodes: Vec<String> = plan.disks.iter().map(|_| fresh_node()).collect();
        // Where the disks are in QEMU: as this manager's last snapshot
        // left them when no changing command was sent since, else asked.
        let known = match tops_known(run, qmp, plan) {
            Some((since, tops, sizes)) => {
                let opened = self.open_overlays(dom, qmp, plan, &nodes, tops, &sizes)?;
                // Another changing command went to QEMU meanwhile: undone,
                // and QEMU is asked.
                if qmp.changes_sent() == since + opened.added.len() as u64 {
                    Some((opened, since))
                } else {
                    self.undo_overlays(dom, qmp, plan, &opened.added);
                    None
                }
            }
            None => None,
        };
        let (Opened { tops, added }, since) = match known {
            Some(known) => known,
            None => {
                let since = qmp.changes_sent();
                let found = tops_of(qmp, &live, plan.disks.iter().map(|d| d.target.as_str()))?;
                let (tops, sizes) = check_tops(dom, plan, found)?;
                (
                    self.open_overlays(dom, qmp, plan, &nodes, tops, &sizes)?,
                    since,
                )
            }
        };
        crash_point("snapshot-added");
        let mut result = Ok(());
        if job.aborted() {
            result = Err(Error::new(
                ErrorCode::OperationAborted,
                format!(
                    "the snapshot of domain '{}' was aborted; nothing was kept",
                    dom.name
                ),
            ));
        }
        if result.is_ok() {
            let mut actions: Vec<Value> = tops
                .iter()
                .zip(&added)
                .map(|(top, ov)| json!({"node": top, "overlay": ov}))
                .collect();
            // One disk: `blockdev-snapshot` alone is that one action (QEMU
            // runs it as a transaction of one), in fewer bytes.
            result = if actions.len() == 1 {
                qmp.execute("blockdev-snapshot", actions.pop(), QMP_TIMEOUT)
            } else {
                let actions: Vec<Value> = actions
                    .into_iter()
                    .map(|data| json!({"type": "blockdev-snapshot", "data": data}))
                    .collect();
                qmp.execute(
                    "transaction",
                    Some(json!({"actions": actions})),
                    QMP_TIMEOUT,
                )
            }
            .map(drop);
        }
        if let Err(e) = result {
            self.undo_overlays(dom, qmp, plan, &added);
            return Err(e);
        }
        // Only the snapshot's own commands went to QEMU: the next one
        // needs not ask where the disks are.
        let ours = added.len() as u64 + 1;
        if qmp.changes_sent() == since + ours {
            let overlays = plan.disks.iter().zip(&added).map(|(d, node)| {
                let overlay = d.overlay.clone().expect("external");
                (d.target.clone(), overlay, node.clone())
            });
            remember_tops(run, since, qmp.changes_sent(), overlays);
        }
        crash_point("snapshot-switched");
        self.switch_definitions(dom, Some(run), &plan.disks)?;
        self.finish_snapshot(&dom.uuid, &plan.def)
    }

    /// Opens the overlays of a running domain in QEMU, over the disks'
    /// top nodes `tops`, with the disks' sizes. On failure nothing is
    /// left.
    fn open_overlays(
        &self,
        dom: &Domain,
        qmp: &Qmp,
        plan: &Plan,
        nodes: &[String],
        tops: Vec<String>,
        sizes: &[u64],
    ) -> Result<Opened> {
        let written = self.write_pending_overlays(dom, plan, nodes, Some(sizes))?;
        // While QEMU opens the overlays, another thread makes them
        // durable and records their format: both are done before any
        // disk switches to them, and the fsync's wait is hidden.
        let (settled, (added, result)) = std::thread::scope(|s| {
            let settling = s.spawn(|| self.settle_overlays(written));
            let adds = add_overlay_nodes(qmp, plan, nodes);
            (joined(settling), adds)
        });
        match result.and(settled) {
            Ok(()) => Ok(Opened { tops, added }),
            Err(e) => {
                self.undo_overlays(dom, qmp, plan, &added);
                Err(e)
            }
        }
    }

    /// Records the pending snapshot with its nodes and writes the
    /// overlays (not yet durable); on failure nothing of it is left.
    fn write_pending_overlays(
        &self,
        dom: &Domain,
        plan: &Plan,
        nodes: &[String],
        sizes: Option<&[u64]>,
    ) -> Result<Vec<qcow2::Unsynced>> {
        self.write_pending(&dom.uuid, &Pending::of(plan, None).with_nodes(nodes))?;
        let written = self.write_overlays(&plan.disks, sizes).inspect_err(|_| {
            self.clear_pending(&dom.uuid);
        })?;
        crash_point("snapshot-overlays");
        Ok(written)
    }

    /// Undoes overlays opened in QEMU that no disk switched to: the
    /// nodes `added` are deleted, the files and the pending record
    /// removed.
    fn undo_overlays(&self, dom: &Domain, qmp: &Qmp, plan: &Plan, added: &[String]) {
        for node in added {
            let _ = qmp.execute(
                "blockdev-del",
                Some(json!({"node-name": node})),
                QMP_TIMEOUT,
            );
        }
        self.remove_overlays(plan.disks.iter().filter_map(|d| d.overlay.as_deref()));
        self.clear_pending(&dom.uuid);
    }

    /// Points the live (when running) and persistent definitions' disks
    /// at their overlays.
    fn switch_definitions(
        &self,
        dom: &Domain,
        run: Option<&Running>,
        disks: &[PlanDisk],
    ) -> Result<()> {
        let live = run.map(Running::live_def);
        let persistent = self.with_entry(dom, |e| Ok(e.persistent.as_deref().cloned()))?;
        for d in disks {
            let overlay = d.overlay.as_deref().expect("external");
            if let (Some(run), Some(live)) = (run, &live)
                && let Some(disk) = live.devices.disks.iter().find(|x| x.target == d.target)
            {
                run.set_disk(disk_on(disk, overlay, VolumeFormat::Qcow2));
            }
            if let Some(def) = &persistent
                && let Some(disk) = def.devices.disks.iter().find(|x| x.target == d.target)
            {
                self.update_persistent_disk(
                    dom,
                    &d.target,
                    &d.path,
                    &disk_on(disk, overlay, VolumeFormat::Qcow2),
                )?;
            }
        }
        if let Some(run) = run {
            self.save_status(dom.uuid, run);
        }
        Ok(())
    }

    /// Takes an external snapshot of a shut-off domain: the overlays are
    /// made and the definition names them.
    pub(crate) fn external_offline(&self, dom: &Domain, plan: &Plan) -> Result<()> {
        self.write_pending(&dom.uuid, &Pending::of(plan, None))?;
        if let Err(e) = self.make_overlays(&plan.disks, None) {
            self.clear_pending(&dom.uuid);
            return Err(e);
        }
        crash_point("snapshot-overlays");
        self.switch_definitions(dom, None, &plan.disks)?;
        crash_point("snapshot-switched");
        self.finish_snapshot(&dom.uuid, &plan.def)
    }

    /// Reverts to an external snapshot: only while its overlays are the
    /// disks' active layers (no newer overlay on top, nothing committed
    /// out of them). The domain stops, each overlay is made afresh over
    /// its base (the writes since the snapshot are gone), and with
    /// `--running` or `--paused` it starts again.
    pub(crate) fn revert_external(
        &self,
        dom: &Domain,
        snap: &SnapshotDef,
        flags: SnapshotRevertFlags,
        job: &AsyncJobGuard<'_>,
    ) -> Result<()> {
        let name = snap.name.clone().unwrap_or_default();
        let then = snap.domain.as_ref().ok_or_else(|| {
            Error::new(ErrorCode::Internal, "a snapshot record without its domain")
        })?;
        let (run, persistent) = self.with_entry(dom, |e| {
            Ok((e.running.clone(), e.persistent.as_deref().cloned()))
        })?;
        let now = run
            .as_ref()
            .map(|r| r.live_def())
            .or(persistent)
            .ok_or_else(|| Error::new(ErrorCode::Internal, "a domain with no definition"))?;
        let mut disks = Vec::new();
        for d in snap
            .disks
            .iter()
            .filter(|d| d.location == Some(SnapshotLocation::External))
        {
            let overlay = PathBuf::from(d.source.as_deref().unwrap_or_default());
            let base_disk = then.devices.disks.iter().find(|x| x.target == d.name);
            let base = base_disk.and_then(|x| self.disk_path(x)).ok_or_else(|| {
                Error::new(
                    ErrorCode::OperationInvalid,
                    format!("the base image of disk {} cannot be found", d.name),
                )
            })?;
            let current = now
                .devices
                .disks
                .iter()
                .find(|x| x.target == d.name)
                .and_then(|x| self.disk_path(x));
            if current.as_deref() != Some(overlay.as_path()) {
                return Err(Error::new(
                    ErrorCode::OperationInvalid,
                    format!(
                        "cannot revert domain '{}' to external snapshot '{name}': disk {} now uses {}, not the snapshot's overlay {} (a newer snapshot's overlay is on top, or it was committed); delete or commit the newer snapshots first",
                        dom.name,
                        d.name,
                        current.map_or("nothing".to_string(), |p| p.display().to_string()),
                        overlay.display()
                    ),
                ));
            }
            let format = match (base_disk.and_then(|x| x.format), base_disk.map(|x| x.kind)) {
                (None, Some(DiskType::Volume)) => self.image_format(&base)?,
                (f, _) => super::snapshots::volume_format(f, &d.name)?,
            };
            disks.push(PlanDisk {
                target: d.name.clone(),
                path: base,
                format,
                overlay: Some(overlay),
            });
        }
        self.stop_for_revert(dom, job)?;
        for d in &disks {
            let overlay = d.overlay.as_deref().expect("external");
            std::fs::remove_file(overlay)
                .map_err(|e| Error::io(format!("cannot remove {}", overlay.display()), e))?;
        }
        self.make_overlays(&disks, None)?;
        if flags.contains(SnapshotRevertFlags::RUNNING)
            || flags.contains(SnapshotRevertFlags::PAUSED)
        {
            let def = self
                .with_entry(dom, |e| Ok(e.persistent.as_deref().cloned()))?
                .ok_or_else(|| Error::new(ErrorCode::Internal, "no definition"))?;
            let run = self.launch_paused(dom, def)?;
            if flags.contains(SnapshotRevertFlags::RUNNING) {
                run.ask(Request::Resume)?;
            }
        }
        Ok(())
    }

    /// Settles an external snapshot a killed manager left half taken:
    /// `true` when it was completed (the disks had switched to the
    /// overlays), `false` when it was undone (the overlays removed).
    pub(crate) fn settle_external(
        &self,
        uuid: &Uuid,
        pending: &Pending,
        run: Option<&Running>,
    ) -> Result<bool> {
        let def = SnapshotDef::from_stored_xml(&pending.def_xml)?;
        let dom = self.lookup_uuid(*uuid)?;
        let disks: Vec<PlanDisk> = pending
            .disks
            .iter()
            .map(|d| PlanDisk {
                target: d.target.clone(),
                path: d.path.clone(),
                format: VolumeFormat::Raw,
                overlay: d.overlay.clone(),
            })
            .collect();
        let switched = match run {
            Some(run) => {
                let qmp = run.qmp()?;
                let live = run.live_def();
                let found = tops_of(qmp, &live, disks.iter().map(|d| d.target.as_str()))?;
                let all = disks
                    .iter()
                    .zip(&found)
                    .all(|(d, (file, _, _))| Some(file.as_path()) == d.overlay.as_deref());
                if !all {
                    // Added but never switched to: drop the nodes, by the
                    // names recorded (a node opened without its backing
                    // file has a `json:` file name, not the overlay's).
                    for (d, p) in disks.iter().zip(&pending.disks) {
                        let node = p.node.clone().or_else(|| {
                            let o = d.overlay.as_ref()?;
                            super::snap_internal::node_of(qmp, o).ok().map(|(n, _)| n)
                        });
                        if let Some(node) = node {
                            let _ = qmp.execute(
                                "blockdev-del",
                                Some(json!({"node-name": node})),
                                QMP_TIMEOUT,
                            );
                        }
                    }
                }
                all
            }
            None => {
                let persistent = self.with_entry(&dom, |e| Ok(e.persistent.as_deref().cloned()))?;
                persistent.is_some_and(|p| {
                    disks.iter().all(|d| {
                        p.devices
                            .disks
                            .iter()
                            .find(|x| x.target == d.target)
                            .and_then(|x| self.disk_path(x))
                            .as_deref()
                            == d.overlay.as_deref()
                    })
                })
            }
        };
        if switched {
            self.switch_definitions(&dom, run, &disks)?;
            self.finish_snapshot(uuid, &def)?;
            return Ok(true);
        }
        self.remove_overlays(disks.iter().filter_map(|d| d.overlay.as_deref()));
        Ok(false)
    }
}
