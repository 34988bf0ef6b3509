//! `LocalDriver`: the in-process driver. It owns one state directory
//! (taking its lock), keeps the defined and running domains in memory,
//! and runs QEMU. The daemon is this driver behind a socket.
//!
//! Locking: `Core::inner` guards the table of domains and is never held
//! across QEMU or QMP I/O, a wait, or an fsync. Operations on one domain
//! are serialised by that domain's jobs (see `jobs`), taken before
//! `inner` and held across the I/O, so a slow start of one domain never
//! delays another. Changes to the config directory (define, undefine, autostart,
//! rescan) take turns under `Core::config`, taken after any job lock and
//! before `inner`, and held from their checks to their table update, so
//! the files and the table agree while lookups go on during the writes.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};

use uuid::Uuid;

use super::events::EventBus;
use super::jobs::Jobs;
use super::layout::Layout;
use super::runtime::Running;
use super::store;
use crate::driver::{Domain, DomainState, Event, EventKind, StateReason};
use crate::error::{Error, ErrorCode, Result};
use crate::model::DomainDef;
use crate::qemu::caps::QemuCaps;
use crate::qemu::probe;
use crate::sys::fsutil::StateLock;
use crate::sys::logger::Logger;

/// The in-process driver. Cheap to share: clone the `Arc` it lives in, or
/// use it through `&dyn Driver`.
pub struct LocalDriver {
    pub(crate) core: Arc<Core>,
    /// Whether this handle owns the manager (closes it when dropped);
    /// a view for serving it to other processes does not.
    owner: bool,
    /// What lives as long as the manager and must go first when it closes
    /// (the server that shares it with other processes).
    attached: Mutex<Vec<Box<dyn Send>>>,
    /// The domains this handle started with `autodestroy`, each with the
    /// id of that run: destroyed when the handle drops, if still that run.
    tied: Mutex<Vec<Domain>>,
}

/// Everything the driver and its monitor threads share.
pub(crate) struct Core {
    pub uri: String,
    pub layout: Layout,
    pub log: Arc<Logger>,
    pub events: EventBus,
    pub inner: Mutex<Inner>,
    /// Held by each change of the config directory across its file
    /// writes and the table update that follows (see the module doc).
    pub config: Mutex<()>,
    /// Probed QEMU capabilities by binary, with the size and mtime they
    /// were probed at.
    caps: Mutex<HashMap<PathBuf, (CapsKey, QemuCaps)>>,
    /// A handle on itself for the threads it starts.
    pub me: Weak<Core>,
    /// The CPU group QEMU processes go into, found at the first start.
    pub vm_group: std::sync::OnceLock<crate::sys::cgroup::VmGroup>,
    /// Whether QEMU processes go into that group (see
    /// `LocalDriver::set_cpu_group`).
    pub use_vm_group: std::sync::atomic::AtomicBool,
    /// The state directory's lock; taken out (released) when the
    /// `LocalDriver` is dropped, once every thread of the core has ended.
    state_lock: Mutex<Option<StateLock>>,
    /// The threads the core started (monitors, restarts): each is joined
    /// before the lock is released, so none acts on the state directory
    /// after another manager may have taken it.
    threads: Mutex<Vec<std::thread::JoinHandle<()>>>,
    /// How this manager reaches others (a migration's destination); set
    /// by whoever opens it through a URI.
    pub peers: std::sync::OnceLock<super::migrate::PeerConnector>,
    /// Running domains a killed manager left in the middle of an
    /// outgoing migration, resolved once `peers` is known.
    pub unsettled_migrations: Mutex<Vec<Domain>>,
    /// Outgoing migrations a client drives that wait for its
    /// confirmation, by domain (see `migrate_steps`).
    pub awaiting: Mutex<HashMap<uuid::Uuid, super::migrate_steps::Confirmer>>,
    /// Set when the driver is being dropped: nothing new is started.
    pub closing: std::sync::atomic::AtomicBool,
    /// Storage pools and image formats, read at their first use.
    pub storage: super::storage::Storage,
    /// Secrets and their values, read at their first use.
    pub secrets: super::secrets::Secrets,
}

/// The table of domains.
#[derive(Default)]
pub(crate) struct Inner {
    pub entries: HashMap<Uuid, Entry>,
    pub names: HashMap<String, Uuid>,
    pub next_id: u32,
    /// The names and UUIDs a define or a create holds while it writes
    /// the definition or starts QEMU without the table lock: no other
    /// define, create or rescan takes them meanwhile. `names` and `entries`
    /// hold only domains that exist.
    pub reserved: Vec<(String, Uuid)>,
    /// The host PCI devices runs hold (see `passthrough`), by host
    /// address, with the UUID and name of the domain holding each.
    pub pci_claims: HashMap<String, (Uuid, String)>,
}

