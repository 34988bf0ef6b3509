//! Reading the host's devices from sysfs (and udev's database where
//! there is one) as libvirt's udev driver does: which devices it keeps,
//! their names, capabilities and parents.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::transport::libvirt::ifaces::{Link, NetHost};

/// Where the kernel's and udev's files are read: `/` on a real host, a
/// copy of their layout in tests.
#[derive(Debug, Clone)]
pub struct DevHost {
    /// The directory holding `sys/`, `run/udev/` and `usr/share/`.
    pub root: PathBuf,
}

impl Default for DevHost {
    fn default() -> DevHost {
        DevHost {
            root: PathBuf::from("/"),
        }
    }
}

/// One device as libvirt shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// libvirt's name (`pci_0000_00_1f_2`).
    pub name: String,
    /// Its sysfs directory as the kernel names it (`/sys/devices/...`);
    /// none for `computer`.
    pub path: Option<String>,
    /// Its `/dev` node.
    pub devnode: Option<String>,
    /// udev's links to the node (`/dev/disk/by-path/...`).
    pub devlinks: Vec<String>,
    /// The listed device above it; none for `computer`.
    pub parent: Option<String>,
    /// The driver bound to it.
    pub driver: Option<String>,
    /// What it is.
    pub cap: Cap,
}

/// A device's capability, with what libvirt shows of it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Cap {
    System(System),
    Pci(Pci),
    UsbDevice(UsbDevice),
    UsbInterface(UsbInterface),
    Net(Net),
    Storage(Storage),
    ScsiHost(ScsiHost),
    /// A SCSI target, by its kernel name (`target0:0:0`).
    ScsiTarget(String),
    Scsi(Scsi),
    /// A SCSI generic node, by its path (`/dev/sg0`).
    ScsiGeneric(String),
    /// A DRM node: `primary`, `control` or `render`.
    Drm(&'static str),
}

/// A SCSI host adapter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct ScsiHost {
    pub host: u32,
    pub unique_id: Option<i64>,
}

/// A SCSI device (a logical unit).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct Scsi {
    pub host: u32,
    pub bus: u32,
    pub target: u32,
    pub lun: u32,
    /// Its peripheral type by libvirt's name (`disk`, `cdrom`...).
    pub kind: Option<&'static str>,
}

/// The system's DMI identity.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct System {
    pub product: Option<String>,
    pub vendor: Option<String>,
    pub version: Option<String>,
    pub serial: Option<String>,
    pub uuid: Option<String>,
    pub bios_vendor: Option<String>,
    pub bios_version: Option<String>,
    pub bios_date: Option<String>,
}

/// A PCI address.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
#[allow(missing_docs)]
pub struct PciAddr {
    pub domain: u32,
    pub bus: u32,
    pub slot: u32,
    pub function: u32,
}

impl PciAddr {
    /// Parses `0000:00:1f.2`.
    pub fn parse(s: &str) -> Option<PciAddr> {
        let mut it = s.split([':', '.']);
        let mut next = || u32::from_str_radix(it.next()?, 16).ok();
        let a = PciAddr {
            domain: next()?,
            bus: next()?,
            slot: next()?,
            function: next()?,
        };
        Some(a)
    }
}

/// A PCI Express link (`virPCIELink`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct PcieLink {
    pub port: Option<u32>,
    pub speed: u32,
    pub width: u32,
}

/// A PCI device.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct Pci {
    pub class: Option<u32>,
    pub addr: PciAddr,
    pub vendor: u32,
    pub product: u32,
    pub vendor_name: Option<String>,
    pub product_name: Option<String>,
    pub iommu_group: Option<(u32, Vec<PciAddr>)>,
    pub numa_node: Option<i32>,
    /// `pci-bridge` or `cardbus-bridge` (an endpoint says nothing).
    pub header: Option<&'static str>,
    pub phys_function: Option<PciAddr>,
    /// SR-IOV: the most virtual functions, and those there are.
    pub virt_functions: Option<(u32, Vec<PciAddr>)>,
    /// PCI Express: the link's capability and status, if it has a link.
    pub pcie: Option<Option<(PcieLink, PcieLink)>>,
}

/// A USB device.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct UsbDevice {
    pub bus: u32,
    pub device: u32,
    pub vendor: u32,
    pub product: u32,
    pub vendor_name: Option<String>,
    pub product_name: Option<String>,
}

