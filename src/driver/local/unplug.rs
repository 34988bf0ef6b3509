//! Device unplug: `device_del`, then waiting (with a deadline) until
//! QEMU no longer has the device, which needs the guest's consent, then
//! the device's backends (block nodes, network backend and tap, objects,
//! chardevs); a guest that lets go only after the deadline is followed
//! by QEMU's `DEVICE_DELETED`, which finishes the unplug then. The live
//! definition (and the status file a restarted manager reads) changes
//! only after QEMU let the device go.

use super::numbered::Numbered;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::driver::{Core, lock};
use super::hotplug::{Found, has_device, remove_nodes};
use super::runtime::Running;
use crate::driver::{Domain, EventKind};
use crate::error::{Error, ErrorCode, Result};
use crate::model::{ControllerType, DomainDef, RngBackend};
use crate::qemu::argv::{
    disk_device_ids, memory_device_ids, nic_id, rng_ids, scsi_controller_id, scsi_controllers_used,
    watchdog_id,
};
use crate::qemu::qmp::{QMP_TIMEOUT, Qmp};
use crate::sys::hostnet;

/// How long a guest has to let go of a device being unplugged.
pub(super) const UNPLUG_WAIT: Duration = Duration::from_secs(20);

impl Core {
    /// Removes device `index` (of `device`'s kind) of the live definition
    /// from the running domain, and records it gone once QEMU let it go.
    /// When the guest does not let go in time, the device is left
    /// pending: QEMU's `DEVICE_DELETED`, if it comes later, finishes the
    /// unplug ([`Core::on_device_deleted`]).
    pub(super) fn unplug(&self, dom: &Domain, run: &Running, found: Found) -> Result<()> {
        let live = run.live_def();
        let qmp = run.qmp()?;
        let what = found.describe(&live);
        let id = match found {
            Found::Disk(index) => disk_device_ids(&live)?.swap_remove(index),
            Found::Interface(index) => {
                nic_id(&live.devices.interfaces[index], run.nic_ids()[index])
            }
            Found::Rng(index) => rng_ids(run.plugged().ids[Numbered::Rng][index]).0,
            Found::Memory(index) => memory_device_ids(&live).swap_remove(index).0,
            Found::Watchdog(index) => watchdog_id(index),
            Found::Input(index) => super::plug_devices::live_input_id(run, index),
            Found::Channel(index) => super::plug_chr::live_channel_id(run, index),
            Found::Redirdev(index) => super::plug_chr::live_redir_id(run, index),
            Found::Shmem(index) => super::plug_shmem::live_shmem_id(run, index),
            Found::Console(index) => super::plug_chr::live_console_id(run, index),
            // By its XML or its alias: never while a console's own port
            // is numbered after the others.
            Found::Serial(index) => {
                super::plug_serial::ports_numbered_in_order(&live, dom, "detach")?;
                super::plug_serial::live_serial_id(run, index)
            }
            Found::Filesystem(index) => {
                crate::qemu::argv::fs_id(super::plug_fs::live_fs_number(run, index) as usize)
            }
            Found::Controller(index) => {
                let index = live.devices.controllers[index].index;
                if scsi_controllers_used(&live)?.contains(&index) {
                    return Err(Error::new(
                        ErrorCode::OperationFailed,
                        "device cannot be detached: device is busy",
                    ));
                }
                scsi_controller_id(index)
            }
        };
        // This call waits for the device itself now.
        lock(&run.unplugging).retain(|i| *i != id);
        if let Err(e) = remove_device(qmp, &id) {
            if e.code == ErrorCode::Timeout {
                lock(&run.unplugging).push(id.clone());
            }
            return Err(Error::new(
                e.code,
                format!(
                    "cannot detach {what} from domain '{}': {}",
                    dom.name, e.message
                ),
            ));
        }
        self.finish_unplug(run, &id);
        Ok(())
    }

