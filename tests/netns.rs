//! Bridge and ethernet interfaces with real tap devices. Each test makes
//! a network namespace of its own (`ip netns add`), with a bridge in it,
//! and runs `qvirtd` inside it (`ip netns exec NS qvirtd --root DIR`), so
//! QEMU and the taps qvirt creates live there too: guest traffic never
//! reaches the host's own interfaces. The test itself stays in the host
//! namespace and talks to the daemon over its UNIX socket. The namespace
//! is removed afterwards, also when a test fails.
//!
//! Needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN) and `ip` from iproute2, as
//! `scripts/deps.sh` installs; without them every test here fails saying
//! so, rather than passing without having run.

#[path = "daemon/support.rs"]
#[allow(dead_code)]
mod support;

#[path = "common/netns.rs"]
mod ns;

#[path = "libvirt/lv.rs"]
mod lv;

#[path = "netns/bridge_move.rs"]
mod bridge_move;
#[path = "netns/coalesce.rs"]
mod coalesce;
#[path = "netns/iftune.rs"]
mod iftune;
#[path = "netns/passt.rs"]
mod passt;
#[path = "netns/scripts.rs"]
mod scripts;
#[path = "netns/sockets.rs"]
mod sockets;
#[path = "netns/tap_host.rs"]
mod tap_host;

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use ns::{Netns, run};
use qvirt::driver::XmlFlags;
use qvirt::driver::{AddressSource, ConsoleStream, DomainState};
use qvirt::{DomainDef, Driver, ErrorCode};
use support::{Daemon, TestDir, assert_code};

/// Whether the host namespace (this process's) has a device `name`.
fn on_host(name: &str) -> bool {
    std::path::Path::new("/sys/class/net").join(name).exists()
}

/// The tap devices in the live XML of `name`, in interface order.
fn taps(d: &dyn Driver, name: &str) -> Vec<String> {
    let dom = d.lookup_by_name(name).unwrap();
    let def = DomainDef::from_xml(&d.xml_desc(&dom, XmlFlags::NONE).unwrap()).unwrap();
    def.devices
        .interfaces
        .iter()
        .filter(|i| i.kind.has_host_tap())
        .map(|i| {
            i.target_dev
                .clone()
                .expect("a running tap interface names its tap")
        })
        .collect()
}

/// A firmware-only VM with `devices`.
fn firmware(name: &str, devices: &str) -> String {
    format!(
        "<domain type='qemu'><name>{name}</name><memory unit='MiB'>32</memory>\
         <vcpu>1</vcpu><os><type arch='x86_64' machine='pc'>hvm</type></os>\
         <devices>{devices}<memballoon model='none'/></devices></domain>"
    )
}

/// [`firmware`] with ACPI, which a hot-plug needs.
fn acpi_firmware(name: &str, devices: &str) -> String {
    firmware(name, devices).replace("</os>", "</os><features><acpi/></features>")
}

/// Taps for ethernet and bridge interfaces are created with the names
/// asked for (or chosen), with the guest's MAC behind 0xfe, up, in their
/// bridge, and removed when the domain stops, also when it stopped while
/// no manager watched; mistakes are clear errors that leave nothing.
#[test]
fn taps_follow_their_domains_and_mistakes_are_named() {
    let ns = Netns::new("taps");
    let dir = TestDir::new("taps");
    let daemon = Daemon::start_under(&ns.exec(), &dir.path, &[]);
    let d = daemon.connect();
    let iface = "<interface type='ethernet'><mac address='52:54:00:00:07:01'/>\
                 <target dev='qvtap7'/><model type='e1000'/></interface>\
                 <interface type='bridge'><mac address='52:54:00:00:07:02'/>\
                 <source bridge='br0'/><target dev='vnet42'/><model type='e1000'/></interface>";
    let dom = d.define_xml(&firmware("fw-tap", iface)).unwrap();
    d.start(&dom).unwrap();
    let names = taps(&*d, "fw-tap");
    assert_eq!(names[0], "qvtap7");
    assert!(names[1].starts_with("vnet"), "{names:?}");
    let ethernet = ns.ip(&["-d", "link", "show", "qvtap7"]);
    assert!(ethernet.contains("tun type tap"), "{ethernet}");
    assert!(ethernet.contains("fe:54:00:00:07:01"), "{ethernet}");
    assert!(ethernet.contains(",UP"), "{ethernet}");
    assert!(!ethernet.contains("master"), "{ethernet}");
    let bridged = ns.ip(&["link", "show", &names[1]]);
    assert!(bridged.contains("master br0"), "{bridged}");
    assert!(
        !on_host("qvtap7") && !on_host(&names[1]),
        "taps stay in the namespace"
    );
    // The inactive definition keeps what was written.
    let inactive = DomainDef::from_xml(&d.xml_desc(&dom, XmlFlags::INACTIVE).unwrap()).unwrap();
    assert_eq!(
        inactive.devices.interfaces[1].target_dev.as_deref(),
        Some("vnet42")
    );
    d.destroy(&dom).unwrap();
    assert_eq!(ns.links(), ["br0", "lo"]);

    // A daemon that is gone when QEMU dies: the next one removes the taps.
    let dom = d.start(&dom).unwrap();
    let qemu = support::qemu_pid(&dir.path, "fw-tap");
    drop(d);
    drop(daemon);
    support::signal(qemu, nix::sys::signal::Signal::SIGKILL);
    support::wait_for("QEMU to die", Duration::from_secs(10), || {
        (!support::process_alive(qemu)).then_some(())
    });
    assert!(ns.links().contains(&"qvtap7".to_string()));
    let daemon = Daemon::start_under(&ns.exec(), &dir.path, &[]);
    let d = daemon.connect();
    assert_eq!(d.info(&dom).unwrap().state, DomainState::Shutoff);
    assert_eq!(ns.links(), ["br0", "lo"]);

    // Mistakes.
    let missing = d
        .define_xml(&firmware(
            "fw-nobr",
            "<interface type='bridge'><source bridge='nobr0'/></interface>",
        ))
        .unwrap();
    let e = assert_code(d.start(&missing), ErrorCode::OperationFailed);
    assert!(e.message.contains("bridge 'nobr0'"), "{}", e.message);
    let not_bridge = d
        .define_xml(&firmware(
            "fw-lobr",
            "<interface type='ethernet'><target dev='qvtap8'/></interface>\
             <interface type='bridge'><source bridge='lo'/></interface>",
        ))
        .unwrap();
    let e = assert_code(d.start(&not_bridge), ErrorCode::OperationFailed);
    assert!(e.message.contains("'lo' is not a bridge"), "{}", e.message);
    let taken = d
        .define_xml(&firmware(
            "fw-taken",
            "<interface type='ethernet'><target dev='br0'/></interface>",
        ))
        .unwrap();
    let e = assert_code(d.start(&taken), ErrorCode::ResourceBusy);
    assert!(e.message.contains("'br0' of interface 0"), "{}", e.message);
    assert_eq!(ns.links(), ["br0", "lo"], "failed starts leave no tap");
    assert!(support::processes_under(&dir.path.join("run")).is_empty());

    // Without CAP_NET_ADMIN (as a session daemon runs), a clear refusal.
    let weak = TestDir::new("weak");
    let mut wrapper = ns.exec();
    wrapper.extend([
        "setpriv",
        "--bounding-set",
        "-net_admin",
        "--inh-caps",
        "-net_admin",
    ]);
    let daemon = Daemon::start_under(&wrapper, &weak.path, &[]);
    let d = daemon.connect();
    let dom = d
        .define_xml(&firmware(
            "fw-weak",
            "<interface type='bridge'><source bridge='br0'/></interface>",
        ))
        .unwrap();
    let e = assert_code(d.start(&dom), ErrorCode::OperationDenied);
    assert!(e.message.contains("CAP_NET_ADMIN"), "{}", e.message);
    assert_eq!(ns.links(), ["br0", "lo"]);
}

