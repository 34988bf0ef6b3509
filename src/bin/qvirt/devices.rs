//! Device verbs: `domiflist` and `domblklist` (read from the domain XML,
//! in virsh's columns), `change-media`, `screenshot`, and
//! `update-memory-device`.

use std::path::{Path, PathBuf};

use qvirt::driver::{MediaChange, MediaFlags, XmlFlags};
use qvirt::model::{Interface, InterfaceType, PortProto};
use qvirt::{DomainDef, Error, ErrorCode, Result};

use crate::query::table;
use crate::{Ctx, outln};

/// The definition `domiflist` and `domblklist` read: the live one unless
/// `inactive`.
fn definition(ctx: &mut Ctx, arg: &str, inactive: bool) -> Result<DomainDef> {
    let dom = ctx.domain(arg)?;
    let xml = ctx
        .driver()?
        .xml_desc(&dom, XmlFlags::inactive_if(inactive))?;
    Ok(DomainDef::from_xml(&xml)?)
}

/// `domiflist`: ` Interface   Type   Source   Model   MAC`, one row per
/// interface. For user networking the source column lists the forwarded
/// ports (`tcp/127.0.0.1:8080->80`), where virsh has nothing to show.
pub fn domiflist(ctx: &mut Ctx, arg: &str, inactive: bool, json: bool) -> Result<()> {
    let def = definition(ctx, arg, inactive)?;
    if json {
        let rows: Vec<_> = def
            .devices
            .interfaces
            .iter()
            .map(|net| {
                let (kind, source) = iface_kind_source(net);
                serde_json::json!({
                    "interface": net.target_dev,
                    "type": kind,
                    "source": source,
                    "model": net.model,
                    "mac": net.mac.to_string(),
                })
            })
            .collect();
        return outln!("{}", serde_json::Value::Array(rows));
    }
    let mut rows = vec![[
        "Interface".to_string(),
        "Type".to_string(),
        "Source".to_string(),
        "Model".to_string(),
        "MAC".to_string(),
    ]];
    for net in &def.devices.interfaces {
        let (kind, source) = iface_kind_source(net);
        rows.push([
            net.target_dev.clone().unwrap_or_else(|| "-".to_string()),
            kind.to_string(),
            source,
            net.model.clone().unwrap_or_else(|| "-".to_string()),
            net.mac.to_string(),
        ]);
    }
    crate::output::write(&table(&rows))
}

/// An interface's type word and its source column.
fn iface_kind_source(net: &Interface) -> (&'static str, String) {
    match &net.kind {
        InterfaceType::User => ("user", forwards(net)),
        InterfaceType::Network(n) => ("network", n.clone()),
        InterfaceType::Bridge(b) => ("bridge", b.clone()),
        InterfaceType::Ethernet => ("ethernet", "-".to_string()),
        InterfaceType::Direct { dev, .. } => ("direct", dev.clone()),
        InterfaceType::VhostUser { path, .. } => ("vhostuser", path.clone()),
        InterfaceType::Server(s) | InterfaceType::Client(s) | InterfaceType::Mcast(s) => {
            (net.kind.type_name(), socket_text(s))
        }
        InterfaceType::Udp { remote, .. } => ("udp", socket_text(remote)),
    }
}

/// `ADDRESS:PORT` of a socket interface, `*:PORT` for a server on every
/// address.
fn socket_text(s: &qvirt::model::NetSocket) -> String {
    format!("{}:{}", s.address.as_deref().unwrap_or("*"), s.port)
}

/// The forwarded ports of a user-networking interface, `-` for none:
/// `PROTO/HOSTADDR:HOSTPORT->GUESTPORT`, a range as `START-END->TO-...`.
fn forwards(net: &Interface) -> String {
    let mut out = Vec::new();
    for rule in &net.port_forwards {
        let proto = match rule.proto {
            PortProto::Tcp => "tcp",
            PortProto::Udp => "udp",
        };
        let addr = rule.address.as_deref().unwrap_or("127.0.0.1");
        for r in &rule.ranges {
            let to = r.to.unwrap_or(r.start);
            out.push(match r.end.filter(|e| *e != r.start) {
                None => format!("{proto}/{addr}:{}->{to}", r.start),
                Some(end) => {
                    let last = u32::from(to) + u32::from(end.saturating_sub(r.start));
                    format!("{proto}/{addr}:{}-{end}->{to}-{last}", r.start)
                }
            });
        }
    }
    if out.is_empty() {
        "-".to_string()
    } else {
        out.join(",")
    }
}

