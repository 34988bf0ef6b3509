//! PCI topology: the buses (the root bus and one per PCI `<controller>`),
//! the slots devices take on them, and the PCI controller devices.
//!
//! Every explicit `<address type='pci'>` is reserved first, so that a
//! device without an address is never put on a slot another one names.
//! QEMU's bus ids follow libvirt: the root bus is `pci.0` (i440FX) or
//! `pcie.0` (Q35), the bus of the controller with index N is `pci.N`.

use std::collections::{BTreeMap, BTreeSet};

use super::opts::Opts;
use super::{Ctx, Family, invalid, unsupported};
use crate::driver::error::Error;
use crate::model::{
    Address, BalloonModel, Controller, ControllerType, DomainDef, InputBus, InputType, PciAddress,
};

/// What kind of bus a PCI controller provides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BusKind {
    /// The i440FX root bus.
    PciRoot,
    /// The Q35 root complex.
    PcieRoot,
    /// `pci-bridge`.
    PciBridge,
    /// `dmi-to-pci-bridge`.
    DmiToPci,
    /// `pcie-to-pci-bridge`.
    PcieToPci,
    /// `pci-expander-bus`.
    Pxb,
    /// `pcie-expander-bus`.
    PxbPcie,
    /// `pcie-root-port`: one slot.
    RootPort,
    /// `pcie-switch-upstream-port`: takes downstream ports only.
    Upstream,
    /// `pcie-switch-downstream-port`: one slot.
    Downstream,
}

impl BusKind {
    /// The kind of a libvirt PCI controller model.
    fn from_model(model: &str) -> Option<BusKind> {
        Some(match model {
            "pci-root" => BusKind::PciRoot,
            "pcie-root" => BusKind::PcieRoot,
            "pci-bridge" => BusKind::PciBridge,
            "dmi-to-pci-bridge" => BusKind::DmiToPci,
            "pcie-to-pci-bridge" => BusKind::PcieToPci,
            "pci-expander-bus" => BusKind::Pxb,
            "pcie-expander-bus" => BusKind::PxbPcie,
            "pcie-root-port" => BusKind::RootPort,
            "pcie-switch-upstream-port" => BusKind::Upstream,
            "pcie-switch-downstream-port" => BusKind::Downstream,
            _ => return None,
        })
    }

    /// The libvirt model name.
    fn model(self) -> &'static str {
        match self {
            BusKind::PciRoot => "pci-root",
            BusKind::PcieRoot => "pcie-root",
            BusKind::PciBridge => "pci-bridge",
            BusKind::DmiToPci => "dmi-to-pci-bridge",
            BusKind::PcieToPci => "pcie-to-pci-bridge",
            BusKind::Pxb => "pci-expander-bus",
            BusKind::PxbPcie => "pcie-expander-bus",
            BusKind::RootPort => "pcie-root-port",
            BusKind::Upstream => "pcie-switch-upstream-port",
            BusKind::Downstream => "pcie-switch-downstream-port",
        }
    }

    /// The QEMU devices that implement the model; the first is the default.
    fn devices(self) -> &'static [&'static str] {
        match self {
            BusKind::PciRoot | BusKind::PcieRoot => &[],
            BusKind::PciBridge => &["pci-bridge"],
            BusKind::DmiToPci => &["i82801b11-bridge"],
            BusKind::PcieToPci => &["pcie-pci-bridge"],
            BusKind::Pxb => &["pxb"],
            BusKind::PxbPcie => &["pxb-pcie"],
            BusKind::RootPort => &["pcie-root-port", "ioh3420"],
            BusKind::Upstream => &["x3130-upstream"],
            BusKind::Downstream => &["xio3130-downstream"],
        }
    }

    /// The slots devices without an address may take. Bridges keep slot 0
    /// free (their hot-plug controller), ports have a single slot.
    fn auto_slots(self, family: Family) -> std::ops::RangeInclusive<u32> {
        match (self, family) {
            (BusKind::PciRoot, _) => 2..=31,
            (BusKind::PcieRoot, _) => 1..=0x1e,
            (BusKind::PciBridge | BusKind::PcieToPci, _) => 1..=31,
            (BusKind::RootPort | BusKind::Downstream, _) => 0..=0,
            _ => 0..=31,
        }
    }

    /// Whether a device of kind `child` (`None`: an ordinary device) may
    /// sit on this bus.
    fn accepts(self, child: Option<BusKind>) -> bool {
        use BusKind::*;
        match child {
            None => !matches!(self, Upstream | PxbPcie),
            Some(Pxb) => self == PciRoot,
            Some(PxbPcie) => self == PcieRoot,
            Some(RootPort | DmiToPci) => matches!(self, PcieRoot | PxbPcie),
            Some(Upstream) => matches!(self, RootPort | Downstream),
            Some(Downstream) => self == Upstream,
            Some(PcieToPci) => matches!(self, RootPort | Downstream | PcieRoot),
            Some(PciBridge) => matches!(
                self,
                PciRoot | PcieRoot | PciBridge | DmiToPci | PcieToPci | Pxb
            ),
            Some(PciRoot | PcieRoot) => false,
        }
    }
}

