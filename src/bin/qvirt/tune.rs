//! `memtune` and `blkiotune`, as virsh's: with values they change
//! `<memtune>` and `<blkiotune>` (the running domain's cgroups and its
//! live definition, or the persistent definition, by `--live`,
//! `--config`, `--current`); without, they show them as virsh does,
//! one `name: value` line each. `blkdeviotune` shows or changes a disk's
//! throttle (the running QEMU's, or `<iotune>`), `iothreadinfo` a running
//! domain's I/O threads, `migrate-setspeed` and `migrate-getspeed` its
//! migration speed, and `domblkerror` the disks QEMU
//! stopped on an error.

use clap::Subcommand;
use qvirt::driver::{BlkioTuneChange, MemTuneChange, ModifyFlags, XmlFlags};
use qvirt::model::{BlkioDevice, DomainDef, IOTUNE_LIMITS, MemTune};
use qvirt::{DomainState, Error, ErrorCode, Result};

use crate::Ctx;
use crate::args::{DomArg, WhereArgs};
use crate::resources::{modify_flags, parse_kib};

/// The tuning verbs.
#[derive(Debug, Subcommand)]
pub enum TuneCommand {
    /// Show or change the domain's memory limits (`<memtune>`). Sizes are
    /// in KiB unless they have a unit (M, GiB, ...); -1 means unlimited.
    #[command(name = "memtune")]
    Memtune {
        #[command(flatten)]
        dom: DomArg,
        /// The most host memory QEMU may use.
        #[arg(long, value_name = "SIZE", allow_hyphen_values = true)]
        hard_limit: Option<String>,
        /// What QEMU is brought back to when the host runs short.
        #[arg(long, value_name = "SIZE", allow_hyphen_values = true)]
        soft_limit: Option<String>,
        /// The most memory plus swap QEMU may use.
        #[arg(long, value_name = "SIZE", allow_hyphen_values = true)]
        swap_hard_limit: Option<String>,
        #[command(flatten)]
        at: WhereArgs,
    },
    /// Show or change the domain's block I/O tuning (`<blkiotune>`).
    /// Device lists are `/path/to/device,VALUE,...`; a value of 0 removes
    /// that setting of that device.
    #[command(name = "blkiotune")]
    Blkiotune {
        #[command(flatten)]
        dom: DomArg,
        /// The domain's I/O weight (100 to 1000).
        #[arg(long, allow_hyphen_values = true)]
        weight: Option<i64>,
        /// Per-device weights.
        #[arg(long, value_name = "LIST")]
        device_weights: Option<String>,
        /// Per-device reads per second.
        #[arg(long, value_name = "LIST")]
        device_read_iops_sec: Option<String>,
        /// Per-device writes per second.
        #[arg(long, value_name = "LIST")]
        device_write_iops_sec: Option<String>,
        /// Per-device bytes read per second.
        #[arg(long, value_name = "LIST")]
        device_read_bytes_sec: Option<String>,
        /// Per-device bytes written per second.
        #[arg(long, value_name = "LIST")]
        device_write_bytes_sec: Option<String>,
        #[command(flatten)]
        at: WhereArgs,
    },
    /// Show or change a disk's I/O throttle: the running QEMU's (by
    /// default while it runs, or `--live`), else the definition's
    /// `<iotune>`. A family of limits not given keeps its values; all 0
    /// removes the throttle.
    #[command(name = "blkdeviotune")]
    Blkdeviotune {
        #[command(flatten)]
        dom: DomArg,
        /// The disk: its target (vda) or its file.
        device: String,
        #[command(flatten)]
        limits: Box<crate::iotune::IoTuneArgs>,
        #[command(flatten)]
        at: WhereArgs,
    },
    /// Resize a running domain's disk: its image grows (or shrinks) and
    /// the guest sees the new size at once.
    #[command(name = "blockresize")]
    Blockresize {
        #[command(flatten)]
        dom: DomArg,
        /// The disk: its target (vda) or its file.
        path: String,
        /// The new size: a scaled integer (`10G`, `512MiB`; a bare number
        /// is KiB, as virsh reads it).
        size: String,
    },
    /// Show a running domain's I/O threads and the host CPUs each may
    /// run on.
    #[command(name = "iothreadinfo")]
    Iothreadinfo {
        #[command(flatten)]
        dom: DomArg,
    },
    /// Set the most MiB/s a migration of the domain may use when it
    /// does not say (a running QEMU takes it at once).
    #[command(name = "migrate-setspeed")]
    MigrateSetspeed {
        #[command(flatten)]
        dom: DomArg,
        /// MiB/s.
        bandwidth: u64,
    },
    /// Show the most MiB/s a migration of the domain may use.
    #[command(name = "migrate-getspeed")]
    MigrateGetspeed {
        #[command(flatten)]
        dom: DomArg,
    },
    /// Show the disks of a running domain whose I/O QEMU stopped on an
    /// error.
    #[command(name = "domblkerror")]
    Domblkerror {
        #[command(flatten)]
        dom: DomArg,
    },
}

