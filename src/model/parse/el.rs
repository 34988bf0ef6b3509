//! Strict access to one element: every attribute and child must be asked
//! for by name, anything else is an error that says what and where.

use std::cell::RefCell;

use roxmltree::{Node, NodeType};

use crate::model::words::Word;
use crate::model::{ModelError, ModelErrorKind};

pub(super) type R<T> = Result<T, ModelError>;

/// The unsupported parts found so far in one document. The reader notes
/// each one and carries on, so that one error can name them all.
#[derive(Default)]
pub(super) struct Diag {
    unsupported: RefCell<Vec<ModelError>>,
}

impl Diag {
    /// Notes an unsupported part.
    pub(super) fn note(&self, e: ModelError) {
        self.unsupported.borrow_mut().push(e);
    }

    /// One error naming every unsupported part noted, if there is any.
    pub(super) fn error(&self) -> Option<ModelError> {
        let list = self.unsupported.borrow();
        match list.as_slice() {
            [] => None,
            [one] => Some(one.clone()),
            many => {
                let mut msg = format!("the document has {} unsupported parts:", many.len());
                for e in many {
                    msg.push_str("\n  ");
                    msg.push_str(&e.message);
                }
                Some(unsupported(msg))
            }
        }
    }
}

/// An element being read.
#[derive(Clone, Copy)]
pub(super) struct El<'a, 'i> {
    pub(super) node: Node<'a, 'i>,
    diag: &'a Diag,
}

/// How a number attribute is written.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Radix {
    /// Decimal only.
    Dec,
    /// C's base 0, as libvirt reads PCI addresses: `0x` hex, a leading
    /// `0` octal, otherwise decimal.
    Auto,
    /// Octal only (file modes).
    Oct,
}

/// A short, printable rendition of a value for a message.
pub(super) fn show(v: &str) -> String {
    let mut s: String = v.chars().take(64).collect();
    if v.chars().count() > 64 {
        s.push_str("...");
    }
    s.escape_debug().to_string()
}

fn line_col(node: Node, offset: usize) -> String {
    let p = node.document().text_pos_at(offset);
    format!("{}:{}", p.row, p.col)
}

/// `prefix:name` for a namespaced element, else `name`.
pub(super) fn qname(node: Node) -> String {
    let tag = node.tag_name();
    match tag.namespace() {
        Some(uri) => match node.lookup_prefix(uri) {
            Some(p) if !p.is_empty() => format!("{p}:{}", tag.name()),
            _ => format!("{{{uri}}}{}", tag.name()),
        },
        None => tag.name().to_string(),
    }
}

pub(super) fn err(kind: ModelErrorKind, msg: String) -> ModelError {
    ModelError::new(kind, msg)
}

pub(super) fn invalid(msg: String) -> ModelError {
    ModelError::new(ModelErrorKind::Invalid, msg)
}

pub(super) fn unsupported(msg: String) -> ModelError {
    ModelError::new(ModelErrorKind::Unsupported, msg)
}

/// Reads an unsigned number as libvirt does for `radix`.
pub(super) fn parse_uint(v: &str, radix: Radix) -> Option<u64> {
    let v = v.trim_matches(|c: char| c.is_ascii_whitespace());
    let (digits, base) = match radix {
        Radix::Dec => (v, 10),
        Radix::Oct => (v, 8),
        Radix::Auto => {
            if let Some(h) = v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) {
                (h, 16)
            } else if v.len() > 1 && v.starts_with('0') {
                (&v[1..], 8)
            } else {
                (v, 10)
            }
        }
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(base)) {
        return None;
    }
    u64::from_str_radix(digits, base).ok()
}

impl<'a, 'i> El<'a, 'i> {
    pub(super) fn new(node: Node<'a, 'i>, diag: &'a Diag) -> El<'a, 'i> {
        El { node, diag }
    }

