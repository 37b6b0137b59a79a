//! `run.json`: the run record (see `miplcheck_record`), written when the run ends, and the source
//! of the HTML and difference reports.

use super::{Event, Reporter};
use miplcheck_record::{CaseRecord, Firmware, Partition, RigInfo, RunRecord, Suites, Totals, SCHEMA};
use std::path::PathBuf;
use std::time::SystemTime;

pub struct JsonRecord {
    path: PathBuf,
    builder: RecordBuilder,
}

impl JsonRecord {
    pub fn new(path: PathBuf) -> Self {
        JsonRecord { path, builder: RecordBuilder::new() }
    }
}

impl Reporter for JsonRecord {
    fn on(&mut self, event: &Event<'_>) -> std::io::Result<()> {
        if let Some(record) = self.builder.on(event)? {
            record.save(&self.path).map_err(std::io::Error::other)?;
        }
        Ok(())
    }
}

/// Collects a run's events into its [`RunRecord`], for every reporter made from the record (this
/// one and the HTML report), so they cannot disagree about what the run was.
pub struct RecordBuilder {
    started: SystemTime,
    head: Option<(RigInfo, Firmware)>,
    origin: (Option<Suites>, Option<Partition>),
    cases: Vec<CaseRecord>,
}

impl RecordBuilder {
    pub fn new() -> Self {
        RecordBuilder { started: SystemTime::now(), head: None, origin: (None, None), cases: vec![] }
    }

    /// Takes one event; at `RunFinished` hands back the whole record.
    pub fn on(&mut self, event: &Event<'_>) -> std::io::Result<Option<RunRecord>> {
        match event {
            Event::RunStarted { rig, firmware, suites, partition, .. } => {
                self.started = SystemTime::now();
                self.head = Some(((*rig).clone(), (*firmware).clone()));
                self.origin = (suites.cloned(), partition.cloned());
            }
            Event::CaseStarted { .. } | Event::Doing(_) | Event::CaseRetrying { .. } => {}
            Event::CaseFinished(r) => self.cases.push(r.record.clone()),
            Event::RunFinished(summary) => {
                let (rig, firmware) = self.head.take().ok_or_else(|| std::io::Error::other("no RunStarted"))?;
                let cases = std::mem::take(&mut self.cases);
                return Ok(Some(RunRecord {
                    schema: SCHEMA.into(),
                    tool: env!("CARGO_PKG_VERSION").into(),
                    started: humantime::format_rfc3339_seconds(self.started).to_string(),
                    duration_ms: summary.duration.as_millis() as u64,
                    rig,
                    firmware,
                    summary: Totals::of(&cases),
                    cases,
                    incomplete: summary.incomplete.clone(),
                    health: summary.health.clone(),
                    suites: self.origin.0.clone(),
                    partition: self.origin.1.clone(),
                    merged_from: vec![],
                }));
            }
        }
        Ok(None)
    }
}

impl Default for RecordBuilder {
    fn default() -> Self {
        Self::new()
    }
}
