//! Changing the medium of a cdrom or floppy drive: in the running domain
//! over QMP, in the persistent definition, or both (virsh's
//! `change-media` with `--live`, `--config`, or neither for "current").
//!
//! QMP does it in steps, as libvirt does with `-blockdev`: open the tray
//! (forced, whatever the guest's lock), remove the medium, delete its
//! block nodes, add nodes for the new file under the names the command
//! line gives them (`ID-storage`, and `ID-format` for qcow2), insert them,
//! close the tray. The nodes keep those names, so the next change finds
//! them the same way.

use std::path::Path;

use serde_json::{Value, json};

use super::driver::{Core, lock};
use super::runtime::Running;
use super::store;
use crate::driver::{Domain, DomainState, MediaChange, MediaFlags};
use crate::error::{Error, ErrorCode, Result};
use crate::model::{Disk, DiskDevice, DiskFormat, DiskType, DomainDef};
use crate::qemu::argv::disk_device_ids;
use crate::qemu::qmp::QMP_TIMEOUT;
use crate::qemu::qmp::Qmp;

impl Core {
    /// [`crate::Driver::change_media`].
    pub(crate) fn change_media(
        &self,
        dom: &Domain,
        target: &str,
        change: MediaChange,
        flags: MediaFlags,
    ) -> Result<()> {
        let jobs = self.jobs(dom)?;
        let _job = jobs.begin(super::jobs::SyncKind::Modify, &dom.name)?;
        let (run, persistent) = self.with_entry(dom, |e| {
            Ok((e.running.clone(), e.persistent.as_deref().cloned()))
        })?;
        let (live, config) = match (flags.live, flags.config) {
            (false, false) => (run.is_some(), run.is_none()),
            both => both,
        };
        let source = match &change {
            MediaChange::Eject => None,
            MediaChange::Insert(p) | MediaChange::Update(p) => Some(medium_path(p, target)?),
        };
        // Every check first, so that a refused change changes nothing.
        let live_run = match (live, &run) {
            (false, _) => None,
            (true, None) => {
                return Err(Core::wrong_state(
                    dom,
                    "change the live media of",
                    DomainState::Shutoff,
                ));
            }
            (true, Some(run)) => {
                let state = run.run_state().state;
                if !matches!(state, DomainState::Running | DomainState::Paused) {
                    return Err(Core::wrong_state(dom, "change the media of", state));
                }
                let live_def = run.live_def();
                let index = change.drive_in(&live_def, target, "running domain")?;
                Some((run.clone(), live_def, index))
            }
        };
        match (config, &persistent) {
            (false, _) => {}
            (true, None) => {
                return Err(Error::new(
                    ErrorCode::OperationInvalid,
                    format!(
                        "domain '{}' is transient: it has no persistent definition to change (drop --config)",
                        dom.name
                    ),
                ));
            }
            (true, Some(def)) => {
                change.drive_in(def, target, "persistent definition")?;
            }
        }
        if let Some((run, live_def, index)) = live_run {
            self.change_live(dom, &run, &live_def, index, source.clone())?;
        }
        if config {
            // The definition as it is now, under `config`: a define that
            // ran meanwhile is changed, not overwritten, and the file and
            // the table end up the same.
            let _config = lock(&self.config);
            let mut def = self.with_entry(dom, |e| {
                e.persistent.as_deref().cloned().ok_or_else(|| {
                    Error::new(
                        ErrorCode::OperationInvalid,
                        format!("domain '{}' was undefined meanwhile", dom.name),
                    )
                })
            })?;
            let index = change.drive_in(&def, target, "persistent definition")?;
            def.devices.disks[index].source = source;
            store::save(&self.layout, &def)?;
            self.with_entry(dom, |e| {
                e.persistent = Some(Box::new(def));
                Ok(())
            })?;
        }
        self.log.info(&format!(
            "domain '{}': {} of drive '{target}'{}{}",
            dom.name,
            match &change {
                MediaChange::Eject => "ejected the medium".to_string(),
                MediaChange::Insert(p) | MediaChange::Update(p) =>
                    format!("put {} in", p.display()),
            },
            if live { " (live)" } else { "" },
            if config { " (config)" } else { "" },
        ));
        Ok(())
    }

    /// Puts `source` (or nothing) into drive `index` of the running
    /// domain, and records what the drive holds afterwards, also when a
    /// step failed halfway (it is then empty).
    fn change_live(
        &self,
        dom: &Domain,
        run: &Running,
        live_def: &DomainDef,
        index: usize,
        source: Option<String>,
    ) -> Result<()> {
        let qmp = run.qmp()?;
        let id = disk_device_ids(live_def)?.swap_remove(index);
        let old = &live_def.devices.disks[index];
        let mut new = old.clone();
        new.source = source;
        let result = swap_medium(qmp, &id, old, &new);
        super::faults::crash_point("media-changed");
        let now = match &result {
            Ok(()) => new.source.clone(),
            Err(e) => {
                self.log.error(&format!(
                    "domain '{}': changing the medium of '{}' failed: {e}",
                    dom.name, old.target
                ));
                // Whatever went wrong, find out what the drive holds now.
                inserted(qmp, &id).unwrap_or(None)
            }
        };
        run.set_medium(&old.target, now);
        self.save_status(dom.uuid, run);
        // The change closed the tray (or left it open, if it failed). The
        // monitor takes the trays from QEMU after the events the change
        // caused, telling each move once: a guest that reset its IDE
        // channel meanwhile (firmware probing the drive) shut the tray
        // with no event, so QEMU's events alone can miss that move.
        let _ = run.ask(super::requests::Request::RefreshTrays);
        result.map_err(|e| {
            Error::new(
                e.code,
                format!(
                    "cannot change the medium of drive '{}' of domain '{}': {}",
                    old.target, dom.name, e.message
                ),
            )
        })
    }
}

