//! Serial ports, consoles and channels: a `-chardev` backend each, plus
//! an `isa-serial`, `virtconsole` or `virtserialport` device.
//!
//! libvirt semantics: a console whose target is `serial` (or not written)
//! is the serial port with the same port number, not a second device; with
//! no such serial port, the console creates it. Virtio consoles and
//! channels get virtio-serial ports as libvirt gives them: written ones
//! first, then consoles from port 0, then channels from port 1, each on
//! the first controller with a free port.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use super::opts::Opts;
use super::{Ctx, invalid, unsupported};
use crate::driver::error::Error;
use crate::model::{Address, Channel, ChannelTarget, CharDevice, CharSource, DomainDef};

/// ISA serial ports the PC has (COM1..COM4).
const MAX_ISA_SERIAL: u32 = 4;

/// Emits serial ports, then virtio consoles.
pub fn emit(cx: &mut Ctx<'_>) -> Result<(), Error> {
    let d = &cx.def.devices;
    let log = match &cx.paths.serial_log {
        Some(p) => Some(super::runtime_path("serial log", p)?),
        None => None,
    };
    let mut serials: Vec<(u32, &CharDevice)> = Vec::new();
    for (i, s) in d.serials.iter().enumerate() {
        match s.target_type.as_deref() {
            None | Some("isa-serial") | Some("serial") => {}
            Some(other) => {
                return Err(unsupported(format!(
                    "serial target type '{other}' is not supported: use isa-serial"
                )));
            }
        }
        serials.push((s.target_port.unwrap_or(i as u32), s));
    }
    let mut virtio = Vec::new();
    for c in &d.consoles {
        match c.target_type.as_deref() {
            None | Some("serial") => {
                let port = c.target_port.unwrap_or(0);
                if !serials.iter().any(|(p, _)| *p == port) {
                    serials.push((port, c));
                }
            }
            Some("virtio") => virtio.push(c),
            Some(other) => {
                return Err(unsupported(format!(
                    "console target type '{other}' is not supported: use serial or virtio"
                )));
            }
        }
    }
    for (n, (port, s)) in serials.iter().enumerate() {
        if *port >= MAX_ISA_SERIAL {
            return Err(invalid(format!(
                "serial port {port} does not exist: a PC has ports 0 to {}",
                MAX_ISA_SERIAL - 1
            )));
        }
        if serials[..n].iter().any(|(p, _)| p == port) {
            return Err(invalid(format!("serial port {port} is used twice")));
        }
        let id = format!("charserial{n}");
        cx.arg("-chardev", chardev(&s.source, &id, log.as_deref())?.build());
        let o = Opts::new("isa-serial")
            .set("chardev", &id)
            .set("id", format!("serial{n}"))
            .set("index", port);
        cx.arg("-device", o.build());
    }
    let ports = virtio_serial_ports(cx, &virtio)?;
    for (k, c) in virtio.iter().enumerate() {
        let id = format!("charconsole{k}");
        cx.arg("-chardev", chardev(&c.source, &id, log.as_deref())?.build());
        let (ctl, nr) = ports.consoles[k];
        let o = Opts::new("virtconsole")
            .set("bus", format!("virtio-serial{ctl}.0"))
            .set("nr", nr)
            .set("chardev", &id)
            .set("id", format!("console{k}"));
        cx.arg("-device", o.build());
    }
    let def = cx.def;
    for (k, c) in def.devices.channels.iter().enumerate() {
        let id = format!("charchannel{k}");
        let ChannelTarget::Virtio { name } = &c.target;
        let source = match (&c.source, name) {
            (CharSource::Unix { path: None, listen }, Some(name)) => CharSource::Unix {
                path: Some(
                    channel_socket(&cx.paths.runtime_dir, name)
                        .to_str()
                        .ok_or_else(|| invalid("the runtime directory is not UTF-8"))?
                        .to_string(),
                ),
                listen: *listen,
            },
            (CharSource::Unix { path: None, .. }, None) => {
                return Err(invalid(
                    "a UNIX channel without a source path needs a target name",
                ));
            }
            (other, _) => other.clone(),
        };
        let o = match &source {
            CharSource::SpiceVmc => Opts::new("spicevmc").set("id", &id).set("name", "vdagent"),
            other => chardev(other, &id, None)?,
        };
        cx.arg("-chardev", o.build());
        let (ctl, nr) = ports.channels[k];
        let mut o = Opts::new("virtserialport")
            .set("bus", format!("virtio-serial{ctl}.0"))
            .set("nr", nr)
            .set("chardev", &id)
            .set("id", format!("channel{k}"));
        if let Some(n) = name {
            o = o.set_user("name", "channel target name", n)?;
        }
        cx.arg("-device", o.build());
    }
    Ok(())
}

