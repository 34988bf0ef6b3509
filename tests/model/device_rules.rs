//! One test per validation rule of devices: disks, addresses, controllers,
//! inputs, video, boot order, serial ports, port forwards, network names
//! and graphics.

use qvirt::model::{ModelErrorKind, PanicModel};

use crate::{accept, doc, doc_os, reject, reject_at_define};

use ModelErrorKind::{Invalid, Unsupported};

const Q35: &str = "<type arch='x86_64' machine='q35'>hvm</type>";

#[test]
fn disk_rules() {
    let disk = |src: &str, tgt: &str| {
        format!("<disk type='file' device='disk'><source file='{src}'/><target {tgt}/></disk>")
    };
    reject(
        &doc(
            "",
            &(disk("/tmp/a.img", "dev='sda' bus='sata'")
                + &disk("/tmp/b.img", "dev='sda' bus='scsi'")),
        ),
        Invalid,
        "target 'sda' duplicated for disk sources '/tmp/a.img' and '/tmp/b.img'",
    );
    let d = accept(&doc(
        "",
        &(disk("/a", "dev='hdb'") + &disk("/b", "dev='vdb'") + &disk("/c", "dev='sdc'")),
    ));
    let buses: Vec<_> = d.devices.disks.iter().map(|x| x.effective_bus()).collect();
    use qvirt::model::DiskBus::*;
    assert_eq!(buses, [Some(Ide), Some(Virtio), Some(Scsi)]);
    assert!(
        d.devices.disks.iter().all(|x| x.bus.is_none()),
        "bus stays as written"
    );
    accept(&doc("", &disk("/a", "dev='sda' bus='virtio'")));
    reject(
        &doc("", &disk("/a", "dev='xvda'")),
        Unsupported,
        "cannot be derived",
    );
    reject(
        &doc("", &disk("/a", "dev='nvme0'")),
        Invalid,
        "invalid disk target name",
    );
    reject(
        &doc("", &disk("/a", "dev='fda' bus='fdc'")),
        Invalid,
        "Invalid harddisk device name",
    );
    reject(
        &doc("", &disk("relative.img", "dev='vda'")),
        Invalid,
        "not an absolute path",
    );
    reject(
        &doc("", &disk("/tmp/a&#10;b", "dev='vda'")),
        Invalid,
        "disk 'vda' source path",
    );
    reject(
        &doc("", &disk("/tmp/a&#10;b", "dev='vda'")),
        Invalid,
        "control character",
    );
    reject(
        &doc(
            "",
            "<disk type='file' device='disk'><target dev='vda'/></disk>",
        ),
        Invalid,
        "has no source",
    );
    accept(&doc(
        "",
        "<disk type='file' device='cdrom'><target dev='hdc'/></disk>",
    ));
    reject(
        &doc("", "<disk type='block'><source dev='/dev/sr0'/></disk>"),
        Invalid,
        "missing target information for disk /dev/sr0",
    );
    let floppy =
        "<disk type='file' device='floppy'><source file='/f.img'/><target dev='fda'/></disk>";
    accept(&doc_os(Q35, "", floppy));
    reject(
        &doc_os("<type machine='microvm'>hvm</type>", "", floppy),
        Invalid,
        "microvm",
    );
    reject(
        &doc(
            "",
            "<disk type='file' device='floppy'><source file='/f'/><target dev='fda' bus='ide'/></disk>",
        ),
        Invalid,
        "for floppy disk",
    );
    reject(
        &doc(
            "",
            "<disk device='cdrom'><target dev='vdc' bus='virtio'/></disk>",
        ),
        Invalid,
        "cdrom",
    );
    reject_at_define(
        &doc_os(Q35, "", &disk("/a", "dev='hda' bus='ide'")),
        Invalid,
        "no IDE",
    );
    reject(
        &doc(
            "",
            "<disk><source file='/a'/><target dev='hda'/><readonly/></disk>",
        ),
        Unsupported,
        "readonly ide",
    );
    reject(
        &doc(
            "",
            "<disk><source file='/a'/><target dev='vda'/><serial>a/b</serial></disk>",
        ),
        Invalid,
        "serial",
    );
}

