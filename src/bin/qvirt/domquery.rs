//! Small domain verbs answered from the domain's XML, its info and its
//! job, in virsh's words: `vcpucount`, `ttyconsole`, `domcontrol`,
//! `domif-getlink` and `domif-setlink`, and `maxvcpus` from the domain
//! capabilities.

use qvirt::driver::{DomainCapsQuery, DomainState, ModifyFlags, XmlFlags};
use qvirt::model::Interface;
use qvirt::{Domain, DomainDef, Driver, Error, ErrorCode, Result};

use crate::{Ctx, outln};

/// Which counts `vcpucount` prints.
#[derive(clap::Args, Debug, Clone, Copy)]
pub struct VcpuCountArgs {
    /// The maximum count.
    #[arg(long, conflicts_with = "active")]
    pub maximum: bool,
    /// The count of vCPUs in use.
    #[arg(long)]
    pub active: bool,
    /// The running domain's.
    #[arg(long, conflicts_with_all = ["config", "current"])]
    pub live: bool,
    /// The persistent definition's.
    #[arg(long, conflicts_with = "current")]
    pub config: bool,
    /// The running domain's when it runs, else the definition's.
    #[arg(long)]
    pub current: bool,
}

/// The definition of `dom`: the persistent one with `config`, else the
/// running one.
fn definition(driver: &dyn Driver, dom: &Domain, config: bool) -> Result<DomainDef> {
    let xml = driver.xml_desc(dom, XmlFlags::inactive_if(config))?;
    Ok(DomainDef::from_xml(&xml)?)
}

/// The refusal of a running domain's value of one that does not run.
fn not_running(dom: &Domain) -> Error {
    Error::new(
        ErrorCode::OperationInvalid,
        format!("domain '{}' is not running", dom.name),
    )
}

/// `vcpucount DOMAIN [--maximum|--active] [--live|--config|--current]`:
/// without options, virsh's table of the maximum and current counts of
/// the definition and the running domain (those that exist); with
/// them, the one number asked for.
pub fn vcpucount(ctx: &mut Ctx, arg: &str, o: VcpuCountArgs) -> Result<()> {
    let dom = ctx.domain(arg)?;
    let driver = ctx.driver()?;
    let info = driver.info(&dom)?;
    let running = info.state != DomainState::Shutoff;
    // The counts: (maximum, current) of the definition and of the run.
    let config = |d: &dyn Driver| -> Result<(u32, u32)> {
        let def = definition(d, &dom, true)?;
        Ok((def.vcpu.max, def.vcpu.current.unwrap_or(def.vcpu.max)))
    };
    let live = |d: &dyn Driver| -> Result<(u32, u32)> {
        let def = definition(d, &dom, false)?;
        Ok((def.vcpu.max, info.vcpus))
    };
    if !(o.maximum || o.active || o.live || o.config || o.current) {
        let mut rows = Vec::new();
        let conf = if info.persistent {
            Some(config(driver)?)
        } else {
            None
        };
        let run = if running { Some(live(driver)?) } else { None };
        if let Some((max, _)) = conf {
            rows.push(("maximum", "config", max));
        }
        if let Some((max, _)) = run {
            rows.push(("maximum", "live", max));
        }
        if let Some((_, cur)) = conf {
            rows.push(("current", "config", cur));
        }
        if let Some((_, cur)) = run {
            rows.push(("current", "live", cur));
        }
        for (which, state, n) in rows {
            outln!("{which:<12} {state:<12} {n:>3}")?;
        }
        return Ok(());
    }
    let from_config = o.config || (!o.live && !running);
    let (max, cur) = if from_config {
        if !info.persistent {
            return Err(Error::new(
                ErrorCode::OperationInvalid,
                "transient domains do not have any persistent config",
            ));
        }
        config(driver)?
    } else {
        if !running {
            return Err(not_running(&dom));
        }
        live(driver)?
    };
    outln!("{}", if o.maximum { max } else { cur })
}

/// `ttyconsole DOMAIN`: the pseudo-terminal of the running domain's
/// console (its first `<console>`, else its first serial port).
pub fn ttyconsole(ctx: &mut Ctx, arg: &str) -> Result<()> {
    let dom = ctx.domain(arg)?;
    let def = definition(ctx.driver()?, &dom, false)?;
    // Without a <console>, libvirt's console is the first serial port.
    let console = def.devices.consoles.first().or(def.devices.serials.first());
    let tty = console.and_then(|c| match &c.source {
        qvirt::model::CharSource::Pty { path } => path.clone(),
        _ => None,
    });
    match tty {
        Some(tty) => outln!("{tty}"),
        None => Err(Error::new(
            ErrorCode::OperationFailed,
            format!("domain '{}' has no console on a pseudo-terminal", dom.name),
        )),
    }
}

