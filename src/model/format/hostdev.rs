//! Writing `<hostdev>`, `<filesystem>`, `<shmem>`, `<memory>` devices,
//! and a disk's network source and backing chain.

use super::devices::address;
use super::{element, on_off, yes_no};
use crate::model::xmlwrite::{Attrs, XmlWriter};
use crate::model::{
    BackingStore, DiskType, Filesystem, Hostdev, HostdevRom, HostdevSource, MemoryDevice,
    NetworkSource, Shmem,
};

pub(super) fn hostdev(w: &mut XmlWriter, h: &Hostdev) {
    let kind = match h.source {
        HostdevSource::Pci(_) => "pci",
        HostdevSource::Usb(_) => "usb",
        HostdevSource::Mdev(_) => "mdev",
    };
    let mdev = match &h.source {
        HostdevSource::Mdev(m) => Some(m),
        _ => None,
    };
    let a = Attrs::new()
        .add("mode", "subsystem")
        .add("type", kind)
        .opt("managed", h.managed.map(yes_no))
        .opt("model", mdev.map(|_| "vfio-pci"))
        .opt("display", mdev.and_then(|m| m.display).map(on_off))
        .opt("ramfb", mdev.and_then(|m| m.ramfb).map(on_off));
    w.open("hostdev", a);
    if h.driver_vfio {
        w.empty("driver", Attrs::new().add("name", "vfio"));
    }
    match &h.source {
        HostdevSource::Pci(p) => {
            w.open("source", Attrs::new());
            let a = Attrs::new()
                .add("domain", format!("0x{:04x}", p.domain))
                .add("bus", format!("0x{:02x}", p.bus))
                .add("slot", format!("0x{:02x}", p.slot))
                .add("function", format!("0x{:x}", p.function));
            w.empty("address", a);
            w.close("source");
        }
        HostdevSource::Mdev(m) => {
            w.open("source", Attrs::new());
            w.empty("address", Attrs::new().add("uuid", m.uuid));
            w.close("source");
        }
        HostdevSource::Usb(u) => {
            let a = Attrs::new().opt("startupPolicy", u.optional.map(|_| "optional"));
            w.open("source", a);
            if let Some(v) = u.vendor {
                w.empty("vendor", Attrs::new().add("id", format!("0x{v:04x}")));
            }
            if let Some(p) = u.product {
                w.empty("product", Attrs::new().add("id", format!("0x{p:04x}")));
            }
            if let Some((bus, dev)) = u.bus_device {
                w.empty("address", Attrs::new().add("bus", bus).add("device", dev));
            }
            w.close("source");
        }
    }
    if let Some(o) = h.boot_order {
        w.empty("boot", Attrs::new().add("order", o));
    }
    if let Some(r) = &h.rom {
        rom(w, r);
    }
    address(w, &h.address);
    w.close("hostdev");
}

pub(super) fn filesystem(w: &mut XmlWriter, f: &Filesystem) {
    let a = Attrs::new()
        .add("type", "mount")
        .opt("accessmode", f.accessmode.map(|m| m.as_str()))
        .opt("model", f.model.map(|m| m.as_str()))
        .opt("multidevs", f.multidevs.map(|m| m.as_str()))
        .opt("fmode", f.fmode.map(|m| format!("{m:04o}")))
        .opt("dmode", f.dmode.map(|m| format!("{m:04o}")));
    w.open("filesystem", a);
    let a = Attrs::new()
        .add("type", f.driver.as_str())
        .opt("queue", f.queue);
    w.empty("driver", super::devices::virtio_attrs(a, &f.virtio));
    let b = &f.binary;
    let lock = b.posix_lock.is_some() || b.flock.is_some();
    let children = b.cache.is_some() || b.sandbox.is_some() || lock || b.thread_pool.is_some();
    if b.path.is_some() || b.xattr.is_some() || children {
        let a = Attrs::new()
            .opt("path", b.path.as_ref())
            .opt("xattr", b.xattr.map(on_off));
        element(w, "binary", a, children, |w| {
            if let Some(c) = b.cache {
                w.empty("cache", Attrs::new().add("mode", c.as_str()));
            }
            if let Some(s) = b.sandbox {
                w.empty("sandbox", Attrs::new().add("mode", s.as_str()));
            }
            if lock {
                let a = Attrs::new()
                    .opt("posix", b.posix_lock.map(on_off))
                    .opt("flock", b.flock.map(on_off));
                w.empty("lock", a);
            }
            if let Some(n) = b.thread_pool {
                w.empty("thread_pool", Attrs::new().add("size", n));
            }
        });
    }
    w.empty("source", Attrs::new().add("dir", &f.source_dir));
    w.empty("target", Attrs::new().add("dir", &f.target_dir));
    if let Some(o) = f.boot_order {
        w.empty("boot", Attrs::new().add("order", o));
    }
    if f.readonly {
        w.empty("readonly", Attrs::new());
    }
    super::devices::alias(w, &f.alias);
    address(w, &f.address);
    w.close("filesystem");
}

