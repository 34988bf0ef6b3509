//! `<cputune>` on a running QEMU, as libvirt's QEMU driver applies it
//! once the monitor answers and before the vCPUs run: `<vcpupin>` pins
//! each vCPU thread (`query-cpus-fast` names them), `<iothreadpin>` each
//! I/O thread (`query-iothreads`), `<emulatorpin>` every other thread of
//! QEMU, and `<vcpusched>`, `<iothreadsched>` and `<emulatorsched>` give
//! the same threads their scheduling policy; `<shares>`, the CFS
//! `<period>`/`<quota>` of each vCPU, and those of the emulator
//! (`emulator_*`), of each I/O thread (`iothread_*`) and of the whole
//! domain (`global_*`) go to a CPU cgroup of the domain's own (see
//! [`crate::sys::cgroup::DomainGroup`]), whose path is kept in the run
//! directory so that the group goes when the run ends.

use std::path::Path;
use std::time::Duration;

use nix::libc;
use nix::sched::{CpuSet, sched_setaffinity};
use nix::unistd::Pid;
use serde_json::Value;

use crate::error::{Error, ErrorCode, Result};
use crate::model::{DomainDef, SchedPolicy, parse_cpuset};
use crate::qemu::qmp::Qmp;
use crate::sys::cgroup::{CpuLimits, DomainGroup};

const QMP_TIMEOUT: Duration = Duration::from_secs(30);

/// The file in the run directory that names the domain's CPU cgroup.
pub const GROUP_FILE: &str = "cpu-cgroup";

/// The host CPUs of `cpuset` that are online, as a set; an error naming
/// `what` when none is.
pub fn host_cpuset(what: &str, cpuset: &str) -> Result<CpuSet> {
    let online = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let mut set = CpuSet::new();
    let mut any = false;
    for c in parse_cpuset(cpuset).unwrap_or_default() {
        let c = c as usize;
        if c < CpuSet::count() && is_online(c, online) && set.set(c).is_ok() {
            any = true;
        }
    }
    if !any {
        return Err(Error::new(
            ErrorCode::ConfigInvalid,
            format!(
                "{what} cpuset='{cpuset}' names no CPU this host has online: pick among 0-{}",
                online.saturating_sub(1)
            ),
        ));
    }
    Ok(set)
}

/// Whether host CPU `cpu` is online.
fn is_online(cpu: usize, count: usize) -> bool {
    match std::fs::read_to_string(format!("/sys/devices/system/cpu/cpu{cpu}/online")) {
        Ok(v) => v.trim() == "1",
        // cpu0 often has no `online` file; otherwise trust the count.
        Err(_) => Path::new(&format!("/sys/devices/system/cpu/cpu{cpu}")).exists() || cpu < count,
    }
}

/// Sets the affinity of thread `tid`.
pub fn set_affinity(tid: i32, set: &CpuSet, cpuset: &str) -> Result<()> {
    sched_setaffinity(Pid::from_raw(tid), set).map_err(|e| {
        Error::new(
            ErrorCode::OperationFailed,
            format!("cannot set the CPU affinity of QEMU thread {tid} to {cpuset}: {e}"),
        )
    })
}

/// The real-time priorities Linux has (sched(7): 1 to 99).
const RT_PRIORITIES: std::ops::RangeInclusive<i32> = 1..=99;

/// Sets the scheduling policy of thread `tid`, a thread of `what`.
fn set_scheduler(tid: i32, policy: SchedPolicy, priority: Option<i32>, what: &str) -> Result<()> {
    let (kind, prio) = match policy {
        SchedPolicy::Batch => (libc::SCHED_BATCH, 0),
        SchedPolicy::Idle => (libc::SCHED_IDLE, 0),
        SchedPolicy::Fifo => (libc::SCHED_FIFO, priority.unwrap_or(0)),
        SchedPolicy::Rr => (libc::SCHED_RR, priority.unwrap_or(0)),
    };
    if matches!(policy, SchedPolicy::Fifo | SchedPolicy::Rr) && !RT_PRIORITIES.contains(&prio) {
        return Err(Error::new(
            ErrorCode::ConfigInvalid,
            format!(
                "Scheduler priority {prio} out of range [{}, {}]",
                RT_PRIORITIES.start(),
                RT_PRIORITIES.end()
            ),
        ));
    }
    let param = libc::sched_param {
        sched_priority: prio,
    };
    // SAFETY: `param` is a valid sched_param that outlives the call.
    #[allow(unsafe_code)]
    let rc = unsafe { libc::sched_setscheduler(tid, kind, &param) };
    if rc != 0 {
        let e = std::io::Error::last_os_error();
        return Err(Error::new(
            ErrorCode::OperationFailed,
            format!(
                "cannot give {what}'s QEMU thread {tid} the {} scheduler: {e}",
                policy.as_str()
            ),
        ));
    }
    Ok(())
}

