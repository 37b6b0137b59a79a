//! A recorded session written as a suite file of one case, in the syntax `suite.rs` loads.
//!
//! Windows: a command's window is its measured latency × the margin, rounded up to 100 ms, and
//! is written only when that is longer than the manual's 最大响应时间 (the dialect table), which
//! otherwise governs as in every hand-written case — a recording never narrows the manual, and a
//! written window says, in a comment, what was measured and what the manual allows. A URC's is
//! its time after the last command × the margin, rounded up to whole seconds, written only when
//! longer than the default URC window. Pure: the text is returned, the caller writes it.

use super::generalise::{steps, Known, Step};
use super::session::Said;
use crate::suite::DEFAULT_URC_WINDOW;
use miplcheck_at::Dialect;
use std::fmt::Write as _;
use std::time::Duration;

/// What the case is called and how windows are derived.
#[derive(Debug, Clone)]
pub struct Naming {
    pub suite: String,
    pub case: String,
    /// Where it was recorded (the rig's name), for the title.
    pub rig: String,
    /// Measured times are multiplied by this (at least 1).
    pub margin: f64,
}

/// The most commands and URCs one recorded case holds: a regression case longer than this is
/// not one a person reads, and generalising is quadratic in it (each value looked for in every
/// later command), so the time stays bounded whatever a session holds.
pub const MAX_SAID: usize = 2000;

/// Why no case could be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaseError {
    #[error("the MCU sent no command that was answered: nothing to write")]
    NoCommand,
}

/// The suite file's text, and a warning for each command left out.
pub fn write(
    dialect: &Dialect,
    said: &[Said],
    known: &Known,
    naming: &Naming,
) -> Result<(String, Vec<String>), CaseError> {
    let mut warnings = Vec::new();
    if said.len() > MAX_SAID {
        warnings.push(format!("the session said {} things; the case keeps the first {MAX_SAID}", said.len()));
    }
    let said = &said[..said.len().min(MAX_SAID)];
    for s in said {
        if let Said::Command(x) = s {
            if x.fin.is_none() {
                warnings.push(format!("`{}` got no final result code before the session ended; left out", x.line));
            }
        }
    }
    let steps = steps(dialect, said, known);
    if !steps.iter().any(|s| matches!(s, Step::Send { .. })) {
        return Err(CaseError::NoCommand);
    }
    let commands = steps.iter().filter(|s| matches!(s, Step::Send { .. })).count();
    let spec = format!("{} §TODO", dialect.model);
    let mut y = String::new();
    let _ = writeln!(
        y,
        "# Recorded by `miplcheck record` from rig {}: {commands} command(s), {} URC(s).",
        naming.rig.replace('\n', " "),
        steps.len() - commands
    );
    let _ = writeln!(
        y,
        "# TODO: cite the manual section this case checks in both `spec:` lines (`{} §3.2.1`),",
        dialect.model
    );
    let _ = writeln!(y, "# and say in `title:` what it checks. Windows are the measured times × {}.", naming.margin);
    let _ = writeln!(y, "suite: {}", quote(&naming.suite));
    let _ = writeln!(y, "title: {}", quote(&format!("Recorded from {}", naming.rig)));
    let _ = writeln!(y, "spec: {}", quote(&spec));
    let _ = writeln!(y, "dialects: [{}]\n\ncases:", dialect.name);
    let _ = writeln!(y, "  - id: {}", quote(&naming.case));
    let _ = writeln!(y, "    spec: {}", quote(&spec));
    let _ = writeln!(y, "    title: {}", quote(&format!("A session recorded from {}", naming.rig)));
    let _ = writeln!(y, "    steps:");
    for s in &steps {
        match s {
            Step::Send { template, expect, fin, name, latency } => {
                let _ = writeln!(y, "      - send: {}", block(template));
                if !expect.is_empty() {
                    let items: Vec<String> = expect.iter().map(|e| quote(e)).collect();
                    let _ = writeln!(y, "        expect: [{}]", items.join(", "));
                }
                if let Some(f) = fin {
                    let _ = writeln!(y, "        final: {}", block(f));
                }
                let manual = dialect.command(name).map(|c| c.max_response());
                if let Some((w, why)) = send_window(*latency, manual, naming.margin) {
                    let _ = writeln!(y, "        window: {}  # {why}", humantime::format_duration(w));
                }
            }
            Step::Urc { pattern, after } => {
                let _ = writeln!(y, "      - urc: {}", block(pattern));
                if let Some(w) = urc_window(*after, naming.margin) {
                    let _ = writeln!(
                        y,
                        "        window: {}  # came {:.3} s after the last command",
                        humantime::format_duration(w),
                        after.as_secs_f64()
                    );
                }
            }
        }
    }
    Ok((y, warnings))
}

