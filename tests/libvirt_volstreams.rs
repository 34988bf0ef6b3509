//! Volume uploads and downloads through libvirt's protocol
//! (`virStorageVolUpload`, `virStorageVolDownload`) with the real
//! clients: unmodified virsh 9.0 (`vol-upload`, `vol-download`) and
//! python3-libvirt's streams, against a `qvirtd --root DIR` on its
//! libvirt socket. The bytes are checked against the volume's file on
//! disk and against what was sent; errors against libvirt's codes; the
//! stream's handshake (data, end, finish and its confirmation, abort)
//! with a raw client of the protocol.

#[allow(dead_code, unused_imports)]
#[path = "daemon/support.rs"]
mod support;

#[path = "libvirt/lv.rs"]
mod lv;

use std::path::{Path, PathBuf};
use std::process::Command;

use lv::*;
use qvirt::Driver;
use qvirt::transport::libvirt::frame::{Header, RemoteError, Status, Type, code};
use qvirt::transport::libvirt::types::*;
use qvirt::transport::libvirt::xdr::from_bytes;
use support::*;

/// A daemon, its libvirt socket behind a recording proxy, and a qvirt
/// client of the same daemon.
struct World {
    dir: TestDir,
    daemon: Daemon,
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
            daemon,
            rec,
            qvirt,
        }
    }

    /// `virsh ARGS`, which must succeed: its output and the volume
    /// stream procedures (208, 209) it called.
    #[track_caller]
    fn virsh(&self, args: &[&str]) -> (String, Vec<i32>) {
        self.rec.take();
        let out = virsh_ok(&self.rec.socket, args);
        let calls = self
            .rec
            .take()
            .into_iter()
            .filter(|p| matches!(p, 208 | 209))
            .collect();
        (out, calls)
    }

    #[track_caller]
    fn virsh_err(&self, args: &[&str]) -> String {
        virsh_err(&self.rec.socket, args)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path.join(name)
    }

    /// The file of volume `name` of the pool `default`.
    fn vol_file(&self, name: &str) -> PathBuf {
        let pool = self.qvirt.pool_lookup_by_name("default").unwrap();
        self.qvirt.vol_lookup_by_name(&pool, name).unwrap().path
    }
}

