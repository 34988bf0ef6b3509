//! The storage and snapshot verbs of `qvirt`, run as a user runs them
//! against an embedded state directory with a real QEMU and qemu-img:
//! pools defined, built, started, listed and stopped; volumes made (one
//! an overlay of another), inspected, resized, cloned, uploaded,
//! downloaded and deleted; snapshots of a domain on a volume taken,
//! listed, inspected, reverted and deleted; a disk-only snapshot merged
//! back by `blockcommit --active --pivot`. Each step is checked on disk
//! (`qemu-img info`) or through another verb.
//!
//! Each test runs twice: on the embedded driver, and through a `qvirtd`'s
//! libvirt socket (`proto=libvirt`), where every verb is the libvirt call
//! virsh makes for it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const QVIRT: &str = env!("CARGO_BIN_EXE_qvirt");
const QVIRTD: &str = env!("CARGO_BIN_EXE_qvirtd");

/// One state directory, embedded or behind a qvirtd of its own; dropping
/// it destroys every domain still running there, stops the daemon, then
/// deletes it.
struct Root {
    dir: PathBuf,
    uri: String,
    daemon: Option<Child>,
}

/// How a test reaches its state directory.
#[derive(Clone, Copy)]
enum Way {
    Embedded,
    Libvirt,
}

impl Root {
    fn new(test: &str, way: Way) -> Root {
        let tag = match way {
            Way::Embedded => "e",
            Way::Libvirt => "l",
        };
        let dir =
            std::env::temp_dir().join(format!("qvirt-clis-{}-{test}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create the test directory");
        match way {
            Way::Embedded => {
                let uri = format!("qemu:///embed?root={}", dir.display());
                Root {
                    dir,
                    uri,
                    daemon: None,
                }
            }
            Way::Libvirt => {
                let child = Command::new(QVIRTD)
                    .arg("--root")
                    .arg(&dir)
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .expect("run qvirtd");
                let socket = dir.join("run/libvirt-sock");
                let uri = format!(
                    "qemu+unix:///session?socket={}&proto=libvirt",
                    socket.display()
                );
                let root = Root {
                    dir,
                    uri,
                    daemon: Some(child),
                };
                let deadline = Instant::now() + Duration::from_secs(15);
                while !root.run(&["version"]).status.success() {
                    assert!(Instant::now() < deadline, "qvirtd did not answer");
                    std::thread::sleep(Duration::from_millis(20));
                }
                root
            }
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(QVIRT)
            .arg("-c")
            .arg(&self.uri)
            .args(args)
            .output()
            .expect("run qvirt")
    }

    /// Runs a verb that must succeed; its stdout.
    #[track_caller]
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "qvirt {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("UTF-8")
    }

    /// Runs a verb that must fail; its stderr.
    #[track_caller]
    fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert_eq!(out.status.code(), Some(1), "qvirt {args:?} should fail");
        let err = String::from_utf8(out.stderr).expect("UTF-8");
        assert!(err.starts_with("error: "), "{err}");
        err
    }
}

