//! Verbs that only read: list, dominfo, domstate, dumpxml, vncdisplay,
//! nodeinfo, version, capabilities. Text output has virsh's layout.

use qvirt::driver::{DomainInfo, ListFilter, XmlFlags};
use qvirt::model::{GraphicsListen, GraphicsType};
use qvirt::{DomainDef, DomainState, Error, ErrorCode, Result};
use serde_json::json;

use crate::args::ListArgs;
use crate::{Ctx, outln};

/// `list`: virsh's table, UUIDs / ids / names, or JSON, filtered as
/// virsh filters (`virConnectListAllDomains`' flag groups).
pub fn list(ctx: &mut Ctx, args: &ListArgs) -> Result<()> {
    // As virsh: --state-shutoff alone means the shut-off set; a state
    // the base set cannot hold widens nothing (`--state-paused
    // --inactive` lists nothing).
    let filter = if args.all {
        ListFilter::ALL
    } else if args.inactive || args.state_shutoff {
        ListFilter::INACTIVE
    } else {
        ListFilter::ACTIVE
    };
    let driver = ctx.driver()?;
    let summaries = driver.list(filter)?;
    // What only `info` knows is read once per domain, when a filter or
    // the output needs it; a domain gone in between is left out.
    let needs_info = args.json
        || args.persistent
        || args.transient
        || args.with_managed_save
        || args.without_managed_save
        || args.autostart
        || args.no_autostart
        || args.managed_save;
    let mut rows = Vec::new();
    for s in summaries {
        let info = if needs_info {
            match driver.info(&s.domain) {
                Ok(i) => Some(i),
                Err(e) if e.code == ErrorCode::NoDomain => continue,
                Err(e) => return Err(e),
            }
        } else {
            None
        };
        if !list_filter_keeps(args, s.state, info.as_ref()) {
            continue;
        }
        rows.push((s, info));
    }
    let title_of = |dom: &qvirt::Domain| -> Result<String> {
        let xml = driver.xml_desc(dom, XmlFlags::NONE)?;
        Ok(DomainDef::from_xml(&xml)?.title.unwrap_or_default())
    };
    if args.json {
        let mut out = Vec::new();
        for (s, info) in &rows {
            let info = info.as_ref().expect("read for --json");
            let mut value = info_json(&s.domain, info);
            value["messages"] = json!(messages_of(driver, &s.domain, info)?);
            if args.title {
                value["title"] = json!(title_of(&s.domain)?);
            }
            out.push(value);
        }
        return outln!("{}", serde_json::Value::Array(out));
    }
    if args.uuid || args.name || args.id {
        let mut text = String::new();
        for (s, _) in &rows {
            let mut fields = Vec::new();
            if args.uuid {
                fields.push(s.domain.uuid.to_string());
            }
            if args.id {
                // Ids alone: only the running domains have one to print.
                if s.domain.id.is_none() && !args.uuid && !args.name {
                    continue;
                }
                fields.push(id_text(s.domain.id));
            }
            if args.name {
                fields.push(s.domain.name.clone());
            }
            text.push_str(&fields.join(" "));
            text.push('\n');
        }
        return crate::output::write(&text);
    }
    let state_word = |s: &qvirt::driver::DomainSummary, info: Option<&DomainInfo>| {
        if args.managed_save
            && s.state == DomainState::Shutoff
            && info.is_some_and(|i| i.managed_save)
        {
            "saved".to_string()
        } else {
            s.state.as_str().to_string()
        }
    };
    if args.title {
        let mut table_rows = vec![[
            "Id".to_string(),
            "Name".to_string(),
            "State".to_string(),
            "Title".to_string(),
        ]];
        for (s, info) in &rows {
            table_rows.push([
                id_text(s.domain.id),
                s.domain.name.clone(),
                state_word(s, info.as_ref()),
                title_of(&s.domain)?,
            ]);
        }
        return crate::output::write(&table(&table_rows));
    }
    let mut table_rows = vec![["Id".to_string(), "Name".to_string(), "State".to_string()]];
    for (s, info) in &rows {
        table_rows.push([
            id_text(s.domain.id),
            s.domain.name.clone(),
            state_word(s, info.as_ref()),
        ]);
    }
    crate::output::write(&table(&table_rows))
}

