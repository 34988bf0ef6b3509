//! libvirt's storage pool and volume procedures as qvirt serves them: each
//! a call of the [`Driver`]'s storage methods, with libvirt's values and
//! rules at the edge. A pool is a directory of volumes (libvirt's `dir`
//! pools, the only kind qvirt keeps), persistent always; a volume's key
//! is its path, as libvirt's directory pools have it.
//!
//! Handles are checked as libvirt checks them: a pool by its name and
//! UUID, a volume by its pool, name and key. One that names nothing is
//! libvirt's `VIR_ERR_NO_STORAGE_POOL` or `VIR_ERR_NO_STORAGE_VOL`, with
//! libvirt's words, which clients (virt-install) test for. Flags qvirt
//! cannot honour are refused by name.

use std::path::Path;

use super::types::*;
use super::values::check_flags;
use crate::driver::error::{Error, ErrorCode, Result};
use crate::driver::{
    Driver, Pool, PoolState, PoolSummary, ResizeFlags, VolCreateFlags, Volume, VolumeStream,
};
use crate::model::{VolumeDef, VolumeFormat};

/// `virConnectListAllStoragePoolsFlags`.
mod list {
    pub const INACTIVE: u32 = 1 << 0;
    pub const ACTIVE: u32 = 1 << 1;
    pub const PERSISTENT: u32 = 1 << 2;
    pub const TRANSIENT: u32 = 1 << 3;
    pub const AUTOSTART: u32 = 1 << 4;
    pub const NO_AUTOSTART: u32 = 1 << 5;
    /// The first pool type's bit (`_DIR`); one per type up to
    /// `_ISCSI_DIRECT` (bit 19).
    pub const DIR: u32 = 1 << 6;
    /// Every pool type's bit.
    pub const TYPES: u32 = ((1 << 20) - 1) & !((1 << 6) - 1);
}

/// `virStoragePoolCreateFlags`.
mod create {
    pub const WITH_BUILD: u32 = 1 << 0;
    pub const WITH_BUILD_OVERWRITE: u32 = 1 << 1;
    pub const WITH_BUILD_NO_OVERWRITE: u32 = 1 << 2;
}

/// `virStoragePoolBuildFlags` a directory pool takes.
mod build {
    pub const NO_OVERWRITE: u32 = 1 << 2;
    pub const OVERWRITE: u32 = 1 << 3;
}

/// `virStorageVolCreateFlags`.
mod vol_create {
    pub const PREALLOC_METADATA: u32 = 1 << 0;
    pub const REFLINK: u32 = 1 << 1;
    pub const VALIDATE: u32 = 1 << 2;
}

/// `VIR_STORAGE_XML_INACTIVE`.
const XML_INACTIVE: u32 = 1;
/// `VIR_STORAGE_VOL_GET_PHYSICAL`.
const GET_PHYSICAL: u32 = 1;
/// `VIR_STORAGE_VOL_RESIZE_ALLOCATE`.
const RESIZE_ALLOCATE: u32 = 1;
/// `VIR_STORAGE_POOL_INACTIVE`, `VIR_STORAGE_POOL_RUNNING`.
const POOL_INACTIVE: u8 = 0;
const POOL_RUNNING: u8 = 2;
/// `VIR_STORAGE_VOL_FILE`.
const VOL_FILE: i8 = 0;
/// `REMOTE_STORAGE_POOL_LIST_MAX` and `REMOTE_STORAGE_VOL_LIST_MAX`: a
/// libvirt client refuses a longer list.
const LIST_MAX: usize = 16384;

impl From<&Pool> for StoragePool {
    fn from(p: &Pool) -> StoragePool {
        StoragePool {
            name: p.name.clone(),
            uuid: p.uuid,
        }
    }
}

impl From<&Volume> for StorageVol {
    fn from(v: &Volume) -> StorageVol {
        StorageVol {
            pool: v.pool.clone(),
            name: v.name.clone(),
            key: v.path.to_string_lossy().into_owned(),
        }
    }
}

fn pool_ret(p: &Pool) -> PoolRet {
    PoolRet { pool: p.into() }
}