/// One PCI bus and the slots taken on it.
#[derive(Debug)]
struct Bus {
    kind: BusKind,
    id: String,
    /// Slot -> functions in use.
    used: BTreeMap<u32, BTreeSet<u32>>,
}

/// What is being placed on a bus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plug {
    /// An ordinary PCI device.
    Device,
    /// The primary video card, which gets the slot libvirt gives it.
    PrimaryVideo,
    /// An ICH9 sound card, which libvirt puts at 00:1b.0 on Q35 (where
    /// the real chipset has it) when that slot is free.
    Ich9Sound,
    /// A PCI controller of this kind with this index.
    Bus(BusKind, u32),
}

/// A device's place on a bus: the `bus=...,addr=...` options and the slot.
#[derive(Debug, Clone)]
pub struct Placed {
    /// `bus=ID,addr=0xS[.0xF][,multifunction=on|off]`.
    pub opts: Opts,
    /// The slot.
    pub slot: u32,
    /// The function.
    pub function: u32,
}

/// The PCI buses of a domain and the slots given out so far.
#[derive(Debug)]
pub struct Pci {
    buses: BTreeMap<u32, Bus>,
    family: Family,
    /// The root slot kept for the primary video card, if it has no address.
    video_slot: Option<u32>,
    /// Buses no controller declares but an address names, which libvirt
    /// adds: pci-bridges on pc, pcie-root-ports on q35; and the
    /// pci-bridges added for devices the root bus has no room for.
    implied: Vec<(u32, BusKind)>,
    /// Whether a device found no free slot where more pci-bridges would
    /// have given it one.
    pub ran_out: bool,
}

/// The most pci-bridges added for devices without room on the root bus.
pub const MAX_ADDED_BRIDGES: u32 = 29;

impl Pci {
    /// Builds the buses from the PCI controllers and reserves every
    /// explicit PCI address in the definition; on a pc machine, adds
    /// `bridges` pci-bridges after the highest index.
    pub fn new(
        def: &DomainDef,
        family: Family,
        reserve_video: bool,
        bridges: u32,
    ) -> Result<Pci, Error> {
        let root_kind = match family {
            Family::I440fx => BusKind::PciRoot,
            Family::Q35 => BusKind::PcieRoot,
        };
        let root_id = match family {
            Family::I440fx => "pci.0",
            Family::Q35 => "pcie.0",
        };
        let mut buses = BTreeMap::new();
        buses.insert(
            0,
            Bus {
                kind: root_kind,
                id: root_id.to_string(),
                used: BTreeMap::new(),
            },
        );
        for c in pci_controllers(def) {
            let kind = controller_kind(c)?;
            if c.index == 0 {
                if kind != root_kind {
                    return Err(invalid(format!(
                        "The PCI controller with index='0' must be model='{}' for this machine type, but model='{}' was found instead",
                        root_kind.model(),
                        kind.model()
                    )));
                }
                if c.address.is_some() {
                    return Err(unsupported(
                        "pci-root and pcie-root controllers should not have an address",
                    ));
                }
                continue;
            }
            if matches!(kind, BusKind::PciRoot | BusKind::PcieRoot) {
                return Err(invalid(format!(
                    "a {} controller must have index='0', not {}",
                    kind.model(),
                    c.index
                )));
            }
            if c.index > 255 {
                return Err(invalid(format!(
                    "PCI controller index {} is above 255",
                    c.index
                )));
            }
            let bus = Bus {
                kind,
                id: format!("pci.{}", c.index),
                used: BTreeMap::new(),
            };
            if buses.insert(c.index, bus).is_some() {
                return Err(invalid(format!(
                    "Multiple 'pci' controllers with index '{}'",
                    c.index
                )));
            }
        }
        // A bus that an address names and no controller declares is added,
        // as libvirt does, with every missing index below it.
        let named = explicit_addresses(def, family)
            .iter()
            .map(|(_, a, _)| a.bus)
            .max()
            .unwrap_or(0);
        let mut implied = Vec::new();
        if named <= 255 {
            let kind = match family {
                Family::I440fx => BusKind::PciBridge,
                Family::Q35 => BusKind::RootPort,
            };
            for index in 1..=named {
                if let std::collections::btree_map::Entry::Vacant(v) = buses.entry(index) {
                    v.insert(Bus {
                        kind,
                        id: format!("pci.{index}"),
                        used: BTreeMap::new(),
                    });
                    implied.push((index, kind));
                }
            }
        }
        if family == Family::I440fx {
            let last = buses.keys().next_back().copied().unwrap_or(0);
            for index in (last + 1..).take(bridges as usize) {
                buses.insert(
                    index,
                    Bus {
                        kind: BusKind::PciBridge,
                        id: format!("pci.{index}"),
                        used: BTreeMap::new(),
                    },
                );
                implied.push((index, BusKind::PciBridge));
            }
        }
        let mut pci = Pci {
            buses,
            family,
            video_slot: None,
            implied,
            ran_out: false,
        };
        // The host bridge and the chipset's own functions.
        pci.builtin(0);
        match family {
            Family::I440fx => pci.builtin(1),
            Family::Q35 => pci.builtin(0x1f),
        }
        for (what, addr, builtin_ok) in explicit_addresses(def, family) {
            pci.reserve(&what, &addr, builtin_ok)?;
        }
        if reserve_video {
            let slot = match family {
                Family::I440fx => 2,
                Family::Q35 => 1,
            };
            if !pci.root().used.contains_key(&slot) {
                pci.video_slot = Some(slot);
                pci.claim(0, slot, 0);
            }
        }
        Ok(pci)
    }

