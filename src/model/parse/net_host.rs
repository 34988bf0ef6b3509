//! Reading what an interface asks of its host tap beyond its creation:
//! the `<source>` addresses and routes of an ethernet interface
//! (libvirt's `hostIP`, read by `virDomainNetIPInfoParseXML` and
//! `virNetDevIPRouteParseXML`) and `<port isolated=>` (libvirt's
//! `virNetworkPortOptionsParseXML`).

use std::net::{IpAddr, Ipv4Addr};

use super::el::{El, R, Radix, invalid, push, unsupported};
use super::net_socket::ip_address;
use crate::model::{HostIp, HostRoute, IpFamily, ModelErrorKind};

/// `<source>` of an ethernet interface: its `<ip>` and `<route>`
/// children, the host side of the tap.
pub(super) fn host_source(c: El) -> R<(Vec<HostIp>, Vec<HostRoute>)> {
    c.allow(&[])?;
    let (mut ips, mut routes) = (Vec::new(), Vec::new());
    for x in c.children()? {
        match x.name() {
            "ip" => push(&mut ips, x, host_ip)?,
            "route" => push(&mut routes, x, route)?,
            _ => x.skip()?,
        }
    }
    Ok((ips, routes))
}

/// `<ip address= family= prefix= peer=>`: an address of the tap, with
/// the point-to-point peer (the guest's address) in the same family.
fn host_ip(c: El) -> R<HostIp> {
    c.allow(&["address", "family", "prefix", "peer"])?;
    c.empty()?;
    let (address, prefix) = ip_address(c)?;
    let peer = match c.get("peer") {
        None => None,
        Some(p) => match p.parse::<IpAddr>() {
            Ok(peer) if peer.is_ipv6() == address.is_ipv6() => Some(peer),
            _ => {
                return Err(c.bad_value(
                    ModelErrorKind::Invalid,
                    "peer",
                    "an address of the same family as the <ip>'s",
                ));
            }
        },
    };
    let ip = HostIp {
        address,
        prefix,
        peer,
    };
    if ip.effective_prefix().is_none() {
        // libvirt's virNetDevIPInfoAddToDev: no class, no default.
        return Err(invalid(format!(
            "Failed to determine prefix for IP address '{address}' in <ip> at {}: give its prefix",
            c.at()
        )));
    }
    Ok(ip)
}

/// An address attribute of a `<route>`, in `family` (`None`: either).
fn route_addr(c: El, name: &str) -> R<IpAddr> {
    let text = c.req(name)?;
    text.parse::<IpAddr>().map_err(|_| {
        invalid(format!(
            "interface host IP: Bad {name} address '{text}' in route definition at {}",
            c.at()
        ))
    })
}

/// `<route family= address= prefix= netmask= gateway= metric=>`, with
/// libvirt's rules: the family's addresses (IPv4 when no family is
/// given), a netmask only for IPv4 and never with a prefix, a prefix
/// within the family, a metric of 1 or more, and an address that is the
/// network's own (nothing set beyond its prefix).
fn route(c: El) -> R<HostRoute> {
    c.allow(&[
        "family", "address", "prefix", "netmask", "gateway", "metric",
    ])?;
    c.empty()?;
    let family: Option<IpFamily> = c.word("family")?;
    let address = route_addr(c, "address")?;
    let gateway = route_addr(c, "gateway")?;
    let v6 = family == Some(IpFamily::Ipv6);
    let wrong = |what: &str| {
        invalid(format!(
            "interface host IP: {what} in route definition at {}",
            c.at()
        ))
    };
    if address.is_ipv6() != v6 {
        return Err(wrong(&format!(
            "the address '{address}' is not of family {}",
            if v6 { "ipv6" } else { "ipv4" }
        )));
    }
    if gateway.is_ipv6() != v6 {
        return Err(wrong(&format!(
            "the gateway '{gateway}' is not of family {}",
            if v6 { "ipv6" } else { "ipv4" }
        )));
    }
    let prefix = match c.u32("prefix", Radix::Dec)? {
        Some(p) if p > if v6 { 128 } else { 32 } => {
            return Err(c.bad_value(
                ModelErrorKind::Invalid,
                "prefix",
                if v6 {
                    "must be 0 - 128"
                } else {
                    "must be 0 - 32"
                },
            ));
        }
        p => p.map(|p| p as u8),
    };
    let netmask = match c.get("netmask") {
        None => None,
        Some(_) if v6 => return Err(wrong("a netmask is for IPv4 only")),
        Some(_) if prefix.is_some() => {
            return Err(wrong("a route cannot have both a prefix and a netmask"));
        }
        Some(m) => match m.parse::<Ipv4Addr>() {
            Ok(mask) if u32::from(mask).leading_ones() == u32::from(mask).count_ones() => {
                Some(mask)
            }
            _ => {
                return Err(c.bad_value(ModelErrorKind::Invalid, "netmask", "an IPv4 netmask"));
            }
        },
    };
    let metric = c.u32("metric", Radix::Dec)?;
    if metric == Some(0) {
        return Err(c.bad_value(ModelErrorKind::Invalid, "metric", "1 or more"));
    }
    let bits = match netmask {
        Some(m) => u32::from(m).count_ones() as u8,
        None => prefix.unwrap_or(0),
    };
    if !is_network(address, bits) {
        return Err(wrong(&format!(
            "Address '{address}' is not a network address (of prefix {bits})"
        )));
    }
    Ok(HostRoute {
        family,
        address,
        prefix,
        netmask,
        gateway,
        metric,
    })
}

