//! Socket interfaces (`server`/`client`, `udp`, `mcast`) joining two
//! Linux guests with no host device between them, and a user interface's
//! `<ip>` giving the guest its network. QEMU's sockets are bound inside
//! the test's namespace, on its loopback; the guests' own traffic proves
//! each link carries frames.

use std::time::Duration;

use super::{Daemon, Netns, TestDir, guest_dir, read_until, run};
use qvirt::driver::{ConsoleStream, ModifyFlags};
use qvirt::{Domain, Driver, ErrorCode};

/// The Linux guest `name` with `nics` (the first one is its `eth0`, at
/// `ip`/24) and ACPI, for a hot-plug and the power button.
pub(super) fn guest(name: &str, cmdline: &str, nics: &str) -> String {
    let dir = guest_dir();
    format!(
        "<domain type='qemu'><name>{name}</name><memory unit='MiB'>128</memory><vcpu>1</vcpu>\
         <os><type arch='x86_64' machine='pc'>hvm</type><kernel>{}</kernel><initrd>{}</initrd>\
         <cmdline>console=ttyS0 quiet no_timer_check {cmdline}</cmdline></os>\
         <features><acpi/></features><devices>{nics}\
         <serial type='pty'><target port='0'/></serial>\
         <console type='pty'><target type='serial' port='0'/></console>\
         <memballoon model='none'/></devices></domain>",
        dir.join("vmlinux").display(),
        dir.join("initrd.img").display()
    )
}

/// A virtio NIC of `type` with MAC `52:54:00:05:0X:YY` and `source`.
fn nic(kind: &str, mac: &str, source: &str) -> String {
    format!(
        "<interface type='{kind}'><mac address='52:54:00:05:{mac}'/>{source}\
         <model type='virtio'/></interface>"
    )
}

/// What HMP's `info network` says of the running domain.
pub(super) fn info_network(d: &dyn Driver, dom: &Domain) -> String {
    let out = d
        .qemu_monitor_command(
            dom,
            r#"{"execute":"human-monitor-command","arguments":{"command-line":"info network"}}"#,
        )
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    v["return"].as_str().unwrap().to_string()
}

/// `ss -Hanp` of `proto` (`-t`, `-u`) inside the namespace.
pub(super) fn sockets(ns: &Netns, proto: &str) -> String {
    let mut args = ns.exec();
    args.extend(["ss", "-Hanp", proto]);
    run(args[0], &args[1..])
}

/// The lines of `table` that have `local` as their local address and
/// belong to process `pid`.
fn owned<'a>(table: &'a str, local: &str, pid: i32) -> Vec<&'a str> {
    table
        .lines()
        .filter(|l| l.split_whitespace().nth(3) == Some(local))
        .filter(|l| l.contains(&format!("pid={pid},")))
        .collect()
}

/// Types `command` on the console and reads until `needle`.
pub(super) fn type_in(console: &mut dyn ConsoleStream, command: &str, needle: &str) -> String {
    console.write(format!("{command}\n").as_bytes()).unwrap();
    read_until(console, needle, Duration::from_secs(60))
}

/// Gives the guest's NIC with MAC `mac` the address `ip`/24, up.
fn address_nic(console: &mut dyn ConsoleStream, mac: &str, ip: &str) {
    let said = type_in(
        console,
        &format!(
            "n=$(grep -l 52:54:00:05:{mac} /sys/class/net/*/address | cut -d/ -f5); \
             ip addr add {ip}/24 dev $n && ip link set $n up && echo nic-$n-re''ady"
        ),
        "-ready",
    );
    assert!(said.contains("nic-eth"), "{said}");
}

