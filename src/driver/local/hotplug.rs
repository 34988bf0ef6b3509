//! Device hot-plug: `attach_device` and `detach_device` with virsh's
//! `--live` / `--config` rules.
//!
//! Live, a device is made exactly as a start would make it: the running
//! definition (which names every device's PCI slot since the start) with
//! the new device added goes through the command-line builder, which
//! gives the device the first free hot-pluggable slot and its options;
//! those become `blockdev-add` / `netdev_add` and `device_add`. When the
//! builder would have to add a bus (no free slot, or on q35 no free
//! `pcie-root-port`), the attach is refused: buses cannot be plugged in.
//! Unplugging is in `unplug`.

use super::numbered::Numbered;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::driver::{Core, emulator_of};
use super::plug_xml::{Device, Named, check_new, find_disk, find_interface, read_device};
use super::runtime::Running;
use super::unplug::UNPLUG_WAIT;
use crate::driver::{Domain, EventKind, ModifyFlags};
use crate::error::{Error, ErrorCode, Result};
use crate::model::{ControllerType, DiskBus, DiskDevice, DomainDef, InterfaceType, RngBackend};
use crate::qemu::argv::{
    DeviceArgs, PluggedDevice, RuntimePaths, device_args, disk_device_ids, nic_id, usb_hubs,
    with_pci_addresses,
};
use crate::qemu::qmp::{QMP_TIMEOUT, Qmp};
use crate::sys::hostnet;

impl Core {
    /// [`crate::Driver::attach_device`].
    pub(crate) fn attach_device(&self, dom: &Domain, xml: &str, flags: ModifyFlags) -> Result<()> {
        let device = match read_device(xml)? {
            Named::Hot(d) => *d,
            Named::Cold(d) => return self.attach_cold(dom, &d, flags),
        };
        let jobs = self.jobs(dom)?;
        let _job = jobs.begin(super::jobs::SyncKind::Modify, &dom.name)?;
        let (run, config) = self.targets(dom, flags, "attach a device to")?;
        // Every check first, so that a refused attach changes nothing.
        if let Some(run) = &run {
            check_new(&run.live_def(), &device, "running domain")?;
        }
        if config {
            self.with_entry(dom, |e| match &e.persistent {
                Some(def) => {
                    check_new(def, &device, "persistent definition")?;
                    with_device(def, &device).validate().map_err(Error::from)
                }
                None => Ok(()),
            })?;
        }
        if let Some(run) = &run {
            self.plug_in(dom, run, &device)?;
        }
        if config {
            self.edit_config(dom, &|def, which| {
                check_new(def, &device, which)?;
                *def = with_device(def, &device);
                Ok(())
            })?;
        }
        self.log.info(&format!(
            "domain '{}': attached {}{}{}",
            dom.name,
            describe(&device),
            if run.is_some() { " (live)" } else { "" },
            if config { " (config)" } else { "" }
        ));
        Ok(())
    }

    /// What follows a device plugged in: the status file a restarted
    /// manager reads, and libvirt's device-added event.
    pub(super) fn plugged_in(&self, dom: &Domain, run: &Running, alias: String) {
        self.save_status(dom.uuid, run);
        self.emit(
            super::monitor::handle_of(run.def.uuid, run),
            EventKind::DeviceAdded { alias },
        );
    }

    /// [`crate::Driver::detach_device`].
    pub(crate) fn detach_device(&self, dom: &Domain, xml: &str, flags: ModifyFlags) -> Result<()> {
        let device = match read_device(xml)? {
            Named::Hot(d) => *d,
            Named::Cold(d) => return self.detach_cold(dom, &d, flags),
        };
        self.detach_found(dom, flags, &|def, which, _| match &device {
            Device::Disk(d) => find_disk(def, d, which).map(Found::Disk),
            Device::Interface { net, mac_given } => {
                find_interface(def, net, *mac_given, which).map(Found::Interface)
            }
        })
    }

