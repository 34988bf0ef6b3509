//! An ethernet interface's `<script>` and `<downscript>`: run by the
//! manager as libvirt runs them (`SCRIPT TAP`), the script once the tap
//! is up, the downscript when the domain stops; a failing script fails
//! the start with its words and leaves no tap; either taints the run.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use super::{Daemon, Netns, TestDir, acpi_firmware, taps};
use qvirt::driver::ModifyFlags;

/// Writes an executable shell script.
fn script(path: &Path, body: &str) {
    std::fs::write(path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn ethernet_scripts_run_with_the_tap_and_a_failing_one_stops_the_start() {
    let ns = Netns::new("scr");
    let dir = TestDir::new("scr");
    let log = dir.path.join("script.log");
    let (up, down, bad) = (
        dir.path.join("up.sh"),
        dir.path.join("down.sh"),
        dir.path.join("bad.sh"),
    );
    // The script records the tap and whether it is up (IFF_UP in its
    // flags) when it runs; the downscript that the tap still exists.
    script(
        &up,
        &format!(
            "echo \"up $1 $(cat /sys/class/net/$1/flags)\" >> {}",
            log.display()
        ),
    );
    script(
        &down,
        &format!(
            "test -e /sys/class/net/$1 && echo \"down $1\" >> {}",
            log.display()
        ),
    );
    script(&bad, "echo 'no VLAN for this port' >&2; exit 3");
    let nic = |mac: u8, dev: &str, up: &Path| {
        format!(
            "<interface type='ethernet'><mac address='52:54:00:00:5c:{mac:02x}'/>\
             <script path='{}'/><downscript path='{}'/>{dev}<model type='e1000'/></interface>",
            up.display(),
            down.display()
        )
    };
    let daemon = Daemon::start_under(&ns.exec(), &dir.path, &[]);
    let d = daemon.connect();

    // A script that fails: the start stops with its words, no tap left.
    let dom = d
        .define_xml(&acpi_firmware(
            "fw-badscr",
            &nic(1, "<target dev='qvsc9'/>", &bad),
        ))
        .unwrap();
    let e = d.start(&dom).unwrap_err();
    assert!(
        e.message.contains("bad.sh qvsc9 failed") && e.message.contains("no VLAN for this port"),
        "{e}"
    );
    assert_eq!(ns.links(), ["br0", "lo"], "no tap is left");
    d.undefine(&dom).unwrap();
    // A tap whose script failed was never set up: no downscript for it.
    assert!(!log.exists());

    let dom = d
        .define_xml(&acpi_firmware(
            "fw-scr",
            &nic(2, "<target dev='qvsc0'/>", &up),
        ))
        .unwrap();
    d.start(&dom).unwrap();
    let ran = std::fs::read_to_string(&log).unwrap();
    let (tap, flags) = ran
        .strip_prefix("up ")
        .and_then(|r| r.trim().split_once(' '))
        .unwrap_or_else(|| panic!("the script did not run: {ran:?}"));
    assert_eq!(tap, "qvsc0");
    let flags = u32::from_str_radix(flags.trim_start_matches("0x"), 16).unwrap();
    assert_eq!(flags & 1, 1, "the tap was up when the script ran: {ran}");
    let messages = d.messages(&dom).unwrap();
    assert!(
        messages
            .iter()
            .any(|m| m == "tainted: network configuration using opaque shell scripts"),
        "{messages:?}"
    );
    // Plugged in live: its script runs with its tap too.
    d.attach_device(&dom, &nic(3, "", &up), ModifyFlags::LIVE)
        .unwrap();
    let plugged = taps(&*d, "fw-scr").pop().unwrap();
    let ran = std::fs::read_to_string(&log).unwrap();
    assert!(ran.contains(&format!("up {plugged} ")), "{ran}");
    // Stopped: each tap's downscript, while the tap is still there.
    d.destroy(&dom).unwrap();
    let ran = std::fs::read_to_string(&log).unwrap();
    assert!(ran.contains("down qvsc0\n"), "{ran}");
    assert!(ran.contains(&format!("down {plugged}\n")), "{ran}");
    assert_eq!(ns.links(), ["br0", "lo"]);
}
