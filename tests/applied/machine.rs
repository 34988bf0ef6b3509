//! The guest machine's shape on a running QEMU: NUMA cells in the vCPUs'
//! node ids and the memory backends' sizes, `<numatune>` in the backends'
//! host policy, `<nosharepages/>` and `<locked/>` in the backend and the
//! process's locked memory, `<hugepages>` in the backend and the host's
//! huge page counts, a custom CPU model with its features and the
//! Hyper-V enlightenments in the vCPU objects' QOM properties, the disk
//! chains of `<backingStore>` and `<transient/>` in QEMU's block nodes,
//! `<sound>` wired to its `<audio>` backend in the device tree, SMM in
//! the machine's properties, a memory DIMM among the plugged memory,
//! and `<bootmenu>` and `<bios rebootTimeout>` in what SeaBIOS says.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{Qmp, State, firmware_vm, qemu_img};

/// The vCPUs as `query-cpus-fast` lists them.
fn vcpus(qmp: &mut Qmp) -> Vec<Value> {
    qmp.exec("query-cpus-fast", json!({}))
        .as_array()
        .unwrap()
        .clone()
}

/// The memory backends, by id.
fn memdev(qmp: &mut Qmp, id: &str) -> Value {
    let devs = qmp.exec("query-memdev", json!({}));
    devs.as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == id)
        .unwrap_or_else(|| panic!("no memory backend '{id}': {devs}"))
        .clone()
}

/// A QOM property of the first vCPU.
fn cpu_prop(qmp: &mut Qmp, property: &str) -> Value {
    let path = vcpus(qmp)[0]["qom-path"].as_str().unwrap().to_string();
    qmp.qom_get(&path, property)
}

/// `<vcpus>` with three of six vCPUs enabled, one started with the
/// machine and two (ids 3 and 5, after disabled ones) plugged in before
/// the guest runs: QEMU runs vCPUs 0, 3 and 5, and the others are empty
/// slots; the live definition lists them as they were written. A dynamic
/// DAC `<seclabel>` runs QEMU as the manager's user.
#[test]
fn individual_vcpus_start_the_enabled_ones() {
    let st = State::new("vcpus");
    st.start(&firmware_vm(
        "vcpus",
        "<vcpu placement='static' current='3'>6</vcpu>
  <vcpus>
    <vcpu id='0' enabled='yes' hotpluggable='no'/>
    <vcpu id='1' enabled='no' hotpluggable='yes'/>
    <vcpu id='2' enabled='no' hotpluggable='yes'/>
    <vcpu id='3' enabled='yes' hotpluggable='yes'/>
    <vcpu id='4' enabled='no' hotpluggable='yes'/>
    <vcpu id='5' enabled='yes' hotpluggable='yes'/>
  </vcpus>
  <cpu><topology sockets='1' dies='1' cores='6' threads='1'/></cpu>
  <seclabel type='dynamic' model='dac' relabel='yes'><label>+64055:+994</label></seclabel>",
        "",
    ));
    // The dynamic DAC label is the manager's own user and group.
    let status = std::fs::read_to_string(format!("/proc/{}/status", st.qemu_pid("vcpus"))).unwrap();
    let me = nix::unistd::Uid::effective().as_raw();
    let uid = status.lines().find(|l| l.starts_with("Uid:")).unwrap();
    assert_eq!(
        uid.split_whitespace().nth(2),
        Some(me.to_string().as_str()),
        "{uid}"
    );
    let mut qmp = st.qmp("vcpus");
    let mut running: Vec<i64> = vcpus(&mut qmp)
        .iter()
        .map(|c| c["cpu-index"].as_i64().unwrap())
        .collect();
    running.sort();
    assert_eq!(running, [0, 3, 5], "the vCPUs running");
    let slots = qmp.exec("query-hotpluggable-cpus", json!({}));
    let free = slots
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s.get("qom-path").is_none())
        .count();
    assert_eq!(free, 3, "empty vCPU slots: {slots}");
    drop(qmp);
    let live = qvirt::DomainDef::from_xml(&st.live_xml("vcpus")).unwrap();
    assert_eq!(live.vcpu.individual.unwrap().hotplugged, [3, 5]);
    st.stop("vcpus");
}

