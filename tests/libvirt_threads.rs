//! A domain's I/O threads through libvirt's protocol, with unmodified
//! virsh 9.0 and python3-libvirt 9.0 against a `qvirtd --root DIR`:
//! `iothreadinfo` of a shut-off domain gives `<iothreads>` with
//! `<iothreadpin>` (else the host's online CPUs); of a running one, each
//! I/O thread QEMU runs with the CPUs the kernel lets its thread run on,
//! checked against `/proc/PID/task/TID/status` and followed after the
//! thread was pinned elsewhere behind qvirt's back (`taskset`); qvirt's
//! own `iothreadinfo` says the same.

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
    let file = write_file(&dir.path, "th.xml", &xml);
    virsh_ok(s, &["define", file.to_str().unwrap()]);

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
