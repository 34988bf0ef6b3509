//! Live hot-plug with unmodified virsh 9.0 against a `qvirtd --root
//! DIR`, looked at in QEMU (`qom-list`, `query-pci`, a USB device's
//! port) and in the running Linux guest: `attach-device --live` and
//! `detach-device --live` of an i6300esb watchdog, whose action is
//! QEMU's (a starved watchdog pauses the guest); of a USB tablet and a
//! virtio keyboard (the kernel's input devices); of virtio-scsi
//! controllers (one a SCSI disk brings along, one busy with a disk);
//! of a terminal channel and the guest agent's (the guest's qemu-ga
//! then answers); of virtiofs shares (each with its virtiofsd;
//! the guest mounts them); of a USB redirection device (QEMU speaks
//! usbredir on the test's socket, with the domain's filter). The live
//! XML's aliases and ports; `detach-device-alias`; a plug after an
//! unplug in the middle (no id or port clash) and a detach after qvirtd
//! was restarted (the right QEMU device goes); libvirt's refusals, which
//! change nothing.

#[allow(dead_code, unused_imports)]
#[path = "daemon/support.rs"]
mod support;

#[path = "libvirt/lv.rs"]
mod lv;

#[path = "libvirt/guest_shell.rs"]
mod guest_shell;

#[path = "libvirt/probe.rs"]
mod probe;

use std::path::Path;
use std::time::Duration;

use guest_shell::Guest;
use lv::*;
use probe::*;
use support::*;

const BOOT: Duration = Duration::from_secs(180);
const QUICK: Duration = Duration::from_secs(30);

/// The guest's input devices' names, once `name` is among them exactly
/// `want` times (the guest takes a moment to see a device come or go).
fn guest_inputs(g: &mut Guest, name: &str, want: usize) -> usize {
    let count = format!("grep -c '^N: Name=\"{name}\"' /proc/bus/input/devices");
    let wait = format!("for t in $(seq 150); do [ $({count}) = {want} ] && break; sleep 0.2; done");
    let out = g.value(&wait, &count);
    out.parse().unwrap_or_else(|_| panic!("{out}"))
}

/// Whether the guest has `/dev/watchdog`, once it is `want` or after a
/// while.
fn guest_watchdog(g: &mut Guest, want: bool) -> bool {
    let test = if want { "-e" } else { "! -e" };
    let wait =
        format!("for t in $(seq 150); do [ {test} /dev/watchdog ] && break; sleep 0.2; done");
    g.value(&wait, "[ -e /dev/watchdog ] && echo yes || echo no") == "yes"
}

