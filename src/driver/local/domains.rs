//! Definitions and queries: define, undefine, lookups, list, info, XML,
//! autostart. Nothing here talks to QEMU.

use uuid::Uuid;

use super::driver::{Core, Entry, lock, no_domain};
use super::jobs::SyncKind;
use super::store;
use crate::driver::{
    Domain, DomainInfo, DomainState, DomainSummary, EventKind, ListFilter, StateReason,
};
use crate::error::{Error, ErrorCode, Result};
use crate::model::DomainDef;
use crate::sys::process;

impl Core {
    /// Looks a domain up by name.
    pub fn lookup_name(&self, name: &str) -> Result<Domain> {
        let inner = lock(&self.inner);
        inner
            .names
            .get(name)
            .and_then(|u| inner.entries.get(u))
            .map(Entry::handle)
            .ok_or_else(|| no_domain(&format!("named '{name}' (connected to {})", self.uri)))
    }

    /// Looks a domain up by UUID.
    pub fn lookup_uuid(&self, uuid: Uuid) -> Result<Domain> {
        let inner = lock(&self.inner);
        inner
            .entries
            .get(&uuid)
            .map(Entry::handle)
            .ok_or_else(|| no_domain(&format!("with UUID {uuid} (connected to {})", self.uri)))
    }

    /// Looks a running domain up by its id.
    pub fn lookup_id(&self, id: u32) -> Result<Domain> {
        let inner = lock(&self.inner);
        inner
            .entries
            .values()
            .find(|e| e.running.as_ref().is_some_and(|r| r.id == id))
            .map(Entry::handle)
            .ok_or_else(|| no_domain(&format!("with id {id} (connected to {})", self.uri)))
    }

    /// The domains `filter` selects, by name.
    pub fn list_domains(&self, filter: ListFilter) -> Vec<DomainSummary> {
        let inner = lock(&self.inner);
        let mut out: Vec<DomainSummary> = inner
            .entries
            .values()
            .filter(|e| {
                if e.running.is_some() {
                    filter.active
                } else {
                    filter.inactive
                }
            })
            .map(|e| DomainSummary {
                domain: e.handle(),
                state: e.state().0,
            })
            .collect();
        out.sort_by(|a, b| a.domain.name.cmp(&b.domain.name));
        out
    }

    /// Defines or redefines a persistent domain.
    pub fn define(&self, xml: &str) -> Result<Domain> {
        let mut def = DomainDef::from_xml(xml)?;
        crate::qemu::validate::validate(&def)?;
        def.drop_runtime_values();
        let _config = lock(&self.config);
        {
            let mut inner = lock(&self.inner);
            if let Some(&uuid) = inner.names.get(&def.name)
                && uuid != def.uuid
            {
                return Err(store::conflict(&def, &def.name, uuid));
            }
            if let Some(other) = inner.entries.get(&def.uuid) {
                let other_name = &other.def().name;
                if *other_name != def.name {
                    return Err(store::conflict(&def, other_name, def.uuid));
                }
            }
            match inner.reservation(&def.name, def.uuid) {
                Some((name, uuid)) if *name == def.name && *uuid == def.uuid => {
                    return Err(Error::new(
                        ErrorCode::OperationInvalid,
                        format!(
                            "domain '{}' is being created; try again once it runs",
                            def.name
                        ),
                    ));
                }
                Some((name, uuid)) => return Err(store::conflict(&def, name, *uuid)),
                None => inner.reserved.push((def.name.clone(), def.uuid)),
            }
        }
        // Durable before visible: a crash after this line keeps the file,
        // and a failure here changes nothing in memory. The table is not
        // locked meanwhile (the fsyncs take a while): the reservation
        // keeps creates away from the name and UUID, and `config` keeps
        // other defines, undefines and rescans out.
        let saved = store::save(&self.layout, &def);
        let mut inner = lock(&self.inner);
        inner.release(def.uuid);
        saved?;
        let handle = match inner.entries.get_mut(&def.uuid) {
            Some(entry) => {
                entry.persistent = Some(Box::new(def.clone()));
                entry.handle()
            }
            None => {
                let handle = Domain {
                    name: def.name.clone(),
                    uuid: def.uuid,
                    id: None,
                };
                inner.names.insert(def.name.clone(), def.uuid);
                inner.entries.insert(
                    def.uuid,
                    Entry::defined(def.clone(), StateReason::Unknown, &self.layout),
                );
                handle
            }
        };
        drop(inner);
        self.log
            .info(&format!("defined domain '{}' ({})", def.name, def.uuid));
        self.emit(handle.clone(), EventKind::Defined);
        Ok(handle)
    }

