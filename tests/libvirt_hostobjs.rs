//! The host's interfaces, devices and network filters through libvirt's
//! protocol, with the real clients (virsh 9.0 and python3-libvirt 9.0)
//! against a `qvirtd --root DIR`, each answer compared with what the test
//! itself reads of the kernel:
//!
//! - interfaces inside a network namespace the test makes, with a bridge,
//!   a veth pair with one end on the bridge and a second pair left down,
//!   so the set is known and nothing leaves the namespace (`qvirtd` runs
//!   in it under `ip netns exec`; the test reads the namespace's sysfs the
//!   same way);
//! - the host's own PCI devices, network devices and disks, and the tree
//!   their sysfs paths make;
//! - no network filter and no binding, and libvirt's errors for a name.
//!
//! Needs root and iproute2 for the namespace, as the other namespace
//! tests do.

#[allow(dead_code, unused_imports)]
#[path = "daemon/support.rs"]
mod support;

#[path = "libvirt/lv.rs"]
mod lv;

#[allow(dead_code)]
#[path = "common/netns.rs"]
mod ns;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use lv::*;
use ns::{Netns, run};
use qvirt::transport::libvirt::frame::code;
use qvirt::transport::libvirt::types::{NameArgs, XmlFlagsArgs};
use support::{Daemon, TestDir, wait_for};

/// What the test reads of one interface in the namespace.
#[derive(Debug)]
struct Seen {
    mac: String,
    state: String,
    mtu: String,
    speed: Option<String>,
    port: bool,
}

/// Runs `sh -c SCRIPT` inside the namespace; its stdout.
fn in_ns(ns: &Netns, script: &str) -> String {
    run("ip", &["netns", "exec", &ns.name, "sh", "-c", script])
}

/// Every interface of the namespace as its sysfs shows it, but taps
/// (which libvirt leaves to their guests).
fn seen(ns: &Netns) -> BTreeMap<String, Seen> {
    let out = in_ns(
        ns,
        "cd /sys/class/net && for d in *; do \
           test -e $d/tun_flags && continue; \
           s=$(cat $d/speed 2>/dev/null || echo none); \
           p=$(test -e $d/brport && echo port || echo top); \
           echo $d $(cat $d/address) $(cat $d/operstate) $(cat $d/mtu) $s $p; done",
    );
    out.lines()
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            assert_eq!(f.len(), 6, "{l}");
            (
                f[0].to_string(),
                Seen {
                    mac: f[1].into(),
                    state: f[2].into(),
                    mtu: f[3].into(),
                    speed: (f[4] != "none").then(|| f[4].to_string()),
                    port: f[5] == "port",
                },
            )
        })
        .collect()
}

/// The `<link>` libvirt writes for an interface the test saw.
fn link(s: &Seen) -> String {
    match (&s.speed, s.state.as_str()) {
        (Some(speed), "up") => {
            let speed = speed.parse::<i64>().unwrap() as u32;
            format!("<link speed='{speed}' state='up'/>")
        }
        (_, state) => format!("<link state='{state}'/>"),
    }
}

/// A namespace with `br0` (up, holding `va`), the veth pair `va`/`vb`
/// (both up) and the pair `vc`/`vd` (down), and a daemon in it.
fn namespace_world(tag: &str) -> (Netns, TestDir, Daemon) {
    let ns = Netns::new(tag);
    ns.ip(&["link", "add", "va", "type", "veth", "peer", "name", "vb"]);
    ns.ip(&["link", "add", "vc", "type", "veth", "peer", "name", "vd"]);
    // An address of its own, so that the bridge does not take its port's.
    ns.ip(&["link", "set", "br0", "address", "02:00:00:00:0b:01"]);
    ns.ip(&["link", "set", "va", "master", "br0"]);
    for d in ["va", "vb"] {
        ns.ip(&["link", "set", d, "up"]);
    }
    // The bridge's carrier follows its port's, a moment later.
    wait_for("br0 to be up", Duration::from_secs(10), || {
        (in_ns(
            &ns,
            "cat /sys/class/net/br0/operstate /sys/class/net/vb/operstate",
        ) == "up\nup\n")
            .then_some(())
    });
    let dir = TestDir::new(tag);
    let daemon = Daemon::start_under(&ns.exec(), &dir.path, &[]);
    (ns, dir, daemon)
}

