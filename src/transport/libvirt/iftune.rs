//! An interface's bandwidth as libvirt's `virDomainSetInterfaceParameters`
//! takes it (virsh's `domiftune` with values; its reading is in
//! `domparams.rs`): a device update ([`Driver::update_device`]) of the
//! interface as the domain has it,
//! with the bandwidth merged as libvirt's
//! qemuDomainSetInterfaceParameters merges it: a direction given with its
//! average replaces the one there (an average of 0 removes it), a
//! direction not given stays.

use super::jobstats::{ParamValue, TypedParam};
use super::resources::find_interface;
use super::types::Dom;
use super::values::check_flags;
#[allow(unused_imports)]
use super::xdr::Xdr;
use super::xdr::xdr_struct;
use crate::driver::error::{Error, ErrorCode, Result};
use crate::driver::{Domain, DomainState, Driver, ModifyFlags, XmlFlags};
use crate::model::{Bandwidth, BandwidthRate, DomainDef};

xdr_struct! {
    /// `remote_domain_set_interface_parameters_args`.
    pub struct SetIfParamsArgs { pub dom: Dom, pub device: String, pub params: Vec<TypedParam>, pub flags: u32 }
}

/// libvirt's `VIR_DOMAIN_BANDWIDTH_*` parameters.
const NAMES: [&str; 7] = [
    "inbound.average",
    "inbound.peak",
    "inbound.burst",
    "inbound.floor",
    "outbound.average",
    "outbound.peak",
    "outbound.burst",
];
/// `REMOTE_DOMAIN_INTERFACE_PARAMETERS_MAX`.
const PARAMETERS_MAX: usize = 16;

/// One direction as the parameters give it: `None` when its average
/// was not given, `Some(None)` for an average of 0 (removed).
fn direction(a: &SetIfParamsArgs, prefix: &str) -> Option<Option<BandwidthRate>> {
    let value = |name: &str| {
        a.params.iter().find_map(|p| match p.value {
            ParamValue::UInt(v) if p.field == format!("{prefix}.{name}") => Some(u64::from(v)),
            _ => None,
        })
    };
    let average = value("average")?;
    Some((average > 0).then(|| BandwidthRate {
        average,
        peak: value("peak").filter(|v| *v > 0),
        burst: value("burst").filter(|v| *v > 0),
    }))
}

/// `virDomainSetInterfaceParameters` (virsh's `domiftune` with values):
/// the running domain's and/or the definition's, each merged with what
/// it has.
pub fn set(driver: &dyn Driver, a: SetIfParamsArgs) -> Result<()> {
    check_flags(a.flags, 3, "virDomainSetInterfaceParameters")?;
    let allowed: Vec<(&str, &str)> = NAMES.iter().map(|n| (*n, "uint")).collect();
    super::tunables::validate_upto(&a.params, &allowed, PARAMETERS_MAX)?;
    let dom = Domain::from(&a.dom);
    let info = driver.info(&dom)?;
    let running = info.state != DomainState::Shutoff;
    let (live, config) = match (a.flags & 1 != 0, a.flags & 2 != 0) {
        (false, false) => (running, !running),
        both => both,
    };
    let (inbound, outbound) = (direction(&a, "inbound"), direction(&a, "outbound"));
    let floor = a
        .params
        .iter()
        .any(|p| p.field == "inbound.floor" && p.value != ParamValue::UInt(0));
    for (which, wanted) in [(true, live), (false, config)] {
        if !wanted {
            continue;
        }
        let xml = driver.xml_desc(&dom, XmlFlags::inactive_if(!which))?;
        let def = DomainDef::from_xml(&xml).map_err(Error::from)?;
        let mut net = find_interface(&def, &a.device)?.clone();
        if floor {
            return Err(Error::new(
                ErrorCode::ConfigUnsupported,
                format!(
                    "Invalid use of 'floor' on interface with MAC address {} - 'floor' is only supported for interface type 'network' with forward type 'nat', 'route', 'open' or none",
                    net.mac
                ),
            ));
        }
        let old = net.bandwidth.unwrap_or_default();
        let new = Bandwidth {
            inbound: inbound.unwrap_or(old.inbound),
            outbound: outbound.unwrap_or(old.outbound),
        };
        net.bandwidth = (new.inbound.is_some() || new.outbound.is_some()).then_some(new);
        let element = net.to_xml();
        driver.update_device(&dom, &element, ModifyFlags::new(which, !which))?;
    }
    Ok(())
}
