//! Sound: the host audio backends (`-audiodev`) and the guest's sound
//! cards, as libvirt builds them.
//!
//! With no `<audio>` written, libvirt gives the domain one backend with
//! id 1: `spice` when the (last) display is SPICE, else `none`; so does
//! this module. QEMU 7.2 would otherwise pick a host driver itself, and
//! VNC would offer sound that goes nowhere.

use super::devs::Dev;
use super::opts::Opts;
use super::{Ctx, invalid, unsupported};
use crate::error::Error;
use crate::model::{Audio, AudioType, DomainDef, GraphicsType, Sound, SoundModel};
use crate::qemu::caps::QemuVersion;

/// The audio backends: those written, or libvirt's default one.
pub fn backends(def: &DomainDef) -> Vec<(u32, AudioType)> {
    audios(def).iter().map(|a| (a.id, a.kind)).collect()
}

fn audios(def: &DomainDef) -> Vec<Audio> {
    if !def.devices.audios.is_empty() {
        return def.devices.audios.clone();
    }
    let kind = match def.devices.graphics.last().map(|g| g.kind) {
        Some(GraphicsType::Spice) => AudioType::Spice,
        _ => AudioType::None,
    };
    vec![Audio::new(1, kind)]
}

/// The QEMU id of the backend a device uses: its `<audio id>`, else the
/// first backend.
pub fn audiodev(def: &DomainDef, id: Option<u32>) -> Result<String, Error> {
    let list = backends(def);
    let id = match id {
        Some(id) => {
            if !list.iter().any(|(i, _)| *i == id) {
                return Err(invalid(format!("no audio backend with id '{id}'")));
            }
            id
        }
        None => list[0].0,
    };
    Ok(format!("audio{id}"))
}

/// The backend of the PC speaker, which is a machine property.
pub fn pcspk_audiodev(def: &DomainDef) -> Option<String> {
    let s = def
        .devices
        .sounds
        .iter()
        .find(|s| s.model == SoundModel::Pcspk)?;
    audiodev(def, s.audio_id).ok()
}

/// `-audiodev` for each backend.
pub fn emit_backends(cx: &mut Ctx<'_>) -> Result<(), Error> {
    // QEMU's PipeWire backend came with 8.1; before it, a PipeWire host's
    // PulseAudio server (pipewire-pulse, in the same runtime directory)
    // takes the stream, with the same per-stream options.
    let native_pipewire = cx.qemu_version >= PIPEWIRE;
    for a in audios(cx.def) {
        let id = a.id;
        let driver = match a.kind {
            AudioType::None => "none",
            AudioType::Alsa => "alsa",
            AudioType::Oss => "oss",
            AudioType::Pulseaudio => "pa",
            AudioType::Sdl => "sdl",
            AudioType::File => "wav",
            AudioType::Jack => "jack",
            AudioType::Dbus => "dbus",
            AudioType::Pipewire if native_pipewire => "pipewire",
            AudioType::Pipewire => "pa",
            // Single-GPU passthrough definitions keep SPICE audio after
            // their display is gone (libvirt then refuses them): there is
            // no client to play to, so the sound is discarded, which QEMU
            // also falls back to.
            AudioType::Spice
                if !cx
                    .def
                    .devices
                    .graphics
                    .iter()
                    .any(|g| g.kind == GraphicsType::Spice) =>
            {
                "none"
            }
            AudioType::Spice => "spice",
        };
        let mut o = Opts::new(driver)
            .set("id", format!("audio{id}"))
            .maybe("timer-period", a.timer_period);
        if a.kind == AudioType::File {
            let path = a
                .path
                .as_deref()
                .ok_or_else(|| invalid("<audio type='file'> needs a path to write the sound to"))?;
            o = o.set_user("path", "audio file path", path)?;
        }
        if let Some(server) = &a.server_name {
            o = o.set_user("server", "audio server", server)?;
        }
        if let Some(dir) = &a.runtime_dir {
            o = if native_pipewire {
                o.set_user("runtime-dir", "PipeWire runtime directory", dir)?
            } else {
                let socket = format!("unix:{}/pulse/native", dir.trim_end_matches('/'));
                o.set_user("server", "PipeWire runtime directory", &socket)?
            };
        }
        let key = match a.kind {
            AudioType::Pulseaudio | AudioType::Pipewire => "name",
            AudioType::Jack => "client-name",
            _ => "dev",
        };
        for (dir, dev, opts) in [
            ("in", &a.input_dev, &a.input_opts),
            ("out", &a.output_dev, &a.output_opts),
        ] {
            if let Some(d) = dev {
                o = o.set_user(&format!("{dir}.{key}"), "audio stream", d)?;
            }
            for (name, value) in opts {
                let (qemu, value) = stream_option(name, value)?;
                o = o.set_user(&format!("{dir}.{qemu}"), "audio stream option", &value)?;
            }
        }
        cx.arg("-audiodev", o.build());
    }
    Ok(())
}

