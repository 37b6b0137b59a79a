//! The dispatcher: turns a rig, the suites and a selection into a plan, runs it case by case
//! against a target, and feeds the event stream. This is the one place that decides what a user
//! sees; the engine only runs steps.
//!
//! `mod.rs` holds the plan (what runs where, and what is skipped and why, without touching a
//! modem); [`run`](Plan::execute_on) drives one rig through its cases with health checks,
//! retries, quarantine and `--max-fail`; `case` runs and judges one attempt of one case. A rack
//! of rigs is [`crate::rack`], which runs one plan per rig.

mod case;
mod flash;
mod run;

use crate::input_error::InputError;
use crate::policy::{MaxFail, Policy};
use crate::quarantine::Quarantine;
use crate::rig::Rig;
use crate::suite::{self, Case, Suite};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Which cases to run: every suite named (all when none is), every case matching a pattern (all
/// when none is given), none matching an exclusion.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Suite names (`config`) or file stems.
    pub suites: Vec<String>,
    /// Substrings of `suite/case`, or globs with `*`.
    pub cases: Vec<String>,
    /// Substrings or globs of `suite/case` left out.
    pub exclude: Vec<String>,
}

impl Selection {
    /// Only this suite.
    pub fn suite(name: &str) -> Self {
        Selection { suites: vec![name.to_string()], ..Default::default() }
    }

    /// And only cases matching `pattern`.
    pub fn case(mut self, pattern: &str) -> Self {
        self.cases.push(pattern.to_string());
        self
    }

    /// Whether `suite/case` is picked.
    pub fn picks(&self, full: &str) -> bool {
        (self.cases.is_empty() || self.cases.iter().any(|p| matches_case(Some(p), full)))
            && !self.exclude.iter().any(|p| matches_case(Some(p), full))
    }
}

/// Loads the suites under `suites_dir` the selection names, once, and checks that every file's
/// suite name is unique: the suites a whole rack shares. Every file is loaded and checked when
/// no `--suite` is given; otherwise the others are only read for their names, so one selected
/// suite costs its own checks, not every file's (a broken file that is not selected is found by
/// the run that selects it, and by `cargo test`).
pub fn load_suites(suites_dir: &Path, selection: &Selection) -> Result<Arc<Vec<Suite>>, InputError> {
    let wanted = |name: &str, path: &Path| selection.suites.iter().any(|w| names(name, path, w));
    let mut suites = Vec::new();
    // Every file's suite name and path, loaded or not.
    let mut seen: Vec<(String, PathBuf)> = Vec::new();
    for path in suite::discover(suites_dir)? {
        // A file wanted by its stem is loaded without a look at its name first.
        let light = (!selection.suites.is_empty() && !wanted("", &path)).then(|| Suite::name_of(&path)).flatten();
        match light {
            Some(name) if !wanted(&name, &path) => seen.push((name, path)),
            _ => {
                let s = Suite::load(&path)?;
                seen.push((s.name.clone(), path));
                suites.push(s);
            }
        }
    }
    if seen.is_empty() {
        return Err(InputError::new(suites_dir, "no suite files (*.yaml) here"));
    }
    for (i, (name, path)) in seen.iter().enumerate() {
        if let Some((_, other)) = seen[..i].iter().find(|(o, _)| o == name) {
            return Err(InputError::new(
                path,
                format!(
                    "suite name {name:?} is also used by {}; snapshots and reports are named after it",
                    other.display()
                ),
            )
            .at_line(Some(1))
            .field("suite"));
        }
    }
    for want in &selection.suites {
        if !seen.iter().any(|(name, path)| names(name, path, want)) {
            let known: Vec<&str> = seen.iter().map(|(name, _)| name.as_str()).collect();
            return Err(InputError::new(
                suites_dir,
                format!("no suite named {want:?}; there are {}", known.join(", ")),
            )
            .field("--suite"));
        }
    }
    if !selection.suites.is_empty() {
        suites.retain(|s| wanted(&s.name, &s.path));
    }
    let picked = suites.iter().flat_map(|s| s.cases.iter().map(move |c| format!("{}/{}", s.name, c.id)));
    if !picked.clone().any(|full| selection.picks(&full)) {
        return Err(InputError::new(suites_dir, "the selection matches no case").field("--case"));
    }
    Ok(Arc::new(suites))
}

/// Whether `--suite want` names the suite `name` in the file `path` (by its name or file stem).
fn names(name: &str, path: &Path, want: &str) -> bool {
    name == want || path.file_stem().is_some_and(|f| f == want)
}

