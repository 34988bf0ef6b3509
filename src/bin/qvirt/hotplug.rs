//! Device hot-plug verbs, as virsh's: `attach-disk`, `detach-disk`,
//! `attach-interface`, `detach-interface`, `attach-device`,
//! `detach-device`, `detach-device-alias`. The disk and interface verbs write the device XML
//! (attach) or take the device's own XML from the domain's (detach), as
//! virsh does, and call `attach_device` / `detach_device`.

use std::path::PathBuf;

use qvirt::driver::{DomainState, ModifyFlags, XmlFlags};
use qvirt::{Domain, Error, ErrorCode, Result};

use crate::args::DomArg;
use crate::{Ctx, outln};

/// virsh's `--live`, `--config`, `--persistent`, `--current` of the
/// hot-plug verbs.
#[derive(Debug, Default, clap::Args)]
pub struct PlugFlags {
    /// Change the running domain.
    #[arg(long)]
    pub live: bool,
    /// Change the persistent definition.
    #[arg(long)]
    pub config: bool,
    /// Change the definition, and the running domain when it runs.
    #[arg(long)]
    pub persistent: bool,
    /// The running domain if it runs, else the definition (the default).
    #[arg(long)]
    pub current: bool,
}

/// `attach-disk`'s arguments.
#[derive(Debug, clap::Args)]
pub struct AttachDiskArgs {
    #[command(flatten)]
    pub dom: DomArg,
    /// The image file or block device.
    pub source: PathBuf,
    /// The target (vdb, sda...).
    pub target: String,
    /// The driver (only `qemu`).
    #[arg(long)]
    pub driver: Option<String>,
    /// The image format: raw or qcow2 (default: raw).
    #[arg(long)]
    pub subdriver: Option<String>,
    /// The device: disk or cdrom (default: disk).
    #[arg(long = "type")]
    pub device: Option<String>,
    /// readonly or shareable.
    #[arg(long)]
    pub mode: Option<String>,
    /// The bus: virtio, scsi, usb, sata... (default: from the target's
    /// prefix).
    #[arg(long)]
    pub targetbus: Option<String>,
    /// The cache mode (none, writeback, writethrough, directsync, unsafe).
    #[arg(long)]
    pub cache: Option<String>,
    /// Print the XML instead of attaching it.
    #[arg(long)]
    pub print_xml: bool,
    #[command(flatten)]
    pub at: PlugFlags,
}

/// `detach-disk`'s arguments.
#[derive(Debug, clap::Args)]
pub struct DetachDiskArgs {
    #[command(flatten)]
    pub dom: DomArg,
    /// The target (vdb) or source path of the disk.
    pub target: String,
    #[command(flatten)]
    pub at: PlugFlags,
}

/// `attach-interface`'s arguments.
#[derive(Debug, clap::Args)]
pub struct AttachInterfaceArgs {
    #[command(flatten)]
    pub dom: DomArg,
    /// The type: user, bridge, network, ethernet.
    #[arg(value_name = "TYPE")]
    pub kind: String,
    /// The source: the bridge's or network's name (ignored for user).
    pub source: String,
    /// The NIC model (virtio, e1000...).
    #[arg(long)]
    pub model: Option<String>,
    /// The MAC address (default: a random one).
    #[arg(long)]
    pub mac: Option<String>,
    /// The host's tap device name (bridge, ethernet).
    #[arg(long)]
    pub target: Option<String>,
    /// Print the XML instead of attaching it.
    #[arg(long)]
    pub print_xml: bool,
    #[command(flatten)]
    pub at: PlugFlags,
}

/// `detach-interface`'s arguments.
#[derive(Debug, clap::Args)]
pub struct DetachInterfaceArgs {
    #[command(flatten)]
    pub dom: DomArg,
    /// The type: user, bridge, network, ethernet.
    #[arg(value_name = "TYPE")]
    pub kind: String,
    /// The MAC address of the interface (needed when the domain has more
    /// than one of that type).
    #[arg(long)]
    pub mac: Option<String>,
    #[command(flatten)]
    pub at: PlugFlags,
}

/// `attach-device` and `detach-device`'s arguments.
#[derive(Debug, clap::Args)]
pub struct DeviceFileArgs {
    #[command(flatten)]
    pub dom: DomArg,
    /// The device XML file (`-` reads stdin).
    pub file: PathBuf,
    #[command(flatten)]
    pub at: PlugFlags,
}

/// `detach-device-alias`'s arguments: virsh's `--live`, `--config`,
/// `--current` (the default).
#[derive(Debug, clap::Args)]
pub struct DeviceAliasArgs {
    #[command(flatten)]
    pub dom: DomArg,
    /// The device's alias (`virtio-disk1`, `net0`, `ua-...`).
    pub alias: String,
    #[command(flatten)]
    pub at: crate::args::WhereArgs,
}

