//! `miplcheck merge RUN... --out DIR`: the shards of one plan (`run --partition`, each on its own
//! host), or whole runs of different rigs, as one run: a record per rig with its cases in plan
//! order, and every report a run writes, by the same renderers. Each case's evidence
//! (transcripts, attempts, captures, snapshots kept for review) is copied beside its verdict.
//! The checking and merging is `miplcheck_record::merge` (records only); this writes.

use crate::exit::{Error, Exit};
use crate::say;
use clap::Args;
use miplcheck_record::merge::{self, MergeError, MergedRig, Shard};
use miplcheck_record::{CaseRecord, HealthState};
use miplcheck_runner::report::folder::OutFolder;
use miplcheck_runner::report::{self, ReportFailure};
use std::path::{Path, PathBuf};

/// `miplcheck merge --help`'s words on what it refuses and how it exits.
pub const HELP: &str = "Refused (exit 2), saying what to do: a folder that is not a run, a missing shard, a case in two
folders, shards of different suites (by content hash; both hashes and git revisions named), kinds,
counts or plans, shards mixed with whole runs. Whole runs of different rigs (no --partition) merge
when they read the same suites.

Exit status of the merged verdict, as `run` would have had: 0 passed, 1 a case failed, 4 infrastructure
errors only — or a shard incomplete (interrupted, or fewer units recorded than its plan had), so
some cases were never judged —, 3 a report could not be written, 2 refused.

Example (the nightly, three hosts):
  miplcheck run --rack rigs/rack/nightly.toml --partition hash:1/3 --out shard-1   (host 1; 2 and 3 alike)
  miplcheck merge shard-1 shard-2 shard-3 --out tonight
  miplcheck diff baseline tonight";

#[derive(Args)]
pub struct MergeArgs {
    /// The run folders: each shard's `--out` (a single rig's, with run.json, or a rack's, with
    /// rack.json and a folder per rig).
    #[arg(required = true, value_name = "RUN")]
    runs: Vec<PathBuf>,
    /// Where the merged run goes (cleared of a previous run's files first).
    #[arg(long)]
    out: PathBuf,
}

fn refused(e: MergeError) -> Error {
    match e {
        MergeError::Record(r) => Error::Record(r),
        MergeError::Refused(m) => Error::Usage(format!("cannot merge: {m}")),
    }
}

pub fn run(a: MergeArgs) -> Result<Exit, Error> {
    let mut shards = Vec::new();
    for r in &a.runs {
        if std::path::absolute(r).ok() == std::path::absolute(&a.out).ok() {
            return Err(Error::Usage(format!(
                "--out {} is one of the runs merged; give the merged run its own folder",
                a.out.display()
            )));
        }
        shards.push(Shard::load(r).map_err(refused)?);
    }
    let merged = merge::merge(&shards).map_err(refused)?;
    let folders: Vec<String> =
        merged.rigs.iter().map(|r| miplcheck_runner::rack::folder_name(&r.record.rig.name)).collect();
    // A rack refuses two rigs whose reports would share a folder; so does a rack merged afterwards.
    for (i, f) in folders.iter().enumerate() {
        if let Some(j) = folders[..i].iter().position(|g| g == f) {
            return Err(Error::Usage(format!(
                "cannot merge: rigs {:?} and {:?} would both write {}; give one of them another `name` in its rig file",
                merged.rigs[j].record.rig.name,
                merged.rigs[i].record.rig.name,
                a.out.join(f).display()
            )));
        }
    }
    let _folder = OutFolder::claim(&a.out)?;
    let mut failures: Vec<ReportFailure> = Vec::new();
    for (rig, folder) in merged.rigs.iter().zip(&folders) {
        let dir = if merged.rack { a.out.join(folder) } else { a.out.clone() };
        if merged.rack {
            // Claimed only to clear an earlier run's files; the merge's lock covers it.
            drop(OutFolder::claim(&dir)?);
        }
        failures.extend(copy_evidence(rig, &dir));
        failures.extend(report::write_record(&dir, &rig.record));
    }
    let totals = merged.totals();
    if merged.rack {
        let rack = merged.rack_record(env!("CARGO_PKG_VERSION"), &folders);
        let records: Vec<_> = merged.rigs.iter().map(|r| r.record.clone()).collect();
        failures.extend(miplcheck_runner::rack::report::write_records(&a.out, &rack, &records));
    }
    for s in &merged.merged_from {
        say!("merged: {s}");
    }
    for r in &merged.rigs {
        say!("rig {}: {}", r.record.rig.name, miplcheck_runner::report::terminal::totals(&r.record.summary, ""));
    }
    say!("merged: {}", miplcheck_runner::report::terminal::totals(&totals, ""));
    if let Some(why) = &merged.incomplete {
        say!("incomplete: {}", miplcheck_record::printable(why));
    }
    say!("reports: {}", a.out.display());
    for f in &failures {
        eprintln!("error: the {} report could not be written: {}", f.report, f.error);
    }
    let unhealthy =
        merged.rigs.iter().any(|r| r.record.health.as_ref().is_some_and(|h| h.state == HealthState::Unhealthy));
    // A shard that was interrupted, or recorded fewer units than its plan, leaves cases unjudged:
    // never a pass, whatever the recorded ones say.
    let unjudged = unhealthy || merged.incomplete.is_some();
    Ok(crate::run::exit(None, !failures.is_empty(), &totals, unjudged))
}

/// Copies each case's evidence from the shard it came from into `dir`: its transcript and
/// attempts, its capture, and a new snapshot kept for review.
fn copy_evidence(rig: &MergedRig, dir: &Path) -> Vec<ReportFailure> {
    let mut failures = vec![];
    for (case, from) in rig.record.cases.iter().zip(&rig.sources) {
        for rel in evidence(case, from) {
            let (src, dst) = (from.join(&rel), dir.join(&rel));
            let copied = dst.parent().map_or(Ok(()), std::fs::create_dir_all).and_then(|()| {
                let bytes = std::fs::read(&src)?;
                miplcheck_runner::report::atomic::write(&dst, &bytes)
            });
            if let Err(e) = copied {
                failures.push(ReportFailure {
                    report: "evidence".into(),
                    error: format!("{} → {}: {e}", src.display(), dst.display()),
                });
            }
        }
    }
    failures
}

/// The case's evidence files in its shard's folder, relative to it.
fn evidence(case: &CaseRecord, from: &Path) -> Vec<PathBuf> {
    let mut found = vec![];
    let list = |dir: &Path| -> Vec<String> {
        std::fs::read_dir(dir)
            .map(|d| d.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
            .unwrap_or_default()
    };
    let transcripts = Path::new("transcripts").join(&case.suite);
    for name in list(&from.join(&transcripts)) {
        let attempt = name
            .strip_prefix(&format!("{}.attempt", case.case))
            .and_then(|r| r.strip_suffix(".txt"))
            .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
        if name == format!("{}.txt", case.case) || attempt {
            found.push(transcripts.join(name));
        }
    }
    let capture = Path::new("captures").join(&case.suite).join(format!("{}.pcapng", case.case));
    if from.join(&capture).is_file() {
        found.push(capture);
    }
    let pending = Path::new(miplcheck_runner::golden::PENDING);
    let snap = format!("{}__{}.snap.new", case.suite, case.case);
    for sub in list(&from.join(pending)) {
        let rel = pending.join(&sub).join(&snap);
        if from.join(&rel).is_file() {
            found.push(rel);
        }
    }
    found
}
