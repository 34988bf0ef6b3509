//! Writing `<devices>`, in the order libvirt writes them.

use super::chardev::{channel, char_source, chardev};
use super::{element, on_off, yes_no};
use crate::model::xmlwrite::{Attrs, XmlWriter};
use crate::model::{
    AUDIO_SETTINGS, Address, CharSource, Controller, Disk, DiskType, DomainDef, GrabToggle,
    Graphics, GraphicsListen, Input, InputBus, InputType, Rng, RngBackend, Sound, Tpm, TpmBackend,
    Video, VirtioOptions,
};

/// `<alias name=...>`, written before `<acpi>` and the address, as
/// libvirt's virDomainDeviceInfoFormat writes it.
pub(super) fn alias(w: &mut XmlWriter, name: &Option<String>) {
    if let Some(n) = name {
        w.empty("alias", Attrs::new().add("name", n));
    }
}

/// `<acpi index=...>`, written before the device's address.
pub(super) fn acpi(w: &mut XmlWriter, index: Option<u32>) {
    if let Some(n) = index {
        w.empty("acpi", Attrs::new().add("index", n));
    }
}

pub(super) fn address(w: &mut XmlWriter, a: &Option<Address>) {
    let Some(a) = a else {
        return;
    };
    let attrs = match a {
        Address::Pci(p) => Attrs::new()
            .add("type", "pci")
            .add("domain", format!("0x{:04x}", p.domain))
            .add("bus", format!("0x{:02x}", p.bus))
            .add("slot", format!("0x{:02x}", p.slot))
            .add("function", format!("0x{:x}", p.function))
            .opt("multifunction", p.multifunction.map(on_off)),
        Address::Drive(d) => Attrs::new()
            .add("type", "drive")
            .add("controller", d.controller)
            .add("bus", d.bus)
            .add("target", d.target)
            .add("unit", d.unit),
        Address::Usb(u) => Attrs::new()
            .add("type", "usb")
            .add("bus", u.bus)
            .opt("port", u.port),
        Address::VirtioSerial(v) => Attrs::new()
            .add("type", "virtio-serial")
            .add("controller", v.controller)
            .add("bus", v.bus)
            .add("port", v.port),
    };
    w.empty("address", attrs);
}

pub(super) fn virtio_attrs(a: Attrs, v: &VirtioOptions) -> Attrs {
    a.opt("iommu", v.iommu.map(on_off))
        .opt("ats", v.ats.map(on_off))
        .opt("packed", v.packed.map(on_off))
        .opt("page_per_vq", v.page_per_vq.map(on_off))
}

