//! Reading `<interface>` with its `<driver>`, `<bandwidth>` and port
//! forwards, and the `<rom>` a PCI device shows.

use super::devices::{VIRTIO_ATTRS, address, alias, boot_order, virtio_attrs};
use super::el::{El, R, Radix, invalid, push, set};
use super::net_socket::{SocketKind, guest_ip, socket_source};
use crate::model::{
    DirectMode, FilterRef, GuestOffloads, HostOffloads, HostdevRom, Interface, InterfaceType,
    MacAddr, ModelErrorKind, NetDriver, OvsPort, PortForward, PortRange,
};

/// `<rom bar= file= enabled=>` of a PCI device (a NIC, a host device).
pub(super) fn rom(c: El) -> R<HostdevRom> {
    c.allow(&["bar", "file", "enabled"])?;
    c.empty()?;
    Ok(HostdevRom {
        bar: c.on_off("bar")?,
        file: c.get("file").map(str::to_string),
        enabled: c.yes_no("enabled")?,
    })
}

const DRIVER_ATTRS: &[&str] = &[
    "name",
    "txmode",
    "ioeventfd",
    "event_idx",
    "queues",
    "rx_queue_size",
    "tx_queue_size",
    "rss",
    "rss_hash_report",
];

/// `<interface><driver>` with its `<host>` and `<guest>` offloads.
pub(super) fn net_driver(e: El) -> R<NetDriver> {
    let mut d = NetDriver {
        virtio: {
            // The virtio options are attributes of the same element.
            let mut allowed = VIRTIO_ATTRS.to_vec();
            allowed.extend_from_slice(DRIVER_ATTRS);
            e.allow(&allowed)?;
            virtio_attrs(e)?
        },
        name: e.word("name")?,
        txmode: e.word("txmode")?,
        ioeventfd: e.on_off("ioeventfd")?,
        event_idx: e.on_off("event_idx")?,
        queues: e.u32("queues", Radix::Dec)?,
        rx_queue_size: e.u32("rx_queue_size", Radix::Dec)?,
        tx_queue_size: e.u32("tx_queue_size", Radix::Dec)?,
        rss: e.on_off("rss")?,
        rss_hash_report: e.on_off("rss_hash_report")?,
        ..NetDriver::default()
    };
    let (mut host, mut guest) = (None, None);
    for c in e.children()? {
        match c.name() {
            "host" => set(&mut host, c, |c| {
                c.allow(&["csum", "gso", "tso4", "tso6", "ecn", "ufo", "mrg_rxbuf"])?;
                c.empty()?;
                Ok(HostOffloads {
                    csum: c.on_off("csum")?,
                    gso: c.on_off("gso")?,
                    tso4: c.on_off("tso4")?,
                    tso6: c.on_off("tso6")?,
                    ecn: c.on_off("ecn")?,
                    ufo: c.on_off("ufo")?,
                    mrg_rxbuf: c.on_off("mrg_rxbuf")?,
                })
            })?,
            "guest" => set(&mut guest, c, |c| {
                c.allow(&["csum", "tso4", "tso6", "ecn", "ufo"])?;
                c.empty()?;
                Ok(GuestOffloads {
                    csum: c.on_off("csum")?,
                    tso4: c.on_off("tso4")?,
                    tso6: c.on_off("tso6")?,
                    ecn: c.on_off("ecn")?,
                    ufo: c.on_off("ufo")?,
                })
            })?,
            _ => c.skip()?,
        }
    }
    d.host = host.unwrap_or_default();
    d.guest = guest.unwrap_or_default();
    Ok(d)
}