/// `<driver queues='2'>` and `<mtu>` on a bridged virtio interface: a
/// multiqueue tap with that MTU, with a queue pair per virtio queue pair,
/// QEMU's device in multiqueue mode with the offloads, ROM and MTU asked
/// for; vhost-net asked for on a host without it is refused before QEMU
/// runs, naming the device.
#[test]
fn interface_driver_queues_offloads_and_rom_reach_the_tap_and_device() {
    let ns = Netns::new("mq");
    let dir = TestDir::new("mq");
    let daemon = Daemon::start_under(&ns.exec(), &dir.path, &[]);
    let d = daemon.connect();
    let iface = "<interface type='bridge'><mac address='52:54:00:00:08:01'/>\
                 <source bridge='br0'/><model type='virtio'/>\
                 <driver name='qemu' queues='2' rx_queue_size='512' tx_queue_size='256' \
                 txmode='timer' ioeventfd='off' event_idx='off' rss='on'>\
                 <host csum='off' mrg_rxbuf='off'/><guest tso4='off'/></driver>\
                 <rom enabled='no'/><mtu size='1400'/></interface>\
                 <interface type='user'><model type='e1000'/><rom bar='off'/></interface>";
    let dom = d.define_xml(&firmware("fw-mq", iface)).unwrap();
    d.start(&dom).unwrap();
    let tap = taps(&*d, "fw-mq").remove(0);
    let tap_info = ns.ip(&["-d", "link", "show", &tap]);
    assert!(tap_info.contains("multi_queue"), "{tap_info}");
    assert!(
        tap_info.contains(" mtu 1400 "),
        "<mtu size='1400'> on the tap: {tap_info}"
    );
    // QEMU holds one descriptor of the tap per queue pair (the kernel
    // names the tap in each one's fdinfo).
    let qemu = support::qemu_pid(&dir.path, "fw-mq");
    let held = std::fs::read_dir(format!("/proc/{qemu}/fdinfo"))
        .unwrap()
        .flatten()
        .filter(|e| {
            std::fs::read_to_string(e.path())
                .is_ok_and(|t| t.lines().any(|l| l == format!("iff:\t{tap}")))
        })
        .count();
    assert_eq!(held, 2, "QEMU's queues on tap {tap}");
    let qom = |dev: &str, p: &str| {
        let cmd = format!(
            r#"{{"execute":"qom-get","arguments":{{"path":"/machine/peripheral/{dev}","property":"{p}"}}}}"#
        );
        let out = d.qemu_monitor_command(&dom, &cmd).unwrap();
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        v["return"].clone()
    };
    let prop = |p: &str| qom("net0", p);
    assert_eq!(prop("mq"), true);
    assert_eq!(prop("vectors"), 6);
    assert_eq!(prop("rx_queue_size"), 512);
    assert_eq!(prop("csum"), false);
    assert_eq!(prop("mrg_rxbuf"), false);
    assert_eq!(prop("guest_tso4"), false);
    assert_eq!(prop("romfile"), "");
    assert_eq!(prop("tx_queue_size"), 256);
    assert_eq!(prop("tx"), "timer");
    assert_eq!(prop("ioeventfd"), false);
    assert_eq!(prop("event_idx"), false);
    assert_eq!(prop("rss"), true);
    assert_eq!(prop("host_mtu"), 1400, "<mtu> told to the guest");
    assert_eq!(qom("net1", "rombar"), 0, "<rom bar='off'> of the e1000");
    d.destroy(&dom).unwrap();
    assert_eq!(ns.links(), ["br0", "lo"], "the multiqueue tap is removed");

    // vhost-net: where the host has it, QEMU holds /dev/vhost-net for the
    // tap; where it has not, the start is refused naming the device.
    let vhost = d
        .define_xml(&firmware(
            "fw-vhost",
            "<interface type='bridge'><source bridge='br0'/><model type='virtio'/>\
             <driver name='vhost'/></interface>",
        ))
        .unwrap();
    if std::path::Path::new("/dev/vhost-net").exists() {
        d.start(&vhost).unwrap();
        let qemu = support::qemu_pid(&dir.path, "fw-vhost");
        let holds = std::fs::read_dir(format!("/proc/{qemu}/fd"))
            .unwrap()
            .flatten()
            .any(|e| {
                std::fs::read_link(e.path())
                    .is_ok_and(|l| l == std::path::Path::new("/dev/vhost-net"))
            });
        assert!(holds, "QEMU holds /dev/vhost-net");
        d.destroy(&vhost).unwrap();
    } else {
        let e = assert_code(d.start(&vhost), ErrorCode::NoSupport);
        assert!(e.message.contains("/dev/vhost-net"), "{}", e.message);
    }
    assert_eq!(ns.links(), ["br0", "lo"]);
}

