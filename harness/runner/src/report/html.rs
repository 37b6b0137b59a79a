//! `report.html`: the run as a page (see `miplcheck_html`), written beside `run.json` when the run
//! ends, with the passing cases' transcripts in side files (`transcripts/report-NNNN.js`) that
//! it loads when a case is opened: one folder that opens offline. It builds the same record the
//! JSON reporter writes rather than reading `run.json` back, so it works whichever order the
//! reporters run in.

use super::json::RecordBuilder;
use super::{Event, Reporter};
use miplcheck_html::side::{Folder, DIR};
use miplcheck_record::RunRecord;
use std::path::{Path, PathBuf};

/// Writes the page for `record` to `page` and its side files beside it, each atomically: the
/// side files first, so the page never names one that is not there yet; then side files an
/// earlier page left that this one does not name are removed. How many side files it wrote.
pub fn write_page(page: &Path, record: &RunRecord) -> std::io::Result<usize> {
    let folder = miplcheck_html::render_folder(record);
    let dir = page.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let files: Vec<_> = folder.files.iter().map(|(name, text)| (dir.join(name), text.as_bytes())).collect();
    super::atomic::write_many(&files)?;
    super::atomic::write(page, folder.html.as_bytes())?;
    let side = dir.join(DIR);
    if let Ok(entries) = std::fs::read_dir(&side) {
        let written = |n: &str| folder.files.iter().any(|(f, _)| f.rsplit('/').next() == Some(n));
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if Folder::is_side_file(&name) && !written(&name) && e.file_type().is_ok_and(|t| t.is_file()) {
                std::fs::remove_file(e.path())?;
            }
        }
    }
    Ok(folder.files.len())
}

pub struct HtmlReport {
    path: PathBuf,
    builder: RecordBuilder,
}

impl HtmlReport {
    /// `path` is the file to write, normally `<out>/report.html`.
    pub fn new(path: PathBuf) -> Self {
        HtmlReport { path, builder: RecordBuilder::new() }
    }
}

impl Reporter for HtmlReport {
    fn on(&mut self, event: &Event<'_>) -> std::io::Result<()> {
        if let Some(record) = self.builder.on(event)? {
            write_page(&self.path, &record)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use miplcheck_record::{Firmware, RigInfo};

    #[test]
    fn an_empty_run_still_writes_a_page() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("out/report.html");
        let mut r = HtmlReport::new(path.clone());
        let info = RigInfo {
            name: "r".into(),
            dialect: "bc39".into(),
            target: "emulator".into(),
            capabilities: vec![],
            window_scale: 1.0,
            secrets: vec![],
        };
        let firmware = Firmware::default();
        let started = Event::RunStarted { rig: &info, firmware: &firmware, cases: 0, suites: None, partition: None };
        r.on(&started).unwrap();
        r.on(&Event::RunFinished(&crate::Summary::default())).unwrap();
        let html = std::fs::read_to_string(path).unwrap();
        assert!(html.contains("0 passed, 0 failed, 0 skipped") && html.contains("This run has no cases."));
    }
}
