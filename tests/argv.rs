//! The QEMU command line: golden files, an escaping property, and real
//! QEMU starting from what we generate.
//!
//! Golden files: every `tests/data/argv/CASE.xml` is built with fixed
//! capabilities and paths and compared with `CASE.args` (one argument per
//! line), or with `CASE.err` (`error-code-name: message substring`).
//! `QVIRT_REGENERATE_GOLDEN=1 cargo test --test argv` rewrites the `.args`
//! files; review the diff before committing it.

#[path = "argv/qemu.rs"]
mod qemu;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use qvirt::model::{CharSource, LoaderType};
use qvirt::qemu::argv::{RuntimePaths, build_argv};
use qvirt::qemu::caps::QemuCaps;
use qvirt::{DomainDef, Error};

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/argv")
}

/// The capabilities of every golden case: the oldest supported QEMU, with
/// KVM unless the case is about KVM missing.
fn caps_for(case: &str) -> QemuCaps {
    let mut caps = QemuCaps::assumed("/usr/bin/qemu-system-x86_64");
    caps.kvm = !case.contains("kvm-unavailable");
    caps
}

/// Fixed paths under `/run/qvirt-test/CASE`; a few cases change one choice
/// the driver makes, as their name says.
fn paths_for(case: &str) -> RuntimePaths {
    let mut paths = RuntimePaths::for_test(&format!("/run/qvirt-test/{case}"));
    if case.contains("noport") {
        paths.vnc_port = None;
    } else if case.contains("autoport") {
        paths.vnc_port = Some(5907);
    }
    if case.contains("no-nvram") {
        paths.nvram = None;
    }
    if case.contains("nolog") {
        paths.serial_log = None;
    }
    paths.incoming = case.contains("incoming");
    paths
}

fn build(case: &str, xml: &str) -> Result<Vec<String>, Error> {
    let def = DomainDef::from_xml(xml)?;
    let argv = build_argv(&def, &caps_for(case), &paths_for(case))?;
    Ok(argv
        .into_iter()
        .map(|a| a.into_string().expect("UTF-8"))
        .collect())
}

/// A line diff (longest common subsequence), `-` expected, `+` actual.
fn diff(expected: &[&str], actual: &[&str]) -> String {
    let (n, m) = (expected.len(), actual.len());
    let mut lcs = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if expected[i] == actual[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, String::new());
    while i < n || j < m {
        if i < n && j < m && expected[i] == actual[j] {
            out += &format!("  {}\n", expected[i]);
            i += 1;
            j += 1;
        } else if j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j]) {
            out += &format!("+ {}\n", actual[j]);
            j += 1;
        } else {
            out += &format!("- {}\n", expected[i]);
            i += 1;
        }
    }
    out
}

