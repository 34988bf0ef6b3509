//! Work on the document's raw text: the nesting pre-scan, and `<metadata>`,
//! which is kept as the text the user wrote.

use std::collections::{HashMap, HashSet};

use roxmltree::{Document, Node, NodeType, ParsingOptions};

use super::el::{Diag, El, R, show, unsupported};
use crate::model::{MAX_XML_BYTES, ModelError, ModelErrorKind};

/// The most attributes (namespace declarations included) one element may
/// have. The parser's duplicate checks cost the square of this, and no
/// domain element needs more than a few.
pub(super) const MAX_ATTRIBUTES: usize = 256;

/// Scans `xml` without building a tree and without recursion for element
/// nesting deeper than `max` and for elements with more than
/// [`MAX_ATTRIBUTES`] attributes. Returns what is too large. Malformed
/// input is left for the parser to report.
pub(super) fn prescan(xml: &[u8], max: usize) -> Option<String> {
    let mut depth = 0usize;
    let mut i = 0usize;
    let find = |from: usize, pat: &[u8]| -> Option<usize> {
        xml.get(from..)?
            .windows(pat.len())
            .position(|w| w == pat)
            .map(|p| from + p + pat.len())
    };
    while i < xml.len() {
        if xml[i] != b'<' {
            i += 1;
            continue;
        }
        let rest = &xml[i..];
        let next = if rest.starts_with(b"<!--") {
            find(i + 4, b"-->")
        } else if rest.starts_with(b"<![CDATA[") {
            find(i + 9, b"]]>")
        } else if rest.starts_with(b"<?") {
            find(i + 2, b"?>")
        } else if rest.starts_with(b"<!") {
            // A document type declaration; the parser refuses it, so only
            // its end matters here.
            match rest.iter().position(|&b| b == b'[' || b == b'>') {
                Some(p) if rest[p] == b'[' => find(i + p, b"]").and_then(|c| find(c, b">")),
                Some(p) => Some(i + p + 1),
                None => None,
            }
        } else if rest.starts_with(b"</") {
            depth = depth.saturating_sub(1);
            find(i, b">")
        } else {
            // A start tag: its end is the first '>' outside quotes.
            let mut j = i + 1;
            let mut quote = None;
            let mut attributes = 0;
            while j < xml.len() {
                match (quote, xml[j]) {
                    (None, b'"' | b'\'') => quote = Some(xml[j]),
                    (Some(q), c) if c == q => quote = None,
                    (None, b'=') => attributes += 1,
                    (None, b'>') => break,
                    _ => {}
                }
                j += 1;
            }
            if attributes > MAX_ATTRIBUTES {
                return Some(format!(
                    "an element has more than {MAX_ATTRIBUTES} attributes"
                ));
            }
            if j >= xml.len() {
                return None;
            }
            if xml[j - 1] != b'/' {
                depth += 1;
                if depth > max {
                    return Some(format!("elements nest deeper than the limit of {max}"));
                }
            }
            Some(j + 1)
        };
        match next {
            Some(n) => i = n,
            None => return None,
        }
    }
    None
}

fn is_blank(n: &Node) -> bool {
    n.node_type() == NodeType::Text
        && n.text()
            .unwrap_or_default()
            .trim_matches(|c: char| c.is_ascii_whitespace())
            .is_empty()
}

/// The end of the start tag beginning at `start` (the index after its
/// `>`), found outside quoted attribute values.
fn start_tag_end(xml: &str, start: usize) -> usize {
    let b = xml.as_bytes();
    let mut quote = None;
    let mut j = start;
    while j < b.len() {
        match (quote, b[j]) {
            (None, b'"' | b'\'') => quote = Some(b[j]),
            (Some(q), c) if c == q => quote = None,
            (None, b'>') => return j + 1,
            _ => {}
        }
        j += 1;
    }
    b.len()
}

