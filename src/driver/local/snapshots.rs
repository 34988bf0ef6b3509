//! Snapshots of a domain: taking one (planning which disks go where),
//! listing, reverting and deleting them, and the rules `undefine` keeps.
//!
//! Two kinds, as libvirt's QEMU driver has: internal snapshots (each
//! disk's state as a tag inside its qcow2 image, and a running guest's
//! memory and devices in the first one) and external disk-only snapshots
//! (each disk gets a new qcow2 overlay over its image, which becomes the
//! overlay's read-only backing file). The work on images is in
//! `snap_internal` and `snap_external`; the records in `snapmeta`.
//!
//! Taking and reverting a snapshot is the domain's asynchronous job:
//! `domjobinfo` follows it and `domjobabort` stops it, leaving no
//! snapshot (or the domain as it was).

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use super::driver::{Core, lock};
use super::jobs::{AsyncJobGuard, SyncKind};
use super::runtime::Running;
use super::snapmeta::Records;
use super::store;
use crate::driver::{
    Domain, DomainState, JobKind, Snapshot, SnapshotCreateFlags, SnapshotDeleteFlags, SnapshotInfo,
    SnapshotRevertFlags,
};
use crate::error::{Error, ErrorCode, Result};
use crate::model::{
    Disk, DiskDevice, DiskFormat, DiskType, DomainDef, SnapshotDef, SnapshotDisk, SnapshotLocation,
    SnapshotState, VolumeFormat,
};

/// What a snapshot about to be taken does.
pub(crate) struct Plan {
    /// Its name.
    pub name: String,
    /// Its record, as it will be written.
    pub def: SnapshotDef,
    /// The disks it takes, in the definition's order.
    pub disks: Vec<PlanDisk>,
    /// External overlays (else internal tags).
    pub external: bool,
}

/// One disk a snapshot takes.
#[derive(Debug, Clone)]
pub(crate) struct PlanDisk {
    /// The disk's target.
    pub target: String,
    /// Its image now.
    pub path: PathBuf,
    /// The image's format.
    pub format: VolumeFormat,
    /// An external snapshot's new overlay.
    pub overlay: Option<PathBuf>,
}

/// The error for a snapshot that does not exist.
pub(crate) fn no_snapshot(dom: &str, name: &str) -> Error {
    Error::new(
        ErrorCode::NoSnapshot,
        format!("domain '{dom}' has no snapshot named '{name}' (see snapshot-list {dom})"),
    )
}

/// A domain disk's image format as a volume format: the formats qvirt
/// puts overlays on and snapshots (raw, the default, and qcow2); the
/// others (vmdk, vdi, ...) are refused, naming `target`.
pub(crate) fn volume_format(f: Option<DiskFormat>, target: &str) -> Result<VolumeFormat> {
    match f {
        None | Some(DiskFormat::Raw) => Ok(VolumeFormat::Raw),
        Some(DiskFormat::Qcow2) => Ok(VolumeFormat::Qcow2),
        Some(other) => Err(Error::new(
            ErrorCode::ConfigUnsupported,
            format!(
                "disk {target} is a {} image: qvirt puts overlays and snapshots on raw and qcow2 images only (convert it with qemu-img convert -O qcow2)",
                other.as_str()
            ),
        )),
    }
}

