//! What libvirt's protocol leaves to its client in a shutdown that
//! waits and in a restore: polling the state until the guest is off, and
//! finding which domain a restore started.

use std::path::Path;
use std::time::{Duration, Instant};

use uuid::Uuid;

use super::conn::Conn;
use super::driver::dom_args;
use crate::driver::error::{Error, ErrorCode, Result};
use crate::driver::{Domain, DomainState, Driver, ListFilter, ShutdownOptions};
use crate::transport::libvirt::procedures::Caller;
use crate::transport::libvirt::types::{Dom, DomFlagsArgs, RestoreArgs};
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
pub(super) fn restore(driver: &dyn Driver, conn: &Conn, path: &Path) -> Result<Domain> {
    let before: Vec<Uuid> = driver
        .list(ListFilter::ACTIVE)?
        .into_iter()
        .map(|s| s.domain.uuid)
        .collect();
    conn.domain_restore(RestoreArgs {
        from: path.display().to_string(),
    })?;
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
