//! A domain's settings read as libvirt's typed parameters, from the
//! definition the flags name (the running one's is what QEMU and the host
//! were given at start):
//!
//! - `virDomainGetInterfaceParameters` (virsh's `domiftune`): an
//!   interface's `<bandwidth>`, libvirt's `inbound.*` and `outbound.*`;
//! - `virDomainGetNumaParameters` (virsh's `numatune`): `<numatune>`'s
//!   memory mode and host nodes;
//! - `virDomainGetPerfEvents` (virsh's `perf`): every perf event libvirt
//!   knows, each disabled, as qvirt opens no perf counters (`<perf>`
//!   refuses `enabled='yes'`);
//! - `virDomainGetLaunchSecurityInfo`: nothing for a domain without
//!   `<launchSecurity>`.

use super::jobstats::{ParamValue, TypedParam, param};
use super::resources::{ParamsRet, find_interface, flag, one_def};
use super::tunables::{TunableArgs, tunables};
use super::types::Dom;
use super::values::check_flags;
#[allow(unused_imports)]
use super::xdr::Xdr;
use super::xdr::xdr_struct;
use crate::driver::error::{Error, ErrorCode, Result};
use crate::driver::{Domain, DomainState, Driver};
use crate::model::{BandwidthRate, NumaMode, PerfEventName, parse_cpuset};

xdr_struct! {
    /// `remote_domain_get_interface_parameters_args`.
    pub struct InterfaceParamsArgs { pub dom: Dom, pub device: String, pub nparams: i32, pub flags: u32 }
    /// `remote_domain_get_perf_events_args` and
    /// `remote_domain_get_launch_security_info_args`.
    pub struct DomParamsArgs { pub dom: Dom, pub flags: u32 }
    /// `remote_domain_get_perf_events_ret` and
    /// `remote_domain_get_launch_security_info_ret`.
    pub struct DomParamsRet { pub params: Vec<TypedParam> }
}

/// `VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG |
/// VIR_TYPED_PARAM_STRING_OKAY`.
const AFFECT_OR_STRING: u32 = 3 | flag::STRING_OKAY;

/// `virDomainGetInterfaceParameters`: the interface's `<bandwidth>` (0
/// where not set; `floor`, which qvirt does not take, is 0).
pub fn interface_parameters(driver: &dyn Driver, a: InterfaceParamsArgs) -> Result<ParamsRet> {
    check_flags(a.flags, AFFECT_OR_STRING, "virDomainGetInterfaceParameters")?;
    let def = one_def(driver, &Domain::from(&a.dom), a.flags & 3)?;
    if a.nparams == 0 {
        // The number of parameters, whatever the device.
        return Ok(ParamsRet {
            params: Vec::new(),
            nparams: 7,
        });
    }
    let b = find_interface(&def, &a.device)?
        .bandwidth
        .unwrap_or_default();
    // libvirt's parameters are unsigned ints, as it stores them.
    let of = |r: Option<BandwidthRate>, f: fn(&BandwidthRate) -> Option<u64>| {
        ParamValue::UInt(r.as_ref().and_then(f).unwrap_or(0) as u32)
    };
    tunables(
        vec![
            param("inbound.average", of(b.inbound, |r| Some(r.average))),
            param("inbound.peak", of(b.inbound, |r| r.peak)),
            param("inbound.burst", of(b.inbound, |r| r.burst)),
            param("inbound.floor", ParamValue::UInt(0)),
            param("outbound.average", of(b.outbound, |r| Some(r.average))),
            param("outbound.peak", of(b.outbound, |r| r.peak)),
            param("outbound.burst", of(b.outbound, |r| r.burst)),
        ],
        a.nparams,
    )
}

/// libvirt's number of a NUMA memory mode (`virDomainNumatuneMemMode`).
pub(super) fn mode_number(m: NumaMode) -> i32 {
    match m {
        NumaMode::Strict => 0,
        NumaMode::Preferred => 1,
        NumaMode::Interleave => 2,
        NumaMode::Restrictive => 3,
    }
}

/// A node set as libvirt's `virBitmapFormat` writes it: ranges, in order.
fn format_set(nodes: &[u32]) -> String {
    let mut sorted = nodes.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < sorted.len() {
        let start = sorted[i];
        while i + 1 < sorted.len() && sorted[i + 1] == sorted[i] + 1 {
            i += 1;
        }
        parts.push(if sorted[i] == start {
            start.to_string()
        } else {
            format!("{start}-{}", sorted[i])
        });
        i += 1;
    }
    parts.join(",")
}

/// `virDomainGetNumaParameters`: `<numatune><memory>`'s mode (strict when
/// not written) and host nodes (empty when none are named).
pub fn numa_parameters(driver: &dyn Driver, a: TunableArgs) -> Result<ParamsRet> {
    check_flags(a.flags, AFFECT_OR_STRING, "virDomainGetNumaParameters")?;
    let def = one_def(driver, &Domain::from(&a.dom), a.flags & 3)?;
    let memory = def.numatune.as_ref().and_then(|t| t.memory.as_ref());
    let mode = memory.and_then(|m| m.mode).unwrap_or(NumaMode::Strict);
    let nodeset = memory
        .and_then(|m| m.nodeset.as_deref())
        .and_then(parse_cpuset)
        .map(|n| format_set(&n))
        .unwrap_or_default();
    tunables(
        vec![
            param("numa_mode", ParamValue::Int(mode_number(mode))),
            param("numa_nodeset", ParamValue::String(nodeset)),
        ],
        a.nparams,
    )
}

/// `virDomainGetPerfEvents`: each of libvirt's events, disabled.
pub fn perf_events(driver: &dyn Driver, a: DomParamsArgs) -> Result<DomParamsRet> {
    check_flags(a.flags, AFFECT_OR_STRING, "virDomainGetPerfEvents")?;
    let def = one_def(driver, &Domain::from(&a.dom), a.flags & 3)?;
    Ok(DomParamsRet {
        params: PerfEventName::ALL
            .iter()
            .map(|e| {
                let on = def.perf.iter().any(|p| p.name == *e && p.enabled);
                param(e.as_str(), ParamValue::Boolean(on))
            })
            .collect(),
    })
}

/// `virDomainGetLaunchSecurityInfo`: nothing for a domain without
/// `<launchSecurity>`; of a SEV domain that is not running, libvirt's
/// `VIR_ERR_OPERATION_INVALID` "domain is not running"; a running SEV
/// guest's launch measurement is not read.
pub fn launch_security_info(driver: &dyn Driver, a: DomParamsArgs) -> Result<DomParamsRet> {
    check_flags(a.flags, flag::STRING_OKAY, "virDomainGetLaunchSecurityInfo")?;
    let dom = Domain::from(&a.dom);
    let def = one_def(driver, &dom, 0)?;
    if def.launch_security.is_some() && driver.info(&dom)?.state == DomainState::Shutoff {
        return Err(Error::new(
            ErrorCode::OperationInvalid,
            "Requested operation is not valid: domain is not running",
        ));
    }
    if def.launch_security.is_some() {
        return Err(Error::new(
            ErrorCode::NoSupport,
            "reading a SEV guest's launch measurement (query-sev-launch-measure) is not supported by qvirtd",
        ));
    }
    Ok(DomParamsRet { params: Vec::new() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_sets_are_written_as_libvirt_writes_bitmaps() {
        assert_eq!(format_set(&[3, 0, 1, 2, 5, 7, 8]), "0-3,5,7-8");
        assert_eq!(format_set(&[0]), "0");
        assert_eq!(format_set(&[]), "");
    }
}
