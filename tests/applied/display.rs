//! The display's settings on a running QEMU: VNC's `sharePolicy`, seen
//! by two RFB clients on the display's UNIX socket (no network), the
//! second asking for the display to itself; the WebSocket listener a
//! browser client (noVNC) upgrades its HTTP connection on; the password
//! and its expiry (`passwdValidTo`), through VNC authentication; power
//! control (XVP) offered to a client; the cards' initial resolution.

use std::io::{ErrorKind, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use crate::support::State;

/// A domain with VNC display `graphics` and a VGA card.
fn vnc_vm(name: &str, graphics: &str) -> String {
    format!(
        "<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>32</memory>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    {graphics}
    <video><model type='vga'/></video>
    <memballoon model='none'/>
  </devices>
</domain>"
    )
}

/// An RFB connection to `socket` after the version exchange (3.8), with
/// the security types the server offers.
fn rfb_hello(socket: &Path) -> (UnixStream, Vec<u8>) {
    let mut s =
        UnixStream::connect(socket).unwrap_or_else(|e| panic!("connect {}: {e}", socket.display()));
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut version = [0u8; 12];
    s.read_exact(&mut version).unwrap();
    assert_eq!(&version, b"RFB 003.008\n");
    s.write_all(b"RFB 003.008\n").unwrap();
    let mut count = [0u8; 1];
    s.read_exact(&mut count).unwrap();
    let mut types = vec![0u8; usize::from(count[0])];
    s.read_exact(&mut types).unwrap();
    (s, types)
}

/// An RFB client through the handshake (version 3.8, no security), whose
/// ClientInit asks to share the display or to have it alone; `None` when
/// the server closes the connection instead of its ServerInit.
fn rfb_client(socket: &Path, shared: bool) -> Option<UnixStream> {
    let (mut s, types) = rfb_hello(socket);
    assert!(types.contains(&1), "no 'None' security type: {types:?}");
    s.write_all(&[1]).unwrap();
    let mut result = [0u8; 4];
    s.read_exact(&mut result).unwrap();
    assert_eq!(result, [0, 0, 0, 0], "security handshake failed");
    s.write_all(&[u8::from(shared)]).unwrap();
    // ServerInit: size, pixel format, then the name.
    let mut init = [0u8; 24];
    match s.read_exact(&mut init) {
        Ok(()) => {}
        Err(e) if e.kind() == ErrorKind::UnexpectedEof => return None,
        Err(e) => panic!("reading ServerInit: {e}"),
    }
    let len = u32::from_be_bytes([init[20], init[21], init[22], init[23]]);
    let mut name = vec![0u8; len as usize];
    s.read_exact(&mut name).unwrap();
    Some(s)
}

/// Whether the server closes `s` within `wait` (it sends nothing
/// unasked, so a read ends only with the close or the timeout).
fn closed_within(s: &mut UnixStream, wait: Duration) -> bool {
    s.set_read_timeout(Some(wait)).unwrap();
    let mut byte = [0u8; 1];
    match s.read(&mut byte) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => false,
        Err(e) if e.kind() == ErrorKind::ConnectionReset => true,
        Err(e) => panic!("reading from the VNC server: {e}"),
    }
}

/// `sharePolicy='allow-exclusive'`: a client that asks for the display
/// alone gets it, and the others' sessions end; `force-shared`: such a
/// client is turned away, and the others stay.
#[test]
fn vnc_share_policy_decides_who_stays() {
    let st = State::new("vncshare");
    for (name, policy, exclusive_wins) in [
        ("excl", "allow-exclusive", true),
        ("shared", "force-shared", false),
    ] {
        st.start(&vnc_vm(
            name,
            &format!(
                "<graphics type='vnc' sharePolicy='{policy}'><listen type='socket'/></graphics>"
            ),
        ));
        let socket = st.run_dir(name).join("vnc.sock");
        let mut first = rfb_client(&socket, true).expect("a shared client is let in");
        let alone = rfb_client(&socket, false);
        assert_eq!(
            alone.is_some(),
            exclusive_wins,
            "{policy}: the exclusive client"
        );
        // A close is waited for as long as a loaded host may need; that
        // none comes, for a second.
        let wait = Duration::from_secs(if exclusive_wins { 30 } else { 1 });
        assert_eq!(
            closed_within(&mut first, wait),
            exclusive_wins,
            "{policy}: the first client, once another asked for the display alone"
        );
        st.stop(name);
    }
}