    /// Detaches the device `find` finds in the running domain (given its
    /// run) and in the persistent definition, as `flags` say; every
    /// lookup comes first, so that a refused detach changes nothing.
    pub(crate) fn detach_found(
        &self,
        dom: &Domain,
        flags: ModifyFlags,
        find: &FindDevice<'_>,
    ) -> Result<()> {
        let jobs = self.jobs(dom)?;
        let _job = jobs.begin(super::jobs::SyncKind::Modify, &dom.name)?;
        let (run, config) = self.targets(dom, flags, "detach a device from")?;
        let mut what = None;
        if let Some(run) = &run {
            let live = run.live_def();
            what = Some(find(&live, "running domain", Some(run))?.describe(&live));
        }
        if config {
            self.with_entry(dom, |e| match &e.persistent {
                Some(def) => {
                    let found = find(def, "persistent definition", None)?;
                    what.get_or_insert_with(|| found.describe(def));
                    Ok(())
                }
                None => Ok(()),
            })?;
        }
        if let Some(run) = &run {
            let found = find(&run.live_def(), "running domain", Some(run))?;
            self.unplug(dom, run, found)?;
        }
        if config {
            self.edit_config(dom, &|def, which| {
                match find(def, which, None)? {
                    Found::Disk(index) => {
                        def.devices.disks.remove(index);
                    }
                    Found::Interface(index) => {
                        def.devices.interfaces.remove(index);
                    }
                    Found::Rng(index) => {
                        def.devices.rngs.remove(index);
                    }
                    Found::Watchdog(index) => {
                        def.devices.watchdogs.remove(index);
                    }
                    Found::Input(index) => {
                        def.devices.inputs.remove(index);
                    }
                    Found::Controller(index) => {
                        def.devices.controllers.remove(index);
                    }
                    Found::Channel(index) => {
                        def.devices.channels.remove(index);
                    }
                    Found::Filesystem(index) => {
                        def.devices.filesystems.remove(index);
                    }
                    Found::Redirdev(index) => {
                        def.devices.redirdevs.remove(index);
                    }
                    Found::Shmem(index) => {
                        def.devices.shmems.remove(index);
                    }
                    Found::Console(index) => {
                        def.devices.consoles.remove(index);
                    }
                    Found::Serial(index) => {
                        def.devices.serials.remove(index);
                    }
                    Found::Memory(index) => {
                        let gone = def.devices.memories.remove(index);
                        def.memory_kib = def.memory_kib.saturating_sub(gone.size_kib);
                        if let Some(c) = &mut def.current_memory_kib {
                            *c = c.saturating_sub(gone.size_kib).min(def.memory_kib);
                        }
                    }
                }
                Ok(())
            })?;
        }
        self.log.info(&format!(
            "domain '{}': detached {}{}{}",
            dom.name,
            what.unwrap_or_default(),
            if run.is_some() { " (live)" } else { "" },
            if config { " (config)" } else { "" }
        ));
        Ok(())
    }

