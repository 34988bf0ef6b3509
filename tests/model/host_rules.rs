//! One test per validation rule of what tuned, passed-through and dumped
//! definitions carry (interfaces' own in `net_kinds.rs`): live-only
//! attributes, vCPU lists, security labels, mediated devices,
//! TPM passthrough, QEMU overrides and deprecation behavior.

use qvirt::model::ModelErrorKind;

use crate::{accept, doc, doc_os, reject, reject_at_define, round_trip};

use ModelErrorKind::{Invalid, Unsupported};

/// What libvirt writes only in a running domain's XML (image indexes in
/// the chain, the network port and bridge, the network a bridge
/// interface was made from) is read and left out, as libvirt leaves it
/// out of a definition.
#[test]
fn live_only_attributes_are_dropped() {
    let d = accept(&doc(
        "",
        "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>\
         <source file='/var/lib/images/a.qcow2' index='2'/>\
         <backingStore type='file' index='3'><format type='raw'/><source file='/var/lib/images/b.raw'/>\
         <backingStore/></backingStore>\
         <target dev='vda' bus='virtio'/></disk>\
         <interface type='network'><source network='default' portid='0c5a8c93-4f1c-4f36-9f42-1c1c5e2b6d11' bridge='virbr0'/>\
         <model type='virtio'/></interface>\
         <interface type='bridge'><source network='ovs' bridge='br-int'/><model type='virtio'/></interface>",
    ));
    let xml = d.to_xml();
    assert!(
        !xml.contains("index=") && !xml.contains("portid") && !xml.contains("virbr0"),
        "{xml}"
    );
    assert!(
        xml.contains("<source bridge='br-int'/>") && !xml.contains("'ovs'"),
        "a bridge interface is its bridge: {xml}"
    );
}

/// `<vcpus>`: the vCPUs listed one by one decide how many are online.
#[test]
fn individual_vcpus() {
    let list = |items: &str| {
        format!(
            "<domain type='kvm'><name>t</name><memory unit='MiB'>64</memory>\
             <vcpu placement='static' current='4'>4</vcpu><vcpus>{items}</vcpus>\
             <os><type arch='x86_64' machine='q35'>hvm</type></os></domain>"
        )
    };
    let d = crate::accept(&list(
        "<vcpu id='0' enabled='yes' hotpluggable='no' order='1'/>\
         <vcpu id='1' enabled='yes' hotpluggable='no' order='2'/>\
         <vcpu id='2' enabled='no' hotpluggable='yes'/><vcpu id='3' enabled='no' hotpluggable='yes'/>",
    ));
    assert_eq!(
        d.vcpu.current,
        Some(2),
        "the enabled vCPUs are the current ones"
    );
    assert!(d.vcpu.individual.as_ref().is_some_and(|i| i.ordered));
    let d = crate::accept(&list(
        "<vcpu id='0' enabled='yes' hotpluggable='no'/><vcpu id='1' enabled='yes' hotpluggable='no'/>\
         <vcpu id='2' enabled='yes' hotpluggable='no'/><vcpu id='3' enabled='yes' hotpluggable='no'/>",
    ));
    // All online: no `current`, as libvirt writes it.
    assert_eq!(d.vcpu.current, None);
    // Enabled and hotpluggable, after a hole: plugged in at start.
    let d = crate::accept(&list(
        "<vcpu id='0' enabled='yes' hotpluggable='no'/><vcpu id='1' enabled='no' hotpluggable='yes'/>\
         <vcpu id='2' enabled='yes' hotpluggable='yes'/><vcpu id='3' enabled='yes' hotpluggable='yes'/>",
    ));
    assert_eq!(d.vcpu.current, Some(3));
    assert_eq!(d.vcpu.boot_count(), 1);
    assert_eq!(d.vcpu.individual.as_ref().unwrap().hotplugged, [2, 3]);
    for (items, why) in [
        (
            "<vcpu id='0' enabled='no' hotpluggable='yes'/>",
            "vcpu 0 can't be offline",
        ),
        (
            "<vcpu id='0' enabled='yes'/><vcpu id='1' enabled='no'/><vcpu id='2' enabled='yes'/>",
            "prior to hotplugable vcpus",
        ),
        (
            "<vcpu id='0' enabled='yes' hotpluggable='yes'/>",
            "vcpu0 can't be hotpluggable",
        ),
        (
            "<vcpu id='0' enabled='yes' order='1'/><vcpu id='1' enabled='yes'/>",
            "order",
        ),
        (
            "<vcpu id='0' enabled='yes'/><vcpu id='9' enabled='no'/>",
            "out of range",
        ),
    ] {
        reject(&list(items), Invalid, why);
    }
}

