//! One case of a run: its verdict, its steps with their timing, the snapshot comparison and the
//! transcript.

use crate::line::Line;
use serde::{Deserialize, Serialize};
use std::fmt;

/// What a case came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Every step and the snapshot passed.
    Passed,
    /// A step, the snapshot, or preparing the target failed ([`CaseRecord::failed_at`]).
    Failed,
    /// Not run on this rig ([`CaseRecord::reason`] says why).
    Skipped,
    /// Not judged, for a reason of the bench rather than the firmware: the port is gone, the
    /// connection was refused, the modem did not answer the sync, or the rig was found unhealthy
    /// before the case ([`CaseRecord::failed_at`] is `prepare` or `not-run`). JUnit's `<error>`.
    Error,
}

impl Verdict {
    /// `passed`, `failed`, `skipped`: the record's spelling, and the CSS class of reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Passed => "passed",
            Verdict::Failed => "failed",
            Verdict::Skipped => "skipped",
            Verdict::Error => "error",
        }
    }

    /// `PASS`, `FAIL`, `SKIP`: as a log line starts.
    pub fn word(self) -> &'static str {
        match self {
            Verdict::Passed => "PASS",
            Verdict::Failed => "FAIL",
            Verdict::Skipped => "SKIP",
            Verdict::Error => "ERROR",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How the case's normalised transcript compared with its golden snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SnapshotResult {
    /// Byte for byte the golden file.
    Matched,
    /// Different: [`CaseRecord::snapshot_diff`] has the diff.
    Changed,
    /// No golden file yet.
    Missing,
    /// Different only in ways the rig's `[tolerate]` accepts.
    Tolerated,
    /// Not compared: a step failed first, or the case was skipped.
    NotCompared,
}

impl SnapshotResult {
    /// `matched`, `changed`, `missing`, `tolerated`, `not-compared`.
    pub fn as_str(self) -> &'static str {
        match self {
            SnapshotResult::Matched => "matched",
            SnapshotResult::Changed => "changed",
            SnapshotResult::Missing => "missing",
            SnapshotResult::Tolerated => "tolerated",
            SnapshotResult::NotCompared => "not-compared",
        }
    }

    /// Changed or missing: the snapshot is why the case failed.
    pub fn failed(self) -> bool {
        matches!(self, SnapshotResult::Changed | SnapshotResult::Missing)
    }
}

impl fmt::Display for SnapshotResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a failed case failed. The record spells it as a string: `step 3`, `setup 1`,
/// `teardown 1`, `snapshot`, `prepare`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum FailedAt {
    /// A step, by its label (`step 3`, `setup 1`).
    Step(String),
    /// The golden snapshot comparison.
    Snapshot,
    /// Bringing the target to a known state before the case (reset, sync, the platform).
    Prepare,
    /// The run was asked to stop (SIGINT, SIGTERM) while this case ran; the steps that ran are
    /// recorded.
    Interrupted,
    /// Never started: the rig was found unhealthy, or the run stopped at `--max-fail`
    /// ([`CaseRecord::reason`] says which).
    NotRun,
}

impl FailedAt {
    /// Did a step fail (rather than the snapshot or the preparation)?
    pub fn is_step(&self) -> bool {
        matches!(self, FailedAt::Step(_))
    }
}

impl From<String> for FailedAt {
    fn from(s: String) -> Self {
        match s.as_str() {
            "snapshot" => FailedAt::Snapshot,
            "prepare" => FailedAt::Prepare,
            "interrupted" => FailedAt::Interrupted,
            "not-run" => FailedAt::NotRun,
            _ => FailedAt::Step(s),
        }
    }
}

impl From<FailedAt> for String {
    fn from(f: FailedAt) -> Self {
        f.to_string()
    }
}

impl fmt::Display for FailedAt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FailedAt::Step(label) => f.write_str(label),
            FailedAt::Snapshot => f.write_str("snapshot"),
            FailedAt::Prepare => f.write_str("prepare"),
            FailedAt::Interrupted => f.write_str("interrupted"),
            FailedAt::NotRun => f.write_str("not-run"),
        }
    }
}

