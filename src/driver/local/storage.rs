//! Storage pools: directories of volumes, defined in the state
//! directory's `storage/` (`NAME.xml`, written like domain definitions,
//! and `autostart/NAME` marks). Which pools are started is runtime state
//! (`run/.pools-active`): after a reboot only the autostart pools are.
//!
//! The pool `default` (under the state directory's `images/`) is defined,
//! marked autostart and built the first time a manager uses storage on a
//! state directory; undefining it later sticks.
//!
//! Formats: a domain never gets a format read from an image. Each image
//! qvirt makes (a volume, a snapshot overlay) has its format recorded in
//! `storage/formats.json`, by path; a disk on any other file is raw
//! unless its definition says otherwise (see [`Core::image_format`]).
//! What a pool *reports* of a file qvirt did not make (a cloud image
//! copied into it) is read from its header, as libvirt's pool refresh
//! does, so that tools reading the volume (virt-install, virt-clone)
//! see a qcow2 image as one (see [`Core::volume_format`]).

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::driver::{Core, lock};
use crate::driver::{Pool, PoolInfo, PoolState, PoolSummary};
use crate::error::{Error, ErrorCode, Result};
use crate::model::{PoolDef, PoolSizes, VolumeFormat};
use crate::sys::fsutil::{
    check_private_dir, check_trusted_path, is_leftover_temp, remove_durable, replace_atomic,
    write_atomic,
};

/// The storage state of one manager, read from disk at its first use.
#[derive(Default)]
pub(crate) struct Storage {
    state: Mutex<Option<Pools>>,
    /// The formats of the images qvirt made, by path.
    formats: Mutex<Option<BTreeMap<PathBuf, VolumeFormat>>>,
}

/// The pools, by name.
#[derive(Default, Clone)]
pub(crate) struct Pools {
    pub map: BTreeMap<String, PoolEntry>,
}

/// One pool.
#[derive(Clone)]
pub(crate) struct PoolEntry {
    pub def: PoolDef,
    pub active: bool,
    pub autostart: bool,
}

impl PoolEntry {
    fn handle(&self) -> Pool {
        Pool {
            name: self.def.name.clone(),
            uuid: self.def.uuid,
        }
    }
}

/// The name of the marker that says the pool `default` was made once.
const DEFAULT_MADE: &str = "default-pool-made";
/// The runtime file listing the started pools.
const ACTIVE_FILE: &str = ".pools-active";
/// The format records' file.
const FORMATS_FILE: &str = "formats.json";

/// The error for a pool that does not exist.
pub(crate) fn no_pool(name: &str) -> Error {
    Error::new(
        ErrorCode::NoPool,
        format!("no storage pool named '{name}' (see pool-list --all)"),
    )
}

/// The error for a volume that does not exist.
pub(crate) fn no_volume(pool: &str, name: &str) -> Error {
    Error::new(
        ErrorCode::NoVolume,
        format!("no volume named '{name}' in storage pool '{pool}' (see vol-list {pool})"),
    )
}

/// The error for a name that is taken.
pub(crate) fn exists(what: &str) -> Error {
    Error::new(
        ErrorCode::OperationInvalid,
        format!("{what} already exists"),
    )
}

impl Core {
    /// Runs `f` on the pools, reading them from disk first if this
    /// manager has not yet (and making the pool `default` the first time
    /// on this state directory).
    pub(crate) fn with_pools<T>(&self, f: impl FnOnce(&mut Pools) -> Result<T>) -> Result<T> {
        let mut state = lock(&self.storage.state);
        if state.is_none() {
            *state = Some(self.load_pools()?);
        }
        f(state.as_mut().expect("loaded above"))
    }

