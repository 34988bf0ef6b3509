//! What an interface asks of its host tap beyond its creation, and of a
//! vhost-user socket: `<port isolated>` (a bridge port's isolation),
//! `<target managed='no'>` (a tap the user made), `<source><ip>` and
//! `<route>` (an ethernet tap's host addresses), `<reconnect>` (a
//! vhost-user client's). Read, written back, checked against libvirt's
//! schema, and refused by name where libvirt refuses them.

use qvirt::model::{HostIp, HostRoute, InterfaceType, IpFamily, ModelErrorKind};

use crate::{accept, doc, reject, scratch_dir, xmllint_validate};

use ModelErrorKind::{Invalid, Unsupported};

const BRIDGE: &str = "<interface type='bridge'><source bridge='br0'/>";

/// Writes `xml` to a scratch file and validates it with libvirt's schema.
fn schema_valid(tag: &str, xml: &str) {
    let dir = scratch_dir(tag);
    let file = dir.join("out.xml");
    std::fs::write(&file, xml).unwrap();
    xmllint_validate(&[file]);
}

#[test]
fn port_isolation_is_read_on_a_bridge_and_written_back() {
    let d = accept(&doc(
        "",
        &format!(
            "{BRIDGE}<port isolated='yes'/></interface>{BRIDGE}<port isolated='no'/></interface>{BRIDGE}</interface>"
        ),
    ));
    let isolated: Vec<_> = d
        .devices
        .interfaces
        .iter()
        .map(|i| i.tap.isolated)
        .collect();
    assert_eq!(isolated, [Some(true), Some(false), None]);
    let x = d.to_xml();
    assert!(x.contains("<port isolated='yes'/>"), "{x}");
    assert!(x.contains("<port isolated='no'/>"), "{x}");
    schema_valid("port-isolated", &x);
}

#[test]
fn port_isolation_rules() {
    // libvirt's virDomainNetDefValidatePortOptions: a tap on a Linux
    // bridge only, not an Open vSwitch port.
    for (iface, fragment) in [
        (
            "<interface type='ethernet'><port isolated='yes'/></interface>",
            "type='ethernet'",
        ),
        (
            "<interface type='user'><port isolated='yes'/></interface>",
            "type='user'",
        ),
        (
            "<interface type='direct'><source dev='eth0'/><port isolated='yes'/></interface>",
            "type='direct'",
        ),
        (
            "<interface type='network'><source network='default'/><port isolated='yes'/></interface>",
            "no host bridge",
        ),
        (
            "<interface type='bridge'><source bridge='br0'/><virtualport type='openvswitch'/><port isolated='yes'/></interface>",
            "virtualport type='openvswitch'",
        ),
    ] {
        reject(&doc("", iface), Unsupported, fragment);
    }
    reject(
        &doc("", &format!("{BRIDGE}<port isolated='sure'/></interface>")),
        Invalid,
        "attribute isolated on <interface><port> at 6:",
    );
    reject(
        &doc(
            "",
            &format!("{BRIDGE}<port isolated='yes' trunk='1'/></interface>"),
        ),
        Unsupported,
        "attribute trunk",
    );
    reject(
        &doc("", &format!("{BRIDGE}<port/><port/></interface>")),
        Invalid,
        "more than once",
    );
}

#[test]
fn an_unmanaged_tap_is_read_on_ethernet_and_written_back() {
    let d = accept(&doc(
        "",
        "<interface type='ethernet'><mac address='fe:11:22:33:44:55'/>\
         <target dev='mytap0' managed='no'/><model type='virtio'/></interface>\
         <interface type='ethernet'><target dev='vnet3' managed='no'/></interface>\
         <interface type='ethernet'><target dev='qvtap1' managed='yes'/></interface>",
    ));
    let nets = &d.devices.interfaces;
    assert_eq!(nets[0].tap.managed, Some(false));
    assert!(!nets[0].tap.is_managed());
    assert_eq!(nets[0].target_dev.as_deref(), Some("mytap0"));
    // A user's tap keeps even a name qvirt would choose afresh.
    assert_eq!(nets[1].target_dev.as_deref(), Some("vnet3"));
    assert!(nets[2].tap.is_managed());
    let x = d.to_xml();
    assert!(x.contains("<target dev='mytap0' managed='no'/>"), "{x}");
    assert!(x.contains("<target dev='qvtap1' managed='yes'/>"), "{x}");
    schema_valid("unmanaged", &x);
}

#[test]
fn unmanaged_tap_rules() {
    // libvirt's virDomainNetDefValidate: ethernet only.
    for iface in [
        format!("{BRIDGE}<target dev='t0' managed='no'/></interface>"),
        "<interface type='direct'><source dev='eth0'/><target dev='t0' managed='no'/></interface>"
            .to_string(),
        "<interface type='user'><target dev='t0' managed='no'/></interface>".to_string(),
    ] {
        reject(
            &doc("", &iface),
            Unsupported,
            "unmanaged target dev is not supported",
        );
    }
    reject(
        &doc(
            "",
            "<interface type='ethernet'><target managed='no'/></interface>",
        ),
        Invalid,
        "missing attribute dev",
    );
    reject(
        &doc(
            "",
            "<interface type='ethernet'><target dev='t0' managed='off'/></interface>",
        ),
        Invalid,
        "attribute managed",
    );
    reject(
        &doc(
            "",
            "<interface type='ethernet'><target dev='t0' managed='no'/>\
             <bandwidth><inbound average='100'/></bandwidth></interface>",
        ),
        Unsupported,
        "<bandwidth> with <target managed='no'>",
    );
}

