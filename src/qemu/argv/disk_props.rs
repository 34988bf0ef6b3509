//! The guest-visible properties of a disk's device beyond its bus and
//! drive: `<blockio>` sizes, `<geometry>`, `<target rotation_rate>`,
//! a virtio disk's `<driver>` switches (`ioeventfd`, `event_idx`, the
//! virtio options) and the `copy-on-read` filter of `<driver
//! copy_on_read='on'>`, with the rules of QEMU's devices for each (which
//! device has the property, what values it takes).

use super::opts::{Opts, with_virtio};
use super::{invalid, unsupported};
use crate::error::Error;
use crate::model::{Disk, DiskBus, DiskDevice, GeometryTrans};

/// QEMU's bounds of a block size (`check_block_size`).
const BLOCK_SIZES: std::ops::RangeInclusive<u32> = 512..=2 * 1024 * 1024;

/// Checks what a disk's device takes, as QEMU's devices and libvirt's
/// qemuValidateDomainDeviceDefDiskFrontend accept it, on `bus`.
///
/// Errors: [`crate::error::ErrorCode::ConfigUnsupported`] for a property
/// the disk's device does not have, `ConfigInvalid` for a value it
/// refuses.
pub(crate) fn check(disk: &Disk, bus: DiskBus) -> Result<(), Error> {
    let t = &disk.target;
    let drv = &disk.driver;
    let virtio_only = drv.ioeventfd.is_some() || drv.event_idx.is_some() || !drv.virtio.is_empty();
    if virtio_only && bus != DiskBus::Virtio {
        return Err(unsupported(format!(
            "disk '{t}': <driver> ioeventfd, event_idx, iommu, ats, packed and page_per_vq are only supported on virtio disks"
        )));
    }
    let hard_disk = disk.device == DiskDevice::Disk;
    if drv.copy_on_read == Some(true) {
        // The filter writes what it reads into the image.
        if disk.readonly {
            return Err(unsupported(format!(
                "disk '{t}': copy_on_read is not compatible with a read-only disk"
            )));
        }
        if !hard_disk {
            return Err(unsupported(format!(
                "disk '{t}': copy_on_read is not supported with a {} device",
                disk.device.as_str()
            )));
        }
    }
    let b = &disk.blockio;
    if !b.is_empty() && disk.device == DiskDevice::Lun {
        return Err(unsupported(format!(
            "disk '{t}': <blockio> is not supported on a device='lun' disk (the host device's sizes pass through)"
        )));
    }
    for (name, size) in [
        ("logical_block_size", b.logical_block_size),
        ("physical_block_size", b.physical_block_size),
    ] {
        if let Some(n) = size
            && (!n.is_power_of_two() || !BLOCK_SIZES.contains(&n))
        {
            return Err(invalid(format!(
                "disk '{t}': <blockio {name}='{n}'> must be a power of two from 512 bytes to 2 MiB"
            )));
        }
        if bus == DiskBus::Fdc && size.is_some_and(|n| n != 512) {
            return Err(invalid(format!(
                "disk '{t}': a floppy's <blockio {name}> can only be 512"
            )));
        }
    }
    if let (Some(l), Some(p)) = (b.logical_block_size, b.physical_block_size)
        && l > p
    {
        return Err(invalid(format!(
            "disk '{t}': <blockio> logical_block_size {l} is larger than physical_block_size {p}"
        )));
    }
    if let Some(g) = b.discard_granularity {
        let logical = b.logical_block_size.unwrap_or(512);
        if matches!(bus, DiskBus::Ide | DiskBus::Sata) && g != 0 && g != 512 {
            return Err(invalid(format!(
                "disk '{t}': an IDE or SATA disk's <blockio discard_granularity> can only be 0 or 512"
            )));
        }
        if g % logical != 0 {
            return Err(invalid(format!(
                "disk '{t}': <blockio discard_granularity='{g}'> must be a multiple of the logical block size ({logical})"
            )));
        }
    }
    if let Some(g) = &disk.geometry {
        // Only the hard disk devices of IDE, SCSI and virtio have a
        // geometry (ide-hd, scsi-hd, virtio-blk).
        if !hard_disk || matches!(bus, DiskBus::Usb | DiskBus::Fdc) {
            return Err(unsupported(format!(
                "disk '{t}': CHS geometry can not be set for a {} on bus '{}'",
                disk.device.as_str(),
                bus.as_str()
            )));
        }
        if g.trans.is_some() && bus != DiskBus::Ide {
            return Err(unsupported(format!(
                "disk '{t}': CHS translation mode can only be set for 'ide' bus not '{}'",
                bus.as_str()
            )));
        }
        let heads = if matches!(bus, DiskBus::Ide | DiskBus::Sata) {
            16
        } else {
            255
        };
        for (name, v, max) in [
            ("cyls", g.cyls, 65535),
            ("heads", g.heads, heads),
            ("secs", g.secs, 255),
        ] {
            if v > max {
                return Err(invalid(format!(
                    "disk '{t}': <geometry {name}='{v}'> must be between 1 and {max} on bus '{}'",
                    bus.as_str()
                )));
            }
        }
    }
    if let Some(r) = disk.rotation_rate {
        if !matches!(bus, DiskBus::Scsi | DiskBus::Ide | DiskBus::Sata) {
            return Err(unsupported(format!(
                "disk '{t}': rotation rate is only valid for SCSI/IDE/SATA bus"
            )));
        }
        if !hard_disk {
            return Err(unsupported(format!(
                "disk '{t}': rotation rate is only valid for disk device"
            )));
        }
        if r > u32::from(u16::MAX) {
            return Err(invalid(format!(
                "disk '{t}': <target rotation_rate='{r}'> is more than 65535"
            )));
        }
    }
    Ok(())
}

