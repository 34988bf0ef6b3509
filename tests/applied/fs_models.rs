//! A 9p share's `model` picks QEMU's virtio-9p device: on Q35 the
//! transitional one sits behind the PCI bridge libvirt adds for it and
//! offers the legacy interface (virtio's transitional device id
//! 0x1009), the non-transitional one and plain `virtio` sit on PCI
//! Express root ports and offer the modern interface only (0x1049), as
//! `query-pci` shows the running QEMU's devices.

use serde_json::{Value, json};

use super::support::{BOOT, State, firmware_vm, poll};

/// The `query-pci` entry of device `id` among `devices` or behind their
/// bridges, with the id of the bridge it is behind (`""` on the root).
fn find<'a>(devices: &'a Value, id: &str, parent: &'a str) -> Option<(&'a Value, &'a str)> {
    devices.as_array()?.iter().find_map(|d| {
        if d["qdev_id"] == id {
            Some((d, parent))
        } else {
            let name = d["qdev_id"].as_str().unwrap_or_default();
            find(&d["pci_bridge"]["devices"], id, name)
        }
    })
}

#[test]
fn nine_p_models_are_the_transitional_and_modern_devices() {
    let st = State::new("fs-models");
    let share = st.root().join("share");
    std::fs::create_dir_all(&share).unwrap();
    let fs = |model: &str, tag: &str| {
        format!(
            "<filesystem type='mount' accessmode='mapped' model='{model}'>\
             <source dir='{}'/><target dir='{tag}'/></filesystem>",
            share.display()
        )
    };
    let devices = [
        fs("virtio-transitional", "t"),
        fs("virtio-non-transitional", "nt"),
        fs("virtio", "v"),
    ]
    .concat();
    let xml = firmware_vm("fsmodels", "", &devices).replace("machine='pc'", "machine='q35'");
    st.start(&xml);
    let mut qmp = st.qmp("fsmodels");
    // Devices behind bridges show once the firmware has numbered the
    // bridges' buses.
    let pci = poll("the firmware to number the PCI buses", BOOT, || {
        let pci = qmp.exec("query-pci", json!({}));
        ["fs0", "fs1", "fs2"]
            .iter()
            .all(|id| find(&pci[0]["devices"], id, "").is_some())
            .then_some(pci)
    });
    let mut seen = Vec::new();
    for id in ["fs0", "fs1", "fs2"] {
        let (d, parent) =
            find(&pci[0]["devices"], id, "").unwrap_or_else(|| panic!("no {id}: {pci}"));
        let kind = qmp.qom_get(&format!("/machine/peripheral/{id}"), "type");
        let bridge = qmp.qom_get(&format!("/machine/peripheral/{parent}"), "type");
        seen.push((
            kind.as_str().unwrap().to_string(),
            d["id"]["device"].as_u64().unwrap(),
            bridge.as_str().unwrap().to_string(),
        ));
    }
    let want =
        |kind: &str, device: u64, bridge: &str| (kind.to_string(), device, bridge.to_string());
    assert_eq!(
        seen,
        [
            want("virtio-9p-pci-transitional", 0x1009, "pcie-pci-bridge"),
            want("virtio-9p-pci-non-transitional", 0x1049, "pcie-root-port"),
            want("virtio-9p-pci", 0x1049, "pcie-root-port"),
        ]
    );
    drop(qmp);
    st.stop("fsmodels");
}
