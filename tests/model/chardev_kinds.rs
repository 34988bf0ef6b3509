//! Character devices on named pipes (`type='pipe'`), on a virtual
//! console (`type='vc'`), QEMU's vdagent (`type='qemu-vdagent'`), guestfwd
//! channels and PCI serial ports; a VNC display's `<audio>` and its
//! `socket` attribute: as libvirt reads and writes them.

use std::net::Ipv4Addr;

use qvirt::model::{ChannelTarget, CharSource, GraphicsListen, ModelErrorKind, SpiceMouseMode};

use crate::{accept, doc, reject, xmllint_validate};

#[test]
fn pipe_vc_vdagent_and_guestfwd_read_and_write_back() {
    let d = accept(&doc(
        "",
        "<serial type='pipe'><source path='/tmp/s'/><target port='0'/></serial>\
         <serial type='vc'><target type='pci-serial' port='1'><model name='pci-serial'/></target></serial>\
         <console type='vc'><target type='virtio' port='0'/></console>\
         <parallel type='pipe'><source path='/tmp/p'/><target port='0'/></parallel>\
         <interface type='user'><mac address='52:54:00:11:22:33'/></interface>\
         <channel type='pipe'><source path='/tmp/g'/><target type='guestfwd' address='10.0.2.1' port='4600'/></channel>\
         <channel type='qemu-vdagent'><source><clipboard copypaste='yes'/><mouse mode='client'/></source>\
         <target type='virtio' name='com.redhat.spice.0'/></channel>\
         <channel type='qemu-vdagent'><target type='virtio' name='org.example.vda'/></channel>\
         <channel type='pipe'><source path='/tmp/c'/><target type='virtio' name='org.example.pipe'/></channel>",
    ));
    let dv = &d.devices;
    assert_eq!(
        dv.serials[0].source,
        CharSource::Pipe {
            path: "/tmp/s".into()
        }
    );
    assert_eq!(dv.serials[1].source, CharSource::Vc);
    assert_eq!(dv.serials[1].target_type.as_deref(), Some("pci-serial"));
    assert_eq!(dv.consoles[0].source, CharSource::Vc);
    assert_eq!(
        dv.channels[0].target,
        ChannelTarget::Guestfwd {
            address: Ipv4Addr::new(10, 0, 2, 1),
            port: 4600
        }
    );
    assert_eq!(
        dv.channels[1].source,
        CharSource::QemuVdagent {
            clipboard: Some(true),
            mouse: Some(SpiceMouseMode::Client)
        }
    );
    assert_eq!(
        dv.channels[2].source,
        CharSource::QemuVdagent {
            clipboard: None,
            mouse: None
        }
    );
    let out = d.to_xml();
    for written in [
        "<serial type='vc'>",
        "<target type='guestfwd' address='10.0.2.1' port='4600'/>",
        "<clipboard copypaste='yes'/>",
        "<mouse mode='client'/>",
        "<channel type='qemu-vdagent'>\n      <target",
    ] {
        assert!(out.contains(written), "{written} not written:\n{out}");
    }
    let dir = crate::scratch_dir("chardev-kinds");
    let f = dir.join("kinds.xml");
    std::fs::write(&f, out).unwrap();
    xmllint_validate(&[f]);
}

