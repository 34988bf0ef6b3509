//! What libvirt shows of a PCI device beyond its ids: its IOMMU group,
//! NUMA node, SR-IOV functions, header type and PCI Express link (from
//! its configuration space, which only root reads whole), and the
//! vendor and product names of the `pci.ids` file.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use super::read::{Pci, PciAddr, PcieLink};

/// Where `pci.ids` is looked for, as libpciaccess looks.
const PCI_IDS: &[&str] = &["usr/share/misc/pci.ids", "usr/share/hwdata/pci.ids"];

/// The PCI device in `dir`.
pub(super) fn pci(
    root: &Path,
    dir: &Path,
    addr: PciAddr,
    class: Option<u32>,
    vendor: u32,
    product: u32,
) -> Pci {
    let link_addr = |p: &Path| {
        std::fs::read_link(p)
            .ok()
            .and_then(|l| PciAddr::parse(l.file_name()?.to_str()?))
    };
    let iommu_group = std::fs::read_link(dir.join("iommu_group"))
        .ok()
        .and_then(|l| l.file_name()?.to_str()?.parse::<u32>().ok())
        .map(|n| {
            let devs = root.join(format!("sys/kernel/iommu_groups/{n}/devices"));
            let mut members: Vec<PciAddr> = std::fs::read_dir(devs)
                .map(|d| {
                    d.filter_map(|e| PciAddr::parse(e.ok()?.file_name().to_str()?))
                        .collect()
                })
                .unwrap_or_default();
            members.sort();
            (n, members)
        });
    let numa_node = std::fs::read_to_string(dir.join("numa_node"))
        .ok()
        .and_then(|n| n.trim().parse::<i32>().ok())
        .filter(|n| *n >= 0);
    let total_vfs = std::fs::read_to_string(dir.join("sriov_totalvfs"))
        .ok()
        .and_then(|n| n.trim().parse::<u32>().ok())
        .unwrap_or(0);
    let mut vfs: Vec<(u32, PciAddr)> = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| {
                let e = e.ok()?;
                let n = e
                    .file_name()
                    .to_str()?
                    .strip_prefix("virtfn")?
                    .parse()
                    .ok()?;
                Some((n, link_addr(&e.path())?))
            })
            .collect()
        })
        .unwrap_or_default();
    vfs.sort();
    // libvirt reads the configuration space only when privileged: the
    // kernel shows others its first 64 bytes alone.
    let config = if nix::unistd::geteuid().is_root() {
        std::fs::read(dir.join("config")).unwrap_or_default()
    } else {
        Vec::new()
    };
    Pci {
        class,
        addr,
        vendor,
        product,
        vendor_name: None,
        product_name: None,
        iommu_group,
        numa_node,
        header: match config.get(0x0e).map(|h| h & 0x7f) {
            Some(1) => Some("pci-bridge"),
            Some(2) => Some("cardbus-bridge"),
            _ => None,
        },
        phys_function: link_addr(&dir.join("physfn")),
        virt_functions: (total_vfs > 0 || !vfs.is_empty())
            .then(|| (total_vfs, vfs.into_iter().map(|(_, a)| a).collect())),
        pcie: pcie(&config),
    }
}

/// The PCI Express capability of a configuration space, if it has one:
/// with its link's capability and status, unless it is a root complex
/// integrated endpoint or event collector (which have no link).
fn pcie(config: &[u8]) -> Option<Option<(PcieLink, PcieLink)>> {
    let u16_at = |o: usize| Some(u16::from_le_bytes([*config.get(o)?, *config.get(o + 1)?]));
    let u32_at = |o: usize| {
        Some(u32::from_le_bytes([
            *config.get(o)?,
            *config.get(o + 1)?,
            *config.get(o + 2)?,
            *config.get(o + 3)?,
        ]))
    };
    // The status register's capability list bit.
    if u16_at(0x06)? & 0x10 == 0 {
        return None;
    }
    let mut at = usize::from(*config.get(0x34)? & 0xfc);
    let mut hops = 0;
    while at >= 0x40 && hops < 48 {
        if *config.get(at)? == 0x10 {
            let kind = (u16_at(at + 2)? >> 4) & 0xf;
            if kind == 0x9 || kind == 0xa {
                return Some(None);
            }
            let cap = u32_at(at + 0x0c)?;
            let sta = u32::from(u16_at(at + 0x12)?);
            let link = |v: u32, port| PcieLink {
                port,
                speed: v & 0xf,
                width: (v >> 4) & 0x3f,
            };
            return Some(Some((link(cap, Some(cap >> 24)), link(sta, None))));
        }
        at = usize::from(*config.get(at + 1)? & 0xfc);
        hops += 1;
    }
    None
}

/// Names from `pci.ids`.
#[derive(Debug, Default)]
pub(super) struct PciNames {
    /// Vendor names by id.
    pub vendors: HashMap<u32, String>,
    /// Product names by vendor and device id.
    pub products: HashMap<(u32, u32), String>,
}

/// The names of the vendors and products in `wanted`, from the host's
/// `pci.ids` (none without one): `vvvv  Vendor` lines, each followed by
/// its `\tdddd  Device` lines, until the device classes (`C xx`) begin.
pub(super) fn pci_names(root: &Path, wanted: &[(u32, u32)]) -> PciNames {
    let mut names = PciNames::default();
    if wanted.is_empty() {
        return names;
    }
    let Some(text) = PCI_IDS
        .iter()
        .find_map(|p| std::fs::read(root.join(p)).ok())
    else {
        return names;
    };
    let text = String::from_utf8_lossy(&text);
    let vendors: HashSet<u32> = wanted.iter().map(|w| w.0).collect();
    let pairs: HashSet<(u32, u32)> = wanted.iter().copied().collect();
    let id_name = |l: &str| {
        let (id, name) = l.split_once("  ")?;
        Some((
            u32::from_str_radix(id.trim(), 16).ok()?,
            name.trim().to_string(),
        ))
    };
    let mut vendor = None;
    for line in text.lines() {
        if line.starts_with("C ") {
            break;
        }
        if line.starts_with('#') || line.trim().is_empty() || line.starts_with("\t\t") {
            continue;
        }
        if let Some(dev) = line.strip_prefix('\t') {
            if let (Some(v), Some((d, name))) = (vendor, id_name(dev))
                && pairs.contains(&(v, d))
            {
                names.products.insert((v, d), name);
            }
            continue;
        }
        vendor = id_name(line).and_then(|(v, name)| {
            vendors.contains(&v).then(|| {
                names.vendors.insert(v, name);
                v
            })
        });
    }
    names
}
