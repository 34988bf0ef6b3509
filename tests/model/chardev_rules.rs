//! Character devices on a host terminal or parallel port (`type='dev'`)
//! and on UDP (`type='udp'`, its two `<source>`s), as libvirt reads them;
//! USB redirection over sockets and its filter rules; `<protocol>` on
//! parallel ports and channels.

use qvirt::model::{CharSource, ModelErrorKind};

use crate::{accept, doc, reject, xmllint_validate};

#[test]
fn dev_and_udp_sources_read_and_write_back() {
    let d = accept(&doc(
        "",
        "<serial type='dev'><source path='/dev/ttyS2'/><target port='0'/></serial>\
         <serial type='udp'><source mode='bind' host='0.0.0.0' service='1111'/>\
         <source mode='connect' host='192.0.2.1' service='2222'/><target port='1'/></serial>\
         <serial type='udp'><source mode='connect' service='2223'/><target port='2'/></serial>\
         <parallel type='dev'><source path='/dev/parport0'/><target port='0'/></parallel>",
    ));
    let s = &d.devices.serials;
    assert_eq!(
        s[0].source,
        CharSource::Dev {
            path: "/dev/ttyS2".into()
        }
    );
    assert_eq!(
        s[1].source,
        CharSource::Udp {
            bind_host: Some("0.0.0.0".into()),
            bind_service: Some(1111),
            host: Some("192.0.2.1".into()),
            service: 2222,
        }
    );
    assert_eq!(
        s[2].source,
        CharSource::Udp {
            bind_host: None,
            bind_service: None,
            host: None,
            service: 2223,
        }
    );
    // The connect source is written after the bind one, whatever the
    // order read.
    let swapped = accept(&doc(
        "",
        "<serial type='udp'><source mode='connect' host='192.0.2.1' service='2222'/>\
         <source mode='bind' service='1111'/></serial>",
    ));
    let x = swapped.to_xml();
    assert!(
        x.find("mode='bind'").unwrap() < x.find("mode='connect'").unwrap(),
        "{x}"
    );
    let dir = crate::scratch_dir("chardev-schema");
    let f = dir.join("chardevs.xml");
    std::fs::write(&f, d.to_xml()).unwrap();
    xmllint_validate(&[f]);
}

#[test]
fn dev_and_udp_rules() {
    use ModelErrorKind::Invalid;
    reject(
        &doc("", "<serial type='dev'><target port='0'/></serial>"),
        Invalid,
        "missing <source path=",
    );
    reject(
        &doc(
            "",
            "<serial type='udp'><source mode='bind' service='1111'/></serial>",
        ),
        Invalid,
        "mode='connect'",
    );
    reject(
        &doc(
            "",
            "<serial type='udp'><source mode='connect' host='a'/></serial>",
        ),
        Invalid,
        "service",
    );
    reject(
        &doc(
            "",
            "<serial type='udp'><source mode='connect' service='0'/></serial>",
        ),
        Invalid,
        "port 0",
    );
    reject(
        &doc(
            "",
            "<serial type='udp'><source mode='connect' service='1'/><source mode='connect' service='2'/></serial>",
        ),
        Invalid,
        "source",
    );
}

