//! The `<driver>` of a network interface (the virtio-net device's
//! options and its host backend's data path) and its `<bandwidth>`.

use super::VirtioOptions;
use super::words::words;

words! {
    /// `<interface><driver name=...>`: where the virtio-net data path runs.
    pub enum NetDriverName {
        /// In QEMU itself.
        Qemu = "qemu",
        /// In the host kernel (vhost-net), for tap backends.
        Vhost = "vhost",
    }

    /// `<interface><driver txmode=...>`: how QEMU transmits.
    pub enum NetTxMode {
        /// From a bottom half (QEMU's `tx=bh`).
        Iothread = "iothread",
        /// From a timer (QEMU's `tx=timer`).
        Timer = "timer",
    }
}

/// `<host>` offloads of an interface driver: what the device accepts
/// from the host side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HostOffloads {
    /// `csum`.
    pub csum: Option<bool>,
    /// `gso`.
    pub gso: Option<bool>,
    /// `tso4`.
    pub tso4: Option<bool>,
    /// `tso6`.
    pub tso6: Option<bool>,
    /// `ecn`.
    pub ecn: Option<bool>,
    /// `ufo`.
    pub ufo: Option<bool>,
    /// `mrg_rxbuf`: mergeable receive buffers.
    pub mrg_rxbuf: Option<bool>,
}

/// `<guest>` offloads of an interface driver: what the guest may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GuestOffloads {
    /// `csum`.
    pub csum: Option<bool>,
    /// `tso4`.
    pub tso4: Option<bool>,
    /// `tso6`.
    pub tso6: Option<bool>,
    /// `ecn`.
    pub ecn: Option<bool>,
    /// `ufo`.
    pub ufo: Option<bool>,
}

/// `<interface><driver ...>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NetDriver {
    /// `name`.
    pub name: Option<NetDriverName>,
    /// `txmode`.
    pub txmode: Option<NetTxMode>,
    /// `ioeventfd='on|off'`.
    pub ioeventfd: Option<bool>,
    /// `event_idx='on|off'`.
    pub event_idx: Option<bool>,
    /// `queues`: the number of queue pairs (multiqueue when above 1).
    pub queues: Option<u32>,
    /// `rx_queue_size`.
    pub rx_queue_size: Option<u32>,
    /// `tx_queue_size`.
    pub tx_queue_size: Option<u32>,
    /// `rss='on|off'`: receive-side scaling.
    pub rss: Option<bool>,
    /// `rss_hash_report='on|off'`.
    pub rss_hash_report: Option<bool>,
    /// `<host>`.
    pub host: HostOffloads,
    /// `<guest>`.
    pub guest: GuestOffloads,
    /// The virtio options (`iommu`, `ats`, `packed`, `page_per_vq`).
    pub virtio: VirtioOptions,
}

impl NetDriver {
    /// The queue pairs the device gets: `queues`, or one.
    pub fn queue_pairs(&self) -> u32 {
        self.queues.unwrap_or(1).max(1)
    }
}

/// `<bandwidth>` of an interface: the guest's traffic shaped on the
/// host device with `tc`, as libvirt does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Bandwidth {
    /// `<inbound>`: traffic to the guest.
    pub inbound: Option<BandwidthRate>,
    /// `<outbound>`: traffic from the guest.
    pub outbound: Option<BandwidthRate>,
}

/// `<inbound>` or `<outbound average= peak= burst=>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BandwidthRate {
    /// `average`: the rate kept on average, in KiB/s.
    pub average: u64,
    /// `peak`: the most it may send at, in KiB/s (`<inbound>` only takes
    /// effect as the class ceiling).
    pub peak: Option<u64>,
    /// `burst`: how much may go at peak speed, in KiB.
    pub burst: Option<u64>,
}
