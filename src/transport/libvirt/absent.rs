//! What libvirt answers for kinds of objects qvirt does not keep, so that
//! management tools asking of them hear the truth rather than "not
//! supported":
//!
//! - Virtual networks: none. An `<interface type='network'>` names
//!   either `default`, which is QEMU's user networking (NAT, DHCP on
//!   192.168.122.0/24) set up for each domain alone, or a network qvirt
//!   refuses at start: no network object exists, so the counts are 0, the
//!   lists empty (as `virConnectListAllNetworks` already is) and a lookup
//!   is libvirt's `VIR_ERR_NO_NETWORK`.
//! - Security labels: qvirt confines no QEMU with a security driver
//!   (`virNodeGetSecurityModel` answers an empty model), so a domain's
//!   label is libvirt's empty one, not enforcing, and its list of labels
//!   (one per security driver) is empty.
//! - Checkpoints: qvirt makes none; a domain's list is empty and a lookup
//!   is `VIR_ERR_NO_DOMAIN_CHECKPOINT`.
//! - Network filters and their bindings: qvirt has no filter driver (an
//!   interface's `<filterref>` is refused at start), so none exist; a
//!   lookup is `VIR_ERR_NO_NWFILTER` or `VIR_ERR_NO_NWFILTER_BINDING`.

use super::delegate::refusals;
use super::frame::{code, libvirt_error};
use super::types::{
    Dom, DomArgs, ListAllArgs, ListNamesArgs, ListNamesRet, NameArgs, Network, NumRet, UuidArgs,
    XmlArgs, XmlFlagsArgs, XmlRet,
};
use super::values::check_flags;
#[allow(unused_imports)]
use super::xdr::Xdr;
use super::xdr::{Chars, xdr_struct};
use crate::driver::error::{Error, ErrorCode, Result};
use crate::driver::{Domain, Driver};
use uuid::Uuid;

xdr_struct! {
    /// `remote_network_lookup_by_name_ret` and
    /// `remote_network_lookup_by_uuid_ret`.
    pub struct NetworkRet { pub net: Network }
    /// `remote_domain_get_security_label_ret`: the label with its NUL.
    pub struct SecurityLabelRet { pub label: Chars<4097, false>, pub enforcing: i32 }
    /// `remote_domain_get_security_label_list_ret`.
    pub struct SecurityLabelListRet { pub labels: Vec<SecurityLabelRet>, pub ret: i32 }
    /// `remote_nonnull_domain_checkpoint`.
    pub struct Checkpoint { pub name: String, pub dom: Dom }
    /// `remote_domain_list_all_checkpoints_args`.
    pub struct ListCheckpointsArgs { pub dom: Dom, pub need_results: i32, pub flags: u32 }
    /// `remote_domain_list_all_checkpoints_ret`.
    pub struct ListCheckpointsRet { pub checkpoints: Vec<Checkpoint>, pub ret: i32 }
    /// `remote_domain_checkpoint_lookup_by_name_args`.
    pub struct CheckpointLookupArgs { pub dom: Dom, pub name: String, pub flags: u32 }
    /// `remote_domain_checkpoint_lookup_by_name_ret`.
    pub struct CheckpointRet { pub checkpoint: Checkpoint }
    /// `remote_nonnull_nwfilter`.
    pub struct Nwfilter { pub name: String, pub uuid: Uuid }
    /// `remote_nwfilter_lookup_by_name_ret` and `_by_uuid_ret`.
    pub struct NwfilterRet { pub nwfilter: Nwfilter }
    /// `remote_nwfilter_get_xml_desc_args`.
    pub struct NwfilterFlagsArgs { pub nwfilter: Nwfilter, pub flags: u32 }
    /// `remote_connect_list_all_nwfilters_ret`.
    pub struct ListNwfiltersRet { pub filters: Vec<Nwfilter>, pub ret: u32 }
    /// `remote_nonnull_nwfilter_binding`.
    pub struct NwfilterBinding { pub portdev: String, pub filtername: String }
    /// `remote_nwfilter_binding_lookup_by_port_dev_ret`.
    pub struct BindingRet { pub nwfilter: NwfilterBinding }
    /// `remote_connect_list_all_nwfilter_bindings_ret`.
    pub struct ListBindingsRet { pub bindings: Vec<NwfilterBinding>, pub ret: u32 }
    /// `remote_nwfilter_undefine_args`.
    pub struct NwfilterArgs { pub nwfilter: Nwfilter }
    /// `remote_nwfilter_binding_delete_args`.
    pub struct BindingArgs { pub nwfilter: NwfilterBinding }
}

/// `virConnectNumOfNetworks` and `virConnectNumOfDefinedNetworks`.
pub fn num_of_networks((): ()) -> Result<NumRet> {
    Ok(NumRet { num: 0 })
}

/// `virConnectListNetworks` and `virConnectListDefinedNetworks`.
pub fn list_networks(a: ListNamesArgs) -> Result<ListNamesRet> {
    if a.maxnames < 0 {
        return Err(Error::new(
            ErrorCode::InvalidArgument,
            format!("maxnames {} is negative", a.maxnames),
        ));
    }
    Ok(ListNamesRet { names: Vec::new() })
}

/// libvirt's error for a network that does not exist, with what the
/// name `default` is here.
fn no_network(what: String, name: Option<&str>) -> Error {
    let mut message = format!("Network not found: {what}");
    if name == Some("default") {
        message.push_str(
            " (an <interface type='network'> on 'default' is QEMU's user networking, not a network object)",
        );
    }
    libvirt_error(code::NO_NETWORK, ErrorCode::NoSupport, message)
}

