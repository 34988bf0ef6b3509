//! Bytes of a domain's disk and memory through libvirt's protocol, with
//! unmodified python3-libvirt 9.0 against a `qvirtd --root DIR`:
//! `blockPeek` reads a raw image's bytes (written there by the test),
//! refuses another format and a read past the end as libvirt does;
//! `memoryPeek` gives the running guest's memory, physical and virtual,
//! checked against what QEMU's own monitor shows at the same address
//! (`xp`), and leaves no file behind in the run directory.

#[allow(dead_code, unused_imports)]
#[path = "daemon/support.rs"]
mod support;

#[path = "libvirt/lv.rs"]
mod lv;

use std::io::{Seek, SeekFrom, Write};
use std::process::Command;

use lv::*;
use qvirt::transport::libvirt::frame::code;
use qvirt::transport::libvirt::types::{BlockPeekArgs, Dom};
use support::*;

/// The bytes QEMU's human monitor `command` (`xp /16bx ADDR`) prints.
fn monitor_bytes(s: &std::path::Path, dom: &str, command: &str) -> Vec<u8> {
    let json = format!(
        r#"{{"execute":"human-monitor-command","arguments":{{"command-line":"{command}"}}}}"#
    );
    let out = virsh_ok(s, &["qemu-monitor-command", dom, &json]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let text = v["return"].as_str().unwrap().to_string();
    text.lines()
        .filter_map(|l| l.split_once(": "))
        .flat_map(|(_, v)| v.split_whitespace())
        .map(|b| u8::from_str_radix(b.trim_start_matches("0x"), 16).unwrap())
        .collect()
}

/// Runs `script` with python3-libvirt on `s`; its standard output.
fn python(s: &std::path::Path, script: &str) -> String {
    let out = Command::new(PYTHON)
        .args(["-c", script, &uri(s)])
        .output()
        .expect("run python3");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn block_and_memory_peek_read_the_disk_and_the_guest() {
    let dir = TestDir::new("lvpeek");
    let _daemon = Daemon::start(&dir.path, &["--read-only-socket"]);
    let s = &lv_socket(&dir.path);
    let raw = dir.path.join("a.img");
    let mut f = std::fs::File::create(&raw).unwrap();
    f.set_len(1 << 20).unwrap();
    f.seek(SeekFrom::Start(4096)).unwrap();
    f.write_all(b"QVIRT-PEEK-MARK").unwrap();
    drop(f);
    let qcow = dir.path.join("b.qcow2");
    let out = Command::new("qemu-img")
        .args(["create", "-q", "-f", "qcow2"])
        .arg(&qcow)
        .arg("1M")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let xml = firmware_vm("pk").replace(
        "<devices>",
        &format!(
            "<devices><disk type='file' device='disk'><driver name='qemu' type='raw'/>\
             <source file='{}'/><target dev='vda' bus='virtio'/></disk>\
             <disk type='file' device='disk'><driver name='qemu' type='qcow2'/>\
             <source file='{}'/><target dev='vdb' bus='virtio'/></disk>",
            raw.display(),
            qcow.display()
        ),
    );
    virsh_define(s, &dir.path, "pk.xml", &xml);

    let script = format!(
        "import libvirt, sys\n\
         d = libvirt.open(sys.argv[1]).lookupByName('pk')\n\
         print(d.blockPeek('vda', 4096, 15, 0))\n\
         print(d.blockPeek('{}', 4095, 3, 0))\n\
         for disk, offset in (('vda', (1 << 20) - 4), ('vdb', 0)):\n\
         \x20   try:\n\
         \x20       d.blockPeek(disk, offset, 8, 0)\n\
         \x20   except libvirt.libvirtError as e:\n\
         \x20       print(e.get_error_code(), e.get_error_message())\n\
         try:\n\
         \x20   d.memoryPeek(0, 16, libvirt.VIR_MEMORY_PHYSICAL)\n\
         except libvirt.libvirtError as e:\n\
         \x20   print(e.get_error_code(), e.get_error_message())\n",
        raw.display()
    );
    let out = python(s, &script);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "b'QVIRT-PEEK-MARK'", "{out}");
    assert_eq!(lines[1], "b'\\x00QV'", "{out}");
    // VIR_ERR_INVALID_ARG (8), VIR_ERR_NO_SUPPORT (3), VIR_ERR_OPERATION_INVALID (55).
    assert!(
        lines[2].starts_with("8 ")
            && lines[2].contains("'vda' starting from 1048572 has only 4 bytes available"),
        "{out}"
    );
    assert!(
        lines[3].contains("peeking is only supported for disk with 'raw' format not 'qcow2'"),
        "{out}"
    );
    assert!(
        lines[4].starts_with("55 ") && lines[4].contains("not running"),
        "{out}"
    );

    // Running (paused before its first instruction, so that the memory
    // stands still): the guest's memory as QEMU's monitor shows it, at
    // the reset vector.
    virsh_ok(s, &["start", "pk", "--paused"]);
    let want_phys = monitor_bytes(s, "pk", "xp /16bx 0xffff0");
    assert_eq!(want_phys.len(), 16, "{want_phys:?}");
    let out = python(
        s,
        "import libvirt, sys\n\
         d = libvirt.open(sys.argv[1]).lookupByName('pk')\n\
         print(list(d.memoryPeek(0xffff0, 16, libvirt.VIR_MEMORY_PHYSICAL)))\n\
         print(list(d.memoryPeek(0xffff0, 16, libvirt.VIR_MEMORY_VIRTUAL)))\n\
         try:\n\
         \x20   d.memoryPeek(0xffff0, 16, 0)\n\
         except libvirt.libvirtError as e:\n\
         \x20   print(e.get_error_code(), e.get_error_message())\n",
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], format!("{want_phys:?}"), "{out}");
    // The firmware runs in real mode: virtual addresses are physical.
    assert_eq!(lines[1], format!("{want_phys:?}"), "{out}");
    assert!(
        lines[2].contains("flags parameter must be VIR_MEMORY_VIRTUAL or VIR_MEMORY_PHYSICAL"),
        "{out}"
    );
    let left: Vec<_> = std::fs::read_dir(run_dir_of(&dir.path, "pk"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("qemu.mem."))
        .collect();
    assert!(left.is_empty(), "{left:?}");

    // A read-only connection may not peek (libvirt's rule), at the daemon too.
    let uuid = virsh_ok(s, &["domuuid", "pk"]).trim().parse().unwrap();
    let mut r = Raw::connect(&lv_socket_ro(&dir.path));
    r.open(false, 0);
    let args = BlockPeekArgs {
        dom: Dom {
            name: "pk".into(),
            uuid,
            id: -1,
        },
        path: "vda".into(),
        offset: 0,
        size: 4,
        flags: 0,
    };
    assert_eq!(r.call(103, &args).unwrap_err().code, code::OPERATION_DENIED);
    virsh_ok(s, &["destroy", "pk"]);
}
