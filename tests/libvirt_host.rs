//! Host facts, virtual networks, security labels and checkpoints through
//! libvirt's protocol, with the real clients: unmodified virsh 9.0 and
//! python3-libvirt 9.0 (Debian's) against a `qvirtd --root DIR`. Each
//! host fact is checked against the host's own files (NUMA nodes, huge
//! page pools, KSM) and `/dev/kvm`, read by the test; what qvirt does not
//! keep or the host lacks (networks, labels, checkpoints, SEV) against
//! libvirt's codes and words. The procedures each client called are seen through a recording
//! proxy.

#[allow(dead_code, unused_imports)]
#[path = "daemon/support.rs"]
mod support;

#[path = "libvirt/lv.rs"]
mod lv;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use lv::*;
use qvirt::transport::libvirt::types::{ListNamesArgs, ListNamesRet, NameArgs};
use qvirt::transport::libvirt::xdr::from_bytes;
use support::*;

/// A daemon with its libvirt socket behind a recording proxy.
struct World {
    dir: TestDir,
    daemon: Daemon,
    rec: Recorder,
}

impl World {
    fn new(tag: &str) -> World {
        let dir = TestDir::new(tag);
        let daemon = Daemon::start(&dir.path, &[]);
        let rec = Recorder::new(&dir.path.join("rec.sock"), &lv_socket(&dir.path));
        World { dir, daemon, rec }
    }
}

/// A `Key: N kB` figure of node 0's meminfo, in KiB.
fn node0_free_kib() -> u64 {
    std::fs::read_to_string("/sys/devices/system/node/node0/meminfo")
        .expect("node 0's meminfo")
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            (k.split_whitespace().last()? == "MemFree")
                .then(|| v.split_whitespace().next()?.parse().ok())?
        })
        .expect("MemFree of node 0")
}

#[test]
fn a_python3_libvirt_program_reads_the_host_and_hears_of_no_network_label_or_checkpoint() {
    let w = World::new("lvhostpy");
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/libvirt/host.py");
    w.rec.take();
    let out = Command::new(PYTHON)
        .arg(script)
        .arg(uri(&w.rec.socket))
        .arg(firmware_vm("hostfacts"))
        .output()
        .expect("run the python3-libvirt program");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("PY-HOST-OK"),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let calls = w.rec.take();
    // (python3-libvirt lists networks by name only when it counted some:
    // the raw client below asks for those lists.)
    for p in [5, 46, 47, 50, 52, 101, 121, 278, 289, 340, 413, 415] {
        assert!(calls.contains(&p), "no call of {p} in {calls:?}");
    }
}

#[test]
fn virsh_reads_free_memory_pages_and_merging_and_lists_no_network() {
    let w = World::new("lvhostvirsh");
    let s = &w.rec.socket;
    // freecell CELL: node 0's free memory, as the host shows it.
    let out = virsh_ok(s, &["freecell", "0"]);
    let kib: u64 = out
        .trim()
        .strip_prefix("0:")
        .and_then(|v| v.trim().strip_suffix("KiB"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("freecell said {out}"));
    assert!(
        kib.abs_diff(node0_free_kib()) < 512 * 1024,
        "{kib} KiB free against {} KiB",
        node0_free_kib()
    );
    // freepages CELL SIZE: the pool's free pages.
    let free = std::fs::read_to_string(
        "/sys/devices/system/node/node0/hugepages/hugepages-2048kB/free_hugepages",
    )
    .expect("node 0's 2 MiB page pool");
    let out = virsh_ok(s, &["freepages", "0", "2048"]);
    assert_eq!(out.trim(), format!("2048KiB: {}", free.trim()), "{out}");
    // node-memory-tune: KSM's settings under libvirt's names.
    let out = virsh_ok(s, &["node-memory-tune"]);
    for (file, name) in [
        ("pages_to_scan", "shm_pages_to_scan"),
        ("sleep_millisecs", "shm_sleep_millisecs"),
        ("merge_across_nodes", "shm_merge_across_nodes"),
    ] {
        let want = std::fs::read_to_string(format!("/sys/kernel/mm/ksm/{file}")).unwrap();
        let line = out
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("no {name} in {out}"));
        assert_eq!(line.split_whitespace().nth(1), Some(want.trim()), "{out}");
    }
    // Networks: none listed, and libvirt's error for a name.
    let out = virsh_ok(s, &["net-list", "--all", "--name"]);
    assert_eq!(out.trim(), "");
    let err = virsh_err(s, &["net-info", "default"]);
    assert!(
        err.contains("Network not found: no network with matching name 'default'"),
        "{err}"
    );
    // A domain's checkpoints: none; a security label: none.
    let xml = write_file(&w.dir.path, "d.xml", &firmware_vm("hostvirsh"));
    virsh_ok(s, &["define", xml.to_str().unwrap()]);
    let out = virsh_ok(s, &["checkpoint-list", "hostvirsh", "--name"]);
    assert_eq!(out.trim(), "");
    let err = virsh_err(s, &["checkpoint-info", "hostvirsh", "c1"]);
    assert!(
        err.contains("Domain checkpoint not found: no domain checkpoint with matching name 'c1'"),
        "{err}"
    );
    let out = virsh_ok(s, &["dominfo", "hostvirsh"]);
    assert!(!out.contains("Security label"), "{out}");
}

