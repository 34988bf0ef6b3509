//! The power users' XML on a running QEMU: `<cputune>` pins seen through
//! `query-cpus-fast`/`query-iothreads` and the threads' affinity, its
//! shares and quota in the domain's CPU cgroup, `<memoryBacking>` in
//! `query-memdev`, `<qemu:commandline>` in QEMU's argv, environment and
//! device tree, a network disk served by `qemu-nbd` in `query-block`,
//! and a host PCI device that is not there stopping the start before
//! QEMU runs.

use std::path::Path;

use nix::sched::{CpuSet, sched_getaffinity};
use nix::unistd::Pid;
use serde_json::json;

use crate::support::{Nbd, State, firmware_vm, poll, qemus_under};

/// The CPUs a thread may run on.
fn affinity(tid: i32) -> Vec<usize> {
    let set = sched_getaffinity(Pid::from_raw(tid)).unwrap();
    (0..CpuSet::count())
        .filter(|c| set.is_set(*c).unwrap_or(false))
        .collect()
}

/// Two CPUs this test may use, or a panic saying why pinning cannot be
/// seen.
fn two_cpus() -> (usize, usize) {
    let mine = affinity(0);
    assert!(
        mine.len() >= 2,
        "pinning can only be seen with two CPUs or more; this test process may use {mine:?}"
    );
    (mine[0], mine[mine.len() - 1])
}

/// `<vcpupin>`, `<iothreadpin>` and `<emulatorpin>` pin the threads QEMU
/// names for them, each to its own CPUs.
#[test]
fn cputune_pins_vcpu_io_and_emulator_threads() {
    let (a, b) = two_cpus();
    let st = State::new("cputune-pin");
    st.start(&firmware_vm(
        "pin",
        &format!(
            "<vcpu placement='static'>2</vcpu>
  <iothreads>1</iothreads>
  <cputune>
    <vcpupin vcpu='0' cpuset='{a}'/>
    <vcpupin vcpu='1' cpuset='{b}'/>
    <emulatorpin cpuset='{b}'/>
    <iothreadpin iothread='1' cpuset='{a}'/>
  </cputune>"
        ),
        "",
    ));
    let mut qmp = st.qmp("pin");
    let vcpus = qmp.exec("query-cpus-fast", json!({}));
    let vcpus = vcpus.as_array().unwrap();
    assert_eq!(vcpus.len(), 2, "{vcpus:?}");
    let mut special = Vec::new();
    for v in vcpus {
        let tid = v["thread-id"].as_i64().unwrap() as i32;
        let want = if v["cpu-index"] == 0 { a } else { b };
        assert_eq!(affinity(tid), [want], "vCPU {}", v["cpu-index"]);
        special.push(tid);
    }
    let io = qmp.exec("query-iothreads", json!({}));
    let io = io.as_array().unwrap();
    assert_eq!(io.len(), 1, "one I/O thread: {io:?}");
    assert_eq!(io[0]["id"], "iothread1");
    let tid = io[0]["thread-id"].as_i64().unwrap() as i32;
    assert_eq!(affinity(tid), [a], "the I/O thread");
    special.push(tid);
    let pid = st.qemu_pid("pin");
    let emulator: Vec<i32> = std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .flatten()
        .filter_map(|t| t.file_name().to_str()?.parse().ok())
        .filter(|t| !special.contains(t))
        .collect();
    assert!(
        emulator.contains(&pid),
        "the main thread is an emulator thread"
    );
    for tid in emulator {
        assert_eq!(affinity(tid), [b], "emulator thread {tid}");
    }
    drop(qmp);
    st.stop("pin");
}

/// A thread's scheduling policy and real-time priority, from its
/// `/proc` stat (fields 41 and 40, after the command name).
fn policy(pid: i32, tid: i32) -> (u32, u32) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/stat")).unwrap();
    let rest: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
    // `rest` starts at field 3 (the state).
    (rest[41 - 3].parse().unwrap(), rest[40 - 3].parse().unwrap())
}

