//! What a start checks of the host before it runs QEMU, for the parts of
//! a definition that reach into it: the PCI and USB devices passed
//! through, the hugetlbfs mounts huge pages come from, the host NUMA
//! nodes memory is bound to (and, in `sev`, what SEV guests and emulated
//! smartcards need); automatic placement (numad's advice) is refused. Each
//! missing resource is named, with what to do; nothing is left for QEMU
//! to fail on obscurely.

use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

use crate::error::{Error, ErrorCode, Result};
use crate::model::{
    DiskDevice, DomainDef, HostdevSource, MemorySourceType, PciAddress, Placement, UsbHostSource,
    parse_cpuset,
};
use crate::qemu::argv::{host_pci_name, hugepage_dir, hugepage_size};

mod net;

/// Where the checks look: `/` on a real host, a scratch tree in tests.
#[derive(Debug, Clone)]
pub struct Host {
    /// The root under which `sys/` and `proc/` are read.
    pub root: PathBuf,
}

impl Default for Host {
    fn default() -> Host {
        Host {
            root: PathBuf::from("/"),
        }
    }
}

pub(super) fn lacks(def: &DomainDef, what: String) -> Error {
    Error::new(
        ErrorCode::NoSupport,
        format!("cannot start domain '{}': {what}", def.name),
    )
}

/// Whether block device `path` takes SCSI commands: the SCSI generic
/// driver's `SG_GET_VERSION_NUM` answers on it.
fn answers_sg_io(path: &Path) -> bool {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::OpenOptionsExt;
    const SG_GET_VERSION_NUM: nix::libc::c_ulong = 0x2282;
    let Ok(f) = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NONBLOCK | nix::libc::O_CLOEXEC)
        .open(path)
    else {
        return false;
    };
    let mut version: nix::libc::c_int = 0;
    // SAFETY: the ioctl writes one int through the pointer, which lives
    // across the call.
    #[allow(unsafe_code)]
    let rc = unsafe { nix::libc::ioctl(f.as_raw_fd(), SG_GET_VERSION_NUM as _, &mut version) };
    rc == 0
}

/// libvirt refuses to start a domain whose `<seclabel>` names a security
/// model no driver of the host serves ("Unable to find security driver
/// for model"); qvirt's only driver is DAC.
/// A display listening on a libvirt network's address needs that
/// network, which qvirt has none of (its `default` is QEMU's user
/// networking, with no address on the host).
fn listen_networks(def: &DomainDef) -> Result<()> {
    for g in &def.devices.graphics {
        if let Some(crate::model::GraphicsListen::Network(n)) = g.listens.first() {
            return Err(lacks(
                def,
                format!(
                    "its {} display listens on the address of network '{n}', and this host has no such libvirt network: listen on an address (<listen type='address' address=...>) instead",
                    g.kind.as_str()
                ),
            ));
        }
    }
    Ok(())
}

/// Why interface `net` cannot have its host side set up here: it names
/// a network filter, and qvirt has no network-filter driver, so no
/// filter of that name is defined on this host (libvirt fails the start
/// the same way: "referenced filter '...' is missing").
pub(super) fn missing_filter(net: &crate::model::Interface) -> Option<String> {
    net.filterref.as_ref().map(|f| {
        format!(
            "interface {} references network filter '{}', which is missing: qvirt has no network-filter (nwfilter) driver, so no filter is defined on this host; remove the <filterref> to run it here",
            net.mac, f.filter
        )
    })
}

/// Every interface's network filter must exist on the host.
fn network_filters(def: &DomainDef) -> Result<()> {
    match def.devices.interfaces.iter().find_map(missing_filter) {
        Some(why) => Err(lacks(def, why)),
        None => Ok(()),
    }
}

fn security_drivers(def: &DomainDef) -> Result<()> {
    match def.seclabels.iter().find_map(|s| s.driver_missing()) {
        Some(model) => Err(Error::new(
            ErrorCode::ConfigUnsupported,
            format!(
                "cannot start domain '{}': its <seclabel type='dynamic' model='{model}'> asks for a {model} security driver, and qvirt has none (it runs QEMU under DAC only: the manager's user and group); remove that <seclabel>, or make it type='none'",
                def.name
            ),
        )),
        None => Ok(()),
    }
}

impl Host {
    pub(super) fn path(&self, p: &str) -> PathBuf {
        self.root.join(p.trim_start_matches('/'))
    }