/// A USB interface.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct UsbInterface {
    pub number: u32,
    pub class: u32,
    pub subclass: u32,
    pub protocol: u32,
}

/// A network device.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct Net {
    pub ifname: String,
    pub address: Option<String>,
    pub link: Link,
    /// `80211` for a wireless device, else `80203`.
    pub subtype: &'static str,
}

/// A disk.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct Storage {
    pub block: String,
    pub bus: Option<String>,
    pub drive_type: String,
    pub model: Option<String>,
    pub vendor: Option<String>,
    pub serial: Option<String>,
    /// For a drive of removable media: whether it is removable, whether
    /// a medium is in, and its label.
    pub removable: Option<(bool, bool, Option<String>)>,
    pub size: u64,
    pub logical_block_size: u64,
    pub num_blocks: u64,
}

/// A sysfs attribute's text without control characters; empty is none
/// (`udevGetStringSysfsAttr`).
fn attr(dir: &Path, file: &str) -> Option<String> {
    let text = std::fs::read_to_string(dir.join(file)).ok()?;
    let text: String = text.chars().filter(|c| !c.is_control()).collect();
    (!text.is_empty()).then_some(text)
}

/// A hexadecimal attribute (`0x8086` or `8086`).
fn hex(dir: &Path, file: &str) -> Option<u32> {
    let t = attr(dir, file)?;
    u32::from_str_radix(t.trim().trim_start_matches("0x"), 16).ok()
}

