//! Live hot-plug of `<shmem>` devices, as libvirt's
//! qemuDomainAttachShmemDevice and qemuDomainRemoveShmemDevice: the
//! shared memory backend (`object-add` of the `/dev/shm` file) and
//! `ivshmem-plain`, or the ivshmem server's socket (`chardev-add`) and
//! `ivshmem-doorbell`, on a free hot-pluggable PCI slot, made exactly as
//! a start makes them; out again by `device_del` (with the guest's
//! consent), then `object-del` or `chardev-remove`.
//!
//! A start numbers the devices' QEMU ids in order (`shmem0`,
//! `shmmem-shmem0`); a plugged one takes a number neither the run nor
//! QEMU uses, kept with the run (and in the status file).

use super::driver::{Core, emulator_of};
use super::hotplug::{Found, add_to_qemu, attach_failed, hot_pluggable_slot, renumber};
use super::numbered::Numbered;
use super::runtime::Running;
use crate::driver::Domain;
use crate::error::{Error, ErrorCode, Result};
use crate::model::Shmem;
use crate::qemu::argv::{PluggedDevice, device_args, shmem_id};

impl Core {
    /// Plugs the shared memory device `s` into the running domain `run`;
    /// one the domain has already (libvirt's virDomainShmemDefEquals) is
    /// refused.
    pub(crate) fn plug_shmem(&self, dom: &Domain, run: &Running, s: &Shmem) -> Result<()> {
        let what = format!("shmem '{}'", s.name);
        let live = run.live_def();
        if super::plug_config::find_shmem(&live, s).is_some() {
            return Err(Error::new(
                ErrorCode::OperationInvalid,
                "device is already in the domain configuration",
            ));
        }
        let mut new = live.clone();
        new.devices.shmems.push(s.clone());
        let i = new.devices.shmems.len() - 1;
        let caps = self.caps(&emulator_of(&live))?;
        let addressed = hot_pluggable_slot(&live, &new, &caps, &what, true)?;
        let qmp = run.qmp()?;
        let taken = run.plugged().ids[Numbered::Shmem].clone();
        let result = (|| -> Result<u32> {
            let paths = super::hotplug::plug_paths(run);
            let mut args = device_args(&addressed, &caps, &paths, PluggedDevice::Shmem(i))?;
            let n = renumber(qmp, &mut args, i as u32, &taken, |n| {
                let id = shmem_id(n as usize);
                vec![id.clone(), format!("shmmem-{id}"), format!("char{id}")]
            })?;
            add_to_qemu(qmp, &args)?;
            Ok(n)
        })();
        let n = result.map_err(|e| attach_failed(dom, &what, e))?;
        run.update_plugged(|p| {
            p.shmems.push(addressed.devices.shmems[i].clone());
            p.ids[Numbered::Shmem].push(n);
        });
        self.plugged_in(dom, run, shmem_id(n as usize));
        Ok(())
    }

    /// Unplugs the shared memory device `s` names from the running
    /// domain.
    pub(crate) fn unplug_shmem(&self, dom: &Domain, run: &Running, s: &Shmem) -> Result<()> {
        let index = super::plug_config::find_shmem(&run.live_def(), s).ok_or_else(|| {
            Error::new(
                ErrorCode::InvalidArgument,
                "matching shmem device was not found",
            )
        })?;
        self.unplug(dom, run, Found::Shmem(index))
    }
}

/// The QEMU id of shared memory device `index` of the run (`shmemN`, its
/// number kept with the run).
pub(super) fn live_shmem_id(run: &Running, index: usize) -> String {
    shmem_id(run.number(Numbered::Shmem, index) as usize)
}
