//! Storage pools and volumes: the default pool on first use, pools
//! defined, built, started and stopped, volumes made, inspected, resized,
//! cloned, uploaded, downloaded and deleted, each checked against the
//! files and against `qemu-img`'s own view; `<disk type='volume'>` seen
//! in the running QEMU; and bad input refused with a code, images
//! untouched.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use qvirt::driver::{Pool, PoolState, ResizeFlags, VolCreateFlags, Volume, XmlFlags};
use qvirt::model::{PoolDef, VolumeDef, VolumeFormat};
use qvirt::{DomainDef, Driver, ErrorCode};

use crate::*;

/// Runs `qemu-img ARGS`; its stdout, failing the test when it fails.
pub fn qemu_img(args: &[&str]) -> String {
    let out = Command::new("qemu-img")
        .args(args)
        .output()
        .expect("run qemu-img");
    assert!(
        out.status.success(),
        "qemu-img {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `qemu-img info` of `path` (opened as `format`, shared with a running
/// QEMU) as JSON.
pub fn image_info(path: &Path, format: &str) -> serde_json::Value {
    let text = qemu_img(&[
        "info",
        "-U",
        "--output=json",
        "-f",
        format,
        path.to_str().unwrap(),
    ]);
    serde_json::from_str(&text).expect("qemu-img info gives JSON")
}

/// The pool `default`.
pub fn default_pool(d: &dyn Driver) -> Pool {
    d.pool_lookup_by_name("default").expect("the default pool")
}

/// Makes volume `name` of `mib` MiB in `format` in the pool `default`,
/// as `vol-create-as` does.
pub fn make_volume(d: &dyn Driver, name: &str, mib: u64, format: &str) -> Volume {
    let xml = format!(
        "<volume><name>{name}</name><capacity unit='MiB'>{mib}</capacity>\
         <target><format type='{format}'/></target></volume>"
    );
    d.vol_create_xml(&default_pool(d), &xml)
        .unwrap_or_else(|e| panic!("vol-create {name}: {e}"))
}

/// The firmware VM with `vda`, a virtio disk on volume `volume` of the
/// pool `default`.
pub fn vm_with_volume(name: &str, volume: &str) -> Vm {
    Vm::firmware(name).device(&format!(
        "<disk type='volume' device='disk'><source pool='default' volume='{volume}'/>\
         <target dev='vda' bus='virtio'/></disk>"
    ))
}

/// A state directory's first use of storage makes the pool `default`
/// under its `images/`, running and marked autostart, and it is there
/// for the next manager too.
pub fn default_pool_exists_on_first_use(cx: &mut Ctx<'_>) {
    let d = cx.d();
    let pools = d.list_pools().unwrap();
    assert_eq!(pools.len(), 1, "{pools:?}");
    let p = &pools[0];
    assert_eq!(p.pool.name, "default");
    assert_eq!(p.info.state, PoolState::Running);
    assert!(p.info.autostart && p.info.persistent);
    assert!(p.info.capacity > 0 && p.info.available <= p.info.capacity);
    let def = PoolDef::from_xml(&d.pool_xml(&p.pool).unwrap()).unwrap();
    let images = cx.root().join("images");
    assert_eq!(Path::new(&def.path), images);
    assert!(images.is_dir());
    let vol = make_volume(d, "a.qcow2", 4, "qcow2");
    cx.reopen();
    let d = cx.d();
    let info = d.pool_info(&default_pool(d)).unwrap();
    assert_eq!(info.state, PoolState::Running);
    assert_eq!(d.list_volumes(&default_pool(d)).unwrap(), vec![vol.clone()]);
    assert_eq!(d.vol_info(&vol).unwrap().format, VolumeFormat::Qcow2);
}

/// Volumes are made with the format and size asked for (qemu-img agrees),
/// listed, described, resized, cloned and deleted.
pub fn volumes_made_resized_cloned_deleted(cx: &mut Ctx<'_>) {
    let d = cx.d();
    let pool = default_pool(d);
    let q = make_volume(d, "disk.qcow2", 64, "qcow2");
    assert_eq!(q.path, cx.root().join("images/disk.qcow2"));
    let info = image_info(&q.path, "qcow2");
    assert_eq!(info["format"], "qcow2");
    assert_eq!(info["virtual-size"], 64 << 20);
    let vi = d.vol_info(&q).unwrap();
    assert_eq!((vi.capacity, vi.format), (64 << 20, VolumeFormat::Qcow2));
    assert!(vi.allocation < 64 << 20, "sparse: {vi:?}");
    // A raw volume with its first MiB allocated up front.
    let raw_xml = "<volume><name>disk.raw</name><capacity unit='MiB'>8</capacity>\
                   <allocation unit='MiB'>1</allocation></volume>";
    let r = d.vol_create_xml(&pool, raw_xml).unwrap();
    let meta = std::fs::metadata(&r.path).unwrap();
    assert_eq!(meta.len(), 8 << 20);
    assert!(meta.blocks() * 512 >= 1 << 20, "1 MiB allocated");
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let names: Vec<String> = d
        .list_volumes(&pool)
        .unwrap()
        .into_iter()
        .map(|v| v.name)
        .collect();
    assert_eq!(names, ["disk.qcow2", "disk.raw"]);
    assert_eq!(d.vol_lookup_by_path(&q.path).unwrap(), q);
    let xml = VolumeDef::from_xml(&d.vol_xml(&q).unwrap()).unwrap();
    assert_eq!(xml.name, "disk.qcow2");
    assert_eq!(xml.format, VolumeFormat::Qcow2);
    assert_eq!(xml.capacity, 64 << 20);
    assert_eq!(xml.key.as_deref(), q.path.to_str());
    // Grow, then refuse to shrink without --shrink, then shrink.
    d.vol_resize(&q, 32 << 20, ResizeFlags::DELTA).unwrap();
    assert_eq!(image_info(&q.path, "qcow2")["virtual-size"], 96 << 20);
    let e = expect_err(
        d.vol_resize(&r, 4 << 20, ResizeFlags::NONE),
        ErrorCode::InvalidArgument,
        "shrink without --shrink",
    );
    assert!(e.message.contains("--shrink"), "{}", e.message);
    assert_eq!(std::fs::metadata(&r.path).unwrap().len(), 8 << 20);
    d.vol_resize(&r, 4 << 20, ResizeFlags::SHRINK).unwrap();
    assert_eq!(std::fs::metadata(&r.path).unwrap().len(), 4 << 20);
    // A clone holds the same data, in its own format.
    std::fs::write(&r.path, b"qvirt clone marker".repeat(1000)).unwrap();
    let clone_xml = "<volume><name>copy.qcow2</name><capacity>0</capacity>\
                     <target><format type='qcow2'/></target></volume>";
    let c = d.vol_clone(&pool, clone_xml, &r).unwrap();
    qemu_img(&[
        "compare",
        "-f",
        "raw",
        "-F",
        "qcow2",
        r.path.to_str().unwrap(),
        c.path.to_str().unwrap(),
    ]);
    assert_eq!(d.vol_info(&c).unwrap().format, VolumeFormat::Qcow2);
    for v in [&q, &r, &c] {
        d.vol_delete(v).unwrap();
        assert!(!v.path.exists(), "{} removed", v.path.display());
    }
    assert!(d.list_volumes(&pool).unwrap().is_empty());
    expect_err(
        d.vol_info(&q),
        ErrorCode::NoVolume,
        "info of a deleted volume",
    );
}

/// A qcow2 volume's `<lazy_refcounts/>` and metadata preallocation
/// (libvirt's `VIR_STORAGE_VOL_CREATE_PREALLOC_METADATA`, as
/// virt-install asks for) are in the image qemu-img sees, for a new
/// volume and a clone; the flag is refused for a raw volume and an
/// overlay, leaving no file.
pub fn volume_features_and_metadata_preallocation(cx: &mut Ctx<'_>) {
    let d = cx.d();
    let pool = default_pool(d);
    let xml = |name: &str, format: &str, extra: &str| {
        format!(
            "<volume><name>{name}</name><capacity unit='MiB'>16</capacity>             <target><format type='{format}'/>{extra}</target></volume>"
        )
    };
    let lazy = "<features><lazy_refcounts/></features>";
    let v = d
        .vol_create_with(
            &pool,
            &xml("meta.qcow2", "qcow2", lazy),
            None,
            VolCreateFlags::PREALLOC_METADATA,
        )
        .unwrap();
    let info = image_info(&v.path, "qcow2");
    assert_eq!(info["format-specific"]["data"]["lazy-refcounts"], true);
    assert_eq!(info["virtual-size"], 16 << 20);
    // Metadata for all 16 MiB: the file reaches past the capacity, its
    // data clusters are still holes.
    let meta = std::fs::metadata(&v.path).unwrap();
    assert!(meta.len() > 16 << 20, "length {}", meta.len());
    assert!(meta.blocks() * 512 < 8 << 20, "sparse: {}", meta.blocks());
    let back = VolumeDef::from_xml(&d.vol_xml(&v).unwrap()).unwrap();
    assert!(back.lazy_refcounts, "vol-dumpxml shows the feature");
    // Without the flag nor the feature: neither is in the image.
    let plain = make_volume(d, "plain.qcow2", 16, "qcow2");
    let info = image_info(&plain.path, "qcow2");
    assert_eq!(info["format-specific"]["data"]["lazy-refcounts"], false);
    assert!(std::fs::metadata(&plain.path).unwrap().len() < 1 << 20);
    assert!(
        !VolumeDef::from_xml(&d.vol_xml(&plain).unwrap())
            .unwrap()
            .lazy_refcounts
    );
    // A clone made with the flag and the feature.
    let c = d
        .vol_create_with(
            &pool,
            &xml("clone.qcow2", "qcow2", lazy),
            Some(&plain),
            VolCreateFlags::PREALLOC_METADATA,
        )
        .unwrap();
    let info = image_info(&c.path, "qcow2");
    assert_eq!(info["format-specific"]["data"]["lazy-refcounts"], true);
    assert!(std::fs::metadata(&c.path).unwrap().len() > 16 << 20);
    let e = expect_err(
        d.vol_create_with(
            &pool,
            &xml("r.raw", "raw", ""),
            None,
            VolCreateFlags::PREALLOC_METADATA,
        ),
        ErrorCode::ConfigUnsupported,
        "metadata preallocation of a raw volume",
    );
    assert!(e.message.contains("qcow2"), "{}", e.message);
    let overlay = format!(
        "<volume><name>ov.qcow2</name><capacity unit='MiB'>16</capacity>         <target><format type='qcow2'/></target><backingStore><path>{}</path>         <format type='qcow2'/></backingStore></volume>",
        plain.path.display()
    );
    expect_err(
        d.vol_create_with(&pool, &overlay, None, VolCreateFlags::PREALLOC_METADATA),
        ErrorCode::ConfigUnsupported,
        "metadata preallocation of an overlay",
    );
    expect_err(
        d.vol_create_xml(&pool, &xml("r.raw", "raw", lazy)),
        ErrorCode::ConfigInvalid,
        "lazy refcounts of a raw volume",
    );
    let images = cx.root().join("images");
    assert!(!images.join("r.raw").exists() && !images.join("ov.qcow2").exists());
    for v in [&v, &plain, &c] {
        d.vol_delete(v).unwrap();
    }
}

/// A pool of our own: refused until its directory exists, built with its
/// mode, started, stopped, undefined; its state survives a new manager.
pub fn pools_define_build_start_stop(cx: &mut Ctx<'_>) {
    let d = cx.d();
    let dir = cx.root().join("mypool");
    let xml = format!(
        "<pool type='dir'><name>mine</name><target><path>{}</path>\
         <permissions><mode>0750</mode></permissions></target></pool>",
        dir.display()
    );
    let pool = d.pool_define_xml(&xml).unwrap();
    assert_eq!(d.pool_info(&pool).unwrap().state, PoolState::Inactive);
    expect_err(d.pool_start(&pool), ErrorCode::Io, "start before build");
    expect_err(
        d.list_volumes(&pool),
        ErrorCode::OperationInvalid,
        "volumes of an inactive pool",
    );
    d.pool_build(&pool).unwrap();
    let meta = std::fs::metadata(&dir).unwrap();
    assert!(meta.is_dir());
    assert_eq!(meta.permissions().mode() & 0o7777, 0o750);
    d.pool_start(&pool).unwrap();
    d.pool_set_autostart(&pool, true).unwrap();
    let xml = "<volume><name>v</name><capacity>1048576</capacity></volume>";
    let vol = d.vol_create_xml(&pool, xml).unwrap();
    assert_eq!(vol.path, dir.join("v"));
    cx.reopen();
    let d = cx.d();
    let pool = d.pool_lookup_by_name("mine").unwrap();
    let info = d.pool_info(&pool).unwrap();
    assert_eq!(
        (info.state, info.autostart),
        (PoolState::Running, true),
        "kept by the next manager"
    );
    expect_err(
        d.pool_undefine(&pool),
        ErrorCode::OperationInvalid,
        "undefine a running pool",
    );
    d.pool_refresh(&pool).unwrap();
    d.pool_destroy(&pool).unwrap();
    d.pool_undefine(&pool).unwrap();
    expect_err(
        d.pool_lookup_by_name("mine"),
        ErrorCode::NoPool,
        "an undefined pool",
    );
    assert!(dir.join("v").exists(), "undefine keeps the files");
    let names: Vec<String> = d
        .list_pools()
        .unwrap()
        .into_iter()
        .map(|p| p.pool.name)
        .collect();
    assert_eq!(names, ["default"]);
}

/// Bad input is refused with a code and changes no file: a volume name
/// with `/`, a name taken (its file untouched), a backing file that does
/// not exist, a backing store whose format is not stated, a pool target
/// that is not a directory, is writable by others, or belongs to
/// another user.
pub fn storage_bad_input_is_refused(cx: &mut Ctx<'_>) {
    let d = cx.d();
    let pool = default_pool(d);
    let images = cx.root().join("images");
    let bad = |xml: &str, code: ErrorCode, what: &str| {
        expect_err(d.vol_create_xml(&pool, xml), code, what);
    };
    // libvirt refuses such a name as an invalid operation (a directory
    // pool holds no subdirectories), and qvirtd's libvirt socket as
    // libvirt; qvirt's own reader calls it an invalid definition.
    let over_libvirt = d.uri().contains("proto=libvirt");
    bad(
        "<volume><name>../escape</name><capacity>1024</capacity></volume>",
        if over_libvirt {
            ErrorCode::OperationInvalid
        } else {
            ErrorCode::ConfigInvalid
        },
        "a name with /",
    );
    assert!(!cx.root().join("escape").exists());
    let taken = images.join("taken.raw");
    std::fs::write(&taken, b"precious").unwrap();
    bad(
        "<volume><name>taken.raw</name><capacity>1048576</capacity></volume>",
        ErrorCode::OperationInvalid,
        "a name that exists",
    );
    assert_eq!(std::fs::read(&taken).unwrap(), b"precious");
    bad(
        "<volume><name>ov.qcow2</name><capacity>1048576</capacity>\
         <target><format type='qcow2'/></target>\
         <backingStore><path>/nonexistent/base.qcow2</path><format type='qcow2'/></backingStore></volume>",
        ErrorCode::Io,
        "a backing file that does not exist",
    );
    bad(
        &format!(
            "<volume><name>ov.qcow2</name><capacity>1048576</capacity>\
             <target><format type='qcow2'/></target>\
             <backingStore><path>{}</path></backingStore></volume>",
            taken.display()
        ),
        ErrorCode::ConfigInvalid,
        "a backing store without its format",
    );
    bad(
        "<volume><name>x</name><capacity>1</capacity><target><format type='vmdk'/></target></volume>",
        ErrorCode::ConfigUnsupported,
        "a format qvirt does not make",
    );
    let e = expect_err(
        d.vol_create_xml(
            &pool,
            "<volume><name>x</name><capacity>1</capacity><bogus/></volume>",
        ),
        ErrorCode::ConfigUnsupported,
        "an unknown element",
    );
    assert!(
        e.message.contains("<bogus>") && e.message.contains("1:"),
        "{}",
        e.message
    );
    assert!(!images.join("ov.qcow2").exists() && !images.join("x").exists());
    // Pool targets.
    let file = cx.root().join("a-file");
    std::fs::write(&file, b"").unwrap();
    let open = cx.root().join("open");
    std::fs::create_dir(&open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
    let theirs = cx.root().join("theirs");
    std::fs::create_dir(&theirs).unwrap();
    std::os::unix::fs::chown(&theirs, Some(65534), Some(65534)).unwrap();
    for (name, dir, code) in [
        ("file", &file, ErrorCode::InvalidArgument),
        ("open", &open, ErrorCode::OperationDenied),
        ("theirs", &theirs, ErrorCode::OperationDenied),
    ] {
        let xml = format!(
            "<pool type='dir'><name>{name}</name><target><path>{}</path></target></pool>",
            dir.display()
        );
        let p = d.pool_define_xml(&xml).unwrap();
        let e = expect_err(d.pool_start(&p), code, &format!("start pool {name}"));
        assert!(e.message.contains(dir.to_str().unwrap()), "{}", e.message);
        assert_eq!(d.pool_info(&p).unwrap().state, PoolState::Inactive);
    }
    assert_eq!(
        std::fs::metadata(&open).unwrap().permissions().mode() & 0o777,
        0o777,
        "not changed"
    );
    expect_err(
        d.pool_define_xml(
            "<pool type='logical'><name>lv</name><target><path>/x</path></target></pool>",
        ),
        ErrorCode::ConfigUnsupported,
        "a pool type qvirt does not have",
    );
}

/// A volume disk runs on its volume's file (QEMU's command line names it,
/// the live XML keeps `type='volume'`), and while the domain runs the
/// volume can be neither deleted nor resized; a disk stating another
/// format than its volume's does not start.
pub fn volume_disk_runs_and_is_guarded(cx: &mut Ctx<'_>) {
    let d = cx.d();
    let vol = make_volume(d, "sys.qcow2", 16, "qcow2");
    let dom = define_and_start(d, &vm_with_volume("vd-a", "sys.qcow2"));
    let pid = cx.qemu_pid("vd-a");
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap();
    let cmdline = String::from_utf8_lossy(&cmdline);
    assert!(
        cmdline.contains(&format!("\"filename\":\"{}\"", vol.path.display()))
            || cmdline.contains(vol.path.to_str().unwrap()),
        "QEMU opens the volume's file: {cmdline}"
    );
    assert!(cmdline.contains("qcow2"), "as qcow2: {cmdline}");
    let live = DomainDef::from_xml(&d.xml_desc(&dom, XmlFlags::NONE).unwrap()).unwrap();
    let disk = &live.devices.disks[0];
    assert_eq!(disk.volume.as_ref().unwrap().volume, "sys.qcow2");
    for (result, what) in [
        (d.vol_delete(&vol), "delete"),
        (d.vol_resize(&vol, 32 << 20, ResizeFlags::NONE), "resize"),
    ] {
        let e = expect_err(result, ErrorCode::OperationInvalid, what);
        assert!(
            e.message.contains("vd-a"),
            "names the domain: {}",
            e.message
        );
    }
    assert_eq!(image_info(&vol.path, "qcow2")["virtual-size"], 16 << 20);
    d.destroy(&dom).unwrap();
    d.vol_resize(&vol, 32 << 20, ResizeFlags::NONE).unwrap();
    // A disk that says raw on a qcow2 volume does not start.
    let mut vm = Vm::firmware("vd-b");
    vm.devices.push_str(
        "<disk type='volume' device='disk'><driver name='qemu' type='raw'/>\
         <source pool='default' volume='sys.qcow2'/><target dev='vda' bus='virtio'/></disk>",
    );
    let b = define(d, &vm);
    let e = expect_err(d.start(&b), ErrorCode::ConfigInvalid, "format mismatch");
    assert!(e.message.contains("qcow2"), "{}", e.message);
    let c = define(d, &vm_with_volume("vd-c", "missing.qcow2"));
    expect_err(d.start(&c), ErrorCode::NoVolume, "a missing volume");
    d.vol_delete(&vol).unwrap();
}

/// A volume uploaded from bytes and downloaded again gives the same
/// bytes, also a range of it; an upload is refused while a running
/// domain uses the volume.
pub fn volume_upload_download_round_trip(cx: &mut Ctx<'_>) {
    let d = cx.d();
    let pool = default_pool(d);
    let vol = d
        .vol_create_xml(
            &pool,
            "<volume><name>blob.raw</name><capacity unit='MiB'>3</capacity></volume>",
        )
        .unwrap();
    let data: Vec<u8> = (0..3 << 20).map(|i: u32| (i * 7 % 251) as u8).collect();
    let mut up = d.vol_upload(&vol, 0, None).unwrap();
    for chunk in data.chunks(300_000) {
        up.send(chunk).unwrap();
    }
    up.finish().unwrap();
    assert_eq!(std::fs::read(&vol.path).unwrap(), data);
    let mut down = d.vol_download(&vol, 0, None).unwrap();
    let mut got = Vec::new();
    loop {
        let chunk = down.recv().unwrap();
        if chunk.is_empty() {
            break;
        }
        got.extend(chunk);
    }
    down.finish().unwrap();
    assert_eq!(got.len(), data.len());
    assert!(got == data, "the download is the upload");
    // A range.
    let mut part = d.vol_download(&vol, 1000, Some(5000)).unwrap();
    let mut got = Vec::new();
    loop {
        let chunk = part.recv().unwrap();
        if chunk.is_empty() {
            break;
        }
        got.extend(chunk);
    }
    assert_eq!(got, &data[1000..6000]);
    // More than the length asked for is refused.
    let mut up = d.vol_upload(&vol, 0, Some(10)).unwrap();
    expect_err(
        up.send(&[0u8; 11]),
        ErrorCode::InvalidArgument,
        "upload past its length",
    );
    drop(up);
    let dom = define_and_start(
        d,
        &Vm::firmware("up-a").device(
            "<disk type='volume' device='disk'><source pool='default' volume='blob.raw'/>\
             <target dev='vda' bus='virtio'/></disk>",
        ),
    );
    let e = expect_err(
        d.vol_upload(&vol, 0, None).map(drop),
        ErrorCode::OperationInvalid,
        "upload into a volume in use",
    );
    assert!(e.message.contains("up-a"), "{}", e.message);
    d.destroy(&dom).unwrap();
}

/// A pool on a file system with no room left: a volume that does not fit
/// is refused with a coded error and leaves no file behind.
pub fn volume_without_space_leaves_nothing(cx: &mut Ctx<'_>) {
    let d = cx.d();
    let dir = cx.root().join("small");
    std::fs::create_dir(&dir).unwrap();
    let _mount = TmpfsMount::new(&dir, "1m");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    let xml = format!(
        "<pool type='dir'><name>small</name><target><path>{}</path></target></pool>",
        dir.display()
    );
    let pool = d.pool_define_xml(&xml).unwrap();
    d.pool_start(&pool).unwrap();
    for (name, fmt, alloc) in [
        ("big.raw", "raw", "<allocation unit='MiB'>8</allocation>"),
        (
            "big.qcow2",
            "qcow2",
            "<allocation unit='MiB'>8</allocation>",
        ),
    ] {
        let xml = format!(
            "<volume><name>{name}</name><capacity unit='MiB'>8</capacity>{alloc}\
             <target><format type='{fmt}'/></target></volume>"
        );
        let e = expect_err(
            d.vol_create_xml(&pool, &xml),
            ErrorCode::Io,
            "no space left",
        );
        assert!(
            e.to_string().to_lowercase().contains("space"),
            "says why: {e}"
        );
        assert!(!dir.join(name).exists(), "{name} removed");
    }
    assert!(d.list_volumes(&pool).unwrap().is_empty());
    d.pool_destroy(&pool).unwrap();
}

/// A small tmpfs mounted on a directory for a test, unmounted when
/// dropped.
pub struct TmpfsMount(PathBuf);

impl TmpfsMount {
    /// Mounts a tmpfs of `size` on `dir` (root only, as the test suite
    /// runs).
    pub fn new(dir: &Path, size: &str) -> TmpfsMount {
        let out = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(dir)
            .output()
            .expect("run mount");
        assert!(
            out.status.success(),
            "this case needs to mount a small tmpfs (as root): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        TmpfsMount(dir.to_path_buf())
    }
}

impl Drop for TmpfsMount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).output();
    }
}
