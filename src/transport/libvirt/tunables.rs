//! libvirt's calls for a domain's `<memtune>` and `<blkiotune>`:
//! `virDomainGetMemoryParameters` and `virDomainGetBlkioParameters`
//! (virsh's `memtune` and `blkiotune` without values) read the
//! definition, `virDomainSetMemoryParameters` and
//! `virDomainSetBlkioParameters` (with values) change it through
//! [`Driver::set_memtune`] and [`Driver::set_blkiotune`]. Typed
//! parameters are checked as libvirt's `virTypedParamsValidate` checks
//! them: known names, each once, of its type; the client side
//! ([`memtune_params`], [`blkiotune_params`]) writes them the same way.

use super::jobstats::{ParamValue, TypedParam, param};
use super::resources::{ParamsRet, flag, one_def};
use super::types::Dom;
use super::values::check_flags;
#[allow(unused_imports)]
use super::xdr::Xdr;
use super::xdr::xdr_struct;
use crate::driver::error::{Error, ErrorCode, Result};
use crate::driver::{BlkioTuneChange, Domain, Driver, MemTuneChange, ModifyFlags};

xdr_struct! {
    /// `remote_domain_get_memory_parameters_args` and
    /// `remote_domain_get_blkio_parameters_args`.
    pub struct TunableArgs { pub dom: Dom, pub nparams: i32, pub flags: u32 }
    /// `remote_domain_set_memory_parameters_args` and
    /// `remote_domain_set_blkio_parameters_args`.
    pub struct SetTunableArgs { pub dom: Dom, pub params: Vec<TypedParam>, pub flags: u32 }
}

/// `REMOTE_DOMAIN_MEMORY_PARAMETERS_MAX` and
/// `REMOTE_DOMAIN_BLKIO_PARAMETERS_MAX`.
const PARAMETERS_MAX: usize = 16;

/// The memory limits, libvirt's names (`VIR_DOMAIN_MEMORY_*`).
const HARD_LIMIT: &str = "hard_limit";
const SOFT_LIMIT: &str = "soft_limit";
const SWAP_HARD_LIMIT: &str = "swap_hard_limit";

/// The block I/O settings, libvirt's names (`VIR_DOMAIN_BLKIO_*`).
const WEIGHT: &str = "weight";
const DEVICE_WEIGHT: &str = "device_weight";
const DEVICE_READ_IOPS: &str = "device_read_iops_sec";
const DEVICE_WRITE_IOPS: &str = "device_write_iops_sec";
const DEVICE_READ_BPS: &str = "device_read_bytes_sec";
const DEVICE_WRITE_BPS: &str = "device_write_bytes_sec";

/// libvirt's name of a typed parameter's type.
pub(super) fn type_name(v: &ParamValue) -> &'static str {
    match v {
        ParamValue::Int(_) => "int",
        ParamValue::UInt(_) => "uint",
        ParamValue::LLong(_) => "llong",
        ParamValue::ULLong(_) => "ullong",
        ParamValue::Double(_) => "double",
        ParamValue::Boolean(_) => "boolean",
        ParamValue::String(_) => "string",
    }
}

/// Checks `params` as `virTypedParamsValidate` does: at most libvirt's
/// number, each named in `allowed` (name, type) once and of its type.
fn validate(params: &[TypedParam], allowed: &[(&str, &str)]) -> Result<()> {
    validate_upto(params, allowed, PARAMETERS_MAX)
}

/// [`validate`] with the protocol's limit `max`.
pub(super) fn validate_upto(
    params: &[TypedParam],
    allowed: &[(&str, &str)],
    max: usize,
) -> Result<()> {
    if params.len() > max {
        return Err(Error::new(
            ErrorCode::LimitExceeded,
            format!(
                "{} parameters are more than libvirt's protocol carries ({max})",
                params.len()
            ),
        ));
    }
    for (i, p) in params.iter().enumerate() {
        let Some((_, want)) = allowed.iter().find(|(name, _)| *name == p.field) else {
            return Err(Error::new(
                ErrorCode::NoSupport,
                format!("parameter '{}' not supported", p.field),
            ));
        };
        if type_name(&p.value) != *want {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                format!(
                    "invalid type '{}' for parameter '{}', expected '{want}'",
                    type_name(&p.value),
                    p.field
                ),
            ));
        }
        if params[..i].iter().any(|q| q.field == p.field) {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                format!("parameter '{}' occurs multiple times", p.field),
            ));
        }
    }
    Ok(())
}

/// `VIR_DOMAIN_AFFECT_LIVE` and `_CONFIG` of `flags`.
fn modify(flags: u32) -> ModifyFlags {
    ModifyFlags::new(flags & 1 != 0, flags & 2 != 0)
}

