//! A disk's I/O throttle and a domain's disk errors through libvirt's
//! protocol, with unmodified virsh 9.0 and python3-libvirt 9.0
//! (Debian's) against a `qvirtd --root DIR`: `blkdeviotune` reads the
//! definition's `<iotune>` while the domain is shut off (and with
//! `--config`), and the running QEMU's throttle otherwise, checked
//! against QEMU's own `query-block` after QEMU was told another limit
//! behind qvirt's back; `domblkerror` reads QEMU's I/O status. qvirt's
//! own `blkdeviotune` and `domblkerror` say the same.

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
    let file = write_file(&dir.path, "io.xml", &xml);
    virsh_ok(s, &["define", file.to_str().unwrap()]);

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
    let qvirt = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_qvirt"))
            .args(["-c", &daemon.uri()])
            .args(args)
            .output()
            .expect("run qvirt");
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
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
