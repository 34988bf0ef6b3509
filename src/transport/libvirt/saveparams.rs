//! libvirt's ways to save and restore with a state or a new definition:
//! `virDomainSaveFlags`, `virDomainRestoreFlags`, `virDomainManagedSave`
//! with `VIR_DOMAIN_SAVE_RUNNING` or `_PAUSED` (virsh's `--running`,
//! `--paused`) and a replacement XML (`--xml`), and
//! `virDomainSaveParams`/`virDomainRestoreParams` (the file and XML as
//! typed parameters; a save without a file is a managed save), onto
//! [`Driver::save_with`], [`Driver::managed_save_with`] and
//! [`Driver::restore_with`].

use std::path::PathBuf;

use super::jobstats::{ParamValue, TypedParam};
use super::types::{Dom, DomFlagsArgs, RestoreFlagsArgs, SaveFlagsArgs};
use super::values::check_flags;
#[allow(unused_imports)]
use super::xdr::Xdr;
use super::xdr::xdr_struct;
use crate::driver::error::{Error, ErrorCode, Result};
use crate::driver::{Domain, Driver, RestoreOptions, SaveOptions};

xdr_struct! {
    /// `remote_domain_save_params_args`.
    pub struct SaveParamsArgs { pub dom: Dom, pub params: Vec<TypedParam>, pub flags: u32 }
    /// `remote_domain_restore_params_args`.
    pub struct RestoreParamsArgs { pub params: Vec<TypedParam>, pub flags: u32 }
}

/// `VIR_DOMAIN_SAVE_BYPASS_CACHE`, `_RUNNING`, `_PAUSED`,
/// `_RESET_NVRAM`.
const BYPASS_CACHE: u32 = 1;
const RUNNING: u32 = 2;
const PAUSED: u32 = 4;
const RESET_NVRAM: u32 = 8;

/// The state a restore takes of `flags` (`None`: as saved); the flags
/// qvirt does not apply are refused by name.
fn state(flags: u32, function: &str) -> Result<Option<bool>> {
    if flags & BYPASS_CACHE != 0 {
        return Err(Error::new(
            ErrorCode::ArgumentUnsupported,
            format!(
                "{function}: VIR_DOMAIN_SAVE_BYPASS_CACHE is not supported: qvirt writes and reads save images through the page cache"
            ),
        ));
    }
    if flags & RESET_NVRAM != 0 {
        return Err(Error::new(
            ErrorCode::ArgumentUnsupported,
            format!("{function}: VIR_DOMAIN_SAVE_RESET_NVRAM is not supported"),
        ));
    }
    check_flags(flags, RUNNING | PAUSED, function)?;
    match (flags & RUNNING != 0, flags & PAUSED != 0) {
        (true, true) => Err(Error::new(
            ErrorCode::InvalidArgument,
            format!(
                "{function}: flags 'VIR_DOMAIN_SAVE_RUNNING' and 'VIR_DOMAIN_SAVE_PAUSED' are mutually exclusive"
            ),
        )),
        (true, false) => Ok(Some(true)),
        (false, true) => Ok(Some(false)),
        (false, false) => Ok(None),
    }
}

/// Saves `dom` to `to` (or, without, its managed save image) so that the
/// restore starts `dxml` (or the live definition) in the state `flags`
/// ask for.
pub fn save(
    driver: &dyn Driver,
    dom: &Domain,
    to: Option<&str>,
    dxml: Option<String>,
    flags: u32,
    function: &str,
) -> Result<()> {
    let options = SaveOptions {
        running: state(flags, function)?,
        xml: dxml,
        ..SaveOptions::default()
    };
    match to {
        Some(to) => driver.save_with(dom, &PathBuf::from(to), options),
        None => driver.managed_save_with(dom, options),
    }
}

/// Restores from `from`, starting `dxml` (or the image's definition) in
/// the state `flags` ask for.
pub fn restore(
    driver: &dyn Driver,
    from: &str,
    dxml: Option<String>,
    flags: u32,
    function: &str,
) -> Result<()> {
    let options = RestoreOptions {
        running: state(flags, function)?,
        xml: dxml,
    };
    driver.restore_with(&PathBuf::from(from), options).map(drop)
}

/// The `file` and `dxml` of typed parameters, libvirt's only two.
fn file_and_xml(
    params: Vec<TypedParam>,
    function: &str,
) -> Result<(Option<String>, Option<String>)> {
    let (mut file, mut dxml) = (None, None);
    for p in params {
        let slot = match p.field.as_str() {
            "file" => &mut file,
            "dxml" => &mut dxml,
            f => {
                return Err(Error::new(
                    ErrorCode::ArgumentUnsupported,
                    format!("{function}: parameter '{f}' not supported"),
                ));
            }
        };
        match p.value {
            ParamValue::String(v) => *slot = Some(v),
            other => {
                return Err(Error::new(
                    ErrorCode::InvalidArgument,
                    format!(
                        "invalid type '{}' for parameter '{}'",
                        super::tunables::type_name(&other),
                        p.field
                    ),
                ));
            }
        }
    }
    Ok((file, dxml))
}

/// `virDomainSaveFlags`.
pub fn save_flags(driver: &dyn Driver, a: SaveFlagsArgs) -> Result<()> {
    let dom = a.dom.into();
    save(
        driver,
        &dom,
        Some(&a.to),
        a.dxml,
        a.flags,
        "virDomainSaveFlags",
    )
}

/// `virDomainRestoreFlags`.
pub fn restore_flags(driver: &dyn Driver, a: RestoreFlagsArgs) -> Result<()> {
    restore(driver, &a.from, a.dxml, a.flags, "virDomainRestoreFlags")
}

/// `virDomainManagedSave`.
pub fn managed_save(driver: &dyn Driver, a: DomFlagsArgs) -> Result<()> {
    let dom = a.dom.into();
    save(driver, &dom, None, None, a.flags, "virDomainManagedSave")
}

/// `virDomainAbortJobFlags`: as `virDomainAbortJob`; pausing a
/// migration's post-copy phase (`VIR_DOMAIN_ABORT_JOB_POSTCOPY`) is
/// refused by name.
pub fn abort_job_flags(driver: &dyn Driver, a: DomFlagsArgs) -> Result<()> {
    if a.flags & 1 != 0 {
        return Err(Error::new(
            ErrorCode::ArgumentUnsupported,
            "virDomainAbortJobFlags: VIR_DOMAIN_ABORT_JOB_POSTCOPY is not supported: qvirt cannot pause a post-copy migration to recover it later",
        ));
    }
    check_flags(a.flags, 0, "virDomainAbortJobFlags")?;
    driver.job_abort(&a.dom.into())
}

/// `virDomainSaveParams`: without a file, a managed save.
pub fn save_params(driver: &dyn Driver, a: SaveParamsArgs) -> Result<()> {
    let (file, dxml) = file_and_xml(a.params, "virDomainSaveParams")?;
    let dom = a.dom.into();
    save(
        driver,
        &dom,
        file.as_deref(),
        dxml,
        a.flags,
        "virDomainSaveParams",
    )
}

/// `virDomainRestoreParams`: the file is needed.
pub fn restore_params(driver: &dyn Driver, a: RestoreParamsArgs) -> Result<()> {
    let (file, dxml) = file_and_xml(a.params, "virDomainRestoreParams")?;
    let from =
        file.ok_or_else(|| Error::new(ErrorCode::InvalidArgument, "missing path to restore from"))?;
    restore(driver, &from, dxml, a.flags, "virDomainRestoreParams")
}
