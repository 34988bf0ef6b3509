//! Writing `<interface>`, in the order libvirt writes its children.

use super::devices::{acpi, address, alias, virtio_attrs};
use super::{element, on_off};
use crate::model::xmlwrite::{Attrs, XmlWriter};
use crate::model::{
    GuestOffloads, HostOffloads, Interface, InterfaceType, NetDriver, NetDriverName, NetSocket,
    NetTxMode, TapSettings,
};

fn net_driver(w: &mut XmlWriter, d: &NetDriver) {
    let a = virtio_attrs(
        Attrs::new()
            .opt("name", d.name.map(NetDriverName::as_str))
            .opt("txmode", d.txmode.map(NetTxMode::as_str))
            .opt("ioeventfd", d.ioeventfd.map(on_off))
            .opt("event_idx", d.event_idx.map(on_off))
            .opt("queues", d.queues)
            .opt("rx_queue_size", d.rx_queue_size)
            .opt("tx_queue_size", d.tx_queue_size)
            .opt("rss", d.rss.map(on_off))
            .opt("rss_hash_report", d.rss_hash_report.map(on_off)),
        &d.virtio,
    );
    let h = &d.host;
    let host = Attrs::new()
        .opt("csum", h.csum.map(on_off))
        .opt("gso", h.gso.map(on_off))
        .opt("tso4", h.tso4.map(on_off))
        .opt("tso6", h.tso6.map(on_off))
        .opt("ecn", h.ecn.map(on_off))
        .opt("ufo", h.ufo.map(on_off))
        .opt("mrg_rxbuf", h.mrg_rxbuf.map(on_off));
    let g = &d.guest;
    let guest = Attrs::new()
        .opt("csum", g.csum.map(on_off))
        .opt("tso4", g.tso4.map(on_off))
        .opt("tso6", g.tso6.map(on_off))
        .opt("ecn", g.ecn.map(on_off))
        .opt("ufo", g.ufo.map(on_off));
    let (has_host, has_guest) = (
        d.host != HostOffloads::default(),
        d.guest != GuestOffloads::default(),
    );
    element(w, "driver", a, has_host || has_guest, |w| {
        if has_host {
            w.empty("host", host);
        }
        if has_guest {
            w.empty("guest", guest);
        }
    });
}