/// `<bandwidth>` on a bridged tap, with libvirt's `tc` recipe: the
/// guest's inbound traffic through an HTB class on the tap's transmit
/// side (rate, ceiling, burst), its outbound policed on the tap's
/// receive side. On a kernel without what the recipe needs (SFQ, the fw
/// classifier, the police action), the start is refused naming the tap
/// and tc's words, and leaves no tap behind.
#[test]
fn bandwidth_shapes_the_tap_or_the_start_says_why_not() {
    let ns = Netns::new("bw");
    let dir = TestDir::new("bw");
    let daemon = Daemon::start_under(&ns.exec(), &dir.path, &[]);
    let d = daemon.connect();
    let dom = d
        .define_xml(&firmware(
            "fw-bw",
            "<interface type='bridge'><mac address='52:54:00:00:0b:01'/><source bridge='br0'/>\
             <target dev='qvbw0'/><bandwidth><inbound average='1000' peak='2000' burst='1024'/>\
             <outbound average='500'/></bandwidth></interface>",
        ))
        .unwrap();
    let tc = |args: &[&str]| {
        let mut all = vec!["netns", "exec", &ns.name, "tc"];
        all.extend_from_slice(args);
        run("ip", &all)
    };
    match d.start(&dom) {
        Ok(_) => {
            let class = tc(&["class", "show", "dev", "qvbw0"]);
            assert!(
                class.contains("htb 1:1")
                    && class.contains("rate 8Mbit")
                    && class.contains("ceil 16Mbit"),
                "{class}"
            );
            let qdiscs = tc(&["qdisc", "show", "dev", "qvbw0"]);
            assert!(
                qdiscs.contains("sfq 2:") && qdiscs.contains("ingress"),
                "{qdiscs}"
            );
            let police = tc(&["filter", "show", "dev", "qvbw0", "parent", "ffff:"]);
            assert!(
                police.contains("police") && police.contains("rate 4Mbit"),
                "{police}"
            );
            d.destroy(&dom).unwrap();
        }
        Err(e) => {
            assert_eq!(e.code, ErrorCode::NoSupport, "{e}");
            assert!(
                e.message.contains("cannot shape network device 'qvbw0'")
                    && ["unknown", "not found", "Failed to load"]
                        .iter()
                        .any(|w| e.message.contains(w)),
                "only a kernel without tc's modules may refuse: {e}"
            );
            // Which the kernel says itself: one of the recipe's parts
            // fails on a bridge of the namespace.
            let ok = |args: &[&str]| {
                let mut all = vec!["netns", "exec", &ns.name, "tc"];
                all.extend_from_slice(args);
                Command::new("ip")
                    .args(&all)
                    .output()
                    .unwrap()
                    .status
                    .success()
            };
            let shapes = ok(&["qdisc", "add", "dev", "br0", "root", "handle", "1:", "sfq"])
                && ok(&["qdisc", "del", "dev", "br0", "root"])
                && ok(&["qdisc", "add", "dev", "br0", "root", "handle", "1:", "htb"])
                && ok(&[
                    "filter", "add", "dev", "br0", "parent", "1:0", "protocol", "all", "prio", "1",
                    "handle", "1", "fw", "flowid", "1",
                ])
                && ok(&["qdisc", "add", "dev", "br0", "ingress"])
                && ok(&[
                    "filter", "add", "dev", "br0", "parent", "ffff:", "protocol", "all", "u32",
                    "match", "u32", "0", "0", "police", "rate", "1kbps", "burst", "1kb", "drop",
                    "flowid", ":1",
                ]);
            assert!(!shapes, "this kernel has SFQ, fw and police, yet: {e}");
        }
    }
    assert_eq!(ns.links(), ["br0", "lo"], "no tap is left");
}

