//! `miplcheck accept RUN_DIR`: the new snapshots a run kept for review
//! (`RUN_DIR/snapshots/<golden folder>/<suite>__<case>.snap.new`), each shown as a diff against
//! its golden file and moved into the golden folder. No Rust toolchain needed; `--dry-run` only
//! shows, `--case` picks.

use crate::exit::{Error, Exit};
use clap::Args;
use miplcheck_runner::dispatch::matches_case;
use miplcheck_runner::golden;
use miplcheck_runner::report::atomic;
use miplcheck_runner::InputError;
use std::path::{Path, PathBuf};

#[derive(Args)]
pub struct AcceptArgs {
    /// The run's report folder.
    run: PathBuf,
    /// Only cases whose `suite/case` contains this, or matches it as a glob with `*`.
    #[arg(long)]
    case: Option<String>,
    /// The golden snapshots folder the run compared with.
    #[arg(long, default_value = "golden")]
    golden: PathBuf,
    /// Show the diffs; change nothing.
    #[arg(long)]
    dry_run: bool,
}

/// `(golden sub-folder, snapshot name, pending file)` for every pending snapshot of the run.
fn pending(run: &Path) -> Result<Vec<(String, String, PathBuf)>, Error> {
    let root = run.join(golden::PENDING);
    if !run.is_dir() {
        return Err(InputError::new(run, "no such run folder").field("RUN_DIR").into());
    }
    let mut out = vec![];
    let Ok(subs) = std::fs::read_dir(&root) else { return Ok(out) };
    for sub in subs.flatten().filter(|e| e.path().is_dir()) {
        let files = std::fs::read_dir(sub.path()).map_err(|e| InputError::new(&sub.path(), e.to_string()))?;
        for f in files.flatten() {
            let file = f.file_name().to_string_lossy().into_owned();
            if let Some(name) = file.strip_suffix(".snap.new") {
                out.push((sub.file_name().to_string_lossy().into_owned(), name.to_string(), f.path()));
            }
        }
    }
    out.sort();
    Ok(out)
}

pub fn run(a: AcceptArgs) -> Result<Exit, Error> {
    let all = pending(&a.run)?;
    let chosen: Vec<_> =
        all.iter().filter(|(_, name, _)| matches_case(a.case.as_deref(), &name.replacen("__", "/", 1))).collect();
    if chosen.is_empty() {
        let what = if all.is_empty() { "no new snapshots" } else { "no new snapshot matches --case" };
        println!("{what} in {}", a.run.join(golden::PENDING).display());
        return Ok(Exit::Ok);
    }
    for (sub, name, file) in &chosen {
        let text = std::fs::read_to_string(file).map_err(|e| InputError::new(file, e.to_string()))?;
        let target = a.golden.join(sub).join(format!("{name}.snap"));
        let new = golden::body(&text);
        match golden::golden_body(&a.golden.join(sub), name) {
            Some(old) => {
                println!("── {} (changed)", target.display());
                print!("{}", golden::diff(&old, &new));
            }
            None => {
                println!("── {} (new)", target.display());
                for l in new.lines() {
                    println!("+{l}");
                }
            }
        }
        if a.dry_run {
            continue;
        }
        atomic::write(&target, text.as_bytes()).map_err(|e| Error::Failed(format!("cannot accept: {e}")))?;
        std::fs::remove_file(file).map_err(|e| Error::Failed(format!("{}: {e}", file.display())))?;
        println!("accepted: {}", target.display());
    }
    if a.dry_run {
        println!("{} snapshot(s) shown; nothing changed (--dry-run)", chosen.len());
    }
    Ok(Exit::Ok)
}
