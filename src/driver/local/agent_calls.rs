//! The calls the guest agent answers (libvirt's agent-backed domain
//! calls): the guest's addresses, host name and clock, file system
//! freeze and thaw, shutdown and reboot from inside the guest. Each takes
//! the domain's running state once and talks to the agent through
//! [`Agent`]; the domain must be running (not paused: a paused guest's
//! agent cannot answer).

use serde_json::{Value, json};

use super::agent::Agent;
use super::driver::Core;
use super::runtime::Running;
use crate::driver::{
    AgentAnswer, AgentCall, Domain, DomainState, Event, EventKind, InterfaceAddresses, IpAddress,
};
use crate::error::{Error, ErrorCode, Result};

/// How long an agent shutdown or reboot waits for QEMU to report it
/// carried out (libvirt's `VIR_DOMAIN_QEMU_AGENT_COMMAND_SHUTDOWN`): the
/// agent never answers one it carries out.
const POWER_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

impl Core {
    /// [`crate::Driver::agent_call`].
    pub(crate) fn agent_call(&self, dom: &Domain, call: AgentCall) -> Result<AgentAnswer> {
        Ok(match call {
            AgentCall::Hostname => AgentAnswer::Text(self.guest_hostname(dom)?),
            AgentCall::GetTime => {
                let (s, n) = self.guest_time(dom)?;
                AgentAnswer::Time(s, n)
            }
            AgentCall::SetTime(t) => {
                self.set_guest_time(dom, t)?;
                AgentAnswer::Done
            }
            AgentCall::FsFreeze(m) => AgentAnswer::Count(self.fs_freeze(dom, &m)?),
            AgentCall::FsThaw => AgentAnswer::Count(self.fs_thaw(dom)?),
            AgentCall::Power { reboot } => {
                self.agent_power(dom, reboot)?;
                AgentAnswer::Done
            }
            AgentCall::GuestInfo(types) => AgentAnswer::Fields(self.guest_info(dom, types)?),
            AgentCall::SetUserPassword {
                user,
                password,
                crypted,
            } => {
                let args = json!({
                    "username": user,
                    "password": crate::model::base64_encode(password.as_bytes()),
                    "crypted": crypted,
                });
                self.agent_command(
                    dom,
                    "set a user's password in",
                    "guest-set-user-password",
                    args,
                )?;
                AgentAnswer::Done
            }
            AgentCall::FsInfo => AgentAnswer::FileSystems(self.fs_info(dom)?),
            AgentCall::SshKeys(user) => {
                let reply = self.agent_command(
                    dom,
                    "read the SSH keys in",
                    "guest-ssh-get-authorized-keys",
                    json!({ "username": user }),
                )?;
                let keys = reply
                    .get("keys")
                    .and_then(Value::as_array)
                    .ok_or_else(|| malformed("guest-ssh-get-authorized-keys"))?;
                AgentAnswer::Texts(
                    keys.iter()
                        .filter_map(|k| k.as_str().map(str::to_string))
                        .collect(),
                )
            }
            AgentCall::SetSshKeys {
                user,
                keys,
                append,
                remove,
            } => {
                let (command, args) = if remove {
                    (
                        "guest-ssh-remove-authorized-keys",
                        json!({ "username": user, "keys": keys }),
                    )
                } else {
                    (
                        "guest-ssh-add-authorized-keys",
                        json!({ "username": user, "keys": keys, "reset": !append }),
                    )
                };
                self.agent_command(dom, "change the SSH keys in", command, args)?;
                AgentAnswer::Done
            }
            AgentCall::Command { json, timeout } => {
                AgentAnswer::Reply(self.agent_own_command(dom, &json, timeout)?)
            }
            AgentCall::SetResponseTimeout(timeout) => {
                self.set_agent_timeout(dom, timeout)?;
                AgentAnswer::Done
            }
            AgentCall::FsTrim { minimum } => self.fs_trim(dom, minimum).map(done)?,
            AgentCall::GuestVcpus => AgentAnswer::Fields(self.guest_vcpus(dom)?),
            AgentCall::SetGuestVcpus { cpumap, enable } => {
                self.set_guest_vcpus(dom, &cpumap, enable).map(done)?
            }
            AgentCall::PmSuspend(target) => self.pm_suspend(dom, target).map(done)?,
        })
    }