    /// Another node of the same document.
    pub(super) fn other(&self, node: Node<'a, 'i>) -> El<'a, 'i> {
        El::new(node, self.diag)
    }

    /// Reads this element with `read`. An unsupported part is noted and
    /// gives `None`, so that reading goes on; other errors end it.
    pub(super) fn read<T>(self, read: impl FnOnce(El<'a, 'i>) -> R<T>) -> R<Option<T>> {
        match read(self) {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.kind == ModelErrorKind::Unsupported => {
                self.diag.note(e);
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Notes this element as unsupported where it is.
    pub(super) fn skip(&self) -> R<()> {
        self.diag.note(self.unsupported_element());
        Ok(())
    }

    /// The local name.
    pub(super) fn name(&self) -> &'a str {
        self.node.tag_name().name()
    }

    /// `line:column` of the element.
    pub(super) fn at(&self) -> String {
        line_col(self.node, self.node.range().start)
    }

    /// `<parent><name>`, or `<name>` for a child of `<domain>` and for
    /// `<domain>` itself.
    pub(super) fn path(&self) -> String {
        match self.node.parent_element() {
            Some(p) if p.parent_element().is_some() => {
                format!("<{}><{}>", qname(p), qname(self.node))
            }
            _ => format!("<{}>", qname(self.node)),
        }
    }

    fn attr_at(&self, name: &str) -> String {
        match self
            .node
            .attributes()
            .find(|a| a.name() == name && a.namespace().is_none())
        {
            Some(a) => line_col(self.node, a.range().start),
            None => self.at(),
        }
    }

    /// The error for this element where it is not understood.
    pub(super) fn unsupported_element(&self) -> ModelError {
        let parent = self
            .node
            .parent_element()
            .map(|p| format!(" in <{}>", qname(p)))
            .unwrap_or_default();
        unsupported(format!(
            "unsupported element <{}>{parent} at {}",
            qname(self.node),
            self.at()
        ))
    }

    /// The error for a second copy of an element that may appear once.
    pub(super) fn duplicate(&self) -> ModelError {
        invalid(format!(
            "element <{}> given more than once, again at {}",
            qname(self.node),
            self.at()
        ))
    }

    /// Notes every attribute not in `allowed` as unsupported.
    pub(super) fn allow(&self, allowed: &[&str]) -> R<()> {
        for a in self.node.attributes() {
            if a.namespace().is_some() || !allowed.contains(&a.name()) {
                let name = match a.namespace().and_then(|u| self.node.lookup_prefix(u)) {
                    Some(p) => format!("{p}:{}", a.name()),
                    None => a.name().to_string(),
                };
                self.diag.note(unsupported(format!(
                    "unsupported attribute {name} on {} at {}",
                    self.path(),
                    line_col(self.node, a.range().start)
                )));
            }
        }
        Ok(())
    }

    /// The value of attribute `name`.
    pub(super) fn get(&self, name: &str) -> Option<&'a str> {
        self.node.attribute(name)
    }

    /// The value of a required attribute.
    pub(super) fn req(&self, name: &str) -> R<&'a str> {
        self.get(name).ok_or_else(|| {
            invalid(format!(
                "missing attribute {name} on {} at {}",
                self.path(),
                self.at()
            ))
        })
    }

    /// An error about the value of attribute `name`.
    pub(super) fn bad_value(&self, kind: ModelErrorKind, name: &str, why: &str) -> ModelError {
        let v = self.get(name).unwrap_or_default();
        let word = if kind == ModelErrorKind::Unsupported {
            "unsupported"
        } else {
            "invalid"
        };
        let why = if why.is_empty() {
            String::new()
        } else {
            format!(" ({why})")
        };
        err(
            kind,
            format!(
                "{word} value '{}' for attribute {name} on {} at {}{why}",
                show(v),
                self.path(),
                self.attr_at(name)
            ),
        )
    }

