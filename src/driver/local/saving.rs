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

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};

use serde_json::json;

use super::driver::{Core, lock};
use super::faults::crash_point;
use super::jobs::{AsyncJobGuard, SyncKind};
use super::launch::{LaunchOptions, wait_migration};
use super::requests::Request;
use super::runtime::Running;
use crate::driver::{Domain, DomainState, JobKind, RestoreOptions, SaveOptions, StateReason};
use crate::error::{Error, ErrorCode, Result};
use crate::model::DomainDef;
use crate::qemu::qmp::QMP_TIMEOUT;
use crate::sys::fsutil::{PendingFile, remove_runtime, replace_atomic};

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

/// The header for `xml`, padded with zeros to `size` bytes, or to the
/// next 4 KiB boundary when `size` is `None`; `None` when it does not
/// fit in `size`.
pub(super) fn header_bytes(xml: &str, was_running: bool, size: Option<u64>) -> Option<Vec<u8>> {
    let mut head = Vec::with_capacity(ALIGN as usize);
    head.extend_from_slice(MAGIC);
    head.extend_from_slice(&VERSION.to_le_bytes());
    head.extend_from_slice(&(xml.len() as u32).to_le_bytes());
    head.extend_from_slice(&u32::from(was_running).to_le_bytes());
    head.extend_from_slice(xml.as_bytes());
    let padded = size.unwrap_or((head.len() as u64).div_ceil(ALIGN) * ALIGN);
    if head.len() as u64 > padded {
        return None;
    }
    head.resize(padded as usize, 0);
    Some(head)
}

/// Writes the header for `def` at the start of `file`, leaving the file
/// positioned where QEMU's stream goes.
fn write_header(file: &mut File, def: &DomainDef, was_running: bool) -> std::io::Result<()> {
    let head = header_bytes(&def.to_xml(), was_running, None).unwrap_or_default();
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

/// What a save in progress records in the domain's runtime directory
/// (`save.json`), so that a manager killed in the middle of it can finish
/// or undo it from what it finds (see [`Core::settle_save`]).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct SaveRecord {
    /// The image being written.
    pub target: PathBuf,
    /// Its temporary name until it is complete.
    pub temp: PathBuf,
    /// Whether the vCPUs ran before the save stopped them.
    pub was_running: bool,
}

/// The name of the record in a runtime directory.
pub(crate) const SAVE_RECORD: &str = "save.json";

impl Core {
    /// Saves the state of `dom` to `path` and stops it (reason: saved).
    ///
    /// The image is written under a temporary name and renamed once
    /// complete; a record in the runtime directory says so meanwhile, and
    /// a manager that finds it after a crash finishes the save when the
    /// image is complete and undoes it otherwise (see `settle_save`).
    pub(crate) fn save_domain(
        &self,
        dom: &Domain,
        path: &Path,
        managed: bool,
        options: SaveOptions,
    ) -> Result<()> {
        let jobs = self.jobs(dom)?;
        let kind = if managed {
            JobKind::ManagedSave
        } else {
            JobKind::Save
        };
        let job = jobs.begin_async(kind, &dom.name)?;
        let result = self.save_in_job(dom, path, managed, options, &job);
        job.finish(&result);
        result
    }

