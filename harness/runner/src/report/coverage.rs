//! The run's coverage of the manual: at the end of a run, `DIR/coverage.md` and `DIR/coverage.json`
//! from the transcripts of the cases that ran (passed or failed: what crossed the wire either way),
//! and one summary line on the terminal.

use super::{Event, Reporter};
use crate::coverage::{self, lines, CaseLines};
use crate::outcome::Verdict;
use miplcheck_at::Dialect;
use std::io::Write;
use std::path::PathBuf;

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

impl<W: Write> Reporter for CoverageReport<W> {
    fn on(&mut self, event: &Event<'_>) -> std::io::Result<()> {
        match event {
            Event::RunStarted { dialect, .. } => {
                self.dialect = Dialect::by_name(dialect);
                self.cases.clear();
            }
            Event::CaseStarted { .. } => {}
            Event::CaseFinished(r) => {
                if !matches!(r.verdict, Verdict::Skipped(_)) {
                    self.cases.push(CaseLines {
                        id: r.full_name(),
                        spec: r.spec.clone(),
                        lines: lines::parse(&r.transcript),
                    });
                }
            }
            Event::RunFinished(_) => {
                // A rig's dialect is checked when it loads; without one there is no table to read.
                let Some(d) = self.dialect else { return Ok(()) };
                let c = coverage::analyse(d, miplcheck_emulator::events_produced(d.name), &self.cases);
                std::fs::create_dir_all(&self.dir)?;
                std::fs::write(self.dir.join("coverage.md"), coverage::render::markdown(&c))?;
                std::fs::write(self.dir.join("coverage.json"), coverage::render::json(std::slice::from_ref(&c)))?;
                writeln!(self.out, "coverage: {}", c.summary().line(d.name))?;
                self.out.flush()?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::golden::Snapshot;
    use crate::outcome::{CaseResult, Summary};

    fn result(case: &str, verdict: Verdict, transcript: &str) -> CaseResult {
        CaseResult {
            suite: "x".into(),
            suite_file: "suites/x.yaml".into(),
            case: case.into(),
            spec: "BC39 §3.2.2".into(),
            title: None,
            verdict,
            steps: vec![],
            snapshot: Snapshot::NotCompared,
            transcript: transcript.into(),
            warnings: vec![],
            duration: Default::default(),
            capture: None,
        }
    }

    #[test]
    fn writes_markdown_and_json_and_one_terminal_line() {
        let dir = tempfile::tempdir().unwrap();
        let mut term = Vec::new();
        let mut r = CoverageReport::new(dir.path().to_path_buf(), &mut term);
        // As `Transcript::timed` writes it.
        let ran = r"     0.000s TE→UE          AT+MIPLCREATE\r
     0.001s UE→TE urc      \r\n+MIPLEVENT: 0,88\r\n
";
        let skipped = r"     0.000s TE→UE          AT+MIPLVER?\r";
        let info = crate::record::RigInfo {
            name: "r".into(),
            dialect: "bc39".into(),
            target: "t".into(),
            capabilities: vec![],
            window_scale: 1.0,
            secrets: vec![],
        };
        let (firmware, mask) = (crate::record::Firmware::default(), crate::record::Mask::default());
        r.on(&Event::RunStarted {
            rig: "r",
            dialect: "bc39",
            target: "t",
            cases: 2,
            info: &info,
            firmware: &firmware,
            mask: &mask,
        })
        .unwrap();
        r.on(&Event::CaseFinished(&result("ran", Verdict::Passed, ran))).unwrap();
        r.on(&Event::CaseFinished(&result("skip", Verdict::Skipped("no".into()), skipped))).unwrap();
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
