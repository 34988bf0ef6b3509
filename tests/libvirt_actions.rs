//! `set-lifecycle-action` through libvirt's protocol, with unmodified
//! virsh 9.0 and python3-libvirt 9.0 against a `qvirtd --root DIR`, on a
//! guest that reboots by itself (SeaBIOS finds nothing to boot and, with
//! `<bios rebootTimeout='0'/>`, resets at once): while on_reboot is
//! restart the guest's reboots keep it running (libvirt's reboot event
//! says they happen); set to destroy live, its next reboot ends it as
//! libvirt ends it (shut off, reason shutdown); set to destroy in the
//! definition, the next start runs QEMU with `-no-reboot`, and a live
//! restart (python) makes that QEMU reset again. libvirt's refusals of
//! combinations come back by name; qvirt's own verb does the same over
//! qvirt's protocol.

#[allow(dead_code, unused_imports)]
#[path = "daemon/support.rs"]
mod support;

#[path = "libvirt/lv.rs"]
mod lv;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use lv::*;
use support::*;

/// A guest with no disk and no NIC, that resets as soon as SeaBIOS has
/// found no boot device.
fn rebooting_vm(name: &str) -> String {
    format!(
        "<domain type='qemu'><name>{name}</name><memory unit='MiB'>32</memory>\
         <vcpu>1</vcpu><os><type arch='x86_64' machine='pc'>hvm</type>\
         <bios rebootTimeout='0'/></os>\
         <devices><memballoon model='none'/></devices></domain>"
    )
}

/// Waits for the guest of `dom` to reboot, through virsh's `event`.
fn await_reboot(s: &Path, dom: &str) {
    let out = virsh_ok(
        s,
        &[
            "event",
            "--domain",
            dom,
            "--event",
            "reboot",
            "--timeout",
            "120",
        ],
    );
    assert!(out.contains("event 'reboot' for domain"), "{out}");
}

/// `domstate --reason` of `dom`.
fn state(s: &Path, dom: &str) -> String {
    virsh_ok(s, &["domstate", dom, "--reason"])
        .trim()
        .to_string()
}

#[test]
fn a_reboot_ends_or_restarts_the_guest_as_the_action_set_says() {
    let dir = TestDir::new("lvactions");
    let daemon = Daemon::start(&dir.path, &[]);
    let s = &lv_socket(&dir.path);
    virsh_define(s, &dir.path, "ra.xml", &rebooting_vm("ra"));
    virsh_ok(s, &["start", "ra"]);

    // on_reboot restart: the guest reboots and runs on.
    await_reboot(s, "ra");
    assert_eq!(state(s, "ra"), "running (booted)");

    // Refused as libvirt refuses them, changing nothing.
    let err = virsh_err(
        s,
        &["set-lifecycle-action", "ra", "reboot", "coredump-destroy"],
    );
    assert!(
        err.contains("Lifecycle event 'reboot' doesn't support 'coredump-destroy' action"),
        "{err}"
    );
    virsh_ok(
        s,
        &[
            "set-lifecycle-action",
            "ra",
            "reboot",
            "destroy",
            "--config",
        ],
    );
    let err = virsh_err(
        s,
        &[
            "set-lifecycle-action",
            "ra",
            "poweroff",
            "restart",
            "--config",
        ],
    );
    assert!(
        err.contains("on_reboot 'destroy' together with on_poweroff 'restart' is not supported"),
        "{err}"
    );
    assert!(virsh_ok(s, &["dumpxml", "ra"]).contains("<on_reboot>restart</on_reboot>"));

    // on_reboot destroy, live: the next reboot ends the domain.
    virsh_ok(
        s,
        &["set-lifecycle-action", "ra", "reboot", "destroy", "--live"],
    );
    let live = virsh_ok(s, &["dumpxml", "ra"]);
    assert!(live.contains("<on_reboot>destroy</on_reboot>"), "{live}");
    wait_for(
        "the reboot to end the domain",
        Duration::from_secs(120),
        || (state(s, "ra") == "shut off (shutdown)").then_some(()),
    );

    // In the definition: the next start runs QEMU with -no-reboot...
    let inactive = virsh_ok(s, &["dumpxml", "ra", "--inactive"]);
    assert!(
        inactive.contains("<on_reboot>destroy</on_reboot>"),
        "{inactive}"
    );
    virsh_ok(s, &["start", "ra", "--paused"]);
    let pid = qemu_pid(&dir.path, "ra");
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap();
    assert!(
        cmdline.split(|b| *b == 0).any(|a| a == b"-no-reboot"),
        "{}",
        String::from_utf8_lossy(&cmdline)
    );
    // ...and a live restart (python3-libvirt) makes that QEMU reset
    // again, the guest running on.
    let script = "import libvirt, sys\n\
        d = libvirt.open(sys.argv[1]).lookupByName('ra')\n\
        d.setLifecycleAction(libvirt.VIR_DOMAIN_LIFECYCLE_REBOOT, \
        libvirt.VIR_DOMAIN_LIFECYCLE_ACTION_RESTART, libvirt.VIR_DOMAIN_AFFECT_LIVE)\n";
    let out = Command::new(PYTHON)
        .args(["-c", script, &uri(s)])
        .output()
        .expect("run python3");
    assert!(out.status.success(), "{out:?}");
    virsh_ok(s, &["resume", "ra"]);
    await_reboot(s, "ra");
    await_reboot(s, "ra");
    assert_eq!(state(s, "ra"), "running (unpaused)");
    assert_eq!(qemu_pid(&dir.path, "ra"), pid, "the same QEMU runs on");

    // qvirt's own verb, over qvirt's protocol.
    let out = Command::new(env!("CARGO_BIN_EXE_qvirt"))
        .args([
            "-c",
            &daemon.uri(),
            "set-lifecycle-action",
            "ra",
            "reboot",
            "destroy",
        ])
        .output()
        .expect("run qvirt");
    assert!(out.status.success(), "{out:?}");
    wait_for(
        "the reboot to end the domain",
        Duration::from_secs(120),
        || (state(s, "ra") == "shut off (shutdown)").then_some(()),
    );
}