/// The vCPU threads, by vCPU index.
pub(crate) fn vcpu_threads(qmp: &Qmp) -> Result<Vec<(u32, i32)>> {
    let v = qmp.execute("query-cpus-fast", None, QMP_TIMEOUT)?;
    Ok(v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|c| {
                    Some((
                        c.get("cpu-index")?.as_u64()? as u32,
                        c.get("thread-id")?.as_i64()? as i32,
                    ))
                })
                .collect()
        })
        .unwrap_or_default())
}

/// Pins the threads of vCPUs `ids`, just plugged in while the domain
/// runs, as a start pins its vCPUs (libvirt's `qemuProcessSetupVcpu`):
/// to their `<vcpupin>`, else to `<vcpu cpuset>`.
pub(crate) fn pin_plugged(qmp: &Qmp, def: &DomainDef, ids: &[u32]) -> Result<()> {
    let threads = vcpu_threads(qmp)?;
    for id in ids {
        let cpuset = def
            .cputune
            .as_deref()
            .and_then(|t| t.vcpupins.iter().find(|(v, _)| v == id))
            .map(|(_, c)| c.clone())
            .or_else(|| def.vcpu.cpuset.clone());
        if let (Some(cpuset), Some((_, tid))) = (cpuset, threads.iter().find(|(i, _)| i == id)) {
            let set = host_cpuset(&format!("<vcpupin vcpu='{id}'>"), &cpuset)?;
            set_affinity(*tid, &set, &cpuset)?;
        }
    }
    Ok(())
}

/// The I/O threads, by the number of `<iothreads>` (`iothreadN`).
pub(crate) fn io_threads(qmp: &Qmp) -> Result<Vec<(u32, i32)>> {
    let v = qmp.execute("query-iothreads", None, QMP_TIMEOUT)?;
    Ok(v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|t| {
                    let n = t
                        .get("id")?
                        .as_str()?
                        .strip_prefix("iothread")?
                        .parse()
                        .ok()?;
                    Some((n, t.get("thread-id").and_then(Value::as_i64)? as i32))
                })
                .collect()
        })
        .unwrap_or_default())
}

/// Every thread of process `pid`.
pub(crate) fn all_threads(pid: i32) -> Vec<i32> {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .map(|d| {
            d.flatten()
                .filter_map(|t| t.file_name().to_str().and_then(|n| n.parse().ok()))
                .collect()
        })
        .unwrap_or_default()
}

/// Applies the domain's `<cputune>` to QEMU process `pid`.
pub fn apply(qmp: &Qmp, def: &DomainDef, pid: i32, run_dir: &Path) -> Result<()> {
    let Some(t) = &def.cputune else {
        return Ok(());
    };
    let vcpus = vcpu_threads(qmp)?;
    let iothreads = if def.iothreads.unwrap_or(0) > 0 {
        io_threads(qmp)?
    } else {
        Vec::new()
    };
    for (vcpu, cpuset) in &t.vcpupins {
        let set = host_cpuset(&format!("<vcpupin vcpu='{vcpu}'>"), cpuset)?;
        // A vCPU not plugged in at start (`current` below the maximum)
        // has no thread yet.
        if let Some((_, tid)) = vcpus.iter().find(|(i, _)| i == vcpu) {
            set_affinity(*tid, &set, cpuset)?;
        }
    }
    for (id, cpuset) in &t.iothreadpins {
        let set = host_cpuset(&format!("<iothreadpin iothread='{id}'>"), cpuset)?;
        let (_, tid) = iothreads.iter().find(|(n, _)| n == id).ok_or_else(|| {
            Error::new(
                ErrorCode::QemuFailed,
                format!("QEMU lists no I/O thread iothread{id} to pin"),
            )
        })?;
        set_affinity(*tid, &set, cpuset)?;
    }
    let special: Vec<i32> = vcpus
        .iter()
        .chain(iothreads.iter())
        .map(|(_, t)| *t)
        .collect();
    let emulator: Vec<i32> = all_threads(pid)
        .into_iter()
        .filter(|t| !special.contains(t))
        .collect();
    if let Some(cpuset) = &t.emulatorpin {
        let set = host_cpuset("<emulatorpin>", cpuset)?;
        for tid in &emulator {
            set_affinity(*tid, &set, cpuset)?;
        }
    }
    for s in &t.vcpuscheds {
        for vcpu in parse_cpuset(&s.ids).unwrap_or_default() {
            if let Some((_, tid)) = vcpus.iter().find(|(i, _)| *i == vcpu) {
                set_scheduler(*tid, s.policy, s.priority, &format!("vCPU {vcpu}"))?;
            }
        }
    }
    for s in &t.iothreadscheds {
        for id in parse_cpuset(&s.ids).unwrap_or_default() {
            if let Some((_, tid)) = iothreads.iter().find(|(n, _)| *n == id) {
                set_scheduler(*tid, s.policy, s.priority, &format!("I/O thread {id}"))?;
            }
        }
    }
    if let Some((policy, priority)) = t.emulatorsched {
        for tid in &emulator {
            set_scheduler(*tid, policy, priority, "the emulator")?;
        }
    }
    let limits = CpuLimits {
        shares: t.shares,
        period: t.period,
        quota: t.quota,
        emulator_period: t.emulator_period,
        emulator_quota: t.emulator_quota,
        global_period: t.global_period,
        global_quota: t.global_quota,
        iothread_period: t.iothread_period,
        iothread_quota: t.iothread_quota,
    };
    if limits.is_empty() {
        return Ok(());
    }
    let vcpu_tids: Vec<i32> = vcpus.iter().map(|(_, t)| *t).collect();
    let made = DomainGroup::create(
        pid,
        &def.uuid.to_string(),
        &limits,
        &vcpu_tids,
        &emulator,
        &iothreads,
    )
    .map(|g| g.dir().to_path_buf());
    record_group(
        def,
        run_dir,
        GROUP_FILE,
        "<cputune> shares and CFS limits need a CPU cgroup",
        made,
    )
}

