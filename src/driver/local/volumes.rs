//! Volumes: the files of a running pool, made and inspected with
//! qemu-img (see `crate::qemu::img`), and the `<disk type='volume'>` of a
//! definition resolved to one at start.
//!
//! A new volume's file is created exclusively before qemu-img writes it,
//! so two creates of one name cannot both succeed and nothing is ever
//! overwritten; when qemu-img fails (no space left, a bad backing file)
//! the new file is removed and nothing else was touched.

use std::fs::OpenOptions;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::driver::{Core, lock};
use super::storage::{exists, no_volume};
use crate::driver::{Pool, ResizeFlags, VolCreateFlags, Volume, VolumeInfo};
use crate::error::{Error, ErrorCode, Result};
use crate::model::{
    DiskFormat, DiskType, DomainDef, PoolDef, VolumeBacking, VolumeDef, VolumeFormat, check_name,
};
use crate::qemu::img::{self, CreateOptions};
use crate::sys::fsutil::remove_durable;

impl Core {
    /// `Driver::list_volumes`: the regular files of a running pool's
    /// directory (not hidden ones, not symlinks), by name.
    pub(crate) fn list_volumes(&self, pool: &Pool) -> Result<Vec<Volume>> {
        let def = self.running_pool(pool)?;
        let dir = Path::new(&def.path);
        let mut out: Vec<Volume> = std::fs::read_dir(dir)
            .map_err(|e| Error::io(format!("cannot read {}", dir.display()), e))?
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .filter_map(|e| {
                let name = e.file_name().to_str()?.to_string();
                (!name.starts_with('.')).then(|| volume_in(&def, &name))
            })
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// `Driver::vol_lookup_by_name`.
    pub(crate) fn vol_lookup(&self, pool: &Pool, name: &str) -> Result<Volume> {
        let def = self.running_pool(pool)?;
        check_name("volume name", name)?;
        let vol = volume_in(&def, name);
        match std::fs::symlink_metadata(&vol.path) {
            Ok(m) if m.is_file() => Ok(vol),
            _ => Err(no_volume(&pool.name, name)),
        }
    }

    /// `Driver::vol_lookup_by_path`.
    pub(crate) fn vol_lookup_path(&self, path: &Path) -> Result<Volume> {
        let path = std::path::absolute(path)
            .map_err(|e| Error::io(format!("cannot resolve {}", path.display()), e))?;
        let pools = self.list_pools()?;
        for p in pools {
            if p.info.state != crate::driver::PoolState::Running {
                continue;
            }
            let def = self.running_pool(&p.pool)?;
            if path.parent() == Some(Path::new(&def.path))
                && let Some(name) = path.file_name().and_then(|n| n.to_str())
            {
                return self.vol_lookup(&p.pool, name);
            }
        }
        Err(Error::new(
            ErrorCode::NoVolume,
            format!(
                "no volume with path {} in a running storage pool",
                path.display()
            ),
        ))
    }

    /// `Driver::vol_create_with`: `Driver::vol_create_xml` and, with
    /// `from`, `Driver::vol_clone`.
    pub(crate) fn vol_create(
        &self,
        pool: &Pool,
        xml: &str,
        from: Option<&Volume>,
        flags: VolCreateFlags,
    ) -> Result<Volume> {
        let def = self.running_pool(pool)?;
        let vol_def = VolumeDef::from_xml(xml)?;
        let metadata = flags.contains(VolCreateFlags::PREALLOC_METADATA);
        if metadata && vol_def.format != VolumeFormat::Qcow2 {
            return Err(Error::new(
                ErrorCode::ConfigUnsupported,
                format!(
                    "volume '{}': metadata preallocation is for qcow2 volumes only, not {}",
                    vol_def.name,
                    vol_def.format.as_str()
                ),
            ));
        }
        if metadata && vol_def.backing.is_some() {
            return Err(Error::new(
                ErrorCode::ConfigUnsupported,
                format!(
                    "volume '{}': metadata preallocation conflicts with a backing store",
                    vol_def.name
                ),
            ));
        }
        let vol = volume_in(&def, &vol_def.name);
        let path_str = vol.path.to_string_lossy();
        for given in [&vol_def.key, &vol_def.path].into_iter().flatten() {
            if Path::new(given) != vol.path {
                return Err(Error::new(
                    ErrorCode::ConfigInvalid,
                    format!(
                        "volume '{}' would be {path_str}, not {given}: a volume's path is its pool's directory and its name",
                        vol_def.name
                    ),
                ));
            }
        }
        // A qcow2 volume is preallocated when asked for all of its
        // capacity; a smaller allocation (virt-clone copies the source's)
        // leaves it sparse, as libvirt does without the metadata flag.
        let preallocate = match (vol_def.format, vol_def.allocation) {
            (VolumeFormat::Qcow2, Some(a)) => a >= vol_def.capacity,
            _ => false,
        };
        let source = match from {
            Some(f) => {
                self.check_unused(&f.path, "clone")?;
                Some((f.path.clone(), self.volume_format(&f.path)?))
            }
            None => None,
        };
        if source.is_some() && vol_def.backing.is_some() {
            return Err(Error::new(
                ErrorCode::ConfigUnsupported,
                "a cloned volume cannot have a backing store",
            ));
        }
        if let Some(b) = &vol_def.backing {
            self.check_backing(b)?;
        }
        // The name is taken here, atomically: a second create of it fails.
        let mode = vol_def.permissions.mode.unwrap_or(0o600);
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .custom_flags(nix::libc::O_NOFOLLOW)
            .open(&vol.path)
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::AlreadyExists => exists(&format!(
                    "volume '{}' in storage pool '{}'",
                    vol_def.name, pool.name
                )),
                _ => Error::io(format!("cannot create {path_str}"), e),
            })?;
        let made = self.fill_volume(&vol, &vol_def, source, preallocate, metadata);
        if let Err(e) = made {
            let _ = std::fs::remove_file(&vol.path);
            return Err(e);
        }
        self.log.info(&format!(
            "storage: made volume '{}' ({}, {} bytes) in pool '{}'",
            vol_def.name,
            vol_def.format.as_str(),
            vol_def.capacity,
            pool.name
        ));
        Ok(vol)
    }

    /// Writes a new volume's image into its (empty, just created) file.
    fn fill_volume(
        &self,
        vol: &Volume,
        def: &VolumeDef,
        source: Option<(PathBuf, VolumeFormat)>,
        preallocate: bool,
        preallocate_metadata: bool,
    ) -> Result<()> {
        let mut opts = CreateOptions {
            backing: None,
            compat: def.compat,
            preallocate,
            preallocate_metadata,
            lazy_refcounts: def.lazy_refcounts,
        };
        match source {
            Some((from, from_format)) => {
                // qemu-img convert makes its target itself.
                std::fs::remove_file(&vol.path)
                    .map_err(|e| Error::io(format!("cannot replace {}", vol.path.display()), e))?;
                img::convert(&from, from_format, &vol.path, def.format, &opts)?;
                let info = img::info(&vol.path, def.format, false)?;
                if def.capacity > info.virtual_size {
                    img::resize(&vol.path, def.format, def.capacity, false)?;
                }
            }
            None => {
                opts.backing = def
                    .backing
                    .as_ref()
                    .map(|b| (PathBuf::from(&b.path), b.format));
                img::create(&vol.path, def.format, def.capacity, &opts)?;
                // At most the capacity: an allocation beyond it (a raw
                // file's last block rounded up, copied by virt-clone)
                // allocates the whole file.
                if def.format == VolumeFormat::Raw
                    && let Some(a) = def
                        .allocation
                        .filter(|a| *a > 0)
                        .map(|a| a.min(def.capacity))
                {
                    let file = OpenOptions::new()
                        .write(true)
                        .open(&vol.path)
                        .map_err(|e| Error::io(format!("cannot open {}", vol.path.display()), e))?;
                    nix::fcntl::fallocate(
                        &file,
                        nix::fcntl::FallocateFlags::FALLOC_FL_KEEP_SIZE,
                        0,
                        a as i64,
                    )
                    .map_err(|e| {
                        Error::io(
                            format!("cannot allocate {a} bytes for {}", vol.path.display()),
                            e.into(),
                        )
                    })?;
                }
            }
        }
        let perms = def.permissions;
        if let Some(m) = perms.mode {
            std::fs::set_permissions(&vol.path, std::fs::Permissions::from_mode(m)).map_err(
                |e| Error::io(format!("cannot set the mode of {}", vol.path.display()), e),
            )?;
        }
        if perms.owner.is_some() || perms.group.is_some() {
            std::os::unix::fs::chown(&vol.path, perms.owner, perms.group).map_err(|e| {
                Error::io(format!("cannot give {} its owner", vol.path.display()), e)
            })?;
        }
        self.record_format(&vol.path, Some(def.format))
    }

    /// Checks a new volume's backing store: an existing regular file, in
    /// the format qvirt knows it by if qvirt made it.
    fn check_backing(&self, b: &VolumeBacking) -> Result<()> {
        let path = Path::new(&b.path);
        match std::fs::metadata(path) {
            Ok(m) if m.is_file() || m.file_type().is_symlink() => {}
            Ok(_) => {
                return Err(Error::new(
                    ErrorCode::InvalidArgument,
                    format!("the backing store {} is not a file", b.path),
                ));
            }
            Err(e) => {
                return Err(Error::io(
                    format!("cannot use the backing store {}", b.path),
                    e,
                ));
            }
        }
        if let Some(recorded) = self.recorded_format(path)?
            && recorded != b.format
        {
            return Err(Error::new(
                ErrorCode::ConfigInvalid,
                format!(
                    "the backing store {} is a {} image, not {}",
                    b.path,
                    recorded.as_str(),
                    b.format.as_str()
                ),
            ));
        }
        Ok(())
    }

    /// `Driver::vol_delete`.
    pub(crate) fn vol_delete(&self, vol: &Volume) -> Result<()> {
        let vol = self.vol_current(vol)?;
        self.check_unused(&vol.path, "delete")?;
        remove_durable(&vol.path)?;
        self.record_format(&vol.path, None)?;
        self.log.info(&format!(
            "storage: deleted volume '{}' of pool '{}'",
            vol.name, vol.pool
        ));
        Ok(())
    }

    /// The volume `vol` names, looked up again (its pool running, its
    /// file there).
    fn vol_current(&self, vol: &Volume) -> Result<Volume> {
        let pool = self.pool_lookup(&vol.pool)?;
        let found = self.vol_lookup(&pool, &vol.name)?;
        if found.path != vol.path {
            return Err(no_volume(&vol.pool, &vol.name));
        }
        Ok(found)
    }

    /// `Driver::vol_info`.
    pub(crate) fn vol_info(&self, vol: &Volume) -> Result<VolumeInfo> {
        let vol = self.vol_current(vol)?;
        let (info, _) = self.inspect(&vol.path)?;
        Ok(info)
    }

    /// Sizes, format, backing store and qcow2 features of the image at
    /// `path`.
    pub(crate) fn inspect(&self, path: &Path) -> Result<(VolumeInfo, ImageDetails)> {
        let meta = std::fs::metadata(path)
            .map_err(|e| Error::io(format!("cannot inspect {}", path.display()), e))?;
        let format = self.volume_format(path)?;
        let allocation = meta.blocks() * 512;
        let (capacity, details) = match format {
            VolumeFormat::Raw => (meta.len(), ImageDetails::default()),
            VolumeFormat::Qcow2 => {
                let i = img::info(path, format, true)?;
                let backing = i.backing.map(|(p, f)| VolumeBacking {
                    format: f
                        .as_deref()
                        .and_then(crate::model::Word::from_word)
                        .unwrap_or(VolumeFormat::Raw),
                    path: p,
                });
                let details = ImageDetails {
                    backing,
                    lazy_refcounts: i.lazy_refcounts,
                };
                (i.virtual_size, details)
            }
        };
        Ok((
            VolumeInfo::new(capacity, allocation, meta.len(), format),
            details,
        ))
    }

    /// `Driver::vol_xml`.
    pub(crate) fn vol_xml(&self, vol: &Volume) -> Result<String> {
        let vol = self.vol_current(vol)?;
        let (info, details) = self.inspect(&vol.path)?;
        let meta = std::fs::metadata(&vol.path)
            .map_err(|e| Error::io(format!("cannot inspect {}", vol.path.display()), e))?;
        let path = vol.path.to_string_lossy().into_owned();
        let mut def = VolumeDef::new(&vol.name, info.capacity, info.format);
        def.allocation = Some(info.allocation);
        def.physical = Some(info.physical);
        def.key = Some(path.clone());
        def.path = Some(path);
        def.permissions.mode = Some(meta.mode() & 0o7777);
        def.permissions.owner = Some(meta.uid());
        def.permissions.group = Some(meta.gid());
        def.backing = details.backing;
        def.lazy_refcounts = details.lazy_refcounts;
        Ok(def.to_xml())
    }

    /// `Driver::vol_resize`.
    pub(crate) fn vol_resize(&self, vol: &Volume, capacity: u64, flags: ResizeFlags) -> Result<()> {
        let vol = self.vol_current(vol)?;
        self.check_unused(&vol.path, "resize")?;
        let (info, _) = self.inspect(&vol.path)?;
        let target = if flags.contains(ResizeFlags::DELTA) {
            if flags.contains(ResizeFlags::SHRINK) {
                info.capacity.checked_sub(capacity)
            } else {
                info.capacity.checked_add(capacity)
            }
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::InvalidArgument,
                    format!("volume '{}' cannot change by {capacity} bytes", vol.name),
                )
            })?
        } else {
            capacity
        };
        if target < info.capacity && !flags.contains(ResizeFlags::SHRINK) {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                format!(
                    "volume '{}' has {} bytes; making it {target} would shrink it: add --shrink (data past the new end is lost)",
                    vol.name, info.capacity
                ),
            ));
        }
        if target == info.capacity {
            return Ok(());
        }
        img::resize(&vol.path, info.format, target, target < info.capacity)?;
        self.log.info(&format!(
            "storage: resized volume '{}' of pool '{}' to {target} bytes",
            vol.name, vol.pool
        ));
        Ok(())
    }

    /// The names of the running domains whose disks (or their backing
    /// chains) use the file `path`.
    pub(crate) fn users_of(&self, path: &Path) -> Vec<String> {
        let want = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        let runs: Vec<_> = lock(&self.inner)
            .entries
            .values()
            .filter_map(|e| e.running.clone())
            .collect();
        let mut users = Vec::new();
        for run in runs {
            let live = run.live_def();
            let mut files = self.disk_files(&live);
            if let Ok(qmp) = run.qmp()
                && let Ok(blocks) = qmp.execute("query-block", None, super::launch::QMP_TIMEOUT)
            {
                chain_files(&blocks, &mut files);
            }
            let used = files.iter().any(|f| {
                let f = std::fs::canonicalize(f).unwrap_or_else(|_| f.clone());
                f == want
            });
            if used {
                users.push(live.name.clone());
            }
        }
        users.sort();
        users
    }

    /// Refuses `what` of the file `path` while a running domain uses it.
    pub(crate) fn check_unused(&self, path: &Path, what: &str) -> Result<()> {
        let users = self.users_of(path);
        if users.is_empty() {
            return Ok(());
        }
        Err(Error::new(
            ErrorCode::OperationInvalid,
            format!(
                "cannot {what} {}: it is in use by running domain{} '{}'",
                path.display(),
                if users.len() > 1 { "s" } else { "" },
                users.join("', '")
            ),
        ))
    }

    /// The files of a definition's disks (volumes resolved where they can
    /// be).
    pub(crate) fn disk_files(&self, def: &DomainDef) -> Vec<PathBuf> {
        def.devices
            .disks
            .iter()
            .filter_map(|d| match (&d.source, d.kind) {
                (Some(s), _) => Some(PathBuf::from(s)),
                (None, DiskType::Volume) => d
                    .volume
                    .as_ref()
                    .and_then(|v| self.volume_path(&v.pool, &v.volume).ok()),
                _ => None,
            })
            .collect()
    }

    /// The path of volume `volume` of the running pool `pool`.
    pub(crate) fn volume_path(&self, pool: &str, volume: &str) -> Result<PathBuf> {
        let def = self.running_pool_named(pool)?;
        check_name("volume name", volume)?;
        let vol = volume_in(&def, volume);
        match std::fs::symlink_metadata(&vol.path) {
            Ok(m) if m.is_file() => Ok(vol.path),
            _ => Err(no_volume(pool, volume)),
        }
    }

    /// Gives every `<disk type='volume'>` of `def` its volume's path as
    /// source and, when the disk states no format, the volume's; a
    /// stated format other than the volume's is an error. At start.
    pub(crate) fn resolve_volume_disks(&self, def: &mut DomainDef) -> Result<()> {
        for disk in def.devices.disks.iter_mut() {
            if disk.kind != DiskType::Volume {
                continue;
            }
            let Some(v) = disk.volume.clone() else {
                continue;
            };
            let path = self.volume_path(&v.pool, &v.volume).map_err(|e| {
                Error::new(
                    e.code,
                    format!(
                        "cannot start domain '{}': disk {}: {}",
                        def.name, disk.target, e.message
                    ),
                )
            })?;
            // A file qvirt did not make: the format the disk states, raw
            // when it states none (never read from the image).
            let Some(recorded) = self.recorded_format(&path)? else {
                disk.format.get_or_insert(DiskFormat::Raw);
                disk.source = Some(path.to_string_lossy().into_owned());
                continue;
            };
            let format = match recorded {
                VolumeFormat::Raw => DiskFormat::Raw,
                VolumeFormat::Qcow2 => DiskFormat::Qcow2,
            };
            match disk.format {
                Some(f) if f != format => {
                    return Err(Error::new(
                        ErrorCode::ConfigInvalid,
                        format!(
                            "disk {} of domain '{}' says its volume '{}' is {}, but the volume is {}",
                            disk.target,
                            def.name,
                            v.volume,
                            f.as_str(),
                            format.as_str()
                        ),
                    ));
                }
                _ => disk.format = Some(format),
            }
            disk.source = Some(path.to_string_lossy().into_owned());
        }
        Ok(())
    }
}

/// What an image's header says beyond its sizes (nothing for raw).
#[derive(Default)]
pub(crate) struct ImageDetails {
    /// The image it is an overlay of.
    pub backing: Option<VolumeBacking>,
    /// Whether a qcow2 image updates its reference counts lazily.
    pub lazy_refcounts: bool,
}

/// The volume `name` of the pool `def`.
fn volume_in(def: &PoolDef, name: &str) -> Volume {
    Volume {
        pool: def.name.clone(),
        name: name.to_string(),
        path: Path::new(&def.path).join(name),
    }
}

/// Every file named in a `query-block` reply's images and their backing
/// chains.
pub(crate) fn chain_files(blocks: &serde_json::Value, out: &mut Vec<PathBuf>) {
    for b in blocks.as_array().into_iter().flatten() {
        let mut image = b.get("inserted").and_then(|i| i.get("image"));
        while let Some(i) = image {
            if let Some(f) = i.get("filename").and_then(serde_json::Value::as_str) {
                out.push(PathBuf::from(f));
            }
            image = i.get("backing-image");
        }
    }
}