/// What the descriptors of process `pid` that are the character device
/// of macvtap `index` link to (`/dev/tapINDEX`, or a node made elsewhere
/// and unlinked).
fn held_macvtap(pid: i32, index: u32) -> Vec<String> {
    let node = format!("/tap{index}");
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .flatten()
        .filter_map(|e| std::fs::read_link(e.path()).ok())
        .map(|p| p.to_string_lossy().into_owned())
        .filter(|p| p.ends_with(&node) || p.ends_with(&format!("{node} (deleted)")))
        .collect()
}

/// The interface index of device `dev` in the namespace.
fn if_index(ns: &Netns, dev: &str) -> u32 {
    let out = ns.ip(&["-o", "link", "show", dev]);
    out.split(':').next().unwrap().trim().parse().unwrap()
}

/// `<interface type='direct'>`: a macvtap on the host device named, with
/// the guest's MAC and the mode asked for, up, named by the kernel
/// (`macvtapN`) or as `<target dev>` says; QEMU holds its character
/// device, also one plugged in live (passed over QMP); it goes when the
/// domain stops, also when it stopped while no manager watched. A missing
/// host device and a taken name are clear errors that leave no macvtap
/// and no QEMU.
#[test]
fn direct_interfaces_get_a_macvtap_that_qemu_holds() {
    let ns = Netns::new("direct");
    // The parent, as a host NIC would be. (A veth, since `dummy` is not
    // in every kernel.)
    ns.ip(&[
        "link", "add", "eth9", "type", "veth", "peer", "name", "eth9p",
    ]);
    ns.ip(&["link", "set", "eth9", "up"]);
    let base = ["br0", "eth9", "eth9p", "lo"];
    let dir = TestDir::new("direct");
    let daemon = Daemon::start_under(&ns.exec(), &dir.path, &[]);
    let d = daemon.connect();
    let iface = "<interface type='direct'><mac address='52:54:00:00:09:01'/>\
                 <source dev='eth9' mode='bridge'/><model type='virtio'/>\
                 <target dev='macvtap7'/></interface>\
                 <interface type='direct'><mac address='52:54:00:00:09:02'/>\
                 <source dev='eth9'/><target dev='qvmvt1'/><model type='e1000'/></interface>";
    // ACPI, for the PCI hot-plug of a pc machine.
    let xml = firmware("fw-direct", iface).replace("</os>", "</os><features><acpi/></features>");
    let dom = d.define_xml(&xml).unwrap();
    d.start(&dom).unwrap();
    let names = taps(&*d, "fw-direct");
    // `macvtap7` is a name libvirt made up: chosen afresh.
    assert!(names[0].starts_with("macvtap"), "{names:?}");
    assert_eq!(names[1], "qvmvt1");
    let first = ns.ip(&["-d", "link", "show", &names[0]]);
    assert!(first.contains("@eth9"), "{first}");
    assert!(first.contains("macvtap mode bridge"), "{first}");
    assert!(first.contains("52:54:00:00:09:01"), "{first}");
    assert!(first.contains(",UP"), "{first}");
    let second = ns.ip(&["-d", "link", "show", "qvmvt1"]);
    assert!(second.contains("macvtap mode vepa"), "{second}");
    assert!(second.contains("52:54:00:00:09:02"), "{second}");
    assert!(!on_host(&names[0]) && !on_host("qvmvt1"));
    let qemu = support::qemu_pid(&dir.path, "fw-direct");
    for name in &names {
        let held = held_macvtap(qemu, if_index(&ns, name));
        assert_eq!(held.len(), 1, "QEMU's descriptors of {name}: {held:?}");
    }
    // The guest's NIC has its MAC.
    let mac = d
        .qemu_monitor_command(
            &dom,
            r#"{"execute":"qom-get","arguments":{"path":"/machine/peripheral/net0","property":"mac"}}"#,
        )
        .unwrap();
    assert!(mac.contains("52:54:00:00:09:01"), "{mac}");
    // Plugged in live: a macvtap of its own, passed to QEMU over QMP.
    let plug = "<interface type='direct'><mac address='52:54:00:00:09:03'/>\
                <source dev='eth9'/><model type='virtio'/></interface>";
    d.attach_device(&dom, plug, qvirt::driver::ModifyFlags::LIVE)
        .unwrap();
    let plugged = taps(&*d, "fw-direct");
    assert_eq!(plugged.len(), 3, "{plugged:?}");
    let third = ns.ip(&["-d", "link", "show", &plugged[2]]);
    assert!(third.contains("macvtap mode vepa"), "{third}");
    assert!(third.contains("52:54:00:00:09:03"), "{third}");
    assert!(third.contains(",UP"), "{third}");
    let held = held_macvtap(qemu, if_index(&ns, &plugged[2]));
    assert_eq!(
        held.len(),
        1,
        "QEMU's descriptors of {}: {held:?}",
        plugged[2]
    );
    let mac = d
        .qemu_monitor_command(
            &dom,
            r#"{"execute":"qom-get","arguments":{"path":"/machine/peripheral/net2","property":"mac"}}"#,
        )
        .unwrap();
    assert!(mac.contains("52:54:00:00:09:03"), "{mac}");
    // A plug on a device that does not exist leaves nothing.
    let bad = "<interface type='direct'><source dev='nodev0'/><model type='virtio'/></interface>";
    let e = d
        .attach_device(&dom, bad, qvirt::driver::ModifyFlags::LIVE)
        .unwrap_err();
    assert!(e.message.contains("'nodev0'"), "{e}");
    assert_eq!(taps(&*d, "fw-direct"), plugged);
    assert_eq!(ns.links().len(), base.len() + 3);
    d.destroy(&dom).unwrap();
    assert_eq!(ns.links(), base, "destroy removes the macvtaps");

    // A daemon that is gone when QEMU dies: the next one removes them.
    let dom = d.start(&dom).unwrap();
    assert_eq!(ns.links().len(), base.len() + 2);
    let qemu = support::qemu_pid(&dir.path, "fw-direct");
    drop(d);
    drop(daemon);
    support::signal(qemu, nix::sys::signal::Signal::SIGKILL);
    support::wait_for("QEMU to die", Duration::from_secs(10), || {
        (!support::process_alive(qemu)).then_some(())
    });
    assert!(ns.links().contains(&"qvmvt1".to_string()));
    let daemon = Daemon::start_under(&ns.exec(), &dir.path, &[]);
    let d = daemon.connect();
    assert_eq!(d.info(&dom).unwrap().state, DomainState::Shutoff);
    assert_eq!(ns.links(), base);

    // Mistakes.
    let missing = d
        .define_xml(&firmware(
            "fw-nodev",
            "<interface type='direct'><source dev='eth9' mode='bridge'/></interface>\
             <interface type='direct'><source dev='nodev0' mode='bridge'/></interface>",
        ))
        .unwrap();
    let e = assert_code(d.start(&missing), ErrorCode::OperationFailed);
    assert!(e.message.contains("'nodev0'"), "{}", e.message);
    let taken = d
        .define_xml(&firmware(
            "fw-taken",
            "<interface type='direct'><source dev='eth9'/><target dev='eth9p'/></interface>",
        ))
        .unwrap();
    let e = assert_code(d.start(&taken), ErrorCode::ResourceBusy);
    assert!(e.message.contains("'eth9p'"), "{}", e.message);
    let passthrough = d
        .define_xml(&firmware(
            "fw-passthrough",
            "<interface type='direct'><source dev='eth9' mode='passthrough'/></interface>",
        ))
        .unwrap();
    let e = assert_code(d.start(&passthrough), ErrorCode::ConfigUnsupported);
    assert!(e.message.contains("passthrough"), "{}", e.message);
    assert_eq!(ns.links(), base, "failed starts leave no macvtap");
    assert!(support::processes_under(&dir.path.join("run")).is_empty());
}

