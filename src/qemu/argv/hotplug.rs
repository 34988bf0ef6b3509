//! What device hot-plug needs of the command line: the PCI addresses the
//! builder gives the devices, written into a definition (as libvirt writes
//! them into a running domain's XML), and one device's options as QMP
//! arguments, taken from the command line the definition would have, so
//! that a hot-plugged device is exactly the device a start would make.

use serde_json::{Map, Value, json};

use super::devs::{CtlKind, Dev};
use super::usb::UsbDev;
use super::{RuntimePaths, controllers, disks, display, machine, pci, unsupported, usb};
use crate::error::Error;
use crate::model::{Address, Controller, ControllerType, DomainDef, PciAddress, UsbAddress};
use crate::qemu::caps::QemuCaps;

/// `def` with the PCI address (or USB port) the command line gives every
/// device that has none written, and with the PCI controllers the command
/// line adds (bridges, root ports) declared with theirs. The command line
/// of the result is the command line of `def`.
pub fn with_pci_addresses(def: &DomainDef, caps: &QemuCaps) -> Result<DomainDef, Error> {
    let (_, family) = machine::machine_type(def, caps)?;
    let disks = disks::resolve(def)?;
    let ctrls = controllers::Plan::new(def, family, &disks)?;
    let usb = usb::Usb::new(def, family)?;
    let pci = pci::Pci::new(def, family, &ctrls, &usb, &disks)?;
    let videos = display::videos(def)?;
    let mut out = def.clone();
    for (index, kind) in pci.implied() {
        out.devices.controllers.push(Controller::new(
            ControllerType::Pci,
            *index,
            Some(kind.model().to_string()),
        ));
    }
    let d = &mut out.devices;
    for (dev, &(bus, slot, function)) in pci.chosen() {
        let at = PciAddress {
            domain: 0,
            bus,
            slot,
            function,
            multifunction: None,
        };
        if let Dev::Serial(i) = *dev {
            if let Some(s) = d.serials.get_mut(i)
                && s.address.is_none()
            {
                s.address = Some(crate::model::CharAddress::Pci(at));
            }
            continue;
        }
        let address = Address::Pci(at);
        let place = match *dev {
            Dev::PciController(i) => d
                .controllers
                .iter_mut()
                .find(|c| c.kind == ControllerType::Pci && c.index == i)
                .map(|c| &mut c.address),
            Dev::Controller(kind, i) => {
                let t = match kind {
                    CtlKind::Scsi => ControllerType::Scsi,
                    CtlKind::Sata => ControllerType::Sata,
                    CtlKind::VirtioSerial => ControllerType::VirtioSerial,
                };
                d.controllers
                    .iter_mut()
                    .find(|c| c.kind == t && c.index == i)
                    .map(|c| &mut c.address)
            }
            Dev::Usb(i, k) => {
                let model = usb
                    .groups
                    .get(&i)
                    .and_then(|g| g.get(k))
                    .and_then(|c| c.model.clone());
                let same: Vec<usize> = (0..d.controllers.len())
                    .filter(|&j| {
                        let c = &d.controllers[j];
                        c.kind == ControllerType::Usb && c.index == i
                    })
                    .collect();
                let found = match same.as_slice() {
                    [only] if k == 0 => Some(*only),
                    _ => same
                        .iter()
                        .copied()
                        .find(|&j| d.controllers[j].model == model && model.is_some()),
                };
                found.map(|j| &mut d.controllers[j].address)
            }
            Dev::Net(i) => d.interfaces.get_mut(i).map(|n| &mut n.address),
            Dev::Sound(i) => d.sounds.get_mut(i).map(|s| &mut s.address),
            Dev::Disk(i) => d.disks.get_mut(i).map(|x| &mut x.address),
            Dev::Balloon => d.memballoon.as_mut().map(|b| &mut b.address),
            Dev::Rng(i) => d.rngs.get_mut(i).map(|r| &mut r.address),
            Dev::Watchdog(i) => d.watchdogs.get_mut(i).map(|w| &mut w.address),
            Dev::Panic(i) => d.panics.get_mut(i).map(|p| &mut p.address),
            Dev::Input(i) => d.inputs.get_mut(i).map(|x| &mut x.address),
            Dev::Fs(i) => d.filesystems.get_mut(i).map(|f| &mut f.address),
            Dev::Hostdev(i) => d.hostdevs.get_mut(i).map(|h| &mut h.address),
            Dev::Shmem(i) => d.shmems.get_mut(i).map(|s| &mut s.address),
            Dev::Vsock => d.vsock.as_mut().map(|v| &mut v.address),
            Dev::Iommu => d.iommu.as_mut().map(|i| &mut i.address),
            Dev::Memory(i) => d.memories.get_mut(i).map(|m| &mut m.address),
            Dev::Serial(_) => None,
            Dev::Video(n) => {
                let Some((video, _)) = videos.get(n) else {
                    continue;
                };
                d.videos
                    .iter_mut()
                    .find(|v| v.address.is_none() && **v == *video)
                    .map(|v| &mut v.address)
            }
        };
        if let Some(place) = place
            && place.is_none()
        {
            *place = Some(address);
        }
    }
    // Each virtio console's and channel's port, as libvirt shows them, so
    // that they keep theirs whatever is plugged in or out.
    let consoles = d
        .consoles
        .iter_mut()
        .filter(|c| c.target_type.as_deref() == Some("virtio"));
    for (c, &(controller, port)) in consoles.zip(&ctrls.serial_ports.consoles) {
        if c.address.is_none() {
            c.address = Some(crate::model::CharAddress::VirtioSerial(
                crate::model::VirtioSerialAddress {
                    controller,
                    bus: 0,
                    port,
                },
            ));
        }
    }
    for (c, at) in d.channels.iter_mut().zip(&ctrls.serial_ports.channels) {
        if let (Some((controller, port)), None | Some(Address::VirtioSerial(_))) = (at, c.address) {
            c.address = Some(Address::VirtioSerial(crate::model::VirtioSerialAddress {
                controller: *controller,
                bus: 0,
                port: *port,
            }));
        }
    }
    for (dev, &(bus, port)) in usb.ports() {
        let address = Address::Usb(UsbAddress {
            bus,
            port: Some(port),
        });
        let place = match *dev {
            UsbDev::Hub(i) => d.hubs.get_mut(i).map(|h| &mut h.address),
            UsbDev::Disk(i) => d.disks.get_mut(i).map(|x| &mut x.address),
            UsbDev::Input(i) => d.inputs.get_mut(i).map(|x| &mut x.address),
            UsbDev::Sound(i) => d.sounds.get_mut(i).map(|x| &mut x.address),
            UsbDev::Redir(i) => d.redirdevs.get_mut(i).map(|x| &mut x.address),
            UsbDev::Host(i) => d.hostdevs.get_mut(i).map(|x| &mut x.address),
            UsbDev::Serial(i) => {
                if let Some(s) = d.serials.get_mut(i)
                    && s.address.is_none()
                {
                    s.address = Some(crate::model::CharAddress::Usb(UsbAddress {
                        bus,
                        port: Some(port),
                    }));
                }
                continue;
            }
            UsbDev::Ccid(i) => {
                // The reader libvirt adds for a smartcard is shown too.
                if i >= d.ccid_controllers.len() {
                    d.ccid_controllers.push(crate::model::CcidController {
                        index: 0,
                        address: None,
                    });
                }
                d.ccid_controllers.get_mut(i).map(|x| &mut x.address)
            }
        };
        if let Some(place) = place
            && place.is_none()
        {
            *place = Some(address);
        }
    }
    // The one place a smartcard can have, as libvirt writes it.
    for s in &mut d.smartcards {
        s.address.get_or_insert(crate::model::CcidAddress {
            controller: 0,
            slot: 0,
        });
    }
    Ok(out)
}