pub(super) fn devices(w: &mut XmlWriter, def: &DomainDef) {
    let d = &def.devices;
    w.open("devices", Attrs::new());
    if let Some(e) = &d.emulator {
        w.text("emulator", Attrs::new(), e);
    }
    for disk_def in &d.disks {
        disk(w, disk_def);
    }
    for c in &d.controllers {
        controller(w, c);
    }
    super::smartcard::ccid_controllers(w, d);
    for f in &d.filesystems {
        super::hostdev::filesystem(w, f);
    }
    for i in &d.interfaces {
        super::net::interface(w, i);
    }
    super::smartcard::smartcards(w, d);
    for s in &d.serials {
        chardev(w, "serial", s);
    }
    for p in &d.parallels {
        chardev(w, "parallel", p);
    }
    for c in &d.consoles {
        chardev(w, "console", c);
    }
    for c in &d.channels {
        channel(w, c);
    }
    for i in &d.inputs {
        input(w, i);
    }
    for t in &d.tpms {
        tpm(w, t);
    }
    for g in &d.graphics {
        graphics(w, g);
    }
    if let Some(egl) = &d.egl_headless {
        let a = Attrs::new().add("type", "egl-headless");
        element(w, "graphics", a, egl.rendernode.is_some(), |w| {
            w.empty(
                "gl",
                Attrs::new().opt("rendernode", egl.rendernode.as_ref()),
            );
        });
    }
    if let Some(db) = &d.dbus_display {
        let a = Attrs::new()
            .add("type", "dbus")
            .opt("p2p", db.p2p.then_some("yes"))
            .opt("address", db.address.as_ref());
        element(
            w,
            "graphics",
            a,
            db.gl.is_some() || db.audio.is_some(),
            |w| {
                if let Some(gl) = &db.gl {
                    let a = Attrs::new()
                        .add("enable", yes_no(gl.enable))
                        .opt("rendernode", gl.rendernode.as_ref());
                    w.empty("gl", a);
                }
                if let Some(id) = db.audio {
                    w.empty("audio", Attrs::new().add("id", id));
                }
            },
        );
    }
    for s in &d.sounds {
        sound(w, s);
    }
    for a in &d.audios {
        let attrs = Attrs::new()
            .add("id", a.id)
            .add("type", a.kind.as_str())
            .opt("serverName", a.server_name.as_ref())
            .opt("runtimeDir", a.runtime_dir.as_ref())
            .opt("path", a.path.as_ref())
            .opt("timerPeriod", a.timer_period);
        let key = a.kind.stream_key().unwrap_or("dev");
        let has = |dev: &Option<String>, opts: &[(&str, String)]| dev.is_some() || !opts.is_empty();
        let children = has(&a.input_dev, &a.input_opts) || has(&a.output_dev, &a.output_opts);
        element(w, "audio", attrs, children, |w| {
            for (name, dev, opts) in [
                ("input", &a.input_dev, &a.input_opts),
                ("output", &a.output_dev, &a.output_opts),
            ] {
                if has(dev, opts) {
                    let mut at = Attrs::new().opt(key, dev.as_ref());
                    let mut settings = Attrs::new();
                    for (k, v) in opts {
                        if AUDIO_SETTINGS.contains(k) {
                            settings = settings.add(k, v);
                        } else {
                            at = at.add(k, v);
                        }
                    }
                    let with_settings = opts.iter().any(|(k, _)| AUDIO_SETTINGS.contains(k));
                    element(w, name, at, with_settings, |w| {
                        w.empty("settings", settings)
                    });
                }
            }
        });
    }
    for v in &d.videos {
        video(w, v);
    }
    for h in &d.hostdevs {
        super::hostdev::hostdev(w, h);
    }
    for r in &d.redirdevs {
        let a = Attrs::new()
            .add("bus", "usb")
            .add("type", r.source.type_name());
        let children = r.boot_order.is_some()
            || r.address.is_some()
            || r.alias.is_some()
            || !matches!(r.source, CharSource::SpiceVmc);
        element(w, "redirdev", a, children, |w| {
            char_source(w, &r.source);
            if let Some(o) = r.boot_order {
                w.empty("boot", Attrs::new().add("order", o));
            }
            alias(w, &r.alias);
            address(w, &r.address);
        });
    }
    if !d.redirfilter.is_empty() {
        w.open("redirfilter", Attrs::new());
        for u in &d.redirfilter {
            let a = Attrs::new()
                .opt("class", u.class.map(|c| format!("0x{c:02X}")))
                .opt("vendor", u.vendor.map(|v| format!("0x{v:04X}")))
                .opt("product", u.product.map(|p| format!("0x{p:04X}")))
                .opt(
                    "version",
                    u.version.map(|v| {
                        let digit = |shift: u16| (v >> shift) & 0xf;
                        format!(
                            "{}.{:02}",
                            digit(12) * 10 + digit(8),
                            digit(4) * 10 + digit(0)
                        )
                    }),
                )
                .add("allow", yes_no(u.allow));
            w.empty("usbdev", a);
        }
        w.close("redirfilter");
    }
    for h in &d.hubs {
        element(
            w,
            "hub",
            Attrs::new().add("type", "usb"),
            h.address.is_some(),
            |w| address(w, &h.address),
        );
    }
    for x in &d.watchdogs {
        let a = Attrs::new()
            .add("model", x.model.as_str())
            .opt("action", x.action.map(|a| a.as_str()));
        let children = x.address.is_some() || x.alias.is_some();
        element(w, "watchdog", a, children, |w| {
            alias(w, &x.alias);
            address(w, &x.address);
        });
    }
    if let Some(b) = &d.memballoon {
        let a = Attrs::new()
            .add("model", b.model.as_str())
            .opt("autodeflate", b.autodeflate.map(on_off))
            .opt("freePageReporting", b.free_page_reporting.map(on_off));
        let children = b.stats_period.is_some() || b.address.is_some() || !b.virtio.is_empty();
        element(w, "memballoon", a, children, |w| {
            if let Some(p) = b.stats_period {
                w.empty("stats", Attrs::new().add("period", p));
            }
            address(w, &b.address);
            if !b.virtio.is_empty() {
                w.empty("driver", virtio_attrs(Attrs::new(), &b.virtio));
            }
        });
    }
    for r in &d.rngs {
        rng(w, r);
    }
    if let Some(i) = &d.iommu {
        let a = Attrs::new().add("model", i.model.as_str());
        let drv = Attrs::new()
            .opt("intremap", i.intremap.map(on_off))
            .opt("caching_mode", i.caching_mode.map(on_off))
            .opt("eim", i.eim.map(on_off))
            .opt("iotlb", i.iotlb.map(on_off))
            .opt("aw_bits", i.aw_bits);
        let children = !drv.is_empty() || i.address.is_some();
        element(w, "iommu", a, children, |w| {
            if !drv.is_empty() {
                w.empty("driver", drv);
            }
            address(w, &i.address);
        });
    }
    if let Some(v) = &d.vsock {
        w.open(
            "vsock",
            Attrs::new().opt("model", v.model.map(|m| m.as_str())),
        );
        let a = Attrs::new()
            .add("auto", yes_no(v.auto_cid))
            .opt("address", v.cid);
        w.empty("cid", a);
        if !v.virtio.is_empty() {
            w.empty("driver", virtio_attrs(Attrs::new(), &v.virtio));
        }
        address(w, &v.address);
        w.close("vsock");
    }
    for x in &d.panics {
        let a = Attrs::new().opt("model", x.model.map(|m| m.as_str()));
        element(
            w,
            "panic",
            a,
            x.iobase.is_some() || x.address.is_some(),
            |w| {
                if let Some(port) = x.iobase {
                    w.empty(
                        "address",
                        Attrs::new()
                            .add("type", "isa")
                            .add("iobase", format!("{port:#x}")),
                    );
                }
                address(w, &x.address);
            },
        );
    }
    for s in &d.shmems {
        super::hostdev::shmem(w, s);
    }
    for m in &d.memories {
        super::hostdev::memory(w, m);
    }
    w.close("devices");
}

