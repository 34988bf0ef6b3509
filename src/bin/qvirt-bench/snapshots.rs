//! `snapshot`: a running 256 MiB firmware VM with a qcow2 disk. Internal
//! snapshots (memory and disk) taken and reverted through the API, and
//! external disk-only snapshots onto new overlays, each beside the same
//! QMP commands sent directly to a QEMU of the same command line (the
//! floor): `snapshot-save` / `snapshot-load` jobs polled with
//! `query-jobs` and dismissed, and an overlay written as qvirt writes it
//! (`qemu::qcow2`, the file `qemu-img create` would make, without its
//! process), `blockdev-add` and `blockdev-snapshot`, worded as qvirt
//! words them (QEMU reads its monitor a byte at a time, so the length
//! of a command is part of its cost).

use std::path::Path;
use std::time::{Duration, Instant};

use qvirt::driver::{SnapshotCreateFlags, SnapshotRevertFlags, UndefineFlags};
use qvirt::model::VolumeFormat;
use qvirt::qemu::img::{self, CreateOptions};
use qvirt::qemu::qcow2;
use qvirt::qemu::qmp::Qmp;
use qvirt::{Error, ErrorCode, Result};
use serde_json::{Value, json};

use crate::fixture::{Fixture, Kind, PREFIX, temp_dir};
use crate::guests;
use crate::raw::RawQemu;
use crate::stats::{Metric, Samples};

/// Rounds of each measure.
const ROUNDS: usize = 5;
/// The disk's size.
const DISK: u64 = 64 << 20;
/// How long one QMP command may take.
const QMP: Duration = Duration::from_secs(60);

/// The VM: 256 MiB, TCG, one vCPU, a qcow2 virtio disk on `image`.
fn vm_xml(name: &str, image: &Path) -> String {
    format!(
        "<domain type='qemu'><name>{name}</name><memory unit='MiB'>256</memory><vcpu>1</vcpu>\
         <os><type arch='x86_64' machine='pc'>hvm</type></os><devices>\
         <disk type='file' device='disk'><driver name='qemu' type='qcow2'/>\
         <source file='{}'/><target dev='vda' bus='virtio'/></disk>\
         <memballoon model='none'/></devices></domain>",
        image.display()
    )
}

fn snap_xml(name: &str) -> String {
    format!("<domainsnapshot><name>{name}</name></domainsnapshot>")
}

/// Runs QEMU job `cmd` and waits for it as the driver does: `query-jobs`
/// with a pause doubling from 200 µs to 20 ms, then `job-dismiss`.
fn qemu_job(qmp: &Qmp, cmd: &str, args: Value, id: &str) -> Result<()> {
    qmp.execute(cmd, Some(args), QMP)?;
    let mut pause = Duration::from_micros(200);
    loop {
        let jobs = qmp.execute("query-jobs", None, QMP)?;
        let j = jobs
            .as_array()
            .into_iter()
            .flatten()
            .find(|j| j["id"] == id)
            .cloned()
            .ok_or_else(|| Error::new(ErrorCode::OperationFailed, format!("no job {id}")))?;
        if j["status"] == "concluded" {
            qmp.execute("job-dismiss", Some(json!({"id": id})), QMP)?;
            return match j.get("error").and_then(Value::as_str) {
                Some(e) => Err(Error::new(ErrorCode::OperationFailed, e.to_string())),
                None => Ok(()),
            };
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(20));
    }
}

/// The qcow2 node of `image` in a QEMU.
fn node_of(qmp: &Qmp, image: &Path) -> Result<String> {
    let nodes = qmp.execute("query-named-block-nodes", Some(json!({"flat": true})), QMP)?;
    nodes
        .as_array()
        .into_iter()
        .flatten()
        .find(|n| n["drv"] == "qcow2" && n["file"].as_str() == image.to_str())
        .and_then(|n| n["node-name"].as_str().map(str::to_string))
        .ok_or_else(|| Error::new(ErrorCode::OperationFailed, "no qcow2 node for the disk"))
}

