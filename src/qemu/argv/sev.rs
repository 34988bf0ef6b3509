//! `<launchSecurity type='sev'>`: QEMU's `sev-guest` object, which the
//! machine names as its confidential guest support, as libvirt's
//! qemuBuildSEVCommandLine builds it. The guest owner's certificate and
//! session data go to QEMU in files of the run directory, which the
//! driver writes before QEMU starts (as libvirt writes them in the
//! domain's private directory).

use std::path::{Path, PathBuf};

use super::opts::Opts;
use super::{Ctx, runtime_path};
use crate::error::Error;
use crate::model::{DomainDef, LaunchSecurity};

/// The id of the launch security object.
const ID: &str = "lsec0";

/// The file QEMU reads `<dhCert>` from, in run directory `run_dir`.
pub fn sev_dh_cert_file(run_dir: &Path) -> PathBuf {
    run_dir.join("dh_cert.base64")
}

/// The file QEMU reads `<session>` from, in run directory `run_dir`.
pub fn sev_session_file(run_dir: &Path) -> PathBuf {
    run_dir.join("session.base64")
}

/// The `-machine` option that names the launch security object.
pub fn machine_option(def: &DomainDef) -> Option<&'static str> {
    def.launch_security.as_ref().map(|_| ID)
}

/// `-object sev-guest,...`.
pub fn emit(cx: &mut Ctx<'_>) -> Result<(), Error> {
    let Some(LaunchSecurity::Sev(s)) = &cx.def.launch_security else {
        return Ok(());
    };
    let run_dir = &cx.paths.runtime_dir;
    let mut o = Opts::new("sev-guest")
        .set("id", ID)
        .set("cbitpos", s.cbitpos)
        .set("reduced-phys-bits", s.reduced_phys_bits)
        .set("policy", format!("0x{:x}", s.policy));
    if s.dh_cert.is_some() {
        let f = sev_dh_cert_file(run_dir);
        o = o.set("dh-cert-file", runtime_path("SEV certificate file", &f)?);
    }
    if s.session.is_some() {
        let f = sev_session_file(run_dir);
        o = o.set("session-file", runtime_path("SEV session file", &f)?);
    }
    let o = o.maybe_switch("kernel-hashes", s.kernel_hashes);
    cx.arg("-object", o.build());
    Ok(())
}
