//! Expected-line patterns and send templates.
//!
//! A pattern is the line as the manual prints it, with holes: `+MIPLCREATE:{ref}` captures a field
//! as `ref`; `{imei:\d{15}}` captures with a regular expression; `{_}` matches a field and keeps
//! nothing; `{*}` matches anything, commas included. Blanks after `:` and `,` are optional, so `+MIPLEVENT: 0,6` matches `+MIPLEVENT:0,6`
//! and `+MIPLEVENT: 0, 6` alike (the exact bytes stay in the transcript and its snapshot).
//! A send template reuses captures as `${ref}` and the rig's secrets as `${secret.psk}`.

use regex::Regex;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::ops::Range;

/// The default hole: one AT field, quoted (commas allowed inside) or not.
const FIELD: &str = r#""[^"]*"|[^,"]*"#;

#[derive(Debug, Clone)]
pub struct Pattern {
    source: String,
    matcher: Matcher,
    /// Capture names in order of appearance.
    names: Vec<String>,
    /// The regex group of each name (`secret.psk` cannot be a group name).
    groups: Vec<String>,
    /// `${name}` references, resolved by [`Pattern::bind`].
    refs: Vec<String>,
}

/// How a pattern is matched. Most patterns of a suite have no hole (every send step's `OK`), and
/// compiling a regex for each took most of a suite's load time (issue 14): those are compared as
/// text, and the rest compiled once per distinct expression.
#[derive(Debug, Clone)]
enum Matcher {
    /// No hole: the pattern's pieces, the line having optional blanks between them (after each
    /// `:` and `,`), as the regex `^piece[ \t]*piece…$` would match.
    Literal(Vec<String>),
    Regex(Regex),
}

impl Matcher {
    /// Matches `line` (trimmed) against the pieces.
    fn literal(pieces: &[String], line: &str) -> bool {
        let mut rest = line;
        for (i, piece) in pieces.iter().enumerate() {
            if i > 0 {
                rest = rest.trim_start_matches([' ', '\t']);
            }
            match rest.strip_prefix(piece.as_str()) {
                Some(r) => rest = r,
                None => return false,
            }
        }
        rest.is_empty()
    }
}

/// Distinct expressions compiled so far: suites repeat the same lines (and the same holes) in
/// many steps, and a compiled [`Regex`] is cheap to clone. Only expressions written in suites
/// and rigs go in (not those [`Pattern::bind`] makes from values met at run time), and at most
/// [`REGEX_CACHE_MAX`] of them, so a long run cannot grow it.
fn compiled(expr: &str) -> Result<Regex, regex::Error> {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static CACHE: OnceLock<Mutex<HashMap<String, Regex>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(r) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(expr) {
        return Ok(r.clone());
    }
    let r = Regex::new(expr)?;
    let mut c = cache.lock().unwrap_or_else(|e| e.into_inner());
    if c.len() < REGEX_CACHE_MAX {
        c.insert(expr.to_string(), r.clone());
    }
    Ok(r)
}

/// How many expressions [`compiled`] keeps: far more than the shipped suites hold (a few hundred).
const REGEX_CACHE_MAX: usize = 4096;

/// Why a pattern or send template is malformed, in words (a suite's input error).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PatternError(pub String);

/// Why a pattern's or template's `${name}` holes could not be filled at run time
/// ([`Pattern::bind`], [`Template::fill`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BindError {
    /// A `${` with no `}` after it.
    #[error("unclosed ${{")]
    Unclosed,
    /// A pattern refers to a name nothing has given a value yet.
    #[error("${{{0}}} has no value yet")]
    NoValue(
        /// The name inside `${…}`.
        String,
    ),
    /// A template refers to a secret the rig's `[secrets]` table does not hold.
    #[error("${{{name}}} needs `{secret}` in the rig's [secrets] table")]
    NoSecret {
        /// The name inside `${…}` (`secret.psk`).
        name: String,
        /// The secret's key (`psk`).
        secret: String,
    },
    /// A template refers to a capture no earlier step made.
    #[error("${{{0}}} was not captured by an earlier step")]
    NotCaptured(
        /// The name inside `${…}`.
        String,
    ),
    /// The pattern with its values filled in does not compile.
    #[error(transparent)]
    Pattern(#[from] PatternError),
}

