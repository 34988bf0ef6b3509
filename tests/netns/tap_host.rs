//! What the host sets on a tap beyond making it, seen in the namespace
//! while the domain runs: `<port isolated='yes'>` makes the tap an
//! isolated port of its bridge; `<target managed='no'>` has QEMU open a
//! tap the user made, which qvirt neither configures nor removes; an
//! ethernet interface's `<source><ip>` and `<route>` are the tap's
//! addresses and routes.

use super::support::{self, assert_code};
use super::{Daemon, Netns, TestDir, acpi_firmware, firmware, run, taps};
use qvirt::ErrorCode;
use qvirt::driver::{ModifyFlags, XmlFlags};

/// A file of the namespace's sysfs (which `ip netns exec` mounts).
fn ns_read(ns: &Netns, path: &str) -> String {
    let mut cmd = ns.exec();
    cmd.extend(["cat", path]);
    run(cmd[0], &cmd[1..]).trim().to_string()
}

/// How many descriptors of process `pid` are attached to tap `tap` (the
/// kernel names it in each one's fdinfo).
fn held_tap(pid: i32, tap: &str) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fdinfo"))
        .unwrap()
        .flatten()
        .filter(|e| {
            std::fs::read_to_string(e.path())
                .is_ok_and(|t| t.lines().any(|l| l == format!("iff:\t{tap}")))
        })
        .count()
}

#[test]
fn an_isolated_port_is_isolated_in_its_bridge() {
    let ns = Netns::new("iso");
    let dir = TestDir::new("iso");
    let daemon = Daemon::start_under(&ns.exec(), &dir.path, &[]);
    let d = daemon.connect();
    let nic = |mac: u8, port: &str| {
        format!(
            "<interface type='bridge'><mac address='52:54:00:00:1a:{mac:02x}'/>\
             <source bridge='br0'/>{port}<model type='e1000'/></interface>"
        )
    };
    let nics = format!(
        "{}{}{}",
        nic(1, "<port isolated='yes'/>"),
        nic(2, ""),
        nic(3, "<port isolated='no'/>")
    );
    let dom = d.define_xml(&acpi_firmware("fw-iso", &nics)).unwrap();
    d.start(&dom).unwrap();
    let names = taps(&*d, "fw-iso");
    let isolated = |tap: &str| ns_read(&ns, &format!("/sys/class/net/{tap}/brport/isolated"));
    assert_eq!(isolated(&names[0]), "1", "<port isolated='yes'/>");
    assert_eq!(isolated(&names[1]), "0", "no <port>");
    assert_eq!(isolated(&names[2]), "0", "<port isolated='no'/>");
    // iproute2 sees the same.
    let info = ns.ip(&["-d", "link", "show", &names[0]]);
    assert!(info.contains("isolated on"), "{info}");
    let live = d.xml_desc(&dom, XmlFlags::NONE).unwrap();
    assert!(live.contains("<port isolated='yes'/>"), "{live}");
    // Plugged in live: its tap is isolated too.
    d.attach_device(&dom, &nic(4, "<port isolated='yes'/>"), ModifyFlags::LIVE)
        .unwrap();
    let plugged = taps(&*d, "fw-iso").pop().unwrap();
    assert_eq!(isolated(&plugged), "1", "the plugged-in tap {plugged}");
    d.destroy(&dom).unwrap();
    assert_eq!(ns.links(), ["br0", "lo"]);
}

