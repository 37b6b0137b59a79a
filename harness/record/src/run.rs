//! The whole run: the rig, the firmware, the totals and every case; loading and saving.

use crate::case::{CaseRecord, Verdict};
use crate::error::RecordError;
use crate::line::LineKind;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The schema's name and version; a change that breaks readers bumps the number.
pub const SCHEMA: &str = "miplcheck-run/1";

/// One run of one rig.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// Always [`SCHEMA`] for what this crate writes.
    pub schema: String,
    /// `miplcheck` version that wrote it.
    pub tool: String,
    /// RFC 3339, UTC.
    pub started: String,
    /// Wall time of the whole run.
    pub duration_ms: u64,
    /// What was under test.
    pub rig: RigInfo,
    /// What the modem said it is.
    pub firmware: Firmware,
    /// Cases by verdict.
    pub summary: Totals,
    /// Every case that ran (or was skipped), in order.
    pub cases: Vec<CaseRecord>,
    /// Why the run did not finish, when it did not: interrupted by a signal, or rebuilt from its
    /// journal after the process died. Absent for a run that finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incomplete: Option<String>,
    /// The rig's health checks and where they left it. Absent in records written before
    /// miplcheck 0.2.0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<crate::rack::Health>,
    /// The suites the run read, by content hash and git revision. Absent in records written
    /// before miplcheck 0.3.0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suites: Option<crate::origin::Suites>,
    /// Which shard of a plan this run is (`--partition`); absent for a whole plan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition: Option<crate::origin::Partition>,
    /// The shard folders `miplcheck merge` made this record from (`shard-1 (hash:1/3)`); absent
    /// for a record a run wrote.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub merged_from: Vec<String>,
}

/// The rig, without its secrets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RigInfo {
    /// The rig's name.
    pub name: String,
    /// `bc39`, `m5310a`: which manual the modem follows.
    pub dialect: String,
    /// `emulator`, `serial`, `tcp`, with where: `emulator on /dev/pts/3`.
    pub target: String,
    /// What the rig's modem can do (`dtls`, `rai`, `sota`).
    pub capabilities: Vec<String>,
    /// Every response window was multiplied by this.
    pub window_scale: f64,
    /// The names of the rig's secrets; never their values.
    pub secrets: Vec<String>,
}

/// What the modem says it is (`AT+CGMR`, `AT+CGSN=1`), asked before the first case.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Firmware {
    /// The revision lines, or why they could not be read.
    pub revision: String,
    /// The IMEI with its serial number masked (the TAC, which names the model, is kept), unless
    /// the rig keeps identities.
    pub imei: Option<String>,
    /// Why part of the identity could not be read (the IMEI or IMSI probe failed: the modem
    /// rebooted, refused or said nothing), when it could not. Absent in older records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The firmware file the run flashed before its first case (`miplcheck run --firmware`), and
    /// how that went; absent when the run flashed nothing (and in older records).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flash: Option<crate::Flash>,
}

/// Cases by verdict.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    /// Cases that passed.
    pub passed: usize,
    /// Cases that failed.
    pub failed: usize,
    /// Cases not run on this rig.
    pub skipped: usize,
    /// Cases not judged for a reason of the bench (infrastructure errors, not run on an
    /// unhealthy rig). Absent (0) in older records.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub errors: usize,
    /// Of the passed cases, those that failed first and passed on a retry.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub flaky: usize,
    /// Failed or errored cases that are quarantined: counted here, not in `failed` or `errors`,
    /// and not failing the run.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub quarantined: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl Totals {
    /// The totals of these cases.
    pub fn of<'a>(cases: impl IntoIterator<Item = &'a CaseRecord>) -> Totals {
        let mut t = Totals::default();
        for c in cases {
            t.count(c);
        }
        t
    }

    /// Counts one more case: by verdict, a quarantined failure or error as quarantined, a pass
    /// after a retry as flaky too.
    pub fn count(&mut self, c: &CaseRecord) {
        match c.verdict {
            Verdict::Failed | Verdict::Error if c.quarantine.is_some() => self.quarantined += 1,
            v => self.add(v),
        }
        if c.flaky() {
            self.flaky += 1;
        }
    }

    /// Counts one more case by its verdict alone.
    pub fn add(&mut self, v: Verdict) {
        match v {
            Verdict::Passed => self.passed += 1,
            Verdict::Failed => self.failed += 1,
            Verdict::Skipped => self.skipped += 1,
            Verdict::Error => self.errors += 1,
        }
    }

    /// Every case merged in from `other`.
    pub fn merge(&mut self, other: &Totals) {
        self.passed += other.passed;
        self.failed += other.failed;
        self.skipped += other.skipped;
        self.errors += other.errors;
        self.flaky += other.flaky;
        self.quarantined += other.quarantined;
    }

    /// No case failed and none errored (quarantined ones aside).
    pub fn all_passed(&self) -> bool {
        self.failed == 0 && self.errors == 0
    }
}

impl crate::file::Schema for RunRecord {
    fn schema(&self) -> &str {
        &self.schema
    }
}

impl RunRecord {
    /// Reads a record from a run folder (its `run.json`) or a file. The schema is checked before
    /// anything else; a bad value names the file, its line and column, and the field's path.
    pub fn load(path: &Path) -> Result<RunRecord, RecordError> {
        let file = if path.is_dir() { path.join("run.json") } else { path.to_path_buf() };
        let text = std::fs::read_to_string(&file).map_err(|source| RecordError::Read { path: file.clone(), source })?;
        Self::parse(&text, &file)
    }

