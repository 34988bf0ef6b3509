//! The domain model: a typed [`DomainDef`] that reads and writes
//! libvirt-compatible domain XML, with validation.
//!
//! This module depends on nothing else in qvirt and knows nothing of QEMU,
//! files or sockets: it turns text into checked values and back.

mod builder;
mod chardev;
mod devices;
mod disk;
mod display;
mod domain;
mod format;
mod hostdev;
mod iommu;
mod launch;
mod net;
mod numa;
mod parse;
mod rng;
mod secret;
mod smartcard;
mod snapshot;
mod storage;
mod sysinfo;
mod tpm;
mod tuning;
mod units;
mod validate;
mod vsock;
pub mod words;
pub(crate) mod xmlwrite;

pub use chardev::*;
pub use devices::*;
pub use disk::*;
pub use display::*;
pub use domain::*;
pub use hostdev::*;
pub use iommu::*;
pub use launch::*;
pub use net::*;
pub use numa::*;
pub use rng::*;
pub use secret::*;
pub use smartcard::*;
pub use snapshot::*;
pub use storage::*;
pub use sysinfo::*;
pub use tpm::*;
pub use tuning::*;
pub use units::{
    base64_decode, base64_encode, civil_from_days, format_cpuset, parse_cpuset, parse_memory,
    parse_utc_datetime, utc_datetime,
};
pub use vsock::*;
pub use words::Word;

use std::fmt;

/// The most XML qvirt reads in one document, in bytes.
pub const MAX_XML_BYTES: usize = 4 * 1024 * 1024;
/// The deepest element nesting qvirt reads.
pub const MAX_XML_DEPTH: usize = 64;
/// The longest domain name, in bytes.
pub const MAX_NAME_BYTES: usize = 200;

/// Why a document was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelErrorKind {
    /// Not well-formed XML, or not a `<domain>` document.
    InvalidXml,
    /// Well-formed, but asks for an element, attribute or value qvirt does
    /// not support.
    Unsupported,
    /// Supported, but describes an impossible or unsafe domain.
    Invalid,
    /// Larger or deeper than the limits above.
    TooLarge,
}

/// An error from reading or checking a domain definition. The message
/// names the element and, where known, its `line:column`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelError {
    /// The kind, which maps to a stable error code.
    pub kind: ModelErrorKind,
    /// What is wrong and where.
    pub message: String,
}

impl ModelError {
    /// An error of `kind` with `message`.
    pub fn new(kind: ModelErrorKind, message: impl Into<String>) -> ModelError {
        ModelError {
            kind,
            message: message.into(),
        }
    }
}

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ModelError {}

impl Interface {
    /// The `<interface>` element as a domain's XML writes it (for a
    /// device update made of a definition's device).
    pub fn to_xml(&self) -> String {
        format::format_interface(self)
    }
}

impl DomainDef {
    /// Whether an `<audio>` backend is the D-Bus display's.
    pub(crate) fn dbus_audio(&self) -> bool {
        self.devices
            .audios
            .iter()
            .any(|a| a.kind == devices::AudioType::Dbus)
    }
}

impl MemoryDevice {
    /// The `<memory>` element as a domain's XML writes it (for a device
    /// update made of a definition's device).
    pub fn to_xml(&self) -> String {
        format::format_memory(self)
    }
}

impl DomainDef {
    /// The ids of the domain's I/O threads: those `<iothreadids>` lists,
    /// then, as libvirt fills them up to `<iothreads>`, the lowest unused.
    pub fn iothread_ids(&self) -> Vec<u32> {
        let mut ids = self.iothread_ids.clone().unwrap_or_default();
        let want = self.iothreads.unwrap_or(0) as usize;
        let mut next = 1;
        while ids.len() < want {
            if !ids.contains(&next) {
                ids.push(next);
            }
            next += 1;
        }
        ids
    }

    /// Reads and validates a domain document. A missing UUID or MAC address
    /// is generated; every other value is taken as written.
    pub fn from_xml(xml: &str) -> Result<DomainDef, ModelError> {
        let def = parse::parse_domain(xml)?;
        validate::validate(&def)?;
        Ok(def)
    }

    /// Writes the definition as canonical libvirt domain XML: the same
    /// definition always gives the same bytes, and
    /// `from_xml(&d.to_xml()) == d`.
    pub fn to_xml(&self) -> String {
        format::format_domain(self)
    }

    /// The definition without its secrets (the VNC password, a network
    /// disk's cookies), as libvirt writes a domain's XML unless asked for
    /// its security information.
    pub fn without_secrets(&self) -> std::borrow::Cow<'_, DomainDef> {
        let cookies = |d: &disk::Disk| d.network.as_ref().is_some_and(|n| !n.cookies.is_empty());
        if self.devices.graphics.iter().all(|g| g.passwd.is_none())
            && !self.devices.disks.iter().any(cookies)
        {
            return std::borrow::Cow::Borrowed(self);
        }
        let mut def = self.clone();
        for g in &mut def.devices.graphics {
            g.passwd = None;
        }
        for n in def
            .devices
            .disks
            .iter_mut()
            .filter_map(|d| d.network.as_mut())
        {
            n.cookies.clear();
        }
        std::borrow::Cow::Owned(def)
    }

    /// Drops what only a running domain has, as libvirt does when it reads
    /// a definition to keep (`VIR_DOMAIN_DEF_PARSE_INACTIVE`): the path of
    /// a pseudo-terminal, the port of a display whose port is chosen at
    /// start (`autoport='yes'`), and a disk's copy under way (`<mirror>`). A definition saved from a running
    /// domain's XML then does not pin `/dev/pts/N` or port 5901.
    pub fn drop_runtime_values(&mut self) {
        let devices = &mut self.devices;
        let sources = devices
            .serials
            .iter_mut()
            .chain(devices.consoles.iter_mut())
            .map(|c| &mut c.source)
            .chain(devices.channels.iter_mut().map(|c| &mut c.source));
        for source in sources {
            if let chardev::CharSource::Pty { path } = source {
                *path = None;
            }
        }
        // A copy under way is the running domain's, as is what the
        // guest plugged of a virtio-mem device.
        for d in &mut devices.disks {
            d.mirror = None;
        }
        for m in &mut devices.memories {
            m.current_kib = None;
        }
        for g in &mut devices.graphics {
            if g.autoport == Some(true) {
                g.port = None;
                g.tls_port = None;
            }
        }
    }

    /// Reads a domain document without the checks of a whole definition
    /// (for a device read on its own, which is checked once it is in the
    /// definition it joins).
    pub(crate) fn from_xml_unchecked(xml: &str) -> Result<DomainDef, ModelError> {
        parse::parse_domain(xml)
    }

    /// Checks the definition as [`DomainDef::from_xml`] does; for values
    /// built in code.
    pub fn validate(&self) -> Result<(), ModelError> {
        validate::validate(self)
    }

    /// Every explicit PCI address with the device it belongs to
    /// ("disk 'vda'", "controller #2", ...), in device order.
    pub(crate) fn pci_addresses(&self) -> Vec<(PciAddress, String)> {
        validate::pci::pci_addresses(self)
    }
}

/// The fuzzing entry point for the XML reader: any input, no panic.
#[cfg(fuzzing)]
pub fn fuzz_xml_parse(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(def) = DomainDef::from_xml(text) {
            let again = DomainDef::from_xml(&def.to_xml()).expect("formatted XML parses");
            assert_eq!(def, again);
        }
    }
}