fn vol_ret(v: &Volume) -> VolRet {
    VolRet { vol: v.into() }
}

/// Whether a lookup failed because nothing has that name (a name no
/// file can have, `ConfigInvalid`, names nothing either).
fn not_found(e: &Error) -> bool {
    matches!(
        e.code,
        ErrorCode::NoPool | ErrorCode::NoVolume | ErrorCode::ConfigInvalid
    )
}

/// libvirt's words for a pool that is not there (its code comes with
/// qvirt's, `NoPool`).
fn no_pool(what: String) -> Error {
    Error::new(ErrorCode::NoPool, format!("Storage pool not found: {what}"))
}

/// libvirt's words for a volume that is not there.
fn no_vol(what: String) -> Error {
    Error::new(
        ErrorCode::NoVolume,
        format!("Storage volume not found: {what}"),
    )
}

fn no_pool_named(name: &str) -> Error {
    no_pool(format!("no storage pool with matching name '{name}'"))
}

/// The pool `name` names.
fn pool_named(d: &dyn Driver, name: &str) -> Result<Pool> {
    d.pool_lookup_by_name(name).map_err(|e| {
        if not_found(&e) {
            no_pool_named(name)
        } else {
            e
        }
    })
}

/// The pool a handle names: the same name and UUID.
fn pool_of(d: &dyn Driver, p: &StoragePool) -> Result<Pool> {
    match d.pool_lookup_by_name(&p.name) {
        Ok(found) if found.uuid == p.uuid => Ok(found),
        Err(e) if !not_found(&e) => Err(e),
        _ => Err(no_pool(format!(
            "no storage pool with matching uuid '{}' ({})",
            p.uuid, p.name
        ))),
    }
}

/// The volume a handle names: in its pool (which must be running), by
/// its name, with its key as path.
fn vol_of(d: &dyn Driver, v: &StorageVol) -> Result<Volume> {
    let pool = pool_named(d, &v.pool)?;
    match d.vol_lookup_by_name(&pool, &v.name) {
        Ok(found) if found.path == Path::new(&v.key) => Ok(found),
        Err(e) if !not_found(&e) => Err(e),
        _ => Err(no_vol(format!(
            "no storage vol with matching name '{}'",
            v.name
        ))),
    }
}

/// The pools, for a list of them all: more than a client takes is an
/// error.
fn pools(d: &dyn Driver) -> Result<Vec<PoolSummary>> {
    let all = d.list_pools()?;
    if all.len() > LIST_MAX {
        return Err(Error::new(
            ErrorCode::LimitExceeded,
            format!(
                "{} storage pools: a libvirt client takes at most {LIST_MAX}",
                all.len()
            ),
        ));
    }
    Ok(all)
}

/// The volumes of a running pool, for a list of them all, with the same
/// limit.
fn volumes(d: &dyn Driver, pool: &Pool) -> Result<Vec<Volume>> {
    let all = d.list_volumes(pool)?;
    if all.len() > LIST_MAX {
        return Err(Error::new(
            ErrorCode::LimitExceeded,
            format!(
                "{} volumes in storage pool '{}': a libvirt client takes at most {LIST_MAX}",
                all.len(),
                pool.name
            ),
        ));
    }
    Ok(all)
}

fn running(s: &PoolSummary) -> bool {
    s.info.state == PoolState::Running
}

/// The names of the pools that are running (`true`) or not, at most `max`.
fn pool_names(d: &dyn Driver, active: bool, max: i32) -> Result<ListNamesRet> {
    let max = usize::try_from(max).unwrap_or(0).min(LIST_MAX);
    let names = d
        .list_pools()?
        .into_iter()
        .filter(|s| running(s) == active)
        .take(max)
        .map(|s| s.pool.name)
        .collect();
    Ok(ListNamesRet { names })
}

fn pool_count(d: &dyn Driver, active: bool) -> Result<NumRet> {
    let n = d
        .list_pools()?
        .iter()
        .filter(|s| running(s) == active)
        .count();
    Ok(NumRet { num: n as i32 })
}

