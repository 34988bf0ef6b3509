//! Saving a domain's memory state to a file and starting it again from
//! one: `save`/`restore` and the managed save that `start` resumes from.
//!
//! The file starts with a header holding the definition (as libvirt's
//! does), then QEMU's migration stream, which QEMU writes through a file
//! descriptor passed over the QMP socket: no shell, no helper process.
//!
//! Header: `QVIRTSAVE` + NUL (10 bytes), format version (u32 LE), XML
//! length (u32 LE), flags (u32 LE, bit 0: the vCPUs were running), the
//! XML, then zeros up to the next 4 KiB boundary, where QEMU's stream
//! begins.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::fd::AsFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use serde_json::json;

use super::driver::{Core, lock};
use super::launch::{LaunchOptions, QMP_TIMEOUT, wait_migration};
use crate::driver::error::{Error, ErrorCode, Result};
use crate::driver::{Domain, DomainState, EventKind, StateReason};
use crate::model::DomainDef;

const MAGIC: &[u8; 10] = b"QVIRTSAVE\0";
const VERSION: u32 = 1;
const ALIGN: u64 = 4096;
/// The largest definition a header may hold.
const MAX_XML: u32 = 4 * 1024 * 1024;

/// What a save file's header says.
pub(crate) struct SaveHeader {
    pub def: DomainDef,
    pub was_running: bool,
    /// Where QEMU's stream starts.
    pub data_offset: u64,
}

/// Writes the header for `def` at the start of `file`, leaving the file
/// positioned where QEMU's stream goes.
fn write_header(file: &mut File, def: &DomainDef, was_running: bool) -> std::io::Result<()> {
    let xml = def.to_xml();
    let mut head = Vec::with_capacity(ALIGN as usize);
    head.extend_from_slice(MAGIC);
    head.extend_from_slice(&VERSION.to_le_bytes());
    head.extend_from_slice(&(xml.len() as u32).to_le_bytes());
    head.extend_from_slice(&u32::from(was_running).to_le_bytes());
    head.extend_from_slice(xml.as_bytes());
    let padded = (head.len() as u64).div_ceil(ALIGN) * ALIGN;
    head.resize(padded as usize, 0);
    file.write_all(&head)
}

/// Reads and checks the header of the save file at `path`.
pub(crate) fn read_header(path: &Path) -> Result<(File, SaveHeader)> {
    let bad = |why: &str| {
        Error::new(
            ErrorCode::InvalidArgument,
            format!("{} is not a qvirt save file: {why}", path.display()),
        )
    };
    let mut file =
        File::open(path).map_err(|e| Error::io(format!("cannot open {}", path.display()), e))?;
    let mut fixed = [0u8; 22];
    file.read_exact(&mut fixed)
        .map_err(|_| bad("it is too short"))?;
    if &fixed[..10] != MAGIC {
        return Err(bad("wrong magic"));
    }
    let word = |i: usize| u32::from_le_bytes(fixed[i..i + 4].try_into().expect("4 bytes"));
    if word(10) != VERSION {
        return Err(bad(&format!(
            "format version {} (this qvirt reads {VERSION})",
            word(10)
        )));
    }
    let len = word(14);
    if len > MAX_XML {
        return Err(bad("its definition is larger than 4 MiB"));
    }
    let mut xml = vec![0u8; len as usize];
    file.read_exact(&mut xml)
        .map_err(|_| bad("the definition is cut short"))?;
    let xml = String::from_utf8(xml).map_err(|_| bad("the definition is not UTF-8"))?;
    let def = DomainDef::from_xml(&xml)?;
    let data_offset = (22 + u64::from(len)).div_ceil(ALIGN) * ALIGN;
    file.seek(SeekFrom::Start(data_offset))
        .map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?;
    Ok((
        file,
        SaveHeader {
            def,
            was_running: word(18) & 1 == 1,
            data_offset,
        },
    ))
}

