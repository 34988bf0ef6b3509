//! What a start checks before it runs QEMU, and how it says why QEMU
//! would not start: the files a definition names must be there and
//! usable, and a QEMU that exits at start is summed up by its own last
//! error line, with the log to read for more.

use std::path::Path;

use nix::unistd::{AccessFlags, access};

use crate::error::{Error, ErrorCode, Result};
use crate::model::{CharSource, DiskDevice, DiskType, DomainDef};

/// Checks that every file `def` names for QEMU to open exists and can be
/// opened as QEMU will: disk images (for writing unless read-only),
/// kernel, initrd, firmware, NVRAM template. The first that cannot is
/// the error, naming it as the user wrote it.
pub(crate) fn check_paths(def: &DomainDef) -> Result<()> {
    let fail = |what: String, path: &str, e: nix::errno::Errno| {
        Error::new(
            ErrorCode::Io,
            format!(
                "cannot start domain '{}': {what} {path}: {}",
                def.name,
                std::io::Error::from(e)
            ),
        )
    };
    for disk in &def.devices.disks {
        let Some(source) = &disk.source else { continue };
        if !matches!(
            disk.kind,
            DiskType::File | DiskType::Block | DiskType::Volume | DiskType::Dir
        ) {
            continue;
        }
        let writable = !disk.readonly && matches!(disk.device, DiskDevice::Disk | DiskDevice::Lun);
        let mode = if disk.kind == DiskType::Dir {
            // QEMU lists the directory and reads its files.
            if !Path::new(source).is_dir() {
                return Err(fail(
                    format!("{} {}", disk.device.as_str(), disk.target),
                    source,
                    nix::errno::Errno::ENOTDIR,
                ));
            }
            AccessFlags::R_OK | AccessFlags::X_OK
        } else if writable {
            AccessFlags::R_OK | AccessFlags::W_OK
        } else {
            AccessFlags::R_OK
        };
        access(Path::new(source), mode).map_err(|e| {
            fail(
                format!("{} {}", disk.device.as_str(), disk.target),
                source,
                e,
            )
        })?;
    }
    let os = &def.os;
    let files = [
        ("kernel", os.kernel.as_deref()),
        ("initrd", os.initrd.as_deref()),
        (
            "firmware",
            os.loader.as_ref().and_then(|l| l.path.as_deref()),
        ),
        (
            "NVRAM template",
            os.nvram.as_ref().and_then(|n| n.template.as_deref()),
        ),
        ("ACPI table", os.slic_table.as_deref()),
    ];
    for (what, path) in files {
        if let Some(path) = path {
            access(Path::new(path), AccessFlags::R_OK)
                .map_err(|e| fail(what.to_string(), path, e))?;
        }
    }
    for f in &def.fw_cfg {
        if let Some(path) = &f.file {
            access(Path::new(path), AccessFlags::R_OK)
                .map_err(|e| fail(format!("fw_cfg entry {}", f.name), path, e))?;
        }
    }
    for (what, source) in char_sources(def) {
        if let CharSource::Pipe { path } = source {
            pipe(path)
                .map_err(|e| fail(format!("{what} pipe (nor {path}.in and .out)"), path, e))?;
        }
    }
    Ok(())
}

/// The backend of every character device, with what the device is.
fn char_sources(def: &DomainDef) -> impl Iterator<Item = (&'static str, &CharSource)> {
    let d = &def.devices;
    let smartcards = d.smartcards.iter().filter_map(|s| match &s.mode {
        crate::model::SmartcardMode::Passthrough(c) => Some(("smartcard", c)),
        _ => None,
    });
    let rngs = d.rngs.iter().filter_map(|r| match &r.backend {
        crate::model::RngBackend::Egd(c) => Some(("rng", c)),
        _ => None,
    });
    (d.serials.iter().map(|c| ("serial", &c.source)))
        .chain(d.consoles.iter().map(|c| ("console", &c.source)))
        .chain(d.parallels.iter().map(|c| ("parallel", &c.source)))
        .chain(d.channels.iter().map(|c| ("channel", &c.source)))
        .chain(d.redirdevs.iter().map(|r| ("redirdev", &r.source)))
        .chain(smartcards)
        .chain(rngs)
}

