//! Facts of the host as libvirt's QEMU driver reads them, read here from
//! the same kernel files:
//!
//! - `virConnectGetMaxVcpus`: libvirt's `qemuConnectGetMaxVcpus` rules
//!   (16 for `qemu` or no type, KVM's own limit for `kvm`, asked of
//!   `/dev/kvm` with `KVM_CHECK_EXTENSION`);
//! - `virNodeGetCellsFreeMemory`: each NUMA node's free memory
//!   (`/sys/devices/system/node/nodeN/meminfo`);
//! - `virNodeGetFreePages`: the free pages of each size on each node
//!   (the huge page pools under `nodeN/hugepages`, and for the system's
//!   page size the node's free memory in pages);
//! - `virNodeGetMemoryParameters`: the kernel's same-page merging
//!   (`/sys/kernel/mm/ksm`) under libvirt's `shm_*` names.

use std::os::fd::AsRawFd;
use std::path::Path;

use super::jobstats::{ParamValue, TypedParam, param};
use super::resources::ParamsRet;
use super::values::check_flags;
#[allow(unused_imports)]
use super::xdr::Xdr;
use super::xdr::xdr_struct;
use crate::driver::error::{Error, ErrorCode, Result};
use crate::sys::hosttopo::{meminfo_kib, node_numbers, page_kib};

xdr_struct! {
    /// `remote_connect_get_max_vcpus_args`.
    pub struct MaxVcpusArgs { pub kind: Option<String> }
    /// `remote_connect_get_max_vcpus_ret`.
    pub struct MaxVcpusRet { pub max_vcpus: i32 }
    /// `remote_node_get_cells_free_memory_args`.
    pub struct CellsFreeMemoryArgs { pub start_cell: i32, pub maxcells: i32 }
    /// `remote_node_get_cells_free_memory_ret`: bytes, one per node.
    pub struct CellsFreeMemoryRet { pub cells: Vec<u64> }
    /// `remote_node_get_free_pages_args`: page sizes in KiB.
    pub struct FreePagesArgs { pub pages: Vec<u32>, pub start_cell: i32, pub cell_count: u32, pub flags: u32 }
    /// `remote_node_get_free_pages_ret`: for each node, a count per size.
    pub struct FreePagesRet { pub counts: Vec<u64> }
    /// `remote_node_get_memory_parameters_args`.
    pub struct NodeMemoryParamsArgs { pub nparams: i32, pub flags: u32 }
}

/// `REMOTE_NODE_MAX_CELLS`: what one reply carries.
const NODE_MAX_CELLS: usize = 1024;
/// Where the kernel shows NUMA nodes.
const NODES: &str = "/sys/devices/system/node";
/// Where the kernel shows same-page merging.
const KSM: &str = "/sys/kernel/mm/ksm";
/// `KVM_CHECK_EXTENSION` (`_IO(KVMIO, 0x03)`).
const KVM_CHECK_EXTENSION: u64 = 0xAE03;
/// `KVM_CAP_NR_VCPUS` and `KVM_CAP_MAX_VCPUS`.
const KVM_CAP_NR_VCPUS: u64 = 9;
const KVM_CAP_MAX_VCPUS: u64 = 66;
/// `VIR_TYPED_PARAM_STRING_OKAY`.
const STRING_OKAY: u32 = 1 << 2;

/// `virConnectGetMaxVcpus`: libvirt's QEMU driver answers 16 for `qemu`
/// (or no type), and for `kvm` what KVM itself allows (its maximum, else
/// its recommended number, else the 4 KVM's documentation promises).
pub fn max_vcpus(a: MaxVcpusArgs) -> Result<MaxVcpusRet> {
    let max_vcpus = match a.kind.as_deref() {
        None => 16,
        Some(t) if t.eq_ignore_ascii_case("qemu") => 16,
        Some(t) if t.eq_ignore_ascii_case("kvm") => kvm_max_vcpus()?,
        Some(t) => {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                format!("unknown type '{t}'"),
            ));
        }
    };
    Ok(MaxVcpusRet { max_vcpus })
}

