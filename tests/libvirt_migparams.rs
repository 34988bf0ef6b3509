//! A running domain's migration parameters through libvirt's protocol,
//! with unmodified virsh 9.0 and python3-libvirt 9.0 against a
//! `qvirtd --root DIR`: `migrate-setmaxdowntime` and `migrate-compcache
//! --size` reach the running QEMU at once (`query-migrate-parameters`'
//! `downtime-limit` and `xbzrle-cache-size`), and the getters read QEMU's
//! values back; a shut-off domain, unknown flags, QEMU's own bounds and a
//! read-only connection are refused as libvirt refuses them. qvirt's own
//! verbs do the same over qvirt's protocol.

#[allow(dead_code, unused_imports)]
#[path = "daemon/support.rs"]
mod support;

#[path = "libvirt/lv.rs"]
mod lv;

use std::process::Command;

use lv::*;
use qvirt::transport::libvirt::frame::code;
use qvirt::transport::libvirt::types::{Dom, MaxDowntimeArgs, SetCompressionCacheArgs};
use support::*;

/// QEMU's migration parameter `name`, as `query-migrate-parameters`
/// gives it.
fn qemu_param(s: &std::path::Path, dom: &str, name: &str) -> u64 {
    let out = virsh_ok(
        s,
        &[
            "qemu-monitor-command",
            dom,
            r#"{"execute":"query-migrate-parameters"}"#,
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    v["return"][name]
        .as_u64()
        .unwrap_or_else(|| panic!("no {name} in {out}"))
}

/// Runs qvirt's CLI with `args` against `daemon`: its output, or its
/// error when `ok` is false.
fn qvirt(daemon: &Daemon, args: &[&str], ok: bool) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_qvirt"))
        .args(["-c", &daemon.uri()])
        .args(args)
        .output()
        .expect("run qvirt");
    assert_eq!(out.status.success(), ok, "{out:?}");
    let text = if ok { &out.stdout } else { &out.stderr };
    String::from_utf8_lossy(text).trim().to_string()
}

#[test]
fn max_downtime_is_qemus_downtime_limit() {
    let dir = TestDir::new("lvdowntime");
    let daemon = Daemon::start(&dir.path, &["--read-only-socket"]);
    let s = &lv_socket(&dir.path);
    let file = write_file(&dir.path, "dt.xml", &firmware_vm("dt"));
    virsh_ok(s, &["define", file.to_str().unwrap()]);
    // libvirt's check: the domain must run.
    let err = virsh_err(s, &["migrate-setmaxdowntime", "dt", "100"]);
    assert!(err.contains("shut off"), "{err}");
    let err = virsh_err(s, &["migrate-getmaxdowntime", "dt"]);
    assert!(err.contains("shut off"), "{err}");

    virsh_ok(s, &["start", "dt"]);
    // QEMU's default until set.
    assert_eq!(qemu_param(s, "dt", "downtime-limit"), 300);
    assert_eq!(virsh_ok(s, &["migrate-getmaxdowntime", "dt"]).trim(), "300");
    virsh_ok(s, &["migrate-setmaxdowntime", "dt", "1234"]);
    assert_eq!(qemu_param(s, "dt", "downtime-limit"), 1234);
    assert_eq!(
        virsh_ok(s, &["migrate-getmaxdowntime", "dt"]).trim(),
        "1234"
    );
    // QEMU's bound: 2000 s.
    let err = virsh_err(s, &["migrate-setmaxdowntime", "dt", "2000001"]);
    assert!(err.contains("downtime_limit"), "{err}");
    assert_eq!(qemu_param(s, "dt", "downtime-limit"), 1234);

    let script = "import libvirt, sys\n\
        d = libvirt.open(sys.argv[1]).lookupByName('dt')\n\
        d.migrateSetMaxDowntime(750, 0)\n\
        assert d.migrateGetMaxDowntime(0) == 750, d.migrateGetMaxDowntime(0)\n\
        try:\n\
        \x20   d.migrateSetMaxDowntime(10, 1)\n\
        \x20   raise SystemExit('unknown flag taken')\n\
        except libvirt.libvirtError as e:\n\
        \x20   assert e.get_error_code() == libvirt.VIR_ERR_INVALID_ARG, e\n\
        r = libvirt.openReadOnly(sys.argv[2]).lookupByName('dt')\n\
        assert r.migrateGetMaxDowntime(0) == 750\n\
        try:\n\
        \x20   r.migrateSetMaxDowntime(1, 0)\n\
        \x20   raise SystemExit('read-only call')\n\
        except libvirt.libvirtError as e:\n\
        \x20   assert e.get_error_code() == libvirt.VIR_ERR_OPERATION_DENIED, e\n\
        print('PY-DOWNTIME-OK')\n";
    let out = python_ok(
        script,
        &[uri(s).as_ref(), uri(&lv_socket_ro(&dir.path)).as_ref()],
    );
    assert!(out.contains("PY-DOWNTIME-OK"), "{out}");
    assert_eq!(qemu_param(s, "dt", "downtime-limit"), 750);

    assert_eq!(
        qvirt(&daemon, &["migrate-getmaxdowntime", "dt"], true),
        "750"
    );
    qvirt(&daemon, &["migrate-setmaxdowntime", "dt", "40"], true);
    assert_eq!(qemu_param(s, "dt", "downtime-limit"), 40);
    let err = qvirt(&daemon, &["migrate-setmaxdowntime", "dt", "0"], false);
    assert!(err.contains("Invalid downtime"), "{err}");
    // The daemon refuses a read-only connection's change itself.
    let uuid = virsh_ok(s, &["domuuid", "dt"]).trim().parse().unwrap();
    let dom = Dom {
        name: "dt".into(),
        uuid,
        id: -1,
    };
    let mut r = Raw::connect(&lv_socket_ro(&dir.path));
    r.open(false, 0);
    let e = r
        .call(
            166,
            &qvirt::transport::libvirt::types::SetMaxDowntimeArgs {
                dom: dom.clone(),
                downtime: 1,
                flags: 0,
            },
        )
        .unwrap_err();
    assert_eq!(e.code, code::OPERATION_DENIED);
    r.call(387, &MaxDowntimeArgs { dom, flags: 0 }).unwrap();
    assert_eq!(qemu_param(s, "dt", "downtime-limit"), 40);
    virsh_ok(s, &["destroy", "dt"]);
}

#[test]
fn compcache_is_qemus_xbzrle_cache_size() {
    let dir = TestDir::new("lvcompcache");
    let daemon = Daemon::start(&dir.path, &["--read-only-socket"]);
    let s = &lv_socket(&dir.path);
    let file = write_file(&dir.path, "cc.xml", &firmware_vm("cc"));
    virsh_ok(s, &["define", file.to_str().unwrap()]);
    let err = virsh_err(s, &["migrate-compcache", "cc"]);
    assert!(err.contains("shut off"), "{err}");

    virsh_ok(s, &["start", "cc"]);
    // QEMU's default: 64 MiB.
    assert_eq!(qemu_param(s, "cc", "xbzrle-cache-size"), 64 << 20);
    assert_eq!(
        virsh_ok(s, &["migrate-compcache", "cc"]).trim(),
        "Compression cache: 64.000 MiB"
    );
    let out = virsh_ok(s, &["migrate-compcache", "cc", "--size", "8388608"]);
    assert_eq!(out.trim(), "Compression cache: 8.000 MiB");
    assert_eq!(qemu_param(s, "cc", "xbzrle-cache-size"), 8 << 20);
    // QEMU refuses a cache smaller than a page, or not a power of two.
    let err = virsh_err(s, &["migrate-compcache", "cc", "--size", "1024"]);
    assert!(err.contains("power of two"), "{err}");
    assert_eq!(qemu_param(s, "cc", "xbzrle-cache-size"), 8 << 20);

    let script = "import libvirt, sys\n\
        d = libvirt.open(sys.argv[1]).lookupByName('cc')\n\
        d.migrateSetCompressionCache(4 << 20, 0)\n\
        assert d.migrateGetCompressionCache(0) == 4 << 20, d.migrateGetCompressionCache(0)\n\
        r = libvirt.openReadOnly(sys.argv[2]).lookupByName('cc')\n\
        assert r.migrateGetCompressionCache(0) == 4 << 20\n\
        try:\n\
        \x20   r.migrateSetCompressionCache(1 << 20, 0)\n\
        \x20   raise SystemExit('read-only call')\n\
        except libvirt.libvirtError as e:\n\
        \x20   assert e.get_error_code() == libvirt.VIR_ERR_OPERATION_DENIED, e\n\
        print('PY-COMPCACHE-OK')\n";
    let out = python_ok(
        script,
        &[uri(s).as_ref(), uri(&lv_socket_ro(&dir.path)).as_ref()],
    );
    assert!(out.contains("PY-COMPCACHE-OK"), "{out}");
    assert_eq!(qemu_param(s, "cc", "xbzrle-cache-size"), 4 << 20);

    assert_eq!(
        qvirt(
            &daemon,
            &["migrate-compcache", "cc", "--size", "2097152"],
            true
        ),
        "Compression cache: 2.000 MiB"
    );
    assert_eq!(qemu_param(s, "cc", "xbzrle-cache-size"), 2 << 20);
    let uuid = virsh_ok(s, &["domuuid", "cc"]).trim().parse().unwrap();
    let mut r = Raw::connect(&lv_socket_ro(&dir.path));
    r.open(false, 0);
    let set = SetCompressionCacheArgs {
        dom: Dom {
            name: "cc".into(),
            uuid,
            id: -1,
        },
        cache_size: 1 << 20,
        flags: 0,
    };
    assert_eq!(r.call(300, &set).unwrap_err().code, code::OPERATION_DENIED);
    assert_eq!(qemu_param(s, "cc", "xbzrle-cache-size"), 2 << 20);
    virsh_ok(s, &["destroy", "cc"]);
}
