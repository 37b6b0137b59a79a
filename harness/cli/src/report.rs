//! `miplcheck report RUN_DIR`: (re)writes a run folder's `report.html` from its `run.json`, for runs
//! made before the HTML report existed or after the page changed.

use crate::exit::{Error, Exit};
use clap::Args;
use miplcheck_html as html;
use miplcheck_record::RunRecord;
use std::path::PathBuf;

#[derive(Args)]
pub struct ReportArgs {
    /// The run's report folder (or its `run.json`); `report.html` is written beside `run.json`.
    run: PathBuf,
}

pub fn run(a: ReportArgs) -> Result<Exit, Error> {
    let record = RunRecord::load(&a.run)?;
    let dir = if a.run.is_dir() { a.run.clone() } else { a.run.parent().map(PathBuf::from).unwrap_or_default() };
    let out = dir.join(html::FILE);
    std::fs::write(&out, html::render(&record))
        .map_err(|e| Error::Failed(format!("{}: cannot write: {e}", out.display())))?;
    crate::say!("report: {}", out.display());
    Ok(Exit::Ok)
}