#[test]
fn the_lists_of_networks_by_name_are_empty_and_a_name_is_not_found() {
    let w = World::new("lvhostraw");
    let mut raw = Raw::connect(&lv_socket(&w.dir.path));
    raw.open(false, 0);
    for p in [36, 38] {
        let body = raw
            .call(p, &ListNamesArgs { maxnames: 16 })
            .unwrap_or_else(|e| panic!("procedure {p}: {e:?}"));
        let names: ListNamesRet = from_bytes(&body, "names").unwrap();
        assert!(names.names.is_empty(), "{p}: {names:?}");
    }
    let e = raw
        .call(
            46,
            &NameArgs {
                name: "isolated".into(),
            },
        )
        .unwrap_err();
    assert_eq!((e.code, e.domain), (43, 19), "{e:?}");
    assert_eq!(
        e.message.as_deref(),
        Some("Network not found: no network with matching name 'isolated'")
    );
}

/// How many times `text` is in the file (0 while it does not exist).
fn count_in(file: &Path, text: &str) -> usize {
    std::fs::read_to_string(file)
        .map(|t| t.matches(text).count())
        .unwrap_or(0)
}

/// What Linux prints when an NMI comes with no source it knows.
const NMI_SEEN: &str = "NMI received for unknown reason";

#[test]
fn an_nmi_from_virsh_and_from_qvirt_reaches_the_guest_kernel() {
    let w = World::new("lvhostnmi");
    let s = &w.rec.socket;
    let xml = write_file(&w.dir.path, "nmi.xml", &linux_vm("nmi"));
    virsh_ok(s, &["define", xml.to_str().unwrap()]);
    let err = virsh_err(s, &["inject-nmi", "nmi"]);
    assert!(err.contains("'nmi': it is shut off"), "{err}");
    virsh_ok(s, &["start", "nmi"]);
    let log = w.dir.path.join("log/console/nmi.log");
    wait_for("the guest's shell", Duration::from_secs(300), || {
        (count_in(&log, "QVIRT-GUEST-READY") > 0).then_some(())
    });
    assert_eq!(count_in(&log, NMI_SEEN), 0);
    w.rec.take();
    virsh_ok(s, &["inject-nmi", "nmi"]);
    assert!(
        w.rec.take().contains(&210),
        "virsh called virDomainInjectNMI"
    );
    wait_for("the guest's first NMI", Duration::from_secs(60), || {
        (count_in(&log, NMI_SEEN) == 1).then_some(())
    });
    // qvirt's own command over qvirt's protocol.
    let out = Command::new(env!("CARGO_BIN_EXE_qvirt"))
        .args(["-c", &w.daemon.uri(), "inject-nmi", "nmi"])
        .output()
        .expect("run qvirt");
    assert!(out.status.success(), "{out:?}");
    wait_for("the guest's second NMI", Duration::from_secs(60), || {
        (count_in(&log, NMI_SEEN) == 2).then_some(())
    });
    virsh_ok(s, &["destroy", "nmi"]);
}