    /// Removes a persistent definition; a running domain becomes transient.
    /// `flags` say what happens to its UEFI variable store and TPM state.
    pub fn undefine(&self, dom: &Domain, flags: crate::driver::UndefineFlags) -> Result<()> {
        let jobs = self.jobs(dom)?;
        let _job = jobs.begin(SyncKind::Modify, &dom.name)?;
        let _config = lock(&self.config);
        let (name, host_state) = {
            let inner = lock(&self.inner);
            let entry = Core::find(&inner, dom)?;
            if entry.persistent.is_none() {
                return Err(Error::new(
                    ErrorCode::OperationInvalid,
                    format!(
                        "domain '{}' is transient: it has no definition to remove",
                        dom.name
                    ),
                ));
            }
            let name = entry.def().name.clone();
            if entry.running.is_none() && entry.managed_save {
                return Err(Error::new(
                    ErrorCode::OperationInvalid,
                    format!(
                        "domain '{name}' has a managed save image; remove it first (managedsave-remove) or start the domain"
                    ),
                ));
            }
            let plan = super::tuning::undefine_plan(&self.layout, entry.def(), flags)?;
            (name, plan)
        };
        let snapshots = self.undefine_snapshots_check(dom, flags.snapshots_metadata)?;
        // Without the table lock, as in `define`: the job lock keeps the
        // domain from starting, and `config` keeps defines and rescans out.
        store::remove(&self.layout, &name)?;
        host_state.carry_out()?;
        if snapshots {
            self.remove_all_snapshot_records(&dom.uuid)?;
        }
        let mut inner = lock(&self.inner);
        if let Some(entry) = inner.entries.get_mut(&dom.uuid) {
            entry.persistent = None;
            entry.autostart = false;
            if let Some(run) = &entry.running {
                // Keep the status file truthful for a manager that reattaches.
                if let Err(e) = super::runtime::Status::of(run, false).write(&run.run_dir) {
                    self.log.error(&format!("domain '{name}': {e}"));
                }
            } else {
                if let Some(gone) = inner.entries.remove(&dom.uuid) {
                    gone.job.remove();
                }
                inner.names.remove(&name);
                let _ = crate::sys::fsutil::remove_runtime(&self.layout.reason_file(&dom.uuid));
            }
        }
        drop(inner);
        self.log.info(&format!("undefined domain '{name}'"));
        self.emit(
            Domain {
                name,
                uuid: dom.uuid,
                id: None,
            },
            EventKind::Undefined,
        );
        Ok(())
    }