    /// [`RunRecord::load`], reading the file as it is parsed: the text is never held beside the
    /// value (a 10,000-case record is about 105 MB of text), for twice the CPU time of reading.
    /// For loading two big records at once, as `miplcheck diff` does.
    pub fn load_streaming(path: &Path) -> Result<RunRecord, RecordError> {
        let file = if path.is_dir() { path.join("run.json") } else { path.to_path_buf() };
        let mut record: RunRecord = crate::file::load_streaming(&file, SCHEMA)?;
        record.upgrade();
        Ok(record)
    }

    /// Reads a record from its JSON text; `file` is only for messages.
    pub fn parse(text: &str, file: &Path) -> Result<RunRecord, RecordError> {
        let mut record: RunRecord = crate::file::parse(text, file, SCHEMA)?;
        record.upgrade();
        Ok(record)
    }

    /// Records written before the record was typed kept a note's `## ` marker in its text.
    fn upgrade(&mut self) {
        for line in self.cases.iter_mut().flat_map(|c| c.transcript.iter_mut()) {
            if line.kind == LineKind::Note {
                if let Some(t) = line.text.strip_prefix("## ") {
                    line.text = t.to_string();
                }
            }
        }
    }

    /// Writes the record as pretty JSON to `path`, through a temporary file beside it that is
    /// synced before it is renamed, so a reader never sees half a record.
    pub fn save(&self, path: &Path) -> Result<(), RecordError> {
        crate::file::save(self, path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_schema_is_refused_by_name() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("run.json"), r#"{"schema":"miplcheck-run/9"}"#).unwrap();
        let e = RunRecord::load(d.path()).unwrap_err().to_string();
        assert!(e.contains("miplcheck-run/9") && e.contains(SCHEMA), "{e}");
    }

    #[test]
    fn the_schema_is_named_before_any_bad_field() {
        // Another version's fields need not fit this one's: the schema is the news.
        let e = RunRecord::parse(r#"{"schema":"miplcheck-run/2","cases":"many"}"#, Path::new("x.json")).unwrap_err();
        assert!(matches!(&e, RecordError::Schema { found, .. } if found == "miplcheck-run/2"), "{e}");
        let e = RunRecord::parse(r#"{"schema":7,"cases":[]}"#, Path::new("x.json")).unwrap_err();
        assert!(matches!(&e, RecordError::Schema { found, .. } if found == "7"), "{e}");
        // A record that is whole but names another schema is refused all the same.
        let good = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/v1/bc39-basics/run.json"))
            .unwrap()
            .replacen(SCHEMA, "miplcheck-run/0", 1);
        let e = RunRecord::parse(&good, Path::new("x.json")).unwrap_err();
        assert!(matches!(&e, RecordError::Schema { found, .. } if found == "miplcheck-run/0"), "{e}");
    }

    #[test]
    fn other_json_is_not_a_record() {
        let e = RunRecord::parse(r#"{"name":"x"}"#, Path::new("x.json")).unwrap_err().to_string();
        assert_eq!(e, "x.json: no `schema` field: not a miplcheck run record");
        let e = RunRecord::parse("[1,2", Path::new("x.json")).unwrap_err().to_string();
        assert!(e.starts_with("x.json: not a run record: "), "{e}");
    }

    #[test]
    fn a_bad_value_names_the_field_and_where_it_is() {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/v1/bc39-basics/run.json"))
            .unwrap()
            .replacen("\"verdict\": \"passed\"", "\"verdict\": \"flaky\"", 1);
        let e = RunRecord::parse(&text, Path::new("run.json")).unwrap_err();
        let RecordError::Field { field, line, .. } = &e else { panic!("{e}") };
        assert_eq!(field, "cases[0].verdict");
        assert!(*line > 1);
        assert!(e.to_string().contains("unknown variant `flaky`"), "{e}");
    }

    #[test]
    fn saving_then_loading_gives_the_same_record() {
        let d = tempfile::tempdir().unwrap();
        let r = RunRecord::load(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/v1/bc39-basics"))).unwrap();
        let path = d.path().join("out/run.json");
        r.save(&path).unwrap();
        assert_eq!(RunRecord::load(&path).unwrap(), r);
        assert!(!d.path().join("out/run.json.partial").exists());
    }

    #[test]
    fn a_record_read_as_it_is_parsed_is_the_same_and_so_are_its_errors() {
        let v1 = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/v1/bc39-basics"));
        assert_eq!(RunRecord::load_streaming(v1).unwrap(), RunRecord::load(v1).unwrap());
        let d = tempfile::tempdir().unwrap();
        let text = std::fs::read_to_string(v1.join("run.json")).unwrap();
        for (name, bad) in [
            ("field", text.replacen("\"verdict\": \"passed\"", "\"verdict\": \"flaky\"", 1)),
            ("schema", text.replacen(SCHEMA, "miplcheck-run/0", 1)),
            ("json", text[..text.len() / 2].to_string()),
        ] {
            let path = d.path().join(format!("{name}.json"));
            std::fs::write(&path, bad).unwrap();
            let (streamed, whole) = (RunRecord::load_streaming(&path), RunRecord::load(&path));
            assert_eq!(streamed.unwrap_err().to_string(), whole.unwrap_err().to_string(), "{name}");
        }
        let gone = RunRecord::load_streaming(&d.path().join("none")).unwrap_err();
        assert!(matches!(gone, RecordError::Read { .. }), "{gone}");
    }
}