/// One case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseRecord {
    /// The suite's name (`register`).
    pub suite: String,
    /// The case's id within the suite (`open-and-register`).
    pub case: String,
    /// The manual sections it checks (`BC39 §5.2.1`).
    pub spec: String,
    /// Its title, when the suite gives one.
    pub title: Option<String>,
    /// What it came to.
    pub verdict: Verdict,
    /// Where it failed; none unless it failed.
    pub failed_at: Option<FailedAt>,
    /// The suite file's line of the step that failed.
    pub line: Option<usize>,
    /// Why it failed, or why it was skipped.
    pub reason: Option<String>,
    /// Wall time of its steps.
    pub duration_ms: f64,
    /// Every step that ran, in order.
    pub steps: Vec<StepRecord>,
    /// The golden snapshot comparison.
    pub snapshot: SnapshotResult,
    /// The diff when the snapshot changed.
    pub snapshot_diff: Option<String>,
    /// Teardown problems and tolerated departures: reported, not failing.
    pub warnings: Vec<String>,
    /// Both sides in time order, a line each.
    pub transcript: Vec<Line>,
    /// The suite file, as the run named it (`suites/register.yaml`); absent in records written
    /// before miplcheck 0.1.1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suite_file: Option<String>,
    /// The earlier attempts of this case when it was retried (`--retries`), oldest first, each
    /// whole with its own transcript; this record is the last attempt. Absent when it ran once.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attempts: Vec<CaseRecord>,
    /// The quarantine entry's reason (a ticket) when the case is quarantined: its failure does
    /// not fail the run. Absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quarantine: Option<String>,
}

impl CaseRecord {
    /// Failed at first and passed on a retry.
    pub fn flaky(&self) -> bool {
        self.verdict == Verdict::Passed && !self.attempts.is_empty()
    }

    /// How many times the case ran: 1, or more when it was retried.
    pub fn attempt_count(&self) -> usize {
        self.attempts.len() + 1
    }

    /// Failed or errored in a way that fails the run: not quarantined.
    pub fn counts_against(&self) -> bool {
        matches!(self.verdict, Verdict::Failed | Verdict::Error) && self.quarantine.is_none()
    }

    /// `config/mode0-access-server`.
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.suite, self.case)
    }

    /// Where it failed, with the suite file's line when a step did: `step 3 (suites/x.yaml:12)`.
    pub fn place(&self) -> Option<String> {
        let at = self.failed_at.as_ref()?;
        Some(match (self.line, &self.suite_file) {
            (Some(l), Some(file)) => format!("{at} ({file}:{l})"),
            (Some(l), None) => format!("{at} (line {l})"),
            _ => at.to_string(),
        })
    }
}

/// One step of a case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    /// `setup 1`, `step 3`, `teardown 1`.
    pub label: String,
    /// Its line in the suite file.
    pub line: usize,
    /// What it does, as its transcript header says (`send AT+MIPLOPEN=0,600,60`).
    pub what: String,
    /// The AT command a send step sent (`+MIPLOPEN`), for per-command tables.
    pub command: Option<String>,
    /// Time from the command (or the last command, for URCs) to the answer: for a send step the
    /// raw figure, the final result code's stamp − the time the write returned.
    pub latency_ms: Option<f64>,
    /// A send step's response time: `latency_ms` less the characters' time on the serial line
    /// (the command still in flight, the answer up to its final result code). Equal to
    /// `latency_ms` when `line` is absent. Absent in records written before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_ms: Option<f64>,
    /// The line settings `response_ms` was corrected for (`9600 8N1`); absent: no correction
    /// (the emulator, a TCP target).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial_line: Option<String>,
    /// Which figure the window was judged on; absent for steps other than send, and in older
    /// records, whose windows were judged on `latency_ms`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub judged_on: Option<JudgedOn>,
    /// The response window it was judged against.
    pub window_ms: Option<f64>,
    /// Why it failed, in words a firmware engineer reads.
    pub failure: Option<String>,
}

