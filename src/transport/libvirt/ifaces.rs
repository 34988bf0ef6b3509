//! The host's network interfaces as libvirt's udev interface backend
//! shows them, read-only, from the same kernel files
//! (`/sys/class/net`, `/proc/net/vlan`) of the daemon's network
//! namespace:
//!
//! - every network device but a bridge's port (which shows inside its
//!   bridge) and a tap (`tun_flags`: QEMU's, of guests), named as the
//!   kernel names it, with its MAC address;
//! - active when its `operstate` is `up`; the counts and name lists of
//!   active and defined interfaces take `up` and `down` as the backend
//!   does, while the whole list calls anything not `up` inactive;
//! - its XML: `ethernet`, `bridge` (with its ports, STP and forward
//!   delay; a guest's `vnetN` is left out), `vlan` (tag and parent from
//!   `/proc/net/vlan`) or `bond` (mode, MII or ARP monitoring and its
//!   slaves) by the device's udev `DEVTYPE`, else a dot in the name
//!   (a VLAN) or `bonding/` (a bond); `<mtu>`, `<link speed state>` and
//!   `<mac>` as libvirt writes them.
//!
//! Nothing is defined, changed or removed here: those calls are not in
//! the table, and are refused by name.

use std::path::PathBuf;

use super::delegate::refusals;
use super::frame::{code, libvirt_error};
use super::types::{
    IntRet, ListAllArgs, ListNamesArgs, ListNamesRet, NameArgs, NumRet, XmlFlagsArgs, XmlRet,
};
use super::values::check_flags;
#[allow(unused_imports)]
use super::xdr::Xdr;
use super::xdr::xdr_struct;
use crate::driver::error::{Error, ErrorCode, Result};
use crate::model::xmlwrite::{Attrs, XmlWriter};

xdr_struct! {
    /// `remote_nonnull_interface`.
    pub struct Iface { pub name: String, pub mac: String }
    /// `remote_interface_lookup_by_name_ret` and `_by_mac_string_ret`.
    pub struct IfaceRet { pub iface: Iface }
    /// `remote_interface_lookup_by_mac_string_args`.
    pub struct MacArgs { pub mac: String }
    /// `remote_interface_is_active_args`.
    pub struct IfaceArgs { pub iface: Iface }
    /// `remote_interface_get_xml_desc_args`.
    pub struct IfaceFlagsArgs { pub iface: Iface, pub flags: u32 }
    /// `remote_connect_list_all_interfaces_ret`.
    pub struct ListIfacesRet { pub ifaces: Vec<Iface>, pub ret: u32 }
    /// `remote_interface_change_begin_args` (and `_commit`, `_rollback`).
    pub struct FlagsArgs { pub flags: u32 }
}

/// `VIR_CONNECT_LIST_INTERFACES_INACTIVE` and `_ACTIVE`.
const LIST_INACTIVE: u32 = 1;
const LIST_ACTIVE: u32 = 2;
/// `VIR_INTERFACE_XML_INACTIVE`: the udev backend has no other
/// definition than the live one.
const XML_INACTIVE: u32 = 1;

/// Where the kernel's files are read: `/` on a real host, a copy of
/// their layout in tests.
#[derive(Debug, Clone)]
pub struct NetHost {
    /// The directory holding `sys/` and `proc/`.
    pub root: PathBuf,
}

impl Default for NetHost {
    fn default() -> NetHost {
        NetHost {
            root: PathBuf::from("/"),
        }
    }
}

/// An interface's link, as `virNetDevGetLinkInfo` reads it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Link {
    /// `operstate` (`up`, `down`, `unknown`...), if the kernel gave one.
    pub state: Option<String>,
    /// The speed in Mb/s, read only for a link that is up.
    pub speed: Option<u32>,
}

impl Link {
    /// `<link speed state/>`, speed first; nothing when neither is known.
    pub(crate) fn write(&self, w: &mut XmlWriter) {
        if self.state.is_none() && self.speed.is_none() {
            return;
        }
        w.empty(
            "link",
            Attrs::new()
                .opt("speed", self.speed)
                .opt("state", self.state.as_deref()),
        );
    }
}

/// The states `virNetDevIfState` knows (anything else is refused by
/// libvirt's reader as unparsable).
const STATES: &[&str] = &[
    "unknown",
    "notpresent",
    "down",
    "lowerlayerdown",
    "testing",
    "dormant",
    "up",
];