fn scaled(d: Duration, margin: f64) -> Duration {
    Duration::from_secs_f64((d.as_secs_f64() * margin.max(1.0)).min(86_400.0))
}

fn round_up(d: Duration, step: Duration) -> Duration {
    let n = d.as_nanos().div_ceil(step.as_nanos()).max(1);
    step * u32::try_from(n).unwrap_or(u32::MAX)
}

/// A command's window, when the measured latency × margin exceeds what the manual allows (or the
/// manual names none): the window and a comment on it.
pub fn send_window(latency: Duration, manual: Option<Duration>, margin: f64) -> Option<(Duration, String)> {
    let need = round_up(scaled(latency, margin), Duration::from_millis(100));
    let measured = format!("measured {:.3} s", latency.as_secs_f64());
    match manual {
        Some(m) if need <= m => None,
        Some(m) => Some((need, format!("{measured}; the manual allows {:.3} s", m.as_secs_f64()))),
        None => Some((need, format!("{measured}; the manual names no window"))),
    }
}

/// A URC's window, when its time after the last command × margin exceeds the default.
pub fn urc_window(after: Duration, margin: f64) -> Option<Duration> {
    let need = round_up(scaled(after, margin), Duration::from_secs(1));
    (need > DEFAULT_URC_WINDOW).then_some(need)
}

/// A block value as the hand-written suites have them, `send: AT+MIPLOPEN=${ref},600,60`, plain
/// where YAML reads a plain scalar back as exactly `s` (an AT command or `+NAME` line with no
/// `: ` or ` #` inside, no `:` or blank at its end); quoted otherwise.
fn block(s: &str) -> String {
    let plain = (s.starts_with("AT") || s.starts_with('+'))
        && !s.contains(": ")
        && !s.contains(" #")
        && !s.ends_with([':', ' '])
        && !s.chars().any(|c| c.is_control());
    if plain {
        s.to_string()
    } else {
        quote(s)
    }
}

