//! Network interfaces: a `-netdev` backend (user networking or a tap the
//! driver created) and a NIC `-device` per `<interface>`.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use super::devs::Dev;
use super::opts::{Opts, with_virtio};
use super::passthrough::rom_opts;
use super::{Ctx, invalid, unsupported};
use crate::error::{Error, ErrorCode};
use crate::model::{
    ChannelTarget, DirectMode, Interface, InterfaceType, NetDriver, NetDriverName, NetSocket,
    NetTxMode, PortForward, PortProto,
};

/// The PCI NICs whose libvirt model is QEMU's device name: the common
/// ones, Intel's e1000 variants (macOS guests want e1000-82545em) and
/// i8255x family, and the DEC tulip.
const SAME_NAME_NICS: &[&str] = &[
    "e1000",
    "e1000e",
    "rtl8139",
    "ne2k_pci",
    "pcnet",
    "vmxnet3",
    "e1000-82544gc",
    "e1000-82545em",
    "i82550",
    "i82551",
    "i82557a",
    "i82557b",
    "i82557c",
    "i82558a",
    "i82558b",
    "i82559a",
    "i82559b",
    "i82559c",
    "i82559er",
    "i82562",
    "i82801",
    "tulip",
];

/// The QEMU device of a libvirt NIC model; libvirt compares models without
/// regard to case (`ViRtIo` is virtio). No model means libvirt's x86
/// default, rtl8139.
fn nic_device(model: Option<&str>) -> Result<&'static str, Error> {
    let model = model.unwrap_or("rtl8139");
    let lower = model.to_ascii_lowercase();
    Ok(match lower.as_str() {
        "virtio" => "virtio-net-pci",
        "virtio-transitional" => "virtio-net-pci-transitional",
        "virtio-non-transitional" => "virtio-net-pci-non-transitional",
        "e1000-82540em" => "e1000",
        other => SAME_NAME_NICS.iter().find(|n| **n == other).ok_or_else(|| {
            unsupported(format!(
                "interface model '{model}' is not supported: use virtio, e1000, e1000e, rtl8139, ne2k_pci, pcnet, vmxnet3, or another PCI NIC QEMU has (e1000-82545em, i82559er, tulip, ...)"
            ))
        })?,
    })
}

/// The interface whose user-mode network (QEMU's slirp) carries the
/// guestfwd channels' forwards: the first `<interface type='user'>` (or
/// on the `default` network) without a passt backend.
///
/// libvirt 9.0 gives the forwards a `-netdev user` of their own, which
/// no NIC is connected to, so that no guest packet ever reaches them;
/// here they go where the guest's connections arrive.
pub(super) fn guestfwd_interface(def: &crate::model::DomainDef) -> Option<usize> {
    def.devices.interfaces.iter().position(|n| {
        n.passt.is_none()
            && match &n.kind {
                InterfaceType::User => true,
                InterfaceType::Network(name) => name == "default",
                _ => false,
            }
    })
}

/// `guestfwd` rules of the guestfwd channels, for the backend of
/// interface `i`: `tcp:ADDR:PORT-chardev:charchannelK`.
fn guestfwds(def: &crate::model::DomainDef, i: usize) -> Vec<String> {
    if guestfwd_interface(def) != Some(i) {
        return Vec::new();
    }
    def.devices
        .channels
        .iter()
        .enumerate()
        .filter_map(|(k, c)| match c.target {
            ChannelTarget::Guestfwd { address, port } => {
                Some(format!("tcp:{address}:{port}-chardev:charchannel{k}"))
            }
            ChannelTarget::Virtio { .. } => None,
        })
        .collect()
}

/// The QEMU id of a NIC whose ids are numbered `n` (its place at the
/// start, or the number a hot-plug gave it): its user alias, else `netN`.
/// Its backend is `host` + it and a vhost-user socket `char` + it, as
/// libvirt names them.
pub fn nic_id(net: &Interface, n: u32) -> String {
    net.alias.clone().unwrap_or_else(|| format!("net{n}"))
}

