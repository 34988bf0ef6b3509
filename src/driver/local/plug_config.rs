//! Devices that attach and detach change in the persistent definition
//! (`--config`): every type libvirt's qemuDomainAttachDeviceConfig
//! and qemuDomainDetachDeviceConfig take besides disks and interfaces,
//! with libvirt's rules for a device already there and its way of
//! finding the device a detach names. The device comes into effect at
//! the domain's next start, made as a start makes it. Of these types,
//! an `<rng>` (`plug_rng`), a `<memory>` (`plug_memory`), a `<watchdog>`,
//! an `<input>`, a SCSI `<controller>` (`plug_devices`), a virtio
//! `<channel>` or `<console>`, a `<redirdev>` (`plug_chr`), a virtiofs
//! `<filesystem>` (`plug_fs`) and a `<shmem>` (`plug_shmem`) are plugged
//! into and out of a running domain too; the others are not (that is
//! refused by name, nothing changed).

use super::driver::Core;
use crate::driver::{Domain, ModifyFlags};
use crate::error::{Error, ErrorCode, Result};
use crate::model::{
    Address, CcidController, Channel, CharDevice, CharSource, Controller, ControllerType, Devices,
    DomainDef, Filesystem, Hostdev, Input, InputType, MemoryDevice, Redirdev, Rng, Shmem, Sound,
    Vsock, Watchdog,
};

/// A device of a type that changes the persistent definition only.
#[derive(Debug, Clone)]
pub(crate) enum ColdDevice {
    /// `<sound>`.
    Sound(Sound),
    /// `<hostdev>`.
    Hostdev(Hostdev),
    /// `<controller>`, and whether its XML gave an index (without one it
    /// takes its type's lowest free index, as libvirt's post-parse).
    Controller(Controller, bool),
    /// `<controller type='ccid'>`.
    Ccid(CcidController),
    /// `<serial>`, and whether its XML gave a target port.
    Serial(CharDevice, bool),
    /// `<console>`, and whether its XML gave a target port.
    Console(CharDevice, bool),
    /// `<parallel>`, and whether its XML gave a target port.
    Parallel(CharDevice, bool),
    /// `<channel>`.
    Channel(Channel),
    /// `<filesystem>`.
    Filesystem(Filesystem),
    /// `<rng>`.
    Rng(Rng),
    /// `<memory>`.
    Memory(MemoryDevice),
    /// `<redirdev>`.
    Redirdev(Redirdev),
    /// `<shmem>`.
    Shmem(Shmem),
    /// `<watchdog>`.
    Watchdog(Watchdog),
    /// `<input>`.
    Input(Input),
    /// `<vsock>`.
    Vsock(Vsock),
}

/// The device elements libvirt refuses to attach or detach at all, even
/// to a definition.
pub(crate) const NEVER_PLUGGED: &[&str] = &[
    "video",
    "graphics",
    "hub",
    "smartcard",
    "memballoon",
    "nvram",
    "tpm",
    "panic",
    "iommu",
    "audio",
];

impl ColdDevice {
    /// The device of element `name` out of `devices` (a document that
    /// holds just it); `given` says which of index / target port the
    /// element wrote. `None` for an element of another kind.
    pub(crate) fn take(name: &str, mut devices: Devices, given: bool) -> Option<ColdDevice> {
        let d = &mut devices;
        Some(match name {
            "sound" => ColdDevice::Sound(d.sounds.pop()?),
            "hostdev" => ColdDevice::Hostdev(d.hostdevs.pop()?),
            "controller" => match d.ccid_controllers.pop() {
                Some(c) => ColdDevice::Ccid(c),
                None => ColdDevice::Controller(d.controllers.pop()?, given),
            },
            "serial" => ColdDevice::Serial(d.serials.pop()?, given),
            "console" => ColdDevice::Console(d.consoles.pop()?, given),
            "parallel" => ColdDevice::Parallel(d.parallels.pop()?, given),
            "channel" => ColdDevice::Channel(d.channels.pop()?),
            "filesystem" => ColdDevice::Filesystem(d.filesystems.pop()?),
            "rng" => ColdDevice::Rng(d.rngs.pop()?),
            "memory" => ColdDevice::Memory(d.memories.pop()?),
            "redirdev" => ColdDevice::Redirdev(d.redirdevs.pop()?),
            "shmem" => ColdDevice::Shmem(d.shmems.pop()?),
            "watchdog" => ColdDevice::Watchdog(d.watchdogs.pop()?),
            "input" => ColdDevice::Input(d.inputs.pop()?),
            "vsock" => ColdDevice::Vsock(d.vsock.take()?),
            _ => return None,
        })
    }