#[test]
fn panic_address_rules() {
    let d = accept(&doc(
        "",
        "<panic model='pvpanic'><address type='pci' domain='0x0000' bus='0x00' slot='0x07' function='0x0'/></panic><panic model='isa'><address type='isa' iobase='0x505'/></panic>",
    ));
    assert!(d.devices.panics[0].address.is_some());
    assert_eq!(d.devices.panics[1].iobase, Some(0x505));
    reject(
        &doc(
            "",
            "<panic model='pvpanic'><address type='isa' iobase='0x505'/></panic>",
        ),
        Unsupported,
        "'isa'",
    );
    reject(
        &doc(
            "",
            "<panic><address type='pci' domain='0x0000' bus='0x00' slot='0x07' function='0x0'/></panic>",
        ),
        Unsupported,
        "only an ISA address",
    );
}

#[test]
fn egl_headless_rules() {
    let d = accept(&doc(
        "",
        "<graphics type='vnc'/><graphics type='egl-headless'><gl rendernode='/dev/dri/renderD128'/></graphics>",
    ));
    assert_eq!(
        d.devices.egl_headless.unwrap().rendernode.as_deref(),
        Some("/dev/dri/renderD128")
    );
    assert_eq!(d.devices.graphics.len(), 1);
    let d = accept(&doc("", "<graphics type='egl-headless'/>"));
    assert_eq!(d.devices.egl_headless.unwrap().rendernode, None);
    reject(
        &doc(
            "",
            "<graphics type='egl-headless'/><graphics type='egl-headless'/>",
        ),
        Invalid,
        "graphics",
    );
    reject(
        &doc(
            "",
            "<graphics type='egl-headless'><gl rendernode='dri/renderD128'/></graphics>",
        ),
        Invalid,
        "render node",
    );
}

#[test]
fn graphics_listen_network_rules() {
    let d = accept(&doc(
        "",
        "<graphics type='spice' autoport='yes'><listen type='network' network='vdsm-ovirtmgmt'/></graphics>",
    ));
    assert_eq!(
        d.devices.graphics[0].listens,
        [qvirt::model::GraphicsListen::Network(
            "vdsm-ovirtmgmt".into()
        )]
    );
    reject(
        &doc(
            "",
            "<graphics type='vnc'><listen type='network'/></graphics>",
        ),
        Invalid,
        "network",
    );
}

#[test]
fn graphics_password_expiry_rules() {
    let d = accept(&doc(
        "",
        "<graphics type='spice' passwd='x' passwdValidTo='2026-12-05T23:01:02'/>",
    ));
    assert_eq!(d.devices.graphics[0].passwd_valid_to, Some(1_796_511_662));
    for bad in ["2026-12-05", "2026-02-30T00:00:00", "tomorrow"] {
        reject(
            &doc(
                "",
                &format!("<graphics type='vnc' passwd='x' passwdValidTo='{bad}'/>"),
            ),
            Invalid,
            "passwdValidTo",
        );
    }
}

