//! `<iommu>`: an IOMMU the guest programs for its devices' DMA.

use super::words::words;

words! {
    /// `<iommu model=...>`.
    pub enum IommuModel {
        /// Intel VT-d (`intel-iommu`), on Q35.
        Intel = "intel",
        /// virtio-iommu, an integrated PCI device of the root bus (Q35).
        Virtio = "virtio",
        /// ARM's SMMUv3 (refused: an ARM machine's).
        Smmuv3 = "smmuv3",
    }
}

/// `<iommu>` with its `<driver>` switches (Intel's only) and its PCI
/// address (virtio's only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Iommu {
    /// `model`.
    pub model: IommuModel,
    /// `intremap='on|off'`: interrupt remapping.
    pub intremap: Option<bool>,
    /// `caching_mode='on|off'`: needed to pass devices through to a
    /// nested guest.
    pub caching_mode: Option<bool>,
    /// `eim='on|off'`: extended interrupt mode (x2APIC beyond 255 CPUs).
    pub eim: Option<bool>,
    /// `iotlb='on|off'`: the device IOTLB.
    pub iotlb: Option<bool>,
    /// `aw_bits`: the guest address width (39 or 48).
    pub aw_bits: Option<u32>,
    /// `<address>` (virtio): where the device sits on the root bus.
    pub address: Option<super::Address>,
}
