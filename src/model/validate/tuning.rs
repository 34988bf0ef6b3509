//! Checks of resource tuning, SMBIOS, the `qemu:` namespace and the
//! devices that reach into the host, as libvirt's domain_conf and
//! domain_validate make them.

use super::{R, check_chars, check_path, invalid, show, unsupported};
use crate::model::units::parse_cpuset;
use crate::model::{
    Address, DiskType, DomainDef, FsAccessMode, FsBinary, FsDriver, HostdevSource, NumaCell,
    NumaInterconnect, NumaMode, Placement, SmbiosBlock, SmbiosMode,
};

fn cpuset(what: &str, set: &str) -> Result<Vec<u32>, crate::model::ModelError> {
    match parse_cpuset(set) {
        Some(c) if !c.is_empty() => Ok(c),
        _ => Err(invalid(format!(
            "Invalid value of '{what}': '{}' names no CPU or node",
            show(set)
        ))),
    }
}

pub(super) fn validate(def: &DomainDef) -> R {
    memory(def)?;
    if let Some(b) = &def.blkiotune {
        for d in &b.devices {
            check_path("blkiotune device path", &d.path)?;
        }
    }
    cputune(def)?;
    thread_pools(def)?;
    numa(def)?;
    sysinfo(def)?;
    qemu(def)?;
    devices(def)
}

/// libvirt's virDomainDefValidateIOThreadsThreadPool: a maximum of at
/// least 1, and a minimum only under a maximum at least as large.
fn thread_pools(def: &DomainDef) -> R {
    let p = &def.thread_pools;
    for pool in p.iothreads.values().chain(&p.default) {
        if pool.max == Some(0) {
            return Err(unsupported("thread_pool_max must be a positive integer"));
        }
        if pool.min.is_some() && pool.min > pool.max {
            return Err(unsupported(
                "thread_pool_min must be smaller or equal to thread_pool_max",
            ));
        }
    }
    Ok(())
}

fn memory(def: &DomainDef) -> R {
    if let Some(m) = &def.memory_backing
        && let Some(pages) = &m.hugepages
    {
        let cells = def.cpu.as_ref().map_or(0, |c| c.numa.len());
        let mut default_seen: Option<u64> = None;
        let mut claimed: Vec<(u32, u64)> = Vec::new();
        for p in pages {
            if p.size_kib == 0 {
                return Err(invalid("a hugepage size must be larger than 0"));
            }
            match &p.nodeset {
                Some(n) => {
                    for node in cpuset("nodeset", n)? {
                        if node as usize >= cells {
                            return Err(invalid(format!(
                                "hugepages: node {node} not found: the domain has {cells} NUMA cells"
                            )));
                        }
                        if let Some((_, other)) = claimed.iter().find(|(c, _)| *c == node) {
                            return Err(invalid(format!(
                                "nodeset attribute of hugepages of sizes {other} and {} intersect",
                                p.size_kib
                            )));
                        }
                        claimed.push((node, p.size_kib));
                    }
                }
                None => {
                    if let Some(first) = default_seen {
                        return Err(invalid(format!(
                            "two master hugepages detected: {first} and {} KiB: give each <page> after the first a nodeset",
                            p.size_kib
                        )));
                    }
                    default_seen = Some(p.size_kib);
                }
            }
        }
    }
    let cells = def.cpu.as_ref().is_some_and(|c| !c.numa.is_empty());
    if def.max_memory.is_some_and(|m| m.slots > 0) && !cells {
        return Err(unsupported(
            "At least one numa node has to be configured when enabling memory hotplug: <maxMemory> with slots needs a <cpu><numa><cell .../></numa></cpu>",
        ));
    }
    if let Some(max) = def.max_memory {
        if max.kib < def.memory_kib {
            return Err(invalid(format!(
                "maximum memory size {} KiB must be at least the memory size {} KiB",
                max.kib, def.memory_kib
            )));
        }
        if max.slots == 0 && !def.devices.memories.is_empty() {
            return Err(invalid("memory devices need <maxMemory slots=...>"));
        }
    }
    for (i, m) in def.devices.memories.iter().enumerate() {
        if m.size_kib == 0 {
            return Err(invalid(format!("memory device {i} has size 0")));
        }
    }
    let plugged: u64 = def.devices.memories.iter().map(|m| m.size_kib).sum();
    if !def.devices.memories.is_empty() && def.max_memory.is_none() {
        return Err(invalid(
            "cannot use <memory> devices without <maxMemory slots=...>",
        ));
    }
    if let Some(max) = def.max_memory
        && plugged > max.kib
    {
        return Err(invalid(
            "the memory devices add up to more than <maxMemory>",
        ));
    }
    Ok(())
}

