//! Checks of character devices, input devices, graphics and video.
//! Sound, watchdogs, random number generators, TPMs and USB redirection
//! are in `extras`.

use std::collections::HashSet;

use super::devices::{VIRTIO_MODELS, only_pci, usb_disabled};
use super::{R, check_chars, check_path, invalid, pattern, schema_ip, show, unsupported};
use crate::model::{
    Address, ChannelTarget, CharDevice, CharSource, DomainDef, EvdevOptions, GraphicsListen,
    GraphicsType, InputBus, InputType, VideoModel, VirtioOptions,
};

pub(super) fn validate(def: &DomainDef) -> R {
    chardevs(def)?;
    channels(def)?;
    inputs(def)?;
    graphics(def)?;
    if let Some(node) = def
        .devices
        .egl_headless
        .as_ref()
        .and_then(|e| e.rendernode.as_deref())
    {
        check_path("the egl-headless <gl> render node", node)?;
    }
    videos(def)?;
    super::extras::validate(def)
}

fn channels(def: &DomainDef) -> R {
    let mut names = HashSet::new();
    for c in &def.devices.channels {
        let what = "channel";
        source_path(what, &c.source)?;
        let name = match &c.target {
            ChannelTarget::Virtio { name } => name,
            ChannelTarget::Guestfwd { .. } => {
                if let CharSource::SpiceVmc
                | CharSource::SpicePort { .. }
                | CharSource::QemuVdagent { .. } = c.source
                {
                    return Err(unsupported(format!(
                        "a {} channel is a virtio-serial port: it cannot be a guestfwd target",
                        c.source.type_name()
                    )));
                }
                if c.address.is_some() {
                    return Err(invalid(
                        "a guestfwd channel is no virtio-serial port: it takes no <address>"
                            .to_string(),
                    ));
                }
                continue;
            }
        };
        if let Some(n) = name {
            if n.is_empty() || !pattern(n, "._-") {
                return Err(invalid(format!(
                    "channel target name '{}' may only have letters, digits and ._-",
                    show(n)
                )));
            }
            if !names.insert(n.as_str()) {
                return Err(invalid(format!(
                    "channel target name '{}' is used twice",
                    show(n)
                )));
            }
        }
        if let Some(a) = &c.address
            && !matches!(a, Address::VirtioSerial(_))
        {
            return Err(invalid(format!(
                "Invalid address type '{}' for a virtio channel: only 'virtio-serial' is possible",
                a.type_name()
            )));
        }
    }
    Ok(())
}

fn chardevs(def: &DomainDef) -> R {
    let d = &def.devices;
    for p in &d.parallels {
        chardev_source("parallel", p)?;
    }
    let mut ports = HashSet::new();
    for (console, c) in d
        .serials
        .iter()
        .map(|c| (false, c))
        .chain(d.consoles.iter().map(|c| (true, c)))
    {
        let what = if console { "console" } else { "serial" };
        chardev_source(what, c)?;
        let types: &[&str] = if console {
            &["serial", "virtio"]
        } else {
            &["isa-serial", "usb-serial", "pci-serial", "isa-debug"]
        };
        if let Some(t) = &c.target_type
            && !types.contains(&t.as_str())
        {
            return Err(unsupported(format!(
                "{what} target type '{}' is not supported",
                show(t)
            )));
        }
        if console {
            // A serial console is its serial port: an address it repeats
            // must be that port's.
            if let Some(a) = c.pci() {
                let port = c.target_port.unwrap_or(0);
                let same =
                    d.serials.iter().enumerate().any(|(i, s)| {
                        s.target_port.unwrap_or(i as u32) == port && s.pci() == Some(a)
                    });
                if !same {
                    return Err(invalid(format!(
                        "the console's PCI address is not that of PCI serial port {port}"
                    )));
                }
            }
            continue;
        }
        // libvirt's qemuValidateChrSerialTargetTypeToAddressType.
        let t = c.target_type.as_deref().unwrap_or("isa-serial");
        let (want, has) = match t {
            "pci-serial" => ("pci", c.pci().is_some()),
            "usb-serial" => ("usb", c.usb().is_some()),
            _ => ("isa", c.isa().is_some()),
        };
        if c.address.is_some() && !has {
            if t == "usb-serial" {
                return Err(unsupported("usb-serial requires address of usb type"));
            }
            return Err(unsupported(format!(
                "Target type '{t}' requires address type '{want}'"
            )));
        }
        if let Some(p) = c.target_port {
            let t = c.target_type.as_deref().unwrap_or("isa-serial");
            if t == "isa-serial" && p > 3 {
                return Err(invalid(format!(
                    "serial target port {p} is out of range: ISA serial ports are 0-3"
                )));
            }
            if !ports.insert((t, p)) {
                return Err(invalid(format!("duplicate serial target port {p}")));
            }
        }
    }
    Ok(())
}

