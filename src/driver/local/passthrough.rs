//! The host PCI devices a run takes, as libvirt's `virhostdev.c` handles
//! them: a device belongs to one running domain at a time; a managed one
//! (`managed='yes'`) on a host driver is moved to `vfio-pci` before QEMU
//! starts and given back to that driver when the run ends. The devices
//! this run moved are listed in its runtime directory before the first
//! is moved, so whoever ends the run (this manager, or the next one after
//! a crash) gives them back; a device already on `vfio-pci` is left
//! there, as libvirt leaves it.

use std::path::Path;

use uuid::Uuid;

use super::driver::{Core, lock};
use crate::error::{Error, ErrorCode, Result};
use crate::model::{DomainDef, HostdevSource};
use crate::qemu::argv::host_pci_name;
use crate::sys::pci::{PciHost, VFIO_DRIVER};

/// The file in the runtime directory naming the devices the run moved
/// to `vfio-pci`, one per line.
const RECORD: &str = "vfio-moved";

/// The host PCI devices of `def`, each with whether it is managed.
fn pci_devices(def: &DomainDef) -> Vec<(String, bool)> {
    def.devices
        .hostdevs
        .iter()
        .filter_map(|h| match &h.source {
            HostdevSource::Pci(a) => Some((host_pci_name(a), h.managed == Some(true))),
            _ => None,
        })
        .collect()
}

/// The devices a start took: given back (and let go) when dropped, unless
/// kept once QEMU runs.
pub(crate) struct Taken<'a> {
    core: &'a Core,
    host: PciHost,
    uuid: Uuid,
    moved: Vec<String>,
    kept: bool,
}

impl Taken<'_> {
    /// Leaves the devices with the run; its end gives them back.
    pub fn keep(mut self) {
        self.kept = true;
    }
}

impl Drop for Taken<'_> {
    fn drop(&mut self) {
        if self.kept {
            return;
        }
        give_back(&self.core.log, &self.host, &self.moved);
        lock(&self.core.inner)
            .pci_claims
            .retain(|_, (u, _)| *u != self.uuid);
    }
}

/// Gives each of `moved` back to its host driver, logging what fails.
fn give_back(log: &crate::sys::logger::Logger, host: &PciHost, moved: &[String]) {
    for name in moved {
        match host.unbind_vfio(name) {
            Ok(()) => log.info(&format!(
                "PCI device {name} given back to {}",
                host.driver(name).as_deref().unwrap_or("no driver")
            )),
            Err(e) => log.error(&format!("cannot give PCI device {name} back: {e}")),
        }
    }
}

