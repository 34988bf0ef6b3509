//! Devices that reach into the host: PCI (`vfio-pci`) and USB
//! (`usb-host`) passthrough, virtio-fs shares (a vhost-user socket a
//! virtiofsd serves) and shared memory (`ivshmem-plain`), as libvirt 9.0
//! builds them.
//!
//! The host side is the driver's: binding a PCI device to `vfio-pci`,
//! finding a USB device by vendor and product, starting each share's
//! virtiofsd on [`virtiofs_socket`] before QEMU.

use std::path::{Path, PathBuf};

use super::devs::Dev;
use super::opts::{Opts, user};
use super::usb::UsbDev;
use super::{Ctx, invalid};
use crate::error::Error;
use crate::model::{
    DomainDef, FsAccessMode, FsDriver, FsModel, HostdevRom, HostdevSource, MemoryAccess,
    PciAddress, ShmemRole,
};

/// `DDDD:BB:SS.F`, as sysfs and QEMU's `host=` spell a host PCI address.
pub fn host_pci_name(a: &PciAddress) -> String {
    format!(
        "{:04x}:{:02x}:{:02x}.{:x}",
        a.domain, a.bus, a.slot, a.function
    )
}

/// The vhost-user socket of `<filesystem>` number `index`, in the
/// domain's runtime directory: virtiofsd listens there, QEMU connects.
pub fn virtiofs_socket(run_dir: &Path, index: usize) -> PathBuf {
    run_dir.join(format!("fs{index}-fs.sock"))
}

/// Whether the guest's memory can be shared with another process (a
/// vhost-user backend): `<memoryBacking><access mode='shared'>`, or every
/// NUMA cell `memAccess='shared'`.
pub fn shared_memory(def: &DomainDef) -> bool {
    let cells = def.cpu.as_ref().map(|c| c.numa.as_slice()).unwrap_or(&[]);
    let all = def
        .memory_backing
        .as_ref()
        .and_then(|m| m.access)
        .map(|a| a == MemoryAccess::Shared);
    if cells.is_empty() {
        return all == Some(true);
    }
    cells
        .iter()
        .all(|c| c.mem_access.map(|a| a == MemoryAccess::Shared).or(all) == Some(true))
}

/// `-device vfio-pci` and `-device usb-host` for each `<hostdev>`.
pub fn emit_hostdevs(cx: &mut Ctx<'_>) -> Result<(), Error> {
    let def = cx.def;
    for (i, h) in def.devices.hostdevs.iter().enumerate() {
        let id = format!("hostdev{i}");
        let boot = cx.boot.hostdev(i);
        let o = match &h.source {
            HostdevSource::Pci(host) => {
                let name = host_pci_name(host);
                let what = format!("host PCI device {name}");
                let placed = cx.pci.place(&what, h.address.as_ref(), Dev::Hostdev(i))?;
                let mut o = Opts::new("vfio-pci")
                    .set("host", &name)
                    .set("id", &id)
                    .extend(placed.opts)
                    .maybe("bootindex", boot);
                if let Some(rom) = &h.rom {
                    o = o.extend(rom_opts(&what, rom)?);
                }
                o
            }
            HostdevSource::Mdev(m) => {
                let what = format!("mediated device {}", m.uuid);
                let placed = cx.pci.place(&what, h.address.as_ref(), Dev::Hostdev(i))?;
                if m.display == Some(true)
                    && def.devices.graphics.is_empty()
                    && def.devices.dbus_display.is_none()
                {
                    return Err(invalid(format!(
                        "the {what} has display='on' but the domain has no <graphics> to show it"
                    )));
                }
                Opts::new("vfio-pci")
                    .set("id", &id)
                    .set("sysfsdev", format!("/sys/bus/mdev/devices/{}", m.uuid))
                    .maybe_switch("display", m.display)
                    .maybe_switch("ramfb", m.ramfb)
                    .extend(placed.opts)
                    .maybe("bootindex", boot)
            }
            HostdevSource::Usb(u) => {
                let port = cx.usb.port_of(UsbDev::Host(i))?;
                let mut o = Opts::new("usb-host");
                match (u.bus_device, u.vendor, u.product) {
                    (Some((bus, dev)), _, _) => {
                        o = o.set("hostbus", bus).set("hostaddr", dev);
                    }
                    (None, Some(v), Some(p)) => {
                        o = o
                            .set("vendorid", format!("0x{v:04x}"))
                            .set("productid", format!("0x{p:04x}"));
                    }
                    _ => {
                        return Err(invalid(
                            "a USB <hostdev> needs a vendor and product, or a bus and device",
                        ));
                    }
                }
                o.set("id", &id).extend(port).maybe("bootindex", boot)
            }
        };
        cx.arg("-device", o.build());
    }
    Ok(())
}

