//! Reading character devices: `<serial>`, `<console>`, `<channel>`, and
//! the host side that USB redirection (`<redirdev>`) and a passed-through
//! `<smartcard>` share with them.

use super::devices::{address, alias, alias_unused, boot_order};
use super::el::{El, R, Radix, invalid, set};
use crate::model::{
    Address, Channel, ChannelTarget, CharAddress, CharDevice, CharLog, CharSource, IsaAddress,
    ModelErrorKind, Redirdev, UsbFilterRule,
};

/// The host side types a character device may have.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Pty,
    File,
    Unix,
    Tcp,
    Dev,
    Udp,
    Null,
    SpiceVmc,
    SpicePort,
    Pipe,
    Vc,
    QemuVdagent,
}

/// `type` of a character device, from the types allowed for it.
fn kind(e: El, allowed: &[(&str, Kind)]) -> R<Kind> {
    e.req("type")?;
    Ok(e.choice("type", allowed)?.expect("checked present"))
}

/// `<source>` of a character device of `kind`: its path, `append`,
/// whether it binds (`mode='bind'`) and its `<reconnect>` seconds.
type Source = (Option<String>, Option<bool>, Option<bool>, Option<u32>);

/// `<source mode= host= service=>` of a TCP character device with its
/// `<reconnect>`: (host, port, bind, reconnect seconds).
type TcpSource = (Option<String>, u16, bool, Option<u32>, Option<bool>);

fn tcp_source(c: El) -> R<TcpSource> {
    c.allow(&["mode", "host", "service", "tls"])?;
    let listen = c
        .choice("mode", &[("bind", true), ("connect", false)])?
        .unwrap_or(false);
    c.req("service")?;
    let service = c
        .port("service")?
        .filter(|p| *p > 0)
        .ok_or_else(|| c.bad_value(ModelErrorKind::Invalid, "service", "port 0 is no TCP port"))?;
    let reconnect = reconnect(c, listen, "TCP")?;
    Ok((
        c.get("host").map(str::to_string),
        service,
        listen,
        reconnect,
        c.yes_no("tls")?,
    ))
}

/// The `<reconnect>` child of a socket's `<source>`: the seconds between
/// QEMU's tries to connect again, `None` when it does not.
pub(super) fn reconnect(c: El, listen: bool, what: &str) -> R<Option<u32>> {
    let mut reconnect = None;
    for r in c.children()? {
        match r.name() {
            "reconnect" => set(&mut reconnect, r, |r| {
                r.allow(&["enabled", "timeout"])?;
                r.empty()?;
                let on = r.yes_no("enabled")?.ok_or_else(|| {
                    invalid(format!("missing enabled= in <reconnect> at {}", r.at()))
                })?;
                let timeout = r.u32("timeout", Radix::Dec)?;
                match (on, timeout) {
                    (true, Some(t)) if t > 0 => Ok(Some(t)),
                    (true, _) => Err(invalid(format!(
                        "<reconnect enabled='yes'> at {} needs a timeout of at least 1 second",
                        r.at()
                    ))),
                    (false, None) => Ok(None),
                    (false, Some(_)) => Err(invalid(format!(
                        "<reconnect enabled='no'> at {} takes no timeout",
                        r.at()
                    ))),
                }
            })?,
            _ => r.skip()?,
        }
    }
    let reconnect = reconnect.flatten();
    if listen && reconnect.is_some() {
        return Err(invalid(format!(
            "a {what} socket that QEMU listens on (mode='bind' or 'server') at {} does not reconnect",
            c.at()
        )));
    }
    Ok(reconnect)
}

fn source(c: El, kind: Kind) -> R<Source> {
    match kind {
        Kind::Pty | Kind::Dev | Kind::Pipe => c.allow(&["path"])?,
        Kind::File => c.allow(&["path", "append"])?,
        Kind::Unix => c.allow(&["path", "mode"])?,
        Kind::Null | Kind::SpiceVmc | Kind::Tcp | Kind::Udp | Kind::Vc | Kind::QemuVdagent => {
            c.allow(&[])?
        }
        Kind::SpicePort => c.allow(&["channel"])?,
    }
    let mode = c.choice("mode", &[("bind", true), ("connect", false)])?;
    let reconnect = if kind == Kind::Unix {
        reconnect(c, mode.unwrap_or(false), "UNIX")?
    } else {
        c.empty()?;
        None
    };
    let path = if kind == Kind::SpicePort {
        c.req("channel")?;
        c.get("channel")
    } else {
        c.get("path")
    };
    Ok((
        path.map(str::to_string),
        c.on_off("append")?,
        mode,
        reconnect,
    ))
}

