//! `<acpi index>` of PCI devices (disks, interfaces, video cards): as
//! libvirt documents it, unique in the domain and from 1 to 16383, and
//! only on a device with a PCI address (or none yet).

use std::collections::HashMap;

use super::{R, invalid, unsupported};
use crate::model::{Address, DomainDef};

/// The largest index (QEMU's and libvirt's 16*1024-1).
const MAX_ACPI_INDEX: u32 = 16 * 1024 - 1;

pub(super) fn validate(def: &DomainDef) -> R {
    let d = &def.devices;
    let disks = d
        .disks
        .iter()
        .map(|x| (format!("disk '{}'", x.target), x.acpi_index, &x.address));
    let nets = d
        .interfaces
        .iter()
        .enumerate()
        .map(|(i, x)| (format!("interface {i}"), x.acpi_index, &x.address));
    let videos = d
        .videos
        .iter()
        .enumerate()
        .map(|(i, x)| (format!("video {i}"), x.acpi_index, &x.address));
    let mut seen: HashMap<u32, String> = HashMap::new();
    for (what, index, address) in disks.chain(nets).chain(videos) {
        let Some(index) = index else { continue };
        if index == 0 || index > MAX_ACPI_INDEX {
            return Err(invalid(format!(
                "{what}: ACPI index {index} is out of range 1-{MAX_ACPI_INDEX}"
            )));
        }
        if matches!(address, Some(a) if !matches!(a, Address::Pci(_))) {
            return Err(unsupported(format!(
                "{what}: ACPI index is only supported for PCI devices"
            )));
        }
        if let Some(other) = seen.insert(index, what.clone()) {
            return Err(invalid(format!(
                "{what}: ACPI index {index} is already used by {other}"
            )));
        }
    }
    Ok(())
}
