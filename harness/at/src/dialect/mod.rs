//! Dialects: the documented command and URC sets of one module family, as data.
//!
//! A new dialect is a new file here with one [`Dialect`] value; nothing else in the harness needs an
//! `if dialect == …`. Each entry cites its manual section so reports and coverage can point there.

mod basic;
mod bc39;
mod m5310a;

use crate::signature::{Bound, Signature};
use crate::syntax::{Command, Form, Response};
use std::time::Duration;

pub use bc39::BC39;
pub use m5310a::M5310A;

/// How a dialect reports errors in its final result codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorFamily {
    /// `+CME ERROR: <n>` (BC39 §6); plain `ERROR` when `AT+CMEE=0`.
    Cme,
    /// `+CIS ERROR: <n>` (M5310-A §3).
    Cis,
}

#[derive(Debug, Clone, Copy)]
pub struct CommandSpec {
    /// `+MIPLCONFIG`, or `E` for `ATE0/1`.
    pub name: &'static str,
    /// `BC39 §3.2.1`.
    pub section: &'static str,
    pub title: &'static str,
    pub forms: &'static [Form],
    /// The set form's parameters, in the manual's own syntax.
    pub set: Option<&'static str>,
    /// What the test form prints, as the manual shows it.
    pub test_response: Option<&'static str>,
    /// 最大响应时间 (maximum response time) from the manual.
    pub max_response_ms: u64,
}

impl CommandSpec {
    pub fn max_response(&self) -> Duration {
        Duration::from_millis(self.max_response_ms)
    }

    pub fn signature(&self) -> Option<Signature> {
        // The tables are checked by a unit test, so a bad entry cannot reach a user.
        self.set.map(|s| Signature::parse(s).expect("dialect table signature"))
    }
}

#[derive(Debug, Clone, Copy)]
pub struct UrcSpec {
    pub name: &'static str,
    pub section: &'static str,
    pub title: &'static str,
    pub signature: &'static str,
    /// How long the TE has to answer it (BC39 §4.1: 10 s), if it must.
    pub answer_within_s: Option<u64>,
}

impl UrcSpec {
    pub fn signature(&self) -> Signature {
        Signature::parse(self.signature).expect("dialect table signature")
    }
}

/// A numbered code with its meaning: `+MIPLEVENT` events, result codes, error codes.
#[derive(Debug, Clone, Copy)]
pub struct Code {
    pub code: u16,
    pub meaning: &'static str,
    pub section: &'static str,
}

#[derive(Debug)]
pub struct Dialect {
    /// `bc39`, `m5310a`: what rig files and `--dialect` say.
    pub name: &'static str,
    pub manual: &'static str,
    pub commands: &'static [CommandSpec],
    pub urcs: &'static [UrcSpec],
    pub events: &'static [Code],
    /// `<result>` of the *RSP commands and the CoAP code each maps to, in `meaning`.
    pub result_codes: &'static [Code],
    pub errors: &'static [Code],
    pub error_family: ErrorFamily,
}

/// A URC table entry, as the dialect files write them.
const fn urc(
    name: &'static str,
    section: &'static str,
    title: &'static str,
    signature: &'static str,
    answer_within_s: Option<u64>,
) -> UrcSpec {
    UrcSpec { name, section, title, signature, answer_within_s }
}

/// An event, result or error code table entry.
const fn code(code: u16, meaning: &'static str, section: &'static str) -> Code {
    Code { code, meaning, section }
}

/// The default response window when a command is not in any table.
pub const DEFAULT_MAX_RESPONSE: Duration = Duration::from_millis(300);

impl Dialect {
    pub fn all() -> [&'static Dialect; 2] {
        [&BC39, &M5310A]
    }

