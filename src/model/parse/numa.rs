//! Reading `<cpu><numa>`: the guest's NUMA cells with their distances
//! and memory side caches, and the interconnects between them (libvirt's
//! `virDomainNumaDefParseXML`).

use super::el::{El, R, Radix, invalid, push, set};
use super::tuning::size_attr;
use crate::model::units::{parse_decimal, unit_bytes};
use crate::model::{ModelErrorKind, NumaCache, NumaCell, NumaInterconnect, NumaInterconnectKind};

/// `<distances>`: its `<sibling id= value=>`s (at least one).
fn numa_distances(e: El) -> R<Vec<(u32, u32)>> {
    e.allow(&[])?;
    let mut out = Vec::new();
    for s in e.children()? {
        if s.name() != "sibling" {
            s.skip()?;
            continue;
        }
        super::el::push(&mut out, s, |s| {
            s.allow(&["id", "value"])?;
            s.empty()?;
            s.req("id")?;
            s.req("value")?;
            let id = s.u32("id", Radix::Dec)?.unwrap_or(0);
            Ok((id, s.u32("value", Radix::Dec)?.unwrap_or(0)))
        })?;
    }
    if out.is_empty() {
        return Err(invalid(format!(
            "NUMA distances defined without siblings, at {}",
            e.at()
        )));
    }
    Ok(out)
}

/// `<cpu><numa>`: its cells (by id) and their interconnects (in
/// document order).
pub(super) fn numa(e: El) -> R<(Vec<NumaCell>, Vec<NumaInterconnect>)> {
    e.allow(&[])?;
    let mut cells = Vec::new();
    let mut interconnects = None;
    for c in e.children()? {
        if c.name() == "interconnects" {
            set(&mut interconnects, c, interconnects_of)?;
            continue;
        }
        if c.name() != "cell" {
            c.skip()?;
            continue;
        }
        let next = cells.len() as u32;
        super::el::push(&mut cells, c, |c| {
            c.allow(&["id", "cpus", "memory", "unit", "memAccess", "discard"])?;
            let (mut distances, mut caches) = (None, Vec::new());
            for d in c.children()? {
                match d.name() {
                    "distances" => set(&mut distances, d, numa_distances)?,
                    "cache" => push(&mut caches, d, cache)?,
                    _ => d.skip()?,
                }
            }
            c.req("memory")?;
            let id = c.u32("id", Radix::Dec)?;
            Ok(NumaCell {
                id: id.unwrap_or(next),
                cpus: c.get("cpus").map(str::to_string),
                memory_kib: size_attr(c, "memory", "unit")?.unwrap_or(0),
                mem_access: c.word("memAccess")?,
                discard: c.yes_no("discard")?,
                distances: distances.unwrap_or_default(),
                caches,
            })
        })?;
    }
    // libvirt keeps the cells by id, whatever order they are written in.
    cells.sort_by_key(|c: &NumaCell| c.id);
    // Unknown children are named by the reader's notes instead.
    if cells.is_empty() && (e.children()?.is_empty() || interconnects.is_some()) {
        return Err(invalid(format!(
            "<numa> at {} needs at least one <cell>",
            e.at()
        )));
    }
    Ok((cells, interconnects.unwrap_or_default()))
}

/// `<cell><cache level= associativity= policy=>` with its `<size>` and
/// `<line>`, all required as libvirt reads them.
fn cache(e: El) -> R<NumaCache> {
    e.allow(&["level", "associativity", "policy"])?;
    e.req("level")?;
    let level = e.u32("level", Radix::Dec)?.unwrap_or(0);
    if level == 0 {
        return Err(e.bad_value(ModelErrorKind::Invalid, "level", "cache levels start at 1"));
    }
    let associativity = e.req_word("associativity")?;
    let policy = e.req_word("policy")?;
    let (mut size, mut line) = (None, None);
    for c in e.children()? {
        match c.name() {
            "size" => set(&mut size, c, |c| {
                c.allow(&["value", "unit"])?;
                c.empty()?;
                c.req("value")?;
                Ok(size_attr(c, "value", "unit")?.unwrap_or(0))
            })?,
            "line" => set(&mut line, c, |c| {
                c.allow(&["value", "unit"])?;
                c.empty()?;
                line_bytes(&c)
            })?,
            _ => c.skip()?,
        }
    }
    let missing = |what: &str| invalid(format!("missing <{what}> in <cache> at {}", e.at()));
    Ok(NumaCache {
        level,
        associativity,
        policy,
        size_kib: size.ok_or_else(|| missing("size"))?,
        line_bytes: line.ok_or_else(|| missing("line"))?,
    })
}

/// `<line value= unit=>` in bytes (the unit defaults to bytes).
fn line_bytes(e: &El) -> R<u64> {
    let bad = || e.bad_value(ModelErrorKind::Invalid, "value", "expected a size in bytes");
    let value = parse_decimal(e.req("value")?).ok_or_else(bad)?;
    let scale = match e.get("unit") {
        None => 1,
        Some(u) => unit_bytes(u)
            .ok_or_else(|| e.bad_value(ModelErrorKind::Invalid, "unit", "unknown unit"))?,
    };
    value.checked_mul(scale).ok_or_else(bad)
}

/// `<interconnects>`: its `<latency>` and `<bandwidth>` elements.
fn interconnects_of(e: El) -> R<Vec<NumaInterconnect>> {
    e.allow(&[])?;
    let mut out = Vec::new();
    for c in e.children()? {
        let kind = match c.name() {
            "latency" => NumaInterconnectKind::Latency,
            "bandwidth" => NumaInterconnectKind::Bandwidth,
            _ => {
                c.skip()?;
                continue;
            }
        };
        push(&mut out, c, |c| interconnect(c, kind))?;
    }
    Ok(out)
}

/// One `<latency>` (`value` in nanoseconds) or `<bandwidth>` (`value`
/// and `unit`, a size per second, in KiB/s).
fn interconnect(e: El, kind: NumaInterconnectKind) -> R<NumaInterconnect> {
    let attrs: &[&str] = match kind {
        NumaInterconnectKind::Latency => &["initiator", "target", "cache", "type", "value"],
        NumaInterconnectKind::Bandwidth => {
            &["initiator", "target", "cache", "type", "value", "unit"]
        }
    };
    e.allow(attrs)?;
    e.empty()?;
    let id = |name: &str| -> R<u32> {
        e.req(name)?;
        Ok(e.u32(name, Radix::Dec)?.unwrap_or(0))
    };
    let (initiator, target) = (id("initiator")?, id("target")?);
    // libvirt's cache='0' is the memory itself, as no cache at all.
    let cache = e.u32("cache", Radix::Dec)?.filter(|c| *c != 0);
    let access = e.req_word("type")?;
    e.req("value")?;
    let value = match kind {
        NumaInterconnectKind::Latency => e.u64("value", Radix::Dec)?.unwrap_or(0),
        NumaInterconnectKind::Bandwidth => size_attr(e, "value", "unit")?.unwrap_or(0),
    };
    Ok(NumaInterconnect {
        kind,
        initiator,
        target,
        cache,
        access,
        value,
    })
}
