//! `<memory>` devices beyond the plain DIMM: an NVDIMM, a virtio-pmem
//! and a virtio-mem device, and `discard` on a DIMM, as the running QEMU
//! shows them (QMP `query-memory-devices`, the properties of the devices
//! and their backends) and as the host shows their backing files.

use qvirt::ErrorCode;
use qvirt::driver::ModifyFlags;
use serde_json::{Value, json};

use crate::support::{State, firmware_vm};

const MIB: u64 = 1024 * 1024;

/// A firmware VM with memory hot-plug (4 slots up to 1 GiB), one NUMA
/// cell of 64 MiB and `devices`; with ACPI, which QEMU's DIMMs need.
fn hotplug_vm(name: &str, devices: &str) -> String {
    firmware_vm(
        name,
        "<maxMemory slots='4' unit='MiB'>1024</maxMemory>
  <vcpu placement='static'>1</vcpu>
  <features><acpi/></features>
  <cpu><numa><cell id='0' cpus='0' memory='64' unit='MiB'/></numa></cpu>",
        devices,
    )
}

/// The entry of `query-memory-devices` whose device id is `id`.
fn memory_device(devices: &Value, id: &str) -> Value {
    devices
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["data"]["id"] == id)
        .unwrap_or_else(|| panic!("no memory device {id}: {devices}"))
        .clone()
}

/// `<memory model='nvdimm'>`: the machine has NVDIMM support on, the
/// NVDIMM is plugged in its slot and node with its size, label area and
/// read-only (unarmed) flag, and its backend maps the host file, which
/// QEMU made of the device's size (523264 KiB rounded up to whole 2 MiB,
/// as libvirt does), aligned as `<alignsize>` says.
#[test]
fn nvdimm_is_plugged_with_its_file_label_and_flags() {
    let st = State::new("nvdimm");
    let file = st.root().join("nvdimm.img");
    let xml = hotplug_vm(
        "nv",
        &format!(
            "<memory model='nvdimm' access='shared'>
  <source><path>{}</path><alignsize unit='KiB'>2048</alignsize></source>
  <target><size unit='KiB'>130048</size><node>0</node><label><size unit='KiB'>256</size></label><readonly/></target>
  <address type='dimm' slot='2'/>
</memory>",
            file.display()
        ),
    );
    st.start(&xml);
    let mut qmp = st.qmp("nv");
    assert_eq!(qmp.qom_get("/machine", "nvdimm"), true);
    let all = qmp.exec("query-memory-devices", json!({}));
    let nv = memory_device(&all, "nvdimm2");
    assert_eq!(nv["type"], "nvdimm", "{nv}");
    // The guest sees the file less its label area, in whole alignments.
    assert_eq!(nv["data"]["size"], 128 * MIB - 2 * MIB, "{nv}");
    assert_eq!(nv["data"]["node"], 0, "{nv}");
    assert_eq!(nv["data"]["slot"], 2, "{nv}");
    assert_eq!(nv["data"]["memdev"], "/objects/memnvdimm2", "{nv}");
    let dev = "/machine/peripheral/nvdimm2";
    assert_eq!(qmp.qom_get(dev, "label-size"), 256 * 1024);
    assert_eq!(qmp.qom_get(dev, "unarmed"), true);
    let backend = "/objects/memnvdimm2";
    assert_eq!(qmp.qom_get(backend, "mem-path"), file.to_str().unwrap());
    assert_eq!(qmp.qom_get(backend, "share"), true);
    assert_eq!(qmp.qom_get(backend, "size"), 128 * MIB);
    assert_eq!(qmp.qom_get(backend, "align"), 2 * MIB);
    assert_eq!(qmp.qom_get(backend, "pmem"), false);
    assert_eq!(qmp.qom_get(backend, "prealloc"), true);
    let len = std::fs::metadata(&file)
        .unwrap_or_else(|e| panic!("{}: {e}", file.display()))
        .len();
    assert_eq!(len, 128 * MIB, "the NVDIMM's backing file");
    drop(qmp);
    st.stop("nv");
}

/// `<source><pmem/>`: the backend is told the file is persistent memory,
/// and, as libvirt, nothing is preallocated on it.
#[test]
fn nvdimm_pmem_reaches_its_backend() {
    let st = State::new("nvpmem");
    let file = st.root().join("pmem.img");
    let xml = hotplug_vm(
        "nvp",
        &format!(
            "<memory model='nvdimm'><source><path>{}</path><pmem/></source>
  <target><size unit='MiB'>32</size><node>0</node></target></memory>",
            file.display()
        ),
    );
    st.start(&xml);
    let mut qmp = st.qmp("nvp");
    let all = qmp.exec("query-memory-devices", json!({}));
    let nv = memory_device(&all, "nvdimm0");
    assert_eq!(nv["data"]["size"], 32 * MIB, "{nv}");
    assert_eq!(nv["data"]["slot"], 0, "{nv}");
    assert_eq!(qmp.qom_get("/objects/memnvdimm0", "pmem"), true);
    assert_eq!(qmp.qom_get("/objects/memnvdimm0", "prealloc"), false);
    drop(qmp);
    st.stop("nvp");
}

