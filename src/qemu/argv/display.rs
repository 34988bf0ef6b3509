//! What the user sees and touches, and the balloon: input devices, VNC
//! and SPICE, video cards and the memory balloon.

use std::net::IpAddr;

use super::devs::Dev;
use super::opts::with_virtio;
use super::opts::{Opts, user};
use super::usb::UsbDev;
use super::{Ctx, invalid, unsupported};
use crate::error::{Error, ErrorCode};
use crate::model::{
    BalloonModel, DomainDef, GrabToggle, Graphics, GraphicsListen, GraphicsType, Input, InputBus,
    InputType, SpiceChannelMode, SpiceMouseMode, Video, VideoModel,
};

/// Emits inputs, the display, then video cards.
pub fn emit(cx: &mut Ctx<'_>) -> Result<(), Error> {
    let def = cx.def;
    for (i, input) in def.devices.inputs.iter().enumerate() {
        emit_input(cx, i, input)?;
    }
    super::sound::emit_backends(cx)?;
    emit_graphics(cx)?;
    for (n, (video, primary)) in videos(def)?.into_iter().enumerate() {
        emit_video(cx, n, &video, primary)?;
    }
    Ok(())
}

/// The video cards to emit, primary first, each with whether it is the
/// primary one. With graphics (egl-headless too) and no `<video>`, a
/// VGA card, as libvirt.
pub(super) fn videos(def: &DomainDef) -> Result<Vec<(Video, bool)>, Error> {
    let list = &def.devices.videos;
    if list.iter().any(|v| v.model == VideoModel::None) {
        if list.len() > 1 {
            return Err(invalid(
                "a <video> with model 'none' must be the only video",
            ));
        }
        return Ok(Vec::new());
    }
    if list.is_empty() {
        if def.devices.graphics.is_empty()
            && def.devices.egl_headless.is_none()
            && def.devices.dbus_display.is_none()
        {
            return Ok(Vec::new());
        }
        let mut vga = Video::new(VideoModel::Vga);
        vga.primary = true;
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

fn emit_video(cx: &mut Ctx<'_>, n: usize, v: &Video, primary: bool) -> Result<(), Error> {
    let model = v.model;
    let name = model.as_str();
    let what = format!("{name} video card");
    let gl = v.accel3d == Some(true);
    if gl && model != VideoModel::Virtio {
        return Err(unsupported(
            "3d acceleration is supported only with 'virtio' video device",
        ));
    }
    let device = match (model, primary) {
        (VideoModel::Vga, true) => "VGA",
        (VideoModel::Cirrus, true) => "cirrus-vga",
        (VideoModel::Vmvga, true) => "vmware-svga",
        (VideoModel::Qxl, true) => "qxl-vga",
        (VideoModel::Qxl, false) => "qxl",
        (VideoModel::Virtio, true) if gl => "virtio-vga-gl",
        (VideoModel::Virtio, true) => "virtio-vga",
        (VideoModel::Virtio, false) if gl => "virtio-gpu-gl-pci",
        (VideoModel::Virtio, false) => "virtio-gpu-pci",
        (VideoModel::Bochs, _) => "bochs-display",
        (VideoModel::Ramfb, _) => "ramfb",
        (VideoModel::Vga | VideoModel::Cirrus | VideoModel::Vmvga, false) => {
            return Err(unsupported(format!(
                "video type '{name}' is only valid as primary video device"
            )));
        }
        (VideoModel::None, _) => return Ok(()),
    };
    let heads_ok = matches!(model, VideoModel::Qxl | VideoModel::Virtio);
    if v.heads.is_some_and(|h| h != 1) && !heads_ok {
        return Err(unsupported(format!(
            "video type '{name}' doesn't support multiple 'heads'"
        )));
    }
    if (v.ram.is_some() || v.vgamem.is_some() || v.vram64.is_some()) && model != VideoModel::Qxl {
        return Err(unsupported(format!(
            "ram, vram64 and vgamem are only supported on qxl video cards, not {name}"
        )));
    }
    let mut o = Opts::new(device).set("id", format!("video{n}"));
    if model == VideoModel::Ramfb {
        if v.address.is_some() {
            return Err(invalid(
                "'address' is not supported for 'ramfb' video devices",
            ));
        }
        cx.arg("-device", o.build());
        return Ok(());
    }
    o = o
        .extend(cx.pci.place(&what, v.address.as_ref(), Dev::Video(n))?.opts)
        .maybe("acpi-index", v.acpi_index);
    if heads_ok {
        o = o.maybe("max_outputs", v.heads);
    }
    o = o.maybe_switch("blob", v.blob);
    if let Some((x, y)) = v.resolution {
        o = o.set("xres", x).set("yres", y);
    }
    match model {
        VideoModel::Vga | VideoModel::Vmvga => {
            o = o.maybe("vgamem_mb", mib("vram", v.vram)?);
        }
        VideoModel::Bochs => o = o.maybe("vgamem", v.vram.map(|k| k * 1024)),
        VideoModel::Qxl => {
            if let Some(vgamem) = v.vgamem
                && (vgamem < 1024 || !vgamem.is_power_of_two())
            {
                return Err(invalid(
                    "value for 'vgamem' must be at least 1 MiB (1024 KiB) and a power of two",
                ));
            }
            o = o
                .maybe("ram_size", v.ram.map(|k| k * 1024))
                .maybe("vram_size", v.vram.map(|k| k * 1024))
                .maybe("vram64_size_mb", mib("vram64", v.vram64)?)
                .maybe("vgamem_mb", mib("vgamem", v.vgamem)?);
        }
        _ => {}
    }
    let o = with_virtio(o, &v.virtio, model == VideoModel::Virtio, &what)?;
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

/// The QEMU id of input number `i` (a start numbers them in order, the
/// PS/2 ones too), libvirt's alias.
pub fn input_id(i: usize) -> String {
    format!("input{i}")
}

fn emit_input(cx: &mut Ctx<'_>, i: usize, input: &Input) -> Result<(), Error> {
    let bus = input.effective_bus();
    let kind = input.kind.as_str();
    let what = format!("{kind} input device");
    let has_source = matches!(input.kind, InputType::Passthrough | InputType::Evdev);
    if input.evdev.is_some() != has_source {
        return Err(invalid(
            "<source> belongs to, and only to, a passthrough or evdev input",
        ));
    }
    if input.model.is_some() && bus != InputBus::Virtio {
        return Err(unsupported(format!(
            "a model is only supported on virtio inputs, not on the {what}"
        )));
    }
    let id = input_id(i);
    if input.kind == InputType::Evdev {
        return emit_evdev(cx, id, input);
    }
    let o = match (input.kind, bus) {
        // The PS/2 controller is part of the PC: nothing to add.
        (InputType::Mouse | InputType::Keyboard, InputBus::Ps2) => return Ok(()),
        (_, InputBus::Ps2 | InputBus::None) => {
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
            let port = cx.usb.port_of(UsbDev::Input(i))?;
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
                InputType::Evdev => unreachable!("an evdev input returned above"),
            };
            let placed = cx.pci.place(&what, input.address.as_ref(), Dev::Input(i))?;
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

/// An evdev input: QEMU reads the host's device and feeds its events to
/// the guest's own keyboard and mouse (`input-linux`), no guest device.
fn emit_evdev(cx: &mut Ctx<'_>, id: String, input: &Input) -> Result<(), Error> {
    let Some(dev) = &input.evdev else {
        return Err(invalid("an evdev input needs <source dev=...>"));
    };
    let opts = &input.evdev_options;
    let o = Opts::new("input-linux")
        .set("id", id)
        .set_user("evdev", "input source dev", dev)?
        .maybe_switch("repeat", opts.repeat)
        .maybe("grab_all", opts.grab_all.then_some("on"))
        .maybe("grab-toggle", opts.grab_toggle.map(GrabToggle::as_str));
    cx.arg("-object", o.build());
    Ok(())
}

/// The display: `-vnc` or `-spice`, and `-k` for a keymap. A password is
/// only announced: the driver sets it through QMP `set_password`, so it
/// never shows in the process list.
fn emit_graphics(cx: &mut Ctx<'_>) -> Result<(), Error> {
    let graphics = &cx.def.devices.graphics;
    let Some(g) = graphics.first() else {
        return Ok(());
    };
    if graphics.len() > 1 {
        return Err(unsupported(
            "only one <graphics> per domain is supported (a VNC or a SPICE display)",
        ));
    }
    if let Some(k) = &g.keymap {
        cx.arg("-k", user("keymap", k)?);
    }
    match g.kind {
        GraphicsType::Vnc => emit_vnc(cx, g),
        GraphicsType::Spice => emit_spice(cx, g),
    }
}

/// The host part of a listen address: an IP address (IPv6 in brackets for
/// VNC) or a host name.
fn listen_host(g: &Graphics, bracket_v6: bool) -> Result<String, Error> {
    let listen = g.listen_address().unwrap_or("127.0.0.1");
    match listen.parse::<IpAddr>() {
        Ok(IpAddr::V6(a)) if bracket_v6 => Ok(format!("[{a}]")),
        Ok(a) => Ok(a.to_string()),
        // QEMU reads `-vnc unix:N` as a UNIX socket named N in its working
        // directory, not as the host `unix`.
        Err(_) if listen == "unix" => Err(invalid(
            "graphics listen address 'unix' would make QEMU listen on a UNIX socket in its working directory; use an IP address or another host name",
        )),
        Err(_) if is_hostname(listen) => Ok(listen.to_string()),
        Err(_) => Err(invalid(format!(
            "graphics listen address '{listen}' is neither an IP address nor a host name"
        ))),
    }
}

/// The TCP port of a display: its fixed one, or the one the driver picked.
fn display_port(cx: &Ctx<'_>, g: &Graphics) -> Result<u16, Error> {
    let kind = g.kind.as_str();
    if g.wants_autoport() {
        let port = cx.paths.vnc_port.ok_or_else(|| {
            Error::new(
                ErrorCode::InvalidArgument,
                format!(
                    "the {kind} display uses autoport: the driver must pick a free port (RuntimePaths::vnc_port)"
                ),
            )
        })?;
        if port < 5900 {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                format!("the {kind} port {port} is below 5900"),
            ));
        }
        return Ok(port);
    }
    let port = i64::from(g.port.unwrap_or_default());
    if !(5900..=65535).contains(&port) {
        return Err(invalid(format!(
            "{kind} port {port} is out of range: use 5900 to 65535, or autoport"
        )));
    }
    Ok(port as u16)
}

/// The UNIX socket of a display listening on one: its own path, or one in
/// the domain's runtime directory.
fn display_socket(cx: &Ctx<'_>, g: &Graphics, path: &Option<String>) -> Result<String, Error> {
    match path {
        Some(p) => Ok(user("graphics socket", p)?.to_string()),
        None => super::runtime_path(
            "graphics socket",
            &cx.paths
                .runtime_dir
                .join(format!("{}.sock", g.kind.as_str())),
        ),
    }
}

/// A display listening on a libvirt network's address: the driver
/// refuses it before the command line is built (qvirt has no such
/// networks); here too, should a caller skip that.
fn network_listen(g: &Graphics) -> Result<(), Error> {
    match g.listens.first() {
        Some(GraphicsListen::Network(n)) => Err(unsupported(format!(
            "the {} display listens on the address of libvirt network '{n}', which qvirt does not have",
            g.kind.as_str()
        ))),
        _ => Ok(()),
    }
}

fn emit_vnc(cx: &mut Ctx<'_>, g: &Graphics) -> Result<(), Error> {
    network_listen(g)?;
    let first = match g.listens.first() {
        Some(GraphicsListen::Socket(path)) => {
            Opts::new(&format!("unix:{}", display_socket(cx, g, path)?))
        }
        Some(GraphicsListen::None) => Opts::new("none"),
        _ => {
            let host = listen_host(g, true)?;
            let port = display_port(cx, g)?;
            Opts::new(&format!("{host}:{}", port - 5900))
        }
    };
    let mut o = first;
    if let Some(pw) = &g.passwd {
        user("VNC password", pw)?;
        o = o.switch("password", true);
    }
    if let Some(p) = g.share_policy {
        o = o.set("share", p.as_str());
    }
    o = o.maybe_switch("power-control", g.power_control);
    match g.websocket {
        Some(-1) => {
            let port = cx.paths.websocket_port.ok_or_else(|| {
                Error::new(
                    ErrorCode::InvalidArgument,
                    "the VNC WebSocket port is chosen at start: the driver must pick a free one (RuntimePaths::websocket_port)",
                )
            })?;
            o = o.set("websocket", port);
        }
        Some(p) => {
            let port = u16::try_from(p)
                .ok()
                .filter(|p| *p > 0)
                .ok_or_else(|| invalid(format!("VNC websocket port {p} is out of range")))?;
            o = o.set("websocket", port);
        }
        None => {}
    }
    let audiodev = super::sound::audiodev(cx.def, g.audio)?;
    cx.arg("-vnc", o.set("audiodev", audiodev).build());
    Ok(())
}

fn emit_spice(cx: &mut Ctx<'_>, g: &Graphics) -> Result<(), Error> {
    if g.share_policy.is_some() {
        return Err(invalid("sharePolicy is a VNC setting: SPICE has none"));
    }
    network_listen(g)?;
    let s = &g.spice;
    let tls_port = spice_tls_port(cx, g)?;
    // Whether clients can connect in the clear, and over TLS (libvirt's
    // hasInsecure and hasSecure).
    let (mut o, insecure) = match g.listens.first() {
        Some(GraphicsListen::Socket(path)) => (
            Opts::empty()
                .switch("unix", true)
                .set("addr", display_socket(cx, g, path)?),
            true,
        ),
        // No network listener: QEMU still wants a port, 0 opens none.
        Some(GraphicsListen::None) => (Opts::empty().set("port", 0), true),
        // autoport='no' without a port: no plain TCP port either.
        _ if g.autoport == Some(false) && g.port.is_none_or(|p| p <= 0) => match tls_port {
            Some(t) => (
                Opts::empty()
                    .set("tls-port", t)
                    .set("addr", listen_host(g, false)?),
                false,
            ),
            None => (Opts::empty().set("port", 0), false),
        },
        _ => {
            let port = display_port(cx, g)?;
            (
                Opts::empty()
                    .set("port", port)
                    .maybe("tls-port", tls_port)
                    .set("addr", listen_host(g, false)?),
                true,
            )
        }
    };
    let secure = tls_port.is_some();
    if g.passwd.is_none() {
        o = o.switch("disable-ticketing", true);
    }
    if secure {
        let dir = cx.paths.spice_tls_dir.clone().unwrap_or_default();
        o = o.set_user(
            "x509-dir",
            "SPICE TLS certificates directory",
            &dir.to_string_lossy(),
        )?;
    }
    let channels = g
        .default_mode
        .map(|m| ("default", m))
        .into_iter()
        .chain(s.channels.iter().map(|(name, mode)| (name.as_str(), *mode)));
    for (name, mode) in channels {
        let which = if name == "default" {
            "defaultMode"
        } else {
            "channels"
        };
        match mode {
            SpiceChannelMode::Secure if !secure => {
                return Err(unsupported(format!(
                    "spice {which} secure requested in XML configuration, but TLS connection is not available{NO_TLS}"
                )));
            }
            SpiceChannelMode::Insecure if !insecure => {
                return Err(unsupported(format!(
                    "spice {which} insecure requested in XML configuration, but plaintext connection is not available"
                )));
            }
            SpiceChannelMode::Secure => o = o.set("tls-channel", name),
            SpiceChannelMode::Insecure => o = o.set("plaintext-channel", name),
            SpiceChannelMode::Any => {}
        }
    }
    o = o
        .maybe("image-compression", s.image_compression.map(|c| c.as_str()))
        .maybe(
            "jpeg-wan-compression",
            s.jpeg_compression.map(|c| c.as_str()),
        )
        .maybe(
            "zlib-glz-wan-compression",
            s.zlib_compression.map(|c| c.as_str()),
        )
        .maybe_switch("playback-compression", s.playback_compression)
        .maybe("streaming-video", s.streaming.map(|m| m.as_str()));
    if let Some(m) = s.mouse_mode {
        o = o.switch("agent-mouse", m == SpiceMouseMode::Client);
    }
    if s.copypaste == Some(false) {
        o = o.switch("disable-copy-paste", true);
    }
    if s.filetransfer == Some(false) {
        o = o.switch("disable-agent-file-xfer", true);
    }
    if let Some(gl) = &s.gl {
        o = o.switch("gl", gl.enable);
        if let Some(r) = &gl.rendernode {
            o = o.set_user("rendernode", "spice gl rendernode", r)?;
        }
    }
    cx.arg("-spice", o.switch("seamless-migration", true).build());
    Ok(())
}

/// Where qvirt's SPICE TLS is configured, for messages that say it is not.
const NO_TLS: &str = " (SPICE's TLS is on when the state's pki/spice holds ca-cert.pem, server-cert.pem and server-key.pem)";

/// Whether a SPICE display needs a TLS port picked at start, as libvirt
/// decides (`qemuProcessSPICEAllocatePorts`): with autoport, for a secure
/// default mode or channel, or for the default mode 'any' when TLS is on
/// (`tls_on`); without autoport, for `tlsPort='-1'` when TLS is on.
/// Under autoport a written `tlsPort` (virt-install's `-1`) is not a
/// request: libvirt's define resets both ports of an autoport display.
/// libvirt refuses `tlsPort='-1'` beside a fixed port when TLS is off,
/// which virt-install writes for `--graphics spice,port=N`; qvirt starts
/// that display without a TLS port, as nothing asked for a secure
/// channel.
pub fn spice_wants_tls_port(g: &Graphics, tls_on: bool) -> bool {
    let listens_tcp = g.listens_on_tcp();
    if g.kind != GraphicsType::Spice || !listens_tcp {
        return false;
    }
    let secure = |m: &SpiceChannelMode| *m == SpiceChannelMode::Secure;
    let by_mode = match g.default_mode {
        Some(SpiceChannelMode::Secure) => true,
        Some(SpiceChannelMode::Insecure) => false,
        Some(SpiceChannelMode::Any) | None => tls_on,
    };
    match spice_autoport(g) {
        true => by_mode || g.spice.channels.iter().any(|(_, m)| secure(m)),
        false => g.tls_port == Some(-1) && tls_on,
    }
}

/// libvirt's SPICE autoport: the attribute, or -1 for both ports.
fn spice_autoport(g: &Graphics) -> bool {
    g.autoport == Some(true) || (g.port == Some(-1) && g.tls_port == Some(-1))
}

/// The TLS port of a SPICE display listening on TCP: picked at start
/// (see [`spice_wants_tls_port`]) or written; `None` without one.
fn spice_tls_port(cx: &Ctx<'_>, g: &Graphics) -> Result<Option<u16>, Error> {
    let tls_on = cx.paths.spice_tls_dir.is_some();
    if spice_wants_tls_port(g, tls_on) {
        if !tls_on {
            return Err(unsupported(format!(
                "Auto allocation of spice TLS port requested but spice TLS is not configured{NO_TLS}"
            )));
        }
        return cx.paths.spice_tls_port.map(Some).ok_or_else(|| {
            Error::new(
                ErrorCode::InvalidArgument,
                "the spice display's TLS port is chosen at start: the driver must pick a free one (RuntimePaths::spice_tls_port)",
            )
        });
    }
    let listens_tcp = g.listens_on_tcp();
    match g.tls_port {
        Some(p) if p > 0 && listens_tcp && !spice_autoport(g) => {
            if !tls_on {
                return Err(unsupported(format!(
                    "spice TLS port set in XML configuration, but TLS is not configured{NO_TLS}: remove tlsPort or set it to -1"
                )));
            }
            u16::try_from(p)
                .map(Some)
                .map_err(|_| invalid(format!("spice tlsPort {p} is out of range")))
        }
        _ => Ok(None),
    }
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

/// The memory balloon (a virtio one when none is written, as libvirt).
/// `<stats period>` and `<currentMemory>` are applied once QEMU runs.
pub fn emit_balloon(cx: &mut Ctx<'_>) -> Result<(), Error> {
    let balloon = cx.def.devices.memballoon.clone();
    let (model, autodeflate, reporting, virtio, address) = match &balloon {
        None => (BalloonModel::Virtio, None, None, Default::default(), None),
        Some(b) if b.model == BalloonModel::None => return Ok(()),
        Some(b) => (
            b.model,
            b.autodeflate,
            b.free_page_reporting,
            b.virtio,
            b.address,
        ),
    };
    let device = match model {
        BalloonModel::VirtioTransitional => "virtio-balloon-pci-transitional",
        BalloonModel::VirtioNonTransitional => "virtio-balloon-pci-non-transitional",
        _ => "virtio-balloon-pci",
    };
    let placed = cx.pci.place("memballoon", address.as_ref(), Dev::Balloon)?;
    let o = Opts::new(device)
        .set("id", "balloon0")
        .extend(placed.opts)
        .maybe_switch("deflate-on-oom", autodeflate)
        .maybe_switch("free-page-reporting", reporting);
    let o = with_virtio(o, &virtio, true, "memballoon")?;
    cx.arg("-device", o.build());
    Ok(())
}
