//! Persistent definitions on disk: one `NAME.xml` per defined domain in
//! the config directory, written durably, scanned at open and on rescan.
//!
//! A bad file is never deleted or rewritten: it is logged with its name
//! and the reason, and skipped, so a user can repair it.

use std::collections::HashMap;
use std::fs;
use std::path::Path;

use uuid::Uuid;

use super::fsutil::{remove_durable, write_atomic};
use super::layout::Layout;
use super::logger::Logger;
use crate::driver::error::{Error, ErrorCode, Result};
use crate::model::DomainDef;

/// Reads every definition in `layout.config`, in file-name order. Files
/// that do not parse, whose name does not match the domain's, or whose
/// name or UUID repeats an earlier file's are logged and skipped.
pub fn scan(layout: &Layout, log: &Logger) -> Result<Vec<DomainDef>> {
    let entries = fs::read_dir(&layout.config)
        .map_err(|e| Error::io(format!("cannot read {}", layout.config.display()), e))?;
    let mut files: Vec<_> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().map(|t| t.is_file()).unwrap_or(false))
        .map(|e| e.path())
        .collect();
    files.sort();
    let mut defs = Vec::with_capacity(files.len());
    let mut by_name: HashMap<String, usize> = HashMap::new();
    let mut by_uuid: HashMap<Uuid, usize> = HashMap::new();
    let mut origins: Vec<String> = Vec::new();
    for path in files {
        let file = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        if file.starts_with('.') {
            // A temporary file left by a write that crashed before its
            // rename: the old definition is intact beside it.
            log.warn(&format!("config: ignoring leftover temporary file {file}"));
            continue;
        }
        let Some(stem) = file.strip_suffix(".xml") else {
            log.warn(&format!(
                "config: ignoring {file}: not a domain definition (*.xml)"
            ));
            continue;
        };
        let def = match read_definition(&path) {
            Ok(def) => def,
            Err(e) => {
                log.error(&format!(
                    "config: skipping {file} ({}): {}",
                    e.code.name(),
                    e
                ));
                continue;
            }
        };
        if def.name != stem {
            log.error(&format!(
                "config: skipping {file}: it defines domain '{}', but the file name says '{stem}'",
                def.name
            ));
            continue;
        }
        if let Some(&first) = by_name.get(&def.name) {
            log.error(&format!(
                "config: skipping {file}: domain name '{}' is already defined by {}",
                def.name, origins[first]
            ));
            continue;
        }
        if let Some(&first) = by_uuid.get(&def.uuid) {
            log.error(&format!(
                "config: skipping {file}: UUID {} is already used by {}",
                def.uuid, origins[first]
            ));
            continue;
        }
        by_name.insert(def.name.clone(), defs.len());
        by_uuid.insert(def.uuid, defs.len());
        origins.push(file);
        defs.push(def);
    }
    Ok(defs)
}

/// Reads and parses one definition file.
pub fn read_definition(path: &Path) -> Result<DomainDef> {
    let text = fs::read_to_string(path)
        .map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?;
    Ok(DomainDef::from_xml(&text)?)
}

/// Writes `def` as the persistent definition, durably.
pub fn save(layout: &Layout, def: &DomainDef) -> Result<()> {
    write_atomic(&layout.config_file(&def.name), def.to_xml().as_bytes())
}

/// Removes the persistent definition and autostart mark of `name`.
pub fn remove(layout: &Layout, name: &str) -> Result<()> {
    remove_durable(&layout.autostart_file(name))?;
    remove_durable(&layout.config_file(name))
}

/// Whether `name` is marked to start with the manager.
pub fn autostart(layout: &Layout, name: &str) -> bool {
    layout.autostart_file(name).exists()
}

/// Marks or unmarks `name` to start with the manager.
pub fn set_autostart(layout: &Layout, name: &str, on: bool) -> Result<()> {
    if on {
        write_atomic(&layout.autostart_file(name), b"")
    } else {
        remove_durable(&layout.autostart_file(name))
    }
}

/// The error for a definition whose name or UUID collides with another
/// domain's.
pub fn conflict(def: &DomainDef, other_name: &str, other_uuid: Uuid) -> Error {
    if other_name == def.name {
        Error::new(
            ErrorCode::DomainExists,
            format!(
                "domain '{}' already exists with UUID {other_uuid}; use that UUID to redefine it",
                def.name
            ),
        )
    } else {
        Error::new(
            ErrorCode::DomainExists,
            format!("UUID {} is already used by domain '{other_name}'", def.uuid),
        )
    }
}
