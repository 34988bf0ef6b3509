//! The device XML of attach and detach: one device element, read by the
//! domain reader (inside a domain document of its own, so the rules and
//! errors are the same as a define's, with the user's own line numbers),
//! and found again in a definition. Disks and interfaces plug into a
//! running domain; the other types libvirt attaches change the
//! definition only (`plug_config`).

use super::plug_config::{ColdDevice, NEVER_PLUGGED};
use crate::error::{Error, ErrorCode, Result};
use crate::model::{Disk, DomainDef, Interface};

/// A device to plug in or out.
#[derive(Debug, Clone)]
pub(crate) enum Device {
    /// A `<disk>`.
    Disk(Disk),
    /// An `<interface>`; `mac_given` says whether the XML names its MAC
    /// address (else the reader chose one).
    Interface {
        /// The interface.
        net: Interface,
        /// Whether the XML had `<mac address>`.
        mac_given: bool,
    },
}

/// A device an attach or detach names.
#[derive(Debug, Clone)]
pub(crate) enum Named {
    /// A disk or an interface, plugged in and out of a running domain.
    Hot(Box<Device>),
    /// A device of another type, which changes the persistent
    /// definition only.
    Cold(Box<ColdDevice>),
}

/// What precedes the device in the document it is read in (one line, so
/// that the device's own lines keep their numbers once one is taken off).
const HEAD: &str = "<domain type='qemu'><name>device</name><memory>65536</memory><os><type>hvm</type></os><devices>\n";
const TAIL: &str = "\n</devices></domain>";

/// One device element, read in a domain document of its own.
pub(crate) struct Element {
    /// The element's name (`disk`, `graphics`, ...).
    pub name: String,
    /// The document's devices: the one read.
    pub devices: crate::model::Devices,
    /// Whether the element names a `<mac>`.
    mac_given: bool,
    /// Whether the element gave what a definition otherwise fills in: a
    /// controller's index, a character device's target port.
    given: bool,
}

/// Reads the one element of `xml` with the domain reader, errors at the
/// user's own line numbers. A disk, an interface or a display is checked
/// as a definition would be; another device once it is in the
/// definition it joins (a memory device needs its `<maxMemory>`, ...).
pub(crate) fn read_element(xml: &str) -> Result<Element> {
    let opts = roxmltree::ParsingOptions {
        allow_dtd: false,
        ..Default::default()
    };
    if xml.len() > crate::model::MAX_XML_BYTES {
        return Err(Error::new(
            ErrorCode::LimitExceeded,
            "the device XML is larger than 4 MiB",
        ));
    }
    let doc = roxmltree::Document::parse_with_options(xml, opts).map_err(|e| {
        let p = e.pos();
        Error::new(
            ErrorCode::InvalidXml,
            format!("malformed device XML at {}:{}: {e}", p.row, p.col),
        )
    })?;
    let root = doc.root_element();
    let name = root.tag_name().name();
    let given = match name {
        "controller" => root.has_attribute("index"),
        _ => root
            .children()
            .any(|c| c.has_tag_name("target") && c.has_attribute("port")),
    };
    // Only the element itself goes into the document, without any XML
    // declaration before it.
    let document = format!("{HEAD}{}{TAIL}", &xml[root.range()]);
    let parsed = if matches!(name, "disk" | "interface" | "graphics") {
        DomainDef::from_xml(&document)
    } else {
        DomainDef::from_xml_unchecked(&document)
    };
    let mut def = parsed.map_err(|e| {
        let e = Error::from(e);
        let first_line = xml[..root.range().start].matches('\n').count();
        Error::new(e.code, shift_lines(&e.message, first_line))
    })?;
    def.drop_runtime_values();
    Ok(Element {
        name: name.to_string(),
        devices: def.devices,
        mac_given: root.children().any(|c| c.has_tag_name("mac")),
        given,
    })
}

/// Reads the device of `xml`. A device type libvirt never attaches (a
/// video card, a display, ...) is refused by name (`ConfigUnsupported`),
/// as is XML that is not one element.
pub(crate) fn read_device(xml: &str) -> Result<Named> {
    named(read_element(xml)?)
}

/// The device of an element read (see [`read_device`]).
pub(crate) fn named(el: Element) -> Result<Named> {
    let name = el.name.as_str();
    if NEVER_PLUGGED.contains(&name) {
        return Err(Error::new(
            ErrorCode::ConfigUnsupported,
            format!(
                "attaching or detaching device '{name}' is not supported, as in libvirt: change the <{name}> in the definition (edit) and restart the domain"
            ),
        ));
    }
    let mut d = el.devices;
    Ok(match name {
        "disk" => Named::Hot(Box::new(Device::Disk(d.disks.remove(0)))),
        "interface" => Named::Hot(Box::new(Device::Interface {
            net: d.interfaces.remove(0),
            mac_given: el.mac_given,
        })),
        _ => Named::Cold(Box::new(ColdDevice::take(name, d, el.given).ok_or_else(|| {
            Error::new(
                ErrorCode::ConfigUnsupported,
                format!(
                    "attaching or detaching a <{name}> device is not supported: change the definition (edit) and restart the domain"
                ),
            )
        })?)),
    })
}