    /// Adds `device` to the running domain and records it.
    fn plug_in(&self, dom: &Domain, run: &Running, device: &Device) -> Result<()> {
        let live = run.live_def();
        let mut new = with_device(&live, device);
        self.resolve_volume_disks(&mut new)?;
        let caps = self.caps(&emulator_of(&live))?;
        let qmp = run.qmp()?;
        let nic_ids = run.nic_ids();
        let (which, what) = match device {
            Device::Disk(d) => {
                if d.vhost_user.is_some() {
                    return Err(Error::new(
                        ErrorCode::NoSupport,
                        format!(
                            "cannot attach disk '{}' to domain '{}': a vhostuser disk is not hot-plugged (its socket chardev comes with the start); add it to the definition and restart",
                            d.target, dom.name
                        ),
                    ));
                }
                super::preflight::check_paths(&new)?;
                let disk = new.devices.disks.last().expect("the new disk");
                refuse_unpluggable_disk(qmp, &live, disk)?;
                (
                    PluggedDevice::Disk(new.devices.disks.len() - 1),
                    format!("disk '{}'", d.target),
                )
            }
            Device::Interface { net, .. } => {
                if let Some(tun) = &net.tap.tun_path {
                    return Err(Error::new(
                        ErrorCode::ConfigUnsupported,
                        format!(
                            "cannot attach interface {} to domain '{}': a tap made through another tun device (<backend tap='{tun}'>) is not hot-plugged; add it to the definition and restart",
                            net.mac, dom.name
                        ),
                    ));
                }
                if matches!(net.kind, InterfaceType::VhostUser { .. }) {
                    return Err(Error::new(
                        ErrorCode::NoSupport,
                        format!(
                            "cannot attach interface {} to domain '{}': a vhostuser interface is not hot-plugged (its socket chardev comes with the start); add it to the definition and restart",
                            net.mac, dom.name
                        ),
                    ));
                }
                if matches!(
                    net.kind,
                    InterfaceType::Server(_)
                        | InterfaceType::Client(_)
                        | InterfaceType::Mcast(_)
                        | InterfaceType::Udp { .. }
                ) {
                    // As libvirt's qemuDomainAttachNetDevice.
                    return Err(Error::new(
                        ErrorCode::NoSupport,
                        format!(
                            "cannot attach interface {} to domain '{}': hotplug of interface type of {} is not implemented; add it to the definition and restart",
                            net.mac,
                            dom.name,
                            net.kind.type_name()
                        ),
                    ));
                }
                if net.passt.is_some() {
                    return Err(Error::new(
                        ErrorCode::NoSupport,
                        format!(
                            "cannot attach interface {} to domain '{}': a user interface with the passt backend is not hot-plugged (its passt process comes with the start); add it to the definition and restart",
                            net.mac, dom.name
                        ),
                    ));
                }
                if let Some(why) = super::hostcheck::missing_filter(net) {
                    return Err(Error::new(
                        ErrorCode::NoSupport,
                        format!("cannot attach interface to domain '{}': {why}", dom.name),
                    ));
                }
                (
                    PluggedDevice::Interface(new.devices.interfaces.len() - 1),
                    format!("interface {}", net.mac),
                )
            }
        };
        let pci = !matches!(device, Device::Disk(d) if matches!(disk_bus(d), DiskBus::Scsi | DiskBus::Usb));
        // A SCSI disk brings the controller it sits on when the domain
        // has none of that index; the disk then joins the domain as it is.
        let (live, new) = match device {
            Device::Disk(d) if disk_bus(d) == DiskBus::Scsi => {
                self.plug_missing_scsi_controllers(dom, run, &new)?;
                let live = run.live_def();
                let mut new = with_device(&live, device);
                self.resolve_volume_disks(&mut new)?;
                (live, new)
            }
            _ => (live, new),
        };
        let addressed = hot_pluggable_slot(&live, &new, &caps, &what, pci)?;
        // A tap for a bridge or ethernet interface, or a macvtap for a
        // direct one, named in the definition before the options are
        // made, as at a start. A macvtap's device reaches QEMU over QMP
        // (`getfd`), named in `netdev_add`.
        let mut addressed = addressed;
        let mut tap = None;
        let mut macvtap_fd = None;
        if let Device::Interface { net, .. } = device
            && net.kind.has_host_tap()
        {
            let mut alone = addressed.clone();
            alone.devices.interfaces =
                vec![addressed.devices.interfaces.last().cloned().expect("new")];
            if matches!(net.kind, InterfaceType::Direct { .. }) {
                macvtap_fd = hostnet::create_macvtaps(&mut alone, &run.run_dir)?
                    .pop()
                    .map(|(_, fd)| fd);
            } else {
                hostnet::create_taps(&mut alone)?;
            }
            let made = alone.devices.interfaces[0].target_dev.clone();
            if let Some(n) = addressed.devices.interfaces.last_mut() {
                n.target_dev.clone_from(&made);
            }
            tap = made;
        }
        let result = (|| -> Result<Option<u32>> {
            let paths = plug_paths(run);
            let mut args = device_args(&addressed, &caps, &paths, which)?;
            let nic = match which {
                PluggedDevice::Interface(i) => {
                    let n = (0..).find(|n| !nic_ids.contains(n)).expect("a free id");
                    renumber_nic(&mut args, &addressed.devices.interfaces[i], n);
                    Some(n)
                }
                _ => None,
            };
            let fd_name = match (&macvtap_fd, &mut args.netdev) {
                (Some(fd), Some(netdev)) => {
                    let name = format!("{}-fd", netdev["id"].as_str().unwrap_or("hostnet"));
                    qmp.getfd(&name, std::os::fd::AsFd::as_fd(fd), QMP_TIMEOUT)?;
                    netdev["fd"] = json!(name);
                    Some(name)
                }
                _ => None,
            };
            let disk_id = match which {
                PluggedDevice::Disk(i) => Some(disk_device_ids(&addressed)?.swap_remove(i)),
                _ => None,
            };
            // Nodes an earlier unplug of a disk under this id could not
            // remove would clash with the new ones by name.
            if let Some(id) = &disk_id
                && !has_device(qmp, id)?
            {
                remove_nodes(qmp, id)?;
            }
            if let PluggedDevice::Disk(i) = which {
                self.write_disk_secrets(&addressed, &run.run_dir, Some(i))?;
            }
            if let Err(e) = add_to_qemu(qmp, &args) {
                // QEMU takes a passed descriptor out of its list when it
                // makes the backend; otherwise it is closed here.
                if let Some(name) = &fd_name {
                    let _ = qmp.execute("closefd", Some(json!({"fdname": name})), QMP_TIMEOUT);
                }
                return Err(e);
            }
            if let (Some(n), PluggedDevice::Interface(i)) = (nic, which) {
                let net = &addressed.devices.interfaces[i];
                super::tuning::set_link(qmp, net, &nic_id(net, n))?;
            }
            if let (Some(id), PluggedDevice::Disk(i)) = (&disk_id, which) {
                super::tuning::set_io_throttle(qmp, &addressed.devices.disks[i], id)?;
            }
            Ok(nic)
        })();
        let nic = match result {
            Ok(nic) => nic,
            Err(e) => {
                if tap.is_some()
                    && let Some(net) = addressed.devices.interfaces.last()
                {
                    hostnet::release(std::slice::from_ref(net));
                }
                return Err(attach_failed(dom, &what, e));
            }
        };
        run.update_plugged(|p| match which {
            PluggedDevice::Disk(i) => p.disks.push(addressed.devices.disks[i].clone()),
            PluggedDevice::Interface(i) => {
                p.interfaces.push(addressed.devices.interfaces[i].clone());
                p.ids[Numbered::Nic].extend(nic);
            }
            // The other kinds plug in through their own modules.
            _ => {}
        });
        // As at start: an interface script taints the run.
        if let PluggedDevice::Interface(i) = which {
            let s = &addressed.devices.interfaces[i].scripts;
            if (s.up.is_some() || s.down.is_some())
                && run.taint(super::runtime::Taint::ShellScripts)
            {
                self.log.warn(&format!(
                    "domain '{}' is tainted: shell-scripts (an interface's <script> or <downscript>)",
                    dom.name
                ));
            }
        }
        self.save_status(dom.uuid, run);
        let alias = match which {
            PluggedDevice::Disk(i) => disk_device_ids(&addressed)?.swap_remove(i),
            PluggedDevice::Interface(i) => nic_id(
                &addressed.devices.interfaces[i],
                nic.expect("an interface's number"),
            ),
            _ => return Ok(()),
        };
        self.emit(
            super::monitor::handle_of(run.def.uuid, run),
            EventKind::DeviceAdded { alias },
        );
        Ok(())
    }
}

