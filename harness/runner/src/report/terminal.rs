//! Per-case lines for a terminal or a CI log: PASS/FAIL/ERROR/FLAKY/SKIP, and for a failure the
//! step, the suite line, the reason and the snapshot diff. On a terminal, progress bars (indicatif)
//! show the rig's cases done and the suite and case being run, with the lines printed above them;
//! in a log (not a terminal) there are only the lines. In a rack every rig has its own reporter:
//! its lines start with `[rig]` and its bar sits in the rack's shared [`indicatif::MultiProgress`].
//!
//! Which lines are printed is the [`StatusLevel`] (nextest's word): the totals always are.

use super::{Event, Reporter};
use miplcheck_record::Verdict;
use std::io::Write;

/// Which case lines a terminal prints: each level includes those before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum StatusLevel {
    /// No case lines, only the totals.
    None,
    /// Failures and infrastructure errors (quarantined ones too).
    Fail,
    /// And retries and flaky passes.
    Retry,
    /// And passes.
    Pass,
    /// And skipped cases: every line.
    #[default]
    Skip,
}

impl std::str::FromStr for StatusLevel {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "none" => StatusLevel::None,
            "fail" => StatusLevel::Fail,
            "retry" => StatusLevel::Retry,
            "pass" => StatusLevel::Pass,
            "skip" | "all" => StatusLevel::Skip,
            other => return Err(format!("{other:?} is not a status level: none, fail, retry, pass, skip or all")),
        })
    }
}

pub struct Terminal<W: Write> {
    out: W,
    verbose: bool,
    level: StatusLevel,
    /// `[rig] ` in a rack, else empty.
    prefix: String,
    bars: Option<Bars>,
    hidden_skips: usize,
    /// The case being run, which the engine's step-by-step progress is shown under.
    current: std::sync::Arc<std::sync::Mutex<String>>,
    /// Quarantined cases that passed: the quarantine list may be pruned of them.
    cured: Vec<String>,
}

/// The rig's progress (cases done of all) and the suite and case being run.
struct Bars {
    multi: indicatif::MultiProgress,
    run: indicatif::ProgressBar,
    /// A spinner under the rig's bar; none in a rack, where each rig has one line.
    case: Option<indicatif::ProgressBar>,
}

impl<W: Write> Terminal<W> {
    /// Plain lines to `out`, whatever it is.
    pub fn new(out: W, verbose: bool) -> Self {
        Terminal {
            out,
            verbose,
            level: StatusLevel::default(),
            prefix: String::new(),
            bars: None,
            hidden_skips: 0,
            current: Default::default(),
            cured: vec![],
        }
    }

    /// Only the lines of this level and those before it.
    pub fn status_level(mut self, level: StatusLevel) -> Self {
        self.level = level;
        self
    }

    /// Every line starts with `[rig] `: one rig's lines among a rack's.
    pub fn for_rig(mut self, rig: &str) -> Self {
        self.prefix = format!("[{rig}] ");
        self
    }
}

fn style(template: &str) -> indicatif::ProgressStyle {
    indicatif::ProgressStyle::with_template(template)
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> ")
}

impl Terminal<std::io::Stdout> {
    /// Lines to standard output, with progress bars when it is a terminal.
    pub fn stdout(verbose: bool) -> Self {
        use std::io::IsTerminal;
        let mut t = Terminal::new(std::io::stdout(), verbose);
        if std::io::stdout().is_terminal() {
            let multi = indicatif::MultiProgress::with_draw_target(indicatif::ProgressDrawTarget::stdout());
            let run = multi.add(indicatif::ProgressBar::new(0));
            run.set_style(style("{prefix:.bold} [{bar:30}] {pos}/{len} cases, {elapsed}"));
            let case = multi.add(indicatif::ProgressBar::new_spinner());
            case.set_style(style("  {spinner} {msg}"));
            case.enable_steady_tick(std::time::Duration::from_millis(120));
            t.bars = Some(Bars { multi, run, case: Some(case) });
        }
        t
    }

