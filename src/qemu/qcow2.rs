//! Writes the empty qcow2 overlay of an image directly, the file
//! `qemu-img create -f qcow2 -F FORMAT -b BACKING -u OVERLAY SIZE` of
//! QEMU 7.2 writes, byte for byte, without starting a process: an
//! external snapshot makes one per disk while the guest runs, and a
//! qemu-img process costs more than all the rest of the snapshot.
//!
//! The layout (see QEMU's `docs/interop/qcow2.txt`), with qemu-img's
//! defaults: version 3 (compat 1.1), 64 KiB clusters, 16-bit reference
//! counts, zlib compression, no lazy refcounts, no extended L2 entries,
//! no encryption, no preallocation. Cluster 0 holds the header, the
//! backing format extension, the feature name table and the backing
//! file's name; cluster 1 the reference count table (one entry),
//! cluster 2 its one reference count block; from cluster 3 the L1 table,
//! all zeros (nothing allocated: every read goes to the backing file).
//!
//! Anything else (volumes, a different cluster size or option, an image
//! without a backing file) is qemu-img's, in [`super::img`]. Knows
//! nothing of the manager.

use std::fs::{File, OpenOptions};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use crate::error::{Error, ErrorCode, Result};
use crate::model::VolumeFormat;

/// log2 of the cluster size (64 KiB, qemu-img's default).
const CLUSTER_BITS: u32 = 16;
/// The cluster size, bytes.
const CLUSTER: u64 = 1 << CLUSTER_BITS;
/// Bytes of guest data one L1 entry maps: one L2 table of
/// `CLUSTER / 8` entries, each a cluster.
const L1_SPAN: u64 = (CLUSTER / 8) * CLUSTER;
/// The longest backing file name QEMU accepts (it refuses longer ones).
pub const MAX_BACKING_NAME: usize = 1023;
/// The largest L1 table QEMU opens (`QCOW_MAX_L1_SIZE`, 32 MiB): with
/// 64 KiB clusters, a virtual size of 2 PiB.
const MAX_L1_BYTES: u64 = 32 << 20;
/// The largest virtual size this writer makes, bytes.
pub const MAX_SIZE: u64 = MAX_L1_BYTES / 8 * L1_SPAN;

/// Header extension: the backing file's format.
const EXT_BACKING_FORMAT: u32 = 0xe279_2aca;
/// Header extension: the names of the feature bits.
const EXT_FEATURE_TABLE: u32 = 0x6803_f857;
/// The feature name table qemu-img 7.2 writes: (type, bit, name), type
/// 0 incompatible, 1 compatible, 2 autoclear.
const FEATURES: [(u8, u8, &str); 8] = [
    (0, 0, "dirty bit"),
    (0, 1, "corrupt bit"),
    (0, 2, "external data file"),
    (0, 3, "compression type"),
    (0, 4, "extended L2 entries"),
    (1, 0, "lazy refcounts"),
    (2, 0, "bitmaps"),
    (2, 1, "raw external data"),
];
/// The length of the fixed header of version 3 with its compression
/// type byte, padded to 8: `header_length`.
const HEADER_LENGTH: u32 = 112;

/// The bytes of an overlay: `(offset, bytes)` pieces, the rest of the
/// file zeros, and the file's length.
struct Image {
    pieces: Vec<(u64, Vec<u8>)>,
    len: u64,
}

