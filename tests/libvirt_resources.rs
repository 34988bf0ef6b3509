//! Real libvirt clients (Debian's virsh and python3-libvirt 9.0,
//! unmodified) resize a running Linux guest through a real qvirtd's
//! libvirt socket and read its statistics: every change is looked for
//! inside the guest (its /proc and /sys, through its console), every
//! figure against another source (the guest's own balloon report, QEMU's
//! counters, the tap's counters in the kernel). A recording proxy checks
//! which of libvirt's calls virsh made; the read-only socket refuses the
//! changes and serves the statistics; and a statistics call is answered
//! while the workers are busy with a long call.

#[allow(dead_code, unused_imports)]
#[path = "daemon/support.rs"]
mod support;

#[path = "libvirt/lv.rs"]
mod lv;

#[path = "libvirt/guest_shell.rs"]
mod guest_shell;

#[allow(dead_code)]
#[path = "common/netns.rs"]
mod ns;

use std::collections::BTreeMap;
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use guest_shell::Guest;
use lv::*;
use qvirt::driver::local::LocalDriver;
use qvirt::transport::libvirt::frame::{RemoteError, Type, code};
use qvirt::transport::libvirt::types::{AllDomainStatsArgs, AllDomainStatsRet, DeviceArgs, Dom};
use qvirt::transport::libvirt::xdr::from_bytes;
use qvirt::transport::server::{Limits, ServeOptions, Server};
use qvirt::{DomainDef, Driver};
use support::*;

const BOOT: Duration = Duration::from_secs(180);
const QUICK: Duration = Duration::from_secs(30);

impl Guest {
    /// MemTotal, KiB.
    fn mem_total(&mut self) -> u64 {
        let out = self.run("grep MemTotal /proc/meminfo");
        out.split_whitespace()
            .nth(1)
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no MemTotal in {out:?}"))
    }
}

/// The Linux guest with a balloon (reporting every second) and one of two
/// vCPUs online, with `devices` and `cmdline` words added.
fn resizable(name: &str, devices: &str, cmdline: &str) -> String {
    let g = guest_dir();
    format!(
        "<domain type='qemu'><name>{name}</name><memory unit='MiB'>256</memory>\
         <vcpu current='1'>2</vcpu>\
         <os><type arch='x86_64' machine='pc'>hvm</type><kernel>{}</kernel><initrd>{}</initrd>\
         <cmdline>console=ttyS0 quiet no_timer_check{cmdline}</cmdline></os><features><acpi/></features>\
         <devices>{devices}<serial type='pty'><target port='0'/></serial>\
         <console type='pty'><target type='serial' port='0'/></console>\
         <memballoon model='virtio'><stats period='1'/></memballoon></devices></domain>",
        g.join("vmlinux").display(),
        g.join("initrd.img").display()
    )
}

/// A raw disk of 8 MiB at `path`, seen by the guest as its first virtio
/// disk.
fn disk(path: &Path) -> String {
    std::fs::File::create(path)
        .unwrap()
        .set_len(8 << 20)
        .unwrap();
    format!(
        "<disk type='file' device='disk'><driver name='qemu' type='raw'/>\
         <source file='{}'/><target dev='vda' bus='virtio'/></disk>",
        path.display()
    )
}

/// virsh's `NAME VALUE` lines (`dommemstat`, `domblkstat`, `domifstat`)
/// as a map; the value is the last word.
fn figures(text: &str) -> BTreeMap<String, u64> {
    text.lines()
        .filter_map(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            let (value, rest) = words.split_last()?;
            Some((rest.last()?.to_string(), value.parse().ok()?))
        })
        .collect()
}

/// virsh's `domstats` of one domain: `field=value` lines.
fn domstats(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.trim().split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// virsh's `domstats` of several domains, by name.
fn domstats_all(text: &str) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    let mut name = String::new();
    for l in text.lines() {
        if let Some(n) = l
            .strip_prefix("Domain: '")
            .and_then(|r| r.strip_suffix('\''))
        {
            name = n.to_string();
        } else if let Some((k, v)) = l.trim().split_once('=') {
            out.entry(name.clone())
                .or_insert_with(BTreeMap::new)
                .insert(k.to_string(), v.to_string());
        }
    }
    out
}

/// virsh's `vcpucount` table: (maximum|current, config|live) -> count.
fn vcpucount(text: &str) -> BTreeMap<(String, String), u32> {
    text.lines()
        .filter_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            Some((
                (w.first()?.to_string(), w.get(1)?.to_string()),
                w.get(2)?.parse().ok()?,
            ))
        })
        .collect()
}

