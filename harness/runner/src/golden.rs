//! Golden snapshots: a case's normalised transcript against `golden/<rig golden>/<suite>__<case>.snap`,
//! compared by insta so `cargo insta review` accepts or rejects a changed transcript.

use similar::{ChangeTag, TextDiff};
use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Once;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Snapshot {
    Matched,
    /// The transcript differs; a unified diff, old golden to new transcript.
    Changed {
        diff: String,
    },
    /// No golden file yet.
    Missing,
    /// Not compared (the case failed before its end, or was skipped).
    NotCompared,
    /// Differs only in ways the rig tolerates (see `rig::Tolerate`).
    Tolerated,
}

impl Snapshot {
    pub fn is_failure(&self) -> bool {
        matches!(self, Snapshot::Changed { .. } | Snapshot::Missing)
    }
}

thread_local! {
    static QUIET: Cell<bool> = const { Cell::new(false) };
}

/// insta reports a mismatch by panicking; our report carries the diff, so the panic stays quiet.
fn install_quiet_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !QUIET.with(Cell::get) {
                previous(info);
            }
        }));
    });
}

/// Prepares insta for use outside `cargo test`: the workspace root (so `.snap` headers hold
/// relative paths and no `cargo metadata` runs on a bench PC without cargo), and no printing of its
/// own, since our reports carry the diff. Call before starting threads; a user's own `INSTA_*`
/// settings win.
pub fn init(root: &Path) {
    if std::env::var_os("INSTA_WORKSPACE_ROOT").is_none() {
        std::env::set_var("INSTA_WORKSPACE_ROOT", root);
    }
    if std::env::var_os("INSTA_OUTPUT").is_none() {
        std::env::set_var("INSTA_OUTPUT", "none");
    }
    // A golden snapshot changes only through review: never overwritten or passed by a run.
    let ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "0" && v != "false");
    std::env::set_var("INSTA_UPDATE", if ci { "no" } else { "new" });
    std::env::set_var("INSTA_FORCE_PASS", "0");
}

/// Where a run keeps the new snapshot of `name` for review: `<run>/snapshots/<golden folder>/<name>.snap.new`.
pub fn pending_path(run: &Path, golden_sub: &Path, name: &str) -> PathBuf {
    run.join(PENDING).join(golden_sub).join(format!("{name}.snap.new"))
}

/// The folder of a run's pending snapshots.
pub const PENDING: &str = "snapshots";

/// Writes a new snapshot as insta would (its header, then the normalised transcript), for
/// `miplcheck accept` to move into the golden folder.
pub fn write_pending(path: &Path, content: &str, input_file: &Path) -> std::io::Result<()> {
    let file =
        format!("---\nsource: harness/runner/src/golden.rs\ninput_file: {}\n---\n{content}", input_file.display());
    crate::report::atomic::write(path, file.as_bytes())
}

/// Compares `content` with the snapshot `name` in `dir` by insta's rules for file snapshots (the
/// bodies equal once trailing blanks are trimmed and CRLF read as LF), touching no file: a run
/// keeps its new snapshots in its own folder, and a developer's pending `.snap.new` beside the
/// golden file is theirs.
pub fn compare_only(dir: &Path, name: &str, content: &str) -> Snapshot {
    let norm = |s: &str| s.trim_end().replace("\r\n", "\n");
    match golden_body(dir, name) {
        None => Snapshot::Missing,
        Some(old) if norm(&old) == norm(content) => Snapshot::Matched,
        Some(old) => Snapshot::Changed { diff: diff(&old, content) },
    }
}

