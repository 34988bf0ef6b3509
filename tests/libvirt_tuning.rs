//! Unmodified virsh (Debian's libvirt-clients 9.0) changes `<memtune>`
//! and `<blkiotune>` through a real qvirtd's libvirt socket
//! (`virDomainSetMemoryParameters`, `virDomainSetBlkioParameters`, which
//! a recording proxy sees): live, the running QEMU's cgroup files change
//! and `memtune`/`dumpxml` show it; with `--config`, the inactive
//! definition alone; and what libvirt refuses (a hard limit above the
//! swap limit or below what QEMU uses, `min_guarantee`, a weight on a
//! kernel without block I/O weights, the read-only socket) changes
//! nothing. `numatune --mode --nodeset --config`
//! (`virDomainSetNumaParameters`) binds the next start's memory backend
//! (QEMU's `policy` and `host-nodes`); a running domain's binding is
//! refused by name. Runs as root, with QEMU, on a host with memory and
//! block I/O cgroups and `/dev/loop0`.

#[allow(dead_code, unused_imports)]
#[path = "daemon/support.rs"]
mod support;

#[path = "libvirt/lv.rs"]
mod lv;

use std::path::{Path, PathBuf};

use lv::*;
use support::*;

/// libvirt's procedure numbers virsh is expected to call.
const SET_MEMORY_PARAMETERS: i32 = 197;
const SET_BLKIO_PARAMETERS: i32 = 205;
const SET_NUMA_PARAMETERS: i32 = 254;

/// The value of `name` in virsh's `name: value` lines.
fn field(out: &str, name: &str) -> String {
    out.lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            (k.trim() == name).then(|| v.trim().to_string())
        })
        .unwrap_or_else(|| panic!("no {name} in:\n{out}"))
}

/// The cgroup the run of `name` recorded in its run directory's `file`.
fn group(root: &Path, name: &str, file: &str) -> PathBuf {
    let recorded = run_dir_of(root, name).join(file);
    let dir = std::fs::read_to_string(&recorded)
        .unwrap_or_else(|e| panic!("{}: {e}", recorded.display()));
    PathBuf::from(dir.trim())
}

/// The content of `group`'s file `f`, trimmed.
fn read_in(group: &Path, f: &str) -> String {
    std::fs::read_to_string(group.join(f))
        .unwrap_or_else(|e| panic!("{}: {e}", group.join(f).display()))
        .trim()
        .to_string()
}

/// The memory group's hard limit in bytes (`None`: unlimited), cgroup v1
/// or v2.
fn hard_limit(group: &Path) -> Option<u64> {
    let text = if group.join("memory.max").exists() {
        read_in(group, "memory.max")
    } else {
        read_in(group, "memory.limit_in_bytes")
    };
    // v1's "unlimited" is the largest page-aligned number.
    text.parse::<u64>().ok().filter(|b| *b < 1 << 62)
}

/// Defines and starts the firmware VM `name`.
fn start(s: &Path, dir: &Path, name: &str) {
    let f = write_file(dir, &format!("{name}.xml"), &firmware_vm(name));
    virsh_ok(s, &["define", f.to_str().unwrap()]);
    virsh_ok(s, &["start", name]);
}

