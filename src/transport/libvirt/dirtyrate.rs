//! `virDomainStartDirtyRateCalc` (virsh's `domdirtyrate-calc`): the
//! mode by libvirt's flags, then [`Driver::dirty_rate_calc`]; the
//! result comes back in `domstats`' `dirtyrate` group.

use super::types::Dom;
use super::values::check_flags;
#[allow(unused_imports)]
use super::xdr::Xdr;
use super::xdr::xdr_struct;
use crate::driver::error::Result;
use crate::driver::{DirtyRateMode, Domain, Driver};

xdr_struct! {
    /// `remote_domain_start_dirty_rate_calc_args`.
    pub struct DirtyRateCalcArgs { pub dom: Dom, pub seconds: i32, pub flags: u32 }
}

/// `VIR_DOMAIN_DIRTYRATE_MODE_DIRTY_BITMAP` and `_DIRTY_RING`.
const DIRTY_BITMAP: u32 = 1;
const DIRTY_RING: u32 = 2;

/// `virDomainStartDirtyRateCalc`.
pub fn start_dirty_rate_calc(driver: &dyn Driver, a: DirtyRateCalcArgs) -> Result<()> {
    check_flags(
        a.flags,
        DIRTY_BITMAP | DIRTY_RING,
        "virDomainStartDirtyRateCalc",
    )?;
    let mode = if a.flags & DIRTY_BITMAP != 0 {
        DirtyRateMode::DirtyBitmap
    } else if a.flags & DIRTY_RING != 0 {
        DirtyRateMode::DirtyRing
    } else {
        DirtyRateMode::PageSampling
    };
    driver.dirty_rate_calc(&Domain::from(&a.dom), a.seconds, mode)
}
