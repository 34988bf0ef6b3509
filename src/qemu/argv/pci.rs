//! PCI topology: the buses (the root bus and one per PCI `<controller>`),
//! the slot each device takes, and the PCI controller devices.
//!
//! Devices without an `<address>` get the one libvirt gives them
//! (qemu_domain_address.c, domain_addr.c): every explicit address is
//! reserved first, then the chipset's places (the primary video card at
//! 00:02.0 on pc and 00:01.0 on q35, ICH9 USB at 00:1d, ICH9 sound at
//! 00:1b, ...), then PCI controllers, NICs, sound cards, other
//! controllers, virtio disks, the balloon, RNGs, watchdogs, videos and
//! virtio inputs, in that order, each on the first bus that takes its
//! kind: conventional PCI devices on pci-root and bridges, PCI Express
//! ones on root and downstream ports (q35's root complex takes no device
//! by itself). pcie-root-ports share slots as functions 0-7. When no bus
//! has room, the buses libvirt would add are added: pci-bridges,
//! pcie-root-ports, a pcie-to-pci-bridge (with its root port) for
//! conventional devices on q35, and, for a q35 domain whose XML has no
//! PCI controllers, one spare root port for hotplug. QEMU's bus ids
//! follow libvirt: the root bus is `pci.0` (i440FX) or `pcie.0` (Q35),
//! the bus of the controller with index N is `pci.N`.

use std::collections::BTreeMap;

