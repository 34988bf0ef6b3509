//! The definition in a save image through libvirt's protocol, with
//! unmodified virsh 9.0 and python3-libvirt 9.0 against a
//! `qvirtd --root DIR`: `save-image-dumpxml` and `managedsave-dumpxml`
//! show what a restore starts; `save-image-define` and
//! `managedsave-define` replace it, and the restored QEMU runs the new
//! definition (`-no-reboot` from `<on_reboot>destroy`, the new
//! description, paused with `--paused`); another machine's definition
//! is refused. qvirt's own verbs do the same over qvirt's protocol.

#[allow(dead_code, unused_imports)]
#[path = "daemon/support.rs"]
mod support;

#[path = "libvirt/lv.rs"]
mod lv;

use std::process::Command;

use lv::*;
use support::*;

/// Whether the QEMU of `dom` under `root` runs with argument `arg`.
fn qemu_has_arg(root: &std::path::Path, dom: &str, arg: &str) -> bool {
    let pid = qemu_pid(root, dom);
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap();
    cmdline.split(|b| *b == 0).any(|a| a == arg.as_bytes())
}

#[test]
fn a_save_images_definition_is_shown_replaced_and_restored() {
    let dir = TestDir::new("lvsaveimage");
    let daemon = Daemon::start(&dir.path, &[]);
    let s = &lv_socket(&dir.path);
    virsh_define(s, &dir.path, "si.xml", &firmware_vm("si"));
    virsh_ok(s, &["start", "si"]);
    assert!(!qemu_has_arg(&dir.path, "si", "-no-reboot"));
    let image = dir.path.join("si.save");
    let image = image.to_str().unwrap();
    virsh_ok(s, &["save", "si", image]);

    // What the image holds.
    let xml = virsh_ok(s, &["save-image-dumpxml", image]);
    assert!(xml.contains("<name>si</name>"), "{xml}");
    assert!(xml.contains("<on_reboot>restart</on_reboot>"), "{xml}");

    // Another machine is refused, and the image is left as it was.
    let other = write_file(
        &dir.path,
        "other.xml",
        &xml.replace(
            "<memory unit='KiB'>32768</memory>",
            "<memory unit='KiB'>65536</memory>",
        )
        .replace("<currentMemory unit='KiB'>32768</currentMemory>", ""),
    );
    let err = virsh_err(s, &["save-image-define", image, other.to_str().unwrap()]);
    assert!(
        err.contains("describes another machine: its memory or vCPU count differs"),
        "{err}"
    );

    // Replaced: the restore starts the new definition, paused.
    let new = xml
        .replace(
            "<on_reboot>restart</on_reboot>",
            "<on_reboot>destroy</on_reboot>",
        )
        .replace(
            "<name>si</name>",
            "<name>si</name><description>edited</description>",
        );
    let new_file = write_file(&dir.path, "new.xml", &new);
    virsh_ok(
        s,
        &[
            "save-image-define",
            image,
            new_file.to_str().unwrap(),
            "--paused",
        ],
    );
    let shown = virsh_ok(s, &["save-image-dumpxml", image]);
    assert!(
        shown.contains("<description>edited</description>"),
        "{shown}"
    );
    virsh_ok(s, &["restore", image]);
    assert!(
        qemu_has_arg(&dir.path, "si", "-no-reboot"),
        "the new on_reboot reached QEMU"
    );
    assert_eq!(virsh_ok(s, &["domstate", "si"]).trim(), "paused");
    let live = virsh_ok(s, &["dumpxml", "si"]);
    assert!(live.contains("<description>edited</description>"), "{live}");

    // The managed save image: shown and replaced by domain.
    virsh_ok(s, &["resume", "si"]);
    virsh_ok(s, &["managedsave", "si"]);
    let managed = virsh_ok(s, &["managedsave-dumpxml", "si"]);
    assert!(
        managed.contains("<description>edited</description>"),
        "{managed}"
    );
    let again = managed.replace("edited", "edited again");
    let again_file = write_file(&dir.path, "again.xml", &again);
    virsh_ok(
        s,
        &["managedsave-define", "si", again_file.to_str().unwrap()],
    );
    // python3-libvirt reads the same.
    let script = "import libvirt, sys\n\
        d = libvirt.open(sys.argv[1]).lookupByName('si')\n\
        print(d.managedSaveGetXMLDesc(0))\n";
    let out = Command::new(PYTHON)
        .args(["-c", script, &uri(s)])
        .output()
        .expect("run python3");
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("edited again"));
    virsh_ok(s, &["start", "si"]);
    let live = virsh_ok(s, &["dumpxml", "si"]);
    assert!(
        live.contains("<description>edited again</description>"),
        "{live}"
    );
    virsh_ok(s, &["destroy", "si"]);
    let err = virsh_err(s, &["managedsave-dumpxml", "si"]);
    assert!(err.contains("does not have managed save image"), "{err}");

    // qvirt's own verb over qvirt's protocol.
    let out = Command::new(env!("CARGO_BIN_EXE_qvirt"))
        .args(["-c", &daemon.uri(), "save-image-dumpxml", image])
        .output()
        .expect("run qvirt");
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("<description>edited</description>"));
}
