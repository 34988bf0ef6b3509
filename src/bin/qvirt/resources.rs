//! Memory, vCPUs and statistics: `setmem`, `setmaxmem`, `setvcpus`,
//! `dommemstat`, `domstats`, `domblkstat`, `domifstat`, `domblkinfo`,
//! `cpu-stats`, and `qemu-monitor-command`, with virsh's output.

use qvirt::driver::{DomainStats, ModifyFlags, StateReason};
use qvirt::{DomainState, Error, ErrorCode, Result};
use serde_json::json;

use crate::{Ctx, outln};

/// Reads virsh's scaled integers (`1024`, `512M`, `2GiB`, `1000KB`)
/// into KiB; a bare number is in `default_unit` bytes per unit.
pub fn parse_kib(text: &str, default_unit: u64) -> Result<u64> {
    Ok(parse_bytes(text, default_unit)?.div_ceil(1024))
}

/// [`parse_kib`] in bytes.
pub fn parse_bytes(text: &str, default_unit: u64) -> Result<u64> {
    let bad = || {
        Error::new(
            ErrorCode::InvalidArgument,
            format!("'{text}' is not a size (a number, with an optional unit such as KiB, M, GiB)"),
        )
    };
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (num, unit) = text.split_at(split);
    let n: u64 = num.parse().map_err(|_| bad())?;
    let bytes_per = match unit.trim() {
        "" => default_unit,
        "b" | "B" | "bytes" => 1,
        "k" | "K" | "KiB" | "kib" => 1 << 10,
        "KB" | "kB" => 1000,
        "m" | "M" | "MiB" | "mib" => 1 << 20,
        "MB" => 1_000_000,
        "g" | "G" | "GiB" | "gib" => 1 << 30,
        "GB" => 1_000_000_000,
        "t" | "T" | "TiB" | "tib" => 1 << 40,
        "TB" => 1_000_000_000_000,
        _ => return Err(bad()),
    };
    n.checked_mul(bytes_per).ok_or_else(bad)
}

/// virsh's `--live`, `--config`, `--current` (which is neither).
pub fn modify_flags(live: bool, config: bool, current: bool) -> Result<ModifyFlags> {
    if current && (live || config) {
        return Err(Error::new(
            ErrorCode::InvalidArgument,
            "--current cannot be combined with --live or --config",
        ));
    }
    Ok(ModifyFlags::new(live, config))
}

/// `setmem DOMAIN SIZE`.
pub fn setmem(ctx: &mut Ctx, arg: &str, size: &str, flags: ModifyFlags) -> Result<()> {
    let kib = parse_kib(size, 1024)?;
    let dom = ctx.domain(arg)?;
    ctx.driver()?.set_memory(&dom, kib, flags)
}

/// `setmaxmem DOMAIN SIZE`.
pub fn setmaxmem(ctx: &mut Ctx, arg: &str, size: &str, flags: ModifyFlags) -> Result<()> {
    let kib = parse_kib(size, 1024)?;
    let dom = ctx.domain(arg)?;
    ctx.driver()?.set_max_memory(&dom, kib, flags)
}

/// `setvcpus DOMAIN COUNT [--maximum]`.
pub fn setvcpus(
    ctx: &mut Ctx,
    arg: &str,
    count: u32,
    maximum: bool,
    flags: ModifyFlags,
) -> Result<()> {
    let dom = ctx.domain(arg)?;
    if maximum {
        ctx.driver()?.set_max_vcpus(&dom, count, flags)
    } else {
        ctx.driver()?.set_vcpus(&dom, count, flags)
    }
}

/// `setvcpu DOMAIN LIST --enable|--disable`.
pub fn setvcpu(
    ctx: &mut Ctx,
    arg: &str,
    list: &str,
    enable: bool,
    flags: ModifyFlags,
) -> Result<()> {
    let ids = qvirt::model::parse_cpuset(list)
        .filter(|ids| !ids.is_empty())
        .ok_or_else(|| {
            Error::new(
                ErrorCode::InvalidArgument,
                format!("'{list}' is not a vCPU list (such as 1, 2-3 or 1,3)"),
            )
        })?;
    let dom = ctx.domain(arg)?;
    ctx.driver()?.set_vcpu(&dom, &ids, enable, flags)
}

