//! miplcheck's runner: everything between a rig file and a verdict.
//!
//! [`rig`] and [`suite`] read the passive descriptions (TOML rigs, YAML suites) with errors that
//! name file, line and field; [`target`] turns a rig into a live port with a reset strategy;
//! [`engine`] runs one case's steps and judges windows; [`transcript`] records and normalises both
//! sides; [`golden`] compares with insta snapshots; [`dispatch`] plans and drives a run and emits
//! one event stream that the [`report`]ers (terminal, JUnit, transcript files) fan out.

pub mod coverage;
pub mod diff;
pub mod dispatch;
pub mod engine;
pub mod explain;
pub mod golden;
pub mod html;
pub mod input_error;
pub mod outcome;
pub mod pattern;
pub mod platform_op;
pub mod record;
pub mod report;
pub mod rig;
pub mod stats;
pub mod suite;
pub mod target;
pub mod transcript;

pub use dispatch::{Plan, Selection};
pub use input_error::InputError;
pub use outcome::{CaseResult, Summary, Verdict};
