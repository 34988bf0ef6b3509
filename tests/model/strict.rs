//! The reader is strict: what it does not understand is an error that names
//! it and where it is; only values libvirt writes that change nothing for
//! the guest pass, and `<metadata>` is kept as written.

use qvirt::model::{CharSource, DomainDef, InterfaceType, ModelErrorKind};

use crate::{accept, doc, doc_os, reject, round_trip};

use ModelErrorKind::{Invalid, Unsupported};

#[test]
fn unknown_elements_and_attributes_are_named_with_their_position() {
    let xml = "<domain type='kvm'>\n  <name>t</name>\n  <memory>65536</memory>\n  <os><type>hvm</type></os>\n  <devices>\n    <lease/>\n  </devices>\n</domain>";
    reject(
        xml,
        Unsupported,
        "unsupported element <lease> in <devices> at 6:5",
    );
    let xml = "<domain type='kvm'>\n  <name>t</name>\n  <memory>65536</memory>\n  <os><type>hvm</type></os>\n  <devices>\n    <disk type='file'>\n      <driver name='qemu' discard_no_unref='on'/>\n    </disk>\n  </devices>\n</domain>";
    reject(
        xml,
        Unsupported,
        "unsupported attribute discard_no_unref on <disk><driver> at 7:27",
    );
    reject(
        &doc("<maxMemory slots='16'>1</maxMemory>", ""),
        Unsupported,
        "<maxMemory>",
    );
    reject(
        &doc("", "<disk rawio='yes'><driver/></disk>"),
        Unsupported,
        "attribute rawio",
    );
    reject(
        &doc("", "<disk><privateData/></disk>"),
        Unsupported,
        "<privateData>",
    );
    reject(
        &doc("<memory dumpCore='on'>1</memory>", ""),
        Invalid,
        "given more than once",
    );
    reject(
        &doc("<foo:bar xmlns:foo='urn:foo'/>", ""),
        Unsupported,
        "<foo:bar>",
    );
    reject(
        &doc("", "<interface type='user' x:y='1' xmlns:x='urn:x'/>"),
        Unsupported,
        "x:y",
    );
    reject(
        &doc("stray text", ""),
        Unsupported,
        "unsupported text 'stray text'",
    );
    reject(
        &doc("<name>again</name>", ""),
        Invalid,
        "given more than once",
    );
}

#[test]
fn unsupported_values_are_named() {
    let cases: &[(&str, &str, &str)] = &[
        ("", "<graphics type='sdl'/>", "'sdl'"),
        ("", "<disk type='nvme'/>", "'nvme'"),
        ("", "<interface type='vdpa'/>", "'vdpa'"),
        (
            "",
            "<interface type='user'><backend type='passt' tap='/dev/net/tun'/></interface>",
            "tap",
        ),
        (
            "",
            "<video><model type='virtio'><acceleration accel2d='yes'/></model></video>",
            "accel2d",
        ),
        (
            "",
            "<video><driver name='vhostuser'/><model type='virtio'/></video>",
            "'vhostuser'",
        ),
        ("", "<video><model type='xen'/></video>", "'xen'"),
        ("", "<audio id='1' type='coreaudio'/>", "'coreaudio'"),
        ("", "<memballoon model='xen'/>", "'xen'"),
        ("", "<serial type='stdio'/>", "'stdio'"),
        ("", "<input type='joystick'/>", "'joystick'"),
        ("", "<controller type='xenbus'/>", "'xenbus'"),
        (
            "",
            "<graphics type='vnc'><listen type='address' address='::1' addr='x'/></graphics>",
            "addr",
        ),
        ("<cpu mode='guest'/>", "", "'guest'"),
        (
            "<cpu mode='host-passthrough'><numa><interconnects/></numa></cpu>",
            "",
            "needs at least one <cell>",
        ),
        (
            "<cpu mode='maximum'><maxphysaddr mode='host'/></cpu>",
            "",
            "'host'",
        ),
        (
            "<on_crash>coredump-destroy</on_crash>",
            "",
            "'coredump-destroy'",
        ),
        (
            "<on_reboot>rename-restart</on_reboot>",
            "",
            "'rename-restart'",
        ),
        ("<features><gic/></features>", "", "<gic>"),
        ("<features><apic eoi='maybe'/></features>", "", "eoi"),
        ("<clock offset='solar'/>", "", "'solar'"),
        ("<clock><timer name='jiffies'/></clock>", "", "'jiffies'"),
        ("<pm><suspend-to-mem enabled='maybe'/></pm>", "", "'maybe'"),
    ];
    for (top, devices, fragment) in cases {
        let xml = doc(top, devices);
        let e = DomainDef::from_xml(&xml).unwrap_err();
        assert!(
            e.message.contains(fragment),
            "'{}' lacks '{fragment}' for {top}{devices}",
            e.message
        );
        assert_ne!(e.kind, ModelErrorKind::InvalidXml, "{}", e.message);
    }
    reject(
        &doc_os("<type arch='aarch64'>hvm</type>", "", ""),
        Unsupported,
        "'aarch64'",
    );
    reject(&doc_os("<type>xen</type>", "", ""), Unsupported, "'xen'");
    reject(
        &doc_os("<type>hvm</type><loader/>", "", ""),
        Invalid,
        "no loader path specified and firmware auto selection disabled",
    );
    reject(
        "<domain type='kvm'><name>t</name><memory>65536</memory><os firmware='uefi'><type>hvm</type></os></domain>",
        Unsupported,
        "'uefi'",
    );
    reject(
        "<domain type='xen'><name>t</name><memory>65536</memory><os><type>hvm</type></os></domain>",
        Unsupported,
        "'xen'",
    );
}

