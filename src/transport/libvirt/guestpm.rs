//! libvirt's calls on the guest's own file systems, vCPUs and power
//! (virsh's `domfstrim`, `guestvcpus`, `dompmsuspend`, `dompmwakeup`),
//! with libvirt's checks of the arguments made here, where its client
//! sends them, before the driver is asked: through the agent's calls
//! ([`AgentCall`]) and [`Driver::pm_wakeup`].

use super::frame::{code, libvirt_error};
use super::jobstats::{ParamValue, TypedParam};
use super::types::DomFlagsArgs;
use super::values::check_flags;
#[allow(unused_imports)]
use super::xdr::Xdr;
use super::xdr::xdr_struct;
use crate::driver::error::{Error, ErrorCode, Result};
use crate::driver::{AgentCall, Domain, Driver, GuestValue, PmTarget};

xdr_struct! {
    /// `remote_domain_fstrim_args`.
    pub struct FsTrimArgs { pub dom: super::types::Dom, pub mount_point: Option<String>, pub minimum: u64, pub flags: u32 }
    /// `remote_domain_get_guest_vcpus_ret`.
    pub struct GuestVcpusRet { pub params: Vec<TypedParam> }
    /// `remote_domain_set_guest_vcpus_args`.
    pub struct SetGuestVcpusArgs { pub dom: super::types::Dom, pub cpumap: String, pub state: i32, pub flags: u32 }
    /// `remote_domain_pm_suspend_for_duration_args`.
    pub struct PmSuspendArgs { pub dom: super::types::Dom, pub target: u32, pub duration: u64, pub flags: u32 }
}

/// `virDomainFSTrim`: every mounted file system (libvirt takes no mount
/// point).
pub fn fs_trim(driver: &dyn Driver, a: FsTrimArgs) -> Result<()> {
    check_flags(a.flags, 0, "virDomainFSTrim")?;
    if a.mount_point.is_some() {
        return Err(Error::new(
            ErrorCode::ArgumentUnsupported,
            "Specifying mount point is not supported for now",
        ));
    }
    let call = AgentCall::FsTrim { minimum: a.minimum };
    driver.agent_call(&Domain::from(&a.dom), call).map(drop)
}

/// `virDomainGetGuestVcpus`: `vcpus`, `online` and `offlinable` as
/// libvirt's string parameters.
pub fn get_guest_vcpus(driver: &dyn Driver, a: DomFlagsArgs) -> Result<GuestVcpusRet> {
    check_flags(a.flags, 0, "virDomainGetGuestVcpus")?;
    let fields = driver
        .agent_call(&Domain::from(&a.dom), AgentCall::GuestVcpus)?
        .fields()?;
    let params = fields
        .into_iter()
        .map(|(field, v)| TypedParam {
            field,
            value: match v {
                GuestValue::Text(s) => ParamValue::String(s),
                other => ParamValue::String(format!("{other:?}")),
            },
        })
        .collect();
    Ok(GuestVcpusRet { params })
}

/// `virDomainSetGuestVcpus`: `state` 1 online, 0 offline. A vCPU that
/// cannot go offline is libvirt's `VIR_ERR_OPERATION_UNSUPPORTED`.
pub fn set_guest_vcpus(driver: &dyn Driver, a: SetGuestVcpusArgs) -> Result<()> {
    check_flags(a.flags, 0, "virDomainSetGuestVcpus")?;
    if a.state != 0 && a.state != 1 {
        return Err(Error::new(
            ErrorCode::InvalidArgument,
            format!("unsupported state value {}", a.state),
        ));
    }
    let call = AgentCall::SetGuestVcpus {
        cpumap: a.cpumap,
        enable: a.state == 1,
    };
    driver
        .agent_call(&Domain::from(&a.dom), call)
        .map(drop)
        .map_err(operation_unsupported)
}

/// `virDomainPMSuspendForDuration`: no duration (libvirt takes none
/// either), a known target.
pub fn pm_suspend(driver: &dyn Driver, a: PmSuspendArgs) -> Result<()> {
    check_flags(a.flags, 0, "virDomainPMSuspendForDuration")?;
    if a.duration != 0 {
        return Err(Error::new(
            ErrorCode::ArgumentUnsupported,
            "Duration not supported. Use 0 for now",
        ));
    }
    let call = AgentCall::PmSuspend(PmTarget::from_number(a.target)?);
    driver
        .agent_call(&Domain::from(&a.dom), call)
        .map(drop)
        .map_err(operation_unsupported)
}

/// `virDomainPMWakeup`.
pub fn pm_wakeup(driver: &dyn Driver, a: DomFlagsArgs) -> Result<()> {
    check_flags(a.flags, 0, "virDomainPMWakeup")?;
    driver.pm_wakeup(&Domain::from(&a.dom))
}

/// The driver's `NoSupport` of these calls (a vCPU that cannot go
/// offline, a machine that cannot wake) as libvirt's code for it.
fn operation_unsupported(e: Error) -> Error {
    if e.code != ErrorCode::NoSupport {
        return e;
    }
    libvirt_error(code::OPERATION_UNSUPPORTED, e.code, e.message)
}