    fn root(&self) -> &Bus {
        &self.buses[&0]
    }

    /// Marks every function of a root slot as the chipset's.
    fn builtin(&mut self, slot: u32) {
        let bus = self.buses.get_mut(&0).expect("the root bus exists");
        bus.used.insert(slot, (0..8).collect());
    }

    /// Marks one function as used.
    pub fn claim(&mut self, bus: u32, slot: u32, function: u32) {
        if let Some(b) = self.buses.get_mut(&bus) {
            b.used.entry(slot).or_default().insert(function);
        }
    }

    /// Reserves an explicit address; `builtin_ok` lets a device describe a
    /// chipset function (the PIIX3 USB controller at 00:01.2).
    fn reserve(&mut self, what: &str, a: &PciAddress, builtin_ok: bool) -> Result<(), Error> {
        check_range(what, a)?;
        let family = self.family;
        let bus = self.buses.get_mut(&a.bus).ok_or_else(|| {
            invalid(format!(
                "the {what} is on PCI bus {}, which does not exist: add <controller type='pci' index='{}'>",
                a.bus, a.bus
            ))
        })?;
        let builtin_slot = a.bus == 0
            && (a.slot == 0
                || (family == Family::I440fx && a.slot == 1)
                || (family == Family::Q35 && a.slot == 0x1f));
        if builtin_slot && builtin_ok {
            return Ok(());
        }
        let functions = bus.used.entry(a.slot).or_default();
        if builtin_slot || !functions.insert(a.function) {
            return Err(invalid(format!(
                "Attempted double use of PCI Address {} (by the {what})",
                show(a)
            )));
        }
        Ok(())
    }

    /// The `bus=...,addr=...` options of a device: its own address, or one
    /// chosen here. `what` names the device in errors.
    pub fn place(
        &mut self,
        what: &str,
        addr: Option<&Address>,
        plug: Plug,
    ) -> Result<Placed, Error> {
        let child = match plug {
            Plug::Bus(kind, _) => Some(kind),
            _ => None,
        };
        match addr {
            Some(Address::Pci(a)) => {
                check_range(what, a)?;
                let bus = self.buses.get(&a.bus).ok_or_else(|| {
                    invalid(format!(
                        "the {what} is on PCI bus {}, which does not exist: add <controller type='pci' index='{}'>",
                        a.bus, a.bus
                    ))
                })?;
                if !bus.kind.accepts(child) {
                    return Err(invalid(format!(
                        "The {what} at PCI address {} cannot be plugged into the PCI controller with index='{}' ({})",
                        show(a),
                        a.bus,
                        bus.kind.model()
                    )));
                }
                if matches!(bus.kind, BusKind::RootPort | BusKind::Downstream) && a.slot != 0 {
                    return Err(invalid(format!(
                        "the {what} must use slot 0 of the {} with index='{}'",
                        bus.kind.model(),
                        a.bus
                    )));
                }
                let many = bus.used.get(&a.slot).is_some_and(|f| f.len() > 1);
                let multifunction = a
                    .multifunction
                    .or((a.function == 0 && many).then_some(true));
                Ok(self.format(a.bus, a.slot, a.function, multifunction))
            }
            Some(_) => Err(invalid(format!("the {what} needs a PCI address"))),
            None => {
                let (bus, slot) = self.auto(what, plug)?;
                Ok(self.format(bus, slot, 0, None))
            }
        }
    }

