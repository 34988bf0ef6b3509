//! The guest agent's calls as libvirt's calls, the ones virsh makes for
//! `domhostname`, `domtime`, `domfsfreeze`, `domfsthaw`, `domfsinfo`,
//! `guestinfo`, `set-user-password`, `*-user-sshkeys`,
//! `qemu-agent-command`, `guest-agent-timeout`, `domfstrim`,
//! `guestvcpus`, `dompmsuspend`, `dompmwakeup` and the agent modes of
//! `shutdown` and `reboot`.

use super::conn::Conn;
use crate::driver::error::{Error, ErrorCode, Result};
use crate::driver::{AgentAnswer, AgentCall, Domain, GuestFsInfo, GuestValue};
use crate::transport::libvirt::jobstats::ParamValue;
use crate::transport::libvirt::procedures::Caller;
use crate::transport::libvirt::types::*;

/// `QEMU_PROC_DOMAIN_AGENT_COMMAND` (libvirt's `qemu` program).
const AGENT_COMMAND: i32 = 3;
/// `VIR_DOMAIN_SHUTDOWN_GUEST_AGENT` / `VIR_DOMAIN_REBOOT_GUEST_AGENT`.
const MODE_AGENT: u32 = 2;

/// [`crate::Driver::agent_call`].
pub(super) fn agent_call(c: &Conn, d: &Domain, call: AgentCall) -> Result<AgentAnswer> {
    let dom = Dom::from(d);
    let flags = |flags| DomFlagsArgs {
        dom: dom.clone(),
        flags,
    };
    #[allow(unreachable_patterns)]
    Ok(match call {
        AgentCall::Hostname => AgentAnswer::Text(c.domain_get_hostname(flags(0))?.hostname),
        AgentCall::GetTime => {
            let t = c.domain_get_time(flags(0))?;
            AgentAnswer::Time(t.seconds, t.nseconds)
        }
        AgentCall::SetTime(time) => {
            let (seconds, nseconds) = time.unwrap_or((0, 0));
            c.domain_set_time(SetTimeArgs {
                dom: dom.clone(),
                seconds,
                nseconds,
                flags: u32::from(time.is_none()),
            })?;
            AgentAnswer::Done
        }
        AgentCall::FsFreeze(mountpoints) => {
            let r = c.domain_fsfreeze(FsFreezeArgs {
                dom: dom.clone(),
                mountpoints,
                flags: 0,
            })?;
            AgentAnswer::Count(r.filesystems.max(0) as u32)
        }
        AgentCall::FsThaw => {
            let r = c.domain_fsthaw(FsFreezeArgs {
                dom: dom.clone(),
                mountpoints: Vec::new(),
                flags: 0,
            })?;
            AgentAnswer::Count(r.filesystems.max(0) as u32)
        }
        AgentCall::Power { reboot: false } => {
            c.domain_shutdown_flags(flags(MODE_AGENT))?;
            AgentAnswer::Done
        }
        AgentCall::Power { reboot: true } => {
            c.domain_reboot(flags(MODE_AGENT))?;
            AgentAnswer::Done
        }
        AgentCall::GuestInfo(types) => {
            let r = c.domain_get_guest_info(GuestInfoArgs {
                dom: dom.clone(),
                types,
                flags: 0,
            })?;
            AgentAnswer::Fields(
                r.params
                    .into_iter()
                    .map(|p| (p.field, guest_value(p.value)))
                    .collect(),
            )
        }
        AgentCall::FsInfo => AgentAnswer::FileSystems(
            c.domain_get_fsinfo(flags(0))?
                .info
                .into_iter()
                .map(|f| GuestFsInfo::new(f.mountpoint, f.name, f.fstype, f.dev_aliases))
                .collect(),
        ),
        AgentCall::SetUserPassword {
            user,
            password,
            crypted,
        } => {
            c.domain_set_user_password(SetUserPasswordArgs {
                dom: dom.clone(),
                user: Some(user),
                password: Some(password),
                flags: u32::from(crypted),
            })?;
            AgentAnswer::Done
        }
        AgentCall::SshKeys(user) => AgentAnswer::Texts(
            c.domain_authorized_ssh_keys_get(SshKeysGetArgs {
                dom: dom.clone(),
                user,
                flags: 0,
            })?
            .keys,
        ),
        AgentCall::SetSshKeys {
            user,
            keys,
            append,
            remove,
        } => {
            c.domain_authorized_ssh_keys_set(SshKeysSetArgs {
                dom: dom.clone(),
                user,
                keys,
                flags: u32::from(append) | (u32::from(remove) << 1),
            })?;
            AgentAnswer::Done
        }
        AgentCall::Command { json, timeout } => {
            let args = AgentCommandArgs {
                dom: dom.clone(),
                cmd: json,
                timeout,
                flags: 0,
            };
            let (body, _) = c.call_raw(
                super::conn::QEMU_PROGRAM,
                AGENT_COMMAND,
                &crate::transport::libvirt::xdr::to_bytes(&args),
                None,
            )?;
            let ret: AgentCommandRet =
                crate::transport::libvirt::xdr::from_bytes(&body, "reply to the agent command")?;
            AgentAnswer::Reply(ret.result)
        }
        AgentCall::FsTrim { minimum } => {
            c.domain_fstrim(FsTrimArgs {
                dom: dom.clone(),
                mount_point: None,
                minimum,
                flags: 0,
            })?;
            AgentAnswer::Done
        }
        AgentCall::GuestVcpus => AgentAnswer::Fields(
            c.domain_get_guest_vcpus(flags(0))?
                .params
                .into_iter()
                .map(|p| (p.field, guest_value(p.value)))
                .collect(),
        ),
        AgentCall::SetGuestVcpus { cpumap, enable } => {
            c.domain_set_guest_vcpus(SetGuestVcpusArgs {
                dom: dom.clone(),
                cpumap,
                state: i32::from(enable),
                flags: 0,
            })?;
            AgentAnswer::Done
        }
        AgentCall::PmSuspend(target) => {
            c.domain_pm_suspend_for_duration(PmSuspendArgs {
                dom: dom.clone(),
                target: target as u32,
                duration: 0,
                flags: 0,
            })?;
            AgentAnswer::Done
        }
        AgentCall::SetResponseTimeout(timeout) => {
            c.domain_agent_set_response_timeout(AgentTimeoutArgs {
                dom: dom.clone(),
                timeout,
                flags: 0,
            })?;
            AgentAnswer::Done
        }
        other => {
            return Err(Error::new(
                ErrorCode::NoSupport,
                format!("qvirt's libvirt client does not make the guest agent call {other:?}"),
            ));
        }
    })
}

/// A typed parameter of the guest's answers as a [`GuestValue`].
fn guest_value(v: ParamValue) -> GuestValue {
    match v {
        ParamValue::String(s) => GuestValue::Text(s),
        ParamValue::Int(n) => GuestValue::Int(n),
        ParamValue::UInt(n) => GuestValue::UInt(n),
        ParamValue::ULLong(n) => GuestValue::ULLong(n),
        ParamValue::Boolean(b) => GuestValue::Bool(b),
        other => GuestValue::Text(format!("{other:?}")),
    }
}

/// [`crate::Driver::pm_wakeup`]: `virDomainPMWakeup`.
pub(super) fn pm_wakeup(c: &Conn, d: &Domain) -> Result<()> {
    c.domain_pm_wakeup(DomFlagsArgs {
        dom: Dom::from(d),
        flags: 0,
    })
}