    /// libvirt's name of the device's type (`virDomainDeviceType`).
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            ColdDevice::Sound(_) => "sound",
            ColdDevice::Hostdev(_) => "hostdev",
            ColdDevice::Controller(..) | ColdDevice::Ccid(_) => "controller",
            ColdDevice::Serial(..)
            | ColdDevice::Console(..)
            | ColdDevice::Parallel(..)
            | ColdDevice::Channel(_) => "chr",
            ColdDevice::Filesystem(_) => "filesystem",
            ColdDevice::Rng(_) => "rng",
            ColdDevice::Memory(_) => "memory",
            ColdDevice::Redirdev(_) => "redirdev",
            ColdDevice::Shmem(_) => "shmem",
            ColdDevice::Watchdog(_) => "watchdog",
            ColdDevice::Input(_) => "input",
            ColdDevice::Vsock(_) => "vsock",
        }
    }

    /// Adds the device to `def`, refusing one libvirt finds there already.
    pub(crate) fn insert(&self, def: &mut DomainDef) -> Result<()> {
        let d = &mut def.devices;
        match self {
            ColdDevice::Sound(s) => d.sounds.push(s.clone()),
            ColdDevice::Hostdev(h) => {
                if d.hostdevs.iter().any(|o| o.source == h.source) {
                    return Err(already("device is already in the domain configuration"));
                }
                d.hostdevs.push(h.clone());
            }
            ColdDevice::Controller(c, given) => {
                let mut c = c.clone();
                let taken = |i: u32| {
                    d.controllers
                        .iter()
                        .any(|o| o.kind == c.kind && o.index == i)
                };
                if *given && taken(c.index) {
                    return Err(already(format!(
                        "controller index='{}' already exists",
                        c.index
                    )));
                }
                if !*given {
                    // Index 0 of the PCI controllers is the machine's root
                    // bus, there whether the definition writes it or not.
                    let first = u32::from(c.kind == ControllerType::Pci);
                    c.index = (first..).find(|i| !taken(*i)).expect("a free index");
                }
                d.controllers.push(c);
            }
            ColdDevice::Ccid(c) => {
                if d.ccid_controllers.iter().any(|o| o.index == c.index) {
                    return Err(already(format!(
                        "controller index='{}' already exists",
                        c.index
                    )));
                }
                d.ccid_controllers.push(c.clone());
            }
            ColdDevice::Serial(c, given)
            | ColdDevice::Console(c, given)
            | ColdDevice::Parallel(c, given) => {
                if matches!(self, ColdDevice::Console(..))
                    && c.target_type.as_deref() == Some("serial")
                {
                    return Err(Error::new(
                        ErrorCode::ConfigUnsupported,
                        "attaching serial console is not supported",
                    ));
                }
                let list = self.chr_list(d);
                let mut c = c.clone();
                if !*given {
                    let taken = |p: u32| list.iter().any(|o| o.target_port == Some(p));
                    c.target_port = Some((0..).find(|p| !taken(*p)).expect("a free port"));
                }
                if list.iter().any(|o| chr_matches(o, &c)) {
                    return Err(already("chardev already exists"));
                }
                list.push(c);
            }
            ColdDevice::Channel(c) => {
                if d.channels
                    .iter()
                    .any(|o| o.source == c.source && o.target == c.target)
                {
                    return Err(already("chardev already exists"));
                }
                d.channels.push(c.clone());
            }
            ColdDevice::Filesystem(f) => {
                if d.filesystems.iter().any(|o| o.target_dir == f.target_dir) {
                    return Err(already("Target already exists"));
                }
                d.filesystems.push(f.clone());
            }
            ColdDevice::Rng(r) => d.rngs.push(r.clone()),
            ColdDevice::Memory(m) => {
                let slots = def.max_memory.map_or(0, |m| m.slots);
                if def.devices.memories.len() >= slots as usize {
                    return Err(Error::new(
                        ErrorCode::ConfigUnsupported,
                        "no free memory device slot available",
                    ));
                }
                // As libvirt: the device's memory joins the total and
                // the balloon's target.
                def.memory_kib += m.size_kib;
                if let Some(c) = &mut def.current_memory_kib {
                    *c += m.size_kib;
                }
                def.devices.memories.push(m.clone());
            }
            ColdDevice::Redirdev(r) => d.redirdevs.push(r.clone()),
            ColdDevice::Shmem(s) => {
                if d.shmems.iter().any(|o| shmem_matches(o, s)) {
                    return Err(already("device is already in the domain configuration"));
                }
                d.shmems.push(s.clone());
            }
            ColdDevice::Watchdog(w) => {
                if !d.watchdogs.is_empty() {
                    return Err(already("domain already has a watchdog"));
                }
                d.watchdogs.push(w.clone());
            }
            ColdDevice::Input(i) => d.inputs.push(i.clone()),
            ColdDevice::Vsock(v) => {
                if d.vsock.is_some() {
                    return Err(already("domain already has a vsock device"));
                }
                d.vsock = Some(v.clone());
            }
        }
        Ok(())
    }

    /// Takes the device out of `def`, found as libvirt finds it; the
    /// error names what was not found, in libvirt's words.
    pub(crate) fn remove(&self, def: &mut DomainDef) -> Result<()> {
        let d = &mut def.devices;
        let missing = |what: &str| Error::new(ErrorCode::InvalidArgument, what.to_string());
        let not_present = || missing("device not present in domain configuration");
        match self {
            ColdDevice::Sound(s) => {
                let i = position(&d.sounds, |o| {
                    o.model == s.model
                        && o.codecs == s.codecs
                        && same_address(&s.address, &o.address)
                })
                .ok_or_else(not_present)?;
                d.sounds.remove(i);
            }
            ColdDevice::Hostdev(h) => {
                let i = position(&d.hostdevs, |o| o.source == h.source).ok_or_else(not_present)?;
                d.hostdevs.remove(i);
            }
            ColdDevice::Controller(c, given) => {
                // As libvirt's virDomainControllerFind: by type and index.
                let i = position(&d.controllers, |o| o.kind == c.kind && o.index == c.index)
                    .ok_or_else(|| match given {
                        true => not_present(),
                        false => missing(
                            "device not present in domain configuration: name the controller by its index",
                        ),
                    })?;
                d.controllers.remove(i);
            }
            ColdDevice::Ccid(c) => {
                let i = position(&d.ccid_controllers, |o| o.index == c.index)
                    .ok_or_else(not_present)?;
                d.ccid_controllers.remove(i);
            }
            ColdDevice::Serial(c, given)
            | ColdDevice::Console(c, given)
            | ColdDevice::Parallel(c, given) => {
                let list = self.chr_list(d);
                // Without a port, the one device of that source and type.
                let found: Vec<usize> = (0..list.len())
                    .filter(|&i| {
                        let mut c = c.clone();
                        if !*given {
                            c.target_port = list[i].target_port;
                        }
                        chr_matches(&list[i], &c)
                    })
                    .collect();
                match found.as_slice() {
                    [] => return Err(not_present()),
                    [i] => {
                        list.remove(*i);
                    }
                    _ => {
                        return Err(Error::new(
                            ErrorCode::InvalidArgument,
                            format!(
                                "{} devices of this source and type are in the domain configuration: name one by its <target port=...>",
                                found.len()
                            ),
                        ));
                    }
                }
            }
            ColdDevice::Channel(c) => {
                let i = position(&d.channels, |o| {
                    o.source == c.source && o.target == c.target
                })
                .ok_or_else(not_present)?;
                d.channels.remove(i);
            }
            ColdDevice::Filesystem(f) => {
                let i = position(&d.filesystems, |o| o.target_dir == f.target_dir)
                    .ok_or_else(|| missing("no matching filesystem device was found"))?;
                d.filesystems.remove(i);
            }
            ColdDevice::Rng(r) => {
                let i =
                    find_rng(def, r).ok_or_else(|| missing("no matching RNG device was found"))?;
                def.devices.rngs.remove(i);
            }
            ColdDevice::Memory(m) => {
                let i = position(&d.memories, |o| memory_matches(o, m))
                    .ok_or_else(|| missing("matching memory device was not found"))?;
                let gone = d.memories.remove(i);
                def.memory_kib = def.memory_kib.saturating_sub(gone.size_kib);
                if let Some(c) = &mut def.current_memory_kib {
                    *c = c.saturating_sub(gone.size_kib).min(def.memory_kib);
                }
            }
            ColdDevice::Redirdev(r) => {
                let i = position(&d.redirdevs, |o| {
                    o.source == r.source && same_address(&r.address, &o.address)
                })
                .ok_or_else(|| missing("no matching redirdev was not found"))?;
                d.redirdevs.remove(i);
            }
            ColdDevice::Shmem(s) => {
                let i = position(&d.shmems, |o| shmem_matches(o, s))
                    .ok_or_else(|| missing("matching shmem device was not found"))?;
                d.shmems.remove(i);
            }
            ColdDevice::Watchdog(w) => {
                if d.watchdogs.is_empty() {
                    return Err(missing("domain has no watchdog"));
                }
                let i = position(&d.watchdogs, |o| o.model == w.model)
                    .ok_or_else(|| missing("matching watchdog device not found"))?;
                d.watchdogs.remove(i);
            }
            ColdDevice::Input(x) => {
                let i =
                    find_input(def, x).ok_or_else(|| missing("matching input device not found"))?;
                def.devices.inputs.remove(i);
            }
            ColdDevice::Vsock(v) => match &d.vsock {
                Some(o)
                    if o.model == v.model
                        && o.auto_cid == v.auto_cid
                        && same_address(&v.address, &o.address) =>
                {
                    d.vsock = None;
                }
                _ => {
                    return Err(Error::new(
                        ErrorCode::OperationFailed,
                        "matching vsock device not found",
                    ));
                }
            },
        }
        Ok(())
    }

    /// The list of character devices a serial port, console or parallel
    /// port goes into.
    fn chr_list<'a>(&self, d: &'a mut Devices) -> &'a mut Vec<CharDevice> {
        match self {
            ColdDevice::Console(..) => &mut d.consoles,
            ColdDevice::Parallel(..) => &mut d.parallels,
            _ => &mut d.serials,
        }
    }
}

