//! The dispatcher: turns a rig, the suites folder and a selection into a plan, runs it case by case
//! against a target, and feeds the event stream. This is the one place that decides what a user
//! sees; the engine only runs steps.

use crate::engine::{run_case, CaseRun, Context};
use crate::golden::{self, Snapshot};
use crate::handoff::{self, Judged};
use crate::input_error::InputError;
use crate::outcome::{CaseResult, Summary};
use crate::privacy::Privacy;
use crate::report::{Event, Fanout};
use crate::rig::Rig;
use crate::suite::{self, Case, Suite};
use crate::target::Target;
use crate::transcript::Redactor;
use miplcheck_record::{FailedAt, Firmware, RigInfo, Verdict};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Which cases to run.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// A suite name (`config`) or file stem.
    pub suite: Option<String>,
    /// A substring of `suite/case`, or a glob with `*`.
    pub case: Option<String>,
}

/// Everything a run needs, loaded and checked.
#[derive(Debug, Clone)]
pub struct Plan {
    pub rig: Rig,
    pub suites: Vec<Suite>,
    pub golden_dir: PathBuf,
    pub selection: Selection,
    /// Where a changed or missing snapshot is left for review: the run's folder
    /// (`<run>/snapshots/<golden folder>/<suite>__<case>.snap.new`, for `miplcheck accept`), or,
    /// when none is set (`cargo test`), beside the golden file for `cargo insta review`.
    pub run_dir: Option<PathBuf>,
}

impl Plan {
    /// Loads the rig and every suite under `suites_dir`, checks that the selection names something
    /// and that the rig has every secret the selected cases use.
    pub fn load(rig: &Path, suites_dir: &Path, golden_root: &Path, selection: Selection) -> Result<Plan, InputError> {
        let rig = Rig::load(rig)?;
        let mut suites = Vec::new();
        for path in suite::discover(suites_dir)? {
            suites.push(Suite::load(&path)?);
        }
        if suites.is_empty() {
            return Err(InputError::new(suites_dir, "no suite files (*.yaml) here"));
        }
        for (i, s) in suites.iter().enumerate() {
            if let Some(other) = suites[..i].iter().find(|o| o.name == s.name) {
                return Err(InputError::new(
                    &s.path,
                    format!(
                        "suite name {:?} is also used by {}; snapshots and reports are named after it",
                        s.name,
                        other.path.display()
                    ),
                )
                .at_line(Some(1))
                .field("suite"));
            }
        }
        if let Some(want) = &selection.suite {
            suites.retain(|s| &s.name == want || s.path.file_stem().is_some_and(|f| f == want.as_str()));
            if suites.is_empty() {
                return Err(InputError::new(suites_dir, format!("no suite named {want:?}")).field("--suite"));
            }
        }
        // insta reads a relative snapshot path against its own source file, so make it absolute.
        let golden_dir = std::path::absolute(golden_root.join(&rig.golden))
            .map_err(|e| InputError::new(golden_root, format!("cannot resolve the golden folder: {e}")))?;
        let plan = Plan { golden_dir, rig, suites, selection, run_dir: None };
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
        if plan.selected().next().is_none() {
            return Err(InputError::new(suites_dir, "the selection matches no case").field("--case"));
        }
        Ok(plan)
    }

    /// Cases the selection picks, in file order.
    pub fn selected(&self) -> impl Iterator<Item = (&Suite, &Case)> {
        self.suites
            .iter()
            .flat_map(|s| s.cases.iter().map(move |c| (s, c)))
            .filter(|(s, c)| matches_case(self.selection.case.as_deref(), &format!("{}/{}", s.name, c.id)))
    }