fn count(table: &BTreeMap<(String, String), u32>, which: &str, state: &str) -> u32 {
    table[&(which.to_string(), state.to_string())]
}

/// virsh setmem, setmaxmem, setvcpus and vcpucount on a running Linux
/// guest: the balloon takes memory from the guest and gives it back (its
/// MemTotal), the second vCPU is hot-plugged and comes online in the
/// guest, `--config` changes only the definition, what the guest cannot
/// have is refused; `dommemstat` and `domstats` report the balloon as the
/// guest itself reports it. virsh makes libvirt's calls for them (the
/// recording proxy sees them); the read-only socket refuses every change
/// and serves every figure.
#[test]
fn virsh_resizes_a_running_guest() {
    let dir = TestDir::new("lvres");
    let daemon = Daemon::start(&dir.path, &["--read-only-socket"]);
    let qvirt = daemon.connect();
    let rec = Recorder::new(&dir.path.join("rec.sock"), &lv_socket(&dir.path));
    let s = rec.socket.clone();
    let ro = lv_socket_ro(&dir.path);
    let f = write_file(&dir.path, "lx.xml", &resizable("lx-res", "", ""));
    virsh_ok(&s, &["define", f.to_str().unwrap()]);
    virsh_ok(&s, &["start", "lx-res"]);
    let dom = qvirt.lookup_by_name("lx-res").unwrap();
    let mut g = Guest::open(&*qvirt, &dom);
    let before = g.mem_total();

    // setmem --live: the balloon inflates, the guest has less.
    rec.take();
    virsh_ok(&s, &["setmem", "lx-res", "128M", "--live"]);
    assert!(rec.take().contains(&204), "DOMAIN_SET_MEMORY_FLAGS");
    wait_for("the guest to give memory to the balloon", BOOT, || {
        (g.mem_total() + 64 * 1024 < before).then_some(())
    });
    assert!(virsh_ok(&s, &["dominfo", "lx-res"]).contains("Used memory:    131072 KiB"));
    // dommemstat: the balloon at its target, and the guest's own total
    // as its balloon driver reports it is its MemTotal.
    let mem = wait_for("the balloon to report", BOOT, || {
        let m = figures(&virsh_ok(&s, &["dommemstat", "lx-res"]));
        (m.get("actual") == Some(&131_072) && m.get("available") == Some(&g.mem_total()))
            .then_some(m)
    });
    assert!(
        mem["rss"] > 0 && mem["unused"] > 0 && mem["usable"] > 0,
        "{mem:?}"
    );
    assert!(mem.contains_key("last_update"), "{mem:?}");
    assert!(rec.take().contains(&159), "DOMAIN_MEMORY_STATS");
    let err = virsh_err(&s, &["setmem", "lx-res", "512M", "--live"]);
    assert!(err.contains("<memory>"), "{err}");
    let err = virsh_err(&s, &["setmaxmem", "lx-res", "512M", "--live"]);
    assert!(err.contains("while it runs"), "{err}");
    // --config: the definition only.
    virsh_ok(&s, &["setmaxmem", "lx-res", "512M", "--config"]);
    virsh_ok(&s, &["setmem", "lx-res", "300M", "--config"]);
    let kept = DomainDef::from_xml(&virsh_ok(&s, &["dumpxml", "lx-res", "--inactive"])).unwrap();
    assert_eq!(
        (kept.memory_kib, kept.current_memory_kib),
        (512 * 1024, Some(300 * 1024))
    );
    assert!(virsh_ok(&s, &["dominfo", "lx-res"]).contains("Max memory:     262144 KiB"));
    // setmem without a flag: the running guest gets its memory back.
    virsh_ok(&s, &["setmem", "lx-res", "256M"]);
    wait_for("the balloon to give memory back", BOOT, || {
        (g.mem_total() + 16 * 1024 >= before).then_some(())
    });

    // vCPUs: one of two online.
    let t = vcpucount(&virsh_ok(&s, &["vcpucount", "lx-res"]));
    assert_eq!(
        [
            count(&t, "maximum", "config"),
            count(&t, "maximum", "live"),
            count(&t, "current", "config"),
            count(&t, "current", "live")
        ],
        [2, 2, 1, 1],
        "{t:?}"
    );
    assert!(rec.take().contains(&200), "DOMAIN_GET_VCPUS_FLAGS");
    assert_eq!(g.run("cat /sys/devices/system/cpu/present"), "0");
    let err = virsh_err(&s, &["setvcpus", "lx-res", "3", "--live"]);
    assert!(err.contains("allows 1 to 2"), "{err}");
    // setvcpus without a flag is virDomainSetVcpus: the running guest.
    virsh_ok(&s, &["setvcpus", "lx-res", "2"]);
    assert!(rec.take().contains(&32), "DOMAIN_SET_VCPUS");
    wait_for("the guest to see the new CPU", QUICK, || {
        (g.run("cat /sys/devices/system/cpu/present") == "0-1").then_some(())
    });
    g.run("echo 1 > /sys/devices/system/cpu/cpu1/online");
    assert_eq!(g.run("grep -c ^processor /proc/cpuinfo"), "2");
    let live = |args: &[&str]| virsh_ok(&s, args).trim().parse::<u32>().unwrap();
    assert_eq!(live(&["vcpucount", "lx-res", "--live", "--active"]), 2);
    assert_eq!(live(&["vcpucount", "lx-res", "--config", "--active"]), 1);
    // --config and --maximum: the definition.
    virsh_ok(&s, &["setvcpus", "lx-res", "2", "--config"]);
    virsh_ok(&s, &["setvcpus", "lx-res", "4", "--config", "--maximum"]);
    assert!(rec.take().contains(&199), "DOMAIN_SET_VCPUS_FLAGS");
    assert_eq!(live(&["vcpucount", "lx-res", "--config", "--maximum"]), 4);
    assert_eq!(live(&["vcpucount", "lx-res", "--live", "--maximum"]), 2);
    let err = virsh_err(&s, &["setvcpus", "lx-res", "1", "--guest"]);
    assert!(err.contains("guest agent"), "{err}");

    // domstats: the groups, as libvirt names them.
    let st = domstats(&virsh_ok(&s, &["domstats", "lx-res"]));
    assert!(rec.take().contains(&344), "CONNECT_GET_ALL_DOMAIN_STATS");
    for (k, v) in [
        ("state.state", "1"),
        ("balloon.current", "262144"),
        ("balloon.maximum", "262144"),
        ("vcpu.current", "2"),
        ("vcpu.maximum", "2"),
        ("vcpu.0.state", "1"),
        ("vcpu.1.state", "1"),
        ("block.count", "0"),
        ("net.count", "0"),
    ] {
        assert_eq!(st.get(k).map(String::as_str), Some(v), "{k} in {st:?}");
    }
    assert!(st["cpu.time"].parse::<u64>().unwrap() > 0, "{st:?}");
    assert!(st.contains_key("balloon.available") && st.contains_key("balloon.rss"));
    let info = qvirt.info(&dom).unwrap();
    assert_eq!((info.vcpus, info.memory_kib), (2, 262_144));

    // The read-only socket: every figure, no change.
    assert!(figures(&virsh_ok(&ro, &["dommemstat", "lx-res"])).contains_key("actual"));
    assert!(virsh_ok(&ro, &["domstats", "lx-res"]).contains("vcpu.current=2"));
    assert_eq!(
        virsh_ok(&ro, &["vcpucount", "lx-res", "--live", "--active"]).trim(),
        "2"
    );
    for args in [
        &["setmem", "lx-res", "128M"][..],
        &["setmaxmem", "lx-res", "512M", "--config"],
        &["setvcpus", "lx-res", "1", "--live"],
        &["setvcpus", "lx-res", "1"],
        &["vcpucount", "lx-res", "--guest"],
    ] {
        let err = virsh_err(&ro, args);
        assert!(err.contains("read only access prevents"), "{args:?}: {err}");
    }
    assert_eq!(qvirt.info(&dom).unwrap().memory_kib, 262_144);
    qvirt.destroy(&dom).unwrap();
}