/// Whether a pool passes the filters of `virConnectListAllStoragePools`
/// (each pair of a group, or none of it, lets every pool through, as
/// libvirt's `virStoragePoolObjMatch` does; every qvirt pool is a
/// persistent directory pool).
fn pool_filter(flags: u32, s: &PoolSummary) -> bool {
    let group = |a: u32, b: u32, is_a: bool| {
        let want = flags & (a | b);
        want == 0 || want == (a | b) || (want == a) == is_a
    };
    let types = flags & list::TYPES;
    group(list::ACTIVE, list::INACTIVE, running(s))
        && group(list::PERSISTENT, list::TRANSIENT, s.info.persistent)
        && group(list::AUTOSTART, list::NO_AUTOSTART, s.info.autostart)
        && (types == 0 || types & list::DIR != 0)
}

/// A volume's name as its XML gives it, if the XML can be read at all
/// (the driver's reader reports what cannot).
fn volume_name(xml: &str) -> Option<String> {
    let doc = roxmltree::Document::parse(xml).ok()?;
    let name = doc
        .root_element()
        .children()
        .find(|c| c.has_tag_name("name"))?;
    Some(name.text().unwrap_or_default().to_string())
}

/// libvirt refuses a volume name with `/` as an invalid operation (a
/// directory pool holds no subdirectories), with these words; qvirt's
/// reader would call it an invalid definition.
fn check_volume_name(xml: &str) -> Result<()> {
    match volume_name(xml) {
        Some(name) if name.contains('/') => Err(Error::new(
            ErrorCode::OperationInvalid,
            format!("Requested operation is not valid: volume name '{name}' cannot contain '/'"),
        )),
        _ => Ok(()),
    }
}

/// The flags of `virStorageVolCreateXML(From)` as qvirt's.
/// `VIR_STORAGE_VOL_CREATE_VALIDATE` asks for the XML to be checked
/// against the schema: qvirt's reader refuses anything it does not
/// support by name, which is at least as strict. A reflink copy is not
/// something qvirt makes.
fn vol_create_flags(flags: u32, function: &str) -> Result<VolCreateFlags> {
    use vol_create as c;
    if flags & c::REFLINK != 0 {
        return Err(Error::new(
            ErrorCode::NoSupport,
            format!(
                "{function}: reflink copies (VIR_STORAGE_VOL_CREATE_REFLINK, vol-clone --reflink) are not supported: qvirt copies the data"
            ),
        ));
    }
    check_flags(flags, c::PREALLOC_METADATA | c::VALIDATE, function)?;
    Ok(if flags & c::PREALLOC_METADATA != 0 {
        VolCreateFlags::PREALLOC_METADATA
    } else {
        VolCreateFlags::NONE
    })
}

/// The XML of a clone as qvirt reads it. A libvirt client sends the
/// source volume's own XML with a new name (virsh's `vol-clone` does):
/// its key, path and physical size are the source's report, which
/// libvirt replaces, and so is its allocation, which libvirt's qcow2
/// images follow only with `PREALLOC_METADATA` (an allocation of the
/// whole capacity then preallocates it all).
fn clone_xml(xml: &str, flags: VolCreateFlags) -> Result<String> {
    let mut def = VolumeDef::from_xml(xml)?;
    def.key = None;
    def.path = None;
    def.physical = None;
    let full = def.allocation.is_some_and(|a| a >= def.capacity);
    let preallocated = flags.contains(VolCreateFlags::PREALLOC_METADATA)
        && def.format == VolumeFormat::Qcow2
        && full;
    def.allocation = preallocated.then_some(def.capacity);
    Ok(def.to_xml())
}

/// `virConnectNumOfStoragePools`.
pub fn connect_num_of_storage_pools(d: &dyn Driver, (): ()) -> Result<NumRet> {
    pool_count(d, true)
}

/// `virConnectListStoragePools`.
pub fn connect_list_storage_pools(d: &dyn Driver, a: ListNamesArgs) -> Result<ListNamesRet> {
    pool_names(d, true, a.maxnames)
}

/// `virConnectNumOfDefinedStoragePools`.
pub fn connect_num_of_defined_storage_pools(d: &dyn Driver, (): ()) -> Result<NumRet> {
    pool_count(d, false)
}