/// Runs one tuning verb.
pub fn run(ctx: &mut Ctx, command: TuneCommand) -> Result<()> {
    match command {
        TuneCommand::Memtune {
            dom,
            hard_limit,
            soft_limit,
            swap_hard_limit,
            at,
        } => {
            let flags = modify_flags(at.live, at.config, at.current)?;
            let mut change = MemTuneChange::default();
            change.hard_limit_kib = hard_limit.as_deref().map(limit_kib).transpose()?;
            change.soft_limit_kib = soft_limit.as_deref().map(limit_kib).transpose()?;
            change.swap_hard_limit_kib = swap_hard_limit.as_deref().map(limit_kib).transpose()?;
            if change.is_empty() {
                return show_memtune(&shown_def(ctx, &dom.domain, flags)?);
            }
            let d = ctx.domain(&dom.domain)?;
            ctx.driver()?.set_memtune(&d, &change, flags)
        }
        TuneCommand::Blkiotune {
            dom,
            weight,
            device_weights,
            device_read_iops_sec,
            device_write_iops_sec,
            device_read_bytes_sec,
            device_write_bytes_sec,
            at,
        } => {
            let flags = modify_flags(at.live, at.config, at.current)?;
            let mut change = BlkioTuneChange::default();
            let mut asked = false;
            if let Some(w) = weight {
                asked = true;
                change.weight =
                    Some(u32::try_from(w).ok().filter(|w| *w > 0).ok_or_else(|| {
                        Error::new(
                            ErrorCode::InvalidArgument,
                            format!("Invalid value of {w} for I/O weight"),
                        )
                    })?);
            }
            let lists = [
                ("device_weight", device_weights, &mut change.device_weight),
                (
                    "device_read_iops_sec",
                    device_read_iops_sec,
                    &mut change.device_read_iops_sec,
                ),
                (
                    "device_write_iops_sec",
                    device_write_iops_sec,
                    &mut change.device_write_iops_sec,
                ),
                (
                    "device_read_bytes_sec",
                    device_read_bytes_sec,
                    &mut change.device_read_bytes_sec,
                ),
                (
                    "device_write_bytes_sec",
                    device_write_bytes_sec,
                    &mut change.device_write_bytes_sec,
                ),
            ];
            for (name, text, list) in lists {
                if let Some(text) = text {
                    asked = true;
                    *list = BlkioTuneChange::parse_device_list(name, &text)?;
                }
            }
            if !asked {
                return show_blkiotune(&shown_def(ctx, &dom.domain, flags)?);
            }
            let d = ctx.domain(&dom.domain)?;
            ctx.driver()?.set_blkiotune(&d, &change, flags)
        }
        TuneCommand::Blkdeviotune {
            dom,
            device,
            limits,
            at,
        } => {
            let flags = modify_flags(at.live, at.config, at.current)?;
            match limits.change()? {
                None => show_blkdeviotune(ctx, &dom.domain, &device, flags),
                Some(change) => {
                    let d = ctx.domain(&dom.domain)?;
                    ctx.driver()?.set_block_iotune(&d, &device, &change, flags)
                }
            }
        }
        TuneCommand::Iothreadinfo { dom } => {
            let d = ctx.domain(&dom.domain)?;
            let mut text =
                String::from(" IOThread ID   CPU Affinity\n-----------------------------\n");
            for t in ctx.driver()?.iothreads(&d)? {
                text.push_str(&format!(
                    " {:<13} {}\n",
                    t.id,
                    qvirt::model::format_cpuset(&t.cpus)
                ));
            }
            text.push('\n');
            crate::output::write(&text)
        }
        TuneCommand::Blockresize { dom, path, size } => {
            let bytes = crate::resources::parse_bytes(&size, 1024)?;
            let d = ctx.domain(&dom.domain)?;
            ctx.driver()?.block_resize(&d, &path, bytes)?;
            crate::output::write(&format!("Block device '{path}' is resized\n"))
        }
        TuneCommand::MigrateSetspeed { dom, bandwidth } => {
            let d = ctx.domain(&dom.domain)?;
            ctx.driver()?.migrate_set_max_speed(&d, bandwidth)
        }
        TuneCommand::MigrateGetspeed { dom } => {
            let d = ctx.domain(&dom.domain)?;
            let speed = ctx.driver()?.migrate_max_speed(&d)?;
            crate::output::write(&format!("{speed}\n"))
        }
        TuneCommand::Domblkerror { dom } => {
            let d = ctx.domain(&dom.domain)?;
            let drives = ctx.driver()?.disk_runtime(&d)?;
            let text: String = drives
                .iter()
                .filter_map(|r| {
                    let what = match r.io_status.as_str() {
                        "nospace" => "no space",
                        "failed" => "unspecified error",
                        _ => return None,
                    };
                    Some(format!("{}: {what}\n", r.target))
                })
                .collect();
            if text.is_empty() {
                crate::output::write("No errors found\n")
            } else {
                crate::output::write(&text)
            }
        }
    }
}

