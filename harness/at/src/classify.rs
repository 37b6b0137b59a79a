//! Telling frames apart: the echo of the command, its information response, its final result
//! code, and URCs, including a URC that arrives between a command and its `OK`.

use crate::lexer::{Frame, FrameKind, Stamp};
use crate::result::FinalResult;
use crate::syntax::{line_prefix, Command};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Class {
    Echo,
    Info,
    Final(FinalResult),
    Urc,
    Prompt,
    /// Bytes that never ended in a terminator.
    Fragment,
    /// A line completed before the command in flight was written: not its answer (the late
    /// answer of an abandoned command, say).
    Stale,
}

impl Class {
    pub fn label(&self) -> &'static str {
        match self {
            Class::Echo => "echo",
            Class::Info => "info",
            Class::Final(_) => "final",
            Class::Urc => "urc",
            Class::Prompt => "prompt",
            Class::Fragment => "fragment",
            Class::Stale => "stale",
        }
    }
}

#[derive(Debug, Clone)]
struct Pending {
    line: String,
    prefix: Option<String>,
    sent_at: Stamp,
    /// An information line has been seen: an echo can no longer come.
    answered: bool,
}

/// Classifies frames in the context of the command in flight.
#[derive(Debug, Clone)]
pub struct Classifier {
    pending: Option<Pending>,
    urc_prefixes: Vec<String>,
}

impl Classifier {
    /// `urc_prefixes`: the names that are unsolicited when they are not the command's own response
    /// (`+MIPLEVENT`, `+CSCON`, …), from the dialect tables.
    pub fn new<I, S>(urc_prefixes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self { pending: None, urc_prefixes: urc_prefixes.into_iter().map(Into::into).collect() }
    }

    /// Call when a command line has been written (at time zero: every frame is after it).
    pub fn command_sent(&mut self, line: &str) {
        self.command_sent_at(line, Stamp::ZERO);
    }

    /// Call when a command line has been written at `at`; frames completed before then are
    /// [`Class::Stale`].
    pub fn command_sent_at(&mut self, line: &str, at: Stamp) {
        let line = line.trim_end_matches(['\r', '\n']).to_string();
        let prefix = Command::parse(&line).ok().and_then(|c| c.response_prefix().map(str::to_string));
        self.pending = Some(Pending { line, prefix, sent_at: at, answered: false });
    }

    /// Forget the command in flight (it timed out).
    pub fn abandon(&mut self) {
        self.pending = None;
    }

    pub fn classify(&mut self, frame: &Frame) -> Class {
        match frame.kind {
            FrameKind::Prompt => return Class::Prompt,
            FrameKind::Fragment => return Class::Fragment,
            FrameKind::Line => {}
        }
        let text = frame.text();
        let text = text.trim();
        let Some(p) = self.pending.as_mut() else {
            return Class::Urc;
        };
        if frame.at < p.sent_at {
            return Class::Stale;
        }
        // The echo may follow a URC that was already on its way, but never an answer line.
        if !p.answered && text.eq_ignore_ascii_case(p.line.trim()) {
            return Class::Echo;
        }
        if let Some(f) = FinalResult::parse(text) {
            self.pending = None;
            return Class::Final(f);
        }
        let prefix = line_prefix(text);
        if prefix.is_some() && prefix == p.prefix.as_deref() {
            p.answered = true;
            return Class::Info;
        }
        if let Some(prefix) = prefix {
            if self.urc_prefixes.iter().any(|u| u == prefix) {
                return Class::Urc;
            }
        }
        p.answered = true;
        Class::Info
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lexer::Lexer;
    use std::time::Duration;

    fn run(sent: &str, bytes: &[u8]) -> Vec<(String, String)> {
        let mut c = Classifier::new(["+MIPLEVENT", "+CSCON", "+MIPLREAD"]);
        c.command_sent(sent);
        let mut lx = Lexer::new();
        lx.push(bytes, Duration::ZERO).iter().map(|f| (c.classify(f).label().to_string(), f.text())).collect()
    }

    #[test]
    fn echo_info_final() {
        let got = run("AT+MIPLCONFIG?", b"AT+MIPLCONFIG?\r\r\n+MIPLCONFIG:2,2\r\n\r\nOK\r\n");
        assert_eq!(got[0].0, "echo");
        assert_eq!(got[1].0, "info");
        assert_eq!(got[2].0, "final");
    }

    #[test]
    fn urc_between_command_and_ok() {
        let got = run("AT+MIPLCLOSE=0", b"\r\n+MIPLEVENT:0,15\r\n\r\nOK\r\n");
        assert_eq!(got, [("urc".into(), "+MIPLEVENT:0,15".into()), ("final".into(), "OK".into())]);
    }

    #[test]
    fn own_prefix_is_information_even_if_it_is_also_a_urc() {
        let got = run("AT+CSCON?", b"\r\n+CSCON: 1,1\r\n\r\nOK\r\n");
        assert_eq!(got[0].0, "info");
    }

    #[test]
    fn prefixless_lines_are_information() {
        let got = run("AT+CGSN", b"\r\n866971030000001\r\n\r\nOK\r\n");
        assert_eq!(got[0], ("info".into(), "866971030000001".into()));
    }

    #[test]
    fn echo_after_a_urc_is_still_the_echo() {
        let got = run("AT+MIPLVER?", b"+MIPLEVENT: 0,6\r\nAT+MIPLVER?\r\r\n+MIPLVER: 2.3.0\r\n\r\nOK\r\n");
        assert_eq!(got.iter().map(|g| g.0.as_str()).collect::<Vec<_>>(), ["urc", "echo", "info", "final"]);
    }

    #[test]
    fn answers_completed_before_the_command_are_stale() {
        let mut c = Classifier::new(["+MIPLEVENT"]);
        let mut lx = Lexer::new();
        let late_ok = lx.push(b"\r\nOK\r\n", Duration::from_millis(5)).remove(0);
        c.command_sent_at("AT+CGMR", Duration::from_millis(10));
        assert_eq!(c.classify(&late_ok), Class::Stale);
        let real = lx.push(b"\r\nOK\r\n", Duration::from_millis(12)).remove(0);
        assert_eq!(c.classify(&real), Class::Final(FinalResult::Ok));
    }

    #[test]
    fn lines_after_the_final_result_are_urcs() {
        let got = run("AT", b"\r\nOK\r\n\r\n+CSCON:0\r\n\r\nRDY\r\n");
        assert_eq!(got.iter().map(|g| g.0.as_str()).collect::<Vec<_>>(), ["final", "urc", "urc"]);
    }
}
