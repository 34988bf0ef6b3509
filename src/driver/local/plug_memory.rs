//! Live hot-plug of `<memory>` devices, as libvirt's
//! qemuDomainAttachMemory and qemuDomainDetachPrepMemory: the backend
//! (`object-add`) and the device (`device_add`), made exactly as a start
//! makes them; a DIMM or NVDIMM on the first free slot (written into the
//! live definition, so that its QEMU id `dimmN` stays), a virtio device
//! on a free hot-pluggable PCI slot. The domain's memory grows by the
//! device's size, as libvirt counts it (and its current memory with it
//! where that was all of it).
//!
//! Out again by `device_del` (with the guest's consent, which takes its
//! memory offline) and `object-del`: only DIMMs, as QEMU unplugs only
//! them (an NVDIMM, virtio-pmem and virtio-mem device cannot leave a
//! running guest; virtio-mem shrinks through its requested size
//! instead).

use super::driver::{Core, emulator_of};
use super::hotplug::{Found, add_to_qemu, hot_pluggable_slot};
use super::plug_config::find_memory;
use super::runtime::Running;
use crate::driver::Domain;
use crate::error::{Error, ErrorCode, Result};
use crate::model::{DomainDef, MemoryDevice, MemoryModel};
use crate::qemu::argv::{PluggedDevice, device_args, memory_device_ids, module_kib};

impl Core {
    /// Plugs `mem` into the running domain and records it (with its
    /// slot or PCI address) in the live definition and the status file.
    /// Every check comes before QEMU is asked anything; a failed
    /// `device_add` takes the backend back.
    pub(crate) fn plug_memory(
        &self,
        dom: &Domain,
        run: &Running,
        mem: &MemoryDevice,
    ) -> Result<()> {
        let what = format!("memory device '{}'", mem.model.as_str());
        let live = run.live_def();
        let fail = |e: Error| super::hotplug::attach_failed(dom, &what, e);
        let new = with_memory(&live, mem).map_err(fail)?;
        let index = new.devices.memories.len() - 1;
        let caps = self.caps(&emulator_of(&live))?;
        let pci = matches!(mem.model, MemoryModel::VirtioMem | MemoryModel::VirtioPmem);
        let mut addressed = hot_pluggable_slot(&live, &new, &caps, &what, pci)?;
        // The slot a start would give it, kept so its id stays.
        let (id, slot) = memory_device_ids(&addressed).swap_remove(index);
        if let Some(s) = slot {
            addressed.devices.memories[index].slot = Some(s);
        }
        let qmp = run.qmp()?;
        let paths = super::hotplug::plug_paths(run);
        let args =
            device_args(&addressed, &caps, &paths, PluggedDevice::Memory(index)).map_err(fail)?;
        add_to_qemu(qmp, &args).map_err(fail)?;
        let plugged = addressed.devices.memories[index].clone();
        run.update_plugged(|p| p.memories.push(plugged));
        self.save_status(dom.uuid, run);
        self.emit(
            super::monitor::handle_of(run.def.uuid, run),
            crate::driver::EventKind::DeviceAdded { alias: id },
        );
        Ok(())
    }

    /// Unplugs the memory device of the running domain that `mem` names
    /// (found as libvirt's virDomainMemoryFindByDef finds it): a DIMM;
    /// the other models are refused by name.
    pub(crate) fn unplug_memory(
        &self,
        dom: &Domain,
        run: &Running,
        mem: &MemoryDevice,
    ) -> Result<()> {
        let live = run.live_def();
        let index = find_memory(&live, mem).ok_or_else(|| {
            Error::new(
                ErrorCode::OperationInvalid,
                "matching memory device was not found",
            )
        })?;
        let model = live.devices.memories[index].model;
        if model != MemoryModel::Dimm {
            return Err(Error::new(
                ErrorCode::ConfigUnsupported,
                format!(
                    "cannot detach memory device '{}' from domain '{}': QEMU unplugs only DIMMs{}",
                    model.as_str(),
                    dom.name,
                    if model == MemoryModel::VirtioMem {
                        " (a virtio-mem device gives memory back through its requested size)"
                    } else {
                        ""
                    }
                ),
            ));
        }
        self.unplug(dom, run, Found::Memory(index))
    }
}

/// `def` with `mem` added, its memory grown by the device's size (and
/// its current memory with it where that was all of it), checked as
/// libvirt checks a memory device plugged in: `<maxMemory>` with slots
/// and NUMA cells, room for the size, a free slot.
fn with_memory(def: &DomainDef, mem: &MemoryDevice) -> Result<DomainDef> {
    let Some(max) = def.max_memory.filter(|m| m.slots > 0) else {
        return Err(Error::new(
            ErrorCode::OperationInvalid,
            "cannot use/hotplug a memory device when domain 'maxMemory' is not defined",
        ));
    };
    let size = module_kib(mem);
    let total = def.memory_kib + size;
    if total > max.kib {
        return Err(Error::new(
            ErrorCode::ConfigUnsupported,
            format!(
                "Attaching memory device with size '{size}' would exceed domain's maxMemory config size '{}'",
                max.kib
            ),
        ));
    }
    if def.devices.memories.len() >= max.slots as usize {
        return Err(Error::new(
            ErrorCode::OperationInvalid,
            "no free memory device slot available",
        ));
    }
    let mut new = def.clone();
    new.devices.memories.push(mem.clone());
    if new.current_memory_kib == Some(def.memory_kib) {
        new.current_memory_kib = Some(total);
    }
    new.memory_kib = total;
    new.validate().map_err(Error::from)?;
    Ok(new)
}