/// VNC's `websocket='-1'`: each domain's WebSocket listener gets its own
/// port from 5700 up, shown in the live XML (the definition keeps -1),
/// and a browser client's upgrade request there is answered by QEMU's
/// WebSocket server.
#[test]
fn vnc_websocket_ports_are_picked_and_answer_an_upgrade() {
    let st = State::new("vncws");
    let mut ports = Vec::new();
    for name in ["ws1", "ws2"] {
        st.start(&vnc_vm(
            name,
            "<graphics type='vnc' autoport='yes' websocket='-1' listen='127.0.0.1'/>",
        ));
        let live = st.live_xml(name);
        let port: u16 = live
            .split("websocket='")
            .nth(1)
            .and_then(|r| r.split('\'').next())
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("a websocket port in the live XML: {live}"));
        assert!(port >= 5700, "{live}");
        let d = st.driver();
        let dom = d.lookup_by_name(name).unwrap();
        let inactive = d.xml_desc(&dom, qvirt::driver::XmlFlags::INACTIVE).unwrap();
        assert!(inactive.contains("websocket='-1'"), "{inactive}");
        let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        write!(
            s,
            "GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
             Sec-WebSocket-Protocol: binary\r\nOrigin: http://127.0.0.1\r\n\r\n"
        )
        .unwrap();
        let mut answer = [0u8; 64];
        let n = s.read(&mut answer).unwrap();
        let answer = String::from_utf8_lossy(&answer[..n]);
        assert!(
            answer.starts_with("HTTP/1.1 101"),
            "{name}: the upgrade answered {answer:?}"
        );
        ports.push(port);
    }
    assert_ne!(ports[0], ports[1], "each domain its own port");
    st.stop("ws1");
    st.stop("ws2");
}

