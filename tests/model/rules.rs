//! One test per validation rule, unit and limit.

use qvirt::model::{DomainDef, MAX_XML_BYTES, MacAddr, ModelErrorKind, parse_memory};
use qvirt::{Error, ErrorCode};

use crate::{accept, doc, doc_os, reject, round_trip};

use ModelErrorKind::{Invalid, InvalidXml, TooLarge, Unsupported};

fn memory(size: &str, unit: &str) -> String {
    format!(
        "<domain type='qemu'><name>m</name><memory unit='{unit}'>{size}</memory><os><type>hvm</type></os></domain>"
    )
}

#[test]
fn every_memory_unit_scales_like_libvirt() {
    let cases: &[(&str, u64)] = &[
        ("b", 1),
        ("bytes", 1),
        ("KB", 1000),
        ("k", 1024),
        ("KiB", 1024),
        ("MB", 1000u64.pow(2)),
        ("M", 1024u64.pow(2)),
        ("MiB", 1024u64.pow(2)),
        ("GB", 1000u64.pow(3)),
        ("G", 1024u64.pow(3)),
        ("GiB", 1024u64.pow(3)),
        ("TB", 1000u64.pow(4)),
        ("T", 1024u64.pow(4)),
        ("TiB", 1024u64.pow(4)),
    ];
    for (unit, bytes) in cases {
        let n = 4 * 1024 * 1024 * 1024u64 / bytes.min(&(1024 * 1024 * 1024)) + 3;
        let want = (n * bytes).div_ceil(1024);
        assert_eq!(
            parse_memory(&n.to_string(), Some(unit)),
            Some(want),
            "unit {unit}"
        );
        let d = accept(&memory(&n.to_string(), unit));
        assert_eq!(d.memory_kib, want, "unit {unit}");
    }
    assert_eq!(parse_memory("2048", None), Some(2048), "no unit means KiB");
    // Bytes round up to a whole KiB, as libvirt does.
    assert_eq!(parse_memory("1048577", Some("b")), Some(1025));
    reject(&memory("8", "furlong"), Invalid, "unknown unit");
    reject(&memory("-8", "KiB"), Invalid, "expected an unsigned number");
    reject(&memory("99999999999", "TiB"), Invalid, "too large");
    reject(
        &memory("18446744073709551616", "b"),
        Invalid,
        "expected an unsigned number",
    );
}

#[test]
fn cputune_period_and_quota_rules() {
    let d = accept(&doc(
        "<cputune><global_period>100000</global_period><global_quota>-1</global_quota>\
         <iothread_period>50000</iothread_period><iothread_quota>20000</iothread_quota></cputune>",
        "",
    ));
    let t = d.cputune.unwrap();
    assert_eq!((t.global_period, t.global_quota), (Some(100_000), Some(-1)));
    assert_eq!(
        (t.iothread_period, t.iothread_quota),
        (Some(50_000), Some(20_000))
    );
    for (xml, what) in [
        ("<global_period>999</global_period>", "global_period"),
        (
            "<iothread_period>2000000</iothread_period>",
            "iothread_period",
        ),
        ("<global_quota>10</global_quota>", "global_quota"),
        ("<iothread_quota>999</iothread_quota>", "iothread_quota"),
        ("<quota>5</quota>", "'quota'"),
    ] {
        reject(
            &doc(&format!("<cputune>{xml}</cputune>"), ""),
            Invalid,
            what,
        );
    }
}

#[test]
fn blkiotune_rules() {
    let d = accept(&doc(
        "<blkiotune><weight>800</weight><device><path>/dev/sda</path><weight>500</weight>\
         <read_bytes_sec>10000</read_bytes_sec><write_iops_sec>0</write_iops_sec></device></blkiotune>",
        "",
    ));
    let b = d.blkiotune.unwrap();
    assert_eq!(b.weight, Some(800));
    assert_eq!(b.devices[0].weight, Some(500));
    assert_eq!(b.devices[0].read_bytes_sec, Some(10000));
    assert_eq!(b.devices[0].write_iops_sec, None, "0 is no limit");
    let d = accept(&doc("<blkiotune><weight>0</weight></blkiotune>", ""));
    assert_eq!(d.blkiotune, None);
    reject(
        &doc("<blkiotune><weight>5000</weight></blkiotune>", ""),
        Invalid,
        "out of range",
    );
    reject(
        &doc(
            "<blkiotune><device><path>/dev/sda</path></device><device><path>/dev/sda</path></device></blkiotune>",
            "",
        ),
        Invalid,
        "duplicate blkio device path '/dev/sda'",
    );
    reject(
        &doc(
            "<blkiotune><device><weight>100</weight></device></blkiotune>",
            "",
        ),
        Invalid,
        "missing <path>",
    );
    reject(
        &doc(
            "<blkiotune><device><path>sda</path></device></blkiotune>",
            "",
        ),
        Invalid,
        "blkiotune device path",
    );
}