/// `<vcpusched>`, `<iothreadsched>` and `<emulatorsched>`: each vCPU, the
/// I/O thread and the other threads of QEMU run under their policy
/// (SCHED_RR with its priority, SCHED_IDLE, SCHED_FIFO, SCHED_BATCH),
/// set before the guest runs. Real-time policies need the daemon's
/// privilege: the test runs as root.
#[test]
fn cputune_schedulers_reach_the_threads() {
    assert!(
        nix::unistd::geteuid().is_root(),
        "real-time scheduling needs root (CAP_SYS_NICE); run the suite as root"
    );
    let st = State::new("cputune-sched");
    st.start(&firmware_vm(
        "sched",
        "<vcpu placement='static'>2</vcpu>
  <iothreads>1</iothreads>
  <cputune>
    <vcpusched vcpus='0' scheduler='rr' priority='7'/>
    <vcpusched vcpus='1' scheduler='idle'/>
    <iothreadsched iothreads='1' scheduler='fifo' priority='3'/>
    <emulatorsched scheduler='batch'/>
  </cputune>",
        "",
    ));
    let pid = st.qemu_pid("sched");
    let mut qmp = st.qmp("sched");
    let vcpus = qmp.exec("query-cpus-fast", json!({}));
    for v in vcpus.as_array().unwrap() {
        let tid = v["thread-id"].as_i64().unwrap() as i32;
        let want = if v["cpu-index"] == 0 { (2, 7) } else { (5, 0) };
        assert_eq!(
            policy(pid, tid),
            want,
            "vCPU {}: (SCHED_*, priority)",
            v["cpu-index"]
        );
    }
    let io = qmp.exec("query-iothreads", json!({}));
    let tid = io[0]["thread-id"].as_i64().unwrap() as i32;
    assert_eq!(policy(pid, tid), (1, 3), "the I/O thread: SCHED_FIFO 3");
    drop(qmp);
    assert_eq!(policy(pid, pid), (3, 0), "the main thread: SCHED_BATCH");
    st.stop("sched");
}

/// `<iothreadids>` names the I/O threads (ids 2 and 5, and one more to
/// make `<iothreads>` 3); a virtio-scsi controller's `<driver iothread>`
/// puts it on one of them, and `<iothreadpin>` finds it by its id.
#[test]
fn iothread_ids_and_a_scsi_controller_on_one() {
    let (a, _) = two_cpus();
    let st = State::new("iothreadids");
    let image = st.root().join("disk.raw");
    std::fs::write(&image, vec![0u8; 1 << 20]).unwrap();
    st.start(&firmware_vm(
        "ioids",
        &format!(
            "<iothreads>3</iothreads>
  <iothreadids><iothread id='2'/><iothread id='5'/></iothreadids>
  <cputune><iothreadpin iothread='5' cpuset='{a}'/></cputune>"
        ),
        &format!(
            "<controller type='scsi' index='0' model='virtio-scsi'><driver queues='2' iothread='5'/></controller>
    <disk type='file' device='disk'><driver name='qemu' type='raw' iothread='2' queues='2' queue_size='128' error_policy='stop' rerror_policy='report'/>
      <source file='{}'/><target dev='vda' bus='virtio'/></disk>",
            image.display()
        ),
    ));
    let mut qmp = st.qmp("ioids");
    let io = qmp.exec("query-iothreads", json!({}));
    let mut ids: Vec<&str> = io
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    ids.sort();
    assert_eq!(ids, ["iothread1", "iothread2", "iothread5"]);
    let five = io
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == "iothread5")
        .unwrap();
    assert_eq!(affinity(five["thread-id"].as_i64().unwrap() as i32), [a]);
    assert_eq!(
        qmp.qom_get("/machine/peripheral/scsi0", "iothread"),
        "/objects/iothread5"
    );
    // A virtio disk's queues, their size and its I/O thread.
    assert_eq!(
        qmp.qom_get("/machine/peripheral/virtio-disk0", "num-queues"),
        2
    );
    assert_eq!(
        qmp.qom_get("/machine/peripheral/virtio-disk0", "queue-size"),
        128
    );
    assert_eq!(
        qmp.qom_get("/machine/peripheral/virtio-disk0", "iothread"),
        "/objects/iothread2"
    );
    assert_eq!(
        qmp.qom_get("/machine/peripheral/virtio-disk0", "werror"),
        "stop"
    );
    assert_eq!(
        qmp.qom_get("/machine/peripheral/virtio-disk0", "rerror"),
        "report"
    );
    drop(qmp);
    st.stop("ioids");
}

/// The cgroup that run `name` recorded in its runtime directory's `file`
/// (`cpu-cgroup`, `memory-cgroup`, `blkio-cgroup`), checked to hold its
/// QEMU: `/proc/PID/cgroup` names it.
fn domain_group(st: &State, name: &str, file: &str) -> std::path::PathBuf {
    let recorded = std::fs::read_to_string(st.run_dir(name).join(file)).unwrap();
    let group = std::path::PathBuf::from(recorded.trim());
    let pid = st.qemu_pid(name);
    let own = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    let leaf = group.file_name().unwrap().to_str().unwrap();
    assert!(
        own.lines().any(|l| l.ends_with(leaf)),
        "QEMU is in {own}, not in {}",
        group.display()
    );
    group
}