#[test]
fn virsh_reads_a_domains_numatune_bandwidth_perf_events_and_launch_security() {
    let w = World::new("lvhostparams");
    let s = &w.rec.socket;
    let numa = firmware_vm("np").replace(
        "<vcpu>1</vcpu>",
        "<vcpu>1</vcpu><numatune><memory mode='interleave' nodeset='0'/></numatune>",
    );
    let bw = "<domain type='qemu'><name>bw</name><memory unit='MiB'>32</memory><vcpu>1</vcpu>\
        <os><type arch='x86_64' machine='pc'>hvm</type></os><devices>\
        <interface type='ethernet'><mac address='52:54:00:12:34:57'/><target dev='qvt-bw0'/>\
        <model type='e1000'/><bandwidth><inbound average='1000' peak='5000' burst='1024'/>\
        <outbound average='128'/></bandwidth></interface><memballoon model='none'/></devices></domain>";
    for (name, xml) in [("np", numa.as_str()), ("bw", bw)] {
        virsh_define(s, &w.dir.path, &format!("{name}.xml"), xml);
    }
    let fields = |out: &str| -> Vec<(String, String)> {
        out.lines()
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect()
    };
    let pairs = |v: &[(&str, &str)]| -> Vec<(String, String)> {
        v.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    // <numatune>, shut off and then running (the running definition).
    let want = pairs(&[("numa_mode", "interleave"), ("numa_nodeset", "0")]);
    assert_eq!(fields(&virsh_ok(s, &["numatune", "np"])), want);
    virsh_ok(s, &["start", "np"]);
    assert_eq!(fields(&virsh_ok(s, &["numatune", "np", "--live"])), want);
    assert_eq!(fields(&virsh_ok(s, &["numatune", "np", "--config"])), want);
    virsh_ok(s, &["destroy", "np"]);
    // A domain without <numatune>: strict, no nodes.
    let plain = write_file(&w.dir.path, "plain.xml", &firmware_vm("plain"));
    virsh_ok(s, &["define", plain.to_str().unwrap()]);
    assert_eq!(
        fields(&virsh_ok(s, &["numatune", "plain"])),
        pairs(&[("numa_mode", "strict"), ("numa_nodeset", "")])
    );
    // <bandwidth>, by MAC address and by host device.
    let want = pairs(&[
        ("inbound.average", "1000"),
        ("inbound.peak", "5000"),
        ("inbound.burst", "1024"),
        ("inbound.floor", "0"),
        ("outbound.average", "128"),
        ("outbound.peak", "0"),
        ("outbound.burst", "0"),
    ]);
    for dev in ["52:54:00:12:34:57", "qvt-bw0"] {
        assert_eq!(fields(&virsh_ok(s, &["domiftune", "bw", dev])), want);
    }
    let err = virsh_err(s, &["domiftune", "bw", "vnet9"]);
    assert!(err.contains("'vnet9' is not a known interface"), "{err}");
    // Perf events: every one libvirt knows, none enabled.
    let out = virsh_ok(s, &["perf", "plain"]);
    let events = fields(&out);
    assert_eq!(
        events.len(),
        qvirt::model::PerfEventName::ALL.len(),
        "{out}"
    );
    for ((name, _), e) in events.iter().zip(qvirt::model::PerfEventName::ALL) {
        assert_eq!(name, e.as_str(), "libvirt's order");
    }
    assert!(events.iter().all(|(_, v)| v == "disabled"), "{out}");
    // Launch security: none.
    assert_eq!(virsh_ok(s, &["domlaunchsecinfo", "plain"]).trim(), "");
    let calls = w.rec.take();
    for p in [255, 257, 365, 396] {
        assert!(calls.contains(&p), "no call of {p} in {calls:?}");
    }
}

#[test]
fn cpu_models_are_qemus_and_pool_capabilities_name_directories_only() {
    let w = World::new("lvhostcaps");
    let s = &w.rec.socket;
    // cpu-models: the models QEMU itself lists.
    let out = Command::new("qemu-system-x86_64")
        .args(["-cpu", "help"])
        .output()
        .expect("run qemu-system-x86_64");
    let mut qemu: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.strip_prefix("x86 "))
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect();
    qemu.sort();
    assert!(qemu.len() > 10, "QEMU lists its models: {qemu:?}");
    let out = virsh_ok(s, &["cpu-models", "x86_64"]);
    let mut models: Vec<String> = out
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    models.sort();
    assert_eq!(models, qemu);
    let err = virsh_err(s, &["cpu-models", "vax"]);
    assert!(err.contains("cannot find architecture vax"), "{err}");
    // pool-capabilities: libvirt's schema, directories of raw and qcow2
    // volumes only.
    let xml = virsh_ok(s, &["pool-capabilities"]);
    let file = write_file(&w.dir.path, "poolcaps.xml", &xml);
    let rng = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/libvirt-schemas/storagepoolcaps.rng");
    let out = Command::new("xmllint")
        .args(["--noout", "--relaxng"])
        .arg(&rng)
        .arg(&file)
        .output()
        .expect("run xmllint");
    assert!(out.status.success(), "{out:?}\n{xml}");
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let pools: Vec<(&str, &str)> = doc
        .descendants()
        .filter(|n| n.has_tag_name("pool"))
        .map(|n| {
            (
                n.attribute("type").unwrap(),
                n.attribute("supported").unwrap(),
            )
        })
        .collect();
    assert_eq!(pools.len(), 14, "{xml}");
    for (t, supported) in &pools {
        assert_eq!(*supported, if *t == "dir" { "yes" } else { "no" }, "{xml}");
    }
    let formats: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("value"))
        .filter_map(|n| n.text())
        .collect();
    assert_eq!(formats, ["raw", "qcow2"]);
    let calls = w.rec.take();
    for p in [312, 403] {
        assert!(calls.contains(&p), "no call of {p} in {calls:?}");
    }
}