impl Inner {
    /// The reservation holding `name` or `uuid`, if any.
    pub fn reservation(&self, name: &str, uuid: Uuid) -> Option<&(String, Uuid)> {
        self.reserved.iter().find(|(n, u)| n == name || *u == uuid)
    }

    /// Lets go of the reservation of `uuid`.
    pub fn release(&mut self, uuid: Uuid) {
        self.reserved.retain(|(_, u)| *u != uuid);
    }
}

/// One domain: defined, running, or both.
pub(crate) struct Entry {
    /// The persistent definition; `None` for a transient domain. Boxed,
    /// so that the table's free slots (a hash table keeps an eighth or
    /// more free) cost a pointer each rather than a whole definition.
    pub persistent: Option<Box<DomainDef>>,
    /// The run, while QEMU runs.
    pub running: Option<Arc<Running>>,
    /// Why the domain is shut off (meaningful while not running).
    pub reason: StateReason,
    /// The jobs that serialise operations on this domain (see `jobs`);
    /// marked removed when the entry leaves the table.
    pub job: Arc<Jobs>,
    /// Whether the domain starts with the manager (its mark file exists).
    pub autostart: bool,
    /// Whether a managed save image exists (its file does).
    pub managed_save: bool,
    /// The most MiB/s a migration may use when it does not say (virsh's
    /// `migrate-setspeed`); `None`: unlimited. Kept while the manager
    /// runs, as libvirt keeps it.
    pub migrate_speed: Option<u64>,
    /// The guest agent's response timeout (libvirt's
    /// `virDomainAgentSetResponseTimeout`; block until set), kept while
    /// the manager runs and given to each run as it starts (a run's
    /// status file keeps it across managers).
    pub agent_timeout: i32,
}

impl Entry {
    /// A shut-off entry for `def`, with what the files under `layout` say
    /// of its autostart mark and managed save image.
    pub fn defined(def: DomainDef, reason: StateReason, layout: &Layout) -> Entry {
        let autostart = store::autostart(layout, &def.name);
        let managed_save = layout.managed_save_file(&def.name).exists();
        Entry::with_marks(def, reason, autostart, managed_save)
    }

    /// A shut-off entry for `def` with its autostart mark and managed
    /// save image as given (an open finds them in directory listings).
    pub fn with_marks(
        def: DomainDef,
        reason: StateReason,
        autostart: bool,
        managed_save: bool,
    ) -> Entry {
        Entry {
            autostart,
            managed_save,
            persistent: Some(Box::new(def)),
            running: None,
            reason,
            job: Arc::default(),
            migrate_speed: None,
            agent_timeout: super::agent::TIMEOUT_BLOCK,
        }
    }

    /// The definition that names the domain: the live one while running.
    pub fn def(&self) -> &DomainDef {
        match (&self.running, &self.persistent) {
            (Some(run), _) => &run.def,
            (None, Some(def)) => def,
            (None, None) => unreachable!("an entry is defined or running"),
        }
    }

    /// The handle lookups return.
    pub fn handle(&self) -> Domain {
        let def = self.def();
        Domain {
            name: def.name.clone(),
            uuid: def.uuid,
            id: self.running.as_ref().map(|r| r.id),
        }
    }

    /// The state and its reason.
    pub fn state(&self) -> (DomainState, StateReason) {
        match &self.running {
            Some(run) => {
                let s = run.run_state();
                (s.state, s.reason)
            }
            None => (DomainState::Shutoff, self.reason),
        }
    }
}

pub(crate) use crate::sys::sync::lock;

impl LocalDriver {
    /// Opens the embedded driver on `root` (`qemu:///embed?root=ROOT`).
    pub fn open_embedded(root: &Path) -> Result<LocalDriver> {
        let uri = format!("qemu:///embed?root={}", root.display());
        LocalDriver::open(Layout::embedded(root), uri, false)
    }

