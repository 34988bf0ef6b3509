//! libvirt's rules for `<smartcard>` and its CCID readers
//! (domain_validate.c, and qemu_validate.c's, which no QEMU lifts: one
//! card, in slot 0 of reader 0), and for `<launchSecurity>`.

use std::collections::HashSet;

use super::devices::usb_disabled;
use super::peripherals::source_path;
use super::{R, check_chars, check_path, invalid, unsupported};
use crate::model::{Address, DomainDef, LaunchSecurity, SmartcardMode};

pub(super) fn validate(def: &DomainDef) -> R {
    let d = &def.devices;
    let usb_off = usb_disabled(def);
    let mut indexes = HashSet::new();
    for c in &d.ccid_controllers {
        if !indexes.insert(c.index) {
            return Err(invalid(format!(
                "Multiple 'ccid' controllers with index '{}'",
                c.index
            )));
        }
        if !matches!(c.address, None | Some(Address::Usb(_))) {
            return Err(invalid("a CCID controller takes only a 'usb' address"));
        }
        if usb_off {
            return Err(invalid(
                "Can't add the CCID controller: USB is disabled for this domain",
            ));
        }
    }
    if d.smartcards.len() > 1 {
        return Err(unsupported(
            "only one <smartcard> is supported: QEMU's CCID reader takes one card (libvirt: this QEMU binary lacks multiple smartcard support)",
        ));
    }
    for s in &d.smartcards {
        if s.address.is_some_and(|a| a.controller != 0 || a.slot != 0) {
            return Err(unsupported(
                "a smartcard sits in slot 0 of CCID controller 0 only (libvirt: this QEMU binary lacks multiple smartcard support)",
            ));
        }
        if usb_off {
            return Err(invalid(
                "Can't add the smartcard: its CCID reader is a USB device, and USB is disabled for this domain",
            ));
        }
        match &s.mode {
            SmartcardMode::Host => {}
            SmartcardMode::HostCertificates {
                certificates,
                database,
            } => {
                for c in certificates {
                    if c.is_empty() {
                        return Err(invalid(
                            "a smartcard <certificate> is empty: it names a certificate of the NSS database",
                        ));
                    }
                    check_chars("smartcard certificate name", c, false)?;
                }
                if let Some(db) = database {
                    check_path("smartcard certificate database", db)?;
                }
            }
            SmartcardMode::Passthrough(src) => source_path("smartcard", src)?,
        }
    }
    if let Some(LaunchSecurity::Sev(s)) = &def.launch_security {
        for (what, v) in [("dhCert", &s.dh_cert), ("session", &s.session)] {
            if let Some(v) = v {
                check_chars(&format!("<launchSecurity><{what}>"), v, true)?;
            }
        }
    }
    Ok(())
}
