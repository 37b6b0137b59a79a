//! `miplcheck diff`: two run records compared, for "vendor A vs vendor B" (two dialects) and
//! "firmware N vs firmware N-1" (one dialect) alike.
//!
//! [`compare`] turns two [`RunRecord`]s into a [`Comparison`]: cases matched by `suite/case` with
//! their verdicts and step-aligned transcripts ([`align`]), the per-command matrix and the event
//! and error tables ([`matrix`], built from the dialect tables and what the transcripts show,
//! [`evidence`]), and latency per command ([`latency`]). [`markdown`] and [`html`] only render it.
//!
//! What counts as a regression (the CLI's exit status 1): a case that passed in A and fails in B,
//! or a command slower in B beyond the threshold (and by at least `min_delta_ms`, so timer jitter
//! on sub-millisecond answers does not gate a CI job) in the bulk of its answers, at the 95% lower
//! bound of the shift, and in its p95 too once there are samples enough for a p95 that is not the
//! slowest sample ([`latency`] gives the rule).

pub mod align;
pub mod evidence;
pub mod html;
pub mod latency;
pub mod markdown;
pub mod matrix;
pub mod summary;
pub mod volatile;

use align::StepDiff;
use evidence::Evidence;
use latency::{LatencyRow, Threshold};
use matrix::{CommandRow, ErrorRow, EventRow, MeaningRow};
use miplcheck_at::Dialect;
use miplcheck_record::{CaseRecord, RunRecord};
use miplcheck_record::{FailedAt, SnapshotResult, Verdict};
use std::collections::{BTreeMap, BTreeSet};

/// How latencies are judged.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Options {
    pub threshold: Threshold,
    /// Commands with fewer samples than this on either side are shown but never flagged.
    pub min_samples: usize,
    /// Fewer samples than this on a side and the p95 is not judged (the shift alone is): the
    /// nearest-rank p95 of fewer than 20 samples is the slowest one, a single scheduling spike.
    pub p95_min_samples: usize,
    /// A change smaller than this (ms) is never a regression: below it is the host's scheduling
    /// and USB-serial jitter, which a relative threshold on sub-millisecond answers would flag.
    pub min_delta_ms: f64,
}

impl Default for Options {
    fn default() -> Self {
        Options { threshold: Threshold::Relative(20.0), min_samples: 3, p95_min_samples: 20, min_delta_ms: 5.0 }
    }
}

/// One side of the comparison, as the reports name it.
#[derive(Debug, Clone)]
pub struct RunInfo {
    /// `A` or `B`.
    pub side: &'static str,
    /// What tells this run from the other one: the rig, else the firmware, else the start time.
    pub label: String,
    pub rig: String,
    pub dialect: String,
    /// The dialect as its manual names it (`BC39`, `M5310-A`), or the rig's word when unknown.
    pub model: String,
    pub manual: Option<&'static str>,
    pub target: String,
    pub firmware: String,
    pub started: String,
    pub tool: String,
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum CaseChange {
    /// Passed in A, failed in B.
    Regression,
    /// Failed in A, passed in B.
    Fixed,
    /// Both ran with the same verdict, and the transcripts differ beyond volatile values.
    TranscriptDiffers,
    /// Both ran with the same verdict and the same transcript.
    Same,
    /// Ran (passed or failed) on one side, skipped on the other.
    RanInAOnly,
    RanInBOnly,
    /// In the record of one side only (the suites changed between the runs).
    OnlyInA,
    OnlyInB,
    /// Skipped on both sides.
    SkippedBoth,
}

impl CaseChange {
    pub fn words(self) -> &'static str {
        match self {
            CaseChange::Regression => "regression: passed in A, fails in B",
            CaseChange::Fixed => "fixed: failed in A, passes in B",
            CaseChange::TranscriptDiffers => "same verdict, transcript differs",
            CaseChange::Same => "same",
            CaseChange::RanInAOnly => "ran in A only (skipped in B)",
            CaseChange::RanInBOnly => "ran in B only (skipped in A)",
            CaseChange::OnlyInA => "only in A's record",
            CaseChange::OnlyInB => "only in B's record",
            CaseChange::SkippedBoth => "skipped in both",
        }
    }

    /// Ran on both sides and something differs.
    pub fn differs(self) -> bool {
        matches!(self, CaseChange::Regression | CaseChange::Fixed | CaseChange::TranscriptDiffers)
    }
}

