//! One stream of run events, fanned out to reporters (nextest's shape): the terminal, JUnit,
//! transcript files, coverage, `run.json` and `report.html` each see the same events and write
//! their own form. Every case arrives as its [`CaseRecord`](miplcheck_record::CaseRecord),
//! already redacted and masked by the dispatcher: a reporter only renders, never masks.
//!
//! A new report format is best a renderer of [`RunRecord`](miplcheck_record::RunRecord) (as
//! `miplcheck-html` is: [`json::RecordBuilder`] collects the record), so it also works on old
//! runs and on runs from other machines; a report that must write as the run goes (progress,
//! transcript files) is a [`Reporter`] here.

pub mod coverage;
pub mod files;
pub mod html;
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
    },
    CaseStarted {
        suite: &'a str,
        case: &'a str,
    },
    CaseFinished(&'a CaseResult),
    RunFinished(&'a Summary),
}

pub trait Reporter {
    fn on(&mut self, event: &Event<'_>) -> std::io::Result<()>;
}

/// Sends each event to every reporter; a reporter that fails is reported once and dropped, so a
/// full disk for transcripts does not stop the run.
pub struct Fanout {
    reporters: Vec<(String, Box<dyn Reporter>)>,
}

impl Fanout {
    pub fn new() -> Self {
        Fanout { reporters: vec![] }
    }

    pub fn add(mut self, name: &str, r: Box<dyn Reporter>) -> Self {
        self.reporters.push((name.to_string(), r));
        self
    }

    pub fn emit(&mut self, event: &Event<'_>) {
        self.reporters.retain_mut(|(name, r)| match r.on(event) {
            Ok(()) => true,
            // Its reader went away (`miplcheck run … | head`): nothing to say about it.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                tracing::debug!("the {name} report's reader went away; it is switched off");
                false
            }
            Err(e) => {
                tracing::error!("the {name} report failed and is switched off: {e}");
                false
            }
        });
    }
}

impl Default for Fanout {
    fn default() -> Self {
        Self::new()
    }
}