/// Open vSwitch's database and switch daemons, run inside the namespace
/// with their files under `dir` (`OVS_RUNDIR`), and a userspace-datapath
/// bridge `ovsbr`; the namespace's end stops them.
fn open_vswitch(ns: &Netns, dir: &std::path::Path) -> String {
    for tool in ["ovsdb-tool", "ovsdb-server", "ovs-vswitchd", "ovs-vsctl"] {
        assert!(
            Command::new("sh")
                .args(["-c", &format!("command -v {tool}")])
                .output()
                .is_ok_and(|o| o.status.success()),
            "{tool} is missing: install Debian's openvswitch-switch (scripts/deps.sh does)"
        );
    }
    std::fs::create_dir_all(dir).unwrap();
    let env = format!(
        "OVS_RUNDIR={d} OVS_DBDIR={d} OVS_LOGDIR={d}",
        d = dir.display()
    );
    let db = dir.join("conf.db");
    let script = format!(
        "set -e; {env} ovsdb-tool create {db} /usr/share/openvswitch/vswitch.ovsschema; \
         {env} ovsdb-server {db} --remote=punix:{d}/db.sock --pidfile --detach --log-file; \
         {env} ovs-vsctl --no-wait init; \
         {env} ovs-vswitchd --pidfile --detach --log-file; \
         {env} ovs-vsctl --timeout=10 add-br ovsbr -- set bridge ovsbr datapath_type=netdev",
        db = db.display(),
        d = dir.display()
    );
    let mut cmd = ns.exec();
    cmd.extend(["sh", "-c", script.as_str()]);
    run(cmd[0], &cmd[1..]);
    env
}

