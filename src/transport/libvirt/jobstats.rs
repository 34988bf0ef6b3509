//! `virDomainGetJobStats`: the running job, or with `COMPLETED` the last
//! one that ended, as libvirt's typed parameters (`remote_typed_param`),
//! which virsh's `domjobinfo` and `domjobinfo --completed` read.

use super::types::Dom;
use super::values::{check_flags, job as kind};
use super::xdr::{Dec, Enc, Xdr, malformed, xdr_struct};
use std::time::Duration;

use crate::driver::error::{Error, ErrorCode, Result};
use crate::driver::{CompletedJob, Driver, JobInfo, JobKind, JobOutcome};

/// A typed parameter's value (`remote_typed_param_value`), by libvirt's
/// type number. A double is carried as its bits, so that the type stays
/// comparable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamValue {
    /// 1: int.
    Int(i32),
    /// 2: unsigned int.
    UInt(u32),
    /// 3: long long.
    LLong(i64),
    /// 4: unsigned long long.
    ULLong(u64),
    /// 5: double, as its IEEE 754 bits.
    Double(u64),
    /// 6: boolean.
    Boolean(bool),
    /// 7: string.
    String(String),
}

impl Default for ParamValue {
    fn default() -> ParamValue {
        ParamValue::Int(0)
    }
}

impl Xdr for ParamValue {
    fn put(&self, e: &mut Enc) {
        match self {
            ParamValue::Int(v) => {
                1i32.put(e);
                v.put(e)
            }
            ParamValue::UInt(v) => {
                2i32.put(e);
                v.put(e)
            }
            ParamValue::LLong(v) => {
                3i32.put(e);
                v.put(e)
            }
            ParamValue::ULLong(v) => {
                4i32.put(e);
                v.put(e)
            }
            ParamValue::Double(bits) => {
                5i32.put(e);
                bits.put(e)
            }
            ParamValue::Boolean(v) => {
                6i32.put(e);
                i32::from(*v).put(e)
            }
            ParamValue::String(v) => {
                7i32.put(e);
                v.put(e)
            }
        }
    }
    fn get(d: &mut Dec<'_>) -> Result<ParamValue> {
        Ok(match i32::get(d)? {
            1 => ParamValue::Int(i32::get(d)?),
            2 => ParamValue::UInt(u32::get(d)?),
            3 => ParamValue::LLong(i64::get(d)?),
            4 => ParamValue::ULLong(u64::get(d)?),
            5 => ParamValue::Double(u64::get(d)?),
            6 => ParamValue::Boolean(i32::get(d)? != 0),
            7 => ParamValue::String(String::get(d)?),
            t => return Err(malformed(format!("typed parameter of type {t}"))),
        })
    }
}

xdr_struct! {
    /// `remote_typed_param`.
    pub struct TypedParam { pub field: String, pub value: ParamValue }
    /// `remote_domain_get_job_stats_args`.
    pub struct JobStatsArgs { pub dom: Dom, pub flags: u32 }
    /// `remote_domain_get_job_stats_ret`.
    pub struct JobStatsRet { pub kind: i32, pub params: Vec<TypedParam> }
    /// `remote_domain_get_control_info_ret`.
    pub struct ControlInfoRet { pub state: u32, pub details: u32, pub state_time: u64 }
}

/// `VIR_DOMAIN_JOB_STATS_COMPLETED` and `_KEEP_COMPLETED`.
const COMPLETED: u32 = 1;
const KEEP_COMPLETED: u32 = 2;

/// libvirt's `virDomainJobOperation` for a qvirt job.
fn operation(k: JobKind) -> i32 {
    match k {
        JobKind::Save | JobKind::ManagedSave => 2,
        JobKind::Restore => 3,
        JobKind::IncomingMigration => 4,
        JobKind::Migration => 5,
        JobKind::Snapshot => 6,
        JobKind::SnapshotRevert => 7,
        JobKind::SnapshotDelete => 10,
        JobKind::Dump => 8,
    }
}

/// The qvirt job of libvirt's operation `op`, for a client reading a
/// daemon's figures: the inverse of [`operation`], but that libvirt's
/// one `SAVE` stands for both a save and a managed save (read as a
/// save). `None` for the operations qvirt has no job of (`START`,
/// `BACKUP`, unknown).
fn kind_of(op: i32) -> Option<JobKind> {
    Some(match op {
        2 => JobKind::Save,
        3 => JobKind::Restore,
        4 => JobKind::IncomingMigration,
        5 => JobKind::Migration,
        6 => JobKind::Snapshot,
        7 => JobKind::SnapshotRevert,
        8 => JobKind::Dump,
        10 => JobKind::SnapshotDelete,
        _ => return None,
    })
}

