//! Storage, USB and virtio-serial controllers: which ones exist (declared
//! or implied by the devices that need them, as libvirt adds them) and
//! their `-device` options. PCI controllers are in `pci`; USB ports and
//! hubs in `usb`.

use std::collections::{BTreeMap, BTreeSet};

use super::devs::{CtlKind, Dev};
use super::disks::{DiskBusKey, Disks};
use super::opts::Opts;
use super::opts::with_virtio;
use super::usb::usb_device;
use super::{Ctx, Family, invalid, unsupported};
use crate::error::Error;
use crate::model::{
    Address, Channel, Controller, ControllerType, DiskBus, DomainDef, VirtioOptions,
};

/// A SCSI host adapter model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScsiModel {
    /// The QEMU device.
    pub device: &'static str,
    /// Whether disks are addressed by `scsi-id` = unit alone (the LSI
    /// 53C895A has one bus and no LUNs), else by channel, target and LUN.
    pub by_unit: bool,
}

impl ScsiModel {
    fn from_libvirt(model: Option<&str>) -> Result<ScsiModel, Error> {
        let (device, by_unit) = match model.unwrap_or("lsilogic") {
            // libvirt's default and 'auto' model on x86.
            "lsilogic" | "auto" => ("lsi", true),
            "virtio-scsi" => ("virtio-scsi-pci", false),
            "virtio-transitional" => ("virtio-scsi-pci-transitional", false),
            "virtio-non-transitional" => ("virtio-scsi-pci-non-transitional", false),
            "lsisas1068" => ("mptsas1068", false),
            "lsisas1078" => ("megasas", false),
            "vmpvscsi" => ("pvscsi", false),
            other => {
                return Err(unsupported(format!(
                    "SCSI controller model '{other}' is not supported"
                )));
            }
        };
        Ok(ScsiModel { device, by_unit })
    }

    fn is_virtio(self) -> bool {
        self.device.starts_with("virtio")
    }

    /// Whether it is a virtio device that is PCI Express on q35 (the
    /// transitional one is conventional PCI).
    fn is_virtio_pcie(self) -> bool {
        self.is_virtio() && self.device != "virtio-scsi-pci-transitional"
    }
}

/// One storage or virtio-serial controller to emit.
#[derive(Debug, Clone, Default)]
struct Declared {
    address: Option<Address>,
    ports: Option<u32>,
    vectors: Option<u32>,
    virtio: VirtioOptions,
    queues: Option<u32>,
    cmd_per_lun: Option<u32>,
    max_sectors: Option<u32>,
    ioeventfd: Option<bool>,
    iothread: Option<u32>,
}

impl Declared {
    fn from(c: &Controller) -> Declared {
        Declared {
            address: c.address,
            ports: c.ports,
            vectors: c.vectors,
            virtio: c.virtio,
            queues: c.queues,
            cmd_per_lun: c.cmd_per_lun,
            max_sectors: c.max_sectors,
            ioeventfd: c.ioeventfd,
            iothread: c.iothread,
        }
    }
}

/// The storage and virtio-serial controllers of a domain, declared and
/// implied.
#[derive(Debug, Default)]
pub struct Plan {
    scsi: BTreeMap<u32, (ScsiModel, Declared)>,
    sata: BTreeMap<u32, Declared>,
    virtio_serial: BTreeMap<u32, Declared>,
    /// The virtio-serial port of each virtio console and channel.
    pub serial_ports: SerialPorts,
}

impl Plan {
    /// Collects the controllers; `disks` imply the ones they sit on.
    pub fn new(def: &DomainDef, family: Family, disks: &Disks) -> Result<Plan, Error> {
        let mut plan = Plan::default();
        for c in &def.devices.controllers {
            let dup = |kind: &str| {
                invalid(format!(
                    "Multiple '{kind}' controllers with index '{}'",
                    c.index
                ))
            };
            match c.kind {
                ControllerType::Scsi => {
                    let model = ScsiModel::from_libvirt(c.model.as_deref())?;
                    if plan
                        .scsi
                        .insert(c.index, (model, Declared::from(c)))
                        .is_some()
                    {
                        return Err(dup("scsi"));
                    }
                }
                ControllerType::Sata => {
                    if family == Family::Q35 && c.index == 0 {
                        builtin_address(c, 0x1f, 2, "the Q35 AHCI controller")?;
                    }
                    if plan.sata.insert(c.index, Declared::from(c)).is_some() {
                        return Err(dup("sata"));
                    }
                }
                ControllerType::VirtioSerial => {
                    if plan
                        .virtio_serial
                        .insert(c.index, Declared::from(c))
                        .is_some()
                    {
                        return Err(dup("virtio-serial"));
                    }
                }
                ControllerType::Ide => match family {
                    Family::I440fx if c.index == 0 => {
                        builtin_address(c, 1, 1, "the PIIX3 IDE controller")?;
                    }
                    Family::I440fx => {
                        return Err(unsupported(
                            "only one IDE controller (index='0', built into the pc machine) is supported",
                        ));
                    }
                    Family::Q35 => {
                        return Err(unsupported(
                            "q35 machines have no IDE controller: use bus='sata' for disks",
                        ));
                    }
                },
                ControllerType::Fdc => {
                    if c.index != 0 || c.address.is_some() {
                        return Err(unsupported(
                            "only one floppy controller (index='0', without an address) is supported",
                        ));
                    }
                }
                ControllerType::Pci | ControllerType::Usb => {}
            }
        }
        for (DiskBusKey(bus), controller) in disks.controllers_used() {
            match bus {
                DiskBus::Scsi => {
                    let default = ScsiModel::from_libvirt(None)?;
                    plan.scsi
                        .entry(controller)
                        .or_insert((default, Declared::default()));
                }
                DiskBus::Sata => {
                    plan.sata.entry(controller).or_default();
                }
                _ => {}
            }
        }
        add_implied_virtio_serial(def, &mut plan.virtio_serial);
        plan.serial_ports = assign_serial_ports(def, &mut plan.virtio_serial)?;
        Ok(plan)
    }