/// A YAML scalar that reads back as exactly `s`: single-quoted, or double-quoted with escapes when
/// it holds a character a single-quoted scalar cannot.
fn quote(s: &str) -> String {
    if !s.chars().any(|c| c.is_control()) {
        return format!("'{}'", s.replace('\'', "''"));
    }
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recorder::session::Exchange;
    use crate::suite::{Action, Suite};
    use rstest::rstest;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn naming() -> Naming {
        Naming { suite: "recorded".into(), case: "session".into(), rig: "emulator-bc39".into(), margin: 3.0 }
    }

    fn exchange(line: &str, info: &[&str], fin: &str, latency: u64) -> Said {
        Said::Command(Exchange {
            line: line.into(),
            sent: ms(1000),
            info: info.iter().map(|s| s.to_string()).collect(),
            fin: Some((fin.into(), ms(1000 + latency))),
        })
    }

    #[rstest]
    #[case(ms(40), Some(ms(300)), None)]
    #[case(ms(120), Some(ms(300)), Some(ms(400)))]
    #[case(ms(101), Some(ms(300)), Some(ms(400)))]
    #[case(ms(1), None, Some(ms(100)))]
    fn a_send_window_never_narrows_the_manual(
        #[case] latency: Duration,
        #[case] manual: Option<Duration>,
        #[case] want: Option<Duration>,
    ) {
        assert_eq!(send_window(latency, manual, 3.0).map(|(w, _)| w), want);
    }

    #[rstest]
    #[case(ms(900), None)]
    #[case(ms(3300), None)]
    #[case(ms(3400 * 2), Some(Duration::from_secs(21)))]
    fn a_urc_window_is_written_past_the_default(#[case] after: Duration, #[case] want: Option<Duration>) {
        assert_eq!(urc_window(after, 3.0), want);
    }

    #[test]
    fn the_suite_loader_accepts_what_is_written() {
        let said = [
            exchange("AT+MIPLCREATE", &["+MIPLCREATE: 0"], "OK", 5),
            exchange("AT+MIPLOPEN=0,600,60", &[], "OK", 900),
            Said::Urc { at: ms(9000), line: "+MIPLEVENT: 0,6".into(), since: ms(1000) },
            exchange("AT+MIPLCLOSE=1", &[], "+CIS ERROR: 601", 5),
            exchange("AT+X='it''s'", &["a\u{1b}b"], "OK", 5),
            exchange("AT+X=\"a: b\" #c", &[], "OK", 5),
        ];
        let dialect = Dialect::by_name("bc39").unwrap();
        let (text, warnings) = write(dialect, &said, &Known::default(), &naming()).unwrap();
        assert!(warnings.is_empty());
        let suite =
            Suite::parse(std::path::Path::new("recorded.yaml"), &text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        let case = &suite.cases[0];
        assert_eq!((suite.name.as_str(), case.id.as_str(), case.steps.len()), ("recorded", "session", 6), "{text}");
        assert!(case.spec.starts_with("BC39 §"), "a spec the loader takes, left for the user");
        assert_eq!(case.steps[1].window, Some(Duration::from_millis(2700)), "900 ms × 3 > the manual's window\n{text}");
        assert_eq!(case.steps[2].window, Some(Duration::from_secs(24)), "{text}");
        let Action::Send { final_, .. } = &case.steps[3].action else { panic!() };
        assert_eq!(final_.source(), "+CIS ERROR: 601");
        let Action::Send { line, expect, .. } = &case.steps[4].action else { panic!() };
        assert_eq!((line.source(), expect[0].source()), ("AT+X='it''s'", "a\u{1b}b"));
        let Action::Send { line, .. } = &case.steps[5].action else { panic!() };
        assert_eq!(line.source(), "AT+X=\"a: b\" #c");
        assert!(text.contains("      - send: AT+MIPLCREATE\n"), "plain where it can be\n{text}");
    }

    #[test]
    fn a_long_session_is_cut_with_a_warning() {
        let said: Vec<Said> = (0..MAX_SAID + 5).map(|_| exchange("AT", &[], "OK", 1)).collect();
        let (text, warnings) = write(Dialect::by_name("bc39").unwrap(), &said, &Known::default(), &naming()).unwrap();
        assert_eq!(text.matches("- send: AT\n").count(), MAX_SAID);
        assert!(warnings[0].contains("keeps the first 2000"), "{warnings:?}");
    }

    #[test]
    fn a_session_without_an_answered_command_writes_nothing() {
        let dialect = Dialect::by_name("bc39").unwrap();
        let said = [Said::Urc { at: ms(1), line: "+CSCON: 0".into(), since: ms(0) }];
        assert_eq!(write(dialect, &said, &Known::default(), &naming()).unwrap_err(), CaseError::NoCommand);
        let unanswered = [Said::Command(Exchange { line: "AT".into(), sent: ms(0), info: vec![], fin: None })];
        assert_eq!(write(dialect, &unanswered, &Known::default(), &naming()).unwrap_err(), CaseError::NoCommand);
    }
}
