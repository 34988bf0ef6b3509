//! Checks of sound and its backends, watchdogs, random number
//! generators, TPMs, USB redirection and hubs.

use std::collections::HashSet;

use super::devices::{only_pci, usb_disabled};
use super::{R, check_path, invalid, unsupported};
use crate::model::{
    Address, DomainDef, RngBackend, SoundModel, TpmBackend, TpmModel, TpmVersion, WatchdogModel,
};

pub(super) fn validate(def: &DomainDef) -> R {
    sound(def)?;
    watchdogs(def)?;
    rngs(def)?;
    tpms(def)?;
    usb_devices(def)
}

/// Whether `<audio id>` names a backend: one written, or with none
/// written, the one (id 1) a domain with sound or a display is given.
pub(super) fn audio_exists(def: &DomainDef, id: u32) -> bool {
    let audios = &def.devices.audios;
    audios.iter().any(|a| a.id == id) || (audios.is_empty() && id == 1)
}

fn sound(def: &DomainDef) -> R {
    let d = &def.devices;
    let mut ids = HashSet::new();
    for a in &d.audios {
        if a.id == 0 || a.id > 255 {
            return Err(invalid(format!("audio id {} is out of range 1-255", a.id)));
        }
        if !ids.insert(a.id) {
            return Err(invalid(format!("audio id {} is used twice", a.id)));
        }
    }
    for s in &d.sounds {
        let what = format!("sound model '{}'", s.model.as_str());
        let hda = matches!(
            s.model,
            SoundModel::Ich6 | SoundModel::Ich7 | SoundModel::Ich9
        );
        if !s.codecs.is_empty() && !hda {
            return Err(invalid(format!(
                "{what}: codecs are only for the HD Audio models ich6, ich7 and ich9"
            )));
        }
        if let Some(id) = s.audio_id
            && !audio_exists(def, id)
        {
            return Err(invalid(format!("{what}: no audio backend with id '{id}'")));
        }
        match s.model {
            SoundModel::Usb => {
                if !matches!(s.address, None | Some(Address::Usb(_))) {
                    return Err(invalid(format!("{what}: only a 'usb' address is possible")));
                }
                if usb_disabled(def) {
                    return Err(invalid("Can't add USB sound device. USB bus is disabled"));
                }
            }
            SoundModel::Pcspk | SoundModel::Sb16 if s.address.is_some() => {
                return Err(invalid(format!("{what}: an ISA device takes no address")));
            }
            _ => only_pci(&what, &s.address)?,
        }
    }
    Ok(())
}

fn watchdogs(def: &DomainDef) -> R {
    let mut models = HashSet::new();
    for w in &def.devices.watchdogs {
        let m = w.model.as_str();
        if !models.insert(w.model) {
            return Err(invalid(format!(
                "only one watchdog of model '{m}' is supported"
            )));
        }
        match w.model {
            WatchdogModel::I6300esb => {
                if !matches!(w.address, None | Some(Address::Pci(_))) {
                    return Err(invalid(format!(
                        "{m} model of watchdog can go only on PCI bus"
                    )));
                }
            }
            WatchdogModel::Ib700 | WatchdogModel::Itco => {
                if w.address.is_some() {
                    return Err(invalid(format!(
                        "{m} model of watchdog does not support configuring the address"
                    )));
                }
            }
            WatchdogModel::Diag288 => {
                return Err(unsupported(
                    "diag288 model of watchdog is allowed for s390 and s390x only",
                ));
            }
        }
    }
    Ok(())
}

fn rngs(def: &DomainDef) -> R {
    for r in &def.devices.rngs {
        if let Some(rate) = &r.rate {
            if rate.bytes == 0 {
                return Err(invalid("rng rate bytes must be at least 1"));
            }
            if rate.period == Some(0) {
                return Err(invalid("rng rate period must be at least 1"));
            }
        }
        match &r.backend {
            RngBackend::Random(Some(p)) => check_path("rng backend device", p)?,
            RngBackend::Egd(source) => super::peripherals::source_path("rng egd backend", source)?,
            _ => {}
        }
        only_pci("rng", &r.address)?;
    }
    Ok(())
}

fn tpms(def: &DomainDef) -> R {
    let mut plain = 0;
    for t in &def.devices.tpms {
        let model = t.model.unwrap_or(TpmModel::TpmTis);
        if matches!(model, TpmModel::TpmSpapr | TpmModel::SpaprTpmProxy) {
            return Err(unsupported(format!(
                "TPM model '{}' is only for pSeries machines",
                model.as_str()
            )));
        }
        plain += 1;
        if plain > 1 {
            return Err(invalid("only a single TPM non-proxy device is supported"));
        }
        match &t.backend {
            TpmBackend::Emulator { version, .. } => {
                if *version == Some(TpmVersion::V1_2) && model == TpmModel::TpmCrb {
                    return Err(unsupported("Unsupported interface 'tpm-crb' for TPM 1.2"));
                }
            }
            TpmBackend::Passthrough { path } => check_path("TPM device path", path)?,
            TpmBackend::External { path } => check_path("external TPM socket path", path)?,
        }
    }
    Ok(())
}

fn usb_devices(def: &DomainDef) -> R {
    let d = &def.devices;
    let usb_off = usb_disabled(def);
    for r in &d.redirdevs {
        if usb_off {
            return Err(invalid(
                "Can't add redirected USB device: USB is disabled for this domain",
            ));
        }
        if !matches!(r.address, None | Some(Address::Usb(_))) {
            return Err(invalid(
                "a USB redirection device takes only a 'usb' address",
            ));
        }
        if r.boot_order == Some(0) {
            return Err(invalid("redirdev has boot order 0; orders start at 1"));
        }
    }
    for h in &d.hubs {
        if usb_off {
            return Err(invalid(
                "Can't add USB hub: USB is disabled for this domain",
            ));
        }
        if !matches!(h.address, None | Some(Address::Usb(_))) {
            return Err(invalid("a USB hub takes only a 'usb' address"));
        }
    }
    Ok(())
}
