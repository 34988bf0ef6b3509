//! Secrets: libvirt's `<secret>` documents (formatsecret), typed, read
//! strictly and written canonically, and the `<auth>` of a network disk
//! that names one.
//!
//! A secret is a definition (what it is for: its *usage*) and, apart from
//! it, a value of bytes that is never part of the document. A disk's
//! `<auth>` finds a secret by UUID or by usage, and the manager hands its
//! value to QEMU when the disk is opened.

use uuid::Uuid;

use super::ModelError;
use super::parse::secret as read;
use super::words::words;
use super::xmlwrite::{Attrs, XmlWriter};

words! {
    /// `<usage type=...>`: what a secret is for. The order is libvirt's
    /// (`virSecretUsageType`): [`SecretUsageType::number`] is its value.
    pub enum SecretUsageType {
        /// Not tied to anything.
        None = "none",
        /// A volume's encryption passphrase (`<volume>` path).
        Volume = "volume",
        /// A Ceph client's key (`<name>`).
        Ceph = "ceph",
        /// An iSCSI CHAP password (`<target>`).
        Iscsi = "iscsi",
        /// A TLS key's passphrase (`<name>`).
        Tls = "tls",
        /// A vTPM's state encryption key (`<name>`).
        Vtpm = "vtpm",
    }
}

impl SecretUsageType {
    /// libvirt's number for the usage type (`VIR_SECRET_USAGE_TYPE_*`).
    pub fn number(self) -> u32 {
        SecretUsageType::ALL
            .iter()
            .position(|t| *t == self)
            .expect("every usage type is in ALL") as u32
    }

    /// The usage type with libvirt's number `n`.
    pub fn from_number(n: u32) -> Option<SecretUsageType> {
        SecretUsageType::ALL.get(n as usize).copied()
    }

    /// The element under `<usage>` that names what the secret is for.
    pub fn id_element(self) -> Option<&'static str> {
        match self {
            SecretUsageType::None => None,
            SecretUsageType::Volume => Some("volume"),
            SecretUsageType::Iscsi => Some("target"),
            SecretUsageType::Ceph | SecretUsageType::Tls | SecretUsageType::Vtpm => Some("name"),
        }
    }
}

/// The largest secret value accepted, in bytes (libvirt's
/// `REMOTE_SECRET_VALUE_MAX`).
pub const MAX_SECRET_VALUE: usize = 65536;

/// A secret's definition (`<secret>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretDef {
    /// `<uuid>`; a new one when the document has none.
    pub uuid: Uuid,
    /// `ephemeral='yes'`: kept in the manager's memory only, never
    /// written to disk (neither definition nor value).
    pub ephemeral: bool,
    /// `private='yes'`: the value is never given back to a client; only
    /// the manager itself reads it (to hand it to QEMU).
    pub private: bool,
    /// `<description>`.
    pub description: Option<String>,
    /// `<usage type=...>`: what it is for. `None` type when absent.
    pub usage: SecretUsageType,
    /// The usage's identifier (`<volume>`, `<name>`, `<target>`); empty
    /// for usage `none`.
    pub usage_id: String,
}

impl SecretDef {
    /// Reads a `<secret>` document, refusing what it does not understand
    /// by name with its `line:column`.
    pub fn from_xml(xml: &str) -> Result<SecretDef, ModelError> {
        read::secret(xml)
    }

    /// The document, as libvirt writes it.
    pub fn to_xml(&self) -> String {
        let yes_no = |b: bool| if b { "yes" } else { "no" };
        let mut w = XmlWriter::new();
        w.open(
            "secret",
            Attrs::new()
                .add("ephemeral", yes_no(self.ephemeral))
                .add("private", yes_no(self.private)),
        );
        w.text("uuid", Attrs::new(), &self.uuid.hyphenated().to_string());
        if let Some(d) = &self.description {
            w.text("description", Attrs::new(), d);
        }
        let usage = Attrs::new().add("type", self.usage.as_str());
        match self.usage.id_element() {
            Some(el) => {
                w.open("usage", usage);
                w.text(el, Attrs::new(), &self.usage_id);
                w.close("usage");
            }
            None => w.empty("usage", usage),
        }
        w.close("secret");
        w.finish()
    }
}

/// How a disk's `<auth><secret>` names its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretLookup {
    /// `uuid=...`.
    Uuid(Uuid),
    /// `usage=...`: the usage identifier, of the `type` given beside it.
    Usage(String),
}

/// `<auth username=...><secret type= uuid=|usage=/></auth>` of a network
/// disk: the user name, and the secret whose value is the password (iSCSI
/// CHAP, HTTP) or key (Ceph).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiskAuth {
    /// `username`.
    pub username: String,
    /// `<secret type=...>`: which usage type the secret must have
    /// (required with `usage=`, checked against the protocol).
    pub secret_type: Option<SecretUsageType>,
    /// `uuid=` or `usage=`.
    pub lookup: SecretLookup,
    /// Whether it was written inside `<source>` (libvirt's newer place)
    /// rather than directly under `<disk>`; written back where it was.
    pub in_source: bool,
}

/// `<encryption format='luks'>` of a disk: the image is a LUKS volume
/// (a raw disk: QEMU's `luks` format; a qcow2 disk: its own LUKS
/// encryption) whose passphrase is a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiskEncryption {
    /// `engine='qemu'` when written (QEMU decrypts: the only engine here).
    pub engine_written: bool,
    /// `<secret type='passphrase' uuid=|usage=>`: a secret of usage
    /// `volume` when found by usage (the usage id is the volume's path).
    pub secret: SecretLookup,
    /// Whether it was written inside `<source>` rather than under
    /// `<disk>`; written back where it was.
    pub in_source: bool,
}
