//! The quarantine list (`--quarantine FILE`): cases known to fail on some rigs, for a reason
//! someone wrote down, run but not counted against the run.
//!
//! ```yaml
//! - case: "register/open-*"     # suite/case: a substring, or a glob with * (as --case takes)
//!   rig: "bench-*"              # optional: a glob of the rig's name
//!   dialect: m5310a             # optional
//!   firmware: "*V1.2*"          # optional: a glob of the firmware revision
//!   reason: "JIRA-123: RDY comes twice after AT+QRST on this batch"   # required
//! ```
//!
//! An entry matches a case when every matcher it has matches; the first matching entry wins.
//! Globs of the rig and the firmware without a `*` must match the whole text.

use crate::dispatch::matches_case;
use crate::input_error::{field_path, InputError};
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::path::Path;

/// One quarantined case (or set of cases), as the file says it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// `suite/case`: a substring, or a glob with `*` ([`crate::dispatch::matches_case`]).
    pub case: String,
    /// A glob of the rig's name; any rig when absent.
    pub rig: Option<String>,
    /// The dialect, by name (any case); any dialect when absent.
    pub dialect: Option<String>,
    /// A glob of the modem's firmware revision; any firmware when absent.
    pub firmware: Option<String>,
    /// Why the case is quarantined (a ticket, a sentence): shown wherever the case is.
    pub reason: String,
    /// The line of the file the entry starts on (1-based).
    pub line: usize,
}

impl Entry {
    /// Whether this entry covers `case` (`suite/case`) on that rig, dialect and firmware.
    pub fn matches(&self, case: &str, rig: &str, dialect: &str, firmware: &str) -> bool {
        matches_case(Some(&self.case), case)
            && self.rig.as_deref().is_none_or(|g| glob(g, rig))
            && self.dialect.as_deref().is_none_or(|d| d.eq_ignore_ascii_case(dialect))
            && self.firmware.as_deref().is_none_or(|g| glob(g, firmware))
    }
}

/// A whole-text glob: `*` for any run of characters; without one, equality.
fn glob(pattern: &str, text: &str) -> bool {
    if pattern.contains('*') {
        matches_case(Some(pattern), text)
    } else {
        pattern == text
    }
}

/// The quarantine list, in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Quarantine {
    /// The entries, in the order the file gives them.
    pub entries: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    case: Spanned<String>,
    rig: Option<Spanned<String>>,
    dialect: Option<Spanned<String>>,
    firmware: Option<Spanned<String>>,
    reason: Spanned<String>,
}

impl Quarantine {
    /// No case quarantined.
    pub fn empty() -> Self {
        Quarantine::default()
    }

    /// Reads and checks a quarantine file; errors name the file, the line and the field.
    pub fn load(path: &Path) -> Result<Quarantine, InputError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| InputError::new(path, format!("cannot read the quarantine file: {e}")))?;
        Self::parse(path, &text)
    }

    /// Checks a quarantine file's text (`path` only names it in errors).
    pub fn parse(path: &Path, text: &str) -> Result<Quarantine, InputError> {
        if text.lines().all(|l| l.trim().is_empty() || l.trim_start().starts_with('#')) {
            return Ok(Quarantine::empty());
        }
        let raw: Vec<Spanned<RawEntry>> = serde_saphyr::from_str(text).map_err(|e| yaml_error(path, text, &e))?;
        let err = |at: &Spanned<String>, field: String, msg: &str| {
            InputError::new(path, msg).at_line(Some(at.referenced.line() as usize)).field(field)
        };
        let mut entries = Vec::with_capacity(raw.len());
        for (i, r) in raw.into_iter().enumerate() {
            let e = r.value;
            if e.case.value.trim().is_empty() {
                return Err(err(&e.case, format!("[{i}].case"), "`case` must name cases (suite/case, * for any)"));
            }
            if e.reason.value.trim().is_empty() {
                return Err(err(&e.reason, format!("[{i}].reason"), "`reason` must say why the case is quarantined"));
            }
            for (name, m) in [("rig", &e.rig), ("firmware", &e.firmware)] {
                if let Some(m) = m.as_ref().filter(|m| m.value.is_empty()) {
                    return Err(err(m, format!("[{i}].{name}"), "an empty glob matches nothing; leave the key out"));
                }
            }
            if let Some(d) = e.dialect.as_ref().filter(|d| miplcheck_at::Dialect::by_name(&d.value).is_none()) {
                let msg =
                    format!("unknown dialect {:?}; known: {}", d.value, miplcheck_at::Dialect::names().join(", "));
                return Err(err(d, format!("[{i}].dialect"), &msg));
            }
            entries.push(Entry {
                case: e.case.value,
                rig: e.rig.map(|s| s.value),
                dialect: e.dialect.map(|s| s.value),
                firmware: e.firmware.map(|s| s.value),
                reason: e.reason.value,
                line: r.referenced.line() as usize,
            });
        }
        Ok(Quarantine { entries })
    }

    /// The first entry covering `case` (`suite/case`) on that rig, dialect and firmware.
    pub fn lookup(&self, case: &str, rig: &str, dialect: &str, firmware: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.matches(case, rig, dialect, firmware))
    }

    /// Whether no case is quarantined.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

