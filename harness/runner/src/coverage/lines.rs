//! Reading transcript text back into lines with a direction: golden snapshot bodies
//! ([`Transcript::normalized`](crate::transcript::Transcript::normalized)) and the timed transcripts
//! a run keeps in [`CaseResult`](crate::CaseResult) ([`Transcript::timed`](crate::transcript::Transcript::timed)).
//!
//! Both renderings put the direction arrow, then the class (none for what the TE sent), then the
//! escaped bytes; the timed one has a timestamp in front and `##` notes. Anything else (step
//! headers, snapshot headers, notes) is not a line and is skipped.

use crate::transcript::Dir;

/// One AT or CoAP line as it crossed the wire, unescaped and without its terminators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub dir: Dir,
    /// `echo`, `info`, `final`, `urc`, `coap`, …; none for what the TE sent.
    pub class: Option<String>,
    pub text: String,
}

impl Line {
    pub fn new(dir: Dir, class: Option<&str>, text: &str) -> Self {
        Line { dir, class: class.map(str::to_string), text: text.to_string() }
    }
}

const ARROWS: [Dir; 4] = [Dir::TeToUe, Dir::UeToTe, Dir::PfToUe, Dir::UeToPf];
const CLASSES: [&str; 8] = ["echo", "info", "final", "urc", "prompt", "fragment", "stale", "coap"];

/// Every entry of a transcript, in its order. An entry holding several lines (a final result code
/// folded with the blank line before it, `\r\nOK\r\n`) gives one [`Line`] per non-empty line.
pub fn parse(text: &str) -> Vec<Line> {
    text.lines().flat_map(parse_entry).collect()
}

fn parse_entry(row: &str) -> Vec<Line> {
    let entry = ARROWS.iter().find_map(|d| row.split_once(d.arrow()).map(|(before, after)| (*d, before, after)));
    let Some((dir, rest)) = entry.and_then(|(d, before, after)| is_stamp(before).then_some((d, after))) else {
        return vec![];
    };
    let rest = rest.strip_prefix(' ').unwrap_or(rest);
    let (class, body) = match rest.split_once(' ') {
        Some((word, body)) if CLASSES.contains(&word) => (Some(word), body),
        None if CLASSES.contains(&rest) => (Some(rest), ""),
        _ => (None, rest),
    };
    unescape(body.trim_start())
        .split(['\r', '\n'])
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| Line::new(dir, class, l))
        .collect()
}

/// What may stand before the arrow: nothing (snapshots) or `0.001s` (timed transcripts). This
/// keeps an arrow inside a step header or a note from being read as an entry.
fn is_stamp(before: &str) -> bool {
    let t = before.trim();
    t.is_empty()
        || t.strip_suffix('s').is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit() || b == b'.'))
}

/// The inverse of [`crate::transcript::escape`]: `\r`, `\n`, `\t`, `\\`, `\xNN`. Invalid UTF-8
/// comes back as U+FFFD, which no AT name or code contains.
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
    #[case::echo("UE→TE echo   AT+CMEE=1\\r\\r\\n", Dir::UeToTe, Some("echo"), &["AT+CMEE=1"])]
    #[case::folded("UE→TE final  \\r\\nOK\\r\\n", Dir::UeToTe, Some("final"), &["OK"])]
    #[case::urc("UE→TE urc    \\r\\n+MIPLEVENT: 0,4\\r\\n", Dir::UeToTe, Some("urc"), &["+MIPLEVENT: 0,4"])]
    #[case::timed(
        "     0.002s UE→TE urc      \\r\\n+MIPLEVENT: 0,4\\r\\n",
        Dir::UeToTe,
        Some("urc"),
        &["+MIPLEVENT: 0,4"]
    )]
    #[case::timed_sent("     0.001s TE→UE          AT+MIPLOPEN=0,600,60\\r", Dir::TeToUe, None, &["AT+MIPLOPEN=0,600,60"])]
    #[case::wire("UE→PF coap   CON POST /rd?lt=600", Dir::UeToPf, Some("coap"), &["CON POST /rd?lt=600"])]
    #[case::escapes("UE→TE info   a\\\\b\\x41\\tc\\r\\n", Dir::UeToTe, Some("info"), &["a\\bA\tc"])]
    fn reads_entries(#[case] row: &str, #[case] dir: Dir, #[case] class: Option<&str>, #[case] want: &[&str]) {
        let got = parse(row);
        let texts: Vec<&str> = got.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(texts, want);
        assert!(got.iter().all(|l| l.dir == dir && l.class.as_deref() == class), "{got:?}");
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
        assert_eq!(parse(row), vec![]);
    }

    #[test]
    fn odd_escapes_do_not_panic() {
        assert_eq!(unescape("\\x4"), "\\x4");
        assert_eq!(unescape("end\\"), "end\\");
        assert_eq!(unescape("\\xFF"), "\u{FFFD}");
    }
}
