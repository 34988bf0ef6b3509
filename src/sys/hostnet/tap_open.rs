//! Taps the manager uses without making them: one the user made
//! (`<target managed='no'>`), checked and set up as libvirt does, and
//! opening a tap through another tun/tap control device (`<backend
//! tap>`) for QEMU, which only opens `/dev/net/tun` by itself.

use std::os::fd::OwnedFd;

use nix::libc;

use super::{ifreq, ifreq_ioctl, run_script, tap_host, tun_device};
use crate::error::{Error, ErrorCode, Result};
use crate::model::{DomainDef, InterfaceType};

/// Sets up interface `index` of domain `dom`, whose tap (`<target dev
/// managed='no'>`) the user made: it must exist and be a tap; the
/// manager only runs its script and gives it its addresses and routes
/// (as libvirt's `qemuInterfaceEthernetConnect` and
/// `qemuInterfaceStartDevice` do), and QEMU opens it by name.
pub(super) fn use_users_tap(dom: &str, index: usize, net: &crate::model::Interface) -> Result<()> {
    let tap = net.target_dev.as_deref().unwrap_or_default();
    let what = format!(
        "tap '{tap}' of interface {index} ({}) of domain '{dom}' (<target dev='{tap}' managed='no'>)",
        net.mac
    );
    let sys = std::path::Path::new("/sys/class/net").join(tap);
    if !sys.exists() {
        return Err(Error::new(
            ErrorCode::OperationFailed,
            format!(
                "cannot start domain '{dom}': the {what} does not exist on this host; with managed='no' it is made beforehand (e.g. `ip tuntap add {tap} mode tap`), or leave managed out for qvirt to make it"
            ),
        ));
    }
    if sys.join("macvtap").exists() {
        // libvirt opens such a one's character device; qvirt does that
        // only for the macvtaps of direct interfaces, which it makes.
        return Err(Error::new(
            ErrorCode::ConfigUnsupported,
            format!(
                "cannot start domain '{dom}': the {what} is a macvtap, which qvirt does not take as a tap made beforehand; use <interface type='direct'> for a macvtap qvirt makes"
            ),
        ));
    }
    if !sys.join("tun_flags").exists() {
        return Err(Error::new(
            ErrorCode::OperationFailed,
            format!(
                "cannot start domain '{dom}': the {what} is not a tap device (a tun/tap device made with `ip tuntap add {tap} mode tap`)"
            ),
        ));
    }
    let started = |e: Error| {
        Error::new(
            e.code,
            format!("cannot start domain '{dom}': {}", e.message),
        )
    };
    if let Some(script) = &net.scripts.up {
        run_script(script, tap).map_err(started)?;
    }
    if let Err(e) = tap_host::add_addresses(tap, &net.tap) {
        let _ = tap_host::remove_addresses(tap, &net.tap);
        return Err(started(e));
    }
    Ok(())
}

/// Opens, through its `<backend tap>` device, the tap of each bridge or
/// ethernet interface of `def` that names one (already made and named in
/// its `target_dev`), as libvirt's `virNetDevTapCreate` opens it with
/// its `tunpath`: QEMU gets it as a descriptor, with virtio's
/// network header where the NIC is virtio. Returns each one's interface
/// index and descriptor.
pub(crate) fn open_custom_taps(def: &DomainDef) -> Result<Vec<(usize, OwnedFd)>> {
    let mut fds = Vec::new();
    for (i, net) in def.devices.interfaces.iter().enumerate() {
        let (Some(tun), Some(tap)) = (&net.tap.tun_path, &net.target_dev) else {
            continue;
        };
        if !matches!(net.kind, InterfaceType::Bridge(_) | InterfaceType::Ethernet) {
            continue;
        }
        let virtio = net
            .model
            .as_deref()
            .is_some_and(|m| m.to_ascii_lowercase().starts_with("virtio"));
        let opened = tun_device(tun).and_then(|f| {
            let mut ifr = ifreq(tap);
            let hdr = if virtio { libc::IFF_VNET_HDR } else { 0 };
            ifr.ifr_ifru.ifru_flags = (libc::IFF_TAP | libc::IFF_NO_PI | hdr) as libc::c_short;
            ifreq_ioctl(&f, libc::TUNSETIFF as libc::c_ulong, &mut ifr)?;
            Ok(OwnedFd::from(f))
        });
        match opened {
            Ok(fd) => fds.push((i, fd)),
            Err(e) => {
                return Err(Error::new(
                    ErrorCode::OperationFailed,
                    format!(
                        "cannot start domain '{}': cannot open tap '{tap}' of interface {i} through {tun} (<backend tap='{tun}'>): {e}",
                        def.name
                    ),
                ));
            }
        }
    }
    Ok(fds)
}
