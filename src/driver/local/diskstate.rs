//! A running domain's drives as QEMU holds them (`query-block`): the
//! I/O throttle in force and the I/O status of each disk.

use serde_json::Value;

use super::driver::Core;
use crate::driver::{DiskRuntime, Domain, DomainState};
use crate::error::Result;
use crate::model::IOTUNE_LIMITS;
use crate::qemu::argv::disk_device_ids;
use crate::qemu::qmp::{QMP_TIMEOUT, device_entry};

impl Core {
    /// [`crate::Driver::disk_runtime`].
    pub(crate) fn disk_runtime(&self, dom: &Domain) -> Result<Vec<DiskRuntime>> {
        let run = self.running_in(
            dom,
            "read the drives of",
            &[DomainState::Running, DomainState::Paused],
        )?;
        let def = run.live_def();
        let ids = disk_device_ids(&def)?;
        let blocks = run.qmp()?.execute("query-block", None, QMP_TIMEOUT)?;
        Ok(def
            .devices
            .disks
            .iter()
            .zip(&ids)
            .map(|(d, id)| drive_of(&d.target, device_entry(&blocks, id)))
            .collect())
    }
}

/// Disk `target`'s drive from its `query-block` entry.
fn drive_of(target: &str, entry: Option<&Value>) -> DiskRuntime {
    let inserted = entry.and_then(|e| e.get("inserted"));
    DiskRuntime {
        target: target.to_string(),
        iotune: inserted.map_or_else(Vec::new, |i| {
            IOTUNE_LIMITS
                .iter()
                .map(|(_, qmp)| i[*qmp].as_u64().unwrap_or(0))
                .collect()
        }),
        group: inserted
            .and_then(|i| i["group"].as_str())
            .map(str::to_string),
        io_status: entry
            .and_then(|e| e["io-status"].as_str())
            .unwrap_or_default()
            .to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_drive_reads_its_limits_in_libvirts_order_and_its_status() {
        let e = json!({"io-status": "nospace", "inserted": {
            "bps": 100, "iops_wr": 7, "bps_max_length": 2, "group": "g1"}});
        let d = drive_of("vda", Some(&e));
        assert_eq!(d.iotune.len(), IOTUNE_LIMITS.len());
        assert_eq!((d.iotune[0], d.iotune[5], d.iotune[13]), (100, 7, 2));
        assert_eq!(d.group.as_deref(), Some("g1"));
        assert_eq!(d.io_status, "nospace");
        let empty = drive_of("hdc", Some(&json!({"qdev": "ide0-1-0"})));
        assert!(empty.iotune.is_empty() && empty.io_status.is_empty());
    }
}
