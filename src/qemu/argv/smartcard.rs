//! Smartcards: QEMU's USB CCID reader (`usb-ccid`) for each
//! `<controller type='ccid'>`, and the card in it, as libvirt's
//! qemuBuildSmartcardCommandLine builds it: `ccid-card-emulated` from the
//! host's NSS database or three of its certificates, or
//! `ccid-card-passthru` on a character device.

use super::opts::Opts;
use super::usb::UsbDev;
use super::{Ctx, unsupported};
use crate::error::Error;
use crate::model::{
    Address, CharSource, DomainDef, GraphicsType, SMARTCARD_DEFAULT_DATABASE, SmartcardMode,
};

/// The CCID readers QEMU gets, each with its index and address: the
/// written `<controller type='ccid'>`s, then reader 0 when a smartcard
/// needs it and none is written (libvirt adds it so).
pub fn ccid_readers(def: &DomainDef) -> Vec<(u32, Option<Address>)> {
    let d = &def.devices;
    let mut out: Vec<(u32, Option<Address>)> = d
        .ccid_controllers
        .iter()
        .map(|c| (c.index, c.address))
        .collect();
    if !d.smartcards.is_empty() && !out.iter().any(|(i, _)| *i == 0) {
        out.push((0, None));
    }
    out
}

/// The id of CCID reader `index`: libvirt's alias.
fn reader_id(index: u32) -> String {
    format!("ccid{index}")
}

/// `-device usb-ccid` for each reader, after the USB hubs.
pub fn emit_readers(cx: &mut Ctx<'_>) -> Result<(), Error> {
    for (i, (index, _)) in ccid_readers(cx.def).into_iter().enumerate() {
        let port = cx.usb.port_of(UsbDev::Ccid(i))?;
        let o = Opts::new("usb-ccid")
            .set("id", reader_id(index))
            .extend(port);
        cx.arg("-device", o.build());
    }
    Ok(())
}

/// The smartcard: its character device, if any, and its card device in
/// slot 0 of reader 0 (the model allows no other place).
pub fn emit_smartcards(cx: &mut Ctx<'_>) -> Result<(), Error> {
    let def = cx.def;
    for (n, s) in def.devices.smartcards.iter().enumerate() {
        let id = format!("smartcard{n}");
        let card = match &s.mode {
            SmartcardMode::Host => Opts::new("ccid-card-emulated").set("backend", "nss-emulated"),
            SmartcardMode::HostCertificates {
                certificates,
                database,
            } => {
                let [c1, c2, c3] = certificates;
                Opts::new("ccid-card-emulated")
                    .set("backend", "certificates")
                    .set_user("cert1", "smartcard certificate", c1)?
                    .set_user("cert2", "smartcard certificate", c2)?
                    .set_user("cert3", "smartcard certificate", c3)?
                    .set_user(
                        "db",
                        "smartcard database",
                        database.as_deref().unwrap_or(SMARTCARD_DEFAULT_DATABASE),
                    )?
            }
            SmartcardMode::Passthrough(src) => {
                let chr = format!("char{id}");
                let backend = match src {
                    CharSource::SpiceVmc => {
                        let spice = def
                            .devices
                            .graphics
                            .iter()
                            .any(|g| g.kind == GraphicsType::Spice);
                        if !spice {
                            return Err(unsupported(
                                "a spicevmc smartcard is the SPICE client's card: the domain needs <graphics type='spice'>",
                            ));
                        }
                        Opts::new("spicevmc")
                            .set("id", &chr)
                            .set("name", "smartcard")
                    }
                    other => super::chardev::chardev(cx, other, &chr)?,
                };
                cx.arg("-chardev", backend.build());
                Opts::new("ccid-card-passthru").set("chardev", chr)
            }
        };
        let reader = s.address.map_or(0, |a| a.controller);
        let o = card
            .set("id", id)
            .set("bus", format!("{}.0", reader_id(reader)));
        cx.arg("-device", o.build());
    }
    Ok(())
}
