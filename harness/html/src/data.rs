//! A deferred case's body as the data its side file holds: the rows of its steps table, its
//! snapshot diff and its transcript, with their numbers already printed, which the page's script
//! ([`side::SCRIPT`]) turns into the markup `cases` and `transcript` make for the same case. Data
//! instead of markup because a big run's side files are most of its bytes: a transcript row is
//! its text and a few digits, not 150 bytes of tags.
//!
//! A body is a JavaScript array (strings single-quoted, as [`side`] writes them; `0` for what is
//! absent):
//!
//! ```text
//! [steps, diff, transcript]
//! steps       [step, …]                          no steps table when empty
//!   step      [label, line, what, failed, cell, corrected, failure]
//!     failed  1 when the row is marked failed, else 0
//!     cell    'ms' (a latency, no window) | '' (neither) | ['window ms'] (no latency)
//!             | ['latency ms', 'window ms', over, share, width]
//!     corrected  0 | ['9600 8N1', 'raw ms']
//!     failure '' when none
//! diff        0 | ['line', …]                    the diff's lines
//! transcript  0 (no section) | [row, …]          [] says there is no transcript
//!   row       'label: what'                      a step header
//!             | [dir, class, time, 'text']       an entry; dir 0–3 in `Dir::ALL`'s order,
//!                                                class 0 for none, else 1 + its index in `Class::ALL`
//!             | [time, 'text']                   a note
//! ```
//!
//! Numbers are [`Fixed`]: an integer of the printed digits the script puts a decimal point in
//! (a time has 3 decimals, a share 1), or, where that cannot be exact, the printed text; a time is
//! `null` when the line has none. `ms` strings are `units::ms`'s. Text is the record's, unescaped:
//! the script escapes it as [`escape`] does.
//!
//! [`side::SCRIPT`]: super::side::SCRIPT
//! [`side`]: super::side
//! [`escape`]: super::escape

use super::cases;
use super::side::js_string;
use super::transcript::{time_digits, Latency};
use super::units::Fixed;
use miplcheck_record::{CaseRecord, Class, Dir, Line, LineKind, StepRecord};
use std::fmt::Write as _;

/// Case `c`'s body (steps, snapshot diff, transcript) as a JavaScript value, in the format above.
pub fn literal(c: &CaseRecord) -> String {
    let text: usize = c.transcript.iter().map(|l| l.text.len() + 16).sum();
    let mut out = String::with_capacity(text + c.steps.len() * 96 + 16);
    out.push('[');
    array(&mut out, &c.steps, step);
    out.push(',');
    match &c.snapshot_diff {
        Some(d) => array(&mut out, d.lines(), js_string),
        None => out.push('0'),
    }
    out.push(',');
    if cases::shows_transcript(c) {
        array(&mut out, &c.transcript, row);
    } else {
        out.push('0');
    }
    out.push(']');
    out
}

/// `items` as an array, each written by `each`.
fn array<T>(out: &mut String, items: impl IntoIterator<Item = T>, mut each: impl FnMut(&mut String, T)) {
    out.push('[');
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        each(out, item);
    }
    out.push(']');
}

fn step(out: &mut String, s: &StepRecord) {
    out.push('[');
    js_string(out, &s.label);
    out.push(',');
    integer(out, s.line);
    out.push(',');
    js_string(out, &s.what);
    out.push_str(if cases::step_failed(s) { ",1," } else { ",0," });
    match Latency::of(s.judged_ms(), s.window_ms) {
        Latency::Empty => js_string(out, ""),
        Latency::Plain(l) => js_string(out, &l),
        Latency::NoFigure(w) => {
            out.push('[');
            js_string(out, &w);
            out.push(']');
        }
        Latency::Bar { latency, window, over, share, width } => {
            out.push('[');
            js_string(out, &latency);
            out.push(',');
            js_string(out, &window);
            out.push_str(if over { ",1," } else { ",0," });
            fixed(out, &share);
            out.push(',');
            fixed(out, &width);
            out.push(']');
        }
    }
    out.push(',');
    match cases::corrected(s) {
        Some((line, raw)) => {
            out.push('[');
            js_string(out, line);
            out.push(',');
            js_string(out, &raw);
            out.push(']');
        }
        None => out.push('0'),
    }
    out.push(',');
    js_string(out, s.failure.as_deref().unwrap_or(""));
    out.push(']');
}