/// The content of `group`'s file `f`, trimmed.
fn read_in(group: &std::path::Path, f: &str) -> String {
    std::fs::read_to_string(group.join(f))
        .unwrap_or_else(|e| panic!("{}: {e}", group.join(f).display()))
        .trim()
        .to_string()
}

/// The cgroup a thread is in for the CPU controller (v1 `cpu`, else v2).
fn cpu_cgroup(pid: i32, tid: i32) -> String {
    let text = std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/cgroup")).unwrap();
    text.lines()
        .find_map(|l| {
            let mut p = l.splitn(3, ':');
            let (_, c, path) = (p.next()?, p.next()?, p.next()?);
            c.split(',').any(|c| c == "cpu").then(|| path.to_string())
        })
        .or_else(|| {
            text.lines()
                .find_map(|l| l.strip_prefix("0::").map(str::to_string))
        })
        .unwrap()
}

/// The thread id of I/O thread `iothread1` of `name`'s QEMU.
fn qmp_iothread(st: &State, name: &str) -> i32 {
    let mut qmp = st.qmp(name);
    let threads = qmp.exec("query-iothreads", json!({}));
    threads[0]["thread-id"].as_i64().unwrap() as i32
}

/// `<shares>`, `<period>` and `<quota>` are written to a CPU cgroup of
/// the domain's own: the weight and the `global_*` limits on the
/// domain's group, the CFS limits on a group per vCPU and per I/O thread
/// holding its thread. The group goes with the run.
#[test]
fn cputune_shares_and_quota_reach_the_cpu_cgroup() {
    let st = State::new("cputune-cgroup");
    let xml = firmware_vm(
        "cg",
        "<vcpu placement='static'>1</vcpu><iothreads>1</iothreads>
  <cputune><shares>512</shares><period>100000</period><quota>50000</quota>
  <global_period>100000</global_period><global_quota>80000</global_quota>
  <iothread_period>100000</iothread_period><iothread_quota>30000</iothread_quota></cputune>",
        "",
    );
    if let Err(e) = st.try_start(&xml) {
        // Only a host without a CPU controller may refuse, saying so.
        let v1 = std::path::Path::new("/sys/fs/cgroup/cpu/cgroup.procs").exists();
        let v2 = std::fs::read_to_string("/sys/fs/cgroup/cgroup.controllers")
            .is_ok_and(|c| c.split_whitespace().any(|c| c == "cpu"));
        assert!(!v1 && !v2, "this host has a CPU controller, yet: {e}");
        assert_eq!(e.code, qvirt::ErrorCode::NoSupport, "{e}");
        assert!(e.message.contains("cgroup"), "{e}");
        assert!(qemus_under(st.root()).is_empty(), "a QEMU was left running");
        return;
    }
    let pid = st.qemu_pid("cg");
    let group = domain_group(&st, "cg", "cpu-cgroup");
    let v2 = !group.join("cpu.shares").exists();
    let read = |f: &str| read_in(&group, f);
    assert_eq!(read(if v2 { "cpu.weight" } else { "cpu.shares" }), "512");
    let mut qmp = st.qmp("cg");
    let vcpus = qmp.exec("query-cpus-fast", json!({}));
    let tid = vcpus[0]["thread-id"].as_i64().unwrap() as i32;
    drop(qmp);
    assert!(
        cpu_cgroup(pid, tid).ends_with("/vcpu0"),
        "{}",
        cpu_cgroup(pid, tid)
    );
    if v2 {
        assert_eq!(read("vcpu0/cpu.max"), "50000 100000");
        assert_eq!(read("cpu.max"), "80000 100000", "<global_quota>");
        assert_eq!(
            read("iothread1/cpu.max"),
            "30000 100000",
            "<iothread_quota>"
        );
    } else {
        assert_eq!(read("vcpu0/cpu.cfs_quota_us"), "50000");
        assert_eq!(read("vcpu0/cpu.cfs_period_us"), "100000");
        assert_eq!(read("cpu.cfs_quota_us"), "80000", "<global_quota>");
        assert_eq!(
            read("iothread1/cpu.cfs_quota_us"),
            "30000",
            "<iothread_quota>"
        );
    }
    let iothread = qmp_iothread(&st, "cg");
    assert!(
        cpu_cgroup(pid, iothread).ends_with("/iothread1"),
        "{}",
        cpu_cgroup(pid, iothread)
    );
    st.stop("cg");
    assert!(!group.exists(), "{} outlived the run", group.display());
}