    /// The element children, in order. Text other than whitespace and
    /// elements in a namespace are noted as unsupported and left out;
    /// comments are skipped.
    pub(super) fn children(&self) -> R<Vec<El<'a, 'i>>> {
        let mut out = Vec::new();
        for c in self.node.children() {
            match c.node_type() {
                NodeType::Element => {
                    let e = self.other(c);
                    if c.tag_name().namespace().is_some() {
                        e.skip()?;
                        continue;
                    }
                    out.push(e);
                }
                NodeType::Text => {
                    let t = c.text().unwrap_or_default();
                    if !t
                        .trim_matches(|ch: char| ch.is_ascii_whitespace())
                        .is_empty()
                    {
                        self.diag.note(unsupported(format!(
                            "unsupported text '{}' in {} at {}",
                            show(t.trim()),
                            self.path(),
                            line_col(c, c.range().start)
                        )));
                    }
                }
                _ => {}
            }
        }
        Ok(out)
    }

    /// The element children in any namespace, in order; text is checked
    /// as [`El::children`] does. For the children of `<domain>` and of
    /// libvirt's `qemu:` namespace elements, whose namespaces the caller
    /// looks at.
    pub(super) fn all_children(&self) -> R<Vec<El<'a, 'i>>> {
        let mut out = Vec::new();
        for c in self.node.children() {
            match c.node_type() {
                NodeType::Element => out.push(self.other(c)),
                NodeType::Text => {
                    let t = c.text().unwrap_or_default();
                    if !t
                        .trim_matches(|ch: char| ch.is_ascii_whitespace())
                        .is_empty()
                    {
                        self.diag.note(unsupported(format!(
                            "unsupported text '{}' in {} at {}",
                            show(t.trim()),
                            self.path(),
                            line_col(c, c.range().start)
                        )));
                    }
                }
                _ => {}
            }
        }
        Ok(out)
    }

    /// The element's text, exactly as written (comments skipped). Child
    /// elements are refused.
    pub(super) fn text(&self) -> R<String> {
        let mut s = String::new();
        for c in self.node.children() {
            match c.node_type() {
                NodeType::Element => return Err(self.other(c).unsupported_element()),
                NodeType::Text => s.push_str(c.text().unwrap_or_default()),
                _ => {}
            }
        }
        Ok(s)
    }

    /// Text with no attributes allowed.
    pub(super) fn plain_text(&self) -> R<String> {
        self.allow(&[])?;
        self.text()
    }

    /// Notes any child element or text as unsupported.
    pub(super) fn empty(&self) -> R<()> {
        for c in self.children()? {
            c.skip()?;
        }
        Ok(())
    }

    /// Attribute `name` as a [`Word`]; any other word is unsupported.
    pub(super) fn word<T: Word>(&self, name: &str) -> R<Option<T>> {
        let Some(v) = self.get(name) else {
            return Ok(None);
        };
        T::from_word(v)
            .map(Some)
            .ok_or_else(|| self.bad_value(ModelErrorKind::Unsupported, name, ""))
    }

    /// A required attribute `name` as a [`Word`].
    pub(super) fn req_word<T: Word>(&self, name: &str) -> R<T> {
        self.req(name)?;
        Ok(self.word(name)?.expect("checked present"))
    }

    /// `state='on|off'`, required, as libvirt's feature switches.
    pub(super) fn state(&self) -> R<bool> {
        self.req("state")?;
        Ok(self.on_off("state")?.unwrap_or(false))
    }

    /// An attribute from a fixed set of words; any other word is
    /// unsupported.
    pub(super) fn choice<T: Copy>(&self, name: &str, table: &[(&str, T)]) -> R<Option<T>> {
        let Some(v) = self.get(name) else {
            return Ok(None);
        };
        table
            .iter()
            .find(|(w, _)| *w == v)
            .map(|(_, t)| Some(*t))
            .ok_or_else(|| self.bad_value(ModelErrorKind::Unsupported, name, ""))
    }