/// A case's verdict on one side.
#[derive(Debug, Clone)]
pub struct CaseSide {
    pub verdict: Verdict,
    pub failed_at: Option<FailedAt>,
    pub reason: Option<String>,
    pub snapshot: SnapshotResult,
    pub duration_ms: f64,
}

impl CaseSide {
    fn of(c: &CaseRecord) -> Self {
        CaseSide {
            verdict: c.verdict,
            failed_at: c.failed_at.clone(),
            reason: c.reason.clone(),
            snapshot: c.snapshot,
            duration_ms: c.duration_ms,
        }
    }

    fn ran(&self) -> bool {
        self.verdict != Verdict::Skipped
    }

    /// `failed at step 3: …`, `skipped: …`, or the bare verdict.
    pub fn words(&self) -> String {
        match (self.verdict, &self.failed_at, &self.reason) {
            (Verdict::Failed, Some(at), Some(r)) => format!("failed at {at}: {r}"),
            (Verdict::Failed, None, Some(r)) => format!("failed: {r}"),
            (Verdict::Skipped, _, Some(r)) => format!("skipped: {r}"),
            (Verdict::Error, _, Some(r)) => format!("infrastructure error: {r}"),
            (v, _, _) => v.to_string(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct CaseRow {
    /// `suite/case`.
    pub key: String,
    pub spec: String,
    pub title: Option<String>,
    pub a: Option<CaseSide>,
    pub b: Option<CaseSide>,
    pub change: CaseChange,
    /// Step-aligned transcripts, when the case ran on both sides and they differ; empty when
    /// every step is the same, since only differing cases are shown and a big run's same steps
    /// would be a third copy of both runs' transcripts.
    pub steps: Vec<StepDiff>,
}

impl CaseRow {
    pub fn differing_steps(&self) -> impl Iterator<Item = &StepDiff> {
        self.steps.iter().filter(|s| s.differs())
    }
}

#[derive(Debug, Clone)]
pub struct Comparison {
    pub a: RunInfo,
    pub b: RunInfo,
    /// One dialect on both sides: a firmware comparison rather than a vendor comparison.
    pub same_dialect: bool,
    pub options: Options,
    pub cases: Vec<CaseRow>,
    pub commands: Vec<CommandRow>,
    pub events: Vec<EventRow>,
    /// Meanings both event tables have under different codes.
    pub meanings: Vec<MeaningRow>,
    pub errors: Vec<ErrorRow>,
    pub latency: Vec<LatencyRow>,
    /// Some latency was judged on the response time corrected for a serial line.
    pub latency_corrected: bool,
}

/// The counts the CLI prints and the reports open with.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Cases that ran on both sides.
    pub compared: usize,
    pub differing: usize,
    pub verdict_regressions: usize,
    pub fixed: usize,
    pub ran_one_side: usize,
    pub record_one_side: usize,
    pub commands: usize,
    pub commands_differing: usize,
    pub events_differing: usize,
    pub latency_compared: usize,
    pub latency_regressions: usize,
}

impl Comparison {
    pub fn counts(&self) -> Counts {
        let count = |f: &dyn Fn(&CaseRow) -> bool| self.cases.iter().filter(|c| f(c)).count();
        Counts {
            compared: count(&|c| {
                matches!(
                    c.change,
                    CaseChange::Regression | CaseChange::Fixed | CaseChange::TranscriptDiffers | CaseChange::Same
                )
            }),
            differing: count(&|c| c.change.differs()),
            verdict_regressions: count(&|c| c.change == CaseChange::Regression),
            fixed: count(&|c| c.change == CaseChange::Fixed),
            ran_one_side: count(&|c| matches!(c.change, CaseChange::RanInAOnly | CaseChange::RanInBOnly)),
            record_one_side: count(&|c| matches!(c.change, CaseChange::OnlyInA | CaseChange::OnlyInB)),
            commands: self.commands.len(),
            commands_differing: self.commands.iter().filter(|c| c.differs()).count(),
            events_differing: self.events.iter().filter(|e| e.differs()).count(),
            latency_compared: self.latency.iter().filter(|l| l.a.is_some() && l.b.is_some()).count(),
            latency_regressions: self.latency.iter().filter(|l| l.regression.is_some()).count(),
        }
    }

    /// Why B is a regression of A, a sentence each; empty when it is not (exit status 0).
    pub fn regressions(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .cases
            .iter()
            .filter(|c| c.change == CaseChange::Regression)
            .map(|c| {
                let why = c.b.as_ref().map(CaseSide::words).unwrap_or_default();
                format!("{} passed in A and fails in B ({why})", c.key)
            })
            .collect();
        out.extend(self.latency.iter().filter_map(|l| l.regression.as_ref().map(|r| format!("{} {r}", l.at()))));
        out
    }
}

/// Compares two runs; A is the reference ("before", or vendor A), B the candidate.
pub fn compare(a: &RunRecord, b: &RunRecord, options: Options) -> Comparison {
    let (label_a, label_b) = labels(a, b);
    let da = Dialect::by_name(&a.rig.dialect);
    let db = Dialect::by_name(&b.rig.dialect);
    let same_dialect = a.rig.dialect.eq_ignore_ascii_case(&b.rig.dialect);
    // One dialect: only the cases both ran, so a suite run on one side only does not read as a
    // changed answer or a slower command. Two dialects share few cases; each run speaks for itself.
    let ran = |r: &RunRecord| -> BTreeSet<String> {
        r.cases.iter().filter(|c| c.verdict != Verdict::Skipped).map(|c| format!("{}/{}", c.suite, c.case)).collect()
    };
    let scope: Option<BTreeSet<String>> = same_dialect.then(|| ran(a).intersection(&ran(b)).cloned().collect());
    let (ea, eb) = both(|| Evidence::of(a, da, scope.as_ref()), || Evidence::of(b, db, scope.as_ref()));
    let info_a = info("A", label_a, a, da);
    let info_b = info("B", label_b, b, db);
    // With one dialect on both sides its name tells nothing apart; the sides do.
    let names = if same_dialect { ("A", "B") } else { (info_a.model.as_str(), info_b.model.as_str()) };
    Comparison {
        same_dialect,
        options,
        cases: cases(a, b),
        commands: matrix::commands(names, (da, db), (&ea, &eb)),
        events: matrix::events(names, (da, db), (&ea, &eb)),
        meanings: if same_dialect { Vec::new() } else { matrix::meanings((da, db)) },
        errors: matrix::errors((da, db), (&ea, &eb)),
        latency: latency::rows(a, b, options, scope.as_ref()),
        latency_corrected: latency::any_corrected(a, b),
        a: info_a,
        b: info_b,
    }
}

/// The manual's name for a dialect (`BC39`), from its table.
pub fn model_name(d: &Dialect) -> String {
    d.model.to_string()
}

fn info(side: &'static str, label: String, r: &RunRecord, d: Option<&'static Dialect>) -> RunInfo {
    RunInfo {
        side,
        label,
        rig: r.rig.name.clone(),
        dialect: r.rig.dialect.clone(),
        model: d.map(model_name).unwrap_or_else(|| r.rig.dialect.clone()),
        manual: d.map(|d| d.manual),
        target: r.rig.target.clone(),
        firmware: first_line(&r.firmware.revision),
        started: r.started.clone(),
        tool: r.tool.clone(),
        passed: r.summary.passed,
        failed: r.summary.failed,
        skipped: r.summary.skipped,
    }
}

fn first_line(s: &str) -> String {
    let l = s.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("");
    if l.is_empty() {
        "(not read)".into()
    } else {
        l.to_string()
    }
}

/// Names each run by the first thing that tells them apart, so "firmware N vs N-1" reads by
/// firmware and "vendor A vs vendor B" by rig.
fn labels(a: &RunRecord, b: &RunRecord) -> (String, String) {
    let candidates = [
        (a.rig.name.clone(), b.rig.name.clone()),
        (first_line(&a.firmware.revision), first_line(&b.firmware.revision)),
        (a.started.clone(), b.started.clone()),
    ];
    for (x, y) in candidates {
        if x != y && !x.is_empty() && !y.is_empty() {
            return (x, y);
        }
    }
    (format!("{} (A)", a.rig.name), format!("{} (B)", b.rig.name))
}

/// `fa()` and `fb()`, the second on a thread of its own: a big pair of records is read twice over,
/// and the machine has more than one core.
fn both<A: Send, B: Send>(fa: impl FnOnce() -> A + Send, fb: impl FnOnce() -> B + Send) -> (A, B) {
    std::thread::scope(|s| {
        let hb = s.spawn(fb);
        let ra = fa();
        (ra, hb.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
    })
}

/// `items` mapped by `f`, in order, shared among the machine's cores in contiguous runs when
/// there are enough of them to be worth a thread.
fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8);
    if threads < 2 || items.len() < 256 {
        return items.iter().map(f).collect();
    }
    let per = items.len().div_ceil(threads);
    std::thread::scope(|s| {
        let f = &f;
        let parts: Vec<_> =
            items.chunks(per).map(|part| s.spawn(move || part.iter().map(f).collect::<Vec<R>>())).collect();
        parts.into_iter().flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))).collect()
    })
}