/// KVM's vCPU limit, as `virHostCPUGetKVMMaxVCPUs` asks it.
fn kvm_max_vcpus() -> Result<i32> {
    let kvm = std::fs::File::open("/dev/kvm")
        .map_err(|e| Error::new(ErrorCode::Io, format!("Unable to open /dev/kvm: {e}")))?;
    let check = |cap: u64| {
        // SAFETY: KVM_CHECK_EXTENSION takes its argument by value and
        // writes nothing; the descriptor is open for the call.
        #[allow(unsafe_code)]
        unsafe {
            nix::libc::ioctl(kvm.as_raw_fd(), KVM_CHECK_EXTENSION as _, cap)
        }
    };
    Ok([KVM_CAP_MAX_VCPUS, KVM_CAP_NR_VCPUS]
        .into_iter()
        .map(check)
        .find(|n| *n > 0)
        .unwrap_or(4))
}

/// The highest NUMA node number the kernel shows (libnuma's
/// `numa_max_node`); 0 on a kernel without NUMA.
fn max_node(root: &Path) -> i32 {
    node_numbers(root)
        .last()
        .map_or(0, |n| i32::try_from(*n).unwrap_or(i32::MAX))
}

/// Node `n`'s free memory in bytes; `None` when the node does not exist
/// (libvirt then counts 0).
fn node_free(root: &Path, n: i32) -> Option<u64> {
    meminfo_kib(&root.join(format!("node{n}/meminfo")), "MemFree").map(|k| k * 1024)
}

/// `virNodeGetCellsFreeMemory`: the free memory of nodes `start_cell`
/// on, at most `maxcells` of them.
pub fn cells_free_memory(a: CellsFreeMemoryArgs) -> Result<CellsFreeMemoryRet> {
    cells_free_memory_in(Path::new(NODES), a)
}

fn cells_free_memory_in(root: &Path, a: CellsFreeMemoryArgs) -> Result<CellsFreeMemoryRet> {
    if a.maxcells < 0 || a.maxcells as usize > NODE_MAX_CELLS {
        return Err(Error::new(
            ErrorCode::Internal,
            "maxCells > REMOTE_NODE_MAX_CELLS",
        ));
    }
    let max = max_node(root);
    if a.start_cell > max || a.start_cell < 0 {
        return Err(Error::new(
            ErrorCode::Internal,
            format!("start cell {} out of range (0-{max})", a.start_cell),
        ));
    }
    let last = (a.start_cell + a.maxcells - 1).min(max);
    Ok(CellsFreeMemoryRet {
        cells: (a.start_cell..=last)
            .map(|n| node_free(root, n).unwrap_or(0))
            .collect(),
    })
}

/// The free pages of `size_kib` on node `cell`, as `virNumaGetPageInfo`
/// counts them: the node's free memory in pages of the system's size, a
/// huge page pool's free pages otherwise.
fn free_pages(root: &Path, cell: i32, size_kib: u32) -> Result<u64> {
    let node = root.join(format!("node{cell}"));
    if !node.exists() {
        return Err(Error::new(
            ErrorCode::OperationFailed,
            format!("NUMA node {cell} is not available"),
        ));
    }
    let system = page_kib();
    if u64::from(size_kib) == system {
        return node_free(root, cell)
            .map(|b| b / (system * 1024))
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::Internal,
                    format!("no MemFree in {}/meminfo", node.display()),
                )
            });
    }
    let file = node.join(format!("hugepages/hugepages-{size_kib}kB/free_hugepages"));
    let Ok(text) = std::fs::read_to_string(&file) else {
        return Err(Error::new(
            ErrorCode::OperationFailed,
            format!("page size {size_kib} is not available on node {cell}"),
        ));
    };
    text.trim().parse().map_err(|_| {
        Error::new(
            ErrorCode::Internal,
            format!("unable to parse: {}", text.trim()),
        )
    })
}

