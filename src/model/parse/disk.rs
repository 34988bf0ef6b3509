//! Reading `<disk>`: its driver, source (a path, a network export, a
//! pool volume), backing chain, target and the guest-visible identity.

use super::devices::{VIRTIO_ATTRS, address, alias, boot_order, virtio_attrs};
use super::el::{El, R, Radix, invalid, push, set};
use super::optional_text;
use crate::model::{
    BackingStore, Disk, DiskBlockIo, DiskDevice, DiskDriver, DiskEncryption, DiskFormat,
    DiskGeometry, DiskHost, DiskMirror, DiskProtocol, DiskType, MirrorJob, ModelErrorKind,
    NetworkSource,
};

/// An empty marker element such as `<readonly/>`.
fn flag(e: El) -> R<bool> {
    e.allow(&[])?;
    e.empty()?;
    Ok(true)
}

pub(super) fn disk(e: El) -> R<Disk> {
    e.allow(&["type", "device", "model", "snapshot"])?;
    let kind = e.word("type")?.unwrap_or(DiskType::File);
    let device = e.word("device")?.unwrap_or(DiskDevice::Disk);
    let snapshot = match e.get("snapshot") {
        Some("manual") => {
            return Err(e.bad_value(
                ModelErrorKind::Unsupported,
                "snapshot",
                "'manual' (the user snapshots the disk outside the manager) is not supported; use 'no'",
            ));
        }
        _ => e.word::<crate::model::SnapshotLocation>("snapshot")?,
    };
    let (mut driver_v, mut source, mut target) = (None, None, None);
    let (mut readonly, mut shareable, mut serial) = (None, None, None);
    let (mut boot, mut address_v, mut backing, mut transient) = (None, None, None, None);
    let (mut auth, mut encryption) = (None, None);
    let (mut wwn, mut vendor, mut product, mut iotune) = (None, None, None, None);
    let (mut blockio, mut geometry, mut acpi) = (None, None, None);
    let (mut user_alias, mut mirror) = (None, None);
    for c in e.children()? {
        match c.name() {
            "driver" => set(&mut driver_v, c, disk_driver)?,
            "blockio" => set(&mut blockio, c, disk_blockio)?,
            "geometry" => set(&mut geometry, c, disk_geometry)?,
            "iotune" => set(&mut iotune, c, super::iotune::iotune)?,
            "wwn" => set(&mut wwn, c, |c| {
                let w = c.plain_text()?.trim().to_string();
                let digits = w.strip_prefix("0x").unwrap_or(&w);
                if digits.len() != 16 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(invalid(format!("Malformed wwn: {w} at {}", c.at())));
                }
                Ok(w)
            })?,
            "vendor" => set(&mut vendor, c, |c| inquiry_text(c, "vendor", 8))?,
            "product" => set(&mut product, c, |c| inquiry_text(c, "product", 16))?,
            "source" => set(&mut source, c, |c| disk_source(c, kind))?,
            "target" => set(&mut target, c, disk_target)?,
            "readonly" => set(&mut readonly, c, flag)?,
            "shareable" => set(&mut shareable, c, flag)?,
            "transient" => set(&mut transient, c, |c| {
                c.allow(&["shareBacking"])?;
                c.empty()?;
                if c.yes_no("shareBacking")? == Some(true) {
                    return Err(c.bad_value(
                        ModelErrorKind::Unsupported,
                        "shareBacking",
                        "a transient disk's overlay is the domain's own",
                    ));
                }
                Ok(true)
            })?,
            "backingStore" => set(&mut backing, c, backing_store)?,
            "mirror" => set(&mut mirror, c, disk_mirror)?,
            "auth" => set(&mut auth, c, |c| super::secret::disk_auth(c, false))?,
            "encryption" => set(&mut encryption, c, |c| {
                super::secret::disk_encryption(c, false)
            })?,
            "serial" => set(&mut serial, c, optional_text)?,
            "boot" => set(&mut boot, c, boot_order)?,
            "acpi" => set(&mut acpi, c, super::devices::acpi_index)?,
            "address" => set(&mut address_v, c, address)?,
            "alias" => set(&mut user_alias, c, alias)?,
            _ => c.skip()?,
        }
    }
    let mut vhost_user = None;
    let (source, mut network, volume, extras) = match source {
        Some(DiskSource::Path(p, extras)) => (p, None, None, extras),
        Some(DiskSource::VhostUser(v)) => {
            vhost_user = Some(v);
            (None, None, None, SourceExtras::default())
        }
        Some(DiskSource::Net(n, enc)) => (
            None,
            Some(n),
            None,
            SourceExtras {
                encryption: enc,
                ..SourceExtras::default()
            },
        ),
        Some(DiskSource::Volume(v, extras)) => (None, None, Some(v), extras),
        None => (None, None, None, SourceExtras::default()),
    };
    let SourceExtras {
        policy: startup_policy,
        labels: norelabel,
        encryption: source_enc,
        slice,
    } = extras;
    let encryption = match (encryption, source_enc) {
        (Some(_), Some(_)) => {
            return Err(super::el::unsupported(format!(
                "an <encryption> definition already found for disk source, at {}",
                e.at()
            )));
        }
        (a, b) => a.or(b),
    };
    // libvirt's virDomainDiskDefValidateStartupPolicy.
    if startup_policy == Some(crate::model::StartupPolicy::Requisite)
        && !matches!(device, DiskDevice::Cdrom | DiskDevice::Floppy)
    {
        return Err(invalid(format!(
            "disk startupPolicy 'requisite' is allowed only for cdrom or floppy, at {}",
            e.at()
        )));
    }
    if let Some(auth) = auth {
        // libvirt's virDomainDiskDefParseXML and
        // virDomainDiskDefValidateSourceChainOne.
        match network.as_mut() {
            Some(n) if n.auth.is_some() => {
                return Err(super::el::unsupported(format!(
                    "an <auth> definition already found for disk source, at {}",
                    e.at()
                )));
            }
            Some(n) => n.auth = Some(auth),
            None => {
                return Err(super::el::unsupported(format!(
                    "<auth> at {}: authentication is supported only for network backed disks",
                    e.at()
                )));
            }
        }
    }
    if let Some(n) = &network {
        disk_auth_rules(n, e)?;
    }
    if kind == DiskType::VhostUser && vhost_user.is_none() {
        return Err(invalid(format!(
            "a <disk type='vhostuser'> at {} needs <source type='unix' path=...>",
            e.at()
        )));
    }
    if kind == DiskType::Network && network.is_none() {
        // libvirt reads an empty network cdrom, then cannot run it.
        return Err(super::el::unsupported(format!(
            "a <disk type='network'> without <source protocol=...> (an empty network drive) at {} is not supported",
            e.at()
        )));
    }
    let Some((target, bus, removable, rotation_rate, tray_open)) = target else {
        return Err(invalid(format!(
            "missing target information for disk {}at {}",
            source
                .as_deref()
                .map(|s| format!("{s} "))
                .unwrap_or_default(),
            e.at()
        )));
    };
    let (format, driver) = driver_v.unwrap_or_default();
    let mut d = Disk::new(device, target);
    d.kind = kind;
    d.format = format;
    d.driver = driver;
    d.source = source;
    d.network = network;
    d.backing = backing;
    d.model = e.word("model")?;
    d.transient = transient.unwrap_or(false);
    d.startup_policy = startup_policy;
    d.norelabel = norelabel;
    d.readonly = readonly.unwrap_or(false);
    // libvirt's post-parse: a read-only disk is never in a snapshot, and
    // that default is not written back.
    d.snapshot = snapshot.filter(|s| !(d.readonly && *s == crate::model::SnapshotLocation::No));
    d.bus = bus;
    d.removable = removable;
    d.rotation_rate = rotation_rate;
    // libvirt reads `tray` on any disk and writes it back only for a
    // drive that has one; qvirt says so instead of dropping it.
    if tray_open && !matches!(device, DiskDevice::Cdrom | DiskDevice::Floppy) {
        return Err(invalid(format!(
            "disk '{}': tray='open' at {} is for a cdrom or floppy drive; a {} has no tray",
            d.target,
            e.at(),
            device.as_str()
        )));
    }
    if tray_open && device == DiskDevice::Floppy {
        return Err(super::el::unsupported(format!(
            "disk '{}': tray='open' at {} is not supported: QEMU's floppy drives have no tray to open",
            d.target,
            e.at()
        )));
    }
    d.tray_open = tray_open;
    d.blockio = blockio.unwrap_or_default();
    d.geometry = geometry;
    d.shareable = shareable.unwrap_or(false);
    d.serial = serial.flatten();
    d.wwn = wwn;
    d.vendor = vendor;
    d.product = product;
    d.iotune = iotune.map(Box::new);
    d.boot_order = boot;
    d.acpi_index = acpi;
    d.address = address_v;
    d.alias = user_alias.flatten();
    d.volume = volume;
    d.vhost_user = vhost_user;
    d.slice = slice;
    d.mirror = mirror;
    // libvirt's qemuDomainValidateStorageSource.
    if encryption.is_some() {
        if !matches!(
            d.format,
            None | Some(crate::model::DiskFormat::Raw) | Some(crate::model::DiskFormat::Qcow2)
        ) {
            return Err(super::el::unsupported(format!(
                "disk encryption at {} is supported only with 'raw' and 'qcow2' image format",
                e.at()
            )));
        }
        if d.transient {
            return Err(super::el::unsupported(format!(
                "<transient/> of an encrypted disk at {} is not supported",
                e.at()
            )));
        }
    }
    d.encryption = encryption;
    super::disk_source::fat_rules(&d, e)?;
    super::disk_source::lun_rules(&d, e)?;
    metadata_cache_rule(d.driver.metadata_cache_max_size, d.format, e)?;
    Ok(d)
}

