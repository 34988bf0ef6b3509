//! A device's XML as libvirt's `virNodeDeviceDefFormat` writes it.

use super::read::{Cap, DevHost, Device, Pci, PciAddr, PcieLink, Storage, System};
use crate::model::xmlwrite::{Attrs, XmlWriter};

/// `virPCIELinkSpeed`'s names, by the register's number.
const LINK_SPEEDS: &[&str] = &["", "2.5", "5", "8", "16", "32", "64"];

/// The device's XML.
pub(super) fn device_xml(_host: &DevHost, d: &Device) -> String {
    let mut w = XmlWriter::new();
    w.open("device", Attrs::new());
    w.text("name", Attrs::new(), &d.name);
    if let Some(p) = &d.path {
        w.text("path", Attrs::new(), p);
    }
    if let Some(n) = &d.devnode {
        w.text("devnode", Attrs::new().add("type", "dev"), n);
    }
    for l in &d.devlinks {
        w.text("devnode", Attrs::new().add("type", "link"), l);
    }
    if let Some(p) = &d.parent {
        w.text("parent", Attrs::new(), p);
    }
    if let Some(drv) = &d.driver {
        w.open("driver", Attrs::new());
        w.text("name", Attrs::new(), drv);
        w.close("driver");
    }
    w.open("capability", Attrs::new().add("type", d.cap.name()));
    match &d.cap {
        Cap::System(s) => system(&mut w, s),
        Cap::Pci(p) => pci(&mut w, p),
        Cap::UsbDevice(u) => {
            w.text("bus", Attrs::new(), &u.bus.to_string());
            w.text("device", Attrs::new(), &u.device.to_string());
            id_name(&mut w, "product", u.product, u.product_name.as_deref());
            id_name(&mut w, "vendor", u.vendor, u.vendor_name.as_deref());
        }
        Cap::UsbInterface(u) => {
            w.text("number", Attrs::new(), &u.number.to_string());
            w.text("class", Attrs::new(), &u.class.to_string());
            w.text("subclass", Attrs::new(), &u.subclass.to_string());
            w.text("protocol", Attrs::new(), &u.protocol.to_string());
        }
        Cap::Net(n) => {
            w.text("interface", Attrs::new(), &n.ifname);
            if let Some(a) = &n.address {
                w.text("address", Attrs::new(), a);
            }
            n.link.write(&mut w);
            w.empty("capability", Attrs::new().add("type", n.subtype));
        }
        Cap::Storage(s) => storage(&mut w, s),
        Cap::ScsiHost(h) => {
            w.text("host", Attrs::new(), &h.host.to_string());
            if let Some(u) = h.unique_id.filter(|u| *u != -1) {
                w.text("unique_id", Attrs::new(), &u.to_string());
            }
        }
        Cap::ScsiTarget(t) => w.text("target", Attrs::new(), t),
        Cap::ScsiGeneric(node) => w.text("char", Attrs::new(), node),
        Cap::Drm(kind) => w.text("type", Attrs::new(), kind),
        Cap::Scsi(s) => {
            for (name, v) in [
                ("host", s.host),
                ("bus", s.bus),
                ("target", s.target),
                ("lun", s.lun),
            ] {
                w.text(name, Attrs::new(), &v.to_string());
            }
            if let Some(k) = s.kind {
                w.text("type", Attrs::new(), k);
            }
        }
    }
    w.close("capability");
    w.close("device");
    w.finish()
}

/// `<product id='0x1234'>name</product>`, or without a name empty.
fn id_name(w: &mut XmlWriter, element: &str, id: u32, name: Option<&str>) {
    let attrs = Attrs::new().add("id", format!("0x{id:04x}"));
    match name {
        Some(n) => w.text(element, attrs, n),
        None => w.empty(element, attrs),
    }
}

fn system(w: &mut XmlWriter, s: &System) {
    let opt = |w: &mut XmlWriter, name: &str, v: &Option<String>| {
        if let Some(v) = v {
            w.text(name, Attrs::new(), v);
        }
    };
    opt(w, "product", &s.product);
    w.open("hardware", Attrs::new());
    opt(w, "vendor", &s.vendor);
    opt(w, "version", &s.version);
    opt(w, "serial", &s.serial);
    let zero = uuid::Uuid::nil().to_string();
    w.text("uuid", Attrs::new(), s.uuid.as_deref().unwrap_or(&zero));
    w.close("hardware");
    w.open("firmware", Attrs::new());
    opt(w, "vendor", &s.bios_vendor);
    opt(w, "version", &s.bios_version);
    opt(w, "release_date", &s.bios_date);
    w.close("firmware");
}