    /// Renames a shut-off persistent domain (virsh's `domrename`). The
    /// new definition is written before the old one is removed: a crash
    /// in between leaves two files of one UUID, of which the manager
    /// reads the first by name and logs the other, so the domain is never
    /// lost. A default NVRAM store keeps its file (its path becomes
    /// explicit, as libvirt writes it at define).
    pub fn rename(&self, dom: &Domain, new_name: &str) -> Result<Domain> {
        let jobs = self.jobs(dom)?;
        let _job = jobs.begin(SyncKind::Modify, &dom.name)?;
        let _config = lock(&self.config);
        let invalid = |m: String| Error::new(ErrorCode::OperationInvalid, m);
        let (old, autostart) = {
            let inner = lock(&self.inner);
            let entry = Core::find(&inner, dom)?;
            let name = &entry.def().name;
            if entry.running.is_some() {
                return Err(invalid(format!(
                    "domain '{name}' has to be shut off before renaming"
                )));
            }
            if entry.persistent.is_none() {
                return Err(invalid(format!(
                    "domain '{name}' is transient and cannot be renamed"
                )));
            }
            if entry.managed_save {
                return Err(invalid(format!(
                    "domain '{name}' has a managed save image and cannot be renamed; start it or remove the image (managedsave-remove)"
                )));
            }
            if inner.names.contains_key(new_name)
                || inner.reserved.iter().any(|(n, _)| n == new_name)
            {
                return Err(Error::new(
                    ErrorCode::DomainExists,
                    format!("a domain named '{new_name}' already exists"),
                ));
            }
            (entry.def().clone(), entry.autostart)
        };
        let mut def = old.clone();
        // The default store is named after the domain: keep its file.
        let store = self.layout.nvram_file(&old.name);
        if old
            .os
            .nvram
            .as_ref()
            .is_none_or(|n| n.path.is_none() && !n.is_network())
            && store.exists()
        {
            let nvram = def.os.nvram.get_or_insert_with(Default::default);
            nvram.path = Some(store.to_string_lossy().into_owned());
        }
        def.name = new_name.to_string();
        // The name's own rules (characters, length), as a define has them.
        let def = DomainDef::from_xml(&def.to_xml())?;
        store::save(&self.layout, &def)?;
        if autostart {
            store::set_autostart(&self.layout, &def.name, true)?;
        }
        store::remove(&self.layout, &old.name)?;
        {
            let mut inner = lock(&self.inner);
            if let Some(entry) = inner.entries.get_mut(&dom.uuid) {
                entry.persistent = Some(Box::new(def.clone()));
            }
            inner.names.remove(&old.name);
            inner.names.insert(def.name.clone(), dom.uuid);
        }
        self.log
            .info(&format!("renamed domain '{}' to '{}'", old.name, def.name));
        let renamed = Domain {
            name: def.name.clone(),
            uuid: dom.uuid,
            id: None,
        };
        // As libvirt: the old name is undefined, the new one defined.
        self.emit(
            Domain {
                name: old.name,
                uuid: dom.uuid,
                id: None,
            },
            EventKind::Undefined,
        );
        self.emit(renamed.clone(), EventKind::Defined);
        Ok(renamed)
    }

    /// State, memory, vCPUs, CPU time: from memory and /proc, without
    /// touching a file.
    pub fn domain_info(&self, dom: &Domain) -> Result<DomainInfo> {
        let (mut info, pid) = {
            let inner = lock(&self.inner);
            let entry = Core::find(&inner, dom)?;
            let def = entry.def();
            let (state, reason) = entry.state();
            let pid = entry.running.as_ref().map(|r| r.process.pid);
            let (current_kib, vcpus) = entry
                .running
                .as_ref()
                .map(|r| {
                    let live = lock(&r.live);
                    (
                        live.current_memory_kib,
                        live.vcpus.as_ref().map(|v| v.len() as u32),
                    )
                })
                .unwrap_or_default();
            let info = DomainInfo {
                state,
                reason,
                max_memory_kib: def.memory_kib,
                memory_kib: current_kib
                    .or(def.current_memory_kib)
                    .unwrap_or(def.memory_kib),
                vcpus: vcpus.unwrap_or(def.vcpu.current.unwrap_or(def.vcpu.max)),
                cpu_time_ns: 0,
                persistent: entry.persistent.is_some(),
                autostart: entry.persistent.is_some() && entry.autostart,
                managed_save: pid.is_none() && entry.managed_save,
            };
            (info, pid)
        };
        // /proc is read without the table lock.
        info.cpu_time_ns = pid.and_then(process::cpu_time_ns).unwrap_or(0);
        Ok(info)
    }

    /// The live or persistent XML, without secrets unless asked, in the
    /// migratable form when asked.
    pub fn domain_xml(&self, dom: &Domain, flags: crate::driver::XmlFlags) -> Result<String> {
        let inner = lock(&self.inner);
        let entry = Core::find(&inner, dom)?;
        let mut run_dir = None;
        let mut def = match (&entry.persistent, &entry.running, flags.inactive()) {
            (Some(def), _, true) => std::borrow::Cow::Borrowed(&**def),
            (_, Some(run), _) => {
                run_dir = Some(run.run_dir.clone());
                let mut live = run.live_def();
                super::aliases::with_live_aliases(&mut live, &run.plugged());
                std::borrow::Cow::Owned(live)
            }
            _ => std::borrow::Cow::Borrowed(entry.def()),
        };
        if flags.migratable() {
            super::migratable::migratable(def.to_mut(), run_dir.as_deref());
        }
        Ok(if flags.secure() {
            def.to_xml()
        } else {
            def.without_secrets().to_xml()
        })
    }

