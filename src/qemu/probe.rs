//! Probing a QEMU binary for the capabilities the command line needs.
//!
//! Short runs of the binary (`-version`, `-machine help`, and a QMP
//! session per accelerator for its CPU models, the first also listing its
//! device types) and a check that /dev/kvm can be opened: about 100 ms in
//! all, done once per binary by the driver, which caches the result.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::caps::{CpuCaps, QemuCaps, QemuVersion};
use crate::error::{Error, ErrorCode, Result};

/// Probes `emulator`. Fails with `NoSupport` when the binary cannot be run
/// or is older than [`QemuVersion::MIN`].
pub fn probe(emulator: &Path) -> Result<QemuCaps> {
    let version_text = run(emulator, &["-version"])?;
    let version = QemuVersion::parse_version_output(&version_text).ok_or_else(|| {
        Error::new(
            ErrorCode::NoSupport,
            format!(
                "cannot read the version of {}: it printed {:?}",
                emulator.display(),
                version_text.lines().next().unwrap_or("")
            ),
        )
    })?;
    if version < QemuVersion::MIN {
        return Err(Error::new(
            ErrorCode::NoSupport,
            format!(
                "{} is QEMU {version}; qvirt needs QEMU {} or newer",
                emulator.display(),
                QemuVersion::MIN
            ),
        ));
    }
    let help = run(emulator, &["-machine", "help"])?;
    let (machines, default_machine) = parse_machine_help(&help);
    let machine_aliases = parse_machine_aliases(&help);
    let kvm = kvm_usable();
    // A binary whose CPU models cannot be listed (an unusual build) still
    // runs domains; their CPUs and devices are then not checked in advance.
    let (tcg_cpu, devices) = match qmp_session(emulator, "tcg", true) {
        Some(text) => (parse_cpu_session(&text), parse_devices(&text)),
        None => (None, None),
    };
    let kvm_cpu = if kvm {
        qmp_session(emulator, "kvm", false).and_then(|t| parse_cpu_session(&t))
    } else {
        None
    };
    Ok(QemuCaps {
        emulator: emulator.to_path_buf(),
        version,
        kvm,
        machines,
        default_machine: default_machine.unwrap_or_else(|| "pc".to_string()),
        machine_aliases,
        tcg_cpu,
        kvm_cpu,
        devices,
    })
}

/// How long the CPU model session may take.
const CPU_PROBE_DEADLINE: Duration = Duration::from_secs(20);

/// The replies of a QMP session on the binary's standard input and
/// output: the CPU models and `max` features of accelerator `accel` and,
/// with `devices`, the device types (modules included: QEMU loads them
/// all to list types).
fn qmp_session(emulator: &Path, accel: &str, devices: bool) -> Option<String> {
    let mut child = Command::new(emulator)
        .args([
            "-machine",
            "none",
            "-accel",
            accel,
            "-nodefaults",
            "-display",
            "none",
            "-S",
            "-qmp",
            "stdio",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let mut script = concat!(
        "{\"execute\":\"qmp_capabilities\"}\n",
        "{\"execute\":\"query-cpu-definitions\",\"id\":\"defs\"}\n",
        "{\"execute\":\"query-cpu-model-expansion\",\"id\":\"max\",",
        "\"arguments\":{\"type\":\"full\",\"model\":{\"name\":\"max\"}}}\n",
    )
    .to_string();
    if devices {
        script.push_str(concat!(
            "{\"execute\":\"qom-list-types\",\"id\":\"devs\",",
            "\"arguments\":{\"implements\":\"device\",\"abstract\":false}}\n"
        ));
    }
    script.push_str("{\"execute\":\"quit\"}\n");
    let written = child
        .stdin
        .take()
        .map(|mut i| i.write_all(script.as_bytes()).is_ok());
    // The reader ends at EOF, when QEMU quits (or is killed below).
    let mut stdout = child.stdout.take()?;
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let deadline = Instant::now() + CPU_PROBE_DEADLINE;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break;
            }
        }
    }
    let text = reader.join().ok()?;
    (written == Some(true)).then_some(text)
}

/// The device types of a session's `qom-list-types` reply.
fn parse_devices(text: &str) -> Option<BTreeSet<String>> {
    text.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v.get("id").and_then(Value::as_str) == Some("devs"))
        .and_then(|v| {
            v.get("return")?.as_array().map(|types| {
                types
                    .iter()
                    .filter_map(|t| t.get("name")?.as_str().map(str::to_string))
                    .collect()
            })
        })
}

/// A stamp of the directory QEMU loads its modules from on Debian (where
/// devices such as the OpenGL virtio GPU come in separate packages):
/// installing one changes it, and the cached capabilities with it.
pub(crate) fn modules_stamp() -> u128 {
    std::fs::metadata("/usr/lib/x86_64-linux-gnu/qemu")
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos())
}