impl Drop for Root {
    fn drop(&mut self) {
        if let Ok(out) = Command::new(QVIRT)
            .args(["-c", &self.uri, "list", "--name"])
            .output()
        {
            for name in String::from_utf8_lossy(&out.stdout).lines() {
                if !name.is_empty() {
                    let _ = Command::new(QVIRT)
                        .args(["-c", &self.uri, "destroy", name])
                        .output();
                }
            }
        }
        if let Some(mut child) = self.daemon.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `qemu-img info` of a qcow2 image as JSON.
fn image_info(path: &Path) -> serde_json::Value {
    let out = Command::new("qemu-img")
        .args(["info", "-U", "--output=json", "-f", "qcow2"])
        .arg(path)
        .output()
        .expect("run qemu-img");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

#[test]
fn pools_and_volumes_through_the_verbs() {
    pools_and_volumes_on(Way::Embedded);
}

#[test]
fn pools_and_volumes_through_the_verbs_over_libvirt() {
    pools_and_volumes_on(Way::Libvirt);
}

fn pools_and_volumes_on(way: Way) {
    let r = Root::new("pools", way);
    let dir = r.dir.join("mine");
    let dir_s = dir.to_str().unwrap();
    r.ok(&["pool-define-as", "mine", "dir", "--target", dir_s]);
    assert!(
        r.fails(&["pool-define-as", "x", "logical", "--target", dir_s])
            .contains("dir")
    );
    r.ok(&["pool-build", "mine"]);
    assert!(dir.is_dir());
    r.ok(&["pool-start", "mine"]);
    r.ok(&["pool-autostart", "mine"]);
    let info = r.ok(&["pool-info", "mine"]);
    assert!(
        info.contains("running") && info.contains("Autostart:      yes"),
        "{info}"
    );
    let list = r.ok(&["pool-list", "--all"]);
    assert!(list.contains("mine") && list.contains("default"), "{list}");

    r.ok(&[
        "vol-create-as",
        "mine",
        "base.qcow2",
        "16M",
        "--format",
        "qcow2",
    ]);
    let base = dir.join("base.qcow2");
    let base_s = base.to_str().unwrap();
    // A volume's key is its path; the key names the volume and its pool.
    let key = r.ok(&["vol-key", "base.qcow2", "--pool", "mine"]);
    assert_eq!(key.trim(), base_s);
    assert_eq!(r.ok(&["vol-name", base_s]).trim(), "base.qcow2");
    assert_eq!(r.ok(&["vol-pool", base_s]).trim(), "mine");
    let uuid = r.ok(&["pool-uuid", "mine"]);
    assert_eq!(r.ok(&["vol-pool", base_s, "--uuid"]), uuid);
    assert_eq!(r.ok(&["pool-name", uuid.trim()]).trim(), "mine");
    assert!(
        r.fails(&["pool-name", "0b5a1c2e-0000-4000-8000-000000000000"])
            .contains("no storage pool")
    );
    // --prealloc-metadata: the image's tables reach past its capacity.
    r.ok(&[
        "vol-create-as",
        "mine",
        "pre.qcow2",
        "16M",
        "--format",
        "qcow2",
        "--prealloc-metadata",
    ]);
    let pre = dir.join("pre.qcow2");
    assert!(std::fs::metadata(&pre).unwrap().len() > 16 << 20);
    assert!(std::fs::metadata(&base).unwrap().len() < 1 << 20);
    r.ok(&["vol-delete", "pre.qcow2", "--pool", "mine"]);
    r.ok(&[
        "vol-create-as",
        "mine",
        "top.qcow2",
        "16M",
        "--format",
        "qcow2",
        "--backing-vol",
        base_s,
        "--backing-vol-format",
        "qcow2",
    ]);
    let top = image_info(&dir.join("top.qcow2"));
    assert_eq!(top["backing-filename"], base_s, "{top}");
    assert_eq!(top["backing-filename-format"], "qcow2", "{top}");
    let missing = r.fails(&[
        "vol-create-as",
        "mine",
        "bad.qcow2",
        "16M",
        "--format",
        "qcow2",
        "--backing-vol",
        "/nonexistent.qcow2",
        "--backing-vol-format",
        "qcow2",
    ]);
    assert!(missing.contains("nonexistent"), "{missing}");
    assert!(!dir.join("bad.qcow2").exists());
    assert!(
        r.fails(&["vol-create-as", "mine", "a/b", "1M"])
            .contains("a/b")
    );

    let details = r.ok(&["vol-list", "mine", "--details"]);
    assert!(
        details.contains("base.qcow2") && details.contains("16.00 MiB"),
        "{details}"
    );
    assert_eq!(
        r.ok(&["vol-path", "base.qcow2", "--pool", "mine"]).trim(),
        base_s
    );
    let info = r.ok(&["vol-info", base_s]);
    assert!(
        info.contains("qcow2") && info.contains("16.00 MiB"),
        "{info}"
    );
    assert!(
        r.ok(&["vol-dumpxml", "base.qcow2", "--pool", "mine"])
            .contains("<format type='qcow2'/>")
    );
    r.ok(&["vol-resize", "base.qcow2", "32M", "--pool", "mine"]);
    assert_eq!(image_info(&base)["virtual-size"], 32 << 20);
    r.ok(&["vol-clone", "base.qcow2", "copy.qcow2", "--pool", "mine"]);
    assert_eq!(
        image_info(&dir.join("copy.qcow2"))["virtual-size"],
        32 << 20
    );

    // Upload and download of a raw volume.
    r.ok(&["vol-create-as", "mine", "blob.raw", "1M", "--format", "raw"]);
    let src = r.dir.join("src.bin");
    let data: Vec<u8> = (0..(1u32 << 20)).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(&src, &data).unwrap();
    r.ok(&[
        "vol-upload",
        "blob.raw",
        src.to_str().unwrap(),
        "--pool",
        "mine",
    ]);
    assert_eq!(std::fs::read(dir.join("blob.raw")).unwrap(), data);
    let back = r.dir.join("back.bin");
    r.ok(&[
        "vol-download",
        "blob.raw",
        back.to_str().unwrap(),
        "--pool",
        "mine",
    ]);
    assert_eq!(std::fs::read(&back).unwrap(), data);

    r.ok(&["vol-delete", "copy.qcow2", "--pool", "mine"]);
    assert!(!dir.join("copy.qcow2").exists());
    r.ok(&["pool-refresh", "mine"]);
    r.ok(&["pool-destroy", "mine"]);
    assert!(r.ok(&["pool-info", "mine"]).contains("inactive"));
    r.ok(&["pool-undefine", "mine"]);
    assert!(!r.ok(&["pool-list", "--all"]).contains("mine"));
    assert!(base.exists(), "the files stay");
}

#[test]
fn snapshots_and_blockcommit_through_the_verbs() {
    snapshots_and_blockcommit_on(Way::Embedded);
}

#[test]
fn snapshots_and_blockcommit_through_the_verbs_over_libvirt() {
    snapshots_and_blockcommit_on(Way::Libvirt);
}

fn snapshots_and_blockcommit_on(way: Way) {
    let r = Root::new("snaps", way);
    r.ok(&[
        "vol-create-as",
        "default",
        "d.qcow2",
        "16M",
        "--format",
        "qcow2",
    ]);
    let image = r.dir.join("images").join("d.qcow2");
    let xml = r.dir.join("d.xml");
    std::fs::write(
        &xml,
        "<domain type='qemu'><name>d</name><memory unit='MiB'>32</memory>\
         <vcpu>1</vcpu><os><type arch='x86_64' machine='pc'>hvm</type></os>\
         <devices><disk type='volume' device='disk'><source pool='default' volume='d.qcow2'/>\
         <target dev='vda' bus='virtio'/></disk><memballoon model='none'/></devices></domain>",
    )
    .unwrap();
    r.ok(&["define", xml.to_str().unwrap()]);
    r.ok(&["snapshot-create-as", "d", "s1", "--description", "first"]);
    r.ok(&["snapshot-create-as", "d", "s2"]);
    assert!(r.fails(&["snapshot-create-as", "d", "s1"]).contains("s1"));
    assert!(
        r.fails(&["snapshot-create-as", "d", "q", "--quiesce"])
            .contains("--quiesce needs --disk-only")
    );
    // A shut-off guest has no agent to freeze its file systems.
    let off = r.fails(&["snapshot-create-as", "d", "q", "--quiesce", "--disk-only"]);
    assert!(off.contains("quiesce") && off.contains("shut"), "{off}");
    let tags: Vec<String> = image_info(&image)["snapshots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(tags, ["s1", "s2"]);
    let list = r.ok(&["snapshot-list", "d"]);
    assert!(
        list.contains("s1") && list.contains("s2") && list.contains("shutoff"),
        "{list}"
    );
    assert_eq!(r.ok(&["snapshot-list", "d", "--tree"]), "s1\n+- s2\n");
    assert_eq!(r.ok(&["snapshot-current", "d", "--name"]).trim(), "s2");
    assert_eq!(r.ok(&["snapshot-parent", "d", "s2"]).trim(), "s1");
    let info = r.ok(&["snapshot-info", "d", "s1"]);
    assert!(
        info.contains("Children:       1") && info.contains("internal"),
        "{info}"
    );
    assert!(
        r.ok(&["snapshot-dumpxml", "d", "s1"])
            .contains("<description>first</description>")
    );

    // Running: a disk-only snapshot, then an active commit with a pivot.
    r.ok(&["start", "d"]);
    r.ok(&["snapshot-create-as", "d", "ext", "--disk-only", "--atomic"]);
    // The disk is on `overlay`, made over the image.
    let on_overlay = |overlay: &Path| {
        assert!(
            r.ok(&["domblklist", "d"])
                .contains(overlay.to_str().unwrap())
        );
        assert_eq!(
            image_info(overlay)["backing-filename"],
            image.to_str().unwrap()
        );
    };
    let overlay = r.dir.join("images").join("d.ext");
    on_overlay(&overlay);
    let info = r.ok(&["snapshot-info", "d", "ext"]);
    assert!(
        info.contains("external") && info.contains("disk-snapshot"),
        "{info}"
    );
    assert!(r.fails(&["blockcommit", "d", "vda"]).contains("--active"));
    let out = r.ok(&["blockcommit", "d", "vda", "--active", "--pivot", "--wait"]);
    assert!(out.contains("Successfully pivoted"), "{out}");
    let blk = r.ok(&["domblklist", "d"]);
    assert!(
        blk.contains(image.to_str().unwrap()) && !blk.contains("d.ext"),
        "{blk}"
    );
    assert!(
        r.ok(&["blockjob", "d", "vda", "--info"])
            .contains("No current block job")
    );

    // --diskspec: the overlay where the user says, and its spec as
    // virsh prints it.
    let custom = r.dir.join("custom,ovl.qcow2");
    let spec = format!(
        "vda,snapshot=external,file={}",
        custom.to_str().unwrap().replace(',', ",,")
    );
    let printed = r.ok(&[
        "snapshot-create-as",
        "d",
        "ext2",
        "--disk-only",
        "--diskspec",
        &spec,
        "--print-xml",
    ]);
    assert!(
        printed.contains("<disk name='vda' snapshot='external' type='file'>")
            && printed.contains(&format!("<source file='{}'/>", custom.display())),
        "{printed}"
    );
    r.ok(&[
        "snapshot-create-as",
        "d",
        "ext2",
        "--disk-only",
        "--diskspec",
        &spec,
    ]);
    on_overlay(&custom);
    r.ok(&["blockcommit", "d", "vda", "--active", "--pivot", "--wait"]);
    r.ok(&["snapshot-delete", "d", "ext2", "--metadata"]);
    let err = r.fails(&["snapshot-create-as", "d", "m", "--memspec", "/srv/mem"]);
    assert!(err.contains("--memspec"), "{err}");

    // Back to s1 (shut off): the domain stops, s1 becomes current.
    r.ok(&["snapshot-delete", "d", "ext", "--metadata"]);
    r.ok(&["snapshot-revert", "d", "s1"]);
    assert_eq!(r.ok(&["domstate", "d"]).trim(), "shut off");
    assert_eq!(r.ok(&["snapshot-current", "d", "--name"]).trim(), "s1");
    r.ok(&["snapshot-delete", "d", "s2"]);
    assert_eq!(r.ok(&["snapshot-list", "d", "--name"]), "s1\n");
    assert!(r.fails(&["undefine", "d"]).contains("snapshot"));
    r.ok(&["undefine", "d", "--snapshots-metadata"]);
}

/// `undefine --remove-all-storage` deletes the volumes of the domain's
/// disks (by pool and name, or found by path) once the definition is
/// gone, and names a disk that is no volume instead of touching it.
#[test]
fn undefine_removes_the_domains_volumes() {
    undefine_volumes_on(Way::Embedded);
}

#[test]
fn undefine_removes_the_domains_volumes_over_libvirt() {
    undefine_volumes_on(Way::Libvirt);
}

fn undefine_volumes_on(way: Way) {
    let r = Root::new("undef-storage", way);
    let dir = r.dir.join("vms");
    r.ok(&[
        "pool-define-as",
        "vms",
        "dir",
        "--target",
        dir.to_str().unwrap(),
    ]);
    r.ok(&["pool-build", "vms"]);
    r.ok(&["pool-start", "vms"]);
    for v in ["a.qcow2", "b.qcow2"] {
        r.ok(&["vol-create-as", "vms", v, "4M", "--format", "qcow2"]);
    }
    let loose = r.dir.join("loose.raw");
    std::fs::write(&loose, vec![0u8; 1 << 20]).unwrap();
    let xml = format!(
        "<domain type='qemu'><name>st</name><memory unit='MiB'>64</memory>\
         <os><type arch='x86_64' machine='pc'>hvm</type></os><devices>\
         <disk type='volume' device='disk'><driver name='qemu' type='qcow2'/>\
           <source pool='vms' volume='a.qcow2'/><target dev='vda' bus='virtio'/></disk>\
         <disk type='file' device='disk'><driver name='qemu' type='qcow2'/>\
           <source file='{}'/><target dev='vdb' bus='virtio'/></disk>\
         <disk type='file' device='disk'><driver name='qemu' type='raw'/>\
           <source file='{}'/><target dev='vdc' bus='virtio'/></disk>\
         </devices></domain>",
        dir.join("b.qcow2").display(),
        loose.display()
    );
    let file = r.dir.join("st.xml");
    std::fs::write(&file, xml).unwrap();
    r.ok(&["define", file.to_str().unwrap()]);
    // Not while it runs; --storage names must be the domain's.
    r.ok(&["start", "st"]);
    let err = r.fails(&["undefine", "st", "--remove-all-storage"]);
    assert!(err.contains("only on stopped domains"), "{err}");
    r.ok(&["destroy", "st"]);
    let err = r.fails(&["undefine", "st", "--storage", "vdz"]);
    assert!(err.contains("'vdz' was not found"), "{err}");
    let out = r.run(&["undefine", "st", "--remove-all-storage"]);
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stdout.starts_with("Domain 'st' has been undefined\n"),
        "{stdout}"
    );
    assert!(stdout.contains("Volume 'vda'("), "{stdout}");
    assert!(stdout.contains("Volume 'vdb'("), "{stdout}");
    assert!(
        stderr.contains("Storage volume 'vdc'") && stderr.contains("Remove it manually"),
        "{stderr}"
    );
    assert!(!dir.join("a.qcow2").exists() && !dir.join("b.qcow2").exists());
    assert!(loose.exists(), "a disk that is no volume stays");
    assert!(!r.ok(&["vol-list", "vms"]).contains("qcow2"));
    r.fails(&["dominfo", "st"]);
}