#[test]
fn virsh_lists_and_describes_the_interfaces_of_its_namespace() {
    let (ns, dir, _daemon) = namespace_world("ifvirsh");
    let s = &lv_socket(&dir.path);
    let seen = seen(&ns);
    for (name, what) in [
        ("br0", "the bridge"),
        ("va", "its port"),
        ("vd", "the pair left down"),
    ] {
        assert!(seen.contains_key(name), "no {what} in {seen:?}");
    }
    // iface-list --all: every interface but the bridge's port, each active
    // when the kernel says up.
    let out = virsh_ok(s, &["iface-list", "--all"]);
    let listed: BTreeMap<String, (String, String)> = out
        .lines()
        .skip(2)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() == 3).then(|| (f[0].to_string(), (f[1].to_string(), f[2].to_string())))
        })
        .collect();
    let want: BTreeMap<String, (String, String)> = seen
        .iter()
        .filter(|(_, s)| !s.port)
        .map(|(n, s)| {
            let state = if s.state == "up" {
                "active"
            } else {
                "inactive"
            };
            (n.clone(), (state.to_string(), s.mac.clone()))
        })
        .collect();
    assert_eq!(listed, want, "{out}");
    // iface-list: only those up.
    let out = virsh_ok(s, &["iface-list"]);
    let up: Vec<&str> = out
        .lines()
        .skip(2)
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    let want_up: Vec<&str> = seen
        .iter()
        .filter(|(_, s)| !s.port && s.state == "up")
        .map(|(n, _)| n.as_str())
        .collect();
    assert_eq!(up, want_up, "{out}");
    // iface-dumpxml: the bridge with its port, as the udev backend writes
    // it, from the kernel's own figures.
    let br = &seen["br0"];
    let va = &seen["va"];
    let stp = in_ns(&ns, "cat /sys/class/net/br0/bridge/stp_state");
    let delay = in_ns(&ns, "cat /sys/class/net/br0/bridge/forward_delay");
    let want = format!(
        "<interface type='bridge' name='br0'>\n  <mtu size='{}'/>\n  \
         <bridge stp='{}' delay='{}'>\n    <interface type='ethernet' name='va'>\n      \
         {}\n      <mac address='{}'/>\n    </interface>\n  </bridge>\n</interface>\n",
        br.mtu,
        if stp.trim() == "1" { "on" } else { "off" },
        delay.trim(),
        link(va),
        va.mac
    );
    assert_eq!(
        virsh_ok(s, &["iface-dumpxml", "br0"]).trim_end(),
        want.trim_end()
    );
    for name in ["vb", "vd"] {
        let v = &seen[name];
        let want = format!(
            "<interface type='ethernet' name='{name}'>\n  <mtu size='{}'/>\n  {}\n  \
             <mac address='{}'/>\n</interface>",
            v.mtu,
            link(v),
            v.mac
        );
        assert_eq!(virsh_ok(s, &["iface-dumpxml", name]).trim_end(), want);
    }
    // iface-mac and iface-name: both ways between a name and its address;
    // a bridge's port is not found by its address.
    assert_ne!(br.mac, va.mac);
    let vb = &seen["vb"];
    assert_eq!(virsh_ok(s, &["iface-mac", "vb"]).trim(), vb.mac);
    assert_eq!(virsh_ok(s, &["iface-name", &vb.mac]).trim(), "vb");
    let err = virsh_err(s, &["iface-name", &va.mac]);
    assert!(
        err.contains(&format!(
            "couldn't find interface with MAC address '{}'",
            va.mac
        )),
        "{err}"
    );
    let err = virsh_err(s, &["iface-dumpxml", "nosuch0"]);
    assert!(
        err.contains("Interface not found: couldn't find interface named 'nosuch0'"),
        "{err}"
    );
    // Nothing is changed: a definition is refused by name.
    let xml = write_file(
        &dir.path,
        "i.xml",
        "<interface type='ethernet' name='eth9'/>",
    );
    let err = virsh_err(s, &["iface-define", xml.to_str().unwrap()]);
    assert!(
        err.contains(
            "this function is not supported by the connection driver: virInterfaceDefineXML"
        ),
        "{err}"
    );
    let err = virsh_err(s, &["iface-destroy", "vb"]);
    assert!(err.contains("virInterfaceDestroy"), "{err}");
}