/// Reads the replies of the CPU model session.
fn parse_cpu_session(text: &str) -> Option<CpuCaps> {
    let mut caps = CpuCaps::default();
    let (mut defs, mut max) = (false, false);
    for line in text.lines() {
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        match v.get("id").and_then(Value::as_str) {
            Some("defs") => {
                for d in v.get("return")?.as_array()? {
                    let name = d.get("name")?.as_str()?.to_string();
                    let missing: Vec<String> = d
                        .get("unavailable-features")
                        .and_then(Value::as_array)
                        .map(|a| {
                            a.iter()
                                .filter_map(|f| f.as_str().map(str::to_string))
                                .collect()
                        })
                        .unwrap_or_default();
                    caps.models.insert(name, missing);
                }
                defs = true;
            }
            Some("max") => {
                let props = v.get("return")?.get("model")?.get("props")?.as_object()?;
                caps.max_features = props
                    .iter()
                    .filter(|(_, on)| on.as_bool() == Some(true))
                    .map(|(k, _)| k.clone())
                    .collect::<BTreeSet<_>>();
                max = true;
            }
            _ => {}
        }
    }
    (defs && max).then_some(caps)
}

/// Runs the emulator with `args` and returns its standard output.
fn run(emulator: &Path, args: &[&str]) -> Result<String> {
    let out = Command::new(emulator)
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| {
            Error::io(
                format!(
                    "cannot run {} (is qemu-system-x86 installed?)",
                    emulator.display()
                ),
                e,
            )
        })?;
    if !out.status.success() {
        return Err(Error::new(
            ErrorCode::NoSupport,
            format!(
                "{} {} failed ({}): {}",
                emulator.display(),
                args.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Reads `-machine help`: one machine per line, `NAME  DESCRIPTION`, with
/// aliases written as "(alias of X)" and the default marked "(default)".
/// Returns the names (aliases included) and the default, preferring the
/// alias of the default (`pc` rather than `pc-i440fx-7.2`).
fn parse_machine_help(text: &str) -> (Vec<String>, Option<String>) {
    let mut machines = Vec::new();
    let mut default = None;
    let mut aliases = Vec::new();
    for line in text.lines().skip(1) {
        let Some(name) = line.split_whitespace().next() else {
            continue;
        };
        machines.push(name.to_string());
        if line.contains("(default)") {
            default = Some(name.to_string());
        }
        if let Some(rest) = line.split("(alias of ").nth(1) {
            let target = rest.trim_end_matches(')').trim();
            aliases.push((name.to_string(), target.to_string()));
        }
    }
    let default = default.map(|d| {
        aliases
            .iter()
            .find(|(_, target)| *target == d)
            .map(|(alias, _)| alias.clone())
            .unwrap_or(d)
    });
    (machines, default)
}

/// The aliases of `-machine help` ("NAME ... (alias of TARGET)").
fn parse_machine_aliases(text: &str) -> std::collections::BTreeMap<String, String> {
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let name = line.split_whitespace().next()?;
            let rest = line.split("(alias of ").nth(1)?;
            let target = rest.split(')').next()?.trim();
            Some((name.to_string(), target.to_string()))
        })
        .collect()
}

/// Whether this process may use KVM: /dev/kvm opens for reading and writing.
pub fn kvm_usable() -> bool {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/kvm")
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_machine_help() {
        let text = "Supported machines are:\n\
            microvm              microvm (i386)\n\
            pc                   Standard PC (i440FX + PIIX, 1996) (alias of pc-i440fx-7.2)\n\
            pc-i440fx-7.2        Standard PC (i440FX + PIIX, 1996) (default)\n\
            q35                  Standard PC (Q35 + ICH9, 2009) (alias of pc-q35-7.2)\n\
            pc-q35-7.2           Standard PC (Q35 + ICH9, 2009)\n";
        let (machines, default) = parse_machine_help(text);
        assert_eq!(
            machines,
            ["microvm", "pc", "pc-i440fx-7.2", "q35", "pc-q35-7.2"]
        );
        assert_eq!(default.as_deref(), Some("pc"));
    }

    /// The installed QEMU (scripts/deps.sh) lists its CPU models for TCG
    /// and its device types, those of its modules (qxl) among them.
    #[test]
    fn the_installed_qemu_lists_cpus_and_devices() {
        let caps = probe(Path::new("/usr/bin/qemu-system-x86_64")).unwrap();
        let tcg = caps.tcg_cpu.as_ref().expect("TCG CPU models");
        assert!(tcg.models.contains_key("qemu64"), "{:?}", tcg.models.keys());
        let devices = caps.devices.as_ref().expect("device types");
        for d in ["virtio-blk-pci", "isa-serial", "qxl-vga", "pcie-root-port"] {
            assert!(devices.contains(d), "{d} missing from {devices:?}");
        }
        assert!(
            !devices.contains("virtio-device"),
            "an abstract type is listed"
        );
    }

    #[test]
    fn a_missing_binary_is_a_clear_error() {
        let err = probe(Path::new("/nonexistent/qemu-system-x86_64")).unwrap_err();
        assert_eq!(err.code, ErrorCode::Io);
        assert!(err.message.contains("/nonexistent/qemu-system-x86_64"));
    }
}