/// The RFB handshake with VNC authentication on `socket`: the server's
/// 16-byte challenge encrypted with DES under `password` (VNC's key: the
/// password's first 8 bytes, each with its bits reversed), computed by
/// OpenSSL's legacy DES. Whether the server accepts it.
fn vnc_auth(socket: &Path, password: &str) -> bool {
    let (mut s, types) = rfb_hello(socket);
    assert!(
        types.contains(&2),
        "no VNC authentication offered: {types:?}"
    );
    s.write_all(&[2]).unwrap();
    let mut challenge = [0u8; 16];
    s.read_exact(&mut challenge).unwrap();
    let mut key = [0u8; 8];
    for (k, b) in key.iter_mut().zip(password.bytes()) {
        *k = b.reverse_bits();
    }
    let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
    let mut des = std::process::Command::new("openssl")
        .args(["enc", "-des-ecb", "-nopad", "-K", &hex])
        .args(["-provider", "legacy", "-provider", "default"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("openssl runs");
    des.stdin.take().unwrap().write_all(&challenge).unwrap();
    let out = des.wait_with_output().unwrap();
    assert!(
        out.status.success() && out.stdout.len() == 16,
        "openssl: {out:?}"
    );
    s.write_all(&out.stdout).unwrap();
    let mut result = [0u8; 4];
    s.read_exact(&mut result).unwrap();
    result == [0, 0, 0, 0]
}

/// `passwd` is asked for by VNC authentication, and `passwdValidTo` ends
/// it: the right password is let in before that moment and turned away
/// after it (QMP `expire_password`); the live XML keeps the moment.
#[test]
fn vnc_password_and_its_expiry_decide_who_gets_in() {
    let st = State::new("vncpasswd");
    for (name, valid_to, admitted) in [
        ("valid", "2099-01-01T00:00:00", true),
        ("expired", "2000-01-01T00:00:00", false),
    ] {
        st.start(&vnc_vm(
            name,
            &format!(
                "<graphics type='vnc' passwd='s3cret' passwdValidTo='{valid_to}'><listen type='socket'/></graphics>"
            ),
        ));
        let socket = st.run_dir(name).join("vnc.sock");
        assert!(!vnc_auth(&socket, "wrong"), "{name}: a wrong password");
        assert_eq!(
            vnc_auth(&socket, "s3cret"),
            admitted,
            "{name}: the password"
        );
        let live = st.live_xml(name);
        assert!(
            live.contains(&format!("passwdValidTo='{valid_to}'")),
            "{live}"
        );
        st.stop(name);
    }
}

/// `update-device` of the display: a new password lets its holder in and
/// turns the old one away at once, a moment in the past ends it, both in
/// the running QEMU and in the definition; a change of anything else
/// (the port) is refused by name and changes nothing.
#[test]
fn a_vnc_password_changes_while_the_domain_runs() {
    let st = State::new("vncupdate");
    st.start(&vnc_vm(
        "vncup",
        "<graphics type='vnc' passwd='s3cret'><listen type='socket'/></graphics>",
    ));
    let socket = st.run_dir("vncup").join("vnc.sock");
    assert!(vnc_auth(&socket, "s3cret"));
    let d = st.driver();
    let dom = d.lookup_by_name("vncup").unwrap();
    let both = qvirt::driver::ModifyFlags::new(true, true);
    let graphics =
        |attrs: &str| format!("<graphics type='vnc' {attrs}><listen type='socket'/></graphics>");
    d.update_device(&dom, &graphics("passwd='n3w0ne'"), both)
        .unwrap();
    assert!(!vnc_auth(&socket, "s3cret"), "the old password");
    assert!(vnc_auth(&socket, "n3w0ne"), "the new password");
    use qvirt::driver::XmlFlags;
    for flags in [XmlFlags::SECURE, XmlFlags::SECURE | XmlFlags::INACTIVE] {
        let xml = d.xml_desc(&dom, flags).unwrap();
        assert!(xml.contains("passwd='n3w0ne'"), "{xml}");
    }
    // The port is not the password's to change.
    let e = d
        .update_device(
            &dom,
            &graphics("port='5999' autoport='no' passwd='x'"),
            both,
        )
        .unwrap_err();
    assert_eq!(e.code, qvirt::ErrorCode::NoSupport, "{e}");
    assert!(e.message.contains("cannot change port settings"), "{e}");
    assert!(vnc_auth(&socket, "n3w0ne"), "unchanged");
    // Expired: nobody gets in any more.
    d.update_device(
        &dom,
        &graphics("passwd='n3w0ne' passwdValidTo='2000-01-01T00:00:00'"),
        qvirt::driver::ModifyFlags::LIVE,
    )
    .unwrap();
    assert!(!vnc_auth(&socket, "n3w0ne"), "an expired password");
    drop(d);
    st.stop("vncup");
}

/// `<graphics type='egl-headless'>` beside VNC: QEMU renders on the
/// host's first GPU render node (`-display egl-headless,rendernode=...`,
/// read in QEMU's `/proc/PID/cmdline`); on a host without one the start
/// is refused before QEMU runs, naming the need.
#[test]
fn egl_headless_needs_a_render_node() {
    let st = State::new("egl");
    let xml = vnc_vm(
        "egl",
        "<graphics type='vnc'><listen type='socket'/></graphics><graphics type='egl-headless'/>",
    );
    let nodes: Vec<String> = std::fs::read_dir("/dev/dri")
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with("renderD"))
                .collect()
        })
        .unwrap_or_default();
    match st.try_start(&xml) {
        Ok(()) => {
            assert!(!nodes.is_empty(), "started without a render node");
            let pid = st.qemu_pid("egl");
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap();
            let args = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            assert!(
                args.contains("-display egl-headless,rendernode=/dev/dri/renderD"),
                "{args}"
            );
            st.stop("egl");
        }
        Err(e) => {
            assert!(nodes.is_empty(), "this host has {nodes:?}, yet: {e}");
            assert!(e.message.contains("render node"), "{e}");
            assert!(
                crate::support::qemus_under(st.root()).is_empty(),
                "a QEMU was left"
            );
        }
    }
}

