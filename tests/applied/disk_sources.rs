//! Disk sources that reshape what QEMU reads: a `<slices>` range of an
//! image. QEMU's own block layer copies the node the guest's device
//! reads into a plain file, and that file is compared with the bytes
//! the source holds.

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{State, firmware_vm, must, poll, qemu_img};

/// QMP through the driver's monitor passthrough.
pub fn qmp(d: &dyn qvirt::Driver, dom: &qvirt::Domain, cmd: &str, args: Value) -> Value {
    let line = json!({"execute": cmd, "arguments": args}).to_string();
    let out = d.qemu_monitor_command(dom, &line).unwrap();
    let v: Value = serde_json::from_str(&out).unwrap();
    assert!(v.get("error").is_none(), "{cmd}: {v}");
    v["return"].clone()
}

/// The `size` bytes block node `node` reads, copied by QEMU (a full
/// backup job) into a file under `dir`.
pub fn read_node(
    d: &dyn qvirt::Driver,
    dom: &qvirt::Domain,
    dir: &Path,
    node: &str,
    size: u64,
) -> Vec<u8> {
    let out = dir.join(format!("{node}.copy"));
    std::fs::File::create(&out).unwrap().set_len(size).unwrap();
    let target = format!("{node}-copy");
    qmp(
        d,
        dom,
        "blockdev-add",
        json!({"driver": "raw", "node-name": target,
               "file": {"driver": "file", "filename": out}}),
    );
    qmp(
        d,
        dom,
        "blockdev-backup",
        json!({"job-id": target, "device": node, "target": target, "sync": "full"}),
    );
    poll("the copy to finish", Duration::from_secs(60), || {
        let jobs = qmp(d, dom, "query-jobs", json!({}));
        let gone = !jobs
            .as_array()
            .unwrap()
            .iter()
            .any(|j| j["id"] == target.as_str());
        gone.then_some(())
    });
    qmp(d, dom, "blockdev-del", json!({"node-name": target}));
    std::fs::read(&out).unwrap()
}

/// Bytes no two 4 KiB blocks of which are alike.
fn pattern(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| ((i / 4096) as u8) ^ (i as u8).wrapping_mul(31))
        .collect()
}

#[test]
fn a_sliced_source_shows_only_its_bytes() {
    let st = State::new("slices");
    // A raw image whose slice the guest sees.
    let raw = st.root().join("whole.img");
    let bytes = pattern(1 << 20);
    std::fs::write(&raw, &bytes).unwrap();
    let (offset, size) = (12288u64, 65536u64);
    // A qcow2 image inside a larger file, after 256 KiB of other bytes:
    // only its slice is a qcow2 image.
    let inner = st.root().join("inner.qcow2");
    qemu_img(&[
        "create",
        "-q",
        "-f",
        "qcow2",
        &inner.to_string_lossy(),
        "1M",
    ]);
    must(
        std::process::Command::new("qemu-io")
            .args(["-f", "qcow2"])
            .arg(&inner)
            .args(["-c", "write -P 0x6b 0 64k"]),
    );
    let qcow2 = std::fs::read(&inner).unwrap();
    let container = st.root().join("container.img");
    let mut c = pattern(256 << 10);
    c.extend_from_slice(&qcow2);
    c.extend_from_slice(&pattern(64 << 10));
    std::fs::write(&container, &c).unwrap();
    let xml = firmware_vm(
        "slices",
        // PCI hot-plug on pc goes through ACPI.
        "<features><acpi/></features>",
        &format!(
            "<disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='{raw}'>
        <slices><slice type='storage' offset='{offset}' size='{size}'/></slices>
      </source>
      <target dev='vda' bus='virtio'/>
    </disk>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='{container}'>
        <slices><slice type='storage' offset='{at}' size='{len}'/></slices>
      </source>
      <target dev='vdb' bus='virtio'/>
    </disk>",
            raw = raw.display(),
            container = container.display(),
            at = 256 << 10,
            len = qcow2.len(),
        ),
    );
    let d = st.driver();
    let dom = d.define_xml(&xml).unwrap();
    d.start(&dom).unwrap();
    let block = qmp(&*d, &dom, "query-block", json!({}));
    let inserted =
        |dev: &str| qvirt::qemu::qmp::device_entry(&block, dev).unwrap()["inserted"].clone();
    // The raw disk: a raw node with the slice's offset and size.
    let vda = inserted("virtio-disk0");
    assert_eq!(vda["node-name"], "virtio-disk0-format", "{vda}");
    assert_eq!(vda["image"]["virtual-size"], size, "{vda}");
    let seen = read_node(&*d, &dom, st.root(), "virtio-disk0-format", size);
    assert!(
        seen == bytes[offset as usize..(offset + size) as usize],
        "vda does not read the slice's bytes"
    );
    // The qcow2 disk: its format reads the slice node, a qcow2 image
    // of 1 MiB whose first 64 KiB are the pattern written.
    let vdb = inserted("virtio-disk1");
    assert_eq!(
        (vdb["drv"].as_str(), vdb["image"]["virtual-size"].as_u64()),
        (Some("qcow2"), Some(1 << 20)),
        "{vdb}"
    );
    let nodes = qmp(&*d, &dom, "query-named-block-nodes", json!({"flat": true}));
    let slice = nodes
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["node-name"] == "virtio-disk1-slice-storage")
        .unwrap_or_else(|| panic!("no slice node: {nodes}"));
    assert_eq!(
        (
            slice["drv"].as_str(),
            slice["image"]["virtual-size"].as_u64()
        ),
        (Some("raw"), Some(qcow2.len() as u64)),
        "{slice}"
    );
    let seen = read_node(&*d, &dom, st.root(), "virtio-disk1-format", 1 << 20);
    assert!(seen[..64 << 10].iter().all(|&b| b == 0x6b));
    assert!(seen[64 << 10..].iter().all(|&b| b == 0));
    // A sliced disk plugged in while the domain runs is the same nodes.
    let (at, len) = (196608u64, 131072u64);
    let copy = st.root().join("copy.img");
    std::fs::write(&copy, &bytes).unwrap();
    let plugged = format!(
        "<disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='{}'>
        <slices><slice type='storage' offset='{at}' size='{len}'/></slices>
      </source>
      <target dev='vdc' bus='virtio'/>
    </disk>",
        copy.display()
    );
    d.attach_device(&dom, &plugged, qvirt::driver::ModifyFlags::LIVE)
        .unwrap();
    let seen = read_node(&*d, &dom, st.root(), "virtio-disk2-format", len);
    assert!(
        seen == bytes[at as usize..(at + len) as usize],
        "the plugged vdc does not read its slice's bytes"
    );
    // Written back as read.
    let live = st.live_xml("slices");
    assert!(
        live.contains(&format!(
            "<slice type='storage' offset='{offset}' size='{size}'/>"
        )),
        "{live}"
    );
    d.destroy(&dom).unwrap();
}