/// `<mirror type= file= format= job= ready=>` with `<format type>` and
/// `<source file|dev>`: a running domain's copy of the disk (its status,
/// which a definition to keep drops). The copy is a file or a block
/// device.
fn disk_mirror(e: El) -> R<DiskMirror> {
    e.allow(&["type", "file", "format", "job", "ready"])?;
    let kind = e.word("type")?.unwrap_or(DiskType::File);
    if !matches!(kind, DiskType::File | DiskType::Block) {
        return Err(e.bad_value(
            ModelErrorKind::Unsupported,
            "type",
            "a disk's copy is a file or a block device",
        ));
    }
    let job = e.word("job")?.unwrap_or(MirrorJob::Copy);
    let ready = match e.get("ready") {
        None => false,
        Some("yes") => true,
        Some(_) => {
            return Err(e.bad_value(
                ModelErrorKind::Unsupported,
                "ready",
                "only 'yes' (a copy in step) is known",
            ));
        }
    };
    let mut path = e.get("file").map(str::to_string);
    let mut format = e.word::<DiskFormat>("format")?;
    for c in e.children()? {
        match c.name() {
            "format" => {
                c.allow(&["type"])?;
                format = Some(c.req_word::<DiskFormat>("type")?);
            }
            "source" => {
                c.allow(&["file", "dev"])?;
                path = c.get("file").or(c.get("dev")).map(str::to_string).or(path);
            }
            _ => c.skip()?,
        }
    }
    let path = path.ok_or_else(|| {
        invalid(format!(
            "a disk's <mirror> at {} needs its copy's file or device",
            e.at()
        ))
    })?;
    Ok(DiskMirror {
        kind,
        path,
        format,
        job,
        ready,
    })
}

