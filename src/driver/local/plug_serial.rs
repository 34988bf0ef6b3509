//! Live hot-plug of serial ports, as libvirt's qemuDomainAttachChrDevice
//! and qemuDomainRemoveChrDevice do for them: a `pci-serial` port (a
//! 16550 UART on a PCI slot) or a `usb-serial` one (an FTDI adapter on a
//! USB port) is its chardev (`chardev-add`, any backend a start makes,
//! with the manager's console log) and its device on a free hot-pluggable
//! slot or USB port, made exactly as a start makes them; out again by
//! `device_del` and `chardev-remove`. An ISA serial port is refused by
//! name (ISA has no hot-plug: QEMU refuses it too).
//!
//! A start numbers the serial ports' QEMU ids in order (`serial0`,
//! `charserial0`, ...); a port plugged in takes a number QEMU has free
//! and keeps it with the run (and in the status file), so that an unplug
//! in the middle and a manager restarted in between take out the right
//! one. A console of target type serial is the serial port of its port
//! number: unplugging that port takes the console with it (libvirt's
//! compatibility console), and a console that makes a port of its own
//! (no `<serial>` has its number) keeps the ports from being plugged in
//! or out, as its QEMU id is numbered after theirs.

use super::driver::{Core, emulator_of};
use super::hotplug::{Found, hot_pluggable_slot};
use super::numbered::Numbered;
use super::plug_chr::Terminal;
use super::runtime::Running;
use crate::driver::Domain;
use crate::error::{Error, ErrorCode, Result};
use crate::model::{CharDevice, CharSource, DomainDef};
use crate::qemu::argv::{PluggedDevice, serial_id};

impl Core {
    /// Plugs the serial port `c` into the running domain `run`; `given`:
    /// whether its XML gave a target port (else it takes the lowest one
    /// no serial port or console has).
    pub(crate) fn plug_serial(
        &self,
        dom: &Domain,
        run: &Running,
        c: &CharDevice,
        given: bool,
    ) -> Result<()> {
        let pci = hot_pluggable(c, "attach")? == "pci-serial";
        let live = run.live_def();
        ports_numbered_in_order(&live, dom, "attach")?;
        let mut c = c.clone();
        if !given {
            let taken = |p: u32| port_numbers(&live).contains(&p);
            c.target_port = Some((0..).find(|p| !taken(*p)).expect("a free port"));
        }
        if find_serial(&live, &c, true)?.is_some() {
            return Err(Error::new(
                ErrorCode::OperationInvalid,
                "chardev already exists",
            ));
        }
        let port = c.target_port.unwrap_or(0);
        if port_numbers(&live).contains(&port) {
            return Err(Error::new(
                ErrorCode::OperationInvalid,
                format!("serial port {port} is taken: give the port another <target port=...>"),
            ));
        }
        let what = format!("serial port {port}");
        let mut new = live.clone();
        new.devices.serials.push(c);
        let i = new.devices.serials.len() - 1;
        let caps = self.caps(&emulator_of(&live))?;
        let addressed = hot_pluggable_slot(&live, &new, &caps, &what, pci)?;
        let plugged = addressed.devices.serials[i].clone();
        let serial = Terminal {
            device: PluggedDevice::Serial(i),
            kind: Numbered::Serial,
            prefix: "serial",
            made: i as u32,
            list: |p| &mut p.serials,
        };
        self.plug_terminal(dom, run, (&caps, &addressed), serial, plugged, &what)
    }

    /// Unplugs the serial port `c` names (its source and target type, and
    /// its port when `given`) from the running domain.
    pub(crate) fn unplug_serial(
        &self,
        dom: &Domain,
        run: &Running,
        c: &CharDevice,
        given: bool,
    ) -> Result<()> {
        hot_pluggable(c, "detach")?;
        let live = run.live_def();
        let index = find_serial(&live, c, given)?.ok_or_else(|| {
            Error::new(
                ErrorCode::InvalidArgument,
                "chr type 'serial' device not present in domain configuration",
            )
        })?;
        self.unplug(dom, run, Found::Serial(index))
    }
}

