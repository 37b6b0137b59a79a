//! What may differ between two runs without anything having changed: CoAP message IDs and tokens,
//! the platform's port (new for every case), its loopback address, and the values a case filled
//! into its commands (`${platform.port}`, `${mid}`). [`Volatile::normalize`] names them, so the
//! transcript alignment marks only real differences. Timestamps are never part of a line's text.

use miplcheck_record::{CaseRecord, Class, Dir, Line, LineKind};
use regex::Regex;
use std::sync::OnceLock;

/// The values one case filled into its templates, learned from its own transcript.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Volatile {
    /// `(value, name)`, longest value first so a port inside a longer value is not cut in half.
    values: Vec<(String, String)>,
}

fn wire_ids() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"\b(mid|token)=[^\s,;]+").expect("static regex"))
}

fn loopback() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    // The platform's DTLS port sits on a loopback address of its own for every case.
    RE.get_or_init(|| Regex::new(r"\b127\.\d{1,3}\.\d{1,3}\.\d{1,3}\b").expect("static regex"))
}

fn loopback_port() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    // A port the case never named (inside a cis_cgtool configuration stream, say) shows up again
    // in what the modem prints; ephemeral ports are five digits, CoAP's 5683/5684 are kept.
    RE.get_or_init(|| {
        Regex::new(r"(\{platform\.host\}|\b127\.\d{1,3}\.\d{1,3}\.\d{1,3})([:,])\d{5}\b").expect("static regex")
    })
}

fn variable() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"\$\{([A-Za-z0-9_.\-]+)\}").expect("static regex"))
}

impl Volatile {
    /// Reads each send step's template (`send AT+MIPLCONFIG=1,${platform.host},${platform.port}`)
    /// against the line that went out, to learn what each `${…}` was in this case.
    pub fn learn(case: &CaseRecord) -> Self {
        let mut values: Vec<(String, String)> = Vec::new();
        let mut template: Option<String> = None;
        for line in &case.transcript {
            if line.kind == LineKind::Step {
                template =
                    line.text.split_once(": send ").map(|(_, t)| t.to_string()).filter(|t| variable().is_match(t));
                continue;
            }
            if line.dir != Some(Dir::TeToUe) {
                continue;
            }
            let Some(t) = template.take() else { continue };
            for (name, value) in bind(&t, &display(&line.text)) {
                if worth_naming(&value) && !values.iter().any(|(v, _)| *v == value) {
                    values.push((value, name));
                }
            }
        }
        values.sort_by(|x, y| y.0.len().cmp(&x.0.len()).then_with(|| x.0.cmp(&y.0)));
        Volatile { values }
    }

    /// The line's text with volatile values named: `mid=…`, `{platform.port}`, `{loopback}`.
    pub fn normalize(&self, text: &str) -> String {
        // The substrings each pattern needs, looked for first: most lines have none of them, and
        // a diff of big records normalises every line.
        let mut s = if text.contains("mid=") || text.contains("token=") {
            wire_ids().replace_all(text, "$1=…").into_owned()
        } else {
            text.to_string()
        };
        for (value, name) in &self.values {
            if s.contains(value.as_str()) {
                s = replace_word(&s, value, &format!("{{{name}}}"));
            }
        }
        if !s.contains("127.") && !s.contains("{platform.host}") {
            return s;
        }
        let s = loopback_port().replace_all(&s, "$1$2{port}");
        loopback().replace_all(&s, "{loopback}").into_owned()
    }
}

/// Short values (`0`, `1`) would name half the transcript; only values that look like IDs,
/// ports, addresses or blobs are worth it.
fn worth_naming(v: &str) -> bool {
    v.chars().count() >= 3
}

/// Matches a template against the line it became and returns each variable's value.
///
/// Each `${…}` matches as little as it can, the literal text between them exactly, the whole line
/// from end to end (as the anchored lazy pattern `^lit(.*?)lit(.*?)lit$` would). By hand rather
/// than with a regex: a template is seen once per send step, and compiling a regex for each one
/// was most of a big diff's time.
fn bind(template: &str, line: &str) -> Vec<(String, String)> {
    let mut literals: Vec<&str> = Vec::new();
    let mut names: Vec<&str> = Vec::new();
    let mut last = 0;
    for c in variable().captures_iter(template) {
        let (Some(whole), Some(name)) = (c.get(0), c.get(1)) else { continue };
        literals.push(&template[last..whole.start()]);
        names.push(name.as_str());
        last = whole.end();
    }
    literals.push(&template[last..]);
    let Some(rest) = line.strip_prefix(literals[0]) else { return Vec::new() };
    let mut values: Vec<&str> = Vec::with_capacity(names.len());
    if !fill(rest, &literals[1..], &mut values) {
        return Vec::new();
    }
    names.into_iter().zip(values).filter(|(_, v)| !v.is_empty()).map(|(n, v)| (n.to_string(), v.to_string())).collect()
}

/// Binds one value before each of `after` (the literal that follows each variable) so that the
/// last literal ends `line`; shortest values first, backtracking as a lazy regex does.
fn fill<'a>(line: &'a str, after: &[&str], values: &mut Vec<&'a str>) -> bool {
    let Some((lit, more)) = after.split_first() else { return line.is_empty() };
    if more.is_empty() {
        // The last variable takes what is left before the final literal.
        return match line.strip_suffix(lit) {
            Some(v) => {
                values.push(v);
                true
            }
            None => false,
        };
    }
    let mut from = 0;
    while let Some(i) = line.get(from..).and_then(|tail| tail.find(lit)).map(|i| from + i) {
        values.push(&line[..i]);
        if fill(&line[i + lit.len()..], more, values) {
            return true;
        }
        values.pop();
        // Next place the literal starts (an empty literal fits at every character).
        from = i + line[i..].chars().next().map_or(1, char::len_utf8);
        if from > line.len() {
            break;
        }
    }
    false
}

