//! Boot order: `<boot order>` on devices, or the `<os><boot dev>` list
//! translated as libvirt does, to `bootindex` values, so that both forms
//! boot the same way.

use std::collections::BTreeMap;

use super::disks::Disks;
use super::invalid;
use crate::error::Error;
use crate::model::{BootDev, DiskDevice, DomainDef};

/// The boot index of each disk and interface that has one.
#[derive(Debug, Default)]
pub struct BootPlan {
    disks: BTreeMap<usize, u32>,
    nets: BTreeMap<usize, u32>,
    hostdevs: BTreeMap<usize, u32>,
    filesystems: BTreeMap<usize, u32>,
}

impl BootPlan {
    /// Per-device `<boot order>` wins; otherwise each `<boot dev>` at
    /// position N (from 1) gives index N to the first disk of its kind in
    /// libvirt's disk order (hd: a disk, cdrom: a CD-ROM, fd: a floppy) or
    /// to the first interface (network). No `<boot>` at all means `hd`.
    pub fn new(def: &DomainDef, disks: &Disks) -> Result<BootPlan, Error> {
        let d = &def.devices;
        let mut plan = BootPlan::default();
        let per_device = d.disks.iter().any(|x| x.boot_order.is_some())
            || d.interfaces.iter().any(|x| x.boot_order.is_some())
            || d.hostdevs.iter().any(|x| x.boot_order.is_some())
            || d.filesystems.iter().any(|x| x.boot_order.is_some());
        if per_device {
            if !def.os.boot.is_empty() {
                return Err(invalid(
                    "per-device boot elements cannot be used together with os/boot elements",
                ));
            }
            let mut seen = BTreeMap::new();
            let mut take = |order: u32, who: String| -> Result<(), Error> {
                if order == 0 {
                    return Err(invalid(format!(
                        "the {who} has boot order 0: orders start at 1"
                    )));
                }
                if let Some(other) = seen.insert(order, who.clone()) {
                    return Err(invalid(format!(
                        "boot order {order} is used by both the {other} and the {who}"
                    )));
                }
                Ok(())
            };
            for (i, disk) in d.disks.iter().enumerate() {
                if let Some(order) = disk.boot_order {
                    take(order, format!("disk '{}'", disk.target))?;
                    plan.disks.insert(i, order);
                }
            }
            for (i, net) in d.interfaces.iter().enumerate() {
                if let Some(order) = net.boot_order {
                    take(order, format!("interface {i}"))?;
                    plan.nets.insert(i, order);
                }
            }
            for (i, h) in d.hostdevs.iter().enumerate() {
                if let Some(order) = h.boot_order {
                    take(order, format!("host device {i}"))?;
                    plan.hostdevs.insert(i, order);
                }
            }
            for (i, f) in d.filesystems.iter().enumerate() {
                if let Some(order) = f.boot_order {
                    take(order, format!("filesystem '{}'", f.target_dir))?;
                    plan.filesystems.insert(i, order);
                }
            }
            return Ok(plan);
        }
        let list: &[BootDev] = if def.os.boot.is_empty() {
            &[BootDev::Hd]
        } else {
            &def.os.boot
        };
        let mut done = Vec::new();
        for (pos, dev) in list.iter().enumerate() {
            if done.contains(dev) {
                continue;
            }
            done.push(*dev);
            let index = pos as u32 + 1;
            let media = match dev {
                BootDev::Hd => DiskDevice::Disk,
                BootDev::Cdrom => DiskDevice::Cdrom,
                BootDev::Fd => DiskDevice::Floppy,
                BootDev::Network => {
                    if !d.interfaces.is_empty() {
                        plan.nets.insert(0, index);
                    }
                    continue;
                }
            };
            if let Some(&i) = disks.order.iter().find(|&&i| d.disks[i].device == media) {
                plan.disks.insert(i, index);
            }
        }
        Ok(plan)
    }

    /// The boot index of disk `i` (document order).
    pub fn disk(&self, i: usize) -> Option<u32> {
        self.disks.get(&i).copied()
    }

    /// The boot index of interface `i` (document order).
    pub fn net(&self, i: usize) -> Option<u32> {
        self.nets.get(&i).copied()
    }

    /// The boot index of host device `i` (document order).
    pub fn hostdev(&self, i: usize) -> Option<u32> {
        self.hostdevs.get(&i).copied()
    }

    /// The boot index of filesystem `i` (document order).
    pub fn filesystem(&self, i: usize) -> Option<u32> {
        self.filesystems.get(&i).copied()
    }
}