/// What a match captured: name, value and byte range in the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capture {
    pub name: String,
    pub value: String,
    pub range: Range<usize>,
}

impl Pattern {
    /// A pattern that may refer to earlier captures or secrets as `${name}`; [`Pattern::bind`]
    /// fills those in before matching.
    pub fn new(source: &str) -> Result<Self, PatternError> {
        let refs = Template::new(source)?.holes()?;
        if refs.is_empty() {
            return Self::compile(source, false);
        }
        // Check the rest of the syntax now, with the references as plain fields.
        let mut probe = source.to_string();
        for r in &refs {
            probe = probe.replacen(&format!("${{{r}}}"), "{_}", 1);
        }
        let mut p = Self::compile(&probe, false)?;
        if let Some(r) = refs.iter().find(|r| p.names.contains(r)) {
            return Err(PatternError(format!("{{{r}}} and ${{{r}}} in one line: capture under another name")));
        }
        p.source = source.trim().to_string();
        p.refs = refs;
        Ok(p)
    }

    /// Names this pattern refers to with `${name}`.
    pub fn references(&self) -> &[String] {
        &self.refs
    }

    /// The pattern with every `${name}` replaced by the value, matched literally and marked under
    /// that name (so a volatile value reused later is still named in snapshots). A pattern with
    /// no `${name}` is itself: every step's `OK` is bound, and is not copied for it.
    pub fn bind(&self, vars: &BTreeMap<String, String>) -> Result<Cow<'_, Pattern>, BindError> {
        if self.refs.is_empty() {
            return Ok(Cow::Borrowed(self));
        }
        let mut src = String::new();
        let mut rest = self.source.as_str();
        let mut groups: Vec<String> = Vec::new();
        while let Some(i) = rest.find("${") {
            src.push_str(&rest[..i]);
            let close = rest[i..].find('}').ok_or(BindError::Unclosed)?;
            let name = &rest[i + 2..i + close];
            let value = vars.get(name).ok_or_else(|| BindError::NoValue(name.to_string()))?;
            // A name used twice in one line gets a group per use: `a`, then `a__2`.
            let base = name.replace('.', "__");
            let uses = groups.iter().filter(|g| g.split("__n").next() == Some(base.as_str())).count();
            let group = if uses == 0 { base.clone() } else { format!("{base}__n{}", uses + 1) };
            groups.push(group.clone());
            src.push_str(&format!("{{{group}:{}}}", regex::escape(value)));
            rest = &rest[i + close + 1..];
        }
        src.push_str(rest);
        let mut p = Self::compile(&src, true)?;
        p.source = self.source.clone();
        p.groups = p.names.clone();
        p.names = p.names.iter().map(|n| n.split("__n").next().unwrap_or(n).replace("__", ".")).collect();
        Ok(Cow::Owned(p))
    }

    fn compile(source: &str, internal: bool) -> Result<Self, PatternError> {
        let Translated { regex: re, names, pieces } = translate(source, internal)?;
        let bad = |e: regex::Error| PatternError(format!("pattern does not compile: {e}"));
        let matcher = match pieces {
            Some(p) => Matcher::Literal(p),
            // Made from values met at run time: not worth keeping.
            None if internal => Matcher::Regex(Regex::new(&re).map_err(bad)?),
            None => Matcher::Regex(compiled(&re).map_err(bad)?),
        };
        let groups = names.clone();
        Ok(Pattern { source: source.trim().to_string(), matcher, names, groups, refs: vec![] })
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    pub fn capture_names(&self) -> &[String] {
        &self.names
    }

    /// Matches a whole line (blanks at its ends ignored); `None` if it does not match.
    pub fn captures(&self, line: &str) -> Option<Vec<Capture>> {
        let start = line.len() - line.trim_start().len();
        let trimmed = line.trim();
        let regex = match &self.matcher {
            Matcher::Literal(pieces) => return Matcher::literal(pieces, trimmed).then(Vec::new),
            Matcher::Regex(r) => r,
        };
        let caps = regex.captures(trimmed)?;
        Some(
            self.names
                .iter()
                .zip(&self.groups)
                .filter_map(|(n, g)| {
                    caps.name(g).map(|m| Capture {
                        name: n.clone(),
                        value: m.as_str().to_string(),
                        range: start + m.start()..start + m.end(),
                    })
                })
                .collect(),
        )
    }

    pub fn matches(&self, line: &str) -> bool {
        self.captures(line).is_some()
    }
}