/// Emits each interface's backend and NIC.
pub fn emit(cx: &mut Ctx<'_>) -> Result<(), Error> {
    for (i, net) in cx.def.devices.interfaces.iter().enumerate() {
        let device = nic_device(net.model.as_deref())?;
        let id = nic_id(net, i as u32);
        let netdev = format!("host{id}");
        let driver = net.driver.unwrap_or_default();
        let what = format!("interface {i}");
        let virtio = device.starts_with("virtio-net");
        let fd = cx.paths.net_fd_base.map(|base| base + i as i32);
        // A vhost-user backend talks over a socket chardev of its own.
        if let InterfaceType::VhostUser {
            path,
            server,
            reconnect,
        } = &net.kind
        {
            let o = Opts::new("socket")
                .set("id", format!("char{id}"))
                .set_user("path", "vhost-user socket", path)?
                .maybe("reconnect", *reconnect);
            let o = if *server {
                o.switch("server", true).switch("wait", false)
            } else {
                o
            };
            cx.arg("-chardev", o.build());
        }
        let backend = match &net.passt {
            Some(_) => passt_backend(net, &netdev, &passt_socket(&cx.paths.runtime_dir, i))?,
            None => backend(net, &netdev, fd)?,
        }
        .extend(backend_driver(net, &driver, virtio, &what)?);
        let backend = guestfwds(cx.def, i)
            .into_iter()
            .fold(backend, |o, rule| o.set("guestfwd", rule));
        cx.arg("-netdev", backend.build());
        let placed = cx.pci.place(&what, net.address.as_ref(), Dev::Net(i))?;
        let m = net.mac.0;
        let mac = format!(
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            m[0], m[1], m[2], m[3], m[4], m[5]
        );
        let o = Opts::new(device)
            .set("id", &id)
            .extend(placed.opts)
            .maybe("acpi-index", net.acpi_index)
            .set("netdev", &netdev)
            .set("mac", mac)
            .maybe("bootindex", cx.boot.net(i));
        let mut o = if virtio {
            with_virtio(
                o.extend(device_driver(&driver, &what)?)
                    .maybe("host_mtu", net.mtu),
                &driver.virtio,
                true,
                &what,
            )?
        } else {
            o
        };
        if let Some(rom) = &net.rom {
            o = o.extend(rom_opts(&what, rom)?);
        }
        cx.arg("-device", o.build());
    }
    Ok(())
}