#[test]
fn interface_bandwidth_rules() {
    let d = accept(&doc(
        "",
        "<interface type='bridge'><source bridge='br0'/><bandwidth><inbound average='1000' peak='5000' burst='1024'/><outbound average='128'/></bandwidth></interface>\
         <interface type='ethernet'><bandwidth/></interface>",
    ));
    let b = d.devices.interfaces[0].bandwidth.unwrap();
    assert_eq!(b.inbound.unwrap().peak, Some(5000));
    assert_eq!(b.outbound.unwrap().average, 128);
    assert_eq!(
        d.devices.interfaces[1].bandwidth, None,
        "an empty <bandwidth/> sets nothing"
    );
    reject(
        &doc(
            "",
            "<interface type='user'><bandwidth><inbound average='10'/></bandwidth></interface>",
        ),
        Unsupported,
        "type 'user'",
    );
    reject(
        &doc(
            "",
            "<interface type='bridge'><source bridge='br0'/><bandwidth><outbound peak='10'/></bandwidth></interface>",
        ),
        Invalid,
        "Missing mandatory average",
    );
    reject(
        &doc(
            "",
            "<interface type='bridge'><source bridge='br0'/><bandwidth><inbound average='10' floor='5'/></bandwidth></interface>",
        ),
        Unsupported,
        "floor",
    );
    reject(
        &doc(
            "",
            "<interface type='bridge'><source bridge='br0'/><virtualport type='openvswitch'/><bandwidth><inbound average='10'/></bandwidth></interface>",
        ),
        Unsupported,
        "Open vSwitch",
    );
}

#[test]
fn tcp_chardev_rules() {
    let d = accept(&doc(
        "",
        "<serial type='tcp'><source mode='connect' host='10.0.0.1' service='9001'><reconnect enabled='yes' timeout='5'/></source><protocol type='telnet'/></serial>\
         <serial type='tcp'><source mode='bind' service='4555'/></serial>",
    ));
    assert_eq!(
        d.devices.serials[0].source,
        qvirt::model::CharSource::Tcp {
            host: Some("10.0.0.1".into()),
            service: 9001,
            listen: false,
            telnet: true,
            reconnect: Some(5),
            tls: None,
        }
    );
    for (bad, kind, what) in [
        ("<source mode='bind'/>", Invalid, "service"),
        ("<source service='0'/>", Invalid, "TCP port"),
        ("<source service='70000'/>", Invalid, "at most 65535"),
        (
            "<source mode='bind' service='1'><reconnect enabled='yes' timeout='5'/></source>",
            Invalid,
            "does not reconnect",
        ),
        (
            "<source service='1'><reconnect enabled='yes'/></source>",
            Invalid,
            "timeout",
        ),
        (
            "<source service='1'/><protocol type='tls'/>",
            Unsupported,
            "tls",
        ),
    ] {
        reject(
            &doc("", &format!("<serial type='tcp'>{bad}</serial>")),
            kind,
            what,
        );
    }
}

#[test]
fn parallel_port_rules() {
    let d = accept(&doc(
        "",
        "<parallel type='file'><source path='/tmp/lpt'/><target port='0'/></parallel><parallel type='null'/>",
    ));
    assert_eq!(d.devices.parallels.len(), 2);
    reject(
        &doc("", "<parallel type='file'><source path='lpt'/></parallel>"),
        Invalid,
        "parallel source path",
    );
    reject(
        &doc("", "<parallel type='spicevmc'/>"),
        Unsupported,
        "'spicevmc'",
    );
}

#[test]
fn interface_mtu_rules() {
    let d = accept(&doc(
        "",
        "<interface type='bridge'><source bridge='br0'/><model type='virtio'/><mtu size='9000'/></interface>\
         <interface type='network'><source network='default'/><mtu size='1400'/></interface>",
    ));
    assert_eq!(d.devices.interfaces[0].mtu, Some(9000));
    assert_eq!(d.devices.interfaces[1].mtu, Some(1400));
    reject(
        &doc("", "<interface type='user'><mtu size='1400'/></interface>"),
        Unsupported,
        "setting MTU on interface type 'user' is not supported",
    );
    reject(
        &doc(
            "",
            "<interface type='direct'><source dev='eth0'/><mtu size='1400'/></interface>",
        ),
        Unsupported,
        "type 'direct'",
    );
    reject(
        &doc(
            "",
            "<interface type='ethernet'><mtu size='20'/></interface>",
        ),
        Invalid,
        "from 68 to 65535",
    );
}

