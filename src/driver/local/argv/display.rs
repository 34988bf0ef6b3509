//! What the user sees and touches, and the balloon: input devices, the
//! audio backend, VNC, video cards and the memory balloon.

use std::net::IpAddr;

use super::controllers::with_virtio;
use super::opts::Opts;
use super::pci::Plug;
use super::{Ctx, invalid, unsupported};
use crate::driver::error::{Error, ErrorCode};
use crate::model::{BalloonModel, DomainDef, Input, InputBus, InputType, Video};

/// Emits inputs, audio, VNC, video and the balloon, in that order.
pub fn emit(cx: &mut Ctx<'_>) -> Result<(), Error> {
    let def = cx.def;
    for (i, input) in def.devices.inputs.iter().enumerate() {
        emit_input(cx, i, input)?;
    }
    let audio = match def.devices.audios.first() {
        Some(_) => def
            .devices
            .audios
            .iter()
            .map(|a| format!("audio{}", a.id))
            .collect(),
        // No sound device exists, but QEMU 7.2 warns about (and VNC picks)
        // a host audio driver unless a backend is named: name a silent one.
        None => vec!["audio1".to_string()],
    };
    for id in &audio {
        cx.arg("-audiodev", Opts::new("none").set("id", id).build());
    }
    emit_vnc(cx, &audio[0])?;
    for (n, (video, primary)) in videos(def)?.into_iter().enumerate() {
        emit_video(cx, n, &video, primary)?;
    }
    emit_balloon(cx)
}

/// The video cards to emit, primary first, each with whether it is the
/// primary one. With graphics and no `<video>`, a VGA card, as libvirt.
fn videos(def: &DomainDef) -> Result<Vec<(Video, bool)>, Error> {
    let list = &def.devices.videos;
    if list.iter().any(|v| v.model == "none") {
        if list.len() > 1 {
            return Err(invalid(
                "a <video> with model 'none' must be the only video",
            ));
        }
        return Ok(Vec::new());
    }
    if list.is_empty() {
        if def.devices.graphics.is_empty() {
            return Ok(Vec::new());
        }
        let vga = Video {
            model: "vga".to_string(),
            vram: None,
            ram: None,
            vgamem: None,
            heads: None,
            primary: true,
            virtio: Default::default(),
            address: None,
        };
        return Ok(vec![(vga, true)]);
    }
    let primary = list.iter().position(|v| v.primary).unwrap_or(0);
    if list.iter().filter(|v| v.primary).count() > 1 {
        return Err(invalid("only one <video> can be primary"));
    }
    let mut out = vec![(list[primary].clone(), true)];
    out.extend(
        list.iter()
            .enumerate()
            .filter(|(i, _)| *i != primary)
            .map(|(_, v)| (v.clone(), false)),
    );
    Ok(out)
}

/// Whether the primary video card has no address, so that the slot
/// libvirt gives it (00:02.0 on pc, 00:01.0 on q35) is kept for it.
pub fn primary_video_wants_slot(def: &DomainDef) -> bool {
    videos(def)
        .ok()
        .and_then(|v| v.into_iter().next())
        .is_some_and(|(v, _)| v.address.is_none())
}

