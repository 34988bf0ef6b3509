//! USB: the controllers (an EHCI master with its UHCI companions, or a
//! single controller per index), the hubs, and the port of every USB
//! device, given out as libvirt does.
//!
//! libvirt's rules (qemuDomainAssignUSBAddresses): with more USB devices
//! than the controllers have ports, hubs are added until they fit; the
//! written addresses are reserved first; then hubs without an address,
//! then the other devices in the order hubs, disks, smartcard readers,
//! inputs, sound cards, redirected devices each take the first free
//! port, searching the controllers by index and, on a full controller,
//! the hubs plugged into it. UHCI companions add no ports of their own.

use std::collections::{BTreeMap, HashMap};

use super::opts::Opts;
use super::{Ctx, Family, invalid, unsupported};
use crate::error::Error;
use crate::model::{
    Address, Controller, ControllerType, DiskBus, DomainDef, InputBus, SoundModel, USB_PORT_DEPTH,
    UsbAddress, UsbPort,
};

/// Ports of a USB hub.
const HUB_PORTS: usize = 8;

/// A device that sits on a USB port, by its place in the definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UsbDev {
    /// `<hub>` number N, or a hub added for want of ports (numbered after
    /// the written ones).
    Hub(usize),
    /// `<disk>` number N.
    Disk(usize),
    /// `<input>` number N.
    Input(usize),
    /// `<sound>` number N.
    Sound(usize),
    /// `<redirdev>` number N.
    Redir(usize),
    /// CCID reader number N of [`super::smartcard::ccid_readers`].
    Ccid(usize),
    /// `<hostdev type='usb'>` number N (counted among all hostdevs).
    Host(usize),
    /// `<serial>` number N (a `usb-serial` one).
    Serial(usize),
}

/// The ports of one controller or hub: which are taken, and the hubs
/// plugged into them.
#[derive(Debug, Default)]
struct Ports {
    used: Vec<bool>,
    hubs: Vec<Option<Ports>>,
}

impl Ports {
    fn new(n: usize) -> Ports {
        Ports {
            used: vec![false; n],
            hubs: (0..n).map(|_| None).collect(),
        }
    }

    /// The first free port, here or on the hubs plugged in here, as a
    /// path from this level.
    fn find_free(&self, level: usize) -> Option<Vec<u32>> {
        if let Some(i) = self.used.iter().position(|u| !u) {
            return Some(vec![i as u32 + 1]);
        }
        if level >= USB_PORT_DEPTH - 1 {
            return None;
        }
        for (i, hub) in self.hubs.iter().enumerate() {
            if let Some(h) = hub
                && let Some(mut rest) = h.find_free(level + 1)
            {
                rest.insert(0, i as u32 + 1);
                return Some(rest);
            }
        }
        None
    }

    /// The ports holding the last element of `path`.
    fn parent_of(&mut self, path: &[u32]) -> Result<&mut Ports, String> {
        let mut at = self;
        for (depth, p) in path[..path.len() - 1].iter().enumerate() {
            let i = *p as usize - 1;
            let next = at.hubs.get_mut(i).and_then(Option::as_mut).ok_or_else(|| {
                format!(
                    "there is no USB hub at port {}",
                    path[..=depth]
                        .iter()
                        .map(u32::to_string)
                        .collect::<Vec<_>>()
                        .join(".")
                )
            })?;
            at = next;
        }
        Ok(at)
    }
}

/// The USB controllers and the port of every USB device.
#[derive(Debug, Default)]
pub struct Usb {
    /// Per index: the master first, then its companions.
    pub(super) groups: BTreeMap<u32, Vec<Controller>>,
    /// The bus and port of each device.
    ports: HashMap<UsbDev, (u32, UsbPort)>,
    /// The hubs to emit: written ones, then added ones.
    hubs: usize,
}

/// A UHCI companion's function on its master's slot and default first
/// port.
pub(super) type Companion = Option<(u32, u32)>;

/// A USB controller model: the QEMU device and, for a UHCI companion,
/// where it sits.
pub(super) fn usb_device(model: &str) -> Result<(&'static str, Companion), Error> {
    Ok(match model {
        "piix3-uhci" => ("piix3-usb-uhci", None),
        "piix4-uhci" => ("piix4-usb-uhci", None),
        "ehci" => ("usb-ehci", None),
        "ich9-ehci1" => ("ich9-usb-ehci1", None),
        "ich9-uhci1" => ("ich9-usb-uhci1", Some((0, 0))),
        "ich9-uhci2" => ("ich9-usb-uhci2", Some((1, 2))),
        "ich9-uhci3" => ("ich9-usb-uhci3", Some((2, 4))),
        "vt82c686b-uhci" => ("vt82c686b-usb-uhci", None),
        "pci-ohci" => ("pci-ohci", None),
        "nec-xhci" => ("nec-usb-xhci", None),
        "qemu-xhci" => ("qemu-xhci", None),
        other => {
            return Err(unsupported(format!(
                "USB controller model '{other}' is not supported"
            )));
        }
    })
}

