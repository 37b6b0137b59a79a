//! One stream of run events, fanned out to reporters (nextest's shape): the terminal, JUnit,
//! transcript files, coverage, `run.json` and `report.html` each see the same events and write
//! their own form. Every case arrives as its [`CaseRecord`](miplcheck_record::CaseRecord),
//! already redacted and masked by the dispatcher: a reporter only renders, never masks.
//!
//! A new report format is best a renderer of [`RunRecord`](miplcheck_record::RunRecord) (as
//! `miplcheck-html` is: [`json::RecordBuilder`] collects the record), so it also works on old
//! runs and on runs from other machines; a report that must write as the run goes (progress,
//! transcript files) is a [`Reporter`] here.

pub mod atomic;
pub mod coverage;
pub mod files;
pub mod folder;
pub mod html;
pub mod journal;
pub mod json;
pub mod junit;
pub mod terminal;

use crate::outcome::{CaseResult, Summary};
use miplcheck_record::{Firmware, RigInfo};

/// What happened, in order.
#[derive(Debug)]
pub enum Event<'a> {
    RunStarted {
        /// The rig as the run record describes it (secrets by name only).
        rig: &'a RigInfo,
        /// What the modem said it is, identities masked.
        firmware: &'a Firmware,
        /// How many cases were selected.
        cases: usize,
        /// The suites read, by hash and revision.
        suites: Option<&'a miplcheck_record::Suites>,
        /// The shard of the plan this run is, with the rig's units' plan positions.
        partition: Option<&'a miplcheck_record::Partition>,
    },
    CaseStarted {
        suite: &'a str,
        case: &'a str,
    },
    /// What the rig is doing now, for a progress line (`step 4: urc +MIPLEVENT: 0,6 (10 s)`,
    /// `health check`, `retry in 2s`).
    Doing(&'a str),
    /// An attempt of a case failed and it runs again.
    CaseRetrying {
        /// The attempt that failed, as it will be kept.
        record: &'a miplcheck_record::CaseRecord,
        /// The attempt that comes next (2 for the first retry).
        next: usize,
        /// How many attempts it may take in all.
        of: usize,
        /// The wait before it.
        delay: std::time::Duration,
    },
    CaseFinished(&'a CaseResult),
    RunFinished(&'a Summary),
}

pub trait Reporter {
    fn on(&mut self, event: &Event<'_>) -> std::io::Result<()>;
}

/// Sends each event to every reporter; a reporter that fails is reported once and dropped, so a
/// full disk for transcripts does not stop the run — but the failure is kept ([`Fanout::failures`])
/// and the run's exit status says so.
pub struct Fanout {
    reporters: Vec<(String, Box<dyn Reporter>)>,
    failures: Vec<ReportFailure>,
}

/// A report that could not be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportFailure {
    /// The reporter: `junit`, `run record`, `transcripts`, …
    pub report: String,
    /// What went wrong, naming the file.
    pub error: String,
}

impl Fanout {
    pub fn new() -> Self {
        Fanout { reporters: vec![], failures: vec![] }
    }

    pub fn add(mut self, name: &str, r: Box<dyn Reporter>) -> Self {
        self.reporters.push((name.to_string(), r));
        self
    }

    pub fn emit(&mut self, event: &Event<'_>) {
        let failures = &mut self.failures;
        self.reporters.retain_mut(|(name, r)| match r.on(event) {
            Ok(()) => true,
            // Its reader went away (`miplcheck run … | head`): nothing to say about it.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                tracing::debug!("the {name} report's reader went away; it is switched off");
                false
            }
            Err(e) => {
                tracing::error!("the {name} report failed and is switched off: {e}");
                failures.push(ReportFailure { report: name.clone(), error: e.to_string() });
                false
            }
        });
    }

    /// The reports that could not be written, in the order they failed.
    pub fn failures(&self) -> &[ReportFailure] {
        &self.failures
    }
}

impl Default for Fanout {
    fn default() -> Self {
        Self::new()
    }
}

/// A whole record's reports written into `dir` by the renderers the run's reporters use:
/// `run.json`, `junit.xml`, `report.html`, `coverage.md`/`.json` (for `miplcheck merge`, whose
/// record no run's events made). What could not be written.
pub fn write_record(dir: &std::path::Path, record: &miplcheck_record::RunRecord) -> Vec<ReportFailure> {
    let mut failures = vec![];
    let mut fail = |report: &str, e: String| failures.push(ReportFailure { report: report.into(), error: e });
    if let Err(e) = record.save(&dir.join("run.json")) {
        fail("run record", e.to_string());
    }
    let path = dir.join("junit.xml");
    if let Err(e) = junit::to_bytes(record).and_then(|b| atomic::write(&path, &b)) {
        fail("junit", format!("{}: {e}", path.display()));
    }
    let path = dir.join(miplcheck_html::FILE);
    if let Err(e) = html::write_page(&path, record) {
        fail("html", format!("{}: {e}", path.display()));
    }
    if let Err(e) = coverage::from_record(dir, record) {
        fail("coverage", format!("{}: {e}", dir.display()));
    }
    failures
}