/// `<seclabel>`: one per model; dynamic labels (DAC: the manager's own
/// user; SELinux and AppArmor: defined, their start refused) and
/// `type='none'` are read, the labels a running domain's dump shows are
/// dropped; fixed labels are refused by name.
#[test]
fn seclabels() {
    let with = |labels: &str| {
        format!(
            "<domain type='kvm'><name>t</name><memory unit='MiB'>64</memory>\
             <os><type arch='x86_64' machine='q35'>hvm</type></os><devices/>{labels}</domain>"
        )
    };
    let d = crate::accept(&with(
        "<seclabel type='dynamic' model='dac' relabel='yes'><label>+64055:+994</label>\
         <imagelabel>+64055:+994</imagelabel></seclabel><seclabel type='none' model='selinux'/>",
    ));
    assert_eq!(d.seclabels.len(), 2);
    assert!(d.seclabels[0].dynamic);
    assert!(!d.to_xml().contains("64055"), "the dump's label is dropped");
    // A dump from an AppArmor or SELinux host: defined (the chosen label
    // dropped), its start refused for want of that driver.
    for model in ["apparmor", "selinux"] {
        let d = crate::accept(&with(&format!(
            "<seclabel type='dynamic' model='{model}' relabel='yes'><label>libvirt-1</label>\
             <imagelabel>libvirt-1</imagelabel></seclabel>"
        )));
        assert_eq!(d.seclabels[0].driver_missing(), Some(model));
        let back = d.to_xml();
        assert!(back.contains(&format!("model='{model}'")), "{back}");
        assert!(!back.contains("libvirt-1"), "{back}");
    }
    reject(
        &with(
            "<seclabel type='static' model='dac' relabel='no'><label>+107:+107</label></seclabel>",
        ),
        Unsupported,
        "type='static'",
    );
    reject(
        &with("<seclabel type='none' model='dac'/><seclabel type='dynamic' model='dac'/>"),
        Invalid,
        "more than one <seclabel>",
    );
    reject(
        &with("<seclabel type='dynamic' model='dac' relabel='no'/>"),
        Invalid,
        "relabeling",
    );
}

/// `<hostdev type='mdev'>`: a mediated device by UUID, model vfio-pci.
#[test]
fn mediated_hostdevs() {
    let d = accept(&doc(
        "",
        "<hostdev mode='subsystem' type='mdev' managed='no' model='vfio-pci' display='off'>\
         <source><address uuid='d7ef5de6-4b4b-4984-8fbd-5f1e2a309aa2'/></source></hostdev>",
    ));
    assert!(matches!(
        d.devices.hostdevs[0].source,
        qvirt::model::HostdevSource::Mdev(m) if m.display == Some(false)
    ));
    reject(
        &doc(
            "",
            "<hostdev mode='subsystem' type='mdev' model='vfio-ccw'><source><address uuid='d7ef5de6-4b4b-4984-8fbd-5f1e2a309aa2'/></source></hostdev>",
        ),
        Unsupported,
        "'vfio-ccw'",
    );
    reject(
        &doc(
            "",
            "<hostdev mode='subsystem' type='mdev' model='vfio-pci'><source/></hostdev>",
        ),
        Invalid,
        "uuid",
    );
    reject(
        &doc(
            "",
            "<hostdev mode='subsystem' type='pci' display='on'><source><address bus='1' slot='0' function='0'/></source></hostdev>",
        ),
        Invalid,
        "display",
    );
}

/// `<tpm><backend type='passthrough'><device path>`: the host's TPM.
#[test]
fn tpm_passthrough() {
    let d = accept(&doc(
        "",
        "<tpm model='tpm-crb'><backend type='passthrough'><device path='/dev/tpm0'/></backend></tpm>",
    ));
    assert!(matches!(
        &d.devices.tpms[0].backend,
        qvirt::model::TpmBackend::Passthrough { path } if path == "/dev/tpm0"
    ));
    reject(
        &doc("", "<tpm><backend type='passthrough'/></tpm>"),
        Invalid,
        "device path",
    );
    reject(
        &doc("", "<tpm><backend type='external'/></tpm>"),
        Invalid,
        "missing external TPM backend type",
    );
}

