//! The PCI address space while addresses are given out: each bus with
//! what it accepts and the slots taken, filled the way libvirt fills it.

use std::collections::BTreeMap;

use super::pci::*;
use super::{Family, invalid, unsupported};
use crate::error::Error;
/// One bus while addresses are given out.
#[derive(Debug, Clone)]
pub(super) struct SpaceBus {
    flags: u32,
    min: u32,
    max: u32,
    /// Per slot, the functions in use (a bit each).
    functions: [u8; 32],
    /// Per slot, whether it holds devices that share slots.
    aggregate: [bool; 32],
}

impl SpaceBus {
    pub(super) fn new(kind: BusKind) -> SpaceBus {
        let (flags, min, max) = kind.bus_flags();
        SpaceBus {
            flags,
            min,
            max,
            functions: [0; 32],
            aggregate: [false; 32],
        }
    }
}

/// The address space of a domain's buses, as libvirt's
/// virDomainPCIAddressSet: a first counting pass may grow buses, the
/// second gives out the addresses.
#[derive(Debug, Clone)]
pub(super) struct Space {
    buses: Vec<Option<SpaceBus>>,
    family: Family,
    counting: bool,
    pub(super) chosen: BTreeMap<Dev, (u32, u32, u32)>,
    /// The buses added while counting.
    grown: Vec<(u32, BusKind)>,
}

impl Space {
    pub(super) fn new(declared: &BTreeMap<u32, BusKind>, family: Family, counting: bool) -> Space {
        let n = declared.keys().next_back().map_or(1, |m| *m as usize + 1);
        let mut buses = vec![None; n];
        for (i, kind) in declared {
            buses[*i as usize] = Some(SpaceBus::new(*kind));
        }
        Space {
            buses,
            family,
            counting,
            chosen: BTreeMap::new(),
            grown: Vec::new(),
        }
    }

    pub(super) fn bus(&mut self, index: u32) -> Option<&mut SpaceBus> {
        self.buses.get_mut(index as usize).and_then(Option::as_mut)
    }

    pub(super) fn in_use(&self, bus: u32, slot: u32) -> bool {
        self.buses
            .get(bus as usize)
            .and_then(Option::as_ref)
            .is_some_and(|b| b.functions[slot as usize] != 0)
    }

    /// Reserves one function; an explicit address used twice is an error.
    pub(super) fn reserve(
        &mut self,
        what: &str,
        at: (u32, u32, u32),
        flags: u32,
    ) -> Result<(), Error> {
        let (bus, slot, function) = at;
        let b = self.bus(bus).ok_or_else(|| {
            invalid(format!(
                "the {what} is on PCI bus {bus}, which does not exist: add <controller type='pci' index='{bus}'>"
            ))
        })?;
        let bit = 1u8 << function;
        if b.functions[slot as usize] & bit != 0 {
            return Err(invalid(format!(
                "Attempted double use of PCI Address 0000:{bus:02x}:{slot:02x}.{function:x} (by the {what})"
            )));
        }
        b.functions[slot as usize] |= bit;
        if flags & AGGREGATE != 0 {
            b.aggregate[slot as usize] = true;
        }
        Ok(())
    }

    /// Whether a device with `flags` may be given a place on `bus`.
    pub(super) fn compatible(bus: &SpaceBus, flags: u32) -> bool {
        if flags & AUTO != 0 && bus.flags & AUTO == 0 {
            return false;
        }
        flags & bus.flags & TYPES != 0
    }

    /// The first free place for a device with `flags`: a slot with no
    /// function in use (function `function`, else 0), or for devices that
    /// share slots, a free function of a shared slot.
    pub(super) fn next(&self, flags: u32, function: Option<u32>) -> Option<(u32, u32, u32)> {
        for (i, bus) in self.buses.iter().enumerate() {
            let Some(bus) = bus else { continue };
            let fits = if flags & INTEGRATED != 0 {
                i == 0 && flags & bus.flags & TYPES != 0
            } else {
                Self::compatible(bus, flags)
            };
            if !fits {
                continue;
            }
            for slot in bus.min..=bus.max {
                let used = bus.functions[slot as usize];
                if used == 0 {
                    return Some((i as u32, slot, function.unwrap_or(0)));
                }
                if flags & AGGREGATE != 0 && bus.aggregate[slot as usize] {
                    let free = match function {
                        Some(f) => (used & (1 << f) == 0).then_some(f),
                        None => (0..8).find(|f| used & (1 << f) == 0),
                    };
                    if let Some(f) = free {
                        return Some((i as u32, slot, f));
                    }
                }
            }
        }
        None
    }

