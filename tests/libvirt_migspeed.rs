//! A domain's migration speed through libvirt's protocol, with
//! unmodified virsh 9.0 and python3-libvirt 9.0 against a
//! `qvirtd --root DIR`: `migrate-setspeed` on a running domain reaches
//! its QEMU at once (`query-migrate-parameters`' `max-bandwidth`),
//! `migrate-getspeed` reads it back; a shut-off domain keeps it; libvirt's
//! limit, the post-copy speed and a read-only connection are refused as
//! libvirt refuses them. qvirt's own `migrate-setspeed` and
//! `migrate-getspeed` do the same over qvirt's protocol.

#[allow(dead_code, unused_imports)]
#[path = "daemon/support.rs"]
mod support;

#[path = "libvirt/lv.rs"]
mod lv;

use std::process::Command;

use lv::*;
use qvirt::transport::libvirt::frame::code;
use qvirt::transport::libvirt::types::{Dom, MaxSpeedArgs, SetMaxSpeedArgs};
use support::*;

/// QEMU's `max-bandwidth`, bytes/s.
fn qemu_max_bandwidth(s: &std::path::Path, dom: &str) -> u64 {
    let out = virsh_ok(
        s,
        &[
            "qemu-monitor-command",
            dom,
            r#"{"execute":"query-migrate-parameters"}"#,
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    v["return"]["max-bandwidth"].as_u64().unwrap()
}

#[test]
fn migrate_setspeed_reaches_qemu_and_getspeed_reads_it() {
    let dir = TestDir::new("lvmigspeed");
    let daemon = Daemon::start(&dir.path, &["--read-only-socket"]);
    let s = &lv_socket(&dir.path);
    virsh_define(s, &dir.path, "sp.xml", &firmware_vm("sp"));
    // Unlimited until set, as libvirt's.
    assert_eq!(
        virsh_ok(s, &["migrate-getspeed", "sp"]).trim(),
        "8796093022207"
    );
    virsh_ok(s, &["migrate-setspeed", "sp", "300"]);
    assert_eq!(virsh_ok(s, &["migrate-getspeed", "sp"]).trim(), "300");

    virsh_ok(s, &["start", "sp"]);
    virsh_ok(s, &["migrate-setspeed", "sp", "64"]);
    assert_eq!(qemu_max_bandwidth(s, "sp"), 64 << 20);
    assert_eq!(virsh_ok(s, &["migrate-getspeed", "sp"]).trim(), "64");

    let err = virsh_err(s, &["migrate-setspeed", "sp", "8796093022208"]);
    assert!(
        err.contains("bandwidth must be less than 8796093022208"),
        "{err}"
    );
    let err = virsh_err(s, &["migrate-setspeed", "sp", "10", "--postcopy"]);
    assert!(
        err.contains("VIR_DOMAIN_MIGRATE_MAX_SPEED_POSTCOPY"),
        "{err}"
    );
    assert_eq!(qemu_max_bandwidth(s, "sp"), 64 << 20);

    let script = "import libvirt, sys\n\
        d = libvirt.open(sys.argv[1]).lookupByName('sp')\n\
        d.migrateSetMaxSpeed(128, 0)\n\
        assert d.migrateGetMaxSpeed(0) == 128, d.migrateGetMaxSpeed(0)\n\
        r = libvirt.openReadOnly(sys.argv[2]).lookupByName('sp')\n\
        for call in (lambda: r.migrateSetMaxSpeed(1, 0), lambda: r.migrateGetMaxSpeed(0)):\n\
        \x20   try:\n\
        \x20       call()\n\
        \x20       raise SystemExit('read-only call')\n\
        \x20   except libvirt.libvirtError as e:\n\
        \x20       assert e.get_error_code() == libvirt.VIR_ERR_OPERATION_DENIED, e\n\
        print('PY-SPEED-OK')\n";
    let out = Command::new(PYTHON)
        .args(["-c", script, &uri(s), &uri(&lv_socket_ro(&dir.path))])
        .output()
        .expect("run python3");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("PY-SPEED-OK"),
        "{out:?}"
    );
    assert_eq!(qemu_max_bandwidth(s, "sp"), 128 << 20);
    // qvirt's own verbs over qvirt's protocol.
    let qvirt = |args: &[&str]| qvirt_ok(&daemon.uri(), args).trim().to_string();
    assert_eq!(qvirt(&["migrate-getspeed", "sp"]), "128");
    qvirt(&["migrate-setspeed", "sp", "256"]);
    assert_eq!(qemu_max_bandwidth(s, "sp"), 256 << 20);
    assert_eq!(virsh_ok(s, &["migrate-getspeed", "sp"]).trim(), "256");
    // The daemon refuses a read-only connection itself, too.
    let uuid = virsh_ok(s, &["domuuid", "sp"]).trim().parse().unwrap();
    let dom = Dom {
        name: "sp".into(),
        uuid,
        id: -1,
    };
    let mut r = Raw::connect(&lv_socket_ro(&dir.path));
    r.open(false, 0);
    let set = SetMaxSpeedArgs {
        dom: dom.clone(),
        bandwidth: 1,
        flags: 0,
    };
    let e = r.call(207, &set).unwrap_err();
    assert_eq!(e.code, code::OPERATION_DENIED);
    let e = r.call(242, &MaxSpeedArgs { dom, flags: 0 }).unwrap_err();
    assert_eq!(e.code, code::OPERATION_DENIED);
    assert_eq!(qemu_max_bandwidth(s, "sp"), 256 << 20);
    virsh_ok(s, &["destroy", "sp"]);
}
