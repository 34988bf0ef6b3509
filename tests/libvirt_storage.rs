//! Storage pools and volumes through libvirt's protocol, with the real
//! clients: unmodified virsh 9.0 and virt-install 4.1 (Debian's
//! libvirt-clients and virtinst) against a `qvirtd --root DIR` on its
//! libvirt socket. What each verb does is checked against what qvirt's
//! own client sees on the same daemon's qvirt socket, and against the
//! files (`qemu-img info`); errors against libvirt's codes and words; the
//! procedures each client called, through a recording proxy.

#[allow(dead_code, unused_imports)]
#[path = "daemon/support.rs"]
mod support;

#[path = "libvirt/lv.rs"]
mod lv;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use lv::*;
use qvirt::Driver;
use qvirt::driver::{DomainState, PoolState, XmlFlags};
use qvirt::model::{PoolDef, VolumeDef, VolumeFormat};
use qvirt::transport::libvirt::frame::{RemoteError, code};
use qvirt::transport::libvirt::types::*;
use qvirt::transport::libvirt::xdr::from_bytes;
use support::*;

/// A daemon, its libvirt socket behind a recording proxy, and a qvirt
/// client of the same daemon.
struct World {
    dir: TestDir,
    _daemon: Daemon,
    rec: Recorder,
    qvirt: Box<dyn Driver>,
}

impl World {
    fn new(tag: &str, args: &[&str]) -> World {
        let dir = TestDir::new(tag);
        let daemon = Daemon::start(&dir.path, args);
        let rec = Recorder::new(&dir.path.join("rec.sock"), &lv_socket(&dir.path));
        let qvirt = daemon.connect();
        World {
            dir,
            _daemon: daemon,
            rec,
            qvirt,
        }
    }

    /// `virsh ARGS`, which must succeed: its output and the storage
    /// procedures it called (numbers of the storage calls, in order,
    /// without the connection's own).
    #[track_caller]
    fn virsh(&self, args: &[&str]) -> (String, Vec<i32>) {
        self.rec.take();
        let out = virsh_ok(&self.rec.socket, args);
        (out, storage_calls(self.rec.take()))
    }

    /// `virsh ARGS`, which must fail: its stderr.
    #[track_caller]
    fn virsh_err(&self, args: &[&str]) -> String {
        virsh_err(&self.rec.socket, args)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path.join(name)
    }

    /// A directory pool `name` under the test's directory, defined,
    /// built and started with virsh: its directory.
    fn dir_pool(&self, name: &str) -> PathBuf {
        let dir = self.path(name);
        self.virsh(&[
            "pool-define-as",
            name,
            "dir",
            "--target",
            dir.to_str().unwrap(),
        ]);
        self.virsh(&["pool-build", name]);
        self.virsh(&["pool-start", name]);
        dir
    }

    fn pool(&self, name: &str) -> qvirt::driver::Pool {
        self.qvirt.pool_lookup_by_name(name).unwrap()
    }
}

/// The storage procedures among `calls` (libvirt's numbers: pools and
/// volumes are 71-100, 125, 154-155, 260, 281-282 and 378).
fn storage_calls(calls: Vec<i32>) -> Vec<i32> {
    calls
        .into_iter()
        .filter(|p| matches!(p, 71..=100 | 125 | 154 | 155 | 260 | 281 | 282 | 378))
        .collect()
}

/// `qemu-img info` of `path` as JSON (shared: a running QEMU may hold it).
fn image_info(path: &Path) -> serde_json::Value {
    let out = Command::new("qemu-img")
        .args(["info", "-U", "--output=json"])
        .arg(path)
        .output()
        .expect("run qemu-img");
    assert!(out.status.success(), "qemu-img info {}", path.display());
    serde_json::from_slice(&out.stdout).expect("qemu-img info gives JSON")
}

/// The value of `Key:` in virsh's `Key:   value` output.
fn field<'a>(out: &'a str, key: &str) -> &'a str {
    out.lines()
        .find_map(|l| l.strip_prefix(key))
        .unwrap_or_else(|| panic!("no {key} in {out}"))
        .trim()
}