#[test]
fn disk_snapshot_and_startup_policy_rules() {
    use qvirt::model::{SnapshotLocation, StartupPolicy};
    let d = accept(&doc(
        "",
        "<disk type='file' device='disk' snapshot='no'><source file='/a' startupPolicy='optional'/><target dev='vda'/></disk>\
         <disk type='file' device='cdrom' snapshot='no'><source file='/b.iso' startupPolicy='requisite'/><target dev='hdc'/><readonly/></disk>\
         <disk type='file' device='floppy'><source startupPolicy='mandatory'/><target dev='fda'/></disk>\
         <disk type='volume' device='disk' snapshot='external'><source pool='p' volume='v' startupPolicy='optional'/><target dev='vdb'/></disk>",
    ));
    let disks = &d.devices.disks;
    assert_eq!(disks[0].snapshot, Some(SnapshotLocation::No));
    assert_eq!(disks[0].startup_policy, Some(StartupPolicy::Optional));
    // A read-only disk is never in a snapshot: libvirt's default, not written.
    assert_eq!(disks[1].snapshot, None);
    assert_eq!(disks[1].startup_policy, Some(StartupPolicy::Requisite));
    assert_eq!(disks[2].source, None);
    assert_eq!(disks[2].startup_policy, Some(StartupPolicy::Mandatory));
    assert_eq!(disks[3].snapshot, Some(SnapshotLocation::External));
    reject(
        &doc(
            "",
            "<disk device='disk'><source file='/a' startupPolicy='requisite'/><target dev='vda'/></disk>",
        ),
        Invalid,
        "startupPolicy 'requisite' is allowed only for cdrom or floppy",
    );
    reject(
        &doc(
            "",
            "<disk type='network'><source protocol='nbd' name='x' startupPolicy='optional'><host name='h'/></source><target dev='vda'/></disk>",
        ),
        Unsupported,
        "startupPolicy",
    );
    let d = accept(&doc(
        "",
        "<disk><source file='/a'><seclabel model='dac' relabel='no'/><seclabel relabel='no'/></source><target dev='vda'/></disk>",
    ));
    assert_eq!(
        d.devices.disks[0].norelabel,
        [Some("dac".to_string()), None]
    );
    for (label, kind, what) in [
        (
            "<seclabel model='selinux'><label>system_u:object_r:svirt_image_t:s0</label></seclabel>",
            Unsupported,
            "no security driver",
        ),
        (
            "<seclabel model='smack' relabel='no'/>",
            Unsupported,
            "security model",
        ),
    ] {
        reject(
            &doc(
                "",
                &format!("<disk><source file='/a'>{label}</source><target dev='vda'/></disk>"),
            ),
            kind,
            what,
        );
    }
    reject(
        &doc(
            "",
            "<disk type='file'><source file='/o.qcow2'/><backingStore type='file'><format type='raw'/><source file='/b'><seclabel relabel='no'/></source></backingStore><target dev='vda'/></disk>",
        ),
        Unsupported,
        "<backingStore>",
    );
    reject(
        &doc(
            "",
            "<disk snapshot='manual'><source file='/a'/><target dev='vda'/></disk>",
        ),
        Unsupported,
        "'manual'",
    );
    reject(
        &doc(
            "",
            "<disk snapshot='sideways'><source file='/a'/><target dev='vda'/></disk>",
        ),
        Unsupported,
        "sideways",
    );
}