/// `<vendor>` or `<product>`: printable, at most `max` characters
/// (libvirt's limits, the size of the SCSI INQUIRY fields).
fn inquiry_text(c: El, what: &str, max: usize) -> R<String> {
    let t = c.plain_text()?.trim().to_string();
    if t.is_empty() || t.chars().count() > max || !t.chars().all(|ch| (' '..='~').contains(&ch)) {
        return Err(invalid(format!(
            "disk {what} '{t}' at {} must be 1 to {max} printable characters",
            c.at()
        )));
    }
    Ok(t)
}

/// `<backingStore>`: empty (no backing image) or one image with its own
/// chain below.
fn backing_store(e: El) -> R<Option<Box<BackingStore>>> {
    e.allow(&["type", "index"])?;
    let kids = e.children()?;
    if kids.is_empty() && e.get("type").is_none() {
        return Ok(None);
    }
    let kind = e.word("type")?.unwrap_or(DiskType::File);
    if matches!(kind, DiskType::Network | DiskType::Dir) {
        return Err(e.bad_value(
            ModelErrorKind::Unsupported,
            "type",
            "a backing image on the network or of a directory is not supported",
        ));
    }
    let (mut format, mut source, mut below) = (None, None, None);
    for c in kids {
        match c.name() {
            "format" => set(&mut format, c, |c| {
                c.allow(&["type"])?;
                let f = c.req_word::<crate::model::DiskFormat>("type")?;
                if f == crate::model::DiskFormat::Fat {
                    return Err(c.bad_value(
                        ModelErrorKind::Unsupported,
                        "type",
                        "storage format 'fat' is supported only with 'dir' storage type",
                    ));
                }
                let mut cache = None;
                for m in c.children()? {
                    match m.name() {
                        "metadata_cache" => set(&mut cache, m, metadata_cache)?,
                        _ => m.skip()?,
                    }
                }
                let cache = cache.flatten();
                metadata_cache_rule(cache, Some(f), c)?;
                Ok((f, cache))
            })?,
            "source" => set(&mut source, c, |c| disk_source(c, kind))?,
            "backingStore" => set(&mut below, c, backing_store)?,
            _ => c.skip()?,
        }
    }
    if let Some(DiskSource::Path(_, x)) = &source
        && (x.policy.is_some() || !x.labels.is_empty() || x.encryption.is_some())
    {
        return Err(super::el::unsupported(format!(
            "a startupPolicy, <seclabel> or <encryption> in the <source> of a <backingStore> at {} is not supported (they belong to the disk's own source)",
            e.at()
        )));
    }
    if let Some(DiskSource::Path(_, x)) = &source
        && x.slice.is_some()
    {
        return Err(super::el::unsupported(format!(
            "<slices> in the <source> of a <backingStore> at {} is not supported (only the disk's own source takes a slice)",
            e.at()
        )));
    }
    let Some(DiskSource::Path(Some(path), _)) = source else {
        return Err(invalid(format!(
            "missing <source> in <backingStore> at {}",
            e.at()
        )));
    };
    let (format, metadata_cache_max_size) = format.ok_or_else(|| {
        invalid(format!(
            "missing <format type=...> in <backingStore> at {}",
            e.at()
        ))
    })?;
    Ok(Some(Box::new(BackingStore {
        kind,
        format,
        source: path,
        backing: below,
        metadata_cache_max_size,
    })))
}

