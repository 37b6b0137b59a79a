//! Two-sided transcripts: every byte that crossed a wire, when, and which way.
//!
//! Two renderings: [`Transcript::lines`], the run record's typed lines for people and every report
//! (times, exact bytes made printable, through [`Privacy`]: secrets redacted, identities masked),
//! and [`Transcript::normalized`] for golden snapshots (no times, volatile values named in order
//! of first appearance as `{mid#1}`, secrets redacted by a [`Redactor`]).

use crate::privacy::Privacy;
use miplcheck_at::Stamp;
pub use miplcheck_record::{escape, Dir};
use miplcheck_record::{Class, Line, LineMark};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::ops::Range;

/// A volatile value inside an entry: the byte range and the name it goes by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mark {
    pub range: Range<usize>,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub at: Stamp,
    pub dir: Dir,
    /// `echo`, `info`, `final`, `urc`, …; none for what the harness sent.
    pub class: Option<&'static str>,
    pub bytes: Vec<u8>,
    pub marks: Vec<Mark>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// A step starts: `setup 1`, `step 3`, `teardown 1`, and what it does.
    Step {
        label: String,
        what: String,
    },
    Entry(Entry),
    /// Something the harness says about the run (a timeout, a link that closed).
    Note {
        at: Stamp,
        text: String,
    },
    /// A call of the OneNET HTTP API or its answer (`HTTP GET /nbiot?…`, `HTTP → errno 0 succ …`):
    /// timed like a note for people, and kept in the snapshot where the AT side had got to.
    Api {
        at: Stamp,
        text: String,
    },
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Transcript {
    pub items: Vec<Item>,
}

impl Transcript {
    pub fn step(&mut self, label: impl Into<String>, what: impl Into<String>) {
        self.items.push(Item::Step { label: label.into(), what: what.into() });
    }

    /// Adds an entry; returns its index for [`Transcript::mark`].
    pub fn entry(&mut self, e: Entry) -> usize {
        self.items.push(Item::Entry(e));
        self.items.len() - 1
    }

    pub fn note(&mut self, at: Stamp, text: impl Into<String>) {
        self.items.push(Item::Note { at, text: text.into() });
    }

    pub fn api(&mut self, at: Stamp, text: impl Into<String>) {
        self.items.push(Item::Api { at, text: text.into() });
    }

    pub fn mark(&mut self, index: usize, mark: Mark) {
        if let Some(Item::Entry(e)) = self.items.get_mut(index) {
            if mark.range.end <= e.bytes.len() && !e.marks.iter().any(|m| m.range == mark.range) {
                e.marks.push(mark);
            }
        }
    }

    /// For people and every report: the run record's lines, both sides in time order within each
    /// step (the wire side is recorded on another thread), times from the first entry, bytes made
    /// printable and then passed through `privacy`.
    pub fn lines(&self, privacy: &Privacy) -> Vec<Line> {
        let stamp = |i: &Item| match i {
            Item::Entry(e) => e.at,
            Item::Note { at, .. } | Item::Api { at, .. } => *at,
            Item::Step { .. } => Stamp::ZERO,
        };
        let mut items: Vec<&Item> = Vec::with_capacity(self.items.len());
        let mut step: Vec<&Item> = Vec::new();
        for item in &self.items {
            if matches!(item, Item::Step { .. }) {
                step.sort_by_key(|i| stamp(i));
                items.append(&mut step);
                items.push(item);
            } else {
                step.push(item);
            }
        }
        step.sort_by_key(|i| stamp(i));
        items.append(&mut step);
        let t0 = items.iter().find(|i| !matches!(i, Item::Step { .. })).map(|i| stamp(i)).unwrap_or_default();
        let ms = |at: Stamp| miplcheck_record::millis(at.saturating_sub(t0));
        items
            .into_iter()
            .map(|item| match item {
                Item::Step { label, what } => Line::step(label, &privacy.text(what)),
                Item::Note { at, text } | Item::Api { at, text } => Line::note(ms(*at), privacy.text(text)),
                Item::Entry(e) => {
                    let mut line = Line::entry(
                        ms(e.at),
                        e.dir,
                        e.class.and_then(Class::from_name),
                        privacy.text(&escape(&e.bytes)),
                    );
                    line.marks = e
                        .marks
                        .iter()
                        .filter_map(|m| {
                            let value = e.bytes.get(m.range.clone())?;
                            Some(LineMark { name: m.name.clone(), text: privacy.text(&escape(value)) })
                        })
                        .collect();
                    line
                }
            })
            .collect()
    }

