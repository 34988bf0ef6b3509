//! The domains the scenarios use: a firmware-only VM (no disk, sits in
//! SeaBIOS) and the Linux test guest, as domain XML; and finding the test
//! guest's kernel and initramfs.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use qvirt::{Error, ErrorCode, Result};
use uuid::Uuid;

use crate::fixture::PREFIX;

/// The name of the `i`th domain of a group (`qvb-list-00042`).
pub fn name(group: &str, i: usize) -> String {
    format!("{PREFIX}{group}-{i:05}")
}

/// A firmware-only VM: TCG, 16 MiB, one vCPU, no disk, no balloon.
pub fn firmware(name: &str) -> String {
    format!(
        "<domain type='qemu'>\n  <name>{name}</name>\n  <uuid>{}</uuid>\n  \
         <memory unit='MiB'>16</memory>\n  <vcpu>1</vcpu>\n  \
         <os>\n    <type arch='x86_64' machine='pc'>hvm</type>\n  </os>\n  \
         <devices>\n    <memballoon model='none'/>\n  </devices>\n</domain>\n",
        Uuid::new_v4()
    )
}

/// `n` firmware definitions of `group`, as (name, XML) pairs.
pub fn firmware_set(group: &str, n: usize) -> Vec<(String, String)> {
    (0..n)
        .map(|i| {
            let name = name(group, i);
            let xml = firmware(&name);
            (name, xml)
        })
        .collect()
}

/// The Linux test guest: direct kernel boot of `dir/vmlinux` with
/// `dir/initrd.img`, 128 MiB, TCG, machine `pc`, ACPI (for the power
/// button) and its console on a pty serial port.
pub fn linux(name: &str, dir: &Path) -> String {
    format!(
        "<domain type='qemu'>\n  <name>{name}</name>\n  <uuid>{}</uuid>\n  \
         <memory unit='MiB'>128</memory>\n  <vcpu>1</vcpu>\n  \
         <os>\n    <type arch='x86_64' machine='pc'>hvm</type>\n    \
         <kernel>{}</kernel>\n    <initrd>{}</initrd>\n    \
         <cmdline>console=ttyS0 quiet</cmdline>\n  </os>\n  \
         <features>\n    <acpi/>\n  </features>\n  \
         <devices>\n    <serial type='pty'>\n      <target port='0'/>\n    </serial>\n  \
         </devices>\n</domain>\n",
        Uuid::new_v4(),
        xml_escape(&dir.join("vmlinux").to_string_lossy()),
        xml_escape(&dir.join("initrd.img").to_string_lossy()),
    )
}

/// Escapes text for an XML element.
fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The directory of the test guest: `explicit` when given, else the one
/// `tests/guest/build-guest.sh` builds (or finds up to date) and prints
/// on its last line.
pub fn guest_dir(explicit: Option<&Path>) -> Result<PathBuf> {
    let dir = match explicit {
        Some(d) => d.to_path_buf(),
        None => {
            let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/guest/build-guest.sh");
            let out = Command::new("bash")
                .arg(&script)
                .stdin(Stdio::null())
                .stderr(Stdio::inherit())
                .output()
                .map_err(|e| Error::io(format!("cannot run {}", script.display()), e))?;
            if !out.status.success() {
                return Err(Error::new(
                    ErrorCode::OperationFailed,
                    format!("{} failed ({})", script.display(), out.status),
                ));
            }
            let text = String::from_utf8_lossy(&out.stdout);
            let last = text
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("");
            PathBuf::from(last.trim())
        }
    };
    for f in ["vmlinux", "initrd.img"] {
        if !dir.join(f).is_file() {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                format!("no {f} in the test guest directory {}", dir.display()),
            ));
        }
    }
    Ok(dir)
}