/// The runtime paths a plugged-in device's command line is built with:
/// the run's directory and monitor, and what the start gave the display
/// (a SPICE TLS port), so that the whole command line builds as it did.
pub(super) fn plug_paths(run: &Running) -> RuntimePaths {
    let mut paths = RuntimePaths::for_test(&run.run_dir.to_string_lossy());
    paths.qmp_socket = run.run_dir.join("qmp.sock");
    let tls = run.def.devices.graphics.first().and_then(|g| g.tls_port);
    if let Some(port) = tls.and_then(|p| u16::try_from(p).ok()) {
        paths.spice_tls_dir = Some(run.run_dir.clone());
        paths.spice_tls_port = Some(port);
    }
    paths
}

/// `def` with `device` added at the end of its list.
fn with_device(def: &DomainDef, device: &Device) -> DomainDef {
    let mut def = def.clone();
    match device {
        Device::Disk(d) => def.devices.disks.push(d.clone()),
        Device::Interface { net, .. } => def.devices.interfaces.push(net.clone()),
    }
    def
}

/// A device as the log names it.
fn describe(device: &Device) -> String {
    match device {
        Device::Disk(d) => format!("disk '{}'", d.target),
        Device::Interface { net, .. } => format!("interface {}", net.mac),
    }
}

/// How a detach finds its device in a definition: given the definition,
/// what it is (for messages) and, for the running domain's, the run.
pub(crate) type FindDevice<'a> = dyn Fn(&DomainDef, &str, Option<&Running>) -> Result<Found> + 'a;