/// The flags for `dom`, as virsh computes them: `--persistent` is the
/// definition, and the running domain too when it runs.
fn flags(ctx: &mut Ctx, dom: &Domain, at: &PlugFlags) -> Result<ModifyFlags> {
    if at.current && (at.live || at.config || at.persistent) {
        return Err(Error::new(
            ErrorCode::InvalidArgument,
            "--current cannot be combined with --live, --config or --persistent",
        ));
    }
    let mut live = at.live;
    if at.persistent {
        let state = ctx.driver()?.info(dom)?.state;
        live |= matches!(state, DomainState::Running | DomainState::Paused);
    }
    Ok(ModifyFlags::new(live, at.config || at.persistent))
}

/// `&`, `<`, `>` and both quotes as entities, for an attribute value.
fn attr(value: &str) -> String {
    value
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('\'', "&apos;")
        .replace('"', "&quot;")
}

/// `attach-disk DOMAIN SOURCE TARGET`.
pub fn attach_disk(ctx: &mut Ctx, a: AttachDiskArgs) -> Result<()> {
    let bad = |m: String| Error::new(ErrorCode::InvalidArgument, m);
    if let Some(d) = &a.driver
        && d != "qemu"
    {
        return Err(bad(format!("--driver '{d}': only 'qemu' is supported")));
    }
    let device = a.device.as_deref().unwrap_or("disk");
    if !matches!(device, "disk" | "cdrom") {
        return Err(bad(format!("--type '{device}': use disk or cdrom")));
    }
    let source = std::path::absolute(&a.source)
        .map_err(|e| Error::io(format!("cannot resolve {}", a.source.display()), e))?;
    let source = source.to_string_lossy().into_owned();
    let block = std::fs::metadata(&source).is_ok_and(|m| {
        use std::os::unix::fs::FileTypeExt;
        m.file_type().is_block_device()
    });
    let mut xml = format!(
        "<disk type='{}' device='{device}'>",
        if block { "block" } else { "file" }
    );
    let format = a.subdriver.as_deref().unwrap_or("raw");
    xml += &format!("<driver name='qemu' type='{}'", attr(format));
    if let Some(cache) = &a.cache {
        xml += &format!(" cache='{}'", attr(cache));
    }
    xml += "/>";
    xml += &format!(
        "<source {}='{}'/>",
        if block { "dev" } else { "file" },
        attr(&source)
    );
    xml += &format!("<target dev='{}'", attr(&a.target));
    if let Some(bus) = &a.targetbus {
        xml += &format!(" bus='{}'", attr(bus));
    }
    xml += "/>";
    match a.mode.as_deref() {
        None => {}
        Some("readonly") => xml += "<readonly/>",
        Some("shareable") => xml += "<shareable/>",
        Some(m) => return Err(bad(format!("--mode '{m}': use readonly or shareable"))),
    }
    xml += "</disk>";
    if a.print_xml {
        return outln!("{xml}");
    }
    let dom = ctx.domain(&a.dom.domain)?;
    let flags = flags(ctx, &dom, &a.at)?;
    ctx.driver()?.attach_device(&dom, &xml, flags)?;
    outln!("Disk attached successfully")
}

/// `attach-interface DOMAIN TYPE SOURCE`.
pub fn attach_interface(ctx: &mut Ctx, a: AttachInterfaceArgs) -> Result<()> {
    let mut xml = format!("<interface type='{}'>", attr(&a.kind));
    match a.kind.as_str() {
        "user" => {}
        "bridge" => xml += &format!("<source bridge='{}'/>", attr(&a.source)),
        "network" => xml += &format!("<source network='{}'/>", attr(&a.source)),
        "ethernet" => {}
        other => {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                format!("interface type '{other}': use user, bridge, network or ethernet"),
            ));
        }
    }
    if let Some(mac) = &a.mac {
        xml += &format!("<mac address='{}'/>", attr(mac));
    }
    if let Some(t) = &a.target {
        xml += &format!("<target dev='{}'/>", attr(t));
    }
    if let Some(m) = &a.model {
        xml += &format!("<model type='{}'/>", attr(m));
    }
    xml += "</interface>";
    if a.print_xml {
        return outln!("{xml}");
    }
    let dom = ctx.domain(&a.dom.domain)?;
    let flags = flags(ctx, &dom, &a.at)?;
    ctx.driver()?.attach_device(&dom, &xml, flags)?;
    outln!("Interface attached successfully")
}

/// The domain's XML the detach verbs search: the live one when the
/// running domain changes, else the definition.
fn searched_xml(ctx: &mut Ctx, dom: &Domain, flags: ModifyFlags) -> Result<String> {
    let running = matches!(
        ctx.driver()?.info(dom)?.state,
        DomainState::Running | DomainState::Paused
    );
    let live = flags.live || (!flags.config && running);
    ctx.driver()?.xml_desc(dom, XmlFlags::inactive_if(!live))
}