/// `virConnectListDefinedStoragePools`.
pub fn connect_list_defined_storage_pools(
    d: &dyn Driver,
    a: ListNamesArgs,
) -> Result<ListNamesRet> {
    pool_names(d, false, a.maxnames)
}

/// `virConnectListAllStoragePools`.
pub fn connect_list_all_storage_pools(d: &dyn Driver, a: ListAllArgs) -> Result<ListPoolsRet> {
    check_flags(a.flags, (1 << 20) - 1, "virConnectListAllStoragePools")?;
    let mut pools: Vec<StoragePool> = pools(d)?
        .iter()
        .filter(|s| pool_filter(a.flags, s))
        .map(|s| (&s.pool).into())
        .collect();
    let ret = pools.len() as u32;
    if a.need_results == 0 {
        pools.clear();
    }
    Ok(ListPoolsRet { pools, ret })
}

/// `virStoragePoolCreateXML`: a transient pool, which qvirt does not keep.
pub fn storage_pool_create_xml(_: &dyn Driver, a: XmlFlagsArgs) -> Result<PoolRet> {
    use create as c;
    check_flags(
        a.flags,
        c::WITH_BUILD | c::WITH_BUILD_OVERWRITE | c::WITH_BUILD_NO_OVERWRITE,
        "virStoragePoolCreateXML",
    )?;
    Err(Error::new(
        ErrorCode::NoSupport,
        "transient storage pools are not supported by qvirt: define the pool \
         (virStoragePoolDefineXML, virsh pool-define) and start it (pool-start)",
    ))
}

/// `virStoragePoolDefineXML`. `VIR_STORAGE_POOL_DEFINE_VALIDATE` asks for
/// the schema's check, which qvirt's strict reader is at least.
pub fn storage_pool_define_xml(d: &dyn Driver, a: XmlFlagsArgs) -> Result<PoolRet> {
    check_flags(a.flags, 1, "virStoragePoolDefineXML")?;
    Ok(pool_ret(&d.pool_define_xml(&a.xml)?))
}

/// The build flags that exclude each other, as libvirt refuses them.
fn exclusive(flags: u32, a: (u32, &str), b: (u32, &str)) -> Result<()> {
    if flags & a.0 != 0 && flags & b.0 != 0 {
        return Err(Error::new(
            ErrorCode::InvalidArgument,
            format!("Flags '{}' and '{}' are mutually exclusive", a.1, b.1),
        ));
    }
    Ok(())
}

/// `virStoragePoolCreate`: starts the pool, building it first when
/// asked. For a directory pool, as libvirt's, overwriting or not is the
/// same build: the directory is made if missing, never emptied.
pub fn storage_pool_create(d: &dyn Driver, a: PoolFlagsArgs) -> Result<()> {
    use create as c;
    let build = c::WITH_BUILD | c::WITH_BUILD_OVERWRITE | c::WITH_BUILD_NO_OVERWRITE;
    check_flags(a.flags, build, "virStoragePoolCreate")?;
    exclusive(
        a.flags,
        (
            c::WITH_BUILD_OVERWRITE,
            "VIR_STORAGE_POOL_CREATE_WITH_BUILD_OVERWRITE",
        ),
        (
            c::WITH_BUILD_NO_OVERWRITE,
            "VIR_STORAGE_POOL_CREATE_WITH_BUILD_NO_OVERWRITE",
        ),
    )?;
    let pool = pool_of(d, &a.pool)?;
    if a.flags & build != 0 {
        d.pool_build(&pool)?;
    }
    d.pool_start(&pool)
}

/// `virStoragePoolBuild`: makes the pool's directory (as for
/// [`storage_pool_create`], with or without overwriting is the same for a
/// directory pool; repairing and resizing are for other kinds).
pub fn storage_pool_build(d: &dyn Driver, a: PoolFlagsArgs) -> Result<()> {
    check_flags(
        a.flags,
        build::OVERWRITE | build::NO_OVERWRITE,
        "virStoragePoolBuild",
    )?;
    exclusive(
        a.flags,
        (build::OVERWRITE, "VIR_STORAGE_POOL_BUILD_OVERWRITE"),
        (build::NO_OVERWRITE, "VIR_STORAGE_POOL_BUILD_NO_OVERWRITE"),
    )?;
    d.pool_build(&pool_of(d, &a.pool)?)
}

