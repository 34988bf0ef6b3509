//! Checks of `<memory>` devices, as libvirt's domain_validate
//! (virDomainMemoryDefValidate) and its hot-plug rules for x86
//! (qemuDomainDefValidateMemoryHotplug) make them.

use super::{R, check_path, invalid, show, unsupported};
use crate::model::units::parse_cpuset;
use crate::model::{Address, DomainDef, MemoryAccess, MemoryDevice, MemoryModel};

/// The smallest virtio-mem block: the transparent huge page size of x86
/// hosts, libvirt's fallback when it cannot read the host's.
const MIN_VIRTIO_MEM_BLOCK_KIB: u64 = 2048;

pub(super) fn validate(def: &DomainDef) -> R {
    let mems = &def.devices.memories;
    let cells = def.cpu.as_ref().map(|c| c.numa.len()).unwrap_or(0);
    for (i, m) in mems.iter().enumerate() {
        device(m, cells)?;
        if let Some(s) = m.slot
            && let Some(j) = mems[..i].iter().position(|o| o.slot == Some(s))
        {
            return Err(unsupported(format!(
                "memory device slot '{s}' is already being used by memory device {j}"
            )));
        }
        if let Some(b) = m.base
            && mems[..i].iter().any(|o| o.base == Some(b))
        {
            return Err(unsupported(format!(
                "memory device base '0x{b:x}' is already being used by another memory device"
            )));
        }
    }
    let Some(max) = def.max_memory.filter(|m| m.slots > 0) else {
        return Ok(());
    };
    if mems.len() > max.slots as usize {
        return Err(unsupported(format!(
            "memory device count '{}' exceeds slots count '{}'",
            mems.len(),
            max.slots
        )));
    }
    if let Some(s) = mems.iter().filter_map(|m| m.slot).find(|s| *s >= max.slots) {
        return Err(unsupported(format!(
            "memory device slot '{s}' exceeds slots count '{}'",
            max.slots
        )));
    }
    Ok(())
}

fn device(m: &MemoryDevice, cells: usize) -> R {
    let model = m.model.as_str();
    if let Some(n) = m.node {
        if cells == 0 {
            return Err(invalid(
                "can't add memory backend as guest has no NUMA nodes configured",
            ));
        }
        if n as usize >= cells {
            return Err(invalid(format!(
                "can't add memory backend for guest node '{n}' as the guest has only '{cells}' NUMA nodes configured"
            )));
        }
    }
    if let Some(mask) = &m.nodemask
        && parse_cpuset(mask).is_none_or(|n| n.is_empty())
    {
        return Err(unsupported(format!(
            "Invalid value of 'nodemask': {}",
            show(mask)
        )));
    }
    if let Some(p) = &m.path {
        check_path(&format!("the <source><path> of memory model '{model}'"), p)?;
    }
    let pci = matches!(m.model, MemoryModel::VirtioPmem | MemoryModel::VirtioMem);
    if let Some(a) = &m.address
        && !(pci && matches!(a, Address::Pci(_)))
    {
        let wanted = if pci { "pci" } else { "dimm" };
        return Err(unsupported(format!(
            "only '{wanted}' addresses are supported for memory model '{model}', not '{}'",
            a.type_name()
        )));
    }
    if pci && (m.slot.is_some() || m.base.is_some()) {
        return Err(unsupported(format!(
            "only 'pci' addresses are supported for memory model '{model}', not 'dimm'"
        )));
    }
    if m.model != MemoryModel::VirtioPmem && m.node.is_none() && cells > 0 {
        return Err(unsupported(format!(
            "target NUMA node needs to be specified for memory device (model '{model}')"
        )));
    }
    match m.model {
        MemoryModel::Dimm => {}
        MemoryModel::Nvdimm => {
            if m.path.is_none() {
                return Err(invalid("path is required for model 'nvdimm'"));
            }
            if m.discard == Some(true) {
                return Err(unsupported("discard is not supported for nvdimms"));
            }
        }
        MemoryModel::VirtioPmem => {
            if m.path.is_none() {
                return Err(invalid("path is required for model 'virtio-pmem'"));
            }
            if m.discard == Some(true) {
                return Err(unsupported(
                    "discard is not supported for model 'virtio-pmem'",
                ));
            }
            if m.access != Some(MemoryAccess::Shared) {
                return Err(unsupported(
                    "shared access mode required for virtio-pmem device: write access='shared'",
                ));
            }
            if m.node.is_some() {
                return Err(unsupported("virtio-pmem does not support NUMA nodes"));
            }
        }
        MemoryModel::VirtioMem => {
            let block = m.block_kib.unwrap_or(0);
            let requested = m.requested_kib;
            if requested > m.size_kib {
                return Err(invalid(format!(
                    "requested size must be smaller than or equal to @size ({}KiB)",
                    m.size_kib
                )));
            }
            if !block.is_power_of_two() {
                return Err(invalid("block size must be a power of two"));
            }
            if block < MIN_VIRTIO_MEM_BLOCK_KIB {
                return Err(invalid(format!(
                    "block size too small, must be at least {MIN_VIRTIO_MEM_BLOCK_KIB}KiB"
                )));
            }
            if !requested.is_multiple_of(block) {
                return Err(invalid(
                    "requested size must be an integer multiple of block size",
                ));
            }
        }
    }
    Ok(())
}
