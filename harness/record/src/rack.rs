//! A rack's run (`rack.json`, schema [`RACK_SCHEMA`]): every rig of one `miplcheck run` over
//! several rigs, each with its health, firmware, totals and a verdict per case — the matrix of
//! rigs × cases. Each rig's whole record is its own `run.json`, in the rig's folder
//! ([`RackRig::folder`]); this file points there instead of repeating it.

use crate::case::{CaseRecord, Verdict};
use crate::error::RecordError;
use crate::run::{Firmware, RunRecord, Totals};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The rack record's schema and version.
pub const RACK_SCHEMA: &str = "miplcheck-rack/1";

/// One run of a rack of rigs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RackRecord {
    /// Always [`RACK_SCHEMA`].
    pub schema: String,
    /// `miplcheck` version that wrote it.
    pub tool: String,
    /// The rack's name (its rack file's `name`, or `rack`).
    pub name: String,
    /// RFC 3339, UTC.
    pub started: String,
    /// Wall time of the whole rack run.
    pub duration_ms: u64,
    /// Every rig's cases added up.
    pub summary: Totals,
    /// Every rig, in the order the rack names them.
    pub rigs: Vec<RackRig>,
    /// Why the rack run did not finish, when it did not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incomplete: Option<String>,
    /// The suites the rack read (no golden hash: each rig's record has its own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suites: Option<crate::origin::Suites>,
    /// Which shard of a plan this rack run is; absent for a whole plan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition: Option<crate::origin::Partition>,
    /// The shard folders `miplcheck merge` made this record from.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub merged_from: Vec<String>,
}

/// One rig of a rack.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RackRig {
    /// The rig's name: unique in the rack.
    pub name: String,
    /// Its folder, relative to the rack's: `run.json`, `report.html`, transcripts.
    pub folder: String,
    /// `bc39`, `m5310a`.
    pub dialect: String,
    /// Where it was reached (`emulator on /dev/pts/3`, `tcp 127.0.0.1:3001`).
    pub target: String,
    /// What the modem said it is, identities masked.
    pub firmware: Firmware,
    /// Whether it could be used, and what its health checks found.
    pub health: Health,
    /// Its cases by verdict.
    pub summary: Totals,
    /// Wall time of its run.
    pub duration_ms: u64,
    /// Each case's verdict, in the order they ran.
    pub cases: Vec<RackCase>,
    /// Why its run did not finish, when it did not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incomplete: Option<String>,
}

/// One cell of the matrix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RackCase {
    /// `suite/case`.
    pub name: String,
    /// The manual sections it checks.
    pub spec: String,
    /// What it came to (its last attempt).
    pub verdict: Verdict,
    /// Failed first, passed on a retry.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub flaky: bool,
    /// How many times it ran.
    pub attempts: usize,
    /// The quarantine entry's reason, when quarantined.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quarantine: Option<String>,
    /// Why it failed, errored or was skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Wall time of its last attempt.
    pub duration_ms: f64,
}

impl From<&CaseRecord> for RackCase {
    fn from(c: &CaseRecord) -> Self {
        RackCase {
            name: c.full_name(),
            spec: c.spec.clone(),
            verdict: c.verdict,
            flaky: c.flaky(),
            attempts: c.attempt_count(),
            quarantine: c.quarantine.clone(),
            reason: c.reason.clone(),
            duration_ms: c.duration_ms,
        }
    }
}

/// A rig's health (LAVA's words): `good` while it answers, `unhealthy` once its health checks
/// gave up on it, `unknown` before the first check.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HealthState {
    /// Not checked yet.
    #[default]
    Unknown,
    /// Its last health check passed.
    Good,
    /// Given up on: its remaining cases were not run.
    Unhealthy,
}

impl HealthState {
    /// `unknown`, `good`, `unhealthy`.
    pub fn as_str(self) -> &'static str {
        match self {
            HealthState::Unknown => "unknown",
            HealthState::Good => "good",
            HealthState::Unhealthy => "unhealthy",
        }
    }
}