/// Two NUMA cells of two vCPUs each and 32 MiB each: the vCPUs carry
/// their cell's node id, each cell is a memory backend of its size, and
/// `<numatune>` binds the memory to host node 0 (`<memory>` for every
/// cell, then `<memnode>` for cell 1 alone).
#[test]
fn numa_cells_and_numatune_shape_the_guest() {
    assert!(
        Path::new("/sys/devices/system/node/node0").exists(),
        "host NUMA node 0 must exist for <numatune> to be seen"
    );
    let st = State::new("numa");
    st.start(&firmware_vm(
        "numa",
        "<vcpu placement='static'>4</vcpu>
  <numatune>
    <memory mode='strict' nodeset='0'/>
    <memnode cellid='1' mode='preferred' nodeset='0'/>
  </numatune>
  <cpu>
    <topology sockets='2' dies='1' cores='2' threads='1'/>
    <numa>
      <cell id='0' cpus='0-1' memory='32' unit='MiB'/>
      <cell id='1' cpus='2-3' memory='32' unit='MiB'/>
    </numa>
  </cpu>",
        "",
    ));
    let mut qmp = st.qmp("numa");
    let nodes: Vec<(u64, u64)> = vcpus(&mut qmp)
        .iter()
        .map(|c| {
            (
                c["cpu-index"].as_u64().unwrap(),
                c["props"]["node-id"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(nodes, [(0, 0), (1, 0), (2, 1), (3, 1)]);
    for (cell, policy) in [(0, "bind"), (1, "preferred")] {
        let ram = memdev(&mut qmp, &format!("ram-node{cell}"));
        assert_eq!(ram["size"], 32 * 1024 * 1024, "{ram}");
        assert_eq!(ram["policy"], policy, "{ram}");
        assert_eq!(ram["host-nodes"], json!([0]), "{ram}");
    }
    drop(qmp);
    st.stop("numa");
}

/// `<nosharepages/>` turns KSM merging off for the guest's memory, and
/// `<locked/>` keeps it in RAM: QEMU's memory is locked (`VmLck`).
#[test]
fn nosharepages_and_locked_memory() {
    let st = State::new("locked");
    st.start(&firmware_vm(
        "lock",
        "<memoryBacking><nosharepages/><locked/></memoryBacking>",
        "",
    ));
    let mut qmp = st.qmp("lock");
    let ram = memdev(&mut qmp, "pc.ram");
    assert_eq!(ram["merge"], false, "{ram}");
    drop(qmp);
    let status = std::fs::read_to_string(format!("/proc/{}/status", st.qemu_pid("lock"))).unwrap();
    let locked_kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmLck:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no VmLck in {status}"));
    assert!(
        locked_kib >= 64 * 1024,
        "the guest's 64 MiB are not locked: VmLck {locked_kib} kB"
    );
    st.stop("lock");
}

/// `<cpu mode='custom'>`: the vCPUs are of the named model, with the
/// required feature on and the disabled one off; `<hyperv mode='custom'>`
/// enlightenments are properties of the vCPU with their values, and so are
/// `<panic model='hyperv'>` (the crash MSRs) and `<apic eoi='off'>`
/// (KVM's paravirtual EOI, on by default for KVM's CPU models, is a
/// property too; under TCG only 'off' can be applied, and 'on' is
/// refused).
#[test]
fn custom_cpu_model_features_and_hyperv_reach_the_vcpus() {
    let st = State::new("cpumodel");
    st.start(&firmware_vm(
        "model",
        "<features>
    <acpi/>
    <apic eoi='off'/>
    <hyperv mode='custom'>
      <relaxed state='on'/>
      <vapic state='on'/>
      <spinlocks state='on' retries='8191'/>
      <vendor_id state='on' value='QvirtHvTest'/>
      <emsr_bitmap state='on'/>
      <xmm_input state='on'/>
    </hyperv>
  </features>
  <cpu mode='custom' match='exact' check='none'>
    <model fallback='forbid' vendor_id='QvirtVendorX'>qemu64</model>
    <feature policy='require' name='ssse3'/>
    <feature policy='disable' name='svm'/>
  </cpu>",
        "<panic model='hyperv'/>",
    ));
    let mut qmp = st.qmp("model");
    assert_eq!(cpu_prop(&mut qmp, "type"), "qemu64-x86_64-cpu");
    assert_eq!(
        cpu_prop(&mut qmp, "vendor"),
        "QvirtVendorX",
        "<model vendor_id>"
    );
    assert_eq!(cpu_prop(&mut qmp, "ssse3"), true);
    assert_eq!(cpu_prop(&mut qmp, "svm"), false);
    assert_eq!(cpu_prop(&mut qmp, "hv-relaxed"), true);
    assert_eq!(cpu_prop(&mut qmp, "hv-vapic"), true);
    assert_eq!(cpu_prop(&mut qmp, "hv-spinlocks"), 8191);
    assert_eq!(cpu_prop(&mut qmp, "hv-vendor-id"), "QvirtHvTest");
    assert_eq!(cpu_prop(&mut qmp, "hv-emsr-bitmap"), true);
    assert_eq!(cpu_prop(&mut qmp, "hv-xmm-input"), true);
    assert_eq!(cpu_prop(&mut qmp, "kvm-pv-eoi"), false, "<apic eoi='off'>");
    assert_eq!(
        cpu_prop(&mut qmp, "hv-crash"),
        true,
        "<panic model='hyperv'>"
    );
    drop(qmp);
    st.stop("model");
}

/// `<apic eoi='on'>` under KVM: the vCPUs have KVM's paravirtual end of
/// interrupt. (Where the host has no /dev/kvm, the start stops naming
/// KVM, before QEMU runs.)
#[test]
fn apic_eoi_reaches_the_vcpus_under_kvm() {
    let st = State::new("eoi");
    let xml = firmware_vm("eoi", "<features><acpi/><apic eoi='on'/></features>", "").replacen(
        "type='qemu'",
        "type='kvm'",
        1,
    );
    if !std::path::Path::new("/dev/kvm").exists() {
        let e = st.try_start(&xml).unwrap_err();
        assert!(e.message.contains("KVM"), "{e}");
        return;
    }
    st.start(&xml);
    let mut qmp = st.qmp("eoi");
    assert_eq!(cpu_prop(&mut qmp, "kvm-pv-eoi"), true);
    drop(qmp);
    st.stop("eoi");
}

/// `<genid/>`: the GUID drawn when the definition was read is QEMU's
/// vmgenid device's, and the definition keeps it.
#[test]
fn genid_reaches_the_vmgenid_device() {
    let st = State::new("genid");
    st.start(&firmware_vm(
        "gid",
        "<genid/><features><acpi/></features>",
        "",
    ));
    let d = st.driver();
    let dom = d.lookup_by_name("gid").unwrap();
    let inactive = d.xml_desc(&dom, qvirt::driver::XmlFlags::INACTIVE).unwrap();
    let guid = inactive
        .split("<genid>")
        .nth(1)
        .and_then(|r| r.split('<').next())
        .unwrap_or_else(|| panic!("a genid in {inactive}"))
        .to_string();
    drop(d);
    let mut qmp = st.qmp("gid");
    assert_eq!(
        qmp.qom_get("/machine/peripheral/vmgenid0", "guid"),
        guid.as_str()
    );
    drop(qmp);
    st.stop("gid");
}

/// `<maxphysaddr>`: `emulate` gives the vCPUs the width written (under
/// TCG here); `passthrough` the host's, from /proc/cpuinfo, under KVM
/// (where the host has /dev/kvm).
#[test]
fn maxphysaddr_sets_the_vcpus_address_width() {
    let st = State::new("physbits");
    st.start(&firmware_vm(
        "pemu",
        "<cpu mode='custom'><model fallback='allow'>qemu64</model><maxphysaddr mode='emulate' bits='42'/></cpu>",
        "",
    ));
    let mut qmp = st.qmp("pemu");
    assert_eq!(cpu_prop(&mut qmp, "phys-bits"), 42);
    drop(qmp);
    st.stop("pemu");
    let kvm_xml = firmware_vm(
        "ppass",
        "<cpu mode='custom' check='none'><model fallback='allow'>qemu64</model><maxphysaddr mode='passthrough'/></cpu>",
        "",
    )
    .replacen("type='qemu'", "type='kvm'", 1);
    if !std::path::Path::new("/dev/kvm").exists() {
        let e = st.try_start(&kvm_xml).unwrap_err();
        assert!(e.message.contains("KVM"), "{e}");
        return;
    }
    let host: u64 = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap()
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            (k.trim() == "address sizes").then(|| v.trim().split(' ').next()?.parse().ok())?
        })
        .expect("the host's address sizes in /proc/cpuinfo");
    st.start(&kvm_xml);
    let mut qmp = st.qmp("ppass");
    assert_eq!(cpu_prop(&mut qmp, "phys-bits"), host);
    drop(qmp);
    st.stop("ppass");
}

/// A QEMU that stops at start with an error it writes without its name
/// (a kernel image it cannot load a ramdisk for) is quoted in the start's
/// error, not a monitor that did not answer.
#[test]
fn qemus_own_words_explain_a_failed_start() {
    let st = State::new("qemuwords");
    let kernel = st.root().join("not-a-kernel");
    std::fs::write(&kernel, vec![0u8; 64 << 10]).unwrap();
    let initrd = st.root().join("initrd");
    std::fs::write(&initrd, b"x").unwrap();
    let e = st
        .try_start(&firmware_vm("words", "", "").replace(
            "</type></os>",
            &format!(
                "</type><kernel>{}</kernel><initrd>{}</initrd></os>",
                kernel.display(),
                initrd.display()
            ),
        ))
        .unwrap_err();
    assert_eq!(e.code, qvirt::ErrorCode::QemuFailed, "{e}");
    assert!(
        e.message
            .contains("QEMU: qemu: linux kernel too old to load a ram disk"),
        "{e}"
    );
}

/// `<iommu model='intel'>` with its switches: QEMU's VT-d device with
/// interrupt remapping, caching mode and a 48-bit address width.
#[test]
fn an_intel_iommu_reaches_the_machine() {
    let st = State::new("iommu");
    st.start(
        &firmware_vm(
            "vtd",
            "<features><acpi/><ioapic driver='qemu'/></features>",
            "<iommu model='intel'><driver intremap='on' caching_mode='on' aw_bits='48'/></iommu>",
        )
        .replace("machine='pc'", "machine='q35'"),
    );
    let mut qmp = st.qmp("vtd");
    let prop = |q: &mut crate::support::Qmp, p: &str| q.qom_get("/machine/peripheral/iommu0", p);
    assert_eq!(prop(&mut qmp, "type"), "intel-iommu");
    assert_eq!(prop(&mut qmp, "intremap"), "on");
    assert_eq!(prop(&mut qmp, "caching-mode"), true);
    assert_eq!(prop(&mut qmp, "aw-bits"), 48);
    drop(qmp);
    st.stop("vtd");
}

/// `<features><tcg><tb-cache>`: QEMU's translation buffer is the size
/// asked (64 MiB here, less QEMU's guard pages), as QEMU reports it.
#[test]
fn tcg_translation_cache_size() {
    let st = State::new("tbcache");
    st.start(&firmware_vm(
        "tb",
        "<features><tcg><tb-cache unit='MiB'>64</tb-cache></tcg></features>",
        "",
    ));
    let mut qmp = st.qmp("tb");
    let jit = qmp.exec("x-query-jit", serde_json::json!({}));
    let text = jit["human-readable-text"].as_str().unwrap().to_string();
    drop(qmp);
    let total: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("gen code size"))
        .and_then(|r| r.trim().split('/').nth(1))
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or_else(|| panic!("the translation buffer's size in {text}"));
    assert!(
        total <= 64 << 20 && total > 63 << 20,
        "a 64 MiB translation buffer: {total} bytes"
    );
    st.stop("tb");
}

/// An empty Hyper-V `vendor_id` (as passthrough guides write it) reaches
/// the vCPUs empty.
#[test]
fn an_empty_hyperv_vendor_id_reaches_the_vcpus() {
    let st = State::new("hvempty");
    st.start(&firmware_vm(
        "hve",
        "<features><hyperv mode='custom'><vendor_id state='on' value=''/></hyperv></features>",
        "",
    ));
    let mut qmp = st.qmp("hve");
    assert_eq!(cpu_prop(&mut qmp, "hv-vendor-id"), "");
    drop(qmp);
    st.stop("hve");
}

/// `<backingStore>` gives the chain as written (QEMU opens the named
/// base, with the stated format, below the overlay); `<transient/>`
/// writes to an overlay in the run directory whose backing is the disk,
/// which QEMU opens read-only, and the overlay goes with the domain.
#[test]
fn backing_store_and_transient_disk_chains() {
    let st = State::new("chains");
    let dir = st.root().join("img");
    std::fs::create_dir_all(&dir).unwrap();
    let base = dir.join("base.qcow2");
    let top = dir.join("top.qcow2");
    let plain = dir.join("plain.qcow2");
    let base_s = base.to_str().unwrap();
    qemu_img(&["create", "-q", "-f", "qcow2", base_s, "16M"]);
    qemu_img(&[
        "create",
        "-q",
        "-f",
        "qcow2",
        "-F",
        "qcow2",
        "-b",
        base_s,
        top.to_str().unwrap(),
    ]);
    qemu_img(&["create", "-q", "-f", "qcow2", plain.to_str().unwrap(), "8M"]);
    let before = std::fs::read(&plain).unwrap();
    st.start(&firmware_vm(
        "chain",
        "",
        &format!(
            "<disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='{}'/>
      <backingStore type='file'>
        <format type='qcow2'/>
        <source file='{base_s}'/>
        <backingStore/>
      </backingStore>
      <target dev='vda' bus='virtio'/>
    </disk>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='{}'/>
      <target dev='vdb' bus='virtio'/>
      <transient/>
    </disk>",
            top.display(),
            plain.display()
        ),
    ));
    let mut qmp = st.qmp("chain");
    let vda = qmp.inserted("virtio-disk0");
    assert_eq!(vda["file"], top.to_str().unwrap(), "{vda}");
    assert_eq!(vda["backing_file_depth"], 1, "{vda}");
    assert_eq!(vda["image"]["backing-image"]["filename"], base_s, "{vda}");
    assert_eq!(vda["image"]["backing-image"]["format"], "qcow2", "{vda}");
    let vdb = qmp.inserted("virtio-disk1");
    let overlay = vdb["file"].as_str().unwrap().to_string();
    assert!(
        overlay.starts_with(st.run_dir("chain").to_str().unwrap()),
        "the transient disk writes to {overlay}, not an overlay in the run directory"
    );
    assert_eq!(
        vdb["image"]["backing-image"]["filename"],
        plain.to_str().unwrap(),
        "{vdb}"
    );
    assert_eq!(vdb["ro"], false, "the guest may write, to the overlay");
    // A write through QEMU lands in the overlay, never in the disk.
    for command in ["write -P 0x5a 0 64k", "flush"] {
        let said = qmp.exec(
            "human-monitor-command",
            json!({"command-line": format!(
                "qemu-io -d /machine/peripheral/virtio-disk1/virtio-backend \"{command}\""
            )}),
        );
        // qemu-io prints to QEMU's stdout; an error comes back here.
        assert_eq!(said, "", "{command} through QEMU failed");
    }
    // The guest's view (the overlay over the disk) now differs from the
    // disk: the write is in the overlay.
    let compared = Command::new("qemu-img")
        .args(["compare", "-U", "-f", "qcow2", "-F", "qcow2", &overlay])
        .arg(&plain)
        .output()
        .unwrap();
    assert_eq!(
        compared.status.code(),
        Some(1),
        "the overlay does not hold the write: {}",
        String::from_utf8_lossy(&compared.stdout)
    );
    drop(qmp);
    st.stop("chain");
    assert!(
        !Path::new(&overlay).exists(),
        "the overlay {overlay} outlived the domain"
    );
    assert_eq!(
        std::fs::read(&plain).unwrap(),
        before,
        "the transient disk changed"
    );
}

/// Reserves `pages` more 2 MiB huge pages for as long as it lives (the
/// host's count is put back when dropped).
struct HugePages {
    before: u64,
}

const NR_HUGEPAGES: &str = "/proc/sys/vm/nr_hugepages";

impl HugePages {
    fn reserve(pages: u64) -> HugePages {
        let before: u64 = std::fs::read_to_string(NR_HUGEPAGES)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        std::fs::write(NR_HUGEPAGES, (before + pages).to_string())
            .unwrap_or_else(|e| panic!("cannot reserve huge pages (as root): {e}"));
        let got = meminfo("HugePages_Total");
        assert!(
            got >= before + pages,
            "the kernel reserved {got} huge pages of the {} asked",
            before + pages
        );
        HugePages { before }
    }
}

impl Drop for HugePages {
    fn drop(&mut self) {
        let _ = std::fs::write(NR_HUGEPAGES, self.before.to_string());
    }
}

/// A count from /proc/meminfo.
fn meminfo(key: &str) -> u64 {
    let text = std::fs::read_to_string("/proc/meminfo").unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no {key} in /proc/meminfo"))
}

/// `<hugepages>` with a memfd source: the guest's RAM is a hugetlb memfd
/// of 2 MiB pages, and the host's huge pages are what it takes (free
/// less reserved drops by the guest's 32 pages).
#[test]
fn hugepages_back_the_guest_memory() {
    let _pages = HugePages::reserve(40);
    let available = || meminfo("HugePages_Free") - meminfo("HugePages_Rsvd");
    let before = available();
    let st = State::new("hugepages");
    st.start(&firmware_vm(
        "huge",
        "<memoryBacking>
    <hugepages><page size='2048' unit='KiB'/></hugepages>
    <source type='memfd'/>
  </memoryBacking>",
        "",
    ));
    let mut qmp = st.qmp("huge");
    assert_eq!(
        qmp.qom_get("/objects/pc.ram", "type"),
        "memory-backend-memfd"
    );
    assert_eq!(qmp.qom_get("/objects/pc.ram", "hugetlb"), true);
    assert_eq!(
        qmp.qom_get("/objects/pc.ram", "hugetlbsize"),
        2 * 1024 * 1024
    );
    drop(qmp);
    let taken = before.saturating_sub(available());
    assert!(
        taken >= 32,
        "the guest's 64 MiB took {taken} huge pages, not 32"
    );
    st.stop("huge");
}

/// What a single-GPU passthrough definition keeps after its SPICE display
/// is removed (libvirt refuses it): SPICE audio, a spicevmc channel and
/// USB redirection. The domain runs; the sound card plays to a backend
/// that discards the sound, and the channel and redirection are there
/// without a client.
#[test]
fn spice_leftovers_without_a_spice_display_still_run() {
    let st = State::new("nospice");
    st.start(
        &firmware_vm(
            "leftover",
            "",
            "<controller type='usb' model='qemu-xhci'/>\
             <sound model='ich9'/><audio id='1' type='spice'/>\
             <channel type='spicevmc'><target type='virtio' name='com.redhat.spice.0'/></channel>\
             <redirdev bus='usb' type='spicevmc'/>",
        )
        .replace("machine='pc'", "machine='q35'"),
    );
    let mut qmp = st.qmp("leftover");
    assert_eq!(
        qmp.qom_get("/machine/peripheral/sound0-codec0", "audiodev"),
        "audio1"
    );
    assert_eq!(
        qmp.qom_get("/machine/peripheral/redir0", "type"),
        "usb-redir"
    );
    assert_eq!(
        qmp.qom_get("/machine/peripheral/channel0", "type"),
        "virtserialport"
    );
    drop(qmp);
    st.stop("leftover");
}

/// `<channel type='spiceport'>`: a port of the SPICE session (here the
/// WebDAV folder sharing one) on a virtio-serial port of the same name.
#[test]
fn a_spiceport_channel_is_a_port_of_the_spice_session() {
    let st = State::new("spiceport");
    st.start(&firmware_vm(
        "sport",
        "",
        "<graphics type='spice'><listen type='none'/></graphics>\
         <channel type='spiceport'><source channel='org.spice-space.webdav.0'/>\
         <target type='virtio' name='org.spice-space.webdav.0'/></channel>",
    ));
    let mut qmp = st.qmp("sport");
    assert_eq!(
        qmp.qom_get("/machine/peripheral/channel0", "name"),
        "org.spice-space.webdav.0"
    );
    let chardevs = qmp.exec("query-chardev", serde_json::json!({}));
    let port = chardevs
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["label"] == "charchannel0")
        .unwrap_or_else(|| panic!("charchannel0 in {chardevs}"));
    assert_eq!(port["filename"], "spiceport", "{chardevs}");
    drop(qmp);
    st.stop("sport");
}

