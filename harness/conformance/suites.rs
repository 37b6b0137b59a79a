//! Runs every suite case against every emulator rig in `rigs/` as its own test, exactly as
//! `miplcheck run` does: the pty rigs through a pseudo-terminal and the serial code in real time,
//! the virtual ones with both sides of the wire on one virtual clock. Both share the dialect's
//! golden snapshots, so a case that differs between the two fails here; a changed transcript
//! fails with its diff and leaves a `.snap.new` for `cargo insta review`.
//!
//! Windows of real-time rigs are judged ×10 here: these tests must pass on a loaded 2-core CI
//! machine. Virtual time is exact whatever the load, so virtual rigs are judged on the manuals'
//! windows as they are.

use libtest_mimic::{Arguments, Failed, Trial};
use miplcheck_record::Verdict;
use miplcheck_runner::golden;
use miplcheck_runner::rig::{EmulatorLink, Rig, Target as RigTarget};
use miplcheck_runner::{target, Plan, Selection};
use std::path::{Path, PathBuf};
use std::sync::Arc;

const WINDOW_SCALE: f64 = 10.0;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).canonicalize().expect("repository root")
}

fn emulator_rigs(root: &Path) -> Vec<PathBuf> {
    let mut rigs: Vec<PathBuf> = std::fs::read_dir(root.join("rigs"))
        .expect("rigs/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .filter(|p| Rig::load(p).map(|r| matches!(r.target, RigTarget::Emulator { .. })).unwrap_or(false))
        .collect();
    rigs.sort();
    rigs
}

fn main() {
    let args = Arguments::from_args();
    let root = root();
    golden::init(&root);
    let mut trials = Vec::new();
    for rig_path in emulator_rigs(&root) {
        let mut plan = Plan::load(&rig_path, &root.join("suites"), &root.join("golden"), Selection::default())
            .unwrap_or_else(|e| panic!("{e}"));
        if !matches!(plan.rig.target, RigTarget::Emulator { link: EmulatorLink::Virtual, .. }) {
            plan.rig.timing.window_scale *= WINDOW_SCALE;
        }
        let plan = Arc::new(plan);
        let cases: Vec<(usize, usize)> = plan
            .suites
            .iter()
            .enumerate()
            .flat_map(|(si, s)| (0..s.cases.len()).map(move |ci| (si, ci)))
            .filter(|&(si, ci)| plan.skip_reason(&plan.suites[si], &plan.suites[si].cases[ci]).is_none())
            .collect();
        for (si, ci) in cases {
            let plan = plan.clone();
            let name = format!("{}::{}::{}", plan.rig.name, plan.suites[si].name, plan.suites[si].cases[ci].id);
            trials.push(Trial::test(name, move || run(&plan, si, ci)));
        }
    }
    libtest_mimic::run(&args, trials).exit();
}

fn run(plan: &Plan, si: usize, ci: usize) -> Result<(), Failed> {
    let suite = &plan.suites[si];
    let case = &suite.cases[ci];
    let mut t = target::open(&plan.rig).map_err(Failed::from)?;
    let r = plan.run_one(t.as_mut(), suite, case);
    let c = &r.record;
    match c.verdict {
        Verdict::Passed | Verdict::Skipped => Ok(()),
        Verdict::Failed | Verdict::Error => {
            let mut msg = format!("{}: {}", c.place().unwrap_or_default(), c.reason.as_deref().unwrap_or(""));
            if let Some(diff) = &c.snapshot_diff {
                msg.push_str("\n--- golden\n+++ this run\n");
                msg.push_str(diff);
            } else {
                msg.push_str("\ntranscript:\n");
                msg.push_str(&r.transcript_text());
            }
            Err(msg.into())
        }
    }
}