/// Compares `content` with the snapshot `name` in `dir`. On a change insta leaves
/// `<name>.snap.new` beside it (not under CI) for `cargo insta review`.
pub fn compare(dir: &Path, name: &str, content: &str, input_file: Option<&Path>) -> Snapshot {
    install_quiet_hook();
    let path = dir.join(format!("{name}.snap"));
    let old = std::fs::read_to_string(&path).ok().map(|s| body(&s));
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(dir);
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    if let Some(f) = input_file {
        settings.set_input_file(f);
    }
    let result = QUIET.with(|q| {
        q.set(true);
        let r = panic::catch_unwind(AssertUnwindSafe(|| {
            settings.bind(|| insta::assert_snapshot!(name, content));
        }));
        q.set(false);
        r
    });
    match (result, old) {
        (Ok(()), _) => Snapshot::Matched,
        (Err(_), None) => Snapshot::Missing,
        (Err(_), Some(old)) => Snapshot::Changed { diff: diff(&old, content) },
    }
}

/// The snapshot's contents without insta's metadata header.
/// The golden transcript of `name`, without its header, if there is one.
pub fn golden_body(dir: &Path, name: &str) -> Option<String> {
    std::fs::read_to_string(dir.join(format!("{name}.snap"))).ok().map(|s| body(&s))
}

/// Removes the pending `.snap.new` of a case whose differences were tolerated: it is not a
/// transcript anyone should accept as golden.
pub fn discard_pending(dir: &Path, name: &str) {
    let _ = std::fs::remove_file(dir.join(format!("{name}.snap.new")));
}

/// A snapshot file without insta's metadata header.
pub fn body(file: &str) -> String {
    let mut parts = file.splitn(3, "---\n");
    match (parts.next(), parts.next(), parts.next()) {
        (Some(""), Some(_header), Some(rest)) => rest.to_string(),
        _ => file.to_string(),
    }
}

/// A unified diff with `-` for the golden and `+` for this run, bounded as [`crate::cap::lines`]
/// bounds text: the first lines, each cut when long, then how many more (the transcript has them).
pub fn diff(old: &str, new: &str) -> String {
    let d = TextDiff::from_lines(old.trim_end(), new.trim_end());
    let mut out = String::new();
    for group in d.grouped_ops(2) {
        for op in group {
            for change in d.iter_changes(&op) {
                let sign = match change.tag() {
                    ChangeTag::Delete => '-',
                    ChangeTag::Insert => '+',
                    ChangeTag::Equal => ' ',
                };
                out.push(sign);
                out.push_str(change.value().trim_end_matches('\n'));
                out.push('\n');
            }
        }
        out.push_str("…\n");
    }
    crate::cap::lines(&out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_strips_the_header() {
        let file = "---\nsource: x.rs\n---\nUE→TE final OK\\r\\n\n";
        assert_eq!(body(file), "UE→TE final OK\\r\\n\n");
    }

    #[test]
    fn diff_marks_both_sides() {
        let d = diff("a\nb\nc\n", "a\nB\nc\n");
        assert!(d.contains("-b\n+B\n"), "{d}");
    }

    #[test]
    fn a_long_diff_is_cut_and_counted() {
        let new: String = (0..1000).map(|k| format!("line {k}\n")).collect();
        let d = diff("end\n", &format!("{new}end\n"));
        assert_eq!(d.lines().count(), crate::cap::DIFF_LINES + 1, "{d}");
        assert!(d.ends_with("… and 962 more lines (the whole transcript is in the report)\n"), "{d}");
        let d = diff("a\n", &format!("a\n{}\n", "x".repeat(65_536)));
        assert!(d.len() < 1024 && d.contains("… (65025 more bytes)"), "{d}");
    }

    #[test]
    fn compares_with_a_snapshot_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("s__a.snap"), "---\nsource: x\n---\nline one\nline two\n").unwrap();
        assert_eq!(compare(dir.path(), "s__a", "line one\nline two\n", None), Snapshot::Matched);
        match compare(dir.path(), "s__a", "line one\nline 2\n", None) {
            Snapshot::Changed { diff } => assert!(diff.contains("-line two\n+line 2"), "{diff}"),
            other => panic!("{other:?}"),
        }
        assert_eq!(compare(dir.path(), "s__none", "x\n", None), Snapshot::Missing);
    }
}
