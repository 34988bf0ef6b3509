//! Reading an interface's `<driver>` and the `<rom>` a PCI device shows.

use super::devices::{VIRTIO_ATTRS, virtio_attrs};
use super::el::{El, R, Radix, set};
use crate::model::{GuestOffloads, HostOffloads, HostdevRom, NetDriver};

/// `<rom bar= file= enabled=>` of a PCI device (a NIC, a host device).
pub(super) fn rom(c: El) -> R<HostdevRom> {
    c.allow(&["bar", "file", "enabled"])?;
    c.empty()?;
    Ok(HostdevRom {
        bar: c.on_off("bar")?,
        file: c.get("file").map(str::to_string),
        enabled: c.yes_no("enabled")?,
    })
}

const DRIVER_ATTRS: &[&str] = &[
    "name",
    "txmode",
    "ioeventfd",
    "event_idx",
    "queues",
    "rx_queue_size",
    "tx_queue_size",
    "rss",
    "rss_hash_report",
];

/// `<interface><driver>` with its `<host>` and `<guest>` offloads.
pub(super) fn net_driver(e: El) -> R<NetDriver> {
    let mut d = NetDriver {
        virtio: {
            // The virtio options are attributes of the same element.
            let mut allowed = VIRTIO_ATTRS.to_vec();
            allowed.extend_from_slice(DRIVER_ATTRS);
            e.allow(&allowed)?;
            virtio_attrs(e)?
        },
        name: e.word("name")?,
        txmode: e.word("txmode")?,
        ioeventfd: e.on_off("ioeventfd")?,
        event_idx: e.on_off("event_idx")?,
        queues: e.u32("queues", Radix::Dec)?,
        rx_queue_size: e.u32("rx_queue_size", Radix::Dec)?,
        tx_queue_size: e.u32("tx_queue_size", Radix::Dec)?,
        rss: e.on_off("rss")?,
        rss_hash_report: e.on_off("rss_hash_report")?,
        ..NetDriver::default()
    };
    let (mut host, mut guest) = (None, None);
    for c in e.children()? {
        match c.name() {
            "host" => set(&mut host, c, |c| {
                c.allow(&["csum", "gso", "tso4", "tso6", "ecn", "ufo", "mrg_rxbuf"])?;
                c.empty()?;
                Ok(HostOffloads {
                    csum: c.on_off("csum")?,
                    gso: c.on_off("gso")?,
                    tso4: c.on_off("tso4")?,
                    tso6: c.on_off("tso6")?,
                    ecn: c.on_off("ecn")?,
                    ufo: c.on_off("ufo")?,
                    mrg_rxbuf: c.on_off("mrg_rxbuf")?,
                })
            })?,
            "guest" => set(&mut guest, c, |c| {
                c.allow(&["csum", "tso4", "tso6", "ecn", "ufo"])?;
                c.empty()?;
                Ok(GuestOffloads {
                    csum: c.on_off("csum")?,
                    tso4: c.on_off("tso4")?,
                    tso6: c.on_off("tso6")?,
                    ecn: c.on_off("ecn")?,
                    ufo: c.on_off("ufo")?,
                })
            })?,
            _ => c.skip()?,
        }
    }
    d.host = host.unwrap_or_default();
    d.guest = guest.unwrap_or_default();
    Ok(d)
}

/// `<bandwidth>` with its `<inbound>` and `<outbound>`; `None` when it
/// sets no rate. A rate needs its `average` (libvirt's rule; `floor`,
/// a guarantee from a libvirt network's QoS, is refused: qvirt has no
/// such network).
pub(super) fn bandwidth(e: El) -> R<Option<crate::model::Bandwidth>> {
    e.allow(&[])?;
    let rate = |c: El, inbound: bool| -> R<crate::model::BandwidthRate> {
        if inbound {
            c.allow(&["average", "peak", "burst", "floor"])?;
        } else {
            c.allow(&["average", "peak", "burst"])?;
        }
        c.empty()?;
        if c.get("floor").is_some() {
            return Err(c.bad_value(
                crate::model::ModelErrorKind::Unsupported,
                "floor",
                "a guaranteed floor needs a libvirt network with QoS, which qvirt does not have",
            ));
        }
        let average = c
            .u64("average", Radix::Dec)?
            .filter(|a| *a > 0)
            .ok_or_else(|| {
                super::el::invalid(format!(
                    "Missing mandatory average or floor attributes in <{}> at {}",
                    c.name(),
                    c.at()
                ))
            })?;
        Ok(crate::model::BandwidthRate {
            average,
            peak: c.u64("peak", Radix::Dec)?,
            burst: c.u64("burst", Radix::Dec)?,
        })
    };
    let (mut inbound, mut outbound) = (None, None);
    for c in e.children()? {
        match c.name() {
            "inbound" => set(&mut inbound, c, |c| rate(c, true))?,
            "outbound" => set(&mut outbound, c, |c| rate(c, false))?,
            _ => c.skip()?,
        }
    }
    let b = crate::model::Bandwidth { inbound, outbound };
    Ok((b != crate::model::Bandwidth::default()).then_some(b))
}