#[test]
fn domxml_to_native_from_virsh_is_the_command_line_qvirt_builds() {
    let dir = TestDir::new("lvhostnative");
    let _daemon = Daemon::start(&dir.path, &["--read-only-socket"]);
    let s = &lv_socket(&dir.path);
    let xml = firmware_vm("nat").replace(
        "<name>nat</name>",
        "<name>nat</name><uuid>3f0e7c1a-5b2d-4e6f-8a9b-0c1d2e3f4a5b</uuid>",
    );
    let file = write_file(&dir.path, "nat.xml", &xml);
    let path = file.to_str().unwrap();
    let line = virsh_ok(s, &["domxml-to-native", "qemu-argv", path]);
    assert!(
        line.starts_with("/usr/bin/qemu-system-x86_64 -name guest=nat,"),
        "{line}"
    );
    // The daemon's run directory, as a start under its root would use.
    let run = dir
        .path
        .join("run/3f0e7c1a-5b2d-4e6f-8a9b-0c1d2e3f4a5b/qmp.sock");
    assert!(line.contains(run.to_str().unwrap()), "{line}");
    // qvirt's own verb, working out the same root without a daemon.
    let out = Command::new(env!("CARGO_BIN_EXE_qvirt"))
        .arg("-c")
        .arg(format!("qemu:///embed?root={}", dir.path.display()))
        .args(["domxml-to-native", "qemu-argv", path])
        .output()
        .expect("run qvirt");
    assert!(out.status.success(), "{out:?}");
    assert_eq!(line.trim(), String::from_utf8_lossy(&out.stdout).trim());
    // Nothing was defined.
    assert_eq!(virsh_ok(s, &["list", "--all", "--name"]).trim(), "");
    let err = virsh_err(s, &["domxml-to-native", "xen-xm", path]);
    assert!(err.contains("unsupported native format 'xen-xm'"), "{err}");
    let err = virsh_err(
        &lv_socket_ro(&dir.path),
        &["domxml-to-native", "qemu-argv", path],
    );
    assert!(err.contains("read only access prevents"), "{err}");
}