/// `<qemu:override>`: read and written back; values checked by type.
#[test]
fn qemu_override() {
    let with = |props: &str| {
        format!(
            "<domain type='kvm' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'><name>t</name>\
             <memory unit='MiB'>64</memory><os><type arch='x86_64' machine='q35'>hvm</type></os><devices/>\
             <qemu:override><qemu:device alias='hostdev0'><qemu:frontend>{props}</qemu:frontend></qemu:device></qemu:override></domain>"
        )
    };
    let d = crate::accept(&with(
        "<qemu:property name='x-pci-sub-vendor-id' type='unsigned' value='6058'/>\
         <qemu:property name='x-vga' type='bool' value='true'/><qemu:property name='rombar' type='remove'/>",
    ));
    assert_eq!(d.qemu.overrides[0].props.len(), 3);
    reject(
        &with("<qemu:property name='x' type='unsigned' value='-1'/>"),
        Invalid,
        "unsigned",
    );
    reject(
        &with("<qemu:property name='x' type='bool' value='yes'/>"),
        Invalid,
        "'true' or 'false'",
    );
    reject(
        &with("<qemu:property name='x' type='remove' value='1'/>"),
        Invalid,
        "no value",
    );
}

/// `<qemu:deprecation behavior>`: libvirt's four words, read and written
/// back; another word, a second element or a missing value is refused
/// where it is written.
#[test]
fn qemu_deprecation() {
    use qvirt::model::DeprecationBehavior;
    let with = |inner: &str| {
        format!(
            "<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'><name>t</name>\
             <memory unit='MiB'>64</memory><os><type arch='x86_64' machine='pc'>hvm</type></os><devices/>\
             {inner}</domain>"
        )
    };
    for b in DeprecationBehavior::ALL {
        let d = accept(&with(&format!(
            "<qemu:deprecation behavior='{}'/>",
            b.as_str()
        )));
        assert_eq!(d.qemu.deprecation, Some(*b));
    }
    reject(
        &with("<qemu:deprecation behavior='warn'/>"),
        Unsupported,
        "'warn' for attribute behavior on <qemu:deprecation> at 1:",
    );
    reject(&with("<qemu:deprecation/>"), Invalid, "behavior");
    reject(
        &with("<qemu:deprecation behavior='omit'/><qemu:deprecation behavior='crash'/>"),
        Invalid,
        "more than once",
    );
}

/// A `<boot dev>` given twice is the same device, as libvirt reads it;
/// `<cpu><model vendor_id>` is twelve characters.
#[test]
fn repeated_boot_devices_and_cpu_vendor_id() {
    let d = accept(&doc_os(
        "<type arch='x86_64' machine='pc'>hvm</type><boot dev='cdrom'/><boot dev='hd'/><boot dev='cdrom'/>",
        "",
        "",
    ));
    assert_eq!(d.os.boot.len(), 2);
    let cpu = |v: &str| {
        doc(
            &format!(
                "<cpu mode='custom'><model fallback='allow' vendor_id='{v}'>qemu64</model></cpu>"
            ),
            "",
        )
    };
    accept(&cpu("GenuineIntel"));
    reject(&cpu("Intel"), Invalid, "12");
}

/// `<wwn>`, `<vendor>`, `<product>` of a disk: 16 hexadecimal digits
/// (`0x` allowed), up to 8 and 16 printable characters, kept as written.
#[test]
fn disk_wwn_vendor_product() {
    let disk = |inner: &str| {
        doc(
            "",
            &format!(
                "<disk type='file' device='disk'><source file='/i.img'/><target dev='sda' bus='scsi'/>{inner}</disk>"
            ),
        )
    };
    let d = accept(&disk(
        "<wwn>0x5000C50015EA71AC</wwn><vendor>SEAGATE</vendor><product>ST3500418AS</product>",
    ));
    let x = &d.devices.disks[0];
    assert_eq!(x.wwn.as_deref(), Some("0x5000C50015EA71AC"));
    assert!(d.to_xml().contains("<vendor>SEAGATE</vendor>"));
    reject(
        &disk("<wwn>0x5000c50015ea71</wwn>"),
        Invalid,
        "Malformed wwn",
    );
    reject(
        &disk("<wwn>5000c50015ea71zz</wwn>"),
        Invalid,
        "Malformed wwn",
    );
    reject(&disk("<vendor>TOOLONGVENDOR</vendor>"), Invalid, "1 to 8");
    reject(
        &disk("<product>tab\tinside</product>"),
        Invalid,
        "printable",
    );
}

