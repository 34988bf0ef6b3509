//! Reading the parts of a disk's `<source>` that only some sources
//! take: the storage slice of a local image.

use super::el::{El, R, Radix, invalid, set};
use crate::model::DiskSlice;

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
