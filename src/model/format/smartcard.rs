//! Writing `<smartcard>` and `<controller type='ccid'>`, as libvirt
//! writes them.

use super::chardev::char_source;
use super::devices::address;
use super::element;
use crate::model::xmlwrite::{Attrs, XmlWriter};
use crate::model::{Devices, SmartcardMode};

/// The CCID readers, after the other controllers.
pub(super) fn ccid_controllers(w: &mut XmlWriter, d: &Devices) {
    for c in &d.ccid_controllers {
        let a = Attrs::new().add("type", "ccid").add("index", c.index);
        element(w, "controller", a, c.address.is_some(), |w| {
            address(w, &c.address)
        });
    }
}

/// The smartcards, after the interfaces.
pub(super) fn smartcards(w: &mut XmlWriter, d: &Devices) {
    for s in &d.smartcards {
        let mut a = Attrs::new().add("mode", s.mode.as_str());
        if let SmartcardMode::Passthrough(src) = &s.mode {
            a = a.add("type", src.type_name());
        }
        let children = s.address.is_some()
            || match &s.mode {
                SmartcardMode::Host => false,
                SmartcardMode::HostCertificates { .. } => true,
                SmartcardMode::Passthrough(src) => char_source_written(src),
            };
        element(w, "smartcard", a, children, |w| {
            match &s.mode {
                SmartcardMode::Host => {}
                SmartcardMode::HostCertificates {
                    certificates,
                    database,
                } => {
                    for c in certificates {
                        w.text("certificate", Attrs::new(), c);
                    }
                    if let Some(db) = database {
                        w.text("database", Attrs::new(), db);
                    }
                }
                SmartcardMode::Passthrough(src) => char_source(w, src),
            }
            if let Some(c) = s.address {
                let a = Attrs::new()
                    .add("type", "ccid")
                    .add("controller", c.controller)
                    .add("slot", c.slot);
                w.empty("address", a);
            }
        });
    }
}

/// Whether [`char_source`] writes anything for `src`.
fn char_source_written(src: &crate::model::CharSource) -> bool {
    use crate::model::CharSource;
    match src {
        CharSource::Pty { path } => path.is_some(),
        CharSource::Null | CharSource::SpiceVmc => false,
        _ => true,
    }
}