/// `virDomainSetMemoryParameters` (virsh's `memtune` with values): the
/// limits in KiB, libvirt's "unlimited" removing one.
pub fn set_memory_parameters(driver: &dyn Driver, a: SetTunableArgs) -> Result<()> {
    check_flags(a.flags, 3, "virDomainSetMemoryParameters")?;
    validate(
        &a.params,
        &[
            (HARD_LIMIT, "ullong"),
            (SOFT_LIMIT, "ullong"),
            (SWAP_HARD_LIMIT, "ullong"),
        ],
    )?;
    let mut change = MemTuneChange::default();
    for p in &a.params {
        let ParamValue::ULLong(v) = p.value else {
            continue;
        };
        match p.field.as_str() {
            HARD_LIMIT => change.hard_limit_kib = Some(v),
            SOFT_LIMIT => change.soft_limit_kib = Some(v),
            _ => change.swap_hard_limit_kib = Some(v),
        }
    }
    driver.set_memtune(&Domain::from(&a.dom), &change, modify(a.flags))
}

/// `virDomainSetBlkioParameters` (virsh's `blkiotune` with values): the
/// weight, and per-device lists as `path,value,path,value`.
pub fn set_blkio_parameters(driver: &dyn Driver, a: SetTunableArgs) -> Result<()> {
    check_flags(a.flags, 3, "virDomainSetBlkioParameters")?;
    validate(
        &a.params,
        &[
            (WEIGHT, "uint"),
            (DEVICE_WEIGHT, "string"),
            (DEVICE_READ_IOPS, "string"),
            (DEVICE_WRITE_IOPS, "string"),
            (DEVICE_READ_BPS, "string"),
            (DEVICE_WRITE_BPS, "string"),
        ],
    )?;
    let mut change = BlkioTuneChange::default();
    for p in &a.params {
        match (&p.value, p.field.as_str()) {
            (ParamValue::UInt(w), _) => change.weight = Some(*w),
            (ParamValue::String(text), field) => {
                let list = BlkioTuneChange::parse_device_list(field, text)?;
                *match field {
                    DEVICE_WEIGHT => &mut change.device_weight,
                    DEVICE_READ_IOPS => &mut change.device_read_iops_sec,
                    DEVICE_WRITE_IOPS => &mut change.device_write_iops_sec,
                    DEVICE_READ_BPS => &mut change.device_read_bytes_sec,
                    _ => &mut change.device_write_bytes_sec,
                } = list;
            }
            _ => {}
        }
    }
    driver.set_blkiotune(&Domain::from(&a.dom), &change, modify(a.flags))
}

/// The parameters of `virDomainSetMemoryParameters` for `change`.
pub fn memtune_params(change: &MemTuneChange) -> Vec<TypedParam> {
    [
        (HARD_LIMIT, change.hard_limit_kib),
        (SOFT_LIMIT, change.soft_limit_kib),
        (SWAP_HARD_LIMIT, change.swap_hard_limit_kib),
    ]
    .into_iter()
    .filter_map(|(name, v)| v.map(|v| param(name, ParamValue::ULLong(v))))
    .collect()
}

/// The parameters of `virDomainSetBlkioParameters` for `change` (a list
/// that is empty changes nothing, and is left out).
pub fn blkiotune_params(change: &BlkioTuneChange) -> Vec<TypedParam> {
    let mut params: Vec<TypedParam> = change
        .weight
        .map(|w| param(WEIGHT, ParamValue::UInt(w)))
        .into_iter()
        .collect();
    let lists = [
        (DEVICE_WEIGHT, &change.device_weight),
        (DEVICE_READ_IOPS, &change.device_read_iops_sec),
        (DEVICE_WRITE_IOPS, &change.device_write_iops_sec),
        (DEVICE_READ_BPS, &change.device_read_bytes_sec),
        (DEVICE_WRITE_BPS, &change.device_write_bytes_sec),
    ];
    for (name, list) in lists {
        if !list.is_empty() {
            let text = BlkioTuneChange::format_device_list(list);
            params.push(param(name, ParamValue::String(text)));
        }
    }
    params
}

/// The tunables `params`, or with no room for them (`nparams` 0) their
/// number, as libvirt's remote daemon answers; a smaller room gets the
/// first ones.
pub(super) fn tunables(mut params: Vec<TypedParam>, nparams: i32) -> Result<ParamsRet> {
    if nparams < 0 {
        return Err(Error::new(
            ErrorCode::InvalidArgument,
            format!("nparams {nparams} is negative"),
        ));
    }
    if nparams == 0 {
        return Ok(ParamsRet {
            params: Vec::new(),
            nparams: params.len() as i32,
        });
    }
    params.truncate(nparams as usize);
    Ok(ParamsRet { params, nparams: 0 })
}

