//! `journal.jsonl`: the run as it goes, one JSON line per finished case, appended and synced as
//! each case ends, so a run killed with SIGKILL or by a power cut still has its evidence.
//! `miplcheck report RUN_DIR` rebuilds `run.json`, `junit.xml` and `report.html` from it
//! ([`recover`]) when the run could not write them itself.
//!
//! ```text
//! {"journal":"miplcheck-journal/1","tool":"0.1.0","started":"…","rig":{…},"firmware":{…}}
//! {"case":{…a CaseRecord…}}
//! {"finished":{"duration_ms":134210,"incomplete":null}}
//! ```

use super::{Event, Reporter};
use miplcheck_record::{
    CaseRecord, Firmware, Health, Partition, RecordError, RigInfo, RunRecord, Suites, Totals, SCHEMA,
};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The journal's file name in a run folder.
pub const FILE: &str = "journal.jsonl";
/// The journal's format and version.
pub const FORMAT: &str = "miplcheck-journal/1";

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum Entry {
    Head(Box<Head>),
    Case { case: Box<CaseRecord> },
    Finished { finished: Finished },
}

#[derive(Serialize, Deserialize)]
struct Head {
    journal: String,
    tool: String,
    started: String,
    rig: RigInfo,
    firmware: Firmware,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    suites: Option<Suites>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    partition: Option<Partition>,
}

#[derive(Serialize, Deserialize)]
struct Finished {
    duration_ms: u64,
    incomplete: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    health: Option<Health>,
}

/// Appends each case to `DIR/journal.jsonl` as it finishes.
pub struct Journal {
    path: PathBuf,
    file: Option<std::fs::File>,
}

impl Journal {
    /// The journal of a run writing into `dir`.
    pub fn new(dir: &Path) -> Self {
        Journal { path: dir.join(FILE), file: None }
    }

    fn append(&mut self, entry: &Entry) -> std::io::Result<()> {
        let named = |e: std::io::Error| std::io::Error::new(e.kind(), format!("{}: {e}", self.path.display()));
        let file = self.file.as_mut().ok_or_else(|| std::io::Error::other("the journal was not started"))?;
        let mut line = serde_json::to_vec(entry).map_err(std::io::Error::other)?;
        line.push(b'\n');
        file.write_all(&line).map_err(named)?;
        // Each case reaches the disk before the next starts: that is the journal's whole point.
        file.sync_data().map_err(named)
    }
}

impl Reporter for Journal {
    fn on(&mut self, event: &Event<'_>) -> std::io::Result<()> {
        match event {
            Event::RunStarted { rig, firmware, suites, partition, .. } => {
                if let Some(dir) = self.path.parent() {
                    std::fs::create_dir_all(dir)?;
                }
                self.file = Some(std::fs::File::create(&self.path)?);
                let started = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
                self.append(&Entry::Head(Box::new(Head {
                    journal: FORMAT.into(),
                    tool: env!("CARGO_PKG_VERSION").into(),
                    started,
                    rig: (*rig).clone(),
                    firmware: (*firmware).clone(),
                    suites: suites.cloned(),
                    partition: partition.cloned(),
                })))
            }
            Event::CaseStarted { .. } | Event::Doing(_) | Event::CaseRetrying { .. } => Ok(()),
            Event::CaseFinished(r) => self.append(&Entry::Case { case: Box::new(r.record.clone()) }),
            Event::RunFinished(s) => self.append(&Entry::Finished {
                finished: Finished {
                    duration_ms: s.duration.as_millis() as u64,
                    incomplete: s.incomplete.clone(),
                    health: s.health.clone(),
                },
            }),
        }
    }
}

/// The run record a journal holds: every case it recorded, and, when the journal has no end
/// (the process died), the record marked incomplete. A last line cut short by the crash is left
/// out; any other bad line is an error naming the file and line.
pub fn recover(dir: &Path) -> Result<RunRecord, RecordError> {
    let path = dir.join(FILE);
    let text = std::fs::read_to_string(&path).map_err(|source| RecordError::Read { path: path.clone(), source })?;
    let mut head = None;
    let mut cases = vec![];
    let mut finished = None;
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    for (i, line) in lines.iter().enumerate() {
        let cut_short = i + 1 == lines.len() && !line.ends_with('\n');
        match serde_json::from_str::<Entry>(line) {
            Ok(Entry::Head(h)) if i == 0 => {
                if h.journal != FORMAT {
                    return Err(RecordError::Schema { path, found: h.journal, expected: FORMAT });
                }
                head = Some(h);
            }
            Ok(Entry::Case { case }) if head.is_some() => cases.push(*case),
            Ok(Entry::Finished { finished: f }) if head.is_some() => finished = Some(f),
            Err(_) if cut_short => break,
            Ok(_) | Err(_) => {
                let message = match serde_json::from_str::<Entry>(line) {
                    Err(e) => e.to_string(),
                    Ok(_) => "out of place (the first line is the journal's head, then cases, then its end)".into(),
                };
                return Err(RecordError::Field { path, line: i + 1, column: 1, field: "journal".into(), message });
            }
        }
    }
    let Some(head) = head else { return Err(RecordError::NoSchema { path }) };
    let Head { tool, started, rig, firmware, suites, partition, .. } = *head;
    let (duration_ms, incomplete, health) = match finished {
        Some(f) => (f.duration_ms, f.incomplete, f.health),
        None => (
            0,
            Some(format!(
                "the run ended before it could write its reports (killed, or the machine stopped); rebuilt from \
                 its journal, which holds {} case(s)",
                cases.len()
            )),
            None,
        ),
    };
    Ok(RunRecord {
        schema: SCHEMA.into(),
        tool,
        started,
        duration_ms,
        rig,
        firmware,
        summary: Totals::of(&cases),
        cases,
        incomplete,
        health,
        suites,
        partition,
        merged_from: vec![],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head() -> String {
        let rig = RigInfo {
            name: "r".into(),
            dialect: "bc39".into(),
            target: "t".into(),
            capabilities: vec![],
            window_scale: 1.0,
            secrets: vec![],
        };
        let e = Entry::Head(Box::new(Head {
            journal: FORMAT.into(),
            tool: "0.1.0".into(),
            started: "2026-12-01T00:00:00Z".into(),
            rig,
            firmware: Firmware::default(),
            suites: None,
            partition: None,
        }));
        serde_json::to_string(&e).unwrap() + "\n"
    }

    #[test]
    fn a_journal_without_its_end_is_an_incomplete_record_and_a_torn_last_line_is_dropped() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join(FILE), head() + "{\"case\":{\"suite\":\"s\",\"ca").unwrap();
        let r = recover(d.path()).unwrap();
        assert!(r.cases.is_empty());
        assert!(r.incomplete.unwrap().contains("rebuilt from its journal"));
    }

    #[test]
    fn a_bad_line_in_the_middle_is_named() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(
            d.path().join(FILE),
            head() + "garbage\n{\"finished\":{\"duration_ms\":1,\"incomplete\":null}}\n",
        )
        .unwrap();
        let e = recover(d.path()).unwrap_err().to_string();
        assert!(e.contains("journal.jsonl:2:1"), "{e}");
    }
}
