//! Device aliases of a running domain, as libvirt shows them: every
//! disk, interface, serial port, console, virtio channel, memory device,
//! input, watchdog and USB or SCSI controller of the live XML carries the id
//! QEMU knows it by (`virtio-disk0`, `net1`, `serial0`, `dimm0`,
//! `input2`, `watchdog0`, `usb`, `scsi0`, or the user's `ua-...`),
//! while the persistent
//! definition keeps user aliases only. `detach-device-alias` finds a
//! device by them.

use super::driver::Core;
use super::hotplug::Found;
use super::numbered::Numbered;
use super::runtime::Plugged;
use super::runtime::Running;
use crate::driver::{Domain, ModifyFlags};
use crate::error::{Error, ErrorCode, Result};
use crate::model::{ControllerType, DomainDef, InputBus, WatchdogModel};
use crate::qemu::argv::{
    channel_id, console_id, disk_device_ids, fs_id, input_id, memory_device_ids, nic_id, redir_id,
    rng_ids, scsi_controller_id, serial_id, shmem_id, usb_controller_id, watchdog_id,
};

/// Gives every device of a running domain's definition `def` that the
/// module names its QEMU id as alias; `ids` number the interfaces' and
/// inputs' ids as the run does (hot-plugged ones keep theirs).
pub(crate) fn with_live_aliases(def: &mut DomainDef, ids: &Plugged) {
    // The ids are the command line's; a definition that could not build
    // one (it runs, so it did) keeps its user aliases.
    if let Ok(ids) = disk_device_ids(def) {
        for (disk, id) in def.devices.disks.iter_mut().zip(ids) {
            disk.alias = Some(id);
        }
    }
    let usb: Vec<Option<String>> = def
        .devices
        .controllers
        .iter()
        .map(|c| {
            (c.kind == ControllerType::Usb)
                .then(|| usb_controller_id(def, c))
                .flatten()
        })
        .collect();
    let memory = memory_device_ids(def);
    let d = &mut def.devices;
    for (m, (id, _)) in d.memories.iter_mut().zip(memory) {
        m.alias = Some(id);
    }
    for (i, x) in d.inputs.iter_mut().enumerate() {
        let n = ids.ids.nth(Numbered::Input, i) as usize;
        x.alias = Some(input_id(n));
    }
    for (k, c) in d.channels.iter_mut().enumerate() {
        // A guestfwd channel is no device.
        if c.is_virtio() {
            let n = ids.ids.nth(Numbered::Channel, k) as usize;
            c.alias = Some(channel_id(n));
        }
    }
    for (i, w) in d.watchdogs.iter_mut().enumerate() {
        w.alias = Some(watchdog_id(i));
    }
    for (i, r) in d.rngs.iter_mut().enumerate() {
        r.alias = Some(rng_ids(ids.ids.nth(Numbered::Rng, i)).0);
    }
    for (i, r) in d.redirdevs.iter_mut().enumerate() {
        r.alias = Some(redir_id(ids.ids.nth(Numbered::Redir, i) as usize));
    }
    for (i, s) in d.shmems.iter_mut().enumerate() {
        s.alias = Some(shmem_id(ids.ids.nth(Numbered::Shmem, i) as usize));
    }
    for (i, f) in d.filesystems.iter_mut().enumerate() {
        f.alias = Some(fs_id(ids.ids.nth(Numbered::Fs, i) as usize));
    }
    for (c, id) in d.controllers.iter_mut().zip(usb) {
        if id.is_some() {
            c.alias = id;
        } else if c.kind == ControllerType::Scsi {
            c.alias = Some(scsi_controller_id(c.index));
        }
    }
    for (i, net) in d.interfaces.iter_mut().enumerate() {
        let n = ids.ids.nth(Numbered::Nic, i);
        net.alias = Some(nic_id(net, n));
    }
    let mut ports = Vec::new();
    for (i, s) in d.serials.iter_mut().enumerate() {
        s.alias = Some(serial_id(s, ids.ids.nth(Numbered::Serial, i) as usize));
        ports.push((s.target_port.unwrap_or(i as u32), s.alias.clone()));
    }
    let (mut added, mut virtio) = (d.serials.len(), 0);
    for c in &mut d.consoles {
        if c.target_type.as_deref() == Some("virtio") {
            let n = ids.ids.nth(Numbered::Console, virtio) as usize;
            c.alias = Some(console_id(c, n));
            virtio += 1;
            continue;
        }
        // A serial console is the serial port with its number, or makes
        // one after the others.
        let port = c.target_port.unwrap_or(0);
        c.alias = match ports.iter().find(|(p, _)| *p == port) {
            Some((_, alias)) => alias.clone(),
            None => {
                added += 1;
                Some(serial_id(c, added - 1))
            }
        };
    }
}

