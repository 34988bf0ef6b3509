//! Reading the devices a user sees or that serve the guest: input,
//! graphics, video, sound, the balloon, watchdog, random number
//! generator, TPM and USB hubs.

use super::devices::{address, alias_unused, virtio_options};
use super::el::{El, R, Radix, invalid, push, set};
use crate::model::{
    AUDIO_SETTINGS, Audio, BalloonModel, EvdevOptions, Graphics, GraphicsListen, GraphicsType, Hub,
    Input, InputType, Iommu, IommuModel, Memballoon, ModelErrorKind, Panic, PanicModel, Rng,
    RngBackend, RngRate, Sound, SpiceGl, SpiceOptions, Video, Vsock, Watchdog,
};

pub(super) fn input(e: El) -> R<Input> {
    e.allow(&["type", "bus", "model"])?;
    let kind: InputType = e.req_word("type")?;
    let bus = e.word("bus")?;
    let (mut source, mut virtio, mut address_v) = (None, None, None);
    for c in e.children()? {
        match c.name() {
            "source" if kind == InputType::Evdev => set(&mut source, c, |c| {
                c.allow(&["dev", "grab", "grabToggle", "repeat"])?;
                c.empty()?;
                let grab_all = match c.get("grab") {
                    None => false,
                    Some("all") => true,
                    Some(_) => {
                        return Err(c.bad_value(ModelErrorKind::Invalid, "grab", "not 'all'"));
                    }
                };
                let options = EvdevOptions {
                    grab_all,
                    grab_toggle: c.word("grabToggle")?,
                    repeat: c.on_off("repeat")?,
                };
                Ok((c.req("dev")?.to_string(), options))
            })?,
            "source" => set(&mut source, c, |c| {
                c.allow(&["evdev"])?;
                c.empty()?;
                Ok((c.req("evdev")?.to_string(), EvdevOptions::default()))
            })?,
            "driver" => set(&mut virtio, c, |c| virtio_options(c, &[]))?,
            "address" => set(&mut address_v, c, address)?,
            "alias" => alias_unused(c)?,
            _ => c.skip()?,
        }
    }
    let (evdev, evdev_options) = source.unzip();
    Ok(Input {
        kind,
        bus,
        model: e.get("model").map(str::to_string),
        evdev,
        evdev_options: evdev_options.unwrap_or_default(),
        virtio: virtio.unwrap_or_default(),
        address: address_v,
        alias: None,
    })
}

/// A `port`, `tlsPort` or `websocket`: -1 (pick one at start) or a port
/// number.
fn port(e: El, name: &str) -> R<Option<i32>> {
    match e.get(name) {
        None => Ok(None),
        Some(v) if v.trim() == "-1" => Ok(Some(-1)),
        Some(_) => Ok(Some(
            e.u32(name, Radix::Dec)?
                .and_then(|p| i32::try_from(p).ok())
                .ok_or_else(|| e.bad_value(ModelErrorKind::Invalid, name, "not a port"))?,
        )),
    }
}

/// `<graphics type='egl-headless'>`: only `<gl rendernode=...>`.
pub(super) fn egl_headless(e: El) -> R<crate::model::EglHeadless> {
    e.allow(&["type"])?;
    let mut node = None;
    for c in e.children()? {
        match c.name() {
            "gl" => set(&mut node, c, |c| {
                c.allow(&["rendernode"])?;
                c.empty()?;
                Ok(c.get("rendernode").map(str::to_string))
            })?,
            _ => c.skip()?,
        }
    }
    Ok(crate::model::EglHeadless {
        rendernode: node.flatten(),
    })
}

/// `<gl enable rendernode>` of a SPICE or D-Bus display.
fn display_gl(c: El) -> R<SpiceGl> {
    c.allow(&["enable", "rendernode"])?;
    c.empty()?;
    c.req("enable")?;
    Ok(SpiceGl {
        enable: c.yes_no("enable")?.unwrap_or(false),
        rendernode: c.get("rendernode").map(str::to_string),
    })
}

