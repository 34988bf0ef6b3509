//! Memory and vCPUs, changed in the running domain (balloon, CPU
//! hot-plug) or in the definition, with virsh's `--live` / `--config`
//! rules; and `qemu-monitor-command`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::driver::{Core, lock};
use super::runtime::Running;
use super::store;
use crate::driver::{Domain, DomainState, ModifyFlags};
use crate::error::{Error, ErrorCode, Result};
use crate::model::{BalloonModel, DomainDef};
use crate::qemu::qmp::{QMP_TIMEOUT, Qmp};

/// How long a guest has to let go of a vCPU being removed: the guest
/// stops every CPU to take one offline, which an emulated (TCG) guest on
/// a busy host can take many seconds to do.
const VCPU_UNPLUG_WAIT: Duration = Duration::from_secs(30);

/// What the running domain changed since it started, beside media: the
/// balloon's target and the vCPUs online. [`Running::live_def`] applies
/// them.
#[derive(Debug, Default, Clone)]
pub(crate) struct LiveChanges {
    /// `<currentMemory>` as last asked of the balloon, KiB.
    pub current_memory_kib: Option<u64>,
    /// The vCPUs online by id, as QEMU last listed them.
    pub vcpus: Option<Vec<u32>>,
    /// The balloon's statistics period as last set (`Some(None)`: off).
    pub stats_period: Option<Option<u32>>,
    /// Title, description and `<metadata>` as last set.
    pub notes: Option<super::metadata::Notes>,
    /// `<memtune>` as last changed (`Some(None)`: no limits).
    pub memtune: Option<Option<crate::model::MemTune>>,
    /// `<blkiotune>` as last changed (`Some(None)`: none).
    pub blkiotune: Option<Option<Box<crate::model::BlkioTune>>>,
    /// The I/O threads as last changed.
    pub iothreads: Option<super::iothreads::LiveIoThreads>,
    /// The lifecycle actions as last set.
    pub actions: Option<super::actions::Actions>,
    /// A display's password, its expiry and what a change does to the
    /// clients connected, as last set (the display given to
    /// `update-device`).
    pub graphics_passwd: Option<crate::model::Graphics>,
    /// `<vcpupin>`s and `<emulatorpin>` as last changed.
    pub pins: Option<super::cpupin::LivePins>,
}

impl LiveChanges {
    /// Applies the changes to `def`.
    pub fn apply(&self, def: &mut DomainDef) {
        if let Some(kib) = self.current_memory_kib {
            def.current_memory_kib = Some(kib);
        }
        if let Some(ids) = &self.vcpus {
            // `def` is the definition the run started with: its first
            // vCPUs came with the machine.
            let boot = def.vcpu.boot_count();
            def.vcpu.set_online(ids, boot);
        }
        if let Some(notes) = &self.notes {
            notes.apply(def);
        }
        if let Some(period) = self.stats_period {
            balloon_of(def).stats_period = period;
        }
        if let Some(m) = self.memtune {
            def.memtune = m;
        }
        if let Some(b) = &self.blkiotune {
            def.blkiotune.clone_from(b);
        }
        if let Some(t) = &self.iothreads {
            t.apply(def);
        }
        if let Some(a) = &self.actions {
            a.apply(def);
        }
        if let Some(p) = &self.pins {
            p.apply(def);
        }
        if let Some(new) = &self.graphics_passwd {
            for g in def
                .devices
                .graphics
                .iter_mut()
                .filter(|g| g.kind == new.kind)
            {
                g.passwd.clone_from(&new.passwd);
                g.passwd_valid_to = new.passwd_valid_to;
                g.connected = new.connected;
            }
        }
    }
}

/// The `<memballoon>` of `def`, written out as the virtio one QEMU has
/// when the definition leaves it out.
fn balloon_of(def: &mut DomainDef) -> &mut crate::model::Memballoon {
    def.devices
        .memballoon
        .get_or_insert_with(|| crate::model::Memballoon {
            model: BalloonModel::Virtio,
            autodeflate: None,
            free_page_reporting: None,
            stats_period: None,
            virtio: Default::default(),
            address: None,
        })
}

/// A change checked against a definition, then made to it.
pub(super) type Edit<'a> = &'a dyn Fn(&mut DomainDef, &str) -> Result<()>;

