//! The storage verbs, as virsh's: `pool-*` on directory pools and
//! `vol-*` on their volumes (made and inspected with qemu-img by the
//! manager). A volume is named by its name with `--pool POOL`, or by its
//! path alone.

use std::io::{Read, Write};
use std::path::PathBuf;

use clap::Subcommand;
use qvirt::driver::{Pool, PoolState, ResizeFlags, VolCreateFlags, Volume};
use qvirt::model::{PoolDef, VolumeBacking, VolumeDef, VolumeFormat, Word};
use qvirt::{Error, ErrorCode, Result};

use crate::resources::parse_kib;
use crate::{Ctx, outln};

/// A volume, as virsh names one.
#[derive(Debug, clap::Args)]
pub struct VolArg {
    /// The volume: its name (with --pool) or its path.
    pub vol: String,
    /// The pool the volume is in.
    #[arg(long)]
    pub pool: Option<String>,
}

/// The storage verbs.
#[derive(Debug, Subcommand)]
pub enum StorageCommand {
    /// Define a pool from its parts (type `dir` only).
    #[command(name = "pool-define-as")]
    PoolDefineAs {
        /// The pool's name.
        name: String,
        /// The pool type: `dir`.
        #[arg(value_name = "TYPE")]
        kind: String,
        /// The pool's directory.
        #[arg(long)]
        target: String,
    },
    /// Define (or redefine) a pool from an XML file.
    #[command(name = "pool-define")]
    PoolDefine {
        /// The `<pool>` XML file.
        file: PathBuf,
    },
    /// Make a pool's directory.
    #[command(name = "pool-build")]
    PoolBuild {
        /// The pool.
        pool: String,
    },
    /// Start a pool.
    #[command(name = "pool-start")]
    PoolStart {
        /// The pool.
        pool: String,
    },
    /// Stop a pool (its files stay).
    #[command(name = "pool-destroy")]
    PoolDestroy {
        /// The pool.
        pool: String,
    },
    /// Remove a pool's definition (its files stay).
    #[command(name = "pool-undefine")]
    PoolUndefine {
        /// The pool.
        pool: String,
    },
    /// Mark a pool to start with the manager (or not, with --disable).
    #[command(name = "pool-autostart")]
    PoolAutostart {
        /// The pool.
        pool: String,
        /// Unmark it.
        #[arg(long)]
        disable: bool,
    },
    /// List pools (running ones unless --all or --inactive).
    #[command(name = "pool-list")]
    PoolList {
        /// Running and stopped pools.
        #[arg(long)]
        all: bool,
        /// Stopped pools only.
        #[arg(long)]
        inactive: bool,
    },
    /// Show a pool's state and sizes.
    #[command(name = "pool-info")]
    PoolInfo {
        /// The pool.
        pool: String,
    },
    /// Look at a pool's directory again.
    #[command(name = "pool-refresh")]
    PoolRefresh {
        /// The pool.
        pool: String,
    },
    /// Print a pool's XML.
    #[command(name = "pool-dumpxml")]
    PoolDumpXml {
        /// The pool.
        pool: String,
    },
    /// Edit a pool's definition in $VISUAL or $EDITOR (vi), defined again
    /// when it changed.
    #[command(name = "pool-edit")]
    PoolEdit {
        /// The pool.
        pool: String,
    },
    /// Make a volume from its parts. SIZE is in bytes unless it has a
    /// unit (M, GiB, ...).
    #[command(name = "vol-create-as")]
    VolCreateAs {
        /// The pool.
        pool: String,
        /// The volume's name.
        name: String,
        /// Its capacity.
        capacity: String,
        /// Its format: raw or qcow2 (default raw).
        #[arg(long)]
        format: Option<String>,
        /// Bytes allocated up front.
        #[arg(long)]
        allocation: Option<String>,
        /// The image a qcow2 volume is an overlay of.
        #[arg(long)]
        backing_vol: Option<String>,
        /// The backing image's format.
        #[arg(long)]
        backing_vol_format: Option<String>,
        /// Allocate a qcow2 volume's metadata now (its data on write).
        #[arg(long)]
        prealloc_metadata: bool,
    },
    /// Make a volume from an XML file.
    #[command(name = "vol-create")]
    VolCreate {
        /// The pool.
        pool: String,
        /// The `<volume>` XML file.
        file: PathBuf,
    },
    /// Copy a volume into a new one in its pool.
    #[command(name = "vol-clone")]
    VolClone {
        #[command(flatten)]
        vol: VolArg,
        /// The new volume's name.
        name: String,
    },
    /// List a pool's volumes.
    #[command(name = "vol-list")]
    VolList {
        /// The pool.
        pool: String,
        /// With type, capacity and allocation.
        #[arg(long)]
        details: bool,
    },
    /// Show a volume's sizes.
    #[command(name = "vol-info")]
    VolInfo(VolArg),
    /// Print a volume's path.
    #[command(name = "vol-path")]
    VolPath(VolArg),
    /// Print a volume's key (its path, as libvirt's directory pools
    /// have it).
    #[command(name = "vol-key")]
    VolKey(VolArg),
    /// Print the name of the volume with this key or path.
    #[command(name = "vol-name")]
    VolName {
        /// The volume's key or path.
        key: String,
    },
    /// Print the pool of the volume with this key or path.
    #[command(name = "vol-pool")]
    VolPool {
        /// The volume's key or path.
        key: String,
        /// The pool's UUID rather than its name.
        #[arg(long)]
        uuid: bool,
    },
    /// Print the name of the pool with this UUID.
    #[command(name = "pool-name")]
    PoolName {
        /// The pool's UUID.
        uuid: String,
    },
    /// Print a pool's UUID.
    #[command(name = "pool-uuid")]
    PoolUuid {
        /// The pool.
        pool: String,
    },
    /// Print a volume's XML.
    #[command(name = "vol-dumpxml")]
    VolDumpXml(VolArg),
    /// Delete a volume's file.
    #[command(name = "vol-delete")]
    VolDelete(VolArg),
    /// Change a volume's capacity (bytes unless SIZE has a unit).
    #[command(name = "vol-resize")]
    VolResize {
        #[command(flatten)]
        vol: VolArg,
        /// The new capacity, or with --delta the growth.
        capacity: String,
        /// SIZE is added to the capacity.
        #[arg(long)]
        delta: bool,
        /// Allow a smaller capacity.
        #[arg(long)]
        shrink: bool,
    },
    /// Write a file's bytes into a volume.
    #[command(name = "vol-upload")]
    VolUpload {
        #[command(flatten)]
        vol: VolArg,
        /// The file to read.
        file: PathBuf,
    },
    /// Write a volume's bytes into a file.
    #[command(name = "vol-download")]
    VolDownload {
        #[command(flatten)]
        vol: VolArg,
        /// The file to write.
        file: PathBuf,
    },
}