/// `<listen type='network'>`: the display would listen on a libvirt
/// network's address; this host has no such network, and the start says
/// so before QEMU runs. The definition keeps the listen as written.
#[test]
fn a_display_on_a_network_address_needs_that_network() {
    let st = State::new("listen-net");
    let xml = vnc_vm(
        "ln",
        "<graphics type='vnc'><listen type='network' network='ovirtmgmt'/></graphics>",
    );
    let e = st.try_start(&xml).unwrap_err();
    assert!(
        e.message.contains("network 'ovirtmgmt'") && e.message.contains("no such libvirt network"),
        "{e}"
    );
    assert!(
        crate::support::qemus_under(st.root()).is_empty(),
        "a QEMU was left"
    );
    let d = st.driver();
    let dom = d.lookup_by_name("ln").unwrap();
    let xml = d.xml_desc(&dom, qvirt::driver::XmlFlags::INACTIVE).unwrap();
    assert!(
        xml.contains("<listen type='network' network='ovirtmgmt'/>"),
        "{xml}"
    );
}

/// `<model><resolution>`: the size each card offers its guest first
/// (QEMU's `xres`/`yres`, read back from the running devices).
#[test]
fn video_resolution_reaches_the_cards() {
    let st = State::new("videores");
    st.start(
        "<domain type='qemu'>
  <name>res</name>
  <memory unit='MiB'>64</memory>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <graphics type='vnc'><listen type='socket'/></graphics>
    <video><model type='qxl' primary='yes'><resolution x='1280' y='720'/></model></video>
    <video><model type='virtio'><resolution x='1024' y='768'/></model></video>
    <memballoon model='none'/>
  </devices>
</domain>",
    );
    let mut qmp = st.qmp("res");
    for (dev, x, y) in [("video0", 1280, 720), ("video1", 1024, 768)] {
        let path = format!("/machine/peripheral/{dev}");
        assert_eq!(qmp.qom_get(&path, "xres"), x, "{dev}");
        assert_eq!(qmp.qom_get(&path, "yres"), y, "{dev}");
    }
    drop(qmp);
    let live = st.live_xml("res");
    assert!(live.contains("<resolution x='1024' y='768'/>"), "{live}");
    st.stop("res");
}

/// `powerControl`: the server offers the XVP extension (power actions)
/// to a client that asks for it, and only when the domain allows it.
#[test]
fn vnc_power_control_offers_xvp() {
    let st = State::new("vncxvp");
    for (name, attr, offered) in [("xvp", " powerControl='yes'", true), ("noxvp", "", false)] {
        st.start(&vnc_vm(
            name,
            &format!("<graphics type='vnc'{attr}><listen type='socket'/></graphics>"),
        ));
        let socket = st.run_dir(name).join("vnc.sock");
        let mut s = rfb_client(&socket, true).expect("a VNC session");
        // SetEncodings: one encoding, XVP's pseudo-encoding (-309).
        let mut msg = vec![2, 0, 0, 1];
        msg.extend_from_slice(&(-309i32).to_be_bytes());
        s.write_all(&msg).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(if offered { 10 } else { 2 })))
            .unwrap();
        let mut init = [0u8; 4];
        let got = s.read_exact(&mut init);
        if offered {
            got.unwrap_or_else(|e| panic!("{name}: no XVP message: {e}"));
            // ServerXvp: type 250, padding, version 1, code XVP_INIT.
            assert_eq!(init, [250, 0, 1, 1], "{name}");
        } else {
            assert!(
                got.is_err(),
                "{name}: an XVP message {init:?} without powerControl"
            );
        }
        let live = st.live_xml(name);
        assert_eq!(live.contains("powerControl='yes'"), offered, "{live}");
        st.stop(name);
    }
}