impl NetHost {
    fn dir(&self, name: &str) -> PathBuf {
        self.root.join("sys/class/net").join(name)
    }

    /// The attribute `file` of device `name`, without its line end.
    pub fn attr(&self, name: &str, file: &str) -> Option<String> {
        std::fs::read_to_string(self.dir(name).join(file))
            .ok()
            .map(|s| s.trim_end_matches('\n').to_string())
    }

    /// Whether the kernel has a network device `name` (a name with a `/`
    /// or a dot-only name is none).
    pub fn exists(&self, name: &str) -> bool {
        !name.is_empty()
            && name != "."
            && name != ".."
            && !name.contains('/')
            && self.dir(name).exists()
    }

    /// Every network device's name, sorted.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.root.join("sys/class/net"))
            .map(|d| {
                d.filter_map(|e| e.ok()?.file_name().into_string().ok())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }

    /// The `DEVTYPE` of the device's uevent (`bridge`, `vlan`, `bond`,
    /// `wlan`), if it has one.
    pub fn devtype(&self, name: &str) -> Option<String> {
        self.attr(name, "uevent")?
            .lines()
            .find_map(|l| l.strip_prefix("DEVTYPE=").map(str::to_string))
    }

    /// Whether the device is a bridge's port.
    fn is_port(&self, name: &str) -> bool {
        self.dir(name).join("brport").exists()
    }

    /// Whether the device is a tap (a guest's, which libvirt does not
    /// list).
    fn is_tap(&self, name: &str) -> bool {
        self.dir(name).join("tun_flags").exists()
    }

    /// Whether its `operstate` is `up`.
    fn is_up(&self, name: &str) -> bool {
        self.attr(name, "operstate").as_deref() == Some("up")
    }

    /// Its link: the state, and for a link that is up its speed when the
    /// device reports one (libvirt reads `-1` as an unsigned number).
    pub fn link(&self, name: &str) -> Link {
        let state = self
            .attr(name, "operstate")
            .filter(|s| STATES.contains(&s.as_str()));
        let speed = if state.as_deref() == Some("up") {
            self.attr(name, "speed").and_then(|s| {
                s.parse::<u32>()
                    .ok()
                    .or_else(|| s.parse::<i32>().ok().map(|n| n as u32))
            })
        } else {
            None
        };
        Link { state, speed }
    }

    /// The interfaces libvirt lists (no bridge port, no tap), sorted.
    fn listed(&self) -> Vec<String> {
        self.names()
            .into_iter()
            .filter(|n| !self.is_port(n) && !self.is_tap(n))
            .collect()
    }

    /// The handle of interface `name`.
    fn handle(&self, name: &str) -> Iface {
        Iface {
            name: name.to_string(),
            mac: self.attr(name, "address").unwrap_or_default(),
        }
    }
}

/// libvirt's error for an interface the host does not have.
fn no_interface(what: String) -> Error {
    libvirt_error(
        code::NO_INTERFACE,
        ErrorCode::NoSupport,
        format!("Interface not found: {what}"),
    )
}

fn no_such_name(name: &str) -> Error {
    no_interface(format!("couldn't find interface named '{name}'"))
}

/// `maxnames` as a count, refusing a negative one.
fn max_names(maxnames: i32) -> Result<usize> {
    usize::try_from(maxnames).map_err(|_| {
        Error::new(
            ErrorCode::InvalidArgument,
            format!("maxnames {maxnames} is negative"),
        )
    })
}

/// The names of the listed interfaces whose `operstate` is `want`.
fn with_state(host: &NetHost, want: &str) -> Vec<String> {
    host.listed()
        .into_iter()
        .filter(|n| host.attr(n, "operstate").as_deref() == Some(want))
        .collect()
}

/// `virConnectNumOfInterfaces`: the interfaces that are up.
pub fn num_active((): ()) -> Result<NumRet> {
    Ok(NumRet {
        num: with_state(&NetHost::default(), "up").len() as i32,
    })
}

/// `virConnectListInterfaces`.
pub fn list_active(a: ListNamesArgs) -> Result<ListNamesRet> {
    let max = max_names(a.maxnames)?;
    let mut names = with_state(&NetHost::default(), "up");
    names.truncate(max);
    Ok(ListNamesRet { names })
}

/// `virConnectNumOfDefinedInterfaces`: the interfaces that are down.
pub fn num_inactive((): ()) -> Result<NumRet> {
    Ok(NumRet {
        num: with_state(&NetHost::default(), "down").len() as i32,
    })
}

/// `virConnectListDefinedInterfaces`.
pub fn list_inactive(a: ListNamesArgs) -> Result<ListNamesRet> {
    let max = max_names(a.maxnames)?;
    let mut names = with_state(&NetHost::default(), "down");
    names.truncate(max);
    Ok(ListNamesRet { names })
}

/// `virConnectListAllInterfaces` on `host`.
pub fn list_all_on(host: &NetHost, a: ListAllArgs) -> Result<ListIfacesRet> {
    check_flags(
        a.flags,
        LIST_ACTIVE | LIST_INACTIVE,
        "virConnectListAllInterfaces",
    )?;
    let filtered = a.flags & (LIST_ACTIVE | LIST_INACTIVE) != 0;
    let mut ifaces: Vec<Iface> = host
        .listed()
        .into_iter()
        .filter(|n| {
            let up = host.is_up(n);
            !filtered || (a.flags & LIST_ACTIVE != 0 && up) || (a.flags & LIST_INACTIVE != 0 && !up)
        })
        .map(|n| host.handle(&n))
        .collect();
    let ret = ifaces.len() as u32;
    if a.need_results == 0 {
        ifaces.clear();
    }
    Ok(ListIfacesRet { ifaces, ret })
}

/// `virConnectListAllInterfaces`.
pub fn list_all(a: ListAllArgs) -> Result<ListIfacesRet> {
    list_all_on(&NetHost::default(), a)
}

/// `virInterfaceLookupByName`.
pub fn by_name(a: NameArgs) -> Result<IfaceRet> {
    let host = NetHost::default();
    if !host.exists(&a.name) {
        return Err(no_such_name(&a.name));
    }
    Ok(IfaceRet {
        iface: host.handle(&a.name),
    })
}

/// `virInterfaceLookupByMACString` on `host`: the one listed interface
/// with that address (as the kernel writes it).
pub fn by_mac_on(host: &NetHost, a: MacArgs) -> Result<IfaceRet> {
    let found: Vec<String> = host
        .listed()
        .into_iter()
        .filter(|n| host.attr(n, "address").as_deref() == Some(a.mac.as_str()))
        .collect();
    match found.as_slice() {
        [] => Err(no_interface(format!(
            "couldn't find interface with MAC address '{}'",
            a.mac
        ))),
        [one] => Ok(IfaceRet {
            iface: host.handle(one),
        }),
        _ => Err(libvirt_error(
            code::MULTIPLE_INTERFACES,
            ErrorCode::InvalidArgument,
            format!(
                "multiple matching interfaces found: the MAC address '{}' matches multiple interfaces",
                a.mac
            ),
        )),
    }
}

/// `virInterfaceLookupByMACString`.
pub fn by_mac(a: MacArgs) -> Result<IfaceRet> {
    by_mac_on(&NetHost::default(), a)
}

/// `virInterfaceIsActive`.
pub fn is_active(a: IfaceArgs) -> Result<IntRet> {
    let host = NetHost::default();
    if !host.exists(&a.iface.name) {
        return Err(no_such_name(&a.iface.name));
    }
    Ok(IntRet {
        value: i32::from(host.is_up(&a.iface.name)),
    })
}

/// `virInterfaceGetXMLDesc`.
pub fn xml_desc(a: IfaceFlagsArgs) -> Result<XmlRet> {
    check_flags(a.flags, XML_INACTIVE, "virInterfaceGetXMLDesc")?;
    Ok(XmlRet {
        xml: interface_xml(&NetHost::default(), &a.iface.name)?,
    })
}

/// What kind of interface a device is, with what that kind shows.
#[derive(Debug)]
enum Kind {
    Ethernet,
    Bridge {
        stp: Option<bool>,
        delay: Option<String>,
        ports: Vec<Def>,
    },
    Vlan {
        tag: String,
        parent: String,
    },
    Bond(Bond),
}

/// A bond's settings, as the bonding driver shows them.
#[derive(Debug)]
struct Bond {
    mode: Option<String>,
    miimon: u32,
    downdelay: u32,
    updelay: u32,
    carrier: Option<&'static str>,
    arp_interval: u32,
    arp_target: Option<String>,
    arp_validate: Option<String>,
    slaves: Vec<Def>,
}

/// One interface's definition.
#[derive(Debug)]
struct Def {
    name: String,
    mtu: u32,
    link: Link,
    mac: Option<String>,
    kind: Kind,
}

/// The XML of interface `name` on `host`, as the udev backend writes it.
pub fn interface_xml(host: &NetHost, name: &str) -> Result<String> {
    let def = read_def(host, name, 0)?;
    let mut w = XmlWriter::new();
    write_def(&mut w, &def, true);
    Ok(w.finish())
}

/// How deep ports of ports are followed (a bridge of bonds of VLANs).
const MAX_DEPTH: usize = 4;

fn read_def(host: &NetHost, name: &str, depth: usize) -> Result<Def> {
    if !host.exists(name) {
        return Err(no_such_name(name));
    }
    let mtu_text = host.attr(name, "mtu").unwrap_or_default();
    let mtu = mtu_text.parse().map_err(|_| {
        Error::new(
            ErrorCode::OperationFailed,
            format!("Could not parse MTU value '{mtu_text}' of interface {name}"),
        )
    })?;
    let members = |names: Vec<String>| -> Result<Vec<Def>> {
        if depth >= MAX_DEPTH {
            return Ok(Vec::new());
        }
        names
            .iter()
            .filter(|n| host.exists(n))
            .map(|n| read_def(host, n, depth + 1))
            .collect()
    };
    let devtype = host.devtype(name);
    let kind = match devtype.as_deref() {
        Some("vlan") => vlan(host, name)?,
        Some("bridge") => {
            // A guest's tap (`vnetN`) is left out, as libvirt leaves it.
            let mut ports: Vec<String> = std::fs::read_dir(host.dir(name).join("brif"))
                .map(|d| {
                    d.filter_map(|e| e.ok()?.file_name().into_string().ok())
                        .filter(|n| {
                            !(n.starts_with("vnet")
                                && n.as_bytes().get(4).is_some_and(u8::is_ascii_digit))
                        })
                        .collect()
                })
                .unwrap_or_default();
            ports.sort();
            Kind::Bridge {
                stp: match host.attr(name, "bridge/stp_state").as_deref() {
                    Some("0") => Some(false),
                    Some("1") => Some(true),
                    _ => None,
                },
                delay: host.attr(name, "bridge/forward_delay"),
                ports: members(ports)?,
            }
        }
        _ if devtype.as_deref() == Some("bond") || host.dir(name).join("bonding/mode").exists() => {
            // Its slaves as the bonding driver lists them in
            // `bonding/slaves`.
            let slaves = host
                .attr(name, "bonding/slaves")
                .unwrap_or_default()
                .split_whitespace()
                .map(str::to_string)
                .collect();
            Kind::Bond(bond(host, name, members(slaves)?))
        }
        // A dotted name without a DEVTYPE is a VLAN when the kernel's VLAN
        // table has it (libvirt assumes so and fails on a name that is
        // not one).
        _ if name.contains('.') && host.root.join("proc/net/vlan").join(name).exists() => {
            vlan(host, name)?
        }
        _ => Kind::Ethernet,
    };
    Ok(Def {
        name: name.to_string(),
        mtu,
        link: host.link(name),
        mac: host.attr(name, "address"),
        kind,
    })
}

/// A VLAN's tag and parent, from `/proc/net/vlan/NAME` (`VID: 5` and
/// `Device: eth0`).
fn vlan(host: &NetHost, name: &str) -> Result<Kind> {
    let path = host.root.join("proc/net/vlan").join(name);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?;
    let missing = |what: &str| {
        Error::new(
            ErrorCode::OperationFailed,
            format!(
                "failed to find the {what} of VLAN {name} in {}",
                path.display()
            ),
        )
    };
    let tag = text
        .split_once("VID: ")
        .map(|(_, rest)| {
            rest.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
        })
        .filter(|t| !t.is_empty())
        .ok_or_else(|| missing("VID"))?;
    let parent = text
        .split_once("\nDevice: ")
        .and_then(|(_, rest)| rest.lines().next())
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .ok_or_else(|| missing("device"))?
        .to_string();
    Ok(Kind::Vlan { tag, parent })
}

/// A bond's settings; each of the bonding driver's `NAME N` values by
/// its name.
fn bond(host: &NetHost, name: &str, slaves: Vec<Def>) -> Bond {
    let word = |file: &str| {
        host.attr(name, &format!("bonding/{file}"))
            .and_then(|v| v.split_whitespace().next().map(str::to_string))
    };
    let number = |file: &str| word(file).and_then(|v| v.parse().ok()).unwrap_or(0);
    Bond {
        mode: word("mode"),
        miimon: number("miimon"),
        downdelay: number("downdelay"),
        updelay: number("updelay"),
        carrier: match word("use_carrier").as_deref() {
            Some("0") => Some("ioctl"),
            Some("1") => Some("netif"),
            _ => None,
        },
        arp_interval: number("arp_interval"),
        arp_target: host.attr(name, "bonding/arp_ip_target"),
        arp_validate: word("arp_validate")
            .filter(|v| ["active", "backup", "all"].contains(&v.as_str())),
        slaves,
    }
}

/// `virInterfaceDefDevFormat`: `<mtu>` only on the top interface, no
/// `<link>` on a bridge, `<mac>` only on an ethernet interface.
fn write_def(w: &mut XmlWriter, def: &Def, top: bool) {
    let kind = match def.kind {
        Kind::Ethernet => "ethernet",
        Kind::Bridge { .. } => "bridge",
        Kind::Vlan { .. } => "vlan",
        Kind::Bond(_) => "bond",
    };
    w.open(
        "interface",
        Attrs::new().add("type", kind).add("name", &def.name),
    );
    if top && def.mtu != 0 {
        w.empty("mtu", Attrs::new().add("size", def.mtu));
    }
    if !matches!(def.kind, Kind::Bridge { .. }) {
        def.link.write(w);
    }
    match &def.kind {
        Kind::Ethernet => {
            if let Some(mac) = &def.mac {
                w.empty("mac", Attrs::new().add("address", mac));
            }
        }
        Kind::Bridge { stp, delay, ports } => {
            w.open(
                "bridge",
                Attrs::new()
                    .opt("stp", stp.map(|on| if on { "on" } else { "off" }))
                    .opt("delay", delay.as_deref()),
            );
            for p in ports {
                write_def(w, p, false);
            }
            w.close("bridge");
        }
        Kind::Vlan { tag, parent } => {
            w.open("vlan", Attrs::new().add("tag", tag));
            w.empty("interface", Attrs::new().add("name", parent));
            w.close("vlan");
        }
        Kind::Bond(b) => write_bond(w, b),
    }
    w.close("interface");
}

/// `virInterfaceBondDefFormat`: ARP monitoring when it has an interval,
/// else MII monitoring when it has a frequency.
fn write_bond(w: &mut XmlWriter, b: &Bond) {
    w.open("bond", Attrs::new().opt("mode", b.mode.as_deref()));
    if b.arp_interval > 0 && b.arp_target.is_some() {
        w.empty(
            "arpmon",
            Attrs::new()
                .add("interval", b.arp_interval)
                .opt("target", b.arp_target.as_deref())
                .opt("validate", b.arp_validate.as_deref()),
        );
    } else if b.miimon > 0 {
        w.empty(
            "miimon",
            Attrs::new()
                .add("freq", b.miimon)
                .opt("downdelay", (b.downdelay > 0).then_some(b.downdelay))
                .opt("updelay", (b.updelay > 0).then_some(b.updelay))
                .opt("carrier", b.carrier),
        );
    }
    for s in &b.slaves {
        write_def(w, s, false);
    }
    w.close("bond");
}

refusals! {
    why: "qvirtd shows the host's network interfaces but does not change them: configure them on the host";
    define_xml(XmlFlagsArgs) -> IfaceRet = "virInterfaceDefineXML";
    undefine(IfaceArgs) -> () = "virInterfaceUndefine";
    create(IfaceFlagsArgs) -> () = "virInterfaceCreate";
    destroy(IfaceFlagsArgs) -> () = "virInterfaceDestroy";
    change_begin(FlagsArgs) -> () = "virInterfaceChangeBegin";
    change_commit(FlagsArgs) -> () = "virInterfaceChangeCommit";
    change_rollback(FlagsArgs) -> () = "virInterfaceChangeRollback";
}

#[cfg(test)]
#[path = "ifaces_tests.rs"]
mod tests;