/// Whether `address` has no bit set beyond its first `bits`.
fn is_network(address: IpAddr, bits: u8) -> bool {
    match address {
        IpAddr::V4(a) => {
            let host = u32::MAX.checked_shr(u32::from(bits)).unwrap_or(0);
            u32::from(a) & host == 0
        }
        IpAddr::V6(a) => {
            let host = u128::MAX.checked_shr(u32::from(bits)).unwrap_or(0);
            u128::from(a) & host == 0
        }
    }
}

/// `<port isolated=...>` of an interface of type `kind` (as written:
/// `type_name`), `has_virtualport` when it is an Open vSwitch port.
/// libvirt isolates the taps of bridges (and of its networks' bridges):
/// elsewhere, and on an Open vSwitch port, `isolated='yes'` is refused,
/// as by libvirt's `virDomainNetDefValidatePortOptions`; qvirt's only
/// network is user networking, which has no bridge to isolate in.
pub(super) fn port(c: El, kind: u8, type_name: &str) -> R<Option<bool>> {
    c.allow(&["isolated"])?;
    c.empty()?;
    let isolated = c.yes_no("isolated")?;
    if isolated == Some(true) && kind == 1 {
        return Err(unsupported(format!(
            "<port isolated='yes'> at {} on an interface of type 'network' is not supported: qvirt's network 'default' is user networking, with no host bridge to isolate its tap in; use a bridge interface",
            c.at()
        )));
    }
    if isolated == Some(true) && kind != 2 {
        return Err(unsupported(format!(
            "<port isolated='yes'/> at {} is not supported for network interfaces with type='{type_name}': only a tap on a host bridge is isolated",
            c.at()
        )));
    }
    Ok(isolated)
}

/// What an interface's `<backend>` says.
pub(super) enum Backend {
    /// `type='passt'` of a user interface, with its `logFile`.
    Passt(Option<String>),
    /// `tap=` and `vhost=` of a bridge or ethernet interface, and where
    /// the element is.
    Tap {
        /// `tap`: the tun/tap control device.
        tun: Option<String>,
        /// `vhost`: the vhost-net device.
        vhost: Option<String>,
        /// `line:column` of the element.
        at: String,
    },
}

/// `<backend type= logFile= tap= vhost=>` of an interface of type `kind`
/// (as written: `type_name`): passt for a user interface (libvirt's
/// virDomainNetDefValidate), the device paths of a tap for a bridge or
/// ethernet one (qemuDomainValidateActualNetDef; a network's tap too in
/// libvirt, but qvirt's only network is user networking, with none).
pub(super) fn backend(c: El, kind: u8, type_name: &str) -> R<Backend> {
    c.allow(&["type", "logFile", "tap", "vhost"])?;
    c.empty()?;
    let passt = c.choice("type", &[("passt", true), ("default", false)])?;
    let path = |name: &str| -> R<Option<String>> {
        match c.get(name) {
            None => Ok(None),
            Some(p) if p.starts_with('/') => Ok(Some(p.to_string())),
            Some(_) => Err(c.bad_value(ModelErrorKind::Invalid, name, "an absolute path")),
        }
    };
    let (tun, vhost) = (path("tap")?, path("vhost")?);
    if kind == 0 {
        if let Some(what) = ["tap", "vhost"].into_iter().find(|a| c.get(a).is_some()) {
            return Err(unsupported(format!(
                "attribute {what} on <backend> at {}: a custom tap or vhost device path is not supported for network interfaces of type user",
                c.at()
            )));
        }
        if passt != Some(true) {
            return Err(unsupported(format!(
                "<backend> at {} without type='passt': QEMU's own user networking takes no backend settings",
                c.at()
            )));
        }
        return Ok(Backend::Passt(c.get("logFile").map(str::to_string)));
    }
    if passt == Some(true) {
        return Err(unsupported(format!(
            "<backend> at {}: The 'passt' backend can only be used with interface type='user'",
            c.at()
        )));
    }
    if c.get("logFile").is_some() {
        return Err(unsupported(format!(
            "attribute logFile on <backend> at {}: only the passt backend of a user interface logs",
            c.at()
        )));
    }
    if kind == 1 && (tun.is_some() || vhost.is_some()) {
        return Err(unsupported(format!(
            "<backend tap/vhost> at {} on an interface of type 'network' is not supported: qvirt's network 'default' is user networking, with no tap; use a bridge interface",
            c.at()
        )));
    }
    if kind != 2 && kind != 3 && (tun.is_some() || vhost.is_some()) {
        return Err(unsupported(format!(
            "<backend> at {}: a custom tap or vhost device path is not supported for network interfaces of type {type_name} (only bridge and ethernet taps)",
            c.at()
        )));
    }
    Ok(Backend::Tap {
        tun,
        vhost,
        at: c.at(),
    })
}