/// `virNetworkLookupByName`.
pub fn network_by_name(a: NameArgs) -> Result<NetworkRet> {
    Err(no_network(
        format!("no network with matching name '{}'", a.name),
        Some(&a.name),
    ))
}

/// `virNetworkLookupByUUID`.
pub fn network_by_uuid(a: UuidArgs) -> Result<NetworkRet> {
    Err(no_network(
        format!("no network with matching uuid '{}'", a.uuid),
        None,
    ))
}

/// `virDomainGetSecurityLabel`: the domain's (which must exist) label,
/// empty and not enforced, sent with its NUL as libvirt's daemon sends
/// it.
pub fn security_label(driver: &dyn Driver, a: DomArgs) -> Result<SecurityLabelRet> {
    driver.info(&Domain::from(&a.dom))?;
    Ok(SecurityLabelRet {
        label: Chars("\0".into()),
        enforcing: 0,
    })
}

/// `virDomainGetSecurityLabelList`: one label per security driver, so
/// none.
pub fn security_label_list(driver: &dyn Driver, a: DomArgs) -> Result<SecurityLabelListRet> {
    driver.info(&Domain::from(&a.dom))?;
    Ok(SecurityLabelListRet {
        labels: Vec::new(),
        ret: 0,
    })
}

/// `VIR_DOMAIN_CHECKPOINT_LIST_*`: roots, topological, leaves, no leaves.
const CHECKPOINT_LIST_FLAGS: u32 = 0xf;

/// `virDomainListAllCheckpoints`: the domain (which must exist) has
/// none.
pub fn list_checkpoints(driver: &dyn Driver, a: ListCheckpointsArgs) -> Result<ListCheckpointsRet> {
    check_flags(
        a.flags,
        CHECKPOINT_LIST_FLAGS,
        "virDomainListAllCheckpoints",
    )?;
    driver.info(&Domain::from(&a.dom))?;
    Ok(ListCheckpointsRet {
        checkpoints: Vec::new(),
        ret: 0,
    })
}

/// `virDomainCheckpointLookupByName`: no checkpoint has the name.
pub fn checkpoint_by_name(driver: &dyn Driver, a: CheckpointLookupArgs) -> Result<CheckpointRet> {
    check_flags(a.flags, 0, "virDomainCheckpointLookupByName")?;
    driver.info(&Domain::from(&a.dom))?;
    Err(libvirt_error(
        code::NO_DOMAIN_CHECKPOINT,
        ErrorCode::NoSupport,
        format!(
            "Domain checkpoint not found: no domain checkpoint with matching name '{}'",
            a.name
        ),
    ))
}

/// `virConnectNumOfNWFilters`.
pub fn num_of_nwfilters((): ()) -> Result<NumRet> {
    Ok(NumRet { num: 0 })
}

/// `virConnectListNWFilters`.
pub fn list_nwfilters(a: ListNamesArgs) -> Result<ListNamesRet> {
    list_networks(a)
}

/// `virConnectListAllNWFilters` (which has no flags).
pub fn list_all_nwfilters(a: ListAllArgs) -> Result<ListNwfiltersRet> {
    check_flags(a.flags, 0, "virConnectListAllNWFilters")?;
    Ok(ListNwfiltersRet::default())
}

/// libvirt's error for a network filter that does not exist.
fn no_nwfilter(what: String) -> Error {
    libvirt_error(
        code::NO_NWFILTER,
        ErrorCode::NoSupport,
        format!("Network filter not found: {what}"),
    )
}

/// `virNWFilterLookupByName`.
pub fn nwfilter_by_name(a: NameArgs) -> Result<NwfilterRet> {
    Err(no_nwfilter(format!(
        "no nwfilter with matching name '{}'",
        a.name
    )))
}

/// `virNWFilterLookupByUUID`.
pub fn nwfilter_by_uuid(a: UuidArgs) -> Result<NwfilterRet> {
    Err(no_nwfilter(format!(
        "no nwfilter with matching uuid '{}'",
        a.uuid
    )))
}

/// `virNWFilterGetXMLDesc`: of a filter that cannot exist here.
pub fn nwfilter_xml(a: NwfilterFlagsArgs) -> Result<XmlRet> {
    Err(no_nwfilter(format!(
        "no nwfilter with matching uuid '{}' ({})",
        a.nwfilter.uuid, a.nwfilter.name
    )))
}

/// `virConnectListAllNWFilterBindings` (which has no flags).
pub fn list_all_bindings(a: ListAllArgs) -> Result<ListBindingsRet> {
    check_flags(a.flags, 0, "virConnectListAllNWFilterBindings")?;
    Ok(ListBindingsRet::default())
}

/// `virNWFilterBindingLookupByPortDev`.
pub fn binding_by_port(a: NameArgs) -> Result<BindingRet> {
    Err(libvirt_error(
        code::NO_NWFILTER_BINDING,
        ErrorCode::NoSupport,
        format!(
            "Network filter binding not found: no nwfilter binding for port dev '{}'",
            a.name
        ),
    ))
}
refusals! {
    why: "qvirtd has no network filter driver";
    nwfilter_define(XmlArgs) -> NwfilterRet = "virNWFilterDefineXML";
    nwfilter_define_flags(XmlFlagsArgs) -> NwfilterRet = "virNWFilterDefineXMLFlags";
    nwfilter_undefine(NwfilterArgs) -> () = "virNWFilterUndefine";
    binding_create(XmlFlagsArgs) -> BindingRet = "virNWFilterBindingCreateXML";
    binding_delete(BindingArgs) -> () = "virNWFilterBindingDelete";
}