/// The error for a device the definition has already.
fn already(what: impl Into<String>) -> Error {
    Error::new(ErrorCode::OperationInvalid, what.into())
}

/// The position of the first of `list` for which `f` holds.
fn position<T>(list: &[T], f: impl Fn(&T) -> bool) -> Option<usize> {
    list.iter().position(f)
}

/// libvirt's rule for an address in a device a detach names: compared
/// only when given.
fn same_address(given: &Option<Address>, other: &Option<Address>) -> bool {
    given.is_none() || given == other
}

/// The position of the rng of `def` that `rng` names, as libvirt's
/// virDomainRNGFind: the same model, backend (with its source) and rate,
/// and the address when one is given.
pub(crate) fn find_rng(def: &DomainDef, rng: &Rng) -> Option<usize> {
    position(&def.devices.rngs, |o| {
        o.model == rng.model
            && o.backend == rng.backend
            && o.rate == rng.rate
            && same_address(&rng.address, &o.address)
    })
}

/// The position of the input of `def` that `input` names, as libvirt's
/// virDomainInputDefFind: the same type and bus, the same host device
/// behind a passthrough or evdev one, and the address when one is given.
pub(crate) fn find_input(def: &DomainDef, input: &Input) -> Option<usize> {
    let host = matches!(input.kind, InputType::Passthrough | InputType::Evdev);
    position(&def.devices.inputs, |o| {
        o.kind == input.kind
            && o.effective_bus() == input.effective_bus()
            && (!host || o.evdev == input.evdev)
            && same_address(&input.address, &o.address)
    })
}

