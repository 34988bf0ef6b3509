//! Keeps the manager's QEMU processes in one CPU scheduling group, on
//! hosts where each would otherwise weigh as much as the whole manager.
//!
//! With autogroups on (`kernel.sched_autogroup_enabled`) and everything
//! in the root cgroup (a host without systemd), the scheduler shares the
//! CPU between sessions first, and QEMU runs in a session of its own: with
//! 100 VMs booting, the manager gets a hundredth of the CPU and a `list`
//! waits tens of milliseconds for it. Tasks outside the root cgroup are
//! not autogrouped, so there the manager puts each QEMU into the `qvirt`
//! group of the CPU controller: all its VMs together weigh as much as the
//! manager, as libvirt's `machine.slice` does under systemd (where there
//! are no autogroups, and nothing here applies).
//!
//! Only when the manager itself is in the root CPU cgroup and may create
//! a group there (root); otherwise QEMU stays where it starts.

use std::fs;
use std::path::{Path, PathBuf};

/// Where QEMU processes are moved: a `cgroup.procs` file, or nothing.
#[derive(Debug, Clone, Default)]
pub struct VmGroup {
    procs: Option<PathBuf>,
}

impl VmGroup {
    /// Finds or makes the group when this host needs one; why not, when
    /// it cannot (for the log).
    pub fn detect() -> (VmGroup, Option<String>) {
        let none = |why: Option<String>| (VmGroup::default(), why);
        let autogroup = fs::read_to_string("/proc/sys/kernel/sched_autogroup_enabled");
        if autogroup.map(|s| s.trim() != "1").unwrap_or(true) {
            return none(None);
        }
        let Ok(own) = fs::read_to_string("/proc/self/cgroup") else {
            return none(None);
        };
        let Some(root) = cpu_root(&own) else {
            return none(None);
        };
        let dir = root.join("qvirt");
        match fs::create_dir(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => {
                return none(Some(format!(
                    "QEMU processes stay in their own scheduling groups: cannot create {}: {e}",
                    dir.display()
                )));
            }
        }
        if root == Path::new("/sys/fs/cgroup") {
            // cgroup v2: the CPU controller must be on for the children.
            let _ = fs::write(root.join("cgroup.subtree_control"), "+cpu");
        }
        (
            VmGroup {
                procs: Some(dir.join("cgroup.procs")),
            },
            None,
        )
    }

    /// Moves process `pid` (all its threads) into the group, if there is
    /// one.
    pub fn adopt(&self, pid: i32) -> std::io::Result<()> {
        match &self.procs {
            Some(procs) => fs::write(procs, pid.to_string()),
            None => Ok(()),
        }
    }

    /// The group's `cgroup.procs`, when QEMU processes go there.
    #[cfg(test)]
    pub fn procs(&self) -> Option<&Path> {
        self.procs.as_deref()
    }
}

/// The root of the CPU controller's hierarchy when this process sits at
/// its root (`own` is /proc/self/cgroup), `None` otherwise.
fn cpu_root(own: &str) -> Option<PathBuf> {
    for line in own.lines() {
        let mut parts = line.splitn(3, ':');
        let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
        let v1 = controllers.split(',').any(|c| c == "cpu");
        if v1 {
            // cgroup v1: the hierarchy named after its controllers.
            let mount = Path::new("/sys/fs/cgroup").join(controllers);
            return (path == "/" && mount.join("cgroup.procs").exists()).then_some(mount);
        }
    }
    // cgroup v2 only: one hierarchy, "0::PATH".
    let unified = own.lines().find_map(|l| l.strip_prefix("0::"))?;
    let root = PathBuf::from("/sys/fs/cgroup");
    let controllers = fs::read_to_string(root.join("cgroup.controllers")).ok()?;
    (unified == "/" && controllers.split_whitespace().any(|c| c == "cpu")).then_some(root)
}