/// The prefixes the start tag text `tag` declares (`xmlns:p=`), found in
/// one pass outside quoted values.
fn declared_prefixes(tag: &str) -> HashSet<&str> {
    let b = tag.as_bytes();
    let mut out = HashSet::new();
    let mut quote = None;
    let mut i = 0;
    while i < b.len() {
        match (quote, b[i]) {
            (None, b'"' | b'\'') => quote = Some(b[i]),
            (Some(q), c) if c == q => quote = None,
            (None, c) if c.is_ascii_whitespace() && tag[i + 1..].starts_with("xmlns:") => {
                let rest = &tag[i + 7..];
                let len = rest
                    .find(|c: char| c.is_ascii_whitespace() || c == '=')
                    .unwrap_or(rest.len());
                out.insert(&rest[..len]);
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// The prefix of a qualified name as written, if any.
fn prefix_of(qname: &str) -> Option<&str> {
    qname.split_once(':').map(|(p, _)| p)
}

/// The prefixes used by element and attribute names in the subtree of
/// `n`, in order of first use.
fn used_prefixes<'x>(n: Node, xml: &'x str) -> Vec<&'x str> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for d in n.descendants().filter(|d| d.is_element()) {
        let start = d.range().start + 1;
        let len = xml[start..]
            .find(|c: char| c.is_ascii_whitespace() || c == '/' || c == '>')
            .unwrap_or(0);
        let names = std::iter::once(&xml[start..start + len])
            .chain(d.attributes().map(|a| &xml[a.range_qname()]));
        for p in names.filter_map(prefix_of) {
            if seen.insert(p) {
                out.push(p);
            }
        }
    }
    out
}

/// The children of `<metadata>` as written, from the first to the last
/// non-blank node. A prefix the children use but that is declared outside
/// them (on `<domain>` or `<metadata>`) is declared again on each child
/// that needs it, so the fragment stands on its own.
pub(super) fn metadata(e: El, xml: &str) -> R<Option<String>> {
    e.allow(&[])?;
    let nodes: Vec<Node> = e.node.children().collect();
    for n in &nodes {
        if n.node_type() == NodeType::Text && !is_blank(n) {
            let t = n.text().unwrap_or_default();
            return Err(unsupported(format!(
                "unsupported text '{}' in <metadata> at {} (only elements are kept)",
                show(t.trim()),
                e.other(*n).at()
            )));
        }
    }
    let Some(first) = nodes.iter().position(|n| !is_blank(n)) else {
        return Ok(None);
    };
    let last = nodes.iter().rposition(|n| !is_blank(n)).unwrap_or(first);
    // Namespaces declared outside the kept text: on <domain> or <metadata>.
    let inherited: HashMap<&str, &str> = e
        .node
        .namespaces()
        .filter_map(|ns| ns.name().map(|p| (p, ns.uri())))
        .filter(|(p, _)| *p != "xml")
        .collect();
    let mut out = String::new();
    let mut cursor = nodes[first].range().start;
    for n in &nodes[first..=last] {
        if !n.is_element() || inherited.is_empty() {
            continue;
        }
        let start = n.range().start;
        let tag = &xml[start..start_tag_end(xml, start)];
        let name_end = start
            + 1
            + tag[1..]
                .find(|c: char| c.is_ascii_whitespace() || c == '/' || c == '>')
                .unwrap_or(tag.len() - 1);
        let declared = declared_prefixes(tag);
        let mut extra = String::new();
        for prefix in used_prefixes(*n, xml) {
            if let (Some(uri), false) = (inherited.get(prefix), declared.contains(prefix)) {
                extra.push_str(&format!(" xmlns:{prefix}=\"{}\"", escape_quot(uri)));
            }
        }
        if !extra.is_empty() {
            out.push_str(&xml[cursor..name_end]);
            out.push_str(&extra);
            cursor = name_end;
        }
        // Each child may repeat a long declaration; stop before the
        // result outgrows what a document may hold.
        if out.len() > MAX_XML_BYTES {
            return Err(ModelError::new(
                ModelErrorKind::TooLarge,
                format!(
                    "<metadata> at {} grows past {MAX_XML_BYTES} bytes once its namespaces are declared",
                    e.at()
                ),
            ));
        }
    }
    out.push_str(&xml[cursor..nodes[last].range().end]);
    Ok(Some(out))
}

fn escape_quot(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('"', "&quot;")
}

/// Checks that `fragment` is what the reader keeps for a `<metadata>`:
/// well-formed, self-contained, only elements at the top, no leading or
/// trailing blanks, and shallow enough to fit in a domain document.
pub(crate) fn check_metadata(fragment: &str, max_depth: usize) -> Result<(), String> {
    let wrapped = format!("<metadata>{fragment}</metadata>");
    if let Some(what) = prescan(wrapped.as_bytes(), max_depth) {
        return Err(format!("metadata is too large: {what}"));
    }
    let opts = ParsingOptions {
        allow_dtd: false,
        ..ParsingOptions::default()
    };
    let doc = Document::parse_with_options(&wrapped, opts)
        .map_err(|e| format!("metadata is not a well-formed XML fragment: {e}"))?;
    let diag = Diag::default();
    let kept = metadata(El::new(doc.root_element(), &diag), &wrapped).map_err(|e| e.message)?;
    if let Some(e) = diag.error() {
        return Err(e.message);
    }
    if kept.as_deref() != Some(fragment) {
        return Err("metadata must be element markup without leading or trailing blanks".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prescan_counts_depth() {
        assert_eq!(prescan(b"<a><b/><c></c></a>", 2), None);
        assert!(prescan(b"<a><b><c/></b></a>", 1).is_some());
        assert_eq!(
            prescan(b"<a x='>'><!-- <b> --><![CDATA[<c>]]></a>", 1),
            None
        );
        let deep = "<a>".repeat(100_000);
        assert!(prescan(deep.as_bytes(), 64).is_some());
        let wide: String = (0..300).map(|i| format!(" a{i}='='")).collect();
        assert!(prescan(format!("<a{wide}/>").as_bytes(), 64).is_some());
    }

    #[test]
    fn metadata_gets_inherited_prefixes() {
        let xml =
            "<domain xmlns:x='urn:x'><metadata>\n  <x:a><x:b/></x:a>\n  <c/>\n</metadata></domain>";
        let doc = Document::parse(xml).unwrap();
        let md = doc.root_element().first_element_child().unwrap();
        let diag = Diag::default();
        let kept = metadata(El::new(md, &diag), xml).unwrap().unwrap();
        assert_eq!(kept, "<x:a xmlns:x=\"urn:x\"><x:b/></x:a>\n  <c/>");
        check_metadata(&kept, 63).unwrap();
        assert!(check_metadata(" <c/>", 63).is_err());
        assert!(check_metadata("text", 63).is_err());
        assert!(check_metadata("<y:a/>", 63).is_err());
    }
}