/// Whether a domain passes `list`'s filters: each group given must match
/// (persistence, managed save, autostart, state), any flag of a group will
/// do.
fn list_filter_keeps(args: &ListArgs, state: DomainState, info: Option<&DomainInfo>) -> bool {
    let group = |yes: bool, no: bool, value: Option<bool>| {
        if !yes && !no {
            return true;
        }
        let v = value.unwrap_or(false);
        (yes && v) || (no && !v)
    };
    let states = [
        (args.state_running, state == DomainState::Running),
        (args.state_paused, state == DomainState::Paused),
        (args.state_shutoff, state == DomainState::Shutoff),
        (
            args.state_other,
            !matches!(
                state,
                DomainState::Running | DomainState::Paused | DomainState::Shutoff
            ),
        ),
    ];
    let state_ok = !states.iter().any(|(asked, _)| *asked) || states.iter().any(|(a, m)| *a && *m);
    state_ok
        && group(args.persistent, args.transient, info.map(|i| i.persistent))
        && group(
            args.with_managed_save,
            args.without_managed_save,
            info.map(|i| i.managed_save),
        )
        && group(args.autostart, args.no_autostart, info.map(|i| i.autostart))
}

/// The JSON object of a domain's `dominfo`: the shape `dominfo --json`
/// and `list --json` share.
fn info_json(dom: &qvirt::Domain, info: &DomainInfo) -> serde_json::Value {
    json!({
        "id": dom.id,
        "name": dom.name,
        "uuid": dom.uuid.to_string(),
        "os_type": "hvm",
        "state": info.state.as_str(),
        "reason": info.reason.as_str(),
        "vcpus": info.vcpus,
        "cpu_time_ns": info.cpu_time_ns,
        "max_memory_kib": info.max_memory_kib,
        "memory_kib": info.memory_kib,
        "persistent": info.persistent,
        "autostart": info.autostart,
        "managed_save": info.managed_save,
    })
}

/// The domain's messages (taints); a shut-off domain has none to ask for.
fn messages_of(
    d: &dyn qvirt::Driver,
    dom: &qvirt::Domain,
    info: &DomainInfo,
) -> Result<Vec<String>> {
    if info.state == qvirt::DomainState::Shutoff {
        return Ok(Vec::new());
    }
    d.messages(dom)
}

/// A running id as virsh prints it: the number, or `-` while shut off.
fn id_text(id: Option<u32>) -> String {
    id.map_or_else(|| "-".to_string(), |i| i.to_string())
}