/// `<memtune>` puts QEMU in a memory cgroup of the domain's own with its
/// limits (cgroup v1: `memory.limit_in_bytes`, `soft_limit_in_bytes`,
/// `memsw.limit_in_bytes`; v2: `memory.max`, `memory.high`,
/// `memory.swap.max`), which goes with the run.
#[test]
fn memtune_limits_reach_the_memory_cgroup() {
    let st = State::new("memtune");
    let xml = firmware_vm(
        "mt",
        "<memtune><hard_limit unit='MiB'>200</hard_limit><soft_limit unit='MiB'>150</soft_limit>\
         <swap_hard_limit unit='MiB'>300</swap_hard_limit></memtune>",
        "",
    );
    let v1 = std::path::Path::new("/sys/fs/cgroup/memory/cgroup.procs").exists();
    if let Err(e) = st.try_start(&xml) {
        let v2 = std::fs::read_to_string("/sys/fs/cgroup/cgroup.controllers")
            .is_ok_and(|c| c.split_whitespace().any(|c| c == "memory"));
        assert!(!v1 && !v2, "this host has a memory controller, yet: {e}");
        assert_eq!(e.code, qvirt::ErrorCode::NoSupport, "{e}");
        assert!(e.message.contains("memory cgroup"), "{e}");
        assert!(qemus_under(st.root()).is_empty(), "a QEMU was left running");
        return;
    }
    let group = domain_group(&st, "mt", "memory-cgroup");
    let read = |f: &str| read_in(&group, f);
    let mib = |n: u64| (n << 20).to_string();
    if v1 {
        assert_eq!(read("memory.limit_in_bytes"), mib(200));
        assert_eq!(read("memory.soft_limit_in_bytes"), mib(150));
        assert_eq!(read("memory.memsw.limit_in_bytes"), mib(300));
    } else {
        assert_eq!(read("memory.max"), mib(200));
        assert_eq!(read("memory.high"), mib(150));
        assert_eq!(read("memory.swap.max"), mib(100));
    }
    st.stop("mt");
    assert!(!group.exists(), "{} outlived the run", group.display());
}

/// `<blkiotune>` puts QEMU in a block I/O cgroup of the domain's own with
/// its per-device throttles (v1 `blkio.throttle.*_device`, v2 `io.max`,
/// keyed by the device's `major:minor`), which goes with the run; a
/// weight is set where the kernel has weights (the BFQ scheduler), and
/// otherwise the start is refused saying so.
#[test]
fn blkiotune_limits_reach_the_block_io_cgroup() {
    let st = State::new("blkiotune");
    let dev = "/dev/loop0";
    let Ok(meta) = std::fs::metadata(dev) else {
        panic!("{dev} is missing: the test needs a host block device to limit");
    };
    use std::os::unix::fs::MetadataExt;
    let rdev = meta.rdev();
    let majmin = format!(
        "{}:{}",
        nix::sys::stat::major(rdev),
        nix::sys::stat::minor(rdev)
    );
    let xml = firmware_vm(
        "bt",
        &format!(
            "<blkiotune><device><path>{dev}</path><read_bytes_sec>1048576</read_bytes_sec>\
             <write_iops_sec>100</write_iops_sec></device></blkiotune>"
        ),
        "",
    );
    st.start(&xml);
    let group = domain_group(&st, "bt", "blkio-cgroup");
    let read = |f: &str| read_in(&group, f);
    if group.join("io.max").exists() {
        let max = read("io.max");
        assert!(
            max.contains(&format!("{majmin} rbps=1048576")) && max.contains("wiops=100"),
            "{max}"
        );
    } else {
        assert_eq!(
            read("blkio.throttle.read_bps_device"),
            format!("{majmin} 1048576")
        );
        assert_eq!(
            read("blkio.throttle.write_iops_device"),
            format!("{majmin} 100")
        );
    }
    let weight_files: Vec<&str> = [
        "blkio.weight",
        "blkio.bfq.weight",
        "io.weight",
        "io.bfq.weight",
    ]
    .into_iter()
    .filter(|f| group.join(f).exists())
    .collect();
    st.stop("bt");
    assert!(!group.exists(), "{} outlived the run", group.display());
    // A weight: applied where the kernel has weights, else refused.
    let weighted = firmware_vm("bw", "<blkiotune><weight>300</weight></blkiotune>", "");
    match st.try_start(&weighted) {
        Ok(()) => {
            let group = domain_group(&st, "bw", "blkio-cgroup");
            let w = [
                "blkio.weight",
                "blkio.bfq.weight",
                "io.weight",
                "io.bfq.weight",
            ]
            .iter()
            .find_map(|f| std::fs::read_to_string(group.join(f)).ok())
            .unwrap();
            assert!(w.contains("300"), "{w}");
            st.stop("bw");
        }
        Err(e) => {
            assert!(e.message.contains("no weights"), "{e}");
            assert!(qemus_under(st.root()).is_empty(), "a QEMU was left running");
            // Only a kernel without weights may refuse: the group QEMU
            // went into for the throttles above had none.
            for f in [
                "blkio.weight",
                "blkio.bfq.weight",
                "io.weight",
                "io.bfq.weight",
            ] {
                assert!(!weight_files.contains(&f), "{f} exists, yet: {e}");
            }
            // The group made for it went with the failed start.
            let uuid = st.driver().lookup_by_name("bw").unwrap().uuid;
            let left = group.with_file_name(format!("qvirt-{uuid}"));
            assert!(!left.exists(), "{} was left", left.display());
        }
    }
}