    /// The options for a known address.
    pub fn format(
        &self,
        bus: u32,
        slot: u32,
        function: u32,
        multifunction: Option<bool>,
    ) -> Placed {
        let addr = if function == 0 {
            format!("{slot:#x}")
        } else {
            format!("{slot:#x}.{function:#x}")
        };
        let opts = Opts::empty()
            .set("bus", &self.buses[&bus].id)
            .set("addr", addr)
            .maybe_switch("multifunction", multifunction);
        Placed {
            opts,
            slot,
            function,
        }
    }

    /// A free root-bus slot for a group of functions (USB companions).
    pub fn auto_slot(&mut self, what: &str) -> Result<(u32, u32), Error> {
        self.auto(what, Plug::Device)
    }

    /// Chooses a bus and slot for a device without an address.
    fn auto(&mut self, what: &str, plug: Plug) -> Result<(u32, u32), Error> {
        use BusKind::*;
        let q35 = self.family == Family::Q35;
        let candidates: Vec<u32> = match plug {
            Plug::PrimaryVideo if self.video_slot.is_some() => {
                let slot = self.video_slot.take().expect("checked");
                return Ok((0, slot));
            }
            Plug::Ich9Sound if q35 && self.slot_free(0, 0x1b) => {
                self.claim(0, 0x1b, 0);
                return Ok((0, 0x1b));
            }
            // libvirt fills the root bus, then the buses of bridges that
            // take ordinary devices, by index.
            Plug::Device | Plug::PrimaryVideo | Plug::Ich9Sound => {
                let mut v = vec![0];
                v.extend(self.buses_of(&[PciBridge, PcieToPci], u32::MAX));
                v
            }
            Plug::Bus(kind @ (RootPort | DmiToPci | PxbPcie), _) if !q35 => {
                return Err(unsupported(format!(
                    "a {} controller needs a q35 machine type",
                    kind.model()
                )));
            }
            Plug::Bus(Pxb, _) if q35 => {
                return Err(unsupported(
                    "a pci-expander-bus controller needs a pc machine type: use pcie-expander-bus on q35",
                ));
            }
            Plug::Bus(DmiToPci, _) if self.slot_free(0, 0x1e) => {
                self.claim(0, 0x1e, 0);
                return Ok((0, 0x1e));
            }
            Plug::Bus(RootPort | DmiToPci | PxbPcie | Pxb, _) => vec![0],
            Plug::Bus(PciBridge, own) => {
                let mut v = self.buses_of(&[DmiToPci, PcieToPci], own);
                v.push(0);
                v
            }
            Plug::Bus(Upstream | PcieToPci, own) => self.buses_of(&[RootPort, Downstream], own),
            Plug::Bus(Downstream, own) => {
                let mut v = self.buses_of(&[Upstream], own);
                v.reverse();
                v
            }
            Plug::Bus(PciRoot | PcieRoot, _) => vec![],
        };
        for bus in candidates {
            let kind = self.buses[&bus].kind;
            for slot in kind.auto_slots(self.family) {
                if self.slot_free(bus, slot) {
                    self.claim(bus, slot, 0);
                    return Ok((bus, slot));
                }
            }
        }
        if !q35 && matches!(plug, Plug::Device | Plug::PrimaryVideo | Plug::Ich9Sound) {
            self.ran_out = true;
        }
        Err(match plug {
            Plug::Bus(kind, _) if kind != PciBridge => unsupported(format!(
                "no free place for the {what}: give it an <address> on a controller that accepts a {}",
                kind.model()
            )),
            _ => unsupported(format!(
                "no free PCI slot on the root bus for the {what}: give devices <address> elements on a pci-bridge or root port"
            )),
        })
    }