pub(super) fn interface(w: &mut XmlWriter, i: &Interface) {
    let kind = i.kind.type_name();
    w.open("interface", Attrs::new().add("type", kind));
    w.empty("mac", Attrs::new().add("address", i.mac));
    match &i.kind {
        InterfaceType::Network(n) => w.empty("source", Attrs::new().add("network", n)),
        InterfaceType::Bridge(b) => w.empty("source", Attrs::new().add("bridge", b)),
        // The mode is always written, as libvirt does (vepa by default).
        InterfaceType::Direct { dev, mode } => w.empty(
            "source",
            Attrs::new().add("dev", dev).add("mode", mode.as_str()),
        ),
        InterfaceType::VhostUser {
            path,
            server,
            reconnect,
        } => {
            let a = Attrs::new()
                .add("type", "unix")
                .add("path", path)
                .add("mode", if *server { "server" } else { "client" });
            element(w, "source", a, reconnect.is_some(), |w| {
                w.empty(
                    "reconnect",
                    Attrs::new()
                        .add("enabled", "yes")
                        .add("timeout", reconnect.unwrap_or_default()),
                );
            });
        }
        InterfaceType::Server(s) | InterfaceType::Client(s) | InterfaceType::Mcast(s) => {
            w.empty("source", socket_attrs(s));
        }
        InterfaceType::Udp { remote, local } => {
            w.open("source", socket_attrs(remote));
            w.empty("local", socket_attrs(local));
            w.close("source");
        }
        InterfaceType::User => {
            if let Some(dev) = i.passt.as_ref().and_then(|p| p.dev.as_ref()) {
                w.empty("source", Attrs::new().add("dev", dev));
            }
        }
        InterfaceType::Ethernet => host_source(w, &i.tap),
    }
    for ip in &i.ips {
        ip_element(w, ip.address, ip.prefix, None);
    }
    for (name, path) in [("script", &i.scripts.up), ("downscript", &i.scripts.down)] {
        if let Some(p) = path {
            w.empty(name, Attrs::new().add("path", p));
        }
    }
    if let Some(t) = &i.target_dev {
        let managed = i.tap.managed.map(|m| if m { "yes" } else { "no" });
        w.empty("target", Attrs::new().add("dev", t).opt("managed", managed));
    }
    if let Some(m) = &i.model {
        w.empty("model", Attrs::new().add("type", m));
    }
    if let Some(d) = &i.driver {
        net_driver(w, d);
    }
    if i.tap.tun_path.is_some() || i.tap.vhost_path.is_some() {
        w.empty(
            "backend",
            Attrs::new()
                .opt("tap", i.tap.tun_path.as_ref())
                .opt("vhost", i.tap.vhost_path.as_ref()),
        );
    }
    if let Some(p) = &i.passt {
        w.empty(
            "backend",
            Attrs::new()
                .add("type", "passt")
                .opt("logFile", p.log_file.as_ref()),
        );
    }
    if let Some(f) = &i.filterref {
        element(
            w,
            "filterref",
            Attrs::new().add("filter", &f.filter),
            !f.parameters.is_empty(),
            |w| {
                for (name, value) in &f.parameters {
                    w.empty(
                        "parameter",
                        Attrs::new().add("name", name).add("value", value),
                    );
                }
            },
        );
    }
    if let Some(o) = i.boot_order {
        w.empty("boot", Attrs::new().add("order", o));
    }
    if let Some(vlan) = i.virtualport.as_ref().and_then(|v| v.vlan.as_ref()) {
        w.open(
            "vlan",
            Attrs::new().opt("trunk", vlan.trunk.then_some("yes")),
        );
        for t in &vlan.tags {
            let native = vlan.native.filter(|(n, _)| n == t);
            let mode = native.map(|(_, tagged)| if tagged { "tagged" } else { "untagged" });
            w.empty("tag", Attrs::new().add("id", t).opt("nativeMode", mode));
        }
        w.close("vlan");
    }
    if let Some(v) = &i.virtualport {
        let params = v.interface_id.is_some() || v.profile_id.is_some();
        element(
            w,
            "virtualport",
            Attrs::new().add("type", "openvswitch"),
            params,
            |w| {
                let a = Attrs::new()
                    .opt("interfaceid", v.interface_id)
                    .opt("profileid", v.profile_id.as_ref());
                w.empty("parameters", a);
            },
        );
    }
    if let Some(isolated) = i.tap.isolated {
        w.empty(
            "port",
            Attrs::new().add("isolated", if isolated { "yes" } else { "no" }),
        );
    }
    if let Some(up) = i.link_up {
        w.empty(
            "link",
            Attrs::new().add("state", if up { "up" } else { "down" }),
        );
    }
    if let Some(size) = i.mtu {
        w.empty("mtu", Attrs::new().add("size", size));
    }
    if let Some(b) = &i.bandwidth {
        w.open("bandwidth", Attrs::new());
        for (name, r) in [("inbound", &b.inbound), ("outbound", &b.outbound)] {
            if let Some(r) = r {
                let a = Attrs::new()
                    .add("average", r.average)
                    .opt("peak", r.peak)
                    .opt("burst", r.burst);
                w.empty(name, a);
            }
        }
        w.close("bandwidth");
    }
    if let Some(max) = i.coalesce_rx_frames {
        w.open("coalesce", Attrs::new());
        w.open("rx", Attrs::new());
        w.empty("frames", Attrs::new().add("max", max));
        w.close("rx");
        w.close("coalesce");
    }
    if let Some(r) = &i.rom {
        super::hostdev::rom(w, r);
    }
    for pf in &i.port_forwards {
        let a = Attrs::new()
            .add("proto", pf.proto.as_str())
            .opt("address", pf.address.as_ref())
            .opt("dev", pf.dev.as_ref());
        element(w, "portForward", a, !pf.ranges.is_empty(), |w| {
            for r in &pf.ranges {
                let a = Attrs::new()
                    .add("start", r.start)
                    .opt("end", r.end)
                    .opt("to", r.to)
                    .opt("exclude", r.exclude.then_some("yes"));
                w.empty("range", a);
            }
        });
    }
    alias(w, &i.alias);
    acpi(w, i.acpi_index);
    address(w, &i.address);
    w.close("interface");
}

/// `address= port=` of a socket interface's `<source>` or `<local>`.
fn socket_attrs(s: &NetSocket) -> Attrs {
    Attrs::new()
        .opt("address", s.address.as_ref())
        .add("port", s.port)
}

/// An `<ip address family prefix peer>` (the guest's, or the host
/// tap's).
fn ip_element(
    w: &mut XmlWriter,
    address: std::net::IpAddr,
    prefix: Option<u8>,
    peer: Option<std::net::IpAddr>,
) {
    let family = if address.is_ipv6() { "ipv6" } else { "ipv4" };
    w.empty(
        "ip",
        Attrs::new()
            .add("address", address)
            .add("family", family)
            .opt("prefix", prefix)
            .opt("peer", peer),
    );
}

/// `<source>` of an ethernet interface, with the addresses and routes
/// the host gives its tap; nothing when it has none.
fn host_source(w: &mut XmlWriter, tap: &TapSettings) {
    if tap.ips.is_empty() && tap.routes.is_empty() {
        return;
    }
    w.open("source", Attrs::new());
    for ip in &tap.ips {
        ip_element(w, ip.address, ip.prefix, ip.peer);
    }
    for r in &tap.routes {
        w.empty(
            "route",
            Attrs::new()
                .opt("family", r.family.map(|f| f.as_str()))
                .add("address", r.address)
                .opt("netmask", r.netmask)
                .opt("prefix", r.prefix)
                .add("gateway", r.gateway)
                .opt("metric", r.metric),
        );
    }
    w.close("source");
}