fn cputune(def: &DomainDef) -> R {
    if let Some(n) = def.iothreads
        && n > 1024
    {
        return Err(invalid(format!("{n} I/O threads are more than 1024")));
    }
    let Some(t) = &def.cputune else {
        return Ok(());
    };
    if let Some(s) = t.shares
        && !(2..=262_144).contains(&s)
    {
        return Err(invalid(format!(
            "cputune shares {s} must be in range [2, 262144]"
        )));
    }
    for (what, p) in [
        ("period", t.period),
        ("emulator_period", t.emulator_period),
        ("global_period", t.global_period),
        ("iothread_period", t.iothread_period),
    ] {
        if let Some(p) = p
            && p != 0
            && !(1000..=1_000_000).contains(&p)
        {
            return Err(invalid(format!(
                "Value of cputune '{what}' must be in range [1000, 1000000]"
            )));
        }
    }
    for (what, q) in [
        ("quota", t.quota),
        ("emulator_quota", t.emulator_quota),
        ("global_quota", t.global_quota),
        ("iothread_quota", t.iothread_quota),
    ] {
        if let Some(q) = q
            && q > 0
            && !(1000..=17_592_186_044_415).contains(&q)
        {
            return Err(invalid(format!(
                "Value of cputune '{what}' must be in range [1000, 17592186044415] or less than 0"
            )));
        }
    }
    let mut seen = Vec::new();
    for (vcpu, set) in &t.vcpupins {
        if *vcpu >= def.vcpu.max {
            return Err(invalid(format!(
                "vcpupin vcpu {vcpu} is beyond the {} vCPUs of the domain",
                def.vcpu.max
            )));
        }
        if seen.contains(vcpu) {
            return Err(invalid(format!("duplicate vcpupin for vcpu {vcpu}")));
        }
        seen.push(*vcpu);
        cpuset("cpuset", set)?;
    }
    if let Some(set) = &t.emulatorpin {
        cpuset("cpuset", set)?;
    }
    // libvirt's rules: each vCPU or I/O thread in one list at most, and
    // only those the domain has.
    let mut seen = Vec::new();
    for s in &t.vcpuscheds {
        for vcpu in parse_cpuset(&s.ids).unwrap_or_default() {
            if vcpu >= def.vcpu.max {
                return Err(invalid(format!(
                    "Invalid vcpu '{vcpu}' in vcpusched: the domain has {} vCPUs",
                    def.vcpu.max
                )));
            }
            if seen.contains(&vcpu) {
                return Err(invalid("'vcpusched' attributes 'vcpus' must not overlap"));
            }
            seen.push(vcpu);
        }
    }
    let threads = def.iothread_ids();
    let mut seen = Vec::new();
    for s in &t.iothreadscheds {
        for id in parse_cpuset(&s.ids).unwrap_or_default() {
            if !threads.contains(&id) {
                return Err(invalid(format!("Cannot find 'iothread' : {id}")));
            }
            if seen.contains(&id) {
                return Err(invalid(
                    "'iothreadsched' attributes 'iothreads' must not overlap",
                ));
            }
            seen.push(id);
        }
    }
    for (id, set) in &t.iothreadpins {
        if !threads.contains(id) {
            return Err(invalid(format!(
                "Cannot find 'iothread' : {id}: <iothreadpin> names an I/O thread the domain's <iothreads> does not have"
            )));
        }
        cpuset("cpuset", set)?;
    }
    Ok(())
}