#[test]
fn a_watchdog_plugs_into_the_running_guest_with_its_action() {
    let dir = TestDir::new("lvwdplug");
    let daemon = Daemon::start(&dir.path, &[]);
    let s = &lv_socket(&dir.path);
    virsh_define(s, &dir.path, "wp.xml", &linux_vm("wp"));
    virsh_ok(s, &["start", "wp"]);
    let esb = write_file(
        &dir.path,
        "esb.xml",
        "<watchdog model='i6300esb' action='pause'/>",
    );
    let ib700 = write_file(&dir.path, "ib700.xml", "<watchdog model='ib700'/>");
    let (esb, ib700) = (esb.to_str().unwrap(), ib700.to_str().unwrap());
    let inactive = virsh_ok(s, &["dumpxml", "wp", "--inactive"]);
    let qvirt = daemon.connect();
    let dom = qvirt.lookup_by_name("wp").unwrap();
    let mut g = Guest::open(&*qvirt, &dom);
    assert!(
        !guest_watchdog(&mut g, false),
        "a watchdog before the attach"
    );

    // An ISA watchdog cannot be plugged in: refused, nothing changed.
    let e = virsh_err(s, &["attach-device", "wp", ib700, "--live"]);
    assert!(
        e.contains("hotplug of watchdog of model ib700 is not supported"),
        "{e}"
    );
    assert!(qemu_devices(s, "wp").is_empty());

    // The i6300esb: QEMU has it on the slot the live XML shows, under
    // libvirt's alias; the guest's driver finds it.
    for round in 0..2 {
        assert_eq!(
            virsh_ok(s, &["attach-device", "wp", esb, "--live"]),
            "Device attached successfully\n\n"
        );
        assert_eq!(qemu_devices(s, "wp"), ["watchdog0:i6300esb"]);
        let live = virsh_ok(s, &["dumpxml", "wp"]);
        let wd = xml_devices(&live, "watchdog");
        assert_eq!(wd.len(), 1, "{live}");
        assert_eq!(wd[0].0, "watchdog0");
        assert_eq!(Some(slot(&wd[0].1)), pci_slot(s, "wp", "watchdog0"));
        assert!(
            live.contains("<watchdog model='i6300esb' action='pause'>"),
            "{live}"
        );
        assert!(
            guest_watchdog(&mut g, true),
            "no /dev/watchdog (round {round})"
        );
        // Live only.
        assert_eq!(virsh_ok(s, &["dumpxml", "wp", "--inactive"]), inactive);
        // One watchdog at most.
        let e = virsh_err(s, &["attach-device", "wp", esb, "--live"]);
        assert!(e.contains("domain already has a watchdog"), "{e}");
        if round == 1 {
            break;
        }
        // Another action does not name it; the same XML does.
        let other = write_file(
            &dir.path,
            "other.xml",
            "<watchdog model='i6300esb' action='reset'/>",
        );
        let e = virsh_err(
            s,
            &["detach-device", "wp", other.to_str().unwrap(), "--live"],
        );
        assert!(
            e.contains("model 'i6300esb' watchdog device not present"),
            "{e}"
        );
        assert_eq!(
            virsh_ok(s, &["detach-device", "wp", esb, "--live"]),
            "Device detached successfully\n\n"
        );
        assert!(qemu_devices(s, "wp").is_empty());
        let live = virsh_ok(s, &["dumpxml", "wp"]);
        assert!(!live.contains("<watchdog"), "{live}");
        assert!(
            !guest_watchdog(&mut g, false),
            "the guest kept /dev/watchdog"
        );
    }

    // QEMU does what the plugged watchdog says: starved, it pauses.
    g.run("(watchdog -F -T 2 -t 600 /dev/watchdog &) ; true");
    wait_for("the watchdog to pause the guest", QUICK, || {
        let state = virsh_ok(s, &["domstate", "wp", "--reason"]);
        (state.trim() == "paused (watchdog)").then_some(())
    });
    drop(g);
    virsh_ok(s, &["destroy", "wp"]);
}