#[test]
fn virsh_manages_pools_and_volumes() {
    let w = World::new("lvpool", &[]);
    let dir = w.path("pools/p");
    let dir_s = dir.to_str().unwrap();
    std::fs::create_dir(w.path("pools")).unwrap();

    let (out, calls) = w.virsh(&["pool-define-as", "p", "dir", "--target", dir_s]);
    assert!(out.contains("Pool p defined"), "{out}");
    assert_eq!(calls, [77]);
    let pool = w.pool("p");
    assert_eq!(w.qvirt.pool_info(&pool).unwrap().state, PoolState::Inactive);
    assert!(!dir.exists(), "defining makes no directory");

    let (out, calls) = w.virsh(&["pool-build", "p"]);
    assert!(out.contains("Pool p built"), "{out}");
    assert_eq!(calls, [84, 79]);
    assert!(dir.is_dir());
    let (out, calls) = w.virsh(&["pool-start", "p"]);
    assert!(out.contains("Pool p started"), "{out}");
    assert_eq!(calls, [84, 78]);
    let (out, calls) = w.virsh(&["pool-autostart", "p"]);
    assert!(out.contains("Pool p marked as autostarted"), "{out}");
    assert_eq!(calls, [84, 90]);
    let info = w.qvirt.pool_info(&pool).unwrap();
    assert_eq!((info.state, info.autostart), (PoolState::Running, true));

    // Both pools, with what qvirt says of each.
    let (out, calls) = w.virsh(&["pool-list", "--all", "--details"]);
    assert_eq!(calls[0], 281, "{calls:?}");
    for p in [87, 89, 155] {
        assert!(calls.contains(&p), "{p} in {calls:?}");
    }
    let line = |name: &str| -> Vec<String> {
        out.lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("no pool {name} in {out}"))
            .split_whitespace()
            .map(str::to_string)
            .collect()
    };
    assert_eq!(line("p")[1..4], ["running", "yes", "yes"], "{out}");
    assert_eq!(line("default")[1..4], ["running", "yes", "yes"], "{out}");

    let (out, calls) = w.virsh(&["pool-info", "p"]);
    assert_eq!(calls, [84, 87, 155, 89]);
    assert_eq!(field(&out, "UUID:"), pool.uuid.to_string());
    assert_eq!(field(&out, "State:"), "running");
    assert_eq!(field(&out, "Persistent:"), "yes");
    assert_eq!(field(&out, "Autostart:"), "yes");

    let (out, calls) = w.virsh(&["pool-dumpxml", "p"]);
    assert_eq!(calls, [84, 88]);
    // The same pool as qvirt describes it (the sizes are those of a
    // shared file system, which move).
    let def = PoolDef::from_xml(&out).unwrap();
    assert_eq!(
        def,
        PoolDef::from_xml(&w.qvirt.pool_xml(&pool).unwrap()).unwrap()
    );
    assert_eq!((def.path.as_str(), def.uuid), (dir_s, pool.uuid));
    assert!(!out.contains("<capacity unit='bytes'>0<"), "sizes: {out}");
    // The definition for the next start is the same: a redefinition
    // applies at once.
    let (inactive, _) = w.virsh(&["pool-dumpxml", "--inactive", "p"]);
    assert_eq!(PoolDef::from_xml(&inactive).unwrap(), def);
    let (out, calls) = w.virsh(&["pool-refresh", "p"]);
    assert!(out.contains("Pool p refreshed"), "{out}");
    assert_eq!(calls, [84, 83]);

    // Volumes: a qcow2 image and an overlay of it.
    let (out, calls) = w.virsh(&[
        "vol-create-as",
        "p",
        "base.qcow2",
        "16M",
        "--format",
        "qcow2",
    ]);
    assert!(out.contains("Vol base.qcow2 created"), "{out}");
    assert_eq!(calls, [84, 93]);
    let base = dir.join("base.qcow2");
    let base_s = base.to_str().unwrap();
    let i = image_info(&base);
    assert_eq!(
        (i["format"].as_str(), i["virtual-size"].as_u64()),
        (Some("qcow2"), Some(16 << 20))
    );
    let (_, calls) = w.virsh(&[
        "vol-create-as",
        "p",
        "top.qcow2",
        "16M",
        "--format",
        "qcow2",
        "--backing-vol",
        "base.qcow2",
        "--backing-vol-format",
        "qcow2",
    ]);
    assert_eq!(calls, [84, 95, 100, 93]);
    let top = dir.join("top.qcow2");
    let top_s = top.to_str().unwrap();
    let i = image_info(&top);
    assert_eq!(i["backing-filename"], base_s, "{i}");
    assert_eq!(i["backing-filename-format"], "qcow2", "{i}");
    let qtop = w.qvirt.vol_lookup_by_name(&pool, "top.qcow2").unwrap();
    assert_eq!(qtop.path, top);
    assert_eq!(w.qvirt.vol_info(&qtop).unwrap().format, VolumeFormat::Qcow2);

    let (out, calls) = w.virsh(&["vol-list", "p", "--details"]);
    assert_eq!(calls[..2], [84, 282], "{calls:?}");
    assert!(calls.contains(&98) && calls.contains(&100), "{calls:?}");
    for (name, path) in [("base.qcow2", base_s), ("top.qcow2", top_s)] {
        let l = out
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("no {name} in {out}"));
        let cols: Vec<&str> = l.split_whitespace().collect();
        assert_eq!(cols[1..5], [path, "file", "16.00", "MiB"], "{out}");
    }

    let (out, calls) = w.virsh(&["vol-info", "top.qcow2", "--pool", "p"]);
    assert_eq!(calls, [84, 154, 95, 86, 98]);
    assert_eq!(field(&out, "Type:"), "file");
    assert_eq!(field(&out, "Capacity:"), "16.00 MiB");
    let (out, calls) = w.virsh(&["vol-path", "top.qcow2", "--pool", "p"]);
    assert_eq!((out.trim(), calls.last()), (top_s, Some(&100)));
    // A volume's key is its path, as in libvirt's directory pools.
    let (out, _) = w.virsh(&["vol-key", "top.qcow2", "--pool", "p"]);
    assert_eq!(out.trim(), top_s);
    let (out, calls) = w.virsh(&["vol-dumpxml", "top.qcow2", "--pool", "p"]);
    assert_eq!(calls.last(), Some(&99));
    assert_eq!(out.trim(), w.qvirt.vol_xml(&qtop).unwrap().trim());
    let def = VolumeDef::from_xml(&out).unwrap();
    assert_eq!(def.key.as_deref(), Some(top_s));
    assert_eq!(def.backing.map(|b| b.path).as_deref(), Some(base_s));

    // Resize: larger; smaller only with --shrink.
    let (out, calls) = w.virsh(&["vol-resize", "base.qcow2", "32M", "--pool", "p"]);
    assert!(out.contains("successfully changed to 32M"), "{out}");
    assert_eq!(calls.last(), Some(&260));
    assert_eq!(image_info(&base)["virtual-size"], 32 << 20);
    let qbase = w.qvirt.vol_lookup_by_name(&pool, "base.qcow2").unwrap();
    assert_eq!(w.qvirt.vol_info(&qbase).unwrap().capacity, 32 << 20);
    let err = w.virsh_err(&["vol-resize", "base.qcow2", "16M", "--pool", "p"]);
    assert!(err.contains("--shrink"), "{err}");
    w.virsh(&["vol-resize", "base.qcow2", "16M", "--pool", "p", "--shrink"]);
    assert_eq!(image_info(&base)["virtual-size"], 16 << 20);

    // A clone holds the same data and stands alone.
    let (out, calls) = w.virsh(&["vol-clone", "base.qcow2", "copy.qcow2", "--pool", "p"]);
    assert!(
        out.contains("Vol copy.qcow2 cloned from base.qcow2"),
        "{out}"
    );
    assert_eq!(calls[calls.len() - 3..], [86, 99, 125]);
    let copy = dir.join("copy.qcow2");
    let cmp = Command::new("qemu-img")
        .args(["compare", "-f", "qcow2", "-F", "qcow2", base_s])
        .arg(&copy)
        .output()
        .unwrap();
    assert!(cmp.status.success(), "{cmp:?}");
    assert!(image_info(&copy).get("backing-filename").is_none());
    assert!(w.qvirt.vol_lookup_by_name(&pool, "copy.qcow2").is_ok());

    // Delete by name and pool, and by path (looked up as a key).
    let (out, calls) = w.virsh(&["vol-delete", "copy.qcow2", "--pool", "p"]);
    assert!(out.contains("Vol copy.qcow2 deleted"), "{out}");
    assert_eq!(calls.last(), Some(&94));
    assert!(!copy.exists());
    assert!(w.qvirt.vol_lookup_by_name(&pool, "copy.qcow2").is_err());
    let (_, calls) = w.virsh(&["vol-delete", top_s]);
    assert_eq!(calls, [96, 94]);
    assert!(!top.exists());

    // Stop and undefine: the files stay.
    let (out, calls) = w.virsh(&["pool-destroy", "p"]);
    assert!(out.contains("Pool p destroyed"), "{out}");
    assert_eq!(calls, [84, 80]);
    assert_eq!(w.qvirt.pool_info(&pool).unwrap().state, PoolState::Inactive);
    let (out, _) = w.virsh(&["pool-list", "--inactive"]);
    assert!(out.contains(" p "), "{out}");
    let (out, _) = w.virsh(&["pool-list"]);
    assert!(!out.contains(" p "), "{out}");
    let err = w.virsh_err(&["vol-list", "p"]);
    assert!(err.contains("not running"), "{err}");
    let (out, calls) = w.virsh(&["pool-undefine", "p"]);
    assert!(out.contains("Pool p has been undefined"), "{out}");
    assert_eq!(calls, [84, 82]);
    assert!(w.qvirt.pool_lookup_by_name("p").is_err());
    assert!(base.exists(), "undefining keeps the volumes");
}