/// A memfd-backed, shared guest RAM is the memory backend `query-memdev`
/// lists.
#[test]
fn memory_backing_is_the_memory_backend() {
    let st = State::new("membacking");
    st.start(&firmware_vm(
        "mem",
        "<memoryBacking><source type='memfd'/><access mode='shared'/></memoryBacking>",
        "",
    ));
    let mut qmp = st.qmp("mem");
    let devs = qmp.exec("query-memdev", json!({}));
    let ram = devs
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == "pc.ram")
        .unwrap_or_else(|| panic!("no pc.ram backend: {devs}"));
    assert_eq!(ram["share"], true, "{ram}");
    assert_eq!(ram["size"], 64 * 1024 * 1024, "{ram}");
    assert_eq!(
        qmp.qom_get("/objects/pc.ram", "type"),
        "memory-backend-memfd"
    );
    drop(qmp);
    st.stop("mem");
}

/// `<qemu:arg>`s are appended as written and act (the device they add is
/// in QEMU's tree); `<qemu:env>` is in QEMU's environment.
#[test]
fn qemu_commandline_reaches_qemu() {
    let st = State::new("qemu-ns");
    st.start(&firmware_vm(
        "ns",
        "<qemu:commandline>
    <qemu:arg value='-device'/>
    <qemu:arg value='virtio-rng-pci,id=extra-rng'/>
    <qemu:env name='QVIRT_TEST_ENV' value='a value, with a comma'/>
  </qemu:commandline>",
        "",
    ));
    let pid = st.qemu_pid("ns");
    let argv: Vec<String> = std::fs::read(format!("/proc/{pid}/cmdline"))
        .unwrap()
        .split(|b| *b == 0)
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    let at = argv
        .iter()
        .position(|a| a == "virtio-rng-pci,id=extra-rng")
        .unwrap_or_else(|| panic!("the argument is not in QEMU's argv: {argv:?}"));
    assert_eq!(argv[at - 1], "-device");
    let env = std::fs::read(format!("/proc/{pid}/environ")).unwrap();
    assert!(
        env.split(|b| *b == 0)
            .any(|e| e == b"QVIRT_TEST_ENV=a value, with a comma"),
        "not in QEMU's environment"
    );
    let mut qmp = st.qmp("ns");
    let peripherals = qmp.exec("qom-list", json!({"path": "/machine/peripheral"}));
    assert!(
        peripherals
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "extra-rng"),
        "{peripherals}"
    );
    drop(qmp);
    let log = std::fs::read_to_string(st.root().join("log/qemu/ns.log")).unwrap();
    assert!(log.contains("is tainted: custom-argv"), "{log}");
    // The taint as libvirt's virDomainGetMessages words it (and virsh
    // dominfo shows it), from a manager that reattached.
    {
        let d = st.driver();
        let dom = d.lookup_by_name("ns").unwrap();
        assert_eq!(
            d.messages(&dom).unwrap(),
            ["tainted: custom configuration parameters specified"]
        );
    }
    st.stop("ns");
}

/// A `<disk type='network'>` of protocol nbd is opened by QEMU's own NBD
/// client: `query-block` shows the drive on the server's socket, and the
/// guest-visible size is the served image's.
#[test]
fn nbd_network_disk_is_opened_by_qemu() {
    let st = State::new("nbd");
    let image = st.root().join("served.raw");
    std::fs::File::create(&image)
        .unwrap()
        .set_len(8 * 1024 * 1024)
        .unwrap();
    let socket = st.root().join("nbd.sock");
    let _server = Nbd::serve(&image, &socket, "export0");
    st.start(&firmware_vm(
        "nbd",
        "",
        &format!(
            "<disk type='network' device='disk'>
      <driver name='qemu' type='raw'/>
      <source protocol='nbd' name='export0'><host transport='unix' socket='{}'/></source>
      <target dev='vda' bus='virtio'/>
    </disk>",
            socket.display()
        ),
    ));
    let mut qmp = st.qmp("nbd");
    let disk = qmp.inserted("virtio-disk0");
    let file = disk["file"].as_str().unwrap();
    assert!(
        file.starts_with("nbd") && file.contains("export0"),
        "the drive is not the NBD export: {file}"
    );
    assert_eq!(disk["image"]["virtual-size"], 8 * 1024 * 1024);
    drop(qmp);
    st.stop("nbd");
}