#[test]
fn harmless_libvirt_values_are_accepted_and_dropped() {
    let xml = doc(
        "<cpu mode='host-passthrough' migratable='on'/>",
        "<disk><source file='/a'/><target dev='vda'/><alias name='virtio-disk0'/></disk>\
         <serial type='pty'><source path='/dev/pts/3'/><target type='isa-serial' port='0'><model name='isa-serial'/></target><alias name='serial0'/></serial>\
         <console type='pty' tty='/dev/pts/3'><source path='/dev/pts/3'/><target type='serial' port='0'/></console>\
         <graphics type='vnc' port='-1' autoport='yes'><listen type='address'/></graphics>\
         <video><driver name='qemu'/><model type='vga'/></video>",
    );
    let xml = xml.replacen("<domain type='kvm'>", "<domain type='kvm' id='7'>", 1);
    let d = accept(&xml);
    assert_eq!(
        d.devices.consoles[0].source,
        CharSource::Pty {
            path: Some("/dev/pts/3".into())
        }
    );
    assert!(d.devices.graphics[0].listens.is_empty());
    let out = d.to_xml();
    for gone in ["alias", "id='7'", "<model name", "<listen"] {
        assert!(!out.contains(gone), "{gone} written back:\n{out}");
    }
    // `tty` repeats the terminal's path, where one is known, as libvirt
    // writes it.
    assert!(
        out.contains("<console type='pty' tty='/dev/pts/3'>"),
        "{out}"
    );
    reject(
        &doc(
            "",
            "<serial type='pty'><target><model name='pci-serial'/></target></serial>",
        ),
        Unsupported,
        "'pci-serial'",
    );
    reject(
        &doc("<cpu mode='maximum' check='thorough'/>", ""),
        Unsupported,
        "'thorough'",
    );
}

#[test]
fn metadata_is_kept_verbatim_with_its_namespaces() {
    let xml = "<domain type='kvm' xmlns:app='http://example.org/app'>\n  <name>m</name>\n  <memory>65536</memory>\n  <os><type>hvm</type></os>\n  <metadata>\n    <app:a x='1'>t &amp; u<app:b/></app:a>\n    <!-- kept -->\n    <c:d xmlns:c='urn:c'><![CDATA[<raw>]]></c:d>\n  </metadata>\n</domain>";
    let d = accept(xml);
    let m = d.metadata.clone().unwrap();
    assert!(
        m.starts_with(
            "<app:a xmlns:app=\"http://example.org/app\" x='1'>t &amp; u<app:b/></app:a>"
        ),
        "{m}"
    );
    assert!(
        m.ends_with("<c:d xmlns:c='urn:c'><![CDATA[<raw>]]></c:d>"),
        "{m}"
    );
    assert!(m.contains("<!-- kept -->"));
    let out = round_trip(&d);
    assert!(
        !out.contains("xmlns:app='"),
        "the namespace moved into the fragment"
    );
    assert!(accept(&doc("<metadata/>", "")).metadata.is_none());
    reject(
        &doc("<metadata>text</metadata>", ""),
        Unsupported,
        "unsupported text 'text' in <metadata>",
    );
    let mut d = d;
    d.metadata = Some("<unclosed>".into());
    assert_eq!(d.validate().unwrap_err().kind, Invalid);
    d.metadata = Some("<p:x/>".into());
    assert_eq!(
        d.validate().unwrap_err().kind,
        Invalid,
        "an undeclared prefix is refused"
    );
    d.metadata = Some("<a/> ".into());
    assert_eq!(d.validate().unwrap_err().kind, Invalid);
    d.metadata = Some("<a/><!-- c --><b>x</b>".into());
    round_trip(&d);
}

