//! The private bus of a D-Bus display (`<graphics type='dbus'>` without
//! `p2p` or an `address`), as libvirt's qemuDBusStart runs it: a
//! `dbus-daemon` of its own per domain, on a socket in the runtime
//! directory, which QEMU joins and the display's clients connect to
//! (its address is in the running domain's XML). Started before QEMU,
//! ended with the run, kept across a manager restart as the other
//! helpers are.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::error::{Error, ErrorCode, Result};
use crate::model::DomainDef;
use crate::qemu::argv::dbus_socket;

/// The file in the run directory listing the bus's process.
const PIDS_FILE: &str = "dbus.pids";

/// The bus daemon (Debian's `dbus-daemon` package).
const PROGRAM: &str = "/usr/bin/dbus-daemon";

/// The running bus of a start, if it needs one.
pub type DbusBus = super::helper_procs::HelperProcs;

/// Whether `def` needs a private bus.
pub fn needed(def: &DomainDef) -> bool {
    def.devices
        .dbus_display
        .as_ref()
        .is_some_and(|d| !d.p2p && d.address.is_none())
}

/// The bus's configuration, as libvirt writes it: one listening socket,
/// EXTERNAL authentication (the peer's uid), everything allowed (the
/// socket's directory is the only gate, as for QEMU's other sockets).
fn config(socket: &Path) -> String {
    let mut path = String::new();
    crate::model::xmlwrite::escape_text(&socket.to_string_lossy(), &mut path);
    format!(
        "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n \
         \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n\
         <busconfig>\n  <type>org.libvirt.qemu</type>\n  <listen>unix:path={}</listen>\n  \
         <auth>EXTERNAL</auth>\n  <policy context='default'>\n    \
         <allow send_destination='*' eavesdrop='true'/>\n    <allow eavesdrop='true'/>\n    \
         <allow own='*'/>\n  </policy>\n</busconfig>\n",
        path
    )
}

/// Starts the private bus of `def` when it needs one, listening before
/// this returns; `log` takes its output.
///
/// Errors: [`ErrorCode::NoSupport`] without dbus-daemon;
/// [`ErrorCode::OperationFailed`] when it exits or does not listen.
pub fn start(def: &DomainDef, run_dir: &Path, log: &Path) -> Result<DbusBus> {
    let mut started = DbusBus::default();
    if !needed(def) {
        return Ok(started);
    }
    if !Path::new(PROGRAM).is_file() {
        return Err(Error::new(
            ErrorCode::NoSupport,
            format!(
                "cannot start domain '{}': its D-Bus display needs a bus of its own, and {PROGRAM} is not installed (Debian package dbus-daemon); or give the display p2p='yes' or an address",
                def.name
            ),
        ));
    }
    let socket = dbus_socket(run_dir);
    let conf: PathBuf = run_dir.join("dbus.conf");
    crate::sys::fsutil::write_atomic(&conf, config(&socket).as_bytes())?;
    let argv: Vec<OsString> = vec![
        PROGRAM.into(),
        format!("--config-file={}", conf.display()).into(),
        "--nofork".into(),
        "--nopidfile".into(),
    ];
    started.spawn_listening(&argv, &socket, log, &def.name, "dbus-daemon")?;
    started.record(run_dir, PIDS_FILE)?;
    Ok(started)
}

/// Ends the bus of a run that is over.
pub fn stop(run_dir: &Path) {
    super::helper_procs::stop(run_dir, PIDS_FILE);
}
