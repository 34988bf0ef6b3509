//! Networking: user networking with forwarded ports (the Linux guest's
//! HTTP server reached from the host), a taken host port refused before
//! QEMU starts, and libvirt networks refused with a pointer to what
//! works. Bridges and taps need a network namespace of their own: they
//! are tested in tests/netns.rs.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use qvirt::driver::DomainState;
use qvirt::driver::XmlFlags;
use qvirt::{DomainDef, ErrorCode};

use crate::*;

/// What the guest's HTTP server answers `GET /` with.
const HTTP_OK: &str = "qvirt-guest-http-ok";

/// A TCP port on loopback that was free a moment ago.
fn free_port() -> u16 {
    let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind port 0");
    l.local_addr().expect("local address").port()
}

/// `GET /` on 127.0.0.1:`port`; the whole answer, or why it failed.
fn http_get(port: u16) -> Result<String, String> {
    let mut s = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| e.to_string())?;
    s.write_all(b"GET / HTTP/1.0\r\nHost: guest\r\n\r\n")
        .map_err(|e| e.to_string())?;
    let mut answer = String::new();
    s.read_to_string(&mut answer).map_err(|e| e.to_string())?;
    Ok(answer)
}

/// The IPv4 addresses with a TCP socket listening on `port`, from
/// /proc/net/tcp (this process shares QEMU's network namespace).
fn listeners(port: u16) -> Vec<String> {
    let table = std::fs::read_to_string("/proc/net/tcp").expect("read /proc/net/tcp");
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (addr, p) = fields.get(1)?.split_once(':')?;
            // State 0A is LISTEN; the address is in the host's byte order.
            if fields.get(3) != Some(&"0A") || u16::from_str_radix(p, 16).ok()? != port {
                return None;
            }
            let raw = u32::from_str_radix(addr, 16).ok()?;
            Some(Ipv4Addr::from(u32::from_be(raw)).to_string())
        })
        .collect()
}

/// The Linux guest with user networking and a forward of a host port to
/// its port 80: an HTTP GET on the host port returns the file the guest
/// serves. The live XML shows the interface's MAC, model and forward.
pub fn guest_port_forward_http(cx: &mut Ctx<'_>) {
    let d = cx.d();
    let port = free_port();
    let vm = Vm::linux("lx-net").kernel_args("guestnet").device(&format!(
        "<interface type='user'><mac address='52:54:00:aa:bb:01'/><model type='virtio'/>\
         <portForward proto='tcp'><range start='{port}' to='80'/></portForward></interface>"
    ));
    let (dom, _console) = boot_guest(d, &vm);
    // The marker comes once httpd runs; the forward answers right away.
    let deadline = Instant::now() + QUICK;
    let answer = loop {
        match http_get(port) {
            Ok(a) if a.contains(HTTP_OK) => break a,
            other => assert!(
                Instant::now() < deadline,
                "no '{HTTP_OK}' from 127.0.0.1:{port} within {QUICK:?}; last: {other:?}"
            ),
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(answer.starts_with("HTTP/1."), "{answer}");
    // With no address given, QEMU listens on loopback only.
    assert_eq!(listeners(port), ["127.0.0.1"], "listening addresses");
    let live = DomainDef::from_xml(&d.xml_desc(&dom, XmlFlags::NONE).unwrap()).unwrap();
    let net = &live.devices.interfaces[0];
    assert_eq!(net.mac.to_string(), "52:54:00:aa:bb:01");
    assert_eq!(net.model.as_deref(), Some("virtio"));
    let fwd = &net.port_forwards[0];
    assert_eq!(fwd.ranges[0].start, port);
    assert_eq!(fwd.ranges[0].to, Some(80));
    d.destroy(&dom).unwrap();
    // QEMU's listener went with it: the port is free again.
    TcpListener::bind((Ipv4Addr::LOCALHOST, port)).expect("the forwarded port is released");
}

/// A forwarded host port that is already taken is found before QEMU is
/// started: `ResourceBusy` naming the port, no process, no runtime
/// directory, the domain still shut off (reason failed).
pub fn port_forward_taken_port_fails(cx: &mut Ctx<'_>) {
    // Below the ephemeral range, so that no other connection is given
    // the port between our letting it go and the second start.
    let held = (20000..32000)
        .find_map(|p| TcpListener::bind((Ipv4Addr::LOCALHOST, p)).ok())
        .expect("a free port below the ephemeral range");
    let port = held.local_addr().unwrap().port();
    let vm = Vm::firmware("fw-fwd").device(&format!(
        "<interface type='user'><portForward proto='tcp' address='127.0.0.1'>\
         <range start='{port}' to='22'/></portForward></interface>"
    ));
    let d = cx.d();
    let dom = define(d, &vm);
    let e = expect_err(d.start(&dom), ErrorCode::ResourceBusy, "start");
    assert!(e.message.contains(&format!("{port}/tcp")), "{}", e.message);
    assert!(e.message.contains("fw-fwd"), "{}", e.message);
    assert_eq!(info(d, &dom).state, DomainState::Shutoff);
    assert!(!cx.run_dir("fw-fwd").exists());
    assert!(processes_under(cx.root()).is_empty());
    // Once the port is free, the same domain starts.
    drop(held);
    d.start(&dom).unwrap();
    d.destroy(&dom).unwrap();
}

/// `<interface type='network'>` defines (it is libvirt XML); libvirt's
/// `default` network starts (as QEMU's user networking), any other does
/// not: `ConfigUnsupported`, naming it and saying to use bridge
/// networking.
pub fn network_interface_is_unsupported(cx: &mut Ctx<'_>) {
    let d = cx.d();
    let vm = Vm::firmware("fw-netw")
        .device("<interface type='network'><source network='isolated'/></interface>");
    let dom = define(d, &vm);
    let e = expect_err(d.start(&dom), ErrorCode::ConfigUnsupported, "start");
    assert!(
        e.message.contains("'isolated'") && e.message.contains("bridge"),
        "{}",
        e.message
    );
    assert!(processes_under(cx.root()).is_empty());
    let vm = Vm::firmware("fw-netd")
        .device("<interface type='network'><source network='default'/></interface>");
    let dom = define(d, &vm);
    d.start(&dom).unwrap();
    assert_eq!(info(d, &dom).state, DomainState::Running);
    d.destroy(&dom).unwrap();
    assert!(processes_under(cx.root()).is_empty());
}