/// The `-netdev` options `<driver>` asks for: the kernel data path
/// (`vhost`) and the queue pairs of a tap.
fn backend_driver(net: &Interface, d: &NetDriver, virtio: bool, what: &str) -> Result<Opts, Error> {
    let model = net.model.as_deref().unwrap_or("rtl8139");
    if !virtio && (*d != NetDriver::default() && d.name != Some(NetDriverName::Qemu)) {
        return Err(unsupported(format!(
            "{what}: <driver> options are for virtio interfaces (vhost-net, queues, offloads), not model '{model}'"
        )));
    }
    let queues = d.queue_pairs();
    if d.queues == Some(0) {
        return Err(invalid(format!(
            "{what}: <driver queues> must be at least 1"
        )));
    }
    let mut o = Opts::empty();
    if net.kind.has_host_tap() {
        match (d.name, &net.tap.vhost_path) {
            (Some(NetDriverName::Qemu), Some(path)) => {
                return Err(invalid(format!(
                    "{what}: <backend vhost='{path}'> names the vhost-net device, which <driver name='qemu'> does not use"
                )));
            }
            // QEMU opens the device named (`vhostdev`), as it opens
            // /dev/vhost-net by default.
            (_, Some(path)) => {
                o = o
                    .switch("vhost", true)
                    .set_user("vhostdev", "vhost-net device path", path)?;
            }
            (Some(NetDriverName::Vhost), None) => o = o.switch("vhost", true),
            (Some(NetDriverName::Qemu), None) => o = o.switch("vhost", false),
            (None, None) => {}
        }
        if queues > 1 && net.tap.tun_path.is_some() {
            // The driver opens one descriptor of the tap, not one per
            // queue.
            return Err(unsupported(format!(
                "{what}: multiqueue (<driver queues='{queues}'>) with a custom tap device (<backend tap>) is not supported; use one queue, or the default /dev/net/tun"
            )));
        }
        if queues > 1 && matches!(net.kind, InterfaceType::Direct { .. }) {
            // Each queue of a macvtap is one more open of its character
            // device, each handed to QEMU apart: not done here.
            return Err(unsupported(format!(
                "{what}: multiqueue (<driver queues='{queues}'>) on a direct (macvtap) interface is not supported; use one queue, or a bridge interface"
            )));
        }
        if queues > 1 {
            o = o.set("queues", queues);
        }
    } else if matches!(net.kind, InterfaceType::VhostUser { .. }) {
        if queues > 1 {
            o = o.set("queues", queues);
        }
    } else if queues > 1 {
        // libvirt's rule: user networking has one queue pair.
        return Err(unsupported(format!(
            "{what}: multiqueue (<driver queues='{queues}'>) needs a tap backend (type='bridge' or 'ethernet'); QEMU's user networking, which also serves the 'default' network here, has one queue"
        )));
    }
    // `name='vhost'` on user networking changes nothing, as in libvirt:
    // there is no kernel data path to hand the queues to.
    Ok(o)
}

/// The virtio-net device options of `<driver>`.
fn device_driver(d: &NetDriver, what: &str) -> Result<Opts, Error> {
    // QEMU uses at most 256 transmit descriptors with a tap or user
    // backend (more is for vhost-user) and lowers a larger tx_queue_size
    // to that, as under libvirt.
    let size = |attr: &str, v: Option<u32>| -> Result<Option<u32>, Error> {
        match v {
            Some(n) if !n.is_power_of_two() || !(256..=1024).contains(&n) => Err(invalid(format!(
                "{what}: <driver {attr}> must be a power of two from 256 to 1024, not {n}"
            ))),
            other => Ok(other),
        }
    };
    let queues = d.queue_pairs();
    let (h, g) = (&d.host, &d.guest);
    let mut o = Opts::empty()
        .maybe(
            "tx",
            d.txmode.map(|m| match m {
                NetTxMode::Iothread => "bh",
                NetTxMode::Timer => "timer",
            }),
        )
        .maybe_switch("ioeventfd", d.ioeventfd)
        .maybe_switch("event_idx", d.event_idx)
        .maybe_switch("csum", h.csum)
        .maybe_switch("gso", h.gso)
        .maybe_switch("host_tso4", h.tso4)
        .maybe_switch("host_tso6", h.tso6)
        .maybe_switch("host_ecn", h.ecn)
        .maybe_switch("host_ufo", h.ufo)
        .maybe_switch("mrg_rxbuf", h.mrg_rxbuf)
        .maybe_switch("guest_csum", g.csum)
        .maybe_switch("guest_tso4", g.tso4)
        .maybe_switch("guest_tso6", g.tso6)
        .maybe_switch("guest_ecn", g.ecn)
        .maybe_switch("guest_ufo", g.ufo);
    if queues > 1 {
        o = o.switch("mq", true).set("vectors", 2 * queues + 2);
    }
    Ok(
        o.maybe("rx_queue_size", size("rx_queue_size", d.rx_queue_size)?)
            .maybe("tx_queue_size", size("tx_queue_size", d.tx_queue_size)?)
            .maybe_switch("rss", d.rss)
            .maybe_switch("hash", d.rss_hash_report),
    )
}