/// `<qemu:override>`: a device's properties set (a bool, an unsigned)
/// and removed on its `-device`, seen on the running device.
#[test]
fn qemu_override_sets_device_properties() {
    let st = State::new("override");
    st.start(
        &firmware_vm(
            "ovr",
            "",
            "<interface type='user'><mac address='52:54:00:00:0e:01'/><model type='e1000'/></interface>",
        )
        .replace(
            "<memballoon model='none'/>",
            "<memballoon model='virtio'/>",
        )
        .replace(
            "</domain>",
            "<qemu:override>
    <qemu:device alias='balloon0'>
      <qemu:frontend>
        <qemu:property name='deflate-on-oom' type='bool' value='true'/>
      </qemu:frontend>
    </qemu:device>
    <qemu:device alias='net0'>
      <qemu:frontend>
        <qemu:property name='x-pcie-lnksta-dllla' type='bool' value='false'/>
        <qemu:property name='mac' type='string' value='52:54:00:00:0e:02'/>
      </qemu:frontend>
    </qemu:device>
  </qemu:override>
</domain>",
        ),
    );
    let mut qmp = st.qmp("ovr");
    assert_eq!(
        qmp.qom_get("/machine/peripheral/balloon0", "deflate-on-oom"),
        true
    );
    assert_eq!(
        qmp.qom_get("/machine/peripheral/net0", "mac"),
        "52:54:00:00:0e:02"
    );
    drop(qmp);
    st.stop("ovr");
}

