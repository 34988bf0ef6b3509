//! Snapshot metadata on disk: under the state directory's `snapshot/`,
//! a directory per domain UUID holding one `NAME.xml` per snapshot (the
//! `<domainsnapshot>` document with the domain's definition, written
//! like definitions: atomically and durably) and `current`, the name of
//! the current snapshot.
//!
//! A snapshot being taken is first recorded as `.pending.json`: what it
//! will be, and what to look for in the images. A manager killed in the
//! middle leaves that record, and the next one settles it when it opens
//! (see [`Core::settle_snapshots`]): the snapshot is completed when the
//! images hold it whole, and undone otherwise, so there is a complete
//! snapshot or none. A record that cannot be settled yet stays until
//! it can: the domain's next snapshot operation settles it first.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::driver::{Core, lock};
use crate::error::{Error, ErrorCode, Result};
use crate::model::SnapshotDef;
use crate::sys::fsutil::{
    ensure_private_dir, is_leftover_temp, remove_durable, remove_runtime, replace_atomic,
    write_atomic,
};

/// The snapshots of one domain, as recorded.
pub(crate) struct Records {
    /// Every snapshot, oldest first.
    pub list: Vec<SnapshotDef>,
    /// The current snapshot's name.
    pub current: Option<String>,
}

impl Records {
    /// The snapshot named `name`.
    pub fn get(&self, name: &str) -> Option<&SnapshotDef> {
        self.list.iter().find(|s| s.name.as_deref() == Some(name))
    }

    /// The names of the snapshots whose parent is `name`.
    pub fn children(&self, name: &str) -> Vec<String> {
        self.list
            .iter()
            .filter(|s| s.parent.as_deref() == Some(name))
            .filter_map(|s| s.name.clone())
            .collect()
    }

    /// `name` and all its descendants, descendants first.
    pub fn subtree(&self, name: &str) -> Vec<String> {
        let mut out = Vec::new();
        for child in self.children(name) {
            out.extend(self.subtree(&child));
        }
        out.push(name.to_string());
        out
    }
}

/// What a snapshot being taken records before touching any image.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Pending {
    /// The snapshot as it will be recorded (stored form).
    pub def_xml: String,
    /// Internal (tags in qcow2 images) or external (new overlays).
    pub external: bool,
    /// The QEMU job taking an internal snapshot of a running domain.
    pub job: Option<String>,
    /// The images it goes into: for an internal snapshot, the qcow2
    /// images that get the tag; for an external one, each disk's target,
    /// base image and new overlay.
    pub disks: Vec<PendingDisk>,
}

impl Pending {
    /// The record of `plan` about to be taken; `job` names the QEMU job
    /// of an internal snapshot of a running domain.
    pub(crate) fn of(plan: &super::snapshots::Plan, job: Option<String>) -> Pending {
        Pending {
            def_xml: plan.def.to_xml(),
            external: plan.external,
            job,
            disks: plan
                .disks
                .iter()
                .map(|d| PendingDisk {
                    target: d.target.clone(),
                    path: d.path.clone(),
                    overlay: d.overlay.clone(),
                    node: None,
                })
                .collect(),
        }
    }

    /// This record with `nodes[i]` as the name of the node disk `i`'s
    /// overlay gets in QEMU.
    pub(crate) fn with_nodes(mut self, nodes: &[String]) -> Pending {
        for (d, n) in self.disks.iter_mut().zip(nodes) {
            d.node = Some(n.clone());
        }
        self
    }
}

/// One disk of a [`Pending`] snapshot.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PendingDisk {
    /// The disk's target.
    pub target: String,
    /// Its image when the snapshot began.
    pub path: PathBuf,
    /// The overlay an external snapshot puts on it.
    pub overlay: Option<PathBuf>,
    /// The name of the overlay's node in a running domain's QEMU (none
    /// in records of older versions).
    #[serde(default)]
    pub node: Option<String>,
}

