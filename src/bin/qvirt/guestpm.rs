//! `domfstrim`, `guestvcpus`, `dompmsuspend` and `dompmwakeup`, as
//! virsh's: the guest trims its file systems, takes its vCPUs online or
//! offline and suspends itself at its agent's request; QEMU wakes it.

use clap::Subcommand;
use qvirt::Result;
use qvirt::driver::{GuestAgent, GuestValue, PmTarget};

use crate::args::DomArg;
use crate::{Ctx, outln};

/// The guest's trim, vCPU and power verbs.
#[derive(Debug, Subcommand)]
pub enum GuestPmCommand {
    /// Discard the unused blocks of the guest's mounted file systems.
    #[command(name = "domfstrim")]
    FsTrim {
        #[command(flatten)]
        dom: DomArg,
        /// Only free ranges of at least this many bytes (default: the
        /// file system's own minimum).
        #[arg(long, default_value_t = 0)]
        minimum: u64,
        /// Refused, as by libvirt: every mounted file system is trimmed.
        #[arg(long, value_name = "PATH")]
        mountpoint: Option<String>,
    },
    /// Print the guest's vCPUs (all, online, offlinable), or take those
    /// of --cpulist online (--enable) or offline (--disable).
    #[command(name = "guestvcpus")]
    GuestVcpus {
        #[command(flatten)]
        dom: DomArg,
        /// The vCPUs to change, as a list (`1,3-4`).
        #[arg(long, requires = "change")]
        cpulist: Option<String>,
        /// Take them online.
        #[arg(long, group = "change", requires = "cpulist")]
        enable: bool,
        /// Take them offline.
        #[arg(long, group = "change", requires = "cpulist")]
        disable: bool,
    },
    /// Suspend the guest from inside: mem (RAM), disk or hybrid.
    #[command(name = "dompmsuspend")]
    PmSuspend {
        #[command(flatten)]
        dom: DomArg,
        /// mem, disk or hybrid.
        target: String,
        /// Refused but for 0, as by libvirt.
        #[arg(long, default_value_t = 0)]
        duration: u64,
    },
    /// Wake a guest that suspended itself.
    #[command(name = "dompmwakeup")]
    PmWakeup(DomArg),
}

/// Runs one of the verbs.
pub fn run(ctx: &mut Ctx, command: GuestPmCommand) -> Result<()> {
    match command {
        GuestPmCommand::FsTrim {
            dom,
            minimum,
            mountpoint,
        } => {
            if mountpoint.is_some() {
                return Err(qvirt::Error::new(
                    qvirt::ErrorCode::ArgumentUnsupported,
                    "Specifying mount point is not supported for now",
                ));
            }
            let d = ctx.domain(&dom.domain)?;
            ctx.driver()?.fs_trim(&d, minimum)
        }
        GuestPmCommand::GuestVcpus {
            dom,
            cpulist,
            enable,
            disable: _,
        } => {
            let d = ctx.domain(&dom.domain)?;
            if let Some(list) = cpulist {
                return ctx.driver()?.set_guest_vcpus(&d, &list, enable);
            }
            for (field, value) in ctx.driver()?.guest_vcpus(&d)? {
                let text = match value {
                    GuestValue::Text(s) => s,
                    other => format!("{other:?}"),
                };
                outln!("{field:<15}: {text}")?;
            }
            Ok(())
        }
        GuestPmCommand::PmSuspend {
            dom,
            target,
            duration,
        } => {
            if duration != 0 {
                return Err(qvirt::Error::new(
                    qvirt::ErrorCode::ArgumentUnsupported,
                    "Duration not supported. Use 0 for now",
                ));
            }
            let target = match target.as_str() {
                "mem" => PmTarget::Mem,
                "disk" => PmTarget::Disk,
                "hybrid" => PmTarget::Hybrid,
                other => {
                    return Err(qvirt::Error::new(
                        qvirt::ErrorCode::InvalidArgument,
                        format!("Invalid target '{other}': mem, disk or hybrid"),
                    ));
                }
            };
            let d = ctx.domain(&dom.domain)?;
            ctx.driver()?.pm_suspend(&d, target)?;
            outln!("Domain '{}' successfully suspended", d.name)
        }
        GuestPmCommand::PmWakeup(dom) => {
            let d = ctx.domain(&dom.domain)?;
            ctx.driver()?.pm_wakeup(&d)?;
            outln!("Domain '{}' successfully woken up", d.name)
        }
    }
}
