//! Reading the devices that reach into the host: `<hostdev>`,
//! `<filesystem>`, `<shmem>` and `<memory>` devices.

use super::devices::{address, alias_unused, boot_order};
use super::el::{El, R, Radix, invalid, set};
use crate::model::units::size_to_kib;
use crate::model::{
    Filesystem, FsBinary, FsDriver, Hostdev, HostdevSource, MdevSource, MemoryDevice, MemoryModel,
    ModelErrorKind, PciAddress, Shmem, ShmemMsi, UsbHostSource,
};

/// A size element (`<size unit=>N</size>`), in KiB.
fn size(e: El) -> R<u64> {
    e.allow(&["unit"])?;
    let t = e.text()?;
    size_to_kib(&t, e.get("unit"))
        .map_err(|_| e.bad_text(ModelErrorKind::Invalid, &t, "expected a size"))
}

pub(super) fn hostdev(e: El) -> R<Hostdev> {
    e.allow(&["mode", "type", "managed", "model", "display", "ramfb"])?;
    let mode = e.get("mode").unwrap_or("subsystem");
    if mode != "subsystem" {
        return Err(e.bad_value(
            ModelErrorKind::Unsupported,
            "mode",
            "only mode='subsystem' (PCI and USB passthrough) is supported",
        ));
    }
    e.req("type")?;
    let kind = e
        .choice("type", &[("pci", 0), ("usb", 1), ("mdev", 2)])?
        .unwrap_or(0);
    let pci = kind == 0;
    if kind == 2 {
        e.req("model")?;
        e.choice("model", &[("vfio-pci", ())])?;
    } else {
        for attr in ["model", "display", "ramfb"] {
            if e.get(attr).is_some() {
                return Err(e.bad_value(
                    ModelErrorKind::Invalid,
                    attr,
                    "only a mediated device (type='mdev') takes it",
                ));
            }
        }
    }
    let managed = e.yes_no("managed")?;
    let (mut source, mut driver, mut rom) = (None, None, None);
    let (mut boot, mut address_v) = (None, None);
    for c in e.children()? {
        match c.name() {
            "source" => set(&mut source, c, |c| match kind {
                0 => pci_source(c).map(HostdevSource::Pci),
                1 => usb_source(c).map(HostdevSource::Usb),
                _ => mdev_source(c, e).map(HostdevSource::Mdev),
            })?,
            "driver" if pci => set(&mut driver, c, |c| {
                c.allow(&["name"])?;
                c.empty()?;
                c.choice("name", &[("vfio", ())])?;
                Ok(true)
            })?,
            "rom" if pci => set(&mut rom, c, super::net::rom)?,
            "boot" => set(&mut boot, c, boot_order)?,
            "address" => set(&mut address_v, c, address)?,
            "alias" => alias_unused(c)?,
            _ => c.skip()?,
        }
    }
    let source =
        source.ok_or_else(|| invalid(format!("missing <source> in <hostdev> at {}", e.at())))?;
    Ok(Hostdev {
        managed,
        source,
        driver_vfio: driver.unwrap_or(false),
        rom,
        boot_order: boot,
        address: address_v,
    })
}

fn pci_source(e: El) -> R<PciAddress> {
    e.allow(&[])?;
    let mut addr = None;
    for c in e.children()? {
        match c.name() {
            "address" => set(&mut addr, c, |c| {
                c.allow(&["domain", "bus", "slot", "function"])?;
                c.empty()?;
                let n = |name: &str| -> R<u32> {
                    c.req(name)?;
                    Ok(c.u32(name, Radix::Auto)?.unwrap_or(0))
                };
                Ok(PciAddress {
                    domain: c.u32("domain", Radix::Auto)?.unwrap_or(0),
                    bus: n("bus")?,
                    slot: n("slot")?,
                    function: n("function")?,
                    multifunction: None,
                })
            })?,
            _ => c.skip()?,
        }
    }
    addr.ok_or_else(|| {
        invalid(format!(
            "missing <address> in the <source> of a PCI <hostdev> at {}",
            e.at()
        ))
    })
}