/// Everything a run of one rig needs, loaded and checked.
#[derive(Debug, Clone)]
pub struct Plan {
    pub rig: Rig,
    /// The selected suites, shared by every rig of a rack.
    pub suites: Arc<Vec<Suite>>,
    pub golden_dir: PathBuf,
    pub selection: Selection,
    /// Where a changed or missing snapshot is left for review: the run's folder
    /// (`<run>/snapshots/<golden folder>/<suite>__<case>.snap.new`, for `miplcheck accept`), or,
    /// when none is set (`cargo test`), beside the golden file for `cargo insta review`.
    pub run_dir: Option<PathBuf>,
    /// Retries and when the rig is given up on.
    pub policy: Policy,
    /// Cases whose failure does not fail the run.
    pub quarantine: Arc<Quarantine>,
    /// `--max-fail`, shared by every rig of the run.
    pub max_fail: Arc<MaxFail>,
    /// Told what the rig is doing, step by step (a terminal's progress line).
    pub progress: Option<crate::engine::Progress>,
    /// This rig's share of a sharded plan (`--partition`); every selected case when none.
    pub shard: Option<Arc<crate::partition::RigShard>>,
    /// What the record says of the suites read (hashes, git revision); none in tests.
    pub suites_origin: Option<miplcheck_record::Suites>,
    /// `--firmware`: the file flashed (by the rig's `[flash]`) before the first case, and the
    /// revision the modem must then report.
    pub firmware: Option<Arc<crate::firmware::FirmwareFile>>,
}

impl Plan {
    /// Loads the rig and every suite under `suites_dir`, checks that the selection names something
    /// and that the rig has every secret the selected cases use.
    pub fn load(rig: &Path, suites_dir: &Path, golden_root: &Path, selection: Selection) -> Result<Plan, InputError> {
        let rig = Rig::load(rig)?;
        let suites = load_suites(suites_dir, &selection)?;
        Plan::for_rig(rig, suites, golden_root, selection)
    }

    /// The plan of one rig over suites already loaded; the rig file's `[retries]` and `[health]`
    /// over the defaults.
    pub fn for_rig(
        rig: Rig,
        suites: Arc<Vec<Suite>>,
        golden_root: &Path,
        selection: Selection,
    ) -> Result<Plan, InputError> {
        // insta reads a relative snapshot path against its own source file, so make it absolute.
        let golden_dir = std::path::absolute(golden_root.join(&rig.golden))
            .map_err(|e| InputError::new(golden_root, format!("cannot resolve the golden folder: {e}")))?;
        let plan = Plan { selection, ..Plan::new(rig, suites, golden_dir) };
        // Only the cases this rig will run need its secrets.
        for (s, c) in plan.selected().filter(|(s, c)| plan.skip_reason(s, c).is_none()) {
            for name in s.secrets_used(c) {
                if !plan.rig.secrets.contains_key(&name) {
                    return Err(InputError::new(
                        &s.path,
                        format!(
                            "case {} uses ${{secret.{name}}} but the rig {} has no `{name}` in [secrets]",
                            c.id,
                            plan.rig.path.display()
                        ),
                    )
                    .at_line(Some(c.line)));
                }
            }
        }
        Ok(plan)
    }

    /// A plan of every case of `suites` on `rig`, its snapshots in `golden_dir` as given, the
    /// rig file's `[retries]` and `[health]` over the defaults; nothing checked.
    pub fn new(rig: Rig, suites: Arc<Vec<Suite>>, golden_dir: PathBuf) -> Plan {
        Plan {
            policy: Policy::default().overlay(&rig.retries, &rig.health),
            golden_dir,
            rig,
            suites,
            selection: Selection::default(),
            run_dir: None,
            quarantine: Arc::new(Quarantine::empty()),
            max_fail: Arc::new(MaxFail::new(None)),
            progress: None,
            shard: None,
            suites_origin: None,
            firmware: None,
        }
    }

    /// Cases the selection picks, in file order, whatever the shard: the rig's units of the
    /// whole plan.
    pub fn planned(&self) -> impl Iterator<Item = (&Suite, &Case)> {
        self.suites
            .iter()
            .flat_map(|s| s.cases.iter().map(move |c| (s, c)))
            .filter(|(s, c)| self.selection.picks(&format!("{}/{}", s.name, c.id)))
    }

    /// Cases this run runs (or skips), in file order: those the selection picks, and of them,
    /// when the plan is sharded, this shard's.
    pub fn selected(&self) -> impl Iterator<Item = (&Suite, &Case)> {
        self.planned().filter(|(s, c)| self.shard.as_ref().is_none_or(|sh| sh.keeps(&s.name, &c.id)))
    }

    /// Why a case does not run on this rig, if it does not.
    pub fn skip_reason(&self, suite: &Suite, case: &Case) -> Option<String> {
        if self.rig.platform.is_none() && suite.uses_platform(case) {
            return Some("the rig has no [platform] for the network side".into());
        }
        if !case.applies_to(self.rig.dialect.name) {
            return Some(format!("for {} only", case.dialects.join(", ")));
        }
        if !case.emulator_events.is_empty() && !matches!(self.rig.target, crate::rig::Target::Emulator { .. }) {
            return Some("it sets the emulator's event codes (`emulator-events`): for emulator rigs only".into());
        }
        let missing: Vec<&str> = case.requires.iter().filter(|r| !self.rig.has(r)).map(String::as_str).collect();
        if !missing.is_empty() {
            let why = if missing.contains(&crate::rig::Rig::ONENET_HTTP) {
                ": the OneNET HTTP API needs `[platform] http = true` on a rig with sockets, not in virtual time"
            } else {
                ""
            };
            return Some(format!("the rig lacks {}{why}", missing.join(", ")));
        }
        None
    }
}

