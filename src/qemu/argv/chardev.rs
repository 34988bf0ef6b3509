//! Serial ports, consoles and channels: a `-chardev` backend each, plus
//! an `isa-serial`, `virtconsole` or `virtserialport` device.
//!
//! libvirt semantics: a console whose target is `serial` (or not written)
//! is the serial port with the same port number, not a second device; with
//! no such serial port, the console creates it. Virtio consoles and
//! channels get virtio-serial ports as libvirt gives them: written ones
//! first, then consoles from port 0, then channels from port 1, each on
//! the first controller with a free port.

use std::path::{Path, PathBuf};

use super::devs::Dev;
use super::opts::Opts;
use super::{Ctx, invalid, unsupported};
use crate::error::Error;
use crate::model::{Channel, ChannelTarget, CharDevice, CharSource, SpiceMouseMode};

/// ISA serial ports the PC has (COM1..COM4).
const MAX_ISA_SERIAL: u32 = 4;

/// The ISA parallel ports a PC has (QEMU's `MAX_PARALLEL_PORTS`).
const MAX_ISA_PARALLEL: u32 = 3;

/// The QEMU id of serial port `n` (numbered by its place, or after the
/// serial ports for one a console adds): its user alias, else `serialN`.
/// Its chardev is `char` + it, as libvirt names them.
pub fn serial_id(s: &CharDevice, n: usize) -> String {
    s.alias.clone().unwrap_or_else(|| format!("serial{n}"))
}

/// The QEMU id of the `k`th virtio console: its user alias, else
/// `consoleK`; its chardev is `char` + it.
pub fn console_id(c: &CharDevice, k: usize) -> String {
    c.alias.clone().unwrap_or_else(|| format!("console{k}"))
}