/// Replaces `value` where it stands on its own (not inside a longer number or word).
fn replace_word(s: &str, value: &str, with: &str) -> String {
    let word = |c: char| c.is_ascii_alphanumeric();
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find(value) {
        let before = rest[..i].chars().next_back();
        let after = rest[i + value.len()..].chars().next();
        let alone_before = !(before.is_some_and(word) && value.starts_with(word));
        let alone_after = !(after.is_some_and(word) && value.ends_with(word));
        out.push_str(&rest[..i]);
        out.push_str(if alone_before && alone_after { with } else { value });
        rest = &rest[i + value.len()..];
    }
    out.push_str(rest);
    out
}

/// A transcript line as people read it: the `\r`/`\n` escapes around the frame dropped.
pub fn display(text: &str) -> String {
    let mut s = text.trim();
    loop {
        let before = s.len();
        for esc in ["\\r", "\\n"] {
            s = s.strip_prefix(esc).unwrap_or(s);
            s = s.strip_suffix(esc).unwrap_or(s);
        }
        s = s.trim();
        if s.len() == before {
            break;
        }
    }
    s.to_string()
}

/// A line's key for equality: direction, class and normalised text; never the time.
pub fn key(v: &Volatile, line: &Line) -> String {
    format!(
        "{:?}|{}|{}|{}",
        line.kind,
        line.dir.map(Dir::arrow).unwrap_or(""),
        line.class.map(Class::name).unwrap_or(""),
        v.normalize(&display(&line.text))
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{case, entry, step};
    use miplcheck_record::{Class, Dir, Verdict};

    #[test]
    fn template_values_are_learned_and_named() {
        let c = case(
            "register",
            "open",
            Verdict::Passed,
            vec![
                step("setup 1: send AT+MIPLCONFIG=1,${platform.host},${platform.port}"),
                entry(Dir::TeToUe, None, "AT+MIPLCONFIG=1,127.0.0.1,52761\\r"),
                entry(
                    Dir::UeToPf,
                    Some(Class::Coap),
                    "CON POST /bs?ep=x mid=37708 token=F34E77CD uri=coap://127.0.0.1:52761",
                ),
            ],
            vec![],
        );
        let v = Volatile::learn(&c);
        assert_eq!(v.normalize("AT+MIPLCONFIG=1,127.0.0.1,52761"), "AT+MIPLCONFIG=1,{platform.host},{platform.port}");
        assert_eq!(
            v.normalize("CON POST /bs mid=37708 token=F34E77CD uri=coap://127.0.0.1:52761"),
            "CON POST /bs mid=… token=… uri=coap://{platform.host}:{platform.port}"
        );
        // A real port difference is not hidden: 5684 is not the learned value.
        assert_eq!(v.normalize("coap://127.0.0.1:5684"), "coap://{platform.host}:5684");
        // Inside a longer number the value stays.
        assert_eq!(v.normalize("id 527610"), "id 527610");
        // A port the templates never named, printed back by the modem.
        assert_eq!(
            Volatile::default().normalize("+MIPLDEVINFO:\"127.0.0.1:60346\",0"),
            "+MIPLDEVINFO:\"{loopback}:{port}\",0"
        );
        assert_eq!(Volatile::default().normalize("127.0.0.7:5684"), "{loopback}:5684");
    }

    #[test]
    fn frames_lose_their_terminators_for_display() {
        assert_eq!(display("\\r\\n+MIPLEVENT:0,6\\r\\n"), "+MIPLEVENT:0,6");
        assert_eq!(display("AT+CGMR\\r\\r\\n"), "AT+CGMR");
        assert_eq!(display("\\r\\n"), "");
    }

    #[test]
    fn a_template_that_does_not_fit_learns_nothing() {
        assert!(bind("AT+X=${a},1", "AT+Y=2,1").is_empty());
        assert_eq!(bind("AT+X=${a},1", "AT+X=2,1"), vec![("a".to_string(), "2".to_string())]);
        assert!(bind("AT+X=${a},1", "AT+X=2,1,3").is_empty(), "the whole line, to its end");
    }

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    }

    #[test]
    fn values_are_as_short_as_the_line_allows() {
        // As the anchored lazy regex `^AT\+C=(.*?),(.*?)$` binds them.
        assert_eq!(bind("AT+C=${a},${b}", "AT+C=1,2,3"), pairs(&[("a", "1"), ("b", "2,3")]));
        assert_eq!(
            bind("AT+MIPLCONFIG=1,${platform.host},${platform.port}", "AT+MIPLCONFIG=1,127.0.0.1,52761"),
            pairs(&[("platform.host", "127.0.0.1"), ("platform.port", "52761")])
        );
        // A first value that fits only when the later literal is found further on.
        assert_eq!(bind("X${a}-${b}-end", "Xp-q-r-end"), pairs(&[("a", "p"), ("b", "q-r")]));
        assert_eq!(bind("X${a}-${b}-e", "Xp-q-e-e"), pairs(&[("a", "p"), ("b", "q-e")]));
        // Two variables side by side: the first takes nothing, which is not worth naming.
        assert_eq!(bind("${a}${b}!", "ab!"), pairs(&[("b", "ab")]));
        assert_eq!(bind("注${a}销", "注销值销"), pairs(&[("a", "销值")]));
        assert!(bind("a${x}b", "ab").is_empty(), "an empty value binds but is left out");
        assert!(bind("AT+N=${a}", "AT+X=1").is_empty());
        assert_eq!(bind("AT", "AT"), vec![]);
    }
}