    fn slot_free(&self, bus: u32, slot: u32) -> bool {
        !self.buses[&bus].used.contains_key(&slot)
    }

    /// Buses of the given kinds whose index is below `own`, by index.
    fn buses_of(&self, kinds: &[BusKind], own: u32) -> Vec<u32> {
        self.buses
            .iter()
            .filter(|(i, b)| **i < own && kinds.contains(&b.kind))
            .map(|(i, _)| *i)
            .collect()
    }
}

/// `0000:BB:SS.F`, as libvirt prints addresses.
fn show(a: &PciAddress) -> String {
    format!(
        "{:04x}:{:02x}:{:02x}.{:x}",
        a.domain, a.bus, a.slot, a.function
    )
}

fn check_range(what: &str, a: &PciAddress) -> Result<(), Error> {
    if a.domain != 0 {
        return Err(invalid(format!(
            "the {what}: PCI domain must be 0, not {}",
            a.domain
        )));
    }
    if a.bus > 255 || a.slot > 31 || a.function > 7 {
        return Err(invalid(format!(
            "the {what}: PCI address {} is out of range",
            show(a)
        )));
    }
    Ok(())
}

fn pci_controllers(def: &DomainDef) -> impl Iterator<Item = &Controller> {
    def.devices
        .controllers
        .iter()
        .filter(|c| c.kind == ControllerType::Pci)
}

fn controller_kind(c: &Controller) -> Result<BusKind, Error> {
    let model = c.model.as_deref().ok_or_else(|| {
        invalid(format!(
            "the PCI controller with index='{}' needs a model",
            c.index
        ))
    })?;
    BusKind::from_model(model)
        .ok_or_else(|| unsupported(format!("PCI controller model '{model}' is not supported")))
}

/// Every explicit PCI address of a device that will be on the command
/// line, with a name for errors and whether it may name a chipset slot.
fn explicit_addresses(def: &DomainDef, family: Family) -> Vec<(String, PciAddress, bool)> {
    let mut out = Vec::new();
    let d = &def.devices;
    for c in &d.controllers {
        let Some(Address::Pci(a)) = c.address else {
            continue;
        };
        let model = c.model.as_deref().unwrap_or("");
        let what = format!("{} controller with index='{}'", c.kind.as_str(), c.index);
        match c.kind {
            ControllerType::Pci if c.index == 0 => {}
            // Built-in controllers describe the chipset; their own module
            // checks the address.
            ControllerType::Ide if family == Family::I440fx && c.index == 0 => {}
            ControllerType::Sata if family == Family::Q35 && c.index == 0 => {}
            ControllerType::Usb if model == "none" => {}
            ControllerType::Usb => {
                let piix = family == Family::I440fx && a.bus == 0 && a.slot == 1 && a.function == 2;
                out.push((what, a, piix));
            }
            _ => out.push((what, a, false)),
        }
    }
    for disk in &d.disks {
        if let Some(Address::Pci(a)) = disk.address {
            out.push((format!("disk '{}'", disk.target), a, false));
        }
    }
    for (i, net) in d.interfaces.iter().enumerate() {
        if let Some(Address::Pci(a)) = net.address {
            out.push((format!("interface {i}"), a, false));
        }
    }
    for (i, input) in d.inputs.iter().enumerate() {
        let pci =
            matches!(input.bus, Some(InputBus::Virtio)) || input.kind == InputType::Passthrough;
        if let (true, Some(Address::Pci(a))) = (pci, input.address) {
            out.push((format!("input {i}"), a, false));
        }
    }
    for (i, video) in d.videos.iter().enumerate() {
        if let (false, Some(Address::Pci(a))) =
            (video.model == crate::model::VideoModel::None, video.address)
        {
            out.push((format!("video {i}"), a, false));
        }
    }
    if let Some(b) = &d.memballoon
        && b.model != BalloonModel::None
        && let Some(Address::Pci(a)) = b.address
    {
        out.push(("memballoon".to_string(), a, false));
    }
    for (i, s) in d.sounds.iter().enumerate() {
        if let Some(Address::Pci(a)) = s.address {
            out.push((format!("sound {i}"), a, false));
        }
    }
    for (i, w) in d.watchdogs.iter().enumerate() {
        if let Some(Address::Pci(a)) = w.address {
            out.push((format!("watchdog {i}"), a, false));
        }
    }
    for (i, r) in d.rngs.iter().enumerate() {
        if let Some(Address::Pci(a)) = r.address {
            out.push((format!("rng {i}"), a, false));
        }
    }
    out
}