fn chardev_source(what: &str, c: &CharDevice) -> R {
    if matches!(c.source, CharSource::SpiceVmc) {
        return Err(unsupported(format!(
            "{what} of type spicevmc is not supported"
        )));
    }
    if let Some(l) = &c.log {
        check_path(&format!("{what} log file"), &l.file)?;
    }
    source_path(what, &c.source)
}

pub(super) fn source_path(what: &str, s: &CharSource) -> R {
    match s {
        CharSource::Pty { path: Some(p) }
        | CharSource::File { path: p, .. }
        | CharSource::Dev { path: p }
        | CharSource::Pipe { path: p } => check_path(&format!("{what} source path"), p),
        CharSource::Unix {
            path: Some(path), ..
        } => {
            check_path(&format!("{what} socket path"), path)?;
            // sun_path holds 108 bytes with the terminating NUL.
            if path.len() > 107 {
                return Err(invalid(format!(
                    "{what} socket path '{}' is longer than 107 bytes",
                    show(path)
                )));
            }
            Ok(())
        }
        CharSource::Tcp { host, .. } => host_name(what, "TCP", host.as_deref()),
        CharSource::Udp {
            bind_host, host, ..
        } => {
            host_name(what, "UDP", bind_host.as_deref())?;
            host_name(what, "UDP", host.as_deref())
        }
        CharSource::Pty { path: None }
        | CharSource::Unix { path: None, .. }
        | CharSource::Null
        | CharSource::SpiceVmc
        | CharSource::SpicePort { .. }
        | CharSource::Vc
        | CharSource::QemuVdagent { .. } => Ok(()),
    }
}

fn no_virtio_options(what: &str, v: &VirtioOptions) -> R {
    if !v.is_empty() {
        return Err(invalid(format!(
            "{what}: driver options iommu, ats, packed and page_per_vq are only for virtio devices"
        )));
    }
    Ok(())
}

fn inputs(def: &DomainDef) -> R {
    let usb_off = usb_disabled(def);
    for i in &def.devices.inputs {
        let kind = i.kind.as_str();
        let bus = i.effective_bus();
        let what = format!("input type={kind}");
        let bus_ok = match i.kind {
            InputType::Mouse | InputType::Keyboard => bus != InputBus::None,
            InputType::Tablet => !matches!(bus, InputBus::Ps2 | InputBus::None),
            InputType::Passthrough => bus == InputBus::Virtio,
            InputType::Evdev => bus == InputBus::None,
        };
        if !bus_ok {
            return Err(invalid(format!("{what}: this bus is not possible for it")));
        }
        if bus == InputBus::Ps2 && def.features.ps2 == Some(false) {
            return Err(invalid(format!(
                "{what}: ps2 bus inputs are not possible with <ps2 state='off'/>: the machine has no PS/2 controller"
            )));
        }
        if let Some(m) = &i.model {
            if !VIRTIO_MODELS.contains(&m.as_str()) {
                return Err(unsupported(format!(
                    "{what}: unsupported model '{}'",
                    show(m)
                )));
            }
            if bus != InputBus::Virtio {
                return Err(invalid(format!("{what}: a model is only for bus='virtio'")));
            }
            if m != "virtio" && i.kind != InputType::Passthrough {
                return Err(invalid(format!(
                    "virtio (non-)transitional models are not supported for input type={kind}"
                )));
            }
        }
        match (&i.evdev, i.kind) {
            (Some(e), InputType::Passthrough) => check_path(&format!("{what} evdev"), e)?,
            (None, InputType::Passthrough) => {
                return Err(invalid(format!("{what} needs <source evdev=...>")));
            }
            (Some(e), InputType::Evdev) => check_path(&format!("{what} source dev"), e)?,
            (None, InputType::Evdev) => {
                return Err(invalid(format!("{what} needs <source dev=...>")));
            }
            (Some(_), _) => {
                return Err(invalid(format!(
                    "{what}: <source evdev> is only for passthrough"
                )));
            }
            (None, _) => {}
        }
        if bus != InputBus::Virtio {
            no_virtio_options(&what, &i.virtio)?;
        }
        if bus == InputBus::Usb && usb_off {
            return Err(invalid("Can't add USB input device. USB bus is disabled"));
        }
        if i.kind == InputType::Evdev {
            if i.model.is_some() || !i.virtio.is_empty() {
                return Err(invalid(format!(
                    "{what} has no guest device: no model or <driver> for it"
                )));
            }
        } else if i.evdev_options != EvdevOptions::default() {
            return Err(invalid(format!(
                "{what}: grab, grabToggle and repeat are only for type='evdev'"
            )));
        }
        let addr_ok = matches!(
            (&i.address, bus),
            (None, _)
                | (Some(Address::Pci(_)), InputBus::Virtio)
                | (Some(Address::Usb(_)), InputBus::Usb)
        );
        if !addr_ok {
            return Err(invalid(format!(
                "{what}: this address type is not possible for its bus"
            )));
        }
    }
    Ok(())
}