/// The name of the pending record.
pub(crate) const PENDING: &str = ".pending.json";

impl Core {
    /// The snapshot directory of domain `uuid`.
    pub(crate) fn snapshot_dir(&self, uuid: &Uuid) -> PathBuf {
        self.layout.snapshots.join(uuid.to_string())
    }

    /// Reads the snapshots of domain `uuid` (none when it has no
    /// directory). A damaged file is logged and left out, never changed.
    pub(crate) fn load_snapshots(&self, uuid: &Uuid) -> Result<Records> {
        let dir = self.snapshot_dir(uuid);
        let mut records = Records {
            list: Vec::new(),
            current: None,
        };
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(records),
            Err(e) => return Err(Error::io(format!("cannot read {}", dir.display()), e)),
        };
        for e in entries.flatten() {
            let file = e.file_name().to_string_lossy().into_owned();
            let Some(name) = file.strip_suffix(".xml") else {
                continue;
            };
            match read_record(&dir, name) {
                Ok(Some(def)) => records.list.push(def),
                Ok(None) => {}
                Err(why) => self.log.error(&format!(
                    "snapshots: skipping {}: {why}",
                    e.path().display()
                )),
            }
        }
        records
            .list
            .sort_by(|a, b| (a.creation_time, &a.name).cmp(&(b.creation_time, &b.name)));
        records.current = current_name(&dir, |n| records.get(n).is_some());
        Ok(records)
    }

    /// Whether domain `uuid` has a snapshot named `name`, and the name
    /// of its current snapshot, as [`Core::load_snapshots`] says them,
    /// but reading only the records concerned rather than all of them
    /// (each holds a domain definition to parse): what taking a
    /// snapshot needs to know of the others.
    pub(crate) fn name_taken_and_current(
        &self,
        uuid: &Uuid,
        name: &str,
    ) -> Result<(bool, Option<String>)> {
        let dir = self.snapshot_dir(uuid);
        let whole = |n: &str| matches!(read_record(&dir, n), Ok(Some(_)));
        Ok((whole(name), current_name(&dir, whole)))
    }

    /// Writes snapshot `def` of domain `uuid`, durably.
    pub(crate) fn save_snapshot_record(&self, uuid: &Uuid, def: &SnapshotDef) -> Result<()> {
        let dir = self.snapshot_dir(uuid);
        ensure_private_dir(&dir)?;
        let name = def
            .name
            .as_deref()
            .ok_or_else(|| Error::new(ErrorCode::Internal, "a snapshot record without a name"))?;
        write_atomic(&dir.join(format!("{name}.xml")), def.to_xml().as_bytes())
    }

    /// Removes the record of snapshot `name` of domain `uuid`.
    pub(crate) fn remove_snapshot_record(&self, uuid: &Uuid, name: &str) -> Result<()> {
        remove_durable(&self.snapshot_dir(uuid).join(format!("{name}.xml")))
    }

    /// Makes `name` the current snapshot of domain `uuid` (`None`: none).
    pub(crate) fn set_current_snapshot(&self, uuid: &Uuid, name: Option<&str>) -> Result<()> {
        let file = self.snapshot_dir(uuid).join("current");
        match name {
            Some(n) => {
                ensure_private_dir(&self.snapshot_dir(uuid))?;
                write_atomic(&file, n.as_bytes())
            }
            None => remove_durable(&file),
        }
    }

    /// Records a snapshot being taken.
    pub(crate) fn write_pending(&self, uuid: &Uuid, pending: &Pending) -> Result<()> {
        let dir = self.snapshot_dir(uuid);
        ensure_private_dir(&dir)?;
        let json = serde_json::to_vec(pending).map_err(|e| {
            Error::new(
                ErrorCode::Internal,
                format!("cannot encode the snapshot record: {e}"),
            )
        })?;
        replace_atomic(&dir.join(PENDING), &json)
    }

    /// Forgets the record of a snapshot being taken.
    pub(crate) fn clear_pending(&self, uuid: &Uuid) {
        let _ = remove_runtime(&self.snapshot_dir(uuid).join(PENDING));
    }

    /// Removes every snapshot record of domain `uuid` (the data stays in
    /// the images).
    pub(crate) fn remove_all_snapshot_records(&self, uuid: &Uuid) -> Result<()> {
        let dir = self.snapshot_dir(uuid);
        match std::fs::remove_dir_all(&dir) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::io(format!("cannot remove {}", dir.display()), e)),
        }
    }

    /// Settles the snapshots a killed manager left half taken, for every
    /// domain: completes each whose images hold it whole, undoes the
    /// others. Once, when the manager opens (after reattaching, so a
    /// running domain's QEMU can be asked). A record that cannot be
    /// settled yet (the domain's QEMU does not answer) stays, and the
    /// next snapshot operation of its domain settles it first.
    pub(crate) fn settle_snapshots(&self) {
        let Ok(dirs) = std::fs::read_dir(&self.layout.snapshots) else {
            return;
        };
        for d in dirs.flatten() {
            clear_leftovers(&d.path());
            if let Ok(uuid) = Uuid::parse_str(&d.file_name().to_string_lossy()) {
                let _ = self.settle_pending(&uuid);
            }
        }
    }

    /// Settles the half-taken snapshot of domain `uuid`, if a killed
    /// manager left one. The record is removed only once the images
    /// were seen to hold the snapshot whole (it is completed) or
    /// certainly not (what they held of it is undone): deciding while
    /// QEMU may still be writing it would leave a tag no record names.
    pub(crate) fn settle_pending(&self, uuid: &Uuid) -> Result<()> {
        let dir = self.snapshot_dir(uuid);
        let bytes = match std::fs::read(dir.join(PENDING)) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => {
                return Err(Error::io(
                    format!("cannot read {}", dir.join(PENDING).display()),
                    e,
                ));
            }
        };
        let pending: Pending = match serde_json::from_slice(&bytes) {
            Ok(p) => p,
            Err(e) => {
                self.log.error(&format!(
                    "snapshots: {} is damaged ({e}); removing it",
                    dir.join(PENDING).display()
                ));
                self.clear_pending(uuid);
                return Ok(());
            }
        };
        let run = lock(&self.inner)
            .entries
            .get(uuid)
            .and_then(|e| e.running.clone());
        let result = if pending.external {
            self.settle_external(uuid, &pending, run.as_deref())
        } else {
            self.settle_internal(uuid, &pending, run.as_deref())
        };
        match result {
            Ok(true) => self.log.warn(&format!(
                "snapshots: domain {uuid}: a snapshot taken while no manager watched was completed"
            )),
            Ok(false) => self.log.warn(&format!(
                "snapshots: domain {uuid}: a snapshot cut off before it was whole was undone"
            )),
            Err(e) => {
                self.log.error(&format!(
                    "snapshots: domain {uuid}: cannot settle a snapshot cut off yet (kept for later): {e}"
                ));
                return Err(Error::new(
                    e.code,
                    format!(
                        "a snapshot a stopped manager left half taken cannot be settled yet: {}",
                        e.message
                    ),
                ));
            }
        }
        self.clear_pending(uuid);
        Ok(())
    }
}

