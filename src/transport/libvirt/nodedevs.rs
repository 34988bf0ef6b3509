//! The host's devices as libvirt's udev node device driver shows them,
//! read-only, from the same kernel files (sysfs, and udev's database
//! under `/run/udev/data` where udev keeps one):
//!
//! - `computer` (the system, with its DMI identity), the PCI devices
//!   (`pci_0000_00_1f_2`), USB devices and their interfaces (`usb_1_2`,
//!   `usb_1_2_1_0`), network devices that are no bridge, VLAN or bond
//!   (`net_eth0_52_54_00_12_34_56`), SCSI hosts, targets and devices
//!   (`scsi_host0`, `scsi_target0_0_0`, `scsi_0_0_0_0`), SCSI generic
//!   and DRM nodes (`scsi_generic_sg0`, `drm_card0`) and disks whose
//!   kind is known (`block_vda`), named as libvirt names them;
//! - each one's parent: the nearest device above it in sysfs that is
//!   listed, else `computer`, so a client draws the same tree;
//! - their XML as `virNodeDeviceDefFormat` writes it ([`format`]), with
//!   PCI vendor and product names from the `pci.ids` file where the host
//!   has one.
//!
//! Devices libvirt shows through other capabilities (mediated devices,
//! vDPA, s390 and crypto devices) are not listed, nor a Fibre Channel
//! host's extra capabilities, a network device's offload features or a
//! PCI device's vital product data. Nothing is created, detached or removed here: those calls are
//! not in the table, and are refused by name.

mod format;
mod read;
mod read_pci;

use super::delegate::refusals;
use super::frame::{code, libvirt_error};
use super::types::{IntRet, ListAllArgs, ListNamesRet, NameArgs, NumRet, XmlFlagsArgs, XmlRet};
use super::values::check_flags;
#[allow(unused_imports)]
use super::xdr::Xdr;
use super::xdr::xdr_struct;
use crate::driver::error::{Error, ErrorCode, Result};
pub use read::{Cap, DevHost, Device};

xdr_struct! {
    /// `remote_node_num_of_devices_args`.
    pub struct NodeNumArgs { pub cap: Option<String>, pub flags: u32 }
    /// `remote_node_list_devices_args`.
    pub struct NodeListArgs { pub cap: Option<String>, pub maxnames: i32, pub flags: u32 }
    /// `remote_nonnull_node_device`.
    pub struct NodeDevice { pub name: String }
    /// `remote_node_device_lookup_by_name_ret`.
    pub struct NodeDeviceRet { pub dev: NodeDevice }
    /// `remote_connect_list_all_node_devices_ret`.
    pub struct ListNodeDevicesRet { pub devices: Vec<NodeDevice>, pub ret: u32 }
    /// `remote_node_device_get_xml_desc_args`.
    pub struct NameFlagsArgs { pub name: String, pub flags: u32 }
    /// `remote_node_device_get_parent_ret`.
    pub struct ParentRet { pub parent: Option<String> }
    /// `remote_node_device_list_caps_args`.
    pub struct ListCapsArgs { pub name: String, pub maxnames: i32 }
    /// `remote_node_device_detach_flags_args`.
    pub struct DetachFlagsArgs { pub name: String, pub driver_name: Option<String>, pub flags: u32 }
    /// `remote_node_device_set_autostart_args`.
    pub struct SetAutostartNameArgs { pub name: String, pub autostart: i32 }
}

/// `VIR_CONNECT_LIST_NODE_DEVICES_CAP_*`: the 22 capability bits libvirt
/// 9.0 knows.
const CAP_FLAGS: u32 = (1 << 22) - 1;
/// `VIR_CONNECT_LIST_NODE_DEVICES_INACTIVE` and `_ACTIVE`.
const LIST_INACTIVE: u32 = 1 << 30;
const LIST_ACTIVE: u32 = 1 << 31;

