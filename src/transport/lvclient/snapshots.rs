//! Snapshots and block jobs as libvirt's calls, the ones virsh makes for
//! its `snapshot-*`, `blockcommit`, `blockpull`, `blockjob` and
//! `domblkinfo` verbs. A snapshot's information is its XML (as the daemon
//! records it: parent, creation time, state, disks), whether it is the
//! current one and how many children it has: three calls, as virsh's
//! `snapshot-info` makes them.

use super::conn::Conn;
use crate::driver::error::{Error, ErrorCode, Result};
use crate::driver::{
    BlockCommitFlags, BlockCopy, BlockInfo, BlockJobInfo, BlockJobKind, Domain, Snapshot,
    SnapshotCreateFlags, SnapshotDeleteFlags, SnapshotInfo, SnapshotRevertFlags,
};
use crate::model::xmlwrite::{Attrs, XmlWriter};
use crate::model::{SnapshotDef, SnapshotLocation, SnapshotState};
use crate::transport::libvirt::blockjobs::{BlockCommitArgs, BlockPathArgs, BlockPullArgs};
use crate::transport::libvirt::procedures::Caller;
use crate::transport::libvirt::types::*;

/// `VIR_DOMAIN_BLOCK_JOB_ABORT_PIVOT`.
const ABORT_PIVOT: u32 = 2;
/// `VIR_DOMAIN_BLOCK_JOB_INFO_BANDWIDTH_BYTES`.
const INFO_BYTES: u32 = 1;

fn handle(s: &Snapshot) -> Snap {
    Snap::of(s.clone())
}

fn snapshot(dom: &Domain, name: String) -> Snapshot {
    Snapshot {
        domain: dom.clone(),
        name,
    }
}

/// [`crate::Driver::snapshot_create_xml`]: the flags' bits are libvirt's.
pub(super) fn create(
    c: &Conn,
    dom: &Domain,
    xml: &str,
    flags: SnapshotCreateFlags,
) -> Result<Snapshot> {
    let ret = c.domain_snapshot_create_xml(SnapCreateArgs {
        dom: Dom::from(dom),
        xml_desc: xml.to_string(),
        flags: flags.bits(),
    })?;
    Ok(snapshot(dom, ret.snap.name))
}

/// [`crate::Driver::snapshot_list`]: every snapshot, in the daemon's
/// order (oldest first), each with its information.
pub(super) fn list(c: &Conn, dom: &Domain) -> Result<Vec<SnapshotInfo>> {
    let ret = c.domain_list_all_snapshots(SnapListAllArgs {
        dom: Dom::from(dom),
        need_results: 1,
        flags: 0,
    })?;
    ret.snapshots
        .into_iter()
        .map(|s| info(c, &snapshot(dom, s.name)))
        .collect()
}

/// [`crate::Driver::snapshot_lookup`].
pub(super) fn lookup(c: &Conn, dom: &Domain, name: &str) -> Result<Snapshot> {
    let ret = c.domain_snapshot_lookup_by_name(SnapLookupArgs {
        dom: Dom::from(dom),
        name: name.to_string(),
        flags: 0,
    })?;
    Ok(snapshot(dom, ret.snap.name))
}

/// [`crate::Driver::snapshot_current`]: libvirt's "no current snapshot"
/// is none.
pub(super) fn current(c: &Conn, dom: &Domain) -> Result<Option<Snapshot>> {
    let has = c.domain_has_current_snapshot(DomFlagsArgs {
        dom: Dom::from(dom),
        flags: 0,
    })?;
    if has.value == 0 {
        return Ok(None);
    }
    match c.domain_snapshot_current(DomFlagsArgs {
        dom: Dom::from(dom),
        flags: 0,
    }) {
        Ok(ret) => Ok(Some(snapshot(dom, ret.snap.name))),
        // Deleted between the two calls.
        Err(e) if e.code == ErrorCode::NoSnapshot => Ok(None),
        Err(e) => Err(e),
    }
}

