//! A domain's I/O threads through libvirt's protocol, with unmodified
//! virsh 9.0 and python3-libvirt 9.0 against a `qvirtd --root DIR`:
//! `iothreadinfo` of a shut-off domain gives `<iothreads>` with
//! `<iothreadpin>` (else the host's online CPUs); of a running one, each
//! I/O thread QEMU runs with the CPUs the kernel lets its thread run on,
//! checked against `/proc/PID/task/TID/status` and followed after the
//! thread was pinned elsewhere behind qvirt's back (`taskset`); qvirt's
//! own `iothreadinfo` says the same. `iothreadadd`, `iothreaddel`,
//! `iothreadpin` and `iothreadset` change the running QEMU (its
//! `query-iothreads`, each thread's CPUs in the kernel, `qom-get` of the
//! object's settings) and the definition a next start runs, with
//! libvirt's refusals.

#[allow(dead_code, unused_imports)]
#[path = "daemon/support.rs"]
mod support;

#[path = "libvirt/lv.rs"]
mod lv;

use std::process::Command;

use lv::*;
use qvirt::model::parse_cpuset;
use support::*;

/// The `ID  CPUs` rows of virsh's `iothreadinfo`, by id (a running
/// domain's come in QEMU's order, as libvirt gives them).
fn rows(out: &str) -> Vec<(u32, Vec<u32>)> {
    let mut rows: Vec<(u32, Vec<u32>)> = out
        .lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            let id = w.next()?.parse().ok()?;
            Some((id, parse_cpuset(w.next()?)?))
        })
        .collect();
    rows.sort();
    rows
}

/// The host's online CPUs.
fn online() -> Vec<u32> {
    let text = std::fs::read_to_string("/sys/devices/system/cpu/online").unwrap();
    parse_cpuset(text.trim()).unwrap()
}

/// QEMU's I/O thread `iothreadN` threads (named `IO iothreadN` with
/// debug-threads) of process `pid`, with the CPUs the kernel allows each.
fn kernel_iothreads(pid: u32) -> Vec<(u32, u32, Vec<u32>)> {
    let mut found = Vec::new();
    for t in std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .flatten()
    {
        let tid: u32 = t.file_name().to_str().unwrap().parse().unwrap();
        let comm = std::fs::read_to_string(t.path().join("comm")).unwrap_or_default();
        let Some(n) = comm.trim().strip_prefix("IO iothread") else {
            continue;
        };
        let status = std::fs::read_to_string(t.path().join("status")).unwrap();
        let cpus = status
            .lines()
            .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
            .and_then(|v| parse_cpuset(v.trim()))
            .unwrap();
        found.push((n.parse().unwrap(), tid, cpus));
    }
    found.sort();
    found
}

#[test]
fn iothreadinfo_reads_the_definition_and_the_running_threads() {
    let all = online();
    let last = *all.last().unwrap();
    let dir = TestDir::new("lvthreads");
    let daemon = Daemon::start(&dir.path, &[]);
    let s = &lv_socket(&dir.path);
    let xml = firmware_vm("th").replace(
        "<os>",
        &format!(
            "<iothreads>2</iothreads><cputune><iothreadpin iothread='2' cpuset='{last}'/></cputune><os>"
        ),
    );
    virsh_define(s, &dir.path, "th.xml", &xml);

    // Shut off: the definition's.
    let want = vec![(1, all.clone()), (2, vec![last])];
    assert_eq!(rows(&virsh_ok(s, &["iothreadinfo", "th"])), want);
    let err = virsh_err(s, &["iothreadinfo", "th", "--live"]);
    assert!(err.contains("domain 'th' is not running"), "{err}");

    // Running: the kernel's, thread by thread.
    virsh_ok(s, &["start", "th"]);
    let pid = qemu_pid(&dir.path, "th") as u32;
    let kernel = kernel_iothreads(pid);
    assert_eq!(kernel.len(), 2, "{kernel:?}");
    assert_eq!(kernel[1].2, vec![last], "the pin was applied: {kernel:?}");
    let live: Vec<(u32, Vec<u32>)> = kernel.iter().map(|(n, _, c)| (*n, c.clone())).collect();
    assert_eq!(rows(&virsh_ok(s, &["iothreadinfo", "th"])), live);
    assert_eq!(
        rows(&virsh_ok(s, &["iothreadinfo", "th", "--config"])),
        want
    );

    // Pinned elsewhere behind qvirt's back: the live answer follows.
    let first = all[0];
    let out = Command::new("taskset")
        .args(["-pc", &first.to_string(), &kernel[0].1.to_string()])
        .output()
        .expect("run taskset");
    assert!(out.status.success(), "{out:?}");
    let rows_now = rows(&virsh_ok(s, &["iothreadinfo", "th", "--live"]));
    assert_eq!(rows_now, vec![(1, vec![first]), (2, vec![last])]);

    // python3-libvirt: the same, as maps of booleans.
    let script = "import libvirt, sys\n\
        c = libvirt.open(sys.argv[1])\n\
        d = c.lookupByName('th')\n\
        got = sorted((i, [n for n, b in enumerate(m) if b]) for i, m in d.ioThreadInfo(0))\n\
        print(got)\n";
    let out = Command::new(PYTHON)
        .args(["-c", script, &uri(s)])
        .output()
        .expect("run python3");
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("[(1, [{first}]), (2, [{last}])]")
    );
    // qvirt's own verb over qvirt's protocol says what virsh says.
    let out = Command::new(env!("CARGO_BIN_EXE_qvirt"))
        .args(["-c", &daemon.uri(), "iothreadinfo", "th"])
        .output()
        .expect("run qvirt");
    assert!(out.status.success(), "{out:?}");
    assert_eq!(rows(&String::from_utf8_lossy(&out.stdout)), rows_now);
    virsh_ok(s, &["destroy", "th"]);
}