/// libvirt's net-eth-hostip test input's interface.
const HOSTIP: &str = "<interface type='ethernet'><mac address='00:11:22:33:44:55'/>\
    <source>\
    <ip address='192.168.125.1' family='ipv4' prefix='24' peer='192.168.125.2'/>\
    <ip address='fd00:1::1' prefix='64'/>\
    <ip address='172.16.0.1'/>\
    <route family='ipv4' address='10.20.0.0' prefix='16' gateway='192.168.125.2'/>\
    <route address='10.30.0.0' netmask='255.255.0.0' gateway='192.168.125.2' metric='7'/>\
    <route family='ipv6' address='fd00:2::' prefix='48' gateway='fd00:1::2'/>\
    </source><model type='rtl8139'/></interface>";

#[test]
fn host_addresses_and_routes_are_read_on_ethernet_and_written_back() {
    let d = accept(&doc("", HOSTIP));
    let tap = &d.devices.interfaces[0].tap;
    assert_eq!(
        tap.ips[0],
        HostIp {
            address: "192.168.125.1".parse().unwrap(),
            prefix: Some(24),
            peer: Some("192.168.125.2".parse().unwrap()),
        }
    );
    // No prefix: the address's class, as libvirt finds it.
    assert_eq!(tap.ips[2].prefix, None);
    assert_eq!(tap.ips[2].effective_prefix(), Some(16));
    assert_eq!(tap.ips[1].effective_prefix(), Some(64));
    assert_eq!(
        tap.routes[0],
        HostRoute {
            family: Some(IpFamily::Ipv4),
            address: "10.20.0.0".parse().unwrap(),
            prefix: Some(16),
            netmask: None,
            gateway: "192.168.125.2".parse().unwrap(),
            metric: None,
        }
    );
    assert_eq!(tap.routes[1].effective_prefix(), Some(16));
    assert_eq!(tap.routes[1].metric, Some(7));
    assert_eq!(tap.routes[2].effective_prefix(), Some(48));
    let x = d.to_xml();
    assert!(
        x.contains("<source>\n        <ip address='192.168.125.1' family='ipv4' prefix='24' peer='192.168.125.2'/>"),
        "{x}"
    );
    assert!(
        x.contains(
            "<route address='10.30.0.0' netmask='255.255.0.0' gateway='192.168.125.2' metric='7'/>"
        ),
        "{x}"
    );
    schema_valid("hostip", &x);
}

#[test]
fn host_address_rules() {
    let eth = |source: &str| {
        doc(
            "",
            &format!("<interface type='ethernet'><source>{source}</source></interface>"),
        )
    };
    for (source, fragment) in [
        ("<ip address='10.0.0.1' peer='fd00::1'/>", "attribute peer"),
        (
            "<ip address='10.0.0.1' prefix='33'/>",
            "Invalid prefix value '33'",
        ),
        ("<ip address='nowhere'/>", "Invalid address 'nowhere'"),
        ("<ip address='240.0.0.1'/>", "give its prefix"),
        (
            "<ip address='10.0.0.1' family='ipv6'/>",
            "not an IPv6 address",
        ),
        (
            "<route address='10.20.1.0' prefix='16' gateway='10.0.0.2'/>",
            "is not a network address",
        ),
        (
            "<route address='10.20.0.0' gateway='10.0.0.2'/>",
            "is not a network address",
        ),
        (
            "<route address='10.20.0.0' prefix='16' netmask='255.255.0.0' gateway='10.0.0.2'/>",
            "both a prefix and a netmask",
        ),
        (
            "<route family='ipv6' address='fd00::' netmask='255.255.0.0' gateway='fd00::1'/>",
            "IPv4 only",
        ),
        (
            "<route address='fd00::' prefix='16' gateway='fd00::1'/>",
            "not of family ipv4",
        ),
        (
            "<route family='ipv6' address='fd00::' prefix='16' gateway='10.0.0.1'/>",
            "gateway '10.0.0.1' is not of family ipv6",
        ),
        (
            "<route address='10.20.0.0' prefix='40' gateway='10.0.0.2'/>",
            "must be 0 - 32",
        ),
        (
            "<route address='10.20.0.0' prefix='16' gateway='10.0.0.2' metric='0'/>",
            "attribute metric",
        ),
        (
            "<route address='10.20.0.0' netmask='255.0.255.0' gateway='10.0.0.2'/>",
            "attribute netmask",
        ),
        (
            "<route address='10.20.0.0' prefix='16'/>",
            "missing attribute gateway",
        ),
    ] {
        reject(&eth(source), Invalid, fragment);
    }
    reject(
        &eth("<route family='ipx' address='10.20.0.0' prefix='16' gateway='10.0.0.2'/>"),
        Unsupported,
        "attribute family",
    );
    reject(
        &eth("<ip address='10.0.0.1' scope='link'/>"),
        Unsupported,
        "attribute scope",
    );
    // libvirt's virDomainNetDefValidate: host-side addresses are an
    // ethernet interface's only (a bridge's <source> has no children).
    reject(
        &doc(
            "",
            "<interface type='bridge'><source bridge='br0'><ip address='10.0.0.1'/></source></interface>",
        ),
        Unsupported,
        "<ip>",
    );
}

