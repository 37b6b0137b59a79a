//! One transcript line as the record keeps it: a step header, a note, or an entry that crossed a
//! wire (its direction, its class and its bytes made printable), and the one way such a line is
//! shown as text, which transcript files, `-v` output and JUnit's system-out all use.

use serde::{Deserialize, Serialize};
use std::fmt::{self, Write as _};

/// Which way an entry went. The four arrows are the record's spelling (`"TE→UE"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Dir {
    /// The harness (as MCU) to the modem.
    #[serde(rename = "TE→UE")]
    TeToUe,
    /// The modem to the harness.
    #[serde(rename = "UE→TE")]
    UeToTe,
    /// The mock platform to the modem (CoAP).
    #[serde(rename = "PF→UE")]
    PfToUe,
    /// The modem to the mock platform (CoAP).
    #[serde(rename = "UE→PF")]
    UeToPf,
}

impl Dir {
    /// All four, AT side first.
    pub const ALL: [Dir; 4] = [Dir::TeToUe, Dir::UeToTe, Dir::PfToUe, Dir::UeToPf];

    /// `TE→UE`.
    pub fn arrow(self) -> &'static str {
        match self {
            Dir::TeToUe => "TE→UE",
            Dir::UeToTe => "UE→TE",
            Dir::PfToUe => "PF→UE",
            Dir::UeToPf => "UE→PF",
        }
    }

    /// The network side, recorded by the platform on its own thread.
    pub fn is_wire(self) -> bool {
        matches!(self, Dir::PfToUe | Dir::UeToPf)
    }
}

impl fmt::Display for Dir {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.arrow())
    }
}

/// What kind of frame an entry from the modem (or a datagram) is; what the TE sent has none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Class {
    /// The modem echoing the command.
    Echo,
    /// An information line answering the command.
    Info,
    /// The final result code (`OK`, `ERROR`, `+CME ERROR: …`).
    Final,
    /// An unsolicited result code.
    Urc,
    /// The `> ` prompt for data.
    Prompt,
    /// An overlong line cut into pieces.
    Fragment,
    /// A line that completed before the command was written: never its answer.
    Stale,
    /// A CoAP datagram, decoded.
    Coap,
}

impl Class {
    /// Every class, in the order above.
    pub const ALL: [Class; 8] =
        [Class::Echo, Class::Info, Class::Final, Class::Urc, Class::Prompt, Class::Fragment, Class::Stale, Class::Coap];

    /// `urc`: the record's spelling.
    pub fn name(self) -> &'static str {
        match self {
            Class::Echo => "echo",
            Class::Info => "info",
            Class::Final => "final",
            Class::Urc => "urc",
            Class::Prompt => "prompt",
            Class::Fragment => "fragment",
            Class::Stale => "stale",
            Class::Coap => "coap",
        }
    }

    /// The class a name spells, if any.
    pub fn from_name(name: &str) -> Option<Class> {
        Class::ALL.into_iter().find(|c| c.name() == name)
    }
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A step header, an entry, or a note.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LineKind {
    /// `step 3: send AT+MIPLOPEN=0,600,60`.
    Step,
    /// Bytes that crossed a wire.
    Entry,
    /// Something the harness says about the run (a timeout, a link that closed).
    Note,
}

/// A value a step captured inside an entry (`{mid}`, `{ref}`), by its name and as shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineMark {
    /// The capture's name, as the suite spells it.
    pub name: String,
    /// The value, escaped as the line's text is.
    pub text: String,
}

/// One transcript line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Line {
    /// Step header, entry or note.
    pub kind: LineKind,
    /// Milliseconds since the case's first entry; none for a step header.
    pub at_ms: Option<f64>,
    /// Which way an entry went; none for headers and notes.
    pub dir: Option<Dir>,
    /// The entry's class; none for what the TE sent, headers and notes.
    pub class: Option<Class>,
    /// An entry's bytes made printable by [`escape`]; a header's `label: what`; a note's words.
    pub text: String,
    /// Captured values inside an entry.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub marks: Vec<LineMark>,
}

impl Line {
    /// A step header: `step 3: send AT+MIPLOPEN=0,600,60`.
    pub fn step(label: &str, what: &str) -> Line {
        Line {
            kind: LineKind::Step,
            at_ms: None,
            dir: None,
            class: None,
            text: format!("{label}: {what}"),
            marks: vec![],
        }
    }