/// A server and a client interface, a udp pair and two members of one
/// multicast group join two guests: QEMU listens, binds and joins in the
/// namespace as the XML says, `info network` shows each backend, and
/// guest B reaches guest A over each link (an HTTP fetch over the TCP
/// one, pings over the others, each link on a subnet of its own). A
/// second server on a held port is refused before its QEMU runs. A
/// socket interface is not hot-plugged, as in libvirt, and is unplugged
/// as any interface is.
#[test]
fn socket_interfaces_join_two_guests() {
    let ns = Netns::new("sock");
    // Multicast over the namespace's loopback, where nothing leaves.
    ns.ip(&["link", "set", "lo", "multicast", "on"]);
    ns.ip(&["route", "add", "224.0.0.0/4", "dev", "lo"]);
    let dir = TestDir::new("sock");
    let daemon = Daemon::start_under(&ns.exec(), &dir.path, &[]);
    let d = daemon.connect();
    let mcast = "<source address='230.0.0.1' port='5603'/>";
    let a_nics = [
        nic("server", "01:11", "<source port='5558'/>"),
        nic(
            "udp",
            "02:11",
            "<source address='127.0.0.1' port='5602'><local address='127.0.0.1' port='5601'/></source>",
        ),
        nic("mcast", "03:11", mcast),
    ]
    .concat();
    let b_nics = [
        nic("client", "01:12", "<source address='127.0.0.1' port='5558'/>"),
        nic(
            "udp",
            "02:12",
            "<source address='127.0.0.1' port='5601'><local address='127.0.0.1' port='5602'/></source>",
        ),
        nic("mcast", "03:12", mcast),
    ]
    .concat();
    let net = |ip: &str| format!("guestnet guestip={ip}/24 guestgw=10.0.5.1");
    let a = d
        .define_xml(&guest("sk-a", &net("10.0.5.11"), &a_nics))
        .unwrap();
    let b = d
        .define_xml(&guest("sk-b", &net("10.0.5.12"), &b_nics))
        .unwrap();

    // The server first: QEMU connects a client once, at its start.
    let a = d.start(&a).unwrap();
    let pid_a = support_pid(&dir, "sk-a");
    let tcp = sockets(&ns, "-t");
    let listening = owned(&tcp, "0.0.0.0:5558", pid_a);
    assert_eq!(listening.len(), 1, "{tcp}");
    assert!(listening[0].starts_with("LISTEN"), "{tcp}");
    let udp = sockets(&ns, "-u");
    assert_eq!(owned(&udp, "127.0.0.1:5601", pid_a).len(), 1, "{udp}");
    assert_eq!(owned(&udp, "230.0.0.1:5603", pid_a).len(), 1, "{udp}");

    // A second server on A's port: refused before its QEMU runs.
    let c = d
        .define_xml(&super::firmware(
            "sk-c",
            &nic("server", "01:13", "<source port='5558'/>"),
        ))
        .unwrap();
    let e = d.start(&c).unwrap_err();
    assert_eq!(e.code, ErrorCode::ResourceBusy, "{e}");
    assert!(
        e.message
            .contains("host port 5558/tcp on 0.0.0.0 of its server interface 0 is already in use"),
        "{e}"
    );
    assert_eq!(
        d.info(&c).unwrap().state,
        qvirt::driver::DomainState::Shutoff
    );
    assert_eq!(owned(&sockets(&ns, "-t"), "0.0.0.0:5558", pid_a).len(), 1);
    d.undefine(&c).unwrap();

    let b = d.start(&b).unwrap();
    let pid_b = support_pid(&dir, "sk-b");
    let tcp = sockets(&ns, "-t");
    let connected: Vec<&str> = tcp
        .lines()
        .filter(|l| l.starts_with("ESTAB") && l.contains(&format!("pid={pid_b},")))
        .collect();
    assert_eq!(connected.len(), 1, "{tcp}");
    assert_eq!(
        connected[0].split_whitespace().nth(4),
        Some("127.0.0.1:5558"),
        "{tcp}"
    );
    let udp = sockets(&ns, "-u");
    assert_eq!(owned(&udp, "127.0.0.1:5602", pid_b).len(), 1, "{udp}");
    assert_eq!(owned(&udp, "230.0.0.1:5603", pid_b).len(), 1, "{udp}");

    let info_a = info_network(&*d, &a);
    assert!(
        info_a.contains("hostnet0: index=0,type=socket,socket: connection from 127.0.0.1:"),
        "{info_a}"
    );
    assert!(
        info_a.contains("hostnet1: index=0,type=socket,socket: udp=127.0.0.1:5602"),
        "{info_a}"
    );
    assert!(
        info_a.contains("hostnet2: index=0,type=socket,socket: mcast=230.0.0.1:5603"),
        "{info_a}"
    );
    let info_b = info_network(&*d, &b);
    assert!(
        info_b.contains("hostnet0: index=0,type=socket,socket: connect to 127.0.0.1:5558"),
        "{info_b}"
    );
    assert!(
        info_b.contains("hostnet1: index=0,type=socket,socket: udp=127.0.0.1:5601"),
        "{info_b}"
    );

    // Frames cross each link.
    let mut console_a = d.console(&a, false).unwrap();
    let mut console_b = d.console(&b, false).unwrap();
    let boot = Duration::from_secs(120);
    read_until(&mut *console_a, "guest# ", boot);
    read_until(&mut *console_b, "guest# ", boot);
    let page = type_in(
        &mut *console_b,
        "wget -q -O - http://10.0.5.11/",
        "qvirt-guest-http-ok",
    );
    assert!(page.contains("qvirt-guest-http-ok"), "{page}");
    for (console, host) in [(&mut console_a, "11"), (&mut console_b, "12")] {
        address_nic(
            &mut **console,
            &format!("02:{host}"),
            &format!("10.0.6.{host}"),
        );
        address_nic(
            &mut **console,
            &format!("03:{host}"),
            &format!("10.0.7.{host}"),
        );
    }
    for peer in ["10.0.6.11", "10.0.7.11"] {
        let said = type_in(
            &mut *console_b,
            &format!("ping -c 2 -W 10 {peer} ; echo pi''ng-done"),
            "ping-done",
        );
        assert!(said.contains(&format!("bytes from {peer}")), "{said}");
    }

    // Not hot-plugged, as libvirt's qemuDomainAttachNetDevice says.
    let e = d
        .attach_device(
            &a,
            &nic("server", "04:11", "<source port='5604'/>"),
            ModifyFlags::LIVE,
        )
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::NoSupport, "{e}");
    assert!(
        e.message.contains("hotplug of interface type of server"),
        "{e}"
    );
    assert!(!info_network(&*d, &a).contains("hostnet3"));
    // Unplugged, as any interface: QEMU leaves the group.
    d.detach_device(&a, &nic("mcast", "03:11", mcast), ModifyFlags::LIVE)
        .unwrap();
    assert!(
        super::support::wait_until(Duration::from_secs(60), || owned(
            &sockets(&ns, "-u"),
            "230.0.0.1:5603",
            pid_a
        )
        .is_empty()),
        "{}",
        sockets(&ns, "-u")
    );
    assert!(!info_network(&*d, &a).contains("hostnet2"));
    assert_eq!(owned(&sockets(&ns, "-u"), "230.0.0.1:5603", pid_b).len(), 1);
    drop((console_a, console_b));
    d.destroy(&b).unwrap();
    d.destroy(&a).unwrap();
    // What is left is the kernel's (a closed connection's TIME-WAIT).
    let left = sockets(&ns, "-tu");
    assert!(!left.contains("users:"), "{left}");
}