/// [`crate::Driver::snapshot_info`].
pub(super) fn info(c: &Conn, snap: &Snapshot) -> Result<SnapshotInfo> {
    let def = SnapshotDef::from_stored_xml(&xml(c, snap)?).map_err(Error::from)?;
    let current = c
        .domain_snapshot_is_current(SnapFlagsArgs {
            snap: handle(snap),
            flags: 0,
        })?
        .value
        != 0;
    let children = c
        .domain_snapshot_num_children(SnapFlagsArgs {
            snap: handle(snap),
            flags: 0,
        })?
        .num;
    let mut info = SnapshotInfo::new(
        snap.name.clone(),
        def.creation_time.unwrap_or(0),
        def.state.unwrap_or(SnapshotState::Shutoff),
    );
    info.parent = def.parent;
    info.external = def
        .disks
        .iter()
        .any(|d| d.location == Some(SnapshotLocation::External));
    info.current = current;
    info.description = def.description;
    info.children = u32::try_from(children).unwrap_or(0);
    Ok(info)
}

/// [`crate::Driver::snapshot_xml`].
pub(super) fn xml(c: &Conn, snap: &Snapshot) -> Result<String> {
    Ok(c.domain_snapshot_get_xml_desc(SnapFlagsArgs {
        snap: handle(snap),
        flags: 0,
    })?
    .xml)
}

/// [`crate::Driver::snapshot_revert`]: the flags' bits are libvirt's.
pub(super) fn revert(c: &Conn, snap: &Snapshot, flags: SnapshotRevertFlags) -> Result<()> {
    c.domain_revert_to_snapshot(SnapFlagsArgs {
        snap: handle(snap),
        flags: flags.bits(),
    })
}

/// [`crate::Driver::snapshot_delete`]: the flags' bits are libvirt's.
pub(super) fn delete(c: &Conn, snap: &Snapshot, flags: SnapshotDeleteFlags) -> Result<()> {
    c.domain_snapshot_delete(SnapFlagsArgs {
        snap: handle(snap),
        flags: flags.bits(),
    })
}

/// [`crate::Driver::block_commit`]: the whole chain into its base, at
/// full speed.
pub(super) fn block_commit(
    c: &Conn,
    dom: &Domain,
    disk: &str,
    flags: BlockCommitFlags,
) -> Result<()> {
    c.domain_block_commit(BlockCommitArgs {
        dom: Dom::from(dom),
        disk: disk.to_string(),
        base: None,
        top: None,
        bandwidth: 0,
        flags: flags.bits(),
    })
}

/// [`crate::Driver::block_pull`].
pub(super) fn block_pull(c: &Conn, dom: &Domain, disk: &str) -> Result<()> {
    c.domain_block_pull(BlockPullArgs {
        dom: Dom::from(dom),
        path: disk.to_string(),
        bandwidth: 0,
        flags: 0,
    })
}

/// [`crate::Driver::block_copy`]: `virDomainBlockCopy`, the destination
/// as `<disk>` XML and the limits as typed parameters.
pub(super) fn block_copy(c: &Conn, dom: &Domain, disk: &str, copy: &BlockCopy) -> Result<()> {
    use crate::transport::libvirt::jobstats::{ParamValue, TypedParam};
    let device = std::fs::metadata(&copy.dest)
        .is_ok_and(|m| std::os::unix::fs::FileTypeExt::is_block_device(&m.file_type()));
    let mut w = XmlWriter::new();
    let (kind, attr) = if device {
        ("block", "dev")
    } else {
        ("file", "file")
    };
    w.open("disk", Attrs::new().add("type", kind));
    let path = copy.dest.to_string_lossy();
    w.empty("source", Attrs::new().add(attr, &path));
    if let Some(f) = copy.format {
        w.empty("driver", Attrs::new().add("type", f.as_str()));
    }
    w.close("disk");
    let mut params = Vec::new();
    let mut param = |field: &str, value| {
        params.push(TypedParam {
            field: field.to_string(),
            value,
        });
    };
    if copy.bandwidth > 0 {
        param("bandwidth", ParamValue::ULLong(copy.bandwidth));
    }
    if copy.granularity > 0 {
        param("granularity", ParamValue::UInt(copy.granularity));
    }
    if copy.buf_size > 0 {
        param("buf-size", ParamValue::ULLong(copy.buf_size));
    }
    c.domain_block_copy(BlockCopyArgs {
        dom: Dom::from(dom),
        path: disk.to_string(),
        destxml: w.finish(),
        params,
        flags: copy.flags.bits(),
    })
}