#[test]
fn inputs_plug_into_and_out_of_the_running_guest() {
    let dir = TestDir::new("lvinplug");
    let mut daemon = Daemon::start(&dir.path, &[]);
    let s = &lv_socket(&dir.path);
    // A PS/2 mouse first: the plugged inputs' numbers follow it.
    let xml = linux_vm("ip").replace("<memballoon", "<input type='mouse' bus='ps2'/><memballoon");
    virsh_define(s, &dir.path, "ip.xml", &xml);
    virsh_ok(s, &["start", "ip"]);
    let file = |name: &str, xml: &str| {
        let f = write_file(&dir.path, name, xml);
        f.to_str().unwrap().to_string()
    };
    let tablet = file("tablet.xml", "<input type='tablet' bus='usb'/>");
    let keyboard = file("keyboard.xml", "<input type='keyboard' bus='virtio'/>");
    let mouse = file("mouse.xml", "<input type='mouse' bus='usb'/>");
    let ps2 = file("ps2.xml", "<input type='mouse' bus='ps2'/>");
    let inactive = virsh_ok(s, &["dumpxml", "ip", "--inactive"]);
    // The inputs a start made (the PS/2 mouse, input0).
    let first = xml_devices(&virsh_ok(s, &["dumpxml", "ip"]), "input").len();
    assert_eq!(first, 1);
    let alias = |k: usize| format!("input{}", first + k);

    // The PS/2 port is the machine's own.
    let e = virsh_err(s, &["attach-device", "ip", &ps2, "--live"]);
    assert!(
        e.contains("input device on bus 'ps2' cannot be hot plugged"),
        "{e}"
    );
    let e = virsh_err(s, &["detach-device", "ip", &ps2, "--live"]);
    assert!(
        e.contains("input device on bus 'ps2' cannot be detached"),
        "{e}"
    );
    let e = virsh_err(s, &["detach-device-alias", "ip", "input0", "--live"]);
    assert!(
        e.contains("input device on bus 'ps2' cannot be detached"),
        "{e}"
    );

    {
        let qvirt = daemon.connect();
        let dom = qvirt.lookup_by_name("ip").unwrap();
        let mut g = Guest::open(&*qvirt, &dom);
        assert_eq!(guest_inputs(&mut g, "QEMU Virtio Keyboard", 0), 0);

        // A USB tablet on the port the live XML shows, and a virtio
        // keyboard on a PCI slot, which the guest sees.
        virsh_ok(s, &["attach-device", "ip", &tablet, "--live"]);
        virsh_ok(s, &["attach-device", "ip", &keyboard, "--live"]);
        assert_eq!(
            qemu_devices(s, "ip"),
            [
                format!("{}:usb-tablet", alias(0)),
                format!("{}:virtio-keyboard-pci", alias(1))
            ]
        );
        let live = virsh_ok(s, &["dumpxml", "ip"]);
        let inputs = xml_devices(&live, "input");
        assert_eq!(inputs.len(), first + 2, "{live}");
        assert_eq!(inputs[first].0, alias(0));
        assert_eq!(
            serde_json::Value::String(inputs[first].1.clone()),
            qom_get(s, "ip", &alias(0), "port")
        );
        assert_eq!(inputs[first + 1].0, alias(1));
        assert_eq!(
            Some(slot(&inputs[first + 1].1)),
            pci_slot(s, "ip", &alias(1))
        );
        assert_eq!(guest_inputs(&mut g, "QEMU Virtio Keyboard", 1), 1);
        assert_eq!(virsh_ok(s, &["dumpxml", "ip", "--inactive"]), inactive);

        // The tablet out (the first of the two), a USB mouse in: it takes
        // a number QEMU has free, not the keyboard's.
        assert_eq!(
            virsh_ok(s, &["detach-device", "ip", &tablet, "--live"]),
            "Device detached successfully\n\n"
        );
        virsh_ok(s, &["attach-device", "ip", &mouse, "--live"]);
        assert_eq!(
            qemu_devices(s, "ip"),
            [
                format!("{}:usb-mouse", alias(0)),
                format!("{}:virtio-keyboard-pci", alias(1))
            ]
        );
        let live = virsh_ok(s, &["dumpxml", "ip"]);
        let aliases: Vec<String> = xml_devices(&live, "input")
            .into_iter()
            .skip(first)
            .map(|(a, _)| a)
            .collect();
        assert_eq!(aliases, [alias(1), alias(0)], "{live}");
    }

    // A qvirtd started again knows which QEMU device each input is.
    drop(daemon);
    daemon = Daemon::start(&dir.path, &[]);
    let live = virsh_ok(s, &["dumpxml", "ip"]);
    let aliases: Vec<String> = xml_devices(&live, "input")
        .into_iter()
        .skip(first)
        .map(|(a, _)| a)
        .collect();
    assert_eq!(aliases, [alias(1), alias(0)], "{live}");
    let qvirt = daemon.connect();
    let dom = qvirt.lookup_by_name("ip").unwrap();
    let mut g = Guest::open(&*qvirt, &dom);
    assert_eq!(
        virsh_ok(s, &["detach-device-alias", "ip", &alias(1), "--live"]),
        "Device detach request sent successfully\n\n"
    );
    wait_for("the keyboard to leave QEMU", QUICK, || {
        (qemu_devices(s, "ip") == [format!("{}:usb-mouse", alias(0))]).then_some(())
    });
    assert_eq!(guest_inputs(&mut g, "QEMU Virtio Keyboard", 0), 0);
    virsh_ok(s, &["detach-device", "ip", &mouse, "--live"]);
    assert!(qemu_devices(s, "ip").is_empty());
    // python3-libvirt plugs and unplugs the same way.
    let tablet = "<input type='tablet' bus='virtio'/>";
    let call = |f: &str| format!("dom.{f}({tablet:?}, libvirt.VIR_DOMAIN_AFFECT_LIVE)");
    python(s, "ip", &call("attachDeviceFlags"));
    assert_eq!(
        qemu_devices(s, "ip"),
        [format!("{}:virtio-tablet-pci", alias(0))]
    );
    python(s, "ip", &call("detachDeviceFlags"));
    assert!(qemu_devices(s, "ip").is_empty());
    let live = virsh_ok(s, &["dumpxml", "ip"]);
    assert_eq!(xml_devices(&live, "input").len(), first, "{live}");
    drop(g);
    virsh_ok(s, &["destroy", "ip"]);
}