/// Adds the properties of [`check`]ed `disk` on `bus` to its device.
pub(super) fn add(o: Opts, disk: &Disk, bus: DiskBus) -> Result<Opts, Error> {
    check(disk, bus)?;
    let b = &disk.blockio;
    let mut o = o
        .maybe("logical_block_size", b.logical_block_size)
        .maybe("physical_block_size", b.physical_block_size)
        .maybe("discard_granularity", b.discard_granularity)
        .maybe("rotation_rate", disk.rotation_rate);
    if let Some(g) = &disk.geometry {
        o = o
            .set("cyls", g.cyls)
            .set("heads", g.heads)
            .set("secs", g.secs);
        let trans = g.trans.map(|t| match t {
            GeometryTrans::Auto => "auto",
            GeometryTrans::None => "none",
            GeometryTrans::Lba => "lba",
        });
        o = o.maybe("bios-chs-trans", trans);
    }
    if bus != DiskBus::Virtio {
        return Ok(o);
    }
    let o = o
        .maybe_switch("ioeventfd", disk.driver.ioeventfd)
        .maybe_switch("event_idx", disk.driver.event_idx);
    with_virtio(
        o,
        &disk.driver.virtio,
        true,
        &format!("disk '{}'", disk.target),
    )
}

/// The node name of a disk's copy-on-read filter, device id `id`.
pub fn copy_on_read_node(id: &str) -> String {
    format!("{id}-copy-on-read")
}

/// Puts `<driver copy_on_read='on'>`'s filter over `node`, the top of
/// the disk's chain, as libvirt does (with `discard=unmap`, so the
/// guest's discards reach the image); returns the node the device uses.
pub(super) fn copy_on_read(cx: &mut super::Ctx<'_>, disk: &Disk, id: &str, node: String) -> String {
    if disk.driver.copy_on_read != Some(true) {
        return node;
    }
    let filter = copy_on_read_node(id);
    let o = Opts::empty()
        .set("driver", "copy-on-read")
        .set("node-name", &filter)
        .set("file", node)
        .set("discard", "unmap");
    cx.arg("-blockdev", o.build());
    filter
}
