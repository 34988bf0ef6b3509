//! Snapshots and block jobs against real images and a real guest:
//! internal snapshots of a shut-off domain (`qemu-img snapshot`) listed,
//! reverted and deleted, with the data in the image checked by
//! `qemu-io`; a running Linux guest's internal snapshot with memory,
//! reverted while it runs (a disk block and a file in its RAM go back); an external disk-only snapshot onto a qcow2 overlay
//! merged back by an active block commit and a pivot, leaving one image
//! with every write; a running disk copied and pivoted onto the copy.

use std::path::Path;
use std::process::Command;

use qvirt::driver::{
    BlockCommitFlags, BlockCopy, BlockCopyFlags, BlockJobKind, BlockJobStatus, EventKind,
    SnapshotCreateFlags, SnapshotDeleteFlags, SnapshotRevertFlags, UndefineFlags, XmlFlags,
};
use qvirt::model::{SnapshotState, VolumeFormat};
use qvirt::{DomainState, ErrorCode};

use crate::cases_storage::{image_info, make_volume, qemu_img, vm_with_volume};
use crate::*;

/// `<domainsnapshot>` with a name.
fn snap_xml(name: &str) -> String {
    format!(
        "<domainsnapshot><name>{name}</name><description>test {name}</description></domainsnapshot>"
    )
}

/// Runs `qemu-io -f qcow2 -c CMD PATH`: whether it succeeded (a `read
/// -P` fails when the pattern differs).
fn qemu_io(path: &Path, cmd: &str) -> bool {
    let out = Command::new("qemu-io")
        .args(["-f", "qcow2", "-c", cmd])
        .arg(path)
        .output()
        .expect("run qemu-io");
    let text = String::from_utf8_lossy(&out.stdout);
    out.status.success() && !text.contains("Pattern verification failed")
}

