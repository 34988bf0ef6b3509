//! `<memory>` devices other than plain DIMMs (nvdimm, virtio-pmem,
//! virtio-mem) and `discard` on any of them, and shared memory
//! (`<shmem>`), as libvirt 9.0 reads and checks them.

use qvirt::model::{MemoryAccess, MemoryModel, ModelErrorKind, ShmemModel, ShmemRole};

use crate::{accept, doc, reject, xmllint_validate};

/// A domain with memory hot-plug and one NUMA cell, holding `devices`.
fn hotplug(devices: &str) -> String {
    format!(
        "<domain type='qemu'>\n  <name>m</name>\n  <maxMemory slots='4' unit='MiB'>4096</maxMemory>\n  <memory unit='MiB'>512</memory>\n  <vcpu>1</vcpu>\n  <os><type arch='x86_64' machine='pc'>hvm</type></os>\n  <cpu><numa><cell id='0' cpus='0' memory='256' unit='MiB'/></numa></cpu>\n  <devices>{devices}</devices>\n</domain>\n"
    )
}

const NVDIMM: &str = "<memory model='nvdimm' access='private'>\
    <source><path>/var/lib/nv.img</path><alignsize unit='KiB'>2048</alignsize><pmem/></source>\
    <target><size unit='MiB'>128</size><node>0</node><label><size unit='KiB'>256</size></label><readonly/></target>\
    <address type='dimm' slot='2'/></memory>";
const PMEM: &str = "<memory model='virtio-pmem' access='shared'>\
    <source><path>/var/lib/pmem.img</path></source><target><size unit='MiB'>64</size></target>\
    <address type='pci' domain='0x0000' bus='0x00' slot='0x09' function='0x0'/></memory>";
const VMEM: &str = "<memory model='virtio-mem' discard='no'>\
    <source><nodemask>0</nodemask><pagesize unit='KiB'>2048</pagesize></source>\
    <target><size unit='GiB'>1</size><node>0</node><block unit='MiB'>2</block><requested unit='MiB'>256</requested></target></memory>";

#[test]
fn nvdimm_virtio_pmem_and_virtio_mem_read_and_write_back() {
    let d = accept(&hotplug(&format!("{NVDIMM}{PMEM}{VMEM}")));
    let m = &d.devices.memories;
    assert_eq!(m[0].model, MemoryModel::Nvdimm);
    assert_eq!(m[0].path.as_deref(), Some("/var/lib/nv.img"));
    assert_eq!(m[0].align_kib, Some(2048));
    assert!(m[0].pmem && m[0].readonly);
    assert_eq!(m[0].label_kib, Some(256));
    assert_eq!(
        (m[0].size_kib, m[0].node, m[0].slot),
        (131072, Some(0), Some(2))
    );
    assert_eq!(m[1].model, MemoryModel::VirtioPmem);
    assert_eq!(m[1].access, Some(MemoryAccess::Shared));
    assert!(m[1].address.is_some());
    assert_eq!(m[2].model, MemoryModel::VirtioMem);
    assert_eq!(m[2].discard, Some(false));
    assert_eq!((m[2].block_kib, m[2].requested_kib), (Some(2048), 262144));
    assert_eq!(m[2].pagesize_kib, Some(2048));
    // The total memory is the cell's plus every device's.
    assert_eq!(d.memory_kib, (256 + 128 + 64 + 1024) * 1024);
    let dir = crate::scratch_dir("memdev-schema");
    let f = dir.join("memdev.xml");
    std::fs::write(&f, d.to_xml()).unwrap();
    xmllint_validate(&[f]);
}

#[test]
fn discard_is_read_on_a_dimm() {
    let d = accept(&hotplug(
        "<memory model='dimm' access='private' discard='yes'>\
         <target><size unit='MiB'>64</size><node>0</node></target></memory>",
    ));
    assert_eq!(d.devices.memories[0].discard, Some(true));
    assert!(d.to_xml().contains("discard='yes'"));
}

#[test]
fn each_model_reads_only_its_own_parts() {
    // What libvirt does not read for a model is refused by name.
    reject(
        &hotplug(
            "<memory model='dimm'><source><path>/x</path></source>\
             <target><size unit='MiB'>64</size><node>0</node></target></memory>",
        ),
        ModelErrorKind::Unsupported,
        "<path>",
    );
    reject(
        &hotplug(
            "<memory model='nvdimm'><source><path>/x</path><pagesize unit='KiB'>2048</pagesize></source>\
             <target><size unit='MiB'>64</size><node>0</node></target></memory>",
        ),
        ModelErrorKind::Unsupported,
        "<pagesize>",
    );
    reject(
        &hotplug(
            "<memory model='dimm'><target><size unit='MiB'>64</size><node>0</node><block unit='MiB'>2</block></target></memory>",
        ),
        ModelErrorKind::Unsupported,
        "<block>",
    );
    reject(
        &hotplug(
            "<memory model='nvdimm'><uuid>4e5a2fd1-6b7d-4b5a-9b86-2a3b0d7e1f00</uuid><source><path>/x</path></source>\
             <target><size unit='MiB'>64</size><node>0</node></target></memory>",
        ),
        ModelErrorKind::Unsupported,
        "<uuid>",
    );
    // No SGX here: the model is refused by name.
    reject(
        &hotplug(
            "<memory model='sgx-epc'><target><size unit='MiB'>64</size><node>0</node></target></memory>",
        ),
        ModelErrorKind::Unsupported,
        "sgx-epc",
    );
}