/// The socket of a UNIX channel written without a path: in the domain's
/// runtime directory, named after the channel (as libvirt keeps them in
/// its channel directory).
pub fn channel_socket(runtime_dir: &std::path::Path, name: &str) -> PathBuf {
    runtime_dir.join(format!("channel.{name}"))
}

/// The virtio-serial controller and port of each virtio console and
/// channel.
struct SerialPorts {
    consoles: Vec<(u32, u32)>,
    channels: Vec<(u32, u32)>,
}

fn virtio_serial_ports(cx: &Ctx<'_>, consoles: &[&CharDevice]) -> Result<SerialPorts, Error> {
    let def: &DomainDef = cx.def;
    let controllers = cx.ctrls.virtio_serial_ports();
    let mut used: BTreeMap<u32, BTreeSet<u32>> = BTreeMap::new();
    let channel_addr = |c: &Channel| match c.address {
        Some(Address::VirtioSerial(a)) => Some(a),
        _ => None,
    };
    for c in &def.devices.channels {
        if let Some(a) = channel_addr(c) {
            let max = *controllers.get(&a.controller).ok_or_else(|| {
                invalid(format!(
                    "a channel is on virtio-serial controller {}, which does not exist",
                    a.controller
                ))
            })?;
            if a.bus != 0 {
                return Err(unsupported("virtio-serial controllers have only bus 0"));
            }
            if a.port != 0 {
                if a.port >= max {
                    return Err(invalid(format!(
                        "virtio-serial port {} is past the {max} ports of controller {}",
                        a.port, a.controller
                    )));
                }
                if !used.entry(a.controller).or_default().insert(a.port) {
                    return Err(invalid(format!(
                        "virtio serial port {} on controller {} is used twice",
                        a.port, a.controller
                    )));
                }
            }
        }
    }
    let mut next = |want: Option<u32>, zero: bool| -> Result<(u32, u32), Error> {
        for (ctl, max) in &controllers {
            if want.is_some_and(|w| w != *ctl) {
                continue;
            }
            let taken = used.entry(*ctl).or_default();
            let first = if zero { 0 } else { 1 };
            if let Some(p) = (first..*max).find(|p| !taken.contains(p)) {
                taken.insert(p);
                return Ok((*ctl, p));
            }
        }
        Err(unsupported(
            "no free virtio-serial port: add ports='N' or another virtio-serial controller",
        ))
    };
    let mut out = SerialPorts {
        consoles: Vec::new(),
        channels: Vec::new(),
    };
    for _ in consoles {
        out.consoles.push(next(None, true)?);
    }
    for c in &def.devices.channels {
        let port = match channel_addr(c) {
            Some(a) if a.port != 0 => (a.controller, a.port),
            Some(a) => next(Some(a.controller), false)?,
            None => next(None, false)?,
        };
        out.channels.push(port);
    }
    Ok(out)
}

/// The `-chardev` of a backend; `log` keeps a copy of the output.
fn chardev(source: &CharSource, id: &str, log: Option<&str>) -> Result<Opts, Error> {
    let o = match source {
        CharSource::Pty { .. } => Opts::new("pty").set("id", id),
        CharSource::File { path, append } => Opts::new("file")
            .set("id", id)
            .set_user("path", "character device file path", path)?
            .maybe_switch("append", *append),
        CharSource::Unix { path, listen } => {
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
                o
            }
        }
        CharSource::Null => Opts::new("null").set("id", id),
        CharSource::SpiceVmc => {
            return Err(unsupported(
                "a spicevmc character device is only supported as a channel or USB redirection",
            ));
        }
    };
    Ok(match log {
        Some(log) => o.set("logfile", log).switch("logappend", true),
        None => o,
    })
}
