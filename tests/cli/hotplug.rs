//! The hot-plug verbs as virsh's users know them: `attach-disk`,
//! `detach-disk`, `attach-interface`, `detach-interface`,
//! `attach-device`, `detach-device`, `update-memory-device`, their
//! wording, their flags, and the result in `domblklist` / `domiflist`
//! and QEMU's own view.

use crate::Root;

/// The firmware VM with ACPI (a pc machine's PCI hot-plug needs it).
fn acpi_firmware_xml(name: &str) -> String {
    crate::firmware_xml(name, false).replace("</os>", "</os><features><acpi/></features>")
}

/// One column of a list verb's `--json` rows (`--inactive` for the
/// definition's).
fn column(root: &Root, verb: &str, dom: &str, inactive: bool, field: &str) -> Vec<String> {
    let mut args = vec![verb, dom, "--json"];
    if inactive {
        args.push("--inactive");
    }
    let rows: serde_json::Value = serde_json::from_str(&root.ok(&args)).unwrap();
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| r[field].as_str().unwrap().to_string())
        .collect()
}

/// The targets `domblklist` lists.
fn blk_targets(root: &Root, dom: &str, inactive: bool) -> Vec<String> {
    column(root, "domblklist", dom, inactive, "target")
}

/// The MAC addresses `domiflist` lists.
fn macs(root: &Root, dom: &str, inactive: bool) -> Vec<String> {
    column(root, "domiflist", dom, inactive, "mac")
}