/// One transcript line, told apart as `transcript::table` tells them.
fn row(out: &mut String, l: &Line) {
    match (l.kind, l.dir) {
        (LineKind::Step, _) => js_string(out, &l.text),
        (_, Some(dir)) => {
            let d = Dir::ALL.iter().position(|&x| x == dir).unwrap_or(0);
            let c = l.class.and_then(|c| Class::ALL.iter().position(|&x| x == c)).map_or(0, |i| i + 1);
            // One digit each (4 directions, 8 classes and none), pushed as such: a big run has
            // millions of rows.
            out.push('[');
            for n in [d, c] {
                out.push(char::from_digit(n as u32, 10).unwrap_or('0'));
                out.push(',');
            }
            time(out, l.at_ms);
            out.push(',');
            js_string(out, &l.text);
            out.push(']');
        }
        _ => {
            out.push('[');
            time(out, l.at_ms);
            out.push(',');
            js_string(out, &l.text);
            out.push(']');
        }
    }
}

fn time(out: &mut String, at_ms: Option<f64>) {
    match time_digits(at_ms) {
        Some(t) => fixed(out, &t),
        None => out.push_str("null"),
    }
}

fn fixed(out: &mut String, f: &Fixed) {
    match f {
        Fixed::Digits(n) => {
            let _ = write!(out, "{n}");
        }
        Fixed::Text(s) => js_string(out, s),
    }
}