/// A pattern's regular expression, its capture names, and, when it has no hole, its text pieces.
struct Translated {
    regex: String,
    names: Vec<String>,
    pieces: Option<Vec<String>>,
}

/// Pushes `c` to the last text piece, while the pattern has no hole.
fn text(pieces: &mut Option<Vec<String>>, c: char) {
    if let Some(last) = pieces.as_mut().and_then(|p| p.last_mut()) {
        last.push(c);
    }
}

fn translate(source: &str, internal: bool) -> Result<Translated, PatternError> {
    let mut re = String::from("^");
    let mut names: Vec<String> = Vec::new();
    // The same pattern as text pieces, while it has no hole.
    let mut pieces: Option<Vec<String>> = Some(vec![String::new()]);

    let mut chars = source.trim().char_indices().peekable();
    let src = source.trim();
    while let Some((i, c)) = chars.next() {
        match c {
            '{' if chars.peek().map(|p| p.1) == Some('{') => {
                chars.next();
                re.push_str(r"\{");
                text(&mut pieces, '{');
            }
            '{' => {
                pieces = None;
                let (hole, end) = read_hole(src, i)?;
                while chars.peek().is_some_and(|(j, _)| *j < end) {
                    chars.next();
                }
                let (name, class) = match hole.split_once(':') {
                    Some((n, r)) => (n.trim(), r),
                    // `{*}`: anything, commas included (a payload, the rest of a line).
                    None if hole.trim() == "*" => ("_", ".*"),
                    None => (hole.trim(), FIELD),
                };
                // The built-in holes are known to compile.
                if class != FIELD && class != ".*" {
                    compiled(class).map_err(|e| PatternError(format!("bad expression in {{{hole}}}: {e}")))?;
                }
                if name == "_" {
                    re.push_str(&format!("(?:{class})"));
                } else {
                    if name.is_empty()
                        || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                        || (!internal && name.contains("__"))
                    {
                        return Err(PatternError(format!(
                            "capture name {name:?} must be letters, digits or _ (use {{_}} to match without capturing)"
                        )));
                    }
                    if names.iter().any(|n| n == name) {
                        return Err(PatternError(format!(
                            "capture {{{name}}} appears twice in one line; compare it in a later step with ${{{name}}}"
                        )));
                    }
                    re.push_str(&format!("(?P<{name}>{class})"));
                    names.push(name.to_string());
                }
            }
            '}' if chars.peek().map(|p| p.1) == Some('}') => {
                chars.next();
                re.push_str(r"\}");
                text(&mut pieces, '}');
            }
            '}' => return Err(PatternError("a lone } (write }} for a literal brace)".into())),
            ':' | ',' => {
                re.push_str(&regex::escape(&c.to_string()));
                re.push_str("[ \t]*");
                while chars.peek().is_some_and(|(_, p)| *p == ' ') {
                    chars.next();
                }
                text(&mut pieces, c);
                if let Some(p) = pieces.as_mut() {
                    p.push(String::new());
                }
            }
            _ => {
                re.push_str(&regex::escape(&c.to_string()));
                text(&mut pieces, c);
            }
        }
    }
    re.push('$');
    // A piece starting with a blank would need the regex's backtracking over `[ \t]*`.
    let pieces = pieces.filter(|p| !p.iter().skip(1).any(|s| s.starts_with([' ', '\t'])));
    Ok(Translated { regex: re, names, pieces })
}

