//! Checks across devices: PCI addresses (range, the slots a machine type
//! builds in, double use), drive addresses, and boot order.

use std::collections::HashMap;

use super::{R, invalid};
use crate::model::{Address, ControllerType, DomainDef, PciAddress};

fn pci_name(p: &PciAddress) -> String {
    format!(
        "{:04x}:{:02x}:{:02x}.{:x}",
        p.domain, p.bus, p.slot, p.function
    )
}

/// Every explicit PCI address with the device it belongs to.
fn pci_addresses(def: &DomainDef) -> Vec<(PciAddress, String)> {
    let d = &def.devices;
    let mut out = Vec::new();
    let mut push = |a: &Option<Address>, what: String| {
        if let Some(Address::Pci(p)) = a {
            out.push((*p, what));
        }
    };
    for x in &d.disks {
        push(&x.address, format!("disk '{}'", x.target));
    }
    for (i, x) in d.controllers.iter().enumerate() {
        push(&x.address, format!("controller #{}", i + 1));
    }
    for x in &d.interfaces {
        push(&x.address, format!("interface {}", x.mac));
    }
    for (i, x) in d.inputs.iter().enumerate() {
        push(&x.address, format!("input #{}", i + 1));
    }
    for (i, x) in d.videos.iter().enumerate() {
        push(&x.address, format!("video #{}", i + 1));
    }
    for (i, x) in d.sounds.iter().enumerate() {
        push(&x.address, format!("sound #{}", i + 1));
    }
    for (i, x) in d.watchdogs.iter().enumerate() {
        push(&x.address, format!("watchdog #{}", i + 1));
    }
    for (i, x) in d.rngs.iter().enumerate() {
        push(&x.address, format!("rng #{}", i + 1));
    }
    if let Some(b) = &d.memballoon {
        push(&b.address, "memballoon".to_string());
    }
    for (i, x) in d.hostdevs.iter().enumerate() {
        push(&x.address, format!("hostdev #{}", i + 1));
    }
    for x in &d.filesystems {
        push(&x.address, format!("filesystem '{}'", x.target_dir));
    }
    for x in &d.shmems {
        push(&x.address, format!("shmem '{}'", x.name));
    }
    out
}

fn at(p: &PciAddress, slot: u32, function: u32) -> bool {
    (p.domain, p.bus, p.slot, p.function) == (0, 0, slot, function)
}

pub(super) fn validate(def: &DomainDef) -> R {
    let addrs = pci_addresses(def);
    for (p, what) in &addrs {
        if p.domain != 0 {
            return Err(invalid(format!(
                "Invalid PCI address domain='0x{:x}' of {what}, only domain 0 exists",
                p.domain
            )));
        }
        if p.bus > 0xFF {
            return Err(invalid(format!(
                "Invalid PCI address bus='0x{:x}', must be <= 0xFF",
                p.bus
            )));
        }
        if p.slot > 0x1F {
            return Err(invalid(format!(
                "Invalid PCI address slot='0x{:x}', must be <= 0x1F",
                p.slot
            )));
        }
        if p.function > 7 {
            return Err(invalid(format!(
                "Invalid PCI address function=0x{:x}, must be <= 7",
                p.function
            )));
        }
    }
    builtin_slots(def)?;
    let mut used: HashMap<(u32, u32, u32, u32), &str> = HashMap::new();
    for (p, what) in &addrs {
        let key = (p.domain, p.bus, p.slot, p.function);
        // A pci-root keeps its (refused) address only for the message.
        if used.insert(key, what).is_some() {
            return Err(invalid(format!(
                "Attempted double use of PCI Address {}",
                pci_name(p)
            )));
        }
    }
    usb_addresses(def)?;
    virtio_serial_addresses(def)?;
    boot_order(def)
}

/// Every explicit USB address with the device it belongs to.
fn usb_devices(def: &DomainDef) -> Vec<(&Option<Address>, String)> {
    let d = &def.devices;
    let mut out: Vec<(&Option<Address>, String)> = Vec::new();
    for x in &d.disks {
        out.push((&x.address, format!("disk '{}'", x.target)));
    }
    for (i, x) in d.inputs.iter().enumerate() {
        out.push((&x.address, format!("input #{}", i + 1)));
    }
    for (i, x) in d.redirdevs.iter().enumerate() {
        out.push((&x.address, format!("redirdev #{}", i + 1)));
    }
    for (i, x) in d.hubs.iter().enumerate() {
        out.push((&x.address, format!("hub #{}", i + 1)));
    }
    for (i, x) in d.hostdevs.iter().enumerate() {
        if matches!(x.source, crate::model::HostdevSource::Usb(_)) {
            out.push((&x.address, format!("hostdev #{}", i + 1)));
        }
    }
    out
}

/// USB ports: within the schema's range, on a controller that exists, and
/// each used once.
fn usb_addresses(def: &DomainDef) -> R {
    let d = &def.devices;
    let mut used: HashMap<(u32, String), String> = HashMap::new();
    for (a, what) in usb_devices(def) {
        let Some(Address::Usb(u)) = a else {
            continue;
        };
        let bus = u.bus;
        if bus > 999 || u.port.is_some_and(|p| p.path().iter().any(|n| *n > 999)) {
            return Err(invalid(format!(
                "USB address of {what} is out of range (bus and ports at most 999)"
            )));
        }
        let has_controller = d
            .controllers
            .iter()
            .any(|c| c.kind == ControllerType::Usb && c.index == bus);
        if bus != 0 && !has_controller {
            return Err(invalid(format!(
                "{what} is on USB bus {bus}, but there is no USB controller with index {bus}"
            )));
        }
        if let Some(port) = u.port
            && let Some(other) = used.insert((bus, port.to_string()), what.clone())
        {
            return Err(invalid(format!(
                "Attempted double use of USB port {port} on bus {bus} ({other} and {what})"
            )));
        }
    }
    Ok(())
}

