//! Definitions built to break the reader, the command line or the file
//! system, sent through the daemon and to an embedded driver: each is
//! refused with the same stable code both ways, or accepted and then
//! escaped wherever it goes. Never a panic, never an extra QEMU option,
//! never a file written outside the config directory.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::Write;
use std::path::Path;

use qvirt::driver::{DomainState, ListFilter};
use qvirt::qemu::argv::{RuntimePaths, build_argv};
use qvirt::qemu::caps::QemuCaps;
use qvirt::transport::SocketDriver;
use qvirt::transport::wire::{Call, Frame, Header, Kind, MAX_FRAME, PROTOCOL_VERSION};
use qvirt::{DomainDef, Driver, ErrorCode};

use crate::support::*;

/// A definition of `name` (inserted as is) with a fixed UUID and a raw
/// disk at `path` (inserted as is, so entities and character references
/// work).
fn with_disk(name: &str, path: &str) -> String {
    small_vm_xml(
        name,
        "",
        &format!(
            "<disk type='file' device='disk'><driver name='qemu' type='raw'/>\
             <source file='{path}'/><target dev='vda' bus='virtio'/></disk>"
        ),
    )
    .replace(
        "<memory",
        &format!("<uuid>{}</uuid><memory", uuid_for(name)),
    )
}

/// A UUID of its own for each name.
fn uuid_for(name: &str) -> uuid::Uuid {
    let h = name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    uuid::Uuid::from_u128(0x6b1c_7e1a_96a0_4d3c_8c1e_0000_0000_0000 | u128::from(h >> 16))
}

/// Nested `<a>` elements, `depth` deep, inside a domain.
fn deep(depth: usize) -> String {
    format!(
        "<domain type='qemu'>{}{}</domain>",
        "<a>".repeat(depth),
        "</a>".repeat(depth)
    )
}

/// The classic entity expansion bomb, ten levels of ten.
fn laughs() -> String {
    let mut dtd = String::from("<!ENTITY l0 'lol'>");
    for i in 1..10 {
        let refs = format!("&l{};", i - 1).repeat(10);
        dtd.push_str(&format!("<!ENTITY l{i} '{refs}'>"));
    }
    format!(
        "<?xml version='1.0'?><!DOCTYPE domain [{dtd}]>{}",
        small_vm_xml("bomb", "", "").replace("<memory", "<description>&l9;</description><memory")
    )
}

/// Each hostile definition and the code it must be refused with.
fn refused_cases() -> Vec<(&'static str, String, ErrorCode)> {
    use ErrorCode::*;
    let fw = |name: &str| small_vm_xml(name, "", "");
    vec![
        ("100000-deep nesting", deep(100_000), LimitExceeded),
        ("65-deep nesting", deep(65), LimitExceeded),
        ("entity expansion bomb", laughs(), InvalidXml),
        (
            "external entity",
            format!(
                "<!DOCTYPE domain [<!ENTITY x SYSTEM 'file:///etc/shadow'>]>{}",
                fw("xxe").replace("<memory", "<description>&x;</description><memory")
            ),
            InvalidXml,
        ),
        (
            "undeclared entity",
            fw("ent").replace("<memory", "<description>&x;</description><memory"),
            InvalidXml,
        ),
        (
            "5 MB document",
            fw("big").replace(
                "<memory",
                &format!("<description>{}</description><memory", "x".repeat(5 << 20)),
            ),
            LimitExceeded,
        ),
        ("name with '/'", fw("a/b"), ConfigInvalid),
        (
            "name escaping the directory",
            fw("../../etc/cron.d/x"),
            ConfigInvalid,
        ),
        ("name '..'", fw(".."), ConfigInvalid),
        ("name '.'", fw("."), ConfigInvalid),
        ("hidden name", fw(".x"), ConfigInvalid),
        ("empty name", fw(""), ConfigInvalid),
        ("name with NUL (reference)", fw("a&#0;b"), InvalidXml),
        ("name with NUL (byte)", fw("a\0b"), InvalidXml),
        ("name with newline", fw("a\nb"), ConfigInvalid),
        (
            "name with newline (reference)",
            fw("a&#10;b"),
            ConfigInvalid,
        ),
        ("name of 201 bytes", fw(&"n".repeat(201)), ConfigInvalid),
        (
            "disk path with newline",
            with_disk("nl", "/tmp/a&#10;-drive file=/etc/shadow"),
            ConfigInvalid,
        ),
        (
            "relative disk path",
            with_disk("rel", "../etc/shadow"),
            ConfigInvalid,
        ),
        (
            "uuid that is not one",
            fw("nouuid").replace("<memory", "<uuid>not-a-uuid</uuid><memory"),
            ConfigInvalid,
        ),
        (
            "uuid with a path in it",
            fw("pathuuid").replace("<memory", "<uuid>../../../etc/passwd</uuid><memory"),
            ConfigInvalid,
        ),
    ]
}

