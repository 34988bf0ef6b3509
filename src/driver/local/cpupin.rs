//! vCPUs and QEMU's other threads pinned while the domain runs and/or in
//! its definition (virsh's `vcpupin` and `emulatorpin` with a CPU list),
//! with libvirt's rules (`qemuDomainPinVcpuFlags`, `qemuDomainPinEmulator`):
//! live, the affinity of the vCPU's thread (as QEMU names it in
//! `query-cpus-fast`), or of every QEMU thread that is neither a vCPU nor
//! an I/O thread; in the definition, `<vcpupin>` and `<emulatorpin>`.
//! Both definitions are checked before the first change, so a refused
//! pinning changes nothing.

use super::driver::{Core, lock};
use super::jobs::SyncKind;
use super::pinning::{all_threads, host_cpuset, io_threads, set_affinity, vcpu_threads};
use super::runtime::Running;
use crate::driver::{Domain, ModifyFlags, PinTarget};
use crate::error::{Error, ErrorCode, Result};
use crate::model::{DomainDef, format_cpuset};

fn invalid(message: String) -> Error {
    Error::new(ErrorCode::InvalidArgument, message)
}

/// The pins of a running domain as changed since it started;
/// [`super::resize::LiveChanges`] applies them to its definition.
#[derive(Debug, Clone, Default)]
pub(crate) struct LivePins {
    vcpupins: Vec<(u32, String)>,
    emulatorpin: Option<String>,
}

impl LivePins {
    /// What `def` says of its pins.
    fn of(def: &DomainDef) -> LivePins {
        let t = def.cputune.as_deref();
        LivePins {
            vcpupins: t.map(|t| t.vcpupins.clone()).unwrap_or_default(),
            emulatorpin: t.and_then(|t| t.emulatorpin.clone()),
        }
    }

    /// Puts them into `def`.
    pub fn apply(&self, def: &mut DomainDef) {
        if def.cputune.is_some() || !self.vcpupins.is_empty() || self.emulatorpin.is_some() {
            let t = def.cputune.get_or_insert_with(Box::default);
            t.vcpupins.clone_from(&self.vcpupins);
            t.emulatorpin.clone_from(&self.emulatorpin);
        }
    }
}

/// Pins `target` to `cpus` in `def`, the running domain's (`live`) or
/// the persistent one, with libvirt's refusals and their words.
fn edit(def: &mut DomainDef, target: PinTarget, cpus: &[u32], live: bool) -> Result<()> {
    if let PinTarget::Vcpu(n) = target
        && n >= def.vcpu.max
    {
        // libvirt's counts: the maximum live, the current persistent.
        return Err(invalid(if live {
            format!(
                "vcpu {n} is out of range of live cpu count {}",
                def.vcpu.max
            )
        } else {
            format!(
                "vcpu {n} is out of range of persistent cpu count {}",
                def.vcpu.current.unwrap_or(def.vcpu.max)
            )
        }));
    }
    if cpus.is_empty() {
        return Err(invalid("Empty cpu list for pinning".to_string()));
    }
    let cpuset = format_cpuset(cpus);
    let t = def.cputune.get_or_insert_with(Box::default);
    match target {
        PinTarget::Vcpu(n) => {
            t.vcpupins.retain(|(v, _)| *v != n);
            t.vcpupins.push((n, cpuset));
            t.vcpupins.sort_by_key(|(v, _)| *v);
        }
        PinTarget::Emulator => t.emulatorpin = Some(cpuset),
    }
    Ok(())
}

/// Pins `target` to `cpus` in the running QEMU of `run`.
fn apply_live(run: &Running, target: PinTarget, cpus: &[u32]) -> Result<()> {
    let qmp = run.qmp()?;
    let cpuset = format_cpuset(cpus);
    let vcpus = vcpu_threads(qmp)?;
    match target {
        PinTarget::Vcpu(n) => {
            let set = host_cpuset(&format!("vcpupin {n}"), &cpuset)?;
            // An offline vCPU has no thread: its pin waits in the
            // definition, as libvirt keeps it.
            match vcpus.iter().find(|(i, _)| *i == n) {
                Some((_, tid)) => set_affinity(*tid, &set, &cpuset),
                None => Ok(()),
            }
        }
        PinTarget::Emulator => {
            let set = host_cpuset("emulatorpin", &cpuset)?;
            let iothreads = if run.def.iothreads.unwrap_or(0) > 0 {
                io_threads(qmp)?
            } else {
                Vec::new()
            };
            let special: Vec<i32> = vcpus.iter().chain(&iothreads).map(|(_, t)| *t).collect();
            for tid in all_threads(run.process.pid) {
                if !special.contains(&tid) {
                    set_affinity(tid, &set, &cpuset)?;
                }
            }
            Ok(())
        }
    }
}

