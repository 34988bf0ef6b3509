//! The devices that get a PCI address, named apart from the placement
//! (`pci`), so that the modules emitting them need not reach into it.

/// Who gets a PCI address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Dev {
    /// The PCI controller with this index.
    PciController(u32),
    /// An `<interface>`, by position.
    Net(usize),
    /// A `<sound>`, by position.
    Sound(usize),
    /// A SCSI, SATA or virtio-serial controller by kind and index.
    Controller(CtlKind, u32),
    /// A USB controller by index, and its place in the group (master
    /// first, then companions).
    Usb(u32, usize),
    /// A `<disk>`, by position.
    Disk(usize),
    /// The memory balloon.
    Balloon,
    /// An `<rng>`, by position.
    Rng(usize),
    /// A `<watchdog>`, by position.
    Watchdog(usize),
    /// A `<panic model='pvpanic'>`, by position.
    Panic(usize),
    /// A video card, by its place in the list the display module emits
    /// (the primary first).
    Video(usize),
    /// An `<input>`, by position.
    Input(usize),
    /// A `<serial>` with `<target type='pci-serial'>`, by position.
    Serial(usize),
    /// A `<filesystem>`, by position.
    Fs(usize),
    /// A PCI `<hostdev>`, by position among all hostdevs.
    Hostdev(usize),
    /// A `<shmem>`, by position.
    Shmem(usize),
    /// The `<vsock>`.
    Vsock,
    /// A virtio `<iommu>`.
    Iommu,
    /// A virtio `<memory>` device, by position.
    Memory(usize),
}

/// The controllers [`Dev::Controller`] names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum CtlKind {
    /// SCSI.
    Scsi,
    /// SATA.
    Sata,
    /// virtio-serial.
    VirtioSerial,
}