/// `<audio id>` of a display: the `<audio>` its clients hear.
fn display_audio(c: El) -> R<u32> {
    c.allow(&["id"])?;
    c.empty()?;
    c.req("id")?;
    match c.u32("id", Radix::Dec)? {
        Some(id) if id > 0 => Ok(id),
        _ => Err(c.bad_value(
            ModelErrorKind::Invalid,
            "id",
            "an audio id is a number from 1",
        )),
    }
}

/// `<graphics type='dbus'>`: `p2p`, `address`, `<gl enable rendernode>`
/// and `<audio id>`, as libvirt's virDomainGraphicsDefParseXMLDBus.
pub(super) fn dbus_display(e: El) -> R<crate::model::DbusDisplay> {
    e.allow(&["type", "p2p", "address"])?;
    let p2p = e.yes_no("p2p")?.unwrap_or(false);
    let address = e.get("address").map(str::to_string);
    if p2p && address.is_some() {
        return Err(e.bad_value(
            ModelErrorKind::Invalid,
            "address",
            "D-Bus p2p with an address is not supported",
        ));
    }
    let (mut gl, mut audio) = (None, None);
    for c in e.children()? {
        match c.name() {
            "gl" => set(&mut gl, c, display_gl)?,
            "audio" => set(&mut audio, c, display_audio)?,
            _ => c.skip()?,
        }
    }
    Ok(crate::model::DbusDisplay {
        p2p,
        address,
        gl,
        audio,
    })
}