/// `<sound>` with its `<audio>` backend: the sound card and its codec
/// are in QEMU's device tree, the codec wired to the backend's id; the
/// backend's per-stream options (`mixingEngine`, `voices`,
/// `fixedSettings`, `bufferLength`) are ones QEMU takes.
#[test]
fn sound_card_plays_through_its_audio_backend() {
    let st = State::new("audio");
    st.start(
        &firmware_vm(
            "snd",
            "",
            "<sound model='ich9'><audio id='1'/></sound><audio id='1' type='none'>\
             <input mixingEngine='no' voices='2'/><output fixedSettings='yes' bufferLength='20000'>\
             <settings frequency='44100' channels='2' format='s16'/></output></audio>",
        )
        .replace("machine='pc'", "machine='q35'"),
    );
    let mut qmp = st.qmp("snd");
    assert_eq!(
        qmp.qom_get("/machine/peripheral/sound0", "type"),
        "ich9-intel-hda"
    );
    assert_eq!(
        qmp.qom_get("/machine/peripheral/sound0-codec0", "type"),
        "hda-duplex"
    );
    assert_eq!(
        qmp.qom_get("/machine/peripheral/sound0-codec0", "audiodev"),
        "audio1"
    );
    drop(qmp);
    st.stop("snd");
}