/// What is known of a rig's health after its run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Health {
    /// Where it ended.
    pub state: HealthState,
    /// Why it is unhealthy, in words (`no OK to AT after reset and power cycle: …`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Every health check, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<HealthCheck>,
}

/// One health check: AT → OK, then the reset strategy, then the power strategy, as far as needed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HealthCheck {
    /// When: `before the first case`, `after register/open (infrastructure error)`.
    pub when: String,
    /// Whether the modem answered in the end.
    pub ok: bool,
    /// Each rung tried and what it gave (`AT: no OK …`, `reset AT+QRST=1: ready`, `power cycle: ok`).
    pub rungs: Vec<String>,
    /// Its wall time.
    pub duration_ms: f64,
}

impl RackRig {
    /// The rig's row, from its run record and the folder it was written to.
    pub fn of(record: &RunRecord, folder: &str) -> RackRig {
        RackRig {
            name: record.rig.name.clone(),
            folder: folder.to_string(),
            dialect: record.rig.dialect.clone(),
            target: record.rig.target.clone(),
            firmware: record.firmware.clone(),
            health: record.health.clone().unwrap_or_default(),
            summary: record.summary,
            duration_ms: record.duration_ms,
            cases: record.cases.iter().map(RackCase::from).collect(),
            incomplete: record.incomplete.clone(),
        }
    }
}

impl crate::file::Schema for RackRecord {
    fn schema(&self) -> &str {
        &self.schema
    }
}

impl RackRecord {
    /// The rack's record from its rigs' records (with their folders, relative to the rack's).
    pub fn of<'a>(
        name: &str,
        tool: &str,
        started: &str,
        duration_ms: u64,
        rigs: impl IntoIterator<Item = (&'a RunRecord, &'a str)>,
    ) -> RackRecord {
        let rigs: Vec<RackRig> = rigs.into_iter().map(|(r, folder)| RackRig::of(r, folder)).collect();
        let mut summary = Totals::default();
        for r in &rigs {
            summary.merge(&r.summary);
        }
        let unfinished: Vec<String> =
            rigs.iter().filter_map(|r| r.incomplete.as_ref().map(|why| format!("{}: {why}", r.name))).collect();
        RackRecord {
            schema: RACK_SCHEMA.to_string(),
            tool: tool.to_string(),
            name: name.to_string(),
            started: started.to_string(),
            duration_ms,
            summary,
            rigs,
            incomplete: (!unfinished.is_empty()).then(|| unfinished.join("; ")),
            suites: None,
            partition: None,
            merged_from: vec![],
        }
    }

    /// Reads `rack.json` from a rack folder or a file; errors name the file, line and field.
    pub fn load(path: &Path) -> Result<RackRecord, RecordError> {
        let file = if path.is_dir() { path.join("rack.json") } else { path.to_path_buf() };
        let text = std::fs::read_to_string(&file).map_err(|source| RecordError::Read { path: file.clone(), source })?;
        crate::file::parse(&text, &file, RACK_SCHEMA)
    }

    /// Writes it through a synced temporary file.
    pub fn save(&self, path: &Path) -> Result<(), RecordError> {
        crate::file::save(self, path)
    }

    /// The rigs that ended unhealthy.
    pub fn unhealthy(&self) -> impl Iterator<Item = &RackRig> {
        self.rigs.iter().filter(|r| r.health.state == HealthState::Unhealthy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rack_record_reads_back_and_refuses_a_run_record() {
        let d = tempfile::tempdir().unwrap();
        let rec = RackRecord::of("nightly", "miplcheck 0.2.0", "2026-12-02T00:00:00Z", 5, []);
        rec.save(&d.path().join("rack.json")).unwrap();
        assert_eq!(RackRecord::load(d.path()).unwrap(), rec);
        std::fs::write(d.path().join("run.json"), r#"{"schema":"miplcheck-run/1"}"#).unwrap();
        let e = RackRecord::load(&d.path().join("run.json")).unwrap_err().to_string();
        assert!(e.contains("miplcheck-rack/1"), "{e}");
    }
}