/// `<source><address uuid=...>` of a mediated device; `host` is the
/// `<hostdev>` with its display switches.
fn mdev_source(e: El, host: El) -> R<MdevSource> {
    e.allow(&[])?;
    let mut uuid_v = None;
    for c in e.children()? {
        match c.name() {
            "address" => set(&mut uuid_v, c, |c| {
                c.allow(&["uuid"])?;
                c.empty()?;
                let text = c.req("uuid")?;
                uuid::Uuid::parse_str(text)
                    .map_err(|_| c.bad_value(ModelErrorKind::Invalid, "uuid", "expected a UUID"))
            })?,
            _ => c.skip()?,
        }
    }
    let uuid = uuid_v.ok_or_else(|| {
        invalid(format!(
            "missing <address uuid=...> in the <source> of a mediated <hostdev> at {}",
            e.at()
        ))
    })?;
    Ok(MdevSource {
        uuid,
        display: host.on_off("display")?,
        ramfb: host.on_off("ramfb")?,
    })
}

fn usb_source(e: El) -> R<UsbHostSource> {
    e.allow(&["startupPolicy"])?;
    let mut s = UsbHostSource {
        optional: e
            .choice(
                "startupPolicy",
                &[
                    ("mandatory", false),
                    ("requisite", false),
                    ("optional", true),
                ],
            )?
            .filter(|o| *o),
        ..UsbHostSource::default()
    };
    let id = |c: El| -> R<u16> {
        c.allow(&["id"])?;
        c.empty()?;
        c.req("id")?;
        c.u32("id", Radix::Auto)?
            .and_then(|v| u16::try_from(v).ok())
            .ok_or_else(|| c.bad_value(ModelErrorKind::Invalid, "id", "expected a 16-bit id"))
    };
    for c in e.children()? {
        match c.name() {
            "vendor" => set(&mut s.vendor, c, id)?,
            "product" => set(&mut s.product, c, id)?,
            "address" => set(&mut s.bus_device, c, |c| {
                c.allow(&["bus", "device"])?;
                c.empty()?;
                c.req("bus")?;
                c.req("device")?;
                Ok((
                    c.u32("bus", Radix::Auto)?.unwrap_or(0),
                    c.u32("device", Radix::Auto)?.unwrap_or(0),
                ))
            })?,
            _ => c.skip()?,
        }
    }
    if s.vendor.is_none() && s.bus_device.is_none() {
        return Err(invalid(format!(
            "a USB <hostdev> needs a <vendor> and <product>, or an <address bus= device=>, in its <source> at {}",
            e.at()
        )));
    }
    if s.vendor.is_some() != s.product.is_some() {
        return Err(invalid(format!(
            "a USB <hostdev> <source> at {} needs both <vendor> and <product>",
            e.at()
        )));
    }
    Ok(s)
}

pub(super) fn filesystem(e: El) -> R<Filesystem> {
    e.allow(&["type", "accessmode", "fmode", "dmode", "multidevs", "model"])?;
    if let Some(t) = e.get("type")
        && t != "mount"
    {
        return Err(e.bad_value(
            ModelErrorKind::Unsupported,
            "type",
            "only type='mount' (a host directory) is supported",
        ));
    }
    let accessmode = e.word("accessmode")?;
    // Octal modes up to 0777; 0 (and 'default') are libvirt's unset.
    let mode = |name: &str| -> R<Option<u32>> {
        match e.u32(name, Radix::Oct)? {
            Some(m) if m > 0o777 => Err(e.bad_value(
                ModelErrorKind::Invalid,
                name,
                "a mode is octal, at most 0777",
            )),
            m => Ok(m.filter(|m| *m != 0)),
        }
    };
    let (fmode, dmode) = (mode("fmode")?, mode("dmode")?);
    let multidevs = match e.get("multidevs") {
        Some("default") => None,
        _ => e.word("multidevs")?,
    };
    // 'default' is libvirt's word for not written.
    let model = match e.get("model") {
        Some("default") => None,
        _ => e.word("model")?,
    };
    let (mut driver, mut binary, mut source, mut target) = (None, None, None, None);
    let (mut readonly, mut boot, mut address_v) = (None, None, None);
    for c in e.children()? {
        match c.name() {
            "driver" => set(&mut driver, c, |c| {
                let virtio = super::devices::virtio_options(c, &["type", "queue"])?;
                let d: FsDriver = c.word("type")?.unwrap_or(FsDriver::Path);
                Ok((d, c.u32("queue", Radix::Dec)?, virtio))
            })?,
            "binary" => set(&mut binary, c, fs_binary)?,
            "source" => set(&mut source, c, |c| {
                c.allow(&["dir"])?;
                c.empty()?;
                Ok(c.req("dir")?.to_string())
            })?,
            "target" => set(&mut target, c, |c| {
                c.allow(&["dir"])?;
                c.empty()?;
                Ok(c.req("dir")?.to_string())
            })?,
            "readonly" => set(&mut readonly, c, |c| {
                c.allow(&[])?;
                c.empty()?;
                Ok(true)
            })?,
            "boot" => set(&mut boot, c, boot_order)?,
            "address" => set(&mut address_v, c, address)?,
            "alias" => alias_unused(c)?,
            _ => c.skip()?,
        }
    }
    // No driver is libvirt's 9p on QEMU's local file system driver.
    let (driver, queue, virtio) = driver.unwrap_or((FsDriver::Path, None, Default::default()));
    let missing = |what: &str| invalid(format!("missing <{what}> in <filesystem> at {}", e.at()));
    Ok(Filesystem {
        accessmode,
        driver,
        queue,
        virtio,
        binary: binary.unwrap_or_default(),
        source_dir: source.ok_or_else(|| missing("source dir"))?,
        target_dir: target.ok_or_else(|| missing("target dir"))?,
        readonly: readonly.unwrap_or(false),
        fmode,
        dmode,
        multidevs,
        model,
        boot_order: boot,
        address: address_v,
        alias: None,
    })
}

