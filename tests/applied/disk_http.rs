//! The options of an HTTP disk (QEMU's curl driver), seen from the web
//! server the test runs: every ranged read of a disk with `<cookies>`
//! carries them in its `Cookie` header, `<readahead size>` sets how far
//! beyond the guest's read each request reaches, and `<timeout seconds>`
//! lets a slow answer through that QEMU's default (5 seconds) would give
//! up on. The cookies are handed to QEMU in a private file and written
//! only in the XML with security information.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::atomic::Ordering;

use serde_json::json;

use crate::disk_sources::qmp;
use crate::support::{RangeServer, RangedRead, State, firmware_vm};

const COOKIES: &str = "test=testcookievalue; test2=\"blurb\"";

/// Reads 512 bytes at `offset` of block node `node` through QEMU's
/// block layer (HMP `qemu-io`); its report, which QEMU writes to its
/// output, the domain's log `log`.
fn guest_read(
    d: &dyn qvirt::Driver,
    dom: &qvirt::Domain,
    log: &Path,
    node: &str,
    offset: u64,
) -> String {
    let before = std::fs::read(log).unwrap().len();
    let line = format!("qemu-io {node} \"read {offset} 512\"");
    qmp(
        d,
        dom,
        "human-monitor-command",
        json!({"command-line": line}),
    );
    String::from_utf8_lossy(&std::fs::read(log).unwrap()[before..]).into_owned()
}

/// The ranged reads `server` answered since the last call.
fn taken(server: &RangeServer) -> Vec<RangedRead> {
    std::mem::take(&mut *server.requests.lock().unwrap())
}

#[test]
fn http_disk_options_reach_the_web_server() {
    let st = State::new("disk-http");
    let image = st.root().join("disk.img");
    let bytes: Vec<u8> = (0..4u32 << 20).map(|i| (i % 251) as u8).collect();
    std::fs::write(&image, &bytes).unwrap();
    let (tuned, plain) = (RangeServer::serve(&image), RangeServer::serve(&image));
    let disk = |port: u16, dev: &str, extra: &str| {
        format!(
            "<disk type='network' device='disk'>
      <driver name='qemu' type='raw'/>
      <source protocol='http' name='disk.img'>
        <host name='127.0.0.1' port='{port}'/>
        {extra}
      </source>
      <target dev='{dev}' bus='virtio'/>
      <readonly/>
    </disk>"
        )
    };
    let xml = firmware_vm(
        "http",
        // PCI hot-plug on pc goes through ACPI.
        "<features><acpi/></features>",
        &(disk(
            tuned.port,
            "vda",
            "<cookies><cookie name='test'>testcookievalue</cookie><cookie name='test2'>&quot;blurb&quot;</cookie></cookies>
        <readahead size='65536'/>
        <timeout seconds='20'/>",
        ) + &disk(plain.port, "vdb", "")),
    );
    let d = st.driver();
    let dom = d.define_xml(&xml).unwrap();
    d.start(&dom).unwrap();
    let log = st.root().join("log/qemu/http.log");
    taken(&tuned);
    taken(&plain);
    // The tuned disk: the cookies, and 64 KiB read ahead.
    let out = guest_read(&*d, &dom, &log, "virtio-disk0-storage", 1 << 20);
    assert!(out.contains("read 512/512 bytes"), "{out}");
    let reads = taken(&tuned);
    assert!(!reads.is_empty(), "no ranged read reached the server");
    for r in &reads {
        assert_eq!(r.cookie.as_deref(), Some(COOKIES), "{r:?}");
    }
    assert_eq!(reads[0].range, (1 << 20, (1 << 20) + 512 + 65536 - 1));
    // The plain one: no cookie, QEMU's default of 256 KiB.
    let out = guest_read(&*d, &dom, &log, "virtio-disk1-storage", 1 << 20);
    assert!(out.contains("read 512/512 bytes"), "{out}");
    let reads = taken(&plain);
    assert!(!reads.is_empty(), "no ranged read reached the server");
    assert!(reads.iter().all(|r| r.cookie.is_none()), "{reads:?}");
    assert_eq!(reads[0].range, (1 << 20, (1 << 20) + 512 + (256 << 10) - 1));
    // An answer 8 seconds late: past QEMU's default timeout, within the
    // disk's 20 seconds.
    tuned.delay_ms.store(8000, Ordering::SeqCst);
    let out = guest_read(&*d, &dom, &log, "virtio-disk0-storage", 3 << 20);
    assert!(out.contains("read 512/512 bytes"), "{out}");
    assert_eq!(taken(&tuned)[0].range.0, 3 << 20);
    // A disk with cookies plugged in while the domain runs: the same.
    tuned.delay_ms.store(0, Ordering::SeqCst);
    let plugged = disk(
        tuned.port,
        "vdc",
        "<cookies><cookie name='plugged'>yes</cookie></cookies>",
    );
    d.attach_device(&dom, &plugged, qvirt::driver::ModifyFlags::LIVE)
        .unwrap();
    taken(&tuned);
    let out = guest_read(&*d, &dom, &log, "virtio-disk2-storage", 2 << 20);
    assert!(out.contains("read 512/512 bytes"), "{out}");
    let reads = taken(&tuned);
    assert!(!reads.is_empty(), "no ranged read reached the server");
    assert!(
        reads
            .iter()
            .all(|r| r.cookie.as_deref() == Some("plugged=yes")),
        "{reads:?}"
    );
    // The cookies: in a private file, not on QEMU's command line, and
    // in the XML only with security information.
    let file = qvirt::qemu::argv::disk_cookie_file(&st.run_dir("http"), "virtio-disk0");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), COOKIES);
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let cmdline = std::fs::read(format!("/proc/{}/cmdline", st.qemu_pid("http"))).unwrap();
    assert!(!String::from_utf8_lossy(&cmdline).contains("testcookievalue"));
    let public = d.xml_desc(&dom, qvirt::driver::XmlFlags::NONE).unwrap();
    assert!(!public.contains("testcookievalue"), "{public}");
    assert!(public.contains("<readahead size='65536'/>"), "{public}");
    let secure = d.xml_desc(&dom, qvirt::driver::XmlFlags::SECURE).unwrap();
    assert!(
        secure.contains("<cookie name='test2'>\"blurb\"</cookie>"),
        "{secure}"
    );
    d.destroy(&dom).unwrap();
}
