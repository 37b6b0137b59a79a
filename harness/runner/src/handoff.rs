//! The one hand-off from execution to reporting: a case's engine run, its snapshot result and its
//! datagrams become a [`CaseRecord`] and a [`Capture`], with every text passed through the run's
//! [`Privacy`] on the way. Nothing is rendered to text and read back: the record's lines are made
//! from the transcript's entries.
//!
//! What leaves here may be shown anywhere; nothing before it may be.

use crate::engine::{CaseRun, StepOutcome};
use crate::golden::Snapshot;
use crate::outcome::Capture;
use crate::privacy::Privacy;
use crate::suite::{Case, Suite};
use miplcheck_record::{millis as ms, CaseRecord, FailedAt, SnapshotResult, StepRecord, Verdict};

/// A case that has not run (skipped, or its target could not be prepared): no steps, no
/// transcript; `spent` is how long preparing took.
pub fn unrun(
    suite: &Suite,
    case: &Case,
    verdict: Verdict,
    failed_at: Option<FailedAt>,
    reason: String,
    spent: std::time::Duration,
) -> CaseRecord {
    CaseRecord {
        suite: suite.name.clone(),
        case: case.id.clone(),
        spec: case.spec.clone(),
        title: case.title.clone(),
        verdict,
        failed_at,
        line: None,
        reason: Some(reason),
        duration_ms: ms(spent),
        steps: vec![],
        snapshot: SnapshotResult::NotCompared,
        snapshot_diff: None,
        warnings: vec![],
        transcript: vec![],
        suite_file: Some(suite.path.display().to_string()),
        attempts: vec![],
        quarantine: None,
    }
}

/// How a case that ran came out, before privacy: the verdict the dispatcher reached.
pub struct Judged {
    pub failed: Option<(FailedAt, String)>,
    pub snapshot: Snapshot,
    pub warnings: Vec<String>,
    /// The failure is the bench's (the link closed): an infrastructure error.
    pub infrastructure: bool,
}

/// The record of a case that ran; its duration is `prepared` (bringing the target to power-on
/// state) and the run's.
pub fn record(
    suite: &Suite,
    case: &Case,
    run: &CaseRun,
    judged: Judged,
    privacy: &Privacy,
    prepared: std::time::Duration,
) -> CaseRecord {
    let steps: Vec<StepRecord> = run.steps.iter().map(|s| step(s, privacy)).collect();
    let (verdict, failed_at, reason, line) = match judged.failed {
        None => (Verdict::Passed, None, None, None),
        Some((at, why)) => {
            let line = match &at {
                FailedAt::Step(label) => run.steps.iter().find(|s| s.label == *label).map(|s| s.line),
                _ => None,
            };
            let verdict = if judged.infrastructure { Verdict::Error } else { Verdict::Failed };
            (verdict, Some(at), Some(crate::cap::reason(&privacy.text(&why)).into_owned()), line)
        }
    };
    let (snapshot, snapshot_diff) = match &judged.snapshot {
        Snapshot::Matched => (SnapshotResult::Matched, None),
        Snapshot::Changed { diff } => (SnapshotResult::Changed, Some(privacy.text(diff))),
        Snapshot::Missing => (SnapshotResult::Missing, None),
        Snapshot::Tolerated => (SnapshotResult::Tolerated, None),
        Snapshot::NotCompared => (SnapshotResult::NotCompared, None),
    };
    CaseRecord {
        line,
        reason,
        duration_ms: ms(prepared + run.duration),
        steps,
        snapshot,
        snapshot_diff,
        warnings: judged.warnings.iter().map(|w| privacy.text(w)).collect(),
        transcript: run.transcript.lines(privacy),
        ..unrun(suite, case, verdict, failed_at, String::new(), std::time::Duration::ZERO)
    }
}

/// The case's datagrams for a capture file, each packet masked with its length kept.
pub fn capture(run: &CaseRun, platform: String, started: std::time::SystemTime, privacy: &Privacy) -> Capture {
    let records = run
        .wire
        .iter()
        .map(|r| miplcheck_platform::WireRecord { bytes: privacy.packet(&r.bytes), ..r.clone() })
        .collect();
    Capture { platform, started, records }
}

fn step(s: &StepOutcome, privacy: &Privacy) -> StepRecord {
    StepRecord {
        label: s.label.clone(),
        line: s.line,
        what: privacy.text(&s.what),
        command: command_of(&s.what),
        latency_ms: s.latency.map(ms),
        response_ms: s.response.map(ms),
        serial_line: s.serial_line.clone(),
        judged_on: s.judged_on.map(|j| match j {
            crate::rig::ResponseTime::Corrected => miplcheck_record::JudgedOn::Corrected,
            crate::rig::ResponseTime::Raw => miplcheck_record::JudgedOn::Raw,
        }),
        window_ms: s.window.map(ms),
        failure: s.failure.as_deref().map(|f| crate::cap::reason(&privacy.text(f)).into_owned()),
    }
}

/// The AT command a step sends: `send AT+MIPLOPEN=0,600,60` → `+MIPLOPEN`.
fn command_of(what: &str) -> Option<String> {
    let line = what.strip_prefix("send ")?;
    miplcheck_at::syntax::Command::parse(line).ok().map(|c| if c.name.is_empty() { "AT".into() } else { c.name })
}

#[cfg(test)]
mod tests {
    use super::command_of;

    #[test]
    fn commands_of_steps() {
        assert_eq!(command_of("send AT+MIPLOPEN=0,600,60").as_deref(), Some("+MIPLOPEN"));
        assert_eq!(command_of("send AT").as_deref(), Some("AT"));
        assert_eq!(command_of("urc +MIPLEVENT: 0,6"), None);
    }
}