/// The guest's SCSI disks (`sda`, ...), once there are `want` of them or
/// after a while.
fn guest_scsi_disks(g: &mut Guest, want: usize) -> Vec<String> {
    let wait = format!(
        "for t in $(seq 150); do [ $(ls /sys/block | grep -c '^sd') = {want} ] && break; sleep 0.2; done"
    );
    let out = g.value(&wait, "ls /sys/block | grep '^sd'");
    out.split_whitespace().map(str::to_string).collect()
}

#[test]
fn scsi_controllers_plug_in_with_and_for_their_disks() {
    let dir = TestDir::new("lvscsiplug");
    let daemon = Daemon::start(&dir.path, &[]);
    let s = &lv_socket(&dir.path);
    virsh_define(s, &dir.path, "sc.xml", &linux_vm("sc"));
    virsh_ok(s, &["start", "sc"]);
    let file = |name: &str, xml: &str| {
        let f = write_file(&dir.path, name, xml);
        f.to_str().unwrap().to_string()
    };
    let disk = |dev: &str, address: &str| {
        let img = dir.path.join(format!("{dev}.img"));
        std::fs::File::create(&img)
            .unwrap()
            .set_len(8 << 20)
            .unwrap();
        file(
            &format!("{dev}.xml"),
            &format!(
                "<disk type='file' device='disk'><driver name='qemu' type='raw'/>\
                 <source file='{}'/><target dev='{dev}' bus='scsi'/>{address}</disk>",
                img.display()
            ),
        )
    };
    let ctl = file("ctl.xml", "<controller type='scsi' model='virtio-scsi'/>");
    let ctl0 = file(
        "ctl0.xml",
        "<controller type='scsi' index='0' model='virtio-scsi'/>",
    );
    let usb = file(
        "usb.xml",
        "<controller type='usb' index='1' model='qemu-xhci'/>",
    );
    let sda = disk("sda", "");
    let sdb = disk(
        "sdb",
        "<address type='drive' controller='1' bus='0' target='0' unit='0'/>",
    );
    let inactive = virsh_ok(s, &["dumpxml", "sc", "--inactive"]);
    let controllers = |s: &Path| -> Vec<String> {
        let cmd = r#"{"execute":"qom-list","arguments":{"path":"/machine/peripheral"}}"#;
        let out = virsh_ok(s, &["qemu-monitor-command", "sc", cmd]);
        let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
        let mut out: Vec<String> = v["return"]
            .as_array()
            .unwrap()
            .iter()
            // The controllers, not the disks on them (`scsi0-0-0-0`).
            .filter(|p| {
                p["name"]
                    .as_str()
                    .is_some_and(|n| n.starts_with("scsi") && !n.contains('-'))
            })
            .map(|p| {
                let t = p["type"].as_str().unwrap();
                format!(
                    "{}:{}",
                    p["name"].as_str().unwrap(),
                    t.trim_start_matches("child<").trim_end_matches('>')
                )
            })
            .collect();
        out.sort();
        out
    };

    // Only SCSI host adapters plug in.
    let e = virsh_err(s, &["attach-device", "sc", &usb, "--live"]);
    assert!(e.contains("'usb' controller cannot be hot plugged."), "{e}");

    let qvirt = daemon.connect();
    let dom = qvirt.lookup_by_name("sc").unwrap();
    let mut g = Guest::open(&*qvirt, &dom);
    assert!(guest_scsi_disks(&mut g, 0).is_empty());

    // Without an index it takes 0; QEMU has it on the live XML's slot.
    virsh_ok(s, &["attach-device", "sc", &ctl, "--live"]);
    assert_eq!(controllers(s), ["scsi0:virtio-scsi-pci"]);
    let live = virsh_ok(s, &["dumpxml", "sc"]);
    let scsi: Vec<(String, String)> = xml_devices(&live, "controller")
        .into_iter()
        .filter(|(a, _)| a.starts_with("scsi"))
        .collect();
    assert_eq!(scsi.len(), 1, "{live}");
    assert_eq!(scsi[0].0, "scsi0");
    assert_eq!(Some(slot(&scsi[0].1)), pci_slot(s, "sc", "scsi0"));
    let e = virsh_err(s, &["attach-device", "sc", &ctl0, "--live"]);
    assert!(e.contains("target scsi:0 already exists"), "{e}");

    // A disk on it, which the guest sees; the controller is then busy.
    virsh_ok(s, &["attach-device", "sc", &sda, "--live"]);
    assert_eq!(guest_scsi_disks(&mut g, 1), ["sda"]);
    let e = virsh_err(s, &["detach-device", "sc", &ctl0, "--live"]);
    assert!(
        e.contains("device cannot be detached: device is busy"),
        "{e}"
    );
    let e = virsh_err(s, &["detach-device-alias", "sc", "scsi0", "--live"]);
    assert!(
        e.contains("device cannot be detached: device is busy"),
        "{e}"
    );

    // A disk on controller 1, which the domain lacks, brings it along,
    // of the model the domain's SCSI controllers have.
    virsh_ok(s, &["attach-device", "sc", &sdb, "--live"]);
    assert_eq!(
        controllers(s),
        ["scsi0:virtio-scsi-pci", "scsi1:virtio-scsi-pci"]
    );
    assert_eq!(guest_scsi_disks(&mut g, 2), ["sda", "sdb"]);
    let live = virsh_ok(s, &["dumpxml", "sc"]);
    assert!(
        live.contains("<controller type='scsi' index='1' model='virtio-scsi'>"),
        "{live}"
    );
    assert_eq!(virsh_ok(s, &["dumpxml", "sc", "--inactive"]), inactive);

    // The disks out, then the controllers, by XML and by alias.
    virsh_ok(s, &["detach-device", "sc", &sdb, "--live"]);
    virsh_ok(s, &["detach-device", "sc", &sda, "--live"]);
    assert!(guest_scsi_disks(&mut g, 0).is_empty());
    assert_eq!(
        virsh_ok(s, &["detach-device", "sc", &ctl0, "--live"]),
        "Device detached successfully\n\n"
    );
    virsh_ok(s, &["detach-device-alias", "sc", "scsi1", "--live"]);
    wait_for("scsi1 to leave QEMU", QUICK, || {
        controllers(s).is_empty().then_some(())
    });
    let live = virsh_ok(s, &["dumpxml", "sc"]);
    assert!(!live.contains("<controller type='scsi'"), "{live}");
    drop(g);
    virsh_ok(s, &["destroy", "sc"]);
}

