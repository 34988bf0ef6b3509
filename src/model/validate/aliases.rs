//! Device aliases of a definition: only user aliases (`ua-...`), of
//! disks, interfaces, serial ports, consoles and USB controllers, each
//! naming one device, as libvirt's virDomainDefValidateAliases checks
//! them. A console that is the serial port with its number (target type
//! `serial`) is that port, so it may repeat the port's alias, and may not
//! have another, which it could not carry.

use std::collections::HashMap;

use super::{R, invalid, unsupported};
use crate::model::{CharDevice, ControllerType, DomainDef, is_user_alias};

pub(super) fn validate(def: &DomainDef) -> R {
    let d = &def.devices;
    let disks = d
        .disks
        .iter()
        .map(|x| (format!("disk '{}'", x.target), &x.alias));
    let nets = d
        .interfaces
        .iter()
        .map(|x| (format!("interface {}", x.mac), &x.alias));
    let serials = d
        .serials
        .iter()
        .enumerate()
        .map(|(i, x)| (format!("serial port {i}"), &x.alias));
    let consoles = d
        .consoles
        .iter()
        .enumerate()
        .filter(|(_, c)| serial_of(def, c).is_none())
        .map(|(i, x)| (format!("console {i}"), &x.alias));
    let controllers = d.controllers.iter().map(|c| {
        (
            format!("{} controller {}", c.kind.as_str(), c.index),
            &c.alias,
        )
    });
    if let Some(c) = d
        .controllers
        .iter()
        .find(|c| c.alias.is_some() && c.kind != ControllerType::Usb)
    {
        return Err(unsupported(format!(
            "the {} controller {} cannot have an alias: only USB controllers take one",
            c.kind.as_str(),
            c.index
        )));
    }
    let mut seen: HashMap<&str, String> = HashMap::new();
    let all = disks.chain(nets).chain(serials).chain(consoles);
    for (what, alias) in all.chain(controllers) {
        let Some(alias) = alias.as_deref() else {
            continue;
        };
        if !is_user_alias(alias) {
            return Err(invalid(format!(
                "the alias '{alias}' of {what} is not a user alias: it must start with 'ua-' and have only ASCII letters, digits, '_' and '-'"
            )));
        }
        if let Some(other) = seen.insert(alias, what.clone()) {
            // libvirt's message, then which devices share it.
            return Err(unsupported(format!(
                "non unique alias detected: {alias} ({other} and {what})"
            )));
        }
    }
    for (i, c) in d.consoles.iter().enumerate() {
        if let Some(serial) = serial_of(def, c)
            && c.alias.is_some()
            && c.alias != serial.alias
        {
            return Err(invalid(format!(
                "console {i} is the serial port {}, so its alias must be the port's ({})",
                c.target_port.unwrap_or(0),
                serial.alias.as_deref().unwrap_or("none")
            )));
        }
    }
    Ok(())
}

/// The serial port a console with target type `serial` (or none) is: the
/// one with its port number.
fn serial_of<'a>(def: &'a DomainDef, console: &CharDevice) -> Option<&'a CharDevice> {
    if !matches!(console.target_type.as_deref(), None | Some("serial")) {
        return None;
    }
    let port = console.target_port.unwrap_or(0);
    def.devices
        .serials
        .iter()
        .enumerate()
        .find(|(i, s)| s.target_port.unwrap_or(*i as u32) == port)
        .map(|(_, s)| s)
}
