//! Latency per command: the figure every send step's window was judged on
//! ([`StepRecord::judged_ms`]: `response_ms`, corrected for a serial line's character time, or
//! `latency_ms`, raw, as every step of an older record) (`StepRecord.command`) on each side,
//! as n, median and p95, and B's change against A. A command regresses when B's median or p95
//! exceeds A's by more than the threshold (relative, `20%`, or absolute, `50ms`), and only when
//! both sides have at least `min_samples` samples (two samples say nothing about a p95) and the
//! change is at least `min_delta_ms` (the emulator answers in a fraction of a millisecond, where
//! 20% is scheduling noise; a USB-serial adapter adds milliseconds of its own).

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
    /// Why it was not judged (too few samples, one side only).
    pub note: Option<String>,
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
            let a = sa.get(name).and_then(|v| Stats::of(v));
            let b = sb.get(name).and_then(|v| Stats::of(v));
            let (regression, note) = judge(a, b, o);
            LatencyRow { command: name.clone(), a, b, regression, note }
        })
        .collect()
}

fn judge(a: Option<Stats>, b: Option<Stats>, o: Options) -> (Option<String>, Option<String>) {
    let (a, b) = match (a, b) {
        (Some(a), Some(b)) => (a, b),
        (Some(_), None) => return (None, Some("sent in A only".into())),
        (None, Some(_)) => return (None, Some("sent in B only".into())),
        (None, None) => return (None, None),
    };
    if a.n < o.min_samples || b.n < o.min_samples {
        return (None, Some(format!("fewer than {} samples on a side: not judged", o.min_samples)));
    }
    let mut why = Vec::new();
    for (what, x, y) in [("median", a.median, b.median), ("p95", a.p95, b.p95)] {
        if o.threshold.crossed(x, y) && y - x >= o.min_delta_ms {
            why.push(format!("{what} {x:.2} → {y:.2} ms ({})", Delta::of(x, y)));
        }
    }
    let regression =
        (!why.is_empty()).then(|| format!("is slower in B: {}, beyond the {} threshold", why.join(", "), describe(o)));
    (regression, None)
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
        let rel =
            rows(&a, &b, Options { threshold: Threshold::Relative(20.0), min_samples: 3, min_delta_ms: 0.0 }, None);
        let r = rel[0].regression.as_deref().expect("30% slower");
        assert!(r.contains("median 10.00 → 13.00 ms (+3.00 ms (+30%))") && r.contains("the 20% threshold"), "{r}");
        // The same 30% of a few milliseconds is jitter under the default floor of 5 ms.
        assert_eq!(rows(&a, &b, Options::default(), None)[0].regression, None);
        let abs =
            rows(&a, &b, Options { threshold: Threshold::Absolute(50.0), min_samples: 3, min_delta_ms: 0.0 }, None);
        assert_eq!(abs[0].regression, None, "3 ms is within 50 ms");
        let abs =
            rows(&a, &b, Options { threshold: Threshold::Absolute(2.0), min_samples: 3, min_delta_ms: 0.0 }, None);
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
    fn a_p95_alone_can_regress() {
        let (a, b) = runs(&[10.0; 20], &[[10.0; 19].as_slice(), &[100.0, 100.0]].concat());
        let r = rows(&a, &b, Options::default(), None);
        assert!(r[0].regression.as_deref().unwrap().contains("p95 10.00 → 100.00"), "{:?}", r[0]);
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
        assert!(r[0].note.as_deref().unwrap().contains("fewer than 3"));
        let r = rows(&a, &b, Options { min_samples: 2, ..Options::default() }, None);
        assert!(r[0].regression.is_some());
    }

    #[test]
    fn faster_is_never_a_regression() {
        let (a, b) = runs(&[10.0; 5], &[1.0; 5]);
        assert_eq!(rows(&a, &b, Options::default(), None)[0].regression, None);
    }
}