/// The `-netdev` of one interface; `fd` is the descriptor the driver
/// passes a direct interface's macvtap at.
fn backend(net: &Interface, id: &str, fd: Option<i32>) -> Result<Opts, Error> {
    if !net.port_forwards.is_empty() && net.kind != InterfaceType::User {
        return Err(unsupported(
            "<portForward> is only supported on <interface type='user'>",
        ));
    }
    match &net.kind {
        InterfaceType::VhostUser { .. } => {
            let chardev = format!("char{}", id.strip_prefix("host").unwrap_or(id));
            Ok(Opts::new("vhost-user")
                .set("id", id)
                .set("chardev", chardev))
        }
        InterfaceType::User => {
            if net.target_dev.is_some() {
                return Err(unsupported(
                    "<target dev> is not supported on <interface type='user'>",
                ));
            }
            let mut o = Opts::new("user").set("id", id).extend(guest_network(net)?);
            for rule in &net.port_forwards {
                for fwd in hostfwds(rule)? {
                    o = o.set("hostfwd", fwd);
                }
            }
            Ok(o)
        }
        InterfaceType::Bridge(_) | InterfaceType::Ethernet => {
            // The driver creates the tap (and adds it to the bridge) and
            // names it here; QEMU only opens it.
            let tap = net.target_dev.as_deref().ok_or_else(|| {
                Error::new(
                    ErrorCode::InvalidArgument,
                    "a bridge or ethernet interface needs its tap device name in <target dev>: the driver must create the tap and fill it in before building the command line",
                )
            })?;
            // Made through another tun/tap device, the tap reaches QEMU
            // as a descriptor the driver opened through it, as a macvtap.
            if net.tap.tun_path.is_some() {
                let fd = fd.ok_or_else(|| {
                    Error::new(
                        ErrorCode::InvalidArgument,
                        "an interface with <backend tap> needs the descriptor of its tap: the driver must open it and choose its number (RuntimePaths::net_fd_base) before building the command line",
                    )
                })?;
                return Ok(Opts::new("tap").set("id", id).set("fd", fd));
            }
            Opts::new("tap")
                .set("id", id)
                .set_user("ifname", "tap device name", tap)
                .map(|o| o.set("script", "no").set("downscript", "no"))
        }
        InterfaceType::Direct { dev, mode } => {
            if *mode == DirectMode::Passthrough {
                return Err(unsupported(format!(
                    "<source mode='passthrough'> of direct interface on '{dev}' is not supported (it takes over the host device and changes its MAC); use mode 'bridge', 'vepa' or 'private'"
                )));
            }
            // The driver creates the macvtap and opens its character
            // device; QEMU inherits it.
            let fd = fd.ok_or_else(|| {
                Error::new(
                    ErrorCode::InvalidArgument,
                    "a direct interface needs the descriptor of its macvtap device: the driver must open it and choose its number (RuntimePaths::net_fd_base) before building the command line",
                )
            })?;
            Ok(Opts::new("tap").set("id", id).set("fd", fd))
        }
        // libvirt's `default` network is NAT with DHCP on 192.168.122.0/24
        // and the gateway at .1: QEMU's user networking gives the guest
        // that network, without a host bridge (its DNS server is at .3:
        // slirp keeps it apart from the gateway).
        InterfaceType::Network(n) if n == "default" => {
            if net.target_dev.is_some() {
                return Err(unsupported(
                    "<target dev> is not supported on the 'default' network (it has no host tap)",
                ));
            }
            Ok(Opts::new("user")
                .set("id", id)
                .set("net", "192.168.122.0/24")
                .set("host", "192.168.122.1")
                .set("dhcpstart", "192.168.122.2"))
        }
        InterfaceType::Server(s) => socket_backend(net, id, "listen", s, None),
        InterfaceType::Client(s) => socket_backend(net, id, "connect", s, None),
        InterfaceType::Mcast(s) => socket_backend(net, id, "mcast", s, None),
        InterfaceType::Udp { remote, local } => socket_backend(net, id, "udp", remote, Some(local)),
        InterfaceType::Network(n) => Err(unsupported(format!(
            "the libvirt network '{n}' does not exist here: qvirt provides only the 'default' network (NAT); use <interface type='bridge'> for a host bridge"
        ))),
    }
}