#[test]
fn a_users_tap_is_opened_as_it_is_and_kept() {
    let ns = Netns::new("utap");
    ns.ip(&["tuntap", "add", "mytap0", "mode", "tap"]);
    ns.ip(&["link", "set", "mytap0", "up"]);
    let link = || ns.ip(&["-o", "link", "show", "mytap0"]);
    let mac_of = |l: &str| {
        l.split("link/ether ")
            .nth(1)
            .and_then(|r| r.split(' ').next())
            .unwrap_or_else(|| panic!("no MAC in {l}"))
            .to_string()
    };
    let users_mac = mac_of(&link());
    let dir = TestDir::new("utap");
    let daemon = Daemon::start_under(&ns.exec(), &dir.path, &[]);
    let d = daemon.connect();
    let nic = "<interface type='ethernet'><mac address='fe:11:22:33:44:55'/>\
               <source><ip address='10.9.0.1' prefix='24' peer='10.9.0.2'/>\
               <route address='10.20.0.0' prefix='16' gateway='10.9.0.2'/></source>\
               <target dev='mytap0' managed='no'/><model type='virtio'/></interface>";
    let dom = d.define_xml(&firmware("fw-utap", nic)).unwrap();
    for round in 0..2 {
        d.start(&dom).unwrap();
        let qemu = support::qemu_pid(&dir.path, "fw-utap");
        assert_eq!(held_tap(qemu, "mytap0"), 1, "QEMU holds mytap0");
        // The guest's NIC sees its link: QEMU is attached to the tap.
        assert!(link().contains("LOWER_UP"), "{}", link());
        assert_eq!(mac_of(&link()), users_mac, "qvirt left the MAC alone");
        let live = d.xml_desc(&dom, XmlFlags::NONE).unwrap();
        assert!(
            live.contains("<target dev='mytap0' managed='no'/>"),
            "{live}"
        );
        let addrs = ns.ip(&["-4", "addr", "show", "dev", "mytap0"]);
        assert!(addrs.contains("inet 10.9.0.1 peer 10.9.0.2/24"), "{addrs}");
        let routes = ns.ip(&["route", "show", "dev", "mytap0"]);
        assert!(routes.contains("10.20.0.0/16 via 10.9.0.2"), "{routes}");
        d.destroy(&dom).unwrap();
        assert_eq!(
            ns.links(),
            ["br0", "lo", "mytap0"],
            "round {round}: the user's tap stays"
        );
        // Without what qvirt gave it, so that the next start can again.
        let addrs = ns.ip(&["-4", "addr", "show", "dev", "mytap0"]);
        assert!(!addrs.contains("10.9.0.1"), "{addrs}");
        assert!(ns.ip(&["route", "show", "dev", "mytap0"]).trim().is_empty());
    }

    // Plugged in live: QEMU opens it too, and it stays after the domain.
    let plug = d.define_xml(&acpi_firmware("fw-uplug", "")).unwrap();
    d.start(&plug).unwrap();
    d.attach_device(
        &plug,
        "<interface type='ethernet'><mac address='52:54:00:00:1d:01'/>\
         <target dev='mytap0' managed='no'/><model type='e1000'/></interface>",
        ModifyFlags::LIVE,
    )
    .unwrap();
    let qemu = support::qemu_pid(&dir.path, "fw-uplug");
    assert_eq!(held_tap(qemu, "mytap0"), 1, "QEMU holds the plugged mytap0");
    assert_eq!(mac_of(&link()), users_mac);
    d.destroy(&plug).unwrap();
    assert_eq!(ns.links(), ["br0", "lo", "mytap0"], "the user's tap stays");

    // A tap that is not there, or a device that is no tap: the start is
    // refused naming it, before QEMU runs.
    for (name, dev, fragment) in [
        ("fw-notap", "notap0", "does not exist"),
        ("fw-brtap", "br0", "is not a tap device"),
    ] {
        let dom = d
            .define_xml(&firmware(
                name,
                &format!(
                    "<interface type='ethernet'><target dev='{dev}' managed='no'/></interface>"
                ),
            ))
            .unwrap();
        let e = assert_code(d.start(&dom), ErrorCode::OperationFailed);
        assert!(
            e.message.contains(&format!("'{dev}'")) && e.message.contains(fragment),
            "{e}"
        );
    }
    // A macvtap the user made (on a veth, as a host NIC would be).
    ns.ip(&[
        "link", "add", "eth9", "type", "veth", "peer", "name", "eth9p",
    ]);
    ns.ip(&[
        "link", "add", "link", "eth9", "name", "mymvt0", "type", "macvtap",
    ]);
    let dom = d
        .define_xml(&firmware(
            "fw-mvtap",
            "<interface type='ethernet'><target dev='mymvt0' managed='no'/></interface>",
        ))
        .unwrap();
    let e = assert_code(d.start(&dom), ErrorCode::ConfigUnsupported);
    assert!(
        e.message.contains("'mymvt0'") && e.message.contains("is a macvtap"),
        "{e}"
    );
    assert!(support::processes_under(&dir.path.join("run")).is_empty());
    assert_eq!(
        ns.links(),
        ["br0", "eth9", "eth9p", "lo", "mymvt0", "mytap0"]
    );
}