fn disk_driver(e: El) -> R<(Option<crate::model::DiskFormat>, DiskDriver)> {
    let mut allowed = VIRTIO_ATTRS.to_vec();
    allowed.extend([
        "name",
        "type",
        "cache",
        "io",
        "discard",
        "detect_zeroes",
        "iothread",
        "queues",
        "queue_size",
        "error_policy",
        "rerror_policy",
        "ioeventfd",
        "event_idx",
        "copy_on_read",
    ]);
    e.allow(&allowed)?;
    e.choice("name", &[("qemu", ())])?;
    let mut cache = None;
    for c in e.children()? {
        match c.name() {
            "metadata_cache" => set(&mut cache, c, metadata_cache)?,
            _ => c.skip()?,
        }
    }
    let driver = DiskDriver {
        cache: e.word("cache")?,
        io: e.word("io")?,
        discard: e.word("discard")?,
        detect_zeroes: e.word("detect_zeroes")?,
        iothread: e.u32("iothread", Radix::Dec)?,
        queues: e.u32("queues", Radix::Dec)?,
        queue_size: e.u32("queue_size", Radix::Dec)?,
        error_policy: e.word("error_policy")?,
        rerror_policy: e.word("rerror_policy")?,
        ioeventfd: e.on_off("ioeventfd")?,
        event_idx: e.on_off("event_idx")?,
        copy_on_read: e.on_off("copy_on_read")?,
        virtio: virtio_attrs(e)?,
        metadata_cache_max_size: cache.flatten(),
    };
    if driver.rerror_policy == Some(crate::model::ErrorPolicy::Enospace) {
        return Err(e.bad_value(
            ModelErrorKind::Invalid,
            "rerror_policy",
            "'enospace' is for writes only (error_policy)",
        ));
    }
    Ok((e.word("type")?, driver))
}

/// `<metadata_cache>` with its `<max_size unit=>` in bytes (libvirt's
/// scaled value, bytes without a unit, at least 1); `None` without one.
fn metadata_cache(e: El) -> R<Option<u64>> {
    e.allow(&[])?;
    let mut max = None;
    for c in e.children()? {
        match c.name() {
            "max_size" => set(&mut max, c, |c| {
                let n = super::storage::size(c)?;
                if n == 0 {
                    return Err(c.bad_text(
                        ModelErrorKind::Invalid,
                        "0",
                        "must be at least 1 byte",
                    ));
                }
                Ok(n)
            })?,
            _ => c.skip()?,
        }
    }
    Ok(max)
}