/// The device of a definition a detach removes: its kind and place.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Found {
    /// `def.devices.disks[i]`.
    Disk(usize),
    /// `def.devices.interfaces[i]`.
    Interface(usize),
    /// `def.devices.rngs[i]`.
    Rng(usize),
    /// `def.devices.memories[i]`.
    Memory(usize),
    /// `def.devices.watchdogs[i]`.
    Watchdog(usize),
    /// `def.devices.inputs[i]`.
    Input(usize),
    /// `def.devices.controllers[i]` (a SCSI one).
    Controller(usize),
    /// `def.devices.channels[i]` (a virtio one).
    Channel(usize),
    /// `def.devices.filesystems[i]` (a virtiofs share).
    Filesystem(usize),
    /// `def.devices.redirdevs[i]`.
    Redirdev(usize),
    /// `def.devices.shmems[i]`.
    Shmem(usize),
    /// `def.devices.consoles[i]` (a virtio one).
    Console(usize),
    /// `def.devices.serials[i]` (a PCI or USB one).
    Serial(usize),
}

impl Found {
    /// The device as messages and the log name it.
    pub(super) fn describe(self, def: &DomainDef) -> String {
        match self {
            Found::Disk(i) => format!("disk '{}'", def.devices.disks[i].target),
            Found::Interface(i) => format!("interface {}", def.devices.interfaces[i].mac),
            Found::Rng(i) => rng_name(&def.devices.rngs[i]),
            Found::Memory(i) => {
                format!("memory device '{}'", def.devices.memories[i].model.as_str())
            }
            Found::Watchdog(i) => {
                format!("{} watchdog", def.devices.watchdogs[i].model.as_str())
            }
            Found::Controller(i) => {
                let c = &def.devices.controllers[i];
                format!("{} controller {}", c.kind.as_str(), c.index)
            }
            Found::Filesystem(i) => {
                format!("filesystem '{}'", def.devices.filesystems[i].target_dir)
            }
            Found::Shmem(i) => format!("shmem '{}'", def.devices.shmems[i].name),
            Found::Console(_) => "virtio console".to_string(),
            Found::Serial(i) => {
                let s = &def.devices.serials[i];
                format!("serial port {}", s.target_port.unwrap_or(i as u32))
            }
            Found::Redirdev(i) => format!(
                "USB redirection device ({})",
                def.devices.redirdevs[i].source.type_name()
            ),
            Found::Channel(i) => match &def.devices.channels[i].target {
                crate::model::ChannelTarget::Virtio { name: Some(n) } => format!("channel '{n}'"),
                _ => "channel".to_string(),
            },
            Found::Input(i) => {
                let x = &def.devices.inputs[i];
                format!(
                    "{} input device on bus {}",
                    x.kind.as_str(),
                    x.effective_bus().as_str()
                )
            }
        }
    }
}

/// A plugged-in rng as messages and the log name it: its model and
/// backend.
pub(super) fn rng_name(rng: &crate::model::Rng) -> String {
    let backend = match &rng.backend {
        RngBackend::Random(path) => path.as_deref().unwrap_or("/dev/urandom"),
        RngBackend::Builtin => "builtin",
        RngBackend::Egd(_) => "egd",
    };
    format!("rng (model '{}', backend {backend})", rng.model.as_str())
}