#[test]
fn address_rules() {
    let pci = |slot: &str, function: &str| {
        format!(
            "<address type='pci' domain='0x0000' bus='0x00' slot='{slot}' function='{function}'/>"
        )
    };
    let balloon = |a: &str| format!("<memballoon model='virtio'>{a}</memballoon>");
    let net = |a: &str| format!("<interface type='user'>{a}</interface>");
    reject(
        &doc(
            "",
            &(net(&pci("0x05", "0x0")) + &balloon(&pci("0x05", "0x0"))),
        ),
        Invalid,
        "Attempted double use of PCI Address 0000:00:05.0",
    );
    // slot 1 of a pc is the PIIX3: ISA, IDE, USB and power management;
    // QEMU's knowledge, checked at define, not the XML's.
    for f in 0..4 {
        reject_at_define(
            &doc("", &balloon(&pci("1", &f.to_string()))),
            Invalid,
            &format!("0000:00:01.{f}"),
        );
    }
    reject_at_define(&doc("", &balloon(&pci("0", "1"))), Invalid, "host bridge");
    // All zero is libvirt's "pick an address for me".
    let d = accept(&doc("", &balloon("<address type='pci'/>")));
    assert_eq!(d.devices.memballoon.unwrap().address, None);
    reject_at_define(
        &doc_os(Q35, "", &balloon(&pci("0x1f", "2"))),
        Invalid,
        "0000:00:1f.2",
    );
    accept(&doc_os(Q35, "", &balloon(&pci("0x1", "2"))));
    reject(
        &doc("", &balloon(&pci("0x20", "0"))),
        Invalid,
        "slot='0x20', must be <= 0x1F",
    );
    reject(
        &doc("", &balloon(&pci("3", "8"))),
        Invalid,
        "function=0x8, must be <= 7",
    );
    reject(
        &doc("", &balloon("<address type='pci' bus='0x100' slot='3'/>")),
        Invalid,
        "bus='0x100', must be <= 0xFF",
    );
    reject(
        &doc("", &balloon("<address type='pci' domain='1' slot='3'/>")),
        Invalid,
        "domain",
    );
    // C's base 0, as libvirt reads it: 010 is octal.
    let d = accept(&doc("", &balloon("<address type='pci' slot='010'/>")));
    assert!(d.to_xml().contains("slot='0x08'"));
    reject(
        &doc(
            "",
            "<disk><source file='/a'/><target dev='hda' bus='ide'/><address type='pci' slot='5'/></disk>",
        ),
        Invalid,
        "Invalid address type 'pci' for the disk 'hda' with the bus type 'ide'",
    );
    let drive = |t: &str, a: &str| {
        format!(
            "<disk><source file='/{t}'/><target dev='{t}' bus='sata'/><address type='drive' {a}/></disk>"
        )
    };
    reject(
        &doc_os(
            Q35,
            "",
            &(drive("sda", "unit='1'") + &drive("sdb", "unit='1'")),
        ),
        Invalid,
        "Found duplicate drive address for disk with target name 'sdb'",
    );
    reject(
        &doc_os(Q35, "", &drive("sda", "unit='6'")),
        Invalid,
        "unit='6' must be <= 5",
    );
    reject(
        &doc("", &net("<address type='drive'/>")),
        Invalid,
        "only 'pci'",
    );
    reject(
        &doc("", &net("<address type='usb' bus='0' port='1.2'/>")),
        Invalid,
        "only 'pci'",
    );
}

#[test]
fn usb_address_rules() {
    let tablet = |a: &str| format!("<input type='tablet' bus='usb'>{a}</input>");
    // No port: any free one, as libvirt reads it; written back without.
    let d = accept(&doc("", &tablet("<address type='usb' bus='0'/>")));
    assert!(d.to_xml().contains("<address type='usb' bus='0'/>"));
    reject(
        &doc(
            "",
            &(tablet("<address type='usb' bus='0' port='1'/>")
                + &tablet("<address type='usb' bus='0' port='1'/>")),
        ),
        Invalid,
        "double use of USB port 1",
    );
    reject(
        &doc("", &tablet("<address type='usb' bus='3' port='1'/>")),
        Invalid,
        "no USB controller with index 3",
    );
    // No bus is bus 0, as libvirt reads it; ports behind hubs are paths.
    let d = accept(&doc("", &tablet("<address type='usb' port='1.3'/>")));
    assert!(
        d.to_xml()
            .contains("<address type='usb' bus='0' port='1.3'/>")
    );
    reject(
        &doc(
            "",
            &tablet("<address type='usb' bus='0' port='1.2.3.4.5'/>"),
        ),
        Invalid,
        "at most 4 levels",
    );
    reject(
        &doc("", &tablet("<address type='pci' slot='4'/>")),
        Invalid,
        "address type",
    );
}