/// A device of a definition, for [`device_args`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PluggedDevice {
    /// The `<disk>` at this position.
    Disk(usize),
    /// The `<interface>` at this position.
    Interface(usize),
    /// The `<rng>` at this position (its backend is the one object).
    Rng(usize),
    /// The `<memory>` device at this position (its backend is the one
    /// object).
    Memory(usize),
    /// The `<watchdog>` at this position (a device alone).
    Watchdog(usize),
    /// The `<input>` at this position (a device alone).
    Input(usize),
    /// The `<controller>` at this position (a SCSI host adapter).
    Controller(usize),
    /// The `<channel>` at this position (its backend is the chardev).
    Channel(usize),
    /// The `<filesystem>` at this position (a virtiofs share: its
    /// backend is the vhost-user socket chardev).
    Filesystem(usize),
    /// The `<redirdev>` at this position (its backend is the chardev).
    Redirdev(usize),
    /// The `<shmem>` at this position (its backend is a shared memory
    /// object, or the ivshmem server's socket chardev).
    Shmem(usize),
    /// The `<console>` at this position (a virtio one: its backend is the
    /// chardev).
    Console(usize),
    /// The `<serial>` at this position (a `pci-serial` one: its backend is
    /// the chardev).
    Serial(usize),
}

/// The USB hubs the command line of `def` has: the written ones and
/// those it adds where the controllers' ports run out. A device plugged
/// in must not need one more (a hub cannot be plugged in with it).
pub fn usb_hubs(def: &DomainDef, caps: &QemuCaps) -> Result<usize, Error> {
    let (_, family) = machine::machine_type(def, caps)?;
    Ok(usb::Usb::new(def, family)?.hub_count())
}