/// Emits serial ports, parallel ports, then virtio consoles.
pub fn emit(cx: &mut Ctx<'_>) -> Result<(), Error> {
    let d = &cx.def.devices;
    let log = match &cx.paths.serial_log {
        Some(p) => Some(super::runtime_path("serial log", p)?),
        None => None,
    };
    // (port, number of its ids, device): a serial port of the definition
    // is numbered by its place there, one a console adds after them.
    let mut serials: Vec<(u32, usize, &CharDevice)> = Vec::new();
    let (mut debugcons, mut pci, mut usb) = (Vec::new(), Vec::new(), Vec::new());
    for (i, s) in d.serials.iter().enumerate() {
        match s.target_type.as_deref() {
            None | Some("isa-serial") | Some("serial") => {}
            // A debug console is no COM port: it takes no port number.
            Some("isa-debug") => {
                debugcons.push((i, s));
                continue;
            }
            Some("pci-serial") => {
                if s.isa().is_some() {
                    return Err(unsupported(
                        "Target type 'pci-serial' requires address type 'pci'",
                    ));
                }
                pci.push((s.target_port.unwrap_or(i as u32), i, s));
                continue;
            }
            Some("usb-serial") => {
                usb.push((s.target_port.unwrap_or(i as u32), i, s));
                continue;
            }
            Some(other) => {
                return Err(unsupported(format!(
                    "serial target type '{other}' is not supported: use isa-serial, pci-serial, usb-serial or isa-debug"
                )));
            }
        }
        serials.push((s.target_port.unwrap_or(i as u32), i, s));
    }
    let mut virtio = Vec::new();
    let mut added = d.serials.len();
    for c in &d.consoles {
        if c.virtio_serial().is_some() && c.target_type.as_deref() != Some("virtio") {
            return Err(invalid(
                "only a virtio console sits on a virtio-serial port: <address type='virtio-serial'> needs <target type='virtio'>",
            ));
        }
        match c.target_type.as_deref() {
            None | Some("serial") => {
                let port = c.target_port.unwrap_or(0);
                if !serials
                    .iter()
                    .chain(&pci)
                    .chain(&usb)
                    .any(|(p, _, _)| *p == port)
                {
                    serials.push((port, added, c));
                    added += 1;
                }
            }
            Some("virtio") if c.address.is_some() && c.virtio_serial().is_none() => {
                return Err(unsupported(
                    "a virtio console sits on a virtio-serial port: its address is of type 'virtio-serial'",
                ));
            }
            Some("virtio") => virtio.push(c),
            Some(other) => {
                return Err(unsupported(format!(
                    "console target type '{other}' is not supported: use serial or virtio"
                )));
            }
        }
    }
    for (k, (port, n, s)) in serials.iter().enumerate() {
        if *port >= MAX_ISA_SERIAL {
            return Err(invalid(format!(
                "serial port {port} does not exist: a PC has ports 0 to {}",
                MAX_ISA_SERIAL - 1
            )));
        }
        if serials[..k].iter().any(|(p, _, _)| p == port) {
            return Err(invalid(format!("serial port {port} is used twice")));
        }
        let dev_id = serial_id(s, *n);
        let id = format!("char{dev_id}");
        let backend = chardev(cx, &s.source, &id)?;
        cx.arg("-chardev", logged(backend, s, log.as_deref())?.build());
        let o = Opts::new("isa-serial")
            .set("chardev", &id)
            .set("id", &dev_id)
            .set("index", port);
        cx.arg("-device", isa(o, s).build());
    }
    for (n, s) in debugcons {
        let dev_id = serial_id(s, n);
        let id = format!("char{dev_id}");
        let backend = chardev(cx, &s.source, &id)?;
        cx.arg("-chardev", logged(backend, s, None)?.build());
        if s.isa().is_some_and(|a| a.irq.is_some()) {
            return Err(unsupported(
                "a debug console (isa-debug) has no interrupt: remove irq from its address",
            ));
        }
        let o = Opts::new("isa-debugcon")
            .set("chardev", &id)
            .set("id", &dev_id);
        cx.arg("-device", isa(o, s).build());
    }
    // PCI serial ports keep the manager's console log, as ISA ones do.
    for (_, n, s) in pci {
        let dev_id = serial_id(s, n);
        let id = format!("char{dev_id}");
        let backend = chardev(cx, &s.source, &id)?;
        cx.arg("-chardev", logged(backend, s, log.as_deref())?.build());
        let written = s.pci().map(crate::model::Address::Pci);
        let placed = cx
            .pci
            .place(&format!("serial {n}"), written.as_ref(), Dev::Serial(n))?;
        let o = Opts::new("pci-serial")
            .set("chardev", &id)
            .set("id", &dev_id)
            .extend(placed.opts);
        cx.arg("-device", o.build());
    }
    // USB serial ports (QEMU's usb-serial, an FTDI adapter) on the port
    // the USB bus gives them, with the manager's console log too.
    for (_, n, s) in usb {
        let dev_id = serial_id(s, n);
        let id = format!("char{dev_id}");
        let backend = chardev(cx, &s.source, &id)?;
        cx.arg("-chardev", logged(backend, s, log.as_deref())?.build());
        let port = cx.usb.port_of(super::usb::UsbDev::Serial(n))?;
        let o = Opts::new("usb-serial")
            .set("chardev", &id)
            .set("id", &dev_id)
            .extend(port);
        cx.arg("-device", o.build());
    }
    for (n, p) in d.parallels.iter().enumerate() {
        if p.target_type.is_some() {
            return Err(unsupported("a parallel port takes no target type"));
        }
        let port = p.target_port.unwrap_or(n as u32);
        if port >= MAX_ISA_PARALLEL {
            return Err(invalid(format!(
                "parallel port {port} does not exist: a PC has ports 0 to {}",
                MAX_ISA_PARALLEL - 1
            )));
        }
        if d.parallels[..n]
            .iter()
            .enumerate()
            .any(|(m, q)| q.target_port.unwrap_or(m as u32) == port)
        {
            return Err(invalid(format!("parallel port {port} is used twice")));
        }
        let id = format!("charparallel{n}");
        // A host device is a parallel port here (QEMU's `parport`), not
        // a terminal.
        let backend = match &p.source {
            CharSource::Dev { path } => Opts::new("parport").set("id", &id).set_user(
                "path",
                "parallel port device path",
                path,
            )?,
            other => chardev(cx, other, &id)?,
        };
        // Its own <log> only: the manager's console log is the serial
        // ports'.
        cx.arg("-chardev", logged(backend, p, None)?.build());
        let o = Opts::new("isa-parallel")
            .set("chardev", &id)
            .set("id", format!("parallel{n}"))
            .set("index", port);
        cx.arg("-device", isa(o, p).build());
    }
    for (k, c) in virtio.iter().enumerate() {
        let dev_id = console_id(c, k);
        let id = format!("char{dev_id}");
        let backend = chardev(cx, &c.source, &id)?;
        cx.arg("-chardev", logged(backend, c, log.as_deref())?.build());
        let (ctl, nr) = cx.ctrls.serial_ports.consoles[k];
        let o = Opts::new("virtconsole")
            .set("bus", format!("virtio-serial{ctl}.0"))
            .set("nr", nr)
            .set("chardev", &id)
            .set("id", &dev_id);
        cx.arg("-device", o.build());
    }
    let def = cx.def;
    for (k, c) in def.devices.channels.iter().enumerate() {
        let id = format!("charchannel{k}");
        let (name, at) = match (&c.target, cx.ctrls.serial_ports.channels[k]) {
            (ChannelTarget::Virtio { name }, Some(at)) => (name, at),
            (ChannelTarget::Guestfwd { .. }, _) => {
                // The forward itself is a rule of the user-mode network's
                // backend (see `net::guestfwds`).
                if super::net::guestfwd_interface(def).is_none() {
                    return Err(unsupported(
                        "a guestfwd <channel> forwards from QEMU's user-mode network: the domain needs an <interface type='user'> (without a passt backend)",
                    ));
                }
                let backend = chardev(cx, &c.source, &id)?;
                cx.arg("-chardev", backend.build());
                continue;
            }
            (ChannelTarget::Virtio { .. }, None) => {
                return Err(invalid("a virtio channel has no virtio-serial port"));
            }
        };
        let source = match (&c.source, unnamed_socket(c, at, &cx.paths.runtime_dir)) {
            // A socket made up here is QEMU's to listen on (libvirt:
            // no path implies mode='bind').
            (CharSource::Unix { .. }, Some(path)) => CharSource::Unix {
                path: Some({
                    let text = path
                        .to_str()
                        .ok_or_else(|| invalid("the runtime directory is not UTF-8"))?;
                    if text.len() > 107 {
                        return Err(invalid(format!(
                            "the socket of channel '{}' would be {text}, {} bytes, more than a UNIX socket address holds (107): give the channel a shorter name or the manager a shorter state directory",
                            name.as_deref().unwrap_or("(unnamed)"),
                            text.len()
                        )));
                    }
                    text.to_string()
                }),
                listen: true,
                reconnect: None,
            },
            (other, _) => other.clone(),
        };
        let o = match &source {
            CharSource::SpiceVmc => Opts::new("spicevmc").set("id", &id).set("name", "vdagent"),
            other => chardev(cx, other, &id)?,
        };
        cx.arg("-chardev", o.build());
        let (ctl, nr) = at;
        let mut o = Opts::new("virtserialport")
            .set("bus", format!("virtio-serial{ctl}.0"))
            .set("nr", nr)
            .set("chardev", &id)
            .set("id", super::hotplug::channel_id(k));
        if let Some(n) = name {
            o = o.set_user("name", "channel target name", n)?;
        }
        cx.arg("-device", o.build());
    }
    Ok(())
}