/// The ports a controller offers (libvirt's count); companions add none.
fn port_count(c: &Controller) -> usize {
    match c.model.as_deref().unwrap_or_default() {
        "piix3-uhci" | "piix4-uhci" | "vt82c686b-uhci" => 2,
        "ehci" | "ich9-ehci1" => 6,
        "pci-ohci" => 3,
        "nec-xhci" | "qemu-xhci" => c.ports.map(|p| p as usize).unwrap_or(4),
        _ => 0,
    }
}

/// Every USB device of the definition, hubs first, with its address.
fn devices(def: &DomainDef) -> Vec<(UsbDev, Option<Address>)> {
    let d = &def.devices;
    let mut out = Vec::new();
    for (i, h) in d.hubs.iter().enumerate() {
        out.push((UsbDev::Hub(i), h.address));
    }
    // libvirt's order (virDomainUSBDeviceDefForeach): host devices
    // right after the hubs.
    for (i, x) in d.hostdevs.iter().enumerate() {
        if matches!(x.source, crate::model::HostdevSource::Usb(_)) {
            out.push((UsbDev::Host(i), x.address));
        }
    }
    for (i, x) in d.disks.iter().enumerate() {
        if x.effective_bus() == Some(DiskBus::Usb) {
            out.push((UsbDev::Disk(i), x.address));
        }
    }
    // libvirt's order: the smartcard readers after the disks.
    for (i, (_, address)) in super::smartcard::ccid_readers(def).into_iter().enumerate() {
        out.push((UsbDev::Ccid(i), address));
    }
    for (i, x) in d.inputs.iter().enumerate() {
        if x.effective_bus() == InputBus::Usb {
            out.push((UsbDev::Input(i), x.address));
        }
    }
    // libvirt's order: the USB serial ports after the inputs.
    for (i, s) in d.serials.iter().enumerate() {
        if s.target_type.as_deref() == Some("usb-serial") {
            let address = match s.address {
                Some(crate::model::CharAddress::Usb(u)) => Some(Address::Usb(u)),
                _ => None,
            };
            out.push((UsbDev::Serial(i), address));
        }
    }
    for (i, x) in d.sounds.iter().enumerate() {
        if x.model == SoundModel::Usb {
            out.push((UsbDev::Sound(i), x.address));
        }
    }
    for (i, x) in d.redirdevs.iter().enumerate() {
        out.push((UsbDev::Redir(i), x.address));
    }
    out
}

fn name(d: UsbDev) -> String {
    match d {
        UsbDev::Hub(i) => format!("USB hub {i}"),
        UsbDev::Disk(i) => format!("USB disk {i}"),
        UsbDev::Input(i) => format!("USB input {i}"),
        UsbDev::Sound(i) => format!("USB sound device {i}"),
        UsbDev::Redir(i) => format!("USB redirection device {i}"),
        UsbDev::Ccid(i) => format!("CCID smartcard reader {i}"),
        UsbDev::Host(i) => format!("USB host device {i}"),
        UsbDev::Serial(i) => format!("USB serial port {i}"),
    }
}