/// `<vsock>`: one; a CID of 3 or more; without `auto`, a CID given is
/// fixed and none given is picked at start (libvirt's post-parse rule).
#[test]
fn vsock() {
    let d = accept(&doc(
        "",
        "<vsock model='virtio'><cid auto='yes' address='3'/></vsock>",
    ));
    let v = d.devices.vsock.as_ref().unwrap();
    assert!(v.auto_cid);
    assert_eq!(v.cid, Some(3));
    let d = accept(&doc(
        "",
        "<vsock model='virtio'><cid address='42'/></vsock>",
    ));
    assert!(!d.devices.vsock.as_ref().unwrap().auto_cid);
    assert!(d.to_xml().contains("<cid auto='no' address='42'/>"));
    let d = accept(&doc("", "<vsock/>"));
    assert!(d.devices.vsock.as_ref().unwrap().auto_cid);
    reject(
        &doc("", "<vsock><cid address='2'/></vsock>"),
        Invalid,
        ">= 3",
    );
    reject(&doc("", "<vsock/><vsock/>"), Invalid, "vsock");
}

/// `<hyperv><vendor_id>`: at most 12 characters and no ',', as libvirt
/// checks; an empty value (seen in passthrough guides) is taken.
#[test]
fn hyperv_vendor_id() {
    let with = |v: &str| {
        doc_os(
            "<type arch='x86_64' machine='q35'>hvm</type>",
            &format!(
                "<features><hyperv mode='custom'><vendor_id state='on' value='{v}'/></hyperv></features>"
            ),
            "",
        )
    };
    let d = accept(&with(""));
    assert!(d.to_xml().contains("<vendor_id state='on' value=''/>"));
    accept(&with("KVMKVMKVMKVM"));
    reject(&with("KVMKVMKVMKVM1"), Invalid, "at most 12");
    reject(&with("a,b"), Invalid, "without ','");
}

/// `<vcpusched>`, `<iothreadsched>`, `<emulatorsched>`: a policy libvirt
/// names, a priority for the real-time ones, lists that name threads the
/// domain has and do not overlap.
#[test]
fn thread_schedulers() {
    let with = |tune: &str| {
        format!(
            "<domain type='kvm'><name>t</name><memory unit='MiB'>64</memory>\
             <vcpu>4</vcpu><iothreads>2</iothreads><cputune>{tune}</cputune>\
             <os><type arch='x86_64' machine='q35'>hvm</type></os></domain>"
        )
    };
    let d = accept(&with(
        "<vcpusched vcpus='0-1' scheduler='fifo' priority='10'/><vcpusched vcpus='3' scheduler='batch'/>\
         <iothreadsched iothreads='2' scheduler='idle'/><emulatorsched scheduler='rr' priority='1'/>",
    ));
    let t = d.cputune.as_ref().unwrap();
    assert_eq!(t.vcpuscheds.len(), 2);
    assert_eq!(t.vcpuscheds[0].priority, Some(10));
    assert_eq!(
        t.emulatorsched,
        Some((qvirt::model::SchedPolicy::Rr, Some(1)))
    );
    reject(
        &with("<vcpusched vcpus='0' scheduler='fifo'/>"),
        Invalid,
        "priority",
    );
    reject(
        &with("<vcpusched vcpus='0' scheduler='none'/>"),
        Unsupported,
        "scheduler",
    );
    reject(
        &with("<vcpusched vcpus='4' scheduler='idle'/>"),
        Invalid,
        "Invalid vcpu '4'",
    );
    reject(
        &with("<vcpusched vcpus='0-2' scheduler='idle'/><vcpusched vcpus='2' scheduler='batch'/>"),
        Invalid,
        "must not overlap",
    );
    reject(
        &with("<iothreadsched iothreads='3' scheduler='idle'/>"),
        Invalid,
        "iothread",
    );
}

