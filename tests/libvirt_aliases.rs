//! Device aliases against a `qvirtd --root DIR`, with unmodified virsh
//! 9.0 and python3-libvirt 9.0 (Debian's), on the running Linux test
//! guest: a user alias (`ua-...`) of a disk, an interface and a USB
//! controller is the QEMU id of the device (QEMU's `query-pci` lists
//! it), and a device plugged in may not take one the domain has; the
//! running domain's XML shows every disk, interface, USB controller and
//! serial port's alias, the definition only the user's;
//! `detach-device-alias` (virsh) unplugs a hot-plugged disk by the alias
//! the live XML gave it, and the guest and QEMU lose it;
//! `detachDeviceAlias` (python) unplugs the interface by its user alias;
//! an alias no device has is libvirt's error; rngs, USB redirection and
//! shared memory devices leave by the aliases the live XML gives them.

#[allow(dead_code, unused_imports)]
#[path = "daemon/support.rs"]
mod support;

#[path = "libvirt/lv.rs"]
mod lv;

#[path = "libvirt/guest_shell.rs"]
mod guest_shell;

#[allow(dead_code)]
#[path = "libvirt/probe.rs"]
mod probe;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use guest_shell::Guest;
use lv::*;
use support::*;

const BOOT: Duration = Duration::from_secs(180);
const QUICK: Duration = Duration::from_secs(30);

/// The `qdev_id` of every device on the guest's PCI bus 0, from QEMU's
/// `query-pci` through virsh's `qemu-monitor-command`.
fn pci_ids(s: &Path, dom: &str) -> Vec<String> {
    probe::pci_devices(s, dom)
        .iter()
        .filter_map(|d| d["qdev_id"].as_str().map(str::to_string))
        .collect()
}

/// The `<alias name>`s of a domain's XML, in document order.
fn aliases(xml: &str) -> Vec<String> {
    xml.split("<alias name='")
        .skip(1)
        .map(|rest| rest.split('\'').next().unwrap_or_default().to_string())
        .collect()
}