/// libvirt's virDomainNumaDefValidate for HMAT: cache levels 1 to 3,
/// each once per cell; an interconnect links existing cells, from one
/// with CPUs, to a cache level its target has, and says each thing once.
fn hmat(cells: &[NumaCell], links: &[NumaInterconnect]) -> R {
    for c in cells {
        let mut seen = Vec::new();
        for k in &c.caches {
            if k.level > 3 {
                return Err(invalid(format!(
                    "Ain't nobody heard of that much cache level: level {} of NUMA cell {} (at most 3)",
                    k.level, c.id
                )));
            }
            if seen.contains(&k.level) {
                return Err(invalid(format!(
                    "Cache level '{}' already defined in NUMA cell {}",
                    k.level, c.id
                )));
            }
            seen.push(k.level);
        }
    }
    for (i, l) in links.iter().enumerate() {
        let Some(initiator) = cells.get(l.initiator as usize) else {
            return Err(invalid(format!(
                "'initiator' refers to a non-existent NUMA node: {}",
                l.initiator
            )));
        };
        let Some(target) = cells.get(l.target as usize) else {
            return Err(invalid(format!(
                "'target' refers to a non-existent NUMA node: {}",
                l.target
            )));
        };
        if initiator.cpus.is_none() {
            return Err(invalid(format!(
                "NUMA nodes without CPUs can't be initiator: cell {}",
                l.initiator
            )));
        }
        if let Some(level) = l.cache
            && !target.caches.iter().any(|k| k.level == level)
        {
            return Err(invalid(format!(
                "'cache' refers to a non-existent NUMA node cache: cell {} has no level {level}",
                l.target
            )));
        }
        for ll in &links[..i] {
            let same = (ll.kind, ll.initiator, ll.target, ll.cache, ll.access)
                == (l.kind, l.initiator, l.target, l.cache, l.access);
            if same {
                return Err(invalid(format!(
                    "Duplicate info for NUMA latencies: initiator {} target {}",
                    l.initiator, l.target
                )));
            }
            if l.initiator != l.target && l.initiator == ll.target && l.target == ll.initiator {
                return Err(invalid(format!(
                    "Link already defined: between cells {} and {}",
                    l.initiator, l.target
                )));
            }
        }
    }
    Ok(())
}

fn numa(def: &DomainDef) -> R {
    let cells = def.cpu.as_ref().map(|c| c.numa.as_slice()).unwrap_or(&[]);
    let links = def
        .cpu
        .as_ref()
        .map(|c| c.interconnects.as_slice())
        .unwrap_or(&[]);
    hmat(cells, links)?;
    let mut cpus_seen: Vec<u32> = Vec::new();
    for (i, c) in cells.iter().enumerate() {
        if c.id as usize != i {
            return Err(invalid(format!(
                "NUMA cell ids must start at 0 and follow each other: cell {i} has id {}",
                c.id
            )));
        }
        if c.memory_kib == 0 {
            return Err(invalid(format!("NUMA cell {i} has no memory")));
        }
        // libvirt's virDomainNumaDefNodeDistanceParseXML: 10 is a cell's
        // own distance and no other's, 255 is unreachable.
        for (sibling, value) in &c.distances {
            if *sibling as usize >= cells.len() {
                return Err(invalid(format!(
                    "'sibling_id {sibling}' does not refer to a valid cell within NUMA 'cell id {i}'"
                )));
            }
            if !(10..=255).contains(value) || ((*sibling == c.id) != (*value == 10)) {
                return Err(invalid(format!(
                    "'value {value}' is invalid for 'sibling id {sibling}' under NUMA 'cell id {i}'"
                )));
            }
        }
        if let Some(cpus) = &c.cpus {
            for cpu in cpuset("cpus", cpus)? {
                if cpu >= def.vcpu.max {
                    return Err(invalid(format!(
                        "NUMA cell {i} names vCPU {cpu}, beyond the {} vCPUs of the domain",
                        def.vcpu.max
                    )));
                }
                if cpus_seen.contains(&cpu) {
                    return Err(invalid(format!(
                        "NUMA cells overlap: vCPU {cpu} is in more than one"
                    )));
                }
                cpus_seen.push(cpu);
            }
        }
    }
    // After the cells' ids are checked: interconnects name cells by id.
    hmat(cells, links)?;
    if let Some(t) = &def.numatune {
        if let Some(m) = &t.memory {
            match (&m.nodeset, m.placement) {
                (Some(_), Some(Placement::Auto)) => {
                    return Err(invalid(
                        "nodeset for NUMA memory tuning must not be specified with placement='auto'",
                    ));
                }
                (Some(n), _) => {
                    cpuset("nodeset", n)?;
                }
                (None, Some(Placement::Static)) => {
                    return Err(invalid(
                        "nodeset for NUMA memory tuning must be set if 'placement' is 'static'",
                    ));
                }
                _ => {}
            }
        }
        let memory = t.memory.as_ref();
        if !t.memnodes.is_empty() && memory.is_some_and(|m| m.placement == Some(Placement::Auto)) {
            return Err(unsupported(
                "Per-node binding is not compatible with automatic NUMA placement: <memnode> beside <memory placement='auto'>",
            ));
        }
        let mut bound = Vec::new();
        for m in &t.memnodes {
            if bound.contains(&m.cellid) {
                return Err(invalid(format!(
                    "Multiple memnode elements with cellid {}",
                    m.cellid
                )));
            }
            bound.push(m.cellid);
            if memory.is_some_and(|m| m.mode == Some(NumaMode::Restrictive))
                && m.mode != Some(NumaMode::Restrictive)
            {
                return Err(invalid(
                    "'restrictive' mode is required in memnode element when mode is 'restrictive' in memory element",
                ));
            }
            if m.cellid as usize >= cells.len() {
                return Err(invalid(format!(
                    "Argument 'cellid' in memnode element must correspond to existing guest's NUMA cell: there is no cell {}",
                    m.cellid
                )));
            }
            cpuset("nodeset", &m.nodeset)?;
        }
    }
    Ok(())
}

