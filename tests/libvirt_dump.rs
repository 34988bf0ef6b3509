//! Core dumps of a running guest (virsh's `dump`, python3-libvirt's
//! `coreDump` and `coreDumpWithFormat`, `qvirt dump`) against a `qvirtd
//! --root DIR`, with unmodified virsh 9.0 and python3-libvirt 9.0
//! (Debian's). What the dump holds is checked against the guest: a
//! marker the Linux test guest keeps in its memory is in the ELF and the
//! whole-state dumps, each file has its format's signature, the guest
//! runs on after a dump, is stopped as crashed by `--crash` and boots
//! again after `--reset`; refusals leave no file.

#[allow(dead_code, unused_imports)]
#[path = "daemon/support.rs"]
mod support;

#[path = "libvirt/lv.rs"]
mod lv;

#[path = "libvirt/guest_shell.rs"]
mod guest_shell;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use guest_shell::Guest;
use lv::*;
use support::*;

const BOOT: Duration = Duration::from_secs(180);
const QUICK: Duration = Duration::from_secs(30);

/// Whether `file` holds `needle` anywhere.
fn holds(file: &Path, needle: &str) -> bool {
    let bytes = std::fs::read(file).unwrap();
    bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// The first bytes of `file`.
fn head(file: &Path, n: usize) -> Vec<u8> {
    std::fs::read(file).unwrap()[..n].to_vec()
}

#[test]
fn dumps_hold_the_guests_memory_and_leave_it_as_asked() {
    let dir = TestDir::new("lvdump");
    let _daemon = Daemon::start(&dir.path, &[]);
    let qvirt = _daemon.connect();
    let s = &lv_socket(&dir.path);
    let xml = linux_vm("lx-dump");
    let f = write_file(&dir.path, "lx.xml", &xml);
    virsh_ok(s, &["define", f.to_str().unwrap()]);
    // A shut-off domain has nothing to dump, and no file is left.
    let none = dir.path.join("none.core");
    let e = virsh_err(s, &["dump", "lx-dump", none.to_str().unwrap()]);
    assert!(e.contains("shut off"), "{e}");
    assert!(!none.exists());
    virsh_ok(s, &["start", "lx-dump"]);
    let dom = qvirt.lookup_by_name("lx-dump").unwrap();
    let mut guest = Guest::open(&*qvirt, &dom);
    // A marker only the guest's memory holds (its root file system is
    // the initramfs, in RAM), written as two halves.
    let marker = format!("QVIRT-DUMP-{}-MARK", std::process::id());
    let (a, b) = marker.split_at(10);
    guest.run(&format!("echo {a}''{b} > /marker"));

    // virsh, memory only: an ELF core holding the marker; the guest runs.
    let elf = dir.path.join("lx.elf");
    virsh_ok(
        s,
        &["dump", "--memory-only", "lx-dump", elf.to_str().unwrap()],
    );
    assert_eq!(head(&elf, 4), b"\x7fELF");
    assert!(holds(&elf, &marker), "the marker is in the ELF dump");
    assert_eq!(virsh_ok(s, &["domstate", "lx-dump"]).trim(), "running");
    assert_eq!(guest.run("cat /marker"), marker);
    // kdump's compressed format, which QEMU writes in makedumpfile's
    // flattened form (the `makedumpfile` signature; the crash utility
    // reads it after `makedumpfile -R`).
    let kdump = dir.path.join("lx.kdump");
    virsh_ok(
        s,
        &[
            "dump",
            "--memory-only",
            "--format",
            "kdump-zlib",
            "lx-dump",
            kdump.to_str().unwrap(),
        ],
    );
    assert_eq!(head(&kdump, 12), b"makedumpfile");

    // python3-libvirt: a live whole-state dump is QEMU's migration
    // stream, with the marker; a kdump format without memory-only and
    // both crash and reset are refused, leaving no file.
    let raw = dir.path.join("lx.raw");
    let bad = dir.path.join("bad.core");
    let script = "import libvirt, sys\n\
        d = libvirt.open(sys.argv[1]).lookupByName('lx-dump')\n\
        d.coreDump(sys.argv[2], libvirt.VIR_DUMP_LIVE)\n\
        for fmt, flags in ((libvirt.VIR_DOMAIN_CORE_DUMP_FORMAT_KDUMP_ZLIB, 0), (0, libvirt.VIR_DUMP_CRASH | libvirt.VIR_DUMP_RESET)):\n\
        \x20   try:\n\
        \x20       d.coreDumpWithFormat(sys.argv[3], fmt, flags)\n\
        \x20       print('dumped')\n\
        \x20   except libvirt.libvirtError as e:\n\
        \x20       print('refused:', e.get_error_message())\n\
        print(d.state()[0] == libvirt.VIR_DOMAIN_RUNNING)\n";
    let text = python_ok(script, &[uri(s).as_ref(), raw.as_ref(), bad.as_ref()]);
    assert!(
        text.contains("refused: kdump-compressed format is only supported with memory-only dump"),
        "{text}"
    );
    // (libvirt's client library refuses the second itself.)
    assert!(
        text.contains("VIR_DUMP_RESET' are mutually exclusive"),
        "{text}"
    );
    assert!(text.trim_end().ends_with("True"), "{text}");
    assert!(!bad.exists());
    assert_eq!(head(&raw, 4), b"QEVM");
    assert!(
        holds(&raw, &marker),
        "the marker is in the whole-state dump"
    );
    assert_eq!(guest.run("cat /marker"), marker);

    // qvirt's own command, over qvirt's protocol.
    let q = dir.path.join("q.elf");
    let out = Command::new(env!("CARGO_BIN_EXE_qvirt"))
        .arg("-c")
        .arg(format!(
            "qemu+unix:///session?socket={}",
            dir.path.join("run/qvirt-sock").display()
        ))
        .args(["dump", "--memory-only", "lx-dump"])
        .arg(&q)
        .output()
        .expect("run qvirt");
    assert!(out.status.success(), "{out:?}");
    assert!(holds(&q, &marker));

    // --reset: the guest boots again, from a fresh initramfs.
    virsh_ok(
        s,
        &[
            "dump",
            "--reset",
            "lx-dump",
            dir.path.join("r.core").to_str().unwrap(),
        ],
    );
    guest.read_until("QVIRT-GUEST-READY", BOOT, false);
    guest.read_until("guest# ", QUICK, true);
    assert_eq!(guest.run("cat /marker 2>/dev/null || echo gone"), "gone");
    // --crash: stopped as crashed.
    virsh_ok(
        s,
        &[
            "dump",
            "--crash",
            "lx-dump",
            dir.path.join("c.core").to_str().unwrap(),
        ],
    );
    assert_eq!(
        virsh_ok(s, &["domstate", "--reason", "lx-dump"]).trim(),
        "shut off (crashed)"
    );
}