    /// Gives `dev` the next free place, growing the buses when counting
    /// (libvirt's virDomainPCIAddressSetGrow).
    pub(super) fn take(
        &mut self,
        what: &str,
        flags: u32,
        function: Option<u32>,
    ) -> Result<(u32, u32, u32), Error> {
        if let Some(at) = self.next(flags, function) {
            self.reserve(what, at, flags)?;
            return Ok(at);
        }
        // An added bus is no place for an integrated device.
        if !self.counting || flags & INTEGRATED != 0 {
            return Err(unsupported(format!(
                "No more available PCI slots for the {what}"
            )));
        }
        let at = if flags & PCI_DEVICE != 0 {
            let bridge_possible = self
                .buses
                .iter()
                .flatten()
                .any(|b| b.flags & PCI_BRIDGE != 0);
            if bridge_possible || self.family == Family::I440fx {
                let index = self.grow(BusKind::PciBridge);
                (index, 1, function.unwrap_or(0))
            } else {
                // A pure PCI Express guest gets a conventional PCI bus:
                // a pcie-to-pci-bridge in a root port of its own.
                let port = self.grow(BusKind::RootPort);
                if let Some(b) = self.bus(port) {
                    b.flags = PCIE_TO_PCI;
                }
                let index = self.grow(BusKind::PcieToPci);
                (index, 1, function.unwrap_or(0))
            }
        } else if flags & (PCIE_DEVICE | UPSTREAM) != 0 {
            let index = self.grow(BusKind::RootPort);
            (index, 0, function.unwrap_or(0))
        } else {
            return Err(unsupported(format!(
                "a PCI slot is needed to connect the {what}, but none is available, and it cannot be automatically added"
            )));
        };
        self.reserve(what, at, flags)?;
        Ok(at)
    }

    /// Whether a slot is the host bridge's or the chipset's.
    pub(super) fn builtin(&self, bus: u32, slot: u32) -> bool {
        let chipset = match self.family {
            Family::I440fx => 1,
            Family::Q35 => 0x1f,
        };
        bus == 0 && (slot == 0 || slot == chipset)
    }

    pub(super) fn grow(&mut self, kind: BusKind) -> u32 {
        let index = self.buses.len() as u32;
        self.buses.push(Some(SpaceBus::new(kind)));
        self.grown.push((index, kind));
        index
    }

    /// Explicit addresses and the chipset's own places.
    pub(super) fn chipset(
        &mut self,
        controllers: &[Want],
        wants: &[Want],
        family: Family,
    ) -> Result<(), Error> {
        // The host bridge, and the chipset's slot (PIIX3 at 00:01, the
        // ICH9 LPC, SATA and SMBus at 00:1f): explicit addresses there
        // are only for the chipset's own controllers.
        let builtin = match family {
            Family::I440fx => 1,
            Family::Q35 => 0x1f,
        };
        if let Some(root) = self.bus(0) {
            root.functions[0] = 0xff;
            root.functions[builtin] = 0xff;
        }
        for w in controllers.iter().chain(wants) {
            let Some(a) = w.explicit else { continue };
            check_range(&w.what, &a)?;
            // libvirt's virDomainPCIAddressFlagsCompatible.
            if w.flags & INTEGRATED != 0 && a.bus != 0 {
                return Err(invalid(format!(
                    "The device at PCI address {} needs to be an integrated device (bus=0)",
                    show(&a)
                )));
            }
            let chipset = a.bus == 0 && (a.slot == 0 || a.slot == builtin as u32);
            if chipset {
                if builtin_ok(w, family, &a) {
                    continue;
                }
                return Err(invalid(format!(
                    "Attempted double use of PCI Address {} (by the {})",
                    show(&a),
                    w.what
                )));
            }
            self.reserve(&w.what, (a.bus, a.slot, a.function), w.flags)?;
            self.chosen.insert(w.dev, (a.bus, a.slot, a.function));
        }
        // Where the chipset has its devices.
        let free = |s: &Space, dev: Dev| !s.chosen.contains_key(&dev);
        for w in wants {
            if !free(self, w.dev) {
                continue;
            }
            match (family, w.dev) {
                (Family::I440fx, Dev::Usb(0, 0)) if w.what.contains("piix3-uhci") => {
                    self.chosen.insert(w.dev, (0, 1, 2));
                }
                (Family::Q35, Dev::Usb(index, _)) if w.usb2 == Some((index, 0)) => {
                    for slot in [0x1d, 0x1a] {
                        if !self.in_use(0, slot) {
                            self.reserve(&w.what, (0, slot, 0), w.flags)?;
                            self.chosen.insert(w.dev, (0, slot, 0));
                            break;
                        }
                    }
                }
                _ => {}
            }
        }
        if family == Family::Q35 {
            for w in controllers {
                if let (Dev::PciController(i), None) = (w.dev, w.explicit)
                    && w.flags == DMI
                    && !self.in_use(0, 0x1e)
                    && free(self, Dev::PciController(i))
                {
                    self.reserve(&w.what, (0, 0x1e, 0), w.flags)?;
                    self.chosen.insert(w.dev, (0, 0x1e, 0));
                }
            }
        }
        if let Some(w) = wants.iter().find(|w| w.dev == Dev::Video(0))
            && free(self, w.dev)
        {
            let slot = match family {
                Family::I440fx => 2,
                Family::Q35 => 1,
            };
            let at = if self.in_use(0, slot) {
                self.take(&w.what, w.flags, None)?
            } else {
                self.reserve(&w.what, (0, slot, 0), w.flags)?;
                (0, slot, 0)
            };
            self.chosen.insert(w.dev, at);
        }
        if family == Family::Q35
            && !self.in_use(0, 0x1b)
            && let Some(w) = wants.iter().find(|w| {
                matches!(w.dev, Dev::Sound(_)) && w.what.starts_with("ich9") && free(self, w.dev)
            })
        {
            self.reserve(&w.what, (0, 0x1b, 0), w.flags)?;
            self.chosen.insert(w.dev, (0, 0x1b, 0));
        }
        Ok(())
    }