pub(super) fn graphics(e: El) -> R<Graphics> {
    let kind: GraphicsType = e.req_word("type")?;
    match kind {
        GraphicsType::Vnc => e.allow(&[
            "type",
            "port",
            "autoport",
            "listen",
            "passwd",
            "passwdValidTo",
            "connected",
            "keymap",
            "sharePolicy",
            "websocket",
            "powerControl",
            "socket",
        ])?,
        GraphicsType::Spice => e.allow(&[
            "type",
            "port",
            "tlsPort",
            "autoport",
            "listen",
            "passwd",
            "passwdValidTo",
            "connected",
            "keymap",
            "defaultMode",
        ])?,
    }
    let mut g = Graphics::new(kind);
    g.port = port(e, "port")?;
    g.tls_port = port(e, "tlsPort")?;
    g.autoport = e.yes_no("autoport")?;
    g.listen = e.get("listen").map(str::to_string);
    g.passwd = e.get("passwd").map(str::to_string);
    g.passwd_valid_to = match e.get("passwdValidTo") {
        None => None,
        Some(t) => Some(crate::model::parse_utc_datetime(t).ok_or_else(|| {
            e.bad_value(
                ModelErrorKind::Invalid,
                "passwdValidTo",
                "expected a UTC time YYYY-MM-DDTHH:MM:SS",
            )
        })?),
    };
    // libvirt's virDomainGraphicsAuthDefParseXML reads `connected` only
    // beside a password (it acts on a change of it); VNC keeps its
    // clients only.
    if g.passwd.is_some() {
        g.connected = e.word("connected")?;
        if kind == GraphicsType::Vnc
            && g.connected
                .is_some_and(|c| c != crate::model::GraphicsConnected::Keep)
        {
            return Err(e.bad_value(
                ModelErrorKind::Unsupported,
                "connected",
                "VNC supports connected='keep' only",
            ));
        }
    }
    g.keymap = e.get("keymap").map(str::to_string);
    g.default_mode = e.word("defaultMode")?;
    g.share_policy = e.word("sharePolicy")?;
    g.power_control = e.yes_no("powerControl")?;
    // libvirt: 0 is no listener, and is not written back.
    g.websocket = port(e, "websocket")?.filter(|p| *p != 0);
    let spice = kind == GraphicsType::Spice;
    let s = &mut g.spice;
    let (mut image, mut jpeg, mut zlib, mut playback) = (None, None, None, None);
    let (mut streaming, mut clipboard, mut mouse, mut filetransfer) = (None, None, None, None);
    let (mut gl, mut audio) = (None, None);
    for c in e.children()? {
        match c.name() {
            "audio" if !spice => set(&mut audio, c, display_audio)?,
            "listen" => {
                // Without an address this is the default listen address,
                // which libvirt writes out; it says nothing more than its
                // absence.
                match c.read(listen)? {
                    Some(GraphicsListen::Address(None)) | None => {}
                    Some(l) => g.listens.push(l),
                }
            }
            "channel" if spice => {
                let ch = c.read(|c| {
                    c.allow(&["name", "mode"])?;
                    c.empty()?;
                    Ok((c.req_word("name")?, c.req_word("mode")?))
                })?;
                s.channels.extend(ch);
            }
            "image" if spice => set(&mut image, c, |c| one_word(c, "compression"))?,
            "jpeg" if spice => set(&mut jpeg, c, |c| one_word(c, "compression"))?,
            "zlib" if spice => set(&mut zlib, c, |c| one_word(c, "compression"))?,
            "playback" if spice => set(&mut playback, c, |c| {
                c.allow(&["compression"])?;
                c.empty()?;
                c.req("compression")?;
                Ok(c.on_off("compression")?.unwrap_or(false))
            })?,
            "streaming" if spice => set(&mut streaming, c, |c| one_word(c, "mode"))?,
            "clipboard" if spice => set(&mut clipboard, c, |c| yes_no_attr(c, "copypaste"))?,
            "mouse" if spice => set(&mut mouse, c, |c| one_word(c, "mode"))?,
            "filetransfer" if spice => {
                set(&mut filetransfer, c, |c| yes_no_attr(c, "enable"))?;
            }
            "gl" if spice => set(&mut gl, c, display_gl)?,
            _ => c.skip()?,
        }
    }
    g.audio = audio;
    if let Some(path) = e.get("socket") {
        vnc_socket(e, &mut g, path)?;
    }
    g.spice = SpiceOptions {
        channels: std::mem::take(&mut g.spice.channels),
        image_compression: image,
        jpeg_compression: jpeg,
        zlib_compression: zlib,
        playback_compression: playback,
        streaming,
        copypaste: clipboard,
        mouse_mode: mouse,
        filetransfer,
        gl,
    };
    // libvirt (virDomainDefPostParseGraphics): a SPICE display on an
    // address without any port and without autoport listens nowhere.
    let no_port = |p: Option<i32>| p.is_none_or(|p| p == 0);
    if spice
        && matches!(g.listens.first(), None | Some(GraphicsListen::Address(_)))
        && no_port(g.port)
        && no_port(g.tls_port)
        && g.autoport != Some(true)
    {
        g.listen = None;
        match g.listens.first_mut() {
            Some(first) => *first = GraphicsListen::None,
            None => g.listens.push(GraphicsListen::None),
        }
    }
    Ok(g)
}

/// VNC's `socket` attribute, libvirt's older way to write a first
/// `<listen type='socket'>` (virDomainGraphicsListensParseXML): it takes
/// the place of a first address or network listen, fills in a socket
/// listen without a path, and must match one with a path.
fn vnc_socket(e: El, g: &mut Graphics, path: &str) -> R<()> {
    let socket = GraphicsListen::Socket(Some(path.to_string()));
    match g.listens.first_mut() {
        None => g.listens.push(socket),
        Some(first @ (GraphicsListen::Address(_) | GraphicsListen::Network(_))) => *first = socket,
        Some(first @ GraphicsListen::Socket(None)) => *first = socket,
        Some(GraphicsListen::Socket(Some(p))) if p == path => {}
        Some(GraphicsListen::Socket(Some(p))) => {
            return Err(e.bad_value(
                ModelErrorKind::Unsupported,
                "socket",
                &format!(
                    "it must match the 'socket' attribute of the first listen element ('{}')",
                    super::el::show(p)
                ),
            ));
        }
        Some(GraphicsListen::None) => {
            return Err(e.bad_value(
                ModelErrorKind::Unsupported,
                "socket",
                "a socket cannot go with <listen type='none'>",
            ));
        }
    }
    Ok(())
}