/// The QEMU id of channel number `k` (a start numbers them in order),
/// libvirt's alias; its chardev's is `char` and it.
pub fn channel_id(k: usize) -> String {
    format!("channel{k}")
}

/// The QEMU id of filesystem number `i` (a start numbers them in order),
/// libvirt's alias; a virtiofs share's socket chardev is `chr-vu-` and
/// it.
pub fn fs_id(i: usize) -> String {
    format!("fs{i}")
}

/// The QEMU id of USB redirection device number `i` (a start numbers
/// them in order), libvirt's alias; its chardev's is `char` and it.
pub fn redir_id(i: usize) -> String {
    format!("redir{i}")
}

/// The place of console `i` of `def` among its virtio consoles, which a
/// start numbers in order (`consoleK`).
pub fn virtio_console_rank(def: &DomainDef, i: usize) -> usize {
    def.devices.consoles[..i]
        .iter()
        .filter(|c| c.target_type.as_deref() == Some("virtio"))
        .count()
}

/// The QEMU id of shared memory device number `i` (a start numbers them
/// in order), libvirt's alias; its memory backend's is `shmmem-` and it,
/// its server socket chardev's `char` and it.
pub fn shmem_id(i: usize) -> String {
    format!("shmem{i}")
}

/// The QEMU id of the SCSI controller with `index`, libvirt's alias.
pub fn scsi_controller_id(index: u32) -> String {
    format!("scsi{index}")
}

/// The indexes of the SCSI controllers the disks of `def` sit on (each
/// on its address's, or the one the builder gives it).
pub fn scsi_controllers_used(def: &DomainDef) -> Result<std::collections::BTreeSet<u32>, Error> {
    Ok(disks::resolve(def)?
        .controllers_used()
        .into_iter()
        .filter(|(bus, _)| bus.0 == crate::model::DiskBus::Scsi)
        .map(|(_, index)| index)
        .collect())
}

/// One device as QMP arguments: the character devices (`chardev-add`),
/// the objects (`object-add`), the block nodes (`blockdev-add`, lowest
/// first), the network backend (`netdev_add`) and the device
/// (`device_add`).
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceArgs {
    /// `chardev-add` arguments: an egd rng's socket, added first.
    pub chardevs: Vec<Value>,
    /// `object-add` arguments: the objects the nodes use (a network
    /// disk's `secret`), or an rng's backend, added first.
    pub objects: Vec<Value>,
    /// `blockdev-add` arguments, each node after the ones it stands on.
    pub blockdevs: Vec<Value>,
    /// `netdev_add` arguments.
    pub netdev: Option<Value>,
    /// `device_add` arguments.
    pub device: Value,
}

