//! A running domain's migration parameters as libvirt's calls give and
//! set them (virsh's `migrate-setmaxdowntime`, `migrate-getmaxdowntime`
//! and `migrate-compcache`), through [`Driver::migrate_max_downtime`] and
//! its siblings, and the switch of a migration to post-copy
//! (`migrate-postcopy`). libvirt knows no flags for any of them.

use super::types::Dom;
use super::values::check_flags;
#[allow(unused_imports)]
use super::xdr::Xdr;
use super::xdr::xdr_struct;
use crate::driver::error::Result;
use crate::driver::{Domain, Driver};

xdr_struct! {
    /// `remote_domain_migrate_set_max_downtime_args`.
    pub struct SetMaxDowntimeArgs { pub dom: Dom, pub downtime: u64, pub flags: u32 }
    /// `remote_domain_migrate_get_max_downtime_args`.
    pub struct MaxDowntimeArgs { pub dom: Dom, pub flags: u32 }
    /// `remote_domain_migrate_get_max_downtime_ret`.
    pub struct MaxDowntimeRet { pub downtime: u64 }
    /// `remote_domain_migrate_set_compression_cache_args`.
    pub struct SetCompressionCacheArgs { pub dom: Dom, pub cache_size: u64, pub flags: u32 }
    /// `remote_domain_migrate_get_compression_cache_args`.
    pub struct CompressionCacheArgs { pub dom: Dom, pub flags: u32 }
    /// `remote_domain_migrate_get_compression_cache_ret`.
    pub struct CompressionCacheRet { pub cache_size: u64 }
    /// `remote_domain_migrate_start_post_copy_args`.
    pub struct StartPostCopyArgs { pub dom: Dom, pub flags: u32 }
}

/// `virDomainMigrateGetMaxDowntime`: milliseconds.
pub fn get_max_downtime(driver: &dyn Driver, a: MaxDowntimeArgs) -> Result<MaxDowntimeRet> {
    check_flags(a.flags, 0, "virDomainMigrateGetMaxDowntime")?;
    Ok(MaxDowntimeRet {
        downtime: driver.migrate_max_downtime(&Domain::from(&a.dom))?,
    })
}

/// `virDomainMigrateSetMaxDowntime`: milliseconds.
pub fn set_max_downtime(driver: &dyn Driver, a: SetMaxDowntimeArgs) -> Result<()> {
    check_flags(a.flags, 0, "virDomainMigrateSetMaxDowntime")?;
    driver.migrate_set_max_downtime(&Domain::from(&a.dom), a.downtime)
}

/// `virDomainMigrateGetCompressionCache`: bytes.
pub fn get_compression_cache(
    driver: &dyn Driver,
    a: CompressionCacheArgs,
) -> Result<CompressionCacheRet> {
    check_flags(a.flags, 0, "virDomainMigrateGetCompressionCache")?;
    Ok(CompressionCacheRet {
        cache_size: driver.migrate_compression_cache(&Domain::from(&a.dom))?,
    })
}

/// `virDomainMigrateSetCompressionCache`: bytes.
pub fn set_compression_cache(driver: &dyn Driver, a: SetCompressionCacheArgs) -> Result<()> {
    check_flags(a.flags, 0, "virDomainMigrateSetCompressionCache")?;
    driver.migrate_set_compression_cache(&Domain::from(&a.dom), a.cache_size)
}

/// `virDomainMigrateStartPostCopy`.
pub fn start_post_copy(driver: &dyn Driver, a: StartPostCopyArgs) -> Result<()> {
    check_flags(a.flags, 0, "virDomainMigrateStartPostCopy")?;
    driver.migrate_start_postcopy(&Domain::from(&a.dom))
}
