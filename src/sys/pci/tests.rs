//! The sysfs protocol against the scratch kernel of [`super::kernel`].

use super::kernel::{DEV, kernel, settled};
use super::*;

#[test]
fn a_device_goes_to_vfio_and_back_to_its_driver() {
    let k = kernel("roundtrip", &[]);
    let host = k.host();
    assert_eq!(host.driver(DEV).as_deref(), Some("e1000e"));
    assert_eq!(host.iommu_group(DEV).as_deref(), Some("7"));
    host.load_vfio().unwrap();
    host.bind_vfio(DEV).unwrap();
    assert_eq!(host.driver(DEV).as_deref(), Some(VFIO_DRIVER));
    assert!(k.root.join("dev/vfio/7").exists());
    host.unbind_vfio(DEV).unwrap();
    assert_eq!(settled(&host, "e1000e").as_deref(), Some("e1000e"));
    let over = std::fs::read_to_string(host.device(DEV).join("driver_override")).unwrap();
    assert_eq!(over, "\n", "the override is cleared");
    assert!(!k.root.join("dev/vfio/7").exists());
}

#[test]
fn a_device_not_on_vfio_is_left_on_its_driver() {
    let k = kernel("left", &[]);
    let host = k.host();
    host.unbind_vfio(DEV).unwrap();
    assert_eq!(host.driver(DEV).as_deref(), Some("e1000e"));
    let over = std::fs::read_to_string(host.device(DEV).join("driver_override")).unwrap();
    assert_eq!(over, "\n");
    host.unbind_vfio("0000:99:00.0").unwrap();
}

#[test]
fn a_group_with_a_device_on_a_host_driver_is_named() {
    let k = kernel(
        "group",
        &[
            ("0000:06:12.6", "snd_hda_intel"),
            ("0000:06:00.0", "pcieport"),
        ],
    );
    let host = k.host();
    assert_eq!(
        host.group_blocker(DEV, &[DEV.to_string()]),
        Some(("0000:06:12.6".to_string(), "snd_hda_intel".to_string()))
    );
    // Passed through together, the group is whole.
    let both = [DEV.to_string(), "0000:06:12.6".to_string()];
    assert_eq!(host.group_blocker(DEV, &both), None);
}

#[test]
fn a_bind_without_its_device_node_is_reported_and_undone() {
    let k = kernel("nonode", &[]);
    let host = k.host();
    std::fs::remove_dir_all(k.root.join("dev/vfio")).unwrap();
    let e = host.bind_vfio(DEV).unwrap_err();
    assert!(
        e.message.contains(DEV) && e.message.contains("dev/vfio/7"),
        "{}",
        e.message
    );
    // The caller gives it back.
    host.unbind_vfio(DEV).unwrap();
    assert_eq!(settled(&host, "e1000e").as_deref(), Some("e1000e"));
}