fn sysinfo(def: &DomainDef) -> R {
    for f in &def.fw_cfg {
        if let Some(file) = &f.file {
            check_path(&format!("fw_cfg entry {} file", f.name), file)?;
        }
    }
    if let Some(s) = &def.sysinfo {
        for (block, entries) in &s.blocks {
            for (name, value) in entries {
                check_chars(&format!("SMBIOS {} {name}", block.as_str()), value, false)?;
            }
        }
        for v in &s.oem_strings {
            check_chars("SMBIOS OEM string", v, false)?;
        }
        if let Some(d) = s.entry(SmbiosBlock::Bios, "date")
            && !bios_date_ok(d)
        {
            return Err(invalid(format!(
                "Invalid BIOS 'date' format '{}': write mm/dd/yyyy or mm/dd/yy",
                show(d)
            )));
        }
        if let Some(u) = s.entry(SmbiosBlock::System, "uuid") {
            let parsed = uuid::Uuid::parse_str(u.trim()).map_err(|_| {
                invalid(format!(
                    "malformed uuid element '{}' in <sysinfo><system>",
                    show(u)
                ))
            })?;
            if parsed != def.uuid {
                return Err(invalid("UUID mismatch between <uuid> and <sysinfo>"));
            }
        }
    }
    if def.os.smbios == Some(SmbiosMode::Sysinfo) && def.sysinfo.is_none() {
        return Err(invalid(format!(
            "Domain '{}' sysinfo are not available: <smbios mode='sysinfo'> needs a <sysinfo type='smbios'>",
            def.name
        )));
    }
    if let Some(p) = &def.partition {
        check_chars("resource partition", p, false)?;
        if !p.starts_with('/') {
            return Err(invalid(format!(
                "resource partition '{}' must start with '/'",
                show(p)
            )));
        }
    }
    Ok(())
}

/// libvirt's check of an SMBIOS BIOS date: `mm/dd/yyyy` (from 1900) or
/// `mm/dd/yy`.
fn bios_date_ok(d: &str) -> bool {
    let parts: Vec<&str> = d.split('/').collect();
    let num = |s: &str| {
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u32>().ok())
            .flatten()
    };
    match parts.as_slice() {
        [m, day, y] => matches!(
            (num(m), num(day), num(y)),
            (Some(1..=12), Some(1..=31), Some(y)) if !(100..1900).contains(&y)
        ),
        _ => false,
    }
}

fn qemu(def: &DomainDef) -> R {
    for a in &def.qemu.args {
        check_chars("qemu:arg value", a, true)?;
        if a.contains('\0') {
            return Err(invalid("a qemu:arg value contains a NUL character"));
        }
    }
    for (name, value) in &def.qemu.env {
        check_chars("qemu:env value", value.as_deref().unwrap_or_default(), true)?;
        if name.is_empty() {
            return Err(invalid("a qemu:env has an empty name"));
        }
    }
    Ok(())
}

