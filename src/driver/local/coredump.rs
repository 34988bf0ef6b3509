//! Core dumps of a running domain (virsh's `dump`), as libvirt's
//! `qemuDomainCoreDumpWithFormat` makes them, under an asynchronous job
//! that `domjobinfo` follows and `domjobabort` stops: the guest is paused
//! unless `--live`; with `--memory-only` QEMU's `dump-guest-memory`
//! writes an ELF core (or a kdump or Windows dump, where this QEMU offers
//! the format), else QEMU's migration stream is the dump; afterwards the
//! domain is stopped as crashed (`--crash`), reset (`--reset`), or runs
//! on as it did. QEMU writes into a file the manager opened and hands it
//! (the manager's permission counts, not QEMU's), under a temporary name
//! renamed once complete: a failed dump leaves no file.

use std::os::fd::AsFd;
use std::path::Path;

use serde_json::{Value, json};

use super::driver::Core;
use super::jobs::{AsyncJobGuard, QemuPoll, SyncKind};
use super::launch::wait_migration;
use super::requests::Request;
use super::runtime::Running;
use crate::driver::{Domain, DomainState, DumpFormat, DumpOptions, JobKind, StateReason};
use crate::error::{Error, ErrorCode, Result};
use crate::qemu::qmp::{QMP_TIMEOUT, Qmp};
use crate::sys::fsutil::PendingFile;

impl Core {
    /// `Driver::core_dump`.
    pub(crate) fn core_dump(&self, dom: &Domain, path: &Path, options: DumpOptions) -> Result<()> {
        check(&options)?;
        let jobs = self.jobs(dom)?;
        let job = jobs.begin_async(JobKind::Dump, &dom.name)?;
        let result = self.dump_in_job(dom, path, options, &job);
        job.finish(&result);
        result
    }

    /// [`Core::core_dump`] under its job.
    fn dump_in_job(
        &self,
        dom: &Domain,
        path: &Path,
        options: DumpOptions,
        job: &AsyncJobGuard<'_>,
    ) -> Result<()> {
        let run = self.running_in(dom, "dump", &[DomainState::Running, DomainState::Paused])?;
        let qmp = run.qmp()?;
        let was_running = run.run_state().state == DomainState::Running;
        let image = PendingFile::create(path, "the dump")?;
        let paused = was_running && !options.live;
        if paused {
            run.ask(Request::Suspend)?;
        }
        let written = if options.memory_only {
            dump_memory(qmp, &image, options.format, job)
        } else {
            (|| {
                qmp.execute(
                    "migrate-set-parameters",
                    Some(json!({"max-bandwidth": i64::MAX})),
                    QMP_TIMEOUT,
                )?;
                qmp.getfd("dump", image.file.as_fd(), QMP_TIMEOUT)?;
                qmp.execute("migrate", Some(json!({"uri": "fd:dump"})), QMP_TIMEOUT)?;
                wait_migration(qmp, "dump the domain", Some(job), true)
            })()
        }
        .and_then(|()| {
            image
                .file
                .sync_all()
                .map_err(|e| Error::io(format!("cannot write {}", path.display()), e))?;
            image.commit()
        });
        if let Err(e) = written {
            if paused {
                let _ = run.ask(Request::Resume);
            }
            return Err(e);
        }
        self.log.info(&format!(
            "dumped domain '{}' to {}",
            dom.name,
            path.display()
        ));
        self.after_dump(dom, &run, options, was_running, job)
    }

    /// What the dump's flags ask for once the file is written.
    fn after_dump(
        &self,
        dom: &Domain,
        run: &Running,
        options: DumpOptions,
        was_running: bool,
        job: &AsyncJobGuard<'_>,
    ) -> Result<()> {
        if options.crash {
            let _step = job.step(SyncKind::Destroy, &dom.name)?;
            return self.stop_process(dom, run, StateReason::Crashed);
        }
        if options.reset {
            run.ask(Request::Reset)?;
        }
        // A migration to a file leaves the vCPUs stopped even when live.
        if was_running && run.run_state().state != DomainState::Running {
            run.ask(Request::Resume).map_err(|e| {
                Error::new(
                    ErrorCode::OperationFailed,
                    format!("resuming after dump failed: {}", e.message),
                )
            })?;
        }
        Ok(())
    }
}

/// libvirt's refusals of flag combinations.
fn check(o: &DumpOptions) -> Result<()> {
    if o.crash && o.reset {
        return Err(Error::new(
            ErrorCode::InvalidArgument,
            "crash and reset flags are mutually exclusive",
        ));
    }
    if !o.memory_only && o.format != DumpFormat::Raw {
        return Err(Error::new(
            ErrorCode::NoSupport,
            "kdump-compressed format is only supported with memory-only dump",
        ));
    }
    Ok(())
}

/// QEMU's `dump-guest-memory` into `image`, detached, followed until it
/// completes; a format this QEMU does not offer is refused first.
fn dump_memory(
    qmp: &Qmp,
    image: &PendingFile,
    format: DumpFormat,
    job: &AsyncJobGuard<'_>,
) -> Result<()> {
    let name = match format {
        DumpFormat::Raw => "elf",
        other => other.as_str(),
    };
    if format != DumpFormat::Raw {
        let caps = qmp.execute("query-dump-guest-memory-capability", None, QMP_TIMEOUT)?;
        let offered = caps
            .get("formats")
            .and_then(Value::as_array)
            .is_some_and(|f| f.iter().any(|x| x.as_str() == Some(name)));
        if !offered {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                format!("unsupported dumpformat '{name}' for this QEMU binary"),
            ));
        }
    }
    qmp.getfd("dump", image.file.as_fd(), QMP_TIMEOUT)?;
    // As libvirt, a memory-only dump cannot be aborted: QEMU has no way.
    job.forbid_abort();
    qmp.execute(
        "dump-guest-memory",
        Some(json!({"paging": false, "protocol": "fd:dump", "format": name, "detach": true})),
        QMP_TIMEOUT,
    )?;
    let mut pause = QemuPoll::new(std::time::Duration::from_micros(500));
    loop {
        let status = qmp.execute("query-dump", None, QMP_TIMEOUT)?;
        let figure = |key: &str| status.get(key).and_then(Value::as_u64).unwrap_or(0);
        job.progress(|p| {
            p.data_total = figure("total");
            p.data_processed = figure("completed");
            p.data_remaining = p.data_total.saturating_sub(p.data_processed);
        });
        match status.get("status").and_then(Value::as_str) {
            Some("completed") => return Ok(()),
            Some("failed") => {
                return Err(Error::new(
                    ErrorCode::OperationFailed,
                    "memory-only dump failed",
                ));
            }
            _ => {}
        }
        pause.sleep();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libvirts_flag_rules() {
        let o = DumpOptions {
            crash: true,
            reset: true,
            ..Default::default()
        };
        assert_eq!(check(&o).unwrap_err().code, ErrorCode::InvalidArgument);
        let mut o = DumpOptions {
            format: DumpFormat::KdumpZlib,
            ..Default::default()
        };
        assert_eq!(check(&o).unwrap_err().code, ErrorCode::NoSupport);
        o.memory_only = true;
        assert!(check(&o).is_ok());
    }
}