use super::controllers;
pub use super::devs::{CtlKind, Dev};
use super::disks::Disks;
use super::opts::Opts;
use super::pci_space::Space;
use super::usb::Usb;
use super::{Ctx, Family, invalid, unsupported};
use crate::error::Error;
use crate::model::{
    Address, BalloonModel, Controller, ControllerType, DiskBus, DomainDef, InputBus, InputType,
    MemoryModel, PanicModel, PciAddress, RngModel, SoundModel, VideoModel, WatchdogModel,
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
    pub(super) fn model(self) -> &'static str {
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

    /// What the bus takes (connect flags) and its slots for devices
    /// without an address, as libvirt's virDomainPCIAddressBusSetModel.
    pub(super) fn bus_flags(self) -> (u32, u32, u32) {
        use BusKind::*;
        match self {
            PciRoot => (AUTO | PCI_DEVICE | PCI_BRIDGE | PXB, 1, 31),
            PciBridge | PcieToPci => (AUTO | PCI_DEVICE | PCI_BRIDGE, 1, 31),
            Pxb => (AUTO | PCI_DEVICE | PCI_BRIDGE, 0, 31),
            PcieRoot => (PCIE_DEVICE | ROOT_PORT | DMI | PXB_PCIE, 1, 31),
            DmiToPci => (PCI_DEVICE | PCI_BRIDGE, 0, 31),
            RootPort | Downstream => (AUTO | PCIE_DEVICE | UPSTREAM | PCIE_TO_PCI, 0, 0),
            Upstream => (DOWNSTREAM, 0, 31),
            PxbPcie => (ROOT_PORT | DMI, 0, 31),
        }
    }

    /// What the controller is, as a device on its parent bus.
    pub(super) fn connect(self) -> u32 {
        use BusKind::*;
        match self {
            PciRoot | PcieRoot => 0,
            PciBridge => PCI_BRIDGE,
            DmiToPci => DMI,
            PcieToPci => PCIE_TO_PCI,
            Pxb => PXB,
            PxbPcie => PXB_PCIE,
            RootPort => ROOT_PORT | AGGREGATE,
            Upstream => UPSTREAM,
            Downstream => DOWNSTREAM,
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

/// Connect flags (libvirt's VIR_PCI_CONNECT_*): what a device is, and
/// what a bus takes.
pub(super) const PCI_DEVICE: u32 = 1;
pub(super) const PCIE_DEVICE: u32 = 1 << 1;
pub(super) const ROOT_PORT: u32 = 1 << 2;
pub(super) const UPSTREAM: u32 = 1 << 3;
pub(super) const DOWNSTREAM: u32 = 1 << 4;
pub(super) const DMI: u32 = 1 << 5;
pub(super) const PXB: u32 = 1 << 6;
pub(super) const PXB_PCIE: u32 = 1 << 7;
pub(super) const PCIE_TO_PCI: u32 = 1 << 8;
pub(super) const PCI_BRIDGE: u32 = 1 << 9;
pub(super) const TYPES: u32 = (1 << 10) - 1;
/// A device that may be given an address; a bus that gives them.
pub(super) const AUTO: u32 = 1 << 10;
/// Devices that share a slot as its functions (pcie-root-ports).
pub(super) const AGGREGATE: u32 = 1 << 11;
/// A device integrated in the root complex: bus 0 only, even where the
/// root bus gives no addresses to ordinary devices.
pub(super) const INTEGRATED: u32 = 1 << 12;

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

/// One PCI bus.
#[derive(Debug)]
pub(super) struct Bus {
    pub(super) kind: BusKind,
    pub(super) id: String,
}

/// The PCI buses of a domain and the address of every PCI device.
#[derive(Debug)]
pub struct Pci {
    buses: BTreeMap<u32, Bus>,
    /// The address chosen for each device without one.
    chosen: BTreeMap<Dev, (u32, u32, u32)>,
    /// Slots where more than one function is in use: function 0 there is
    /// multifunction.
    shared: std::collections::BTreeSet<(u32, u32)>,
    /// Buses no controller declares, which libvirt adds: for addresses
    /// that name them, and where devices found no room.
    implied: Vec<(u32, BusKind)>,
}

/// A device that wants a PCI address.
pub(super) struct Want {
    pub(super) dev: Dev,
    pub(super) what: String,
    pub(super) flags: u32,
    pub(super) explicit: Option<PciAddress>,
    /// An ICH9 USB2 controller: its group's index and its function.
    pub(super) usb2: Option<(u32, u32)>,
}

impl Pci {
    /// Builds the buses from the PCI controllers, reserves every explicit
    /// PCI address and gives every other PCI device the address libvirt
    /// would.
    pub fn new(
        def: &DomainDef,
        family: Family,
        ctrls: &controllers::Plan,
        usb: &Usb,
        disks: &Disks,
    ) -> Result<Pci, Error> {
        let root_kind = match family {
            Family::I440fx => BusKind::PciRoot,
            Family::Q35 => BusKind::PcieRoot,
        };
        let mut declared: BTreeMap<u32, BusKind> = BTreeMap::new();
        declared.insert(0, root_kind);
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
            if declared.insert(c.index, kind).is_some() {
                return Err(invalid(format!(
                    "Multiple 'pci' controllers with index '{}'",
                    c.index
                )));
            }
        }
        let max_declared = declared.keys().next_back().copied().unwrap_or(0);
        // A bus an address names and no controller declares is added, as
        // libvirt does, with every missing index below it or below the
        // highest declared one.
        let wants = wants(def, family, ctrls, usb, disks)?;
        let named = wants
            .iter()
            .filter_map(|w| w.explicit.map(|a| a.bus))
            .max()
            .unwrap_or(0);
        let named = named.max(max_declared);
        let mut implied = Vec::new();
        if named <= 255 {
            let kind = match family {
                Family::I440fx => BusKind::PciBridge,
                Family::Q35 => BusKind::RootPort,
            };
            for index in 1..=named {
                if let std::collections::btree_map::Entry::Vacant(v) = declared.entry(index) {
                    v.insert(kind);
                    implied.push((index, kind));
                }
            }
        }
        // The PCI controllers come first among the devices.
        let mut controllers: Vec<Want> = Vec::new();
        let pcis: Vec<&Controller> = pci_controllers(def).collect();
        for c in libvirt_order(&pcis).into_iter().filter(|c| c.index > 0) {
            let kind = controller_kind(c)?;
            controllers.push(Want {
                dev: Dev::PciController(c.index),
                what: format!("{} controller with index='{}'", kind.model(), c.index),
                flags: kind.connect(),
                explicit: pci_address(c.address.as_ref()),
                usb2: None,
            });
        }
        let bus_want = |index: u32, kind: BusKind| Want {
            dev: Dev::PciController(index),
            what: format!("{} controller with index='{index}'", kind.model()),
            flags: kind.connect(),
            explicit: None,
            usb2: None,
        };
        controllers.extend(implied.iter().map(|(i, k)| bus_want(*i, *k)));
        let first = Space::new(&declared, family, true);
        let grown = first.count(&controllers, &wants, family, max_declared)?;
        for (index, kind) in &grown {
            declared.insert(*index, *kind);
            implied.push((*index, *kind));
            controllers.push(bus_want(*index, *kind));
        }
        let mut space = Space::new(&declared, family, false);
        space.assign(&controllers, &wants, family)?;
        let buses = declared
            .iter()
            .map(|(i, kind)| {
                let id = match (i, family) {
                    (0, Family::I440fx) => "pci.0".to_string(),
                    (0, Family::Q35) => "pcie.0".to_string(),
                    _ => format!("pci.{i}"),
                };
                (*i, Bus { kind: *kind, id })
            })
            .collect();
        let shared = space.shared();
        Ok(Pci {
            buses,
            chosen: space.chosen,
            shared,
            implied,
        })
    }

    /// The `bus=...,addr=...` options of `dev`: its own address, or the
    /// one chosen for it. `what` names the device in errors.
    pub fn place(&self, what: &str, addr: Option<&Address>, dev: Dev) -> Result<Placed, Error> {
        let child = match dev {
            Dev::PciController(index) => Some(self.buses[&index].kind),
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
                Ok(self.format(a.bus, a.slot, a.function, a.multifunction))
            }
            Some(_) => Err(invalid(format!("the {what} needs a PCI address"))),
            None => {
                let (bus, slot, function) =
                    self.chosen.get(&dev).copied().ok_or_else(|| {
                        invalid(format!("no PCI address was chosen for the {what}"))
                    })?;
                Ok(self.format(bus, slot, function, None))
            }
        }
    }

    /// The address given to each device without one, by device.
    pub(super) fn chosen(&self) -> &BTreeMap<Dev, (u32, u32, u32)> {
        &self.chosen
    }

    /// The buses no controller declares, which the command line adds.
    pub(super) fn implied(&self) -> &[(u32, BusKind)] {
        &self.implied
    }

    /// The options for an address; function 0 of a slot whose other
    /// functions are in use is multifunction unless `multifunction` says.
    fn format(&self, bus: u32, slot: u32, function: u32, multifunction: Option<bool>) -> Placed {
        let addr = if function == 0 {
            format!("{slot:#x}")
        } else {
            format!("{slot:#x}.{function:#x}")
        };
        let multifunction =
            multifunction.or((function == 0 && self.shared.contains(&(bus, slot))).then_some(true));
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
}

/// own: PIIX3's USB at 00:01.2 on pc.
/// Whether an explicit address in a chipset slot is the chipset device's
pub(super) fn builtin_ok(w: &Want, family: Family, a: &PciAddress) -> bool {
    family == Family::I440fx
        && matches!(w.dev, Dev::Usb(..))
        && a.bus == 0
        && a.slot == 1
        && a.function == 2
}

/// The controllers in the order libvirt keeps them
/// (virDomainControllerInsertPreAlloced): each after the last one of its
/// type with a lower or equal index, before one with a higher index (a
/// master before companions of its index that name it), and the first of
/// a type at the end.
pub(super) fn libvirt_order<'a>(list: &[&'a Controller]) -> Vec<&'a Controller> {
    let mut out: Vec<&Controller> = Vec::new();
    for c in list {
        let mut at = None;
        for (i, cur) in out.iter().enumerate().rev() {
            if cur.kind != c.kind {
                continue;
            }
            if cur.index > c.index
                || (c.master_startport.is_none()
                    && cur.master_startport.is_some()
                    && cur.index == c.index)
            {
                at = Some(i);
            } else if at.is_none() {
                at = Some(i + 1);
            }
        }
        out.insert(at.unwrap_or(out.len()), c);
    }
    out
}