impl Cap {
    /// libvirt's name of the capability (`virNodeDevCapType`).
    pub fn name(&self) -> &'static str {
        match self {
            Cap::System(_) => "system",
            Cap::Pci(_) => "pci",
            Cap::UsbDevice(_) => "usb_device",
            Cap::UsbInterface(_) => "usb",
            Cap::Net(_) => "net",
            Cap::Storage(_) => "storage",
            Cap::ScsiHost(_) => "scsi_host",
            Cap::ScsiTarget(_) => "scsi_target",
            Cap::Scsi(_) => "scsi",
            Cap::ScsiGeneric(_) => "scsi_generic",
            Cap::Drm(_) => "drm",
        }
    }

    /// Its `VIR_CONNECT_LIST_NODE_DEVICES_CAP_*` bit.
    fn flag(&self) -> u32 {
        match self {
            Cap::System(_) => 1,
            Cap::Pci(_) => 1 << 1,
            Cap::UsbDevice(_) => 1 << 2,
            Cap::UsbInterface(_) => 1 << 3,
            Cap::Net(_) => 1 << 4,
            Cap::Storage(_) => 1 << 8,
            Cap::ScsiHost(_) => 1 << 5,
            Cap::ScsiTarget(_) => 1 << 6,
            Cap::Scsi(_) => 1 << 7,
            Cap::ScsiGeneric(_) => 1 << 11,
            Cap::Drm(_) => 1 << 12,
        }
    }
}

/// libvirt's error for a device the host does not have.
fn no_device(name: &str) -> Error {
    libvirt_error(
        code::NO_NODE_DEVICE,
        ErrorCode::NoSupport,
        format!("Node device not found: no node device with matching name '{name}'"),
    )
}

/// The device named `name` on `host`.
pub fn device(host: &DevHost, name: &str) -> Result<Device> {
    host.devices()
        .into_iter()
        .find(|d| d.name == name)
        .ok_or_else(|| no_device(name))
}

/// The names of the devices with capability `cap` (every device when
/// none is given), sorted.
fn names_with(host: &DevHost, cap: Option<&str>) -> Vec<String> {
    host.devices()
        .into_iter()
        .filter(|d| cap.is_none_or(|c| d.cap.name() == c))
        .map(|d| d.name)
        .collect()
}

/// `virNodeNumOfDevices` (which has no flags).
pub fn num_of_devices(a: NodeNumArgs) -> Result<NumRet> {
    check_flags(a.flags, 0, "virNodeNumOfDevices")?;
    Ok(NumRet {
        num: names_with(&DevHost::default(), a.cap.as_deref()).len() as i32,
    })
}

/// `virNodeListDevices` (which has no flags).
pub fn list_devices(a: NodeListArgs) -> Result<ListNamesRet> {
    check_flags(a.flags, 0, "virNodeListDevices")?;
    let max = usize::try_from(a.maxnames).map_err(|_| {
        Error::new(
            ErrorCode::InvalidArgument,
            format!("maxnames {} is negative", a.maxnames),
        )
    })?;
    let mut names = names_with(&DevHost::default(), a.cap.as_deref());
    names.truncate(max);
    Ok(ListNamesRet { names })
}

/// `virConnectListAllNodeDevices` on `host`: the devices with any of the
/// capabilities asked for (all without one); every device the kernel
/// shows is active.
pub fn list_all_on(host: &DevHost, a: ListAllArgs) -> Result<ListNodeDevicesRet> {
    check_flags(
        a.flags,
        CAP_FLAGS | LIST_INACTIVE | LIST_ACTIVE,
        "virConnectListAllNodeDevices",
    )?;
    let caps = a.flags & CAP_FLAGS;
    let states = a.flags & (LIST_INACTIVE | LIST_ACTIVE);
    let mut devices: Vec<NodeDevice> = host
        .devices()
        .into_iter()
        .filter(|d| caps == 0 || d.cap.flag() & caps != 0)
        .filter(|_| states == 0 || states & LIST_ACTIVE != 0)
        .map(|d| NodeDevice { name: d.name })
        .collect();
    let ret = devices.len() as u32;
    if a.need_results == 0 {
        devices.clear();
    }
    Ok(ListNodeDevicesRet { devices, ret })
}

