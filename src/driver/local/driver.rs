//! `LocalDriver`: the in-process driver. It owns one state directory
//! (taking its lock), keeps the defined and running domains in memory,
//! and runs QEMU. The daemon is this driver behind a socket.
//!
//! Locking: `Core::inner` guards the table of domains and is never held
//! across QEMU or QMP I/O, a wait, or an fsync. Operations on one domain
//! are serialised by that domain's `job` lock, taken before `inner` and
//! held across the I/O, so a slow start of one domain never delays
//! another. Changes to the config directory (define, undefine, autostart,
//! rescan) take turns under `Core::config`, taken after any job lock and
//! before `inner`, and held from their checks to their table update, so
//! the files and the table agree while lookups go on during the writes.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use uuid::Uuid;

use super::caps::QemuCaps;
use super::events::EventBus;
use super::fsutil::StateLock;
use super::layout::Layout;
use super::logger::Logger;
use super::runtime::Running;
use super::{probe, store};
use crate::driver::error::{Error, ErrorCode, Result};
use crate::driver::{Domain, DomainState, Event, EventKind, StateReason};
use crate::model::DomainDef;

/// The in-process driver. Cheap to share: clone the `Arc` it lives in, or
/// use it through `&dyn Driver`.
pub struct LocalDriver {
    pub(crate) core: Arc<Core>,
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
    pub vm_group: std::sync::OnceLock<super::cgroup::VmGroup>,
    /// The state directory's lock; taken out (released) when the
    /// `LocalDriver` is dropped, even if a monitor thread still holds the
    /// core for a moment.
    state_lock: Mutex<Option<StateLock>>,
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
    /// The persistent definition; `None` for a transient domain.
    pub persistent: Option<DomainDef>,
    /// The run, while QEMU runs.
    pub running: Option<Arc<Running>>,
    /// Why the domain is shut off (meaningful while not running).
    pub reason: StateReason,
    /// Serialises operations on this domain.
    pub job: Arc<Mutex<()>>,
}

impl Entry {
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

/// Locks `m`, ignoring poisoning: the tables stay consistent at every
/// unlock, so a panic elsewhere must not make every later call panic.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

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
        let defs = store::scan_at_open(&layout, &log)?;
        let core = Arc::new_cyclic(|me| Core {
            uri,
            layout,
            log,
            events: EventBus::default(),
            inner: Mutex::new(Inner {
                next_id: 1,
                ..Inner::default()
            }),
            config: Mutex::new(()),
            caps: Mutex::new(HashMap::new()),
            me: me.clone(),
            vm_group: std::sync::OnceLock::new(),
            state_lock: Mutex::new(Some(state_lock)),
        });
        {
            let mut inner = lock(&core.inner);
            for def in defs {
                inner.names.insert(def.name.clone(), def.uuid);
                let reason = std::fs::read_to_string(core.layout.reason_file(&def.uuid))
                    .ok()
                    .and_then(|r| StateReason::from_name(r.trim()))
                    .unwrap_or(StateReason::Unknown);
                inner.entries.insert(
                    def.uuid,
                    Entry {
                        persistent: Some(def),
                        running: None,
                        reason,
                        job: Arc::default(),
                    },
                );
            }
        }
        core.reattach_all();
        Ok(LocalDriver { core })
    }
}

impl LocalDriver {
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
            .filter(|e| e.running.is_none())
            .filter_map(|e| e.persistent.as_ref().map(|_| e.handle()))
            .filter(|d| store::autostart(&self.core.layout, &d.name))
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
    /// running for the next manager: forgets the runs (which closes their
    /// QMP connections and stops their monitor threads), waits a moment
    /// for a monitor thread that holds the core while it handles an event,
    /// and releases the lock. Without this, the lock would go with the
    /// last reference to the core, possibly some time after this returns,
    /// and a manager opened right after would be refused.
    fn drop(&mut self) {
        let entries = std::mem::take(&mut lock(&self.core.inner).entries);
        drop(entries);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(1);
        while Arc::strong_count(&self.core) > 1 && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(1));
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

    /// The job lock of `dom`: hold the returned guard for the whole
    /// operation.
    pub fn job(&self, dom: &Domain) -> Result<Arc<Mutex<()>>> {
        self.with_entry(dom, |e| Ok(e.job.clone()))
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
                if let Err(e) = super::fsutil::replace_atomic(&file, &json) {
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
    find_in_path(bin).unwrap_or_else(|| PathBuf::from("/usr/bin").join(bin))
}

/// The first `name` in `$PATH`.
fn find_in_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(name))
            .find(|p| p.is_file())
    })
}