pub(super) fn pci_address(a: Option<&Address>) -> Option<PciAddress> {
    match a {
        Some(Address::Pci(a)) => Some(*a),
        _ => None,
    }
}

/// The devices other than PCI controllers that want a PCI address, in
/// the order libvirt gives them out, each with its connect flags.
pub(super) fn wants(
    def: &DomainDef,
    family: Family,
    ctrls: &controllers::Plan,
    usb: &Usb,
    disks: &Disks,
) -> Result<Vec<Want>, Error> {
    let q35 = family == Family::Q35;
    let pci = AUTO | PCI_DEVICE;
    let pcie = if q35 { AUTO | PCIE_DEVICE } else { pci };
    let d = &def.devices;
    let mut out = Vec::new();
    let mut push = |dev: Dev, what: String, flags: u32, addr: Option<&Address>| {
        out.push(Want {
            dev,
            what,
            flags,
            explicit: pci_address(addr),
            usb2: None,
        });
    };
    for (i, f) in d.filesystems.iter().enumerate() {
        // A transitional device works in a conventional PCI slot only.
        let transitional = f.model == Some(crate::model::FsModel::VirtioTransitional);
        push(
            Dev::Fs(i),
            format!("filesystem '{}'", f.target_dir),
            if transitional { pci } else { pcie },
            f.address.as_ref(),
        );
    }
    for (i, n) in d.interfaces.iter().enumerate() {
        let flags = match n.model.as_deref().unwrap_or("rtl8139") {
            "virtio" | "virtio-non-transitional" | "e1000e" => pcie,
            "virtio-transitional" | "e1000" | "rtl8139" | "ne2k_pci" | "pcnet" | "vmxnet3" => pci,
            _ => pcie,
        };
        push(
            Dev::Net(i),
            format!("interface {i}"),
            flags,
            n.address.as_ref(),
        );
    }
    for (i, s) in d.sounds.iter().enumerate() {
        if matches!(
            s.model,
            SoundModel::Es1370 | SoundModel::Ac97 | SoundModel::Ich6 | SoundModel::Ich9
        ) {
            push(
                Dev::Sound(i),
                format!("{} sound card", s.model.as_str()),
                pci,
                s.address.as_ref(),
            );
        }
    }
    // Controllers in document order, then those libvirt adds: the default
    // USB controller, then storage and virtio-serial ones.
    let storage = ctrls.pci_devices(family);
    let kind_of = |t: ControllerType| match t {
        ControllerType::Scsi => Some(CtlKind::Scsi),
        ControllerType::Sata => Some(CtlKind::Sata),
        ControllerType::VirtioSerial => Some(CtlKind::VirtioSerial),
        _ => None,
    };
    let mut done_storage = Vec::new();
    let mut done_usb = Vec::new();
    let usb_want = |out: &mut Vec<Want>, index: u32, k: usize, c: &Controller| {
        let model = c.model.as_deref().unwrap_or_default();
        if model == "none" {
            return;
        }
        let function = match model {
            "ich9-ehci1" => Some(7),
            "ich9-uhci1" => Some(0),
            "ich9-uhci2" => Some(1),
            "ich9-uhci3" => Some(2),
            _ => None,
        };
        let flags = if model.ends_with("xhci") { pcie } else { pci };
        out.push(Want {
            dev: Dev::Usb(index, k),
            what: format!("{model} usb controller with index='{index}'"),
            flags,
            explicit: pci_address(c.address.as_ref()),
            usb2: function.map(|f| (index, f)),
        });
    };
    let all: Vec<&Controller> = d.controllers.iter().collect();
    for c in libvirt_order(&all) {
        match c.kind {
            ControllerType::Usb => {
                let Some(group) = usb.groups.get(&c.index) else {
                    continue;
                };
                if let Some(k) = group
                    .iter()
                    .position(|g| g.model == c.model || c.model.is_none())
                    && !done_usb.contains(&(c.index, k))
                {
                    done_usb.push((c.index, k));
                    usb_want(&mut out, c.index, k, &group[k]);
                }
            }
            t => {
                let Some(kind) = kind_of(t) else { continue };
                if let Some((_, index, addr, virtio)) = storage
                    .iter()
                    .find(|(st, i, _, _)| *st == t && *i == c.index)
                {
                    done_storage.push((t, *index));
                    let what = format!("{} controller with index='{index}'", t.as_str());
                    out.push(Want {
                        dev: Dev::Controller(kind, *index),
                        what,
                        flags: if *virtio { pcie } else { pci },
                        explicit: pci_address(addr.as_ref()),
                        usb2: None,
                    });
                }
            }
        }
    }
    for (index, group) in &usb.groups {
        for (k, c) in group.iter().enumerate() {
            if !done_usb.contains(&(*index, k)) {
                usb_want(&mut out, *index, k, c);
            }
        }
    }
    for (t, index, addr, virtio) in &storage {
        if done_storage.contains(&(*t, *index)) {
            continue;
        }
        let Some(kind) = kind_of(*t) else { continue };
        out.push(Want {
            dev: Dev::Controller(kind, *index),
            what: format!("{} controller with index='{index}'", t.as_str()),
            flags: if *virtio { pcie } else { pci },
            explicit: pci_address(addr.as_ref()),
            usb2: None,
        });
    }
    let mut push = |dev: Dev, what: String, flags: u32, addr: Option<&Address>| {
        out.push(Want {
            dev,
            what,
            flags,
            explicit: pci_address(addr),
            usb2: None,
        });
    };
    for &i in &disks.order {
        if disks.info[i].bus == DiskBus::Virtio {
            let disk = &d.disks[i];
            let transitional = disk.model == Some(crate::model::DiskModel::VirtioTransitional);
            push(
                Dev::Disk(i),
                format!("disk '{}'", disk.target),
                if transitional { pci } else { pcie },
                disk.address.as_ref(),
            );
        }
    }
    for (i, h) in d.hostdevs.iter().enumerate() {
        match &h.source {
            crate::model::HostdevSource::Pci(host) => push(
                Dev::Hostdev(i),
                format!("host PCI device {}", show(host)),
                pcie,
                h.address.as_ref(),
            ),
            crate::model::HostdevSource::Mdev(m) => push(
                Dev::Hostdev(i),
                format!("mediated device {}", m.uuid),
                pcie,
                h.address.as_ref(),
            ),
            crate::model::HostdevSource::Usb(_) => {}
        }
    }
    match &d.memballoon {
        Some(b) if b.model == BalloonModel::None => {}
        Some(b) => {
            let flags = if b.model == BalloonModel::VirtioTransitional {
                pci
            } else {
                pcie
            };
            push(Dev::Balloon, "memballoon".into(), flags, b.address.as_ref());
        }
        None => push(Dev::Balloon, "memballoon".into(), pcie, None),
    }
    for (i, r) in d.rngs.iter().enumerate() {
        let flags = if r.model == RngModel::VirtioTransitional {
            pci
        } else {
            pcie
        };
        push(Dev::Rng(i), "rng device".into(), flags, r.address.as_ref());
    }
    for (i, w) in d.watchdogs.iter().enumerate() {
        if w.model == WatchdogModel::I6300esb {
            push(
                Dev::Watchdog(i),
                "i6300esb watchdog".into(),
                pci,
                w.address.as_ref(),
            );
        }
    }
    for (i, p) in d.panics.iter().enumerate() {
        if p.effective_model() == PanicModel::Pvpanic {
            push(
                Dev::Panic(i),
                "pvpanic device".into(),
                pci,
                p.address.as_ref(),
            );
        }
    }
    for (n, (v, _)) in super::display::videos(def)?.iter().enumerate() {
        let flags = match v.model {
            VideoModel::None | VideoModel::Ramfb => continue,
            VideoModel::Virtio => pcie,
            VideoModel::Bochs => AUTO | if q35 { PCIE_DEVICE } else { PCI_DEVICE },
            _ => pci,
        };
        push(
            Dev::Video(n),
            format!("{} video card", v.model.as_str()),
            flags,
            v.address.as_ref(),
        );
    }
    for (i, s) in d.shmems.iter().enumerate() {
        push(
            Dev::Shmem(i),
            format!("shmem '{}'", s.name),
            pci,
            s.address.as_ref(),
        );
    }
    for (i, input) in d.inputs.iter().enumerate() {
        if input.bus == Some(InputBus::Virtio) || input.kind == InputType::Passthrough {
            push(
                Dev::Input(i),
                format!("input {i}"),
                pcie,
                input.address.as_ref(),
            );
        }
    }
    for (i, s) in d.serials.iter().enumerate() {
        if s.target_type.as_deref() == Some("pci-serial") {
            let written = s.pci().map(Address::Pci);
            push(Dev::Serial(i), format!("serial {i}"), pci, written.as_ref());
        }
    }
    if let Some(i) = d
        .iommu
        .as_ref()
        .filter(|i| i.model == crate::model::IommuModel::Virtio)
    {
        push(
            Dev::Iommu,
            "virtio iommu".into(),
            pcie | INTEGRATED,
            i.address.as_ref(),
        );
    }
    if let Some(v) = &d.vsock {
        let flags = if v.model == Some(crate::model::VsockModel::VirtioTransitional) {
            pci
        } else {
            pcie
        };
        push(Dev::Vsock, "vsock".into(), flags, v.address.as_ref());
    }
    for (i, m) in d.memories.iter().enumerate() {
        if matches!(m.model, MemoryModel::VirtioPmem | MemoryModel::VirtioMem) {
            push(
                Dev::Memory(i),
                format!("{} memory device {i}", m.model.as_str()),
                pcie,
                m.address.as_ref(),
            );
        }
    }
    Ok(out)
}