/// One `<disk>` element, as it stands in a domain's `<devices>`.
pub(in crate::model) fn disk_xml(d: &Disk) -> String {
    let mut w = XmlWriter::new();
    disk(&mut w, d);
    w.finish()
}

fn disk(w: &mut XmlWriter, d: &Disk) {
    let src_attr = match d.kind {
        DiskType::File | DiskType::Network | DiskType::VhostUser => "file",
        DiskType::Block => "dev",
        DiskType::Dir => "dir",
        DiskType::Volume => "",
    };
    let a = Attrs::new()
        .add("type", d.kind.as_str())
        .add("device", d.device.as_str())
        .opt("model", d.model.map(|m| m.as_str()))
        .opt("snapshot", d.snapshot.map(|s| s.as_str()));
    w.open("disk", a);
    if d.format.is_some() || !d.driver.is_empty() {
        let a = Attrs::new()
            .add("name", "qemu")
            .opt("type", d.format.map(|f| f.as_str()))
            .opt("cache", d.driver.cache.map(|c| c.as_str()))
            .opt("io", d.driver.io.map(|c| c.as_str()))
            .opt("discard", d.driver.discard.map(|c| c.as_str()))
            .opt("detect_zeroes", d.driver.detect_zeroes.map(|c| c.as_str()))
            .opt("iothread", d.driver.iothread)
            .opt("queues", d.driver.queues)
            .opt("queue_size", d.driver.queue_size)
            .opt("error_policy", d.driver.error_policy.map(|p| p.as_str()))
            .opt("rerror_policy", d.driver.rerror_policy.map(|p| p.as_str()))
            .opt("ioeventfd", d.driver.ioeventfd.map(on_off))
            .opt("event_idx", d.driver.event_idx.map(on_off))
            .opt("copy_on_read", d.driver.copy_on_read.map(on_off));
        let max = d.driver.metadata_cache_max_size;
        element(
            w,
            "driver",
            virtio_attrs(a, &d.driver.virtio),
            max.is_some(),
            |w| {
                super::hostdev::metadata_cache(w, max);
            },
        );
    }
    if let Some(auth) = d.network.as_ref().and_then(|n| n.auth.as_ref())
        && !auth.in_source
    {
        super::hostdev::disk_auth(w, auth);
    }
    let policy = d.startup_policy.map(|p| p.as_str());
    let source_enc = d.encryption.as_ref().filter(|e| e.in_source);
    let labels = |w: &mut XmlWriter| {
        if let Some(sl) = &d.slice {
            w.open("slices", Attrs::new());
            let a = Attrs::new()
                .add("type", "storage")
                .add("offset", sl.offset)
                .add("size", sl.size);
            w.empty("slice", a);
            w.close("slices");
        }
        for m in &d.norelabel {
            w.empty(
                "seclabel",
                Attrs::new().opt("model", m.as_ref()).add("relabel", "no"),
            );
        }
        if d.network.is_none()
            && let Some(enc) = source_enc
        {
            super::hostdev::disk_encryption(w, enc);
        }
    };
    let has_labels = !d.norelabel.is_empty()
        || d.slice.is_some()
        || (d.network.is_none() && source_enc.is_some());
    match (&d.volume, &d.source) {
        (Some(v), _) => element(
            w,
            "source",
            Attrs::new()
                .add("pool", &v.pool)
                .add("volume", &v.volume)
                .opt("startupPolicy", policy),
            has_labels,
            labels,
        ),
        (None, Some(s)) => element(
            w,
            "source",
            Attrs::new().add(src_attr, s).opt("startupPolicy", policy),
            has_labels,
            labels,
        ),
        (None, None) if policy.is_some() || has_labels => element(
            w,
            "source",
            Attrs::new().opt("startupPolicy", policy),
            has_labels,
            labels,
        ),
        (None, None) => {}
    }
    if let Some(n) = &d.network {
        super::hostdev::network_source(w, n, d.encryption.as_ref());
    }
    if let Some(v) = &d.vhost_user {
        let a = Attrs::new().add("type", "unix").add("path", &v.path);
        element(w, "source", a, v.reconnect.is_some(), |w| {
            let t = v.reconnect.unwrap_or_default();
            w.empty(
                "reconnect",
                Attrs::new().add("enabled", "yes").add("timeout", t),
            );
        });
    }
    super::hostdev::backing_store(w, &d.backing);
    if let Some(m) = &d.mirror {
        mirror(w, m);
    }
    if let Some(g) = &d.geometry {
        let a = Attrs::new()
            .add("cyls", g.cyls)
            .add("heads", g.heads)
            .add("secs", g.secs)
            .opt("trans", g.trans.map(|t| t.as_str()));
        w.empty("geometry", a);
    }
    if !d.blockio.is_empty() {
        let b = &d.blockio;
        let a = Attrs::new()
            .opt("logical_block_size", b.logical_block_size)
            .opt("physical_block_size", b.physical_block_size)
            .opt("discard_granularity", b.discard_granularity);
        w.empty("blockio", a);
    }
    let t = Attrs::new()
        .add("dev", &d.target)
        .opt("bus", d.bus.map(|b| b.as_str()))
        .opt("tray", d.tray_open.then_some("open"))
        .opt("removable", d.removable.map(on_off))
        .opt("rotation_rate", d.rotation_rate);
    w.empty("target", t);
    if let Some(t) = &d.iotune {
        w.open("iotune", Attrs::new());
        let (before, after) = t.limits.split_at(
            t.limits
                .iter()
                .position(|(k, _)| k.ends_with("_max_length"))
                .unwrap_or(t.limits.len()),
        );
        for (k, v) in before {
            w.text(k, Attrs::new(), &v.to_string());
        }
        if let Some(g) = &t.group_name {
            w.text("group_name", Attrs::new(), g);
        }
        for (k, v) in after {
            w.text(k, Attrs::new(), &v.to_string());
        }
        w.close("iotune");
    }
    if let Some(o) = d.boot_order {
        w.empty("boot", Attrs::new().add("order", o));
    }
    if d.readonly {
        w.empty("readonly", Attrs::new());
    }
    if d.shareable {
        w.empty("shareable", Attrs::new());
    }
    if d.transient {
        w.empty("transient", Attrs::new());
    }
    if let Some(s) = &d.serial {
        w.text("serial", Attrs::new(), s);
    }
    for (name, v) in [
        ("wwn", &d.wwn),
        ("vendor", &d.vendor),
        ("product", &d.product),
    ] {
        if let Some(v) = v {
            w.text(name, Attrs::new(), v);
        }
    }
    if let Some(enc) = d.encryption.as_ref().filter(|e| !e.in_source) {
        super::hostdev::disk_encryption(w, enc);
    }
    alias(w, &d.alias);
    acpi(w, d.acpi_index);
    address(w, &d.address);
    w.close("disk");
}

