//! How the guest's memory is backed and laid out (`-m`, memory backend
//! objects, `-numa`, memory devices, `-overcommit`), its I/O threads, the
//! SMBIOS tables it sees, and the `qemu:` namespace's extra arguments,
//! as libvirt 9.0 builds them.
//!
//! A memory backend object is used for the guest's RAM (`-machine
//! memory-backend=pc.ram`) only when `<memoryBacking>` or `<numatune>`
//! asks for something plain RAM cannot give; with NUMA cells each cell
//! has its own (`ram-nodeN`), as QEMU 5.0+ requires.

use super::opts::{Opts, user};
use super::{Ctx, invalid, unsupported};
use crate::error::{Error, ErrorCode};
use crate::model::{
    DeprecationBehavior, DomainDef, MemoryAccess, MemoryAllocationMode, MemorySourceType, NumaMode,
    Placement, SmbiosBlock, SmbiosMode, ThreadPool, parse_cpuset,
};

/// Where hugetlbfs is mounted for a page size, as Debian mounts the
/// default one; a start checks the mount exists (see the driver).
pub fn hugepage_dir(size_kib: u64) -> String {
    if size_kib == 2048 {
        "/dev/hugepages".to_string()
    } else {
        format!("/dev/hugepages{}", human_size(size_kib))
    }
}

fn human_size(kib: u64) -> String {
    if kib.is_multiple_of(1024 * 1024) {
        format!("{}G", kib / (1024 * 1024))
    } else if kib.is_multiple_of(1024) {
        format!("{}M", kib / 1024)
    } else {
        format!("{kib}K")
    }
}

/// The huge page size the RAM of guest cell `node` (or, for `None`, of
/// the whole guest) is backed with: `<page nodeset>` naming it, else a
/// `<page>` without nodeset, else the host default (2 MiB on x86) for a
/// bare `<hugepages/>`. `None` without huge pages.
pub fn hugepage_size(def: &DomainDef, node: Option<u32>) -> Option<u64> {
    let pages = def.memory_backing.as_ref()?.hugepages.as_ref()?;
    if pages.is_empty() {
        return Some(2048);
    }
    if let Some(n) = node
        && let Some(p) = pages.iter().find(|p| {
            p.nodeset
                .as_deref()
                .and_then(parse_cpuset)
                .is_some_and(|s| s.contains(&n))
        })
    {
        return Some(p.size_kib);
    }
    pages
        .iter()
        .find(|p| p.nodeset.is_none())
        .map(|p| p.size_kib)
        .or_else(|| node.is_none().then(|| pages[0].size_kib))
}

/// Whether the guest's RAM needs a backend object of its own.
fn needs_backend(def: &DomainDef) -> bool {
    let nodes = def.numatune.as_ref().and_then(|n| n.memory.as_ref());
    def.memory_backing.as_ref().is_some_and(|m| {
        m.hugepages.is_some()
            || m.source.is_some_and(|s| s != MemorySourceType::Anonymous)
            || m.access.is_some()
            || m.allocation.is_some()
            || m.discard
    }) || nodes.is_some_and(|n| n.nodeset.is_some() && n.placement != Some(Placement::Auto))
}

/// The memory hot-plugged devices add, in KiB.
fn dimm_kib(def: &DomainDef) -> u64 {
    def.devices
        .memories
        .iter()
        .map(super::memdev::module_kib)
        .sum()
}