/// Builds the source; `path_optional` lets a UNIX socket have no path.
fn make_source(e: El, kind: Kind, src: Source, path_optional: bool) -> R<CharSource> {
    let (path, append, mode, reconnect) = src;
    let need_path = || {
        invalid(format!(
            "missing <source path=...> for the character device at {}",
            e.at()
        ))
    };
    Ok(match kind {
        Kind::Pty => CharSource::Pty { path },
        Kind::File => CharSource::File {
            path: path.ok_or_else(need_path)?,
            append,
        },
        Kind::Unix => {
            if path.is_none() && !path_optional {
                return Err(need_path());
            }
            // libvirt: a socket made up for the channel is QEMU's to
            // listen on.
            if path.is_none() && reconnect.is_some() {
                return Err(invalid(format!(
                    "a UNIX character device without a path at {} is one QEMU listens on, and does not reconnect",
                    e.at()
                )));
            }
            CharSource::Unix {
                path,
                listen: mode.unwrap_or(false),
                reconnect,
            }
        }
        Kind::Dev => CharSource::Dev {
            path: path.ok_or_else(need_path)?,
        },
        Kind::Tcp | Kind::Udp | Kind::QemuVdagent => {
            unreachable!("read by tcp_source, udp_source and vdagent_source")
        }
        Kind::Pipe => CharSource::Pipe {
            path: path.ok_or_else(need_path)?,
        },
        Kind::Vc => CharSource::Vc,
        Kind::Null => CharSource::Null,
        Kind::SpiceVmc => CharSource::SpiceVmc,
        Kind::SpicePort => CharSource::SpicePort {
            channel: path.ok_or_else(|| {
                invalid(format!(
                    "missing <source channel=...> for the spiceport at {}",
                    e.at()
                ))
            })?,
        },
    })
}

pub(super) fn chardev(e: El, console: bool) -> R<CharDevice> {
    e.allow(&["type", "tty"])?;
    let kind = kind(
        e,
        &[
            ("pty", Kind::Pty),
            ("file", Kind::File),
            ("unix", Kind::Unix),
            ("tcp", Kind::Tcp),
            ("dev", Kind::Dev),
            ("udp", Kind::Udp),
            ("null", Kind::Null),
            ("pipe", Kind::Pipe),
            ("vc", Kind::Vc),
            ("spiceport", Kind::SpicePort),
        ],
    )?;
    if kind != Kind::Pty && e.get("tty").is_some() {
        return Err(e.bad_value(ModelErrorKind::Invalid, "tty", "only a pty has a tty"));
    }
    // `tty` repeats the pty path of a running domain; <source path> keeps it.
    let mut src = None;
    let (mut tcp, mut telnet) = (None, None);
    let (mut udp_bind, mut udp_connect) = (None, None);
    let mut target = None;
    let (mut log, mut addr, mut user_alias) = (None, None, None);
    for c in e.children()? {
        match c.name() {
            "address" => set(&mut addr, c, |c| char_address(c, e.name()))?,
            "source" if kind == Kind::Tcp => set(&mut tcp, c, tcp_source)?,
            "protocol" => protocol_of(c, kind, &mut telnet)?,
            "source" if kind == Kind::Udp => udp_slot(c, &mut udp_bind, &mut udp_connect)?,
            "source" if !matches!(kind, Kind::Null | Kind::Vc) => {
                set(&mut src, c, |c| source(c, kind))?
            }
            "target" => set(&mut target, c, |c| chardev_target(c, console))?,
            "log" => set(&mut log, c, |c| {
                c.allow(&["file", "append"])?;
                c.empty()?;
                let file = c.req("file")?;
                Ok(CharLog {
                    file: file.to_string(),
                    append: c.on_off("append")?,
                })
            })?,
            // A parallel port's QEMU id is not taken from a user.
            "alias" if e.name() == "parallel" => alias_unused(c)?,
            "alias" => set(&mut user_alias, c, alias)?,
            _ => c.skip()?,
        }
    }
    let source = if kind == Kind::Tcp {
        tcp_char_source(e, tcp, telnet)?
    } else if kind == Kind::Udp {
        udp_char_source(e, udp_bind, udp_connect)?
    } else {
        make_source(e, kind, src.unwrap_or((None, None, None, None)), false)?
    };
    let (target_port, target_type) = target.unwrap_or((None, None));
    Ok(CharDevice {
        source,
        target_port,
        target_type,
        log,
        address: addr,
        alias: user_alias.flatten(),
    })
}

