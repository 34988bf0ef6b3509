//! What libvirt's protocol leaves to its client in a shutdown that
//! waits and in a restore: polling the state until the guest is off, and
//! finding which domain a restore started.

use std::path::Path;
use std::time::{Duration, Instant};

use uuid::Uuid;

use super::conn::Conn;
use super::driver::dom_args;
use crate::driver::error::{Error, ErrorCode, Result};
use crate::driver::{
    Domain, DomainState, Driver, ListFilter, RestoreOptions, SaveOptions, ShutdownOptions,
};
use crate::transport::libvirt::jobstats::{ParamValue, TypedParam};
use crate::transport::libvirt::procedures::Caller;
use crate::transport::libvirt::types::{
    Dom, DomFlagsArgs, RestoreArgs, RestoreFlagsArgs, SaveFlagsArgs, SaveParamsArgs,
};
use crate::transport::libvirt::values::state_of;

/// How often a waiting shutdown asks the guest again.
const SHUTDOWN_AGAIN: Duration = Duration::from_secs(2);

/// After a shutdown request: libvirt's shutdown never waits, so the
/// state is polled until `wait` has passed, asking again now and then,
/// as qvirt's own waiting shutdown does (a guest early in its boot does
/// not hear the first press of the power button).
pub(super) fn wait_shutdown(
    driver: &dyn Driver,
    conn: &Conn,
    d: &Domain,
    wait: Duration,
    options: ShutdownOptions,
) -> Result<()> {
    let deadline = Instant::now() + wait;
    let mut asked = Instant::now();
    loop {
        if asked.elapsed() >= SHUTDOWN_AGAIN {
            asked = Instant::now();
            // The domain may be stopping already: only the state read
            // below says how it went.
            let _ = conn.domain_shutdown(dom_args(d));
        }
        let state = conn
            .domain_get_state(DomFlagsArgs {
                dom: Dom::from(d),
                flags: 0,
            })
            .map(|r| state_of(r.state));
        match state {
            Ok(DomainState::Shutoff) => return Ok(()),
            Err(e) if e.code == ErrorCode::NoDomain => return Ok(()),
            Err(e) => return Err(e),
            Ok(_) => {}
        }
        if Instant::now() >= deadline {
            if options.destroy_on_timeout {
                return driver.destroy(d);
            }
            return Err(Error::new(
                ErrorCode::Timeout,
                format!("domain '{}' did not shut down within {wait:?}", d.name),
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// [`Driver::restore`]: libvirt's restore names no domain, so the one
/// that runs after it and did not before is the one restored.
pub(super) fn restore(
    driver: &dyn Driver,
    conn: &Conn,
    path: &Path,
    options: RestoreOptions,
) -> Result<Domain> {
    let before: Vec<Uuid> = driver
        .list(ListFilter::ACTIVE)?
        .into_iter()
        .map(|s| s.domain.uuid)
        .collect();
    let from = path.display().to_string();
    if options == RestoreOptions::default() {
        conn.domain_restore(RestoreArgs { from })?;
    } else {
        conn.domain_restore_flags(RestoreFlagsArgs {
            from,
            dxml: options.xml,
            flags: save_state_flags(options.running),
        })?;
    }
    let mut new: Vec<Domain> = driver
        .list(ListFilter::ACTIVE)?
        .into_iter()
        .map(|s| s.domain)
        .filter(|d| !before.contains(&d.uuid))
        .collect();
    match new.len() {
        1 => Ok(new.remove(0)),
        n => Err(Error::new(
            ErrorCode::OperationFailed,
            format!(
                "{} was restored, but libvirt's reply names no domain and {n} domains started meanwhile",
                path.display()
            ),
        )),
    }
}

/// libvirt's `VIR_DOMAIN_SAVE_RUNNING` (2) or `_PAUSED` (4) of the state
/// a restore takes.
fn save_state_flags(running: Option<bool>) -> u32 {
    match running {
        Some(true) => 2,
        Some(false) => 4,
        None => 0,
    }
}

/// `virDomainSaveFlags` (to `path`) or `virDomainManagedSave` (without)
/// with the state and definition `options` give the restore.
pub(super) fn save(
    conn: &Conn,
    d: &Domain,
    path: Option<&Path>,
    options: SaveOptions,
) -> Result<()> {
    if options.bandwidth_mib_s.is_some() {
        return Err(super::driver::no_call("save with a bandwidth limit"));
    }
    let flags = save_state_flags(options.running);
    match path {
        Some(path) => conn.domain_save_flags(SaveFlagsArgs {
            dom: Dom::from(d),
            to: path.display().to_string(),
            dxml: options.xml,
            flags,
        }),
        // virDomainSaveParams without a file is a managed save.
        None if options.xml.is_some() => conn.domain_save_params(SaveParamsArgs {
            dom: Dom::from(d),
            params: vec![TypedParam {
                field: "dxml".into(),
                value: ParamValue::String(options.xml.unwrap_or_default()),
            }],
            flags,
        }),
        None => conn.domain_managed_save(DomFlagsArgs {
            dom: Dom::from(d),
            flags,
        }),
    }
}