fn devices(def: &DomainDef) -> R {
    let d = &def.devices;
    let mut hosts = Vec::new();
    for h in &d.hostdevs {
        match &h.source {
            HostdevSource::Pci(p) => {
                if p.domain > 0xffff || p.bus > 0xff || p.slot > 0x1f || p.function > 7 {
                    return Err(invalid(format!(
                        "host PCI address {:x}:{:x}:{:x}.{:x} is out of range",
                        p.domain, p.bus, p.slot, p.function
                    )));
                }
                if hosts.contains(p) {
                    return Err(invalid(format!(
                        "host PCI device {:04x}:{:02x}:{:02x}.{:x} is given twice",
                        p.domain, p.bus, p.slot, p.function
                    )));
                }
                hosts.push(*p);
                if matches!(
                    h.address,
                    Some(Address::Usb(_) | Address::Drive(_) | Address::VirtioSerial(_))
                ) {
                    return Err(invalid(
                        "a PCI <hostdev> takes a PCI <address> in the guest",
                    ));
                }
                if let Some(f) = h.rom.as_ref().and_then(|r| r.file.as_deref()) {
                    check_path("hostdev ROM file", f)?;
                }
            }
            HostdevSource::Mdev(m) => {
                let same = d
                    .hostdevs
                    .iter()
                    .filter(|o| matches!(&o.source, HostdevSource::Mdev(x) if x.uuid == m.uuid));
                if same.count() > 1 {
                    return Err(invalid(format!(
                        "the mediated device {} is given twice",
                        m.uuid
                    )));
                }
                if matches!(
                    h.address,
                    Some(Address::Usb(_) | Address::Drive(_) | Address::VirtioSerial(_))
                ) {
                    return Err(invalid(
                        "a mediated <hostdev> takes a PCI <address> in the guest",
                    ));
                }
                if h.managed == Some(true) {
                    return Err(invalid(
                        "a mediated device is made on the host (mdevctl), not managed: use managed='no'",
                    ));
                }
                if h.rom.is_some() || h.driver_vfio {
                    return Err(invalid("a mediated device takes no <rom> or <driver>"));
                }
                if h.boot_order.is_some() {
                    return Err(unsupported(
                        "booting from assigned devices is not supported by mediated devices of model vfio-pci",
                    ));
                }
                let ramfbs = d.hostdevs.iter().filter(
                    |o| matches!(&o.source, HostdevSource::Mdev(x) if x.ramfb == Some(true)),
                );
                if ramfbs.count() > 1 {
                    return Err(unsupported("Only one vgpu device can have 'ramfb' enabled"));
                }
            }
            HostdevSource::Usb(u) => {
                let same = d.hostdevs.iter().filter(|o| match &o.source {
                    HostdevSource::Usb(o) => {
                        (o.vendor, o.product, o.bus_device) == (u.vendor, u.product, u.bus_device)
                    }
                    HostdevSource::Pci(_) | HostdevSource::Mdev(_) => false,
                });
                if same.count() > 1 {
                    return Err(invalid(
                        "Hostdev already exists in the domain configuration: a USB host device is given twice",
                    ));
                }
                if matches!(
                    h.address,
                    Some(Address::Pci(_) | Address::Drive(_) | Address::VirtioSerial(_))
                ) {
                    return Err(invalid(
                        "a USB <hostdev> takes a USB <address> in the guest",
                    ));
                }
                if h.managed == Some(false) {
                    // libvirt ignores managed on USB; so does qvirt.
                }
            }
        }
    }
    let mut tags = Vec::new();
    for f in &d.filesystems {
        check_path("filesystem source dir", &f.source_dir)?;
        check_chars("filesystem target dir", &f.target_dir, false)?;
        if f.target_dir.is_empty() {
            return Err(invalid("a filesystem target dir (the mount tag) is empty"));
        }
        if tags.contains(&&f.target_dir) {
            return Err(invalid(format!(
                "filesystem target '{}' is used twice",
                show(&f.target_dir)
            )));
        }
        tags.push(&f.target_dir);
        if let Some(p) = &f.binary.path {
            check_path("virtiofsd binary path", p)?;
        }
        if f.queue == Some(0) {
            return Err(invalid("a virtiofs queue size must be at least 1"));
        }
        match f.driver {
            FsDriver::Virtiofs => {
                if matches!(
                    f.accessmode,
                    Some(FsAccessMode::Mapped | FsAccessMode::Squash)
                ) {
                    return Err(unsupported("virtiofs only supports passthrough accessmode"));
                }
                if f.multidevs.is_some() {
                    return Err(unsupported("virtiofs does not support multidevs"));
                }
                if f.model.is_some() {
                    return Err(unsupported("virtiofs does not support model"));
                }
                if f.fmode.is_some() || f.dmode.is_some() {
                    return Err(unsupported("virtiofs does not support fmode and dmode"));
                }
            }
            FsDriver::Path => {
                if (f.fmode.is_some() || f.dmode.is_some())
                    && f.accessmode != Some(FsAccessMode::Mapped)
                {
                    return Err(unsupported(
                        "fmode and dmode must be used with accessmode=mapped",
                    ));
                }
                if f.binary != FsBinary::default() || f.queue.is_some() {
                    return Err(invalid(format!(
                        "filesystem '{}': <binary> and a queue size are virtiofs settings, not 9p's",
                        show(&f.target_dir)
                    )));
                }
            }
        }
    }
    let mut names = Vec::new();
    for s in &d.shmems {
        shmem(s)?;
        if names.contains(&&s.name) {
            return Err(invalid(format!(
                "shmem name '{}' is used twice",
                show(&s.name)
            )));
        }
        names.push(&s.name);
    }
    for a in &d.audios {
        if let Some(p) = &a.path {
            check_path("audio file path", p)?;
        }
    }
    for disk in &d.disks {
        let net = disk.kind == DiskType::Network;
        if net != disk.network.is_some() && disk.source.is_some() {
            return Err(invalid(format!(
                "disk '{}': its source does not match type='{}'",
                disk.target,
                disk.kind.as_str()
            )));
        }
        if let Some(n) = &disk.network {
            for h in &n.hosts {
                if let Some(s) = &h.socket {
                    check_path("network disk socket", s)?;
                }
                if let Some(name) = &h.name {
                    check_chars("network disk host", name, false)?;
                }
            }
        }
        let mut b = disk.backing.as_ref().and_then(|b| b.as_deref());
        while let Some(s) = b {
            check_path("backing store", &s.source)?;
            b = s.backing.as_ref().and_then(|b| b.as_deref());
        }
        if disk.transient && disk.shareable {
            return Err(unsupported(format!(
                "disk '{}': a transient disk cannot be shareable",
                disk.target
            )));
        }
    }
    Ok(())
}