#[test]
fn memtune_rules() {
    let d = accept(&doc(
        "<memtune><hard_limit unit='GiB'>2</hard_limit><soft_limit>1048576</soft_limit>\
         <swap_hard_limit unit='KiB'>9007199254740991</swap_hard_limit></memtune>",
        "",
    ));
    let m = d.memtune.unwrap();
    assert_eq!(m.hard_limit_kib, Some(2 << 20));
    assert_eq!(m.soft_limit_kib, Some(1 << 20), "KiB by default");
    assert_eq!(
        m.swap_hard_limit_kib, None,
        "libvirt's 'unlimited' is no limit"
    );
    let d = accept(&doc(
        "<memtune><hard_limit>9007199254740991</hard_limit></memtune>",
        "",
    ));
    assert_eq!(
        d.memtune, None,
        "only unlimited values: nothing to write back"
    );
    reject(
        &doc(
            "<memtune><hard_limit>2048</hard_limit><swap_hard_limit>1024</swap_hard_limit></memtune>",
            "",
        ),
        Invalid,
        "hard_limit tunable value must be lower than or equal to swap_hard_limit",
    );
    reject(
        &doc("<memtune><min_guarantee>1024</min_guarantee></memtune>", ""),
        Unsupported,
        "'min_guarantee' is not supported by QEMU",
    );
}

#[test]
fn memory_and_vcpu_rules() {
    reject(
        &memory("1023", "KiB"),
        Invalid,
        "below the minimum of 1 MiB",
    );
    reject(
        &doc("<currentMemory unit='MiB'>65</currentMemory>", ""),
        Invalid,
        "exceeds maximum",
    );
    reject(&doc("<vcpu>0</vcpu>", ""), Invalid, "vcpu count 0");
    reject(
        &doc("<vcpu current='3'>2</vcpu>", ""),
        Invalid,
        "current vcpu count 3",
    );
    reject(
        &doc("<vcpu cpuset='aaa'>2</vcpu>", ""),
        Invalid,
        "Failed to parse bitmap 'aaa'",
    );
    reject(
        &doc("<vcpu cpuset='3-1'>2</vcpu>", ""),
        Invalid,
        "Failed to parse bitmap",
    );
    reject(
        &doc("<vcpu cpuset='1,^1'>2</vcpu>", ""),
        Invalid,
        "names no CPU",
    );
    reject(
        &doc("<vcpu placement='numad'>2</vcpu>", ""),
        Unsupported,
        "'numad'",
    );
    let d = accept(&doc("<vcpu placement='auto'>2</vcpu>", ""));
    assert_eq!(d.vcpu.placement, Some(qvirt::model::Placement::Auto));
    let d = accept(&doc(
        "<vcpu placement='static' cpuset='0-3,^2,8' current='1'>2</vcpu>",
        "",
    ));
    assert_eq!((d.vcpu.max, d.vcpu.current), (2, Some(1)));
    assert_eq!(d.vcpu.cpuset.as_deref(), Some("0-3,^2,8"));
}

#[test]
fn size_and_depth_limits() {
    let big = format!("{}{}", doc("", ""), " ".repeat(5 * 1024 * 1024));
    assert!(big.len() > MAX_XML_BYTES);
    reject(&big, TooLarge, "limit");
    // Far deeper than any stack could follow recursively; refused before
    // a tree is built, in a thread with a small stack to prove it.
    let deep = format!("<domain>{}", "<a>".repeat(100_000));
    let r = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || DomainDef::from_xml(&deep).map(|_| ()).unwrap_err())
        .unwrap()
        .join()
        .expect("no stack overflow");
    assert_eq!(r.kind, TooLarge);
    let closed = format!("{}x{}", "<a>".repeat(100_000), "</a>".repeat(100_000));
    assert_eq!(DomainDef::from_xml(&closed).unwrap_err().kind, TooLarge);
    // 64 levels are still read (and then refused for what they say).
    let ok_depth = format!(
        "<domain type='kvm'><metadata>{}{}</metadata></domain>",
        "<x:a xmlns:x='urn:x'>".repeat(62),
        "</x:a>".repeat(62)
    );
    assert_eq!(DomainDef::from_xml(&ok_depth).unwrap_err().kind, Invalid);
}