/// The record of snapshot `name` in `dir`: its file `NAME.xml`, which
/// must parse and name it. `Ok(None)` when there is no such file (or
/// `name` is no record's: empty, or hidden like the pending record);
/// why it is no record when the file is there but damaged or another's.
fn read_record(dir: &Path, name: &str) -> std::result::Result<Option<SnapshotDef>, String> {
    if name.is_empty() || name.starts_with('.') {
        return Ok(None);
    }
    let text = match std::fs::read_to_string(dir.join(format!("{name}.xml"))) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.to_string()),
    };
    let def = SnapshotDef::from_stored_xml(&text).map_err(|e| Error::from(e).to_string())?;
    if def.name.as_deref() != Some(name) {
        return Err("its name is not its file's".into());
    }
    Ok(Some(def))
}

/// The name the `current` file of `dir` gives, when `exists` says a
/// snapshot has it.
fn current_name(dir: &Path, exists: impl Fn(&str) -> bool) -> Option<String> {
    let name = std::fs::read_to_string(dir.join("current")).ok()?;
    let name = name.trim();
    exists(name).then(|| name.to_string())
}

/// Removes the temporary files of writes a crash cut off in `dir`.
fn clear_leftovers(dir: &Path) {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            if is_leftover_temp(&e.file_name().to_string_lossy()) {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::driver::SnapshotCreateFlags;
    use crate::error::ErrorCode;
    use crate::model::VolumeFormat;
    use crate::qemu::img;

    /// Taking a snapshot reads only two records; it must see them as the
    /// whole read does: a damaged record (or one whose file names
    /// another snapshot) is no snapshot, so its name is free and it is
    /// no parent, while a whole record's name is taken.
    #[test]
    fn taking_a_snapshot_sees_the_records_as_listing_does() {
        let root = std::env::temp_dir().join(format!("qvirt-snapmeta-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        let image = root.join("d.qcow2");
        img::create(&image, VolumeFormat::Qcow2, 1 << 20, &Default::default()).unwrap();
        let d = crate::connect(&format!("qemu:///embed?root={}/state", root.display())).unwrap();
        let dom = d
            .define_xml(&format!(
                "<domain type='qemu'><name>records</name><memory unit='MiB'>64</memory>\
                 <os><type arch='x86_64' machine='pc'>hvm</type></os><devices>\
                 <disk type='file' device='disk'><driver name='qemu' type='qcow2'/>\
                 <source file='{}'/><target dev='vda' bus='virtio'/></disk></devices></domain>",
                image.display()
            ))
            .unwrap();
        let mut n = 0;
        let mut take = |name: &str| {
            n += 1;
            let xml = format!(
                "<domainsnapshot><name>{name}</name><disks><disk name='vda' snapshot='external'>\
                 <source file='{}/o{n}.qcow2'/></disk></disks></domainsnapshot>",
                root.display()
            );
            d.snapshot_create_xml(&dom, &xml, SnapshotCreateFlags::DISK_ONLY)
        };
        let dir = root.join(format!("state/snapshot/{}", dom.uuid));
        let parent = |name: &str| {
            let s = d.snapshot_lookup(&dom, name).unwrap();
            d.snapshot_info(&s).unwrap().parent
        };

        take("s1").unwrap();
        take("s2").unwrap();
        assert_eq!(parent("s2").as_deref(), Some("s1"));
        // A whole record's name is taken.
        let e = take("s1").unwrap_err();
        assert_eq!(e.code, ErrorCode::OperationInvalid, "{e}");
        assert!(e.message.contains("already exists"), "{e}");

        // The current snapshot's record is damaged: no parent.
        std::fs::write(dir.join("s2.xml"), "<domainsnapshot><name>s2").unwrap();
        take("s3").unwrap();
        assert_eq!(parent("s3"), None);
        // Its name is free again (the damaged file is replaced).
        take("s2").unwrap();
        assert_eq!(parent("s2").as_deref(), Some("s3"));

        // A file named for s4 holding s1's record is no s4, and the
        // current file naming it names no snapshot.
        std::fs::copy(dir.join("s1.xml"), dir.join("s4.xml")).unwrap();
        std::fs::write(dir.join("current"), "s4").unwrap();
        take("s4").unwrap();
        assert_eq!(parent("s4"), None);
        let names: Vec<String> = d
            .snapshot_list(&dom)
            .unwrap()
            .into_iter()
            .map(|s| s.name)
            .collect();
        assert_eq!(names.len(), 4, "{names:?}");
        drop(d);
        std::fs::remove_dir_all(&root).unwrap();
    }
}
