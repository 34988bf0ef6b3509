//! The trays of cdrom drives: a status QEMU keeps (the guest ejects and
//! loads, a media change opens and closes them), which the live
//! definition's `<target tray='open'>` reports. A start opens the trays
//! its definition says are open. QEMU's `DEVICE_TRAY_MOVED` events move
//! them; a media change, a machine reset and a manager that reattaches
//! take them from `query-block` as well, since QEMU shuts a tray without
//! an event when it resets the device. Each move is told once, when the
//! state changes, so that what qvirt reports is what QEMU has.

use serde_json::{Value, json};

use super::driver::Core;
use super::runtime::Running;
use crate::driver::EventKind;
use crate::error::Result;
use crate::model::DomainDef;
use crate::qemu::argv::disk_device_ids;
use crate::qemu::qmp::{QMP_TIMEOUT, Qmp, device_entry};

/// Opens the tray of every cdrom drive whose definition says it is
/// open, before the guest's first instruction.
pub(crate) fn open_trays(qmp: &Qmp, def: &DomainDef) -> Result<()> {
    let ids = disk_device_ids(def)?;
    for (disk, id) in def.devices.disks.iter().zip(ids) {
        if disk.tray_open {
            qmp.execute(
                "blockdev-open-tray",
                Some(json!({"id": id, "force": true})),
                QMP_TIMEOUT,
            )?;
        }
    }
    Ok(())
}

/// The drives of `def` whose tray `query-block` (`blocks`) reports (a
/// floppy drive has none): target, alias, and whether it is open.
fn trays_in(def: &DomainDef, blocks: &Value) -> Vec<(String, String, bool)> {
    super::media::removable_drives(def)
        .into_iter()
        .filter_map(|(d, id)| {
            let open = device_entry(blocks, &id)?.get("tray_open")?.as_bool()?;
            Some((d.target.clone(), id, open))
        })
        .collect()
}

/// The drive a `DEVICE_TRAY_MOVED` event (`data`) is about (target and
/// alias) and whether its tray opened. QEMU names the device by its id
/// or, for a device without one, by its QOM path; a drive of no disk of
/// `def` gives `None`, as libvirt ignores an event for a disk it does
/// not know.
fn tray_move(def: &DomainDef, data: &Value) -> Option<(String, String, bool)> {
    let open = data.get("tray-open")?.as_bool()?;
    let id = data.get("id")?.as_str()?;
    let id = id.strip_prefix("/machine/peripheral/").unwrap_or(id);
    let (disk, alias) = super::media::removable_drives(def)
        .into_iter()
        .find(|(_, alias)| alias == id)?;
    Some((disk.target.clone(), alias, open))
}

impl Core {
    /// Records that the tray of drive `target` (device `alias`) of `run`
    /// is `open` and, when that is a move from what the live definition
    /// said, tells subscribers (after the status file has it, as libvirt
    /// updates the drive before it queues the event: a client told of
    /// the move reads it back). Whether it moved.
    ///
    /// A state told again is no move: QEMU sends `DEVICE_TRAY_MOVED`
    /// with the same `tray-open` twice in a row when a device reset shut
    /// the tray in between, which it does without an event (the reset of
    /// an IDE or SCSI cdrom clears its tray flag), and the tray is then
    /// opened again. Runs on the monitor thread only, the one writer of
    /// the trays, so that moves are told in QEMU's order.
    fn tell_tray(&self, run: &Running, target: &str, alias: String, open: bool) -> bool {
        let was = run
            .live_def()
            .devices
            .disks
            .iter()
            .any(|d| d.target == target && d.tray_open);
        if was == open {
            return false;
        }
        run.set_tray(target, open);
        self.save_status(run.def.uuid, run);
        let domain = super::monitor::handle_of(run.def.uuid, run);
        self.emit(domain, EventKind::TrayMoved { alias, open });
        true
    }

    /// Takes the trays of `run`'s drives from `blocks` (a `query-block`
    /// reply), telling each move QEMU made without an event (see
    /// [`Core::tell_tray`]). Monitor thread only.
    pub(crate) fn take_trays(&self, run: &Running, blocks: &Value) {
        for (target, alias, open) in trays_in(&run.live_def(), blocks) {
            if self.tell_tray(run, &target, alias, open) {
                self.log.info(&format!(
                    "domain '{}': the tray of drive {target} is {}, a move QEMU did not tell",
                    run.def.name,
                    if open { "open" } else { "closed" }
                ));
            }
        }
    }

    /// Asks QEMU for the trays of `run`'s drives and takes them (see
    /// [`Core::take_trays`]). Monitor thread only.
    pub(crate) fn refresh_trays(&self, run: &Running) {
        let Ok(qmp) = run.qmp() else { return };
        if let Ok(blocks) = qmp.execute("query-block", None, QMP_TIMEOUT) {
            self.take_trays(run, &blocks);
        }
    }

    /// QEMU's `DEVICE_TRAY_MOVED`: subscribers hear of each move, as
    /// libvirt's tray change event tells of each (an eject followed by
    /// an insert is an open then a close). The state is the event's:
    /// events are handled in the order QEMU sent them, and a media
    /// change takes the trays from QEMU through the monitor after the
    /// events it caused (`Request::RefreshTrays`), so an event handled
    /// late cannot leave a tray reported open that QEMU has closed.
    pub(crate) fn on_tray_moved(&self, run: &Running, data: &Value) {
        if let Some((target, alias, open)) = tray_move(&run.live_def(), data) {
            self.tell_tray(run, &target, alias, open);
        }
    }
}
