//! Resizing a running guest's disks (virsh's `blockresize`,
//! python3-libvirt's `blockResize`, `qvirt blockresize`) against a
//! `qvirtd --root DIR`, with unmodified virsh 9.0 and python3-libvirt
//! 9.0 (Debian's): the Linux test guest sees each disk's new size at
//! once, and the image files have it (a raw file's length, a qcow2
//! image's virtual size, rounded up to 512 bytes as libvirt rounds it).
//! A read-only disk, an unknown one, a shut-off domain and the read-only
//! socket are refused with libvirt's codes.

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

/// `qemu-img info` of `path` while QEMU holds it (`-U`).
fn virtual_size(path: &Path) -> u64 {
    let out = Command::new("qemu-img")
        .args(["info", "-U", "--output=json"])
        .arg(path)
        .output()
        .expect("run qemu-img (Debian package qemu-utils)");
    assert!(out.status.success(), "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["virtual-size"].as_u64().unwrap()
}

/// The size of the guest's disk `dev`, in bytes.
fn guest_size(g: &mut Guest, dev: &str) -> u64 {
    let out = g.run(&format!("cat /sys/block/{dev}/size"));
    out.trim()
        .parse::<u64>()
        .unwrap_or_else(|_| panic!("{out:?}"))
        * 512
}

#[test]
fn a_running_guest_sees_its_disks_resized_by_virsh_python_and_qvirt() {
    let dir = TestDir::new("lvbresize");
    let daemon = Daemon::start(&dir.path, &["--read-only-socket"]);
    let qvirt = daemon.connect();
    let s = &lv_socket(&dir.path);
    let (raw, qcow2, ro) = (
        dir.path.join("a.raw"),
        dir.path.join("b.qcow2"),
        dir.path.join("c.raw"),
    );
    for (path, format) in [(&raw, "raw"), (&qcow2, "qcow2"), (&ro, "raw")] {
        let out = Command::new("qemu-img")
            .args(["create", "-q", "-f", format])
            .arg(path)
            .arg("8M")
            .output()
            .expect("run qemu-img");
        assert!(out.status.success(), "{out:?}");
    }
    let disk = |path: &Path, format: &str, dev: &str, extra: &str| {
        format!(
            "<disk type='file' device='disk'><driver name='qemu' type='{format}'/>\
             <source file='{}'/><target dev='{dev}' bus='virtio'/>{extra}</disk>",
            path.display()
        )
    };
    let disks = [
        disk(&raw, "raw", "vda", ""),
        disk(&qcow2, "qcow2", "vdb", ""),
        disk(&ro, "raw", "vdc", "<readonly/>"),
    ]
    .concat();
    let xml = linux_vm("lx-br").replace("<devices>", &format!("<devices>{disks}"));
    let f = write_file(&dir.path, "lx.xml", &xml);
    virsh_ok(s, &["define", f.to_str().unwrap()]);
    // Shut off: nothing to resize.
    let e = virsh_err(s, &["blockresize", "lx-br", "vda", "16M"]);
    assert!(e.contains("it is shut off"), "{e}");
    virsh_ok(s, &["start", "lx-br"]);
    let dom = qvirt.lookup_by_name("lx-br").unwrap();
    let mut g = Guest::open(&*qvirt, &dom);
    assert_eq!(guest_size(&mut g, "vda"), 8 << 20);

    // virsh, by target, with a unit; then by file, a bare number in KiB.
    let out = virsh_ok(s, &["blockresize", "lx-br", "vda", "16M"]);
    assert!(out.contains("Block device 'vda' is resized"), "{out}");
    wait_for("the guest to see vda grow", QUICK, || {
        (guest_size(&mut g, "vda") == 16 << 20).then_some(())
    });
    assert_eq!(std::fs::metadata(&raw).unwrap().len(), 16 << 20);
    virsh_ok(s, &["blockresize", "lx-br", raw.to_str().unwrap(), "20480"]);
    wait_for("the guest to see vda at 20 MiB", QUICK, || {
        (guest_size(&mut g, "vda") == 20 << 20).then_some(())
    });

    // python3-libvirt, in bytes: a qcow2 size is rounded up to 512.
    let script = "import libvirt, sys\n\
        c = libvirt.open(sys.argv[1])\n\
        d = c.lookupByName('lx-br')\n\
        d.blockResize('vdb', 24 * 1024 * 1024 + 100, libvirt.VIR_DOMAIN_BLOCK_RESIZE_BYTES)\n\
        try:\n    d.blockResize('vdc', 16 * 1024, 0)\n    print('vdc resized')\n\
        except libvirt.libvirtError as e:\n    print('vdc', e.get_error_code(), e.get_error_message())\n\
        ro = libvirt.openReadOnly(sys.argv[2])\n\
        try:\n    ro.lookupByName('lx-br').blockResize('vda', 32768, 0)\n    print('ro resized')\n\
        except libvirt.libvirtError as e:\n    print('ro', e.get_error_code())\n";
    let text = python_ok(
        script,
        &[uri(s).as_ref(), uri(&lv_socket_ro(&dir.path)).as_ref()],
    );
    // VIR_ERR_OPERATION_INVALID (55) for the read-only disk, libvirt's
    // words; VIR_ERR_OPERATION_DENIED (29) on the read-only socket.
    assert!(
        text.contains("vdc 55 ") && text.contains("can't resize empty or readonly disk 'vdc'"),
        "{text}"
    );
    assert!(text.contains("ro 29"), "{text}");
    let want = (24 << 20) + 512;
    wait_for("the guest to see vdb grow", QUICK, || {
        (guest_size(&mut g, "vdb") == want).then_some(())
    });
    assert_eq!(virtual_size(&qcow2), want);
    assert_eq!(guest_size(&mut g, "vdc"), 8 << 20);
    assert_eq!(std::fs::metadata(&ro).unwrap().len(), 8 << 20);

    // qvirt's own command, over qvirt's protocol.
    let out = Command::new(env!("CARGO_BIN_EXE_qvirt"))
        .arg("-c")
        .arg(format!(
            "qemu+unix:///session?socket={}",
            dir.path.join("run/qvirt-sock").display()
        ))
        .args(["blockresize", "lx-br", "vdb", "32MiB"])
        .output()
        .expect("run qvirt");
    assert!(out.status.success(), "{out:?}");
    wait_for("the guest to see vdb at 32 MiB", QUICK, || {
        (guest_size(&mut g, "vdb") == 32 << 20).then_some(())
    });
    let e = virsh_err(s, &["blockresize", "lx-br", "vdz", "16M"]);
    assert!(e.contains("disk 'vdz' was not found"), "{e}");
    qvirt.destroy(&dom).unwrap();
}
