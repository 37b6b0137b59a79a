//! The run record: one JSON file per run (`run.json`) that every other report is made from, so two
//! runs from different days or machines can be compared. The schema is versioned
//! ([`SCHEMA`]) and documented in `docs/run-record.md`; readers refuse a version they do not know.
//!
//! What goes in is already redacted (the rig's secrets never enter a `CaseResult`), and the
//! modem's IMEI and IMSI are masked on the way in: reports leave the bench.

use crate::outcome::{CaseResult, Summary, Verdict};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The schema's name and version; a change that breaks readers bumps the number.
pub const SCHEMA: &str = "miplcheck-run/1";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub schema: String,
    /// `miplcheck` version that wrote it.
    pub tool: String,
    /// RFC 3339, UTC.
    pub started: String,
    pub duration_ms: u64,
    pub rig: RigInfo,
    pub firmware: Firmware,
    pub summary: Totals,
    pub cases: Vec<CaseRecord>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RigInfo {
    pub name: String,
    pub dialect: String,
    /// `emulator`, `serial`, `tcp`, with where: `emulator on /dev/pts/3`.
    pub target: String,
    pub capabilities: Vec<String>,
    pub window_scale: f64,
    /// The names of the rig's secrets; never their values.
    pub secrets: Vec<String>,
}

/// What the modem says it is (`AT+CGMR`, `AT+CGSN=1`), asked before the first case.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Firmware {
    /// The revision lines, or why they could not be read.
    pub revision: String,
    /// The IMEI with its serial number masked (the TAC, which names the model, is kept).
    pub imei: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseRecord {
    pub suite: String,
    pub case: String,
    pub spec: String,
    pub title: Option<String>,
    /// `passed`, `failed` or `skipped`.
    pub verdict: String,
    /// Where it failed (`step 3`, `snapshot`) and the suite file line, or why it was skipped.
    pub failed_at: Option<String>,
    pub line: Option<usize>,
    pub reason: Option<String>,
    pub duration_ms: f64,
    pub steps: Vec<StepRecord>,
    /// `matched`, `changed`, `missing`, `tolerated` or `not-compared`, and the diff when changed.
    pub snapshot: String,
    pub snapshot_diff: Option<String>,
    pub warnings: Vec<String>,
    /// Both sides in time order, a line each.
    pub transcript: Vec<Line>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    pub label: String,
    pub line: usize,
    pub what: String,
    /// The AT command a send step sent (`+MIPLOPEN`), for per-command tables.
    pub command: Option<String>,
    pub latency_ms: Option<f64>,
    pub window_ms: Option<f64>,
    pub failure: Option<String>,
}

/// One transcript line: a step header (`kind = "step"`), an entry (`dir` `TE→UE`, `UE→TE`,
/// `PF→UE`, `UE→PF` with its class) or a note.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Line {
    pub kind: String,
    pub at_ms: Option<f64>,
    pub dir: Option<String>,
    pub class: Option<String>,
    pub text: String,
}

fn ms(d: std::time::Duration) -> f64 {
    (d.as_secs_f64() * 1_000_000.0).round() / 1000.0
}

/// The AT command a step sends: `send AT+MIPLOPEN=0,600,60` → `+MIPLOPEN`.
pub fn command_of(what: &str) -> Option<String> {
    let line = what.strip_prefix("send ")?;
    miplcheck_at::syntax::Command::parse(line).ok().map(|c| if c.name.is_empty() { "AT".into() } else { c.name })
}

/// Reads the timed transcript back into lines.
pub fn lines(timed: &str) -> Vec<Line> {
    timed
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let t = l.trim_start();
            if let Some(h) = t.strip_prefix("── ") {
                return Line { kind: "step".into(), at_ms: None, dir: None, class: None, text: h.to_string() };
            }
            let (at, rest) = match t.split_once("s ") {
                Some((secs, rest)) if secs.parse::<f64>().is_ok() => (secs.parse::<f64>().ok(), rest),
                _ => (None, t),
            };
            let rest = rest.trim_start();
            let (dir, rest) = match rest.split_once(' ') {
                Some((d, r)) if ["TE→UE", "UE→TE", "PF→UE", "UE→PF"].contains(&d) => (Some(d.to_string()), r),
                _ => (None, rest),
            };
            let rest = rest.trim_start();
            let (class, text) = match (dir.as_deref(), rest.split_once(' ')) {
                (Some("TE→UE"), _) | (None, _) => (None, rest),
                (Some(_), Some((c, body))) => (Some(c.to_string()), body.trim_start()),
                (Some(_), None) => (None, rest),
            };
            Line {
                kind: if dir.is_some() { "entry".into() } else { "note".into() },
                at_ms: at.map(|s| (s * 1000.0).round()),
                dir,
                class,
                text: text.to_string(),
            }
        })
        .collect()
}

