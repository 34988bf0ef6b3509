//! Reading `<pool>` and `<volume>` documents, as strictly as domains: an
//! element, attribute or value not understood is refused by name with
//! its `line:column`. Also the document opening that the storage and
//! snapshot readers share (limits, no DTD, the root element).

use roxmltree::{Document, ParsingOptions};

use super::el::{Diag, El, R, Radix, invalid, parse_uint, set};
use super::raw;
use crate::model::storage::{
    Permissions, PoolDef, PoolType, QcowCompat, VolumeBacking, VolumeDef, VolumeFormat,
};
use crate::model::units::{parse_decimal, unit_bytes};
use crate::model::{MAX_XML_BYTES, MAX_XML_DEPTH, ModelError, ModelErrorKind};

/// Opens `xml` as a document whose root must be `<root>`, and reads it
/// with `read`; every unsupported part noted while reading is the error,
/// before any other.
pub(super) fn read_document<T>(
    xml: &str,
    root: &str,
    read: impl for<'a, 'i> FnOnce(El<'a, 'i>) -> R<T>,
) -> Result<T, ModelError> {
    if xml.len() > MAX_XML_BYTES {
        return Err(ModelError::new(
            ModelErrorKind::TooLarge,
            format!(
                "document is {} bytes, more than the limit of {MAX_XML_BYTES}",
                xml.len()
            ),
        ));
    }
    if let Some(what) = raw::prescan(xml.as_bytes(), MAX_XML_DEPTH) {
        return Err(ModelError::new(ModelErrorKind::TooLarge, what));
    }
    let opts = ParsingOptions {
        allow_dtd: false,
        ..ParsingOptions::default()
    };
    let doc = Document::parse_with_options(xml, opts).map_err(|e| {
        let p = e.pos();
        let what = match e {
            roxmltree::Error::DtdDetected => {
                "document type declarations (<!DOCTYPE>) are not accepted".to_string()
            }
            other => other.to_string(),
        };
        ModelError::new(
            ModelErrorKind::InvalidXml,
            format!("malformed XML at {}:{}: {what}", p.row, p.col),
        )
    })?;
    let diag = Diag::default();
    let top = El::new(doc.root_element(), &diag);
    if top.node.tag_name().namespace().is_some() || top.name() != root {
        return Err(ModelError::new(
            ModelErrorKind::InvalidXml,
            format!(
                "the root element is <{}>, expected <{root}>",
                super::el::qname(top.node)
            ),
        ));
    }
    let result = read(top);
    match diag.error() {
        Some(e) => Err(e),
        None => result,
    }
}

/// Reads a `<pool>` document.
pub(crate) fn pool(xml: &str) -> Result<PoolDef, ModelError> {
    read_document(xml, "pool", |e| {
        e.allow(&["type"])?;
        e.req("type")?;
        let kind = e.word::<PoolType>("type")?.unwrap_or(PoolType::Dir);
        let (mut name, mut uuid, mut target) = (None, None, None);
        let (mut capacity, mut allocation, mut available) = (None, None, None);
        let mut source = None;
        for c in e.children()? {
            match c.name() {
                "name" => set(&mut name, c, |c| c.plain_text())?,
                "uuid" => set(&mut uuid, c, uuid_text)?,
                // A manager's report of the pool's file system.
                "capacity" => set(&mut capacity, c, size)?,
                "allocation" => set(&mut allocation, c, size)?,
                "available" => set(&mut available, c, size)?,
                // A directory pool has no source; libvirt writes it empty.
                "source" => set(&mut source, c, |c| {
                    c.allow(&[])?;
                    c.empty()
                })?,
                "target" => set(&mut target, c, pool_target)?,
                _ => c.skip()?,
            }
        }
        let (path, permissions) =
            target.ok_or_else(|| invalid("missing <target> in <pool>".to_string()))?;
        Ok(PoolDef {
            kind,
            name: name.ok_or_else(|| invalid("missing <name> in <pool>".to_string()))?,
            uuid: uuid.unwrap_or_else(uuid::Uuid::new_v4),
            path,
            permissions,
        })
    })
}

fn pool_target(e: El) -> R<(String, Permissions)> {
    e.allow(&[])?;
    let (mut path, mut perms) = (None, None);
    for c in e.children()? {
        match c.name() {
            "path" => set(&mut path, c, |c| c.plain_text())?,
            "permissions" => set(&mut perms, c, permissions)?,
            _ => c.skip()?,
        }
    }
    let path = path.ok_or_else(|| invalid(format!("missing <path> in <target> at {}", e.at())))?;
    Ok((path, perms.unwrap_or_default()))
}

fn permissions(e: El) -> R<Permissions> {
    e.allow(&[])?;
    let mut p = Permissions::default();
    let (mut mode, mut owner, mut group) = (None, None, None);
    for c in e.children()? {
        match c.name() {
            "mode" => set(&mut mode, c, |c| {
                let t = c.plain_text()?;
                let v = t.trim();
                u32::from_str_radix(v, 8)
                    .ok()
                    .filter(|m| *m <= 0o7777 && !v.is_empty())
                    .ok_or_else(|| {
                        c.bad_text(ModelErrorKind::Invalid, &t, "expected an octal mode")
                    })
            })?,
            "owner" => set(&mut owner, c, |c| c.u32_text())?,
            "group" => set(&mut group, c, |c| c.u32_text())?,
            _ => c.skip()?,
        }
    }
    p.mode = mode;
    p.owner = owner;
    p.group = group;
    Ok(p)
}

