//! The guest agent's calls on the guest's own resources, as libvirt's
//! QEMU driver makes them: trimming its file systems (`guest-fstrim`)
//! and taking its vCPUs online or offline inside the guest
//! (`guest-get-vcpus`, `guest-set-vcpus`). Knows the agent's replies;
//! the transport knows nothing of them.

use serde_json::{Value, json};

use super::agent::Agent;
use super::driver::Core;
use crate::driver::{Domain, GuestValue};
use crate::error::{Error, ErrorCode, Result};
use crate::model::{format_cpuset, parse_cpuset};

/// The highest vCPU number libvirt takes from or gives to the agent, plus
/// one (`QEMU_GUEST_VCPU_MAX_ID`).
const VCPU_MAX_ID: u32 = 4096;

/// One vCPU as `guest-get-vcpus` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct GuestCpu {
    id: u32,
    online: bool,
    offlinable: bool,
}

impl Core {
    /// [`crate::driver::AgentCall::FsTrim`]: `guest-fstrim`, whose
    /// per-file-system results libvirt does not look at either (a file
    /// system that cannot discard is no failure of the call).
    pub(crate) fn fs_trim(&self, dom: &Domain, minimum: u64) -> Result<()> {
        let run = self.agent_run(dom, "trim the file systems of")?;
        Agent::open(&run)?.execute("guest-fstrim", Some(json!({ "minimum": minimum })))?;
        Ok(())
    }

    /// [`crate::driver::AgentCall::GuestVcpus`]: libvirt's three lists.
    pub(crate) fn guest_vcpus(&self, dom: &Domain) -> Result<Vec<(String, GuestValue)>> {
        let run = self.agent_run(dom, "read the vCPUs of")?;
        let cpus = get_vcpus(&mut Agent::open(&run)?)?;
        // As libvirt's bitmaps: ascending, whatever the agent's order.
        let list = |keep: fn(&GuestCpu) -> bool| {
            let mut ids: Vec<u32> = cpus.iter().filter(|c| keep(c)).map(|c| c.id).collect();
            ids.sort_unstable();
            GuestValue::Text(format_cpuset(&ids))
        };
        Ok(vec![
            ("vcpus".into(), list(|_| true)),
            ("online".into(), list(|c| c.online)),
            ("offlinable".into(), list(|c| c.offlinable)),
        ])
    }

    /// [`crate::driver::AgentCall::SetGuestVcpus`], as libvirt's
    /// `qemuDomainSetGuestVcpus`: the list is checked against what the
    /// agent reports before anything changes, then `guest-set-vcpus` is
    /// asked again for the ones a partial answer left.
    pub(crate) fn set_guest_vcpus(&self, dom: &Domain, cpumap: &str, enable: bool) -> Result<()> {
        let wanted = parse_vcpu_list(cpumap)?;
        let run = self.agent_run(dom, "change the vCPUs of")?;
        let mut agent = Agent::open(&run)?;
        let cpus = get_vcpus(&mut agent)?;
        let mut left = changes(&cpus, &wanted, enable)?;
        while !left.is_empty() {
            let args: Vec<Value> = left
                .iter()
                .map(|id| json!({ "logical-id": id, "online": enable }))
                .collect();
            let reply = agent.execute("guest-set-vcpus", Some(json!({ "vcpus": args })))?;
            let done = reply
                .as_i64()
                .filter(|n| *n > 0 && *n as usize <= left.len())
                .ok_or_else(|| {
                    Error::new(
                        ErrorCode::OperationFailed,
                        "guest agent returned malformed or invalid return value",
                    )
                })?;
            left.drain(..done as usize);
        }
        Ok(())
    }
}

