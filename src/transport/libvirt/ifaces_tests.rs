//! Interfaces read from a copy of the kernel's layout: what the udev
//! backend writes for each kind, and what it lists.

use super::*;

/// A scratch root with `sys/class/net` and `proc/net/vlan`.
struct Tree {
    root: PathBuf,
}

impl Tree {
    fn new(tag: &str) -> Tree {
        let root = std::env::temp_dir().join(format!("qvirt-ifaces-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("sys/class/net")).unwrap();
        std::fs::create_dir_all(root.join("proc/net/vlan")).unwrap();
        Tree { root }
    }

    fn host(&self) -> NetHost {
        NetHost {
            root: self.root.clone(),
        }
    }

    /// A device with its files (`name` relative to its directory).
    fn dev(&self, name: &str, files: &[(&str, &str)]) {
        let dir = self.root.join("sys/class/net").join(name);
        std::fs::create_dir_all(&dir).unwrap();
        for (f, v) in files {
            let p = dir.join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, format!("{v}\n")).unwrap();
        }
    }
}

impl Drop for Tree {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

fn nic(t: &Tree, name: &str, mac: &str, state: &str) {
    t.dev(
        name,
        &[
            ("uevent", &format!("INTERFACE={name}\nIFINDEX=3")),
            ("address", mac),
            ("mtu", "1500"),
            ("operstate", state),
            ("speed", "10000"),
        ],
    );
}

#[test]
fn a_bridge_shows_its_ports_and_hides_them_from_the_list() {
    let t = Tree::new("bridge");
    t.dev(
        "br0",
        &[
            ("uevent", "DEVTYPE=bridge\nINTERFACE=br0"),
            ("address", "aa:bb:cc:00:00:01"),
            ("mtu", "1500"),
            ("operstate", "up"),
            ("bridge/stp_state", "0"),
            ("bridge/forward_delay", "1500"),
            ("brif/vb", ""),
            ("brif/va", ""),
        ],
    );
    nic(&t, "va", "aa:bb:cc:00:00:02", "up");
    nic(&t, "vb", "aa:bb:cc:00:00:03", "lowerlayerdown");
    for p in ["va", "vb"] {
        t.dev(p, &[("brport/state", "3")]);
    }
    nic(&t, "eth1", "aa:bb:cc:00:00:04", "down");
    t.dev(
        "lo",
        &[
            ("address", "00:00:00:00:00:00"),
            ("mtu", "65536"),
            ("operstate", "unknown"),
        ],
    );
    let host = t.host();
    let xml = interface_xml(&host, "br0").unwrap();
    assert_eq!(
        xml,
        "<interface type='bridge' name='br0'>\n  <mtu size='1500'/>\n  \
         <bridge stp='off' delay='1500'>\n    \
         <interface type='ethernet' name='va'>\n      <link speed='10000' state='up'/>\n      \
         <mac address='aa:bb:cc:00:00:02'/>\n    </interface>\n    \
         <interface type='ethernet' name='vb'>\n      <link state='lowerlayerdown'/>\n      \
         <mac address='aa:bb:cc:00:00:03'/>\n    </interface>\n  \
         </bridge>\n</interface>\n"
    );
    let all = list_all_on(
        &host,
        ListAllArgs {
            need_results: 1,
            flags: 0,
        },
    )
    .unwrap();
    let names: Vec<&str> = all.ifaces.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, ["br0", "eth1", "lo"]);
    // Anything not up is inactive in the whole list; only `down` is
    // "defined" in the old counts.
    let inactive = list_all_on(
        &host,
        ListAllArgs {
            need_results: 1,
            flags: LIST_INACTIVE,
        },
    )
    .unwrap();
    assert_eq!(inactive.ret, 2);
    assert_eq!(with_state(&host, "down"), ["eth1"]);
    assert_eq!(with_state(&host, "up"), ["br0"]);
    // A port is not found by its address; the bridge is.
    assert!(
        by_mac_on(
            &host,
            MacArgs {
                mac: "aa:bb:cc:00:00:02".into()
            }
        )
        .is_err()
    );
    let found = by_mac_on(
        &host,
        MacArgs {
            mac: "aa:bb:cc:00:00:01".into(),
        },
    )
    .unwrap();
    assert_eq!(found.iface.name, "br0");
    let lo = interface_xml(&host, "lo").unwrap();
    assert_eq!(
        lo,
        "<interface type='ethernet' name='lo'>\n  <mtu size='65536'/>\n  \
         <link state='unknown'/>\n  <mac address='00:00:00:00:00:00'/>\n</interface>\n"
    );
    let e = interface_xml(&host, "nope").unwrap_err();
    assert_eq!(
        e.message,
        "Interface not found: couldn't find interface named 'nope'"
    );
    assert!(interface_xml(&host, "../br0").is_err());
}

#[test]
fn a_vlan_and_a_bond_show_their_settings() {
    let t = Tree::new("vlanbond");
    nic(&t, "eth0", "aa:bb:cc:00:00:01", "up");
    t.dev(
        "eth0.5",
        &[
            ("uevent", "DEVTYPE=vlan\nINTERFACE=eth0.5"),
            ("address", "aa:bb:cc:00:00:01"),
            ("mtu", "1500"),
            ("operstate", "down"),
        ],
    );
    std::fs::write(
        t.root.join("proc/net/vlan/eth0.5"),
        "eth0.5  VID: 5\t REORDER_HDR: 1  dev->priv_flags: 1001\n\
         total frames received            0\n\
         Device: eth0\nINGRESS priority mappings: 0:0\n",
    )
    .unwrap();
    t.dev(
        "bond0",
        &[
            ("uevent", "DEVTYPE=bond\nINTERFACE=bond0"),
            ("address", "aa:bb:cc:00:00:09"),
            ("mtu", "9000"),
            ("operstate", "up"),
            ("speed", "2000"),
            ("bonding/mode", "active-backup 1"),
            ("bonding/miimon", "100"),
            ("bonding/updelay", "200"),
            ("bonding/downdelay", "0"),
            ("bonding/use_carrier", "1"),
            ("bonding/arp_interval", "0"),
            ("bonding/slaves", "eth0"),
        ],
    );
    let host = t.host();
    assert_eq!(
        interface_xml(&host, "eth0.5").unwrap(),
        "<interface type='vlan' name='eth0.5'>\n  <mtu size='1500'/>\n  \
         <link state='down'/>\n  <vlan tag='5'>\n    <interface name='eth0'/>\n  \
         </vlan>\n</interface>\n"
    );
    assert_eq!(
        interface_xml(&host, "bond0").unwrap(),
        "<interface type='bond' name='bond0'>\n  <mtu size='9000'/>\n  \
         <link speed='2000' state='up'/>\n  <bond mode='active-backup'>\n    \
         <miimon freq='100' updelay='200' carrier='netif'/>\n    \
         <interface type='ethernet' name='eth0'>\n      <link speed='10000' state='up'/>\n      \
         <mac address='aa:bb:cc:00:00:01'/>\n    </interface>\n  </bond>\n</interface>\n"
    );
    // Two interfaces share an address: libvirt's error says so.
    let e = by_mac_on(
        &host,
        MacArgs {
            mac: "aa:bb:cc:00:00:01".into(),
        },
    )
    .unwrap_err();
    assert!(
        e.message.contains("matches multiple interfaces"),
        "{}",
        e.message
    );
}

#[test]
fn taps_and_guest_ports_are_left_out_and_a_dotted_name_is_a_vlan() {
    let t = Tree::new("taps");
    t.dev(
        "br1",
        &[
            ("uevent", "DEVTYPE=bridge\nINTERFACE=br1"),
            ("mtu", "1500"),
            ("operstate", "up"),
            ("bridge/stp_state", "1"),
            ("bridge/forward_delay", "200"),
            ("brif/vnet0", ""),
            ("brif/vnetx", ""),
        ],
    );
    nic(&t, "vnet0", "fe:54:00:00:00:01", "up");
    t.dev("vnet0", &[("tun_flags", "0x5002"), ("brport/state", "3")]);
    nic(&t, "vnetx", "fe:54:00:00:00:02", "up");
    t.dev("vnetx", &[("brport/state", "3")]);
    nic(&t, "tap7", "fe:54:00:00:00:03", "up");
    t.dev("tap7", &[("tun_flags", "0x5002")]);
    nic(&t, "eth0.7", "aa:bb:cc:00:00:07", "up");
    std::fs::write(
        t.root.join("proc/net/vlan/eth0.7"),
        "eth0.7  VID: 7\t REORDER_HDR: 1\nDevice: eth0\n",
    )
    .unwrap();
    let host = t.host();
    assert_eq!(host.listed(), ["br1", "eth0.7"]);
    let xml = interface_xml(&host, "br1").unwrap();
    assert!(xml.contains("<bridge stp='on' delay='200'>"), "{xml}");
    assert!(
        xml.contains("name='vnetx'") && !xml.contains("name='vnet0'"),
        "{xml}"
    );
    let xml = interface_xml(&host, "eth0.7").unwrap();
    assert!(xml.contains("<vlan tag='7'>"), "{xml}");
    // A tap is still found by its name, as udev finds it.
    assert!(interface_xml(&host, "tap7").is_ok());
}
