//! `guestinfo`: what the guest agent says of the guest (users, operating
//! system, time zone, host name, file systems, disks, interfaces), as libvirt's
//! fields (`user.count`, `os.id`, `fs.0.mountpoint`, ...), in libvirt's
//! order and with its types. With no group named, a group the agent does
//! not know is left out, as libvirt leaves it. And `domfsinfo`: the
//! file systems with the domain's disks under them.

use serde_json::Value;

use super::agent::Agent;
use super::driver::Core;
use crate::driver::{Domain, DomainState, GuestFsInfo, GuestValue, guest_info as g};
use crate::error::{Error, ErrorCode, Result};

/// Every group qvirt serves.
const SERVED: u32 =
    g::USERS | g::OS | g::TIMEZONE | g::HOSTNAME | g::FILESYSTEM | g::DISKS | g::INTERFACES;
/// The `guest-get-osinfo` members and libvirt's names for them.
const OS_FIELDS: &[(&str, &str)] = &[
    ("id", "os.id"),
    ("name", "os.name"),
    ("pretty-name", "os.pretty-name"),
    ("version", "os.version"),
    ("version-id", "os.version-id"),
    ("machine", "os.machine"),
    ("variant", "os.variant"),
    ("variant-id", "os.variant-id"),
    ("kernel-release", "os.kernel-release"),
    ("kernel-version", "os.kernel-version"),
];

type Fields = Vec<(String, GuestValue)>;

fn text(out: &mut Fields, name: String, v: Option<&Value>) {
    if let Some(s) = v.and_then(Value::as_str) {
        out.push((name, GuestValue::Text(s.to_string())));
    }
}

fn count(out: &mut Fields, name: String, n: usize) {
    out.push((name, GuestValue::UInt(u32::try_from(n).unwrap_or(u32::MAX))));
}

impl Core {
    /// [`crate::driver::GuestAgent::guest_info`].
    pub(crate) fn guest_info(&self, dom: &Domain, types: u32) -> Result<Fields> {
        let all = g::USERS | g::OS | g::TIMEZONE | g::HOSTNAME | g::FILESYSTEM | g::DISKS;
        if types & !(all | g::INTERFACES) != 0 {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                format!(
                    "unsupported guest information types '0x{:x}'",
                    types & !(all | g::INTERFACES)
                ),
            ));
        }
        let every = types == 0;
        let wanted = if every { SERVED } else { types };
        let run = self.running_in(
            dom,
            "read the guest information of",
            &[DomainState::Running],
        )?;
        let mut agent = Agent::open(&run)?;
        // The reply of `command` when `group` is wanted and answered.
        let mut ask = |group: u32, command: &str| {
            if wanted & group == 0 {
                return Ok(None);
            }
            match agent.execute(command, None) {
                Ok(v) => Ok(Some(v)),
                Err(e) if every && e.code == ErrorCode::NoSupport => Ok(None),
                Err(e) => Err(e),
            }
        };
        let mut out = Fields::new();
        if let Some(users) = ask(g::USERS, "guest-get-users")? {
            let users = users.as_array().cloned().unwrap_or_default();
            count(&mut out, "user.count".into(), users.len());
            for (i, u) in users.iter().enumerate() {
                text(&mut out, format!("user.{i}.name"), u.get("user"));
                text(&mut out, format!("user.{i}.domain"), u.get("domain"));
                let login = u.get("login-time").and_then(Value::as_f64).unwrap_or(0.0);
                out.push((
                    format!("user.{i}.login-time"),
                    GuestValue::ULLong((login * 1000.0) as u64),
                ));
            }
        }
        if let Some(os) = ask(g::OS, "guest-get-osinfo")? {
            for (member, name) in OS_FIELDS {
                text(&mut out, name.to_string(), os.get(*member));
            }
        }
        if let Some(tz) = ask(g::TIMEZONE, "guest-get-timezone")? {
            text(&mut out, "timezone.name".into(), tz.get("zone"));
            let offset = tz.get("offset").and_then(Value::as_i64).unwrap_or(0);
            out.push((
                "timezone.offset".into(),
                GuestValue::Int(i32::try_from(offset).unwrap_or(0)),
            ));
        }
        if let Some(h) = ask(g::HOSTNAME, "guest-get-host-name")? {
            text(&mut out, "hostname".into(), h.get("host-name"));
        }
        if let Some(fs) = ask(g::FILESYSTEM, "guest-get-fsinfo")? {
            file_systems(&mut out, fs.as_array().map(Vec::as_slice).unwrap_or(&[]));
        }
        if let Some(reply) = ask(g::DISKS, "guest-get-disks")? {
            let disks = reply.as_array().map(Vec::as_slice).unwrap_or(&[]);
            // libvirt leaves the group out when the guest has no disk.
            if !disks.is_empty() {
                guest_disks(&mut out, disks, &DiskByPci::new(&run)?)?;
            }
        }
        if let Some(reply) = ask(g::INTERFACES, "guest-network-get-interfaces")? {
            let ifaces = super::agent_calls::interfaces(&reply);
            count(&mut out, "if.count".into(), ifaces.len());
            for (i, iface) in ifaces.iter().enumerate() {
                out.push((format!("if.{i}.name"), GuestValue::Text(iface.name.clone())));
                if !iface.mac.is_empty() {
                    out.push((
                        format!("if.{i}.hwaddr"),
                        GuestValue::Text(iface.mac.clone()),
                    ));
                }
                count(&mut out, format!("if.{i}.addr.count"), iface.addrs.len());
                for (j, a) in iface.addrs.iter().enumerate() {
                    let kind = if a.ipv6 { "ipv6" } else { "ipv4" };
                    let at = format!("if.{i}.addr.{j}");
                    out.push((format!("{at}.type"), GuestValue::Text(kind.into())));
                    out.push((format!("{at}.addr"), GuestValue::Text(a.addr.clone())));
                    out.push((format!("{at}.prefix"), GuestValue::UInt(a.prefix)));
                }
            }
        }
        Ok(out)
    }
}