/// `virConnectListAllNodeDevices`.
pub fn list_all(a: ListAllArgs) -> Result<ListNodeDevicesRet> {
    list_all_on(&DevHost::default(), a)
}

/// `virNodeDeviceLookupByName`.
pub fn by_name(a: NameArgs) -> Result<NodeDeviceRet> {
    let d = device(&DevHost::default(), &a.name)?;
    Ok(NodeDeviceRet {
        dev: NodeDevice { name: d.name },
    })
}

/// `virNodeDeviceGetXMLDesc` (which has no flags in libvirt 9.0).
pub fn xml_desc(a: NameFlagsArgs) -> Result<XmlRet> {
    check_flags(a.flags, 0, "virNodeDeviceGetXMLDesc")?;
    let host = DevHost::default();
    let d = device(&host, &a.name)?;
    Ok(XmlRet {
        xml: format::device_xml(&host, &d),
    })
}

/// `virNodeDeviceGetParent`: none for `computer` (libvirt's daemon
/// sends a null name, not an error).
pub fn parent(a: NameArgs) -> Result<ParentRet> {
    Ok(ParentRet {
        parent: device(&DevHost::default(), &a.name)?.parent,
    })
}

/// `virNodeDeviceNumOfCaps`: one capability each.
pub fn num_of_caps(a: NameArgs) -> Result<NumRet> {
    device(&DevHost::default(), &a.name)?;
    Ok(NumRet { num: 1 })
}

/// `virNodeDeviceListCaps`.
pub fn list_caps(a: ListCapsArgs) -> Result<ListNamesRet> {
    let d = device(&DevHost::default(), &a.name)?;
    let mut names = vec![d.cap.name().to_string()];
    names.truncate(usize::try_from(a.maxnames).unwrap_or(0));
    Ok(ListNamesRet { names })
}

/// `virNodeDeviceGetAutostart`: a device the kernel shows is not
/// started by libvirt; `computer` is, as libvirt's udev driver marks it.
pub fn autostart(a: NameArgs) -> Result<IntRet> {
    let d = device(&DevHost::default(), &a.name)?;
    Ok(IntRet {
        value: i32::from(d.parent.is_none()),
    })
}

/// `virNodeDeviceIsPersistent`: no device the kernel shows has a
/// definition; `computer` is persistent, as libvirt's udev driver marks
/// it.
pub fn is_persistent(a: NameArgs) -> Result<IntRet> {
    let d = device(&DevHost::default(), &a.name)?;
    Ok(IntRet {
        value: i32::from(d.parent.is_none()),
    })
}

/// `virNodeDeviceIsActive`: every device the kernel shows is.
pub fn is_active(a: NameArgs) -> Result<IntRet> {
    device(&DevHost::default(), &a.name)?;
    Ok(IntRet { value: 1 })
}

refusals! {
    why: "qvirtd shows the host's devices but does not change them: a <hostdev managed='yes'> is moved to vfio-pci when its domain starts";
    dettach(NameArgs) -> () = "virNodeDeviceDettach";
    detach_flags(DetachFlagsArgs) -> () = "virNodeDeviceDetachFlags";
    re_attach(NameArgs) -> () = "virNodeDeviceReAttach";
    reset(NameArgs) -> () = "virNodeDeviceReset";
    create_xml(XmlFlagsArgs) -> NodeDeviceRet = "virNodeDeviceCreateXML";
    destroy(NameArgs) -> () = "virNodeDeviceDestroy";
    define_xml(XmlFlagsArgs) -> NodeDeviceRet = "virNodeDeviceDefineXML";
    undefine(NameFlagsArgs) -> () = "virNodeDeviceUndefine";
    create(NameFlagsArgs) -> () = "virNodeDeviceCreate";
    set_autostart(SetAutostartNameArgs) -> () = "virNodeDeviceSetAutostart";
}

#[cfg(test)]
mod tests;