/// Several `<baseBoard>`s are read and written back in document order,
/// as libvirt keeps them; a second `<bios>` is refused where it is.
#[test]
fn several_base_boards() {
    use qvirt::model::SmbiosBlock;
    let board = |m: &str| format!("<baseBoard><entry name='manufacturer'>{m}</entry></baseBoard>");
    let d = accept(&doc(
        &format!(
            "<sysinfo type='smbios'>{}<bios><entry name='vendor'>V</entry></bios>{}</sysinfo>",
            board("First"),
            board("Second")
        ),
        "",
    ));
    let s = d.sysinfo.as_ref().unwrap();
    let boards: Vec<&str> = s
        .blocks
        .iter()
        .filter(|(b, _)| *b == SmbiosBlock::BaseBoard)
        .map(|(_, e)| e[0].1.as_str())
        .collect();
    assert_eq!(boards, ["First", "Second"]);
    assert_eq!(s.blocks[0].0, SmbiosBlock::Bios, "libvirt's order");
    reject(
        &doc("<sysinfo type='smbios'><bios/><bios/></sysinfo>", ""),
        Invalid,
        "element <bios> given more than once, again at 5:",
    );
}

/// `<sysinfo type='fwcfg'>` beside the SMBIOS one: entries named
/// `opt/...` (QEMU's and the firmware's own refused), each a text or a
/// file.
#[test]
fn fw_cfg_entries() {
    let with = |entries: &str| {
        doc(
            "<sysinfo type='smbios'><system><entry name='serial'>S1</entry></system></sysinfo>",
            "",
        )
        .replace(
            "</devices>",
            &format!("</devices><sysinfo type='fwcfg'>{entries}</sysinfo>"),
        )
    };
    let d = accept(&with(
        "<entry name='opt/com.coreos/config' file='/var/lib/i.ign'/><entry name='opt/x'>text</entry>",
    ));
    assert_eq!(d.fw_cfg.len(), 2);
    assert!(d.sysinfo.is_some(), "the SMBIOS tables stay");
    assert_eq!(d.fw_cfg[1].value.as_deref(), Some("text"));
    reject(
        &with("<entry name='etc/x'>v</entry>"),
        Invalid,
        "Invalid firmware name",
    );
    reject(
        &with("<entry name='opt/org.qemu/x'>v</entry>"),
        Invalid,
        "reserved",
    );
    reject(
        &with("<entry name='opt/x'/>"),
        Invalid,
        "either value or 'file'",
    );
    reject(
        &with("<entry name='opt/x' file='rel.ign'/>"),
        Invalid,
        "absolute",
    );
}

/// `<genid>`: a GUID as written, or for an empty element a random one,
/// which the definition then keeps (as libvirt does).
#[test]
fn genid() {
    let with = |g: &str| doc("", "").replace("<devices>", &format!("{g}<devices>"));
    let d = accept(&with("<genid>43dc0cf8-809b-4adb-9bea-a9abb5f3d90d</genid>"));
    assert_eq!(
        d.genid.unwrap().to_string(),
        "43dc0cf8-809b-4adb-9bea-a9abb5f3d90d"
    );
    let a = accept(&with("<genid/>")).genid.unwrap();
    let b = accept(&with("<genid/>")).genid.unwrap();
    assert_ne!(a, b, "each read of an empty genid draws its own");
    reject(&with("<genid>not-a-guid</genid>"), Invalid, "genid");
}

/// `<os><acpi><table type='slic'>`: one table, of type slic, from an
/// absolute path.
#[test]
fn acpi_slic_table() {
    let with = |acpi: &str| {
        doc_os(
            &format!("<type arch='x86_64' machine='pc'>hvm</type>{acpi}"),
            "",
            "",
        )
    };
    let d = accept(&with(
        "<acpi><table type='slic'>/var/lib/slic.dat</table></acpi>",
    ));
    assert_eq!(d.os.slic_table.as_deref(), Some("/var/lib/slic.dat"));
    reject(
        &with("<acpi><table type='slic'>slic.dat</table></acpi>"),
        Invalid,
        "absolute",
    );
    reject(
        &with("<acpi><table type='msdm'>/m.dat</table></acpi>"),
        Unsupported,
        "'msdm'",
    );
    reject(
        &with("<acpi><table type='slic'>/a</table><table type='slic'>/b</table></acpi>"),
        Invalid,
        "Only one acpi table",
    );
}