/// The QMP arguments that make `which` as a start of `def` would make it
/// (the options of its `-chardev`, `-object`, `-blockdev`, `-netdev` and
/// `-device`). `paths`
/// only has to be complete enough for the command line to build.
pub fn device_args(
    def: &DomainDef,
    caps: &QemuCaps,
    paths: &RuntimePaths,
    which: PluggedDevice,
) -> Result<DeviceArgs, Error> {
    let argv = super::build_once(def, caps, paths)?;
    let argv: Vec<String> = argv
        .into_iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    // The device's id, the prefix of its nodes and objects' ids, its
    // network backend's id and the id of its one object.
    let (device_id, node_prefix, netdev_id, object_id) = match which {
        PluggedDevice::Disk(i) => {
            let id = disks::device_ids(def)?.swap_remove(i);
            let prefix = format!("{id}-");
            (id, Some(prefix), None, None)
        }
        PluggedDevice::Interface(i) => {
            let id = super::net::nic_id(&def.devices.interfaces[i], i as u32);
            let netdev = format!("host{id}");
            (id, None, Some(netdev), None)
        }
        PluggedDevice::Rng(i) => {
            let (id, object) = super::extras::rng_ids(i as u32);
            (id, None, None, Some(object))
        }
        PluggedDevice::Memory(i) => {
            let (id, _) = super::memdev::device_ids(def).swap_remove(i);
            let object = format!("mem{id}");
            (id, None, None, Some(object))
        }
        PluggedDevice::Watchdog(i) => (super::extras::watchdog_id(i), None, None, None),
        PluggedDevice::Input(i) => (display::input_id(i), None, None, None),
        PluggedDevice::Controller(i) => {
            let c = &def.devices.controllers[i];
            if c.kind != ControllerType::Scsi {
                return Err(unsupported(format!(
                    "'{}' controller cannot be hot plugged.",
                    c.kind.as_str()
                )));
            }
            (scsi_controller_id(c.index), None, None, None)
        }
        PluggedDevice::Channel(k) => (channel_id(k), None, None, None),
        PluggedDevice::Filesystem(i) => (fs_id(i), None, None, None),
        PluggedDevice::Redirdev(i) => (redir_id(i), None, None, None),
        PluggedDevice::Console(i) => {
            let c = &def.devices.consoles[i];
            if c.target_type.as_deref() != Some("virtio") {
                return Err(unsupported("attaching serial console is not supported"));
            }
            let k = virtio_console_rank(def, i);
            (super::chardev::console_id(c, k), None, None, None)
        }
        PluggedDevice::Serial(i) => {
            let s = &def.devices.serials[i];
            let target = s.target_type.as_deref().unwrap_or("isa-serial");
            if !matches!(target, "pci-serial" | "usb-serial") {
                return Err(unsupported(format!(
                    "a serial port of target type '{target}' cannot be hot plugged: only pci-serial and usb-serial ports can"
                )));
            }
            (super::chardev::serial_id(s, i), None, None, None)
        }
        PluggedDevice::Shmem(i) => {
            let id = shmem_id(i);
            let object = format!("shmmem-{id}");
            (id, None, None, Some(object))
        }
    };
    let memory = matches!(which, PluggedDevice::Memory(_));
    // A memory backend's options are typed as QMP's ObjectOptions.
    let memory_backend = memory || matches!(which, PluggedDevice::Shmem(_));
    let options = |option: &'static str| {
        argv.windows(2)
            .filter(move |w| w[0] == option)
            .map(|w| parse_keyval(&w[1]))
    };
    let blockdevs = match &node_prefix {
        None => Vec::new(),
        Some(prefix) => options("-blockdev")
            .filter(|kv| {
                kv.iter()
                    .any(|(k, v)| k == "node-name" && v.starts_with(prefix.as_str()))
            })
            .map(|kv| to_json(&kv, None, BLOCKDEV_BOOLS, BLOCKDEV_INTS))
            .collect(),
    };
    let wanted = |id: &str| match (&node_prefix, &object_id) {
        (Some(prefix), _) => id.starts_with(prefix.as_str()),
        (None, Some(object)) => id == object,
        (None, None) => false,
    };
    let objects = options("-object")
        .filter(|kv| kv.iter().any(|(k, v)| k == "id" && wanted(v)))
        .map(|kv| match memory_backend {
            true => memory_object(&kv),
            false => Ok(to_json(&kv, Some("qom-type"), &["verify-peer"], &[])),
        })
        .collect::<Result<_, _>>()?;
    let chardev_id = match which {
        PluggedDevice::Rng(_)
        | PluggedDevice::Channel(_)
        | PluggedDevice::Redirdev(_)
        | PluggedDevice::Shmem(_)
        | PluggedDevice::Console(_)
        | PluggedDevice::Serial(_) => Some(format!("char{device_id}")),
        PluggedDevice::Filesystem(_) => Some(format!("chr-vu-{device_id}")),
        _ => None,
    };
    let chardevs = match chardev_id {
        None => Vec::new(),
        Some(id) => options("-chardev")
            .filter(|kv| kv.iter().any(|(k, v)| k == "id" && *v == id))
            .map(|kv| chardev_add(&kv))
            .collect::<Result<_, _>>()?,
    };
    let netdev = netdev_id.and_then(|id| {
        options("-netdev")
            .find(|kv| kv.iter().any(|(k, v)| k == "id" && *v == id))
            .map(|kv| to_json(&kv, Some("type"), NETDEV_BOOLS, NETDEV_INTS))
    });
    let device = options("-device")
        .find(|kv| kv.iter().any(|(k, v)| k == "id" && *v == device_id))
        .map(|kv| match memory {
            // A DIMM's `addr` is its guest physical address, a number;
            // a PCI device's is its slot, which QMP takes as text.
            true if kv.iter().any(|(k, _)| k == "slot") => {
                to_json(&kv, Some("driver"), MEMORY_BOOLS, MEMORY_DIMM_INTS)
            }
            true => to_json(&kv, Some("driver"), MEMORY_BOOLS, MEMORY_INTS),
            false => to_json(&kv, Some("driver"), DEVICE_BOOLS, DEVICE_INTS),
        })
        .ok_or_else(|| {
            unsupported(format!(
                "the command line has no device '{device_id}' to plug in"
            ))
        })?;
    Ok(DeviceArgs {
        chardevs,
        objects,
        blockdevs,
        netdev,
        device,
    })
}