/// `<bandwidth>` with its `<inbound>` and `<outbound>`; `None` when it
/// sets no rate. A rate needs its `average` (libvirt's rule; `floor`,
/// a guarantee from a libvirt network's QoS, is refused: qvirt has no
/// such network).
pub(super) fn bandwidth(e: El) -> R<Option<crate::model::Bandwidth>> {
    e.allow(&[])?;
    let rate = |c: El, inbound: bool| -> R<crate::model::BandwidthRate> {
        if inbound {
            c.allow(&["average", "peak", "burst", "floor"])?;
        } else {
            c.allow(&["average", "peak", "burst"])?;
        }
        c.empty()?;
        if c.get("floor").is_some() {
            return Err(c.bad_value(
                crate::model::ModelErrorKind::Unsupported,
                "floor",
                "a guaranteed floor needs a libvirt network with QoS, which qvirt does not have",
            ));
        }
        let average = c
            .u64("average", Radix::Dec)?
            .filter(|a| *a > 0)
            .ok_or_else(|| {
                super::el::invalid(format!(
                    "Missing mandatory average or floor attributes in <{}> at {}",
                    c.name(),
                    c.at()
                ))
            })?;
        Ok(crate::model::BandwidthRate {
            average,
            peak: c.u64("peak", Radix::Dec)?,
            burst: c.u64("burst", Radix::Dec)?,
        })
    };
    let (mut inbound, mut outbound) = (None, None);
    for c in e.children()? {
        match c.name() {
            "inbound" => set(&mut inbound, c, |c| rate(c, true))?,
            "outbound" => set(&mut outbound, c, |c| rate(c, false))?,
            _ => c.skip()?,
        }
    }
    let b = crate::model::Bandwidth { inbound, outbound };
    Ok((b != crate::model::Bandwidth::default()).then_some(b))
}

/// A random locally administered MAC in QEMU's `52:54:00` range.
fn random_mac() -> MacAddr {
    let r = uuid::Uuid::new_v4();
    let b = r.as_bytes();
    MacAddr([0x52, 0x54, 0x00, b[0], b[1], b[2]])
}