/// A host PCI device that does not exist stops the start before QEMU
/// runs, with the address and the reason.
#[test]
fn a_missing_host_pci_device_stops_the_start() {
    let st = State::new("hostdev");
    let e = st
        .try_start(&firmware_vm(
            "hd",
            "",
            "<hostdev mode='subsystem' type='pci' managed='yes'>
      <source><address domain='0x0000' bus='0xfe' slot='0x1f' function='0x7'/></source>
    </hostdev>",
        ))
        .unwrap_err();
    assert_eq!(e.code, qvirt::ErrorCode::NoSupport, "{e}");
    assert!(e.message.contains("0000:fe:1f.7"), "{e}");
    assert!(e.message.contains("does not exist"), "{e}");
    assert!(qemus_under(st.root()).is_empty(), "a QEMU was started");
}

/// `<interface type='vhostuser'>` in mode 'client': a socket nobody
/// listens on stops the start before QEMU runs, naming it. (In mode
/// 'server' QEMU listens and waits for its backend, a userspace switch
/// this machine has not, before it answers its monitor, as under
/// libvirt.)
#[test]
fn a_vhostuser_interface_needs_its_backend() {
    let st = State::new("vhostuser");
    let shared = "<memoryBacking><source type='memfd'/><access mode='shared'/></memoryBacking>";
    let missing = st.root().join("nobody.sock");
    let e = st
        .try_start(&firmware_vm(
            "vhu",
            shared,
            &format!(
                "<interface type='vhostuser'><source type='unix' path='{}' mode='client'/><model type='virtio'/></interface>",
                missing.display()
            ),
        ))
        .unwrap_err();
    assert_eq!(e.code, qvirt::ErrorCode::NoSupport, "{e}");
    assert!(e.message.contains(&missing.display().to_string()), "{e}");
    assert!(qemus_under(st.root()).is_empty(), "a QEMU was started");
}

/// A mediated device (a vGPU slice) that does not exist on this host
/// stops the start before QEMU runs, naming it.
#[test]
fn a_missing_mediated_device_stops_the_start() {
    let st = State::new("mdev");
    let e = st
        .try_start(&firmware_vm(
            "mdev",
            "",
            "<hostdev mode='subsystem' type='mdev' managed='no' model='vfio-pci' display='off'>
      <source><address uuid='0d0e0a0d-beef-4eef-8bad-f00dfeedface'/></source>
    </hostdev>",
        ))
        .unwrap_err();
    assert_eq!(e.code, qvirt::ErrorCode::NoSupport, "{e}");
    assert!(
        e.message.contains("0d0e0a0d-beef-4eef-8bad-f00dfeedface"),
        "{e}"
    );
    assert!(qemus_under(st.root()).is_empty(), "a QEMU was started");
}

/// A dump from an AppArmor or SELinux host (its `<seclabel
/// type='dynamic' model='apparmor'>`) is defined, as libvirt defines it
/// on a host without that driver; its start is refused before QEMU runs,
/// naming the model, as libvirt's is.
#[test]
fn a_seclabel_of_a_driver_qvirt_lacks_stops_the_start() {
    let st = State::new("seclabel");
    for model in ["apparmor", "selinux"] {
        let name = format!("sl-{model}");
        let e = st
            .try_start(&firmware_vm(
                &name,
                &format!("<seclabel type='dynamic' model='{model}' relabel='yes'/>"),
                "",
            ))
            .unwrap_err();
        assert_eq!(e.code, qvirt::ErrorCode::ConfigUnsupported, "{e}");
        assert!(e.message.contains(&format!("model='{model}'")), "{e}");
        assert!(qemus_under(st.root()).is_empty(), "a QEMU was started");
        let d = st.driver();
        let dom = d.lookup_by_name(&name).unwrap();
        assert!(
            d.xml_desc(&dom, qvirt::driver::XmlFlags::INACTIVE)
                .unwrap()
                .contains(&format!("model='{model}'")),
            "the definition is kept as written"
        );
    }
}