/// `<cpu><maxphysaddr>`: passthrough takes no bits, emulate needs them
/// (libvirt's rules).
#[test]
fn cpu_maxphysaddr() {
    let with = |m: &str| doc(&format!("<cpu mode='host-passthrough'>{m}</cpu>"), "");
    let d = accept(&with("<maxphysaddr mode='emulate' bits='42'/>"));
    assert_eq!(d.cpu.unwrap().max_phys_addr.unwrap().bits, Some(42));
    accept(&with("<maxphysaddr mode='passthrough'/>"));
    reject(
        &with("<maxphysaddr mode='passthrough' bits='39'/>"),
        Unsupported,
        "passthrough",
    );
    reject(
        &with("<maxphysaddr mode='emulate'/>"),
        Invalid,
        "bits= must be specified",
    );
}

/// `<iotune>`: the limits libvirt knows, a total not beside its read and
/// write parts, at most 10^15, a group only beside limits and with the
/// same limits on each of its disks; zero means not set.
#[test]
fn disk_iotune() {
    let disk = |dev: &str, tune: &str| {
        format!(
            "<disk type='file' device='disk'><source file='/i{dev}.img'/><target dev='{dev}' bus='virtio'/>\
             <iotune>{tune}</iotune></disk>"
        )
    };
    let d = accept(&doc(
        "",
        &disk(
            "vda",
            "<total_bytes_sec>1048576</total_bytes_sec><read_iops_sec>100</read_iops_sec>\
             <write_iops_sec>0</write_iops_sec><group_name>g</group_name>\
             <total_bytes_sec_max_length>5</total_bytes_sec_max_length>",
        ),
    ));
    let t = d.devices.disks[0].iotune.as_ref().unwrap();
    assert_eq!(t.get("total_bytes_sec"), 1_048_576);
    assert_eq!(t.get("write_iops_sec"), 0);
    assert_eq!(t.limits.len(), 3, "{:?}", t.limits);
    let bad = |tune: &str, why: &str| reject(&doc("", &disk("vda", tune)), Invalid, why);
    bad(
        "<total_iops_sec>5</total_iops_sec><read_iops_sec>5</read_iops_sec>",
        "cannot be set at the same time",
    );
    bad(
        "<total_bytes_sec>1000000000000001</total_bytes_sec>",
        "no more than",
    );
    bad("<group_name>g</group_name>", "only together with settings");
    bad("<total_bytes_sec>-1</total_bytes_sec>", "unsigned");
    reject(
        &doc(
            "",
            &(disk(
                "vda",
                "<total_bytes_sec>1</total_bytes_sec><group_name>g</group_name>",
            ) + &disk(
                "vdb",
                "<total_bytes_sec>2</total_bytes_sec><group_name>g</group_name>",
            )),
        ),
        Unsupported,
        "different iotunes",
    );
}

/// `<iommu model='intel'>`: Q35 only, no address, eim with intremap,
/// intremap with QEMU's I/O APIC; SMMUv3 refused by name (virtio's:
/// `iommu_virtio.rs`).
#[test]
fn iommu() {
    let q35 = |features: &str, devices: &str| {
        doc_os(
            "<type arch='x86_64' machine='q35'>hvm</type>",
            &format!("<features>{features}</features>"),
            devices,
        )
    };
    let d = accept(&q35(
        "<acpi/><ioapic driver='qemu'/>",
        "<iommu model='intel'><driver intremap='on' eim='on' aw_bits='48'/></iommu>",
    ));
    assert_eq!(d.devices.iommu.as_ref().unwrap().aw_bits, Some(48));
    reject(
        &q35(
            "<acpi/>",
            "<iommu model='intel'><driver intremap='on'/></iommu>",
        ),
        Unsupported,
        "split I/O APIC",
    );
    reject(
        &q35(
            "<acpi/><ioapic driver='qemu'/>",
            "<iommu model='intel'><driver eim='on'/></iommu>",
        ),
        Invalid,
        "eim requires interrupt remapping",
    );
    reject_at_define(
        &doc("", "<iommu model='intel'/>"),
        Unsupported,
        "only supported with Q35",
    );
    reject(
        &q35("<acpi/>", "<iommu model='smmuv3'/>"),
        Unsupported,
        "ARM",
    );
}

