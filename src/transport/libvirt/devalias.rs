//! `virDomainDetachDeviceAlias` (virsh's `detach-device-alias`): the
//! device is named by its alias, and the flags are the affect flags
//! libvirt's QEMU driver takes for it (live, config), then
//! [`Driver::detach_device_alias`].

use super::types::Dom;
use super::values::{affect, check_flags};
#[allow(unused_imports)]
use super::xdr::Xdr;
use super::xdr::xdr_struct;
use crate::driver::error::Result;
use crate::driver::{Domain, Driver, ModifyFlags};

xdr_struct! {
    /// `remote_domain_detach_device_alias_args`.
    pub struct DetachAliasArgs { pub dom: Dom, pub alias: String, pub flags: u32 }
}

/// `virDomainDetachDeviceAlias`.
pub fn detach_device_alias(driver: &dyn Driver, a: DetachAliasArgs) -> Result<()> {
    check_flags(
        a.flags,
        affect::LIVE | affect::CONFIG,
        "virDomainDetachDeviceAlias",
    )?;
    let flags = ModifyFlags::new(a.flags & affect::LIVE != 0, a.flags & affect::CONFIG != 0);
    driver.detach_device_alias(&Domain::from(&a.dom), &a.alias, flags)
}
