//! Reading `<domainsnapshot>` documents: what a user asks for, or, with
//! `stored`, what a manager recorded (state, parent, creation time and the
//! domain's definition too).

use super::el::{El, R, invalid, set, unsupported};
use super::storage::{number_text, read_document};
use crate::model::snapshot::{SnapshotDef, SnapshotDisk, SnapshotLocation};
use crate::model::{DomainDef, ModelError, ModelErrorKind};

/// Reads a snapshot document; see the module's documentation.
pub(crate) fn snapshot(xml: &str, stored: bool) -> Result<SnapshotDef, ModelError> {
    read_document(xml, "domainsnapshot", |e| {
        e.allow(&[])?;
        let mut def = SnapshotDef {
            name: None,
            description: None,
            state: None,
            parent: None,
            creation_time: None,
            memory: None,
            disks: Vec::new(),
            domain: None,
        };
        let (mut name, mut description, mut memory, mut disks) = (None, None, None, None);
        let (mut state, mut parent, mut created, mut domain) = (None, None, None, None);
        for c in e.children()? {
            let managed = matches!(c.name(), "state" | "parent" | "creationTime" | "domain");
            if managed && !stored {
                c.read(|c| -> R<()> {
                    Err(unsupported(format!(
                        "<{}> at {} is recorded by the manager, not given (qvirt does not redefine snapshots); remove it",
                        c.name(),
                        c.at()
                    )))
                })?;
                continue;
            }
            match c.name() {
                "name" => set(&mut name, c, |c| c.plain_text())?,
                "description" => set(&mut description, c, |c| c.plain_text())?,
                "memory" => set(&mut memory, c, memory_el)?,
                "disks" => set(&mut disks, c, disks_el)?,
                "state" => set(&mut state, c, |c| {
                    let t = c.plain_text()?;
                    crate::model::words::Word::from_word(t.trim()).ok_or_else(|| {
                        c.bad_text(ModelErrorKind::Unsupported, &t, "not a snapshot state")
                    })
                })?,
                "parent" => set(&mut parent, c, |c| {
                    c.allow(&[])?;
                    let mut n = None;
                    for p in c.children()? {
                        match p.name() {
                            "name" => set(&mut n, p, |p| p.plain_text())?,
                            _ => p.skip()?,
                        }
                    }
                    n.ok_or_else(|| invalid(format!("missing <name> in <parent> at {}", c.at())))
                })?,
                "creationTime" => set(&mut created, c, number_text)?,
                "domain" => set(&mut domain, c, |c| {
                    let range = c.node.range();
                    DomainDef::from_xml(&xml[range]).map_err(|err| {
                        ModelError::new(
                            err.kind,
                            format!("in the snapshot's <domain>: {}", err.message),
                        )
                    })
                })?,
                _ => c.skip()?,
            }
        }
        def.name = name;
        def.description = description.filter(|d: &String| !d.is_empty());
        def.memory = memory;
        def.disks = disks.unwrap_or_default();
        def.state = state;
        def.parent = parent;
        def.creation_time = created;
        def.domain = domain;
        if stored {
            for (what, missing) in [
                ("name", def.name.is_none()),
                ("state", def.state.is_none()),
                ("creationTime", def.creation_time.is_none()),
                ("domain", def.domain.is_none()),
            ] {
                if missing {
                    return Err(invalid(format!("the recorded snapshot lacks <{what}>")));
                }
            }
        }
        Ok(def)
    })
}

fn location(e: &El, name: &str) -> R<Option<SnapshotLocation>> {
    e.word::<SnapshotLocation>(name)
}

fn memory_el(e: El) -> R<SnapshotLocation> {
    e.allow(&["snapshot"])?;
    e.empty()?;
    e.req("snapshot")?;
    match location(&e, "snapshot")?.expect("checked present") {
        SnapshotLocation::External => Err(e.bad_value(
            ModelErrorKind::Unsupported,
            "snapshot",
            "external memory snapshots are not supported; use internal (with a qcow2 disk) or no",
        )),
        l => Ok(l),
    }
}

fn disks_el(e: El) -> R<Vec<SnapshotDisk>> {
    e.allow(&[])?;
    let mut out = Vec::new();
    for c in e.children()? {
        match c.name() {
            "disk" => super::el::push(&mut out, c, disk_el)?,
            _ => c.skip()?,
        }
    }
    Ok(out)
}

fn disk_el(e: El) -> R<SnapshotDisk> {
    e.allow(&["name", "snapshot", "type"])?;
    let name = e.req("name")?.to_string();
    let loc = location(&e, "snapshot")?;
    e.choice("type", &[("file", ())])?;
    let (mut driver, mut source) = (None, None);
    for c in e.children()? {
        match c.name() {
            "driver" => set(&mut driver, c, |c| {
                c.allow(&["type"])?;
                c.empty()?;
                c.choice("type", &[("qcow2", ())])?;
                Ok(())
            })?,
            "source" => set(&mut source, c, |c| {
                c.allow(&["file"])?;
                c.empty()?;
                Ok(c.req("file")?.to_string())
            })?,
            _ => c.skip()?,
        }
    }
    if (driver.is_some() || e.get("type").is_some()) && loc != Some(SnapshotLocation::External) {
        return Err(invalid(format!(
            "disk '{name}' at {}: type and <driver> describe an external overlay; add snapshot='external'",
            e.at()
        )));
    }
    Ok(SnapshotDisk {
        name,
        location: loc,
        source,
    })
}