    /// Gives every device without an address its place, in order.
    pub(super) fn assign(
        &mut self,
        controllers: &[Want],
        wants: &[Want],
        family: Family,
    ) -> Result<(), Error> {
        self.chipset(controllers, wants, family)?;
        self.assign_rest(controllers, wants)
    }

    pub(super) fn assign_rest(
        &mut self,
        controllers: &[Want],
        wants: &[Want],
    ) -> Result<(), Error> {
        for w in controllers.iter().chain(wants) {
            if self.chosen.contains_key(&w.dev) {
                continue;
            }
            let at = match w.usb2 {
                Some((index, function)) => {
                    // An ICH9 USB2 set shares one slot.
                    let placed = wants
                        .iter()
                        .filter(|o| o.usb2.is_some_and(|(i, _)| i == index))
                        .find_map(|o| self.chosen.get(&o.dev).copied());
                    match placed {
                        Some((bus, slot, _)) => {
                            self.reserve(&w.what, (bus, slot, function), w.flags)?;
                            (bus, slot, function)
                        }
                        None => self.take(&w.what, w.flags, Some(function))?,
                    }
                }
                None => self.take(&w.what, w.flags, None)?,
            };
            self.chosen.insert(w.dev, at);
        }
        Ok(())
    }

    /// The counting pass: which buses libvirt would add for these devices.
    pub(super) fn count(
        mut self,
        controllers: &[Want],
        wants: &[Want],
        family: Family,
        max_declared: u32,
    ) -> Result<Vec<(u32, BusKind)>, Error> {
        self.chipset(controllers, wants, family)?;
        // On pc, one slot is kept for a bridge that hotplug may need.
        if family == Family::I440fx {
            let full = self
                .buses
                .iter()
                .flatten()
                .all(|b| (b.min..=b.max).all(|s| b.functions[s as usize] != 0));
            if !full {
                self.take("spare slot", AUTO | PCI_DEVICE, None)?;
            }
        }
        self.assign_rest(controllers, wants)?;
        // A q35 domain whose XML leaves PCI controllers to the manager
        // gets one spare root port for hotplug.
        if family == Family::Q35 && max_declared == 0 && self.buses.len() > 1 {
            self.take("spare root port", AUTO | PCIE_DEVICE, None)?;
        }
        // Every added controller needs a place too (and may add more).
        let mut i = 0;
        while i < self.grown.len() {
            let (index, kind) = self.grown[i];
            let what = format!("{} controller with index='{index}'", kind.model());
            self.take(&what, kind.connect(), None)?;
            i += 1;
        }
        Ok(self.grown)
    }

    /// The slots with more than one function in use.
    pub(super) fn shared(&self) -> std::collections::BTreeSet<(u32, u32)> {
        let mut out = std::collections::BTreeSet::new();
        for (i, bus) in self.buses.iter().enumerate() {
            let Some(bus) = bus else { continue };
            for slot in 0..32 {
                if bus.functions[slot].count_ones() > 1 && !self.builtin(i as u32, slot as u32) {
                    out.insert((i as u32, slot as u32));
                }
            }
        }
        out
    }
}
