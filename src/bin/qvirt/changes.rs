//! `iothreadadd`, `iothreaddel`, `iothreadpin`, `iothreadset` and
//! `set-lifecycle-action`, as virsh's: each changes the running domain
//! (QEMU's I/O thread objects and threads, what its guest's power-off,
//! reboot or crash does) and/or its definition by `--live`, `--config`,
//! `--current`. `save-image-dumpxml`, `save-image-define`,
//! `managedsave-dumpxml` and `managedsave-define` read and replace the
//! definition a save image's restore starts.

use clap::Subcommand;
use qvirt::driver::{IoThreadChange, IoThreadParams, LifecycleEvent, PinTarget};
use qvirt::model::{LifecycleAction, Word, parse_cpuset};
use qvirt::{Error, ErrorCode, Result};

use crate::args::{DomArg, RestoreState, WhereArgs};
use crate::edit::Edited;
use crate::resources::modify_flags;
use crate::{Ctx, outln};

/// The I/O thread and lifecycle action verbs.
#[derive(Debug, Subcommand)]
pub enum ChangeCommand {
    /// Add an I/O thread to the domain.
    #[command(name = "iothreadadd")]
    Iothreadadd {
        #[command(flatten)]
        dom: DomArg,
        /// The new thread's id (1 or more, unused).
        id: u32,
        #[command(flatten)]
        at: WhereArgs,
    },
    /// Remove an I/O thread no disk or controller uses.
    #[command(name = "iothreaddel")]
    Iothreaddel {
        #[command(flatten)]
        dom: DomArg,
        /// The thread's id.
        id: u32,
        #[command(flatten)]
        at: WhereArgs,
    },
    /// Let an I/O thread run on the given host CPUs only.
    #[command(name = "iothreadpin")]
    Iothreadpin {
        #[command(flatten)]
        dom: DomArg,
        /// The thread's id.
        iothread: u32,
        /// The host CPUs, as a list (`0-3,^2`).
        cpulist: String,
        #[command(flatten)]
        at: WhereArgs,
    },
    /// Let a vCPU's thread run on the given host CPUs only.
    #[command(name = "vcpupin")]
    Vcpupin {
        #[command(flatten)]
        dom: DomArg,
        /// The vCPU's number.
        vcpu: u32,
        /// The host CPUs, as a list (`0-3,^2`).
        cpulist: String,
        #[command(flatten)]
        at: WhereArgs,
    },
    /// Let QEMU's threads other than vCPUs and I/O threads run on the
    /// given host CPUs only.
    #[command(name = "emulatorpin")]
    Emulatorpin {
        #[command(flatten)]
        dom: DomArg,
        /// The host CPUs, as a list (`0-3,^2`).
        cpulist: String,
        #[command(flatten)]
        at: WhereArgs,
    },
    /// Tune an I/O thread: its polling (running QEMU only) and its pool
    /// of worker threads.
    #[command(name = "iothreadset")]
    Iothreadset {
        #[command(flatten)]
        dom: DomArg,
        /// The thread's id.
        id: u32,
        /// The longest polling interval, in ns (0: no polling).
        #[arg(long)]
        poll_max_ns: Option<u64>,
        /// The factor a polling interval grows by (0: QEMU's).
        #[arg(long)]
        poll_grow: Option<u32>,
        /// The divisor a polling interval shrinks by (0: QEMU's).
        #[arg(long)]
        poll_shrink: Option<u32>,
        /// Worker threads kept when idle (-1: QEMU's default).
        #[arg(long, allow_hyphen_values = true)]
        thread_pool_min: Option<i32>,
        /// The most worker threads (-1: QEMU's default).
        #[arg(long, allow_hyphen_values = true)]
        thread_pool_max: Option<i32>,
        #[command(flatten)]
        at: WhereArgs,
    },
    /// Show the definition a save file holds.
    #[command(name = "save-image-dumpxml")]
    SaveImageDumpxml {
        /// The file `save` wrote.
        file: std::path::PathBuf,
        /// With secrets (passwords).
        #[arg(long)]
        security_info: bool,
    },
    /// Replace the definition a save file's restore starts.
    #[command(name = "save-image-define")]
    SaveImageDefine {
        /// The file `save` wrote.
        file: std::path::PathBuf,
        /// The new definition (`-` reads stdin).
        xml: std::path::PathBuf,
        #[command(flatten)]
        state: RestoreState,
    },
    /// Edit the definition a save file holds in $VISUAL or $EDITOR (vi).
    #[command(name = "save-image-edit")]
    SaveImageEdit {
        /// The file `save` wrote.
        file: std::path::PathBuf,
        #[command(flatten)]
        state: RestoreState,
    },
    /// Edit the definition the domain's managed save image holds in
    /// $VISUAL or $EDITOR (vi).
    #[command(name = "managedsave-edit")]
    ManagedsaveEdit {
        #[command(flatten)]
        dom: DomArg,
        #[command(flatten)]
        state: RestoreState,
    },
    /// Show the definition the domain's managed save image holds.
    #[command(name = "managedsave-dumpxml")]
    ManagedsaveDumpxml {
        #[command(flatten)]
        dom: DomArg,
        /// With secrets (passwords).
        #[arg(long)]
        security_info: bool,
    },
    /// Replace the definition the domain's managed save image restores.
    #[command(name = "managedsave-define")]
    ManagedsaveDefine {
        #[command(flatten)]
        dom: DomArg,
        /// The new definition (`-` reads stdin).
        xml: std::path::PathBuf,
        #[command(flatten)]
        state: RestoreState,
    },
    /// Start measuring how fast the guest dirties its memory; `domstats`
    /// shows the result.
    #[command(name = "domdirtyrate-calc")]
    DomdirtyrateCalc {
        #[command(flatten)]
        dom: DomArg,
        /// How long to measure (1 to 60).
        #[arg(long, default_value_t = 1, allow_hyphen_values = true)]
        seconds: i32,
        /// page-sampling, dirty-bitmap or dirty-ring.
        #[arg(long, default_value = "page-sampling")]
        mode: String,
    },
    /// Set what the guest's power-off, reboot or crash does.
    #[command(name = "set-lifecycle-action")]
    SetLifecycleAction {
        #[command(flatten)]
        dom: DomArg,
        /// poweroff, reboot or crash.
        kind: String,
        /// destroy, restart or preserve.
        action: String,
        #[command(flatten)]
        at: WhereArgs,
    },
}