/// An integer a script's number holds exactly; a larger one as its digits in a string.
fn integer(out: &mut String, n: usize) {
    if n < 1 << 53 {
        let _ = write!(out, "{n}");
    } else {
        js_string(out, &n.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture::{case, entry, step};
    use miplcheck_record::{JudgedOn, Verdict};
    use serde_json::{json, Value};

    /// The literal read back, as the script gets it: arrays, integers, `null` and single-quoted
    /// strings, nothing else.
    fn parse(s: &str) -> Value {
        fn value(s: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Value {
            match s.next() {
                Some('[') => {
                    let mut items = vec![];
                    if s.peek() == Some(&']') {
                        s.next();
                        return Value::Array(items);
                    }
                    loop {
                        items.push(value(s));
                        match s.next() {
                            Some(',') => {}
                            Some(']') => return Value::Array(items),
                            c => panic!("{c:?} in an array"),
                        }
                    }
                }
                Some('\'') => {
                    let mut out = String::new();
                    loop {
                        match s.next().expect("an unclosed string") {
                            '\'' => return Value::String(out),
                            '\\' => match s.next().expect("an escape") {
                                'n' => out.push('\n'),
                                'r' => out.push('\r'),
                                'u' => {
                                    let hex: String = s.take(4).collect();
                                    out.push(char::from_u32(u32::from_str_radix(&hex, 16).unwrap()).unwrap());
                                }
                                c @ ('\'' | '\\') => out.push(c),
                                c => panic!("escape \\{c}"),
                            },
                            c => {
                                assert!(!c.is_control() && c != '\u{2028}' && c != '\u{2029}', "{c:?} raw");
                                out.push(c);
                            }
                        }
                    }
                }
                Some('n') => {
                    assert_eq!(s.take(3).collect::<String>(), "ull");
                    Value::Null
                }
                Some(c) if c.is_ascii_digit() => {
                    let mut n = c.to_string();
                    while let Some(d) = s.next_if(char::is_ascii_digit) {
                        n.push(d);
                    }
                    json!(n.parse::<u64>().unwrap())
                }
                c => panic!("{c:?} starts no value"),
            }
        }
        let mut chars = s.chars().peekable();
        let v = value(&mut chars);
        assert_eq!(chars.next(), None, "{s}");
        v
    }

    const HOSTILE: &str = "<script>alert(\"x\")</script> 'q' \\ \\\\r \u{2028}\u{2029}\0\u{1b} é 注 </td>";

    #[test]
    fn a_body_is_its_rows_as_data() {
        let mut c = case(
            "s",
            "c",
            Verdict::Passed,
            vec![
                step("step 1", "+MIPLOPEN", Some(210.5), 3000.0),
                step("step 2", "+MIPLCLOSE", Some(400.0), 300.0),
                StepRecord { window_ms: None, ..step("step 3", "+X", Some(1.5), 0.0) },
                step("step 4", "+Y", None, 300.0),
                StepRecord {
                    latency_ms: None,
                    window_ms: None,
                    failure: Some("no OK".into()),
                    ..step("step 5", "+Z", None, 0.0)
                },
                StepRecord {
                    response_ms: Some(250.0),
                    serial_line: Some("9600 8N1".into()),
                    judged_on: Some(JudgedOn::Corrected),
                    ..step("step 6", "+MIPLCONFIG", Some(383.0), 300.0)
                },
            ],
        );
        c.snapshot_diff = Some(" a\r\n-b\n+c\n…".into());
        c.transcript = vec![
            Line::step("step 1", "send AT"),
            entry(12.0, Dir::TeToUe, None, "AT\\r"),
            entry(1234.5678, Dir::UeToPf, Some(Class::Coap), "CON"),
            entry(-0.1, Dir::PfToUe, Some(Class::Echo), "x"),
            Line { at_ms: None, ..entry(0.0, Dir::UeToTe, Some(Class::Urc), "y") },
            Line::note(412.0, "step 1 failed: late"),
            Line { dir: None, ..entry(f64::NAN, Dir::UeToTe, None, "no direction") },
        ];
        assert_eq!(
            parse(&literal(&c)),
            json!([
                [
                    ["step 1", 20, "send AT+MIPLOPEN=0", 0, ["210 ms", "3 s", 0, 70, 70], 0, ""],
                    ["step 2", 20, "send AT+MIPLCLOSE=0", 1, ["400 ms", "300 ms", 1, 1333, 1000], 0, ""],
                    ["step 3", 20, "send AT+X=0", 0, "1.5 ms", 0, ""],
                    ["step 4", 20, "send AT+Y=0", 0, ["300 ms"], 0, ""],
                    ["step 5", 20, "send AT+Z=0", 1, "", 0, "no OK"],
                    [
                        "step 6",
                        20,
                        "send AT+MIPLCONFIG=0",
                        0,
                        ["250 ms", "300 ms", 0, 833, 833],
                        ["9600 8N1", "383 ms"],
                        ""
                    ],
                ],
                [" a", "-b", "+c", "…"],
                [
                    "step 1: send AT",
                    [0, 0, 12, "AT\\r"],
                    [3, 8, 1235, "CON"],
                    [2, 1, "-0.000", "x"],
                    [1, 4, null, "y"],
                    [412, "step 1 failed: late"],
                    [null, "no direction"],
                ]
            ])
        );
        // What a body lacks: no steps, no diff, and for a skipped case that sent nothing, no
        // transcript section (`0`), where a passing case's empty transcript is said (`[]`).
        let mut bare = case("s", "c", Verdict::Skipped, vec![]);
        assert_eq!(parse(&literal(&bare)), json!([[], 0, 0]));
        bare.verdict = Verdict::Passed;
        assert_eq!(parse(&literal(&bare)), json!([[], 0, []]));
    }

    #[test]
    fn hostile_text_is_handed_over_as_it_is() {
        let mut c = case("s", "c", Verdict::Passed, vec![]);
        c.steps = vec![StepRecord {
            label: HOSTILE.into(),
            what: HOSTILE.into(),
            failure: Some(HOSTILE.into()),
            serial_line: Some(HOSTILE.into()),
            judged_on: Some(JudgedOn::Corrected),
            response_ms: Some(1.0),
            ..step("x", "+X", Some(2.0), 300.0)
        }];
        c.snapshot_diff = Some(format!("-{HOSTILE}"));
        c.transcript =
            vec![Line::step(HOSTILE, HOSTILE), entry(0.0, Dir::UeToTe, None, HOSTILE), Line::note(1.0, HOSTILE)];
        let js = literal(&c);
        for raw in ['\0', '\u{1b}', '\u{2028}', '\u{2029}'] {
            assert!(!js.contains(raw), "{raw:?} is escaped: {js}");
        }
        let v = parse(&js);
        let h = json!(HOSTILE);
        assert_eq!(v[0][0][0], h);
        assert_eq!(v[0][0][2], h);
        assert_eq!(v[0][0][5][0], h);
        assert_eq!(v[0][0][6], h);
        assert_eq!(v[1][0], json!(format!("-{HOSTILE}")));
        assert_eq!(v[2][0], json!(format!("{HOSTILE}: {HOSTILE}")));
        assert_eq!(v[2][1][3], h);
        assert_eq!(v[2][2][1], h);
    }

    #[test]
    fn the_script_knows_the_same_names_and_fixed_markup() {
        let script = super::super::side::SCRIPT;
        let dirs: Vec<String> = Dir::ALL
            .iter()
            .map(|&d| format!("['{}', '{}']", super::super::transcript::dir_class(d), d.arrow()))
            .collect();
        assert!(script.contains(&format!("var DIRS = [{}];", dirs.join(", "))), "directions in Dir::ALL's order");
        let classes: Vec<String> = Class::ALL.iter().map(|c| format!("'{}'", c.name())).collect();
        assert!(script.contains(&format!("var CLASSES = ['', {}];", classes.join(", "))), "classes after none");
        for markup in [cases::STEPS_HEAD, cases::DIFF_HEAD, super::super::transcript::NO_TRANSCRIPT] {
            assert!(script.contains(markup), "{markup}");
        }
        // Class names go into the row's class unchanged only because they need no slugging.
        assert!(Class::ALL.iter().all(|c| c.name().bytes().all(|b| b.is_ascii_lowercase())));
    }
}