fn read_hole(src: &str, open: usize) -> Result<(&str, usize), PatternError> {
    let mut depth = 0usize;
    let mut escaped = false;
    for (j, c) in src[open..].char_indices() {
        if std::mem::take(&mut escaped) {
            continue;
        }
        match c {
            '\\' => escaped = true,
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    let end = open + j + 1;
                    return Ok((&src[open + 1..open + j], end));
                }
            }
            _ => {}
        }
    }
    Err(PatternError(format!("unclosed {{ in {src:?}")))
}

/// A line to send, with `${name}` holes filled from captures and secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    source: String,
}

/// Where a value was put into a sent line, so the transcript can name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filled {
    pub text: String,
    pub marks: Vec<Capture>,
}

impl Template {
    pub fn new(source: &str) -> Result<Self, PatternError> {
        let t = Template { source: source.to_string() };
        for name in t.holes()? {
            if name.is_empty() {
                return Err(PatternError("empty ${} in a send line".into()));
            }
        }
        Ok(t)
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    /// The names the template refers to, in order.
    pub fn holes(&self) -> Result<Vec<String>, PatternError> {
        let mut out = vec![];
        let mut rest = self.source.as_str();
        while let Some(i) = rest.find("${") {
            let close =
                rest[i..].find('}').ok_or_else(|| PatternError(format!("unclosed ${{ in {:?}", self.source)))?;
            out.push(rest[i + 2..i + close].to_string());
            rest = &rest[i + close + 1..];
        }
        Ok(out)
    }

    /// The line with every `${name}` replaced by its value, and where each value went.
    pub fn fill(&self, vars: &BTreeMap<String, String>) -> Result<Filled, BindError> {
        let mut text = String::new();
        let mut marks = vec![];
        let mut rest = self.source.as_str();
        while let Some(i) = rest.find("${") {
            text.push_str(&rest[..i]);
            let close = rest[i..].find('}').ok_or(BindError::Unclosed)?;
            let name = &rest[i + 2..i + close];
            let value = vars.get(name).ok_or_else(|| match name.strip_prefix("secret.") {
                Some(s) => BindError::NoSecret { name: name.to_string(), secret: s.to_string() },
                None => BindError::NotCaptured(name.to_string()),
            })?;
            let start = text.len();
            text.push_str(value);
            marks.push(Capture { name: name.to_string(), value: value.clone(), range: start..text.len() });
            rest = &rest[i + close + 1..];
        }
        text.push_str(rest);
        Ok(Filled { text, marks })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("+MIPLEVENT: 0,6", "+MIPLEVENT:0,6", true)]
    #[case("+MIPLEVENT: 0,6", "+MIPLEVENT: 0, 6", true)]
    #[case("+MIPLEVENT: 0,6", "+MIPLEVENT: 0,61", false)]
    #[case("+MIPLEVENT: 0,6", "+MIPLEVENT: 0,6 ", true)]
    #[case("OK", "OK", true)]
    #[case("+CME ERROR: {_}", "+CME ERROR: 50", true)]
    #[case("+CME ERROR: {_}", "OK", false)]
    #[case("+MIPLCONFIG:4,1,{_}", "+MIPLCONFIG:4,1,\"a,b\"", true)]
    #[case("AT+X=1.5", "AT+X=105", false)]
    #[case("UE→PF ACK 2.05 cf=link-format {*}", "UE→PF ACK 2.05 cf=link-format </3311>,</3311/0/5850>", true)]
    fn matching(#[case] pattern: &str, #[case] line: &str, #[case] want: bool) {
        assert_eq!(Pattern::new(pattern).unwrap().matches(line), want);
    }

    #[test]
    fn captures_with_ranges() {
        let p = Pattern::new("+MIPLDISCOVER: {ref},{mid},3311").unwrap();
        let c = p.captures("+MIPLDISCOVER:0,26384,3311").unwrap();
        assert_eq!(c[1].value, "26384");
        assert_eq!(&"+MIPLDISCOVER:0,26384,3311"[c[1].range.clone()], "26384");
    }

    proptest::proptest! {
        /// A pattern without holes, matched as text, agrees with the regex it used to be.
        #[test]
        fn text_patterns_match_as_their_regex_would(
            pattern in "[A+:, \tOKé]{0,8}",
            line in "[A+:, \tOKé]{0,10}",
        ) {
            let p = Pattern::new(&pattern).unwrap();
            let t = translate(&pattern, false).unwrap();
            let regex = Regex::new(&t.regex).unwrap();
            proptest::prop_assert_eq!(p.matches(&line), regex.is_match(line.trim()), "{:?} / {:?}", pattern, line);
        }
    }

    #[test]
    fn text_patterns_need_no_regex() {
        assert!(matches!(Pattern::new("+MIPLEVENT: 0,6").unwrap().matcher, Matcher::Literal(_)));
        assert!(matches!(Pattern::new("a{{b}}").unwrap().matcher, Matcher::Literal(_)));
        assert!(matches!(Pattern::new("+X: {_}").unwrap().matcher, Matcher::Regex(_)));
        assert!(Pattern::new("a{{b}}").unwrap().matches("a{b}"));
    }

    #[test]
    fn custom_expressions() {
        let p = Pattern::new(r"{imei:\d{15}}").unwrap();
        assert!(p.matches("866971030000001"));
        assert!(!p.matches("86697103000000"));
    }

    #[rstest]
    #[case("{ref", "unclosed")]
    #[case("a}", "lone }")]
    #[case("{a},{a}", "appears twice")]
    #[case("{x:(}", "bad expression")]
    #[case("{a-b}", "capture name")]
    fn errors_say_what_to_do(#[case] p: &str, #[case] says: &str) {
        let e = Pattern::new(p).unwrap_err().0;
        assert!(e.contains(says), "{e}");
    }

    #[test]
    fn references_bind_to_earlier_values() {
        let p = Pattern::new("+MIPLCONFIG:4,1,${secret.auth_code}").unwrap();
        assert_eq!(p.references(), ["secret.auth_code"]);
        let vars = BTreeMap::from([("secret.auth_code".to_string(), "Que.ctel{1".to_string())]);
        let b = p.bind(&vars).unwrap();
        let c = b.captures("+MIPLCONFIG:4,1,Que.ctel{1").unwrap();
        assert_eq!((c[0].name.as_str(), c[0].value.as_str()), ("secret.auth_code", "Que.ctel{1"));
        assert!(!b.matches("+MIPLCONFIG:4,1,QueXctel{1"), "the value is literal");
        assert!(p.bind(&BTreeMap::new()).unwrap_err().to_string().contains("no value yet"));
        let twice = Pattern::new("+X: ${a},${a}").unwrap();
        let vars = BTreeMap::from([("a".to_string(), "7".to_string())]);
        let c = twice.bind(&vars).unwrap().captures("+X: 7,7").unwrap();
        assert_eq!(c.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["a", "a"]);
        assert!(Pattern::new("+X: ${a").is_err());
    }

    #[test]
    fn templates_fill_and_mark() {
        let t = Template::new("AT+MIPLDISCOVERRSP=0,${mid},1").unwrap();
        let vars = BTreeMap::from([("mid".to_string(), "26384".to_string())]);
        let f = t.fill(&vars).unwrap();
        assert_eq!(f.text, "AT+MIPLDISCOVERRSP=0,26384,1");
        assert_eq!(&f.text[f.marks[0].range.clone()], "26384");
        let e = Template::new("AT+X=${nope}").unwrap().fill(&vars).unwrap_err();
        assert!(e.to_string().contains("not captured"));
        let e = Template::new("AT+X=${secret.psk}").unwrap().fill(&vars).unwrap_err();
        assert!(e.to_string().contains("[secrets]"));
    }

    #[test]
    fn bind_errors_read_as_before() {
        let e = Template::new("AT+X=${secret.psk}").unwrap().fill(&BTreeMap::new()).unwrap_err();
        assert_eq!(e, BindError::NoSecret { name: "secret.psk".into(), secret: "psk".into() });
        assert_eq!(e.to_string(), "${secret.psk} needs `psk` in the rig's [secrets] table");
        let e = Pattern::new("+X: ${a}").unwrap().bind(&BTreeMap::new()).unwrap_err();
        assert_eq!(e.to_string(), "${a} has no value yet");
        assert_eq!(BindError::Unclosed.to_string(), "unclosed ${");
    }
}
