//! `virDomainUpdateDeviceFlags` as qvirt serves it: the medium of a
//! cdrom or floppy drive, which is what virsh's `change-media` sends (the
//! drive's `<disk>` element as the domain has it, with the `<source>`
//! added, replaced or removed). Any other change of the element is
//! refused by name: it would otherwise be silently dropped.

use std::path::PathBuf;

use super::values::{affect, check_flags};
use crate::driver::error::{Error, ErrorCode, Result};
use crate::driver::{Domain, DomainState, Driver, MediaChange, MediaFlags, XmlFlags};
use crate::model::{Disk, DomainDef};

/// Reads the one `<disk>` element of `xml` with qvirt's own reader (so
/// that it is held to the same rules as a definition).
fn parse_disk(xml: &str) -> Result<Disk> {
    let doc = roxmltree::Document::parse(xml).map_err(|e| {
        Error::new(
            ErrorCode::InvalidXml,
            format!("the device XML is not well-formed: {e}"),
        )
    })?;
    let root = doc.root_element().tag_name().name();
    if root != "disk" {
        return Err(Error::new(
            ErrorCode::NoSupport,
            format!(
                "updating a <{root}> device is not supported: qvirt changes the medium of a cdrom or floppy <disk> only"
            ),
        ));
    }
    // Its position in a document of its own: only its element is there.
    let wrapped = format!(
        "<domain type='qemu'><name>device-update</name><memory unit='MiB'>16</memory>\
         <os><type arch='x86_64' machine='pc'>hvm</type></os><devices>{xml}</devices></domain>"
    );
    let def = DomainDef::from_xml(&wrapped).map_err(Error::from)?;
    let [disk] = <[Disk; 1]>::try_from(def.devices.disks).map_err(|_| {
        Error::new(
            ErrorCode::InvalidXml,
            "the device XML must hold exactly one <disk>",
        )
    })?;
    Ok(disk)
}

/// What in `new` differs from `current` beyond the medium; `None` when
/// only the medium does. A setting the new element leaves out is the
/// current one (as libvirt reads a device update); the comparison is of
/// the whole disk, so a setting this function does not name still counts.
fn other_change(new: &Disk, current: &Disk) -> Option<&'static str> {
    fn keep<T: Clone>(new: &mut Option<T>, cur: &Option<T>) {
        if new.is_none() {
            new.clone_from(cur);
        }
    }
    let mut merged = new.clone();
    keep(&mut merged.format, &current.format);
    keep(&mut merged.bus, &current.bus);
    keep(&mut merged.removable, &current.removable);
    keep(&mut merged.serial, &current.serial);
    keep(&mut merged.boot_order, &current.boot_order);
    keep(&mut merged.address, &current.address);
    keep(&mut merged.driver.cache, &current.driver.cache);
    keep(&mut merged.driver.io, &current.driver.io);
    keep(&mut merged.driver.discard, &current.driver.discard);
    keep(
        &mut merged.driver.detect_zeroes,
        &current.driver.detect_zeroes,
    );
    // A cdrom is read-only whether the element says so or not.
    if merged.readonly != current.readonly && !merged.readonly {
        merged.readonly = current.readonly;
    }
    merged.source.clone_from(&current.source);
    if merged == *current {
        return None;
    }
    Some(if merged.device != current.device {
        "device"
    } else if merged.kind != current.kind {
        "type"
    } else if merged.format != current.format {
        "driver type"
    } else if merged.driver != current.driver {
        "driver options"
    } else if merged.bus != current.bus {
        "target bus"
    } else if merged.readonly != current.readonly {
        "readonly"
    } else if merged.shareable != current.shareable {
        "shareable"
    } else if merged.address != current.address {
        "address"
    } else {
        "other settings"
    })
}

/// `virDomainUpdateDeviceFlags(dom, xml, flags)`.
pub fn update_device(driver: &dyn Driver, dom: &Domain, xml: &str, flags: u32) -> Result<()> {
    // FORCE: qvirt always opens the tray by force, as libvirt's force does.
    check_flags(
        flags,
        affect::LIVE | affect::CONFIG | affect::FORCE,
        "virDomainUpdateDeviceFlags",
    )?;
    let new = parse_disk(xml)?;
    let live = flags & affect::LIVE != 0;
    let config = flags & affect::CONFIG != 0;
    let running = driver.info(dom)?.state != DomainState::Shutoff;
    // The definition the change is checked against: the running one
    // unless only the persistent one changes.
    let inactive = !live && (config || !running);
    let current = DomainDef::from_xml(&driver.xml_desc(dom, XmlFlags::inactive_if(inactive))?)
        .map_err(Error::from)?;
    let Some(cur) = current
        .devices
        .disks
        .iter()
        .find(|d| d.target == new.target)
    else {
        return Err(Error::new(
            ErrorCode::InvalidArgument,
            format!(
                "domain '{}' has no disk with target '{}'",
                dom.name, new.target
            ),
        ));
    };
    if let Some(what) = other_change(&new, cur) {
        return Err(Error::new(
            ErrorCode::NoSupport,
            format!(
                "the update of disk '{}' changes its {what}: qvirt changes only the medium of a cdrom or floppy drive",
                new.target
            ),
        ));
    }
    let change = match new.source {
        None => MediaChange::Eject,
        Some(p) => MediaChange::Update(PathBuf::from(p)),
    };
    driver.change_media(dom, &new.target, change, MediaFlags::new(live, config))
}
