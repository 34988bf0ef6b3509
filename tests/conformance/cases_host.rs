//! Facts about the host and the manager: version, node info,
//! capabilities, URI.

use crate::Ctx;

/// The library version is this crate's; the hypervisor is QEMU with a
/// dotted version.
pub fn version_is_sane(cx: &mut Ctx<'_>) {
    let v = cx.d().version().unwrap();
    assert_eq!(v.library, env!("CARGO_PKG_VERSION"));
    let qemu = v
        .hypervisor
        .strip_prefix("QEMU ")
        .unwrap_or_else(|| panic!("hypervisor {:?}", v.hypervisor));
    let parts: Vec<u32> = qemu
        .split('.')
        .map(|p| p.parse().unwrap_or_else(|_| panic!("version {qemu:?}")))
        .collect();
    assert!(parts.len() >= 2, "{qemu:?}");
    assert!(parts[0] >= 6, "QEMU 6.0 or later: {qemu:?}");
}

/// Node info describes this host.
pub fn node_info_is_sane(cx: &mut Ctx<'_>) {
    let n = cx.d().node_info().unwrap();
    assert_eq!(n.arch, std::env::consts::ARCH);
    let cpus = std::thread::available_parallelism().unwrap().get() as u32;
    assert_eq!(n.cpus, cpus);
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap();
    let total: u64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap();
    assert_eq!(n.memory_kib, total);
}

/// The capabilities document is XML in libvirt's shape, naming the host
/// arch, the emulator, machine `pc` and TCG.
pub fn capabilities_are_sane(cx: &mut Ctx<'_>) {
    let xml = cx.d().capabilities().unwrap();
    let doc = roxmltree::Document::parse(&xml).expect("capabilities are XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "capabilities");
    let text_of = |name: &str| -> Vec<String> {
        root.descendants()
            .filter(|n| n.has_tag_name(name))
            .filter_map(|n| n.text().map(str::to_string))
            .collect()
    };
    assert!(
        text_of("arch").contains(&std::env::consts::ARCH.to_string()),
        "{xml}"
    );
    assert_eq!(text_of("os_type"), ["hvm"], "{xml}");
    let emulators = text_of("emulator");
    assert!(
        emulators.iter().any(|e| e.ends_with("qemu-system-x86_64")),
        "{xml}"
    );
    let machines = text_of("machine");
    assert!(
        machines
            .iter()
            .any(|m| m == "pc" || m.starts_with("pc-i440fx")),
        "{xml}"
    );
    assert!(
        machines
            .iter()
            .any(|m| m == "q35" || m.starts_with("pc-q35")),
        "{xml}"
    );
    let types: Vec<&str> = root
        .descendants()
        .filter(|n| n.has_tag_name("domain"))
        .filter_map(|n| n.attribute("type"))
        .collect();
    assert!(types.contains(&"qemu"), "{xml}");
}

/// The URI says which state directory the driver manages.
pub fn uri_names_the_state(cx: &mut Ctx<'_>) {
    let uri = cx.d().uri();
    assert!(
        uri.starts_with("qemu:///")
            || uri.starts_with("qemu+unix:///")
            || uri.starts_with("qemu+ssh://"),
        "{uri}"
    );
    assert!(uri.contains(&*cx.root().to_string_lossy()), "{uri}");
}

/// A domain XML turned into the QEMU command line a start would run under
/// the driver's state directory; nothing is defined, and a format other
/// than qemu-argv is refused by name.
pub fn xml_to_native_is_the_start_command_line(cx: &mut Ctx<'_>) {
    let vm = crate::Vm::firmware("fw-a");
    let d = cx.d();
    let line = d.domain_xml_to_native("qemu-argv", &vm.xml()).unwrap();
    assert!(line.contains(" -name guest=fw-a,"), "{line}");
    let qmp = format!("{}/qmp.sock", vm.uuid);
    assert!(line.contains(&qmp), "{line}");
    assert!(line.contains(&*cx.root().to_string_lossy()), "{line}");
    let d = cx.d();
    assert!(
        d.list(qvirt::driver::ListFilter::ALL).unwrap().is_empty(),
        "nothing defined"
    );
    crate::expect_err(
        d.domain_xml_to_native("xen-xm", &vm.xml()),
        qvirt::ErrorCode::InvalidArgument,
        "another format",
    );
}
