//! Verbs that change a domain: define, start, stop, pause, save... Each
//! prints virsh's one-line confirmation.

use std::io::IsTerminal;
use std::time::Duration;

use qvirt::driver::{GuestAgent, ShutdownOptions, StartFlags};
use qvirt::{Error, ErrorCode, Result};

use crate::args::Command;
use crate::{Ctx, outln, read_input};

/// `--mode`'s list (`acpi`, `agent`, or both, comma-separated): whether
/// to ask the agent, and whether the power button is used (alone, or
/// when the agent is missing or silent).
fn modes(mode: Option<&str>, verb: &str) -> Result<(bool, bool)> {
    let Some(list) = mode else {
        return Ok((false, true));
    };
    let (mut agent, mut acpi) = (false, false);
    for m in list.split(',') {
        match m {
            "acpi" => acpi = true,
            "agent" => agent = true,
            other => {
                return Err(Error::new(
                    ErrorCode::InvalidArgument,
                    format!("unknown {verb} mode '{other}': acpi or agent"),
                ));
            }
        }
    }
    Ok((agent, acpi || !agent))
}

/// Whether the guest agent is missing or silent (not whether it refused).
fn agent_unavailable(e: &Error) -> bool {
    matches!(
        e.code,
        ErrorCode::ArgumentUnsupported | ErrorCode::AgentUnresponsive
    )
}

/// How long `shutdown --wait` waits when no `--timeout` is given.
const DEFAULT_SHUTDOWN_WAIT: Duration = Duration::from_secs(300);

/// Runs a lifecycle verb.
pub fn run(ctx: &mut Ctx, command: Command) -> Result<()> {
    match command {
        Command::Define { file } => {
            let xml = read_input(&file)?;
            let dom = ctx.driver()?.define_xml(&xml)?;
            outln!("Domain '{}' defined from {}", dom.name, file.display())
        }
        Command::Create { file } => {
            let xml = read_input(&file)?;
            let dom = ctx.driver()?.create_xml(&xml)?;
            outln!("Domain '{}' created from {}", dom.name, file.display())
        }
        Command::Undefine {
            dom: d,
            nvram,
            keep_nvram,
            tpm,
            keep_tpm,
            managed_save,
            remove_all_storage,
            storage,
            snapshots_metadata,
        } => {
            let dom = ctx.domain(&d.domain)?;
            let volumes = if remove_all_storage || storage.is_some() {
                volumes_to_remove(ctx, &dom, storage.as_deref())?
            } else {
                Vec::new()
            };
            if managed_save && ctx.driver()?.info(&dom)?.managed_save {
                ctx.driver()?.managed_save_remove(&dom)?;
            }
            let flags = qvirt::driver::UndefineFlags {
                nvram,
                keep_nvram,
                tpm,
                keep_tpm,
                snapshots_metadata,
            };
            ctx.driver()?.undefine_flags(&dom, flags)?;
            outln!("Domain '{}' has been undefined", dom.name)?;
            for (target, vol) in volumes {
                match ctx.driver()?.vol_delete(&vol) {
                    Ok(()) => outln!("Volume '{target}'({}) removed.", vol.path.display())?,
                    Err(e) => eprintln!(
                        "error: Failed to remove storage volume '{target}'({}): {e}",
                        vol.path.display()
                    ),
                }
            }
            Ok(())
        }
        Command::Start {
            dom: d,
            paused,
            autodestroy,
            console: _,
        } => {
            let dom = ctx.domain(&d.domain)?;
            let flags = start_flags(paused, autodestroy);
            let dom = ctx.driver()?.start_with(&dom, flags)?;
            // With --autodestroy, the domain ends with this command's
            // connection, as virsh's does.
            outln!("Domain '{}' started", dom.name)
        }
        Command::Shutdown {
            dom,
            wait,
            timeout,
            mode,
        } => {
            let (agent, acpi) = modes(mode.as_deref(), "shutdown")?;
            let d = ctx.domain(&dom.domain)?;
            if agent {
                if wait || timeout.is_some() {
                    return Err(Error::new(
                        ErrorCode::InvalidArgument,
                        "shutdown --mode agent does not wait; use domstate to follow it",
                    ));
                }
                match ctx.driver()?.agent_power(&d, false) {
                    Err(e) if acpi && agent_unavailable(&e) => {}
                    other => {
                        other?;
                        return outln!("Domain '{}' is being shutdown", d.name);
                    }
                }
            }
            let wait = match (wait, timeout) {
                (_, Some(secs)) => Some(Duration::from_secs(secs)),
                (true, None) => Some(DEFAULT_SHUTDOWN_WAIT),
                (false, None) => None,
            };
            let options = match wait {
                Some(w) => ShutdownOptions::NO_WAIT.with_wait(w),
                None => ShutdownOptions::NO_WAIT,
            };
            let driver = ctx.driver()?;
            // Waiting on a terminal shows that something happens.
            let spinner = (wait.is_some() && std::io::stderr().is_terminal()).then(|| {
                let s = indicatif::ProgressBar::new_spinner();
                s.set_style(
                    indicatif::ProgressStyle::with_template("{spinner} {msg} {elapsed}")
                        .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
                );
                s.set_message(format!("Waiting for domain '{}' to shut down", d.name));
                s.enable_steady_tick(Duration::from_millis(120));
                s
            });
            let result = driver.shutdown(&d, options);
            if let Some(s) = spinner {
                s.finish_and_clear();
            }
            result?;
            if wait.is_some() {
                outln!("Domain '{}' has been shut down", d.name)
            } else {
                outln!("Domain '{}' is being shutdown", d.name)
            }
        }
        Command::Destroy(d) => {
            let dom = ctx.domain(&d.domain)?;
            ctx.driver()?.destroy(&dom)?;
            outln!("Domain '{}' destroyed", dom.name)
        }
        Command::Reboot { dom: d, mode } => {
            let (agent, acpi) = modes(mode.as_deref(), "reboot")?;
            let dom = ctx.domain(&d.domain)?;
            let driver = ctx.driver()?;
            let by_agent = if agent {
                match driver.agent_power(&dom, true) {
                    Err(e) if acpi && agent_unavailable(&e) => false,
                    other => other.map(|()| true)?,
                }
            } else {
                false
            };
            if !by_agent {
                driver.reboot(&dom)?;
            }
            outln!("Domain '{}' is being rebooted", dom.name)
        }
        Command::Reset(d) => {
            let dom = ctx.domain(&d.domain)?;
            ctx.driver()?.reset(&dom)?;
            outln!("Domain '{}' was reset", dom.name)
        }
        Command::Suspend(d) => {
            let dom = ctx.domain(&d.domain)?;
            ctx.driver()?.suspend(&dom)?;
            outln!("Domain '{}' suspended", dom.name)
        }
        Command::Resume(d) => {
            let dom = ctx.domain(&d.domain)?;
            ctx.driver()?.resume(&dom)?;
            outln!("Domain '{}' resumed", dom.name)
        }
        Command::Restore { file, state, xml } => {
            let mut options = qvirt::driver::RestoreOptions::default();
            if let Some(running) = state.running() {
                options = options.running(running);
            }
            if let Some(xml) = xml {
                options = options.xml(read_input(&xml)?);
            }
            ctx.driver()?.restore_with(&file, options)?;
            outln!("Domain restored from {}", file.display())
        }
        Command::ManagedSaveRemove(d) => {
            let dom = ctx.domain(&d.domain)?;
            let driver = ctx.driver()?;
            if !driver.info(&dom)?.managed_save {
                return outln!(
                    "Domain '{}' has no manage save image; removal skipped",
                    dom.name
                );
            }
            driver.managed_save_remove(&dom)?;
            outln!("Removed managedsave image for domain '{}'", dom.name)
        }
        Command::Autostart { dom, disable } => {
            let d = ctx.domain(&dom.domain)?;
            ctx.driver()?.set_autostart(&d, !disable)?;
            if disable {
                outln!("Domain '{}' unmarked as autostarted", d.name)
            } else {
                outln!("Domain '{}' marked as autostarted", d.name)
            }
        }
        other => Err(Error::new(
            ErrorCode::Internal,
            format!("{other:?} is not a lifecycle verb"),
        )),
    }
}