/// A path as the user would type it: relative to the current folder when inside it.
pub(crate) fn shown(p: &Path) -> String {
    let rel = std::env::current_dir().ok().and_then(|cwd| p.strip_prefix(cwd).ok().map(Path::to_path_buf));
    rel.unwrap_or_else(|| p.to_path_buf()).display().to_string()
}

/// Does `suite/case` match a `--case` filter: a substring, or a glob with `*`?
pub fn matches_case(filter: Option<&str>, full: &str) -> bool {
    let Some(f) = filter else { return true };
    if !f.contains('*') {
        return full.contains(f);
    }
    let parts: Vec<&str> = f.split('*').collect();
    let mut rest = full;
    for (i, p) in parts.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(p) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 {
            return rest.ends_with(p);
        } else {
            match rest.find(p) {
                Some(k) => rest = &rest[k + p.len()..],
                None => return false,
            }
        }
    }
    rest.is_empty() || parts.last() == Some(&"")
}

#[cfg(test)]
mod tests {
    use super::{load_suites, matches_case, Selection};
    use rstest::rstest;
    use std::path::Path;

    fn suite(dir: &Path, file: &str, name: &str) {
        let text = format!("suite: {name}\ncases:\n  - id: one\n    spec: BC39 §4.1\n    steps:\n      - send: AT\n");
        std::fs::write(dir.join(file), text).unwrap();
    }

    fn names(dir: &Path, want: &[&str]) -> Result<Vec<String>, String> {
        let sel = Selection { suites: want.iter().map(|s| s.to_string()).collect(), ..Selection::default() };
        load_suites(dir, &sel).map(|s| s.iter().map(|s| s.name.clone()).collect()).map_err(|e| e.to_string())
    }

    #[test]
    fn a_selected_suite_is_loaded_without_checking_the_others() {
        let d = tempfile::tempdir().unwrap();
        suite(d.path(), "a.yaml", "alpha");
        suite(d.path(), "b.yaml", "beta");
        // Valid YAML with its name, but a step no loader accepts: only a run selecting it fails.
        std::fs::write(
            d.path().join("c.yaml"),
            "suite: gamma\ncases:\n  - id: x\n    spec: s\n    steps:\n      - frobnicate: 1\n",
        )
        .unwrap();
        assert_eq!(names(d.path(), &["alpha"]).unwrap(), ["alpha"]);
        assert_eq!(names(d.path(), &["b"]).unwrap(), ["beta"], "by file stem");
        let e = names(d.path(), &["gamma"]).unwrap_err();
        assert!(e.contains("c.yaml") && e.contains("frobnicate"), "{e}");
        let e = names(d.path(), &[]).unwrap_err();
        assert!(e.contains("c.yaml"), "every file is checked when none is selected: {e}");
    }

    #[test]
    fn names_stay_unique_and_known_across_files_not_loaded() {
        let d = tempfile::tempdir().unwrap();
        suite(d.path(), "a.yaml", "alpha");
        suite(d.path(), "b.yaml", "beta");
        suite(d.path(), "c.yaml", "beta");
        let e = names(d.path(), &["alpha"]).unwrap_err();
        assert!(e.contains("\"beta\" is also used by") && e.contains("b.yaml"), "{e}");
        std::fs::remove_file(d.path().join("c.yaml")).unwrap();
        let e = names(d.path(), &["delta"]).unwrap_err();
        assert!(e.contains("no suite named \"delta\"; there are alpha, beta"), "{e}");
        // A file whose name cannot even be read is loaded to say why.
        std::fs::write(d.path().join("z.yaml"), "suite: [unclosed\n").unwrap();
        let e = names(d.path(), &["alpha"]).unwrap_err();
        assert!(e.contains("z.yaml"), "{e}");
    }

    #[rstest]
    #[case(None, "config/a", true)]
    #[case(Some("mode"), "config/mode0", true)]
    #[case(Some("config/*"), "config/mode0", true)]
    #[case(Some("*mode0"), "config/mode0", true)]
    #[case(Some("*mode1"), "config/mode0", false)]
    #[case(Some("c*g/m*0"), "config/mode0", true)]
    #[case(Some("register/*"), "config/mode0", false)]
    fn case_filters(#[case] f: Option<&str>, #[case] name: &str, #[case] want: bool) {
        assert_eq!(matches_case(f, name), want);
    }
}