/// virDomainChrEquals for serial ports, consoles and parallel ports: the
/// same source, target type and port.
fn chr_matches(o: &CharDevice, c: &CharDevice) -> bool {
    same_source(&o.source, &c.source)
        && o.target_type == c.target_type
        && o.target_port == c.target_port
}

/// Two character device sources as a detach compares them: a
/// pseudo-terminal's path is the running domain's, not the device's.
fn same_source(a: &CharSource, b: &CharSource) -> bool {
    match (a, b) {
        (CharSource::Pty { .. }, CharSource::Pty { .. }) => true,
        _ => a == b,
    }
}

/// The position of the shared memory device of `def` that `s` names
/// ([`shmem_matches`]).
pub(crate) fn find_shmem(def: &DomainDef, s: &Shmem) -> Option<usize> {
    position(&def.devices.shmems, |o| shmem_matches(o, s))
}

/// virDomainShmemDefEquals: everything but an address not given.
fn shmem_matches(o: &Shmem, s: &Shmem) -> bool {
    o.name == s.name
        && o.size_kib == s.size_kib
        && o.model == s.model
        && o.role == s.role
        && o.server == s.server
        && o.msi == s.msi
        && same_address(&s.address, &o.address)
}

/// The position of the memory device of `def` that `m` names
/// ([`memory_matches`]).
pub(crate) fn find_memory(def: &DomainDef, m: &MemoryDevice) -> Option<usize> {
    position(&def.devices.memories, |o| memory_matches(o, m))
}

