//! Memory plugged into and out of the running Linux guest (`virsh
//! attach-device --live` of a `<memory model='dimm'>`): QEMU gets the
//! backend and the DIMM on the first free slot, the guest's ACPI memory
//! hot-plug sees the new blocks and brings them online, the live XML
//! counts the memory; the detach takes it back with the guest's consent
//! (it offlines the blocks), and a virtio-mem device plugged in is
//! refused a detach by name; its requested size changed (virsh's
//! `update-memory-device`) is plugged by the guest's virtio-mem driver,
//! which QEMU's size change event tells (the live XML's `<current>`,
//! libvirt's memory device size change event).

use qvirt::driver::ModifyFlags;
use serde_json::json;

use crate::inguest::Shell;
use crate::support::{State, linux_vm};

const DIMM: &str =
    "<memory model='dimm'><target><size unit='MiB'>128</size><node>0</node></target></memory>";

/// The guest's `MemTotal`, in KiB.
fn mem_total(sh: &mut Shell) -> u64 {
    let line = sh.run("grep MemTotal /proc/meminfo");
    line.split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("MemTotal: {line}"))
}

/// QEMU's answer to `command` (through the manager, which holds the
/// monitor while the guest's shell is open).
fn qmp(d: &dyn qvirt::Driver, dom: &qvirt::driver::Domain, command: &str) -> serde_json::Value {
    let answer = d
        .qemu_monitor_command(dom, &json!({ "execute": command }).to_string())
        .unwrap();
    serde_json::from_str::<serde_json::Value>(&answer).unwrap()["return"].clone()
}

/// The size of the next memory device size change event whose size is
/// `want` KiB (earlier steps of the guest's may come first).
fn size_change(events: &mut dyn qvirt::driver::EventStream, want: u64) -> u64 {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while std::time::Instant::now() < deadline {
        let Some(ev) = events.next(std::time::Duration::from_secs(1)).unwrap() else {
            continue;
        };
        if let qvirt::driver::EventKind::MemoryDeviceSizeChange { alias, size_kib } = ev.kind {
            assert_eq!(alias, "virtiomem0");
            if size_kib == want {
                return size_kib;
            }
        }
    }
    panic!("no memory device size change to {want} KiB");
}

/// The `<memory>` of a definition, in KiB.
fn memory_kib(xml: &str) -> u64 {
    qvirt::DomainDef::from_xml(xml).unwrap().memory_kib
}