#[test]
fn virsh_memtune_changes_the_running_domain_and_the_definition() {
    let dir = TestDir::new("lv-memtune");
    let _daemon = Daemon::start(&dir.path, &[]);
    let rec = Recorder::new(&dir.path.join("rec.sock"), &lv_socket(&dir.path));
    let s = rec.socket.clone();
    start(&s, &dir.path, "mt");
    // Live: the QEMU gets a memory group of its own with that limit.
    virsh_ok(&s, &["memtune", "mt", "--hard-limit", "262144", "--live"]);
    assert!(rec.take().contains(&SET_MEMORY_PARAMETERS));
    let memory = group(&dir.path, "mt", "memory-cgroup");
    assert_eq!(hard_limit(&memory), Some(262_144 << 10));
    let shown = virsh_ok(&s, &["memtune", "mt"]);
    assert_eq!(field(&shown, "hard_limit"), "262144", "{shown}");
    assert!(
        virsh_ok(&s, &["dumpxml", "mt"]).contains("<hard_limit unit='KiB'>262144</hard_limit>")
    );
    assert!(!virsh_ok(&s, &["dumpxml", "mt", "--inactive"]).contains("<memtune>"));
    // --config: the inactive definition alone.
    virsh_ok(&s, &["memtune", "mt", "--soft-limit", "131072", "--config"]);
    let inactive = virsh_ok(&s, &["dumpxml", "mt", "--inactive"]);
    assert!(
        inactive.contains("<soft_limit unit='KiB'>131072</soft_limit>"),
        "{inactive}"
    );
    assert!(!inactive.contains("<hard_limit"), "{inactive}");
    let live = virsh_ok(&s, &["memtune", "mt"]);
    assert_eq!(field(&live, "soft_limit"), "unlimited", "{live}");
    let config = virsh_ok(&s, &["memtune", "mt", "--config"]);
    assert_eq!(field(&config, "soft_limit"), "131072", "{config}");
    // Below what QEMU uses: the kernel refuses, the limit stays.
    let e = virsh_err(&s, &["memtune", "mt", "--hard-limit", "4", "--live"]);
    assert!(e.contains("cannot bring what QEMU uses"), "{e}");
    assert_eq!(hard_limit(&memory), Some(262_144 << 10));
    assert_eq!(
        field(&virsh_ok(&s, &["memtune", "mt"]), "hard_limit"),
        "262144"
    );
    // The hard limit may not end above the swap hard limit.
    if memory.join("memory.memsw.limit_in_bytes").exists() || memory.join("memory.max").exists() {
        virsh_ok(&s, &["memtune", "mt", "--swap-hard-limit", "300000"]);
        let e = virsh_err(&s, &["memtune", "mt", "--hard-limit", "400000"]);
        assert!(
            e.contains("hard_limit tunable value must be lower than or equal to swap_hard_limit"),
            "{e}"
        );
        assert_eq!(hard_limit(&memory), Some(262_144 << 10));
        // Raised together: swap first, then memory, as cgroup v1 needs.
        virsh_ok(
            &s,
            &[
                "memtune",
                "mt",
                "--hard-limit",
                "400000",
                "--swap-hard-limit",
                "500000",
            ],
        );
        assert_eq!(hard_limit(&memory), Some(400_000 << 10));
    }
    // -1 is unlimited: the limit goes, with the swap limit above it.
    if hard_limit(&memory) == Some(400_000 << 10) {
        let e = virsh_err(&s, &["memtune", "mt", "--hard-limit", "-1", "--live"]);
        assert!(e.contains("swap_hard_limit"), "{e}");
        assert_eq!(hard_limit(&memory), Some(400_000 << 10));
    }
    virsh_ok(
        &s,
        &[
            "memtune",
            "mt",
            "--hard-limit",
            "-1",
            "--swap-hard-limit",
            "-1",
            "--live",
        ],
    );
    assert_eq!(hard_limit(&memory), None);
    assert_eq!(
        field(&virsh_ok(&s, &["memtune", "mt"]), "hard_limit"),
        "unlimited"
    );
    // What QEMU has no use for, refused by name.
    let e = virsh_err(&s, &["memtune", "mt", "--min-guarantee", "1000"]);
    assert!(e.contains("min_guarantee"), "{e}");
    // The read-only socket changes nothing.
    let ro = lv_socket_ro(&dir.path);
    virsh_err(&ro, &["memtune", "mt", "--soft-limit", "1000", "--config"]);
    let config = virsh_ok(&s, &["memtune", "mt", "--config"]);
    assert_eq!(field(&config, "soft_limit"), "131072", "{config}");
    virsh_ok(&s, &["destroy", "mt"]);
    assert!(!memory.exists(), "{} outlived the run", memory.display());
}

#[test]
fn virsh_blkiotune_throttles_a_block_device_and_says_why_a_weight_cannot_be() {
    let dev = "/dev/loop0";
    let majmin = {
        use std::os::unix::fs::MetadataExt;
        let rdev = std::fs::metadata(dev)
            .unwrap_or_else(|e| panic!("{dev}: {e}: the test needs a host block device"))
            .rdev();
        format!(
            "{}:{}",
            nix::sys::stat::major(rdev),
            nix::sys::stat::minor(rdev)
        )
    };
    let dir = TestDir::new("lv-blkiotune");
    let _daemon = Daemon::start(&dir.path, &[]);
    let rec = Recorder::new(&dir.path.join("rec.sock"), &lv_socket(&dir.path));
    let s = rec.socket.clone();
    start(&s, &dir.path, "bt");
    let list = format!("{dev},1048576");
    virsh_ok(
        &s,
        &[
            "blkiotune",
            "bt",
            "--device-read-bytes-sec",
            &list,
            "--live",
        ],
    );
    assert!(rec.take().contains(&SET_BLKIO_PARAMETERS));
    let blkio = group(&dir.path, "bt", "blkio-cgroup");
    let v2 = blkio.join("io.max").exists();
    let throttles = || {
        if v2 {
            read_in(&blkio, "io.max")
        } else {
            read_in(&blkio, "blkio.throttle.read_bps_device")
        }
    };
    if v2 {
        assert!(
            throttles().contains(&format!("{majmin} rbps=1048576")),
            "{}",
            throttles()
        );
    } else {
        assert_eq!(throttles(), format!("{majmin} 1048576"));
    }
    let shown = virsh_ok(&s, &["blkiotune", "bt"]);
    assert_eq!(field(&shown, "device_read_bytes_sec"), list, "{shown}");
    assert!(virsh_ok(&s, &["dumpxml", "bt"]).contains("<read_bytes_sec>1048576</read_bytes_sec>"));
    // Not a block device: refused, the throttle stays.
    let e = virsh_err(
        &s,
        &[
            "blkiotune",
            "bt",
            "--device-read-bytes-sec",
            "/dev/null,5",
            "--live",
        ],
    );
    assert!(e.contains("must be a block device"), "{e}");
    // A weight: set where the kernel has weights, else refused saying
    // why, as a start with one is.
    let weights = [
        "blkio.weight",
        "blkio.bfq.weight",
        "io.weight",
        "io.bfq.weight",
    ]
    .into_iter()
    .find(|f| blkio.join(f).exists());
    match weights {
        Some(f) => {
            virsh_ok(&s, &["blkiotune", "bt", "--weight", "500", "--live"]);
            assert!(read_in(&blkio, f).contains("500"));
        }
        None => {
            let e = virsh_err(&s, &["blkiotune", "bt", "--weight", "500", "--live"]);
            assert!(e.contains("no weights"), "{e}");
            assert_eq!(field(&virsh_ok(&s, &["blkiotune", "bt"]), "weight"), "0");
        }
    }
    // 0 removes the device's throttle.
    let off = format!("{dev},0");
    virsh_ok(
        &s,
        &["blkiotune", "bt", "--device-read-bytes-sec", &off, "--live"],
    );
    assert!(!throttles().contains("1048576"), "{}", throttles());
    assert_eq!(
        field(&virsh_ok(&s, &["blkiotune", "bt"]), "device_read_bytes_sec"),
        ""
    );
    // --config: the inactive definition, whatever this kernel has.
    virsh_ok(&s, &["blkiotune", "bt", "--weight", "300", "--config"]);
    assert!(virsh_ok(&s, &["dumpxml", "bt", "--inactive"]).contains("<weight>300</weight>"));
    assert_eq!(
        field(&virsh_ok(&s, &["blkiotune", "bt", "--config"]), "weight"),
        "300"
    );
    virsh_ok(&s, &["destroy", "bt"]);
    assert!(!blkio.exists(), "{} outlived the run", blkio.display());
}

