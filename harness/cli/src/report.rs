//! `miplcheck report RUN_DIR`: (re)writes a run folder's `report.html` (and its side files of
//! passing cases' transcripts, `transcripts/report-NNNN.js`) from its `run.json`, for runs
//! made before the HTML report existed or after the page changed; and for a run that died before
//! it could write its reports (SIGKILL, a power cut), rebuilds `run.json`, `junit.xml`,
//! `coverage.md`/`.json` and `report.html` from its journal, marked incomplete.

use crate::exit::{Error, Exit};
use clap::Args;
use miplcheck_html as html;
use miplcheck_record::RunRecord;
use miplcheck_runner::report::{atomic, coverage, html as report_html, journal, junit};
use std::path::PathBuf;

#[derive(Args)]
pub struct ReportArgs {
    /// The run's report folder (or its `run.json`); `report.html` is written beside `run.json`.
    run: PathBuf,
}

pub fn run(a: ReportArgs) -> Result<Exit, Error> {
    let dir = if a.run.is_dir() { a.run.clone() } else { a.run.parent().map(PathBuf::from).unwrap_or_default() };
    let journal = dir.join(journal::FILE);
    let from_journal = a.run.is_dir() && !dir.join("run.json").exists() && journal.exists();
    let record = if from_journal { journal::recover(&dir)? } else { RunRecord::load(&a.run)? };
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.join(name);
        atomic::write(&path, bytes).map_err(|e| Error::Failed(format!("cannot write: {e}")))?;
        crate::say!("report: {}", path.display());
        Ok::<(), Error>(())
    };
    if from_journal {
        // The run died before it wrote its record: make every report from what the journal kept.
        record.save(&dir.join("run.json"))?;
        crate::say!("report: {} (rebuilt from {})", dir.join("run.json").display(), journal.display());
        let xml = junit::to_bytes(&record).map_err(|e| Error::Failed(format!("cannot render junit.xml: {e}")))?;
        write("junit.xml", &xml)?;
        let written = coverage::from_record(&dir, &record).map_err(|e| Error::Failed(format!("cannot write: {e}")))?;
        if let Some(line) = written {
            crate::say!("coverage: {line}");
        }
    }
    let page = dir.join(html::FILE);
    let side = report_html::write_page(&page, &record).map_err(|e| Error::Failed(format!("cannot write: {e}")))?;
    if side > 0 {
        crate::say!(
            "report: {} ({side} side file(s) of passing cases' transcripts in {}/)",
            page.display(),
            dir.join(html::side::DIR).display()
        );
    } else {
        crate::say!("report: {}", page.display());
    }
    if let Some(why) = &record.incomplete {
        crate::say!("incomplete: {why}");
    }
    // The process ends now: freeing a big record's millions of strings one by one is time the
    // system spends anyway, and faster, when it takes the whole address space back.
    std::mem::forget(record);
    Ok(Exit::Ok)
}