#[test]
fn controller_rules() {
    let ctl = |attrs: &str| format!("<controller {attrs}/>");
    reject(
        &doc(
            "",
            &(ctl("type='pci' index='1' model='pci-bridge'")
                + &ctl("type='pci' index='1' model='pci-bridge'")),
        ),
        Invalid,
        "Multiple 'pci' controllers with index '1'",
    );
    reject_at_define(
        &doc("", &ctl("type='pci' index='0' model='pcie-root'")),
        Invalid,
        "must be model='pci-root'",
    );
    reject_at_define(
        &doc_os(Q35, "", &ctl("type='pci' index='0' model='pci-root'")),
        Invalid,
        "must be model='pcie-root'",
    );
    reject(
        &doc(
            "",
            "<controller type='pci' index='0' model='pci-root'><address type='pci' slot='2'/></controller>",
        ),
        Invalid,
        "should not have an address",
    );
    reject(
        &doc("", &ctl("type='usb' index='0' model='nec-xhci' ports='16'")),
        Invalid,
        "up to '15' ports",
    );
    accept(&doc(
        "",
        &ctl("type='usb' index='0' model='nec-xhci' ports='15'"),
    ));
    reject(
        &doc(
            "",
            &(ctl("type='usb' model='none'") + "<input type='tablet' bus='usb'/>"),
        ),
        Invalid,
        "USB bus is disabled",
    );
    reject(
        &doc(
            "",
            "<controller type='usb' index='0' model='ich9-uhci1'><master startport='0'/></controller>",
        ),
        Invalid,
        "No master USB controller",
    );
    accept(&doc(
        "",
        &(ctl("type='usb' index='0' model='ich9-ehci1'")
            + &ctl("type='usb' index='0' model='ich9-uhci1'")),
    ));
    reject(
        &doc("", &ctl("type='usb' model='qusb1'")),
        Unsupported,
        "qusb1",
    );
    reject(
        &doc("", &ctl("type='pci' index='1'")),
        Invalid,
        "needs a model",
    );
    reject(
        &doc("", &ctl("type='ide' index='1'")),
        Invalid,
        "only one ide controller",
    );
    let d = accept(&doc(
        "",
        &(ctl("type='scsi' index='0'") + &ctl("type='scsi'") + &ctl("type='scsi'")),
    ));
    let idx: Vec<u32> = d.devices.controllers.iter().map(|c| c.index).collect();
    assert_eq!(
        idx,
        [0, 1, 2],
        "missing indexes are assigned as libvirt does"
    );
}

