//! Domain snapshots: libvirt's `<domainsnapshot>` document, typed.
//!
//! Two readers: [`SnapshotDef::from_xml`] reads what a user asks for
//! (a name, a description, where memory and each disk go), refusing the
//! parts a manager sets (state, parent, creation time, the domain); and
//! [`SnapshotDef::from_stored_xml`] reads a snapshot as a manager
//! records and reports it, with those parts. Only internal snapshots
//! (memory and disks inside qcow2 images) and external disk snapshots
//! (a new qcow2 overlay per disk) are described; external memory is
//! refused by name.

use super::parse::snapshot as read;
use super::storage::check_name;
use super::words::words;
use super::xmlwrite::{Attrs, XmlWriter};
use super::{DomainDef, ModelError, ModelErrorKind};

words! {
    /// `<state>`: the domain's state when the snapshot was taken
    /// (`disk-snapshot` for an external disk-only snapshot of a running
    /// domain).
    pub enum SnapshotState {
        /// The guest ran; its memory is in the snapshot.
        Running = "running",
        /// The guest was paused; its memory is in the snapshot.
        Paused = "paused",
        /// The domain was shut off: disks only.
        Shutoff = "shutoff",
        /// The domain ran; only its disks are in the snapshot.
        DiskSnapshot = "disk-snapshot",
    }

    /// Where a snapshot puts memory or a disk (`snapshot=...`).
    pub enum SnapshotLocation {
        /// Not in the snapshot.
        No = "no",
        /// Inside the disk's qcow2 image.
        Internal = "internal",
        /// In a new overlay file; the old image becomes its backing file.
        External = "external",
    }
}

/// `<disks><disk>` of a snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotDisk {
    /// `name`: the disk's target (`vda`) or source path.
    pub name: String,
    /// `snapshot`: where this disk goes; the manager's default when
    /// absent.
    pub location: Option<SnapshotLocation>,
    /// `<source file=...>` of an external snapshot: the overlay's path;
    /// chosen by the manager when absent.
    pub source: Option<String>,
}

/// A snapshot's definition.
#[derive(Debug, Clone, PartialEq)]
pub struct SnapshotDef {
    /// `<name>`; the manager names it (its creation time) when absent.
    pub name: Option<String>,
    /// `<description>`.
    pub description: Option<String>,
    /// `<state>` (set by the manager).
    pub state: Option<SnapshotState>,
    /// `<parent><name>` (set by the manager).
    pub parent: Option<String>,
    /// `<creationTime>`, seconds since the epoch (set by the manager).
    pub creation_time: Option<u64>,
    /// `<memory snapshot=...>`: internal (with the disks) or no; the
    /// manager's default when absent.
    pub memory: Option<SnapshotLocation>,
    /// `<disks>`.
    pub disks: Vec<SnapshotDisk>,
    /// `<domain>`: the definition at the snapshot's moment (set by the
    /// manager).
    pub domain: Option<DomainDef>,
}

impl SnapshotDef {
    /// A snapshot named `name` with nothing else set.
    pub fn named(name: impl Into<String>) -> SnapshotDef {
        SnapshotDef {
            name: Some(name.into()),
            description: None,
            state: None,
            parent: None,
            creation_time: None,
            memory: None,
            disks: Vec::new(),
            domain: None,
        }
    }

    /// Reads a snapshot a user asks for (virsh's `snapshot-create`). The
    /// parts a manager sets are refused.
    pub fn from_xml(xml: &str) -> Result<SnapshotDef, ModelError> {
        let def = read::snapshot(xml, false)?;
        def.validate()?;
        Ok(def)
    }

    /// Reads a snapshot as a manager records it, with its state, parent,
    /// creation time and domain.
    pub fn from_stored_xml(xml: &str) -> Result<SnapshotDef, ModelError> {
        let def = read::snapshot(xml, true)?;
        def.validate()?;
        Ok(def)
    }

    /// Checks names, and that memory and disks fit each other: external
    /// memory is not supported, a disk appears once, and a disk given a
    /// source is external.
    pub fn validate(&self) -> Result<(), ModelError> {
        if let Some(n) = &self.name {
            check_name("snapshot name", n)?;
        }
        if let Some(p) = &self.parent {
            check_name("snapshot parent name", p)?;
        }
        let mut seen = Vec::new();
        for d in &self.disks {
            if d.name.is_empty() {
                return Err(invalid("a snapshot <disk> has an empty name".to_string()));
            }
            if seen.contains(&d.name.as_str()) {
                return Err(invalid(format!(
                    "disk '{}' appears twice in the snapshot's <disks>",
                    d.name
                )));
            }
            seen.push(&d.name);
            if d.source.is_some() && d.location != Some(SnapshotLocation::External) {
                return Err(invalid(format!(
                    "disk '{}' of the snapshot has a <source>, which only an external (snapshot='external') disk takes",
                    d.name
                )));
            }
            if let Some(s) = &d.source
                && !s.starts_with('/')
            {
                return Err(invalid(format!(
                    "the overlay of disk '{}' ('{s}') is not an absolute path",
                    d.name
                )));
            }
        }
        Ok(())
    }

    /// Writes the snapshot as libvirt does (`snapshot-dumpxml`), with the
    /// domain definition when it is known.
    pub fn to_xml(&self) -> String {
        let mut w = XmlWriter::new();
        w.open("domainsnapshot", Attrs::new());
        if let Some(n) = &self.name {
            w.text("name", Attrs::new(), n);
        }
        if let Some(d) = &self.description {
            w.text("description", Attrs::new(), d);
        }
        if let Some(s) = self.state {
            w.text("state", Attrs::new(), s.as_str());
        }
        if let Some(p) = &self.parent {
            w.open("parent", Attrs::new());
            w.text("name", Attrs::new(), p);
            w.close("parent");
        }
        if let Some(t) = self.creation_time {
            w.text("creationTime", Attrs::new(), &t.to_string());
        }
        if let Some(m) = self.memory {
            w.empty("memory", Attrs::new().add("snapshot", m.as_str()));
        }
        if !self.disks.is_empty() {
            w.open("disks", Attrs::new());
            for d in &self.disks {
                let mut attrs = Attrs::new().add("name", &d.name);
                if let Some(l) = d.location {
                    attrs = attrs.add("snapshot", l.as_str());
                }
                match &d.source {
                    Some(src) => {
                        w.open("disk", attrs.add("type", "file"));
                        w.empty("driver", Attrs::new().add("type", "qcow2"));
                        w.empty("source", Attrs::new().add("file", src));
                        w.close("disk");
                    }
                    None => w.empty("disk", attrs),
                }
            }
            w.close("disks");
        }
        w.close("domainsnapshot");
        let mut out = w.finish();
        // The domain goes inside, one level deeper, as libvirt nests it.
        if let Some(dom) = &self.domain {
            let end = out.rfind("</domainsnapshot>").unwrap_or(out.len());
            out.truncate(end);
            for line in dom.to_xml().lines() {
                out.push_str("  ");
                out.push_str(line);
                out.push('\n');
            }
            out.push_str("</domainsnapshot>\n");
        }
        out
    }
}

fn invalid(msg: String) -> ModelError {
    ModelError::new(ModelErrorKind::Invalid, msg)
}