pub(super) fn interface(e: El) -> R<Interface> {
    e.allow(&["type"])?;
    e.req("type")?;
    let kind = e
        .choice(
            "type",
            &[
                ("user", 0),
                ("network", 1),
                ("bridge", 2),
                ("ethernet", 3),
                ("direct", 4),
                ("vhostuser", 5),
                ("server", 6),
                ("client", 7),
                ("mcast", 8),
                ("udp", 9),
            ],
        )?
        .unwrap_or(0);
    let (mut source, mut mac, mut model) = (None, None, None);
    let mut direct = None;
    let mut vhost_user = None;
    let mut socket = None;
    let mut ips = Vec::new();
    let (mut backend, mut user_dev, mut passt_only) = (None, None, None);
    let mut user_mtu_at = None;
    let (mut target_dev, mut boot, mut address_v) = (None, None, None);
    let mut port_forwards = Vec::new();
    let (mut driver, mut rom, mut link_up) = (None, None, None);
    let (mut virtualport, mut mtu, mut bandwidth) = (None, None, None);
    let (mut coalesce_v, mut filterref_v) = (None, None);
    let (mut script, mut downscript, mut vlan, mut acpi) = (None, None, None, None);
    let mut user_alias = None;
    let (mut port_v, mut host_side, mut managed_at) = (None, None, None);
    let type_name = e.get("type").unwrap_or_default();
    for c in e.children()? {
        match c.name() {
            "virtualport" if kind == 2 => set(&mut virtualport, c, |c| {
                c.allow(&["type"])?;
                c.req("type")?;
                c.choice("type", &[("openvswitch", ())])?;
                let mut port = OvsPort::default();
                let mut params = None;
                for p in c.children()? {
                    match p.name() {
                        "parameters" => set(&mut params, p, |p| {
                            p.allow(&["interfaceid", "profileid"])?;
                            p.empty()?;
                            let id = match p.get("interfaceid") {
                                None => None,
                                Some(t) => Some(uuid::Uuid::parse_str(t).map_err(|_| {
                                    p.bad_value(
                                        ModelErrorKind::Invalid,
                                        "interfaceid",
                                        "expected a UUID",
                                    )
                                })?),
                            };
                            Ok((id, p.get("profileid").map(str::to_string)))
                        })?,
                        _ => p.skip()?,
                    }
                }
                if let Some((id, profile)) = params {
                    port.interface_id = id;
                    port.profile_id = profile;
                }
                // libvirt's virNetDevVPortProfileCheckComplete: a missing
                // interface id is made up once, here, and kept with the
                // definition, so that the port's id stays across starts.
                port.interface_id.get_or_insert_with(uuid::Uuid::new_v4);
                Ok(port)
            })?,
            "driver" => set(&mut driver, c, net_driver)?,
            "rom" => set(&mut rom, c, self::rom)?,
            "link" => set(&mut link_up, c, |c| {
                c.allow(&["state"])?;
                c.empty()?;
                c.choice("state", &[("up", true), ("down", false)])
            })?,
            "bandwidth" => set(&mut bandwidth, c, |c| {
                // libvirt's virNetDevSupportsBandwidth: bridge, network,
                // direct and ethernet; qvirt's only network is QEMU's user
                // networking, which has no host device to shape.
                if !matches!(kind, 2..=4) {
                    return Err(super::el::unsupported(format!(
                        "<bandwidth> at {} on an interface of type '{}' is not supported: only a tap or macvtap (type 'bridge', 'ethernet' or 'direct') is shaped",
                        c.at(),
                        e.get("type").unwrap_or_default()
                    )));
                }
                self::bandwidth(c)
            })?,
            "mtu" => set(&mut mtu, c, |c| {
                c.allow(&["size"])?;
                c.empty()?;
                // libvirt's qemuDomainNetSupportsMTU: a tap, a vhost-user
                // port, a network or passt (QEMU's user networking and
                // socket backends have none).
                if kind == 0 {
                    user_mtu_at = Some(c.at());
                } else if !matches!(kind, 1 | 2 | 3 | 5) {
                    return Err(super::el::unsupported(format!(
                        "setting MTU on interface type '{}' is not supported, at {}",
                        e.get("type").unwrap_or_default(),
                        c.at()
                    )));
                }
                c.req("size")?;
                let size = c.u32("size", Radix::Dec)?.unwrap_or_default();
                // What virtio-net and a Linux tap take.
                if !(68..=65535).contains(&size) {
                    return Err(c.bad_value(
                        ModelErrorKind::Invalid,
                        "size",
                        "an MTU is from 68 to 65535",
                    ));
                }
                Ok(size)
            })?,
            "source" if kind == 1 || kind == 2 => set(&mut source, c, |c| {
                let attr = if kind == 1 { "network" } else { "bridge" };
                // A running domain's network interface shows its port and
                // bridge: live state, which a definition does not keep.
                // So does a bridge interface's, with the network's name,
                // which libvirt does not read for it.
                if kind == 1 {
                    c.allow(&["network", "portid", "bridge"])?;
                } else {
                    c.allow(&["network", "bridge"])?;
                }
                c.empty()?;
                Ok(c.req(attr)?.to_string())
            })?,
            "source" if kind == 5 => set(&mut vhost_user, c, |c| {
                c.allow(&["type", "path", "mode"])?;
                c.req("type")?;
                c.choice("type", &[("unix", ())])?;
                let server = c
                    .choice("mode", &[("server", true), ("client", false)])?
                    .unwrap_or(false);
                // As a UNIX character device's (QEMU's socket chardev).
                let reconnect = super::chardev::reconnect(c, server, "vhost-user")?;
                Ok((c.req("path")?.to_string(), server, reconnect))
            })?,
            "source" if kind == 3 => set(&mut host_side, c, super::net_host::host_source)?,
            "port" => set(&mut port_v, c, |c| {
                super::net_host::port(c, kind, type_name)
            })?,
            "source" if kind >= 6 => set(&mut socket, c, |c| {
                let k = match kind {
                    6 => SocketKind::Server,
                    9 => SocketKind::Udp,
                    _ => SocketKind::Peer,
                };
                socket_source(c, k)
            })?,
            "ip" => {
                // libvirt's qemuValidateDomainDeviceDefNetwork: QEMU sets
                // a guest's address only on user networking.
                if kind != 0 {
                    return Err(super::el::unsupported(format!(
                        "<ip> at {} on an interface of type '{type_name}': Invalid attempt to set network interface guest-side IP route and/or address info, not supported by QEMU (only type='user' takes it)",
                        c.at()
                    )));
                }
                push(&mut ips, c, guest_ip)?
            }
            "source" if kind == 4 => set(&mut direct, c, |c| {
                c.allow(&["dev", "mode"])?;
                c.empty()?;
                let dev = c.req("dev")?.to_string();
                let mode = c.word("mode")?.unwrap_or(DirectMode::Vepa);
                Ok((dev, mode))
            })?,
            "mac" => set(&mut mac, c, |c| {
                c.allow(&["address"])?;
                c.empty()?;
                let v = c.req("address")?;
                v.parse::<MacAddr>().map_err(|_| {
                    c.bad_value(ModelErrorKind::Invalid, "address", "expected a MAC address")
                })
            })?,
            "model" => set(&mut model, c, |c| {
                c.allow(&["type"])?;
                c.empty()?;
                Ok(c.req("type")?.to_string())
            })?,
            "target" => set(&mut target_dev, c, |c| {
                c.allow(&["dev", "managed"])?;
                c.empty()?;
                let managed = c.yes_no("managed")?;
                // libvirt's virDomainNetDefValidate.
                if managed == Some(false) && kind != 3 {
                    return Err(super::el::unsupported(format!(
                        "<target managed='no'> at {}: unmanaged target dev is not supported on interfaces of type '{type_name}' (only type='ethernet' uses a tap made beforehand)",
                        c.at()
                    )));
                }
                managed_at = managed.map(|m| (m, c.at()));
                Ok(c.req("dev")?.to_string())
            })?,
            "coalesce" => set(&mut coalesce_v, c, |c| coalesce(c, kind, type_name))?,
            "filterref" => set(&mut filterref_v, c, |c| filterref(c, kind, type_name))?,
            "script" => set(&mut script, c, |c| script_path(c, kind, type_name))?,
            "vlan" => set(&mut vlan, c, vlan_of)?,
            "downscript" => set(&mut downscript, c, |c| script_path(c, kind, type_name))?,
            "boot" => set(&mut boot, c, boot_order)?,
            "portForward" => push(&mut port_forwards, c, |c| port_forward(c, &mut passt_only))?,
            "backend" => set(&mut backend, c, |c| {
                super::net_host::backend(c, kind, type_name)
            })?,
            "source" if kind == 0 => set(&mut user_dev, c, |c| {
                c.allow(&["dev"])?;
                c.empty()?;
                Ok((c.req("dev")?.to_string(), c.at()))
            })?,
            "acpi" => set(&mut acpi, c, super::devices::acpi_index)?,
            "address" => set(&mut address_v, c, address)?,
            "alias" => set(&mut user_alias, c, alias)?,
            _ => c.skip()?,
        }
    }
    if let Some(v) = vlan {
        // libvirt's virDomainNetDefValidate: VLANs are set on Open
        // vSwitch ports (and SR-IOV devices, which qvirt does not have).
        match virtualport.as_mut() {
            Some(port) => port.vlan = Some(v),
            None => {
                return Err(super::el::unsupported(format!(
                    "<vlan> at {}: a vlan tag is not supported for this connection type (only on an Open vSwitch port, <virtualport type='openvswitch'>)",
                    e.at()
                )));
            }
        }
    }
    let managed = managed_at.as_ref().map(|(m, _)| *m);
    if let (Some((false, at)), Some(Some(_))) = (&managed_at, &bandwidth) {
        // The shaping would stay on the user's tap after the domain.
        return Err(super::el::unsupported(format!(
            "<bandwidth> with <target managed='no'> (at {at}) is not supported: qvirt shapes only the taps it makes and removes"
        )));
    }
    if port_v.flatten() == Some(true) && virtualport.is_some() {
        return Err(super::el::unsupported(format!(
            "<port isolated='yes'/> on an Open vSwitch port (the interface at {}) is not supported for network interfaces with virtualport type='openvswitch'",
            e.at()
        )));
    }
    if virtualport.is_some() && bandwidth.is_some() {
        // libvirt shapes an Open vSwitch port with OVS's own QoS.
        return Err(super::el::unsupported(format!(
            "<bandwidth> on an Open vSwitch port (the interface at {}) is not supported",
            e.at()
        )));
    }
    let (backend, tun_path, vhost_path) = match backend {
        Some(super::net_host::Backend::Passt(log)) => (Some(log), None, None),
        Some(super::net_host::Backend::Tap { tun, vhost, at }) => {
            // libvirt's virDomainNetBackendParseXML drops it elsewhere.
            let model = model.as_deref().unwrap_or("rtl8139");
            if vhost.is_some() && !model.to_ascii_lowercase().starts_with("virtio") {
                return Err(super::el::unsupported(format!(
                    "attribute vhost on <backend> at {at} is not supported with model '{model}': vhost-net serves virtio NICs only"
                )));
            }
            (None, tun, vhost)
        }
        None => (None, None, None),
    };
    if backend.is_none() {
        let dev = user_dev
            .as_ref()
            .map(|(_, at)| format!("<source dev> at {at}"));
        if let Some(what) = dev.or(passt_only) {
            return Err(super::el::unsupported(format!(
                "{what}: only the passt backend (<backend type='passt'>) takes it, not QEMU's user networking"
            )));
        }
        if let Some(at) = user_mtu_at {
            return Err(super::el::unsupported(format!(
                "setting MTU on interface type 'user' is not supported, at {at}: only its passt backend (<backend type='passt'>) takes one"
            )));
        }
    }
    let passt = backend.map(|log_file| crate::model::Passt {
        log_file,
        dev: user_dev.map(|(dev, _)| dev),
    });
    let need_source = |what: &str| {
        invalid(format!(
            "missing <source {what}=...> in <interface> at {}",
            e.at()
        ))
    };
    let kind = match kind {
        1 => InterfaceType::Network(source.ok_or_else(|| need_source("network"))?),
        2 => InterfaceType::Bridge(source.ok_or_else(|| need_source("bridge"))?),
        3 => InterfaceType::Ethernet,
        4 => {
            let (dev, mode) = direct.ok_or_else(|| need_source("dev"))?;
            InterfaceType::Direct { dev, mode }
        }
        5 => {
            let (path, server, reconnect) = vhost_user.ok_or_else(|| need_source("path"))?;
            InterfaceType::VhostUser {
                path,
                server,
                reconnect,
            }
        }
        6..=9 => {
            let (remote, local) =
                socket.ok_or_else(|| need_source(if kind == 6 { "port" } else { "address" }))?;
            match (kind, local) {
                (6, _) => InterfaceType::Server(remote),
                (7, _) => InterfaceType::Client(remote),
                (8, _) => InterfaceType::Mcast(remote),
                (_, Some(local)) => InterfaceType::Udp { remote, local },
                (_, None) => return Err(need_source("address")),
            }
        }
        _ => InterfaceType::User,
    };
    Ok(Interface {
        kind,
        mac: mac.unwrap_or_else(random_mac),
        model,
        target_dev,
        port_forwards,
        boot_order: boot,
        driver,
        rom,
        link_up: link_up.flatten(),
        mtu,
        bandwidth: bandwidth.flatten(),
        virtualport,
        coalesce_rx_frames: coalesce_v.flatten(),
        filterref: filterref_v,
        scripts: crate::model::NetScripts {
            up: script,
            down: downscript,
        },
        ips,
        passt,
        acpi_index: acpi,
        tap: {
            let (ips, routes) = host_side.unwrap_or_default();
            crate::model::TapSettings {
                managed,
                isolated: port_v.flatten(),
                ips,
                routes,
                tun_path,
                vhost_path,
            }
        },
        address: address_v,
        alias: user_alias.flatten(),
    })
}

