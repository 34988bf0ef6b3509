//! libvirt's block job procedures (`virDomainBlockCommit`, `BlockPull`,
//! `BlockRebase` without a base, `GetBlockJobInfo`, `BlockJobAbort`,
//! `GetBlockInfo`) on qvirt's block jobs: the XDR shapes of
//! `remote_protocol.x` and libvirt's flags and job types, so that virsh's
//! `blockcommit`, `blockpull`, `blockjob` and `domblkinfo` work.

use super::types::Dom;
use super::values::check_flags;
#[allow(unused_imports)]
use super::xdr::Xdr;
use super::xdr::xdr_struct;
use crate::driver::error::{Error, ErrorCode, Result};
use crate::driver::{BlockCommitFlags, Driver};

xdr_struct! {
    /// `remote_domain_block_commit_args`.
    pub struct BlockCommitArgs {
        pub dom: Dom,
        pub disk: String,
        pub base: Option<String>,
        pub top: Option<String>,
        pub bandwidth: u64,
        pub flags: u32,
    }
    /// `remote_domain_block_pull_args`.
    pub struct BlockPullArgs { pub dom: Dom, pub path: String, pub bandwidth: u64, pub flags: u32 }
    /// `remote_domain_block_rebase_args`.
    pub struct BlockRebaseArgs {
        pub dom: Dom,
        pub path: String,
        pub base: Option<String>,
        pub bandwidth: u64,
        pub flags: u32,
    }
    /// `remote_domain_block_job_abort_args`, `remote_domain_get_block_job_info_args`,
    /// `remote_domain_block_job_set_speed_args`.
    pub struct BlockJobSetSpeedArgs { pub dom: Dom, pub path: String, pub bandwidth: u64, pub flags: u32 }
    /// `remote_domain_get_block_info_args`: a disk of a domain, with flags.
    pub struct BlockPathArgs { pub dom: Dom, pub path: String, pub flags: u32 }
    /// `remote_domain_get_block_job_info_ret`.
    pub struct BlockJobInfoRet { pub found: i32, pub kind: i32, pub bandwidth: u64, pub cur: u64, pub end: u64 }
    /// `remote_domain_get_block_info_ret`.
    pub struct BlockInfoRet { pub allocation: u64, pub capacity: u64, pub physical: u64 }
}

/// `VIR_DOMAIN_BLOCK_COMMIT_ACTIVE`.
const COMMIT_ACTIVE: u32 = 4;
/// `VIR_DOMAIN_BLOCK_JOB_ABORT_ASYNC` and `_PIVOT`.
const ABORT_ASYNC: u32 = 1;
const ABORT_PIVOT: u32 = 2;
/// `VIR_DOMAIN_BLOCK_JOB_INFO_BANDWIDTH_BYTES`.
const INFO_BYTES: u32 = 1;
/// `VIR_DOMAIN_BLOCK_JOB_SPEED_BANDWIDTH_BYTES`.
const SPEED_BYTES: u32 = 1;
/// `VIR_DOMAIN_BLOCK_PULL_BANDWIDTH_BYTES` (and `_REBASE_`).
const PULL_BYTES: u32 = 1 << 6;
/// `VIR_DOMAIN_BLOCK_COMMIT_BANDWIDTH_BYTES`.
const COMMIT_BYTES: u32 = 1 << 4;

/// libvirt's bandwidth in bytes a second: as given with `bytes` (the
/// call's `..._BANDWIDTH_BYTES` flag), else MiB/s.
pub(super) fn bytes_of(bandwidth: u64, bytes: bool) -> Result<u64> {
    if bytes {
        return Ok(bandwidth);
    }
    bandwidth
        .checked_mul(1 << 20)
        .filter(|b| *b <= i64::MAX as u64)
        .ok_or_else(|| {
            Error::new(
                ErrorCode::InvalidArgument,
                format!("bandwidth must be less than {}", (i64::MAX as u64) >> 20),
            )
        })
}

/// Gives the job just started on `disk` its speed limit, if one was
/// asked for (QEMU's `block-job-set-speed`, before any data moved that a
/// limit would hold back: the job's first turn waits on the monitor).
fn limit(driver: &dyn Driver, dom: &Dom, disk: &str, bytes_per_s: u64) -> Result<()> {
    if bytes_per_s == 0 {
        return Ok(());
    }
    driver.block_job_set_speed(&dom.into(), disk, bytes_per_s)
}

