//! Splitting AT command lines and response lines into a name and arguments, tolerant of the
//! spacing variants real modules print (`+MIPLEVENT:0,6`, `+MIPLEVENT: 0,6`, `+MIPLEVENT: 0, 6`).

use std::fmt;

/// The four forms of an extended command (BC39 §3.1, table 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Form {
    /// `AT+X=?`
    Test,
    /// `AT+X?`
    Query,
    /// `AT+X=<...>`
    Set,
    /// `AT+X`
    Exec,
}

impl fmt::Display for Form {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Form::Test => "test",
            Form::Query => "query",
            Form::Set => "set",
            Form::Exec => "execute",
        })
    }
}

/// One argument as written on the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arg {
    /// The argument without surrounding blanks, quotes included.
    pub raw: String,
    pub quoted: bool,
}

impl Arg {
    /// The value: quotes removed for a quoted string.
    pub fn value(&self) -> &str {
        if self.quoted {
            &self.raw[1..self.raw.len() - 1]
        } else {
            &self.raw
        }
    }

    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// Integer in decimal or, with a `0x` prefix, hexadecimal (the manuals' `<raiMode>`).
    pub fn int(&self) -> Option<i64> {
        if self.quoted {
            return None;
        }
        let v = self.raw.as_str();
        let (neg, digits) = match v.strip_prefix('-') {
            Some(d) => (true, d),
            None => (false, v),
        };
        let n = if let Some(h) = digits.strip_prefix("0x").or_else(|| digits.strip_prefix("0X")) {
            if h.is_empty() || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
                return None;
            }
            i64::from_str_radix(h, 16).ok()?
        } else {
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            digits.parse::<i64>().ok()?
        };
        Some(if neg { -n } else { n })
    }
}

/// Splits `a, "b,c" ,d` into `a`, `"b,c"`, `d`. An unterminated quote runs to the end of the line.
pub fn split_args(s: &str) -> Vec<Arg> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_quotes = false;
    for c in s.chars() {
        match c {
            '"' => {
                in_quotes = !in_quotes;
                cur.push(c);
            }
            ',' if !in_quotes => {
                out.push(make_arg(&cur));
                cur.clear();
            }
            _ => cur.push(c),
        }
    }
    out.push(make_arg(&cur));
    out
}

fn make_arg(s: &str) -> Arg {
    let raw = s.trim_matches(|c: char| c == ' ' || c == '\t').to_string();
    let quoted = raw.len() >= 2 && raw.starts_with('"') && raw.ends_with('"');
    Arg { raw, quoted }
}

/// A command line as the TE sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// `+MIPLCONFIG`, `E0`, `` (plain `AT`), `&F`… in upper case.
    pub name: String,
    pub form: Form,
    /// Arguments of the set form; empty otherwise.
    pub args: Vec<Arg>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyntaxError {
    #[error("a command line starts with AT, got {0:?}")]
    NoAtPrefix(String),
}

impl Command {
    /// Parses one command line (without its `\r`).
    pub fn parse(line: &str) -> Result<Self, SyntaxError> {
        let line = line.trim_end_matches(['\r', '\n']).trim();
        let rest = match line.get(..2) {
            Some(p) if p.eq_ignore_ascii_case("AT") => &line[2..],
            _ => return Err(SyntaxError::NoAtPrefix(line.to_string())),
        };
        if !rest.starts_with('+') && !rest.starts_with('$') && !rest.starts_with('^') {
            // Basic commands: `AT`, `ATE0`, `ATI`, `AT&F`.
            return Ok(Command { name: rest.to_ascii_uppercase(), form: Form::Exec, args: vec![] });
        }
        let end = rest.find(['=', '?']).unwrap_or(rest.len());
        let name = rest[..end].trim().to_ascii_uppercase();
        let tail = &rest[end..];
        let (form, args) = if tail.is_empty() {
            (Form::Exec, vec![])
        } else if tail == "?" {
            (Form::Query, vec![])
        } else if tail.trim_start_matches('=').trim() == "?" && tail.starts_with('=') {
            (Form::Test, vec![])
        } else if let Some(a) = tail.strip_prefix('=') {
            (Form::Set, split_args(a))
        } else {
            // `AT+X?junk`: keep it as a set form with the junk as one argument so the handler can
            // refuse it with its own error.
            (Form::Set, vec![make_arg(tail)])
        };
        Ok(Command { name, form, args })
    }

    /// The command line as a TE sends it, without the line ending: `AT+MIPLOPEN=0,600,60`.
    pub fn format(&self) -> String {
        match self.form {
            Form::Test => format!("AT{}=?", self.name),
            Form::Query => format!("AT{}?", self.name),
            Form::Exec => format!("AT{}", self.name),
            Form::Set => {
                let args: Vec<&str> = self.args.iter().map(|a| a.raw.as_str()).collect();
                format!("AT{}={}", self.name, args.join(","))
            }
        }
    }

    /// A set command from a name and argument texts (quote strings yourself: `"\"11\""`).
    pub fn set(name: &str, args: &[&str]) -> Self {
        Command { name: name.to_ascii_uppercase(), form: Form::Set, args: args.iter().map(|a| make_arg(a)).collect() }
    }

    /// The prefix an information response to this command carries (`+MIPLCONFIG`).
    pub fn response_prefix(&self) -> Option<&str> {
        self.name.starts_with('+').then_some(self.name.as_str())
    }
}

/// A `+NAME: args` line: an information response or a URC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// `+MIPLEVENT`.
    pub name: String,
    /// `:` per the manuals; `=` is printed by some firmware (M5310-A §4.3 shows `+MIPLNSMI=0,1,0`).
    pub separator: char,
    pub args: Vec<Arg>,
}