/// The UNIX socket passt listens on for interface number `index`, in the
/// domain's runtime directory: QEMU connects to it.
pub fn passt_socket(run_dir: &Path, index: usize) -> PathBuf {
    run_dir.join(format!("net{index}-passt.sock"))
}

/// The `-netdev stream` of a user interface with the passt backend, as
/// libvirt's qemuPasstAddNetProps writes it: QEMU connects to passt's
/// socket. The port forwards and guest network are passt's own options.
fn passt_backend(net: &Interface, id: &str, socket: &Path) -> Result<Opts, Error> {
    if net.target_dev.is_some() {
        return Err(unsupported(
            "<target dev> is not supported on <interface type='user'>",
        ));
    }
    check_guest_ips(net)?;
    let path = socket.to_str().ok_or_else(|| {
        invalid(format!(
            "the passt socket path {} is not UTF-8",
            socket.display()
        ))
    })?;
    Opts::new("stream")
        .set("id", id)
        .switch("server", false)
        .set("addr.type", "unix")
        .set_user("addr.path", "passt socket", path)
}

/// The `-netdev socket` of a server, client, mcast or udp interface, as
/// libvirt's qemuBuildHostNetProps writes it: `listen=[ADDR]:PORT`
/// (every host address when none is given), `connect=`, `mcast=`, or
/// `udp=` with `localaddr=`.
fn socket_backend(
    net: &Interface,
    id: &str,
    key: &str,
    remote: &NetSocket,
    local: Option<&NetSocket>,
) -> Result<Opts, Error> {
    let kind = net.kind.type_name();
    if net.target_dev.is_some() {
        return Err(unsupported(format!(
            "<target dev> is not supported on <interface type='{kind}'>: a socket backend has no host device"
        )));
    }
    let endpoint =
        |s: &NetSocket| format!("{}:{}", s.address.as_deref().unwrap_or_default(), s.port);
    let mut o =
        Opts::new("socket")
            .set("id", id)
            .set_user(key, "socket address", &endpoint(remote))?;
    if let Some(l) = local {
        o = o.set_user("localaddr", "local socket address", &endpoint(l))?;
    }
    Ok(o)
}

/// The `net=` and `ipv6-prefix=` of a user interface's `<ip>`s: the
/// network slirp serves the guest (its gateway, DNS server and DHCP
/// range follow from it), as libvirt writes them. The rules on how many
/// and how long are checked by [`check_guest_ips`].
fn guest_network(net: &Interface) -> Result<Opts, Error> {
    check_guest_ips(net)?;
    let mut o = Opts::empty();
    for ip in &net.ips {
        o = match (ip.address, ip.prefix) {
            (IpAddr::V4(a), Some(p)) => o.set("net", format!("{a}/{p}")),
            (IpAddr::V4(a), None) => o.set("net", a),
            (IpAddr::V6(a), p) => o.set("ipv6-prefix", a).maybe("ipv6-prefixlen", p),
        };
    }
    Ok(o)
}

