//! The `<memory>` devices: a memory backend object and a device each
//! (`pc-dimm`, `nvdimm`, `virtio-pmem-pci`, `virtio-mem-pci`), as
//! libvirt 9.0's qemuBuildMemoryBackendProps and
//! qemuBuildMemoryDeviceProps make them.

use super::opts::{Opts, user};
use super::pci::Dev;
use super::tuning::{hugepage_dir, hugepage_size, numa_mode, ranges};
use super::{Ctx, invalid, unsupported};
use crate::error::Error;
use crate::model::{
    DomainDef, MemoryAccess, MemoryAllocationMode, MemoryDevice, MemoryModel, MemorySourceType,
    NumaMode, parse_cpuset,
};

/// Memory modules are sized in whole 2 MiB, as libvirt rounds them up
/// for QEMU (qemuDomainGetMemoryModuleSizeAlignment on x86).
const MODULE_ALIGN_KIB: u64 = 2048;

/// The host's base page size on x86: a "huge" page of this size is no
/// huge page at all.
const SYSTEM_PAGE_KIB: u64 = 4;

/// A memory device's size as QEMU gets it, in KiB.
pub fn module_kib(m: &MemoryDevice) -> u64 {
    m.size_kib.div_ceil(MODULE_ALIGN_KIB) * MODULE_ALIGN_KIB
}

/// Whether the machine needs `nvdimm=on`.
pub fn needs_nvdimm(def: &DomainDef) -> bool {
    def.devices
        .memories
        .iter()
        .any(|m| m.model == MemoryModel::Nvdimm)
}

/// Each device's QEMU id, and for DIMMs the slot: a DIMM or NVDIMM
/// without `<address slot>` takes the first free slot and is named after
/// it (`dimm0`, `nvdimm1`); virtio devices are numbered in order per
/// model (`virtiomem0`, `virtiopmem0`), as libvirt names them.
pub fn device_ids(def: &DomainDef) -> Vec<(String, Option<u32>)> {
    let mems = &def.devices.memories;
    let mut used: Vec<u32> = mems.iter().filter_map(|m| m.slot).collect();
    let (mut pmem, mut vmem) = (0, 0);
    mems.iter()
        .map(|m| match m.model {
            MemoryModel::Dimm | MemoryModel::Nvdimm => {
                let slot = m.slot.unwrap_or_else(|| {
                    let free = (0..).find(|s| !used.contains(s)).unwrap_or(0);
                    used.push(free);
                    free
                });
                let prefix = if m.model == MemoryModel::Dimm {
                    "dimm"
                } else {
                    "nvdimm"
                };
                (format!("{prefix}{slot}"), Some(slot))
            }
            MemoryModel::VirtioPmem => {
                pmem += 1;
                (format!("virtiopmem{}", pmem - 1), None)
            }
            MemoryModel::VirtioMem => {
                vmem += 1;
                (format!("virtiomem{}", vmem - 1), None)
            }
        })
        .collect()
}

/// What a device's backend is made of, once the cell's and
/// `<memoryBacking>`'s settings are applied.
struct Backing {
    access: Option<MemoryAccess>,
    discard: Option<bool>,
    page_kib: Option<u64>,
    prealloc: bool,
}

fn backing(def: &DomainDef, m: &MemoryDevice) -> Backing {
    let mb = def.memory_backing.clone().unwrap_or_default();
    let cell = m.node.and_then(|n| {
        def.cpu
            .as_ref()
            .and_then(|c| c.numa.iter().find(|x| x.id == n))
    });
    let access = m.access.or(cell.and_then(|c| c.mem_access)).or(mb.access);
    let discard = m
        .discard
        .or(cell.and_then(|c| c.discard))
        .or(mb.discard.then_some(true));
    let page_kib = m
        .pagesize_kib
        .or_else(|| hugepage_size(def, m.node))
        .filter(|p| *p != SYSTEM_PAGE_KIB);
    let immediate = mb.allocation.and_then(|a| a.mode) == Some(MemoryAllocationMode::Immediate);
    // A file that is real persistent memory, or virtio-pmem's, is not
    // preallocated: that would only wear the device.
    let prealloc = immediate
        || match &m.path {
            Some(_) => !m.pmem && m.model != MemoryModel::VirtioPmem,
            None => page_kib.is_some(),
        };
    Backing {
        access,
        discard,
        page_kib,
        prealloc,
    }
}