/// `<virtualport type='openvswitch'>` on a bridge interface: the tap is a
/// port of the Open vSwitch bridge (a real ovs-vswitchd, userspace
/// datapath) with the interface's ids, and goes with the domain; a host
/// whose bridge is not Open vSwitch's fails naming it.
#[test]
fn an_openvswitch_virtualport_puts_the_tap_on_the_switch() {
    let ns = Netns::new("ovs");
    let dir = TestDir::new("ovs");
    let ovs_dir = dir.path.join("ovs");
    let env = open_vswitch(&ns, &ovs_dir);
    let mut wrapper = ns.exec();
    let env_words: Vec<&str> = env.split(' ').collect();
    wrapper.push("env");
    wrapper.extend(env_words.iter().copied());
    let root = dir.path.join("qvirt");
    std::fs::create_dir_all(&root).unwrap();
    let daemon = Daemon::start_under(&wrapper, &root, &[]);
    let d = daemon.connect();
    let iface_id = "36cf8691-9674-435f-87d8-7e1b8e5eef18";
    let dom = d
        .define_xml(&firmware(
            "fw-ovs",
            &format!(
                "<interface type='bridge'><mac address='52:54:00:00:0a:01'/><source bridge='ovsbr'/>\
                 <vlan trunk='yes'><tag id='42' nativeMode='untagged'/><tag id='47'/></vlan>\
                 <virtualport type='openvswitch'><parameters interfaceid='{iface_id}' profileid='gold'/></virtualport>\
                 <model type='virtio'/></interface>"
            ),
        ))
        .unwrap();
    d.start(&dom).unwrap();
    let tap = taps(&*d, "fw-ovs").remove(0);
    let vsctl = |args: &str| {
        let mut cmd = ns.exec();
        let line = format!("{env} ovs-vsctl --timeout=10 {args}");
        cmd.extend(["sh", "-c", line.as_str()]);
        run(cmd[0], &cmd[1..]).trim().to_string()
    };
    assert_eq!(
        vsctl("list-ports ovsbr"),
        tap,
        "the tap is the bridge's port"
    );
    assert_eq!(
        vsctl(&format!("get Interface {tap} external-ids:iface-id")),
        format!("\"{iface_id}\"")
    );
    assert_eq!(
        vsctl(&format!("get Interface {tap} external-ids:attached-mac")),
        "\"52:54:00:00:0a:01\""
    );
    assert_eq!(
        vsctl(&format!("get Interface {tap} external-ids:vm-id")),
        format!("\"{}\"", dom.uuid)
    );
    assert_eq!(
        vsctl(&format!("get Interface {tap} external-ids:port-profile")),
        "gold"
    );
    // The <vlan>: a trunk of 42 and 47, 42 untagged.
    let port = |col: &str| vsctl(&format!("get Port {tap} {col}"));
    assert_eq!(
        [port("tag"), port("trunks"), port("vlan_mode")],
        ["42", "[42, 47]", "native-untagged"]
    );
    // update-device with another <source bridge>: the port moves to that
    // switch bridge with its ids and VLANs (libvirt's
    // qemuDomainChangeNetBridge); the live XML follows.
    vsctl("add-br ovsbr2 -- set bridge ovsbr2 datapath_type=netdev");
    let moved = format!(
        "<interface type='bridge'><mac address='52:54:00:00:0a:01'/><source bridge='ovsbr2'/>\
         <vlan trunk='yes'><tag id='42' nativeMode='untagged'/><tag id='47'/></vlan>\
         <virtualport type='openvswitch'><parameters interfaceid='{iface_id}' profileid='gold'/></virtualport>\
         <model type='virtio'/></interface>"
    );
    d.update_device(&dom, &moved, qvirt::driver::ModifyFlags::LIVE)
        .unwrap();
    assert_eq!(vsctl("list-ports ovsbr2"), tap);
    assert_eq!(vsctl("list-ports ovsbr"), "");
    assert_eq!(
        vsctl(&format!("get Interface {tap} external-ids:iface-id")),
        format!("\"{iface_id}\"")
    );
    assert_eq!(port("tag"), "42");
    let live = d.xml_desc(&dom, XmlFlags::NONE).unwrap();
    assert!(live.contains("<source bridge='ovsbr2'/>"), "{live}");
    d.destroy(&dom).unwrap();
    assert_eq!(
        vsctl("list-ports ovsbr2"),
        "",
        "the port goes with the domain"
    );
    assert!(!ns.links().contains(&tap), "the tap goes with the domain");

    // A port without an interface id gets one at define (libvirt's
    // rule), the same at every start.
    let unnamed = d
        .define_xml(&firmware(
            "fw-ovsid",
            "<interface type='bridge'><mac address='52:54:00:00:0a:02'/><source bridge='ovsbr'/>\
             <virtualport type='openvswitch'/><model type='virtio'/></interface>",
        ))
        .unwrap();
    let kept = d.xml_desc(&unnamed, XmlFlags::INACTIVE).unwrap();
    let made = kept
        .split("interfaceid='")
        .nth(1)
        .and_then(|r| r.split('\'').next())
        .unwrap_or_else(|| panic!("no interfaceid in {kept}"))
        .to_string();
    for _ in 0..2 {
        d.start(&unnamed).unwrap();
        let tap = taps(&*d, "fw-ovsid").remove(0);
        assert_eq!(
            vsctl(&format!("get Interface {tap} external-ids:iface-id")),
            format!("\"{made}\"")
        );
        d.destroy(&unnamed).unwrap();
    }

    // A kernel bridge is not Open vSwitch's: the start fails naming it,
    // and leaves no tap.
    let other = d
        .define_xml(&firmware(
            "fw-notovs",
            "<interface type='bridge'><source bridge='br0'/><virtualport type='openvswitch'/></interface>",
        ))
        .unwrap();
    let e = assert_code(d.start(&other), ErrorCode::OperationFailed);
    assert!(e.message.contains("'br0'"), "{}", e.message);
    assert!(
        !ns.links().iter().any(|l| l.starts_with("vnet")),
        "{:?}",
        ns.links()
    );
}

/// The Linux test guest, built (or found up to date) once.
fn guest_dir() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/guest/build-guest.sh");
        let out = Command::new(&script).output().expect("run build-guest.sh");
        assert!(
            out.status.success(),
            "build-guest.sh: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        PathBuf::from(
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .last()
                .unwrap_or("")
                .trim(),
        )
    })
    .clone()
}

/// The Linux guest `name` on bridge br0 with address `ip`.
fn bridged_guest(name: &str, ip: &str, mac: &str) -> String {
    let dir = guest_dir();
    format!(
        "<domain type='qemu'><name>{name}</name><memory unit='MiB'>128</memory><vcpu>1</vcpu>\
         <os><type arch='x86_64' machine='pc'>hvm</type><kernel>{}</kernel><initrd>{}</initrd>\
         <cmdline>console=ttyS0 quiet no_timer_check guestnet guestip={ip}/24 guestgw=10.0.3.1</cmdline></os>\
         <features><acpi/></features><devices>\
         <interface type='bridge'><mac address='{mac}'/><source bridge='br0'/>\
         <model type='virtio'/></interface>\
         <serial type='pty'><target port='0'/></serial>\
         <console type='pty'><target type='serial' port='0'/></console>\
         <memballoon model='none'/></devices></domain>",
        dir.join("vmlinux").display(),
        dir.join("initrd.img").display()
    )
}

