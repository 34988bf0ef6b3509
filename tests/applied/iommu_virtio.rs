//! `<iommu model='virtio'>` on Q35: QEMU has the virtio-iommu-pci device
//! on the root bus at the address the builder gave it, and the Linux
//! guest finds it on its PCI bus, described by the ACPI VIOT table QEMU
//! builds for it.

use serde_json::json;

use crate::disk_sources::qmp;
use crate::inguest::Shell;
use crate::support::{State, linux_vm};

#[test]
fn virtio_iommu_is_on_the_root_bus_and_the_guest_sees_it() {
    let st = State::new("iommu-virtio");
    let xml = linux_vm("iommuv", 256, "", "<iommu model='virtio'/>")
        .replace("machine='pc'", "machine='q35'");
    let d = st.driver();
    let dom = d.define_xml(&xml).unwrap();
    d.start(&dom).unwrap();
    // QEMU: the device, its type, on pcie.0 at the address the live XML
    // gives it.
    let live = qvirt::DomainDef::from_xml(&st.live_xml("iommuv")).unwrap();
    let Some(qvirt::model::Address::Pci(at)) = live.devices.iommu.unwrap().address else {
        panic!("the live XML has no PCI address for the iommu");
    };
    assert_eq!((at.bus, at.function), (0, 0));
    let kind = qmp(
        &*d,
        &dom,
        "qom-get",
        json!({"path": "/machine/peripheral/iommu0", "property": "type"}),
    );
    assert_eq!(kind, "virtio-iommu-pci");
    let pci = qmp(&*d, &dom, "query-pci", json!({}));
    let root = pci[0]["devices"].as_array().unwrap();
    let dev = root
        .iter()
        .find(|p| p["qdev_id"] == "iommu0")
        .unwrap_or_else(|| panic!("no iommu0 on the root bus: {pci}"));
    assert_eq!(
        (
            dev["bus"].as_u64(),
            dev["slot"].as_u64(),
            dev["id"]["vendor"].as_u64(),
            dev["id"]["device"].as_u64()
        ),
        (
            Some(0),
            Some(u64::from(at.slot)),
            Some(0x1af4),
            Some(0x1057)
        ),
        "{dev}"
    );
    // The guest: the device on its PCI bus and the VIOT table.
    let mut sh = Shell::open(&*d, "iommuv");
    let sys = format!("/sys/bus/pci/devices/0000:00:{:02x}.0", at.slot);
    let ids = sh.run(&format!("cat {sys}/vendor {sys}/device"));
    assert_eq!(
        ids.split_whitespace().collect::<Vec<_>>(),
        ["0x1af4", "0x1057"]
    );
    let tables = sh.run("ls /sys/firmware/acpi/tables");
    assert!(
        tables.split_whitespace().any(|t| t == "VIOT"),
        "no VIOT table in the guest: {tables}"
    );
    // Whether the guest drives it depends on its kernel having the
    // driver: when it has, the device is bound to it.
    let has_driver = sh.run("ls -d /sys/bus/virtio/drivers/virtio_iommu 2>/dev/null | wc -l");
    if has_driver == "1" {
        let bound = sh.run("ls /sys/bus/virtio/drivers/virtio_iommu");
        assert!(bound.contains("virtio"), "{bound}");
    }
    drop(sh);
    d.destroy(&dom).unwrap();
}