/// `<features><smm state='on'/>` on q35: the machine's SMM is on.
/// `<maxMemory slots>` with a `<memory model='dimm'>`: the DIMM is
/// plugged, of its size, in its NUMA node, beside the base memory.
#[test]
fn smm_and_memory_dimms_reach_the_machine() {
    let st = State::new("smmdimm");
    st.start(
        &firmware_vm(
            "dimm",
            "<maxMemory slots='4' unit='MiB'>512</maxMemory>
  <vcpu placement='static'>2</vcpu>
  <features><acpi/><smm state='on'/></features>
  <cpu><numa><cell id='0' cpus='0-1' memory='64' unit='MiB'/></numa></cpu>",
            "<memory model='dimm'><target><size unit='MiB'>32</size><node>0</node></target></memory>",
        )
        .replace("machine='pc'", "machine='q35'")
        .replace("<memory unit='MiB'>64</memory>", "<memory unit='MiB'>96</memory>"),
    );
    let mut qmp = st.qmp("dimm");
    assert_eq!(qmp.qom_get("/machine", "smm"), "on");
    let dimms = qmp.exec("query-memory-devices", json!({}));
    let dimm = dimms
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["type"] == "dimm")
        .unwrap_or_else(|| panic!("no DIMM plugged: {dimms}"));
    assert_eq!(dimm["data"]["size"], 32 * 1024 * 1024, "{dimm}");
    assert_eq!(dimm["data"]["node"], 0, "{dimm}");
    let sizes = qmp.exec("query-memory-size-summary", json!({}));
    assert_eq!(sizes["base-memory"], 64 * 1024 * 1024, "{sizes}");
    assert_eq!(sizes["plugged-memory"], 32 * 1024 * 1024, "{sizes}");
    drop(qmp);
    st.stop("dimm");
}

