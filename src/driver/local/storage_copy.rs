//! Storage copied with a live migration (`--copy-storage-all`), as
//! libvirt copies it: the destination makes each disk (same size and
//! format) and exports it over NBD from its incoming QEMU; the source
//! mirrors each disk into that export (`blockdev-mirror`, sync full)
//! until every mirror is ready, then migrates memory; at the switchover
//! the mirrors are completed (a ready mirror's cancel leaves the copy in
//! step) before the destination's vCPUs run.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::jobs::AsyncJobGuard;
use crate::driver::IncomingDisk;
use crate::error::{Error, ErrorCode, Result};
use crate::model::{DiskDevice, DiskFormat, DiskType, DomainDef};
use crate::qemu::qmp::{QMP_TIMEOUT, Qmp};

/// How long a mirror may copy nothing before the migration is given up.
const STALLED: Duration = Duration::from_secs(30);

/// The disks a storage copy moves: writable file disks with a source.
pub(crate) fn copied_disks(def: &DomainDef) -> Vec<&crate::model::Disk> {
    def.devices
        .disks
        .iter()
        .filter(|d| {
            d.device == DiskDevice::Disk
                && d.kind == DiskType::File
                && d.source.is_some()
                && !d.readonly
                && !d.shareable
        })
        .collect()
}

/// The node each disk's device reads from (`inserted.node-name` of
/// `query-block`), by target, for the disks of `def`.
pub(crate) fn top_nodes(qmp: &Qmp, def: &DomainDef) -> Result<Vec<(String, String, u64)>> {
    let ids = crate::qemu::argv::disk_device_ids(def)?;
    let block = qmp.execute("query-block", None, QMP_TIMEOUT)?;
    let mut out = Vec::new();
    for disk in copied_disks(def) {
        let index = def
            .devices
            .disks
            .iter()
            .position(|d| d.target == disk.target)
            .expect("a disk of def");
        let id = &ids[index];
        let entry = crate::qemu::qmp::device_entry(&block, id).ok_or_else(|| {
            Error::new(
                ErrorCode::QemuFailed,
                format!("QEMU does not list disk '{}'", disk.target),
            )
        })?;
        let node = entry["inserted"]["node-name"]
            .as_str()
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::QemuFailed,
                    format!("disk '{}' has no medium in QEMU", disk.target),
                )
            })?
            .to_string();
        let size = entry["inserted"]["image"]["virtual-size"]
            .as_u64()
            .unwrap_or(0);
        out.push((disk.target.clone(), node, size));
    }
    Ok(out)
}

/// Makes (or checks) on this host the disks an incoming storage copy
/// writes: a missing file is created with `qemu-img` in the disk's
/// format and the source's size; an existing one must have that size.
/// Returns the files it created (to remove if the migration fails).
pub(crate) fn prepare_disks(def: &DomainDef, disks: &[IncomingDisk]) -> Result<Vec<String>> {
    let mut created = Vec::new();
    let result = (|| {
        for want in disks {
            let disk = def
                .devices
                .disks
                .iter()
                .find(|d| d.target == want.target)
                .ok_or_else(|| {
                    Error::new(
                        ErrorCode::InvalidArgument,
                        format!(
                            "the storage copy names disk '{}', which the definition does not have",
                            want.target
                        ),
                    )
                })?;
            let (Some(path), DiskType::File) = (&disk.source, disk.kind) else {
                return Err(Error::new(
                    ErrorCode::ConfigUnsupported,
                    format!(
                        "disk '{}': only file disks can receive a storage copy",
                        want.target
                    ),
                ));
            };
            let format = disk.format.unwrap_or(DiskFormat::Raw).as_str();
            if Path::new(path).exists() {
                let size = virtual_size(path, format)?;
                if size != want.size {
                    return Err(Error::new(
                        ErrorCode::InvalidArgument,
                        format!(
                            "disk '{}': {path} holds {size} bytes, the source's {}; remove it or give it the same size",
                            want.target, want.size
                        ),
                    ));
                }
                continue;
            }
            qemu_img(&["create", "-q", "-f", format, path, &want.size.to_string()])?;
            created.push(path.clone());
        }
        Ok(())
    })();
    match result {
        Ok(()) => Ok(created),
        Err(e) => {
            remove_created(&created);
            Err(e)
        }
    }
}

