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
    let no_weights = || {
        "this kernel's block I/O controller has no weights (the BFQ I/O scheduler provides them)"
            .to_string()
    };
    if let Some(w) = limits.weight {
        if v2 {
            match first_of(dir, &["io.weight", "io.bfq.weight"]) {
                Some("io.weight") => write(dir, "io.weight", &format!("default {w}"))?,
                Some(f) => write(dir, f, &w.to_string())?,
                None => return Err(no_weights()),
            }
        } else {
            let f = first_of(dir, &["blkio.weight", "blkio.bfq.weight"]).ok_or_else(no_weights)?;
            write(dir, f, &w.to_string())?;
        }
    }
    for d in &limits.devices {
        if let Some(w) = d.weight {
            let files: &[&str] = if v2 {
                &["io.weight", "io.bfq.weight"]
            } else {
                &["blkio.weight_device", "blkio.bfq.weight_device"]
            };
            let f = first_of(dir, files).ok_or_else(no_weights)?;
            write(dir, f, &format!("{} {w}", d.dev))?;
        }
        let throttles = [
            ("rbps", "blkio.throttle.read_bps_device", d.read_bps),
            ("wbps", "blkio.throttle.write_bps_device", d.write_bps),
            (
                "riops",
                "blkio.throttle.read_iops_device",
                d.read_iops.map(u64::from),
            ),
            (
                "wiops",
                "blkio.throttle.write_iops_device",
                d.write_iops.map(u64::from),
            ),
        ];
        for (key, v1_file, v) in throttles {
            let Some(v) = v else { continue };
            if v2 {
                write(dir, "io.max", &format!("{} {key}={v}", d.dev))?;
            } else {
                if !dir.join(v1_file).exists() {
                    return Err(format!(
                        "this kernel's block I/O controller has no throttling ({v1_file} is missing)"
                    ));
                }
                write(dir, v1_file, &format!("{} {v}", d.dev))?;
            }
        }
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