/// `-m`, with slots and a maximum when memory may be hot-plugged. The
/// initial memory is `<memory>` less what memory devices add; with NUMA
/// cells it is their sum, each in whole MiB, as libvirt computes it.
pub fn memory_size(def: &DomainDef) -> Result<String, Error> {
    let cells: u64 = def
        .cpu
        .as_ref()
        .map(|c| {
            c.numa
                .iter()
                .map(|n| n.memory_kib.div_ceil(1024) * 1024)
                .sum()
        })
        .unwrap_or(0);
    let initial = if cells > 0 {
        cells
    } else {
        def.memory_kib
            .checked_sub(dimm_kib(def))
            .filter(|k| *k > 0)
            .ok_or_else(|| invalid("the memory devices add up to more than <memory>"))?
    };
    // QEMU wants whole MiB: round up as libvirt does (219100 KiB -> 219136k).
    let kib = initial.div_ceil(1024) * 1024;
    match def.max_memory {
        Some(m) if m.slots > 0 => Ok(format!(
            "size={kib}k,slots={},maxmem={}k",
            m.slots,
            m.kib.div_ceil(1024) * 1024
        )),
        _ => {
            if !def.devices.memories.is_empty() {
                return Err(invalid(
                    "memory devices need <maxMemory slots=...> to be plugged into",
                ));
            }
            Ok(format!("size={kib}k"))
        }
    }
}

/// The numatune memory policy for guest cell `cell` (or the whole
/// guest): `host-nodes` and `policy`.
fn numa_policy(def: &DomainDef, cell: Option<u32>, o: Opts) -> Result<Opts, Error> {
    let Some(tune) = &def.numatune else {
        return Ok(o);
    };
    let node = cell.and_then(|c| tune.memnodes.iter().find(|m| m.cellid == c));
    let (mode, nodeset) = match (node, &tune.memory) {
        (Some(m), _) => (m.mode, Some(m.nodeset.as_str())),
        (None, Some(m)) if m.placement != Some(Placement::Auto) => (m.mode, m.nodeset.as_deref()),
        _ => (None, None),
    };
    let Some(nodeset) = nodeset else {
        return Ok(o);
    };
    let nodes = parse_cpuset(nodeset)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| invalid(format!("<numatune> nodeset '{nodeset}' is not valid")))?;
    let policy = match mode.unwrap_or(NumaMode::Strict) {
        NumaMode::Strict => "bind",
        NumaMode::Interleave => "interleave",
        NumaMode::Preferred => "preferred",
        // Applied through the domain's cgroup by libvirt, not QEMU.
        NumaMode::Restrictive => return Ok(o),
    };
    let mut o = o;
    for r in ranges(&nodes) {
        o = o.set("host-nodes", r);
    }
    Ok(o.set("policy", policy))
}

/// The numatune mode of guest cell `cell` (its `<memnode>`, else
/// `<memory>`), strict when none is written.
pub(super) fn numa_mode(def: &DomainDef, cell: Option<u32>) -> NumaMode {
    let Some(tune) = &def.numatune else {
        return NumaMode::Strict;
    };
    cell.and_then(|c| tune.memnodes.iter().find(|m| m.cellid == c))
        .and_then(|m| m.mode)
        .or_else(|| tune.memory.as_ref().and_then(|m| m.mode))
        .unwrap_or(NumaMode::Strict)
}

/// `0-3`, `5`: a sorted set as ranges, as QEMU lists take them.
pub(super) fn ranges(set: &[u32]) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < set.len() {
        let start = set[i];
        let mut end = start;
        while i + 1 < set.len() && set[i + 1] == end + 1 {
            i += 1;
            end = set[i];
        }
        out.push(if start == end {
            start.to_string()
        } else {
            format!("{start}-{end}")
        });
        i += 1;
    }
    out
}