/// Seconds since the epoch.
fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Core {
    /// `Driver::snapshot_create_xml`.
    pub(crate) fn snapshot_create(
        &self,
        dom: &Domain,
        xml: &str,
        flags: SnapshotCreateFlags,
    ) -> Result<Snapshot> {
        let request = SnapshotDef::from_xml(xml)?;
        let quiesce = flags.contains(SnapshotCreateFlags::QUIESCE);
        if quiesce && !flags.contains(SnapshotCreateFlags::DISK_ONLY) {
            // libvirt's VIR_REQUIRE_FLAG_RET, in its words.
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                "Flag 'VIR_DOMAIN_SNAPSHOT_CREATE_DISK_ONLY' is required by flag 'VIR_DOMAIN_SNAPSHOT_CREATE_QUIESCE' (--quiesce needs --disk-only)",
            ));
        }
        let jobs = self.jobs(dom)?;
        let job = jobs.begin_async(JobKind::Snapshot, &dom.name)?;
        // Holding the domain's job, no snapshot of this manager is under
        // way: a record of one is a stopped manager's.
        self.settle_pending(&dom.uuid)?;
        let (persistent, run) = self.with_entry(dom, |e| {
            Ok((e.persistent.as_deref().cloned(), e.running.clone()))
        })?;
        let Some(persistent) = persistent else {
            return Err(Error::new(
                ErrorCode::OperationInvalid,
                format!(
                    "domain '{}' is transient: snapshots are kept for defined domains only",
                    dom.name
                ),
            ));
        };
        let state = match &run {
            Some(r) => {
                let s = r.run_state().state;
                if !matches!(s, DomainState::Running | DomainState::Paused) {
                    return Err(Core::wrong_state(dom, "take a snapshot of", s));
                }
                let qmp = r.qmp()?;
                // No block job can have started since this manager's last
                // external snapshot found none, if no command that could
                // start one reached QEMU since: no need to ask.
                if !super::snap_external::graph_unchanged(r, qmp) {
                    super::blockjobs::no_block_jobs(qmp, &dom.name)?;
                }
                s
            }
            None => DomainState::Shutoff,
        };
        let def_now = match &run {
            Some(r) => r.live_def(),
            None => persistent,
        };
        let plan = self.plan_snapshot(dom, &request, flags, &def_now, state)?;
        // Quiesced: the guest's file systems are frozen through its agent
        // (which flushes what the guest holds back) while the disks are
        // taken, and thawed whatever the snapshot's outcome, as libvirt
        // does; a guest that is not running has no agent to ask.
        let frozen = if quiesce {
            if state != DomainState::Running {
                return Err(Core::wrong_state(dom, "quiesce the file systems of", state));
            }
            self.fs_freeze(dom, &[])?
        } else {
            0
        };
        let taken = match (plan.external, &run) {
            (false, Some(run)) => self.internal_live(dom, run, &plan, &job),
            (false, None) => self.internal_offline(dom, &plan, &job),
            (true, Some(run)) => self.external_live(dom, run, &plan, &job),
            (true, None) => self.external_offline(dom, &plan),
        };
        if frozen > 0 {
            match (self.fs_thaw(dom), &taken) {
                (Err(e), Ok(())) => return Err(e),
                (Err(e), Err(_)) => self.log.error(&format!(
                    "domain '{}': thawing the file systems after a failed snapshot: {e}",
                    dom.name
                )),
                (Ok(_), _) => {}
            }
        }
        taken?;
        self.log.info(&format!(
            "domain '{}': took {} snapshot '{}'",
            dom.name,
            if plan.external {
                "external"
            } else {
                "internal"
            },
            plan.name
        ));
        job.finish(&Ok(()));
        Ok(Snapshot {
            domain: dom.clone(),
            name: plan.name,
        })
    }

    /// Decides what a snapshot does: the location of memory and of each
    /// disk, the overlays' paths, and its record. Every check is here, so
    /// that a refused snapshot touches no image.
    fn plan_snapshot(
        &self,
        dom: &Domain,
        request: &SnapshotDef,
        flags: SnapshotCreateFlags,
        def: &DomainDef,
        state: DomainState,
    ) -> Result<Plan> {
        let created = now_secs();
        let name = request.name.clone().unwrap_or_else(|| created.to_string());
        let (taken, current) = self.name_taken_and_current(&dom.uuid, &name)?;
        if taken {
            return Err(super::storage::exists(&format!(
                "snapshot '{name}' of domain '{}'",
                dom.name
            )));
        }
        let disk_only = flags.contains(SnapshotCreateFlags::DISK_ONLY);
        let running = state != DomainState::Shutoff;
        let bad = |msg: String| Error::new(ErrorCode::ConfigUnsupported, msg);
        let asks_external = request
            .disks
            .iter()
            .any(|d| d.location == Some(SnapshotLocation::External));
        if asks_external && !disk_only {
            return Err(bad(format!(
                "snapshot '{name}': external disks need --disk-only (qvirt keeps memory only in internal snapshots)"
            )));
        }
        let memory = match request.memory {
            Some(SnapshotLocation::Internal) if disk_only => {
                return Err(bad(format!(
                    "snapshot '{name}': --disk-only takes no memory, but <memory snapshot='internal'/> asks for it"
                )));
            }
            Some(SnapshotLocation::Internal) if !running => {
                return Err(bad(format!(
                    "snapshot '{name}': domain '{}' is shut off, it has no memory to keep",
                    dom.name
                )));
            }
            Some(SnapshotLocation::No) if running && !disk_only => {
                return Err(bad(format!(
                    "snapshot '{name}': an internal snapshot of a running domain keeps its memory; use --disk-only for disks alone"
                )));
            }
            _ => running && !disk_only,
        };
        for asked in &request.disks {
            let known = def.devices.disks.iter().any(|d| {
                d.target == asked.name
                    || self
                        .disk_path(d)
                        .is_some_and(|p| p.to_str() == Some(&asked.name))
            });
            if !known {
                return Err(Error::new(
                    ErrorCode::InvalidArgument,
                    format!(
                        "snapshot '{name}': domain '{}' has no disk '{}'",
                        dom.name, asked.name
                    ),
                ));
            }
        }
        let mut disks = Vec::new();
        let mut record_disks = Vec::new();
        for d in &def.devices.disks {
            let path = self.disk_path(d);
            let asked = request.disks.iter().find(|a| {
                a.name == d.target || path.as_deref().and_then(|p| p.to_str()) == Some(&a.name)
            });
            let takes = d.device == DiskDevice::Disk && !d.readonly && path.is_some();
            let kind = if disk_only {
                SnapshotLocation::External
            } else {
                SnapshotLocation::Internal
            };
            // The disk's own `snapshot=` where the snapshot does not name
            // it, as libvirt's virDomainSnapshotAlignDisks: 'no' always;
            // 'internal' for a disk-only snapshot too (refused below);
            // otherwise the kind of snapshot decides.
            let default = match d.snapshot {
                _ if !takes => SnapshotLocation::No,
                Some(SnapshotLocation::No) => SnapshotLocation::No,
                Some(SnapshotLocation::Internal) if disk_only => SnapshotLocation::Internal,
                _ => kind,
            };
            let location = asked.and_then(|a| a.location).unwrap_or(default);
            if location != SnapshotLocation::No && !takes {
                return Err(bad(format!(
                    "snapshot '{name}': disk {} is a {}{} drive and cannot be in a snapshot",
                    d.target,
                    if d.readonly { "read-only " } else { "" },
                    d.device.as_str()
                )));
            }
            // As libvirt: an overlay over an encrypted image would have
            // to be encrypted too, which a snapshot's <disk> cannot ask
            // for here; internal snapshots stay inside the qcow2 image.
            if location == SnapshotLocation::External && d.encryption.is_some() {
                return Err(bad(format!(
                    "snapshot '{name}': disk {} is encrypted (<encryption>): an external snapshot of it is not supported; leave it out with <disk name='{}' snapshot='no'/>",
                    d.target, d.target
                )));
            }
            if location == SnapshotLocation::Internal && disk_only {
                return Err(bad(format!(
                    "snapshot '{name}': --disk-only snapshots are external; disk {} asks for internal",
                    d.target
                )));
            }
            let mut entry = SnapshotDisk {
                name: d.target.clone(),
                location: Some(location),
                source: None,
            };
            if location != SnapshotLocation::No {
                let path = path.clone().expect("takes implies a path");
                let format = match (d.format, d.kind) {
                    (None, DiskType::Volume) => self.image_format(&path)?,
                    (f, _) => volume_format(f, &d.target)?,
                };
                if location == SnapshotLocation::Internal && format != VolumeFormat::Qcow2 {
                    return Err(bad(format!(
                        "snapshot '{name}': disk {} is {}: internal snapshots live in qcow2 images; leave it out with <disk name='{}' snapshot='no'/> or use --disk-only",
                        d.target,
                        format.as_str(),
                        d.target
                    )));
                }
                let overlay = (location == SnapshotLocation::External).then(|| {
                    asked
                        .and_then(|a| a.source.clone())
                        .map(PathBuf::from)
                        .unwrap_or_else(|| default_overlay(&path, &name))
                });
                if let Some(o) = &overlay {
                    if std::fs::symlink_metadata(o).is_ok() {
                        return Err(Error::new(
                            ErrorCode::OperationInvalid,
                            format!(
                                "snapshot '{name}': the overlay {} of disk {} already exists; name another with <source file=...>",
                                o.display(),
                                d.target
                            ),
                        ));
                    }
                    entry.source = Some(o.to_string_lossy().into_owned());
                }
                disks.push(PlanDisk {
                    target: d.target.clone(),
                    path,
                    format,
                    overlay,
                });
            }
            record_disks.push(entry);
        }
        if disks.is_empty() {
            return Err(bad(format!(
                "snapshot '{name}': domain '{}' has no disk that can be in a snapshot (a writable qcow2 disk for an internal one)",
                dom.name
            )));
        }
        let snap_state = match (state, disk_only) {
            (DomainState::Shutoff, _) => SnapshotState::Shutoff,
            (_, true) => SnapshotState::DiskSnapshot,
            (DomainState::Paused, false) => SnapshotState::Paused,
            _ => SnapshotState::Running,
        };
        let record = SnapshotDef {
            name: Some(name.clone()),
            description: request.description.clone(),
            state: Some(snap_state),
            parent: current,
            creation_time: Some(created),
            memory: Some(if memory {
                SnapshotLocation::Internal
            } else {
                SnapshotLocation::No
            }),
            disks: record_disks,
            domain: Some(def.clone()),
        };
        Ok(Plan {
            name,
            def: record,
            disks,
            external: disk_only,
        })
    }

    /// The file of a disk: its source, or its volume's (`None` for an
    /// empty drive, or a volume whose pool is not running).
    pub(crate) fn disk_path(&self, d: &Disk) -> Option<PathBuf> {
        match (&d.source, &d.volume) {
            (Some(s), _) => Some(PathBuf::from(s)),
            (None, Some(v)) => self.volume_path(&v.pool, &v.volume).ok(),
            (None, None) => None,
        }
    }

    /// Records a snapshot taken: its file, then it becomes current, then
    /// the pending record goes.
    pub(crate) fn finish_snapshot(&self, uuid: &uuid::Uuid, def: &SnapshotDef) -> Result<()> {
        self.save_snapshot_record(uuid, def)?;
        self.set_current_snapshot(uuid, def.name.as_deref())?;
        self.clear_pending(uuid);
        Ok(())
    }

    /// `Driver::snapshot_list`.
    pub(crate) fn snapshot_list(&self, dom: &Domain) -> Result<Vec<SnapshotInfo>> {
        let records = self.load_snapshots(&dom.uuid)?;
        Ok(records.list.iter().map(|s| info_of(&records, s)).collect())
    }

    /// `Driver::snapshot_lookup`.
    pub(crate) fn snapshot_lookup(&self, dom: &Domain, name: &str) -> Result<Snapshot> {
        let dom = self.resolve(dom)?;
        let records = self.load_snapshots(&dom.uuid)?;
        match records.get(name) {
            Some(_) => Ok(Snapshot {
                domain: dom,
                name: name.to_string(),
            }),
            None => Err(no_snapshot(&dom.name, name)),
        }
    }

    /// `Driver::snapshot_current`.
    pub(crate) fn snapshot_current(&self, dom: &Domain) -> Result<Option<Snapshot>> {
        let dom = self.resolve(dom)?;
        let records = self.load_snapshots(&dom.uuid)?;
        Ok(records.current.map(|name| Snapshot { domain: dom, name }))
    }

    /// The record of `snap`, with all its domain's records.
    fn snapshot_record(&self, snap: &Snapshot) -> Result<(Records, SnapshotDef)> {
        self.resolve(&snap.domain)?;
        let records = self.load_snapshots(&snap.domain.uuid)?;
        let def = records
            .get(&snap.name)
            .cloned()
            .ok_or_else(|| no_snapshot(&snap.domain.name, &snap.name))?;
        Ok((records, def))
    }

    /// `Driver::snapshot_info`.
    pub(crate) fn snapshot_info(&self, snap: &Snapshot) -> Result<SnapshotInfo> {
        let (records, def) = self.snapshot_record(snap)?;
        Ok(info_of(&records, &def))
    }

    /// `Driver::snapshot_xml`.
    pub(crate) fn snapshot_xml(&self, snap: &Snapshot) -> Result<String> {
        let (_, mut def) = self.snapshot_record(snap)?;
        if let Some(d) = def.domain.take() {
            def.domain = Some(d.without_secrets().into_owned());
        }
        Ok(def.to_xml())
    }

    /// `Driver::snapshot_revert`.
    pub(crate) fn snapshot_revert(
        &self,
        snap: &Snapshot,
        flags: SnapshotRevertFlags,
    ) -> Result<()> {
        if flags.contains(SnapshotRevertFlags::RUNNING)
            && flags.contains(SnapshotRevertFlags::PAUSED)
        {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                "--running and --paused exclude each other",
            ));
        }
        let dom = self.resolve(&snap.domain)?;
        let jobs = self.jobs(&dom)?;
        let job = jobs.begin_async(JobKind::SnapshotRevert, &dom.name)?;
        self.settle_pending(&dom.uuid)?;
        let (_, def) = self.snapshot_record(snap)?;
        let external = def
            .disks
            .iter()
            .any(|d| d.location == Some(SnapshotLocation::External));
        if external {
            self.revert_external(&dom, &def, flags, &job)?;
        } else {
            self.revert_internal(&dom, &def, flags, &job)?;
        }
        self.set_current_snapshot(&dom.uuid, Some(&snap.name))?;
        self.log.info(&format!(
            "domain '{}': reverted to snapshot '{}'",
            dom.name, snap.name
        ));
        job.finish(&Ok(()));
        Ok(())
    }

    /// `Driver::snapshot_delete`.
    pub(crate) fn snapshot_delete(
        &self,
        snap: &Snapshot,
        flags: SnapshotDeleteFlags,
    ) -> Result<()> {
        let dom = self.resolve(&snap.domain)?;
        let jobs = self.jobs(&dom)?;
        let job = jobs.begin_async(JobKind::SnapshotDelete, &dom.name)?;
        self.settle_pending(&dom.uuid)?;
        let (records, def) = self.snapshot_record(snap)?;
        let metadata_only = flags.contains(SnapshotDeleteFlags::METADATA_ONLY);
        let mut doomed: Vec<String> = if flags.contains(SnapshotDeleteFlags::CHILDREN)
            || flags.contains(SnapshotDeleteFlags::CHILDREN_ONLY)
        {
            records.subtree(&snap.name)
        } else {
            vec![snap.name.clone()]
        };
        if flags.contains(SnapshotDeleteFlags::CHILDREN_ONLY) {
            doomed.retain(|n| *n != snap.name);
        }
        let external: Vec<&String> = doomed
            .iter()
            .filter(|n| {
                records.get(n).is_some_and(|s| {
                    s.disks
                        .iter()
                        .any(|d| d.location == Some(SnapshotLocation::External))
                })
            })
            .collect();
        if !metadata_only && !external.is_empty() {
            return Err(Error::new(
                ErrorCode::NoSupport,
                format!(
                    "snapshot '{}' of domain '{}' is external: its overlays are merged with blockcommit (or blockpull), then its record goes with snapshot-delete --metadata",
                    external[0], dom.name
                ),
            ));
        }
        let run = self.with_entry(&dom, |e| Ok(e.running.clone()))?;
        for name in &doomed {
            let s = records.get(name).expect("from the records").clone();
            if !metadata_only {
                self.delete_internal_data(&dom, run.as_deref(), &s, &job)?;
            }
            self.remove_snapshot_record(&dom.uuid, name)?;
        }
        // Children of a snapshot deleted alone move to its parent.
        if !flags.contains(SnapshotDeleteFlags::CHILDREN)
            && !flags.contains(SnapshotDeleteFlags::CHILDREN_ONLY)
        {
            for child in records.children(&snap.name) {
                let mut c = records.get(&child).expect("a child").clone();
                c.parent = def.parent.clone();
                self.save_snapshot_record(&dom.uuid, &c)?;
            }
        }
        if let Some(cur) = &records.current
            && doomed.contains(cur)
        {
            let parent = if flags.contains(SnapshotDeleteFlags::CHILDREN_ONLY) {
                Some(snap.name.clone())
            } else {
                def.parent.clone()
            };
            self.set_current_snapshot(&dom.uuid, parent.as_deref())?;
        }
        self.log.info(&format!(
            "domain '{}': deleted snapshot{} {}{}",
            dom.name,
            if doomed.len() == 1 { "" } else { "s" },
            doomed.join(", "),
            if metadata_only {
                " (metadata only)"
            } else {
                ""
            }
        ));
        job.finish(&Ok(()));
        Ok(())
    }

    /// Checks, before an undefine, that the domain's snapshots allow it:
    /// without `remove`, a domain with snapshots stays (as virsh's
    /// undefine without `--snapshots-metadata`). Returns whether there
    /// are records to remove once the definition is gone.
    pub(crate) fn undefine_snapshots_check(&self, dom: &Domain, remove: bool) -> Result<bool> {
        let records = self.load_snapshots(&dom.uuid)?;
        let n = records.list.len();
        if n > 0 && !remove {
            return Err(Error::new(
                ErrorCode::OperationInvalid,
                format!(
                    "cannot undefine domain '{}' with {n} snapshot{}: use --snapshots-metadata to remove their records (their data stays in the images), or delete them first",
                    dom.name,
                    if n == 1 { "" } else { "s" }
                ),
            ));
        }
        Ok(n > 0 || self.snapshot_dir(&dom.uuid).exists())
    }

    /// Replaces the persistent definition's disk `target` with `new`, if
    /// it still uses the image `old` (a define meanwhile wins).
    pub(crate) fn update_persistent_disk(
        &self,
        dom: &Domain,
        target: &str,
        old: &std::path::Path,
        new: &Disk,
    ) -> Result<()> {
        let _config = lock(&self.config);
        let def = self.with_entry(dom, |e| Ok(e.persistent.as_deref().cloned()))?;
        let Some(mut def) = def else { return Ok(()) };
        let Some(disk) = def.devices.disks.iter_mut().find(|d| d.target == target) else {
            return Ok(());
        };
        if self.disk_path(disk).as_deref() != Some(old) {
            return Ok(());
        }
        let mut replacement = new.clone();
        replacement.address = disk.address;
        replacement.boot_order = disk.boot_order;
        *disk = replacement;
        store::save(&self.layout, &def)?;
        self.with_entry(dom, |e| {
            e.persistent = Some(Box::new(def));
            Ok(())
        })
    }

    /// Starts a defined domain for a revert, paused (its vCPUs run once
    /// the snapshot's state is loaded). The caller holds the job.
    pub(crate) fn launch_paused(
        &self,
        dom: &Domain,
        def: DomainDef,
    ) -> Result<std::sync::Arc<Running>> {
        let id = self.next_id();
        let (run, link) = self.launch(
            def,
            id,
            super::launch::LaunchOptions {
                persistent: true,
                incoming: None,
                paused: true,
                reason: crate::driver::StateReason::Booted,
                consume: None,
                job: None,
                listen: None,
                marker: None,
            },
        )?;
        self.register(dom.uuid, &run, link, crate::driver::StateReason::Booted)?;
        Ok(run)
    }

    /// Stops the running QEMU of `dom` for a revert (as a destroy would).
    pub(crate) fn stop_for_revert(&self, dom: &Domain, job: &AsyncJobGuard<'_>) -> Result<()> {
        let run = self.with_entry(dom, |e| Ok(e.running.clone()))?;
        if let Some(run) = run {
            let _step = job.step(SyncKind::Destroy, &dom.name)?;
            self.stop_process(dom, &run, crate::driver::StateReason::Destroyed)?;
        }
        Ok(())
    }
}

