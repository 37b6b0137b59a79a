//! The lines coverage reads: each AT or CoAP line as it crossed the wire, unescaped, with its
//! direction and class. They come from a run record's typed transcript ([`of_record`]), or from a
//! golden snapshot's body ([`parse_snapshot`]), whose rows are the direction arrow, the class
//! (none for what the TE sent) and the escaped bytes. Anything else in a snapshot (step headers,
//! its own header) is not a line and is skipped.

use miplcheck_record::{Class, Dir, LineKind};

/// One AT or CoAP line as it crossed the wire, unescaped and without its terminators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub dir: Dir,
    /// None for what the TE sent.
    pub class: Option<Class>,
    pub text: String,
}

impl Line {
    pub fn new(dir: Dir, class: Option<Class>, text: &str) -> Self {
        Line { dir, class, text: text.to_string() }
    }
}

/// Every entry of a record's transcript, in its order. An entry holding several lines (a final
/// result code folded with the blank line before it, `\r\nOK\r\n`) gives one [`Line`] per
/// non-empty line.
pub fn of_record(transcript: &[miplcheck_record::Line]) -> Vec<Line> {
    transcript
        .iter()
        .filter(|l| l.kind == LineKind::Entry)
        .filter_map(|l| Some((l.dir?, l.class, &l.text)))
        .flat_map(|(dir, class, text)| split(dir, class, text))
        .collect()
}

/// Every entry of a golden snapshot's body, in its order.
pub fn parse_snapshot(text: &str) -> Vec<Line> {
    text.lines().flat_map(parse_row).collect()
}

fn parse_row(row: &str) -> Vec<Line> {
    let Some((dir, rest)) = Dir::ALL.iter().find_map(|d| row.strip_prefix(d.arrow()).map(|rest| (*d, rest))) else {
        return vec![];
    };
    let Some(rest) = rest.strip_prefix(' ') else { return vec![] };
    let (class, body) = match rest.split_once(' ') {
        Some((word, body)) if Class::from_name(word).is_some() => (Class::from_name(word), body),
        None => (Class::from_name(rest), ""),
        _ => (None, rest),
    };
    split(dir, class, body.trim_start())
}

fn split(dir: Dir, class: Option<Class>, escaped: &str) -> Vec<Line> {
    unescape(escaped)
        .split(['\r', '\n'])
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| Line::new(dir, class, l))
        .collect()
}

/// The inverse of [`miplcheck_record::escape`]: `\r`, `\n`, `\t`, `\\`, `\xNN`. Invalid
/// UTF-8 comes back as U+FFFD, which no AT name or code contains.
fn unescape(s: &str) -> String {
    let mut bytes = Vec::with_capacity(s.len());
    let mut rest = s.as_bytes();
    while let Some((&b, tail)) = rest.split_first() {
        rest = tail;
        if b != b'\\' {
            bytes.push(b);
            continue;
        }
        let Some((&c, tail)) = rest.split_first() else {
            // A lone backslash at the end is kept as written.
            bytes.push(b'\\');
            break;
        };
        let simple = match c {
            b'r' => Some(b'\r'),
            b'n' => Some(b'\n'),
            b't' => Some(b'\t'),
            b'\\' => Some(b'\\'),
            _ => None,
        };
        if let Some(v) = simple {
            bytes.push(v);
            rest = tail;
        } else if let Some(v) = (c == b'x').then(|| hex_byte(tail)).flatten() {
            bytes.push(v);
            rest = &tail[2..];
        } else {
            bytes.push(b'\\');
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

fn hex_byte(s: &[u8]) -> Option<u8> {
    let digits = s.get(..2).filter(|d| d.iter().all(u8::is_ascii_hexdigit))?;
    let digits = std::str::from_utf8(digits).ok()?;
    u8::from_str_radix(digits, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case::sent("TE→UE        AT+CMEE=1\\r", Dir::TeToUe, None, &["AT+CMEE=1"])]
    #[case::echo("UE→TE echo   AT+CMEE=1\\r\\r\\n", Dir::UeToTe, Some(Class::Echo), &["AT+CMEE=1"])]
    #[case::folded("UE→TE final  \\r\\nOK\\r\\n", Dir::UeToTe, Some(Class::Final), &["OK"])]
    #[case::urc("UE→TE urc    \\r\\n+MIPLEVENT: 0,4\\r\\n", Dir::UeToTe, Some(Class::Urc), &["+MIPLEVENT: 0,4"])]
    #[case::wire("UE→PF coap   CON POST /rd?lt=600", Dir::UeToPf, Some(Class::Coap), &["CON POST /rd?lt=600"])]
    #[case::escapes("UE→TE info   a\\\\b\\x41\\tc\\r\\n", Dir::UeToTe, Some(Class::Info), &["a\\bA\tc"])]
    fn reads_entries(#[case] row: &str, #[case] dir: Dir, #[case] class: Option<Class>, #[case] want: &[&str]) {
        let got = parse_snapshot(row);
        let texts: Vec<&str> = got.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(texts, want);
        assert!(got.iter().all(|l| l.dir == dir && l.class == class), "{got:?}");
    }

    #[rstest]
    #[case("── step 1: send AT+MIPLOPEN=0,600,60")]
    #[case("── wire: the mock platform's datagrams, in order")]
    #[case("# config/x — BC39 §3.2.1")]
    #[case("     0.300s ## no answer from UE→TE within 300 ms")]
    #[case("source: harness/runner/src/golden.rs")]
    #[case("")]
    #[case("UE→TE")]
    #[case("garbage UE→TE urc +MIPLEVENT: 0,6")]
    #[case("\\x")]
    fn skips_what_is_not_an_entry(#[case] row: &str) {
        assert_eq!(parse_snapshot(row), vec![]);
    }

    #[test]
    fn a_records_entries_are_read_as_they_are_typed() {
        use miplcheck_record::Line as L;
        let t = [
            L::step("step 1", "send AT+MIPLOPEN=0,600,60"),
            L::entry(0.0, Dir::TeToUe, None, "AT+MIPLOPEN=0,600,60\\r"),
            L::entry(1.0, Dir::UeToTe, Some(Class::Final), "\\r\\nOK\\r\\n"),
            L::note(2.0, "UE→TE urc +MIPLEVENT: 0,6 is not an entry"),
            L::entry(3.0, Dir::UeToPf, Some(Class::Coap), "CON POST /rd"),
        ];
        let got = of_record(&t);
        assert_eq!(
            got,
            [
                Line::new(Dir::TeToUe, None, "AT+MIPLOPEN=0,600,60"),
                Line::new(Dir::UeToTe, Some(Class::Final), "OK"),
                Line::new(Dir::UeToPf, Some(Class::Coap), "CON POST /rd"),
            ]
        );
    }

    #[test]
    fn odd_escapes_do_not_panic() {
        assert_eq!(unescape("\\x4"), "\\x4");
        assert_eq!(unescape("end\\"), "end\\");
        assert_eq!(unescape("\\xFF"), "\u{FFFD}");
    }
}