    /// Why a case does not run on this rig, if it does not.
    pub fn skip_reason(&self, suite: &Suite, case: &Case) -> Option<String> {
        if self.rig.platform.is_none() && suite.uses_platform(case) {
            return Some("the rig has no [platform] for the network side".into());
        }
        if !case.applies_to(self.rig.dialect.name) {
            return Some(format!("for {} only", case.dialects.join(", ")));
        }
        let missing: Vec<&str> =
            case.requires.iter().filter(|r| !self.rig.capabilities.contains(r)).map(String::as_str).collect();
        if !missing.is_empty() {
            return Some(format!("the rig lacks {}", missing.join(", ")));
        }
        None
    }

    /// Runs every selected case against the rig's target, opened (and re-opened) as needed.
    pub fn execute(&self, events: &mut Fanout) -> Summary {
        let mut target = crate::target::Reopening::new(self.rig.clone());
        self.execute_on(&mut target, events)
    }

    /// Runs every selected case against `target`, in order, feeding `events`.
    pub fn execute_on(&self, target: &mut dyn Target, events: &mut Fanout) -> Summary {
        let started = Instant::now();
        let total = self.selected().count();
        let (firmware, privacy) = self.identify(target);
        let info = RigInfo {
            name: self.rig.name.clone(),
            dialect: self.rig.dialect.name.to_string(),
            target: privacy.text(&target.describe()),
            capabilities: self.rig.capabilities.clone(),
            window_scale: self.rig.timing.window_scale,
            secrets: self.rig.secrets.keys().cloned().collect(),
        };
        events.emit(&Event::RunStarted { rig: &info, firmware: &firmware, cases: total });
        let mut summary = Summary::default();
        let (mut done, mut cut_short) = (0, false);
        for (suite, case) in self.selected() {
            if crate::interrupt::requested().is_some() {
                break;
            }
            events.emit(&Event::CaseStarted { suite: &suite.name, case: &case.id });
            let result = self.run_one_with(target, suite, case, &privacy);
            summary.add(&result.record);
            done += 1;
            cut_short |= result.record.failed_at == Some(FailedAt::Interrupted);
            events.emit(&Event::CaseFinished(&result));
        }
        // A signal that came after the last step of the last case stopped nothing.
        let stopped = if done < total || cut_short { crate::interrupt::requested() } else { None };
        if let Some(signal) = stopped {
            summary.interrupted = Some(signal);
            summary.incomplete = Some(format!("interrupted by {} after {done} of {total} cases", signal.name()));
        }
        summary.duration = started.elapsed();
        events.emit(&Event::RunFinished(&summary));
        summary
    }

    /// What the modem says it is, before the first case: `AT+CGMR`, `AT+CGSN=1`, `AT+CIMI`
    /// (3GPP TS 27.007 §5.3, §5.4, §5.6), and from that what the run may show of it: the
    /// rig's secrets and, unless its `[privacy]` keeps them, the IMEI and IMSI masked.
    fn identify(&self, target: &mut dyn Target) -> (Firmware, Privacy) {
        let secrets_only = Privacy::new(&self.rig.secrets);
        if let Err(e) = target.prepare() {
            return (
                Firmware {
                    revision: format!("unknown: {}", secrets_only.text(&e.to_string())),
                    imei: None,
                    note: None,
                },
                secrets_only,
            );
        }
        let secrets = BTreeMap::new();
        let tolerate = crate::rig::Tolerate::default();
        let ctx = Context {
            dialect: self.rig.dialect,
            timing: &self.rig.timing,
            line_ending: &self.rig.line_ending,
            secrets: &secrets,
            platform: None,
            tolerate: &tolerate,
        };
        let port = target.port();
        let revision = match crate::engine::ask(port, &ctx, "AT+CGMR") {
            Ok(lines) => lines.join(" / "),
            Err(e) => format!("unknown: {e}"),
        };
        let digits = |lines: Vec<String>| {
            lines.iter().find_map(|l| {
                let d: String = l.chars().filter(char::is_ascii_digit).collect();
                (d.len() >= 6).then_some(d)
            })
        };
        // A probe that fails is said in the record, not left as a silent null.
        let mut notes = Vec::new();
        let mut probe = |command: &str, what: &str| match crate::engine::ask(port, &ctx, command) {
            Ok(lines) => {
                let found = digits(lines);
                if found.is_none() {
                    notes.push(format!("{what} unknown: `{command}` gave no number"));
                }
                found
            }
            Err(e) => {
                notes.push(format!("{what} unknown: {e}"));
                None
            }
        };
        let imei = probe("AT+CGSN=1", "IMEI");
        let imsi = probe("AT+CIMI", "IMSI");
        let privacy = secrets_only.with_identities(imei.as_deref(), imsi.as_deref(), self.rig.privacy.identity);
        let imei = imei.map(|i| privacy.text(&i));
        let note = (!notes.is_empty()).then(|| privacy.text(&notes.join("; ")));
        if let Some(n) = &note {
            tracing::warn!("{}", miplcheck_record::printable(n));
        }
        (Firmware { revision: privacy.text(&revision), imei, note }, privacy)
    }

