//! `<secret>` documents and a network disk's `<auth>`, by libvirt's
//! rules (formatsecret, formatdomain's disk `<auth>`).

use qvirt::model::{ModelErrorKind, SecretDef, SecretLookup, SecretUsageType};

use crate::{accept, doc, reject, xmllint_validate};

fn net_disk(protocol: &str, name: &str, inner: &str, outer: &str) -> String {
    doc(
        "",
        &format!(
            "<disk type='network' device='disk'>
      <driver name='qemu' type='raw'/>
      {outer}
      <source protocol='{protocol}' name='{name}'>
        <host name='192.0.2.1'/>
        {inner}
      </source>
      <target dev='vda' bus='virtio'/>
    </disk>"
        ),
    )
}

const CHAP: &str = "<auth username='myname'><secret type='iscsi' usage='mycluster_myname'/></auth>";
const CEPH: &str = "<auth username='admin'><secret type='ceph' uuid='0a81f5b2-8403-7b23-c8d6-21ccc2f80d6f'/></auth>";

#[test]
fn auth_reads_and_writes_back_where_it_was() {
    // In <source> (libvirt 3.9 and later) and under <disk> (before).
    for (inner, outer) in [(CHAP, ""), ("", CHAP)] {
        let d = accept(&net_disk(
            "iscsi",
            "iqn.1992-01.com.example:storage/1",
            inner,
            outer,
        ));
        let n = d.devices.disks[0].network.as_ref().unwrap();
        let auth = n.auth.as_ref().unwrap();
        assert_eq!(auth.username, "myname");
        assert_eq!(auth.secret_type, Some(SecretUsageType::Iscsi));
        assert_eq!(auth.lookup, SecretLookup::Usage("mycluster_myname".into()));
        assert_eq!(auth.in_source, !inner.is_empty());
        let x = d.to_xml();
        let (auth_at, source_at, host_at) = (
            x.find("<auth").unwrap(),
            x.find("<source").unwrap(),
            x.find("<host").unwrap(),
        );
        if auth.in_source {
            assert!(auth_at > host_at, "{x}");
        } else {
            assert!(auth_at < source_at, "{x}");
        }
    }
    let d = accept(&net_disk("rbd", "pool/image", CEPH, ""));
    let auth = d.devices.disks[0]
        .network
        .as_ref()
        .unwrap()
        .auth
        .clone()
        .unwrap();
    assert_eq!(
        auth.lookup,
        SecretLookup::Uuid("0a81f5b2-8403-7b23-c8d6-21ccc2f80d6f".parse().unwrap())
    );
    // The curl protocols take a password of either type.
    accept(&net_disk("https", "/disk.img", CHAP, ""));
}

#[test]
fn auth_follows_libvirts_rules() {
    use ModelErrorKind::{Invalid, Unsupported};
    let cases: &[(String, ModelErrorKind, &str)] = &[
        (
            net_disk("iscsi", "iqn.x/1", CHAP, CHAP),
            Unsupported,
            "already found",
        ),
        (
            net_disk("iscsi", "iqn.x/1", CEPH, ""),
            Unsupported,
            "invalid secret type 'ceph'",
        ),
        (
            net_disk("rbd", "p/i", CHAP, ""),
            Unsupported,
            "invalid secret type 'iscsi'",
        ),
        (
            net_disk("nbd", "export", CHAP, ""),
            Unsupported,
            "not supported for protocol 'nbd'",
        ),
        (
            net_disk(
                "iscsi",
                "iqn.x/1",
                "<auth username='u'><secret usage='x'/></auth>",
                "",
            ),
            Unsupported,
            "needs type=",
        ),
        (
            net_disk(
                "iscsi",
                "iqn.x/1",
                "<auth username='u'><secret type='iscsi'/></auth>",
                "",
            ),
            Invalid,
            "missing secret uuid or usage",
        ),
        (
            net_disk(
                "iscsi",
                "iqn.x/1",
                "<auth username='u'><secret type='iscsi' usage='a' uuid='0a81f5b2-8403-7b23-c8d6-21ccc2f80d6f'/></auth>",
                "",
            ),
            Invalid,
            "either secret uuid or usage",
        ),
        (
            net_disk(
                "iscsi",
                "iqn.x/1",
                "<auth><secret type='iscsi' usage='a'/></auth>",
                "",
            ),
            Invalid,
            "username",
        ),
        (
            net_disk("iscsi", "iqn.x/1", "<auth username='u'/>", ""),
            Invalid,
            "missing <secret>",
        ),
        (
            net_disk(
                "iscsi",
                "iqn.x/1",
                "<auth username='u'><secret type='iscsi' uuid='nope'/></auth>",
                "",
            ),
            Invalid,
            "uuid",
        ),
        (
            net_disk(
                "iscsi",
                "iqn.x/1",
                "<auth username='u'><secret type='kerberos' usage='a'/></auth>",
                "",
            ),
            Unsupported,
            "kerberos",
        ),
        (
            doc(
                "",
                &format!(
                    "<disk type='file' device='disk'>{CHAP}<source file='/x.img'/><target dev='vda' bus='virtio'/></disk>"
                ),
            ),
            Unsupported,
            "only for network backed disks",
        ),
    ];
    for (xml, kind, fragment) in cases {
        reject(xml, *kind, fragment);
    }
}

