//! `run.json`: the run record (see `crate::record`), written when the run ends, and the source of
//! the HTML and difference reports.

use super::{Event, Reporter};
use crate::record::{CaseRecord, Firmware, Mask, RigInfo, RunRecord, SCHEMA};
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
            if let Some(dir) = self.path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let text = serde_json::to_string_pretty(&record).map_err(std::io::Error::other)?;
            std::fs::write(&self.path, text + "\n")?;
        }
        Ok(())
    }
}

/// Collects a run's events into its [`RunRecord`], for every reporter made from the record (this
/// one and the HTML report), so they cannot disagree about what the run was.
pub struct RecordBuilder {
    started: SystemTime,
    head: Option<(RigInfo, Firmware, Mask)>,
    cases: Vec<CaseRecord>,
}

impl RecordBuilder {
    pub fn new() -> Self {
        RecordBuilder { started: SystemTime::now(), head: None, cases: vec![] }
    }

    /// Takes one event; at `RunFinished` hands back the whole record.
    pub fn on(&mut self, event: &Event<'_>) -> std::io::Result<Option<RunRecord>> {
        match event {
            Event::RunStarted { info, firmware, mask, .. } => {
                self.started = SystemTime::now();
                self.head = Some(((*info).clone(), (*firmware).clone(), (*mask).clone()));
            }
            Event::CaseStarted { .. } => {}
            Event::CaseFinished(r) => {
                let mask = self.head.as_ref().map(|h| h.2.clone()).unwrap_or_default();
                self.cases.push(CaseRecord::from_result(r, &mask));
            }
            Event::RunFinished(summary) => {
                let (rig, firmware, _) = self.head.take().ok_or_else(|| std::io::Error::other("no RunStarted"))?;
                return Ok(Some(RunRecord {
                    schema: SCHEMA.into(),
                    tool: env!("CARGO_PKG_VERSION").into(),
                    started: humantime::format_rfc3339_seconds(self.started).to_string(),
                    duration_ms: summary.duration.as_millis() as u64,
                    rig,
                    firmware,
                    summary: RunRecord::totals(summary),
                    cases: std::mem::take(&mut self.cases),
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