/// `virStoragePoolDestroy`.
pub fn storage_pool_destroy(d: &dyn Driver, a: PoolArgs) -> Result<()> {
    d.pool_destroy(&pool_of(d, &a.pool)?)
}

/// `virStoragePoolUndefine`.
pub fn storage_pool_undefine(d: &dyn Driver, a: PoolArgs) -> Result<()> {
    d.pool_undefine(&pool_of(d, &a.pool)?)
}

/// `virStoragePoolRefresh`.
pub fn storage_pool_refresh(d: &dyn Driver, a: PoolFlagsArgs) -> Result<()> {
    check_flags(a.flags, 0, "virStoragePoolRefresh")?;
    d.pool_refresh(&pool_of(d, &a.pool)?)
}

/// `virStoragePoolLookupByName`.
pub fn storage_pool_lookup_by_name(d: &dyn Driver, a: NameArgs) -> Result<PoolRet> {
    Ok(pool_ret(&pool_named(d, &a.name)?))
}

/// `virStoragePoolLookupByUUID`.
pub fn storage_pool_lookup_by_uuid(d: &dyn Driver, a: UuidArgs) -> Result<PoolRet> {
    d.list_pools()?
        .into_iter()
        .find(|s| s.pool.uuid == a.uuid)
        .map(|s| pool_ret(&s.pool))
        .ok_or_else(|| no_pool(format!("no storage pool with matching uuid '{}'", a.uuid)))
}

/// `virStoragePoolLookupByVolume`: the pool the volume handle names.
pub fn storage_pool_lookup_by_volume(d: &dyn Driver, a: VolArgs) -> Result<PoolRet> {
    Ok(pool_ret(&pool_named(d, &a.vol.pool)?))
}

/// `virStoragePoolGetInfo`.
pub fn storage_pool_get_info(d: &dyn Driver, a: PoolArgs) -> Result<PoolInfoRet> {
    let i = d.pool_info(&pool_of(d, &a.pool)?)?;
    Ok(PoolInfoRet {
        state: match i.state {
            PoolState::Running => POOL_RUNNING,
            _ => POOL_INACTIVE,
        },
        capacity: i.capacity,
        allocation: i.allocation,
        available: i.available,
    })
}

/// `virStoragePoolGetXMLDesc`. `VIR_STORAGE_XML_INACTIVE` asks for the
/// definition the pool gets at its next start: a qvirt pool keeps no
/// other than the one it has (a redefinition applies at once), so the
/// answer is the same, sizes included, as libvirt's for a pool without
/// a pending definition.
pub fn storage_pool_get_xml_desc(d: &dyn Driver, a: PoolFlagsArgs) -> Result<XmlRet> {
    check_flags(a.flags, XML_INACTIVE, "virStoragePoolGetXMLDesc")?;
    Ok(XmlRet {
        xml: d.pool_xml(&pool_of(d, &a.pool)?)?,
    })
}

/// `virStoragePoolGetAutostart`.
pub fn storage_pool_get_autostart(d: &dyn Driver, a: PoolArgs) -> Result<IntRet> {
    let i = d.pool_info(&pool_of(d, &a.pool)?)?;
    Ok(IntRet {
        value: i32::from(i.autostart),
    })
}

/// `virStoragePoolSetAutostart`.
pub fn storage_pool_set_autostart(d: &dyn Driver, a: PoolSetAutostartArgs) -> Result<()> {
    d.pool_set_autostart(&pool_of(d, &a.pool)?, a.autostart != 0)
}

/// `virStoragePoolNumOfVolumes`.
pub fn storage_pool_num_of_volumes(d: &dyn Driver, a: PoolArgs) -> Result<NumRet> {
    let n = d.list_volumes(&pool_of(d, &a.pool)?)?.len();
    Ok(NumRet { num: n as i32 })
}