/// python3-libvirt's view of the namespace's interfaces.
const IFACES_PY: &str = r#"
import sys, libvirt
c = libvirt.open(sys.argv[1])
for i in sorted(c.listAllInterfaces(), key=lambda i: i.name()):
    print("all", i.name(), i.MACString(), i.isActive())
for i in sorted(c.listAllInterfaces(libvirt.VIR_CONNECT_LIST_INTERFACES_ACTIVE), key=lambda i: i.name()):
    print("active", i.name())
print("num", c.numOfInterfaces(), c.numOfDefinedInterfaces())
print("names", ",".join(sorted(c.listInterfaces())), ",".join(sorted(c.listDefinedInterfaces())))
print("mac", c.interfaceLookupByMACString(c.interfaceLookupByName("vb").MACString()).name())
try:
    c.interfaceLookupByName("nosuch0")
except libvirt.libvirtError as e:
    print("missing", e.get_error_code() == libvirt.VIR_ERR_NO_INTERFACE)
print("filters", len(c.listAllNWFilters()), c.numOfNWFilters(), len(c.listNWFilters()))
print("bindings", len(c.listAllNWFilterBindings()))
for f in (lambda: c.nwfilterLookupByName("clean-traffic"),
          lambda: c.nwfilterLookupByUUIDString("2a1b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d")):
    try:
        f()
    except libvirt.libvirtError as e:
        print("nofilter", e.get_error_code() == libvirt.VIR_ERR_NO_NWFILTER, e.get_error_message())
try:
    c.nwfilterBindingLookupByPortDev("vb")
except libvirt.libvirtError as e:
    print("nobinding", e.get_error_code() == libvirt.VIR_ERR_NO_NWFILTER_BINDING)
"#;

#[test]
fn python_lists_the_interfaces_and_hears_of_no_network_filter() {
    let (ns, dir, _daemon) = namespace_world("ifpy");
    let seen = seen(&ns);
    let out = Command::new(PYTHON)
        .args(["-c", IFACES_PY])
        .arg(uri(&lv_socket(&dir.path)))
        .output()
        .expect("run python3-libvirt");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let top: Vec<(&String, &Seen)> = seen.iter().filter(|(_, s)| !s.port).collect();
    let want_all: Vec<String> = top
        .iter()
        .map(|(n, s)| format!("all {n} {} {}", s.mac, i32::from(s.state == "up")))
        .collect();
    let got_all: Vec<&str> = text.lines().filter(|l| l.starts_with("all ")).collect();
    assert_eq!(got_all, want_all, "{text}");
    let up: Vec<&str> = top
        .iter()
        .filter(|(_, s)| s.state == "up")
        .map(|(n, _)| n.as_str())
        .collect();
    let down: Vec<&str> = top
        .iter()
        .filter(|(_, s)| s.state == "down")
        .map(|(n, _)| n.as_str())
        .collect();
    let got_active: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("active "))
        .collect();
    assert_eq!(got_active, up, "{text}");
    for line in [
        format!("num {} {}", up.len(), down.len()),
        format!("names {} {}", up.join(","), down.join(",")),
        "mac vb".to_string(),
        "missing True".to_string(),
        "filters 0 0 0".to_string(),
        "bindings 0".to_string(),
        "nobinding True".to_string(),
    ] {
        assert!(text.lines().any(|l| l == line), "no {line:?} in {text}");
    }
    let nofilter: Vec<&str> = text.lines().filter(|l| l.starts_with("nofilter")).collect();
    assert_eq!(nofilter.len(), 2, "{text}");
    assert!(
        nofilter[0].starts_with(
            "nofilter True Network filter not found: no nwfilter with matching name 'clean-traffic'"
        ),
        "{text}"
    );
    assert!(nofilter[1].starts_with("nofilter True"), "{text}");
}

/// A PCI device as the test reads it from sysfs.
struct PciSeen {
    name: String,
    addr: [u32; 4],
    vendor: String,
    device: String,
    class: String,
    driver: Option<String>,
    path: String,
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .trim()
        .to_string()
}