    /// `yes`/`no`.
    pub(super) fn yes_no(&self, name: &str) -> R<Option<bool>> {
        self.bool_words(name, "yes", "no")
    }

    /// `on`/`off`.
    pub(super) fn on_off(&self, name: &str) -> R<Option<bool>> {
        self.bool_words(name, "on", "off")
    }

    pub(super) fn bool_words(&self, name: &str, t: &str, f: &str) -> R<Option<bool>> {
        match self.get(name) {
            None => Ok(None),
            Some(v) if v == t => Ok(Some(true)),
            Some(v) if v == f => Ok(Some(false)),
            Some(_) => Err(self.bad_value(
                ModelErrorKind::Invalid,
                name,
                &format!("expected '{t}' or '{f}'"),
            )),
        }
    }

    /// An unsigned 64-bit number.
    pub(super) fn u64(&self, name: &str, radix: Radix) -> R<Option<u64>> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => parse_uint(v, radix).map(Some).ok_or_else(|| {
                self.bad_value(ModelErrorKind::Invalid, name, "expected an unsigned number")
            }),
        }
    }

    /// An unsigned 32-bit number.
    pub(super) fn u32(&self, name: &str, radix: Radix) -> R<Option<u32>> {
        match self.u64(name, radix)? {
            None => Ok(None),
            Some(n) => u32::try_from(n)
                .map(Some)
                .map_err(|_| self.bad_value(ModelErrorKind::Invalid, name, "number too large")),
        }
    }

    /// A TCP or UDP port (0 to 65535).
    pub(super) fn port(&self, name: &str) -> R<Option<u16>> {
        match self.u64(name, Radix::Dec)? {
            None => Ok(None),
            Some(n) => u16::try_from(n).map(Some).map_err(|_| {
                self.bad_value(ModelErrorKind::Invalid, name, "a port is at most 65535")
            }),
        }
    }

    /// An error about the element's text.
    pub(super) fn bad_text(&self, kind: ModelErrorKind, text: &str, why: &str) -> ModelError {
        let word = if kind == ModelErrorKind::Unsupported {
            "unsupported"
        } else {
            "invalid"
        };
        err(
            kind,
            format!(
                "{word} value '{}' in {} at {}: {why}",
                show(text.trim()),
                self.path(),
                self.at()
            ),
        )
    }

    /// The element's text as an unsigned decimal number.
    pub(super) fn u32_text(&self) -> R<u32> {
        let t = self.plain_text()?;
        parse_uint(&t, Radix::Dec)
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| {
                self.bad_text(ModelErrorKind::Invalid, &t, "expected an unsigned number")
            })
    }

    /// The element's text as an unsigned decimal 64-bit number.
    pub(super) fn u64_text(&self) -> R<u64> {
        let t = self.plain_text()?;
        parse_uint(&t, Radix::Dec).ok_or_else(|| {
            self.bad_text(ModelErrorKind::Invalid, &t, "expected an unsigned number")
        })
    }
}

/// Reads an element that may appear once into `slot`; a second is an
/// error. Reading happens at once, so errors come in document order; an
/// unsupported element is noted and leaves the slot empty.
pub(super) fn set<'a, 'i, T>(
    slot: &mut Option<T>,
    e: El<'a, 'i>,
    read: impl FnOnce(El<'a, 'i>) -> R<T>,
) -> R<()> {
    if slot.is_some() {
        return Err(e.duplicate());
    }
    *slot = e.read(read)?;
    Ok(())
}

/// Reads an element that may appear many times and appends it to `list`;
/// an unsupported element is noted and left out.
pub(super) fn push<'a, 'i, T>(
    list: &mut Vec<T>,
    e: El<'a, 'i>,
    read: impl FnOnce(El<'a, 'i>) -> R<T>,
) -> R<()> {
    list.extend(e.read(read)?);
    Ok(())
}
