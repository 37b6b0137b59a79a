//! Per-case lines for a terminal or a CI log: PASS/FAIL/SKIP, and for a failure the step, the
//! suite line, the reason and the snapshot diff.

use super::{Event, Reporter};
use crate::golden::Snapshot;
use crate::outcome::Verdict;
use std::io::Write;

pub struct Terminal<W: Write> {
    out: W,
    verbose: bool,
}

impl<W: Write> Terminal<W> {
    pub fn new(out: W, verbose: bool) -> Self {
        Terminal { out, verbose }
    }
}

impl<W: Write> Reporter for Terminal<W> {
    fn on(&mut self, event: &Event<'_>) -> std::io::Result<()> {
        match event {
            Event::RunStarted { rig, dialect, target, cases, .. } => {
                writeln!(self.out, "miplcheck: rig {rig} ({dialect}) on {target}: {cases} case(s)")?;
            }
            Event::CaseStarted { .. } => {}
            Event::CaseFinished(r) => {
                let ms = r.duration.as_millis();
                match &r.verdict {
                    Verdict::Passed => writeln!(self.out, "PASS {} ({}) {ms} ms", r.full_name(), r.spec)?,
                    Verdict::Skipped(why) => writeln!(self.out, "SKIP {} ({why})", r.full_name())?,
                    Verdict::Failed { at, line, reason } => {
                        writeln!(self.out, "FAIL {} ({}) {ms} ms", r.full_name(), r.spec)?;
                        let place = match line {
                            Some(l) => format!("{at} ({}:{l})", r.suite_file),
                            None => at.clone(),
                        };
                        writeln!(self.out, "     {place}: {reason}")?;
                        if let Snapshot::Changed { diff } = &r.snapshot {
                            for l in diff.lines() {
                                writeln!(self.out, "     {l}")?;
                            }
                        }
                        if self.verbose {
                            for l in r.transcript.lines() {
                                writeln!(self.out, "     | {l}")?;
                            }
                        }
                    }
                }
                for w in &r.warnings {
                    writeln!(self.out, "     warning: {w}")?;
                }
            }
            Event::RunFinished(s) => {
                writeln!(
                    self.out,
                    "{} passed, {} failed, {} skipped in {:.1} s",
                    s.passed,
                    s.failed,
                    s.skipped,
                    s.duration.as_secs_f64()
                )?;
            }
        }
        self.out.flush()
    }
}