/// `<memory model='virtio-pmem'>`: a virtio-pmem-pci device at the PCI
/// address the XML gives, of its size, on a shared file backend mapping
/// the host file; a second one plugged in live on its own file, which
/// cannot leave again (QEMU unplugs only DIMMs), as the refusal says.
#[test]
fn virtio_pmem_is_plugged_on_pci_with_its_file() {
    let st = State::new("vpmem");
    let file = st.root().join("virtio-pmem.img");
    let xml = hotplug_vm(
        "vp",
        &format!(
            "<memory model='virtio-pmem' access='shared'>
  <source><path>{}</path></source>
  <target><size unit='MiB'>64</size></target>
  <address type='pci' domain='0x0000' bus='0x00' slot='0x07' function='0x0'/>
</memory>",
            file.display()
        ),
    );
    st.start(&xml);
    let mut qmp = st.qmp("vp");
    let all = qmp.exec("query-memory-devices", json!({}));
    let pm = memory_device(&all, "virtiopmem0");
    assert_eq!(pm["type"], "virtio-pmem", "{pm}");
    assert_eq!(pm["data"]["size"], 64 * MIB, "{pm}");
    assert_eq!(pm["data"]["memdev"], "/objects/memvirtiopmem0", "{pm}");
    assert_eq!(
        qmp.qom_get("/machine/peripheral/virtiopmem0", "addr"),
        7 << 3,
        "devfn of 00:07.0"
    );
    assert_eq!(
        qmp.qom_get("/objects/memvirtiopmem0", "mem-path"),
        file.to_str().unwrap()
    );
    assert_eq!(qmp.qom_get("/objects/memvirtiopmem0", "share"), true);
    assert_eq!(std::fs::metadata(&file).unwrap().len(), 64 * MIB);
    drop(qmp);
    let d = st.driver();
    let dom = d.lookup_by_name("vp").unwrap();
    // A second one plugged in live, on its own file; it cannot leave.
    let second = st.root().join("pmem2");
    let more = format!(
        "<memory model='virtio-pmem' access='shared'><source><path>{}</path></source><target><size unit='MiB'>8</size></target></memory>",
        second.display()
    );
    d.attach_device(&dom, &more, ModifyFlags::LIVE).unwrap();
    let e = d.detach_device(&dom, &more, ModifyFlags::LIVE).unwrap_err();
    assert_eq!(e.code, ErrorCode::ConfigUnsupported, "{e}");
    assert!(e.message.contains("only DIMMs"), "{e}");
    drop(d);
    let mut qmp = st.qmp("vp");
    assert_eq!(
        qmp.qom_get("/objects/memvirtiopmem1", "mem-path"),
        second.to_str().unwrap()
    );
    assert_eq!(std::fs::metadata(&second).unwrap().len(), 8 * MIB);
    drop(qmp);
    st.stop("vp");
}

/// `<memory model='virtio-mem'>`: a virtio-mem-pci device in its NUMA
/// node with its maximum size, block size and requested size; its RAM
/// backend reserves no swap up front.
#[test]
fn virtio_mem_is_plugged_with_its_sizes() {
    let st = State::new("vmem");
    let xml = hotplug_vm(
        "vm",
        "<memory model='virtio-mem'>
  <target><size unit='MiB'>256</size><node>0</node><block unit='MiB'>4</block><requested unit='MiB'>64</requested></target>
</memory>",
    );
    st.start(&xml);
    let mut qmp = st.qmp("vm");
    let all = qmp.exec("query-memory-devices", json!({}));
    let vm = memory_device(&all, "virtiomem0");
    assert_eq!(vm["type"], "virtio-mem", "{vm}");
    assert_eq!(vm["data"]["max-size"], 256 * MIB, "{vm}");
    assert_eq!(vm["data"]["block-size"], 4 * MIB, "{vm}");
    assert_eq!(vm["data"]["requested-size"], 64 * MIB, "{vm}");
    assert_eq!(vm["data"]["node"], 0, "{vm}");
    assert_eq!(vm["data"]["memdev"], "/objects/memvirtiomem0", "{vm}");
    let dev = "/machine/peripheral/virtiomem0";
    assert_eq!(qmp.qom_get(dev, "requested-size"), 64 * MIB);
    assert_eq!(qmp.qom_get(dev, "prealloc"), false);
    assert_eq!(qmp.qom_get("/objects/memvirtiomem0", "reserve"), false);
    assert_eq!(qmp.qom_get("/objects/memvirtiomem0", "size"), 256 * MIB);
    drop(qmp);
    st.stop("vm");
}

