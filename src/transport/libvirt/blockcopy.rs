//! libvirt's two ways into virsh's `blockcopy`: `virDomainBlockCopy`
//! (the destination as `<disk>` XML, typed parameters) and
//! `virDomainBlockRebase` with `VIR_DOMAIN_BLOCK_REBASE_COPY` (the
//! destination as a path, virsh's choice when no option needs the
//! other), both onto [`Driver::block_copy`].

use std::path::PathBuf;

use super::jobstats::{ParamValue, TypedParam};
use super::types::Dom;
use super::values::check_flags;
#[allow(unused_imports)]
use super::xdr::Xdr;
use super::xdr::xdr_struct;
use crate::driver::error::{Error, ErrorCode, Result};
use crate::driver::{BlockCopy, BlockCopyFlags, Driver};
use crate::model::{VolumeFormat, Word};

xdr_struct! {
    /// `remote_domain_block_copy_args`.
    pub struct BlockCopyArgs {
        pub dom: Dom,
        pub path: String,
        pub destxml: String,
        pub params: Vec<TypedParam>,
        pub flags: u32,
    }
}

/// `VIR_DOMAIN_BLOCK_REBASE_*` of a copy.
const REBASE_SHALLOW: u32 = 1;
const REBASE_REUSE_EXT: u32 = 2;
const REBASE_COPY_RAW: u32 = 4;
pub(super) const REBASE_COPY: u32 = 8;
const REBASE_COPY_DEV: u32 = 32;
const REBASE_BYTES: u32 = 64;

/// `VIR_DOMAIN_BLOCK_COPY_SHALLOW`, `_REUSE_EXT`, `_TRANSIENT_JOB`,
/// `_SYNCHRONOUS_WRITES`: qvirt's [`BlockCopyFlags`].
const COPY_FLAGS: u32 = 1 | 2 | 4 | 8;

/// `virDomainBlockCopy`.
pub fn copy(driver: &dyn Driver, a: BlockCopyArgs) -> Result<()> {
    check_flags(a.flags, COPY_FLAGS, "virDomainBlockCopy")?;
    let (dest, format) = destination(&a.destxml)?;
    let mut copy = BlockCopy {
        dest,
        format,
        flags: BlockCopyFlags::from_bits(a.flags).unwrap_or_default(),
        ..BlockCopy::default()
    };
    for p in &a.params {
        match (p.field.as_str(), &p.value) {
            ("bandwidth", ParamValue::ULLong(v)) => copy.bandwidth = *v,
            ("granularity", ParamValue::UInt(v)) => copy.granularity = *v,
            ("buf-size", ParamValue::ULLong(v)) => copy.buf_size = *v,
            (f @ ("bandwidth" | "granularity" | "buf-size"), other) => {
                return Err(Error::new(
                    ErrorCode::InvalidArgument,
                    format!(
                        "invalid type '{}' for parameter '{f}'",
                        super::tunables::type_name(other)
                    ),
                ));
            }
            (f, _) => {
                return Err(Error::new(
                    ErrorCode::ArgumentUnsupported,
                    format!("virDomainBlockCopy: parameter '{f}' not supported"),
                ));
            }
        }
    }
    driver.block_copy(&a.dom.into(), &a.path, &copy)
}

/// `virDomainBlockRebase` with `VIR_DOMAIN_BLOCK_REBASE_COPY`: `base`
/// is the destination; bandwidth in MiB/s unless `..._BANDWIDTH_BYTES`.
pub fn rebase_copy(
    driver: &dyn Driver,
    dom: Dom,
    path: &str,
    base: Option<String>,
    bandwidth: u64,
    flags: u32,
) -> Result<()> {
    check_flags(
        flags,
        REBASE_SHALLOW
            | REBASE_REUSE_EXT
            | REBASE_COPY_RAW
            | REBASE_COPY
            | REBASE_COPY_DEV
            | REBASE_BYTES,
        "virDomainBlockRebase (VIR_DOMAIN_BLOCK_REBASE_COPY)",
    )?;
    let dest = base.ok_or_else(|| {
        Error::new(
            ErrorCode::InvalidArgument,
            "virDomainBlockRebase: a copy needs its destination as base",
        )
    })?;
    let bandwidth = super::blockjobs::bytes_of(bandwidth, flags & REBASE_BYTES != 0)?;
    let copy = BlockCopy {
        dest: PathBuf::from(dest),
        format: (flags & REBASE_COPY_RAW != 0).then_some(VolumeFormat::Raw),
        bandwidth,
        flags: BlockCopyFlags::from_bits(flags & (REBASE_SHALLOW | REBASE_REUSE_EXT))
            .unwrap_or_default(),
        ..BlockCopy::default()
    };
    driver.block_copy(&dom.into(), path, &copy)
}

