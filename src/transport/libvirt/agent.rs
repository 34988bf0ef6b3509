//! libvirt's calls that the QEMU guest agent answers (virsh's
//! `domhostname`, `domtime`, `domfsfreeze`, `domfsthaw`, `shutdown` and
//! `reboot` with `--mode agent`), through [`GuestAgent`]; the agent's
//! absence and silence reach the client as libvirt's
//! `VIR_ERR_ARGUMENT_UNSUPPORTED` and `VIR_ERR_AGENT_UNRESPONSIVE`.

use super::jobstats::{ParamValue, TypedParam};
use super::types::{DomFlagsArgs, HostnameRet};
use super::values::check_flags;
#[allow(unused_imports)]
use super::xdr::Xdr;
use super::xdr::xdr_struct;
use crate::driver::error::{Error, ErrorCode, Result};
use crate::driver::{Domain, Driver, GuestAgent, GuestValue, ShutdownOptions};

xdr_struct! {
    /// `remote_domain_get_time_ret`.
    pub struct TimeRet { pub seconds: i64, pub nseconds: u32 }
    /// `remote_domain_set_time_args`.
    pub struct SetTimeArgs { pub dom: super::types::Dom, pub seconds: i64, pub nseconds: u32, pub flags: u32 }
    /// `remote_domain_fsfreeze_args` and `remote_domain_fsthaw_args`.
    pub struct FsFreezeArgs { pub dom: super::types::Dom, pub mountpoints: Vec<String>, pub flags: u32 }
    /// `remote_domain_fsfreeze_ret` and `remote_domain_fsthaw_ret`.
    pub struct FsCountRet { pub filesystems: i32 }
    /// `remote_domain_get_guest_info_args`.
    pub struct GuestInfoArgs { pub dom: super::types::Dom, pub types: u32, pub flags: u32 }
    /// `remote_domain_get_guest_info_ret`.
    pub struct GuestInfoRet { pub params: Vec<TypedParam> }
    /// `remote_domain_fsinfo`.
    pub struct FsInfo { pub mountpoint: String, pub name: String, pub fstype: String, pub dev_aliases: Vec<String> }
    /// `remote_domain_get_fsinfo_ret`.
    pub struct FsInfoRet { pub info: Vec<FsInfo>, pub ret: u32 }
    /// `remote_domain_set_user_password_args`.
    pub struct SetUserPasswordArgs { pub dom: super::types::Dom, pub user: Option<String>, pub password: Option<String>, pub flags: u32 }
    /// `remote_domain_authorized_ssh_keys_get_args`.
    pub struct SshKeysGetArgs { pub dom: super::types::Dom, pub user: String, pub flags: u32 }
    /// `remote_domain_authorized_ssh_keys_get_ret`.
    pub struct SshKeysRet { pub keys: Vec<String> }
    /// `remote_domain_agent_set_response_timeout_args`.
    pub struct AgentTimeoutArgs { pub dom: super::types::Dom, pub timeout: i32, pub flags: u32 }
    /// `remote_domain_agent_set_response_timeout_ret` (`result` 0).
    pub struct AgentTimeoutRet { pub result: i32 }
    /// `remote_domain_authorized_ssh_keys_set_args`.
    pub struct SshKeysSetArgs { pub dom: super::types::Dom, pub user: String, pub keys: Vec<String>, pub flags: u32 }
}

/// `VIR_DOMAIN_PASSWORD_ENCRYPTED`.
const PASSWORD_ENCRYPTED: u32 = 1;
/// `VIR_DOMAIN_AUTHORIZED_SSH_KEYS_SET_APPEND` and `_REMOVE`.
const KEYS_APPEND: u32 = 1;
const KEYS_REMOVE: u32 = 2;
/// `REMOTE_DOMAIN_AUTHORIZED_SSH_KEYS_MAX`.
const KEYS_MAX: usize = 2048;

/// `REMOTE_DOMAIN_FSINFO_MAX`.
const FSINFO_MAX: usize = 256;

/// `virDomainGetFSInfo`: the guest's file systems with the targets of
/// the domain's disks under them.
pub fn fs_info(driver: &dyn Driver, a: DomFlagsArgs) -> Result<FsInfoRet> {
    check_flags(a.flags, 0, "virDomainGetFSInfo")?;
    let info: Vec<FsInfo> = driver
        .fs_info(&Domain::from(&a.dom))?
        .into_iter()
        .map(|f| FsInfo {
            mountpoint: f.mountpoint,
            name: f.name,
            fstype: f.fstype,
            dev_aliases: f.disks,
        })
        .collect();
    if info.len() > FSINFO_MAX {
        return Err(Error::new(
            ErrorCode::LimitExceeded,
            format!(
                "the guest has {} file systems, more than {FSINFO_MAX}",
                info.len()
            ),
        ));
    }
    Ok(FsInfoRet {
        ret: info.len() as u32,
        info,
    })
}

