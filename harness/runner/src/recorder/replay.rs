//! The written case run once against the rig, through the dispatcher as `miplcheck run` runs it
//! (prepare, identities, the case's own platform, the engine, the normaliser), so its snapshot is
//! exactly the one a later run compares with. Nothing is judged here but whether it ran through.

use crate::dispatch::{Plan, Selection};
use crate::golden;
use crate::rig::Rig;
use crate::suite::Suite;
use crate::target::Reopening;
use crate::InputError;
use miplcheck_record::{FailedAt, SnapshotResult, Verdict};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// How the replay went.
#[derive(Debug, Clone)]
pub enum Replayed {
    /// Every step passed; the snapshot was written to this path.
    Snapshot(PathBuf),
    /// Every step passed and the golden snapshot already there matched.
    Matched(PathBuf),
    /// A step failed, or the snapshot differs from one already there: the reason, with what
    /// could not be judged (a bench error) said as such.
    Failed { verdict: Verdict, reason: String },
}

/// Replays the one case of `case_file` against `rig`, its snapshot under `golden_root` by the
/// rig's dialect (`golden/bc39/<suite>__<case>.snap`).
pub fn replay(rig: Rig, case_file: &Path, golden_root: &Path) -> Result<Replayed, InputError> {
    let suite = Suite::load(case_file)?;
    let case = suite.cases.first().cloned().ok_or_else(|| InputError::new(case_file, "no case"))?;
    let mut plan = Plan::for_rig(rig, Arc::new(vec![suite.clone()]), golden_root, Selection::default())?;
    let scratch = std::env::temp_dir().join(format!("miplcheck-record-{}", std::process::id()));
    plan.run_dir = Some(scratch.clone());
    let mut target = Reopening::new(plan.rig.clone());
    let (_, privacy) = plan.identify(&mut target);
    let result = plan.run_one_with(&mut target, &suite, &case, &privacy);
    drop(target);
    let name = format!("{}__{}", suite.name, case.id);
    let dest = plan.golden_dir.join(format!("{name}.snap"));
    let r = result.record;
    let outcome = match (r.verdict, &r.failed_at, r.snapshot) {
        (Verdict::Passed, _, _) => Ok(Replayed::Matched(dest)),
        (Verdict::Failed, Some(FailedAt::Snapshot), SnapshotResult::Missing) => {
            let sub = plan.golden_dir.file_name().map(PathBuf::from).unwrap_or_default();
            let pending = golden::pending_path(&scratch, &sub, &name);
            let written = std::fs::read_to_string(&pending)
                .map(|s| golden::body(&s))
                .and_then(|body| golden::write_pending(&dest, &body, case_file));
            match written {
                Ok(()) => Ok(Replayed::Snapshot(dest)),
                Err(e) => Err(InputError::new(&dest, format!("cannot write the snapshot: {e}"))),
            }
        }
        (verdict, _, _) => {
            Ok(Replayed::Failed { verdict, reason: r.reason.unwrap_or_else(|| "no reason given".into()) })
        }
    };
    let _ = std::fs::remove_dir_all(&scratch);
    outcome
}
