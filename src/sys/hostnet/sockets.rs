//! The host ports of socket interfaces: a server's TCP port and a udp
//! interface's local port, which QEMU binds at its start. A port another
//! process holds fails the start before QEMU runs, named, as a forwarded
//! port of user networking does.

use std::io;
use std::net::{IpAddr, Ipv4Addr, TcpListener, UdpSocket};

use crate::error::{Error, Result};
use crate::model::{DomainDef, InterfaceType, NetSocket};

/// Checks that the port of every server interface of `def` and the local
/// port of every udp one can be bound now; `ResourceBusy` names the first
/// that cannot. An address that is a host name is left for QEMU to
/// resolve; a multicast group's port is shared by its members.
pub(crate) fn check_socket_ports(def: &DomainDef) -> Result<()> {
    for (i, net) in def.devices.interfaces.iter().enumerate() {
        let (proto, s) = match &net.kind {
            InterfaceType::Server(s) => ("tcp", s),
            InterfaceType::Udp { local, .. } => ("udp", local),
            _ => continue,
        };
        let addr = match s.address.as_deref() {
            // QEMU listens on every IPv4 address.
            None => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            Some(text) => match text.parse::<IpAddr>() {
                Ok(a) => a,
                Err(_) => continue,
            },
        };
        let bound = if proto == "tcp" {
            TcpListener::bind((addr, s.port)).map(drop)
        } else {
            UdpSocket::bind((addr, s.port)).map(drop)
        };
        if let Err(e) = bound {
            return Err(taken(def, i, net.kind.type_name(), proto, s, addr, &e));
        }
    }
    Ok(())
}

/// The error for the port of interface `i` that cannot be bound.
fn taken(
    def: &DomainDef,
    i: usize,
    kind: &str,
    proto: &str,
    s: &NetSocket,
    addr: IpAddr,
    e: &io::Error,
) -> Error {
    let (code, why) = super::bind_failure(e);
    Error::new(
        code,
        format!(
            "cannot start domain '{}': host port {}/{proto} on {addr} of its {kind} interface {i} {why}; choose another port in its <source>",
            def.name, s.port
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    #[test]
    fn a_held_server_or_udp_port_is_named() {
        let def = |kind: &str, port: u16| {
            let source = if kind == "udp" {
                format!(
                    "<source address='127.0.0.1' port='1'><local address='127.0.0.1' port='{port}'/></source>"
                )
            } else {
                format!("<source address='127.0.0.1' port='{port}'/>")
            };
            DomainDef::from_xml(&format!(
                "<domain type='qemu'><name>s</name><memory>65536</memory><os><type>hvm</type></os>\
                 <devices><interface type='{kind}'>{source}</interface></devices></domain>"
            ))
            .unwrap()
        };
        let held = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = held.local_addr().unwrap().port();
        let e = check_socket_ports(&def("server", port)).unwrap_err();
        assert_eq!(e.code, ErrorCode::ResourceBusy);
        assert!(
            e.message.contains(&format!(
                "host port {port}/tcp on 127.0.0.1 of its server interface 0"
            )),
            "{e}"
        );
        drop(held);
        check_socket_ports(&def("server", port)).unwrap();
        let held = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = held.local_addr().unwrap().port();
        let e = check_socket_ports(&def("udp", port)).unwrap_err();
        assert_eq!(e.code, ErrorCode::ResourceBusy);
        assert!(e.message.contains(&format!("{port}/udp")), "{e}");
        // A client binds nothing of its own.
        check_socket_ports(&def("client", port)).unwrap();
    }
}