/// `domcontrol DOMAIN`: `ok`, or `job (SECONDS)` while a long job
/// (save, migration, dump, ...) holds the domain.
pub fn domcontrol(ctx: &mut Ctx, arg: &str) -> Result<()> {
    let dom = ctx.domain(arg)?;
    let driver = ctx.driver()?;
    if driver.info(&dom)?.state == DomainState::Shutoff {
        return Err(not_running(&dom));
    }
    match driver.job_info(&dom)? {
        Some(job) => outln!("job ({:.3}s)", job.elapsed.as_secs_f64()),
        None => outln!("ok"),
    }
}

/// The interface of `def` that `iface` names: its MAC address or its
/// host device (`vnet0`), as virsh finds it.
fn find_interface<'a>(def: &'a mut DomainDef, iface: &str) -> Result<&'a mut Interface> {
    let by_mac = iface.parse::<qvirt::model::MacAddr>().ok();
    let mut found = def.devices.interfaces.iter_mut().filter(|n| match by_mac {
        Some(mac) => n.mac == mac,
        None => n.target_dev.as_deref() == Some(iface),
    });
    match (found.next(), found.next()) {
        (Some(n), None) => Ok(n),
        (Some(_), Some(_)) => Err(Error::new(
            ErrorCode::InvalidArgument,
            "multiple matching interfaces found",
        )),
        (None, _) => Err(Error::new(
            ErrorCode::InvalidArgument,
            match by_mac {
                Some(_) => format!("Interface (mac: {iface}) not found."),
                None => format!("Interface (dev: {iface}) not found."),
            },
        )),
    }
}

/// `domif-getlink DOMAIN INTERFACE [--config]`: `INTERFACE up|down`.
pub fn getlink(ctx: &mut Ctx, arg: &str, iface: &str, config: bool) -> Result<()> {
    let dom = ctx.domain(arg)?;
    let mut def = definition(ctx.driver()?, &dom, config)?;
    let net = find_interface(&mut def, iface)?;
    let state = if net.link_up == Some(false) {
        "down"
    } else {
        "up"
    };
    outln!("{iface} {state}")
}

/// `domif-setlink DOMAIN INTERFACE up|down [--config]`: the link of the
/// running domain's interface (or, with `--config` or when it does not
/// run, the definition's), through `update_device`.
pub fn setlink(ctx: &mut Ctx, arg: &str, iface: &str, state: &str, config: bool) -> Result<()> {
    let up = match state {
        "up" => true,
        "down" => false,
        other => {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                format!("invalid link state '{other}'"),
            ));
        }
    };
    let dom = ctx.domain(arg)?;
    let driver = ctx.driver()?;
    let config = config || driver.info(&dom)?.state == DomainState::Shutoff;
    let mut def = definition(driver, &dom, config)?;
    let net = find_interface(&mut def, iface)?;
    net.link_up = Some(up);
    let device = net.to_xml();
    let flags = if config {
        ModifyFlags::CONFIG
    } else {
        ModifyFlags::LIVE
    };
    driver.update_device(&dom, &device, flags)?;
    outln!("Device updated successfully")
}

/// `maxvcpus [--type TYPE]`: the most vCPUs a domain of the host's
/// QEMU may have (the domain capabilities' `<vcpu max>`).
pub fn maxvcpus(ctx: &mut Ctx, virttype: Option<String>) -> Result<()> {
    let query = DomainCapsQuery::new(None, None, None, virttype);
    let caps = ctx.driver()?.domain_capabilities(&query)?;
    let doc = roxmltree::Document::parse(&caps).map_err(|e| {
        Error::new(
            ErrorCode::Internal,
            format!("cannot read the domain capabilities: {e}"),
        )
    })?;
    let max = doc
        .descendants()
        .find(|n| n.has_tag_name("vcpu"))
        .and_then(|n| n.attribute("max"))
        .ok_or_else(|| {
            Error::new(
                ErrorCode::OperationFailed,
                "the domain capabilities name no vCPU maximum",
            )
        })?;
    outln!("{max}")
}