/// The `<evtid>` of a `+MIPLEVENT: <ref>,<evtid>…` line (either separator, any spacing): the
/// one field every report, explanation and tolerance needs from an event line.
pub fn event_code(line: &str) -> Option<u16> {
    let r = Response::parse(line.trim())?;
    if !r.name.eq_ignore_ascii_case("+MIPLEVENT") {
        return None;
    }
    u16::try_from(r.args.get(1)?.int()?).ok()
}

impl Response {
    /// The line in the given spacing: `+MIPLEVENT: 0,6`.
    pub fn format(&self, spacing: Spacing) -> String {
        let args: Vec<String> = self.args.iter().map(|a| a.raw.clone()).collect();
        if self.separator == ':' {
            spacing.format(&self.name, &args)
        } else {
            format!("{}{}{}", self.name, self.separator, args.join(if spacing.after_comma { ", " } else { "," }))
        }
    }

    pub fn parse(line: &str) -> Option<Self> {
        let line = line.trim_end_matches(['\r', '\n']);
        if !line.starts_with('+') {
            return None;
        }
        let end = line.find([':', '='])?;
        let name = &line[..end];
        if name.len() < 2 || !name[1..].bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return None;
        }
        let separator = line[end..].chars().next()?;
        let rest = &line[end + 1..];
        let args = if rest.trim().is_empty() { vec![] } else { split_args(rest) };
        Some(Response { name: name.to_string(), separator, args })
    }
}

/// The prefix of a `+NAME:` line, if it has one.
pub fn line_prefix(line: &str) -> Option<&str> {
    if !line.starts_with('+') {
        return None;
    }
    let end = line.find([':', '=']).unwrap_or(line.len());
    Some(line[..end].trim_end())
}

/// How a module spaces its output: after the `:` and after each `,`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Spacing {
    pub after_colon: bool,
    pub after_comma: bool,
}

impl Spacing {
    pub const MANUAL: Spacing = Spacing { after_colon: true, after_comma: false };
    pub const TIGHT: Spacing = Spacing { after_colon: false, after_comma: false };

    /// Formats `+NAME: a,b,c` in this spacing.
    pub fn format(&self, name: &str, args: &[String]) -> String {
        let sep = if self.after_comma { ", " } else { "," };
        let colon = if self.after_colon { ": " } else { ":" };
        if args.is_empty() {
            return format!("{name}{}", colon.trim_end());
        }
        format!("{name}{colon}{}", args.join(sep))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("AT", "", Form::Exec, 0)]
    #[case("ate0", "E0", Form::Exec, 0)]
    #[case("AT+MIPLCONFIG=?", "+MIPLCONFIG", Form::Test, 0)]
    #[case("AT+MIPLCONFIG?", "+MIPLCONFIG", Form::Query, 0)]
    #[case("AT+MIPLCREATE", "+MIPLCREATE", Form::Exec, 0)]
    #[case("AT+MIPLCONFIG=1,183.230.40.39,5683", "+MIPLCONFIG", Form::Set, 3)]
    #[case("at+miplconfig=4,1,\"a,b\"", "+MIPLCONFIG", Form::Set, 3)]
    #[case("AT+CGSN=1", "+CGSN", Form::Set, 1)]
    fn parses_commands(#[case] line: &str, #[case] name: &str, #[case] form: Form, #[case] n: usize) {
        let c = Command::parse(line).unwrap();
        assert_eq!((c.name.as_str(), c.form, c.args.len()), (name, form, n));
    }

    #[test]
    fn quoted_commas_stay_in_one_argument() {
        let a = split_args(r#"0,16653,1,24,"5700;5701,5601" ,0x400"#);
        assert_eq!(a.len(), 6);
        assert_eq!(a[4].value(), "5700;5701,5601");
        assert!(a[4].quoted);
        assert_eq!(a[5].int(), Some(0x400));
    }

    #[rstest]
    #[case("+MIPLEVENT:0,6")]
    #[case("+MIPLEVENT: 0,6")]
    #[case("+MIPLEVENT: 0, 6")]
    #[case("+MIPLEVENT:  0 ,6")]
    fn spacing_variants_parse_alike(#[case] line: &str) {
        let r = Response::parse(line).unwrap();
        assert_eq!(r.name, "+MIPLEVENT");
        let vals: Vec<i64> = r.args.iter().map(|a| a.int().unwrap()).collect();
        assert_eq!(vals, [0, 6]);
    }

    #[test]
    fn equals_separator_is_read_too() {
        let r = Response::parse("+MIPLNSMI=0,1,125").unwrap();
        assert_eq!((r.name.as_str(), r.separator, r.args.len()), ("+MIPLNSMI", '=', 3));
    }

    #[rstest]
    #[case("-1", Some(-1))]
    #[case("0x200", Some(512))]
    #[case("1.88", None)]
    #[case("\"12\"", None)]
    #[case("", None)]
    #[case("0x", None)]
    #[case("99999999999999999999999", None)]
    fn integers(#[case] raw: &str, #[case] want: Option<i64>) {
        assert_eq!(split_args(raw)[0].int(), want);
    }

    #[test]
    fn formats_with_spacing() {
        let args = vec!["0".to_string(), "6".to_string()];
        assert_eq!(Spacing::MANUAL.format("+MIPLEVENT", &args), "+MIPLEVENT: 0,6");
        assert_eq!(Spacing::TIGHT.format("+MIPLEVENT", &args), "+MIPLEVENT:0,6");
        let loose = Spacing { after_colon: true, after_comma: true };
        assert_eq!(loose.format("+MIPLEVENT", &args), "+MIPLEVENT: 0, 6");
    }

    #[test]
    fn rejects_lines_without_at() {
        assert!(Command::parse("+MIPLEVENT: 0,6").is_err());
        assert!(Command::parse("").is_err());
    }
}
