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
/// only the medium does. A field the new element leaves out is the
/// current one (as libvirt reads a device update).
fn other_change(new: &Disk, current: &Disk) -> Option<&'static str> {
    fn differs<T: PartialEq>(new: &Option<T>, cur: &Option<T>) -> bool {
        new.is_some() && new != cur
    }
    if new.device != current.device {
        Some("device")
    } else if new.kind != current.kind {
        Some("type")
    } else if differs(&new.format, &current.format) {
        Some("driver type")
    } else if differs(&new.bus, &current.bus) {
        Some("target bus")
    } else if differs(&new.serial, &current.serial) {
        Some("serial")
    } else if differs(&new.boot_order, &current.boot_order) {
        Some("boot order")
    } else if differs(&new.address, &current.address) {
        Some("address")
    } else if new.shareable != current.shareable {
        Some("shareable")
    } else if new.readonly && !current.readonly {
        Some("readonly")
    } else {
        None
    }
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
