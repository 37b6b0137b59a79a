//! Rack files: a passive list of rigs and the settings they share (TOML).
//!
//! ```toml
//! name = "nightly"                  # the rack's name in its reports; the file's stem by default
//! rigs = ["bench/*.toml", "../rigs/emulator-bc39.toml"]   # files or globs, relative to this file
//! jobs = 8                          # rigs run at once; all of them by default
//! quarantine = "quarantine.yaml"    # cases whose failure does not fail the run
//! max_fail = 50                     # stop starting cases after this many failures
//! [retries]                         # a rig file's [retries] overrides these, the command line both
//! count = 1
//! delay = "5s"
//! backoff = 2.0
//! on = "infrastructure"             # or "any"
//! [health]
//! max_errors = 3                    # infrastructure errors in a row before a rig is given up on
//! ```

use crate::input_error::{line_of, toml_error, InputError};
use crate::policy::{HealthTable, RetriesTable};
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    name: Option<String>,
    rigs: Vec<toml::Spanned<String>>,
    jobs: Option<usize>,
    quarantine: Option<String>,
    max_fail: Option<usize>,
    #[serde(default)]
    retries: RetriesTable,
    #[serde(default)]
    health: HealthTable,
}

/// A rack file, read and its rig patterns expanded.
#[derive(Debug, Clone)]
pub struct RackFile {
    pub path: PathBuf,
    pub name: String,
    /// Every rig file, in the order the patterns name them (a glob's matches sorted).
    pub rigs: Vec<PathBuf>,
    pub jobs: Option<usize>,
    /// Relative to the rack file, resolved.
    pub quarantine: Option<PathBuf>,
    pub max_fail: Option<usize>,
    pub retries: RetriesTable,
    pub health: HealthTable,
}

impl RackFile {
    pub fn load(path: &Path) -> Result<RackFile, InputError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| InputError::new(path, format!("cannot read the rack file: {e}")))?;
        let de = toml::de::Deserializer::parse(&text).map_err(|e| toml_error(path, &text, &e, ""))?;
        let raw: Raw = serde_path_to_error::deserialize(de)
            .map_err(|e| toml_error(path, &text, e.inner(), &e.path().to_string()))?;
        let base = path.parent().unwrap_or(Path::new("."));
        let mut rigs = Vec::new();
        for (i, pattern) in raw.rigs.iter().enumerate() {
            let found = expand(&base.join(pattern.get_ref())).map_err(|message| {
                InputError::new(path, message)
                    .at_line(Some(line_of(&text, pattern.span().start)))
                    .field(format!("rigs[{i}]"))
            })?;
            rigs.extend(found);
        }
        if rigs.is_empty() {
            return Err(InputError::new(path, "the rack names no rig").field("rigs"));
        }
        if raw.jobs == Some(0) {
            return Err(InputError::new(path, "must be at least 1").field("jobs"));
        }
        let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "rack".into());
        Ok(RackFile {
            path: path.to_path_buf(),
            name: raw.name.unwrap_or(stem),
            rigs,
            jobs: raw.jobs,
            quarantine: raw.quarantine.map(|q| base.join(q)),
            max_fail: raw.max_fail,
            retries: raw.retries,
            health: raw.health,
        })
    }
}

/// A rig file or a glob of them (`rigs/bench-*.toml`), sorted; a glob that matches nothing is an
/// error, so a typo cannot shrink a rack silently.
pub fn expand(pattern: &Path) -> Result<Vec<PathBuf>, String> {
    let text = pattern.to_string_lossy();
    // A plain path is the rig loader's to read, and its error to name.
    if !text.contains(['*', '?', '[']) {
        return Ok(vec![pattern.to_path_buf()]);
    }
    let paths = glob::glob(&text).map_err(|e| format!("{text:?} is not a glob: {e}"))?;
    let mut found: Vec<PathBuf> = paths.filter_map(Result::ok).filter(|p| p.is_file()).collect();
    found.sort();
    if found.is_empty() {
        return Err(format!("no rig file matches {text}"));
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rack(dir: &Path, text: &str) -> Result<RackFile, InputError> {
        let p = dir.join("nightly.toml");
        std::fs::write(&p, text).unwrap();
        RackFile::load(&p)
    }

    #[test]
    fn globs_expand_sorted_relative_to_the_rack_file() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("bench")).unwrap();
        for n in ["b", "a"] {
            std::fs::write(d.path().join(format!("bench/{n}.toml")), "").unwrap();
        }
        let r = rack(d.path(), "rigs = [\"bench/*.toml\"]\njobs = 2\n[retries]\ncount = 1\n").unwrap();
        let names: Vec<_> = r.rigs.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
        assert_eq!(names, ["a.toml", "b.toml"]);
        assert_eq!((r.name.as_str(), r.jobs, r.retries.count), ("nightly", Some(2), Some(1)));
    }

    #[test]
    fn a_pattern_that_finds_nothing_names_its_line_and_index() {
        let d = tempfile::tempdir().unwrap();
        let e = rack(d.path(), "name = \"x\"\nrigs = [\n  \"nope/*.toml\",\n]\n").unwrap_err();
        assert_eq!(e.line, Some(3));
        assert_eq!(e.field.as_deref(), Some("rigs[0]"));
        assert!(e.message.contains("no rig file matches"), "{e}");
    }

    #[test]
    fn unknown_keys_and_zero_jobs_are_refused() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("a.toml"), "").unwrap();
        let e = rack(d.path(), "rigs = [\"a.toml\"]\nretry = 2\n").unwrap_err();
        assert!(e.to_string().contains("retry"), "{e}");
        let e = rack(d.path(), "rigs = [\"a.toml\"]\njobs = 0\n").unwrap_err();
        assert_eq!(e.field.as_deref(), Some("jobs"));
    }
}
