//! `virsh update-device` of a running bridged interface with another
//! `<source bridge>` (libvirt's qemuDomainChangeNetBridge): its tap
//! leaves the old bridge for the new one, and the Linux guest's traffic
//! follows (it reaches the host's address on br0 only while its tap is
//! in br0); a bridge that does not exist is refused as libvirt refuses
//! it, the tap left where it was; `--config` changes the definition too.

use std::time::Duration;

use super::lv::{lv_socket, virsh_err, virsh_ok, write_file};
use super::{Daemon, Netns, TestDir, bridged_guest, read_until, taps};

#[test]
fn a_running_interface_moves_to_another_bridge() {
    let ns = Netns::new("brmove");
    // br1: up, no address; the host answers ARP only on the interface
    // that has the address asked for, so a guest on br1 reaches nothing.
    ns.ip(&["link", "add", "br1", "type", "bridge"]);
    ns.ip(&["link", "set", "br1", "up"]);
    let mut sysctl = ns.exec();
    sysctl.extend(["sysctl", "-qw", "net.ipv4.conf.all.arp_ignore=1"]);
    super::run(sysctl[0], &sysctl[1..]);
    let dir = TestDir::new("brmove");
    let daemon = Daemon::start_under(&ns.exec(), &dir.path, &[]);
    let s = &lv_socket(&dir.path);
    let mac = "52:54:00:03:00:21";
    let xml = write_file(
        &dir.path,
        "mv.xml",
        &bridged_guest("lx-mv", "10.0.3.21", mac),
    );
    virsh_ok(s, &["define", xml.to_str().unwrap()]);
    virsh_ok(s, &["start", "lx-mv"]);
    let d = daemon.connect();
    let dom = d.lookup_by_name("lx-mv").unwrap();
    let mut console = d.console(&dom, false).unwrap();
    read_until(&mut *console, "guest# ", Duration::from_secs(120));
    let tap = taps(&*d, "lx-mv")[0].clone();
    let in_bridge = |br: &str| ns.ip(&["-o", "link", "show", "master", br]).contains(&tap);
    let mut n = 0;
    let mut reaches_host = |console: &mut dyn qvirt::driver::ConsoleStream| {
        n += 1;
        // The echoed command holds neither answer's marker.
        let cmd = format!(
            "echo \"RES-{n}-$(ping -c 1 -W 2 10.0.3.1 >/dev/null 2>&1 && echo up || echo down)\"\n"
        );
        console.write(cmd.as_bytes()).unwrap();
        let (up, down) = (format!("RES-{n}-up"), format!("RES-{n}-down"));
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        let mut text = String::new();
        while !text.contains(&up) && !text.contains(&down) {
            assert!(std::time::Instant::now() < deadline, "no answer: {text}");
            let chunk = console.read(Duration::from_secs(1)).unwrap();
            text.push_str(&String::from_utf8_lossy(&chunk));
        }
        text.contains(&up)
    };
    assert!(in_bridge("br0") && !in_bridge("br1"));
    assert!(reaches_host(&mut *console), "the guest on br0");

    let iface = |br: &str| {
        format!(
            "<interface type='bridge'><mac address='{mac}'/><source bridge='{br}'/><model type='virtio'/></interface>"
        )
    };
    let to_br1 = write_file(&dir.path, "br1.xml", &iface("br1"));
    virsh_ok(
        s,
        &["update-device", "lx-mv", to_br1.to_str().unwrap(), "--live"],
    );
    assert!(in_bridge("br1") && !in_bridge("br0"));
    assert!(!reaches_host(&mut *console), "the guest on br1");
    let live = virsh_ok(s, &["dumpxml", "lx-mv"]);
    assert!(live.contains("<source bridge='br1'/>"), "{live}");
    let kept = virsh_ok(s, &["dumpxml", "lx-mv", "--inactive"]);
    assert!(kept.contains("<source bridge='br0'/>"), "{kept}");

    // A bridge that is not there: refused, the tap stays in br1.
    let nowhere = write_file(&dir.path, "br9.xml", &iface("br9"));
    let e = virsh_err(
        s,
        &[
            "update-device",
            "lx-mv",
            nowhere.to_str().unwrap(),
            "--live",
        ],
    );
    assert!(e.contains("unable to access bridge 'br9'"), "{e}");
    assert!(in_bridge("br1"));

    // Back to br0, live and in the definition: the guest reaches the
    // host again.
    let to_br0 = write_file(&dir.path, "br0.xml", &iface("br0"));
    virsh_ok(
        s,
        &[
            "update-device",
            "lx-mv",
            to_br0.to_str().unwrap(),
            "--live",
            "--config",
        ],
    );
    assert!(in_bridge("br0") && !in_bridge("br1"));
    assert!(reaches_host(&mut *console), "the guest back on br0");
    virsh_ok(
        s,
        &[
            "update-device",
            "lx-mv",
            to_br1.to_str().unwrap(),
            "--config",
        ],
    );
    let kept = virsh_ok(s, &["dumpxml", "lx-mv", "--inactive"]);
    assert!(kept.contains("<source bridge='br1'/>"), "{kept}");
    assert!(in_bridge("br0"), "--config alone leaves the running tap");
    drop(console);
    virsh_ok(s, &["destroy", "lx-mv"]);
}