    /// The autostart flag; persistent domains only.
    pub fn get_autostart(&self, dom: &Domain) -> Result<bool> {
        self.persistent_name(dom)?;
        self.with_entry(dom, |e| Ok(e.autostart))
    }

    /// Sets the autostart flag; persistent domains only.
    pub fn put_autostart(&self, dom: &Domain, on: bool) -> Result<()> {
        // Under `config`, so that an undefine cannot come between the
        // check and the write and leave a mark with no definition.
        let _config = lock(&self.config);
        let name = self.persistent_name(dom)?;
        store::set_autostart(&self.layout, &name, on)?;
        self.with_entry(dom, |e| {
            e.autostart = on;
            Ok(())
        })
    }

    /// The name of a persistent domain, or `OperationInvalid`.
    fn persistent_name(&self, dom: &Domain) -> Result<String> {
        self.with_entry(dom, |e| match &e.persistent {
            Some(def) => Ok(def.name.clone()),
            None => Err(Error::new(
                ErrorCode::OperationInvalid,
                format!(
                    "domain '{}' is transient; only defined domains can autostart",
                    dom.name
                ),
            )),
        })
    }

    /// Re-reads the config directory; see `LocalDriver::rescan`.
    pub fn rescan(&self) -> Result<()> {
        let _config = lock(&self.config);
        let defs = store::scan(&self.layout, &self.log)?;
        let mut inner = lock(&self.inner);
        let seen: std::collections::HashSet<Uuid> = defs.iter().map(|d| d.uuid).collect();
        for def in defs {
            if let Some((name, uuid)) = inner.reservation(&def.name, def.uuid) {
                self.log.error(&format!(
                    "rescan: {}.xml skipped: domain '{name}' (UUID {uuid}) is being created",
                    def.name
                ));
                continue;
            }
            if let Some(&other) = inner.names.get(&def.name)
                && other != def.uuid
            {
                self.log.error(&format!(
                    "rescan: {}.xml has UUID {}, but domain '{}' has UUID {other}; skipped",
                    def.name, def.uuid, def.name
                ));
                continue;
            }
            match inner.entries.get_mut(&def.uuid) {
                Some(entry) => {
                    if entry.def().name != def.name {
                        self.log.error(&format!(
                            "rescan: {}.xml reuses the UUID of domain '{}'; skipped",
                            def.name,
                            entry.def().name
                        ));
                        continue;
                    }
                    entry.autostart = store::autostart(&self.layout, &def.name);
                    if entry.persistent.as_deref() != Some(&def) {
                        entry.persistent = Some(Box::new(def));
                    }
                }
                None => {
                    inner.names.insert(def.name.clone(), def.uuid);
                    let uuid = def.uuid;
                    inner.entries.insert(
                        uuid,
                        Entry::defined(def, StateReason::Unknown, &self.layout),
                    );
                }
            }
        }
        let gone: Vec<Uuid> = inner
            .entries
            .iter()
            .filter(|(u, e)| e.persistent.is_some() && !seen.contains(u))
            .map(|(u, _)| *u)
            .collect();
        for uuid in gone {
            let entry = inner.entries.get_mut(&uuid).expect("listed above");
            let name = entry.def().name.clone();
            if entry.running.is_some() {
                // Still running: it carries on as a transient domain.
                entry.persistent = None;
                entry.autostart = false;
            } else {
                if let Some(gone) = inner.entries.remove(&uuid) {
                    gone.job.remove();
                }
                inner.names.remove(&name);
            }
        }
        self.log.info("rescanned the config directory");
        Ok(())
    }

    /// The `OperationInvalid` error for an operation refused in `state`.
    pub fn wrong_state(dom: &Domain, what: &str, state: DomainState) -> Error {
        Error::new(
            ErrorCode::OperationInvalid,
            format!(
                "cannot {what} domain '{}': it is {}",
                dom.name,
                state.as_str()
            ),
        )
    }
}