#[test]
fn a_python3_libvirt_program_makes_every_storage_call() {
    let w = World::new("lvstpy", &[]);
    let work = w.path("py");
    std::fs::create_dir(&work).unwrap();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/libvirt/storage.py");
    w.rec.take();
    let out = Command::new(PYTHON)
        .arg(script)
        .arg(uri(&w.rec.socket))
        .arg(&work)
        .output()
        .expect("run the python3-libvirt program");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("PY-STORAGE-OK"),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Every storage procedure qvirt serves but the transient pool's
    // (refused) was called.
    let calls = storage_calls(w.rec.take());
    for p in [
        71, 72, 73, 74, 77, 78, 79, 80, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92,
    ]
    .into_iter()
    .chain([
        93, 94, 95, 96, 97, 98, 99, 100, 125, 154, 155, 260, 281, 282, 378,
    ]) {
        assert!(calls.contains(&p), "no call of {p} in {calls:?}");
    }
    // It left nothing behind but the pool's empty directory.
    let uuid = text.lines().find_map(|l| l.strip_prefix("POOL ")).unwrap();
    assert!(uuid.parse::<uuid::Uuid>().is_ok(), "{uuid}");
    assert!(w.qvirt.pool_lookup_by_name("pyst").is_err());
    let names: Vec<String> = w
        .qvirt
        .list_pools()
        .unwrap()
        .into_iter()
        .map(|s| s.pool.name)
        .collect();
    assert_eq!(names, ["default"]);
    assert_eq!(std::fs::read_dir(work.join("pool")).unwrap().count(), 0);
}