fn fs_binary(e: El) -> R<FsBinary> {
    e.allow(&["path", "xattr"])?;
    let mut b = FsBinary {
        path: e.get("path").map(str::to_string),
        xattr: e.on_off("xattr")?,
        ..FsBinary::default()
    };
    let mut lock = None;
    for c in e.children()? {
        match c.name() {
            "cache" => set(&mut b.cache, c, |c| {
                c.allow(&["mode"])?;
                c.empty()?;
                c.req_word("mode")
            })?,
            "sandbox" => set(&mut b.sandbox, c, |c| {
                c.allow(&["mode"])?;
                c.empty()?;
                c.req_word("mode")
            })?,
            "lock" => set(&mut lock, c, |c| {
                c.allow(&["posix", "flock"])?;
                c.empty()?;
                Ok((c.on_off("posix")?, c.on_off("flock")?))
            })?,
            "thread_pool" => set(&mut b.thread_pool, c, |c| {
                c.allow(&["size"])?;
                c.empty()?;
                c.req("size")?;
                Ok(c.u32("size", Radix::Dec)?.unwrap_or(0))
            })?,
            _ => c.skip()?,
        }
    }
    if let Some((posix, flock)) = lock {
        b.posix_lock = posix;
        b.flock = flock;
    }
    Ok(b)
}

pub(super) fn shmem(e: El) -> R<Shmem> {
    e.allow(&["name", "role"])?;
    let name = e.req("name")?.to_string();
    let (mut model, mut size_v, mut address_v) = (None, None, None);
    let (mut server, mut msi) = (None, None);
    for c in e.children()? {
        match c.name() {
            "model" => set(&mut model, c, |c| {
                c.allow(&["type"])?;
                c.empty()?;
                c.req_word("type")
            })?,
            "size" => set(&mut size_v, c, size)?,
            "server" => set(&mut server, c, |c| {
                c.allow(&["path"])?;
                c.empty()?;
                Ok(c.get("path").map(str::to_string))
            })?,
            "msi" => set(&mut msi, c, |c| {
                c.allow(&["vectors", "ioeventfd"])?;
                c.empty()?;
                Ok(ShmemMsi {
                    vectors: c.u32("vectors", Radix::Dec)?,
                    ioeventfd: c.on_off("ioeventfd")?,
                })
            })?,
            "address" => set(&mut address_v, c, address)?,
            "alias" => alias_unused(c)?,
            _ => c.skip()?,
        }
    }
    Ok(Shmem {
        name,
        model,
        size_kib: size_v,
        role: e.word("role")?,
        server,
        msi,
        address: address_v,
        alias: None,
    })
}