impl Core {
    /// [`crate::Driver::pin_cpus`].
    pub(crate) fn pin_cpus(
        &self,
        dom: &Domain,
        target: PinTarget,
        cpus: &[u32],
        flags: ModifyFlags,
    ) -> Result<()> {
        let jobs = self.jobs(dom)?;
        let _job = jobs.begin(SyncKind::Modify, &dom.name)?;
        let what = match target {
            PinTarget::Vcpu(_) => "pin a vCPU of",
            PinTarget::Emulator => "pin the emulator threads of",
        };
        let (run, config) = self.targets(dom, flags, what)?;
        // Every check first, so that a refused pinning changes nothing.
        let live = match &run {
            Some(run) => {
                let mut def = run.live_def();
                edit(&mut def, target, cpus, true)?;
                Some((run, def))
            }
            None => None,
        };
        if config {
            self.with_entry(dom, |e| match &e.persistent {
                Some(def) => edit(&mut DomainDef::clone(def), target, cpus, false),
                None => Ok(()),
            })?;
        }
        if let Some((run, def)) = live {
            apply_live(run, target, cpus)?;
            lock(&run.live).pins = Some(LivePins::of(&def));
            self.save_status(def.uuid, run);
            let name = match target {
                PinTarget::Vcpu(n) => format!("cputune.vcpupin{n}"),
                PinTarget::Emulator => "cputune.emulatorpin".to_string(),
            };
            let value = crate::driver::TunableValue::Text(format_cpuset(cpus));
            super::monitor::tell_tunables(self, run, vec![(name, value)]);
        }
        if config {
            self.edit_config(dom, &|def, _| edit(def, target, cpus, false))?;
        }
        self.log.info(&format!(
            "domain '{}': {target:?} pinned to {}{}{}",
            dom.name,
            format_cpuset(cpus),
            if run.is_some() { " (live)" } else { "" },
            if config { " (config)" } else { "" }
        ));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(vcpu: &str, tune: &str) -> DomainDef {
        DomainDef::from_xml(&format!(
            "<domain type='qemu'><name>t</name><memory unit='MiB'>64</memory>{vcpu}{tune}\
             <os><type arch='x86_64' machine='pc'>hvm</type></os><devices/></domain>"
        ))
        .unwrap()
    }

    #[test]
    fn a_pin_replaces_the_vcpus_own_and_keeps_the_others() {
        let mut d = def(
            "<vcpu current='2'>4</vcpu>",
            "<cputune><vcpupin vcpu='1' cpuset='0'/><vcpupin vcpu='0' cpuset='1'/></cputune>",
        );
        edit(&mut d, PinTarget::Vcpu(1), &[0, 1], true).unwrap();
        edit(&mut d, PinTarget::Emulator, &[1], true).unwrap();
        let t = d.cputune.as_deref().unwrap();
        assert_eq!(
            t.vcpupins,
            [(0, "1".to_string()), (1, "0-1".to_string())],
            "sorted by vCPU, as libvirt writes them"
        );
        assert_eq!(t.emulatorpin.as_deref(), Some("1"));
        d.validate().unwrap();
        let xml = d.to_xml();
        assert!(xml.contains("vcpu='1' cpuset='0-1'"), "{xml}");
    }

    #[test]
    fn libvirts_refusals_with_its_words() {
        let mut d = def("<vcpu current='2'>4</vcpu>", "");
        let e = edit(&mut d, PinTarget::Vcpu(0), &[], true).unwrap_err();
        assert_eq!(e.message, "Empty cpu list for pinning");
        let e = edit(&mut d, PinTarget::Vcpu(4), &[0], true).unwrap_err();
        assert_eq!(e.message, "vcpu 4 is out of range of live cpu count 4");
        // An offline vCPU below the maximum may be pinned: the pin waits.
        edit(&mut d, PinTarget::Vcpu(3), &[0], true).unwrap();
        let e = edit(&mut d, PinTarget::Vcpu(4), &[0], false).unwrap_err();
        assert_eq!(
            e.message,
            "vcpu 4 is out of range of persistent cpu count 2"
        );
        let e = edit(&mut d, PinTarget::Emulator, &[], false).unwrap_err();
        assert_eq!(e.message, "Empty cpu list for pinning");
    }
}