/// A size element in bytes, with an optional `unit` (bytes when absent,
/// as libvirt reads storage sizes).
pub(super) fn size(e: El) -> R<u64> {
    e.allow(&["unit"])?;
    let t = e.text()?;
    let scale = match e.get("unit") {
        None => 1,
        Some(u) => unit_bytes(u)
            .ok_or_else(|| e.bad_value(ModelErrorKind::Invalid, "unit", "unknown unit"))?,
    };
    parse_decimal(&t)
        .ok_or_else(|| e.bad_text(ModelErrorKind::Invalid, &t, "expected an unsigned number"))?
        .checked_mul(scale)
        .filter(|b| *b <= i64::MAX as u64)
        .ok_or_else(|| e.bad_text(ModelErrorKind::Invalid, &t, "size value too large"))
}

pub(super) fn uuid_text(e: El) -> R<uuid::Uuid> {
    let t = e.plain_text()?;
    parse_uuid(t.trim()).ok_or_else(|| e.bad_text(ModelErrorKind::Invalid, &t, "expected a UUID"))
}

/// A UUID as libvirt writes it: 36 characters with hyphens, or 32 hex
/// digits.
pub(super) fn parse_uuid(s: &str) -> Option<uuid::Uuid> {
    let well_formed = (s.len() == 36 || s.len() == 32) && !s.starts_with('{');
    uuid::Uuid::parse_str(s).ok().filter(|_| well_formed)
}

/// Reads a `<volume>` document.
pub(crate) fn volume(xml: &str) -> Result<VolumeDef, ModelError> {
    read_document(xml, "volume", |e| {
        e.allow(&["type"])?;
        e.choice("type", &[("file", ())])?;
        let (mut name, mut key, mut capacity, mut allocation) = (None, None, None, None);
        let (mut physical, mut target, mut backing) = (None, None, None);
        for c in e.children()? {
            match c.name() {
                "name" => set(&mut name, c, |c| c.plain_text())?,
                "key" => set(&mut key, c, |c| c.plain_text())?,
                "capacity" => set(&mut capacity, c, size)?,
                "allocation" => set(&mut allocation, c, size)?,
                "physical" => set(&mut physical, c, size)?,
                "target" => set(&mut target, c, volume_target)?,
                "backingStore" => set(&mut backing, c, backing_store)?,
                _ => c.skip()?,
            }
        }
        let name = name.ok_or_else(|| invalid("missing <name> in <volume>".to_string()))?;
        let capacity = capacity.ok_or_else(|| {
            invalid(format!(
                "missing <capacity> in <volume> '{name}' (its size, in bytes unless unit= says)"
            ))
        })?;
        let t = target.unwrap_or_default();
        Ok(VolumeDef {
            name,
            capacity,
            allocation,
            physical,
            key,
            path: t.path,
            format: t.format.unwrap_or(VolumeFormat::Raw),
            compat: t.compat,
            lazy_refcounts: t.lazy_refcounts,
            permissions: t.permissions,
            backing,
        })
    })
}

#[derive(Default)]
struct VolumeTarget {
    path: Option<String>,
    format: Option<VolumeFormat>,
    compat: Option<QcowCompat>,
    lazy_refcounts: bool,
    permissions: Permissions,
}

fn volume_target(e: El) -> R<VolumeTarget> {
    e.allow(&[])?;
    let (mut path, mut format, mut compat, mut perms) = (None, None, None, None);
    let mut features = None;
    for c in e.children()? {
        match c.name() {
            "path" => set(&mut path, c, |c| c.plain_text())?,
            "format" => set(&mut format, c, format_type)?,
            "compat" => set(&mut compat, c, |c| {
                let t = c.plain_text()?;
                QcowCompat::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == t.trim())
                    .ok_or_else(|| {
                        c.bad_text(ModelErrorKind::Unsupported, &t, "expected 0.10 or 1.1")
                    })
            })?,
            "permissions" => set(&mut perms, c, permissions)?,
            "features" => set(&mut features, c, volume_features)?,
            _ => c.skip()?,
        }
    }
    Ok(VolumeTarget {
        path,
        format,
        compat,
        lazy_refcounts: features.unwrap_or(false),
        permissions: perms.unwrap_or_default(),
    })
}

/// `<features>` of a volume's target: whether `<lazy_refcounts/>` is
/// there (the only qcow2 feature qvirt applies).
fn volume_features(e: El) -> R<bool> {
    e.allow(&[])?;
    let mut lazy = None;
    for c in e.children()? {
        match c.name() {
            "lazy_refcounts" => set(&mut lazy, c, |c| {
                c.allow(&[])?;
                c.empty()
            })?,
            _ => c.skip()?,
        }
    }
    Ok(lazy.is_some())
}

fn format_type(e: El) -> R<VolumeFormat> {
    e.allow(&["type"])?;
    e.empty()?;
    e.req_word("type")
}

fn backing_store(e: El) -> R<VolumeBacking> {
    e.allow(&[])?;
    let (mut path, mut format) = (None, None);
    for c in e.children()? {
        match c.name() {
            "path" => set(&mut path, c, |c| c.plain_text())?,
            "format" => set(&mut format, c, format_type)?,
            _ => c.skip()?,
        }
    }
    let path =
        path.ok_or_else(|| invalid(format!("missing <path> in <backingStore> at {}", e.at())))?;
    let format = format.ok_or_else(|| {
        invalid(format!(
            "missing <format> in <backingStore> at {}: the backing image's format must be stated (qvirt never probes it)",
            e.at()
        ))
    })?;
    Ok(VolumeBacking { path, format })
}

/// Reads an unsigned number in `radix` from text (for the snapshot
/// reader's creation time).
pub(super) fn number_text(e: El) -> R<u64> {
    let t = e.plain_text()?;
    parse_uint(&t, Radix::Dec)
        .ok_or_else(|| e.bad_text(ModelErrorKind::Invalid, &t, "expected an unsigned number"))
}