fn yaml_error(path: &Path, text: &str, e: &serde_saphyr::Error) -> InputError {
    let mut line = e.location().map(|l| l.line() as usize);
    let msg = crate::yaml::strip_location(&e.to_string());
    let at = crate::yaml::error_path::<Vec<Spanned<RawEntry>>>(text);
    if msg.starts_with("missing field") {
        // serde-saphyr places a missing field where the entry ends; the entry's first line reads better.
        line = entry_index(&at).and_then(|i| entry_line(text, i)).or(line);
    }
    InputError::new(path, msg.clone()).at_line(line).field(field_path(&at, &msg))
}

/// `3` of `[3].reason`.
fn entry_index(at: &str) -> Option<usize> {
    at.strip_prefix('[')?.split(']').next()?.parse().ok()
}

/// The line entry `i` of the list starts on, if the file is at least a list.
fn entry_line(text: &str, i: usize) -> Option<usize> {
    let entries: Vec<Spanned<serde::de::IgnoredAny>> = serde_saphyr::from_str(text).ok()?;
    entries.get(i).map(|e| e.referenced.line() as usize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    const FILE: &str = r#"# known failures on the bench
- case: "register/open-*"
  rig: "bench-*"
  dialect: m5310a
  firmware: "*V1.2*"
  reason: "JIRA-123: RDY comes twice after AT+QRST on this batch"

- case: config/create
  reason: flaky everywhere
- case: "*"
  rig: lab-7
  reason: the lab-7 antenna is loose
"#;

    fn list() -> Quarantine {
        Quarantine::parse(Path::new("quarantine.yaml"), FILE).unwrap()
    }

    fn parse(text: &str) -> Result<Quarantine, InputError> {
        Quarantine::parse(Path::new("q.yaml"), text)
    }

    #[test]
    fn entries_in_file_order_with_their_lines() {
        let q = list();
        assert_eq!(q.entries.len(), 3);
        assert_eq!(
            q.entries[0],
            Entry {
                case: "register/open-*".into(),
                rig: Some("bench-*".into()),
                dialect: Some("m5310a".into()),
                firmware: Some("*V1.2*".into()),
                reason: "JIRA-123: RDY comes twice after AT+QRST on this batch".into(),
                line: 2,
            }
        );
        assert_eq!((q.entries[1].line, q.entries[1].rig.as_deref()), (8, None));
        assert_eq!(q.entries[2].line, 10);
    }

    #[rstest]
    #[case::all_matchers("register/open-psk", "bench-3", "m5310a", "M5310-A_V1.2.7", Some(2))]
    #[case::dialect_any_case("register/open-psk", "bench-3", "M5310A", "V1.2", Some(2))]
    #[case::substring_case("config/create", "anything", "bc39", "", Some(8))]
    #[case::substring_inside("config/create-twice", "x", "bc39", "", Some(8))]
    #[case::catch_all_on_one_rig("sota/erase", "lab-7", "bc39", "BC39_R1", Some(10))]
    #[case::first_match_wins("register/open-psk", "lab-7", "m5310a", "V1.2", Some(10))]
    #[case::first_match_wins_in_order("config/create", "lab-7", "m5310a", "V1.2", Some(8))]
    #[case::case_differs("register/close", "bench-3", "m5310a", "V1.2", None)]
    #[case::case_glob_is_anchored("x/register/open-psk", "bench-3", "m5310a", "V1.2", None)]
    #[case::rig_differs("register/open-psk", "lab-3", "m5310a", "V1.2", None)]
    #[case::rig_glob_is_anchored("register/open-psk", "old-bench-3", "m5310a", "V1.2", None)]
    #[case::dialect_differs("register/open-psk", "bench-3", "bc39", "V1.2", None)]
    #[case::firmware_differs("register/open-psk", "bench-3", "m5310a", "V1.3.0", None)]
    #[case::exact_rig_is_whole("sota/erase", "lab-77", "bc39", "", None)]
    fn lookup(
        #[case] case: &str,
        #[case] rig: &str,
        #[case] dialect: &str,
        #[case] firmware: &str,
        #[case] line: Option<usize>,
    ) {
        assert_eq!(list().lookup(case, rig, dialect, firmware).map(|e| e.line), line);
    }

    #[test]
    fn empty_lists() {
        assert!(Quarantine::empty().lookup("a/b", "r", "bc39", "f").is_none());
        assert!(parse("").unwrap().is_empty());
        assert!(parse("# nothing quarantined today\n\n").unwrap().is_empty());
        assert!(parse("[]\n").unwrap().is_empty());
    }

    #[rstest]
    #[case::missing_reason("- case: a/b\n  rig: x\n", 1, "[0].reason", "missing field `reason`")]
    #[case::unknown_key("- case: a/b\n  reason: r\n- case: c/d\n  reason: r\n  firmwre: \"*\"\n", 5, "[1]", "firmwre")]
    #[case::empty_case("- case: \"\"\n  reason: r\n", 1, "[0].case", "`case` must name cases")]
    #[case::blank_reason("- case: a/b\n  reason: \"  \"\n", 2, "[0].reason", "must say why")]
    #[case::empty_rig("- case: a/b\n  rig: \"\"\n  reason: r\n", 2, "[0].rig", "empty glob")]
    #[case::unknown_dialect("- case: a/b\n  reason: r\n  dialect: sim800\n", 3, "[0].dialect", "unknown dialect")]
    #[case::not_a_list("case: a/b\nreason: r\n", 1, "", "")]
    #[case::bad_yaml("- case: [a/b\n  reason: r\n", 0, "", "")]
    #[case::wrong_type("- case: a/b\n  reason: r\n  rig: [x, y]\n", 3, "[0].rig", "")]
    fn bad_files_name_line_and_field(#[case] text: &str, #[case] line: usize, #[case] field: &str, #[case] says: &str) {
        let e = parse(text).unwrap_err();
        let shown = e.to_string();
        assert!(shown.starts_with("q.yaml"), "{shown}");
        if line > 0 {
            assert_eq!(e.line, Some(line), "{shown}");
        } else {
            assert!(e.line.is_some(), "{shown}");
        }
        if !field.is_empty() {
            assert!(e.field.as_deref().is_some_and(|f| f.starts_with(field)), "{shown}");
        }
        assert!(shown.contains(says), "{shown}");
    }

    #[test]
    fn error_messages_read_whole() {
        let e = parse("- case: a/b\n  reason: r\n- case: c/d\n").unwrap_err();
        assert_eq!(e.to_string(), "q.yaml:3: field `[1].reason`: missing field `reason`");
        let e = parse("- case: \"\"\n  reason: r\n").unwrap_err();
        assert_eq!(e.to_string(), "q.yaml:1: field `[0].case`: `case` must name cases (suite/case, * for any)");
    }

    #[test]
    fn a_missing_file_is_named() {
        let e = Quarantine::load(Path::new("/nonexistent/quarantine.yaml")).unwrap_err();
        assert!(e.to_string().starts_with("/nonexistent/quarantine.yaml: cannot read the quarantine file"), "{e}");
    }
}
