//! One stream of run events, fanned out to reporters (nextest's shape): the terminal, JUnit, and
//! transcript files each see the same events and write their own form. A new report format is a
//! new file here implementing [`Reporter`].

pub mod coverage;
pub mod files;
pub mod html;
pub mod json;
pub mod junit;
pub mod terminal;

use crate::outcome::{CaseResult, Summary};

/// What happened, in order.
#[derive(Debug)]
pub enum Event<'a> {
    RunStarted {
        rig: &'a str,
        dialect: &'a str,
        target: &'a str,
        cases: usize,
        /// The rig as the run record describes it (secrets by name only).
        info: &'a crate::record::RigInfo,
        /// What the modem said it is, IMEI masked.
        firmware: &'a crate::record::Firmware,
        /// Masks the modem's IMEI and IMSI wherever a report carries them.
        mask: &'a crate::record::Mask,
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