fn check_listen(what: &str, a: &str) -> R {
    if !schema_ip(a) && !pattern(a, ".-") {
        return Err(invalid(format!(
            "{what} '{}' is neither an IP address nor a host name",
            show(a)
        )));
    }
    Ok(())
}

fn graphics(def: &DomainDef) -> R {
    let list = &def.devices.graphics;
    // As libvirt: QEMU renders OpenGL for one display only, and
    // egl-headless always renders.
    let gl = list
        .iter()
        .filter(|g| g.spice.gl.as_ref().is_some_and(|gl| gl.enable))
        .count()
        + usize::from(def.devices.egl_headless.is_some())
        + usize::from(
            def.devices
                .dbus_display
                .as_ref()
                .and_then(|d| d.gl.as_ref())
                .is_some_and(|gl| gl.enable),
        );
    if gl > 1 {
        return Err(unsupported(
            "multiple OpenGL displays are not supported by QEMU",
        ));
    }
    if let Some(db) = &def.devices.dbus_display {
        if def.devices.egl_headless.is_some() {
            return Err(unsupported(
                "a D-Bus display and egl-headless cannot be used together: QEMU has one -display",
            ));
        }
        if let Some(id) = db.audio {
            match def.devices.audios.iter().find(|a| a.id == id) {
                None => return Err(invalid(format!("no audio device with ID {id}"))),
                Some(a) if a.kind != crate::model::AudioType::Dbus => {
                    return Err(unsupported("The associated audio is not of 'dbus' kind."));
                }
                Some(_) => {}
            }
        }
        if let Some(r) = db.gl.as_ref().and_then(|gl| gl.rendernode.as_deref()) {
            check_path("the D-Bus display's gl rendernode", r)?;
        }
    }
    if def.dbus_audio() && def.devices.dbus_display.is_none() {
        return Err(unsupported(
            "an <audio type='dbus'> is heard by the clients of a D-Bus display: add <graphics type='dbus'>",
        ));
    }
    for kind in [GraphicsType::Vnc, GraphicsType::Spice] {
        if list.iter().filter(|g| g.kind == kind).count() > 1 {
            return Err(invalid(format!(
                "only one {} graphics device is supported",
                kind.as_str()
            )));
        }
    }
    for g in list {
        let kind = g.kind.as_str();
        if let Some(id) = g.audio
            && !super::extras::audio_exists(def, id)
        {
            return Err(invalid(format!("no audio device with ID {id}")));
        }
        let port_ok = |p: i32| p == -1 || (5900..=65535).contains(&p);
        match g.port {
            Some(p) if !port_ok(p) => {
                return Err(invalid(format!(
                    "{kind} port {p} must be in range [5900,65535]"
                )));
            }
            Some(p) if p != -1 => {}
            _ if g.kind == GraphicsType::Vnc && g.autoport == Some(false) => {
                return Err(invalid(format!(
                    "{kind} graphics with autoport='no' needs a port"
                )));
            }
            _ => {}
        }
        if let Some(t) = g.tls_port
            && !port_ok(t)
        {
            return Err(invalid(format!(
                "spice tlsPort {t} must be in range [5900,65535]"
            )));
        }
        if let Some(l) = &g.listen {
            check_listen("graphics listen address", l)?;
        }
        if g.listens.len() > 1 {
            return Err(invalid(
                "QEMU does not support multiple listens for one graphics device",
            ));
        }
        let first = g.listens.first();
        match first {
            Some(GraphicsListen::Address(Some(a))) => {
                check_listen("graphics listen address", a)?;
                if let Some(l) = &g.listen
                    && l != a
                {
                    return Err(invalid(format!(
                        "graphics 'listen' attribute '{}' must match 'address' attribute of first listen element (found '{}')",
                        show(l),
                        show(a)
                    )));
                }
            }
            Some(GraphicsListen::Socket(p)) => {
                if let Some(p) = p {
                    check_path("graphics listen socket", p)?;
                    if p.len() > 107 {
                        return Err(invalid(format!(
                            "graphics listen socket '{}' is longer than 107 bytes",
                            show(p)
                        )));
                    }
                }
                if g.listen.is_some() {
                    return Err(invalid(
                        "graphics 'listen' attribute cannot go with a socket <listen>",
                    ));
                }
            }
            Some(GraphicsListen::None) if g.listen.is_some() => {
                return Err(invalid(
                    "graphics 'listen' attribute cannot go with <listen type='none'>",
                ));
            }
            _ => {}
        }
        if let Some(p) = &g.passwd {
            check_chars("graphics password", p, false)?;
            if g.kind == GraphicsType::Vnc && p.chars().count() > 8 {
                return Err(unsupported(format!(
                    "VNC password is {} characters long, only 8 permitted",
                    p.chars().count()
                )));
            }
        }
        if let Some(k) = &g.keymap
            && !pattern(k, "-_")
        {
            return Err(invalid(format!("keymap '{}' is not valid", show(k))));
        }
        if let Some(gl) = &g.spice.gl
            && let Some(r) = &gl.rendernode
        {
            check_path("spice gl rendernode", r)?;
        }
    }
    Ok(())
}