/// SeaBIOS's own log (QEMU's debug console at port 0x402, added through
/// `<qemu:commandline>`) of a firmware VM with `os` and `devices`, once
/// it has given up booting.
fn seabios_log(st: &State, name: &str, os: &str, devices: &str) -> String {
    let log = st.root().join(format!("{name}-seabios.log"));
    let xml = firmware_vm(name, "", devices)
        .replace(
            "<os><type arch='x86_64' machine='pc'>hvm</type></os>",
            &format!("<os><type arch='x86_64' machine='pc'>hvm</type>{os}</os>"),
        )
        .replace(
            "</domain>",
            &format!(
                "<qemu:commandline>
    <qemu:arg value='-chardev'/><qemu:arg value='file,id=seabios,path={}'/>
    <qemu:arg value='-device'/><qemu:arg value='isa-debugcon,iobase=0x402,chardev=seabios'/>
  </qemu:commandline>
</domain>",
                log.display()
            ),
        );
    st.start(&xml);
    let text = crate::support::poll(
        "SeaBIOS to find no bootable device",
        Duration::from_secs(60),
        || {
            // The whole line: SeaBIOS writes what it does next ("Retrying
            // in N seconds") after the words, a character at a time.
            let t = std::fs::read_to_string(&log).ok()?;
            let at = t.find("No bootable device")?;
            t[at..].contains('\n').then_some(t)
        },
    );
    st.stop(name);
    text
}