    /// Reads the pool definitions, marks and started set.
    fn load_pools(&self) -> Result<Pools> {
        let dir = &self.layout.storage;
        let autostart_dir = dir.join("autostart");
        crate::sys::fsutil::ensure_private_dir(&autostart_dir)?;
        let mut pools = Pools::default();
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .map_err(|e| Error::io(format!("cannot read {}", dir.display()), e))?
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        for file in names {
            if is_leftover_temp(&file) {
                let _ = std::fs::remove_file(dir.join(&file));
                continue;
            }
            let Some(stem) = file.strip_suffix(".xml") else {
                continue;
            };
            let path = dir.join(&file);
            let def = std::fs::read_to_string(&path)
                .map_err(|e| Error::io(format!("cannot read {}", path.display()), e))
                .and_then(|x| PoolDef::from_xml(&x).map_err(Error::from));
            match def {
                Ok(def) if def.name == stem => {
                    let autostart = autostart_dir.join(&def.name).exists();
                    pools.map.insert(
                        def.name.clone(),
                        PoolEntry {
                            def,
                            active: false,
                            autostart,
                        },
                    );
                }
                Ok(def) => self.log.error(&format!(
                    "storage: skipping {file}: it defines pool '{}', the file name says '{stem}'",
                    def.name
                )),
                Err(e) => self.log.error(&format!("storage: skipping {file}: {e}")),
            }
        }
        if !dir.join(DEFAULT_MADE).exists() {
            self.make_default_pool(&mut pools)?;
        }
        let active_file = self.layout.run.join(ACTIVE_FILE);
        match std::fs::read_to_string(&active_file) {
            Ok(text) => {
                for name in text.lines() {
                    if let Some(p) = pools.map.get_mut(name) {
                        p.active = true;
                    }
                }
            }
            Err(_) => {
                // The first manager since boot: the autostart pools start.
                for p in pools.map.values_mut().filter(|p| p.autostart) {
                    match check_pool_dir(Path::new(&p.def.path)) {
                        Ok(()) => p.active = true,
                        Err(e) => self.log.error(&format!(
                            "storage: autostart pool '{}' not started: {e}",
                            p.def.name
                        )),
                    }
                }
                self.save_active(&pools)?;
            }
        }
        Ok(pools)
    }

    /// Defines, builds, marks and records the pool `default`.
    fn make_default_pool(&self, pools: &mut Pools) -> Result<()> {
        if !pools.map.contains_key("default") {
            let images = &self.layout.images;
            crate::sys::fsutil::ensure_private_dir(images)?;
            let path = images.to_str().ok_or_else(|| {
                Error::new(
                    ErrorCode::InvalidArgument,
                    format!("the images directory {} is not UTF-8", images.display()),
                )
            })?;
            let def = PoolDef::new_dir("default", path);
            write_atomic(&self.pool_file(&def.name), def.to_xml(None).as_bytes())?;
            write_atomic(&self.layout.storage.join("autostart/default"), b"")?;
            pools.map.insert(
                "default".to_string(),
                PoolEntry {
                    def,
                    active: false,
                    autostart: true,
                },
            );
            self.log
                .info(&format!("storage: defined pool 'default' at {path}"));
        }
        write_atomic(&self.layout.storage.join(DEFAULT_MADE), b"")
    }

    fn pool_file(&self, name: &str) -> PathBuf {
        self.layout.storage.join(format!("{name}.xml"))
    }

    /// Records which pools are started.
    fn save_active(&self, pools: &Pools) -> Result<()> {
        let mut text = String::new();
        for p in pools.map.values().filter(|p| p.active) {
            text.push_str(&p.def.name);
            text.push('\n');
        }
        replace_atomic(&self.layout.run.join(ACTIVE_FILE), text.as_bytes())
    }