    /// Opens the driver on `layout`: creates and checks its directories,
    /// takes the lock, reads the definitions, and reattaches to the
    /// domains still running. `log_stderr` copies the log to stderr.
    pub fn open(layout: Layout, uri: String, log_stderr: bool) -> Result<LocalDriver> {
        layout.prepare()?;
        let state_lock = StateLock::acquire(&layout.lock)?;
        let log = Arc::new(Logger::open(&layout.manager_log(), log_stderr));
        let found = store::scan_at_open(&layout, &log)?;
        let (entries, names) = initial_entries(&layout, found);
        let core = Arc::new_cyclic(|me| Core {
            uri,
            layout,
            log,
            events: EventBus::default(),
            inner: Mutex::new(Inner {
                next_id: 1,
                entries,
                names,
                ..Inner::default()
            }),
            config: Mutex::new(()),
            caps: Mutex::new(HashMap::new()),
            me: me.clone(),
            vm_group: std::sync::OnceLock::new(),
            use_vm_group: std::sync::atomic::AtomicBool::new(false),
            state_lock: Mutex::new(Some(state_lock)),
            threads: Mutex::new(Vec::new()),
            peers: std::sync::OnceLock::new(),
            unsettled_migrations: Mutex::new(Vec::new()),
            awaiting: Mutex::new(HashMap::new()),
            closing: std::sync::atomic::AtomicBool::new(false),
            storage: Default::default(),
            secrets: Default::default(),
        });
        core.reattach_all();
        core.settle_snapshots();
        Ok(LocalDriver {
            core,
            owner: true,
            attached: Mutex::new(Vec::new()),
            tied: Mutex::new(Vec::new()),
        })
    }
}

/// The table an open starts with: a shut-off entry per definition, with
/// its shut-off reason (read only where the runtime directory lists a
/// reason file), autostart mark and managed save image as the listings
/// of `found` say.
fn initial_entries(
    layout: &Layout,
    found: store::AtOpen,
) -> (HashMap<Uuid, Entry>, HashMap<String, Uuid>) {
    let listed = |path: &Path, names: &HashSet<String>| {
        path.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| names.contains(n))
    };
    let mut entries = HashMap::with_capacity(found.defs.len());
    let mut names = HashMap::with_capacity(found.defs.len());
    for def in found.defs {
        let reason_file = layout.reason_file(&def.uuid);
        let reason = listed(&reason_file, &found.run)
            .then(|| std::fs::read_to_string(&reason_file).ok())
            .flatten()
            .and_then(|r| StateReason::from_name(r.trim()))
            .unwrap_or(StateReason::Unknown);
        let autostart = listed(&layout.autostart_file(&def.name), &found.autostart);
        let managed_save = listed(&layout.managed_save_file(&def.name), &found.save);
        names.insert(def.name.clone(), def.uuid);
        entries.insert(
            def.uuid,
            Entry::with_marks(def, reason, autostart, managed_save),
        );
    }
    (entries, names)
}

impl LocalDriver {
    /// Another handle on the same manager that never closes it: what a
    /// server shares with other processes while this handle owns it.
    pub(crate) fn view(&self) -> LocalDriver {
        LocalDriver {
            core: self.core.clone(),
            owner: false,
            attached: Mutex::new(Vec::new()),
            tied: Mutex::new(Vec::new()),
        }
    }

    /// Ties `dom` (started by this handle, with its run's id) to this
    /// handle: it is destroyed when the handle drops. Entries of runs
    /// that are over are forgotten here, so the list stays as long as the
    /// domains that still need it.
    pub(crate) fn tie(&self, dom: Domain) {
        let mut tied = lock(&self.tied);
        tied.retain(|d| {
            self.core
                .resolve(d)
                .is_ok_and(|now| now.id.is_some() && now.id == d.id)
        });
        tied.push(dom);
    }

    /// Keeps `thing` until the manager closes, and drops it first then.
    pub(crate) fn attach(&self, thing: Box<dyn Send>) {
        lock(&self.attached).push(thing);
    }

    /// How this manager reaches other managers, for migrations
    /// (`qvirt::connect`, which does this itself for the drivers it
    /// opens). Setting it also resolves migrations a killed manager left
    /// half done (see `migrate`). Later calls change nothing.
    pub fn set_peer_connector(&self, connect: super::migrate::PeerConnector) {
        if self.core.peers.set(connect).is_err() {
            return;
        }
        let unsettled = std::mem::take(&mut *lock(&self.core.unsettled_migrations));
        for dom in unsettled {
            let run = self
                .core
                .with_entry(&dom, |e| Ok(e.running.clone()))
                .ok()
                .flatten();
            if let Some(run) = run {
                self.core.settle_migration(&dom, &run);
            }
        }
    }

    /// Whether QEMU processes started from now on go into one CPU group
    /// of their own (the CPU controller's `qvirt` group where cgroups are
    /// writable, as libvirt's machine.slice), so that many VMs weigh as
    /// much as one process and the manager stays responsive. Default:
    /// off (a program embedding the library keeps its own scheduling);
    /// `qvirtd --system` turns it on.
    pub fn set_cpu_group(&self, on: bool) {
        self.core
            .use_vm_group
            .store(on, std::sync::atomic::Ordering::SeqCst);
    }