#[test]
fn libvirt_rules_for_each_model() {
    let cases: &[(&str, ModelErrorKind, &str)] = &[
        (
            "<memory model='nvdimm'><target><size unit='MiB'>64</size><node>0</node></target></memory>",
            ModelErrorKind::Invalid,
            "path is required for model 'nvdimm'",
        ),
        (
            "<memory model='nvdimm' discard='yes'><source><path>/x</path></source><target><size unit='MiB'>64</size><node>0</node></target></memory>",
            ModelErrorKind::Unsupported,
            "discard is not supported for nvdimms",
        ),
        (
            "<memory model='nvdimm'><source><path>/x</path></source><target><size unit='MiB'>64</size><node>0</node><label><size unit='KiB'>64</size></label></target></memory>",
            ModelErrorKind::Invalid,
            "at least 128KiB",
        ),
        (
            "<memory model='nvdimm'><source><path>/x</path></source><target><size unit='KiB'>256</size><node>0</node><label><size unit='KiB'>256</size></label></target></memory>",
            ModelErrorKind::Invalid,
            "label size must be smaller than NVDIMM size",
        ),
        (
            "<memory model='nvdimm'><source><path>x.img</path></source><target><size unit='MiB'>64</size><node>0</node></target></memory>",
            ModelErrorKind::Invalid,
            "not an absolute path",
        ),
        (
            "<memory model='virtio-pmem'><source><path>/x</path></source><target><size unit='MiB'>64</size></target></memory>",
            ModelErrorKind::Unsupported,
            "shared access mode required",
        ),
        (
            "<memory model='virtio-pmem' access='shared'><source><path>/x</path></source><target><size unit='MiB'>64</size><node>0</node></target></memory>",
            ModelErrorKind::Unsupported,
            "virtio-pmem does not support NUMA nodes",
        ),
        (
            "<memory model='virtio-pmem' access='shared'><source><path>/x</path></source><target><size unit='MiB'>64</size></target><address type='dimm' slot='1'/></memory>",
            ModelErrorKind::Unsupported,
            "only 'pci' addresses",
        ),
        (
            "<memory model='nvdimm'><source><path>/x</path></source><target><size unit='MiB'>64</size><node>0</node></target><address type='pci' domain='0' bus='0' slot='9' function='0'/></memory>",
            ModelErrorKind::Unsupported,
            "only 'dimm' addresses",
        ),
        (
            "<memory model='virtio-mem'><target><size unit='MiB'>64</size><node>0</node><block unit='KiB'>3072</block></target></memory>",
            ModelErrorKind::Invalid,
            "block size must be a power of two",
        ),
        (
            "<memory model='virtio-mem'><target><size unit='MiB'>64</size><node>0</node></target></memory>",
            ModelErrorKind::Invalid,
            "block size must be a power of two",
        ),
        (
            "<memory model='virtio-mem'><target><size unit='MiB'>64</size><node>0</node><block unit='KiB'>1024</block></target></memory>",
            ModelErrorKind::Invalid,
            "block size too small",
        ),
        (
            "<memory model='virtio-mem'><target><size unit='MiB'>64</size><node>0</node><block unit='MiB'>4</block><requested unit='MiB'>128</requested></target></memory>",
            ModelErrorKind::Invalid,
            "requested size must be smaller than or equal",
        ),
        (
            "<memory model='virtio-mem'><target><size unit='MiB'>64</size><node>0</node><block unit='MiB'>4</block><requested unit='MiB'>6</requested></target></memory>",
            ModelErrorKind::Invalid,
            "integer multiple of block size",
        ),
        (
            "<memory model='virtio-mem'><target><size unit='MiB'>64</size><block unit='MiB'>4</block></target></memory>",
            ModelErrorKind::Unsupported,
            "target NUMA node needs to be specified",
        ),
        (
            "<memory model='dimm'><target><size unit='MiB'>64</size><node>1</node></target></memory>",
            ModelErrorKind::Invalid,
            "only '1' NUMA nodes",
        ),
        (
            "<memory model='dimm'><target><size unit='MiB'>64</size><node>0</node></target><address type='dimm' slot='1'/></memory>\
             <memory model='nvdimm'><source><path>/x</path></source><target><size unit='MiB'>64</size><node>0</node></target><address type='dimm' slot='1'/></memory>",
            ModelErrorKind::Unsupported,
            "slot '1' is already being used",
        ),
    ];
    for (devices, kind, fragment) in cases {
        reject(&hotplug(devices), *kind, fragment);
    }
    let five: String = (0..5)
        .map(|_| "<memory model='dimm'><target><size unit='MiB'>8</size><node>0</node></target></memory>")
        .collect();
    reject(
        &hotplug(&five),
        ModelErrorKind::Unsupported,
        "memory device count '5' exceeds slots count '4'",
    );
}