/// A job's figures from libvirt's parameters (what [`figures`] writes;
/// a parameter left out is 0). An operation qvirt has no job of is an
/// error naming it.
fn info_of(params: &[TypedParam]) -> Result<JobInfo> {
    let number = |name: &str| {
        params
            .iter()
            .find(|p| p.field == name)
            .map_or(0, |p| match p.value {
                ParamValue::ULLong(v) => v,
                ParamValue::UInt(v) => u64::from(v),
                ParamValue::LLong(v) => u64::try_from(v).unwrap_or(0),
                ParamValue::Int(v) => u64::try_from(v).unwrap_or(0),
                _ => 0,
            })
    };
    let op = params
        .iter()
        .find(|p| p.field == "operation")
        .map_or(0, |p| match p.value {
            ParamValue::Int(v) => v,
            _ => 0,
        });
    let kind = kind_of(op).ok_or_else(|| {
        Error::new(
            ErrorCode::NoSupport,
            format!(
                "the daemon runs a job of libvirt's operation {op}, which qvirt has no job for"
            ),
        )
    })?;
    let mut info = JobInfo::new(kind);
    info.elapsed = Duration::from_millis(number("time_elapsed"));
    info.data_total = number("data_total");
    info.data_processed = number("data_processed");
    info.data_remaining = number("data_remaining");
    info.speed = number("memory_bps");
    Ok(info)
}

/// The running job as a client reads a `virDomainGetJobStats` reply
/// (flags 0).
pub fn running_of(ret: &JobStatsRet) -> Result<Option<JobInfo>> {
    match ret.kind {
        kind::NONE => Ok(None),
        _ => info_of(&ret.params).map(Some),
    }
}

/// The last finished job as a client reads a `virDomainGetJobStats`
/// reply with `COMPLETED`; see [`completed`].
pub fn completed_of(ret: &JobStatsRet) -> Result<Option<CompletedJob>> {
    let outcome = match ret.kind {
        kind::NONE => return Ok(None),
        kind::COMPLETED => JobOutcome::Completed,
        kind::CANCELLED => JobOutcome::Cancelled,
        _ => JobOutcome::Failed,
    };
    let downtime = ret
        .params
        .iter()
        .find(|p| p.field == "downtime")
        .and_then(|p| match p.value {
            ParamValue::ULLong(ms) => Some(Duration::from_millis(ms)),
            _ => None,
        });
    Ok(Some(CompletedJob::new(
        outcome,
        info_of(&ret.params)?,
        downtime,
    )))
}

/// `VIR_DOMAIN_CONTROL_OK` and `_JOB`.
const CONTROL_OK: u32 = 0;
const CONTROL_JOB: u32 = 1;

/// `virDomainGetControlInfo` (virsh's `domcontrol`): whether the manager
/// can take a request for the running domain now (`ok`), or a long job
/// holds it (`job`, with how long it has run, ms).
pub fn control_info(driver: &dyn Driver, a: super::types::DomFlagsArgs) -> Result<ControlInfoRet> {
    check_flags(a.flags, 0, "virDomainGetControlInfo")?;
    let dom = a.dom.into();
    if driver.info(&dom)?.state == crate::driver::DomainState::Shutoff {
        return Err(Error::new(
            ErrorCode::OperationInvalid,
            format!("domain '{}' is not running", dom.name),
        ));
    }
    Ok(match driver.job_info(&dom)? {
        None => ControlInfoRet {
            state: CONTROL_OK,
            details: 0,
            state_time: 0,
        },
        Some(job) => ControlInfoRet {
            state: CONTROL_JOB,
            details: 0,
            state_time: u64::try_from(job.elapsed.as_millis()).unwrap_or(u64::MAX),
        },
    })
}

/// `VIR_DOMAIN_JOB_STATS_COMPLETED`, for a client's call.
pub const STATS_COMPLETED: u32 = COMPLETED;

pub(super) fn param(field: &str, value: ParamValue) -> TypedParam {
    TypedParam {
        field: field.to_string(),
        value,
    }
}

