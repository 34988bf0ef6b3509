//! Storage pools and volumes as libvirt's calls, the ones virsh makes
//! for its `pool-*` and `vol-*` verbs. What libvirt splits over several
//! calls qvirt's API gives at once: a pool's information is
//! `virStoragePoolGetInfo` with its autostart and persistence, a
//! volume's is `virStorageVolGetInfo`, its physical size
//! (`VIR_STORAGE_VOL_GET_PHYSICAL`) and its format from its XML (libvirt
//! has no call for the format alone).

use std::path::{Path, PathBuf};

use super::conn::Conn;
use crate::driver::error::{Error, ErrorCode, Result};
use crate::driver::{
    Pool, PoolInfo, PoolState, PoolSummary, ResizeFlags, VolCreateFlags, Volume, VolumeInfo,
};
use crate::model::{VolumeFormat, Word};
use crate::transport::libvirt::procedures::Caller;
use crate::transport::libvirt::types::*;

/// `VIR_STORAGE_POOL_RUNNING`.
const POOL_RUNNING: u8 = 2;
/// `VIR_STORAGE_VOL_GET_PHYSICAL`.
const GET_PHYSICAL: u32 = 1;

fn sp(p: &Pool) -> StoragePool {
    StoragePool {
        name: p.name.clone(),
        uuid: p.uuid,
    }
}

fn pool(p: StoragePool) -> Pool {
    Pool {
        name: p.name,
        uuid: p.uuid,
    }
}

/// A volume handle: its key is its path, as qvirtd and libvirt's
/// directory pools make it.
fn sv(v: &Volume) -> StorageVol {
    StorageVol {
        pool: v.pool.clone(),
        name: v.name.clone(),
        key: v.path.to_string_lossy().into_owned(),
    }
}

fn vol(v: StorageVol) -> Volume {
    Volume {
        pool: v.pool,
        name: v.name,
        path: PathBuf::from(v.key),
    }
}

/// [`crate::Driver::list_pools`].
pub(super) fn list_pools(c: &Conn) -> Result<Vec<PoolSummary>> {
    let ret = c.connect_list_all_storage_pools(ListAllArgs {
        need_results: 1,
        flags: 0,
    })?;
    ret.pools
        .into_iter()
        .map(|p| {
            let p = pool(p);
            let info = pool_info(c, &p)?;
            Ok(PoolSummary::new(p, info))
        })
        .collect()
}

/// [`crate::Driver::pool_lookup_by_name`].
pub(super) fn pool_lookup_by_name(c: &Conn, name: &str) -> Result<Pool> {
    Ok(pool(
        c.storage_pool_lookup_by_name(NameArgs {
            name: name.to_string(),
        })?
        .pool,
    ))
}

/// [`crate::Driver::pool_define_xml`].
pub(super) fn pool_define_xml(c: &Conn, xml: &str) -> Result<Pool> {
    Ok(pool(
        c.storage_pool_define_xml(XmlFlagsArgs {
            xml: xml.to_string(),
            flags: 0,
        })?
        .pool,
    ))
}

/// [`crate::Driver::pool_build`].
pub(super) fn pool_build(c: &Conn, p: &Pool) -> Result<()> {
    c.storage_pool_build(PoolFlagsArgs {
        pool: sp(p),
        flags: 0,
    })
}

/// [`crate::Driver::pool_start`].
pub(super) fn pool_start(c: &Conn, p: &Pool) -> Result<()> {
    c.storage_pool_create(PoolFlagsArgs {
        pool: sp(p),
        flags: 0,
    })
}

/// [`crate::Driver::pool_destroy`].
pub(super) fn pool_destroy(c: &Conn, p: &Pool) -> Result<()> {
    c.storage_pool_destroy(PoolArgs { pool: sp(p) })
}

/// [`crate::Driver::pool_undefine`].
pub(super) fn pool_undefine(c: &Conn, p: &Pool) -> Result<()> {
    c.storage_pool_undefine(PoolArgs { pool: sp(p) })
}

/// [`crate::Driver::pool_info`].
pub(super) fn pool_info(c: &Conn, p: &Pool) -> Result<PoolInfo> {
    let i = c.storage_pool_get_info(PoolArgs { pool: sp(p) })?;
    let autostart = c
        .storage_pool_get_autostart(PoolArgs { pool: sp(p) })?
        .value
        != 0;
    let persistent = c
        .storage_pool_is_persistent(PoolArgs { pool: sp(p) })?
        .value
        != 0;
    let mut info = PoolInfo::inactive(autostart);
    info.persistent = persistent;
    if i.state == POOL_RUNNING {
        info.state = PoolState::Running;
        info.capacity = i.capacity;
        info.allocation = i.allocation;
        info.available = i.available;
    }
    Ok(info)
}

/// [`crate::Driver::pool_refresh`].
pub(super) fn pool_refresh(c: &Conn, p: &Pool) -> Result<()> {
    c.storage_pool_refresh(PoolFlagsArgs {
        pool: sp(p),
        flags: 0,
    })
}