/// The huge page size whose hugetlbfs mount memory device `m`'s backend
/// maps, if it maps one: not for a device backed by its own file, nor
/// with memfd (which takes huge pages from the kernel directly).
pub fn hugetlbfs_page_kib(def: &DomainDef, m: &MemoryDevice) -> Option<u64> {
    let memfd = def
        .memory_backing
        .as_ref()
        .is_some_and(|mb| mb.source == Some(MemorySourceType::Memfd));
    if m.path.is_some() || memfd {
        return None;
    }
    backing(def, m).page_kib
}

/// The backend object `id` of memory device `m`.
fn backend(cx: &Ctx<'_>, m: &MemoryDevice, id: &str) -> Result<(Opts, bool), Error> {
    let def = cx.def;
    let b = backing(def, m);
    let source = def
        .memory_backing
        .as_ref()
        .and_then(|mb| mb.source)
        .unwrap_or(MemorySourceType::Anonymous);
    let share = |o: Opts| o.maybe_switch("share", b.access.map(|a| a == MemoryAccess::Shared));
    // Anonymous memory whose access is set needs a descriptor another
    // process can map: a memfd, as for the guest's RAM and its cells
    // (tuning.rs), not a file in the runtime directory, whose file
    // system could fill up under the guest. Its content goes with the
    // last mapping, so `discard` holds without `discard-data`.
    let memfd = m.path.is_none()
        && (source == MemorySourceType::Memfd
            || (source == MemorySourceType::Anonymous
                && b.page_kib.is_none()
                && b.access.is_some()));
    let mut o = if memfd {
        let mut o = Opts::new("memory-backend-memfd").set("id", id);
        if let Some(p) = b.page_kib {
            o = o.switch("hugetlb", true).set("hugetlbsize", p * 1024);
        }
        share(o)
    } else if b.page_kib.is_some() || m.path.is_some() || source == MemorySourceType::File {
        let o = Opts::new("memory-backend-file").set("id", id);
        let o = match (&m.path, b.page_kib) {
            (Some(p), _) => o.set("mem-path", user("memory device path", p)?),
            (None, Some(p)) => o.set("mem-path", hugepage_dir(p)),
            // A directory: QEMU makes an unlinked file in it.
            (None, None) => o.set(
                "mem-path",
                super::runtime_path("runtime directory", &cx.paths.runtime_dir)?,
            ),
        };
        let o = match m.path {
            None => o.maybe_switch("discard-data", b.discard),
            Some(_) => o,
        };
        share(o)
    } else {
        Opts::new("memory-backend-ram").set("id", id)
    };
    // virtio-mem preallocates through the device, as it plugs blocks,
    // and reserves no swap for the whole size up front.
    let mut device_prealloc = false;
    if m.model == MemoryModel::VirtioMem {
        o = o.switch("reserve", false);
        device_prealloc = b.prealloc;
    } else if b.prealloc {
        o = o.switch("prealloc", true);
        let threads = def
            .memory_backing
            .as_ref()
            .and_then(|mb| mb.allocation)
            .and_then(|a| a.threads);
        o = o.maybe("prealloc-threads", threads);
    }
    o = o.set("size", module_kib(m) * 1024);
    o = o.maybe("align", m.align_kib.map(|a| a * 1024));
    if m.pmem {
        o = o.switch("pmem", true);
    }
    let nodes = match &m.nodemask {
        Some(mask) => Some(
            parse_cpuset(mask)
                .filter(|n| !n.is_empty())
                .ok_or_else(|| invalid(format!("memory device nodemask '{mask}'")))?,
        ),
        None => numatune_nodes(def, m.node)?,
    };
    let mode = numa_mode(def, m.node);
    if let Some(nodes) = nodes
        && mode != NumaMode::Restrictive
    {
        for r in ranges(&nodes) {
            o = o.set("host-nodes", r);
        }
        o = o.set("policy", policy(mode));
    }
    Ok((o, device_prealloc))
}

