//! Real libvirt clients (Debian's virsh and python3-libvirt 9.0,
//! unmodified) ask a real qvirtd's libvirt socket where a domain's vCPUs
//! run and what CPUs and memory the host has: `vcpuinfo` (shut off, from
//! the pinning of the definition; running, each vCPU's host thread as the
//! kernel sees it), `vcpupin` and `emulatorpin` without a new pinning,
//! `nodecpumap`, `freecell`, and python3-libvirt's `vcpus()`,
//! `vcpuPinInfo()`, `getCPUMap()` and `getFreeMemory()`, and the host's
//! `nodecpustats` and `nodememstats`. Each answer is
//! checked against the kernel (`/proc/TID/status`, `/proc/TID/stat`,
//! `/sys/devices/system/cpu`, `/proc/meminfo`), and a recording proxy
//! checks which of libvirt's calls virsh made. And `dommemstat
//! --period` (python3-libvirt's `setMemoryStatsPeriod`) sets how often
//! the guest's balloon reports, checked in QEMU (`qom-get`) and in the
//! definition. `vcpupin` and `emulatorpin` with a CPU list (and
//! python3-libvirt's `pinVcpuFlags`, `pinEmulator`, qvirt's own verbs)
//! pin the running threads, checked in the kernel, and the definition.

#[allow(dead_code, unused_imports)]
#[path = "daemon/support.rs"]
mod support;

#[path = "libvirt/lv.rs"]
mod lv;

use std::collections::BTreeMap;
use std::process::Command;

use lv::*;
use qvirt::model::parse_cpuset;
use support::*;

/// libvirt's procedure numbers virsh is expected to call.
const GET_VCPUS: i32 = 20;
const GET_VCPU_PIN_INFO: i32 = 230;
const GET_EMULATOR_PIN_INFO: i32 = 280;
const NODE_GET_CPU_MAP: i32 = 293;
const NODE_GET_FREE_MEMORY: i32 = 102;
const SET_MEMORY_STATS_PERIOD: i32 = 308;
const NODE_GET_CPU_STATS: i32 = 227;
const GET_CONTROL_INFO: i32 = 229;

/// The CPUs the kernel lists in `/sys/devices/system/cpu/FILE`.
fn sys_cpus(file: &str) -> Vec<u32> {
    let text = std::fs::read_to_string(format!("/sys/devices/system/cpu/{file}")).unwrap();
    parse_cpuset(text.trim()).unwrap()
}

/// virsh's map of `cpus` among `count` host CPUs (`y-y`).
fn yn(cpus: &[u32], count: u32) -> String {
    (0..count)
        .map(|c| if cpus.contains(&c) { 'y' } else { '-' })
        .collect()
}

/// The CPUs thread `tid` may run on (`Cpus_allowed_list`).
fn allowed(tid: i32) -> Vec<u32> {
    let status = std::fs::read_to_string(format!("/proc/{tid}/status")).unwrap();
    let list = status
        .lines()
        .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
        .unwrap();
    parse_cpuset(list.trim()).unwrap()
}

/// The host threads of `dom`'s vCPUs, by vCPU, as qvirt's statistics
/// name them.
fn vcpu_threads(qvirt: &dyn qvirt::Driver, dom: &qvirt::Domain) -> Vec<i32> {
    let stats = qvirt.stats(dom).unwrap();
    stats.vcpus.iter().map(|v| v.thread_id).collect()
}

/// `virsh vcpuinfo`'s blocks: vCPU number -> its `Key: value` lines.
fn vcpuinfo(text: &str) -> BTreeMap<u32, BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for block in text.split("\n\n").filter(|b| !b.trim().is_empty()) {
        let fields: BTreeMap<String, String> = block
            .lines()
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect();
        out.insert(fields["VCPU"].parse().unwrap(), fields);
    }
    out
}

/// `VCPU  CPU Affinity` rows of `virsh vcpupin`.
fn pin_table(text: &str) -> BTreeMap<u32, Vec<u32>> {
    text.lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            let v = w.next()?.parse().ok()?;
            Some((v, parse_cpuset(w.next()?)?))
        })
        .collect()
}