/// Hostile-looking definitions that are valid: each must be kept as
/// written and read back the same by a new manager.
fn accepted_cases() -> Vec<(&'static str, String)> {
    vec![
        ("comma path", with_disk("comma", "/tmp/a,file=/etc/shadow")),
        ("doubled commas", with_disk("commas", "/tmp/a,,b")),
        (
            "'=' in a path",
            with_disk("equals", "/tmp/x=y,format=qcow2"),
        ),
        ("comma in the name", small_vm_xml("a,b=c", "", "")),
        (
            "markup in the name",
            small_vm_xml("q&apos;&quot;&lt;&amp;&gt;", "", ""),
        ),
        ("name of 200 bytes", small_vm_xml(&"n".repeat(200), "", "")),
        ("unicode name", small_vm_xml("ünïcødé-名前", "", "")),
    ]
}

/// The (case, code) each refused case gets from `d`.
fn refusals(d: &dyn Driver) -> Vec<(&'static str, ErrorCode)> {
    refused_cases()
        .into_iter()
        .map(|(what, xml, _)| {
            let e = d.define_xml(&xml).map(drop).expect_err(what);
            assert!(!e.message.is_empty(), "{what}: an empty message");
            (what, e.code)
        })
        .collect()
}

#[test]
fn hostile_definitions_are_refused_or_escaped_the_same_everywhere() {
    let dir = TestDir::new("hostile");
    let sentinel = TestDir::new("hostile-sentinel");
    std::fs::write(sentinel.path.join("keep"), "untouched").unwrap();
    let daemon = Daemon::start(&dir.path, &[]);
    let embedded_dir = TestDir::new("hostile-emb");
    let embedded = qvirt::connect(&format!(
        "qemu:///embed?root={}",
        embedded_dir.path.display()
    ))
    .unwrap();
    let skip = ["log", "config", "qvirtd-"];
    let root_before = snapshot(&dir.path, &skip);
    let sentinel_before = snapshot(&sentinel.path, &[]);
    let d = daemon.connect();

    // Refused, with the promised code, the same through the daemon and
    // in-process.
    let expected: Vec<(&str, ErrorCode)> = refused_cases()
        .into_iter()
        .map(|(w, _, c)| (w, c))
        .collect();
    assert_eq!(refusals(&*d), expected);
    assert_eq!(refusals(&*embedded), expected);

    // Accepted, kept verbatim, and read back by a new manager.
    let mut names = Vec::new();
    for (what, xml) in accepted_cases() {
        let want = DomainDef::from_xml(&xml).unwrap_or_else(|e| panic!("{what}: {e}"));
        let dom = d.define_xml(&xml).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(dom.name, want.name);
        embedded
            .define_xml(&xml)
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        names.push(want.name);
    }
    // Lookups and calls naming hostile names find nothing, touch nothing.
    for name in ["../../etc/passwd", "a/b", "..", "", "a\0b"] {
        let e = d.lookup_by_name(name).unwrap_err();
        assert_eq!(e.code, ErrorCode::NoDomain, "{name:?}");
    }
    assert!(qvirt::transport::SocketDriver::connect(&daemon.socket, &daemon.uri()).is_ok());
    drop(d);
    drop(daemon);

    // Nothing was written but the definitions, each in the config
    // directory under its own name, and each parses as it was defined.
    let mut files: Vec<String> = std::fs::read_dir(dir.path.join("config"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|f| f != "autostart")
        .collect();
    files.sort();
    let mut want: Vec<String> = names.iter().map(|n| format!("{n}.xml")).collect();
    want.sort();
    assert_eq!(files, want);
    let diff = snapshot_diff(&root_before, &snapshot(&dir.path, &skip));
    assert!(diff.is_empty(), "outside the config directory: {diff:?}");
    let diff = snapshot_diff(&sentinel_before, &snapshot(&sentinel.path, &[]));
    assert!(diff.is_empty(), "the sentinel directory: {diff:?}");
    let again = qvirt::connect(&format!("qemu:///embed?root={}", dir.path.display())).unwrap();
    let mut listed: Vec<String> = again
        .list(ListFilter::ALL)
        .unwrap()
        .into_iter()
        .map(|s| s.domain.name)
        .collect();
    listed.sort();
    names.sort();
    assert_eq!(listed, names, "a new manager reads every file back");
}

/// A 100 MB definition: the model refuses it in-process; over the wire
/// the frame limit refuses it, the daemon stays up, and the client that
/// sent it can go on calling.
#[test]
fn a_100_mb_definition_is_refused_by_size() {
    let dir = TestDir::new("huge");
    let huge = small_vm_xml("huge", "", "").replace(
        "<memory",
        &format!(
            "<description>{}</description><memory",
            "x".repeat(100 << 20)
        ),
    );
    let e = DomainDef::from_xml(&huge).unwrap_err();
    assert_eq!(qvirt::Error::from(e).code, ErrorCode::LimitExceeded);
    let embedded_dir = TestDir::new("huge-emb");
    let embedded = qvirt::connect(&format!(
        "qemu:///embed?root={}",
        embedded_dir.path.display()
    ))
    .unwrap();
    assert_code(embedded.define_xml(&huge), ErrorCode::LimitExceeded);

    let daemon = Daemon::start(&dir.path, &[]);
    let d = SocketDriver::connect(&daemon.socket, &daemon.uri()).unwrap();
    let e = assert_code(d.define_xml(&huge), ErrorCode::LimitExceeded);
    assert!(e.message.contains("limit"), "{e}");
    d.list(ListFilter::ALL).expect("the same client goes on");

    // The same frame written raw: refused by its length, before its body
    // is read, and only that connection is closed.
    let (procedure, body) = Call::DefineXml(huge).encode();
    assert!(body.len() > MAX_FRAME);
    let frame = Frame {
        header: Header {
            version: PROTOCOL_VERSION,
            kind: Kind::Call,
            procedure,
            serial: 9,
        },
        body,
    }
    .encode();
    let mut s = raw(&daemon.socket);
    hello(&mut s);
    // The daemon stops reading at the length: the rest cannot be written.
    let _ = s.write_all(&frame[..1 << 20]);
    let frames = frames_until_closed(&mut s);
    assert_eq!(frames.len(), 1, "{frames:?}");
    assert_eq!(error_of(&frames[0]).code, ErrorCode::LimitExceeded);
    assert!(process_alive(daemon.pid()));
    d.list(ListFilter::ALL)
        .expect("other clients are untouched");
    assert!(!dir.path.join("config/huge.xml").exists());
}

/// The command line of a definition, as the driver would build it.
fn argv(xml: &str) -> Vec<OsString> {
    let def = DomainDef::from_xml(xml).unwrap();
    let caps = QemuCaps::assumed("/usr/bin/qemu-system-x86_64");
    build_argv(&def, &caps, &RuntimePaths::for_test("/run/t")).unwrap()
}

/// A path with commas and `=` stays one option value: the command line
/// differs from a plain path's only inside that value, where each comma
/// is doubled; `qvirt domxml-to-native` prints the same; and a QEMU
/// started with it opens that file and no other.
#[test]
fn a_comma_path_stays_one_option_value() {
    let plain = argv(&with_disk("c", "/tmp/plain"));
    for (path, escaped) in [
        ("/tmp/a,file=/etc/shadow", "/tmp/a,,file=/etc/shadow"),
        ("/tmp/a,,b", "/tmp/a,,,,b"),
        ("/tmp/x=y,format=qcow2", "/tmp/x=y,,format=qcow2"),
    ] {
        let hostile = argv(&with_disk("c", path));
        assert_eq!(hostile.len(), plain.len(), "{path}: an option was added");
        let mut changed = 0;
        for (h, p) in hostile.iter().zip(&plain) {
            let p = p.to_str().unwrap();
            if h != p {
                changed += 1;
                assert_eq!(
                    h.to_str().unwrap(),
                    p.replace("/tmp/plain", escaped),
                    "{path}"
                );
            }
        }
        assert_eq!(changed, 1, "{path}: only the disk's value differs");
    }

    // The command line the CLI prints keeps `,,` inside one word.
    let dir = TestDir::new("native");
    let file = dir.path.join("c.xml");
    std::fs::write(&file, with_disk("c", "/tmp/a,file=/etc/shadow")).unwrap();
    let out = std::process::Command::new(QVIRT)
        .arg("-c")
        .arg(format!("qemu:///embed?root={}", dir.path.display()))
        .args(["domxml-to-native", "qemu-argv"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = String::from_utf8(out.stdout).unwrap();
    let words: Vec<&str> = line.split_whitespace().collect();
    let blockdevs: Vec<&str> = words
        .windows(2)
        .filter(|w| w[0] == "-blockdev")
        .map(|w| w[1])
        .collect();
    assert_eq!(blockdevs.len(), 1, "{line}");
    assert!(
        blockdevs[0].starts_with("driver=file,filename=/tmp/a,,file=/etc/shadow,"),
        "{line}"
    );
    assert!(
        !dir.path.join("config").exists(),
        "domxml-to-native defines nothing"
    );

    // A real QEMU opens the file with the comma in its name, not the file
    // the comma would smuggle in.
    let _heavy = heavy();
    let decoy = dir.path.join("decoy");
    std::fs::write(&decoy, vec![0u8; 1 << 20]).unwrap();
    // The disk's path is the decoy's behind a `,file=`: a directory of
    // that name holds a copy of the tree down to the disk.
    let disk = format!("{}/d,file={}", dir.path.display(), decoy.display());
    std::fs::create_dir_all(Path::new(&disk).parent().unwrap()).unwrap();
    std::fs::write(&disk, vec![0u8; 1 << 20]).unwrap();
    let root = dir.path.join("state");
    let d = qvirt::connect(&format!("qemu:///embed?root={}", root.display())).unwrap();
    let dom = d.define_xml(&with_disk("c", &disk)).unwrap();
    let dom = d.start(&dom).unwrap();
    assert_eq!(d.info(&dom).unwrap().state, DomainState::Running);
    let pid = qemu_pid(&root, "c");
    let open: BTreeMap<String, ()> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .map(|p| (p.display().to_string(), ()))
        .collect();
    assert!(open.contains_key(&disk), "QEMU has {open:?}");
    assert!(
        !open.contains_key(decoy.to_str().unwrap()),
        "QEMU opened the decoy"
    );
    d.destroy(&dom).unwrap();
}