/// A size in bytes (`SIZE` with an optional unit, bytes by default).
fn bytes(text: &str) -> Result<u64> {
    // `parse_kib` rounds up to KiB; a byte count is kept exact here.
    if let Ok(n) = text.parse::<u64>() {
        return Ok(n);
    }
    parse_kib(text, 1).map(|kib| kib * 1024)
}

fn format_of(text: &str) -> Result<VolumeFormat> {
    VolumeFormat::from_word(text).ok_or_else(|| {
        Error::new(
            ErrorCode::InvalidArgument,
            format!("unknown volume format '{text}': use raw or qcow2"),
        )
    })
}

fn read_file(path: &PathBuf) -> Result<String> {
    std::fs::read_to_string(path)
        .map_err(|e| Error::io(format!("cannot read {}", path.display()), e))
}

fn pool(ctx: &mut Ctx, name: &str) -> Result<Pool> {
    ctx.driver()?.pool_lookup_by_name(name)
}

fn volume(ctx: &mut Ctx, arg: &VolArg) -> Result<Volume> {
    match &arg.pool {
        Some(p) => {
            let p = pool(ctx, p)?;
            ctx.driver()?.vol_lookup_by_name(&p, &arg.vol)
        }
        None if arg.vol.starts_with('/') => ctx
            .driver()?
            .vol_lookup_by_path(std::path::Path::new(&arg.vol)),
        None => Err(Error::new(
            ErrorCode::InvalidArgument,
            format!(
                "volume '{}': name its pool with --pool, or give its path",
                arg.vol
            ),
        )),
    }
}