/// The device `alias` names in `def`: in a running domain's (`run`
/// given), by the aliases its live XML shows; in a persistent
/// definition, by user alias. libvirt's virDomainDefFindDevice error
/// when none has it.
fn find_by_alias(def: &DomainDef, alias: &str, run: Option<&Running>) -> Result<Found> {
    let mut def = def.clone();
    if let Some(run) = run {
        with_live_aliases(&mut def, &run.plugged());
    }
    let d = &def.devices;
    let has = |a: &Option<String>| a.as_deref() == Some(alias);
    if let Some(i) = d.disks.iter().position(|x| has(&x.alias)) {
        return Ok(Found::Disk(i));
    }
    if let Some(i) = d.interfaces.iter().position(|x| has(&x.alias)) {
        return Ok(Found::Interface(i));
    }
    if run.is_some() {
        if let Some(i) = d.inputs.iter().position(|x| has(&x.alias)) {
            let bus = d.inputs[i].effective_bus();
            if !matches!(bus, InputBus::Usb | InputBus::Virtio) {
                return Err(Error::new(
                    ErrorCode::NoSupport,
                    format!("input device on bus '{}' cannot be detached", bus.as_str()),
                ));
            }
            return Ok(Found::Input(i));
        }
        if let Some(i) = d.channels.iter().position(|x| has(&x.alias)) {
            return Ok(Found::Channel(i));
        }
        if let Some(i) = d.rngs.iter().position(|x| has(&x.alias)) {
            return Ok(Found::Rng(i));
        }
        if let Some(i) = d.redirdevs.iter().position(|x| has(&x.alias)) {
            return Ok(Found::Redirdev(i));
        }
        if let Some(i) = d.shmems.iter().position(|x| has(&x.alias)) {
            return Ok(Found::Shmem(i));
        }
        if let Some(i) = d.filesystems.iter().position(|x| has(&x.alias)) {
            if d.filesystems[i].driver != crate::model::FsDriver::Virtiofs {
                return Err(Error::new(
                    ErrorCode::ConfigUnsupported,
                    "only virtiofs filesystems can be hotplugged",
                ));
            }
            return Ok(Found::Filesystem(i));
        }
        if let Some(i) = d.watchdogs.iter().position(|x| has(&x.alias)) {
            let model = d.watchdogs[i].model;
            if model != WatchdogModel::I6300esb {
                return Err(Error::new(
                    ErrorCode::NoSupport,
                    format!(
                        "hot unplug of watchdog of model {} is not supported",
                        model.as_str()
                    ),
                ));
            }
            return Ok(Found::Watchdog(i));
        }
    }
    if run.is_some()
        && let Some(i) = memory_device_ids(&def)
            .iter()
            .position(|(id, _)| id == alias)
    {
        let model = d.memories[i].model;
        if model != crate::model::MemoryModel::Dimm {
            return Err(Error::new(
                ErrorCode::ConfigUnsupported,
                format!(
                    "device '{alias}' is a memory device '{}': QEMU unplugs only DIMMs",
                    model.as_str()
                ),
            ));
        }
        return Ok(Found::Memory(i));
    }
    if run.is_some()
        && let Some(i) = d.controllers.iter().position(|x| has(&x.alias))
        && d.controllers[i].kind == ControllerType::Scsi
    {
        return Ok(Found::Controller(i));
    }
    if run.is_some()
        && let Some(i) = d.serials.iter().position(|x| has(&x.alias))
        && matches!(
            d.serials[i].target_type.as_deref(),
            Some("pci-serial" | "usb-serial")
        )
    {
        return Ok(Found::Serial(i));
    }
    // A serial console's alias is its serial port's, found above.
    if run.is_some()
        && let Some(i) = d.consoles.iter().position(|x| has(&x.alias))
        && d.consoles[i].target_type.as_deref() == Some("virtio")
    {
        return Ok(Found::Console(i));
    }
    let chardev = d.serials.iter().chain(&d.consoles).any(|x| has(&x.alias));
    if chardev || d.controllers.iter().any(|x| has(&x.alias)) {
        return Err(Error::new(
            ErrorCode::ConfigUnsupported,
            format!(
                "device '{alias}' is a {}: {}",
                if chardev {
                    "serial port or console"
                } else {
                    "controller"
                },
                match run {
                    Some(_) =>
                        "of controllers, serial ports and consoles only SCSI controllers, PCI and USB serial ports and virtio consoles leave a running domain",
                    None =>
                        "qvirt detaches <disk> and <interface> devices only by alias from a definition",
                }
            ),
        ));
    }
    // libvirt's message as virsh prints it, its code's words first.
    Err(Error::new(
        ErrorCode::Internal,
        format!("internal error: no device found with alias {alias}"),
    ))
}

impl Core {
    /// [`crate::Driver::detach_device_alias`].
    pub(crate) fn detach_device_alias(
        &self,
        dom: &Domain,
        alias: &str,
        flags: ModifyFlags,
    ) -> Result<()> {
        self.detach_found(dom, flags, &|def, _, run| find_by_alias(def, alias, run))
    }
}
