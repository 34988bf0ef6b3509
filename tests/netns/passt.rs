//! A user interface with `<backend type='passt'>`: passt runs beside
//! QEMU in the test's namespace, gives the guest the configured address
//! by DHCP (with the namespace's own gateway), forwards the namespace's
//! ports into the guest as `<portForward>` says (leaving out the
//! excluded ones), logs where `logFile` says, and goes with the domain.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

use super::sockets::{info_network, sockets, type_in};
use super::{Daemon, Netns, TestDir, read_until};
use qvirt::ErrorCode;
use qvirt::driver::ModifyFlags;

const PASST: &str = "/usr/bin/passt";

/// `GET /` on `port` of the namespace's loopback, from a thread that
/// entered the namespace; the reply, or the error.
fn fetch_in(ns: &Netns, port: u16) -> std::io::Result<String> {
    let path = format!("/run/netns/{}", ns.name);
    std::thread::scope(|s| {
        s.spawn(|| {
            let f = std::fs::File::open(&path)?;
            nix::sched::setns(f, nix::sched::CloneFlags::CLONE_NEWNET)
                .map_err(std::io::Error::from)?;
            let mut c = TcpStream::connect(("127.0.0.1", port))?;
            c.set_read_timeout(Some(Duration::from_secs(30)))?;
            c.write_all(b"GET / HTTP/1.0\r\n\r\n")?;
            let mut reply = String::new();
            c.read_to_string(&mut reply)?;
            Ok(reply)
        })
        .join()
        .unwrap()
    })
}

#[test]
fn a_passt_backend_serves_the_guest_and_forwards_its_ports() {
    let ns = Netns::new("passt");
    // The host interface passt copies its addresses and gateway from.
    ns.ip(&[
        "link", "add", "eth9", "type", "veth", "peer", "name", "eth9p",
    ]);
    ns.ip(&["addr", "add", "10.0.9.1/24", "dev", "eth9"]);
    ns.ip(&["link", "set", "eth9", "up"]);
    ns.ip(&[
        "route",
        "add",
        "default",
        "via",
        "10.0.9.254",
        "dev",
        "eth9",
        "onlink",
    ]);
    let dir = TestDir::new("passt");
    let log = dir.path.join("passt.log");
    let daemon = Daemon::start_under(&ns.exec(), &dir.path, &[]);
    let d = daemon.connect();
    let iface = format!(
        "<interface type='user'><mac address='52:54:00:05:0a:01'/><source dev='eth9'/>\
         <ip address='10.0.9.77' family='ipv4' prefix='24'/>\
         <portForward proto='tcp'><range start='8080' to='80'/>\
         <range start='8081' end='8082'/><range start='8082' exclude='yes'/></portForward>\
         <model type='virtio'/><mtu size='1400'/><backend type='passt' logFile='{}'/></interface>",
        log.display()
    );
    let dom = d
        .define_xml(&super::sockets::guest("pt", "", &iface))
        .unwrap();
    // What the test proves needs passt; without it, it fails rather than
    // passing on the refusal alone.
    assert!(
        Path::new(PASST).is_file(),
        "{PASST} is missing: install the Debian package passt (scripts/deps.sh does)"
    );
    let dom = d.start(&dom).unwrap();
    let tcp = sockets(&ns, "-t");
    let passt_listens = |port: u16| {
        tcp.lines().any(|l| {
            l.starts_with("LISTEN")
                && l.split_whitespace().nth(3) == Some(&format!("0.0.0.0:{port}"))
                && l.contains("passt")
        })
    };
    assert!(passt_listens(8080) && passt_listens(8081), "{tcp}");
    assert!(!passt_listens(8082), "8082 is excluded: {tcp}");
    let info = info_network(&*d, &dom);
    assert!(info.contains("hostnet0: index=0,type=stream"), "{info}");
    assert!(
        std::fs::read_to_string(&log).is_ok_and(|t| t.contains("eth9")),
        "passt logs to logFile"
    );

    let mut console = d.console(&dom, false).unwrap();
    read_until(&mut *console, "guest# ", Duration::from_secs(120));
    type_in(
        &mut *console,
        "printf '#!/bin/sh\\necho \"lease-$1 $ip $subnet $router mtu=$mtu\"\\n[ \"$1\" = bound ] && ifconfig $interface $ip netmask $subnet\\n' > /tmp/dh; chmod +x /tmp/dh; echo scr''ipt-written",
        "script-written",
    );
    let said = type_in(
        &mut *console,
        "ip link set eth0 up; udhcpc -i eth0 -n -q -s /tmp/dh; httpd -p 80 -h /www; echo dh''cp-done",
        "dhcp-done",
    );
    // The address asked for, in the network asked for, the namespace's
    // gateway as the router, the MTU asked for.
    assert!(
        said.contains("lease-bound 10.0.9.77 255.255.255.0 10.0.9.254 mtu=1400"),
        "{said}"
    );
    let reply = fetch_in(&ns, 8080).unwrap();
    assert!(reply.contains("qvirt-guest-http-ok"), "{reply}");

    // Not hot-plugged.
    let e = d
        .attach_device(&dom, &iface.replace(":0a:01", ":0a:02"), ModifyFlags::LIVE)
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::NoSupport, "{e}");
    assert!(
        e.message.contains("passt backend is not hot-plugged"),
        "{e}"
    );

    drop(console);
    d.destroy(&dom).unwrap();
    assert!(
        super::support::wait_until(Duration::from_secs(10), || !sockets(&ns, "-t")
            .contains("passt")),
        "passt is gone: {}",
        sockets(&ns, "-t")
    );
    assert!(fetch_in(&ns, 8080).is_err());
}