/// The target type of a serial port that plugs in and out
/// (`pci-serial`, `usb-serial`); another is refused.
pub(super) fn hot_pluggable<'a>(c: &'a CharDevice, verb: &str) -> Result<&'a str> {
    let target = c.target_type.as_deref().unwrap_or("isa-serial");
    if matches!(target, "pci-serial" | "usb-serial") {
        return Ok(target);
    }
    Err(Error::new(
        ErrorCode::ConfigUnsupported,
        format!(
            "a serial port of target type '{target}' cannot be hot plugged: only pci-serial and usb-serial ports {verb} live (an ISA bus has no hot-plug); {verb} it with --config, and it changes with the next start"
        ),
    ))
}

/// The port number of each serial port of `def` and of each serial
/// console (the port it is).
fn port_numbers(def: &DomainDef) -> Vec<u32> {
    let d = &def.devices;
    let serials = d
        .serials
        .iter()
        .enumerate()
        .map(|(i, s)| s.target_port.unwrap_or(i as u32));
    let consoles = d
        .consoles
        .iter()
        .filter(|c| matches!(c.target_type.as_deref(), None | Some("serial")))
        .map(|c| c.target_port.unwrap_or(0));
    serials.chain(consoles).collect()
}

/// Refuses a plug or unplug while a console makes a serial port of its
/// own (its QEMU id is numbered after the ports', so it would change).
pub(super) fn ports_numbered_in_order(def: &DomainDef, dom: &Domain, verb: &str) -> Result<()> {
    let d = &def.devices;
    let own = d.consoles.iter().find(|c| {
        let port = c.target_port.unwrap_or(0);
        matches!(c.target_type.as_deref(), None | Some("serial"))
            && !d
                .serials
                .iter()
                .enumerate()
                .any(|(i, s)| s.target_port.unwrap_or(i as u32) == port)
    });
    match own {
        None => Ok(()),
        Some(c) => Err(Error::new(
            ErrorCode::OperationInvalid,
            format!(
                "cannot {verb} a serial port {} domain '{}': its console on serial port {} has no <serial> of its own, and a running domain's serial ports are not renumbered; give the console a <serial> with that port in the definition and restart the domain",
                if verb == "attach" { "to" } else { "from" },
                dom.name,
                c.target_port.unwrap_or(0)
            ),
        )),
    }
}

/// The position of the serial port of `live` that `c` names: the same
/// source (a terminal's path is the running domain's) and target type
/// (ISA when not written),
/// and the same port when `given`; more than one without a port is
/// refused, naming how to choose.
fn find_serial(live: &DomainDef, c: &CharDevice, given: bool) -> Result<Option<usize>> {
    let found: Vec<usize> = (0..live.devices.serials.len())
        .filter(|&i| {
            let o = &live.devices.serials[i];
            let source = match (&c.source, &o.source) {
                (CharSource::Pty { .. }, CharSource::Pty { .. }) => true,
                (a, b) => a == b,
            };
            let port = o.target_port.unwrap_or(i as u32);
            // A port without a target type is an ISA one.
            let target = |s: &CharDevice| s.target_type.clone().unwrap_or("isa-serial".into());
            source && target(o) == target(c) && (!given || c.target_port == Some(port))
        })
        .collect();
    match found.as_slice() {
        [] => Ok(None),
        [i] => Ok(Some(*i)),
        _ => Err(Error::new(
            ErrorCode::InvalidArgument,
            format!(
                "{} serial ports of this source and type are in the running domain: name one by its <target port=...>",
                found.len()
            ),
        )),
    }
}

/// The QEMU id of serial port `index` of the run: its user alias, else
/// `serialN`, its number kept with the run.
pub(super) fn live_serial_id(run: &Running, index: usize) -> String {
    let live = run.live_def();
    serial_id(
        &live.devices.serials[index],
        run.number(Numbered::Serial, index) as usize,
    )
}
