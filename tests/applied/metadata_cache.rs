//! `<driver><metadata_cache><max_size>`: the qcow2 node's `cache-size`,
//! seen in what QEMU does. An image of 512-byte clusters has one L2
//! table per 32 KiB of guest data; read twice from end to end, a disk
//! with QEMU's default cache (the whole image's tables) reads each table
//! from the image once, one whose cache holds a couple of tables reads
//! all of them again the second time. QEMU's `qcow2_cache_get_read`
//! trace event, turned on through QMP, counts the reads in its log.

use serde_json::json;

use crate::support::{State, firmware_vm, qemu_img};

/// 4 MiB of 512-byte clusters: 128 L2 tables.
const TABLES: usize = 128;

/// The small cache of the test: 2 KiB, a few 512-byte tables.
const SMALL: &str = "<metadata_cache><max_size unit='bytes'>2048</max_size></metadata_cache>";

/// Reads all of block node `node` through QEMU's monitor (HMP's
/// qemu-io), as a guest would.
fn read_all(qmp: &mut crate::support::Qmp, node: &str) {
    let line = format!("qemu-io {node} \"read 0 4M\"");
    let out = qmp.exec("human-monitor-command", json!({"command-line": line}));
    // qemu-io reports to QEMU's own output; the monitor says only what
    // went wrong.
    assert_eq!(out, json!(""), "qemu-io on {node}");
}

fn disk(path: &std::path::Path, dev: &str, cache: &str) -> String {
    format!(
        "<disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'>{cache}</driver>
      <source file='{}'/>
      <target dev='{dev}' bus='virtio'/>
    </disk>",
        path.display()
    )
}

#[test]
fn a_small_metadata_cache_reads_the_tables_again() {
    let st = State::new("mdcache");
    let image = |name: &str| {
        let p = st.root().join(name);
        let s = p.to_str().unwrap();
        qemu_img(&[
            "create",
            "-q",
            "-f",
            "qcow2",
            "-o",
            "cluster_size=512",
            s,
            "4M",
        ]);
        let out = std::process::Command::new("qemu-io")
            .args(["-f", "qcow2", "-c", "write -P 7 0 4M", s])
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        p
    };
    let (small, plain) = (image("small.qcow2"), image("plain.qcow2"));
    let devices = format!("{}{}", disk(&small, "vda", SMALL), disk(&plain, "vdb", ""));
    st.start(&firmware_vm(
        "mdcache",
        "<features><acpi/></features>",
        &devices,
    ));
    let live = st.live_xml("mdcache");
    assert!(
        live.contains("<max_size unit='bytes'>2048</max_size>"),
        "{live}"
    );
    let mut qmp = st.qmp("mdcache");
    let nodes = qmp.exec("query-named-block-nodes", json!({}));
    assert!(
        nodes
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["node-name"] == "virtio-disk0-format"),
        "{nodes}"
    );
    // The firmware reads the disks too, while it looks for something
    // to boot: its vCPU is stopped, so that only the reads below count.
    qmp.exec("stop", json!({}));
    qmp.exec(
        "trace-event-set-state",
        json!({"name": "qcow2_cache_get_read", "enable": true}),
    );
    let log = st.root().join("log/qemu/mdcache.log");
    let reads = || {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .matches("qcow2_cache_get_read")
            .count()
    };
    // QEMU writes its trace before the monitor command that caused it
    // returns: each count below is whole.
    // Once through each disk: every table has been read (the firmware
    // may have read some at boot).
    read_all(&mut qmp, "virtio-disk1-format");
    read_all(&mut qmp, "virtio-disk0-format");
    let warm = reads();
    read_all(&mut qmp, "virtio-disk1-format");
    let plain_again = reads() - warm;
    read_all(&mut qmp, "virtio-disk0-format");
    let small_again = reads() - warm - plain_again;
    assert_eq!(
        (plain_again, small_again),
        (0, TABLES),
        "tables read again: none with QEMU's default cache, all with a 2 KiB one"
    );
    // A disk plugged in live gets its cache size too.
    drop(qmp);
    let d = st.driver();
    let dom = d.lookup_by_name("mdcache").unwrap();
    let hot = disk(&image("hot.qcow2"), "vdc", SMALL);
    d.attach_device(&dom, &hot, qvirt::driver::ModifyFlags::LIVE)
        .unwrap();
    drop(d);
    let mut qmp = st.qmp("mdcache");
    read_all(&mut qmp, "virtio-disk2-format");
    let before = reads();
    read_all(&mut qmp, "virtio-disk2-format");
    assert_eq!(
        reads() - before,
        TABLES,
        "the plugged disk's tables read again"
    );
    drop(qmp);
    st.stop("mdcache");
}