/// `new` (the live definition `live` with a device added) with the PCI
/// address the command line gives the device: on a free hot-pluggable
/// slot, or refused, as buses cannot be plugged in (no ACPI on a pc
/// machine, no free slot or `pcie-root-port`). A device on a bus of its
/// own (`pci` false: a SCSI or USB disk) needs no slot.
pub(super) fn hot_pluggable_slot(
    live: &DomainDef,
    new: &DomainDef,
    caps: &crate::qemu::caps::QemuCaps,
    what: &str,
    pci: bool,
) -> Result<DomainDef> {
    if pci && !live.features.acpi && !is_q35(live) {
        return Err(Error::new(
            ErrorCode::OperationInvalid,
            format!(
                "cannot attach {what} to domain '{}': without ACPI a pc machine's PCI bus has no hot-plug; add <features><acpi/></features> to the definition and restart the domain",
                live.name
            ),
        ));
    }
    let addressed = with_pci_addresses(new, caps)?;
    let buses = |d: &DomainDef| {
        d.devices
            .controllers
            .iter()
            .filter(|c| c.kind == ControllerType::Pci)
            .count()
    };
    if buses(&addressed) > buses(new) {
        return Err(no_free_slot(live, what));
    }
    if usb_hubs(&addressed, caps)? > usb_hubs(live, caps)? {
        return Err(Error::new(
            ErrorCode::OperationInvalid,
            format!(
                "cannot attach {what} to domain '{}': every USB port is taken and a hub cannot be plugged in; add <hub type='usb'/> to the definition and restart the domain",
                live.name
            ),
        ));
    }
    Ok(addressed)
}

/// The error for a device that finds no free hot-pluggable slot.
fn no_free_slot(live: &DomainDef, what: &str) -> Error {
    Error::new(
        ErrorCode::OperationInvalid,
        if is_q35(live) {
            format!(
                "cannot attach {what} to domain '{}': the machine has no free hot-pluggable port (every pcie-root-port is taken); add <controller type='pci' model='pcie-root-port'/> to the definition and restart the domain",
                live.name
            )
        } else {
            format!(
                "cannot attach {what} to domain '{}': no free hot-pluggable PCI slot is left; add <controller type='pci' model='pci-bridge'/> to the definition and restart the domain",
                live.name
            )
        },
    )
}

/// Whether the machine is a Q35 (PCI Express) one.
fn is_q35(def: &DomainDef) -> bool {
    def.os.machine.as_deref().is_some_and(|m| m.contains("q35"))
}

/// The bus of `disk`: as given, else the one its target's name implies,
/// as the command line derives it.
fn disk_bus(disk: &crate::model::Disk) -> DiskBus {
    let t = disk.target.as_str();
    disk.bus.unwrap_or(
        if disk.device == DiskDevice::Floppy || t.starts_with("fd") {
            DiskBus::Fdc
        } else if t.starts_with("hd") {
            DiskBus::Ide
        } else if t.starts_with("sd") {
            DiskBus::Scsi
        } else {
            DiskBus::Virtio
        },
    )
}

/// Refuses a disk that cannot be plugged into this running domain: one
/// on a bus without hot-plug (IDE, SATA, floppy), or on a USB controller
/// QEMU does not have.
fn refuse_unpluggable_disk(qmp: &Qmp, live: &DomainDef, disk: &crate::model::Disk) -> Result<()> {
    // The bus a target name implies, as the command line derives it.
    let bus = disk_bus(disk);
    let refuse = |why: String| {
        Err(Error::new(
            ErrorCode::ConfigUnsupported,
            format!(
                "disk '{}' cannot be attached to domain '{}' while it runs: {why}",
                disk.target, live.name
            ),
        ))
    };
    match bus {
        DiskBus::Virtio => Ok(()),
        // The controller comes along when the domain lacks it
        // (`plug_missing_scsi_controllers`).
        DiskBus::Scsi => Ok(()),
        DiskBus::Usb => {
            let index = match disk.address {
                Some(crate::model::Address::Usb(a)) => a.bus,
                _ => 0,
            };
            let id = if index == 0 {
                "usb".to_string()
            } else {
                format!("usb{index}")
            };
            if has_device(qmp, &id)? {
                Ok(())
            } else {
                refuse(format!(
                    "it needs USB controller {index}, which the domain does not have (controllers cannot be plugged in: add one to the definition and restart)"
                ))
            }
        }
        other => refuse(format!(
            "bus '{}' has no hot-plug (use bus='virtio' or 'scsi')",
            other.as_str()
        )),
    }
}