/// virtio-serial ports: each used once.
fn virtio_serial_addresses(def: &DomainDef) -> R {
    let d = &def.devices;
    let mut used: HashMap<(u32, u32, u32), usize> = HashMap::new();
    for (i, c) in d.channels.iter().enumerate() {
        let Some(Address::VirtioSerial(a)) = c.address else {
            continue;
        };
        if a.port == 0 {
            continue;
        }
        if used.insert((a.controller, a.bus, a.port), i).is_some() {
            return Err(invalid(format!(
                "virtio serial port {} on controller {} bus {} is used twice",
                a.port, a.controller, a.bus
            )));
        }
    }
    Ok(())
}

/// Refuses explicit addresses on the functions the machine itself puts on
/// bus 0: the host bridge at slot 0; on i440FX the PIIX3 at slot 1 (ISA
/// bridge, IDE, USB, power management); on Q35 the ICH9 at slot 0x1f (LPC,
/// SATA, SMBus). The primary IDE/USB/SATA controller may only sit where
/// the chipset has it.
fn builtin_slots(def: &DomainDef) -> R {
    let ctls = &def.devices.controllers;
    let usb0 = ctls
        .iter()
        .find(|c| c.kind == ControllerType::Usb && c.index == 0);
    let piix_usb = usb0.is_none_or(|c| matches!(c.model.as_deref(), None | Some("piix3-uhci")));
    let i440fx = def.os.is_i440fx();
    let q35 = def.os.is_q35();
    for (i, c) in ctls.iter().enumerate() {
        let Some(Address::Pci(p)) = &c.address else {
            continue;
        };
        let own = match (c.kind, c.index) {
            (ControllerType::Ide, 0) if i440fx => Some(("Primary IDE controller", 1, 1)),
            (ControllerType::Usb, 0) if i440fx && piix_usb => {
                Some(("PIIX3 USB controller at index 0", 1, 2))
            }
            (ControllerType::Sata, 0) if q35 => Some(("Primary SATA controller", 0x1f, 2)),
            _ => None,
        };
        if let Some((what, slot, function)) = own {
            if !at(p, slot, function) {
                return Err(invalid(format!(
                    "{what} must have PCI address 0:0:{slot:x}.{function}, not {}",
                    pci_name(p)
                )));
            }
            continue;
        }
        reserved(def, p, &format!("controller #{}", i + 1), piix_usb)?;
    }
    for (p, what) in pci_addresses(def) {
        if !what.starts_with("controller") {
            reserved(def, &p, &what, piix_usb)?;
        }
    }
    Ok(())
}

fn reserved(def: &DomainDef, p: &PciAddress, what: &str, piix_usb: bool) -> R {
    let taken_by = if p.bus == 0 && p.slot == 0 && p.domain == 0 {
        Some("the host bridge")
    } else if def.os.is_i440fx() {
        match (p.bus, p.slot, p.function) {
            (0, 1, 0) => Some("the PIIX3 ISA bridge"),
            (0, 1, 1) => Some("the primary IDE controller"),
            (0, 1, 2) if piix_usb => Some("the PIIX3 USB controller"),
            (0, 1, 3) => Some("the PIIX4 power management function"),
            _ => None,
        }
    } else if def.os.is_q35() {
        match (p.bus, p.slot, p.function) {
            (0, 0x1f, 0) => Some("the ICH9 LPC bridge"),
            (0, 0x1f, 2) => Some("the primary SATA controller"),
            (0, 0x1f, 3) => Some("the ICH9 SMBus controller"),
            _ => None,
        }
    } else {
        None
    };
    match taken_by {
        Some(owner) => Err(invalid(format!(
            "Attempted double use of PCI Address {} ({what} and {owner})",
            pci_name(p)
        ))),
        None => Ok(()),
    }
}

fn boot_order(def: &DomainDef) -> R {
    let d = &def.devices;
    let orders: Vec<(u32, String)> = d
        .disks
        .iter()
        .filter_map(|x| x.boot_order.map(|o| (o, format!("disk '{}'", x.target))))
        .chain(
            d.interfaces
                .iter()
                .filter_map(|x| x.boot_order.map(|o| (o, format!("interface {}", x.mac)))),
        )
        .chain(
            d.redirdevs
                .iter()
                .enumerate()
                .filter_map(|(i, x)| x.boot_order.map(|o| (o, format!("redirdev #{}", i + 1)))),
        )
        .chain(
            d.hostdevs
                .iter()
                .enumerate()
                .filter_map(|(i, x)| x.boot_order.map(|o| (o, format!("hostdev #{}", i + 1)))),
        )
        .chain(d.filesystems.iter().filter_map(|x| {
            x.boot_order
                .map(|o| (o, format!("filesystem '{}'", x.target_dir)))
        }))
        .collect();
    if !orders.is_empty() && !def.os.boot.is_empty() {
        return Err(invalid(
            "per-device boot elements cannot be used together with os/boot elements",
        ));
    }
    let mut seen: HashMap<u32, &str> = HashMap::new();
    for (o, what) in &orders {
        if let Some(other) = seen.insert(*o, what) {
            return Err(invalid(format!(
                "boot order '{o}' used for more than one device ({other} and {what})"
            )));
        }
    }
    Ok(())
}
