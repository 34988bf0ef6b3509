//! The QEMU driver's own checks of a definition, as libvirt's
//! `qemu_validate.c` and `qemu_domain_address.c` make them: what is valid
//! domain XML but cannot be built by QEMU's machines. The model checks
//! the XML's own rules; this knows the chipsets. The manager runs it at
//! define and create, so a definition QEMU cannot build is never stored,
//! and the command-line builder runs it again.

use crate::error::Error;
use crate::model::{
    Address, ControllerType, DiskBus, DiskDevice, DomainDef, PciAddress, VideoModel, VsockModel,
};
use crate::qemu::argv::{invalid, unsupported};

/// Checks `def` against what QEMU's machine types build themselves.
///
/// Errors: [`crate::error::ErrorCode::ConfigInvalid`] naming the device
/// and the built-in function whose place it claims.
pub fn validate(def: &DomainDef) -> Result<(), Error> {
    machine_rules(def)?;
    device_rules(def)?;
    chipset_slots(def)
}

/// What QEMU's devices take (libvirt's `qemuValidateDomainDeviceDef*`):
/// a SCSI LUN is `scsi-block` (its source is the model's rule), with no
/// identity of its own; a WWN is IDE's and SCSI's, a vendor and product SCSI's; block
/// sizes, geometry and rotation rate as `argv::check_disk_props` says; VT-d
/// is Q35's; vhost-vsock has no transitional device.
fn device_rules(def: &DomainDef) -> Result<(), Error> {
    for net in &def.devices.interfaces {
        crate::qemu::argv::check_guest_ips(net)?;
    }
    for d in &def.devices.disks {
        let t = &d.target;
        let bus = d.effective_bus();
        if d.device == DiskDevice::Lun {
            // virtio-blk passes SCSI commands only in legacy virtio,
            // which QEMU refuses beside virtio 1.0 ("set scsi=off").
            if bus != Some(DiskBus::Scsi) {
                return Err(unsupported(format!(
                    "disk '{t}': disk device='lun' is only supported on bus='scsi'"
                )));
            }
            if d.serial.is_some() {
                return Err(unsupported(format!(
                    "disk '{t}': scsi-block 'lun' devices do not support the serial property"
                )));
            }
            if d.wwn.is_some() || d.vendor.is_some() || d.product.is_some() {
                return Err(unsupported(format!(
                    "disk '{t}': setting wwn, vendor or product is not supported for lun device"
                )));
            }
        }
        if d.wwn.is_some() && !matches!(bus, Some(DiskBus::Ide | DiskBus::Scsi)) {
            return Err(unsupported(format!(
                "disk '{t}': only ide and scsi disk support wwn"
            )));
        }
        if (d.vendor.is_some() || d.product.is_some()) && bus != Some(DiskBus::Scsi) {
            return Err(unsupported(format!(
                "disk '{t}': only scsi disk supports vendor and product"
            )));
        }
        if let Some(bus) = bus {
            crate::qemu::argv::check_disk_props(d, bus)?;
        }
        // Only a virtio disk is a PCI device (libvirt: "ACPI index is
        // only supported for PCI devices").
        if d.acpi_index.is_some() && bus.is_some_and(|b| b != DiskBus::Virtio) {
            return Err(unsupported(format!(
                "disk '{t}': ACPI index is only supported for PCI devices, and a disk on bus '{}' is not one",
                bus.map_or("", |b| b.as_str())
            )));
        }
    }
    if def
        .devices
        .videos
        .iter()
        .any(|v| v.model == VideoModel::Ramfb && v.acpi_index.is_some())
    {
        return Err(unsupported(
            "ACPI index is only supported for PCI devices, and a ramfb video device is not one",
        ));
    }
    if let Some(i) = &def.devices.iommu {
        iommu(def, i)?;
    }
    if def
        .devices
        .vsock
        .as_ref()
        .is_some_and(|v| v.model == Some(VsockModel::VirtioTransitional))
    {
        return Err(unsupported(
            "a vsock is virtio 1.0 only: QEMU has no transitional vhost-vsock device; use model='virtio'",
        ));
    }
    Ok(())
}