#[test]
fn auth_documents_validate_against_libvirts_schema() {
    let dir = crate::scratch_dir("auth-schema");
    let files: Vec<_> = [
        net_disk("iscsi", "iqn.1992-01.com.example:storage/1", CHAP, ""),
        net_disk("iscsi", "iqn.1992-01.com.example:storage/1", "", CHAP),
        net_disk("rbd", "pool/image", CEPH, ""),
    ]
    .iter()
    .enumerate()
    .map(|(i, xml)| {
        let f = dir.join(format!("auth{i}.xml"));
        std::fs::write(&f, accept(xml).to_xml()).unwrap();
        f
    })
    .collect();
    xmllint_validate(&files);
}

#[test]
fn secret_documents_read_and_write_as_libvirt_does() {
    let x = "<secret ephemeral='no' private='yes'>
  <uuid>0a81f5b2-8403-7b23-c8d6-21ccc2f80d6f</uuid>
  <description>CHAP password</description>
  <usage type='iscsi'><target>libvirtiscsi</target></usage>
</secret>";
    let s = SecretDef::from_xml(x).unwrap();
    assert!(s.private && !s.ephemeral);
    assert_eq!(s.usage, SecretUsageType::Iscsi);
    assert_eq!(s.usage_id, "libvirtiscsi");
    assert_eq!(
        s.to_xml(),
        "<secret ephemeral='no' private='yes'>
  <uuid>0a81f5b2-8403-7b23-c8d6-21ccc2f80d6f</uuid>
  <description>CHAP password</description>
  <usage type='iscsi'>
    <target>libvirtiscsi</target>
  </usage>
</secret>
"
    );
    assert_eq!(SecretDef::from_xml(&s.to_xml()).unwrap(), s);
    // Each usage type names its identifier with its own element.
    for (kind, el) in [
        ("ceph", "name"),
        ("volume", "volume"),
        ("tls", "name"),
        ("vtpm", "name"),
    ] {
        let x = format!("<secret><usage type='{kind}'><{el}>id-1</{el}></usage></secret>");
        let s = SecretDef::from_xml(&x).unwrap();
        assert_eq!((s.usage.as_str(), s.usage_id.as_str()), (kind, "id-1"));
        assert_eq!(SecretDef::from_xml(&s.to_xml()).unwrap(), s);
    }
    // No usage, no UUID: a fresh UUID and usage none.
    let s = SecretDef::from_xml("<secret/>").unwrap();
    assert_eq!(s.usage, SecretUsageType::None);
    for (bad, fragment) in [
        ("<secret><usage type='ceph'/></secret>", "needs its <name>"),
        (
            "<secret><usage type='iscsi'><name>x</name></usage></secret>",
            "<name>",
        ),
        ("<secret><usage type='other'/></secret>", "other"),
        ("<secret private='maybe'/>", "private"),
        ("<secret><uuid>zz</uuid></secret>", "UUID"),
        ("<secret><bogus/></secret>", "bogus"),
        ("<domain/>", "expected <secret>"),
    ] {
        let e = SecretDef::from_xml(bad).unwrap_err();
        assert!(e.message.contains(fragment), "{bad}: {}", e.message);
    }
}

