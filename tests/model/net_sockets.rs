//! Socket interfaces (`server`, `client`, `mcast`, `udp`) and the guest
//! network of a user interface (`<ip>`): read as libvirt reads them,
//! written back, checked against libvirt's schema, and refused by name
//! where libvirt's QEMU driver refuses them.

use qvirt::model::{GuestIp, InterfaceType, ModelErrorKind, NetSocket};

use crate::{accept, doc, reject, reject_at_define, xmllint_validate};

use ModelErrorKind::{Invalid, Unsupported};

fn sock(address: Option<&str>, port: u16) -> NetSocket {
    NetSocket {
        address: address.map(str::to_string),
        port,
    }
}

const SOCKETS: &str = "<interface type='server'><mac address='52:54:00:8c:b9:05'/>\
     <source address='192.168.0.1' port='5558'/></interface>\
     <interface type='server'><source port='5559'/></interface>\
     <interface type='client'><source address='192.168.0.1' port='5558'/></interface>\
     <interface type='mcast'><source address='230.0.0.1' port='5558'/></interface>\
     <interface type='udp'><source address='192.168.10.1' port='5555'>\
     <local address='192.168.10.2' port='5556'/></source><model type='rtl8139'/></interface>";

#[test]
fn socket_interfaces_are_read_and_written_back() {
    let d = accept(&doc("", SOCKETS));
    let kinds: Vec<_> = d
        .devices
        .interfaces
        .iter()
        .map(|i| i.kind.clone())
        .collect();
    assert_eq!(
        kinds,
        [
            InterfaceType::Server(sock(Some("192.168.0.1"), 5558)),
            InterfaceType::Server(sock(None, 5559)),
            InterfaceType::Client(sock(Some("192.168.0.1"), 5558)),
            InterfaceType::Mcast(sock(Some("230.0.0.1"), 5558)),
            InterfaceType::Udp {
                remote: sock(Some("192.168.10.1"), 5555),
                local: sock(Some("192.168.10.2"), 5556),
            },
        ]
    );
    let x = d.to_xml();
    assert!(
        x.contains("<interface type='server'>\n      <mac address='52:54:00:8c:b9:05'/>\n      <source address='192.168.0.1' port='5558'/>"),
        "{x}"
    );
    assert!(x.contains("<source port='5559'/>"), "{x}");
    assert!(
        x.contains("<source address='192.168.10.1' port='5555'>\n        <local address='192.168.10.2' port='5556'/>\n      </source>"),
        "{x}"
    );
}

#[test]
fn socket_interface_rules() {
    let one = |iface: &str| doc("", iface);
    for (iface, kind, fragment) in [
        // libvirt's virDomainNetDefParseXML: an address except on a
        // server, a port always, a <local> on udp.
        (
            "<interface type='client'><source port='1'/></interface>",
            Invalid,
            "missing attribute address",
        ),
        (
            "<interface type='mcast'><source address='230.0.0.1'/></interface>",
            Invalid,
            "missing attribute port",
        ),
        (
            "<interface type='server'/>",
            Invalid,
            "missing <source port=...>",
        ),
        (
            "<interface type='udp'><source address='10.0.0.1' port='1'/></interface>",
            Invalid,
            "'<local>' element missing for 'udp' socket interface",
        ),
        (
            "<interface type='udp'><source address='10.0.0.1' port='1'><local port='2'/></source></interface>",
            Invalid,
            "missing attribute address",
        ),
        (
            "<interface type='server'><source port='70000'/></interface>",
            Invalid,
            "a port is at most 65535",
        ),
        // <local> is udp's only.
        (
            "<interface type='client'><source address='10.0.0.1' port='1'><local address='10.0.0.2' port='2'/></source></interface>",
            Unsupported,
            "<local>",
        ),
        // QEMU's socket backends have no MTU (qemuDomainNetSupportsMTU).
        (
            "<interface type='server'><source port='1'/><mtu size='1400'/></interface>",
            Unsupported,
            "setting MTU on interface type 'server' is not supported",
        ),
        (
            "<interface type='mcast'><source address='230.0.0.1' port='1'/><bandwidth><inbound average='10'/></bandwidth></interface>",
            Unsupported,
            "<bandwidth>",
        ),
    ] {
        reject(&one(iface), kind, fragment);
    }
}

