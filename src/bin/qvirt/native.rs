//! `domxml-to-native qemu-argv FILE`: the QEMU command line qvirt would
//! run for a domain XML file, as one shell-quoted line.
//!
//! Never opens the driver (no state directory is created or locked): the
//! runtime paths are the ones the connection's driver would choose, worked
//! out from the URI alone, and the emulator is probed directly.

use std::path::Path;

use qvirt::driver::local::layout::Layout;
use qvirt::driver::local::{native, tuning};
use qvirt::driver::uri::{RemoteInstance, Target, parse};
use qvirt::qemu::caps::QemuCaps;
use qvirt::qemu::probe::probe;
use qvirt::sys::shell::shell_join;
use qvirt::transport::instance::Instance;
use qvirt::{DomainDef, Result};

use crate::{Ctx, outln, read_input};

/// Runs `domxml-to-native`.
pub fn run(ctx: &mut Ctx, format: &str, file: &Path) -> Result<()> {
    native::check_format(format)?;
    let xml = read_input(file)?;
    let def = DomainDef::from_xml(&xml)?;
    let emulator = tuning::emulator(&def);
    let caps = if emulator.exists() {
        probe(&emulator)?
    } else {
        if ctx.verbose {
            eprintln!(
                "note: {} does not exist; assuming the capabilities of the oldest supported QEMU",
                emulator.display()
            );
        }
        let mut caps = QemuCaps::assumed(&emulator);
        caps.kvm = qvirt::qemu::probe::kvm_usable();
        caps
    };
    let layout = layout_for(&ctx.uri)?;
    let argv = native::argv_for(def, &caps, &layout)?;
    outln!("{}", shell_join(&argv))
}

/// The state layout the driver for `uri` uses: the embedded one under its
/// root, else the daemon instance's (a socket URI names no instance: the
/// session's is shown).
fn layout_for(uri: &str) -> Result<Layout> {
    let target = match parse(uri)? {
        Target::Libvirt(local) => *local,
        t => t,
    };
    Ok(match target {
        Target::Embed { root } => Layout::embedded(&root),
        Target::System => Instance::System.paths()?.layout,
        Target::Session | Target::Socket { .. } | Target::Libvirt(_) => {
            Instance::Session.paths()?.layout
        }
        // The remote host's instance, as its paths would be here.
        Target::Ssh(t) => match t.instance {
            RemoteInstance::System => Instance::System.paths()?.layout,
            RemoteInstance::Session => Instance::Session.paths()?.layout,
        },
    })
}