/// `domblklist`: ` Target   Source`, or with `details`
/// ` Type   Device   Target   Source`.
pub fn domblklist(
    ctx: &mut Ctx,
    arg: &str,
    inactive: bool,
    details: bool,
    json: bool,
) -> Result<()> {
    let def = definition(ctx, arg, inactive)?;
    let source = |s: &Option<String>| s.clone().unwrap_or_else(|| "-".to_string());
    let words = |d: &qvirt::model::Disk| {
        let kind = d.kind.as_str();
        (kind, d.device.as_str())
    };
    if json {
        let rows: Vec<_> = def
            .devices
            .disks
            .iter()
            .map(|d| {
                let (kind, device) = words(d);
                serde_json::json!({
                    "type": kind,
                    "device": device,
                    "target": d.target,
                    "source": d.source,
                })
            })
            .collect();
        return outln!("{}", serde_json::Value::Array(rows));
    }
    if !details {
        let mut rows = vec![["Target".to_string(), "Source".to_string()]];
        for d in &def.devices.disks {
            rows.push([d.target.clone(), source(&d.source)]);
        }
        return crate::output::write(&table(&rows));
    }
    let mut rows = vec![[
        "Type".to_string(),
        "Device".to_string(),
        "Target".to_string(),
        "Source".to_string(),
    ]];
    for d in &def.devices.disks {
        let (kind, device) = words(d);
        rows.push([
            kind.to_string(),
            device.to_string(),
            d.target.clone(),
            match &d.volume {
                Some(v) => v.volume.clone(),
                None => source(&d.source),
            },
        ]);
    }
    crate::output::write(&table(&rows))
}

/// What `change-media` was asked.
pub struct MediaArgs {
    /// The drive's target, or the file it holds.
    pub path: String,
    /// The medium file.
    pub source: Option<PathBuf>,
    /// `--eject`.
    pub eject: bool,
    /// `--insert`.
    pub insert: bool,
    /// `--live`.
    pub live: bool,
    /// `--config`.
    pub config: bool,
}

/// `change-media`: virsh's action words and messages. `--update` (the
/// default) without a source ejects.
pub fn change_media(ctx: &mut Ctx, arg: &str, a: MediaArgs) -> Result<()> {
    let dom = ctx.domain(arg)?;
    let (change, done) = match (a.eject, a.insert, a.source) {
        (true, _, Some(_)) => {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                "--eject takes no source file",
            ));
        }
        (true, _, None) => (MediaChange::Eject, "ejected"),
        (false, true, Some(file)) => (MediaChange::Insert(file), "inserted"),
        (false, true, None) => {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                "no source is given for inserting media",
            ));
        }
        (false, false, Some(file)) => (MediaChange::Update(file), "updated"),
        (false, false, None) => (MediaChange::Eject, "updated"),
    };
    let flags = MediaFlags::new(a.live, a.config);
    let target = drive_target(ctx, &dom, &a.path, flags)?;
    ctx.driver()?.change_media(&dom, &target, change, flags)?;
    outln!("Successfully {done} media.")
}

/// The target of the drive `path` names: a target as it is, or the disk
/// whose source is that file (as virsh also accepts).
fn drive_target(
    ctx: &mut Ctx,
    dom: &qvirt::Domain,
    path: &str,
    flags: MediaFlags,
) -> Result<String> {
    let driver = ctx.driver()?;
    let inactive = flags.config && !flags.live;
    let def = DomainDef::from_xml(&driver.xml_desc(dom, XmlFlags::inactive_if(inactive))?)?;
    let disks = &def.devices.disks;
    if disks.iter().any(|d| d.target == path) {
        return Ok(path.to_string());
    }
    let absolute = std::path::absolute(Path::new(path)).ok();
    let found = disks.iter().find(|d| {
        d.source
            .as_deref()
            .is_some_and(|s| s == path || absolute.as_deref() == Some(Path::new(s)))
    });
    // An unknown name goes to the driver, whose error lists the targets.
    Ok(found.map_or_else(|| path.to_string(), |d| d.target.clone()))
}

/// `screenshot`: writes the PNG and says where, as virsh does.
pub fn screenshot(ctx: &mut Ctx, arg: &str, file: Option<PathBuf>) -> Result<()> {
    let dom = ctx.domain(arg)?;
    let png = ctx.driver()?.screenshot(&dom)?;
    let file = file.unwrap_or_else(|| {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        PathBuf::from(format!("{}-{secs}.png", dom.name))
    });
    std::fs::write(&file, &png)
        .map_err(|e| Error::io(format!("cannot write {}", file.display()), e))?;
    outln!(
        "Screenshot saved to {}, with type of image/png",
        file.display()
    )
}

