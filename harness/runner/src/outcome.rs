//! What a case came to, as every reporter sees it: its record (redacted and masked by the
//! dispatcher, once) and its datagrams for a capture file, masked the same way.

use miplcheck_record::{CaseRecord, Totals, Verdict};
use std::time::Duration;

/// One finished case.
#[derive(Debug, Clone)]
pub struct CaseResult {
    pub record: CaseRecord,
    /// The platform's datagrams (secrets and identities masked, lengths kept), for a pcapng
    /// file; none without a platform.
    pub capture: Option<Capture>,
}

impl CaseResult {
    /// The transcript as people read it, a line each (see [`miplcheck_record::Line`]'s `Display`).
    pub fn transcript_text(&self) -> String {
        self.record.transcript.iter().map(|l| format!("{l}\n")).collect()
    }

    pub fn passed(&self) -> bool {
        self.record.verdict == Verdict::Passed
    }

    pub fn failed(&self) -> bool {
        self.record.verdict == Verdict::Failed
    }
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

/// The run's totals so far.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub totals: Totals,
    pub duration: Duration,
    /// The signal that stopped the run before its last case, if one did.
    pub interrupted: Option<crate::interrupt::Signal>,
    /// Why the run is incomplete, in words (`interrupted by SIGINT (Ctrl-C) after 57 of 140 cases`).
    pub incomplete: Option<String>,
    /// The rig's health checks and where they left it.
    pub health: Option<miplcheck_record::Health>,
    /// How the `--firmware` flash before the first case ended, when there was one.
    pub flash: Option<miplcheck_record::Flash>,
}

impl Summary {
    pub fn add(&mut self, r: &CaseRecord) {
        self.totals.count(r);
    }

    pub fn all_passed(&self) -> bool {
        self.totals.all_passed()
    }
}