impl Core {
    /// Claims the host PCI devices of `def` for its run, and moves the
    /// managed ones to `vfio-pci`, listing them in `run_dir` first.
    pub(crate) fn take_host_devices(&self, def: &DomainDef, run_dir: &Path) -> Result<Taken<'_>> {
        self.take_host_devices_on(PciHost::default(), def, run_dir)
    }

    /// [`Core::take_host_devices`] on `host`'s sysfs.
    fn take_host_devices_on(
        &self,
        host: PciHost,
        def: &DomainDef,
        run_dir: &Path,
    ) -> Result<Taken<'_>> {
        let devices = pci_devices(def);
        let mut taken = Taken {
            core: self,
            host,
            uuid: def.uuid,
            moved: Vec::new(),
            kept: false,
        };
        if devices.is_empty() {
            return Ok(taken);
        }
        {
            let mut inner = lock(&self.inner);
            if let Some((name, (_, other))) = devices.iter().find_map(|(n, _)| {
                inner
                    .pci_claims
                    .get(n)
                    .filter(|(u, _)| *u != def.uuid)
                    .map(|c| (n, c))
            }) {
                return Err(Error::new(
                    ErrorCode::OperationInvalid,
                    format!("PCI device {name} is in use by driver QEMU, domain {other}"),
                ));
            }
            for (n, _) in &devices {
                inner
                    .pci_claims
                    .insert(n.clone(), (def.uuid, def.name.clone()));
            }
        }
        let host = taken.host.clone();
        let moving: Vec<String> = devices
            .into_iter()
            .filter(|(n, managed)| *managed && host.driver(n).as_deref() != Some(VFIO_DRIVER))
            .map(|(n, _)| n)
            .collect();
        if moving.is_empty() {
            return Ok(taken);
        }
        host.load_vfio()?;
        crate::sys::fsutil::replace_atomic(&run_dir.join(RECORD), moving.join("\n").as_bytes())?;
        for name in moving {
            let from = host.driver(&name);
            taken.moved.push(name.clone());
            host.bind_vfio(&name).map_err(|e| {
                Error::new(
                    e.code,
                    format!("cannot start domain '{}': {}", def.name, e.message),
                )
            })?;
            self.log.info(&format!(
                "domain '{}': PCI device {name} moved from {} to {VFIO_DRIVER}",
                def.name,
                from.as_deref().unwrap_or("no driver")
            ));
        }
        Ok(taken)
    }

    /// At the end of the run in `run_dir` (of domain `uuid`, when known):
    /// gives back the devices it moved, and lets go of its claims.
    pub(crate) fn give_back_host_devices(&self, uuid: Option<Uuid>, run_dir: &Path) {
        self.give_back_host_devices_on(&PciHost::default(), uuid, run_dir);
    }

    /// [`Core::give_back_host_devices`] on `host`'s sysfs.
    fn give_back_host_devices_on(&self, host: &PciHost, uuid: Option<Uuid>, run_dir: &Path) {
        let record = run_dir.join(RECORD);
        if let Ok(text) = std::fs::read_to_string(&record) {
            let moved: Vec<String> = text.lines().map(str::to_string).collect();
            give_back(&self.log, host, &moved);
            let _ = crate::sys::fsutil::remove_runtime(&record);
        }
        if let Some(uuid) = uuid {
            lock(&self.inner).pci_claims.retain(|_, (u, _)| *u != uuid);
        }
    }

    /// Claims again the devices of a run found alive (a manager that
    /// reattaches).
    pub(crate) fn reclaim_host_devices(&self, def: &DomainDef) {
        let mut inner = lock(&self.inner);
        for (n, _) in pci_devices(def) {
            inner.pci_claims.insert(n, (def.uuid, def.name.clone()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::local::LocalDriver;
    use crate::sys::pci::kernel::{DEV, kernel, settled};

    fn def(name: &str, uuid: &str, managed: &str) -> DomainDef {
        DomainDef::from_xml(&format!(
            "<domain type='qemu'><name>{name}</name><uuid>{uuid}</uuid><memory>65536</memory><os><type>hvm</type></os><devices><hostdev mode='subsystem' type='pci' managed='{managed}'><source><address domain='0x0000' bus='0x06' slot='0x12' function='0x5'/></source></hostdev></devices></domain>"
        ))
        .unwrap()
    }

    fn scratch(tag: &str) -> std::path::PathBuf {
        let d =
            std::env::temp_dir().join(format!("qvirt-passthrough-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join("run-a")).unwrap();
        std::fs::create_dir_all(d.join("run-b")).unwrap();
        d
    }

    #[test]
    fn a_managed_device_is_moved_for_one_run_and_given_back() {
        let k = kernel("run", &[]);
        let host = k.host();
        let dir = scratch("run");
        let driver = LocalDriver::open_embedded(&dir.join("state")).unwrap();
        let core = &driver.core;
        let a = def("a", "11111111-2222-3333-4444-555555555555", "yes");
        let b = def("b", "11111111-2222-3333-4444-666666666666", "yes");
        let taken = core
            .take_host_devices_on(host.clone(), &a, &dir.join("run-a"))
            .unwrap();
        assert_eq!(host.driver(DEV).as_deref(), Some(VFIO_DRIVER));
        let record = std::fs::read_to_string(dir.join("run-a").join(RECORD)).unwrap();
        assert_eq!(record, DEV, "listed before it moved");
        taken.keep();
        // One running domain at a time.
        let e = core
            .take_host_devices_on(host.clone(), &b, &dir.join("run-b"))
            .err()
            .unwrap();
        assert_eq!(e.code, ErrorCode::OperationInvalid);
        assert_eq!(
            e.message,
            format!("PCI device {DEV} is in use by driver QEMU, domain a")
        );
        assert_eq!(
            host.driver(DEV).as_deref(),
            Some(VFIO_DRIVER),
            "a refusal moves nothing"
        );
        // The run ends: the device goes back to its driver, and b may have it.
        core.give_back_host_devices_on(&host, Some(a.uuid), &dir.join("run-a"));
        assert_eq!(settled(&host, "e1000e").as_deref(), Some("e1000e"));
        assert!(!dir.join("run-a").join(RECORD).exists());
        let taken = core
            .take_host_devices_on(host.clone(), &b, &dir.join("run-b"))
            .unwrap();
        assert_eq!(settled(&host, VFIO_DRIVER).as_deref(), Some(VFIO_DRIVER));
        // A start that fails gives it back and lets go of it.
        drop(taken);
        assert_eq!(settled(&host, "e1000e").as_deref(), Some("e1000e"));
        assert!(lock(&core.inner).pci_claims.is_empty());
        drop(driver);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn the_next_manager_gives_back_what_a_killed_one_moved() {
        let k = kernel("crash", &[]);
        let host = k.host();
        let dir = scratch("crash");
        let a = def("a", "11111111-2222-3333-4444-555555555555", "yes");
        {
            let driver = LocalDriver::open_embedded(&dir.join("state")).unwrap();
            let taken = driver
                .core
                .take_host_devices_on(host.clone(), &a, &dir.join("run-a"))
                .unwrap();
            // The manager dies with the device on vfio-pci: nothing runs
            // the guard.
            std::mem::forget(taken);
        }
        assert_eq!(host.driver(DEV).as_deref(), Some(VFIO_DRIVER));
        let driver = LocalDriver::open_embedded(&dir.join("state")).unwrap();
        driver
            .core
            .give_back_host_devices_on(&host, None, &dir.join("run-a"));
        assert_eq!(settled(&host, "e1000e").as_deref(), Some("e1000e"));
        drop(driver);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_device_already_on_vfio_or_unmanaged_stays_where_it_is() {
        let k = kernel("stays", &[]);
        let host = k.host();
        let dir = scratch("stays");
        let driver = LocalDriver::open_embedded(&dir.join("state")).unwrap();
        let core = &driver.core;
        // Unmanaged: the start checks (hostcheck), and moves nothing.
        let unmanaged = def("a", "11111111-2222-3333-4444-555555555555", "no");
        let taken = core
            .take_host_devices_on(host.clone(), &unmanaged, &dir.join("run-a"))
            .unwrap();
        assert_eq!(host.driver(DEV).as_deref(), Some("e1000e"));
        assert!(!dir.join("run-a").join(RECORD).exists());
        drop(taken);
        // Already on vfio-pci (bound by the administrator): left there
        // when the run ends, as libvirt leaves it.
        host.bind_vfio(DEV).unwrap();
        let managed = def("a", "11111111-2222-3333-4444-555555555555", "yes");
        core.take_host_devices_on(host.clone(), &managed, &dir.join("run-a"))
            .unwrap()
            .keep();
        assert!(!dir.join("run-a").join(RECORD).exists());
        core.give_back_host_devices_on(&host, Some(managed.uuid), &dir.join("run-a"));
        assert_eq!(host.driver(DEV).as_deref(), Some(VFIO_DRIVER));
        drop(driver);
        let _ = std::fs::remove_dir_all(dir);
    }
}
