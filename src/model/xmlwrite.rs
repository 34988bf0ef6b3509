//! A small XML writer for the formatter: indentation, single-quoted
//! attributes as libvirt writes them, and escaping of every value.
//!
//! It knows nothing of domains; `format` decides what to write. Nothing it
//! writes can make the document malformed: characters XML 1.0 cannot carry
//! at all are replaced by U+FFFD (validation refuses them before that).

use std::fmt::Write;

/// Whether XML 1.0 can carry `c` in a document at all (its `Char`
/// production).
pub(crate) fn is_xml_char(c: char) -> bool {
    matches!(c,
        '\u{9}' | '\u{A}' | '\u{D}'
        | '\u{20}'..='\u{D7FF}'
        | '\u{E000}'..='\u{FFFD}'
        | '\u{10000}'..='\u{10FFFF}')
}

/// Appends `s` escaped for element text.
///
/// `\r` becomes a character reference because a parser turns a literal
/// carriage return into a line feed; `>` is escaped so `]]>` cannot appear.
pub(crate) fn escape_text(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#13;"),
            c if is_xml_char(c) => out.push(c),
            _ => out.push('\u{FFFD}'),
        }
    }
}

/// Appends `s` escaped for a single- or double-quoted attribute value.
///
/// Tabs and line ends become character references because a parser
/// normalizes literal ones in attribute values to spaces.
pub(crate) fn escape_attr(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\'' => out.push_str("&apos;"),
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c if is_xml_char(c) => out.push(c),
            _ => out.push('\u{FFFD}'),
        }
    }
}

/// An element's attributes, in the order they are written.
#[derive(Default)]
pub(crate) struct Attrs {
    list: Vec<(&'static str, String)>,
}

impl Attrs {
    /// No attributes.
    pub(crate) fn new() -> Attrs {
        Attrs::default()
    }

    /// Adds `name='value'`.
    pub(crate) fn add(mut self, name: &'static str, value: impl ToString) -> Attrs {
        self.list.push((name, value.to_string()));
        self
    }

    /// Adds `name='value'` when `value` is set.
    pub(crate) fn opt<T: ToString>(self, name: &'static str, value: Option<T>) -> Attrs {
        match value {
            Some(v) => self.add(name, v),
            None => self,
        }
    }

    /// Whether there are no attributes.
    pub(crate) fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}

/// Writes an indented document, two spaces a level.
pub(crate) struct XmlWriter {
    out: String,
    depth: usize,
}

impl XmlWriter {
    /// An empty document.
    pub(crate) fn new() -> XmlWriter {
        XmlWriter {
            out: String::with_capacity(4096),
            depth: 0,
        }
    }

    fn indent(&mut self, extra: usize) {
        for _ in 0..self.depth + extra {
            self.out.push_str("  ");
        }
    }

    fn start_tag(&mut self, name: &str, attrs: &Attrs) {
        self.indent(0);
        self.out.push('<');
        self.out.push_str(name);
        for (k, v) in &attrs.list {
            self.out.push(' ');
            self.out.push_str(k);
            self.out.push_str("='");
            escape_attr(v, &mut self.out);
            self.out.push('\'');
        }
    }

    /// `<name attrs>` on its own line; children follow one level deeper.
    pub(crate) fn open(&mut self, name: &str, attrs: Attrs) {
        self.start_tag(name, &attrs);
        self.out.push_str(">\n");
        self.depth += 1;
    }

    /// `</name>` closing the last [`XmlWriter::open`].
    pub(crate) fn close(&mut self, name: &str) {
        self.depth = self.depth.saturating_sub(1);
        self.indent(0);
        let _ = writeln!(self.out, "</{name}>");
    }

    /// `<name attrs/>`.
    pub(crate) fn empty(&mut self, name: &str, attrs: Attrs) {
        self.start_tag(name, &attrs);
        self.out.push_str("/>\n");
    }

    /// `<name attrs>text</name>` on one line.
    pub(crate) fn text(&mut self, name: &str, attrs: Attrs, text: &str) {
        self.start_tag(name, &attrs);
        self.out.push('>');
        escape_text(text, &mut self.out);
        let _ = writeln!(self.out, "</{name}>");
    }

    /// `<name>` + `raw` + `</name>`, with `raw` written unchanged. Only for
    /// a fragment that validation has proved well-formed (`<metadata>`).
    pub(crate) fn raw(&mut self, name: &str, raw: &str) {
        self.start_tag(name, &Attrs::new());
        self.out.push_str(">\n");
        self.indent(1);
        self.out.push_str(raw);
        self.out.push('\n');
        self.indent(0);
        let _ = writeln!(self.out, "</{name}>");
    }

    /// The document.
    pub(crate) fn finish(self) -> String {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_everything_special() {
        let mut s = String::new();
        escape_attr("a&<>'\"\t\n\r\u{1}", &mut s);
        assert_eq!(s, "a&amp;&lt;&gt;&apos;&quot;&#9;&#10;&#13;\u{FFFD}");
        let mut t = String::new();
        escape_text("]]>&\r\n\u{FFFF}", &mut t);
        assert_eq!(t, "]]&gt;&amp;&#13;\n\u{FFFD}");
    }

    #[test]
    fn writes_nested_elements() {
        let mut w = XmlWriter::new();
        w.open("a", Attrs::new().add("x", "1"));
        w.empty("b", Attrs::new().opt::<u32>("y", None));
        w.text("c", Attrs::new(), "t");
        w.close("a");
        assert_eq!(w.finish(), "<a x='1'>\n  <b/>\n  <c>t</c>\n</a>\n");
    }
}
