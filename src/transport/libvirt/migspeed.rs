//! A domain's migration speed as libvirt's calls give and set it
//! (virsh's `migrate-getspeed` and `migrate-setspeed`), through
//! [`Driver::migrate_max_speed`] and [`Driver::migrate_set_max_speed`].
//! The post-copy speed (`VIR_DOMAIN_MIGRATE_MAX_SPEED_POSTCOPY`) is
//! refused by name: qvirt's post-copy phase runs at QEMU's default.

use super::types::Dom;
use super::values::check_flags;
#[allow(unused_imports)]
use super::xdr::Xdr;
use super::xdr::xdr_struct;
use crate::driver::error::{Error, ErrorCode, Result};
use crate::driver::{Domain, Driver};

xdr_struct! {
    /// `remote_domain_migrate_set_max_speed_args`.
    pub struct SetMaxSpeedArgs { pub dom: Dom, pub bandwidth: u64, pub flags: u32 }
    /// `remote_domain_migrate_get_max_speed_args`.
    pub struct MaxSpeedArgs { pub dom: Dom, pub flags: u32 }
    /// `remote_domain_migrate_get_max_speed_ret`.
    pub struct MaxSpeedRet { pub bandwidth: u64 }
}

/// `VIR_DOMAIN_MIGRATE_MAX_SPEED_POSTCOPY`.
const POSTCOPY: u32 = 1;

/// Refuses the post-copy speed by name, and flags libvirt does not know.
fn check(flags: u32, function: &str) -> Result<()> {
    check_flags(flags, POSTCOPY, function)?;
    if flags & POSTCOPY != 0 {
        return Err(Error::new(
            ErrorCode::NoSupport,
            format!(
                "{function}: the post-copy migration speed (VIR_DOMAIN_MIGRATE_MAX_SPEED_POSTCOPY) is not offered: qvirt's post-copy phase runs at QEMU's default speed"
            ),
        ));
    }
    Ok(())
}

/// `virDomainMigrateGetMaxSpeed`: MiB/s.
pub fn get_max_speed(driver: &dyn Driver, a: MaxSpeedArgs) -> Result<MaxSpeedRet> {
    check(a.flags, "virDomainMigrateGetMaxSpeed")?;
    Ok(MaxSpeedRet {
        bandwidth: driver.migrate_max_speed(&Domain::from(&a.dom))?,
    })
}

/// `virDomainMigrateSetMaxSpeed`: MiB/s.
pub fn set_max_speed(driver: &dyn Driver, a: SetMaxSpeedArgs) -> Result<()> {
    check(a.flags, "virDomainMigrateSetMaxSpeed")?;
    driver.migrate_set_max_speed(&Domain::from(&a.dom), a.bandwidth)
}