/// An element with one required word attribute `name`.
fn one_word<T: crate::model::words::Word>(c: El, name: &str) -> R<T> {
    c.allow(&[name])?;
    c.empty()?;
    c.req_word(name)
}

/// An element with one required yes/no attribute `name`.
fn yes_no_attr(c: El, name: &str) -> R<bool> {
    c.allow(&[name])?;
    c.empty()?;
    c.req(name)?;
    Ok(c.yes_no(name)?.unwrap_or(false))
}

fn listen(c: El) -> R<GraphicsListen> {
    c.req("type")?;
    let t = c.choice(
        "type",
        &[("address", 0), ("socket", 1), ("none", 2), ("network", 3)],
    )?;
    c.empty()?;
    Ok(match t {
        Some(0) => {
            c.allow(&["type", "address"])?;
            GraphicsListen::Address(c.get("address").map(str::to_string))
        }
        Some(1) => {
            c.allow(&["type", "socket"])?;
            GraphicsListen::Socket(c.get("socket").map(str::to_string))
        }
        Some(3) => {
            // A running domain's XML adds the address the network gave;
            // it is live state, not kept.
            c.allow(&["type", "network", "address"])?;
            GraphicsListen::Network(c.req("network")?.to_string())
        }
        _ => {
            c.allow(&["type"])?;
            GraphicsListen::None
        }
    })
}

pub(super) fn video(e: El) -> R<Video> {
    e.allow(&[])?;
    let (mut model, mut driver, mut address_v, mut acpi) = (None, None, None, None);
    for c in e.children()? {
        match c.name() {
            "model" => set(&mut model, c, |c| {
                c.allow(&[
                    "type", "vram", "vram64", "ram", "vgamem", "heads", "primary", "blob",
                ])?;
                let Some(_) = c.get("type") else {
                    return Err(c.bad_value(
                        ModelErrorKind::Unsupported,
                        "type",
                        "a <video><model> without type (a default model) is not supported",
                    ));
                };
                let mut v = Video::new(c.req_word("type")?);
                v.vram = c.u64("vram", Radix::Dec)?;
                v.vram64 = c.u64("vram64", Radix::Dec)?;
                v.ram = c.u64("ram", Radix::Dec)?;
                v.vgamem = c.u64("vgamem", Radix::Dec)?;
                v.heads = c.u32("heads", Radix::Dec)?;
                v.primary = c.yes_no("primary")?.unwrap_or(false);
                v.blob = c.on_off("blob")?;
                let (mut accel, mut res) = (None, None);
                for a in c.children()? {
                    match a.name() {
                        "acceleration" => set(&mut accel, a, |a| {
                            a.allow(&["accel3d"])?;
                            a.empty()?;
                            a.yes_no("accel3d")
                        })?,
                        "resolution" => set(&mut res, a, |a| {
                            a.allow(&["x", "y"])?;
                            a.empty()?;
                            a.req("x")?;
                            a.req("y")?;
                            let x = a.u32("x", Radix::Dec)?.unwrap_or(0);
                            Ok((x, a.u32("y", Radix::Dec)?.unwrap_or(0)))
                        })?,
                        _ => a.skip()?,
                    }
                }
                v.accel3d = accel.flatten();
                v.resolution = res;
                Ok(v)
            })?,
            "driver" => set(&mut driver, c, |c| {
                // name='qemu' is the default backend; vhostuser is not.
                let opts = virtio_options(c, &["name"])?;
                c.choice("name", &[("qemu", ())])?;
                Ok(opts)
            })?,
            "acpi" => set(&mut acpi, c, super::devices::acpi_index)?,
            "address" => set(&mut address_v, c, address)?,
            "alias" => alias_unused(c)?,
            _ => c.skip()?,
        }
    }
    let mut v = model.ok_or_else(|| {
        invalid(format!(
            "<video> without <model type=...> at {} (a default model) is not supported",
            e.at()
        ))
    })?;
    v.virtio = driver.unwrap_or_default();
    v.acpi_index = acpi;
    v.address = address_v;
    Ok(v)
}