impl Core {
    /// Saves the state of `dom` to `path` and stops it (reason: saved).
    pub(crate) fn save_domain(&self, dom: &Domain, path: &Path, managed: bool) -> Result<()> {
        let job = self.job(dom)?;
        let _job = lock(&job);
        let run = self.running_in(dom, "save", &[DomainState::Running, DomainState::Paused])?;
        if managed && !self.with_entry(dom, |e| Ok(e.persistent.is_some()))? {
            return Err(Error::new(
                ErrorCode::OperationInvalid,
                format!(
                    "domain '{}' is transient: a managed save needs a defined domain",
                    dom.name
                ),
            ));
        }
        let qmp = run.qmp()?;
        let was_running = run.run_state().state == DomainState::Running;
        let tmp = temp_path(path);
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(|e| Error::io(format!("cannot create {}", tmp.display()), e))?;
        let result = (|| {
            write_header(&mut file, &run.live_def(), was_running)
                .map_err(|e| Error::io(format!("cannot write {}", tmp.display()), e))?;
            if was_running {
                qmp.execute("stop", None, QMP_TIMEOUT)?;
                run.sync_events();
            }
            qmp.getfd("save", file.as_fd(), QMP_TIMEOUT)?;
            qmp.execute("migrate", Some(json!({"uri": "fd:save"})), QMP_TIMEOUT)?;
            wait_migration(qmp, "save the domain")?;
            file.sync_all()
                .map_err(|e| Error::io(format!("cannot sync {}", tmp.display()), e))?;
            std::fs::rename(&tmp, path).map_err(|e| {
                Error::io(
                    format!("cannot rename {} to {}", tmp.display(), path.display()),
                    e,
                )
            })
        })();
        if let Err(e) = result {
            let _ = std::fs::remove_file(&tmp);
            if was_running {
                let _ = qmp.execute("cont", None, QMP_TIMEOUT);
                run.sync_events();
            }
            return Err(e);
        }
        self.log.info(&format!(
            "saved domain '{}' to {}",
            dom.name,
            path.display()
        ));
        self.stop_process(dom, &run, StateReason::Saved);
        Ok(())
    }

    /// Starts a domain from a save file: the defined domain with the
    /// file's UUID if there is one (it must be shut off), else a transient
    /// domain.
    pub(crate) fn restore_file(&self, path: &Path) -> Result<Domain> {
        let (file, header) = read_header(path)?;
        let uuid = header.def.uuid;
        let defined = {
            let inner = lock(&self.inner);
            inner.entries.get(&uuid).map(|e| e.handle())
        };
        match defined {
            Some(dom) => {
                let job = self.job(&dom)?;
                let _job = lock(&job);
                if let Some(state) = self.with_entry(&dom, |e| {
                    Ok(e.running.as_ref().map(|r| r.run_state().state))
                })? {
                    return Err(Core::wrong_state(&dom, "restore", state));
                }
                self.launch_saved(&dom, header, &file)
            }
            None => self.create_transient(
                header.def,
                StateReason::Restored,
                !header.was_running,
                Some(&file),
            ),
        }
    }

    /// Starts a defined domain from its managed save image and deletes the
    /// image once the domain runs. The caller holds the job lock.
    pub(crate) fn restore_managed(
        &self,
        dom: &Domain,
        _def: DomainDef,
        image: &Path,
    ) -> Result<Domain> {
        let (file, header) = read_header(image)?;
        let handle = self.launch_saved(dom, header, &file)?;
        if let Err(e) = std::fs::remove_file(image) {
            self.log.error(&format!(
                "cannot remove the managed save image {}: {e}",
                image.display()
            ));
        }
        Ok(handle)
    }

    /// Launches a defined domain from a save file and registers it.
    fn launch_saved(&self, dom: &Domain, header: SaveHeader, file: &File) -> Result<Domain> {
        let id = self.next_id();
        let (run, link) = self.launch(
            header.def,
            id,
            LaunchOptions {
                persistent: true,
                incoming: Some(file),
                paused: !header.was_running,
                reason: StateReason::Restored,
            },
        )?;
        let handle = self.register(dom.uuid, &run, link);
        self.log
            .info(&format!("restored domain '{}' (id {id})", dom.name));
        self.emit(handle.clone(), EventKind::Started(StateReason::Restored));
        let _ = header.data_offset;
        Ok(handle)
    }

    /// Removes the managed save image of a shut-off domain.
    pub(crate) fn remove_managed_save(&self, dom: &Domain) -> Result<()> {
        let job = self.job(dom)?;
        let _job = lock(&job);
        let name = self.with_entry(dom, |e| match &e.running {
            Some(run) => Err(Core::wrong_state(
                dom,
                "remove the managed save of",
                run.run_state().state,
            )),
            None => Ok(e.def().name.clone()),
        })?;
        super::fsutil::remove_durable(&self.layout.managed_save_file(&name))
    }
}

/// A temporary name beside `path`.
fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}