/// `domifaddr DOMAIN [--interface NAME] [--full] [--source S] [--json]`,
/// laid out as virsh's.
pub fn domifaddr(
    ctx: &mut Ctx,
    arg: &str,
    interface: Option<&str>,
    full: bool,
    source: &str,
    json: bool,
) -> Result<()> {
    let source = qvirt::driver::AddressSource::from_name(source).ok_or_else(|| {
        Error::new(
            ErrorCode::InvalidArgument,
            format!("unknown source '{source}': use lease, arp or agent"),
        )
    })?;
    let dom = ctx.domain(arg)?;
    let ifaces: Vec<_> = ctx
        .driver()?
        .interface_addresses(&dom, source)?
        .into_iter()
        .filter(|i| interface.is_none_or(|n| n == i.name))
        .collect();
    if json {
        let out: Vec<serde_json::Value> = ifaces
            .iter()
            .map(|i| {
                serde_json::json!({
                    "name": i.name,
                    "mac": i.mac,
                    "addresses": i.addrs.iter().map(|a| serde_json::json!({
                        "type": if a.ipv6 { "ipv6" } else { "ipv4" },
                        "address": a.addr,
                        "prefix": a.prefix,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        return outln!("{}", serde_json::Value::Array(out));
    }
    let mut text = format!(
        " {:<10} {:<20} {:<8}     {}\n{}\n",
        "Name",
        "MAC address",
        "Protocol",
        "Address",
        "-".repeat(79)
    );
    for i in &ifaces {
        if i.addrs.is_empty() {
            text.push_str(&format!(
                " {:<10} {:<17}    {:<12} N/A\n",
                i.name, i.mac, "N/A"
            ));
        }
        for (j, a) in i.addrs.iter().enumerate() {
            let addr = format!(
                "{:<12} {}/{}",
                if a.ipv6 { "ipv6" } else { "ipv4" },
                a.addr,
                a.prefix
            );
            let (name, mac) = if full || j == 0 {
                (i.name.as_str(), i.mac.as_str())
            } else {
                ("-", "-")
            };
            text.push_str(&format!(" {name:<10} {mac:<17}    {addr}\n"));
        }
    }
    crate::output::write(&text)
}

/// `update-memory-device`'s arguments, as virsh's.
#[derive(Debug, clap::Args)]
pub struct UpdateMemoryArgs {
    #[command(flatten)]
    pub dom: crate::args::DomArg,
    /// Print the device's new XML instead of changing it.
    #[arg(long)]
    pub print_xml: bool,
    /// The device by its alias (`virtiomem0`).
    #[arg(long, conflicts_with = "node")]
    pub alias: Option<String>,
    /// The device by its guest NUMA node.
    #[arg(long)]
    pub node: Option<u32>,
    /// The new requested size (KiB, or with a unit: 512M, 1GiB).
    #[arg(long = "requested-size", value_name = "SIZE")]
    pub requested_size: Option<String>,
    #[command(flatten)]
    pub at: crate::args::WhereArgs,
}

/// `update-memory-device`: virsh's cycle, the one `<memory>` device the
/// options select (of the definition with `--config`, else of the running
/// domain) with a new `<requested>`, given to
/// [`qvirt::Driver::update_device`].
pub fn update_memory_device(ctx: &mut Ctx, a: UpdateMemoryArgs) -> Result<()> {
    let flags = crate::resources::modify_flags(a.at.live, a.at.config, a.at.current)?;
    let dom = ctx.domain(&a.dom.domain)?;
    let xml = ctx
        .driver()?
        .xml_desc(&dom, XmlFlags::inactive_if(a.at.config))?;
    let def = DomainDef::from_xml(&xml)?;
    let ids = qvirt::qemu::argv::memory_device_ids(&def);
    let found: Vec<usize> = (0..def.devices.memories.len())
        .filter(|&i| {
            let m = &def.devices.memories[i];
            a.alias.as_ref().is_none_or(|x| *x == ids[i].0)
                && a.node.is_none_or(|n| m.node == Some(n))
        })
        .collect();
    let i = match found[..] {
        [i] => i,
        [] => {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                "no memory device found",
            ));
        }
        _ => {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                "multiple memory devices found, use --alias or --node to select one",
            ));
        }
    };
    let mut m = def.devices.memories[i].clone();
    if let Some(size) = &a.requested_size {
        if m.model != qvirt::model::MemoryModel::VirtioMem {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                "virtio-mem device is missing <requested/>",
            ));
        }
        m.requested_kib = crate::resources::parse_kib(size, 1024)?;
    }
    let xml = m.to_xml();
    if a.print_xml {
        return outln!("{}", xml.trim_end());
    }
    ctx.driver()?.update_device(&dom, &xml, flags)
}