/// A vhost-user socket chardev and `vhost-user-fs-pci` for each
/// `<filesystem>`; the guest's memory must be shared with virtiofsd.
pub fn emit_filesystems(cx: &mut Ctx<'_>) -> Result<(), Error> {
    let def = cx.def;
    if def.devices.filesystems.is_empty() {
        return Ok(());
    }
    let virtiofs = def
        .devices
        .filesystems
        .iter()
        .any(|f| f.driver == FsDriver::Virtiofs);
    if virtiofs && !shared_memory(def) {
        return Err(super::unsupported(
            "virtiofs requires shared memory: add <memoryBacking><source type='memfd'/><access mode='shared'/></memoryBacking>",
        ));
    }
    for (i, f) in def.devices.filesystems.iter().enumerate() {
        let what = format!("filesystem '{}'", f.target_dir);
        if f.driver == FsDriver::Path {
            emit_9p(cx, i, f, &what)?;
            continue;
        }
        if f.readonly {
            return Err(super::unsupported(format!(
                "the {what}: virtiofs does not support read-only shares (libvirt's rule)"
            )));
        }

        let socket = virtiofs_socket(&cx.paths.runtime_dir, i);
        let socket = super::runtime_path("virtiofs socket", &socket)?;
        let chardev = format!("chr-vu-{}", super::hotplug::fs_id(i));
        cx.arg(
            "-chardev",
            Opts::new("socket")
                .set("id", &chardev)
                .set("path", socket)
                .build(),
        );
        let placed = cx.pci.place(&what, f.address.as_ref(), Dev::Fs(i))?;
        let boot = cx.boot.filesystem(i);
        let o = Opts::new("vhost-user-fs-pci")
            .set("id", super::hotplug::fs_id(i))
            .set("chardev", chardev)
            .maybe("queue-size", f.queue)
            .set_user("tag", "filesystem target dir", &f.target_dir)?
            .extend(placed.opts)
            .maybe("bootindex", boot);
        let o = super::opts::with_virtio(o, &f.virtio, true, &what)?;
        cx.arg("-device", o.build());
    }
    Ok(())
}

/// Each `<shmem>`, as libvirt 9.0 builds it: ivshmem-plain on a shared
/// file in `/dev/shm`, or ivshmem-doorbell on a socket to the ivshmem
/// server, which hands QEMU the memory and the peers' event descriptors.
/// A `<shmem>` without a model is the plain one without a server and the
/// doorbell with one (QEMU 7.2 has no legacy `ivshmem` device).
pub fn emit_shmems(cx: &mut Ctx<'_>) -> Result<(), Error> {
    let def = cx.def;
    for (i, s) in def.devices.shmems.iter().enumerate() {
        // The model checked it is a file name (libvirt's rule).
        let name = user("shmem name", &s.name)?;
        let id = super::hotplug::shmem_id(i);
        let master = s.role.map(|r| r == ShmemRole::Master);
        let o = match s.server_path() {
            None => {
                let kib = s.size_kib.unwrap_or(4096);
                if !kib.is_power_of_two() || kib < 1024 {
                    return Err(invalid(format!(
                        "shmem '{name}': the size must be a power of two of at least 1 MiB"
                    )));
                }
                let mem = format!("shmmem-{id}");
                let o = Opts::new("memory-backend-file")
                    .set("id", &mem)
                    .set("mem-path", format!("/dev/shm/{name}"))
                    .set("size", kib * 1024)
                    .switch("share", true);
                cx.arg("-object", o.build());
                Opts::new("ivshmem-plain")
                    .set("id", &id)
                    .set("memdev", mem)
                    .maybe_switch("master", master)
            }
            Some(path) => {
                let chardev = format!("char{id}");
                let path = user("shmem server path", &path)?;
                let c = Opts::new("socket").set("id", &chardev).set("path", path);
                cx.arg("-chardev", c.build());
                let msi = s.msi.unwrap_or_default();
                Opts::new("ivshmem-doorbell")
                    .set("id", &id)
                    .set("chardev", chardev)
                    .maybe_switch("master", master)
                    .maybe("vectors", msi.vectors)
                    .switch("ioeventfd", msi.ioeventfd.unwrap_or(true))
            }
        };
        let what = format!("shmem '{name}'");
        let placed = cx.pci.place(&what, s.address.as_ref(), Dev::Shmem(i))?;
        cx.arg("-device", o.extend(placed.opts).build());
    }
    Ok(())
}