/// A domain's CPU limits (libvirt's `<cputune>` values): `shares` (a
/// relative weight), and CFS `period`/`quota` in microseconds for each
/// vCPU and for the other threads (`emulator_*`). A negative quota is no
/// limit.
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuLimits {
    /// `cpu.shares` (v1) or `cpu.weight` (v2) of the domain's group.
    pub shares: Option<u64>,
    /// The CFS period of each vCPU.
    pub period: Option<u64>,
    /// The CFS quota of each vCPU.
    pub quota: Option<i64>,
    /// The CFS period of the emulator threads.
    pub emulator_period: Option<u64>,
    /// The CFS quota of the emulator threads.
    pub emulator_quota: Option<i64>,
    /// The CFS period of the whole domain (its group).
    pub global_period: Option<u64>,
    /// The CFS quota of the whole domain.
    pub global_quota: Option<i64>,
    /// The CFS period of each I/O thread.
    pub iothread_period: Option<u64>,
    /// The CFS quota of each I/O thread.
    pub iothread_quota: Option<i64>,
}

impl CpuLimits {
    /// Whether nothing is asked.
    pub fn is_empty(&self) -> bool {
        self.shares.is_none()
            && self.period.is_none()
            && self.quota.is_none()
            && self.emulator_period.is_none()
            && self.emulator_quota.is_none()
            && self.global_period.is_none()
            && self.global_quota.is_none()
            && self.iothread_period.is_none()
            && self.iothread_quota.is_none()
    }

    fn vcpu(&self) -> (Option<u64>, Option<i64>) {
        (self.period, self.quota)
    }

    fn emulator(&self) -> (Option<u64>, Option<i64>) {
        (self.emulator_period, self.emulator_quota)
    }

    fn iothread(&self) -> (Option<u64>, Option<i64>) {
        (self.iothread_period, self.iothread_quota)
    }
}

/// A domain's own CPU cgroup, made beside where its QEMU runs, as
/// libvirt's machine group with its `vcpuN` and `emulator` children
/// (cgroup v1, or v2 in threaded mode).
#[derive(Debug)]
pub struct DomainGroup {
    dir: PathBuf,
}

/// Where process `pid` sits in the CPU controller: the directory, and
/// whether it is cgroup v2.
fn cpu_dir_of(pid: i32) -> Result<(PathBuf, bool), String> {
    let own = fs::read_to_string(format!("/proc/{pid}/cgroup"))
        .map_err(|e| format!("cannot read /proc/{pid}/cgroup: {e}"))?;
    for line in own.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(_), Some(controllers), Some(path)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        if controllers.split(',').any(|c| c == "cpu") {
            let mount = Path::new("/sys/fs/cgroup").join(controllers);
            if !mount.join("cgroup.procs").exists() {
                return Err(format!(
                    "the CPU controller is not mounted at {}",
                    mount.display()
                ));
            }
            return Ok((mount.join(path.trim_start_matches('/')), false));
        }
    }
    let unified = own
        .lines()
        .find_map(|l| l.strip_prefix("0::"))
        .ok_or("no cgroup holds the CPU controller")?;
    let root = PathBuf::from("/sys/fs/cgroup");
    let controllers = fs::read_to_string(root.join("cgroup.controllers")).unwrap_or_default();
    if !controllers.split_whitespace().any(|c| c == "cpu") {
        return Err("the cgroup v2 hierarchy has no CPU controller".to_string());
    }
    Ok((root.join(unified.trim_start_matches('/')), true))
}

fn write(dir: &Path, file: &str, value: &str) -> Result<(), String> {
    fs::write(dir.join(file), value)
        .map_err(|e| format!("cannot write {value} to {}: {e}", dir.join(file).display()))
}

fn make(dir: &Path) -> Result<(), String> {
    match fs::create_dir(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(format!("cannot create {}: {e}", dir.display())),
    }
}

/// A CFS `period` and `quota` (microseconds; a negative quota is none)
/// on group `dir`: v2 `cpu.max`, v1 `cpu.cfs_period_us`/`_quota_us`.
fn set_cfs(dir: &Path, v2: bool, period: Option<u64>, quota: Option<i64>) -> Result<(), String> {
    if v2 {
        let q = quota
            .filter(|q| *q > 0)
            .map_or("max".to_string(), |q| q.to_string());
        let p = period.unwrap_or(100_000);
        write(dir, "cpu.max", &format!("{q} {p}"))
    } else {
        if let Some(p) = period {
            write(dir, "cpu.cfs_period_us", &p.to_string())?;
        }
        if let Some(q) = quota {
            write(dir, "cpu.cfs_quota_us", &q.max(-1).to_string())?;
        }
        Ok(())
    }
}

