//! Live hot-plug of `<rng>` devices, as libvirt's
//! qemuDomainAttachRNGDevice and qemuDomainDetachPrepRNG: an egd
//! backend's socket (`chardev-add`), the backend (`object-add`) and the
//! virtio-rng device (`device_add`), made exactly as a start makes them,
//! on a free hot-pluggable PCI slot; out again by `device_del` (with the
//! guest's consent, as disks), `object-del` and `chardev-remove`.
//!
//! A start numbers the rngs' QEMU ids in order (`rng0`, `objrng0`, ...);
//! after an unplug in the middle of the list that order no longer
//! holds, so each rng's number is kept with the run (and in the status
//! file a restarted manager reattaches from), and a plugged one takes a
//! number neither the run nor QEMU uses.

use super::driver::{Core, emulator_of};
use super::hotplug::{Found, add_to_qemu, attach_failed, hot_pluggable_slot, renumber, rng_name};
use super::numbered::Numbered;
use super::plug_config::find_rng;
use super::runtime::Running;
use crate::driver::Domain;
use crate::error::{Error, ErrorCode, Result};
use crate::model::{DomainDef, Rng};
use crate::qemu::argv::{PluggedDevice, device_args, rng_ids};
use crate::qemu::qmp::{QMP_TIMEOUT, Qmp};

impl Core {
    /// Plugs `rng` into the running domain and records it (with its PCI
    /// address) in the live definition and the status file. Every check
    /// comes before QEMU is asked anything; a failed `device_add` takes
    /// the backend back.
    pub(crate) fn plug_rng(&self, dom: &Domain, run: &Running, rng: &Rng) -> Result<()> {
        let what = rng_name(rng);
        let live = run.live_def();
        let mut new = live.clone();
        new.devices.rngs.push(rng.clone());
        let index = new.devices.rngs.len() - 1;
        let caps = self.caps(&emulator_of(&live))?;
        let addressed = hot_pluggable_slot(&live, &new, &caps, &what, true)?;
        let qmp = run.qmp()?;
        let result = (|| -> Result<u32> {
            let paths = super::hotplug::plug_paths(run);
            let mut args = device_args(&addressed, &caps, &paths, PluggedDevice::Rng(index))?;
            let n = renumber(
                qmp,
                &mut args,
                index as u32,
                &run.plugged().ids[Numbered::Rng],
                |n| {
                    let (id, object) = rng_ids(n);
                    vec![id.clone(), object, format!("char{id}")]
                },
            )?;
            add_to_qemu(qmp, &args)?;
            Ok(n)
        })();
        let n = result.map_err(|e| attach_failed(dom, &what, e))?;
        run.update_plugged(|p| {
            p.rngs.push(addressed.devices.rngs[index].clone());
            p.ids[Numbered::Rng].push(n);
        });
        self.plugged_in(dom, run, rng_ids(n).0);
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

/// `chardev-remove` of `id`, asked again while QEMU still holds it: the
/// backend an `object-del` let go of is finalised a moment later (after
/// the unplugged device that referred to it), and until then its socket
/// is busy. Any other refusal, or a socket still held after two seconds,
/// is the error.
pub(super) fn remove_chardev(qmp: &Qmp, id: &str) -> Result<()> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    loop {
        match qmp.execute(
            "chardev-remove",
            Some(serde_json::json!({"id": id})),
            QMP_TIMEOUT,
        ) {
            Ok(_) => return Ok(()),
            Err(e) if e.message.contains("busy") && std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            Err(e) => return Err(e),
        }
    }
}