/// `<memory model=...>`. Each model reads the `<source>` and `<target>`
/// children libvirt reads for it; any other is unsupported by name.
pub(super) fn memory_device(e: El) -> R<MemoryDevice> {
    e.allow(&["model", "access", "discard"])?;
    let model: MemoryModel = e.req_word("model")?;
    let mut m = MemoryDevice {
        model,
        access: e.word("access")?,
        discard: e.yes_no("discard")?,
        pagesize_kib: None,
        nodemask: None,
        path: None,
        align_kib: None,
        pmem: false,
        size_kib: 0,
        node: None,
        label_kib: None,
        readonly: false,
        block_kib: None,
        requested_kib: 0,
        current_kib: None,
        alias: None,
        slot: None,
        base: None,
        address: None,
    };
    let (mut source, mut target, mut addr) = (None, None, None);
    for c in e.children()? {
        match c.name() {
            "source" => set(&mut source, c, |c| memory_source(c, &mut m))?,
            "target" => set(&mut target, c, |c| memory_target(c, &mut m))?,
            "address" => set(&mut addr, c, |c| {
                if c.get("type") == Some("dimm") {
                    c.allow(&["type", "slot", "base"])?;
                    c.empty()?;
                    m.slot = c.u32("slot", Radix::Dec)?;
                    m.base = c.u64("base", Radix::Auto)?;
                } else {
                    m.address = Some(address(c)?);
                }
                Ok(())
            })?,
            "alias" => alias_unused(c)?,
            _ => c.skip()?,
        }
    }
    if target.is_none() {
        return Err(invalid(format!(
            "missing <target> in <memory> at {}",
            e.at()
        )));
    }
    Ok(m)
}

fn memory_source(c: El, m: &mut MemoryDevice) -> R<()> {
    c.allow(&[])?;
    let (mut page, mut nodes, mut path, mut align, mut pmem) = (None, None, None, None, None);
    let files = matches!(m.model, MemoryModel::Nvdimm | MemoryModel::VirtioPmem);
    let nv = m.model == MemoryModel::Nvdimm;
    for x in c.children()? {
        match x.name() {
            "pagesize" if !files => set(&mut page, x, size)?,
            "nodemask" if !files => set(&mut nodes, x, |x| x.plain_text())?,
            "path" if files => set(&mut path, x, |x| x.plain_text())?,
            "alignsize" if nv => set(&mut align, x, size)?,
            "pmem" if nv => set(&mut pmem, x, |x| {
                x.allow(&[])?;
                x.empty()
            })?,
            _ => x.skip()?,
        }
    }
    m.pagesize_kib = page;
    m.nodemask = nodes;
    m.path = path;
    m.align_kib = align;
    m.pmem = pmem.is_some();
    Ok(())
}

fn memory_target(c: El, m: &mut MemoryDevice) -> R<()> {
    c.allow(&[])?;
    let (mut sz, mut node, mut label, mut ro, mut block, mut requested) =
        (None, None, None, None, None, None);
    let mut current = None;
    let nv = m.model == MemoryModel::Nvdimm;
    let vmem = m.model == MemoryModel::VirtioMem;
    for x in c.children()? {
        match x.name() {
            "size" => set(&mut sz, x, size)?,
            "node" => set(&mut node, x, |x| x.u32_text())?,
            "label" if nv => set(&mut label, x, |x| {
                x.allow(&[])?;
                let mut inner = None;
                for y in x.children()? {
                    match y.name() {
                        "size" => set(&mut inner, y, size)?,
                        _ => y.skip()?,
                    }
                }
                Ok(inner)
            })?,
            "readonly" if nv => set(&mut ro, x, |x| {
                x.allow(&[])?;
                x.empty()
            })?,
            "block" if vmem => set(&mut block, x, size)?,
            "requested" if vmem => set(&mut requested, x, size)?,
            "current" if vmem => set(&mut current, x, size)?,
            _ => x.skip()?,
        }
    }
    m.size_kib = sz.ok_or_else(|| {
        invalid(format!(
            "missing <size> in the <target> of <memory> at {}",
            c.at()
        ))
    })?;
    m.node = node;
    m.label_kib = label.flatten().filter(|k| *k > 0);
    if let Some(l) = m.label_kib {
        if l < 128 {
            return Err(invalid(format!(
                "nvdimm label must be at least 128KiB, not {l} KiB, at {}",
                c.at()
            )));
        }
        if l >= m.size_kib {
            return Err(invalid(format!(
                "label size must be smaller than NVDIMM size, at {}",
                c.at()
            )));
        }
    }
    m.readonly = ro.is_some();
    m.block_kib = block;
    m.requested_kib = requested.unwrap_or(0);
    m.current_kib = current;
    Ok(())
}