/// A firmware VM whose disk is `path` (qcow2).
fn vm_on(name: &str, path: &Path) -> String {
    format!(
        "<domain type='qemu'><name>{name}</name><memory unit='MiB'>32</memory>\
         <vcpu>1</vcpu><os><type arch='x86_64' machine='pc'>hvm</type></os>\
         <devices><disk type='file' device='disk'><driver name='qemu' type='qcow2'/>\
         <source file='{}'/><target dev='vda' bus='virtio'/></disk>\
         <memballoon model='none'/></devices></domain>",
        path.display()
    )
}

#[test]
fn errors_are_libvirts() {
    let w = World::new("lverr", &[]);
    let sock = &w.rec.socket;

    // virsh prints libvirt's words for what does not exist.
    let err = w.virsh_err(&["pool-info", "nope"]);
    assert!(err.contains("error: failed to get pool 'nope'"), "{err}");
    assert!(
        err.contains("error: Storage pool not found: no storage pool with matching name 'nope'"),
        "{err}"
    );
    let err = w.virsh_err(&["vol-info", "nope.qcow2", "--pool", "default"]);
    assert!(
        err.contains("error: failed to get vol 'nope.qcow2'"),
        "{err}"
    );
    let err = w.virsh_err(&["vol-info", "/nowhere/x.img"]);
    assert!(err.contains("failed to get vol '/nowhere/x.img'"), "{err}");
    let err = w.virsh_err(&["vol-create-as", "default", "a/b", "1M"]);
    assert!(err.contains("error: Failed to create vol a/b"), "{err}");
    assert!(
        err.contains(
            "error: Requested operation is not valid: volume name 'a/b' cannot contain '/'"
        ),
        "{err}"
    );
    assert!(!w.path("images/a").exists());
    let err = w.virsh_err(&["pool-create-as", "t", "dir", "--target", "/tmp"]);
    assert!(
        err.contains("transient storage pools are not supported"),
        "{err}"
    );
    // (Uploads and downloads: tests/libvirt_volstreams.rs.)
    w.virsh(&["vol-create-as", "default", "s.raw", "1M"]);
    let err = w.virsh_err(&["vol-clone", "s.raw", "y", "--pool", "default", "--reflink"]);
    assert!(err.contains("reflink copies"), "{err}");
    assert!(!w.path("images/y").exists());

    // The codes, as a client reads them.
    let mut c = Raw::connect(sock);
    c.open(true, 0);
    let e = lookup_pool(&mut c, "nope").unwrap_err();
    assert_eq!(e.code, code::NO_STORAGE_POOL);
    let e = c
        .call(
            85,
            &UuidArgs {
                uuid: uuid::Uuid::from_u128(7),
            },
        )
        .unwrap_err();
    assert_eq!(e.code, code::NO_STORAGE_POOL);
    let default = lookup_pool(&mut c, "default").unwrap();
    let stale = StoragePool {
        uuid: uuid::Uuid::from_u128(7),
        ..default.pool.clone()
    };
    let e = c.call(87, &PoolArgs { pool: stale }).unwrap_err();
    assert_eq!(e.code, code::NO_STORAGE_POOL);
    assert!(e.message.unwrap().contains("matching uuid"));
    let e = c
        .call(
            95,
            &VolLookupByNameArgs {
                pool: default.pool.clone(),
                name: "nope".into(),
            },
        )
        .unwrap_err();
    assert_eq!(e.code, code::NO_STORAGE_VOL);
    let e = c
        .call(
            96,
            &KeyArgs {
                key: "/nowhere".into(),
            },
        )
        .unwrap_err();
    assert_eq!(e.code, code::NO_STORAGE_VOL);
    assert!(
        e.message
            .unwrap()
            .contains("no storage vol with matching key /nowhere")
    );
    let e = c
        .call(
            97,
            &PathArgs {
                path: "/nowhere".into(),
            },
        )
        .unwrap_err();
    assert_eq!(e.code, code::NO_STORAGE_VOL);
    let xml = "<volume><name>a/b</name><capacity>1024</capacity></volume>";
    let e = c
        .call(
            93,
            &VolCreateArgs {
                pool: default.pool.clone(),
                xml: xml.into(),
                flags: 0,
            },
        )
        .unwrap_err();
    assert_eq!(e.code, code::OPERATION_INVALID);
    // Unknown flags are refused by name, and nothing is made.
    let xml = "<volume><name>f.raw</name><capacity>1024</capacity></volume>";
    let e = c
        .call(
            93,
            &VolCreateArgs {
                pool: default.pool.clone(),
                xml: xml.into(),
                flags: 0x100,
            },
        )
        .unwrap_err();
    assert_eq!(e.code, code::INVALID_ARG);
    assert!(
        e.message
            .unwrap()
            .contains("unsupported flags (0x100) in function virStorageVolCreateXML")
    );
    assert!(!w.path("images/f.raw").exists());

    // A volume a running domain uses (or one of its backing chain) is
    // neither deleted nor resized.
    let images = w.path("images");
    w.virsh(&[
        "vol-create-as",
        "default",
        "base.qcow2",
        "8M",
        "--format",
        "qcow2",
    ]);
    let base = images.join("base.qcow2");
    w.virsh(&[
        "vol-create-as",
        "default",
        "top.qcow2",
        "8M",
        "--format",
        "qcow2",
        "--backing-vol",
        base.to_str().unwrap(),
        "--backing-vol-format",
        "qcow2",
    ]);
    let top = images.join("top.qcow2");
    let f = write_file(&w.dir.path, "vm.xml", &vm_on("user", &top));
    virsh_ok(sock, &["define", f.to_str().unwrap()]);
    virsh_ok(sock, &["start", "user"]);
    for vol in ["top.qcow2", "base.qcow2"] {
        let err = w.virsh_err(&["vol-delete", vol, "--pool", "default"]);
        assert!(
            err.contains(&format!("error: Failed to delete vol {vol}")),
            "{err}"
        );
        assert!(err.contains("in use by running domain 'user'"), "{err}");
    }
    let err = w.virsh_err(&["vol-resize", "top.qcow2", "16M", "--pool", "default"]);
    assert!(err.contains("in use by running domain 'user'"), "{err}");
    assert!(top.exists() && base.exists());
    assert_eq!(image_info(&top)["virtual-size"], 8 << 20);
    let vol: VolRet = from_bytes(
        &c.call(
            97,
            &PathArgs {
                path: top.to_str().unwrap().into(),
            },
        )
        .unwrap(),
        "vol",
    )
    .unwrap();
    let e = c
        .call(
            94,
            &VolFlagsArgs {
                vol: vol.vol.clone(),
                flags: 0,
            },
        )
        .unwrap_err();
    assert_eq!(e.code, code::OPERATION_INVALID);
    let e = c
        .call(
            260,
            &VolResizeArgs {
                vol: vol.vol.clone(),
                capacity: 1 << 30,
                flags: 1,
            },
        )
        .unwrap_err();
    assert_eq!(e.code, code::NO_SUPPORT, "--allocate");
    virsh_ok(sock, &["destroy", "user"]);
    w.virsh(&["vol-delete", "top.qcow2", "--pool", "default"]);
    assert!(!top.exists());
}