fn file_disk(format: &str, inner: &str, outer: &str) -> String {
    doc(
        "",
        &format!(
            "<disk type='file' device='disk'>
      <driver name='qemu' type='{format}'/>
      <source file='/var/lib/images/enc.img'>{inner}</source>
      <target dev='vda' bus='virtio'/>
      {outer}
    </disk>"
        ),
    )
}

const LUKS: &str = "<encryption format='luks'><secret type='passphrase' usage='/var/lib/images/enc.img'/></encryption>";

#[test]
fn encryption_reads_and_writes_back_where_it_was() {
    for (inner, outer) in [(LUKS, ""), ("", LUKS)] {
        for format in ["raw", "qcow2"] {
            let d = accept(&file_disk(format, inner, outer));
            let enc = d.devices.disks[0].encryption.clone().unwrap();
            assert_eq!(
                enc.secret,
                SecretLookup::Usage("/var/lib/images/enc.img".into())
            );
            assert_eq!(enc.in_source, !inner.is_empty());
            let x = d.to_xml();
            let (enc_at, target_at) = (x.find("<encryption").unwrap(), x.find("<target").unwrap());
            assert_eq!(enc_at < target_at, enc.in_source, "{x}");
        }
    }
    let with_engine = LUKS.replace("format='luks'", "format='luks' engine='qemu'");
    let d = accept(&file_disk("raw", &with_engine, ""));
    assert!(d.to_xml().contains("engine='qemu'"));
    // On a network disk too, beside its <auth>.
    let d = accept(&net_disk("iscsi", "iqn.x/1", &format!("{CHAP}{LUKS}"), ""));
    assert!(d.devices.disks[0].encryption.as_ref().unwrap().in_source);
}

#[test]
fn encryption_follows_libvirts_and_qemus_rules() {
    use ModelErrorKind::{Invalid, Unsupported};
    let cases: &[(String, ModelErrorKind, &str)] = &[
        (file_disk("raw", LUKS, LUKS), Unsupported, "already found"),
        (
            file_disk("raw", "<encryption format='qcow'/>", ""),
            Unsupported,
            "old qcow/qcow2 encryption",
        ),
        (
            file_disk("raw", "<encryption format='luks2'/>", ""),
            Unsupported,
            "only 'luks'",
        ),
        (
            file_disk("raw", "<encryption format='luks'/>", ""),
            Invalid,
            "needs its passphrase",
        ),
        (
            file_disk(
                "raw",
                &LUKS.replace("format='luks'", "format='luks' engine='librbd'"),
                "",
            ),
            Unsupported,
            "engine",
        ),
        (
            file_disk(
                "raw",
                "<encryption format='luks'><secret type='volume' usage='x'/></encryption>",
                "",
            ),
            Unsupported,
            "passphrase",
        ),
        (
            file_disk(
                "raw",
                &LUKS.replace(
                    "</encryption>",
                    "<cipher name='aes' size='256'/></encryption>",
                ),
                "",
            ),
            Unsupported,
            "unnecessary",
        ),
        (
            file_disk("vmdk", LUKS, ""),
            Unsupported,
            "only with 'raw' and 'qcow2'",
        ),
        (
            file_disk("raw", LUKS, "<transient/>"),
            Unsupported,
            "<transient/> of an encrypted disk",
        ),
    ];
    for (xml, kind, fragment) in cases {
        reject(xml, *kind, fragment);
    }
}

#[test]
fn encryption_documents_validate_against_libvirts_schema() {
    let dir = crate::scratch_dir("encryption-schema");
    let files: Vec<_> = [
        file_disk("raw", LUKS, ""),
        file_disk("qcow2", "", LUKS),
        file_disk(
            "raw",
            &LUKS.replace("format='luks'", "format='luks' engine='qemu'"),
            "",
        ),
    ]
    .iter()
    .enumerate()
    .map(|(i, xml)| {
        let f = dir.join(format!("enc{i}.xml"));
        std::fs::write(&f, accept(xml).to_xml()).unwrap();
        f
    })
    .collect();
    xmllint_validate(&files);
}