impl CaseRecord {
    pub fn from_result(r: &CaseResult, mask: &Mask) -> Self {
        let (verdict, failed_at, line, reason) = match &r.verdict {
            Verdict::Passed => ("passed", None, None, None),
            Verdict::Failed { at, line, reason } => ("failed", Some(at.clone()), *line, Some(mask.text(reason))),
            Verdict::Skipped(why) => ("skipped", None, None, Some(mask.text(why))),
        };
        let (snapshot, snapshot_diff) = match &r.snapshot {
            crate::golden::Snapshot::Matched => ("matched", None),
            crate::golden::Snapshot::Changed { diff } => ("changed", Some(mask.text(diff))),
            crate::golden::Snapshot::Missing => ("missing", None),
            crate::golden::Snapshot::Tolerated => ("tolerated", None),
            crate::golden::Snapshot::NotCompared => ("not-compared", None),
        };
        CaseRecord {
            suite: r.suite.clone(),
            case: r.case.clone(),
            spec: r.spec.clone(),
            title: r.title.clone(),
            verdict: verdict.into(),
            failed_at,
            line,
            reason,
            duration_ms: ms(r.duration),
            steps: r
                .steps
                .iter()
                .map(|s| StepRecord {
                    label: s.label.clone(),
                    line: s.line,
                    what: mask.text(&s.what),
                    command: command_of(&s.what),
                    latency_ms: s.latency.map(ms),
                    window_ms: s.window.map(ms),
                    failure: s.failure.as_deref().map(|f| mask.text(f)),
                })
                .collect(),
            snapshot: snapshot.into(),
            snapshot_diff,
            warnings: r.warnings.iter().map(|w| mask.text(w)).collect(),
            transcript: lines(&mask.text(&r.transcript)),
        }
    }
}

/// Masks device identities in what a record carries: each value keeps its first `keep` digits.
#[derive(Debug, Clone, Default)]
pub struct Mask {
    values: Vec<(String, String)>,
}

impl Mask {
    /// IMEI: the 8-digit type allocation code stays; IMSI: the 5-digit network code stays.
    pub fn new(imei: Option<&str>, imsi: Option<&str>) -> Self {
        let hide =
            |v: &str, keep: usize| format!("{}{}", &v[..keep.min(v.len())], "*".repeat(v.len().saturating_sub(keep)));
        let mut values = vec![];
        if let Some(i) = imei.filter(|i| i.len() >= 8) {
            values.push((i.to_string(), hide(i, 8)));
        }
        if let Some(i) = imsi.filter(|i| i.len() >= 6) {
            values.push((i.to_string(), hide(i, 5)));
        }
        Mask { values }
    }

    pub fn text(&self, s: &str) -> String {
        self.values.iter().fold(s.to_string(), |acc, (v, m)| acc.replace(v, m))
    }
}

impl RunRecord {
    pub fn load(path: &Path) -> Result<RunRecord, String> {
        let file = if path.is_dir() { path.join("run.json") } else { path.to_path_buf() };
        let text = std::fs::read_to_string(&file).map_err(|e| format!("{}: cannot read: {e}", file.display()))?;
        let v: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| format!("{}: not a run record: {e}", file.display()))?;
        match v.get("schema").and_then(|s| s.as_str()) {
            Some(SCHEMA) => {}
            Some(other) => {
                return Err(format!("{}: schema {other:?}; this miplcheck reads {SCHEMA:?}", file.display()))
            }
            None => return Err(format!("{}: no `schema` field: not a miplcheck run record", file.display())),
        }
        serde_json::from_value(v).map_err(|e| format!("{}: {e}", file.display()))
    }

    pub fn totals(summary: &Summary) -> Totals {
        Totals { passed: summary.passed, failed: summary.failed, skipped: summary.skipped }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timed_lines_read_back() {
        let t = "── step 1: send AT+CGMR\n     0.001s TE→UE          AT+CGMR\\r\n     0.002s UE→TE info     Revision: X\\r\\n\n     0.003s UE→PF coap     CON POST /rd\n";
        let l = lines(t);
        assert_eq!(l[0].kind, "step");
        assert_eq!(
            (l[1].dir.as_deref(), l[1].class.as_deref(), l[1].text.as_str()),
            (Some("TE→UE"), None, "AT+CGMR\\r")
        );
        assert_eq!((l[2].class.as_deref(), l[2].at_ms), (Some("info"), Some(2.0)));
        assert_eq!((l[3].dir.as_deref(), l[3].class.as_deref()), (Some("UE→PF"), Some("coap")));
    }

    #[test]
    fn identities_are_masked_but_the_model_is_kept() {
        let m = Mask::new(Some("869975030000461"), Some("1064826326459"));
        assert_eq!(m.text("ep=869975030000461;1064826326459"), "ep=86997503*******;10648********");
    }

    #[test]
    fn commands_of_steps() {
        assert_eq!(command_of("send AT+MIPLOPEN=0,600,60").as_deref(), Some("+MIPLOPEN"));
        assert_eq!(command_of("send AT").as_deref(), Some("AT"));
        assert_eq!(command_of("urc +MIPLEVENT: 0,6"), None);
    }

    #[test]
    fn an_unknown_schema_is_refused_by_name() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("run.json"), r#"{"schema":"miplcheck-run/9"}"#).unwrap();
        let e = RunRecord::load(d.path()).unwrap_err();
        assert!(e.contains("miplcheck-run/9") && e.contains(SCHEMA), "{e}");
    }
}