impl Core {
    /// Where a change goes: the running domain, the definition, or both
    /// (virsh's `--current` when neither is asked), checked against what
    /// the domain has.
    pub(super) fn targets(
        &self,
        dom: &Domain,
        flags: ModifyFlags,
        what: &str,
    ) -> Result<(Option<Arc<Running>>, bool)> {
        let (run, persistent) =
            self.with_entry(dom, |e| Ok((e.running.clone(), e.persistent.is_some())))?;
        let (live, config) = match (flags.live, flags.config) {
            (false, false) => (run.is_some(), run.is_none()),
            both => both,
        };
        let run = match (live, run) {
            (false, _) => None,
            (true, None) => return Err(Core::wrong_state(dom, what, DomainState::Shutoff)),
            (true, Some(run)) => {
                let state = run.run_state().state;
                if !matches!(state, DomainState::Running | DomainState::Paused) {
                    return Err(Core::wrong_state(dom, what, state));
                }
                Some(run)
            }
        };
        if config && !persistent {
            return Err(Error::new(
                ErrorCode::OperationInvalid,
                format!(
                    "domain '{}' is transient: it has no persistent definition to change (drop --config)",
                    dom.name
                ),
            ));
        }
        Ok((run, config))
    }

    /// Changes the persistent definition with `edit`, under the config
    /// lock, and writes it.
    pub(super) fn edit_config(&self, dom: &Domain, edit: Edit<'_>) -> Result<()> {
        let _config = lock(&self.config);
        let mut def = self.with_entry(dom, |e| {
            e.persistent.as_deref().cloned().ok_or_else(|| {
                Error::new(
                    ErrorCode::OperationInvalid,
                    format!("domain '{}' was undefined meanwhile", dom.name),
                )
            })
        })?;
        edit(&mut def, "persistent definition")?;
        def.validate()?;
        store::save(&self.layout, &def)?;
        self.with_entry(dom, |e| {
            e.persistent = Some(Box::new(def));
            Ok(())
        })
    }

    /// [`crate::Driver::set_memory`].
    pub(crate) fn set_memory(&self, dom: &Domain, kib: u64, flags: ModifyFlags) -> Result<()> {
        let jobs = self.jobs(dom)?;
        let _job = jobs.begin(super::jobs::SyncKind::Modify, &dom.name)?;
        let (run, config) = self.targets(dom, flags, "change the live memory of")?;
        let fits = |def: &DomainDef, which: &str| {
            if kib == 0 || kib > def.memory_kib {
                return Err(Error::new(
                    ErrorCode::InvalidArgument,
                    format!(
                        "cannot set the memory of domain '{}' to {kib} KiB: the {which} allows 1 to {} KiB (<memory>; raise it with setmaxmem --config)",
                        dom.name, def.memory_kib
                    ),
                ));
            }
            Ok(())
        };
        // Every check first, so that a refused change changes nothing.
        if let Some(run) = &run {
            let live = run.live_def();
            fits(&live, "running domain")?;
            if live
                .devices
                .memballoon
                .as_ref()
                .is_some_and(|b| b.model == BalloonModel::None)
            {
                return Err(Error::new(
                    ErrorCode::OperationInvalid,
                    format!(
                        "domain '{}' has no memory balloon (<memballoon model='none'>): its memory cannot change while it runs",
                        dom.name
                    ),
                ));
            }
        }
        if config {
            self.with_entry(dom, |e| match &e.persistent {
                Some(def) => fits(def, "persistent definition"),
                None => Ok(()),
            })?;
        }
        if let Some(run) = &run {
            run.qmp()?
                .execute("balloon", Some(json!({"value": kib * 1024})), QMP_TIMEOUT)?;
            lock(&run.live).current_memory_kib = Some(kib);
            self.save_status(dom.uuid, run);
        }
        if config {
            self.edit_config(dom, &|def, which| {
                fits(def, which)?;
                def.current_memory_kib = Some(kib);
                Ok(())
            })?;
        }
        self.log.info(&format!(
            "domain '{}': memory set to {kib} KiB{}{}",
            dom.name,
            if run.is_some() { " (live)" } else { "" },
            if config { " (config)" } else { "" }
        ));
        Ok(())
    }