fn emit_video(cx: &mut Ctx<'_>, n: usize, v: &Video, primary: bool) -> Result<(), Error> {
    let model = v.model.as_str();
    let what = format!("{model} video card");
    let device = match (model, primary) {
        ("vga", true) => "VGA",
        ("cirrus", true) => "cirrus-vga",
        ("qxl", true) => "qxl-vga",
        ("qxl", false) => "qxl",
        ("virtio", true) => "virtio-vga",
        ("virtio", false) => "virtio-gpu-pci",
        ("bochs", _) => "bochs-display",
        ("vga" | "cirrus", false) => {
            return Err(unsupported(format!(
                "a {model} video card can only be the primary one: use qxl or virtio for secondary cards"
            )));
        }
        _ => {
            return Err(unsupported(format!(
                "video model '{model}' is not supported: use vga, cirrus, qxl, virtio, bochs or none"
            )));
        }
    };
    let plug = if primary {
        Plug::PrimaryVideo
    } else {
        Plug::Device
    };
    let placed = cx.pci.place(&what, v.address.as_ref(), plug)?;
    let mut o = Opts::new(device)
        .set("id", format!("video{n}"))
        .extend(placed.opts);
    let heads_ok = matches!(model, "qxl" | "virtio");
    if v.heads.is_some_and(|h| h != 1) && !heads_ok {
        return Err(unsupported(format!(
            "heads is not supported on a {model} video card"
        )));
    }
    if (v.ram.is_some() || v.vgamem.is_some()) && model != "qxl" {
        return Err(unsupported(format!(
            "ram and vgamem are only supported on qxl video cards, not {model}"
        )));
    }
    if heads_ok {
        o = o.maybe("max_outputs", v.heads);
    }
    match model {
        "vga" => o = o.maybe("vgamem_mb", mib("vram", v.vram)?),
        "bochs" => o = o.maybe("vgamem", v.vram.map(|k| k * 1024)),
        "qxl" => {
            o = o
                .maybe("ram_size", v.ram.map(|k| k * 1024))
                .maybe("vram_size", v.vram.map(|k| k * 1024))
                .maybe("vgamem_mb", mib("vgamem", v.vgamem)?);
        }
        _ => {}
    }
    let o = with_virtio(o, &v.virtio, model == "virtio", &what)?;
    cx.arg("-device", o.build());
    Ok(())
}

/// A KiB size as whole MiB for QEMU's `*_mb` properties.
fn mib(attr: &str, kib: Option<u64>) -> Result<Option<u64>, Error> {
    match kib {
        Some(k) if k < 1024 || k % 1024 != 0 => Err(invalid(format!(
            "video {attr} must be a multiple of 1024 KiB, not {k}"
        ))),
        other => Ok(other.map(|k| k / 1024)),
    }
}

fn emit_input(cx: &mut Ctx<'_>, i: usize, input: &Input) -> Result<(), Error> {
    let bus = input.bus.unwrap_or(match input.kind {
        InputType::Mouse | InputType::Keyboard => InputBus::Ps2,
        InputType::Tablet => InputBus::Usb,
        InputType::Passthrough => InputBus::Virtio,
    });
    let kind = match input.kind {
        InputType::Mouse => "mouse",
        InputType::Keyboard => "keyboard",
        InputType::Tablet => "tablet",
        InputType::Passthrough => "passthrough",
    };
    let what = format!("{kind} input device");
    if input.evdev.is_some() != (input.kind == InputType::Passthrough) {
        return Err(invalid(
            "<source evdev> belongs to, and only to, a passthrough input",
        ));
    }
    if input.model.is_some() && bus != InputBus::Virtio {
        return Err(unsupported(format!(
            "a model is only supported on virtio inputs, not on the {what}"
        )));
    }
    let id = format!("input{i}");
    let o = match (input.kind, bus) {
        // The PS/2 controller is part of the PC: nothing to add.
        (InputType::Mouse | InputType::Keyboard, InputBus::Ps2) => return Ok(()),
        (_, InputBus::Ps2) => {
            return Err(unsupported(format!(
                "a {kind} on bus ps2 is not supported: use usb or virtio"
            )));
        }
        (InputType::Passthrough, InputBus::Usb) => {
            return Err(unsupported("a passthrough input must be on bus virtio"));
        }
        (_, InputBus::Usb) => {
            let device = match input.kind {
                InputType::Mouse => "usb-mouse",
                InputType::Keyboard => "usb-kbd",
                _ => "usb-tablet",
            };
            let port = cx
                .usb
                .place(&format!("USB {kind}"), input.address.as_ref())?;
            let o = Opts::new(device).set("id", id).extend(port);
            with_virtio(o, &input.virtio, false, &what)?
        }
        (_, InputBus::Virtio) => {
            if let Some(model) = input.model.as_deref().filter(|m| *m != "virtio") {
                return Err(unsupported(format!(
                    "virtio (non-)transitional models are not supported for input type={kind} (model '{model}')"
                )));
            }
            let device = match input.kind {
                InputType::Mouse => "virtio-mouse-pci",
                InputType::Keyboard => "virtio-keyboard-pci",
                InputType::Tablet => "virtio-tablet-pci",
                InputType::Passthrough => "virtio-input-host-pci",
            };
            let placed = cx.pci.place(&what, input.address.as_ref(), Plug::Device)?;
            let mut o = Opts::new(device).set("id", id).extend(placed.opts);
            if let Some(evdev) = &input.evdev {
                o = o.set_user("evdev", "input evdev path", evdev)?;
            }
            with_virtio(o, &input.virtio, true, &what)?
        }
    };
    cx.arg("-device", o.build());
    Ok(())
}

