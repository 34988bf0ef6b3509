//! Live hot-plug of `<rng>` devices, as libvirt's
//! qemuDomainAttachRNGDevice and qemuDomainDetachPrepRNG: the backend
//! (`object-add`) and the virtio-rng device (`device_add`), made exactly
//! as a start makes them, on a free hot-pluggable PCI slot; out again by
//! `device_del` (with the guest's consent, as disks) and `object-del`.
//!
//! A start numbers the rngs' QEMU ids in order (`rng0`, `objrng0`, ...);
//! after an unplug in the middle of the list that order no longer
//! holds, so each rng's number is kept with the run (and in the status
//! file a restarted manager reattaches from), and a plugged one takes a
//! number neither the run nor QEMU uses.

use super::driver::{Core, emulator_of};
use super::hotplug::{Found, add_to_qemu, hot_pluggable_slot, qom_children, rng_name};
use super::plug_config::find_rng;
use super::runtime::Running;
use crate::driver::Domain;
use crate::error::{Error, ErrorCode, Result};
use crate::model::{DomainDef, Rng, RngBackend};
use crate::qemu::argv::{PluggedDevice, RuntimePaths, device_args, rng_ids};
use crate::qemu::qmp::Qmp;

impl Core {
    /// Plugs `rng` into the running domain and records it (with its PCI
    /// address) in the live definition and the status file. Every check
    /// comes before QEMU is asked anything; a failed `device_add` takes
    /// the backend back.
    pub(crate) fn plug_rng(&self, dom: &Domain, run: &Running, rng: &Rng) -> Result<()> {
        let what = rng_name(rng);
        if let RngBackend::Egd(_) = rng.backend {
            return Err(Error::new(
                ErrorCode::ConfigUnsupported,
                format!(
                    "cannot attach {what} to domain '{}': an rng with the egd backend is not hot-plugged (its chardev comes with the start); attach it with --config and restart the domain",
                    dom.name
                ),
            ));
        }
        let live = run.live_def();
        let mut new = live.clone();
        new.devices.rngs.push(rng.clone());
        let index = new.devices.rngs.len() - 1;
        let caps = self.caps(&emulator_of(&live))?;
        let addressed = hot_pluggable_slot(&live, &new, &caps, &what)?;
        let qmp = run.qmp()?;
        let result = (|| -> Result<u32> {
            let mut paths = RuntimePaths::for_test(&run.run_dir.to_string_lossy());
            paths.qmp_socket = run.run_dir.join("qmp.sock");
            let mut args = device_args(&addressed, &caps, &paths, PluggedDevice::Rng(index))?;
            let n = free_number(qmp, &run.plugged().rng_ids)?;
            let (id, object) = rng_ids(n);
            args.device["id"] = id.into();
            args.device["rng"] = object.clone().into();
            for o in &mut args.objects {
                o["id"] = object.clone().into();
            }
            add_to_qemu(qmp, &args)?;
            Ok(n)
        })();
        let n = result.map_err(|e| {
            Error::new(
                e.code,
                format!(
                    "cannot attach {what} to domain '{}': {}",
                    dom.name, e.message
                ),
            )
        })?;
        run.update_plugged(|p| {
            p.rngs.push(addressed.devices.rngs[index].clone());
            p.rng_ids.push(n);
        });
        self.save_status(dom.uuid, run);
        Ok(())
    }

    /// Unplugs the rng of the running domain that `rng` names (found by
    /// libvirt's virDomainRNGFind), as a disk is unplugged.
    pub(crate) fn unplug_rng(&self, dom: &Domain, run: &Running, rng: &Rng) -> Result<()> {
        let index = live_rng(&run.live_def(), rng)?;
        self.unplug(dom, run, Found::Rng(index))
    }
}

/// The position of the rng of the running domain's definition `live`
/// that `rng` names; libvirt's error when there is none.
pub(crate) fn live_rng(live: &DomainDef, rng: &Rng) -> Result<usize> {
    find_rng(live, rng).ok_or_else(|| {
        Error::new(
            ErrorCode::InvalidArgument,
            format!(
                "model '{}' RNG device not present in domain configuration",
                rng.model.as_str()
            ),
        )
    })
}

/// The lowest rng number the run does not use (`taken`) and QEMU has
/// neither a device nor an object of (a backend an earlier unplug left
/// behind).
fn free_number(qmp: &Qmp, taken: &[u32]) -> Result<u32> {
    let devices = qom_children(qmp, "/machine/peripheral")?;
    let objects = qom_children(qmp, "/objects")?;
    Ok((0..)
        .find(|n| {
            let (id, object) = rng_ids(*n);
            !taken.contains(n) && !devices.contains(&id) && !objects.contains(&object)
        })
        .expect("a free number"))
}
