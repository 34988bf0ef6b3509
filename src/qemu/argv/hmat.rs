//! The guest's ACPI Heterogeneous Memory Attribute Table from
//! `<cell><cache>` and `<numa><interconnects>`, as libvirt 9.0 builds
//! it: `-machine hmat=on`, an initiator for every `-numa node`, then
//! `-numa hmat-lb` for each interconnect and `-numa hmat-cache` for each
//! cache (QEMU takes caches only after the latencies and bandwidths).

use super::Ctx;
use super::unsupported;
use crate::error::Error;
use crate::model::{
    DomainDef, NumaCacheAssociativity, NumaCachePolicy, NumaCell, NumaInterconnect,
    NumaInterconnectKind,
};

/// Whether the domain has an HMAT (libvirt's virDomainNumaHasHMAT).
pub fn has_hmat(def: &DomainDef) -> bool {
    def.cpu
        .as_ref()
        .is_some_and(|c| !c.interconnects.is_empty() || c.numa.iter().any(|n| !n.caches.is_empty()))
}

/// The initiator QEMU is told for each cell when there is an HMAT
/// (libvirt's virDomainNumaGetNodeInitiator): a cell with CPUs is its
/// own; a memory-only cell takes the initiator of its lowest latency,
/// else of its highest bandwidth, else the first cell with CPUs.
pub fn initiators(cells: &[NumaCell], links: &[NumaInterconnect]) -> Result<Vec<u32>, Error> {
    let first = cells
        .iter()
        .find(|c| c.cpus.is_some())
        .ok_or_else(|| unsupported("At least one NUMA node has to have CPUs"))?
        .id;
    let best = |target: u32, kind: NumaInterconnectKind| {
        let to = links
            .iter()
            .filter(move |l| l.target == target && l.kind == kind);
        match kind {
            // The first of the lowest, as libvirt's strict comparison.
            NumaInterconnectKind::Latency => to
                .fold(None::<&NumaInterconnect>, |b, l| match b {
                    Some(b) if b.value <= l.value => Some(b),
                    _ => Some(l),
                })
                .map(|l| l.initiator),
            NumaInterconnectKind::Bandwidth => to
                .fold(None::<&NumaInterconnect>, |b, l| match b {
                    Some(b) if b.value >= l.value => Some(b),
                    _ => Some(l),
                })
                .filter(|l| l.value > 0)
                .map(|l| l.initiator),
        }
    };
    Ok(cells
        .iter()
        .map(|c| {
            if c.cpus.is_some() {
                return c.id;
            }
            best(c.id, NumaInterconnectKind::Latency)
                .or_else(|| best(c.id, NumaInterconnectKind::Bandwidth))
                .unwrap_or(first)
        })
        .collect())
}

/// `-numa hmat-lb` for each interconnect, then `-numa hmat-cache` for
/// each cache of each cell.
pub fn emit(cx: &mut Ctx<'_>, cells: &[NumaCell], links: &[NumaInterconnect]) {
    for l in links {
        let hierarchy = match l.cache {
            None => "memory",
            Some(1) => "first-level",
            Some(2) => "second-level",
            _ => "third-level",
        };
        let (what, figure) = match l.kind {
            NumaInterconnectKind::Latency => ("latency", format!("latency={}", l.value)),
            NumaInterconnectKind::Bandwidth => ("bandwidth", format!("bandwidth={}K", l.value)),
        };
        cx.arg(
            "-numa",
            format!(
                "hmat-lb,initiator={},target={},hierarchy={hierarchy},data-type={}-{what},{figure}",
                l.initiator,
                l.target,
                l.access.as_str()
            ),
        );
    }
    for c in cells {
        for k in &c.caches {
            let associativity = match k.associativity {
                NumaCacheAssociativity::None => "none",
                NumaCacheAssociativity::Direct => "direct",
                NumaCacheAssociativity::Full => "complex",
            };
            let policy = match k.policy {
                NumaCachePolicy::None => "none",
                NumaCachePolicy::Writeback => "write-back",
                NumaCachePolicy::Writethrough => "write-through",
            };
            let mut o = format!(
                "hmat-cache,node-id={},size={}K,level={},associativity={associativity},policy={policy}",
                c.id, k.size_kib, k.level
            );
            if k.line_bytes > 0 {
                o += &format!(",line={}", k.line_bytes);
            }
            cx.arg("-numa", o);
        }
    }
}