pub(super) fn shmem(w: &mut XmlWriter, s: &Shmem) {
    let a = Attrs::new()
        .add("name", &s.name)
        .opt("role", s.role.map(|r| r.as_str()));
    w.open("shmem", a);
    if let Some(m) = s.model {
        w.empty("model", Attrs::new().add("type", m.as_str()));
    }
    if let Some(k) = s.size_kib {
        w.text("size", Attrs::new().add("unit", "KiB"), &k.to_string());
    }
    if let Some(path) = &s.server {
        w.empty("server", Attrs::new().opt("path", path.as_ref()));
    }
    if let Some(m) = s.msi {
        let a = Attrs::new()
            .opt("vectors", m.vectors)
            .opt("ioeventfd", m.ioeventfd.map(on_off));
        w.empty("msi", a);
    }
    super::devices::alias(w, &s.alias);
    address(w, &s.address);
    w.close("shmem");
}

pub(super) fn memory(w: &mut XmlWriter, m: &MemoryDevice) {
    let a = Attrs::new()
        .add("model", m.model.as_str())
        .opt("access", m.access.map(|a| a.as_str()))
        .opt("discard", m.discard.map(yes_no));
    w.open("memory", a);
    let source = m.pagesize_kib.is_some() || m.nodemask.is_some() || m.path.is_some();
    if source || m.align_kib.is_some() || m.pmem {
        w.open("source", Attrs::new());
        if let Some(n) = &m.nodemask {
            w.text("nodemask", Attrs::new(), n);
        }
        if let Some(p) = m.pagesize_kib {
            w.text("pagesize", Attrs::new().add("unit", "KiB"), &p.to_string());
        }
        if let Some(p) = &m.path {
            w.text("path", Attrs::new(), p);
        }
        if let Some(a) = m.align_kib {
            w.text("alignsize", Attrs::new().add("unit", "KiB"), &a.to_string());
        }
        if m.pmem {
            w.empty("pmem", Attrs::new());
        }
        w.close("source");
    }
    w.open("target", Attrs::new());
    let kib = |w: &mut XmlWriter, name: &str, k: u64| {
        w.text(name, Attrs::new().add("unit", "KiB"), &k.to_string());
    };
    kib(w, "size", m.size_kib);
    if let Some(n) = m.node {
        w.text("node", Attrs::new(), &n.to_string());
    }
    if let Some(l) = m.label_kib {
        w.open("label", Attrs::new());
        kib(w, "size", l);
        w.close("label");
    }
    if m.readonly {
        w.empty("readonly", Attrs::new());
    }
    if let Some(b) = m.block_kib {
        kib(w, "block", b);
        kib(w, "requested", m.requested_kib);
    }
    if let Some(c) = m.current_kib {
        kib(w, "current", c);
    }
    w.close("target");
    if let Some(a) = &m.alias {
        w.empty("alias", Attrs::new().add("name", a));
    }
    if m.slot.is_some() || m.base.is_some() {
        let a = Attrs::new()
            .add("type", "dimm")
            .opt("slot", m.slot)
            .opt("base", m.base.map(|b| format!("0x{b:x}")));
        w.empty("address", a);
    }
    address(w, &m.address);
    w.close("memory");
}