/// libvirt's net-eth-hostip: the host side of a point-to-point link to
/// the guest, with a route to a network behind it.
#[test]
fn an_ethernet_taps_host_addresses_and_routes_are_set() {
    let ns = Netns::new("hostip");
    let dir = TestDir::new("hostip");
    let daemon = Daemon::start_under(&ns.exec(), &dir.path, &[]);
    let d = daemon.connect();
    let nic = "<interface type='ethernet'><mac address='00:11:22:33:44:55'/><source>\
               <ip address='192.168.125.1' family='ipv4' prefix='24' peer='192.168.125.2'/>\
               <ip address='172.16.4.1'/>\
               <route family='ipv4' address='10.20.0.0' prefix='16' gateway='192.168.125.2'/>\
               <route address='10.30.0.0' netmask='255.255.0.0' gateway='192.168.125.2' metric='7'/>\
               </source><target dev='qvhip0'/><model type='rtl8139'/></interface>";
    let dom = d.define_xml(&firmware("fw-hostip", nic)).unwrap();
    d.start(&dom).unwrap();
    let addrs = ns.ip(&["-4", "addr", "show", "dev", "qvhip0"]);
    assert!(
        addrs.contains("inet 192.168.125.1 peer 192.168.125.2/24"),
        "{addrs}"
    );
    // No prefix: its class's (B), as libvirt gives it.
    assert!(
        addrs.contains("inet 172.16.4.1/16 brd 172.16.255.255"),
        "{addrs}"
    );
    let routes = ns.ip(&["route", "show", "dev", "qvhip0"]);
    assert!(
        routes.contains("10.20.0.0/16 via 192.168.125.2"),
        "{routes}"
    );
    assert!(
        routes.contains("10.30.0.0/16 via 192.168.125.2 metric 7"),
        "{routes}"
    );
    let live = d.xml_desc(&dom, XmlFlags::NONE).unwrap();
    assert!(
        live.contains(
            "<route family='ipv4' address='10.20.0.0' prefix='16' gateway='192.168.125.2'/>"
        ),
        "{live}"
    );
    d.destroy(&dom).unwrap();
    assert_eq!(ns.links(), ["br0", "lo"]);
    assert!(!ns.ip(&["route", "show"]).contains("10.20.0.0"));

    // A route the kernel refuses (its gateway is on no network of the
    // tap) fails the start with ip's words, and leaves no tap.
    let bad = d
        .define_xml(&firmware(
            "fw-badroute",
            "<interface type='ethernet'><source>\
             <route address='10.40.0.0' prefix='16' gateway='10.99.0.1'/>\
             </source><target dev='qvhip1'/></interface>",
        ))
        .unwrap();
    let e = assert_code(d.start(&bad), ErrorCode::OperationFailed);
    assert!(
        e.message.contains("qvhip1") && e.message.contains("10.40.0.0/16 via 10.99.0.1"),
        "{e}"
    );
    assert_eq!(ns.links(), ["br0", "lo"], "no tap is left");
    assert!(support::processes_under(&dir.path.join("run")).is_empty());
}

/// What descriptors of process `pid` attached to tap `tap` were opened
/// through (the device node each one links to).
fn tap_nodes(pid: i32, tap: &str) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(format!("/proc/{pid}/fdinfo"))
        .unwrap()
        .flatten()
        .filter(|e| {
            std::fs::read_to_string(e.path())
                .is_ok_and(|t| t.lines().any(|l| l == format!("iff:\t{tap}")))
        })
        .filter_map(|e| {
            std::fs::read_link(format!(
                "/proc/{pid}/fd/{}",
                e.file_name().to_string_lossy()
            ))
            .ok()
        })
        .collect()
}

/// A character device node at `path` for the device of `like`.
fn node_like(path: &std::path::Path, like: &str) {
    use std::os::unix::fs::MetadataExt;
    let rdev = std::fs::metadata(like)
        .unwrap_or_else(|e| panic!("{like}: {e} (load the tun module)"))
        .rdev();
    let (major, minor) = (nix::sys::stat::major(rdev), nix::sys::stat::minor(rdev));
    run(
        "mknod",
        &[
            path.to_str().unwrap(),
            "c",
            &major.to_string(),
            &minor.to_string(),
        ],
    );
}