#[test]
fn the_read_only_socket_reads_pools_and_changes_none() {
    let w = World::new("lvsro", &["--read-only-socket"]);
    let ro = lv_socket_ro(&w.dir.path);
    w.virsh(&["vol-create-as", "default", "v.raw", "1M"]);
    let list = virsh_ok(&ro, &["pool-list", "--all", "--details"]);
    assert!(list.contains("default"), "{list}");
    let vols = virsh_ok(&ro, &["vol-list", "default", "--details"]);
    assert!(vols.contains("v.raw"), "{vols}");
    assert!(virsh_ok(&ro, &["vol-dumpxml", "v.raw", "--pool", "default"]).contains("<volume"));
    let err = virsh_err(&ro, &["vol-delete", "v.raw", "--pool", "default"]);
    assert!(err.contains("read only access prevents"), "{err}");

    // What virsh does not even send, the daemon refuses too.
    let mut c = Raw::connect(&ro);
    c.open(false, 0);
    let pool = lookup_pool(&mut c, "default").unwrap();
    let vol: VolRet = from_bytes(
        &c.call(
            95,
            &VolLookupByNameArgs {
                pool: pool.pool.clone(),
                name: "v.raw".into(),
            },
        )
        .unwrap(),
        "vol",
    )
    .unwrap();
    let define = XmlFlagsArgs {
        xml: "<pool type='dir'><name>x</name><target><path>/tmp/x</path></target></pool>".into(),
        flags: 0,
    };
    let e = c.call(77, &define).unwrap_err();
    assert_eq!(e.code, code::OPERATION_DENIED);
    assert!(e.message.unwrap().contains("read only access"));
    for proc in [80, 82] {
        let e = c
            .call(
                proc,
                &PoolArgs {
                    pool: pool.pool.clone(),
                },
            )
            .unwrap_err();
        assert_eq!(e.code, code::OPERATION_DENIED, "procedure {proc}");
    }
    let e = c
        .call(
            94,
            &VolFlagsArgs {
                vol: vol.vol.clone(),
                flags: 0,
            },
        )
        .unwrap_err();
    assert_eq!(e.code, code::OPERATION_DENIED);
    let create = VolCreateArgs {
        pool: pool.pool.clone(),
        xml: "<volume><name>w.raw</name><capacity>1024</capacity></volume>".into(),
        flags: 0,
    };
    assert_eq!(
        c.call(93, &create).unwrap_err().code,
        code::OPERATION_DENIED
    );
    assert!(w.path("images/v.raw").exists() && !w.path("images/w.raw").exists());
    assert!(w.qvirt.pool_lookup_by_name("x").is_err());
    assert_eq!(
        w.qvirt.pool_info(&w.pool("default")).unwrap().state,
        PoolState::Running
    );
}