#[test]
fn a_dimm_is_plugged_in_and_out_of_the_running_guest() {
    let st = State::new("memplug");
    let xml = linux_vm(
        "mp",
        256,
        "<maxMemory slots='4' unit='MiB'>1024</maxMemory>
  <vcpu placement='static'>1</vcpu>
  <cpu><numa><cell id='0' cpus='0' memory='256' unit='MiB'/></numa></cpu>",
        "<memballoon model='none'/>",
    );
    st.start(&xml);
    let d = st.driver();
    let dom = d.lookup_by_name("mp").unwrap();
    let mut sh = Shell::open(&*d, "mp");
    let before = mem_total(&mut sh);
    let live_before = memory_kib(&d.xml_desc(&dom, qvirt::driver::XmlFlags::NONE).unwrap());
    d.attach_device(&dom, DIMM, ModifyFlags::LIVE).unwrap();
    let devices = qmp(&*d, &dom, "query-memory-devices");
    let dimm = &devices[0]["data"];
    assert_eq!(dimm["id"], "dimm0", "{devices}");
    assert_eq!(dimm["slot"], 0, "{devices}");
    assert_eq!(dimm["size"], 128 * 1024 * 1024, "{devices}");
    let live = d.xml_desc(&dom, qvirt::driver::XmlFlags::NONE).unwrap();
    assert_eq!(memory_kib(&live), live_before + 128 * 1024, "{live}");
    assert!(live.contains("<memory model='dimm'"), "{live}");
    // The guest's ACPI memory hot-plug added the blocks; they go online
    // movable, so that they can leave again.
    sh.run(
        "for f in /sys/devices/system/memory/memory*/state; do \
         grep -q offline $f && echo online_movable > $f; done; true",
    );
    let after = mem_total(&mut sh);
    assert_eq!(after, before + 128 * 1024, "MemTotal {before} -> {after}");
    // Out again: the guest offlines the blocks and lets QEMU eject it.
    d.detach_device(&dom, DIMM, ModifyFlags::LIVE).unwrap();
    let devices = qmp(&*d, &dom, "query-memory-devices");
    assert_eq!(devices, json!([]), "{devices}");
    let answer = d
        .qemu_monitor_command(
            &dom,
            r#"{"execute":"qom-list","arguments":{"path":"/objects"}}"#,
        )
        .unwrap();
    assert!(
        !answer.contains("memdimm0"),
        "the backend is gone: {answer}"
    );
    assert_eq!(mem_total(&mut sh), before);
    let live = d.xml_desc(&dom, qvirt::driver::XmlFlags::NONE).unwrap();
    assert_eq!(memory_kib(&live), live_before, "{live}");
    // A virtio-mem device comes in, on PCI; it does not leave.
    let vmem = "<memory model='virtio-mem'><target><size unit='MiB'>256</size><node>0</node>\
                <block unit='MiB'>2</block><requested unit='MiB'>0</requested></target></memory>";
    d.attach_device(&dom, vmem, ModifyFlags::LIVE).unwrap();
    let devices = qmp(&*d, &dom, "query-memory-devices");
    assert_eq!(devices[0]["type"], "virtio-mem", "{devices}");
    assert_eq!(devices[0]["data"]["id"], "virtiomem0", "{devices}");
    let e = d.detach_device(&dom, vmem, ModifyFlags::LIVE).unwrap_err();
    assert_eq!(e.code, qvirt::ErrorCode::ConfigUnsupported, "{e}");
    assert!(e.message.contains("only DIMMs"), "{e}");
    // The guest is asked for 128 MiB of it (update-memory-device): its
    // virtio-mem driver plugs the blocks, QEMU says so, the live XML and
    // the subscribers hear it.
    let mut events = d.events().unwrap();
    let more = vmem.replace(
        "<requested unit='MiB'>0</requested>",
        "<requested unit='MiB'>128</requested>",
    );
    d.update_device(&dom, &more, ModifyFlags::LIVE).unwrap();
    let size = size_change(&mut *events, 128 * 1024);
    assert_eq!(size, 128 * 1024);
    let live = d.xml_desc(&dom, qvirt::driver::XmlFlags::NONE).unwrap();
    assert!(
        live.contains("<requested unit='KiB'>131072</requested>")
            && live.contains("<current unit='KiB'>131072</current>")
            && live.contains("<alias name='virtiomem0'/>"),
        "{live}"
    );
    sh.run(
        "for f in /sys/devices/system/memory/memory*/state; do \
         grep -q offline $f && echo online_movable > $f; done; true",
    );
    assert_eq!(mem_total(&mut sh), before + 128 * 1024);
    // Only the requested size changes.
    let bigger = vmem.replace("<size unit='MiB'>256</size>", "<size unit='MiB'>512</size>");
    let e = d
        .update_device(&dom, &bigger, ModifyFlags::LIVE)
        .unwrap_err();
    assert!(e.message.contains("matching memory device"), "{e}");
    // Back to nothing: the guest gives the blocks back.
    d.update_device(&dom, vmem, ModifyFlags::LIVE).unwrap();
    assert_eq!(size_change(&mut *events, 0), 0);
    assert_eq!(mem_total(&mut sh), before);
    drop(events);
    // A manager started again finds the device it plugged in.
    drop(sh);
    drop(d);
    let live = st.live_xml("mp");
    assert!(live.contains("<memory model='virtio-mem'"), "{live}");
    assert_eq!(memory_kib(&live), live_before + 256 * 1024, "{live}");
    st.stop("mp");
}
