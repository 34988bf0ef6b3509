//! `<iommu model='virtio'>`: read with its PCI address, written back,
//! valid against libvirt's schema, and refused where libvirt 9.0 refuses
//! it (driver switches, another machine, no ACPI, an address that is not
//! PCI).

use qvirt::model::{Address, IommuModel, ModelErrorKind};

use crate::{
    accept, doc_os, read_for_define, reject, reject_at_define, round_trip, scratch_dir,
    xmllint_validate,
};

use ModelErrorKind::{Invalid, Unsupported};

fn on(machine: &str, features: &str, iommu: &str) -> String {
    doc_os(
        &format!("<type arch='x86_64' machine='{machine}'>hvm</type>"),
        &format!("<features>{features}</features>"),
        iommu,
    )
}

#[test]
fn virtio_iommu_round_trips_with_its_address() {
    let xml = on(
        "q35",
        "<acpi/>",
        "<iommu model='virtio'><address type='pci' domain='0x0000' bus='0x00' slot='0x05' function='0x0'/></iommu>",
    );
    let d = accept(&xml);
    let i = d.devices.iommu.as_ref().unwrap();
    assert_eq!(i.model, IommuModel::Virtio);
    assert!(matches!(&i.address, Some(Address::Pci(a)) if a.slot == 5));
    read_for_define(&xml).expect("QEMU's rules take it");
    let written = round_trip(&d);
    let plain = round_trip(&accept(&on("q35", "<acpi/>", "<iommu model='virtio'/>")));
    let dir = scratch_dir("iommu-virtio");
    let files = [dir.join("addressed.xml"), dir.join("plain.xml")];
    std::fs::write(&files[0], &written).unwrap();
    std::fs::write(&files[1], &plain).unwrap();
    xmllint_validate(&files);
}

#[test]
fn virtio_iommu_is_refused_where_libvirt_refuses_it() {
    reject(
        &on(
            "q35",
            "<acpi/>",
            "<iommu model='virtio'><driver intremap='on'/></iommu>",
        ),
        Invalid,
        "iommu model 'virtio' doesn't support additional attributes",
    );
    reject_at_define(
        &on("pc", "<acpi/>", "<iommu model='virtio'/>"),
        Unsupported,
        "IOMMU device: 'virtio' is only supported with Q35 and ARM Virt machines",
    );
    reject_at_define(
        &on("q35", "", "<iommu model='virtio'/>"),
        Unsupported,
        "IOMMU device: 'virtio' requires ACPI",
    );
    reject_at_define(
        &on(
            "q35",
            "<acpi/>",
            "<iommu model='virtio'><address type='drive' controller='0' bus='0' unit='0'/></iommu>",
        ),
        Unsupported,
        "IOMMU device: 'virtio' needs a PCI address",
    );
    // Intel's still takes no address.
    reject(
        &on(
            "q35",
            "<acpi/>",
            "<iommu model='intel'><address type='pci' bus='0x00' slot='0x05'/></iommu>",
        ),
        Invalid,
        "can't have address",
    );
}
