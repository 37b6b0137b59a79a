//! The evidence for `miplcheck coverage`: the golden snapshots of a dialect's cases.
//!
//! The suites say which cases exist for the dialect and which section each cites; the snapshot in
//! `golden/<dialect>/<suite>__<case>.snap` says what really crossed the wire when it last passed.
//! A snapshot whose case is gone from the suites is left out (and named), so a renamed case cannot
//! keep claiming coverage.

use crate::input_error::InputError;
use crate::suite::{self, Suite};
use miplcheck_at::dialect::Dialect;
use miplcheck_coverage::{lines, CaseLines};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct Snapshots {
    /// `golden/bc39`.
    pub dir: PathBuf,
    /// The dialect's cases that have a snapshot, in suite order.
    pub cases: Vec<CaseLines>,
    /// The dialect's cases without one (not yet accepted, or skipped on the rig that made them).
    pub without_snapshot: Vec<String>,
    /// Snapshot files no case of the suites owns: `register__old-name.snap`.
    pub orphans: Vec<String>,
}

/// Reads the suites under `suites_dir` and the snapshots under `golden_root/<dialect>`. A missing
/// dialect folder is no error (the dialect simply has no evidence yet); unreadable folders are.
pub fn load(dialect: &Dialect, suites_dir: &Path, golden_root: &Path) -> Result<Snapshots, InputError> {
    if !golden_root.is_dir() {
        return Err(InputError::new(golden_root, "no such folder; --golden names the golden snapshots folder")
            .field("--golden"));
    }
    let mut suites = Vec::new();
    for path in suite::discover(suites_dir).map_err(|e| e.field("--suites"))? {
        suites.push(Suite::load(&path)?);
    }
    let dir = golden_root.join(dialect.name);
    let mut files = snapshot_files(&dir)?;
    let mut out = Snapshots { dir: dir.clone(), cases: vec![], without_snapshot: vec![], orphans: vec![] };
    for s in &suites {
        for c in s.cases.iter().filter(|c| c.applies_to(dialect.name)) {
            let id = format!("{}/{}", s.name, c.id);
            let file = format!("{}__{}.snap", s.name, c.id);
            let Some(at) = files.iter().position(|f| *f == file) else {
                out.without_snapshot.push(id);
                continue;
            };
            files.remove(at);
            let path = dir.join(&file);
            let text = std::fs::read_to_string(&path)
                .map_err(|e| InputError::new(&path, format!("cannot read the snapshot: {e}")))?;
            out.cases.push(CaseLines { id, spec: c.spec.clone(), lines: lines::parse_snapshot(body(&text)) });
        }
    }
    out.orphans = files;
    Ok(out)
}

/// `*.snap` file names in `dir`, sorted; none when `dir` does not exist.
fn snapshot_files(dir: &Path) -> Result<Vec<String>, InputError> {
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
        Err(e) => return Err(InputError::new(dir, format!("cannot list snapshots: {e}"))),
    };
    let mut out: Vec<String> =
        rd.filter_map(|e| e.ok()?.file_name().into_string().ok()).filter(|n| n.ends_with(".snap")).collect();
    out.sort();
    Ok(out)
}

/// The snapshot without insta's `---` header.
fn body(text: &str) -> &str {
    let Some(rest) = text.strip_prefix("---\n") else { return text };
    match rest.find("\n---\n") {
        Some(end) => &rest[end + "\n---\n".len()..],
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use miplcheck_at::dialect::BC39;

    const SUITE: &str = "\
suite: x
dialects: [bc39]
cases:
  - id: a
    spec: BC39 §3.2.4
    steps:
      - send: AT+MIPLVER?
  - id: b
    spec: BC39 §3.2.2
    steps:
      - send: AT+MIPLCREATE
  - id: m
    spec: M5310-A §1.1
    dialects: [m5310a]
    steps:
      - send: AT+MIPLCREATE
";

    fn folder() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("suites")).unwrap();
        std::fs::create_dir_all(d.path().join("golden/bc39")).unwrap();
        std::fs::write(d.path().join("suites/x.yaml"), SUITE).unwrap();
        d
    }

    #[test]
    fn reads_the_dialects_snapshots_and_names_what_is_missing() {
        let d = folder();
        let snap = r"---
source: harness/runner/src/golden.rs
---
# x/a — BC39 §3.2.4
── step 1: send AT+MIPLVER?
TE→UE        AT+MIPLVER?\r
UE→TE info   +MIPLVER:2.3.0\r\n
";
        std::fs::write(d.path().join("golden/bc39/x__a.snap"), snap).unwrap();
        std::fs::write(d.path().join("golden/bc39/x__gone.snap"), snap).unwrap();
        let s = load(&BC39, &d.path().join("suites"), &d.path().join("golden")).unwrap();
        assert_eq!(s.cases.len(), 1);
        assert_eq!((s.cases[0].id.as_str(), s.cases[0].spec.as_str()), ("x/a", "BC39 §3.2.4"));
        assert_eq!(s.cases[0].lines.len(), 2);
        assert_eq!(s.without_snapshot, ["x/b"], "x/m is for m5310a only");
        assert_eq!(s.orphans, ["x__gone.snap"]);
    }

    #[test]
    fn a_dialect_without_snapshots_is_no_error() {
        let d = folder();
        let s = load(&miplcheck_at::dialect::M5310A, &d.path().join("suites"), &d.path().join("golden")).unwrap();
        assert!(s.cases.is_empty());
        assert_eq!(s.without_snapshot, ["x/m"]);
    }

    #[test]
    fn bad_folders_are_input_errors() {
        let d = folder();
        let e = load(&BC39, &d.path().join("nope"), &d.path().join("golden")).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("--suites"), "{e}");
        let e = load(&BC39, &d.path().join("suites"), &d.path().join("nope")).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("--golden"), "{e}");
    }

    #[test]
    fn header_is_dropped() {
        assert_eq!(body("---\na: b\n---\n# x\n"), "# x\n");
        assert_eq!(body("# no header\n"), "# no header\n");
        assert_eq!(body("---\nunterminated"), "---\nunterminated");
    }
}
