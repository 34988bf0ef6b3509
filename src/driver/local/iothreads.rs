//! I/O threads added, removed, pinned and tuned (virsh's `iothreadadd`,
//! `iothreaddel`, `iothreadpin`, `iothreadset`), with libvirt's rules
//! (`qemuDomainChgIOThread`, `qemuDomainPinIOThread`): the running QEMU
//! gets an `iothread` object added or deleted over QMP, a thread's CPU
//! affinity set on the thread QEMU names in `query-iothreads`, polling
//! and pool bounds `qom-set` on the object; the definition gets
//! `<iothreads>`, `<iothreadids>` and `<iothreadpin>`. Every check, on
//! both definitions, comes before the first change, so a refused change
//! changes nothing.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::driver::{Core, lock};
use super::jobs::SyncKind;
use super::pinning::{host_cpuset, io_threads, set_affinity};
use super::runtime::Running;
use crate::driver::{Domain, IoThreadChange, IoThreadParams, ModifyFlags};
use crate::error::{Error, ErrorCode, Result};
use crate::model::{DomainDef, ThreadPool, ThreadSched, format_cpuset, parse_cpuset};
use crate::qemu::qmp::{QMP_TIMEOUT, Qmp};

fn invalid(message: String) -> Error {
    Error::new(ErrorCode::InvalidArgument, message)
}

/// The I/O threads of a running domain as changed since it started;
/// [`super::resize::LiveChanges`] applies them to its definition.
#[derive(Debug, Clone, Default)]
pub(crate) struct LiveIoThreads {
    iothreads: Option<u32>,
    ids: Option<Vec<u32>>,
    pools: BTreeMap<u32, ThreadPool>,
    pins: Vec<(u32, String)>,
    scheds: Vec<ThreadSched>,
}

impl LiveIoThreads {
    /// What `def` says of its I/O threads.
    fn of(def: &DomainDef) -> LiveIoThreads {
        let t = def.cputune.as_deref();
        LiveIoThreads {
            iothreads: def.iothreads,
            ids: def.iothread_ids.clone(),
            pools: def.thread_pools.iothreads.clone(),
            pins: t.map(|t| t.iothreadpins.clone()).unwrap_or_default(),
            scheds: t.map(|t| t.iothreadscheds.clone()).unwrap_or_default(),
        }
    }

    /// Puts them into `def`.
    pub fn apply(&self, def: &mut DomainDef) {
        def.iothreads = self.iothreads;
        def.iothread_ids.clone_from(&self.ids);
        def.thread_pools.iothreads.clone_from(&self.pools);
        if def.cputune.is_some() || !self.pins.is_empty() || !self.scheds.is_empty() {
            let t = def.cputune.get_or_insert_with(Box::default);
            t.iothreadpins.clone_from(&self.pins);
            t.iothreadscheds.clone_from(&self.scheds);
        }
    }
}

/// Sets `def`'s threads to `ids`, written as `<iothreadids>` unless
/// they are the plain 1 to N a bare `<iothreads>` means.
fn set_ids(def: &mut DomainDef, ids: Vec<u32>) {
    let plain = ids.iter().zip(1..).all(|(id, n)| *id == n);
    def.iothreads = (!ids.is_empty()).then_some(ids.len() as u32);
    def.iothread_ids = if ids.is_empty()
        || (plain && def.iothread_ids.is_none() && def.thread_pools.iothreads.is_empty())
    {
        None
    } else {
        Some(ids)
    };
}

/// Removes thread `id` from `def`, refused while a disk or controller
/// uses it (`virDomainDriverDelIOThreadCheck`).
fn remove(def: &mut DomainDef, id: u32) -> Result<()> {
    if let Some(d) = def
        .devices
        .disks
        .iter()
        .find(|d| d.driver.iothread == Some(id))
    {
        return Err(invalid(format!(
            "cannot remove IOThread {id} since it is being used by disk '{}'",
            d.target
        )));
    }
    if def
        .devices
        .controllers
        .iter()
        .any(|c| c.iothread == Some(id))
    {
        return Err(invalid(format!(
            "cannot remove IOThread '{id}' since it is being used by controller"
        )));
    }
    let mut ids = def.iothread_ids();
    ids.retain(|n| *n != id);
    def.thread_pools.iothreads.remove(&id);
    set_ids(def, ids);
    if let Some(t) = def.cputune.as_deref_mut() {
        t.iothreadpins.retain(|(n, _)| *n != id);
        for s in &mut t.iothreadscheds {
            let rest: Vec<u32> = parse_cpuset(&s.ids)
                .unwrap_or_default()
                .into_iter()
                .filter(|n| *n != id)
                .collect();
            s.ids = format_cpuset(&rest);
        }
        t.iothreadscheds.retain(|s| !s.ids.is_empty());
    }
    Ok(())
}