/// libvirt's number for a state (`virDomainState`).
fn state_number(s: DomainState) -> u32 {
    match s {
        DomainState::Running => 1,
        DomainState::Paused => 3,
        DomainState::Shutdown => 4,
        DomainState::Shutoff => 5,
        DomainState::Crashed => 6,
        DomainState::PmSuspended => 7,
        _ => 0,
    }
}

/// libvirt's number for a reason, within its state's enum.
fn reason_number(s: DomainState, r: StateReason) -> u32 {
    match (s, r) {
        (DomainState::Running, StateReason::Booted) => 1,
        (DomainState::Running, StateReason::Migrated) => 2,
        (DomainState::Running, StateReason::Restored) => 3,
        (DomainState::Running, StateReason::Unpaused) => 5,
        (DomainState::Running, StateReason::Wakeup) => 8,
        (DomainState::Paused, StateReason::User) => 1,
        (DomainState::Paused, StateReason::Migrating) => 2,
        (DomainState::Paused, StateReason::IoError) => 5,
        (DomainState::Paused, StateReason::Watchdog) => 6,
        (DomainState::Paused, StateReason::ShuttingDown) => 8,
        (DomainState::Shutdown, StateReason::User) => 1,
        (DomainState::Shutoff, StateReason::Shutdown) => 1,
        (DomainState::Shutoff, StateReason::Destroyed) => 2,
        (DomainState::Shutoff, StateReason::Crashed) => 3,
        (DomainState::Shutoff, StateReason::Migrated) => 4,
        (DomainState::Shutoff, StateReason::Saved) => 5,
        (DomainState::Shutoff, StateReason::Failed) => 6,
        _ => 0,
    }
}

/// Which `domstats` groups to show; none asked means all.
#[derive(Debug, Clone, Copy, Default)]
pub struct Groups {
    pub state: bool,
    pub cpu_total: bool,
    pub balloon: bool,
    pub vcpu: bool,
    pub interface: bool,
    pub block: bool,
}

impl Groups {
    fn all_if_none(self) -> Groups {
        if self.state || self.cpu_total || self.balloon || self.vcpu || self.interface || self.block
        {
            self
        } else {
            Groups {
                state: true,
                cpu_total: true,
                balloon: true,
                vcpu: true,
                interface: true,
                block: true,
            }
        }
    }
}