    /// For golden snapshots: no timestamps, marked values named by first appearance, secrets
    /// redacted, notes left out (they carry timings).
    pub fn normalized(&self, r: &Redactor) -> String {
        let mut namer = Namer::default();
        let mut out = String::new();
        // The AT side step by step, then the whole wire side in the platform's own order. How
        // the two interleave, and even under which step a datagram is recorded, depends on
        // thread scheduling, so only each side's own order is snapshotted.
        let mut items: Vec<&Item> = Vec::new();
        let mut wire: Vec<&Item> = Vec::new();
        for item in &self.items {
            match item {
                Item::Entry(e) if e.dir.is_wire() => wire.push(item),
                // Only a command's header is a fixed point in the AT stream: where a waiting
                // step starts depends on when the runner read, not on what the modem did.
                Item::Step { what, .. } if !what.starts_with("send ") => {}
                _ => items.push(item),
            }
        }
        let wire_header = Item::Step { label: "wire".into(), what: "the mock platform's datagrams, in order".into() };
        if !wire.is_empty() {
            items.push(&wire_header);
            items.append(&mut wire);
        }
        for item in items {
            match item {
                Item::Step { label, what } => step_line(&mut out, label, what, r),
                Item::Entry(e) => {
                    // A mark over part of a secret would break the secret's redaction.
                    let hidden = r.ranges(&e.bytes);
                    let mut marks: Vec<Mark> = e
                        .marks
                        .iter()
                        .filter(|m| !hidden.iter().any(|h| m.range.start < h.end && h.start < m.range.end))
                        .cloned()
                        .collect();
                    marks.sort_by_key(|m| m.range.start);
                    let mut bytes = Vec::new();
                    let mut pos = 0;
                    for m in &marks {
                        if m.range.start < pos {
                            continue;
                        }
                        bytes.extend_from_slice(&e.bytes[pos..m.range.start]);
                        let value = &e.bytes[m.range.clone()];
                        bytes.extend_from_slice(namer.name(&m.name, value).as_bytes());
                        pos = m.range.end;
                    }
                    bytes.extend_from_slice(&e.bytes[pos..]);
                    let _ =
                        writeln!(out, "{} {:<6} {}", e.dir.arrow(), e.class.unwrap_or(""), escape(&r.bytes(&bytes)));
                }
                Item::Api { text, .. } => {
                    let _ = writeln!(out, "{}", escape(&r.bytes(text.as_bytes())));
                }
                Item::Note { .. } => {}
            }
        }
        // Trailing blanks would be trimmed by snapshot storage; keep lines exact.
        out.lines().map(str::trim_end).collect::<Vec<_>>().join("\n") + "\n"
    }
}

fn step_line(out: &mut String, label: &str, what: &str, r: &Redactor) {
    let _ = writeln!(out, "── {label}: {}", r.text(what));
}

#[derive(Default)]
struct Namer {
    seen: BTreeMap<(String, Vec<u8>), usize>,
    count: BTreeMap<String, usize>,
}

impl Namer {
    fn name(&mut self, name: &str, value: &[u8]) -> String {
        let key = (name.to_string(), value.to_vec());
        let n = match self.seen.get(&key) {
            Some(n) => *n,
            None => {
                let c = self.count.entry(name.to_string()).or_default();
                *c += 1;
                self.seen.insert(key, *c);
                *c
            }
        };
        format!("{{{name}#{n}}}")
    }
}

/// Replaces every secret value with `<secret:name>` in bytes and text (and, for snapshots, each
/// identity with its name: [`Redactor::naming`]).
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    /// What stands in for each value, longest value first, so a secret that contains another is
    /// replaced whole.
    secrets: Vec<(String, Vec<u8>)>,
}

impl Redactor {
    pub fn new(secrets: &BTreeMap<String, String>) -> Self {
        let mut r = Redactor::default();
        for (k, v) in secrets.iter().filter(|(_, v)| !v.is_empty()) {
            r = r.naming(&format!("<secret:{k}>"), v);
        }
        r
    }