/// `<vlan>` as libvirt's virNetDevVlanParse reads it.
fn vlan_of(e: El) -> R<crate::model::Vlan> {
    e.allow(&["trunk"])?;
    let mut tags = Vec::new();
    let mut native = None;
    for c in e.children()? {
        if c.name() != "tag" {
            c.skip()?;
            continue;
        }
        c.allow(&["id", "nativeMode"])?;
        c.empty()?;
        let id = c
            .u32("id", Radix::Dec)?
            .ok_or_else(|| invalid(format!("missing tag id in <vlan> at {}", c.at())))?;
        if id > 4095 {
            return Err(c.bad_value(ModelErrorKind::Invalid, "id", "too large (maximum 4095)"));
        }
        if let Some(tagged) = c.choice("nativeMode", &[("tagged", true), ("untagged", false)])? {
            if native.is_some() {
                return Err(invalid(format!(
                    "duplicate native vlan setting at {}",
                    c.at()
                )));
            }
            native = Some((id, tagged));
        }
        tags.push(id);
    }
    if tags.is_empty() {
        return Err(invalid(format!(
            "missing tag id - each <vlan> must have at least one <tag id='n'/> subelement, at {}",
            e.at()
        )));
    }
    let trunk = match e.get("trunk") {
        None => tags.len() > 1,
        Some(t) if t.eq_ignore_ascii_case("yes") => true,
        Some(t) if t.eq_ignore_ascii_case("no") && tags.len() == 1 && native.is_none() => false,
        Some(_) => {
            return Err(e.bad_value(
                ModelErrorKind::Invalid,
                "trunk",
                "trunk='yes' is required for more than one tag or a native vlan",
            ));
        }
    };
    Ok(crate::model::Vlan {
        tags,
        trunk,
        native,
    })
}

