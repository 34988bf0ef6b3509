//! `<smartcard>`: a smartcard in a USB CCID reader (`<controller
//! type='ccid'>`), emulated from the host's NSS database or certificates,
//! or passed through from a character device (a remote card reader, or
//! the SPICE client's).

use super::chardev::CharSource;
use super::devices::Address;

/// The certificates of a `mode='host-certificates'` card.
pub const SMARTCARD_CERTIFICATES: usize = 3;

/// The NSS database a `mode='host-certificates'` card reads when the
/// definition names none (libvirt's default).
pub const SMARTCARD_DEFAULT_DATABASE: &str = "/etc/pki/nssdb";

/// `<smartcard>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Smartcard {
    /// `mode` with what it takes.
    pub mode: SmartcardMode,
    /// `<address type='ccid'>`: the reader and slot; `None` when not
    /// written (the first free slot of reader 0, as libvirt gives it).
    pub address: Option<CcidAddress>,
}

/// `<smartcard mode=...>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmartcardMode {
    /// `host`: the card the host's NSS database holds, emulated.
    Host,
    /// `host-certificates`: a card emulated from three certificates of
    /// an NSS database.
    HostCertificates {
        /// The three `<certificate>`s: nicknames in the database.
        certificates: [String; SMARTCARD_CERTIFICATES],
        /// `<database>`: the NSS database directory (an absolute path);
        /// `None` for [`SMARTCARD_DEFAULT_DATABASE`].
        database: Option<String>,
    },
    /// `passthrough`: the card's protocol carried over a character
    /// device (`type` and `<source>`), to a remote card reader or the
    /// SPICE client.
    Passthrough(CharSource),
}

impl SmartcardMode {
    /// libvirt's word for the mode.
    pub fn as_str(&self) -> &'static str {
        match self {
            SmartcardMode::Host => "host",
            SmartcardMode::HostCertificates { .. } => "host-certificates",
            SmartcardMode::Passthrough(_) => "passthrough",
        }
    }
}

/// `<address type='ccid' controller=... slot=...>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CcidAddress {
    /// The `index` of the `<controller type='ccid'>`.
    pub controller: u32,
    /// The slot of that reader.
    pub slot: u32,
}

/// `<controller type='ccid' index=...>`: a USB smartcard reader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CcidController {
    /// `index`.
    pub index: u32,
    /// `<address type='usb'>`; `None` lets the manager pick a port.
    pub address: Option<Address>,
}