    /// The manager's log, for a daemon to write its own lines into.
    pub fn logger(&self) -> Arc<Logger> {
        self.core.log.clone()
    }

    /// Reads the config directory again (a daemon does on SIGHUP): adds
    /// new definitions, takes changed ones, and forgets shut-off domains
    /// whose file is gone. Bad files are logged and skipped, as at open.
    pub fn rescan(&self) -> Result<()> {
        self.core.rescan()
    }

    /// Starts every shut-off domain marked autostart, one after the
    /// other in the order of their names; returns each one's name and
    /// what its start gave. A failure is logged and does not stop the
    /// others. A daemon calls this once, after opening; opening the driver
    /// never does it by itself, so a program (or the CLI) that embeds the
    /// driver starts nothing it was not asked to.
    pub fn autostart_all(&self) -> Vec<(String, Result<()>)> {
        let mut marked: Vec<Domain> = lock(&self.core.inner)
            .entries
            .values()
            .filter(|e| e.running.is_none() && e.autostart)
            .filter_map(|e| e.persistent.as_ref().map(|_| e.handle()))
            .collect();
        marked.sort_by(|a, b| a.name.cmp(&b.name));
        let mut out = Vec::new();
        for dom in marked {
            let result = self.core.start_domain(&dom).map(|_| ());
            match &result {
                Ok(()) => self
                    .core
                    .log
                    .info(&format!("autostart: started domain '{}'", dom.name)),
                Err(e) => self.core.log.error(&format!(
                    "autostart: domain '{}' failed to start: {e}",
                    dom.name
                )),
            }
            out.push((dom.name, result));
        }
        out
    }

    /// Whether any domain runs.
    pub fn any_running(&self) -> bool {
        lock(&self.core.inner)
            .entries
            .values()
            .any(|e| e.running.is_some())
    }
}

impl Drop for LocalDriver {
    /// Lets go of the state directory before returning, leaving the QEMUs
    /// running for the next manager: marks the core closing (no restart
    /// starts), forgets the runs (which closes their QMP connections and
    /// wakes their monitor threads, which then end), joins every thread
    /// the core started, and only then releases the lock. A restart in
    /// the middle of a start finishes it, finds its domain gone, and stops
    /// the QEMU it started.
    fn drop(&mut self) {
        // The domains this handle tied to itself end with it, whoever
        // owns the manager.
        for dom in std::mem::take(&mut *lock(&self.tied)) {
            let _ = crate::driver::autodestroy::destroy_if_same_run(self, &dom);
        }
        if !self.owner {
            return;
        }
        // A server sharing this manager stops first (and lets go of its
        // view), so no call of another process runs while it closes.
        drop(std::mem::take(&mut *lock(&self.attached)));
        self.core
            .closing
            .store(true, std::sync::atomic::Ordering::SeqCst);
        let entries = std::mem::take(&mut lock(&self.core.inner).entries);
        for e in entries.values() {
            e.job.remove();
        }
        drop(entries);
        loop {
            let threads = std::mem::take(&mut *lock(&self.core.threads));
            if threads.is_empty() {
                break;
            }
            for t in threads {
                let _ = t.join();
            }
        }
        drop(lock(&self.core.state_lock).take());
    }
}