/// The path and format of a copy's destination `<disk>`: a file
/// (`<source file>`) or a block device (`<source dev>`), in raw or
/// qcow2 (`<driver type>`); what else it may say is refused by name.
fn destination(xml: &str) -> Result<(PathBuf, Option<VolumeFormat>)> {
    let invalid = |m: String| Error::new(ErrorCode::InvalidXml, m);
    let doc = roxmltree::Document::parse(xml)
        .map_err(|e| invalid(format!("the copy's destination XML: {e}")))?;
    let disk = doc.root_element();
    let at = |n: roxmltree::Node| {
        let p = doc.text_pos_at(n.range().start);
        format!("{}:{}", p.row, p.col)
    };
    let unsupported = |what: String, n: roxmltree::Node| {
        Error::new(
            ErrorCode::ConfigUnsupported,
            format!(
                "{}: {what} of a block copy's destination is not supported",
                at(n)
            ),
        )
    };
    if disk.tag_name().name() != "disk" {
        return Err(invalid(format!(
            "{}: a block copy's destination is a <disk>, not <{}>",
            at(disk),
            disk.tag_name().name()
        )));
    }
    let attr = match disk.attribute("type").unwrap_or("file") {
        "file" => "file",
        "block" => "dev",
        other => return Err(unsupported(format!("<disk type='{other}'>"), disk)),
    };
    let mut path = None;
    let mut format = None;
    for child in disk.children().filter(roxmltree::Node::is_element) {
        match child.tag_name().name() {
            "source" => path = child.attribute(attr).map(PathBuf::from),
            "driver" => {
                if let Some(t) = child.attribute("type") {
                    format = Some(
                        VolumeFormat::from_word(t)
                            .ok_or_else(|| unsupported(format!("<driver type='{t}'>"), child))?,
                    );
                }
            }
            // An empty backing chain: the copy stands alone.
            "backingStore" if !child.has_children() && child.attributes().len() == 0 => {}
            other => return Err(unsupported(format!("<{other}>"), child)),
        }
    }
    let path = path.ok_or_else(|| {
        invalid(format!(
            "{}: the copy's destination has no <source {attr}='...'>",
            at(disk)
        ))
    })?;
    Ok((path, format))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_destination_is_a_file_or_a_device_in_raw_or_qcow2() {
        let (p, f) = destination(
            "<disk type='file'><source file='/a/b.qcow2'/><driver type='qcow2'/></disk>",
        )
        .unwrap();
        assert_eq!(
            (p, f),
            (PathBuf::from("/a/b.qcow2"), Some(VolumeFormat::Qcow2))
        );
        let (p, f) = destination("<disk type='block'><source dev='/dev/sdz'/></disk>").unwrap();
        assert_eq!((p, f), (PathBuf::from("/dev/sdz"), None));
        let e = destination("<disk type='network'><source protocol='nbd'/></disk>").unwrap_err();
        assert!(
            e.message.contains("1:1: <disk type='network'>"),
            "{}",
            e.message
        );
        let e = destination("<disk><source file='/x'/><driver type='vmdk'/></disk>").unwrap_err();
        assert!(
            e.message.contains("1:26: <driver type='vmdk'>"),
            "{}",
            e.message
        );
        let e =
            destination("<disk><source file='/x'/><backingStore type='file'/></disk>").unwrap_err();
        assert!(e.message.contains("<backingStore>"), "{}", e.message);
        assert!(destination("<disk><driver type='raw'/></disk>").is_err());
        assert!(destination("<domain/>").is_err());
    }
}