/// SEV on a host without it, as libvirt 9.0 answers: `nodesevinfo` is
/// `VIR_ERR_OPERATION_UNSUPPORTED` "QEMU does not support SEV guest"
/// (qvirt's domain capabilities say `<sev supported='no'/>`, as libvirt's
/// QEMU capability is off), and `domlaunchsecinfo` of a SEV domain that
/// cannot run here is `VIR_ERR_OPERATION_INVALID` "domain is not
/// running", to virsh and python alike.
#[test]
fn sev_queries_on_a_host_without_sev_are_answered_as_libvirt_answers_them() {
    assert!(
        !Path::new("/dev/sev").exists(),
        "this test needs a host without AMD SEV (/dev/sev exists)"
    );
    let w = World::new("lvsev");
    let s = &w.rec.socket;
    let caps = virsh_ok(s, &["domcapabilities"]);
    assert!(caps.contains("<sev supported='no'/>"), "{caps}");
    let err = virsh_err(s, &["nodesevinfo"]);
    assert!(
        err.contains("error: Operation not supported: QEMU does not support SEV guest"),
        "{err}"
    );
    let sev = firmware_vm("sev").replace(
        "</devices>",
        "</devices><launchSecurity type='sev'><cbitpos>47</cbitpos>\
         <reducedPhysBits>1</reducedPhysBits><policy>0x0003</policy></launchSecurity>",
    );
    let f = write_file(&w.dir.path, "sev.xml", &sev);
    virsh_ok(s, &["define", f.to_str().unwrap()]);
    let err = virsh_err(s, &["domlaunchsecinfo", "sev"]);
    assert!(
        err.contains("error: Requested operation is not valid: domain is not running"),
        "{err}"
    );
    let out = Command::new(PYTHON)
        .arg("-c")
        .arg(format!(
            "import libvirt\nc = libvirt.open({:?})\n\
             def code(call):\n    try:\n        call()\n    except libvirt.libvirtError as e:\n        return e.get_error_code()\n\
             assert code(lambda: c.getSEVInfo()) == libvirt.VIR_ERR_OPERATION_UNSUPPORTED\n\
             d = c.lookupByName('sev')\n\
             assert code(lambda: d.launchSecurityInfo()) == libvirt.VIR_ERR_OPERATION_INVALID\n\
             print('PY-OK')",
            uri(&lv_socket(&w.dir.path))
        ))
        .output()
        .expect("run python3");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("PY-OK"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let calls = w.rec.take();
    for p in [395, 396] {
        assert!(calls.contains(&p), "no call of {p} in {calls:?}");
    }
}

/// The numbers of a kernel CPU list (`0-3,8`).
fn cpu_list(text: &str) -> Vec<u32> {
    text.trim()
        .split(',')
        .filter(|p| !p.is_empty())
        .flat_map(|p| match p.split_once('-') {
            Some((a, b)) => (a.parse().unwrap()..=b.parse().unwrap()).collect::<Vec<u32>>(),
            None => vec![p.parse().unwrap()],
        })
        .collect()
}

#[test]
fn capabilities_show_the_hosts_numa_cells_cpus_and_pages_and_freecell_reads_each_cell() {
    let w = World::new("lvhosttopo");
    let s = &w.rec.socket;
    let xml = virsh_ok(s, &["capabilities"]);
    // libvirt's own schema of the document (Debian's libvirt0 has it).
    let rng = Path::new("/usr/share/libvirt/schemas/capability.rng");
    assert!(
        rng.exists(),
        "{} is missing (Debian package libvirt0)",
        rng.display()
    );
    let file = write_file(&w.dir.path, "caps.xml", &xml);
    let out = Command::new("xmllint")
        .args(["--noout", "--relaxng"])
        .arg(rng)
        .arg(&file)
        .output()
        .expect("run xmllint");
    assert!(out.status.success(), "{out:?}\n{xml}");
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let host = doc
        .descendants()
        .find(|n| n.has_tag_name("host"))
        .expect("<host>");
    // The cells are the kernel's NUMA nodes, each with its memory and
    // its online CPUs.
    let sys = Path::new("/sys/devices/system");
    let mut nodes: Vec<u32> = std::fs::read_dir(sys.join("node"))
        .expect("the kernel's NUMA nodes")
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.strip_prefix("node")?.parse().ok())
        .collect();
    nodes.sort_unstable();
    let online = cpu_list(&std::fs::read_to_string(sys.join("cpu/online")).unwrap());
    let cells: Vec<roxmltree::Node> = host
        .descendants()
        .filter(|n| n.has_tag_name("cell"))
        .collect();
    let ids: Vec<u32> = cells
        .iter()
        .map(|c| c.attribute("id").unwrap().parse().unwrap())
        .collect();
    assert_eq!(ids, nodes, "{xml}");
    let mut all_cpus = Vec::new();
    for (cell, n) in cells.iter().zip(&nodes) {
        let dir = sys.join(format!("node/node{n}"));
        let meminfo = std::fs::read_to_string(dir.join("meminfo")).unwrap();
        let total = meminfo
            .lines()
            .find(|l| l.contains("MemTotal:"))
            .and_then(|l| l.split_whitespace().rev().nth(1))
            .unwrap();
        let memory = cell.children().find(|c| c.has_tag_name("memory")).unwrap();
        assert_eq!(memory.text(), Some(total), "{xml}");
        let mine: Vec<u32> = cpu_list(&std::fs::read_to_string(dir.join("cpulist")).unwrap())
            .into_iter()
            .filter(|c| online.contains(c))
            .collect();
        let cpus: Vec<u32> = cell
            .descendants()
            .filter(|c| c.has_tag_name("cpu"))
            .map(|c| c.attribute("id").unwrap().parse().unwrap())
            .collect();
        assert_eq!(cpus, mine, "{xml}");
        all_cpus.extend(cpus);
    }
    assert_eq!(all_cpus, online);
    // The host CPU's page sizes: the system's, then each huge page pool.
    let mut sizes: Vec<u64> = std::fs::read_dir("/sys/kernel/mm/hugepages")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            name.strip_prefix("hugepages-")?
                .strip_suffix("kB")?
                .parse()
                .ok()
        })
        .collect();
    sizes.sort_unstable();
    sizes.insert(0, 4);
    let cpu = host.children().find(|n| n.has_tag_name("cpu")).unwrap();
    let pages: Vec<u64> = cpu
        .children()
        .filter(|n| n.has_tag_name("pages"))
        .map(|n| n.attribute("size").unwrap().parse().unwrap())
        .collect();
    assert_eq!(pages, sizes, "{xml}");
    // nodeinfo counts the same cells and CPUs.
    let info = virsh_ok(s, &["nodeinfo"]);
    let field = |name: &str| -> u32 {
        info.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("{name} in {info}"))
    };
    assert_eq!(field("NUMA cell(s):") as usize, nodes.len(), "{info}");
    assert_eq!(
        field("CPU socket(s):")
            * field("Core(s) per socket:")
            * field("Thread(s) per core:")
            * nodes.len() as u32,
        field("CPU(s):"),
        "{info}"
    );
    // freecell --all asks each cell for its free memory, then sums.
    let out = virsh_ok(s, &["freecell", "--all"]);
    let listed: Vec<u32> = out
        .lines()
        .filter_map(|l| l.trim().split_once(':'))
        .filter_map(|(n, _)| n.parse().ok())
        .collect();
    assert_eq!(listed, nodes, "{out}");
    assert!(out.contains("Total:"), "{out}");
    // python3-libvirt reads the same document.
    let py = python_ok(
        "import libvirt, sys\nprint(libvirt.open(sys.argv[1]).getCapabilities(), end='')",
        &[std::ffi::OsStr::new(&uri(s))],
    );
    assert_eq!(py.trim_end(), xml.trim_end());
}
