//! TCP character devices over TLS (`<source tls='yes'>`): a serial port
//! of the Linux guest whose QEMU connects to an `openssl s_server` with
//! the CA certificate of the state's `config/pki/chardev`, and one with
//! `tls='no'` to a plain listener: what the guest writes to each arrives,
//! decrypted by the TLS server and as it is on the plain socket. Without
//! the CA certificate the start is refused before QEMU runs.

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::inguest::Shell;
use crate::nbd_tls::vms_under;
use crate::support::{State, linux_vm, poll};

/// `openssl s_server` on `port` of 127.0.0.1 with the server certificate
/// in `dir`, its output lines sent on a channel; killed when dropped.
struct TlsServer {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl TlsServer {
    fn serve(dir: &Path, port: u16) -> TlsServer {
        let mut child = Command::new("openssl")
            .args(["s_server", "-quiet", "-accept"])
            .arg(format!("127.0.0.1:{port}"))
            .arg("-cert")
            .arg(dir.join("server-cert.pem"))
            .arg("-key")
            .arg(dir.join("server-key.pem"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("openssl runs (Debian package openssl)");
        let out = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        poll(
            "openssl s_server to listen",
            Duration::from_secs(30),
            || std::net::TcpStream::connect(("127.0.0.1", port)).ok(),
        );
        TlsServer { child, lines }
    }

    /// Waits for a line holding `needle`.
    fn until(&self, needle: &str) {
        loop {
            let line = self
                .lines
                .recv_timeout(Duration::from_secs(60))
                .unwrap_or_else(|e| panic!("no '{needle}' from the TLS peer: {e}"));
            if line.contains(needle) {
                return;
            }
        }
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn a_serial_port_speaks_tls_with_tls_yes_and_plain_with_tls_no() {
    let st = State::new("chrtls");
    let server_dir = st.root().join("server-pki");
    crate::nbd_tls::certificates(&server_dir, "IP:127.0.0.1");
    let tls_port = free_port();
    let server = TlsServer::serve(&server_dir, tls_port);
    let plain = TcpListener::bind("127.0.0.1:0").unwrap();
    let plain_port = plain.local_addr().unwrap().port();
    let xml = linux_vm(
        "chrtls",
        128,
        "",
        &format!(
            "<serial type='tcp'><source mode='connect' host='127.0.0.1' service='{tls_port}' tls='yes'/>\
             <protocol type='raw'/><target port='1'/></serial>\
             <serial type='tcp'><source mode='connect' host='127.0.0.1' service='{plain_port}' tls='no'/>\
             <target port='2'/></serial><memballoon model='none'/>"
        ),
    );
    // No CA certificate in the state yet: refused before QEMU runs.
    let e = st.try_start(&xml).unwrap_err();
    assert!(e.message.contains("ca-cert.pem"), "{e}");
    assert!(vms_under(st.root()).is_empty(), "no QEMU is left");
    let client_dir = st.root().join("config/pki/chardev");
    std::fs::create_dir_all(&client_dir).unwrap();
    std::fs::copy(
        server_dir.join("ca-cert.pem"),
        client_dir.join("ca-cert.pem"),
    )
    .unwrap();
    let d = st.driver();
    let dom = d.lookup_by_name("chrtls").unwrap();
    d.start(&dom).unwrap();
    let (mut conn, _) = plain.accept().unwrap();
    let mut sh = Shell::open(&*d, "chrtls");
    sh.run("echo qvirt-over-tls > /dev/ttyS1");
    sh.run("echo qvirt-in-clear > /dev/ttyS2");
    server.until("qvirt-over-tls");
    conn.set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 256];
    while !String::from_utf8_lossy(&seen).contains("qvirt-in-clear") {
        let n = conn.read(&mut buf).expect("the plain port's bytes");
        assert!(
            n > 0,
            "the plain port closed: {:?}",
            String::from_utf8_lossy(&seen)
        );
        seen.extend_from_slice(&buf[..n]);
    }
    drop(sh);
    drop(d);
    st.stop("chrtls");
}