/// Keeps the path of the cgroup `made` for the domain in the run
/// directory's `file` (its end removes it), or says why the start cannot
/// have it: `need` says what needed which group.
fn record_group(
    def: &DomainDef,
    run_dir: &Path,
    file: &str,
    need: &str,
    made: std::result::Result<std::path::PathBuf, String>,
) -> Result<()> {
    let dir = made.map_err(|why| {
        Error::new(
            ErrorCode::NoSupport,
            format!("cannot start domain '{}': {need}: {why}", def.name),
        )
    })?;
    crate::sys::fsutil::write_atomic(&run_dir.join(file), dir.to_string_lossy().as_bytes())
}

/// The file in the run directory that names the domain's memory cgroup.
pub const MEMORY_GROUP_FILE: &str = "memory-cgroup";

/// `<memtune>`: QEMU goes into a memory cgroup of the domain's own with
/// those limits (after its CPU group, which on cgroup v2 is the same).
pub fn apply_memtune(def: &DomainDef, pid: i32, run_dir: &Path) -> Result<()> {
    let Some(m) = &def.memtune else {
        return Ok(());
    };
    let bytes = |k: Option<u64>| k.map(|k| k.saturating_mul(1024));
    let limits = crate::sys::cgroup::MemoryLimits {
        hard: bytes(m.hard_limit_kib),
        soft: bytes(m.soft_limit_kib),
        swap_hard: bytes(m.swap_hard_limit_kib),
    };
    let made = crate::sys::cgroup::limit_memory(pid, &def.uuid.to_string(), &limits);
    record_group(
        def,
        run_dir,
        MEMORY_GROUP_FILE,
        "<memtune> needs a memory cgroup",
        made,
    )
}

/// The file in the run directory that names the domain's block I/O
/// cgroup.
pub const BLKIO_GROUP_FILE: &str = "blkio-cgroup";

/// `<blkiotune>`: QEMU goes into a block I/O cgroup of the domain's own
/// with that weight and those per-device limits (each device named by
/// its path, found as a block device when the domain starts).
pub fn apply_blkiotune(def: &DomainDef, pid: i32, run_dir: &Path) -> Result<()> {
    let Some(b) = &def.blkiotune else {
        return Ok(());
    };
    let mut limits = crate::sys::cgroup::BlkioLimits {
        weight: b.weight,
        devices: Vec::new(),
    };
    for d in &b.devices {
        // The host check before QEMU ran found a block device there.
        let st = nix::sys::stat::stat(Path::new(&d.path))
            .ok()
            .filter(|st| st.st_mode & libc::S_IFMT == libc::S_IFBLK)
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::NoSupport,
                    format!(
                        "cannot start domain '{}': the <blkiotune> device {} is no longer a block device",
                        def.name, d.path
                    ),
                )
            })?;
        let dev = format!(
            "{}:{}",
            nix::sys::stat::major(st.st_rdev),
            nix::sys::stat::minor(st.st_rdev)
        );
        limits.devices.push(crate::sys::cgroup::DeviceLimits {
            dev,
            weight: d.weight,
            read_iops: d.read_iops_sec,
            write_iops: d.write_iops_sec,
            read_bps: d.read_bytes_sec,
            write_bps: d.write_bytes_sec,
        });
    }
    let made = crate::sys::cgroup::limit_blkio(pid, &def.uuid.to_string(), &limits);
    record_group(
        def,
        run_dir,
        BLKIO_GROUP_FILE,
        "<blkiotune> needs a block I/O cgroup",
        made,
    )
}

/// Removes the CPU, memory and block I/O cgroups a run of the domain
/// made, once its QEMU is gone; what it could not remove, for the log.
pub fn remove_group(run_dir: &Path) -> Option<String> {
    let why: Vec<String> = [GROUP_FILE, MEMORY_GROUP_FILE, BLKIO_GROUP_FILE]
        .iter()
        .filter_map(|f| std::fs::read_to_string(run_dir.join(f)).ok())
        .filter_map(|dir| DomainGroup::remove(Path::new(dir.trim())).err())
        .collect();
    (!why.is_empty()).then(|| why.join("; "))
}
