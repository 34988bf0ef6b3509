//! A domain's CPU scheduler parameters as libvirt's calls give and set
//! them (virsh's `schedinfo`): the "posix" scheduler with `<cputune>`'s
//! `cpu_shares`, `vcpu_period`/`vcpu_quota`, `emulator_*`, `global_*`
//! and `iothread_*` in libvirt's order. qvirt writes them to the
//! domain's CPU cgroup when it starts and never after, so the running
//! domain's are its live definition's (0: not set, no limit written);
//! a change goes to the persistent definition (`--config`) and applies
//! at the next start, with libvirt's range checks; a change of the
//! running domain is refused by name.

use super::jobstats::{ParamValue, TypedParam, param};
use super::resources::not_running;
use super::types::{Dom, DomArgs};
use super::values::{affect, check_flags};
#[allow(unused_imports)]
use super::xdr::Xdr;
use super::xdr::xdr_struct;
use crate::driver::error::{Error, ErrorCode, Result};
use crate::driver::{Domain, DomainState, Driver, XmlFlags};
use crate::model::{CpuTune, DomainDef};

xdr_struct! {
    /// `remote_domain_get_scheduler_type_ret`.
    pub struct SchedTypeRet { pub kind: String, pub nparams: i32 }
    /// `remote_domain_get_scheduler_parameters_args`.
    pub struct SchedParamsArgs { pub dom: Dom, pub nparams: i32 }
    /// `remote_domain_get_scheduler_parameters_flags_args`.
    pub struct SchedParamsFlagsArgs { pub dom: Dom, pub nparams: i32, pub flags: u32 }
    /// `remote_domain_get_scheduler_parameters_ret` (and `_flags_ret`).
    pub struct SchedParamsRet { pub params: Vec<TypedParam> }
    /// `remote_domain_set_scheduler_parameters_args`.
    pub struct SetSchedArgs { pub dom: Dom, pub params: Vec<TypedParam> }
    /// `remote_domain_set_scheduler_parameters_flags_args`.
    pub struct SetSchedFlagsArgs { pub dom: Dom, pub params: Vec<TypedParam>, pub flags: u32 }
}

/// `REMOTE_DOMAIN_SCHEDULER_PARAMETERS_MAX`.
const PARAMETERS_MAX: usize = 16;
/// `VIR_TYPED_PARAM_STRING_OKAY`.
const STRING_OKAY: u32 = 1 << 2;
/// libvirt's ranges (`VIR_CGROUP_CPU_PERIOD_*`, `VIR_CGROUP_CPU_QUOTA_*`).
const PERIOD: (i64, i64) = (1000, 1_000_000);
const QUOTA: (i64, i64) = (1000, 17_592_186_044_415);

/// The parameters, libvirt's names in its order: `(name, is a quota)`.
const NAMES: [(&str, bool); 9] = [
    ("cpu_shares", false),
    ("vcpu_period", false),
    ("vcpu_quota", true),
    ("emulator_period", false),
    ("emulator_quota", true),
    ("global_period", false),
    ("global_quota", true),
    ("iothread_period", false),
    ("iothread_quota", true),
];

/// `<cputune>`'s values of the parameters, in [`NAMES`] order (0: none).
fn values(t: &CpuTune) -> [i64; 9] {
    let u = |v: Option<u64>| v.map_or(0, |v| v as i64);
    let q = |v: Option<i64>| v.unwrap_or(0);
    [
        u(t.shares),
        u(t.period),
        q(t.quota),
        u(t.emulator_period),
        q(t.emulator_quota),
        u(t.global_period),
        q(t.global_quota),
        u(t.iothread_period),
        q(t.iothread_quota),
    ]
}

/// `virDomainGetSchedulerType`: "posix", with its nine parameters.
pub fn scheduler_type(driver: &dyn Driver, a: DomArgs) -> Result<SchedTypeRet> {
    driver.info(&Domain::from(&a.dom))?;
    Ok(SchedTypeRet {
        kind: "posix".into(),
        nparams: NAMES.len() as i32,
    })
}

/// `virDomainGetSchedulerParameters`: as the flags' variant with
/// `VIR_DOMAIN_AFFECT_CURRENT`.
pub fn parameters(driver: &dyn Driver, a: SchedParamsArgs) -> Result<SchedParamsRet> {
    parameters_flags(
        driver,
        SchedParamsFlagsArgs {
            dom: a.dom,
            nparams: a.nparams,
            flags: 0,
        },
    )
}