/// QOM property `property` of QEMU object `path`, through virsh.
fn qom(s: &Path, name: &str, path: &str, property: &str) -> String {
    let cmd = format!(
        r#"{{"execute":"qom-get","arguments":{{"path":"{path}","property":"{property}"}}}}"#
    );
    virsh_ok(s, &["qemu-monitor-command", name, &cmd])
}

#[test]
fn virsh_numatune_binds_the_next_starts_memory() {
    let dir = TestDir::new("lv-numatune");
    let _daemon = Daemon::start(&dir.path, &[]);
    let rec = Recorder::new(&dir.path.join("rec.sock"), &lv_socket(&dir.path));
    let s = rec.socket.clone();
    let f = write_file(&dir.path, "nt.xml", &firmware_vm("nt"));
    virsh_ok(&s, &["define", f.to_str().unwrap()]);
    rec.take();
    // A mode alone: libvirt's refusal, nothing changes.
    let err = virsh_err(&s, &["numatune", "nt", "--mode", "interleave", "--config"]);
    assert!(
        err.contains("nodeset for NUMA memory tuning must be set"),
        "{err}"
    );
    assert!(!virsh_ok(&s, &["dumpxml", "nt", "--inactive"]).contains("<numatune>"));
    virsh_ok(
        &s,
        &[
            "numatune",
            "nt",
            "--mode",
            "interleave",
            "--nodeset",
            "0",
            "--config",
        ],
    );
    assert!(rec.take().contains(&SET_NUMA_PARAMETERS));
    let shown = virsh_ok(&s, &["numatune", "nt", "--config"]);
    assert_eq!(field(&shown, "numa_mode"), "interleave", "{shown}");
    assert_eq!(field(&shown, "numa_nodeset"), "0", "{shown}");
    let inactive = virsh_ok(&s, &["dumpxml", "nt", "--inactive"]);
    assert!(
        inactive.contains("<memory mode='interleave' nodeset='0'/>"),
        "{inactive}"
    );
    // The next start binds QEMU's RAM backend so.
    virsh_ok(&s, &["start", "nt"]);
    let policy = qom(&s, "nt", "/objects/pc.ram", "policy");
    assert!(policy.contains("\"interleave\""), "{policy}");
    let nodes = qom(&s, "nt", "/objects/pc.ram", "host-nodes");
    assert!(nodes.contains("[0]"), "{nodes}");
    // Live: refused by name, the definition unchanged.
    let err = virsh_err(
        &s,
        &["numatune", "nt", "--mode", "strict", "--nodeset", "0"],
    );
    assert!(err.contains("--config"), "{err}");
    let err = virsh_err(&s, &["numatune", "nt", "--nodeset", "0", "--live"]);
    assert!(
        err.contains("memory binding of running domain 'nt'"),
        "{err}"
    );
    let shown = virsh_ok(&s, &["numatune", "nt", "--config"]);
    assert_eq!(field(&shown, "numa_mode"), "interleave", "{shown}");
    virsh_ok(&s, &["destroy", "nt"]);
}