/// `fs.*` of a `guest-get-fsinfo` reply: each file system's device name,
/// mount point, type, sizes and disks (their serial and guest device).
fn file_systems(out: &mut Fields, fs: &[Value]) {
    count(out, "fs.count".into(), fs.len());
    for (i, f) in fs.iter().enumerate() {
        text(out, format!("fs.{i}.name"), f.get("name"));
        text(out, format!("fs.{i}.mountpoint"), f.get("mountpoint"));
        text(out, format!("fs.{i}.fstype"), f.get("type"));
        for (member, name) in [("total-bytes", "total-bytes"), ("used-bytes", "used-bytes")] {
            if let Some(n) = f.get(member).and_then(Value::as_u64) {
                out.push((format!("fs.{i}.{name}"), GuestValue::ULLong(n)));
            }
        }
        let disks = f
            .get("disk")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        count(out, format!("fs.{i}.disk.count"), disks.len());
        for (j, d) in disks.iter().enumerate() {
            text(out, format!("fs.{i}.disk.{j}.serial"), d.get("serial"));
            text(out, format!("fs.{i}.disk.{j}.device"), d.get("dev"));
        }
    }
}

/// `disk.*` of a `guest-get-disks` reply, as libvirt's
/// `qemuAgentDiskInfoFormatParams`: each disk's guest device name,
/// whether it is a partition, what it is built on (`dependency.*`, a
/// partition's disk), its serial, the domain's disk it is (`alias`: the
/// target, for a disk the agent places at a PCI device of its own) and
/// the guest's other name for it (`guest_alias`).
fn guest_disks(out: &mut Fields, disks: &[Value], by_pci: &DiskByPci) -> Result<()> {
    let missing = |what: &str| {
        Error::new(
            ErrorCode::OperationFailed,
            format!("'{what}' missing in reply of guest-get-disks"),
        )
    };
    count(out, "disk.count".into(), disks.len());
    for (i, d) in disks.iter().enumerate() {
        let name = d
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| missing("name"))?;
        let partition = d
            .get("partition")
            .and_then(Value::as_bool)
            .ok_or_else(|| missing("partition"))?;
        out.push((format!("disk.{i}.name"), GuestValue::Text(name.into())));
        out.push((format!("disk.{i}.partition"), GuestValue::Bool(partition)));
        let deps = d
            .get("dependencies")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        if !deps.is_empty() {
            count(out, format!("disk.{i}.dependency.count"), deps.len());
        }
        for (j, dep) in deps.iter().enumerate() {
            text(out, format!("disk.{i}.dependency.{j}.name"), Some(dep));
        }
        if let Some(addr) = d.get("address") {
            text(out, format!("disk.{i}.serial"), addr.get("serial"));
            if let Some(target) = by_pci.target(addr) {
                out.push((format!("disk.{i}.alias"), GuestValue::Text(target)));
            }
        }
        text(out, format!("disk.{i}.guest_alias"), d.get("alias"));
    }
    Ok(())
}

