//! A recording's chunks read as the engine reads a modem: the MCU's lines through the lexer
//! (a command ends at `\r` or `\n`, as a modem assembles it), the modem's through the lexer and
//! the dialect's classifier, which knows the command in flight. Pure: chunks in, what was said out.

use super::{Chunk, Dir};
use miplcheck_at::classify::{Class, Classifier};
use miplcheck_at::lexer::Lexer;
use miplcheck_at::Dialect;
use std::time::Duration;

/// One thing the session said, in the order the recorder saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Said {
    /// A command the MCU sent and what the modem answered to it.
    Command(Exchange),
    /// A line the modem sent on its own.
    Urc {
        at: Duration,
        line: String,
        /// When the MCU's last command before it was written (the session's start if none): what a
        /// `urc:` step's window is measured from.
        since: Duration,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    pub line: String,
    pub sent: Duration,
    pub info: Vec<String>,
    /// The final result code and when it came; `None` when the session ended (or the next command
    /// came) before one.
    pub fin: Option<(String, Duration)>,
}

impl Exchange {
    /// The raw latency: the final result code's stamp less the time the command's write returned.
    pub fn latency(&self) -> Option<Duration> {
        self.fin.as_ref().map(|(_, at)| at.saturating_sub(self.sent))
    }
}

/// Reads `chunks` (in the order they were forwarded) into commands and URCs.
pub fn read(dialect: &Dialect, chunks: &[Chunk]) -> Vec<Said> {
    let mut te = Lexer::new();
    let mut ue = Lexer::new();
    let mut classifier = Classifier::new(dialect.urc_prefixes());
    let mut said: Vec<Said> = Vec::new();
    // The index in `said` of the command in flight.
    let mut open: Option<usize> = None;
    let mut last_sent = Duration::ZERO;
    for c in chunks {
        match c.dir {
            Dir::FromTe => {
                let mut frames = te.push(&c.bytes, c.at);
                // A command ends at its `\r`; no `\n` is waited for.
                if te.pending().ends_with(b"\r") {
                    frames.extend(te.flush(c.at));
                }
                for f in frames.into_iter().filter(|f| f.kind == miplcheck_at::lexer::FrameKind::Line) {
                    let line = f.text().trim().to_string();
                    if line.is_empty() {
                        continue;
                    }
                    classifier.command_sent_at(&line, c.at);
                    last_sent = c.at;
                    said.push(Said::Command(Exchange { line, sent: c.at, info: vec![], fin: None }));
                    open = Some(said.len() - 1);
                }
            }
            Dir::ToTe => {
                for f in ue.push(&c.bytes, c.at) {
                    let text = f.text().trim().to_string();
                    let class = classifier.classify(&f);
                    let exchange = open.and_then(|i| match &mut said[i] {
                        Said::Command(x) => Some(x),
                        Said::Urc { .. } => None,
                    });
                    match (class, exchange) {
                        (Class::Echo | Class::Fragment | Class::Prompt, _) => {}
                        (Class::Info, Some(x)) => x.info.push(text),
                        (Class::Final(_), Some(x)) => {
                            x.fin = Some((text, f.at));
                            open = None;
                        }
                        // Completed before the command was written: said on its own, if it is a
                        // URC the dialect knows; else an earlier command's straggler.
                        (Class::Stale, _) => {
                            if miplcheck_at::syntax::line_prefix(&text).is_some_and(|p| dialect.urc(p).is_some()) {
                                said.push(Said::Urc { at: f.at, line: text, since: last_sent });
                            }
                        }
                        (Class::Urc | Class::Info | Class::Final(_), _) => {
                            if !text.is_empty() {
                                said.push(Said::Urc { at: f.at, line: text, since: last_sent });
                            }
                        }
                    }
                }
            }
        }
    }
    said
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// BC39's reading of chunks given as (ms, direction, bytes).
    fn read_bc39(chunks: &[(u64, Dir, &[u8])]) -> Vec<Said> {
        let chunks: Vec<Chunk> =
            chunks.iter().map(|(at, dir, b)| Chunk { at: ms(*at), dir: *dir, bytes: b.to_vec() }).collect();
        read(Dialect::by_name("bc39").unwrap(), &chunks)
    }

    #[test]
    fn commands_answers_and_urcs_are_told_apart() {
        let said = read_bc39(&[
            (0, Dir::FromTe, b"AT+MIPLCREATE\r"),
            (5, Dir::ToTe, b"AT+MIPLCREATE\r\r\n+MIPLCREATE:0\r\n\r\nOK\r\n"),
            (10, Dir::FromTe, b"AT+MIPLOPEN=0,600,60\r"),
            (30, Dir::ToTe, b"AT+MIPLOPEN=0,600,60\r\r\nOK\r\n"),
            (90, Dir::ToTe, b"\r\n+MIPLEVENT: 0,6\r\n"),
        ]);
        assert_eq!(said.len(), 3, "{said:?}");
        let Said::Command(x) = &said[0] else { panic!("{said:?}") };
        assert_eq!((x.line.as_str(), x.info.as_slice()), ("AT+MIPLCREATE", &["+MIPLCREATE:0".to_string()][..]));
        assert_eq!(x.latency(), Some(ms(5)));
        let Said::Command(open) = &said[1] else { panic!("{said:?}") };
        assert_eq!(open.fin, Some(("OK".into(), ms(30))));
        assert_eq!(said[2], Said::Urc { at: ms(90), line: "+MIPLEVENT: 0,6".into(), since: ms(10) });
    }

    #[test]
    fn a_command_split_over_writes_is_one_command() {
        let said = read_bc39(&[
            (0, Dir::FromTe, b"AT+CG"),
            (1, Dir::FromTe, b"MR\r"),
            (3, Dir::ToTe, b"\r\nBC39\r\n\r\nOK\r\n"),
        ]);
        let Said::Command(x) = &said[0] else { panic!("{said:?}") };
        assert_eq!((x.line.as_str(), x.sent, x.info.len()), ("AT+CGMR", ms(1), 1));
    }

    #[test]
    fn no_final_code_is_kept_as_none() {
        let said = read_bc39(&[(0, Dir::FromTe, b"AT+CGMR\r")]);
        assert!(matches!(&said[0], Said::Command(x) if x.fin.is_none()));
    }
}