/// The `domstats` fields of one domain, in virsh's order and names.
fn stat_fields(s: &DomainStats, g: Groups) -> Vec<(String, String)> {
    let mut f: Vec<(String, String)> = Vec::new();
    let mut put = |k: String, v: String| f.push((k, v));
    if g.state {
        put("state.state".into(), state_number(s.state).to_string());
        put(
            "state.reason".into(),
            reason_number(s.state, s.reason).to_string(),
        );
    }
    let active = matches!(s.state, DomainState::Running | DomainState::Paused);
    if g.cpu_total && active {
        put("cpu.time".into(), s.cpu_time_ns.to_string());
        put("cpu.user".into(), s.cpu_user_ns.to_string());
        put("cpu.system".into(), s.cpu_system_ns.to_string());
    }
    if g.balloon {
        put("balloon.current".into(), s.balloon.current_kib.to_string());
        put("balloon.maximum".into(), s.balloon.maximum_kib.to_string());
        for (k, v) in &s.balloon.guest {
            // domstats spells the fields as libvirt's does (`last-update`).
            let name = qvirt::transport::libvirt::resources::GUEST_MEMORY
                .iter()
                .find(|(ours, _, _)| ours == k)
                .map_or(k.as_str(), |(_, _, field)| field);
            put(format!("balloon.{name}"), v.to_string());
        }
        if active {
            put("balloon.rss".into(), s.balloon.rss_kib.to_string());
        }
    }
    if g.vcpu {
        let current = if active { s.vcpus.len() as u32 } else { 0 };
        if active {
            put("vcpu.current".into(), current.to_string());
        }
        put("vcpu.maximum".into(), s.vcpu_maximum.to_string());
        for v in &s.vcpus {
            put(format!("vcpu.{}.state", v.id), "1".into());
            put(format!("vcpu.{}.time", v.id), v.time_ns.to_string());
        }
    }
    if g.interface && active {
        put("net.count".into(), s.interfaces.len().to_string());
        for (i, n) in s.interfaces.iter().enumerate() {
            put(format!("net.{i}.name"), n.name.clone());
            for (k, v) in [
                ("rx.bytes", n.rx_bytes),
                ("rx.pkts", n.rx_packets),
                ("rx.errs", n.rx_errs),
                ("rx.drop", n.rx_drop),
                ("tx.bytes", n.tx_bytes),
                ("tx.pkts", n.tx_packets),
                ("tx.errs", n.tx_errs),
                ("tx.drop", n.tx_drop),
            ] {
                put(format!("net.{i}.{k}"), v.to_string());
            }
        }
    }
    if g.block && active {
        put("block.count".into(), s.blocks.len().to_string());
        for (i, b) in s.blocks.iter().enumerate() {
            put(format!("block.{i}.name"), b.target.clone());
            if let Some(p) = &b.path {
                put(format!("block.{i}.path"), p.clone());
            }
            for (k, v) in [
                ("rd.reqs", b.rd_reqs),
                ("rd.bytes", b.rd_bytes),
                ("rd.times", b.rd_total_times_ns),
                ("wr.reqs", b.wr_reqs),
                ("wr.bytes", b.wr_bytes),
                ("wr.times", b.wr_total_times_ns),
                ("fl.reqs", b.fl_reqs),
                ("fl.times", b.fl_total_times_ns),
                ("allocation", b.allocation),
                ("capacity", b.capacity),
                ("physical", b.physical),
            ] {
                put(format!("block.{i}.{k}"), v.to_string());
            }
        }
    }
    f
}

/// `domstats [DOMAIN...]`: virsh's `Domain: 'NAME'` blocks of
/// `group.field=value` lines, or one JSON object per domain.
pub fn domstats(ctx: &mut Ctx, args: &[String], groups: Groups, json_out: bool) -> Result<()> {
    let groups = groups.all_if_none();
    let domains = if args.is_empty() {
        ctx.driver()?
            .list(qvirt::driver::ListFilter::ALL)?
            .into_iter()
            .map(|s| s.domain)
            .collect()
    } else {
        let mut v = Vec::new();
        for a in args {
            v.push(ctx.domain(a)?);
        }
        v
    };
    let driver = ctx.driver()?;
    let mut text = String::new();
    let mut objects = Vec::new();
    for dom in domains {
        let stats = match driver.stats(&dom) {
            Ok(s) => s,
            Err(e) if e.code == ErrorCode::NoDomain && args.is_empty() => continue,
            Err(e) => return Err(e),
        };
        let fields = stat_fields(&stats, groups);
        if json_out {
            let map: serde_json::Map<String, serde_json::Value> = fields
                .into_iter()
                .map(|(k, v)| {
                    let value = v.parse::<u64>().map_or(json!(v), |n| json!(n));
                    (k, value)
                })
                .collect();
            objects.push(json!({"name": dom.name, "stats": map}));
        } else {
            text.push_str(&format!("Domain: '{}'\n", dom.name));
            for (k, v) in fields {
                text.push_str(&format!("  {k}={v}\n"));
            }
            text.push('\n');
        }
    }
    if json_out {
        return outln!("{}", serde_json::Value::Array(objects));
    }
    crate::output::write(&text)
}

/// The statistics of a domain that must be running.
fn running_stats(ctx: &mut Ctx, arg: &str, what: &str) -> Result<(String, DomainStats)> {
    let dom = ctx.domain(arg)?;
    let stats = ctx.driver()?.stats(&dom)?;
    if !matches!(stats.state, DomainState::Running | DomainState::Paused) {
        return Err(Error::new(
            ErrorCode::OperationInvalid,
            format!("domain '{}' is not running: no {what}", dom.name),
        ));
    }
    Ok((dom.name, stats))
}

