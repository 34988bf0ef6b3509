//! Reading the parts of a disk's `<source>` that only some sources
//! take: the storage slice of a local image, the options of an HTTP(S)
//! or FTP(S) source.

use super::el::{El, R, Radix, invalid, set, unsupported};
use crate::model::{DiskProtocol, DiskSlice};

/// `<slices>` with its one `<slice type='storage' offset= size=>`
/// (libvirt's virDomainStorageSourceParseSlices: offset and size both
/// required, in bytes).
pub(super) fn slices(e: El) -> R<DiskSlice> {
    e.allow(&[])?;
    let mut slice = None;
    for c in e.children()? {
        if c.name() != "slice" {
            c.skip()?;
            continue;
        }
        set(&mut slice, c, |c| {
            c.allow(&["type", "offset", "size"])?;
            c.empty()?;
            c.req("type")?;
            c.choice("type", &[("storage", ())])?;
            let (Some(offset), Some(size)) =
                (c.u64("offset", Radix::Dec)?, c.u64("size", Radix::Dec)?)
            else {
                return Err(invalid(format!(
                    "missing offset or size attribute of slice at {}",
                    c.at()
                )));
            };
            Ok(DiskSlice { offset, size })
        })?;
    }
    slice.ok_or_else(|| invalid(format!("<slices> at {} has no <slice>", e.at())))
}

/// The options of QEMU's curl protocols a network source may have, each
/// `Some` once read.
#[derive(Default)]
pub(super) struct CurlOptions {
    pub(super) cookies: Option<Vec<(String, String)>>,
    pub(super) readahead: Option<Option<u64>>,
    pub(super) timeout: Option<Option<u64>>,
    pub(super) ssl_verify: Option<Option<bool>>,
}

/// Reads `c` into `o` when it is a curl option of `protocol`
/// (virDomainDiskSourceNetworkParse): `<ssl>` for https and ftps,
/// `<cookies>` for http and https, `<readahead>` and `<timeout>` for
/// all four. Whether it was one.
pub(super) fn curl_option(o: &mut CurlOptions, protocol: DiskProtocol, c: El) -> R<bool> {
    use DiskProtocol::{Ftp, Ftps, Http, Https};
    let curl = matches!(protocol, Http | Https | Ftp | Ftps);
    match c.name() {
        "ssl" if matches!(protocol, Https | Ftps) => set(&mut o.ssl_verify, c, |c| {
            c.allow(&["verify"])?;
            c.empty()?;
            c.yes_no("verify")
        })?,
        "cookies" if matches!(protocol, Http | Https) => set(&mut o.cookies, c, cookies)?,
        // 0 is libvirt's unset: not written back.
        "readahead" if curl => set(&mut o.readahead, c, |c| {
            c.allow(&["size"])?;
            c.empty()?;
            Ok(curl_number(c, "size")?.filter(|n| *n > 0))
        })?,
        "timeout" if curl => set(&mut o.timeout, c, |c| {
            c.allow(&["seconds"])?;
            c.empty()?;
            Ok(curl_number(c, "seconds")?.filter(|n| *n > 0))
        })?,
        _ => return Ok(false),
    }
    Ok(true)
}

fn curl_number(c: El, name: &str) -> R<Option<u64>> {
    match c.get(name) {
        None => Ok(None),
        Some(v) => super::el::parse_uint(v, Radix::Dec)
            .map(Some)
            .ok_or_else(|| invalid(format!("invalid readahead size or timeout at {}", c.at()))),
    }
}

/// Characters no cookie name or value may have (libvirt's
/// virStorageSourceNetCookieValidate): controls, space, `"`, `,`, `;`
/// and `\`.
fn bad_cookie_char(ch: char) -> bool {
    ch.is_ascii_control() || " \",;\\".contains(ch)
}