    /// Also replaces `value` with `stands_for` (`<imei>`): a golden snapshot names the modem's
    /// identities rather than holding them, so it is the same for every modem of a model.
    pub fn naming(mut self, stands_for: &str, value: &str) -> Self {
        if value.is_empty() {
            return self;
        }
        self.secrets.push((stands_for.to_string(), value.as_bytes().to_vec()));
        // Messages quote lines escaped (`\t`, `\x1B`); hide that spelling too.
        let escaped = escape(value.as_bytes());
        if escaped != *value {
            self.secrets.push((stands_for.to_string(), escaped.into_bytes()));
        }
        self.secrets.sort_by_key(|(_, v)| std::cmp::Reverse(v.len()));
        self
    }

    /// Every secret overwritten with `*` of the same length: for raw packets (captures), whose
    /// structure must survive.
    pub fn mask(&self, input: &[u8]) -> Vec<u8> {
        let mut out = input.to_vec();
        for r in self.ranges(input) {
            out[r].fill(b'*');
        }
        out
    }

    /// Where secrets occur in `input`.
    pub fn ranges(&self, input: &[u8]) -> Vec<Range<usize>> {
        let mut out = Vec::new();
        for (_, value) in &self.secrets {
            let mut i = 0;
            while i + value.len() <= input.len() {
                if input[i..].starts_with(value) {
                    out.push(i..i + value.len());
                    i += value.len();
                } else {
                    i += 1;
                }
            }
        }
        out
    }

    pub fn bytes(&self, input: &[u8]) -> Vec<u8> {
        let mut out = input.to_vec();
        for (stands_for, value) in &self.secrets {
            let mask = stands_for.as_bytes();
            let mut i = 0;
            let mut next = Vec::with_capacity(out.len());
            while i < out.len() {
                if out[i..].starts_with(value) {
                    next.extend_from_slice(mask);
                    i += value.len();
                } else {
                    next.push(out[i]);
                    i += 1;
                }
            }
            out = next;
        }
        out
    }

    pub fn text(&self, input: &str) -> String {
        String::from_utf8_lossy(&self.bytes(input.as_bytes())).into_owned()
    }

    /// The values and what stands in for them, for [`hide_cut_prefixes`].
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &[u8])> + '_ {
        self.secrets.iter().map(|(s, v)| (s.as_str(), v.as_slice()))
    }
}

