//! The options of an HTTP disk (QEMU's curl driver), seen from the web
//! server the test runs: every ranged read of a disk with `<cookies>`
//! carries them in its `Cookie` header, `<readahead size>` sets how far
//! beyond the guest's read each request reaches, and `<timeout seconds>`
//! lets a slow answer through that QEMU's default (5 seconds) would give
//! up on. The cookies are handed to QEMU in a private file and written
//! only in the XML with security information. Over HTTPS, `<ssl
//! verify='no'>` lets QEMU read a disk from a server whose certificate
//! it does not trust, which it refuses without it.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::atomic::Ordering;

use serde_json::json;

use crate::disk_sources::qmp;
use crate::support::{RangeServer, RangedRead, State, firmware_vm, must, poll};

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

/// A TLS front (socat) on a port of 127.0.0.1 for the plain HTTP server
/// on `backend`, with a self-signed certificate made in `dir`: a server
/// no certificate authority vouches for. Killed when dropped.
struct TlsFront(std::process::Child, u16);

impl TlsFront {
    fn serve(dir: &Path, backend: u16) -> TlsFront {
        let (key, cert) = (dir.join("key.pem"), dir.join("cert.pem"));
        must(std::process::Command::new("openssl").args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            &key.to_string_lossy(),
            "-out",
            &cert.to_string_lossy(),
        ]));
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let child = std::process::Command::new("socat")
            .arg(format!(
                "OPENSSL-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork,verify=0,cert={},key={}",
                cert.display(),
                key.display()
            ))
            .arg(format!("TCP:127.0.0.1:{backend}"))
            .spawn()
            .expect("socat runs (Debian package socat, installed by scripts/deps.sh)");
        let front = TlsFront(child, port);
        poll(
            "socat to listen",
            std::time::Duration::from_secs(30),
            || std::net::TcpStream::connect(("127.0.0.1", port)).ok(),
        );
        front
    }
}

impl Drop for TlsFront {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn https_disk_without_certificate_verification_reads_from_an_untrusted_server() {
    let st = State::new("disk-https");
    let image = st.root().join("disk.img");
    let bytes: Vec<u8> = (0..4u32 << 20).map(|i| (i % 253) as u8).collect();
    std::fs::write(&image, &bytes).unwrap();
    let server = RangeServer::serve(&image);
    let front = TlsFront::serve(st.root(), server.port);
    let disk = |dev: &str, ssl: &str| {
        format!(
            "<disk type='network' device='disk'>
      <driver name='qemu' type='raw'/>
      <source protocol='https' name='disk.img'>
        <host name='127.0.0.1' port='{}'/>
        {ssl}
      </source>
      <target dev='{dev}' bus='virtio'/>
      <readonly/>
    </disk>",
            front.1
        )
    };
    // Without verify='no', QEMU would not start: checked below on the
    // same server by plugging the disk in without it.
    let xml = firmware_vm(
        "https",
        "<features><acpi/></features>",
        &disk("vda", "<ssl verify='no'/>"),
    );
    let d = st.driver();
    let dom = d.define_xml(&xml).unwrap();
    d.start(&dom).unwrap();
    let log = st.root().join("log/qemu/https.log");
    taken(&server);
    // Through TLS to the server behind it (far from what the firmware
    // read at boot, so not from the driver's cache).
    let out = guest_read(&*d, &dom, &log, "virtio-disk0-storage", 2 << 20);
    assert!(out.contains("read 512/512 bytes"), "{out}");
    let reads = taken(&server);
    assert!(
        reads.iter().any(|r| r.range.0 == 2 << 20),
        "no ranged read through the TLS front: {reads:?}"
    );
    let live = d.xml_desc(&dom, qvirt::driver::XmlFlags::NONE).unwrap();
    assert!(live.contains("<ssl verify='no'/>"), "{live}");
    // The same server with verification (QEMU's default, and said
    // outright): QEMU refuses its certificate, the domain runs on.
    for (dev, ssl) in [("vdb", ""), ("vdc", "<ssl verify='yes'/>")] {
        let err = d
            .attach_device(&dom, &disk(dev, ssl), qvirt::driver::ModifyFlags::LIVE)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("certificate verification failed"),
            "{dev}: {err}"
        );
        let live = d.xml_desc(&dom, qvirt::driver::XmlFlags::NONE).unwrap();
        assert!(!live.contains(&format!("dev='{dev}'")), "{live}");
    }
    assert_eq!(
        d.info(&dom).unwrap().state,
        qvirt::driver::DomainState::Running
    );
    let out = guest_read(&*d, &dom, &log, "virtio-disk0-storage", 3 << 20);
    assert!(out.contains("read 512/512 bytes"), "{out}");
    assert!(taken(&server).iter().any(|r| r.range.0 == 3 << 20));
    d.destroy(&dom).unwrap();
}
