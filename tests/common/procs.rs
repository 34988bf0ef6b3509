//! Looking at processes from outside, for the suites that start QEMU and
//! daemons: whether one lives, which ones a test's directory owns, and
//! the pid a runtime status file records.

use std::path::Path;

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
/// directory, whoever started them.
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
        .filter(|&pid| pid != me && process_alive(pid))
        .filter(|pid| {
            ["cmdline", "environ"].iter().any(|f| {
                std::fs::read(format!("/proc/{pid}/{f}"))
                    .is_ok_and(|text| text.windows(needle.len()).any(|w| w == needle.as_slice()))
            })
        })
        .collect()
}

/// The pid and process start time a runtime status file records.
pub fn status_pid(path: &Path) -> Option<(i32, u64)> {
    let text = std::fs::read(path).ok()?;
    let v: serde_json::Value = serde_json::from_slice(&text).ok()?;
    let pid = i32::try_from(v.get("pid")?.as_i64()?).ok()?;
    let start = v.get("start_time").and_then(|s| s.as_u64()).unwrap_or(0);
    Some((pid, start))
}

/// The QEMU pid in `root/run/NAME/status.json`; panics without one.
pub fn qemu_pid(root: &Path, name: &str) -> i32 {
    let path = root.join("run").join(name).join("status.json");
    status_pid(&path)
        .unwrap_or_else(|| panic!("{} records no pid", path.display()))
        .0
}