    /// QEMU's `DEVICE_DELETED` (from the run's monitor): a device whose
    /// unplug timed out was let go by the guest after all; the live
    /// definition and QEMU's backends follow.
    pub(crate) fn on_device_deleted(&self, run: &Running, data: &Value) {
        let Some(id) = data.get("device").and_then(Value::as_str) else {
            return;
        };
        {
            let mut pending = lock(&run.unplugging);
            if !pending.iter().any(|i| i == id) {
                return;
            }
            pending.retain(|i| i != id);
        }
        self.log.info(&format!(
            "domain '{}': the guest let go of device '{id}' after all",
            run.def.name
        ));
        self.finish_unplug(run, id);
    }

    /// Takes device `id`, which QEMU no longer has, out of the live
    /// definition and the status file, then removes its backend (block
    /// nodes, network backend and tap).
    fn finish_unplug(&self, run: &Running, id: &str) {
        let name = &run.def.name;
        let live = run.live_def();
        let Ok(qmp) = run.qmp() else { return };
        let is_nic = |p: &super::runtime::Plugged| {
            p.interfaces
                .iter()
                .zip(&p.ids[Numbered::Nic])
                .position(|(net, n)| nic_id(net, *n) == id)
        };
        let is_rng = |p: &super::runtime::Plugged| {
            p.ids[Numbered::Rng]
                .iter()
                .position(|n| rng_ids(*n).0 == id)
        };
        let mut gone_net = None;
        let plugged = run.plugged();
        let memory = memory_device_ids(&live).iter().position(|(m, _)| m == id);
        let input = (0..plugged.inputs.len())
            .position(|i| super::plug_devices::live_input_id(run, i) == id);
        let watchdog = (0..plugged.watchdogs.len()).position(|i| watchdog_id(i) == id);
        let channel = (0..plugged.channels.len())
            .position(|i| super::plug_chr::live_channel_id(run, i) == id);
        let redir =
            (0..plugged.redirdevs.len()).position(|i| super::plug_chr::live_redir_id(run, i) == id);
        let shmem =
            (0..plugged.shmems.len()).position(|i| super::plug_shmem::live_shmem_id(run, i) == id);
        let console = (0..plugged.consoles.len()).position(|i| {
            plugged.consoles[i].target_type.as_deref() == Some("virtio")
                && super::plug_chr::live_console_id(run, i) == id
        });
        let serial = (0..plugged.serials.len())
            .position(|i| super::plug_serial::live_serial_id(run, i) == id);
        let share = (0..plugged.filesystems.len())
            .map(|i| super::plug_fs::live_fs_number(run, i))
            .position(|n| crate::qemu::argv::fs_id(n as usize) == id);
        let controller = plugged
            .controllers
            .iter()
            .position(|c| c.kind == ControllerType::Scsi && scsi_controller_id(c.index) == id);
        let backend = match (is_nic(&plugged), is_rng(&plugged)) {
            // Devices without a backend.
            _ if let Some(i) = input => {
                run.update_plugged(|p| {
                    if i < p.inputs.len() {
                        p.inputs.remove(i);
                        p.ids[Numbered::Input].remove(i);
                    }
                });
                Ok(())
            }
            // A share's socket, then its virtiofsd (gone by itself once
            // QEMU closed the socket: reaped).
            _ if let Some(i) = share => {
                let n = super::plug_fs::live_fs_number(run, i);
                run.update_plugged(|p| {
                    if i < p.filesystems.len() {
                        p.filesystems.remove(i);
                        p.ids[Numbered::Fs].remove(i);
                    }
                });
                let removed = super::plug_rng::remove_chardev(qmp, &format!("chr-vu-{id}"));
                super::virtiofs::stop_plugged(&run.run_dir, n);
                let _ = std::fs::remove_file(crate::qemu::argv::virtiofs_socket(
                    &run.run_dir,
                    n as usize,
                ));
                removed
            }
            _ if let Some(i) = console => {
                let rank = crate::qemu::argv::virtio_console_rank(&live, i);
                run.update_plugged(|p| {
                    if i < p.consoles.len() {
                        p.consoles.remove(i);
                    }
                    if rank < p.ids[Numbered::Console].len() {
                        p.ids[Numbered::Console].remove(rank);
                    }
                });
                super::plug_rng::remove_chardev(qmp, &format!("char{id}"))
            }
            // The memory backend, or the server's socket.
            _ if let Some(i) = shmem => {
                let mut server = false;
                run.update_plugged(|p| {
                    if i < p.shmems.len() {
                        server = p.shmems.remove(i).server_path().is_some();
                        p.ids[Numbered::Shmem].remove(i);
                    }
                });
                match server {
                    true => super::plug_rng::remove_chardev(qmp, &format!("char{id}")),
                    false => remove_object(qmp, &format!("shmmem-{id}")),
                }
            }
            // A console that is this port goes with it.
            _ if let Some(i) = serial => {
                run.update_plugged(|p| {
                    if i < p.serials.len() {
                        let gone = p.serials.remove(i);
                        p.ids[Numbered::Serial].remove(i);
                        let port = gone.target_port.unwrap_or(i as u32);
                        p.consoles.retain(|c| {
                            !matches!(c.target_type.as_deref(), None | Some("serial"))
                                || c.target_port.unwrap_or(0) != port
                        });
                    }
                });
                super::plug_rng::remove_chardev(qmp, &format!("char{id}"))
            }
            _ if let Some(i) = redir => {
                run.update_plugged(|p| {
                    if i < p.redirdevs.len() {
                        p.redirdevs.remove(i);
                        p.ids[Numbered::Redir].remove(i);
                    }
                });
                super::plug_rng::remove_chardev(qmp, &format!("char{id}"))
            }
            _ if let Some(i) = channel => {
                run.update_plugged(|p| {
                    if i < p.channels.len() {
                        p.channels.remove(i);
                        p.ids[Numbered::Channel].remove(i);
                    }
                });
                super::plug_rng::remove_chardev(qmp, &format!("char{id}"))
            }
            _ if let Some(i) = controller => {
                run.update_plugged(|p| {
                    if i < p.controllers.len() {
                        p.controllers.remove(i);
                    }
                });
                Ok(())
            }
            _ if let Some(i) = watchdog => {
                run.update_plugged(|p| {
                    if i < p.watchdogs.len() {
                        p.watchdogs.remove(i);
                    }
                });
                Ok(())
            }
            _ if let Some(i) = memory => {
                run.update_plugged(|p| {
                    if i < p.memories.len() {
                        p.memories.remove(i);
                    }
                });
                remove_object(qmp, &format!("mem{id}"))
            }
            (_, Some(_)) => {
                let mut gone = None;
                run.update_plugged(|p| {
                    if let Some(i) = is_rng(p) {
                        gone = Some(p.rngs.remove(i));
                        p.ids[Numbered::Rng].remove(i);
                    }
                });
                // An egd backend's socket goes after the backend.
                remove_object(qmp, &format!("obj{id}")).and_then(|()| {
                    match gone.map(|r| r.backend) {
                        Some(RngBackend::Egd(_)) => {
                            super::plug_rng::remove_chardev(qmp, &format!("char{id}"))
                        }
                        _ => Ok(()),
                    }
                })
            }
            (Some(_), None) => {
                run.update_plugged(|p| {
                    if let Some(i) = is_nic(p) {
                        gone_net = Some(p.interfaces.remove(i));
                        p.ids[Numbered::Nic].remove(i);
                    }
                });
                qmp.execute(
                    "netdev_del",
                    Some(json!({"id": format!("host{id}")})),
                    QMP_TIMEOUT,
                )
                .map(|_| ())
            }
            (None, None) => {
                let target = disk_device_ids(&live)
                    .ok()
                    .and_then(|ids| ids.iter().position(|i| i == id))
                    .map(|i| live.devices.disks[i].target.clone());
                run.update_plugged(|p| p.disks.retain(|d| Some(&d.target) != target.as_ref()));
                let removed = drive_released(qmp, id).and_then(|()| remove_nodes(qmp, id));
                // The disk's secret files, if it had any.
                if removed.is_ok() {
                    let files = [
                        crate::qemu::argv::disk_secret_file(&run.run_dir, id),
                        crate::qemu::argv::disk_encryption_file(&run.run_dir, id),
                        crate::qemu::argv::disk_cookie_file(&run.run_dir, id),
                    ];
                    for f in files {
                        let _ = std::fs::remove_file(f);
                    }
                }
                removed
            }
        };
        self.save_status(run.def.uuid, run);
        if let Some(net) = gone_net {
            let one = one_interface(&live, net);
            for (tap, e) in hostnet::release(&one.devices.interfaces) {
                self.log
                    .warn(&format!("domain '{name}': cannot remove tap {tap}: {e}"));
            }
        }
        if let Err(e) = backend {
            self.log.warn(&format!(
                "domain '{name}': device '{id}' is unplugged, but its backend stays in QEMU: {e}"
            ));
        }
        let alias = id.to_string();
        self.emit(
            super::monitor::handle_of(run.def.uuid, run),
            EventKind::DeviceRemoved { alias },
        );
    }
}