/// `dommemstat DOMAIN --period SECONDS`: how often the guest's balloon
/// reports.
pub fn set_stats_period(ctx: &mut Ctx, arg: &str, seconds: u32, flags: ModifyFlags) -> Result<()> {
    let dom = ctx.domain(arg)?;
    ctx.driver()?.set_memory_stats_period(&dom, seconds, flags)
}

/// `dommemstat`: `NAME VALUE` lines (KiB), as virsh.
pub fn dommemstat(ctx: &mut Ctx, arg: &str, json_out: bool) -> Result<()> {
    let (_, s) = running_stats(ctx, arg, "memory statistics")?;
    let mut fields: Vec<(String, u64)> = vec![("actual".into(), s.balloon.current_kib)];
    fields.extend(s.balloon.guest.iter().map(|(k, v)| (k.clone(), *v)));
    fields.push(("rss".into(), s.balloon.rss_kib));
    if json_out {
        let map: serde_json::Map<String, serde_json::Value> =
            fields.into_iter().map(|(k, v)| (k, json!(v))).collect();
        return outln!("{}", serde_json::Value::Object(map));
    }
    let text: String = fields.iter().map(|(k, v)| format!("{k} {v}\n")).collect();
    crate::output::write(&text)
}

/// `domblkstat DOMAIN [TARGET]`: virsh's `TARGET rd_req N` lines; all
/// disks summed when no target is named.
pub fn domblkstat(ctx: &mut Ctx, arg: &str, target: Option<&str>, json_out: bool) -> Result<()> {
    let (name, s) = running_stats(ctx, arg, "block statistics")?;
    let chosen: Vec<_> = match target {
        Some(t) => {
            let b = s
                .blocks
                .iter()
                .find(|b| b.target == t || b.path.as_deref() == Some(t))
                .ok_or_else(|| {
                    Error::new(
                        ErrorCode::InvalidArgument,
                        format!("domain '{name}' has no disk '{t}'"),
                    )
                })?;
            vec![b.clone()]
        }
        None => s.blocks.clone(),
    };
    let sum = |f: fn(&qvirt::driver::BlockStats) -> u64| chosen.iter().map(f).sum::<u64>();
    let fields = [
        ("rd_req", sum(|b| b.rd_reqs)),
        ("rd_bytes", sum(|b| b.rd_bytes)),
        ("wr_req", sum(|b| b.wr_reqs)),
        ("wr_bytes", sum(|b| b.wr_bytes)),
        ("flush_operations", sum(|b| b.fl_reqs)),
        ("rd_total_times", sum(|b| b.rd_total_times_ns)),
        ("wr_total_times", sum(|b| b.wr_total_times_ns)),
        ("flush_total_times", sum(|b| b.fl_total_times_ns)),
    ];
    if json_out {
        let map: serde_json::Map<String, serde_json::Value> = fields
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect();
        return outln!("{}", serde_json::Value::Object(map));
    }
    let label = target.unwrap_or("");
    let text: String = fields
        .iter()
        .map(|(k, v)| format!("{label} {k} {v}\n"))
        .collect();
    crate::output::write(&text)
}

/// `domblkinfo DOMAIN TARGET`: capacity, allocation, physical (bytes).
pub fn domblkinfo(ctx: &mut Ctx, arg: &str, target: &str, json_out: bool) -> Result<()> {
    let (name, s) = running_stats(ctx, arg, "block information")?;
    let b = s
        .blocks
        .iter()
        .find(|b| b.target == target || b.path.as_deref() == Some(target))
        .ok_or_else(|| {
            Error::new(
                ErrorCode::InvalidArgument,
                format!("domain '{name}' has no disk '{target}'"),
            )
        })?;
    if json_out {
        return outln!(
            "{}",
            json!({"capacity": b.capacity, "allocation": b.allocation, "physical": b.physical})
        );
    }
    outln!(
        "Capacity:       {}\nAllocation:     {}\nPhysical:       {}",
        b.capacity,
        b.allocation,
        b.physical
    )
}

