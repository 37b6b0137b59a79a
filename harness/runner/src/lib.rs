//! miplcheck's runner: everything between a rig file and a case record.
//!
//! Input: [`rig`] and [`suite`] read the passive descriptions (TOML rigs, YAML suites) with errors
//! that name file, line and field; [`pattern`] reads the suites' line patterns. Execution:
//! [`target`] turns a rig into a live port with a reset strategy; [`engine`] runs one case's steps
//! and judges windows; [`transcript`] records both sides; [`golden`] and [`explain`] compare with
//! the insta snapshots; [`dispatch`] plans and drives a run; [`probe`] resets a bench MCU through a
//! debug probe (cargo feature `probe-rs`). The hand-off: [`handoff`] turns each case into its
//! [`miplcheck_record::CaseRecord`] through the run's [`privacy`] (secrets redacted, identities
//! masked, once). Output: one event stream that the [`report`]ers fan out.
//!
//! What only reads records lives elsewhere: `miplcheck-record` (the record), `miplcheck-html`,
//! `miplcheck-diff` and `miplcheck-coverage`.

pub mod cap;
pub mod coverage_sources;
pub mod dispatch;
pub mod engine;
pub mod explain;
pub mod firmware;
pub mod golden;
pub mod handoff;
pub mod input_error;
pub mod interrupt;
pub mod labgrid;
pub mod line_time;
pub mod onenet_api;
pub mod outcome;
pub mod partition;
pub mod pattern;
pub mod platform_op;
pub mod policy;
pub mod privacy;
pub mod probe;
pub mod process_group;
pub mod provenance;
pub mod quarantine;
pub mod rack;
pub mod recorder;
pub mod report;
pub mod rig;
pub mod suite;
pub mod target;
pub mod transcript;
mod yaml;

pub use dispatch::{Plan, Selection};
pub use input_error::InputError;
pub use outcome::{CaseResult, Summary};
pub use privacy::Privacy;
