//! What a command answers: information lines and a final result code, rendered the V.250 way.

use miplcheck_at::dialect::{Dialect, ErrorFamily};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    /// An error with its code; printed per `AT+CMEE` and the dialect's error family.
    Error(u16),
    /// A 3GPP TS 27.007 error: `+CME ERROR` in every dialect (the basics are not MIPL commands).
    CmeError(u16),
    /// Plain `ERROR` whatever `AT+CMEE` says: the line is not a command the modem knows.
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub lines: Vec<String>,
    pub outcome: Outcome,
}

impl Reply {
    pub fn ok() -> Self {
        Reply { lines: vec![], outcome: Outcome::Ok }
    }

    pub fn error(code: u16) -> Self {
        Reply { lines: vec![], outcome: Outcome::Error(code) }
    }

    pub fn cme_error(code: u16) -> Self {
        Reply { lines: vec![], outcome: Outcome::CmeError(code) }
    }

    pub fn unknown() -> Self {
        Reply { lines: vec![], outcome: Outcome::Unknown }
    }

    /// An information line before the `OK`.
    pub fn line(mut self, l: impl Into<String>) -> Self {
        self.lines.push(l.into());
        self
    }

    pub fn lines(mut self, ls: impl IntoIterator<Item = String>) -> Self {
        self.lines.extend(ls);
        self
    }

    /// The information lines framed once by `\r\n` and separated by `\r\n` (as Quectel modules
    /// print a multi-line answer), then `\r\n<final>\r\n`.
    pub fn render(&self, cmee: u8, dialect: &Dialect) -> Vec<u8> {
        let mut out = String::new();
        if !self.lines.is_empty() {
            out.push_str("\r\n");
            out.push_str(&self.lines.join("\r\n"));
            out.push_str("\r\n");
        }
        let fin = match (&self.outcome, dialect.error_family) {
            (Outcome::Ok, _) => "OK".to_string(),
            (Outcome::Unknown, _) => "ERROR".to_string(),
            (Outcome::Error(_), ErrorFamily::Cme) | (Outcome::CmeError(_), _) if cmee == 0 => "ERROR".to_string(),
            (Outcome::Error(n), ErrorFamily::Cme) | (Outcome::CmeError(n), _) => format!("+CME ERROR: {n}"),
            // M5310-A §1.6, §2.2 print no space: `+CIS ERROR:602`.
            (Outcome::Error(n), ErrorFamily::Cis) => format!("+CIS ERROR:{n}"),
        };
        out.push_str("\r\n");
        out.push_str(&fin);
        out.push_str("\r\n");
        out.into_bytes()
    }
}

/// Reads an integer parameter of a set command within a range, or the error a modem answers for
/// a bad parameter.
pub fn int_param(
    inv: &miplcheck_at::dialect::Invocation,
    name: &str,
    range: std::ops::RangeInclusive<i64>,
) -> Result<i64, Reply> {
    inv.bound
        .as_ref()
        .and_then(|b| b.get(name))
        .and_then(|a| a.int())
        .filter(|n| range.contains(n))
        .ok_or_else(|| Reply::cme_error(cme::BAD_PARAMETER))
}

/// Error codes the emulator uses where a manual says only "ERROR or +CME ERROR: <err>"
/// (BC39 §6, table 3). docs/dialects.md lists which case gets which.
pub mod cme {
    /// The command is known but not allowed now (e.g. `AT+MIPLCONFIG` after `AT+MIPLCREATE`).
    pub const NOT_ALLOWED: u16 = 3;
    /// The dialect documents the command but this emulator does not implement it.
    pub const NOT_SUPPORTED: u16 = 4;
    /// A parameter is missing, out of range or of the wrong type.
    pub const BAD_PARAMETER: u16 = 50;
}

#[cfg(test)]
mod tests {
    use super::*;
    use miplcheck_at::dialect::{BC39, M5310A};

    #[test]
    fn renders_v250() {
        let r = Reply::ok().line("+MIPLCREATE:0");
        assert_eq!(r.render(1, &BC39), b"\r\n+MIPLCREATE:0\r\n\r\nOK\r\n");
    }

    #[test]
    fn lines_of_one_answer_share_their_separators() {
        let r = Reply::ok().line("+MIPLCONFIG:2,2").line("+MIPLCONFIG:3,1");
        assert_eq!(r.render(1, &BC39), b"\r\n+MIPLCONFIG:2,2\r\n+MIPLCONFIG:3,1\r\n\r\nOK\r\n");
    }

    #[test]
    fn errors_follow_cmee_and_family() {
        assert_eq!(Reply::error(50).render(1, &BC39), b"\r\n+CME ERROR: 50\r\n");
        assert_eq!(Reply::error(50).render(0, &BC39), b"\r\nERROR\r\n");
        assert_eq!(Reply::error(601).render(0, &M5310A), b"\r\n+CIS ERROR:601\r\n");
        assert_eq!(Reply::unknown().render(1, &BC39), b"\r\nERROR\r\n");
    }
}
