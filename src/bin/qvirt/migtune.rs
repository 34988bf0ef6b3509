//! `migrate-setmaxdowntime`, `migrate-getmaxdowntime` and
//! `migrate-compcache`, as virsh's: the migration parameters a running
//! domain's QEMU keeps (the most downtime of a switchover, the XBZRLE
//! cache of a compressed migration); `migrate-postcopy`, the switch of
//! its outgoing migration to post-copy; and `domblkthreshold`, the write
//! threshold of a running domain's disk, as QEMU keeps it too.

use clap::Subcommand;
use qvirt::{Error, ErrorCode, Result};

use crate::Ctx;
use crate::args::DomArg;

/// The migration tuning verbs.
#[derive(Debug, Subcommand)]
pub enum MigTuneCommand {
    /// Set the most milliseconds the switchover of a migration of the
    /// running domain may stop it (also for one under way).
    #[command(name = "migrate-setmaxdowntime")]
    SetMaxDowntime {
        #[command(flatten)]
        dom: DomArg,
        /// Milliseconds (1 or more).
        downtime: u64,
    },
    /// Show the most milliseconds the switchover of a migration of the
    /// running domain may stop it.
    #[command(name = "migrate-getmaxdowntime")]
    GetMaxDowntime {
        #[command(flatten)]
        dom: DomArg,
    },
    /// Show, or with --size set, the XBZRLE cache of a compressed
    /// migration of the running domain.
    #[command(name = "migrate-compcache")]
    Compcache {
        #[command(flatten)]
        dom: DomArg,
        /// The cache's size in bytes.
        #[arg(long)]
        size: Option<u64>,
    },
    /// Switch the outgoing migration of the domain, started with
    /// --postcopy, to post-copy.
    #[command(name = "migrate-postcopy")]
    MigratePostcopy {
        #[command(flatten)]
        dom: DomArg,
    },
    /// Set the write threshold of a running domain's disk: a write past
    /// it in the image's file raises a block-threshold event once.
    #[command(name = "domblkthreshold")]
    Domblkthreshold {
        #[command(flatten)]
        dom: DomArg,
        /// The disk's target (`vda`).
        dev: String,
        /// Bytes, or a size with a unit (`512M`); 0 clears it.
        threshold: String,
    },
}

/// Runs a migration tuning verb.
pub fn run(ctx: &mut Ctx, command: MigTuneCommand) -> Result<()> {
    match command {
        MigTuneCommand::SetMaxDowntime { dom, downtime } => {
            if downtime < 1 {
                return Err(Error::new(
                    ErrorCode::InvalidArgument,
                    "migrate: Invalid downtime",
                ));
            }
            let d = ctx.domain(&dom.domain)?;
            ctx.driver()?.migrate_set_max_downtime(&d, downtime)
        }
        MigTuneCommand::GetMaxDowntime { dom } => {
            let d = ctx.domain(&dom.domain)?;
            let ms = ctx.driver()?.migrate_max_downtime(&d)?;
            crate::output::write(&format!("{ms}\n"))
        }
        MigTuneCommand::Compcache { dom, size } => {
            let d = ctx.domain(&dom.domain)?;
            let driver = ctx.driver()?;
            if let Some(bytes) = size {
                driver.migrate_set_compression_cache(&d, bytes)?;
            }
            let (value, unit) = crate::storage::capacity(driver.migrate_compression_cache(&d)?);
            crate::output::write(&format!("Compression cache: {value:.3} {unit}\n"))
        }
        MigTuneCommand::MigratePostcopy { dom } => {
            let d = ctx.domain(&dom.domain)?;
            ctx.driver()?.migrate_start_postcopy(&d)
        }
        MigTuneCommand::Domblkthreshold {
            dom,
            dev,
            threshold,
        } => {
            let bytes = crate::resources::parse_bytes(&threshold, 1)?;
            let d = ctx.domain(&dom.domain)?;
            ctx.driver()?.set_block_threshold(&d, &dev, bytes)
        }
    }
}