impl ns::Netns {
    /// A counter of network device `dev` in the namespace
    /// (`/sys/class/net/DEV/statistics/NAME`).
    fn counter(&self, dev: &str, name: &str) -> u64 {
        let path = format!("/sys/class/net/{dev}/statistics/{name}");
        let mut all = self.exec();
        all.extend(["cat", &path]);
        ns::run(all[0], &all[1..])
            .trim()
            .parse()
            .expect("a counter")
    }
}

/// QEMU's own counters of the guest's disk (`query-blockstats`, through
/// virsh's `qemu-monitor-command`).
fn qemu_blockstats(s: &Path, name: &str) -> serde_json::Value {
    let out = virsh_ok(
        s,
        &[
            "qemu-monitor-command",
            name,
            r#"{"execute":"query-blockstats"}"#,
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&out).expect("QEMU's JSON");
    v["return"]
        .as_array()
        .and_then(|a| a.iter().find(|d| d["stats"]["rd_bytes"].is_u64()))
        .map(|d| d["stats"].clone())
        .unwrap_or_else(|| panic!("no disk in {out}"))
}

/// virsh domblkstat, domifstat, domstats and cpu-stats on a running
/// Linux guest that reads and writes its disk and pings its bridge, in a
/// network namespace of the test's own: the disk's counters grow by what
/// the guest did and are QEMU's own, the interface's are the tap's in the
/// kernel (seen from the guest's side), each found by target, path or
/// MAC; a shut-off domain has its state and counts only; unknown devices
/// and groups qvirt does not serve are refused.
#[test]
fn virsh_reads_a_running_guests_statistics() {
    assert!(
        nix::unistd::geteuid().is_root(),
        "this test makes a network namespace and a tap: it needs root"
    );
    let ns = ns::Netns::new("io");
    let dir = TestDir::new("lvres-io");
    let daemon = Daemon::start_under(&ns.exec(), &dir.path, &[]);
    let qvirt = daemon.connect();
    let s = lv_socket(&dir.path);
    let img = dir.path.join("data.img");
    let nic = "<interface type='bridge'><mac address='52:54:00:03:00:31'/>\
               <source bridge='br0'/><target dev='qvres31'/><model type='virtio'/></interface>";
    let xml = resizable(
        "lx-io",
        &format!("{}{nic}", disk(&img)),
        " guestnet guestip=10.0.3.31/24 guestgw=10.0.3.1",
    );
    let f = write_file(&dir.path, "io.xml", &xml);
    virsh_ok(&s, &["define", f.to_str().unwrap()]);
    let fw = write_file(&dir.path, "fw.xml", &firmware_xml("fw-off"));
    virsh_ok(&s, &["define", fw.to_str().unwrap()]);
    virsh_ok(&s, &["start", "lx-io"]);
    let dom = qvirt.lookup_by_name("lx-io").unwrap();
    let mut g = Guest::open(&*qvirt, &dom);

    // The disk: 1 MiB read, 256 KiB written and flushed by the guest.
    let blk = |dev: &str| figures(&virsh_ok(&s, &["domblkstat", "lx-io", dev]));
    let b0 = blk("vda");
    g.run("dd if=/dev/vda of=/dev/null bs=65536 count=16");
    g.run("dd if=/dev/zero of=/dev/vda bs=65536 count=4 conv=fsync");
    let b1 = blk("vda");
    assert!(
        b1["rd_bytes"] >= b0["rd_bytes"] + (1 << 20),
        "{b0:?} {b1:?}"
    );
    assert!(
        b1["wr_bytes"] >= b0["wr_bytes"] + (256 << 10),
        "{b0:?} {b1:?}"
    );
    assert!(b1["wr_req"] > b0["wr_req"] && b1["flush_operations"] > b0["flush_operations"]);
    // QEMU's own counters (the guest is idle now).
    let q = qemu_blockstats(&s, "lx-io");
    for (virsh, qemu) in [
        ("rd_bytes", "rd_bytes"),
        ("rd_req", "rd_operations"),
        ("wr_bytes", "wr_bytes"),
        ("wr_req", "wr_operations"),
        ("flush_operations", "flush_operations"),
    ] {
        assert_eq!(Some(b1[virsh]), q[qemu].as_u64(), "{virsh}: {q}");
    }
    // By source path, and (no device) all disks summed: the one disk.
    assert_eq!(blk(img.to_str().unwrap()), b1);
    assert_eq!(blk(""), b1);
    let err = virsh_err(&s, &["domblkstat", "lx-io", "vdz"]);
    assert!(err.contains("invalid path: vdz"), "{err}");

    // The interface: five pings of the bridge's address.
    let out = g.run("ping -c 5 -W 2 10.0.3.1");
    assert!(out.contains("5 packets received"), "{out}");
    let host = |n: &str| ns.counter("qvres31", n);
    let (sent0, got0) = (host("rx_packets"), host("tx_packets"));
    let by_tap = figures(&virsh_ok(&s, &["domifstat", "lx-io", "qvres31"]));
    let by_mac = figures(&virsh_ok(&s, &["domifstat", "lx-io", "52:54:00:03:00:31"]));
    let (sent1, got1) = (host("rx_packets"), host("tx_packets"));
    for f in [&by_tap, &by_mac] {
        // What the guest sent, the host's tap received, and the reverse.
        assert!((sent0..=sent1).contains(&f["tx_packets"]), "{f:?}");
        assert!((got0..=got1).contains(&f["rx_packets"]), "{f:?}");
        assert!(f["tx_packets"] >= 5 && f["rx_packets"] >= 5, "{f:?}");
        assert!(f["tx_bytes"] >= 5 * 84, "{f:?}");
    }
    let err = virsh_err(&s, &["domifstat", "lx-io", "nope"]);
    assert!(err.contains("'nope' is not a known interface"), "{err}");

    // domstats of every domain: the running one in full, the shut-off one
    // its state and counts.
    let all = domstats_all(&virsh_ok(&s, &["domstats"]));
    let st = &all["lx-io"];
    for (k, v) in [
        ("block.count", "1"),
        ("block.0.name", "vda"),
        ("block.0.path", img.to_str().unwrap()),
        ("block.0.capacity", "8388608"),
        ("block.0.physical", "8388608"),
        ("net.count", "1"),
        ("net.0.name", "qvres31"),
        ("vcpu.current", "1"),
        ("vcpu.maximum", "2"),
    ] {
        assert_eq!(st.get(k).map(String::as_str), Some(v), "{k} in {st:?}");
    }
    assert!(st["block.0.rd.bytes"].parse::<u64>().unwrap() >= b1["rd_bytes"]);
    assert!(st["net.0.tx.pkts"].parse::<u64>().unwrap() >= 5);
    let fw = &all["fw-off"];
    assert_eq!(
        fw.get("state.state").map(String::as_str),
        Some("5"),
        "{fw:?}"
    );
    assert_eq!(
        fw.get("vcpu.current").map(String::as_str),
        Some("1"),
        "{fw:?}"
    );
    assert!(
        !fw.keys()
            .any(|k| k.starts_with("cpu.") || k.starts_with("block.") || k.starts_with("net.")),
        "{fw:?}"
    );
    // The list filters, and the groups qvirt does not serve.
    let shutoff = virsh_ok(&s, &["domstats", "--list-shutoff", "--state"]);
    assert!(
        shutoff.contains("fw-off") && !shutoff.contains("lx-io"),
        "{shutoff}"
    );
    let err = virsh_err(&s, &["domstats", "--perf", "--enforce"]);
    assert!(err.contains("not supported by this daemon"), "{err}");
    let err = virsh_err(&s, &["dommemstat", "fw-off"]);
    assert!(err.contains("is not running"), "{err}");

    // cpu-stats: the domain's total, which no per-CPU figures precede.
    let cpu = virsh_ok(&s, &["cpu-stats", "lx-io"]);
    assert!(cpu.contains("No per-CPU stats available"), "{cpu}");
    let secs = |name: &str| -> f64 {
        cpu.lines()
            .find_map(|l| l.trim().strip_prefix(name))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in {cpu}"))
    };
    assert!(secs("cpu_time") > 0.0, "{cpu}");
    assert!((secs("cpu_time") - secs("user_time") - secs("system_time")).abs() < 1e-6);
    drop(g);
    qvirt.destroy(&dom).unwrap();
}

/// A statistics call is answered while the daemon's one general worker
/// is busy with a long call (a disk detach the firmware never acknowledges
/// waits 20 s): it runs on a priority worker, as libvirt's statistics are
/// high-priority calls. A call that is not (CONNECT_GET_VERSION) waits
/// behind the detach, which shows the worker was busy.
#[test]
fn statistics_do_not_wait_behind_a_long_call() {
    let dir = TestDir::new("lvres-prio");
    let root = dir.path.join("state");
    let local = Arc::new(LocalDriver::open_embedded(&root).unwrap());
    let limits = Limits {
        workers: 1,
        prio_workers: 1,
        ..Limits::default()
    };
    let server = Server::with_limits(local.clone(), local.logger(), limits).unwrap();
    let socket = dir.path.join("lv.sock");
    server
        .listen_libvirt(
            UnixListener::bind(&socket).unwrap(),
            ServeOptions::default(),
        )
        .unwrap();
    let img = dir.path.join("d.img");
    // ACPI, for PCI hot-plug; the firmware never acknowledges an unplug.
    let xml = firmware_xml("fw-busy").replace(
        "<devices>",
        &format!("<features><acpi/></features><devices>{}", disk(&img)),
    );
    let dom = local.start(&local.define_xml(&xml).unwrap()).unwrap();

    let mut raw = Raw::connect(&socket);
    raw.open(false, 0);
    let detach = raw.send_call(
        161,
        &DeviceArgs {
            dom: Dom::from(&dom),
            xml: format!(
                "<disk type='file' device='disk'><source file='{}'/><target dev='vda' bus='virtio'/></disk>",
                img.display()
            ),
            flags: 1,
        },
    );
    let stats = raw.send_call(
        344,
        &AllDomainStatsArgs {
            doms: vec![Dom::from(&dom)],
            stats: 0,
            flags: 0,
        },
    );
    // The first reply is the statistics'.
    let (h, body) = next_reply(&mut raw);
    assert_eq!(h, stats, "the statistics waited behind the detach");
    let ret: AllDomainStatsRet = from_bytes(&body, "stats").unwrap();
    assert_eq!(ret.ret_stats.len(), 1);
    assert!(
        ret.ret_stats[0]
            .params
            .iter()
            .any(|p| p.field == "block.0.name")
    );
    // A call for the general workers waits for the detach to end.
    let version = raw.send_call(4, &());
    let (first, body) = next_reply(&mut raw);
    assert_eq!(
        first, detach,
        "CONNECT_GET_VERSION did not wait: the worker was idle"
    );
    // The detach waited for the guest all along (which never lets go).
    let e = RemoteError::decode(&body).expect("the detach fails");
    assert_eq!(e.code, code::OPERATION_TIMEOUT, "{e:?}");
    let (second, _) = next_reply(&mut raw);
    assert_eq!(second, version);
    local.destroy(&dom).unwrap();
    server.stop();
}

/// The serial and body of the next reply (an error's body too).
fn next_reply(raw: &mut Raw) -> (u32, Vec<u8>) {
    loop {
        match raw.read() {
            Got::Msg(h, body) if h.kind == Type::Reply => return (h.serial, body),
            Got::Msg(..) => {}
            Got::Closed => panic!("the daemon closed the connection"),
        }
    }
}

/// A python3-libvirt program (`tests/libvirt/resources.py`) resizes a
/// running Linux guest and reads its statistics with setMemoryFlags,
/// setMemory, setMaxMemory, setVcpusFlags, vcpusFlags, maxVcpus,
/// memoryStats, blockStats(Flags), interfaceStats, getCPUStats,
/// getAllDomainStats and domainListGetStats, and checks libvirt's error
/// codes for what is refused (the read-only socket included); then the
/// guest itself is looked at: it has the memory and the vCPU python gave
/// it, and the definition what python asked for it.
#[test]
fn a_python3_libvirt_program_resizes_a_guest() {
    let dir = TestDir::new("lvres-py");
    let daemon = Daemon::start(&dir.path, &["--read-only-socket"]);
    let qvirt = daemon.connect();
    let img = dir.path.join("py.img");
    let xml = resizable("lx-py", &disk(&img), "");
    let dom = qvirt.start(&qvirt.define_xml(&xml).unwrap()).unwrap();
    let mut g = Guest::open(&*qvirt, &dom);
    let before = g.mem_total();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/libvirt/resources.py");
    let out = Command::new(PYTHON)
        .arg(script)
        .arg(uri(&lv_socket(&dir.path)))
        .arg(uri(&lv_socket_ro(&dir.path)))
        .arg("lx-py")
        .output()
        .expect("run the python3-libvirt program");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("PY-RES-OK"),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The guest: 128 MiB less, and a second CPU it can bring online.
    wait_for("the guest to give memory to the balloon", BOOT, || {
        (g.mem_total() + 64 * 1024 < before).then_some(())
    });
    wait_for("the guest to see the new CPU", QUICK, || {
        (g.run("cat /sys/devices/system/cpu/present") == "0-1").then_some(())
    });
    g.run("echo 1 > /sys/devices/system/cpu/cpu1/online");
    assert_eq!(g.run("grep -c ^processor /proc/cpuinfo"), "2");
    // The definition: what python set with --config.
    let kept = DomainDef::from_xml(
        &qvirt
            .xml_desc(&dom, qvirt::driver::XmlFlags::INACTIVE)
            .unwrap(),
    )
    .unwrap();
    assert_eq!((kept.memory_kib, kept.vcpu.max), (512 * 1024, 4));
    let info = qvirt.info(&dom).unwrap();
    assert_eq!((info.memory_kib, info.vcpus), (128 * 1024, 2));
    qvirt.destroy(&dom).unwrap();
}
