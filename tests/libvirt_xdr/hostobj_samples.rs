//! The samples of the procedures on the host's interfaces, devices and
//! network filters (see `samples.rs`).

use qvirt::transport::libvirt::procedures::{Call, Procedure, Reply};
use qvirt::transport::libvirt::types::*;
use uuid::Uuid;

fn iface() -> HostIface {
    HostIface {
        name: "br0".into(),
        mac: "52:54:00:12:34:56".into(),
    }
}

fn filter() -> Nwfilter {
    Nwfilter {
        name: "clean-traffic".into(),
        uuid: Uuid::from_u128(0x2a1b_3c4d_5e6f_4a7b_8c9d_0e1f_2a3b_4c5d),
    }
}

fn binding() -> NwfilterBinding {
    NwfilterBinding {
        portdev: "vnet0".into(),
        filtername: "clean-traffic".into(),
    }
}

fn name(n: &str) -> NameArgs {
    NameArgs { name: n.into() }
}

fn names(n: &[&str]) -> ListNamesRet {
    ListNamesRet {
        names: n.iter().map(|s| s.to_string()).collect(),
    }
}

fn all(flags: u32) -> ListAllArgs {
    ListAllArgs {
        need_results: 1,
        flags,
    }
}

const PCI: &str = "pci_0000_00_1f_2";

/// The sample call of procedure `p`.
pub fn call(p: Procedure) -> Call {
    use Procedure as P;
    let max = || ListNamesArgs { maxnames: 16 };
    match p {
        P::ConnectNumOfInterfaces => Call::ConnectNumOfInterfaces(()),
        P::ConnectListInterfaces => Call::ConnectListInterfaces(max()),
        P::ConnectNumOfDefinedInterfaces => Call::ConnectNumOfDefinedInterfaces(()),
        P::ConnectListDefinedInterfaces => Call::ConnectListDefinedInterfaces(max()),
        P::ConnectListAllInterfaces => Call::ConnectListAllInterfaces(all(2)),
        P::InterfaceLookupByName => Call::InterfaceLookupByName(name("br0")),
        P::InterfaceLookupByMacString => Call::InterfaceLookupByMacString(MacArgs {
            mac: "52:54:00:12:34:56".into(),
        }),
        P::InterfaceGetXmlDesc => Call::InterfaceGetXmlDesc(IfaceFlagsArgs {
            iface: iface(),
            flags: 1,
        }),
        P::InterfaceIsActive => Call::InterfaceIsActive(IfaceArgs { iface: iface() }),
        P::NodeNumOfDevices => Call::NodeNumOfDevices(NodeNumArgs {
            cap: Some("pci".into()),
            flags: 0,
        }),
        P::NodeListDevices => Call::NodeListDevices(NodeListArgs {
            cap: None,
            maxnames: 64,
            flags: 0,
        }),
        P::ConnectListAllNodeDevices => Call::ConnectListAllNodeDevices(all(2 | 1 << 31)),
        P::NodeDeviceLookupByName => Call::NodeDeviceLookupByName(name(PCI)),
        P::NodeDeviceGetXmlDesc => Call::NodeDeviceGetXmlDesc(NameFlagsArgs {
            name: PCI.into(),
            flags: 0,
        }),
        P::NodeDeviceGetParent => Call::NodeDeviceGetParent(name(PCI)),
        P::NodeDeviceNumOfCaps => Call::NodeDeviceNumOfCaps(name(PCI)),
        P::NodeDeviceListCaps => Call::NodeDeviceListCaps(ListCapsArgs {
            name: PCI.into(),
            maxnames: 1,
        }),
        P::NodeDeviceGetAutostart => Call::NodeDeviceGetAutostart(name(PCI)),
        P::NodeDeviceIsPersistent => Call::NodeDeviceIsPersistent(name(PCI)),
        P::NodeDeviceIsActive => Call::NodeDeviceIsActive(name(PCI)),
        P::ConnectNumOfNwfilters => Call::ConnectNumOfNwfilters(()),
        P::ConnectListNwfilters => Call::ConnectListNwfilters(max()),
        P::ConnectListAllNwfilters => Call::ConnectListAllNwfilters(all(0)),
        P::NwfilterLookupByName => Call::NwfilterLookupByName(name("clean-traffic")),
        P::NwfilterLookupByUuid => Call::NwfilterLookupByUuid(UuidArgs {
            uuid: filter().uuid,
        }),
        P::NwfilterGetXmlDesc => Call::NwfilterGetXmlDesc(NwfilterFlagsArgs {
            nwfilter: filter(),
            flags: 0,
        }),
        P::ConnectListAllNwfilterBindings => Call::ConnectListAllNwfilterBindings(all(0)),
        P::NwfilterBindingLookupByPortDev => Call::NwfilterBindingLookupByPortDev(name("vnet0")),
        P::InterfaceDefineXml => Call::InterfaceDefineXml(XmlFlagsArgs {
            xml: "<interface type='ethernet' name='eth9'/>".into(),
            flags: 0,
        }),
        P::InterfaceUndefine => Call::InterfaceUndefine(IfaceArgs { iface: iface() }),
        P::InterfaceCreate => Call::InterfaceCreate(IfaceFlagsArgs {
            iface: iface(),
            flags: 0,
        }),
        P::InterfaceDestroy => Call::InterfaceDestroy(IfaceFlagsArgs {
            iface: iface(),
            flags: 0,
        }),
        P::InterfaceChangeBegin => Call::InterfaceChangeBegin(FlagsArgs { flags: 0 }),
        P::InterfaceChangeCommit => Call::InterfaceChangeCommit(FlagsArgs { flags: 0 }),
        P::InterfaceChangeRollback => Call::InterfaceChangeRollback(FlagsArgs { flags: 0 }),
        P::NodeDeviceDettach => Call::NodeDeviceDettach(name(PCI)),
        P::NodeDeviceDetachFlags => Call::NodeDeviceDetachFlags(DetachFlagsArgs {
            name: PCI.into(),
            driver_name: Some("vfio".into()),
            flags: 0,
        }),
        P::NodeDeviceReAttach => Call::NodeDeviceReAttach(name(PCI)),
        P::NodeDeviceReset => Call::NodeDeviceReset(name(PCI)),
        P::NodeDeviceCreateXml => Call::NodeDeviceCreateXml(XmlFlagsArgs {
            xml: "<device/>".into(),
            flags: 0,
        }),
        P::NodeDeviceDestroy => Call::NodeDeviceDestroy(name(PCI)),
        P::NodeDeviceDefineXml => Call::NodeDeviceDefineXml(XmlFlagsArgs {
            xml: "<device/>".into(),
            flags: 1,
        }),
        P::NodeDeviceUndefine => Call::NodeDeviceUndefine(NameFlagsArgs {
            name: PCI.into(),
            flags: 0,
        }),
        P::NodeDeviceCreate => Call::NodeDeviceCreate(NameFlagsArgs {
            name: PCI.into(),
            flags: 0,
        }),
        P::NodeDeviceSetAutostart => Call::NodeDeviceSetAutostart(SetAutostartNameArgs {
            name: PCI.into(),
            autostart: 1,
        }),
        P::NwfilterDefineXml => Call::NwfilterDefineXml(XmlArgs {
            xml: "<filter name='f'/>".into(),
        }),
        P::NwfilterDefineXmlFlags => Call::NwfilterDefineXmlFlags(XmlFlagsArgs {
            xml: "<filter name='f'/>".into(),
            flags: 1,
        }),
        P::NwfilterUndefine => Call::NwfilterUndefine(NwfilterArgs { nwfilter: filter() }),
        P::NwfilterBindingCreateXml => Call::NwfilterBindingCreateXml(XmlFlagsArgs {
            xml: "<filterbinding/>".into(),
            flags: 0,
        }),
        P::NwfilterBindingDelete => Call::NwfilterBindingDelete(BindingArgs {
            nwfilter: binding(),
        }),
        other => unreachable!("{other:?} is sampled elsewhere"),
    }
}