/// A memory backend object `id` of `kib` for guest cell `cell` (or the
/// whole guest), as libvirt's qemuBuildMemoryBackendProps makes it.
fn backend(
    cx: &Ctx<'_>,
    id: &str,
    kib: u64,
    cell: Option<u32>,
    access: Option<MemoryAccess>,
) -> Result<String, Error> {
    let def = cx.def;
    let mb = def.memory_backing.clone().unwrap_or_default();
    let page = hugepage_size(def, cell);
    let source = mb.source.unwrap_or(MemorySourceType::Anonymous);
    let access = access.or(mb.access);
    // Memory whose access is set must have a descriptor, so that another
    // process (a vhost-user server, virtiofsd) can map the very pages;
    // anonymous RAM has none. libvirt makes it a file in its memory
    // directory; a memfd is the same shared memory without a file system
    // whose size could run out under the guest.
    let source = match (source, page, access) {
        (MemorySourceType::Anonymous, None, Some(_)) => MemorySourceType::Memfd,
        _ => source,
    };
    let file =
        source != MemorySourceType::Memfd && (page.is_some() || source == MemorySourceType::File);
    let mut o = match (source, page) {
        (MemorySourceType::Memfd, Some(p)) => Opts::new("memory-backend-memfd")
            .set("id", id)
            .switch("hugetlb", true)
            .set("hugetlbsize", p * 1024),
        (MemorySourceType::Memfd, None) => Opts::new("memory-backend-memfd").set("id", id),
        (_, Some(p)) => Opts::new("memory-backend-file")
            .set("id", id)
            .set("mem-path", hugepage_dir(p)),
        (MemorySourceType::File, None) => {
            // A directory: QEMU makes an unlinked file in it.
            let dir = super::runtime_path("runtime directory", &cx.paths.runtime_dir)?;
            Opts::new("memory-backend-file")
                .set("id", id)
                .set("mem-path", dir)
        }
        (MemorySourceType::Anonymous, None) => Opts::new("memory-backend-ram").set("id", id),
    };
    if let Some(a) = access {
        o = o.switch("share", a == MemoryAccess::Shared);
    }
    let alloc = mb.allocation;
    let prealloc = match alloc.and_then(|a| a.mode) {
        Some(MemoryAllocationMode::Immediate) => true,
        Some(MemoryAllocationMode::Ondemand) => false,
        None => page.is_some(),
    };
    if prealloc {
        o = o.switch("prealloc", true);
        if let Some(t) = alloc.and_then(|a| a.threads) {
            o = o.set("prealloc-threads", t);
        }
    }
    let discard = match cell {
        Some(c) => def
            .cpu
            .as_ref()
            .and_then(|cpu| cpu.numa.iter().find(|n| n.id == c))
            .and_then(|n| n.discard)
            .unwrap_or(mb.discard),
        None => mb.discard,
    };
    // Only a file backend has data to discard (and the property): RAM
    // and memfd memory goes with QEMU anyway, and libvirt sets it on
    // nothing else.
    if discard && file {
        o = o.switch("discard-data", true);
    }
    o = o.set("size", kib * 1024);
    Ok(numa_policy(def, cell, o)?.build())
}

/// `memory-backend=pc.ram` for `-machine`, when the RAM has a backend.
pub fn machine_memory_backend(def: &DomainDef) -> Option<&'static str> {
    let cells = def.cpu.as_ref().is_some_and(|c| !c.numa.is_empty());
    (!cells && needs_backend(def)).then_some("pc.ram")
}

