//! Per-case lines for a terminal or a CI log: PASS/FAIL/SKIP, and for a failure the step, the
//! suite line, the reason and the snapshot diff. On a terminal, progress bars (indicatif) show
//! the rig's cases done and the suite and case being run, with the lines printed above them; in a
//! log (not a terminal) there are only the lines.

use super::{Event, Reporter};
use miplcheck_record::Verdict;
use std::io::Write;

pub struct Terminal<W: Write> {
    out: W,
    verbose: bool,
    bars: Option<Bars>,
}

/// The rig's progress (cases done of all) and the suite and case being run.
struct Bars {
    multi: indicatif::MultiProgress,
    run: indicatif::ProgressBar,
    case: indicatif::ProgressBar,
}

impl<W: Write> Terminal<W> {
    /// Plain lines to `out`, whatever it is.
    pub fn new(out: W, verbose: bool) -> Self {
        Terminal { out, verbose, bars: None }
    }
}

impl Terminal<std::io::Stdout> {
    /// Lines to standard output, with progress bars when it is a terminal.
    pub fn stdout(verbose: bool) -> Self {
        use std::io::IsTerminal;
        let mut t = Terminal::new(std::io::stdout(), verbose);
        if std::io::stdout().is_terminal() {
            let multi = indicatif::MultiProgress::with_draw_target(indicatif::ProgressDrawTarget::stdout());
            let run = multi.add(indicatif::ProgressBar::new(0));
            run.set_style(
                indicatif::ProgressStyle::with_template("{prefix:.bold} [{bar:30}] {pos}/{len} cases, {elapsed}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            let case = multi.add(indicatif::ProgressBar::new_spinner());
            case.set_style(
                indicatif::ProgressStyle::with_template("  {spinner} {msg}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
            );
            case.enable_steady_tick(std::time::Duration::from_millis(120));
            t.bars = Some(Bars { multi, run, case });
        }
        t
    }
}

impl<W: Write> Terminal<W> {
    /// A finished line: above the bars on a terminal, else to `out`. Reasons quote what the
    /// modem sent, so control characters are shown escaped, never sent to the terminal.
    fn line(&mut self, text: String) -> std::io::Result<()> {
        let text = miplcheck_record::printable(&text);
        match &self.bars {
            Some(b) => b.multi.println(text),
            None => writeln!(self.out, "{text}"),
        }
    }
}

impl<W: Write> Reporter for Terminal<W> {
    fn on(&mut self, event: &Event<'_>) -> std::io::Result<()> {
        match event {
            Event::RunStarted { rig, cases, .. } => {
                let (name, dialect) = (&rig.name, &rig.dialect);
                if let Some(b) = &self.bars {
                    b.run.set_length(*cases as u64);
                    b.run.set_prefix(format!("{name} ({dialect})"));
                }
                self.line(format!("miplcheck: rig {name} ({dialect}) on {}: {cases} case(s)", rig.target))?;
            }
            Event::CaseStarted { suite, case } => {
                if let Some(b) = &self.bars {
                    b.case.set_message(format!("suite {suite}: {case}"));
                }
            }
            Event::CaseFinished(result) => {
                if let Some(b) = &self.bars {
                    b.run.inc(1);
                }
                let r = &result.record;
                let ms = r.duration_ms as u64;
                let reason = r.reason.as_deref().unwrap_or("");
                match r.verdict {
                    Verdict::Passed => self.line(format!("PASS {} ({}) {ms} ms", r.full_name(), r.spec))?,
                    Verdict::Skipped => self.line(format!("SKIP {} ({reason})", r.full_name()))?,
                    Verdict::Failed => {
                        self.line(format!("FAIL {} ({}) {ms} ms", r.full_name(), r.spec))?;
                        self.line(format!("     {}: {reason}", r.place().unwrap_or_default()))?;
                        for l in r.snapshot_diff.iter().flat_map(|d| d.lines()) {
                            self.line(format!("     {l}"))?;
                        }
                        if self.verbose {
                            for l in &r.transcript {
                                self.line(format!("     | {l}"))?;
                            }
                        }
                    }
                }
                for w in &r.warnings {
                    self.line(format!("     warning: {w}"))?;
                }
            }
            Event::RunFinished(s) => {
                if let Some(b) = self.bars.take() {
                    b.case.finish_and_clear();
                    b.run.finish_and_clear();
                }
                if let Some(why) = &s.incomplete {
                    self.line(format!("incomplete: {why}; the reports hold the cases that finished"))?;
                }
                self.line(format!(
                    "{} passed, {} failed, {} skipped in {:.1} s",
                    s.totals.passed,
                    s.totals.failed,
                    s.totals.skipped,
                    s.duration.as_secs_f64()
                ))?;
            }
        }
        self.out.flush()
    }
}