#[test]
fn input_and_video_rules() {
    reject(
        &doc(
            "",
            "<input type='keyboard' bus='virtio' model='virtio-non-transitional'/>",
        ),
        Invalid,
        "not supported for input type=keyboard",
    );
    accept(&doc(
        "",
        "<input type='passthrough' bus='virtio' model='virtio-transitional'><source evdev='/dev/input/event1'/></input>",
    ));
    reject(
        &doc("", "<input type='passthrough' bus='virtio'/>"),
        Invalid,
        "evdev",
    );
    reject(&doc("", "<input type='tablet' bus='ps2'/>"), Invalid, "bus");
    let d = accept(&doc(
        "",
        "<panic model='isa'><address type='isa' iobase='0x506'/></panic><panic model='hyperv'/><panic/>",
    ));
    let models: Vec<_> = d
        .devices
        .panics
        .iter()
        .map(|p| p.effective_model())
        .collect();
    assert_eq!(
        models,
        [PanicModel::Isa, PanicModel::Hyperv, PanicModel::Isa]
    );
    assert_eq!(d.devices.panics[0].iobase, Some(0x506));
    reject(&doc("", "<panic model='s390'/>"), Unsupported, "'s390'");
    reject(
        &doc("", "<panic><address type='pci' bus='0'/></panic>"),
        Unsupported,
        "ISA address",
    );
    reject(
        &doc("", "<panic><address type='isa' iobase='0x10000'/></panic>"),
        Invalid,
        "iobase",
    );
    let d = accept(&doc(
        "",
        "<input type='evdev'><source dev='/dev/input/event3' grab='all' grabToggle='meta-meta' repeat='off'/></input>",
    ));
    let i = &d.devices.inputs[0];
    assert_eq!(i.evdev.as_deref(), Some("/dev/input/event3"));
    assert!(i.evdev_options.grab_all);
    assert_eq!(i.evdev_options.repeat, Some(false));
    reject(&doc("", "<input type='evdev'/>"), Invalid, "source dev");
    reject(
        &doc(
            "",
            "<input type='evdev' bus='usb'><source dev='/dev/input/event3'/></input>",
        ),
        Invalid,
        "bus",
    );
    reject(
        &doc(
            "",
            "<input type='evdev'><source dev='/dev/input/event3' grab='some'/></input>",
        ),
        Invalid,
        "grab",
    );
    reject(
        &doc(
            "",
            "<input type='evdev'><source dev='/dev/input/event3' grabToggle='f12'/></input>",
        ),
        Unsupported,
        "grabToggle",
    );
    reject(
        &doc(
            "",
            "<input type='evdev'><source dev='input/event3'/></input>",
        ),
        Invalid,
        "source dev",
    );
    reject(
        &doc(
            "",
            "<video><model type='vga' primary='yes'/></video><video><model type='qxl' primary='yes'/></video>",
        ),
        Invalid,
        "Only one primary video",
    );
    reject(
        &doc("", "<video><model type='vga' ram='1024'/></video>"),
        Invalid,
        "only for qxl",
    );
    reject(
        &doc(
            "",
            "<video><model type='none'/></video><video><model type='vga'/></video>",
        ),
        Invalid,
        "'none' video",
    );
}

#[test]
fn boot_order_rules() {
    let dsk = |t: &str, o: &str| {
        format!("<disk><source file='/{t}'/><target dev='{t}'/><boot order='{o}'/></disk>")
    };
    reject(
        &doc("", &(dsk("vda", "1") + &dsk("vdb", "1"))),
        Invalid,
        "boot order '1' used for more than one device",
    );
    reject(
        &doc_os("<type>hvm</type><boot dev='hd'/>", "", &dsk("vda", "1")),
        Invalid,
        "per-device boot elements cannot be used together with os/boot elements",
    );
    reject(&doc("", &dsk("vda", "0")), Invalid, "boot order 0");
    accept(&doc(
        "",
        &(dsk("vda", "2") + "<interface type='user'><boot order='1'/></interface>"),
    ));
}

#[test]
fn serial_rules() {
    let s = |p: u32| format!("<serial type='pty'><target port='{p}'/></serial>");
    reject(
        &doc("", &(s(0) + &s(0))),
        Invalid,
        "duplicate serial target port 0",
    );
    reject(&doc("", &s(4)), Invalid, "ports are 0-3");
    reject(
        &doc("", "<serial type='file'/>"),
        Invalid,
        "missing <source path=...>",
    );
    let long = format!("/{}", "s".repeat(120));
    reject(
        &doc(
            "",
            &format!("<serial type='unix'><source path='{long}'/></serial>"),
        ),
        Invalid,
        "107 bytes",
    );
    reject(
        &doc(
            "",
            "<serial type='pty'><target type='spapr-vio-serial'/></serial>",
        ),
        Unsupported,
        "spapr-vio-serial",
    );
}