/// `snapshot`: see the module's documentation.
pub fn snapshot(kind: &Kind) -> Result<Vec<Metric>> {
    let fx = Fixture::open_new(kind)?;
    let c = fx.client()?;
    let pool = c.pool_lookup_by_name("default")?;
    let vol = c.vol_create_xml(
        &pool,
        &format!(
            "<volume><name>{PREFIX}snap.qcow2</name><capacity>{DISK}</capacity>\
             <target><format type='qcow2'/></target></volume>"
        ),
    )?;
    let name = guests::name("snap", 0);
    let dom = c.define_xml(&vm_xml(&name, &vol.path))?;
    let dom = c.start(&dom)?;

    let tmp = temp_dir()?;
    let raw_image = tmp.join("raw.qcow2");
    img::create(
        &raw_image,
        VolumeFormat::Qcow2,
        DISK,
        &CreateOptions::default(),
    )?;
    let raw = RawQemu::new(&vm_xml(&format!("{PREFIX}snap-raw"), &raw_image))?;
    let run = raw.launch()?;
    let qmp = &run.qmp;
    let mut node = node_of(qmp, &raw_image)?;

    let (mut create, mut revert) = (Samples::default(), Samples::default());
    let (mut raw_create, mut raw_revert) = (Samples::default(), Samples::default());
    let raw_save = |tag: &str| {
        qemu_job(
            qmp,
            "snapshot-save",
            json!({"job-id": "save", "tag": tag, "vmstate": node, "devices": [node]}),
            "save",
        )
    };
    let raw_load = |tag: &str| {
        qemu_job(
            qmp,
            "snapshot-load",
            json!({"job-id": "load", "tag": tag, "vmstate": node, "devices": [node]}),
            "load",
        )
    };
    // Untimed: a first snapshot of each warms the page cache.
    c.snapshot_create_xml(&dom, &snap_xml("warm"), SnapshotCreateFlags::NONE)?;
    raw_save("warm")?;
    for r in 0..ROUNDS {
        let tag = format!("i{r}");
        let ours = |create: &mut Samples, revert: &mut Samples| -> Result<()> {
            let s = create
                .time(|| c.snapshot_create_xml(&dom, &snap_xml(&tag), SnapshotCreateFlags::NONE))?;
            revert.time(|| c.snapshot_revert(&s, SnapshotRevertFlags::NONE))
        };
        let floor = |create: &mut Samples, revert: &mut Samples| -> Result<()> {
            create.time(|| raw_save(&tag))?;
            revert.time(|| raw_load(&tag))
        };
        if r % 2 == 0 {
            ours(&mut create, &mut revert)?;
            floor(&mut raw_create, &mut raw_revert)?;
        } else {
            floor(&mut raw_create, &mut raw_revert)?;
            ours(&mut create, &mut revert)?;
        }
    }

    let (mut external, mut raw_external) = (Samples::default(), Samples::default());
    for r in 0..ROUNDS {
        let tag = format!("e{r}");
        let ours = |s: &mut Samples| -> Result<()> {
            s.time(|| c.snapshot_create_xml(&dom, &snap_xml(&tag), SnapshotCreateFlags::DISK_ONLY))
                .map(drop)
        };
        let top = if r == 0 {
            raw_image.clone()
        } else {
            tmp.join(format!("raw.e{}", r - 1))
        };
        let overlay = tmp.join(format!("raw.{tag}"));
        // As long as qvirt's names (`qvHEX-f`).
        let new_node = format!("qv{r:08x}-f");
        let floor = |s: &mut Samples| -> Result<()> {
            let t0 = Instant::now();
            qcow2::create_overlay(&overlay, &top, VolumeFormat::Qcow2, DISK)?;
            qmp.execute(
                "blockdev-add",
                Some(json!({
                    "driver": "qcow2",
                    "node-name": new_node,
                    "file": {"driver": "file", "filename": overlay.to_str()},
                    "backing": null,
                })),
                QMP,
            )?;
            qmp.execute(
                "blockdev-snapshot",
                Some(json!({"node": node, "overlay": new_node})),
                QMP,
            )?;
            s.push(t0.elapsed());
            Ok(())
        };
        if r % 2 == 0 {
            ours(&mut external)?;
            floor(&mut raw_external)?;
        } else {
            floor(&mut raw_external)?;
            ours(&mut external)?;
        }
        node = new_node;
    }
    drop(run);
    drop(raw);
    let _ = std::fs::remove_dir_all(&tmp);
    c.destroy(&dom)?;
    c.undefine_flags(
        &dom,
        UndefineFlags {
            snapshots_metadata: true,
            ..UndefineFlags::default()
        },
    )?;

    let mut out: Vec<Metric> = [
        Metric::dist(
            "snapshot_create_ms",
            "internal snapshot (256 MiB, running)",
            "ms",
            &create,
            1.0,
        ),
        Metric::dist(
            "raw_snapshot_create_ms",
            "floor: snapshot-save job",
            "ms",
            &raw_create,
            1.0,
        ),
        Metric::dist(
            "snapshot_revert_ms",
            "revert to it (running)",
            "ms",
            &revert,
            1.0,
        ),
        Metric::dist(
            "raw_snapshot_revert_ms",
            "floor: snapshot-load job",
            "ms",
            &raw_revert,
            1.0,
        ),
        Metric::dist(
            "snapshot_external_ms",
            "external disk-only snapshot",
            "ms",
            &external,
            1.0,
        ),
        Metric::dist(
            "raw_snapshot_external_ms",
            "floor: overlay written + blockdev-add + blockdev-snapshot",
            "ms",
            &raw_external,
            1.0,
        ),
    ]
    .into_iter()
    .flatten()
    .collect();
    for (key, label, a, b) in [
        (
            "snapshot_create_minus_raw_ms",
            "internal snapshot minus floor (medians)",
            &create,
            &raw_create,
        ),
        (
            "snapshot_revert_minus_raw_ms",
            "revert minus floor (medians)",
            &revert,
            &raw_revert,
        ),
        (
            "snapshot_external_minus_raw_ms",
            "external snapshot minus floor (medians)",
            &external,
            &raw_external,
        ),
    ] {
        if let (Some(x), Some(y)) = (a.summary(1.0), b.summary(1.0)) {
            out.push(Metric::single(key, label, "ms", x.median - y.median));
        }
    }
    Ok(out)
}