#[test]
fn dtds_and_entity_bombs_are_refused() {
    let bomb = "<?xml version='1.0'?>\n<!DOCTYPE domain [\n<!ENTITY a 'aaaaaaaaaa'>\n<!ENTITY b '&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;'>\n<!ENTITY c '&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;'>\n<!ENTITY d '&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;'>\n]>\n<domain type='kvm'><name>&d;</name></domain>";
    reject(bomb, InvalidXml, "DOCTYPE");
    reject("<!DOCTYPE domain><domain/>", InvalidXml, "DOCTYPE");
    reject(
        "<domain type='kvm'><name>&ext;</name></domain>",
        InvalidXml,
        "malformed XML at 1:",
    );
}

#[test]
fn malformed_documents_say_where() {
    reject(
        "<domain type='kvm'>\n  <name>x</nam>\n</domain>",
        InvalidXml,
        "at 2:",
    );
    reject("", InvalidXml, "malformed XML");
    reject("<vm type='kvm'/>", InvalidXml, "root element is <vm>");
    reject(
        "<x:domain xmlns:x='urn:x'/>",
        InvalidXml,
        "expected <domain>",
    );
}

#[test]
fn names_are_checked() {
    let named = |n: &str| {
        format!(
            "<domain type='kvm'><name>{n}</name><memory>65536</memory><os><type>hvm</type></os></domain>"
        )
    };
    reject(&named("a/b"), Invalid, "contains '/'");
    reject(&named("..x"), Invalid, "starts with '.'");
    reject(&named(".hidden"), Invalid, "starts with '.'");
    reject(&named("a&#10;b"), Invalid, "control character");
    reject(&named("a&#9;b"), Invalid, "control character");
    reject(&named("a&#0;b"), InvalidXml, "malformed XML");
    reject(&named(""), Invalid, "empty");
    reject(&named(&"n".repeat(201)), Invalid, "more than 200");
    let d = accept(&named(&"é".repeat(100)));
    assert_eq!(d.name.len(), 200);
    let d = accept(&named("a &amp; b &lt;c&gt; 'd' \"e\", f=g"));
    assert_eq!(d.name, "a & b <c> 'd' \"e\", f=g");
    // Built in code, a NUL cannot be written as XML at all.
    let mut d = d;
    d.name = "nul\0name".into();
    assert_eq!(d.validate().unwrap_err().kind, Invalid);
    d.name = "ok".into();
    d.title = Some("two\nlines".into());
    assert_eq!(d.validate().unwrap_err().kind, Invalid);
    d.title = None;
    d.description = Some("bad \u{1} char".into());
    assert_eq!(d.validate().unwrap_err().kind, Invalid);
    d.description = Some("line\r\nend\ttab".into());
    round_trip(&d);
}

#[test]
fn uuids_are_checked_or_generated() {
    reject(
        &doc("<uuid>not-a-uuid</uuid>", ""),
        Invalid,
        "expected a UUID",
    );
    reject(
        &doc("<uuid>{4dea22b3-1d52-d8f3-2516-782e98ab3fa0}</uuid>", ""),
        Invalid,
        "UUID",
    );
    let d = accept(&doc("<uuid>4DEA22B31D52D8F32516782E98AB3FA0</uuid>", ""));
    assert_eq!(d.uuid.to_string(), "4dea22b3-1d52-d8f3-2516-782e98ab3fa0");
    let a = accept(&doc("", ""));
    let b = accept(&doc("", ""));
    assert_ne!(a.uuid, b.uuid);
    assert_eq!(a.uuid.get_version_num(), 4);
}

#[test]
fn macs_are_read_generated_and_written_lower_case() {
    let d = accept(&doc(
        "",
        "<interface type='user'><mac address='52:54:00:AB:CD:EF'/></interface>",
    ));
    assert_eq!(
        d.devices.interfaces[0].mac,
        MacAddr([0x52, 0x54, 0, 0xab, 0xcd, 0xef])
    );
    assert!(d.to_xml().contains("address='52:54:00:ab:cd:ef'"));
    let d = accept(&doc("", "<interface type='user'/><interface type='user'/>"));
    let (m1, m2) = (d.devices.interfaces[0].mac, d.devices.interfaces[1].mac);
    assert_eq!(&m1.0[..3], &[0x52, 0x54, 0x00]);
    assert_ne!(m1, m2);
    reject(
        &doc(
            "",
            "<interface type='user'><mac address='01:00:5e:00:00:01'/></interface>",
        ),
        Invalid,
        "multicast",
    );
    reject(
        &doc(
            "",
            "<interface type='user'><mac address='52:54:00:zz:00:01'/></interface>",
        ),
        Invalid,
        "MAC address",
    );
    assert_eq!(
        "52:54:00:0A:0b:0c".parse::<MacAddr>().unwrap().to_string(),
        "52:54:00:0a:0b:0c"
    );
}

