//! A domain's scheduler parameters through libvirt's protocol, with
//! unmodified virsh 9.0 and python3-libvirt 9.0 against a
//! `qvirtd --root DIR`: `schedinfo` gives the "posix" scheduler with
//! `<cputune>`'s shares and CFS limits, the running domain's checked
//! against the CPU cgroup qvirt made for it; `schedinfo --config --set`
//! changes the persistent definition, which the next start writes to
//! the cgroup; a change of the running domain and values out of
//! libvirt's ranges are refused by name.

#[allow(dead_code, unused_imports)]
#[path = "daemon/support.rs"]
mod support;

#[path = "libvirt/lv.rs"]
mod lv;

use std::path::{Path, PathBuf};
use std::process::Command;

use lv::*;
use support::*;

/// `NAME : VALUE` lines of virsh's `schedinfo`.
fn field(out: &str, name: &str) -> String {
    out.lines()
        .filter_map(|l| l.split_once(':'))
        .find_map(|(k, v)| (k.trim() == name).then(|| v.trim().to_string()))
        .unwrap_or_else(|| panic!("no {name} in {out}"))
}

/// The CPU cgroup qvirt recorded for running domain `name`.
fn cpu_group(root: &Path, name: &str) -> PathBuf {
    let recorded = std::fs::read_to_string(run_dir_of(root, name).join("cpu-cgroup")).unwrap();
    PathBuf::from(recorded.trim())
}

/// The weight and vCPU 0's CFS quota and period in `group`.
fn cgroup_values(group: &Path) -> (String, String) {
    let read = |f: &str| {
        std::fs::read_to_string(group.join(f))
            .unwrap()
            .trim()
            .to_string()
    };
    if group.join("cpu.weight").exists() {
        (read("cpu.weight"), read("vcpu0/cpu.max"))
    } else {
        (
            read("cpu.shares"),
            format!(
                "{} {}",
                read("vcpu0/cpu.cfs_quota_us"),
                read("vcpu0/cpu.cfs_period_us")
            ),
        )
    }
}

#[test]
fn schedinfo_reads_cputune_and_changes_the_definition() {
    let v1 = Path::new("/sys/fs/cgroup/cpu/cgroup.procs").exists();
    let v2 = std::fs::read_to_string("/sys/fs/cgroup/cgroup.controllers")
        .is_ok_and(|c| c.split_whitespace().any(|c| c == "cpu"));
    assert!(v1 || v2, "this test needs a CPU cgroup controller");
    let dir = TestDir::new("lvsched");
    let _daemon = Daemon::start(&dir.path, &[]);
    let s = &lv_socket(&dir.path);
    let xml = firmware_vm("sc").replace(
        "<os>",
        "<cputune><shares>512</shares><period>100000</period><quota>50000</quota>\
         <global_quota>-1</global_quota></cputune><os>",
    );
    virsh_define(s, &dir.path, "sc.xml", &xml);

    let out = virsh_ok(s, &["schedinfo", "sc"]);
    assert_eq!(field(&out, "Scheduler"), "posix");
    let names: Vec<&str> = out
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, _)| k.trim())
        .collect();
    assert_eq!(
        names,
        [
            "Scheduler",
            "cpu_shares",
            "vcpu_period",
            "vcpu_quota",
            "emulator_period",
            "emulator_quota",
            "global_period",
            "global_quota",
            "iothread_period",
            "iothread_quota"
        ]
    );
    assert_eq!(field(&out, "cpu_shares"), "512");
    assert_eq!(field(&out, "vcpu_quota"), "50000");
    assert_eq!(field(&out, "global_quota"), "-1");
    assert_eq!(field(&out, "emulator_period"), "0");

    // Running: what the CPU cgroup holds.
    virsh_ok(s, &["start", "sc"]);
    let group = cpu_group(&dir.path, "sc");
    assert_eq!(
        cgroup_values(&group),
        ("512".to_string(), "50000 100000".to_string())
    );
    let out = virsh_ok(s, &["schedinfo", "sc", "--live"]);
    assert_eq!(field(&out, "cpu_shares"), "512");
    assert_eq!(field(&out, "vcpu_period"), "100000");
    assert_eq!(field(&out, "vcpu_quota"), "50000");

    // A change of the running domain: refused by name, nothing changes.
    let err = virsh_err(s, &["schedinfo", "sc", "--set", "cpu_shares=1024"]);
    assert!(err.contains("--config"), "{err}");
    assert_eq!(cgroup_values(&group).0, "512");
    let err = virsh_err(
        s,
        &["schedinfo", "sc", "--config", "--set", "vcpu_period=10"],
    );
    assert!(
        err.contains("value of 'vcpu_period' is out of range [1000, 1000000]"),
        "{err}"
    );

    // The definition: shown with --config, applied at the next start.
    virsh_ok(
        s,
        &["schedinfo", "sc", "--config", "--set", "cpu_shares=1024"],
    );
    let script = "import libvirt, sys\n\
        d = libvirt.open(sys.argv[1]).lookupByName('sc')\n\
        d.setSchedulerParametersFlags({'vcpu_quota': 20000, 'global_quota': 0}, libvirt.VIR_DOMAIN_AFFECT_CONFIG)\n\
        p = d.schedulerParametersFlags(libvirt.VIR_DOMAIN_AFFECT_CONFIG)\n\
        assert p['cpu_shares'] == 1024 and p['vcpu_quota'] == 20000 and p['global_quota'] == 0, p\n\
        assert d.schedulerType() == ('posix', 9), d.schedulerType()\n\
        assert d.schedulerParameters()['cpu_shares'] == 512\n\
        print('PY-SCHED-OK')\n";
    let out = Command::new(PYTHON)
        .args(["-c", script, &uri(s)])
        .output()
        .expect("run python3");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("PY-SCHED-OK"),
        "{out:?}"
    );
    let inactive = virsh_ok(s, &["dumpxml", "sc", "--inactive"]);
    assert!(inactive.contains("<shares>1024</shares>"), "{inactive}");
    assert!(!inactive.contains("global_quota"), "{inactive}");
    virsh_ok(s, &["destroy", "sc"]);
    virsh_ok(s, &["start", "sc"]);
    assert_eq!(
        cgroup_values(&cpu_group(&dir.path, "sc")),
        ("1024".to_string(), "20000 100000".to_string())
    );
    virsh_ok(s, &["destroy", "sc"]);
}