/// `virDomainBlockCommit`: an active commit of the whole chain into its
/// base, the only commit qvirt makes.
pub fn commit(driver: &dyn Driver, a: BlockCommitArgs) -> Result<()> {
    check_flags(
        a.flags,
        COMMIT_ACTIVE | COMMIT_BYTES,
        "virDomainBlockCommit",
    )?;
    let speed = bytes_of(a.bandwidth, a.flags & COMMIT_BYTES != 0)?;
    if a.base.is_some() || a.top.is_some() {
        return Err(Error::new(
            ErrorCode::NoSupport,
            "virDomainBlockCommit: qvirt commits the whole chain into its base image; give neither base nor top",
        ));
    }
    let flags = BlockCommitFlags::from_bits(a.flags & !COMMIT_BYTES).unwrap_or_default();
    driver.block_commit(&a.dom.clone().into(), &a.disk, flags)?;
    limit(driver, &a.dom, &a.disk, speed)
}

/// `virDomainBlockPull`.
pub fn pull(driver: &dyn Driver, a: BlockPullArgs) -> Result<()> {
    check_flags(a.flags, PULL_BYTES, "virDomainBlockPull")?;
    let speed = bytes_of(a.bandwidth, a.flags & PULL_BYTES != 0)?;
    driver.block_pull(&a.dom.clone().into(), &a.path)?;
    limit(driver, &a.dom, &a.path, speed)
}

/// `virDomainBlockRebase` without a base: a pull of the whole chain; with
/// `VIR_DOMAIN_BLOCK_REBASE_COPY`, a copy (`blockcopy`).
pub fn rebase(driver: &dyn Driver, a: BlockRebaseArgs) -> Result<()> {
    // VIR_DOMAIN_BLOCK_REBASE_COPY: virsh's blockcopy.
    if a.flags & super::blockcopy::REBASE_COPY != 0 {
        return super::blockcopy::rebase_copy(driver, a.dom, &a.path, a.base, a.bandwidth, a.flags);
    }
    check_flags(a.flags, PULL_BYTES, "virDomainBlockRebase")?;
    let speed = bytes_of(a.bandwidth, a.flags & PULL_BYTES != 0)?;
    if a.base.is_some() {
        return Err(Error::new(
            ErrorCode::NoSupport,
            "virDomainBlockRebase: qvirt pulls the whole chain into the active layer; give no base",
        ));
    }
    driver.block_pull(&a.dom.clone().into(), &a.path)?;
    limit(driver, &a.dom, &a.path, speed)
}

/// `virDomainBlockJobSetSpeed`: MiB/s, or bytes a second with
/// `VIR_DOMAIN_BLOCK_JOB_SPEED_BANDWIDTH_BYTES`.
pub fn set_speed(driver: &dyn Driver, a: BlockJobSetSpeedArgs) -> Result<()> {
    check_flags(a.flags, SPEED_BYTES, "virDomainBlockJobSetSpeed")?;
    let speed = bytes_of(a.bandwidth, a.flags & SPEED_BYTES != 0)?;
    driver.block_job_set_speed(&a.dom.into(), &a.path, speed)
}

/// `virDomainGetBlockJobInfo`, with libvirt's rule for two-phase jobs:
/// `cur == end` only once the job is ready.
pub fn job_info(driver: &dyn Driver, a: BlockPathArgs) -> Result<BlockJobInfoRet> {
    check_flags(a.flags, INFO_BYTES, "virDomainGetBlockJobInfo")?;
    let Some(job) = driver.block_job_info(&a.dom.into(), &a.path)? else {
        return Ok(BlockJobInfoRet::default());
    };
    let kind = super::values::job_type(job.kind);
    let end = job.end.max(1);
    let cur = if job.ready { end } else { job.cur.min(end - 1) };
    // libvirt's MiB/s unless bytes were asked for.
    let bandwidth = if a.flags & INFO_BYTES != 0 {
        job.bandwidth
    } else {
        job.bandwidth >> 20
    };
    Ok(BlockJobInfoRet {
        found: 1,
        kind,
        bandwidth,
        cur,
        end,
    })
}

/// `virDomainBlockJobAbort`: a cancel, or with `PIVOT` the switch of a
/// ready active commit to its base or of a ready copy to the copy; qvirt's ends are synchronous, so
/// `ASYNC` asks for nothing more.
pub fn abort(driver: &dyn Driver, a: BlockPathArgs) -> Result<()> {
    check_flags(a.flags, ABORT_ASYNC | ABORT_PIVOT, "virDomainBlockJobAbort")?;
    driver.block_job_abort(&a.dom.into(), &a.path, a.flags & ABORT_PIVOT != 0)
}

/// `virDomainGetBlockInfo`.
pub fn block_info(driver: &dyn Driver, a: BlockPathArgs) -> Result<BlockInfoRet> {
    check_flags(a.flags, 0, "virDomainGetBlockInfo")?;
    let i = driver.block_info(&a.dom.into(), &a.path)?;
    Ok(BlockInfoRet {
        allocation: i.allocation,
        capacity: i.capacity,
        physical: i.physical,
    })
}