/// `virStoragePoolListVolumes`: at most `maxnames` names.
pub fn storage_pool_list_volumes(d: &dyn Driver, a: PoolListVolumesArgs) -> Result<ListNamesRet> {
    let max = usize::try_from(a.maxnames).unwrap_or(0).min(LIST_MAX);
    let names = d
        .list_volumes(&pool_of(d, &a.pool)?)?
        .into_iter()
        .take(max)
        .map(|v| v.name)
        .collect();
    Ok(ListNamesRet { names })
}

/// `virStoragePoolListAllVolumes`.
pub fn storage_pool_list_all_volumes(
    d: &dyn Driver,
    a: PoolListAllVolumesArgs,
) -> Result<ListVolsRet> {
    check_flags(a.flags, 0, "virStoragePoolListAllVolumes")?;
    let mut vols: Vec<StorageVol> = volumes(d, &pool_of(d, &a.pool)?)?
        .iter()
        .map(StorageVol::from)
        .collect();
    let ret = vols.len() as u32;
    if a.need_results == 0 {
        vols.clear();
    }
    Ok(ListVolsRet { vols, ret })
}

/// `virStoragePoolIsActive`.
pub fn storage_pool_is_active(d: &dyn Driver, a: PoolArgs) -> Result<IntRet> {
    let i = d.pool_info(&pool_of(d, &a.pool)?)?;
    Ok(IntRet {
        value: i32::from(i.state == PoolState::Running),
    })
}

/// `virStoragePoolIsPersistent`.
pub fn storage_pool_is_persistent(d: &dyn Driver, a: PoolArgs) -> Result<IntRet> {
    let i = d.pool_info(&pool_of(d, &a.pool)?)?;
    Ok(IntRet {
        value: i32::from(i.persistent),
    })
}

/// `virStorageVolCreateXML`.
pub fn storage_vol_create_xml(d: &dyn Driver, a: VolCreateArgs) -> Result<VolRet> {
    let flags = vol_create_flags(a.flags, "virStorageVolCreateXML")?;
    let pool = pool_of(d, &a.pool)?;
    check_volume_name(&a.xml)?;
    Ok(vol_ret(&d.vol_create_with(&pool, &a.xml, None, flags)?))
}

/// `virStorageVolCreateXMLFrom`: a new volume holding a copy of
/// `clonevol`'s data.
pub fn storage_vol_create_xml_from(d: &dyn Driver, a: VolCreateFromArgs) -> Result<VolRet> {
    let flags = vol_create_flags(a.flags, "virStorageVolCreateXMLFrom")?;
    let pool = pool_of(d, &a.pool)?;
    let from = vol_of(d, &a.clonevol)?;
    check_volume_name(&a.xml)?;
    let xml = clone_xml(&a.xml, flags)?;
    Ok(vol_ret(&d.vol_create_with(
        &pool,
        &xml,
        Some(&from),
        flags,
    )?))
}

/// `virStorageVolDelete`: the file goes. Zeroing it first and deleting
/// snapshots with it are not offered.
pub fn storage_vol_delete(d: &dyn Driver, a: VolFlagsArgs) -> Result<()> {
    check_flags(a.flags, 0, "virStorageVolDelete")?;
    d.vol_delete(&vol_of(d, &a.vol)?)
}

/// `virStorageVolLookupByName`.
pub fn storage_vol_lookup_by_name(d: &dyn Driver, a: VolLookupByNameArgs) -> Result<VolRet> {
    let pool = pool_of(d, &a.pool)?;
    match d.vol_lookup_by_name(&pool, &a.name) {
        Ok(v) => Ok(vol_ret(&v)),
        Err(e) if not_found(&e) => Err(no_vol(format!(
            "no storage vol with matching name '{}'",
            a.name
        ))),
        Err(e) => Err(e),
    }
}

/// The volume whose file is `path`, in any running pool.
fn vol_at(d: &dyn Driver, path: &str, missing: impl FnOnce() -> String) -> Result<VolRet> {
    match d.vol_lookup_by_path(Path::new(path)) {
        Ok(v) => Ok(vol_ret(&v)),
        Err(e) if not_found(&e) => Err(no_vol(missing())),
        Err(e) => Err(e),
    }
}