/// virDomainMemoryFindByDef: model, size, node, virtio-mem's sizes, and
/// the source (pages and host nodes, or the backing file).
fn memory_matches(o: &MemoryDevice, m: &MemoryDevice) -> bool {
    o.model == m.model
        && o.size_kib == m.size_kib
        && o.node == m.node
        && o.label_kib == m.label_kib
        && o.block_kib == m.block_kib
        && o.requested_kib == m.requested_kib
        && o.pagesize_kib == m.pagesize_kib
        && o.nodemask == m.nodemask
        && o.path == m.path
        && same_address(&m.address, &o.address)
}

impl Core {
    /// Attaches `device` to the persistent definition, or to the running
    /// domain too where its type plugs in live (see the module's note);
    /// another type is refused live.
    pub(crate) fn attach_cold(
        &self,
        dom: &Domain,
        device: &ColdDevice,
        flags: ModifyFlags,
    ) -> Result<()> {
        self.change_cold(dom, device, flags, "attach", &|d, def| d.insert(def))
    }

    /// Detaches `device` from the persistent definition, or from the
    /// running domain too where its type plugs out live; another type is
    /// refused live.
    pub(crate) fn detach_cold(
        &self,
        dom: &Domain,
        device: &ColdDevice,
        flags: ModifyFlags,
    ) -> Result<()> {
        self.change_cold(dom, device, flags, "detach", &|d, def| d.remove(def))
    }

