//! The guest's own power management (virsh's `dompmsuspend` and
//! `dompmwakeup`), as libvirt's QEMU driver does it: the guest suspends
//! itself at the agent's request (`guest-suspend-ram`, `-disk`,
//! `-hybrid`), QEMU's SUSPEND event makes the domain `pmsuspended` (see
//! the monitor), and QMP's `system_wakeup` wakes it, its WAKEUP event
//! making it running again.

use serde_json::Value;

use super::agent::Agent;
use super::driver::Core;
use super::runtime::Running;
use crate::driver::{Domain, DomainState, Event, EventKind, PmTarget};
use crate::error::{Error, ErrorCode, Result};
use crate::qemu::qmp::QMP_TIMEOUT;

/// How long a suspend waits for QEMU to report the guest suspended: the
/// agent never answers a suspend it carries out.
const SUSPEND_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

/// Every state of a domain with a QEMU process.
const ACTIVE: &[DomainState] = &[
    DomainState::Running,
    DomainState::Paused,
    DomainState::Shutdown,
    DomainState::Crashed,
    DomainState::PmSuspended,
];

impl Core {
    /// [`crate::driver::AgentCall::PmSuspend`], with libvirt's checks in
    /// its order: the machine must be able to wake (QEMU's
    /// `query-current-machine`), and the definition must not turn the
    /// sleep state off (`<pm>`).
    pub(crate) fn pm_suspend(&self, dom: &Domain, target: PmTarget) -> Result<()> {
        let run = self.agent_run(dom, "suspend")?;
        // The agent's absence is refused before QEMU is asked anything.
        super::agent::socket(&run.live_def(), &run.run_dir)?;
        wakeup_supported(&run)?;
        check_pm_states(&run, target)?;
        let mut events = self.events.subscribe();
        let uuid = run.def.uuid;
        let done = |e: &Event| {
            e.domain.uuid == uuid
                && matches!(
                    e.kind,
                    EventKind::PmSuspended { .. } | EventKind::Stopped(_) | EventKind::Shutdown
                )
        };
        let command = match target {
            PmTarget::Mem => "guest-suspend-ram",
            PmTarget::Disk => "guest-suspend-disk",
            PmTarget::Hybrid => "guest-suspend-hybrid",
        };
        Agent::open(&run)?.execute_awaiting(command, None, SUSPEND_WAIT, &mut events, done)
    }

    /// [`crate::Driver::pm_wakeup`]: `system_wakeup` on an active domain,
    /// as libvirt; QEMU refuses a guest that is not suspended, and its
    /// refusal is the answer.
    pub(crate) fn pm_wakeup(&self, dom: &Domain) -> Result<()> {
        let jobs = self.jobs(dom)?;
        let _job = jobs.begin(super::jobs::SyncKind::Modify, &dom.name)?;
        // libvirt's words for a domain that is not active.
        let run = self.running_in(dom, "wake up", ACTIVE).map_err(|e| {
            if e.code == ErrorCode::OperationInvalid {
                Error::new(ErrorCode::OperationInvalid, "domain is not running")
            } else {
                e
            }
        })?;
        run.qmp()?
            .execute("system_wakeup", None, QMP_TIMEOUT)
            .map(drop)
    }
}

/// libvirt's `qemuDomainProbeQMPCurrentMachine`: QEMU says whether the
/// machine can wake from suspend (an ACPI machine without S3 cannot).
fn wakeup_supported(run: &Running) -> Result<()> {
    let machine = run
        .qmp()?
        .execute("query-current-machine", None, QMP_TIMEOUT)?;
    if machine
        .get("wakeup-suspend-support")
        .and_then(Value::as_bool)
        == Some(true)
    {
        return Ok(());
    }
    Err(Error::new(
        ErrorCode::NoSupport,
        "Domain does not have suspend support",
    ))
}

/// The definition's `<pm>`: a sleep state it turns off is refused as
/// libvirt refuses it.
fn check_pm_states(run: &Running, target: PmTarget) -> Result<()> {
    let pm = &run.def.pm;
    let refused = |what: &str| {
        Err(Error::new(
            ErrorCode::Internal,
            format!("{what} state is disabled for this domain"),
        ))
    };
    if pm.suspend_to_mem == Some(false) && matches!(target, PmTarget::Mem | PmTarget::Hybrid) {
        return refused("S3");
    }
    if pm.suspend_to_disk == Some(false) && target == PmTarget::Disk {
        return refused("S4");
    }
    Ok(())
}