#[test]
fn a_vhostuser_client_reconnects_as_written() {
    let d = accept(&doc(
        "<memoryBacking><access mode='shared'/></memoryBacking>",
        "<interface type='vhostuser'><source type='unix' path='/tmp/vhost2.sock' mode='client'>\
         <reconnect enabled='yes' timeout='10'/></source><model type='virtio'/></interface>\
         <interface type='vhostuser'><source type='unix' path='/tmp/vhost3.sock' mode='client'>\
         <reconnect enabled='no'/></source><model type='virtio'/></interface>",
    ));
    let reconnect: Vec<_> = d
        .devices
        .interfaces
        .iter()
        .map(|i| match &i.kind {
            InterfaceType::VhostUser { reconnect, .. } => *reconnect,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(reconnect, [Some(10), None]);
    let x = d.to_xml();
    assert!(
        x.contains(
            "mode='client'>\n        <reconnect enabled='yes' timeout='10'/>\n      </source>"
        ),
        "{x}"
    );
    schema_valid("vhu-reconnect", &x);
    let vhu = |source: &str| {
        doc(
            "",
            &format!("<interface type='vhostuser'>{source}<model type='virtio'/></interface>"),
        )
    };
    for (source, fragment) in [
        (
            "<source type='unix' path='/s' mode='server'><reconnect enabled='yes' timeout='3'/></source>",
            "does not reconnect",
        ),
        (
            "<source type='unix' path='/s' mode='client'><reconnect enabled='yes'/></source>",
            "needs a timeout",
        ),
        (
            "<source type='unix' path='/s' mode='client'><reconnect enabled='no' timeout='2'/></source>",
            "takes no timeout",
        ),
        (
            "<source type='unix' path='/s' mode='client'><reconnect timeout='2'/></source>",
            "missing enabled=",
        ),
    ] {
        reject(&vhu(source), Invalid, fragment);
    }
}

#[test]
fn backend_device_paths_are_read_on_taps_and_written_back() {
    let d = accept(&doc(
        "",
        &format!(
            "{BRIDGE}<model type='virtio'/><backend tap='/dev/net/tun' vhost='/dev/vhost-net'/></interface>\
             <interface type='ethernet'><model type='e1000'/><backend tap='/run/tun'/></interface>\
             <interface type='ethernet'><backend type='default'/></interface>"
        ),
    ));
    let nets = &d.devices.interfaces;
    assert_eq!(nets[0].tap.tun_path.as_deref(), Some("/dev/net/tun"));
    assert_eq!(nets[0].tap.vhost_path.as_deref(), Some("/dev/vhost-net"));
    assert_eq!(nets[1].tap.tun_path.as_deref(), Some("/run/tun"));
    assert_eq!(nets[2].tap.tun_path, None);
    let x = d.to_xml();
    assert!(
        x.contains("<backend tap='/dev/net/tun' vhost='/dev/vhost-net'/>"),
        "{x}"
    );
    schema_valid("backend-paths", &x);
}

#[test]
fn backend_device_path_rules() {
    // libvirt's tap-vhost-incorrect: vhost-net is for virtio NICs
    // (libvirt drops it from the e1000 without a word; qvirt says so).
    reject(
        &doc(
            "",
            "<interface type='ethernet'><model type='e1000'/><backend tap='/dev/null' vhost='/dev/zero'/></interface>",
        ),
        Unsupported,
        "vhost-net serves virtio NICs only",
    );
    // qemuDomainValidateActualNetDef: a tap's only.
    for (iface, fragment) in [
        (
            "<interface type='direct'><source dev='eth0'/><backend tap='/dev/net/tun'/></interface>",
            "not supported for network interfaces of type direct",
        ),
        (
            "<interface type='user'><backend tap='/dev/net/tun'/></interface>",
            "not supported for network interfaces of type user",
        ),
        (
            "<interface type='network'><source network='default'/><model type='virtio'/><backend tap='/dev/null' vhost='/dev/zero'/></interface>",
            "with no tap",
        ),
        (
            "<interface type='ethernet'><backend logFile='/tmp/l'/></interface>",
            "attribute logFile",
        ),
        (
            "<interface type='ethernet'><backend type='passt'/></interface>",
            "can only be used with interface type='user'",
        ),
    ] {
        reject(&doc("", iface), Unsupported, fragment);
    }
    reject(
        &doc(
            "",
            "<interface type='ethernet'><backend tap='dev/net/tun'/></interface>",
        ),
        Invalid,
        "attribute tap on <interface><backend> at 6:",
    );
}