/// The slot of a UDP character device's `<source>`: where it receives
/// (`mode='bind'`) or sends (`mode='connect'`, the default).
fn udp_slot(c: El, bind: &mut Option<UdpEnd>, connect: &mut Option<UdpEnd>) -> R<()> {
    let is_bind = c.choice("mode", &[("bind", true), ("connect", false)])?;
    let slot = if is_bind == Some(true) { bind } else { connect };
    set(slot, c, udp_source)
}

/// A UDP character device's source from its two ends; the connect end
/// and its service are required.
fn udp_char_source(e: El, bind: Option<UdpEnd>, connect: Option<UdpEnd>) -> R<CharSource> {
    let (host, service) = connect.ok_or_else(|| {
        invalid(format!(
            "missing <source mode='connect' service=...> for the UDP character device at {}",
            e.at()
        ))
    })?;
    let service = service.ok_or_else(|| {
        invalid(format!(
            "missing service= in the UDP character device's connect <source> at {}",
            e.at()
        ))
    })?;
    let (bind_host, bind_service) = bind.unwrap_or((None, None));
    Ok(CharSource::Udp {
        bind_host,
        bind_service,
        host,
        service,
    })
}

/// The `<address>` of `element`: `type='isa' iobase= irq=`, or of a
/// serial port or console `type='pci'`, or of a console
/// `type='virtio-serial'` (a virtio console's port, as a running
/// domain's XML shows it), or of a serial port `type='usb'` (a USB
/// serial port's).
fn char_address(c: El, element: &str) -> R<CharAddress> {
    c.req("type")?;
    // 0: ISA, 1: PCI (a serial port or console), 2: virtio-serial (a
    // console's port), 3: USB (a serial port).
    let types: &[(&str, u8)] = match element {
        "parallel" => &[("isa", 0)],
        "console" => &[("isa", 0), ("pci", 1), ("virtio-serial", 2)],
        _ => &[("isa", 0), ("pci", 1), ("usb", 3)],
    };
    match c.choice("type", types)? {
        Some(1) => {
            return match address(c)? {
                Address::Pci(p) => Ok(CharAddress::Pci(p)),
                _ => unreachable!("a PCI address"),
            };
        }
        Some(2) => {
            return match address(c)? {
                Address::VirtioSerial(a) => Ok(CharAddress::VirtioSerial(a)),
                _ => unreachable!("a virtio-serial address"),
            };
        }
        Some(3) => {
            return match address(c)? {
                Address::Usb(a) => Ok(CharAddress::Usb(a)),
                _ => unreachable!("a USB address"),
            };
        }
        _ => {}
    }
    c.allow(&["type", "iobase", "irq"])?;
    c.empty()?;
    let iobase = match c.u32("iobase", Radix::Auto)? {
        Some(p) => Some(
            u16::try_from(p)
                .map_err(|_| c.bad_value(ModelErrorKind::Invalid, "iobase", "not an I/O port"))?,
        ),
        None => None,
    };
    let irq = match c.u32("irq", Radix::Auto)? {
        Some(n) if n <= 15 => Some(n as u8),
        Some(_) => {
            return Err(c.bad_value(ModelErrorKind::Invalid, "irq", "ISA interrupts are 0 to 15"));
        }
        None => None,
    };
    Ok(CharAddress::Isa(IsaAddress { iobase, irq }))
}

/// A `<source mode= host= service=>` of a UDP character device.
/// One end of a UDP character device: its host and service.
type UdpEnd = (Option<String>, Option<u16>);

fn udp_source(c: El) -> R<UdpEnd> {
    c.allow(&["mode", "host", "service"])?;
    c.empty()?;
    let service = c.port("service")?;
    if service == Some(0) && c.get("mode") != Some("bind") {
        return Err(c.bad_value(
            ModelErrorKind::Invalid,
            "service",
            "port 0 is no UDP port to send to",
        ));
    }
    Ok((c.get("host").map(str::to_string), service))
}