/// `<script path=...>` or `<downscript path=...>`: the host program run
/// for an ethernet interface's tap. libvirt runs them for no other type
/// (it only taints the domain), so there they are refused.
fn script_path(c: El, kind: u8, type_name: &str) -> R<String> {
    c.allow(&["path"])?;
    c.empty()?;
    if kind != 3 {
        return Err(super::el::unsupported(format!(
            "<{}> at {} on an interface of type '{type_name}' is not supported: scripts run for type='ethernet' taps only",
            c.name(),
            c.at()
        )));
    }
    Ok(c.req("path")?.to_string())
}

/// `<coalesce><rx><frames max=N/></rx></coalesce>` of an interface of
/// type `kind` (`type_name` as written): `None` when no `max` is given,
/// as libvirt reads it. Set on the host tap, which only a bridge
/// interface has among the types libvirt allows it on
/// (qemuValidateNetSupportsCoalesce: network and bridge).
fn coalesce(c: El, kind: u8, type_name: &str) -> R<Option<u32>> {
    c.allow(&[])?;
    let mut frames = None;
    let mut rx = None;
    for r in c.children()? {
        match r.name() {
            "rx" => set(&mut rx, r, |r| {
                r.allow(&[])?;
                for f in r.children()? {
                    match f.name() {
                        "frames" => set(&mut frames, f, |f| {
                            f.allow(&["max"])?;
                            f.empty()?;
                            f.u32("max", Radix::Dec)
                        })?,
                        _ => f.skip()?,
                    }
                }
                Ok(())
            })?,
            _ => r.skip()?,
        }
    }
    let max = frames.flatten();
    if max.is_some() && kind == 1 {
        return Err(super::el::unsupported(format!(
            "<coalesce> at {} on an interface of type 'network' is not supported: qvirt's network 'default' is user networking, with no host tap to coalesce on; use a bridge interface",
            c.at()
        )));
    }
    if max.is_some() && kind != 2 {
        return Err(super::el::unsupported(format!(
            "coalesce settings on interface type {type_name} are not supported (at {}): only a bridge or network interface's tap coalesces",
            c.at()
        )));
    }
    Ok(max)
}

