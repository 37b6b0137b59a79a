//! The run record: what one run of miplcheck came to, as one typed value that every report is
//! made from — `run.json` itself, the HTML page, JUnit, the terminal, transcript files, coverage
//! and the difference between two runs.
//!
//! The record is data only: it is built by the runner's dispatcher, already redacted and with the
//! modem's identities masked, and read back by offline tools from a file written on another day or
//! machine. This crate does no I/O beyond [`RunRecord::load`] and [`RunRecord::save`], knows no
//! modem, port or clock, and never redacts or masks anything itself: what it holds is what may be
//! shown. A new report format is a renderer of [`RunRecord`].
//!
//! The schema is versioned ([`SCHEMA`], documented in `docs/run-record.md`); readers refuse a
//! version they do not know, and records written by earlier releases of `miplcheck-run/1` load.

#![deny(missing_docs)]

mod case;
mod error;
mod file;
mod flash;
mod line;
pub mod merge;
mod origin;
mod rack;
mod run;
pub mod stats;

pub use case::{CaseRecord, FailedAt, JudgedOn, SnapshotResult, StepRecord, Verdict};
pub use error::RecordError;
pub use flash::{Flash, FlashOutcome};
pub use line::{escape, printable, Class, Dir, Line, LineKind, LineMark};
pub use origin::{Partition, PartitionKind, Suites};
pub use rack::{Health, HealthCheck, HealthState, RackCase, RackRecord, RackRig, RACK_SCHEMA};
pub use run::{Firmware, RigInfo, RunRecord, Totals, SCHEMA};

/// A duration as the record spells it: milliseconds, microseconds kept.
pub fn millis(d: std::time::Duration) -> f64 {
    (d.as_secs_f64() * 1_000_000.0).round() / 1000.0
}