/// `virStorageVolLookupByKey`: a volume's key is its path.
pub fn storage_vol_lookup_by_key(d: &dyn Driver, a: KeyArgs) -> Result<VolRet> {
    vol_at(d, &a.key, || {
        format!("no storage vol with matching key {}", a.key)
    })
}

/// `virStorageVolLookupByPath`. A path outside every running pool is
/// libvirt's "not found", which clients (virt-install) take as "a plain
/// file".
pub fn storage_vol_lookup_by_path(d: &dyn Driver, a: PathArgs) -> Result<VolRet> {
    vol_at(d, &a.path, || {
        format!("no storage vol with matching path '{}'", a.path)
    })
}

fn vol_info(d: &dyn Driver, vol: &StorageVol, physical: bool) -> Result<VolInfoRet> {
    let i = d.vol_info(&vol_of(d, vol)?)?;
    Ok(VolInfoRet {
        kind: VOL_FILE,
        capacity: i.capacity,
        allocation: if physical { i.physical } else { i.allocation },
    })
}

/// `virStorageVolGetInfo`.
pub fn storage_vol_get_info(d: &dyn Driver, a: VolArgs) -> Result<VolInfoRet> {
    vol_info(d, &a.vol, false)
}

/// `virStorageVolGetInfoFlags`: `VIR_STORAGE_VOL_GET_PHYSICAL` gives the
/// file's size as the allocation.
pub fn storage_vol_get_info_flags(d: &dyn Driver, a: VolFlagsArgs) -> Result<VolInfoRet> {
    check_flags(a.flags, GET_PHYSICAL, "virStorageVolGetInfoFlags")?;
    vol_info(d, &a.vol, a.flags & GET_PHYSICAL != 0)
}

/// `virStorageVolGetXMLDesc`.
pub fn storage_vol_get_xml_desc(d: &dyn Driver, a: VolFlagsArgs) -> Result<XmlRet> {
    check_flags(a.flags, 0, "virStorageVolGetXMLDesc")?;
    Ok(XmlRet {
        xml: d.vol_xml(&vol_of(d, &a.vol)?)?,
    })
}

/// `virStorageVolGetPath`.
pub fn storage_vol_get_path(d: &dyn Driver, a: VolArgs) -> Result<VolPathRet> {
    let v = vol_of(d, &a.vol)?;
    Ok(VolPathRet {
        name: v.path.to_string_lossy().into_owned(),
    })
}

/// `virStorageVolResize`: to the capacity, or by it (`_DELTA`), smaller
/// only with `_SHRINK`. Allocating the new size up front (`_ALLOCATE`) is
/// not offered.
pub fn storage_vol_resize(d: &dyn Driver, a: VolResizeArgs) -> Result<()> {
    check_flags(
        a.flags,
        ResizeFlags::DELTA.bits() | ResizeFlags::SHRINK.bits(),
        "virStorageVolResize",
    )
    .map_err(|e| {
        if a.flags & RESIZE_ALLOCATE != 0 {
            Error::new(
                ErrorCode::NoSupport,
                "resizing with allocation (VIR_STORAGE_VOL_RESIZE_ALLOCATE, vol-resize --allocate) is not supported: the new size stays sparse",
            )
        } else {
            e
        }
    })?;
    let flags = ResizeFlags::from_bits(a.flags).unwrap_or_default();
    d.vol_resize(&vol_of(d, &a.vol)?, a.capacity, flags)
}

/// `VIR_STORAGE_VOL_UPLOAD_SPARSE_STREAM` and
/// `VIR_STORAGE_VOL_DOWNLOAD_SPARSE_STREAM`.
const SPARSE_STREAM: u32 = 1;

/// Whether an upload's or download's flags ask for a sparse stream
/// (holes as `VIR_NET_STREAM_HOLE` messages); the only flag there is.
pub fn sparse_stream(flags: u32) -> bool {
    flags & SPARSE_STREAM != 0
}