/// A 9p share: QEMU's `local` file system driver on the source directory
/// (`security_model` from the access mode, as libvirt maps it) and a
/// `virtio-9p-pci` device with the target as its mount tag.
fn emit_9p(
    cx: &mut Ctx<'_>,
    i: usize,
    f: &crate::model::Filesystem,
    what: &str,
) -> Result<(), Error> {
    let model = match f.accessmode.unwrap_or(FsAccessMode::Passthrough) {
        FsAccessMode::Passthrough => "passthrough",
        FsAccessMode::Mapped => "mapped",
        FsAccessMode::Squash => "none",
    };
    let fsdev = format!("fsdev-fs{i}");
    let o = Opts::new("local")
        .set("id", &fsdev)
        .set_user("path", "filesystem source dir", &f.source_dir)?
        .set("security_model", model)
        .maybe("multidevs", f.multidevs.map(|m| m.as_str()))
        .maybe("fmode", f.fmode.map(|m| format!("{m:04o}")))
        .maybe("dmode", f.dmode.map(|m| format!("{m:04o}")));
    let o = if f.readonly {
        o.switch("readonly", true)
    } else {
        o
    };
    cx.arg("-fsdev", o.build());
    let placed = cx.pci.place(what, f.address.as_ref(), Dev::Fs(i))?;
    let boot = cx.boot.filesystem(i);
    let device = match f.model {
        None | Some(FsModel::Virtio) => "virtio-9p-pci",
        Some(FsModel::VirtioTransitional) => "virtio-9p-pci-transitional",
        Some(FsModel::VirtioNonTransitional) => "virtio-9p-pci-non-transitional",
    };
    let o = Opts::new(device)
        .set("id", format!("fs{i}"))
        .set("fsdev", fsdev)
        .set_user("mount_tag", "filesystem target dir", &f.target_dir)?
        .extend(placed.opts)
        .maybe("bootindex", boot);
    let o = super::opts::with_virtio(o, &f.virtio, true, what)?;
    cx.arg("-device", o.build());
    Ok(())
}

/// The `rombar`/`romfile` options of a PCI device's `<rom>`.
pub(super) fn rom_opts(what: &str, rom: &HostdevRom) -> Result<Opts, Error> {
    let mut o = Opts::empty();
    if rom.enabled == Some(false) {
        if rom.bar.is_some() || rom.file.is_some() {
            return Err(invalid(format!(
                "the ROM of {what} is disabled (enabled='no'): it takes no bar or file"
            )));
        }
        return Ok(o.set("romfile", ""));
    }
    if let Some(bar) = rom.bar {
        o = o.set("rombar", u8::from(bar));
    }
    match rom.file.as_deref() {
        // The old spelling of enabled='no', which libvirt still takes.
        Some("") => o = o.set("romfile", ""),
        Some(f) => o = o.set_user("romfile", "ROM file", f)?,
        None => {}
    }
    Ok(o)
}