/// QEMU's block devices, by `qemu-monitor-command`.
fn qemu_has(root: &Root, dom: &str, id: &str) -> bool {
    root.ok(&["qemu-monitor-command", dom, r#"{"execute":"query-block"}"#])
        .contains(&format!("/machine/peripheral/{id}/"))
}

#[test]
fn hotplug_verbs_say_what_virsh_says() {
    let root = Root::new("hotplug");
    let file = root.file("h.xml", &acpi_firmware_xml("h"));
    root.ok(&["define", &file]);
    root.ok(&["start", "h"]);
    let img = root.file("b.img", &"\0".repeat(1 << 20));
    let img_c = root.file("c.img", &"\0".repeat(1 << 20));
    // --print-xml writes what would be attached, and attaches nothing.
    let xml = root.ok(&[
        "attach-disk",
        "h",
        &img,
        "vdb",
        "--subdriver",
        "raw",
        "--cache",
        "none",
        "--print-xml",
    ]);
    assert!(xml.contains("<target dev='vdb'/>"), "{xml}");
    assert!(xml.contains("cache='none'"), "{xml}");
    assert_eq!(blk_targets(&root, "h", false), Vec::<String>::new());
    // Live by default while running.
    assert_eq!(
        root.ok(&["attach-disk", "h", &img, "vdb", "--targetbus", "virtio"]),
        "Disk attached successfully\n"
    );
    assert_eq!(blk_targets(&root, "h", false), ["vdb"]);
    assert_eq!(blk_targets(&root, "h", true), Vec::<String>::new());
    assert!(qemu_has(&root, "h", "virtio-disk1"));
    // --persistent: the running domain and the definition.
    assert_eq!(
        root.ok(&[
            "attach-disk",
            "h",
            &img_c,
            "vdc",
            "--mode",
            "shareable",
            "--persistent"
        ]),
        "Disk attached successfully\n"
    );
    assert_eq!(blk_targets(&root, "h", false), ["vdb", "vdc"]);
    assert_eq!(blk_targets(&root, "h", true), ["vdc"]);
    // --config: the definition only, and detach-disk finds it there.
    assert_eq!(
        root.ok(&[
            "attach-disk",
            "h",
            &img,
            "vdd",
            "--config",
            "--mode",
            "readonly"
        ]),
        "Disk attached successfully\n"
    );
    assert_eq!(blk_targets(&root, "h", true), ["vdc", "vdd"]);
    assert_eq!(
        root.ok(&["detach-disk", "h", "vdd", "--config"]),
        "Disk detached successfully\n"
    );
    assert_eq!(blk_targets(&root, "h", true), ["vdc"]);
    // Interfaces.
    assert_eq!(
        root.ok(&[
            "attach-interface",
            "h",
            "user",
            "-",
            "--model",
            "virtio",
            "--mac",
            "52:54:00:12:34:56",
            "--config",
        ]),
        "Interface attached successfully\n"
    );
    assert_eq!(macs(&root, "h", true), ["52:54:00:12:34:56"]);
    assert_eq!(
        root.ok(&["detach-interface", "h", "user", "--config"]),
        "Interface detached successfully\n"
    );
    assert_eq!(macs(&root, "h", true), Vec::<String>::new());
    let err = root.fails(&["detach-interface", "h", "bridge", "--config"]);
    assert!(
        err.contains("No interface found whose type is bridge"),
        "{err}"
    );
    // attach-device / detach-device with a file.
    let dev = root.file(
        "nic.xml",
        "<interface type='user'><mac address='52:54:00:12:34:57'/><model type='e1000'/></interface>",
    );
    assert_eq!(
        root.ok(&["attach-device", "h", &dev]),
        "Device attached successfully\n"
    );
    assert_eq!(macs(&root, "h", false), ["52:54:00:12:34:57"]);
    assert_eq!(
        root.ok(&["attach-device", "h", &dev, "--config"]),
        "Device attached successfully\n"
    );
    assert_eq!(
        root.ok(&["detach-device", "h", &dev, "--config"]),
        "Device detached successfully\n"
    );
    // Errors: the code's name and the cause.
    let ctl = root.file(
        "ctl.xml",
        "<controller type='usb' index='1' model='qemu-xhci'/>",
    );
    let err = root.fails(&["attach-device", "h", &ctl]);
    assert!(
        err.contains("'usb' controller cannot be hot plugged."),
        "{err}"
    );
    let err = root.fails(&["attach-disk", "h", &img, "vdb"]);
    assert!(
        err.contains("already has a disk with target 'vdb'"),
        "{err}"
    );
    let err = root.fails(&["attach-disk", "h", &img, "vde", "--current", "--live"]);
    assert!(err.contains("--current cannot be combined"), "{err}");
    let err = root.fails(&["detach-disk", "h", "vdz"]);
    assert!(
        err.contains("No disk found whose source path or target is vdz"),
        "{err}"
    );
    // QEMU refuses a second writer of b.img: its block nodes go again,
    // and nothing is recorded.
    let err = root.fails(&["attach-disk", "h", &img, "vde"]);
    assert!(err.contains("cannot attach disk 'vde'"), "{err}");
    let nodes = root.ok(&[
        "qemu-monitor-command",
        "h",
        r#"{"execute":"query-named-block-nodes"}"#,
    ]);
    assert!(nodes.contains("virtio-disk1-storage"), "{nodes}");
    assert!(!nodes.contains("virtio-disk4"), "{nodes}");
    assert_eq!(blk_targets(&root, "h", false), ["vdb", "vdc"]);
}

/// `detach-device-alias` in the definition (`--config`, or the default
/// of a domain that does not run): a disk goes by its user alias, a
/// running domain's alias is no definition's, and an unknown alias is
/// libvirt's error.
#[test]
fn detach_device_alias_finds_user_aliases_in_the_definition() {
    let root = Root::new("hpalias");
    let img = root.file("b.img", &"\0".repeat(1 << 20));
    let xml = acpi_firmware_xml("ha").replace(
        "</devices>",
        &format!(
            "<disk type='file' device='disk'><source file='{img}'/>\
             <target dev='vdb' bus='virtio'/><alias name='ua-spare'/></disk></devices>"
        ),
    );
    let file = root.file("ha.xml", &xml);
    root.ok(&["define", &file]);
    assert_eq!(blk_targets(&root, "ha", true), ["vdb"]);
    let err = root.fails(&["detach-device-alias", "ha", "virtio-disk1"]);
    assert!(
        err.contains("internal error: no device found with alias virtio-disk1"),
        "{err}"
    );
    assert_eq!(
        root.ok(&["detach-device-alias", "ha", "ua-spare", "--config"]),
        "Device detach request sent successfully\n"
    );
    assert!(blk_targets(&root, "ha", true).is_empty());
    let err = root.fails(&["detach-device-alias", "ha", "ua-spare", "--live"]);
    assert!(err.contains("it is shut off"), "{err}");
}

/// `update-memory-device`, as virsh's: the one memory device the options
/// select, with a new requested size, printed (`--print-xml`) or given
/// to the definition (`--config`) and the running QEMU (`--live`).
#[test]
fn update_memory_device_changes_a_virtio_mem_requested_size() {
    let root = Root::new("hpvmem");
    let xml = acpi_firmware_xml("vm")
        .replace(
            "<vcpu>1</vcpu>",
            "<maxMemory slots='2' unit='MiB'>512</maxMemory><vcpu>1</vcpu>\
             <cpu><numa><cell id='0' cpus='0' memory='32' unit='MiB'/></numa></cpu>",
        )
        .replace(
            "<memballoon",
            "<memory model='virtio-mem'><target><size unit='MiB'>128</size><node>0</node>\
             <block unit='MiB'>2</block><requested unit='MiB'>0</requested></target></memory>\
             <memballoon",
        );
    let file = root.file("vm.xml", &xml);
    root.ok(&["define", &file]);
    let before = root.ok(&["dumpxml", "vm", "--inactive"]);
    let printed = root.ok(&[
        "update-memory-device",
        "vm",
        "--requested-size",
        "64MiB",
        "--config",
        "--print-xml",
    ]);
    assert!(
        printed.starts_with("<memory model='virtio-mem'>")
            && printed.contains("<requested unit='KiB'>65536</requested>"),
        "{printed}"
    );
    assert_eq!(root.ok(&["dumpxml", "vm", "--inactive"]), before);
    root.ok(&[
        "update-memory-device",
        "vm",
        "--requested-size",
        "64MiB",
        "--config",
    ]);
    let kept = root.ok(&["dumpxml", "vm", "--inactive"]);
    assert!(
        kept.contains("<requested unit='KiB'>65536</requested>"),
        "{kept}"
    );
    root.ok(&["start", "vm"]);
    root.ok(&[
        "update-memory-device",
        "vm",
        "--alias",
        "virtiomem0",
        "--requested-size",
        "32M",
        "--live",
    ]);
    let live = root.ok(&["dumpxml", "vm"]);
    assert!(
        live.contains("<requested unit='KiB'>32768</requested>"),
        "{live}"
    );
    let asked = root.ok(&[
        "qemu-monitor-command",
        "vm",
        r#"{"execute":"qom-get","arguments":{"path":"/machine/peripheral/virtiomem0","property":"requested-size"}}"#,
    ]);
    assert!(asked.contains("33554432"), "{asked}");
    let err = root.fails(&["update-memory-device", "vm", "--alias", "dimm3", "--live"]);
    assert!(err.contains("no memory device found"), "{err}");
    root.ok(&["destroy", "vm"]);
}