/// `blkdeviotune DOMAIN DEVICE` without values: libvirt's parameters, in
/// its order, one `name: value` line each.
fn show_blkdeviotune(ctx: &mut Ctx, arg: &str, device: &str, flags: ModifyFlags) -> Result<()> {
    let def = shown_def(ctx, arg, flags)?;
    let Some(disk) = def
        .devices
        .disks
        .iter()
        .find(|d| d.target == device || d.source.as_deref() == Some(device))
    else {
        return Err(Error::new(
            ErrorCode::InvalidArgument,
            format!("disk '{device}' not found in domain"),
        ));
    };
    let dom = ctx.domain(arg)?;
    let driver = ctx.driver()?;
    let running = matches!(
        driver.info(&dom)?.state,
        DomainState::Running | DomainState::Paused
    );
    let (limits, group) = if running && !flags.config {
        let drive = driver
            .disk_runtime(&dom)?
            .into_iter()
            .find(|r| r.target == disk.target)
            .unwrap_or_default();
        (drive.iotune, drive.group)
    } else {
        let t = disk.iotune.as_deref().cloned().unwrap_or_default();
        let limits = IOTUNE_LIMITS.iter().map(|(n, _)| t.get(n)).collect();
        (limits, t.group_name)
    };
    let mut text = String::new();
    for (i, (name, _)) in IOTUNE_LIMITS.iter().enumerate() {
        if i == 13 {
            text.push_str(&line("group_name", group.as_deref().unwrap_or_default()));
        }
        text.push_str(&line(
            name,
            &limits.get(i).copied().unwrap_or(0).to_string(),
        ));
    }
    crate::output::write(&text)
}

/// A memory limit as virsh's `memtune` reads it: a negative number is
/// unlimited, else a size (KiB unless it has a unit).
fn limit_kib(text: &str) -> Result<u64> {
    if text.starts_with('-') {
        return match text.parse::<i64>() {
            Ok(_) => Ok(MemTune::UNLIMITED_KIB),
            Err(_) => Err(Error::new(
                ErrorCode::InvalidArgument,
                format!("Unable to parse integer parameter '{text}'"),
            )),
        };
    }
    parse_kib(text, 1024)
}

/// The definition `flags` names for showing: the live one of a running
/// domain (`--live`, or `--current` while it runs), else the persistent
/// one.
fn shown_def(ctx: &mut Ctx, arg: &str, flags: ModifyFlags) -> Result<DomainDef> {
    if flags.live && flags.config {
        return Err(Error::new(
            ErrorCode::InvalidArgument,
            "--live and --config cannot be shown together: pick one",
        ));
    }
    let dom = ctx.domain(arg)?;
    let driver = ctx.driver()?;
    let state = driver.info(&dom)?.state;
    let running = matches!(state, DomainState::Running | DomainState::Paused);
    if flags.live && !running {
        return Err(Error::new(
            ErrorCode::OperationInvalid,
            format!(
                "domain '{}' is not running: it has no live settings",
                dom.name
            ),
        ));
    }
    let xml = driver.xml_desc(&dom, XmlFlags::inactive_if(flags.config || !running))?;
    Ok(DomainDef::from_xml(&xml)?)
}

/// virsh's `name: value` line.
fn line(name: &str, value: &str) -> String {
    format!("{name:<15}: {value}\n")
}

/// `memtune` without values.
fn show_memtune(def: &DomainDef) -> Result<()> {
    let m = def.memtune.unwrap_or_default();
    let limit = |v: Option<u64>| v.map_or("unlimited".to_string(), |k| k.to_string());
    let text = [
        line("hard_limit", &limit(m.hard_limit_kib)),
        line("soft_limit", &limit(m.soft_limit_kib)),
        line("swap_hard_limit", &limit(m.swap_hard_limit_kib)),
    ]
    .concat();
    crate::output::write(&text)
}

/// `blkiotune` without values.
fn show_blkiotune(def: &DomainDef) -> Result<()> {
    let b = def.blkiotune.as_deref().cloned().unwrap_or_default();
    let list = |value: fn(&BlkioDevice) -> Option<u64>| {
        let pairs: Vec<(String, u64)> = b
            .devices
            .iter()
            .filter_map(|d| value(d).map(|v| (d.path.clone(), v)))
            .collect();
        BlkioTuneChange::format_device_list(&pairs)
    };
    let text = [
        line("weight", &b.weight.unwrap_or(0).to_string()),
        line("device_weight", &list(|d| d.weight.map(u64::from))),
        line(
            "device_read_iops_sec",
            &list(|d| d.read_iops_sec.map(u64::from)),
        ),
        line(
            "device_write_iops_sec",
            &list(|d| d.write_iops_sec.map(u64::from)),
        ),
        line("device_read_bytes_sec", &list(|d| d.read_bytes_sec)),
        line("device_write_bytes_sec", &list(|d| d.write_bytes_sec)),
    ]
    .concat();
    crate::output::write(&text)
}