/// Moves every `at LINE:COL` of a message from the wrapping document's
/// lines to the user's: one line up for the head, `first_line` down for
/// what preceded the element in the user's text.
fn shift_lines(message: &str, first_line: usize) -> String {
    let mut out = String::new();
    let mut rest = message;
    while let Some(i) = rest.find("at ") {
        out.push_str(&rest[..i + 3]);
        rest = &rest[i + 3..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let line: Option<usize> = rest[..digits].parse().ok();
        match line {
            Some(line) if line >= 2 && rest[digits..].starts_with(':') => {
                out.push_str(&(line - 1 + first_line).to_string());
                rest = &rest[digits..];
            }
            _ => {}
        }
    }
    out.push_str(rest);
    out
}

/// The position of the disk of `def` that `disk` names (by target).
pub(crate) fn find_disk(def: &DomainDef, disk: &Disk, which: &str) -> Result<usize> {
    def.devices
        .disks
        .iter()
        .position(|d| d.target == disk.target)
        .ok_or_else(|| {
            Error::new(
                ErrorCode::InvalidArgument,
                format!(
                    "domain '{}' has no disk with target '{}' in its {which}",
                    def.name, disk.target
                ),
            )
        })
}

/// The position of the interface of `def` that `net` names: by MAC
/// address when `mac_given`, else the only one of its type.
pub(crate) fn find_interface(
    def: &DomainDef,
    net: &Interface,
    mac_given: bool,
    which: &str,
) -> Result<usize> {
    let list = &def.devices.interfaces;
    let found: Vec<usize> = (0..list.len())
        .filter(|&i| {
            let n = &list[i];
            if mac_given {
                n.mac == net.mac
            } else {
                std::mem::discriminant(&n.kind) == std::mem::discriminant(&net.kind)
            }
        })
        .collect();
    let kind = net.kind.type_name();
    match found.as_slice() {
        [one] => Ok(*one),
        [] if mac_given => Err(Error::new(
            ErrorCode::InvalidArgument,
            format!(
                "domain '{}' has no interface with MAC address {} in its {which}",
                def.name, net.mac
            ),
        )),
        [] => Err(Error::new(
            ErrorCode::InvalidArgument,
            format!(
                "domain '{}' has no interface of type '{kind}' in its {which}",
                def.name
            ),
        )),
        _ => Err(Error::new(
            ErrorCode::InvalidArgument,
            format!(
                "domain '{}' has {} interfaces of type '{kind}' in its {which}: name one by its MAC address (--mac)",
                def.name,
                found.len()
            ),
        )),
    }
}

/// Refuses a device `def` has already: a disk's target, an interface's
/// MAC address.
pub(crate) fn check_new(def: &DomainDef, device: &Device, which: &str) -> Result<()> {
    let alias = match device {
        Device::Disk(d) => d.alias.as_deref(),
        Device::Interface { net, .. } => net.alias.as_deref(),
    };
    // libvirt's virDomainDeviceValidateAliasForHotplug.
    if let Some(a) = alias
        && def.devices.user_aliases().contains(&a)
    {
        return Err(Error::new(
            ErrorCode::ConfigUnsupported,
            format!("non unique alias detected: {a}"),
        ));
    }
    let clash = match device {
        Device::Disk(disk) => def
            .devices
            .disks
            .iter()
            .any(|d| d.target == disk.target)
            .then(|| format!("a disk with target '{}'", disk.target)),
        Device::Interface { net, .. } => def
            .devices
            .interfaces
            .iter()
            .any(|n| n.mac == net.mac)
            .then(|| format!("an interface with MAC address {}", net.mac)),
    };
    match clash {
        Some(what) => Err(Error::new(
            ErrorCode::ConfigInvalid,
            format!("domain '{}' already has {what} in its {which}", def.name),
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_are_read_with_the_users_line_numbers() {
        let d = read_device("<disk type='file' device='disk'><source file='/x.img'/><target dev='vdb' bus='virtio'/></disk>").unwrap();
        assert!(
            matches!(d, Named::Hot(ref x) if matches!(**x, Device::Disk(ref x) if x.target == "vdb"))
        );
        let e = read_device(
            "<disk type='file'>\n  <source file='/x'/>\n  <bogus/>\n  <target dev='vdb'/>\n</disk>",
        )
        .unwrap_err();
        assert_eq!(e.code, ErrorCode::ConfigUnsupported);
        assert!(e.message.contains("at 3:3"), "{}", e.message);
        let cold = |xml: &str| match read_device(xml).unwrap() {
            Named::Cold(d) => *d,
            Named::Hot(d) => panic!("{d:?}"),
        };
        let ColdDevice::Controller(c, given) =
            cold("<controller type='scsi' model='virtio-scsi'/>")
        else {
            panic!("not a controller")
        };
        assert_eq!(c.model.as_deref(), Some("virtio-scsi"));
        assert!(!given);
        let ColdDevice::Serial(c, given) = cold("<serial type='pty'>\n<target port='2'/></serial>")
        else {
            panic!("not a serial port")
        };
        assert_eq!(c.target_port, Some(2));
        assert!(given);
        let e = read_device("<video><model type='vga'/></video>").unwrap_err();
        assert_eq!(e.code, ErrorCode::ConfigUnsupported);
        assert!(e.message.contains("device 'video'"), "{}", e.message);
        let e = read_device("<disk").unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidXml);
        match read_device("<interface type='user'><model type='virtio'/></interface>").unwrap() {
            Named::Hot(d) => assert!(matches!(
                *d,
                Device::Interface {
                    mac_given: false,
                    ..
                }
            )),
            _ => panic!("not an interface"),
        }
    }
}