/// `virDomainGetSchedulerParametersFlags`: the first `nparams`
/// parameters of the live definition (a running domain, or `--live`)
/// or the persistent one (`--config`, or a shut-off domain).
pub fn parameters_flags(driver: &dyn Driver, a: SchedParamsFlagsArgs) -> Result<SchedParamsRet> {
    check_flags(
        a.flags,
        affect::LIVE | affect::CONFIG | STRING_OKAY,
        "virDomainGetSchedulerParametersFlags",
    )?;
    let dom = Domain::from(&a.dom);
    let info = driver.info(&dom)?;
    let active = info.state != DomainState::Shutoff;
    let config = a.flags & affect::CONFIG != 0 || (a.flags & affect::LIVE == 0 && !active);
    if !config && !active {
        return Err(not_running(&dom));
    }
    let xml = driver.xml_desc(&dom, XmlFlags::inactive_if(config))?;
    let def = DomainDef::from_xml(&xml)?;
    let v = values(&def.cputune.unwrap_or_default());
    let max = usize::try_from(a.nparams).unwrap_or(0).min(PARAMETERS_MAX);
    Ok(SchedParamsRet {
        params: NAMES
            .iter()
            .zip(v)
            .take(max)
            .map(|((name, quota), v)| {
                param(
                    name,
                    if *quota {
                        ParamValue::LLong(v)
                    } else {
                        ParamValue::ULLong(v as u64)
                    },
                )
            })
            .collect(),
    })
}

/// `virDomainSetSchedulerParameters`: as the flags' variant with
/// `VIR_DOMAIN_AFFECT_CURRENT`.
pub fn set_parameters(driver: &dyn Driver, a: SetSchedArgs) -> Result<()> {
    set_parameters_flags(
        driver,
        SetSchedFlagsArgs {
            dom: a.dom,
            params: a.params,
            flags: 0,
        },
    )
}

/// `virDomainSetSchedulerParametersFlags`: into the persistent
/// definition's `<cputune>` (0 removes a period or quota), checked as
/// libvirt checks them; the running domain's are refused by name.
pub fn set_parameters_flags(driver: &dyn Driver, a: SetSchedFlagsArgs) -> Result<()> {
    const FUNCTION: &str = "virDomainSetSchedulerParametersFlags";
    check_flags(a.flags, affect::LIVE | affect::CONFIG, FUNCTION)?;
    let allowed: Vec<(&str, &str)> = NAMES
        .iter()
        .map(|(n, quota)| (*n, if *quota { "llong" } else { "ullong" }))
        .collect();
    super::tunables::validate_upto(&a.params, &allowed, PARAMETERS_MAX)?;
    let dom = Domain::from(&a.dom);
    let info = driver.info(&dom)?;
    let active = info.state != DomainState::Shutoff;
    let live = a.flags & affect::LIVE != 0 || (a.flags & affect::CONFIG == 0 && active);
    if live {
        return Err(Error::new(
            ErrorCode::NoSupport,
            format!(
                "{FUNCTION}: the scheduler parameters of running domain '{}' cannot change: qvirt writes <cputune> to the CPU cgroup when the domain starts; change the persistent definition (--config), which applies at the next start",
                dom.name
            ),
        ));
    }
    super::resources::redefine(driver, &dom, info.persistent, |def| {
        let t = def.cputune.get_or_insert_with(Box::default);
        for p in &a.params {
            let v = match p.value {
                ParamValue::ULLong(v) => i64::try_from(v).unwrap_or(i64::MAX),
                ParamValue::LLong(v) => v,
                _ => continue,
            };
            let range = match p.field.as_str() {
                "cpu_shares" => None,
                f if f.ends_with("_period") => Some(PERIOD),
                _ => Some(QUOTA),
            };
            if let Some((min, max)) = range
                && ((v > 0 && v < min) || v > max)
            {
                return Err(Error::new(
                    ErrorCode::InvalidArgument,
                    format!("value of '{}' is out of range [{min}, {max}]", p.field),
                ));
            }
            let period = (v != 0).then_some(v as u64);
            let quota = (v != 0).then_some(v);
            match p.field.as_str() {
                "cpu_shares" => t.shares = Some(v as u64),
                "vcpu_period" => t.period = period,
                "vcpu_quota" => t.quota = quota,
                "emulator_period" => t.emulator_period = period,
                "emulator_quota" => t.emulator_quota = quota,
                "global_period" => t.global_period = period,
                "global_quota" => t.global_quota = quota,
                "iothread_period" => t.iothread_period = period,
                _ => t.iothread_quota = quota,
            }
        }
        Ok(())
    })
}