/// `-global` options of the root bus (`<pcihole64>`).
pub fn emit_globals(cx: &mut Ctx<'_>) -> Result<(), Error> {
    for c in pci_controllers(cx.def) {
        let Some(kib) = c.pcihole64_kib else { continue };
        if c.index != 0 {
            return Err(unsupported(
                "pcihole64 is only supported on the root PCI controller (index='0')",
            ));
        }
        let host = match cx.family {
            Family::I440fx => "i440FX-pcihost",
            Family::Q35 => "q35-pcihost",
        };
        cx.arg("-global", format!("{host}.pci-hole64-size={kib}K"));
    }
    Ok(())
}

/// The PCI controllers other than the root, by index so that every parent
/// bus exists before its children.
pub fn emit_controllers(cx: &mut Ctx<'_>) -> Result<(), Error> {
    let implied: Vec<Controller> = cx
        .pci
        .implied
        .iter()
        .map(|(index, kind)| {
            Controller::new(ControllerType::Pci, *index, Some(kind.model().to_string()))
        })
        .collect();
    let mut list: Vec<&Controller> = pci_controllers(cx.def)
        .filter(|c| c.index > 0)
        .chain(&implied)
        .collect();
    list.sort_by_key(|c| c.index);
    for c in list {
        let kind = controller_kind(c)?;
        let model = kind.model();
        let device = match c.model_name.as_deref() {
            None => kind.devices()[0],
            Some(name) => *kind.devices().iter().find(|d| **d == name).ok_or_else(|| {
                unsupported(format!(
                    "<model name='{name}'> is not supported for a {model} controller"
                ))
            })?,
        };
        if !c.virtio.is_empty() {
            return Err(unsupported(format!(
                "virtio <driver> options are not supported on a {model} controller"
            )));
        }
        let what = format!("{model} controller with index='{}'", c.index);
        let placed = cx
            .pci
            .place(&what, c.address.as_ref(), Plug::Bus(kind, c.index))?;
        let t = c.target.unwrap_or_default();
        let mut o = Opts::new(device)
            .set("id", format!("pci.{}", c.index))
            .extend(placed.opts);
        let refuse = |attr: &str| {
            unsupported(format!(
                "<target {attr}=...> is not supported on a {model} controller"
            ))
        };
        if t.chassis_nr.is_some() && kind != BusKind::PciBridge {
            return Err(refuse("chassisNr"));
        }
        if (t.chassis.is_some() || t.port.is_some() || t.hotplug.is_some())
            && !matches!(kind, BusKind::RootPort | BusKind::Downstream)
        {
            return Err(refuse("chassis/port/hotplug"));
        }
        if (t.bus_nr.is_some() || t.node.is_some())
            && !matches!(kind, BusKind::Pxb | BusKind::PxbPcie)
        {
            return Err(refuse("busNr/node"));
        }
        if t.mem_reserve.is_some() && !matches!(kind, BusKind::PciBridge | BusKind::RootPort) {
            return Err(refuse("memReserve"));
        }
        match kind {
            BusKind::PciBridge => o = o.set("chassis_nr", t.chassis_nr.unwrap_or(c.index)),
            BusKind::RootPort | BusKind::Downstream => {
                // libvirt's defaults: a root port's port number is its
                // slot and function, a downstream port's its slot.
                let port = if kind == BusKind::RootPort {
                    (placed.slot << 3) | placed.function
                } else {
                    placed.slot
                };
                o = o
                    .set("port", t.port.unwrap_or(port))
                    .set("chassis", t.chassis.unwrap_or(c.index))
                    .maybe_switch("hotplug", t.hotplug);
            }
            BusKind::Pxb | BusKind::PxbPcie => {
                if let Some(node) = t.node {
                    return Err(invalid(format!(
                        "{model} with index {} is configured for a NUMA node ({node}) but the domain has no NUMA nodes",
                        c.index
                    )));
                }
                let bus_nr = t.bus_nr.ok_or_else(|| {
                    invalid(format!(
                        "the {model} with index {} needs <target busNr=...>",
                        c.index
                    ))
                })?;
                o = o.set("bus_nr", bus_nr);
            }
            _ => {}
        }
        if let Some(kib) = t.mem_reserve {
            o = o.set("mem-reserve", kib * 1024);
        }
        cx.arg("-device", o.build());
    }
    Ok(())
}