impl Usb {
    /// Groups the controllers (adding the machine's default one when none
    /// is written, as libvirt does), adds hubs where ports run out, and
    /// gives every USB device its port.
    pub fn new(def: &DomainDef, family: Family) -> Result<Usb, Error> {
        let declared: Vec<&Controller> = def
            .devices
            .controllers
            .iter()
            .filter(|c| c.kind == ControllerType::Usb)
            .collect();
        let devs = devices(def);
        let none = declared.iter().any(|c| c.model.as_deref() == Some("none"));
        if none {
            if declared.len() > 1 {
                return Err(invalid(
                    "a USB controller with model='none' cannot be combined with other USB controllers",
                ));
            }
            if let Some((d, _)) = devs.first() {
                return Err(unsupported(format!(
                    "Can't add the {}: the USB bus is disabled (<controller type='usb' model='none'/>)",
                    name(*d)
                )));
            }
            return Ok(Usb::default());
        }
        let default_model = match family {
            Family::I440fx => "piix3-uhci",
            Family::Q35 => "qemu-xhci",
        };
        let mut usb = Usb::default();
        if declared.is_empty() {
            usb.groups.insert(
                0,
                vec![Controller::new(
                    ControllerType::Usb,
                    0,
                    Some(default_model.to_string()),
                )],
            );
        }
        for c in declared {
            let mut c = c.clone();
            c.model.get_or_insert_with(|| default_model.to_string());
            usb.groups.entry(c.index).or_default().push(c);
        }
        for (index, group) in &mut usb.groups {
            let mut masters = Vec::new();
            for (i, c) in group.iter().enumerate() {
                let (_, companion) = usb_device(c.model.as_deref().unwrap_or_default())?;
                if companion.is_none() {
                    masters.push(i);
                }
            }
            match masters.as_slice() {
                [] => {
                    return Err(invalid(format!(
                        "No master USB controller specified for the USB companion controllers with index='{index}'"
                    )));
                }
                [m] => {
                    let master = group.remove(*m);
                    let model = master.model.as_deref().unwrap_or_default();
                    if !group.is_empty() && model != "ich9-ehci1" && model != "ehci" {
                        return Err(invalid(format!(
                            "USB companion controllers need an EHCI master, not '{model}'"
                        )));
                    }
                    group.insert(0, master);
                }
                _ => {
                    return Err(invalid(format!(
                        "Multiple 'usb' controllers with index '{index}'"
                    )));
                }
            }
        }
        usb.assign(def, devs)?;
        Ok(usb)
    }

    /// Adds hubs where needed and gives every device a port.
    fn assign(
        &mut self,
        def: &DomainDef,
        mut devs: Vec<(UsbDev, Option<Address>)>,
    ) -> Result<(), Error> {
        let mut buses: BTreeMap<u32, Ports> = self
            .groups
            .iter()
            .map(|(i, g)| (*i, Ports::new(port_count(&g[0]))))
            .collect();
        let available: usize = buses.values().map(|p| p.used.len()).sum::<usize>()
            + def.devices.hubs.len() * HUB_PORTS;
        let written_hubs = def.devices.hubs.len();
        let mut added = 0;
        if devs.len() > available {
            added = (devs.len() - available + 1).div_ceil(HUB_PORTS - 1);
            // Added hubs go after the written ones, before other devices.
            for k in 0..added {
                devs.insert(written_hubs + k, (UsbDev::Hub(written_hubs + k), None));
            }
        }
        self.hubs = written_hubs + added;
        // Hubs with an address exist before anything is placed on them.
        for (d, addr) in &devs {
            if let (UsbDev::Hub(_), Some(Address::Usb(UsbAddress { bus, port: Some(p) }))) =
                (d, addr)
            {
                self.reserve(&mut buses, *d, *bus, *p, true)?;
            }
        }
        for (d, addr) in &devs {
            match (d, addr) {
                (UsbDev::Hub(_), Some(Address::Usb(UsbAddress { port: Some(_), .. }))) => {}
                (_, Some(Address::Usb(UsbAddress { bus, port: Some(p) }))) => {
                    self.reserve(&mut buses, *d, *bus, *p, false)?;
                }
                (_, Some(Address::Usb(_)) | None) => {}
                (_, Some(a)) => {
                    return Err(invalid(format!(
                        "the {} needs a USB address, not '{}'",
                        name(*d),
                        a.type_name()
                    )));
                }
            }
        }
        // Hubs without a port first, then everything else, in order.
        let (hubs, others): (Vec<_>, Vec<_>) =
            devs.iter().partition(|(d, _)| matches!(d, UsbDev::Hub(_)));
        for &(d, addr) in hubs.into_iter().chain(others) {
            let d = &d;
            let addr = &addr;
            if self.ports.contains_key(d) {
                continue;
            }
            let want_bus = match addr {
                Some(Address::Usb(u)) => Some(u.bus),
                _ => None,
            };
            let found = buses
                .iter()
                .filter(|(b, _)| want_bus.is_none_or(|w| w == **b))
                .find_map(|(b, ports)| ports.find_free(0).map(|path| (*b, path)));
            let Some((bus, path)) = found else {
                return Err(match want_bus {
                    Some(b) if !buses.contains_key(&b) => invalid(format!(
                        "USB bus {b} requested by the {} but no controller with that index is present",
                        name(*d)
                    )),
                    _ => unsupported(format!("No free USB ports for the {}", name(*d))),
                });
            };
            let port = UsbPort::new(&path).expect("a found port path is valid");
            let is_hub = matches!(d, UsbDev::Hub(_));
            self.reserve(&mut buses, *d, bus, port, is_hub)?;
        }
        Ok(())
    }