#[test]
fn pipe_vdagent_and_guestfwd_rules() {
    use ModelErrorKind::{Invalid, Unsupported};
    reject(
        &doc("", "<serial type='pipe'><target port='0'/></serial>"),
        Invalid,
        "missing <source path=",
    );
    // Only a virtio port's socket may be made up.
    reject(
        &doc(
            "",
            "<channel type='unix'><target type='guestfwd' address='10.0.2.1' port='1'/></channel>",
        ),
        Invalid,
        "missing <source path=",
    );
    reject(
        &doc(
            "",
            "<channel type='pipe'><source path='/tmp/g'/><target type='guestfwd' address='fe80::1' port='1'/></channel>",
        ),
        Unsupported,
        "only supports IPv4",
    );
    reject(
        &doc(
            "",
            "<channel type='pipe'><source path='/tmp/g'/><target type='guestfwd' address='10.0.2.1'/></channel>",
        ),
        Invalid,
        "port",
    );
    reject(
        &doc(
            "",
            "<channel type='pipe'><source path='/tmp/g'/><target type='guestfwd' address='10.0.2.1' port='1' name='x'/></channel>",
        ),
        Unsupported,
        "name",
    );
    reject(
        &doc(
            "",
            "<channel type='qemu-vdagent'><target type='guestfwd' address='10.0.2.1' port='1'/></channel>",
        ),
        Unsupported,
        "cannot be a guestfwd target",
    );
    reject(
        &doc(
            "",
            "<channel type='pipe'><source path='/tmp/g'/><target type='guestfwd' address='10.0.2.1' port='1'/>\
             <address type='virtio-serial' controller='0' bus='0' port='2'/></channel>",
        ),
        Invalid,
        "takes no <address>",
    );
    reject(
        &doc(
            "",
            "<channel type='qemu-vdagent'><source><mouse mode='tablet'/></source><target type='virtio'/></channel>",
        ),
        Unsupported,
        "'tablet'",
    );
    reject(
        &doc(
            "",
            "<channel type='qemu-vdagent'><source><clipboard/></source><target type='virtio'/></channel>",
        ),
        Invalid,
        "copypaste",
    );
    // The vdagent speaks over a virtio port only.
    reject(
        &doc("", "<serial type='qemu-vdagent'/>"),
        Unsupported,
        "'qemu-vdagent'",
    );
    reject(
        &doc("", "<serial type='vc'><source path='/x'/></serial>"),
        Unsupported,
        "<source>",
    );
}

/// A PCI serial port's `<address type='pci'>`, which its serial console
/// repeats (as libvirt writes it).
#[test]
fn pci_serial_addresses() {
    let pci = "<address type='pci' domain='0x0000' bus='0x00' slot='0x04' function='0x0'/>";
    let d = accept(&doc(
        "",
        &format!(
            "<serial type='pty'><target type='pci-serial' port='0'/>{pci}</serial>\
             <console type='pty'><target type='serial' port='0'/>{pci}</console>"
        ),
    ));
    assert_eq!(d.devices.serials[0].pci().map(|a| a.slot), Some(4));
    let out = d.to_xml();
    assert_eq!(out.matches(pci).count(), 2, "{out}");
    let dir = crate::scratch_dir("pci-serial");
    let f = dir.join("pci-serial.xml");
    std::fs::write(&f, out).unwrap();
    xmllint_validate(&[f]);

    use ModelErrorKind::{Invalid, Unsupported};
    reject(
        &doc(
            "",
            &format!("<serial type='pty'><target port='0'/>{pci}</serial>"),
        ),
        Unsupported,
        "Target type 'isa-serial' requires address type 'isa'",
    );
    reject(
        &doc(
            "",
            "<serial type='pty'><target type='pci-serial'/><address type='isa' iobase='0x3f8'/></serial>",
        ),
        Unsupported,
        "Target type 'pci-serial' requires address type 'pci'",
    );
    reject(
        &doc(
            "",
            &format!(
                "<serial type='pty'><target type='pci-serial' port='0'/></serial>\
                 <console type='pty'><target type='serial' port='0'/>{pci}</console>"
            ),
        ),
        Invalid,
        "not that of PCI serial port 0",
    );
}

#[test]
fn usb_serial_ports_take_a_usb_address() {
    let usb = "<address type='usb' bus='0' port='2'/>";
    let d = accept(&doc(
        "",
        &format!(
            "<serial type='pty'><target type='usb-serial' port='0'><model name='usb-serial'/></target>{usb}</serial>\
             <serial type='pty'><target type='usb-serial' port='1'/></serial>"
        ),
    ));
    let port = d.devices.serials[0].usb().and_then(|a| a.port);
    assert_eq!(port.map(|p| p.to_string()).as_deref(), Some("2"));
    assert_eq!(d.devices.serials[1].address, None);
    let out = d.to_xml();
    assert!(out.contains(usb), "{out}");
    let dir = crate::scratch_dir("usb-serial");
    let f = dir.join("usb-serial.xml");
    std::fs::write(&f, out).unwrap();
    xmllint_validate(&[f]);

    use ModelErrorKind::Unsupported;
    // libvirt's virDomainChrDefParseXML and qemuValidateDomainChrTargetDef.
    reject(
        &doc(
            "",
            "<serial type='pty'><target type='usb-serial'/><address type='pci' domain='0x0000' bus='0x00' slot='0x04' function='0x0'/></serial>",
        ),
        Unsupported,
        "usb-serial requires address of usb type",
    );
    reject(
        &doc(
            "",
            &format!("<serial type='pty'><target type='pci-serial'/>{usb}</serial>"),
        ),
        Unsupported,
        "Target type 'pci-serial' requires address type 'pci'",
    );
    reject(
        &doc(
            "",
            &format!("<console type='pty'><target type='serial'/>{usb}</console>"),
        ),
        Unsupported,
        "unsupported value 'usb' for attribute type",
    );
}