/// libvirt's qemuDomainValidateStorageSource: only QEMU's qcow2 driver
/// has metadata caches to size.
fn metadata_cache_rule(max: Option<u64>, format: Option<crate::model::DiskFormat>, e: El) -> R<()> {
    if max.is_some() && format != Some(crate::model::DiskFormat::Qcow2) {
        return Err(super::el::unsupported(format!(
            "metadata cache max size control is supported only with qcow2 images (the image at {})",
            e.at()
        )));
    }
    Ok(())
}

/// A size or count that must not be 0 (the schema's positive integer;
/// libvirt would read 0 as unset and write nothing back).
fn positive(e: El, name: &str) -> R<Option<u32>> {
    match e.u32(name, Radix::Dec)? {
        Some(0) => Err(e.bad_value(ModelErrorKind::Invalid, name, "must be a positive number")),
        n => Ok(n),
    }
}

/// `<blockio logical_block_size= physical_block_size=
/// discard_granularity=>`, in bytes.
fn disk_blockio(e: El) -> R<DiskBlockIo> {
    e.allow(&[
        "logical_block_size",
        "physical_block_size",
        "discard_granularity",
    ])?;
    e.empty()?;
    Ok(DiskBlockIo {
        logical_block_size: positive(e, "logical_block_size")?,
        physical_block_size: positive(e, "physical_block_size")?,
        // 0 is a size here: no discard alignment.
        discard_granularity: e.u32("discard_granularity", Radix::Dec)?,
    })
}

/// `<geometry cyls= heads= secs= trans=>`: all three counts, as the
/// schema requires them.
fn disk_geometry(e: El) -> R<DiskGeometry> {
    e.allow(&["cyls", "heads", "secs", "trans"])?;
    e.empty()?;
    let count = |name: &str| -> R<u32> {
        e.req(name)?;
        Ok(positive(e, name)?.unwrap_or(0))
    };
    Ok(DiskGeometry {
        cyls: count("cyls")?,
        heads: count("heads")?,
        secs: count("secs")?,
        trans: e.word("trans")?,
    })
}

/// What a disk's `<source>` names.
enum DiskSource {
    /// A file or block device path (`None` for an empty drive).
    Path(Option<String>, SourceExtras),
    /// A network export.
    Net(NetworkSource, Option<DiskEncryption>),
    /// A vhost-user server's socket.
    VhostUser(crate::model::VhostUserSource),
    /// A volume of a storage pool.
    Volume(crate::model::VolumeSource, SourceExtras),
}

/// What a local source (a path or a volume) says besides where it is.
#[derive(Default)]
struct SourceExtras {
    /// `startupPolicy`.
    policy: Option<crate::model::StartupPolicy>,
    /// The `<seclabel relabel='no'>` models.
    labels: Vec<Option<String>>,
    /// `<encryption>`.
    encryption: Option<DiskEncryption>,
    /// `<slices>`.
    slice: Option<crate::model::DiskSlice>,
}

/// The `<seclabel>` children of a disk's `<source>`: each must say
/// `relabel='no'` (qvirt relabels nothing; a label to apply would need a
/// security driver it does not have); their models. libvirt's output-only
/// `labelskip='yes'` reads as the same. And its `<encryption>` and
/// `<slices>`; `startupPolicy` is the caller's.
fn no_relabels(e: El) -> R<SourceExtras> {
    let mut models = Vec::new();
    let mut encryption = None;
    let mut slice = None;
    for c in e.children()? {
        if c.name() == "encryption" {
            set(&mut encryption, c, |c| {
                super::secret::disk_encryption(c, true)
            })?;
            continue;
        }
        if c.name() == "slices" {
            set(&mut slice, c, super::disk_source::slices)?;
            continue;
        }
        if c.name() != "seclabel" {
            c.skip()?;
            continue;
        }
        let model = c.read(|c| {
            c.allow(&["model", "relabel", "labelskip"])?;
            if let Some(m) = c.get("model")
                && !matches!(m, "dac" | "selinux" | "apparmor" | "none")
            {
                return Err(c.bad_value(
                    ModelErrorKind::Unsupported,
                    "model",
                    "a security model qvirt does not know",
                ));
            }
            let skip = c.yes_no("labelskip")? == Some(true);
            if c.yes_no("relabel")? != Some(false) && !skip {
                return Err(super::el::unsupported(format!(
                    "a device <seclabel> at {} that labels the file is not supported: qvirt has no security driver to apply it; use relabel='no'",
                    c.at()
                )));
            }
            for x in c.children()? {
                x.skip()?;
            }
            Ok(c.get("model").map(str::to_string))
        })?;
        if let Some(m) = model {
            models.push(m);
        }
    }
    Ok(SourceExtras {
        policy: None,
        labels: models,
        encryption,
        slice,
    })
}

