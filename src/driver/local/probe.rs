//! Probing a QEMU binary for the capabilities the command line needs.
//!
//! Two short runs of the binary (`-version`, `-machine help`) and a check
//! that /dev/kvm can be opened: about 20 ms in all, done once per binary
//! by the driver, which caches the result.

use std::path::Path;
use std::process::{Command, Stdio};

use super::caps::{QemuCaps, QemuVersion};
use crate::driver::error::{Error, ErrorCode, Result};

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
    let (machines, default_machine) = parse_machine_help(&run(emulator, &["-machine", "help"])?);
    Ok(QemuCaps {
        emulator: emulator.to_path_buf(),
        version,
        kvm: kvm_usable(),
        machines,
        default_machine: default_machine.unwrap_or_else(|| "pc".to_string()),
    })
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

/// Whether this process may use KVM: /dev/kvm opens for reading and writing.
pub(crate) fn kvm_usable() -> bool {
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

    #[test]
    fn a_missing_binary_is_a_clear_error() {
        let err = probe(Path::new("/nonexistent/qemu-system-x86_64")).unwrap_err();
        assert_eq!(err.code, ErrorCode::Io);
        assert!(err.message.contains("/nonexistent/qemu-system-x86_64"));
    }
}
