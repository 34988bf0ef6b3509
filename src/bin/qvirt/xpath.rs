//! `dumpxml --xpath`: the XPath 1.0 location paths scripts use on a
//! domain's XML (`//disk/source/@file`, `/domain/devices/interface[@type
//! ='bridge']/mac/@address`, `//disk[2]`, `//graphics[@type='vnc' and
//! @port]`), each selected node printed as virsh prints it. Functions
//! other than `text()`, `node()`, `last()` and `position()`, other axes
//! and arithmetic are refused by name.

use qvirt::{Error, ErrorCode, Result};
use roxmltree::{Document, Node};

/// A selected node: an element, text or the document, or one attribute.
#[derive(Clone, Copy, PartialEq)]
enum Sel<'a, 'i> {
    Node(Node<'a, 'i>),
    Attr(Node<'a, 'i>, usize),
}

impl<'a, 'i> Sel<'a, 'i> {
    fn string(&self) -> String {
        match self {
            Sel::Attr(n, i) => n
                .attributes()
                .nth(*i)
                .map_or(String::new(), |a| a.value().to_string()),
            Sel::Node(n) => n
                .descendants()
                .filter(|d| d.is_text())
                .map(|d| d.text().unwrap_or(""))
                .collect(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Slash,
    DSlash,
    Name(String),
    Star,
    At,
    Dot,
    DDot,
    LBr,
    RBr,
    LPar,
    RPar,
    Eq,
    Ne,
    Lit(String),
    Num(usize),
}

fn bad(msg: impl Into<String>) -> Error {
    Error::new(
        ErrorCode::InvalidArgument,
        format!("--xpath: {}", msg.into()),
    )
}

fn lex(s: &str) -> Result<Vec<Tok>> {
    let c: Vec<char> = s.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    while i < c.len() {
        let ch = c[i];
        match ch {
            ' ' | '\t' | '\n' => i += 1,
            '/' if c.get(i + 1) == Some(&'/') => {
                out.push(Tok::DSlash);
                i += 2;
            }
            '/' => {
                out.push(Tok::Slash);
                i += 1;
            }
            '.' if c.get(i + 1) == Some(&'.') => {
                out.push(Tok::DDot);
                i += 2;
            }
            '.' => {
                out.push(Tok::Dot);
                i += 1;
            }
            '*' => {
                out.push(Tok::Star);
                i += 1;
            }
            '@' => {
                out.push(Tok::At);
                i += 1;
            }
            '[' => {
                out.push(Tok::LBr);
                i += 1;
            }
            ']' => {
                out.push(Tok::RBr);
                i += 1;
            }
            '(' => {
                out.push(Tok::LPar);
                i += 1;
            }
            ')' => {
                out.push(Tok::RPar);
                i += 1;
            }
            '=' => {
                out.push(Tok::Eq);
                i += 1;
            }
            '!' if c.get(i + 1) == Some(&'=') => {
                out.push(Tok::Ne);
                i += 2;
            }
            '\'' | '"' => {
                let end = c[i + 1..]
                    .iter()
                    .position(|x| *x == ch)
                    .ok_or_else(|| bad("an unterminated string"))?;
                out.push(Tok::Lit(c[i + 1..i + 1 + end].iter().collect()));
                i += end + 2;
            }
            d if d.is_ascii_digit() => {
                let n: String = c[i..].iter().take_while(|x| x.is_ascii_digit()).collect();
                i += n.len();
                out.push(Tok::Num(n.parse().map_err(|_| bad("a number too large"))?));
            }
            a if a.is_alphabetic() || a == '_' => {
                let n: String = c[i..]
                    .iter()
                    .take_while(|x| x.is_alphanumeric() || matches!(x, '_' | '-' | '.' | ':'))
                    .collect();
                i += n.chars().count();
                out.push(Tok::Name(n));
            }
            other => return Err(bad(format!("'{other}' is not understood"))),
        }
    }
    Ok(out)
}

/// A node test of one step.
#[derive(Debug, Clone)]
enum Test {
    Name(String),
    Any,
    Text,
    Node,
    SelfNode,
    Parent,
}

#[derive(Debug, Clone)]
struct Step {
    descendant: bool,
    attribute: bool,
    test: Test,
    preds: Vec<Pred>,
}

#[derive(Debug, Clone)]
enum Operand {
    Path(Path),
    Lit(String),
    Num(usize),
    Last,
    Position,
}

#[derive(Debug, Clone)]
enum Pred {
    One(Operand),
    Cmp(Operand, bool, Operand),
    And(Box<Pred>, Box<Pred>),
    Or(Box<Pred>, Box<Pred>),
}

#[derive(Debug, Clone)]
struct Path {
    absolute: bool,
    steps: Vec<Step>,
}

struct Parser {
    t: Vec<Tok>,
    i: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.t.get(self.i)
    }

    fn eat(&mut self, t: &Tok) -> bool {
        if self.peek() == Some(t) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn path(&mut self) -> Result<Path> {
        let mut steps = Vec::new();
        let mut absolute = false;
        let mut descendant = false;
        if self.eat(&Tok::DSlash) {
            absolute = true;
            descendant = true;
        } else if self.eat(&Tok::Slash) {
            absolute = true;
            if !matches!(
                self.peek(),
                Some(Tok::Name(_) | Tok::Star | Tok::At | Tok::Dot | Tok::DDot)
            ) {
                return Ok(Path { absolute, steps });
            }
        }
        loop {
            steps.push(self.step(descendant)?);
            if self.eat(&Tok::DSlash) {
                descendant = true;
            } else if self.eat(&Tok::Slash) {
                descendant = false;
            } else {
                return Ok(Path { absolute, steps });
            }
        }
    }

    fn step(&mut self, descendant: bool) -> Result<Step> {
        let attribute = self.eat(&Tok::At);
        let test = match self.t.get(self.i).cloned() {
            Some(Tok::Star) => Test::Any,
            Some(Tok::Dot) if !attribute => Test::SelfNode,
            Some(Tok::DDot) if !attribute => Test::Parent,
            Some(Tok::Name(n)) => {
                if self.t.get(self.i + 1) == Some(&Tok::LPar) {
                    self.i += 2;
                    if !self.eat(&Tok::RPar) {
                        return Err(bad(format!("{n}() takes no arguments here")));
                    }
                    self.i -= 1;
                    match n.as_str() {
                        "text" => Test::Text,
                        "node" => Test::Node,
                        _ => return Err(bad(format!("the function {n}() is not offered"))),
                    }
                } else if n.contains("::") {
                    return Err(bad(format!("axis '{n}' is not offered")));
                } else {
                    Test::Name(n)
                }
            }
            None => return Err(bad("the expression ends where a step was expected")),
            Some(other) => return Err(bad(format!("a step was expected, not {other:?}"))),
        };
        self.i += 1;
        let mut preds = Vec::new();
        while self.eat(&Tok::LBr) {
            preds.push(self.or()?);
            if !self.eat(&Tok::RBr) {
                return Err(bad("a ']' is missing"));
            }
        }
        Ok(Step {
            descendant,
            attribute,
            test,
            preds,
        })
    }

    fn or(&mut self) -> Result<Pred> {
        let mut p = self.and()?;
        while self.peek() == Some(&Tok::Name("or".into())) {
            self.i += 1;
            p = Pred::Or(Box::new(p), Box::new(self.and()?));
        }
        Ok(p)
    }

    fn and(&mut self) -> Result<Pred> {
        let mut p = self.cmp()?;
        while self.peek() == Some(&Tok::Name("and".into())) {
            self.i += 1;
            p = Pred::And(Box::new(p), Box::new(self.cmp()?));
        }
        Ok(p)
    }

    fn cmp(&mut self) -> Result<Pred> {
        let a = self.operand()?;
        let ne = match self.peek() {
            Some(Tok::Eq) => false,
            Some(Tok::Ne) => true,
            _ => return Ok(Pred::One(a)),
        };
        self.i += 1;
        Ok(Pred::Cmp(a, ne, self.operand()?))
    }

    fn operand(&mut self) -> Result<Operand> {
        match self.t.get(self.i).cloned() {
            Some(Tok::Lit(s)) => {
                self.i += 1;
                Ok(Operand::Lit(s))
            }
            Some(Tok::Num(n)) => {
                self.i += 1;
                Ok(Operand::Num(n))
            }
            Some(Tok::Name(n))
                if (n == "last" || n == "position")
                    && self.t.get(self.i + 1) == Some(&Tok::LPar) =>
            {
                self.i += 2;
                if !self.eat(&Tok::RPar) {
                    return Err(bad(format!("{n}() takes no arguments")));
                }
                Ok(if n == "last" {
                    Operand::Last
                } else {
                    Operand::Position
                })
            }
            _ => Ok(Operand::Path(self.path()?)),
        }
    }
}

fn matches(step: &Step, s: &Sel) -> bool {
    match (s, &step.test) {
        (Sel::Attr(n, i), t) if step.attribute => {
            let a = n.attributes().nth(*i);
            match t {
                Test::Any | Test::Node => true,
                Test::Name(name) => a.is_some_and(|a| a.name() == name),
                _ => false,
            }
        }
        (Sel::Node(n), Test::Name(name)) => n.is_element() && n.tag_name().name() == name,
        (Sel::Node(n), Test::Any) => n.is_element(),
        (Sel::Node(n), Test::Text) => n.is_text(),
        (Sel::Node(_), Test::Node) => true,
        _ => false,
    }
}

/// The candidates of one step from `ctx`, in document order.
fn candidates<'a, 'i>(step: &Step, ctx: Sel<'a, 'i>) -> Vec<Sel<'a, 'i>> {
    let Sel::Node(n) = ctx else {
        return match step.test {
            Test::SelfNode => vec![ctx],
            Test::Parent => match ctx {
                Sel::Attr(owner, _) => vec![Sel::Node(owner)],
                _ => vec![],
            },
            _ => vec![],
        };
    };
    match step.test {
        Test::SelfNode => return vec![ctx],
        Test::Parent => return n.parent().map(Sel::Node).into_iter().collect(),
        _ => {}
    }
    let bases: Vec<Node> = if step.descendant {
        n.descendants().collect()
    } else {
        vec![n]
    };
    let mut out = Vec::new();
    for b in bases {
        if step.attribute {
            out.extend((0..b.attributes().len()).map(|i| Sel::Attr(b, i)));
        } else {
            out.extend(b.children().map(Sel::Node));
        }
    }
    out.into_iter().filter(|s| matches(step, s)).collect()
}

fn eval<'a, 'i>(path: &Path, ctx: Sel<'a, 'i>, doc: &'a Document<'i>) -> Vec<Sel<'a, 'i>> {
    let mut set = vec![if path.absolute {
        Sel::Node(doc.root())
    } else {
        ctx
    }];
    for step in &path.steps {
        let mut next: Vec<Sel> = Vec::new();
        for c in &set {
            let mut found = candidates(step, *c);
            for p in &step.preds {
                let last = found.len();
                found = found
                    .iter()
                    .enumerate()
                    .filter(|(i, s)| holds(p, **s, i + 1, last, doc))
                    .map(|(_, s)| *s)
                    .collect();
            }
            for f in found {
                if !next.contains(&f) {
                    next.push(f);
                }
            }
        }
        set = next;
    }
    set
}

/// A predicate's operand, as the strings it stands for.
fn values<'a, 'i>(
    o: &Operand,
    s: Sel<'a, 'i>,
    pos: usize,
    last: usize,
    doc: &'a Document<'i>,
) -> Vec<String> {
    match o {
        Operand::Lit(l) => vec![l.clone()],
        Operand::Num(n) => vec![n.to_string()],
        Operand::Last => vec![last.to_string()],
        Operand::Position => vec![pos.to_string()],
        Operand::Path(p) => eval(p, s, doc).iter().map(Sel::string).collect(),
    }
}

fn holds<'a, 'i>(p: &Pred, s: Sel<'a, 'i>, pos: usize, last: usize, doc: &'a Document<'i>) -> bool {
    match p {
        Pred::One(Operand::Num(n)) => pos == *n,
        Pred::One(Operand::Last) => pos == last,
        Pred::One(Operand::Path(path)) => !eval(path, s, doc).is_empty(),
        Pred::One(o) => !values(o, s, pos, last, doc).is_empty(),
        Pred::Cmp(a, ne, b) => {
            let (a, b) = (values(a, s, pos, last, doc), values(b, s, pos, last, doc));
            a.iter().any(|x| b.iter().any(|y| (x == y) != *ne))
        }
        Pred::And(a, b) => holds(a, s, pos, last, doc) && holds(b, s, pos, last, doc),
        Pred::Or(a, b) => holds(a, s, pos, last, doc) || holds(b, s, pos, last, doc),
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('"', "&quot;")
}

/// An element's text as written, its lines moved left by its own column.
fn element_text(xml: &str, n: Node) -> String {
    let r = n.range();
    let column = xml[..r.start].rsplit('\n').next().map_or(0, str::len);
    let body = &xml[r];
    body.lines()
        .enumerate()
        .map(|(i, l)| {
            if i == 0 {
                l
            } else {
                l.get(column..)
                    .filter(|_| l[..column].trim().is_empty())
                    .unwrap_or(l)
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// What `expr` selects in `xml`, as virsh prints it: each node on its
/// own line(s) (an attribute as ` name="value"`), or with `wrap` all in
/// one `<nodes>` element.
pub fn select(xml: &str, expr: &str, wrap: bool) -> Result<String> {
    let doc = Document::parse(xml).map_err(|e| bad(format!("the document: {e}")))?;
    let mut p = Parser {
        t: lex(expr)?,
        i: 0,
    };
    let path = p.path()?;
    if p.i != p.t.len() {
        return Err(bad(format!(
            "'{expr}' has more after the path than this reader takes"
        )));
    }
    let found = eval(&path, Sel::Node(doc.root()), &doc);
    let shown: Vec<String> = found
        .iter()
        .map(|s| match s {
            Sel::Attr(n, i) => {
                let a = n.attributes().nth(*i).expect("an attribute of its node");
                format!(" {}=\"{}\"", a.name(), escape(a.value()))
            }
            Sel::Node(n) if n.is_element() => element_text(xml, *n),
            Sel::Node(n) if n.is_root() => xml.trim_end().to_string(),
            Sel::Node(n) => n.text().unwrap_or("").to_string(),
        })
        .collect();
    if wrap {
        if shown.is_empty() {
            return Ok("<nodes/>\n".to_string());
        }
        let inner: String = shown.iter().map(|s| format!("{s}\n")).collect();
        return Ok(format!("<nodes>\n{inner}</nodes>\n"));
    }
    Ok(shown.iter().map(|s| format!("{s}\n")).collect())
}

#[cfg(test)]
mod tests {
    use super::select;

    const XML: &str = "<domain type='qemu'>\n  <name>vm</name>\n  <devices>\n    <disk type='file' device='disk'>\n      <source file='/a.img'/>\n      <target dev='vda' bus='virtio'/>\n    </disk>\n    <disk type='file' device='cdrom'>\n      <source file='/b.iso'/>\n      <target dev='hdc' bus='ide'/>\n    </disk>\n    <graphics type='vnc' port='5900'/>\n  </devices>\n</domain>\n";

    #[test]
    fn paths_predicates_and_output() {
        assert_eq!(
            select(XML, "//disk/source/@file", false).unwrap(),
            " file=\"/a.img\"\n file=\"/b.iso\"\n"
        );
        assert_eq!(
            select(XML, "/domain/name", false).unwrap(),
            "<name>vm</name>\n"
        );
        assert_eq!(select(XML, "/domain/name/text()", false).unwrap(), "vm\n");
        assert_eq!(
            select(XML, "//disk[@device='cdrom']/target/@dev", false).unwrap(),
            " dev=\"hdc\"\n"
        );
        assert_eq!(
            select(XML, "//disk[2]/source/@file", false).unwrap(),
            " file=\"/b.iso\"\n"
        );
        assert_eq!(
            select(XML, "//disk[last()]/target/@bus", false).unwrap(),
            " bus=\"ide\"\n"
        );
        assert_eq!(
            select(
                XML,
                "//disk[target/@bus='virtio' and @type='file']/source/@file",
                false
            )
            .unwrap(),
            " file=\"/a.img\"\n"
        );
        assert_eq!(
            select(XML, "//disk[1]", false).unwrap(),
            "<disk type='file' device='disk'>\n  <source file='/a.img'/>\n  <target dev='vda' bus='virtio'/>\n</disk>\n"
        );
        assert_eq!(select(XML, "//nothing", false).unwrap(), "");
        assert_eq!(select(XML, "//nothing", true).unwrap(), "<nodes/>\n");
        assert_eq!(
            select(XML, "//graphics/@port", true).unwrap(),
            "<nodes>\n port=\"5900\"\n</nodes>\n"
        );
        assert_eq!(
            select(XML, "//target/../@device", false).unwrap(),
            " device=\"disk\"\n device=\"cdrom\"\n"
        );
    }

    #[test]
    fn what_is_not_offered_is_named() {
        for (expr, word) in [
            ("count(//disk)", "count()"),
            ("//disk[", "ends where a step"),
            ("//disk[1", "']' is missing"),
            ("child::disk", "axis"),
            ("//disk + 1", "'+'"),
        ] {
            let e = select(XML, expr, false).unwrap_err();
            assert!(e.message.contains(word), "{expr}: {e}");
        }
    }
}