/// Reads `console` until `needle` appears (typing Enter now and then, in
/// case the marker went by before the console was opened); the text read.
fn read_until(console: &mut dyn ConsoleStream, needle: &str, within: Duration) -> String {
    let deadline = Instant::now() + within;
    let mut text = String::new();
    while !text.contains(needle) {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "no '{needle}' within {within:?}:\n{text}");
        let chunk = console
            .read(left.min(Duration::from_secs(5)))
            .expect("console read");
        if chunk.is_empty() && needle == "guest# " {
            console.write(b"\n").expect("console write");
        }
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    text
}

/// Two Linux guests on one bridge reach each other: guest B fetches
/// guest A's web page, typed into B's console. Everything happens inside
/// the namespace; its taps go when the guests stop.
#[test]
fn two_guests_on_a_bridge_reach_each_other() {
    let ns = Netns::new("br");
    let dir = TestDir::new("br");
    let daemon = Daemon::start_under(&ns.exec(), &dir.path, &[]);
    let d = daemon.connect();
    let a = d
        .define_xml(&bridged_guest("lx-a", "10.0.3.11", "52:54:00:03:00:11"))
        .unwrap();
    let b = d
        .define_xml(&bridged_guest("lx-b", "10.0.3.12", "52:54:00:03:00:12"))
        .unwrap();
    let a = d.start(&a).unwrap();
    let b = d.start(&b).unwrap();
    let mut console_a = d.console(&a, false).unwrap();
    let mut console_b = d.console(&b, false).unwrap();
    let boot = Duration::from_secs(120);
    read_until(&mut *console_a, "guest# ", boot);
    read_until(&mut *console_b, "guest# ", boot);
    let mut expected = vec!["br0".to_string(), "lo".to_string()];
    expected.extend(taps(&*d, "lx-a"));
    expected.extend(taps(&*d, "lx-b"));
    expected.sort();
    assert_eq!(ns.links(), expected, "only the bridge and the two taps");
    let bridged = ns.ip(&["-o", "link", "show", "master", "br0"]);
    assert_eq!(bridged.lines().count(), 2, "{bridged}");
    console_b
        .write(b"wget -q -O - http://10.0.3.11/\n")
        .unwrap();
    let answer = read_until(
        &mut *console_b,
        "qvirt-guest-http-ok",
        Duration::from_secs(30),
    );
    assert!(answer.contains("qvirt-guest-http-ok"), "{answer}");
    // domifaddr --source arp: the guests greeted the bridge's address at
    // boot, so the namespace's neighbour table has each one's MAC.
    for (dom, ip, mac) in [
        (&a, "10.0.3.11", "52:54:00:03:00:11"),
        (&b, "10.0.3.12", "52:54:00:03:00:12"),
    ] {
        let found = d.interface_addresses(dom, AddressSource::Arp).unwrap();
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].mac, mac);
        assert_eq!(found[0].name, taps(&*d, &dom.name)[0]);
        assert_eq!(
            found[0]
                .addrs
                .iter()
                .map(|a| a.addr.as_str())
                .collect::<Vec<_>>(),
            [ip]
        );
        assert!(
            d.interface_addresses(dom, AddressSource::Lease)
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            d.interface_addresses(dom, AddressSource::Agent)
                .unwrap_err()
                .code,
            qvirt::ErrorCode::ArgumentUnsupported
        );
    }
    drop((console_a, console_b));
    d.destroy(&a).unwrap();
    d.destroy(&b).unwrap();
    assert_eq!(ns.links(), ["br0", "lo"]);
}

/// A bridge interface plugged into a running Linux guest gets a tap of
/// its own, up and in the bridge, named in the live XML; the guest sees
/// the NIC; unplugged, the tap goes. A bridge that does not exist is a
/// clear error that leaves no tap.
#[test]
fn a_plugged_bridge_interface_brings_its_tap() {
    let ns = Netns::new("plug");
    let dir = TestDir::new("plug");
    let daemon = Daemon::start_under(&ns.exec(), &dir.path, &[]);
    let d = daemon.connect();
    let xml = bridged_guest("lx-plug", "10.0.3.21", "52:54:00:03:00:21");
    let start = xml.find("<interface").unwrap();
    let end = xml.find("</interface>").unwrap() + "</interface>".len();
    let xml = format!("{}{}", &xml[..start], &xml[end..]);
    let dom = d.start(&d.define_xml(&xml).unwrap()).unwrap();
    let mut console = d.console(&dom, false).unwrap();
    read_until(&mut *console, "guest# ", Duration::from_secs(120));
    assert_eq!(ns.links(), ["br0", "lo"]);
    let nic = "<interface type='bridge'><mac address='52:54:00:03:00:22'/>\
               <source bridge='br0'/><model type='virtio'/></interface>";
    d.attach_device(&dom, nic, qvirt::driver::ModifyFlags::LIVE)
        .unwrap();
    let names = taps(&*d, "lx-plug");
    assert_eq!(names.len(), 1, "{names:?}");
    let link = ns.ip(&["link", "show", &names[0]]);
    assert!(
        link.contains("master br0") && link.contains(",UP"),
        "{link}"
    );
    // The guest finds the NIC a moment after QEMU has it.
    support::wait_for("the guest to see the NIC", Duration::from_secs(30), || {
        console
            .write(b"cat /sys/class/net/eth0/address 2>/dev/null\n")
            .unwrap();
        let out = read_until(&mut *console, "guest# ", Duration::from_secs(30));
        out.contains("52:54:00:03:00:22").then_some(())
    });
    let bad = "<interface type='bridge'><source bridge='nobr0'/><model type='virtio'/></interface>";
    let err = d
        .attach_device(&dom, bad, qvirt::driver::ModifyFlags::LIVE)
        .unwrap_err();
    assert!(err.message.contains("nobr0"), "{err}");
    let mut expected = vec!["br0".to_string(), "lo".to_string(), names[0].clone()];
    expected.sort();
    assert_eq!(ns.links(), expected, "the failed attach left no tap");
    d.detach_device(&dom, nic, qvirt::driver::ModifyFlags::LIVE)
        .unwrap();
    assert_eq!(ns.links(), ["br0", "lo"]);
    drop(console);
    d.destroy(&dom).unwrap();
}