/// Checks new settings against thread `id`'s pool in `def`
/// (`qemuDomainIOThreadParseParams`, `qemuDomainIOThreadValidate`):
/// live, QEMU has no way back to its default, so -1 is refused.
fn check_params(def: &DomainDef, id: u32, p: &IoThreadParams, live: bool) -> Result<()> {
    let unsupported = |m: String| Error::new(ErrorCode::ConfigUnsupported, m);
    for (name, v) in [
        ("poll-max-ns", p.poll_max_ns),
        ("poll-grow", p.poll_grow.map(u64::from)),
        ("poll-shrink", p.poll_shrink.map(u64::from)),
    ] {
        if let Some(v) = v
            && v > i32::MAX as u64
        {
            return Err(unsupported(format!(
                "{name} ({v}) must be less than or equal to {}",
                i32::MAX
            )));
        }
    }
    if let Some(v) = p.thread_pool_min
        && v < -1
    {
        return Err(unsupported(format!(
            "thread_pool_min ({v}) must be equal to or greater than -1"
        )));
    }
    if let Some(v) = p.thread_pool_max
        && (v < -1 || v == 0)
    {
        return Err(unsupported(format!(
            "thread_pool_max ({v}) must be a positive number or -1"
        )));
    }
    for (name, v) in [("min", p.thread_pool_min), ("max", p.thread_pool_max)] {
        if live && v.is_some_and(|v| v < 0) {
            return Err(Error::new(
                ErrorCode::OperationInvalid,
                format!(
                    "thread_pool_{name} ({}) must be equal to or greater than 0 for live change",
                    v.unwrap_or_default()
                ),
            ));
        }
    }
    let pool = def
        .thread_pools
        .iothreads
        .get(&id)
        .copied()
        .unwrap_or_default();
    let pick = |new: Option<i32>, old: Option<u32>| match new {
        Some(v) => u32::try_from(v).ok(),
        None => old,
    };
    if let (Some(min), Some(max)) = (
        pick(p.thread_pool_min, pool.min),
        pick(p.thread_pool_max, pool.max),
    ) && min > max
    {
        return Err(Error::new(
            ErrorCode::OperationInvalid,
            format!("thread_pool_min ({min}) can't be greater than thread_pool_max ({max})"),
        ));
    }
    if !live && p.polls() {
        return Err(Error::new(
            ErrorCode::NoSupport,
            "configuring persistent polling values is not supported: poll-max-ns, poll-grow and poll-shrink exist in the running QEMU only (--live)",
        ));
    }
    Ok(())
}

/// Makes `change` in `def`, the running domain's (`live`) or the
/// persistent one, with libvirt's refusals and their words.
fn edit(def: &mut DomainDef, change: &IoThreadChange, live: bool) -> Result<()> {
    let id = change.id();
    if id == 0 {
        return Err(invalid("invalid value of 0 for iothread_id".to_string()));
    }
    let mut ids = def.iothread_ids();
    let known = ids.contains(&id);
    match change {
        IoThreadChange::Add(_) if known => Err(invalid(format!(
            "an IOThread is already using iothread_id '{id}'"
        ))),
        IoThreadChange::Add(_) => {
            ids.push(id);
            set_ids(def, ids);
            Ok(())
        }
        IoThreadChange::Remove(_) if !known => Err(invalid(format!(
            "cannot find IOThread '{id}' in iothreadids list"
        ))),
        IoThreadChange::Remove(_) => remove(def, id),
        IoThreadChange::Pin(_, cpus) if cpus.is_empty() => Err(invalid(
            "Empty iothread cpumap list for pinning".to_string(),
        )),
        IoThreadChange::Pin(..) if !known => Err(invalid(if live {
            format!("iothread {id} not found")
        } else {
            format!("iothreadid {id} not found")
        })),
        IoThreadChange::Pin(_, cpus) => {
            let t = def.cputune.get_or_insert_with(Box::default);
            t.iothreadpins.retain(|(n, _)| *n != id);
            t.iothreadpins.push((id, format_cpuset(cpus)));
            t.iothreadpins.sort_by_key(|(n, _)| *n);
            Ok(())
        }
        IoThreadChange::Tune(..) if !known => Err(invalid(format!(
            "cannot find IOThread '{id}' in iothreadids"
        ))),
        IoThreadChange::Tune(_, p) => {
            check_params(def, id, p, live)?;
            let pool = def.thread_pools.iothreads.entry(id).or_default();
            if let Some(v) = p.thread_pool_min {
                pool.min = u32::try_from(v).ok();
            }
            if let Some(v) = p.thread_pool_max {
                pool.max = u32::try_from(v).ok();
            }
            if *pool == ThreadPool::default() {
                def.thread_pools.iothreads.remove(&id);
            }
            // The pool bounds are written on <iothreadids>.
            def.iothread_ids = Some(ids);
            Ok(())
        }
    }
}

