//! Checks across devices: PCI addresses (range, double use), USB and
//! virtio-serial ports, and boot order. Which slots a machine type fills
//! itself is QEMU's knowledge: `crate::qemu::validate` checks that.

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
pub(crate) fn pci_addresses(def: &DomainDef) -> Vec<(PciAddress, String)> {
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