impl DomainGroup {
    /// Makes the group `qvirt-TAG` beside QEMU process `pid`, sets
    /// `limits`, moves the process into it and, with a period or quota,
    /// each of `vcpus` into a `vcpuN` child and `emulator` threads into
    /// an `emulator` child.
    pub fn create(
        pid: i32,
        tag: &str,
        limits: &CpuLimits,
        vcpus: &[i32],
        emulator: &[i32],
        iothreads: &[(u32, i32)],
    ) -> Result<DomainGroup, String> {
        let (parent, v2) = cpu_dir_of(pid)?;
        let dir = parent.join(format!("qvirt-{tag}"));
        if v2 {
            // The CPU controller must be on for the children.
            let _ = fs::write(parent.join("cgroup.subtree_control"), "+cpu");
        }
        make(&dir)?;
        let group = DomainGroup { dir };
        let dir = &group.dir;
        if let Some(s) = limits.shares {
            write(
                dir,
                if v2 { "cpu.weight" } else { "cpu.shares" },
                &s.to_string(),
            )?;
        }
        // The whole domain's limit, on the group itself.
        if limits.global_period.is_some() || limits.global_quota.is_some() {
            set_cfs(dir, v2, limits.global_period, limits.global_quota)?;
        }
        write(dir, "cgroup.procs", &pid.to_string())?;
        let per_thread = [("emulator".to_string(), limits.emulator(), emulator.to_vec())]
            .into_iter()
            .chain(
                vcpus
                    .iter()
                    .enumerate()
                    .map(|(i, t)| (format!("vcpu{i}"), limits.vcpu(), vec![*t])),
            )
            .chain(
                iothreads
                    .iter()
                    .map(|(id, t)| (format!("iothread{id}"), limits.iothread(), vec![*t])),
            );
        for (name, (period, quota), tids) in per_thread {
            if period.is_none() && quota.is_none() {
                continue;
            }
            if v2 {
                // Threads of one process in several groups: threaded mode.
                write(dir, "cgroup.type", "threaded")?;
                write(dir, "cgroup.subtree_control", "+cpu")?;
            }
            let sub = dir.join(&name);
            make(&sub)?;
            if v2 {
                write(&sub, "cgroup.type", "threaded")?;
            }
            set_cfs(&sub, v2, period, quota)?;
            for tid in tids {
                write(
                    &sub,
                    if v2 { "cgroup.threads" } else { "tasks" },
                    &tid.to_string(),
                )?;
            }
        }
        Ok(group)
    }

    /// The group's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Removes group `dir` and its children, once no process is in them.
    pub fn remove(dir: &Path) -> Result<(), String> {
        if !dir.is_dir() {
            return Ok(());
        }
        if let Ok(children) = fs::read_dir(dir) {
            for c in children.flatten().filter(|c| c.path().is_dir()) {
                fs::remove_dir(c.path())
                    .map_err(|e| format!("cannot remove {}: {e}", c.path().display()))?;
            }
        }
        fs::remove_dir(dir).map_err(|e| format!("cannot remove {}: {e}", dir.display()))
    }
}

/// A domain's memory limits (libvirt's `<memtune>`), in bytes.
#[derive(Debug, Clone, Copy, Default)]
pub struct MemoryLimits {
    /// The hard limit.
    pub hard: Option<u64>,
    /// The soft limit (v2: `memory.high`).
    pub soft: Option<u64>,
    /// Memory plus swap.
    pub swap_hard: Option<u64>,
}

/// The group `qvirt-TAG` of process `pid` for a controller: beside where
/// it sits in cgroup v1's hierarchy of `v1_name`, or on cgroup v2 its
/// domain group (the CPU group [`DomainGroup::create`] made, if any,
/// else a new one beside it) with `v2_name` enabled by its parent, which
/// `v2_probe` (a file of the controller) shows. Made if missing; then
/// `fill` writes its settings, and `pid` moves in. A group made here is
/// removed again when that fails. The directory.
fn domain_group(
    pid: i32,
    tag: &str,
    (v1_name, v2_name, v2_probe): (&str, &str, &str),
    fill: impl FnOnce(&Path, bool) -> Result<(), String>,
) -> Result<PathBuf, String> {
    let (dir, v2) = find_domain_group(pid, tag, (v1_name, v2_name, v2_probe))?;
    let fresh = !dir.exists();
    make(&dir)?;
    let done = (|| {
        if v2 && !dir.join(v2_probe).exists() {
            return Err(format!(
                "the {v2_name} controller is not available in {} (its parent does not delegate it, or the group is threaded for per-vCPU CPU limits)",
                dir.display()
            ));
        }
        fill(&dir, v2)?;
        write(&dir, "cgroup.procs", &pid.to_string())
    })();
    match done {
        Ok(()) => Ok(dir),
        Err(why) => {
            if fresh {
                let _ = fs::remove_dir(&dir);
            }
            Err(why)
        }
    }
}