/// `virDomainSetUserPassword`.
pub fn set_user_password(driver: &dyn Driver, a: SetUserPasswordArgs) -> Result<()> {
    check_flags(a.flags, PASSWORD_ENCRYPTED, "virDomainSetUserPassword")?;
    let (Some(user), Some(password)) = (a.user, a.password) else {
        return Err(Error::new(
            ErrorCode::InvalidArgument,
            "virDomainSetUserPassword needs a user and a password",
        ));
    };
    driver.set_user_password(
        &Domain::from(&a.dom),
        &user,
        &password,
        a.flags & PASSWORD_ENCRYPTED != 0,
    )
}

/// `virDomainAgentSetResponseTimeout`.
pub fn set_response_timeout(driver: &dyn Driver, a: AgentTimeoutArgs) -> Result<AgentTimeoutRet> {
    check_flags(a.flags, 0, "virDomainAgentSetResponseTimeout")?;
    driver.set_agent_timeout(&Domain::from(&a.dom), a.timeout)?;
    Ok(AgentTimeoutRet { result: 0 })
}

/// `virDomainAuthorizedSSHKeysGet`.
pub fn ssh_keys_get(driver: &dyn Driver, a: SshKeysGetArgs) -> Result<SshKeysRet> {
    check_flags(a.flags, 0, "virDomainAuthorizedSSHKeysGet")?;
    let keys = driver.ssh_keys(&Domain::from(&a.dom), &a.user)?;
    if keys.len() > KEYS_MAX {
        return Err(Error::new(
            ErrorCode::LimitExceeded,
            format!("the guest has {} keys, more than {KEYS_MAX}", keys.len()),
        ));
    }
    Ok(SshKeysRet { keys })
}

/// `virDomainAuthorizedSSHKeysSet`: replace, `APPEND` or `REMOVE`.
pub fn ssh_keys_set(driver: &dyn Driver, a: SshKeysSetArgs) -> Result<()> {
    check_flags(
        a.flags,
        KEYS_APPEND | KEYS_REMOVE,
        "virDomainAuthorizedSSHKeysSet",
    )?;
    driver.set_ssh_keys(
        &Domain::from(&a.dom),
        &a.user,
        &a.keys,
        a.flags & KEYS_APPEND != 0,
        a.flags & KEYS_REMOVE != 0,
    )
}

/// `VIR_DOMAIN_GET_HOSTNAME_LEASE` and `_AGENT`.
const HOSTNAME_LEASE: u32 = 1;
const HOSTNAME_AGENT: u32 = 2;
/// `VIR_DOMAIN_TIME_SYNC`.
const TIME_SYNC: u32 = 1;
/// `VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN` / `VIR_DOMAIN_REBOOT_...`.
const MODE_ACPI: u32 = 1;
/// `VIR_DOMAIN_SHUTDOWN_GUEST_AGENT` / `VIR_DOMAIN_REBOOT_GUEST_AGENT`.
const MODE_AGENT: u32 = 2;
/// `REMOTE_DOMAIN_FSFREEZE_MOUNTPOINTS_MAX`.
const MOUNTPOINTS_MAX: usize = 256;

/// `virDomainGetHostname`: from the agent (the default); qvirt keeps no
/// DHCP leases.
pub fn get_hostname(driver: &dyn Driver, a: DomFlagsArgs) -> Result<HostnameRet> {
    check_flags(
        a.flags,
        HOSTNAME_LEASE | HOSTNAME_AGENT,
        "virDomainGetHostname",
    )?;
    if a.flags == HOSTNAME_LEASE {
        return Err(Error::new(
            ErrorCode::NoSupport,
            "VIR_DOMAIN_GET_HOSTNAME_LEASE: qvirt has no virtual networks, so no DHCP leases; ask the agent",
        ));
    }
    Ok(HostnameRet {
        hostname: driver.guest_hostname(&Domain::from(&a.dom))?,
    })
}

/// `virDomainGetTime`.
pub fn get_time(driver: &dyn Driver, a: DomFlagsArgs) -> Result<TimeRet> {
    check_flags(a.flags, 0, "virDomainGetTime")?;
    let (seconds, nseconds) = driver.guest_time(&Domain::from(&a.dom))?;
    Ok(TimeRet { seconds, nseconds })
}