/// The names of the guest's virtio-serial ports, once `name` is among
/// them exactly `want` times or after a while.
fn guest_ports(g: &mut Guest, name: &str, want: usize) -> String {
    let list = "cat /sys/class/virtio-ports/vport*/name 2>/dev/null";
    let wait = format!(
        "for t in $(seq 150); do [ $({list} | grep -cx '{name}') = {want} ] && break; sleep 0.2; done"
    );
    g.value(&wait, &format!("{list} | sort"))
}

#[test]
fn channels_plug_in_and_out_and_the_agent_answers_on_one() {
    let dir = TestDir::new("lvchplug");
    let mut daemon = Daemon::start(&dir.path, &[]);
    let s = &lv_socket(&dir.path);
    // A virtio console takes port 0 at the start; the live XML shows it.
    let xml = linux_vm("ch").replace(
        "<memballoon",
        "<controller type='virtio-serial' index='0'/>\
         <console type='pty'><target type='virtio' port='1'/></console><memballoon",
    );
    virsh_define(s, &dir.path, "ch.xml", &xml);
    virsh_define(s, &dir.path, "bare.xml", &firmware_vm("bare"));
    virsh_ok(s, &["start", "ch"]);
    virsh_ok(s, &["start", "bare"]);
    let file = |name: &str, xml: &str| {
        let f = write_file(&dir.path, name, xml);
        f.to_str().unwrap().to_string()
    };
    let agent = file(
        "agent.xml",
        "<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>",
    );
    let pty = file(
        "pty.xml",
        "<channel type='pty'><target type='virtio' name='org.example.pty'/></channel>",
    );
    let ping = r#"{"execute":"guest-ping"}"#;
    let inactive = virsh_ok(s, &["dumpxml", "ch", "--inactive"]);

    // Without a virtio-serial controller there is no port to plug into.
    let e = virsh_err(s, &["attach-device", "bare", &agent, "--live"]);
    assert!(e.contains("no virtio-serial controller 0"), "{e}");
    assert!(qemu_devices_of(s, "bare", "virtserialport").is_empty());
    virsh_ok(s, &["destroy", "bare"]);
    let e = virsh_err(s, &["qemu-agent-command", "ch", ping]);
    assert!(e.contains("QEMU guest agent is not configured"), "{e}");

    {
        let qvirt = daemon.connect();
        let dom = qvirt.lookup_by_name("ch").unwrap();
        let mut g = Guest::open(&*qvirt, &dom);
        // A terminal channel on port 1, the agent's on port 2: QEMU has
        // both ports, the live XML shows the terminal and the ports.
        virsh_ok(s, &["attach-device", "ch", &pty, "--live"]);
        virsh_ok(s, &["attach-device", "ch", &agent, "--live"]);
        assert_eq!(
            qemu_devices_of(s, "ch", "virtserialport"),
            ["channel0", "channel1"]
        );
        let live = virsh_ok(s, &["dumpxml", "ch"]);
        assert!(live.contains("<source path='/dev/pts/"), "{live}");
        for port in 0..3 {
            let address =
                format!("<address type='virtio-serial' controller='0' bus='0' port='{port}'/>");
            assert!(live.contains(&address), "{address}: {live}");
        }
        // The agent's socket, made up in the run directory.
        assert!(live.contains("/c.org.qemu.guest_agent.0'"), "{live}");
        let e = virsh_err(s, &["attach-device", "ch", &agent, "--live"]);
        assert!(e.contains("chardev already exists"), "{e}");
        assert_eq!(virsh_ok(s, &["dumpxml", "ch", "--inactive"]), inactive);
        let ports = guest_ports(&mut g, "org.qemu.guest_agent.0", 1);
        assert_eq!(ports.trim(), "org.example.pty org.qemu.guest_agent.0");

        // The guest's agent on the plugged port answers the host, and
        // its connection is the agent lifecycle event of that port.
        let mut events = qvirt.events().unwrap();
        g.run(
            "for d in /sys/class/virtio-ports/vport*; do [ $(cat $d/name) = org.qemu.guest_agent.0 ] && p=/dev/${d##*/}; done; \
             mkdir -p /var/run/qemu-ga; (qemu-ga -m virtio-serial -p $p -t /var/run/qemu-ga -l /var/log/qemu-ga.log &); true",
        );
        wait_for("the plugged-in agent to answer", QUICK, || {
            let out = virsh(s, &["qemu-agent-command", "ch", ping]);
            out.status.success().then_some(())
        });
        wait_for("the agent's lifecycle event", QUICK, || {
            events
                .next(Duration::from_secs(1))
                .unwrap()
                .filter(|e| e.kind == qvirt::driver::EventKind::AgentLifecycle { connected: true })
        });
        drop(events);

        // The terminal out (the first port), in again: it takes the free
        // number and port, not the agent's.
        virsh_ok(s, &["detach-device", "ch", &pty, "--live"]);
        assert_eq!(qemu_devices_of(s, "ch", "virtserialport"), ["channel1"]);
        assert_eq!(
            guest_ports(&mut g, "org.example.pty", 0).trim(),
            "org.qemu.guest_agent.0"
        );
        virsh_ok(s, &["attach-device", "ch", &pty, "--live"]);
        assert_eq!(
            qemu_devices_of(s, "ch", "virtserialport"),
            ["channel0", "channel1"]
        );
        let live = virsh_ok(s, &["dumpxml", "ch"]);
        assert!(
            live.contains("<address type='virtio-serial' controller='0' bus='0' port='1'/>"),
            "{live}"
        );
    }

    // A qvirtd started again still reaches the agent on its port, and
    // detaches the agent's channel, not the terminal's.
    drop(daemon);
    daemon = Daemon::start(&dir.path, &[]);
    assert_eq!(
        virsh_ok(s, &["qemu-agent-command", "ch", ping]).trim(),
        r#"{"return":{}}"#
    );
    let live = virsh_ok(s, &["dumpxml", "ch"]);
    assert!(live.contains("<alias name='channel1'/>"), "{live}");
    virsh_ok(s, &["detach-device", "ch", &agent, "--live"]);
    assert_eq!(qemu_devices_of(s, "ch", "virtserialport"), ["channel0"]);
    let e = virsh_err(s, &["qemu-agent-command", "ch", ping]);
    assert!(e.contains("QEMU guest agent is not configured"), "{e}");
    // The terminal's by the alias the live XML shows.
    virsh_ok(s, &["detach-device-alias", "ch", "channel0", "--live"]);
    wait_for("channel0 to leave QEMU", QUICK, || {
        qemu_devices_of(s, "ch", "virtserialport")
            .is_empty()
            .then_some(())
    });
    let live = virsh_ok(s, &["dumpxml", "ch"]);
    assert!(!live.contains("<channel"), "{live}");
    virsh_ok(s, &["destroy", "ch"]);
    drop(daemon);
}