/// Where [`domain_group`] puts the group, and whether it is cgroup v2.
fn find_domain_group(
    pid: i32,
    tag: &str,
    (v1_name, v2_name, _): (&str, &str, &str),
) -> Result<(PathBuf, bool), String> {
    let own = fs::read_to_string(format!("/proc/{pid}/cgroup"))
        .map_err(|e| format!("cannot read /proc/{pid}/cgroup: {e}"))?;
    let name = format!("qvirt-{tag}");
    let v1 = own.lines().find_map(|line| {
        let mut parts = line.splitn(3, ':');
        let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
        controllers.split(',').any(|c| c == v1_name).then(|| {
            (
                controllers.to_string(),
                path.trim_start_matches('/').to_string(),
            )
        })
    });
    if let Some((controllers, path)) = v1 {
        let mount = Path::new("/sys/fs/cgroup").join(controllers);
        if !mount.join("cgroup.procs").exists() {
            return Err(format!(
                "the {v1_name} controller is not mounted at {}",
                mount.display()
            ));
        }
        return Ok((mount.join(path).join(&name), false));
    }
    let unified = own
        .lines()
        .find_map(|l| l.strip_prefix("0::"))
        .ok_or(format!("no cgroup holds the {v2_name} controller"))?;
    let here = PathBuf::from("/sys/fs/cgroup").join(unified.trim_start_matches('/'));
    let dir = if here.file_name().is_some_and(|n| n == name.as_str()) {
        here
    } else {
        here.join(&name)
    };
    let parent = dir.parent().ok_or("the cgroup root has no parent")?;
    let _ = fs::write(parent.join("cgroup.subtree_control"), format!("+{v2_name}"));
    Ok((dir, true))
}

/// Puts process `pid` into its memory cgroup `qvirt-TAG` (see
/// [`domain_group`]) with `limits`. Returns the group's directory.
pub fn limit_memory(pid: i32, tag: &str, limits: &MemoryLimits) -> Result<PathBuf, String> {
    domain_group(pid, tag, ("memory", "memory", "memory.max"), |dir, v2| {
        memory_settings(dir, v2, limits)
    })
}

fn memory_settings(dir: &Path, v2: bool, limits: &MemoryLimits) -> Result<(), String> {
    let set = |file: &str, v: Option<u64>| match v {
        Some(v) => write(dir, file, &v.to_string()),
        None => Ok(()),
    };
    if v2 {
        set("memory.max", limits.hard)?;
        set("memory.high", limits.soft)?;
        // v2 limits swap alone: what memory plus swap leaves above memory.
        set(
            "memory.swap.max",
            limits
                .swap_hard
                .map(|s| s.saturating_sub(limits.hard.unwrap_or(0))),
        )?;
    } else {
        // Take along what QEMU has already used (v1 only; best effort).
        let _ = fs::write(dir.join("memory.move_charge_at_immigrate"), "3");
        set("memory.limit_in_bytes", limits.hard)?;
        set("memory.soft_limit_in_bytes", limits.soft)?;
        if limits.swap_hard.is_some() && !dir.join("memory.memsw.limit_in_bytes").exists() {
            return Err(
                "<swap_hard_limit> needs swap accounting, which this kernel has off (boot it with swapaccount=1)"
                    .to_string(),
            );
        }
        set("memory.memsw.limit_in_bytes", limits.swap_hard)?;
    }
    Ok(())
}

/// Why a setting of a running domain's group was not made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// This host lacks what it needs (a controller, a file of one).
    Lacks(String),
    /// The kernel refused the value.
    Refused(String),
}