/// A `<shmem>`: libvirt's `virDomainShmemDefValidate` (the name is a file
/// name in `/dev/shm`) and `qemuDomainShmemDefPostParse` (the plain model
/// has no server, the doorbell has one and takes its size from it, MSI
/// only with a server).
fn shmem(s: &crate::model::Shmem) -> R {
    use crate::model::ShmemModel;
    check_chars("shmem name", &s.name, false)?;
    if s.name.is_empty() || s.name.contains('/') || s.name == "." || s.name == ".." {
        return Err(unsupported(format!(
            "shmem name '{}' is not a file name (no '/', not '.' or '..')",
            show(&s.name)
        )));
    }
    if s.msi.is_some() && s.server.is_none() {
        return Err(invalid("msi option is only supported with a server"));
    }
    match (s.model, s.server.is_some()) {
        (Some(ShmemModel::IvshmemDoorbell), false) => Err(unsupported(
            "shmem model 'ivshmem-doorbell' is supported only with server option enabled",
        )),
        (Some(ShmemModel::IvshmemPlain), true) => Err(unsupported(
            "shmem model 'ivshmem-plain' is supported only with server option disabled",
        )),
        (_, true) if s.size_kib.is_some() => Err(unsupported(
            "shmem model 'ivshmem-doorbell' does not support size setting (the server sets it)",
        )),
        _ => match &s.server {
            Some(Some(path)) => check_path("shmem server path", path),
            _ => Ok(()),
        },
    }
}