/// `<address domain bus slot function/>` as libvirt writes it inside a
/// PCI capability (the function in decimal after `0x`, as libvirt does).
fn address(w: &mut XmlWriter, a: &PciAddr) {
    w.empty(
        "address",
        Attrs::new()
            .add("domain", format!("0x{:04x}", a.domain))
            .add("bus", format!("0x{:02x}", a.bus))
            .add("slot", format!("0x{:02x}", a.slot))
            .add("function", format!("0x{}", a.function)),
    );
}

fn pci(w: &mut XmlWriter, p: &Pci) {
    if let Some(c) = p.class {
        w.text("class", Attrs::new(), &format!("0x{c:06x}"));
    }
    w.text("domain", Attrs::new(), &p.addr.domain.to_string());
    w.text("bus", Attrs::new(), &p.addr.bus.to_string());
    w.text("slot", Attrs::new(), &p.addr.slot.to_string());
    w.text("function", Attrs::new(), &p.addr.function.to_string());
    id_name(w, "product", p.product, p.product_name.as_deref());
    id_name(w, "vendor", p.vendor, p.vendor_name.as_deref());
    if let Some(pf) = &p.phys_function {
        w.open("capability", Attrs::new().add("type", "phys_function"));
        address(w, pf);
        w.close("capability");
    }
    if let Some((max, vfs)) = &p.virt_functions {
        let attrs = Attrs::new()
            .add("type", "virt_functions")
            .opt("maxCount", (*max > 0).then_some(*max));
        if vfs.is_empty() {
            w.empty("capability", attrs);
        } else {
            w.open("capability", attrs);
            for vf in vfs {
                address(w, vf);
            }
            w.close("capability");
        }
    }
    if let Some(h) = p.header {
        w.empty("capability", Attrs::new().add("type", h));
    }
    if let Some((n, members)) = &p.iommu_group
        && !members.is_empty()
    {
        w.open("iommuGroup", Attrs::new().add("number", n));
        for m in members {
            address(w, m);
        }
        w.close("iommuGroup");
    }
    if let Some(n) = p.numa_node {
        w.empty("numa", Attrs::new().add("node", n));
    }
    match &p.pcie {
        None => {}
        Some(None) => w.empty("pci-express", Attrs::new()),
        Some(Some((cap, sta))) => {
            w.open("pci-express", Attrs::new());
            pcie_link(w, "cap", cap);
            pcie_link(w, "sta", sta);
            w.close("pci-express");
        }
    }
}

fn pcie_link(w: &mut XmlWriter, validity: &str, l: &PcieLink) {
    let speed = LINK_SPEEDS
        .get(l.speed as usize)
        .filter(|s| !s.is_empty())
        .copied();
    w.empty(
        "link",
        Attrs::new()
            .add("validity", validity)
            .opt("port", l.port)
            .opt("speed", speed)
            .add("width", l.width),
    );
}

fn storage(w: &mut XmlWriter, s: &Storage) {
    w.text("block", Attrs::new(), &s.block);
    for (name, v) in [
        ("bus", &s.bus),
        ("drive_type", &Some(s.drive_type.clone())),
        ("model", &s.model),
        ("vendor", &s.vendor),
        ("serial", &s.serial),
    ] {
        if let Some(v) = v.as_ref().filter(|v| !v.is_empty()) {
            w.text(name, Attrs::new(), v);
        }
    }
    let sizes = |w: &mut XmlWriter| {
        if s.logical_block_size > 0 {
            w.text(
                "logical_block_size",
                Attrs::new(),
                &s.logical_block_size.to_string(),
            );
        }
        if s.num_blocks > 0 {
            w.text("num_blocks", Attrs::new(), &s.num_blocks.to_string());
        }
    };
    match &s.removable {
        Some((true, media, label)) => {
            w.open("capability", Attrs::new().add("type", "removable"));
            w.text(
                "media_available",
                Attrs::new(),
                if *media { "1" } else { "0" },
            );
            w.text("media_size", Attrs::new(), &s.size.to_string());
            if let Some(l) = label.as_ref().filter(|_| *media) {
                w.text("media_label", Attrs::new(), l);
            }
            sizes(w);
            w.close("capability");
        }
        Some((false, _, _)) => {
            // Not removable: the removable-media size is not the disk's.
            w.text("size", Attrs::new(), "0");
            sizes(w);
        }
        None => {
            w.text("size", Attrs::new(), &s.size.to_string());
            sizes(w);
        }
    }
}