    /// One case with the rig's secrets redacted and the identities the rig itself declares (an
    /// emulator's) masked; [`Plan::execute_on`] asks the modem for them before the first case
    /// instead. See [`Plan::run_one_with`].
    pub fn run_one(&self, target: &mut dyn Target, suite: &Suite, case: &Case) -> CaseResult {
        let (imei, imsi) = self.rig.declared_identities();
        let privacy = Privacy::new(&self.rig.secrets).with_identities(
            imei.as_deref(),
            imsi.as_deref(),
            self.rig.privacy.identity,
        );
        self.run_one_with(target, suite, case, &privacy)
    }

    /// One case: prepare the target, run the steps, compare the snapshot, hand the outcome over
    /// as a record through `privacy`.
    pub fn run_one_with(&self, target: &mut dyn Target, suite: &Suite, case: &Case, privacy: &Privacy) -> CaseResult {
        let began = Instant::now();
        let unrun = |verdict, at, why: String| CaseResult {
            record: handoff::unrun(suite, case, verdict, at, privacy.text(&why), began.elapsed()),
            capture: None,
        };
        if let Some(why) = self.skip_reason(suite, case) {
            return CaseResult {
                record: handoff::unrun(suite, case, Verdict::Skipped, None, privacy.text(&why), Default::default()),
                capture: None,
            };
        }
        if let Err(why) = target.prepare() {
            let mut failed = unrun(Verdict::Failed, Some(FailedAt::Prepare), why.to_string());
            // What the sync sent and heard, so the failure can be read in the transcript.
            failed.record.transcript = target.preparation().lines(privacy);
            return failed;
        }
        let prepared = began.elapsed();
        // A fresh platform for every case, so no registration or observation carries over and
        // message IDs do not depend on which cases ran before.
        let platform = match &self.rig.platform {
            None => None,
            Some(p) => {
                let epoch = target.port().epoch().unwrap_or_else(Instant::now);
                let opts = miplcheck_platform::PlatformOptions {
                    auto_observe: p.auto_observe,
                    auth_code: if p.check_auth_code { self.rig.secrets.get("auth_code").cloned() } else { None },
                    server_uri: format!("coap://{}:{{port}}", p.advertise),
                    ..Default::default()
                };
                match miplcheck_platform::udp::spawn(p.listen, opts, epoch) {
                    Ok(h) => Some(h),
                    Err(e) => {
                        return unrun(
                            Verdict::Failed,
                            Some(FailedAt::Prepare),
                            format!("cannot start the mock platform on {}: {e}", p.listen),
                        )
                    }
                }
            }
        };
        let advertise = self.rig.platform.as_ref().map(|p| p.advertise.as_str()).unwrap_or("");
        let ctx = Context {
            dialect: self.rig.dialect,
            timing: &self.rig.timing,
            line_ending: &self.rig.line_ending,
            secrets: &self.rig.secrets,
            platform: platform.as_ref().map(|h| (h, advertise)),
            tolerate: &self.rig.tolerate,
        };
        let wall_epoch = std::time::SystemTime::now() - target.port().now();
        let run = run_case(target.port(), &ctx, suite, case);
        let judged = self.judge(suite, case, &run, privacy.redactor());
        CaseResult {
            capture: platform.as_ref().map(|pf| handoff::capture(&run, pf.addr.to_string(), wall_epoch, privacy)),
            record: handoff::record(suite, case, &run, judged, privacy, prepared),
        }
    }