fn pci_seen() -> Vec<PciSeen> {
    let mut v: Vec<PciSeen> = std::fs::read_dir("/sys/bus/pci/devices")
        .expect("the host's PCI devices")
        .map(|e| {
            let e = e.unwrap();
            let sysname = e.file_name().into_string().unwrap();
            let dir = e.path();
            let parts: Vec<u32> = sysname
                .split([':', '.'])
                .map(|p| u32::from_str_radix(p, 16).unwrap())
                .collect();
            PciSeen {
                name: format!("pci_{}", sysname.replace([':', '.'], "_")),
                addr: [parts[0], parts[1], parts[2], parts[3]],
                vendor: read(&dir.join("vendor")),
                device: read(&dir.join("device")),
                class: read(&dir.join("class")),
                driver: std::fs::read_link(dir.join("driver"))
                    .ok()
                    .map(|l| l.file_name().unwrap().to_string_lossy().into_owned()),
                path: std::fs::canonicalize(&dir)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned(),
            }
        })
        .collect();
    v.sort_by(|a, b| a.name.cmp(&b.name));
    v
}

/// The name `pci.ids` gives vendor `id` (`0x8086`), when the vendor is
/// in it (`scripts/deps.sh` installs the file).
fn pci_ids_vendor(id: &str) -> Option<String> {
    let text = std::fs::read("/usr/share/misc/pci.ids").expect("pci.ids (scripts/deps.sh)");
    let text = String::from_utf8_lossy(&text);
    let id = id.trim_start_matches("0x");
    text.lines()
        .find_map(|l| l.strip_prefix(id)?.strip_prefix("  "))
        .map(|n| n.trim().to_string())
}

/// The network devices libvirt shows (no bridge, VLAN or bond): name,
/// libvirt's device name and sysfs path.
fn net_seen() -> Vec<(String, String, String)> {
    let mut v: Vec<(String, String, String)> = std::fs::read_dir("/sys/class/net")
        .unwrap()
        .filter_map(|e| {
            let e = e.unwrap();
            let name = e.file_name().into_string().unwrap();
            let uevent = read(&e.path().join("uevent"));
            if uevent.lines().any(|l| l.starts_with("DEVTYPE=")) {
                return None;
            }
            let mac = read(&e.path().join("address"));
            let path = std::fs::canonicalize(e.path()).unwrap();
            Some((
                name.clone(),
                format!("net_{name}_{mac}").replace([':', '-', '.'], "_"),
                path.to_string_lossy().into_owned(),
            ))
        })
        .collect();
    v.sort();
    v
}