/// `<bootmenu enable='yes' timeout=...>` reaches the firmware: SeaBIOS
/// offers its menu; with `enable='no'` it does not. `<bios
/// rebootTimeout=...>` is the wait SeaBIOS announces before it retries a
/// failed boot. `<bios useserial='yes'>` puts the BIOS's screen on the
/// serial port: the serial log has the menu's prompt.
#[test]
fn the_boot_menu_reboot_timeout_and_serial_bios_reach_the_firmware() {
    let st = State::new("bootmenu");
    let serial = st.root().join("menu-on-serial.log");
    let on = seabios_log(
        &st,
        "menu-on",
        "<bootmenu enable='yes' timeout='500'/><bios useserial='yes' rebootTimeout='3000'/>",
        &format!(
            "<serial type='file'><source path='{}'/><target port='0'/></serial>",
            serial.display()
        ),
    );
    assert!(on.contains("Press ESC for boot menu"), "{on}");
    assert!(on.contains("Retrying in 3 seconds"), "{on}");
    let screen = String::from_utf8_lossy(&std::fs::read(&serial).unwrap()).into_owned();
    assert!(screen.contains("Press ESC for boot menu"), "{screen:?}");
    let off = seabios_log(&st, "menu-off", "<bootmenu enable='no'/>", "");
    assert!(!off.contains("Press ESC for boot menu"), "{off}");
    assert!(!off.contains("Retrying in"), "{off}");
}

