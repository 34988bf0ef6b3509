//! virsh's snapshot verbs (Debian's libvirt-clients 9.0, unmodified)
//! against a real qvirtd's libvirt socket: internal snapshots of a
//! running domain taken, listed as a tree, described, reverted to and
//! deleted, an external disk-only snapshot, and the block verbs that
//! merge overlays (`blockcommit --active --pivot`, `blockpull`,
//! `blockjob`, `domblkinfo`), and `blockcopy` (python3-libvirt's
//! `blockCopy` with its block job events, qvirt's own verb) with writes
//! through the guest's disk while the copy is mirrored, each checked against what qvirt's own
//! client of the same daemon sees and against the images. Runs as root,
//! with QEMU.

#[allow(dead_code, unused_imports)]
#[path = "daemon/support.rs"]
mod support;

#[path = "libvirt/lv.rs"]
mod lv;

use std::process::Command;

use lv::*;
use qvirt::driver::{DomainState, XmlFlags};
use support::*;

/// A firmware-only domain (it sits in the BIOS) with one qcow2 disk,
/// which holds internal snapshots and their memory.
fn vm_with_disk(name: &str, image: &str) -> String {
    format!(
        "<domain type='qemu'><name>{name}</name><memory unit='MiB'>32</memory>\
         <vcpu>1</vcpu><os><type arch='x86_64' machine='pc'>hvm</type></os>\
         <devices><disk type='file' device='disk'><driver name='qemu' type='qcow2'/>\
         <source file='{image}'/><target dev='vda' bus='virtio'/></disk>\
         <memballoon model='none'/></devices></domain>"
    )
}

/// The names virsh lists, one per line.
fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

