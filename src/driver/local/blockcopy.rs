//! virsh's `blockcopy`: a running disk copied into a new image (or one
//! given), then kept in step with the guest's writes until the job ends
//! (QEMU's `blockdev-mirror`, job `qvirt-copy-vda`). `blockjob --pivot`
//! moves the disk onto the copy; `blockjob --abort` (virsh's `--finish`)
//! leaves the disk where it was and, once the copy was in step, a copy
//! consistent as of that moment. As libvirt's, the copy is a job of the
//! running domain: a persistent domain's copy must be asked for as
//! transient (`--transient-job`), and its definition never changes.

use std::os::unix::fs::FileTypeExt;
use std::path::Path;

use serde_json::{Value, json};

use super::blockjobs::{busy, find_job, job_name};
use super::driver::Core;
use super::jobs::SyncKind;
use super::snap_external::top_of;
use crate::driver::{BlockCopy, BlockCopyFlags, Domain};
use crate::error::{Error, ErrorCode, Result};
use crate::model::{DiskFormat, DiskMirror, DiskType, MirrorJob, VolumeFormat, Word};
use crate::qemu::img;
use crate::qemu::qmp::QMP_TIMEOUT;

impl Core {
    /// `Driver::block_copy`.
    pub(crate) fn block_copy(&self, dom: &Domain, disk: &str, copy: &BlockCopy) -> Result<()> {
        let dest = &copy.dest;
        if !dest.is_absolute() {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                "absolute path must be used as block copy target",
            ));
        }
        let speed = i64::try_from(copy.bandwidth).map_err(|_| {
            Error::new(
                ErrorCode::InvalidArgument,
                format!("bandwidth must be less than '{}' bytes/s", i64::MAX),
            )
        })?;
        let jobs = self.jobs(dom)?;
        let _job = jobs.begin(SyncKind::Modify, &dom.name)?;
        let (run, live, target) = self.block_run(dom, disk, "copy a disk of")?;
        let persistent = self.with_entry(dom, |e| Ok(e.persistent.is_some()))?;
        if persistent && !copy.flags.contains(BlockCopyFlags::TRANSIENT_JOB) {
            return Err(Error::new(
                ErrorCode::OperationInvalid,
                format!(
                    "domain is not transient: a copy of a disk of persistent domain '{}' is a job of the running domain only (blockcopy --transient-job)",
                    dom.name
                ),
            ));
        }
        let d = live
            .devices
            .disks
            .iter()
            .find(|d| d.target == target)
            .ok_or_else(|| super::snap_external::no_disk(&dom.name, &target))?;
        if d.readonly {
            return Err(Error::new(
                ErrorCode::ConfigUnsupported,
                "copy of read-only disks is not supported",
            ));
        }
        let qmp = run.qmp()?;
        if find_job(qmp, &target)?.is_some() {
            return Err(busy(dom, &target));
        }
        let (_, node, inserted) = top_of(qmp, &live, &target)?;
        let image = inserted.get("image").cloned().unwrap_or(Value::Null);
        let format_of = |v: &Value| {
            v.get("format")
                .and_then(Value::as_str)
                .and_then(VolumeFormat::from_word)
        };
        let backing = image.get("backing-image").and_then(|b| {
            let file = b.get("filename")?.as_str()?;
            Some((Path::new(file).to_path_buf(), format_of(b)?))
        });
        // A shallow copy of a disk without backing copies it all.
        let shallow = copy.flags.contains(BlockCopyFlags::SHALLOW) && backing.is_some();
        let reuse = copy.flags.contains(BlockCopyFlags::REUSE_EXT);
        let existing = existing_dest(dest, &target, reuse)?;
        let format = match copy.format {
            Some(f) => f,
            None if !existing => format_of(&image).unwrap_or(VolumeFormat::Raw),
            None => self.volume_format(dest).map_err(|_| {
                Error::new(
                    ErrorCode::ConfigUnsupported,
                    "reused mirror destination format must be specified",
                )
            })?,
        };
        if shallow && !existing && format == VolumeFormat::Raw {
            return Err(Error::new(
                ErrorCode::ConfigUnsupported,
                format!("shallow copy of disk '{target}' into a raw file is not possible"),
            ));
        }
        if !existing {
            let size = image
                .get("virtual-size")
                .and_then(Value::as_u64)
                .unwrap_or(0);
            let opts = img::CreateOptions {
                backing: if shallow { backing.clone() } else { None },
                ..Default::default()
            };
            img::create(dest, format, size, &opts)?;
        }
        super::blockjobs::forget_ending(&run, &job_name("copy", &target));
        // The live definition shows the copy (libvirt's <mirror>) from
        // before QEMU starts it, so that its readiness, which may come at
        // once, finds it.
        let device = std::fs::metadata(dest).is_ok_and(|m| m.file_type().is_block_device());
        let mut mirrored = d.clone();
        mirrored.mirror = Some(DiskMirror {
            kind: if device {
                DiskType::Block
            } else {
                DiskType::File
            },
            path: dest.to_string_lossy().into_owned(),
            format: DiskFormat::from_word(format.as_str()),
            job: MirrorJob::Copy,
            ready: false,
        });
        run.set_disk(mirrored);
        self.save_status(dom.uuid, &run);
        let started = self.start_mirror(qmp, &node, copy, shallow, format, speed, &target);
        if let Err(e) = started {
            self.follow_mirror(&run, &target, None);
            if !existing {
                let _ = std::fs::remove_file(dest);
            }
            return Err(e);
        }
        self.log.info(&format!(
            "domain '{}': copying disk {target} to {}{}",
            dom.name,
            dest.display(),
            if shallow { " (its active layer)" } else { "" }
        ));
        Ok(())
    }

    /// Opens the copy in QEMU and starts mirroring node `node` into it;
    /// the copy's node is closed again if the job does not start.
    #[allow(clippy::too_many_arguments)]
    fn start_mirror(
        &self,
        qmp: &crate::qemu::qmp::Qmp,
        node: &str,
        copy: &BlockCopy,
        shallow: bool,
        format: VolumeFormat,
        speed: i64,
        target: &str,
    ) -> Result<()> {
        let device = std::fs::metadata(&copy.dest).is_ok_and(|m| m.file_type().is_block_device());
        let copy_node = super::snap_external::fresh_node();
        let mut add = json!({
            "driver": format.as_str(),
            "node-name": copy_node,
            "file": {
                "driver": if device { "host_device" } else { "file" },
                "filename": copy.dest.to_string_lossy(),
            },
        });
        // A full copy stands alone; a shallow one opens the backing its
        // image names.
        if !shallow && format == VolumeFormat::Qcow2 {
            add["backing"] = Value::Null;
        }
        qmp.execute("blockdev-add", Some(add), QMP_TIMEOUT)?;
        let mut args = json!({
            "job-id": job_name("copy", target),
            "device": node,
            "target": copy_node,
            "sync": if shallow { "top" } else { "full" },
            "auto-dismiss": false,
        });
        if speed > 0 {
            args["speed"] = json!(speed);
        }
        if copy.granularity > 0 {
            args["granularity"] = json!(copy.granularity);
        }
        if copy.buf_size > 0 {
            args["buf-size"] = json!(copy.buf_size);
        }
        if copy.flags.contains(BlockCopyFlags::SYNCHRONOUS_WRITES) {
            args["copy-mode"] = json!("write-blocking");
        }
        if let Err(e) = qmp.execute("blockdev-mirror", Some(args), QMP_TIMEOUT) {
            let _ = qmp.execute(
                "blockdev-del",
                Some(json!({"node-name": copy_node})),
                QMP_TIMEOUT,
            );
            return Err(e);
        }
        Ok(())
    }
}

/// Whether the copy's destination `dest` exists to be written as it is:
/// a block device always does; a file must be there when reused
/// (`reuse`) and must not hold data otherwise (libvirt's rules).
fn existing_dest(dest: &Path, target: &str, reuse: bool) -> Result<bool> {
    match std::fs::metadata(dest) {
        Ok(m) if m.file_type().is_block_device() => Ok(true),
        Ok(_) if reuse => Ok(true),
        Ok(m) if m.len() > 0 => Err(Error::new(
            ErrorCode::ConfigUnsupported,
            format!(
                "external destination file for disk {target} already exists and is not a block device: {}",
                dest.display()
            ),
        )),
        // An empty file is written over as a new one.
        Ok(_) => std::fs::remove_file(dest)
            .map(|()| false)
            .map_err(|e| Error::io(format!("cannot replace {}", dest.display()), e)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && reuse => Err(Error::new(
            ErrorCode::OperationInvalid,
            format!(
                "missing destination file for disk {target}: {}",
                dest.display()
            ),
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(Error::io(format!("cannot inspect {}", dest.display()), e)),
    }
}
