//! Looking at processes from outside, for the suites that start QEMU and
//! daemons: whether one lives, which ones a test's directory owns, and
//! the pid a runtime status file records.

use std::path::{Path, PathBuf};

/// Whether `pid` is a live process (not a zombie).
pub fn process_alive(pid: i32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    let state = stat
        .rfind(')')
        .and_then(|i| stat[i + 1..].split_whitespace().next());
    !matches!(state, Some("Z") | Some("X") | None)
}

/// Live processes other than this one whose command line or environment
/// mentions `dir/`: the QEMUs and daemons a test started under its own
/// directory, whoever started them. The two ends of a `qemu+ssh://`
/// connection (the client's `ssh` and the remote `qvirtd --proxy`) name
/// the daemon's socket but belong to the client: they are not counted.
pub fn processes_under(dir: &Path) -> Vec<i32> {
    let mut needle = dir.as_os_str().as_encoded_bytes().to_vec();
    needle.push(b'/');
    let me = std::process::id() as i32;
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|&pid| pid != me && process_alive(pid) && !ssh_transport(pid))
        .filter(|pid| {
            ["cmdline", "environ"].iter().any(|f| {
                std::fs::read(format!("/proc/{pid}/{f}"))
                    .is_ok_and(|text| text.windows(needle.len()).any(|w| w == needle.as_slice()))
            })
        })
        .collect()
}

/// Whether `pid` is an `ssh` or a `qvirtd --proxy`.
fn ssh_transport(pid: i32) -> bool {
    let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    let mut args = cmdline.split(|b| *b == 0);
    let program = args.next().unwrap_or_default();
    program.rsplit(|b| *b == b'/').next() == Some(b"ssh")
        || (program.ends_with(b"qvirtd") && args.any(|a| a == b"--proxy"))
}

/// The pid and process start time a runtime status file records.
pub fn status_pid(path: &Path) -> Option<(i32, u64)> {
    let text = std::fs::read(path).ok()?;
    let v: serde_json::Value = serde_json::from_slice(&text).ok()?;
    let pid = i32::try_from(v.get("pid")?.as_i64()?).ok()?;
    let start = v.get("start_time").and_then(|s| s.as_u64()).unwrap_or(0);
    Some((pid, start))
}

/// The runtime directory of domain `name` under `root/run` (each is
/// named by the domain's UUID; its `status.json` names the domain). A
/// directory with no readable status (a start cut off, or a leftover) is
/// returned too, so that a check that no directory is left cannot miss
/// it; with neither, a path that does not exist.
pub fn run_dir_of(root: &Path, name: &str) -> PathBuf {
    let run = root.join("run");
    let needle = format!("<name>{name}</name>");
    let mut unnamed = None;
    for e in std::fs::read_dir(&run).into_iter().flatten().flatten() {
        let dir = e.path();
        if !dir.is_dir() {
            continue;
        }
        let status = std::fs::read(dir.join("status.json"))
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok());
        match status
            .as_ref()
            .and_then(|v| v.get("def_xml")?.as_str().map(str::to_string))
        {
            Some(xml) if xml.contains(&needle) => return dir,
            Some(_) => {}
            None => unnamed = Some(dir),
        }
    }
    unnamed.unwrap_or_else(|| run.join(format!("no-runtime-dir-for-{name}")))
}

/// The QEMU pid in the status file of running domain `name` under
/// `root`; panics without one.
pub fn qemu_pid(root: &Path, name: &str) -> i32 {
    let path = run_dir_of(root, name).join("status.json");
    status_pid(&path)
        .unwrap_or_else(|| panic!("{} records no pid", path.display()))
        .0
}