/// The running domain's disks by the PCI address of their device (QEMU's
/// `query-pci` names the device at each address), for the disk addresses
/// the guest agent gives: a disk on a controller (IDE, SATA, SCSI) shares
/// the controller's address and is not matched.
struct DiskByPci {
    def: crate::model::DomainDef,
    ids: Vec<String>,
    /// (bus, slot, function) -> QEMU device id, on every PCI bus.
    at: Vec<((u64, u64, u64), String)>,
}

impl DiskByPci {
    fn new(run: &super::runtime::Running) -> Result<DiskByPci> {
        let def = run.live_def();
        let ids = crate::qemu::argv::disk_device_ids(&def).unwrap_or_default();
        let pci = run
            .qmp()?
            .execute("query-pci", None, crate::qemu::qmp::QMP_TIMEOUT)?;
        let mut at = Vec::new();
        for bus in pci.as_array().into_iter().flatten() {
            collect_devices(bus.get("devices"), &mut at);
        }
        Ok(DiskByPci { def, ids, at })
    }

    /// The target of the disk at agent address `addr` (its
    /// `pci-controller`).
    fn target(&self, addr: &Value) -> Option<String> {
        let c = addr.get("pci-controller")?;
        let key = (
            c.get("bus")?.as_u64()?,
            c.get("slot")?.as_u64()?,
            c.get("function")?.as_u64()?,
        );
        let id = &self.at.iter().find(|(k, _)| *k == key)?.1;
        let i = self.ids.iter().position(|x| x == id)?;
        Some(self.def.devices.disks.get(i)?.target.clone())
    }
}

impl Core {
    /// [`crate::driver::GuestAgent::fs_info`]: `guest-get-fsinfo`, each
    /// disk the agent names by its PCI address matched to the domain's
    /// disk there (QEMU's `query-pci` names the device at that address).
    pub(crate) fn fs_info(&self, dom: &Domain) -> Result<Vec<GuestFsInfo>> {
        let run = self.running_in(dom, "read the file systems of", &[DomainState::Running])?;
        let reply = Agent::open(&run)?.execute("guest-get-fsinfo", None)?;
        let by_pci = DiskByPci::new(&run)?;
        let target = |d: &Value| by_pci.target(d);
        Ok(reply
            .as_array()
            .into_iter()
            .flatten()
            .map(|f| {
                let s = |k: &str| f.get(k).and_then(Value::as_str).unwrap_or("").to_string();
                let mut disks: Vec<String> = f
                    .get("disk")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(target)
                    .collect();
                disks.dedup();
                GuestFsInfo::new(s("mountpoint"), s("name"), s("type"), disks)
            })
            .collect())
    }
}

/// The devices of a `query-pci` bus, and of the buses behind its
/// bridges, by (bus, slot, function).
fn collect_devices(devices: Option<&Value>, out: &mut Vec<((u64, u64, u64), String)>) {
    for d in devices.and_then(Value::as_array).into_iter().flatten() {
        let key = (
            d.get("bus").and_then(Value::as_u64).unwrap_or(0),
            d.get("slot").and_then(Value::as_u64).unwrap_or(0),
            d.get("function").and_then(Value::as_u64).unwrap_or(0),
        );
        if let Some(id) = d.get("qdev_id").and_then(Value::as_str) {
            out.push((key, id.to_string()));
        }
        if let Some(bridge) = d.get("pci_bridge") {
            collect_devices(bridge.get("devices"), out);
        }
    }
}