/// `0000:BB:SS.F`, as libvirt prints addresses.
pub(super) fn show(a: &PciAddress) -> String {
    format!(
        "{:04x}:{:02x}:{:02x}.{:x}",
        a.domain, a.bus, a.slot, a.function
    )
}

pub(super) fn check_range(what: &str, a: &PciAddress) -> Result<(), Error> {
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

pub(super) fn pci_controllers(def: &DomainDef) -> impl Iterator<Item = &Controller> {
    def.devices
        .controllers
        .iter()
        .filter(|c| c.kind == ControllerType::Pci)
}

pub(super) fn controller_kind(c: &Controller) -> Result<BusKind, Error> {
    let model = c.model.as_deref().ok_or_else(|| {
        invalid(format!(
            "the PCI controller with index='{}' needs a model",
            c.index
        ))
    })?;
    BusKind::from_model(model)
        .ok_or_else(|| unsupported(format!("PCI controller model '{model}' is not supported")))
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
            .place(&what, c.address.as_ref(), Dev::PciController(c.index))?;
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
                let cells = cx.def.cpu.as_ref().map_or(0, |c| c.numa.len());
                if let Some(node) = t.node
                    && node as usize >= cells
                {
                    return Err(invalid(format!(
                        "{model} with index {} is configured for a NUMA node ({node}) the domain does not have ({cells} cells)",
                        c.index
                    )));
                }
                let bus_nr = t.bus_nr.or_else(|| auto_bus_nr(cx.def, c.index)).ok_or_else(|| {
                    invalid(format!(
                        "the {model} with index {} needs <target busNr=...>: no bus number is left below the others",
                        c.index
                    ))
                })?;
                o = o.set("bus_nr", bus_nr);
                if let Some(node) = t.node {
                    o = o.set("numa_node", node);
                }
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

/// The bus number libvirt gives an expander bus (`index`) whose
/// `<target busNr>` is not written: two below the lowest one of the PCI
/// controllers before it (one for the bus, one for its built-in bridge),
/// taken in order; `None` when that would reach the root's numbers.
pub(super) fn auto_bus_nr(def: &crate::model::DomainDef, index: u32) -> Option<u32> {
    let mut lowest = 256u32;
    for c in def
        .devices
        .controllers
        .iter()
        .filter(|c| c.kind == crate::model::ControllerType::Pci)
    {
        if let Some(n) = c.target.as_ref().and_then(|t| t.bus_nr) {
            lowest = lowest.min(n);
        }
    }
    for c in def
        .devices
        .controllers
        .iter()
        .filter(|c| c.kind == crate::model::ControllerType::Pci)
    {
        let expander = matches!(
            c.model.as_deref(),
            Some("pci-expander-bus" | "pcie-expander-bus")
        );
        if !expander || c.target.as_ref().is_some_and(|t| t.bus_nr.is_some()) {
            continue;
        }
        if lowest <= 2 {
            return None;
        }
        lowest -= 2;
        if c.index == index {
            return Some(lowest);
        }
    }
    None
}
