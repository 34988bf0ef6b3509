//! `<vsock>`: a virtio socket between host and guest (AF_VSOCK), reached
//! by the guest's context ID (CID).

use super::devices::{Address, VirtioOptions};
use super::words::words;

words! {
    /// `<vsock model=...>`.
    pub enum VsockModel {
        /// virtio (`vhost-vsock-pci`).
        Virtio = "virtio",
        /// virtio 0.9 and 1.0 (conventional PCI only).
        VirtioTransitional = "virtio-transitional",
        /// virtio 1.0 only.
        VirtioNonTransitional = "virtio-non-transitional",
    }
}

/// `<vsock>`: at most one per domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vsock {
    /// `model`; `None` when not written (virtio).
    pub model: Option<VsockModel>,
    /// `<cid auto=...>`: the manager picks a free CID at each start
    /// (libvirt's default when no address is given).
    pub auto_cid: bool,
    /// `<cid address=...>`: the guest's CID (3 and up), fixed, or the
    /// one picked for a running domain.
    pub cid: Option<u32>,
    /// `<driver>` virtio options.
    pub virtio: VirtioOptions,
    /// `<address>`.
    pub address: Option<Address>,
}