/// Runs a storage verb.
pub fn run(ctx: &mut Ctx, command: StorageCommand) -> Result<()> {
    use StorageCommand as C;
    match command {
        C::PoolDefineAs { name, kind, target } => {
            if kind != "dir" {
                return Err(Error::new(
                    ErrorCode::NoSupport,
                    format!("pool type '{kind}': qvirt has directory pools (dir) only"),
                ));
            }
            let xml = PoolDef::new_dir(&name, &target).to_xml(None);
            let p = ctx.driver()?.pool_define_xml(&xml)?;
            outln!("Pool {} defined", p.name)
        }
        C::PoolDefine { file } => {
            let p = ctx.driver()?.pool_define_xml(&read_file(&file)?)?;
            outln!("Pool {} defined from {}", p.name, file.display())
        }
        C::PoolBuild { pool: p } => {
            let p = pool(ctx, &p)?;
            ctx.driver()?.pool_build(&p)?;
            outln!("Pool {} built", p.name)
        }
        C::PoolStart { pool: p } => {
            let p = pool(ctx, &p)?;
            ctx.driver()?.pool_start(&p)?;
            outln!("Pool {} started", p.name)
        }
        C::PoolDestroy { pool: p } => {
            let p = pool(ctx, &p)?;
            ctx.driver()?.pool_destroy(&p)?;
            outln!("Pool {} destroyed", p.name)
        }
        C::PoolUndefine { pool: p } => {
            let p = pool(ctx, &p)?;
            ctx.driver()?.pool_undefine(&p)?;
            outln!("Pool {} has been undefined", p.name)
        }
        C::PoolAutostart { pool: p, disable } => {
            let p = pool(ctx, &p)?;
            ctx.driver()?.pool_set_autostart(&p, !disable)?;
            if disable {
                outln!("Pool {} unmarked as autostarted", p.name)
            } else {
                outln!("Pool {} marked as autostarted", p.name)
            }
        }
        C::PoolList { all, inactive } => {
            let pools = ctx.driver()?.list_pools()?;
            outln!(" {:<20} {:<10} {}", "Name", "State", "Autostart")?;
            outln!("{}", "-".repeat(44))?;
            for s in pools {
                let running = s.info.state == PoolState::Running;
                if !(all || running != inactive) {
                    continue;
                }
                outln!(
                    " {:<20} {:<10} {}",
                    s.pool.name,
                    if running { "active" } else { "inactive" },
                    if s.info.autostart { "yes" } else { "no" }
                )?;
            }
            Ok(())
        }
        C::PoolInfo { pool: p } => {
            let p = pool(ctx, &p)?;
            let i = ctx.driver()?.pool_info(&p)?;
            outln!("{:<16}{}", "Name:", p.name)?;
            outln!("{:<16}{}", "UUID:", p.uuid)?;
            outln!("{:<16}{}", "State:", i.state.as_str())?;
            outln!(
                "{:<16}{}",
                "Persistent:",
                if i.persistent { "yes" } else { "no" }
            )?;
            outln!(
                "{:<16}{}",
                "Autostart:",
                if i.autostart { "yes" } else { "no" }
            )?;
            if i.state == PoolState::Running {
                outln!("{:<16}{}", "Capacity:", human(i.capacity))?;
                outln!("{:<16}{}", "Allocation:", human(i.allocation))?;
                outln!("{:<16}{}", "Available:", human(i.available))?;
            }
            Ok(())
        }
        C::PoolEdit { pool: p } => {
            let p = pool(ctx, &p)?;
            let driver = ctx.driver()?;
            let get = || driver.pool_xml(&p);
            let mut define = |xml: &str| driver.pool_define_xml(xml).map(drop);
            let what = format!("pool {}", p.name);
            match crate::edit::cycle(&get, &mut define, &what)? {
                crate::edit::Edited::Unchanged => {
                    outln!("Pool {} XML configuration not changed.", p.name)
                }
                crate::edit::Edited::Defined => outln!("Pool {} XML configuration edited.", p.name),
            }
        }
        C::PoolRefresh { pool: p } => {
            let p = pool(ctx, &p)?;
            ctx.driver()?.pool_refresh(&p)?;
            outln!("Pool {} refreshed", p.name)
        }
        C::PoolDumpXml { pool: p } => {
            let p = pool(ctx, &p)?;
            let xml = ctx.driver()?.pool_xml(&p)?;
            outln!("{}", xml.trim_end())
        }
        C::VolCreateAs {
            pool: p,
            name,
            capacity,
            format,
            allocation,
            backing_vol,
            backing_vol_format,
            prealloc_metadata,
        } => {
            let format = format.as_deref().map(format_of).transpose()?;
            let mut def = VolumeDef::new(
                &name,
                bytes(&capacity)?,
                format.unwrap_or(VolumeFormat::Raw),
            );
            def.allocation = allocation.as_deref().map(bytes).transpose()?;
            if let Some(path) = backing_vol {
                let Some(fmt) = backing_vol_format else {
                    return Err(Error::new(
                        ErrorCode::InvalidArgument,
                        "--backing-vol needs --backing-vol-format: qvirt never probes an image's format",
                    ));
                };
                def.backing = Some(VolumeBacking {
                    path,
                    format: format_of(&fmt)?,
                });
            }
            let p = pool(ctx, &p)?;
            let flags = if prealloc_metadata {
                VolCreateFlags::PREALLOC_METADATA
            } else {
                VolCreateFlags::NONE
            };
            let v = ctx
                .driver()?
                .vol_create_with(&p, &def.to_xml(), None, flags)?;
            outln!("Vol {} created", v.name)
        }
        C::VolCreate { pool: p, file } => {
            let p = pool(ctx, &p)?;
            let v = ctx.driver()?.vol_create_xml(&p, &read_file(&file)?)?;
            outln!("Vol {} created from {}", v.name, file.display())
        }
        C::VolClone { vol, name } => {
            let from = volume(ctx, &vol)?;
            let d = ctx.driver()?;
            let p = d.pool_lookup_by_name(&from.pool)?;
            let format = d.vol_info(&from)?.format;
            let def = VolumeDef::new(&name, 0, format);
            let v = d.vol_clone(&p, &def.to_xml(), &from)?;
            outln!("Vol {} cloned from {}", v.name, from.name)
        }
        C::VolList { pool: p, details } => {
            let p = pool(ctx, &p)?;
            let d = ctx.driver()?;
            let vols = d.list_volumes(&p)?;
            if details {
                outln!(
                    " {:<20} {:<40} {:<6} {:>12} {:>12}",
                    "Name",
                    "Path",
                    "Type",
                    "Capacity",
                    "Allocation"
                )?;
                outln!("{}", "-".repeat(96))?;
                for v in vols {
                    let i = d.vol_info(&v)?;
                    outln!(
                        " {:<20} {:<40} {:<6} {:>12} {:>12}",
                        v.name,
                        v.path.display(),
                        "file",
                        human(i.capacity),
                        human(i.allocation)
                    )?;
                }
            } else {
                outln!(" {:<20} {}", "Name", "Path")?;
                outln!("{}", "-".repeat(60))?;
                for v in vols {
                    outln!(" {:<20} {}", v.name, v.path.display())?;
                }
            }
            Ok(())
        }
        C::VolInfo(arg) => {
            let v = volume(ctx, &arg)?;
            let i = ctx.driver()?.vol_info(&v)?;
            outln!("{:<12}{}", "Name:", v.name)?;
            outln!("{:<12}{}", "Type:", "file")?;
            outln!("{:<12}{}", "Capacity:", human(i.capacity))?;
            outln!("{:<12}{}", "Allocation:", human(i.allocation))?;
            outln!("{:<12}{}", "Format:", i.format.as_str())
        }
        C::VolPath(arg) | C::VolKey(arg) => {
            let v = volume(ctx, &arg)?;
            outln!("{}", v.path.display())
        }
        C::VolName { key } => {
            let v = ctx
                .driver()?
                .vol_lookup_by_path(std::path::Path::new(&key))?;
            outln!("{}", v.name)
        }
        C::VolPool { key, uuid } => {
            let v = ctx
                .driver()?
                .vol_lookup_by_path(std::path::Path::new(&key))?;
            let p = pool(ctx, &v.pool)?;
            if uuid {
                outln!("{}", p.uuid)
            } else {
                outln!("{}", p.name)
            }
        }
        C::PoolName { uuid } => {
            let pools = ctx.driver()?.list_pools()?;
            let found = pools
                .into_iter()
                .find(|s| s.pool.uuid.to_string() == uuid.to_lowercase());
            match found {
                Some(s) => outln!("{}", s.pool.name),
                None => Err(qvirt::Error::new(
                    qvirt::ErrorCode::InvalidArgument,
                    format!("no storage pool with matching uuid '{uuid}'"),
                )),
            }
        }
        C::PoolUuid { pool: p } => {
            let p = pool(ctx, &p)?;
            outln!("{}", p.uuid)
        }
        C::VolDumpXml(arg) => {
            let v = volume(ctx, &arg)?;
            let xml = ctx.driver()?.vol_xml(&v)?;
            outln!("{}", xml.trim_end())
        }
        C::VolDelete(arg) => {
            let v = volume(ctx, &arg)?;
            ctx.driver()?.vol_delete(&v)?;
            outln!("Vol {} deleted", v.name)
        }
        C::VolResize {
            vol,
            capacity,
            delta,
            shrink,
        } => {
            let v = volume(ctx, &vol)?;
            let mut flags = ResizeFlags::NONE;
            if delta {
                flags = flags | ResizeFlags::DELTA;
            }
            if shrink {
                flags = flags | ResizeFlags::SHRINK;
            }
            ctx.driver()?.vol_resize(&v, bytes(&capacity)?, flags)?;
            outln!(
                "Size of volume '{}' successfully changed to {capacity}",
                v.name
            )
        }
        C::VolUpload { vol, file } => {
            let v = volume(ctx, &vol)?;
            let mut input = std::fs::File::open(&file)
                .map_err(|e| Error::io(format!("cannot open {}", file.display()), e))?;
            let mut stream = ctx.driver()?.vol_upload(&v, 0, None)?;
            let mut buf = vec![0u8; 1 << 20];
            loop {
                let n = input
                    .read(&mut buf)
                    .map_err(|e| Error::io(format!("cannot read {}", file.display()), e))?;
                if n == 0 {
                    break;
                }
                stream.send(&buf[..n])?;
            }
            stream.finish()
        }
        C::VolDownload { vol, file } => {
            let v = volume(ctx, &vol)?;
            let mut stream = ctx.driver()?.vol_download(&v, 0, None)?;
            let mut out = std::fs::File::create(&file)
                .map_err(|e| Error::io(format!("cannot create {}", file.display()), e))?;
            loop {
                let chunk = stream.recv()?;
                if chunk.is_empty() {
                    break;
                }
                out.write_all(&chunk)
                    .map_err(|e| Error::io(format!("cannot write {}", file.display()), e))?;
            }
            stream.finish()
        }
    }
}

/// A size as virsh prints it: `1.50 GiB`.
fn human(bytes: u64) -> String {
    match capacity(bytes) {
        (_, "B") => format!("{bytes} B"),
        (value, unit) => format!("{value:.2} {unit}"),
    }
}

/// A size in the largest binary unit below it, as virsh's
/// `vshPrettyCapacity`: `(1.5, "GiB")`.
pub fn capacity(bytes: u64) -> (f64, &'static str) {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    (value, UNITS[unit])
}
