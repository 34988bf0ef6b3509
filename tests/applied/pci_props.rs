//! Properties of PCI devices on the running QEMU: `<acpi index>` of a
//! disk, a NIC and a video card is each device's `acpi-index`, and so is
//! that of a NIC plugged into the running domain.

use qvirt::driver::ModifyFlags;

use crate::support::{State, firmware_vm, qemu_img};

#[test]
fn acpi_indexes_reach_the_pci_devices() {
    let st = State::new("acpiindex");
    let img = st.root().join("a.img");
    qemu_img(&["create", "-q", "-f", "raw", img.to_str().unwrap(), "1M"]);
    st.start(&firmware_vm(
        "acpi",
        "<features><acpi/></features>",
        &format!(
            "<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='{}'/>\
             <target dev='vda' bus='virtio'/><acpi index='42'/></disk>\
             <interface type='user'><model type='virtio'/><acpi index='100'/></interface>\
             <video><model type='cirrus'/><acpi index='1729'/></video>",
            img.display()
        ),
    ));
    let mut qmp = st.qmp("acpi");
    for (dev, index) in [("virtio-disk0", 42), ("net0", 100), ("video0", 1729)] {
        assert_eq!(
            qmp.qom_get(&format!("/machine/peripheral/{dev}"), "acpi-index"),
            index,
            "{dev}"
        );
    }
    drop(qmp);
    let d = st.driver();
    let dom = d.lookup_by_name("acpi").unwrap();
    d.attach_device(
        &dom,
        "<interface type='user'><model type='virtio'/><acpi index='200'/></interface>",
        ModifyFlags::LIVE,
    )
    .unwrap();
    drop(d);
    let mut qmp = st.qmp("acpi");
    assert_eq!(qmp.qom_get("/machine/peripheral/net1", "acpi-index"), 200);
    drop(qmp);
    st.stop("acpi");
}
