//! `miplcheck report RUN_DIR`: (re)writes a run folder's `report.html` from its `run.json`, for runs
//! made before the HTML report existed or after the page changed.

use clap::Args;
use miplcheck_runner::html;
use miplcheck_runner::record::RunRecord;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct ReportArgs {
    /// The run's report folder (or its `run.json`); `report.html` is written beside `run.json`.
    run: PathBuf,
}

pub fn run(a: ReportArgs) -> ExitCode {
    let record = match RunRecord::load(&a.run) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let dir = if a.run.is_dir() { a.run.clone() } else { a.run.parent().map(PathBuf::from).unwrap_or_default() };
    let out = dir.join(html::FILE);
    match std::fs::write(&out, html::render(&record)) {
        Ok(()) => {
            println!("report: {}", out.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {}: cannot write: {e}", out.display());
            ExitCode::from(1)
        }
    }
}