    /// The SCSI model of the controller with `index`.
    pub fn scsi(&self, index: u32) -> Option<ScsiModel> {
        self.scsi.get(&index).map(|(m, _)| *m)
    }

    /// The SCSI, SATA and virtio-serial controllers (declared and
    /// implied) that want a PCI slot, by kind and index: each with its
    /// address and whether it is a virtio device. Q35's built-in SATA
    /// controller is not among them.
    pub fn pci_devices(&self, family: Family) -> Vec<(ControllerType, u32, Option<Address>, bool)> {
        let scsi = self
            .scsi
            .iter()
            .map(|(i, (m, d))| (ControllerType::Scsi, *i, d.address, m.is_virtio_pcie()));
        let sata = self
            .sata
            .iter()
            .filter(|(i, _)| !(family == Family::Q35 && **i == 0))
            .map(|(i, d)| (ControllerType::Sata, *i, d.address, false));
        let serial = self
            .virtio_serial
            .iter()
            .map(|(i, d)| (ControllerType::VirtioSerial, *i, d.address, true));
        scsi.chain(sata).chain(serial).collect()
    }
}

/// Virtio consoles and channels need a virtio-serial controller; libvirt
/// adds each one they name (index 0 when they name none).
fn add_implied_virtio_serial(def: &DomainDef, controllers: &mut BTreeMap<u32, Declared>) {
    let consoles = def
        .devices
        .consoles
        .iter()
        .filter(|c| c.target_type.as_deref() == Some("virtio"))
        .map(|c| c.virtio_serial().map_or(0, |a| a.controller));
    let channels = def
        .devices
        .channels
        .iter()
        .filter(|c| c.is_virtio())
        .map(|c| match c.address {
            Some(Address::VirtioSerial(a)) => a.controller,
            _ => 0,
        });
    for i in channels.chain(consoles) {
        controllers.entry(i).or_default();
    }
}

/// The virtio-serial controller and port of each virtio console (in the
/// order of `<console target type='virtio'>`) and channel (`None` for a
/// guestfwd channel, which is no port).
#[derive(Debug, Default)]
pub struct SerialPorts {
    pub consoles: Vec<(u32, u32)>,
    pub channels: Vec<Option<(u32, u32)>>,
}

/// The ports of a virtio-serial controller without `ports`: QEMU's 31.
const DEFAULT_SERIAL_PORTS: u32 = 31;

