//! Core dumps as libvirt's calls ask for them (virsh's `dump`):
//! `virDomainCoreDump` and `virDomainCoreDumpWithFormat`, through
//! [`Driver::core_dump`]. Bypassing the host's page cache is refused by
//! name: QEMU writes the dump through the file qvirt hands it.

use super::types::Dom;
use super::values::check_flags;
#[allow(unused_imports)]
use super::xdr::Xdr;
use super::xdr::xdr_struct;
use crate::driver::error::{Error, ErrorCode, Result};
use crate::driver::{Domain, Driver, DumpFormat, DumpOptions};

xdr_struct! {
    /// `remote_domain_core_dump_args`.
    pub struct CoreDumpArgs { pub dom: Dom, pub to: String, pub flags: u32 }
    /// `remote_domain_core_dump_with_format_args`.
    pub struct CoreDumpFormatArgs { pub dom: Dom, pub to: String, pub dumpformat: u32, pub flags: u32 }
}

/// `VIR_DUMP_CRASH`.
pub const CRASH: u32 = 1;
/// `VIR_DUMP_LIVE`.
pub const LIVE: u32 = 2;
/// `VIR_DUMP_BYPASS_CACHE`.
pub const BYPASS_CACHE: u32 = 4;
/// `VIR_DUMP_RESET`.
pub const RESET: u32 = 8;
/// `VIR_DUMP_MEMORY_ONLY`.
pub const MEMORY_ONLY: u32 = 16;

/// libvirt's `virDomainCoreDumpFormat` numbers, in order.
const FORMATS: [DumpFormat; 5] = [
    DumpFormat::Raw,
    DumpFormat::KdumpZlib,
    DumpFormat::KdumpLzo,
    DumpFormat::KdumpSnappy,
    DumpFormat::WinDmp,
];

/// libvirt's number for `format`.
pub fn format_number(format: DumpFormat) -> u32 {
    FORMATS.iter().position(|f| *f == format).unwrap_or(0) as u32
}

/// libvirt's flags for `o`.
pub fn flags_of(o: &DumpOptions) -> u32 {
    [
        (o.crash, CRASH),
        (o.live, LIVE),
        (o.reset, RESET),
        (o.memory_only, MEMORY_ONLY),
    ]
    .iter()
    .filter(|(on, _)| *on)
    .fold(0, |acc, (_, bit)| acc | bit)
}

/// The dump `flags` and `dumpformat` ask for.
fn options(flags: u32, dumpformat: u32, function: &str) -> Result<DumpOptions> {
    check_flags(
        flags,
        CRASH | LIVE | BYPASS_CACHE | RESET | MEMORY_ONLY,
        function,
    )?;
    if flags & BYPASS_CACHE != 0 {
        return Err(Error::new(
            ErrorCode::NoSupport,
            format!(
                "{function}: bypassing the host's page cache (VIR_DUMP_BYPASS_CACHE) is not offered: QEMU writes the dump through the file qvirt hands it"
            ),
        ));
    }
    let format = *FORMATS.get(dumpformat as usize).ok_or_else(|| {
        Error::new(
            ErrorCode::InvalidArgument,
            format!("unknown dumpformat '{dumpformat}'"),
        )
    })?;
    Ok(DumpOptions {
        format,
        crash: flags & CRASH != 0,
        live: flags & LIVE != 0,
        reset: flags & RESET != 0,
        memory_only: flags & MEMORY_ONLY != 0,
    })
}

/// `virDomainCoreDump`: a raw dump.
pub fn core_dump(driver: &dyn Driver, a: CoreDumpArgs) -> Result<()> {
    let o = options(a.flags, 0, "virDomainCoreDump")?;
    driver.core_dump(&Domain::from(&a.dom), std::path::Path::new(&a.to), o)
}

/// `virDomainCoreDumpWithFormat`.
pub fn core_dump_with_format(driver: &dyn Driver, a: CoreDumpFormatArgs) -> Result<()> {
    let o = options(a.flags, a.dumpformat, "virDomainCoreDumpWithFormat")?;
    driver.core_dump(&Domain::from(&a.dom), std::path::Path::new(&a.to), o)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_and_formats_read_back_as_given() {
        let o = options(MEMORY_ONLY | RESET, 1, "f").unwrap();
        assert_eq!(o.format, DumpFormat::KdumpZlib);
        assert!(o.memory_only && o.reset && !o.crash && !o.live);
        assert_eq!(flags_of(&o), MEMORY_ONLY | RESET);
        assert_eq!(format_number(o.format), 1);
        assert_eq!(
            options(0, 5, "f").unwrap_err().code,
            ErrorCode::InvalidArgument
        );
        assert_eq!(
            options(BYPASS_CACHE, 0, "f").unwrap_err().code,
            ErrorCode::NoSupport
        );
    }
}
