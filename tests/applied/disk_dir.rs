//! `<disk type='dir'>`: QEMU's vvfat makes a read-only FAT file system
//! of a host directory, for a floppy (FAT12, no partition table) and a
//! hard disk (FAT16 in a partition). The test exports each drive's
//! block node over NBD from the running QEMU, copies its first sectors
//! with `qemu-img dd`, and reads the FAT root directory itself: the
//! directory's files, with their contents.

use std::path::Path;

use serde_json::json;

use crate::disk_sources::qmp;
use crate::support::{State, firmware_vm, qemus_under};

fn u16le(b: &[u8], at: usize) -> usize {
    usize::from(u16::from_le_bytes([b[at], b[at + 1]]))
}

fn u32le(b: &[u8], at: usize) -> usize {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]) as usize
}

/// The FAT type label and the files of the root directory of a FAT12 or
/// FAT16 image (behind an MBR partition table if it has one), by 8.3
/// name; each file's first cluster holds all of it.
fn fat_root(img: &[u8]) -> (String, Vec<(String, Vec<u8>)>) {
    let bpb = |at: usize| img[at + 54..at + 59].starts_with(b"FAT1");
    let base = if bpb(0) { 0 } else { u32le(img, 0x1c6) * 512 };
    assert!(bpb(base), "no FAT12/FAT16 boot sector");
    let bs = &img[base..];
    assert_eq!(&bs[510..512], &[0x55, 0xaa], "no boot sector signature");
    let label = String::from_utf8_lossy(&bs[54..62]).trim().to_string();
    let (bps, spc) = (u16le(bs, 11), usize::from(bs[13]));
    let (reserved, fats, entries, spf) = (
        u16le(bs, 14),
        usize::from(bs[16]),
        u16le(bs, 17),
        u16le(bs, 22),
    );
    let root = base + (reserved + fats * spf) * bps;
    let data = root + (entries * 32).div_ceil(bps) * bps;
    let mut files = Vec::new();
    for e in img[root..root + entries * 32].chunks(32) {
        if e[0] == 0 {
            break;
        }
        let attr = e[11];
        if e[0] == 0xe5 || attr == 0x0f || attr & 0x18 != 0 {
            continue;
        }
        let part = |b: &[u8]| String::from_utf8_lossy(b).trim_end().to_string();
        let name = format!("{}.{}", part(&e[0..8]), part(&e[8..11]));
        let (cluster, size) = (u16le(e, 26), u32le(e, 28));
        let at = data + (cluster - 2) * spc * bps;
        files.push((name, img[at..at + size].to_vec()));
    }
    (label, files)
}

/// The first `sectors` sectors of block node `node` of the running
/// domain, exported over NBD on `socket` and copied by `qemu-img dd`.
fn node_head(
    d: &dyn qvirt::Driver,
    dom: &qvirt::Domain,
    dir: &Path,
    node: &str,
    sectors: usize,
) -> Vec<u8> {
    let socket = dir.join("nbd.sock");
    qmp(
        d,
        dom,
        "block-export-add",
        json!({"type": "nbd", "id": node, "node-name": node, "name": node}),
    );
    let out = dir.join(format!("{node}.head"));
    crate::support::qemu_img(&[
        "dd",
        "-f",
        "raw",
        "-O",
        "raw",
        "bs=512",
        &format!("count={sectors}"),
        &format!("if=nbd+unix:///{node}?socket={}", socket.display()),
        &format!("of={}", out.display()),
    ]);
    qmp(d, dom, "block-export-del", json!({"id": node}));
    std::fs::read(&out).unwrap()
}

#[test]
fn a_directory_disk_is_a_fat_file_system_of_its_files() {
    let st = State::new("disk-dir");
    let share = st.root().join("share");
    std::fs::create_dir_all(&share).unwrap();
    std::fs::write(share.join("HELLO.TXT"), "hello from the host\n").unwrap();
    std::fs::write(share.join("DATA.BIN"), vec![0x5au8; 3000]).unwrap();
    let drive = |kind: &str, dev: &str, bus: &str| {
        format!(
            "<disk type='dir' device='{kind}'>
      <driver name='qemu' type='fat'/>
      <source dir='{}'/>
      <target dev='{dev}' bus='{bus}'/>
      <readonly/>
    </disk>",
            share.display()
        )
    };
    let xml = firmware_vm(
        "dirfat",
        "",
        &(drive("floppy", "fda", "fdc") + &drive("disk", "vda", "virtio")),
    );
    let d = st.driver();
    let dom = d.define_xml(&xml).unwrap();
    d.start(&dom).unwrap();
    let block = qmp(&*d, &dom, "query-block", json!({}));
    for dev in ["fdc0-0-0", "virtio-disk0"] {
        let b = qvirt::qemu::qmp::device_entry(&block, dev).unwrap()["inserted"].clone();
        assert_eq!(
            (b["drv"].as_str(), b["ro"].as_bool()),
            (Some("vvfat"), Some(true)),
            "{b}"
        );
    }
    qmp(
        &*d,
        &dom,
        "nbd-server-start",
        json!({"addr": {"type": "unix",
                        "data": {"path": st.root().join("nbd.sock")}}}),
    );
    let want = [
        ("DATA.BIN".to_string(), vec![0x5au8; 3000]),
        ("HELLO.TXT".to_string(), b"hello from the host\n".to_vec()),
    ];
    for (node, sectors, fat) in [
        ("fdc0-0-0-storage", 2880, "FAT12"),
        ("virtio-disk0-storage", 4096, "FAT16"),
    ] {
        let (label, mut files) = fat_root(&node_head(&*d, &dom, st.root(), node, sectors));
        assert_eq!(label, fat, "{node}");
        files.sort();
        assert_eq!(files, want, "{node}");
    }
    d.destroy(&dom).unwrap();
    // A directory that is not there: refused before QEMU runs.
    std::fs::remove_dir_all(&share).unwrap();
    let e = d.start(&dom).unwrap_err();
    assert!(e.message.contains("floppy fda"), "{e}");
    assert!(qemus_under(st.root()).is_empty());
}