/// libvirt's qemuValidateDomainDeviceDefIOMMU: Intel's and virtio's
/// IOMMU are Q35's (virtio's also ARM Virt's, which is not an x86
/// machine); virtio's needs ACPI (its topology reaches the guest in the
/// VIOT table) and, where it is placed, a PCI address.
fn iommu(def: &DomainDef, i: &crate::model::Iommu) -> Result<(), Error> {
    use crate::model::IommuModel;
    let name = i.model.as_str();
    if i.model == IommuModel::Virtio {
        if !def.os.is_q35() {
            return Err(unsupported(format!(
                "IOMMU device: '{name}' is only supported with Q35 and ARM Virt machines"
            )));
        }
        if !def.features.acpi {
            return Err(unsupported(format!("IOMMU device: '{name}' requires ACPI")));
        }
        if i.address
            .as_ref()
            .is_some_and(|a| !matches!(a, crate::model::Address::Pci(_)))
        {
            return Err(unsupported(format!(
                "IOMMU device: '{name}' needs a PCI address"
            )));
        }
    } else if !def.os.is_q35() {
        return Err(unsupported(format!(
            "IOMMU device: '{name}' is only supported with Q35 machines"
        )));
    }
    Ok(())
}

/// What one machine family has and the other lacks: IDE on i440FX only,
/// the root bus each has, the expander bus each takes, SMM's TSEG on Q35
/// only (libvirt's `qemuValidateDomainDef*` and its PCI root checks).
fn machine_rules(def: &DomainDef) -> Result<(), Error> {
    let q35 = def.os.is_q35();
    let i440fx = def.os.is_i440fx();
    if q35 {
        if let Some(d) = def
            .devices
            .disks
            .iter()
            .find(|d| d.effective_bus() == Some(DiskBus::Ide))
        {
            return Err(invalid(format!(
                "disk '{}': q35 machines have no IDE bus",
                d.target
            )));
        }
        if let Some(i) = def
            .devices
            .controllers
            .iter()
            .position(|c| c.kind == ControllerType::Ide)
        {
            return Err(invalid(format!(
                "controller #{}: IDE controllers are not supported on q35 machines",
                i + 1
            )));
        }
    }
    let root = if q35 { "pcie-root" } else { "pci-root" };
    for c in def
        .devices
        .controllers
        .iter()
        .filter(|c| c.kind == ControllerType::Pci)
    {
        let m = c.model.as_deref().unwrap_or_default();
        if c.index == 0 && (q35 || i440fx) && m != root {
            return Err(invalid(format!(
                "The PCI controller with index='0' must be model='{root}' for this machine type, but model='{m}' was found instead"
            )));
        }
        if m == "pci-expander-bus" && !i440fx {
            return Err(invalid(
                "pci-expander-bus controllers are only supported on 440fx-based machinetypes",
            ));
        }
        if m == "pcie-expander-bus" && !q35 {
            return Err(invalid(
                "pcie-expander-bus controllers are only supported on q35-based machinetypes",
            ));
        }
    }
    if def
        .features
        .smm
        .as_ref()
        .is_some_and(|s| s.tseg_kib.is_some())
        && !q35
    {
        return Err(unsupported(
            "SMM TSEG is only supported with q35 machine type",
        ));
    }
    Ok(())
}

fn pci_name(p: &PciAddress) -> String {
    format!(
        "{:04x}:{:02x}:{:02x}.{:x}",
        p.domain, p.bus, p.slot, p.function
    )
}

fn at(p: &PciAddress, slot: u32, function: u32) -> bool {
    (p.domain, p.bus, p.slot, p.function) == (0, 0, slot, function)
}

