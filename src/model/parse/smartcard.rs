//! Reading `<smartcard>` and the CCID reader it sits in,
//! `<controller type='ccid'>`.

use super::chardev::passthrough_source;
use super::devices::{address, alias_unused};
use super::el::{El, R, Radix, invalid, set};
use crate::model::{
    CcidAddress, CcidController, ModelErrorKind, SMARTCARD_CERTIFICATES, Smartcard, SmartcardMode,
};

/// `<smartcard mode=...>`, as libvirt reads it.
pub(super) fn smartcard(e: El) -> R<Smartcard> {
    e.req("mode")?;
    #[derive(Clone, Copy, PartialEq)]
    enum Mode {
        Host,
        Certificates,
        Passthrough,
    }
    let mode = e
        .choice(
            "mode",
            &[
                ("host", Mode::Host),
                ("host-certificates", Mode::Certificates),
                ("passthrough", Mode::Passthrough),
            ],
        )?
        .expect("checked present");
    let mut addr = None;
    if mode == Mode::Passthrough {
        e.allow(&["mode", "type"])?;
        if e.get("type").is_none() {
            return Err(invalid(format!(
                "passthrough mode requires a character device type attribute: <smartcard> at {}",
                e.at()
            )));
        }
        let source = passthrough_source(e, |c| match c.name() {
            "address" => set(&mut addr, c, ccid_address),
            "alias" => alias_unused(c),
            _ => c.skip(),
        })?;
        return Ok(Smartcard {
            mode: SmartcardMode::Passthrough(source),
            address: addr,
        });
    }
    e.allow(&["mode"])?;
    let (mut certificates, mut database) = (Vec::new(), None);
    for c in e.children()? {
        match c.name() {
            "certificate" if mode == Mode::Certificates => certificates.push(c.plain_text()?),
            "database" if mode == Mode::Certificates => set(&mut database, c, |c| {
                let t = c.plain_text()?;
                if !t.starts_with('/') {
                    return Err(c.bad_text(ModelErrorKind::Invalid, &t, "expecting absolute path"));
                }
                Ok(t)
            })?,
            "address" => set(&mut addr, c, ccid_address)?,
            "alias" => alias_unused(c)?,
            _ => c.skip()?,
        }
    }
    let mode = match mode {
        Mode::Host => SmartcardMode::Host,
        _ => {
            let n = certificates.len();
            let certificates: [String; SMARTCARD_CERTIFICATES] =
                certificates.try_into().map_err(|_| {
                    invalid(format!(
                        "host-certificates mode needs exactly three certificates: <smartcard> at {} has {n}",
                        e.at()
                    ))
                })?;
            SmartcardMode::HostCertificates {
                certificates,
                database,
            }
        }
    };
    Ok(Smartcard {
        mode,
        address: addr,
    })
}

/// `<address type='ccid' controller=... slot=...>`: the only address a
/// smartcard takes.
fn ccid_address(e: El) -> R<CcidAddress> {
    e.empty()?;
    e.req("type")?;
    if e.get("type") != Some("ccid") {
        return Err(e.bad_value(
            ModelErrorKind::Unsupported,
            "type",
            "a smartcard takes only a 'ccid' address",
        ));
    }
    e.allow(&["type", "controller", "slot"])?;
    Ok(CcidAddress {
        controller: e.u32("controller", Radix::Dec)?.unwrap_or(0),
        slot: e.u32("slot", Radix::Dec)?.unwrap_or(0),
    })
}

/// `<controller type='ccid' index=...>` with its USB `<address>`; without
/// an index, the first one no reader read before has (as libvirt numbers
/// them).
pub(super) fn ccid_controller(e: El, before: &[CcidController]) -> R<CcidController> {
    e.allow(&["type", "index"])?;
    let index = match e.u32("index", Radix::Dec)? {
        Some(i) => i,
        None => (0..)
            .find(|i| before.iter().all(|c| c.index != *i))
            .unwrap_or(0),
    };
    let mut addr = None;
    for c in e.children()? {
        match c.name() {
            "address" => set(&mut addr, c, address)?,
            "alias" => alias_unused(c)?,
            _ => c.skip()?,
        }
    }
    Ok(CcidController {
        index,
        address: addr,
    })
}