/// QEMU's object of I/O thread `id`.
fn alias(id: u32) -> String {
    format!("iothread{id}")
}

/// The host thread of I/O thread `id` in QEMU.
fn thread_of(qmp: &Qmp, id: u32) -> Result<i32> {
    io_threads(qmp)?
        .into_iter()
        .find(|(n, _)| *n == id)
        .map(|(_, tid)| tid)
        .ok_or_else(|| {
            Error::new(
                ErrorCode::Internal,
                format!("cannot find IOThread '{id}' in QEMU monitor"),
            )
        })
}

/// Makes `change` in the running QEMU of `run`, whose definition (after
/// the change) is `def`.
fn apply_live(qmp: &Qmp, def: &DomainDef, change: &IoThreadChange) -> Result<()> {
    let id = change.id();
    match change {
        IoThreadChange::Add(_) => {
            let args = json!({"qom-type": "iothread", "id": alias(id)});
            qmp.execute("object-add", Some(args), QMP_TIMEOUT)?;
            // The new thread runs where the domain's vCPUs may, as
            // libvirt's qemuProcessSetupIOThread puts it.
            let placed = thread_of(qmp, id).and_then(|tid| match &def.vcpu.cpuset {
                Some(cpuset) => set_affinity(tid, &host_cpuset("<vcpu cpuset>", cpuset)?, cpuset),
                None => Ok(()),
            });
            if placed.is_err() {
                let _ = qmp.execute("object-del", Some(json!({"id": alias(id)})), QMP_TIMEOUT);
            }
            placed
        }
        IoThreadChange::Remove(_) => qmp
            .execute("object-del", Some(json!({"id": alias(id)})), QMP_TIMEOUT)
            .map(drop),
        IoThreadChange::Pin(_, cpus) => {
            let cpuset = format_cpuset(cpus);
            let set = host_cpuset(&format!("iothreadpin {id}"), &cpuset)?;
            set_affinity(thread_of(qmp, id)?, &set, &cpuset)
        }
        IoThreadChange::Tune(_, p) => {
            let path = format!("/objects/{}", alias(id));
            let settings: [(&str, Option<Value>); 5] = [
                ("poll-max-ns", p.poll_max_ns.map(Value::from)),
                ("poll-grow", p.poll_grow.map(Value::from)),
                ("poll-shrink", p.poll_shrink.map(Value::from)),
                ("thread-pool-min", p.thread_pool_min.map(Value::from)),
                ("thread-pool-max", p.thread_pool_max.map(Value::from)),
            ];
            for (property, value) in settings {
                if let Some(value) = value {
                    let args = json!({"path": path, "property": property, "value": value});
                    qmp.execute("qom-set", Some(args), QMP_TIMEOUT)?;
                }
            }
            Ok(())
        }
    }
}

impl Core {
    /// [`crate::Driver::change_iothread`].
    pub(crate) fn change_iothread(
        &self,
        dom: &Domain,
        change: &IoThreadChange,
        flags: ModifyFlags,
    ) -> Result<()> {
        let jobs = self.jobs(dom)?;
        let _job = jobs.begin(SyncKind::Modify, &dom.name)?;
        let (run, config) = self.targets(dom, flags, "change the I/O threads of")?;
        // Every check first, so that a refused change changes nothing.
        let live = match &run {
            Some(run) => {
                let mut def = run.live_def();
                edit(&mut def, change, true)?;
                Some((run, def))
            }
            None => None,
        };
        if config {
            self.with_entry(dom, |e| match &e.persistent {
                Some(def) => edit(&mut DomainDef::clone(def), change, false),
                None => Ok(()),
            })?;
        }
        if let Some((run, def)) = live {
            self.change_live_iothread(run, &def, change)?;
        }
        if config {
            self.edit_config(dom, &|def, _| edit(def, change, false))?;
        }
        self.log.info(&format!(
            "domain '{}': I/O thread {} changed ({change:?}){}{}",
            dom.name,
            change.id(),
            if run.is_some() { " (live)" } else { "" },
            if config { " (config)" } else { "" }
        ));
        Ok(())
    }