#[test]
fn usb_redirection_sockets_and_filter_rules() {
    let d = accept(&doc(
        "",
        "<redirdev bus='usb' type='tcp'><source mode='connect' host='localhost' service='4000'/>\
         <protocol type='raw'/><boot order='1'/></redirdev>\
         <redirdev bus='usb' type='unix'><source mode='bind' path='/run/r.sock'/></redirdev>\
         <redirfilter><usbdev class='0x08' vendor='0x15E1' product='0x2007' version='9.4' allow='yes'/>\
         <usbdev class='-1' vendor='5601' product='-1' version='1.09' allow='no'/><usbdev allow='no'/></redirfilter>",
    ));
    assert!(matches!(
        d.devices.redirdevs[0].source,
        CharSource::Tcp {
            service: 4000,
            listen: false,
            ..
        }
    ));
    let r = &d.devices.redirfilter;
    assert_eq!(r.len(), 3);
    assert_eq!(
        (r[0].class, r[0].vendor, r[0].version, r[0].allow),
        (Some(8), Some(0x15e1), Some(0x0940), true)
    );
    assert_eq!(
        (r[1].class, r[1].vendor, r[1].version),
        (None, Some(5601), Some(0x0109))
    );
    let x = d.to_xml();
    assert!(
        x.contains(
            "<usbdev class='0x08' vendor='0x15E1' product='0x2007' version='9.40' allow='yes'/>"
        ),
        "{x}"
    );
    assert!(
        x.contains("<usbdev vendor='0x15E1' version='1.09' allow='no'/>"),
        "{x}"
    );
    for (rule, attr) in [
        ("<usbdev class='0x100' allow='yes'/>", "class"),
        ("<usbdev vendor='0x10000' allow='yes'/>", "vendor"),
        ("<usbdev version='1.100' allow='yes'/>", "version"),
        ("<usbdev version='1' allow='yes'/>", "version"),
        ("<usbdev version='x.1' allow='yes'/>", "version"),
    ] {
        reject(
            &doc("", &format!("<redirfilter>{rule}</redirfilter>")),
            ModelErrorKind::Invalid,
            &format!("for attribute {attr} on <redirfilter><usbdev>"),
        );
    }
    reject(
        &doc("", "<redirfilter><usbdev class='8'/></redirfilter>"),
        ModelErrorKind::Invalid,
        "allow",
    );
    reject(
        &doc(
            "",
            "<redirfilter><usbdev allow='no'/></redirfilter><redirfilter><usbdev allow='yes'/></redirfilter>",
        ),
        ModelErrorKind::Invalid,
        "redirfilter",
    );
    reject(
        &doc("", "<redirdev bus='usb' type='pty'/>"),
        ModelErrorKind::Unsupported,
        "'pty' for attribute type on <devices><redirdev>",
    );
}

#[test]
fn isa_addresses_of_ports() {
    let d = accept(&doc(
        "",
        "<serial type='pty'><target type='isa-debug'/><address type='isa' iobase='0x402'/></serial>\
         <serial type='null'><target port='1'/><address type='isa' iobase='760' irq='3'/></serial>\
         <parallel type='null'><address type='isa' iobase='0x278'/></parallel>",
    ));
    let s = &d.devices.serials;
    assert_eq!(s[0].isa().unwrap().iobase, Some(0x402));
    assert_eq!(
        (s[1].isa().unwrap().iobase, s[1].isa().unwrap().irq),
        (Some(0x2f8), Some(3))
    );
    assert!(
        d.to_xml()
            .contains("<address type='isa' iobase='0x2f8' irq='0x3'/>")
    );
    reject(
        &doc(
            "",
            "<serial type='pty'><address type='isa' irq='16'/></serial>",
        ),
        ModelErrorKind::Invalid,
        "ISA interrupts are 0 to 15",
    );
    reject(
        &doc(
            "",
            "<serial type='pty'><address type='isa' iobase='0x10000'/></serial>",
        ),
        ModelErrorKind::Invalid,
        "not an I/O port",
    );
    reject(
        &doc(
            "",
            "<parallel type='pty'>\
             <address type='pci' domain='0' bus='0' slot='4' function='0'/></parallel>",
        ),
        ModelErrorKind::Unsupported,
        "'pci' for attribute type on <parallel><address>",
    );
}

