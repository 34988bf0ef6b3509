//! Resizing a running domain's disk (virsh's `blockresize`), as libvirt's
//! `qemuDomainBlockResize`: QEMU's `block_resize` on the disk's top node,
//! so that the image file grows (or shrinks) and the guest's device sees
//! its new size at once. qcow2 sizes are rounded up to 512 bytes, as
//! libvirt rounds them.

use serde_json::{Value, json};

use super::driver::Core;
use super::jobs::SyncKind;
use crate::driver::{Domain, DomainState};
use crate::error::{Error, ErrorCode, Result};
use crate::model::DiskFormat;
use crate::qemu::argv::disk_device_ids;
use crate::qemu::qmp::{QMP_TIMEOUT, device_entry};

impl Core {
    /// `Driver::block_resize`: disk `disk` (a target or a source path)
    /// of the running or paused `dom` to `bytes`.
    pub(crate) fn block_resize(&self, dom: &Domain, disk: &str, bytes: u64) -> Result<()> {
        let jobs = self.jobs(dom)?;
        let _job = jobs.begin(SyncKind::Modify, &dom.name)?;
        let run = self.running_in(
            dom,
            "resize a disk of",
            &[DomainState::Running, DomainState::Paused],
        )?;
        let def = run.live_def();
        let index = def
            .devices
            .disks
            .iter()
            .position(|d| {
                d.target == disk || self.disk_path(d).is_some_and(|p| p.to_str() == Some(disk))
            })
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::InvalidArgument,
                    format!("disk '{disk}' was not found in the domain config"),
                )
            })?;
        let d = &def.devices.disks[index];
        if d.vhost_user.is_some() {
            return Err(Error::new(
                ErrorCode::NoSupport,
                "block resize is not supported for vhostuser disk",
            ));
        }
        if (d.source.is_none() && d.network.is_none()) || d.readonly {
            return Err(Error::new(
                ErrorCode::OperationInvalid,
                format!("can't resize empty or readonly disk '{}'", d.target),
            ));
        }
        let bytes = match d.format {
            Some(DiskFormat::Qcow2) => bytes.div_ceil(512).saturating_mul(512),
            _ => bytes,
        };
        let qmp = run.qmp()?;
        let id = disk_device_ids(&def)?.swap_remove(index);
        let blocks = qmp.execute("query-block", None, QMP_TIMEOUT)?;
        let node = device_entry(&blocks, &id)
            .and_then(|b| b.get("inserted"))
            .and_then(|i| i.get("node-name"))
            .and_then(Value::as_str)
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::OperationInvalid,
                    format!("disk {} of domain '{}' has no medium", d.target, dom.name),
                )
            })?
            .to_string();
        qmp.execute(
            "block_resize",
            Some(json!({"node-name": node, "size": bytes})),
            QMP_TIMEOUT,
        )?;
        self.log.info(&format!(
            "domain '{}': disk {} resized to {bytes} bytes",
            dom.name, d.target
        ));
        Ok(())
    }
}