    /// Makes `change` in running domain `run` and records its definition
    /// `def` after it.
    fn change_live_iothread(
        &self,
        run: &Running,
        def: &DomainDef,
        change: &IoThreadChange,
    ) -> Result<()> {
        apply_live(run.qmp()?, def, change)?;
        lock(&run.live).iothreads = Some(LiveIoThreads::of(def));
        self.save_status(def.uuid, run);
        if let IoThreadChange::Pin(id, cpus) = change {
            let value = crate::driver::TunableValue::Text(crate::model::format_cpuset(cpus));
            let params = vec![(format!("cputune.iothreadpin{id}"), value)];
            super::monitor::tell_tunables(self, run, params);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(inner: &str) -> DomainDef {
        DomainDef::from_xml(&format!(
            "<domain type='qemu'><name>t</name><memory unit='MiB'>64</memory>{inner}\
             <os><type arch='x86_64' machine='pc'>hvm</type></os><devices/></domain>"
        ))
        .unwrap()
    }

    #[test]
    fn adding_and_removing_keep_a_plain_list_plain() {
        let mut d = def("<iothreads>2</iothreads>");
        edit(&mut d, &IoThreadChange::Add(3), false).unwrap();
        assert_eq!((d.iothreads, d.iothread_ids.clone()), (Some(3), None));
        edit(&mut d, &IoThreadChange::Remove(1), false).unwrap();
        assert_eq!(
            (d.iothreads, d.iothread_ids.clone()),
            (Some(2), Some(vec![2, 3]))
        );
        let e = edit(&mut d, &IoThreadChange::Add(2), false).unwrap_err();
        assert!(e.message.contains("already using iothread_id '2'"), "{e}");
        edit(&mut d, &IoThreadChange::Remove(2), false).unwrap();
        edit(&mut d, &IoThreadChange::Remove(3), false).unwrap();
        assert_eq!((d.iothreads, d.iothread_ids), (None, None));
    }

    #[test]
    fn removing_drops_the_threads_pin_and_schedule() {
        let mut d = def(
            "<iothreads>2</iothreads><cputune><iothreadpin iothread='2' cpuset='0'/>\
             <iothreadsched iothreads='1-2' scheduler='batch'/></cputune>",
        );
        edit(&mut d, &IoThreadChange::Remove(2), false).unwrap();
        let t = d.cputune.as_deref().unwrap();
        assert!(t.iothreadpins.is_empty());
        assert_eq!(t.iothreadscheds[0].ids, "1");
        d.validate().unwrap();
    }

    #[test]
    fn pins_replace_and_refuse_unknown_threads() {
        let mut d = def("<iothreads>1</iothreads>");
        edit(&mut d, &IoThreadChange::Pin(1, vec![0, 1, 2]), false).unwrap();
        edit(&mut d, &IoThreadChange::Pin(1, vec![1]), false).unwrap();
        assert_eq!(
            d.cputune.as_deref().unwrap().iothreadpins,
            vec![(1, "1".into())]
        );
        let e = edit(&mut d, &IoThreadChange::Pin(2, vec![1]), false).unwrap_err();
        assert_eq!(e.message, "iothreadid 2 not found");
        let e = edit(&mut d, &IoThreadChange::Pin(1, vec![]), true).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidArgument);
    }

    #[test]
    fn tuning_follows_libvirts_rules() {
        let mut d = def("<iothreads>1</iothreads>");
        let p = |min: Option<i32>, max: Option<i32>| IoThreadParams {
            thread_pool_min: min,
            thread_pool_max: max,
            ..IoThreadParams::default()
        };
        edit(&mut d, &IoThreadChange::Tune(1, p(Some(2), Some(8))), false).unwrap();
        assert_eq!(d.iothread_ids, Some(vec![1]));
        assert_eq!(
            d.thread_pools.iothreads[&1],
            ThreadPool {
                min: Some(2),
                max: Some(8)
            }
        );
        let e = edit(&mut d, &IoThreadChange::Tune(1, p(Some(9), None)), false).unwrap_err();
        assert!(e.message.contains("can't be greater"), "{e}");
        let e = edit(&mut d, &IoThreadChange::Tune(1, p(Some(-1), None)), true).unwrap_err();
        assert_eq!(e.code, ErrorCode::OperationInvalid);
        let poll = IoThreadParams {
            poll_max_ns: Some(100),
            ..IoThreadParams::default()
        };
        let e = edit(&mut d, &IoThreadChange::Tune(1, poll), false).unwrap_err();
        assert_eq!(e.code, ErrorCode::NoSupport);
        edit(&mut d, &IoThreadChange::Tune(1, poll), true).unwrap();
    }

    #[test]
    fn a_thread_in_use_is_not_removed() {
        let mut d = DomainDef::from_xml(
            "<domain type='qemu'><name>t</name><memory unit='MiB'>64</memory>\
             <iothreads>1</iothreads><os><type arch='x86_64' machine='pc'>hvm</type></os>\
             <devices><disk type='file' device='disk'><driver name='qemu' type='raw' iothread='1'/>\
             <source file='/x'/><target dev='vda' bus='virtio'/></disk></devices></domain>",
        )
        .unwrap();
        let e = edit(&mut d, &IoThreadChange::Remove(1), false).unwrap_err();
        assert_eq!(
            e.message,
            "cannot remove IOThread 1 since it is being used by disk 'vda'"
        );
    }
}
