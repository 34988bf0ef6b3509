//! Persistent definitions on disk: one `NAME.xml` per defined domain in
//! the config directory, written durably, scanned at open and on rescan.
//!
//! A bad file is never deleted or rewritten: it is logged with its name
//! and the reason, and skipped, so a user can repair it. The only files
//! removed unasked are the temporary files of writes a crash cut off.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use uuid::Uuid;

use super::layout::Layout;
use crate::error::{Error, ErrorCode, Result};
use crate::model::{DomainDef, MAX_XML_BYTES};
use crate::sys::fsutil::{is_leftover_temp, remove_durable, write_atomic};
use crate::sys::logger::Logger;

/// What an open reads of the state directory: the definitions, and the
/// names in the autostart, runtime and save directories, so that each
/// domain's autostart mark, shut-off reason and managed save image are
/// found in memory instead of with a system call per domain.
pub struct AtOpen {
    /// The definitions, as [`scan`] reads them.
    pub defs: Vec<DomainDef>,
    /// The names in the autostart directory (a domain's mark is its name).
    pub autostart: HashSet<String>,
    /// The names in the runtime directory (`.UUID.reason` files).
    pub run: HashSet<String>,
    /// The names in the save directory (`NAME.save` images).
    pub save: HashSet<String>,
}

/// Removes the temporary files that writes cut off by a crash left in
/// the config, autostart and runtime directories (see
/// [`is_leftover_temp`](crate::sys::fsutil::is_leftover_temp)), then reads
/// every definition as [`scan`] does, and lists the directories that hold
/// the domains' marks (see [`AtOpen`]). Only at open: while the manager
/// runs, such a file may be a write in progress.
pub fn scan_at_open(layout: &Layout, log: &Logger) -> Result<AtOpen> {
    clear_leftovers(&layout.config, log);
    let autostart = clear_leftovers(&layout.autostart, log);
    let run = clear_leftovers(&layout.run, log);
    let save = fs::read_dir(&layout.save)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    Ok(AtOpen {
        defs: scan(layout, log)?,
        autostart,
        run,
        save,
    })
}

/// Removes the leftover temporary files in `dir` (see [`scan_at_open`])
/// and returns the names of the other entries.
fn clear_leftovers(dir: &Path, log: &Logger) -> HashSet<String> {
    let mut kept = HashSet::new();
    let Ok(entries) = fs::read_dir(dir) else {
        return kept;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !(is_leftover_temp(&name) && e.file_type().is_ok_and(|t| !t.is_dir())) {
            kept.insert(name);
            continue;
        }
        match fs::remove_file(e.path()) {
            Ok(()) => log.info(&format!(
                "config: removed {name}, left by a write that a crash cut off"
            )),
            Err(err) => log.warn(&format!("config: cannot remove {name}: {err}")),
        }
    }
    kept
}