fn cases(a: &RunRecord, b: &RunRecord) -> Vec<CaseRow> {
    let key = |c: &CaseRecord| format!("{}/{}", c.suite, c.case);
    let mut order: Vec<String> = Vec::new();
    let mut pairs: BTreeMap<String, (Option<&CaseRecord>, Option<&CaseRecord>)> = BTreeMap::new();
    for c in &a.cases {
        let k = key(c);
        if !pairs.contains_key(&k) {
            order.push(k.clone());
        }
        pairs.entry(k).or_default().0.get_or_insert(c);
    }
    for c in &b.cases {
        let k = key(c);
        if !pairs.contains_key(&k) {
            order.push(k.clone());
        }
        pairs.entry(k).or_default().1.get_or_insert(c);
    }
    let pairs: Vec<(String, Option<&CaseRecord>, Option<&CaseRecord>)> = order
        .into_iter()
        .filter_map(|k| {
            let (ca, cb) = pairs.remove(&k)?;
            Some((k, ca, cb))
        })
        .collect();
    par_map(&pairs, |&(ref k, ca, cb)| {
        let any = ca.or(cb)?;
        let (sa, sb) = (ca.map(CaseSide::of), cb.map(CaseSide::of));
        let steps = match (ca, cb) {
            (Some(x), Some(y)) if x.verdict != Verdict::Skipped && y.verdict != Verdict::Skipped => align::case(x, y),
            _ => Vec::new(),
        };
        let change = change_of(sa.as_ref(), sb.as_ref(), &steps);
        let steps = if steps.iter().any(StepDiff::differs) { steps } else { Vec::new() };
        Some(CaseRow { key: k.clone(), spec: any.spec.clone(), title: any.title.clone(), a: sa, b: sb, change, steps })
    })
    .into_iter()
    .flatten()
    .collect()
}

