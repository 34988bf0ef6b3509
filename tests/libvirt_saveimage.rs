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

/// virsh's `save` and `restore` with `--paused`, `--running` and `--xml`
/// (libvirt's `virDomainSaveFlags`, `virDomainRestoreFlags`), `managedsave
/// --paused`, and python3-libvirt's `saveParams`/`restoreParams` (a save
/// without a file is a managed save) and `abortJobFlags`: each restored
/// QEMU runs or waits as asked (`query-status`) with the definition
/// given (`-no-reboot` from its `<on_reboot>destroy`); what qvirt does
/// not apply (`--bypass-cache`, the post-copy abort) is refused by name,
/// and another machine's definition before anything stops. qvirt's own
/// `save --paused` and `restore --running` do the same over qvirt's
/// protocol.
#[test]
fn save_and_restore_take_a_state_and_a_definition() {
    let dir = TestDir::new("lvsaveflags");
    let daemon = Daemon::start(&dir.path, &[]);
    let s = &lv_socket(&dir.path);
    virsh_define(s, &dir.path, "sf.xml", &firmware_vm("sf"));
    virsh_ok(s, &["start", "sf"]);
    let status = || {
        let out = virsh_ok(
            s,
            &[
                "qemu-monitor-command",
                "sf",
                r#"{"execute":"query-status"}"#,
            ],
        );
        let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
        v["return"]["status"].as_str().unwrap().to_string()
    };
    let image = dir.path.join("sf.save");
    let image = image.to_str().unwrap();
    let xml = virsh_ok(s, &["dumpxml", "sf", "--migratable"]);
    let edited = write_file(
        &dir.path,
        "edited.xml",
        &xml.replace(
            "<on_reboot>restart</on_reboot>",
            "<on_reboot>destroy</on_reboot>",
        ),
    );
    let edited = edited.to_str().unwrap();
    let other = write_file(
        &dir.path,
        "other.xml",
        &xml.replace("<vcpu placement='static'>1</vcpu>", "<vcpu>2</vcpu>"),
    );

    // Refused before anything stops.
    let err = virsh_err(s, &["save", "sf", image, "--bypass-cache"]);
    assert!(
        err.contains("VIR_DOMAIN_SAVE_BYPASS_CACHE is not supported"),
        "{err}"
    );
    let err = virsh_err(s, &["save", "sf", image, "--xml", other.to_str().unwrap()]);
    assert!(err.contains("describes another machine"), "{err}");
    assert_eq!(virsh_ok(s, &["domstate", "sf"]).trim(), "running");
    assert!(!std::path::Path::new(image).exists());

    // Saved running, to be restored paused with another on_reboot.
    virsh_ok(s, &["save", "sf", image, "--paused", "--xml", edited]);
    virsh_ok(s, &["restore", image]);
    assert_eq!(status(), "paused");
    assert!(qemu_has_arg(&dir.path, "sf", "-no-reboot"));
    virsh_ok(s, &["destroy", "sf"]);
    // The restore's own word wins over the image's.
    virsh_ok(s, &["restore", image, "--running"]);
    assert_eq!(status(), "running");
    assert!(qemu_has_arg(&dir.path, "sf", "-no-reboot"));
    virsh_ok(s, &["destroy", "sf"]);
    let original = write_file(&dir.path, "original.xml", &xml);
    virsh_ok(s, &["restore", image, "--xml", original.to_str().unwrap()]);
    assert!(!qemu_has_arg(&dir.path, "sf", "-no-reboot"));
    assert_eq!(status(), "paused");
    let err = virsh_err(s, &["restore", image, "--bypass-cache"]);
    assert!(
        err.contains("VIR_DOMAIN_SAVE_BYPASS_CACHE is not supported"),
        "{err}"
    );
    virsh_ok(s, &["resume", "sf"]);

    // managedsave --paused: the next start is paused.
    virsh_ok(s, &["managedsave", "sf", "--paused"]);
    virsh_ok(s, &["start", "sf"]);
    assert_eq!(status(), "paused");
    virsh_ok(s, &["resume", "sf"]);

    // python3-libvirt's typed-parameter calls.
    let py = |body: &str| python(s, "sf", body);
    let file = format!("{:?}", image);
    py(&format!(
        "dom.saveParams({{libvirt.VIR_DOMAIN_SAVE_PARAM_FILE: {file}}}, libvirt.VIR_DOMAIN_SAVE_PAUSED)"
    ));
    assert_eq!(virsh_ok(s, &["domstate", "sf"]).trim(), "shut off");
    py(&format!(
        "conn.restoreParams({{libvirt.VIR_DOMAIN_SAVE_PARAM_FILE: {file}}}, libvirt.VIR_DOMAIN_SAVE_RUNNING)"
    ));
    assert_eq!(status(), "running");
    py("dom.saveParams({}, libvirt.VIR_DOMAIN_SAVE_PAUSED)");
    assert!(virsh_ok(s, &["dominfo", "sf"]).contains("Managed save:   yes"));
    virsh_ok(s, &["start", "sf"]);
    assert_eq!(status(), "paused");
    assert_eq!(
        python_code(s, "sf", "conn.restoreParams({}, 0)"),
        libvirt_code("VIR_ERR_INVALID_ARG")
    );
    assert_eq!(
        python_code(
            s,
            "sf",
            "dom.abortJobFlags(libvirt.VIR_DOMAIN_ABORT_JOB_POSTCOPY)"
        ),
        libvirt_code("VIR_ERR_ARGUMENT_UNSUPPORTED")
    );
    // With no job, abortJobFlags(0) says so as abortJob does.
    assert_eq!(
        python_code(s, "sf", "dom.abortJobFlags(0)"),
        libvirt_code("VIR_ERR_OPERATION_INVALID")
    );

    // qvirt's own verbs over qvirt's protocol.
    let qvirt = |args: &[&str]| qvirt_ok(&daemon.uri(), args);
    virsh_ok(s, &["resume", "sf"]);
    qvirt(&["save", "sf", image, "--paused"]);
    qvirt(&["restore", image, "--running"]);
    assert_eq!(status(), "running");
    qvirt(&["save", "sf", image]);
    qvirt(&["restore", image, "--paused", "--xml", edited]);
    assert_eq!(status(), "paused");
    assert!(qemu_has_arg(&dir.path, "sf", "-no-reboot"));
    virsh_ok(s, &["destroy", "sf"]);
}
