//! A disk's I/O throttle and a domain's disk errors, as libvirt's calls
//! give them (virsh's `blkdeviotune` without values and `domblkerror`):
//! a running domain's from its QEMU ([`Driver::disk_runtime`], QEMU's
//! `query-block`), a definition's from its `<iotune>`; virsh's
//! `blkdeviotune` with values changes it ([`Driver::set_block_iotune`]).
//! virsh's `blockresize` resizes a running domain's disk
//! ([`Driver::block_resize`]), `domblkthreshold` sets a disk's write
//! threshold ([`Driver::set_block_threshold`]).

use super::jobstats::{ParamValue, TypedParam, param};
use super::resources::{ParamsRet, flag, not_running, one_def};
use super::types::Dom;
use super::values::check_flags;
#[allow(unused_imports)]
use super::xdr::Xdr;
use super::xdr::xdr_struct;
use crate::driver::error::{Error, ErrorCode, Result};
use crate::driver::{BlockIoTuneChange, DiskRuntime, Domain, DomainState, Driver, ModifyFlags};
use crate::model::{DomainDef, IOTUNE_LIMITS};

xdr_struct! {
    /// `remote_domain_get_block_io_tune_args`.
    pub struct BlockIoTuneArgs { pub dom: Dom, pub disk: Option<String>, pub nparams: i32, pub flags: u32 }
    /// `remote_domain_set_block_io_tune_args`.
    pub struct SetBlockIoTuneArgs { pub dom: Dom, pub disk: String, pub params: Vec<TypedParam>, pub flags: u32 }
    /// `remote_domain_get_disk_errors_args`.
    pub struct DiskErrorsArgs { pub dom: Dom, pub maxerrors: u32, pub flags: u32 }
    /// `remote_domain_disk_error`.
    pub struct DiskError { pub disk: String, pub error: i32 }
    /// `remote_domain_get_disk_errors_ret`.
    pub struct DiskErrorsRet { pub errors: Vec<DiskError>, pub nerrors: i32 }
    /// `remote_domain_block_resize_args`.
    pub struct BlockResizeArgs { pub dom: Dom, pub disk: String, pub size: u64, pub flags: u32 }
    /// `remote_domain_set_block_threshold_args`.
    pub struct SetBlockThresholdArgs { pub dom: Dom, pub dev: String, pub threshold: u64, pub flags: u32 }
}

/// `VIR_DOMAIN_BLOCK_RESIZE_BYTES`: the size is in bytes, not KiB.
pub const RESIZE_BYTES: u32 = 1;

/// `virDomainSetBlockThreshold`: bytes, no flags.
pub fn set_block_threshold(driver: &dyn Driver, a: SetBlockThresholdArgs) -> Result<()> {
    check_flags(a.flags, 0, "virDomainSetBlockThreshold")?;
    driver.set_block_threshold(&Domain::from(&a.dom), &a.dev, a.threshold)
}

/// `virDomainBlockResize`: the size in KiB unless in bytes, as libvirt's
/// `qemuDomainBlockResize` reads it.
pub fn block_resize(driver: &dyn Driver, a: BlockResizeArgs) -> Result<()> {
    check_flags(a.flags, RESIZE_BYTES, "virDomainBlockResize")?;
    let bytes = if a.flags & RESIZE_BYTES != 0 {
        a.size
    } else {
        a.size.checked_mul(1024).ok_or_else(|| {
            Error::new(
                ErrorCode::LimitExceeded,
                format!("size must be less than {}", u64::MAX / 1024),
            )
        })?
    };
    driver.block_resize(&Domain::from(&a.dom), &a.disk, bytes)
}