/// Runs a save image or dirty rate verb, `true`, or leaves it,
/// `false`.
fn run_image(ctx: &mut Ctx, command: &ChangeCommand) -> Result<bool> {
    use qvirt::driver::SaveImage;
    let xml_of = |image: SaveImage, secure: bool, ctx: &mut Ctx| -> Result<()> {
        let xml = ctx.driver()?.save_image_xml(&image, secure)?;
        crate::output::write(&xml)
    };
    match command {
        ChangeCommand::SaveImageDumpxml {
            file,
            security_info,
        } => xml_of(SaveImage::File(file.clone()), *security_info, ctx)?,
        ChangeCommand::ManagedsaveDumpxml { dom, security_info } => {
            let d = ctx.domain(&dom.domain)?;
            xml_of(SaveImage::Managed(d), *security_info, ctx)?;
        }
        ChangeCommand::SaveImageDefine { file, xml, state } => {
            let xml = crate::read_input(xml)?;
            let image = SaveImage::File(file.clone());
            ctx.driver()?
                .save_image_define(&image, &xml, state.running())?;
        }
        ChangeCommand::ManagedsaveDefine { dom, xml, state } => {
            let xml = crate::read_input(xml)?;
            let image = SaveImage::Managed(ctx.domain(&dom.domain)?);
            ctx.driver()?
                .save_image_define(&image, &xml, state.running())?;
        }
        ChangeCommand::SaveImageEdit { file, state } => {
            let image = SaveImage::File(file.clone());
            let edited = edit_image(
                ctx,
                &image,
                state.running(),
                &format!("saved image {}", file.display()),
            )?;
            match edited {
                Edited::Unchanged => outln!(
                    "Saved image {} XML configuration not changed.",
                    file.display()
                )?,
                Edited::Defined => outln!("State file {} edited.", file.display())?,
            }
        }
        ChangeCommand::ManagedsaveEdit { dom, state } => {
            let d = ctx.domain(&dom.domain)?;
            let name = d.name.clone();
            let image = SaveImage::Managed(d);
            let what = format!("the managed save image of domain '{name}'");
            match edit_image(ctx, &image, state.running(), &what)? {
                Edited::Unchanged => {
                    outln!("Managed save image of domain '{name}' XML configuration not changed.")?
                }
                Edited::Defined => {
                    outln!("Managed save image of Domain '{name}' XML configuration edited.")?
                }
            }
        }
        ChangeCommand::DomdirtyrateCalc { dom, seconds, mode } => {
            let mode = qvirt::driver::DirtyRateMode::from_word(mode).ok_or_else(|| {
                Error::new(
                    ErrorCode::InvalidArgument,
                    format!("Invalid mode '{mode}': page-sampling, dirty-bitmap or dirty-ring"),
                )
            })?;
            let d = ctx.domain(&dom.domain)?;
            ctx.driver()?.dirty_rate_calc(&d, *seconds, mode)?;
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// The event of virsh's word `kind`.
fn event_of(kind: &str) -> Result<LifecycleEvent> {
    match kind {
        "poweroff" => Ok(LifecycleEvent::Poweroff),
        "reboot" => Ok(LifecycleEvent::Reboot),
        "crash" => Ok(LifecycleEvent::Crash),
        _ => Err(Error::new(
            ErrorCode::InvalidArgument,
            format!("Invalid lifecycle type '{kind}': poweroff, reboot or crash"),
        )),
    }
}

/// The CPUs of a list (`0-3,^2`).
fn cpu_list(cpulist: &str) -> Result<Vec<u32>> {
    parse_cpuset(cpulist).ok_or_else(|| {
        Error::new(
            ErrorCode::InvalidArgument,
            format!("cpulist '{cpulist}' is not a CPU list (0-3,^2)"),
        )
    })
}

/// `vcpupin` and `emulatorpin`.
fn pin(
    ctx: &mut Ctx,
    dom: &DomArg,
    target: PinTarget,
    cpulist: &str,
    at: &WhereArgs,
) -> Result<()> {
    let cpus = cpu_list(cpulist)?;
    let flags = modify_flags(at.live, at.config, at.current)?;
    let d = ctx.domain(&dom.domain)?;
    ctx.driver()?.pin_cpus(&d, target, &cpus, flags)
}

/// Runs one verb.
pub fn run(ctx: &mut Ctx, command: ChangeCommand) -> Result<()> {
    if run_image(ctx, &command)? {
        return Ok(());
    }
    let (dom, change, at) = match command {
        ChangeCommand::SetLifecycleAction {
            dom,
            kind,
            action,
            at,
        } => {
            let event = event_of(&kind)?;
            let action = LifecycleAction::from_word(&action).ok_or_else(|| {
                Error::new(
                    ErrorCode::InvalidArgument,
                    format!("Invalid lifecycle action '{action}': destroy, restart or preserve"),
                )
            })?;
            let flags = modify_flags(at.live, at.config, at.current)?;
            let d = ctx.domain(&dom.domain)?;
            return ctx.driver()?.set_lifecycle_action(&d, event, action, flags);
        }
        ChangeCommand::Vcpupin {
            dom,
            vcpu,
            cpulist,
            at,
        } => return pin(ctx, &dom, PinTarget::Vcpu(vcpu), &cpulist, &at),
        ChangeCommand::Emulatorpin { dom, cpulist, at } => {
            return pin(ctx, &dom, PinTarget::Emulator, &cpulist, &at);
        }
        ChangeCommand::Iothreadadd { dom, id, at } => (dom, IoThreadChange::Add(id), at),
        ChangeCommand::Iothreaddel { dom, id, at } => (dom, IoThreadChange::Remove(id), at),
        ChangeCommand::Iothreadpin {
            dom,
            iothread,
            cpulist,
            at,
        } => (dom, IoThreadChange::Pin(iothread, cpu_list(&cpulist)?), at),
        ChangeCommand::Iothreadset {
            dom,
            id,
            poll_max_ns,
            poll_grow,
            poll_shrink,
            thread_pool_min,
            thread_pool_max,
            at,
        } => {
            let mut p = IoThreadParams::default();
            p.poll_max_ns = poll_max_ns;
            p.poll_grow = poll_grow;
            p.poll_shrink = poll_shrink;
            p.thread_pool_min = thread_pool_min;
            p.thread_pool_max = thread_pool_max;
            if p.is_empty() {
                return Err(Error::new(
                    ErrorCode::InvalidArgument,
                    "iothreadset needs at least one setting to change",
                ));
            }
            (dom, IoThreadChange::Tune(id, p), at)
        }
        ChangeCommand::SaveImageDumpxml { .. }
        | ChangeCommand::SaveImageDefine { .. }
        | ChangeCommand::ManagedsaveDumpxml { .. }
        | ChangeCommand::ManagedsaveDefine { .. }
        | ChangeCommand::SaveImageEdit { .. }
        | ChangeCommand::ManagedsaveEdit { .. }
        | ChangeCommand::DomdirtyrateCalc { .. } => return Ok(()),
    };
    let flags = modify_flags(at.live, at.config, at.current)?;
    let d = ctx.domain(&dom.domain)?;
    ctx.driver()?.change_iothread(&d, &change, flags)
}

/// virsh's `save-image-edit` and `managedsave-edit`: the image's
/// definition (with its secrets, so that an edit keeps them) in the
/// editor, defined again with the state `running` asks for.
fn edit_image(
    ctx: &mut Ctx,
    image: &qvirt::driver::SaveImage,
    running: Option<bool>,
    what: &str,
) -> Result<Edited> {
    let driver = ctx.driver()?;
    let get = || driver.save_image_xml(image, true);
    let mut define = |xml: &str| driver.save_image_define(image, xml, running);
    crate::edit::cycle(&get, &mut define, what)
}