fn change_of(a: Option<&CaseSide>, b: Option<&CaseSide>, steps: &[StepDiff]) -> CaseChange {
    match (a, b) {
        (Some(_), None) => CaseChange::OnlyInA,
        (None, Some(_)) => CaseChange::OnlyInB,
        (None, None) => CaseChange::SkippedBoth,
        (Some(x), Some(y)) => match (x.ran(), y.ran()) {
            (false, false) => CaseChange::SkippedBoth,
            (true, false) => CaseChange::RanInAOnly,
            (false, true) => CaseChange::RanInBOnly,
            (true, true) => match (x.verdict, y.verdict) {
                (Verdict::Passed, Verdict::Failed) => CaseChange::Regression,
                (Verdict::Failed, Verdict::Passed) => CaseChange::Fixed,
                _ if steps.iter().any(StepDiff::differs) => CaseChange::TranscriptDiffers,
                _ => CaseChange::Same,
            },
        },
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! Small hand-made records for the tests of every part.
    use miplcheck_record::{
        CaseRecord, Class, Dir, FailedAt, Firmware, Line, RigInfo, RunRecord, SnapshotResult, StepRecord, Totals,
        Verdict, SCHEMA,
    };

    pub fn run(rig: &str, dialect: &str, cases: Vec<CaseRecord>) -> RunRecord {
        RunRecord {
            schema: SCHEMA.into(),
            tool: "0.1.0".into(),
            started: "2026-11-21T11:20:05Z".into(),
            duration_ms: 1000,
            rig: RigInfo {
                name: rig.into(),
                dialect: dialect.into(),
                target: "emulator".into(),
                capabilities: vec![],
                window_scale: 1.0,
                secrets: vec![],
            },
            firmware: Firmware { revision: format!("Revision:{rig}"), imei: None, note: None, flash: None },
            summary: Totals { passed: cases.len(), ..Totals::default() },
            cases,
            incomplete: None,
            health: None,
            suites: None,
            partition: None,
            merged_from: vec![],
        }
    }

    pub fn case(suite: &str, id: &str, verdict: Verdict, transcript: Vec<Line>, steps: Vec<StepRecord>) -> CaseRecord {
        CaseRecord {
            suite: suite.into(),
            case: id.into(),
            spec: "BC39 §3.2.7".into(),
            title: None,
            verdict,
            failed_at: (verdict == Verdict::Failed).then(|| FailedAt::Step("step 1".into())),
            line: None,
            reason: (verdict != Verdict::Passed).then(|| "why".into()),
            duration_ms: 1.0,
            steps,
            snapshot: SnapshotResult::Matched,
            snapshot_diff: None,
            warnings: vec![],
            transcript,
            suite_file: None,
            attempts: vec![],
            quarantine: None,
        }
    }

    pub fn step(text: &str) -> Line {
        let (label, what) = text.split_once(": ").unwrap_or((text, ""));
        Line::step(label, what)
    }

    pub fn entry(dir: Dir, class: Option<Class>, text: &str) -> Line {
        Line::entry(1.0, dir, class, text)
    }

    /// A send step and its answer: `AT+X=…` then each answer line (the last one is the final).
    pub fn exchange(label: &str, command: &str, answers: &[&str]) -> Vec<Line> {
        let mut v = vec![step(&format!("{label}: send {command}")), entry(Dir::TeToUe, None, &format!("{command}\\r"))];
        for (i, a) in answers.iter().enumerate() {
            let class = if i + 1 == answers.len() {
                Class::Final
            } else if a.starts_with("+MIPLEVENT") {
                Class::Urc
            } else {
                Class::Info
            };
            v.push(entry(Dir::UeToTe, Some(class), &format!("{a}\\r\\n")));
        }
        v
    }

    pub fn latency(label: &str, command: &str, ms: f64) -> StepRecord {
        StepRecord {
            label: label.into(),
            line: 1,
            what: format!("send AT{command}=0"),
            command: Some(command.into()),
            latency_ms: Some(ms),
            response_ms: None,
            serial_line: None,
            judged_on: None,
            window_ms: Some(300.0),
            failure: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;
    use miplcheck_record::Verdict;

    #[test]
    fn cases_match_by_suite_and_case_and_verdict_regressions_count() {
        let a = run(
            "r",
            "bc39",
            vec![
                case("basics", "attention", Verdict::Passed, exchange("step 1", "AT", &["OK"]), vec![]),
                case("register", "open", Verdict::Passed, vec![], vec![]),
                case("register", "gone", Verdict::Passed, vec![], vec![]),
            ],
        );
        let b = run(
            "r",
            "bc39",
            vec![
                case("basics", "attention", Verdict::Passed, exchange("step 1", "AT", &["OK"]), vec![]),
                case("register", "open", Verdict::Failed, vec![], vec![]),
                case("register", "new", Verdict::Skipped, vec![], vec![]),
            ],
        );
        let c = compare(&a, &b, Options::default());
        let change = |k: &str| c.cases.iter().find(|r| r.key == k).unwrap().change;
        assert_eq!(change("basics/attention"), CaseChange::Same);
        assert_eq!(change("register/open"), CaseChange::Regression);
        assert_eq!(change("register/gone"), CaseChange::OnlyInA);
        assert_eq!(change("register/new"), CaseChange::OnlyInB);
        let n = c.counts();
        assert_eq!((n.compared, n.differing, n.verdict_regressions, n.record_one_side), (2, 1, 1, 2));
        let r = c.regressions();
        assert_eq!(r.len(), 1);
        assert!(r[0].starts_with("register/open passed in A and fails in B"), "{r:?}");
    }

    #[test]
    fn runs_are_named_by_what_tells_them_apart() {
        let a = run("emulator-bc39", "bc39", vec![]);
        let mut b = run("emulator-bc39", "bc39", vec![]);
        b.firmware.revision = "Revision: BC39R02\nOK".into();
        let c = compare(&a, &b, Options::default());
        assert_eq!((c.a.label.as_str(), c.b.label.as_str()), ("Revision:emulator-bc39", "Revision: BC39R02"));
        assert!(c.same_dialect);
        assert_eq!(c.a.model, "BC39");
    }

    #[test]
    fn an_unknown_dialect_does_not_panic() {
        let a =
            run("x", "sim800", vec![case("s", "c", Verdict::Passed, exchange("step 1", "AT+FOO=1", &["OK"]), vec![])]);
        let b = run("y", "m5310a", vec![]);
        let c = compare(&a, &b, Options::default());
        assert_eq!(c.a.model, "sim800");
        assert!(!c.same_dialect);
        let _ = markdown::render(&c);
        let _ = html::render(&c);
    }
}