    pub fn by_name(name: &str) -> Option<&'static Dialect> {
        Self::all().into_iter().find(|d| d.name.eq_ignore_ascii_case(name))
    }

    pub fn names() -> Vec<&'static str> {
        Self::all().iter().map(|d| d.name).collect()
    }

    pub fn command(&self, name: &str) -> Option<&'static CommandSpec> {
        self.commands.iter().chain(basic::COMMANDS).find(|c| c.name.eq_ignore_ascii_case(name))
    }

    pub fn urc(&self, name: &str) -> Option<&'static UrcSpec> {
        self.urcs.iter().chain(basic::URCS).find(|u| u.name.eq_ignore_ascii_case(name))
    }

    pub fn urc_prefixes(&self) -> Vec<&'static str> {
        self.urcs.iter().chain(basic::URCS).map(|u| u.name).collect()
    }

    pub fn event(&self, code: u16) -> Option<&'static Code> {
        self.events.iter().find(|e| e.code == code)
    }

    pub fn error(&self, code: u16) -> Option<&'static Code> {
        self.errors.iter().find(|e| e.code == code)
    }

    /// The manual's response window for a command line, or the 300 ms default.
    pub fn max_response(&self, line: &str) -> Duration {
        Command::parse(line)
            .ok()
            .and_then(|c| self.command(&c.name))
            .map(CommandSpec::max_response)
            .unwrap_or(DEFAULT_MAX_RESPONSE)
    }

    /// Reads a command line against this dialect's tables.
    pub fn read_command(&self, line: &str) -> Result<Invocation, Misfit> {
        let cmd = Command::parse(line).map_err(|e| Misfit::Syntax(e.to_string()))?;
        let spec = self.command(&cmd.name).ok_or_else(|| Misfit::UnknownCommand(cmd.name.clone()))?;
        if !spec.forms.contains(&cmd.form) {
            return Err(Misfit::UnsupportedForm { name: cmd.name.clone(), form: cmd.form });
        }
        let bound = match (cmd.form, spec.signature()) {
            (Form::Set, Some(sig)) => Some(sig.bind(&cmd.args).ok_or_else(|| Misfit::Arity {
                name: cmd.name.clone(),
                got: cmd.args.len(),
                signature: sig.text().to_string(),
            })?),
            _ => None,
        };
        Ok(Invocation { spec, command: cmd, bound })
    }

    /// Reads a URC line against this dialect's tables.
    pub fn read_urc(&self, line: &str) -> Result<UrcLine, Misfit> {
        let resp = Response::parse(line).ok_or_else(|| Misfit::Syntax(format!("not a +NAME: line: {line:?}")))?;
        let spec = self.urc(&resp.name).ok_or_else(|| Misfit::UnknownUrc(resp.name.clone()))?;
        let sig = spec.signature();
        let bound = sig.bind(&resp.args).ok_or_else(|| Misfit::Arity {
            name: resp.name.clone(),
            got: resp.args.len(),
            signature: sig.text().to_string(),
        })?;
        Ok(UrcLine { spec, response: resp, bound })
    }
}

/// A command line read against a dialect.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub spec: &'static CommandSpec,
    pub command: Command,
    /// The set form's arguments bound to the manual's names.
    pub bound: Option<Bound>,
}

#[derive(Debug, Clone)]
pub struct UrcLine {
    pub spec: &'static UrcSpec,
    pub response: Response,
    pub bound: Bound,
}

/// Why a line does not fit a dialect.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Misfit {
    #[error("{0}")]
    Syntax(String),
    #[error("{0} is not a command of this dialect")]
    UnknownCommand(String),
    #[error("{0} is not a URC of this dialect")]
    UnknownUrc(String),
    #[error("{name} has no {form} form in this dialect")]
    UnsupportedForm { name: String, form: Form },
    #[error("{name} takes {signature}, got {got} argument(s)")]
    Arity { name: String, got: usize, signature: String },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_signature_parses() {
        for d in Dialect::all() {
            for c in d.commands.iter().chain(basic::COMMANDS) {
                if let Some(s) = c.set {
                    Signature::parse(s).unwrap_or_else(|e| panic!("{} {}: {e}", d.name, c.name));
                    assert!(c.forms.contains(&Form::Set), "{} {} has a signature but no set form", d.name, c.name);
                }
            }
            for u in d.urcs.iter().chain(basic::URCS) {
                Signature::parse(u.signature).unwrap_or_else(|e| panic!("{} {}: {e}", d.name, u.name));
            }
        }
    }

    #[test]
    fn names_are_unique_within_a_dialect() {
        for d in Dialect::all() {
            let mut names: Vec<_> = d.commands.iter().chain(basic::COMMANDS).map(|c| c.name).collect();
            names.sort_unstable();
            let before = names.len();
            names.dedup();
            assert_eq!(before, names.len(), "{} lists a command twice", d.name);
        }
    }

    #[test]
    fn windows_come_from_the_manual() {
        assert_eq!(BC39.max_response("AT+MIPLDELETE=0"), Duration::from_secs(3));
        assert_eq!(BC39.max_response("AT+MIPLCLOSE=0"), Duration::from_secs(3));
        assert_eq!(BC39.max_response("AT+MIPLCONFIG?"), Duration::from_millis(300));
        assert_eq!(BC39.max_response("AT+UNKNOWN"), DEFAULT_MAX_RESPONSE);
    }

    #[test]
    fn lookups_by_name() {
        assert_eq!(Dialect::by_name("BC39").unwrap().name, "bc39");
        assert!(Dialect::by_name("m5310a").is_some());
        assert!(Dialect::by_name("sim800").is_none());
    }
}