/// [`crate::Driver::block_job_info`]: libvirt's rule for two-phase jobs
/// read back, `cur == end` once the job is ready.
pub(super) fn block_job_info(c: &Conn, dom: &Domain, disk: &str) -> Result<Option<BlockJobInfo>> {
    let ret = c.domain_get_block_job_info(BlockPathArgs {
        dom: Dom::from(dom),
        path: disk.to_string(),
        flags: INFO_BYTES,
    })?;
    if ret.found == 0 {
        return Ok(None);
    }
    let kind = match ret.kind {
        1 => BlockJobKind::Pull,
        2 => BlockJobKind::Copy,
        3 => BlockJobKind::Commit,
        4 => BlockJobKind::ActiveCommit,
        k => {
            return Err(Error::new(
                ErrorCode::NoSupport,
                format!(
                    "disk {disk} runs a block job of libvirt's type {k}, which qvirt has no job for"
                ),
            ));
        }
    };
    Ok(Some(
        BlockJobInfo::new(kind, ret.cur, ret.end, ret.end > 0 && ret.cur == ret.end)
            .with_bandwidth(ret.bandwidth),
    ))
}

/// [`crate::Driver::block_job_set_speed`]: `virDomainBlockJobSetSpeed`
/// in bytes a second.
pub(super) fn block_job_set_speed(c: &Conn, dom: &Domain, disk: &str, bytes: u64) -> Result<()> {
    c.domain_block_job_set_speed(crate::transport::libvirt::types::BlockJobSetSpeedArgs {
        dom: Dom::from(dom),
        path: disk.to_string(),
        bandwidth: bytes,
        flags: 1,
    })
}

/// [`crate::Driver::block_job_abort`].
pub(super) fn block_job_abort(c: &Conn, dom: &Domain, disk: &str, pivot: bool) -> Result<()> {
    c.domain_block_job_abort(BlockPathArgs {
        dom: Dom::from(dom),
        path: disk.to_string(),
        flags: if pivot { ABORT_PIVOT } else { 0 },
    })
}

/// [`crate::Driver::block_info`].
pub(super) fn block_info(c: &Conn, dom: &Domain, disk: &str) -> Result<BlockInfo> {
    let ret = c.domain_get_block_info(BlockPathArgs {
        dom: Dom::from(dom),
        path: disk.to_string(),
        flags: 0,
    })?;
    Ok(BlockInfo::new(ret.capacity, ret.allocation, ret.physical))
}

/// `virDomainSetBlockThreshold`.
pub(super) fn set_block_threshold(c: &Conn, dom: &Domain, dev: &str, bytes: u64) -> Result<()> {
    c.domain_set_block_threshold(SetBlockThresholdArgs {
        dom: Dom::from(dom),
        dev: dev.to_string(),
        threshold: bytes,
        flags: 0,
    })
}

/// [`crate::Driver::block_resize`], in bytes.
pub(super) fn block_resize(c: &Conn, dom: &Domain, disk: &str, bytes: u64) -> Result<()> {
    use crate::transport::libvirt::drives::RESIZE_BYTES;
    c.domain_block_resize(BlockResizeArgs {
        dom: Dom::from(dom),
        disk: disk.to_string(),
        size: bytes,
        flags: RESIZE_BYTES,
    })
}