    /// The verdict of a case that ran: its first failing step, else its snapshot against the
    /// golden file (with the rig's tolerance).
    fn judge(&self, suite: &Suite, case: &Case, run: &CaseRun, redactor: &Redactor) -> Judged {
        let mut warnings = run.warnings.clone();
        if let (Some(_), Some((_, reason))) = (run.interrupted, &run.failure) {
            return Judged {
                failed: Some((FailedAt::Interrupted, reason.clone())),
                snapshot: Snapshot::NotCompared,
                warnings,
            };
        }
        if let Some((at, reason)) = &run.failure {
            return Judged {
                failed: Some((FailedAt::Step(at.clone()), reason.clone())),
                snapshot: Snapshot::NotCompared,
                warnings,
            };
        }
        let name = format!("{}__{}", suite.name, case.id);
        let content = format!("# {}/{} — {}\n{}", suite.name, case.id, case.spec, run.transcript.normalized(redactor));
        // A run compares without insta, which would write and delete `.snap.new` files beside
        // the golden ones: the run keeps its own, and a developer's are theirs.
        let snapshot = match &self.run_dir {
            Some(_) => golden::compare_only(&self.golden_dir, &name, &content),
            None => golden::compare(&self.golden_dir, &name, &content, Some(&suite.path)),
        };
        let snap_file = || shown(&self.golden_dir.join(format!("{name}.snap")));
        // How the user accepts it: from the run's folder, or (under `cargo test`) with cargo-insta.
        let accept = |verb: &str| match &self.run_dir {
            Some(run) => {
                format!("{verb} it with `miplcheck accept {} --case {}/{}`", shown(run), suite.name, case.id)
            }
            None => format!("{verb} it with `cargo insta review`"),
        };
        let failed = match &snapshot {
            Snapshot::Changed { .. } => {
                let diffs = golden::golden_body(&self.golden_dir, &name)
                    .map(|old| crate::explain::differences(&old, &content, self.rig.dialect))
                    .unwrap_or_default();
                if self.rig.tolerate.accepts(&diffs) {
                    if self.run_dir.is_none() {
                        golden::discard_pending(&self.golden_dir, &name);
                    }
                    warnings.extend(diffs.iter().map(|d| format!("tolerated: {}", redactor.text(&d.says))));
                    return Judged { failed: None, snapshot: Snapshot::Tolerated, warnings };
                }
                let mut says: Vec<String> = diffs.iter().take(4).map(|d| redactor.text(&d.says)).collect();
                if diffs.len() > 4 {
                    says.push(format!("and {} more", diffs.len() - 4));
                }
                Some(format!(
                    "the transcript differs from {}{}; {}",
                    snap_file(),
                    if says.is_empty() { String::new() } else { format!(": {}", says.join("; ")) },
                    accept("review and accept")
                ))
            }
            Snapshot::Missing => Some(format!(
                "no golden snapshot {} yet; read the new transcript and {}",
                snap_file(),
                accept("accept")
            )),
            _ => None,
        };
        if let (Some(run), true) = (&self.run_dir, failed.is_some()) {
            let sub = self.golden_dir.file_name().map(PathBuf::from).unwrap_or_default();
            let pending = golden::pending_path(run, &sub, &name);
            if let Err(e) = golden::write_pending(&pending, &content, &suite.path) {
                warnings.push(format!("the new snapshot could not be kept for review: {e}"));
            }
        }
        Judged { failed: failed.map(|why| (FailedAt::Snapshot, why)), snapshot, warnings }
    }
}

/// A path as the user would type it: relative to the current folder when inside it.
fn shown(p: &Path) -> String {
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
    use super::matches_case;
    use rstest::rstest;

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
