//! The domains a connection lists (`virConnectListAllDomains`, with
//! libvirt's filters) and a domain's interface addresses
//! (`virDomainInterfaceAddresses`), as libvirt's calls give them.

use super::types::*;
use super::values::{self, check_flags};
use crate::driver::error::{Error, ErrorCode, Result};
use crate::driver::{AddressSource, Domain, Driver, ListFilter};

/// `virConnectListAllDomains`.
pub fn list_all(driver: &dyn Driver, a: ListAllArgs) -> Result<ListAllRet> {
    use values::list as l;
    // Snapshots and checkpoints: qvirt keeps none, so "has none"
    // passes every domain and "has some" none.
    check_flags(
        a.flags,
        l::KNOWN | l::HAS_SNAPSHOT | l::NO_SNAPSHOT | l::HAS_CHECKPOINT | l::NO_CHECKPOINT,
        "virConnectListAllDomains",
    )?;
    let wants_some = (a.flags & l::HAS_SNAPSHOT != 0 && a.flags & l::NO_SNAPSHOT == 0)
        || (a.flags & l::HAS_CHECKPOINT != 0 && a.flags & l::NO_CHECKPOINT == 0);
    let mut domains = Vec::new();
    if !wants_some {
        let filtered = a.flags & l::KNOWN != 0;
        for s in driver.list(ListFilter::ALL)? {
            // Without a filter every domain passes: no info to read
            // (a list of thousands stays one snapshot).
            if !filtered {
                domains.push(Dom::from(&s.domain));
                continue;
            }
            let info = match driver.info(&s.domain) {
                Ok(i) => i,
                // Gone since the list was taken.
                Err(e) if e.code == ErrorCode::NoDomain => continue,
                Err(e) => return Err(e),
            };
            if values::list_filter(a.flags, &info) {
                domains.push(Dom::from(&s.domain));
            }
        }
    }
    let ret = domains.len() as u32;
    if a.need_results == 0 {
        domains.clear();
    }
    Ok(ListAllRet { domains, ret })
}

/// `virDomainInterfaceAddresses`.
pub fn interface_addresses(driver: &dyn Driver, a: IfAddrArgs) -> Result<IfAddrRet> {
    check_flags(a.flags, 0, "virDomainInterfaceAddresses")?;
    let source = AddressSource::from_number(a.source).ok_or_else(|| {
        Error::new(
            ErrorCode::InvalidArgument,
            format!("unknown address source {}", a.source),
        )
    })?;
    let ifaces = driver
        .interface_addresses(&Domain::from(&a.dom), source)?
        .into_iter()
        .map(|i| Iface {
            name: i.name,
            hwaddr: Some(i.mac),
            addrs: i
                .addrs
                .into_iter()
                .map(|a| IpAddr {
                    kind: i32::from(a.ipv6),
                    addr: a.addr,
                    prefix: a.prefix,
                })
                .collect(),
        })
        .collect();
    Ok(IfAddrRet { ifaces })
}