/// `virStoragePoolLookupByName` on a raw connection (its error is the
/// protocol's whole error, as `Raw::call` gives it).
#[allow(clippy::result_large_err)]
fn lookup_pool(c: &mut Raw, name: &str) -> Result<PoolRet, RemoteError> {
    let body = c.call(
        84,
        &NameArgs {
            name: name.to_string(),
        },
    )?;
    Ok(from_bytes(&body, "pool").unwrap())
}

/// The running domain `name`'s only disk's file.
fn disk_of(qvirt: &dyn Driver, name: &str) -> PathBuf {
    let dom = qvirt.lookup_by_name(name).expect("virt-install's domain");
    wait_for("the domain to run", Duration::from_secs(60), || {
        (qvirt.info(&dom).unwrap().state == DomainState::Running).then_some(())
    });
    assert!(qvirt.info(&dom).unwrap().persistent);
    let xml = qvirt.xml_desc(&dom, XmlFlags::INACTIVE).unwrap();
    let def = qvirt::DomainDef::from_xml(&xml).unwrap();
    assert_eq!(def.devices.disks.len(), 1, "{xml}");
    PathBuf::from(def.devices.disks[0].source.clone().expect("a disk source"))
}

/// Destroys and undefines `name` with virsh, its volumes with it.
fn remove_vm(socket: &Path, name: &str) {
    virsh_ok(socket, &["destroy", name]);
    let out = virsh_ok(socket, &["undefine", name, "--remove-all-storage"]);
    assert!(out.contains("removed"), "{out}");
}