/// A text cut short (`… (N more bytes)`, by `crate::cap`) may end in the first bytes of a value
/// that is hidden whole elsewhere; each such beginning (3 bytes or more) becomes `hidden(k)`.
pub fn hide_cut_prefixes(text: &str, values: &[(&[u8], String)]) -> String {
    const MARK: &str = "… (";
    if !text.contains(MARK) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(MARK) {
        let mut before = rest[..at].to_string();
        for (value, stand_in) in values {
            let longest = (3..value.len()).rev().find(|&k| before.as_bytes().ends_with(&value[..k]));
            if let Some(k) = longest {
                before.truncate(before.len() - k);
                before.push_str(stand_in);
                break;
            }
        }
        out.push_str(&before);
        out.push_str(MARK);
        rest = &rest[at + MARK.len()..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn timed(t: &Transcript, p: &Privacy) -> String {
        t.lines(p).iter().map(|l| format!("{l}\n")).collect()
    }

    fn entry(dir: Dir, class: Option<&'static str>, bytes: &[u8], ms: u64) -> Entry {
        Entry { at: Duration::from_millis(ms), dir, class, bytes: bytes.to_vec(), marks: vec![] }
    }

    #[test]
    fn normalized_names_volatile_values_by_first_appearance() {
        let mut t = Transcript::default();
        t.step("step 1", "urc +MIPLDISCOVER: 0,{mid},3311");
        let a = t.entry(entry(Dir::UeToTe, Some("urc"), b"\r\n+MIPLDISCOVER: 0,26384,3311\r\n", 5));
        t.mark(a, Mark { range: 19..24, name: "mid".into() });
        let b = t.entry(entry(Dir::TeToUe, None, b"AT+MIPLDISCOVERRSP=0,26384,1\r", 9));
        t.mark(b, Mark { range: 21..26, name: "mid".into() });
        let c = t.entry(entry(Dir::UeToTe, Some("urc"), b"+MIPLDISCOVER: 0,777,3311\r\n", 12));
        t.mark(c, Mark { range: 17..20, name: "mid".into() });
        t.note(Duration::from_millis(20), "timeout after 300 ms");
        let n = t.normalized(&Redactor::default());
        assert_eq!(
            n,
            "UE→TE urc    \\r\\n+MIPLDISCOVER: 0,{mid#1},3311\\r\\n\n\
             TE→UE        AT+MIPLDISCOVERRSP=0,{mid#1},1\\r\n\
             UE→TE urc    +MIPLDISCOVER: 0,{mid#2},3311\\r\\n\n"
        );
        let timed = timed(&t, &Privacy::default());
        assert!(timed.contains("0.004s TE→UE"), "{timed}");
        assert!(timed.contains("## timeout after 300 ms"));
        let marked = &t.lines(&Privacy::default())[2];
        assert_eq!(marked.marks, [LineMark { name: "mid".into(), text: "26384".into() }]);
    }

    #[test]
    fn the_wire_side_follows_the_at_side_in_its_own_order() {
        let mut t = Transcript::default();
        t.step("step 1", "send AT+MIPLOPEN=0,600,60");
        t.entry(entry(Dir::TeToUe, None, b"AT+MIPLOPEN=0,600,60\r", 0));
        t.entry(entry(Dir::UeToPf, Some("coap"), b"CON POST /rd", 2));
        t.entry(entry(Dir::UeToTe, Some("final"), b"\r\nOK\r\n", 1));
        t.step("step 2", "urc +MIPLEVENT: 0,6");
        t.entry(entry(Dir::PfToUe, Some("coap"), b"ACK 2.01", 3));
        t.entry(entry(Dir::UeToTe, Some("urc"), b"\r\n+MIPLEVENT: 0,6\r\n", 4));
        let n = t.normalized(&Redactor::default());
        let lines: Vec<&str> = n.lines().collect();
        assert_eq!(lines[0], "── step 1: send AT+MIPLOPEN=0,600,60");
        assert!(lines[2].contains("OK") && lines[3].contains("+MIPLEVENT: 0,6"), "no header for the urc step: {n}");
        assert!(lines[4].starts_with("── wire"));
        assert!(lines[5].starts_with("UE→PF") && lines[6].starts_with("PF→UE"), "{n}");
        let timed = timed(&t, &Privacy::default());
        let pos = |s: &str| timed.find(s).unwrap();
        assert!(pos("OK") < pos("CON POST /rd"), "people see both sides in time order:\n{timed}");
    }

    #[test]
    fn secrets_never_show() {
        let secrets = BTreeMap::from([
            ("psk".to_string(), "FhyvhmgIRQrde4In".to_string()),
            ("auth_code".to_string(), "Quectel123".to_string()),
        ]);
        let r = Redactor::new(&secrets);
        let mut t = Transcript::default();
        t.step("step 1", "send AT+MIPLCONFIG=5,1,\"FhyvhmgIRQrde4In\"");
        t.entry(entry(Dir::TeToUe, None, b"AT+MIPLCONFIG=5,1,\"FhyvhmgIRQrde4In\"\r", 0));
        t.entry(entry(Dir::UeToTe, Some("info"), b"+MIPLCONFIG:4,1, Quectel123\r\n", 1));
        for s in [t.normalized(&r), timed(&t, &Privacy::new(&secrets))] {
            assert!(!s.contains("FhyvhmgIRQrde4In") && !s.contains("Quectel123"), "{s}");
            assert!(s.contains("<secret:psk>") && s.contains("<secret:auth_code>"));
        }
    }

    #[test]
    fn a_capture_over_part_of_a_secret_does_not_unhide_it() {
        let r = Redactor::new(&BTreeMap::from([("psk".to_string(), "FhyvhmgIRQrde4In".to_string())]));
        let mut t = Transcript::default();
        let i = t.entry(entry(Dir::UeToTe, Some("info"), b"+MIPLCONFIG:5,1,FhyvhmgIRQrde4In\r\n", 0));
        t.mark(i, Mark { range: 16..20, name: "p".into() });
        let n = t.normalized(&r);
        assert!(n.contains("+MIPLCONFIG:5,1,<secret:psk>") && !n.contains("IRQrde4In"), "{n}");
    }

    #[test]
    fn masking_keeps_the_length() {
        let r = Redactor::new(&BTreeMap::from([("auth_code".to_string(), "Quectel123".to_string())]));
        assert_eq!(r.mask(b"\x3FQuectel123\xFF"), b"\x3F**********\xFF");
    }

    #[test]
    fn escaped_spellings_of_a_secret_are_hidden_too() {
        let r = Redactor::new(&BTreeMap::from([("psk".to_string(), "ab\tcd\\ef".to_string())]));
        assert_eq!(r.text("got `x ab\\tcd\\\\ef y`"), "got `x <secret:psk> y`");
        assert_eq!(r.text("ab\tcd\\ef"), "<secret:psk>");
    }
}