impl Core {
    /// The entry for `dom`, found by UUID, checked to still carry the
    /// same name.
    pub fn find<'a>(inner: &'a Inner, dom: &Domain) -> Result<&'a Entry> {
        inner
            .entries
            .get(&dom.uuid)
            .ok_or_else(|| no_domain(&format!("'{}' (UUID {})", dom.name, dom.uuid)))
    }

    /// The domain's own handle for a caller's `dom`, found by UUID: what
    /// the manager logs and tells subscribers names the domain as it is,
    /// never as a caller spelled it.
    pub fn resolve(&self, dom: &Domain) -> Result<Domain> {
        self.with_entry(dom, |e| Ok(e.handle()))
    }

    /// Runs `f` on the entry of `dom` under the table lock.
    pub fn with_entry<T>(
        &self,
        dom: &Domain,
        f: impl FnOnce(&mut Entry) -> Result<T>,
    ) -> Result<T> {
        let mut inner = lock(&self.inner);
        let entry = inner
            .entries
            .get_mut(&dom.uuid)
            .ok_or_else(|| no_domain(&format!("'{}' (UUID {})", dom.name, dom.uuid)))?;
        f(entry)
    }

    /// The jobs of `dom`: take one (`begin`) and hold it for the whole
    /// operation.
    pub fn jobs(&self, dom: &Domain) -> Result<Arc<Jobs>> {
        self.with_entry(dom, |e| Ok(e.job.clone()))
    }

    /// Starts a thread owned by the core (joined when the driver is
    /// dropped); `None`, logged, when the system cannot start one, or when
    /// the driver is closing.
    pub fn spawn(&self, name: &str, f: impl FnOnce() + Send + 'static) -> Option<()> {
        if self.closing.load(std::sync::atomic::Ordering::SeqCst) {
            return None;
        }
        let spawned = std::thread::Builder::new()
            .name(name.to_string())
            .stack_size(256 * 1024)
            .spawn(f);
        match spawned {
            Ok(handle) => {
                let mut threads = lock(&self.threads);
                threads.retain(|t| !t.is_finished());
                threads.push(handle);
                Some(())
            }
            Err(e) => {
                self.log
                    .error(&format!("cannot start a thread ({name}): {e}"));
                None
            }
        }
    }

    /// Sends an event to subscribers.
    pub fn emit(&self, domain: Domain, kind: EventKind) {
        self.events.emit(Event { domain, kind });
    }

    /// The capabilities of `emulator`, probed once and cached by its size
    /// and modification time (a package upgrade changes both), in memory
    /// and in `cache/qemu-caps.json`, so a new manager (every CLI call on
    /// an embedded root) does not probe again. Whether KVM is usable is
    /// checked afresh each time: it is one open(2).
    pub fn caps(&self, emulator: &Path) -> Result<QemuCaps> {
        let meta = std::fs::metadata(emulator).map_err(|e| {
            Error::io(
                format!(
                    "cannot use the emulator {} (is qemu-system-x86 installed?)",
                    emulator.display()
                ),
                e,
            )
        })?;
        let key = CapsKey {
            size: meta.len(),
            mtime_ns: meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos()),
            modules_ns: probe::modules_stamp(),
        };
        let mut memory = lock(&self.caps);
        if let Some((k, caps)) = memory.get(emulator)
            && *k == key
        {
            let mut caps = caps.clone();
            caps.kvm = probe::kvm_usable();
            return Ok(caps);
        }
        let file = self.layout.cache.join("qemu-caps.json");
        let mut on_disk: Vec<CachedCaps> = std::fs::read(&file)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        let caps = match on_disk
            .iter()
            .find(|c| c.caps.emulator == emulator && c.key == key)
        {
            Some(c) => c.caps.clone(),
            None => {
                let caps = probe::probe(emulator)?;
                on_disk.retain(|c| c.caps.emulator != emulator);
                on_disk.push(CachedCaps {
                    key,
                    caps: caps.clone(),
                });
                let json = serde_json::to_vec_pretty(&on_disk).unwrap_or_default();
                if let Err(e) = crate::sys::fsutil::replace_atomic(&file, &json) {
                    self.log
                        .warn(&format!("cannot cache QEMU capabilities: {e}"));
                }
                caps
            }
        };
        memory.insert(emulator.to_path_buf(), (key, caps.clone()));
        let mut caps = caps;
        caps.kvm = probe::kvm_usable();
        Ok(caps)
    }
}

/// What identifies one build of an emulator binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct CapsKey {
    size: u64,
    mtime_ns: u128,
    /// The QEMU module directory's, whose devices the binary lists.
    #[serde(default)]
    modules_ns: u128,
}

/// One entry of the capabilities cache file.
#[derive(serde::Serialize, serde::Deserialize)]
struct CachedCaps {
    key: CapsKey,
    caps: QemuCaps,
}

/// The `NoDomain` error for `what`.
pub(crate) fn no_domain(what: &str) -> Error {
    Error::new(ErrorCode::NoDomain, format!("no domain {what}"))
}

/// The emulator a definition runs with.
pub(crate) fn emulator_of(def: &DomainDef) -> PathBuf {
    def.devices
        .emulator
        .as_ref()
        .map(PathBuf::from)
        .unwrap_or_else(|| default_emulator(def.os.arch.as_deref().unwrap_or("x86_64")))
}

/// The QEMU binary for `arch` when a definition names none: the first in
/// `$PATH`, else the Debian path.
pub(crate) fn default_emulator(arch: &str) -> PathBuf {
    let bin = if arch == "i686" {
        "qemu-system-i386"
    } else {
        "qemu-system-x86_64"
    };
    crate::sys::process::find_program(bin).unwrap_or_else(|| PathBuf::from("/usr/bin").join(bin))
}