/// `virNodeGetFreePages`: for each node from `start_cell` (at most
/// `cell_count`, up to the last node), the free pages of each size.
pub fn node_free_pages(a: FreePagesArgs) -> Result<FreePagesRet> {
    node_free_pages_in(Path::new(NODES), a)
}

fn node_free_pages_in(root: &Path, a: FreePagesArgs) -> Result<FreePagesRet> {
    check_flags(a.flags, 0, "virNodeGetFreePages")?;
    if (a.pages.len() as u64) * u64::from(a.cell_count) > NODE_MAX_CELLS as u64 {
        return Err(Error::new(
            ErrorCode::Internal,
            "the result won't fit into REMOTE_NODE_MAX_CELLS",
        ));
    }
    let last = max_node(root);
    if a.start_cell > last || a.start_cell < 0 {
        return Err(Error::new(
            ErrorCode::Internal,
            format!("start cell {} out of range (0-{last})", a.start_cell),
        ));
    }
    let count = i32::try_from(a.cell_count).unwrap_or(i32::MAX);
    let last = last.min(a.start_cell.saturating_add(count) - 1);
    let mut counts = Vec::new();
    for cell in a.start_cell..=last {
        for size in &a.pages {
            counts.push(free_pages(root, cell, *size)?);
        }
    }
    if counts.is_empty() {
        return Err(Error::new(ErrorCode::Internal, "no suitable info found"));
    }
    Ok(FreePagesRet { counts })
}

/// `virNodeGetMemoryParameters`: the same-page merging settings and
/// counters, libvirt's names and types in libvirt's order; those the
/// kernel does not show are left out. With no room (`nparams` 0), their
/// number.
pub fn memory_parameters(a: NodeMemoryParamsArgs) -> Result<ParamsRet> {
    memory_parameters_in(Path::new(KSM), a)
}

