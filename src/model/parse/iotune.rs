//! `<iotune>` of a disk, under libvirt's rules: the limits it knows,
//! unsigned, at most QEMU's 10^15; a total and its read/write parts not
//! together; a group name only beside limits.

use super::el::{El, R, invalid};
use crate::model::{IOTUNE_LIMITS, IoTune, ModelErrorKind};

/// QEMU's largest throttle limit (libvirt's `QEMU_BLOCK_IOTUNE_MAX`).
const MAX: u64 = 1_000_000_000_000_000;

pub(super) fn iotune(e: El) -> R<IoTune> {
    e.allow(&[])?;
    let mut t = IoTune::default();
    let mut found: Vec<(&'static str, u64)> = Vec::new();
    for c in e.children()? {
        let name = c.name();
        if name == "group_name" {
            if t.group_name.is_some() {
                return Err(c.duplicate());
            }
            let g = c.plain_text()?;
            t.group_name = (!g.is_empty()).then_some(g);
            continue;
        }
        let Some((key, _)) = IOTUNE_LIMITS.iter().find(|(k, _)| *k == name) else {
            c.skip()?;
            continue;
        };
        if found.iter().any(|(k, _)| k == key) {
            return Err(c.duplicate());
        }
        let text = c.plain_text()?;
        let v: u64 = text
            .trim()
            .parse()
            .map_err(|_| c.bad_text(ModelErrorKind::Invalid, &text, "not an unsigned number"))?;
        if v > MAX {
            return Err(invalid(format!(
                "block I/O throttle limit must be no more than {MAX} using QEMU ({name} at {})",
                c.at()
            )));
        }
        found.push((key, v));
    }
    // libvirt writes nothing for a zero limit.
    t.limits = IOTUNE_LIMITS
        .iter()
        .filter_map(|(k, _)| found.iter().find(|(f, _)| f == k).copied())
        .filter(|(_, v)| *v > 0)
        .collect();
    for what in ["bytes_sec", "iops_sec", "bytes_sec_max", "iops_sec_max"] {
        let total = t.get(&format!("total_{what}"));
        let parts = t.get(&format!("read_{what}")) + t.get(&format!("write_{what}"));
        if total > 0 && parts > 0 {
            return Err(invalid(format!(
                "total and read/write {what} cannot be set at the same time, at {}",
                e.at()
            )));
        }
    }
    if t.group_name.is_some() && t.limits.is_empty() {
        return Err(invalid(format!(
            "group_name can be configured only together with settings, at {}",
            e.at()
        )));
    }
    Ok(t)
}