#[test]
fn snapshot_verbs_through_virsh() {
    let dir = TestDir::new("lvsnap");
    let mut daemon = Daemon::start(&dir.path, &[]);
    let socket = lv_socket(&dir.path);
    let qvirt = daemon.connect();
    let virsh = |args: &[&str]| virsh_ok(&socket, args);
    let image = dir.path.join("sv.qcow2");
    let out = Command::new("qemu-img")
        .args(["create", "-q", "-f", "qcow2"])
        .arg(&image)
        .arg("64M")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let xml = write_file(
        &dir.path,
        "sv.xml",
        &vm_with_disk("sv", image.to_str().unwrap()),
    );
    virsh(&["define", xml.to_str().unwrap()]);
    virsh(&["start", "sv"]);

    // Two internal snapshots of the running domain, the second a child of
    // the first.
    assert!(
        virsh(&["snapshot-create-as", "sv", "s1", "--description", "first"])
            .contains("Domain snapshot s1 created")
    );
    assert!(virsh(&["snapshot-create-as", "sv", "s2"]).contains("Domain snapshot s2 created"));
    let dom = qvirt.lookup_by_name("sv").unwrap();
    // The snapshot ran as the domain's job: virsh reads its record.
    let done = virsh(&["domjobinfo", "sv", "--completed"]);
    for (key, value) in [("Job type", "Completed"), ("Operation", "Snapshot")] {
        let found = done
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{key}:")))
            .map(str::trim);
        assert_eq!(found, Some(value), "{key} in\n{done}");
    }
    assert!(
        virsh(&["domjobinfo", "sv"]).contains("Job type:         None"),
        "no job runs now"
    );
    let seen: Vec<String> = qvirt
        .snapshot_list(&dom)
        .unwrap()
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(seen, ["s1", "s2"], "qvirt's client sees what virsh made");

    let listed = virsh(&["snapshot-list", "sv"]);
    assert!(
        listed.contains(" Name") && listed.contains("State"),
        "{listed}"
    );
    for name in ["s1", "s2"] {
        let row = listed
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("no row for {name}:\n{listed}"));
        assert!(row.ends_with("running"), "{row}");
    }
    assert_eq!(
        lines(&virsh(&["snapshot-list", "sv", "--name"])),
        ["s1", "s2"]
    );
    assert_eq!(
        lines(&virsh(&["snapshot-list", "sv", "--roots", "--name"])),
        ["s1"]
    );
    assert_eq!(
        lines(&virsh(&["snapshot-list", "sv", "--leaves", "--name"])),
        ["s2"]
    );
    assert_eq!(
        lines(&virsh(&["snapshot-list", "sv", "--tree"])),
        ["s1", "|", "+- s2"]
    );
    assert_eq!(lines(&virsh(&["snapshot-current", "sv", "--name"])), ["s2"]);
    assert_eq!(lines(&virsh(&["snapshot-parent", "sv", "s2"])), ["s1"]);

    let info = virsh(&["snapshot-info", "sv", "s1"]);
    for (key, value) in [
        ("Name", "s1"),
        ("Domain", "sv"),
        ("Current", "no"),
        ("State", "running"),
        ("Location", "internal"),
        ("Parent", "-"),
        ("Children", "1"),
        ("Descendants", "1"),
        ("Metadata", "yes"),
    ] {
        let found = info
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{key}:")))
            .map(str::trim);
        assert_eq!(found, Some(value), "{key} in\n{info}");
    }
    let dumped = virsh(&["snapshot-dumpxml", "sv", "s1"]);
    assert!(
        dumped.contains("<name>s1</name>") && dumped.contains("<description>first</description>"),
        "{dumped}"
    );

    // Revert, then delete the child.
    virsh(&["snapshot-revert", "sv", "s1"]);
    assert_eq!(lines(&virsh(&["snapshot-current", "sv", "--name"])), ["s1"]);
    assert_eq!(qvirt.info(&dom).unwrap().state, DomainState::Running);
    assert!(virsh(&["snapshot-delete", "sv", "s2"]).contains("Domain snapshot s2 deleted"));
    assert_eq!(lines(&virsh(&["snapshot-list", "sv", "--name"])), ["s1"]);
    let err = virsh_err(&socket, &["snapshot-info", "sv", "s2"]);
    assert!(
        err.contains("Domain snapshot not found") && err.contains("s2"),
        "{err}"
    );

    // An external, disk-only snapshot: the disk moves to a new overlay
    // over the old image.
    assert!(
        virsh(&["snapshot-create-as", "sv", "d1", "--disk-only", "--atomic"])
            .contains("Domain snapshot d1 created")
    );
    let live = qvirt.xml_desc(&dom, XmlFlags::NONE).unwrap();
    let overlay = live
        .split("<source file='")
        .nth(1)
        .and_then(|s| s.split('\'').next())
        .unwrap_or_else(|| panic!("no disk source in {live}"));
    assert_ne!(
        overlay,
        image.to_str().unwrap(),
        "the disk is the overlay now"
    );
    let backing = Command::new("qemu-img")
        .args(["info", "-U", "--output=json", overlay])
        .output()
        .unwrap();
    let backing = String::from_utf8_lossy(&backing.stdout);
    assert!(
        backing.contains(image.to_str().unwrap()),
        "the overlay's backing is the old image: {backing}"
    );
    let info = virsh(&["snapshot-info", "sv", "d1"]);
    assert!(
        info.lines()
            .any(|l| l.starts_with("State:") && l.ends_with("disk-snapshot")),
        "{info}"
    );
    assert_eq!(
        lines(&virsh(&["snapshot-list", "sv", "--disk-only", "--name"])),
        ["d1"]
    );

    // virsh's block verbs: the overlay's sizes, an active commit that
    // pivots back to the image, then no job left.
    let blk = virsh(&["domblkinfo", "sv", "vda"]);
    assert!(
        blk.lines()
            .any(|l| l.starts_with("Capacity:") && l.trim_end().ends_with("67108864")),
        "{blk}"
    );
    // Started with a speed limit, held ready: the limit reaches QEMU
    // (`query-block-jobs`' speed) and `blockjob --info` shows it; a new
    // one replaces it.
    virsh(&["blockcommit", "sv", "vda", "--active", "--bandwidth", "3"]);
    let speed = || {
        let jobs = virsh(&[
            "qemu-monitor-command",
            "sv",
            r#"{"execute":"query-block-jobs"}"#,
        ]);
        let v: serde_json::Value = serde_json::from_str(&jobs).unwrap();
        v["return"][0]["speed"]
            .as_u64()
            .unwrap_or_else(|| panic!("{jobs}"))
    };
    assert_eq!(speed(), 3 << 20);
    let info = virsh(&["blockjob", "sv", "vda", "--info"]);
    assert!(
        info.contains("Bandwidth limit: 3145728 bytes/s (3.000 MiB/s)"),
        "{info}"
    );
    virsh(&["blockjob", "sv", "vda", "--bandwidth", "7"]);
    assert_eq!(speed(), 7 << 20);
    // The running domain's XML shows the commit (libvirt's <mirror
    // job='active-commit'> naming the base it writes into), in step
    // before the pivot, also for a qvirtd started again.
    let mirror = format!(
        "<mirror type='file' job='active-commit' ready='yes'>\n        <format type='qcow2'/>\n        <source file='{}'/>\n      </mirror>",
        image.display()
    );
    wait_for(
        "the commit in step",
        std::time::Duration::from_secs(60),
        || {
            let live = qvirt.xml_desc(&dom, XmlFlags::NONE).unwrap();
            live.contains(&mirror).then_some(())
        },
    );
    drop(qvirt);
    drop(daemon);
    daemon = Daemon::start(&dir.path, &[]);
    let qvirt = daemon.connect();
    let live = qvirt.xml_desc(&dom, XmlFlags::NONE).unwrap();
    assert!(live.contains(&mirror), "{live}");
    let out = virsh(&["blockjob", "sv", "vda", "--pivot"]);
    assert!(out.trim().is_empty(), "{out}");
    let live = qvirt.xml_desc(&dom, XmlFlags::NONE).unwrap();
    assert!(
        live.contains(&format!("<source file='{}'", image.display())) && !live.contains(overlay),
        "the disk is the image again: {live}"
    );
    assert!(!live.contains("<mirror"), "{live}");
    assert!(virsh(&["blockjob", "sv", "vda", "--info"]).contains("No current block job for vda"));
    // Another overlay, then a pull: the overlay stands alone.
    virsh(&["snapshot-create-as", "sv", "d2", "--disk-only"]);
    let out = virsh(&["blockpull", "sv", "vda", "--wait"]);
    assert!(out.contains("Pull complete"), "{out}");
    let live = qvirt.xml_desc(&dom, XmlFlags::NONE).unwrap();
    assert!(
        !live.contains("<backingStore type"),
        "no backing chain left: {live}"
    );
    // A persistent domain's copy that is not a transient job is refused
    // (libvirt's rule), and no file is made.
    let copy = dir.path.join("copy.img");
    let err = virsh_err(&socket, &["blockcopy", "sv", "vda", copy.to_str().unwrap()]);
    assert!(err.contains("domain is not transient"), "{err}");
    assert!(!copy.exists());
    virsh(&["destroy", "sv"]);
}