fn disk_source(e: El, kind: DiskType) -> R<DiskSource> {
    let attr = match kind {
        DiskType::File => "file",
        DiskType::Block => "dev",
        DiskType::Dir => "dir",
        DiskType::Network => {
            let (n, enc) = network_source(e)?;
            return Ok(DiskSource::Net(n, enc));
        }
        DiskType::VhostUser => return vhost_user_source(e).map(DiskSource::VhostUser),
        DiskType::Volume => {
            e.allow(&["pool", "volume", "startupPolicy"])?;
            let extras = SourceExtras {
                policy: e.word("startupPolicy")?,
                ..no_relabels(e)?
            };
            return Ok(DiskSource::Volume(
                crate::model::VolumeSource {
                    pool: e.req("pool")?.to_string(),
                    volume: e.req("volume")?.to_string(),
                },
                extras,
            ));
        }
    };
    // `index` numbers the image in a running domain's chain: libvirt
    // writes it in live XML and reads it only from its own status files.
    e.allow(&[attr, "index", "startupPolicy"])?;
    let extras = SourceExtras {
        policy: e.word("startupPolicy")?,
        ..no_relabels(e)?
    };
    // An empty path is libvirt's empty drive, the same as no source.
    Ok(DiskSource::Path(
        e.get(attr).filter(|p| !p.is_empty()).map(str::to_string),
        extras,
    ))
}

/// `<source type='unix' path=...>` of a vhost-user disk, with its
/// `<reconnect enabled= timeout=>`.
fn vhost_user_source(e: El) -> R<crate::model::VhostUserSource> {
    e.allow(&["type", "path"])?;
    e.req("type")?;
    e.choice("type", &[("unix", ())])?;
    let path = e.req("path")?.to_string();
    let reconnect = super::chardev::reconnect(e, false, "vhost-user")?;
    Ok(crate::model::VhostUserSource { path, reconnect })
}

/// Which protocols take `<auth>` and with which secret type (libvirt's
/// virDomainDiskDefValidateSourceChainOne): iSCSI a CHAP password
/// (`iscsi`), RBD a Ceph key (`ceph`), the curl protocols a password of
/// either; no other protocol authenticates.
fn disk_auth_rules(n: &NetworkSource, e: El) -> R<()> {
    use crate::model::SecretUsageType as U;
    let Some(auth) = &n.auth else {
        return Ok(());
    };
    let at = e.at();
    let Some(kind) = auth.secret_type else {
        return Err(super::el::unsupported(format!(
            "<auth><secret> of the disk at {at} needs type='iscsi' or type='ceph'"
        )));
    };
    let fits = match n.protocol {
        DiskProtocol::Iscsi => kind == U::Iscsi,
        DiskProtocol::Rbd => kind == U::Ceph,
        DiskProtocol::Http | DiskProtocol::Https | DiskProtocol::Ftp | DiskProtocol::Ftps => true,
        DiskProtocol::Nbd => {
            return Err(super::el::unsupported(format!(
                "authentication is not supported for protocol 'nbd' (the disk at {at})"
            )));
        }
    };
    if !fits {
        return Err(super::el::unsupported(format!(
            "invalid secret type '{}' for a {} disk at {at}",
            kind.as_str(),
            n.protocol.as_str()
        )));
    }
    Ok(())
}