/// libvirt's default overlay name: the image's path with its extension
/// replaced by the snapshot's name (`vm.qcow2` -> `vm.snap1`).
fn default_overlay(path: &std::path::Path, name: &str) -> PathBuf {
    let stem = match path.extension() {
        Some(_) => path.with_extension(""),
        None => path.to_path_buf(),
    };
    let mut s = stem.into_os_string();
    s.push(".");
    s.push(name);
    PathBuf::from(s)
}

/// The info of snapshot `s`.
fn info_of(records: &Records, s: &SnapshotDef) -> SnapshotInfo {
    let name = s.name.clone().unwrap_or_default();
    let mut info = SnapshotInfo::new(
        name.clone(),
        s.creation_time.unwrap_or(0),
        s.state.unwrap_or(SnapshotState::Shutoff),
    );
    info.parent = s.parent.clone();
    info.external = s
        .disks
        .iter()
        .any(|d| d.location == Some(SnapshotLocation::External));
    info.current = records.current.as_deref() == Some(name.as_str());
    info.description = s.description.clone();
    info.children = records.children(&name).len() as u32;
    info
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlays_are_named_as_libvirt_names_them() {
        assert_eq!(
            default_overlay(std::path::Path::new("/i/vm.qcow2"), "s1"),
            PathBuf::from("/i/vm.s1")
        );
        assert_eq!(
            default_overlay(std::path::Path::new("/i/disk"), "s1"),
            PathBuf::from("/i/disk.s1")
        );
    }
}
