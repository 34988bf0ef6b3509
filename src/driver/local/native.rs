//! A domain XML document as the QEMU command line a start would run
//! (libvirt's `domxml-to-native qemu-argv`): the same choices a start
//! makes (firmware, NVRAM path, clock start, tap names, the first display
//! port it would try), under a state layout, without starting anything.

use std::ffi::OsString;

use super::layout::Layout;
use super::tuning;
use crate::error::{Error, ErrorCode, Result};
use crate::model::DomainDef;
use crate::qemu::argv::{RuntimePaths, build_argv};
use crate::qemu::caps::QemuCaps;

/// libvirt's only native format for QEMU.
pub const QEMU_ARGV: &str = "qemu-argv";

/// Refuses every native format but [`QEMU_ARGV`], naming it.
pub fn check_format(format: &str) -> Result<()> {
    if format == QEMU_ARGV {
        Ok(())
    } else {
        Err(Error::new(
            ErrorCode::InvalidArgument,
            format!("unsupported native format '{format}': qvirt knows only qemu-argv"),
        ))
    }
}

/// The command line a start of `def` under `layout` would run with the
/// QEMU of `caps`.
pub fn argv_for(mut def: DomainDef, caps: &QemuCaps, layout: &Layout) -> Result<Vec<OsString>> {
    let mut paths = RuntimePaths::new(layout.run_dir(&def.uuid));
    tuning::plan(&mut def, caps, layout, &mut paths)?;
    tuning::preview_taps(&mut def);
    paths.vnc_port = tuning::display_port(&def, &[], false)?;
    paths.websocket_port = tuning::websocket_port(&def, &[], false)?;
    let taken: Vec<u16> = paths.vnc_port.into_iter().collect();
    let tls_on = paths.spice_tls_dir.is_some();
    paths.spice_tls_port = tuning::spice_tls_port(&def, &taken, false, tls_on)?;
    tuning::preview_vsock(&mut def);
    build_argv(&def, caps, &paths)
}
