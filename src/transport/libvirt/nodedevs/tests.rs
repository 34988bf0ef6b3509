//! Devices read from a copy of the kernel's layout.

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use super::*;

struct Tree {
    root: PathBuf,
}

impl Tree {
    fn new(tag: &str) -> Tree {
        let root =
            std::env::temp_dir().join(format!("qvirt-nodedevs-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        Tree { root }
    }

    /// Files under `dir` (relative to the root).
    fn files(&self, dir: &str, files: &[(&str, &str)]) -> PathBuf {
        let d = self.root.join(dir);
        std::fs::create_dir_all(&d).unwrap();
        for (f, v) in files {
            let p = d.join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, format!("{v}\n")).unwrap();
        }
        d
    }

    /// A link at `at` to `to` (both relative to the root).
    fn link(&self, at: &str, to: &str) {
        let at = self.root.join(at);
        std::fs::create_dir_all(at.parent().unwrap()).unwrap();
        symlink(self.root.join(to), at).unwrap();
    }

    fn host(&self) -> DevHost {
        DevHost {
            root: self.root.clone(),
        }
    }
}

impl Drop for Tree {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

fn sample(t: &Tree) {
    let pci = "sys/devices/pci0000:00/0000:00:1f.2";
    t.files(
        pci,
        &[
            (
                "uevent",
                "DRIVER=ahci\nPCI_CLASS=10601\nPCI_SLOT_NAME=0000:00:1f.2",
            ),
            ("vendor", "0x8086"),
            ("device", "0x2922"),
            ("numa_node", "-1"),
        ],
    );
    t.link("sys/bus/pci/devices/0000:00:1f.2", pci);
    t.link(&format!("{pci}/iommu_group"), "sys/kernel/iommu_groups/7");
    t.files("sys/kernel/iommu_groups/7/devices", &[]);
    t.link("sys/kernel/iommu_groups/7/devices/0000:00:1f.2", pci);
    t.link("sys/kernel/iommu_groups/7/devices/0000:00:1f.0", pci);
    let net = format!("{pci}/virtio3/net/eth0");
    t.files(
        &net,
        &[
            ("uevent", "INTERFACE=eth0\nIFINDEX=2"),
            ("address", "52:54:00:12:34:56"),
            ("operstate", "up"),
            ("speed", "1000"),
            ("mtu", "1500"),
        ],
    );
    t.link("sys/class/net/eth0", &net);
    let br = "sys/devices/virtual/net/br0";
    t.files(br, &[("uevent", "DEVTYPE=bridge\nINTERFACE=br0")]);
    t.link("sys/class/net/br0", br);
    let vda = format!("{pci}/virtio1/block/vda");
    t.files(
        &vda,
        &[
            ("uevent", "MAJOR=254\nMINOR=0\nDEVNAME=vda\nDEVTYPE=disk"),
            ("dev", "254:0"),
            ("size", "2048"),
            ("queue/logical_block_size", "512"),
        ],
    );
    t.link("sys/class/block/vda", &vda);
    let loop0 = "sys/devices/virtual/block/loop0";
    t.files(
        loop0,
        &[("uevent", "DEVNAME=loop0\nDEVTYPE=disk"), ("dev", "7:0")],
    );
    t.link("sys/class/block/loop0", loop0);
    let usb = "sys/devices/pci0000:00/0000:00:1d.0/usb2/2-1";
    t.files(
        usb,
        &[
            (
                "uevent",
                "DEVTYPE=usb_device\nDRIVER=usb\nBUSNUM=002\nDEVNUM=003\nDEVNAME=bus/usb/002/003",
            ),
            ("idVendor", "0627"),
            ("idProduct", "0001"),
            ("product", "QEMU USB Tablet"),
            ("manufacturer", "QEMU"),
        ],
    );
    t.link("sys/bus/usb/devices/2-1", usb);
    let usbif = format!("{usb}/2-1:1.0");
    t.files(
        &usbif,
        &[
            ("uevent", "DEVTYPE=usb_interface\nDRIVER=usbhid"),
            ("bInterfaceNumber", "00"),
            ("bInterfaceClass", "03"),
            ("bInterfaceSubClass", "00"),
            ("bInterfaceProtocol", "02"),
        ],
    );
    t.link("sys/bus/usb/devices/2-1:1.0", &usbif);
    t.files(
        "usr/share/misc",
        &[(
            "pci.ids",
            "# comment\n8086  Intel Corporation\n\t2922  82801IR/IO/IH (ICH9R/DO/DH) 6 port SATA Controller [AHCI mode]\n\t\t1af4 1100  QEMU Virtual Machine\nC 01  Mass storage controller\n\t06  SATA controller",
        )],
    );
}

#[test]
fn devices_are_named_and_parented_as_libvirt_does() {
    let t = Tree::new("names");
    sample(&t);
    let host = t.host();
    let devs = host.devices();
    let names: Vec<(&str, Option<&str>)> = devs
        .iter()
        .map(|d| (d.name.as_str(), d.parent.as_deref()))
        .collect();
    assert_eq!(
        names,
        [
            ("computer", None),
            ("block_vda", Some("pci_0000_00_1f_2")),
            ("net_eth0_52_54_00_12_34_56", Some("pci_0000_00_1f_2")),
            ("pci_0000_00_1f_2", Some("computer")),
            ("usb_2_1", Some("computer")),
            ("usb_2_1_1_0", Some("usb_2_1")),
        ]
    );
    let pci = device(&host, "pci_0000_00_1f_2").unwrap();
    assert_eq!(
        format::device_xml(&host, &pci),
        "<device>\n  <name>pci_0000_00_1f_2</name>\n  \
         <path>/sys/devices/pci0000:00/0000:00:1f.2</path>\n  <parent>computer</parent>\n  \
         <driver>\n    <name>ahci</name>\n  </driver>\n  <capability type='pci'>\n    \
         <class>0x010601</class>\n    <domain>0</domain>\n    <bus>0</bus>\n    \
         <slot>31</slot>\n    <function>2</function>\n    \
         <product id='0x2922'>82801IR/IO/IH (ICH9R/DO/DH) 6 port SATA Controller [AHCI mode]</product>\n    \
         <vendor id='0x8086'>Intel Corporation</vendor>\n    <iommuGroup number='7'>\n      \
         <address domain='0x0000' bus='0x00' slot='0x1f' function='0x0'/>\n      \
         <address domain='0x0000' bus='0x00' slot='0x1f' function='0x2'/>\n    \
         </iommuGroup>\n  </capability>\n</device>\n"
    );
    let net = device(&host, "net_eth0_52_54_00_12_34_56").unwrap();
    let xml = format::device_xml(&host, &net);
    assert!(
        xml.contains(
            "<capability type='net'>\n    <interface>eth0</interface>\n    \
             <address>52:54:00:12:34:56</address>\n    <link speed='1000' state='up'/>\n    \
             <capability type='80203'/>\n  </capability>"
        ),
        "{xml}"
    );
    let vda = format::device_xml(&host, &device(&host, "block_vda").unwrap());
    assert!(
        vda.contains("<devnode type='dev'>/dev/vda</devnode>")
            && vda.contains(
                "<block>/dev/vda</block>\n    <drive_type>disk</drive_type>\n    \
                 <size>1048576</size>\n    <logical_block_size>512</logical_block_size>\n    \
                 <num_blocks>2048</num_blocks>"
            ),
        "{vda}"
    );
    let usb = format::device_xml(&host, &device(&host, "usb_2_1").unwrap());
    assert!(
        usb.contains(
            "<bus>2</bus>\n    <device>3</device>\n    \
             <product id='0x0001'>QEMU USB Tablet</product>\n    <vendor id='0x0627'>QEMU</vendor>"
        ) && usb.contains("<devnode type='dev'>/dev/bus/usb/002/003</devnode>"),
        "{usb}"
    );
    let usbif = format::device_xml(&host, &device(&host, "usb_2_1_1_0").unwrap());
    assert!(
        usbif.contains("<number>0</number>\n    <class>3</class>\n    <subclass>0</subclass>\n    <protocol>2</protocol>"),
        "{usbif}"
    );
    let computer = format::device_xml(&host, &device(&host, "computer").unwrap());
    assert_eq!(
        computer,
        "<device>\n  <name>computer</name>\n  <capability type='system'>\n    <hardware>\n      \
         <uuid>00000000-0000-0000-0000-000000000000</uuid>\n    </hardware>\n    \
         <firmware>\n    </firmware>\n  </capability>\n</device>\n"
    );
}

#[test]
fn the_lists_filter_by_capability() {
    let t = Tree::new("filters");
    sample(&t);
    let host = t.host();
    let all = |flags| {
        list_all_on(
            &host,
            ListAllArgs {
                need_results: 1,
                flags,
            },
        )
        .unwrap()
        .devices
        .into_iter()
        .map(|d| d.name)
        .collect::<Vec<_>>()
    };
    assert_eq!(all(2), ["pci_0000_00_1f_2"]);
    assert_eq!(all(4 | 8), ["usb_2_1", "usb_2_1_1_0"]);
    assert_eq!(all(1 << 31).len(), 6);
    assert!(all(1 << 30).is_empty());
    assert_eq!(names_with(&host, Some("storage")), ["block_vda"]);
    assert!(names_with(&host, Some("scsi_host")).is_empty());
    let e = device(&host, "pci_0000_00_1f_3").unwrap_err();
    assert_eq!(
        e.message,
        "Node device not found: no node device with matching name 'pci_0000_00_1f_3'"
    );
    assert!(
        list_all_on(
            &host,
            ListAllArgs {
                need_results: 1,
                flags: 1 << 25
            }
        )
        .is_err()
    );
}

#[test]
fn a_pci_express_link_is_read_from_the_configuration_space() {
    let mut config = vec![0u8; 256];
    config[0x06] = 0x10;
    config[0x34] = 0x40;
    config[0x40] = 0x05; // MSI, then
    config[0x41] = 0x60;
    config[0x60] = 0x10; // PCI Express, an endpoint
    config[0x62] = 0x02;
    config[0x60 + 0x0c..0x60 + 0x10]
        .copy_from_slice(&(0x0300_0000u32 | (4 << 4) | 3).to_le_bytes());
    config[0x60 + 0x12..0x60 + 0x14].copy_from_slice(&((1u16 << 4) | 1).to_le_bytes());
    let t = Tree::new("pcie");
    let dir: &Path = &t.files("dev", &[]);
    std::fs::write(dir.join("config"), &config).unwrap();
    let p = read_pci::pci(&t.root, dir, read::PciAddr::default(), None, 1, 2);
    if nix::unistd::geteuid().is_root() {
        assert_eq!(
            p.pcie,
            Some(Some((
                read::PcieLink {
                    port: Some(3),
                    speed: 3,
                    width: 4
                },
                read::PcieLink {
                    port: None,
                    speed: 1,
                    width: 1
                }
            )))
        );
    } else {
        assert_eq!(p.pcie, None, "only root reads the configuration space");
    }
}

#[test]
fn a_sata_disk_hangs_under_its_scsi_device_target_and_host() {
    let t = Tree::new("scsi");
    let ahci = "sys/devices/pci0000:00/0000:00:1f.2";
    t.files(
        ahci,
        &[
            ("uevent", "DRIVER=ahci\nPCI_CLASS=10601"),
            ("vendor", "0x8086"),
            ("device", "0x2922"),
        ],
    );
    t.link("sys/bus/pci/devices/0000:00:1f.2", ahci);
    let host = format!("{ahci}/ata1/host0");
    t.files(&host, &[("uevent", "DEVTYPE=scsi_host")]);
    t.link("sys/bus/scsi/devices/host0", &host);
    t.files("sys/class/scsi_host/host0", &[("unique_id", "1")]);
    let target = format!("{host}/target0:0:0");
    t.files(&target, &[("uevent", "DEVTYPE=scsi_target")]);
    t.link("sys/bus/scsi/devices/target0:0:0", &target);
    let lun = format!("{target}/0:0:0:0");
    t.files(
        &lun,
        &[
            ("uevent", "DEVTYPE=scsi_device\nDRIVER=sd"),
            ("type", "0"),
            ("vendor", "ATA     "),
            ("model", "QEMU HARDDISK   "),
        ],
    );
    t.link("sys/bus/scsi/devices/0:0:0:0", &lun);
    let sda = format!("{lun}/block/sda");
    t.files(
        &sda,
        &[
            ("uevent", "DEVNAME=sda\nDEVTYPE=disk"),
            ("dev", "8:0"),
            ("size", "8"),
            ("queue/logical_block_size", "512"),
        ],
    );
    t.link("sys/class/block/sda", &sda);
    t.link(&format!("{sda}/device"), &lun);
    let sg = format!("{lun}/scsi_generic/sg0");
    t.files(&sg, &[("uevent", "MAJOR=21\nMINOR=0\nDEVNAME=sg0")]);
    t.link("sys/class/scsi_generic/sg0", &sg);
    let gpu = "sys/devices/pci0000:00/0000:00:02.0";
    for (minor, node) in [("0", "card0"), ("128", "renderD128")] {
        let dir = format!("{gpu}/drm/{node}");
        t.files(
            &dir,
            &[(
                "uevent",
                &format!("MAJOR=226\nMINOR={minor}\nDEVNAME=dri/{node}\nDEVTYPE=drm_minor"),
            )],
        );
        t.link(&format!("sys/class/drm/{node}"), &dir);
    }
    t.files(
        &format!("{gpu}/drm/card0-HDMI-A-1"),
        &[("uevent", "DEVTYPE=drm_connector")],
    );
    t.link(
        "sys/class/drm/card0-HDMI-A-1",
        &format!("{gpu}/drm/card0-HDMI-A-1"),
    );
    // udev's database tells the disk's kind and serial.
    t.files(
        "run/udev/data",
        &[(
            "b8:0",
            "S:disk/by-id/ata-QEMU_HARDDISK_QM00001\nE:ID_TYPE=disk\nE:ID_BUS=ata\nE:ID_SERIAL=QEMU_HARDDISK_QM00001",
        )],
    );
    let host = t.host();
    let parents: Vec<(String, Option<String>)> = host
        .devices()
        .into_iter()
        .map(|d| (d.name, d.parent))
        .collect();
    let want = [
        ("computer", None),
        ("block_sda_QEMU_HARDDISK_QM00001", Some("scsi_0_0_0_0")),
        ("drm_card0", Some("computer")),
        ("drm_renderD128", Some("computer")),
        ("pci_0000_00_1f_2", Some("computer")),
        ("scsi_0_0_0_0", Some("scsi_target0_0_0")),
        ("scsi_generic_sg0", Some("scsi_0_0_0_0")),
        ("scsi_host0", Some("pci_0000_00_1f_2")),
        ("scsi_target0_0_0", Some("scsi_host0")),
    ];
    let want: Vec<(String, Option<String>)> = want
        .iter()
        .map(|(n, p)| (n.to_string(), p.map(str::to_string)))
        .collect();
    assert_eq!(parents, want);
    let xml = |n: &str| format::device_xml(&host, &device(&host, n).unwrap());
    assert!(
        xml("scsi_host0").contains(
            "<capability type='scsi_host'>\n    <host>0</host>\n    <unique_id>1</unique_id>\n"
        ),
        "{}",
        xml("scsi_host0")
    );
    assert!(xml("scsi_target0_0_0").contains("<target>target0:0:0</target>"));
    assert!(
        xml("scsi_generic_sg0")
            .contains("<capability type='scsi_generic'>\n    <char>/dev/sg0</char>")
    );
    let render = xml("drm_renderD128");
    assert!(
        render.contains("<devnode type='dev'>/dev/dri/renderD128</devnode>")
            && render.contains("<capability type='drm'>\n    <type>render</type>"),
        "{render}"
    );
    let lun = xml("scsi_0_0_0_0");
    assert!(
        lun.contains("<host>0</host>\n    <bus>0</bus>\n    <target>0</target>\n    <lun>0</lun>\n    <type>disk</type>")
            && lun.contains("<name>sd</name>"),
        "{lun}"
    );
    let sda = xml("block_sda_QEMU_HARDDISK_QM00001");
    assert!(
        sda.contains("<devnode type='link'>/dev/disk/by-id/ata-QEMU_HARDDISK_QM00001</devnode>")
            && sda.contains(
                "<block>/dev/sda</block>\n    <bus>ata</bus>\n    <drive_type>disk</drive_type>\n    \
                 <model>QEMU HARDDISK</model>\n    <vendor>ATA</vendor>\n    \
                 <serial>QEMU_HARDDISK_QM00001</serial>\n    <size>4096</size>"
            ),
        "{sda}"
    );
}