/// The entries of a directory, sorted.
fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok()?.file_name().into_string().ok())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// libvirt's name: `SUBSYSTEM_SYSNAME[_EXTRA]`, every character that is
/// not a letter or digit made `_`.
fn device_name(subsystem: &str, sysname: &str, extra: Option<&str>) -> String {
    let mut name = format!("{subsystem}_{sysname}");
    if let Some(e) = extra {
        name.push('_');
        name.push_str(e);
    }
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// A device's properties (its uevent's, and udev's) and udev's links to
/// its node.
#[derive(Default)]
struct Props {
    map: HashMap<String, String>,
    links: Vec<String>,
}

impl Props {
    fn get(&self, key: &str) -> Option<&String> {
        self.map.get(key)
    }

    fn contains_key(&self, key: &str) -> bool {
        self.map.contains_key(key)
    }
}

/// A found device before its parent is known: its canonical sysfs
/// directory.
struct Found {
    dir: PathBuf,
    dev: Device,
}

impl DevHost {
    fn sys(&self, p: &str) -> PathBuf {
        self.root.join("sys").join(p)
    }

    /// A device's uevent properties, with udev's own and its links from
    /// its database (`/run/udev/data/ID`) where udev keeps one.
    fn props(&self, dir: &Path, db_id: Option<String>) -> Props {
        let mut props = Props::default();
        for l in attr_lines(dir, "uevent") {
            if let Some((k, v)) = l.split_once('=') {
                props.map.insert(k.to_string(), v.to_string());
            }
        }
        if let Some(id) = db_id {
            let db = self.root.join("run/udev/data").join(id);
            for l in std::fs::read_to_string(db).unwrap_or_default().lines() {
                if let Some((k, v)) = l.strip_prefix("E:").and_then(|e| e.split_once('=')) {
                    props.map.insert(k.to_string(), v.to_string());
                } else if let Some(link) = l.strip_prefix("S:") {
                    props.links.push(format!("/dev/{link}"));
                }
            }
        }
        props
    }

    /// The path libvirt shows (`/sys/devices/...`) of a directory under
    /// the root.
    fn shown(&self, dir: &Path) -> String {
        let rel = dir.strip_prefix(&self.root).unwrap_or(dir);
        format!("/{}", rel.display())
    }

    /// Every device libvirt's udev driver keeps, `computer` first then
    /// by name, each with its parent.
    pub fn devices(&self) -> Vec<Device> {
        let mut found = Vec::new();
        found.extend(self.pci_devices());
        found.extend(self.usb_devices());
        found.extend(self.net_devices());
        found.extend(self.scsi_devices());
        found.extend(self.class_nodes());
        found.extend(self.disks());
        let by_dir: HashMap<PathBuf, String> = found
            .iter()
            .map(|f| (f.dir.clone(), f.dev.name.clone()))
            .collect();
        let mut devices: Vec<Device> = found
            .into_iter()
            .map(|mut f| {
                let parent = f
                    .dir
                    .ancestors()
                    .skip(1)
                    .take_while(|a| a.starts_with(&self.root) && *a != self.root)
                    .find_map(|a| by_dir.get(a).cloned());
                f.dev.parent = Some(parent.unwrap_or_else(|| "computer".to_string()));
                f.dev
            })
            .collect();
        devices.sort_by(|a, b| a.name.cmp(&b.name));
        devices.dedup_by(|a, b| a.name == b.name);
        devices.insert(0, self.computer());
        devices
    }

    /// `computer`, with the DMI identity the firmware gives.
    fn computer(&self) -> Device {
        let dmi = self.sys("devices/virtual/dmi/id");
        let system = if dmi.is_dir() {
            System {
                product: attr(&dmi, "product_name"),
                vendor: attr(&dmi, "sys_vendor"),
                version: attr(&dmi, "product_version"),
                serial: attr(&dmi, "product_serial"),
                uuid: attr(&dmi, "product_uuid")
                    .and_then(|u| uuid::Uuid::parse_str(u.trim()).ok())
                    .map(|u| u.to_string()),
                bios_vendor: attr(&dmi, "bios_vendor"),
                bios_version: attr(&dmi, "bios_version"),
                bios_date: attr(&dmi, "bios_date"),
            }
        } else {
            System::default()
        };
        Device {
            name: "computer".to_string(),
            path: None,
            devnode: None,
            devlinks: Vec::new(),
            parent: None,
            driver: None,
            cap: Cap::System(system),
        }
    }

    /// A device found at `link` (a bus's or class's entry), with what
    /// every device has.
    fn found(&self, link: &Path, name: String, props: &Props, cap: Cap) -> Option<Found> {
        let dir = std::fs::canonicalize(link).ok()?;
        Some(Found {
            dev: Device {
                name,
                path: Some(self.shown(&dir)),
                devnode: props.get("DEVNAME").map(|n| format!("/dev/{n}")),
                devlinks: props.links.clone(),
                parent: None,
                driver: props.get("DRIVER").cloned(),
                cap,
            },
            dir,
        })
    }

    fn pci_devices(&self) -> Vec<Found> {
        let bus = self.sys("bus/pci/devices");
        let mut wanted = Vec::new();
        let mut out = Vec::new();
        for sysname in entries(&bus) {
            let dir = bus.join(&sysname);
            let props = self.props(&dir, Some(format!("+pci:{sysname}")));
            let Some(addr) = PciAddr::parse(&sysname) else {
                continue;
            };
            let class = props
                .get("PCI_CLASS")
                .and_then(|c| u32::from_str_radix(c, 16).ok());
            let (Some(vendor), Some(product)) = (hex(&dir, "vendor"), hex(&dir, "device")) else {
                continue;
            };
            wanted.push((vendor, product));
            let pci = super::read_pci::pci(&self.root, &dir, addr, class, vendor, product);
            let name = device_name("pci", &sysname, None);
            out.extend(self.found(&dir, name, &props, Cap::Pci(pci)));
        }
        let names = super::read_pci::pci_names(&self.root, &wanted);
        for f in &mut out {
            if let Cap::Pci(p) = &mut f.dev.cap {
                p.vendor_name = names.vendors.get(&p.vendor).cloned();
                p.product_name = names.products.get(&(p.vendor, p.product)).cloned();
            }
        }
        out
    }

    fn usb_devices(&self) -> Vec<Found> {
        let bus = self.sys("bus/usb/devices");
        let mut out = Vec::new();
        for sysname in entries(&bus) {
            let dir = bus.join(&sysname);
            let props = self.props(&dir, Some(format!("+usb:{sysname}")));
            let cap = match props.get("DEVTYPE").map(String::as_str) {
                Some("usb_device") => {
                    let num = |k: &str| props.get(k).and_then(|v| v.parse().ok());
                    let (Some(bus), Some(device)) = (num("BUSNUM"), num("DEVNUM")) else {
                        continue;
                    };
                    let id = |k: &str, file: &str| {
                        props
                            .get(k)
                            .and_then(|v| u32::from_str_radix(v, 16).ok())
                            .or_else(|| hex(&dir, file))
                    };
                    let (Some(vendor), Some(product)) = (
                        id("ID_VENDOR_ID", "idVendor"),
                        id("ID_MODEL_ID", "idProduct"),
                    ) else {
                        continue;
                    };
                    Cap::UsbDevice(UsbDevice {
                        bus,
                        device,
                        vendor,
                        product,
                        vendor_name: props
                            .get("ID_VENDOR_FROM_DATABASE")
                            .cloned()
                            .or_else(|| attr(&dir, "manufacturer")),
                        product_name: props
                            .get("ID_MODEL_FROM_DATABASE")
                            .cloned()
                            .or_else(|| attr(&dir, "product")),
                    })
                }
                Some("usb_interface") => Cap::UsbInterface(UsbInterface {
                    number: hex(&dir, "bInterfaceNumber").unwrap_or(0),
                    class: hex(&dir, "bInterfaceClass").unwrap_or(0),
                    subclass: hex(&dir, "bInterfaceSubClass").unwrap_or(0),
                    protocol: hex(&dir, "bInterfaceProtocol").unwrap_or(0),
                }),
                _ => continue,
            };
            let name = device_name("usb", &sysname, None);
            out.extend(self.found(&dir, name, &props, cap));
        }
        out
    }

    /// SCSI hosts, targets and devices (`/sys/bus/scsi/devices`).
    fn scsi_devices(&self) -> Vec<Found> {
        let bus = self.sys("bus/scsi/devices");
        let mut out = Vec::new();
        for sysname in entries(&bus) {
            let dir = bus.join(&sysname);
            let props = self.props(&dir, None);
            let cap = match props.get("DEVTYPE").map(String::as_str) {
                Some("scsi_host") => {
                    let Some(host) = sysname.strip_prefix("host").and_then(|h| h.parse().ok())
                    else {
                        continue;
                    };
                    let unique_id = attr(
                        &self.sys(&format!("class/scsi_host/{sysname}")),
                        "unique_id",
                    )
                    .and_then(|u| u.trim().parse().ok());
                    Cap::ScsiHost(ScsiHost { host, unique_id })
                }
                Some("scsi_target") => Cap::ScsiTarget(sysname.clone()),
                Some("scsi_device") => {
                    let n: Vec<u32> = sysname.split(':').filter_map(|p| p.parse().ok()).collect();
                    let [host, bus, target, lun] = n[..] else {
                        continue;
                    };
                    let kind = attr(&dir, "type")
                        .and_then(|t| t.trim().parse::<u32>().ok())
                        .and_then(scsi_type);
                    Cap::Scsi(Scsi {
                        host,
                        bus,
                        target,
                        lun,
                        kind,
                    })
                }
                _ => continue,
            };
            let name = device_name("scsi", &sysname, None);
            out.extend(self.found(&dir, name, &props, cap));
        }
        out
    }

    /// SCSI generic nodes (`/sys/class/scsi_generic`) and DRM minors
    /// (`/sys/class/drm`, `DEVTYPE=drm_minor`).
    fn class_nodes(&self) -> Vec<Found> {
        let mut out = Vec::new();
        let sg = self.sys("class/scsi_generic");
        for sysname in entries(&sg) {
            let dir = sg.join(&sysname);
            let props = self.props(&dir, None);
            let Some(node) = props.get("DEVNAME").map(|n| format!("/dev/{n}")) else {
                continue;
            };
            let name = device_name("scsi_generic", &sysname, None);
            out.extend(self.found(&dir, name, &props, Cap::ScsiGeneric(node)));
        }
        let drm = self.sys("class/drm");
        for sysname in entries(&drm) {
            let dir = drm.join(&sysname);
            let props = self.props(&dir, None);
            if props.get("DEVTYPE").map(String::as_str) != Some("drm_minor") {
                continue;
            }
            let kind = match props
                .get("MINOR")
                .and_then(|m| m.parse::<u32>().ok())
                .map(|m| m >> 6)
            {
                Some(0) => "primary",
                Some(1) => "control",
                Some(2) => "render",
                _ => continue,
            };
            let name = device_name("drm", &sysname, None);
            out.extend(self.found(&dir, name, &props, Cap::Drm(kind)));
        }
        out
    }

    fn net_devices(&self) -> Vec<Found> {
        let class = self.sys("class/net");
        let net = NetHost {
            root: self.root.clone(),
        };
        let mut out = Vec::new();
        for sysname in entries(&class) {
            let dir = class.join(&sysname);
            let ifindex = attr(&dir, "ifindex").map(|i| format!("n{}", i.trim()));
            let props = self.props(&dir, ifindex);
            let subtype = match props.get("DEVTYPE").map(String::as_str) {
                None => "80203",
                Some("wlan") => "80211",
                Some(_) => continue,
            };
            let Some(ifname) = props.get("INTERFACE").cloned() else {
                continue;
            };
            let address = attr(&dir, "address");
            let name = device_name("net", &sysname, address.as_deref());
            let cap = Cap::Net(Net {
                link: net.link(&sysname),
                ifname,
                address,
                subtype,
            });
            out.extend(self.found(&dir, name, &props, cap));
        }
        out
    }

    fn disks(&self) -> Vec<Found> {
        let class = self.sys("class/block");
        let mut out = Vec::new();
        for sysname in entries(&class) {
            let dir = class.join(&sysname);
            let dev = attr(&dir, "dev").map(|d| format!("b{}", d.trim()));
            let props = self.props(&dir, dev);
            if props.get("DEVTYPE").map(String::as_str) != Some("disk") {
                continue;
            }
            let Some(storage) = storage(&dir, &props) else {
                continue;
            };
            let name = device_name("block", &sysname, storage.serial.as_deref());
            out.extend(self.found(&dir, name, &props, Cap::Storage(storage)));
        }
        out
    }
}

/// libvirt's name of a SCSI peripheral type.
fn scsi_type(t: u32) -> Option<&'static str> {
    Some(match t {
        0 => "disk",
        1 => "tape",
        3 => "processor",
        4 => "worm",
        5 => "cdrom",
        6 => "scanner",
        7 => "mod",
        8 => "changer",
        0x0c => "raid",
        0x0d => "enclosure",
        _ => return None,
    })
}