/// `<features><tcg><tb-cache>`: a whole number of MiB, for TCG domains
/// only; zero is no setting.
#[test]
fn tcg_tb_cache() {
    let with = |kind: &str, size: &str| {
        doc("", "")
            .replacen("type='kvm'", &format!("type='{kind}'"), 1)
            .replace(
                "<devices>",
                &format!("<features><tcg><tb-cache {size}</tb-cache></tcg></features><devices>"),
            )
    };
    let d = accept(&with("qemu", "unit='MiB'>128"));
    assert_eq!(d.features.tcg_tb_cache_kib, Some(128 * 1024));
    assert_eq!(
        accept(&with("qemu", "unit='MiB'>0"))
            .features
            .tcg_tb_cache_kib,
        None
    );
    reject(&with("qemu", "unit='KiB'>1000"), Invalid, "multiple of MiB");
    reject(
        &with("kvm", "unit='MiB'>128"),
        Unsupported,
        "incompatible with domain type",
    );
}

/// What QEMU's devices take, refused when the domain is defined (as
/// libvirt's qemu_validate.c refuses it): a LUN on SCSI only, without
/// an identity of its own; a WWN on IDE and SCSI;
/// a vendor and product on SCSI; no transitional vsock.
#[test]
fn device_rules_at_define() {
    let disk = |kind: &str, device: &str, bus: &str, dev: &str, inner: &str| {
        doc(
            "",
            &format!(
                "<disk type='{kind}' device='{device}'><source {}='/dev/sdz'/>\
                 <target dev='{dev}' bus='{bus}'/>{inner}</disk>",
                if kind == "block" { "dev" } else { "file" }
            ),
        )
    };
    let ok = crate::read_for_define(&disk("block", "lun", "scsi", "sda", ""));
    assert!(ok.is_ok(), "{ok:?}");
    for (xml, why) in [
        (
            disk("block", "lun", "virtio", "vda", ""),
            "only supported on bus='scsi'",
        ),
        (
            disk("block", "lun", "scsi", "sda", "<serial>S</serial>"),
            "serial property",
        ),
        (
            disk("block", "lun", "scsi", "sda", "<vendor>V</vendor>"),
            "not supported for lun device",
        ),
        (
            disk(
                "file",
                "disk",
                "virtio",
                "vda",
                "<wwn>0x5000c50015ea71ac</wwn>",
            ),
            "only ide and scsi disk support wwn",
        ),
        (
            disk("file", "disk", "ide", "hda", "<product>P</product>"),
            "only scsi disk supports vendor and product",
        ),
        (
            doc(
                "",
                "<vsock model='virtio-transitional'><cid address='5'/></vsock>",
            ),
            "no transitional vhost-vsock",
        ),
    ] {
        reject_at_define(&xml, Unsupported, why);
    }
}

/// libvirt's virDomainDiskDefSourceLUNValidate, a rule of the model: a
/// LUN's SCSI commands go to a host block device or an iSCSI target,
/// its bytes the device's own (raw, no slice, no encryption); any other
/// source is refused where the disk is.
#[test]
fn lun_sources() {
    let net = |protocol: &str, name: &str, inner: &str| {
        doc(
            "",
            &format!(
                "<controller type='scsi' model='virtio-scsi'/>\
                 <disk type='network' device='lun'>{inner}\
                 <source protocol='{protocol}' name='{name}'><host name='127.0.0.1' port='3260'/></source>\
                 <target dev='sda' bus='scsi'/></disk>"
            ),
        )
    };
    let iscsi = net("iscsi", "iqn.2026-12.org.qvirt:t/1", "");
    let d = accept(&iscsi);
    assert_eq!(d.devices.disks[0].device, qvirt::model::DiskDevice::Lun);
    assert!(crate::read_for_define(&iscsi).is_ok());
    assert!(round_trip(&d).contains("<disk type='network' device='lun'>"));
    for (xml, why) in [
        (
            net("nbd", "export", ""),
            "not supported for protocol='nbd', at 6:",
        ),
        (
            net(
                "iscsi",
                "iqn.2026-12.org.qvirt:t/1",
                "<driver name='qemu' type='qcow2'/>",
            ),
            "must use 'raw' format, at 6:",
        ),
        (
            doc(
                "",
                "<disk type='file' device='lun'><source file='/var/lib/x.img'/>\
                 <target dev='sda' bus='scsi'/></disk>",
            ),
            "only valid for block type disk source (or an iSCSI network source), not type='file', at 6:",
        ),
    ] {
        reject(&xml, Unsupported, why);
    }
    // On virtio-blk, an iSCSI LUN is refused as a block one is.
    reject_at_define(
        &iscsi.replace("dev='sda' bus='scsi'", "dev='vda' bus='virtio'"),
        Unsupported,
        "only supported on bus='scsi'",
    );
}