fn videos(def: &DomainDef) -> R {
    let v = &def.devices.videos;
    if v.iter().filter(|x| x.primary).count() > 1 {
        return Err(invalid("Only one primary video device is supported"));
    }
    for x in v {
        let m = x.model;
        let what = format!("video model '{}'", m.as_str());
        if m == VideoModel::None && v.len() > 1 {
            return Err(invalid(
                "a 'none' video type must be the only video device defined for the domain",
            ));
        }
        if m != VideoModel::Qxl && (x.ram.is_some() || x.vgamem.is_some() || x.vram64.is_some()) {
            return Err(invalid(format!(
                "{what}: ram, vram64 and vgamem are only for qxl"
            )));
        }
        for v in [x.vram, x.ram, x.vgamem, x.vram64].into_iter().flatten() {
            if v > u64::from(u32::MAX) {
                return Err(invalid(format!(
                    "{what}: video memory size {v} is too large"
                )));
            }
        }
        if x.heads == Some(0) {
            return Err(invalid(format!("{what}: heads must be at least 1")));
        }
        if m != VideoModel::Virtio {
            no_virtio_options(&what, &x.virtio)?;
        }
        if x.blob.is_some() && m != VideoModel::Virtio {
            return Err(invalid(format!("{what}: blob is only for virtio")));
        }
        if x.accel3d == Some(true) && m != VideoModel::Virtio {
            return Err(unsupported(
                "3d acceleration is supported only with 'virtio' video device",
            ));
        }
        // qemu_validate.c: only these cards take an initial size.
        if x.resolution.is_some()
            && !matches!(
                m,
                VideoModel::Vga | VideoModel::Qxl | VideoModel::Virtio | VideoModel::Bochs
            )
        {
            return Err(invalid(format!(
                "{what}: model resolution is not supported"
            )));
        }
        if m == VideoModel::Ramfb && x.address.is_some() {
            return Err(invalid("address not supported for video type ramfb"));
        }
        only_pci(&what, &x.address)?;
    }
    Ok(())
}

/// A host a socket character device names, if any: an address or name.
fn host_name(what: &str, proto: &str, host: Option<&str>) -> R {
    match host {
        Some(h) if h.is_empty() || h.contains([',', '\n', '\r']) => Err(invalid(format!(
            "{what}: the {proto} host '{}' is not an address or host name",
            show(h)
        ))),
        _ => Ok(()),
    }
}
