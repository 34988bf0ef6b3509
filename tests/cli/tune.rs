//! `memtune` and `blkiotune` as virsh's users type them: without values
//! they show the settings (`name: value`, "unlimited" for a memory limit
//! not set); with values they change the definition (`--config`, or a
//! shut-off domain) or the running QEMU's cgroup (`--live`, or a running
//! one), which the cgroup's own files show.

use std::path::{Path, PathBuf};

use crate::{Root, firmware_xml};

/// The `name: value` lines of `memtune` or `blkiotune`.
fn value(out: &str, name: &str) -> String {
    out.lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            (k.trim() == name).then(|| v.trim().to_string())
        })
        .unwrap_or_else(|| panic!("no {name} in:\n{out}"))
}

/// The cgroup of running domain `name` that its run directory records in
/// `file` (`memory-cgroup`, `blkio-cgroup`).
fn group(root: &Root, name: &str, file: &str) -> PathBuf {
    let needle = format!("<name>{name}</name>");
    let run = std::fs::read_dir(root.dir.join("run"))
        .expect("a runtime directory")
        .flatten()
        .map(|e| e.path())
        .find(|p| std::fs::read_to_string(p.join("status.json")).is_ok_and(|t| t.contains(&needle)))
        .unwrap_or_else(|| panic!("no run directory for {name}"));
    let dir = std::fs::read_to_string(run.join(file))
        .unwrap_or_else(|e| panic!("{}: {e}", run.join(file).display()));
    PathBuf::from(dir.trim())
}

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file))
        .unwrap_or_else(|e| panic!("{}: {e}", dir.join(file).display()))
        .trim()
        .to_string()
}

/// The `major:minor` of a host block device.
fn majmin(dev: &str) -> String {
    use std::os::unix::fs::MetadataExt;
    let rdev = std::fs::metadata(dev)
        .unwrap_or_else(|e| panic!("{dev}: {e}: the test needs this block device"))
        .rdev();
    format!(
        "{}:{}",
        nix::sys::stat::major(rdev),
        nix::sys::stat::minor(rdev)
    )
}

#[test]
fn memtune_shows_and_changes_the_definition() {
    let root = Root::new("memtune");
    let xml = root.file("fw.xml", &firmware_xml("fw", false));
    root.ok(&["define", &xml]);
    let shown = root.ok(&["memtune", "fw"]);
    for name in ["hard_limit", "soft_limit", "swap_hard_limit"] {
        assert_eq!(value(&shown, name), "unlimited", "{shown}");
    }
    // Shut off, the change goes to the definition; sizes take units.
    root.ok(&[
        "memtune",
        "fw",
        "--hard-limit",
        "256M",
        "--swap-hard-limit",
        "524288",
    ]);
    let shown = root.ok(&["memtune", "fw", "--config"]);
    assert_eq!(value(&shown, "hard_limit"), "262144", "{shown}");
    assert_eq!(value(&shown, "soft_limit"), "unlimited", "{shown}");
    assert_eq!(value(&shown, "swap_hard_limit"), "524288", "{shown}");
    let inactive = root.ok(&["dumpxml", "fw", "--inactive"]);
    assert!(
        inactive.contains("<hard_limit unit='KiB'>262144</hard_limit>"),
        "{inactive}"
    );
    // The hard limit may not end above the swap limit; nothing changes.
    let err = root.fails(&["memtune", "fw", "--hard-limit", "1G"]);
    assert!(err.contains("swap_hard_limit"), "{err}");
    assert_eq!(value(&root.ok(&["memtune", "fw"]), "hard_limit"), "262144");
    // -1 is unlimited: it removes the limit.
    root.ok(&["memtune", "fw", "--swap-hard-limit", "-1", "--config"]);
    let shown = root.ok(&["memtune", "fw"]);
    assert_eq!(value(&shown, "swap_hard_limit"), "unlimited", "{shown}");
    assert_eq!(value(&shown, "hard_limit"), "262144", "{shown}");
    // --live on a shut-off domain, and --current with --live, refused.
    let err = root.fails(&["memtune", "fw", "--hard-limit", "300000", "--live"]);
    assert!(err.contains("fw"), "{err}");
    root.fails(&["memtune", "fw", "--hard-limit", "1", "--live", "--current"]);
}

#[test]
fn memtune_and_blkiotune_reach_the_running_domains_cgroups() {
    let root = Root::new("tune-live");
    let xml = root.file("fw.xml", &firmware_xml("fw", false));
    root.ok(&["define", &xml]);
    // The definition's block I/O list, merged device by device.
    root.ok(&[
        "blkiotune",
        "fw",
        "--device-read-bytes-sec",
        "/dev/loop0,1048576,/dev/loop1,2048",
        "--config",
    ]);
    root.ok(&["blkiotune", "fw", "--device-read-bytes-sec", "/dev/loop1,0"]);
    let shown = root.ok(&["blkiotune", "fw"]);
    assert_eq!(
        value(&shown, "device_read_bytes_sec"),
        "/dev/loop0,1048576",
        "{shown}"
    );
    assert_eq!(value(&shown, "weight"), "0", "{shown}");
    root.ok(&["start", "fw"]);
    // Running, the change goes to QEMU's cgroup (made now, as the
    // domain started without memory limits) and the live definition.
    root.ok(&["memtune", "fw", "--hard-limit", "262144"]);
    let memory = group(&root, "fw", "memory-cgroup");
    let hard = ["memory.limit_in_bytes", "memory.max"]
        .iter()
        .find(|f| memory.join(f).exists())
        .map(|f| read(&memory, f))
        .unwrap();
    assert_eq!(hard, (262_144u64 << 10).to_string());
    assert_eq!(value(&root.ok(&["memtune", "fw"]), "hard_limit"), "262144");
    assert_eq!(
        value(&root.ok(&["memtune", "fw", "--config"]), "hard_limit"),
        "unlimited"
    );
    // The block device's throttle, keyed by its major:minor.
    let blkio = group(&root, "fw", "blkio-cgroup");
    let dev = majmin("/dev/loop0");
    let throttles = |dir: &Path| {
        if dir.join("io.max").exists() {
            read(dir, "io.max")
        } else {
            read(dir, "blkio.throttle.read_bps_device")
        }
    };
    let before = throttles(&blkio);
    assert!(!before.contains(&format!("{dev} 4096")), "{before}");
    root.ok(&[
        "blkiotune",
        "fw",
        "--device-read-bytes-sec",
        "/dev/loop0,4096",
        "--live",
    ]);
    let now = throttles(&blkio);
    assert!(
        now.contains(&format!("{dev} 4096")) || now.contains(&format!("{dev} rbps=4096")),
        "{now}"
    );
    assert_eq!(
        value(&root.ok(&["blkiotune", "fw"]), "device_read_bytes_sec"),
        "/dev/loop0,4096"
    );
    // Not a block device: refused before anything changes.
    let err = root.fails(&["blkiotune", "fw", "--device-read-bytes-sec", "/dev/null,1"]);
    assert!(err.contains("must be a block device"), "{err}");
    root.ok(&["destroy", "fw"]);
    assert!(!memory.exists(), "{} outlived the run", memory.display());
    assert!(!blkio.exists(), "{} outlived the run", blkio.display());
}