    /// [`Core::save_domain`] under its job.
    fn save_in_job(
        &self,
        dom: &Domain,
        path: &Path,
        managed: bool,
        options: SaveOptions,
        job: &AsyncJobGuard<'_>,
    ) -> Result<()> {
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
        // What the restore starts: another definition of the same
        // machine, in the state asked for.
        let restored = match &options.xml {
            Some(xml) => {
                let other = DomainDef::from_xml(xml)?;
                super::migrate::same_machine(&run.def, &other, "the save's new definition")?;
                other
            }
            None => run.live_def(),
        };
        let qmp = run.qmp()?;
        super::blockjobs::no_block_jobs(qmp, &dom.name)?;
        let was_running = run.run_state().state == DomainState::Running;
        let restore_running = options.running.unwrap_or(was_running);
        let mut image = PendingFile::create(path, "the save image")?;
        let record = SaveRecord {
            target: path.to_path_buf(),
            temp: image.temp_path(),
            was_running,
        };
        let record_file = run.run_dir.join(SAVE_RECORD);
        let result = (|| {
            let json = serde_json::to_vec(&record).map_err(|e| {
                Error::new(
                    ErrorCode::Internal,
                    format!("cannot encode the save record: {e}"),
                )
            })?;
            replace_atomic(&record_file, &json)?;
            write_header(&mut image.file, &restored, restore_running)
                .map_err(|e| Error::io(format!("cannot write {}", path.display()), e))?;
            // QEMU's own default is 32 MiB/s, for migrations over a
            // network; a save writes to a local file as fast as it can
            // unless asked otherwise (libvirt does the same).
            let bandwidth = options
                .bandwidth_mib_s
                .map_or(i64::MAX, |m| (m as i64).saturating_mul(1 << 20));
            qmp.execute(
                "migrate-set-parameters",
                Some(json!({"max-bandwidth": bandwidth})),
                QMP_TIMEOUT,
            )?;
            // QEMU tells each pass over the memory (a migration
            // iteration event), as libvirt has it tell them.
            qmp.execute(
                "migrate-set-capabilities",
                Some(json!({"capabilities": [{"capability": "events", "state": true}]})),
                QMP_TIMEOUT,
            )?;
            if was_running {
                run.ask(Request::Suspend)?;
            }
            qmp.getfd("save", image.file.as_fd(), QMP_TIMEOUT)?;
            qmp.execute("migrate", Some(json!({"uri": "fd:save"})), QMP_TIMEOUT)?;
            wait_migration(qmp, "save the domain", Some(job), true)?;
            crash_point("save-written");
            Ok(())
        })()
        .and_then(|()| image.commit());
        if let Err(e) = result {
            if was_running {
                let _ = run.ask(Request::Resume);
            }
            let _ = remove_runtime(&record_file);
            // An abort, or a destroy (which aborts the job), is what made
            // the save fail, whatever QEMU said as it went.
            if job.aborted() && e.code != ErrorCode::OperationAborted {
                return Err(Error::new(
                    ErrorCode::OperationAborted,
                    format!(
                        "the save of domain '{}' was aborted (by a destroy or a job abort): {}",
                        dom.name, e.message
                    ),
                ));
            }
            return Err(e);
        }
        self.log.info(&format!(
            "saved domain '{}' to {}",
            dom.name,
            path.display()
        ));
        crash_point("save-renamed");
        if managed {
            let _ = self.with_entry(dom, |e| {
                e.managed_save = true;
                Ok(())
            });
        }
        // The record goes with the runtime directory when the run ends.
        let _step = job.step(SyncKind::Destroy, &dom.name)?;
        self.stop_process(dom, &run, StateReason::Saved)
    }

    /// Finishes or undoes a save that a killed manager left half done,
    /// from its record in `run_dir`: when the image has its final name
    /// (the temporary file is gone and the target is there), the save is
    /// complete and the QEMU, whose state it holds, is stopped (`true`:
    /// the domain is shut off, saved); otherwise the temporary file is
    /// removed, and a guest the save paused runs again. Nothing to do
    /// without a record. `qemu_alive` says whether the QEMU still runs.
    pub(crate) fn settle_save(&self, name: &str, run: Option<&Running>, run_dir: &Path) -> bool {
        let file = run_dir.join(SAVE_RECORD);
        let Ok(bytes) = std::fs::read(&file) else {
            return false;
        };
        let Ok(record) = serde_json::from_slice::<SaveRecord>(&bytes) else {
            self.log.error(&format!(
                "domain '{name}': {} is damaged; removing it",
                file.display()
            ));
            let _ = remove_runtime(&file);
            return false;
        };
        let complete = !record.temp.exists() && record.target.exists();
        if complete {
            self.log.warn(&format!(
                "domain '{name}': a save to {} completed while no manager watched; the domain is shut off (saved)",
                record.target.display()
            ));
            return true;
        }
        let _ = std::fs::remove_file(&record.temp);
        self.log.warn(&format!(
            "domain '{name}': a save to {} was cut off; its temporary file is removed{}",
            record.target.display(),
            if record.was_running && run.is_some() {
                " and the guest runs again"
            } else {
                ""
            }
        ));
        if let Some(run) = run
            && record.was_running
            && let Ok(qmp) = run.qmp()
        {
            // A migration that was cancelled, failed or completed leaves
            // the vCPUs stopped; `cont` brings the guest back either way
            // (QEMU reactivates the disks it handed over).
            let _ = qmp.execute("migrate_cancel", None, QMP_TIMEOUT);
            if let Err(e) = run.ask(Request::Resume) {
                self.log
                    .error(&format!("domain '{name}': cannot resume it: {e}"));
            }
        }
        let _ = remove_runtime(&file);
        false
    }