/// `-vnc HOST:DISPLAY`. A password is only announced (`password=on`): the
/// driver sets it through QMP `set_password`, so it never shows in the
/// process list.
fn emit_vnc(cx: &mut Ctx<'_>, audiodev: &str) -> Result<(), Error> {
    let graphics = &cx.def.devices.graphics;
    let Some(g) = graphics.first() else {
        return Ok(());
    };
    if graphics.len() > 1 {
        return Err(unsupported("only one <graphics type='vnc'> is supported"));
    }
    let listen = g
        .listen_addresses
        .first()
        .or(g.listen.as_ref())
        .map(String::as_str)
        .unwrap_or("127.0.0.1");
    let host = match listen.parse::<IpAddr>() {
        Ok(IpAddr::V6(a)) => format!("[{a}]"),
        Ok(IpAddr::V4(a)) => a.to_string(),
        // QEMU reads `-vnc unix:N` as a UNIX socket named N in its working
        // directory, not as the host `unix`.
        Err(_) if listen == "unix" => {
            return Err(invalid(
                "VNC listen address 'unix' would make QEMU listen on a UNIX socket in its working directory; use an IP address or another host name",
            ));
        }
        Err(_) if is_hostname(listen) => listen.to_string(),
        Err(_) => {
            return Err(invalid(format!(
                "VNC listen address '{listen}' is neither an IP address nor a host name"
            )));
        }
    };
    let auto = g.autoport == Some(true) || g.port.is_none_or(|p| p < 0);
    let port = if auto {
        let port = cx.paths.vnc_port.ok_or_else(|| {
            Error::new(
                ErrorCode::InvalidArgument,
                "the VNC display uses autoport: the driver must pick a free port (RuntimePaths::vnc_port)",
            )
        })?;
        if port < 5900 {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                format!("the VNC port {port} is below 5900"),
            ));
        }
        i64::from(port)
    } else {
        let port = i64::from(g.port.unwrap_or_default());
        if !(5900..=65535).contains(&port) {
            return Err(invalid(format!(
                "VNC port {port} is out of range: use 5900 to 65535, or autoport"
            )));
        }
        port
    };
    let mut o = Opts::new(&format!("{host}:{}", port - 5900));
    if let Some(pw) = &g.passwd {
        super::opts::user("VNC password", pw)?;
        o = o.switch("password", true);
    }
    cx.arg("-vnc", o.set("audiodev", audiodev).build());
    Ok(())
}

/// A DNS name: letters, digits, dots and inner hyphens.
fn is_hostname(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

fn emit_balloon(cx: &mut Ctx<'_>) -> Result<(), Error> {
    // No <memballoon> means a virtio one, as libvirt.
    let balloon = cx.def.devices.memballoon.clone();
    let (autodeflate, reporting, virtio, address) = match &balloon {
        None => (None, None, Default::default(), None),
        Some(b) if b.model == BalloonModel::None => return Ok(()),
        Some(b) => (b.autodeflate, b.free_page_reporting, b.virtio, b.address),
    };
    let placed = cx.pci.place("memballoon", address.as_ref(), Plug::Device)?;
    let o = Opts::new("virtio-balloon-pci")
        .set("id", "balloon0")
        .extend(placed.opts)
        .maybe_switch("deflate-on-oom", autodeflate)
        .maybe_switch("free-page-reporting", reporting);
    let o = with_virtio(o, &virtio, true, "memballoon")?;
    cx.arg("-device", o.build());
    Ok(())
}
