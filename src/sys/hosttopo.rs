//! The host's CPUs, NUMA nodes and memory pages as the kernel shows them
//! under `/sys` and `/proc`, read as libvirt reads them for the `<host>`
//! of its capabilities (virCapabilitiesInitNUMA, virHostCPUGetInfo,
//! virNumaGetPageInfo) and for `nodeinfo`. Every path is under a root,
//! `/` for the host, so that a test can lay out a host of its own.

use std::path::{Path, PathBuf};

use crate::model::parse_cpuset;

/// One online host CPU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostCpu {
    /// Its number.
    pub id: u32,
    /// `physical_package_id`.
    pub socket: u32,
    /// `die_id` (0 on kernels without dies).
    pub die: u32,
    /// `core_id`.
    pub core: u32,
    /// `thread_siblings_list`, as the kernel writes it.
    pub siblings: String,
}

/// One NUMA node (a cell, in libvirt's words).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    /// The node's number.
    pub id: u32,
    /// Its memory (`MemTotal`).
    pub memory_kib: u64,
    /// For each page size (KiB), how many pages the node has: huge pages
    /// from its pools, system pages for the rest of its memory.
    pub pages: Vec<(u64, u64)>,
    /// Its distance to each node, by node number; empty when the kernel
    /// has no NUMA.
    pub distances: Vec<(u32, u32)>,
    /// Its online CPUs.
    pub cpus: Vec<HostCpu>,
}

/// The host's topology.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topology {
    /// The NUMA nodes; one holding everything on a kernel without NUMA.
    pub cells: Vec<Cell>,
    /// The page sizes (KiB), the system's first.
    pub page_sizes: Vec<u64>,
    /// Sockets per node, dies per socket, cores per die, threads per
    /// core, as `nodeinfo` counts them (all CPUs as cores of one socket
    /// when the counts do not multiply up to the online CPUs).
    pub sockets: u32,
    /// Dies per socket.
    pub dies: u32,
    /// Cores per die.
    pub cores: u32,
    /// Threads per core.
    pub threads: u32,
}

impl Topology {
    /// The host's topology.
    pub fn host() -> Topology {
        Topology::read(Path::new("/"))
    }

    /// The topology of the host laid out under `root`.
    pub fn read(root: &Path) -> Topology {
        let sys = root.join("sys/devices/system");
        let online = read_list(&sys.join("cpu/online")).unwrap_or_else(|| vec![0]);
        let cpus: Vec<HostCpu> = online.iter().map(|&id| cpu(&sys, id)).collect();
        let system_page = page_kib();
        let mut page_sizes = vec![system_page];
        page_sizes.extend(huge_sizes(&root.join("sys/kernel/mm/hugepages")));
        let nodes = node_numbers(&sys.join("node"));
        let cells = if nodes.is_empty() {
            // No NUMA: one cell with every CPU and all the memory.
            let memory_kib = meminfo_kib(&root.join("proc/meminfo"), "MemTotal").unwrap_or(0);
            vec![Cell {
                id: 0,
                memory_kib,
                pages: vec![(system_page, memory_kib / system_page)],
                distances: Vec::new(),
                cpus: cpus.clone(),
            }]
        } else {
            nodes
                .iter()
                .map(|&n| node(&sys.join(format!("node/node{n}")), n, &cpus, &page_sizes))
                .collect()
        };
        let (sockets, dies, cores, threads) = counts(&cpus, cells.len());
        Topology {
            cells,
            page_sizes,
            sockets,
            dies,
            cores,
            threads,
        }
    }
}

/// One CPU's place, from its `topology` directory.
fn cpu(sys: &Path, id: u32) -> HostCpu {
    let dir = sys.join(format!("cpu/cpu{id}/topology"));
    let num = |name: &str| read_trimmed(&dir.join(name)).and_then(|t| t.parse().ok());
    HostCpu {
        id,
        socket: num("physical_package_id").unwrap_or(0),
        die: num("die_id").unwrap_or(0),
        core: num("core_id").unwrap_or(id),
        siblings: read_trimmed(&dir.join("thread_siblings_list")).unwrap_or_else(|| id.to_string()),
    }
}