/// `<protocol type='raw|telnet'>`: whether it is telnet.
fn protocol(c: El) -> R<bool> {
    c.allow(&["type"])?;
    c.empty()?;
    c.req("type")?;
    Ok(c.choice("type", &[("raw", false), ("telnet", true)])?
        .unwrap_or(false))
}

/// The `<protocol>` of any character device (serial, parallel, console,
/// channel or a device's host side), read once: a TCP device's sets
/// `telnet`; libvirt reads one on every other type and uses it on none,
/// so there `raw`, what runs, is taken (and not written back, as
/// libvirt drops it) and `telnet` is refused by name.
fn protocol_of(c: El, kind: Kind, telnet: &mut Option<bool>) -> R<()> {
    set(telnet, c, protocol)?;
    if kind != Kind::Tcp && *telnet == Some(true) {
        return Err(c.bad_value(
            ModelErrorKind::Unsupported,
            "type",
            "telnet is a protocol of TCP character devices",
        ));
    }
    Ok(())
}

/// A TCP source from its `<source>` and `<protocol>`.
fn tcp_char_source(e: El, tcp: Option<TcpSource>, telnet: Option<bool>) -> R<CharSource> {
    let (host, service, listen, reconnect, tls) = tcp.ok_or_else(|| {
        invalid(format!(
            "missing <source service=...> for the TCP character device at {}",
            e.at()
        ))
    })?;
    Ok(CharSource::Tcp {
        host,
        service,
        listen,
        telnet: telnet.unwrap_or(false),
        reconnect,
        tls,
    })
}

/// The host side of a `<smartcard mode='passthrough'>`: `type` with its
/// `<source>` and `<protocol>`; every other child is handed to `other`.
/// A UNIX socket takes `<protocol type='raw'>` (libvirt's files write
/// it; it means nothing there) but not telnet, which libvirt would drop.
pub(super) fn passthrough_source<'a, 'i>(
    e: El<'a, 'i>,
    other: impl FnMut(El<'a, 'i>) -> R<()>,
) -> R<CharSource> {
    typed_source(
        e,
        &[
            ("pty", Kind::Pty),
            ("file", Kind::File),
            ("unix", Kind::Unix),
            ("tcp", Kind::Tcp),
            ("null", Kind::Null),
            ("spicevmc", Kind::SpiceVmc),
        ],
        other,
    )
}

/// `type` from `allowed` with its `<source>` and `<protocol>`, as
/// [`passthrough_source`].
fn typed_source<'a, 'i>(
    e: El<'a, 'i>,
    allowed: &[(&str, Kind)],
    mut other: impl FnMut(El<'a, 'i>) -> R<()>,
) -> R<CharSource> {
    let kind = kind(e, allowed)?;
    let (mut src, mut tcp, mut telnet) = (None, None, None);
    for c in e.children()? {
        match c.name() {
            "source" if kind == Kind::Tcp => set(&mut tcp, c, tcp_source)?,
            "protocol" => protocol_of(c, kind, &mut telnet)?,
            "source" if !matches!(kind, Kind::Null | Kind::SpiceVmc) => {
                set(&mut src, c, |c| source(c, kind))?
            }
            _ => other(c)?,
        }
    }
    if kind == Kind::Tcp {
        tcp_char_source(e, tcp, telnet)
    } else {
        make_source(e, kind, src.unwrap_or((None, None, None, None)), false)
    }
}

fn chardev_target(e: El, console: bool) -> R<(Option<u32>, Option<String>)> {
    e.allow(&["type", "port"])?;
    let port = e.u32("port", Radix::Dec)?;
    let kind = e.get("type").map(str::to_string);
    for c in e.children()? {
        if c.name() != "model" || console {
            c.skip()?;
            continue;
        }
        // libvirt writes the serial device model it picked; only that
        // default (which qvirt would pick too) is accepted and dropped.
        c.allow(&["name"])?;
        c.empty()?;
        let default = match kind.as_deref() {
            None | Some("isa-serial") => "isa-serial",
            Some("usb-serial") => "usb-serial",
            Some("pci-serial") => "pci-serial",
            Some("isa-debug") => "isa-debugcon",
            Some(_) => "",
        };
        if c.req("name")? != default {
            return Err(c.bad_value(
                ModelErrorKind::Unsupported,
                "name",
                "only the default model of the target type is supported",
            ));
        }
    }
    Ok((port, kind))
}

