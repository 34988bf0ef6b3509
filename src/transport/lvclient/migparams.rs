//! A domain's migration speed, its running QEMU's migration parameters
//! and the switch to post-copy as libvirt's calls ([`crate::Driver::migrate_max_downtime`] and its
//! siblings).

use super::conn::Conn;
use crate::driver::Domain;
use crate::driver::error::Result;
use crate::transport::libvirt::procedures::Caller;
use crate::transport::libvirt::types::*;

/// `virDomainMigrateGetMaxSpeed`.
pub(super) fn max_speed(conn: &Conn, d: &Domain) -> Result<u64> {
    let args = MaxSpeedArgs {
        dom: Dom::from(d),
        flags: 0,
    };
    Ok(conn.domain_migrate_get_max_speed(args)?.bandwidth)
}

/// `virDomainMigrateSetMaxSpeed`.
pub(super) fn set_max_speed(conn: &Conn, d: &Domain, mib_s: u64) -> Result<()> {
    conn.domain_migrate_set_max_speed(SetMaxSpeedArgs {
        dom: Dom::from(d),
        bandwidth: mib_s,
        flags: 0,
    })
}

/// `virDomainMigrateGetMaxDowntime`.
pub(super) fn max_downtime(conn: &Conn, d: &Domain) -> Result<u64> {
    let args = MaxDowntimeArgs {
        dom: Dom::from(d),
        flags: 0,
    };
    Ok(conn.domain_migrate_get_max_downtime(args)?.downtime)
}

/// `virDomainMigrateSetMaxDowntime`.
pub(super) fn set_max_downtime(conn: &Conn, d: &Domain, ms: u64) -> Result<()> {
    conn.domain_migrate_set_max_downtime(SetMaxDowntimeArgs {
        dom: Dom::from(d),
        downtime: ms,
        flags: 0,
    })
}

/// `virDomainMigrateGetCompressionCache`.
pub(super) fn compression_cache(conn: &Conn, d: &Domain) -> Result<u64> {
    let args = CompressionCacheArgs {
        dom: Dom::from(d),
        flags: 0,
    };
    Ok(conn.domain_migrate_get_compression_cache(args)?.cache_size)
}

/// `virDomainMigrateSetCompressionCache`.
pub(super) fn set_compression_cache(conn: &Conn, d: &Domain, bytes: u64) -> Result<()> {
    conn.domain_migrate_set_compression_cache(SetCompressionCacheArgs {
        dom: Dom::from(d),
        cache_size: bytes,
        flags: 0,
    })
}

/// `virDomainMigrateStartPostCopy`.
pub(super) fn start_postcopy(conn: &Conn, d: &Domain) -> Result<()> {
    conn.domain_migrate_start_post_copy(StartPostCopyArgs {
        dom: Dom::from(d),
        flags: 0,
    })
}

/// `virDomainMigrateToURI3` peer to peer: the source's daemon drives the
/// destination named by `dest_uri` itself.
pub(super) fn migrate(
    conn: &Conn,
    d: &Domain,
    dest_uri: &str,
    options: &crate::driver::MigrateOptions,
) -> Result<()> {
    let (flags, params) = crate::transport::libvirt::migrate::request_of(options)?;
    conn.domain_migrate_perform3_params(Perform3ParamsArgs {
        dom: Dom::from(d),
        dconnuri: Some(dest_uri.to_string()),
        params,
        cookie_in: crate::transport::libvirt::xdr::Opaque(Vec::new()),
        flags,
    })
    .map(drop)
}
