//! Final result codes: the line that ends a command's response.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FinalResult {
    Ok,
    Error,
    /// `+CME ERROR: <n>` (3GPP 27.007, BC39 §6).
    Cme(u16),
    /// `+CME ERROR: <text>` when `AT+CMEE=2` selects verbose errors.
    CmeText(String),
    /// `+CMS ERROR: <n>` (3GPP 27.005).
    Cms(u16),
    /// `+CIS ERROR: <n>` (M5310-A §3, codes 601–653).
    Cis(u16),
}

impl FinalResult {
    /// Reads a final result code, accepting `+CME ERROR:50`, `+CME ERROR: 50` and `+CME ERROR:  50`.
    pub fn parse(line: &str) -> Option<Self> {
        let line = line.trim();
        match line {
            "OK" => return Some(Self::Ok),
            "ERROR" => return Some(Self::Error),
            _ => {}
        }
        for (prefix, make) in
            [("+CME ERROR:", Self::Cme as fn(u16) -> Self), ("+CMS ERROR:", Self::Cms), ("+CIS ERROR:", Self::Cis)]
        {
            if let Some(rest) = line.strip_prefix(prefix) {
                let rest = rest.trim();
                return match rest.parse::<u16>() {
                    Ok(n) => Some(make(n)),
                    Err(_) if prefix == "+CME ERROR:" && !rest.is_empty() => Some(Self::CmeText(rest.to_string())),
                    Err(_) => None,
                };
            }
        }
        None
    }

    pub fn is_ok(&self) -> bool {
        matches!(self, Self::Ok)
    }
}

impl fmt::Display for FinalResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ok => f.write_str("OK"),
            Self::Error => f.write_str("ERROR"),
            Self::Cme(n) => write!(f, "+CME ERROR: {n}"),
            Self::CmeText(t) => write!(f, "+CME ERROR: {t}"),
            Self::Cms(n) => write!(f, "+CMS ERROR: {n}"),
            Self::Cis(n) => write!(f, "+CIS ERROR: {n}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("OK", Some(FinalResult::Ok))]
    #[case("ERROR", Some(FinalResult::Error))]
    #[case("+CME ERROR: 50", Some(FinalResult::Cme(50)))]
    #[case("+CME ERROR:50", Some(FinalResult::Cme(50)))]
    #[case("+CIS ERROR:602", Some(FinalResult::Cis(602)))]
    #[case("+CIS ERROR: 651", Some(FinalResult::Cis(651)))]
    #[case("+CMS ERROR: 500", Some(FinalResult::Cms(500)))]
    #[case("+CME ERROR: operation not allowed", Some(FinalResult::CmeText("operation not allowed".into())))]
    #[case("+CIS ERROR: x", None)]
    #[case("OKAY", None)]
    #[case("+MIPLEVENT: 0,6", None)]
    fn parses(#[case] line: &str, #[case] want: Option<FinalResult>) {
        assert_eq!(FinalResult::parse(line), want);
    }

    #[test]
    fn formats_in_the_manuals_spelling() {
        assert_eq!(FinalResult::Cme(3).to_string(), "+CME ERROR: 3");
        assert_eq!(FinalResult::Cis(601).to_string(), "+CIS ERROR: 601");
    }
}