/// A `-chardev` as `chardev-add` arguments (QMP's nested `backend`, its
/// `data` as QMP's `ChardevBackend` types it): a UNIX or TCP socket,
/// listening or connecting, a pseudo-terminal, a file, a pipe, a host
/// serial device, UDP, the null device, a SPICE channel or port, QEMU's
/// vdagent; the log file of any. Another backend or option (TLS
/// credentials) is refused by name.
fn chardev_add(kv: &[(String, String)]) -> Result<Value, Error> {
    let get = |key: &str| kv.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
    let kind = get("").unwrap_or_default();
    let inet = |host: Option<&str>, port: Option<&str>| json!({"type": "inet", "data": {"host": host.unwrap_or_default(), "port": port.unwrap_or("0")}});
    // The options each backend takes besides the log file's.
    let (mut data, known): (Value, &[&str]) = match kind {
        "socket" => {
            let addr = match (get("path"), get("port")) {
                (Some(path), _) => json!({"type": "unix", "data": {"path": path}}),
                (None, Some(port)) => inet(get("host"), Some(port)),
                (None, None) => return Err(unsupported("a socket chardev without an address")),
            };
            // QMP's socket listens unless told not to, the command line's
            // connects unless told to listen.
            let mut data = json!({ "addr": addr, "server": false });
            for (k, v) in kv {
                match k.as_str() {
                    "server" | "wait" | "telnet" => data[k] = json!(v == "on"),
                    "reconnect" => {
                        let n: i64 = v
                            .parse()
                            .map_err(|_| unsupported(format!("reconnect={v} is not a number")))?;
                        data[k] = json!(n);
                    }
                    _ => {}
                }
            }
            (
                data,
                &[
                    "path",
                    "host",
                    "port",
                    "server",
                    "wait",
                    "telnet",
                    "reconnect",
                ],
            )
        }
        "pty" | "null" => (json!({}), &[]),
        "file" => {
            let mut data = json!({ "out": get("path").unwrap_or_default() });
            if let Some(a) = get("append") {
                data["append"] = json!(a == "on");
            }
            (data, &["path", "append"])
        }
        "pipe" | "serial" => (
            json!({ "device": get("path").unwrap_or_default() }),
            &["path"],
        ),
        "udp" => {
            let mut data = json!({ "remote": inet(get("host"), get("port")) });
            if get("localaddr").is_some() || get("localport").is_some() {
                data["local"] = inet(get("localaddr"), get("localport"));
            }
            (data, &["host", "port", "localaddr", "localport"])
        }
        "spicevmc" => (
            json!({ "type": get("name").unwrap_or_default() }),
            &["name"],
        ),
        "spiceport" => (
            json!({ "fqdn": get("name").unwrap_or_default() }),
            &["name"],
        ),
        "qemu-vdagent" => {
            let mut data = json!({});
            for k in ["mouse", "clipboard"] {
                if let Some(v) = get(k) {
                    data[k] = json!(v == "on");
                }
            }
            (data, &["name", "mouse", "clipboard"])
        }
        other => {
            return Err(unsupported(format!(
                "a '{other}' character device is not hot-plugged"
            )));
        }
    };
    for (k, v) in kv {
        match k.as_str() {
            "" | "id" => {}
            "logfile" => data["logfile"] = json!(v),
            "logappend" => data["logappend"] = json!(v == "on"),
            k if known.contains(&k) => {}
            other => {
                return Err(unsupported(format!(
                    "a character device with '{other}' is not hot-plugged; attach it with --config and restart the domain"
                )));
            }
        }
    }
    Ok(json!({
        "id": get("id").unwrap_or_default(),
        "backend": {"type": kind, "data": data},
    }))
}

