//! SPICE over TLS (libvirt's `spice_tls`: here the state's
//! `config/pki/spice` holding a CA, a server certificate and its key): a
//! display with autoport gets a TLS port beside its plain one, named in
//! the live XML; a TLS client checks QEMU's certificate against the CA;
//! `defaultMode='secure'` makes the main channel refuse a client in the
//! clear (SPICE's "need secured" link error) while a channel written
//! `insecure` is still served there; `qvirt domdisplay` gives both ports
//! as virsh does. Without the certificates the start
//! is refused before QEMU runs, naming the directory.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::json;

use crate::nbd_tls::vms_under;
use crate::support::State;

fn spice_vm(name: &str) -> String {
    format!(
        "<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>32</memory>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <graphics type='spice' autoport='yes' defaultMode='secure'>
      <listen type='address' address='127.0.0.1'/>
      <channel name='inputs' mode='insecure'/>
    </graphics>
    <video><model type='qxl'/></video>
    <memballoon model='none'/>
  </devices>
</domain>"
    )
}

/// SPICE's link error for a channel `kind` (1 main, 3 inputs) asked for
/// in the clear on `port`: 0 when the server takes the link further.
fn link_error(port: u16, kind: u8) -> u32 {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    // SpiceLinkHeader (magic "REDQ", version 2.2, the size of what
    // follows), then SpiceLinkMess: connection 0, the channel, no caps.
    let mut msg = Vec::new();
    msg.extend_from_slice(b"REDQ");
    for v in [2u32, 2, 18] {
        msg.extend_from_slice(&v.to_le_bytes());
    }
    msg.extend_from_slice(&0u32.to_le_bytes());
    msg.extend_from_slice(&[kind, 0]);
    for v in [0u32, 0, 18] {
        msg.extend_from_slice(&v.to_le_bytes());
    }
    s.write_all(&msg).unwrap();
    // The reply's header, then SpiceLinkReply's error.
    let mut reply = [0u8; 20];
    s.read_exact(&mut reply).unwrap();
    assert_eq!(&reply[..4], b"REDQ", "not a SPICE reply: {reply:?}");
    u32::from_le_bytes(reply[16..20].try_into().unwrap())
}

/// `openssl s_client`'s account of a TLS handshake with `port`, checking
/// the server's certificate against `ca`.
fn tls_handshake(port: u16, ca: &std::path::Path) -> String {
    let out = Command::new("openssl")
        .args(["s_client", "-connect"])
        .arg(format!("127.0.0.1:{port}"))
        .arg("-CAfile")
        .arg(ca)
        .args(["-verify_return_error", "-brief"])
        .stdin(Stdio::null())
        .output()
        .expect("openssl runs (Debian package openssl)");
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn spice_over_tls_with_the_states_certificates() {
    let st = State::new("spicetls");
    let xml = spice_vm("stls");
    // No certificates yet: SPICE's TLS is off, and a secure default mode
    // cannot be had.
    let e = st.try_start(&xml).unwrap_err();
    assert!(
        e.message.contains("TLS") && e.message.contains("pki/spice"),
        "{e}"
    );
    assert!(vms_under(st.root()).is_empty(), "no QEMU is left");
    let pki = st.root().join("config/pki/spice");
    crate::nbd_tls::certificates(&pki, "IP:127.0.0.1");
    let d = st.driver();
    let dom = d.lookup_by_name("stls").unwrap();
    d.start(&dom).unwrap();
    drop(d);
    let mut qmp = st.qmp("stls");
    let spice = qmp.exec("query-spice", json!({}));
    let tls_port = spice["tls-port"]
        .as_u64()
        .unwrap_or_else(|| panic!("no TLS port: {spice}")) as u16;
    let port = spice["port"].as_u64().unwrap() as u16;
    assert_ne!(port, tls_port);
    drop(qmp);
    let live = st.live_xml("stls");
    assert!(
        live.contains(&format!("tlsPort='{tls_port}'")),
        "the live XML names the TLS port: {live}"
    );
    let cmdline = String::from_utf8_lossy(
        &std::fs::read(format!("/proc/{}/cmdline", st.qemu_pid("stls"))).unwrap(),
    )
    .replace('\0', " ");
    assert!(
        cmdline.contains(&format!("x509-dir={}", pki.display())),
        "{cmdline}"
    );
    // qvirt's domdisplay, as virsh's.
    let uri = format!("qemu:///embed?root={}", st.root().display());
    let out = Command::new(env!("CARGO_BIN_EXE_qvirt"))
        .args(["-c", &uri, "domdisplay", "stls"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("spice://127.0.0.1:{port}?tls-port={tls_port}\n"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let handshake = tls_handshake(tls_port, &pki.join("ca-cert.pem"));
    assert!(
        handshake.contains("Verification: OK"),
        "the TLS port's certificate: {handshake}"
    );
    // SPICE_LINK_ERR_NEED_SECURED (5) for main in the clear; inputs (written
    // insecure) is taken further (its error is not "need secured").
    assert_eq!(link_error(port, 1), 5, "main in the clear");
    assert_ne!(link_error(port, 3), 5, "inputs in the clear");
    st.stop("stls");
}