/// `<panic model='pvpanic'>`: QEMU's `pvpanic-pci` on the PCI bus, at the
/// slot asked for, as `query-pci` shows it.
#[test]
fn a_pvpanic_model_is_a_pci_panic_device() {
    let st = State::new("pvpanic");
    st.start(&firmware_vm(
        "pvp",
        "",
        "<panic model='pvpanic'><address type='pci' domain='0x0000' bus='0x00' slot='0x07' function='0x0'/></panic>",
    ));
    let mut qmp = st.qmp("pvp");
    let pci = qmp.exec("query-pci", json!({}));
    let dev = pci[0]["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["qdev_id"] == "panic0")
        .unwrap_or_else(|| panic!("no panic0 in {pci}"))
        .clone();
    assert_eq!(dev["slot"], 7, "{dev}");
    // QEMU's pvpanic-pci: Red Hat's vendor id, device 0x0011.
    assert_eq!(dev["id"]["vendor"], 0x1b36, "{dev}");
    assert_eq!(dev["id"]["device"], 0x0011, "{dev}");
    drop(qmp);
    st.stop("pvp");
}

/// `<ps2 state='off'/>`: the machine has no PS/2 controller, so QEMU
/// offers no PS/2 mouse (which a machine with one does).
#[test]
fn ps2_off_leaves_no_ps2_mouse() {
    let st = State::new("ps2");
    for (name, features, ps2) in [
        ("noi8042", "<features><ps2 state='off'/></features>", false),
        ("i8042", "", true),
    ] {
        st.start(&firmware_vm(name, features, ""));
        let mut qmp = st.qmp(name);
        let mice = qmp.exec("query-mice", json!({}));
        let has = mice
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["name"].as_str().is_some_and(|n| n.contains("PS/2")));
        assert_eq!(has, ps2, "{name}: {mice}");
        assert_eq!(qmp.qom_get("/machine", "i8042"), ps2, "{name}");
        drop(qmp);
        st.stop(name);
    }
}