    /// [`AgentCall::SetResponseTimeout`]: kept in the domain's entry for
    /// its runs to come and given to the current run, whose status file
    /// keeps it for a manager that reattaches, as libvirt keeps it in the
    /// domain object and its status. No job: a call under way keeps the
    /// wait it began with.
    fn set_agent_timeout(&self, dom: &Domain, timeout: i32) -> Result<()> {
        super::agent::response_wait(timeout)?;
        let running = self.with_entry(dom, |e| {
            e.agent_timeout = timeout;
            Ok(e.running.clone())
        })?;
        if let Some(run) = running {
            run.agent_timeout
                .store(timeout, std::sync::atomic::Ordering::Relaxed);
            self.save_status(run.def.uuid, &run);
        }
        self.log.info(&format!(
            "domain '{}': guest agent timeout {timeout}",
            dom.name
        ));
        Ok(())
    }

    /// [`AgentCall::Command`]: the caller's own command, as libvirt's
    /// `virDomainQemuAgentCommand` (the same timeout values; the domain is
    /// tainted `custom-ga-command`).
    fn agent_own_command(&self, dom: &Domain, json: &str, timeout: i32) -> Result<Option<String>> {
        let wait = super::agent::response_wait(timeout)?;
        let command: Value = serde_json::from_str(json).map_err(|e| {
            Error::new(
                ErrorCode::InvalidArgument,
                format!("cannot parse json {json}: {e}"),
            )
        })?;
        let Some(execute) = command.get("execute").and_then(Value::as_str) else {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                "the guest agent command must be a JSON object with \"execute\"",
            ));
        };
        let run = self.agent_run(dom, "send a guest agent command to")?;
        let mut agent = Agent::open(&run)?;
        self.taint_by_client(
            dom,
            &run,
            super::runtime::Taint::CustomGaCommand,
            &format!("guest agent command '{execute}' sent by a client"),
        );
        Ok(agent.execute_raw(&command, wait)?.map(|r| r.to_string()))
    }

    /// Runs `command` with `args` on the running domain's agent.
    fn agent_command(&self, dom: &Domain, what: &str, command: &str, args: Value) -> Result<Value> {
        let run = self.agent_run(dom, what)?;
        Agent::open(&run)?.execute(command, Some(args))
    }

    /// The domain's run, for an agent call: running (a paused guest's
    /// agent cannot answer).
    pub(super) fn agent_run(&self, dom: &Domain, what: &str) -> Result<std::sync::Arc<Running>> {
        self.running_in(dom, what, &[DomainState::Running])
    }

    /// [`crate::Driver::interface_addresses`] with `Agent`: what the
    /// guest reports (`guest-network-get-interfaces`).
    pub(crate) fn agent_interfaces(&self, run: &Running) -> Result<Vec<InterfaceAddresses>> {
        let reply = Agent::open(run)?.execute("guest-network-get-interfaces", None)?;
        Ok(interfaces(&reply))
    }

    /// [`crate::driver::GuestAgent::guest_hostname`].
    fn guest_hostname(&self, dom: &Domain) -> Result<String> {
        let run = self.agent_run(dom, "read the host name of")?;
        let reply = Agent::open(&run)?.execute("guest-get-host-name", None)?;
        reply
            .get("host-name")
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| malformed("guest-get-host-name"))
    }

    /// [`crate::driver::GuestAgent::guest_time`].
    fn guest_time(&self, dom: &Domain) -> Result<(i64, u32)> {
        let run = self.agent_run(dom, "read the clock of")?;
        let ns = Agent::open(&run)?
            .execute("guest-get-time", None)?
            .as_i64()
            .ok_or_else(|| malformed("guest-get-time"))?;
        Ok((
            ns.div_euclid(1_000_000_000),
            ns.rem_euclid(1_000_000_000) as u32,
        ))
    }

    /// [`crate::driver::GuestAgent::set_guest_time`].
    fn set_guest_time(&self, dom: &Domain, time: Option<(i64, u32)>) -> Result<()> {
        let run = self.agent_run(dom, "set the clock of")?;
        let args = match time {
            Some((secs, ns)) => {
                if ns >= 1_000_000_000 {
                    return Err(Error::new(
                        ErrorCode::InvalidArgument,
                        format!("nseconds {ns} is not below one second"),
                    ));
                }
                let total = secs
                    .checked_mul(1_000_000_000)
                    .and_then(|t| t.checked_add(i64::from(ns)))
                    .ok_or_else(|| {
                        Error::new(
                            ErrorCode::InvalidArgument,
                            format!("time {secs}s is out of range"),
                        )
                    })?;
                Some(json!({ "time": total }))
            }
            None => None,
        };
        Agent::open(&run)?.execute("guest-set-time", args)?;
        Ok(())
    }

    /// [`crate::driver::GuestAgent::fs_freeze`].
    pub(crate) fn fs_freeze(&self, dom: &Domain, mountpoints: &[String]) -> Result<u32> {
        let run = self.agent_run(dom, "freeze the file systems of")?;
        let mut agent = Agent::open(&run)?;
        let reply = if mountpoints.is_empty() {
            agent.execute("guest-fsfreeze-freeze", None)?
        } else {
            agent.execute(
                "guest-fsfreeze-freeze-list",
                Some(json!({ "mountpoints": mountpoints })),
            )?
        };
        count(&reply, "guest-fsfreeze-freeze")
    }

    /// [`crate::driver::GuestAgent::fs_thaw`].
    pub(crate) fn fs_thaw(&self, dom: &Domain) -> Result<u32> {
        let run = self.agent_run(dom, "thaw the file systems of")?;
        let reply = Agent::open(&run)?.execute("guest-fsfreeze-thaw", None)?;
        count(&reply, "guest-fsfreeze-thaw")
    }

    /// [`crate::driver::GuestAgent::agent_power`]: `guest-shutdown` in mode
    /// `powerdown` or `reboot`, done once QEMU reports the guest's
    /// power-off (SHUTDOWN) or reset (RESET), as libvirt's agent waits for
    /// them, or the domain stops; within [`POWER_WAIT`].
    fn agent_power(&self, dom: &Domain, reboot: bool) -> Result<()> {
        let what = if reboot { "reboot" } else { "shut down" };
        let run = self.agent_run(dom, what)?;
        let mode = if reboot { "reboot" } else { "powerdown" };
        // Subscribed before the command goes: its event cannot be missed.
        let mut events = self.events.subscribe();
        let uuid = run.def.uuid;
        let done = |e: &Event| {
            e.domain.uuid == uuid
                && match e.kind {
                    EventKind::Stopped(_) | EventKind::Shutdown => true,
                    EventKind::Reset => reboot,
                    _ => false,
                }
        };
        Agent::open(&run)?.execute_awaiting(
            "guest-shutdown",
            Some(json!({ "mode": mode })),
            POWER_WAIT,
            &mut events,
            done,
        )
    }
}