/// A TCP character device with `tls='yes'` needs, in `dir`
/// ([`super::layout::Layout::chardev_tls_dir`]), the CA certificate
/// that checks its peer's and, where QEMU listens, the server's
/// certificate and key: refused before QEMU starts, naming the device
/// and the file.
pub(crate) fn check_chardev_tls(def: &DomainDef, dir: &Path) -> Result<()> {
    for (what, source) in char_sources(def) {
        let CharSource::Tcp {
            listen,
            tls: Some(true),
            service,
            ..
        } = source
        else {
            continue;
        };
        let mut need = vec!["ca-cert.pem"];
        if *listen {
            need.extend(["server-cert.pem", "server-key.pem"]);
        }
        if let Some(missing) = need.iter().map(|f| dir.join(f)).find(|f| !f.is_file()) {
            return Err(Error::new(
                ErrorCode::NoSupport,
                format!(
                    "cannot start domain '{}': the TCP {what} on port {service} (<source tls='yes'>) needs the certificate file {}, and it is not there",
                    def.name,
                    missing.display()
                ),
            ));
        }
    }
    Ok(())
}

/// Whether QEMU can open the named pipes of a `pipe` character device:
/// `PATH.in` and `PATH.out` both, else `PATH` (QEMU opens them for
/// reading and writing).
fn pipe(path: &str) -> nix::Result<()> {
    let rw = AccessFlags::R_OK | AccessFlags::W_OK;
    let pair = access(Path::new(&format!("{path}.in")), rw)
        .and_then(|()| access(Path::new(&format!("{path}.out")), rw));
    pair.or_else(|_| access(Path::new(path), rw))
}

/// libvirt's `startupPolicy` (`qemuDomainCheckDiskStartupPolicy`): each
/// disk of `def` whose source `missing` says is gone is dropped where its
/// policy allows (an `optional` disk on a boot, its medium on any start;
/// a `requisite` medium on a restore or incoming migration) and left for
/// the path checks to refuse otherwise. Returns what was dropped, for the
/// log, each with its disk change event (libvirt's
/// qemuDomainCheckRemoveOptionalDisk tells one).
pub(crate) fn apply_startup_policy(
    def: &mut DomainDef,
    cold_boot: bool,
    missing: impl Fn(&crate::model::Disk) -> bool,
) -> Vec<(String, crate::driver::EventKind)> {
    use crate::model::StartupPolicy;
    let mut dropped = Vec::new();
    // The aliases the disks have before any is left out, as the command
    // line would name them.
    let aliases = crate::qemu::argv::disk_device_ids(def).unwrap_or_default();
    let mut at = 0;
    let mut i = 0;
    while i < def.devices.disks.len() {
        let d = &def.devices.disks[i];
        let medium = matches!(d.device, DiskDevice::Cdrom | DiskDevice::Floppy);
        let drop = match d.startup_policy {
            Some(StartupPolicy::Optional) => cold_boot || medium,
            Some(StartupPolicy::Requisite) => !cold_boot,
            Some(StartupPolicy::Mandatory) | None => false,
        };
        let alias = aliases.get(at).cloned().unwrap_or_else(|| d.target.clone());
        at += 1;
        if !drop || !missing(d) {
            i += 1;
            continue;
        }
        let event = |dropped: bool| crate::driver::EventKind::DiskChange {
            alias: alias.clone(),
            old_path: d.source.clone(),
            new_path: None,
            dropped,
        };
        let what = format!(
            "{} {} ({})",
            d.device.as_str(),
            d.target,
            d.source
                .clone()
                .or_else(|| d
                    .volume
                    .as_ref()
                    .map(|v| format!("{}/{}", v.pool, v.volume)))
                .unwrap_or_default()
        );
        if medium {
            let event = event(false);
            let d = &mut def.devices.disks[i];
            d.source = None;
            d.volume = None;
            if d.kind == DiskType::Volume {
                d.kind = DiskType::File;
            }
            // As libvirt: the policy would be wrong for the next medium.
            d.startup_policy = None;
            dropped.push((
                format!("the medium of {what} is missing: the drive starts empty"),
                event,
            ));
            i += 1;
        } else {
            let event = event(true);
            def.devices.disks.remove(i);
            dropped.push((
                format!("{what} is missing: the domain starts without it"),
                event,
            ));
        }
    }
    dropped
}