    /// The pool `pool` names, checked to be the same pool (UUID).
    fn pool_entry<'a>(pools: &'a mut Pools, pool: &Pool) -> Result<&'a mut PoolEntry> {
        match pools.map.get_mut(&pool.name) {
            Some(p) if p.def.uuid == pool.uuid => Ok(p),
            _ => Err(no_pool(&pool.name)),
        }
    }

    /// The definition of a running pool.
    pub(crate) fn running_pool(&self, pool: &Pool) -> Result<PoolDef> {
        self.with_pools(|pools| {
            let p = Core::pool_entry(pools, pool)?;
            if !p.active {
                return Err(Error::new(
                    ErrorCode::OperationInvalid,
                    format!(
                        "storage pool '{}' is not running (pool-start {})",
                        pool.name, pool.name
                    ),
                ));
            }
            Ok(p.def.clone())
        })
    }

    /// The running pool named `name`, for a `<disk type='volume'>`.
    pub(crate) fn running_pool_named(&self, name: &str) -> Result<PoolDef> {
        let uuid = self.with_pools(|pools| {
            pools
                .map
                .get(name)
                .map(|p| p.def.uuid)
                .ok_or_else(|| no_pool(name))
        })?;
        self.running_pool(&Pool {
            name: name.to_string(),
            uuid,
        })
    }

    /// `Driver::list_pools`.
    pub(crate) fn list_pools(&self) -> Result<Vec<PoolSummary>> {
        let entries: Vec<PoolEntry> =
            self.with_pools(|pools| Ok(pools.map.values().cloned().collect()))?;
        Ok(entries
            .iter()
            .map(|p| PoolSummary::new(p.handle(), pool_info_of(p)))
            .collect())
    }

    /// `Driver::pool_lookup_by_name`.
    pub(crate) fn pool_lookup(&self, name: &str) -> Result<Pool> {
        self.with_pools(|pools| {
            pools
                .map
                .get(name)
                .map(PoolEntry::handle)
                .ok_or_else(|| no_pool(name))
        })
    }

    /// `Driver::pool_define_xml`.
    pub(crate) fn pool_define(&self, xml: &str) -> Result<Pool> {
        let def = PoolDef::from_xml(xml)?;
        self.with_pools(|pools| {
            for other in pools.map.values() {
                if other.def.name == def.name && other.def.uuid != def.uuid {
                    return Err(exists(&format!(
                        "storage pool '{}' (UUID {})",
                        def.name, other.def.uuid
                    )));
                }
                if other.def.uuid == def.uuid && other.def.name != def.name {
                    return Err(exists(&format!(
                        "a storage pool with UUID {} ('{}')",
                        def.uuid, other.def.name
                    )));
                }
                if other.def.name != def.name
                    && Path::new(&other.def.path) == Path::new(&def.path)
                {
                    return Err(Error::new(
                        ErrorCode::OperationInvalid,
                        format!(
                            "storage pool '{}' already uses the directory {}",
                            other.def.name, def.path
                        ),
                    ));
                }
            }
            if let Some(old) = pools.map.get(&def.name)
                && old.active
                && old.def.path != def.path
            {
                return Err(Error::new(
                    ErrorCode::OperationInvalid,
                    format!(
                        "storage pool '{}' is running: stop it (pool-destroy) before moving it to another directory",
                        def.name
                    ),
                ));
            }
            write_atomic(&self.pool_file(&def.name), def.to_xml(None).as_bytes())?;
            let handle = Pool {
                name: def.name.clone(),
                uuid: def.uuid,
            };
            let entry = pools.map.entry(def.name.clone()).or_insert(PoolEntry {
                def: def.clone(),
                active: false,
                autostart: false,
            });
            entry.def = def;
            self.log
                .info(&format!("storage: defined pool '{}'", handle.name));
            Ok(handle)
        })
    }

    /// `Driver::pool_build`.
    pub(crate) fn pool_build(&self, pool: &Pool) -> Result<()> {
        self.with_pools(|pools| {
            let p = Core::pool_entry(pools, pool)?;
            if p.active {
                return Err(Error::new(
                    ErrorCode::OperationInvalid,
                    format!("storage pool '{}' is running: nothing to build", pool.name),
                ));
            }
            let dir = Path::new(&p.def.path);
            if std::fs::symlink_metadata(dir).is_ok() {
                return check_pool_dir(dir);
            }
            if let Some(parent) = dir.parent() {
                check_trusted_path(parent)?;
            }
            let perms = p.def.permissions;
            let mode = perms.mode.unwrap_or(0o711);
            std::fs::DirBuilder::new()
                .recursive(true)
                .create(dir)
                .and_then(|()| std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode)))
                .map_err(|e| Error::io(format!("cannot make {}", dir.display()), e))?;
            if perms.owner.is_some() || perms.group.is_some() {
                std::os::unix::fs::chown(dir, perms.owner, perms.group).map_err(|e| {
                    Error::io(format!("cannot give {} its owner", dir.display()), e)
                })?;
            }
            self.log.info(&format!(
                "storage: built pool '{}' at {}",
                pool.name,
                dir.display()
            ));
            Ok(())
        })
    }

    /// `Driver::pool_start`.
    pub(crate) fn pool_start(&self, pool: &Pool) -> Result<()> {
        self.with_pools(|pools| {
            let p = Core::pool_entry(pools, pool)?;
            if p.active {
                return Err(Error::new(
                    ErrorCode::OperationInvalid,
                    format!("storage pool '{}' is already running", pool.name),
                ));
            }
            check_pool_dir(Path::new(&p.def.path)).map_err(|e| {
                Error::new(
                    e.code,
                    format!("cannot start storage pool '{}': {e}", pool.name),
                )
            })?;
            p.active = true;
            self.save_active(pools)?;
            self.log
                .info(&format!("storage: started pool '{}'", pool.name));
            Ok(())
        })
    }

    /// `Driver::pool_destroy`.
    pub(crate) fn pool_stop(&self, pool: &Pool) -> Result<()> {
        self.with_pools(|pools| {
            let p = Core::pool_entry(pools, pool)?;
            if !p.active {
                return Err(Error::new(
                    ErrorCode::OperationInvalid,
                    format!("storage pool '{}' is not running", pool.name),
                ));
            }
            p.active = false;
            self.save_active(pools)?;
            self.log
                .info(&format!("storage: stopped pool '{}'", pool.name));
            Ok(())
        })
    }

    /// `Driver::pool_undefine`.
    pub(crate) fn pool_undefine(&self, pool: &Pool) -> Result<()> {
        self.with_pools(|pools| {
            let p = Core::pool_entry(pools, pool)?;
            if p.active {
                return Err(Error::new(
                    ErrorCode::OperationInvalid,
                    format!(
                        "storage pool '{}' is running: stop it first (pool-destroy)",
                        pool.name
                    ),
                ));
            }
            remove_durable(&self.layout.storage.join("autostart").join(&pool.name))?;
            remove_durable(&self.pool_file(&pool.name))?;
            pools.map.remove(&pool.name);
            self.log
                .info(&format!("storage: undefined pool '{}'", pool.name));
            Ok(())
        })
    }

    /// `Driver::pool_info`.
    pub(crate) fn pool_info(&self, pool: &Pool) -> Result<PoolInfo> {
        let p = self.with_pools(|pools| Ok(Core::pool_entry(pools, pool)?.clone()))?;
        Ok(pool_info_of(&p))
    }

    /// `Driver::pool_refresh`: the directory is checked again; a pool
    /// whose directory went bad stops, as libvirt's does.
    pub(crate) fn pool_refresh(&self, pool: &Pool) -> Result<()> {
        self.with_pools(|pools| {
            let p = Core::pool_entry(pools, pool)?;
            if !p.active {
                return Err(Error::new(
                    ErrorCode::OperationInvalid,
                    format!("storage pool '{}' is not running", pool.name),
                ));
            }
            if let Err(e) = check_pool_dir(Path::new(&p.def.path)) {
                p.active = false;
                self.save_active(pools)?;
                return Err(Error::new(
                    e.code,
                    format!("storage pool '{}' stopped: {e}", pool.name),
                ));
            }
            Ok(())
        })
    }

    /// `Driver::pool_xml`.
    pub(crate) fn pool_xml(&self, pool: &Pool) -> Result<String> {
        let p = self.with_pools(|pools| Ok(Core::pool_entry(pools, pool)?.clone()))?;
        let sizes = p.active.then(|| sizes_of(Path::new(&p.def.path)));
        Ok(p.def.to_xml(sizes))
    }

    /// `Driver::pool_set_autostart`.
    pub(crate) fn pool_set_autostart(&self, pool: &Pool, on: bool) -> Result<()> {
        self.with_pools(|pools| {
            let p = Core::pool_entry(pools, pool)?;
            let mark = self.layout.storage.join("autostart").join(&pool.name);
            if on {
                write_atomic(&mark, b"")?;
            } else {
                remove_durable(&mark)?;
            }
            p.autostart = on;
            Ok(())
        })
    }

    /// The format qvirt made the image at `path` in; raw for an image it
    /// did not make. Never read from the image.
    pub(crate) fn image_format(&self, path: &Path) -> Result<VolumeFormat> {
        Ok(self.recorded_format(path)?.unwrap_or(VolumeFormat::Raw))
    }

    /// The format a pool reports for the file at `path`: the recorded
    /// one if qvirt made it (a guest that writes a qcow2 header into a
    /// raw volume does not change it), else qcow2 when the file starts
    /// with qcow2's magic, else raw. For the pool's own calls (volume
    /// XML and sizes, clone, resize), never for a domain's disk.
    pub(crate) fn volume_format(&self, path: &Path) -> Result<VolumeFormat> {
        if let Some(f) = self.recorded_format(path)? {
            return Ok(f);
        }
        let mut magic = [0u8; 4];
        let read = std::fs::File::open(path)
            .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut magic));
        Ok(match read {
            Ok(()) if magic == *b"QFI\xfb" => VolumeFormat::Qcow2,
            _ => VolumeFormat::Raw,
        })
    }

    /// The format recorded for the image at `path`, if qvirt made it.
    pub(crate) fn recorded_format(&self, path: &Path) -> Result<Option<VolumeFormat>> {
        self.with_formats(|f| Ok(f.get(path).copied()))
    }

    /// Records that the image at `path` is in `format` (`None`: forgets
    /// it, the file is gone).
    pub(crate) fn record_format(&self, path: &Path, format: Option<VolumeFormat>) -> Result<()> {
        self.with_formats(|f| {
            let before = f.get(path).copied();
            if before == format {
                return Ok(());
            }
            match format {
                Some(fmt) => f.insert(path.to_path_buf(), fmt),
                None => f.remove(path),
            };
            let json: BTreeMap<String, &str> = f
                .iter()
                .map(|(p, fmt)| (p.to_string_lossy().into_owned(), fmt.as_str()))
                .collect();
            let bytes = serde_json::to_vec_pretty(&json).map_err(|e| {
                Error::new(ErrorCode::Internal, format!("cannot encode formats: {e}"))
            })?;
            let written = write_atomic(&self.layout.storage.join(FORMATS_FILE), &bytes);
            if written.is_err() {
                match before {
                    Some(b) => f.insert(path.to_path_buf(), b),
                    None => f.remove(path),
                };
            }
            written
        })
    }

    fn with_formats<T>(
        &self,
        f: impl FnOnce(&mut BTreeMap<PathBuf, VolumeFormat>) -> Result<T>,
    ) -> Result<T> {
        let mut formats = lock(&self.storage.formats);
        if formats.is_none() {
            let file = self.layout.storage.join(FORMATS_FILE);
            let map = match std::fs::read(&file) {
                Ok(bytes) => {
                    let raw: BTreeMap<String, String> =
                        serde_json::from_slice(&bytes).map_err(|e| {
                            Error::new(
                                ErrorCode::ConfigInvalid,
                                format!("{} is damaged: {e}", file.display()),
                            )
                        })?;
                    raw.into_iter()
                        .filter_map(|(p, f)| {
                            crate::model::Word::from_word(&f).map(|f| (PathBuf::from(p), f))
                        })
                        .collect()
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
                Err(e) => return Err(Error::io(format!("cannot read {}", file.display()), e)),
            };
            *formats = Some(map);
        }
        f(formats.as_mut().expect("loaded above"))
    }
}

