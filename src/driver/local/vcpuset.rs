//! `setvcpu`: one vCPU by id brought online or taken away, in the running
//! domain (CPU hot-plug into its own slot) or in the definition (its
//! `<vcpus>` entry), under libvirt's rules (`qemuDomainSetVcpuInternal`):
//! vCPU 0 stays, a vCPU that came with the machine cannot be unplugged,
//! the non-hotpluggable vCPUs of a definition stay the first ones, and
//! one vCPU (QEMU's hot-plug unit on x86 with one thread a core) changes
//! at a time in the running domain.

use super::driver::Core;
use super::resize::{plug_vcpus, unplug_vcpus, vcpu_slots};
use super::runtime::Running;
use crate::driver::{Domain, ModifyFlags};
use crate::error::{Error, ErrorCode, Result};
use crate::model::Vcpu;

fn bad(message: String) -> Error {
    Error::new(ErrorCode::InvalidArgument, message)
}

impl Core {
    /// [`crate::Driver::set_vcpu`].
    pub(crate) fn set_vcpu(
        &self,
        dom: &Domain,
        ids: &[u32],
        enable: bool,
        flags: ModifyFlags,
    ) -> Result<()> {
        if ids.is_empty() {
            return Err(bad("no vCPU given".into()));
        }
        let jobs = self.jobs(dom)?;
        let _job = jobs.begin(super::jobs::SyncKind::Modify, &dom.name)?;
        let (run, config) = self.targets(dom, flags, "change a vCPU of")?;
        if let Some(run) = &run {
            if ids.len() != 1 {
                return Err(Error::new(
                    ErrorCode::NoSupport,
                    "only one hotpluggable entity can be selected",
                ));
            }
            let vcpu = &run.live_def().vcpu;
            check_ids(vcpu, ids)?;
            check_live(run, ids[0], enable)?;
        }
        if config {
            self.with_entry(dom, |e| match &e.persistent {
                Some(def) => {
                    check_ids(&def.vcpu, ids)?;
                    config_change(&def.vcpu, ids, enable).map(drop)
                }
                None => Ok(()),
            })?;
        }
        if let Some(run) = &run {
            let result = change_live(run, ids[0], enable);
            self.record_vcpus(dom, run);
            result.map_err(|e| {
                Error::new(
                    e.code,
                    format!(
                        "cannot {} vCPU {} of domain '{}': {}",
                        if enable { "add" } else { "remove" },
                        ids[0],
                        dom.name,
                        e.message
                    ),
                )
            })?;
        }
        if config {
            self.edit_config(dom, &|def, _| {
                let (online, boot) = config_change(&def.vcpu, ids, enable)?;
                def.vcpu.set_online(&online, boot);
                Ok(())
            })?;
        }
        self.log.info(&format!(
            "domain '{}': vCPU(s) {ids:?} {}{}{}",
            dom.name,
            if enable { "enabled" } else { "disabled" },
            if run.is_some() { " (live)" } else { "" },
            if config { " (config)" } else { "" }
        ));
        Ok(())
    }
}

/// Every id names a vCPU of `vcpu`, and none is vCPU 0.
fn check_ids(vcpu: &Vcpu, ids: &[u32]) -> Result<()> {
    if ids.contains(&0) {
        return Err(bad("vCPU '0' can't be modified".into()));
    }
    match ids.iter().find(|id| **id >= vcpu.max) {
        Some(id) => Err(bad(format!(
            "vcpu {id} is not present in the domain ({} vCPUs)",
            vcpu.max
        ))),
        None => Ok(()),
    }
}

/// The running domain's vCPU `id` can change to `enable`: it is not in
/// that state yet, and one being removed was plugged in, not born with
/// the machine.
fn check_live(run: &Running, id: u32, enable: bool) -> Result<()> {
    let slots = vcpu_slots(run.qmp()?)?;
    let Some((_, path)) = slots.iter().find(|(i, _)| *i == id) else {
        return Err(bad(format!("QEMU has no slot for vCPU {id}")));
    };
    if path.is_some() == enable {
        return Err(bad(format!("vcpu '{id}' is already in requested state")));
    }
    if path
        .as_deref()
        .is_some_and(|p| !p.starts_with("/machine/peripheral/"))
    {
        return Err(bad(format!("vcpu '{id}' can't be hotunplugged")));
    }
    Ok(())
}

/// Plugs vCPU `id` into its slot, or unplugs it and waits for the guest
/// to let it go.
fn change_live(run: &Running, id: u32, enable: bool) -> Result<()> {
    let qmp = run.qmp()?;
    if enable {
        plug_vcpus(qmp, &[id])?;
        super::pinning::pin_plugged(qmp, &run.live_def(), &[id])
    } else {
        unplug_vcpus(qmp, &[format!("vcpu{id}")])
    }
}

/// The definition's vCPUs online and the count that come with the
/// machine after `ids` change to `enable`: the changed vCPUs become
/// hotpluggable, so those that stay non-hotpluggable must still be the
/// first ones (libvirt's `qemuDomainVcpuValidateConfig`).
fn config_change(vcpu: &Vcpu, ids: &[u32], enable: bool) -> Result<(Vec<u32>, u32)> {
    let boot = vcpu.boot_count();
    let first = *ids.iter().min().expect("ids were checked non-empty");
    if let Some(fixed) = (first + 1..boot).find(|id| !ids.contains(id)) {
        return Err(bad(format!(
            "vcpu '{first}' can't be modified as it is followed by non-hotpluggable online vcpus (vcpu '{fixed}')"
        )));
    }
    let mut online: Vec<u32> = vcpu
        .online_ids()
        .into_iter()
        .filter(|id| !ids.contains(id))
        .collect();
    if enable {
        online.extend_from_slice(ids);
    }
    online.sort_unstable();
    online.dedup();
    Ok((online, boot.min(first)))
}
