//! Reading `<secret>` documents and a disk's `<auth>`, as strictly as
//! domains (libvirt's `virSecretParseXML`, `virStorageAuthDefParse`).

use super::el::{El, R, invalid, set};
use super::storage::{parse_uuid, read_document, uuid_text};
use crate::model::secret::{DiskAuth, SecretDef, SecretLookup, SecretUsageType};
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
                let lookup = match (c.get("uuid"), c.get("usage")) {
                    (Some(_), Some(_)) => {
                        return Err(invalid(format!(
                            "either secret uuid or usage expected, not both, at {}",
                            c.at()
                        )));
                    }
                    (Some(u), None) => SecretLookup::Uuid(parse_uuid(u).ok_or_else(|| {
                        c.bad_value(ModelErrorKind::Invalid, "uuid", "expected a UUID")
                    })?),
                    (None, Some(u)) => SecretLookup::Usage(u.to_string()),
                    (None, None) => {
                        return Err(invalid(format!(
                            "missing secret uuid or usage attribute at {}",
                            c.at()
                        )));
                    }
                };
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