/// Deletes object `id` (an unplugged device's backend), asked again
/// until the deadline while the device that used it is being freed.
fn remove_object(qmp: &Qmp, id: &str) -> Result<()> {
    let deadline = Instant::now() + UNPLUG_WAIT;
    loop {
        match qmp.execute("object-del", Some(json!({ "id": id })), QMP_TIMEOUT) {
            Ok(_) => return Ok(()),
            Err(e) if Instant::now() >= deadline => return Err(e),
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

/// Asks QEMU to unplug device `id` and waits until it is gone (the guest
/// has let it go, QEMU's `DEVICE_DELETED`). A device QEMU no longer has
/// (the guest let it go after an earlier request timed out) is gone.
fn remove_device(qmp: &Qmp, id: &str) -> Result<()> {
    if let Err(e) = qmp.execute("device_del", Some(json!({"id": id})), QMP_TIMEOUT) {
        if !has_device(qmp, id)? {
            return Ok(());
        }
        // QEMU refuses a second request while the first is pending; the
        // wait below still applies.
        if !e.message.contains("in progress") {
            return Err(e);
        }
    }
    let deadline = Instant::now() + UNPLUG_WAIT;
    while has_device(qmp, id)? {
        if Instant::now() >= deadline {
            return Err(Error::new(
                ErrorCode::Timeout,
                format!(
                    "the guest did not release device '{id}' within {} s (it must handle the PCI hot-unplug request, e.g. ACPI or PCIe hot-plug); the device stays in the running domain until the guest lets go, which finishes the unplug then",
                    UNPLUG_WAIT.as_secs()
                ),
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(())
}

/// Waits until QEMU's drive of disk device `id` is gone too (it goes
/// with the device object, which QEMU may free a moment after the device
/// left its bus): its block nodes are in use until then.
fn drive_released(qmp: &Qmp, id: &str) -> Result<()> {
    let deadline = Instant::now() + UNPLUG_WAIT;
    loop {
        let blocks = qmp.execute("query-block", None, QMP_TIMEOUT)?;
        if crate::qemu::qmp::device_entry(&blocks, id).is_none() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(Error::new(
                ErrorCode::Timeout,
                format!("QEMU still holds the drive of '{id}'"),
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A definition with only `net` among its interfaces.
fn one_interface(def: &DomainDef, net: crate::model::Interface) -> DomainDef {
    let mut def = def.clone();
    def.devices.interfaces = vec![net];
    def
}