/// Lays out the overlay of `size` bytes over `backing` in `format`.
/// `size` is rounded up to 512 bytes, as qemu-img does.
fn layout(backing: &[u8], format: VolumeFormat, size: u64) -> Result<Image> {
    if backing.is_empty() || backing.len() > MAX_BACKING_NAME {
        return Err(Error::new(
            ErrorCode::InvalidArgument,
            format!(
                "a qcow2 backing file name has 1 to {MAX_BACKING_NAME} bytes, not {}",
                backing.len()
            ),
        ));
    }
    if size > MAX_SIZE {
        return Err(Error::new(
            ErrorCode::InvalidArgument,
            format!("a qcow2 image of {size} bytes is larger than QEMU opens ({MAX_SIZE})"),
        ));
    }
    let size = size.div_ceil(512) * 512;
    let l1_size = size.div_ceil(L1_SPAN);
    let l1_bytes = l1_size * 8;
    let l1_clusters = l1_bytes.div_ceil(CLUSTER);
    let l1_offset = if l1_size == 0 { 0 } else { 3 * CLUSTER };

    let mut h = Vec::with_capacity(1024 + backing.len());
    let be32 = |h: &mut Vec<u8>, v: u32| h.extend_from_slice(&v.to_be_bytes());
    let be64 = |h: &mut Vec<u8>, v: u64| h.extend_from_slice(&v.to_be_bytes());
    be32(&mut h, 0x5146_49fb); // magic "QFI\xfb"
    be32(&mut h, 3); // version
    let backing_offset_at = h.len();
    be64(&mut h, 0); // backing_file_offset, set below
    be32(&mut h, backing.len() as u32);
    be32(&mut h, CLUSTER_BITS);
    be64(&mut h, size);
    be32(&mut h, 0); // crypt_method
    be32(&mut h, l1_size as u32);
    be64(&mut h, l1_offset);
    be64(&mut h, CLUSTER); // refcount_table_offset
    be32(&mut h, 1); // refcount_table_clusters
    be32(&mut h, 0); // nb_snapshots
    be64(&mut h, 0); // snapshots_offset
    be64(&mut h, 0); // incompatible_features
    be64(&mut h, 0); // compatible_features
    be64(&mut h, 0); // autoclear_features
    be32(&mut h, 4); // refcount_order: 16-bit reference counts
    be32(&mut h, HEADER_LENGTH);
    h.resize(HEADER_LENGTH as usize, 0); // compression_type zlib, padding

    let fmt = format.as_str().as_bytes();
    be32(&mut h, EXT_BACKING_FORMAT);
    be32(&mut h, fmt.len() as u32);
    h.extend_from_slice(fmt);
    h.resize(h.len().next_multiple_of(8), 0);

    be32(&mut h, EXT_FEATURE_TABLE);
    be32(&mut h, (FEATURES.len() * 48) as u32);
    for (kind, bit, name) in FEATURES {
        h.extend_from_slice(&[kind, bit]);
        let mut field = [0u8; 46];
        field[..name.len()].copy_from_slice(name.as_bytes());
        h.extend_from_slice(&field);
    }
    be64(&mut h, 0); // end of the extensions

    let backing_offset = h.len() as u64;
    h[backing_offset_at..backing_offset_at + 8].copy_from_slice(&backing_offset.to_be_bytes());
    h.extend_from_slice(backing);

    // One reference count block covers CLUSTER / 2 clusters: far more
    // than the header, the table, the block and the largest L1 table.
    let used = 3 + l1_clusters;
    let refcounts: Vec<u8> = (0..used).flat_map(|_| 1u16.to_be_bytes()).collect();
    Ok(Image {
        pieces: vec![
            (0, h),
            (CLUSTER, (2 * CLUSTER).to_be_bytes().to_vec()),
            (2 * CLUSTER, refcounts),
        ],
        len: if l1_size == 0 {
            3 * CLUSTER
        } else {
            l1_offset + l1_bytes
        },
    })
}

/// Makes the empty qcow2 overlay `path` of `size` bytes (rounded up to
/// 512) over `backing` (recorded as given, with its `format`), as
/// `qemu-img create -u` does, and makes it durable (fsync of the file
/// and of its directory). The file is created exclusively (an existing
/// one is an error and stays as it was), mode 0644 less the umask as
/// qemu-img's; on any error after that it is removed, so no
/// half-written overlay stays.
pub fn create_overlay(path: &Path, backing: &Path, format: VolumeFormat, size: u64) -> Result<()> {
    write_overlay(path, backing, format, size)?.sync()
}

/// An overlay [`write_overlay`] wrote, not yet durable.
#[derive(Debug)]
pub struct Unsynced {
    file: File,
    path: PathBuf,
}

impl Unsynced {
    /// The overlay's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Makes the overlay durable: its data, and its name in its
    /// directory (definitions will name it, so it must outlive a power
    /// loss as they do). When that fails, removes it.
    pub fn sync(self) -> Result<()> {
        let parent = match self.path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let synced = self.file.sync_all().and_then(|()| {
            let dir = crate::sys::fsutil::open_dir_nofollow(parent)?;
            nix::unistd::fsync(&dir).map_err(std::io::Error::from)
        });
        synced.map_err(|e| {
            let _ = std::fs::remove_file(&self.path);
            Error::io(format!("cannot write {}", self.path.display()), e)
        })
    }
}

/// [`create_overlay`] without its fsync, which [`Unsynced::sync`] does
/// (another thread may do it while the overlay is put to use: QEMU
/// reads it from the page cache). Dropping the result leaves the file
/// as it is, whole but perhaps not on the disk yet.
pub fn write_overlay(
    path: &Path,
    backing: &Path,
    format: VolumeFormat,
    size: u64,
) -> Result<Unsynced> {
    let image = layout(backing.as_os_str().as_bytes(), format, size)?;
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o644)
        .custom_flags(nix::libc::O_CLOEXEC | nix::libc::O_NOFOLLOW)
        .open(path)
        .map_err(|e| Error::io(format!("cannot create {}", path.display()), e))?;
    match write_image(&file, &image) {
        Ok(()) => Ok(Unsynced {
            file,
            path: path.to_path_buf(),
        }),
        Err(e) => {
            drop(file);
            let _ = std::fs::remove_file(path);
            Err(Error::io(format!("cannot write {}", path.display()), e))
        }
    }
}