/// QEMU's own last error line in the tail of its log (`text`): the last
/// line it wrote under its program name after the manager's `starting:`
/// header, without QEMU's timestamp or program name. `None` when it wrote
/// none.
pub(crate) fn qemu_error_line(text: &str) -> Option<String> {
    let after_start = text
        .rfind(" starting: ")
        .and_then(|i| text[i..].find('\n').map(|n| &text[i + n..]))
        .unwrap_or(text);
    let named = after_start
        .lines()
        .rev()
        .map(str::trim)
        .find_map(|line| {
            // `-msg timestamp=on`: `2026-12-04T11:03:00.123456Z qemu-system-x86_64: ...`.
            let rest = line.split_once(' ').map_or(line, |(first, rest)| {
                if first.ends_with('Z') && first.contains('T') {
                    rest
                } else {
                    line
                }
            });
            let (program, message) = rest.split_once(": ")?;
            program
                .rsplit('/')
                .next()
                .is_some_and(|p| p.starts_with("qemu-system"))
                .then(|| message.trim().to_string())
        })
        .filter(|m| !m.is_empty());
    // Some of QEMU's errors are written without its name (`qemu: linux
    // kernel too old...`, `audio: Unknown audio driver...`): then its last
    // line, but for what it says when all is well.
    named.or_else(|| {
        after_start
            .lines()
            .rev()
            .map(str::trim)
            .find(|l| {
                !l.is_empty()
                    && !l.starts_with("char device redirected")
                    && !l.starts_with("qvirt:")
                    && !l.contains(" starting: ")
            })
            .map(str::to_string)
    })
}

/// A disk with NBD over TLS needs the CA certificate that checks the
/// server's, in `dir` ([`super::layout::Layout::nbd_tls_dir`]): refused
/// before QEMU starts, naming the disk and the file.
pub(crate) fn check_nbd_tls(def: &DomainDef, dir: &Path) -> Result<()> {
    let tls = def
        .devices
        .disks
        .iter()
        .find(|d| d.network.as_ref().is_some_and(|n| n.tls == Some(true)));
    let ca = dir.join("ca-cert.pem");
    match tls {
        Some(d) if !ca.is_file() => Err(Error::new(
            ErrorCode::NoSupport,
            format!(
                "cannot start domain '{}': disk '{}' (<source tls='yes'>) needs the CA certificate {} to check the NBD server's, and it is not there",
                def.name,
                d.target,
                ca.display()
            ),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_qemus_own_last_error() {
        let log = "2026-12-04 10:00:00.000 starting: /usr/bin/qemu-system-x86_64 -name guest=a\n\
                   2026-12-04T10:00:00.100000Z qemu-system-x86_64: -blockdev {\"driver\":\"file\"}: Could not open '/srv/vm/missing.qcow2': No such file or directory\n";
        assert_eq!(
            qemu_error_line(log).as_deref(),
            Some(
                "-blockdev {\"driver\":\"file\"}: Could not open '/srv/vm/missing.qcow2': No such file or directory"
            )
        );
        let plain = "x starting: qemu\n/usr/bin/qemu-system-x86_64: terminating on signal 15\n";
        assert_eq!(
            qemu_error_line(plain).as_deref(),
            Some("terminating on signal 15")
        );
        // An earlier start's error is not this one's.
        let earlier = "a starting: q\nqemu-system-x86_64: old\nb starting: q\n";
        assert_eq!(qemu_error_line(earlier), None);
        // An error QEMU writes without its name: its last line.
        let unnamed = "x starting: qemu\nchar device redirected to /dev/pts/0 (label charserial0)\n\
                       qemu: linux kernel too old to load a ram disk\n";
        assert_eq!(
            qemu_error_line(unnamed).as_deref(),
            Some("qemu: linux kernel too old to load a ram disk")
        );
        let audio = "x starting: qemu\nqemu: module audio-audio-pa not found\naudio: Unknown audio driver `pa'\n";
        assert_eq!(
            qemu_error_line(audio).as_deref(),
            Some("audio: Unknown audio driver `pa'")
        );
    }

    #[test]
    fn names_a_missing_disk_and_kernel() {
        let xml = "<domain type='qemu'><name>p</name><memory unit='MiB'>32</memory>\
                   <os><type arch='x86_64' machine='pc'>hvm</type><kernel>/nonexistent/vmlinuz</kernel></os>\
                   <devices><disk type='file' device='disk'><source file='/nonexistent/d.qcow2'/>\
                   <target dev='vda' bus='virtio'/></disk></devices></domain>";
        let def = DomainDef::from_xml(xml).unwrap();
        let e = check_paths(&def).unwrap_err();
        assert_eq!(e.code, ErrorCode::Io);
        assert!(
            e.message.contains("disk vda /nonexistent/d.qcow2"),
            "{}",
            e.message
        );
        let mut def = def;
        def.devices.disks.clear();
        let e = check_paths(&def).unwrap_err();
        assert!(
            e.message.contains("kernel /nonexistent/vmlinuz"),
            "{}",
            e.message
        );
    }
}
