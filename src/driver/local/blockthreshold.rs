//! A disk's write threshold (virsh's `domblkthreshold`), as libvirt's
//! `qemuDomainSetBlockThreshold`: QEMU's `block-set-write-threshold` on
//! the storage node of the disk's top image (the file, so the threshold
//! is about how far the image grows on the host, whatever its format).
//! When a write goes past it, QEMU clears it and says
//! `BLOCK_WRITE_THRESHOLD`, which subscribers hear as
//! [`EventKind::BlockThreshold`] naming the disk's target, as libvirt's
//! block threshold event. A failed read or write (QEMU's
//! `BLOCK_IO_ERROR`) is told the same way, as [`EventKind::IoError`]
//! naming the disk's alias, as libvirt's I/O error events.

use serde_json::{Value, json};

use super::driver::Core;
use super::jobs::SyncKind;
use super::runtime::Running;
use crate::driver::{Domain, DomainState, EventKind, IoErrorAction};
use crate::error::{Error, ErrorCode, Result};
use crate::qemu::argv::disk_device_ids;
use crate::qemu::qmp::{QMP_TIMEOUT, Qmp, device_entry};

/// The block drivers that reach storage (protocol drivers), as opposed
/// to image formats and filters layered on them.
const PROTOCOLS: &[&str] = &[
    "file",
    "host_device",
    "host_cdrom",
    "nbd",
    "iscsi",
    "rbd",
    "gluster",
    "ssh",
    "http",
    "https",
    "ftp",
    "ftps",
    "nvme",
    "vvfat",
];

/// The storage node of the image in device `id`'s drive: the node of a
/// storage driver on the file `query-block` says the drive holds (after
/// an external snapshot, the overlay's file node, which QEMU names).
fn storage_node(qmp: &Qmp, id: &str) -> Result<Option<String>> {
    let blocks = qmp.execute("query-block", None, QMP_TIMEOUT)?;
    let Some(file) = device_entry(&blocks, id)
        .and_then(|b| b.get("inserted"))
        .and_then(|i| i.get("file"))
        .and_then(Value::as_str)
        .map(str::to_string)
    else {
        return Ok(None);
    };
    let nodes = qmp.execute(
        "query-named-block-nodes",
        Some(json!({"flat": true})),
        QMP_TIMEOUT,
    )?;
    let list = nodes.as_array().map(Vec::as_slice).unwrap_or_default();
    Ok(list
        .iter()
        .filter(|n| n.get("file").and_then(Value::as_str) == Some(file.as_str()))
        .filter(|n| {
            n.get("drv")
                .and_then(Value::as_str)
                .is_some_and(|d| PROTOCOLS.contains(&d))
        })
        .filter_map(|n| n.get("node-name").and_then(Value::as_str))
        .map(str::to_string)
        .next())
}

