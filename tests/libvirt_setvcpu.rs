//! virsh's `setvcpu` and python3-libvirt's `setVcpu` (unmodified, 9.0)
//! against a `qvirtd --root DIR`: one vCPU by id comes online in the
//! running Linux guest (it sees the CPU appear in its own slot and runs
//! on it) and goes away again (the guest lets it go), the live XML lists
//! the vCPUs one by one, the definition's `<vcpus>` entries change with
//! `--config` and the next start plugs exactly those in; libvirt's
//! refusals (vCPU 0, a vCPU already so, more than
//! one at a time live, a vCPU that came with the machine) and the
//! read-only socket's.

#[allow(dead_code, unused_imports)]
#[path = "daemon/support.rs"]
mod support;

#[path = "libvirt/lv.rs"]
mod lv;

#[path = "libvirt/guest_shell.rs"]
mod guest_shell;

use std::time::Duration;

use guest_shell::Guest;
use lv::*;
use support::*;

const BOOT: Duration = Duration::from_secs(180);
const QUICK: Duration = Duration::from_secs(30);

/// The Linux guest with two of four vCPUs online at start.
fn four_vcpus(name: &str) -> String {
    linux_vm(name).replacen("<vcpu>1</vcpu>", "<vcpu current='2'>4</vcpu>", 1)
}

/// The `<vcpu id= enabled= hotpluggable=>` entries of `xml`, as
/// (id, enabled, hotpluggable).
fn vcpus(xml: &str) -> Vec<(u32, bool, bool)> {
    let doc = roxmltree::Document::parse(xml).unwrap();
    doc.descendants()
        .filter(|n| n.has_tag_name("vcpu") && n.parent().is_some_and(|p| p.has_tag_name("vcpus")))
        .map(|n| {
            (
                n.attribute("id").unwrap().parse().unwrap(),
                n.attribute("enabled") == Some("yes"),
                n.attribute("hotpluggable") == Some("yes"),
            )
        })
        .collect()
}

/// The APIC ids of the guest's online CPUs, which are QEMU's vCPU ids.
fn apic_ids(g: &mut Guest) -> Vec<u32> {
    g.run("grep ^apicid /proc/cpuinfo")
        .lines()
        .filter_map(|l| l.split(':').nth(1)?.trim().parse().ok())
        .collect()
}

#[test]
fn one_vcpu_comes_and_goes_by_its_id() {
    let dir = TestDir::new("lvsetvcpu");
    let daemon = Daemon::start(&dir.path, &["--read-only-socket"]);
    let s = &lv_socket(&dir.path);
    virsh_define(s, &dir.path, "sv.xml", &four_vcpus("sv"));
    virsh_ok(s, &["start", "sv"]);
    let qvirt = daemon.connect();
    let dom = qvirt.lookup_by_name("sv").unwrap();
    let mut g = Guest::open(&*qvirt, &dom);
    assert_eq!(g.run("cat /sys/devices/system/cpu/present"), "0-1");

    // vCPU 3, not 2: it comes into its own slot, APIC id 3 (Linux
    // numbers its CPUs as they come: it is the guest's cpu2).
    virsh_ok(s, &["setvcpu", "sv", "3", "--enable", "--live"]);
    wait_for("the guest to see a third CPU", QUICK, || {
        (g.run("cat /sys/devices/system/cpu/present") == "0-2").then_some(())
    });
    g.run("echo 1 > /sys/devices/system/cpu/cpu2/online");
    assert_eq!(apic_ids(&mut g), [0, 1, 3]);
    let live = virsh_ok(s, &["dumpxml", "sv"]);
    assert_eq!(
        vcpus(&live),
        [
            (0, true, false),
            (1, true, false),
            (2, false, true),
            (3, true, true)
        ],
        "{live}"
    );
    assert_eq!(qvirt.info(&dom).unwrap().vcpus, 3);
    assert!(
        virsh_ok(s, &["dumpxml", "sv", "--inactive"])
            .contains("<vcpu placement='static' current='2'>4</vcpu>")
    );

    // libvirt's refusals.
    for (args, says) in [
        (
            &["setvcpu", "sv", "0", "--disable", "--live"][..],
            "vCPU '0' can't be modified",
        ),
        (
            &["setvcpu", "sv", "3", "--enable", "--live"],
            "already in requested state",
        ),
        (
            &["setvcpu", "sv", "1", "--disable", "--live"],
            "can't be hotunplugged",
        ),
        (
            &["setvcpu", "sv", "2-3", "--disable", "--live"],
            "only one hotpluggable entity",
        ),
        (&["setvcpu", "sv", "9", "--enable", "--live"], "not present"),
    ] {
        let err = virsh_err(s, args);
        assert!(err.contains(says), "{args:?}: {err}");
    }
    let err = virsh_err(
        &lv_socket_ro(&dir.path),
        &["setvcpu", "sv", "2", "--enable"],
    );
    assert!(err.contains("read only access prevents"), "{err}");

    // Away again: the guest lets it go.
    virsh_ok(s, &["setvcpu", "sv", "3", "--disable", "--live"]);
    assert_eq!(g.run("cat /sys/devices/system/cpu/present"), "0-1");
    assert_eq!(qvirt.info(&dom).unwrap().vcpus, 2);

    // --config: the definition's entries, through python3-libvirt.
    let u = uri(s);
    python_ok(
        "import libvirt, sys\n\
         c = libvirt.open(sys.argv[1])\n\
         c.lookupByName('sv').setVcpu('3', 1, libvirt.VIR_DOMAIN_AFFECT_CONFIG)\n",
        &[u.as_ref()],
    );
    let inactive = virsh_ok(s, &["dumpxml", "sv", "--inactive"]);
    assert_eq!(
        vcpus(&inactive),
        [
            (0, true, false),
            (1, true, false),
            (2, false, true),
            (3, true, true)
        ],
        "{inactive}"
    );
    // vCPU 1 came with the machine; in the definition it may become
    // hotpluggable and disabled, as nothing after it is fixed.
    virsh_ok(s, &["setvcpu", "sv", "1", "--disable", "--config"]);
    let inactive = virsh_ok(s, &["dumpxml", "sv", "--inactive"]);
    assert_eq!(
        vcpus(&inactive),
        [
            (0, true, false),
            (1, false, true),
            (2, false, true),
            (3, true, true)
        ],
        "{inactive}"
    );
    drop(g);
    virsh_ok(s, &["destroy", "sv"]);
    // At the next start QEMU has vCPUs 0 and 3 in their slots (vCPU 3
    // plugged before the guest runs).
    virsh_ok(s, &["start", "sv"]);
    let slots = virsh_ok(
        s,
        &[
            "qemu-monitor-command",
            "sv",
            r#"{"execute":"query-hotpluggable-cpus"}"#,
        ],
    );
    let slots: serde_json::Value = serde_json::from_str(&slots).unwrap();
    let mut filled: Vec<u64> = slots["return"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s.get("qom-path").is_some())
        // One socket of four cores: the core is the vCPU.
        .map(|s| s["props"]["core-id"].as_u64().unwrap())
        .collect();
    filled.sort();
    assert_eq!(filled, [0, 3], "{slots}");
    virsh_ok(s, &["destroy", "sv"]);
}