    /// One rig's reporter in a rack: lines prefixed `[rig]`, and, when `multi` is given (stdout
    /// is a terminal), one progress line for the rig in it saying what the rig is doing.
    pub fn rack_member(rig: &str, verbose: bool, multi: Option<&indicatif::MultiProgress>) -> Self {
        let mut t = Terminal::new(std::io::stdout(), verbose).for_rig(rig);
        if let Some(multi) = multi {
            let run = multi.add(indicatif::ProgressBar::new(0));
            run.set_style(style("{prefix:.bold} [{bar:20}] {pos}/{len} {msg}"));
            run.set_prefix(rig.to_string());
            run.enable_steady_tick(std::time::Duration::from_millis(250));
            t.bars = Some(Bars { multi: multi.clone(), run, case: None });
        }
        t
    }
}

impl<W: Write> Terminal<W> {
    /// Where the engine says what the rig is doing, shown on its progress line; none off a
    /// terminal.
    pub fn progress(&self) -> Option<crate::engine::Progress> {
        let b = self.bars.as_ref()?;
        let bar = b.case.clone().unwrap_or_else(|| b.run.clone());
        let current = self.current.clone();
        Some(crate::engine::Progress(std::sync::Arc::new(move |what: &str| {
            let case = current.lock().map(|c| c.clone()).unwrap_or_default();
            bar.set_message(miplcheck_record::printable(&format!("{case} — {what}")));
        })))
    }

    /// A finished line: above the bars on a terminal, else to `out`. Reasons quote what the
    /// modem sent, so control characters are shown escaped, never sent to the terminal.
    fn line(&mut self, text: String) -> std::io::Result<()> {
        let text = miplcheck_record::printable(&format!("{}{text}", self.prefix));
        match &self.bars {
            Some(b) => b.multi.println(text),
            None => writeln!(self.out, "{text}"),
        }
    }

    fn doing(&self, what: String) {
        if let Some(b) = &self.bars {
            match &b.case {
                Some(c) => c.set_message(what),
                None => b.run.set_message(what),
            }
        }
    }