/// [`AgentAnswer::Done`] for a call that returns nothing more.
fn done(_: ()) -> AgentAnswer {
    AgentAnswer::Done
}

/// A count of file systems, as the freeze and thaw commands return.
fn count(reply: &Value, command: &str) -> Result<u32> {
    reply
        .as_u64()
        .map(|n| n as u32)
        .ok_or_else(|| malformed(command))
}

fn malformed(command: &str) -> Error {
    Error::new(
        ErrorCode::OperationFailed,
        format!("the guest agent's reply to '{command}' is malformed"),
    )
}

/// The interfaces of a `guest-network-get-interfaces` reply, aliases
/// (`eth0:1`) merged into their interface, as libvirt does.
pub(crate) fn interfaces(reply: &Value) -> Vec<InterfaceAddresses> {
    let mut out: Vec<InterfaceAddresses> = Vec::new();
    for iface in reply.as_array().into_iter().flatten() {
        let Some(full) = iface.get("name").and_then(Value::as_str) else {
            continue;
        };
        let name = full.split(':').next().unwrap_or(full).to_string();
        let mac = iface
            .get("hardware-address")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let addrs: Vec<IpAddress> = iface
            .get("ip-addresses")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|a| {
                let addr = a.get("ip-address")?.as_str()?.to_string();
                let ipv6 = a.get("ip-address-type")?.as_str()? == "ipv6";
                let prefix = a.get("prefix").and_then(Value::as_u64).unwrap_or(0) as u32;
                Some(IpAddress::new(ipv6, addr, prefix))
            })
            .collect();
        match out.iter_mut().find(|i| i.name == name) {
            Some(i) => i.addrs.extend(addrs),
            None => out.push(InterfaceAddresses::new(name, mac, addrs)),
        }
    }
    out
}