pub(super) fn sound(e: El) -> R<Sound> {
    e.allow(&["model"])?;
    let model = e.req_word("model")?;
    let (mut codecs, mut audio_id, mut addr) = (Vec::new(), None, None);
    for c in e.children()? {
        match c.name() {
            "codec" => push(&mut codecs, c, |c| {
                c.allow(&["type"])?;
                c.empty()?;
                c.req_word("type")
            })?,
            "audio" => set(&mut audio_id, c, |c| {
                c.allow(&["id"])?;
                c.empty()?;
                c.req("id")?;
                Ok(c.u32("id", Radix::Dec)?.unwrap_or(0))
            })?,
            "address" => set(&mut addr, c, address)?,
            "alias" => alias_unused(c)?,
            _ => c.skip()?,
        }
    }
    Ok(Sound {
        model,
        codecs,
        audio_id,
        address: addr,
    })
}

/// What an audio stream attribute holds.
#[derive(Clone, Copy)]
enum StreamValue {
    Switch,
    Number,
    Text,
}

/// The `<input>`/`<output>` attributes each audio type takes besides
/// its device or name attribute.
fn audio_stream_attrs(kind: crate::model::AudioType) -> Vec<(&'static str, StreamValue)> {
    use crate::model::AudioType;
    use StreamValue::{Number, Switch, Text};
    let mut v = vec![
        ("mixingEngine", Switch),
        ("fixedSettings", Switch),
        ("voices", Number),
        ("bufferLength", Number),
    ];
    match kind {
        AudioType::Oss => v.extend([("bufferCount", Number), ("tryPoll", Switch)]),
        AudioType::Pulseaudio | AudioType::Pipewire => {
            v.extend([("streamName", Text), ("latency", Number)]);
        }
        AudioType::Jack => v.extend([
            ("serverName", Text),
            ("connectPorts", Text),
            ("exactName", Switch),
        ]),
        _ => {}
    }
    v
}