/// What a send step's window was judged on (`[timing] response_time` of the rig).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JudgedOn {
    /// `latency_ms`.
    Raw,
    /// `response_ms`.
    Corrected,
}

impl StepRecord {
    /// The figure the window was judged on: `response_ms` when the step was corrected for a
    /// serial line and judged so, else `latency_ms` (every step of an older record, URC and wire
    /// steps, a rig without a line, where the two are the same).
    pub fn judged_ms(&self) -> Option<f64> {
        match (self.judged_on, &self.serial_line) {
            (Some(JudgedOn::Corrected), Some(_)) => self.response_ms.or(self.latency_ms),
            _ => self.latency_ms,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn step(latency: f64, response: Option<f64>, judged_on: Option<JudgedOn>) -> StepRecord {
        let serial_line = response.map(|_| "9600 8N1".to_string());
        StepRecord {
            label: "step 1".into(),
            line: 1,
            what: "send AT".into(),
            command: Some("AT".into()),
            latency_ms: Some(latency),
            response_ms: response,
            serial_line,
            judged_on,
            window_ms: Some(300.0),
            failure: None,
        }
    }

    #[rstest]
    #[case::corrected(Some(250.0), Some(JudgedOn::Corrected), Some(250.0))]
    #[case::raw(Some(250.0), Some(JudgedOn::Raw), Some(383.0))]
    #[case::older_record(None, None, Some(383.0))]
    fn the_judged_figure_is_the_one_the_step_names(
        #[case] response: Option<f64>,
        #[case] judged_on: Option<JudgedOn>,
        #[case] want: Option<f64>,
    ) {
        assert_eq!(step(383.0, response, judged_on).judged_ms(), want);
    }

    #[test]
    fn without_a_line_the_latency_is_the_judged_figure() {
        // What a tool that rewrites `latency_ms` (and not its copy) still sees.
        let s = StepRecord { serial_line: None, ..step(383.0, Some(250.0), Some(JudgedOn::Corrected)) };
        assert_eq!(s.judged_ms(), Some(383.0));
    }

    #[test]
    fn a_step_without_a_response_time_reads_and_writes_as_before() {
        let json = r#"{"label":"step 1","line":1,"what":"send AT","command":"AT","latency_ms":383.0,"window_ms":300.0,"failure":null}"#;
        let s: StepRecord = serde_json::from_str(json).unwrap();
        assert_eq!(s, step(383.0, None, None));
        assert_eq!(serde_json::to_string(&s).unwrap(), json);
        let with = step(383.0, Some(250.0), Some(JudgedOn::Corrected));
        let text = serde_json::to_string(&with).unwrap();
        assert!(text.contains(r#""response_ms":250.0"#) && text.contains(r#""judged_on":"corrected""#), "{text}");
        assert_eq!(serde_json::from_str::<StepRecord>(&text).unwrap(), with);
    }

    #[rstest]
    #[case("step 3", FailedAt::Step("step 3".into()))]
    #[case("setup 1", FailedAt::Step("setup 1".into()))]
    #[case("snapshot", FailedAt::Snapshot)]
    #[case("prepare", FailedAt::Prepare)]
    #[case("interrupted", FailedAt::Interrupted)]
    #[case("not-run", FailedAt::NotRun)]
    fn failure_places_read_and_write_as_strings(#[case] text: &str, #[case] want: FailedAt) {
        let json = format!("\"{text}\"");
        assert_eq!(serde_json::from_str::<FailedAt>(&json).unwrap(), want);
        assert_eq!(serde_json::to_string(&want).unwrap(), json);
    }

    #[test]
    fn verdicts_and_snapshots_keep_their_spelling() {
        assert_eq!(serde_json::to_string(&Verdict::Skipped).unwrap(), "\"skipped\"");
        assert_eq!(serde_json::to_string(&Verdict::Error).unwrap(), "\"error\"");
        assert_eq!(serde_json::to_string(&SnapshotResult::NotCompared).unwrap(), "\"not-compared\"");
        assert!(serde_json::from_str::<Verdict>("\"flaky\"").is_err());
    }
}