#[test]
fn virsh_shows_the_hosts_pci_devices_and_their_tree() {
    let dir = TestDir::new("nodedevvirsh");
    let _daemon = Daemon::start(&dir.path, &[]);
    let s = &lv_socket(&dir.path);
    let pci = pci_seen();
    assert!(
        !pci.is_empty(),
        "this host shows no PCI device to compare with"
    );
    let out = virsh_ok(s, &["nodedev-list", "--cap", "pci"]);
    let listed: Vec<&str> = out.lines().filter(|l| !l.is_empty()).collect();
    let want: Vec<&str> = pci.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(listed, want);
    for p in &pci {
        let xml = virsh_ok(s, &["nodedev-dumpxml", &p.name]);
        let class = u32::from_str_radix(p.class.trim_start_matches("0x"), 16).unwrap();
        for part in [
            format!("<name>{}</name>", p.name),
            format!("<path>{}</path>", p.path),
            format!("<class>0x{class:06x}</class>"),
            format!("<domain>{}</domain>", p.addr[0]),
            format!("<bus>{}</bus>", p.addr[1]),
            format!("<slot>{}</slot>", p.addr[2]),
            format!("<function>{}</function>", p.addr[3]),
            format!("<product id='{}'", p.device),
            format!("<vendor id='{}'", p.vendor),
        ] {
            assert!(xml.contains(&part), "no {part} in {xml}");
        }
        match &p.driver {
            Some(d) => assert!(
                xml.contains(&format!("<driver>\n    <name>{d}</name>")),
                "{xml}"
            ),
            None => assert!(!xml.contains("<driver>"), "{xml}"),
        }
        // The vendor's name is the host's pci.ids one, where it has one.
        if let Some(name) = pci_ids_vendor(&p.vendor) {
            let name = name.replace('&', "&amp;");
            assert!(
                xml.contains(&format!("<vendor id='{}'>{name}</vendor>", p.vendor)),
                "no {name} in {xml}"
            );
        }
        // The device is active, and (a device the kernel shows) neither
        // persistent nor autostarted.
        let info = virsh_ok(s, &["nodedev-info", &p.name]);
        for line in [
            "Active:         yes",
            "Persistent:     no",
            "Autostart:      no",
        ] {
            assert!(info.contains(line), "{info}");
        }
    }
    // The whole list holds computer, the PCI devices and every network
    // device that is no bridge, VLAN or bond, each under its parent.
    let out = virsh_ok(s, &["nodedev-list"]);
    let all: Vec<&str> = out.lines().filter(|l| !l.is_empty()).collect();
    assert!(all.contains(&"computer"), "{out}");
    for (_, name, path) in net_seen() {
        assert!(all.contains(&name.as_str()), "no {name} in {out}");
        let xml = virsh_ok(s, &["nodedev-dumpxml", &name]);
        // The nearest PCI device above it in sysfs, else computer.
        let parent = pci
            .iter()
            .filter(|p| path.starts_with(&format!("{}/", p.path)))
            .max_by_key(|p| p.path.len())
            .map_or("computer", |p| p.name.as_str());
        assert!(xml.contains(&format!("<parent>{parent}</parent>")), "{xml}");
    }
    // Virtio disks (which udev need not type: their node's name does),
    // with the kernel's size.
    for e in std::fs::read_dir("/sys/class/block").unwrap() {
        let e = e.unwrap();
        let name = e.file_name().into_string().unwrap();
        let uevent = read(&e.path().join("uevent"));
        if !name.starts_with("vd") || !uevent.lines().any(|l| l == "DEVTYPE=disk") {
            continue;
        }
        // (udev's serial, where it keeps one, follows the name.)
        let dev = all
            .iter()
            .find(|d| **d == format!("block_{name}") || d.starts_with(&format!("block_{name}_")))
            .unwrap_or_else(|| panic!("no block_{name} in {out}"));
        let xml = virsh_ok(s, &["nodedev-dumpxml", dev]);
        let sectors: u64 = read(&e.path().join("size")).parse().unwrap();
        let lbs: u64 = read(&e.path().join("queue/logical_block_size"))
            .parse()
            .unwrap();
        for part in [
            format!("<block>/dev/{name}</block>"),
            format!("<size>{}</size>", sectors * lbs),
            format!("<num_blocks>{sectors}</num_blocks>"),
        ] {
            assert!(xml.contains(&part), "no {part} in {xml}");
        }
    }
    let tree = virsh_ok(s, &["nodedev-list", "--tree"]);
    assert_eq!(tree.lines().next(), Some("computer"), "{tree}");
    for p in &pci {
        assert!(
            tree.contains(&format!("+- {}", p.name)),
            "no {} in {tree}",
            p.name
        );
    }
    let info = virsh_ok(s, &["nodedev-info", "computer"]);
    assert!(
        info.contains("Persistent:     yes") && info.contains("Autostart:      yes"),
        "{info}"
    );
    let err = virsh_err(s, &["nodedev-dumpxml", "pci_ffff_ff_1f_7"]);
    assert!(
        err.contains("Node device not found: no node device with matching name 'pci_ffff_ff_1f_7'"),
        "{err}"
    );
    // Nothing is detached from its driver.
    let err = virsh_err(s, &["nodedev-detach", &pci[0].name]);
    assert!(
        err.contains("virNodeDeviceDettach") && err.contains("vfio-pci when its domain starts"),
        "{err}"
    );
}

/// python3-libvirt's view of the host's devices.
const DEVICES_PY: &str = r#"
import sys, libvirt
c = libvirt.open(sys.argv[1])
for d in sorted(c.listAllDevices(), key=lambda d: d.name()):
    print("dev", d.name(), d.parent(), ",".join(d.listCaps()), d.numOfCaps(), d.isActive())