/// `-m`, the RAM backend or the NUMA cells with theirs, the memory
/// devices' backends, and `-overcommit`.
pub fn emit_memory(cx: &mut Ctx<'_>) -> Result<(), Error> {
    let def = cx.def;
    if def.memory_kib == 0 {
        return Err(invalid("<memory> must be larger than 0"));
    }
    cx.arg("-m", memory_size(def)?);
    let cells = def.cpu.as_ref().map(|c| c.numa.clone()).unwrap_or_default();
    if machine_memory_backend(def).is_some() {
        let kib = def.memory_kib - dimm_kib(def);
        let o = backend(cx, "pc.ram", kib.div_ceil(1024) * 1024, None, None)?;
        cx.arg("-object", o);
    }
    if def.memory_backing.as_ref().is_some_and(|m| m.locked) {
        cx.arg("-overcommit", "mem-lock=on");
    }
    let links = def
        .cpu
        .as_ref()
        .map(|c| c.interconnects.clone())
        .unwrap_or_default();
    let hmat = super::hmat::has_hmat(def);
    let initiators = if hmat {
        super::hmat::initiators(&cells, &links)?
    } else {
        Vec::new()
    };
    for (i, cell) in cells.iter().enumerate() {
        if cell.id as usize != i {
            return Err(invalid(format!(
                "NUMA cells must be numbered in order from 0: cell {i} has id {}",
                cell.id
            )));
        }
        let id = format!("ram-node{}", cell.id);
        // Each cell in whole MiB, as libvirt aligns them (and -m is their sum).
        let kib = cell.memory_kib.div_ceil(1024) * 1024;
        if kib > i64::MAX as u64 / 1024 {
            return Err(unsupported(format!(
                "memory size of NUMA node '{}' overflowed after alignment: QEMU takes at most {} KiB",
                cell.id,
                i64::MAX as u64 / 1024
            )));
        }
        let o = backend(cx, &id, kib, Some(cell.id), cell.mem_access)?;
        cx.arg("-object", o);
        let mut n = Opts::new("node").set("nodeid", cell.id);
        if let Some(cpus) = &cell.cpus {
            let set = parse_cpuset(cpus)
                .ok_or_else(|| invalid(format!("NUMA cell {} cpus '{cpus}'", cell.id)))?;
            if set.iter().any(|c| *c >= def.vcpu.max) {
                return Err(invalid(format!(
                    "NUMA cell {} names a vCPU beyond the {} the domain has",
                    cell.id, def.vcpu.max
                )));
            }
            for r in ranges(&set) {
                n = n.set("cpus", r);
            }
        }
        if let Some(initiator) = initiators.get(i) {
            n = n.set("initiator", initiator);
        }
        cx.arg("-numa", n.set("memdev", id).build());
    }
    for (src, dst, val) in numa_distances(&cells) {
        cx.arg("-numa", format!("dist,src={src},dst={dst},val={val}"));
    }
    if hmat {
        super::hmat::emit(cx, &cells, &links);
    }
    Ok(())
}

/// The distances between NUMA cells QEMU is told, as libvirt fills them
/// in from `<distances>`: a cell that names any has 10 to itself, and a
/// distance written one way only holds both ways.
fn numa_distances(cells: &[crate::model::NumaCell]) -> Vec<(usize, usize, u32)> {
    let n = cells.len();
    let mut m: Vec<Option<Vec<u32>>> = vec![None; n];
    let row = |m: &mut Vec<Option<Vec<u32>>>, i: usize| {
        if m[i].is_none() {
            let mut r = vec![0; n];
            r[i] = 10;
            m[i] = Some(r);
        }
    };
    for (i, c) in cells.iter().enumerate() {
        for &(j, v) in &c.distances {
            let j = j as usize;
            if j >= n {
                continue;
            }
            row(&mut m, i);
            if let Some(r) = m[i].as_mut() {
                r[j] = v;
            }
            row(&mut m, j);
            if let Some(r) = m[j].as_mut()
                && r[i] == 0
            {
                r[i] = v;
            }
        }
    }
    let mut out = Vec::new();
    for (i, r) in m.iter().enumerate() {
        for (j, v) in r.iter().flatten().enumerate() {
            if *v != 0 {
                out.push((i, j, *v));
            }
        }
    }
    out
}

/// `-object iothread` for each of `<iothreads>`, and the main loop's
/// object for `<defaultiothread>`, with their worker pools' bounds.
pub fn emit_iothreads(cx: &mut Ctx<'_>) {
    let pools = &cx.def.thread_pools;
    let bounded = |o: Opts, pool: Option<&ThreadPool>| {
        let pool = pool.copied().unwrap_or_default();
        o.maybe("thread-pool-min", pool.min)
            .maybe("thread-pool-max", pool.max)
    };
    let mut objects = Vec::new();
    for i in cx.def.iothread_ids() {
        let o = Opts::new("iothread").set("id", format!("iothread{i}"));
        objects.push(bounded(o, pools.iothreads.get(&i)).build());
    }
    if let Some(pool) = &pools.default {
        let o = Opts::new("main-loop").set("id", "main-loop");
        objects.push(bounded(o, Some(pool)).build());
    }
    for o in objects {
        cx.arg("-object", o);
    }
}