#[test]
fn user_interface_ip_is_read_and_written_back() {
    let d = accept(&doc(
        "",
        "<interface type='user'><ip address='172.17.2.0' family='ipv4' prefix='24'/>\
         <ip address='2001:db8:ac10:fd01::' family='ipv6' prefix='64'/></interface>\
         <interface type='user'><ip address='10.1.0.0'/><ip address='fd00:1::' prefix='0'/></interface>",
    ));
    let ips = |i: usize| d.devices.interfaces[i].ips.clone();
    assert_eq!(
        ips(0),
        [
            GuestIp {
                address: "172.17.2.0".parse().unwrap(),
                prefix: Some(24)
            },
            GuestIp {
                address: "2001:db8:ac10:fd01::".parse().unwrap(),
                prefix: Some(64)
            },
        ]
    );
    // No family: the address's. No prefix (or 0, libvirt's "none"): none
    // written back, as libvirt writes it.
    assert_eq!(
        ips(1),
        [
            GuestIp {
                address: "10.1.0.0".parse().unwrap(),
                prefix: None
            },
            GuestIp {
                address: "fd00:1::".parse().unwrap(),
                prefix: None
            },
        ]
    );
    let x = d.to_xml();
    assert!(
        x.contains("<ip address='172.17.2.0' family='ipv4' prefix='24'/>"),
        "{x}"
    );
    assert!(x.contains("<ip address='fd00:1::' family='ipv6'/>"), "{x}");
}

#[test]
fn user_interface_ip_rules() {
    let user = |ips: &str| doc("", &format!("<interface type='user'>{ips}</interface>"));
    // virDomainNetIPParseXML's rules.
    for (ip, fragment) in [
        ("<ip family='ipv4'/>", "missing attribute address"),
        ("<ip address='10.0.0.300'/>", "Invalid address '10.0.0.300'"),
        (
            "<ip address='fd00::' family='ipv4'/>",
            "Invalid address 'fd00::'",
        ),
        (
            "<ip address='10.0.0.0' prefix='33'/>",
            "Invalid prefix value '33'",
        ),
        (
            "<ip address='fd00::' prefix='129'/>",
            "Invalid prefix value '129'",
        ),
    ] {
        reject(&user(ip), Invalid, fragment);
    }
    // A peer and a route are QEMU's nowhere, refused by name.
    reject(
        &user("<ip address='10.0.0.0' peer='10.0.0.1'/>"),
        Unsupported,
        "peer",
    );
    reject(
        &user("<route address='10.1.0.0' gateway='10.0.0.1'/>"),
        Unsupported,
        "<route>",
    );
    // Only user networking takes a guest network
    // (qemuValidateDomainDeviceDefNetwork).
    reject(
        &doc(
            "",
            "<interface type='bridge'><source bridge='br0'/><ip address='10.0.0.2'/></interface>",
        ),
        Unsupported,
        "Invalid attempt to set network interface guest-side IP route and/or address info",
    );
    // QEMU's rules on how many and how long, at define.
    for (ips, kind, fragment) in [
        (
            "<ip address='10.0.0.0'/><ip address='10.1.0.0'/>",
            Unsupported,
            "Only one IPv4 address per interface is allowed",
        ),
        (
            "<ip address='fd00::'/><ip address='fd01::'/>",
            Unsupported,
            "Only one IPv6 address per interface is allowed",
        ),
        (
            "<ip address='10.0.0.0' prefix='28'/>",
            Invalid,
            "invalid prefix, must be in range of 4-27",
        ),
        (
            "<ip address='10.0.0.0' prefix='3'/>",
            Invalid,
            "invalid prefix, must be in range of 4-27",
        ),
        (
            "<ip address='fd00::' prefix='48'/>",
            Unsupported,
            "unsupported IPv6 address prefix='48' - must be 64",
        ),
    ] {
        reject_at_define(&user(ips), kind, fragment);
    }
}

#[test]
fn socket_and_user_ip_documents_validate_against_libvirts_schema() {
    let dir = crate::scratch_dir("net-sockets");
    let user = "<interface type='user'><ip address='172.17.2.0' family='ipv4' prefix='24'/>\
                <ip address='2001:db8:ac10:fd01::' prefix='64'/></interface>";
    let files: Vec<_> = [SOCKETS, user]
        .iter()
        .enumerate()
        .map(|(i, devices)| {
            let f = dir.join(format!("net{i}.xml"));
            std::fs::write(&f, accept(&doc("", devices)).to_xml()).unwrap();
            f
        })
        .collect();
    xmllint_validate(&files);
}