/// The internal snapshot tags of a qcow2 image, as qemu-img lists them.
fn tags(path: &Path) -> Vec<String> {
    let info = image_info(path, "qcow2");
    info["snapshots"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|s| s["name"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// A shut-off domain's internal snapshots: each is a tag in its qcow2
/// image; list, current, parent, info and XML agree; a revert brings the
/// image's data back; a delete removes the tag and moves children to the
/// parent; a taken name is refused; undefine needs --snapshots-metadata.
pub fn snapshot_offline_internal(cx: &mut Ctx<'_>) {
    let d = cx.d();
    let vol = make_volume(d, "snap-a.qcow2", 16, "qcow2");
    let dom = define(d, &vm_with_volume("snap-a", "snap-a.qcow2"));
    assert!(qemu_io(&vol.path, "write -P 0x11 0 64k"));
    let s1 = d
        .snapshot_create_xml(&dom, &snap_xml("s1"), SnapshotCreateFlags::NONE)
        .unwrap();
    assert!(qemu_io(&vol.path, "write -P 0x22 0 64k"));
    let s2 = d
        .snapshot_create_xml(&dom, &snap_xml("s2"), SnapshotCreateFlags::NONE)
        .unwrap();
    assert_eq!(tags(&vol.path), ["s1", "s2"]);
    expect_err(
        d.snapshot_create_xml(&dom, &snap_xml("s1"), SnapshotCreateFlags::NONE),
        ErrorCode::OperationInvalid,
        "a snapshot name that exists",
    );
    assert_eq!(
        tags(&vol.path),
        ["s1", "s2"],
        "a refused snapshot adds no tag"
    );

    let list = d.snapshot_list(&dom).unwrap();
    let names: Vec<_> = list.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["s1", "s2"]);
    let i2 = d.snapshot_info(&s2).unwrap();
    assert_eq!(i2.parent.as_deref(), Some("s1"));
    assert_eq!(i2.state, SnapshotState::Shutoff);
    assert!(i2.current && !i2.external);
    assert_eq!(i2.description.as_deref(), Some("test s2"));
    assert_eq!(d.snapshot_current(&dom).unwrap(), Some(s2.clone()));
    assert_eq!(d.snapshot_lookup(&dom, "s1").unwrap(), s1);
    let xml = d.snapshot_xml(&s1).unwrap();
    assert!(
        xml.contains("<name>s1</name>") && xml.contains("<state>shutoff</state>"),
        "{xml}"
    );
    assert!(xml.contains("<domain"), "the definition is kept: {xml}");

    d.snapshot_revert(&s1, SnapshotRevertFlags::NONE).unwrap();
    assert!(
        qemu_io(&vol.path, "read -P 0x11 0 64k"),
        "s1's data is back"
    );
    assert_eq!(d.snapshot_current(&dom).unwrap(), Some(s1.clone()));
    assert_eq!(info(d, &dom).state, DomainState::Shutoff);

    d.snapshot_delete(&s1, SnapshotDeleteFlags::NONE).unwrap();
    assert_eq!(tags(&vol.path), ["s2"]);
    assert_eq!(
        d.snapshot_info(&s2).unwrap().parent,
        None,
        "s2 moved to s1's parent"
    );
    expect_err(
        d.snapshot_lookup(&dom, "s1"),
        ErrorCode::NoSnapshot,
        "a deleted snapshot",
    );
    qemu_img(&["check", "-f", "qcow2", vol.path.to_str().unwrap()]);

    expect_err(
        d.undefine(&dom),
        ErrorCode::OperationInvalid,
        "undefine with snapshots",
    );
    let flags = UndefineFlags {
        snapshots_metadata: true,
        ..UndefineFlags::default()
    };
    d.undefine_flags(&dom, flags).unwrap();
    assert_eq!(
        tags(&vol.path),
        ["s2"],
        "metadata only: the image keeps its tag"
    );
}

/// The Linux guest with a qcow2 data disk: an internal snapshot with
/// memory taken while it runs, then a disk block and a file in its RAM
/// changed; the revert puts the running guest back at the snapshot's
/// moment (old block, and the old file in its RAM: the guest runs on from
/// the saved memory; its uptime is no measure, as QEMU's virtual clock
/// runs on across a load without icount). Then a disk-only external snapshot puts the disk on a
/// qcow2 overlay over the image; a write lands in the overlay; an active
/// block commit with a pivot brings the disk back to the image, which
/// then holds every write and checks clean.
pub fn snapshot_guest_revert_and_commit(cx: &mut Ctx<'_>) {
    let d = cx.d();
    let vol = make_volume(d, "lx-s.qcow2", 16, "qcow2");
    let vm = Vm::linux("lx-s").device(
        "<disk type='volume' device='disk'><source pool='default' volume='lx-s.qcow2'/>\
         <target dev='vda' bus='virtio'/></disk>",
    );
    let (dom, mut console) = boot_guest(d, &vm);
    console.write("printf AAAA | dd of=/dev/vda conv=fsync 2>/dev/null; echo first > /tmp/mark\n");
    console.echo_roundtrip("written-a");

    let snap = d
        .snapshot_create_xml(&dom, &snap_xml("live"), SnapshotCreateFlags::NONE)
        .unwrap();
    let info_s = d.snapshot_info(&snap).unwrap();
    assert_eq!(info_s.state, SnapshotState::Running);
    let image = image_info(&vol.path, "qcow2");
    let tag = &image["snapshots"][0];
    assert_eq!(tag["name"], "live", "{image}");
    assert!(
        tag["vm-state-size"].as_u64().unwrap() > 0,
        "memory is in the image: {image}"
    );
    assert_eq!(info(d, &dom).state, DomainState::Running);

    console.write("printf BBBB | dd of=/dev/vda conv=fsync 2>/dev/null; echo second > /tmp/mark\n");
    console.echo_roundtrip("written-b");
    drop(console);

    d.snapshot_revert(&snap, SnapshotRevertFlags::NONE).unwrap();
    assert_eq!(info(d, &dom).state, DomainState::Running);
    let mut console = Console::open(d, &dom, false);
    console.write("\n");
    console.echo_roundtrip("after-revert");
    console.write("echo mark-$(cat /tmp/mark)-disk-$(dd if=/dev/vda bs=4 count=1 2>/dev/null)\n");
    console.read_until("mark-first-disk-AAAA", QUICK);

    // External disk-only snapshot, then an active commit with a pivot.
    let ext = d
        .snapshot_create_xml(&dom, &snap_xml("ext"), SnapshotCreateFlags::DISK_ONLY)
        .unwrap();
    let ei = d.snapshot_info(&ext).unwrap();
    assert!(ei.external);
    assert_eq!(ei.state, SnapshotState::DiskSnapshot);
    let live = d.xml_desc(&dom, XmlFlags::NONE).unwrap();
    let overlay = vol.path.with_extension("ext");
    assert!(
        live.contains(&format!("{}", overlay.display())),
        "the live disk is the overlay {}: {live}",
        overlay.display()
    );
    let oi = image_info(&overlay, "qcow2");
    assert_eq!(oi["backing-filename"].as_str(), vol.path.to_str(), "{oi}");
    assert_eq!(oi["backing-filename-format"], "qcow2", "{oi}");
    let inactive = d.xml_desc(&dom, XmlFlags::INACTIVE).unwrap();
    assert!(
        inactive.contains(&format!("{}", overlay.display())),
        "{inactive}"
    );

    console.write("printf CCCC | dd of=/dev/vda bs=4 seek=1 conv=fsync 2>/dev/null\n");
    console.echo_roundtrip("written-c");
    d.block_commit(&dom, "vda", BlockCommitFlags::ACTIVE)
        .unwrap();
    wait_until("the commit is ready", QUICK, || {
        d.block_job_info(&dom, "vda").unwrap().filter(|j| j.ready)
    });
    assert_eq!(d.block_job_info(&dom, "vda").unwrap().unwrap().bandwidth, 0);
    d.block_job_set_speed(&dom, "vda", 4 << 20).unwrap();
    assert_eq!(
        d.block_job_info(&dom, "vda").unwrap().unwrap().bandwidth,
        4 << 20,
        "the limit as QEMU has it"
    );
    d.block_job_abort(&dom, "vda", true).unwrap();
    expect_err(
        d.block_job_set_speed(&dom, "vda", 1 << 20),
        ErrorCode::OperationInvalid,
        "a disk without a job",
    );
    assert_eq!(d.block_job_info(&dom, "vda").unwrap(), None);
    let live = d.xml_desc(&dom, XmlFlags::NONE).unwrap();
    assert!(
        !live.contains(&format!("{}", overlay.display())),
        "pivoted back: {live}"
    );
    console.write("echo disk-$(dd if=/dev/vda bs=8 count=1 2>/dev/null)\n");
    console.read_until("disk-AAAACCCC", QUICK);
    drop(console);
    d.destroy(&dom).unwrap();
    assert!(
        qemu_io(&vol.path, "read -P 0x43 4 4"),
        "the image holds the overlay's write"
    );
    qemu_img(&["check", "-f", "qcow2", vol.path.to_str().unwrap()]);
}

/// A snapshot of a running domain is its job while it runs: another
/// caller's `job_info` sees a snapshot job (polled until the snapshot
/// call returns), and none once it is over.
pub fn snapshot_is_the_domains_job(cx: &mut Ctx<'_>) {
    use std::sync::atomic::{AtomicBool, Ordering};
    let d = cx.d();
    make_volume(d, "job.qcow2", 16, "qcow2");
    let dom = define_and_start(d, &vm_with_volume("job", "job.qcow2").memory_mib(256));
    let done = AtomicBool::new(false);
    let seen = std::thread::scope(|s| {
        let watcher = s.spawn(|| {
            let mut seen = Vec::new();
            while !done.load(Ordering::SeqCst) {
                if let Some(j) = d.job_info(&dom).unwrap() {
                    seen.push(j.kind);
                }
            }
            seen
        });
        let r = d.snapshot_create_xml(&dom, &snap_xml("j"), SnapshotCreateFlags::NONE);
        done.store(true, Ordering::SeqCst);
        r.unwrap();
        watcher.join().unwrap()
    });
    assert!(
        seen.contains(&qvirt::driver::JobKind::Snapshot),
        "a snapshot job was seen: {seen:?}"
    );
    assert_eq!(d.job_info(&dom).unwrap(), None, "no job once it is over");
}

/// External snapshots revert only from their own overlay: with a newer
/// snapshot's overlay on top, the revert is refused and nothing changes;
/// to the newest, the overlay is made afresh over its base and the
/// domain runs again (`--running`).
pub fn external_revert_is_guarded(cx: &mut Ctx<'_>) {
    let d = cx.d();
    let vol = make_volume(d, "ext.qcow2", 16, "qcow2");
    let dom = define_and_start(d, &vm_with_volume("ext", "ext.qcow2"));
    let e1 = d
        .snapshot_create_xml(&dom, &snap_xml("e1"), SnapshotCreateFlags::DISK_ONLY)
        .unwrap();
    let e2 = d
        .snapshot_create_xml(&dom, &snap_xml("e2"), SnapshotCreateFlags::DISK_ONLY)
        .unwrap();
    let o1 = vol.path.with_extension("e1");
    let o2 = vol.path.with_extension("e2");
    assert_eq!(
        image_info(&o2, "qcow2")["backing-filename"].as_str(),
        o1.to_str()
    );
    let e = expect_err(
        d.snapshot_revert(&e1, SnapshotRevertFlags::NONE),
        ErrorCode::OperationInvalid,
        "a revert under a newer overlay",
    );
    assert!(e.message.contains("e2"), "names the overlay on top: {e}");
    assert_eq!(info(d, &dom).state, DomainState::Running, "nothing changed");
    assert!(o1.exists() && o2.exists());
    assert_eq!(
        image_info(&o2, "qcow2")["backing-filename"].as_str(),
        o1.to_str()
    );

    d.snapshot_revert(&e2, SnapshotRevertFlags::RUNNING)
        .unwrap();
    assert_eq!(info(d, &dom).state, DomainState::Running);
    assert_eq!(
        image_info(&o2, "qcow2")["backing-filename"].as_str(),
        o1.to_str()
    );
    let live = d.xml_desc(&dom, XmlFlags::NONE).unwrap();
    assert!(
        live.contains(o2.to_str().unwrap()),
        "runs on the fresh overlay: {live}"
    );
    // The domain runs again under a new id: compare by name.
    let current = d.snapshot_current(&dom).unwrap().map(|s| s.name);
    assert_eq!(current.as_deref(), Some(e2.name.as_str()));
}

/// A running disk copied (`blockcopy`): refused for a persistent domain
/// without a transient job (nothing made) and for a relative path; with
/// one, the copy gets ready, a second job on the disk is refused, and a
/// pivot moves the live disk onto the copy while the definition keeps
/// the volume. A second copy (raw) ended without a pivot leaves the disk
/// where it is; a save or a snapshot while it runs is refused; both
/// copies hold the disk's data. Each job tells when it is ready and how
/// it ended (completed by the pivot, cancelled by the abort), once.
pub fn block_copy_pivots_the_live_disk(cx: &mut Ctx<'_>) {
    let d = cx.d();
    let vol = make_volume(d, "bc.qcow2", 16, "qcow2");
    assert!(qemu_io(&vol.path, "write -P 0x61 1M 64k"));
    let dom = define_and_start(d, &vm_with_volume("bc", "bc.qcow2"));
    let mut watch = Watch::new(d);
    // The next block job event: (disk, job, status).
    let mut job_event = || match watch.next_of(dom.uuid, QUICK).map(|e| e.kind) {
        Some(EventKind::BlockJob {
            dev, kind, status, ..
        }) => (dev, kind, status),
        other => panic!("want a block job event, got {other:?}"),
    };
    let dest = vol.path.with_file_name("bc-copy.qcow2");
    let mut copy = BlockCopy {
        dest: dest.clone(),
        ..BlockCopy::default()
    };
    expect_err(
        d.block_copy(&dom, "vda", &copy),
        ErrorCode::OperationInvalid,
        "a persistent domain's copy without a transient job",
    );
    assert!(!dest.exists(), "nothing made");
    copy.flags = BlockCopyFlags::TRANSIENT_JOB;
    let relative = BlockCopy {
        dest: "bc-copy.qcow2".into(),
        ..copy.clone()
    };
    expect_err(
        d.block_copy(&dom, "vda", &relative),
        ErrorCode::InvalidArgument,
        "a relative destination",
    );
    d.block_copy(&dom, "vda", &copy).unwrap();
    let ready = |what: &str| {
        wait_until(what, QUICK, || {
            d.block_job_info(&dom, "vda").unwrap().filter(|j| j.ready)
        })
    };
    assert_eq!(ready("the copy is ready").kind, BlockJobKind::Copy);
    let vda = || "vda".to_string();
    assert_eq!(
        job_event(),
        (vda(), BlockJobKind::Copy, BlockJobStatus::Ready)
    );
    expect_err(
        d.block_copy(&dom, "vda", &copy),
        ErrorCode::OperationInvalid,
        "a second job on the disk",
    );
    d.block_job_abort(&dom, "vda", true).unwrap();
    assert_eq!(
        job_event(),
        (vda(), BlockJobKind::Copy, BlockJobStatus::Completed),
        "a pivot completes the job"
    );
    assert_eq!(d.block_job_info(&dom, "vda").unwrap(), None);
    let on_copy = format!("<source file='{}'", dest.display());
    let live = d.xml_desc(&dom, XmlFlags::NONE).unwrap();
    assert!(live.contains(&on_copy), "the live disk is the copy: {live}");
    let inactive = d.xml_desc(&dom, XmlFlags::INACTIVE).unwrap();
    assert!(!inactive.contains("bc-copy"), "{inactive}");

    let raw = vol.path.with_file_name("bc-2.raw");
    let second = BlockCopy {
        dest: raw.clone(),
        format: Some(VolumeFormat::Raw),
        ..copy.clone()
    };
    d.block_copy(&dom, "vda", &second).unwrap();
    ready("the second copy is ready");
    // What would lose the job is refused while it runs (libvirt's rule).
    let image = vol.path.with_file_name("bc.save");
    let e = expect_err(
        d.save(&dom, &image),
        ErrorCode::OperationInvalid,
        "a save during a copy",
    );
    assert!(e.message.contains("active block job"), "{e}");
    assert!(!image.exists());
    let snap = d.snapshot_create_xml(&dom, &snap_xml("during"), SnapshotCreateFlags::DISK_ONLY);
    expect_err(
        snap,
        ErrorCode::OperationInvalid,
        "a snapshot during a copy",
    );
    assert_eq!(
        job_event(),
        (vda(), BlockJobKind::Copy, BlockJobStatus::Ready)
    );
    d.block_job_abort(&dom, "vda", false).unwrap();
    assert_eq!(
        job_event(),
        (vda(), BlockJobKind::Copy, BlockJobStatus::Cancelled),
        "an abort cancels it, told once"
    );
    assert_eq!(d.block_job_info(&dom, "vda").unwrap(), None);
    let live = d.xml_desc(&dom, XmlFlags::NONE).unwrap();
    assert!(live.contains(&on_copy), "still on the first copy: {live}");
    d.destroy(&dom).unwrap();
    match watch.next_of(dom.uuid, QUICK).map(|e| e.kind) {
        Some(EventKind::Stopped(_)) => {}
        other => panic!("the stop comes next, no block job event again: {other:?}"),
    }
    assert!(
        qemu_io(&dest, "read -P 0x61 1M 64k"),
        "the copy holds the disk's data"
    );
    qemu_img(&[
        "compare",
        "-f",
        "qcow2",
        "-F",
        "raw",
        dest.to_str().unwrap(),
        raw.to_str().unwrap(),
    ]);
}