/// libvirt's length of a transfer: 0 is "to the end".
fn length(n: u64) -> Option<u64> {
    (n != 0).then_some(n)
}

/// `virStorageVolUpload`: an upload into the volume's file as
/// `Driver::vol_upload` does it; the bytes follow as stream messages
/// (holes too, with `VIR_STORAGE_VOL_UPLOAD_SPARSE_STREAM`).
pub fn storage_vol_upload(d: &dyn Driver, a: VolStreamArgs) -> Result<Box<dyn VolumeStream>> {
    check_flags(a.flags, SPARSE_STREAM, "virStorageVolUpload")?;
    d.vol_upload(&vol_of(d, &a.vol)?, a.offset, length(a.length))
}

/// `virStorageVolDownload`: the volume's file from `offset`, as
/// `Driver::vol_download` reads it (its holes as holes, with
/// `VIR_STORAGE_VOL_DOWNLOAD_SPARSE_STREAM`).
pub fn storage_vol_download(d: &dyn Driver, a: VolStreamArgs) -> Result<Box<dyn VolumeStream>> {
    check_flags(a.flags, SPARSE_STREAM, "virStorageVolDownload")?;
    d.vol_download(&vol_of(d, &a.vol)?, a.offset, length(a.length))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::{PoolInfo, PoolSummary};

    fn summary(running: bool, autostart: bool) -> PoolSummary {
        let mut info = PoolInfo::inactive(autostart);
        if running {
            info.state = PoolState::Running;
        }
        let pool = Pool {
            name: "p".into(),
            uuid: uuid::Uuid::nil(),
        };
        PoolSummary::new(pool, info)
    }

    #[test]
    fn pool_filters_are_libvirts() {
        let (on, off) = (summary(true, true), summary(false, false));
        for (flags, want_on, want_off) in [
            (0, true, true),
            (list::ACTIVE, true, false),
            (list::INACTIVE, false, true),
            (list::ACTIVE | list::INACTIVE, true, true),
            (list::PERSISTENT, true, true),
            (list::TRANSIENT, false, false),
            (list::AUTOSTART, true, false),
            (list::NO_AUTOSTART, false, true),
            (list::DIR, true, true),
            (list::DIR << 1, false, false),
            (list::DIR | (list::DIR << 1) | list::ACTIVE, true, false),
        ] {
            assert_eq!(pool_filter(flags, &on), want_on, "flags {flags:#x}");
            assert_eq!(pool_filter(flags, &off), want_off, "flags {flags:#x}");
        }
    }

    #[test]
    fn a_clone_takes_nothing_of_its_sources_report() {
        let src = "<volume type='file'><name>copy</name><key>/p/a</key>\
            <capacity unit='bytes'>1048576</capacity><allocation unit='bytes'>200704</allocation>\
            <physical unit='bytes'>196624</physical><target><path>/p/a</path>\
            <format type='qcow2'/></target></volume>";
        let def = VolumeDef::from_xml(&clone_xml(src, VolCreateFlags::NONE).unwrap()).unwrap();
        assert_eq!((def.key, def.path, def.physical), (None, None, None));
        assert_eq!((def.name.as_str(), def.allocation), ("copy", None));
        let full = src.replace("200704", "1048576");
        let def =
            VolumeDef::from_xml(&clone_xml(&full, VolCreateFlags::PREALLOC_METADATA).unwrap())
                .unwrap();
        assert_eq!(def.allocation, Some(1 << 20));
        let def = VolumeDef::from_xml(&clone_xml(&full, VolCreateFlags::NONE).unwrap()).unwrap();
        assert_eq!(def.allocation, None);
    }

    #[test]
    fn a_name_with_a_slash_is_libvirts_invalid_operation() {
        let e = check_volume_name("<volume><name>a/b</name></volume>").unwrap_err();
        assert_eq!(e.code, ErrorCode::OperationInvalid);
        assert!(e.message.contains("cannot contain '/'"), "{}", e.message);
        assert!(check_volume_name("<volume><name>ab</name></volume>").is_ok());
        assert!(
            check_volume_name("<volume><name>a/b").is_ok(),
            "the reader says why"
        );
    }
}