/// `QEMU_NB_BLOCK_IO_TUNE_ALL_PARAMS`: the limits and the group name.
const IOTUNE_PARAMS: usize = 20;
/// Where libvirt puts the group name: after `size_iops_sec`.
const GROUP_AT: usize = 13;
/// `VIR_DOMAIN_BLOCK_IOTUNE_GROUP_NAME`.
pub const GROUP_NAME: &str = "group_name";
/// `REMOTE_DOMAIN_BLOCK_IO_TUNE_PARAMETERS_MAX`.
const IOTUNE_PARAMETERS_MAX: usize = 32;
/// `QEMU_BLOCK_IOTUNE_MAX`.
const IOTUNE_MAX: u64 = 1_000_000_000_000_000;
/// `REMOTE_DOMAIN_DISK_ERRORS_MAX`.
const DISK_ERRORS_MAX: u32 = 256;

/// The disk `path` names in `def`: by target or by source file, as
/// `virDomainDiskByName`.
fn disk_index(def: &DomainDef, path: &str) -> Option<usize> {
    def.devices
        .disks
        .iter()
        .position(|d| d.target == path || d.source.as_deref() == Some(path))
}

/// libvirt's parameters of a throttle: the limits in libvirt's order
/// with the group name among them.
pub fn iotune_params(limits: &[u64], group: Option<&str>) -> Vec<TypedParam> {
    let mut params: Vec<TypedParam> = IOTUNE_LIMITS
        .iter()
        .enumerate()
        .map(|(i, (name, _))| {
            param(
                name,
                ParamValue::ULLong(limits.get(i).copied().unwrap_or(0)),
            )
        })
        .collect();
    params.insert(
        GROUP_AT,
        param(
            GROUP_NAME,
            ParamValue::String(group.unwrap_or_default().to_string()),
        ),
    );
    params
}

/// `virDomainGetBlockIoTune`: the throttle of disk `disk` (its target
/// or file): the running QEMU's for a live read of a running domain, else
/// the definition's `<iotune>`. With no room (`nparams` 0), their number.
pub fn block_io_tune(driver: &dyn Driver, a: BlockIoTuneArgs) -> Result<ParamsRet> {
    check_flags(a.flags, 3 | flag::STRING_OKAY, "virDomainGetBlockIoTune")?;
    let dom = Domain::from(&a.dom);
    let def = one_def(driver, &dom, a.flags & 3)?;
    if a.nparams == 0 {
        return Ok(ParamsRet {
            params: Vec::new(),
            nparams: IOTUNE_PARAMS as i32,
        });
    }
    if a.nparams < 0 {
        return Err(Error::new(
            ErrorCode::InvalidArgument,
            format!("nparams {} is negative", a.nparams),
        ));
    }
    let path = a.disk.unwrap_or_default();
    let live = a.flags & 2 == 0 && driver.info(&dom)?.state != DomainState::Shutoff;
    let Some(i) = disk_index(&def, &path) else {
        let message = if live {
            format!("disk '{path}' not found in domain")
        } else {
            format!("disk '{path}' was not found in the domain config")
        };
        return Err(Error::new(ErrorCode::InvalidArgument, message));
    };
    let mut params = if live {
        let target = &def.devices.disks[i].target;
        let drive = driver
            .disk_runtime(&dom)?
            .into_iter()
            .find(|d| &d.target == target)
            .unwrap_or_default();
        iotune_params(&drive.iotune, drive.group.as_deref())
    } else {
        let t = def.devices.disks[i]
            .iotune
            .as_deref()
            .cloned()
            .unwrap_or_default();
        let limits: Vec<u64> = IOTUNE_LIMITS.iter().map(|(n, _)| t.get(n)).collect();
        iotune_params(&limits, t.group_name.as_deref())
    };
    params.truncate(a.nparams as usize);
    Ok(ParamsRet { params, nparams: 0 })
}