/// The first QEMU with a PipeWire audio backend.
const PIPEWIRE: QemuVersion = QemuVersion {
    major: 8,
    minor: 1,
    micro: 0,
};

/// QEMU's name and value for an `<input>`/`<output>` attribute.
fn stream_option(name: &str, value: &str) -> Result<(&'static str, String), Error> {
    let switch = |v: &str| if v == "yes" { "on" } else { "off" }.to_string();
    Ok(match name {
        "mixingEngine" => ("mixing-engine", switch(value)),
        "fixedSettings" => ("fixed-settings", switch(value)),
        "voices" => ("voices", value.to_string()),
        "bufferLength" => ("buffer-length", value.to_string()),
        "bufferCount" => ("buffer-count", value.to_string()),
        "tryPoll" => ("try-poll", switch(value)),
        "streamName" => ("stream-name", value.to_string()),
        "latency" => ("latency", value.to_string()),
        "connectPorts" => ("connect-ports", value.to_string()),
        "exactName" => ("exact-name", switch(value)),
        "serverName" => ("server-name", value.to_string()),
        "frequency" => ("frequency", value.to_string()),
        "channels" => ("channels", value.to_string()),
        "format" => ("format", value.to_string()),
        other => {
            return Err(unsupported(format!(
                "the audio stream attribute '{other}' is not supported"
            )));
        }
    })
}

/// The sound cards and their codecs.
pub fn emit_sounds(cx: &mut Ctx<'_>) -> Result<(), Error> {
    let def = cx.def;
    for (n, s) in def.devices.sounds.iter().enumerate() {
        emit_sound(cx, n, s)?;
    }
    Ok(())
}

fn emit_sound(cx: &mut Ctx<'_>, n: usize, s: &Sound) -> Result<(), Error> {
    let def = cx.def;
    let id = format!("sound{n}");
    let what = format!("{} sound device", s.model.as_str());
    let audiodev = audiodev(def, s.audio_id)?;
    let hda = match s.model {
        SoundModel::Pcspk => {
            // A machine property, set with -machine.
            if !s.codecs.is_empty() {
                return Err(invalid("the PC speaker has no codecs"));
            }
            return Ok(());
        }
        SoundModel::Ich7 => {
            return Err(unsupported(
                "the ich7 sound model is not supported by QEMU: use ich6 or ich9",
            ));
        }
        SoundModel::Ich6 | SoundModel::Ich9 => true,
        _ => false,
    };
    let device = match s.model {
        SoundModel::Es1370 => "ES1370",
        SoundModel::Ac97 => "AC97",
        SoundModel::Ich6 => "intel-hda",
        SoundModel::Ich9 => "ich9-intel-hda",
        SoundModel::Sb16 => "sb16",
        _ => "usb-audio",
    };
    let mut o = Opts::new(device).set("id", &id);
    if !hda {
        o = o.set("audiodev", &audiodev);
    }
    o = match s.model {
        SoundModel::Usb => o.extend(cx.usb.port_of(super::usb::UsbDev::Sound(n))?),
        SoundModel::Sb16 => {
            if s.address.is_some() {
                return Err(invalid("the sb16 sound card (ISA) takes no address"));
            }
            o
        }
        _ => o.extend(cx.pci.place(&what, s.address.as_ref(), Dev::Sound(n))?.opts),
    };
    cx.arg("-device", o.build());
    if hda {
        let codecs = if s.codecs.is_empty() {
            vec![crate::model::SoundCodec::Duplex]
        } else {
            s.codecs.clone()
        };
        for (cad, codec) in codecs.iter().enumerate() {
            let o = Opts::new(&format!("hda-{}", codec.as_str()))
                .set("id", format!("{id}-codec{cad}"))
                .set("bus", format!("{id}.0"))
                .set("cad", cad)
                .set("audiodev", &audiodev);
            cx.arg("-device", o.build());
        }
    }
    Ok(())
}