impl Core {
    /// [`crate::Driver::set_block_threshold`].
    pub(crate) fn set_block_threshold(&self, dom: &Domain, dev: &str, bytes: u64) -> Result<()> {
        let jobs = self.jobs(dom)?;
        let _job = jobs.begin(SyncKind::Modify, &dom.name)?;
        let run = self.running_in(
            dom,
            "set a block threshold of",
            &[DomainState::Running, DomainState::Paused],
        )?;
        if dev.contains('[') {
            return Err(Error::new(
                ErrorCode::ArgumentUnsupported,
                format!(
                    "block device '{dev}': a threshold on an image of a disk's backing chain is not offered, only on the disk ('vda')"
                ),
            ));
        }
        let def = run.live_def();
        let index = def
            .devices
            .disks
            .iter()
            .position(|d| d.target == dev)
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::InvalidArgument,
                    format!("failed to find disk '{dev}'"),
                )
            })?;
        if def.devices.disks[index].vhost_user.is_some() {
            return Err(Error::new(
                ErrorCode::NoSupport,
                "setting device threshold is not supported for vhostuser disk",
            ));
        }
        let qmp = run.qmp()?;
        let id = disk_device_ids(&def)?.swap_remove(index);
        let node = storage_node(qmp, &id)?.ok_or_else(|| {
            Error::new(
                ErrorCode::OperationInvalid,
                format!("disk '{dev}' of domain '{}' has no medium", dom.name),
            )
        })?;
        qmp.execute(
            "block-set-write-threshold",
            Some(json!({"node-name": node, "write-threshold": bytes})),
            QMP_TIMEOUT,
        )?;
        self.log.info(&format!(
            "domain '{}': disk {dev} write threshold {bytes} bytes",
            dom.name
        ));
        Ok(())
    }

    /// QEMU's `BLOCK_WRITE_THRESHOLD`: the disk whose storage node it
    /// names is told to subscribers; one of no disk is ignored, as
    /// libvirt ignores it.
    pub(crate) fn on_block_threshold(&self, run: &Running, data: &Value) {
        let (Some(node), Some(threshold), Some(excess)) = (
            data.get("node-name").and_then(Value::as_str),
            data.get("write-threshold").and_then(Value::as_u64),
            data.get("amount-exceeded").and_then(Value::as_u64),
        ) else {
            return;
        };
        let def = run.live_def();
        let (Ok(qmp), Ok(ids)) = (run.qmp(), disk_device_ids(&def)) else {
            return;
        };
        let disk = def
            .devices
            .disks
            .iter()
            .zip(ids)
            .find(|(_, id)| storage_node(qmp, id).ok().flatten().as_deref() == Some(node));
        let Some((disk, _)) = disk else {
            return;
        };
        let kind = EventKind::BlockThreshold {
            dev: disk.target.clone(),
            path: disk
                .network
                .is_none()
                .then(|| self.disk_path(disk))
                .flatten()
                .map(|p| p.to_string_lossy().into_owned()),
            threshold,
            excess,
        };
        self.emit(super::monitor::handle_of(run.def.uuid, run), kind);
    }
}

impl Core {
    /// QEMU's `BLOCK_IO_ERROR`: tells subscribers which disk failed,
    /// what its error policy did and whether the host's storage is full
    /// (`nospace`: libvirt's reason `enospc`). The action, so that the
    /// monitor knows the pause that follows a stop is the error's.
    pub(crate) fn on_io_error(&self, run: &Running, data: &Value) -> IoErrorAction {
        let action = match data.get("action").and_then(Value::as_str) {
            Some("stop") => IoErrorAction::Pause,
            Some("report") => IoErrorAction::Report,
            _ => IoErrorAction::None,
        };
        let node = data.get("node-name").and_then(Value::as_str);
        // The device whose drive has that node on top: QEMU names the
        // node, not the device, of a drive made with -blockdev.
        let qdev = node.and_then(|node| {
            let blocks = run
                .qmp()
                .ok()?
                .execute("query-block", None, QMP_TIMEOUT)
                .ok()?;
            blocks
                .as_array()?
                .iter()
                .find(|b| {
                    b.get("inserted")
                        .and_then(|i| i.get("node-name"))
                        .and_then(Value::as_str)
                        == Some(node)
                })?
                .get("qdev")?
                .as_str()
                .map(str::to_string)
        });
        let alias = qdev
            .as_deref()
            .map(|q| {
                let id = q.strip_prefix("/machine/peripheral/").unwrap_or(q);
                id.split('/').next().unwrap_or(id).to_string()
            })
            .or_else(|| {
                data.get("device")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
            .unwrap_or_default();
        let def = run.live_def();
        let path = disk_device_ids(&def)
            .ok()
            .and_then(|ids| ids.iter().position(|id| *id == alias))
            .map(|i| &def.devices.disks[i])
            .filter(|d| d.network.is_none())
            .and_then(|d| self.disk_path(d))
            .map(|p| p.to_string_lossy().into_owned());
        let nospace = data.get("nospace").and_then(Value::as_bool) == Some(true);
        self.log.warn(&format!(
            "domain '{}': I/O error on disk {alias} ({}), {}",
            run.def.name,
            data.get("reason")
                .and_then(Value::as_str)
                .unwrap_or("no reason given"),
            action.as_str()
        ));
        let kind = EventKind::IoError {
            alias,
            path,
            action,
            reason: if nospace { "enospc" } else { "" }.to_string(),
        };
        self.emit(super::monitor::handle_of(run.def.uuid, run), kind);
        action
    }
}
