//! The run's coverage of the manual: at the end of a run, `DIR/coverage.md` and `DIR/coverage.json`
//! from the transcripts of the cases that ran (passed or failed: what crossed the wire either way),
//! and one summary line on the terminal.

use super::{Event, Reporter};
use miplcheck_at::Dialect;
use miplcheck_coverage::{self as coverage, lines, CaseLines};
use miplcheck_record::{CaseRecord, RunRecord, Verdict};
use std::io::Write;
use std::path::{Path, PathBuf};

pub struct CoverageReport<W: Write> {
    dir: PathBuf,
    out: W,
    dialect: Option<&'static Dialect>,
    cases: Vec<CaseLines>,
}

impl<W: Write> CoverageReport<W> {
    /// Files go to `dir`; the summary line to `out`.
    pub fn new(dir: PathBuf, out: W) -> Self {
        CoverageReport { dir, out, dialect: None, cases: vec![] }
    }
}

impl<W: Write + Send> Reporter for CoverageReport<W> {
    fn prints(&self) -> bool {
        true
    }

    fn on(&mut self, event: &Event<'_>) -> std::io::Result<()> {
        match event {
            Event::RunStarted { rig, .. } => {
                self.dialect = Dialect::by_name(&rig.dialect);
                self.cases.clear();
            }
            Event::CaseStarted { .. } | Event::Doing(_) | Event::CaseRetrying { .. } => {}
            Event::CaseFinished(result) => self.cases.extend(evidence(&result.record)),
            Event::RunFinished(_) => {
                // A rig's dialect is checked when it loads; without one there is no table to read.
                let Some(d) = self.dialect else { return Ok(()) };
                let line = write(&self.dir, d, &self.cases)?;
                writeln!(self.out, "coverage: {line}")?;
                self.out.flush()?;
            }
        }
        Ok(())
    }
}

/// What a case that ran shows of the manual; nothing for a skipped one.
fn evidence(r: &CaseRecord) -> Option<CaseLines> {
    (r.verdict != Verdict::Skipped).then(|| CaseLines {
        id: r.full_name(),
        spec: r.spec.clone(),
        lines: lines::of_record(&r.transcript),
    })
}

/// Writes `coverage.md` and `coverage.json` into `dir`; returns the summary line.
fn write(dir: &Path, d: &'static Dialect, cases: &[CaseLines]) -> std::io::Result<String> {
    let c = coverage::analyse(d, miplcheck_emulator::events_produced(d.name), cases);
    super::atomic::write(&dir.join("coverage.md"), coverage::render::markdown(&c).as_bytes())?;
    let json = coverage::render::json(std::slice::from_ref(&c));
    super::atomic::write(&dir.join("coverage.json"), json.as_bytes())?;
    Ok(c.summary().line(d.name))
}

/// The coverage files of a whole record (for `miplcheck report` rebuilding a run from its
/// journal); none for a dialect this miplcheck has no table for.
pub fn from_record(dir: &Path, record: &RunRecord) -> std::io::Result<Option<String>> {
    let Some(d) = Dialect::by_name(&record.rig.dialect) else { return Ok(None) };
    let cases: Vec<CaseLines> = record.cases.iter().filter_map(evidence).collect();
    write(dir, d, &cases).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::{CaseResult, Summary};
    use miplcheck_record::{CaseRecord, Class, Dir, Firmware, Line, RigInfo, SnapshotResult};

    fn result(case: &str, verdict: Verdict, transcript: Vec<Line>) -> CaseResult {
        let record = CaseRecord {
            suite: "x".into(),
            case: case.into(),
            spec: "BC39 §3.2.2".into(),
            title: None,
            verdict,
            failed_at: None,
            line: None,
            reason: None,
            duration_ms: 0.0,
            steps: vec![],
            snapshot: SnapshotResult::NotCompared,
            snapshot_diff: None,
            warnings: vec![],
            transcript,
            suite_file: None,
            attempts: vec![],
            quarantine: None,
        };
        CaseResult { record, capture: None }
    }

    #[test]
    fn writes_markdown_and_json_and_one_terminal_line() {
        let dir = tempfile::tempdir().unwrap();
        let mut term = Vec::new();
        let mut r = CoverageReport::new(dir.path().to_path_buf(), &mut term);
        let ran = vec![
            Line::entry(0.0, Dir::TeToUe, None, r"AT+MIPLCREATE\r"),
            Line::entry(1.0, Dir::UeToTe, Some(Class::Urc), r"\r\n+MIPLEVENT: 0,88\r\n"),
        ];
        let skipped = vec![Line::entry(0.0, Dir::TeToUe, None, r"AT+MIPLVER?\r")];
        let info = RigInfo {
            name: "r".into(),
            dialect: "bc39".into(),
            target: "t".into(),
            capabilities: vec![],
            window_scale: 1.0,
            secrets: vec![],
        };
        let firmware = Firmware::default();
        r.on(&Event::RunStarted { rig: &info, firmware: &firmware, cases: 2, suites: None, partition: None }).unwrap();
        r.on(&Event::CaseFinished(&result("ran", Verdict::Passed, ran))).unwrap();
        r.on(&Event::CaseFinished(&result("skip", Verdict::Skipped, skipped))).unwrap();
        r.on(&Event::RunFinished(&Summary::default())).unwrap();
        drop(r);
        let line = String::from_utf8(term).unwrap();
        assert!(line.starts_with("coverage: bc39: commands 1/18 ") && line.ends_with('\n'), "{line}");
        assert_eq!(line.lines().count(), 1);
        let md = std::fs::read_to_string(dir.path().join("coverage.md")).unwrap();
        assert!(
            md.contains("| `AT+MIPLCREATE` | create a OneNET suite instance | BC39 §3.2.2 | covered | x/ran |"),
            "{md}"
        );
        assert!(md.contains("| `AT+MIPLVER?` |") && !md.contains("x/skip"), "skipped cases cover nothing");
        assert!(md.contains("| event | `88` | not an event code of the manual | x/ran |"), "{md}");
        let json = std::fs::read_to_string(dir.path().join("coverage.json")).unwrap();
        assert!(json.contains("\"dialect\": \"bc39\""), "{json}");
    }
}