/// The socket of a UNIX channel written without a path: in the domain's
/// runtime directory, named after the channel, or after its virtio-serial
/// controller, bus and port when it has no name (as libvirt names them in
/// its channel directory). `None` for every other channel.
pub fn unnamed_socket(c: &Channel, at: (u32, u32), runtime_dir: &Path) -> Option<PathBuf> {
    let CharSource::Unix { path: None, .. } = c.source else {
        return None;
    };
    let ChannelTarget::Virtio { name } = &c.target else {
        return None;
    };
    let file = match name {
        // Short, so that the socket path fits in a UNIX address; the
        // prefix keeps a channel's name from meeting QEMU's own sockets.
        Some(name) => format!("c.{name}"),
        None => format!("c.vioser-{:02}-00-{:02}", at.0, at.1),
    };
    Some(runtime_dir.join(file))
}

/// A serial port's or console's backend `o` with the file that keeps its
/// output: its own `<log>`, else the manager's console log `log`.
fn logged(o: Opts, dev: &CharDevice, log: Option<&str>) -> Result<Opts, Error> {
    Ok(match &dev.log {
        Some(l) => o
            .set_user("logfile", "character device log file", &l.file)?
            .maybe_switch("logappend", l.append),
        None => match log {
            Some(log) => o.set("logfile", log).switch("logappend", true),
            None => o,
        },
    })
}

/// An ISA device's written I/O base and interrupt.
fn isa(o: Opts, c: &CharDevice) -> Opts {
    match c.isa() {
        Some(a) => o.maybe("iobase", a.iobase).maybe("irq", a.irq),
        None => o,
    }
}