#[test]
fn vnc_audio_and_socket_attribute() {
    let d = accept(&doc(
        "",
        "<graphics type='vnc' socket='/tmp/vnc.sock'><audio id='2'/></graphics>\
         <audio id='1' type='none'/><audio id='2' type='none'/>",
    ));
    let g = &d.devices.graphics[0];
    assert_eq!(g.audio, Some(2));
    assert_eq!(
        g.listens,
        [GraphicsListen::Socket(Some("/tmp/vnc.sock".into()))]
    );
    let out = d.to_xml();
    assert!(
        out.contains("<graphics type='vnc' socket='/tmp/vnc.sock'>")
            && out.contains("<listen type='socket' socket='/tmp/vnc.sock'/>")
            && out.contains("<audio id='2'/>"),
        "{out}"
    );
    // The attribute takes the place of a first address listen, and fills
    // in a socket listen without a path.
    for listen in [
        "<listen type='address' address='127.0.0.1'/>",
        "<listen type='socket'/>",
        "<listen type='socket' socket='/tmp/vnc.sock'/>",
    ] {
        let d = accept(&doc(
            "",
            &format!("<graphics type='vnc' socket='/tmp/vnc.sock'>{listen}</graphics>"),
        ));
        assert_eq!(
            d.devices.graphics[0].listens,
            [GraphicsListen::Socket(Some("/tmp/vnc.sock".into()))],
            "{listen}"
        );
    }
    let dir = crate::scratch_dir("vnc-audio-socket");
    let f = dir.join("vnc.xml");
    std::fs::write(&f, out).unwrap();
    xmllint_validate(&[f]);

    use ModelErrorKind::{Invalid, Unsupported};
    reject(
        &doc(
            "",
            "<graphics type='vnc' socket='/tmp/a'><listen type='socket' socket='/tmp/b'/></graphics>",
        ),
        Unsupported,
        "must match",
    );
    reject(
        &doc(
            "",
            "<graphics type='vnc' socket='/tmp/a'><listen type='none'/></graphics>",
        ),
        Unsupported,
        "<listen type='none'>",
    );
    reject(
        &doc("", "<graphics type='vnc'><audio id='3'/></graphics>"),
        Invalid,
        "no audio device with ID 3",
    );
    // With no <audio> written, the domain's one backend has id 1.
    accept(&doc(
        "",
        "<graphics type='vnc'><audio id='1'/></graphics><sound model='ich9'><audio id='1'/></sound>",
    ));
    reject(
        &doc("", "<graphics type='vnc'><audio id='0'/></graphics>"),
        Invalid,
        "from 1",
    );
    // SPICE carries the domain's sound itself; libvirt reads no <audio>
    // there, nor a socket attribute.
    reject(
        &doc(
            "",
            "<graphics type='spice'><audio id='1'/></graphics><audio id='1' type='none'/>",
        ),
        Unsupported,
        "<audio>",
    );
    reject(
        &doc("", "<graphics type='spice' socket='/tmp/s'/>"),
        Unsupported,
        "socket",
    );
}