/// `virDomainSetBlockIoTune` (virsh's `blkdeviotune` with values): the
/// limits (unsigned long long) and the group name (a string), each
/// once, checked as libvirt checks them before the driver merges them.
pub fn set_block_io_tune(driver: &dyn Driver, a: SetBlockIoTuneArgs) -> Result<()> {
    check_flags(a.flags, 3, "virDomainSetBlockIoTune")?;
    let mut allowed: Vec<(&str, &str)> =
        IOTUNE_LIMITS.iter().map(|(n, _)| (*n, "ullong")).collect();
    allowed.push((GROUP_NAME, "string"));
    super::tunables::validate_upto(&a.params, &allowed, IOTUNE_PARAMETERS_MAX)?;
    let mut limits = Vec::new();
    let mut group = None;
    for p in a.params {
        match p.value {
            ParamValue::ULLong(v) if v > IOTUNE_MAX => {
                return Err(super::frame::libvirt_error(
                    super::frame::code::ARGUMENT_UNSUPPORTED,
                    ErrorCode::NoSupport,
                    format!("block I/O throttle limit value must be no more than {IOTUNE_MAX}"),
                ));
            }
            ParamValue::ULLong(v) => limits.push((p.field, v)),
            ParamValue::String(g) => group = Some(g),
            _ => {}
        }
    }
    let flags = ModifyFlags::new(a.flags & 1 != 0, a.flags & 2 != 0);
    let change = BlockIoTuneChange::new(limits, group);
    driver.set_block_iotune(&Domain::from(&a.dom), &a.disk, &change, flags)
}

/// The parameters of `virDomainSetBlockIoTune` for `change`.
pub fn set_block_io_tune_params(change: &BlockIoTuneChange) -> Vec<TypedParam> {
    let mut params: Vec<TypedParam> = change
        .limits
        .iter()
        .map(|(n, v)| param(n, ParamValue::ULLong(*v)))
        .collect();
    if let Some(g) = &change.group_name {
        params.push(param(GROUP_NAME, ParamValue::String(g.clone())));
    }
    params
}

/// libvirt's code of QEMU's I/O status (`virDomainDiskErrorCode`): 0
/// none, 1 unspecified, 2 no space.
pub fn error_code(io_status: &str) -> i32 {
    match io_status {
        "failed" => 1,
        "nospace" => 2,
        _ => 0,
    }
}

/// `virDomainGetDiskErrors`: the disks of a running domain whose I/O
/// stopped on an error, as QEMU reports them; with no room (`maxerrors`
/// 0), the number of disks.
pub fn disk_errors(driver: &dyn Driver, a: DiskErrorsArgs) -> Result<DiskErrorsRet> {
    check_flags(a.flags, 0, "virDomainGetDiskErrors")?;
    if a.maxerrors > DISK_ERRORS_MAX {
        return Err(Error::new(
            ErrorCode::Internal,
            "maxerrors > REMOTE_DOMAIN_DISK_ERRORS_MAX",
        ));
    }
    let dom = Domain::from(&a.dom);
    if driver.info(&dom)?.state == DomainState::Shutoff {
        return Err(not_running(&dom));
    }
    let drives: Vec<DiskRuntime> = driver.disk_runtime(&dom)?;
    if a.maxerrors == 0 {
        return Ok(DiskErrorsRet {
            errors: Vec::new(),
            nerrors: drives.len() as i32,
        });
    }
    let errors: Vec<DiskError> = drives
        .into_iter()
        .filter(|d| error_code(&d.io_status) != 0)
        .map(|d| DiskError {
            error: error_code(&d.io_status),
            disk: d.target,
        })
        .take(a.maxerrors as usize)
        .collect();
    Ok(DiskErrorsRet {
        nerrors: errors.len() as i32,
        errors,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_group_name_sits_after_the_size_as_libvirt_puts_it() {
        let p = iotune_params(&[5], Some("g"));
        assert_eq!(p.len(), IOTUNE_PARAMS);
        assert_eq!(p[0], param("total_bytes_sec", ParamValue::ULLong(5)));
        assert_eq!(p[12].field, "size_iops_sec");
        assert_eq!(p[13], param("group_name", ParamValue::String("g".into())));
        assert_eq!(p[14].field, "total_bytes_sec_max_length");
    }
}