/// The TLS credentials of TCP character device `id` (libvirt's
/// `obj<alias>_tls0`), on the manager's certificates for character
/// devices ([`super::RuntimePaths::chardev_tls_dir`]): the server's end
/// when QEMU listens, the client's when it connects.
fn tls_creds(cx: &mut Ctx<'_>, id: &str, listen: bool) -> Result<String, Error> {
    let Some(dir) = cx.paths.chardev_tls_dir.clone() else {
        return Err(unsupported(format!(
            "character device '{id}': TLS (tls='yes') needs the directory of the character devices' TLS certificates, and none is configured"
        )));
    };
    let creds = format!("obj{id}_tls0");
    let object = super::opts::tls_creds_x509(
        &creds,
        &dir,
        "character device TLS certificates directory",
        listen,
    )?;
    cx.arg("-object", object.build());
    Ok(creds)
}

/// The `-chardev` of a backend.
pub(super) fn chardev(cx: &mut Ctx<'_>, source: &CharSource, id: &str) -> Result<Opts, Error> {
    Ok(match source {
        CharSource::Pty { .. } => Opts::new("pty").set("id", id),
        CharSource::File { path, append } => Opts::new("file")
            .set("id", id)
            .set_user("path", "character device file path", path)?
            .maybe_switch("append", *append),
        CharSource::Unix {
            path,
            listen,
            reconnect,
        } => {
            let path = path
                .as_deref()
                .ok_or_else(|| invalid("a UNIX character device needs a socket path"))?;
            let o = Opts::new("socket").set("id", id).set_user(
                "path",
                "character device socket path",
                path,
            )?;
            if *listen {
                o.switch("server", true).switch("wait", false)
            } else {
                o.maybe("reconnect", *reconnect)
            }
        }
        CharSource::Tcp {
            host,
            service,
            listen,
            telnet,
            reconnect,
            tls,
        } => {
            let mut o = Opts::new("socket").set("id", id);
            if let Some(h) = host {
                o = o.set_user("host", "character device TCP host", h)?;
            }
            o = o.set("port", service);
            if *tls == Some(true) {
                o = o.set("tls-creds", tls_creds(cx, id, *listen)?);
            }
            if *telnet {
                o = o.switch("telnet", true);
            }
            if *listen {
                o.switch("server", true).switch("wait", false)
            } else {
                o.maybe("reconnect", *reconnect)
            }
        }
        CharSource::Dev { path } => {
            Opts::new("serial")
                .set("id", id)
                .set_user("path", "character device path", path)?
        }
        CharSource::Udp {
            bind_host,
            bind_service,
            host,
            service,
        } => {
            // As libvirt: QEMU's defaults (localhost, any port) are
            // written out.
            let o = Opts::new("udp")
                .set("id", id)
                .set_user("host", "UDP host", host.as_deref().unwrap_or("localhost"))?
                .set("port", service);
            let o = match bind_host {
                Some(h) => o.set_user("localaddr", "UDP bind address", h)?,
                None => o,
            };
            o.set("localport", bind_service.unwrap_or(0))
        }
        CharSource::Null => Opts::new("null").set("id", id),
        // QEMU opens PATH.in and PATH.out, else PATH both ways.
        CharSource::Pipe { path } => {
            Opts::new("pipe")
                .set("id", id)
                .set_user("path", "character device pipe path", path)?
        }
        CharSource::Vc => Opts::new("vc").set("id", id),
        CharSource::QemuVdagent { clipboard, mouse } => Opts::new("qemu-vdagent")
            .set("id", id)
            .set("name", "vdagent")
            .maybe_switch("clipboard", *clipboard)
            .maybe_switch("mouse", mouse.map(|m| m == SpiceMouseMode::Client)),
        CharSource::SpicePort { channel } => {
            let spice = cx
                .def
                .devices
                .graphics
                .iter()
                .any(|g| g.kind == crate::model::GraphicsType::Spice);
            if !spice {
                return Err(unsupported(format!(
                    "the spiceport channel '{channel}' is a port of a SPICE session: the domain needs <graphics type='spice'>"
                )));
            }
            Opts::new("spiceport")
                .set("id", id)
                .set_user("name", "spiceport channel", channel)?
        }
        CharSource::SpiceVmc => {
            return Err(unsupported(
                "a spicevmc character device is only supported as a channel, a smartcard or USB redirection",
            ));
        }
    })
}