pub(super) fn audio(e: El) -> R<Audio> {
    use crate::model::AudioType;
    e.allow(&[
        "id",
        "type",
        "path",
        "serverName",
        "runtimeDir",
        "timerPeriod",
    ])?;
    let kind: AudioType = e.req_word("type")?;
    e.req("id")?;
    let mut a = Audio::new(e.u32("id", Radix::Dec)?.unwrap_or(0), kind);
    let only = |attr: &str, ok: bool| -> R<()> {
        if e.get(attr).is_some() && !ok {
            return Err(e.bad_value(
                ModelErrorKind::Invalid,
                attr,
                &format!("not an attribute of <audio type='{}'>", kind.as_str()),
            ));
        }
        Ok(())
    };
    only("path", kind == AudioType::File)?;
    only("serverName", kind == AudioType::Pulseaudio)?;
    only("runtimeDir", kind == AudioType::Pipewire)?;
    a.path = e.get("path").map(str::to_string);
    a.server_name = e.get("serverName").map(str::to_string);
    a.runtime_dir = e.get("runtimeDir").map(str::to_string);
    a.timer_period = e.u32("timerPeriod", Radix::Dec)?;
    if a.timer_period == Some(0) {
        return Err(e.bad_value(
            ModelErrorKind::Invalid,
            "timerPeriod",
            "the timer period is at least 1 microsecond",
        ));
    }
    let key = kind.stream_key();
    let extra = audio_stream_attrs(kind);
    let (mut input, mut output) = (None, None);
    for c in e.children()? {
        let slot = match c.name() {
            "input" => &mut input,
            "output" => &mut output,
            _ => {
                c.skip()?;
                continue;
            }
        };
        set(slot, c, |c| {
            let mut allowed: Vec<&str> = extra.iter().map(|(n, _)| *n).collect();
            allowed.extend(key);
            c.allow(&allowed)?;
            let mut opts = Vec::new();
            let mut settings = None;
            for x in c.children()? {
                match x.name() {
                    // The stream's format, as `frequency`, `channels` and
                    // `format` entries.
                    "settings" => set(&mut settings, x, |x| {
                        let [frequency, channels, format] = AUDIO_SETTINGS;
                        x.allow(&AUDIO_SETTINGS)?;
                        x.empty()?;
                        let mut s = Vec::new();
                        for n in [frequency, channels] {
                            if let Some(v) = x.u32(n, Radix::Dec)? {
                                s.push((n, v.to_string()));
                            }
                        }
                        let formats = ["s8", "u8", "s16", "u16", "s32", "u32", "f32"];
                        if let Some(f) = x.choice(format, &formats.map(|f| (f, f)))? {
                            s.push((format, f.to_string()));
                        }
                        Ok(s)
                    })?,
                    _ => x.skip()?,
                }
            }
            for (name, value) in &extra {
                let Some(text) = c.get(name) else { continue };
                let text = match value {
                    StreamValue::Switch => {
                        let on = c.yes_no(name)?.unwrap_or_default();
                        if on { "yes" } else { "no" }.to_string()
                    }
                    StreamValue::Number => c.u32(name, Radix::Dec)?.unwrap_or_default().to_string(),
                    StreamValue::Text => text.to_string(),
                };
                opts.push((*name, text));
            }
            opts.extend(settings.unwrap_or_default());
            Ok((key.and_then(|k| c.get(k)).map(str::to_string), opts))
        })?;
    }
    if let Some((dev, opts)) = input {
        a.input_dev = dev;
        a.input_opts = opts;
    }
    if let Some((dev, opts)) = output {
        a.output_dev = dev;
        a.output_opts = opts;
    }
    Ok(a)
}

pub(super) fn memballoon(e: El) -> R<Memballoon> {
    e.allow(&["model", "autodeflate", "freePageReporting"])?;
    let model: BalloonModel = e.req_word("model")?;
    let (mut stats, mut virtio, mut address_v) = (None, None, None);
    for c in e.children()? {
        match c.name() {
            "stats" => set(&mut stats, c, |c| {
                c.allow(&["period"])?;
                c.empty()?;
                c.req("period")?;
                Ok(c.u32("period", Radix::Dec)?.unwrap_or(0))
            })?,
            "driver" => set(&mut virtio, c, |c| virtio_options(c, &[]))?,
            "address" => set(&mut address_v, c, address)?,
            "alias" => alias_unused(c)?,
            _ => c.skip()?,
        }
    }
    Ok(Memballoon {
        model,
        autodeflate: e.on_off("autodeflate")?,
        free_page_reporting: e.on_off("freePageReporting")?,
        stats_period: stats,
        virtio: virtio.unwrap_or_default(),
        address: address_v,
    })
}

pub(super) fn watchdog(e: El) -> R<Watchdog> {
    e.allow(&["model", "action"])?;
    let model = e.req_word("model")?;
    let action = e.word("action")?;
    let mut addr = None;
    for c in e.children()? {
        match c.name() {
            "address" => set(&mut addr, c, address)?,
            "alias" => alias_unused(c)?,
            _ => c.skip()?,
        }
    }
    Ok(Watchdog {
        model,
        action,
        address: addr,
        alias: None,
    })
}