/// The text of each `<devices>` child named `name` of a domain's XML,
/// with its attributes and children read by `keep`.
fn device_elements(
    xml: &str,
    name: &str,
    keep: impl Fn(roxmltree::Node) -> bool,
) -> Result<Vec<String>> {
    let doc = roxmltree::Document::parse(xml).map_err(|e| {
        Error::new(
            ErrorCode::Protocol,
            format!("the domain's XML does not parse: {e}"),
        )
    })?;
    Ok(doc
        .descendants()
        .filter(|n| n.has_tag_name("devices"))
        .flat_map(|d| d.children())
        .filter(|n| n.has_tag_name(name) && keep(*n))
        .map(|n| xml[n.range()].to_string())
        .collect())
}

/// The value of attribute `attr` of child `child` of `node`.
fn child_attr<'a>(node: roxmltree::Node<'a, 'a>, child: &str, attr: &str) -> Option<&'a str> {
    node.children()
        .find(|c| c.has_tag_name(child))
        .and_then(|c| c.attribute(attr))
}

/// `detach-disk DOMAIN TARGET`.
pub fn detach_disk(ctx: &mut Ctx, a: DetachDiskArgs) -> Result<()> {
    let dom = ctx.domain(&a.dom.domain)?;
    let flags = flags(ctx, &dom, &a.at)?;
    let xml = searched_xml(ctx, &dom, flags)?;
    let found = device_elements(&xml, "disk", |n| {
        child_attr(n, "target", "dev") == Some(a.target.as_str())
            || child_attr(n, "source", "file") == Some(a.target.as_str())
            || child_attr(n, "source", "dev") == Some(a.target.as_str())
    })?;
    let Some(disk) = found.first() else {
        return Err(Error::new(
            ErrorCode::InvalidArgument,
            format!("No disk found whose source path or target is {}", a.target),
        ));
    };
    ctx.driver()?.detach_device(&dom, disk, flags)?;
    outln!("Disk detached successfully")
}

/// `detach-interface DOMAIN TYPE [--mac MAC]`.
pub fn detach_interface(ctx: &mut Ctx, a: DetachInterfaceArgs) -> Result<()> {
    let dom = ctx.domain(&a.dom.domain)?;
    let flags = flags(ctx, &dom, &a.at)?;
    let xml = searched_xml(ctx, &dom, flags)?;
    let mac = a.mac.as_ref().map(|m| m.to_ascii_lowercase());
    let found = device_elements(&xml, "interface", |n| {
        n.attribute("type") == Some(a.kind.as_str())
            && mac.as_deref().is_none_or(|m| {
                child_attr(n, "mac", "address").map(str::to_ascii_lowercase) == Some(m.into())
            })
    })?;
    let iface = match found.as_slice() {
        [one] => one,
        [] => {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                match &a.mac {
                    Some(m) => format!(
                        "No interface found whose type is {} and MAC address is {m}",
                        a.kind
                    ),
                    None => format!("No interface found whose type is {}", a.kind),
                },
            ));
        }
        many => {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                format!(
                    "Domain has {} interfaces. Please specify which one to detach using --mac",
                    many.len()
                ),
            ));
        }
    };
    ctx.driver()?.detach_device(&dom, iface, flags)?;
    outln!("Interface detached successfully")
}

/// Reads a device XML file (`-`: stdin).
fn read_file(path: &std::path::Path) -> Result<String> {
    if path.as_os_str() == "-" {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
            .map_err(|e| Error::io("cannot read the device XML from stdin", e))?;
        return Ok(s);
    }
    std::fs::read_to_string(path)
        .map_err(|e| Error::io(format!("cannot read {}", path.display()), e))
}

/// `attach-device DOMAIN FILE`.
pub fn attach_device(ctx: &mut Ctx, a: DeviceFileArgs) -> Result<()> {
    let xml = read_file(&a.file)?;
    let dom = ctx.domain(&a.dom.domain)?;
    let flags = flags(ctx, &dom, &a.at)?;
    ctx.driver()?.attach_device(&dom, &xml, flags)?;
    outln!("Device attached successfully")
}

/// `detach-device-alias DOMAIN ALIAS`.
pub fn detach_device_alias(ctx: &mut Ctx, a: DeviceAliasArgs) -> Result<()> {
    let dom = ctx.domain(&a.dom.domain)?;
    let flags = crate::resources::modify_flags(a.at.live, a.at.config, a.at.current)?;
    ctx.driver()?.detach_device_alias(&dom, &a.alias, flags)?;
    outln!("Device detach request sent successfully")
}

/// `detach-device DOMAIN FILE`.
pub fn detach_device(ctx: &mut Ctx, a: DeviceFileArgs) -> Result<()> {
    let xml = read_file(&a.file)?;
    let dom = ctx.domain(&a.dom.domain)?;
    let flags = flags(ctx, &dom, &a.at)?;
    ctx.driver()?.detach_device(&dom, &xml, flags)?;
    outln!("Device detached successfully")
}

/// `update-device DOMAIN FILE`.
pub fn update_device(ctx: &mut Ctx, a: DeviceFileArgs) -> Result<()> {
    let xml = read_file(&a.file)?;
    let dom = ctx.domain(&a.dom.domain)?;
    let flags = flags(ctx, &dom, &a.at)?;
    ctx.driver()?.update_device(&dom, &xml, flags)?;
    outln!("Device updated successfully")
}