/// An attribute's lines.
fn attr_lines(dir: &Path, file: &str) -> Vec<String> {
    std::fs::read_to_string(dir.join(file))
        .map(|t| t.lines().map(str::to_string).collect())
        .unwrap_or_default()
}

/// `udevProcessStorage`: a disk whose kind udev tells (or its node's
/// name does: `/dev/vd*` is a disk), else none.
fn storage(dir: &Path, props: &Props) -> Option<Storage> {
    let block = format!("/dev/{}", props.get("DEVNAME")?);
    let mut kind = props.get("ID_TYPE").cloned();
    if kind.as_deref().is_none_or(|k| k == "generic") {
        kind = if props.contains_key("ID_DRIVE_FLOPPY") {
            Some("floppy".into())
        } else if props.contains_key("ID_CDROM") {
            Some("cd".into())
        } else if props.contains_key("ID_DRIVE_FLASH_SD") {
            Some("sd".into())
        } else if block.starts_with("/dev/vd") || block.starts_with("/dev/nvme") {
            Some("disk".into())
        } else if block.starts_with("/dev/dasd") {
            Some("dasd".into())
        } else {
            None
        };
    }
    let kind = kind?;
    let number = |f: &str| {
        attr(dir, f)
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or(0)
    };
    let num_blocks = number("size");
    let logical_block_size = number("queue/logical_block_size");
    let mut s = Storage {
        block,
        bus: props.get("ID_BUS").cloned(),
        drive_type: kind.clone(),
        model: attr(dir, "device/model").map(|m| m.trim().to_string()),
        vendor: attr(dir, "device/vendor").map(|v| v.trim().to_string()),
        serial: props.get("ID_SERIAL").cloned(),
        ..Storage::default()
    };
    match kind.as_str() {
        "disk" | "sd" | "dasd" => {
            if kind == "dasd" {
                s.serial = attr(dir, "device/uid");
            }
            s.num_blocks = num_blocks;
            s.logical_block_size = logical_block_size;
            s.size = num_blocks * logical_block_size;
        }
        "cd" | "cd/dvd" | "floppy" => {
            if kind != "floppy" {
                s.drive_type = "cdrom".into();
            }
            let media = if kind == "floppy" {
                props.contains_key("ID_FS_LABEL")
            } else {
                props
                    .get("ID_CDROM_MEDIA")
                    .is_some_and(|m| m.parse::<i64>().is_ok_and(|n| n != 0))
            };
            let removable = attr(dir, "removable").is_some_and(|r| r.trim() == "1");
            if media {
                s.num_blocks = num_blocks;
                s.logical_block_size = logical_block_size;
                s.size = num_blocks * logical_block_size;
            }
            s.removable = Some((removable, media, props.get("ID_FS_LABEL").cloned()));
        }
        _ => return None,
    }
    Some(s)
}