/// Gives virtio consoles and channels their virtio-serial ports as
/// libvirt does: complete addresses (with a port) are reserved first, then
/// consoles take the first free port from 0 and channels from 1, on the
/// first controller with one free; a channel naming only its controller
/// takes that controller's first free port. When every controller is
/// full, a controller is added at the first unused index.
fn assign_serial_ports(
    def: &DomainDef,
    controllers: &mut BTreeMap<u32, Declared>,
) -> Result<SerialPorts, Error> {
    let ports = |d: &Declared| d.ports.unwrap_or(DEFAULT_SERIAL_PORTS);
    let mut used: BTreeMap<u32, BTreeSet<u32>> = BTreeMap::new();
    let channel_addr = |c: &Channel| match c.address {
        Some(Address::VirtioSerial(a)) => Some(a),
        _ => None,
    };
    // A virtio console's written port is its own, 0 too (the console
    // port); a channel's 0 asks for one.
    let console_addrs = def
        .devices
        .consoles
        .iter()
        .filter(|c| c.target_type.as_deref() == Some("virtio"))
        .filter_map(|c| c.virtio_serial());
    let written = console_addrs.map(|a| (a, true)).chain(
        def.devices
            .channels
            .iter()
            .filter_map(channel_addr)
            .map(|a| (a, false)),
    );
    for (a, console) in written {
        if a.port == 0 && !console {
            continue;
        }
        let max = controllers.get(&a.controller).map(ports).ok_or_else(|| {
            invalid(format!(
                "virtio serial controller {} is missing",
                a.controller
            ))
        })?;
        if a.bus != 0 {
            return Err(unsupported("virtio-serial controllers have only bus 0"));
        }
        if a.port >= max {
            return Err(invalid(format!(
                "virtio serial controller {} does not have port {}",
                a.controller, a.port
            )));
        }
        if !used.entry(a.controller).or_default().insert(a.port) {
            return Err(invalid(format!(
                "virtio serial port {} on controller {} is already occupied",
                a.port, a.controller
            )));
        }
    }
    let mut next = |want: Option<u32>, first: u32| -> Result<(u32, u32), Error> {
        for (ctl, d) in controllers.iter() {
            if want.is_some_and(|w| w != *ctl) {
                continue;
            }
            let taken = used.entry(*ctl).or_default();
            if let Some(p) = (first..ports(d)).find(|p| !taken.contains(p)) {
                taken.insert(p);
                return Ok((*ctl, p));
            }
        }
        if let Some(ctl) = want {
            return Err(unsupported(format!(
                "Unable to find a free port on virtio-serial controller {ctl}"
            )));
        }
        let index = (0..).find(|i| !controllers.contains_key(i)).unwrap_or(0);
        controllers.insert(index, Declared::default());
        used.entry(index).or_default().insert(first);
        Ok((index, first))
    };
    let mut out = SerialPorts::default();
    for c in &def.devices.consoles {
        if c.target_type.as_deref() == Some("virtio") {
            out.consoles.push(match c.virtio_serial() {
                Some(a) => (a.controller, a.port),
                None => next(None, 0)?,
            });
        }
    }
    for c in &def.devices.channels {
        let port = match channel_addr(c) {
            _ if !c.is_virtio() => None,
            Some(a) if a.port != 0 => Some((a.controller, a.port)),
            Some(a) => Some(next(Some(a.controller), 1)?),
            None => Some(next(None, 1)?),
        };
        out.channels.push(port);
    }
    Ok(out)
}

/// The UNIX socket paths of virtio channels written without one, by
/// channel (`None` for the others), as a start gives them.
pub fn channel_sockets(
    def: &DomainDef,
    runtime_dir: &std::path::Path,
) -> Result<Vec<Option<std::path::PathBuf>>, Error> {
    let mut controllers: BTreeMap<u32, Declared> = def
        .devices
        .controllers
        .iter()
        .filter(|c| c.kind == ControllerType::VirtioSerial)
        .map(|c| (c.index, Declared::from(c)))
        .collect();
    add_implied_virtio_serial(def, &mut controllers);
    let ports = assign_serial_ports(def, &mut controllers)?;
    Ok(def
        .devices
        .channels
        .iter()
        .zip(&ports.channels)
        .map(|(c, at)| at.and_then(|at| super::chardev::unnamed_socket(c, at, runtime_dir)))
        .collect())
}

/// A built-in controller may only describe where the chipset has it.
fn builtin_address(c: &Controller, slot: u32, function: u32, what: &str) -> Result<(), Error> {
    match c.address {
        None => Ok(()),
        Some(Address::Pci(a)) if a.bus == 0 && a.slot == slot && a.function == function => Ok(()),
        Some(_) => Err(unsupported(format!(
            "{what} is built in at PCI address 0000:00:{slot:02x}.{function}: remove the <address> or use that one"
        ))),
    }
}