#[test]
fn golden_command_lines() {
    let dir = data_dir();
    let regenerate = std::env::var_os("QVIRT_REGENERATE_GOLDEN").is_some_and(|v| v == "1");
    let mut cases: Vec<String> = std::fs::read_dir(&dir)
        .expect("tests/data/argv exists")
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            name.strip_suffix(".xml").map(str::to_string)
        })
        .collect();
    cases.sort();
    assert!(cases.len() >= 25, "only {} golden cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let xml = std::fs::read_to_string(dir.join(format!("{case}.xml"))).unwrap();
        let result = build(case, &xml);
        let err_file = dir.join(format!("{case}.err"));
        if err_file.exists() {
            let expected = std::fs::read_to_string(&err_file).unwrap();
            let (code, text) = expected.trim().split_once(": ").expect("CODE: text");
            match result {
                Ok(_) => failures.push(format!("{case}: built, expected {code}: {text}")),
                Err(e) if e.code.name() != code || !e.message.contains(text) => {
                    failures.push(format!(
                        "{case}: got {}: {}, expected {code}: ...{text}...",
                        e.code.name(),
                        e.message
                    ))
                }
                Err(_) => {}
            }
            continue;
        }
        let args_file = dir.join(format!("{case}.args"));
        let argv = match result {
            Ok(argv) => argv,
            Err(e) => {
                failures.push(format!("{case}: {}: {}", e.code.name(), e.message));
                continue;
            }
        };
        let actual = argv.join("\n") + "\n";
        if regenerate {
            std::fs::write(&args_file, &actual).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&args_file).unwrap_or_default();
        if expected != actual {
            let e: Vec<&str> = expected.lines().collect();
            let a: Vec<&str> = actual.lines().collect();
            failures.push(format!(
                "{case}: differs from {} (- expected, + actual; QVIRT_REGENERATE_GOLDEN=1 rewrites it):\n{}",
                args_file.display(),
                diff(&e, &a)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Splits a QEMU option value as QEMU does: on single commas, `,,` being
/// a literal comma. Returns `(key, value)` items; an item with no `=` has
/// an empty key (the implied first value).
fn split_opts(value: &str) -> Vec<(String, String)> {
    let mut items = vec![String::new()];
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ',' if chars.peek() == Some(&',') => {
                chars.next();
                items.last_mut().unwrap().push(',');
            }
            ',' => items.push(String::new()),
            c => items.last_mut().unwrap().push(c),
        }
    }
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| match item.split_once('=') {
            // The implied first value never holds user text in our output.
            Some((k, v)) if !(i == 0 && k.contains(['/', ' '])) => (k.to_string(), v.to_string()),
            _ => (String::new(), item),
        })
        .collect()
}

/// The option values of `option` whose items include `key` (and, when
/// given, the item `select`).
fn with_key<'a>(
    argv: &'a [String],
    option: &str,
    key: &str,
    select: Option<(&str, &str)>,
) -> Vec<&'a str> {
    argv.windows(2)
        .filter(|w| w[0] == option)
        .filter(|w| {
            let items = split_opts(&w[1]);
            items.iter().any(|(k, _)| k == key)
                && select.is_none_or(|(k, v)| items.iter().any(|(a, b)| a == k && b == v))
        })
        .map(|w| w[1].as_str())
        .collect()
}

/// Asserts that exactly one `option` value carries `key` (and `select`),
/// that its keys are exactly `keys`, and that `key`'s value is `expected`.
fn assert_one_value(
    argv: &[String],
    option: &str,
    (key, select): (&str, Option<(&str, &str)>),
    keys: &[&str],
    expected: &str,
) {
    let found = with_key(argv, option, key, select);
    assert_eq!(found.len(), 1, "{option} with {key}: {found:?}");
    let items = split_opts(found[0]);
    let got: Vec<&str> = items.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(got, keys, "keys of {}", found[0]);
    let value = &items.iter().find(|(k, _)| k == key).unwrap().1;
    assert_eq!(value, expected, "value of {key} in {}", found[0]);
}

/// The base of the escaping property: one of each string-carrying device.
const PROPERTY_BASE: &str = "<domain type='qemu'>
  <name>base</name>
  <uuid>1ccfd97d-5eb4-478a-bbe6-88d254c16db7</uuid>
  <memory>65536</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='q35'>hvm</type>
    <loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE.fd</loader>
    <nvram>/var/lib/vars.fd</nvram>
    <kernel>/boot/vmlinuz</kernel>
    <cmdline>console=ttyS0</cmdline>
  </os>
  <features><acpi/></features>
  <devices>
    <disk type='file' device='disk'>
      <source file='/var/lib/disk.img'/>
      <target dev='vda' bus='virtio'/>
      <serial>S1</serial>
    </disk>
    <interface type='ethernet'>
      <mac address='52:54:00:00:00:01'/>
      <target dev='tap0'/>
      <model type='virtio'/>
    </interface>
    <serial type='file'>
      <source path='/var/log/serial.log'/>
      <target port='0'/>
    </serial>
    <input type='passthrough' bus='virtio'>
      <source evdev='/dev/input/event0'/>
    </input>
    <graphics type='vnc' port='5901' autoport='no' passwd='pw'/>
    <memballoon model='none'/>
  </devices>
</domain>";

