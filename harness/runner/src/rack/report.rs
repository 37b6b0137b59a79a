//! The rack's own reports, made from its rigs' records when every rig has finished:
//! `junit.xml` (a testsuite per rig), `rack.json` (the matrix, [`miplcheck_record::RackRecord`])
//! and `rack.html`. Each is written whole or not at all; one that cannot be written is named in
//! the failures, and the run's exit status says so.

use super::{Rack, RackRun};
use crate::report::{atomic, junit, ReportFailure};
use miplcheck_record::{RackRecord, RunRecord};
use std::path::Path;

/// The rack record of a finished rack run; a rig whose worker left no record is named in
/// `incomplete`.
pub fn record(rack_: &Rack, out: &Path, run: &RackRun) -> RackRecord {
    let name = rack_.name.as_str();
    let folders: Vec<String> =
        run.rigs.iter().map(|r| r.folder.strip_prefix(out).unwrap_or(&r.folder).display().to_string()).collect();
    let rigs = run.rigs.iter().zip(&folders).filter_map(|(r, f)| r.record.as_ref().map(|rec| (rec, f.as_str())));
    let started = humantime::format_rfc3339_seconds(run.started).to_string();
    let mut rack = RackRecord::of(name, env!("CARGO_PKG_VERSION"), &started, run.duration.as_millis() as u64, rigs);
    let lost: Vec<String> = run
        .rigs
        .iter()
        .filter(|r| r.record.is_none())
        .map(|r| format!("{}: no record ({})", r.folder.display(), r.summary.incomplete.as_deref().unwrap_or("")))
        .collect();
    if !lost.is_empty() {
        let all = rack.incomplete.into_iter().chain(lost).collect::<Vec<_>>();
        rack.incomplete = Some(all.join("; "));
    }
    rack.suites = rack_.suites.clone();
    rack.partition = rack_.partition.clone();
    rack
}

/// Writes `junit.xml`, `rack.json` and `rack.html` into `out`; what could not be written.
pub fn write(rack_: &Rack, out: &Path, run: &RackRun) -> Vec<ReportFailure> {
    let rack = record(rack_, out, run);
    let records: Vec<RunRecord> = run.rigs.iter().filter_map(|r| r.record.clone()).collect();
    write_records(out, &rack, &records)
}

/// Writes a rack's `junit.xml`, `rack.json` and `rack.html` into `out` from its record and its
/// rigs' records (a run's, or `miplcheck merge`'s); what could not be written.
pub fn write_records(out: &Path, rack: &RackRecord, records: &[RunRecord]) -> Vec<ReportFailure> {
    let mut failures = vec![];
    let mut fail = |report: &str, e: String| failures.push(ReportFailure { report: report.into(), error: e });
    let (name, duration) = (rack.name.as_str(), std::time::Duration::from_millis(rack.duration_ms));
    let path = out.join("junit.xml");
    if let Err(e) = junit::rack_to_bytes(name, duration, records).and_then(|b| atomic::write(&path, &b)) {
        fail("rack junit", format!("{}: {e}", path.display()));
    }
    if let Err(e) = rack.save(&out.join("rack.json")) {
        fail("rack record", e.to_string());
    }
    let path = out.join(miplcheck_html::RACK_FILE);
    if let Err(e) = atomic::write(&path, miplcheck_html::render_rack(rack).as_bytes()) {
        fail("rack page", format!("{}: {e}", path.display()));
    }
    failures
}
