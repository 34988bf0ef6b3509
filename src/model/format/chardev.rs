//! Writing character devices: serial and parallel ports, consoles and
//! channels, and the host side any chardev has, as libvirt writes them.

use super::devices::{address, alias};
use super::{element, on_off, yes_no};
use crate::model::xmlwrite::{Attrs, XmlWriter};
use crate::model::{Address, Channel, ChannelTarget, CharDevice, CharSource};

/// The `<source>` attributes of a character device, if it has any.
fn source_attrs(s: &CharSource) -> Option<Attrs> {
    match s {
        CharSource::Pty { path } => path.as_ref().map(|p| Attrs::new().add("path", p)),
        CharSource::Dev { path } => Some(Attrs::new().add("path", path)),
        // Its two sources are written by `chardev`.
        CharSource::Udp { .. } => None,
        CharSource::File { path, append } => Some(
            Attrs::new()
                .add("path", path)
                .opt("append", append.map(on_off)),
        ),
        CharSource::Unix { path, listen, .. } => Some(
            Attrs::new()
                .add("mode", if *listen { "bind" } else { "connect" })
                .opt("path", path.as_ref()),
        ),
        CharSource::Tcp {
            host,
            service,
            listen,
            tls,
            ..
        } => Some(
            Attrs::new()
                .add("mode", if *listen { "bind" } else { "connect" })
                .opt("host", host.as_ref())
                .add("service", service)
                .opt("tls", tls.map(super::yes_no)),
        ),
        CharSource::SpicePort { channel } => Some(Attrs::new().add("channel", channel)),
        CharSource::Pipe { path } => Some(Attrs::new().add("path", path)),
        // Its source has children, written by `char_source`.
        CharSource::QemuVdagent { .. } => None,
        CharSource::Null | CharSource::SpiceVmc | CharSource::Vc => None,
    }
}

/// `<source>` of a character device and, for TCP, its reconnect child
/// and `<protocol>`.
pub(super) fn char_source(w: &mut XmlWriter, source: &CharSource) {
    match (source_attrs(source), source) {
        (
            Some(s),
            CharSource::Tcp {
                reconnect: Some(t), ..
            }
            | CharSource::Unix {
                reconnect: Some(t), ..
            },
        ) => {
            w.open("source", s);
            w.empty(
                "reconnect",
                Attrs::new().add("enabled", "yes").add("timeout", t),
            );
            w.close("source");
        }
        (Some(s), _) => w.empty("source", s),
        (
            None,
            CharSource::Udp {
                bind_host,
                bind_service,
                host,
                service,
            },
        ) => {
            if bind_host.is_some() || bind_service.is_some() {
                let a = Attrs::new()
                    .add("mode", "bind")
                    .opt("host", bind_host.as_ref())
                    .opt("service", *bind_service);
                w.empty("source", a);
            }
            let a = Attrs::new()
                .add("mode", "connect")
                .opt("host", host.as_ref())
                .add("service", service);
            w.empty("source", a);
        }
        (None, CharSource::QemuVdagent { clipboard, mouse }) => {
            if clipboard.is_some() || mouse.is_some() {
                w.open("source", Attrs::new());
                if let Some(c) = clipboard {
                    w.empty("clipboard", Attrs::new().add("copypaste", yes_no(*c)));
                }
                if let Some(m) = mouse {
                    w.empty("mouse", Attrs::new().add("mode", m.as_str()));
                }
                w.close("source");
            }
        }
        (None, _) => {}
    }
    if let CharSource::Tcp { telnet, .. } = source {
        w.empty(
            "protocol",
            Attrs::new().add("type", if *telnet { "telnet" } else { "raw" }),
        );
    }
}

pub(super) fn chardev(w: &mut XmlWriter, name: &str, c: &CharDevice) {
    let source = source_attrs(&c.source);
    let target = Attrs::new()
        .opt("type", c.target_type.as_ref())
        .opt("port", c.target_port);
    let udp = matches!(c.source, CharSource::Udp { .. });
    let children = source.is_some()
        || udp
        || !target.is_empty()
        || c.log.is_some()
        || c.address.is_some()
        || c.alias.is_some();
    let a = Attrs::new()
        .add("type", c.source.type_name())
        .opt("tty", pty_path(&c.source));
    element(w, name, a, children, |w| {
        char_source(w, &c.source);
        if let Some(l) = &c.log {
            let a = Attrs::new()
                .add("file", &l.file)
                .opt("append", l.append.map(super::on_off));
            w.empty("log", a);
        }
        if !target.is_empty() {
            w.empty("target", target);
        }
        alias(w, &c.alias);
        match c.address {
            Some(crate::model::CharAddress::Pci(p)) => address(w, &Some(Address::Pci(p))),
            Some(crate::model::CharAddress::VirtioSerial(a)) => {
                address(w, &Some(Address::VirtioSerial(a)));
            }
            Some(crate::model::CharAddress::Usb(u)) => address(w, &Some(Address::Usb(u))),
            _ => {}
        }
        if let Some(isa) = c.isa() {
            let a = Attrs::new()
                .add("type", "isa")
                .opt("iobase", isa.iobase.map(|p| format!("{p:#x}")))
                .opt("irq", isa.irq.map(|i| format!("{i:#x}")));
            w.empty("address", a);
        }
    });
}

/// The terminal of a pty chardev, which a running domain's XML repeats in
/// the element's `tty` (what virsh's `ttyconsole` reads), as libvirt's.
fn pty_path(s: &CharSource) -> Option<&String> {
    match s {
        CharSource::Pty { path } => path.as_ref(),
        _ => None,
    }
}

pub(super) fn channel(w: &mut XmlWriter, c: &Channel) {
    let a = Attrs::new()
        .add("type", c.source.type_name())
        .opt("tty", pty_path(&c.source));
    w.open("channel", a);
    char_source(w, &c.source);
    match &c.target {
        ChannelTarget::Virtio { name } => {
            let a = Attrs::new()
                .add("type", "virtio")
                .opt("name", name.as_ref());
            w.empty("target", a);
        }
        ChannelTarget::Guestfwd { address, port } => {
            let a = Attrs::new()
                .add("type", "guestfwd")
                .add("address", address)
                .add("port", port);
            w.empty("target", a);
        }
    }
    alias(w, &c.alias);
    address(w, &c.address);
    w.close("channel");
}
