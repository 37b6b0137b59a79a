//! Latency per command: the figure every send step's window was judged on
//! ([`StepRecord::judged_ms`]: `response_ms`, corrected for a serial line's character time, or
//! `latency_ms`, raw, as every step of an older record) (`StepRecord.command`) on each side,
//! as n, median and p95, and B's change against A.
//!
//! The gate, in one paragraph (the README says the same): a command is judged only when both
//! runs timed it at least `min_samples` times (3). It regresses when B is slower in the bulk of
//! its answers, not in a few: every B sample is paired with every A sample, and B must be slower
//! by more than the threshold (relative, `20%` of A's median, or absolute, `50ms`) and by at
//! least `min_delta_ms` (5 ms, below which is scheduling and USB-serial jitter) even at the 95%
//! lower confidence bound of the typical difference ([`shift`]: the Hodges–Lehmann shift, its
//! bound read from the Mann–Whitney U distribution; with 3 samples a side that bound is the
//! smallest of the 9 differences, so every B answer must be that much slower than every A
//! answer). When both sides have at least `p95_min_samples` (20) samples the p95 must have moved
//! beyond the threshold and floor as well; below that the nearest-rank p95 is the slowest sample,
//! a single spike, so it is not judged and the report says "p95 not judged: N samples, needs 20".
//! One scheduling spike moves neither the bound nor a p95 of 20 or more; a host so loaded that
//! some of a run's answers come 4–20 ms late moves the medians but not the bound, since the
//! bulk still answers at once; a uniform +50 ms moves both. A slower tail alone (p95 up, the bulk
//! not) is shown with its reason but does not fail the gate.

pub mod shift;

use super::Options;
use miplcheck_record::{JudgedOn, RunRecord, StepRecord};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

/// How much slower B may be before it counts as a regression.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Threshold {
    /// Percent of A's value.
    Relative(f64),
    /// Milliseconds.
    Absolute(f64),
}

/// Why a `--threshold` or `--min-delta` value cannot be read ([`Threshold::from_str`],
/// [`parse_ms`]); clap prints it after the argument's name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ThresholdError {
    /// Not a percentage or a time, or negative.
    #[error("{0:?}: give a percentage (20%) or a time (50ms, 0.2s), not negative")]
    Threshold(
        /// The value given.
        String,
    ),
    /// Not a time, or negative.
    #[error("{0:?}: give a time (5ms, 0.2s), not negative")]
    Time(
        /// The value given.
        String,
    ),
}

impl FromStr for Threshold {
    type Err = ThresholdError;

    fn from_str(s: &str) -> Result<Self, ThresholdError> {
        let t = s.trim();
        let number = |n: &str| n.trim().parse::<f64>().ok().filter(|v| v.is_finite() && *v >= 0.0);
        let parsed = if let Some(p) = t.strip_suffix('%') {
            number(p).map(Threshold::Relative)
        } else if let Some(ms) = t.strip_suffix("ms") {
            number(ms).map(Threshold::Absolute)
        } else if let Some(secs) = t.strip_suffix('s') {
            number(secs).map(|v| Threshold::Absolute(v * 1000.0))
        } else {
            None
        };
        parsed.ok_or_else(|| ThresholdError::Threshold(s.to_string()))
    }
}

/// A time in milliseconds as the CLI takes it: `5ms`, `0.2s`, or a bare number of ms.
pub fn parse_ms(s: &str) -> Result<f64, ThresholdError> {
    let t = s.trim();
    let (n, scale) = if let Some(ms) = t.strip_suffix("ms") {
        (ms, 1.0)
    } else if let Some(secs) = t.strip_suffix('s') {
        (secs, 1000.0)
    } else {
        (t, 1.0)
    };
    n.trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v >= 0.0)
        .map(|v| v * scale)
        .ok_or_else(|| ThresholdError::Time(s.to_string()))
}

impl fmt::Display for Threshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Threshold::Relative(p) => write!(f, "{}%", trim(*p)),
            Threshold::Absolute(ms) => write!(f, "{} ms", trim(*ms)),
        }
    }
}