pub(super) fn channel(e: El) -> R<Channel> {
    e.allow(&["type", "tty"])?;
    // Any host side libvirt gives a channel but a display's terminal.
    let kind = kind(
        e,
        &[
            ("unix", Kind::Unix),
            ("tcp", Kind::Tcp),
            ("pty", Kind::Pty),
            ("file", Kind::File),
            ("dev", Kind::Dev),
            ("udp", Kind::Udp),
            ("null", Kind::Null),
            ("spicevmc", Kind::SpiceVmc),
            ("spiceport", Kind::SpicePort),
            ("pipe", Kind::Pipe),
            ("qemu-vdagent", Kind::QemuVdagent),
        ],
    )?;
    // `tty` repeats the pty path of a running domain; <source path> keeps it.
    if kind != Kind::Pty && e.get("tty").is_some() {
        return Err(e.bad_value(ModelErrorKind::Invalid, "tty", "only a pty has a tty"));
    }
    let (mut src, mut target, mut addr) = (None, None, None);
    let (mut tcp, mut telnet, mut vdagent) = (None, None, None);
    let (mut udp_bind, mut udp_connect) = (None, None);
    for c in e.children()? {
        match c.name() {
            "source" if kind == Kind::Tcp => set(&mut tcp, c, tcp_source)?,
            "source" if kind == Kind::Udp => udp_slot(c, &mut udp_bind, &mut udp_connect)?,
            "protocol" => protocol_of(c, kind, &mut telnet)?,
            "source" if kind == Kind::QemuVdagent => set(&mut vdagent, c, vdagent_source)?,
            "source" if !matches!(kind, Kind::SpiceVmc | Kind::Null) => {
                set(&mut src, c, |c| source(c, kind))?
            }
            "target" => set(&mut target, c, channel_target)?,
            "address" => set(&mut addr, c, address)?,
            "alias" => alias_unused(c)?,
            _ => c.skip()?,
        }
    }
    let target = target.ok_or_else(|| {
        invalid(format!(
            "missing <target type=...> in <channel> at {}",
            e.at()
        ))
    })?;
    let source = if kind == Kind::Tcp {
        tcp_char_source(e, tcp, telnet)?
    } else if kind == Kind::Udp {
        udp_char_source(e, udp_bind, udp_connect)?
    } else if kind == Kind::QemuVdagent {
        vdagent.unwrap_or(CharSource::QemuVdagent {
            clipboard: None,
            mouse: None,
        })
    } else {
        // Only a virtio port's UNIX socket may go without a path.
        let path_optional = matches!(target, ChannelTarget::Virtio { .. });
        make_source(
            e,
            kind,
            src.unwrap_or((None, None, None, None)),
            path_optional,
        )?
    };
    Ok(Channel {
        source,
        target,
        address: addr,
        alias: None,
    })
}

/// `<channel><target>`: a virtio-serial port, or a guestfwd forward.
fn channel_target(c: El) -> R<ChannelTarget> {
    c.req("type")?;
    let guestfwd = c
        .choice("type", &[("virtio", false), ("guestfwd", true)])?
        .unwrap_or(false);
    c.empty()?;
    if guestfwd {
        c.allow(&["type", "address", "port"])?;
        let address = c.req("address")?;
        let address = match address.parse::<std::net::IpAddr>() {
            Ok(std::net::IpAddr::V4(a)) => a,
            Ok(std::net::IpAddr::V6(_)) => {
                return Err(c.bad_value(
                    ModelErrorKind::Unsupported,
                    "address",
                    "guestfwd channel only supports IPv4 addresses",
                ));
            }
            Err(_) => {
                return Err(c.bad_value(ModelErrorKind::Invalid, "address", "not an IP address"));
            }
        };
        c.req("port")?;
        let port = c.port("port")?.expect("checked present");
        return Ok(ChannelTarget::Guestfwd { address, port });
    }
    // `state` is what a running guest's agent reports.
    c.allow(&["type", "name", "state"])?;
    c.choice("state", &[("connected", ()), ("disconnected", ())])?;
    Ok(ChannelTarget::Virtio {
        name: c.get("name").map(str::to_string),
    })
}