#[test]
fn os_and_lifecycle_rules() {
    reject(
        &doc_os("<type>hvm</type><initrd>/i</initrd>", "", ""),
        Invalid,
        "without a <kernel>",
    );
    reject(
        &doc_os("<type>hvm</type><kernel>vmlinuz</kernel>", "", ""),
        Invalid,
        "absolute",
    );
    reject(
        &doc_os("<type>hvm</type><nvram>/v</nvram>", "", ""),
        Invalid,
        "pflash",
    );
    reject(
        &doc(
            "<on_poweroff>restart</on_poweroff><on_reboot>destroy</on_reboot>",
            "",
        ),
        Unsupported,
        "on_reboot 'destroy'",
    );
    reject(
        &doc_os("<type machine='pc q35'>hvm</type>", "", ""),
        Invalid,
        "machine type",
    );
    reject(
        &doc("<clock><timer name='rtc' tickpolicy='merge'/></clock>", ""),
        Unsupported,
        "merge",
    );
    reject(
        &doc(
            "<clock><timer name='rtc'><catchup slew='1'/></timer></clock>",
            "",
        ),
        Invalid,
        "tickpolicy='catchup'",
    );
    reject(
        &doc("<clock><timer name='platform'/></clock>", ""),
        Unsupported,
        "platform",
    );
    reject(
        "<domain type='qemu'><name>c</name><memory>65536</memory><os><type>hvm</type></os><cpu mode='host-passthrough'/></domain>",
        Invalid,
        "host-passthrough",
    );
}

#[test]
fn errors_map_to_stable_codes() {
    let code = |xml: &str| Error::from(DomainDef::from_xml(xml).unwrap_err()).code;
    assert_eq!(code("<domain"), ErrorCode::InvalidXml);
    assert_eq!(
        code(&doc(
            "<seclabel type='static' model='dac'><label>+0:+0</label></seclabel>",
            ""
        )),
        ErrorCode::ConfigUnsupported
    );
    assert_eq!(code(&memory("1", "KiB")), ErrorCode::ConfigInvalid);
    assert_eq!(
        code(&" ".repeat(MAX_XML_BYTES + 1)),
        ErrorCode::LimitExceeded
    );
}

/// Documents near the size limit, built to hit every check that compares
/// devices with each other, are read in linear-ish time.
#[test]
fn large_documents_are_read_quickly() {
    let name = |mut i: usize| {
        let mut s = String::new();
        loop {
            s.insert(0, (b'a' + (i % 26) as u8) as char);
            i /= 26;
            if i == 0 {
                break s;
            }
            i -= 1;
        }
    };
    let mut devices = String::new();
    for i in 0..20_000 {
        devices.push_str(&format!(
            "<disk><source file='/a'/><target dev='sd{}'/></disk>",
            name(i)
        ));
    }
    for _ in 0..5_000 {
        devices.push_str("<controller type='scsi'/>");
    }
    devices.push_str("<interface type='user'>");
    for i in 1..5_000u32 {
        devices.push_str(&format!(
            "<portForward proto='tcp'><range start='{}'/></portForward>",
            i * 10
        ));
    }
    devices.push_str("</interface>");
    let xml = doc("", &devices);
    assert!(xml.len() < qvirt::model::MAX_XML_BYTES);
    let started = std::time::Instant::now();
    let d = DomainDef::from_xml(&xml)
        .map_err(|e| e.message)
        .unwrap_err();
    // sd disks past the SCSI controllers' reach are refused, but only
    // after every pairwise check has run.
    assert!(
        d.contains("drive address") || d.contains("controller"),
        "{d}"
    );
    assert!(
        started.elapsed().as_secs() < 20,
        "took {:?}",
        started.elapsed()
    );

    // Namespaces declared once on <domain> and used by many metadata
    // children are repeated on each: bounded by the size limit.
    let decls: String = (0..2000)
        .map(|i| format!(" xmlns:p{i}='urn:{}'", "u".repeat(500)))
        .collect();
    let uses: String = (0..2000)
        .map(|i| format!("<p{i}:a/>"))
        .collect::<String>()
        .repeat(5);
    let xml = format!(
        "<domain type='kvm'{decls}><name>m</name><memory>65536</memory><os><type>hvm</type></os><metadata>{uses}</metadata></domain>"
    );
    let started = std::time::Instant::now();
    let r = DomainDef::from_xml(&xml);
    assert!(
        matches!(&r, Err(e) if e.kind == TooLarge),
        "{:?}",
        r.map(|_| ())
    );
    assert!(
        started.elapsed().as_secs() < 20,
        "took {:?}",
        started.elapsed()
    );
}