/// Node `n` (its directory `dir`): its memory, pages, distances and the
/// online CPUs among its own.
fn node(dir: &Path, n: u32, cpus: &[HostCpu], page_sizes: &[u64]) -> Cell {
    let memory_kib = meminfo_kib(&dir.join("meminfo"), "MemTotal").unwrap_or(0);
    let mine = read_list(&dir.join("cpulist")).unwrap_or_default();
    let mut pages = Vec::new();
    let mut huge_kib = 0;
    for &size in &page_sizes[1..] {
        let count: u64 =
            read_trimmed(&dir.join(format!("hugepages/hugepages-{size}kB/nr_hugepages")))
                .and_then(|t| t.parse().ok())
                .unwrap_or(0);
        huge_kib += count * size;
        pages.push((size, count));
    }
    // The system's pages are the memory the huge page pools do not hold.
    let system = page_sizes[0];
    pages.insert(0, (system, memory_kib.saturating_sub(huge_kib) / system));
    let distances = read_trimmed(&dir.join("distance"))
        .map(|t| {
            t.split_whitespace()
                .filter_map(|d| d.parse().ok())
                .enumerate()
                .map(|(i, d)| (i as u32, d))
                .collect()
        })
        .unwrap_or_default();
    Cell {
        id: n,
        memory_kib,
        pages,
        distances,
        cpus: cpus
            .iter()
            .filter(|c| mine.contains(&c.id))
            .cloned()
            .collect(),
    }
}

/// Sockets per node, dies per socket, cores per die and threads per
/// core, as libvirt's nodeinfo gives them; every CPU a core of one
/// socket when the counts do not multiply up to the CPUs.
fn counts(cpus: &[HostCpu], nodes: usize) -> (u32, u32, u32, u32) {
    let distinct = |f: &dyn Fn(&HostCpu) -> Option<u32>| {
        let mut v: Vec<_> = cpus.iter().filter_map(f).collect();
        v.sort_unstable();
        v.dedup();
        v.len() as u32
    };
    let Some(first) = cpus.first() else {
        return (1, 1, 1, 1);
    };
    let threads = parse_cpuset(&first.siblings).map_or(1, |s| s.len().max(1) as u32);
    let packages = distinct(&|c| Some(c.socket));
    let sockets = (packages / nodes.max(1) as u32).max(1);
    let dies = distinct(&|c| (c.socket == first.socket).then_some(c.die)).max(1);
    let cores =
        distinct(&|c| (c.socket == first.socket && c.die == first.die).then_some(c.core)).max(1);
    let n = cpus.len() as u32;
    if sockets * dies * cores * threads * nodes.max(1) as u32 == n {
        (sockets, dies, cores, threads)
    } else {
        (1, 1, n / nodes.max(1) as u32, 1)
    }
}

/// The numbers of the NUMA nodes under `dir`, in order.
pub(crate) fn node_numbers(dir: &Path) -> Vec<u32> {
    let mut v: Vec<u32> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.strip_prefix("node")?.parse().ok())
        .collect();
    v.sort_unstable();
    v
}

/// The huge page sizes (KiB) the kernel has pools for, in order.
fn huge_sizes(dir: &Path) -> Vec<u64> {
    let mut v: Vec<u64> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            e.file_name()
                .to_str()?
                .strip_prefix("hugepages-")?
                .strip_suffix("kB")?
                .parse()
                .ok()
        })
        .collect();
    v.sort_unstable();
    v
}

/// The system's page size in KiB.
pub fn page_kib() -> u64 {
    nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE)
        .ok()
        .flatten()
        .map_or(4, |b| b as u64 / 1024)
}

/// A `Key: N kB` line of a meminfo file (a node's lines start with
/// `Node N `), in KiB.
pub(crate) fn meminfo_kib(file: &Path, key: &str) -> Option<u64> {
    let text = std::fs::read_to_string(file).ok()?;
    text.lines().find_map(|l| {
        let (name, rest) = l.split_once(':')?;
        (name.split_whitespace().last()? == key)
            .then(|| rest.split_whitespace().next()?.parse().ok())
            .flatten()
    })
}

/// A file's text without its surrounding white space.
fn read_trimmed(path: &Path) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|t| t.trim().to_string())
}

/// A CPU list file (`0-3,8`).
fn read_list(path: &Path) -> Option<Vec<u32>> {
    parse_cpuset(&read_trimmed(path)?)
}

/// The host's UUID as libvirt takes it: the firmware's (SMBIOS, through
/// `/sys/class/dmi/id/product_uuid`), else the system's machine id.
pub fn host_uuid(root: &Path) -> Option<uuid::Uuid> {
    let smbios: PathBuf = root.join("sys/class/dmi/id/product_uuid");
    read_trimmed(&smbios)
        .and_then(|t| uuid::Uuid::parse_str(&t).ok())
        .filter(|u| !u.is_nil())
        .or_else(|| {
            read_trimmed(&root.join("etc/machine-id")).and_then(|t| uuid::Uuid::parse_str(&t).ok())
        })
}

