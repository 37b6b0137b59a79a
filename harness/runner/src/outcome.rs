//! What a case came to: the verdict, every step with its timing, the snapshot comparison and the
//! transcript, already redacted. Reporters read only this.

use crate::engine::StepOutcome;
use crate::golden::Snapshot;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Passed,
    Failed {
        /// `step 3`, `setup 1`, or `snapshot`.
        at: String,
        /// Line in the suite file, when a step failed.
        line: Option<usize>,
        reason: String,
    },
    Skipped(String),
}

#[derive(Debug, Clone)]
pub struct CaseResult {
    pub suite: String,
    pub suite_file: String,
    pub case: String,
    pub spec: String,
    pub title: Option<String>,
    pub verdict: Verdict,
    pub steps: Vec<StepOutcome>,
    pub snapshot: Snapshot,
    /// Timed transcript, secrets redacted.
    pub transcript: String,
    pub warnings: Vec<String>,
    pub duration: Duration,
    /// The platform's datagrams (secrets masked), for a pcapng file; none without a platform.
    pub capture: Option<Capture>,
}

/// A case's datagrams and where they were seen.
#[derive(Debug, Clone)]
pub struct Capture {
    /// The platform's address (`ip:port`).
    pub platform: String,
    /// Wall-clock time the records' times count from.
    pub started: std::time::SystemTime,
    pub records: Vec<miplcheck_platform::WireRecord>,
}

impl CaseResult {
    /// `config/mode0-access-server`.
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.suite, self.case)
    }

    pub fn passed(&self) -> bool {
        self.verdict == Verdict::Passed
    }

    pub fn failed(&self) -> bool {
        matches!(self.verdict, Verdict::Failed { .. })
    }
}

#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
    pub duration: Duration,
}

impl Summary {
    pub fn add(&mut self, r: &CaseResult) {
        match r.verdict {
            Verdict::Passed => self.passed += 1,
            Verdict::Failed { .. } => self.failed += 1,
            Verdict::Skipped(_) => self.skipped += 1,
        }
    }

    pub fn all_passed(&self) -> bool {
        self.failed == 0
    }
}