fn memory_parameters_in(dir: &Path, a: NodeMemoryParamsArgs) -> Result<ParamsRet> {
    check_flags(a.flags, STRING_OKAY, "virNodeGetMemoryParameters")?;
    // (file, libvirt's name, whether an unsigned int, else unsigned long
    // long).
    const FIELDS: [(&str, &str, bool); 8] = [
        ("pages_to_scan", "shm_pages_to_scan", true),
        ("sleep_millisecs", "shm_sleep_millisecs", true),
        ("pages_shared", "shm_pages_shared", false),
        ("pages_sharing", "shm_pages_sharing", false),
        ("pages_unshared", "shm_pages_unshared", false),
        ("pages_volatile", "shm_pages_volatile", false),
        ("full_scans", "shm_full_scans", false),
        ("merge_across_nodes", "shm_merge_across_nodes", true),
    ];
    if a.nparams < 0 {
        return Err(Error::new(
            ErrorCode::InvalidArgument,
            format!("nparams {} is negative", a.nparams),
        ));
    }
    if a.nparams == 0 {
        return Ok(ParamsRet {
            params: Vec::new(),
            nparams: FIELDS.len() as i32,
        });
    }
    let mut params: Vec<TypedParam> = Vec::new();
    for (file, name, uint) in FIELDS.iter().take(a.nparams as usize) {
        let path = dir.join(file);
        let Ok(text) = std::fs::read_to_string(&path) else {
            if path.exists() {
                return Err(Error::new(
                    ErrorCode::Io,
                    format!("cannot read {}", path.display()),
                ));
            }
            continue;
        };
        let bad = || {
            Error::new(
                ErrorCode::OperationFailed,
                format!("failed to parse {}", path.display()),
            )
        };
        let value = if *uint {
            ParamValue::UInt(text.trim().parse().map_err(|_| bad())?)
        } else {
            ParamValue::ULLong(text.trim().parse().map_err(|_| bad())?)
        };
        params.push(param(name, value));
    }
    Ok(ParamsRet { params, nparams: 0 })
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn fake_nodes(tag: &str) -> PathBuf {
        let root =
            std::env::temp_dir().join(format!("qvirt-hostfacts-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        for (n, free) in [(0, 1000), (2, 3000)] {
            let node = root.join(format!("node{n}"));
            std::fs::create_dir_all(node.join("hugepages/hugepages-2048kB")).unwrap();
            std::fs::write(
                node.join("meminfo"),
                format!("Node {n} MemTotal:  9999 kB\nNode {n} MemFree:  {free} kB\n"),
            )
            .unwrap();
            std::fs::write(
                node.join("hugepages/hugepages-2048kB/free_hugepages"),
                format!("{}\n", n + 5),
            )
            .unwrap();
        }
        root
    }

    #[test]
    fn cells_count_each_nodes_free_memory_and_zero_for_a_hole() {
        let root = fake_nodes("cells");
        let got = cells_free_memory_in(
            &root,
            CellsFreeMemoryArgs {
                start_cell: 0,
                maxcells: 8,
            },
        )
        .unwrap();
        assert_eq!(got.cells, [1000 * 1024, 0, 3000 * 1024]);
        let e = cells_free_memory_in(
            &root,
            CellsFreeMemoryArgs {
                start_cell: 3,
                maxcells: 1,
            },
        )
        .unwrap_err();
        assert_eq!(e.message, "start cell 3 out of range (0-2)");
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn free_pages_read_each_nodes_pools_and_name_a_missing_size() {
        let root = fake_nodes("pages");
        let got = node_free_pages_in(
            &root,
            FreePagesArgs {
                pages: vec![2048],
                start_cell: 2,
                cell_count: 4,
                flags: 0,
            },
        )
        .unwrap();
        assert_eq!(got.counts, [7]);
        let e = node_free_pages_in(
            &root,
            FreePagesArgs {
                pages: vec![1048576],
                start_cell: 0,
                cell_count: 1,
                flags: 0,
            },
        )
        .unwrap_err();
        assert_eq!(e.message, "page size 1048576 is not available on node 0");
        let e = node_free_pages_in(
            &root,
            FreePagesArgs {
                pages: vec![2048],
                start_cell: 1,
                cell_count: 1,
                flags: 0,
            },
        )
        .unwrap_err();
        assert_eq!(e.message, "NUMA node 1 is not available");
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn merging_parameters_have_libvirts_names_and_types() {
        let dir = fake_nodes("ksm");
        std::fs::write(dir.join("pages_to_scan"), "100\n").unwrap();
        std::fs::write(dir.join("full_scans"), "12\n").unwrap();
        let all = memory_parameters_in(
            &dir,
            NodeMemoryParamsArgs {
                nparams: 0,
                flags: 0,
            },
        )
        .unwrap();
        assert_eq!((all.params.len(), all.nparams), (0, 8));
        let got = memory_parameters_in(
            &dir,
            NodeMemoryParamsArgs {
                nparams: 8,
                flags: 0,
            },
        )
        .unwrap();
        assert_eq!(
            got.params,
            [
                param("shm_pages_to_scan", ParamValue::UInt(100)),
                param("shm_full_scans", ParamValue::ULLong(12)),
            ]
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn max_vcpus_follows_qemus_rules() {
        assert_eq!(
            max_vcpus(MaxVcpusArgs { kind: None }).unwrap().max_vcpus,
            16
        );
        let qemu = MaxVcpusArgs {
            kind: Some("QEMU".into()),
        };
        assert_eq!(max_vcpus(qemu).unwrap().max_vcpus, 16);
        let e = max_vcpus(MaxVcpusArgs {
            kind: Some("xen".into()),
        })
        .unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidArgument);
    }
}