    /// [`crate::Driver::set_memory_stats_period`].
    pub(crate) fn set_memory_stats_period(
        &self,
        dom: &Domain,
        seconds: u32,
        flags: ModifyFlags,
    ) -> Result<()> {
        let jobs = self.jobs(dom)?;
        let _job = jobs.begin(super::jobs::SyncKind::Modify, &dom.name)?;
        let (run, config) =
            self.targets(dom, flags, "change the balloon's statistics period of")?;
        // No `<memballoon>` is QEMU's virtio one, as libvirt adds it.
        let balloon = |def: &DomainDef, which: &str| {
            if def
                .devices
                .memballoon
                .as_ref()
                .is_some_and(|b| b.model == BalloonModel::None)
            {
                return Err(Error::new(
                    ErrorCode::OperationInvalid,
                    format!(
                        "the {which} of domain '{}' has no memory balloon (<memballoon model='none'>): it has no statistics period",
                        dom.name
                    ),
                ));
            }
            Ok(())
        };
        // libvirt writes no `<stats>` for 0.
        let period = (seconds > 0).then_some(seconds);
        if let Some(run) = &run {
            balloon(&run.live_def(), "running domain")?;
        }
        if config {
            self.with_entry(dom, |e| match &e.persistent {
                Some(def) => balloon(def, "persistent definition"),
                None => Ok(()),
            })?;
        }
        if let Some(run) = &run {
            run.qmp()?.execute(
                "qom-set",
                Some(json!({
                    "path": "/machine/peripheral/balloon0",
                    "property": "guest-stats-polling-interval",
                    "value": seconds,
                })),
                QMP_TIMEOUT,
            )?;
            lock(&run.live).stats_period = Some(period);
            self.save_status(dom.uuid, run);
        }
        if config {
            self.edit_config(dom, &|def, which| {
                balloon(def, which)?;
                balloon_of(def).stats_period = period;
                Ok(())
            })?;
        }
        self.log.info(&format!(
            "domain '{}': balloon statistics every {seconds} s{}{}",
            dom.name,
            if run.is_some() { " (live)" } else { "" },
            if config { " (config)" } else { "" }
        ));
        Ok(())
    }

