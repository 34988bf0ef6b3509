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