fn controller(w: &mut XmlWriter, c: &Controller) {
    let a = Attrs::new()
        .add("type", c.kind.as_str())
        .add("index", c.index)
        .opt("model", c.model.as_ref())
        .opt("ports", c.ports)
        .opt("vectors", c.vectors);
    let driver = !c.virtio.is_empty()
        || c.queues.is_some()
        || c.cmd_per_lun.is_some()
        || c.max_sectors.is_some()
        || c.ioeventfd.is_some()
        || c.iothread.is_some();
    let children = driver
        || c.master_startport.is_some()
        || c.model_name.is_some()
        || c.target.is_some()
        || c.pcihole64_kib.is_some()
        || c.address.is_some()
        || c.alias.is_some();
    element(w, "controller", a, children, |w| {
        if driver {
            let a = Attrs::new()
                .opt("queues", c.queues)
                .opt("cmd_per_lun", c.cmd_per_lun)
                .opt("max_sectors", c.max_sectors)
                .opt("ioeventfd", c.ioeventfd.map(on_off))
                .opt("iothread", c.iothread);
            w.empty("driver", virtio_attrs(a, &c.virtio));
        }
        alias(w, &c.alias);
        if let Some(p) = c.master_startport {
            w.empty("master", Attrs::new().add("startport", p));
        }
        if let Some(n) = &c.model_name {
            w.empty("model", Attrs::new().add("name", n));
        }
        if let Some(t) = &c.target {
            let a = Attrs::new()
                .opt("chassisNr", t.chassis_nr)
                .opt("chassis", t.chassis)
                .opt("port", t.port.map(|p| format!("0x{p:x}")))
                .opt("busNr", t.bus_nr)
                .opt("hotplug", t.hotplug.map(on_off))
                .opt("memReserve", t.mem_reserve);
            match t.node {
                Some(n) => {
                    w.open("target", a);
                    w.text("node", Attrs::new(), &n.to_string());
                    w.close("target");
                }
                None => w.empty("target", a),
            }
        }
        if let Some(h) = c.pcihole64_kib {
            w.text("pcihole64", Attrs::new().add("unit", "KiB"), &h.to_string());
        }
        address(w, &c.address);
    });
}