/// A channel's host side may be any libvirt gives one: a file, a host
/// device, UDP, the null device, besides sockets and terminals; each
/// reads and writes back, and the command line gives the port its
/// chardev.
#[test]
fn channels_on_files_devices_udp_and_null() {
    let xml = doc(
        "",
        "<controller type='virtio-serial' index='0'/>\
         <channel type='file'><source path='/var/log/ch.out' append='on'/><target type='virtio' name='org.example.file'/></channel>\
         <channel type='dev'><source path='/dev/ttyS1'/><target type='virtio' name='org.example.dev'/></channel>\
         <channel type='udp'><source mode='bind' host='127.0.0.1' service='4444'/>\
         <source mode='connect' host='127.0.0.1' service='5555'/><target type='virtio' name='org.example.udp'/></channel>\
         <channel type='null'><target type='virtio' name='org.example.null'/></channel>",
    );
    let d = accept(&xml);
    let dir = crate::scratch_dir("chardev-channels");
    let f = dir.join("channels.xml");
    std::fs::write(&f, d.to_xml()).unwrap();
    xmllint_validate(&[f]);
    let c = &d.devices.channels;
    assert_eq!(
        c[0].source,
        CharSource::File {
            path: "/var/log/ch.out".into(),
            append: Some(true)
        }
    );
    assert_eq!(
        c[1].source,
        CharSource::Dev {
            path: "/dev/ttyS1".into()
        }
    );
    assert!(matches!(
        &c[2].source,
        CharSource::Udp { host: Some(h), service: 5555, bind_service: Some(4444), .. } if h == "127.0.0.1"
    ));
    assert_eq!(c[3].source, CharSource::Null);
    let caps = qvirt::qemu::caps::QemuCaps::assumed("/usr/bin/qemu-system-x86_64");
    let paths = qvirt::qemu::argv::RuntimePaths::for_test("/run/ch");
    let tcg = accept(&xml.replace("<domain type='kvm'>", "<domain type='qemu'>"));
    let argv: Vec<String> = qvirt::qemu::argv::build_argv(&tcg, &caps, &paths)
        .unwrap()
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    for want in [
        "file,id=charchannel0,path=/var/log/ch.out,append=on",
        "serial,id=charchannel1,path=/dev/ttyS1",
        "udp,id=charchannel2,host=127.0.0.1,port=5555,localaddr=127.0.0.1,localport=4444",
        "null,id=charchannel3",
    ] {
        assert!(argv.iter().any(|a| a == want), "{want} in {argv:?}");
    }
}

/// A virtio console's port, as a running domain's XML shows it
/// (`<address type='virtio-serial'>`), reads and writes back and is the
/// port QEMU gets; on a console of another target it is refused.
#[test]
fn a_virtio_consoles_port_is_its_address() {
    let xml = doc(
        "",
        "<console type='pty'><target type='virtio' port='0'/>\
         <address type='virtio-serial' controller='0' bus='0' port='3'/></console>",
    );
    let d = accept(&xml);
    assert_eq!(
        d.devices.consoles[0].virtio_serial(),
        Some(qvirt::model::VirtioSerialAddress {
            controller: 0,
            bus: 0,
            port: 3
        })
    );
    assert!(
        d.to_xml()
            .contains("<address type='virtio-serial' controller='0' bus='0' port='3'/>")
    );
    let caps = qvirt::qemu::caps::QemuCaps::assumed("/usr/bin/qemu-system-x86_64");
    let paths = qvirt::qemu::argv::RuntimePaths::for_test("/run/con");
    let build = |xml: &str| {
        let d = accept(&xml.replace("<domain type='kvm'>", "<domain type='qemu'>"));
        qvirt::qemu::argv::build_argv(&d, &caps, &paths).map(|argv| {
            argv.iter()
                .map(|a| a.to_string_lossy().into_owned())
                .collect::<Vec<_>>()
        })
    };
    let argv = build(&xml).unwrap();
    let want = "virtconsole,bus=virtio-serial0.0,nr=3,chardev=charconsole0,id=console0";
    assert!(argv.iter().any(|a| a == want), "{want} in {argv:?}");
    let serial = xml.replace(
        "<target type='virtio' port='0'/>",
        "<target type='serial' port='0'/>",
    );
    let e = build(&serial).unwrap_err();
    assert!(
        e.message
            .contains("only a virtio console sits on a virtio-serial port"),
        "{e}"
    );
}