/// The host nodes `<numatune>` binds guest cell `node` to: its
/// `<memnode>`, else `<memory nodeset>`.
fn numatune_nodes(def: &DomainDef, node: Option<u32>) -> Result<Option<Vec<u32>>, Error> {
    let Some(tune) = &def.numatune else {
        return Ok(None);
    };
    let set = node
        .and_then(|n| tune.memnodes.iter().find(|m| m.cellid == n))
        .map(|m| m.nodeset.as_str())
        .or_else(|| {
            tune.memory
                .as_ref()
                .filter(|m| m.placement != Some(crate::model::Placement::Auto))
                .and_then(|m| m.nodeset.as_deref())
        });
    set.map(|s| {
        parse_cpuset(s)
            .filter(|n| !n.is_empty())
            .ok_or_else(|| invalid(format!("<numatune> nodeset '{s}' is not valid")))
    })
    .transpose()
}

fn policy(mode: NumaMode) -> &'static str {
    match mode {
        NumaMode::Strict | NumaMode::Restrictive => "bind",
        NumaMode::Interleave => "interleave",
        NumaMode::Preferred => "preferred",
    }
}

/// A backend and a device for each memory device.
pub fn emit(cx: &mut Ctx<'_>) -> Result<(), Error> {
    let def = cx.def;
    let cells = def.cpu.as_ref().map(|c| c.numa.len()).unwrap_or(0);
    if !def.devices.memories.is_empty() && cells == 0 {
        return Err(unsupported(
            "At least one numa node has to be configured when enabling memory hotplug",
        ));
    }
    let slots = def.max_memory.map(|m| m.slots).unwrap_or(0);
    let ids = device_ids(def);
    for (i, (m, (id, slot))) in def.devices.memories.iter().zip(ids).enumerate() {
        if let Some(n) = m.node
            && n as usize >= cells
        {
            return Err(invalid(format!(
                "memory device {i} targets NUMA node {n}, which the domain does not have"
            )));
        }
        if let Some(s) = slot
            && s >= slots
        {
            return Err(invalid(format!(
                "memory device slot '{s}' exceeds slots count '{slots}'"
            )));
        }
        let memdev = format!("mem{id}");
        let (o, prealloc) = backend(cx, m, &memdev)?;
        cx.arg("-object", o.build());
        let driver = match m.model {
            MemoryModel::Dimm => "pc-dimm",
            MemoryModel::Nvdimm => "nvdimm",
            MemoryModel::VirtioPmem => "virtio-pmem-pci",
            MemoryModel::VirtioMem => "virtio-mem-pci",
        };
        let mut d = Opts::new(driver)
            .maybe("node", m.node)
            .maybe("label-size", m.label_kib.map(|k| k * 1024));
        if m.model == MemoryModel::VirtioMem {
            d = d
                .maybe("block-size", m.block_kib.map(|k| k * 1024))
                // As libvirt: nothing requested is QEMU's default, 0.
                .maybe(
                    "requested-size",
                    (m.requested_kib > 0).then_some(m.requested_kib * 1024),
                );
        }
        if m.readonly {
            d = d.switch("unarmed", true);
        }
        d = d.set("memdev", &memdev);
        if prealloc {
            d = d.switch("prealloc", true);
        }
        d = d.set("id", &id);
        match slot {
            Some(s) => d = d.set("slot", s).maybe("addr", m.base),
            None => {
                let what = format!("memory device {id}");
                let placed = cx.pci.place(&what, m.address.as_ref(), Dev::Memory(i))?;
                d = d.extend(placed.opts);
            }
        }
        cx.arg("-device", d.build());
    }
    Ok(())
}