/// The info of a pool entry (sizes of its file system while running).
fn pool_info_of(p: &PoolEntry) -> PoolInfo {
    let mut info = PoolInfo::inactive(p.autostart);
    if p.active {
        let s = sizes_of(Path::new(&p.def.path));
        info.state = PoolState::Running;
        info.capacity = s.capacity;
        info.allocation = s.allocation;
        info.available = s.available;
    }
    info
}

/// The sizes of the file system holding `dir` (zeros if it cannot be
/// read).
fn sizes_of(dir: &Path) -> PoolSizes {
    match nix::sys::statvfs::statvfs(dir) {
        Ok(s) => {
            let frag = s.fragment_size();
            let capacity = s.blocks() * frag;
            PoolSizes {
                capacity,
                allocation: capacity.saturating_sub(s.blocks_free() * frag),
                available: s.blocks_available() * frag,
            }
        }
        Err(_) => PoolSizes::default(),
    }
}

/// Checks a pool's directory before it is used: a real directory (not a
/// symlink), owned by this user, not writable by group or others, under
/// directories nobody else can swap.
pub(crate) fn check_pool_dir(dir: &Path) -> Result<()> {
    let meta = std::fs::symlink_metadata(dir).map_err(|e| {
        Error::io(
            format!(
                "the pool directory {} cannot be used (pool-build makes it)",
                dir.display()
            ),
            e,
        )
    })?;
    if !meta.is_dir() && !meta.file_type().is_symlink() {
        return Err(Error::new(
            ErrorCode::InvalidArgument,
            format!("{} is not a directory", dir.display()),
        ));
    }
    // A real directory of this user's that no one else can write, as the
    // manager's own directories are.
    check_private_dir(dir)?;
    if let Some(parent) = dir.parent() {
        check_trusted_path(parent)?;
    }
    Ok(())
}
