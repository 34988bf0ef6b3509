//! Reading the `<source>` of a socket interface (server, client, mcast,
//! udp) and the `<ip>` of a user interface, as libvirt's
//! `virDomainNetDefParseXML` and `virDomainNetIPParseXML` read them.

use std::net::IpAddr;

use super::el::{El, R, invalid, set};
use crate::model::{GuestIp, ModelErrorKind, NetSocket};

/// Which socket interface a `<source>` belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SocketKind {
    /// `server`: the address may be left out (every host address).
    Server,
    /// `client` or `mcast`: address and port.
    Peer,
    /// `udp`: address and port, and a `<local address= port=>`.
    Udp,
}

/// `<source address= port=>` of a socket interface, with the `<local>` of
/// a udp one.
pub(super) fn socket_source(c: El, kind: SocketKind) -> R<(NetSocket, Option<NetSocket>)> {
    c.allow(&["address", "port"])?;
    let mut local = None;
    for x in c.children()? {
        match x.name() {
            "local" if kind == SocketKind::Udp => set(&mut local, x, |x| {
                x.allow(&["address", "port"])?;
                x.empty()?;
                endpoint(x, true)
            })?,
            _ => x.skip()?,
        }
    }
    let remote = endpoint(c, kind != SocketKind::Server)?;
    if kind == SocketKind::Udp && local.is_none() {
        return Err(invalid(format!(
            "'<local>' element missing for 'udp' socket interface, in <source> at {}",
            c.at()
        )));
    }
    Ok((remote, local))
}

/// `address` (required when `need_address`) and `port` (required).
fn endpoint(c: El, need_address: bool) -> R<NetSocket> {
    let address = if need_address {
        Some(c.req("address")?)
    } else {
        c.get("address")
    };
    if address == Some("") {
        return Err(c.bad_value(ModelErrorKind::Invalid, "address", "an empty address"));
    }
    c.req("port")?;
    Ok(NetSocket {
        address: address.map(str::to_string),
        port: c.port("port")?.unwrap_or_default(),
    })
}

/// `<ip address= family= prefix=>` of a user interface: the guest's
/// network. A `peer` (a point-to-point guest address) is QEMU's nowhere,
/// so it is refused by name.
pub(super) fn guest_ip(c: El) -> R<GuestIp> {
    c.allow(&["address", "family", "prefix"])?;
    c.empty()?;
    let (address, prefix) = ip_address(c)?;
    Ok(GuestIp { address, prefix })
}

/// `address`, `family` and `prefix` of an `<ip>`, as libvirt's
/// `virDomainNetIPParseXML` reads them: the address in its family (given,
/// or that of the address), a prefix no longer than the family's
/// addresses; no prefix (or 0) is `None`.
pub(super) fn ip_address(c: El) -> R<(IpAddr, Option<u8>)> {
    let text = c.req("address")?;
    let address: IpAddr = text
        .parse()
        .map_err(|_| invalid(format!("Invalid address '{text}' in <ip> at {}", c.at())))?;
    let v6 = match c.choice("family", &[("ipv4", false), ("ipv6", true)])? {
        Some(v6) => v6,
        None => address.is_ipv6(),
    };
    if v6 != address.is_ipv6() {
        return Err(invalid(format!(
            "Invalid address '{text}' in <ip> at {}: not an {} address",
            c.at(),
            if v6 { "IPv6" } else { "IPv4" }
        )));
    }
    let max = if v6 { 128 } else { 32 };
    let prefix = match c.get("prefix") {
        None => None,
        Some(p) => match p.parse::<u8>() {
            Ok(n) if n <= max => Some(n),
            _ => {
                return Err(invalid(format!(
                    "Invalid prefix value '{p}' in <ip> at {}",
                    c.at()
                )));
            }
        },
    };
    // libvirt keeps no prefix as 0 and writes none back.
    Ok((address, prefix.filter(|p| *p > 0)))
}