    /// [`crate::Driver::set_max_memory`].
    pub(crate) fn set_max_memory(&self, dom: &Domain, kib: u64, flags: ModifyFlags) -> Result<()> {
        let jobs = self.jobs(dom)?;
        let _job = jobs.begin(super::jobs::SyncKind::Modify, &dom.name)?;
        let running = self.with_entry(dom, |e| Ok(e.running.is_some()))?;
        if flags.live || (!flags.config && running) {
            return Err(Error::new(
                ErrorCode::OperationInvalid,
                format!(
                    "cannot resize the maximum memory of domain '{}' while it runs: use --config, and the change applies at its next start",
                    dom.name
                ),
            ));
        }
        let (_, config) = self.targets(dom, ModifyFlags::CONFIG, "")?;
        debug_assert!(config);
        if kib < 1024 {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                format!(
                    "cannot set the maximum memory of domain '{}' below 1024 KiB",
                    dom.name
                ),
            ));
        }
        self.edit_config(dom, &|def, _| {
            def.memory_kib = kib;
            def.current_memory_kib = def.current_memory_kib.map(|c| c.min(kib));
            Ok(())
        })?;
        self.log.info(&format!(
            "domain '{}': maximum memory set to {kib} KiB (config)",
            dom.name
        ));
        Ok(())
    }

    /// [`crate::Driver::set_vcpus`].
    pub(crate) fn set_vcpus(&self, dom: &Domain, count: u32, flags: ModifyFlags) -> Result<()> {
        let jobs = self.jobs(dom)?;
        let _job = jobs.begin(super::jobs::SyncKind::Modify, &dom.name)?;
        let (run, config) = self.targets(dom, flags, "change the live vCPUs of")?;
        let fits = |def: &DomainDef, which: &str| {
            if count == 0 || count > def.vcpu.max {
                return Err(Error::new(
                    ErrorCode::InvalidArgument,
                    format!(
                        "cannot set {count} vCPUs for domain '{}': the {which} allows 1 to {} (<vcpu>; raise it with setvcpus --maximum --config)",
                        dom.name, def.vcpu.max
                    ),
                ));
            }
            Ok(())
        };
        if let Some(run) = &run {
            fits(&run.live_def(), "running domain")?;
        }
        if config {
            self.with_entry(dom, |e| match &e.persistent {
                Some(def) => fits(def, "persistent definition"),
                None => Ok(()),
            })?;
        }
        if let Some(run) = &run {
            let result = hotplug_vcpus(run, count);
            // Whatever happened, record what QEMU has now.
            self.record_vcpus(dom, run);
            result.map_err(|e| {
                Error::new(
                    e.code,
                    format!(
                        "cannot set {count} vCPUs on domain '{}': {}",
                        dom.name, e.message
                    ),
                )
            })?;
        }
        if config {
            self.edit_config(dom, &|def, which| {
                fits(def, which)?;
                def.vcpu.set_current(count);
                Ok(())
            })?;
        }
        self.log.info(&format!(
            "domain '{}': {count} vCPUs{}{}",
            dom.name,
            if run.is_some() { " (live)" } else { "" },
            if config { " (config)" } else { "" }
        ));
        Ok(())
    }

    /// [`crate::Driver::set_max_vcpus`].
    pub(crate) fn set_max_vcpus(&self, dom: &Domain, count: u32, flags: ModifyFlags) -> Result<()> {
        let jobs = self.jobs(dom)?;
        let _job = jobs.begin(super::jobs::SyncKind::Modify, &dom.name)?;
        if flags.live {
            return Err(Error::new(
                ErrorCode::OperationInvalid,
                format!(
                    "cannot change the maximum vCPUs of domain '{}' while it runs: use --config",
                    dom.name
                ),
            ));
        }
        self.targets(dom, ModifyFlags::CONFIG, "")?;
        if count == 0 {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                "a domain needs at least one vCPU",
            ));
        }
        self.edit_config(dom, &|def, _| {
            // The vCPUs online stay as many as before, as libvirt keeps
            // them: raising the maximum does not bring more online.
            let online = def.vcpu.current.unwrap_or(def.vcpu.max).min(count);
            if count < def.vcpu.max {
                def.vcpu.individual = None;
            }
            def.vcpu.max = count;
            def.vcpu.current = (online < count).then_some(online);
            Ok(())
        })?;
        self.log.info(&format!(
            "domain '{}': at most {count} vCPUs (config)",
            dom.name
        ));
        Ok(())
    }

    /// [`crate::Driver::qemu_monitor_command`].
    pub(crate) fn qemu_monitor_command(&self, dom: &Domain, command: &str) -> Result<String> {
        let value: Value = serde_json::from_str(command).map_err(|e| {
            Error::new(
                ErrorCode::InvalidArgument,
                format!("the monitor command is not JSON: {e}"),
            )
        })?;
        let Some(execute) = value.get("execute").and_then(Value::as_str) else {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                "the monitor command must be a JSON object with \"execute\" (QMP); the human monitor is not offered",
            ));
        };
        let args = value.get("arguments").cloned();
        let run = self
            .with_entry(dom, |e| Ok(e.running.clone()))?
            .ok_or_else(|| {
                Core::wrong_state(dom, "send a monitor command to", DomainState::Shutoff)
            })?;
        self.taint_by_client(
            dom,
            &run,
            super::runtime::Taint::CustomMonitor,
            &format!("QMP '{execute}' sent by a client"),
        );
        let reply = run.qmp()?.execute(execute, args, QMP_TIMEOUT)?;
        Ok(json!({"return": reply}).to_string())
    }
}

impl Core {
    /// Marks `run` tainted by a client's own command (`taint`, with what
    /// was sent), as libvirt does: what the command changed is beyond
    /// the manager's knowledge, so the status file, the manager's log and
    /// the domain's log say so.
    pub(crate) fn taint_by_client(
        &self,
        dom: &Domain,
        run: &Running,
        taint: super::runtime::Taint,
        what: &str,
    ) {
        if run.taint(taint) {
            let persistent = self
                .with_entry(dom, |e| Ok(e.persistent.is_some()))
                .unwrap_or(false);
            if let Err(e) = super::launch::write_status(run, persistent) {
                self.log.warn(&format!(
                    "domain '{}': cannot record the taint in its status file: {e}",
                    dom.name
                ));
            }
        }
        let note = format!(
            "domain '{}' is tainted: {} ({what})",
            dom.name,
            taint.name()
        );
        self.log.warn(&note);
        if let Ok(mut f) = crate::sys::process::open_log(&self.layout.log_file(&dom.name)) {
            use std::io::Write;
            let _ = writeln!(f, "qvirt: {note}");
        }
    }
}

/// The vCPU slots of `query-hotpluggable-cpus` by vCPU index (QEMU lists
/// them from the highest index down), each with the QOM path of the vCPU
/// in it, if any.
pub(crate) fn vcpu_slots(qmp: &Qmp) -> Result<Vec<(u32, Option<String>)>> {
    let slots = qmp.execute("query-hotpluggable-cpus", None, QMP_TIMEOUT)?;
    let slots = slots.as_array().cloned().unwrap_or_default();
    let total = slots.len() as u32;
    let mut out: Vec<(u32, Option<String>)> = slots
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let path = s
                .get("qom-path")
                .and_then(Value::as_str)
                .map(str::to_string);
            (total - 1 - i as u32, path)
        })
        .collect();
    out.sort();
    Ok(out)
}