/// libvirt's `virBitmapParse` of a vCPU list, up to [`VCPU_MAX_ID`].
fn parse_vcpu_list(cpumap: &str) -> Result<Vec<u32>> {
    parse_cpuset(cpumap)
        .filter(|ids| ids.iter().all(|id| *id < VCPU_MAX_ID))
        .ok_or_else(|| {
            Error::new(
                ErrorCode::InvalidArgument,
                format!("Failed to parse bitmap '{cpumap}'"),
            )
        })
}

/// The vCPUs of `wanted` whose state changes, in the agent's order, with
/// libvirt's refusals: a vCPU that cannot go offline, one the guest does
/// not have.
fn changes(cpus: &[GuestCpu], wanted: &[u32], enable: bool) -> Result<Vec<u32>> {
    let mut out = Vec::new();
    for cpu in cpus.iter().filter(|c| wanted.contains(&c.id)) {
        if !enable && !cpu.offlinable {
            return Err(Error::new(
                ErrorCode::NoSupport,
                format!("vCPU '{}' is not offlinable", cpu.id),
            ));
        }
        out.push(cpu.id);
    }
    let missing: Vec<u32> = wanted
        .iter()
        .copied()
        .filter(|id| !cpus.iter().any(|c| c.id == *id))
        .collect();
    if !missing.is_empty() {
        return Err(Error::new(
            ErrorCode::InvalidArgument,
            format!("guest is missing vCPUs '{}'", format_cpuset(&missing)),
        ));
    }
    Ok(out)
}

/// `guest-get-vcpus`, each entry checked as libvirt checks it.
fn get_vcpus(agent: &mut Agent) -> Result<Vec<GuestCpu>> {
    let reply = agent.execute("guest-get-vcpus", None)?;
    let entries = reply.as_array().ok_or_else(|| {
        Error::new(
            ErrorCode::OperationFailed,
            "guest-get-vcpus reply was missing return data",
        )
    })?;
    entries.iter().map(guest_cpu).collect()
}

fn guest_cpu(entry: &Value) -> Result<GuestCpu> {
    let missing = |what: &str| {
        Error::new(
            ErrorCode::OperationFailed,
            format!("'{what}' missing in reply of guest-get-vcpus"),
        )
    };
    let id = entry
        .get("logical-id")
        .and_then(Value::as_u64)
        .ok_or_else(|| missing("logical-id"))?;
    if id >= u64::from(VCPU_MAX_ID) {
        return Err(Error::new(
            ErrorCode::OperationFailed,
            format!("vcpu id '{id}' reported by guest agent is out of range"),
        ));
    }
    let flag = |what: &str| {
        entry
            .get(what)
            .and_then(Value::as_bool)
            .ok_or_else(|| missing(what))
    };
    Ok(GuestCpu {
        id: id as u32,
        online: flag("online")?,
        offlinable: flag("can-offline")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cpu(id: u32, offlinable: bool) -> GuestCpu {
        GuestCpu {
            id,
            online: true,
            offlinable,
        }
    }

    #[test]
    fn only_offlinable_vcpus_the_guest_has_change() {
        let cpus = [cpu(0, false), cpu(1, true), cpu(2, true)];
        assert_eq!(changes(&cpus, &[1, 2], false).unwrap(), [1, 2]);
        assert_eq!(changes(&cpus, &[0], true).unwrap(), [0]);
        let e = changes(&cpus, &[0, 1], false).unwrap_err();
        assert_eq!(e.code, ErrorCode::NoSupport);
        assert_eq!(e.message, "vCPU '0' is not offlinable");
        let e = changes(&cpus, &[1, 5, 6], true).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidArgument);
        assert_eq!(e.message, "guest is missing vCPUs '5-6'");
    }

    #[test]
    fn vcpu_lists_are_libvirts_bitmaps() {
        assert_eq!(parse_vcpu_list("1,3-4").unwrap(), [1, 3, 4]);
        for bad in ["", "x", "4096", "3-1"] {
            let e = parse_vcpu_list(bad).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidArgument, "{bad}");
            assert_eq!(e.message, format!("Failed to parse bitmap '{bad}'"));
        }
    }
}