/// `domifstat DOMAIN INTERFACE`: virsh's `IF rx_bytes N` lines.
pub fn domifstat(ctx: &mut Ctx, arg: &str, iface: &str, json_out: bool) -> Result<()> {
    let (name, s) = running_stats(ctx, arg, "interface statistics")?;
    let n = s.interfaces.iter().find(|n| n.name == iface).ok_or_else(|| {
        Error::new(
            ErrorCode::InvalidArgument,
            format!(
                "domain '{name}' has no interface with host device '{iface}' (user networking has no host device to count)"
            ),
        )
    })?;
    let fields = [
        ("rx_bytes", n.rx_bytes),
        ("rx_packets", n.rx_packets),
        ("rx_errs", n.rx_errs),
        ("rx_drop", n.rx_drop),
        ("tx_bytes", n.tx_bytes),
        ("tx_packets", n.tx_packets),
        ("tx_errs", n.tx_errs),
        ("tx_drop", n.tx_drop),
    ];
    if json_out {
        let map: serde_json::Map<String, serde_json::Value> = fields
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect();
        return outln!("{}", serde_json::Value::Object(map));
    }
    let text: String = fields
        .iter()
        .map(|(k, v)| format!("{iface} {k} {v}\n"))
        .collect();
    crate::output::write(&text)
}

/// `cpu-stats DOMAIN`: per vCPU and in total, as virsh (seconds).
pub fn cpu_stats(ctx: &mut Ctx, arg: &str, json_out: bool) -> Result<()> {
    let (_, s) = running_stats(ctx, arg, "CPU statistics")?;
    let secs = |ns: u64| format!("{}.{:09} seconds", ns / 1_000_000_000, ns % 1_000_000_000);
    if json_out {
        let vcpus: Vec<_> = s
            .vcpus
            .iter()
            .map(|v| json!({"vcpu": v.id, "vcpu_time_ns": v.time_ns}))
            .collect();
        return outln!(
            "{}",
            json!({
                "vcpus": vcpus,
                "cpu_time_ns": s.cpu_time_ns,
                "user_time_ns": s.cpu_user_ns,
                "system_time_ns": s.cpu_system_ns,
            })
        );
    }
    let mut text = String::new();
    for v in &s.vcpus {
        text.push_str(&format!(
            "vCPU{}:\n\tvcpu_time\t{}\n",
            v.id,
            secs(v.time_ns)
        ));
    }
    text.push_str(&format!(
        "Total:\n\tcpu_time\t{}\n\tuser_time\t{}\n\tsystem_time\t{}\n",
        secs(s.cpu_time_ns),
        secs(s.cpu_user_ns),
        secs(s.cpu_system_ns)
    ));
    crate::output::write(&text)
}

/// `qemu-monitor-command DOMAIN COMMAND`: QEMU's answer, as JSON (pretty
/// with `--pretty`).
pub fn qemu_monitor_command(ctx: &mut Ctx, arg: &str, command: &str, pretty: bool) -> Result<()> {
    let dom = ctx.domain(arg)?;
    let answer = ctx.driver()?.qemu_monitor_command(&dom, command)?;
    if pretty {
        let value: serde_json::Value = serde_json::from_str(&answer).map_err(|e| {
            Error::new(
                ErrorCode::Internal,
                format!("QEMU's answer is not JSON: {e}"),
            )
        })?;
        return outln!("{}", serde_json::to_string_pretty(&value).unwrap_or(answer));
    }
    outln!("{answer}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_scale_as_virsh() {
        assert_eq!(parse_kib("1024", 1024).unwrap(), 1024);
        assert_eq!(parse_kib("512M", 1024).unwrap(), 512 * 1024);
        assert_eq!(parse_kib("2GiB", 1024).unwrap(), 2 * 1024 * 1024);
        assert_eq!(parse_kib("1000KB", 1024).unwrap(), 977);
        assert!(parse_kib("12Q", 1024).is_err());
        assert!(parse_kib("", 1024).is_err());
        assert!(parse_kib("99999999999999999999T", 1024).is_err());
    }
}
