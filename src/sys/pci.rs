//! Host PCI devices and their drivers, through sysfs: which driver holds
//! a device, its IOMMU group, and moving it to `vfio-pci` and back as
//! libvirt's `virPCIDeviceBindWithDriverOverride` does (`driver_override`,
//! `driver/unbind`, `drivers_probe`). Knows nothing of domains.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::error::{Error, ErrorCode, Result};

/// The driver QEMU's `vfio-pci` device needs on the host.
pub const VFIO_DRIVER: &str = "vfio-pci";

/// Drivers a device may keep while another device of its IOMMU group is
/// passed through (the kernel's own list in `vfio_dev_driver_allowed`,
/// plus vfio's): the group stays viable.
const GROUP_SAFE_DRIVERS: &[&str] = &["vfio-pci", "pci-stub", "pcieport"];

/// How long a bind may take to show in sysfs and `/dev/vfio`.
const BIND_DEADLINE: Duration = Duration::from_secs(5);

/// Where sysfs and `/dev` are read: `/` on a real host.
#[derive(Debug, Clone)]
pub struct PciHost {
    /// The directory holding `sys/` and `dev/`.
    pub root: PathBuf,
}

impl Default for PciHost {
    fn default() -> PciHost {
        PciHost {
            root: PathBuf::from("/"),
        }
    }
}

fn io_error(what: String, e: std::io::Error) -> Error {
    Error::new(ErrorCode::OperationFailed, format!("{what}: {e}"))
}

impl PciHost {
    fn sys(&self, p: &str) -> PathBuf {
        self.root.join("sys/bus/pci").join(p)
    }

    /// The sysfs directory of device `name` (`0000:06:12.5`).
    pub fn device(&self, name: &str) -> PathBuf {
        self.sys(&format!("devices/{name}"))
    }

    /// The driver bound to `name`, if any.
    pub fn driver(&self, name: &str) -> Option<String> {
        link_name(&self.device(name).join("driver"))
    }

    /// The IOMMU group of `name`, if it has one.
    pub fn iommu_group(&self, name: &str) -> Option<String> {
        link_name(&self.device(name).join("iommu_group"))
    }

    /// The devices of IOMMU group `group`, sorted.
    pub fn group_members(&self, group: &str) -> Vec<String> {
        let dir = self
            .root
            .join("sys/kernel/iommu_groups")
            .join(group)
            .join("devices");
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }

    /// The first device of `name`'s IOMMU group, other than those in
    /// `passed`, whose driver would make the group unusable for VFIO,
    /// with that driver.
    pub fn group_blocker(&self, name: &str, passed: &[String]) -> Option<(String, String)> {
        let group = self.iommu_group(name)?;
        self.group_members(&group)
            .into_iter()
            .filter(|m| !passed.contains(m))
            .find_map(|m| {
                let d = self.driver(&m)?;
                (!GROUP_SAFE_DRIVERS.contains(&d.as_str()) && !d.contains("vfio")).then_some((m, d))
            })
    }

    /// Makes sure the `vfio-pci` driver is there, loading its module as
    /// libvirt's `virPCIProbeStubDriver` does.
    pub fn load_vfio(&self) -> Result<()> {
        let dir = self.sys(&format!("drivers/{VFIO_DRIVER}"));
        if dir.exists() {
            return Ok(());
        }
        let why = match std::process::Command::new("modprobe")
            .arg(VFIO_DRIVER)
            .stdin(std::process::Stdio::null())
            .output()
        {
            Ok(out) if out.status.success() => String::new(),
            Ok(out) => String::from_utf8_lossy(&out.stderr).trim().to_string(),
            Err(e) => format!("cannot run modprobe: {e}"),
        };
        if dir.exists() {
            return Ok(());
        }
        Err(Error::new(
            ErrorCode::OperationFailed,
            format!(
                "the {VFIO_DRIVER} driver is not loaded and `modprobe {VFIO_DRIVER}` did not load it{}",
                if why.is_empty() {
                    String::new()
                } else {
                    format!(": {why}")
                }
            ),
        ))
    }

    /// Hands `name` to `driver` (the empty string: back to the driver the
    /// kernel prefers): sets its override, unbinds it from the driver it
    /// has, and asks the kernel to probe it again.
    fn rebind(&self, name: &str, driver: &str) -> Result<()> {
        let dev = self.device(name);
        let value = if driver.is_empty() { "\n" } else { driver };
        write(&dev.join("driver_override"), value).map_err(|e| {
            io_error(
                format!("cannot set the driver override of PCI device {name}"),
                e,
            )
        })?;
        if let Some(old) = self.driver(name) {
            write(&dev.join("driver/unbind"), name)
                .map_err(|e| io_error(format!("cannot unbind PCI device {name} from {old}"), e))?;
        }
        write(&self.sys("drivers_probe"), name)
            .map_err(|e| io_error(format!("cannot probe PCI device {name}"), e))
    }

    /// Binds `name` to `vfio-pci` and waits for its group's `/dev/vfio`
    /// node. On failure the caller gives the device back with
    /// [`PciHost::unbind_vfio`], wherever the failure left it.
    pub fn bind_vfio(&self, name: &str) -> Result<()> {
        self.rebind(name, VFIO_DRIVER)?;
        {
            let deadline = Instant::now() + BIND_DEADLINE;
            loop {
                let driver = self.driver(name);
                let node = self
                    .iommu_group(name)
                    .map(|g| self.root.join("dev/vfio").join(g));
                if driver.as_deref() == Some(VFIO_DRIVER)
                    && node.as_ref().is_some_and(|n| n.exists())
                {
                    return Ok(());
                }
                if Instant::now() >= deadline {
                    return Err(Error::new(
                        ErrorCode::OperationFailed,
                        match driver {
                            Some(d) if d == VFIO_DRIVER => format!(
                                "PCI device {name} is bound to {VFIO_DRIVER}, but its group's device node {} did not appear",
                                node.map(|n| n.display().to_string()).unwrap_or_default()
                            ),
                            other => format!(
                                "PCI device {name} did not bind to {VFIO_DRIVER} (its driver is {}; see the kernel log)",
                                other.as_deref().unwrap_or("none")
                            ),
                        },
                    ));
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }

    /// Gives `name` back to the driver the kernel prefers for it, if it
    /// is on `vfio-pci` (the kernel probes it before the write returns).
    pub fn unbind_vfio(&self, name: &str) -> Result<()> {
        if !self.device(name).exists() {
            return Ok(());
        }
        if self.driver(name).as_deref() == Some(VFIO_DRIVER) {
            self.rebind(name, "")?;
        } else {
            // Not ours to move; only the override goes.
            write(&self.device(name).join("driver_override"), "\n").map_err(|e| {
                io_error(
                    format!("cannot clear the driver override of PCI device {name}"),
                    e,
                )
            })?;
        }
        Ok(())
    }
}

/// The last component of the link at `p`.
fn link_name(p: &Path) -> Option<String> {
    std::fs::read_link(p)
        .ok()
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
}

/// Writes `value` to sysfs attribute `p` in one write, as the kernel
/// reads it (opened as `echo VALUE > FILE` opens it).
fn write(p: &Path, value: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(p)?;
    f.write_all(value.as_bytes())
}

#[cfg(test)]
pub(crate) mod kernel;
#[cfg(test)]
mod tests;