/// [`crate::Driver::pool_xml`].
pub(super) fn pool_xml(c: &Conn, p: &Pool) -> Result<String> {
    Ok(c.storage_pool_get_xml_desc(PoolFlagsArgs {
        pool: sp(p),
        flags: 0,
    })?
    .xml)
}

/// [`crate::Driver::pool_set_autostart`].
pub(super) fn pool_set_autostart(c: &Conn, p: &Pool, on: bool) -> Result<()> {
    c.storage_pool_set_autostart(PoolSetAutostartArgs {
        pool: sp(p),
        autostart: i32::from(on),
    })
}

/// [`crate::Driver::list_volumes`].
pub(super) fn list_volumes(c: &Conn, p: &Pool) -> Result<Vec<Volume>> {
    let ret = c.storage_pool_list_all_volumes(PoolListAllVolumesArgs {
        pool: sp(p),
        need_results: 1,
        flags: 0,
    })?;
    Ok(ret.vols.into_iter().map(vol).collect())
}

/// [`crate::Driver::vol_lookup_by_name`].
pub(super) fn vol_lookup_by_name(c: &Conn, p: &Pool, name: &str) -> Result<Volume> {
    Ok(vol(c
        .storage_vol_lookup_by_name(VolLookupByNameArgs {
            pool: sp(p),
            name: name.to_string(),
        })?
        .vol))
}

/// [`crate::Driver::vol_lookup_by_path`].
pub(super) fn vol_lookup_by_path(c: &Conn, path: &Path) -> Result<Volume> {
    Ok(vol(c
        .storage_vol_lookup_by_path(PathArgs {
            path: path.to_string_lossy().into_owned(),
        })?
        .vol))
}

/// [`crate::Driver::vol_create_with`]: `virStorageVolCreateXML`, or
/// `virStorageVolCreateXMLFrom` for a copy of `from`; the flags' bits
/// are libvirt's.
pub(super) fn vol_create_with(
    c: &Conn,
    p: &Pool,
    xml: &str,
    from: Option<&Volume>,
    flags: VolCreateFlags,
) -> Result<Volume> {
    let ret = match from {
        None => c.storage_vol_create_xml(VolCreateArgs {
            pool: sp(p),
            xml: xml.to_string(),
            flags: flags.bits(),
        })?,
        Some(from) => c.storage_vol_create_xml_from(VolCreateFromArgs {
            pool: sp(p),
            xml: xml.to_string(),
            clonevol: sv(from),
            flags: flags.bits(),
        })?,
    };
    Ok(vol(ret.vol))
}

/// [`crate::Driver::vol_delete`].
pub(super) fn vol_delete(c: &Conn, v: &Volume) -> Result<()> {
    c.storage_vol_delete(VolFlagsArgs {
        vol: sv(v),
        flags: 0,
    })
}

/// [`crate::Driver::vol_info`].
pub(super) fn vol_info(c: &Conn, v: &Volume) -> Result<VolumeInfo> {
    let i = c.storage_vol_get_info(VolArgs { vol: sv(v) })?;
    let physical = c
        .storage_vol_get_info_flags(VolFlagsArgs {
            vol: sv(v),
            flags: GET_PHYSICAL,
        })?
        .allocation;
    let format = format_of(&vol_xml(c, v)?)?;
    Ok(VolumeInfo::new(i.capacity, i.allocation, physical, format))
}

/// The `<target><format type=>` of a volume's XML as the daemon reports
/// it. Only the format is read: a report is not a definition to check
/// (a small qcow2 volume's allocation, its metadata, passes its
/// capacity).
fn format_of(xml: &str) -> Result<VolumeFormat> {
    let doc = roxmltree::Document::parse(xml).map_err(|e| {
        Error::new(
            ErrorCode::Protocol,
            format!("the daemon's volume XML is not well-formed: {e}"),
        )
    })?;
    let word = doc
        .root_element()
        .children()
        .find(|n| n.has_tag_name("target"))
        .and_then(|t| t.children().find(|n| n.has_tag_name("format")))
        .and_then(|f| f.attribute("type"))
        .unwrap_or("raw");
    VolumeFormat::from_word(word).ok_or_else(|| {
        Error::new(
            ErrorCode::NoSupport,
            format!("the daemon's volume is of format '{word}', which qvirt does not handle"),
        )
    })
}

/// [`crate::Driver::vol_xml`].
pub(super) fn vol_xml(c: &Conn, v: &Volume) -> Result<String> {
    Ok(c.storage_vol_get_xml_desc(VolFlagsArgs {
        vol: sv(v),
        flags: 0,
    })?
    .xml)
}

/// [`crate::Driver::vol_resize`]: the flags' bits are libvirt's.
pub(super) fn vol_resize(c: &Conn, v: &Volume, capacity: u64, flags: ResizeFlags) -> Result<()> {
    c.storage_vol_resize(VolResizeArgs {
        vol: sv(v),
        capacity,
        flags: flags.bits(),
    })
}