/// `<vsock>` with an automatic CID: where the host has /dev/vhost-vsock,
/// QEMU's vhost-vsock device holds the CID claimed for it (3 or more),
/// which the live XML shows; where it has not (no vhost_vsock module),
/// the start stops before QEMU runs, naming the device.
#[test]
fn a_vsock_gets_a_cid_or_names_the_missing_device() {
    let st = State::new("vsock");
    let xml = firmware_vm("vs", "", "<vsock model='virtio'><cid auto='yes'/></vsock>");
    if Path::new("/dev/vhost-vsock").exists() {
        st.start(&xml);
        let live = st.live_xml("vs");
        let cid: u64 = live
            .split("<cid auto='yes' address='")
            .nth(1)
            .and_then(|r| r.split('\'').next())
            .and_then(|c| c.parse().ok())
            .unwrap_or_else(|| panic!("a CID in the live XML: {live}"));
        assert!(cid >= 3, "{live}");
        let mut q = st.qmp("vs");
        assert_eq!(
            q.qom_get("/machine/peripheral/vsock0", "guest-cid"),
            json!(cid)
        );
        drop(q);
        st.stop("vs");
    } else {
        let e = st.try_start(&xml).unwrap_err();
        assert_eq!(e.code, qvirt::ErrorCode::NoSupport, "{e}");
        assert!(e.message.contains("/dev/vhost-vsock"), "{e}");
        assert!(qemus_under(st.root()).is_empty(), "a QEMU was started");
    }
}

/// `<disk device='lun'>` passes the guest's SCSI commands to a host SCSI
/// device. A block device that takes none (a loop device) stops the start
/// before QEMU runs, saying so, and so does a device that is not there.
#[test]
fn a_lun_needs_a_host_scsi_device() {
    assert!(
        nix::unistd::geteuid().is_root(),
        "a loop device needs root; run the suite as root"
    );
    let st = State::new("lun");
    let image = st.root().join("lun.img");
    std::fs::write(&image, vec![0u8; 1 << 20]).unwrap();
    let out = std::process::Command::new("losetup")
        .args(["--find", "--show"])
        .arg(&image)
        .output()
        .unwrap();
    assert!(out.status.success(), "losetup: {out:?}");
    let loop_dev = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let lun = |name: &str, dev: &str| {
        firmware_vm(
            name,
            "",
            &format!(
                "<controller type='scsi' model='virtio-scsi'/>
    <disk type='block' device='lun'><driver name='qemu' type='raw'/><source dev='{dev}'/><target dev='sda' bus='scsi'/></disk>"
            ),
        )
    };
    let not_scsi = st.try_start(&lun("lunloop", &loop_dev));
    let _ = std::process::Command::new("losetup")
        .args(["-d", &loop_dev])
        .status();
    let e = not_scsi.unwrap_err();
    assert_eq!(e.code, qvirt::ErrorCode::NoSupport, "{e}");
    assert!(
        e.message.contains(&loop_dev) && e.message.contains("not a SCSI device"),
        "{e}"
    );
    let e = st
        .try_start(&lun("lunnone", "/dev/qvirt-no-such-disk"))
        .unwrap_err();
    assert!(e.message.contains("/dev/qvirt-no-such-disk"), "{e}");
    assert!(qemus_under(st.root()).is_empty(), "a QEMU was started");
}

/// `<iotune>`: the limits QEMU throttles a disk with, seen in
/// `query-block` on a disk the domain starts with (two of a group sharing
/// theirs) and on one plugged in later.
#[test]
fn iotune_limits_reach_the_drives() {
    let st = State::new("iotune");
    let image = |n: &str| {
        let p = st.root().join(format!("{n}.raw"));
        std::fs::write(&p, vec![0u8; 1 << 20]).unwrap();
        p
    };
    let disk = |dev: &str, tune: &str| {
        format!(
            "<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='{}'/>\
             <target dev='{dev}' bus='virtio'/><iotune>{tune}</iotune></disk>",
            image(dev).display()
        )
    };
    let group = "<total_bytes_sec>2097152</total_bytes_sec><group_name>shared</group_name>";
    st.start(&firmware_vm(
        "tune",
        "<features><acpi/></features>",
        &(disk(
            "vda",
            "<read_bytes_sec>1048576</read_bytes_sec><write_iops_sec>50</write_iops_sec>\
             <write_iops_sec_max>80</write_iops_sec_max><size_iops_sec>4096</size_iops_sec>",
        ) + &disk("vdb", group)
            + &disk("vdc", group)),
    ));
    let d = st.driver();
    let dom = d.lookup_by_name("tune").unwrap();
    d.attach_device(
        &dom,
        &disk("vdd", "<total_iops_sec>300</total_iops_sec>"),
        qvirt::driver::ModifyFlags::LIVE,
    )
    .unwrap();
    drop(d);
    let mut q = st.qmp("tune");
    let a = q.inserted("virtio-disk0");
    assert_eq!(
        (
            &a["bps_rd"],
            &a["iops_wr"],
            &a["iops_wr_max"],
            &a["iops_size"],
            &a["bps"]
        ),
        (
            &json!(1_048_576),
            &json!(50),
            &json!(80),
            &json!(4096),
            &json!(0)
        ),
        "{a}"
    );
    for dev in ["virtio-disk1", "virtio-disk2"] {
        let b = q.inserted(dev);
        assert_eq!(
            (&b["bps"], &b["group"]),
            (&json!(2_097_152), &json!("shared")),
            "{b}"
        );
    }
    let plugged = q.inserted("virtio-disk3");
    assert_eq!(plugged["iops"], json!(300), "the plugged disk: {plugged}");
    drop(q);
    st.stop("tune");
}