/// Emits the USB, SCSI, SATA and virtio-serial controllers, each kind by
/// index.
pub fn emit(cx: &mut Ctx<'_>) -> Result<(), Error> {
    let groups = std::mem::take(&mut cx.usb.groups);
    for (index, group) in &groups {
        emit_usb_group(cx, *index, group)?;
    }
    cx.usb.groups = groups;

    let scsi: Vec<(u32, (ScsiModel, Declared))> =
        cx.ctrls.scsi.iter().map(|(i, v)| (*i, v.clone())).collect();
    for (index, (model, d)) in scsi {
        let what = format!("scsi controller with index='{index}'");
        let o = Opts::new(model.device).set("id", super::hotplug::scsi_controller_id(index));
        let o = with_virtio(o, &d.virtio, model.is_virtio(), &what)?;
        if d.ports.is_some() {
            return Err(unsupported("ports is not supported on a SCSI controller"));
        }
        let tuned = d.queues.is_some()
            || d.cmd_per_lun.is_some()
            || d.max_sectors.is_some()
            || d.ioeventfd.is_some()
            || d.iothread.is_some();
        if tuned && !model.is_virtio() {
            return Err(unsupported(
                "'queues', 'cmd_per_lun', 'max_sectors', 'ioeventfd' and 'iothread' are only supported by virtio-scsi controller",
            ));
        }
        let iothread = match d.iothread {
            None => None,
            Some(n) if cx.def.iothread_ids().contains(&n) => Some(format!("iothread{n}")),
            Some(n) => {
                return Err(invalid(format!(
                    "controller iothread '{n}' not defined in iothreadid: the {what} names an I/O thread the domain's <iothreads> does not have"
                )));
            }
        };
        let o = o
            .maybe("iothread", iothread)
            .maybe("num_queues", d.queues)
            .maybe("cmd_per_lun", d.cmd_per_lun)
            .maybe("max_sectors", d.max_sectors)
            .maybe_switch("ioeventfd", d.ioeventfd);
        let dev = Dev::Controller(CtlKind::Scsi, index);
        let placed = cx.pci.place(&what, d.address.as_ref(), dev)?;
        cx.arg("-device", o.extend(placed.opts).build());
    }

    let sata: Vec<(u32, Declared)> = cx.ctrls.sata.iter().map(|(i, v)| (*i, v.clone())).collect();
    for (index, d) in sata {
        if cx.family == Family::Q35 && index == 0 {
            continue; // built in
        }
        let what = format!("sata controller with index='{index}'");
        with_virtio(Opts::empty(), &d.virtio, false, &what)?;
        let dev = Dev::Controller(CtlKind::Sata, index);
        let placed = cx.pci.place(&what, d.address.as_ref(), dev)?;
        let o = Opts::new("ich9-ahci")
            .set("id", format!("sata{index}"))
            .extend(placed.opts);
        cx.arg("-device", o.build());
    }

    let serial: Vec<(u32, Declared)> = cx
        .ctrls
        .virtio_serial
        .iter()
        .map(|(i, v)| (*i, v.clone()))
        .collect();
    for (index, d) in serial {
        let what = format!("virtio-serial controller with index='{index}'");
        let o = Opts::new("virtio-serial-pci").set("id", format!("virtio-serial{index}"));
        let o = with_virtio(o, &d.virtio, true, &what)?
            .maybe("max_ports", d.ports)
            .maybe("vectors", d.vectors);
        let dev = Dev::Controller(CtlKind::VirtioSerial, index);
        let placed = cx.pci.place(&what, d.address.as_ref(), dev)?;
        cx.arg("-device", o.extend(placed.opts).build());
    }
    Ok(())
}

/// One USB controller, or an EHCI master with its companions on one slot.
fn emit_usb_group(cx: &mut Ctx<'_>, index: u32, group: &[Controller]) -> Result<(), Error> {
    let what = format!("usb controller with index='{index}'");
    let id = super::usb::group_id(index, group);
    let master = &group[0];
    let master_model = master.model.as_deref().unwrap_or_default();
    for c in group {
        with_virtio(Opts::empty(), &c.virtio, false, &what)?;
    }
    if group.len() == 1 {
        let (device, _) = usb_device(master_model)?;
        let mut o = Opts::new(device).set("id", &id);
        if let Some(ports) = master.ports {
            if !master_model.ends_with("xhci") {
                return Err(unsupported(format!(
                    "ports is not supported on a '{master_model}' USB controller"
                )));
            }
            if ports > 15 {
                return Err(unsupported(format!(
                    "'{master_model}' controller only supports up to '15' ports"
                )));
            }
            o = o.set("p2", ports).set("p3", ports);
        }
        let placed = cx
            .pci
            .place(&what, master.address.as_ref(), Dev::Usb(index, 0))?;
        cx.arg("-device", o.extend(placed.opts).build());
        return Ok(());
    }
    for (k, c) in group.iter().enumerate() {
        let model = c.model.as_deref().unwrap_or_default();
        let (device, companion) = usb_device(model)?;
        if c.ports.is_some() {
            return Err(unsupported(format!(
                "ports is not supported on a '{model}' USB controller"
            )));
        }
        let placed = cx
            .pci
            .place(&what, c.address.as_ref(), Dev::Usb(index, k))?;
        let o = match companion {
            None => Opts::new(device).set("id", &id),
            // A companion has no id but the user's (libvirt gives it
            // none on the command line, which would leave its alias a
            // name QEMU does not know).
            Some((_, first)) => Opts::new(device)
                .maybe("id", c.alias.as_ref())
                .set("masterbus", format!("{id}.0"))
                .set("firstport", c.master_startport.unwrap_or(first)),
        };
        cx.arg("-device", o.extend(placed.opts).build());
    }
    Ok(())
}