    fn case_lines(&mut self, r: &miplcheck_record::CaseRecord) -> std::io::Result<()> {
        let ms = r.duration_ms as u64;
        let reason = r.reason.as_deref().unwrap_or("");
        if r.verdict == Verdict::Passed && r.quarantine.is_some() {
            self.cured.push(r.full_name());
        }
        let level = match r.verdict {
            Verdict::Failed | Verdict::Error => StatusLevel::Fail,
            Verdict::Passed if r.flaky() => StatusLevel::Retry,
            Verdict::Passed => StatusLevel::Pass,
            Verdict::Skipped => StatusLevel::Skip,
        };
        if level > self.level {
            if level == StatusLevel::Skip {
                self.hidden_skips += 1;
            }
            return Ok(());
        }
        let quarantined = r.quarantine.as_ref().map(|t| format!(" [quarantined: {t}]")).unwrap_or_default();
        match r.verdict {
            Verdict::Passed if r.flaky() => {
                self.line(format!(
                    "FLAKY {} ({}) {ms} ms: passed on attempt {}{quarantined}",
                    r.full_name(),
                    r.spec,
                    r.attempt_count()
                ))?;
                for (i, a) in r.attempts.iter().enumerate() {
                    let why = a.reason.as_deref().unwrap_or("");
                    self.line(format!("     attempt {}: {}: {why}", i + 1, a.place().unwrap_or_default()))?;
                }
            }
            Verdict::Passed => self.line(format!("PASS {} ({}) {ms} ms{quarantined}", r.full_name(), r.spec))?,
            Verdict::Skipped => self.line(format!("SKIP {} ({reason})", r.full_name()))?,
            Verdict::Error if r.failed_at == Some(miplcheck_record::FailedAt::NotRun) => {
                // The rig's reason is said once, at its end; each case only says it did not run.
                let short = reason.split(" (").next().unwrap_or(reason);
                self.line(format!("ERROR {} ({short})", r.full_name()))?;
            }
            Verdict::Failed | Verdict::Error => {
                let tries =
                    if r.attempts.is_empty() { String::new() } else { format!(", {} attempts", r.attempt_count()) };
                self.line(format!("{} {} ({}) {ms} ms{tries}{quarantined}", r.verdict.word(), r.full_name(), r.spec))?;
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
        Ok(())
    }
}

impl<W: Write + Send> Reporter for Terminal<W> {
    fn prints(&self) -> bool {
        true
    }

    fn on(&mut self, event: &Event<'_>) -> std::io::Result<()> {
        match event {
            Event::RunStarted { rig, cases, firmware, .. } => {
                let (name, dialect) = (&rig.name, &rig.dialect);
                if let Some(b) = &self.bars {
                    b.run.set_length(*cases as u64);
                    if b.case.is_some() {
                        b.run.set_prefix(format!("{name} ({dialect})"));
                    }
                }
                self.line(format!("miplcheck: rig {name} ({dialect}) on {}: {cases} case(s)", rig.target))?;
                if let Some(f) = &firmware.flash {
                    let unknown = "unknown";
                    self.line(format!(
                        "flashed {} by {}: {} -> {}, expected {} ({}): {}",
                        f.describe_file(),
                        f.via,
                        f.before.as_deref().unwrap_or(unknown),
                        f.after.as_deref().unwrap_or(unknown),
                        f.expected,
                        f.expected_from,
                        f.outcome.as_str()
                    ))?;
                }
            }
            Event::CaseStarted { suite, case } => {
                let now = format!("suite {suite}: {case}");
                if let Ok(mut c) = self.current.lock() {
                    c.clone_from(&now);
                }
                self.doing(now);
            }
            Event::Doing(what) => self.doing(what.to_string()),
            Event::CaseRetrying { record, next, of, delay } => {
                if StatusLevel::Retry <= self.level {
                    let after = if delay.is_zero() { String::new() } else { format!(" after {delay:?}") };
                    self.line(format!(
                        "RETRY {} attempt {next} of {of}{after}: {} at {}: {}",
                        record.full_name(),
                        record.verdict,
                        record.place().unwrap_or_default(),
                        record.reason.as_deref().unwrap_or("")
                    ))?;
                }
            }
            Event::CaseFinished(result) => {
                if let Some(b) = &self.bars {
                    b.run.inc(1);
                }
                self.case_lines(&result.record)?;
            }
            Event::RunFinished(s) => {
                if let Some(b) = self.bars.take() {
                    if let Some(c) = b.case {
                        c.finish_and_clear();
                    }
                    b.run.finish_and_clear();
                }
                if let Some(why) = &s.incomplete {
                    self.line(format!("incomplete: {why}; the reports hold the cases that finished"))?;
                }
                if let Some(h) = s.health.as_ref().filter(|h| h.state == miplcheck_record::HealthState::Unhealthy) {
                    self.line(format!("unhealthy: {}", h.reason.as_deref().unwrap_or("")))?;
                }
                if !self.cured.is_empty() {
                    let names = std::mem::take(&mut self.cured);
                    self.line(format!(
                        "quarantined but passed ({}; the quarantine list may be pruned of them): {}",
                        names.len(),
                        names.join(", ")
                    ))?;
                }
                let hidden = if self.hidden_skips > 0 { " (not shown; --status-level skip shows them)" } else { "" };
                self.line(format!("{} in {:.1} s", totals(&s.totals, hidden), s.duration.as_secs_f64()))?;
            }
        }
        self.out.flush()
    }
}

/// `80 passed (1 flaky), 1 failed, 2 errors, 1 quarantined, 52 skipped`: the counts that are not
/// zero beyond the three a run always has.
pub fn totals(t: &miplcheck_record::Totals, skipped_note: &str) -> String {
    let flaky = if t.flaky > 0 { format!(" ({} flaky)", t.flaky) } else { String::new() };
    let mut s = format!("{} passed{flaky}, {} failed", t.passed, t.failed);
    if t.errors > 0 {
        s += &format!(", {} error{}", t.errors, if t.errors == 1 { "" } else { "s" });
    }
    if t.quarantined > 0 {
        s += &format!(", {} quarantined", t.quarantined);
    }
    s + &format!(", {} skipped{skipped_note}", t.skipped)
}