/// The absolute path of a medium file, checked to exist (on this host,
/// where QEMU runs).
fn medium_path(path: &Path, target: &str) -> Result<String> {
    let path = std::path::absolute(path)
        .map_err(|e| Error::io(format!("cannot resolve {}", path.display()), e))?;
    std::fs::metadata(&path).map_err(|e| {
        Error::io(
            format!(
                "cannot use {} as the medium of drive '{target}'",
                path.display()
            ),
            e,
        )
    })?;
    path.to_str().map(str::to_string).ok_or_else(|| {
        Error::new(
            ErrorCode::InvalidArgument,
            format!("the medium path {} is not UTF-8", path.display()),
        )
    })
}

/// Replaces the medium of device `id` (`old` as it is, `new` as it is to
/// be) over QMP.
fn swap_medium(qmp: &Qmp, id: &str, old: &Disk, new: &Disk) -> Result<()> {
    let run = |cmd: &str, args: Value| qmp.execute(cmd, Some(args), QMP_TIMEOUT).map(|_| ());
    // A running guest may shut the tray between two commands (firmware
    // probing the drive resets the IDE channel, and QEMU's reset of the
    // drive shuts its tray), so each step that needs it open opens it
    // again when QEMU finds it shut.
    let with_tray_open = |cmd: &str, args: Value| {
        let mut attempt = 0;
        loop {
            run("blockdev-open-tray", json!({"id": id, "force": true}))?;
            match run(cmd, args.clone()) {
                Err(e) if attempt < 10 && tray_shut(&e) => {
                    attempt += 1;
                }
                other => return other,
            }
        }
    };
    with_tray_open("blockdev-remove-medium", json!({"id": id}))?;
    if old.source.is_some() {
        for node in node_names(id, old).into_iter().rev() {
            run("blockdev-del", json!({"node-name": node}))?;
        }
    }
    if let Some(source) = &new.source {
        let readonly = new.readonly || new.device == DiskDevice::Cdrom;
        let driver = match (new.kind, new.device) {
            (DiskType::File | DiskType::Volume, _) => "file",
            (DiskType::Block, DiskDevice::Cdrom) => "host_cdrom",
            (DiskType::Block, _) => "host_device",
            // Network and vhost-user disks have no path source, and a
            // directory's medium is not changed: they never get here.
            (DiskType::Network | DiskType::VhostUser | DiskType::Dir, _) => "nbd",
        };
        let nodes = node_names(id, new);
        run(
            "blockdev-add",
            json!({"driver": driver, "filename": source, "node-name": nodes[0], "read-only": readonly}),
        )?;
        if let Some(format) = nodes.get(1) {
            let added = run(
                "blockdev-add",
                json!({"driver": "qcow2", "file": nodes[0], "node-name": format, "read-only": readonly}),
            );
            if let Err(e) = added {
                let _ = run("blockdev-del", json!({"node-name": nodes[0]}));
                return Err(e);
            }
        }
        let top = nodes.last().expect("at least the storage node");
        if let Err(e) = with_tray_open(
            "blockdev-insert-medium",
            json!({"id": id, "node-name": top}),
        ) {
            for node in nodes.iter().rev() {
                let _ = run("blockdev-del", json!({"node-name": node}));
            }
            return Err(e);
        }
    }
    run("blockdev-close-tray", json!({"id": id}))
}

/// Whether QEMU refused a medium command because the tray was shut
/// (`blockdev-remove-medium` and `blockdev-insert-medium` word it
/// differently).
fn tray_shut(e: &Error) -> bool {
    e.message.contains("Tray of") && e.message.contains("is not open")
}

/// The block nodes of a drive's medium, bottom first: the storage node,
/// and for an image format other than raw the format node on it (as the
/// command line names them).
fn node_names(id: &str, disk: &Disk) -> Vec<String> {
    let mut nodes = vec![format!("{id}-storage")];
    if !matches!(disk.format, None | Some(DiskFormat::Raw)) {
        nodes.push(format!("{id}-format"));
    }
    nodes
}

/// The file in device `id`'s drive, as `query-block` reports it.
fn inserted(qmp: &Qmp, id: &str) -> Result<Option<String>> {
    let blocks = qmp.execute("query-block", None, QMP_TIMEOUT)?;
    Ok(inserted_in(&blocks, id))
}

/// What each removable drive (cdrom, floppy) of `def` holds, by target,
/// as `blocks` (a `query-block` reply) reports it.
pub(crate) fn media_in_drives(def: &DomainDef, blocks: &Value) -> Vec<(String, Option<String>)> {
    removable_drives(def)
        .into_iter()
        .map(|(d, id)| (d.target.clone(), inserted_in(blocks, &id)))
        .collect()
}

/// The removable drives (cdrom, floppy) of `def` with their device ids.
pub(crate) fn removable_drives(def: &DomainDef) -> Vec<(&Disk, String)> {
    let Ok(ids) = disk_device_ids(def) else {
        return Vec::new();
    };
    def.devices
        .disks
        .iter()
        .zip(ids)
        .filter(|(d, _)| matches!(d.device, DiskDevice::Cdrom | DiskDevice::Floppy))
        .collect()
}

/// The file in device `id`'s drive in a `query-block` reply.
fn inserted_in(blocks: &Value, id: &str) -> Option<String> {
    crate::qemu::qmp::device_entry(blocks, id)
        .and_then(|b| b.get("inserted"))
        .and_then(|i| i.get("file"))
        .and_then(Value::as_str)
        .map(str::to_string)
}