fn input(w: &mut XmlWriter, i: &Input) {
    let a = Attrs::new()
        .add("type", i.kind.as_str())
        .opt("bus", i.bus.map(InputBus::as_str))
        .opt("model", i.model.as_ref());
    let children =
        i.evdev.is_some() || !i.virtio.is_empty() || i.address.is_some() || i.alias.is_some();
    element(w, "input", a, children, |w| {
        if let Some(e) = &i.evdev {
            let o = &i.evdev_options;
            let a = if i.kind == InputType::Evdev {
                Attrs::new()
                    .add("dev", e)
                    .opt("grab", o.grab_all.then_some("all"))
                    .opt("grabToggle", o.grab_toggle.map(GrabToggle::as_str))
                    .opt("repeat", o.repeat.map(on_off))
            } else {
                Attrs::new().add("evdev", e)
            };
            w.empty("source", a);
        }
        if !i.virtio.is_empty() {
            w.empty("driver", virtio_attrs(Attrs::new(), &i.virtio));
        }
        alias(w, &i.alias);
        address(w, &i.address);
    });
}

fn tpm(w: &mut XmlWriter, t: &Tpm) {
    w.open(
        "tpm",
        Attrs::new().opt("model", t.model.map(|m| m.as_str())),
    );
    match &t.backend {
        TpmBackend::Emulator {
            version,
            persistent_state,
            encryption,
            active_pcr_banks,
        } => {
            let a = Attrs::new()
                .add("type", "emulator")
                .opt("version", version.map(|v| v.as_str()))
                .opt("persistent_state", persistent_state.map(yes_no));
            let children = encryption.is_some() || active_pcr_banks.is_some();
            element(w, "backend", a, children, |w| {
                if let Some(u) = encryption {
                    w.empty("encryption", Attrs::new().add("secret", u.hyphenated()));
                }
                if let Some(banks) = active_pcr_banks {
                    w.open("active_pcr_banks", Attrs::new());
                    for b in banks {
                        w.empty(b.as_str(), Attrs::new());
                    }
                    w.close("active_pcr_banks");
                }
            });
        }
        TpmBackend::Passthrough { path } => {
            w.open("backend", Attrs::new().add("type", "passthrough"));
            w.empty("device", Attrs::new().add("path", path));
            w.close("backend");
        }
        TpmBackend::External { path } => {
            w.open("backend", Attrs::new().add("type", "external"));
            let a = Attrs::new()
                .add("type", "unix")
                .add("mode", "connect")
                .add("path", path);
            w.empty("source", a);
            w.close("backend");
        }
    }
    w.close("tpm");
}