/// `virDomainSetTime`: the given time, or with `VIR_DOMAIN_TIME_SYNC`
/// the guest's own hardware clock.
pub fn set_time(driver: &dyn Driver, a: SetTimeArgs) -> Result<()> {
    check_flags(a.flags, TIME_SYNC, "virDomainSetTime")?;
    let time = (a.flags & TIME_SYNC == 0).then_some((a.seconds, a.nseconds));
    driver.set_guest_time(&Domain::from(&a.dom), time)
}

/// `virDomainFSFreeze`.
pub fn fs_freeze(driver: &dyn Driver, a: FsFreezeArgs) -> Result<FsCountRet> {
    check_flags(a.flags, 0, "virDomainFSFreeze")?;
    if a.mountpoints.len() > MOUNTPOINTS_MAX {
        return Err(Error::new(
            ErrorCode::LimitExceeded,
            format!("more than {MOUNTPOINTS_MAX} mount points"),
        ));
    }
    let n = driver.fs_freeze(&Domain::from(&a.dom), &a.mountpoints)?;
    Ok(FsCountRet {
        filesystems: i32::try_from(n).unwrap_or(i32::MAX),
    })
}

/// `virDomainFSThaw`: every file system (libvirt takes no mount points).
pub fn fs_thaw(driver: &dyn Driver, a: FsFreezeArgs) -> Result<FsCountRet> {
    check_flags(a.flags, 0, "virDomainFSThaw")?;
    if !a.mountpoints.is_empty() {
        return Err(Error::new(
            ErrorCode::ArgumentUnsupported,
            "specifying mountpoints is not supported",
        ));
    }
    let n = driver.fs_thaw(&Domain::from(&a.dom))?;
    Ok(FsCountRet {
        filesystems: i32::try_from(n).unwrap_or(i32::MAX),
    })
}

/// `virDomainGetGuestInfo`: the fields of the groups `types` names
/// (every group when 0), as libvirt's typed parameters.
pub fn guest_info(driver: &dyn Driver, a: GuestInfoArgs) -> Result<GuestInfoRet> {
    check_flags(a.flags, 0, "virDomainGetGuestInfo")?;
    let params = driver
        .guest_info(&Domain::from(&a.dom), a.types)?
        .into_iter()
        .map(|(field, v)| {
            #[allow(unreachable_patterns)]
            let value = match v {
                GuestValue::Text(s) => ParamValue::String(s),
                GuestValue::Int(n) => ParamValue::Int(n),
                GuestValue::UInt(n) => ParamValue::UInt(n),
                GuestValue::ULLong(n) => ParamValue::ULLong(n),
                GuestValue::Bool(b) => ParamValue::Boolean(b),
                other => ParamValue::String(format!("{other:?}")),
            };
            TypedParam { field, value }
        })
        .collect();
    Ok(GuestInfoRet { params })
}

/// `virDomainShutdownFlags`: the ACPI power button (no flag, or
/// `ACPI_POWER_BTN`), the agent (`GUEST_AGENT`), or the agent and,
/// should it fail, the button (both).
pub fn shutdown_flags(driver: &dyn Driver, a: DomFlagsArgs) -> Result<()> {
    check_flags(a.flags, MODE_ACPI | MODE_AGENT, "virDomainShutdownFlags")?;
    let dom = Domain::from(&a.dom);
    by_mode(
        a.flags,
        || driver.agent_power(&dom, false),
        || driver.shutdown(&dom, ShutdownOptions::NO_WAIT),
    )
}

/// `virDomainReboot`, with the same modes as [`shutdown_flags`].
pub fn reboot(driver: &dyn Driver, a: DomFlagsArgs) -> Result<()> {
    check_flags(a.flags, MODE_ACPI | MODE_AGENT, "virDomainReboot")?;
    let dom = Domain::from(&a.dom);
    by_mode(
        a.flags,
        || driver.agent_power(&dom, true),
        || driver.reboot(&dom),
    )
}

fn by_mode(
    flags: u32,
    agent: impl FnOnce() -> Result<()>,
    acpi: impl FnOnce() -> Result<()>,
) -> Result<()> {
    if flags & MODE_AGENT == 0 {
        return acpi();
    }
    match agent() {
        Err(e) if flags & MODE_ACPI != 0 && agent_unavailable(&e) => acpi(),
        other => other,
    }
}

/// Whether the agent is missing or silent (not whether it refused).
fn agent_unavailable(e: &Error) -> bool {
    matches!(
        e.code,
        ErrorCode::ArgumentUnsupported | ErrorCode::AgentUnresponsive
    )
}
