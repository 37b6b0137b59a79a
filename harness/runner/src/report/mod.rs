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

/// A form of the run. `Send` because the run's end reaches the reporters that only write files
/// all at once.
pub trait Reporter: Send {
    fn on(&mut self, event: &Event<'_>) -> std::io::Result<()>;

    /// Whether it prints for a person (the terminal, the coverage line): such reporters get the
    /// run's end after every other has written its files, one after another in their order, so
    /// what is printed keeps its order and names files that are there.
    fn prints(&self) -> bool {
        false
    }
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
        let results: Vec<std::io::Result<()>> = match event {
            // The end is where every report file is written and synced: by the file reporters
            // all at once, so the syncs overlap instead of adding up; then the printing ones.
            // Every other event is one reporter after another.
            Event::RunFinished(_) => {
                let mut results: Vec<Option<std::io::Result<()>>> = std::thread::scope(|scope| {
                    let running: Vec<_> = self
                        .reporters
                        .iter_mut()
                        .map(|(_, r)| (!r.prints()).then(|| scope.spawn(move || r.on(event))))
                        .collect();
                    running
                        .into_iter()
                        .map(|t| t.map(|t| t.join().unwrap_or_else(|e| std::panic::resume_unwind(e))))
                        .collect()
                });
                for (slot, (_, r)) in results.iter_mut().zip(&mut self.reporters) {
                    if slot.is_none() {
                        *slot = Some(r.on(event));
                    }
                }
                results.into_iter().flatten().collect()
            }
            _ => self.reporters.iter_mut().map(|(_, r)| r.on(event)).collect(),
        };
        let failures = &mut self.failures;
        let mut results = results.into_iter();
        self.reporters.retain_mut(|(name, _)| match results.next().unwrap_or(Ok(())) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc::{channel, Receiver, Sender};
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    /// At the run's end, tells the other file reporter it is here and waits to hear the same:
    /// only reporters run at once both get past it.
    struct Meets {
        tell: Sender<()>,
        hear: Receiver<()>,
        log: Arc<Mutex<Vec<&'static str>>>,
        name: &'static str,
    }

    impl Reporter for Meets {
        fn on(&mut self, event: &Event<'_>) -> std::io::Result<()> {
            if let Event::RunFinished(_) = event {
                let _ = self.tell.send(());
                self.hear
                    .recv_timeout(Duration::from_secs(60))
                    .map_err(|_| std::io::Error::other("the other file reporter never came"))?;
                self.log.lock().unwrap().push(self.name);
            }
            Ok(())
        }
    }

    struct Prints(Arc<Mutex<Vec<&'static str>>>, &'static str);

    impl Reporter for Prints {
        fn on(&mut self, event: &Event<'_>) -> std::io::Result<()> {
            if let Event::RunFinished(_) = event {
                self.0.lock().unwrap().push(self.1);
            }
            Ok(())
        }
        fn prints(&self) -> bool {
            true
        }
    }

    #[test]
    fn the_end_reaches_file_reporters_at_once_and_then_the_printing_ones_in_order() {
        let log = Arc::new(Mutex::new(vec![]));
        let ((a_tell, a_hear), (b_tell, b_hear)) = (channel(), channel());
        let a = Meets { tell: a_tell, hear: b_hear, log: log.clone(), name: "junit" };
        let b = Meets { tell: b_tell, hear: a_hear, log: log.clone(), name: "html" };
        let mut fan = Fanout::new()
            .add("terminal", Box::new(Prints(log.clone(), "terminal")))
            .add("junit", Box::new(a))
            .add("coverage", Box::new(Prints(log.clone(), "coverage")))
            .add("html", Box::new(b));
        fan.emit(&Event::RunFinished(&Summary::default()));
        assert!(fan.failures().is_empty(), "{:?}", fan.failures());
        let log = log.lock().unwrap();
        assert_eq!(log[2..], ["terminal", "coverage"], "printed after the files, in order: {log:?}");
    }
}