/// `n` bytes of a pattern that repeats nowhere (xorshift from `seed`).
fn pattern(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn virsh_uploads_and_downloads_a_raw_volume() {
    let w = World::new("lvvol", &[]);
    // 3 MiB and nine sectors: many stream messages, and a last one that
    // is short (qemu-img rounds a raw image to whole sectors).
    let size = 3 * 1024 * 1024 + 9 * 512;
    w.virsh(&[
        "vol-create-as",
        "default",
        "v.raw",
        &size.to_string(),
        "--format",
        "raw",
    ]);
    let file = w.vol_file("v.raw");
    assert_eq!(std::fs::metadata(&file).unwrap().len(), size as u64);

    let data = pattern(size, 7);
    let up = w.path("up.bin");
    std::fs::write(&up, &data).unwrap();
    let (_, calls) = w.virsh(&["vol-upload", "v.raw", s(&up), "--pool", "default"]);
    assert_eq!(calls, [208]);
    assert!(
        std::fs::read(&file).unwrap() == data,
        "the volume holds the file"
    );

    let down = w.path("down.bin");
    let (_, calls) = w.virsh(&["vol-download", "v.raw", s(&down), "--pool", "default"]);
    assert_eq!(calls, [209]);
    let got = std::fs::read(&down).unwrap();
    assert_eq!(got.len(), data.len());
    assert!(got == data, "the download is what was uploaded");

    // A range up: 70,000 bytes at 5,000, the rest untouched.
    let patch = pattern(70_000, 99);
    let part = w.path("part.bin");
    std::fs::write(&part, &patch).unwrap();
    w.virsh(&[
        "vol-upload",
        "v.raw",
        s(&part),
        "--pool",
        "default",
        "--offset",
        "5000",
        "--length",
        "70000",
    ]);
    let mut want = data.clone();
    want[5000..75_000].copy_from_slice(&patch);
    assert!(
        std::fs::read(&file).unwrap() == want,
        "only the range changed"
    );

    // A range down, across the patch's edge.
    let down2 = w.path("down2.bin");
    w.virsh(&[
        "vol-download",
        "v.raw",
        s(&down2),
        "--pool",
        "default",
        "--offset",
        "4096",
        "--length",
        "300000",
    ]);
    assert!(std::fs::read(&down2).unwrap() == want[4096..304_096]);

    // From an offset to the end.
    let tail = w.path("tail.bin");
    w.virsh(&[
        "vol-download",
        "v.raw",
        s(&tail),
        "--pool",
        "default",
        "--offset",
        &(size - 10).to_string(),
    ]);
    assert_eq!(std::fs::read(&tail).unwrap(), &want[size - 10..]);
}

#[test]
fn volume_streams_refuse_what_libvirt_refuses() {
    let w = World::new("lvvolerr", &["--read-only-socket"]);
    w.virsh(&["vol-create-as", "default", "v.raw", "64K"]);
    let file = w.vol_file("v.raw");
    let before = std::fs::read(&file).unwrap();
    let up = w.path("up.bin");
    std::fs::write(&up, pattern(1000, 3)).unwrap();

    // A volume that is not there: libvirt's words, nothing sent.
    let err = w.virsh_err(&["vol-upload", "nope.raw", s(&up), "--pool", "default"]);
    assert!(err.contains("failed to get vol 'nope.raw'"), "{err}");
    let err = w.virsh_err(&[
        "vol-download",
        "nope.raw",
        s(&w.path("x")),
        "--pool",
        "default",
    ]);
    assert!(err.contains("failed to get vol 'nope.raw'"), "{err}");

    // Past the end of the volume.
    let err = w.virsh_err(&[
        "vol-download",
        "v.raw",
        s(&w.path("far.bin")),
        "--pool",
        "default",
        "--offset",
        "65537",
    ]);
    assert!(err.contains("beyond the end of volume 'v.raw'"), "{err}");
    assert!(!w.path("far.bin").exists(), "virsh removes its file");
    let err = w.virsh_err(&[
        "vol-upload",
        "v.raw",
        s(&up),
        "--pool",
        "default",
        "--offset",
        "70000",
    ]);
    assert!(err.contains("beyond the end of volume 'v.raw'"), "{err}");

    // The read-only socket moves no volume's bytes either way.
    let ro = lv_socket_ro(&w.dir.path);
    let err = virsh_err(&ro, &["vol-upload", "v.raw", s(&up), "--pool", "default"]);
    assert!(err.contains("read only access prevents"), "{err}");
    let err = virsh_err(
        &ro,
        &[
            "vol-download",
            "v.raw",
            s(&w.path("r")),
            "--pool",
            "default",
        ],
    );
    assert!(err.contains("read only access prevents"), "{err}");
    assert!(
        std::fs::read(&file).unwrap() == before,
        "nothing was written"
    );

    // The codes, as a client reads them.
    let mut c = Raw::connect(&lv_socket(&w.dir.path));
    c.open(false, 0);
    let vol = lookup_vol(&mut c, "v.raw");
    let args = |offset, length, flags| VolStreamArgs {
        vol: vol.clone(),
        offset,
        length,
        flags,
    };
    let e = c.call(209, &args(65_537, 0, 0)).unwrap_err();
    assert_eq!(e.code, code::INVALID_ARG);
    let e = c.call(209, &args(0, 65_537, 0)).unwrap_err();
    assert_eq!(e.code, code::INVALID_ARG, "a length past the end");
    for proc in [208, 209] {
        let e = c.call(proc, &args(0, 0, 2)).unwrap_err();
        assert_eq!(e.code, code::INVALID_ARG, "an unknown flag");
    }
    let stale = StorageVol {
        name: "gone.raw".into(),
        ..vol.clone()
    };
    let e = c
        .call(
            208,
            &VolStreamArgs {
                vol: stale,
                offset: 0,
                length: 0,
                flags: 0,
            },
        )
        .unwrap_err();
    assert_eq!(e.code, code::NO_STORAGE_VOL);
    let mut r = Raw::connect(&ro);
    r.open(false, 0);
    for proc in [208, 209] {
        let e = r.call(proc, &args(0, 0, 0)).unwrap_err();
        assert_eq!(e.code, code::OPERATION_DENIED, "procedure {proc}");
    }
}

/// The volume `name` of the pool `default`, as a client names it.
fn lookup_vol(c: &mut Raw, name: &str) -> StorageVol {
    let pool: PoolRet = from_bytes(
        &c.call(
            84,
            &NameArgs {
                name: "default".into(),
            },
        )
        .unwrap(),
        "pool",
    )
    .unwrap();
    let vol: VolRet = from_bytes(
        &c.call(
            95,
            &VolLookupByNameArgs {
                pool: pool.pool,
                name: name.into(),
            },
        )
        .unwrap(),
        "vol",
    )
    .unwrap();
    vol.vol
}

/// The next stream message of `serial` (skipping keepalive): status and
/// body.
fn stream_msg(c: &mut Raw, serial: u32) -> (Status, Vec<u8>) {
    match c.read() {
        Got::Msg(h, body) if h.kind == Type::Stream && h.serial == serial => (h.status, body),
        other => panic!("expected a stream message of call {serial}, got {other:?}"),
    }
}

#[test]
fn the_stream_handshake_is_libvirts() {
    let w = World::new("lvvolraw", &[]);
    w.virsh(&["vol-create-as", "default", "v.raw", "1M"]);
    let file = w.vol_file("v.raw");
    let mut c = Raw::connect(&lv_socket(&w.dir.path));
    c.open(false, 0);
    let vol = lookup_vol(&mut c, "v.raw");
    let args = |offset, length| VolStreamArgs {
        vol: vol.clone(),
        offset,
        length,
        flags: 0,
    };

    // Upload: the reply, then data as CONTINUE messages; the finish (an
    // empty OK) is confirmed by an empty OK once the bytes are on disk.
    let data = pattern(600_000, 11);
    let serial = c.send_call(208, &args(1000, 0));
    c.reply(serial).expect("the upload opens");
    let header = |status| Header::remote(208, Type::Stream, serial, status);
    for chunk in data.chunks(200_000) {
        c.send(&header(Status::Continue), chunk);
    }
    c.send(&header(Status::Ok), &[]);
    assert_eq!(stream_msg(&mut c, serial), (Status::Ok, vec![]));
    let on_disk = std::fs::read(&file).unwrap();
    assert!(on_disk[1000..601_000] == data[..], "written at the offset");
    assert!(on_disk[..1000].iter().all(|&b| b == 0));

    // Download: CONTINUE messages of at most 256 KiB, then an empty one
    // (the end); the client's finish is confirmed.
    let serial = c.send_call(209, &args(1000, 600_000));
    c.reply(serial).expect("the download opens");
    let mut got = Vec::new();
    loop {
        let (status, body) = stream_msg(&mut c, serial);
        assert_eq!(status, Status::Continue);
        assert!(body.len() <= 262_120, "{} bytes in one message", body.len());
        if body.is_empty() {
            break;
        }
        got.extend(body);
    }
    assert!(got == data, "the range comes back");
    c.send(&Header::remote(209, Type::Stream, serial, Status::Ok), &[]);
    assert_eq!(stream_msg(&mut c, serial), (Status::Ok, vec![]));

    // An upload past its length: the stream fails with the reason, and
    // what follows for it is dropped; the connection serves on.
    let serial = c.send_call(208, &args(0, 10));
    c.reply(serial).expect("the upload opens");
    let header = |status| Header::remote(208, Type::Stream, serial, status);
    c.send(&header(Status::Continue), &[1u8; 11]);
    let (status, body) = stream_msg(&mut c, serial);
    assert_eq!(status, Status::Error);
    let e = RemoteError::decode(&body).unwrap();
    assert_eq!(e.code, code::INVALID_ARG);
    assert!(e.message.unwrap().contains("10 more bytes, not 11"));
    c.send(&header(Status::Continue), &[1u8; 5]);
    c.send(&header(Status::Ok), &[]);
    assert_eq!(std::fs::read(&file).unwrap(), on_disk, "nothing written");

    // An abort (status ERROR from the client) is confirmed too.
    let serial = c.send_call(208, &args(0, 0));
    c.reply(serial).expect("the upload opens");
    let header = |status| Header::remote(208, Type::Stream, serial, status);
    c.send(&header(Status::Continue), &[9u8; 100]);
    c.send(&header(Status::Error), &[]);
    assert_eq!(stream_msg(&mut c, serial), (Status::Ok, vec![]));
    // Still answering, in order after the stream.
    lookup_vol(&mut c, "v.raw");
}

#[test]
fn python3_libvirt_streams_a_volume_both_ways() {
    let w = World::new("lvvolpy", &[]);
    w.virsh(&["vol-create-as", "default", "v.raw", "2M"]);
    let file = w.vol_file("v.raw");
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/libvirt/volstreams.py");
    let out = Command::new(PYTHON)
        .arg(script)
        .arg(uri(&lv_socket(&w.dir.path)))
        .output()
        .expect("run the python3-libvirt program");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("PY-VOLSTREAMS-OK"),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // What the program uploaded last (its pattern, seed 5) is on disk.
    let want: Vec<u8> = (0..2 * 1024 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    assert!(std::fs::read(&file).unwrap() == want);
}

#[test]
fn an_upload_into_a_volume_a_running_domain_uses_is_refused() {
    let w = World::new("lvvoluse", &[]);
    let sock = &w.rec.socket;
    w.virsh(&["vol-create-as", "default", "d.raw", "1M"]);
    let file = w.vol_file("d.raw");
    let before = std::fs::read(&file).unwrap();
    let xml = firmware_vm("user").replace(
        "<devices>",
        "<devices><disk type='volume' device='disk'><driver name='qemu' type='raw'/>\
         <source pool='default' volume='d.raw'/><target dev='vda' bus='virtio'/></disk>",
    );
    let def = write_file(&w.dir.path, "user.xml", &xml);
    virsh_ok(sock, &["define", s(&def)]);
    virsh_ok(sock, &["start", "user"]);
    let up = w.path("up.bin");
    std::fs::write(&up, pattern(4096, 1)).unwrap();
    let err = w.virsh_err(&["vol-upload", "d.raw", s(&up), "--pool", "default"]);
    assert!(err.contains("in use by running domain 'user'"), "{err}");
    let mut c = Raw::connect(&lv_socket(&w.dir.path));
    c.open(false, 0);
    let args = VolStreamArgs {
        vol: lookup_vol(&mut c, "d.raw"),
        offset: 0,
        length: 0,
        flags: 0,
    };
    let e = c.call(208, &args).unwrap_err();
    assert_eq!(e.code, code::OPERATION_INVALID);
    assert!(
        std::fs::read(&file).unwrap() == before,
        "nothing was written"
    );
    // Reading it is allowed.
    let down = w.path("down.bin");
    w.virsh(&["vol-download", "d.raw", s(&down), "--pool", "default"]);
    assert!(std::fs::read(&down).unwrap() == before);
    virsh_ok(sock, &["destroy", "user"]);
    w.virsh(&[
        "vol-upload",
        "d.raw",
        s(&up),
        "--pool",
        "default",
        "--length",
        "4096",
    ]);
    assert!(std::fs::read(&file).unwrap()[..4096] == pattern(4096, 1)[..]);
}

#[test]
fn a_client_gone_mid_stream_leaves_the_daemon_serving() {
    let w = World::new("lvvolgone", &[]);
    w.virsh(&["vol-create-as", "default", "v.raw", "8M"]);
    // An upload and a download left half-way when the connection drops.
    let mut c = Raw::connect(&lv_socket(&w.dir.path));
    c.open(false, 0);
    let vol = lookup_vol(&mut c, "v.raw");
    let args = VolStreamArgs {
        vol,
        offset: 0,
        length: 0,
        flags: 0,
    };
    let up = c.send_call(208, &args);
    c.reply(up).expect("the upload opens");
    c.send(
        &Header::remote(208, Type::Stream, up, Status::Continue),
        &[7u8; 100_000],
    );
    let down = c.send_call(209, &args);
    c.reply(down).expect("the download opens");
    let (status, body) = stream_msg(&mut c, down);
    assert_eq!(status, Status::Continue);
    assert!(!body.is_empty());
    drop(c);
    // The daemon serves the next client; the volume keeps its size.
    let out = w.path("out.bin");
    w.virsh(&["vol-download", "v.raw", s(&out), "--pool", "default"]);
    assert_eq!(std::fs::metadata(&out).unwrap().len(), 8 << 20);
}

#[test]
fn an_uploaded_qcow2_image_is_the_volume_as_it_is() {
    let w = World::new("lvvolq", &[]);
    w.virsh(&[
        "vol-create-as",
        "default",
        "q.qcow2",
        "1M",
        "--format",
        "qcow2",
    ]);
    // An image of another size, with a byte pattern written into it.
    let image = w.path("local.qcow2");
    let run = |cmd: &str, args: &[&str]| {
        let out = Command::new(cmd).args(args).output().expect(cmd);
        assert!(out.status.success(), "{cmd} {args:?}: {out:?}");
    };
    run(
        "qemu-img",
        &["create", "-q", "-f", "qcow2", s(&image), "8M"],
    );
    run(
        "qemu-io",
        &["-f", "qcow2", "-c", "write -P 0x5a 1M 64k", s(&image)],
    );
    let (_, calls) = w.virsh(&["vol-upload", "q.qcow2", s(&image), "--pool", "default"]);
    assert_eq!(calls, [208]);
    let file = w.vol_file("q.qcow2");
    assert!(std::fs::read(&file).unwrap() == std::fs::read(&image).unwrap());
    // The volume is that image now: its size, its data.
    let (info, _) = w.virsh(&["vol-info", "q.qcow2", "--pool", "default"]);
    assert!(info.contains("8.00 MiB"), "{info}");
    run(
        "qemu-io",
        &["-f", "qcow2", "-r", "-c", "read -P 0x5a 1M 64k", s(&file)],
    );
}

/// The resident memory of process `pid`, in KiB.
fn rss_kib(pid: i32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/PID/status")
}

#[test]
fn a_download_goes_as_fast_as_its_client_reads() {
    let w = World::new("lvvolflow", &[]);
    // 256 MiB, read as zeros; another beside it.
    w.virsh(&["vol-create-as", "default", "big.raw", "256M"]);
    w.virsh(&["vol-create-as", "default", "other.raw", "96M"]);
    let mut c = Raw::connect(&lv_socket(&w.dir.path));
    c.open(false, 0);
    let args = VolStreamArgs {
        vol: lookup_vol(&mut c, "big.raw"),
        offset: 0,
        length: 0,
        flags: 0,
    };
    let serial = c.send_call(209, &args);
    c.reply(serial).expect("the download opens");
    // While this client reads nothing, the daemon serves another one
    // (96 MiB: a daemon that read ahead for this one, unasked, would have
    // read as much for it meanwhile) and holds no more of this volume
    // than its output buffer's worth.
    let out = w.path("other.bin");
    w.virsh(&["vol-download", "other.raw", s(&out), "--pool", "default"]);
    assert_eq!(std::fs::metadata(&out).unwrap().len(), 96 << 20);
    let rss = rss_kib(w.daemon.pid());
    // (About 35 MiB here; a daemon reading ahead holds 170 MiB or more.)
    assert!(
        rss < 80 << 10,
        "the daemon holds {rss} KiB while its client waits"
    );
    // Then all of it comes, in order, and ends.
    let mut total = 0u64;
    loop {
        let (status, body) = stream_msg(&mut c, serial);
        assert_eq!(status, Status::Continue);
        if body.is_empty() {
            break;
        }
        assert!(body.iter().all(|&b| b == 0));
        total += body.len() as u64;
    }
    assert_eq!(total, 256 << 20);
    c.send(&Header::remote(209, Type::Stream, serial, Status::Ok), &[]);
    assert_eq!(stream_msg(&mut c, serial), (Status::Ok, vec![]));
}

/// Bytes of `path` that take room on disk.
fn allocated(path: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).unwrap().blocks() * 512
}

/// A sparse file of 8 MiB: 64 KiB of data at 0, 128 KiB at 3 MiB, holes
/// elsewhere (the last one to the end); its bytes.
fn sparse_file(path: &Path) -> Vec<u8> {
    use std::os::unix::fs::FileExt;
    let f = std::fs::File::create(path).unwrap();
    let a = pattern(64 << 10, 21);
    let b = pattern(128 << 10, 22);
    f.write_all_at(&a, 0).unwrap();
    f.write_all_at(&b, 3 << 20).unwrap();
    f.set_len(8 << 20).unwrap();
    let mut want = vec![0u8; 8 << 20];
    want[..a.len()].copy_from_slice(&a);
    want[3 << 20..(3 << 20) + b.len()].copy_from_slice(&b);
    want
}

#[test]
fn virsh_moves_a_sparse_volume_with_its_holes() {
    let w = World::new("lvvolsparse", &[]);
    w.virsh(&["vol-create-as", "default", "sp.raw", "8M"]);
    let file = w.vol_file("sp.raw");
    // The volume full of data first: the holes must make it zeros.
    let full = w.path("full.bin");
    std::fs::write(&full, pattern(8 << 20, 5)).unwrap();
    w.virsh(&["vol-upload", "sp.raw", s(&full), "--pool", "default"]);
    assert!(allocated(&file) >= 8 << 20);

    let local = w.path("sparse.bin");
    let want = sparse_file(&local);
    let (_, calls) = w.virsh(&[
        "vol-upload",
        "sp.raw",
        s(&local),
        "--pool",
        "default",
        "--sparse",
    ]);
    assert_eq!(calls, [208]);
    assert!(
        std::fs::read(&file).unwrap() == want,
        "the holes read as zeros"
    );
    assert!(
        allocated(&file) < 1 << 20,
        "the holes take no room: {} bytes allocated",
        allocated(&file)
    );

    let down = w.path("down.bin");
    let (_, calls) = w.virsh(&[
        "vol-download",
        "sp.raw",
        s(&down),
        "--pool",
        "default",
        "--sparse",
    ]);
    assert_eq!(calls, [209]);
    assert!(std::fs::read(&down).unwrap() == want);
    assert!(
        allocated(&down) < 1 << 20,
        "virsh made holes of the holes it was sent: {} bytes allocated",
        allocated(&down)
    );

    // A range across data, a hole and data again.
    let part = w.path("part.bin");
    w.virsh(&[
        "vol-download",
        "sp.raw",
        s(&part),
        "--pool",
        "default",
        "--sparse",
        "--offset",
        "32768",
        "--length",
        "3200000",
    ]);
    assert!(std::fs::read(&part).unwrap() == want[32768..32768 + 3_200_000]);

    // As the protocol has it: the data, and holes as their length.
    let mut c = Raw::connect(&lv_socket(&w.dir.path));
    c.open(false, 0);
    let args = VolStreamArgs {
        vol: lookup_vol(&mut c, "sp.raw"),
        offset: 0,
        length: 0,
        flags: 1,
    };
    let serial = c.send_call(209, &args);
    c.reply(serial).expect("the sparse download opens");
    let (mut got, mut data, mut holes) = (Vec::new(), 0usize, 0);
    loop {
        match c.read() {
            Got::Msg(h, body) if h.kind == Type::Stream && h.serial == serial => {
                assert_eq!(h.status, Status::Continue);
                if body.is_empty() {
                    break;
                }
                data += body.len();
                got.extend(body);
            }
            Got::Msg(h, body) if h.kind == Type::StreamHole && h.serial == serial => {
                let hole: StreamHole = from_bytes(&body, "hole").unwrap();
                assert_eq!(hole.flags, 0);
                holes += 1;
                got.resize(got.len() + hole.length as usize, 0);
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(got == want);
    assert!(
        holes >= 2 && data < 1 << 20,
        "{holes} holes, {data} bytes of data"
    );
    c.send(&Header::remote(209, Type::Stream, serial, Status::Ok), &[]);
    assert_eq!(stream_msg(&mut c, serial), (Status::Ok, vec![]));

    // A hole in a stream that is not sparse is libvirtd's "Unexpected
    // stream hole": the connection is closed.
    let serial = c.send_call(208, &VolStreamArgs { flags: 0, ..args });
    c.reply(serial).expect("the upload opens");
    c.send(
        &Header::remote(208, Type::StreamHole, serial, Status::Continue),
        &qvirt::transport::libvirt::xdr::to_bytes(&StreamHole {
            length: 4096,
            flags: 0,
        }),
    );
    match c.read() {
        Got::Msg(h, body) => {
            assert_eq!(h.status, Status::Error, "{h:?}");
            let e = RemoteError::decode(&body).unwrap();
            assert!(e.message.unwrap().contains("Unexpected stream hole"));
        }
        Got::Closed => {}
    }
    assert!(matches!(c.read(), Got::Closed));
    assert!(std::fs::read(&file).unwrap() == want, "nothing changed");
}