/// A network disk's `<source>` with its hosts.
pub(super) fn network_source(
    w: &mut XmlWriter,
    n: &NetworkSource,
    enc: Option<&crate::model::DiskEncryption>,
) {
    let a = Attrs::new()
        .add("protocol", n.protocol.as_str())
        .opt("name", n.name.as_ref())
        .opt("query", n.query.as_ref())
        .opt("tls", n.tls.map(yes_no))
        .opt("tlsHostname", n.tls_hostname.as_ref());
    let auth = n.auth.as_ref().filter(|a| a.in_source);
    let enc = enc.filter(|e| e.in_source);
    let curl = !n.cookies.is_empty()
        || n.readahead.is_some()
        || n.timeout.is_some()
        || n.ssl_verify.is_some();
    let children =
        !n.hosts.is_empty() || auth.is_some() || enc.is_some() || n.initiator.is_some() || curl;
    element(w, "source", a, children, |w| {
        for h in &n.hosts {
            let a = Attrs::new()
                .opt("name", h.name.as_ref())
                .opt("port", h.port)
                .opt("transport", h.socket.as_ref().map(|_| "unix"))
                .opt("socket", h.socket.as_ref());
            w.empty("host", a);
        }
        if let Some(iqn) = &n.initiator {
            w.open("initiator", Attrs::new());
            w.empty("iqn", Attrs::new().add("name", iqn));
            w.close("initiator");
        }
        curl_options(w, n);
        if let Some(auth) = auth {
            disk_auth(w, auth);
        }
        if let Some(enc) = enc {
            disk_encryption(w, enc);
        }
    });
}

/// The options of an HTTP(S) or FTP(S) source, in libvirt's order.
fn curl_options(w: &mut XmlWriter, n: &NetworkSource) {
    if let Some(v) = n.ssl_verify {
        w.empty("ssl", Attrs::new().add("verify", yes_no(v)));
    }
    if !n.cookies.is_empty() {
        w.open("cookies", Attrs::new());
        for (name, value) in &n.cookies {
            w.text("cookie", Attrs::new().add("name", name), value);
        }
        w.close("cookies");
    }
    if let Some(size) = n.readahead {
        w.empty("readahead", Attrs::new().add("size", size));
    }
    if let Some(s) = n.timeout {
        w.empty("timeout", Attrs::new().add("seconds", s));
    }
}

/// `<encryption format='luks'><secret type='passphrase' .../></encryption>`.
pub(super) fn disk_encryption(w: &mut XmlWriter, enc: &crate::model::DiskEncryption) {
    let a = Attrs::new()
        .add("format", "luks")
        .opt("engine", enc.engine_written.then_some("qemu"));
    w.open("encryption", a);
    w.empty(
        "secret",
        secret_lookup(Attrs::new().add("type", "passphrase"), &enc.secret),
    );
    w.close("encryption");
}

fn secret_lookup(a: Attrs, lookup: &crate::model::SecretLookup) -> Attrs {
    match lookup {
        crate::model::SecretLookup::Uuid(u) => a.add("uuid", u.hyphenated()),
        crate::model::SecretLookup::Usage(u) => a.add("usage", u),
    }
}

/// `<auth username=...><secret type= uuid=|usage=/></auth>`.
pub(super) fn disk_auth(w: &mut XmlWriter, auth: &crate::model::DiskAuth) {
    w.open("auth", Attrs::new().add("username", &auth.username));
    let a = Attrs::new().opt("type", auth.secret_type.map(|t| t.as_str()));
    w.empty("secret", secret_lookup(a, &auth.lookup));
    w.close("auth");
}

/// `<metadata_cache><max_size unit='bytes'>` (libvirt writes bytes).
pub(super) fn metadata_cache(w: &mut XmlWriter, max: Option<u64>) {
    if let Some(n) = max {
        w.open("metadata_cache", Attrs::new());
        w.text(
            "max_size",
            Attrs::new().add("unit", "bytes"),
            &n.to_string(),
        );
        w.close("metadata_cache");
    }
}

/// `<backingStore>`: empty, or one image and the chain below it.
pub(super) fn backing_store(w: &mut XmlWriter, b: &Option<Option<Box<BackingStore>>>) {
    match b {
        None => {}
        Some(None) => w.empty("backingStore", Attrs::new()),
        Some(Some(b)) => {
            w.open("backingStore", Attrs::new().add("type", b.kind.as_str()));
            let a = Attrs::new().add("type", b.format.as_str());
            let max = b.metadata_cache_max_size;
            super::element(w, "format", a, max.is_some(), |w| metadata_cache(w, max));
            let attr = if b.kind == DiskType::Block {
                "dev"
            } else {
                "file"
            };
            w.empty("source", Attrs::new().add(attr, &b.source));
            backing_store(w, &b.backing);
            w.close("backingStore");
        }
    }
}

/// `<rom bar= file= enabled=>` of a PCI device.
pub(super) fn rom(w: &mut XmlWriter, r: &HostdevRom) {
    let a = Attrs::new()
        .opt("bar", r.bar.map(on_off))
        .opt("file", r.file.as_ref())
        .opt("enabled", r.enabled.map(yes_no));
    w.empty("rom", a);
}
