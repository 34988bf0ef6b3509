//! Bytes of a domain's disk and memory as libvirt's calls give them
//! (python3-libvirt's `blockPeek` and `memoryPeek`), through
//! [`Driver::block_peek`] and [`Driver::memory_peek`], with libvirt's
//! limits: at most `REMOTE_DOMAIN_*_PEEK_BUFFER_MAX` bytes, and for
//! memory exactly one of `VIR_MEMORY_VIRTUAL` and `VIR_MEMORY_PHYSICAL`.

use super::frame::{code, libvirt_error};
use super::types::Dom;
use super::values::check_flags;
#[allow(unused_imports)]
use super::xdr::Xdr;
use super::xdr::{Opaque, xdr_struct};
use crate::driver::error::{Error, ErrorCode, Result};
use crate::driver::{Domain, DomainState, Driver};

xdr_struct! {
    /// `remote_domain_block_peek_args`.
    pub struct BlockPeekArgs { pub dom: Dom, pub path: String, pub offset: u64, pub size: u32, pub flags: u32 }
    /// `remote_domain_memory_peek_args`.
    pub struct MemoryPeekArgs { pub dom: Dom, pub offset: u64, pub size: u32, pub flags: u32 }
    /// `remote_domain_block_peek_ret` and `remote_domain_memory_peek_ret`.
    pub struct PeekRet { pub buffer: Opaque }
}

/// `REMOTE_DOMAIN_BLOCK_PEEK_BUFFER_MAX` and
/// `REMOTE_DOMAIN_MEMORY_PEEK_BUFFER_MAX`.
const BUFFER_MAX: u32 = 4 * 1024 * 1024;
/// `VIR_MEMORY_VIRTUAL` and `VIR_MEMORY_PHYSICAL`.
const VIRTUAL: u32 = 1;
const PHYSICAL: u32 = 2;

/// Refuses a size past what a reply carries, as libvirtd does.
fn check_size(size: u32) -> Result<usize> {
    if size > BUFFER_MAX {
        return Err(libvirt_error(
            code::RPC,
            ErrorCode::Protocol,
            "size > maximum buffer size",
        ));
    }
    Ok(size as usize)
}

/// `virDomainBlockPeek`.
pub fn block_peek(driver: &dyn Driver, a: BlockPeekArgs) -> Result<PeekRet> {
    check_flags(a.flags, 0, "virDomainBlockPeek")?;
    let size = check_size(a.size)?;
    let bytes = driver.block_peek(&Domain::from(&a.dom), &a.path, a.offset, size)?;
    Ok(PeekRet {
        buffer: Opaque(bytes),
    })
}

/// `virDomainMemoryPeek`.
pub fn memory_peek(driver: &dyn Driver, a: MemoryPeekArgs) -> Result<PeekRet> {
    check_flags(a.flags, VIRTUAL | PHYSICAL, "virDomainMemoryPeek")?;
    if a.flags != VIRTUAL && a.flags != PHYSICAL {
        return Err(Error::new(
            ErrorCode::InvalidArgument,
            "flags parameter must be VIR_MEMORY_VIRTUAL or VIR_MEMORY_PHYSICAL",
        ));
    }
    let size = check_size(a.size)?;
    let dom = Domain::from(&a.dom);
    if driver.info(&dom)?.state == DomainState::Shutoff {
        return Err(super::resources::not_running(&dom));
    }
    let bytes = driver.memory_peek(&dom, a.offset, size, a.flags == PHYSICAL)?;
    Ok(PeekRet {
        buffer: Opaque(bytes),
    })
}