print("pci", ",".join(sorted(d.name() for d in c.listAllDevices(libvirt.VIR_CONNECT_LIST_NODE_DEVICES_CAP_PCI_DEV))))
print("old", ",".join(sorted(c.listDevices("pci", 0))), c.numOfDevices("pci", 0), c.numOfDevices(None, 0))
print("lookup", c.nodeDeviceLookupByName("computer").name())
try:
    c.nodeDeviceLookupByName("pci_ffff_ff_1f_7")
except libvirt.libvirtError as e:
    print("missing", e.get_error_code() == libvirt.VIR_ERR_NO_NODE_DEVICE)
"#;

#[test]
fn python_lists_the_hosts_devices_with_their_parents_and_caps() {
    let dir = TestDir::new("nodedevpy");
    let _daemon = Daemon::start(&dir.path, &[]);
    let out = Command::new(PYTHON)
        .args(["-c", DEVICES_PY])
        .arg(uri(&lv_socket(&dir.path)))
        .output()
        .expect("run python3-libvirt");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pci = pci_seen();
    let names: Vec<&str> = pci.iter().map(|p| p.name.as_str()).collect();
    for p in &pci {
        let line = format!("dev {} computer pci 1 1", p.name);
        let nested = text
            .lines()
            .any(|l| l.starts_with(&format!("dev {} pci_", p.name)) && l.ends_with(" pci 1 1"));
        assert!(
            text.lines().any(|l| l == line) || nested,
            "no {line} in {text}"
        );
    }
    assert!(
        text.lines().any(|l| l == "dev computer None system 1 1"),
        "{text}"
    );
    for (_, name, _) in net_seen() {
        assert!(
            text.lines()
                .any(|l| l.starts_with(&format!("dev {name} ")) && l.ends_with(" net 1 1")),
            "no {name} in {text}"
        );
    }
    let joined = names.join(",");
    assert!(text.lines().any(|l| l == format!("pci {joined}")), "{text}");
    let total = text.lines().filter(|l| l.starts_with("dev ")).count();
    assert!(
        text.lines()
            .any(|l| l == format!("old {joined} {} {total}", names.len())),
        "{text}"
    );
    assert!(text.lines().any(|l| l == "lookup computer"), "{text}");
    assert!(text.lines().any(|l| l == "missing True"), "{text}");
}

#[test]
fn the_read_only_socket_lists_host_objects() {
    let dir = TestDir::new("hostobjro");
    let _daemon = Daemon::start(&dir.path, &["--read-only-socket"]);
    let ro = &lv_socket_ro(&dir.path);
    let out = virsh_ok(ro, &["nodedev-list", "--cap", "pci"]);
    assert_eq!(
        out.lines().filter(|l| !l.is_empty()).count(),
        pci_seen().len()
    );
    let out = virsh_ok(ro, &["iface-list", "--all"]);
    assert!(
        out.lines().any(|l| l.trim_start().starts_with("lo ")),
        "{out}"
    );
    assert_eq!(virsh_ok(ro, &["nwfilter-list"]).lines().count(), 3);
    // What virsh refuses itself on a read-only connection, the daemon
    // refuses too, as libvirtd does; on the read-write socket the answer
    // is that qvirtd does not change the host's objects.
    let define = XmlFlagsArgs {
        xml: "<interface type='ethernet' name='eth9'/>".into(),
        flags: 0,
    };
    let detach = NameArgs {
        name: "computer".into(),
    };
    let mut c = Raw::connect(ro);
    c.open(false, 0);
    let e = c.call(131, &define).unwrap_err();
    assert_eq!(e.code, code::OPERATION_DENIED, "{e:?}");
    let e = c.call(118, &detach).unwrap_err();
    assert_eq!(e.code, code::OPERATION_DENIED, "{e:?}");
    let mut c = Raw::connect(&lv_socket(&dir.path));
    c.open(false, 0);
    for (proc, api) in [
        (131, "virInterfaceDefineXML"),
        (431, "virNWFilterDefineXMLFlags"),
    ] {
        let e = c.call(proc, &define).unwrap_err();
        assert_eq!(e.code, code::NO_SUPPORT, "{e:?}");
        assert!(e.message.unwrap_or_default().contains(api));
    }
    let e = c.call(118, &detach).unwrap_err();
    assert_eq!(e.code, code::NO_SUPPORT, "{e:?}");
}