/// The virtiofsd processes whose command line names `dir`.
fn virtiofsds(dir: &Path) -> usize {
    let needle = format!("source={}", dir.display());
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
        .filter(|c| c.contains("virtiofsd") && c.contains(&needle))
        .count()
}

#[test]
fn virtiofs_shares_plug_into_and_out_of_the_running_guest() {
    let dir = TestDir::new("lvfsplug");
    let mut daemon = Daemon::start(&dir.path, &[]);
    let s = &lv_socket(&dir.path);
    // virtiofs needs the guest's memory shared with virtiofsd.
    let xml = linux_vm("fp").replace(
        "<os>",
        "<memoryBacking><source type='memfd'/><access mode='shared'/></memoryBacking><os>",
    );
    virsh_define(s, &dir.path, "fp.xml", &xml);
    virsh_ok(s, &["start", "fp"]);
    let share = |name: &str| {
        let d = dir.path.join(name);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("hello.txt"), format!("from {name}")).unwrap();
        d
    };
    let (one, two) = (share("one"), share("two"));
    let fs = |tag: &str, d: &Path| {
        let f = write_file(
            &dir.path,
            &format!("{tag}.xml"),
            &format!(
                "<filesystem type='mount' accessmode='passthrough'><driver type='virtiofs'/>\
                 <source dir='{}'/><target dir='{tag}'/></filesystem>",
                d.display()
            ),
        );
        f.to_str().unwrap().to_string()
    };
    let (fs_one, fs_two) = (fs("one", &one), fs("two", &two));
    // Mounts share `tag` once the guest found its device.
    let mount = |tag: &str| {
        format!(
            "mkdir -p /mnt/{tag}; for t in $(seq 150); do mount -t virtiofs {tag} /mnt/{tag} 2>/dev/null && break; sleep 0.2; done"
        )
    };
    let ninep = write_file(
        &dir.path,
        "ninep.xml",
        &format!(
            "<filesystem type='mount' accessmode='mapped'><source dir='{}'/><target dir='ninep'/></filesystem>",
            one.display()
        ),
    );
    let inactive = virsh_ok(s, &["dumpxml", "fp", "--inactive"]);

    // 9p is not plugged in (libvirt's rule).
    let e = virsh_err(
        s,
        &["attach-device", "fp", ninep.to_str().unwrap(), "--live"],
    );
    assert!(
        e.contains("only virtiofs filesystems can be hotplugged"),
        "{e}"
    );

    {
        let qvirt = daemon.connect();
        let dom = qvirt.lookup_by_name("fp").unwrap();
        let mut g = Guest::open(&*qvirt, &dom);
        // Two shares, each its virtiofsd and its device on a PCI slot;
        // the guest mounts them by tag and reads the host's files.
        virsh_ok(s, &["attach-device", "fp", &fs_one, "--live"]);
        virsh_ok(s, &["attach-device", "fp", &fs_two, "--live"]);
        // (QEMU 7.2's virtiofsd runs as two processes, its sandbox's.)
        assert!(virtiofsds(&one) > 0 && virtiofsds(&two) > 0);
        let live = virsh_ok(s, &["dumpxml", "fp"]);
        let slots: Vec<u64> = xml_devices(&live, "filesystem")
            .iter()
            .map(|(_, at)| slot(at))
            .collect();
        assert_eq!(
            slots,
            [
                pci_slot(s, "fp", "fs0").unwrap(),
                pci_slot(s, "fp", "fs1").unwrap()
            ]
        );
        let e = virsh_err(s, &["attach-device", "fp", &fs_one, "--live"]);
        assert!(e.contains("Target already exists"), "{e}");
        assert_eq!(virsh_ok(s, &["dumpxml", "fp", "--inactive"]), inactive);
        for tag in ["one", "two"] {
            let read = g.value(&mount(tag), &format!("cat /mnt/{tag}/hello.txt"));
            assert_eq!(read, format!("from {tag}"));
        }
        g.run("echo from-the-guest > /mnt/two/back.txt && sync");
        assert_eq!(
            std::fs::read_to_string(two.join("back.txt")).unwrap(),
            "from-the-guest\n"
        );

        // The first out (unmounted first: the guest lets go), its
        // virtiofsd ends; in again, it takes the free number.
        g.run("umount /mnt/one");
        assert_eq!(
            virsh_ok(s, &["detach-device", "fp", &fs_one, "--live"]),
            "Device detached successfully\n\n"
        );
        wait_for("the first share's virtiofsd to end", QUICK, || {
            (virtiofsds(&one) == 0).then_some(())
        });
        assert!(pci_slot(s, "fp", "fs0").is_none());
        virsh_ok(s, &["attach-device", "fp", &fs_one, "--live"]);
        assert!(pci_slot(s, "fp", "fs0").is_some());
        let read = g.value(&mount("one"), "cat /mnt/one/hello.txt");
        assert_eq!(read, "from one");
        g.run("umount /mnt/one; umount /mnt/two");
    }

    // A qvirtd started again detaches the right share; the domain's end
    // ends the virtiofsd left.
    drop(daemon);
    daemon = Daemon::start(&dir.path, &[]);
    virsh_ok(s, &["detach-device", "fp", &fs_two, "--live"]);
    wait_for("the second share's virtiofsd to end", QUICK, || {
        (virtiofsds(&two) == 0).then_some(())
    });
    assert!(pci_slot(s, "fp", "fs1").is_none());
    assert!(pci_slot(s, "fp", "fs0").is_some());
    virsh_ok(s, &["destroy", "fp"]);
    wait_for("the last virtiofsd to end", QUICK, || {
        (virtiofsds(&one) == 0).then_some(())
    });
    drop(daemon);
}