fn trim(v: f64) -> String {
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

impl Threshold {
    /// Whether going from `a` to `b` (ms) crosses it.
    pub fn crossed(self, a: f64, b: f64) -> bool {
        match self {
            Threshold::Relative(p) if a > 0.0 => b - a > a * p / 100.0,
            // Nothing to take a percentage of: any slowdown counts.
            Threshold::Relative(_) => b > a,
            Threshold::Absolute(ms) => b - a > ms,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stats {
    pub n: usize,
    pub median: f64,
    pub p95: f64,
}

impl Stats {
    /// None for no samples; NaN and infinite values (a hand-edited record) are left out.
    pub fn of(samples: &[f64]) -> Option<Stats> {
        let mut v: Vec<f64> = samples.iter().copied().filter(|x| x.is_finite()).collect();
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        Some(Stats {
            n: v.len(),
            median: miplcheck_record::stats::median(&v)?,
            p95: miplcheck_record::stats::percentile(&v, 95.0)?,
        })
    }
}

/// B's change against A for one measure.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Delta {
    pub ms: f64,
    /// None when A's value is 0.
    pub percent: Option<f64>,
}

impl Delta {
    fn of(a: f64, b: f64) -> Delta {
        Delta { ms: b - a, percent: (a > 0.0).then(|| (b - a) / a * 100.0) }
    }
}

impl fmt::Display for Delta {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:+.2} ms", self.ms)?;
        if let Some(p) = self.percent {
            write!(f, " ({p:+.0}%)")?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct LatencyRow {
    /// `+MIPLOPEN`, or `AT` for the bare attention command.
    pub command: String,
    pub a: Option<Stats>,
    pub b: Option<Stats>,
    /// Why this is a regression, in words; none when it is not.
    pub regression: Option<String>,
    /// Why it was not judged (too few samples, one side only), or what moved without being a
    /// regression.
    pub note: Option<String>,
    /// B's shift against A in the bulk of the answers, when both sides have samples.
    pub shift: Option<shift::Shift>,
}

impl LatencyRow {
    pub fn median(&self) -> Option<Delta> {
        Some(Delta::of(self.a?.median, self.b?.median))
    }

    pub fn p95(&self) -> Option<Delta> {
        Some(Delta::of(self.a?.p95, self.b?.p95))
    }

    /// `AT+MIPLOPEN`, `AT`.
    pub fn at(&self) -> String {
        at(&self.command)
    }
}

/// A command as the TE writes it: `+MIPLOPEN` → `AT+MIPLOPEN`, `AT` stays.
pub fn at(command: &str) -> String {
    if command == "AT" {
        command.to_string()
    } else {
        format!("AT{command}")
    }
}

fn samples(r: &RunRecord, scope: Option<&BTreeSet<String>>) -> BTreeMap<String, Vec<f64>> {
    let mut m: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let cases = r.cases.iter().filter(|c| scope.is_none_or(|s| s.contains(&format!("{}/{}", c.suite, c.case))));
    for s in cases.flat_map(|c| &c.steps) {
        if let (Some(c), Some(l)) = (&s.command, s.judged_ms()) {
            m.entry(c.to_ascii_uppercase()).or_default().push(l);
        }
    }
    m
}

/// Whether any send step of either run was judged on the corrected response time, so the tables
/// say what their figures are (records without one read as they always did).
pub fn any_corrected(a: &RunRecord, b: &RunRecord) -> bool {
    let corrected = |s: &StepRecord| s.judged_on == Some(JudgedOn::Corrected) && s.serial_line.is_some();
    [a, b].iter().flat_map(|r| &r.cases).flat_map(|c| &c.steps).any(corrected)
}

/// What the tables say of their figures when [`any_corrected`].
pub const CORRECTED_NOTE: &str = "On a serial line the figure is the response time each window was judged on: the \
     latency less the characters' time on the wire at the rig's line settings (`response_ms` in the record).";

/// One row per command either run sent, by name; only the cases in `scope` when given.
pub fn rows(a: &RunRecord, b: &RunRecord, o: Options, scope: Option<&BTreeSet<String>>) -> Vec<LatencyRow> {
    let (sa, sb) = (samples(a, scope), samples(b, scope));
    let mut names: Vec<&String> = sa.keys().chain(sb.keys()).collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .map(|name| {
            let (xa, xb) =
                (sa.get(name).map(Vec::as_slice).unwrap_or(&[]), sb.get(name).map(Vec::as_slice).unwrap_or(&[]));
            let (a, b) = (Stats::of(xa), Stats::of(xb));
            let shift = shift::of(xa, xb);
            let (regression, note) = judge(a, b, shift, o);
            LatencyRow { command: name.clone(), a, b, regression, note, shift }
        })
        .collect()
}

/// Whether going from `a` to `b` crosses both the threshold and the floor.
fn moved(o: Options, a: f64, b: f64) -> bool {
    o.threshold.crossed(a, b) && b - a >= o.min_delta_ms
}

fn judge(
    a: Option<Stats>,
    b: Option<Stats>,
    shift: Option<shift::Shift>,
    o: Options,
) -> (Option<String>, Option<String>) {
    let (a, b) = match (a, b) {
        (Some(a), Some(b)) => (a, b),
        (Some(_), None) => return (None, Some("sent in A only".into())),
        (None, Some(_)) => return (None, Some("sent in B only".into())),
        (None, None) => return (None, None),
    };
    let n = a.n.min(b.n);
    if n < o.min_samples {
        return (None, Some(format!("not judged: {n} samples on a side, needs {}", o.min_samples)));
    }
    let Some(shift) = shift else {
        return (None, Some(format!("not judged: {} and {} samples give no 95% bound on the shift", a.n, b.n)));
    };
    let change = |what: &str, x: f64, y: f64| format!("{what} {x:.2} → {y:.2} ms ({})", Delta::of(x, y));
    let bulk = format!("shift {:+.2} ms, at least {:+.2} ms with 95% confidence", shift.estimate, shift.lower);
    // The bound is judged as B's median would be, were it A's plus the bound.
    let located = moved(o, a.median, a.median + shift.lower);
    // Below this many samples the nearest-rank p95 is the slowest sample: one spike.
    let p95_min = o.p95_min_samples.max(o.min_samples);
    let p95 = (n >= p95_min).then(|| moved(o, a.p95, b.p95));
    let mut notes = Vec::new();
    if p95.is_none() {
        notes.push(format!("p95 not judged: {n} samples, needs {p95_min}"));
    }
    let regression = located && p95 != Some(false);
    if !regression {
        if located {
            notes.push(format!("{bulk} but not the p95: not a regression"));
        } else if p95 == Some(true) {
            notes.push(format!(
                "{} but not the bulk of the answers ({bulk}): a slower tail alone, not a regression",
                change("p95", a.p95, b.p95)
            ));
        } else if moved(o, a.median, b.median) {
            notes.push(format!(
                "{} but not the bulk of the answers ({bulk}): too few of B's answers are slower to be sure, not a regression",
                change("median", a.median, b.median)
            ));
        }
    }
    let note = (!notes.is_empty()).then(|| notes.join("; "));
    let regression = regression.then(|| {
        let mut why = vec![change("median", a.median, b.median), bulk];
        if p95 == Some(true) {
            why.push(change("p95", a.p95, b.p95));
        }
        let unjudged = note.as_ref().map(|n| format!(" ({n})")).unwrap_or_default();
        format!("is slower in B: {}, beyond the {} threshold{unjudged}", why.join(", "), describe(o))
    });
    (regression, note)
}

/// How many commands both runs timed often enough to be judged, but too few times for a p95:
/// the terminal's summary says so, as the tables do per row.
pub fn p95_not_judged(rows: &[LatencyRow], o: Options) -> usize {
    let p95_min = o.p95_min_samples.max(o.min_samples);
    rows.iter().filter_map(|r| Some(r.a?.n.min(r.b?.n))).filter(|n| (o.min_samples..p95_min).contains(n)).count()
}

/// The gate in a sentence, for the reports' latency sections.
pub fn rule(o: Options) -> String {
    format!(
        "A command regresses when B is slower in the bulk of its answers by more than {} even at the 95% lower \
         bound of the shift (the Hodges–Lehmann shift of every B sample against every A sample), and, once both \
         sides have at least {} samples, its p95 is too (below that the p95 is not judged: it would be the slowest \
         sample); commands with fewer than {} samples on a side are not judged.",
        describe(o),
        o.p95_min_samples.max(o.min_samples),
        o.min_samples
    )
}

/// `20% (and at least 5 ms)`: the rule in words.
pub fn describe(o: Options) -> String {
    if o.min_delta_ms > 0.0 {
        format!("{} (and at least {} ms)", o.threshold, trim(o.min_delta_ms))
    } else {
        o.threshold.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{case, latency, run};
    use miplcheck_record::Verdict;
    use rstest::rstest;

    #[test]
    fn median_and_p95_by_nearest_rank() {
        let s = Stats::of(&[5.0, 1.0, 3.0, 2.0, 4.0]).unwrap();
        assert_eq!((s.n, s.median, s.p95), (5, 3.0, 5.0));
        let s = Stats::of(&[1.0, 2.0, 3.0, 4.0]).unwrap();
        assert_eq!(s.median, 2.5);
        let twenty: Vec<f64> = (1..=20).map(f64::from).collect();
        assert_eq!(Stats::of(&twenty).unwrap().p95, 19.0);
        assert_eq!(Stats::of(&[]), None);
        assert_eq!(Stats::of(&[f64::NAN, 2.0]).unwrap().n, 1);
    }

    #[test]
    fn thresholds_parse_and_judge() {
        assert_eq!("20%".parse::<Threshold>(), Ok(Threshold::Relative(20.0)));
        assert_eq!("50ms".parse::<Threshold>(), Ok(Threshold::Absolute(50.0)));
        assert_eq!(" 0.2s".parse::<Threshold>(), Ok(Threshold::Absolute(200.0)));
        assert!("fast".parse::<Threshold>().is_err() && "-5%".parse::<Threshold>().is_err());
        assert!(Threshold::Relative(20.0).crossed(10.0, 12.5));
        assert!(!Threshold::Relative(20.0).crossed(10.0, 11.9));
        assert!(Threshold::Absolute(50.0).crossed(10.0, 61.0));
        assert!(!Threshold::Absolute(50.0).crossed(10.0, 59.0));
        assert_eq!(Threshold::Relative(20.0).to_string(), "20%");
        assert_eq!(Threshold::Absolute(50.0).to_string(), "50 ms");
    }

    #[test]
    fn threshold_errors_read_as_before() {
        let e = "fast".parse::<Threshold>().unwrap_err();
        assert_eq!(e, ThresholdError::Threshold("fast".into()));
        assert_eq!(e.to_string(), r#""fast": give a percentage (20%) or a time (50ms, 0.2s), not negative"#);
        assert_eq!(parse_ms("-5ms").unwrap_err().to_string(), r#""-5ms": give a time (5ms, 0.2s), not negative"#);
    }

    fn runs(a_ms: &[f64], b_ms: &[f64]) -> (RunRecord, RunRecord) {
        let steps = |v: &[f64]| v.iter().map(|ms| latency("step 1", "+MIPLOPEN", *ms)).collect::<Vec<_>>();
        (
            run("r", "bc39", vec![case("s", "c", Verdict::Passed, vec![], steps(a_ms))]),
            run("r", "bc39", vec![case("s", "c", Verdict::Passed, vec![], steps(b_ms))]),
        )
    }

    #[test]
    fn a_slower_b_regresses_relative_and_absolute() {
        let (a, b) = runs(&[10.0, 10.0, 10.0, 10.0], &[13.0, 13.0, 13.0, 13.0]);
        let rel = rows(
            &a,
            &b,
            Options { threshold: Threshold::Relative(20.0), min_delta_ms: 0.0, ..Options::default() },
            None,
        );
        let r = rel[0].regression.as_deref().expect("30% slower");
        assert!(r.contains("median 10.00 → 13.00 ms (+3.00 ms (+30%))") && r.contains("the 20% threshold"), "{r}");
        // The same 30% of a few milliseconds is jitter under the default floor of 5 ms.
        assert_eq!(rows(&a, &b, Options::default(), None)[0].regression, None);
        let abs = rows(
            &a,
            &b,
            Options { threshold: Threshold::Absolute(50.0), min_delta_ms: 0.0, ..Options::default() },
            None,
        );
        assert_eq!(abs[0].regression, None, "3 ms is within 50 ms");
        let abs = rows(
            &a,
            &b,
            Options { threshold: Threshold::Absolute(2.0), min_delta_ms: 0.0, ..Options::default() },
            None,
        );
        assert!(abs[0].regression.is_some());
        assert_eq!(rel[0].median().unwrap().ms, 3.0);
    }

    #[test]
    fn corrected_steps_are_compared_on_their_response_time_and_the_tables_say_so() {
        let (a, mut b) = runs(&[300.0; 4], &[383.0; 4]);
        assert!(!any_corrected(&a, &b));
        for s in &mut b.cases[0].steps {
            (s.response_ms, s.serial_line, s.judged_on) =
                (Some(250.0), Some("9600 8N1".into()), Some(JudgedOn::Corrected));
        }
        let r = rows(&a, &b, Options::default(), None);
        assert_eq!((r[0].b.as_ref().unwrap().median, r[0].regression.as_deref()), (250.0, None), "{:?}", r[0]);
        assert!(any_corrected(&a, &b));
        let c = crate::compare(&a, &b, Options::default());
        assert!(crate::markdown::render(&c).contains(CORRECTED_NOTE));
        assert!(!crate::markdown::render(&crate::compare(&a, &a, Options::default())).contains(CORRECTED_NOTE));
    }

    #[test]
    fn times_parse_in_ms_and_s() {
        assert_eq!(parse_ms("5ms"), Ok(5.0));
        assert_eq!(parse_ms("0.2s"), Ok(200.0));
        assert_eq!(parse_ms("0"), Ok(0.0));
        assert!(parse_ms("-1ms").is_err() && parse_ms("soon").is_err());
        let o = Options::default();
        assert_eq!(describe(o), "20% (and at least 5 ms)");
    }

    #[test]
    fn too_few_samples_are_shown_but_not_judged() {
        let (a, b) = runs(&[10.0, 10.0], &[90.0, 90.0]);
        let r = rows(&a, &b, Options::default(), None);
        assert_eq!(r[0].regression, None);
        assert_eq!(r[0].note.as_deref(), Some("not judged: 2 samples on a side, needs 3"));
        let o = Options { min_samples: 2, ..Options::default() };
        let r = rows(&a, &b, o, None);
        assert_eq!(r[0].regression, None);
        assert_eq!(r[0].note.as_deref(), Some("not judged: 2 and 2 samples give no 95% bound on the shift"));
        let (a, b) = runs(&[10.0; 5], &[90.0, 90.0]);
        assert!(rows(&a, &b, o, None)[0].regression.is_some());
    }

    #[test]
    fn faster_is_never_a_regression() {
        let (a, b) = runs(&[10.0; 5], &[1.0; 5]);
        assert_eq!(rows(&a, &b, Options::default(), None)[0].regression, None);
    }

    /// `n` samples of `ms`.
    fn same(n: usize, ms: f64) -> Vec<f64> {
        vec![ms; n]
    }

    /// `n` samples of `ms` with the last `k` of them `spike` instead.
    fn spiked(n: usize, ms: f64, k: usize, spike: f64) -> Vec<f64> {
        (0..n).map(|i| if i + k >= n { spike } else { ms }).collect()
    }

    fn shifted(v: &[f64], by: f64) -> Vec<f64> {
        v.iter().map(|x| x + by).collect()
    }

    /// A little jitter, so a shift is not only ever a constant added to a constant.
    fn jittery(n: usize) -> Vec<f64> {
        (0..n).map(|i| 0.1 + (i % 7) as f64 * 0.05).collect()
    }

    #[rstest]
    // One scheduling spike, as in issue 14 (`AT` p95 0.10 → 14.86 ms), at every sample size.
    #[case::a_spike_among_3(same(3, 0.1), spiked(3, 0.1, 1, 14.86), None, Some("p95 not judged: 3 samples, needs 20"))]
    #[case::a_spike_among_8(same(8, 0.1), spiked(8, 0.1, 1, 14.86), None, Some("p95 not judged: 8 samples, needs 20"))]
    #[case::a_spike_among_20(same(20, 0.1), spiked(20, 0.1, 1, 80.0), None, None)]
    #[case::a_spike_among_40(jittery(40), spiked(40, 0.2, 1, 80.0), None, None)]
    #[case::a_spike_in_a(spiked(20, 0.1, 1, 80.0), same(20, 0.1), None, None)]
    // Two spikes among 20 are the p95, but not the median.
    #[case::two_spikes_among_20(same(20, 0.1), spiked(20, 0.1, 2, 80.0), None, Some("a slower tail alone"))]
    // A uniform +50 ms: every answer later.
    #[case::plus_50ms_among_3(
        same(3, 0.1),
        same(3, 50.1),
        Some("median 0.10 → 50.10 ms"),
        Some("p95 not judged: 3 samples, needs 20")
    )]
    #[case::plus_50ms_among_8(jittery(8), shifted(&jittery(8), 50.0), Some("median 0.2"), Some("p95 not judged"))]
    #[case::plus_50ms_among_25(jittery(25), shifted(&jittery(25), 50.0), Some("p95 0.40 → 50.40 ms"), None)]
    // ... and even with a spike in it, on either side.
    #[case::plus_50ms_and_a_spike(spiked(20, 0.1, 1, 30.0), shifted(&spiked(20, 0.1, 1, 9.0), 50.0), Some("median 0.10 → 50.10 ms"), None)]
    // Few samples: the p95 (the slowest sample) is not judged, the median is.
    #[case::few_samples_p95_up_only(
        same(5, 0.1),
        spiked(5, 0.1, 2, 60.0),
        None,
        Some("p95 not judged: 5 samples, needs 20")
    )]
    // Three of five answers later move the median, but B slower in most pairs could be chance.
    #[case::few_samples_median_up(
        same(5, 0.1),
        spiked(5, 0.1, 3, 60.0),
        None,
        Some("p95 not judged: 5 samples, needs 20; median 0.10 → 60.00 ms")
    )]
    #[case::few_samples_all_slower(
        same(5, 0.1),
        same(5, 60.0),
        Some("at least +59.90 ms with 95% confidence"),
        Some("p95 not judged: 5 samples, needs 20")
    )]
    #[case::fewest_samples_on_either_side(
        same(30, 0.1),
        same(4, 60.0),
        Some("median"),
        Some("p95 not judged: 4 samples, needs 20")
    )]
    #[case::too_few_to_judge(same(2, 0.1), same(2, 90.0), None, Some("not judged: 2 samples on a side, needs 3"))]
    // One more answer of 20 in the slow mode moves the median, not the bulk.
    #[case::median_up_bulk_not(
        [same(10, 1.0), same(10, 100.0)].concat(), [same(9, 1.0), same(11, 100.0)].concat(),
        None, Some("median 50.50 → 100.00 ms (+49.50 ms (+98%)) but not the bulk")
    )]
    // The bulk moved but the p95 did not: not the whole distribution.
    #[case::bulk_up_p95_not(
        [same(18, 1.0), same(2, 100.0)].concat(), [same(18, 50.0), same(2, 100.0)].concat(),
        None, Some("shift +49.00 ms, at least +49.00 ms with 95% confidence but not the p95")
    )]
    // A loaded host: a third of the answers 4–24 ms late (scheduler ticks), the rest at once.
    #[case::a_loaded_host(
        jittery(48), [jittery(32), [4.0, 8.0, 12.0, 16.0, 20.0, 24.0].repeat(3)[..16].to_vec()].concat(),
        None, Some("a slower tail alone")
    )]
    // AT+CEREG of two `basics`+`config` runs, the second on a host at load 10: its median moved.
    #[case::measured_on_a_loaded_host(
        vec![0.02, 0.02, 0.03, 0.04, 0.08], vec![0.07, 0.12, 16.37, 19.04, 19.81],
        None, Some("median 0.03 → 16.37 ms")
    )]
    // Within the 5 ms floor, however relative: jitter.
    #[case::within_the_floor(same(25, 0.1), same(25, 4.0), None, None)]
    #[case::faster(same(25, 10.0), same(25, 1.0), None, None)]
    fn the_gate(
        #[case] a_ms: Vec<f64>,
        #[case] b_ms: Vec<f64>,
        #[case] regression: Option<&str>,
        #[case] note: Option<&str>,
    ) {
        let (a, b) = runs(&a_ms, &b_ms);
        let r = &rows(&a, &b, Options::default(), None)[0];
        match (regression, &r.regression) {
            (None, None) => {}
            (Some(want), Some(got)) => assert!(got.contains(want), "{got:?} lacks {want:?}"),
            (want, got) => panic!("regression {got:?}, wanted {want:?}"),
        }
        match (note, &r.note) {
            (None, None) => {}
            (Some(want), Some(got)) => assert!(got.contains(want), "{got:?} lacks {want:?}"),
            (want, got) => panic!("note {got:?}, wanted {want:?}"),
        }
    }

    #[test]
    fn the_p95_floor_is_a_setting_and_never_below_min_samples() {
        let (a, b) = runs(&same(5, 0.1), &spiked(5, 0.1, 2, 60.0));
        // With the p95 judged from 3 samples (as before issue 14), two spikes of five would not
        // fail the gate either: the median did not move.
        let o = Options { p95_min_samples: 3, ..Options::default() };
        let r = &rows(&a, &b, o, None)[0];
        assert_eq!(r.regression, None);
        assert!(r.note.as_deref().unwrap().contains("a slower tail alone"), "{r:?}");
        let (a, b) = runs(&same(5, 0.1), &same(5, 60.0));
        let o = Options { min_samples: 10, p95_min_samples: 1, ..Options::default() };
        let r = &rows(&a, &b, o, None)[0];
        assert_eq!(r.regression, None);
        assert_eq!(r.note.as_deref(), Some("not judged: 5 samples on a side, needs 10"));
    }

    #[test]
    fn the_commands_judged_on_their_median_only_are_counted() {
        let (mut a, mut b) = runs(&same(5, 0.1), &same(5, 0.1));
        for (r, n) in [(&mut a, 20), (&mut b, 25)] {
            r.cases[0].steps.extend((0..n).map(|_| latency("step 2", "+CGMR", 0.1)));
            r.cases[0].steps.extend((0..2).map(|_| latency("step 3", "+CIMI", 0.1)));
        }
        let o = Options::default();
        let r = rows(&a, &b, o, None);
        assert_eq!(r.iter().map(|r| r.command.as_str()).collect::<Vec<_>>(), ["+CGMR", "+CIMI", "+MIPLOPEN"]);
        // +CGMR has a p95, +CIMI is not judged at all, +MIPLOPEN on its median only.
        assert_eq!(p95_not_judged(&r, o), 1);
        assert!(rule(o).contains("at least 20 samples") && rule(o).contains("fewer than 3"), "{}", rule(o));
    }

    #[test]
    fn the_reports_say_when_the_p95_was_not_judged() {
        let (a, b) = runs(&same(5, 0.1), &same(5, 60.0));
        let c = crate::compare(&a, &b, Options::default());
        let md = crate::markdown::render(&c);
        assert!(md.contains("**regression** (p95 not judged: 5 samples, needs 20)"), "{md}");
        assert!(md.contains(&rule(Options::default())), "{md}");
        let html = crate::html::render(&c);
        assert!(html.contains("p95 not judged: 5 samples, needs 20"), "{html}");
        let (a, b) = runs(&same(5, 0.1), &same(5, 0.1));
        let md = crate::markdown::render(&crate::compare(&a, &b, Options::default()));
        assert!(md.contains("| p95 not judged: 5 samples, needs 20 |"), "{md}");
    }
}