/// The lowest number `n` for a plugged-in device that the run does not
/// use (`taken`) and for which QEMU has none of the ids `ids(n)` names:
/// no device, object or chardev (what an earlier unplug left, or a
/// device still being unplugged).
fn free_number(qmp: &Qmp, taken: &[u32], ids: impl Fn(u32) -> Vec<String>) -> Result<u32> {
    let mut held = qom_children(qmp, "/machine/peripheral")?;
    held.extend(qom_children(qmp, "/objects")?);
    let chardevs = qmp.execute("query-chardev", None, QMP_TIMEOUT)?;
    held.extend(
        chardevs
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c.get("label").and_then(Value::as_str))
            .map(str::to_string),
    );
    Ok((0..)
        .find(|n| !taken.contains(n) && !ids(*n).iter().any(|id| held.contains(id)))
        .expect("a free number"))
}

/// Gives `args`, which the command line made for the device it numbers
/// `made`, the number [`free_number`] finds: every id `names(made)` lists
/// (the device's, its chardev's, object's, socket's) becomes the one
/// `names(n)` lists at its place, wherever `args` names it. Returns `n`.
pub(super) fn renumber(
    qmp: &Qmp,
    args: &mut DeviceArgs,
    made: u32,
    taken: &[u32],
    names: impl Fn(u32) -> Vec<String>,
) -> Result<u32> {
    let n = free_number(qmp, taken, &names)?;
    let pairs: Vec<(String, String)> = names(made).into_iter().zip(names(n)).collect();
    let values = std::iter::once(&mut args.device)
        .chain(args.objects.iter_mut())
        .chain(args.chardevs.iter_mut());
    for v in values {
        rename_ids(v, &pairs);
    }
    Ok(n)
}

/// The keys under which QMP arguments name a device's own ids.
const ID_KEYS: &[&str] = &["id", "chardev", "rng", "memdev", "path"];

/// Replaces, under [`ID_KEYS`] at any depth of `v`, each value that is
/// exactly the first of a pair by its second.
fn rename_ids(v: &mut Value, pairs: &[(String, String)]) {
    let Value::Object(map) = v else { return };
    for (k, v) in map.iter_mut() {
        match v {
            Value::String(s) if ID_KEYS.contains(&k.as_str()) => {
                if let Some((_, new)) = pairs.iter().find(|(old, _)| old == s) {
                    *s = new.clone();
                }
            }
            Value::Object(_) => rename_ids(v, pairs),
            _ => {}
        }
    }
}

/// A failed plug's error, naming the device and the domain.
pub(super) fn attach_failed(dom: &Domain, what: &str, e: Error) -> Error {
    Error::new(
        e.code,
        format!(
            "cannot attach {what} to domain '{}': {}",
            dom.name, e.message
        ),
    )
}

/// Whether QEMU has a device with id `id`.
pub(super) fn has_device(qmp: &Qmp, id: &str) -> Result<bool> {
    Ok(qom_children(qmp, "/machine/peripheral")?
        .iter()
        .any(|c| c == id))
}

/// The names of what QOM path `path` holds (devices with an id under
/// `/machine/peripheral`, objects under `/objects`).
pub(super) fn qom_children(qmp: &Qmp, path: &str) -> Result<Vec<String>> {
    let list = qmp.execute("qom-list", Some(json!({ "path": path })), QMP_TIMEOUT)?;
    Ok(list
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p.get("name").and_then(Value::as_str))
        .map(str::to_string)
        .collect())
}

/// Gives a NIC's options the ids of number `n` (`netN` and `hostnetN`
/// unless it has a user alias).
fn renumber_nic(args: &mut DeviceArgs, net: &crate::model::Interface, n: u32) {
    let id = nic_id(net, n);
    args.device["id"] = json!(id);
    args.device["netdev"] = json!(format!("host{id}"));
    if let Some(netdev) = &mut args.netdev {
        netdev["id"] = json!(format!("host{id}"));
    }
}

/// Adds the character devices, the objects, the nodes, the backend and
/// the device; on failure takes back what was added.
pub(super) fn add_to_qemu(qmp: &Qmp, args: &DeviceArgs) -> Result<()> {
    let mut added: Vec<String> = Vec::new();
    let undo = |added: &[String]| {
        for id in added.iter().rev() {
            let _ = qmp.execute("chardev-remove", Some(json!({ "id": id })), QMP_TIMEOUT);
        }
    };
    for chardev in &args.chardevs {
        if let Err(e) = qmp.execute("chardev-add", Some(chardev.clone()), QMP_TIMEOUT) {
            undo(&added);
            return Err(e);
        }
        added.extend(chardev["id"].as_str().map(str::to_string));
    }
    add_backends_and_device(qmp, args).inspect_err(|_| undo(&added))
}

