//! Serial ports and consoles: a `-chardev` backend each, plus an
//! `isa-serial` or `virtconsole` device.
//!
//! libvirt semantics: a console whose target is `serial` (or not written)
//! is the serial port with the same port number, not a second device; with
//! no such serial port, the console creates it.

use super::opts::Opts;
use super::{Ctx, invalid, unsupported};
use crate::driver::error::Error;
use crate::model::{CharDevice, CharSource};

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
    if !virtio.is_empty() {
        let bus = cx
            .ctrls
            .virtio_serial_bus()
            .expect("the plan adds a virtio-serial controller");
        for (k, c) in virtio.iter().enumerate() {
            if c.target_port.is_some_and(|p| p != k as u32) {
                return Err(unsupported(
                    "virtio console <target port> must follow document order (0, 1, ...)",
                ));
            }
            let id = format!("charconsole{k}");
            cx.arg("-chardev", chardev(&c.source, &id, log.as_deref())?.build());
            let o = Opts::new("virtconsole")
                .set("chardev", &id)
                .set("id", format!("console{k}"))
                .set("bus", &bus);
            cx.arg("-device", o.build());
        }
    }
    Ok(())
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
    };
    Ok(match log {
        Some(log) => o.set("logfile", log).switch("logappend", true),
        None => o,
    })
}
