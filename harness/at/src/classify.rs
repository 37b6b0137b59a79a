//! Telling frames apart: the echo of the command, its information response, its final result
//! code, and URCs, including a URC that arrives between a command and its `OK`.

use crate::lexer::{Frame, FrameKind};
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
        }
    }
}

#[derive(Debug, Clone)]
struct Pending {
    line: String,
    prefix: Option<String>,
    seen_any: bool,
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

    /// Call when a command line has been written.
    pub fn command_sent(&mut self, line: &str) {
        let line = line.trim_end_matches(['\r', '\n']).to_string();
        let prefix = Command::parse(&line).ok().and_then(|c| c.response_prefix().map(str::to_string));
        self.pending = Some(Pending { line, prefix, seen_any: false });
    }

    pub fn in_flight(&self) -> bool {
        self.pending.is_some()
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
        let first = !p.seen_any;
        p.seen_any = true;
        if first && text.eq_ignore_ascii_case(p.line.trim()) {
            return Class::Echo;
        }
        if let Some(f) = FinalResult::parse(text) {
            self.pending = None;
            return Class::Final(f);
        }
        let prefix = line_prefix(text);
        if prefix.is_some() && prefix == p.prefix.as_deref() {
            return Class::Info;
        }
        if let Some(prefix) = prefix {
            if self.urc_prefixes.iter().any(|u| u == prefix) {
                return Class::Urc;
            }
        }
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
    fn lines_after_the_final_result_are_urcs() {
        let got = run("AT", b"\r\nOK\r\n\r\n+CSCON:0\r\n\r\nRDY\r\n");
        assert_eq!(got.iter().map(|g| g.0.as_str()).collect::<Vec<_>>(), ["final", "urc", "urc"]);
    }
}