#[test]
fn port_forward_rules() {
    let pf = |body: &str| doc("", &format!("<interface type='user'>{body}</interface>"));
    let one = |r: &str| {
        pf(&format!(
            "<portForward proto='tcp'><range {r}/></portForward>"
        ))
    };
    let d = accept(&pf(
        "<portForward proto='tcp' address='127.0.0.1'><range start='2222' to='22'/></portForward>",
    ));
    let f = &d.devices.interfaces[0].port_forwards[0];
    assert_eq!(
        (f.ranges[0].start, f.ranges[0].end, f.ranges[0].to),
        (2222, None, Some(22))
    );
    accept(&one("start='8000' end='8010' to='9000'"));
    reject(&one("start='8010' end='8000'"), Invalid, "not a range");
    reject(&one("start='0'"), Invalid, "not a range");
    reject(
        &one("start='65000' end='65010' to='65530'"),
        Invalid,
        "past port 65535",
    );
    reject(&one("start='70000'"), Invalid, "at most 65535");
    reject(&pf("<portForward proto='tcp'/>"), Invalid, "no <range>");
    reject(
        &pf("<portForward proto='tcp' address='localhost'><range start='1'/></portForward>"),
        Invalid,
        "not an IP address",
    );
    reject(
        &pf(
            "<portForward proto='tcp'><range start='10' end='20'/><range start='15'/></portForward>",
        ),
        Invalid,
        "overlap",
    );
    accept(&pf(
        "<portForward proto='tcp'><range start='10'/></portForward><portForward proto='udp'><range start='10'/></portForward>",
    ));
    reject(
        &doc(
            "",
            "<interface type='ethernet'><portForward proto='tcp'><range start='1'/></portForward></interface>",
        ),
        Invalid,
        "only for interfaces of type 'user'",
    );
    reject(
        &pf("<portForward proto='sctp'><range start='1'/></portForward>"),
        Unsupported,
        "sctp",
    );
}

#[test]
fn tap_and_bridge_names_are_sane() {
    let tap = |n: &str| {
        doc(
            "",
            &format!("<interface type='ethernet'><target dev='{n}'/></interface>"),
        )
    };
    accept(&tap("tap-0.x_15bytes"));
    reject(&tap("a/b"), Invalid, "not a valid network device name");
    reject(
        &tap("sixteen-bytes-xx"),
        Invalid,
        "not a valid network device name",
    );
    reject(&tap(".."), Invalid, "not a valid network device name");
    reject(
        &doc(
            "",
            "<interface type='ethernet'><target dev='t0'/></interface><interface type='ethernet'><target dev='t0'/></interface>",
        ),
        Invalid,
        "used by another interface",
    );
    reject(
        &doc(
            "",
            "<interface type='user'><mac address='00:00:00:00:00:00'/></interface>",
        ),
        Invalid,
        "QEMU would pick another",
    );
    reject(
        &doc(
            "",
            "<interface type='bridge'><source bridge='br 0'/></interface>",
        ),
        Invalid,
        "bridge",
    );
    reject(
        &doc("", "<interface type='network'/>"),
        Invalid,
        "missing <source network=...>",
    );
}

#[test]
fn graphics_rules() {
    let g = |a: &str, body: &str| doc("", &format!("<graphics type='vnc' {a}>{body}</graphics>"));
    accept(&g("port='-1' autoport='yes'", ""));
    reject(&g("port='5899' autoport='no'", ""), Invalid, "[5900,65535]");
    reject(&g("autoport='no'", ""), Invalid, "needs a port");
    reject(
        &g(
            "listen='127.0.0.1'",
            "<listen type='address' address='::1'/>",
        ),
        Invalid,
        "must match",
    );
    reject(
        &doc("", "<graphics type='vnc'/><graphics type='vnc'/>"),
        Invalid,
        "only one",
    );
}
