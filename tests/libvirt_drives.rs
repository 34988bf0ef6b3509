//! A disk's I/O throttle and a domain's disk errors through libvirt's
//! protocol, with unmodified virsh 9.0 and python3-libvirt 9.0
//! (Debian's) against a `qvirtd --root DIR`: `blkdeviotune` reads the
//! definition's `<iotune>` while the domain is shut off (and with
//! `--config`), and the running QEMU's throttle otherwise, checked
//! against QEMU's own `query-block` after QEMU was told another limit
//! behind qvirt's back; `domblkerror` reads QEMU's I/O status. qvirt's
//! own `blkdeviotune` and `domblkerror` say the same. `blkdeviotune`
//! with values changes QEMU's throttle (read back with `query-block`),
//! the live and the persistent definition, with libvirt's merging,
//! groups and refusals, from virsh, python3-libvirt and qvirt.

#[allow(dead_code, unused_imports)]
#[path = "daemon/support.rs"]
mod support;

#[path = "libvirt/lv.rs"]
mod lv;

use std::process::Command;

use lv::*;
use support::*;

/// `NAME: VALUE` lines of virsh's output.
fn fields(out: &str) -> Vec<(String, String)> {
    out.lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

fn field(out: &str, name: &str) -> String {
    fields(out)
        .into_iter()
        .find_map(|(k, v)| (k == name).then_some(v))
        .unwrap_or_else(|| panic!("no {name} in {out}"))
}

#[test]
fn blkdeviotune_and_domblkerror_read_the_definition_and_the_running_qemu() {
    let dir = TestDir::new("lvdrives");
    let daemon = Daemon::start(&dir.path, &[]);
    let s = &lv_socket(&dir.path);
    let image = dir.path.join("d.img");
    let out = Command::new("qemu-img")
        .args(["create", "-f", "raw"])
        .arg(&image)
        .arg("8M")
        .output()
        .expect("run qemu-img");
    assert!(out.status.success(), "{out:?}");
    let xml = firmware_vm("io").replace(
        "<devices>",
        &format!(
            "<devices><disk type='file' device='disk'><driver name='qemu' type='raw'/>\
             <source file='{}'/><target dev='vda' bus='virtio'/><iotune>\
             <total_bytes_sec>1048576</total_bytes_sec><write_iops_sec>300</write_iops_sec>\
             <group_name>gq</group_name></iotune></disk>",
            image.display()
        ),
    );
    virsh_define(s, &dir.path, "io.xml", &xml);

    // Shut off: the definition, every limit libvirt names, in its order.
    let out = virsh_ok(s, &["blkdeviotune", "io", "vda"]);
    let names: Vec<String> = fields(&out).into_iter().map(|(k, _)| k).collect();
    let mut want: Vec<&str> = qvirt::model::IOTUNE_LIMITS
        .iter()
        .map(|(n, _)| *n)
        .collect();
    want.insert(13, "group_name");
    assert_eq!(names, want, "{out}");
    assert_eq!(field(&out, "total_bytes_sec"), "1048576");
    assert_eq!(field(&out, "write_iops_sec"), "300");
    assert_eq!(field(&out, "group_name"), "gq");
    let err = virsh_err(s, &["domblkerror", "io"]);
    assert!(err.contains("domain 'io' is not running"), "{err}");

    // Running: what QEMU holds, by target and by file.
    virsh_ok(s, &["start", "io"]);
    for disk in ["vda", image.to_str().unwrap()] {
        let out = virsh_ok(s, &["blkdeviotune", "io", disk, "--live"]);
        assert_eq!(field(&out, "total_bytes_sec"), "1048576", "{out}");
        assert_eq!(field(&out, "group_name"), "gq", "{out}");
    }
    let err = virsh_err(s, &["blkdeviotune", "io", "vdb"]);
    assert!(err.contains("disk 'vdb' not found in domain"), "{err}");
    // QEMU told another limit directly: the live read follows QEMU, the
    // definition keeps its own.
    virsh_ok(
        s,
        &[
            "qemu-monitor-command",
            "io",
            r#"{"execute":"block_set_io_throttle","arguments":{"id":"/machine/peripheral/virtio-disk0/virtio-backend","bps":2000000,"bps_rd":0,"bps_wr":0,"iops":0,"iops_rd":0,"iops_wr":40,"iops_size":512}}"#,
        ],
    );
    let blocks = virsh_ok(
        s,
        &["qemu-monitor-command", "io", r#"{"execute":"query-block"}"#],
    );
    let blocks: serde_json::Value = serde_json::from_str(&blocks).unwrap();
    let inserted = blocks["return"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| {
            b["qdev"]
                .as_str()
                .is_some_and(|q| q.contains("virtio-disk0"))
        })
        .map(|b| b["inserted"].clone())
        .expect("the disk in query-block");
    let out = virsh_ok(s, &["blkdeviotune", "io", "vda"]);
    for (name, qmp) in qvirt::model::IOTUNE_LIMITS {
        assert_eq!(
            field(&out, name),
            inserted[qmp].as_u64().unwrap_or(0).to_string(),
            "{name} against QEMU's {qmp}: {out}"
        );
    }
    assert_eq!(field(&out, "total_bytes_sec"), "2000000");
    assert_eq!(field(&out, "size_iops_sec"), "512");
    let out = virsh_ok(s, &["blkdeviotune", "io", "vda", "--config"]);
    assert_eq!(field(&out, "total_bytes_sec"), "1048576");
    // QEMU's I/O status: nothing stopped.
    let status = blocks["return"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| {
            b["qdev"]
                .as_str()
                .is_some_and(|q| q.contains("virtio-disk0"))
        })
        .map(|b| b["io-status"].clone())
        .unwrap();
    assert_eq!(status, "ok");
    assert_eq!(
        virsh_ok(s, &["domblkerror", "io"]).trim(),
        "No errors found"
    );

    // python3-libvirt: the same calls.
    let script = "import libvirt, sys\n\
        c = libvirt.open(sys.argv[1])\n\
        d = c.lookupByName('io')\n\
        t = d.blockIoTune('vda', 0)\n\
        assert t['total_bytes_sec'] == 2000000 and t['group_name'] == 'gq', t\n\
        assert d.blockIoTune('vda', libvirt.VIR_DOMAIN_AFFECT_CONFIG)['total_bytes_sec'] == 1048576\n\
        assert d.diskErrors() == {}, d.diskErrors()\n\
        print('PY-DRIVES-OK')\n";
    let out = Command::new(PYTHON)
        .args(["-c", script, &uri(s)])
        .output()
        .expect("run python3");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("PY-DRIVES-OK"),
        "{out:?}"
    );
    // qvirt's own verbs over qvirt's protocol say what virsh says.
    let qvirt = |args: &[&str]| qvirt_ok(&daemon.uri(), args);
    for at in ["--live", "--config"] {
        assert_eq!(
            fields(&qvirt(&["blkdeviotune", "io", "vda", at])),
            fields(&virsh_ok(s, &["blkdeviotune", "io", "vda", at])),
            "{at}"
        );
    }
    assert_eq!(qvirt(&["domblkerror", "io"]).trim(), "No errors found");
    virsh_ok(s, &["destroy", "io"]);
}

/// The drive of the disk whose QEMU device id contains `id`, as QEMU's
/// `query-block` has it.
fn qemu_drive(s: &std::path::Path, dom: &str, id: &str) -> serde_json::Value {
    let out = virsh_ok(
        s,
        &["qemu-monitor-command", dom, r#"{"execute":"query-block"}"#],
    );
    let blocks: serde_json::Value = serde_json::from_str(&out).unwrap();
    blocks["return"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["qdev"].as_str().is_some_and(|q| q.contains(id)))
        .map(|b| b["inserted"].clone())
        .unwrap_or_else(|| panic!("no drive {id} in {out}"))
}

#[test]
fn blkdeviotune_with_values_changes_the_running_qemu_and_the_definition() {
    let dir = TestDir::new("lviotune");
    let daemon = Daemon::start(&dir.path, &["--read-only-socket"]);
    let s = &lv_socket(&dir.path);
    let mut disks = String::new();
    for (target, iotune) in [
        (
            "vda",
            "<iotune><total_bytes_sec>1048576</total_bytes_sec><write_iops_sec>300</write_iops_sec>\
             <group_name>gq</group_name></iotune>",
        ),
        ("vdb", ""),
    ] {
        let image = dir.path.join(format!("{target}.img"));
        let out = Command::new("qemu-img")
            .args(["create", "-f", "raw"])
            .arg(&image)
            .arg("8M")
            .output()
            .expect("run qemu-img");
        assert!(out.status.success(), "{out:?}");
        disks.push_str(&format!(
            "<disk type='file' device='disk'><driver name='qemu' type='raw'/>\
             <source file='{}'/><target dev='{target}' bus='virtio'/>{iotune}</disk>",
            image.display()
        ));
    }
    let xml = firmware_vm("io").replace("<devices>", &format!("<devices>{disks}"));
    virsh_define(s, &dir.path, "io.xml", &xml);
    virsh_ok(s, &["start", "io"]);
    let vda = || qemu_drive(s, "io", "virtio-disk0");
    let vdb = || qemu_drive(s, "io", "virtio-disk1");

    // Live: QEMU takes the new bytes limit; the iops family given
    // nowhere keeps its limit, and the definition keeps its own.
    virsh_ok(
        s,
        &[
            "blkdeviotune",
            "io",
            "vda",
            "--total-bytes-sec",
            "2000000",
            "--live",
        ],
    );
    let d = vda();
    assert_eq!(
        (d["bps"].as_u64(), d["iops_wr"].as_u64()),
        (Some(2000000), Some(300)),
        "{d}"
    );
    assert_eq!(d["group"], "gq");
    let out = virsh_ok(s, &["blkdeviotune", "io", "vda"]);
    assert_eq!(field(&out, "total_bytes_sec"), "2000000", "{out}");
    let out = virsh_ok(s, &["blkdeviotune", "io", "vda", "--config"]);
    assert_eq!(field(&out, "total_bytes_sec"), "1048576", "{out}");
    let live = virsh_ok(s, &["dumpxml", "io"]);
    assert!(
        live.contains("<total_bytes_sec>2000000</total_bytes_sec>"),
        "{live}"
    );

    // libvirt's refusals, each leaving QEMU as it was.
    for (args, why) in [
        (
            &["--total-bytes-sec", "5", "--read-bytes-sec", "1"][..],
            "total and read/write of bytes_sec cannot be set at the same time",
        ),
        (
            &["--total-iops-sec-max", "10"][..],
            "cannot reset 'total_iops_sec' when 'total_iops_sec_max' is set",
        ),
        (
            &["--write-iops-sec", "10", "--write-iops-sec-max", "5"][..],
            "value 'write_iops_sec_max' cannot be smaller than 'write_iops_sec'",
        ),
        (
            &["--total-bytes-sec", "1000000000000001"][..],
            "must be no more than 1000000000000000",
        ),
    ] {
        let mut all = vec!["blkdeviotune", "io", "vda"];
        all.extend_from_slice(args);
        let err = virsh_err(s, &all);
        assert!(err.contains(why), "{args:?}: {err}");
    }
    let d = vda();
    assert_eq!(
        (d["bps"].as_u64(), d["iops_wr"].as_u64()),
        (Some(2000000), Some(300)),
        "{d}"
    );
    let err = virsh_err(s, &["blkdeviotune", "io", "vdz", "--total-bytes-sec", "5"]);
    assert!(err.contains("disk 'vdz' not found in domain"), "{err}");

    // vdb joins group gq: it takes the group's limits, in QEMU too.
    virsh_ok(
        s,
        &["blkdeviotune", "io", "vdb", "--group-name", "gq", "--live"],
    );
    let b = vdb();
    assert_eq!(b["group"], "gq", "{b}");
    assert_eq!(
        (b["bps"].as_u64(), b["iops_wr"].as_u64()),
        (Some(2000000), Some(300)),
        "{b}"
    );
    let out = virsh_ok(s, &["blkdeviotune", "io", "vdb"]);
    assert_eq!(field(&out, "group_name"), "gq", "{out}");

    // --config: the persistent definition only.
    virsh_ok(
        s,
        &[
            "blkdeviotune",
            "io",
            "vda",
            "--config",
            "--read-iops-sec",
            "77",
            "--write-iops-sec",
            "0",
        ],
    );
    let inactive = virsh_ok(s, &["dumpxml", "io", "--inactive"]);
    assert!(
        inactive.contains("<read_iops_sec>77</read_iops_sec>"),
        "{inactive}"
    );
    assert!(!inactive.contains("<write_iops_sec>"), "{inactive}");
    assert_eq!(vda()["iops_rd"].as_u64(), Some(0));

    // python3-libvirt sets, and a read-only connection may not.
    let script = "import libvirt, sys\n\
        c = libvirt.open(sys.argv[1])\n\
        d = c.lookupByName('io')\n\
        d.setBlockIoTune('vdb', {'total_iops_sec_max': 900, 'total_iops_sec': 400, 'write_iops_sec': 0}, libvirt.VIR_DOMAIN_AFFECT_LIVE)\n\
        t = d.blockIoTune('vdb', 0)\n\
        assert t['total_iops_sec'] == 400 and t['total_iops_sec_max'] == 900, t\n\
        r = libvirt.openReadOnly(sys.argv[2]).lookupByName('io')\n\
        try:\n\
        \x20   r.setBlockIoTune('vda', {'total_bytes_sec': 1}, 0)\n\
        \x20   raise SystemExit('read-only set')\n\
        except libvirt.libvirtError as e:\n\
        \x20   assert e.get_error_code() == libvirt.VIR_ERR_OPERATION_DENIED, e\n\
        print('PY-IOTUNE-OK')\n";
    let out = Command::new(PYTHON)
        .args(["-c", script, &uri(s), &uri(&lv_socket_ro(&dir.path))])
        .output()
        .expect("run python3");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("PY-IOTUNE-OK"),
        "{out:?}"
    );
    // The group shares the limits in QEMU.
    let d = vda();
    assert_eq!(
        (d["iops"].as_u64(), d["iops_max"].as_u64()),
        (Some(400), Some(900)),
        "{d}"
    );

    // qvirt's own verb over qvirt's protocol, a byte rate scaled as
    // virsh scales it; all limits 0 removes the throttle and the group.
    let out = Command::new(env!("CARGO_BIN_EXE_qvirt"))
        .args(["-c", &daemon.uri(), "blkdeviotune", "io", "vdb", "--live"])
        .args(["--read-bytes-sec", "1M"])
        .output()
        .expect("run qvirt");
    assert!(out.status.success(), "{out:?}");
    let b = vdb();
    assert_eq!(
        (b["bps"].as_u64(), b["bps_rd"].as_u64()),
        (Some(0), Some(1 << 20)),
        "{b}"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_qvirt"))
        .args(["-c", &daemon.uri(), "blkdeviotune", "io", "vdb", "--live"])
        .args(["--total-bytes-sec", "0", "--total-iops-sec", "0"])
        .args(["--total-iops-sec-max", "0"])
        .output()
        .expect("run qvirt");
    assert!(out.status.success(), "{out:?}");
    let b = vdb();
    assert_eq!(
        (b["bps"].as_u64(), b["iops"].as_u64()),
        (Some(0), Some(0)),
        "{b}"
    );
    assert!(b.get("group").is_none(), "{b}");
    let live = virsh_ok(s, &["dumpxml", "io"]);
    assert_eq!(live.matches("<iotune>").count(), 1, "{live}");
    virsh_ok(s, &["destroy", "io"]);
}