fn graphics(w: &mut XmlWriter, g: &Graphics) {
    // libvirt repeats a VNC display's first socket as `socket`.
    let socket = match g.listens.first() {
        Some(GraphicsListen::Socket(Some(p))) if g.kind == crate::model::GraphicsType::Vnc => {
            Some(p)
        }
        _ => None,
    };
    let a = Attrs::new()
        .add("type", g.kind.as_str())
        .opt("socket", socket)
        .opt("port", g.port)
        .opt("tlsPort", g.tls_port)
        .opt("autoport", g.autoport.map(yes_no))
        .opt("websocket", g.websocket)
        .opt("listen", g.listen.as_ref())
        .opt("keymap", g.keymap.as_ref())
        .opt("defaultMode", g.default_mode.map(|m| m.as_str()))
        .opt("sharePolicy", g.share_policy.map(|m| m.as_str()))
        .opt("powerControl", g.power_control.map(yes_no))
        .opt("passwd", g.passwd.as_ref())
        .opt(
            "passwdValidTo",
            g.passwd_valid_to.map(crate::model::utc_datetime),
        )
        .opt("connected", g.connected.map(|c| c.as_str()));
    let s = &g.spice;
    let children = !g.listens.is_empty() || g.audio.is_some() || *s != Default::default();
    element(w, "graphics", a, children, |w| {
        for l in &g.listens {
            let a = match l {
                GraphicsListen::Address(addr) => Attrs::new()
                    .add("type", "address")
                    .opt("address", addr.as_ref()),
                GraphicsListen::Socket(path) => Attrs::new()
                    .add("type", "socket")
                    .opt("socket", path.as_ref()),
                GraphicsListen::None => Attrs::new().add("type", "none"),
                GraphicsListen::Network(n) => Attrs::new().add("type", "network").add("network", n),
            };
            w.empty("listen", a);
        }
        if let Some(id) = g.audio {
            w.empty("audio", Attrs::new().add("id", id));
        }
        for (name, mode) in &s.channels {
            let a = Attrs::new()
                .add("name", name.as_str())
                .add("mode", mode.as_str());
            w.empty("channel", a);
        }
        let compression = |w: &mut XmlWriter, el: &str, v: Option<&'static str>| {
            if let Some(v) = v {
                w.empty(el, Attrs::new().add("compression", v));
            }
        };
        compression(w, "image", s.image_compression.map(|c| c.as_str()));
        compression(w, "jpeg", s.jpeg_compression.map(|c| c.as_str()));
        compression(w, "zlib", s.zlib_compression.map(|c| c.as_str()));
        compression(w, "playback", s.playback_compression.map(on_off));
        if let Some(m) = s.streaming {
            w.empty("streaming", Attrs::new().add("mode", m.as_str()));
        }
        if let Some(m) = s.mouse_mode {
            w.empty("mouse", Attrs::new().add("mode", m.as_str()));
        }
        if let Some(c) = s.copypaste {
            w.empty("clipboard", Attrs::new().add("copypaste", yes_no(c)));
        }
        if let Some(f) = s.filetransfer {
            w.empty("filetransfer", Attrs::new().add("enable", yes_no(f)));
        }
        if let Some(gl) = &s.gl {
            let a = Attrs::new()
                .add("enable", yes_no(gl.enable))
                .opt("rendernode", gl.rendernode.as_ref());
            w.empty("gl", a);
        }
    });
}

