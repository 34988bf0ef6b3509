//! The trays of cdrom drives: a status QEMU keeps (the guest ejects and
//! loads, a media change opens and closes them), which the live
//! definition's `<target tray='open'>` reports. A start opens the trays
//! its definition says are open; QEMU's `DEVICE_TRAY_MOVED` events, a
//! media change and a manager that reattaches take the state from
//! `query-block`, so that what qvirt reports is what QEMU has.

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
/// floppy drive has none), with whether it is open.
fn trays_in(def: &DomainDef, blocks: &Value) -> Vec<(String, bool)> {
    super::media::removable_drives(def)
        .into_iter()
        .filter_map(|(d, id)| {
            let open = device_entry(blocks, &id)?.get("tray_open")?.as_bool()?;
            Some((d.target.clone(), open))
        })
        .collect()
}

/// The alias of the drive a `DEVICE_TRAY_MOVED` event (`data`) is about
/// and whether its tray opened. QEMU names the device by its id or, for
/// a device without one, by its QOM path; a drive of no disk of `def`
/// gives `None`, as libvirt ignores an event for a disk it does not know.
fn tray_move(def: &DomainDef, data: &Value) -> Option<(String, bool)> {
    let open = data.get("tray-open")?.as_bool()?;
    let id = data.get("id")?.as_str()?;
    let id = id.strip_prefix("/machine/peripheral/").unwrap_or(id);
    let (_, alias) = super::media::removable_drives(def)
        .into_iter()
        .find(|(_, alias)| alias == id)?;
    Some((alias, open))
}

impl Core {
    /// Takes the trays of `run`'s drives from QEMU; whether any differed
    /// from what the live definition said (the status file is then
    /// written again).
    pub(crate) fn refresh_trays(&self, run: &Running) -> bool {
        let Ok(qmp) = run.qmp() else { return false };
        let Ok(blocks) = qmp.execute("query-block", None, QMP_TIMEOUT) else {
            return false;
        };
        let live = run.live_def();
        let mut changed = false;
        for (target, open) in trays_in(&live, &blocks) {
            let was = live
                .devices
                .disks
                .iter()
                .any(|d| d.target == target && d.tray_open);
            if was != open {
                run.set_tray(&target, open);
                changed = true;
            }
        }
        if changed {
            self.save_status(run.def.uuid, run);
        }
        changed
    }

    /// QEMU's `DEVICE_TRAY_MOVED`: subscribers hear of each move, as
    /// libvirt's tray change event tells of each (an eject followed by
    /// an insert is an open then a close). The state is read back from
    /// QEMU rather than taken from the event, so that an event handled
    /// late (after a media change that opened and closed the tray)
    /// cannot leave a tray reported open that QEMU has closed.
    pub(crate) fn on_tray_moved(&self, run: &Running, data: &Value) {
        let moved = tray_move(&run.live_def(), data);
        self.refresh_trays(run);
        // After the refresh, as libvirt updates the drive before it
        // queues the event: a client told of the move reads it back.
        if let Some((alias, open)) = moved {
            let domain = super::monitor::handle_of(run.def.uuid, run);
            self.emit(domain, EventKind::TrayMoved { alias, open });
        }
    }
}