    /// Starts a domain from a save file: the defined domain with the
    /// file's UUID if there is one (it must be shut off), else a transient
    /// domain; with `options`' definition (of the same machine) and
    /// state instead of the file's.
    pub(crate) fn restore_file(&self, path: &Path, options: RestoreOptions) -> Result<Domain> {
        let (file, mut header) = read_header(path)?;
        if let Some(xml) = &options.xml {
            let other = DomainDef::from_xml(xml)?;
            super::migrate::same_machine(&header.def, &other, "the restore's new definition")?;
            header.def = other;
        }
        header.was_running = options.running.unwrap_or(header.was_running);
        let uuid = header.def.uuid;
        let defined = {
            let inner = lock(&self.inner);
            inner.entries.get(&uuid).map(|e| e.handle())
        };
        match defined {
            Some(dom) => {
                let jobs = self.jobs(&dom)?;
                let job = jobs.begin_async(JobKind::Restore, &dom.name)?;
                if let Some(state) = self.with_entry(&dom, |e| {
                    Ok(e.running.as_ref().map(|r| r.run_state().state))
                })? {
                    return Err(Core::wrong_state(&dom, "restore", state));
                }
                let restored = self.launch_saved(&dom, header, &file, None, &job);
                job.finish(&restored);
                restored
            }
            None => self.create_transient(
                header.def,
                StateReason::Restored,
                !header.was_running,
                Some(&file),
                None,
            ),
        }
    }

    /// Starts a defined domain from its managed save image, which goes
    /// before the guest runs (see `Core::launch`). The caller holds the
    /// domain's asynchronous job, `job`.
    pub(crate) fn restore_managed(
        &self,
        dom: &Domain,
        _def: DomainDef,
        image: &Path,
        job: &AsyncJobGuard<'_>,
        paused: bool,
    ) -> Result<Domain> {
        let (file, mut header) = read_header(image)?;
        header.was_running &= !paused;
        let started = self.launch_saved(dom, header, &file, Some(image), job);
        let consumed = !image.exists();
        let _ = self.with_entry(dom, |e| {
            e.managed_save = !consumed;
            Ok(())
        });
        started
    }

    /// Launches a defined domain from a save file and registers it;
    /// `consume` is a managed image to delete before the guest runs.
    fn launch_saved(
        &self,
        dom: &Domain,
        header: SaveHeader,
        file: &File,
        consume: Option<&Path>,
        job: &AsyncJobGuard<'_>,
    ) -> Result<Domain> {
        let id = self.next_id();
        let (run, link) = self.launch(
            header.def,
            id,
            LaunchOptions {
                persistent: true,
                incoming: Some(file),
                paused: !header.was_running,
                reason: StateReason::Restored,
                consume,
                job: Some(job),
                listen: None,
                marker: None,
            },
        )?;
        let handle = self.register(dom.uuid, &run, link, StateReason::Restored)?;
        self.log
            .info(&format!("restored domain '{}' (id {id})", dom.name));
        let _ = header.data_offset;
        Ok(handle)
    }

    /// Removes the managed save image of a shut-off domain.
    pub(crate) fn remove_managed_save(&self, dom: &Domain) -> Result<()> {
        let jobs = self.jobs(dom)?;
        let _job = jobs.begin(SyncKind::Modify, &dom.name)?;
        let name = self.with_entry(dom, |e| match &e.running {
            Some(run) => Err(Core::wrong_state(
                dom,
                "remove the managed save of",
                run.run_state().state,
            )),
            None => Ok(e.def().name.clone()),
        })?;
        crate::sys::fsutil::remove_durable(&self.layout.managed_save_file(&name))?;
        self.with_entry(dom, |e| {
            e.managed_save = false;
            Ok(())
        })
    }
}
