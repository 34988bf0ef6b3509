//! `domxml-to-native qemu-argv FILE`: the QEMU command line qvirt would
//! run for a domain XML file, as one shell-quoted line.
//!
//! Never opens the driver (no state directory is created or locked): the
//! runtime paths are the ones the connection's driver would choose, worked
//! out from the URI alone, and the emulator is probed directly.

use std::path::{Path, PathBuf};

use qvirt::driver::local::argv::{RuntimePaths, build_argv};
use qvirt::driver::local::caps::QemuCaps;
use qvirt::driver::local::layout::Layout;
use qvirt::driver::local::probe::probe;
use qvirt::driver::local::shell::shell_join;
use qvirt::driver::uri::{Target, parse};
use qvirt::transport::instance::Instance;
use qvirt::{DomainDef, Error, ErrorCode, Result};

use crate::{Ctx, outln, read_input};

/// The VNC port shown for an `autoport` display: the first one the driver
/// would try.
const FIRST_VNC_PORT: u16 = 5900;

/// Runs `domxml-to-native`.
pub fn run(ctx: &mut Ctx, format: &str, file: &Path) -> Result<()> {
    if format != "qemu-argv" {
        return Err(Error::new(
            ErrorCode::InvalidArgument,
            format!("unsupported native format '{format}': qvirt knows only qemu-argv"),
        ));
    }
    let xml = read_input(file)?;
    let def = DomainDef::from_xml(&xml)?;
    let emulator = emulator_of(&def);
    let caps = if emulator.exists() {
        probe(&emulator)?
    } else {
        if ctx.verbose {
            eprintln!(
                "note: {} does not exist; assuming the capabilities of the oldest supported QEMU",
                emulator.display()
            );
        }
        QemuCaps::assumed(&emulator)
    };
    let layout = layout_for(&ctx.uri)?;
    let mut paths = RuntimePaths::new(layout.run_dir(&def.uuid));
    paths.serial_log = Some(layout.console_log_file(&def.name));
    paths.nvram = Some(layout.save.join(format!("{}_VARS.fd", def.name)));
    paths.vnc_port = vnc_port(&def)?;
    let argv = build_argv(&def, &caps, &paths)?;
    outln!("{}", shell_join(&argv))
}

/// The state layout the driver for `uri` uses: the embedded one under its
/// root, else the daemon instance's (a socket URI names no instance: the
/// session's is shown).
fn layout_for(uri: &str) -> Result<Layout> {
    Ok(match parse(uri)? {
        Target::Embed { root } => Layout::embedded(&root),
        Target::System => Instance::System.paths()?.layout,
        Target::Session | Target::Socket { .. } => Instance::Session.paths()?.layout,
    })
}

/// The VNC port of the first display: the one the XML fixes, or the first
/// the driver would try for `autoport`. `None` without a display.
fn vnc_port(def: &DomainDef) -> Result<Option<u16>> {
    let Some(g) = def.devices.graphics.first() else {
        return Ok(None);
    };
    let auto = g.autoport.unwrap_or(false) || g.port.is_none_or(|p| p < 0);
    if auto {
        return Ok(Some(FIRST_VNC_PORT));
    }
    let port = g.port.unwrap_or(i32::from(FIRST_VNC_PORT));
    u16::try_from(port).map(Some).map_err(|_| {
        Error::new(
            ErrorCode::ConfigInvalid,
            format!("VNC port {port} is out of range"),
        )
    })
}

/// The QEMU binary for `def`, chosen as the driver does: `<emulator>`, else
/// `qemu-system-ARCH` from `$PATH`, else from /usr/bin.
fn emulator_of(def: &DomainDef) -> PathBuf {
    if let Some(path) = &def.devices.emulator {
        return PathBuf::from(path);
    }
    let bin = if def.os.arch.as_deref() == Some("i686") {
        "qemu-system-i386"
    } else {
        "qemu-system-x86_64"
    };
    std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|p| p.join(bin))
                .find(|p| p.is_file())
        })
        .unwrap_or_else(|| Path::new("/usr/bin").join(bin))
}