/// Reads every definition in `layout.config`, in file-name order. Each
/// file that is not one is logged with its name and the reason, and
/// skipped, never changed: files that are not `*.xml`, hidden files,
/// anything but a regular file (a directory, a FIFO, a symlink, which is
/// not followed), files too large, not UTF-8, or that do not parse,
/// whose name does not match the domain's, or whose domain's name or
/// UUID an earlier file has.
pub fn scan(layout: &Layout, log: &Logger) -> Result<Vec<DomainDef>> {
    let entries = fs::read_dir(&layout.config)
        .map_err(|e| Error::io(format!("cannot read {}", layout.config.display()), e))?;
    let mut files: Vec<(String, Option<fs::FileType>)> = entries
        .filter_map(|e| e.ok())
        .map(|e| {
            let kind = e.file_type().ok();
            (e.file_name().to_string_lossy().into_owned(), kind)
        })
        .filter(|(name, kind)| !(name == "autostart" && kind.is_some_and(|k| k.is_dir())))
        .collect();
    files.sort_by(|a, b| a.0.cmp(&b.0));
    let present: HashSet<&str> = files.iter().map(|(name, _)| name.as_str()).collect();
    let mut defs = Vec::with_capacity(files.len());
    let mut by_uuid: HashMap<Uuid, usize> = HashMap::new();
    let mut origins: Vec<&str> = Vec::new();
    for (file, kind) in &files {
        if file.starts_with('.') {
            log.warn(&format!(
                "config: ignoring {file}: a hidden file is not a domain definition"
            ));
            continue;
        }
        let Some(stem) = file.strip_suffix(".xml") else {
            log.warn(&format!(
                "config: ignoring {file}: not a domain definition (*.xml)"
            ));
            continue;
        };
        if let Some(what) = kind.and_then(not_regular) {
            log.error(&format!(
                "config: skipping {file}: not a regular file but {what}; a definition is a plain file (nothing was read)"
            ));
            continue;
        }
        let def = match read_definition(&layout.config.join(file)) {
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
        // Two files can name one domain only this way: file names are
        // unique, and a file must be named after its domain.
        if def.name != stem {
            let own = format!("{}.xml", def.name);
            if present.contains(own.as_str()) {
                log.error(&format!(
                    "config: skipping {file}: it defines domain '{}', which {own} defines; a domain has one file, named after it",
                    def.name
                ));
            } else {
                log.error(&format!(
                    "config: skipping {file}: it defines domain '{}', but the file name says '{stem}' (rename it to {own})",
                    def.name
                ));
            }
            continue;
        }
        if let Some(&first) = by_uuid.get(&def.uuid) {
            log.error(&format!(
                "config: skipping {file}: UUID {} is already used by {}",
                def.uuid, origins[first]
            ));
            continue;
        }
        by_uuid.insert(def.uuid, defs.len());
        origins.push(file);
        defs.push(def);
    }
    Ok(defs)
}

/// What a directory entry of this type is, in words, unless it is a
/// regular file.
fn not_regular(kind: fs::FileType) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt;
    Some(if kind.is_file() {
        return None;
    } else if kind.is_dir() {
        "a directory"
    } else if kind.is_symlink() {
        "a symbolic link (not followed)"
    } else if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "a device"
    })
}

/// Reads and parses one definition file: a regular file (a symlink is
/// not followed, and a FIFO put in its place does not block the read) of
/// at most [`MAX_XML_BYTES`], in UTF-8.
pub fn read_definition(path: &Path) -> Result<DomainDef> {
    let cannot = |e| Error::io(format!("cannot read {}", path.display()), e);
    let file = fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_NONBLOCK)
        .open(path)
        .map_err(cannot)?;
    let meta = file.metadata().map_err(cannot)?;
    if let Some(what) = not_regular(meta.file_type()) {
        return Err(Error::new(
            ErrorCode::ConfigInvalid,
            format!("{} is not a regular file but {what}", path.display()),
        ));
    }
    let mut bytes = Vec::new();
    file.take(MAX_XML_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(cannot)?;
    if bytes.len() > MAX_XML_BYTES {
        return Err(Error::new(
            ErrorCode::LimitExceeded,
            format!(
                "{} is {} bytes, larger than the {MAX_XML_BYTES} bytes a definition may have",
                path.display(),
                meta.len().max(bytes.len() as u64)
            ),
        ));
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        Error::new(
            ErrorCode::InvalidXml,
            format!(
                "{} is not UTF-8 text (invalid byte at offset {})",
                path.display(),
                e.utf8_error().valid_up_to()
            ),
        )
    })?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_removes_the_temporary_leftovers_and_nothing_else() {
        let root = std::env::temp_dir().join(format!("qvirt-store-test-{}", std::process::id()));
        let layout = Layout::embedded(&root);
        layout.prepare().unwrap();
        let log = Logger::open(&layout.manager_log(), false);
        let leftovers = [
            layout.config.join(".a.xml.tmp-12-3"),
            layout.autostart.join(".a.xml.tmp-12"),
            layout
                .run
                .join(".6d3f0e4e-4c1b-4a43-9d1e-0c9d2c1a2b3c.reason.tmp-7-1"),
        ];
        let kept = [
            layout.config.join(".a.xml.swp"),
            layout.run.join("notes.tmp-1"),
        ];
        for file in leftovers.iter().chain(&kept) {
            fs::write(file, b"x").unwrap();
        }
        scan_at_open(&layout, &log).unwrap();
        for file in &leftovers {
            assert!(!file.exists(), "{} is still there", file.display());
        }
        for file in &kept {
            assert!(file.exists(), "{} was removed", file.display());
        }
        fs::remove_dir_all(&root).unwrap();
    }
}