/// `<backend tap=...>`: the tap is made, and handed to QEMU, through the
/// tun/tap device node named (a copy of /dev/net/tun made for the
/// test); `<backend vhost=...>` names the vhost-net device QEMU opens.
/// A node that is not there is named by the refusal, before QEMU runs.
#[test]
fn a_tap_is_made_and_opened_through_the_tun_device_named() {
    let ns = Netns::new("tunpath");
    let dir = TestDir::new("tunpath");
    let nodes = dir.path.join("dev");
    std::fs::create_dir_all(&nodes).unwrap();
    let tun = nodes.join("my-tun");
    node_like(&tun, "/dev/net/tun");
    let daemon = Daemon::start_under(&ns.exec(), &dir.path, &[]);
    let d = daemon.connect();
    let nic = |name: &str, backend: &str| {
        firmware(
            name,
            &format!(
                "<interface type='bridge'><mac address='52:54:00:00:1c:01'/><source bridge='br0'/>\
                 <model type='virtio'/>{backend}</interface>"
            ),
        )
    };
    let backend = format!("<backend tap='{}'/>", tun.display());
    let dom = d.define_xml(&nic("fw-tun", &backend)).unwrap();
    d.start(&dom).unwrap();
    let tap = taps(&*d, "fw-tun").remove(0);
    let qemu = support::qemu_pid(&dir.path, "fw-tun");
    assert_eq!(
        tap_nodes(qemu, &tap),
        std::slice::from_ref(&tun),
        "QEMU's descriptor of {tap} came through the node named"
    );
    let link = ns.ip(&["link", "show", &tap]);
    assert!(
        link.contains("master br0") && link.contains("LOWER_UP"),
        "{link}"
    );
    let live = d.xml_desc(&dom, XmlFlags::NONE).unwrap();
    assert!(live.contains(&backend), "{live}");
    // Not plugged in live: its descriptor comes with a start only.
    let e = d
        .attach_device(
            &dom,
            &format!("<interface type='ethernet'><model type='virtio'/>{backend}</interface>"),
            ModifyFlags::LIVE,
        )
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::ConfigUnsupported, "{e}");
    d.destroy(&dom).unwrap();
    assert_eq!(ns.links(), ["br0", "lo"]);

    // vhost-net through a node of its own, where the host has it.
    if std::path::Path::new("/dev/vhost-net").exists() {
        let vhost = nodes.join("my-vhost");
        node_like(&vhost, "/dev/vhost-net");
        let dom = d
            .define_xml(&nic(
                "fw-vhostdev",
                &format!("<backend vhost='{}'/>", vhost.display()),
            ))
            .unwrap();
        d.start(&dom).unwrap();
        let qemu = support::qemu_pid(&dir.path, "fw-vhostdev");
        let holds = std::fs::read_dir(format!("/proc/{qemu}/fd"))
            .unwrap()
            .flatten()
            .any(|e| std::fs::read_link(e.path()).is_ok_and(|l| l == vhost));
        assert!(holds, "QEMU holds {}", vhost.display());
        d.destroy(&dom).unwrap();
    }

    // Missing nodes: refused by name, nothing left.
    for (name, attr) in [("fw-notun", "tap"), ("fw-novhost", "vhost")] {
        let missing = nodes.join(format!("no-{attr}"));
        let dom = d
            .define_xml(&nic(
                name,
                &format!("<backend {attr}='{}'/>", missing.display()),
            ))
            .unwrap();
        let e = assert_code(d.start(&dom), ErrorCode::NoSupport);
        assert!(e.message.contains(&missing.display().to_string()), "{e}");
    }
    // A device that is not a tun/tap one (libvirt's tap-vhost test
    // names /dev/null): the tap cannot be made through it.
    let dom = d
        .define_xml(&nic("fw-nulltun", "<backend tap='/dev/null'/>"))
        .unwrap();
    let e = assert_code(d.start(&dom), ErrorCode::OperationFailed);
    assert!(e.message.contains("through /dev/null"), "{e}");
    assert_eq!(ns.links(), ["br0", "lo"], "failed starts leave no tap");
    assert!(support::processes_under(&dir.path.join("run")).is_empty());
}