/// The host CPU's vendor as libvirt names it (`Intel`, `AMD`, or the
/// kernel's `vendor_id`), and its microcode version, from
/// `/proc/cpuinfo`.
pub fn cpu_vendor(root: &Path) -> (Option<String>, Option<u64>) {
    let text = std::fs::read_to_string(root.join("proc/cpuinfo")).unwrap_or_default();
    let field = |key: &str| {
        text.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            (k.trim() == key).then(|| v.trim().to_string())
        })
    };
    let vendor = field("vendor_id").map(|v| match v.as_str() {
        "GenuineIntel" => "Intel".to_string(),
        "AuthenticAMD" => "AMD".to_string(),
        _ => v,
    });
    let microcode = field("microcode").and_then(|m| match m.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => m.parse().ok(),
    });
    (vendor, microcode)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, path: &str, text: &str) {
        let p = root.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    /// Two nodes of one socket each, two cores of two threads per
    /// socket, a 2 MiB pool with 8 pages on node 1.
    fn two_nodes(root: &Path) {
        write(root, "sys/devices/system/cpu/online", "0-7\n");
        for id in 0..8u32 {
            let (socket, core) = (id / 4, (id % 4) / 2);
            let first = id - id % 2;
            let t = format!("sys/devices/system/cpu/cpu{id}/topology");
            write(
                root,
                &format!("{t}/physical_package_id"),
                &format!("{socket}\n"),
            );
            write(root, &format!("{t}/die_id"), "0\n");
            write(root, &format!("{t}/core_id"), &format!("{core}\n"));
            write(
                root,
                &format!("{t}/thread_siblings_list"),
                &format!("{first}-{}\n", first + 1),
            );
        }
        write(
            root,
            "sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages",
            "8\n",
        );
        for n in 0..2 {
            let d = format!("sys/devices/system/node/node{n}");
            write(
                root,
                &format!("{d}/cpulist"),
                &format!("{}-{}\n", n * 4, n * 4 + 3),
            );
            write(
                root,
                &format!("{d}/meminfo"),
                &format!("Node {n} MemTotal:  1048576 kB\nNode {n} MemFree: 5 kB\n"),
            );
            write(
                root,
                &format!("{d}/distance"),
                if n == 0 { "10 21\n" } else { "21 10\n" },
            );
            let pages = if n == 1 { "8\n" } else { "0\n" };
            write(
                root,
                &format!("{d}/hugepages/hugepages-2048kB/nr_hugepages"),
                pages,
            );
        }
    }

    #[test]
    fn nodes_cpus_and_pages_are_read_as_libvirt_counts_them() {
        let dir = std::env::temp_dir().join(format!("qvirt-hosttopo-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        two_nodes(&dir);
        let t = Topology::read(&dir);
        assert_eq!((t.sockets, t.dies, t.cores, t.threads), (1, 1, 2, 2));
        assert_eq!(t.cells.len(), 2);
        let c1 = &t.cells[1];
        assert_eq!(c1.memory_kib, 1 << 20);
        let system = page_kib();
        assert_eq!(
            c1.pages,
            [(system, ((1 << 20) - 8 * 2048) / system), (2048, 8)]
        );
        assert_eq!(c1.distances, [(0, 21), (1, 10)]);
        assert_eq!(
            c1.cpus.iter().map(|c| c.id).collect::<Vec<_>>(),
            [4, 5, 6, 7]
        );
        assert_eq!(c1.cpus[1].siblings, "4-5");
        assert_eq!((c1.cpus[2].socket, c1.cpus[2].core), (1, 1));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_kernel_without_numa_is_one_cell_of_everything() {
        let dir = std::env::temp_dir().join(format!("qvirt-hosttopo1-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        write(&dir, "sys/devices/system/cpu/online", "0-2\n");
        write(&dir, "proc/meminfo", "MemTotal:  409600 kB\n");
        write(&dir, "etc/machine-id", "3d1219c7c4c5404aaa1f6d2a48adfda4\n");
        write(
            &dir,
            "proc/cpuinfo",
            "vendor_id\t: GenuineIntel\nmicrocode\t: 0xf0\n",
        );
        let t = Topology::read(&dir);
        assert_eq!(t.cells.len(), 1);
        assert_eq!(t.cells[0].memory_kib, 409600);
        assert_eq!(t.cells[0].cpus.len(), 3);
        assert!(t.cells[0].distances.is_empty());
        // No topology files: three single-thread cores of one socket.
        assert_eq!((t.sockets, t.dies, t.cores, t.threads), (1, 1, 3, 1));
        assert_eq!(
            host_uuid(&dir).unwrap().to_string(),
            "3d1219c7-c4c5-404a-aa1f-6d2a48adfda4"
        );
        assert_eq!(cpu_vendor(&dir), (Some("Intel".into()), Some(240)));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