/// `discard` on file-backed memory (`<source type='file'/>`): the
/// backends of a cell and of its DIMMs discard the memory's content when
/// QEMU ends; a cell's `discard` reaches a DIMM that does not say, and
/// the DIMM's own `discard='no'` overrides it. The odd size is rounded
/// up to 2 MiB. Without a file source, the same memory with an access
/// mode is a memfd for the cell and the DIMMs alike, whose content goes
/// with QEMU itself.
#[test]
fn dimm_discard_reaches_its_backend() {
    let st = State::new("dimmdiscard");
    let vm = |name: &str, backing: &str| {
        firmware_vm(
            name,
            &format!(
                "<maxMemory slots='4' unit='MiB'>1024</maxMemory>
  <vcpu placement='static'>1</vcpu>{backing}
  <features><acpi/></features>
  <cpu><numa><cell id='0' cpus='0' memory='64' unit='MiB' memAccess='private' discard='yes'/></numa></cpu>"
            ),
            "<memory model='dimm' access='private' discard='yes'><target><size unit='KiB'>32767</size><node>0</node></target></memory>
<memory model='dimm'><target><size unit='MiB'>16</size><node>0</node></target></memory>
<memory model='dimm' discard='no'><target><size unit='MiB'>16</size><node>0</node></target></memory>",
        )
    };
    let ids = ["ram-node0", "memdimm0", "memdimm1", "memdimm2"];
    st.start(&vm(
        "dd",
        "<memoryBacking><source type='file'/></memoryBacking>",
    ));
    let mut qmp = st.qmp("dd");
    for (id, discard) in ids.into_iter().zip([true, true, true, false]) {
        let o = format!("/objects/{id}");
        assert_eq!(qmp.qom_get(&o, "type"), "memory-backend-file", "{id}");
        assert_eq!(qmp.qom_get(&o, "discard-data"), discard, "{id}");
        assert_eq!(qmp.qom_get(&o, "share"), false, "{id}");
    }
    let all = qmp.exec("query-memory-devices", json!({}));
    assert_eq!(memory_device(&all, "dimm0")["data"]["size"], 32 * MIB);
    drop(qmp);
    st.stop("dd");

    st.start(&vm("dm", ""));
    let mut qmp = st.qmp("dm");
    for id in ids {
        let o = format!("/objects/{id}");
        assert_eq!(qmp.qom_get(&o, "type"), "memory-backend-memfd", "{id}");
        assert_eq!(qmp.qom_get(&o, "share"), false, "{id}");
    }
    drop(qmp);
    st.stop("dm");
}

/// A memory device whose host resources are missing is refused at start,
/// naming them, before any QEMU runs: the folder of an NVDIMM's file, and
/// the hugetlbfs mount of a virtio-mem device's huge pages (when this
/// host has none mounted; with one, the device maps it).
#[test]
fn memory_devices_missing_host_resources_are_refused_at_start() {
    let st = State::new("memhost");
    let missing = st.root().join("no-such-folder/nv.img");
    let xml = hotplug_vm(
        "nvmissing",
        &format!(
            "<memory model='nvdimm'><source><path>{}</path></source>
  <target><size unit='MiB'>16</size><node>0</node></target></memory>",
            missing.display()
        ),
    );
    let e = st.try_start(&xml).unwrap_err();
    assert_eq!(e.code, ErrorCode::NoSupport, "{e}");
    assert!(e.message.contains("no-such-folder"), "{e}");
    assert!(crate::support::qemus_under(st.root()).is_empty());
    let xml = hotplug_vm(
        "paged",
        "<memory model='virtio-mem'><source><pagesize unit='KiB'>2048</pagesize></source>
  <target><size unit='MiB'>64</size><node>0</node><block unit='MiB'>2</block></target></memory>",
    );
    let mounts = std::fs::read_to_string("/proc/mounts").unwrap();
    let mounted = mounts.lines().any(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        f.len() > 2 && f[1] == "/dev/hugepages" && f[2] == "hugetlbfs"
    });
    if mounted {
        st.start(&xml);
        let mut qmp = st.qmp("paged");
        assert_eq!(
            qmp.qom_get("/objects/memvirtiomem0", "mem-path"),
            "/dev/hugepages"
        );
        drop(qmp);
        st.stop("paged");
    } else {
        let e = st.try_start(&xml).unwrap_err();
        assert_eq!(e.code, ErrorCode::NoSupport, "{e}");
        assert!(
            e.message.contains("hugetlbfs mounted at /dev/hugepages"),
            "{e}"
        );
        assert!(crate::support::qemus_under(st.root()).is_empty());
    }
}
