//! A domain's own notes: `<title>`, `<description>` and the elements of
//! `<metadata>`, set and read as virsh's `desc` and `metadata` do. They
//! are data only: nothing of the running guest changes, the live
//! definition and the status file do.

use super::driver::Core;
use super::jobs::SyncKind;
use crate::driver::{Domain, MetadataKind, ModifyFlags};
use crate::error::{Error, ErrorCode, Result};
use crate::model::DomainDef;

fn bad(message: impl Into<String>) -> Error {
    Error::new(ErrorCode::InvalidArgument, message)
}

impl Core {
    /// [`crate::Driver::set_metadata`].
    pub(crate) fn set_metadata(
        &self,
        dom: &Domain,
        kind: &MetadataKind,
        value: Option<&str>,
        flags: ModifyFlags,
    ) -> Result<()> {
        let jobs = self.jobs(dom)?;
        let _job = jobs.begin(SyncKind::Modify, &dom.name)?;
        let (run, config) = self.targets(dom, flags, "change the notes of")?;
        // An empty text removes, as libvirt has it.
        let value = value.filter(|v| !v.is_empty());
        let edit = |def: &mut DomainDef, _: &str| -> Result<()> {
            let mut changed = def.clone();
            apply(&mut changed, kind, value)?;
            // The model's own rules (a one-line title, a well-formed,
            // self-contained <metadata>), as a define reads them.
            *def = DomainDef::from_xml(&changed.to_xml())?;
            Ok(())
        };
        // Every check first: a refused change changes nothing.
        if let Some(run) = &run {
            edit(&mut run.live_def(), "running domain")?;
        }
        if config {
            self.edit_config(dom, &edit)?;
        }
        if let Some(run) = run {
            let mut live = run.live_def();
            edit(&mut live, "running domain")?;
            crate::sys::sync::lock(&run.live).notes = Some(Notes {
                title: live.title,
                description: live.description,
                metadata: live.metadata,
            });
            let persistent = self.with_entry(dom, |e| Ok(e.persistent.is_some()))?;
            super::launch::write_status(&run, persistent)?;
        }
        // As libvirt tells it: which note, an element by its namespace.
        let told = match kind {
            MetadataKind::Element { uri, .. } => MetadataKind::Element {
                uri: uri.clone(),
                key: None,
            },
            other => other.clone(),
        };
        self.emit(dom.clone(), crate::driver::EventKind::MetadataChange(told));
        Ok(())
    }

    /// [`crate::Driver::metadata`].
    pub(crate) fn get_metadata(
        &self,
        dom: &Domain,
        kind: &MetadataKind,
        inactive: bool,
    ) -> Result<Option<String>> {
        let def = self.with_entry(dom, |e| {
            Ok(match (&e.running, &e.persistent, inactive) {
                (Some(run), _, false) | (Some(run), None, true) => run.live_def(),
                (_, Some(def), _) => DomainDef::clone(def),
                (None, None, _) => e.def().clone(),
            })
        })?;
        Ok(match kind {
            MetadataKind::Title => def.title,
            MetadataKind::Description => def.description,
            MetadataKind::Element { uri, .. } => {
                def.metadata.as_deref().and_then(|m| element_of(m, uri))
            }
        })
    }
}

/// Notes changed on a running domain; `LiveChanges` applies them.
#[derive(Debug, Clone, Default)]
pub(crate) struct Notes {
    pub title: Option<String>,
    pub description: Option<String>,
    pub metadata: Option<String>,
}

impl Notes {
    /// Puts the notes into `def`.
    pub fn apply(&self, def: &mut DomainDef) {
        def.title.clone_from(&self.title);
        def.description.clone_from(&self.description);
        def.metadata.clone_from(&self.metadata);
    }
}

/// Makes the change in `def`.
fn apply(def: &mut DomainDef, kind: &MetadataKind, value: Option<&str>) -> Result<()> {
    match kind {
        MetadataKind::Title => def.title = value.map(str::to_string),
        MetadataKind::Description => def.description = value.map(str::to_string),
        MetadataKind::Element { uri, key } => {
            def.metadata = with_element(def.metadata.as_deref(), uri, key.as_deref(), value)?;
        }
    }
    Ok(())
}