/// The sample successful reply of procedure `p`.
pub fn reply(p: Procedure) -> Reply {
    use Procedure as P;
    let xml = || XmlRet {
        xml: "<device>\n  <name>computer</name>\n</device>\n".into(),
    };
    let int = |value| IntRet { value };
    match p {
        P::ConnectNumOfInterfaces => Reply::ConnectNumOfInterfaces(NumRet { num: 2 }),
        P::ConnectListInterfaces => Reply::ConnectListInterfaces(names(&["br0", "eth0"])),
        P::ConnectNumOfDefinedInterfaces => Reply::ConnectNumOfDefinedInterfaces(NumRet { num: 1 }),
        P::ConnectListDefinedInterfaces => Reply::ConnectListDefinedInterfaces(names(&["eth1"])),
        P::ConnectListAllInterfaces => Reply::ConnectListAllInterfaces(ListIfacesRet {
            ifaces: vec![iface()],
            ret: 1,
        }),
        P::InterfaceLookupByName => Reply::InterfaceLookupByName(IfaceRet { iface: iface() }),
        P::InterfaceLookupByMacString => {
            Reply::InterfaceLookupByMacString(IfaceRet { iface: iface() })
        }
        P::InterfaceGetXmlDesc => Reply::InterfaceGetXmlDesc(XmlRet {
            xml: "<interface type='bridge' name='br0'>\n</interface>\n".into(),
        }),
        P::InterfaceIsActive => Reply::InterfaceIsActive(int(1)),
        P::NodeNumOfDevices => Reply::NodeNumOfDevices(NumRet { num: 6 }),
        P::NodeListDevices => Reply::NodeListDevices(names(&["computer", PCI])),
        P::ConnectListAllNodeDevices => Reply::ConnectListAllNodeDevices(ListNodeDevicesRet {
            devices: vec![NodeDevice { name: PCI.into() }],
            ret: 1,
        }),
        P::NodeDeviceLookupByName => Reply::NodeDeviceLookupByName(NodeDeviceRet {
            dev: NodeDevice { name: PCI.into() },
        }),
        P::NodeDeviceGetXmlDesc => Reply::NodeDeviceGetXmlDesc(xml()),
        P::NodeDeviceGetParent => Reply::NodeDeviceGetParent(ParentRet {
            parent: Some("computer".into()),
        }),
        P::NodeDeviceNumOfCaps => Reply::NodeDeviceNumOfCaps(NumRet { num: 1 }),
        P::NodeDeviceListCaps => Reply::NodeDeviceListCaps(names(&["pci"])),
        P::NodeDeviceGetAutostart => Reply::NodeDeviceGetAutostart(int(0)),
        P::NodeDeviceIsPersistent => Reply::NodeDeviceIsPersistent(int(0)),
        P::NodeDeviceIsActive => Reply::NodeDeviceIsActive(int(1)),
        P::ConnectNumOfNwfilters => Reply::ConnectNumOfNwfilters(NumRet { num: 0 }),
        P::ConnectListNwfilters => Reply::ConnectListNwfilters(ListNamesRet::default()),
        P::ConnectListAllNwfilters => Reply::ConnectListAllNwfilters(ListNwfiltersRet {
            filters: vec![filter()],
            ret: 1,
        }),
        P::NwfilterLookupByName => Reply::NwfilterLookupByName(NwfilterRet { nwfilter: filter() }),
        P::NwfilterLookupByUuid => Reply::NwfilterLookupByUuid(NwfilterRet { nwfilter: filter() }),
        P::NwfilterGetXmlDesc => Reply::NwfilterGetXmlDesc(XmlRet {
            xml: "<filter name='clean-traffic' chain='root'/>\n".into(),
        }),
        P::ConnectListAllNwfilterBindings => {
            Reply::ConnectListAllNwfilterBindings(ListBindingsRet {
                bindings: vec![NwfilterBinding {
                    portdev: "vnet0".into(),
                    filtername: "clean-traffic".into(),
                }],
                ret: 1,
            })
        }
        P::NwfilterBindingLookupByPortDev => Reply::NwfilterBindingLookupByPortDev(BindingRet {
            nwfilter: binding(),
        }),
        P::InterfaceDefineXml => Reply::InterfaceDefineXml(IfaceRet { iface: iface() }),
        P::InterfaceUndefine => Reply::InterfaceUndefine(()),
        P::InterfaceCreate => Reply::InterfaceCreate(()),
        P::InterfaceDestroy => Reply::InterfaceDestroy(()),
        P::InterfaceChangeBegin => Reply::InterfaceChangeBegin(()),
        P::InterfaceChangeCommit => Reply::InterfaceChangeCommit(()),
        P::InterfaceChangeRollback => Reply::InterfaceChangeRollback(()),
        P::NodeDeviceDettach => Reply::NodeDeviceDettach(()),
        P::NodeDeviceDetachFlags => Reply::NodeDeviceDetachFlags(()),
        P::NodeDeviceReAttach => Reply::NodeDeviceReAttach(()),
        P::NodeDeviceReset => Reply::NodeDeviceReset(()),
        P::NodeDeviceCreateXml => Reply::NodeDeviceCreateXml(NodeDeviceRet {
            dev: NodeDevice { name: PCI.into() },
        }),
        P::NodeDeviceDestroy => Reply::NodeDeviceDestroy(()),
        P::NodeDeviceDefineXml => Reply::NodeDeviceDefineXml(NodeDeviceRet {
            dev: NodeDevice { name: PCI.into() },
        }),
        P::NodeDeviceUndefine => Reply::NodeDeviceUndefine(()),
        P::NodeDeviceCreate => Reply::NodeDeviceCreate(()),
        P::NodeDeviceSetAutostart => Reply::NodeDeviceSetAutostart(()),
        P::NwfilterDefineXml => Reply::NwfilterDefineXml(NwfilterRet { nwfilter: filter() }),
        P::NwfilterDefineXmlFlags => {
            Reply::NwfilterDefineXmlFlags(NwfilterRet { nwfilter: filter() })
        }
        P::NwfilterUndefine => Reply::NwfilterUndefine(()),
        P::NwfilterBindingCreateXml => Reply::NwfilterBindingCreateXml(BindingRet {
            nwfilter: binding(),
        }),
        P::NwfilterBindingDelete => Reply::NwfilterBindingDelete(()),
        other => unreachable!("{other:?} is sampled elsewhere"),
    }
}