/// A memory backend's `-object` as `object-add` arguments, typed as
/// QMP's `ObjectOptions` types them (sizes and thread counts numbers,
/// switches booleans, `host-nodes` a list of node numbers).
fn memory_object(kv: &[(String, String)]) -> Result<Value, Error> {
    let mut out = Map::new();
    let mut nodes = Vec::new();
    for (k, v) in kv {
        let value = match k.as_str() {
            "" => {
                out.insert("qom-type".into(), json!(v));
                continue;
            }
            "host-nodes" => {
                let (a, b) = v.split_once('-').unwrap_or((v, v));
                let n = |s: &str| {
                    s.parse::<u16>()
                        .map_err(|_| unsupported(format!("host-nodes={v} is not a node range")))
                };
                nodes.extend(n(a)?..=n(b)?);
                continue;
            }
            "size" | "align" | "prealloc-threads" | "hugetlbsize" => json!(
                v.parse::<u64>()
                    .map_err(|_| unsupported(format!("{k}={v} is not a number")))?
            ),
            b if MEMORY_BOOLS.contains(&b) => json!(v == "on"),
            _ => json!(v),
        };
        out.insert(k.clone(), value);
    }
    if !nodes.is_empty() {
        out.insert("host-nodes".into(), json!(nodes));
    }
    Ok(Value::Object(out))
}

/// Memory backend and memory device options that are booleans in QMP.
const MEMORY_BOOLS: &[&str] = &[
    "share",
    "reserve",
    "prealloc",
    "discard-data",
    "hugetlb",
    "pmem",
    "unarmed",
];
/// Memory device options that are integers in QMP (a PCI device's).
const MEMORY_INTS: &[&str] = &["node", "block-size", "requested-size", "label-size"];
/// A DIMM's options that are integers in QMP.
const MEMORY_DIMM_INTS: &[&str] = &["node", "slot", "addr", "label-size"];