/// Lays out rows the way virsh's tables do: the first row is the header,
/// each cell is preceded by one space and padded to its column's width plus
/// two (except the last), and a dashed line of the column widths plus three
/// each separates header and body.
pub fn table<const N: usize>(rows: &[[String; N]]) -> String {
    let mut widths = [0usize; N];
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for (i, row) in rows.iter().enumerate() {
        for (j, cell) in row.iter().enumerate() {
            out.push(' ');
            out.push_str(cell);
            if j + 1 < N {
                let pad = widths[j] - cell.chars().count() + 2;
                out.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push('\n');
        if i == 0 {
            let dashes: usize = widths.iter().map(|w| w + 3).sum();
            out.extend(std::iter::repeat_n('-', dashes));
            out.push('\n');
        }
    }
    out
}

/// `dominfo`: virsh's `Label:  value` lines, or one JSON object.
pub fn dominfo(ctx: &mut Ctx, arg: &str, json: bool) -> Result<()> {
    let dom = ctx.domain(arg)?;
    let info: DomainInfo = ctx.driver()?.info(&dom)?;
    let messages = messages_of(ctx.driver()?, &dom, &info)?;
    if json {
        let mut value = info_json(&dom, &info);
        value["messages"] = json!(messages);
        return outln!("{value}");
    }
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    let mut lines: Vec<(&str, String)> = vec![
        ("Id:", id_text(dom.id)),
        ("Name:", dom.name.clone()),
        ("UUID:", dom.uuid.to_string()),
        ("OS Type:", "hvm".to_string()),
        ("State:", info.state.as_str().to_string()),
        ("CPU(s):", info.vcpus.to_string()),
    ];
    // virsh leaves the CPU time out when it is zero (shut off).
    if info.cpu_time_ns != 0 {
        lines.push((
            "CPU time:",
            format!("{:.1}s", info.cpu_time_ns as f64 / 1e9),
        ));
    }
    lines.extend([
        ("Max memory:", format!("{} KiB", info.max_memory_kib)),
        ("Used memory:", format!("{} KiB", info.memory_kib)),
        ("Persistent:", yes_no(info.persistent).to_string()),
        (
            "Autostart:",
            if info.autostart { "enable" } else { "disable" }.to_string(),
        ),
        ("Managed save:", yes_no(info.managed_save).to_string()),
    ]);
    // virsh: "Messages:" on the first, the others below it.
    for (i, m) in messages.into_iter().enumerate() {
        lines.push((if i == 0 { "Messages:" } else { "" }, m));
    }
    let text: String = lines
        .iter()
        .map(|(label, value)| format!("{label:<15} {value}\n"))
        .collect();
    crate::output::write(&text)
}

/// `domstate`: virsh's state word, with `--reason` `state (reason)`.
pub fn domstate(ctx: &mut Ctx, arg: &str, reason: bool, json: bool) -> Result<()> {
    let dom = ctx.domain(arg)?;
    let info = ctx.driver()?.info(&dom)?;
    if json {
        return outln!(
            "{}",
            json!({"state": info.state.as_str(), "reason": info.reason.as_str()})
        );
    }
    if reason {
        outln!("{} ({})", info.state.as_str(), info.reason.as_str())
    } else {
        outln!("{}", info.state.as_str())
    }
}

/// `domid`: the running id, or `-`.
pub fn domid(ctx: &mut Ctx, arg: &str) -> Result<()> {
    let dom = ctx.domain(arg)?;
    outln!("{}", id_text(dom.id))
}

/// `domuuid`.
pub fn domuuid(ctx: &mut Ctx, arg: &str) -> Result<()> {
    let dom = ctx.domain(arg)?;
    outln!("{}", dom.uuid)
}

/// `domname`.
pub fn domname(ctx: &mut Ctx, arg: &str) -> Result<()> {
    let dom = ctx.domain(arg)?;
    outln!("{}", dom.name)
}

/// `dumpxml`: the live XML, or the persistent one with `--inactive`;
/// secrets (the VNC password) only with `--security-info`; the
/// migratable form with `--migratable`.
pub fn dumpxml(
    ctx: &mut Ctx,
    arg: &str,
    flags: XmlFlags,
    xpath: Option<&str>,
    wrap: bool,
) -> Result<()> {
    let dom = ctx.domain(arg)?;
    let mut xml = ctx.driver()?.xml_desc(&dom, flags)?;
    if let Some(expr) = xpath {
        return crate::output::write(&crate::xpath::select(&xml, expr, wrap)?);
    }
    if !xml.ends_with('\n') {
        xml.push('\n');
    }
    crate::output::write(&xml)
}

/// `vncdisplay`: `ADDRESS:DISPLAY` of a running domain's VNC server, read
/// from its live XML.
pub fn vncdisplay(ctx: &mut Ctx, arg: &str, json: bool) -> Result<()> {
    let dom = ctx.domain(arg)?;
    let driver = ctx.driver()?;
    if driver.info(&dom)?.state == DomainState::Shutoff {
        return Err(Error::new(
            ErrorCode::OperationInvalid,
            format!("domain '{}' is not running", dom.name),
        ));
    }
    let def = DomainDef::from_xml(&driver.xml_desc(&dom, XmlFlags::NONE)?)?;
    let graphics = def
        .devices
        .graphics
        .iter()
        .find(|g| g.kind == qvirt::model::GraphicsType::Vnc)
        .ok_or_else(|| {
            Error::new(
                ErrorCode::OperationInvalid,
                format!("domain '{}' has no VNC display", dom.name),
            )
        })?;
    let port = graphics
        .port
        .filter(|p| (5900..=65535).contains(p))
        .ok_or_else(|| {
            Error::new(
                ErrorCode::OperationFailed,
                format!("the VNC port of domain '{}' is not known", dom.name),
            )
        })?;
    let listen = graphics.listen_address().unwrap_or("127.0.0.1");
    if json {
        return outln!(
            "{}",
            json!({
                "listen": listen,
                "port": port,
                "display": port - 5900,
                "text": vnc_display(listen, port),
            })
        );
    }
    outln!("{}", vnc_display(listen, port))
}

/// `domdisplay`: the first display's URI, VNC's before SPICE's, as virsh
/// builds it: `vnc://ADDRESS:DISPLAY`, `spice://ADDRESS:PORT`, a TLS
/// port as `?tls-port=PORT`, a UNIX socket as `vnc+unix://PATH` (a
/// wildcard listen address shows as `localhost`).
pub fn domdisplay(ctx: &mut Ctx, arg: &str, kind: Option<&str>) -> Result<()> {
    let dom = ctx.domain(arg)?;
    let driver = ctx.driver()?;
    if driver.info(&dom)?.state == DomainState::Shutoff {
        return Err(Error::new(
            ErrorCode::OperationInvalid,
            format!("domain '{}' is not running", dom.name),
        ));
    }
    let def = DomainDef::from_xml(&driver.xml_desc(&dom, XmlFlags::NONE)?)?;
    let schemes = [GraphicsType::Vnc, GraphicsType::Spice];
    let display = schemes
        .iter()
        .filter(|s| kind.is_none_or(|k| k == s.as_str()))
        .filter_map(|s| def.devices.graphics.iter().find(|g| g.kind == *s))
        .find_map(display_uri);
    match display {
        Some(uri) => outln!("{uri}"),
        None => Err(Error::new(
            ErrorCode::OperationInvalid,
            match kind {
                Some(k) => format!("No graphical display with type '{k}' found"),
                None => "No graphical display found".to_string(),
            },
        )),
    }
}

/// virsh's URI of one display (`virshGetOneDisplay`); `None` when it
/// listens on no port and no socket.
fn display_uri(g: &qvirt::model::Graphics) -> Option<String> {
    let scheme = g.kind.as_str();
    let port = g.port.filter(|p| *p > 0);
    let tls_port = g.tls_port.filter(|p| *p > 0);
    let socket = g.listens.iter().find_map(|l| match l {
        GraphicsListen::Socket(Some(p)) => Some(p.clone()),
        _ => None,
    });
    if port.is_none() && tls_port.is_none() && socket.is_none() {
        return None;
    }
    let mut uri = match &socket {
        Some(path) => format!("{scheme}+unix://{path}"),
        None => {
            let host = match g.listen_address().unwrap_or("localhost") {
                "0.0.0.0" | "::" | "" => "localhost".to_string(),
                v6 if v6.contains(':') => format!("[{v6}]"),
                h => h.to_string(),
            };
            format!("{scheme}://{host}")
        }
    };
    if let Some(p) = port {
        let p = if g.kind == GraphicsType::Vnc {
            p - 5900
        } else {
            p
        };
        uri.push_str(&format!(":{p}"));
    }
    if let Some(t) = tls_port {
        uri.push_str(&format!("?tls-port={t}"));
    }
    Some(uri)
}

/// virsh's display string: a wildcard address prints as nothing (`:0`),
/// an IPv6 address in brackets.
fn vnc_display(listen: &str, port: i32) -> String {
    let display = port - 5900;
    match listen {
        "0.0.0.0" | "::" | "" => format!(":{display}"),
        v6 if v6.contains(':') => format!("[{v6}]:{display}"),
        host => format!("{host}:{display}"),
    }
}

/// `nodeinfo`: virsh's first lines (the ones qvirt knows).
pub fn nodeinfo(ctx: &mut Ctx, json: bool) -> Result<()> {
    let node = ctx.driver()?.node_info()?;
    if json {
        return outln!(
            "{}",
            json!({
                "cpu_model": node.arch,
                "cpus": node.cpus,
                "mhz": node.mhz,
                "memory_kib": node.memory_kib,
            })
        );
    }
    let lines = [
        ("CPU model:", node.arch),
        ("CPU(s):", node.cpus.to_string()),
        ("CPU frequency:", format!("{} MHz", node.mhz)),
        ("Memory size:", format!("{} KiB", node.memory_kib)),
    ];
    let text: String = lines
        .iter()
        .map(|(label, value)| format!("{label:<20} {value}\n"))
        .collect();
    crate::output::write(&text)
}

/// `version`.
pub fn version(ctx: &mut Ctx) -> Result<()> {
    let v = ctx.driver()?.version()?;
    let text = format!(
        "Compiled against library: qvirt {}\nUsing library: qvirt {}\nRunning hypervisor: {}\n",
        env!("CARGO_PKG_VERSION"),
        v.library,
        v.hypervisor
    );
    crate::output::write(&text)
}

/// `capabilities`.
pub fn capabilities(ctx: &mut Ctx) -> Result<()> {
    let mut xml = ctx.driver()?.capabilities()?;
    if !xml.ends_with('\n') {
        xml.push('\n');
    }
    crate::output::write(&xml)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_matches_virsh() {
        let rows = [
            ["Id".to_string(), "Name".to_string(), "State".to_string()],
            ["1".to_string(), "demo".to_string(), "running".to_string()],
            [
                "-".to_string(),
                "other-vm".to_string(),
                "shut off".to_string(),
            ],
        ];
        assert_eq!(
            table(&rows),
            " Id   Name       State\n\
             ---------------------------\n \
             1    demo       running\n \
             -    other-vm   shut off\n"
        );
    }

    #[test]
    fn vnc_display_strings() {
        assert_eq!(vnc_display("127.0.0.1", 5901), "127.0.0.1:1");
        assert_eq!(vnc_display("0.0.0.0", 5900), ":0");
        assert_eq!(vnc_display("::1", 5902), "[::1]:2");
    }
}
