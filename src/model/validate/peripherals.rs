//! Checks of character devices, input devices, graphics and video.

use std::collections::HashSet;

use super::devices::{VIRTIO_MODELS, only_pci, usb_disabled};
use super::{R, check_chars, check_path, invalid, pattern, schema_ip, show, unsupported};
use crate::model::{
    Address, CharDevice, CharSource, DomainDef, InputBus, InputType, VirtioOptions,
};

pub(super) fn validate(def: &DomainDef) -> R {
    chardevs(def)?;
    inputs(def)?;
    graphics(def)?;
    videos(def)
}

fn chardevs(def: &DomainDef) -> R {
    let d = &def.devices;
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
            continue;
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
    match &c.source {
        CharSource::Pty { path: Some(p) } | CharSource::File { path: p, .. } => {
            check_path(&format!("{what} source path"), p)
        }
        CharSource::Unix { path, .. } => {
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
        CharSource::Pty { path: None } | CharSource::Null => Ok(()),
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
        let kind = match i.kind {
            InputType::Mouse => "mouse",
            InputType::Keyboard => "keyboard",
            InputType::Tablet => "tablet",
            InputType::Passthrough => "passthrough",
        };
        let bus = i.bus.unwrap_or(match i.kind {
            InputType::Mouse | InputType::Keyboard => InputBus::Ps2,
            InputType::Tablet => InputBus::Usb,
            InputType::Passthrough => InputBus::Virtio,
        });
        let what = format!("input type={kind}");
        let bus_ok = match i.kind {
            InputType::Mouse | InputType::Keyboard => true,
            InputType::Tablet => bus != InputBus::Ps2,
            InputType::Passthrough => bus == InputBus::Virtio,
        };
        if !bus_ok {
            return Err(invalid(format!("{what}: this bus is not possible for it")));
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
        let addr_ok = matches!(
            (&i.address, bus),
            (None, _)
                | (Some(Address::Pci(_)), InputBus::Virtio)
                | (Some(Address::Usb { .. }), InputBus::Usb)
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
    let g = &def.devices.graphics;
    if g.len() > 1 {
        return Err(invalid("only one VNC graphics device is supported"));
    }
    for g in g {
        match g.port {
            Some(p) if p != -1 && !(5900..=65535).contains(&p) => {
                return Err(invalid(format!(
                    "vnc port {p} must be in range [5900,65535]"
                )));
            }
            Some(p) if p != -1 => {}
            _ if g.autoport == Some(false) => {
                return Err(invalid("VNC graphics with autoport='no' needs a port"));
            }
            _ => {}
        }
        if let Some(l) = &g.listen {
            check_listen("graphics listen address", l)?;
        }
        if g.listen_addresses.len() > 1 {
            return Err(invalid(
                "QEMU does not support multiple listens for one graphics device",
            ));
        }
        for a in &g.listen_addresses {
            check_listen("graphics listen address", a)?;
        }
        if let (Some(l), Some(first)) = (&g.listen, g.listen_addresses.first())
            && l != first
        {
            return Err(invalid(format!(
                "graphics 'listen' attribute '{}' must match 'address' attribute of first listen element (found '{}')",
                show(l),
                show(first)
            )));
        }
        if let Some(p) = &g.passwd {
            check_chars("VNC password", p, false)?;
        }
    }
    Ok(())
}

fn videos(def: &DomainDef) -> R {
    let v = &def.devices.videos;
    const MODELS: &[&str] = &[
        "vga", "cirrus", "vmvga", "qxl", "virtio", "bochs", "ramfb", "none",
    ];
    if v.iter().filter(|x| x.primary).count() > 1 {
        return Err(invalid("Only one primary video device is supported"));
    }
    for x in v {
        let m = x.model.as_str();
        if !MODELS.contains(&m) {
            return Err(unsupported(format!(
                "unsupported video model '{}'",
                show(m)
            )));
        }
        let what = format!("video model '{m}'");
        if m == "none" && v.len() > 1 {
            return Err(invalid(
                "a 'none' video type must be the only video device defined for the domain",
            ));
        }
        if m != "qxl" && (x.ram.is_some() || x.vgamem.is_some()) {
            return Err(invalid(format!("{what}: ram and vgamem are only for qxl")));
        }
        for v in [x.vram, x.ram, x.vgamem].into_iter().flatten() {
            if v > u64::from(u32::MAX) {
                return Err(invalid(format!(
                    "{what}: video memory size {v} is too large"
                )));
            }
        }
        if x.heads == Some(0) {
            return Err(invalid(format!("{what}: heads must be at least 1")));
        }
        if m != "virtio" {
            no_virtio_options(&what, &x.virtio)?;
        }
        if m == "ramfb" && x.address.is_some() {
            return Err(invalid("address not supported for video type ramfb"));
        }
        only_pci(&what, &x.address)?;
    }
    Ok(())
}