#[test]
fn virt_install_makes_its_disk_a_volume_of_a_qvirt_pool() {
    let w = World::new("lvvip", &[]);
    let dir = w.dir_pool("vms");
    w.rec.take();
    virt_install_ok(
        &w.rec.socket,
        &["--name", "vi", "--disk", "size=0.01,pool=vms,format=qcow2"],
        &[],
    );
    let calls = w.rec.take();
    eprintln!("virt-install called: {calls:?}");
    // It found the pool (84), read it (87, 88), refreshed it (83), looked
    // for the name (95), made the volume (93), and defined and started
    // the domain (10, 11).
    for p in [84, 87, 88, 83, 95, 93, 10, 11] {
        assert!(calls.contains(&p), "no call of {p} in {calls:?}");
    }
    let pool = w.pool("vms");
    let vol = w.qvirt.vol_lookup_by_name(&pool, "vi.qcow2").unwrap();
    assert_eq!(vol.path, dir.join("vi.qcow2"));
    assert_eq!(w.qvirt.vol_info(&vol).unwrap().format, VolumeFormat::Qcow2);
    // The image is what virt-install asked for: 0.01 GiB of qcow2 with
    // lazy refcounts and its metadata preallocated (flag 1 of 93).
    let i = image_info(&vol.path);
    assert_eq!(i["format"], "qcow2");
    assert!(i["virtual-size"].as_u64().unwrap() >= 10_737_418, "{i}");
    assert_eq!(i["format-specific"]["data"]["lazy-refcounts"], true, "{i}");
    assert!(std::fs::metadata(&vol.path).unwrap().len() >= 10_737_418);
    assert_eq!(disk_of(&*w.qvirt, "vi"), vol.path);

    // Without pool=, its disk goes to the pool `default`: qvirt's own,
    // under the state directory's images/.
    virt_install_ok(
        &w.rec.socket,
        &["--name", "vd", "--disk", "size=0.01,format=qcow2"],
        &[],
    );
    let vd = w
        .qvirt
        .vol_lookup_by_name(&w.pool("default"), "vd.qcow2")
        .unwrap();
    assert_eq!(vd.path, w.path("images/vd.qcow2"));
    assert_eq!(disk_of(&*w.qvirt, "vd"), vd.path);

    for (name, path) in [("vi", &vol.path), ("vd", &vd.path)] {
        remove_vm(&w.rec.socket, name);
        assert!(!path.exists(), "{} removed with its domain", path.display());
        assert!(w.qvirt.lookup_by_name(name).is_err());
    }
}

#[test]
fn virt_install_makes_the_default_pool_when_there_is_none() {
    let w = World::new("lvvid", &[]);
    w.virsh(&["pool-destroy", "default"]);
    w.virsh(&["pool-undefine", "default"]);
    // For a session URI, virt-install's default pool is
    // $XDG_DATA_HOME/images. Where qvirt cannot make it (a directory
    // others may write to), it says so and leaves nothing.
    let unsafe_dir = w.path("shared");
    std::fs::create_dir(&unsafe_dir).unwrap();
    std::fs::set_permissions(
        &unsafe_dir,
        std::os::unix::fs::PermissionsExt::from_mode(0o777),
    )
    .unwrap();
    let out = virt_install(
        &w.rec.socket,
        &["--name", "bad", "--disk", "size=0.01,format=qcow2"],
        &[("XDG_DATA_HOME", &unsafe_dir)],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("Couldn't create default storage pool"),
        "{err}"
    );
    assert!(err.contains("is unsafe"), "{err}");
    assert!(w.qvirt.pool_lookup_by_name("default").is_err());
    assert!(w.qvirt.lookup_by_name("bad").is_err());

    let data = w.path("data");
    w.rec.take();
    virt_install_ok(
        &w.rec.socket,
        &["--name", "vd", "--disk", "size=0.01,format=qcow2"],
        &[("XDG_DATA_HOME", &data)],
    );
    let calls = w.rec.take();
    eprintln!("virt-install called: {calls:?}");
    // It defined the pool (77), built (79) and started it (78), and
    // marked it autostart (90).
    for p in [77, 79, 78, 90, 93] {
        assert!(calls.contains(&p), "no call of {p} in {calls:?}");
    }
    let pool = w.pool("default");
    let info = w.qvirt.pool_info(&pool).unwrap();
    assert_eq!((info.state, info.autostart), (PoolState::Running, true));
    let def = PoolDef::from_xml(&w.qvirt.pool_xml(&pool).unwrap()).unwrap();
    assert_eq!(Path::new(&def.path), data.join("images"));
    let vol = w.qvirt.vol_lookup_by_name(&pool, "vd.qcow2").unwrap();
    assert_eq!(vol.path, data.join("images/vd.qcow2"));
    assert_eq!(image_info(&vol.path)["format"], "qcow2");
    assert_eq!(disk_of(&*w.qvirt, "vd"), vol.path);
    remove_vm(&w.rec.socket, "vd");
    assert!(!vol.path.exists());
}