/// Refuses explicit addresses on the functions the machine itself puts on
/// bus 0: the host bridge at slot 0; on i440FX the PIIX3 at slot 1 (ISA
/// bridge, IDE, USB, power management); on Q35 the ICH9 at slot 0x1f (LPC,
/// SATA, SMBus). The primary IDE/USB/SATA controller may only sit where
/// the chipset has it.
fn chipset_slots(def: &DomainDef) -> Result<(), Error> {
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
    for (p, what) in def.pci_addresses() {
        if !what.starts_with("controller") {
            reserved(def, &p, &what, piix_usb)?;
        }
    }
    Ok(())
}

fn reserved(def: &DomainDef, p: &PciAddress, what: &str, piix_usb: bool) -> Result<(), Error> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn def(machine: &str, devices: &str) -> DomainDef {
        DomainDef::from_xml(&format!(
            "<domain type='qemu'><name>v</name><memory>65536</memory>\
             <os><type arch='x86_64' machine='{machine}'>hvm</type></os>\
             <devices>{devices}</devices></domain>"
        ))
        .unwrap()
    }

    fn pci(slot: u32, function: u32) -> String {
        format!("<address type='pci' domain='0' bus='0' slot='{slot}' function='{function}'/>")
    }

    #[test]
    fn the_chipset_functions_are_the_chipsets() {
        let nic = |a: String| {
            format!(
                "<interface type='user'><mac address='52:54:00:00:00:01'/><model type='virtio'/>{a}</interface>"
            )
        };
        for (machine, slot, function, owner) in [
            ("pc", 0, 1, "the host bridge"),
            ("pc", 1, 0, "the PIIX3 ISA bridge"),
            ("pc", 1, 3, "the PIIX4 power management function"),
            ("q35", 0x1f, 0, "the ICH9 LPC bridge"),
            ("q35", 0x1f, 3, "the ICH9 SMBus controller"),
        ] {
            let e = validate(&def(machine, &nic(pci(slot, function))))
                .expect_err(&format!("{machine} {slot}.{function}"));
            assert_eq!(e.code, crate::error::ErrorCode::ConfigInvalid);
            assert!(
                e.message.contains(owner),
                "{machine} {slot}.{function}: {e}"
            );
        }
        // The same places are free on the other chipset.
        validate(&def("q35", &nic(pci(1, 0)))).unwrap();
        validate(&def("pc", &nic(pci(0x1f, 0)))).unwrap();
    }

    #[test]
    fn primary_controllers_sit_where_the_chipset_has_them() {
        let ide = |a: String| format!("<controller type='ide' index='0'>{a}</controller>");
        validate(&def("pc", &ide(pci(1, 1)))).unwrap();
        let e = validate(&def("pc", &ide(pci(5, 0)))).unwrap_err();
        assert!(
            e.message
                .contains("Primary IDE controller must have PCI address 0:0:1.1"),
            "{e}"
        );
        let sata = |a: String| format!("<controller type='sata' index='0'>{a}</controller>");
        validate(&def("q35", &sata(pci(0x1f, 2)))).unwrap();
        let e = validate(&def("q35", &sata(pci(3, 0)))).unwrap_err();
        assert!(
            e.message
                .contains("Primary SATA controller must have PCI address 0:0:1f.2"),
            "{e}"
        );
    }

    #[test]
    fn each_family_has_its_own_buses() {
        let ide = "<disk type='file' device='disk'><source file='/a'/><target dev='hda' bus='ide'/></disk>";
        validate(&def("pc", ide)).unwrap();
        let e = validate(&def("q35", ide)).unwrap_err();
        assert!(e.message.contains("q35 machines have no IDE bus"), "{e}");
        let pxb = "<controller type='pci' index='1' model='pci-expander-bus'/>";
        validate(&def("pc", pxb)).unwrap();
        let e = validate(&def("q35", pxb)).unwrap_err();
        assert!(e.message.contains("only supported on 440fx"), "{e}");
        let root = "<controller type='pci' index='0' model='pci-root'/>";
        let e = validate(&def("q35", root)).unwrap_err();
        assert!(e.message.contains("must be model='pcie-root'"), "{e}");
    }
}