pub(super) fn panic(e: El) -> R<Panic> {
    e.allow(&["model"])?;
    let model: Option<PanicModel> = e.word("model")?;
    let pci = model == Some(PanicModel::Pvpanic);
    let (mut iobase, mut pci_address) = (None, None);
    for c in e.children()? {
        match c.name() {
            "address" if pci => set(&mut pci_address, c, |c| {
                let a = address(c)?;
                if !matches!(a, crate::model::Address::Pci(_)) {
                    return Err(c.bad_value(
                        ModelErrorKind::Unsupported,
                        "type",
                        "a pvpanic device takes only a PCI address",
                    ));
                }
                Ok(a)
            })?,
            "address" => set(&mut iobase, c, |c| {
                c.empty()?;
                c.allow(&["type", "iobase"])?;
                if c.req("type")? != "isa" {
                    return Err(c.bad_value(
                        ModelErrorKind::Unsupported,
                        "type",
                        "a panic device takes only an ISA address",
                    ));
                }
                let port = c.u32("iobase", Radix::Auto)?;
                port.map(|p| {
                    u16::try_from(p).map_err(|_| {
                        c.bad_value(ModelErrorKind::Invalid, "iobase", "not an I/O port")
                    })
                })
                .transpose()
            })?,
            "alias" => alias_unused(c)?,
            _ => c.skip()?,
        }
    }
    Ok(Panic {
        model,
        iobase: iobase.flatten(),
        address: pci_address,
    })
}

/// `<iommu>`, under libvirt's rules: Intel's, with its `<driver>`
/// switches (eim needs intremap) and no address; virtio's, with neither
/// switches nor anything but an address; SMMUv3 is an ARM machine's.
pub(super) fn iommu(e: El) -> R<Iommu> {
    e.allow(&["model"])?;
    let model: IommuModel = e.req_word("model")?;
    match model {
        IommuModel::Smmuv3 => {
            return Err(e.bad_value(
                ModelErrorKind::Unsupported,
                "model",
                "IOMMU device: 'smmuv3' is only supported with ARM Virt machines",
            ));
        }
        IommuModel::Virtio | IommuModel::Intel => {}
    }
    let mut driver = None;
    let mut addr = None;
    for c in e.children()? {
        match c.name() {
            "driver" => set(&mut driver, c, |c| {
                c.allow(&["intremap", "caching_mode", "eim", "iotlb", "aw_bits"])?;
                c.empty()?;
                Ok((
                    c.on_off("intremap")?,
                    c.on_off("caching_mode")?,
                    c.on_off("eim")?,
                    c.on_off("iotlb")?,
                    c.u32("aw_bits", Radix::Dec)?,
                ))
            })?,
            "address" if model == IommuModel::Virtio => set(&mut addr, c, address)?,
            "address" => {
                return Err(invalid(format!(
                    "iommu model 'intel' can't have address, at {}",
                    c.at()
                )));
            }
            "alias" => alias_unused(c)?,
            _ => c.skip()?,
        }
    }
    let (intremap, caching_mode, eim, iotlb, aw_bits) =
        driver.unwrap_or((None, None, None, None, None));
    // libvirt's virDomainIOMMUDefValidate.
    if model == IommuModel::Virtio
        && (intremap.is_some()
            || caching_mode.is_some()
            || eim.is_some()
            || iotlb.is_some()
            || aw_bits.is_some())
    {
        return Err(invalid(format!(
            "iommu model 'virtio' doesn't support additional attributes, at {}",
            e.at()
        )));
    }
    if eim == Some(true) && intremap != Some(true) {
        return Err(invalid(format!(
            "IOMMU eim requires interrupt remapping to be enabled, at {}",
            e.at()
        )));
    }
    Ok(Iommu {
        model,
        intremap,
        caching_mode,
        eim,
        iotlb,
        aw_bits,
        address: addr,
    })
}