impl From<Refusal> for String {
    fn from(r: Refusal) -> String {
        match r {
            Refusal::Lacks(why) | Refusal::Refused(why) => why,
        }
    }
}

/// A change of a memory group's limits, in bytes: each one given is set,
/// to a limit or (`Some(None)`) to none.
#[derive(Debug, Clone, Copy, Default)]
pub struct MemoryChange {
    /// The hard limit.
    pub hard: Option<Option<u64>>,
    /// The soft limit.
    pub soft: Option<Option<u64>>,
    /// Memory plus swap.
    pub swap_hard: Option<Option<u64>>,
}

/// Makes `change` to the memory group `dir` of a running domain, whose
/// limits are `merged` once it is made (`None`: no limit), in the order
/// libvirt writes them on cgroup v1, where memory plus swap may never be
/// below memory: the soft limit, then a hard limit that goes down before
/// the swap limit, one that goes up after it. When a write fails, those
/// made are undone and nothing is left changed.
pub fn change_memory(
    dir: &Path,
    change: &MemoryChange,
    merged: &MemoryLimits,
) -> Result<(), Refusal> {
    let v2 = dir.join("memory.max").exists();
    let (hard_file, soft_file, swap_file) = if v2 {
        ("memory.max", "memory.high", "memory.swap.max")
    } else {
        (
            "memory.limit_in_bytes",
            "memory.soft_limit_in_bytes",
            "memory.memsw.limit_in_bytes",
        )
    };
    let text = |v: Option<u64>| match (v, v2) {
        (Some(v), _) => v.to_string(),
        (None, true) => "max".to_string(),
        (None, false) => "-1".to_string(),
    };
    let read = |f: &str| fs::read_to_string(dir.join(f)).map(|t| t.trim().to_string());
    let now_hard = read(hard_file)
        .ok()
        .and_then(|t| t.parse::<u64>().ok())
        .unwrap_or(u64::MAX);
    let mut writes: Vec<(&str, String)> = Vec::new();
    if let Some(soft) = change.soft {
        writes.push((soft_file, text(soft)));
    }
    let swap = if v2 {
        // v2 limits swap alone: what memory plus swap leaves above memory.
        (change.swap_hard.is_some() || (change.hard.is_some() && merged.swap_hard.is_some())).then(
            || {
                text(
                    merged
                        .swap_hard
                        .map(|s| s.saturating_sub(merged.hard.unwrap_or(0))),
                )
            },
        )
    } else {
        change.swap_hard.map(text)
    };
    if swap.is_some() && !dir.join(swap_file).exists() {
        return Err(Refusal::Lacks(
            "<swap_hard_limit> needs swap accounting, which this kernel has off (boot it with swapaccount=1)"
                .to_string(),
        ));
    }
    let lowering = change
        .hard
        .is_some_and(|h| h.unwrap_or(u64::MAX) < now_hard);
    let hard = change.hard.map(|h| (hard_file, text(h)));
    if lowering {
        writes.extend(hard.clone());
    }
    writes.extend(swap.map(|s| (swap_file, s)));
    if !lowering {
        writes.extend(hard);
    }
    let mut undo: Vec<(&str, String)> = Vec::new();
    for (file, value) in writes {
        let old = read(file).map_err(|e| {
            Refusal::Lacks(format!("cannot read {}: {e}", dir.join(file).display()))
        })?;
        if let Err(e) = fs::write(dir.join(file), &value) {
            for (f, v) in undo.into_iter().rev() {
                let _ = fs::write(dir.join(f), v);
            }
            let used = read(if v2 {
                "memory.current"
            } else {
                "memory.usage_in_bytes"
            })
            .ok()
            .and_then(|t| t.parse::<u64>().ok());
            return Err(Refusal::Refused(match (e.raw_os_error(), used) {
                (Some(nix::libc::EBUSY), Some(used)) if file == hard_file => format!(
                    "the kernel cannot bring what QEMU uses ({} KiB) under {} KiB",
                    used >> 10,
                    value
                        .parse::<u64>()
                        .map_or(value.clone(), |v| (v >> 10).to_string())
                ),
                _ => format!("cannot write {value} to {}: {e}", dir.join(file).display()),
            }));
        }
        undo.push((file, old));
    }
    Ok(())
}