#[test]
fn virsh_and_python_see_where_the_vcpus_run() {
    let dir = TestDir::new("lv-vcpus");
    let daemon = Daemon::start(&dir.path, &[]);
    let qvirt = daemon.connect();
    let rec = Recorder::new(&dir.path.join("rec.sock"), &lv_socket(&dir.path));
    let s = rec.socket.clone();
    let online = sys_cpus("online");
    let count = sys_cpus("present").last().unwrap() + 1;
    // vCPU 0 on the first CPU (`<vcpu cpuset>`), vCPU 1 and QEMU's own
    // threads on the last one.
    let (first, last) = (online[0], *online.last().unwrap());
    let xml = format!(
        "<domain type='qemu'><name>vc</name><memory unit='MiB'>64</memory>\
         <vcpu cpuset='{first}'>2</vcpu><cputune><vcpupin vcpu='1' cpuset='{last}'/>\
         <emulatorpin cpuset='{last}'/></cputune>\
         <os><type arch='x86_64' machine='pc'>hvm</type></os>\
         <devices><memballoon model='none'/></devices></domain>"
    );
    let f = write_file(&dir.path, "vc.xml", &xml);
    virsh_ok(&s, &["define", f.to_str().unwrap()]);

    // Shut off: virsh's vcpuinfo falls back to the definition's pinning.
    rec.take();
    let info = vcpuinfo(&virsh_ok(&s, &["vcpuinfo", "vc"]));
    let calls = rec.take();
    assert!(
        calls.contains(&GET_VCPUS) && calls.contains(&GET_VCPU_PIN_INFO),
        "{calls:?}"
    );
    assert_eq!(info[&0]["CPU Affinity"], yn(&[first], count));
    assert_eq!(info[&1]["CPU Affinity"], yn(&[last], count));
    assert_eq!(info[&0]["State"], "N/A");
    let pins = pin_table(&virsh_ok(&s, &["vcpupin", "vc", "--config"]));
    assert_eq!(pins, BTreeMap::from([(0, vec![first]), (1, vec![last])]));
    let emu = virsh_ok(&s, &["emulatorpin", "vc", "--config"]);
    assert!(emu.contains(&format!("*: {last}")), "{emu}");
    assert!(rec.take().contains(&GET_EMULATOR_PIN_INFO));

    // Running: each vCPU's thread, as the kernel has it.
    virsh_ok(&s, &["start", "vc"]);
    let dom = qvirt.lookup_by_name("vc").unwrap();
    let threads = vcpu_threads(&*qvirt, &dom);
    assert_eq!(threads.len(), 2);
    let info = vcpuinfo(&virsh_ok(&s, &["vcpuinfo", "vc"]));
    for (v, tid) in threads.iter().enumerate() {
        let i = &info[&(v as u32)];
        assert_eq!(i["State"], "running", "{i:?}");
        assert_eq!(i["CPU Affinity"], yn(&allowed(*tid), count), "vCPU {v}");
        let cpu: u32 = i["CPU"].parse().unwrap();
        assert!(online.contains(&cpu), "vCPU {v} last ran on CPU {cpu}");
    }
    assert_eq!(allowed(threads[0]), vec![first], "qvirt pinned vCPU 0");
    assert_eq!(allowed(threads[1]), vec![last], "qvirt pinned vCPU 1");
    let pins = pin_table(&virsh_ok(&s, &["vcpupin", "vc"]));
    assert_eq!(pins, BTreeMap::from([(0, vec![first]), (1, vec![last])]));

    // The host's CPUs and free memory.
    rec.take();
    let map = virsh_ok(&s, &["nodecpumap"]);
    assert!(map.contains(&format!("CPUs present:   {count}")), "{map}");
    assert!(
        map.contains(&format!("CPUs online:    {}", online.len())),
        "{map}"
    );
    assert!(
        map.contains(&format!("CPU map:        {}", yn(&online, count))),
        "{map}"
    );
    let free = virsh_ok(&s, &["freecell"]);
    let calls = rec.take();
    assert!(
        calls.contains(&NODE_GET_CPU_MAP) && calls.contains(&NODE_GET_FREE_MEMORY),
        "{calls:?}"
    );
    let kib: i64 = free
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{free}"));
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap();
    let mem_free: i64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemFree:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap();
    assert!(
        (kib - mem_free).abs() < 512 * 1024,
        "{kib} KiB against {mem_free} KiB"
    );
    // nodememstats: /proc/meminfo's figures; nodecpustats: /proc/stat's
    // ticks as nanoseconds, between a reading before and one after.
    let mem = virsh_ok(&s, &["nodememstats"]);
    let total_kib = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.split_whitespace().next())
        .unwrap();
    assert!(
        mem.lines()
            .any(|l| l.starts_with("total") && l.ends_with(&format!(" {total_kib} KiB"))),
        "{mem} against {total_kib} KiB"
    );
    let hz: u64 = String::from_utf8(
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap()
    .trim()
    .parse()
    .unwrap();
    let idle = || -> u64 {
        let stat = std::fs::read_to_string("/proc/stat").unwrap();
        let ticks: u64 = stat
            .lines()
            .next()
            .unwrap()
            .split_whitespace()
            .nth(4)
            .unwrap()
            .parse()
            .unwrap();
        ticks * (1_000_000_000 / hz)
    };
    let before = idle();
    let cpu = virsh_ok(&s, &["nodecpustats"]);
    let after = idle();
    let said: u64 = cpu
        .lines()
        .find_map(|l| l.strip_prefix("idle:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("{cpu}"));
    assert!(
        before <= said && said <= after,
        "{before} <= {said} <= {after}"
    );
    assert!(rec.take().contains(&NODE_GET_CPU_STATS));

    // python3-libvirt, the same answers.
    let script = format!(
        "import libvirt, json\n\
         c = libvirt.open('{}')\n\
         d = c.lookupByName('vc')\n\
         info, maps = d.vcpus()\n\
         print(json.dumps({{'info': info, 'maps': maps, 'pins': d.vcpuPinInfo(0),\n\
           'cpumap': c.getCPUMap(), 'free': c.getFreeMemory()}}))\n",
        uri(&lv_socket(&dir.path))
    );
    let out = Command::new("/usr/bin/python3")
        .args(["-c", &script])
        .output()
        .expect("python3-libvirt");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for (i, tid) in threads.iter().enumerate() {
        assert_eq!(v["info"][i][0], i as u64, "{v}");
        assert_eq!(v["info"][i][1], 1, "running: {v}");
        let may: Vec<u32> = v["maps"][i]
            .as_array()
            .unwrap()
            .iter()
            .enumerate()
            .filter(|(_, b)| b.as_bool() == Some(true))
            .map(|(c, _)| c as u32)
            .collect();
        assert_eq!(may, allowed(*tid), "{v}");
    }
    assert_eq!(v["cpumap"][0], count, "{v}");
    assert_eq!(v["cpumap"][2], online.len() as u64, "{v}");
    assert!(v["free"].as_u64().unwrap() > 0, "{v}");
    virsh_ok(&s, &["destroy", "vc"]);
}

#[test]
fn virsh_and_python_set_the_balloons_statistics_period() {
    let dir = TestDir::new("lv-period");
    let daemon = Daemon::start(&dir.path, &[]);
    let qvirt = daemon.connect();
    let rec = Recorder::new(&dir.path.join("rec.sock"), &lv_socket(&dir.path));
    let s = rec.socket.clone();
    let xml = "<domain type='qemu'><name>bp</name><memory unit='MiB'>64</memory>\
               <os><type arch='x86_64' machine='pc'>hvm</type></os>\
               <devices><memballoon model='virtio'/></devices></domain>";
    let f = write_file(&dir.path, "bp.xml", xml);
    virsh_ok(&s, &["define", f.to_str().unwrap()]);
    virsh_ok(&s, &["start", "bp"]);
    let dom = qvirt.lookup_by_name("bp").unwrap();
    let polling = || -> u64 {
        let answer = qvirt
            .qemu_monitor_command(
                &dom,
                r#"{"execute":"qom-get","arguments":{"path":"/machine/peripheral/balloon0","property":"guest-stats-polling-interval"}}"#,
            )
            .unwrap();
        let v: serde_json::Value = serde_json::from_str(&answer).unwrap();
        v["return"].as_u64().unwrap()
    };
    rec.take();
    virsh_ok(&s, &["dommemstat", "bp", "--period", "4", "--live"]);
    assert!(rec.take().contains(&SET_MEMORY_STATS_PERIOD));
    assert_eq!(polling(), 4);
    virsh_ok(&s, &["dommemstat", "bp", "--period", "6", "--config"]);
    assert_eq!(polling(), 4);
    let inactive = virsh_ok(&s, &["dumpxml", "bp", "--inactive"]);
    assert!(inactive.contains("<stats period='6'/>"), "{inactive}");
    let live = virsh_ok(&s, &["dumpxml", "bp"]);
    assert!(live.contains("<stats period='4'/>"), "{live}");
    let err = virsh_err(&s, &["dommemstat", "bp", "--period", "-1"]);
    assert!(err.contains("period"), "{err}");
    let script = format!(
        "import libvirt\n\
         d = libvirt.open('{}').lookupByName('bp')\n\
         d.setMemoryStatsPeriod(3, libvirt.VIR_DOMAIN_AFFECT_LIVE)\n",
        uri(&lv_socket(&dir.path))
    );
    let out = Command::new("/usr/bin/python3")
        .args(["-c", &script])
        .output()
        .expect("python3-libvirt");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(polling(), 3);
    // domcontrol: no long job holds the running domain; a shut-off one
    // has no control interface.
    rec.take();
    assert_eq!(virsh_ok(&s, &["domcontrol", "bp"]).trim(), "ok");
    assert!(rec.take().contains(&GET_CONTROL_INFO));
    virsh_ok(&s, &["destroy", "bp"]);
    let err = virsh_err(&s, &["domcontrol", "bp"]);
    assert!(err.contains("not running"), "{err}");
}

/// `qvirt -c URI ARGS...`, which must succeed.
fn qvirt_ok(uri: &str, args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_qvirt"))
        .arg("-c")
        .arg(uri)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "qvirt {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn virsh_python_and_qvirt_pin_vcpus_and_the_emulator() {
    let online = sys_cpus("online");
    assert!(
        online.len() >= 2,
        "pins can be told apart on two host CPUs or more; this host has {online:?}"
    );
    let (first, last) = (online[0], *online.last().unwrap());
    let all: Vec<u32> = online.clone();
    let dir = TestDir::new("lv-pins");
    let daemon = Daemon::start(&dir.path, &[]);
    let qvirt = daemon.connect();
    let s = lv_socket(&dir.path);
    let xml = "<domain type='qemu'><name>vp</name><memory unit='MiB'>64</memory>\
               <vcpu current='2'>3</vcpu><os><type arch='x86_64' machine='pc'>hvm</type></os>\
               <devices><memballoon model='none'/></devices></domain>";
    let f = write_file(&dir.path, "vp.xml", xml);
    virsh_ok(&s, &["define", f.to_str().unwrap()]);
    virsh_ok(&s, &["start", "vp"]);
    let dom = qvirt.lookup_by_name("vp").unwrap();
    let threads = vcpu_threads(&*qvirt, &dom);
    let pid = qemu_pid(&dir.path, "vp");
    assert_eq!(allowed(threads[1]), all, "unpinned at first");

    // virsh, live (the default on a running domain): the thread moves,
    // the live definition says so, the persistent one does not.
    virsh_ok(&s, &["vcpupin", "vp", "1", &last.to_string()]);
    assert_eq!(allowed(threads[1]), vec![last], "vCPU 1's thread");
    assert_eq!(allowed(threads[0]), all, "vCPU 0 untouched");
    let pins = pin_table(&virsh_ok(&s, &["vcpupin", "vp"]));
    assert_eq!(pins[&1], vec![last]);
    let live = virsh_ok(&s, &["dumpxml", "vp"]);
    assert!(
        live.contains(&format!("<vcpupin vcpu='1' cpuset='{last}'/>")),
        "{live}"
    );
    let inactive = virsh_ok(&s, &["dumpxml", "--inactive", "vp"]);
    assert!(!inactive.contains("<vcpupin"), "{inactive}");
    // emulatorpin: QEMU's main thread moves, the vCPUs do not.
    virsh_ok(&s, &["emulatorpin", "vp", &first.to_string()]);
    assert_eq!(allowed(pid), vec![first], "QEMU's main thread");
    assert_eq!(allowed(threads[1]), vec![last], "vCPU 1 stays");
    let emu = virsh_ok(&s, &["emulatorpin", "vp"]);
    assert!(emu.contains(&format!("*: {first}")), "{emu}");
    // Refusals, with libvirt's words; nothing changes.
    let err = virsh_err(&s, &["vcpupin", "vp", "3", "0"]);
    assert!(
        err.contains("vcpu 3 is out of range of live cpu count 3"),
        "{err}"
    );
    assert_eq!(allowed(threads[1]), vec![last]);

    // python3-libvirt: both definitions at once, and an empty map.
    let out = python(
        &s,
        "vp",
        &format!(
            "flags = libvirt.VIR_DOMAIN_AFFECT_LIVE | libvirt.VIR_DOMAIN_AFFECT_CONFIG\n\
             cpus = conn.getCPUMap()[0]\n\
             dom.pinVcpuFlags(0, tuple(c == {last} for c in range(cpus)), flags)\n\
             dom.pinEmulator(tuple(c == {last} for c in range(cpus)), libvirt.VIR_DOMAIN_AFFECT_CONFIG)\n\
             try:\n\
             \x20   dom.pinVcpuFlags(1, tuple(False for c in range(cpus)), 0)\n\
             \x20   raise SystemExit('an empty map was taken')\n\
             except libvirt.libvirtError as e:\n\
             \x20   assert e.get_error_code() == libvirt.VIR_ERR_INVALID_ARG, e\n\
             \x20   assert 'Empty cpu list for pinning' in e.get_error_message(), e\n\
             print('PY-PINNED')\n"
        ),
    );
    assert!(out.contains("PY-PINNED"), "{out}");
    assert_eq!(allowed(threads[0]), vec![last], "vCPU 0, live");
    assert_eq!(
        allowed(pid),
        vec![first],
        "the emulator's pin was --config only"
    );
    let inactive = virsh_ok(&s, &["dumpxml", "--inactive", "vp"]);
    assert!(
        inactive.contains(&format!("<vcpupin vcpu='0' cpuset='{last}'/>"))
            && inactive.contains(&format!("<emulatorpin cpuset='{last}'/>")),
        "{inactive}"
    );

    // qvirt's own verbs, in the definition; the next start applies it all.
    qvirt_ok(
        &daemon.uri(),
        &["vcpupin", "vp", "1", &first.to_string(), "--config"],
    );
    virsh_ok(&s, &["destroy", "vp"]);
    virsh_ok(&s, &["start", "vp"]);
    let threads = vcpu_threads(&*qvirt, &dom);
    let pid = qemu_pid(&dir.path, "vp");
    assert_eq!(
        allowed(threads[0]),
        vec![last],
        "vCPU 0 from the definition"
    );
    assert_eq!(
        allowed(threads[1]),
        vec![first],
        "vCPU 1 from the definition"
    );
    assert_eq!(allowed(pid), vec![last], "the emulator from the definition");
    qvirt_ok(&daemon.uri(), &["emulatorpin", "vp", &all_list(&all)]);
    assert_eq!(allowed(pid), all, "qvirt emulatorpin, live");
    // An offline vCPU's pin waits for it: plugged in, its new thread
    // (born of QEMU's, which may run anywhere) is pinned.
    virsh_ok(&s, &["vcpupin", "vp", "2", &first.to_string()]);
    virsh_ok(&s, &["setvcpus", "vp", "3", "--live"]);
    let threads = vcpu_threads(&*qvirt, &dom);
    assert_eq!(threads.len(), 3, "{threads:?}");
    assert_eq!(allowed(threads[2]), vec![first], "the plugged vCPU 2");
    virsh_ok(&s, &["destroy", "vp"]);
}

/// `0,1,...` of `cpus`.
fn all_list(cpus: &[u32]) -> String {
    cpus.iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(",")
}