/// The storage volumes `undefine --remove-all-storage` (or `--storage
/// LIST`) deletes, by disk target, as virsh picks them: the domain shut
/// off, each disk's volume (its pool's, or the volume at its path); a
/// disk that is no volume is named and left.
fn volumes_to_remove(
    ctx: &mut Ctx,
    dom: &qvirt::Domain,
    only: Option<&str>,
) -> Result<Vec<(String, qvirt::driver::Volume)>> {
    let d = ctx.driver()?;
    if d.info(dom)?.state != qvirt::DomainState::Shutoff {
        return Err(Error::new(
            ErrorCode::OperationInvalid,
            "Storage volume deletion is supported only on stopped domains",
        ));
    }
    let xml = d.xml_desc(dom, qvirt::driver::XmlFlags::INACTIVE)?;
    let def = qvirt::DomainDef::from_xml(&xml)?;
    let mut wanted: Option<Vec<&str>> = only.map(|l| l.split(',').map(str::trim).collect());
    let mut out = Vec::new();
    for disk in &def.devices.disks {
        let source = disk
            .volume
            .as_ref()
            .map(|v| v.volume.clone())
            .or_else(|| disk.source.clone());
        let Some(source) = source else { continue };
        if let Some(list) = &mut wanted {
            let Some(i) = list.iter().position(|w| *w == disk.target || *w == source) else {
                continue;
            };
            list.remove(i);
        }
        let vol = match &disk.volume {
            Some(v) => d
                .pool_lookup_by_name(&v.pool)
                .and_then(|p| d.vol_lookup_by_name(&p, &v.volume)),
            None => d.vol_lookup_by_path(std::path::Path::new(&source)),
        };
        match vol {
            Ok(vol) => out.push((disk.target.clone(), vol)),
            Err(_) => eprintln!(
                "error: Storage volume '{}'({source}) is not managed by qvirt. Remove it manually.",
                disk.target
            ),
        }
    }
    if let Some(left) = wanted.filter(|l| !l.is_empty()) {
        return Err(Error::new(
            ErrorCode::InvalidArgument,
            format!(
                "Volume '{}' was not found in domain's definition.",
                left.join("', '")
            ),
        ));
    }
    Ok(out)
}

/// `start`'s flags.
pub fn start_flags(paused: bool, autodestroy: bool) -> StartFlags {
    let mut flags = StartFlags::default();
    flags.paused = paused;
    flags.autodestroy = autodestroy;
    flags
}