#[test]
fn numa_distances() {
    let cells = |d0: &str, d1: &str| {
        doc(
            &format!(
                "<vcpu>2</vcpu><cpu><numa>\
                 <cell id='0' cpus='0' memory='32' unit='MiB'>{d0}</cell>\
                 <cell id='1' cpus='1' memory='32' unit='MiB'>{d1}</cell></numa></cpu>"
            ),
            "",
        )
    };
    let d = accept(&cells(
        "<distances><sibling id='0' value='10'/><sibling id='1' value='21'/></distances>",
        "",
    ));
    assert_eq!(d.cpu.unwrap().numa[0].distances, vec![(0, 10), (1, 21)]);
    for (d0, what) in [
        (
            "<distances><sibling id='2' value='21'/></distances>",
            "'sibling_id 2'",
        ),
        (
            "<distances><sibling id='1' value='10'/></distances>",
            "'value 10'",
        ),
        (
            "<distances><sibling id='0' value='20'/></distances>",
            "'value 20'",
        ),
        (
            "<distances><sibling id='1' value='256'/></distances>",
            "'value 256'",
        ),
        ("<distances/>", "without siblings"),
    ] {
        reject(&cells(d0, ""), ModelErrorKind::Invalid, what);
    }
}

#[test]
fn a_shmem_is_plain_without_a_server_and_a_doorbell_with_one() {
    let xml = doc(
        "",
        "<shmem name='lg' role='master'><model type='ivshmem-plain'/><size unit='M'>32</size></shmem>\
         <shmem name='db'><model type='ivshmem-doorbell'/><server path='/run/ivshmem.sock'/>\
           <msi vectors='4' ioeventfd='off'/></shmem>\
         <shmem name='dflt'><model type='ivshmem-doorbell'/><server/></shmem>",
    );
    let d = accept(&xml);
    let [lg, db, dflt] = &d.devices.shmems[..] else {
        panic!("three shmems")
    };
    assert_eq!(lg.role, Some(ShmemRole::Master));
    assert_eq!(lg.size_kib, Some(32 * 1024));
    assert_eq!(db.model, Some(ShmemModel::IvshmemDoorbell));
    assert_eq!(db.server_path().as_deref(), Some("/run/ivshmem.sock"));
    assert_eq!(
        (db.msi.unwrap().vectors, db.msi.unwrap().ioeventfd),
        (Some(4), Some(false))
    );
    // libvirt's default socket, so a server set up for libvirt is found.
    assert_eq!(
        dflt.server_path().as_deref(),
        Some("/var/lib/libvirt/shmem-dflt-sock")
    );
    let again = accept(&d.to_xml());
    assert_eq!(again.devices.shmems, d.devices.shmems);
}

#[test]
fn a_shmem_breaking_libvirts_rules_is_refused() {
    let cases = [
        (
            "<shmem name='a'><model type='ivshmem-doorbell'/></shmem>",
            ModelErrorKind::Unsupported,
            "only with server option enabled",
        ),
        (
            "<shmem name='a'><model type='ivshmem-plain'/><server path='/s'/></shmem>",
            ModelErrorKind::Unsupported,
            "only with server option disabled",
        ),
        (
            "<shmem name='a'><server path='/s'/><size unit='M'>4</size></shmem>",
            ModelErrorKind::Unsupported,
            "does not support size",
        ),
        (
            "<shmem name='a'><msi vectors='2'/></shmem>",
            ModelErrorKind::Invalid,
            "msi option is only supported with a server",
        ),
        (
            "<shmem name='..'/>",
            ModelErrorKind::Unsupported,
            "not a file name",
        ),
        (
            "<shmem name='a'/><shmem name='a'/>",
            ModelErrorKind::Invalid,
            "used twice",
        ),
        (
            "<shmem name='a'><server path='relative'/></shmem>",
            ModelErrorKind::Invalid,
            "not an absolute path",
        ),
        (
            "<shmem name='a' role='boss'/>",
            ModelErrorKind::Unsupported,
            "role",
        ),
    ];
    for (devices, kind, fragment) in cases {
        reject(&doc("", devices), kind, fragment);
    }
}