/// A Linux guest on a direct interface (a macvtap in bridge mode on a
/// veth) is reached through the veth's peer: the namespace fetches the
/// guest's web page. The interface's counters are the guest's own (a
/// macvtap shares the host's view, so they are not swapped as a tap's).
/// A second one plugged in live is seen by the guest and goes when it is
/// unplugged.
#[test]
fn a_linux_guest_on_a_direct_interface_is_reached_through_its_parent() {
    let ns = Netns::new("dlx");
    ns.ip(&[
        "link", "add", "eth9", "type", "veth", "peer", "name", "eth9p",
    ]);
    ns.ip(&["addr", "add", "10.0.9.1/24", "dev", "eth9p"]);
    ns.ip(&["link", "set", "eth9p", "up"]);
    ns.ip(&["link", "set", "eth9", "up"]);
    let dir = TestDir::new("dlx");
    let daemon = Daemon::start_under(&ns.exec(), &dir.path, &[]);
    let d = daemon.connect();
    let xml = bridged_guest("lx-direct", "10.0.9.11", "52:54:00:09:00:11")
        .replace("<interface type='bridge'>", "<interface type='direct'>")
        .replace(
            "<source bridge='br0'/>",
            "<source dev='eth9' mode='bridge'/>",
        )
        .replace("guestgw=10.0.3.1", "guestgw=10.0.9.1");
    let dom = d.start(&d.define_xml(&xml).unwrap()).unwrap();
    let mut console = d.console(&dom, false).unwrap();
    read_until(&mut *console, "guest# ", Duration::from_secs(120));
    let url = "http://10.0.9.11/";
    let page = support::wait_for("the guest's web page", Duration::from_secs(30), || {
        let mut args = ns.exec();
        args.extend(["wget", "-q", "-T", "5", "-O", "-", url]);
        let out = Command::new(args[0]).args(&args[1..]).output().ok()?;
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.contains("qvirt-guest-http-ok").then_some(text)
    });
    assert!(page.contains("qvirt-guest-http-ok"), "{page}");
    // The guest fetches 256 KiB from a web server on the peer: its
    // counters must show them received.
    let www = dir.path.join("www");
    std::fs::create_dir_all(&www).unwrap();
    std::fs::write(www.join("big"), vec![b'x'; 256 * 1024]).unwrap();
    let mut args = ns.exec();
    let root = www.to_string_lossy().into_owned();
    args.extend(["busybox", "httpd", "-p", "10.0.9.1:8080", "-h", &root]);
    run(args[0], &args[1..]);
    console
        .write(b"wget -q -O /dev/null http://10.0.9.1:8080/big && echo fetched-$((40+2))\n")
        .unwrap();
    read_until(&mut *console, "fetched-42", Duration::from_secs(30));
    let tap = taps(&*d, "lx-direct").remove(0);
    let stats = d.stats(&dom).unwrap();
    let net = stats
        .interfaces
        .iter()
        .find(|n| n.name == tap)
        .unwrap_or_else(|| panic!("no counters of {tap}: {:?}", stats.interfaces));
    assert!(
        net.rx_bytes > 256 * 1024 && net.tx_bytes < net.rx_bytes / 2,
        "{net:?}"
    );
    // Another one plugged in live reaches the guest, and goes when it is
    // unplugged.
    let nic = "<interface type='direct'><mac address='52:54:00:09:00:12'/>\
               <source dev='eth9' mode='bridge'/><model type='virtio'/></interface>";
    d.attach_device(&dom, nic, qvirt::driver::ModifyFlags::LIVE)
        .unwrap();
    let names = taps(&*d, "lx-direct");
    assert_eq!(names.len(), 2, "{names:?}");
    support::wait_for("the guest to see the NIC", Duration::from_secs(30), || {
        console
            .write(b"cat /sys/class/net/eth1/address 2>/dev/null\n")
            .unwrap();
        let out = read_until(&mut *console, "guest# ", Duration::from_secs(30));
        out.contains("52:54:00:09:00:12").then_some(())
    });
    d.detach_device(&dom, nic, qvirt::driver::ModifyFlags::LIVE)
        .unwrap();
    assert_eq!(taps(&*d, "lx-direct"), std::slice::from_ref(&tap));
    assert!(!ns.links().contains(&names[1]), "{:?}", ns.links());
    drop(console);
    d.destroy(&dom).unwrap();
    assert_eq!(ns.links(), ["br0", "eth9", "eth9p", "lo"]);
}
