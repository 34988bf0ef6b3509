//! Reading `<secret>` documents and a disk's `<auth>`, as strictly as
//! domains (libvirt's `virSecretParseXML`, `virStorageAuthDefParse`).

use super::el::{El, R, invalid, set};
use super::storage::{parse_uuid, read_document, uuid_text};
use crate::model::secret::{DiskAuth, DiskEncryption, SecretDef, SecretLookup, SecretUsageType};
use crate::model::{ModelError, ModelErrorKind};

/// Reads a `<secret>` document.
pub(crate) fn secret(xml: &str) -> Result<SecretDef, ModelError> {
    read_document(xml, "secret", |e| {
        e.allow(&["ephemeral", "private"])?;
        let (mut uuid, mut description, mut usage) = (None, None, None);
        for c in e.children()? {
            match c.name() {
                "uuid" => set(&mut uuid, c, uuid_text)?,
                "description" => set(&mut description, c, |c| c.plain_text())?,
                "usage" => set(&mut usage, c, usage_of)?,
                _ => c.skip()?,
            }
        }
        let (usage, usage_id) = usage.unwrap_or((SecretUsageType::None, String::new()));
        Ok(SecretDef {
            uuid: uuid.unwrap_or_else(uuid::Uuid::new_v4),
            ephemeral: e.yes_no("ephemeral")?.unwrap_or(false),
            private: e.yes_no("private")?.unwrap_or(false),
            description,
            usage,
            usage_id,
        })
    })
}

/// `<usage type=...>` with the one child its type takes.
fn usage_of(e: El) -> R<(SecretUsageType, String)> {
    e.allow(&["type"])?;
    let kind: SecretUsageType = e.req_word("type")?;
    let want = kind.id_element();
    let mut id = None;
    for c in e.children()? {
        if Some(c.name()) == want {
            set(&mut id, c, |c| c.plain_text())?;
        } else {
            c.skip()?;
        }
    }
    match (want, id) {
        (None, _) => Ok((kind, String::new())),
        (Some(_), Some(id)) if !id.trim().is_empty() => Ok((kind, id)),
        (Some(el), _) => Err(invalid(format!(
            "{} usage at {} needs its <{el}>",
            kind.as_str(),
            e.at()
        ))),
    }
}

/// `<auth username=...>` with its `<secret type= uuid=|usage=>`.
pub(super) fn disk_auth(e: El, in_source: bool) -> R<DiskAuth> {
    e.allow(&["username"])?;
    let username = e.req("username")?.to_string();
    let mut secret = None;
    for c in e.children()? {
        match c.name() {
            "secret" => set(&mut secret, c, |c| {
                c.allow(&["type", "uuid", "usage"])?;
                c.empty()?;
                let kind: Option<SecretUsageType> = c.word("type")?;
                let lookup = lookup_of(&c)?;
                Ok((kind, lookup))
            })?,
            _ => c.skip()?,
        }
    }
    let (secret_type, lookup) = secret
        .ok_or_else(|| invalid(format!("missing <secret> element in <auth> at {}", e.at())))?;
    Ok(DiskAuth {
        username,
        secret_type,
        lookup,
        in_source,
    })
}

/// The `uuid=` or `usage=` of a `<secret>` that names a secret (libvirt's
/// virSecretLookupParseSecret).
fn lookup_of(c: &El) -> R<SecretLookup> {
    match (c.get("uuid"), c.get("usage")) {
        (Some(_), Some(_)) => Err(invalid(format!(
            "either secret uuid or usage expected, not both, at {}",
            c.at()
        ))),
        (Some(u), None) => Ok(SecretLookup::Uuid(parse_uuid(u).ok_or_else(|| {
            c.bad_value(ModelErrorKind::Invalid, "uuid", "expected a UUID")
        })?)),
        (None, Some(u)) => Ok(SecretLookup::Usage(u.to_string())),
        (None, None) => Err(invalid(format!(
            "missing secret uuid or usage attribute at {}",
            c.at()
        ))),
    }
}

/// `<encryption format= engine=>` of a disk with its passphrase
/// `<secret>` (libvirt's virStorageEncryptionParseNode and QEMU's
/// rules: LUKS decrypted by QEMU only).
pub(super) fn disk_encryption(e: El, in_source: bool) -> R<DiskEncryption> {
    e.allow(&["format", "engine"])?;
    match e.req("format")? {
        "luks" => {}
        "default" | "qcow" => {
            return Err(e.bad_value(
                ModelErrorKind::Unsupported,
                "format",
                "old qcow/qcow2 encryption is not supported; use 'luks'",
            ));
        }
        "luks2" | "luks-any" => {
            return Err(e.bad_value(
                ModelErrorKind::Unsupported,
                "format",
                "only 'luks' is supported by QEMU's encryption engine",
            ));
        }
        _ => {
            return Err(e.bad_value(
                ModelErrorKind::Unsupported,
                "format",
                "unknown volume encryption format",
            ));
        }
    }
    let engine_written = match e.get("engine") {
        None => false,
        Some("qemu") => true,
        Some(_) => {
            return Err(e.bad_value(
                ModelErrorKind::Unsupported,
                "engine",
                "only 'qemu' (QEMU decrypts the image) is supported",
            ));
        }
    };
    let mut secret = None;
    for c in e.children()? {
        match c.name() {
            "secret" => set(&mut secret, c, |c| {
                c.allow(&["type", "uuid", "usage"])?;
                c.empty()?;
                match c.req("type")? {
                    "passphrase" => lookup_of(&c),
                    _ => Err(c.bad_value(
                        ModelErrorKind::Unsupported,
                        "type",
                        "unknown volume encryption secret type (expected 'passphrase')",
                    )),
                }
            })?,
            "cipher" | "ivgen" => {
                return Err(super::el::unsupported(format!(
                    "supplying <{}> for domain disk definition is unnecessary, at {}",
                    c.name(),
                    c.at()
                )));
            }
            _ => c.skip()?,
        }
    }
    let secret = secret.ok_or_else(|| {
        invalid(format!(
            "<encryption format='luks'> at {} needs its passphrase: <secret type='passphrase' uuid=...|usage=.../>",
            e.at()
        ))
    })?;
    Ok(DiskEncryption {
        engine_written,
        secret,
        in_source,
    })
}
