//! The network interfaces of the generated definitions (see
//! [`super::build`]): every interface type with its driver, ROM, host
//! offloads, port forwards and the host side of its tap.

use qvirt::model::*;
use uuid::Uuid;

use crate::pick::Pick;

fn mac(p: &mut Pick) -> MacAddr {
    let b = p.next().to_le_bytes();
    MacAddr([b[0] & 0xfe, b[1], b[2], b[3], b[4], b[5]])
}

/// The host side of tap interface number `i` (bridge or ethernet):
/// port isolation off an Open vSwitch port, a tun device, a user's tap,
/// host addresses and routes.
fn tap_settings(p: &mut Pick, net: &mut Interface, i: u64) {
    let bridge = matches!(net.kind, InterfaceType::Bridge(_));
    let ethernet = net.kind == InterfaceType::Ethernet;
    if bridge && net.virtualport.is_none() {
        net.tap.isolated = p.maybe(|p| p.coin());
    }
    if (bridge || ethernet) && p.coin() {
        net.tap.tun_path = Some("/dev/net/tun".into());
    }
    if ethernet && net.target_dev.is_some() {
        net.tap.managed = p.maybe(|p| p.coin());
    }
    if ethernet && p.coin() {
        let gateway: std::net::IpAddr = format!("10.{i}.0.2").parse().unwrap();
        net.tap.ips = vec![HostIp {
            address: format!("10.{i}.0.1").parse().unwrap(),
            prefix: Some(24),
            peer: p.maybe(|_| gateway),
        }];
        net.tap.routes = vec![HostRoute {
            family: p.maybe(|_| IpFamily::Ipv4),
            address: "10.200.0.0".parse().unwrap(),
            prefix: Some(16),
            netmask: None,
            gateway,
            metric: p.maybe(|p| 1 + p.below(10) as u32),
        }];
    }
}

/// Up to three interfaces; `pci` gives each an address or none, `boot`
/// a boot order or none, `path` a file path.
pub fn interfaces(
    p: &mut Pick,
    pci: &mut dyn FnMut(&mut Pick) -> Option<Address>,
    boot: &mut dyn FnMut(&mut Pick) -> Option<u32>,
    path: &dyn Fn(&mut Pick) -> String,
) -> Vec<Interface> {
    let mut interfaces = Vec::new();
    for i in 0..p.below(4) {
        let kind = match p.below(5) {
            0 => InterfaceType::User,
            1 => InterfaceType::Network(format!("net-{i}.{}", p.below(100))),
            2 => InterfaceType::Bridge(format!("br{i}")),
            3 => InterfaceType::Direct {
                dev: format!("enp{i}s0"),
                mode: *p.of(qvirt::model::DirectMode::ALL),
            },
            _ => InterfaceType::Ethernet,
        };
        let user = kind == InterfaceType::User;
        let bridge = matches!(kind, InterfaceType::Bridge(_));
        let direct = matches!(kind, InterfaceType::Direct { .. });
        let host = 1000 * (1 + i as u16);
        interfaces.push(Interface {
            port_forwards: if user && p.coin() {
                vec![PortForward {
                    proto: *p.of(&[PortProto::Tcp, PortProto::Udp]),
                    address: p.maybe(|p| p.of(&["127.0.0.1", "::1", "0.0.0.0"]).to_string()),
                    dev: None,
                    ranges: vec![
                        PortRange {
                            start: host,
                            end: None,
                            to: p.maybe(|_| 22),
                            exclude: false,
                        },
                        PortRange {
                            start: host + 10,
                            end: Some(host + 20),
                            to: p.maybe(|_| 30000),
                            exclude: false,
                        },
                    ],
                }]
            } else {
                Vec::new()
            },
            kind,
            mac: mac(p),
            model: p.maybe(|p| {
                p.of(&["virtio", "e1000", "rtl8139", "ne2k_pci"])
                    .to_string()
            }),
            target_dev: p.maybe(|p| format!("tap-{i}_{}", p.below(1000))),
            boot_order: boot(p),
            driver: p.maybe(|p| NetDriver {
                name: p.maybe(|p| *p.of(NetDriverName::ALL)),
                txmode: p.maybe(|p| *p.of(NetTxMode::ALL)),
                queues: p.maybe(|p| 1 + p.below(8) as u32),
                rx_queue_size: p.maybe(|p| 256 << p.below(3)),
                rss: p.maybe(|p| p.coin()),
                host: HostOffloads {
                    csum: p.maybe(|p| p.coin()),
                    mrg_rxbuf: p.maybe(|p| p.coin()),
                    ..HostOffloads::default()
                },
                guest: GuestOffloads {
                    tso4: p.maybe(|p| p.coin()),
                    ..GuestOffloads::default()
                },
                virtio: VirtioOptions {
                    packed: p.maybe(|p| p.coin()),
                    ..VirtioOptions::default()
                },
                ..NetDriver::default()
            }),
            rom: p.maybe(|p| HostdevRom {
                bar: p.maybe(|p| p.coin()),
                file: p.maybe(|p| path(p)),
                enabled: None,
            }),
            link_up: p.maybe(|p| p.coin()),
            acpi_index: p.maybe(|_| 100 + i as u32),
            mtu: bridge
                .then(|| p.maybe(|p| 1280 + p.below(8000) as u32))
                .flatten(),
            bandwidth: None,
            virtualport: bridge
                .then(|| OvsPort {
                    // A definition always has one: the reader makes up
                    // a missing one, as libvirt's does.
                    interface_id: Some(Uuid::from_u128(
                        0x5eed_0000_0000_4000_8000_0000_0000_0001 + p.below(2) as u128,
                    )),
                    ..OvsPort::default()
                })
                .filter(|_| p.coin()),
            coalesce_rx_frames: bridge.then(|| p.maybe(|p| p.below(100) as u32)).flatten(),
            filterref: (!user && !direct && p.coin()).then(|| FilterRef {
                filter: "clean-traffic".into(),
                parameters: (0..p.below(3))
                    .map(|n| ("IP".to_string(), format!("10.0.{i}.{n}")))
                    .collect(),
            }),
            scripts: Default::default(),
            ips: Vec::new(),
            passt: None,
            tap: Default::default(),
            address: pci(p),
            alias: p.maybe(|_| format!("ua-nic{i}")),
        });
        tap_settings(p, interfaces.last_mut().expect("pushed"), i);
    }
    interfaces
}
