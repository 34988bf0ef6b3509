//! NBD over TLS (`<source protocol='nbd' tls='yes' tlsHostname=...>`):
//! a qemu-nbd serving TLS with a certificate for another name than the
//! host QEMU connects to. With `tlsHostname` naming the certificate's
//! host the disk opens and reads the export; without it QEMU refuses the
//! server's certificate; without the CA certificate in the state's
//! `config/pki/nbd` the start is refused before QEMU runs.

use std::path::Path;
use std::process::{Child, Command};
use std::time::Duration;

use serde_json::json;

use crate::disk_sources::{qmp, read_node};
use crate::support::{State, firmware_vm, must, poll, qemus_under};

const SERVER_NAME: &str = "other.example";

/// The QEMUs (not qemu-nbd) running under `root`.
pub fn vms_under(root: &Path) -> Vec<i32> {
    qemus_under(root)
        .into_iter()
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).contains("qemu-system"))
        })
        .collect()
}

/// A CA and a server certificate for `alt_name` (`DNS:NAME` or
/// `IP:ADDRESS`) signed by it, in `dir` as QEMU's x509 credentials name
/// them.
pub fn certificates(dir: &Path, alt_name: &str) {
    std::fs::create_dir_all(dir).unwrap();
    let at = |f: &str| dir.join(f).to_string_lossy().into_owned();
    must(Command::new("openssl").args([
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=qvirt test CA",
        "-keyout",
        &at("ca-key.pem"),
        "-out",
        &at("ca-cert.pem"),
    ]));
    must(Command::new("openssl").args([
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=qvirt test server",
        "-keyout",
        &at("server-key.pem"),
        "-out",
        &at("server.csr"),
    ]));
    std::fs::write(
        dir.join("ext.cnf"),
        format!(
            "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName={alt_name}\n"
        ),
    )
    .unwrap();
    must(Command::new("openssl").args([
        "x509",
        "-req",
        "-days",
        "2",
        "-in",
        &at("server.csr"),
        "-CA",
        &at("ca-cert.pem"),
        "-CAkey",
        &at("ca-key.pem"),
        "-CAcreateserial",
        "-extfile",
        &at("ext.cnf"),
        "-out",
        &at("server-cert.pem"),
    ]));
}

/// qemu-nbd serving `image` as export `disk` over TLS on a TCP port of
/// 127.0.0.1, killed when dropped.
struct TlsNbd(Child);

impl TlsNbd {
    fn serve(image: &Path, creds: &Path) -> (TlsNbd, u16) {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let child = Command::new("qemu-nbd")
            .arg("--object")
            .arg(format!(
                "tls-creds-x509,id=tls0,dir={},endpoint=server,verify-peer=off",
                creds.display()
            ))
            .args([
                "--tls-creds",
                "tls0",
                "--persistent",
                "--shared=4",
                "-f",
                "raw",
            ])
            .args(["-x", "disk", "-b", "127.0.0.1", "-p", &port.to_string()])
            .arg(image)
            .spawn()
            .expect("qemu-nbd runs (Debian package qemu-utils)");
        let server = TlsNbd(child);
        poll("qemu-nbd to listen", Duration::from_secs(30), || {
            std::net::TcpStream::connect(("127.0.0.1", port)).ok()
        });
        (server, port)
    }
}

impl Drop for TlsNbd {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn nbd_disk(name: &str, port: u16, hostname: Option<&str>) -> String {
    let attr = hostname.map_or(String::new(), |h| format!(" tlsHostname='{h}'"));
    firmware_vm(
        name,
        "",
        &format!(
            "<disk type='network' device='disk'>
      <driver name='qemu' type='raw'/>
      <source protocol='nbd' name='disk' tls='yes'{attr}>
        <host name='127.0.0.1' port='{port}'/>
      </source>
      <target dev='vda' bus='virtio'/>
      <readonly/>
    </disk>"
        ),
    )
}

#[test]
fn nbd_over_tls_checks_the_server_certificate_against_tls_hostname() {
    let st = State::new("nbd-tls");
    let server_dir = st.root().join("server-pki");
    certificates(&server_dir, &format!("DNS:{SERVER_NAME}"));
    let image = st.root().join("export.img");
    std::fs::write(&image, vec![0x3cu8; 1 << 20]).unwrap();
    let (_server, port) = TlsNbd::serve(&image, &server_dir);
    let d = st.driver();
    let named = d
        .define_xml(&nbd_disk("named", port, Some(SERVER_NAME)))
        .unwrap();
    // No CA certificate for the client yet: refused before QEMU runs.
    let client_dir = st.root().join("config/pki/nbd");
    assert!(!client_dir.join("ca-cert.pem").exists());
    let e = d.start(&named).unwrap_err();
    assert!(e.message.contains("ca-cert.pem"), "{e}");
    assert!(vms_under(st.root()).is_empty());
    std::fs::create_dir_all(&client_dir).unwrap();
    std::fs::copy(
        server_dir.join("ca-cert.pem"),
        client_dir.join("ca-cert.pem"),
    )
    .unwrap();
    // The certificate's name given: the disk opens and reads the export.
    d.start(&named).unwrap();
    let block = qmp(&*d, &named, "query-block", json!({}));
    let vda = qvirt::qemu::qmp::device_entry(&block, "virtio-disk0").unwrap()["inserted"].clone();
    assert_eq!(vda["drv"], "nbd", "{vda}");
    let seen = read_node(&*d, &named, st.root(), "virtio-disk0-storage", 1 << 20);
    assert!(seen.iter().all(|&b| b == 0x3c), "the export's bytes");
    d.destroy(&named).unwrap();
    // Without it, QEMU checks the certificate against 127.0.0.1.
    let unnamed = d.define_xml(&nbd_disk("unnamed", port, None)).unwrap();
    let e = d.start(&unnamed).unwrap_err();
    assert!(
        e.message.contains("certificate") || e.message.contains("hostname"),
        "{e}"
    );
    assert!(vms_under(st.root()).is_empty());
}