#[test]
fn usb_redirection_plugs_in_and_out_with_the_domains_filter() {
    use std::io::Read;
    let dir = TestDir::new("lvredirplug");
    let _daemon = Daemon::start(&dir.path, &[]);
    let s = &lv_socket(&dir.path);
    let xml = firmware_vm("rd").replace(
        "</devices>",
        "<redirfilter><usbdev class='0x08' allow='no'/><usbdev allow='yes'/></redirfilter></devices>",
    );
    virsh_define(s, &dir.path, "rd.xml", &xml);
    virsh_ok(s, &["start", "rd"]);
    let sock = dir.path.join("usbredir.sock");
    let server = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    let redir = write_file(
        &dir.path,
        "redir.xml",
        &format!(
            "<redirdev bus='usb' type='unix'><source mode='connect' path='{}'/></redirdev>",
            sock.display()
        ),
    );
    let redir = redir.to_str().unwrap();
    let inactive = virsh_ok(s, &["dumpxml", "rd", "--inactive"]);

    // QEMU connects and speaks usbredir; the device holds the filter.
    virsh_ok(s, &["attach-device", "rd", redir, "--live"]);
    let (mut conn, _) = server.accept().unwrap();
    conn.set_read_timeout(Some(QUICK)).unwrap();
    let mut hello = vec![0u8; 76];
    conn.read_exact(&mut hello).unwrap();
    assert!(
        String::from_utf8_lossy(&hello).contains("qemu usb-redir guest"),
        "{hello:?}"
    );
    assert_eq!(qemu_devices_of(s, "rd", "usb-redir"), ["redir0"]);
    assert_eq!(
        qom_get(s, "rd", "redir0", "filter"),
        serde_json::json!("0x08:-1:-1:-1:0|-1:-1:-1:-1:1")
    );
    let live = virsh_ok(s, &["dumpxml", "rd"]);
    let ports = xml_devices(&live, "redirdev");
    assert_eq!(ports.len(), 1, "{live}");
    assert_eq!(
        serde_json::Value::String(ports[0].1.clone()),
        qom_get(s, "rd", "redir0", "port")
    );
    assert_eq!(virsh_ok(s, &["dumpxml", "rd", "--inactive"]), inactive);

    // Out: QEMU lets the socket go.
    virsh_ok(s, &["detach-device", "rd", redir, "--live"]);
    assert!(qemu_devices_of(s, "rd", "usb-redir").is_empty());
    let mut rest = Vec::new();
    conn.read_to_end(&mut rest).unwrap();
    let live = virsh_ok(s, &["dumpxml", "rd"]);
    assert!(!live.contains("<redirdev"), "{live}");
    let e = virsh_err(s, &["detach-device", "rd", redir, "--live"]);
    assert!(e.contains("no matching redirdev"), "{e}");
    virsh_ok(s, &["destroy", "rd"]);
}