/// A domain's block I/O limits (libvirt's `<blkiotune>`).
#[derive(Debug, Clone, Default)]
pub struct BlkioLimits {
    /// The group's weight.
    pub weight: Option<u32>,
    /// Per host block device, by its `major:minor`.
    pub devices: Vec<DeviceLimits>,
}

/// The limits on one host block device.
#[derive(Debug, Clone, Default)]
pub struct DeviceLimits {
    /// `major:minor`.
    pub dev: String,
    /// The weight on this device.
    pub weight: Option<u32>,
    /// Reads per second.
    pub read_iops: Option<u32>,
    /// Writes per second.
    pub write_iops: Option<u32>,
    /// Bytes read per second.
    pub read_bps: Option<u64>,
    /// Bytes written per second.
    pub write_bps: Option<u64>,
}

/// The first of `files` that `dir` has.
fn first_of<'a>(dir: &Path, files: &[&'a str]) -> Option<&'a str> {
    files.iter().copied().find(|f| dir.join(f).exists())
}

/// Puts process `pid` into its block I/O cgroup `qvirt-TAG` (see
/// [`domain_group`]) with `limits`, as libvirt's cgroup backends write
/// them: v1 `blkio.weight` (or BFQ's), `blkio.weight_device` and the
/// `blkio.throttle.*_device` files; v2 `io.weight` (or BFQ's) and
/// `io.max`. Returns the group's directory.
pub fn limit_blkio(pid: i32, tag: &str, limits: &BlkioLimits) -> Result<PathBuf, String> {
    domain_group(pid, tag, ("blkio", "io", "io.max"), |dir, v2| {
        blkio_settings(dir, v2, limits)
    })
}

fn blkio_settings(dir: &Path, v2: bool, limits: &BlkioLimits) -> Result<(), String> {
    if let Some(w) = limits.weight {
        set_blkio(dir, v2, None, BlkioKey::Weight, u64::from(w))?;
    }
    for d in &limits.devices {
        let settings = [
            (BlkioKey::Weight, d.weight.map(u64::from)),
            (BlkioKey::ReadBps, d.read_bps),
            (BlkioKey::WriteBps, d.write_bps),
            (BlkioKey::ReadIops, d.read_iops.map(u64::from)),
            (BlkioKey::WriteIops, d.write_iops.map(u64::from)),
        ];
        for (key, v) in settings {
            if let Some(v) = v {
                set_blkio(dir, v2, Some(&d.dev), key, v)?;
            }
        }
    }
    Ok(())
}

/// One block I/O setting: a weight, or a throttle of one device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlkioKey {
    /// The group's weight, or its weight on one device.
    Weight,
    /// Bytes read per second.
    ReadBps,
    /// Bytes written per second.
    WriteBps,
    /// Reads per second.
    ReadIops,
    /// Writes per second.
    WriteIops,
}

/// Sets `key` of group `dir` to `value`: the group's weight (no `dev`),
/// or a setting of device `dev` (`major:minor`), where 0 removes it.
fn set_blkio(
    dir: &Path,
    v2: bool,
    dev: Option<&str>,
    key: BlkioKey,
    value: u64,
) -> Result<(), Refusal> {
    let no_weights = || {
        Refusal::Lacks(
            "this kernel's block I/O controller has no weights (the BFQ I/O scheduler provides them)"
                .to_string(),
        )
    };
    let write =
        |dir: &Path, file: &str, value: &str| write(dir, file, value).map_err(Refusal::Refused);
    let Some(dev) = dev else {
        if v2 {
            return match first_of(dir, &["io.weight", "io.bfq.weight"]) {
                Some("io.weight") => write(dir, "io.weight", &format!("default {value}")),
                Some(f) => write(dir, f, &value.to_string()),
                None => Err(no_weights()),
            };
        }
        let f = first_of(dir, &["blkio.weight", "blkio.bfq.weight"]).ok_or_else(no_weights)?;
        return write(dir, f, &value.to_string());
    };
    let (v2_key, v1_file) = match key {
        BlkioKey::Weight => {
            let files: &[&str] = if v2 {
                &["io.weight", "io.bfq.weight"]
            } else {
                &["blkio.weight_device", "blkio.bfq.weight_device"]
            };
            let f = first_of(dir, files).ok_or_else(no_weights)?;
            let v = match value {
                0 if f == "io.weight" => "default".to_string(),
                v => v.to_string(),
            };
            return write(dir, f, &format!("{dev} {v}"));
        }
        BlkioKey::ReadBps => ("rbps", "blkio.throttle.read_bps_device"),
        BlkioKey::WriteBps => ("wbps", "blkio.throttle.write_bps_device"),
        BlkioKey::ReadIops => ("riops", "blkio.throttle.read_iops_device"),
        BlkioKey::WriteIops => ("wiops", "blkio.throttle.write_iops_device"),
    };
    if v2 {
        let v = if value == 0 {
            "max".to_string()
        } else {
            value.to_string()
        };
        return write(dir, "io.max", &format!("{dev} {v2_key}={v}"));
    }
    if !dir.join(v1_file).exists() {
        return Err(Refusal::Lacks(format!(
            "this kernel's block I/O controller has no throttling ({v1_file} is missing)"
        )));
    }
    // cgroup v1 removes a device's limit when it is given 0.
    write(dir, v1_file, &format!("{dev} {value}"))
}