/// `<source>` of a qemu-vdagent channel: `<clipboard copypaste=>` and
/// `<mouse mode=>` (virDomainChrSourceDefParseQemuVdagent).
fn vdagent_source(c: El) -> R<CharSource> {
    c.allow(&[])?;
    let (mut clipboard, mut mouse) = (None, None);
    for k in c.children()? {
        match k.name() {
            "clipboard" => set(&mut clipboard, k, |k| {
                k.allow(&["copypaste"])?;
                k.empty()?;
                k.req("copypaste")?;
                Ok(k.yes_no("copypaste")?.expect("checked present"))
            })?,
            "mouse" => set(&mut mouse, k, |k| {
                k.allow(&["mode"])?;
                k.empty()?;
                k.req_word("mode")
            })?,
            _ => k.skip()?,
        }
    }
    Ok(CharSource::QemuVdagent { clipboard, mouse })
}

pub(super) fn redirdev(e: El) -> R<Redirdev> {
    e.allow(&["bus", "type"])?;
    e.choice("bus", &[("usb", ())])?;
    let (mut boot, mut addr) = (None, None);
    let kinds = [
        ("spicevmc", Kind::SpiceVmc),
        ("tcp", Kind::Tcp),
        ("unix", Kind::Unix),
    ];
    let source = typed_source(e, &kinds, |c| match c.name() {
        "boot" => set(&mut boot, c, boot_order),
        "address" => set(&mut addr, c, address),
        "alias" => alias_unused(c),
        _ => c.skip(),
    })?;
    Ok(Redirdev {
        source,
        boot_order: boot,
        address: addr,
        alias: None,
    })
}

/// `<redirfilter>`: its `<usbdev>` rules (virDomainRedirFilterDefParseXML).
pub(super) fn redirfilter(e: El) -> R<Vec<UsbFilterRule>> {
    e.allow(&[])?;
    let mut rules = Vec::new();
    for c in e.children()? {
        if c.name() != "usbdev" {
            c.skip()?;
            continue;
        }
        if let Some(rule) = c.read(usb_filter_rule)? {
            rules.push(rule);
        }
    }
    Ok(rules)
}

fn usb_filter_rule(c: El) -> R<UsbFilterRule> {
    c.allow(&["class", "vendor", "product", "version", "allow"])?;
    c.empty()?;
    // An integer in C's notation (0x.. hex, 0.. octal), or -1 for any.
    let number = |name: &str, max: u32| -> R<Option<u32>> {
        let Some(v) = c.get(name) else {
            return Ok(None);
        };
        if v == "-1" {
            return Ok(None);
        }
        let parsed = if let Some(h) = v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) {
            u32::from_str_radix(h, 16).ok()
        } else if v.len() > 1 && v.starts_with('0') {
            u32::from_str_radix(&v[1..], 8).ok()
        } else {
            v.parse().ok()
        };
        match parsed {
            Some(n) if n <= max => Ok(Some(n)),
            _ => Err(c.bad_value(
                ModelErrorKind::Invalid,
                name,
                &format!("a number up to {max:#x}, or -1 for any"),
            )),
        }
    };
    let version = match c.get("version") {
        None | Some("-1") => None,
        Some(v) => Some(usb_version(v).ok_or_else(|| {
            c.bad_value(
                ModelErrorKind::Invalid,
                "version",
                "a release such as '1.10', or -1 for any",
            )
        })?),
    };
    c.req("allow")?;
    Ok(UsbFilterRule {
        class: number("class", 0xff)?.map(|n| n as u8),
        vendor: number("vendor", 0xffff)?.map(|n| n as u16),
        product: number("product", 0xffff)?.map(|n| n as u16),
        version,
        allow: c.yes_no("allow")?.unwrap_or(false),
    })
}

/// `MM.mm` as USB's binary-coded decimal; `MM.m` is `MM.m0`.
fn usb_version(v: &str) -> Option<u16> {
    let (major, minor) = v.split_once('.')?;
    let digits = |s: &str| !s.is_empty() && s.len() <= 2 && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(major) || !digits(minor) {
        return None;
    }
    let major: u16 = major.parse().ok()?;
    let minor: u16 = minor.parse::<u16>().ok()? * if minor.len() == 1 { 10 } else { 1 };
    Some((major / 10) << 12 | (major % 10) << 8 | (minor / 10) << 4 | (minor % 10))
}