/// `virDomainGetMemoryParameters` (virsh's `memtune`): the `<memtune>`
/// limits of the definition `flags` names, in KiB, libvirt's "unlimited"
/// for those not set. A running domain's are the ones its memory cgroup
/// was given at start.
pub fn memory_parameters(driver: &dyn Driver, a: TunableArgs) -> Result<ParamsRet> {
    check_flags(
        a.flags,
        3 | flag::STRING_OKAY,
        "virDomainGetMemoryParameters",
    )?;
    let def = one_def(driver, &Domain::from(&a.dom), a.flags & 3)?;
    let m = def.memtune.unwrap_or_default();
    let limit =
        |v: Option<u64>| ParamValue::ULLong(v.unwrap_or(crate::model::MemTune::UNLIMITED_KIB));
    tunables(
        vec![
            param("hard_limit", limit(m.hard_limit_kib)),
            param("soft_limit", limit(m.soft_limit_kib)),
            param("swap_hard_limit", limit(m.swap_hard_limit_kib)),
        ],
        a.nparams,
    )
}

/// `virDomainGetBlkioParameters` (virsh's `blkiotune`): the `<blkiotune>`
/// weight (0: none set) and, for a client that takes strings, each
/// per-device setting as libvirt lists it (`path,value,path,value`).
pub fn blkio_parameters(driver: &dyn Driver, a: TunableArgs) -> Result<ParamsRet> {
    check_flags(
        a.flags,
        3 | flag::STRING_OKAY,
        "virDomainGetBlkioParameters",
    )?;
    let def = one_def(driver, &Domain::from(&a.dom), a.flags & 3)?;
    let b = def.blkiotune.map(|b| *b).unwrap_or_default();
    let mut params = vec![param("weight", ParamValue::UInt(b.weight.unwrap_or(0)))];
    if a.flags & flag::STRING_OKAY != 0 {
        let list = |value: &dyn Fn(&crate::model::BlkioDevice) -> Option<u64>| {
            b.devices
                .iter()
                .filter_map(|d| value(d).map(|v| format!("{},{v}", d.path)))
                .collect::<Vec<_>>()
                .join(",")
        };
        let lists = [
            ("device_weight", list(&|d| d.weight.map(u64::from))),
            (
                "device_read_iops_sec",
                list(&|d| d.read_iops_sec.map(u64::from)),
            ),
            (
                "device_write_iops_sec",
                list(&|d| d.write_iops_sec.map(u64::from)),
            ),
            ("device_read_bytes_sec", list(&|d| d.read_bytes_sec)),
            ("device_write_bytes_sec", list(&|d| d.write_bytes_sec)),
        ];
        for (name, v) in lists {
            params.push(param(name, ParamValue::String(v)));
        }
    }
    tunables(params, a.nparams)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_checked_as_libvirt_checks_them() {
        let allowed = [(HARD_LIMIT, "ullong")];
        let ok = [param(HARD_LIMIT, ParamValue::ULLong(1))];
        assert!(validate(&ok, &allowed).is_ok());
        let unknown = [param("min_guarantee", ParamValue::ULLong(1))];
        let e = validate(&unknown, &allowed).unwrap_err();
        assert_eq!(e.code, ErrorCode::NoSupport);
        assert!(e.message.contains("'min_guarantee' not supported"), "{e}");
        let typed = [param(HARD_LIMIT, ParamValue::UInt(1))];
        let e = validate(&typed, &allowed).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidArgument);
        assert!(e.message.contains("expected 'ullong'"), "{e}");
        let twice = [ok[0].clone(), ok[0].clone()];
        assert!(
            validate(&twice, &allowed)
                .unwrap_err()
                .message
                .contains("multiple")
        );
        let many = vec![ok[0].clone(); PARAMETERS_MAX + 1];
        assert_eq!(
            validate(&many, &allowed).unwrap_err().code,
            ErrorCode::LimitExceeded
        );
    }

    #[test]
    fn the_client_writes_what_the_server_reads() {
        let m = MemTuneChange {
            hard_limit_kib: Some(262_144),
            swap_hard_limit_kib: Some(crate::model::MemTune::UNLIMITED_KIB),
            ..MemTuneChange::default()
        };
        let p = memtune_params(&m);
        assert_eq!(p.len(), 2);
        assert_eq!(p[1].field, SWAP_HARD_LIMIT);
        let b = BlkioTuneChange {
            weight: Some(500),
            device_read_bytes_sec: vec![("/dev/loop0".into(), 7), ("/dev/loop1".into(), 0)],
            ..BlkioTuneChange::default()
        };
        let p = blkiotune_params(&b);
        assert_eq!(p.len(), 2, "{p:?}");
        assert_eq!(
            p[1].value,
            ParamValue::String("/dev/loop0,7,/dev/loop1,0".into())
        );
        let ParamValue::String(text) = &p[1].value else {
            unreachable!()
        };
        assert_eq!(
            BlkioTuneChange::parse_device_list(DEVICE_READ_BPS, text).unwrap(),
            b.device_read_bytes_sec
        );
    }
}