/// The virtual size a qcow2 image's header states (bytes 24..32), read
/// without QEMU or qemu-img: `None` when `path` cannot be read or is not
/// a qcow2 image.
pub fn header_size(path: &Path) -> Option<u64> {
    let file = File::open(path).ok()?;
    let mut head = [0u8; 32];
    file.read_exact_at(&mut head, 0).ok()?;
    if head[..4] != *b"QFI\xfb" {
        return None;
    }
    Some(u64::from_be_bytes(head[24..32].try_into().ok()?))
}

/// Writes `image` into the new, empty `file`.
fn write_image(file: &File, image: &Image) -> std::io::Result<()> {
    file.set_len(image.len)?;
    for (offset, bytes) in &image.pieces {
        file.write_all_at(bytes, *offset)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::qemu::img;
    use std::path::PathBuf;
    use std::process::Command;

    /// A fresh directory for one test.
    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("qvirt-qcow2-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// Runs `qemu-img ARGS`, which must succeed; its standard output.
    fn qemu_img(args: &[&std::ffi::OsStr]) -> String {
        let out = Command::new(img::binary()).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "qemu-img {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    const SIZES: [u64; 9] = [
        0,
        1,
        1000,
        65536 + 512,
        64 << 20,
        (512 << 20) + 1,
        1 << 40,
        (4 << 40) + 512,
        256 << 40,
    ];

    #[test]
    fn the_overlay_is_the_file_qemu_img_writes() {
        let dir = scratch("same");
        let odd = dir.join("a b,c:d'e\"f\\g=h?é\n[i].raw");
        std::fs::write(&odd, b"").unwrap();
        let backings = [
            (dir.join("base.qcow2"), VolumeFormat::Qcow2),
            (odd, VolumeFormat::Raw),
            // Recorded as given: qemu-img -u keeps a relative name.
            (PathBuf::from("base.qcow2"), VolumeFormat::Qcow2),
            (
                PathBuf::from(format!("/{}", "x".repeat(MAX_BACKING_NAME - 1))),
                VolumeFormat::Raw,
            ),
        ];
        for (backing, format) in &backings {
            for size in SIZES {
                let ours = dir.join("ours.qcow2");
                let theirs = dir.join("theirs.qcow2");
                create_overlay(&ours, backing, *format, size).unwrap();
                qemu_img(&[
                    "create".as_ref(),
                    "-q".as_ref(),
                    "-f".as_ref(),
                    "qcow2".as_ref(),
                    "-F".as_ref(),
                    format.as_str().as_ref(),
                    "-b".as_ref(),
                    backing.as_os_str(),
                    "-u".as_ref(),
                    theirs.as_os_str(),
                    size.to_string().as_ref(),
                ]);
                let (a, b) = (
                    std::fs::read(&ours).unwrap(),
                    std::fs::read(&theirs).unwrap(),
                );
                assert_eq!(a.len(), b.len(), "length, size {size}, backing {backing:?}");
                let first = a.iter().zip(&b).position(|(x, y)| x != y);
                assert_eq!(
                    first, None,
                    "first difference, size {size}, backing {backing:?}"
                );
                std::fs::remove_file(&ours).unwrap();
                std::fs::remove_file(&theirs).unwrap();
            }
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn qemu_reads_and_writes_through_the_overlay() {
        let dir = scratch("io");
        let base = dir.join("base.raw");
        std::fs::write(&base, vec![0x5au8; 3 << 20]).unwrap();
        let overlay = dir.join("top.qcow2");
        create_overlay(&overlay, &base, VolumeFormat::Raw, 3 << 20).unwrap();
        // What qvirt used to run (qemu-img opening the backing file to
        // check it) makes the same bytes.
        let theirs = dir.join("theirs.qcow2");
        let opts = img::CreateOptions {
            backing: Some((base.clone(), VolumeFormat::Raw)),
            ..img::CreateOptions::default()
        };
        img::create(&theirs, VolumeFormat::Qcow2, 3 << 20, &opts).unwrap();
        assert!(std::fs::read(&theirs).unwrap() == std::fs::read(&overlay).unwrap());
        let info = img::info(&overlay, VolumeFormat::Qcow2, false).unwrap();
        assert_eq!(info.virtual_size, 3 << 20);
        assert_eq!(
            info.backing,
            Some((base.display().to_string(), Some("raw".to_string())))
        );
        img::check(&overlay, VolumeFormat::Qcow2, false).unwrap();
        // QEMU's block layer: the base shows through, a write lands in
        // the overlay and reads back, the base keeps its bytes.
        let io = qemu_img_io(&overlay, &["read -P 0x5a 0 3M", "write -P 0xc3 1M 64k"]);
        assert!(io.contains("wrote 65536/65536"), "{io}");
        let io = qemu_img_io(
            &overlay,
            &[
                "read -P 0x5a 0 1M",
                "read -P 0xc3 1M 64k",
                "read -P 0x5a 1088k 1984k",
            ],
        );
        assert_eq!(io.matches("read ").count(), 3, "{io}");
        img::check(&overlay, VolumeFormat::Qcow2, false).unwrap();
        assert!(std::fs::read(&base).unwrap().iter().all(|&b| b == 0x5a));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Runs `qemu-io` commands on the qcow2 image `path`; its output,
    /// which says `Pattern verification failed` when a read differs.
    fn qemu_img_io(path: &Path, cmds: &[&str]) -> String {
        let mut c = Command::new("qemu-io");
        c.args(["-f", "qcow2"]);
        for cmd in cmds {
            c.args(["-c", cmd]);
        }
        let out = c.arg(path).output().expect("qemu-io (qemu-utils)");
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{text}");
        assert!(!text.contains("failed"), "{text}");
        text
    }

    #[test]
    fn an_existing_file_is_left_alone() {
        let dir = scratch("exists");
        let path = dir.join("taken.qcow2");
        std::fs::write(&path, b"keep me").unwrap();
        let e = create_overlay(&path, Path::new("/b.raw"), VolumeFormat::Raw, 1 << 20).unwrap_err();
        assert_eq!(e.code, ErrorCode::Io, "{e}");
        assert!(e.message.contains("cannot create"), "{e}");
        assert_eq!(std::fs::read(&path).unwrap(), b"keep me");
        // A symlink under the name is not followed either.
        let link = dir.join("link.qcow2");
        std::os::unix::fs::symlink(dir.join("nowhere"), &link).unwrap();
        create_overlay(&link, Path::new("/b.raw"), VolumeFormat::Raw, 1 << 20).unwrap_err();
        assert!(!dir.join("nowhere").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Set in the child [`a_failed_write_leaves_no_file`] runs: the
    /// directory to write in.
    const FSIZE_CHILD: &str = "QVIRT_QCOW2_FSIZE_CHILD";

    #[test]
    fn a_failed_write_leaves_no_file() {
        use nix::sys::resource::{Resource, getrlimit, setrlimit};
        use nix::sys::signal::{SigHandler, Signal, signal};
        let name = "qemu::qcow2::tests::a_failed_write_leaves_no_file";
        if let Some(dir) = std::env::var_os(FSIZE_CHILD) {
            // The child: files may not grow past 100 KB, so the overlay
            // (196,616 bytes) cannot be written; the write fails with
            // EFBIG instead of the signal killing the process.
            // SAFETY: ignoring a signal installs no handler code; this
            // process runs only this test.
            #[allow(unsafe_code)]
            unsafe { signal(Signal::SIGXFSZ, SigHandler::SigIgn) }.unwrap();
            let (_, hard) = getrlimit(Resource::RLIMIT_FSIZE).unwrap();
            setrlimit(Resource::RLIMIT_FSIZE, 100_000, hard).unwrap();
            let path = Path::new(&dir).join("big.qcow2");
            let e = create_overlay(&path, Path::new("/b.raw"), VolumeFormat::Raw, 64 << 20)
                .unwrap_err();
            assert_eq!(e.code, ErrorCode::Io, "{e}");
            assert!(e.message.contains("cannot write"), "{e}");
            println!("child: {e}");
            return;
        }
        let dir = scratch("efbig");
        let out = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", name, "--nocapture", "--test-threads=1"])
            .env(FSIZE_CHILD, &dir)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{text}");
        assert!(text.contains("child: cannot write"), "{text}");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn what_qemu_refuses_is_refused_before_any_file() {
        let dir = scratch("refused");
        let path = dir.join("o.qcow2");
        let long = PathBuf::from(format!("/{}", "x".repeat(MAX_BACKING_NAME)));
        for (backing, size) in [
            (long.as_path(), 1 << 20),
            (Path::new(""), 1 << 20),
            (Path::new("/b.raw"), MAX_SIZE + 1),
        ] {
            let e = create_overlay(&path, backing, VolumeFormat::Raw, size).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidArgument, "{e}");
            assert!(!path.exists());
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