/// `<cookies>`: each `<cookie name=...>VALUE</cookie>`, under libvirt's
/// rules: a name of token characters, a value of cookie characters
/// (optionally in double quotes), each name once.
fn cookies(e: El) -> R<Vec<(String, String)>> {
    e.allow(&[])?;
    let mut out: Vec<(String, String)> = Vec::new();
    for c in e.children()? {
        if c.name() != "cookie" {
            c.skip()?;
            continue;
        }
        let cookie = c.read(|c| {
            c.allow(&["name"])?;
            let Some(name) = c.get("name") else {
                return Err(invalid(format!("missing cookie name at {}", c.at())));
            };
            let value = c.text()?;
            if value.is_empty() {
                return Err(invalid(format!(
                    "missing value for cookie '{name}' at {}",
                    c.at()
                )));
            }
            if name.is_empty() {
                return Err(invalid(format!(
                    "cookie name must not be empty at {}",
                    c.at()
                )));
            }
            if name
                .chars()
                .any(|ch| bad_cookie_char(ch) || "()<>@:/[]?={}".contains(ch))
            {
                return Err(invalid(format!(
                    "cookie name '{name}' contains invalid characters, at {}",
                    c.at()
                )));
            }
            let inner = match value.strip_prefix('"') {
                Some(rest) => rest.strip_suffix('"').ok_or_else(|| {
                    invalid(format!(
                        "value of cookie '{name}' contains invalid characters, at {}",
                        c.at()
                    ))
                })?,
                None => value.as_str(),
            };
            if inner.chars().any(bad_cookie_char) {
                return Err(invalid(format!(
                    "value of cookie '{name}' contains invalid characters, at {}",
                    c.at()
                )));
            }
            Ok((name.to_string(), value.clone()))
        })?;
        let Some((name, value)) = cookie else {
            continue;
        };
        if out.iter().any(|(n, _)| *n == name) {
            return Err(invalid(format!("duplicate cookie '{name}' at {}", c.at())));
        }
        out.push((name, value));
    }
    Ok(out)
}

/// libvirt's rules for a directory as a disk (qemuDomainValidateStorageSource
/// and its post-parse): the format is `fat` (or not written), and only a
/// directory has it; the FAT image is read-only (a cdrom always is); it
/// is not encrypted.
pub(super) fn fat_rules(d: &crate::model::Disk, e: El) -> R<()> {
    use crate::model::{DiskDevice, DiskFormat, DiskType};
    let dir = d.kind == DiskType::Dir;
    if d.format != Some(DiskFormat::Fat) && !dir {
        return Ok(());
    }
    // Where, only once something is wrong: finding it reads the document.
    let at = e.at();
    if !dir {
        return Err(unsupported(format!(
            "storage format 'fat' is supported only with 'dir' storage type, at {at}"
        )));
    }
    if !matches!(d.format, None | Some(DiskFormat::Fat)) {
        return Err(unsupported(format!(
            "storage type 'dir' requires use of storage format 'fat', at {at}"
        )));
    }
    if !d.readonly && d.device != DiskDevice::Cdrom {
        return Err(unsupported(format!(
            "virtual FAT storage can't be accessed in read-write mode, at {at}"
        )));
    }
    if d.encryption.is_some() {
        return Err(unsupported(format!(
            "disk encryption at {at} is supported only with 'raw' and 'qcow2' image format, not 'fat'"
        )));
    }
    Ok(())
}

/// libvirt's virDomainDiskDefSourceLUNValidate: a `device='lun'` disk
/// passes the guest's SCSI commands to a host block device (its SG_IO)
/// or to an iSCSI target (through QEMU's initiator), so its bytes are the
/// device's own: no image format, slice or encryption layer between.
pub(super) fn lun_rules(d: &crate::model::Disk, e: El) -> R<()> {
    use crate::model::{DiskDevice, DiskFormat, DiskType};
    if d.device != DiskDevice::Lun {
        return Ok(());
    }
    let at = e.at();
    match (d.kind, d.network.as_ref().map(|n| n.protocol)) {
        (DiskType::Block, _) | (DiskType::Network, Some(DiskProtocol::Iscsi)) => {}
        (DiskType::Network, Some(p)) => {
            return Err(unsupported(format!(
                "disk device='lun' is not supported for protocol='{}', at {at}: only an iSCSI network disk passes SCSI commands",
                p.as_str()
            )));
        }
        (kind, _) => {
            return Err(unsupported(format!(
                "disk device='lun' is only valid for block type disk source (or an iSCSI network source), not type='{}', at {at}",
                kind.as_str()
            )));
        }
    }
    if d.format.is_some_and(|f| f != DiskFormat::Raw) {
        return Err(unsupported(format!(
            "disk device 'lun' must use 'raw' format, at {at}"
        )));
    }
    if d.slice.is_some() {
        return Err(unsupported(format!(
            "disk device 'lun' at {at} doesn't support storage slice"
        )));
    }
    if d.encryption.is_some() {
        return Err(unsupported(format!(
            "disk device 'lun' at {at} doesn't support encryption"
        )));
    }
    Ok(())
}