/// Strings with the characters that matter to QEMU's option syntax.
fn hostile() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z,=/ .:-]{1,24}",
        "[,]{1,4}[a-z=]{0,6}[,]{0,3}",
        "\\PC{1,16}",
        Just("/tmp/a,file=/etc/shadow".to_string()),
        Just("x,,".to_string()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn user_strings_stay_one_value(s in hostile()) {
        let mut def = DomainDef::from_xml(PROPERTY_BASE).expect("the base parses");
        def.name = s.clone();
        def.devices.disks[0].source = Some(s.clone());
        def.devices.disks[0].serial = Some(s.clone());
        def.devices.interfaces[0].target_dev = Some(s.clone());
        def.devices.serials[0].source = CharSource::File { path: s.clone(), append: None };
        def.devices.inputs[0].evdev = Some(s.clone());
        def.devices.graphics[0].passwd = Some(s.clone());
        def.os.loader.as_mut().unwrap().path = Some(s.clone());
        assert_eq!(def.os.loader.as_ref().unwrap().kind, Some(LoaderType::Pflash));
        def.os.nvram.as_mut().unwrap().path = Some(s.clone());
        def.os.kernel = Some(s.clone());
        def.os.cmdline = Some(s.clone());
        let paths = RuntimePaths::new("/run/p");
        let argv: Vec<String> = build_argv(&def, &QemuCaps::assumed("/usr/bin/qemu-system-x86_64"), &paths)
            .unwrap()
            .into_iter()
            .map(|a| a.into_string().unwrap())
            .collect();
        let file = ["driver", "filename", "node-name", "read-only"];
        assert_one_value(&argv, "-name", ("guest", None), &["guest", "debug-threads"], &s);
        for node in ["virtio-disk0-storage", "pflash0-storage", "pflash1-storage"] {
            let select = ("filename", Some(("node-name", node)));
            assert_one_value(&argv, "-blockdev", select, &file, &s);
        }
        let disk = ["", "id", "bus", "addr", "drive", "serial", "bootindex"];
        assert_one_value(&argv, "-device", ("serial", None), &disk, &s);
        let tap = ["", "id", "ifname", "script", "downscript"];
        assert_one_value(&argv, "-netdev", ("ifname", None), &tap, &s);
        let serial = ("path", Some(("id", "charserial0")));
        assert_one_value(&argv, "-chardev", serial, &["", "id", "path"], &s);
        let evdev = ["", "id", "bus", "addr", "evdev"];
        assert_one_value(&argv, "-device", ("evdev", None), &evdev, &s);
        prop_assert_eq!(with_key(&argv, "-blockdev", "filename", None).len(), 3);
        // Separate arguments are passed whole.
        let after = |opt: &str| argv.windows(2).find(|w| w[0] == opt).map(|w| w[1].clone());
        prop_assert_eq!(after("-kernel"), Some(s.clone()));
        prop_assert_eq!(after("-append"), Some(s.clone()));
        // The VNC password never reaches the command line.
        let vnc = after("-vnc").unwrap();
        prop_assert!(vnc.ends_with(",password=on,audiodev=audio1"), "{}", vnc);
        if s.len() > 3 {
            prop_assert!(!argv.iter().any(|a| a.contains(&s) && a.contains("password")));
        }
    }
}

#[test]
fn nul_in_a_user_string_is_refused() {
    let mut def = DomainDef::from_xml(PROPERTY_BASE).expect("the base parses");
    def.devices.disks[0].source = Some("/tmp/a\0b".into());
    let e = build_argv(
        &def,
        &QemuCaps::assumed("/usr/bin/qemu-system-x86_64"),
        &RuntimePaths::new("/r"),
    )
    .unwrap_err();
    assert_eq!(e.code.name(), "config-invalid");
}