/// The parameters of a job's figures, as libvirt names them.
fn figures(i: &JobInfo) -> Vec<TypedParam> {
    let ms = u64::try_from(i.elapsed.as_millis()).unwrap_or(u64::MAX);
    let mut out = vec![
        param("operation", ParamValue::Int(operation(i.kind))),
        param("time_elapsed", ParamValue::ULLong(ms)),
    ];
    if i.data_total > 0 {
        out.extend([
            param("data_total", ParamValue::ULLong(i.data_total)),
            param("data_processed", ParamValue::ULLong(i.data_processed)),
            param("data_remaining", ParamValue::ULLong(i.data_remaining)),
        ]);
    }
    if i.speed > 0 {
        out.push(param("memory_bps", ParamValue::ULLong(i.speed)));
    }
    out
}

/// A finished job's figures as `virDomainGetJobStats` with
/// `VIR_DOMAIN_JOB_STATS_COMPLETED` (and the job completed event) have
/// them.
pub fn completed(c: CompletedJob) -> JobStatsRet {
    let kind = match c.outcome {
        JobOutcome::Completed => kind::COMPLETED,
        JobOutcome::Cancelled => kind::CANCELLED,
        JobOutcome::Failed => kind::FAILED,
    };
    let mut params = figures(&c.info);
    let downtime = c.total_downtime.or(c.downtime);
    if let Some(d) = downtime {
        let ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        params.push(param("downtime", ParamValue::ULLong(ms)));
    }
    JobStatsRet { kind, params }
}

/// `virDomainGetJobStats`.
pub fn job_stats(driver: &dyn Driver, a: JobStatsArgs) -> Result<JobStatsRet> {
    check_flags(a.flags, COMPLETED | KEEP_COMPLETED, "virDomainGetJobStats")?;
    let dom = a.dom.into();
    if a.flags & COMPLETED != 0 {
        return Ok(driver
            .job_completed(&dom)?
            .map_or_else(JobStatsRet::default, completed));
    }
    Ok(match driver.job_info(&dom)? {
        None => JobStatsRet {
            kind: kind::NONE,
            params: Vec::new(),
        },
        Some(i) => JobStatsRet {
            kind: kind::UNBOUNDED,
            params: figures(&i),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::libvirt::xdr::{from_bytes, to_bytes};

    #[test]
    fn a_client_reads_back_the_figures_written() {
        let mut info = JobInfo::new(JobKind::Restore);
        info.elapsed = Duration::from_millis(1052);
        info.data_total = 300;
        info.data_processed = 100;
        info.data_remaining = 200;
        info.speed = 7;
        let ret = JobStatsRet {
            kind: kind::UNBOUNDED,
            params: figures(&info),
        };
        assert_eq!(running_of(&ret).unwrap(), Some(info.clone()));
        let done = CompletedJob::new(JobOutcome::Cancelled, info, Some(Duration::from_millis(9)));
        assert_eq!(completed_of(&completed(done.clone())).unwrap(), Some(done));
        assert_eq!(completed_of(&JobStatsRet::default()).unwrap(), None);
        let backup = JobStatsRet {
            kind: kind::UNBOUNDED,
            params: vec![param("operation", ParamValue::Int(9))],
        };
        let e = running_of(&backup).unwrap_err();
        assert_eq!(e.code, ErrorCode::NoSupport);
        assert!(e.message.contains("operation 9"), "{e}");
    }

    #[test]
    fn typed_parameters_round_trip() {
        let ret = JobStatsRet {
            kind: kind::COMPLETED,
            params: vec![
                param("operation", ParamValue::Int(5)),
                param("time_elapsed", ParamValue::ULLong(1052)),
                param("success", ParamValue::Boolean(true)),
                param("errmsg", ParamValue::String("none".into())),
                param("x", ParamValue::Double(2.5f64.to_bits())),
                param("y", ParamValue::UInt(7)),
                param("z", ParamValue::LLong(-3)),
            ],
        };
        let bytes = to_bytes(&ret);
        // kind, count, then the first: "operation" (4 + 12 bytes), type 1, 5.
        assert_eq!(&bytes[..8], &[0, 0, 0, 3, 0, 0, 0, 7]);
        assert_eq!(&bytes[24..32], &[0, 0, 0, 1, 0, 0, 0, 5]);
        assert_eq!(from_bytes::<JobStatsRet>(&bytes, "job stats").unwrap(), ret);
        assert!(from_bytes::<ParamValue>(&[0, 0, 0, 9, 0, 0, 0, 0], "value").is_err());
    }
}