/// The `<source>` of `<nvram type='network'>`: a network disk's, for
/// the protocols QEMU's firmware flash is written through (NBD, iSCSI),
/// without TLS or an encryption layer.
pub(super) fn nvram_network_source(e: El) -> R<NetworkSource> {
    let (n, enc) = network_source(e)?;
    let at = e.at();
    if !matches!(n.protocol, DiskProtocol::Nbd | DiskProtocol::Iscsi) {
        return Err(super::el::unsupported(format!(
            "a network NVRAM store over protocol '{}' at {at} is not supported: use 'nbd' or 'iscsi'",
            n.protocol.as_str()
        )));
    }
    if n.tls == Some(true) {
        return Err(e.bad_value(
            ModelErrorKind::Unsupported,
            "tls",
            "TLS to a network NVRAM store is not supported",
        ));
    }
    if enc.is_some() {
        return Err(super::el::unsupported(format!(
            "<encryption> of a network NVRAM store at {at} is not supported"
        )));
    }
    disk_auth_rules(&n, e)?;
    Ok(n)
}

fn network_source(e: El) -> R<(NetworkSource, Option<DiskEncryption>)> {
    e.allow(&["protocol", "name", "query", "tls", "tlsHostname", "index"])?;
    let protocol: DiskProtocol = e.req_word("protocol")?;
    let mut hosts = Vec::new();
    let mut auth = None;
    let mut encryption = None;
    let mut initiator = None;
    let mut curl = super::disk_source::CurlOptions::default();
    for c in e.children()? {
        if super::disk_source::curl_option(&mut curl, protocol, c)? {
            continue;
        }
        match c.name() {
            "initiator" if protocol == DiskProtocol::Iscsi => set(&mut initiator, c, |c| {
                c.allow(&[])?;
                let mut iqn = None;
                for i in c.children()? {
                    if i.name() != "iqn" {
                        i.skip()?;
                        continue;
                    }
                    set(&mut iqn, i, |i| {
                        i.allow(&["name"])?;
                        i.empty()?;
                        Ok(i.req("name")?.to_string())
                    })?;
                }
                iqn.ok_or_else(|| {
                    invalid(format!("<initiator> at {} names no <iqn name=...>", c.at()))
                })
            })?,
            "host" => push(&mut hosts, c, |c| {
                c.allow(&["name", "port", "transport", "socket"])?;
                c.empty()?;
                let unix = c
                    .choice("transport", &[("tcp", false), ("unix", true)])?
                    .unwrap_or(false);
                let port = c.port("port")?;
                if unix {
                    c.req("socket")?;
                } else if c.get("socket").is_some() {
                    return Err(c.bad_value(
                        ModelErrorKind::Invalid,
                        "socket",
                        "only transport='unix' takes a socket",
                    ));
                }
                Ok(DiskHost {
                    name: c.get("name").map(str::to_string),
                    port,
                    socket: c.get("socket").map(str::to_string),
                })
            })?,
            "auth" => set(&mut auth, c, |c| super::secret::disk_auth(c, true))?,
            "encryption" => set(&mut encryption, c, |c| {
                super::secret::disk_encryption(c, true)
            })?,
            _ => c.skip()?,
        }
    }
    // libvirt passes tlsHostname to NBD only, and QEMU uses it only
    // with TLS.
    if e.get("tlsHostname").is_some()
        && (protocol != DiskProtocol::Nbd || e.yes_no("tls")? != Some(true))
    {
        return Err(e.bad_value(
            ModelErrorKind::Unsupported,
            "tlsHostname",
            "it names the certificate of an NBD server over TLS: only with protocol='nbd' and tls='yes'",
        ));
    }
    let n = NetworkSource {
        protocol,
        name: e.get("name").map(str::to_string),
        query: e.get("query").map(str::to_string),
        hosts,
        tls: e.yes_no("tls")?,
        tls_hostname: e.get("tlsHostname").map(str::to_string),
        auth,
        initiator,
        cookies: curl.cookies.unwrap_or_default(),
        readahead: curl.readahead.flatten(),
        timeout: curl.timeout.flatten(),
        ssl_verify: curl.ssl_verify.flatten(),
    };
    Ok((n, encryption))
}

type Target = (
    String,
    Option<crate::model::DiskBus>,
    Option<bool>,
    Option<u32>,
    bool,
);

fn disk_target(e: El) -> R<Target> {
    e.allow(&["dev", "bus", "removable", "rotation_rate", "tray"])?;
    e.empty()?;
    let dev = e.req("dev")?.to_string();
    Ok((
        dev,
        e.word("bus")?,
        e.on_off("removable")?,
        positive(e, "rotation_rate")?,
        e.bool_words("tray", "open", "closed")?.unwrap_or(false),
    ))
}