/// `<filterref filter= ><parameter name= value=/>...` of an interface of
/// type `kind`. libvirt reads it on network, bridge and ethernet
/// interfaces only (and drops it elsewhere, which qvirt refuses rather
/// than ignore), and skips parameters whose name or value has characters
/// its filters cannot use: refused here by name.
fn filterref(c: El, kind: u8, type_name: &str) -> R<FilterRef> {
    c.allow(&["filter"])?;
    if !matches!(kind, 1..=3) {
        return Err(super::el::unsupported(format!(
            "<filterref> at {} on an interface of type '{type_name}' is not supported: a network filter applies to a network, bridge or ethernet interface's tap",
            c.at()
        )));
    }
    let filter = c.req("filter")?;
    if filter.is_empty() {
        return Err(c.bad_value(ModelErrorKind::Invalid, "filter", "a filter's name"));
    }
    let mut parameters = Vec::new();
    for p in c.children()? {
        if p.name() != "parameter" {
            p.skip()?;
            continue;
        }
        p.allow(&["name", "value"])?;
        p.empty()?;
        let name = p.req("name")?;
        let value = p.req("value")?;
        let word = |s: &str, extra: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || extra.contains(ch))
        };
        if !word(name, "") {
            return Err(p.bad_value(
                ModelErrorKind::Invalid,
                "name",
                "a filter variable's name is letters, digits and '_'",
            ));
        }
        if !word(value, ".:") {
            return Err(p.bad_value(
                ModelErrorKind::Invalid,
                "value",
                "a filter variable's value is letters, digits, '_', '.' and ':'",
            ));
        }
        parameters.push((name.to_string(), value.to_string()));
    }
    Ok(FilterRef {
        filter: filter.to_string(),
        parameters,
    })
}