/// `<vsock>`, under libvirt's rules: a CID is 3 or more; without `auto`,
/// a CID given is fixed and none given is picked at start.
pub(super) fn vsock(e: El) -> R<Vsock> {
    e.allow(&["model"])?;
    let model = e.word("model")?;
    let (mut cid, mut driver, mut addr) = (None, None, None);
    for c in e.children()? {
        match c.name() {
            "cid" => set(&mut cid, c, |c| {
                c.allow(&["auto", "address"])?;
                c.empty()?;
                let address = c.u32("address", Radix::Dec)?;
                if address.is_some_and(|a| a <= 2) {
                    return Err(c.bad_value(
                        ModelErrorKind::Invalid,
                        "address",
                        "guest CIDs must be >= 3",
                    ));
                }
                Ok((c.yes_no("auto")?, address))
            })?,
            "driver" => set(&mut driver, c, |c| virtio_options(c, &[]))?,
            "address" => set(&mut addr, c, address)?,
            "alias" => alias_unused(c)?,
            _ => c.skip()?,
        }
    }
    let (auto, cid) = cid.unwrap_or((None, None));
    Ok(Vsock {
        model,
        auto_cid: auto.unwrap_or(cid.is_none()),
        cid,
        virtio: driver.unwrap_or_default(),
        address: addr,
    })
}

pub(super) fn rng(e: El) -> R<Rng> {
    e.allow(&["model"])?;
    let model = e.req_word("model")?;
    let (mut rate, mut backend, mut driver, mut addr) = (None, None, None, None);
    for c in e.children()? {
        match c.name() {
            "rate" => set(&mut rate, c, |c| {
                c.allow(&["bytes", "period"])?;
                c.empty()?;
                c.req("bytes")?;
                Ok(RngRate {
                    bytes: c.u32("bytes", Radix::Dec)?.unwrap_or(0),
                    period: c.u32("period", Radix::Dec)?,
                })
            })?,
            "backend" => set(&mut backend, c, |c| {
                c.allow(&["model", "type"])?;
                c.req("model")?;
                let model = c.choice("model", &[("random", 0), ("builtin", 1), ("egd", 2)])?;
                if model == Some(2) {
                    // An EGD speaks over a socket; the other character
                    // device types are not offered.
                    c.req("type")?;
                    c.choice("type", &[("tcp", ()), ("unix", ())])?;
                    let source = super::chardev::passthrough_source(c, |x| x.skip())?;
                    return Ok(RngBackend::Egd(source));
                }
                if c.get("type").is_some() {
                    return Err(c.bad_value(
                        ModelErrorKind::Invalid,
                        "type",
                        "only an egd backend has a type",
                    ));
                }
                match model {
                    Some(0) => {
                        let t = c.text()?;
                        let t = t.trim_matches(|ch: char| ch.is_ascii_whitespace());
                        Ok(RngBackend::Random((!t.is_empty()).then(|| t.to_string())))
                    }
                    _ => {
                        c.empty()?;
                        Ok(RngBackend::Builtin)
                    }
                }
            })?,
            "driver" => set(&mut driver, c, |c| virtio_options(c, &[]))?,
            "address" => set(&mut addr, c, address)?,
            "alias" => alias_unused(c)?,
            _ => c.skip()?,
        }
    }
    let backend =
        backend.ok_or_else(|| invalid(format!("missing <backend> in <rng> at {}", e.at())))?;
    Ok(Rng {
        model,
        rate,
        backend,
        virtio: driver.unwrap_or_default(),
        address: addr,
        alias: None,
    })
}

pub(super) fn hub(e: El) -> R<Hub> {
    e.allow(&["type"])?;
    e.req("type")?;
    e.choice("type", &[("usb", ())])?;
    let mut addr = None;
    for c in e.children()? {
        match c.name() {
            "address" => set(&mut addr, c, address)?,
            "alias" => alias_unused(c)?,
            _ => c.skip()?,
        }
    }
    Ok(Hub { address: addr })
}