    /// The shared steps of [`Core::attach_cold`] and
    /// [`Core::detach_cold`]: the definition changes only if the whole
    /// result reads back as a valid definition, which it is then (as a
    /// define of its XML would make it). Every check comes first (the
    /// definition's change tried on a copy, the live device found), then
    /// the live plug, then the definition: a refusal changes nothing.
    fn change_cold(
        &self,
        dom: &Domain,
        device: &ColdDevice,
        flags: ModifyFlags,
        verb: &str,
        change: &dyn Fn(&ColdDevice, &mut DomainDef) -> Result<()>,
    ) -> Result<()> {
        let jobs = self.jobs(dom)?;
        let _job = jobs.begin(super::jobs::SyncKind::Modify, &dom.name)?;
        let (run, config) = self.targets(dom, flags, &format!("{verb} a device to"))?;
        let live_device = match (&run, device) {
            (None, _) => None,
            (
                Some(_),
                ColdDevice::Rng(_)
                | ColdDevice::Memory(_)
                | ColdDevice::Watchdog(_)
                | ColdDevice::Input(_)
                | ColdDevice::Controller(..)
                | ColdDevice::Channel(_)
                | ColdDevice::Filesystem(_)
                | ColdDevice::Redirdev(_)
                | ColdDevice::Shmem(_)
                | ColdDevice::Console(..),
            ) => Some(device),
            // Refused before anything is looked up when ISA.
            (Some(_), ColdDevice::Serial(c, _)) => {
                super::plug_serial::hot_pluggable(c, verb)?;
                Some(device)
            }
            (Some(_), _) => return Err(live_refused(dom, device, verb)),
        };
        let changed = |def: &mut DomainDef| -> Result<()> {
            change(device, def)?;
            *def = DomainDef::from_xml(&def.to_xml()).map_err(Error::from)?;
            Ok(())
        };
        if config && run.is_some() {
            self.with_entry(dom, |e| match &e.persistent {
                Some(def) => changed(&mut def.as_ref().clone()),
                None => Ok(()),
            })?;
        }
        match (&run, live_device, verb == "attach") {
            (Some(run), Some(ColdDevice::Rng(rng)), true) => self.plug_rng(dom, run, rng)?,
            (Some(run), Some(ColdDevice::Rng(rng)), false) => self.unplug_rng(dom, run, rng)?,
            (Some(run), Some(ColdDevice::Memory(m)), true) => self.plug_memory(dom, run, m)?,
            (Some(run), Some(ColdDevice::Memory(m)), false) => self.unplug_memory(dom, run, m)?,
            (Some(run), Some(ColdDevice::Watchdog(w)), true) => self.plug_watchdog(dom, run, w)?,
            (Some(run), Some(ColdDevice::Watchdog(w)), false) => {
                self.unplug_watchdog(dom, run, w)?;
            }
            (Some(run), Some(ColdDevice::Input(x)), true) => self.plug_input(dom, run, x)?,
            (Some(run), Some(ColdDevice::Input(x)), false) => self.unplug_input(dom, run, x)?,
            (Some(run), Some(ColdDevice::Filesystem(f)), true) => {
                self.plug_filesystem(dom, run, f)?;
            }
            (Some(run), Some(ColdDevice::Filesystem(f)), false) => {
                self.unplug_filesystem(dom, run, f)?;
            }
            (Some(run), Some(ColdDevice::Console(c, given)), true) => {
                self.plug_console(dom, run, c, *given)?;
            }
            (Some(run), Some(ColdDevice::Console(c, given)), false) => {
                self.unplug_console(dom, run, c, *given)?;
            }
            (Some(run), Some(ColdDevice::Serial(c, given)), true) => {
                self.plug_serial(dom, run, c, *given)?;
            }
            (Some(run), Some(ColdDevice::Serial(c, given)), false) => {
                self.unplug_serial(dom, run, c, *given)?;
            }
            (Some(run), Some(ColdDevice::Shmem(s)), true) => self.plug_shmem(dom, run, s)?,
            (Some(run), Some(ColdDevice::Shmem(s)), false) => self.unplug_shmem(dom, run, s)?,
            (Some(run), Some(ColdDevice::Redirdev(r)), true) => self.plug_redirdev(dom, run, r)?,
            (Some(run), Some(ColdDevice::Redirdev(r)), false) => {
                self.unplug_redirdev(dom, run, r)?;
            }
            (Some(run), Some(ColdDevice::Channel(c)), true) => self.plug_channel(dom, run, c)?,
            (Some(run), Some(ColdDevice::Channel(c)), false) => self.unplug_channel(dom, run, c)?,
            (Some(run), Some(ColdDevice::Controller(c, given)), true) => {
                self.plug_controller(dom, run, c, *given)?;
            }
            (Some(run), Some(ColdDevice::Controller(c, given)), false) => {
                self.unplug_controller(dom, run, c, *given)?;
            }
            _ => {}
        }
        if config {
            self.edit_config(dom, &|def, _| changed(def))?;
        }
        self.log.info(&format!(
            "domain '{}': {verb}ed a {} device{}{}",
            dom.name,
            device.type_name(),
            if run.is_some() { " (live)" } else { "" },
            if config { " (config)" } else { "" }
        ));
        Ok(())
    }
}

/// The refusal of a device plugged into or out of a running domain.
fn live_refused(dom: &Domain, device: &ColdDevice, verb: &str) -> Error {
    Error::new(
        ErrorCode::ConfigUnsupported,
        format!(
            "cannot {verb} a <{}> {} running domain '{}': live {verb} of device '{}' is not supported (qvirt plugs <disk>, <interface>, <rng>, <memory>, <watchdog>, <input>, <redirdev>, <shmem>, virtio <channel> and <console>, PCI and USB <serial>, virtiofs <filesystem> and SCSI <controller> devices in and out); {verb} it with --config, and it changes with the next start",
            element_name(device),
            if verb == "attach" { "to" } else { "from" },
            dom.name,
            device.type_name()
        ),
    )
}

/// The element a device is written as.
fn element_name(device: &ColdDevice) -> &'static str {
    match device {
        ColdDevice::Controller(..) | ColdDevice::Ccid(_) => "controller",
        ColdDevice::Serial(..) => "serial",
        ColdDevice::Console(..) => "console",
        ColdDevice::Parallel(..) => "parallel",
        ColdDevice::Channel(_) => "channel",
        other => other.type_name(),
    }
}