/// Removes the disks a failed storage copy created.
pub(crate) fn remove_created(created: &[String]) {
    for path in created {
        let _ = std::fs::remove_file(path);
    }
}

/// The virtual size of an image, its format stated (never probed).
fn virtual_size(path: &str, format: &str) -> Result<u64> {
    let out = qemu_img(&["info", "--output=json", "-f", format, path])?;
    let v: Value = serde_json::from_str(&out).map_err(|e| {
        Error::new(
            ErrorCode::OperationFailed,
            format!("qemu-img info {path}: {e}"),
        )
    })?;
    v["virtual-size"].as_u64().ok_or_else(|| {
        Error::new(
            ErrorCode::OperationFailed,
            format!("qemu-img info {path} gave no virtual size"),
        )
    })
}

/// Runs `qemu-img ARGS`; its stderr is the error.
fn qemu_img(args: &[&str]) -> Result<String> {
    let out = std::process::Command::new("qemu-img")
        .args(args)
        .output()
        .map_err(|e| Error::io("cannot run qemu-img (Debian package qemu-utils)", e))?;
    if !out.status.success() {
        return Err(Error::new(
            ErrorCode::OperationFailed,
            format!(
                "qemu-img {}: {}",
                args.first().unwrap_or(&""),
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Exports the incoming QEMU's disks over NBD on `host:port`, writable,
/// each under its target's name.
pub(crate) fn export_disks(
    qmp: &Qmp,
    def: &DomainDef,
    disks: &[IncomingDisk],
    host: &str,
    port: u16,
) -> Result<()> {
    qmp.execute(
        "nbd-server-start",
        Some(json!({"addr": {"type": "inet", "data": {"host": host, "port": port.to_string()}}})),
        QMP_TIMEOUT,
    )?;
    let nodes = top_nodes(qmp, def)?;
    for want in disks {
        let (_, node, _) = nodes
            .iter()
            .find(|(t, _, _)| *t == want.target)
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::InvalidArgument,
                    format!("disk '{}' cannot receive a storage copy", want.target),
                )
            })?;
        qmp.execute(
            "block-export-add",
            Some(json!({
                "type": "nbd",
                "id": format!("migrate-{}", want.target),
                "node-name": node,
                "name": want.target,
                "writable": true,
            })),
            QMP_TIMEOUT,
        )?;
    }
    Ok(())
}

/// Stops the NBD server of an incoming storage copy (its exports go
/// with it); nothing when none runs.
pub(crate) fn stop_exports(qmp: &Qmp) {
    let _ = qmp.execute("nbd-server-stop", None, QMP_TIMEOUT);
}

/// One running mirror: its job id and the NBD node it writes to.
pub(crate) struct Mirror {
    pub job: String,
    pub target_node: String,
}

/// Starts a mirror of each `(target, node)` into the destination's NBD
/// export of the same name at `host:port`.
pub(crate) fn start_mirrors(
    qmp: &Qmp,
    nodes: &[(String, String, u64)],
    host: &str,
    port: u16,
) -> Result<Vec<Mirror>> {
    let mut mirrors = Vec::new();
    let result = (|| {
        for (target, node, _) in nodes {
            let target_node = format!("migrate-{target}");
            qmp.execute(
                "blockdev-add",
                Some(json!({
                    "driver": "nbd",
                    "node-name": target_node,
                    "server": {"type": "inet", "host": host, "port": port.to_string()},
                    "export": target,
                })),
                QMP_TIMEOUT,
            )?;
            let job = format!("migrate-{target}");
            if let Err(e) = qmp.execute(
                "blockdev-mirror",
                Some(json!({
                    "job-id": job,
                    "device": node,
                    "target": target_node,
                    "sync": "full",
                    "auto-dismiss": true,
                })),
                QMP_TIMEOUT,
            ) {
                let _ = qmp.execute(
                    "blockdev-del",
                    Some(json!({"node-name": target_node})),
                    QMP_TIMEOUT,
                );
                return Err(e);
            }
            mirrors.push(Mirror { job, target_node });
        }
        Ok(())
    })();
    match result {
        Ok(()) => Ok(mirrors),
        Err(e) => {
            cancel_mirrors(qmp, &mirrors);
            Err(e)
        }
    }
}

/// The block jobs QEMU runs, by id: `(status, len, offset)`.
fn block_jobs(qmp: &Qmp) -> Result<Vec<(String, String, u64, u64)>> {
    let jobs = qmp.execute("query-block-jobs", None, QMP_TIMEOUT)?;
    Ok(jobs
        .as_array()
        .into_iter()
        .flatten()
        .map(|j| {
            (
                j["device"].as_str().unwrap_or("").to_string(),
                j["status"].as_str().unwrap_or("").to_string(),
                j["len"].as_u64().unwrap_or(0),
                j["offset"].as_u64().unwrap_or(0),
            )
        })
        .collect())
}

/// Waits until every mirror is ready (the copy caught up), publishing the
/// copy's progress; an abort or a stalled copy ends it with an error.
pub(crate) fn wait_ready(qmp: &Qmp, mirrors: &[Mirror], job: &AsyncJobGuard<'_>) -> Result<()> {
    let mut last = (0u64, Instant::now());
    loop {
        if job.aborted() {
            return Err(Error::new(
                ErrorCode::OperationAborted,
                "the storage copy was aborted on request",
            ));
        }
        let jobs = block_jobs(qmp)?;
        let mut ready = 0;
        let (mut len, mut done) = (0, 0);
        for m in mirrors {
            match jobs.iter().find(|(id, ..)| *id == m.job) {
                Some((_, status, l, o)) => {
                    len += l;
                    done += o;
                    if status == "ready" {
                        ready += 1;
                    }
                }
                None => {
                    return Err(Error::new(
                        ErrorCode::OperationFailed,
                        format!("the storage copy job {} ended before it was ready", m.job),
                    ));
                }
            }
        }
        job.progress(|p| {
            p.data_total = len;
            p.data_processed = done;
            p.data_remaining = len.saturating_sub(done);
        });
        if ready == mirrors.len() {
            return Ok(());
        }
        if done != last.0 {
            last = (done, Instant::now());
        } else if last.1.elapsed() > STALLED {
            return Err(Error::new(
                ErrorCode::OperationFailed,
                format!(
                    "the storage copy moved nothing for {} s (is the destination's NBD port reachable?)",
                    STALLED.as_secs()
                ),
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Completes ready mirrors: a cancel of a ready mirror stops it with the
/// copy in step (QEMU's documented way to end a mirror without pivoting),
/// then waits for the jobs to be gone.
pub(crate) fn complete_mirrors(qmp: &Qmp, mirrors: &[Mirror]) -> Result<()> {
    for m in mirrors {
        qmp.execute(
            "block-job-cancel",
            Some(json!({"device": m.job})),
            QMP_TIMEOUT,
        )?;
    }
    let deadline = Instant::now() + STALLED;
    loop {
        let jobs = block_jobs(qmp)?;
        if !mirrors
            .iter()
            .any(|m| jobs.iter().any(|(id, ..)| *id == m.job))
        {
            break;
        }
        if Instant::now() >= deadline {
            return Err(Error::new(
                ErrorCode::OperationFailed,
                "the storage copy did not complete at the switchover",
            ));
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    for m in mirrors {
        let _ = qmp.execute(
            "blockdev-del",
            Some(json!({"node-name": m.target_node})),
            QMP_TIMEOUT,
        );
    }
    Ok(())
}

/// Stops mirrors after a failure, whatever their state, and drops their
/// NBD nodes: the source's disks are left as they were.
pub(crate) fn cancel_mirrors(qmp: &Qmp, mirrors: &[Mirror]) {
    for m in mirrors {
        let _ = qmp.execute(
            "block-job-cancel",
            Some(json!({"device": m.job, "force": true})),
            QMP_TIMEOUT,
        );
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        match block_jobs(qmp) {
            Ok(jobs)
                if mirrors
                    .iter()
                    .any(|m| jobs.iter().any(|(id, ..)| *id == m.job)) =>
            {
                std::thread::sleep(Duration::from_millis(10));
            }
            _ => break,
        }
    }
    for m in mirrors {
        let _ = qmp.execute(
            "blockdev-del",
            Some(json!({"node-name": m.target_node})),
            QMP_TIMEOUT,
        );
    }
}