/// A passed-through host TPM that is not there stops the start before
/// QEMU runs, naming it; no swtpm is started for it.
#[test]
fn a_missing_host_tpm_stops_the_start() {
    let st = State::new("tpm-pass");
    let e = st
        .try_start(&firmware_vm(
            "tpmpass",
            "",
            "<tpm model='tpm-tis'><backend type='passthrough'><device path='/dev/tpm-qvirt-absent'/></backend></tpm>",
        ))
        .unwrap_err();
    assert_eq!(e.code, qvirt::ErrorCode::NoSupport, "{e}");
    assert!(e.message.contains("/dev/tpm-qvirt-absent"), "{e}");
    assert!(qemus_under(st.root()).is_empty(), "a QEMU was started");
    assert!(
        processes_with(&st.root().display().to_string()).is_empty(),
        "a helper was left"
    );
}

/// An evdev input whose host device is missing, or is not a device,
/// stops the start before QEMU runs, naming the device.
#[test]
fn a_missing_evdev_input_device_stops_the_start() {
    let st = State::new("evdev");
    let plain = st.root().join("not-a-device");
    std::fs::write(&plain, "").unwrap();
    let cases = [
        (
            "/dev/input/by-id/usb-qvirt-test-event-kbd".to_string(),
            "not present",
        ),
        (plain.display().to_string(), "is not a device"),
    ];
    for (n, (dev, why)) in cases.iter().enumerate() {
        let e = st
            .try_start(&firmware_vm(
                &format!("ev{n}"),
                "",
                &format!(
                    "<input type='evdev'><source dev='{dev}' grab='all' repeat='on'/></input>"
                ),
            ))
            .unwrap_err();
        assert_eq!(e.code, qvirt::ErrorCode::NoSupport, "{e}");
        assert!(e.message.contains(dev.as_str()), "{e}");
        assert!(e.message.contains(why), "{e}");
    }
    assert!(qemus_under(st.root()).is_empty(), "a QEMU was started");
}

/// Processes whose command line contains `needle`.
fn processes_with(needle: &str) -> Vec<i32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).contains(needle))
        })
        .collect()
}

/// A `<filesystem>` share gets a virtiofsd of its own, serving the
/// source directory on the socket QEMU's vhost-user-fs device connected
/// to; it ends with the run.
#[test]
fn virtiofs_share_runs_a_virtiofsd_with_the_domain() {
    let st = State::new("virtiofs");
    let share = st.root().join("share");
    std::fs::create_dir_all(&share).unwrap();
    st.start(&firmware_vm(
        "fs",
        "<memoryBacking><source type='memfd'/><access mode='shared'/></memoryBacking>",
        &format!(
            "<filesystem type='mount' accessmode='passthrough'>
      <driver type='virtiofs'/>
      <binary><sandbox mode='chroot'/></binary>
      <source dir='{}'/>
      <target dir='hostshare'/>
    </filesystem>",
            share.display()
        ),
    ));
    let socket = st.run_dir("fs").join("fs0-fs.sock");
    let daemons = processes_with(&format!("--socket-path={}", socket.display()));
    assert_eq!(daemons.len(), 1, "one virtiofsd on {}", socket.display());
    let cmdline = std::fs::read(format!("/proc/{}/cmdline", daemons[0])).unwrap();
    assert!(
        String::from_utf8_lossy(&cmdline).contains(&format!("source={}", share.display())),
        "virtiofsd does not serve the share"
    );
    let mut qmp = st.qmp("fs");
    let tag = qmp.exec(
        "qom-get",
        json!({"path": "/machine/peripheral/fs0", "property": "tag"}),
    );
    assert_eq!(tag, "hostshare");
    drop(qmp);
    st.stop("fs");
    poll(
        "virtiofsd to end with the domain",
        std::time::Duration::from_secs(30),
        || {
            let alive = daemons.iter().any(|p| {
                std::fs::read_to_string(format!("/proc/{p}/stat")).is_ok_and(|s| {
                    !s.rsplit(')')
                        .next()
                        .unwrap_or("")
                        .trim_start()
                        .starts_with('Z')
                })
            });
            (!alive).then_some(())
        },
    );
}