    /// An entry at `at_ms`.
    pub fn entry(at_ms: f64, dir: Dir, class: Option<Class>, text: impl Into<String>) -> Line {
        Line { kind: LineKind::Entry, at_ms: Some(at_ms), dir: Some(dir), class, text: text.into(), marks: vec![] }
    }

    /// A note at `at_ms`.
    pub fn note(at_ms: f64, text: impl Into<String>) -> Line {
        Line { kind: LineKind::Note, at_ms: Some(at_ms), dir: None, class: None, text: text.into(), marks: vec![] }
    }

    /// Is this bytes on the network side?
    pub fn is_wire(&self) -> bool {
        self.dir.is_some_and(Dir::is_wire)
    }
}

/// The line as a row of a timed transcript, for people:
///
/// ```text
///      0.001s TE→UE          AT+MIPLOPEN=0,600,60\r
///      0.002s UE→TE final    OK\r\n
///      0.300s ## no answer within 300 ms
/// ── step 2: urc +MIPLEVENT: 0,6
/// ```
impl fmt::Display for Line {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.at_ms.unwrap_or(0.0) / 1000.0;
        match (self.kind, self.dir) {
            (LineKind::Step, _) => write!(f, "── {}", self.text),
            (LineKind::Entry, Some(dir)) => {
                write!(f, "{secs:>10.3}s {dir} {:<8} {}", self.class.map(Class::name).unwrap_or(""), self.text)
            }
            _ => write!(f, "{secs:>10.3}s ## {}", self.text),
        }
    }
}

/// Exact bytes made printable: `\r`, `\n`, `\t`, `\\` and `\xNN` for anything else unprintable
/// or not UTF-8. The record's entries, the transcripts and the golden snapshots all spell bytes so.
pub fn escape(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\r' => out.push_str("\\r"),
                '\n' => out.push_str("\\n"),
                '\t' => out.push_str("\\t"),
                '\\' => out.push_str("\\\\"),
                c if c.is_control() => {
                    let mut buf = [0u8; 4];
                    for b in c.encode_utf8(&mut buf).bytes() {
                        let _ = write!(out, "\\x{b:02X}");
                    }
                }
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02X}");
        }
    }
    out
}

/// Text made safe for a terminal or a log: control characters (an ESC that would recolour the
/// screen, a bare `\r` that would overwrite the line) as `\r`, `\n`, `\t` or `\xNN`; everything
/// else, backslashes included, as it is, so text that already holds [`escape`]d bytes reads the
/// same. For exact bytes, use [`escape`].
pub fn printable(text: &str) -> String {
    if !text.chars().any(char::is_control) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\r' => out.push_str("\\r"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    let _ = write!(out, "\\x{b:02X}");
                }
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_text_has_no_control_characters() {
        assert_eq!(printable("ep=\x1b[31mRED\x1b[0m"), "ep=\\x1B[31mRED\\x1B[0m");
        assert_eq!(printable("got `\\x00` 注销\r\n"), "got `\\x00` 注销\\r\\n");
        assert_eq!(printable("\u{9b}2J"), "\\xC2\\x9B2J");
    }

    #[test]
    fn escapes_exact_bytes() {
        assert_eq!(escape(b"OK\r\n"), "OK\\r\\n");
        assert_eq!(escape(b"\xff\x00a\\"), "\\xFF\\x00a\\\\");
        assert_eq!(escape("注销".as_bytes()), "注销");
    }

    #[test]
    fn rows_read_as_the_timed_transcript() {
        assert_eq!(Line::step("step 1", "send AT").to_string(), "── step 1: send AT");
        assert_eq!(Line::entry(1.0, Dir::TeToUe, None, "AT\\r").to_string(), "     0.001s TE→UE          AT\\r");
        assert_eq!(
            Line::entry(2.5, Dir::UeToTe, Some(Class::Final), "OK\\r\\n").to_string(),
            "     0.003s UE→TE final    OK\\r\\n"
        );
        assert_eq!(Line::note(300.0, "no answer").to_string(), "     0.300s ## no answer");
    }

    #[test]
    fn the_record_spells_directions_and_classes_as_before() {
        let l = Line::entry(0.0, Dir::UeToPf, Some(Class::Coap), "CON POST /rd");
        let json = serde_json::to_string(&l).unwrap();
        assert_eq!(json, r#"{"kind":"entry","at_ms":0.0,"dir":"UE→PF","class":"coap","text":"CON POST /rd"}"#);
        assert_eq!(serde_json::from_str::<Line>(&json).unwrap(), l);
        for c in Class::ALL {
            assert_eq!(Class::from_name(c.name()), Some(c));
        }
    }
}