#[test]
fn sources_follow_the_disk_and_interface_types() {
    reject(
        &doc(
            "",
            "<disk type='file'><source dev='/dev/sda'/><target dev='vda'/></disk>",
        ),
        Unsupported,
        "attribute dev on <disk><source>",
    );
    reject(
        &doc(
            "",
            "<disk type='block'><source file='/a'/><target dev='vda'/></disk>",
        ),
        Unsupported,
        "attribute file on <disk><source>",
    );
    reject(
        &doc(
            "",
            "<interface type='user'><source network='default'/></interface>",
        ),
        Unsupported,
        "<source>",
    );
    reject(
        &doc(
            "",
            "<interface type='network'><source bridge='br0'/></interface>",
        ),
        Invalid,
        "missing attribute network",
    );
    let d = accept(&doc(
        "",
        "<interface type='bridge'><source bridge='br0'/></interface>",
    ));
    assert_eq!(
        d.devices.interfaces[0].kind,
        InterfaceType::Bridge("br0".into())
    );
    reject(
        &doc("", "<serial type='null'><source path='/x'/></serial>"),
        Unsupported,
        "<source>",
    );
    reject(
        &doc(
            "",
            "<serial type='file'><source path='/x' mode='bind'/></serial>",
        ),
        Unsupported,
        "attribute mode",
    );
    let d = accept(&doc(
        "",
        "<serial type='unix'><source path='/run/s.sock'/></serial>",
    ));
    assert_eq!(
        d.devices.serials[0].source,
        CharSource::Unix {
            path: Some("/run/s.sock".into()),
            listen: false,
            reconnect: None,
        }
    );
}

#[test]
fn values_with_markup_characters_survive() {
    let d = accept(&doc(
        "<title>t &amp; 'q' \"d\" &lt;x&gt;</title><description>multi\nline &amp; 'x'</description>",
        "<disk><source file='/p/a&amp;b &apos;c&apos; &quot;d&quot; &lt;e&gt;,f=g'/><target dev='vda'/></disk>\
         <graphics type='vnc' passwd='&lt;&amp;&apos;&quot;&gt;'/>",
    ));
    assert_eq!(
        d.devices.disks[0].source.as_deref(),
        Some("/p/a&b 'c' \"d\" <e>,f=g")
    );
    assert_eq!(d.devices.graphics[0].passwd.as_deref(), Some("<&'\">"));
    assert_eq!(d.description.as_deref(), Some("multi\nline & 'x'"));
}

/// A document with several unsupported parts names every one in one
/// error, each with its line:column, so a user fixes them in one go.
#[test]
fn every_unsupported_part_is_named_at_once() {
    let xml = "<domain type='kvm'>\n  <name>t</name>\n  <memory>65536</memory>\n  <os><type>hvm</type><bootloader/></os>\n  <devices>\n    <lease/>\n    <disk type='file' device='disk' rawio='yes'>\n      <driver name='qemu' discard_no_unref='on'/>\n      <source file='/a'/>\n      <target dev='vda'/>\n    </disk>\n    <graphics type='sdl'/>\n  </devices>\n  <keywrap/>\n</domain>";
    let e = DomainDef::from_xml(xml).unwrap_err();
    assert_eq!(e.kind, Unsupported, "{}", e.message);
    for part in [
        "the document has 6 unsupported parts",
        "unsupported element <bootloader> in <os> at 4:23",
        "unsupported element <lease> in <devices> at 6:5",
        "unsupported attribute discard_no_unref on <disk><driver> at 8:27",
        "unsupported attribute rawio on <devices><disk> at 7:37",
        "unsupported value 'sdl' for attribute type on <devices><graphics> at 12:15",
        "unsupported element <keywrap> in <domain> at 14:3",
    ] {
        assert!(e.message.contains(part), "'{part}' not in:\n{}", e.message);
    }
}
