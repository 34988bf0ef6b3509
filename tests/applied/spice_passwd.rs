//! A SPICE password change and the clients connected to the display:
//! `connected='keep'` leaves a client's main channel up, `'disconnect'`
//! closes it, `'fail'` refuses the change while a client is connected
//! (libvirt's qemuDomainChangeGraphicsPasswords hands it to QEMU's
//! `set_password`). The client is a real SPICE main channel link,
//! authenticated with its ticket: the password encrypted with the
//! server's RSA key (OAEP), by `openssl pkeyutl`. VNC takes `keep` only,
//! refused otherwise as libvirt refuses it.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

use qvirt::driver::{ModifyFlags, XmlFlags};

use crate::support::State;

fn spice_vm(name: &str) -> String {
    format!(
        "<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>32</memory>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <graphics type='spice' autoport='yes' passwd='s3cret' connected='keep'>
      <listen type='address' address='127.0.0.1'/>
    </graphics>
    <video><model type='qxl'/></video>
    <memballoon model='none'/>
  </devices>
</domain>"
    )
}

/// A SPICE client on the main channel of the display at `port`, logged
/// in with `password`; `None` when the server turns the ticket away.
fn spice_client(port: u16, password: &str, dir: &std::path::Path) -> Option<TcpStream> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    // SpiceLinkHeader (magic, version 2.2, the size of SpiceLinkMess),
    // then SpiceLinkMess: a new connection, the main channel (1), no
    // capabilities (so the server asks for the ticket, SPICE's first
    // authentication).
    let mut msg = Vec::new();
    msg.extend_from_slice(b"REDQ");
    for v in [2u32, 2, 18, 0] {
        msg.extend_from_slice(&v.to_le_bytes());
    }
    msg.extend_from_slice(&[1, 0]);
    for v in [0u32, 0, 18] {
        msg.extend_from_slice(&v.to_le_bytes());
    }
    s.write_all(&msg).unwrap();
    let mut header = [0u8; 16];
    s.read_exact(&mut header).unwrap();
    assert_eq!(&header[..4], b"REDQ", "not a SPICE reply: {header:?}");
    let size = u32::from_le_bytes(header[12..16].try_into().unwrap()) as usize;
    let mut reply = vec![0u8; size];
    s.read_exact(&mut reply).unwrap();
    assert_eq!(reply[..4], [0, 0, 0, 0], "the link was refused");
    // SpiceLinkReply's public key (DER), which encrypts the ticket: the
    // password and its terminating NUL.
    let key = dir.join("spice-key.der");
    std::fs::write(&key, &reply[4..166]).unwrap();
    let plain = dir.join("ticket.txt");
    std::fs::write(&plain, format!("{password}\0")).unwrap();
    let out = Command::new("openssl")
        .args(["pkeyutl", "-encrypt", "-pubin", "-keyform", "DER", "-inkey"])
        .arg(&key)
        .args(["-pkeyopt", "rsa_padding_mode:oaep", "-in"])
        .arg(&plain)
        .output()
        .expect("openssl runs (Debian package openssl)");
    assert!(out.status.success(), "openssl: {out:?}");
    assert_eq!(out.stdout.len(), 128, "a 1024-bit RSA block");
    s.write_all(&out.stdout).unwrap();
    let mut result = [0u8; 4];
    s.read_exact(&mut result).unwrap();
    (u32::from_le_bytes(result) == 0).then_some(s)
}

/// Whether the server closed `s` (after any messages it sent first).
fn closed(s: &mut TcpStream) -> bool {
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
            Err(_) => return false,
        }
    }
}

/// Whether `s` is still open: nothing, or only the server's messages,
/// within a moment.
fn still_open(s: &mut TcpStream) -> bool {
    s.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return false,
            Ok(_) => continue,
            Err(e) => {
                return matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                );
            }
        }
    }
}

#[test]
fn a_spice_password_change_keeps_disconnects_or_fails_as_connected_says() {
    let st = State::new("spicepw");
    st.start(&spice_vm("spw"));
    let d = st.driver();
    let dom = d.lookup_by_name("spw").unwrap();
    let live = d.xml_desc(&dom, XmlFlags::SECURE).unwrap();
    assert!(live.contains("connected='keep'"), "{live}");
    let port: u16 = {
        let doc = roxmltree::Document::parse(&live).unwrap();
        let g = doc
            .descendants()
            .find(|n| n.has_tag_name("graphics"))
            .unwrap();
        g.attribute("port").unwrap().parse().unwrap()
    };
    let dir = st.root();
    assert!(spice_client(port, "wrong", dir).is_none(), "a wrong ticket");
    let graphics = |attrs: &str| {
        format!(
            "<graphics type='spice' autoport='yes' {attrs}><listen type='address' address='127.0.0.1'/></graphics>"
        )
    };

    // The SPICE channels QEMU has clients on.
    let channels = || {
        let out = d
            .qemu_monitor_command(&dom, r#"{"execute":"query-spice"}"#)
            .unwrap();
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        v["return"]["channels"].as_array().map_or(0, Vec::len)
    };
    // keep: the client stays, and the new password lets the next one in.
    let mut client = spice_client(port, "s3cret", dir).expect("logged in");
    assert_eq!(channels(), 1, "QEMU counts the client");
    d.update_device(
        &dom,
        &graphics("passwd='n3w0ne' connected='keep'"),
        ModifyFlags::LIVE,
    )
    .unwrap();
    assert!(still_open(&mut client), "a kept client was let go");
    assert!(spice_client(port, "s3cret", dir).is_none(), "the old one");

    // fail: refused while a client is connected; the password stays.
    let e = d
        .update_device(
            &dom,
            &graphics("passwd='th1rd' connected='fail'"),
            ModifyFlags::LIVE,
        )
        .unwrap_err();
    assert!(still_open(&mut client), "{e}");
    let live = d.xml_desc(&dom, XmlFlags::SECURE).unwrap();
    assert!(live.contains("passwd='n3w0ne'"), "{live}");

    // disconnect: the client is shown the door, and the live XML says
    // what the last change asked for.
    d.update_device(
        &dom,
        &graphics("passwd='th1rd' connected='disconnect'"),
        ModifyFlags::LIVE,
    )
    .unwrap();
    assert!(closed(&mut client), "the client was not disconnected");
    let live = d.xml_desc(&dom, XmlFlags::SECURE).unwrap();
    assert!(
        live.contains("passwd='th1rd'") && live.contains("connected='disconnect'"),
        "{live}"
    );
    // With nobody connected, fail changes the password.
    let next = spice_client(port, "th1rd", dir).expect("the new password");
    next.shutdown(std::net::Shutdown::Both).unwrap();
    // Once QEMU lists no SPICE channel of a client.
    crate::support::poll("the client gone from QEMU", Duration::from_secs(30), || {
        (channels() == 0).then_some(())
    });
    d.update_device(
        &dom,
        &graphics("passwd='f0urth' connected='fail'"),
        ModifyFlags::LIVE,
    )
    .unwrap();
    assert!(spice_client(port, "f0urth", dir).is_some());
    // The persistent definition keeps what it was given.
    let kept = d
        .xml_desc(&dom, XmlFlags::SECURE | XmlFlags::INACTIVE)
        .unwrap();
    assert!(kept.contains("passwd='s3cret' connected='keep'"), "{kept}");
    drop(d);
    st.stop("spw");
}