/// `-device vmgenid` for `<genid>`.
pub fn emit_genid(cx: &mut Ctx<'_>) {
    if let Some(g) = cx.def.genid {
        cx.arg(
            "-device",
            format!("vmgenid,guid={},id=vmgenid0", g.hyphenated()),
        );
    }
}

/// `-fw_cfg` for each entry of `<sysinfo type='fwcfg'>`: its text, or
/// the file QEMU reads it from.
pub fn emit_fw_cfg(cx: &mut Ctx<'_>) -> Result<(), Error> {
    let def = cx.def;
    for f in &def.fw_cfg {
        let o = Opts::empty().set_user("name", "fw_cfg entry name", &f.name)?;
        let o = match (&f.value, &f.file) {
            (Some(v), _) => o.set_user("string", "fw_cfg entry", v)?,
            (None, Some(file)) => o.set_user("file", "fw_cfg entry file", file)?,
            (None, None) => return Err(invalid(format!("fw_cfg entry {} has no value", f.name))),
        };
        cx.arg("-fw_cfg", o.build());
    }
    Ok(())
}

/// `-smbios` for `<os><smbios mode='sysinfo'>` (the `<sysinfo>` tables)
/// and `mode='host'` (the host's, which the driver reads into
/// `<sysinfo>` before building, leaving its UUID out); nothing for
/// `emulate` or no mode, as libvirt.
pub fn emit_smbios(cx: &mut Ctx<'_>) -> Result<(), Error> {
    let def = cx.def;
    let host = match def.os.smbios {
        None | Some(SmbiosMode::Emulate) => return Ok(()),
        Some(SmbiosMode::Host) => true,
        Some(SmbiosMode::Sysinfo) => false,
    };
    let Some(info) = &def.sysinfo else {
        return Err(if host {
            Error::new(
                ErrorCode::InvalidArgument,
                "<smbios mode='host'> shows the host's tables: the driver must read them into <sysinfo> before building the command line",
            )
        } else {
            invalid(format!(
                "Domain '{}' sysinfo are not available: <smbios mode='sysinfo'> needs a <sysinfo type='smbios'>",
                def.name
            ))
        });
    };
    // QEMU keeps one set of type 2 fields: a second -smbios type=2
    // would silently replace the first.
    let boards = info
        .blocks
        .iter()
        .filter(|(b, _)| *b == SmbiosBlock::BaseBoard);
    if boards.count() > 1 {
        return Err(unsupported(
            "qemu does not support more than one entry to Type 2 in SMBIOS table: keep one <baseBoard> in <sysinfo>",
        ));
    }
    let keys: [(SmbiosBlock, u32, &[&str]); 4] = [
        (
            SmbiosBlock::Bios,
            0,
            &["vendor", "version", "date", "release"],
        ),
        (
            SmbiosBlock::System,
            1,
            &[
                "manufacturer",
                "product",
                "version",
                "serial",
                "uuid",
                "sku",
                "family",
            ],
        ),
        (
            SmbiosBlock::BaseBoard,
            2,
            &[
                "manufacturer",
                "product",
                "version",
                "serial",
                "asset",
                "location",
            ],
        ),
        (
            SmbiosBlock::Chassis,
            3,
            &["manufacturer", "version", "serial", "asset", "sku"],
        ),
    ];
    for (block, ty, names) in keys {
        let Some(entries) = info.block(block) else {
            continue;
        };
        let mut o = Opts::empty().set("type", ty);
        let mut any = false;
        for name in names {
            if host && block == SmbiosBlock::System && *name == "uuid" {
                continue;
            }
            if let Some((_, v)) = entries.iter().find(|(n, _)| n == name) {
                o = o.set(name, user(&format!("SMBIOS {} {name}", block.as_str()), v)?);
                any = true;
            }
        }
        // libvirt writes a type 2 block even with no entries.
        if any || block == SmbiosBlock::BaseBoard {
            cx.arg("-smbios", o.build());
        }
    }
    if !info.oem_strings.is_empty() {
        let mut o = Opts::empty().set("type", 11);
        for v in &info.oem_strings {
            o = o.set("value", user("SMBIOS OEM string", v)?);
        }
        cx.arg("-smbios", o.build());
    }
    Ok(())
}

