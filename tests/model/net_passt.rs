//! A user interface's `<backend type='passt'>`, with what only passt
//! takes (`<source dev>`, a port forward's `dev` and excluded ranges):
//! read, written back, checked against libvirt's schema, and refused by
//! name where QEMU's own user networking would ignore it.

use qvirt::model::{ModelErrorKind, Passt};

use crate::{accept, doc, reject, xmllint_validate};

use ModelErrorKind::Unsupported;

const PASST: &str = "<interface type='user'><mac address='00:11:22:33:44:55'/><source dev='eth42'/>\
     <ip address='172.17.2.0' family='ipv4' prefix='24'/>\
     <portForward proto='tcp' address='2001:db8:ac10:fd01::1:10'>\
     <range start='1000' end='1050'/><range start='1020' exclude='yes'/></portForward>\
     <portForward proto='udp' address='1.2.3.4' dev='eth0'><range start='5000'/></portForward>\
     <model type='virtio'/><mtu size='1400'/><backend type='passt' logFile='/var/log/loglaw.blog'/></interface>";

#[test]
fn a_passt_backend_is_read_and_written_back() {
    let d = accept(&doc("", PASST));
    let i = &d.devices.interfaces[0];
    assert_eq!(
        i.passt,
        Some(Passt {
            log_file: Some("/var/log/loglaw.blog".into()),
            dev: Some("eth42".into()),
        })
    );
    assert!(i.port_forwards[0].ranges[1].exclude);
    // libvirt's qemuDomainNetSupportsMTU takes passt's.
    assert_eq!(i.mtu, Some(1400));
    assert_eq!(i.port_forwards[1].dev.as_deref(), Some("eth0"));
    let x = d.to_xml();
    for part in [
        "<source dev='eth42'/>",
        "<backend type='passt' logFile='/var/log/loglaw.blog'/>",
        "<range start='1020' exclude='yes'/>",
        "<portForward proto='udp' address='1.2.3.4' dev='eth0'>",
    ] {
        assert!(x.contains(part), "{part}:\n{x}");
    }
    // No logFile, no source: passt with its defaults.
    let d = accept(&doc(
        "",
        "<interface type='user'><backend type='passt'/></interface>",
    ));
    assert_eq!(d.devices.interfaces[0].passt, Some(Passt::default()));
}

#[test]
fn what_only_passt_takes_is_refused_elsewhere() {
    for (iface, fragment) in [
        // libvirt's virDomainNetDefValidate.
        (
            "<interface type='bridge'><source bridge='br0'/><backend type='passt'/></interface>",
            "The 'passt' backend can only be used with interface type='user'",
        ),
        (
            "<interface type='user'><source dev='eth0'/></interface>",
            "<source dev> at",
        ),
        (
            "<interface type='user'><portForward proto='tcp' dev='eth0'><range start='80'/></portForward></interface>",
            "attribute dev on <portForward>",
        ),
        (
            "<interface type='user'><portForward proto='tcp'><range start='80' end='90'/><range start='85' exclude='yes'/></portForward></interface>",
            "attribute exclude on <portForward><range>",
        ),
        (
            "<interface type='user'><mtu size='1400'/></interface>",
            "only its passt backend (<backend type='passt'>) takes one",
        ),
        (
            "<interface type='user'><backend type='default' logFile='/tmp/l'/></interface>",
            "without type='passt'",
        ),
        (
            "<interface type='user'><backend type='passt' tap='/dev/net/tun'/></interface>",
            "attribute tap on <backend> at 6:",
        ),
    ] {
        reject(&doc("", iface), Unsupported, fragment);
    }
}

#[test]
fn a_passt_document_validates_against_libvirts_schema() {
    let dir = crate::scratch_dir("net-passt");
    let f = dir.join("passt.xml");
    std::fs::write(&f, accept(&doc("", PASST)).to_xml()).unwrap();
    xmllint_validate(&[f]);
}