/// Every device kind the command line can emit appears in some golden file.
#[test]
fn goldens_cover_every_device_kind() {
    let dir = data_dir();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "args") {
            let text = std::fs::read_to_string(&path).unwrap();
            let lines: Vec<&str> = text.lines().collect();
            for w in lines.windows(2) {
                if w[0] == "-device" {
                    let driver = w[1].split(',').next().unwrap().to_string();
                    *seen.entry(driver).or_default() += 1;
                }
            }
        }
    }
    let wanted = [
        "virtio-blk-pci",
        "ide-hd",
        "ide-cd",
        "scsi-hd",
        "scsi-cd",
        "usb-storage",
        "floppy",
        "isa-fdc",
        "ich9-ahci",
        "lsi",
        "virtio-scsi-pci",
        "virtio-net-pci",
        "e1000",
        "rtl8139",
        "isa-serial",
        "virtconsole",
        "virtio-serial-pci",
        "VGA",
        "cirrus-vga",
        "qxl-vga",
        "qxl",
        "virtio-vga",
        "virtio-gpu-pci",
        "bochs-display",
        "usb-tablet",
        "virtio-keyboard-pci",
        "virtio-input-host-pci",
        "virtio-balloon-pci",
        "piix3-usb-uhci",
        "ich9-usb-ehci1",
        "ich9-usb-uhci1",
        "nec-usb-xhci",
        "qemu-xhci",
        "pci-bridge",
        "pcie-root-port",
        "x3130-upstream",
        "xio3130-downstream",
        "i82801b11-bridge",
        "pxb",
        "usb-ccid",
        "ccid-card-passthru",
        "ccid-card-emulated",
    ];
    let missing: Vec<&str> = wanted
        .iter()
        .copied()
        .filter(|d| !seen.contains_key(*d))
        .collect();
    assert!(missing.is_empty(), "no golden case emits {missing:?}");
}

/// A running domain's definition holds the PCI address (or USB port)
/// each device was given (as libvirt's live XML does), so that a device
/// plugged in later finds a free one: written into the definition, through XML and back,
/// the addresses give the same command line, for every golden case and
/// every document of libvirt's corpus that builds.
#[test]
fn written_pci_addresses_keep_the_command_line() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(data_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let shared = std::env::var_os("QVIRT_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"));
    if let Ok(corpus) = std::fs::read_dir(shared.join("corpus/libvirt-domain-xml")) {
        files.extend(corpus.map(|e| e.unwrap().path()));
    }
    files.retain(|p| p.extension().is_some_and(|e| e == "xml"));
    files.sort();
    let (mut built, mut changed, mut usb, mut failures) = (0, 0, 0, Vec::new());
    for file in &files {
        let case = file.file_stem().unwrap().to_string_lossy().into_owned();
        let xml = std::fs::read_to_string(file).unwrap();
        let Ok(before) = build(&case, &xml) else {
            continue;
        };
        built += 1;
        let def = DomainDef::from_xml(&xml).unwrap();
        let addressed = match qvirt::qemu::argv::with_pci_addresses(&def, &caps_for(&case)) {
            Ok(d) => d,
            Err(e) => {
                failures.push(format!("{case}: {}: {}", e.code.name(), e.message));
                continue;
            }
        };
        if addressed.to_xml().matches("<address type='pci'").count()
            > def.to_xml().matches("<address type='pci'").count()
        {
            changed += 1;
        }
        if addressed.to_xml().matches("<address type='usb'").count()
            > def.to_xml().matches("<address type='usb'").count()
        {
            usb += 1;
        }
        let after = build(&case, &addressed.to_xml());
        match after {
            Ok(after) if after == before => {}
            Ok(after) => {
                let b: Vec<&str> = before.iter().map(String::as_str).collect();
                let a: Vec<&str> = after.iter().map(String::as_str).collect();
                failures.push(format!("{case}:\n{}", diff(&b, &a)));
            }
            Err(e) => failures.push(format!(
                "{case}: with addresses: {}: {}",
                e.code.name(),
                e.message
            )),
        }
    }
    assert!(built >= 100, "only {built} documents built");
    assert!(
        changed * 2 > built,
        "addresses written in {changed} of {built}"
    );
    assert!(usb >= 5, "USB ports written in {usb} of {built}");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
