//! The dirty page rate through libvirt's protocol, with unmodified
//! virsh 9.0 and python3-libvirt 9.0 against a `qvirtd --root DIR`:
//! `domdirtyrate-calc` starts QEMU's measurement (`query-dirty-rate`
//! shows it), `domstats --dirtyrate` gives its result in libvirt's
//! fields; libvirt's bounds and a shut-off domain are refused. qvirt's
//! own verb starts one over qvirt's protocol.

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

/// QEMU's `query-dirty-rate` of `dom`.
fn qemu_rate(s: &Path, dom: &str) -> serde_json::Value {
    let out = virsh_ok(
        s,
        &[
            "qemu-monitor-command",
            dom,
            r#"{"execute":"query-dirty-rate"}"#,
        ],
    );
    serde_json::from_str::<serde_json::Value>(&out).unwrap()["return"].take()
}

/// The `dirtyrate.*` fields of `domstats --dirtyrate`, by name.
fn stats(s: &Path, dom: &str) -> Vec<(String, String)> {
    virsh_ok(s, &["domstats", dom, "--dirtyrate"])
        .lines()
        .filter_map(|l| l.trim().strip_prefix("dirtyrate.")?.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[test]
fn a_dirty_rate_is_measured_by_qemu_and_shown_in_domstats() {
    let dir = TestDir::new("lvdirtyrate");
    let daemon = Daemon::start(&dir.path, &[]);
    let s = &lv_socket(&dir.path);
    virsh_define(s, &dir.path, "dr.xml", &firmware_vm("dr"));
    let err = virsh_err(s, &["domdirtyrate-calc", "dr"]);
    assert!(err.contains("it is shut off"), "{err}");
    virsh_ok(s, &["start", "dr"]);
    assert_eq!(qemu_rate(s, "dr")["status"], "unstarted");
    assert_eq!(field(&stats(s, "dr"), "calc_status"), Some("0"));

    let err = virsh_err(s, &["domdirtyrate-calc", "dr", "--seconds", "61"]);
    assert!(
        err.contains("seconds=61 is invalid, please choose value within [1, 60]"),
        "{err}"
    );
    virsh_ok(s, &["domdirtyrate-calc", "dr", "--seconds", "1"]);
    let fields = wait_for("the measurement to end", Duration::from_secs(60), || {
        let f = stats(s, "dr");
        (field(&f, "calc_status") == Some("2")).then_some(f)
    });
    let q = qemu_rate(s, "dr");
    assert_eq!(q["status"], "measured");
    assert_eq!(field(&fields, "calc_period"), Some("1"));
    assert_eq!(field(&fields, "calc_mode"), Some("page-sampling"));
    assert_eq!(
        field(&fields, "calc_start_time"),
        Some(q["start-time"].to_string().as_str())
    );
    assert_eq!(
        field(&fields, "megabytes_per_second"),
        Some(q["dirty-rate"].to_string().as_str())
    );

    // python3-libvirt reads the same group.
    let script = "import libvirt, sys\n\
        c = libvirt.open(sys.argv[1])\n\
        d = c.lookupByName('dr')\n\
        [(_, st)] = c.domainListGetStats([d], libvirt.VIR_DOMAIN_STATS_DIRTYRATE)\n\
        print(st['dirtyrate.calc_status'], st['dirtyrate.calc_period'])\n";
    let out = Command::new(PYTHON)
        .args(["-c", script, &uri(s)])
        .output()
        .expect("run python3");
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "2 1");

    // qvirt's own verb, over qvirt's protocol: QEMU measures again. A
    // dirty-bitmap measurement, which QEMU under TCG does not survive,
    // is refused and the domain runs on.
    let qvirt = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_qvirt"))
            .args(["-c", &daemon.uri(), "domdirtyrate-calc", "dr"])
            .args(args)
            .output()
            .expect("run qvirt")
    };
    let out = qvirt(&["--mode", "dirty-bitmap"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("dirty-bitmap calculation mode needs KVM"),
        "{out:?}"
    );
    let out = qvirt(&["--seconds", "2"]);
    assert!(out.status.success(), "{out:?}");
    let q = qemu_rate(s, "dr");
    assert_eq!(q["calc-time"].as_i64(), Some(2));
    virsh_ok(s, &["destroy", "dr"]);
}