/// One change of a block I/O group, with the value it replaces (to put
/// back when a later change fails).
#[derive(Debug, Clone)]
pub struct BlkioChange {
    /// The device (`major:minor`), or none for the group's weight.
    pub dev: Option<String>,
    /// What changes.
    pub key: BlkioKey,
    /// The new value (0 removes a device's setting).
    pub value: u64,
    /// The value it had (0: none).
    pub old: u64,
}

/// Makes `changes` to the block I/O group `dir` of a running domain, in
/// order; when one fails, those made are undone (as far as the kernel
/// lets) and nothing is left changed.
pub fn change_blkio(dir: &Path, changes: &[BlkioChange]) -> Result<(), Refusal> {
    let v2 = dir.join("io.max").exists();
    let mut undo: Vec<(Option<&str>, BlkioKey, u64)> = Vec::new();
    for c in changes {
        let old = match c.dev {
            // The group's weight has no "none": put back what it reads.
            None => first_of(dir, &["blkio.weight", "blkio.bfq.weight", "io.bfq.weight"])
                .and_then(|f| fs::read_to_string(dir.join(f)).ok())
                .and_then(|t| t.trim().parse::<u64>().ok())
                .unwrap_or(c.old),
            Some(_) => c.old,
        };
        if let Err(why) = set_blkio(dir, v2, c.dev.as_deref(), c.key, c.value) {
            for (dev, key, value) in undo.into_iter().rev() {
                if dev.is_some() || value != 0 {
                    let _ = set_blkio(dir, v2, dev, key, value);
                }
            }
            return Err(why);
        }
        undo.push((c.dev.as_deref(), c.key, old));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cpu_hierarchy_is_found_only_at_its_root() {
        let v1_root = "4:memory:/x\n1:cpu:/\n0::/\n";
        let v1_nested = "1:cpu:/machine.slice\n0::/\n";
        let mounted = Path::new("/sys/fs/cgroup/cpu/cgroup.procs").exists();
        assert_eq!(
            cpu_root(v1_root),
            mounted.then(|| PathBuf::from("/sys/fs/cgroup/cpu"))
        );
        assert_eq!(cpu_root(v1_nested), None);
        assert_eq!(cpu_root("0::/user.slice/session-2.scope\n"), None);
    }

    /// On a host that needs the group (autogroups, root cgroup, root
    /// user), a process adopted is in it.
    #[test]
    fn an_adopted_process_is_in_the_group() {
        let (group, _) = VmGroup::detect();
        let Some(procs) = group.procs() else {
            eprintln!("this host keeps QEMU in its own scheduling group; nothing to check");
            return;
        };
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .unwrap();
        group.adopt(child.id() as i32).unwrap();
        let listed = fs::read_to_string(procs).unwrap();
        let cgroups = fs::read_to_string(format!("/proc/{}/cgroup", child.id())).unwrap();
        let _ = child.kill();
        let _ = child.wait();
        assert!(
            listed.lines().any(|l| l == child.id().to_string()),
            "{listed}"
        );
        assert!(cgroups.contains("/qvirt"), "{cgroups}");
    }
}