/// QEMU's answer to QMP command `cmd` of domain `dom`, through virsh.
fn qmp(s: &std::path::Path, dom: &str, cmd: &str) -> serde_json::Value {
    let out = virsh_ok(s, &["qemu-monitor-command", dom, cmd]);
    serde_json::from_str::<serde_json::Value>(&out).unwrap()["return"].take()
}

/// The ids of QEMU's I/O thread objects (`iothreadN`), ascending.
fn qemu_iothreads(s: &std::path::Path, dom: &str) -> Vec<u32> {
    let v = qmp(s, dom, r#"{"execute":"query-iothreads"}"#);
    let mut ids: Vec<u32> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            t["id"].as_str().unwrap()["iothread".len()..]
                .parse()
                .unwrap()
        })
        .collect();
    ids.sort();
    ids
}

/// Property `prop` of I/O thread object `id`.
fn qom(s: &std::path::Path, dom: &str, id: u32, prop: &str) -> u64 {
    let cmd = format!(
        r#"{{"execute":"qom-get","arguments":{{"path":"/objects/iothread{id}","property":"{prop}"}}}}"#
    );
    qmp(s, dom, &cmd).as_u64().unwrap()
}

/// Runs python3-libvirt `body` with `d` the domain `io`; its output.
fn python(s: &std::path::Path, body: &str) -> String {
    let script = format!(
        "import libvirt, sys\nc = libvirt.open(sys.argv[1])\nd = c.lookupByName('io')\n{body}"
    );
    let out = Command::new(PYTHON)
        .args(["-c", &script, &uri(s)])
        .output()
        .expect("run python3");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn iothreads_are_added_pinned_tuned_and_removed_live_and_in_the_definition() {
    let all = online();
    let (first, last) = (all[0], *all.last().unwrap());
    let dir = TestDir::new("lviothreads");
    let daemon = Daemon::start(&dir.path, &[]);
    let s = &lv_socket(&dir.path);
    let image = write_file(&dir.path, "d.img", "");
    std::fs::OpenOptions::new()
        .write(true)
        .open(&image)
        .unwrap()
        .set_len(1 << 20)
        .unwrap();
    let disk = format!(
        "<disk type='file' device='disk'><driver name='qemu' type='raw' iothread='1'/>\
         <source file='{}'/><target dev='vda' bus='virtio'/></disk><interface",
        image.display()
    );
    let xml = firmware_vm("io")
        .replace("<os>", "<iothreads>1</iothreads><os>")
        .replacen("<interface", &disk, 1);
    virsh_define(s, &dir.path, "io.xml", &xml);
    virsh_ok(s, &["start", "io"]);
    assert_eq!(qemu_iothreads(s, "io"), vec![1]);

    // Added live: a new object and thread in QEMU, in the live XML only.
    virsh_ok(s, &["iothreadadd", "io", "3", "--live"]);
    assert_eq!(qemu_iothreads(s, "io"), vec![1, 3]);
    let pid = qemu_pid(&dir.path, "io") as u32;
    assert_eq!(kernel_iothreads(pid).len(), 2);
    let live = virsh_ok(s, &["dumpxml", "io"]);
    assert!(live.contains("<iothreads>2</iothreads>"), "{live}");
    assert!(live.contains("<iothread id='3'/>"), "{live}");
    let inactive = virsh_ok(s, &["dumpxml", "io", "--inactive"]);
    assert!(inactive.contains("<iothreads>1</iothreads>"), "{inactive}");
    let err = virsh_err(s, &["iothreadadd", "io", "3", "--live"]);
    assert!(
        err.contains("an IOThread is already using iothread_id '3'"),
        "{err}"
    );
    // virsh refuses id 0 itself; the daemon does too.
    let err = python(
        s,
        "try:\n  d.addIOThread(0, 0)\nexcept libvirt.libvirtError as e:\n  print(e)\n",
    );
    assert!(err.contains("invalid value of 0 for iothread_id"), "{err}");

    // Pinned live: the kernel lets the thread run there only.
    virsh_ok(s, &["iothreadpin", "io", "3", &last.to_string(), "--live"]);
    let kernel = kernel_iothreads(pid);
    assert_eq!(kernel.iter().find(|t| t.0 == 3).unwrap().2, vec![last]);
    let err = virsh_err(s, &["iothreadpin", "io", "9", "0", "--live"]);
    assert!(err.contains("iothread 9 not found"), "{err}");

    // Tuned live: QEMU's object has the values; polling has no place in
    // the definition.
    virsh_ok(
        s,
        &[
            "iothreadset",
            "io",
            "3",
            "--poll-max-ns",
            "32768",
            "--poll-grow",
            "3",
            "--thread-pool-max",
            "8",
            "--live",
        ],
    );
    assert_eq!(qom(s, "io", 3, "poll-max-ns"), 32768);
    assert_eq!(qom(s, "io", 3, "poll-grow"), 3);
    assert_eq!(qom(s, "io", 3, "thread-pool-max"), 8);
    let err = virsh_err(
        s,
        &["iothreadset", "io", "1", "--poll-max-ns", "1", "--config"],
    );
    assert!(
        err.contains("configuring persistent polling values is not supported"),
        "{err}"
    );
    let err = virsh_err(
        s,
        &[
            "iothreadset",
            "io",
            "3",
            "--thread-pool-min",
            "-1",
            "--live",
        ],
    );
    assert!(
        err.contains("must be equal to or greater than 0 for live change"),
        "{err}"
    );

    // Removed live; a thread a disk uses is refused, on both definitions.
    virsh_ok(s, &["iothreaddel", "io", "3", "--live"]);
    assert_eq!(qemu_iothreads(s, "io"), vec![1]);
    let err = virsh_err(s, &["iothreaddel", "io", "1", "--live", "--config"]);
    assert!(
        err.contains("cannot remove IOThread 1 since it is being used by disk 'vda'"),
        "{err}"
    );
    assert_eq!(qemu_iothreads(s, "io"), vec![1]);

    // python3-libvirt: the same calls, on the running QEMU.
    let live = libvirt_flags_live();
    python(s, &format!("d.addIOThread(7, {live})\n"));
    python(
        s,
        &format!(
            "d.pinIOThread(7, tuple(i == {first} for i in range({first} + 1)), {live})\nd.setIOThreadParams(7, {{'poll_shrink': 4}}, {live})\n"
        ),
    );
    assert_eq!(qemu_iothreads(s, "io"), vec![1, 7]);
    assert_eq!(qom(s, "io", 7, "poll-shrink"), 4);
    let kernel = kernel_iothreads(pid);
    assert_eq!(kernel.iter().find(|t| t.0 == 7).unwrap().2, vec![first]);

    // qvirt's own verbs, over libvirt's protocol and over qvirt's.
    let lv_uri = format!("qemu+unix:///session?socket={}&proto=libvirt", s.display());
    let qvirt_at = |uri: &str, args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_qvirt"))
            .args(["-c", uri])
            .args(args)
            .output()
            .expect("run qvirt");
        assert!(out.status.success(), "{out:?}");
    };
    qvirt_at(
        &lv_uri,
        &["iothreadset", "io", "7", "--poll-max-ns", "1000", "--live"],
    );
    assert_eq!(qom(s, "io", 7, "poll-max-ns"), 1000);
    let qvirt = |args: &[&str]| qvirt_at(&daemon.uri(), args);
    qvirt(&["iothreaddel", "io", "7", "--live"]);
    assert_eq!(qemu_iothreads(s, "io"), vec![1]);

    // In the definition: the next start runs the added, pinned thread.
    virsh_ok(s, &["iothreadadd", "io", "5", "--config"]);
    qvirt(&["iothreadpin", "io", "5", &last.to_string(), "--config"]);
    virsh_ok(
        s,
        &[
            "iothreadset",
            "io",
            "5",
            "--thread-pool-min",
            "2",
            "--thread-pool-max",
            "4",
            "--config",
        ],
    );
    let inactive = virsh_ok(s, &["dumpxml", "io", "--inactive"]);
    assert!(
        inactive.contains("<iothread id='5' thread_pool_min='2' thread_pool_max='4'/>"),
        "{inactive}"
    );
    assert!(
        inactive.contains(&format!("<iothreadpin iothread='5' cpuset='{last}'/>")),
        "{inactive}"
    );
    assert_eq!(
        qemu_iothreads(s, "io"),
        vec![1],
        "--config leaves QEMU alone"
    );
    virsh_ok(s, &["destroy", "io"]);
    virsh_ok(s, &["start", "io"]);
    assert_eq!(qemu_iothreads(s, "io"), vec![1, 5]);
    assert_eq!(qom(s, "io", 5, "thread-pool-min"), 2);
    assert_eq!(qom(s, "io", 5, "thread-pool-max"), 4);
    let pid = qemu_pid(&dir.path, "io") as u32;
    let kernel = kernel_iothreads(pid);
    assert_eq!(kernel.iter().find(|t| t.0 == 5).unwrap().2, vec![last]);
    virsh_ok(s, &["destroy", "io"]);
}

/// `VIR_DOMAIN_AFFECT_LIVE`.
fn libvirt_flags_live() -> &'static str {
    "libvirt.VIR_DOMAIN_AFFECT_LIVE"
}