/// `<protocol>` on every character device, as libvirt reads it: a TCP
/// parallel port or channel takes telnet as a serial port does; on other
/// types `raw` (what runs) is taken and not written back, `telnet` is
/// refused where it is written, and a second `<protocol>` is refused.
#[test]
fn protocols_on_parallel_ports_and_channels() {
    let d = accept(&doc(
        "",
        "<parallel type='unix'><source mode='bind' path='/tmp/parport0.socket'/><protocol type='raw'/><target port='0'/></parallel>\
         <parallel type='tcp'><source mode='bind' host='127.0.0.1' service='4555'/><protocol type='telnet'/><target port='1'/></parallel>\
         <channel type='unix'><source mode='bind' path='/tmp/ch.sock'/><protocol type='raw'/><target type='virtio' name='org.example.raw'/></channel>\
         <channel type='tcp'><source mode='bind' host='127.0.0.1' service='4556'/><protocol type='telnet'/><target type='virtio' name='org.example.telnet'/></channel>",
    ));
    assert!(matches!(
        d.devices.parallels[1].source,
        CharSource::Tcp { telnet: true, .. }
    ));
    assert!(matches!(
        d.devices.channels[1].source,
        CharSource::Tcp { telnet: true, .. }
    ));
    let x = d.to_xml();
    assert_eq!(x.matches("<protocol type='telnet'/>").count(), 2, "{x}");
    assert!(!x.contains("<protocol type='raw'/>"), "{x}");
    reject(
        &doc(
            "",
            "<parallel type='unix'><source mode='bind' path='/tmp/p.sock'/><protocol type='telnet'/></parallel>",
        ),
        ModelErrorKind::Unsupported,
        "'telnet' for attribute type on <parallel><protocol> at 6:",
    );
    reject(
        &doc(
            "",
            "<channel type='pty'><protocol type='telnet'/><target type='virtio' name='a.b'/></channel>",
        ),
        ModelErrorKind::Unsupported,
        "telnet is a protocol of TCP character devices",
    );
    reject(
        &doc(
            "",
            "<parallel type='unix'><source mode='bind' path='/tmp/p.sock'/><protocol type='raw'/><protocol type='raw'/></parallel>",
        ),
        ModelErrorKind::Invalid,
        "element <protocol> given more than once",
    );
}

/// `<source tls='yes|no'>` of a TCP character device: read and written
/// back; another word, or the attribute on another type, is refused
/// where it is written.
#[test]
fn tls_on_tcp_sources() {
    let serial = |source: &str| {
        doc(
            "",
            &format!("<serial type='tcp'>{source}<target port='0'/></serial>"),
        )
    };
    for (word, tls) in [("yes", Some(true)), ("no", Some(false))] {
        let d = accept(&serial(&format!(
            "<source mode='connect' host='127.0.0.1' service='5555' tls='{word}'/>"
        )));
        assert!(
            matches!(&d.devices.serials[0].source, CharSource::Tcp { tls: t, .. } if *t == tls),
            "{word}"
        );
        assert!(d.to_xml().contains(&format!("tls='{word}'")));
    }
    reject(
        &serial("<source mode='bind' service='5555' tls='maybe'/>"),
        ModelErrorKind::Invalid,
        "tls",
    );
    reject(
        &doc(
            "",
            "<serial type='unix'><source mode='bind' path='/tmp/s.sock' tls='yes'/></serial>",
        ),
        ModelErrorKind::Unsupported,
        "unsupported attribute tls on <serial><source> at 6:",
    );
}

/// A pty's `tty` (what a running domain's XML shows, and virsh's
/// `ttyconsole` reads) repeats its path; on another type it is refused.
#[test]
fn a_ptys_tty_repeats_its_path() {
    let d = accept(&doc(
        "",
        "<channel type='pty' tty='/dev/pts/4'><source path='/dev/pts/4'/>\
         <target type='virtio' name='a.b'/></channel>\
         <serial type='pty' tty='/dev/pts/5'><source path='/dev/pts/5'/></serial>",
    ));
    let out = d.to_xml();
    assert!(
        out.contains("<channel type='pty' tty='/dev/pts/4'>")
            && out.contains("<serial type='pty' tty='/dev/pts/5'>"),
        "{out}"
    );
    reject(
        &doc(
            "",
            "<channel type='unix' tty='/dev/pts/4'><target type='virtio' name='a.b'/></channel>",
        ),
        ModelErrorKind::Invalid,
        "only a pty has a tty",
    );
}