fn sound(w: &mut XmlWriter, s: &Sound) {
    let a = Attrs::new().add("model", s.model.as_str());
    let children = !s.codecs.is_empty() || s.audio_id.is_some() || s.address.is_some();
    element(w, "sound", a, children, |w| {
        for c in &s.codecs {
            w.empty("codec", Attrs::new().add("type", c.as_str()));
        }
        if let Some(id) = s.audio_id {
            w.empty("audio", Attrs::new().add("id", id));
        }
        address(w, &s.address);
    });
}

fn video(w: &mut XmlWriter, v: &Video) {
    w.open("video", Attrs::new());
    if !v.virtio.is_empty() {
        w.empty("driver", virtio_attrs(Attrs::new(), &v.virtio));
    }
    let m = Attrs::new()
        .add("type", v.model.as_str())
        .opt("ram", v.ram)
        .opt("vram", v.vram)
        .opt("vram64", v.vram64)
        .opt("vgamem", v.vgamem)
        .opt("heads", v.heads)
        .opt("primary", v.primary.then_some("yes"))
        .opt("blob", v.blob.map(on_off));
    let children = v.accel3d.is_some() || v.resolution.is_some();
    element(w, "model", m, children, |w| {
        if let Some(accel) = v.accel3d {
            w.empty("acceleration", Attrs::new().add("accel3d", yes_no(accel)));
        }
        if let Some((x, y)) = v.resolution {
            w.empty("resolution", Attrs::new().add("x", x).add("y", y));
        }
    });
    acpi(w, v.acpi_index);
    address(w, &v.address);
    w.close("video");
}

fn rng(w: &mut XmlWriter, r: &Rng) {
    w.open("rng", Attrs::new().add("model", r.model.as_str()));
    if !r.virtio.is_empty() {
        w.empty("driver", virtio_attrs(Attrs::new(), &r.virtio));
    }
    if let Some(rate) = &r.rate {
        let a = Attrs::new()
            .add("bytes", rate.bytes)
            .opt("period", rate.period);
        w.empty("rate", a);
    }
    match &r.backend {
        RngBackend::Random(Some(p)) => w.text("backend", Attrs::new().add("model", "random"), p),
        RngBackend::Random(None) => w.empty("backend", Attrs::new().add("model", "random")),
        RngBackend::Builtin => w.empty("backend", Attrs::new().add("model", "builtin")),
        RngBackend::Egd(source) => {
            let a = Attrs::new()
                .add("model", "egd")
                .add("type", source.type_name());
            w.open("backend", a);
            char_source(w, source);
            w.close("backend");
        }
    }
    alias(w, &r.alias);
    address(w, &r.address);
    w.close("rng");
}

/// `<mirror>`: a running domain's copy of a disk, as libvirt writes it
/// (a file copy also in the old `file` and `format` attributes).
fn mirror(w: &mut XmlWriter, m: &crate::model::DiskMirror) {
    let file = m.kind == crate::model::DiskType::File;
    let format = m.format.map(|f| f.as_str());
    let a = Attrs::new()
        .add("type", m.kind.as_str())
        .opt(
            "file",
            (file && m.job == crate::model::MirrorJob::Copy).then_some(m.path.as_str()),
        )
        .opt(
            "format",
            format.filter(|_| file && m.job == crate::model::MirrorJob::Copy),
        )
        .add("job", m.job.as_str())
        .opt("ready", m.ready.then_some("yes"));
    w.open("mirror", a);
    if let Some(f) = format {
        w.empty("format", Attrs::new().add("type", f));
    }
    let key = if file { "file" } else { "dev" };
    w.empty("source", Attrs::new().add(key, &m.path));
    w.close("mirror");
}