/// `<metadata>`'s children (`meta`) with the one in namespace `uri`
/// replaced by `value` written with prefix `key`, or removed.
fn with_element(
    meta: Option<&str>,
    uri: &str,
    key: Option<&str>,
    value: Option<&str>,
) -> Result<Option<String>> {
    if uri.is_empty() {
        return Err(bad("a metadata element needs a namespace URI"));
    }
    let mut kept = Vec::new();
    if let Some(m) = meta {
        let wrapped = format!("<metadata>{m}</metadata>");
        let doc = roxmltree::Document::parse(&wrapped)
            .map_err(|e| Error::new(ErrorCode::Internal, format!("stored metadata: {e}")))?;
        for child in doc.root_element().children().filter(|n| n.is_element()) {
            if child.tag_name().namespace() != Some(uri) {
                kept.push(wrapped[child.range()].to_string());
            }
        }
    }
    if let Some(v) = value {
        let key =
            key.ok_or_else(|| bad("a namespace key (prefix) is needed to set a metadata element"))?;
        let name_like = key
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
            && !key.to_ascii_lowercase().starts_with("xml");
        if !name_like {
            return Err(bad(format!(
                "'{key}' is not a namespace prefix (a letter, then letters, digits, '_', '.', '-')"
            )));
        }
        kept.push(element_in(v, uri, key)?);
    }
    Ok((!kept.is_empty()).then(|| kept.join("")))
}

/// `value` (one XML element) rewritten into namespace `uri`, prefix
/// `key`: its own tag and attributes, its content as written.
fn element_in(value: &str, uri: &str, key: &str) -> Result<String> {
    let doc = roxmltree::Document::parse(value.trim())
        .map_err(|e| Error::new(ErrorCode::InvalidXml, format!("the metadata element: {e}")))?;
    let root = doc.root_element();
    let text = value.trim();
    let mut out = format!(
        "<{key}:{} xmlns:{key}=\"{}\"",
        root.tag_name().name(),
        escape(uri)
    );
    for a in root.attributes() {
        if a.namespace().is_some() {
            return Err(bad(format!(
                "the metadata element's attribute '{}' is in a namespace; only plain attributes are kept",
                a.name()
            )));
        }
        out.push_str(&format!(" {}=\"{}\"", a.name(), escape(a.value())));
    }
    match (root.first_child(), root.last_child()) {
        (Some(first), Some(last)) => {
            out.push('>');
            out.push_str(&text[first.range().start..last.range().end]);
            out.push_str(&format!("</{key}:{}>", root.tag_name().name()));
        }
        _ => out.push_str("/>"),
    }
    Ok(out)
}

/// The element of `meta` in namespace `uri`, as libvirt gives it back:
/// without its prefix.
fn element_of(meta: &str, uri: &str) -> Option<String> {
    let wrapped = format!("<metadata>{meta}</metadata>");
    let doc = roxmltree::Document::parse(&wrapped).ok()?;
    let node = doc
        .root_element()
        .children()
        .find(|n| n.is_element() && n.tag_name().namespace() == Some(uri))?;
    let name = node.tag_name().name();
    let mut out = format!("<{name}");
    for a in node.attributes().filter(|a| a.namespace().is_none()) {
        out.push_str(&format!(" {}=\"{}\"", a.name(), escape(a.value())));
    }
    match (node.first_child(), node.last_child()) {
        (Some(first), Some(last)) => {
            out.push('>');
            out.push_str(&wrapped[first.range().start..last.range().end]);
            out.push_str(&format!("</{name}>"));
        }
        _ => out.push_str("/>"),
    }
    Some(out)
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    const URI: &str = "http://example.org/app/1";

    #[test]
    fn an_element_is_set_replaced_read_and_removed() {
        let set = with_element(None, URI, Some("app"), Some("<cfg a='1'><x>y</x></cfg>"))
            .unwrap()
            .unwrap();
        assert_eq!(
            set,
            "<app:cfg xmlns:app=\"http://example.org/app/1\" a=\"1\"><x>y</x></app:cfg>"
        );
        assert_eq!(
            element_of(&set, URI).unwrap(),
            "<cfg a=\"1\"><x>y</x></cfg>"
        );
        let other = "<o:k xmlns:o=\"urn:other\"/>";
        let both = with_element(Some(&format!("{other}{set}")), URI, Some("b"), Some("<n/>"))
            .unwrap()
            .unwrap();
        assert_eq!(both, format!("{other}<b:n xmlns:b=\"{URI}\"/>"));
        let removed = with_element(Some(&both), URI, None, None).unwrap();
        assert_eq!(removed.as_deref(), Some(other));
        assert_eq!(
            with_element(Some(other), "urn:other", None, None).unwrap(),
            None
        );
    }

    #[test]
    fn bad_elements_and_keys_are_refused() {
        for (key, value, code) in [
            (Some("app"), "<a>", ErrorCode::InvalidXml),
            (None, "<a/>", ErrorCode::InvalidArgument),
            (Some("1x"), "<a/>", ErrorCode::InvalidArgument),
            (Some("xmlfoo"), "<a/>", ErrorCode::InvalidArgument),
        ] {
            let e = with_element(None, URI, key, Some(value)).unwrap_err();
            assert_eq!(e.code, code, "{key:?} {value}: {e}");
        }
    }
}