/// Block node options that are booleans in QMP.
const BLOCKDEV_BOOLS: &[&str] = &[
    "read-only",
    "auto-read-only",
    "force-share",
    "cache.direct",
    "cache.no-flush",
    "sslverify",
    "floppy",
    "rw",
];
/// Block node options that are integers in QMP.
const BLOCKDEV_INTS: &[&str] = &[
    "lun",
    "offset",
    "size",
    "timeout",
    "readahead",
    "cache-size",
];
/// Network backend options that are booleans in QMP.
const NETDEV_BOOLS: &[&str] = &["restrict", "ipv4", "ipv6", "vhost"];
/// Network backend options that are integers in QMP.
const NETDEV_INTS: &[&str] = &["queues"];
/// Device properties that are booleans in QMP (`write-cache` is
/// on/off/auto, a string).
const DEVICE_BOOLS: &[&str] = &[
    "share-rw",
    "removable",
    "multifunction",
    "iommu_platform",
    "ats",
    "packed",
    "page-per-vq",
    "ioeventfd",
    "event_idx",
    "csum",
    "gso",
    "host_tso4",
    "host_tso6",
    "host_ecn",
    "host_ufo",
    "mrg_rxbuf",
    "guest_csum",
    "guest_tso4",
    "guest_tso6",
    "guest_ecn",
    "guest_ufo",
    "mq",
    "rss",
    "hash",
];
/// Device properties that are integers in QMP.
const DEVICE_INTS: &[&str] = &[
    "vectors",
    "host_mtu",
    "rx_queue_size",
    "tx_queue_size",
    "rombar",
    "bootindex",
    "acpi-index",
    "scsi-id",
    "lun",
    "channel",
    "unit",
    "num-queues",
    "queue-size",
    "logical_block_size",
    "physical_block_size",
    "discard_granularity",
    "rotation_rate",
    "cyls",
    "heads",
    "secs",
    "max-bytes",
    "period",
    "nr",
    "num_queues",
    "cmd_per_lun",
    "max_sectors",
];

/// Splits QEMU's `a=b,c=d` option syntax (`,,` is a comma in a value); a
/// part without `=` has the key `""` (the device driver, the backend type).
pub(crate) fn parse_keyval(text: &str) -> Vec<(String, String)> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == ',' {
            if chars.peek() == Some(&',') {
                chars.next();
                cur.push(',');
            } else {
                parts.push(std::mem::take(&mut cur));
            }
        } else {
            cur.push(c);
        }
    }
    parts.push(cur);
    parts
        .into_iter()
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (String::new(), p),
        })
        .collect()
}

/// Options as a QMP object: a part without a key under `head`, dotted
/// keys nested, `bools` and `ints` typed, `backing=` (no backing) null,
/// `hostfwd` a list of `{"str": ...}`.
fn to_json(kv: &[(String, String)], head: Option<&str>, bools: &[&str], ints: &[&str]) -> Value {
    let mut out = Map::new();
    for (k, v) in kv {
        let key = if k.is_empty() {
            match head {
                Some(h) => h,
                None => continue,
            }
        } else {
            k.as_str()
        };
        let value = if bools.contains(&key) && (v == "on" || v == "off") {
            json!(v == "on")
        } else if let (true, Ok(n)) = (ints.contains(&key), v.parse::<i64>()) {
            json!(n)
        } else if key == "backing" && v.is_empty() {
            Value::Null
        } else {
            json!(v)
        };
        if key == "hostfwd" || key == "guestfwd" {
            let list = out.entry(key.to_string()).or_insert_with(|| json!([]));
            if let Some(a) = list.as_array_mut() {
                a.push(json!({ "str": v }));
            }
            continue;
        }
        let mut map = &mut out;
        let mut path: Vec<&str> = key.split('.').collect();
        let last = path.pop().unwrap_or(key);
        for p in path {
            let entry = map.entry(p.to_string()).or_insert_with(|| json!({}));
            if !entry.is_object() {
                *entry = json!({});
            }
            map = entry.as_object_mut().expect("made an object above");
        }
        map.insert(last.to_string(), value);
    }
    lists(Value::Object(out))
}

/// Turns each object whose keys are `0`, `1`, ... (a list written as
/// dotted keys, `server.0.host`) into the array QMP takes.
fn lists(v: Value) -> Value {
    match v {
        Value::Object(map) => {
            let indexed =
                !map.is_empty() && (0..map.len()).all(|i| map.contains_key(&i.to_string()));
            if indexed {
                let mut map = map;
                Value::Array(
                    (0..map.len())
                        .map(|i| lists(map.remove(&i.to_string()).unwrap_or(Value::Null)))
                        .collect(),
                )
            } else {
                Value::Object(map.into_iter().map(|(k, v)| (k, lists(v))).collect())
            }
        }
        other => other,
    }
}

#[cfg(test)]
#[path = "hotplug_tests.rs"]
mod tests;
