//! The image formats of firmware files (`<loader format>`, `<nvram
//! format templateFormat>`, libvirt 9.2 and 10.10) and the variable store
//! named by a `<source>` (`<nvram type='file|block|network'>`, libvirt 8.5).

use qvirt::model::{FirmwareFormat, ModelErrorKind, NvramType};

use crate::{accept, doc_os, reject};

use ModelErrorKind::{Invalid, Unsupported};

const Q35: &str = "<type arch='x86_64' machine='q35'>hvm</type>";

fn os(inner: &str) -> String {
    doc_os(&format!("{Q35}{inner}"), "<features><acpi/></features>", "")
}

#[test]
fn formats_are_read_and_written_back() {
    let d = accept(&os(
        "<loader readonly='yes' type='pflash' format='qcow2'>/fw/CODE.qcow2</loader>\
         <nvram template='/fw/VARS.qcow2' templateFormat='qcow2' format='qcow2'>/nv/t_VARS.qcow2</nvram>",
    ));
    let l = d.os.loader.as_ref().unwrap();
    assert_eq!(l.format, Some(FirmwareFormat::Qcow2));
    let n = d.os.nvram.as_ref().unwrap();
    assert_eq!(n.format, Some(FirmwareFormat::Qcow2));
    assert_eq!(n.template_format, Some(FirmwareFormat::Qcow2));
    assert_eq!(n.kind, None);
    assert_eq!(n.path.as_deref(), Some("/nv/t_VARS.qcow2"));
    // Not written, not invented: raw stays implicit.
    let d = accept(&os(
        "<loader readonly='yes' type='pflash'>/fw/CODE.fd</loader><nvram>/nv/t.fd</nvram>",
    ));
    assert_eq!(d.os.loader.as_ref().unwrap().format, None);
    assert!(!d.to_xml().contains("format="), "{}", d.to_xml());
    // What libvirt 10 writes after choosing a firmware.
    let d = accept(&doc_os(
        "<type arch='x86_64' machine='q35'>hvm</type>\
         <loader readonly='yes' type='pflash' format='raw'>/usr/share/OVMF/OVMF_CODE_4M.fd</loader>\
         <nvram template='/usr/share/OVMF/OVMF_VARS_4M.fd' templateFormat='raw' format='raw'>/nv/t_VARS.fd</nvram>",
        "<features><acpi/></features>",
        "",
    ));
    let x = d.to_xml();
    assert!(
        x.contains("templateFormat='raw' format='raw'>/nv/t_VARS.fd</nvram>"),
        "{x}"
    );
}

#[test]
fn a_store_named_by_its_source() {
    let d = accept(&os(
        "<loader readonly='yes' type='pflash'>/fw/CODE.fd</loader>\
         <nvram type='file' template='/fw/VARS.fd'><source file='/nv/g_VARS.fd'/></nvram>",
    ));
    let n = d.os.nvram.as_ref().unwrap();
    assert_eq!(n.kind, Some(NvramType::File));
    assert_eq!(n.path.as_deref(), Some("/nv/g_VARS.fd"));
    assert!(d.to_xml().contains("<source file='/nv/g_VARS.fd'/>"));
    let d = accept(&os(
        "<loader readonly='yes' type='pflash'>/fw/CODE.fd</loader>\
         <nvram type='block'><source dev='/dev/vg/vars'/></nvram>",
    ));
    assert_eq!(d.os.nvram.as_ref().unwrap().kind, Some(NvramType::Block));
    assert!(d.to_xml().contains("<source dev='/dev/vg/vars'/>"));
    reject(
        &os("<loader readonly='yes' type='pflash'>/fw/CODE.fd</loader><nvram type='file'/>"),
        Invalid,
        "needs a <source>",
    );
    reject(
        &os("<loader readonly='yes' type='pflash'>/fw/CODE.fd</loader>\
             <nvram type='block'><source file='/nv/x.fd'/></nvram>"),
        Unsupported,
        "attribute file on <nvram><source>",
    );
}

/// `<nvram type='network'>` (libvirt 8.5): a network disk's `<source>`,
/// NBD or iSCSI (with its CHAP `<auth>`), written back as read; what the
/// firmware's flash cannot be written through is refused where it is.
#[test]
fn a_store_on_a_network_export() {
    let loader = "<loader readonly='yes' type='pflash'>/fw/CODE.fd</loader>";
    let net = |attrs: &str, source: &str| {
        os(&format!(
            "{loader}<nvram type='network'{attrs}>{source}</nvram>"
        ))
    };
    let nbd = "<source protocol='nbd' name='vars'><host name='nbd.example' port='10810'/></source>";
    let d = accept(&net("", nbd));
    let n = d.os.nvram.as_ref().unwrap();
    assert_eq!(n.kind, Some(NvramType::Network));
    assert_eq!(n.path, None);
    let src = n.network.as_ref().unwrap();
    assert_eq!(src.protocol, qvirt::model::DiskProtocol::Nbd);
    assert_eq!(src.name.as_deref(), Some("vars"));
    assert_eq!(src.hosts[0].port, Some(10810));
    let iscsi = "<source protocol='iscsi' name='iqn.2013-07.com.example:vars/1'>\
                 <host name='example.com' port='6000'/>\
                 <auth username='me'><secret type='iscsi' usage='vars'/></auth></source>";
    let d = accept(&net("", iscsi));
    let x = d.to_xml();
    assert!(
        x.contains("<auth username='me'>") && x.contains("<nvram type='network'>"),
        "{x}"
    );
    reject(&net("", ""), Invalid, "needs a <source protocol=...>");
    reject(
        &net(
            "",
            "<source protocol='http' name='/vars.fd'><host name='h'/></source>",
        ),
        Unsupported,
        "protocol 'http' at 4:130 is not supported",
    );
    reject(
        &net("", &nbd.replace("name='vars'", "name='vars' tls='yes'")),
        Unsupported,
        "TLS to a network NVRAM store",
    );
    reject(
        &net(" template='/fw/VARS.fd'", nbd),
        Unsupported,
        "not made from a template",
    );
    reject(
        &net(
            "",
            &iscsi.replace("type='iscsi' usage", "type='ceph' usage"),
        ),
        Unsupported,
        "invalid secret type 'ceph'",
    );
}

#[test]
fn formats_qemu_cannot_map_are_refused() {
    reject(
        &os("<loader readonly='yes' type='pflash' format='vmdk'>/fw/CODE</loader>"),
        Unsupported,
        "'vmdk' for attribute format on <os><loader>",
    );
    reject(
        &os(
            "<loader readonly='yes' type='pflash'>/fw/CODE</loader><nvram format='qed'>/nv/x</nvram>",
        ),
        Unsupported,
        "'qed' for attribute format on <os><nvram>",
    );
    reject(
        &os("<loader type='rom' format='qcow2'>/fw/bios.qcow2</loader>"),
        Unsupported,
        "ROM loader is always raw",
    );
    reject(
        &os("<loader format='qcow2'>/fw/bios.qcow2</loader>"),
        Unsupported,
        "ROM loader is always raw",
    );
}