/// Polls `check` until it is true, or fails naming `what`.
fn wait_for(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + QUICK;
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A raw image of 8 MiB at `path`.
fn image(path: &Path) {
    let out = Command::new("qemu-img")
        .args(["create", "-q", "-f", "raw"])
        .arg(path)
        .arg("8M")
        .output()
        .expect("run qemu-img (Debian package qemu-utils)");
    assert!(out.status.success(), "{out:?}");
}

#[test]
fn user_aliases_are_qemu_ids_and_detach_device_alias_unplugs_by_alias() {
    let dir = TestDir::new("lvalias");
    let daemon = Daemon::start(&dir.path, &[]);
    let qvirt = daemon.connect();
    let s = &lv_socket(&dir.path);
    let (a, b) = (dir.path.join("a.raw"), dir.path.join("b.raw"));
    image(&a);
    image(&b);
    let devices = format!(
        "<disk type='file' device='disk'><driver name='qemu' type='raw'/>\
         <source file='{}'/><target dev='vda' bus='virtio'/><alias name='ua-data'/></disk>\
         <interface type='user'><mac address='52:54:00:a1:1a:01'/><model type='virtio'/>\
         <alias name='ua-uplink'/></interface>\
         <controller type='usb' index='0' model='piix3-uhci'><alias name='ua-usb'/></controller>\
         <controller type='usb' index='1' model='piix3-uhci'/>",
        a.display()
    );
    let xml = linux_vm("al")
        .replace("<devices>", &format!("<devices>{devices}"))
        // A manager's alias in a definition is dropped, as libvirt drops it.
        .replace(
            "<target port='0'/></serial>",
            "<target port='0'/><alias name='serial7'/></serial>",
        );
    let file = write_file(&dir.path, "al.xml", &xml);
    virsh_ok(s, &["define", file.to_str().unwrap()]);
    let inactive = virsh_ok(s, &["dumpxml", "al", "--inactive"]);
    assert_eq!(
        aliases(&inactive),
        ["ua-data", "ua-usb", "ua-uplink"],
        "{inactive}"
    );
    virsh_ok(s, &["start", "al"]);
    let dom = qvirt.lookup_by_name("al").unwrap();
    let mut guest = Guest::open(qvirt.as_ref(), &dom);

    // The user aliases are QEMU's ids of the devices.
    let ids = pci_ids(s, "al");
    for id in ["ua-data", "ua-uplink", "ua-usb", "usb1"] {
        assert!(ids.iter().any(|i| i == id), "QEMU has {id}: {ids:?}");
    }
    // The running domain shows every alias (the console is serial0),
    // the definition only the user's.
    let live = virsh_ok(s, &["dumpxml", "al"]);
    assert_eq!(
        aliases(&live),
        [
            "ua-data",
            "ua-usb",
            "usb1",
            "ua-uplink",
            "serial0",
            "serial0"
        ],
        "{live}"
    );
    let inactive = virsh_ok(s, &["dumpxml", "al", "--inactive"]);
    assert_eq!(
        aliases(&inactive),
        ["ua-data", "ua-usb", "ua-uplink"],
        "{inactive}"
    );

    // A device plugged in may not take an alias the domain has.
    let dup = write_file(
        &dir.path,
        "dup.xml",
        &format!(
            "<disk type='file' device='disk'><source file='{}'/>\
             <target dev='vdc' bus='virtio'/><alias name='ua-data'/></disk>",
            b.display()
        ),
    );
    let err = virsh_err(s, &["attach-device", "al", dup.to_str().unwrap()]);
    assert!(err.contains("non unique alias detected: ua-data"), "{err}");

    // A disk plugged in gets its alias from its target; detached by it,
    // the guest and QEMU lose it.
    let out = virsh_ok(
        s,
        &[
            "attach-disk",
            "al",
            b.to_str().unwrap(),
            "vdb",
            "--targetbus",
            "virtio",
        ],
    );
    assert!(out.contains("Disk attached successfully"), "{out}");
    wait_for("the guest to see its second disk", || {
        guest.run("ls /sys/block | grep -c vd").trim() == "2"
    });
    let live = virsh_ok(s, &["dumpxml", "al"]);
    assert!(
        aliases(&live).contains(&"virtio-disk1".to_string()),
        "{live}"
    );
    assert!(pci_ids(s, "al").contains(&"virtio-disk1".to_string()));
    let out = virsh_ok(s, &["detach-device-alias", "al", "virtio-disk1", "--live"]);
    assert!(
        out.contains("Device detach request sent successfully"),
        "{out}"
    );
    assert!(!pci_ids(s, "al").contains(&"virtio-disk1".to_string()));
    wait_for("the guest to lose its second disk", || {
        guest.run("ls /sys/block | grep -c vd").trim() == "1"
    });
    let live = virsh_ok(s, &["dumpxml", "al"]);
    assert!(!live.contains("vdb"), "{live}");

    // An alias no device has: libvirt's error, nothing changes.
    let err = virsh_err(s, &["detach-device-alias", "al", "ua-nothing"]);
    assert!(
        err.contains("internal error: no device found with alias ua-nothing"),
        "{err}"
    );
    assert!(pci_ids(s, "al").contains(&"ua-data".to_string()));
    // A device qvirt does not unplug is refused by name.
    let err = virsh_err(s, &["detach-device-alias", "al", "usb1"]);
    assert!(
        err.contains(
            "device 'usb1' is a controller: of controllers, serial ports and consoles only SCSI controllers"
        ),
        "{err}"
    );

    // python3-libvirt: the interface goes by its user alias, from the
    // running domain only.
    let out = python_ok(
        "import libvirt, sys\n\
         c = libvirt.open(sys.argv[1])\n\
         d = c.lookupByName('al')\n\
         d.detachDeviceAlias('ua-uplink', libvirt.VIR_DOMAIN_AFFECT_LIVE)\n\
         print('detached')\n",
        &[uri(s).as_ref()],
    );
    assert_eq!(out.trim(), "detached");
    assert!(!pci_ids(s, "al").contains(&"ua-uplink".to_string()));
    wait_for("the guest to lose its NIC", || {
        guest.run("ls /sys/class/net | grep -c eth").trim() == "0"
    });
    let inactive = virsh_ok(s, &["dumpxml", "al", "--inactive"]);
    assert!(inactive.contains("ua-uplink"), "{inactive}");
    virsh_ok(s, &["destroy", "al"]);
}

/// The running domain's XML names its rngs, USB redirection devices and
/// shared memory devices by their QEMU ids (`rng0`, `redir0`,
/// `shmem0`), and `detach-device-alias` unplugs each by that name:
/// QEMU loses the device, the live XML the element.
#[test]
fn rngs_redirection_and_shared_memory_leave_by_their_live_alias() {
    let dir = TestDir::new("lvalias2");
    let daemon = Daemon::start(&dir.path, &[]);
    let s = &lv_socket(&dir.path);
    let devices = format!(
        "<rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>\
         <redirdev bus='usb' type='unix'><source mode='bind' path='{}'/></redirdev>\
         <shmem name='qvt-alias-{}'><model type='ivshmem-plain'/><size unit='M'>1</size></shmem>",
        dir.path.join("redir.sock").display(),
        std::process::id()
    );
    let xml = linux_vm("al2").replace("<devices>", &format!("<devices>{devices}"));
    let file = write_file(&dir.path, "al2.xml", &xml);
    virsh_ok(s, &["define", file.to_str().unwrap()]);
    virsh_ok(s, &["start", "al2"]);
    let live = virsh_ok(s, &["dumpxml", "al2"]);
    for alias in ["rng0", "redir0", "shmem0"] {
        assert!(aliases(&live).iter().any(|a| a == alias), "{alias}: {live}");
    }
    // None of them in the definition.
    let inactive = virsh_ok(s, &["dumpxml", "al2", "--inactive"]);
    assert!(aliases(&inactive).is_empty(), "{inactive}");
    // The guest, booted, consents to the PCI unplugs.
    let qvirt = daemon.connect();
    let dom = qvirt.lookup_by_name("al2").unwrap();
    let guest = Guest::open(qvirt.as_ref(), &dom);
    for (alias, qom, element) in [
        ("redir0", "usb-redir", "<redirdev"),
        ("rng0", "virtio-rng-pci", "<rng"),
        ("shmem0", "ivshmem-plain", "<shmem"),
    ] {
        assert_eq!(probe::qemu_devices_of(s, "al2", qom), [alias]);
        virsh_ok(s, &["detach-device-alias", "al2", alias, "--live"]);
        wait_for(&format!("QEMU to let {alias} go"), || {
            probe::qemu_devices_of(s, "al2", qom).is_empty()
        });
        let live = virsh_ok(s, &["dumpxml", "al2"]);
        assert!(!live.contains(element), "{live}");
    }
    drop(guest);
    virsh_ok(s, &["destroy", "al2"]);
}
