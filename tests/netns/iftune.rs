//! virsh's `domiftune` against a `qvirtd` in the test's namespace: the
//! bandwidth of a running bridged interface read and changed live (its
//! tap shaped again with libvirt's `tc` recipe, or, on a kernel without
//! the recipe's modules, refused naming them with the tap left as it was)
//! and in the definition (kept there, and the next start asks for it);
//! libvirt's refusals of a floor and of an unknown interface.

use crate::lv::{lv_socket, virsh_err, virsh_ok};
use crate::ns::{Netns, run};
use crate::support::{Daemon, TestDir};

/// The value `virsh domiftune` prints for `name`.
fn value(out: &str, name: &str) -> u64 {
    out.lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            (k.trim() == name).then(|| v.trim().parse().ok())?
        })
        .unwrap_or_else(|| panic!("{name} in {out}"))
}

/// Whether a kernel message of `tc` says a module is missing.
fn lacks_module(message: &str) -> bool {
    ["unknown", "not found", "Failed to load"]
        .iter()
        .any(|w| message.contains(w))
}

#[test]
fn domiftune_reads_and_changes_an_interfaces_bandwidth() {
    let ns = Netns::new("iftune");
    let dir = TestDir::new("iftune");
    let _daemon = Daemon::start_under(&ns.exec(), &dir.path, &[]);
    let s = &lv_socket(&dir.path);
    let xml = crate::firmware(
        "fw-tune",
        "<interface type='bridge'><mac address='52:54:00:00:0e:01'/><source bridge='br0'/>\
         <target dev='qvtune0'/></interface>",
    );
    let file = dir.path.join("fw-tune.xml");
    std::fs::write(&file, xml).unwrap();
    virsh_ok(s, &["define", file.to_str().unwrap()]);
    virsh_ok(s, &["start", "fw-tune"]);
    let tc = |args: &[&str]| {
        let mut all = vec!["netns", "exec", &ns.name, "tc"];
        all.extend_from_slice(args);
        run("ip", &all)
    };
    let out = virsh_ok(s, &["domiftune", "fw-tune", "qvtune0"]);
    assert_eq!(value(&out, "inbound.average"), 0, "{out}");

    // The definition: kept, and read back by MAC address too.
    virsh_ok(
        s,
        &[
            "domiftune",
            "fw-tune",
            "qvtune0",
            "--config",
            "--inbound",
            "1000,2000,1024",
        ],
    );
    let kept = virsh_ok(s, &["dumpxml", "fw-tune", "--inactive"]);
    assert!(
        kept.contains("<inbound average='1000' peak='2000' burst='1024'/>"),
        "{kept}"
    );
    let out = virsh_ok(
        s,
        &["domiftune", "fw-tune", "52:54:00:00:0e:01", "--config"],
    );
    assert_eq!(
        (value(&out, "inbound.average"), value(&out, "inbound.peak")),
        (1000, 2000)
    );
    // The running domain is not changed by that.
    assert!(!virsh_ok(s, &["dumpxml", "fw-tune"]).contains("<bandwidth>"));
    assert!(!tc(&["qdisc", "show", "dev", "qvtune0"]).contains("htb"));

    // Live: the tap is shaped, or the kernel cannot, and says so.
    let live = crate::lv::virsh(
        s,
        &[
            "domiftune",
            "fw-tune",
            "qvtune0",
            "--live",
            "--inbound",
            "1000",
        ],
    );
    if live.status.success() {
        let class = tc(&["class", "show", "dev", "qvtune0"]);
        assert!(
            class.contains("htb 1:1") && class.contains("rate 8Mbit"),
            "{class}"
        );
        let out = virsh_ok(s, &["domiftune", "fw-tune", "qvtune0"]);
        assert_eq!(value(&out, "inbound.average"), 1000, "{out}");
        // An average of 0 takes the direction away again.
        virsh_ok(
            s,
            &[
                "domiftune",
                "fw-tune",
                "qvtune0",
                "--live",
                "--inbound",
                "0",
            ],
        );
        assert!(!tc(&["qdisc", "show", "dev", "qvtune0"]).contains("htb"));
        assert!(!virsh_ok(s, &["dumpxml", "fw-tune"]).contains("<bandwidth>"));
    } else {
        let said = String::from_utf8_lossy(&live.stderr);
        assert!(
            said.contains("cannot shape network device 'qvtune0'") && lacks_module(&said),
            "only a kernel without tc's modules may refuse: {said}"
        );
        // Which the kernel says itself, on the namespace's bridge.
        let sfq = std::process::Command::new("ip")
            .args([
                "netns", "exec", &ns.name, "tc", "qdisc", "add", "dev", "br0",
            ])
            .args(["root", "handle", "1:", "sfq"])
            .output()
            .unwrap();
        assert!(
            !sfq.status.success() && lacks_module(&String::from_utf8_lossy(&sfq.stderr)),
            "the kernel has SFQ, yet the shaping was refused: {said}"
        );
        // Nothing was left on the tap, and the live XML is unchanged.
        assert!(!tc(&["qdisc", "show", "dev", "qvtune0"]).contains("htb"));
        assert!(!virsh_ok(s, &["dumpxml", "fw-tune"]).contains("<bandwidth>"));
    }

    // libvirt's refusals.
    let e = virsh_err(
        s,
        &[
            "domiftune",
            "fw-tune",
            "qvtune0",
            "--live",
            "--inbound",
            "1000,0,0,5",
        ],
    );
    assert!(e.contains("Invalid use of 'floor'"), "{e}");
    let e = virsh_err(s, &["domiftune", "fw-tune", "nosuch"]);
    assert!(e.contains("'nosuch' is not a known interface"), "{e}");
    virsh_ok(s, &["destroy", "fw-tune"]);
}