/// Runs `cmd`, which must succeed: its stdout.
#[track_caller]
fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.env("LC_ALL", "C").output().expect("run the command");
    assert!(
        out.status.success(),
        "{cmd:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn an_image_copied_into_a_pool_is_imported_and_cloned_as_what_it_is() {
    let w = World::new("lvforeign", &[]);
    let dir = w.dir_pool("vms");
    // A qcow2 image qvirt did not make (a downloaded cloud image, say),
    // with data of its own, and a raw volume qvirt made whose guest has
    // written a qcow2 header into it.
    let cloud = dir.join("cloud.qcow2");
    run_ok(
        Command::new("qemu-img")
            .args(["create", "-q", "-f", "qcow2"])
            .arg(&cloud)
            .arg("32M"),
    );
    run_ok(
        Command::new("qemu-io")
            .args(["-f", "qcow2", "-c", "write -P 0x5a 1M 64k"])
            .arg(&cloud),
    );
    w.virsh(&["vol-create-as", "vms", "made.raw", "1M", "--format", "raw"]);
    let header = std::fs::read(&cloud).unwrap()[..512].to_vec();
    let made = dir.join("made.raw");
    let mut bytes = std::fs::read(&made).unwrap();
    bytes[..512].copy_from_slice(&header);
    std::fs::write(&made, &bytes).unwrap();
    w.virsh(&["pool-refresh", "vms"]);
    // The pool reports the copied image as the qcow2 it is, with its
    // virtual size, as libvirt's pool refresh does; the volume qvirt
    // made stays raw whatever its guest wrote.
    let (xml, _) = w.virsh(&["vol-dumpxml", "--pool", "vms", "cloud.qcow2"]);
    let vol = VolumeDef::from_xml(&xml).unwrap();
    assert_eq!(
        (vol.format, vol.capacity),
        (VolumeFormat::Qcow2, 32 << 20),
        "{xml}"
    );
    let (xml, _) = w.virsh(&["vol-dumpxml", "--pool", "vms", "made.raw"]);
    let vol = VolumeDef::from_xml(&xml).unwrap();
    assert_eq!(
        (vol.format, vol.capacity),
        (VolumeFormat::Raw, 1 << 20),
        "{xml}"
    );

    // virt-install --import of the copied image: its disk is qcow2, and
    // QEMU opens it as qcow2.
    virt_install_ok(
        &w.rec.socket,
        &[
            "--name",
            "cloud",
            "--disk",
            &format!("path={}", cloud.display()),
        ],
        &[],
    );
    assert_eq!(disk_of(&*w.qvirt, "cloud"), cloud);
    let dom = w.qvirt.lookup_by_name("cloud").unwrap();
    let def =
        qvirt::DomainDef::from_xml(&w.qvirt.xml_desc(&dom, XmlFlags::INACTIVE).unwrap()).unwrap();
    assert_eq!(
        def.devices.disks[0].format,
        Some(qvirt::model::DiskFormat::Qcow2)
    );
    let (blocks, _) = w.virsh(&[
        "qemu-monitor-command",
        "cloud",
        r#"{"execute":"query-named-block-nodes","arguments":{"flat":true}}"#,
    ]);
    assert!(blocks.contains(r#""drv":"qcow2""#), "{blocks}");
    w.virsh(&["destroy", "cloud"]);

    // virt-clone copies it into a new qcow2 volume of the same pool with
    // the same contents, for a domain of its own.
    run_ok(
        Command::new("virt-clone")
            .arg("--connect")
            .arg(uri(&w.rec.socket))
            .args(["--original", "cloud", "--auto-clone"]),
    );
    let clone = dir.join("cloud-clone.qcow2");
    let pool = w.pool("vms");
    let cv = w
        .qvirt
        .vol_lookup_by_name(&pool, "cloud-clone.qcow2")
        .unwrap();
    assert_eq!(cv.path, clone);
    assert_eq!(image_info(&clone)["format"], "qcow2");
    run_ok(
        Command::new("qemu-img")
            .args(["compare", "-f", "qcow2", "-F", "qcow2"])
            .arg(&cloud)
            .arg(&clone),
    );
    let cdom = w.qvirt.lookup_by_name("cloud-clone").unwrap();
    let cdef =
        qvirt::DomainDef::from_xml(&w.qvirt.xml_desc(&cdom, XmlFlags::INACTIVE).unwrap()).unwrap();
    assert_eq!(cdef.devices.disks[0].source.as_deref(), clone.to_str());
    assert_eq!(
        cdef.devices.disks[0].format,
        Some(qvirt::model::DiskFormat::Qcow2)
    );

    // A domain naming the copied image as a volume of the pool, its
    // format stated: it starts on it as qcow2.
    let xml = "<domain type='qemu'><name>byvol</name><memory unit='MiB'>64</memory>\
         <os><type arch='x86_64' machine='pc'>hvm</type></os><devices>\
         <disk type='volume' device='disk'><driver name='qemu' type='qcow2'/>\
         <source pool='vms' volume='cloud.qcow2'/><target dev='vda' bus='virtio'/></disk>\
         </devices></domain>";
    let byvol = w.qvirt.define_xml(xml).unwrap();
    w.qvirt.start(&byvol).unwrap();
    let live = w.qvirt.xml_desc(&byvol, XmlFlags::NONE).unwrap();
    assert!(live.contains("type='qcow2'"), "{live}");
    w.qvirt.destroy(&byvol).unwrap();
}