/// A raw image of 16 MiB with 64 KiB of 0x5a at 4 MiB.
fn raw_image(path: &std::path::Path) {
    let mut data = vec![0u8; 16 << 20];
    data[4 << 20..(4 << 20) + (64 << 10)].fill(0x5a);
    std::fs::write(path, data).unwrap();
}

/// The bytes the guest sees in image `path` (qcow2 with its backing, or
/// raw), read with `qemu-img convert` while QEMU holds it.
fn guest_bytes(path: &std::path::Path, work: &std::path::Path) -> Vec<u8> {
    let out = work.join("read.raw");
    let status = Command::new("qemu-img")
        .args(["convert", "-U", "-O", "raw"])
        .arg(path)
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::read(out).unwrap()
}

/// Whether 64 KiB at `offset` of `data` are all `byte`.
fn holds(data: &[u8], offset: usize, byte: u8) -> bool {
    data[offset..offset + (64 << 10)].iter().all(|b| *b == byte)
}

#[test]
fn blockcopy_through_virsh_python_and_qvirt() {
    let dir = TestDir::new("lvcopy");
    let daemon = Daemon::start(&dir.path, &[]);
    let socket = lv_socket(&dir.path);
    let virsh = |args: &[&str]| virsh_ok(&socket, args);
    let original = dir.path.join("bc.raw");
    raw_image(&original);
    let vm = |name: &str, image: &std::path::Path| {
        vm_with_disk(name, image.to_str().unwrap()).replace("type='qcow2'", "type='raw'")
    };
    let xml = write_file(&dir.path, "bc.xml", &vm("bc", &original));
    virsh(&["define", xml.to_str().unwrap()]);
    virsh(&["start", "bc"]);
    // Writes through the guest's disk device, as the guest's own would.
    let write = |dom: &str, byte: u8, offset: &str| {
        let cmd = format!(
            r#"{{"execute":"human-monitor-command","arguments":{{"command-line":"qemu-io -d /machine/peripheral/virtio-disk0/virtio-backend \"write -P {byte:#x} {offset} 64k\""}}}}"#
        );
        let out = virsh(&["qemu-monitor-command", dom, &cmd]);
        assert!(out.contains(r#""return":"""#), "{out}");
    };

    // A full copy into qcow2, mirrored, pivoted onto.
    let copy = dir.path.join("copy.qcow2");
    let c = copy.to_str().unwrap();
    let out = virsh(&[
        "blockcopy",
        "bc",
        "vda",
        c,
        "--format",
        "qcow2",
        "--transient-job",
        "--wait",
    ]);
    assert!(out.contains("Now in mirroring phase"), "{out}");
    // virsh prints a job's progress on stderr.
    let info = lv::virsh(&socket, &["blockjob", "bc", "vda", "--info"]);
    let progress = String::from_utf8_lossy(&info.stderr);
    assert!(progress.contains("Block Copy: [100 %]"), "{info:?}");
    // The running domain's XML shows the copy in step (libvirt's
    // <mirror>), also for a qvirtd started again; a definition read
    // from that XML drops it.
    let mirror = format!("<mirror type='file' file='{c}' format='qcow2' job='copy' ready='yes'>");
    let live = virsh(&["dumpxml", "bc"]);
    assert!(live.contains(&mirror), "{live}");
    drop(daemon);
    let _daemon = Daemon::start(&dir.path, &[]);
    let live = virsh(&["dumpxml", "bc"]);
    assert!(live.contains(&mirror), "{live}");
    let saved = write_file(&dir.path, "live.xml", &live);
    virsh(&["define", saved.to_str().unwrap()]);
    assert!(!virsh(&["dumpxml", "bc", "--inactive"]).contains("<mirror"));
    write("bc", 0xab, "1M");
    assert!(
        virsh(&["blockjob", "bc", "vda", "--pivot"])
            .trim()
            .is_empty()
    );
    write("bc", 0xcd, "2M");
    assert!(virsh(&["domblklist", "bc"]).contains(c));
    assert!(!virsh(&["dumpxml", "bc"]).contains("<mirror"));
    let inactive = virsh(&["dumpxml", "bc", "--inactive"]);
    assert!(inactive.contains(original.to_str().unwrap()) && !inactive.contains(c));
    let data = guest_bytes(&copy, &dir.path);
    assert!(
        holds(&data, 4 << 20, 0x5a) && holds(&data, 1 << 20, 0xab) && holds(&data, 2 << 20, 0xcd)
    );
    let data = std::fs::read(&original).unwrap();
    assert!(
        holds(&data, 1 << 20, 0xab),
        "mirrored writes reached the disk too"
    );
    assert!(
        holds(&data, 2 << 20, 0),
        "writes after the pivot go to the copy only"
    );
    let nodes = virsh(&[
        "qemu-monitor-command",
        "bc",
        r#"{"execute":"query-named-block-nodes","arguments":{"flat":true}}"#,
    ]);
    assert!(
        !nodes.contains(original.to_str().unwrap()),
        "QEMU let go of the original: {nodes}"
    );

    // A shallow copy of an overlay, finished without a pivot: it has the
    // overlay's backing, the writes up to its end, and the disk stays.
    virsh(&["snapshot-create-as", "bc", "s1", "--disk-only"]);
    let overlay = virsh(&["domblklist", "bc"]);
    write("bc", 0xee, "3M");
    let shallow = dir.path.join("shallow.qcow2");
    let out = virsh(&[
        "blockcopy",
        "bc",
        "vda",
        shallow.to_str().unwrap(),
        "--shallow",
        "--transient-job",
        "--wait",
        "--finish",
    ]);
    assert!(out.contains("Successfully copied"), "{out}");
    assert_eq!(virsh(&["domblklist", "bc"]), overlay);
    assert!(!virsh(&["dumpxml", "bc"]).contains("<mirror"));
    write("bc", 0x11, "5M");
    let backing = Command::new("qemu-img")
        .args(["info", "-U"])
        .arg(&shallow)
        .output()
        .unwrap();
    let backing = String::from_utf8_lossy(&backing.stdout);
    assert!(backing.contains(&format!("backing file: {c}")), "{backing}");
    let data = guest_bytes(&shallow, &dir.path);
    assert!(holds(&data, 3 << 20, 0xee) && holds(&data, 1 << 20, 0xab));
    assert!(holds(&data, 5 << 20, 0), "the copy ended at --finish");
    virsh(&["destroy", "bc"]);

    // A transient domain: virsh's plain form (virDomainBlockRebase with
    // VIR_DOMAIN_BLOCK_REBASE_COPY), then python3-libvirt's blockCopy.
    let image = dir.path.join("tc.raw");
    raw_image(&image);
    let xml = write_file(&dir.path, "tc.xml", &vm("tc", &image));
    virsh(&["create", xml.to_str().unwrap()]);
    let t = dir.path.join("tc-copy.raw");
    let out = virsh(&[
        "blockcopy",
        "tc",
        "vda",
        t.to_str().unwrap(),
        "--raw",
        "--wait",
        "--pivot",
        "--bandwidth",
        "100",
    ]);
    assert!(out.contains("Successfully pivoted"), "{out}");
    assert!(virsh(&["domblklist", "tc"]).contains(t.to_str().unwrap()));
    let p = dir.path.join("tc-py.qcow2");
    let out = python(
        &socket,
        "tc",
        &format!(
            r#"import queue, threading
libvirt.virEventRegisterDefaultImpl()
threading.Thread(target=lambda: [libvirt.virEventRunDefaultImpl() for _ in iter(int, 1)],
                 daemon=True).start()
watcher = libvirt.open({uri:?})
seen = queue.Queue()
watcher.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_BLOCK_JOB_2,
                               lambda c, d, disk, t, st, o: seen.put((disk, t, st)), None)
dom.blockCopy("vda", "<disk type='file'><source file='{path}'/><driver type='qcow2'/></disk>",
              {{"bandwidth": 1 << 30, "granularity": 65536}}, 0)
print("ready", seen.get(timeout=30) == ("vda", libvirt.VIR_DOMAIN_BLOCK_JOB_TYPE_COPY,
                                        libvirt.VIR_DOMAIN_BLOCK_JOB_READY))
i = dom.blockJobInfo("vda", 0)
print("type", i["type"] == libvirt.VIR_DOMAIN_BLOCK_JOB_TYPE_COPY, i["cur"] == i["end"])
dom.blockJobAbort("vda", libvirt.VIR_DOMAIN_BLOCK_JOB_ABORT_PIVOT)
print("completed", seen.get(timeout=30) == ("vda", libvirt.VIR_DOMAIN_BLOCK_JOB_TYPE_COPY,
                                            libvirt.VIR_DOMAIN_BLOCK_JOB_COMPLETED))
print("after", dom.blockJobInfo("vda", 0))
for xml, params in [("<disk type='network'><source protocol='nbd' name='x'/></disk>", None),
                    ("<disk><source file='/tmp/x.qcow2'/></disk>", {{"foo": 1}})]:
    try:
        dom.blockCopy("vda", xml, params, 0)
    except libvirt.libvirtError as e:
        print("refused", e.get_error_code(), e.get_error_message())"#,
            uri = uri(&socket),
            path = p.display()
        ),
    );
    for line in ["ready True", "type True True", "completed True", "after {}"] {
        assert!(out.contains(line), "{line}: {out}");
    }
    assert!(
        out.contains(&format!(
            "refused {} 1:1: <disk type='network'>",
            libvirt_code("VIR_ERR_CONFIG_UNSUPPORTED")
        )),
        "{out}"
    );
    assert!(out.contains("parameter 'foo' not supported"), "{out}");
    assert!(virsh(&["domblklist", "tc"]).contains(p.to_str().unwrap()));

    // qvirt's own verb, on the same daemon: a copy finished, the disk
    // left on python's copy.
    let q = dir.path.join("tc-qvirt.qcow2");
    let out = Command::new(env!("CARGO_BIN_EXE_qvirt"))
        .args([
            "-c",
            &format!(
                "qemu+unix:///session?socket={}",
                dir.path.join("run/qvirt-sock").display()
            ),
        ])
        .args([
            "blockcopy",
            "tc",
            "vda",
            q.to_str().unwrap(),
            "--wait",
            "--finish",
        ])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Successfully copied"),
        "{out:?}"
    );
    assert!(virsh(&["domblklist", "tc"]).contains(p.to_str().unwrap()));
    assert_eq!(guest_bytes(&q, &dir.path), guest_bytes(&p, &dir.path));
    virsh(&["destroy", "tc"]);
}
