//! `<graphics type='dbus'>`, QEMU's D-Bus display: without an address,
//! on a private bus the start runs (a `dbus-daemon` in the run
//! directory, named in the live XML, gone with the domain); on the bus
//! an `address` names; peer to peer (`p2p='yes'`); with `<audio
//! type='dbus'>` heard through it. A real D-Bus client (GLib's `gdbus`)
//! reads the domain's name from QEMU's `org.qemu.Display1.VM` on the
//! bus; QEMU's `query-display-options` shows what it was given.

use std::process::Command;

use serde_json::json;

use crate::support::{State, firmware_vm, poll};

/// The `Name` QEMU's D-Bus display gives on the bus at `address`.
fn vm_name(address: &str) -> String {
    let out = Command::new("gdbus")
        .args(["call", "--address", address, "--dest", "org.qemu"])
        .args(["--object-path", "/org/qemu/Display1/VM", "--method"])
        .args([
            "org.freedesktop.DBus.Properties.Get",
            "org.qemu.Display1.VM",
            "Name",
        ])
        .output()
        .expect("gdbus runs (Debian package libglib2.0-bin)");
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout).trim(),
        String::from_utf8_lossy(&out.stderr).trim()
    )
}

/// The processes whose command line holds `needle`.
fn running(needle: &str) -> usize {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter(|p| {
            std::fs::read(p.path().join("cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).contains(needle))
        })
        .count()
}

#[test]
fn a_dbus_display_on_its_own_bus_one_given_and_peer_to_peer() {
    let st = State::new("dbusdisp");
    // Its own bus: a dbus-daemon in the run directory.
    st.start(&firmware_vm(
        "db",
        "",
        "<graphics type='dbus'><audio id='1'/></graphics><audio id='1' type='dbus'/>",
    ));
    let run = st.run_dir("db");
    let socket = run.join("dbus.sock");
    let address = format!("unix:path={}", socket.display());
    let live = st.live_xml("db");
    assert!(
        live.contains(&format!("<graphics type='dbus' address='{address}'>")),
        "{live}"
    );
    assert_eq!(vm_name(&address), "(<'db'>,)");
    let mut qmp = st.qmp("db");
    let opts = qmp.exec("query-display-options", json!({}));
    assert_eq!(opts["type"], "dbus", "{opts}");
    assert_eq!(opts["audiodev"], "audio1", "{opts}");
    drop(qmp);
    let conf = run.join("dbus.conf");
    assert_eq!(running(&conf.to_string_lossy()), 1, "one dbus-daemon");
    // A kept definition does not name the run's bus.
    let d = st.driver();
    let dom = d.lookup_by_name("db").unwrap();
    let migratable = d
        .xml_desc(&dom, qvirt::driver::XmlFlags::MIGRATABLE)
        .unwrap();
    assert!(!migratable.contains("address="), "{migratable}");
    drop(d);
    st.stop("db");
    poll("the bus to end", std::time::Duration::from_secs(10), || {
        (running(&conf.to_string_lossy()) == 0).then_some(())
    });

    // A bus the definition names: the test's own dbus-daemon.
    let bus_dir = st.root().join("bus");
    std::fs::create_dir_all(&bus_dir).unwrap();
    let bus_socket = bus_dir.join("bus.sock");
    std::fs::write(
        bus_dir.join("bus.conf"),
        format!(
            "<busconfig><type>test</type><listen>unix:path={}</listen><auth>EXTERNAL</auth>\
             <policy context='default'><allow send_destination='*' eavesdrop='true'/>\
             <allow eavesdrop='true'/><allow own='*'/></policy></busconfig>",
            bus_socket.display()
        ),
    )
    .unwrap();
    let mut bus = Command::new("dbus-daemon")
        .arg(format!(
            "--config-file={}",
            bus_dir.join("bus.conf").display()
        ))
        .args(["--nofork", "--nopidfile"])
        .spawn()
        .expect("dbus-daemon runs (Debian package dbus-daemon)");
    poll("the test's bus", std::time::Duration::from_secs(10), || {
        bus_socket.exists().then_some(())
    });
    let given = format!("unix:path={}", bus_socket.display());
    st.start(&firmware_vm(
        "dg",
        "",
        &format!("<graphics type='dbus' address='{given}'/>"),
    ));
    assert_eq!(vm_name(&given), "(<'dg'>,)");
    assert!(!st.run_dir("dg").join("dbus.sock").exists());
    st.stop("dg");
    let _ = bus.kill();
    let _ = bus.wait();

    // Peer to peer: no bus at all.
    st.start(&firmware_vm("dp", "", "<graphics type='dbus' p2p='yes'/>"));
    let mut qmp = st.qmp("dp");
    let opts = qmp.exec("query-display-options", json!({}));
    assert_eq!(opts["type"], "dbus", "{opts}");
    assert_eq!(opts["p2p"], true, "{opts}");
    drop(qmp);
    assert!(!st.run_dir("dp").join("dbus.sock").exists());
    st.stop("dp");
}