/// QEMU's pid of domain `name` under the daemon's state directory.
fn support_pid(dir: &TestDir, name: &str) -> i32 {
    super::support::qemu_pid(&dir.path, name)
}

/// A user interface's `<ip>`s are the network slirp serves: QEMU says so
/// (`info network`), the guest's DHCP lease is in the IPv4 network with
/// its prefix and gateway, and router advertisements give it an address
/// in the IPv6 one.
#[test]
fn a_user_interface_ip_is_the_guests_network() {
    let ns = Netns::new("uip");
    let dir = TestDir::new("uip");
    let daemon = Daemon::start_under(&ns.exec(), &dir.path, &[]);
    let d = daemon.connect();
    let iface = "<interface type='user'><mac address='52:54:00:05:09:01'/>\
                 <ip address='172.17.2.0' family='ipv4' prefix='24'/>\
                 <ip address='2001:db8:ac10:fd01::' family='ipv6' prefix='64'/>\
                 <model type='virtio'/></interface>";
    let dom = d.define_xml(&guest("uip", "", iface)).unwrap();
    let dom = d.start(&dom).unwrap();
    let info = info_network(&*d, &dom);
    assert!(
        info.contains("hostnet0: index=0,type=user,net=172.17.2.0,"),
        "{info}"
    );
    let mut console = d.console(&dom, false).unwrap();
    read_until(&mut *console, "guest# ", Duration::from_secs(120));
    // udhcpc runs the script with the lease in its environment.
    type_in(
        &mut *console,
        "printf '#!/bin/sh\\necho \"lease-$1 $ip $subnet $router\"\\n' > /tmp/dh; chmod +x /tmp/dh; echo scr''ipt-written",
        "script-written",
    );
    let said = type_in(
        &mut *console,
        "ip link set eth0 up; udhcpc -i eth0 -n -q -s /tmp/dh; echo dh''cp-done",
        "dhcp-done",
    );
    assert!(
        said.contains("lease-bound 172.17.2.15 255.255.255.0 172.17.2.2"),
        "{said}"
    );
    let said = type_in(
        &mut *console,
        "i=0; while [ $i -lt 60 ] && ! ip -6 addr show dev eth0 scope global | grep -q 2001:db8; do i=$((i+1)); sleep 1; done; ip -6 addr show dev eth0 scope global; echo v''6-done",
        "v6-done",
    );
    // SLAAC: the prefix, then the interface identifier from the MAC.
    assert!(
        said.contains("inet6 2001:db8:ac10:fd01:5054:ff:fe05:901/64"),
        "{said}"
    );
    drop(console);
    d.destroy(&dom).unwrap();
}
