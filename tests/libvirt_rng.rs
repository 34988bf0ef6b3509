//! Live hot-plug of `<rng>` devices with unmodified virsh 9.0 against a
//! `qvirtd --root DIR`, looked at in QEMU (`query-pci`, `qom-list`) and
//! in the running Linux guest (its kernel's hw_random devices, bytes
//! read from `/dev/hwrng`): `attach-device --live` of the `random` and
//! `builtin` backends, `detach-device --live`, a second attach after an
//! unplug in the middle of the list (no id clash), a detach after qvirtd
//! was restarted (the right QEMU device goes), `--persistent`,
//! refusals that change nothing, a guest that keeps the device (the
//! detach times out; QEMU's `DEVICE_DELETED` finishes it later), and an
//! egd backend whose socket is plugged in and out with it.

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

use std::io::{Read, Write};
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use guest_shell::Guest;
use lv::*;
use probe::pci_slot;
use support::*;

const BOOT: Duration = Duration::from_secs(180);
const QUICK: Duration = Duration::from_secs(30);

const RANDOM: &str = "<rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>";
const BUILTIN: &str = "<rng model='virtio'><backend model='builtin'/></rng>";

/// What QOM path `path` of domain `dom` holds: (name, type) of each
/// child (`child<virtio-rng-pci>` is `virtio-rng-pci`).
fn qom_children(s: &Path, dom: &str, path: &str) -> Vec<(String, String)> {
    let cmd = format!(r#"{{"execute":"qom-list","arguments":{{"path":"{path}"}}}}"#);
    let out = virsh_ok(s, &["qemu-monitor-command", dom, &cmd]);
    let v: serde_json::Value = serde_json::from_str(out.trim()).expect("qom-list's JSON");
    v["return"]
        .as_array()
        .expect("properties")
        .iter()
        .filter_map(|p| {
            let t = p["type"].as_str()?.strip_prefix("child<")?;
            Some((
                p["name"].as_str()?.to_string(),
                t.trim_end_matches('>').to_string(),
            ))
        })
        .collect()
}

/// QEMU's rng devices and backends, as `id:type` sorted: `rng0:virtio-rng-pci`,
/// `objrng0:rng-random`.
fn qemu_rngs(s: &Path, dom: &str) -> Vec<String> {
    let mut out: Vec<String> = ["/machine/peripheral", "/objects"]
        .iter()
        .flat_map(|path| qom_children(s, dom, path))
        .filter(|(_, t)| t.starts_with("virtio-rng") || t.starts_with("rng-"))
        .map(|(n, t)| format!("{n}:{t}"))
        .collect();
    out.sort();
    out
}

/// QEMU's PCI slots of the devices `ids` of `dom`, in that order.
fn qemu_slots(s: &Path, dom: &str, ids: &[&str]) -> Vec<u64> {
    ids.iter()
        .map(|id| pci_slot(s, dom, id).unwrap_or_else(|| panic!("QEMU has no {id}")))
        .collect()
}

/// The slots of the `<rng>`s of a domain's XML, in document order.
fn xml_rng_slots(xml: &str) -> Vec<u64> {
    let doc = roxmltree::Document::parse(xml).unwrap();
    doc.descendants()
        .filter(|n| n.has_tag_name("rng"))
        .map(|r| {
            let a = r
                .children()
                .find(|c| c.has_tag_name("address"))
                .expect("the rng's <address>");
            assert_eq!(a.attribute("type"), Some("pci"));
            let slot = a.attribute("slot").expect("slot");
            u64::from_str_radix(slot.trim_start_matches("0x"), 16).unwrap()
        })
        .collect()
}

/// The number of virtio RNGs the guest's kernel has, once it is `want`
/// (the guest takes a moment to see a device come or go), or after a
/// while; their names.
fn guest_rngs(g: &mut Guest, want: usize) -> Vec<String> {
    let f = "/sys/class/misc/hw_random/rng_available";
    let out = g.run(&format!(
        "for t in $(seq 150); do [ $(tr ' ' '\\n' < {f} | grep -c virtio_rng) = {want} ] && break; sleep 0.2; done; cat {f}"
    ));
    out.split_whitespace()
        .filter(|n| n.starts_with("virtio_rng."))
        .map(str::to_string)
        .collect()
}

/// How many bytes the guest reads from `/dev/hwrng` when asking for 16.
fn hwrng_bytes(g: &mut Guest) -> String {
    g.run("dd if=/dev/hwrng bs=16 count=1 2>/dev/null | wc -c")
}

#[test]
fn rngs_plug_into_and_out_of_the_running_guest() {
    let dir = TestDir::new("lvrng");
    let daemon = Daemon::start(&dir.path, &[]);
    let s = &lv_socket(&dir.path);
    virsh_define(s, &dir.path, "rg.xml", &linux_vm("rg"));
    virsh_ok(s, &["start", "rg"]);
    let random = write_file(&dir.path, "random.xml", RANDOM);
    let builtin = write_file(&dir.path, "builtin.xml", BUILTIN);
    let (random, builtin) = (random.to_str().unwrap(), builtin.to_str().unwrap());
    let inactive = virsh_ok(s, &["dumpxml", "rg", "--inactive"]);
    {
        let qvirt = daemon.connect();
        let dom = qvirt.lookup_by_name("rg").unwrap();
        let mut g = Guest::open(&*qvirt, &dom);
        assert_eq!(guest_rngs(&mut g, 0), Vec::<String>::new());
        assert_eq!(hwrng_bytes(&mut g), "0", "no RNG before the attach");

        // The random backend: QEMU has the device and its backend, on
        // the slot the live XML shows; the guest reads from it.
        assert_eq!(
            virsh_ok(s, &["attach-device", "rg", random, "--live"]),
            "Device attached successfully\n\n"
        );
        assert_eq!(
            qemu_rngs(s, "rg"),
            ["objrng0:rng-random", "rng0:virtio-rng-pci"]
        );
        let live = virsh_ok(s, &["dumpxml", "rg"]);
        assert!(
            live.contains("<backend model='random'>/dev/urandom</backend>"),
            "{live}"
        );
        assert_eq!(xml_rng_slots(&live), qemu_slots(s, "rg", &["rng0"]));
        assert_eq!(guest_rngs(&mut g, 1), ["virtio_rng.0"]);
        assert_eq!(hwrng_bytes(&mut g), "16");
        // Live only: the definition has no rng.
        assert_eq!(virsh_ok(s, &["dumpxml", "rg", "--inactive"]), inactive);

        // The builtin backend beside it, on another slot.
        virsh_ok(s, &["attach-device", "rg", builtin, "--live"]);
        assert_eq!(
            qemu_rngs(s, "rg"),
            [
                "objrng0:rng-random",
                "objrng1:rng-builtin",
                "rng0:virtio-rng-pci",
                "rng1:virtio-rng-pci"
            ]
        );
        let live = virsh_ok(s, &["dumpxml", "rg"]);
        assert_eq!(xml_rng_slots(&live), qemu_slots(s, "rg", &["rng0", "rng1"]));
        assert_eq!(guest_rngs(&mut g, 2).len(), 2);

        // The first one out (the guest lets go), the builtin stays.
        assert_eq!(
            virsh_ok(s, &["detach-device", "rg", random, "--live"]),
            "Device detached successfully\n\n"
        );
        assert_eq!(
            qemu_rngs(s, "rg"),
            ["objrng1:rng-builtin", "rng1:virtio-rng-pci"]
        );
        let live = virsh_ok(s, &["dumpxml", "rg"]);
        assert!(!live.contains("model='random'"), "{live}");
        assert!(live.contains("<backend model='builtin'/>"), "{live}");
        assert_eq!(guest_rngs(&mut g, 1).len(), 1);
        assert_eq!(hwrng_bytes(&mut g), "16");

        // In again: it takes a number QEMU has free, after the builtin
        // in the list.
        virsh_ok(s, &["attach-device", "rg", random, "--live"]);
        assert_eq!(
            qemu_rngs(s, "rg"),
            [
                "objrng0:rng-random",
                "objrng1:rng-builtin",
                "rng0:virtio-rng-pci",
                "rng1:virtio-rng-pci"
            ]
        );
        let live = virsh_ok(s, &["dumpxml", "rg"]);
        assert_eq!(xml_rng_slots(&live), qemu_slots(s, "rg", &["rng1", "rng0"]));
        assert_eq!(guest_rngs(&mut g, 2).len(), 2);
    }

    // A restarted qvirtd (the first one killed) finds each rng's QEMU
    // device: the builtin, first in the list, is rng1.
    drop(daemon);
    let daemon = Daemon::start(&dir.path, &[]);
    assert!(virsh_ok(s, &["domstate", "rg"]).contains("running"));
    virsh_ok(s, &["detach-device", "rg", builtin, "--live"]);
    assert_eq!(
        qemu_rngs(s, "rg"),
        ["objrng0:rng-random", "rng0:virtio-rng-pci"]
    );
    let qvirt = daemon.connect();
    let dom = qvirt.lookup_by_name("rg").unwrap();
    let mut g = Guest::open(&*qvirt, &dom);
    assert_eq!(guest_rngs(&mut g, 1).len(), 1);
    assert_eq!(hwrng_bytes(&mut g), "16");

    // Refusals change nothing, in QEMU or in either definition: an egd
    // backend whose daemon is not there (QEMU cannot connect), a detach
    // of an rng the domain does not have, and of one the definition does
    // not have (--persistent).
    let live = virsh_ok(s, &["dumpxml", "rg"]);
    let egd = write_file(
        &dir.path,
        "egd.xml",
        "<rng model='virtio'><backend model='egd' type='unix'><source mode='connect' path='/nonexistent.sock'/></backend></rng>",
    );
    let e = virsh_err(s, &["attach-device", "rg", egd.to_str().unwrap(), "--live"]);
    assert!(
        e.contains("cannot attach rng") && e.contains("/nonexistent.sock"),
        "{e}"
    );
    let e = virsh_err(s, &["detach-device", "rg", builtin, "--live"]);
    assert!(
        e.contains("model 'virtio' RNG device not present in domain configuration"),
        "{e}"
    );
    let e = virsh_err(s, &["detach-device", "rg", random, "--persistent"]);
    assert!(e.contains("no matching RNG device was found"), "{e}");
    assert_eq!(virsh_ok(s, &["dumpxml", "rg"]), live);
    assert_eq!(virsh_ok(s, &["dumpxml", "rg", "--inactive"]), inactive);
    assert_eq!(
        qemu_rngs(s, "rg"),
        ["objrng0:rng-random", "rng0:virtio-rng-pci"]
    );

    // --persistent: the running guest and the definition get it, and
    // both lose it again.
    virsh_ok(s, &["attach-device", "rg", builtin, "--persistent"]);
    assert!(virsh_ok(s, &["dumpxml", "rg", "--inactive"]).contains("<backend model='builtin'/>"));
    assert!(virsh_ok(s, &["dumpxml", "rg"]).contains("<backend model='builtin'/>"));
    assert_eq!(guest_rngs(&mut g, 2).len(), 2);
    assert_eq!(qemu_rngs(s, "rg").len(), 4);
    virsh_ok(s, &["detach-device", "rg", builtin, "--persistent"]);
    assert_eq!(virsh_ok(s, &["dumpxml", "rg", "--inactive"]), inactive);
    assert_eq!(virsh_ok(s, &["dumpxml", "rg"]), live);
    assert_eq!(guest_rngs(&mut g, 1).len(), 1);
    drop(g);
    virsh_ok(s, &["destroy", "rg"]);
}

/// A guest that does not let go of the rng (the firmware alone, which
/// handles no ACPI unplug request): the detach fails with `Timeout` and
/// the rng stays, in QEMU and in the live XML; the reset that makes
/// QEMU eject it (its `DEVICE_DELETED`) finishes the unplug, backend
/// included.
#[test]
fn an_rng_the_guest_keeps_is_unplugged_when_qemu_lets_go() {
    let dir = TestDir::new("lvrngwait");
    let _daemon = Daemon::start(&dir.path, &[]);
    let s = &lv_socket(&dir.path);
    let xml = firmware_vm("rw").replace("</os>", "</os><features><acpi/></features>");
    virsh_define(s, &dir.path, "rw.xml", &xml);
    virsh_ok(s, &["start", "rw"]);
    let builtin = write_file(&dir.path, "builtin.xml", BUILTIN);
    let builtin = builtin.to_str().unwrap();
    virsh_ok(s, &["attach-device", "rw", builtin, "--live"]);
    assert_eq!(
        qemu_rngs(s, "rw"),
        ["objrng0:rng-builtin", "rng0:virtio-rng-pci"]
    );
    let e = virsh_err(s, &["detach-device", "rw", builtin, "--live"]);
    assert!(e.contains("did not release device 'rng0'"), "{e}");
    assert!(virsh_ok(s, &["dumpxml", "rw"]).contains("<backend model='builtin'/>"));
    assert_eq!(qemu_rngs(s, "rw").len(), 2);
    virsh_ok(s, &["reset", "rw"]);
    // The live XML follows QEMU first, the backend goes then.
    wait_for("the unplug to finish", QUICK, || {
        let gone = !virsh_ok(s, &["dumpxml", "rw"]).contains("<rng");
        (gone && qemu_rngs(s, "rw").is_empty()).then_some(())
    });
    // Plugged in again under the same ids.
    virsh_ok(s, &["attach-device", "rw", builtin, "--live"]);
    assert_eq!(
        qemu_rngs(s, "rw"),
        ["objrng0:rng-builtin", "rng0:virtio-rng-pci"]
    );
    virsh_ok(s, &["destroy", "rw"]);

    // Without ACPI a pc machine's bus has no hot-plug: refused by name,
    // nothing changed.
    virsh_define(s, &dir.path, "rn.xml", &firmware_vm("rn"));
    virsh_ok(s, &["start", "rn"]);
    let live = virsh_ok(s, &["dumpxml", "rn"]);
    let e = virsh_err(s, &["attach-device", "rn", builtin, "--live"]);
    assert!(
        e.contains("without ACPI a pc machine's PCI bus has no hot-plug"),
        "{e}"
    );
    assert_eq!(virsh_ok(s, &["dumpxml", "rn"]), live);
    assert_eq!(qemu_rngs(s, "rn"), Vec::<String>::new());
    virsh_ok(s, &["destroy", "rn"]);
}

/// On q35 an rng takes a free `pcie-root-port` (the live XML puts it on
/// that port's bus; no USB controller takes it at the start); with none
/// left the attach is refused by name, nothing changed, as buses are not
/// plugged in.
#[test]
fn on_q35_an_rng_takes_a_free_root_port() {
    let dir = TestDir::new("lvrngq35");
    let _daemon = Daemon::start(&dir.path, &[]);
    let s = &lv_socket(&dir.path);
    let xml = "<domain type='qemu'><name>rq</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>\
               <os><type arch='x86_64' machine='q35'>hvm</type></os><devices>\
               <controller type='pci' model='pcie-root'/>\
               <controller type='pci' model='pcie-root-port'/>\
               <controller type='usb' model='none'/>\
               <memballoon model='none'/></devices></domain>";
    virsh_define(s, &dir.path, "rq.xml", xml);
    virsh_ok(s, &["start", "rq"]);
    let builtin = write_file(&dir.path, "builtin.xml", BUILTIN);
    let builtin = builtin.to_str().unwrap();
    virsh_ok(s, &["attach-device", "rq", builtin, "--live"]);
    assert_eq!(
        qemu_rngs(s, "rq"),
        ["objrng0:rng-builtin", "rng0:virtio-rng-pci"]
    );
    let live = virsh_ok(s, &["dumpxml", "rq"]);
    let doc = roxmltree::Document::parse(&live).unwrap();
    let bus = |n: roxmltree::Node| -> String {
        let a = n.children().find(|c| c.has_tag_name("address")).unwrap();
        a.attribute("bus").unwrap().to_string()
    };
    let rng = doc.descendants().find(|n| n.has_tag_name("rng")).unwrap();
    let port = doc
        .descendants()
        .find(|n| n.attribute("model") == Some("pcie-root-port"))
        .unwrap();
    let index: u32 = port.attribute("index").unwrap().parse().unwrap();
    assert_eq!(bus(rng), format!("0x{index:02x}"), "{live}");
    // QEMU put it behind that port: on the bus of root port `pci.N`.
    let out = virsh_ok(
        s,
        &["qemu-monitor-command", "rq", r#"{"execute":"query-pci"}"#],
    );
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    let port_id = format!("pci.{index}");
    let behind: Vec<&str> = v["return"][0]["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["qdev_id"] == port_id.as_str())
        .and_then(|d| d["pci_bridge"]["devices"].as_array())
        .expect("the root port's bus")
        .iter()
        .filter_map(|d| d["qdev_id"].as_str())
        .collect();
    assert_eq!(behind, ["rng0"], "{out}");
    let e = virsh_err(s, &["attach-device", "rq", builtin, "--live"]);
    assert!(e.contains("no free hot-pluggable port"), "{e}");
    assert_eq!(virsh_ok(s, &["dumpxml", "rq"]), live);
    assert_eq!(qemu_rngs(s, "rq").len(), 2);
    virsh_ok(s, &["destroy", "rq"]);
}

/// An rng the start made unplugs as a plugged one does (its ids are the
/// start's), and its number is free again afterwards.
#[test]
fn an_rng_of_the_start_unplugs_from_the_running_guest() {
    let dir = TestDir::new("lvrngstart");
    let daemon = Daemon::start(&dir.path, &[]);
    let s = &lv_socket(&dir.path);
    let xml = linux_vm("rs").replace("<memballoon", &format!("{RANDOM}<memballoon"));
    virsh_define(s, &dir.path, "rs.xml", &xml);
    virsh_ok(s, &["start", "rs"]);
    let qvirt = daemon.connect();
    let dom = qvirt.lookup_by_name("rs").unwrap();
    let mut g = Guest::open(&*qvirt, &dom);
    assert_eq!(guest_rngs(&mut g, 1), ["virtio_rng.0"]);
    assert_eq!(
        qemu_rngs(s, "rs"),
        ["objrng0:rng-random", "rng0:virtio-rng-pci"]
    );
    let random = write_file(&dir.path, "random.xml", RANDOM);
    virsh_ok(
        s,
        &["detach-device", "rs", random.to_str().unwrap(), "--live"],
    );
    assert_eq!(qemu_rngs(s, "rs"), Vec::<String>::new());
    assert!(!virsh_ok(s, &["dumpxml", "rs"]).contains("<rng"));
    assert_eq!(guest_rngs(&mut g, 0), Vec::<String>::new());
    // The definition keeps it (live only).
    assert!(virsh_ok(s, &["dumpxml", "rs", "--inactive"]).contains("<rng"));
    let builtin = write_file(&dir.path, "builtin.xml", BUILTIN);
    virsh_ok(
        s,
        &["attach-device", "rs", builtin.to_str().unwrap(), "--live"],
    );
    assert_eq!(
        qemu_rngs(s, "rs"),
        ["objrng0:rng-builtin", "rng0:virtio-rng-pci"]
    );
    assert_eq!(guest_rngs(&mut g, 1).len(), 1);
    assert_eq!(hwrng_bytes(&mut g), "16");
    drop(g);
    virsh_ok(s, &["destroy", "rs"]);
}

/// The chardev labels QEMU has (`query-chardev`).
fn qemu_chardevs(s: &Path, dom: &str) -> Vec<String> {
    let out = virsh_ok(
        s,
        &[
            "qemu-monitor-command",
            dom,
            r#"{"execute":"query-chardev"}"#,
        ],
    );
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    v["return"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["label"].as_str().map(str::to_string))
        .collect()
}

/// An Entropy Gathering Daemon on `socket` for one client: each request
/// (`0x02 LEN`, a blocking read) is answered with LEN bytes. Counts the
/// requests served; `closed` once the client hung up.
fn egd_daemon(
    socket: &Path,
    served: Arc<AtomicUsize>,
    closed: Arc<AtomicBool>,
) -> std::thread::JoinHandle<()> {
    let listener = UnixListener::bind(socket).expect("bind the egd socket");
    std::thread::spawn(move || {
        let (mut c, _) = listener.accept().expect("QEMU connects");
        let mut request = [0u8; 2];
        while c.read_exact(&mut request).is_ok() {
            assert_eq!(request[0], 2, "a blocking read");
            if c.write_all(&vec![0x5a; request[1] as usize]).is_err() {
                break;
            }
            served.fetch_add(1, Ordering::SeqCst);
        }
        closed.store(true, Ordering::SeqCst);
    })
}

/// An egd backend: its socket (`chardev-add`) connects to the daemon,
/// whose bytes the guest reads from `/dev/hwrng`; the detach removes
/// the device, the backend and the socket (the daemon sees QEMU hang
/// up).
#[test]
fn an_egd_rng_plugs_in_with_its_socket() {
    let dir = TestDir::new("lvrngegd");
    let daemon = Daemon::start(&dir.path, &[]);
    let s = &lv_socket(&dir.path);
    virsh_define(s, &dir.path, "re.xml", &linux_vm("re"));
    virsh_ok(s, &["start", "re"]);
    let socket = dir.path.join("egd.sock");
    let served = Arc::new(AtomicUsize::new(0));
    let closed = Arc::new(AtomicBool::new(false));
    let server = egd_daemon(&socket, served.clone(), closed.clone());
    let egd = write_file(
        &dir.path,
        "egd.xml",
        &format!(
            "<rng model='virtio'><backend model='egd' type='unix'><source mode='connect' path='{}'/></backend></rng>",
            socket.display()
        ),
    );
    let egd = egd.to_str().unwrap();
    let qvirt = daemon.connect();
    let dom = qvirt.lookup_by_name("re").unwrap();
    let mut g = Guest::open(&*qvirt, &dom);
    virsh_ok(s, &["attach-device", "re", egd, "--live"]);
    assert_eq!(
        qemu_rngs(s, "re"),
        ["objrng0:rng-egd", "rng0:virtio-rng-pci"]
    );
    assert!(qemu_chardevs(s, "re").contains(&"charrng0".to_string()));
    assert!(virsh_ok(s, &["dumpxml", "re"]).contains("<backend model='egd' type='unix'>"));
    assert_eq!(guest_rngs(&mut g, 1), ["virtio_rng.0"]);
    assert_eq!(
        g.run("dd if=/dev/hwrng bs=16 count=1 2>/dev/null | od -An -tx1 | tr -d ' \\n'"),
        "5a".repeat(16),
        "the guest reads the daemon's bytes"
    );
    assert!(served.load(Ordering::SeqCst) > 0);
    virsh_ok(s, &["detach-device", "re", egd, "--live"]);
    assert_eq!(qemu_rngs(s, "re"), Vec::<String>::new());
    assert!(!qemu_chardevs(s, "re").contains(&"charrng0".to_string()));
    wait_for("QEMU to hang up on the daemon", QUICK, || {
        closed.load(Ordering::SeqCst).then_some(())
    });
    server.join().unwrap();
    assert_eq!(guest_rngs(&mut g, 0), Vec::<String>::new());
    drop(g);
    virsh_ok(s, &["destroy", "re"]);
}