/// The part of [`add_to_qemu`] after the character devices.
fn add_backends_and_device(qmp: &Qmp, args: &DeviceArgs) -> Result<()> {
    let mut nodes: Vec<String> = Vec::new();
    let undo_nodes = |nodes: &[String]| {
        for node in nodes.iter().rev() {
            let _ = qmp.execute(
                "blockdev-del",
                Some(json!({"node-name": node})),
                QMP_TIMEOUT,
            );
        }
    };
    let mut objects: Vec<String> = Vec::new();
    let undo_objects = |objects: &[String]| {
        for id in objects.iter().rev() {
            let _ = qmp.execute("object-del", Some(json!({"id": id})), QMP_TIMEOUT);
        }
    };
    for object in &args.objects {
        if let Err(e) = qmp.execute("object-add", Some(object.clone()), QMP_TIMEOUT) {
            undo_objects(&objects);
            return Err(e);
        }
        objects.extend(object["id"].as_str().map(str::to_string));
    }
    let undo = |nodes: &[String]| {
        undo_nodes(nodes);
        undo_objects(&objects);
    };
    for node in &args.blockdevs {
        if let Err(e) = qmp.execute("blockdev-add", Some(node.clone()), QMP_TIMEOUT) {
            undo(&nodes);
            return Err(e);
        }
        nodes.extend(node["node-name"].as_str().map(str::to_string));
    }
    if let Some(netdev) = &args.netdev
        && let Err(e) = qmp.execute("netdev_add", Some(netdev.clone()), QMP_TIMEOUT)
    {
        undo(&nodes);
        return Err(e);
    }
    if let Err(e) = qmp.execute("device_add", Some(args.device.clone()), QMP_TIMEOUT) {
        if let Some(id) = args.netdev.as_ref().and_then(|n| n["id"].as_str()) {
            let _ = qmp.execute("netdev_del", Some(json!({"id": id})), QMP_TIMEOUT);
        }
        undo(&nodes);
        return Err(e);
    }
    Ok(())
}

/// Deletes the block nodes of disk device `id` (`ID-format`,
/// `ID-storage`, then its backing chain's), each before the one it
/// stands on.
pub(super) fn remove_nodes(qmp: &Qmp, id: &str) -> Result<()> {
    let nodes = qmp.execute(
        "query-named-block-nodes",
        Some(json!({"flat": true})),
        QMP_TIMEOUT,
    )?;
    let prefix = format!("{id}-");
    let mut names: Vec<(u32, bool, String)> = nodes
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|n| n.get("node-name").and_then(Value::as_str))
        .filter_map(|name| {
            let rest = name.strip_prefix(&prefix)?;
            let depth = rest
                .strip_prefix("backing")
                .and_then(|r| r.split('-').next())
                .and_then(|d| d.parse().ok())
                .unwrap_or(0);
            Some((depth, rest.ends_with("storage"), name.to_string()))
        })
        .collect();
    names.sort();
    names.dedup();
    // A node stays busy while the device object that used it is being
    // freed: each is asked again until the deadline.
    let deadline = Instant::now() + UNPLUG_WAIT;
    for (_, _, name) in names {
        loop {
            match qmp.execute(
                "blockdev-del",
                Some(json!({"node-name": name})),
                QMP_TIMEOUT,
            ) {
                Ok(_) => break,
                Err(e) if Instant::now() >= deadline => return Err(e),
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }
    // A network disk's credentials and a LUKS disk's passphrase, once no
    // node uses them (absent for most disks: the error then is QEMU's
    // "not found").
    for secret in [
        crate::qemu::argv::disk_secret_id(id),
        crate::qemu::argv::disk_encryption_id(id),
    ] {
        let _ = qmp.execute("object-del", Some(json!({"id": secret})), QMP_TIMEOUT);
    }
    Ok(())
}