impl Core {
    /// Records the vCPUs QEMU has online now in the live definition and
    /// the status file (after any change, whether or not it all went
    /// through).
    pub(crate) fn record_vcpus(&self, dom: &Domain, run: &Running) {
        let Ok(slots) = run.qmp().and_then(vcpu_slots) else {
            return;
        };
        let ids = slots
            .iter()
            .filter(|(_, p)| p.is_some())
            .map(|(id, _)| *id)
            .collect();
        lock(&run.live).vcpus = Some(ids);
        self.save_status(dom.uuid, run);
    }
}

/// Plugs the vCPUs of indexes `ids` into their slots of
/// `query-hotpluggable-cpus` (which lists them from the highest index
/// down), as devices `vcpuN`; a slot already filled is left as it is.
pub(crate) fn plug_vcpus(qmp: &Qmp, ids: &[u32]) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let slots = qmp.execute("query-hotpluggable-cpus", None, QMP_TIMEOUT)?;
    let slots = slots.as_array().cloned().unwrap_or_default();
    for &id in ids {
        let slot = slots
            .len()
            .checked_sub(1 + id as usize)
            .and_then(|i| slots.get(i))
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::ConfigInvalid,
                    format!("QEMU has no slot for vCPU {id} ({} slots)", slots.len()),
                )
            })?;
        if slot.get("qom-path").is_some() {
            continue;
        }
        let mut args = slot["props"].clone();
        args["driver"] = slot["type"].clone();
        args["id"] = json!(format!("vcpu{id}"));
        qmp.execute("device_add", Some(args), QMP_TIMEOUT)?;
    }
    Ok(())
}

/// Adds or removes vCPUs until `count` are online: free slots from
/// `query-hotpluggable-cpus` are filled in order with `device_add`;
/// removal takes the highest ones that were added (ids `vcpuN`) and waits
/// for the guest to let them go.
fn hotplug_vcpus(run: &Running, count: u32) -> Result<()> {
    let qmp = run.qmp()?;
    let slots = vcpu_slots(qmp)?;
    let online = slots.iter().filter(|(_, p)| p.is_some()).count() as u32;
    if count > online {
        let free: Vec<u32> = slots
            .iter()
            .filter(|(_, p)| p.is_none())
            .map(|(id, _)| *id)
            .take((count - online) as usize)
            .collect();
        plug_vcpus(qmp, &free)?;
        return super::pinning::pin_plugged(qmp, &run.live_def(), &free);
    }
    if count < online {
        let mut added: Vec<String> = slots
            .iter()
            .filter_map(|(_, p)| {
                Some(
                    p.as_deref()?
                        .strip_prefix("/machine/peripheral/")?
                        .to_string(),
                )
            })
            .collect();
        let remove = (online - count) as usize;
        if added.len() < remove {
            return Err(Error::new(
                ErrorCode::OperationInvalid,
                format!(
                    "only vCPUs added while running can be removed: {} of the {online} online were",
                    added.len()
                ),
            ));
        }
        let going = added.split_off(added.len() - remove);
        return unplug_vcpus(qmp, &going);
    }
    Ok(())
}

/// Unplugs the vCPU devices `ids` (`vcpuN`) and waits, up to a deadline,
/// for the guest to let them go (QEMU empties their slots).
pub(crate) fn unplug_vcpus(qmp: &Qmp, ids: &[String]) -> Result<()> {
    for id in ids {
        qmp.execute("device_del", Some(json!({"id": id})), QMP_TIMEOUT)?;
    }
    let paths: Vec<String> = ids
        .iter()
        .map(|id| format!("/machine/peripheral/{id}"))
        .collect();
    let deadline = Instant::now() + VCPU_UNPLUG_WAIT;
    while vcpu_slots(qmp)?
        .iter()
        .any(|(_, p)| p.as_ref().is_some_and(|p| paths.contains(p)))
    {
        if Instant::now() >= deadline {
            return Err(Error::new(
                ErrorCode::Timeout,
                format!(
                    "the guest did not release vCPU(s) {} within {}s (does it handle ACPI CPU hot-unplug?)",
                    ids.join(", "),
                    VCPU_UNPLUG_WAIT.as_secs()
                ),
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(())
}
