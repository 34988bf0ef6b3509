//! A tap's receive coalescing (`<coalesce><rx><frames max>`), set as
//! libvirt's `virNetDevSetCoalesce` does: ethtool's `ETHTOOL_SCOALESCE`
//! through the `SIOCETHTOOL` ioctl on the device's name. The tun driver
//! batches up to that many received frames (`rx-frames`, capped by the
//! kernel at its NAPI weight, 64) before handing them to the stack.
//!
//! The current settings are read first (`ETHTOOL_GCOALESCE`) so that
//! only `rx_max_coalesced_frames` changes.

use std::io;
use std::os::fd::OwnedFd;

use nix::libc;

use super::{ifreq, ifreq_ioctl};

/// `ETHTOOL_GCOALESCE` from `<linux/ethtool.h>`.
const ETHTOOL_GCOALESCE: u32 = 0x0000_000e;
/// `ETHTOOL_SCOALESCE` from `<linux/ethtool.h>`.
const ETHTOOL_SCOALESCE: u32 = 0x0000_000f;

/// `struct ethtool_coalesce` from `<linux/ethtool.h>`: the command and
/// 22 `__u32` settings, of which qvirt names the one it sets.
#[repr(C)]
#[derive(Default)]
struct EthtoolCoalesce {
    cmd: u32,
    rx_coalesce_usecs: u32,
    rx_max_coalesced_frames: u32,
    /// `rx_coalesce_usecs_irq` to `rate_sample_interval`.
    rest: [u32; 20],
}

/// One `SIOCETHTOOL` coalesce command on device `name`.
fn ethtool(sock: &OwnedFd, name: &str, c: &mut EthtoolCoalesce) -> io::Result<()> {
    let mut ifr = ifreq(name);
    ifr.ifr_ifru.ifru_data = (c as *mut EthtoolCoalesce).cast();
    ifreq_ioctl(sock, libc::SIOCETHTOOL, &mut ifr)
}

/// The `rx-frames` coalescing of device `name`.
pub(crate) fn rx_frames(sock: &OwnedFd, name: &str) -> io::Result<u32> {
    let mut c = EthtoolCoalesce {
        cmd: ETHTOOL_GCOALESCE,
        ..EthtoolCoalesce::default()
    };
    ethtool(sock, name, &mut c)?;
    Ok(c.rx_max_coalesced_frames)
}

/// Sets the `rx-frames` coalescing of device `name` to `frames`, the
/// other settings as they are; returns what the device then reports
/// (the kernel may cap it), or `frames` when it cannot be read back.
pub(crate) fn set_rx_frames(sock: &OwnedFd, name: &str, frames: u32) -> io::Result<u32> {
    let mut c = EthtoolCoalesce {
        cmd: ETHTOOL_GCOALESCE,
        ..EthtoolCoalesce::default()
    };
    ethtool(sock, name, &mut c)?;
    c.cmd = ETHTOOL_SCOALESCE;
    c.rx_max_coalesced_frames = frames;
    ethtool(sock, name, &mut c)?;
    // As libvirt: a failed read-back does not fail the setting.
    Ok(rx_frames(sock, name).unwrap_or(frames))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_struct_is_the_kernels() {
        // 23 __u32: cmd and 22 settings.
        assert_eq!(std::mem::size_of::<EthtoolCoalesce>(), 92);
        assert_eq!(
            std::mem::offset_of!(EthtoolCoalesce, rx_max_coalesced_frames),
            8
        );
    }
}
