//! Character devices on a host terminal or parallel port (`type='dev'`)
//! and on UDP (`type='udp'`, its two `<source>`s), as libvirt reads them.

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