/// `<portForward>`; `passt_only` gets where an attribute only passt
/// applies (`dev`, `exclude`) is first used.
fn port_forward(e: El, passt_only: &mut Option<String>) -> R<PortForward> {
    e.allow(&["proto", "address", "dev"])?;
    let proto = e.req_word("proto")?;
    let address = e.get("address").map(str::to_string);
    let dev = e.get("dev").map(str::to_string);
    if dev.is_some() && passt_only.is_none() {
        *passt_only = Some(format!("attribute dev on <portForward> at {}", e.at()));
    }
    let mut ranges = Vec::new();
    for c in e.children()? {
        if c.name() != "range" {
            c.skip()?;
            continue;
        }
        c.allow(&["start", "end", "to", "exclude"])?;
        c.empty()?;
        c.req("start")?;
        let port = |name: &str| c.port(name);
        let exclude = c.yes_no("exclude")?.unwrap_or(false);
        if c.get("exclude").is_some() && passt_only.is_none() {
            *passt_only = Some(format!(
                "attribute exclude on <portForward><range> at {}",
                c.at()
            ));
        }
        ranges.push(PortRange {
            start: port("start")?.unwrap_or(0),
            end: port("end")?,
            to: port("to")?,
            exclude,
        });
    }
    Ok(PortForward {
        proto,
        address,
        dev,
        ranges,
    })
}
