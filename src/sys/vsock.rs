//! The host side of a `<vsock>`: `/dev/vhost-vsock` opened for QEMU with
//! the guest's context ID (CID) claimed on it, as libvirt does (QEMU gets
//! the descriptor, `vhostfd`). The kernel refuses a CID another guest
//! holds, which is how a free one is found.

use std::fs::OpenOptions;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;

use nix::libc;

use crate::error::{Error, ErrorCode, Result};

/// The vhost-vsock device.
pub const VHOST_VSOCK: &str = "/dev/vhost-vsock";

/// `VHOST_VSOCK_SET_GUEST_CID`: `_IOW(VHOST_VIRTIO, 0x60, __u64)`.
const SET_GUEST_CID: libc::c_ulong = 0x4008_af60;

/// The first CID a guest may have (0 to 2 are the hypervisor's, the
/// loopback's and the host's).
const FIRST_GUEST_CID: u32 = 3;

/// How many CIDs are tried for an automatic one before giving up.
const AUTO_TRIES: u32 = 65_536;

/// Opens the vhost-vsock device and claims `cid` on it, or for `None`
/// the first free CID from 3. Returns the descriptor and the CID.
///
/// Errors: [`ErrorCode::NoSupport`] when the device is missing (the
/// `vhost_vsock` module is not loaded); [`ErrorCode::OperationFailed`]
/// when the CID is taken, or none is free.
pub fn claim(cid: Option<u32>, domain: &str) -> Result<(OwnedFd, u32)> {
    let dev = OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_CLOEXEC)
        .open(VHOST_VSOCK)
        .map_err(|e| {
            let code = if e.kind() == std::io::ErrorKind::NotFound {
                ErrorCode::NoSupport
            } else {
                ErrorCode::OperationFailed
            };
            Error::new(
                code,
                format!(
                    "cannot start domain '{domain}': its <vsock> needs {VHOST_VSOCK} ({e}; the host's vhost_vsock module provides it)"
                ),
            )
        })?;
    let fd = OwnedFd::from(dev);
    let set = |c: u32| {
        let value = u64::from(c);
        // SAFETY: the ioctl reads one u64 through the pointer, which
        // lives across the call.
        #[allow(unsafe_code)]
        let rc = unsafe { libc::ioctl(fd.as_raw_fd(), SET_GUEST_CID as _, &value) };
        if rc == 0 {
            Ok(())
        } else {
            Err(std::io::Error::last_os_error())
        }
    };
    let claimed = match cid {
        Some(c) => set(c).map(|()| c).map_err(|e| {
            Error::new(
                ErrorCode::OperationFailed,
                format!("cannot start domain '{domain}': vsock CID {c} cannot be claimed: {e}"),
            )
        })?,
        None => (FIRST_GUEST_CID..FIRST_GUEST_CID + AUTO_TRIES)
            .find_map(|c| match set(c) {
                Ok(()) => Some(Ok(c)),
                Err(e) if e.raw_os_error() == Some(libc::EADDRINUSE) => None,
                Err(e) => Some(Err(e)),
            })
            .unwrap_or_else(|| Err(std::io::Error::from_raw_os_error(libc::EADDRINUSE)))
            .map_err(|e| {
                Error::new(
                    ErrorCode::OperationFailed,
                    format!("cannot start domain '{domain}': no free vsock CID from {FIRST_GUEST_CID}: {e}"),
                )
            })?,
    };
    Ok((fd, claimed))
}