    /// Runs every check; the first resource missing is the error.
    pub fn check(&self, def: &DomainDef) -> Result<()> {
        security_drivers(def)?;
        self.launch_security(def)?;
        listen_networks(def)?;
        network_filters(def)?;
        self.hostdevs(def)?;
        self.input_devices(def)?;
        self.tpm_device(def)?;
        self.smartcard_database(def)?;
        self.shares(def)?;
        self.chardev_logs(def)?;
        self.vhost_vsock(def)?;
        self.scsi_luns(def)?;
        self.phys_bits(def)?;
        self.vhost_user_sockets(def)?;
        self.net_backend_devices(def)?;
        self.vhost_net(def)?;
        self.hugepages(def)?;
        self.memory_devices(def)?;
        self.numa_nodes(def)?;
        self.blkio_devices(def)?;
        self.render_nodes(def)?;
        self.numad(def)
    }

    /// What is at host path `p` (links followed); `None` when nothing is.
    fn file_type(&self, p: &str) -> Option<std::fs::FileType> {
        std::fs::metadata(self.path(p)).ok().map(|m| m.file_type())
    }

    /// The host input devices QEMU reads (`<input type='evdev'>` and
    /// `'passthrough'`) must exist, and be character devices.
    fn input_devices(&self, def: &DomainDef) -> Result<()> {
        for i in &def.devices.inputs {
            let Some(dev) = i.evdev.as_deref() else {
                continue;
            };
            let kind = i.kind.as_str();
            match self.file_type(dev) {
                Some(t) if t.is_char_device() => {}
                Some(_) => {
                    return Err(lacks(
                        def,
                        format!(
                            "{dev} of <input type='{kind}'> is not a device (expected an evdev character device, /dev/input/event*)"
                        ),
                    ));
                }
                None => {
                    return Err(lacks(
                        def,
                        format!(
                            "the host input device {dev} of <input type='{kind}'> is not present on this host"
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// A `<disk device='lun'>` passes SCSI commands to its host device,
    /// which must answer SG_IO (a SCSI disk, or one behind a SCSI layer
    /// such as a SATA or USB disk); QEMU's scsi-block refuses others.
    fn scsi_luns(&self, def: &DomainDef) -> Result<()> {
        for d in &def.devices.disks {
            let Some(src) = d.source.as_deref().filter(|_| d.device == DiskDevice::Lun) else {
                continue;
            };
            let t = &d.target;
            if !self.file_type(src).is_some_and(|f| f.is_block_device()) {
                return Err(lacks(
                    def,
                    format!(
                        "the host block device {src} of lun disk {t} is not present on this host"
                    ),
                ));
            }
            if !answers_sg_io(&self.path(src)) {
                return Err(lacks(
                    def,
                    format!(
                        "{src} of lun disk {t} is not a SCSI device (it does not answer SG_IO); device='lun' passes SCSI commands through: use device='disk' for other block devices"
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Under KVM, `<maxphysaddr mode='emulate' bits>` may not exceed the
    /// host CPU's physical address width (libvirt's rule).
    fn phys_bits(&self, def: &DomainDef) -> Result<()> {
        let Some(bits) = def
            .cpu
            .as_ref()
            .and_then(|c| c.max_phys_addr)
            .filter(|m| m.mode == crate::model::PhysAddrMode::Emulate)
            .and_then(|m| m.bits)
        else {
            return Ok(());
        };
        if def.virt_type != crate::model::VirtType::Kvm {
            return Ok(());
        }
        let cpuinfo = std::fs::read_to_string(self.path("proc/cpuinfo")).unwrap_or_default();
        let host = cpuinfo.lines().find_map(|l| {
            let (key, value) = l.split_once(':')?;
            (key.trim() == "address sizes")
                .then(|| value.trim().split(' ').next()?.parse::<u32>().ok())?
        });
        match host {
            Some(host) if bits > host => Err(Error::new(
                ErrorCode::ConfigUnsupported,
                format!(
                    "cannot start domain '{}': The number of virtual CPU address bits ({bits}) cannot exceed the number supported by the host CPU ({host})",
                    def.name
                ),
            )),
            _ => Ok(()),
        }
    }

    /// A `<vsock>` needs the host's vhost-vsock device.
    fn vhost_vsock(&self, def: &DomainDef) -> Result<()> {
        let dev = crate::sys::vsock::VHOST_VSOCK;
        if def.devices.vsock.is_some() && !self.file_type(dev).is_some_and(|t| t.is_char_device()) {
            return Err(lacks(
                def,
                format!(
                    "its <vsock> needs {dev}, which this host does not have (load the vhost_vsock module)"
                ),
            ));
        }
        Ok(())
    }

    /// The directory of each serial port's and console's `<log file>`
    /// must exist (a dump from a libvirt host names libvirt's log
    /// directory).
    fn chardev_logs(&self, def: &DomainDef) -> Result<()> {
        let d = &def.devices;
        for log in d
            .serials
            .iter()
            .chain(&d.consoles)
            .filter_map(|c| c.log.as_ref())
        {
            let dir = Path::new(&log.file).parent().unwrap_or(Path::new("/"));
            if !self
                .file_type(&dir.to_string_lossy())
                .is_some_and(|t| t.is_dir())
            {
                return Err(lacks(
                    def,
                    format!(
                        "the directory {} of the console log {} is not there",
                        dir.display(),
                        log.file
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The directory a 9p share serves must exist (virtiofsd checks its
    /// own when it starts).
    fn shares(&self, def: &DomainDef) -> Result<()> {
        for f in &def.devices.filesystems {
            if f.driver == crate::model::FsDriver::Path && !self.path(&f.source_dir).is_dir() {
                return Err(Error::new(
                    ErrorCode::Io,
                    format!(
                        "cannot start domain '{}': the <filesystem> source dir {} is not a directory",
                        def.name, f.source_dir
                    ),
                ));
            }
        }
        Ok(())
    }

    /// A passed-through TPM (`<backend type='passthrough'>`) must exist,
    /// as a character device; an external one's socket, as a socket.
    fn tpm_device(&self, def: &DomainDef) -> Result<()> {
        for t in &def.devices.tpms {
            if let crate::model::TpmBackend::External { path } = &t.backend
                && !self.file_type(path).is_some_and(|t| t.is_socket())
            {
                return Err(lacks(
                    def,
                    format!(
                        "the socket {path} of <tpm><backend type='external'> is not a UNIX socket on this host (is its TPM emulator running?)"
                    ),
                ));
            }
            let crate::model::TpmBackend::Passthrough { path } = &t.backend else {
                continue;
            };
            if !self.file_type(path).is_some_and(|t| t.is_char_device()) {
                return Err(lacks(
                    def,
                    format!(
                        "the host TPM {path} of <tpm><backend type='passthrough'> is not a device on this host (is a TPM present, and its driver loaded?)"
                    ),
                ));
            }
        }
        Ok(())
    }

    /// SPICE's OpenGL (`<gl enable='yes'>`) renders on a GPU's render
    /// node: the one named must exist.
    fn render_nodes(&self, def: &DomainDef) -> Result<()> {
        let named = def
            .devices
            .graphics
            .iter()
            .filter_map(|g| g.spice.gl.as_ref())
            .filter(|gl| gl.enable)
            .filter_map(|gl| gl.rendernode.as_deref())
            .chain(
                def.devices
                    .egl_headless
                    .as_ref()
                    .and_then(|e| e.rendernode.as_deref()),
            );
        for node in named {
            if !self.path(node).exists() {
                return Err(lacks(
                    def,
                    format!("the render node {node} of <gl> does not exist on this host"),
                ));
            }
        }
        Ok(())
    }

    /// Gives each SPICE display with OpenGL and no render node the host's
    /// first (`/dev/dri/renderD*`, in name order), as libvirt does when a
    /// domain starts, so that the live definition says which it uses;
    /// refused, naming the need, on a host without one. The directory is
    /// read only when a display needs it.
    pub fn pick_render_nodes(&self, def: &mut DomainDef) -> Result<()> {
        let wants = |def: &DomainDef| {
            def.devices.graphics.iter().any(|g| {
                g.spice
                    .gl
                    .as_ref()
                    .is_some_and(|gl| gl.enable && gl.rendernode.is_none())
            }) || def
                .devices
                .egl_headless
                .as_ref()
                .is_some_and(|e| e.rendernode.is_none())
                || def
                    .devices
                    .dbus_display
                    .as_ref()
                    .and_then(|d| d.gl.as_ref())
                    .is_some_and(|gl| gl.enable && gl.rendernode.is_none())
        };
        if !wants(def) {
            return Ok(());
        }
        let mut nodes: Vec<String> = std::fs::read_dir(self.path("dev/dri"))
            .map(|dir| {
                dir.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| n.starts_with("renderD"))
                    .collect()
            })
            .unwrap_or_default();
        nodes.sort();
        let Some(first) = nodes.first() else {
            return Err(lacks(
                def,
                "<gl enable='yes'> and <graphics type='egl-headless'> need a GPU render node (/dev/dri/renderD*), and this host has none; turn OpenGL off".into(),
            ));
        };
        let node = format!("/dev/dri/{first}");
        for g in def.devices.graphics.iter_mut() {
            if let Some(gl) = g.spice.gl.as_mut().filter(|gl| gl.enable) {
                gl.rendernode.get_or_insert_with(|| node.clone());
            }
        }
        if let Some(e) = def.devices.egl_headless.as_mut() {
            e.rendernode.get_or_insert_with(|| node.clone());
        }
        if let Some(gl) = def
            .devices
            .dbus_display
            .as_mut()
            .and_then(|d| d.gl.as_mut())
            .filter(|gl| gl.enable)
        {
            gl.rendernode.get_or_insert_with(|| node.clone());
        }
        Ok(())
    }

    fn hostdevs(&self, def: &DomainDef) -> Result<()> {
        let passed: Vec<String> = def
            .devices
            .hostdevs
            .iter()
            .filter_map(|h| match &h.source {
                HostdevSource::Pci(a) => Some(host_pci_name(a)),
                _ => None,
            })
            .collect();
        for h in &def.devices.hostdevs {
            match &h.source {
                HostdevSource::Pci(a) => self.pci(def, a, h.managed == Some(true), &passed)?,
                HostdevSource::Mdev(m) => {
                    let dev = format!("sys/bus/mdev/devices/{}", m.uuid);
                    if !self.path(&dev).exists() {
                        return Err(lacks(
                            def,
                            format!(
                                "the mediated device {} does not exist on this host (/{dev}; create it first, e.g. with mdevctl)",
                                m.uuid
                            ),
                        ));
                    }
                }
                HostdevSource::Usb(u) => {
                    if u.optional != Some(true) && self.usb(u).is_none() {
                        return Err(lacks(
                            def,
                            format!(
                                "host USB device {} is not present on this host (see lsusb)",
                                usb_name(u)
                            ),
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// A PCI device passes through only when it exists and sits in an
    /// IOMMU group whose other devices are free for VFIO (or passed
    /// through too); an unmanaged one must already be on vfio-pci.
    fn pci(&self, def: &DomainDef, a: &PciAddress, managed: bool, passed: &[String]) -> Result<()> {
        let name = host_pci_name(a);
        let pci = crate::sys::pci::PciHost {
            root: self.root.clone(),
        };
        let dev = pci.device(&name);
        if !dev.exists() {
            return Err(lacks(
                def,
                format!(
                    "host PCI device {name} does not exist ({} is missing; see lspci -D)",
                    dev.display()
                ),
            ));
        }
        let Some(group) = pci.iommu_group(&name) else {
            return Err(lacks(
                def,
                format!(
                    "host PCI device {name} is in no IOMMU group: turn the IOMMU on (intel_iommu=on or amd_iommu=on) to pass it through"
                ),
            ));
        };
        if let Some((other, driver)) = pci.group_blocker(&name, passed) {
            return Err(lacks(
                def,
                format!(
                    "host PCI device {name} shares IOMMU group {group} with {other}, which {driver} holds: VFIO takes a group whole, so pass {other} through as well or bind it to vfio-pci"
                ),
            ));
        }
        let driver = pci.driver(&name);
        if !managed && driver.as_deref() != Some(crate::sys::pci::VFIO_DRIVER) {
            return Err(lacks(
                def,
                format!(
                    "unmanaged host PCI device {name} is bound to {} rather than vfio-pci: bind it to vfio-pci first, or set managed='yes' for qvirt to do it",
                    driver.as_deref().unwrap_or("no driver")
                ),
            ));
        }
        Ok(())
    }

    /// The sysfs directory of the USB device `u` names, if present.
    pub fn usb(&self, u: &UsbHostSource) -> Option<PathBuf> {
        let dir = self.path("sys/bus/usb/devices");
        let read = |d: &Path, f: &str| {
            std::fs::read_to_string(d.join(f))
                .ok()
                .map(|s| s.trim().to_string())
        };
        let hex = |d: &Path, f: &str| read(d, f).and_then(|s| u16::from_str_radix(&s, 16).ok());
        let dec = |d: &Path, f: &str| read(d, f).and_then(|s| s.parse::<u32>().ok());
        std::fs::read_dir(dir).ok()?.flatten().find_map(|e| {
            let d = e.path();
            let ok = u.vendor.is_none_or(|v| hex(&d, "idVendor") == Some(v))
                && u.product.is_none_or(|p| hex(&d, "idProduct") == Some(p))
                && u.bus_device.is_none_or(|(b, n)| {
                    dec(&d, "busnum") == Some(b) && dec(&d, "devnum") == Some(n)
                })
                && d.join("idVendor").exists();
            ok.then_some(d)
        })
    }

    /// Whether hugetlbfs is mounted at `dir`.
    pub(super) fn hugetlbfs_at(&self, dir: &str) -> bool {
        let mounts = std::fs::read_to_string(self.path("proc/mounts")).unwrap_or_default();
        mounts.lines().any(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            f.len() > 2 && f[1] == dir && f[2] == "hugetlbfs"
        })
    }

    fn hugepages(&self, def: &DomainDef) -> Result<()> {
        // A memfd takes its huge pages from the kernel directly: no
        // hugetlbfs mount is involved.
        let memfd = def
            .memory_backing
            .as_ref()
            .is_some_and(|m| m.source == Some(MemorySourceType::Memfd));
        if memfd {
            return Ok(());
        }
        let cells: Vec<Option<u32>> = match def.cpu.as_ref().filter(|c| !c.numa.is_empty()) {
            Some(c) => c.numa.iter().map(|n| Some(n.id)).collect(),
            None => vec![None],
        };
        for cell in cells {
            let Some(size) = hugepage_size(def, cell) else {
                continue;
            };
            let dir = hugepage_dir(size);
            if !self.hugetlbfs_at(&dir) {
                return Err(lacks(
                    def,
                    format!(
                        "huge pages of {size} KiB need hugetlbfs mounted at {dir} (mount -t hugetlbfs -o pagesize={size}K none {dir}) and pages reserved"
                    ),
                ));
            }
        }
        Ok(())
    }

    fn numa_nodes(&self, def: &DomainDef) -> Result<()> {
        let Some(t) = &def.numatune else {
            return Ok(());
        };
        let sets = t
            .memory
            .iter()
            .filter(|m| m.placement != Some(Placement::Auto))
            .filter_map(|m| m.nodeset.as_deref())
            .chain(t.memnodes.iter().map(|m| m.nodeset.as_str()));
        for set in sets {
            if let Some(node) = self.missing_numa_node(set) {
                return Err(lacks(
                    def,
                    format!(
                        "<numatune> binds memory to host NUMA node {node}, which this host does not have (see /sys/devices/system/node)"
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The first node of the node set `set` this host does not have.
    pub(super) fn missing_numa_node(&self, set: &str) -> Option<u32> {
        parse_cpuset(set)
            .unwrap_or_default()
            .into_iter()
            .find(|node| {
                !self
                    .path(&format!("sys/devices/system/node/node{node}"))
                    .exists()
            })
    }

    /// The host block devices `<blkiotune>` limits must exist, and be
    /// block devices.
    fn blkio_devices(&self, def: &DomainDef) -> Result<()> {
        let Some(b) = &def.blkiotune else {
            return Ok(());
        };
        for d in &b.devices {
            match self.file_type(&d.path) {
                Some(t) if t.is_block_device() => {}
                Some(_) => {
                    return Err(lacks(
                        def,
                        format!("the <blkiotune> device {} is not a block device", d.path),
                    ));
                }
                None => {
                    return Err(lacks(
                        def,
                        format!(
                            "the <blkiotune> device {} does not exist on this host",
                            d.path
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    fn numad(&self, def: &DomainDef) -> Result<()> {
        let auto = def.vcpu.placement == Some(Placement::Auto)
            || def
                .numatune
                .as_ref()
                .and_then(|t| t.memory.as_ref())
                .is_some_and(|m| m.placement == Some(Placement::Auto));
        if !auto {
            return Ok(());
        }
        // Asking numad is not built: refused rather than ignored.
        Err(Error::new(
            ErrorCode::ConfigUnsupported,
            format!(
                "cannot start domain '{}': placement='auto' (advice from numad) is not supported; use placement='static' with a cpuset or nodeset",
                def.name
            ),
        ))
    }
}

fn usb_name(u: &UsbHostSource) -> String {
    let mut parts = Vec::new();
    if let (Some(v), Some(p)) = (u.vendor, u.product) {
        parts.push(format!("{v:04x}:{p:04x}"));
    }
    if let Some((b, d)) = u.bus_device {
        parts.push(format!("bus {b} device {d}"));
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(devices: &str, extra: &str) -> DomainDef {
        DomainDef::from_xml(&format!(
            "<domain type='qemu'><name>h</name><memory unit='MiB'>64</memory>{extra}
             <os><type arch='x86_64' machine='pc'>hvm</type></os>
             <devices>{devices}</devices></domain>"
        ))
        .unwrap()
    }

    fn scratch(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("qvirt-hostcheck-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    const PCI: &str = "<hostdev mode='subsystem' type='pci' managed='yes'><source><address domain='0x0000' bus='0x06' slot='0x12' function='0x5'/></source></hostdev>";

    #[test]
    fn opengl_gets_the_first_render_node() {
        let root = scratch("gl");
        let host = Host { root: root.clone() };
        let spice = |gl: &str| {
            def(
                &format!("<graphics type='spice'><listen type='none'/>{gl}</graphics>"),
                "",
            )
        };
        let node_of = |d: &DomainDef| {
            d.devices.graphics[0]
                .spice
                .gl
                .as_ref()
                .and_then(|gl| gl.rendernode.clone())
        };
        // No render node on the host: refused, naming the need.
        let e = host
            .pick_render_nodes(&mut spice("<gl enable='yes'/>"))
            .unwrap_err();
        assert!(e.message.contains("render node"), "{}", e.message);
        // OpenGL off: nothing is looked for, nothing is set.
        let mut off = spice("<gl enable='no'/>");
        host.pick_render_nodes(&mut off).unwrap();
        assert_eq!(node_of(&off), None);
        // The first in name order goes into the definition.
        std::fs::create_dir_all(root.join("dev/dri")).unwrap();
        for n in ["renderD129", "card0", "renderD128"] {
            std::fs::write(root.join("dev/dri").join(n), "").unwrap();
        }
        let mut on = spice("<gl enable='yes'/>");
        host.pick_render_nodes(&mut on).unwrap();
        assert_eq!(node_of(&on).as_deref(), Some("/dev/dri/renderD128"));
        // One named is kept, and must exist.
        let mut named = spice("<gl enable='yes' rendernode='/dev/dri/renderD129'/>");
        host.check(&named).unwrap();
        host.pick_render_nodes(&mut named).unwrap();
        assert_eq!(node_of(&named).as_deref(), Some("/dev/dri/renderD129"));
        let e = host
            .check(&spice(
                "<gl enable='yes' rendernode='/dev/dri/renderD130'/>",
            ))
            .unwrap_err();
        assert!(e.message.contains("renderD130"), "{}", e.message);
        // egl-headless takes the first too, or keeps and checks its own.
        let egl = |gl: &str| {
            def(
                &format!("<graphics type='vnc'/><graphics type='egl-headless'>{gl}</graphics>"),
                "",
            )
        };
        let egl_node = |d: &DomainDef| d.devices.egl_headless.as_ref().unwrap().rendernode.clone();
        let mut picked = egl("");
        host.pick_render_nodes(&mut picked).unwrap();
        assert_eq!(egl_node(&picked).as_deref(), Some("/dev/dri/renderD128"));
        let e = host
            .check(&egl("<gl rendernode='/dev/dri/renderD131'/>"))
            .unwrap_err();
        assert!(e.message.contains("renderD131"), "{}", e.message);
        let _ = std::fs::remove_dir_all(root);
    }

    #[test]
    fn evdev_inputs_need_a_character_device() {
        let root = scratch("evdev");
        std::fs::create_dir_all(root.join("dev/input")).unwrap();
        let host = Host { root: root.clone() };
        let evdev = "<input type='evdev'><source dev='/dev/input/event3'/></input>";
        let e = host.check(&def(evdev, "")).unwrap_err();
        assert_eq!(e.code, ErrorCode::NoSupport);
        assert!(e.message.contains("/dev/input/event3"), "{}", e.message);
        std::fs::write(root.join("dev/input/event3"), "").unwrap();
        let e = host.check(&def(evdev, "")).unwrap_err();
        assert!(e.message.contains("not a device"), "{}", e.message);
        std::fs::remove_file(root.join("dev/input/event3")).unwrap();
        std::os::unix::fs::symlink("/dev/null", root.join("dev/input/event3")).unwrap();
        host.check(&def(evdev, "")).unwrap();
        let _ = std::fs::remove_dir_all(root);
    }

    #[test]
    fn vhost_net_needs_its_device_on_tap_interfaces_only() {
        let root = scratch("vhost");
        let host = Host { root: root.clone() };
        let bridge = "<interface type='bridge'><source bridge='br0'/><model type='virtio'/><driver name='vhost'/></interface>";
        let e = host.check(&def(bridge, "")).unwrap_err();
        assert!(e.message.contains("/dev/vhost-net"), "{}", e.message);
        // User networking has no kernel data path: nothing to look for.
        let user =
            "<interface type='user'><model type='virtio'/><driver name='vhost'/></interface>";
        host.check(&def(user, "")).unwrap();
        std::fs::create_dir_all(root.join("dev")).unwrap();
        std::fs::write(root.join("dev/vhost-net"), "").unwrap();
        host.check(&def(bridge, "")).unwrap();
        let _ = std::fs::remove_dir_all(root);
    }

    #[test]
    fn a_mediated_device_must_exist() {
        let root = scratch("mdev");
        let host = Host { root: root.clone() };
        let uuid = "1c1f3da7-b3c2-48f5-b948-9635f6797cad";
        let mdev = format!(
            "<hostdev mode='subsystem' type='mdev' model='vfio-pci'><source><address uuid='{uuid}'/></source></hostdev>"
        );
        let e = host.check(&def(&mdev, "")).unwrap_err();
        assert_eq!(e.code, ErrorCode::NoSupport);
        assert!(
            e.message.contains(uuid) && e.message.contains("mdevctl"),
            "{}",
            e.message
        );
        std::fs::create_dir_all(root.join("sys/bus/mdev/devices").join(uuid)).unwrap();
        host.check(&def(&mdev, "")).unwrap();
        let _ = std::fs::remove_dir_all(root);
    }

    #[test]
    fn a_passed_through_tpm_must_be_a_device() {
        let root = scratch("tpm");
        std::fs::create_dir_all(root.join("dev")).unwrap();
        let host = Host { root: root.clone() };
        let tpm = "<tpm model='tpm-crb'><backend type='passthrough'><device path='/dev/tpm0'/></backend></tpm>";
        let e = host.check(&def(tpm, "")).unwrap_err();
        assert!(e.message.contains("/dev/tpm0"), "{}", e.message);
        std::os::unix::fs::symlink("/dev/null", root.join("dev/tpm0")).unwrap();
        host.check(&def(tpm, "")).unwrap();
        let _ = std::fs::remove_dir_all(root);
    }

    #[test]
    fn a_missing_pci_device_is_named() {
        let host = Host {
            root: scratch("pci-missing"),
        };
        let e = host.check(&def(PCI, "")).unwrap_err();
        assert_eq!(e.code, ErrorCode::NoSupport);
        assert!(e.message.contains("0000:06:12.5"), "{}", e.message);
        assert!(e.message.contains("does not exist"), "{}", e.message);
        let _ = std::fs::remove_dir_all(&host.root);
    }

    #[test]
    fn a_pci_device_needs_an_iommu_group_free_for_vfio() {
        use std::os::unix::fs::symlink;
        let root = scratch("pci-present");
        let dev = root.join("sys/bus/pci/devices/0000:06:12.5");
        std::fs::create_dir_all(&dev).unwrap();
        let host = Host { root: root.clone() };
        let e = host.check(&def(PCI, "")).unwrap_err();
        assert!(e.message.contains("IOMMU"), "{}", e.message);
        let group = root.join("sys/kernel/iommu_groups/7");
        std::fs::create_dir_all(group.join("devices")).unwrap();
        symlink(&group, dev.join("iommu_group")).unwrap();
        symlink(&dev, group.join("devices/0000:06:12.5")).unwrap();
        let drivers = root.join("sys/bus/pci/drivers");
        std::fs::create_dir_all(drivers.join("e1000e")).unwrap();
        symlink(drivers.join("e1000e"), dev.join("driver")).unwrap();
        // Managed: the start moves it to vfio-pci.
        host.check(&def(PCI, "")).unwrap();
        // Unmanaged: it must be there already.
        let unmanaged = PCI.replace("managed='yes'", "managed='no'");
        let e = host.check(&def(&unmanaged, "")).unwrap_err();
        assert!(
            e.message
                .contains("unmanaged host PCI device 0000:06:12.5 is bound to e1000e"),
            "{}",
            e.message
        );
        std::fs::remove_file(dev.join("driver")).unwrap();
        std::fs::create_dir_all(drivers.join("vfio-pci")).unwrap();
        symlink(drivers.join("vfio-pci"), dev.join("driver")).unwrap();
        host.check(&def(&unmanaged, "")).unwrap();
        // Another device of its group on a host driver: the group is not
        // whole for VFIO, and that device is named.
        let other = root.join("sys/bus/pci/devices/0000:06:12.6");
        std::fs::create_dir_all(&other).unwrap();
        std::fs::create_dir_all(drivers.join("snd_hda_intel")).unwrap();
        symlink(drivers.join("snd_hda_intel"), other.join("driver")).unwrap();
        symlink(&other, group.join("devices/0000:06:12.6")).unwrap();
        let e = host.check(&def(PCI, "")).unwrap_err();
        assert!(
            e.message
                .contains("shares IOMMU group 7 with 0000:06:12.6, which snd_hda_intel holds"),
            "{}",
            e.message
        );
        let _ = std::fs::remove_dir_all(root);
    }

    #[test]
    fn usb_devices_are_found_by_ids_or_address() {
        let root = scratch("usb");
        let dev = root.join("sys/bus/usb/devices/1-1");
        std::fs::create_dir_all(&dev).unwrap();
        for (f, v) in [
            ("idVendor", "0781\n"),
            ("idProduct", "5567\n"),
            ("busnum", "1\n"),
            ("devnum", "4\n"),
        ] {
            std::fs::write(dev.join(f), v).unwrap();
        }
        let host = Host { root: root.clone() };
        let by_id = "<hostdev mode='subsystem' type='usb'><source><vendor id='0x0781'/><product id='0x5567'/></source></hostdev>";
        let by_addr = "<hostdev mode='subsystem' type='usb'><source><address bus='1' device='4'/></source></hostdev>";
        let other = "<hostdev mode='subsystem' type='usb'><source><vendor id='0x0781'/><product id='0x0001'/></source></hostdev>";
        let optional = "<hostdev mode='subsystem' type='usb'><source startupPolicy='optional'><vendor id='0x0781'/><product id='0x0001'/></source></hostdev>";
        host.check(&def(by_id, "")).unwrap();
        host.check(&def(by_addr, "")).unwrap();
        host.check(&def(optional, "")).unwrap();
        let e = host.check(&def(other, "")).unwrap_err();
        assert!(e.message.contains("0781:0001"), "{}", e.message);
        let _ = std::fs::remove_dir_all(root);
    }

    #[test]
    fn huge_pages_need_their_mount_and_nodes_must_exist() {
        let root = scratch("mem");
        std::fs::create_dir_all(root.join("proc")).unwrap();
        std::fs::write(
            root.join("proc/mounts"),
            "none /dev/hugepages hugetlbfs rw 0 0\n",
        )
        .unwrap();
        std::fs::create_dir_all(root.join("sys/devices/system/node/node0")).unwrap();
        let host = Host { root: root.clone() };
        let pages = |size: &str| {
            format!(
                "<memoryBacking><hugepages><page size='{size}' unit='KiB'/></hugepages></memoryBacking>"
            )
        };
        host.check(&def("", &pages("2048"))).unwrap();
        let e = host.check(&def("", &pages("1048576"))).unwrap_err();
        assert!(e.message.contains("/dev/hugepages1G"), "{}", e.message);
        // A memfd takes huge pages without a mount.
        let memfd = "<memoryBacking><hugepages><page size='1048576' unit='KiB'/></hugepages><source type='memfd'/></memoryBacking>";
        host.check(&def("", memfd)).unwrap();
        let bind =
            |set: &str| format!("<numatune><memory mode='strict' nodeset='{set}'/></numatune>");
        host.check(&def("", &bind("0"))).unwrap();
        let e = host.check(&def("", &bind("0-1"))).unwrap_err();
        assert!(e.message.contains("node 1"), "{}", e.message);
        let _ = std::fs::remove_dir_all(root);
    }

    #[test]
    fn automatic_placement_is_refused() {
        let d = DomainDef::from_xml(
            "<domain type='qemu'><name>h</name><memory unit='MiB'>64</memory>
             <vcpu placement='auto'>1</vcpu>
             <os><type arch='x86_64' machine='pc'>hvm</type></os></domain>",
        )
        .unwrap();
        let e = Host::default().check(&d).unwrap_err();
        assert!(e.message.contains("numad"), "{}", e.message);
    }
}