/// `<qemu:override>`: each device's `-device` gets the properties set
/// (replacing one of the same name) or removed, as libvirt changes the
/// device's JSON. A device alias the command line does not have is
/// refused by name rather than ignored.
pub fn apply_overrides(cx: &mut Ctx<'_>) -> Result<(), Error> {
    for o in &cx.def.qemu.overrides {
        let at = cx
            .argv
            .windows(2)
            .position(|w| {
                w[0] == "-device"
                    && super::hotplug::parse_keyval(&w[1])
                        .iter()
                        .any(|(k, v)| k == "id" && *v == o.alias)
            })
            .map(|i| i + 1)
            .ok_or_else(|| {
                unsupported(format!(
                    "<qemu:device alias='{}'> of <qemu:override> names no device of this domain",
                    o.alias
                ))
            })?;
        let mut kv = super::hotplug::parse_keyval(&cx.argv[at]);
        for p in &o.props {
            if p.name.is_empty() || p.name.contains([',', '=']) {
                return Err(invalid(format!(
                    "<qemu:property name='{}'> is not a property name",
                    p.name
                )));
            }
            kv.retain(|(k, _)| *k != p.name);
            if let Some(v) = &p.value {
                let v = match (p.kind.as_str(), v.as_str()) {
                    ("bool", "true") => "on".to_string(),
                    ("bool", _) => "off".to_string(),
                    _ => v.clone(),
                };
                kv.push((p.name.clone(), v));
            }
        }
        let mut opts = Opts::empty();
        for (k, v) in &kv {
            opts = if k.is_empty() {
                Opts::new(v).extend(opts)
            } else {
                opts.set(k, v)
            };
        }
        cx.argv[at] = opts.build();
    }
    Ok(())
}

/// `<qemu:deprecation>` as libvirt's `-compat`: every behavior but
/// `none` hides deprecated output; `reject` and `crash` also set what
/// QEMU does with deprecated input (QEMU 6.0+, below qvirt's oldest).
pub fn emit_compat(cx: &mut Ctx<'_>) {
    let input = match cx.def.qemu.deprecation {
        None | Some(DeprecationBehavior::None) => return,
        Some(DeprecationBehavior::Omit) => None,
        Some(DeprecationBehavior::Reject) => Some("reject"),
        Some(DeprecationBehavior::Crash) => Some("crash"),
    };
    let mut o = Opts::empty().set("deprecated-output", "hide");
    if let Some(i) = input {
        o = o.set("deprecated-input", i);
    }
    cx.arg("-compat", o.build());
}

/// The `qemu:commandline` arguments, exactly as written, at the end.
pub fn emit_qemu_args(cx: &mut Ctx<'_>) -> Result<(), Error> {
    for a in &cx.def.qemu.args {
        if a.contains('\0') {
            return Err(invalid("a <qemu:arg> contains a NUL character"));
        }
        cx.argv.push(a.clone());
    }
    Ok(())
}

/// The command line with the `qemu:commandline` environment in front
/// (`env NAME=VALUE ... EMULATOR ...`), so the variables reach QEMU and
/// the log's command line shows them, as libvirt's does.
pub fn with_env(def: &DomainDef, argv: Vec<String>) -> Result<Vec<String>, Error> {
    if def.qemu.env.is_empty() {
        return Ok(argv);
    }
    let mut out = vec!["env".to_string()];
    for (name, value) in &def.qemu.env {
        let value = value.as_deref().unwrap_or_default();
        if value.contains('\0') {
            return Err(invalid(format!(
                "the value of <qemu:env name='{name}'> contains a NUL character"
            )));
        }
        out.push(format!("{name}={value}"));
    }
    if argv[0].contains('=') {
        return Err(invalid(
            "the emulator path contains '=', which cannot follow an environment",
        ));
    }
    out.extend(argv);
    Ok(out)
}