    /// Takes `port` of `bus` for `dev`; a hub adds its own ports there.
    fn reserve(
        &mut self,
        buses: &mut BTreeMap<u32, Ports>,
        dev: UsbDev,
        bus: u32,
        port: UsbPort,
        hub: bool,
    ) -> Result<(), Error> {
        let what = name(dev);
        let root = buses.get_mut(&bus).ok_or_else(|| {
            invalid(format!(
                "USB bus {bus} requested by the {what} but no controller with that index is present"
            ))
        })?;
        let path = port.path();
        let parent = root.parent_of(path).map_err(|why| {
            invalid(format!(
                "the {what} is on USB port {port} of bus {bus}, but {why}"
            ))
        })?;
        let last = *path.last().expect("a port path is not empty") as usize;
        if last == 0 || last > parent.used.len() {
            return Err(invalid(format!(
                "the {what} uses USB port {port} of bus {bus}, which has ports 1 to {}",
                parent.used.len()
            )));
        }
        if parent.used[last - 1] {
            return Err(invalid(format!(
                "Duplicate USB address bus {bus} port {port}"
            )));
        }
        parent.used[last - 1] = true;
        if hub {
            parent.hubs[last - 1] = Some(Ports::new(HUB_PORTS));
        }
        self.ports.insert(dev, (bus, port));
        Ok(())
    }

    /// The bus and port given to each device.
    pub(super) fn ports(&self) -> &HashMap<UsbDev, (u32, UsbPort)> {
        &self.ports
    }

    /// The hubs: the written ones and those added for want of ports.
    pub(super) fn hub_count(&self) -> usize {
        self.hubs
    }

    /// `bus=...,port=...` for a USB device.
    pub fn port_of(&self, dev: UsbDev) -> Result<Opts, Error> {
        let (bus, port) = self.ports.get(&dev).ok_or_else(|| {
            unsupported(format!(
                "Can't add the {}: the USB bus is disabled (<controller type='usb' model='none'/>)",
                name(dev)
            ))
        })?;
        Ok(Opts::empty()
            .set("bus", format!("{}.0", self.bus_id(*bus)))
            .set("port", port))
    }

    /// The QEMU id of USB controller `index` (its master's, whose bus is
    /// `ID.0`): the master's user alias, else libvirt's `usb`, `usb1`...
    pub(super) fn bus_id(&self, index: u32) -> String {
        group_id(index, self.groups.get(&index).map_or(&[], Vec::as_slice))
    }
}

/// The QEMU id of USB controller `c` of `def` as the command line gives
/// it: its user alias; else, for a master (or a controller alone),
/// libvirt's `usb`, `usb1`...; a UHCI companion beside its master has
/// none, and neither has `model='none'`.
pub fn usb_controller_id(def: &DomainDef, c: &Controller) -> Option<String> {
    if c.alias.is_some() {
        return c.alias.clone();
    }
    let model = c.model.as_deref().unwrap_or_default();
    let companion = |m: Option<&str>| {
        usb_device(m.unwrap_or_default()).is_ok_and(|(_, companion)| companion.is_some())
    };
    let has_master = def.devices.controllers.iter().any(|o| {
        o.kind == ControllerType::Usb && o.index == c.index && !companion(o.model.as_deref())
    });
    match model {
        "none" => None,
        _ if companion(c.model.as_deref()) && has_master => None,
        _ => Some(usb_id(c.index)),
    }
}

/// The QEMU id of USB controller `index` whose master and companions are
/// `group`: the master's user alias, else [`usb_id`].
pub(super) fn group_id(index: u32, group: &[Controller]) -> String {
    group
        .first()
        .and_then(|c| c.alias.clone())
        .unwrap_or_else(|| usb_id(index))
}

/// libvirt's alias of a USB controller: `usb`, then `usb1`, `usb2`...
pub(super) fn usb_id(index: u32) -> String {
    if index == 0 {
        "usb".to_string()
    } else {
        format!("usb{index}")
    }
}

/// The USB hubs, after the controllers and before the devices.
pub fn emit_hubs(cx: &mut Ctx<'_>) -> Result<(), Error> {
    for i in 0..cx.usb.hubs {
        let port = cx.usb.port_of(UsbDev::Hub(i))?;
        let o = Opts::new("usb-hub")
            .set("id", format!("hub{i}"))
            .extend(port);
        cx.arg("-device", o.build());
    }
    Ok(())
}