/// libvirt's rules for a user interface's `<ip>`s
/// (qemuValidateDomainDeviceDefNetwork): one IPv4 network of 4 to 27
/// bits, one IPv6 network of 64 bits.
pub(crate) fn check_guest_ips(net: &Interface) -> Result<(), Error> {
    let (mut v4, mut v6) = (false, false);
    for ip in &net.ips {
        match ip.address {
            IpAddr::V4(a) => {
                if std::mem::replace(&mut v4, true) {
                    return Err(unsupported(format!(
                        "<ip address='{a}'>: Only one IPv4 address per interface is allowed"
                    )));
                }
                if let Some(p) = ip.prefix.filter(|p| !(4..=27).contains(p)) {
                    return Err(invalid(format!(
                        "<ip address='{a}' prefix='{p}'>: invalid prefix, must be in range of 4-27"
                    )));
                }
            }
            IpAddr::V6(a) => {
                if std::mem::replace(&mut v6, true) {
                    return Err(unsupported(format!(
                        "<ip address='{a}'>: Only one IPv6 address per interface is allowed"
                    )));
                }
                if let Some(p) = ip.prefix.filter(|p| *p != 64) {
                    return Err(unsupported(format!(
                        "<ip address='{a}'>: unsupported IPv6 address prefix='{p}' - must be 64"
                    )));
                }
            }
        }
    }
    Ok(())
}

/// `hostfwd` rules of a `<portForward>`: one per host port, each host port
/// of a range mapped to the guest port at the same offset from `to`.
fn hostfwds(rule: &PortForward) -> Result<Vec<String>, Error> {
    let proto = match rule.proto {
        PortProto::Tcp => "tcp",
        PortProto::Udp => "udp",
    };
    // Parsed, not copied: the address sits inside slirp's own
    // `proto:addr:port-:port` syntax, which a stray ':' or '-' would bend.
    let addr = match rule.address.as_deref() {
        None => "127.0.0.1".to_string(),
        Some(text) => match text.parse::<IpAddr>() {
            Ok(IpAddr::V4(a)) => a.to_string(),
            // QEMU 7.2's user networking parses IPv4 host addresses only.
            Ok(IpAddr::V6(_)) => {
                return Err(unsupported(format!(
                    "portForward address '{text}' is IPv6: QEMU's user networking forwards IPv4 host addresses only"
                )));
            }
            Err(_) => {
                return Err(invalid(format!(
                    "portForward address '{text}' is not an IP address"
                )));
            }
        },
    };
    let mut out = Vec::new();
    for range in &rule.ranges {
        let end = range.end.unwrap_or(range.start);
        if end < range.start {
            return Err(invalid(format!(
                "portForward range {}-{end} ends before it starts",
                range.start
            )));
        }
        let to = range.to.unwrap_or(range.start);
        if u32::from(to) + u32::from(end - range.start) > u32::from(u16::MAX) {
            return Err(invalid(format!(
                "portForward range {}-{end} to {to} runs past port 65535",
                range.start
            )));
        }
        for host in range.start..=end {
            let guest = to + (host - range.start);
            out.push(format!("{proto}:{addr}:{host}-:{guest}"));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::PortRange;

    #[test]
    fn ranges_expand_and_ipv6_is_refused() {
        let mut rule = PortForward {
            proto: PortProto::Tcp,
            address: Some("0.0.0.0".into()),
            dev: None,
            ranges: vec![PortRange {
                start: 2222,
                end: Some(2223),
                to: Some(22),
                exclude: false,
            }],
        };
        assert_eq!(
            hostfwds(&rule).unwrap(),
            ["tcp:0.0.0.0:2222-:22", "tcp:0.0.0.0:2223-:23"]
        );
        rule.address = Some("::1".into());
        let e = hostfwds(&rule).unwrap_err();
        assert_eq!(e.code, ErrorCode::ConfigUnsupported);
        rule.address = Some("1.2.3.4:5-".into());
        assert_eq!(hostfwds(&rule).unwrap_err().code, ErrorCode::ConfigInvalid);
    }

    #[test]
    fn models_are_case_insensitive_and_unknown_ones_refused() {
        assert_eq!(nic_device(Some("ViRtIo")).unwrap(), "virtio-net-pci");
        let e = nic_device(Some("idontexist")).unwrap_err();
        assert_eq!(e.code, ErrorCode::ConfigUnsupported);
        assert!(e.message.contains("idontexist"));
    }
}
